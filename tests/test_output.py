"""The all-or-nothing output: the spool (order, slots filled late, parts from another process) and
its write to stdout (whole or not at all: Ctrl-C, a regular file taken back, stdout closed)."""
import io
import os
import pickle
import signal
import sys

import pytest

from postrender import output as output_module
from postrender.output import Output, OutputError, forget_stdout_text, to_stdout, watch_interrupts


def text(out: Output) -> bytes:
    target = io.BytesIO()
    out.copy_to(target)
    out.close()
    return target.getvalue()


def test_a_slot_filled_late_takes_its_place_in_the_stream():
    out = Output()
    out.write(b"a")
    slot = out.reserve()
    out.write(b"c")
    out.fill(slot, b"b")
    assert text(out) == b"abc"


def test_an_exported_part_is_appended_with_its_slots_renumbered():
    first, second = Output(), Output()
    first.write(b"1")
    late = first.reserve()
    second.write(b"3")
    slot = second.reserve()
    slots = first.extend(second.export())
    first.fill(late, b"2")
    first.fill(slots[slot], b"4")
    assert text(first) == b"1234"


def test_slots_reserved_one_after_another_take_one_entry_in_order_and_two_numbers_each():
    out = Output()
    out.write(b"<")
    slots = [out.reserve() for _ in range(1000)]
    out.write(b">")
    assert len(out.order) == 3 * 2  # the "<", the 1000 slots, the ">": a stream may hold millions of slots
    assert len(out.filled) == 2 * 1000
    for slot in reversed(slots):
        out.fill(slot, b"%d," % slot)
    assert text(out) == b"<" + b"".join(b"%d," % slot for slot in slots) + b">"


def test_an_exported_run_of_slots_keeps_those_filled_and_the_others_are_filled_later():
    first, second = Output(), Output()
    first.write(b"a")
    run = [second.reserve() for _ in range(3)]
    second.fill(run[1], b"2")
    second.write(b"z")
    slots = first.extend(pickle.loads(pickle.dumps(second.export())))  # as it comes from the forked child
    first.fill(slots[run[0]], b"1")
    first.fill(slots[run[2]], b"3")
    assert text(first) == b"a123z"


def test_a_large_output_spills_to_a_temporary_file_and_comes_back_whole(monkeypatch):
    monkeypatch.setattr(output_module, "SPOOL_IN_MEMORY", 10)
    out = Output()
    for piece in (b"0123456789", b"abcdefghij", b"xyz"):
        out.write(piece)
    assert not isinstance(out.spool.file, io.BytesIO)
    assert text(out) == b"0123456789abcdefghijxyz"


class InterruptedMidway(Output):
    """An Output whose copy to stdout gets a Ctrl-C halfway through."""

    def copy_to(self, target) -> None:
        target.write(b"first half\n")
        os.kill(os.getpid(), signal.SIGINT)
        target.write(b"second half\n")
        target.flush()


@pytest.mark.parametrize("before", [b"", b"kept\n"], ids=["new", "appended"])
def test_a_ctrl_c_during_the_write_to_a_regular_file_takes_back_what_was_written(tmp_path, monkeypatch, before):
    target = tmp_path / "out.yaml"
    target.write_bytes(before)
    with open(target, "ab" if before else "wb") as raw:
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, write_through=True))
        watch_interrupts()
        with pytest.raises(KeyboardInterrupt):  # raised once the write is over, never in its middle
            to_stdout(InterruptedMidway())
        watch_interrupts()  # this test's Ctrl-C is over
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set(), "SIGINT left blocked"
    assert target.read_bytes() == before


def test_a_ctrl_c_that_something_swallowed_still_keeps_the_stream_from_stdout(tmp_path, monkeypatch):
    target = tmp_path / "out.yaml"
    with open(target, "wb") as raw:
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, write_through=True))
        watch_interrupts()
        try:  # as a library's bare `except:` would
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        with pytest.raises(KeyboardInterrupt):
            to_stdout(b"the stream\n")
        watch_interrupts()  # the next run starts afresh
        to_stdout(b"the stream\n")
    assert target.read_bytes() == b"the stream\n"


def test_a_stdout_closed_at_start_is_an_output_error(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(OutputError, match="^cannot write the output: stdout is closed$"):
        to_stdout(b"the stream\n")


def test_text_a_library_left_unwritten_in_stdout_never_goes_out_after_a_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.yaml"
    with open(target, "wb") as raw:
        stdout = io.TextIOWrapper(raw)
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "__stdout__", stdout)  # the process's own stdout
        print("'data a library was writing'")  # as ruamel's emitter does when a Ctrl-C hits its write
        forget_stdout_text()
        sys.stdout.write("what the CLI writes next\n")
        sys.stdout.flush()
        assert target.read_bytes() == b"what the CLI writes next\n"
