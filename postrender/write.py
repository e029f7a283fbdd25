"""Write step: an all-or-nothing output spool.

Nothing reaches stdout until the whole stream has been transformed: output
collects in a spool that stays in memory up to a few MB and moves to a
temporary file beyond, so memory stays flat on large streams. A document
whose final text is not known yet (a workload that waits for a ConfigMap
further down the stream) gets a slot, filled in later; slots are written
to the spool too, and `copy_to` stitches everything back in order.
"""
import io
from typing import BinaryIO, Dict, List, Tuple, Union

SPOOL_IN_MEMORY = 8 * 1024 * 1024


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

