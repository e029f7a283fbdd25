"""The cyclic garbage collector, off while the input is small.

Start-up and the run over one release allocate their objects by the ten thousand (modules,
classes, click's and ruamel's tables, the documents' nodes), next to none of them garbage: each
pass of the collector over them is wasted, and two passes were a tenth of a one-release run's own
time. So a postrender process (`process.start`) pauses the collector, and the reader says how much
input it has read (`input_read`): from SMALL_INPUT bytes on, it runs again, every GC_THRESHOLD
allocations (Python's 700 is tuned for programs that churn small cycles; a run makes few). What a
small input leaves in cycles is a few kilobytes; a larger one's cycles are collected as ever.
"""
from __future__ import annotations

import gc

GC_THRESHOLD = 10_000
SMALL_INPUT = 256 * 1024  # bytes of input under which the collector stays off
_paused = False


def pause() -> None:
    """Turn the collector off until the input proves large (`input_read`)."""
    global _paused
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.disable()
    _paused = True


def input_read(total: int) -> None:
    """The input has reached `total` bytes: from SMALL_INPUT on, the collector runs again where
    `pause` turned it off (a host's own choice stands)."""
    global _paused
    if _paused and total >= SMALL_INPUT:
        _paused = False
        gc.enable()
