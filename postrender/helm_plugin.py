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
- appended, with a timestamp, to ${XDG_STATE_HOME:-~/.local/state}/postrender/postrender.log:
  a directory of ours made 0700, a file made 0600, opened without following a symlink (O_NOFOLLOW,
  relative to the opened directory) and only when it is a regular file of ours; past 1 MiB it
  moves to postrender.log.1 (one old generation kept), and one entry holds at most 64 KiB;
- as the text returned by deliver_failure(): one YAML block scalar, never an object, that the CLI
  prints on stdout and then exits with PLUGIN_FAILURE_EXIT_CODE (0, or Helm would hide it).

Plugin mode is HELM_PLUGIN_NAME=postrender, which Helm 4 sets for this plugin's process (over any
inherited value). Helm 3 CLI plugins (helm-diff, helm-secrets, ...) also export HELM_PLUGIN_NAME and
HELM_PLUGIN_DIR, and a post-renderer they start inherits them: under Helm 3 stderr is shown and the
normal empty-stdout failure is right, so those other names do not count.
bin/postrender-plugin applies the same rules to the failures of the launcher itself, and starts
postrender through launch() below.

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
import stat
import sys
import time
from functools import lru_cache
from typing import Iterator, List, Optional, Set, Tuple

PLUGIN_NAME = "postrender"
PLUGIN_FAILURE_EXIT_CODE = 0  # Helm 4 hides stdout of a plugin that exits non-zero
LOG_NAME = "postrender.log"
_LOG_ROTATE_BYTES = 1 << 20
_LOG_ENTRY_BYTES = 64 << 10
UNUSABLE_EXIT_CODE = 97  # launch() in a source checkout: this interpreter cannot import postrender


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
    if _append_log(_headed(message)) is None:
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


def _exit_with_failure(message: str) -> None:
    """A launcher failure: delivered as deliver_failure does in plugin mode, on stderr otherwise."""
    sys.stderr.write(_headed(message) + "\n")
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
    try:
        from postrender import __version__
        from postrender.cli import exit_flushed, main
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

    note_once("pure-python-%s-%s-%s" % (version, sys.implementation.cache_tag, platform.machine()),
              "postrender plugin: note: no bundled C extension of ruamel.yaml.clib fits %s %s on %s %s, so "
              "YAML is parsed in ruamel.yaml's pure-Python mode: same output, several times slower (README, "
              "Speed). The release carries it for CPython 3.9-3.14 on Linux x86_64 and aarch64 (glibc); "
              "POSTRENDER_PYTHON can point at one of those. (Said once per interpreter.)"
              % (sys.implementation.name, sys.version.split()[0], platform.system(), platform.machine()))
