"""YAML in and out, kept apart from the edits.

Reading composes a document with libyaml (ruamel.yaml.clib): node trees whose
marks give the line and column of every key and value, so the writer can
splice text instead of re-dumping documents. `to_data` turns a node into plain
Python values (refusing foreign tags and alias bombs). A key repeated in a mapping
is read as Helm 3 and kubectl read it (sigs.k8s.io/yaml, non-strict): the last
occurrence wins; spec files, which the user writes by hand, may refuse it.
Writing only ever emits small fragments (a new volume, a mount, one quoted
scalar) through ruamel.yaml, with YAML 1.1 quoting rules because Kubernetes'
decoders read YAML 1.1 (`on`, `yes`, `0755` must stay strings).
"""
import io
import json
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
                                SequenceStartEvent)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from .errors import InputError, Where

try:  # libyaml: an order of magnitude faster and gives the same marks
    from ruamel.yaml.cyaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure Python fallback
    from ruamel.yaml.loader import SafeLoader as _Loader

Text = Union[str, bytes]

# Limits that only stop abuse: rendered manifests nest a few dozen levels, hold a few
# thousand values and rarely use aliases at all.
#
# Nesting: libyaml's composer recurses in C (a few hundred thousand levels overflow the
# stack: SIGSEGV), its scanner does work proportional to the depth for every token (deep
# input takes quadratic time), and the Python code after it recurses too. So the depth is
# bounded BEFORE libyaml sees a document: a cheap upper bound from the raw text first,
# and only when that bound is high an event scan that stops at the first level too deep.
MAX_DEPTH = 256
# An alias can make a tiny document expand to billions of values.
MAX_ALIAS_VALUES = 1_000_000  # values that aliases add when expanded
MAX_EXPANDED_NODES = 2_000_000  # values of one document once expanded (to_data's own guard)
MAX_NODES = 1_000_000  # nodes of one composed document (memory: a node tree costs ~100x its text)
SCAN_ABOVE = 2 * 1024 * 1024  # below this size a document cannot hold MAX_NODES nodes

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"
_SIMPLE_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
# The characters of a line's indentation and of the block indicators that open nested
# collections on it (`- - ? key`): a run of MAX_DEPTH // 4 of them is what `_may_be_deep` seeks.
_PREFIX_CHARS = bytes.maketrans(b"\t-?:", b"    ")
_PREFIX_RUN = b" " * (MAX_DEPTH // 4)
_STEP = 1 << 20
# An alias token: `*` and a name, where a token may start (after a space, a line break or `[{,`).
_ALIAS = re.compile(r"(?:^|[\s\[{,\ufeff])\*[^\s\[\]{},]")
_ALIAS_B = re.compile(rb"(?:^|[\s\[{,]|\xc2\x85|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf)\*[^\s\[\]{},]")


def _where_at(text: Optional[Text], mark: Any, where: Where, first_line: int) -> Where:
    """`where` at a libyaml mark, as a line/column of the stream.

    libyaml also breaks lines on a lone CR, NEL, U+2028 and U+2029; the stream's lines
    are counted on LF only, so the line comes from the mark's character index when the
    text is at hand.
    """
    if mark is None:
        return where
    line, column = mark.line, mark.column
    index = getattr(mark, "index", None)  # in characters
    if isinstance(text, bytes) and any(b in text for b in (b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")):
        text = text.decode("utf-8", "replace")  # only then do libyaml's lines differ; an error path: copies are fine
    if isinstance(text, str) and isinstance(index, int) and 0 <= index <= len(text):
        line = text.count("\n", 0, index)
        column = index - (text.rfind("\n", 0, index) + 1)
    return where.but(line=first_line + line + 1, column=column + 1)


def yaml_error(exc: YAMLError, where: Where, first_line: int = 0, text: Optional[Text] = None) -> InputError:
    """An InputError at the place libyaml reported (`first_line` shifts to stream lines)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, MarkedYAMLError) and mark is not None:
        where = _where_at(text, mark, where, first_line)
    position = getattr(exc, "position", None)  # a ReaderError: a byte offset into the UTF-8 text
    if isinstance(exc, ReaderError) and isinstance(position, int) and text is not None:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        prefix = raw[:position]
        column = len(prefix[prefix.rfind(b"\n") + 1:].decode("utf-8", "replace"))
        where = where.but(line=first_line + prefix.count(b"\n") + 1, column=column + 1)
        character = getattr(exc, "character", None)
        if isinstance(character, int) and getattr(exc, "reason", None):
            problem = f"character {character:#06x} is not allowed ({exc.reason})"
    hint = None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")  # an error path: the copy is no matter
    if isinstance(text, str) and any(ch in text.replace("\r\n", "\n") for ch in ("\r", "\x85", "\u2028", "\u2029")):
        hint = ("the document holds a line break other than LF or CRLF (a lone CR, NEL, U+2028 or U+2029), "
                "which YAML also reads as a line break")
    elif "\t" in problem or isinstance(text, str) and "\t" in text and "cannot start any token" in problem:
        hint = "YAML does not allow tabs for indentation"
    return InputError(f"invalid YAML: {problem}", where, hint=hint)


def _may_be_deep(text: Text) -> bool:
    """Could this text nest deeper than MAX_DEPTH? Cheap, never wrong when it says no.

    Each flow collection opens with a `[` or `{`. A block collection nested in a block
    collection starts further right, except a sequence that is a mapping's value, which
    may start at the mapping's column (but its own items start further right). So a
    block collection at depth d starts at column >= d/2 - 1, right after the line's
    indentation and its block indicators; with no such prefix of MAX_DEPTH/4 characters
    and at most MAX_DEPTH/2 brackets, the depth is at most MAX_DEPTH.
    """
    if isinstance(text, bytes):
        flow = text.count(b"[") + text.count(b"{")
    else:
        flow = text.count("[") + text.count("{")
    if flow > MAX_DEPTH // 2:
        return True
    # a prefix that long is a run of those characters somewhere (a looser test, but a fast one:
    # a regex anchored at every line start costs ten times more); slices keep memory flat
    overlap = len(_PREFIX_RUN)
    for start in range(0, len(text), _STEP):
        piece = text[start:start + _STEP + overlap]
        if isinstance(piece, str):
            piece = piece.encode("utf-8", "surrogatepass")
        if _PREFIX_RUN in piece.translate(_PREFIX_CHARS):
            return True
    return False


def _may_hold_many_nodes(text: Text) -> bool:
    """Could this text hold more than MAX_NODES nodes? Cheap, never wrong when it says no.

    A node starts at a line's start or after an indicator (`-`, `?`, `:`, `,`, `[`, `{`),
    and each of those starts at most a collection and its first item: a huge single
    scalar (a 60 MB blob) holds few nodes however long it is.
    """
    if len(text) <= SCAN_ABOVE:
        return False
    marks = ("\n", "-", "?", ":", ",", "[", "{")
    if isinstance(text, bytes):
        starts = sum(text.count(mark.encode()) for mark in marks)
    else:
        starts = sum(text.count(mark) for mark in marks)
    return 3 * (starts + 1) > MAX_NODES


def _may_alias(text: Text) -> bool:
    """Could this text hold an alias (`*name` where a token starts)? Cheap, never wrong when it says no."""
    if isinstance(text, bytes):
        return b"*" in text and _ALIAS_B.search(text) is not None
    return "*" in text and _ALIAS.search(text) is not None


def _loader(text: Text) -> Any:
    return _Loader(text)


def _dispose(loader: Any) -> None:
    dispose = getattr(loader, "dispose", None)
    if dispose:
        dispose()


# -- composing fast ---------------------------------------------------------------------------------
# libyaml's composer (Cython) builds each node through a Python class and asks the
# loader's resolver for every tag; with ruamel's classes that is four Python frames per
# node and most of the time spent on a manifest. The composer looks its node classes up
# as globals of the `_ruamel_yaml` module and calls `resolve`/`descend_resolver`/
# `ascend_resolver` on the loader, so while one document is composed it is handed the
# slim classes below (subclasses: every isinstance check still holds) and a cached
# resolver. The safe loader's resolver is YAML 1.2 and never looks at the path, so a
# plain scalar's tag depends on its text alone. Where the module does not look like
# that, composing falls back to the stock path.


class _Scalar(ScalarNode):
    __slots__ = ()

    def __init__(self, tag: Any, value: Any, start_mark: Any, end_mark: Any, style: Any) -> None:
        self.ctag = tag
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = style


def _collection_init(self: Any, tag: Any, value: Any, start_mark: Any, end_mark: Any, flow_style: Any) -> None:
    self.ctag = tag
    self.value = value
    self.start_mark = start_mark
    self.end_mark = end_mark
    self.flow_style = flow_style


class _Sequence(SequenceNode):
    __slots__ = ()
    __init__ = _collection_init


class _Mapping(MappingNode):
    __slots__ = ()
    __init__ = _collection_init


_PLAIN_TAGS: Dict[str, str] = {}  # plain scalar text -> its resolved tag (keys and common values recur)
_STOCK_RESOLVER: Any = None


def _resolve(kind: Any, value: Any, implicit: Any) -> str:
    if kind is _Scalar:
        if not implicit[0]:
            return STR
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = str(_STOCK_RESOLVER.resolve(ScalarNode, value, implicit))
            if len(_PLAIN_TAGS) < 8192:
                _PLAIN_TAGS[value] = tag
        return tag
    return MAP if kind is _Mapping else SEQ


def _no_op(*_args: Any) -> None:
    return None


def _fast_module() -> Any:
    """The `_ruamel_yaml` module when its composer takes the slim nodes, else None."""
    global _STOCK_RESOLVER
    try:
        import _ruamel_yaml as module
        from ruamel.yaml.resolver import Resolver
    except ImportError:  # pragma: no cover - no libyaml
        return None
    if not all(isinstance(getattr(module, name, None), type) for name in ("ScalarNode", "SequenceNode",
                                                                          "MappingNode")):
        return None  # pragma: no cover - a clib that builds nodes some other way
    if not issubclass(_Loader, getattr(module, "CParser", ())) or type(_Loader.resolve) is not type(_resolve):
        return None  # pragma: no cover
    _STOCK_RESOLVER = Resolver()
    try:  # a clib that calls the classes or the resolver differently fails here, not on a manifest
        root = _compose_slim(module, "a: [b, 1]\n")
        item = root.value[0][1].value[1]
        if not (isinstance(root, _Mapping) and isinstance(item, _Scalar) and item.ctag == "tag:yaml.org,2002:int"
                and item.end_mark.column == 8):
            return None  # pragma: no cover
    except Exception:  # pragma: no cover
        return None
    return module


def _compose_slim(module: Any, text: Text) -> Optional[Node]:
    """Compose with the slim classes in place of the module's (single-threaded: a global swap)."""
    loader = _Loader(text)
    loader.resolve = _resolve
    loader.descend_resolver = loader.ascend_resolver = _no_op
    stock = module.ScalarNode, module.SequenceNode, module.MappingNode
    module.ScalarNode, module.SequenceNode, module.MappingNode = _Scalar, _Sequence, _Mapping
    try:
        return loader.get_single_node()
    finally:
        module.ScalarNode, module.SequenceNode, module.MappingNode = stock
        _dispose(loader)


_FAST_MODULE: Any = _fast_module()


def _compose_node(text: Text) -> Optional[Node]:
    """libyaml's composition of a single-document text (raises YAMLError)."""
    if _FAST_MODULE is not None:
        return _compose_slim(_FAST_MODULE, text)
    loader = _Loader(text)  # pragma: no cover - the stock path
    try:
        return loader.get_single_node()
    finally:
        _dispose(loader)


def scan(text: Text, where: Where, first_line: int = 0, max_nodes: Optional[int] = None) -> int:
    """Parse `text` to events only, refusing what would be abuse to compose; returns the node count.

    Raises InputError on malformed YAML, nesting deeper than MAX_DEPTH (checked on each
    event, so libyaml never gets far into a too deep document), aliases that expand to
    more than MAX_ALIAS_VALUES values, a recursive or undefined alias, and more than
    `max_nodes` nodes.
    """
    loader = _loader(text)
    depth = nodes = added = 0
    sizes: Dict[Any, int] = {}  # anchor -> values of its node once expanded (capped)
    stack: List[List[Any]] = []  # [anchor, values so far] of each open collection
    cap = MAX_ALIAS_VALUES + 1

    def fail(message: str, event: Any, hint: Optional[str] = None) -> InputError:
        return InputError(message, _where_at(text, event.start_mark, where, first_line), hint=hint)

    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                nodes += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += 1
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                nodes += 1
                depth += 1
                if depth > MAX_DEPTH:
                    raise fail(f"nested deeper than {MAX_DEPTH} levels; refused", event,
                               hint="Kubernetes objects nest a few dozen levels at most")
                if event.anchor is not None:
                    sizes.pop(event.anchor, None)  # open: an alias to it now would be recursive
                stack.append([event.anchor, 1])
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
                anchor, size = stack.pop()
                if anchor is not None:
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] = min(stack[-1][1] + size, cap)
            elif kind is AliasEvent:
                size = sizes.get(event.anchor)
                if size is None:
                    if any(entry[0] == event.anchor for entry in stack):
                        raise fail(f"alias *{event.anchor} refers to a node that contains it (a recursive "
                                   "structure); refused", event)
                    raise fail(f"undefined alias *{event.anchor}", event)
                added += size
                if added > MAX_ALIAS_VALUES:
                    raise fail(f"aliases expand to more than {MAX_ALIAS_VALUES:,} values (an alias bomb?); refused",
                               event, hint="write the values out instead of repeating them through aliases")
                if stack:
                    stack[-1][1] = min(stack[-1][1] + size, cap)
            if max_nodes is not None and nodes > max_nodes:
                raise fail(f"holds more than {max_nodes:,} values; refused (Kubernetes objects are far smaller)",
                           event)
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line, text) from None
    finally:
        _dispose(loader)
    return nodes


def compose(text: Text, where: Where, first_line: int = 0) -> Optional[Node]:
    """The node tree of a single-document text, or None when it holds no document.

    Abusive input (see `scan`) is refused before libyaml composes anything.
    """
    return _compose(text, where, first_line, _may_alias(text))


def _compose(text: Text, where: Where, first_line: int, aliased: bool) -> Optional[Node]:
    if aliased or _may_be_deep(text) or _may_hold_many_nodes(text):
        scan(text, where, first_line, MAX_NODES)
    try:
        return _compose_node(text)
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line, text) from None
    except RecursionError:
        raise InputError("document is nested too deeply to process", where) from None


