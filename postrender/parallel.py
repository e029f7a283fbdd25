"""Two processes for one stream: the second half is transformed in a forked child.

Composing YAML is most of a run and the GIL keeps it on one core. A stream of
a few hundred KB to a few MB (many releases in CI, an umbrella chart) is read
whole, cut in two at a document boundary, and the child transforms the second
part while this process does the first. The child sends back what it made
(`pipeline.Part`); the first part's pipeline absorbs it and finishes the
workloads that waited for a ConfigMap of the other part. The output is the
same as one pipeline's over the whole stream: the tests compare both on every
capture and on random streams.

Larger streams stay on the streaming path (memory stays flat), so do small
ones (a fork costs more than it saves), and so does everything where fork is
missing or only one CPU is usable. When the child fails for a reason other
than the input, this process transforms the second part itself.
"""
import itertools
import os
import pickle
import signal
from typing import BinaryIO, Iterable, Iterator, List, Optional, Tuple, Union

from .errors import PostrenderError
from .pipeline import Part, Pipeline, transform as transform_streaming
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
        return transform_streaming(stream, spec, itertools.chain(held, rest or ()))
    return _transform_in_two(stream, held, spec)


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


def _split(chunks: List[Chunk]) -> int:
    """Where to cut so that both parts hold about as many bytes (the work goes with the size)."""
    half, total = sum(len(c.raw) for c in chunks) / 2, 0
    for index, chunk in enumerate(chunks[:-1]):
        total += len(chunk.raw)
        if total >= half:
            return index + 1
    return len(chunks) - 1


def _transform_in_two(stream: Stream, chunks: List[Chunk], spec: Spec) -> Tuple[Output, Result]:
    cut = _split(chunks)
    first, second = chunks[:cut], chunks[cut:]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        os.close(read_end)
        _child(write_end, second, spec)
    os.close(write_end)
    pipeline = Pipeline(spec, hold=True)
    try:
        try:
            pipeline.feed(first, stream)
        except BaseException:  # the first error in the stream is in this part: the child's work is moot
            _stop(read_end, pid)
            raise
        part = _receive(read_end, pid)
        if isinstance(part, PostrenderError):
            raise part
        if isinstance(part, Part):
            pipeline.absorb(part)
        else:  # the child broke down: do its part here (a bug then surfaces as it would without a child)
            pipeline.feed(second, stream)
        return pipeline.output, pipeline.close()
    except BaseException:
        pipeline.output.close()
        raise


def _child(write_end: int, chunks: List[Chunk], spec: Spec) -> None:  # pragma: no cover - runs in the child
    """Transform `chunks`, send the Part (or the input's error) to the parent, and exit."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports it, not us
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        try:
            pipeline = Pipeline(spec, hold=True)
            pipeline.feed(chunks)
            payload: object = pipeline.part()
        except PostrenderError as exc:
            payload = exc
        except Exception:
            payload = None
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)  # no atexit handlers, no flushing of the parent's buffers


def _receive(read_end: int, pid: int) -> object:
    """The child's payload (None when it sent nothing usable); the child is reaped."""
    try:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    except BaseException:
        _stop(None, pid)
        raise
    os.waitpid(pid, 0)
    try:
        return pickle.loads(data) if data else None
    except Exception:  # pragma: no cover - a truncated hand-over
        return None


def _stop(read_end: Optional[int], pid: int) -> None:
    if read_end is not None:
        os.close(read_end)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # pragma: no cover
        pass
    os.waitpid(pid, 0)
