"""Batching: many small documents read at a time, where the result cannot tell.

A libyaml parser costs more than a tiny document's text, so a stream of very many
tiny documents would cost far more per byte than any other if each were read
alone. The reader hands out `Batch`es (documents in a row that cannot be
targets); `grouped` gathers the small chunks between them into `Group`s of one
kind: documents that cannot be targets (`COPIED`: syntax-checked in one libyaml
pass and copied as one piece) and candidates (`COMPOSED`: composed with one
parser, `aligned` with their chunks). The pipeline reads what does not parse
cleanly document by document, so an error names its document and line as ever.

`Pipeline(batch=False)` reads every document alone (`alone`): the reference the
tests compare the batched path against.
"""
from __future__ import annotations

from typing import Iterable, Iterator, List, Optional, Tuple, Union

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node, ScalarNode

from .read import Batch, Chunk, Piece
from .targets import is_candidate
from .yamlio import MAX_DEPTH

# Documents up to SMALL_BYTES are gathered, into groups of up to GROUP_BYTES.
SMALL_BYTES = 16 * 1024
GROUP_BYTES = 256 * 1024
COPIED = "copied"  # documents that cannot be targets: checked together, copied as one piece
COMPOSED = "composed"  # candidates: composed with one parser


class Group:
    """Small chunks in a row that are read together (`how`: COPIED or COMPOSED)."""

    def __init__(self, how: str, chunks: List[Chunk]) -> None:
        self.how = how
        self.chunks = chunks

    @property
    def index(self) -> int:
        return self.chunks[0].index

    def batch(self) -> Batch:
        """The chunks as one Batch of documents."""
        first = self.chunks[0]
        return Batch(first.index, first.first_line, b"".join(chunk.raw for chunk in self.chunks), len(self.chunks))


def gathered(raw: bytes) -> Optional[str]:
    """Can this chunk be read together with its neighbours, and how? A small document with no
    directive and few flow brackets: COPIED or COMPOSED; None for any other."""
    if len(raw) > SMALL_BYTES or raw[:1] == b"%" or b"\n%" in raw or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH // 2:
        return None
    return COMPOSED if is_candidate(raw) else COPIED


def grouped(pieces: Iterable[Piece]) -> Iterator[Union[Piece, Group]]:
    """The pieces in stream order, small chunks of one kind in a row gathered into Groups. When
    reading fails further down, the group read so far comes out first (its error comes first)."""
    group: Optional[Group] = None
    size = 0
    items = iter(pieces)
    while True:
        try:
            piece = next(items)
        except StopIteration:
            break
        except BaseException:
            if group is not None:
                yield group
            raise
        how = gathered(piece.raw) if isinstance(piece, Chunk) else None
        if group is not None and how == group.how and size < GROUP_BYTES:
            assert isinstance(piece, Chunk)
            group.chunks.append(piece)
            size += len(piece.raw)
            continue
        if group is not None:
            yield group
            group = None
        if how is not None:
            assert isinstance(piece, Chunk)
            group, size = Group(how, [piece]), len(piece.raw)
        else:
            yield piece
    if group is not None:
        yield group


def alone(pieces: Iterable[Piece]) -> Iterator[Chunk]:
    """Every document on its own: the reference for what batching must not change."""
    for piece in pieces:
        if isinstance(piece, Batch):
            yield from piece.chunks()
        else:
            yield piece


def aligned(group: List[Chunk], roots: Iterator[Node], first_line: int) -> Iterator[Tuple[Chunk, Optional[Node]]]:
    """Each chunk of a group with the root libyaml composed of it (None for comments only), from the
    start for as long as the two agree. A root is taken only once the parser has read on past its
    document (what is wrong just after a document is that document's error); at the first error
    or disagreement, stop: the rest is read alone."""
    try:
        ahead = next(roots, None)
        for chunk in group:
            if chunk.blank and not chunk.raw.startswith(b"---"):
                yield chunk, None  # no document at all for libyaml
                continue
            root, ahead = ahead, next(roots, None)
            if root is None:
                return
            if chunk.blank:  # a `---` and comments: an empty document
                if not (isinstance(root, ScalarNode) and (root.tag or "").endswith(":null") and root.value == ""):
                    return
                yield chunk, None
                continue
            top = first_line + root.start_mark.line
            if not chunk.first_line <= top <= chunk.first_line + chunk.raw.count(b"\n"):
                return  # pragma: no cover - a chunk is one document: this would be a bug
            yield chunk, root
    except YAMLError:
        return