def check_syntax(text: Text, where: Where, first_line: int = 0) -> None:
    """Parse without building anything: raises InputError on malformed or abusive YAML."""
    if _may_alias(text) or _may_be_deep(text):
        scan(text, where, first_line)
        return
    loader = _loader(text)  # the common case: nothing to count, only libyaml's own checks
    try:
        if hasattr(loader, "raw_parse"):
            loader.raw_parse()  # libyaml parses in C without making an event object per token
        else:  # pragma: no cover - pure Python fallback
            while loader.check_event():
                loader.get_event()
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line, text) from None
    finally:
        _dispose(loader)


def parses_cleanly(text: Text) -> bool:
    """Does libyaml parse `text` (a run of small documents) without an error, with nothing that
    `check_syntax` would look at closer (a possible alias, a deep block prefix)? The caller keeps each
    document's flow brackets under MAX_DEPTH // 2 and checks each one alone when this says no."""
    if _may_alias(text):
        return False
    for start in range(0, len(text), _STEP):  # `_may_be_deep`'s prefix test (no line crosses documents)
        if _PREFIX_RUN in text[start:start + _STEP + len(_PREFIX_RUN)].translate(_PREFIX_CHARS):
            return False
    loader = _loader(text)
    try:
        if not hasattr(loader, "raw_parse"):  # pragma: no cover - pure Python fallback
            return False
        loader.raw_parse()
    except YAMLError:
        return False
    finally:
        _dispose(loader)
    return True


