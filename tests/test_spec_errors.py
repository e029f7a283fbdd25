"""Spec errors (exit 2) and conflicts (exit 1), through the real CLI.

On every failure stdout stays empty, and stderr says in a few lines which file, line and
volume is wrong — never a traceback.
"""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, STREAMS, run_main, write_spec

STREAM = (STREAMS / "worker-pod-template.yaml").read_bytes() + b"""\
---
# Source: airflow/templates/scheduler/scheduler-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: airflow-scheduler
  labels:
    component: scheduler
spec:
  template:
    spec:
      containers:
        - name: scheduler
          image: apache/airflow:3.1.7
          volumeMounts:
            - name: logs
              mountPath: /opt/airflow/logs
      volumes:
        - name: logs
          emptyDir: {}
---
# Source: airflow/templates/triggerer/triggerer-statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: airflow-triggerer
  labels:
    component: triggerer
spec:
  template:
    spec:
      containers:
        - name: triggerer
          image: apache/airflow:3.1.7
          volumeMounts:
            - name: logs
              mountPath: /opt/airflow/logs
  volumeClaimTemplates:
    - metadata:
        name: logs
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 100Gi
"""


def volume(**fields) -> str:
    base = {"name": "logs", "claimName": "airflow-log-pvc", "mountPath": "/opt/airflow/logs"}
    base.update(fields)
    lines = []
    for key, value in base.items():
        if value is None:
            continue
        lines.append(f"    {key}: {value}")
    return "volumes:\n  -" + "\n".join(lines)[3:] + "\n"


def run(tmp_path: Path, spec_text, stdin: bytes = STREAM, extra=()) -> subprocess.CompletedProcess:
    path = tmp_path / "spec.yaml"
    if isinstance(spec_text, bytes):
        path.write_bytes(spec_text)
    else:
        path.write_text(spec_text)
    return run_main(["-c", str(path), *extra], stdin)


