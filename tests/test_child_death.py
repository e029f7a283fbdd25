"""The forked child dies with its parent (issue 14): a SIGTERM or a SIGKILL to the process that
forked it leaves nothing running.

A driver runs `twoprocess.transform_maybe_in_two` with two workers forced (so the test does not
depend on the machine's CPUs) on a stream big enough to be cut in two, slow enough to be caught
while the child works. The children are found by pid through /proc (their parent pid).
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from postrender import twoprocess

ROOT = Path(__file__).resolve().parent.parent
RENDER = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"
DRIVER = """
import sys
from postrender import twoprocess
from postrender.spec import Spec
with open(sys.argv[1], "rb") as source:
    output, _ = twoprocess.transform_maybe_in_two(source, Spec(logs_claim="c"), workers=2)
output.close()
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "fork"),
                                reason="Linux only (/proc, prctl)")


@pytest.fixture(scope="module")
def big_stream(tmp_path_factory) -> Path:
    render = RENDER.read_bytes()
    if not render.startswith(b"---"):
        render = b"---\n" + render
    copies = max(2, (twoprocess.MAX_BYTES * 9 // 10) // len(render))  # the child's half takes seconds
    path = tmp_path_factory.mktemp("death") / "stream.yaml"
    path.write_bytes(render * copies)
    assert twoprocess.MIN_BYTES < path.stat().st_size < twoprocess.MAX_BYTES
    return path


def _children(pid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields after the command: state, ppid, ...
            found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's pid 1 may never reap an orphan)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return condition()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_child_dies_with_its_parent(big_stream, sig):
    parent = subprocess.Popen([sys.executable, "-c", DRIVER, str(big_stream)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        children = []
        assert _wait_for(lambda: children.extend(_children(parent.pid)) or children, 120), \
            "the driver never forked"
        os.kill(parent.pid, sig)
        assert parent.wait(60) == -sig
        # at once: the child's own half would take seconds more
        assert _wait_for(lambda: not any(_running(c) for c in children), 0.5), \
            f"child {children} still running after {sig.name} to its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for child in _children(parent.pid):
            os.kill(child, signal.SIGKILL)


def test_sigterm_handler_is_put_back(tmp_path):
    """Around the fork only: after a run in two, SIGTERM is handled as before it."""
    previous = signal.getsignal(signal.SIGTERM)
    stream = RENDER.read_bytes() * 8
    import io

    from postrender.spec import Spec

    output, _ = twoprocess.transform_maybe_in_two(io.BytesIO(stream), Spec(logs_claim="c"), workers=2)
    output.close()
    assert signal.getsignal(signal.SIGTERM) == previous
