"""YAML in and out, kept apart from the edits.

Reading composes a document with libyaml (ruamel.yaml.clib): node trees whose
marks give the line and column of every key and value, so the writer can
splice text instead of re-dumping documents. `to_data` turns a node into plain
Python values (refusing duplicate keys, foreign tags and alias bombs).
Writing only ever emits small fragments (a new volume, a mount, one quoted
scalar) through ruamel.yaml, with YAML 1.1 quoting rules because Kubernetes'
decoders read YAML 1.1 (`on`, `yes`, `0755` must stay strings).
"""
import io
import json
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from .errors import InputError, Where

try:  # libyaml: an order of magnitude faster and gives the same marks
    from ruamel.yaml.cyaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure Python fallback
    from ruamel.yaml.loader import SafeLoader as _Loader

# An alias can make a tiny document expand to billions of values; plain
# manifests have a few thousand nodes, so this bound only stops abuse.
MAX_EXPANDED_NODES = 2_000_000

STR = "tag:yaml.org,2002:str"
_SIMPLE_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


def yaml_error(exc: YAMLError, where: Where, first_line: int = 0) -> InputError:
    """An InputError at the place libyaml reported (`first_line` shifts to stream lines)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, MarkedYAMLError) and mark is not None:
        where = where.but(line=first_line + mark.line + 1, column=mark.column + 1)
    return InputError(f"invalid YAML: {problem}", where)


def compose(text: str, where: Where, first_line: int = 0) -> Optional[Node]:
    """The node tree of a single-document text, or None when it holds no document."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line) from None
    except RecursionError:
        raise InputError("document is nested too deeply to process", where) from None
    finally:
        dispose = getattr(loader, "dispose", None)
        if dispose:
            dispose()
    return node


def check_syntax(text: str, where: Where, first_line: int = 0) -> None:
    """Parse without building anything: raises InputError on malformed YAML."""
    loader = _Loader(text)
    try:
        while loader.check_event():
            loader.get_event()
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line) from None


_CONSTRUCTOR = None


def _construct(node: ScalarNode) -> Any:
    """A scalar of a standard tag through the safe constructor (the slow, exact path)."""
    global _CONSTRUCTOR
    if _CONSTRUCTOR is None:
        _CONSTRUCTOR = _Loader("")  # only its construct_* methods are used
    value = _CONSTRUCTOR.construct_object(node, deep=True)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _tag(node: Node) -> str:
    ctag = node.ctag
    if ctag.handle is None and isinstance(ctag.suffix, str) and "%" not in ctag.suffix:
        return ctag.suffix  # libyaml hands resolved tags over whole: skip ruamel's slow str()
    return str(node.tag)


_FAST = {
    "tag:yaml.org,2002:null": lambda text: None,
    "tag:yaml.org,2002:bool": lambda text: text.lower() in ("true", "yes", "on", "y"),
    "tag:yaml.org,2002:int": lambda text: int(text, 10),
}


