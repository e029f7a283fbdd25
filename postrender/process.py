"""A postrender process from start to exit: the console script, `python -m postrender` and the
Helm 4 plugin (`helm_plugin.launch`) run `cli.main` through here.

Start (`start`): the cyclic garbage collector looks at the young objects every `GC_THRESHOLD`
allocations instead of Python's 700. Start-up allocates its objects by the ten thousand (modules,
classes, click's and ruamel's tables), nearly none of them garbage, and every pass over them is
wasted: about 5% of a one-release run. A run's own cycles are still collected, a little later.
Exit (`exit_flushed`): stdout and stderr flushed, then the process ends without tearing the
interpreter down: freeing every object of a run takes 10-15 ms, a tenth of a 20-release run.
"""
from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import signal
else:  # the C module that `signal` wraps: the same functions, without the enums `signal` builds on import (~1 ms)
    import _signal as signal

GC_THRESHOLD = 10_000


def start() -> None:
    """Set up the process before anything else is imported."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


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
