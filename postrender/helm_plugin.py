"""Getting a failure to the user when postrender runs as a Helm 4 post-renderer plugin.

Helm 4 (checked on 4.1.4) throws away a plugin's stderr, and when the plugin exits non-zero it
throws away its stdout too: all the user reads is `plugin "postrender" exited with error`. What
Helm 4 does show is the post-rendered output it cannot use: when stdout is a YAML document that is
not a mapping, `helm template/install/upgrade` fails with

    Error: error while parsing post rendered output: error parsing YAML: wrong node kind:
    expected MappingNode but got ScalarNode: node contents:
    |-
      postrender: <the reason, every line of it>
      (log: /home/me/.local/state/postrender/postrender.log)

(A truly unparseable line does not work: Helm then prints only the YAML parser's complaint.)
So in plugin mode a failure is delivered three ways:

- on the controlling terminal (/dev/tty), when there is one;
- appended, with a timestamp, to ${XDG_STATE_HOME:-~/.local/state}/postrender/postrender.log
  (or postrender.log in the plugin directory when that one cannot be written);
- as the text returned by deliver_failure(): one YAML block scalar, never an object, that the CLI
  prints on stdout and then exits with PLUGIN_FAILURE_EXIT_CODE (0, or Helm would hide it).

Plugin mode is HELM_PLUGIN_NAME=postrender, which Helm 4 sets for this plugin's process (over any
inherited value). Helm 3 CLI plugins (helm-diff, helm-secrets, ...) also export HELM_PLUGIN_NAME and
HELM_PLUGIN_DIR, and a post-renderer they start inherits them: under Helm 3 stderr is shown and the
normal empty-stdout failure is right, so those other names do not count.
bin/postrender-plugin applies the same rules to the failures of the launcher itself.

Warnings (the run succeeds) are lost under Helm 3 too: Helm 3 (checked on 3.17.3) captures a
post-renderer's stderr in a buffer and shows it only when the post-renderer fails. Helm 3 sets no
variable of its own for the post-renderer (its environment is Helm's, nothing added), so the
signal is the process tree: stderr is not a terminal and the parent process is a `helm` binary
(/proc/<ppid>/exe or /proc/<ppid>/comm on Linux, `ps` elsewhere), looking through a wrapper shell
script that runs postrender without `exec`. Then, as in plugin mode, warnings also go to the
terminal and the log file. A wrong guess costs a copy of the warning, never the output.
"""
import os
import re
import subprocess
import time
from functools import lru_cache
from typing import Iterator, Optional, Set, Tuple

PLUGIN_NAME = "postrender"
PLUGIN_FAILURE_EXIT_CODE = 0  # Helm 4 hides stdout of a plugin that exits non-zero
LOG_NAME = "postrender.log"
_LOG_ROTATE_BYTES = 1 << 20


def running_as_helm_plugin() -> bool:
    """True when Helm 4 runs this process as the `postrender` post-renderer plugin."""
    return os.environ.get("HELM_PLUGIN_NAME") == PLUGIN_NAME


def state_log_path() -> str:
    """The documented log file: ${XDG_STATE_HOME:-~/.local/state}/postrender/postrender.log."""
    state = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # the XDG spec says to ignore a relative value
        state = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "postrender", LOG_NAME)


def _clean(text: str) -> str:
    """One line per line, no control characters (YAML refuses them), no trailing blanks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = ["".join(c if c == "\t" or c.isprintable() else "?" for c in line).rstrip() for line in lines]
    return "\n".join(lines).strip("\n")


def _headed(message: str) -> str:
    text = _clean(message) or "failed"
    return text if text.startswith(("postrender:", "postrender plugin:")) else "postrender: " + text


def _append_log(text: str) -> Optional[str]:
    """Append text to the first writable log file; return its path, or None."""
    candidates = [state_log_path()]
    plugin_dir = os.environ.get("HELM_PLUGIN_DIR")
    if plugin_dir:
        candidates.append(os.path.join(plugin_dir, LOG_NAME))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for path in candidates:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.exists(path) and os.path.getsize(path) > _LOG_ROTATE_BYTES:
                os.replace(path, path + ".1")
            with open(path, "a", encoding="utf-8") as log:
                log.write("%s [pid %d] %s\n" % (stamp, os.getpid(), text.replace("\n", "\n    ")))
            return path
        except OSError:
            continue
    return None


def _to_tty(text: str) -> None:
    try:
        fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    except OSError:  # no controlling terminal (CI, a pipeline under setsid, ...)
        return
    try:
        os.write(fd, (text + "\n").encode("utf-8", "replace"))
    except OSError:
        pass
    finally:
        os.close(fd)


def deliver_failure(message: str) -> Optional[str]:
    """In plugin mode: show the failure on the terminal, log it, return the text for stdout.

    The returned text is one YAML block scalar ending in a newline: print it as is on stdout,
    nothing else, and exit with PLUGIN_FAILURE_EXIT_CODE. It holds no object, so Helm 4 refuses
    the render and quotes it in its error message. Outside plugin mode this does nothing and
    returns None (stderr and an empty stdout are right there).
    """
    if not running_as_helm_plugin():
        return None
    text = _headed(message)
    log = _append_log(text)
    text = "%s\n%s" % (text, "(log: %s)" % log if log else "(no log file could be written)")
    _to_tty(text)
    return "|-\n" + "".join("  %s\n" % line if line else "\n" for line in text.split("\n"))


# helm, helm3, helm-3.17.3, helm_v3 (how the binary is installed or linked); not helmfile or helm-docs
_HELM_BINARY = re.compile(r"helm(?:[-_.]?v?[0-9][-_.+0-9a-z]*)?")
# What may stand between Helm and postrender: a wrapper script that does not `exec` it.
_WRAPPERS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "env"})
_ANCESTORS = 3


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
    return any(any(_HELM_BINARY.fullmatch(name) for name in names) for names in _ancestors())


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


def deliver_warning(message: str) -> None:
    """Where stderr is dropped (Helm 4 always, Helm 3 on success): show a warning on the terminal
    and log it. The caller has written it on stderr already."""
    if stderr_is_dropped():
        text = _headed(message)
        _to_tty(text)
        _append_log(text)
