"""A stream in two processes, when that pays off: where to cut, when not to, and the fork.

Composing YAML is most of a run and the GIL keeps it on one core. A stream of
a few hundred KB to a few MB (many releases in CI, an umbrella chart) is read
whole and cut in two at a document boundary; a forked child transforms the
second part (its own pipeline, sent back as a `pipeline.Part` through a pipe)
while this process does the first, then absorbs the child's part and finishes
the workloads that waited for a ConfigMap of the other part. The output is the
same as one pipeline's over the whole stream: the tests compare both on every
capture and on random streams.

The first error in stream order wins: an error in the first part stops the
child. When the child fails for a reason other than the input, this process
transforms the second part itself (a bug then surfaces as it would without a
child). The child is always reaped, and it dies with this process: the kernel kills it when
its parent dies (prctl PR_SET_PDEATHSIG, SIGKILL included), and a SIGTERM to the parent kills and
reaps it before the parent goes on to die of it.

Ctrl-C: SIGINT is held back across the fork (`output.HeldInterrupts`), so that one that comes
then is raised in this process only where the child gets stopped, and ends the child (which
dies of it, silently) only once it runs its own code. A child that died of SIGINT is an interrupt, never a child
that broke down: its part is not done again here.

Larger streams stay on the streaming path (memory stays flat), so do small
ones (a fork costs more than it saves), and so does everything where fork is
missing or only one CPU is usable.
"""
from __future__ import annotations

import itertools
import os
import signal
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Tuple, Union

from .errors import InputError, PostrenderError
from .ledger import Ledger
from .output import HeldInterrupts, Output
from .pipeline import MIN_BYTES, Part, Pipeline, pieces, transform_in_one_process
from .read import Held, Piece, Stream
from .spec import Spec

# MIN_BYTES (pipeline's): below it a stream stays in one process; the CLI checks it before importing this.
MAX_BYTES = 16 * 1024 * 1024  # above this the stream is not held in memory


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def transform_maybe_in_two(source: Union[BinaryIO, Stream], spec: Spec, started: Optional[Iterable[Piece]] = None,
                           workers: Optional[int] = None, report_changes: bool = True) -> Tuple[Output, Ledger]:
    """The stream transformed, in two processes when that pays off (`workers`: None decides, 1 or 2
    force); `started`: the stream's pieces, when the caller has begun reading them; `report_changes`:
    see `pipeline.Pipeline`."""
    stream = source if isinstance(source, Stream) else Stream(source)
    items = iter(started if started is not None else pieces(stream))
    if workers == 1 or not hasattr(os, "fork") or (workers is None and usable_cpus() < 2):
        return transform_in_one_process(stream, spec, items, report_changes=report_changes)
    held, rest = _hold(items)
    if rest is not None or len(held) < 2 or (workers is None and held.size < MIN_BYTES):
        return transform_in_one_process(stream, spec, itertools.chain(pieces(held.stream()), rest or ()),
                                        report_changes=report_changes)
    return _in_two(stream, held, _split(held), spec, report_changes)


def _hold(items: Iterator[Piece]) -> Tuple[Held, Optional[Iterator[Piece]]]:
    """The stream's pieces, and None; or the first ones past MAX_BYTES and the rest of the stream.
    Only their bytes are held: tiny documents cost no more memory than their text."""
    held = Held()
    try:
        for piece in items:
            held.add(piece)
            if held.size > MAX_BYTES:
                return held, items
    except InputError as exc:  # the reader's (a document too large, not UTF-8): after any error of the held ones
        return held, _raising(exc)
    return held, None


def _raising(error: InputError) -> Iterator[Piece]:
    raise error
    yield  # pragma: no cover - a generator: it raises where the stream is read up to it


def _split(held: Held) -> int:
    """How many documents go in the first part: both parts hold about as many bytes (the work goes
    with the size), cut where `held` noted a piece's end."""
    half = held.size / 2
    cuts = [(abs(size - half), chunks) for chunks, size, _ in held.ends if chunks < len(held)]
    return min(cuts)[1] if cuts else len(held) // 2


