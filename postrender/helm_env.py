"""Which Helm runs postrender, and whether anybody will read its stderr.

Helm 4 plugin mode is HELM_PLUGIN_NAME=postrender, which Helm 4 sets for this plugin's process
(over any inherited value). Helm 3 CLI plugins (helm-diff, helm-secrets, ...) also export
HELM_PLUGIN_NAME and HELM_PLUGIN_DIR, and a post-renderer they start inherits them: under Helm 3
stderr is shown on failure and the normal empty-stdout failure is right, so those other names do
not count.

Helm 3 (checked on 3.17.3) captures a post-renderer's stderr in a buffer and shows it only when
the post-renderer fails, so the warnings of a successful run would reach nobody. Helm 3 sets no
variable of its own for the post-renderer (its environment is Helm's, nothing added), so the
signal is the process tree: stderr is not a terminal and the parent process is a `helm` binary
(/proc/<ppid>/exe or /proc/<ppid>/comm on Linux, `ps` elsewhere), looking through a wrapper shell
script that runs postrender without `exec`. A wrong guess costs a copy of a warning (delivery.py
sends it to the terminal and the log), never the output.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Iterator, Set, Tuple

PLUGIN_NAME = "postrender"

# helm, helm3, helm-3.17.3, helm_v3 (how the binary is installed or linked); not helmfile or helm-docs.
# Compiled on first use (re caches it): the plugin's launcher imports this module on every run.
_HELM_BINARY = r"helm(?:[-_.]?v?[0-9][-_.+0-9a-z]*)?"
# What may stand between Helm and postrender: a wrapper script that does not `exec` it.
_WRAPPERS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "env"})
_ANCESTORS = 3


def running_as_helm_plugin() -> bool:
    """True when Helm 4 runs this process as the `postrender` post-renderer plugin."""
    return os.environ.get("HELM_PLUGIN_NAME") == PLUGIN_NAME


def _process(pid: int) -> Tuple[Set[str], int]:
    """(names of the process's program, its parent's pid); ({}, 0) when it cannot be seen."""
    names: Set[str] = set()
    try:
        names.add(os.path.basename(os.readlink(f"/proc/{pid}/exe")))
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            names.add(handle.read().strip())
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return names, int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        pass
    if os.path.isdir("/proc/self"):
        return names, 0
    import subprocess  # only here: it costs every start of the tool a few milliseconds

    try:  # no /proc (macOS, the BSDs)
        out = subprocess.run(["ps", "-o", "ppid=,comm=", "-p", str(pid)], capture_output=True, text=True,
                             timeout=2).stdout.split(None, 1)
        return {os.path.basename(out[1].strip())}, int(out[0])
    except (OSError, subprocess.SubprocessError, IndexError, ValueError):
        return names, 0


def _ancestors() -> Iterator[Set[str]]:
    pid = os.getppid()
    for _ in range(_ANCESTORS):
        if pid <= 1:
            return
        names, pid = _process(pid)
        yield names
        if not names & _WRAPPERS:
            return


@lru_cache(maxsize=None)
def started_by_helm() -> bool:
    """Is the parent process (through wrapper shells) a `helm` binary?"""
    return any(any(is_helm_binary(name) for name in names) for names in _ancestors())


def is_helm_binary(name: str) -> bool:
    """Is a program of this name a Helm binary?"""
    return re.fullmatch(_HELM_BINARY, name) is not None


def stderr_is_dropped() -> bool:
    """Will nobody read this process's stderr when it succeeds? Helm 4's plugin mode, and Helm 3
    (which shows a post-renderer's stderr only on failure) when stderr is not a terminal."""
    if running_as_helm_plugin():
        return True
    try:
        if os.isatty(2):
            return False
    except OSError:
        pass
    return started_by_helm()
