"""Workloads that wait for a ConfigMap further down (`waiting.Waits`): each comes back once every
ConfigMap it waits for came, in the order they came, with its text; a few dozen bytes of memory each
(their texts in a spool that spills to a file)."""
import tracemalloc
from typing import NamedTuple, Tuple

from postrender import output
from postrender.output import Spool
from postrender.seen import digest
from postrender.waiting import Waits


class Record(NamedTuple):  # as the pipeline's _Waiting takes them
    slot: int
    index: int
    first_line: int
    at: Tuple[int, int]
    pending: int


A, B, C = (digest((None, name)) for name in "abc")


def waits_of(*workloads) -> Tuple[Spool, Waits]:
    spool = Spool()
    waits = Waits(spool, Record)
    for number, awaited in enumerate(workloads):
        waits.add(10 + number, number + 1, 5 * number, f"w{number}".encode(), awaited)
    return spool, waits


def test_a_workload_comes_back_once_every_configmap_it_waits_for_came():
    spool, waits = waits_of([A, B], [B], [C])
    assert len(waits) == 3
    assert waits.seen(A) == [] and waits.seen(digest(("ns", "a"))) == []
    back = waits.seen(B)
    assert [(one.slot, one.index, one.first_line, one.pending) for one in back] == [(10, 1, 0, 0), (11, 2, 5, 0)]
    assert [spool.get(one.at) for one in back] == [b"w0", b"w1"]
    assert waits.seen(B) == [] and len(waits) == 1
    assert [(one.slot, spool.get(one.at)) for one in waits.remaining()] == [(12, b"w2")]


def test_what_still_waits_is_handed_over_with_the_digests_it_awaits_and_its_text():
    _, waits = waits_of([A, B], [C], [A])
    waits.seen(C)
    waits.seen(A)
    handed = waits.handed_over()
    assert [(one.slot, one.pending, keys, raw) for one, keys, raw in handed] == [(10, 1, [B], b"w0")]
    waits.clear()
    assert len(waits) == 0 and waits.remaining() == [] and waits.handed_over() == []


def test_a_waiting_workload_costs_a_few_dozen_bytes_however_many_wait(monkeypatch):
    monkeypatch.setattr(output, "SPOOL_IN_MEMORY", 64 * 1024)  # the texts go to a file past this
    count = 50_000
    text = b"x" * 300
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        spool = Spool()
        waits = Waits(spool, Record)
        for number in range(count):
            waits.add(number, number, number * 20, text, [digest((None, f"c{number}"))])
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(waits) == count and spool.size == count * len(text)
    assert used / count < 100, used / count  # 48 bytes of numbers, 24 of the ConfigMap's digest record
    spool.close()
