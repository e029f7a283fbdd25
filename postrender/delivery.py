"""Getting a warning or a failure to the user when Helm would drop postrender's stderr.

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
So in plugin mode (helm_env.running_as_helm_plugin) a failure is delivered three ways:

- on the controlling terminal (/dev/tty), when there is one;
- appended, with a timestamp, to ${XDG_STATE_HOME:-~/.local/state}/postrender/postrender.log:
  a directory of ours made 0700, a file made 0600, opened without following a symlink (O_NOFOLLOW,
  relative to the opened directory) and only when it is a regular file of ours; past 1 MiB it
  moves to postrender.log.1 (one old generation kept), and one entry holds at most 64 KiB;
- as the text returned by deliver_failure(): one YAML block scalar, never an object, that the CLI
  prints on stdout and then exits with PLUGIN_FAILURE_EXIT_CODE (0, or Helm would hide it).

Warnings (the run succeeds) go to the terminal and the log wherever stderr is dropped: Helm 4
always, Helm 3 on success (helm_env.stderr_is_dropped). What is delivered is text already
rendered (findings.stderr_line); this module only cleans it of control characters and heads it
`postrender:`. bin/postrender-plugin applies the same rules to the failures of the launcher
itself.
"""
from __future__ import annotations

import os
import stat
import time
from typing import Optional

from .helm_env import running_as_helm_plugin, stderr_is_dropped

PLUGIN_FAILURE_EXIT_CODE = 0  # Helm 4 hides stdout of a plugin that exits non-zero
LOG_NAME = "postrender.log"
_LOG_ROTATE_BYTES = 1 << 20
_LOG_ENTRY_BYTES = 64 << 10


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


def headed(message: str) -> str:
    """The text cleaned (see `_clean`) and headed `postrender:` unless it is already."""
    text = _clean(message) or "failed"
    return text if text.startswith(("postrender:", "postrender plugin:")) else "postrender: " + text


def _private_dir(path: str) -> int:
    """Open the log directory (made 0700 where missing, parents too) without following a symlink;
    it must be ours, and loses any group/other permission. Returns the open descriptor."""
    missing = []
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    for new in reversed(missing):
        try:
            os.mkdir(new, 0o700)
        except FileExistsError:
            pass
        path = new
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    return _kept_private(fd, 0o700, "%s is not ours" % path)


def _open_private(dir_fd: int, name: str, flags: int) -> int:
    """Open name in dir_fd, never through a symlink; only a regular file of ours with one link."""
    fd = os.open(name, flags | os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, 0o600,
                 dir_fd=dir_fd)
    return _kept_private(fd, 0o600, "%s is not a regular file of ours" % name, regular_file=True)


def _kept_private(fd: int, mode: int, refusal: str, regular_file: bool = False) -> int:
    """`fd` when what it opened is ours (and, for a file, a regular one with one link), with any
    group/other permission taken away (`mode`); else it is closed and PermissionError(refusal) raised."""
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or regular_file and (not stat.S_ISREG(info.st_mode) or info.st_nlink != 1):
            raise PermissionError(refusal)
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _append_log(text: str) -> Optional[str]:
    """Append text to the log file; return its path, or None when it cannot be written safely."""
    path = state_log_path()
    entry = "%s [pid %d] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S%z"), os.getpid(), text.replace("\n", "\n    "))
    data = entry.encode("utf-8", "replace")
    if len(data) > _LOG_ENTRY_BYTES:
        data = data[:_LOG_ENTRY_BYTES - 40] + b"\n    ... (cut: entry over 64 KiB)\n"
    try:
        dir_fd = _private_dir(os.path.dirname(path))
    except OSError:
        return None
    try:
        fd = _open_private(dir_fd, LOG_NAME, os.O_APPEND | os.O_CREAT)
        try:
            if os.fstat(fd).st_size > _LOG_ROTATE_BYTES:
                os.rename(LOG_NAME, LOG_NAME + ".1", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                os.close(fd)
                fd = -1
                fd = _open_private(dir_fd, LOG_NAME, os.O_APPEND | os.O_CREAT)
            os.write(fd, data)
        finally:
            if fd >= 0:
                os.close(fd)
        return path
    except OSError:
        return None
    finally:
        os.close(dir_fd)


def note_once(key: str, message: str) -> bool:
    """Log message once per key (a marker file beside the log remembers it). True when logged now."""
    marker = "noted-" + "".join(c if c.isalnum() or c in ".-_" else "_" for c in key)
    try:
        dir_fd = _private_dir(os.path.dirname(state_log_path()))
    except OSError:
        return False
    try:
        os.close(_open_private(dir_fd, marker, os.O_CREAT | os.O_EXCL))
    except OSError:  # noted before (or cannot note: then do not log it every time either)
        os.close(dir_fd)
        return False
    if _append_log(headed(message)) is None:
        try:
            os.unlink(marker, dir_fd=dir_fd)
        except OSError:
            pass
        os.close(dir_fd)
        return False
    os.close(dir_fd)
    return True


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
    text = headed(message)
    log = _append_log(text)
    text = "%s\n%s" % (text, "(log: %s)" % log if log else "(no log file could be written)")
    _to_tty(text)
    return "|-\n" + "".join("  %s\n" % line if line else "\n" for line in text.split("\n"))


def deliver_warning(message: str) -> None:
    """Where stderr is dropped (Helm 4 always, Helm 3 on success): show a warning on the terminal
    and log it. The caller has written it on stderr already."""
    if stderr_is_dropped():
        text = headed(message)
        _to_tty(text)
        _append_log(text)


