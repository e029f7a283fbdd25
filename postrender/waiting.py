"""One concern: the workloads that wait for a ConfigMap further down the stream (`Waits`), in a few
dozen bytes each however many there are: their texts in a spool (`output.Spool`: a temporary file
past a few MB), six numbers each in an array, and the ConfigMaps each waits for as digests
(`seen.Awaited`, 24 bytes a ConfigMap).
"""
from __future__ import annotations

from array import array
from typing import Any, Callable, Dict, Iterable, Iterator, List, Tuple

from .output import Spool
from .seen import Awaited

FIELDS = 6  # a workload's slot, document number, first line, offset and size of its text, ConfigMaps awaited
PENDING = FIELDS - 1


class Waits:
    """Workloads that wait, numbered as they come: `add` one, tell it a ConfigMap came (`seen`: the
    workloads that were waiting for it and for no other come back), or take what `remaining` when no
    more will come. A workload comes back as `make(slot, index, first_line, at, pending)`, the
    pipeline's record of one, whose text is `spool.get(at)`."""

    def __init__(self, spool: Spool, make: Callable[[int, int, int, Tuple[int, int], int], Any]) -> None:
        self.spool = spool
        self.make = make
        self.clear()

    def clear(self) -> None:
        self.fields = array("q")  # FIELDS a workload, by its number
        self.awaited = Awaited()  # digests of the ConfigMaps awaited -> the numbers of those waiting
        self.count = 0  # workloads waiting

    def __len__(self) -> int:
        return self.count

    def add(self, slot: int, index: int, first_line: int, raw: bytes, awaited: Iterable[bytes]) -> None:
        """A workload (its output slot, document number, first line, text) waits for the ConfigMaps
        whose digests are `awaited` (`seen.digest`; none twice)."""
        number = len(self.fields) // FIELDS
        keys = list(awaited)
        self.fields.extend((slot, index, first_line, *self.spool.put(raw), len(keys)))
        for key in keys:
            self.awaited.add(key, number)
        self.count += 1

    def seen(self, key: bytes) -> List[Any]:
        """The ConfigMap whose digest is `key` came: the workloads it was the last one awaited of."""
        done = []
        for number in self.awaited.take(key):
            self.fields[number * FIELDS + PENDING] -= 1
            if not self.fields[number * FIELDS + PENDING]:
                done.append(self._made(number))
        self.count -= len(done)
        return done

    def remaining(self) -> List[Any]:
        """Every workload still waiting, in the order they came."""
        return [self._made(number) for number in self._waiting()]

    def handed_over(self) -> List[Tuple[Any, List[bytes], bytes]]:
        """Each workload still waiting, with the digests it awaits and its text, for another process."""
        keys: Dict[int, List[bytes]] = {}
        for key, number in self.awaited.records():
            keys.setdefault(number, []).append(key)
        return [(one, keys[number], self.spool.get(one.at)) for number in self._waiting()
                for one in [self._made(number)]]

    def _waiting(self) -> Iterator[int]:
        fields = self.fields
        return (number for number in range(len(fields) // FIELDS) if fields[number * FIELDS + PENDING])

    def _made(self, number: int) -> Any:
        slot, index, first_line, offset, size, pending = self.fields[number * FIELDS:(number + 1) * FIELDS]
        return self.make(slot, index, first_line, (offset, size), pending)
