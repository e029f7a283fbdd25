"""Two processes give the output of one: `twoprocess.transform_maybe_in_two` against the streaming pipeline.

The stream is cut in two and the second part is transformed in a forked child; whatever the
cut, the bytes written, the changes recorded and the warnings must be those of one pipeline
over the whole stream, including workloads that wait for a ConfigMap in the other part, the
same ConfigMap twice, a BOM, and errors (the first one in stream order wins).
"""
import io
import os
import signal

import pytest

from conftest import CAPTURES, STREAMS, needs_captures, run_cli, transform
from postrender import twoprocess
from postrender.errors import InputError, PostrenderError
from postrender.findings import report_entry
from postrender.pipeline import Pipeline
from postrender.read import Stream
from postrender.spec import Spec, parse_spec_text

SPEC = Spec(volumes=parse_spec_text("""\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler, worker, triggerer, dag-processor, api-server, webserver]
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
    create: {storage: 5Gi, accessModes: [ReadWriteMany]}
""", "spec.yaml"))
LOGS = Spec(logs_claim="airflow-log-pvc")
HELM3 = (STREAMS / "helm3-official.yaml").read_bytes()
HELM4 = (STREAMS / "helm4-official.yaml").read_bytes()


def outcome(data: bytes, spec: Spec, workers: int):
    """(output bytes, records, warnings), or the error's text."""
    try:
        output, ledger = transform(data, spec, workers)
    except PostrenderError as exc:
        return f"{type(exc).__name__}: {exc}"
    return (output, [report_entry(f) for f in ledger.changes], [str(w) for w in ledger.warnings],
            ledger.templates)


def documents(data: bytes) -> int:
    return sum(1 for _ in Stream(io.BytesIO(data)))


def assert_same_at_every_cut(data: bytes, spec: Spec, monkeypatch) -> None:
    expected = outcome(data, spec, workers=1)
    for cut in range(1, documents(data)):
        monkeypatch.setattr(twoprocess, "_split", lambda chunks, cut=cut: cut)
        assert outcome(data, spec, workers=2) == expected, f"cut before document {cut + 1}"


def configmap_last(data: bytes) -> bytes:
    """The same stream with its ConfigMaps moved to the end: workloads wait for them."""
    chunks = [c.raw for c in Stream(io.BytesIO(data))]
    configmaps = [c for c in chunks if b"\nkind: ConfigMap" in c]
    return b"".join([c for c in chunks if c not in configmaps] + configmaps)


def test_two_processes_write_what_one_writes_at_every_cut(monkeypatch):
    assert_same_at_every_cut(HELM3, SPEC, monkeypatch)
    assert_same_at_every_cut(HELM4, LOGS, monkeypatch)


def test_workloads_waiting_for_a_configmap_in_the_other_part_roll_as_in_one_process(monkeypatch):
    data = configmap_last(HELM3)
    assert outcome(data, SPEC, workers=1)[0] != HELM3  # the rolls did happen
    assert_same_at_every_cut(data, SPEC, monkeypatch)


def test_the_same_configmap_twice_in_one_stream_rolls_as_in_one_process(monkeypatch):
    # the second release reuses the names, and its template differs: a workload rolls on the
    # hash of the last ConfigMap before it, else of the first one after it
    second = configmap_last(HELM3).replace(b"    kind: Pod\n", b"    kind: Pod # second release\n")
    assert second != configmap_last(HELM3)
    assert_same_at_every_cut(HELM3 + second, LOGS, monkeypatch)


def test_a_bom_and_crlf_line_ends_survive_the_hand_over(monkeypatch):
    data = b"\xef\xbb\xbf" + HELM4.replace(b"\n", b"\r\n")
    out = outcome(data, LOGS, workers=1)
    assert out[0].startswith(b"\xef\xbb\xbf")
    assert_same_at_every_cut(data, LOGS, monkeypatch)


def test_documents_that_start_after_a_lone_cr_or_a_nel_survive_the_hand_over(monkeypatch):
    # libyaml breaks lines there too, and so does the reader: the cuts fall between the same documents
    data = HELM3.replace(b"\n---\n", b"\r---\n", 3).replace(b"\n---\n", b"\xc2\x85---\n")
    assert documents(data) == documents(HELM3)
    assert not isinstance(outcome(data, SPEC, workers=1), str)
    assert_same_at_every_cut(data, SPEC, monkeypatch)


def test_the_first_error_in_stream_order_is_reported_whichever_part_holds_it(monkeypatch):
    broken = b"---\nkind: Deployment\nmetadata: {name: a}\nspec: [unclosed\n"
    for data in (broken + HELM3 + broken, HELM3 + broken + HELM3):
        expected = outcome(data, SPEC, workers=1)
        assert isinstance(expected, str) and expected.startswith("InputError")
        assert_same_at_every_cut(data, SPEC, monkeypatch)


