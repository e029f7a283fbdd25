"""Write step: an all-or-nothing output spool.

Nothing reaches stdout until the whole stream has been transformed: output
collects in a spool that stays in memory up to a few MB and moves to a
temporary file beyond, so memory stays flat on large streams. A document
whose final text is not known yet (a workload that waits for a ConfigMap
further down the stream) gets a slot, filled in later; slots are written
to the spool too, and `copy_to` stitches everything back in order. An Output
made in another process (`fork`) is appended with `export` and `extend`.

`to_stdout` then writes it whole or not at all, as far as that can be: not after a
Ctrl-C, and with stdout on a regular file, what was written is truncated away when
the write fails or is interrupted. A Ctrl-C during the write waits for its end (a
reader must never get part of a stream), then ends the run. An I/O error on stdout
is an OutputError that names it (exit 1); a reader gone (`| head`) is a
BrokenPipeError, which the CLI ends the run on quietly.
"""
from __future__ import annotations

import errno
import io
import os
import signal
import stat
import sys
from array import array
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple, Union

from .errors import PostrenderError
from .findings import OUTPUT_ERROR
from .records import Record

SPOOL_IN_MEMORY = 8 * 1024 * 1024


class OutputError(PostrenderError):
    """The stream cannot be written to stdout (closed, a full disk, an I/O error)."""

    exit_code = 1
    finding_id = OUTPUT_ERROR


class Exported(Record):
    """An Output's bytes and layout (see `Output`), picklable."""

    __slots__ = ("data", "order", "filled")

    def __init__(self, data: bytes, order: array[int], filled: array[int]) -> None:
        self.data = data
        self.order = order
        self.filled = filled


class Spool:
    """Bytes kept in order, in memory up to SPOOL_IN_MEMORY and in a temporary file beyond (memory
    stays flat on large streams): `put` says where they stand, `get` reads them back."""

    def __init__(self) -> None:
        self.file: BinaryIO = io.BytesIO()
        self.size = 0

    def put(self, data: bytes) -> Tuple[int, int]:
        """Append `data`; its (offset, length)."""
        if isinstance(self.file, io.BytesIO) and self.size + len(data) > SPOOL_IN_MEMORY:
            import tempfile  # only large streams need it: keeps start-up short

            spilled = tempfile.TemporaryFile()
            spilled.write(self.file.getbuffer())
            self.file = spilled
        self.file.seek(self.size)
        self.file.write(data)
        self.size += len(data)
        return self.size - len(data), len(data)

    def get(self, at: Tuple[int, int]) -> bytes:
        self.file.seek(at[0])
        return self.file.read(at[1])

    def close(self) -> None:
        self.file.close()


class Output:
    """The stream in order, as numbers (a stream may hold any number of slots): `order` holds two
    numbers an entry, (offset, length) of a range of the spool, or (-1 - slot, count) for `count`
    slots from `slot` on; `filled` two a slot, the (offset, length) of its text, (-1, 0) until filled."""

    def __init__(self) -> None:
        self.spool = Spool()
        self.order = array("q")
        self.filled = array("q")
        self.slots = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        offset, length = self.spool.put(data)
        order = self.order
        if order and order[-2] >= 0 and order[-2] + order[-1] == offset:
            order[-1] += length  # contiguous: one range
        else:
            order.extend((offset, length))

    def reserve(self) -> int:
        slot = self.slots
        self.slots += 1
        self.filled.extend((-1, 0))
        order = self.order
        if order and order[-2] < 0 and -1 - order[-2] + order[-1] == slot:
            order[-1] += 1  # right after the slots before: one entry
        else:
            order.extend((-1 - slot, 1))
        return slot

    def fill(self, slot: int, data: bytes) -> None:
        self.filled[2 * slot:2 * slot + 2] = array("q", self.spool.put(data))

    def export(self) -> "Exported":
        """Everything written so far, to hand to another process's Output (see `extend`)."""
        return Exported(self.spool.get((0, self.spool.size)), array("q", self.order), array("q", self.filled))

    def extend(self, other: "Exported") -> Dict[int, int]:
        """Append another Output's export; returns its slot numbers -> the slots they are here."""
        slots: Dict[int, int] = {}
        for start, count in _pairs(other.order):
            if start >= 0:
                self.write(other.data[start:start + count])
                continue
            for slot in range(-1 - start, -1 - start + count):
                slots[slot] = self.reserve()
                offset, length = other.filled[2 * slot:2 * slot + 2]
                if offset >= 0:
                    self.fill(slots[slot], other.data[offset:offset + length])
        return slots

    def _ranges(self) -> Iterator[Tuple[int, int]]:
        """(offset, length) in the spool of each piece of the stream, in order (every slot filled)."""
        for start, count in _pairs(self.order):
            if start >= 0:
                yield start, count
            else:
                filled = self.filled
                for slot in range(-1 - start, -1 - start + count):
                    yield filled[2 * slot], filled[2 * slot + 1]

    def copy_to(self, target: BinaryIO) -> None:
        for offset, length in self._ranges():
            assert offset >= 0, "a slot left unfilled"
            self.spool.file.seek(offset)
            remaining = length
            while remaining:
                block = self.spool.file.read(min(remaining, 1 << 20))
                target.write(block)
                remaining -= len(block)
        target.flush()

    def close(self) -> None:
        self.spool.close()


