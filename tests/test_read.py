"""The stream reader against a line-by-line model, whatever the block size and short reads.

The reader finds document boundaries a block at a time; the model below walks the stream
one line at a time, as the contract states the rule: a document starts at a column-0 `---`
line (unless only directives, comments and blank lines precede it in the document), ends
after a `...` line, and a BOM at the very start is taken off. Lines end where libyaml ends
them: LF, CRLF, a lone CR, NEL, U+2028 and U+2029 (a chunk's first line still counts LFs).
"""
import io
import itertools
import re
from typing import List, Optional, Tuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from postrender import read
from postrender.pipeline import pieces
from postrender.read import Stream

BOM = b"\xef\xbb\xbf"
BREAK = rb"\r\n|\n|\r|\xc2\x85|\xe2\x80[\xa8\xa9]"  # what libyaml reads as a line break
LINE = re.compile(rb"(?s).*?(?:%s)|.+" % BREAK)
START = re.compile(rb"---(?:[ \t]|%s|$)" % BREAK)
END = re.compile(rb"\.\.\.(?:[ \t]|%s|$)" % BREAK)


def model(data: bytes) -> Tuple[bool, List[Tuple[int, bytes]]]:
    """(BOM?, [(first line, raw)]) by walking lines."""
    bom = data.startswith(BOM)
    lines = LINE.findall(data[len(BOM):] if bom else data)
    chunks: List[Tuple[int, bytes]] = []
    pieces: List[bytes] = []
    first, directive = 0, False

    def close() -> None:
        nonlocal pieces, first, directive
        raw = b"".join(pieces)
        chunks.append((first, raw))
        pieces, first, directive = [], first + raw.count(b"\n"), False

    for line in lines:
        prologue = all(p[:1] in (b"%", b"#") or not re.sub(BREAK, b"", p).strip() for p in pieces)
        if START.match(line) and pieces and not (directive and prologue):
            close()
        pieces.append(line)
        directive = directive or line.startswith(b"%")
        if END.match(line):
            close()
    if pieces:
        close()
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
         b"x" * 50 + b"\n", b"x" * 50,
         # line breaks libyaml reads besides LF and CRLF: a marker after one starts a line
         b"\r", b"---\r", b"...\r", b"# c\r", b"a: b\r", b"\xc2\x85", b"---\xc2\x85", b"\xe2\x80\xa8", b"%YAML 1.2\r",
         b"... \xe2\x80\xa9"]


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


# Where a batch stops, as one regex of every stop says it (several times slower than the reader's way)
ONE_STOP_REGEX = re.compile(rb"\n%|\n\.\.\.(?!\r?\n---[ \t\r\n])(?:[ \t\r\n]|\Z)|\n---[^ \t\r\n]|\r(?!\n)|\xc2\x85|"
                            rb"\xe2\x80[\xa8\xa9]|\b(?:ConfigMap|Deployment|Job)\b")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LINES + [b"kind: Deployment\n", b"x: Jobs\n", b"... \n", b"...\r\n", b"Job",
                                         b"\r\n---\n", b"\n...\n---\n"]), max_size=30),
       st.lists(st.integers(0, 400), max_size=8))
def test_a_batch_stops_where_one_regex_of_every_stop_would(lines, offsets):
    block = b"".join(lines)
    stops = read._stops(block, (b"ConfigMap", b"Deployment", b"Job"), read.odd_breaks(block))
    for at in sorted(min(offset, len(block)) for offset in offsets):  # a block is asked from ever later offsets
        found = ONE_STOP_REGEX.search(block, at)
        assert stops.first(at) == (len(block) if found is None else found.start())


def test_documents_that_end_with_a_marker_before_the_next_one_make_one_batch():
    data = b"---\na: 1\n...\n" * 1000 + b"---\nb: 2\n"
    first = next(iter(pieces(Stream(io.BytesIO(data)))))
    assert isinstance(first, read.Batch) and first.count == 1000


def libyaml_documents(text: bytes) -> List[list]:
    """Each document libyaml reads in `text`: its events' kinds and values (marks left out)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import DocumentEndEvent, DocumentStartEvent, StreamEndEvent, StreamStartEvent

    documents: List[list] = []
    for event in YAML(typ="safe", pure=False).parse(text.decode("utf-8")):
        if isinstance(event, DocumentStartEvent):
            documents.append([])
        elif not isinstance(event, (DocumentEndEvent, StreamStartEvent, StreamEndEvent)):
            documents[-1].append((type(event).__name__, getattr(event, "value", None)))
    return documents


AGREEMENT_LINES = LINES + [b"a: |\n", b"  x\n", b"b: 'q\n", b"  ---\n", b"- c\r", b"# c\xc2\x85", b"k: v\xe2\x80\xa9"]


def chunk_documents(data: bytes) -> Optional[List[list]]:
    """The documents of `data` read chunk by chunk as the pipeline reads them (blank chunks unparsed:
    an empty document where one opens with `---`), or None when a chunk is no YAML alone."""
    from ruamel.yaml.error import YAMLError

    found: List[list] = []
    for chunk in Stream(io.BytesIO(data)):
        if chunk.blank:
            found += [[("ScalarEvent", "")]] if chunk.raw.startswith(b"---") else []
            continue
        try:
            documents = libyaml_documents(chunk.raw)
        except YAMLError:
            return None
        assert len(documents) <= 1, chunk.raw  # none: line breaks only (read, to be safe)
        found += documents
    return found


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(AGREEMENT_LINES), max_size=25))
@example([b"---\n", b"...", b"  - x\n"])  # `...  - x` holds content: it was taken for a bare `...`
@example([b"---\n", b"...\n", b"\r", b"...\n"])  # a line break and `...` only: it was taken for content
def test_the_documents_are_the_ones_libyaml_reads_whatever_the_line_breaks(lines):
    from ruamel.yaml.error import YAMLError

    data = b"".join(lines)
    alone = chunk_documents(data)
    # comments, blank lines and `...` before the first document hold none (libyaml alone refuses
    # such a `...`, which YAML allows): read from the first chunk that may hold one
    lead = sum(len(c.raw) for c in itertools.takewhile(lambda c: c.blank and not c.raw.startswith(b"---"),
                                                       Stream(io.BytesIO(data))))
    try:
        whole = libyaml_documents(data[lead:])
    except YAMLError:
        whole = None
    # what the pipeline takes (every chunk reads alone) is what libyaml reads in the whole stream;
    # it may refuse more (a directive after a document's content stays in that document)
    if alone is not None and whole is None:
        # libyaml (YAML 1.1) alone refuses a document that follows `...` without a `---` of its own
        chunks = list(Stream(io.BytesIO(data)))
        assert any(END.match(LINE.findall(before.raw)[-1]) and not after.blank
                   and not (START.match(after.raw) or after.raw.startswith(b"%"))
                   for before, after in zip(chunks, chunks[1:])), alone
        return
    assert alone is None or alone == whole, (alone, whole)


def test_a_marker_after_a_lone_cr_starts_a_document_as_libyaml_reads_it():
    # the fuzz find (hypothesis seed 56): libyaml reads `---\r--- |` as two documents
    data = b"---\r\n---\r--- |\n\napiVersion: apps/v1\r\n"
    assert [(c.first_line, c.raw) for c in Stream(io.BytesIO(data))] == [
        (0, b"---\r\n"), (1, b"---\r"), (1, b"--- |\n\napiVersion: apps/v1\r\n")]
