"""A postrender process from start to exit: the console script, `python -m postrender` and the
Helm 4 plugin (`helm_plugin.launch`) run `cli.main` through here.

Start (`start`): the cyclic garbage collector paused until the input proves large (`collector`).
Exit (`exit_flushed`): stdout and stderr flushed, then the process ends without tearing the
interpreter down: freeing every object of a run takes 10-15 ms, a tenth of a 20-release run.
"""
from __future__ import annotations

# signal's C core: `signal` itself, which wraps its constants in enums (~1 ms), is imported by a run
# that watches for Ctrl-C (output.py), after the collector is paused; `--version` never needs it.
import _signal  # type: ignore[import-not-found,unused-ignore]
import os
import sys

from . import collector


def start() -> None:
    """Set up the process before anything else is imported."""
    collector.pause()


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
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # the run is over: a late Ctrl-C changes nothing
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
