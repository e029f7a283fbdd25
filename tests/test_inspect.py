"""`postrender --inspect`: the worker pod templates and workloads of a render, with containers,
volumes (and what backs them) and mounts, as a table for people or JSON for scripts."""
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import run_main
from postrender.inventory import describe_source, inspect_stream, inventory

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "operator"
HELM3 = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"
HELM4 = ROOT / "examples" / "airflow-1.19.0-helm4.yaml"
RENDERS = ROOT.parent / "shared" / "airflow-renders"


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return run_main(list(args), stdin)


def as_json(data: bytes) -> Dict[str, Any]:
    return json.loads(inspect_stream(io.BytesIO(data), "json"))


def workload(found: Dict[str, Any], kind: str, name: str) -> Dict[str, Any]:
    matches = [w for w in found["workloads"] if w["kind"] == kind and w["name"] == name]
    assert len(matches) == 1, [f"{w['kind']}/{w['name']}" for w in found["workloads"]]
    return matches[0]


def volume(pod: Dict[str, Any], name: str) -> Dict[str, Any]:
    matches = [v for v in pod["volumes"] if v["name"] == name]
    assert len(matches) == 1, pod["volumes"]
    return matches[0]


def mounts(pod: Dict[str, Any], container: str) -> List[Dict[str, Any]]:
    return next(c["mounts"] for c in pod["containers"] if c["name"] == container)


