"""Read step: split the manifest stream into documents without parsing them.

A document starts at a line that begins with `---` (column 0 only: the
Airflow pod template holds an indented `---`) and ends before the next one,
or after a `...` end marker. A line starts after any line break libyaml
reads (LF, CRLF, and a lone CR, NEL, U+2028 and U+2029): the documents are the
ones libyaml sees. Rendered manifests hold LF or CRLF only; a block of such
lines looks for markers after LF alone. Each chunk keeps its exact bytes, so untouched
documents are written back byte for byte. A UTF-8 BOM is taken off the
first chunk and remembered.

`Stream.pieces` also hands out `Batch`es: documents in a row that hold none of the
words that could make one a target, found with a few searches that each read a
block about once (`_stops`), and kept as one piece of bytes. A stream of millions
of tiny documents then costs no Python object (and no Python step) per document.

A document over MAX_DOCUMENT is refused as soon as the reader has read that much
of it (never held, decoded or composed whole), unless it is the stream's first
document with content and names itself a ResourceList in that much: a
ResourceList is not capped (its items are, see `krm`).
"""
from __future__ import annotations

import codecs
import functools
import itertools
import re
from typing import BinaryIO, Iterator, List, Optional, Pattern, Sequence, Tuple, Union

from .collector import input_read
from .errors import InputError, Where
from .words import FirstMatch, word_searches
from .yamlio.breaks import ODD_BREAK_UTF8

BOM = b"\xef\xbb\xbf"
_ODD = ODD_BREAK_UTF8.pattern  # a lone CR, NEL, U+2028, U+2029: libyaml breaks lines there too
# Patterns for what is rare (odd line breaks, a refused document) are compiled on first use (re caches them).
_LINE_END = rb"\n|" + _ODD  # where a line ends, for libyaml (a CRLF at its LF)
# A line that starts or ends a document (`---`, `...`: followed by a blank, a line break or the
# end, as libyaml has it) or holds a directive (`%YAML`).
_MARKER = rb"(?:---|\.\.\.)(?:[ \t\r\n]|\xc2\x85|\xe2\x80[\xa8\xa9]|\Z)|%"
_LINE_MARK = re.compile(_MARKER)
_MARK = re.compile(rb"\n(?=%s)" % _MARKER)  # the line break before such a line
_ODD_MARK = rb"(?:\n|%s)(?=%s)" % (_ODD, _MARKER)  # the same, where odd breaks stand
_BLOCK = 1 << 20  # read this much at a time: memory stays flat, chunk boundaries are found in C
_LONG_LINE = 1 << 20  # a line this long is read in parts (at least 4 bytes: a marker's length)
# Kubernetes stores no object over 1.5 MiB: a larger document is a mistake or an attack, and
# composing it would cost a hundred times its size
MAX_DOCUMENT = 8 * 1024 * 1024
# A top-level `kind: ResourceList` line: the document is meant as a ResourceList even if it does not parse.
_RESOURCE_LIST_LINE = rb"""(?m)^["']?kind["']?[ \t]*:[ \t]*["']?ResourceList["']?[ \t]*(?:#.*)?\r?$"""
_HEAD = 64 * 1024  # where a refused document's kind and name are looked for
_KIND = rb"""(?m)^["']?kind["']?[ \t]*:[ \t]*["']?([\w.-]+)"""
_METADATA_NAME = rb"""(?m)^metadata:[ \t]*\r?\n(?:[ \t]+.*\n)*?[ \t]+name:[ \t]*["']?([\w.-]+)"""
# A line that is not blank, not a comment, not a bare `---` (or `--- # comment`) and not `...`.
_WS = rb"[ \t\r\x0b\x0c]"
_CONTENT = re.compile(rb"^(?!%s*(?:#|$))(?!(?:---|\.\.\.)(?:%s+(?:#.*)?)?$)" % (_WS, _WS), re.MULTILINE)
_UTF8_STEP = 1 << 20  # validate large chunks a slice at a time: memory stays flat
# What ends a batch of documents besides a word that may make a document a target (`_stops`): a
# directive, a `---` that starts no document, and a `...` line that the next document's `---` does
# not follow at once (the batch's documents are counted by their `---` lines; what follows a `...`
# before the next `---` is a document of its own). A line break starts each: the engine skips to them.
_LINE_STOP = re.compile(rb"\n(?:%|\.\.\.(?!\r?\n---[ \t\r\n])(?:[ \t\r\n]|\Z)|---[^ \t\r\n])")


def invalid_utf8(raw: bytes) -> Optional[int]:
    """Offset of the first byte that is not valid UTF-8 in `raw`, or None."""
    if raw.isascii():
        return None
    pos, size = 0, len(raw)
    while pos < size:
        end = pos + _UTF8_STEP
        try:
            _, used = codecs.utf_8_decode(raw[pos:end], "strict", end >= size)
        except UnicodeDecodeError as exc:
            return pos + exc.start
        pos += used
    return None


