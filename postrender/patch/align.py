"""Aligning an old list with a new one: difflib's opcodes, the common cases without difflib.

An edit nearly always changes a list in one place: a volume or a mount added at the end, a
logs volume replaced by a claim, a few lines of an embedded pod template. Then the common
head and tail say it all, and the opcodes are those `difflib.SequenceMatcher` would give
(exactly so when no item repeats; with repeats, an alignment as good). Where what is replaced
and what replaces it share an item there were several changes, and difflib itself tells them
apart, imported then: a run that changes each list in one place never loads it.
"""
from __future__ import annotations

from typing import Hashable, List, Sequence, Tuple

Opcode = Tuple[str, int, int, int, int]


def opcodes(old: Sequence[Hashable], new: Sequence[Hashable]) -> Sequence[Opcode]:
    """Opcodes in `difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()`'s form
    that turn `old` into `new`."""
    start, old_end, new_end = 0, len(old), len(new)
    while start < old_end and start < new_end and old[start] == new[start]:
        start += 1
    while old_end > start and new_end > start and old[old_end - 1] == new[new_end - 1]:
        old_end -= 1
        new_end -= 1
    removed, added = old_end - start, new_end - start
    if removed and added and not set(old[start:old_end]).isdisjoint(new[start:new_end]):
        # what is replaced and what replaces it share items: several changes, which difflib tells apart
        import difflib

        return difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    codes: List[Opcode] = []
    if start:
        codes.append(("equal", 0, start, 0, start))
    if removed or added:
        codes.append(("replace" if removed and added else "delete" if removed else "insert",
                      start, old_end, start, new_end))
    if old_end < len(old):
        codes.append(("equal", old_end, len(old), new_end, len(new)))
    return codes
