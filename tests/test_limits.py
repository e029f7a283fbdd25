"""The document size limit (8 MiB, stream documents and ResourceList items) and the memory that
workloads waiting for a ConfigMap further down cost (their bytes in a spool, a small record each),
and that a run leaves no cycle for the collector (which `process` makes rare)."""
import gc
import io
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from conftest import HELM3_RENDER, TEMPLATE_LOGS_SPEC, krm_failed, run_main, transform
from postrender import output, read
from postrender.pipeline import Pipeline, pieces
from postrender.read import MAX_DOCUMENT, Stream
from postrender.spec import Spec, parse_spec_text

LOGS = "--logs-claim=airflow-log-pvc"
SMALL = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
OVER = MAX_DOCUMENT + 1024


def configmap(name: str, size: int) -> str:
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {{a: b}}\n  name: {name}\ndata:\n" \
           f"  blob: {'x' * size}\n"


def test_refuses_a_document_over_8_mib_naming_it_and_its_line():
    ran = run_main([LOGS], (SMALL * 2 + configmap("blob", OVER) + SMALL).encode())
    err = ran.stderr.decode()
    assert ran.returncode == 1, err
    assert ran.stdout == b""
    assert "document 3, line 11, ConfigMap/blob: document larger than 8 MiB; refused" in err, err


def test_refuses_a_document_over_8_mib_on_one_line():
    flow = "--- {kind: Secret, metadata: {name: s}, data: {a: " + "x" * OVER + "}}\n"
    ran = run_main([LOGS], (SMALL + flow).encode())
    assert ran.returncode == 1
    assert "document 2, line 6: document larger than 8 MiB; refused" in ran.stderr.decode()


def test_a_document_just_under_8_mib_passes_byte_identical():
    data = (SMALL + configmap("big", MAX_DOCUMENT - 200) + SMALL).encode()
    ran = run_main([LOGS], data)
    assert ran.returncode == 0, ran.stderr.decode()
    assert ran.stdout == data


def resource_list(*items: str) -> bytes:
    lines = ["apiVersion: config.kubernetes.io/v1", "kind: ResourceList", "items:"]
    for name, size in items:
        lines += ["- apiVersion: v1", "  kind: ConfigMap", f"  metadata: {{name: {name}}}", f"  data: {{blob: {size}}}"]
    return ("\n".join(lines) + "\n").encode()


def items(*sized: tuple) -> tuple:
    return tuple((name, "x" * size) for name, size in sized)


def test_a_resource_list_over_8_mib_is_not_capped_but_its_items_are():
    half = MAX_DOCUMENT // 2
    ran = run_main([LOGS], resource_list(*items(("a", half), ("b", half), ("c", half))))
    assert ran.returncode == 0, ran.stderr.decode()
    out = YAML(typ="safe").load(ran.stdout)
    assert [item["metadata"]["name"] for item in out["items"]] == ["a", "b", "c"]

    ran = run_main([LOGS], resource_list(*items(("a", 10), ("huge", OVER))))
    _, result = krm_failed(ran, 1)
    assert "ResourceList item larger than 8 MiB; refused" in result["message"]
    assert "document 1, line 8, ConfigMap/huge" in ran.stderr.decode()


def test_a_resource_list_after_another_document_is_capped():
    ran = run_main([LOGS], b"a: 1\n---\n" + resource_list(*items(("a", OVER))))
    assert ran.returncode == 1
    assert "document 2, line 2, ResourceList/?: document larger than 8 MiB" in ran.stderr.decode()


LINES = [b"---\n", b"--- |\n", b"...\n", b"%YAML 1.2\n", b"# c\n", b"a: b\n", b"x" * 30, b"y" * 30 + b"\n",
         b"\n", b"---", b"- z\r\n"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=30), st.integers(4, 12), st.integers(1, 40))
def test_reads_long_lines_in_parts_as_it_reads_them_whole(lines, long_line, block):
    data = b"".join(lines)
    whole = [(c.index, c.first_line, c.raw) for c in Stream(io.BytesIO(data))]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(read, "_LONG_LINE", long_line)
        monkeypatch.setattr(read, "_BLOCK", block)
        assert [(c.index, c.first_line, c.raw) for c in Stream(io.BytesIO(data))] == whole


# -- workloads that wait for a ConfigMap -----------------------------------------------------------------
WORKLOAD = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: w{0}
spec:
  template:
    spec:
      containers:
        - name: main
          image: busybox
      volumes:
        - name: config
          configMap:
            name: c{0}