_CONSTRUCTOR = None


def _construct(node: ScalarNode) -> Any:
    """A scalar of a standard tag through the safe constructor (the slow, exact path)."""
    global _CONSTRUCTOR
    if _CONSTRUCTOR is None:
        _CONSTRUCTOR = _Loader("")  # only its construct_* methods are used
    with warnings.catch_warnings():  # ruamel's advice on YAML 1.1 floats is not for our users' stderr
        warnings.simplefilter("ignore")
        value = _CONSTRUCTOR.construct_object(ScalarNode(_tag(node), node.value, node.start_mark, node.end_mark),
                                              deep=True)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _tag(node: Node) -> str:
    ctag = node.ctag
    if type(ctag) is str:  # a slim node's tag, as libyaml (which decodes %-escapes) or the resolver gave it
        return ctag
    if ctag.handle is None and isinstance(ctag.suffix, str) and "%" not in ctag.suffix:
        return ctag.suffix  # libyaml hands resolved tags over whole: skip ruamel's slow str()
    return str(node.tag)


_FAST = {
    "tag:yaml.org,2002:null": lambda text: None,
    "tag:yaml.org,2002:bool": lambda text: text.lower() in ("true", "yes", "on", "y"),
}
# Numbers and dates are never interpreted (a 5000-digit int, `2001-13-45`): see `Plain`.
_TEXT_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}


