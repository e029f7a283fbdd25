"""The ConfigMaps a stream has shown (`ledger.ConfigMapsSeen`): a compact record (`seen.FirstSeen`, a
digest and a document number per ConfigMap) that answers as a dict of every key would, across two
parts of a stream merged too, in a bounded number of bytes per ConfigMap however long its name; and
the ConfigMaps awaited (`seen.Awaited`), each by the numbers of the workloads that wait for it."""
import pickle
import tracemalloc
from typing import Dict, List, Optional, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from postrender import seen
from postrender.ledger import ConfigMapsSeen
from postrender.seen import Awaited, FirstSeen, digest

Ref = Tuple[Optional[str], str]


def test_a_configmap_is_known_by_namespace_and_name_and_keeps_its_first_document():
    record = FirstSeen()
    record.add((None, "c"), 3)
    record.add((None, "c"), 7)
    record.add(("ns", "c"), 5)
    assert (None, "c") in record and ("ns", "c") in record
    assert ("other", "c") not in record and (None, "d") not in record
    assert len(record) == 2
    assert record.pop((None, "c")) == 3  # the first document
    assert (None, "c") not in record and ("ns", "c") in record
    assert record.pop((None, "c")) is None
    assert len(record) == 1


def test_keys_that_a_plain_concatenation_would_confuse_stay_apart():
    refs = [(None, "x"), ("", "x"), ("x", ""), ("a", "bc"), ("ab", "c"), (None, "+1:ab"), ("a", "b"),
            (None, "-x"), (None, "\ud800"), ("\udfff", "é")]  # lone surrogates: YAML escapes can make them
    record = FirstSeen()
    for number, ref in enumerate(refs):
        assert ref not in record
        record.add(ref, number)
    assert [record.pop(ref) for ref in refs] == list(range(len(refs)))


def test_every_key_stays_found_with_its_number_as_the_buckets_double(monkeypatch):
    monkeypatch.setattr(seen, "PER_BUCKET", 2)
    record = FirstSeen()
    refs = [(None if i % 3 else f"ns{i % 7}", f"c{i}") for i in range(5000)]
    for number, ref in enumerate(refs):
        record.add(ref, number)
    assert len(record.buckets) == 4096 and len(record) == 5000
    assert all(ref in record for ref in refs) and (None, "c5000") not in record
    assert [record.pop(ref) for ref in refs[::5]] == list(range(0, 5000, 5))
    assert sorted(number for _, number in record.records()) == [n for n in range(5000) if n % 5]


def test_memory_per_configmap_is_bounded_however_long_its_name():
    count = 100_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        record = FirstSeen()
        for number in range(count):
            record.add((None if number % 2 else "namespace", f"{'x' * 200}-{number}"), number)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(record) == count
    assert used / count < 40, used / count  # 24 bytes of record, a little more for its bucket


def test_every_number_awaiting_a_configmap_is_taken_at_once_in_the_order_they_came(monkeypatch):
    monkeypatch.setattr(seen, "PER_BUCKET", 2)  # the buckets double many times over
    awaited = Awaited()
    keys = [digest((None if i % 2 else "ns", f"c{i % 300}")) for i in range(3000)]
    for number, key in enumerate(keys):
        awaited.add(key, number)
    assert len(awaited) == 3000 and len(awaited.buckets) == 2048
    first = keys[0]
    assert awaited.take(first) == [n for n, key in enumerate(keys) if key == first] == list(range(0, 3000, 300))
    assert awaited.take(first) == [] and len(awaited) == 2990
    assert sorted(number for _, number in awaited.records()) == [n for n in range(3000) if n % 300]


# -- ConfigMapsSeen -------------------------------------------------------------------------------
def test_a_later_part_with_a_configmap_unchanged_after_a_change_ends_the_change():
    first, later = ConfigMapsSeen(), ConfigMapsSeen()
    first.add((None, "c"), 1, ("h1",))
    first.add(("ns", "c"), 2, ())
    later.add((None, "c"), 5, ())  # unchanged from here on
    later.add(("ns", "c"), 6, ("h2",))
    later.add((None, "d"), 7, ())
    first.merge(pickle.loads(pickle.dumps(later)))  # as it comes from the forked child
    assert first.changed == {"c": [(1, ("h1",)), (5, ())], ("ns", "c"): [(2, ()), (6, ("h2",))]}
    assert [first.hashes_for((None, "c"), document) for document in (0, 1, 4, 5, 9)] == \
           [("h1",), ("h1",), ("h1",), (), ()]
    assert [first.hashes_for(("ns", "c"), document) for document in (1, 2, 5, 6)] == [(), (), (), ("h2",)]
    assert (None, "d") in first and ("ns", "d") not in first and first.hashes_for((None, "d"), 9) == ()


class DictOfEveryKey:
    """The record as a dict of every key (as the ledger kept it before it was made compact): the
    reference that ConfigMapsSeen must answer as."""

    def __init__(self) -> None:
        self.unchanged: Dict[Ref, int] = {}
        self.changed: Dict[Ref, List[Tuple[int, Tuple[str, ...]]]] = {}

    def add(self, ref: Ref, document: int, hashes: Tuple[str, ...]) -> None:
        if ref in self.changed:
            self.changed[ref].append((document, hashes))
        elif not hashes:
            self.unchanged.setdefault(ref, document)
        else:
            first = self.unchanged.pop(ref, None)
            self.changed[ref] = ([] if first is None else [(first, ())]) + [(document, hashes)]

    def __contains__(self, ref: Ref) -> bool:
        return ref in self.unchanged or ref in self.changed

    def hashes_for(self, ref: Ref, document: int) -> Tuple[str, ...]:
        occurrences = self.changed.get(ref, [])
        before = [hashes for at, hashes in occurrences if at <= document]
        return before[-1] if before else occurrences[0][1] if occurrences else ()


REFS = st.tuples(st.sampled_from([None, "", "ns", "c"]), st.sampled_from(["c", "d", "", "ns"]))
OCCURRENCES = st.lists(st.tuples(REFS, st.sampled_from([(), (), ("h1",), ("h1", "h2"), ("h3",)])), max_size=40)


@settings(max_examples=300)
@given(OCCURRENCES, st.data())
def test_the_configmaps_seen_answer_as_a_dict_of_every_key_in_one_part_or_two(occurrences, data):
    cut = data.draw(st.integers(0, len(occurrences)))
    reference, whole, first, later = DictOfEveryKey(), ConfigMapsSeen(), ConfigMapsSeen(), ConfigMapsSeen()
    for document, (ref, hashes) in enumerate(occurrences, 1):
        reference.add(ref, document, hashes)
        whole.add(ref, document, hashes)
        (first if document <= cut else later).add(ref, document, hashes)
    first.merge(pickle.loads(pickle.dumps(later)))
    for ref in {ref for ref, _ in occurrences} | {("other", "c"), (None, "other")}:
        for record in (whole, first):
            assert (ref in record) == (ref in reference), ref
            assert [record.hashes_for(ref, d) for d in range(len(occurrences) + 2)] == \
                   [reference.hashes_for(ref, d) for d in range(len(occurrences) + 2)], ref