"""
POD_TEMPLATE = """\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c{0}
data:
  pod_template_file.yaml: |
    kind: Pod
    spec:
      containers:
        - name: base
          image: apache/airflow
"""
SPEC = ("volumes:\n  - name: logs\n    claimName: pvc\n    mountPath: /logs\n"
        "    targets: [pod-template, {kind: Deployment, name: 'w*'}]\n")


def test_waiting_workloads_are_held_as_bytes_in_a_spool_not_as_trees(monkeypatch):
    monkeypatch.setattr(output, "SPOOL_IN_MEMORY", 64 * 1024)  # spilled to a file past this
    count = 2000
    workloads = "".join(WORKLOAD.format(i) for i in range(count)).encode()
    run = Pipeline(Spec(volumes=parse_spec_text(SPEC, "spec.yaml")))
    run.feed(pieces(Stream(io.BytesIO(workloads))))
    held = run._waiting()
    assert len(held) == count
    assert all(not hasattr(one, "__dict__") and {type(getattr(one, name)) for name in one.__slots__} <= {int, tuple}
               for one in held)
    assert run.spool.size == len(workloads) and not isinstance(run.spool.file, io.BytesIO)
    run.feed(pieces(Stream(io.BytesIO(POD_TEMPLATE.format(7).encode()), resume=(count, workloads.count(b"\n")))))
    assert len(run._waiting()) == count - 1  # w7 went out as soon as c7 came
    run.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_waiting_workloads_roll_on_the_template_that_comes_after_them(workers):
    data = "".join(WORKLOAD.format(i) for i in range(40)) + "".join(POD_TEMPLATE.format(i) for i in range(0, 40, 3))
    out, _ = transform(data.encode(), SPEC, workers=workers)
    reference, _ = transform(data.encode(), SPEC, batch=False)
    assert out == reference
    docs = list(YAML(typ="safe").load_all(out))
    rolled = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"
              and "checksum/postrender" in str(d["spec"]["template"].get("metadata"))}
    assert rolled == {f"w{i}" for i in range(0, 40, 3)}
    workloads = [d for d in docs if d["kind"] == "Deployment"]
    assert all(d["spec"]["template"]["spec"]["volumes"][-1]["name"] == "logs" for d in workloads)


def waiting_workloads(first: int, count: int) -> Stream:
    """Workloads `first` to `first + count` of a stream of them, read from there on."""
    lines = sum(WORKLOAD.format(i).count("\n") for i in range(first))
    text = "".join(WORKLOAD.format(i) for i in range(first, first + count)).encode()
    return Stream(io.BytesIO(text), resume=(first, lines))


def test_a_waiting_workload_costs_the_pipeline_a_few_dozen_bytes_of_memory_however_many_wait(monkeypatch):
    monkeypatch.setattr(output, "SPOOL_IN_MEMORY", 64 * 1024)  # the texts go to a file past this
    untargeted = SPEC.replace("{kind: Deployment, name: 'w*'}", "{kind: Deployment, name: none}")
    count = 5000
    tracemalloc.start()  # before the run: its arrays grow in place
    try:
        run = Pipeline(Spec(volumes=parse_spec_text(untargeted, "spec.yaml")), report_changes=False)
        run.feed(pieces(waiting_workloads(0, 5000)))  # the run's caches fill (a plain scalar's tag, ...)
        before = tracemalloc.get_traced_memory()[0]
        run.feed(pieces(waiting_workloads(5000, count)))
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(run.waits) == 5000 + count
    # the numbers of each (48 bytes), its ConfigMap's digest (24), its output slot (16)
    assert used / count < 150, used / count
    run.close()


def test_a_run_leaves_no_cycle_for_the_collector():
    """Garbage in a cycle waits for the cyclic collector, which `process` makes rare: a loader
    that refers to itself would keep its document's text until then, for every document."""
    spec = Spec(volumes=parse_spec_text(TEMPLATE_LOGS_SPEC, "spec.yaml"))
    data = HELM3_RENDER + "".join(WORKLOAD.format(i) + POD_TEMPLATE.format(i) for i in range(3)).encode()
    gc.collect()
    gc.disable()
    try:
        run = Pipeline(spec)
        run.run(Stream(io.BytesIO(data)), pieces(Stream(io.BytesIO(data))))
        assert gc.collect() == 0
    finally:
        gc.enable()
