"""The tree patcher: walks the old node tree beside the new value and records the smallest line edits.

Only what differs is rewritten, at the line and column libyaml reported:

* a mapping entry that is gone loses its lines; a new one is appended after
  the mapping's last entry, at the mapping's indentation;
* a sequence is aligned item by item (`align`: difflib's opcodes), so an added volume or mount
  is a few inserted lines and an unchanged item is never touched;
* a changed scalar is replaced in place, keeping its key text and any
  trailing comment; a `|` block scalar (Helm 3's embedded pod template) is
  patched line by line, a quoted one (Helm 4's) is re-quoted in its style;
* a key repeated in a mapping is edited where Kubernetes reads it, at its last
  occurrence; the earlier ones stay as they are (a removed key loses them all),
  and the edit is recorded (`duplicates`) so that the user hears of it;
* an alias (a node of its own at its `*name` token, `yamlio.aliases`) is never edited
  into: what goes after it goes after the token, and an alias that must read otherwise,
  or whose anchor is edited or removed, is written out whole (expanded) in its place;
  the result is read back and compared with the new value, and a text that would still
  read otherwise is refused (`AliasConflict`) naming the anchor's and the alias's lines.

A node that cannot be patched in place is rewritten whole by what holds it: an entry
of a mapping (`sync_entry`, `replace_entry`) or an item of a sequence (`sync_item`,
`replace_item`); `sync` says which by returning False.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import PostrenderError, Where
from ..records import Record
from ..yamlio import aliases_in, anchor_of, compose, dump_block, dump_scalar, is_alias, to_data
from ..yamlio.breaks import OTHER_BREAKS
from ..yamlio.limits import may_alias
from .align import opcodes
from .lines import CannotSplice, LineBuffer

_PLACEHOLDER = "__postrender_key__"


class AliasConflict(CannotSplice):
    """The edit would change what an alias reads, or edit through one: its lines (0-based, in the text)."""

    def __init__(self, anchor_line: Optional[int], alias_line: Optional[int]):
        self.anchor_line, self.alias_line = anchor_line, alias_line
        super().__init__("an edit would change a value that YAML anchors and aliases share")


class DuplicateEdit(Record):
    """An edit that went to a key repeated in its mapping: the key and its lines (0-based, in the text)."""

    __slots__ = ("key", "lines")

    def __init__(self, key: Any, lines: Tuple[int, ...]) -> None:
        self.key = key
        self.lines = lines


def _identity(value: Any) -> Any:
    """A hashable stand-in for a value read from YAML, equal to another exactly when the values
    are: mappings in any key order, scalars only of one type (`5`, `"5"` and `true` all differ)."""
    if isinstance(value, dict):
        return "map", frozenset((_identity(k), _identity(v)) for k, v in value.items())
    if isinstance(value, list):
        return "seq", tuple(_identity(v) for v in value)
    return type(value), value


def _blank(value: Any) -> bool:
    return value is None


def same(old: Any, new: Any) -> bool:
    """Equal as Kubernetes sees it: an absent key and a null one count the same."""
    if old is new:
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        keys = set(old) | set(new)
        return all(same(old.get(k), new.get(k)) for k in keys)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new))
    if type(old) is not type(new) and not (_blank(old) or _blank(new)):
        return False
    return old == new


class TreePatcher:
    """Records on a LineBuffer the edits that make a node tree's text say a new value."""

    def __init__(self, buffer: LineBuffer, memo: Optional[Dict[int, Any]] = None, aliased: bool = False):
        self.buffer = buffer
        self.duplicates: List[DuplicateEdit] = []  # edits that touched a repeated key
        self._data: Dict[int, Any] = memo if memo is not None else {}  # node id -> its value
        self.aliased = aliased  # the text may hold aliases (`yamlio.may_alias`): anchors are tracked
        self.moved: Set[int] = set()  # anchored nodes whose text was edited or removed: their aliases expand

    def old(self, node: Node) -> Any:
        """The node's value as the text says it now."""
        key = id(node)
        if key not in self._data:
            to_data(node, memo=self._data)
        return self._data[key]

    # -- the walk -----------------------------------------------------------------------------------
    def sync(self, node: Node, new: Any) -> bool:
        """Make `node`'s text say `new` in place; False when it must be rewritten whole by what holds it."""
        old = self.old(node)
        if is_alias(node):  # its text is a `*name` token, which reads what the anchor reads once edited
            return same(old, new) and id(node.target) not in self.moved
        if same(old, new):
            if not (self.moved and self._stale(node)):
                return True
        elif self.aliased and anchor_of(node) is not None:
            self.moved.add(id(node))
        if isinstance(node, MappingNode) and not node.flow_style and node.value and isinstance(new, dict):
            return self.sync_mapping(node, new)
        if isinstance(node, SequenceNode) and not node.flow_style and node.value and isinstance(new, list) and new:
            self.sync_sequence(node, new)
            return True
        if (isinstance(node, ScalarNode) and node.style == "|" and isinstance(new, str)
                and isinstance(self.old(node), str)):
            return patch_literal(self.buffer, node, new)
        return False

    def sync_entry(self, key_node: Node, value_node: Node, new: Any) -> None:
        """Make a mapping entry's value say `new`, rewriting the entry whole if need be."""
        if not self.sync(value_node, new):
            self.replace_entry(key_node, value_node, new)

    def sync_item(self, item: Node, new: Any) -> None:
        """Make a sequence item say `new`, rewriting the item whole if need be."""
        if not self.sync(item, new):
            self.replace_item(item, new)

    def sync_mapping(self, node: MappingNode, new: Dict[Any, Any]) -> bool:
        line = self.buffer.line
        entries = [(self.old(k), k, v) for k, v in node.value]
        old_keys = {key for key, _, _ in entries}
        first_key_line = entries[0][1].start_mark.line
        # An item's first key shares its line with the "- ": deleting it would lose the dash.
        if entries[0][0] not in new and line(first_key_line)[: entries[0][1].start_mark.column].strip():
            return False
        occurrences: Dict[Any, List[Node]] = {}  # key -> its key nodes, in order
        for key, key_node, _ in entries:
            occurrences.setdefault(key, []).append(key_node)
        for key, key_node, value_node in entries:
            repeats = occurrences[key]
            last = repeats[-1] is key_node
            if len(repeats) > 1 and last and not same(self.old(value_node), new.get(key)):
                self.duplicates.append(DuplicateEdit(key, tuple(k.start_mark.line for k in repeats)))
            if key not in new:
                if _blank(self.old(value_node)):
                    continue  # absent and null count the same
                self._drop(key_node, value_node)
                self.buffer.edit(key_node.start_mark.line, self.buffer.after(value_node), [])  # every occurrence
            elif not last:
                continue  # an earlier occurrence of a repeated key: Kubernetes reads the last one
            else:
                self.sync_entry(key_node, value_node, new[key])
        added = {key: value for key, value in new.items() if key not in old_keys and not _blank(value)}
        if added:
            self.buffer.insert(self.buffer.after(entries[-1][2]),
                               self.buffer.block(added, entries[0][1].start_mark.column))
        return True

    def sync_sequence(self, node: SequenceNode, new: List[Any]) -> None:
        buffer = self.buffer
        items = node.value
        old = [self.old(item) for item in items]
        dash_col = buffer.dash_column(items[0])
        # the injector copies on write: an item it kept is the very same object, and needs no walk
        kept = {id(v) for v in new} & {id(v) for v in old}
        old_keys = [("kept", id(v)) if id(v) in kept else _identity(v) for v in old]
        new_keys = [("kept", id(v)) if id(v) in kept else _identity(v) for v in new]
        for op, i1, i2, j1, j2 in opcodes(old_keys, new_keys):
            if op == "equal":
                if self.moved:  # an item that reads the same may hold an alias whose anchor was edited
                    for offset in range(i2 - i1):
                        if self._stale(items[i1 + offset]):
                            self.sync_item(items[i1 + offset], new[j1 + offset])
                continue
            if op == "replace" and i2 - i1 == j2 - j1:
                for offset in range(i2 - i1):
                    self.sync_item(items[i1 + offset], new[j1 + offset])
                continue
            if i2 > i1:  # delete (or a replace of a different length: rewrite those items)
                self._drop(*items[i1:i2])
                buffer.edit(buffer.dash(items[i1])[1], buffer.after(items[i2 - 1]), [])
            if j2 > j1:
                at = buffer.dash(items[i2])[1] if i2 < len(items) else buffer.after(items[-1])
                buffer.insert(at, buffer.block(new[j1:j2], dash_col))

    # -- anchors and aliases ------------------------------------------------------------------------
    def _drop(self, *nodes: Node) -> None:
        """These nodes' text goes: the anchors in it are gone, and their aliases must be expanded."""
        if not self.aliased:
            return
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if is_alias(node):
                continue
            if anchor_of(node) is not None:
                self.moved.add(id(node))
            if isinstance(node, MappingNode):
                stack.extend(child for pair in node.value for child in pair)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)

    def _stale(self, node: Node) -> bool:
        """Does the node's text hold an alias whose anchor was edited or removed?"""
        return any(id(alias.target) in self.moved for alias in aliases_in(node))

    # -- wholesale rewrites of one entry / item -----------------------------------------------------
    def replace_entry(self, key_node: Node, value_node: Node, value: Any) -> None:
        """Rewrite `key: value`, keeping the key as written and what precedes it on its line."""
        buffer = self.buffer
        self._drop(value_node)
        key_line = key_node.start_mark.line
        key_text = buffer.line(key_line)[key_node.start_mark.column:key_node.end_mark.column]
        if not isinstance(value, (dict, list)) or not value:
            scalar = self.scalar_text(value_node, value)
            if value_node.start_mark.line == key_line or (isinstance(value_node, ScalarNode) and not value_node.value
                                                          and not value_node.style):
                self.replace_span(value_node, scalar, key_node)
                return
        emitted = buffer.block({_PLACEHOLDER: value}, 0)
        head = buffer.line(key_line)[: key_node.start_mark.column]
        first = emitted[0].replace(_PLACEHOLDER, key_text, 1)
        column = key_node.start_mark.column
        rest = [(" " * column + line) if line else line for line in emitted[1:]]
        buffer.edit(key_line, buffer.after(value_node), [head + first] + rest)

    def replace_item(self, item: Node, value: Any) -> None:
        """Rewrite a sequence item whole, at its dash."""
        buffer = self.buffer
        self._drop(item)
        column, line = buffer.dash(item)
        emitted = buffer.block([value], column)
        head = buffer.line(line)[:column]
        buffer.edit(line, buffer.after(item), [head + emitted[0][column:]] + emitted[1:])

    def replace_span(self, node: Node, text: str, key_node: Optional[Node] = None) -> None:
        """Put `text` where the scalar `node` stands (an empty null: right after the key's colon)."""
        buffer = self.buffer
        start, end = node.start_mark, node.end_mark
        first = buffer.line(start.line)
        if (isinstance(node, ScalarNode) and not node.value and not node.style and key_node is not None
                and start.line == end.line and not is_alias(node)):
            # an empty plain value (a null): the mark sits at the colon's end or the next line; write after the colon
            line = key_node.start_mark.line
            text_line = buffer.line(line)
            colon = text_line.find(":", key_node.end_mark.column)
            if colon < 0:
                raise CannotSplice("a key whose `:` is not on its line")
            buffer.edit(line, line + 1, [text_line[: colon + 1] + " " + text + text_line[colon + 1:].rstrip()])
            return
        last = buffer.last_line(node)
        tail = buffer.line(end.line)[end.column:] if end.line == last else ""
        buffer.edit(start.line, last + 1, [first[: start.column] + text + tail])

    def scalar_text(self, node: Node, value: Any) -> str:
        """`value` as the text of one scalar, in the node's quoting style where it has one."""
        if isinstance(value, str) and isinstance(node, ScalarNode) and node.style in ('"', "'"):
            return dump_scalar(value, node.style)
        if isinstance(value, str) and "\n" in value:
            return dump_scalar(value, '"')
        line = dump_block({_PLACEHOLDER: value}, self.buffer.indent_sequences)
        if len(line) != 1:
            return dump_scalar(str(value), '"')
        return line[0][len(_PLACEHOLDER) + 2:]


