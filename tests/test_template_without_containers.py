"""A worker pod template without `spec` or containers (contract point 5), through the real CLI.

The official chart lets users replace the template with their own string (`podTemplate`), and such a
template may leave the containers to Airflow, which merges it into the pod it builds for each task.
postrender gives it the volumes and a stub container `base` carrying only the mounts; what counts is
the task pod Airflow makes of it (`airflow_merge.task_pod_from`), which must mount the volume.
"""
import difflib
import json

import pytest

from airflow_merge import task_pod_from
from conftest import FIXTURES, by_name, load_all, pod_templates, run_main, validate_k8s, write_spec

TEMPLATES = FIXTURES / "templates"
KEY = "release-name-config/pod_template_file.yaml"
SHAPES = ["specless", "empty-spec", "no-containers"]
FORMS = [f"{shape}-{helm}" for shape in SHAPES for helm in ("helm3", "helm4")]
CLAIM = {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}
MOUNT = {"name": "logs", "mountPath": "/opt/airflow/logs"}

LOGS_SPEC = """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    targets: [pod-template]
"""


def fixture(form: str) -> bytes:
    return (TEMPLATES / f"{form}.yaml").read_bytes()


def postrender(args, stdin: bytes):
    result = run_main(args, stdin)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    return result.stdout, result.stderr.decode()


def template_of(out: bytes):
    return pod_templates(load_all(out))[KEY]


@pytest.mark.parametrize("form", FORMS)
def test_adds_base_stub_and_volume_to_pod_template_without_containers(form, tmp_path):
    out, err = postrender(["-c", write_spec(tmp_path, LOGS_SPEC)], fixture(form))
    assert err == ""
    spec = template_of(out)["spec"]
    assert spec == {"containers": [{"name": "base", "volumeMounts": [MOUNT]}], "volumes": [CLAIM]}


@pytest.mark.parametrize("form", FORMS)
def test_task_pod_airflow_builds_from_the_template_mounts_the_claim(form, tmp_path):
    """Airflow merges the template's first container into its task container `base`
    (volumeMounts extended) and extends the pod's volumes: the task container mounts the claim.
    The task pod is what Kubernetes runs, so that is what is schema-validated (with the template
    and the ConfigMap that carries it)."""
    out, _ = postrender(["-c", write_spec(tmp_path, LOGS_SPEC)], fixture(form))
    template = template_of(out)
    pod = task_pod_from(template)
    [task] = pod["spec"]["containers"]
    assert task["name"] == "base" and task["image"] == "apache/airflow:3.1.7"
    assert MOUNT in task["volumeMounts"]
    assert pod["spec"]["volumes"] == [CLAIM]
    validate_k8s(pod)
    validate_k8s(template)
    validate_k8s(by_name(load_all(out), "ConfigMap", "release-name-config"))


