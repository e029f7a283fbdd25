"""Two processes for one stream, when that pays off: where to cut, and when not to.

Composing YAML is most of a run and the GIL keeps it on one core. A stream of
a few hundred KB to a few MB (many releases in CI, an umbrella chart) is read
whole and cut in two at a document boundary; `fork` transforms the second part
in a child while this process does the first. The output is the same as one
pipeline's over the whole stream: the tests compare both on every capture and
on random streams.

Larger streams stay on the streaming path (memory stays flat), so do small
ones (a fork costs more than it saves), and so does everything where fork is
missing or only one CPU is usable.
"""
import itertools
import os
from typing import BinaryIO, Iterable, Iterator, List, Optional, Tuple, Union

from .pipeline import transform as transform_streaming
from .read import Chunk, Stream
from .report import Result
from .spec import Spec
from .write import Output

MIN_BYTES = 256 * 1024  # below this the fork and the hand-over cost more than the second core saves
MAX_BYTES = 16 * 1024 * 1024  # above this the stream is not held in memory


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def transform(source: Union[BinaryIO, Stream], spec: Spec, chunks: Optional[Iterable[Chunk]] = None,
              workers: Optional[int] = None) -> Tuple[Output, Result]:
    """`pipeline.transform`, in two processes when that pays off (`workers`: None decides, 1 or 2 force)."""
    stream = source if isinstance(source, Stream) else Stream(source)
    chunks = iter(chunks if chunks is not None else stream)
    if workers == 1 or not hasattr(os, "fork") or (workers is None and usable_cpus() < 2):
        return transform_streaming(stream, spec, chunks)
    held, rest = _hold(chunks)
    if rest is not None or len(held) < 2 or (workers is None and sum(len(c.raw) for c in held) < MIN_BYTES):
        return transform_streaming(stream, spec, itertools.chain(_drain(held), rest or ()))
    from .fork import transform_in_two  # only now: pickle and signal cost start-up time

    cut = _split(held)
    return transform_in_two(stream, held[:cut], held[cut:], spec)


def _hold(chunks: Iterator[Chunk]) -> Tuple[List[Chunk], Optional[Iterator[Chunk]]]:
    """The stream's chunks, and None; or the first ones past MAX_BYTES and the rest of the stream."""
    held: List[Chunk] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk.raw)
        if size > MAX_BYTES:
            return held, chunks
    return held, None


def _drain(held: List[Chunk]) -> Iterator[Chunk]:
    """The held chunks in order, each let go once taken (a long stream keeps flowing in flat memory)."""
    held.reverse()
    while held:
        yield held.pop()


def _split(chunks: List[Chunk]) -> int:
    """Where to cut so that both parts hold about as many bytes (the work goes with the size)."""
    half, total = sum(len(c.raw) for c in chunks) / 2, 0
    for index, chunk in enumerate(chunks[:-1]):
        total += len(chunk.raw)
        if total >= half:
            return index + 1
    return len(chunks) - 1
