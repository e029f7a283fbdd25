"""A key repeated in a mapping is read as Helm 3 and kubectl read it: the last occurrence wins.

The official chart renders pod annotations from several values into one mapping, so a key set
both by the chart (or globally) and per component appears twice. Such releases install without
postrender; they must install with it too. Documents postrender does not change stay byte for
byte; in a changed one the edit goes to the occurrence that wins, and an edit of a repeated key
itself is a warning naming the key and its lines.

The expected values are read with PyYAML, an independent reader that, like sigs.k8s.io/yaml,
lets the last occurrence win.
"""
import json

import pytest
import yaml

from conftest import FIXTURES, run_main, validate_k8s, write_spec
from postrender.errors import Where
from postrender.patch import patch
from postrender.yamlio import Plain, parse

DUPLICATES = FIXTURES / "duplicates"
CLAIM = "airflow-log-pvc"
DATA_SPEC = """\
volumes:
  - name: data
    claimName: data-pvc
    mountPath: /opt/airflow/data
    targets: [scheduler]
"""


def read_all(data: bytes):
    """The objects as kubectl reads them (last occurrence wins)."""
    return [doc for doc in yaml.safe_load_all(data.decode("utf-8")) if doc is not None]


def the(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    assert len(found) == 1
    return found[0]


def ok(proc):
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    return proc.stdout


def warnings_of(proc):
    return [line for line in proc.stderr.decode().splitlines()
            if line.startswith("postrender: warning[repeated-key-edited]: ")]


# -- the reader ---------------------------------------------------------------------------------------
def test_a_repeated_key_reads_as_its_last_occurrence():
    _, data, _ = parse("metadata:\n  name: first\n  labels: {a: 1}\n  name: second\n", Where())
    assert data == {"metadata": {"name": "second", "labels": {"a": Plain("1")}}}  # a number stays its text


# -- the patcher --------------------------------------------------------------------------------------
def test_an_edit_of_a_repeated_key_goes_to_its_last_occurrence_and_is_reported():
    text = "spec:\n  volumes: []\n  other: 1\n  volumes:\n    - name: a\n"
    root, data, memo = parse(text, Where())
    new = {"spec": {"volumes": [{"name": "a"}, {"name": "b"}], "other": 1}}
    patched = patch(text, root, new, memo)
    assert patched.text == "spec:\n  volumes: []\n  other: 1\n  volumes:\n    - name: a\n    - name: b\n"
    assert [(d.key, d.lines) for d in patched.duplicates] == [("volumes", (1, 3))]


def test_an_edit_next_to_a_repeated_key_is_not_reported():
    text = "annotations:\n  example: a\n  example: b\n"
    root, data, memo = parse(text, Where())
    patched = patch(text, root, {"annotations": {"example": "b", "roll": "x"}}, memo)
    assert patched.text == "annotations:\n  example: a\n  example: b\n  roll: x\n"
    assert patched.duplicates == ()


# -- the chart's pattern: repeated pod annotations --------------------------------------------------------
@pytest.mark.parametrize("fixture", ["scheduler-annotations-helm3.yaml", "scheduler-annotations-helm4.yaml"])
def test_repeated_pod_annotations_in_an_untouched_deployment_stay_byte_for_byte(fixture, tmp_path):
    stream = (DUPLICATES / fixture).read_bytes()
    spec = write_spec(tmp_path, DATA_SPEC.replace("[scheduler]", "[triggerer]"))
    proc = run_main(["-c", spec], stream)
    assert ok(proc) == stream
    assert not [w for w in warnings_of(proc) if "repeated" in w]


@pytest.mark.parametrize("fixture", ["scheduler-annotations-helm3.yaml", "scheduler-annotations-helm4.yaml"])
def test_repeated_pod_annotations_in_a_targeted_deployment_take_the_volume_and_the_roll(fixture):
    stream = (DUPLICATES / fixture).read_bytes()
    proc = run_main(["--logs-claim", CLAIM], stream)
    out = ok(proc)
    assert not [w for w in warnings_of(proc) if "repeated" in w]  # no edit touched a repeated key
    deployment = the(read_all(out), "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    # the winning values are untouched, the roll annotation joins them
    assert annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false"
    assert annotations["example"] == "scheduler"
    assert len(annotations["checksum/postrender"]) == 64
    # the earlier occurrences are still there, byte for byte: the Deployment gained one line
    before, after = (text.split("kind: Deployment")[1].splitlines() for text in (stream.decode(), out.decode()))
    added = [line for line in after if line not in before]
    assert len(after) == len(before) + 1 and added[0].strip().startswith("checksum/postrender:")
    validate_k8s(deployment)
    assert ok(run_main(["--logs-claim", CLAIM], out)) == out  # idempotent


def test_a_repeated_volumes_key_in_a_pod_spec_gets_the_volume_in_its_last_occurrence(tmp_path):
    stream = (DUPLICATES / "scheduler-annotations-helm3.yaml").read_text()
    stream = stream.replace("      volumes:\n        - name: config\n",
                            "      volumes: []\n      volumes:\n        - name: config\n")
    spec = write_spec(tmp_path, DATA_SPEC)
    proc = run_main(["-c", spec], stream.encode())
    out = ok(proc)
    pod = the(read_all(out), "Deployment")["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["config", "data"]
    assert "      volumes: []\n      volumes:\n        - name: config\n" in out.decode()  # the first one stays
    first = stream.splitlines().index("      volumes: []") + 1
    warning, = [w for w in warnings_of(proc) if "repeated" in w]
    assert "Deployment/release-name-scheduler" in warning and "'volumes'" in warning
    assert f"lines {first} and {first + 1}" in warning
    validate_k8s(the(read_all(out), "Deployment"))
    assert ok(run_main(["-c", spec], out)) == out


def test_a_repeated_volume_mounts_key_gets_the_mount_in_its_last_occurrence(tmp_path):
    stream = (DUPLICATES / "scheduler-annotations-helm3.yaml").read_text()
    stream = stream.replace("          image: apache/airflow:3.0.2\n          volumeMounts:\n"
                            "            - name: config",
                            "          image: apache/airflow:3.0.2\n          volumeMounts: []\n"
                            "          volumeMounts:\n            - name: config")
    spec = write_spec(tmp_path, DATA_SPEC)
    proc = run_main(["-c", spec], stream.encode())
    out = ok(proc)
    container = the(read_all(out), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert [m["name"] for m in container["volumeMounts"]] == ["config", "data"]
    warning, = [w for w in warnings_of(proc) if "repeated" in w]
    assert "'volumeMounts'" in warning and "container" not in warning.split(": ")[1]  # not in its place
    assert ok(run_main(["-c", spec], out)) == out


def test_two_annotations_mappings_get_the_roll_annotation_in_the_last_one():
    stream = (DUPLICATES / "scheduler-annotations-helm3.yaml").read_text()
    stream = stream.replace("      labels:\n        component: scheduler\n      annotations:\n",
                            "      annotations:\n        first: mapping\n"
                            "      labels:\n        component: scheduler\n      annotations:\n")
    proc = run_main(["--logs-claim", CLAIM], stream.encode())
    out = ok(proc).decode()
    annotations = the(read_all(out.encode()), "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert "first" not in annotations and "checksum/postrender" in annotations
    assert "      annotations:\n        first: mapping\n      labels:" in out  # the earlier mapping as it was
    warning, = [w for w in warnings_of(proc) if "repeated" in w]
    assert "'annotations'" in warning and "Deployment/release-name-scheduler" in warning
    assert ok(run_main(["--logs-claim", CLAIM], out.encode())).decode() == out


def test_a_repeated_name_in_metadata_targets_by_the_winning_value(tmp_path):
    stream = (DUPLICATES / "scheduler-annotations-helm3.yaml").read_text()
    stream = stream.replace("  name: release-name-scheduler\n",
                            "  name: release-name-old\n  name: release-name-scheduler\n")
    spec = write_spec(tmp_path, DATA_SPEC.replace("[scheduler]", "[{kind: Deployment, name: release-name-scheduler}]"))
    out = ok(run_main(["-c", spec], stream.encode()))
    pod = the(read_all(out), "Deployment")["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["config", "data"]
    old = write_spec(tmp_path, DATA_SPEC.replace("[scheduler]", "[{kind: Deployment, name: release-name-old}]"),
                     "old.yaml")
    proc = run_main(["-c", old], stream.encode())
    assert ok(proc) == stream.encode()  # the losing name targets nothing


# -- the embedded pod template ---------------------------------------------------------------------------
@pytest.mark.parametrize("fixture", ["scheduler-annotations-helm3.yaml", "scheduler-annotations-helm4.yaml"])
def test_a_repeated_volumes_key_in_the_pod_template_is_edited_where_it_wins(fixture):
    stream = (DUPLICATES / fixture).read_text()
    if fixture.endswith("helm3.yaml"):
        stream = stream.replace("      volumes:\n      - emptyDir: {}\n",
                                "      volumes: []\n      volumes:\n      - emptyDir: {}\n")
        lines = stream.splitlines()
        first = lines.index("      volumes: []") + 1
        where = f"lines {first} and {first + 1}"
    else:
        stream = stream.replace("\\n  volumes:\\n", "\\n  volumes: []\\n  volumes:\\n")
        where = "lines 12 and 13 of the embedded pod template"
    proc = run_main(["--logs-claim", CLAIM], stream.encode())
    out = ok(proc)
    configmap = the(read_all(out), "ConfigMap")
    template = yaml.safe_load(configmap["data"]["pod_template_file.yaml"])
    assert template["spec"]["volumes"] == [{"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}]
    assert "volumes: []" in configmap["data"]["pod_template_file.yaml"]  # the earlier occurrence stays
    warning, = [w for w in warnings_of(proc) if "repeated" in w]
    assert "ConfigMap/release-name-config" in warning and "pod_template_file.yaml" in warning
    assert "'volumes'" in warning and where in warning
    assert ok(run_main(["--logs-claim", CLAIM], out)) == out


# -- KRM mode -----------------------------------------------------------------------------------------------
def test_krm_mode_edits_the_winning_occurrence_and_reports_the_repeated_key():
    stream = (DUPLICATES / "scheduler-annotations-helm3.yaml").read_text()
    deployment = stream.split("---\n")[2].replace("      volumes:\n        - name: config\n",
                                                  "      volumes: []\n      volumes:\n        - name: config\n")
    item = "\n".join("    " + line if line else line for line in deployment.splitlines())
    resource_list = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n  - " + item.lstrip()
                     + "\nfunctionConfig:\n  apiVersion: postrender/v1\n  kind: VolumeInjection\n  volumes:\n"
                     "    - name: data\n      claimName: data-pvc\n      mountPath: /opt/airflow/data\n"
                     "      targets: [scheduler]\n")
    out = ok(run_main([], resource_list.encode()))
    result = yaml.safe_load(out)
    pod = result["items"][0]["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["config", "data"]
    assert "          volumes: []\n          volumes:\n" in out.decode()  # the earlier one stays
    warnings = [r for r in result["results"] if r["severity"] == "warning"]
    assert len(warnings) == 1 and "'volumes'" in warnings[0]["message"]
    assert warnings[0]["resourceRef"]["name"] == "release-name-scheduler"
    json.dumps(result)  # plain data all the way