class _Builder:
    """Turns nodes into plain values, remembering each node's value (`memo`) for the splicer.

    Aliases share one value, but every use counts towards MAX_EXPANDED_NODES, since
    whatever walks the values later (comparisons, copies) walks them expanded.
    """

    def __init__(self, where: Where, first_line: int, memo: Dict[int, Any]):
        self.where = where
        self.first_line = first_line
        self.count = 0
        self.memo = memo
        self.sizes: Dict[int, int] = {}

    def at(self, node: Node) -> Where:
        return self.where.but(line=self.first_line + node.start_mark.line + 1,
                              column=node.start_mark.column + 1)

    def build(self, node: Node) -> Any:
        key = id(node)
        if key in self.memo and key in self.sizes:
            self.count += self.sizes[key]
            if self.count > MAX_EXPANDED_NODES:
                raise InputError("document expands to too many values (alias bomb?)", self.at(node))
            return self.memo[key]
        before = self.count
        self.count += 1
        if self.count > MAX_EXPANDED_NODES:
            raise InputError("document expands to too many values (alias bomb?)", self.at(node))
        if isinstance(node, ScalarNode):
            value: Any = self.scalar(node)
        elif isinstance(node, SequenceNode):
            value = [self.build(item) for item in node.value]
        elif isinstance(node, MappingNode):
            value = {}
            for key_node, value_node in node.value:
                item_key = self.build(key_node)
                if isinstance(item_key, (list, dict)):
                    raise InputError("a mapping key must be a scalar", self.at(key_node))
                if item_key in value:
                    raise InputError(f"duplicate key {item_key!r} (Kubernetes clients disagree on which value wins)",
                                     self.at(key_node))
                value[item_key] = self.build(value_node)
        else:  # pragma: no cover
            raise InputError(f"unsupported YAML node {type(node).__name__}", self.at(node))
        self.memo[key] = value
        self.sizes[key] = self.count - before
        return value

    def scalar(self, node: ScalarNode) -> Any:
        tag = _tag(node)
        if tag == STR:
            return node.value
        if tag.startswith("!") and tag != "!":
            return node.value  # local tags (`!foo`) are never constructed: the text is the value
        if tag in _SIMPLE_TAGS:
            fast = _FAST.get(tag)
            if fast is not None:
                try:
                    return fast(node.value)
                except ValueError:
                    pass
            return _construct(node)
        if tag in ("!", "tag:yaml.org,2002:binary"):
            return node.value
        raise InputError(f"unsupported tag {tag} (tags are never constructed)", self.at(node))


def to_data(node: Optional[Node], where: Where = Where(), first_line: int = 0,
            memo: Optional[Dict[int, Any]] = None) -> Any:
    """Plain dict/list/scalar values of a node tree; `memo` collects every node's value by id()."""
    if node is None:
        return None
    try:
        return _Builder(where, first_line, memo if memo is not None else {}).build(node)
    except RecursionError:
        raise InputError("document is nested too deeply to process", where) from None


def load(text: str, where: Where = Where(), first_line: int = 0) -> Any:
    """Plain values of a single-document text."""
    return to_data(compose(text, where, first_line), where, first_line)


class _Yaml11Resolver(VersionedResolver):
    """Resolve (and so quote) plain scalars as a YAML 1.1 reader would, without a %YAML directive."""

    @property
    def processing_version(self):  # type: ignore[override]
        return (1, 1)


def _dumper(indent_sequences: bool) -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _Yaml11Resolver
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 1 << 30  # never fold a long string
    yaml.sort_base_mapping_type_on_output = False  # keep the order we build (name first)
    if indent_sequences:
        yaml.indent(mapping=2, sequence=4, offset=2)
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


_DUMPERS: Dict[bool, YAML] = {}


_DUMPED: Dict[Tuple[str, bool], List[str]] = {}  # the same few fragments recur in every release


def dump_block(value: Any, indent_sequences: bool) -> List[str]:
    """Block-style YAML lines (without line ends) for a mapping or a list."""
    key = (json.dumps(value, default=repr), indent_sequences)  # key order matters: no sort_keys
    cached = _DUMPED.get(key)
    if cached is None:
        yaml = _DUMPERS.get(indent_sequences)
        if yaml is None:
            yaml = _DUMPERS[indent_sequences] = _dumper(indent_sequences)
        out = io.StringIO()
        yaml.dump(value, out)
        cached = out.getvalue().rstrip("\n").split("\n")
        if len(_DUMPED) < 4096:
            _DUMPED[key] = cached
    return list(cached)


def dump_scalar(value: str, style: str) -> str:
    """One string as a single-line scalar in the given style ('"' or "'"), falling back to '"'."""
    yaml = YAML(typ="safe", pure=True)
    yaml.width = 1 << 30
    yaml.allow_unicode = True
    yaml.default_style = style if style in ("'", '"') and "\n" not in value else '"'
    out = io.StringIO()
    yaml.dump(value, out)
    text = out.getvalue()
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]
    return text.rstrip("\n")
