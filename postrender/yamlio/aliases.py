"""Aliases as nodes of their own, standing where their `*name` token stands.

libyaml's composer hands an alias back as the very node its anchor names, so a tree
with aliases shares nodes, and every mark under a shared node points into the anchor's
text. An editor that appended after such a value would write into the anchor (another
container, another volume). So, once a text with aliases is composed, each place where
a node is reached again is given a node of its own (`Alias`): the same kind, tag and
value (the anchor's children, unchanged), but the marks of the alias token, and the node
it stands for as `target`. The anchor's node gets the anchor's name in `anchor`
(otherwise never set on composed nodes): the patcher uses both to expand an alias whose
anchor it edits or removes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Set, Tuple, Union

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

if TYPE_CHECKING:  # for mypy only (typing.TypeGuard is 3.10+): no dependency at run time
    from typing_extensions import TypeGuard

AliasMark = Tuple[Any, Any, str]  # start mark, end mark and anchor name of an alias token


class AliasScalar(ScalarNode):
    __slots__ = ("target",)
    target: Node


class AliasSequence(SequenceNode):
    __slots__ = ("target",)
    target: Node


class AliasMapping(MappingNode):
    __slots__ = ("target",)
    target: Node


Alias = (AliasScalar, AliasSequence, AliasMapping)
AliasNode = Union[AliasScalar, AliasSequence, AliasMapping]


def is_alias(node: Node) -> "TypeGuard[AliasNode]":
    return isinstance(node, Alias)


def anchor_of(node: Node) -> Optional[str]:
    """The anchor name of a node that an alias refers to (None for any other node)."""
    return getattr(node, "anchor", None)


def _alias(target: Node, mark: AliasMark) -> Node:
    kind = AliasScalar if isinstance(target, ScalarNode) else AliasMapping if isinstance(target, MappingNode) \
        else AliasSequence
    node: Any = kind.__new__(kind)  # no __init__: it would wrap the tag, and the tag is already made
    node.ctag, node.value = target.ctag, target.value
    node.start_mark, node.end_mark = mark[0], mark[1]
    node.comment, node.anchor = None, None
    if isinstance(target, ScalarNode):
        node.style = target.style
    elif isinstance(target, (MappingNode, SequenceNode)):  # all other nodes are
        node.flow_style = target.flow_style
    node.target = target
    target.anchor = mark[2]
    return node


def separate(root: Optional[Node], marks: List[AliasMark]) -> None:
    """Give each alias of the tree `root` its own node (see the module docstring), in place.

    `marks` are the alias tokens in the order of the text (the parser's AliasEvents). Walked in
    the order of the text, a node is first reached at its anchor, so the n-th node reached again is
    the n-th alias. (Recursive: a text with aliases was scanned, so it nests at most MAX_DEPTH deep.)
    """
    if root is not None and marks:
        _walk(root, {id(root)}, iter(marks))


def _walk(node: Node, seen: Set[int], pending: Iterator[AliasMark]) -> None:
    if isinstance(node, MappingNode):
        pairs = node.value
        for index, (key, value) in enumerate(pairs):
            key = _visit(key, seen, pending)
            value = _visit(value, seen, pending)
            pairs[index] = (key, value)
    elif isinstance(node, SequenceNode):
        items = node.value
        for index, item in enumerate(items):
            items[index] = _visit(item, seen, pending)


def _visit(node: Node, seen: Set[int], pending: Iterator[AliasMark]) -> Node:
    if id(node) in seen:
        return _alias(node, next(pending))
    seen.add(id(node))
    _walk(node, seen, pending)
    return node


def aliases_in(root: Optional[Node]) -> Iterator[AliasNode]:
    """The alias nodes of a tree (after `separate`), in no particular order."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if is_alias(node):
            yield node
        elif isinstance(node, MappingNode):
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
