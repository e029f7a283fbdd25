"""The stream reader against a line-by-line model, whatever the block size and short reads.

The reader finds document boundaries a block at a time; the model below walks the stream
one line at a time, as the contract states the rule: a document starts at a column-0 `---`
line (unless only directives, comments and blank lines precede it in the document), ends
after a `...` line, and a BOM at the very start is taken off.
"""
import io
import re
from typing import List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postrender import read
from postrender.pipeline import pieces
from postrender.read import Stream

BOM = b"\xef\xbb\xbf"
START = re.compile(rb"---(?:[ \t\r\n]|$)")
END = re.compile(rb"\.\.\.(?:[ \t\r\n]|$)")


def model(data: bytes) -> Tuple[bool, List[Tuple[int, bytes]]]:
    """(BOM?, [(first line, raw)]) by walking lines."""
    bom = data.startswith(BOM)
    lines = io.BytesIO(data[len(BOM):] if bom else data).readlines()
    chunks: List[Tuple[int, bytes]] = []
    pieces: List[bytes] = []
    first, directive = 0, False
    for number, line in enumerate(lines):
        prologue = all(p[:1] in (b"%", b"#") or not p.strip() for p in pieces)
        if START.match(line) and pieces and not (directive and prologue):
            chunks.append((first, b"".join(pieces)))
            pieces, first, directive = [], number, False
        pieces.append(line)
        directive = directive or line.startswith(b"%")
        if END.match(line):
            chunks.append((first, b"".join(pieces)))
            pieces, first, directive = [], number + 1, False
    if pieces:
        chunks.append((first, b"".join(pieces)))
    return bom, chunks


class Trickle(io.RawIOBase):
    """A source that hands out at most `step` bytes per read, as a slow pipe would."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.data[self.pos:self.pos + min(len(buffer), self.step)]
        buffer[:len(piece)] = piece
        self.pos += len(piece)
        return len(piece)


def chunks_of(source, monkeypatch, block: int):
    monkeypatch.setattr(read, "_BLOCK", block)
    stream = Stream(source)
    chunks = [(c.first_line, c.raw) for c in stream]
    return stream.bom, chunks


LINES = [b"---\n", b"--- |\n", b"---x\n", b" ---\n", b"...\n", b"... # end\n", b"....\n", b"%YAML 1.2\n",
         b"%TAG ! x\n", b"# comment\n", b"\n", b"\r\n", b"kind: Pod\n", b"a: b\r\n", b"  - x\n", b"---", b"...",
         b"x" * 50 + b"\n", b"x" * 50]


@settings(max_examples=400, deadline=None)
@given(st.booleans(), st.lists(st.sampled_from(LINES), max_size=30), st.integers(1, 40), st.integers(1, 9))
def test_splits_documents_as_the_line_model_for_any_block_size_and_short_reads(bom, lines, block, step):
    data = (BOM if bom else b"") + b"".join(lines)
    expected = model(data)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert chunks_of(io.BytesIO(data), monkeypatch, block) == expected
        assert chunks_of(io.BufferedReader(Trickle(data, step)), monkeypatch, block) == expected
        assert chunks_of(Trickle(data, step), monkeypatch, block) == expected


def test_a_line_longer_than_many_blocks_stays_in_its_document(monkeypatch):
    data = b"---\na: " + b"x" * 10_000 + b"\n---\nb: 1\n"
    assert chunks_of(io.BytesIO(data), monkeypatch, 64) == model(data)


def numbered(chunks):
    return [(index, first, raw) for index, (first, raw) in enumerate(chunks, 1)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LINES + [b"kind: Deployment\n", b"... \n", b"...\r\n"]), max_size=40),
       st.integers(8, 64))
def test_batches_hold_the_documents_the_line_model_finds_numbered_as_in_the_stream(lines, block):
    data = b"".join(lines)
    _, expected = model(data)
    found = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(read, "_BLOCK", block)
        for piece in pieces(Stream(io.BytesIO(data))):
            if isinstance(piece, read.Batch):
                inner = [(c.index, c.first_line, c.raw) for c in piece.chunks()]
                assert len(inner) == piece.count and b"".join(r for _, _, r in inner) == piece.raw
                assert b"Deployment" not in piece.raw
                found += inner
            else:
                found.append((piece.index, piece.first_line, piece.raw))
    assert found == numbered(expected)


def test_documents_that_end_with_a_marker_before_the_next_one_make_one_batch():
    data = b"---\na: 1\n...\n" * 1000 + b"---\nb: 2\n"
    first = next(iter(pieces(Stream(io.BytesIO(data)))))
    assert isinstance(first, read.Batch) and first.count == 1000
