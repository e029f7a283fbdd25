"""A postrender process from start to exit: the console script, `python -m postrender` and the
Helm 4 plugin (`helm_plugin.launch`) run `cli.main` through here.

Start (`start`): the cyclic garbage collector is off until the input reaches `SMALL_INPUT` bytes
(`input_read`), and then looks at the young objects every `GC_THRESHOLD` allocations instead of
Python's 700. Start-up and the run over one release allocate their objects by the ten thousand
(modules, classes, click's and ruamel's tables, the documents' nodes), next to none of them
garbage, and each pass over them is wasted: two passes were a tenth of a one-release run's own
time. What a small input leaves in cycles is a few kilobytes; a larger one's cycles are collected.
Exit (`exit_flushed`): stdout and stderr flushed, then the process ends without tearing the
interpreter down: freeing every object of a run takes 10-15 ms, a tenth of a 20-release run.
"""
from __future__ import annotations

import gc
import os
import signal
import sys

GC_THRESHOLD = 10_000
SMALL_INPUT = 256 * 1024  # bytes of input under which the collector stays off
_collector_paused = False


def start() -> None:
    """Set up the process before anything else is imported."""
    global _collector_paused
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.disable()
    _collector_paused = True


def input_read(total: int) -> None:
    """The input has reached `total` bytes (the reader says so as it goes): from SMALL_INPUT on,
    the collector runs again where `start` turned it off."""
    global _collector_paused
    if _collector_paused and total >= SMALL_INPUT:
        _collector_paused = False
        gc.enable()


def run() -> None:  # pragma: no cover - exits the process
    """The `postrender` console script and `python -m postrender`: `cli.main`, then exit."""
    start()
    from .cli import main

    try:
        code = main()
    except KeyboardInterrupt:  # another Ctrl-C while one was being reported
        code = 130
    exit_flushed(code)


def exit_flushed(code: int) -> None:  # pragma: no cover - exits the process
    """Flush stdout and stderr, then exit at once (no interpreter teardown; all this process
    writes is flushed first, and a reader gone by then is no failure of ours)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run is over: a late Ctrl-C changes nothing
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
