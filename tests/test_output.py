"""The all-or-nothing output spool: order, slots filled late, parts from another process."""
import io

import pytest

from postrender import output as output_module
from postrender.output import Output


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


def test_a_large_output_spills_to_a_temporary_file_and_comes_back_whole(monkeypatch):
    monkeypatch.setattr(output_module, "SPOOL_IN_MEMORY", 10)
    out = Output()
    for piece in (b"0123456789", b"abcdefghij", b"xyz"):
        out.write(piece)
    assert not isinstance(out.spool, io.BytesIO)
    assert text(out) == b"0123456789abcdefghijxyz"
