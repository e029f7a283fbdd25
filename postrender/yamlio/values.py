"""Python values from node trees: what the tool reads, compares and edits.

`to_data` turns a node into dicts, lists and scalars, refusing what it will not
construct (foreign tags, merge keys) and documents that aliases expand past
MAX_EXPANDED_NODES. A key repeated in a mapping is read as Helm 3 and kubectl read it
(sigs.k8s.io/yaml, non-strict): the last occurrence wins, here and wherever a node is
looked up by key (`entry`, `entries`); spec files, which the user writes by hand, may
refuse it (`strict_keys`). `parse` gives the tree, the value and a
node → value memo at once, which the patcher uses to compare old with new.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, Optional, Tuple

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InputError, Where
from .composer import compose, compose_checked
from .limits import MAX_EXPANDED_NODES, may_alias
from .loader import MAP, MERGE, SEQ, STR, Loader, Text
from .marks import at_mark

_SIMPLE_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_CONSTRUCTOR = None


def _construct(node: ScalarNode) -> Any:
    """A scalar of a standard tag through the safe constructor (the slow, exact path)."""
    global _CONSTRUCTOR
    if _CONSTRUCTOR is None:
        _CONSTRUCTOR = Loader("")  # only its construct_* methods are used
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
    mapping holding it be re-emitted (`emit.dump_block`)."""

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


class Builder:
    """Turns nodes into Python values, remembering each node's value (`memo`) for the patcher.

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
        return at_mark(self.where, node.start_mark, self.first_line)

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
        """Only untagged mappings and sequences (or local `!tags`, taken as untagged): nothing is constructed."""
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
    """The dict/list/scalar values of a node tree; `memo` collects every node's value by id().

    `shared=False` promises that no node is reached twice (the text holds no alias).
    `strict_keys` refuses a repeated mapping key instead of letting the last one win.
    """
    if node is None:
        return None
    try:
        return Builder(where, first_line, memo if memo is not None else {}, shared, strict_keys).build(node)
    except RecursionError:
        raise InputError("document is nested too deeply to process", where) from None


def parse(text: Text, where: Where, first_line: int = 0) -> Tuple[Optional[Node], Any, Dict[int, Any]]:
    """Node tree, Python value and node -> value memo of a single-document text (for editing it).

    A value that does not convert (a duplicate key, a foreign tag) names its object too.
    """
    aliased = may_alias(text)
    root = compose_checked(text, where, first_line, aliased)
    memo: Dict[int, Any] = {}
    try:
        data = to_data(root, where, first_line, memo, shared=aliased)
    except InputError as exc:
        raise exc.located(where.but(obj=node_identity(root))) from None
    return root, data, memo


def parse_again(text: Text, where: Where, first_line: int, root: Node,
                memo: Dict[int, Any]) -> Tuple[Optional[Node], Dict[int, Any]]:
    """The node tree of a document composed before in a longer text (`root`, its values in `memo`),
    now composed alone (marks count in its own text), and a memo that gives its nodes those very
    values: the patcher then finds what an edit kept by identity instead of comparing it."""
    again = compose_checked(text, where, first_line, may_alias(text))
    if again is None:  # pragma: no cover - the text held a document a moment ago
        return again, {}
    adopted: Dict[int, Any] = {}
    pairs = [(root, again)]
    while pairs:
        before, node = pairs.pop()
        adopted[id(node)] = memo[id(before)]
        if isinstance(node, MappingNode):
            for (key_before, value_before), (key, value) in zip(before.value, node.value):
                pairs.append((key_before, key))
                pairs.append((value_before, value))
        elif isinstance(node, SequenceNode):
            pairs.extend(zip(before.value, node.value))
    return again, adopted


def node_identity(root: Optional[Node]) -> Optional[str]:
    """"Kind/name" of a document read from its nodes (for messages about documents that do not convert)."""
    kind, name = entry(root, "kind")[1], entry(entry(root, "metadata")[1], "name")[1]
    if not isinstance(kind, ScalarNode):
        return None
    return f"{kind.value}/{name.value if isinstance(name, ScalarNode) else ''}"


def entry(node: Optional[Node], key: str) -> Tuple[Optional[Node], Optional[Node]]:
    """(key node, value node) of `key` in a mapping node, (None, None) where there is none. A
    repeated key: its last occurrence, the one that wins (as in `to_data`, and for Helm and kubectl)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in reversed(node.value):
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node, value_node
    return None, None


def entries(node: Optional[Node]) -> Dict[Any, Node]:
    """The value nodes of a mapping node by the text of their (scalar) keys, as `entry` finds each
    (a repeated key: the last); empty for anything else."""
    if not isinstance(node, MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}


def load(text: str, where: Where = Where(), first_line: int = 0) -> Any:
    """The Python values of a single-document text."""
    return to_data(compose(text, where, first_line), where, first_line)


def node_of(root: Node, memo: Dict[int, Any], subject: Any) -> Optional[Node]:
    """The node of the tree `root` whose value (by `memo`, as `to_data` filled it) is `subject`
    itself, or None: where in the text a value an error is about stands."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if memo.get(id(node)) is subject:
            return node
        if isinstance(node, MappingNode):
            stack.extend(value for _, value in node.value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None