def block(table: str, header_start: str) -> str:
    """The lines of one object's block in the table (from its header to the next blank-line header)."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  " + header_start))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  ") and not lines[i].startswith("    ")
                and lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


# -- the table ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("render", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_inspect_table_names_the_template_configmap_and_key(render):
    result = cli("--inspect", stdin=render.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    table = result.stdout.decode()
    assert "WORKER POD TEMPLATES (1)" in table
    assert re.search(r"(?m)^  ConfigMap/airflow-config  key pod_template_file\.yaml  \(document \d+\)$", table)
    template = block(table, "ConfigMap/airflow-config")
    assert re.search(r"(?m)^    logs\s+emptyDir$", template)
    assert re.search(r"(?m)^    base\s+logs\s+/opt/airflow/logs$", template)


@pytest.mark.parametrize("render", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_inspect_table_shows_the_scheduler_and_its_logs_volume(render):
    table = cli("--inspect", stdin=render.read_bytes()).stdout.decode()
    scheduler = block(table, "Deployment/airflow-scheduler")
    assert "component scheduler" in scheduler.splitlines()[0]
    assert re.search(r"(?m)^    logs\s+emptyDir$", scheduler)
    assert re.search(r"(?m)^    config\s+configMap airflow-config "
                     r"\(holds the pod template, key pod_template_file\.yaml\)$", scheduler)
    assert re.search(r"(?m)^    scheduler\s+logs\s+/opt/airflow/logs$", scheduler)
    assert re.search(r"(?m)^    scheduler\s+config\s+/opt/airflow/pod_templates/pod_template_file\.yaml\s+"
                     r"pod_template_file\.yaml\s+ro$", scheduler)
    assert re.search(r"(?m)^    wait-for-airflow-migrations \(init\)\s+logs\s+/opt/airflow/logs$", scheduler)
    assert re.search(r"(?m)^    scheduler-log-groomer\s+logs\s+/opt/airflow/logs$", scheduler)


def test_inspect_table_shows_claim_templates_of_a_statefulset():
    table = cli("--inspect", stdin=HELM3.read_bytes()).stdout.decode()
    triggerer = block(table, "StatefulSet/airflow-triggerer")
    assert re.search(r"(?m)^    logs\s+volumeClaimTemplate 100Gi ReadWriteOnce$", triggerer)


# -- JSON ---------------------------------------------------------------------------------------------
def test_inspect_json_lists_template_workloads_containers_volumes_and_mounts():
    result = cli("--inspect", "--output", "json", stdin=HELM3.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    found = json.loads(result.stdout)
    [template] = found["podTemplates"]
    assert (template["configMap"], template["key"], template["component"]) == (
        "airflow-config", "pod_template_file.yaml", "worker")
    assert volume(template, "logs") == {"name": "logs", "type": "emptyDir"}
    assert volume(template, "config") == {"name": "config", "type": "configMap", "configMap": "airflow-config"}
    assert mounts(template, "base")[0] == {"volume": "logs", "mountPath": "/opt/airflow/logs", "readOnly": False}
    assert {"volume": "config", "mountPath": "/opt/airflow/airflow.cfg", "subPath": "airflow.cfg",
            "readOnly": True} in mounts(template, "base")

    names = {(w["kind"], w["name"], w["component"]) for w in found["workloads"]}
    assert ("Deployment", "airflow-scheduler", "scheduler") in names
    assert ("StatefulSet", "airflow-triggerer", "triggerer") in names
    scheduler = workload(found, "Deployment", "airflow-scheduler")
    assert [(c["name"], c["init"]) for c in scheduler["containers"]] == [
        ("wait-for-airflow-migrations", True), ("scheduler", False), ("scheduler-log-groomer", False)]
    triggerer = workload(found, "StatefulSet", "airflow-triggerer")
    assert volume(triggerer, "logs") == {"name": "logs", "type": "volumeClaimTemplate", "storage": "100Gi",
                                         "accessModes": ["ReadWriteOnce"]}


def test_inspect_reads_the_template_alike_from_a_helm3_block_and_a_helm4_string():
    helm3, helm4 = as_json(HELM3.read_bytes()), as_json(HELM4.read_bytes())
    strip = [{k: v for k, v in t.items() if k != "document"} for t in helm3["podTemplates"]]
    assert strip == [{k: v for k, v in t.items() if k != "document"} for t in helm4["podTemplates"]]
    # Helm 4 also hands the hook Jobs to a post-renderer; Helm 3 does not
    assert {w["kind"] for w in helm4["workloads"]} - {w["kind"] for w in helm3["workloads"]} == {"Job"}


def test_inspect_fixture_helm3_and_helm4_are_the_same_inventory():
    helm3 = as_json((FIXTURES / "mini-helm3.yaml").read_bytes())
    helm4 = as_json((FIXTURES / "mini-helm4.yaml").read_bytes())

    def strip(found):
        return {k: [{kk: vv for kk, vv in item.items() if kk != "document"} for item in v] for k, v in found.items()}

    assert strip(helm3) == strip(helm4)
    assert [f"{w['kind']}/{w['name']}" for w in helm3["workloads"]] == [
        "Deployment/demo-scheduler", "StatefulSet/demo-triggerer", "Job/demo-migrate"]


# -- what backs a volume ------------------------------------------------------------------------------
def test_inspect_describes_every_kind_of_volume_source():
    found = as_json((FIXTURES / "volume-zoo.yaml").read_bytes())
    cron = workload(found, "CronJob", "zoo-cleanup")
    assert cron["namespace"] == "zoo" and cron["component"] == "cleanup"  # app.kubernetes.io/component
    assert volume(cron, "data") == {"name": "data", "type": "persistentVolumeClaim", "claimName": "zoo-data",
                                    "readOnly": True}
    assert volume(cron, "creds") == {"name": "creds", "type": "secret", "secretName": "zoo-credentials"}
    assert volume(cron, "all-in-one")["sources"] == ["configMap zoo-settings", "secret zoo-token",
                                                     "serviceAccountToken"]
    assert volume(cron, "host") == {"name": "host", "type": "hostPath", "path": "/var"}
    assert {"volume": "host", "mountPath": "/host/var/log", "subPath": "log", "readOnly": False} in mounts(
        cron, "cleanup")
    pod = workload(found, "Pod", "zoo-debug")
    assert pod["component"] is None
    assert volume(pod, "scratch") == {"name": "scratch", "type": "emptyDir", "medium": "Memory", "sizeLimit": "1Gi"}
    assert volume(pod, "share") == {"name": "share", "type": "nfs", "server": "nfs.example.internal",
                                    "path": "/exports/share"}
    assert volume(pod, "cache") == {"name": "cache", "type": "ephemeral", "storage": "2Gi",
                                    "accessModes": ["ReadWriteOnce"]}
    assert volume(pod, "secrets-store") == {"name": "secrets-store", "type": "csi",
                                            "driver": "secrets-store.csi.k8s.io"}
    assert volume(pod, "no-source") == {"name": "no-source", "type": "emptyDir"}
    assert workload(found, "DaemonSet", "zoo-agent")["volumes"] == []
    assert found["claims"] == [{"name": "zoo-data", "namespace": "zoo", "document": 1, "storage": "8Gi",
                                "accessModes": ["ReadWriteOnce"], "storageClassName": "fast"}]


def test_inspect_table_lists_claims_and_flags_mounts_of_missing_volumes():
    data = (FIXTURES / "volume-zoo.yaml").read_bytes().replace(b"{name: share, mountPath: /share}",
                                                                b"{name: shared, mountPath: /share}")
    table = inspect_stream(io.BytesIO(data), "table")
    assert "WORKER POD TEMPLATES (0)" in table
    assert re.search(r"(?m)^    shell\s+shared \(no such volume!\)\s+/share$", table)
    assert re.search(r"(?m)^  zoo-data\s+8Gi\s+ReadWriteOnce\s+fast$", table)
    assert re.search(r"(?m)^  CronJob/zoo-cleanup  component cleanup  namespace zoo  \(document 2\)$", table)


def test_describe_source_of_an_unknown_kind_names_it():
    assert describe_source({"name": "x", "gitRepo": {"repository": "r"}}) == {"type": "gitRepo"}


def test_inspect_reads_the_items_of_a_krm_resource_list():
    items = (FIXTURES / "mini-helm4.yaml").read_text()
    from postrender.yamlio import load

    docs = [load(d) for d in items.split("---\n")]
    resource_list = json.dumps({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": docs})
    found = as_json(resource_list.encode())
    assert [(t["configMap"], t["key"]) for t in found["podTemplates"]] == [("demo-config", "pod_template_file.yaml")]
    assert len(found["workloads"]) == 3


# -- after a transform: how to verify -----------------------------------------------------------------
def test_inspect_after_transform_shows_the_claims(tmp_path):
    out = cli("-c", str(FIXTURES / "spec-logs-share.yaml"), stdin=(FIXTURES / "mini-helm3.yaml").read_bytes())
    assert out.returncode == 0, out.stderr.decode()
    found = as_json(out.stdout)
    [template] = found["podTemplates"]
    assert volume(template, "logs") == {"name": "logs", "type": "persistentVolumeClaim", "claimName": "demo-logs"}
    assert volume(template, "share") == {"name": "share", "type": "persistentVolumeClaim",
                                         "claimName": "demo-share", "readOnly": True}
    assert {"volume": "share", "mountPath": "/opt/airflow/share", "readOnly": True} in mounts(template, "base")
    scheduler = workload(found, "Deployment", "demo-scheduler")
    assert volume(scheduler, "logs")["claimName"] == "demo-logs"
    assert [c["name"] for c in found["claims"]] == ["demo-logs"]


# -- failures -----------------------------------------------------------------------------------------
def test_inspect_of_broken_yaml_fails_with_the_place_and_empty_stdout():
    data = (FIXTURES / "mini-helm3.yaml").read_bytes() + b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n"
    result = cli("--inspect", stdin=data)
    assert result.returncode == 1
    assert result.stdout == b""
    assert re.search(rb"document 7, line \d+", result.stderr), result.stderr


def test_inspect_reports_an_unreadable_embedded_template_without_failing():
    data = (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken}\n"
            b"data:\n  pod.yaml: \"kind: Pod\\nspec: [unclosed\\n\"\n")
    found = inventory(io.BytesIO(data))
    [template] = found.templates
    assert template.problem and "not readable YAML" in template.problem
    assert "not readable YAML" in inspect_stream(io.BytesIO(data), "table")


# -- the captured renders -----------------------------------------------------------------------------
def capture(name: str) -> bytes:
    path = RENDERS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path.read_bytes()


@pytest.mark.captures
@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_inspect_community_chart_template_and_logs_data_volume(helm):
    found = as_json(capture(f"{helm}-community-8.9.0-a.yaml"))
    [template] = found["podTemplates"]
    assert (template["configMap"], template["key"]) == ("airflow-pod-template", "pod_template.yaml")
    assert any(m["volume"] == "logs-data" and m["mountPath"] == "/opt/airflow/logs"
               for c in template["containers"] for m in c["mounts"])
    scheduler = [w for w in found["workloads"] if w["component"] == "scheduler"]
    assert scheduler and scheduler[0]["kind"] == "Deployment"
    assert [c["name"] for c in scheduler[0]["containers"] if c["init"]][:2] == ["check-db", "wait-for-db-migrations"]


@pytest.mark.captures
@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_inspect_bitnami_logs_live_on_a_shared_emptydir_subpath(helm):
    found = as_json(capture(f"{helm}-bitnami-25.1.0-a.yaml"))
    [template] = found["podTemplates"]
    assert volume(template, "empty-dir")["type"] == "emptyDir"
    assert {"volume": "empty-dir", "mountPath": "/opt/bitnami/airflow/logs", "subPath": "app-logs-dir",
            "readOnly": False} in mounts(template, "airflow-worker")
    assert {c["name"] for c in template["containers"] if c["init"]} >= {"prepare-config", "prepare-venv"}
    assert "scheduler" in {w["component"] for w in found["workloads"]}  # app.kubernetes.io/component


@pytest.mark.captures
def test_inspect_official_chart_with_logs_persistence_shows_the_claim_everywhere():
    found = as_json(capture("helm3-official-1.19.0-b.yaml"))
    [template] = found["podTemplates"]
    assert volume(template, "logs") == {"name": "logs", "type": "persistentVolumeClaim",
                                        "claimName": "airflow-log-pvc"}
    triggerer = workload(found, "StatefulSet", "airflow-triggerer")
    assert volume(triggerer, "logs")["type"] == "persistentVolumeClaim"  # the chart dropped the claim template


@pytest.mark.captures
def test_inspect_celery_executor_has_no_pod_template():
    table = inspect_stream(io.BytesIO(capture("helm3-official-1.19.0-d.yaml")), "table")
    assert "WORKER POD TEMPLATES (0)" in table
    assert "StatefulSet/airflow-worker  component worker" in table
