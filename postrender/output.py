"""Write step: an all-or-nothing output spool.

Nothing reaches stdout until the whole stream has been transformed: output
collects in a spool that stays in memory up to a few MB and moves to a
temporary file beyond, so memory stays flat on large streams. A document
whose final text is not known yet (a workload that waits for a ConfigMap
further down the stream) gets a slot, filled in later; slots are written
to the spool too, and `copy_to` stitches everything back in order. An Output
made in another process (`fork`) is appended with `export` and `extend`.
"""
import io
from typing import BinaryIO, Dict, List, NamedTuple, Tuple, Union

SPOOL_IN_MEMORY = 8 * 1024 * 1024


class Exported(NamedTuple):
    """An Output's bytes and layout, picklable."""

    data: bytes
    order: List[Union[Tuple[int, int], int]]
    filled: Dict[int, Tuple[int, int]]


class Output:
    def __init__(self) -> None:
        self.spool: BinaryIO = io.BytesIO()  # a temporary file past SPOOL_IN_MEMORY
        # the stream in order: (offset, length) ranges of the spool, or a slot number
        self.order: List[Union[Tuple[int, int], int]] = []
        self.filled: Dict[int, Tuple[int, int]] = {}
        self.slots = 0
        self.size = 0

    def _put(self, data: bytes) -> Tuple[int, int]:
        offset = self.size
        if offset + len(data) > SPOOL_IN_MEMORY and isinstance(self.spool, io.BytesIO):
            import tempfile  # only large streams need it: keeps start-up short

            spilled = tempfile.TemporaryFile()
            spilled.write(self.spool.getbuffer())
            self.spool = spilled
        self.spool.write(data)
        self.size += len(data)
        return offset, len(data)

    def write(self, data: bytes) -> None:
        if not data:
            return
        offset, length = self._put(data)
        last = self.order[-1] if self.order else None
        if isinstance(last, tuple) and last[0] + last[1] == offset:
            self.order[-1] = (last[0], last[1] + length)  # contiguous: one range
        else:
            self.order.append((offset, length))

    def reserve(self) -> int:
        slot = self.slots
        self.slots += 1
        self.order.append(slot)
        return slot

    def fill(self, slot: int, data: bytes) -> None:
        self.filled[slot] = self._put(data)

    def export(self) -> "Exported":
        """Everything written so far, to hand to another process's Output (see `extend`)."""
        self.spool.seek(0)
        return Exported(self.spool.read(self.size), list(self.order), dict(self.filled))

    def extend(self, other: "Exported") -> Dict[int, int]:
        """Append another Output's export; returns its slot numbers -> the slots they are here."""
        slots: Dict[int, int] = {}
        for item in other.order:
            if isinstance(item, int):
                slots[item] = self.reserve()
                if item in other.filled:
                    offset, length = other.filled[item]
                    self.fill(slots[item], other.data[offset:offset + length])
            else:
                offset, length = item
                self.write(other.data[offset:offset + length])
        return slots

    def copy_to(self, target: BinaryIO) -> None:
        for item in self.order:
            offset, length = self.filled[item] if isinstance(item, int) else item
            self.spool.seek(offset)
            remaining = length
            while remaining:
                block = self.spool.read(min(remaining, 1 << 20))
                target.write(block)
                remaining -= len(block)
        target.flush()

    def close(self) -> None:
        self.spool.close()

