"""Write step: turn "old node tree + new plain value" into the smallest text edit.

Instead of re-dumping a changed document (which would reorder keys, drop comments and
requote strings), the old tree is walked beside the new value and only what differs is
rewritten, at the line and column libyaml reported. New fragments come from
`yamlio.dump_block` in the document's own sequence-indentation style.

* `lines`  `LineBuffer`: the text's lines, the edits recorded against them, where a node's lines
           and a sequence item's dash are; `apply()` gives the edited text
* `tree`   `TreePatcher`: the walk that records the edits on a LineBuffer (mappings, sequences,
           scalars, repeated keys); `patch` / `patch_text`: a whole document patched so
* `align`  `opcodes`: how an old list turns into a new one (difflib's form; difflib only when it must)
* `region` `patch_item`: one block sequence item patched as a document of its own (KRM mode's items)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .lines import CannotSplice, LineBuffer
from .tree import AliasConflict, DuplicateEdit, Patch, TreePatcher, check_aliases, patch, patch_text, same

if TYPE_CHECKING:
    from .region import patch_item

__all__ = ["AliasConflict", "CannotSplice", "DuplicateEdit", "LineBuffer", "Patch", "TreePatcher", "check_aliases",
           "patch", "patch_item", "patch_text", "same"]


def __getattr__(name: str) -> Any:
    """`patch_item` from patch/region.py, imported when first asked for: only KRM mode uses it."""
    if name == "patch_item":
        from .region import patch_item

        return patch_item
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
