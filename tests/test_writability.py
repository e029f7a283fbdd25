"""Can every pod write to a shared claim? (issue 13)

A read-write claim mounted into pods whose users differ, and that share no group that would own
the volume, is a warning naming the pods and their uid/gid/fsGroup. The rule (`claims.ClaimWriters`):
only writers whose user is known count; they are fine when they all run as one user, or when some
pod's fsGroup is a group every one of them is in (its runAsGroup, its pod's fsGroup or
supplementalGroups). Read-only mounts and read-only volumes write nothing. `--inspect` shows who
each pod runs as.

Fixture: tests/fixtures/edges/users-helm3.yaml: a worker pod template running as 1000:1000 without
fsGroup, the official chart's scheduler (runAsUser 50000, fsGroup 0 on the pod) and an api-server
that sets its user on the container.
"""
import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FIXTURES, load_all, pod_templates, run_main, transform, validate_k8s, write_spec
from postrender.claims import SHOWN, ClaimWriters, Writer, run_as, several_pods, writability_warning, writers

USERS = FIXTURES / "edges" / "users-helm3.yaml"
SPEC = """\
volumes:
  - name: logs
    claimName: airflow-logs
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler, api-server]
"""
WARNING = ("claim 'airflow-logs' is written by pods that run as different users and share no group that would "
           "own it: ConfigMap/demo-config key pod_template_file.yaml (uid 1000, gid 1000, fsGroup none); "
           "Deployment/demo-scheduler (uid 50000, gid image default, fsGroup 0); Deployment/demo-api-server "
           "(uid 50000, gid image default, fsGroup 0).")
TEMPLATE_CONTEXT = "      securityContext:\n        runAsUser: 1000\n        runAsGroup: 1000\n"


def run(stream: bytes, text: str = SPEC):
    output, ledger = transform(stream, text)
    return output, [str(w) for w in ledger.warnings]


def with_template_context(lines: str) -> bytes:
    text = USERS.read_text()
    assert TEMPLATE_CONTEXT in text
    return text.replace(TEMPLATE_CONTEXT, "      securityContext:\n" + lines).encode()