@pytest.mark.parametrize("form", FORMS)
def test_pod_template_without_containers_changes_only_its_spec_lines_and_keeps_its_style(form, tmp_path):
    original = fixture(form).decode()
    out, _ = postrender(["-c", write_spec(tmp_path, LOGS_SPEC)], original.encode())
    text = out.decode()
    diff = [line for line in difflib.unified_diff(original.splitlines(), text.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    removed = [line for line in diff if line.startswith("-")]
    if form.endswith("helm3"):
        assert "  pod_template_file.yaml: |-" in text.splitlines()
        # only the old spec line goes (none for a template without one); the rest is added
        assert removed == {"specless": [], "empty-spec": ["-    spec: {}"],
                           "no-containers": ["-    spec: {containers: []}"]}[form.rsplit("-", 1)[0]]
    else:
        # Helm 4: the template is one double-quoted line, which is the only line that changes
        assert len(removed) == 1 and removed[0].startswith('-  pod_template_file.yaml: "')
        assert [line for line in diff if line.startswith("+")][0].startswith('+  pod_template_file.yaml: "')
        assert len(diff) == 2


@pytest.mark.parametrize("form", FORMS)
def test_second_run_over_a_stubbed_pod_template_changes_nothing(form, tmp_path):
    spec = write_spec(tmp_path, LOGS_SPEC)
    once, _ = postrender(["-c", spec], fixture(form))
    twice, err = postrender(["-c", spec], once)
    assert twice == once and err == ""


@pytest.mark.parametrize("form", ["specless-helm3", "empty-spec-helm4"])
def test_containers_filter_excluding_base_leaves_the_stub_out_and_warns(form, tmp_path):
    spec = write_spec(tmp_path, LOGS_SPEC + "    containers: [worker]\n")
    out, err = postrender(["-c", spec, "--report", "-"], fixture(form))
    template = template_of(out)
    assert template["spec"]["volumes"] == [CLAIM]
    assert not template["spec"].get("containers")
    assert "volume 'logs' is added but will not be mounted" in err and "'base'" in err
    report = json.loads(err[err.index("{"):])
    assert "not-mounted" not in [c["action"] for c in report["changes"]]  # a warning, not a change
    assert [w["id"] for w in report["warnings"]] == ["volume-not-mounted"]
    # what Airflow runs: the volume is there, unmounted
    [task] = task_pod_from(template)["spec"]["containers"]
    assert not task.get("volumeMounts")
    # idempotent, and it still says so
    again, err_again = postrender(["-c", spec], out)
    assert again == out and "will not be mounted" in err_again


def test_report_names_the_added_base_stub(tmp_path):
    out, err = postrender(["-c", write_spec(tmp_path, LOGS_SPEC), "--report", "-"], fixture("specless-helm3"))
    changes = json.loads(err)["changes"]
    assert [(c["action"], c.get("volume"), c.get("container")) for c in changes] == [
        ("added-container", None, "base"), ("added", "logs", None), ("added-mount", "logs", "base")]


@pytest.mark.parametrize("form", ["specless-helm3", "specless-helm4", "no-containers-helm3"])
def test_logs_claim_mounts_the_default_logs_path_on_a_base_stub(form):
    """Nothing in such a template says where the logs are: `--logs-claim` mounts the claim at the
    official image's `/opt/airflow/logs` through the `base` stub."""
    out, _ = postrender(["--logs-claim", "airflow-log-pvc"], fixture(form))
    template = template_of(out)
    assert template["spec"] == {"containers": [{"name": "base", "volumeMounts": [MOUNT]}], "volumes": [CLAIM]}
    assert MOUNT in task_pod_from(template)["spec"]["containers"][0]["volumeMounts"]
    again, _ = postrender(["--logs-claim", "airflow-log-pvc"], out)
    assert again == out


def test_workload_without_containers_is_still_an_error(tmp_path):
    """Only the embedded template leaves its containers to Airflow; a workload keeps rule 5."""
    stream = (b"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: airflow-worker\n"
              b"  labels:\n    component: worker\nspec:\n  template:\n    spec:\n      containers: []\n")
    result = run_main(["--volume", "data=airflow-data:/opt/airflow/data"], stream)
    assert result.returncode == 1 and result.stdout == b""
    assert "no containers" in result.stderr.decode() and "Deployment/airflow-worker" in result.stderr.decode()


@pytest.mark.parametrize("form", ["specless-helm3", "no-containers-helm4"])
def test_inspect_shows_containers_supplied_by_airflow(form):
    table, _ = postrender(["--inspect"], fixture(form))
    assert "(containers supplied by Airflow: the task container `base`)" in table.decode()
    assert "(no pod spec)" not in table.decode()
    found, _ = postrender(["--inspect", "--output", "json"], fixture(form))
    [template] = json.loads(found)["podTemplates"]
    assert template["containersSuppliedByAirflow"] is True and template["containers"] == []


def test_krm_function_adds_the_base_stub_too(tmp_path):
    configmap = load_all(fixture("specless-helm3"))[0]
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [configmap],
                     "functionConfig": {"apiVersion": "postrender/v1", "kind": "VolumeInjection",
                                        "volumes": [{"name": "logs", "claimName": "airflow-log-pvc",
                                                     "mountPath": "/opt/airflow/logs", "targets": ["pod-template"]}]}}
    out, _ = postrender([], json.dumps(resource_list).encode())
    [result] = load_all(out)
    [item] = result["items"]
    template = load_all(item["data"]["pod_template_file.yaml"])[0]
    assert template["spec"] == {"containers": [{"name": "base", "volumeMounts": [MOUNT]}], "volumes": [CLAIM]}
    assert any(r.get("tags", {}).get("action") == "added-container" for r in result["results"])