class Plain:
    """A plain scalar that YAML reads as a number or a date, kept as its text.

    postrender edits volumes, mounts, names and annotations; it never needs the value of an int,
    a float or a timestamp, and converting one can fail on valid YAML (an int past Python's digit
    limit, a date with month 13). So such a scalar stays text: equal to another of the same text,
    never to a str (as an int never was), and written back as the same plain scalar should a whole
    mapping holding it be re-emitted (`dump_block`)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plain) and other.text == self.text

    def __hash__(self) -> int:
        return hash((Plain, self.text))

    def __repr__(self) -> str:
        return f"Plain({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __getstate__(self) -> str:
        return self.text

    def __setstate__(self, text: str) -> None:
        self.text = text


class _Builder:
    """Turns nodes into plain values, remembering each node's value (`memo`) for the splicer.

    With aliases (`shared`), nodes may be shared: they share one value, but every use
    counts towards MAX_EXPANDED_NODES, since whatever walks the values later
    (comparisons, copies) walks them expanded. Without, that bookkeeping is skipped.
    """

    def __init__(self, where: Where, first_line: int, memo: Dict[int, Any], shared: bool = True,
                 strict_keys: bool = False):
        self.where = where
        self.strict_keys = strict_keys
        self.first_line = first_line
        self.count = 0
        self.memo = memo
        self.shared = shared
        self.sizes: Dict[int, int] = {}

    def at(self, node: Node) -> Where:
        return self.where.but(line=self.first_line + node.start_mark.line + 1,
                              column=node.start_mark.column + 1)

    def build(self, node: Node) -> Any:
        key = id(node)
        if self.shared:
            if key in self.sizes:
                self.count += self.sizes[key]
                if self.count > MAX_EXPANDED_NODES:
                    raise InputError("document expands to too many values (alias bomb?)", self.at(node))
                return self.memo[key]
            before = self.count
            self.count += 1
            if self.count > MAX_EXPANDED_NODES:
                raise InputError("document expands to too many values (alias bomb?)", self.at(node))
        if isinstance(node, ScalarNode):
            value: Any = node.value if node.ctag == STR else self.scalar(node)
        elif isinstance(node, MappingNode):
            if node.ctag != MAP:
                self.collection_tag(node, MAP)
            value = {}
            build = self.build
            for key_node, value_node in node.value:
                item_key = build(key_node)
                if isinstance(item_key, (list, dict)):
                    raise InputError("a mapping key must be a scalar", self.at(key_node))
                if self.strict_keys and item_key in value:
                    raise InputError(f"duplicate key {item_key!r}", self.at(key_node))
                value[item_key] = build(value_node)  # a repeated key: the last occurrence wins
        elif isinstance(node, SequenceNode):
            if node.ctag != SEQ:
                self.collection_tag(node, SEQ)
            value = [self.build(item) for item in node.value]
        else:  # pragma: no cover
            raise InputError(f"unsupported YAML node {type(node).__name__}", self.at(node))
        self.memo[key] = value
        if self.shared:
            self.sizes[key] = self.count - before
        return value

    def collection_tag(self, node: Node, expected: str) -> None:
        """Only plain mappings and sequences (or local `!tags`, taken as plain): nothing is constructed."""
        tag = _tag(node)
        if tag != expected and not tag.startswith("!"):
            raise InputError(f"unsupported tag {tag} (tags are never constructed)", self.at(node))

    def scalar(self, node: ScalarNode) -> Any:
        tag = _tag(node)
        if tag == MERGE:
            raise InputError("YAML merge keys (`<<`) are not supported in an object this tool reads",
                             self.at(node), hint="write the merged keys out in the object itself")
        if tag == STR:
            return node.value
        if tag.startswith("!") and tag != "!":
            return node.value  # local tags (`!foo`) are never constructed: the text is the value
        if tag in _TEXT_TAGS:
            return Plain(node.value)
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
            memo: Optional[Dict[int, Any]] = None, shared: bool = True, strict_keys: bool = False) -> Any:
    """Plain dict/list/scalar values of a node tree; `memo` collects every node's value by id().

    `shared=False` promises that no node is reached twice (the text holds no alias).
    `strict_keys` refuses a repeated mapping key instead of letting the last one win.
    """
    if node is None:
        return None
    try:
        return _Builder(where, first_line, memo if memo is not None else {}, shared, strict_keys).build(node)
    except RecursionError:
        raise InputError("document is nested too deeply to process", where) from None


def parse(text: Text, where: Where, first_line: int = 0) -> Tuple[Optional[Node], Any, Dict[int, Any]]:
    """Node tree, plain value and node -> value memo of a single-document text (for editing it).

    A value that does not convert (a duplicate key, a foreign tag) names its object too.
    """
    aliased = _may_alias(text)
    root = _compose(text, where, first_line, aliased)
    memo: Dict[int, Any] = {}
    try:
        data = to_data(root, where, first_line, memo, shared=aliased)
    except InputError as exc:
        raise exc.located(where.but(obj=node_identity(root))) from None
    return root, data, memo


def node_identity(root: Optional[Node]) -> Optional[str]:
    """"Kind/name" of a document read from its nodes (for messages about documents that do not convert)."""
    entries = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)} if isinstance(root, MappingNode) else {}
    kind, metadata = entries.get("kind"), entries.get("metadata")
    if not isinstance(kind, ScalarNode):
        return None
    names = [v.value for k, v in (metadata.value if isinstance(metadata, MappingNode) else [])
             if isinstance(k, ScalarNode) and k.value == "name" and isinstance(v, ScalarNode)]
    return f"{kind.value}/{names[-1] if names else ''}"  # a repeated key: the last one wins


def load(text: str, where: Where = Where(), first_line: int = 0) -> Any:
    """Plain values of a single-document text."""
    return to_data(compose(text, where, first_line), where, first_line)


class _Yaml11Resolver(VersionedResolver):
    """Resolve (and so quote) plain scalars as a YAML 1.1 reader would, without a %YAML directive."""

    @property
    def processing_version(self):  # type: ignore[override]
        return (1, 1)


def _dumper(indent_sequences: bool) -> Any:
    from ruamel.yaml import YAML  # the emitter is only needed once something changes

    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _Yaml11Resolver
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 1 << 30  # never fold a long string
    yaml.sort_base_mapping_type_on_output = False  # keep the order we build (name first)
    resolve = yaml.resolver.resolve
    # a number or a date kept as text goes back as the plain scalar it was (its tag as YAML 1.1 reads it)
    yaml.representer.add_representer(
        Plain, lambda representer, data: representer.represent_scalar(
            resolve(ScalarNode, data.text, (True, False)), data.text))
    if indent_sequences:
        yaml.indent(mapping=2, sequence=4, offset=2)
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


_DUMPERS: Dict[bool, Any] = {}


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


_SCALAR_DUMPERS: Dict[str, Any] = {}
_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")  # what YAML reads as a line break


def _scalar_dumper(style: str) -> Any:
    from ruamel.yaml import YAML

    # libyaml's emitter writes a double-quoted scalar twenty times faster than the pure one
    # (a Helm 4 pod template is one such scalar of several KB). Single quotes (rare: Helm
    # writes double) keep the pure emitter, which writes every printable character as it is.
    yaml = YAML(typ="safe", pure=style != '"')
    yaml.width = 1 << 30
    yaml.allow_unicode = True
    yaml.default_style = style
    return yaml


def dump_scalar(value: str, style: str) -> str:
    """One string as a single-line scalar in the given style ('"' or "'"), falling back to '"'."""
    if style not in ("'", '"') or any(ch in value for ch in _BREAKS):
        style = '"'  # a line break stays one line only as an escape in double quotes
    yaml = _SCALAR_DUMPERS.get(style)
    if yaml is None:
        yaml = _SCALAR_DUMPERS[style] = _scalar_dumper(style)
    out = io.StringIO()
    yaml.dump(value, out)
    text = out.getvalue()
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]
    return text.rstrip("\n")