# -- through the CLI ------------------------------------------------------------------------------
def test_different_users_without_a_shared_group_warn(tmp_path):
    result = run_main(["-c", write_spec(tmp_path, SPEC), "--report", str(tmp_path / "r.json")], USERS.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    (entry,) = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert entry["id"] == "claim-not-writable" and entry["severity"] == "warning"
    warning = entry["message"]
    assert warning.startswith(WARNING)
    assert result.stderr.decode() == f"postrender: warning[claim-not-writable]: {warning}\n"
    for doc in load_all(result.stdout):
        validate_k8s(doc)
    again = run_main(["-c", write_spec(tmp_path, SPEC)], result.stdout)
    assert again.stdout == result.stdout and again.stderr == result.stderr  # idempotent, and still said


@pytest.mark.parametrize("context", [
    "        runAsUser: 1000\n        runAsGroup: 1000\n        fsGroup: 0\n",  # the pod template joins fsGroup 0
    # ... as a supplemental group
    "        runAsUser: 1000\n        runAsGroup: 1000\n        supplementalGroups: [0]\n",
    "        runAsUser: 1000\n        runAsGroup: 0\n",  # ... as its primary group
    "        runAsUser: 50000\n        runAsGroup: 1000\n",  # one user everywhere
    "        runAsGroup: 1000\n",  # the image's default user: not guessed at
], ids=["fsGroup", "supplementalGroups", "runAsGroup", "same user", "image default user"])
def test_a_shared_group_or_one_user_is_fine(context):
    _, warnings = run(with_template_context(context))
    assert warnings == []


def test_the_owner_group_must_be_some_pods_fsGroup():
    """A group all of them are in, but that no pod's fsGroup makes the volume's owner: still a warning."""
    text = USERS.read_text().replace("fsGroup: 0", "supplementalGroups: [7]")
    text = text.replace(TEMPLATE_CONTEXT, TEMPLATE_CONTEXT + "        supplementalGroups: [7]\n")
    _, warnings = run(text.encode())
    assert len(warnings) == 1 and "share no group" in warnings[0]


def test_read_only_mounts_and_volumes_write_nothing():
    ro = SPEC.replace("    replace: true\n", "    replace: true\n    readOnly: true\n")
    _, warnings = run(USERS.read_bytes(), ro)
    assert warnings == []
    # the task pods write, the scheduler and the api-server only read (a second volume on the claim)
    split = ("volumes:\n"
             "  - {name: logs, claimName: airflow-logs, mountPath: /opt/airflow/logs, replace: true,"
             " targets: [pod-template]}\n"
             "  - {name: logs-view, claimName: airflow-logs, mountPath: /opt/airflow/logs-view, readOnly: true,"
             " targets: [scheduler, api-server]}\n")
    out, warnings = run(USERS.read_bytes(), split)
    assert warnings == []
    (template,) = pod_templates(load_all(out)).values()
    assert {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-logs"}} in template["spec"]["volumes"]


def test_krm_results_carry_the_warning():
    items = "".join("\n- " + "\n  ".join(doc.strip("\n").splitlines())
                    for doc in USERS.read_text().split("\n---\n")[1:])
    config = "".join("  " + line + "\n" for line in SPEC.splitlines())
    stdin = f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:{items}\nfunctionConfig:\n{config}"
    result = run_main([], stdin.encode())
    assert result.returncode == 0, result.stderr.decode()
    (out,) = load_all(result.stdout)
    assert any(r["severity"] == "warning" and r["message"].startswith(WARNING) for r in out["results"])


# -- the rule, pure -------------------------------------------------------------------------------
def test_run_as_container_first_then_pod():
    pod = {"securityContext": {"runAsUser": 50000, "runAsGroup": 0}}
    assert run_as(pod, {}) == (50000, 0)
    assert run_as(pod, {"securityContext": {"runAsUser": 1001}}) == (1001, 0)
    assert run_as({}, {"securityContext": {"runAsGroup": 5}}) == (None, 5)
    assert run_as({"securityContext": {"runAsUser": "50000"}}, {}) == (None, None)  # not an integer: unknown


def test_writers_follow_the_claim_through_volumes_and_mounts():
    pod = {"securityContext": {"runAsUser": 50000, "fsGroup": 0, "supplementalGroups": [7]},
           "volumes": [{"name": "a", "persistentVolumeClaim": {"claimName": "c"}},
                       {"name": "b", "persistentVolumeClaim": {"claimName": "c", "readOnly": True}},
                       {"name": "e", "emptyDir": {}}],
           "initContainers": [{"name": "init", "volumeMounts": [{"name": "a", "mountPath": "/a"}]}],
           "containers": [{"name": "rw", "volumeMounts": [{"name": "a", "mountPath": "/a"}]},
                          {"name": "ro", "volumeMounts": [{"name": "a", "mountPath": "/a", "readOnly": True}]},
                          {"name": "ro-volume", "volumeMounts": [{"name": "b", "mountPath": "/b"}]},
                          {"name": "other", "volumeMounts": [{"name": "e", "mountPath": "/e"}]}]}
    found = writers("Deployment/x", pod, "c")
    assert [w.container for w in found] == ["init", "rw"]
    assert found[0] == Writer("Deployment/x", "init", 50000, None, 0, (7,))
    assert found[0].groups == {0, 7}
    assert writers("Deployment/x", pod, "other-claim") == [] and writers("x", None, "c") == []


def unshared(found):
    return ClaimWriters.of(found).unshared


def test_unshared_writers_rule():
    a = Writer("A", "a", 50000, 0, 0)
    b = Writer("B", "b", 1000, 1000, None)
    assert unshared([a, b])
    assert not unshared([a, b._replace(supplemental=(0,))])
    assert not unshared([a, b._replace(gid=0)])
    assert not unshared([a, b._replace(uid=50000)])
    assert not unshared([a, b._replace(uid=None)])  # the image's default user: unknown
    assert unshared([a._replace(fs_group=None), b._replace(gid=0)])  # a shared group that owns nothing
    assert writability_warning("c", ClaimWriters.of([a])) is None
    text = writability_warning("c", ClaimWriters.of([a, b, Writer("A", "sidecar", 1, None, 0)]))
    assert "A container a (uid 50000, gid 0, fsGroup 0); A container sidecar (uid 1, gid image default" in text


def rule_on_the_whole_list(found):
    """The rule as ClaimWriters' docstring states it, on every writer at once."""
    known = [w for w in found if w.uid is not None]
    if len({w.uid for w in known}) < 2:
        return False
    owners = {w.fs_group for w in known if w.fs_group is not None}
    return not any(all(group in w.groups for w in known) for group in owners)


small_ids = st.one_of(st.none(), st.integers(0, 3))
some_writers = st.lists(st.builds(Writer, st.just("P"), st.just("c"), small_ids, small_ids, small_ids,
                                  st.lists(st.integers(0, 3), max_size=2).map(tuple)), max_size=8)


@given(some_writers, some_writers)
def test_running_summary_decides_as_the_whole_list_does_also_when_merged(first, second):
    assert unshared(first + second) == rule_on_the_whole_list(first + second)
    merged = ClaimWriters.of(first)
    merged.merge(pickle.loads(pickle.dumps(ClaimWriters.of(second))))  # as from the forked child
    assert merged.unshared == rule_on_the_whole_list(first + second)


def test_a_claim_with_many_writers_names_the_first_and_counts_the_rest():
    record = ClaimWriters.of(Writer(f"Deployment/d{i}", "c", i, i, None) for i in range(10_000))
    assert len(record.shown) == SHOWN and record.count == 10_000
    text = writability_warning("c", record)
    assert "Deployment/d0 (uid 0" in text and "Deployment/d25 " not in text
    assert f"and {10_000 - SHOWN} more containers" in text


# -- --inspect ----------------------------------------------------------------------------------------
def test_inspect_shows_who_each_pod_runs_as():
    table = run_main(["--inspect"], USERS.read_bytes())
    assert table.returncode == 0, table.stderr.decode()
    lines = table.stdout.decode().splitlines()
    assert "    runs as user 1000, group 1000, fsGroup none" in lines
    assert lines.count("    runs as user 50000, group image default, fsGroup 0") == 2
    result = run_main(["--inspect", "--output", "json"], USERS.read_bytes())
    found = json.loads(result.stdout)
    (template,) = found["podTemplates"]
    assert (template["runAsUser"], template["runAsGroup"], template["fsGroup"], template["supplementalGroups"]) == (
        1000, 1000, None, [])
    api = next(w for w in found["workloads"] if w["name"] == "demo-api-server")
    assert (api["runAsUser"], api["fsGroup"]) == (None, 0)
    assert [(c["name"], c["runAsUser"], c["runAsGroup"]) for c in api["containers"]] == [("api-server", 50000, None)]


def test_inspect_names_a_container_that_runs_as_someone_else():
    text = USERS.read_text().replace("          securityContext:\n            runAsUser: 50000\n",
                                     "          securityContext:\n            runAsUser: 50000\n"
                                     "        - name: sidecar\n          image: busybox\n"
                                     "          securityContext:\n            runAsUser: 1\n"
                                     "            runAsGroup: 2\n")
    table = run_main(["--inspect"], text.encode()).stdout.decode()
    assert "    runs as user 50000, group image default, fsGroup 0; sidecar: user 1, group 2" in table.splitlines()


# -- a claim only one pod may use, on a workload that runs several ------------------------------------
SEVERAL_PODS = FIXTURES / "edges" / "several-pods-helm4.yaml"  # replicas: 2, replicas: 1, a DaemonSet


@pytest.mark.parametrize("target, warned", [
    ("scheduler", "Deployment/demo-scheduler (replicas: 2)"),
    ("log-shipper", "DaemonSet/demo-log-shipper (a pod per node)"),
    ("triggerer", None),  # one replica: one pod
])
def test_a_readwriteonce_claim_on_a_workload_of_several_pods_is_a_warning(tmp_path, target, warned):
    spec = write_spec(tmp_path, f"""\
volumes:
  - name: data
    claimName: data
    mountPath: /data
    targets: [{target}]
    create: {{storage: 1Gi, accessModes: [ReadWriteOnce]}}
""")
    result = run_main(["-c", spec], SEVERAL_PODS.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    stderr = result.stderr.decode()
    if warned is None:
        assert "ReadWriteOnce" not in stderr
    else:
        assert f"claim 'data' is ReadWriteOnce but is mounted by {warned}: pods on different nodes" in stderr
    for doc in load_all(result.stdout):
        validate_k8s(doc)


def test_several_pods_reads_the_pod_count_as_text_and_knows_a_daemonset():
    from postrender.yamlio import load
    deployment = load("spec: {replicas: 3}")
    assert several_pods("Deployment", deployment) == "replicas: 3"
    assert several_pods("Deployment", load("spec: {replicas: 1}")) is None
    assert several_pods("Deployment", load("spec: {}")) is None  # absent: one
    assert several_pods("StatefulSet", load("spec: {replicas: '3'}")) is None  # a string is not a count
    assert several_pods("Job", load("spec: {parallelism: 4}")) == "parallelism: 4"
    assert several_pods("DaemonSet", {}) == "a pod per node"
    assert several_pods("CronJob", load("spec: {replicas: 3}")) is None