def _utf8_error(raw: bytes, offset: int, index: int, first_line: int) -> InputError:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    line = first_line + raw.count(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return InputError(f"not valid UTF-8 (byte 0x{raw[offset]:02x})", Where(document=index, line=line, column=column),
                      hint="Kubernetes manifests must be UTF-8")


def odd_breaks(raw: bytes) -> bool:
    """Does `raw` hold a line break other than LF and CRLF? (Byte searches: a regex would take
    longer than the split itself.)"""
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return True
    return not raw.isascii() and (b"\xc2\x85" in raw or b"\xe2\x80\xa8" in raw or b"\xe2\x80\xa9" in raw)


def _blank(raw: bytes) -> bool:
    """Only separators, comments and blank lines: nothing to parse (lines as libyaml reads them:
    an odd line break may end a comment before content, or content before a bare `...`)."""
    if (b"\r" not in raw and raw.isascii()) or not odd_breaks(raw):  # the first test: most documents, at once
        return _CONTENT.search(raw) is None
    return _CONTENT.search(ODD_BREAK_UTF8.sub(b"\n", raw)) is None


class Chunk:
    """One document of the stream, as read."""

    __slots__ = ("index", "first_line", "raw")  # a stream may hold millions of tiny documents
    count = 1  # documents in it (as a Batch's)

    def __init__(self, index: int, first_line: int, raw: bytes) -> None:
        self.index = index  # 1-based document number
        self.first_line = first_line  # 0-based stream line of the chunk's first line
        self.raw = raw

    @property
    def where(self) -> Where:
        return Where(document=self.index, line=self.first_line + 1)

    def text(self) -> str:
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _utf8_error(self.raw, exc.start, self.index, self.first_line) from None

    @property
    def blank(self) -> bool:
        return _blank(self.raw)


class Batch:
    """Whole documents in a row, valid UTF-8, none of which holds a word of the pattern given to
    `Stream.pieces` (so none can be a target), nor a directive; a `...` line only right before a `---`."""

    __slots__ = ("index", "first_line", "raw", "count")

    def __init__(self, index: int, first_line: int, raw: bytes, count: int) -> None:
        self.index = index  # 1-based number of its first document
        self.first_line = first_line  # 0-based stream line of its first line
        self.raw = raw
        self.count = count  # documents in it

    @property
    def where(self) -> Where:
        return Where(document=self.index, line=self.first_line + 1)

    @property
    def blank(self) -> bool:
        return _blank(self.raw)

    def chunks(self) -> Iterator[Chunk]:
        """Its documents one by one, numbered as in the stream."""
        return iter(Stream(_Reader(memoryview(self.raw)), resume=(self.index - 1, self.first_line)))


Piece = Union[Chunk, Batch]


class Stream:
    """Iterates the chunks of a binary stream; `bom` tells if the stream began with one.

    `resume` reads bytes that continue a stream already split (`Held`): no BOM is looked for, and
    the chunks are numbered on from `index` and `first_line`.
    """

    def __init__(self, source: Union[BinaryIO, "_Reader"], resume: Optional[Tuple[int, int]] = None,
                 limit: Optional[int] = MAX_DOCUMENT):
        self.source = source
        self.bom = False
        self.resume = resume
        self.limit = limit  # the largest document read (None: no limit)

    def _blocks(self) -> Iterator[Tuple[bytes, bool]]:
        """The stream in blocks of whole lines (the last may lack its line break), BOM taken off, each
        with whether it goes on with a line that the block before began: a line longer than a block
        comes in parts (a document in one line must not be held whole before its size is seen)."""
        tail: List[bytes] = []  # the start of a line that has not ended yet
        tail_size = 0
        continued = False
        head = self.resume is None
        total = 0
        while True:
            data = self.source.read(_BLOCK)
            total += len(data)
            input_read(total)
            if head and data:
                while len(data) < len(BOM) and BOM.startswith(data):  # short reads inside a BOM
                    more = self.source.read(len(BOM) - len(data))
                    if not more:
                        break
                    data += more
                head = False
                if data.startswith(BOM):
                    self.bom = True
                    data = data[len(BOM):]
                    if not data:
                        continue
            if not data:
                if tail:
                    yield b"".join(tail), continued
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                tail.append(data)
                tail_size += len(data)
                if tail_size >= _LONG_LINE:  # past the line's start: no marker stands at the cut
                    yield b"".join(tail), continued
                    tail, tail_size, continued = [], 0, True
                continue
            tail.append(data[:cut])
            yield b"".join(tail), continued
            tail = [data[cut:]] if cut < len(data) else []
            tail_size, continued = len(data) - cut, False

    def __iter__(self) -> Iterator[Chunk]:
        """Chunks in stream order; raises InputError at the first byte that is not UTF-8."""
        return self._split(None)  # type: ignore[return-value]

    def pieces(self, words: Sequence[bytes]) -> Iterator[Piece]:
        """Chunks and Batches in stream order: documents where none of `words` stands whole come in Batches."""
        return self._split(words)

    def _split(self, words: Optional[Sequence[bytes]]) -> Iterator[Piece]:
        parts: List[bytes] = []  # the current chunk's bytes from earlier blocks
        held = 0  # their size
        index, first_line = self.resume or (0, 0)
        directive = False  # a `%YAML`/`%TAG` line: it belongs to the document its `---` starts
        content = self.resume is not None  # a chunk with content went by (a resumed stream is past its first)
        limit = self.limit
        for block, continued in self._blocks():
            start = 0  # where the current chunk starts in this block
            # lines start after LF alone, unless the block holds a line break libyaml also reads
            odd = odd_breaks(block)
            mark = re.compile(_ODD_MARK) if odd else _MARK
            stops = None if words is None else _stops(block, words, odd)
            line_start: Optional[int] = 0 if not continued and _LINE_MARK.match(block) else _next_mark(mark, block, 0)
            while line_start is not None:
                marker = block[line_start:line_start + 1]
                if marker == b"%":
                    directive = True
                    line_start = _next_mark(mark, block, line_start)
                    continue
                if marker == b"-":
                    if line_start == start and not parts:  # nothing before it: the `---` opens the chunk
                        batch = _batch(block, line_start, stops, index, first_line) if stops is not None else None
                        if batch is not None:  # the `---` at its end opens the next chunk
                            content = content or not batch.blank
                            yield batch
                            index += batch.count
                            first_line += batch.raw.count(b"\n")
                            start = line_start = line_start + len(batch.raw)
                        line_start = _next_mark(mark, block, line_start)
                        continue
                    if directive and _only_directives(parts + [block[start:line_start]]):
                        line_start = _next_mark(mark, block, line_start)
                        continue
                    cut = line_start
                else:  # `...` ends its document, its own line included
                    cut = _line_end(mark, block, line_start)
                parts.append(block[start:cut])
                if limit is not None and held + cut - start > limit:
                    limit = _limit(parts, limit, content, index + 1, first_line)
                raw = b"".join(parts)
                parts, held, start, directive = [], 0, cut, False
                index += 1
                chunk = _checked(Chunk(index, first_line, raw))
                content = content or not chunk.blank
                limit = self.limit
                yield chunk
                first_line += raw.count(b"\n")
                line_start = cut if marker == b"-" else _next_mark(mark, block, line_start)
            if start < len(block):
                parts.append(block[start:])
                held += len(block) - start
                if limit is not None and held > limit:
                    limit = _limit(parts, limit, content, index + 1, first_line)
        if parts:
            index += 1
            yield _checked(Chunk(index, first_line, b"".join(parts)))


def _limit(parts: List[bytes], limit: int, content: bool, index: int, first_line: int) -> Optional[int]:
    """A document grew past `limit` bytes (`parts` so far): refuse it, unless it is the first with
    content and a ResourceList by that much of it (uncapped: None is the limit from here on)."""
    head = b"".join(parts)[:limit]
    if not content and names_resource_list(head):
        return None
    where = Where(document=index, line=first_line + 1)
    kind, name = re.search(_KIND, head[:_HEAD]), re.search(_METADATA_NAME, head[:_HEAD])
    if kind is not None:
        where = where.but(obj=f"{_ascii(kind.group(1))}/{_ascii(name.group(1)) if name is not None else '?'}")
    raise too_large("document", limit, where)


def names_resource_list(raw: bytes) -> bool:
    """Does the text hold a top-level `kind: ResourceList` line? Then it is meant as a ResourceList,
    even if it does not parse."""
    return re.search(_RESOURCE_LIST_LINE, raw) is not None


def too_large(what: str, limit: int, where: Where) -> InputError:
    return InputError(f"{what} larger than {limit // (1024 * 1024)} MiB; refused", where,
                      hint="Kubernetes stores no object over 1.5 MiB: keep large data out of the manifests")


def _ascii(name: bytes) -> str:
    return name.decode("ascii", "replace")


def _next_mark(mark: Pattern[bytes], block: bytes, line_start: int) -> Optional[int]:
    """Where the next line after `line_start` that starts or ends a document or holds a directive
    begins (`mark`: `_MARK`, or `_ODD_MARK` in a block that holds an odd line break)."""
    found = mark.search(block, line_start)
    return found.end() if found is not None else None


def _line_end(mark: Pattern[bytes], block: bytes, line_start: int) -> int:
    """Where the line that starts at `line_start` ends, its line break included."""
    if mark is _MARK:
        return block.find(b"\n", line_start) + 1 or len(block)
    found = re.compile(_LINE_END).search(block, line_start)
    return found.end() if found is not None else len(block)


def _stops(block: bytes, words: Sequence[bytes], odd: bool) -> FirstMatch:
    """Where in one block a batch of documents must stop (`first(offset)`): at a `_LINE_STOP`, at a
    line break that makes a seemingly blank document hold content (see `blank`; `odd`: the block
    holds one), or at a word that may make a document a target. Each is sought on its own
    (together in one regex they would leave the engine nothing to skip to: several times slower
    over a render), and the next match of each is remembered, as a block is asked from ever later
    offsets."""
    patterns = [_LINE_STOP, ODD_BREAK_UTF8] if odd else [_LINE_STOP]
    searches = word_searches(block, words)
    searches += [functools.partial(_match_start, pattern, block) for pattern in patterns]
    return FirstMatch(len(block), searches)


def _match_start(pattern: Pattern[bytes], text: bytes, start: int) -> int:
    found = pattern.search(text, start)
    return -1 if found is None else found.start()


def _batch(block: bytes, at: int, stops: FirstMatch, index: int, first_line: int) -> Optional[Batch]:
    """The Batch of whole documents that starts at the `---` line at `at`: up to the `---` of the
    first document that holds a stop (or of the block's last document, which may go on in the
    next block). None when that leaves no document, or when they are not all UTF-8."""
    last = block.rfind(b"\n---", at, stops.first(at))
    if last < 0:
        return None
    raw = block[at:last + 1]
    if invalid_utf8(raw) is not None:
        return None  # the chunks say where
    # every `---` at a line start before `stop` starts a document (one that does not stops the batch)
    return Batch(index + 1, first_line, raw, 1 + raw.count(b"\n---"))


class _Reader:
    """A read-only file over part of a buffer, without copying it."""

    def __init__(self, view: memoryview):
        self.view = view
        self.at = 0

    def read(self, size: int) -> bytes:
        data = bytes(self.view[self.at:self.at + size])
        self.at += len(data)
        return data


class Held:
    """The pieces of a stream kept as their bytes only, end to end (a chunk object costs far more than
    a tiny document's text): the stream is split again from the bytes, by part, as it is needed.
    Where a piece ends at least every `STEP` bytes is noted, to cut there."""

    STEP = 64 * 1024

    def __init__(self) -> None:
        self.data = bytearray()
        self.count = 0  # documents held
        self.lines = 0  # line breaks in them
        self.ends: List[Tuple[int, int, int]] = []  # (documents, bytes, lines) up to a noted piece end
        self._next = self.STEP

    def add(self, piece: Piece) -> None:
        self.data += piece.raw
        self.count += piece.count
        self.lines += piece.raw.count(b"\n")
        if len(self.data) >= self._next:
            self.ends.append((self.count, len(self.data), self.lines))
            self._next = len(self.data) + self.STEP

    def __len__(self) -> int:
        return self.count

    @property
    def size(self) -> int:
        return len(self.data)

    def stream(self, start: int = 0, stop: Optional[int] = None) -> Stream:
        """The held documents from number `start` (0-based) up to `stop`, to be split again."""
        stop = self.count if stop is None else stop
        begin, end = self.offset(start), self.offset(stop)
        return Stream(_Reader(memoryview(self.data)[begin[0]:end[0]]), resume=(start, begin[1]))

    def offset(self, count: int) -> Tuple[int, int]:
        """(bytes, lines) of the first `count` documents."""
        if count == 0:
            return 0, 0
        if count == self.count:
            return len(self.data), self.lines
        for chunks, size, lines in self.ends:
            if chunks == count:
                return size, lines
        size = lines = 0  # a cut where no end was noted (tests cut anywhere): split again
        for chunk in itertools.islice(Stream(_Reader(memoryview(self.data)), resume=(0, 0)), count):
            size += len(chunk.raw)
            lines += chunk.raw.count(b"\n")
        return size, lines


def _only_directives(pieces: List[bytes]) -> bool:
    """Directives, comments and blank lines only: the prologue of the document that follows."""
    return all(line[:1] in (b"%", b"#") or not line.strip() for line in re.split(_LINE_END, b"".join(pieces)))


def _checked(chunk: Chunk) -> Chunk:
    offset = invalid_utf8(chunk.raw)
    if offset is not None:
        raise _utf8_error(chunk.raw, offset, chunk.index, chunk.first_line)
    return chunk



def first_content(pieces: Iterator[Piece]) -> Tuple[Optional[Piece], Iterator[Piece]]:
    """The first piece with content (None if there is none), and an iterator that still yields every piece."""
    seen = []
    for piece in pieces:
        seen.append(piece)
        if not piece.blank:
            return piece, itertools.chain(seen, pieces)
    return None, iter(seen)
