"""Read step: split the manifest stream into documents without parsing them.

A document starts at a line that begins with `---` (column 0 only: the
Airflow pod template holds an indented `---`) and ends before the next one,
or after a `...` end marker. Each chunk keeps its exact bytes, so untouched
documents are written back byte for byte. A UTF-8 BOM is taken off the
first chunk and remembered.
"""
import itertools
import re
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Optional, Tuple

from .errors import InputError, Where

BOM = b"\xef\xbb\xbf"
_START = re.compile(rb"---(?:[ \t\r\n]|$)")
_END = re.compile(rb"\.\.\.(?:[ \t\r\n]|$)")


@dataclass
class Chunk:
    index: int  # 1-based document number
    first_line: int  # 0-based stream line of the chunk's first line
    raw: bytes

    @property
    def where(self) -> Where:
        return Where(document=self.index, line=self.first_line + 1)

    def text(self) -> str:
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = self.first_line + self.raw[: exc.start].count(b"\n") + 1
            raise InputError(f"not valid UTF-8 (byte 0x{self.raw[exc.start]:02x})",
                             Where(document=self.index, line=line),
                             hint="Kubernetes manifests must be UTF-8") from None

    @property
    def blank(self) -> bool:
        """Only a separator, comments and blank lines: nothing to parse."""
        for line in self.raw.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith(b"#") and not _START.match(line) and not _END.match(line):
                return False
            if _START.match(line) and line[3:].strip() and not line[3:].strip().startswith(b"#"):
                return False
        return True


class Stream:
    """Iterates the chunks of a binary stream; `bom` tells if the stream began with one."""

    def __init__(self, source: BinaryIO):
        self.source = source
        self.bom = False

    def __iter__(self) -> Iterator[Chunk]:
        pieces = []
        index, line_no, first_line = 0, 0, 0
        first = True
        for line in self.source:
            if first:
                first = False
                if line.startswith(BOM):
                    self.bom = True
                    line = line[len(BOM):]
            marker = line[:3]  # cheap test first: most lines are neither marker
            if marker == b"---" and pieces and _START.match(line):
                index += 1
                yield Chunk(index, first_line, b"".join(pieces))
                pieces, first_line = [], line_no
            pieces.append(line)
            line_no += 1
            if marker == b"..." and _END.match(line):
                index += 1
                yield Chunk(index, first_line, b"".join(pieces))
                pieces, first_line = [], line_no
        if pieces:
            index += 1
            yield Chunk(index, first_line, b"".join(pieces))



def first_content(chunks: Iterator[Chunk]) -> Tuple[Optional[Chunk], Iterator[Chunk]]:
    """The first chunk with content (None if there is none), and an iterator that still yields every chunk."""
    seen = []
    for chunk in chunks:
        seen.append(chunk)
        if not chunk.blank:
            return chunk, itertools.chain(seen, chunks)
    return None, iter(seen)
