"""A text as lines, the edits recorded against them, and where a node's lines are.

The patcher never rewrites a document: it records line edits (`edit(start, end,
new_lines)`, 0-based, end exclusive: the line numbers of libyaml's marks) and applies
them all at once, bottom-up, so that every edit can be stated in the original text's
line numbers. Lines are counted as libyaml counts them (it also breaks lines on a lone
CR, NEL, U+2028 and U+2029); each line keeps its own line end, and new lines get the
text's usual one. A text of LF line ends only (every rendered manifest) takes a fast
path: a plain split and join.
"""
from __future__ import annotations

import re
from typing import Any, List, Tuple

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..yamlio import dump_block, is_alias
from ..yamlio.breaks import OTHER_BREAKS


class CannotSplice(Exception):
    """The edit cannot be expressed as a local text change (caller falls back)."""


_LINE_BREAK = "(\r\n|[\n" + "".join(OTHER_BREAKS) + "])"  # compiled on first use (re caches it): rare


class LineBuffer:
    """One text's lines, with the edits recorded against them until `apply`."""

    def __init__(self, text: str, offset: int = 0):
        self.text = text
        if any(brk in text for brk in OTHER_BREAKS):
            parts = re.split(_LINE_BREAK, text)
            self.lines: List[str] = parts[0::2]
            self.ends: List[str] = parts[1::2] + [""]  # the last line has none
            counts = {end: self.ends.count(end) for end in set(self.ends[:-1])}
            self.newline = max(counts, key=lambda end: (counts[end], end == "\n")) if counts else "\n"
            self.lf_only = False
        else:
            self.lines = text.split("\n")
            self.ends = ["\n"] * (len(self.lines) - 1) + [""]
            self.newline = "\n"
            self.lf_only = True
        self.crlf = self.newline == "\r\n"  # the text's usual line end is CRLF
        # the nodes were read from a longer text, in which this one starts at line `offset`: as many
        # blank lines stand before it here, so that their line numbers are this buffer's
        self.offset = offset
        if offset:
            self.lines[:0] = [""] * offset
            self.ends[:0] = ["\n"] * offset
        self.edits: List[Tuple[int, int, int, List[str]]] = []  # start, end, seq, new lines
        self.indent_sequences = True  # new block sequences indented (`  - x`) or compact (`- x`)

    # -- reading -------------------------------------------------------------------------------------
    def line(self, n: int) -> str:
        """Line `n` (0-based) of the original text, without its line end."""
        return self.lines[n]

    def last_line(self, node: Node) -> int:
        """The last line that carries this node's own text (not trailing blanks or comments)."""
        if is_alias(node):
            return node.end_mark.line  # its `*name` token: the value it reads stands elsewhere
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

    def after(self, node: Node) -> int:
        """The line right after the node's last line: where its lines end (exclusive), where to add after it."""
        return self.last_line(node) + 1

    def dash(self, item: Node) -> Tuple[int, int]:
        """(column, line) of the `-` that introduces a block sequence item.

        Comments may stand between the dash and the item: `- # note` on the dash's line,
        or whole-line comments.
        """
        line = item.start_mark.line
        column = item.start_mark.column
        while line >= 0:
            text = self.line(line)[:column] if line == item.start_mark.line else self.line(line)
            stripped = text.rstrip()
            if stripped.endswith("-") and (len(stripped) == 1 or stripped[-2] in " -"):
                return len(stripped) - 1, line
            if line != item.start_mark.line:
                dashed = re.match(r"^( *)-[ \t]+#", stripped)  # compiled on first use, not at import
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

    def dash_column(self, item: Node) -> int:
        """The column of the `-` that introduces a block sequence item (see `dash`)."""
        return self.dash(item)[0]

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

    def block(self, value: Any, indent: int) -> List[str]:
        """`value` (a mapping or a list) as block-style lines at `indent`, in the document's sequence style."""
        pad = " " * indent
        lines = dump_block(value, self.indent_sequences)
        # a top-level list comes out with the dash offset: items must start at `indent`
        strip = min(len(line) - len(line.lstrip(" ")) for line in lines if line) if isinstance(value, list) else 0
        return [pad + line[strip:] if line else line for line in lines]

    # -- editing -------------------------------------------------------------------------------------
    def edit(self, start: int, end: int, new_lines: List[str]) -> None:
        """Replace lines start..end-1 of the original text with `new_lines` (start == end: insert)."""
        self.edits.append((start, end, len(self.edits), new_lines))

    def insert(self, at: int, new_lines: List[str]) -> None:
        """Insert `new_lines` before line `at` of the original text."""
        self.edit(at, at, new_lines)

    def apply(self) -> str:
        """The text with every recorded edit applied (the very text when there is none)."""
        if not self.edits:
            return self.text
        lines = list(self.lines)
        ends = list(self.ends)
        # bottom-up so earlier line numbers stay valid; equal starts: the later edit first
        for start, end, _, new in sorted(self.edits, key=lambda e: (e[0], e[2]), reverse=True):
            lines[start:end] = new
            ends[start:end] = [self.newline] * len(new)
        if self.offset:  # no edit goes before the text's first line
            del lines[:self.offset], ends[:self.offset]
        if not lines:
            return ""
        if self.lf_only:
            return "\n".join(lines)  # the common case, and what the general join below gives for it
        # every line but the last ends with a line break (an old last line that got a line after it
        # takes the usual one); the last never does, as in the text
        ends = [end or self.newline for end in ends[:-1]] + [""]
        return "".join(text + end for text, end in zip(lines, ends))