def _pairs(numbers: array[int]) -> Iterator[Tuple[int, int]]:
    for at in range(0, len(numbers), 2):
        yield numbers[at], numbers[at + 1]


_interrupted = False  # a Ctrl-C came during this run


def watch_interrupts() -> None:
    """Start a run with no Ctrl-C seen, and note each one from now on: Ctrl-C raises
    KeyboardInterrupt as ever, but a library's bare `except:` may swallow that on its way (ruamel's
    serializer has one), and the stream must never be written after a Ctrl-C."""
    global _interrupted
    _interrupted = False
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_interrupt)
    except ValueError:  # not the main thread: Python's own handling stays
        pass


def _on_interrupt(signum: int, frame: Any) -> None:
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def to_stdout(data: Union[Output, bytes, str]) -> None:
    """Write the stream (an Output or bytes), or a text (in stdout's encoding), to stdout, whole or
    not at all (see the module)."""
    if _interrupted:
        raise KeyboardInterrupt
    stdout = sys.stdout
    if stdout is None:  # fd 1 was closed when the process started
        raise OutputError("cannot write the output: stdout is closed")
    if isinstance(data, str):
        data = data.encode(getattr(stdout, "encoding", None) or "utf-8", getattr(stdout, "errors", None) or "strict")
    try:
        target: Any = _Descriptor(stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture): its buffer
        target = stdout.buffer
    start = target.start() if isinstance(target, _Descriptor) else None
    held_back = HeldInterrupts()
    try:
        try:
            stdout.flush()  # what went to sys.stdout before (nothing, as a rule) stays first
            if isinstance(data, Output):
                data.copy_to(target)
            else:
                target.write(data)
                target.flush()
        finally:
            held_back.release()  # a Ctrl-C that came during the write is raised here
    except BrokenPipeError:
        raise  # the reader went away: nothing to take back, nothing to report
    except BaseException as exc:
        if start is not None:
            target.truncate(start)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write the output: {_reason(exc)}") from None
        raise


def forget_stdout_text() -> None:
    """Leave behind what sits unwritten in the process's sys.stdout (a library's stray print):
    a failed run writes nothing to stdout but what the CLI means to (a Helm 4 failure line)."""
    stdout = sys.stdout
    if stdout is None or stdout is not sys.__stdout__:  # a test's capture: not ours to touch
        return
    try:
        sys.stdout = open(stdout.fileno(), "w", encoding=stdout.encoding, errors=stdout.errors, closefd=False)
    except (OSError, ValueError):  # pragma: no cover - no usable stdout: nothing goes out anyway
        pass


class HeldInterrupts:
    """Ctrl-C held back (across the write of the stream, or a fork) to be acted on where the code
    chooses: SIGINT is blocked for this thread, and noted by a handler of ours if another thread of
    the process takes it (a test runner's, say)."""

    def __init__(self) -> None:
        self.noted: List[int] = []
        self.mask = _sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.handler: Any = signal.signal(signal.SIGINT, lambda signum, frame: self.noted.append(signum))
        except ValueError:  # not the main thread: the mask alone
            self.handler = None
        else:
            if self.handler is None:  # one installed from C: Python's own is the best to put back
                self.handler = signal.default_int_handler

    def end_in_child(self) -> None:  # pragma: no cover - runs in a forked child
        """In a forked child: Ctrl-C ends it from now on (silently: the parent reports it), one held
        back at once."""
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _sigmask(signal.SIG_SETMASK, self.mask)
        if self.noted:
            os.kill(os.getpid(), signal.SIGINT)

    def release(self) -> None:
        """Ctrl-C as before, and one held back takes its course here (by default, KeyboardInterrupt
        is raised)."""
        _sigmask(signal.SIG_SETMASK, self.mask)  # one blocked till now is noted
        if self.handler is None:
            return
        signal.signal(signal.SIGINT, self.handler)
        if self.noted:
            signal.raise_signal(signal.SIGINT)


def _sigmask(how: int, mask: Any) -> Any:
    """The thread's signal mask changed (what it was), where there is one (None elsewhere)."""
    if mask is None or not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        return None
    return signal.pthread_sigmask(how, mask)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EBADF:
        return "stdout is closed"
    reason = exc.strerror or type(exc).__name__
    return reason[:1].lower() + reason[1:]  # "no space left on device"


class _Descriptor:
    """stdout's file descriptor, written with os.write: nothing stays behind in a buffer when a
    write fails (a buffer would be written again at exit, after the truncation)."""

    def __init__(self, fd: int):
        self.fd = fd

    def start(self) -> Optional[int]:
        """Where the stream will begin when stdout is a regular file (to truncate back to), else None."""
        try:
            if not stat.S_ISREG(os.fstat(self.fd).st_mode):
                return None
            import fcntl

            if fcntl.fcntl(self.fd, fcntl.F_GETFL) & os.O_APPEND:
                return os.fstat(self.fd).st_size
            return os.lseek(self.fd, 0, os.SEEK_CUR)
        except (OSError, ImportError):  # pragma: no cover - not POSIX: nothing to take back
            return None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.fd, view):]
            except BlockingIOError:  # a non-blocking stdout (left so by another program): wait
                import select

                select.select([], [self.fd], [])

    def flush(self) -> None:
        pass

    def truncate(self, size: int) -> None:
        try:
            os.ftruncate(self.fd, size)
            os.lseek(self.fd, size, os.SEEK_SET)
        except OSError:  # pragma: no cover - the error that brought us here is what gets reported
            pass
