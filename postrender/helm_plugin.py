"""The Helm 4 plugin's start: bin/postrender-plugin runs `launch`, which runs the CLI.

The launcher script finds the plugin directory and an interpreter; `launch` puts the release's
bundled dependencies on sys.path, says once when ruamel.yaml has to run in its pure-Python mode,
and runs `cli.main`. Its own failures (a damaged release, a Python too old) reach the user as
every plugin failure does (delivery.py): the terminal, the log file, and a YAML scalar on stdout
that Helm 4 quotes in its error.
"""
from __future__ import annotations

import os
import sys
from typing import List

UNUSABLE_EXIT_CODE = 97  # launch() in a source checkout: this interpreter cannot import postrender


def _exit_with_failure(message: str) -> None:
    """A launcher failure: delivered as deliver_failure does in plugin mode, on stderr otherwise."""
    from .delivery import PLUGIN_FAILURE_EXIT_CODE, deliver_failure, headed  # a run that starts needs none of it

    sys.stderr.write(headed(message) + "\n")
    out = deliver_failure(message)
    if out is None:
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.write(out)
    sys.stdout.flush()
    os._exit(PLUGIN_FAILURE_EXIT_CODE)


def launch(plugin_dir: str, layout: str, argv: List[str]) -> None:  # pragma: no cover - exits the process
    """Run postrender for bin/postrender-plugin, whose isolated interpreter already has the plugin's
    code first on sys.path: lib/ of a release tarball, or the root of a source checkout.

    Release layout: lib/py3X/ (a dependency pinned for this Python only) goes first as well. When
    no bundled C extension of ruamel.yaml.clib fits this interpreter, ruamel.yaml runs in its pure-
    Python mode: slower, same output; the log says so once per plugin version and interpreter.
    Checkout layout: an interpreter that cannot import postrender exits UNUSABLE_EXIT_CODE before
    reading stdin, and the launcher tries the next one.
    """
    if sys.version_info < (3, 9):
        _exit_with_failure("postrender plugin: Python %s (%s) is too old: 3.9 or newer is needed; put one first on "
                           "PATH as python3, or set POSTRENDER_PYTHON to it" % (sys.version.split()[0], sys.executable))
    if layout == "release":
        extra = os.path.join(plugin_dir, "lib", "py%d%d" % sys.version_info[:2])
        if os.path.isdir(extra):
            sys.path.insert(0, extra)
    from postrender.process import exit_flushed, start

    start()
    try:
        from postrender import __version__
        from postrender.cli import main
    except Exception as exc:
        if layout != "release":
            os._exit(UNUSABLE_EXIT_CODE)
        _exit_with_failure("postrender plugin: %s is incomplete or damaged (%s: %s); reinstall it: helm plugin "
                           "uninstall postrender, then helm plugin install <release tarball>"
                           % (plugin_dir, type(exc).__name__, exc))
    from postrender.yamlio.loader import PURE_PYTHON

    if PURE_PYTHON:
        _pure_python_mode(layout, __version__)
    sys.argv = ["postrender"] + list(argv)
    try:
        code = main()
    except BaseException as exc:  # main() reports its own failures; this is for what escapes it
        if isinstance(exc, SystemExit):
            raise
        import traceback

        _exit_with_failure("internal error:\n" + traceback.format_exc())
    exit_flushed(code)


def _pure_python_mode(layout: str, version: str) -> None:
    """ruamel.yaml without its C extension (postrender.yamlio makes its pure loader agree with
    libyaml): say so once, in a release, where the C extension was meant to be there."""
    if layout != "release":
        return
    import platform

    from .delivery import note_once

    note_once("pure-python-%s-%s-%s" % (version, sys.implementation.cache_tag, platform.machine()),
              "postrender plugin: note: no bundled C extension of ruamel.yaml.clib fits %s %s on %s %s, so "
              "YAML is parsed in ruamel.yaml's pure-Python mode: same output, several times slower (README, "
              "Speed). The release carries it for CPython 3.9-3.14 on Linux x86_64 and aarch64 (glibc); "
              "POSTRENDER_PYTHON can point at one of those. (Said once per interpreter.)"
              % (sys.implementation.name, sys.version.split()[0], platform.system(), platform.machine()))
