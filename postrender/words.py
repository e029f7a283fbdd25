"""Whole words in bytes: no letter, digit or `_` on either side (a regex's `\\b`, ASCII).

Found with `bytes.find`, a word at a time: a regex of alternatives (`\\b(?:ConfigMap|Job|...)\\b`)
gives the engine no literal to skip to, so it tries every offset and reads a render several times
slower than a find per word. The candidate test (`targets.is_candidate`) and the reader's batches
(`read.Stream.pieces`) look for the kinds that may make a document a target; the reader asks a
block for the first of several searches from ever later offsets (`FirstMatch`).
"""
from __future__ import annotations

import functools
import heapq
from typing import Callable, List, Sequence, Tuple

_WORD_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")


def find_word(raw: bytes, word: bytes, start: int = 0) -> int:
    """Offset of the first whole `word` in `raw` from `start` on; -1 where none stands."""
    at = raw.find(word, start)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or raw[at - 1] not in _WORD_BYTES) and (end == len(raw) or raw[end] not in _WORD_BYTES):
            return at
        at = raw.find(word, at + 1)
    return -1


def holds_word(raw: bytes, words: Sequence[bytes]) -> bool:
    """Does one of `words` stand whole in `raw`?"""
    return any(find_word(raw, word) >= 0 for word in words)


class FirstMatch:
    """The first match of several searches (`search(start)`: where its first match from `start` on
    starts, -1 for none) in one text, asked from ever later offsets (the batches of a block): each
    search's next match is kept in a heap and sought again only once passed, so the text is read
    about once per search, and a question costs at most the searches it passed."""

    def __init__(self, size: int, searches: Sequence[Callable[[int], int]]) -> None:
        self.size = size  # the text's
        self.searches = searches
        self.since = 0
        self.heap: List[Tuple[int, int]] = [(-1, index) for index in range(len(searches))]  # (next match, search)

    def first(self, start: int) -> int:
        """Where the first match from `start` on starts; the text's size where none does."""
        heap = self.heap
        if start < self.since:  # asked from further back: what was found from `since` on says nothing there
            heap[:] = [(-1, index) for index in range(len(self.searches))]
        self.since = start
        while heap and heap[0][0] < start:
            index = heap[0][1]
            at = self.searches[index](start)
            heapq.heapreplace(heap, (self.size if at < 0 else at, index))
        return heap[0][0] if heap else self.size


def word_searches(raw: bytes, words: Sequence[bytes]) -> List[Callable[[int], int]]:
    """A search for each whole word in `raw`, for FirstMatch."""
    return [functools.partial(find_word, raw, word) for word in words]
