"""Whole words in bytes: no letter, digit or `_` on either side (a regex's `\\b`, ASCII).

Found with `bytes.find`, a word at a time: a regex of alternatives (`\\b(?:ConfigMap|Job|...)\\b`)
gives the engine no literal to skip to, so it tries every offset and reads a render five times
slower than a find per word. The reader (`read.Stream.pieces`) and the candidate test
(`targets.is_candidate`) look for the kinds that may make a document a target.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

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


class WordSearch:
    """The first of several whole words in one text, asked from ever later offsets (the batches of
    a block): each word's next match is remembered, so the text is read about once per word."""

    def __init__(self, raw: bytes, words: Sequence[bytes]) -> None:
        self.raw = raw
        self.words = words
        self.found: Dict[bytes, Tuple[int, int]] = {}  # word -> (searched from, its next match or len(raw))

    def first(self, start: int) -> int:
        """Offset of the first whole word from `start` on; len(raw) where none stands."""
        first = size = len(self.raw)
        for word in self.words:
            since, at = self.found.get(word, (size + 1, size))
            if not since <= start <= at:  # not searched yet, or the remembered match lies behind
                at = find_word(self.raw, word, start)
                at = size if at < 0 else at
                self.found[word] = (start, at)
            if at < first:
                first = at
        return first
