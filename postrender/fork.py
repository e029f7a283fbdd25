"""Transform the second part of a stream in a forked child, and absorb its work.

The child runs its own pipeline over its part and sends back what it made
(`pipeline.Part`, pickled through a pipe); the first part's pipeline absorbs it
and finishes the workloads that waited for a ConfigMap of the other part. The
first error in stream order wins: an error in the first part stops the child.
When the child fails for a reason other than the input, this process
transforms the second part itself (a bug then surfaces as it would without a
child). The child is always reaped.
"""
import os
import pickle
import signal
from typing import List, Optional, Tuple

from .errors import PostrenderError
from .pipeline import Part, Pipeline
from .read import Chunk, Stream
from .report import Result
from .spec import Spec
from .write import Output


def transform_in_two(stream: Stream, first: List[Chunk], second: List[Chunk], spec: Spec) -> Tuple[Output, Result]:
    """The stream whose chunks are `first` + `second`, the second part transformed in a child."""
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