def patch_literal(buffer: LineBuffer, node: ScalarNode, new: str) -> bool:
    """Patch a `|` block scalar line by line; False when its layout is not plain enough."""
    line = buffer.line
    header = node.start_mark.line
    if "\u2028" in node.value or "\u2029" in node.value:
        return False  # kept in the value, yet lines to libyaml: the text lines do not map to its lines
    old_lines = node.value.split("\n")
    new_lines = new.split("\n")
    if node.value.endswith("\n") != new.endswith("\n"):
        return False
    indicator = line(header)[node.start_mark.column:].split("#")[0].strip()
    explicit = [ch for ch in indicator if ch.isdigit()]
    # with clip/keep chomping the value ends with "\n": its last split element is no body line
    compared = old_lines[:-1] if node.value.endswith("\n") else old_lines
    body = [line(n) for n in range(header + 1, header + 1 + len(compared))]
    if explicit:
        indent = int(explicit[0])  # relative to the parent's indentation; recover it below
        parents = [len(t) - len(t.lstrip(" ")) for t in body if t.strip()]
        indent = min(parents) if parents else indent
    else:
        firsts = [t for t in body if t.strip()]
        if not firsts:
            return False
        indent = len(firsts[0]) - len(firsts[0].lstrip(" "))
    if indent == 0:
        return False
    for text, value in zip(body, compared):
        if text[indent:] != value and not (value == "" and not text.strip()):
            return False
    first_new = next((t for t in new_lines if t.strip()), "")
    if not explicit and first_new.startswith(" "):
        return False
    if any(ch in new for ch in OTHER_BREAKS) or "\t" in "".join(t[:1] for t in new_lines):
        return False
    for op, i1, i2, j1, j2 in opcodes(old_lines, new_lines):
        if op != "equal":
            buffer.edit(header + 1 + i1, header + 1 + i2,
                             [(" " * indent + t) if t else "" for t in new_lines[j1:j2]])
    return True


