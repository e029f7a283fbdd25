"""Write step: turn "old node tree + new plain value" into the smallest text edit.

Instead of re-dumping a changed document (which would reorder keys, drop
comments and requote strings), the old tree is walked beside the new value
and only what differs is rewritten, at the line and column libyaml reported:

* a mapping entry that is gone loses its lines; a new one is appended after
  the mapping's last entry, at the mapping's indentation;
* a sequence is aligned item by item (difflib), so an added volume or mount
  is a few inserted lines and an unchanged item is never touched;
* a changed scalar is replaced in place, keeping its key text and any
  trailing comment; a `|` block scalar (Helm 3's embedded pod template) is
  patched line by line, a quoted one (Helm 4's) is re-quoted in its style;
* a key repeated in a mapping is edited where Kubernetes reads it, at its last
  occurrence; the earlier ones stay as they are (a removed key loses them all),
  and the edit is reported so that the user hears of it.

New fragments come from ruamel.yaml (`yamlio.dump_block`) in the document's
own sequence-indentation style.
"""
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .yamlio import dump_block, dump_scalar, to_data

_PLACEHOLDER = "__postrender_key__"
# Besides LF and CRLF, libyaml (and so every mark's line number) also breaks lines on these.
_OTHER_LINE_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
_LINE_BREAK = re.compile("(\r\n|[\n\r\x85\u2028\u2029])")


class CannotSplice(Exception):
    """The edit cannot be expressed as a local text change (caller falls back)."""


@dataclass(frozen=True)
class DuplicateEdit:
    """An edit that went to a key repeated in its mapping: the key and its lines (0-based, in the text)."""

    key: Any
    lines: Tuple[int, ...]


@dataclass(frozen=True)
class Patch:
    text: str
    duplicates: Tuple[DuplicateEdit, ...] = ()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


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