def assert_fails(result: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, (result.returncode, err)
    assert result.stdout == b"", result.stdout[:300]
    assert "Traceback" not in err, err
    assert err.startswith("postrender: error: "), err
    assert len(err.strip().splitlines()) <= 6, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_a_valid_spec_works(tmp_path):
    result = run(tmp_path, volume(replace="true"))
    assert result.returncode == 0, result.stderr.decode()
    assert b"claimName: airflow-log-pvc" in result.stdout


# -- invalid values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Logs", "logs_data", "-logs", "logs-", "a.b", "'x y'", "a" * 64, '""', "ünï"])
def test_invalid_volume_names(tmp_path, name):
    assert_fails(run(tmp_path, volume(name=name)), 2, "spec.yaml", "line 2", "name")


@pytest.mark.parametrize("claim", ["Airflow-Logs", "claim_1", "-claim", "claim.", "a..b", "x" * 254, '""'])
def test_invalid_claim_names(tmp_path, claim):
    assert_fails(run(tmp_path, volume(claimName=claim)), 2, "spec.yaml", "line 3", "claimName", "volume logs")


@pytest.mark.parametrize("claim", ["airflow-logs", "a.b.c", "x" * 253, "0-claim"])
def test_valid_claim_names(tmp_path, claim):
    result = run(tmp_path, volume(claimName=claim, replace="true"))
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("path", ["opt/airflow/logs", "logs", "./logs", "''", "~/logs"])
def test_relative_mount_path(tmp_path, path):
    assert_fails(run(tmp_path, volume(mountPath=path)), 2, "spec.yaml", "line 4", "mountPath", "volume logs")


@pytest.mark.parametrize("sub_path", ["/abs", "..", "../x", "a/..", "a/../b", "a/b/../../..", "/"])
def test_bad_sub_path(tmp_path, sub_path):
    assert_fails(run(tmp_path, volume(subPath=sub_path)), 2, "spec.yaml", "line 5", "subPath", "volume logs")


@pytest.mark.parametrize("sub_path", ["logs", "a/b", "..a", "a..", "a/..b/c"])
def test_good_sub_path(tmp_path, sub_path):
    result = run(tmp_path, volume(subPath=sub_path, replace="true"))
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("field, value", [
    ("readOnly", '"yes"'), ("readOnly", "1"), ("replace", "maybe"), ("targets", "scheduler"),
    ("targets", "[]"), ("containers", "base"), ("containers", "[]"), ("name", "[logs]"), ("claimName", "42"),
    ("create", "50Gi"),
])
def test_wrong_types(tmp_path, field, value):
    assert_fails(run(tmp_path, volume(**{field: value})), 2, "spec.yaml", "line", field)


# -- unknown and missing keys ----------------------------------------------------------------------------------
@pytest.mark.parametrize("typo, meant", [
    ("claimname", "claimName"), ("mountpath", "mountPath"), ("readonly", "readOnly"), ("subpath", "subPath"),
    ("target", "targets"), ("container", "containers"), ("replaces", "replace"),
])
def test_unknown_volume_key_suggests_the_nearest(tmp_path, typo, meant):
    text = volume() + f"    {typo}: x\n"
    assert_fails(run(tmp_path, text), 2, "spec.yaml", "line 5", f"unknown key {typo!r}", f"did you mean {meant!r}",
                 "volume logs")


def test_unknown_top_level_key_suggests_the_nearest(tmp_path):
    assert_fails(run(tmp_path, "volume:\n  - name: logs\n"), 2, "spec.yaml", "line 1", "'volume'",
                 "did you mean 'volumes'")


def test_unknown_create_key_suggests_the_nearest(tmp_path):
    text = volume() + "    create:\n      stroage: 5Gi\n"
    assert_fails(run(tmp_path, text), 2, "spec.yaml", "line 6", "'stroage'", "did you mean 'storage'")


def test_unknown_key_far_from_any_lists_the_known_ones(tmp_path):
    text = volume() + "    zzzzzz: 1\n"
    assert_fails(run(tmp_path, text), 2, "spec.yaml", "'zzzzzz'", "claimName")


@pytest.mark.parametrize("missing", ["name", "claimName", "mountPath"])
def test_missing_required_keys(tmp_path, missing):
    err = assert_fails(run(tmp_path, volume(**{missing: None})), 2, "spec.yaml", "line 2",
                       f"missing required key {missing!r}")
    if missing != "name":
        assert "volume logs" in err


def test_create_without_storage(tmp_path):
    text = volume() + "    create:\n      storageClassName: nfs\n"
    assert_fails(run(tmp_path, text), 2, "spec.yaml", "storage", "volume logs")


def test_duplicate_volume_names_in_one_file(tmp_path):
    text = volume() + "  - name: logs\n    claimName: other\n    mountPath: /data\n"
    assert_fails(run(tmp_path, text), 2, "spec.yaml", "line 5", "'logs'", "twice")


def test_the_same_name_in_two_files_is_layering_not_an_error(tmp_path):
    first = write_spec(tmp_path, volume(claimName="first", replace="true"), "a.yaml")
    second = write_spec(tmp_path, volume(claimName="second", replace="true"), "b.yaml")
    result = run_main(["-c", first, "-c", second], STREAM)
    assert result.returncode == 0, result.stderr.decode()
    assert b"claimName: second" in result.stdout and b"claimName: first" not in result.stdout


def test_two_volumes_that_create_one_claim_differently(tmp_path):
    two = ("volumes:\n"
           "  - {name: a, claimName: shared, mountPath: /a, create: {storage: 1Gi}}\n"
           "  - {name: b, claimName: shared, mountPath: /b, create: {storage: %s}}\n")
    assert_fails(run(tmp_path, two % "5Gi"), 2, "volumes 'a'", "'b'", "create claim 'shared', differently")
    same = run_main(["-c", write_spec(tmp_path, two % "1Gi", "same.yaml")], STREAM)
    assert same.returncode == 0, same.stderr.decode()
    assert same.stdout.count(b"kind: PersistentVolumeClaim") == 1


def test_duplicate_key_inside_a_volume(tmp_path):
    text = volume() + "    name: other\n"
    assert_fails(run(tmp_path, text), 2, "spec.yaml", "line 5", "duplicate key 'name'")


# -- files that are not a spec ------------------------------------------------------------------------------
@pytest.mark.parametrize("content", ["", "\n\n", "   \n", "# only a comment\n", "---\n", "...\n"])
def test_empty_file(tmp_path, content):
    assert_fails(run(tmp_path, content), 2, "spec.yaml")


@pytest.mark.parametrize("content, needle", [
    ("volumes: [\n", "line"),
    ("{{ .Values.volumes }}\n  - : :\n", "line"),
    ("volumes:\n\t- name: logs\n", "line 2"),
    ("volumes:\n  - name: logs\n   claimName: x\n", "line 3"),
    ("a: 1\n---\nb: 2\n", "line"),
    ("volumes: []\x00\n", "line 1"),
])
def test_a_file_that_is_not_yaml(tmp_path, content, needle):
    assert_fails(run(tmp_path, content), 2, "spec.yaml", needle)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x01", b"volumes:\n  - name: l\xe9gs\n", bytes(range(256))])
def test_a_binary_or_non_utf8_file(tmp_path, content):
    assert_fails(run(tmp_path, content), 2, "spec.yaml", "UTF-8")


@pytest.mark.parametrize("content", ["- name: logs\n", "logs\n", "42\n", "null\n", "[]\n", '"volumes"\n'])
def test_a_file_that_is_not_a_mapping(tmp_path, content):
    assert_fails(run(tmp_path, content), 2, "spec.yaml", "mapping")


@pytest.mark.parametrize("content", ["volumes:\n", "volumes: {}\n", "volumes: logs\n", "volumes: [logs]\n",
                                     "spec: {}\n", "spec: []\n", "metadata: {}\n"])
def test_volumes_must_be_a_list_of_mappings(tmp_path, content):
    assert_fails(run(tmp_path, content), 2, "spec.yaml", "line 1")


def test_abusive_yaml_in_the_spec_is_refused(tmp_path):
    bomb = 'a: &a [x,x,x,x,x,x,x,x,x,x]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(7))
    assert_fails(run(tmp_path, bomb + "volumes: *h\n"), 2, "spec.yaml", "alias")
    deep = "volumes: " + "[" * 100_000 + "]" * 100_000 + "\n"
    assert_fails(run(tmp_path, deep), 2, "spec.yaml", "nested")


def test_python_tags_in_the_spec_are_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = f'volumes: !!python/object/apply:os.system ["touch {marker}"]\n'
    result = run(tmp_path, text)
    assert not marker.exists()
    assert_fails(result, 2, "spec.yaml")
    text = volume() + f'    claimName: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert_fails(run(tmp_path, text), 2, "spec.yaml")
    assert not marker.exists()


def test_a_missing_or_unreadable_spec_file(tmp_path):
    assert_fails(run_main(["-c", str(tmp_path / "nope.yaml")], STREAM), 2, "nope.yaml")
    assert_fails(run_main(["-c", str(tmp_path)], STREAM), 2, str(tmp_path))


@pytest.mark.parametrize("option", ["logs", "logs=claim", "logs=claim:", "=claim:/x", "Logs=claim:/x",
                                    "logs=Claim:/x", "logs=claim:relative", "logs=claim:/x:RO", "logs=claim:/x:ro:y"])
def test_bad_volume_option(tmp_path, option):
    assert_fails(run_main(["--volume", option], STREAM), 2, "--volume")


def test_a_volume_option_given_twice_for_one_name_is_a_usage_error(tmp_path):
    result = run_main(["--volume", "data=a:/a", "--volume", "data=b:/b"], STREAM)
    assert_fails(result, 2, "volume 'data' is already given by --volume 'data=a:/a'")


def test_bad_option_is_a_usage_error(tmp_path):
    assert_fails(run_main(["--no-such-option"], STREAM), 2)


# -- conflicts with what the objects already hold: exit 1 -----------------------------------------------------
def test_another_volume_at_the_mount_path_without_replace(tmp_path):
    text = volume(name="data", claimName="data-pvc", targets="[scheduler]")
    assert_fails(run(tmp_path, text), 1, "Deployment/airflow-scheduler", "container scheduler", "'logs'",
                 "/opt/airflow/logs", "replace: true")


def test_another_volume_at_the_mount_path_in_the_pod_template_without_replace(tmp_path):
    text = volume(name="data", claimName="data-pvc", targets="[pod-template]")
    assert_fails(run(tmp_path, text), 1, "ConfigMap/airflow-config", "container base", "/opt/airflow/logs")


def test_a_different_same_named_volume_without_replace(tmp_path):
    text = volume(mountPath="/logs", targets="[scheduler]")
    assert_fails(run(tmp_path, text), 1, "Deployment/airflow-scheduler", "'logs'", "emptyDir", "replace: true")


def test_a_claim_template_of_the_same_name_without_replace(tmp_path):
    text = volume(targets="[triggerer]")
    assert_fails(run(tmp_path, text), 1, "StatefulSet/airflow-triggerer", "volumeClaimTemplates", "'logs'")


def test_conflicts_resolve_with_replace(tmp_path):
    text = volume(replace="true", targets="[pod-template, scheduler, triggerer]")
    result = run(tmp_path, text)
    assert result.returncode == 0, result.stderr.decode()
    assert b"volumeClaimTemplates" not in result.stdout
    assert b"emptyDir" not in result.stdout


# the lines of tests/fixtures/edges/conflicts-helm3.yaml / -helm4.yaml that each conflict is about
CONFLICTS = FIXTURES / "edges"


@pytest.mark.parametrize("stream, spec, where", [
    # a same-named volume: the line of that volume
    ("conflicts-helm3.yaml", "{name: logs, claimName: c, mountPath: /logs, targets: [scheduler]}",
     "document 2, line 42, Deployment/demo-scheduler"),
    ("conflicts-helm3.yaml", "{name: logs, claimName: c, mountPath: /logs, targets: [pod-template]}",
     "document 1, line 21, ConfigMap/demo-config, key pod_template_file.yaml"),
    # another volume's mount at the path: the line of that mount
    ("conflicts-helm3.yaml", "{name: data, claimName: c, mountPath: /opt/airflow/logs, targets: [scheduler]}",
     "document 2, line 39, Deployment/demo-scheduler, container scheduler"),
    ("conflicts-helm3.yaml", "{name: data, claimName: c, mountPath: /opt/airflow/logs, targets: [pod-template]}",
     "document 1, line 18, ConfigMap/demo-config, key pod_template_file.yaml, container base"),
    # a claim template of that name: its line
    ("conflicts-helm3.yaml", "{name: logs, claimName: c, mountPath: /logs, targets: [triggerer]}",
     "document 3, line 60, StatefulSet/demo-triggerer"),
    # a quoted template's own lines are not the stream's: the line of its key
    ("conflicts-helm4.yaml", "{name: logs, claimName: c, mountPath: /logs, targets: [pod-template]}",
     "document 1, line 9, ConfigMap/demo-config, key pod_template_file.yaml"),
])
def test_a_conflict_names_the_line_of_what_it_conflicts_with(tmp_path, stream, spec, where):
    path = write_spec(tmp_path, f"volumes:\n  - {spec}\n")
    data = (CONFLICTS / stream).read_bytes()
    assert_fails(run_main(["-c", path], data), 1, where)
    # the same among tiny documents read together, and with CRLF line ends
    padded = b"---\na: 1\n" * 3 + data.replace(b"\n", b"\r\n")
    shifted = re.sub(r"document (\d+), line (\d+)",
                     lambda m: f"document {int(m[1]) + 3}, line {int(m[2]) + 6}", where)
    assert_fails(run_main(["-c", path], padded), 1, shifted)