class Patch(Record):
    """A patched text, and the edits in it that went to a repeated key."""

    __slots__ = ("text", "duplicates")

    def __init__(self, text: str, duplicates: Tuple[DuplicateEdit, ...] = ()) -> None:
        self.text = text
        self.duplicates = duplicates


def patch(text: str, root: Node, new: Any, memo: Optional[Dict[int, Any]] = None, offset: int = 0) -> Patch:
    """`text` (whose tree is `root`) edited so that it says `new`, and the repeated keys it edited.
    `offset`: the nodes were read from a longer text in which `text` starts at that line (their
    lines, in the result too, count from there)."""
    buffer = LineBuffer(text, offset)
    buffer.detect_style(root)
    aliased = may_alias(text) and any(True for _ in aliases_in(root))
    patcher = TreePatcher(buffer, memo, aliased)
    if not patcher.sync(root, new):
        raise CannotSplice("the document root changes type")
    result = buffer.apply()
    if aliased:
        check_aliases(result, root, new, patcher.moved)
    return Patch(result, tuple(patcher.duplicates))


def check_aliases(result: str, root: Node, new: Any, moved: Set[int]) -> None:
    """Raise AliasConflict unless `result` (an edit of the text of `root`, which holds aliases) reads `new`."""
    try:
        reads = same(to_data(compose(result, Where())), new)
    except PostrenderError:
        reads = False
    if not reads:
        aliases = list(aliases_in(root))
        culprit = next((a for a in aliases if id(a.target) in moved), aliases[0] if aliases else None)
        raise AliasConflict(culprit.target.start_mark.line if culprit else None,
                            culprit.start_mark.line if culprit else None)


def patch_text(text: str, root: Node, new: Any, memo: Optional[Dict[int, Any]] = None) -> str:
    """`text` (whose tree is `root`) edited so that it says `new`."""
    return patch(text, root, new, memo).text