class Splicer:
    """Collects line edits against one text and applies them at once."""

    def __init__(self, text: str, memo: Optional[Dict[int, Any]] = None):
        # Lines as libyaml counts them (its marks number them so), each with its own line end;
        # the last one has none. Untouched lines keep their ends; new lines get the text's usual one.
        if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
            parts = _LINE_BREAK.split(text)
            self.lines: List[str] = parts[0::2]
            self.ends: List[str] = parts[1::2] + [""]
            counts = {end: self.ends.count(end) for end in set(self.ends[:-1])}
            self.newline = max(counts, key=lambda end: (counts[end], end == "\n")) if counts else "\n"
            self.lf_only = False
        else:
            self.lines = text.split("\n")
            self.ends = ["\n"] * (len(self.lines) - 1) + [""]
            self.newline = "\n"
            self.lf_only = True
        self.crlf = self.newline == "\r\n"
        self.edits: List[Tuple[int, int, int, List[str]]] = []  # start, end, seq, new lines
        self.duplicates: List[DuplicateEdit] = []  # edits that touched a repeated key
        self._data: Dict[int, Any] = memo if memo is not None else {}  # node id -> its value
        self.indent_sequences = True

    # -- reading the old text -------------------------------------------------
    def line(self, n: int) -> str:
        return self.lines[n]

    def old(self, node: Node) -> Any:
        key = id(node)
        if key not in self._data:
            to_data(node, memo=self._data)
        return self._data[key]

    def last_line(self, node: Node) -> int:
        """The last line that carries this node's own text (not trailing blanks or comments)."""
        if isinstance(node, ScalarNode):
            end = node.end_mark
            if node.style in ("|", ">"):
                last = end.line - 1 if end.column == 0 else end.line
                while last > node.start_mark.line and not self.line(last).strip():
                    last -= 1
                return last
            return end.line
        if getattr(node, "flow_style", False) or not node.value:
            return node.end_mark.line
        last = node.value[-1]
        return self.last_line(last[1] if isinstance(last, tuple) else last)

    def detect_style(self, root: Node) -> None:
        """Indented (`  - x`) or compact (`- x`) block sequences, as the document writes them."""
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    if isinstance(value, SequenceNode) and not value.flow_style and value.value:
                        if value.start_mark.line > key.start_mark.line:
                            self.indent_sequences = value.start_mark.column > key.start_mark.column
                            return
                    stack.append(value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)

    # -- recording edits ----------------------------------------------------------
    def edit(self, start: int, end: int, new_lines: List[str]) -> None:
        self.edits.append((start, end, len(self.edits), new_lines))

    def block(self, value: Any, indent: int) -> List[str]:
        pad = " " * indent
        lines = dump_block(value, self.indent_sequences)
        # a top-level list comes out with the dash offset: items must start at `indent`
        strip = min(len(line) - len(line.lstrip(" ")) for line in lines if line) if isinstance(value, list) else 0
        return [pad + line[strip:] if line else line for line in lines]

    def apply(self) -> str:
        lines = list(self.lines)
        ends = list(self.ends)
        # bottom-up so earlier line numbers stay valid; equal starts: the later edit first
        for start, end, _, new in sorted(self.edits, key=lambda e: (e[0], e[2]), reverse=True):
            lines[start:end] = new
            ends[start:end] = [self.newline] * len(new)
        if not lines:
            return ""
        if self.lf_only:
            return "\n".join(lines)  # the common case, and what the general join below gives for it
        # every line but the last ends with a line break (an old last line that got a line after it
        # takes the usual one); the last never does, as in the text
        ends = [end or self.newline for end in ends[:-1]] + [""]
        return "".join(text + end for text, end in zip(lines, ends))

    # -- the walk -----------------------------------------------------------------------
    def sync(self, node: Node, new: Any, replace_whole) -> None:
        """Make `node`'s text say `new`; `replace_whole(new)` rewrites it wholesale."""
        if same(self.old(node), new):
            return
        if isinstance(node, MappingNode) and not node.flow_style and node.value and isinstance(new, dict):
            self.sync_mapping(node, new, replace_whole)
        elif isinstance(node, SequenceNode) and not node.flow_style and node.value and isinstance(new, list) and new:
            self.sync_sequence(node, new)
        elif (isinstance(node, ScalarNode) and node.style == "|" and isinstance(new, str)
              and isinstance(self.old(node), str) and self.patch_literal(node, new)):
            return
        else:
            replace_whole(new)

    def sync_mapping(self, node: MappingNode, new: Dict[Any, Any], replace_whole) -> None:
        entries = [(self.old(k), k, v) for k, v in node.value]
        old_keys = {key for key, _, _ in entries}
        first_key_line = entries[0][1].start_mark.line
        # An item's first key shares its line with the "- ": deleting it would lose the dash.
        if entries[0][0] not in new and self.line(first_key_line)[: entries[0][1].start_mark.column].strip():
            replace_whole(new)
            return
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
                self.edit(key_node.start_mark.line, self.last_line(value_node) + 1, [])  # every occurrence
            elif not last:
                continue  # an earlier occurrence of a repeated key: Kubernetes reads the last one
            else:
                self.sync(value_node, new[key], lambda value, k=key_node, v=value_node: self.replace_entry(k, v, value))
        added = {key: value for key, value in new.items() if key not in old_keys and not _blank(value)}
        if added:
            after = self.last_line(entries[-1][2]) + 1
            self.edit(after, after, self.block(added, entries[0][1].start_mark.column))

    def sync_sequence(self, node: SequenceNode, new: List[Any]) -> None:
        items = node.value
        old = [self.old(item) for item in items]
        dash_col, _ = self.dash(items[0])
        # the injector copies on write: an item it kept is the very same object, and needs no JSON
        kept = {id(v) for v in new} & {id(v) for v in old}
        old_keys = [f"\0{id(v)}" if id(v) in kept else _canonical(v) for v in old]
        new_keys = [f"\0{id(v)}" if id(v) in kept else _canonical(v) for v in new]
        matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            if op == "replace" and i2 - i1 == j2 - j1:
                for offset in range(i2 - i1):
                    item = items[i1 + offset]
                    self.sync(item, new[j1 + offset], lambda value, it=item: self.replace_item(it, value))
                continue
            if i2 > i1:  # delete (or a replace of a different length: rewrite those items)
                self.edit(self.dash(items[i1])[1], self.last_line(items[i2 - 1]) + 1, [])
            if j2 > j1:
                at = self.dash(items[i2])[1] if i2 < len(items) else self.last_line(items[-1]) + 1
                self.edit(at, at, self.block(new[j1:j2], dash_col))

    # -- wholesale rewrites of one entry / item ---------------------------------------------
    def replace_entry(self, key_node: Node, value_node: Node, value: Any) -> None:
        """Rewrite `key: value`, keeping the key as written and what precedes it on its line."""
        key_line = key_node.start_mark.line
        key_text = self.line(key_line)[key_node.start_mark.column:key_node.end_mark.column]
        if not isinstance(value, (dict, list)) or not value:
            scalar = self.scalar_text(value_node, value)
            if value_node.start_mark.line == key_line or (isinstance(value_node, ScalarNode) and not value_node.value
                                                          and not value_node.style):
                self.replace_span(value_node, scalar, key_node)
                return
        emitted = self.block({_PLACEHOLDER: value}, 0)
        head = self.line(key_line)[: key_node.start_mark.column]
        first = emitted[0].replace(_PLACEHOLDER, key_text, 1)
        column = key_node.start_mark.column
        rest = [(" " * column + line) if line else line for line in emitted[1:]]
        self.edit(key_line, self.last_line(value_node) + 1, [head + first] + rest)

    def replace_item(self, item: Node, value: Any) -> None:
        column, line = self.dash(item)
        emitted = self.block([value], column)
        head = self.line(line)[:column]
        self.edit(line, self.last_line(item) + 1, [head + emitted[0][column:]] + emitted[1:])

    def replace_span(self, node: Node, text: str, key_node: Optional[Node] = None) -> None:
        """Put `text` where the scalar `node` stands (an empty null: right after the key's colon)."""
        start, end = node.start_mark, node.end_mark
        first = self.line(start.line)
        if (isinstance(node, ScalarNode) and not node.value and not node.style and key_node is not None
                and start.line == end.line):
            # an empty plain value (a null): the mark sits at the colon's end or the next line; write after the colon
            line = key_node.start_mark.line
            text_line = self.line(line)
            colon = text_line.find(":", key_node.end_mark.column)
            if colon < 0:
                raise CannotSplice("a key whose `:` is not on its line")
            self.edit(line, line + 1, [text_line[: colon + 1] + " " + text + text_line[colon + 1:].rstrip()])
            return
        last = self.last_line(node)
        tail = self.line(end.line)[end.column:] if end.line == last else ""
        self.edit(start.line, last + 1, [first[: start.column] + text + tail])

    def scalar_text(self, node: Node, value: Any) -> str:
        if isinstance(value, str) and isinstance(node, ScalarNode) and node.style in ('"', "'"):
            return dump_scalar(value, node.style)
        if isinstance(value, str) and "\n" in value:
            return dump_scalar(value, '"')
        line = dump_block({_PLACEHOLDER: value}, self.indent_sequences)
        if len(line) != 1:
            return dump_scalar(str(value), '"')
        return line[0][len(_PLACEHOLDER) + 2:]

    def patch_literal(self, node: ScalarNode, new: str) -> bool:
        """Patch a `|` block scalar line by line; False when its layout is not plain enough."""
        header = node.start_mark.line
        if "\u2028" in node.value or "\u2029" in node.value:
            return False  # kept in the value, yet lines to libyaml: the text lines do not map to its lines
        old_lines = node.value.split("\n")
        new_lines = new.split("\n")
        if node.value.endswith("\n") != new.endswith("\n"):
            return False
        indicator = self.line(header)[node.start_mark.column:].split("#")[0].strip()
        explicit = [ch for ch in indicator if ch.isdigit()]
        # with clip/keep chomping the value ends with "\n": its last split element is no body line
        compared = old_lines[:-1] if node.value.endswith("\n") else old_lines
        body = [self.line(n) for n in range(header + 1, header + 1 + len(compared))]
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
        if any(ch in new for ch in _OTHER_LINE_BREAKS) or "\t" in "".join(t[:1] for t in new_lines):
            return False
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "equal":
                self.edit(header + 1 + i1, header + 1 + i2,
                          [(" " * indent + t) if t else "" for t in new_lines[j1:j2]])
        return True

    def dash(self, item: Node) -> Tuple[int, int]:
        """(column, line) of the `-` that introduces a block sequence item."""
        line = item.start_mark.line
        column = item.start_mark.column
        while line >= 0:
            text = self.line(line)[:column] if line == item.start_mark.line else self.line(line)
            stripped = text.rstrip()
            if stripped.endswith("-") and (len(stripped) == 1 or stripped[-2] in " -"):
                return len(stripped) - 1, line
            if line != item.start_mark.line:
                # comments may stand between the dash and the item: `- # note`, or whole-line comments
                dashed = re.match(r"^( *)-[ \t]+#", stripped)
                if dashed:
                    return len(dashed.group(1)), line
                if stripped.lstrip().startswith("#"):
                    line -= 1
                    continue
            if stripped:
                raise CannotSplice("sequence item without a dash")
            line -= 1
            column = None  # type: ignore[assignment]
        raise CannotSplice("sequence item without a dash")


def patch(text: str, root: Node, new: Any, memo: Optional[Dict[int, Any]] = None) -> Patch:
    """`text` (whose tree is `root`) edited so that it says `new`, and the repeated keys it edited."""
    splicer = Splicer(text, memo)
    splicer.detect_style(root)

    def cannot(_value: Any) -> None:
        raise CannotSplice("the document root changes type")

    splicer.sync(root, new, cannot)
    return Patch(splicer.apply() if splicer.edits else text, tuple(splicer.duplicates))


def patch_text(text: str, root: Node, new: Any, memo: Optional[Dict[int, Any]] = None) -> str:
    """`text` (whose tree is `root`) edited so that it says `new`."""
    return patch(text, root, new, memo).text