def _in_two(stream: Stream, held: Held, cut: int, spec: Spec, report_changes: bool) -> Tuple[Output, Ledger]:
    """The held stream, its documents from number `cut` on transformed in a child."""
    first, second = pieces(held.stream(0, cut)), pieces(held.stream(cut))
    pipeline = Pipeline(spec, hold=True, report_changes=report_changes)
    read_end, write_end = os.pipe()
    parent = os.getpid()
    held_back = HeldInterrupts()
    try:
        pid = os.fork()
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        held_back.release()
        raise
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        try:
            held_back.end_in_child()
            os.close(read_end)
            _die_with(parent)
            _child(write_end, second, spec, report_changes)
        finally:
            os._exit(1)  # never back into the parent's code
    os.close(write_end)
    previous = None
    try:
        try:
            held_back.release()  # a Ctrl-C during the fork is raised here
            previous = _on_sigterm_kill(pid)
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
            pipeline.feed(pieces(held.stream(cut)), stream)
        ledger = pipeline.close()  # an empty stream gets a new, empty Output there
        return pipeline.output, ledger
    except BaseException:
        pipeline.output.close()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with(parent: int) -> None:  # pragma: no cover - runs in the child
    """Have the kernel kill this (forked) process when its parent dies, however it dies (SIGKILL
    included); a parent that died before this took effect is seen as a changed parent pid."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # not Linux (or no ctypes): the parent's SIGTERM handler still kills us
        pass
    if os.getppid() != parent:
        os._exit(1)


def _on_sigterm_kill(pid: int) -> Any:
    """While the child runs, a SIGTERM to this process kills and reaps the child first, then takes
    its usual course; returns the handler to put back (None when none was installed)."""
    def handler(signum: int, frame: object) -> None:
        _reap(pid, kill=True)
        signal.signal(signal.SIGTERM, previous)
        os.kill(os.getpid(), signal.SIGTERM)  # as it would have gone without us (by default: die of it)

    try:
        previous = signal.getsignal(signal.SIGTERM)
        if previous == signal.SIG_IGN:
            return None  # SIGTERM does not end this process: the child goes on with it
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: only the child's parent-death signal guards it
        return None
    if previous is None:  # a handler not installed from Python: the default is the best we can restore
        previous = signal.SIG_DFL
    return previous


def _reap(pid: int, kill: bool) -> Optional[int]:
    """Wait for the child (killing it first with `kill`) and return its wait status; a child
    already reaped is left alone (its pid may be another process's by now): None."""
    try:
        if kill:
            ended, status = os.waitpid(pid, os.WNOHANG)
            if ended:
                return status  # it had ended, and is reaped now
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    except (ProcessLookupError, ChildProcessError):
        return None


def _child(write_end: int, items: Iterable[Piece], spec: Spec,
           report_changes: bool) -> None:  # pragma: no cover - runs in the child
    """Transform `items`, send the Part (or the input's error) to the parent, and exit."""
    import pickle  # here and in _receive only: pickling costs start-up time

    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        try:
            pipeline = Pipeline(spec, hold=True, report_changes=report_changes)
            pipeline.feed(items)
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
    """The child's payload (None when it sent nothing usable); the child is reaped. A child that
    died of a Ctrl-C (SIGINT) raises KeyboardInterrupt here."""
    import pickle

    try:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    except BaseException:
        _stop(None, pid)
        raise
    status = _reap(pid, kill=False)
    if status is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
        raise KeyboardInterrupt
    try:
        return pickle.loads(data) if data else None
    except Exception:  # pragma: no cover - a truncated hand-over
        return None


def _stop(read_end: Optional[int], pid: int) -> None:
    if read_end is not None:
        os.close(read_end)
    _reap(pid, kill=True)
