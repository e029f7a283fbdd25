"""One block sequence item patched as a document of its own (KRM mode's ResourceList items).

The item's lines are cut out and dedented to column 0, composed and patched alone, and
only the lines that changed are written back at the item's indentation. So comments
(kpt writes `- # Source: ...` above each item), quoting and block scalars stay; an item
that does not read back the same on its own, or that cannot be patched, is rewritten
whole in block style at its place: only that item loses its layout.
"""
from __future__ import annotations

from typing import Any, List, Tuple

from ruamel.yaml.nodes import Node

from ..errors import PostrenderError, Where
from ..yamlio import compose, dump_block, to_data
from .align import opcodes
from .lines import CannotSplice, LineBuffer
from .tree import DuplicateEdit, patch


def patch_item(buffer: LineBuffer, item: Node, old: Any, new: Any) -> Tuple[DuplicateEdit, ...]:
    """Record on `buffer` the edit that makes `item` (whose value is `old`) say `new`.

    Returns the repeated keys the edit touched, their lines counted from the item's first line.
    """
    first, end = item.start_mark.line, buffer.after(item)
    column = item.start_mark.column
    region = [buffer.line(n) for n in range(first, end)]
    prefix = region[0][:column]
    try:
        sub = [region[0][column:]] + [line[column:] if not line[:column].strip() else _only_comment(line)
                                      for line in region[1:]]
        sub_text = "\n".join(sub) + "\n"
        sub_root = compose(sub_text, Where())
        assert sub_root is not None  # the text starts with the item's dash: a sequence
        if to_data(sub_root) != old:
            raise CannotSplice("the item does not read back the same on its own")
        patched = patch(sub_text, sub_root, new)
        new_sub = patched.text.split("\n")[:-1]
    except (CannotSplice, PostrenderError):
        lines = dump_block(new, buffer.indent_sequences)
        rest = [" " * column + line if line else line for line in lines[1:]]
        buffer.edit(first, end, [prefix + lines[0]] + rest)
        return ()
    out: List[str] = []
    for op, i1, i2, j1, j2 in opcodes(sub, new_sub):
        if op == "equal":
            out += region[i1:i2]
        else:
            out += [(prefix if j == 0 else " " * column) + line if line else line
                    for j, line in zip(range(j1, j2), new_sub[j1:j2])]
    if out != region:
        buffer.edit(first, end, out)
    return patched.duplicates


def _only_comment(line: str) -> str:
    """A line inside an item that is indented less than the item: only a comment may be."""
    if line.strip() and not line.lstrip().startswith("#"):
        raise CannotSplice("a line of the item is indented less than the item")
    return line.lstrip()