def test_a_child_that_breaks_down_leaves_its_part_to_the_parent(monkeypatch):
    def broken_part(self):
        raise RuntimeError("simulated breakdown in the child")

    monkeypatch.setattr(Pipeline, "part", broken_part)  # the forked child inherits it
    monkeypatch.setattr(twoprocess, "_split", lambda chunks: len(chunks) // 2)
    assert outcome(HELM3, SPEC, workers=2) == outcome(HELM3, SPEC, workers=1)


def test_no_child_is_left_behind(monkeypatch):
    children = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(twoprocess, "_split", lambda chunks: len(chunks) // 2)
    outcome(HELM3 * 3, SPEC, workers=2)
    outcome(b"---\n: [\n" + HELM3 * 3, SPEC, workers=2)  # the parent fails first: the child is stopped
    outcome(HELM3 * 3 + b"---\n: [\n", SPEC, workers=2)  # the child fails
    assert len(children) == 3
    for pid in children:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already waited for


def interrupted_at_the_fork(monkeypatch, who: str) -> int:
    """Run HELM3 in two processes with a Ctrl-C sent to `who` ("parent" or "child") by the fork
    itself, the moment it returns: no timing. Returns the child's pid, having checked that the
    run ended in KeyboardInterrupt (not a child taken for broken down and its part done again)."""
    real_fork = os.fork
    children = []

    def fork():
        pid = real_fork()
        if pid:
            children.append(pid)
        if (pid == 0) == (who == "child"):
            os.kill(os.getpid(), signal.SIGINT)
        return pid

    def not_again(*args):
        raise AssertionError("the part of a child that died of a Ctrl-C was done again")

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(twoprocess, "_split", lambda chunks: len(chunks) // 2)
    real_receive = twoprocess._receive

    def receive(read_end, pid):
        part = real_receive(read_end, pid)
        monkeypatch.setattr(Pipeline, "feed", not_again)
        return part

    monkeypatch.setattr(twoprocess, "_receive", receive)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        twoprocess.transform_maybe_in_two(io.BytesIO(HELM3), SPEC, workers=2)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set(), "SIGINT left blocked"
    assert signal.getsignal(signal.SIGINT) is handler
    assert len(children) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0], os.WNOHANG)  # stopped and waited for
    return children[0]


def test_a_ctrl_c_to_the_parent_during_the_fork_stops_the_child_and_ends_the_run(monkeypatch):
    interrupted_at_the_fork(monkeypatch, "parent")


def test_a_child_that_dies_of_a_ctrl_c_ends_the_run_and_its_part_is_not_done_again(monkeypatch):
    # a Ctrl-C reaches the whole process group; here the child alone gets it, at the fork
    interrupted_at_the_fork(monkeypatch, "child")


def test_a_child_interrupted_while_it_works_ends_the_run(monkeypatch):
    def interrupted_feed(self, pieces, stream=None):
        if self.hold and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGINT)
        return real_feed(self, pieces, stream)

    parent, real_feed = os.getpid(), Pipeline.feed
    monkeypatch.setattr(Pipeline, "feed", interrupted_feed)
    monkeypatch.setattr(twoprocess, "_split", lambda chunks: len(chunks) // 2)
    with pytest.raises(KeyboardInterrupt):
        twoprocess.transform_maybe_in_two(io.BytesIO(HELM3), SPEC, workers=2)


@needs_captures
def test_two_processes_write_what_one_writes_on_every_capture():
    files = sorted(CAPTURES.glob("*.yaml"))
    assert files
    for path in files:
        data = path.read_bytes()
        assert outcome(data, LOGS, workers=2) == outcome(data, LOGS, workers=1), path.name


def test_the_cli_splits_a_large_stream_and_writes_what_one_process_writes():
    data = HELM3 * (twoprocess.MIN_BYTES // len(HELM3) + 2)  # same names again and again: rolls by position
    assert len(data) > twoprocess.MIN_BYTES
    proc = run_cli(["--logs-claim", "airflow-log-pvc"], data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == outcome(data, LOGS, workers=1)[0]


def test_input_errors_cross_the_process_boundary_intact(monkeypatch):
    data = HELM3 + b"---\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: !!python/none 1}\n"
    monkeypatch.setattr(twoprocess, "_split", lambda chunks: 1)
    with pytest.raises(InputError) as raised:
        twoprocess.transform_maybe_in_two(io.BytesIO(data), SPEC, workers=2)
    assert "unsupported tag" in raised.value.message and raised.value.where.line is not None


def test_a_stream_past_the_holding_limit_streams_through_one_process(monkeypatch):
    monkeypatch.setattr(twoprocess, "MAX_BYTES", len(HELM3) // 3)

    def no_fork():
        raise AssertionError("a stream past MAX_BYTES must not be split")

    monkeypatch.setattr(os, "fork", no_fork)
    data = HELM3 * 3
    assert outcome(data, LOGS, workers=None) == outcome(data, LOGS, workers=1)
