"""Container choice is linear in the number of containers (issue 14).

`--logs-claim` names every container that mounts a shared logs volume, so each name is a pattern
of the volume spec; matching each container against each pattern was quadratic (20k containers in
one pod took minutes). Checked by counting work, not by a clock: the Python lines postrender runs
(and the fnmatch calls) for N and 2N containers, which may no more than about double.
"""
import fnmatch
import sys

from conftest import transform
from postrender.errors import Where
from postrender.inject import inject_pod_spec
from postrender.spec import Spec, VolumeSpec


def _deployment(count: int) -> bytes:
    """A Deployment whose `count` containers mount a subPath of a scratch emptyDir at the log path; the
    first also mounts another subPath of it, so the volume is shared and every container moves to `logs`."""
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: many", "spec:", "  template:",
             "    spec:", "      volumes:", "      - name: scratch", "        emptyDir: {}", "      containers:"]
    for i in range(count):
        lines += [f"      - name: c{i}", "        image: busybox", "        volumeMounts:",
                  "        - name: scratch", "          mountPath: /opt/airflow/logs",
                  "          subPath: logs"]
        if i == 0:
            lines += ["        - name: scratch", "          mountPath: /tmp", "          subPath: tmp"]
    return ("\n".join(lines) + "\n").encode()


def _traced_lines(func) -> int:
    """How many lines of postrender's own code `func()` runs."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        return local if "/postrender/" in frame.f_code.co_filename else None

    sys.settrace(tracer)
    try:
        func()
    finally:
        sys.settrace(None)
    return count


def _run(raw: bytes) -> bytes:
    return transform(raw, Spec(logs_claim="logs-pvc"))[0]


def test_logs_claim_on_many_containers_moves_them_all():
    out = _run(_deployment(50)).decode()
    assert out.count("name: logs\n") == 50 + 1  # every mount moved, and the new volume
    assert "claimName: logs-pvc" in out


def test_logs_claim_work_is_linear_in_the_container_count():
    small, large = _deployment(5000), _deployment(10000)
    lines_small = _traced_lines(lambda: _run(small))
    lines_large = _traced_lines(lambda: _run(large))
    assert lines_large <= 2.3 * lines_small, (lines_small, lines_large)


def test_choosing_containers_calls_no_glob_per_container(monkeypatch):
    calls = []
    real = fnmatch.fnmatchcase
    monkeypatch.setattr(fnmatch, "fnmatchcase", lambda *a: calls.append(a) or real(*a))
    names = [f"c{i}" for i in range(10000)]
    pod = {"containers": [{"name": n} for n in names]}
    spec = VolumeSpec(name="logs", claim="pvc", mount_path="/logs", containers=tuple(names), origin="test")
    new, _, changes = inject_pod_spec(pod, [spec], Where())
    assert len([c for c in changes if c.action == "added-mount"]) == 10000
    assert calls == []


def test_glob_and_literal_patterns_match_as_fnmatch_does():
    patterns = ("web", "w[ab]*", "x?", "a\\b", "[", "*")
    spec = VolumeSpec(name="v", claim="c", mount_path="/m", containers=patterns)
    for name in ("web", "wa1", "x1", "xx1", "a\\b", "[", "zzz", ""):
        for init in (False, True):
            used = [p for p in patterns if not (init and p == "*")]
            assert spec.selects_container(name, init) == any(fnmatch.fnmatchcase(name, p) for p in used), (name, init)
    assert not VolumeSpec(name="v", claim="c", mount_path="/m", containers=()).selects_container("a", False)
