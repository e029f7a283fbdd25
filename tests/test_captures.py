"""Every captured post-renderer stdin in ../shared/airflow-renders (Helm 3 and 4; official, community, Bitnami).

Skipped cleanly where that folder is absent (a user's clone); CI has it.
"""
import io
import re

import pytest

from conftest import CAPTURES, load_all, needs_captures, pod_templates, run_cli, validate_k8s, write_spec
from postrender.read import Stream

pytestmark = [needs_captures, pytest.mark.captures]

CAPTURE_FILES = sorted(CAPTURES.glob("*.yaml")) if CAPTURES.is_dir() else []

# Per chart family: logs on a claim for the pod template and the Airflow components, and a shared
# data claim for the pod template and the Celery workers.
FAMILY_SPECS = {
    "official": """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler, dag-processor, triggerer, worker, api-server, webserver]
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
""",
    "community": """\
volumes:
  - name: logs-data
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler, web, triggerer, worker]
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
""",
    "bitnami": """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/bitnami/airflow/logs
    replace: true
    targets: [pod-template, scheduler, dag-processor, web, triggerer, worker]
  - name: data
    claimName: airflow-data
    mountPath: /opt/bitnami/airflow/data
""",
}


def family(path) -> str:
    return path.name.split("-")[1]


def chunks(data: bytes):
    return [c.raw for c in Stream(io.BytesIO(data))]


def ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("capture", CAPTURE_FILES, ids=ids(CAPTURE_FILES))
def test_family_spec_injects_validates_and_is_idempotent(capture, tmp_path):
    spec = write_spec(tmp_path, FAMILY_SPECS[family(capture)])
    original = capture.read_bytes()
    result = run_cli(["-c", spec], original)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout
    # untouched documents are byte-identical; changed ones are only the targeted kinds
    before, after = chunks(original), chunks(out)
    assert len(after) == len(before)
    for old, new in zip(before, after):
        if old != new:
            assert load_all(old)[0]["kind"] in ("ConfigMap", "Deployment", "StatefulSet", "DaemonSet", "Job")
    docs = load_all(out)
    for doc in docs:
        validate_k8s(doc)
    templates = pod_templates(docs)
    for template in templates.values():
        validate_k8s(template)
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        assert volumes["data"] == {"name": "data", "persistentVolumeClaim": {"claimName": "airflow-data"}}
        claims = [v for v in volumes.values()
                  if v.get("persistentVolumeClaim", {}).get("claimName") == "airflow-log-pvc"]
        assert len(claims) == 1
    again = run_cli(["-c", spec], out)
    assert again.returncode == 0 and again.stdout == out


@pytest.mark.parametrize("capture", CAPTURE_FILES, ids=ids(CAPTURE_FILES))
def test_logs_claim_runs_on_every_capture_and_is_idempotent(capture):
    result = run_cli(["--logs-claim", "airflow-log-pvc"], capture.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    docs = load_all(result.stdout)
    for name, template in pod_templates(docs).items():
        claims = [v for v in template["spec"]["volumes"] if "persistentVolumeClaim" in v]
        assert [v["persistentVolumeClaim"]["claimName"] for v in claims].count("airflow-log-pvc") == 1, name
    assert "Traceback" not in result.stderr.decode()
    again = run_cli(["--logs-claim", "airflow-log-pvc"], result.stdout)
    assert again.stdout == result.stdout


def strip_checksums(value):
    if isinstance(value, dict):
        return {k: strip_checksums(v) for k, v in value.items()
                if not (isinstance(k, str) and k.startswith("checksum/"))}
    if isinstance(value, list):
        return [strip_checksums(v) for v in value]
    return value


def workloads(docs):
    return {(d["kind"], d["metadata"]["name"]): strip_checksums(d) for d in docs
            if d.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")}


OFFICIAL_A = [p for p in CAPTURE_FILES if re.match(r"helm[34]-official-[0-9.]+-a\.yaml$", p.name)]


@pytest.mark.parametrize("capture", OFFICIAL_A, ids=ids(OFFICIAL_A))
def test_logs_claim_on_config_a_yields_the_charts_own_config_b(capture):
    """--logs-claim reproduces what the chart's logs.persistence.existingClaim renders."""
    expected = load_all(capture.with_name(capture.name.replace("-a.yaml", "-b.yaml")).read_bytes())
    result = run_cli(["--logs-claim", "airflow-log-pvc"], capture.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    docs = load_all(result.stdout)
    assert pod_templates(docs) == pod_templates(expected)
    assert workloads(docs) == workloads(expected)


# What a changed object may lose: the lines of a replaced volume (an emptyDir, another claim, a claim template),
# the name/subPath of a re-pointed mount, and (Helm 4) the one-line quoted pod template.
REMOVABLE = re.compile(
    r"^\s*(- )?("
    r"emptyDir:.*|\{\}|medium:.*|sizeLimit:.*|name: .*|subPath: .*|persistentVolumeClaim:|claimName: .*|"
    r"volumeClaimTemplates:|apiVersion: v1|kind: PersistentVolumeClaim|metadata:|spec:|accessModes:.*|"
    r"- \"?ReadWriteOnce\"?|resources:|requests:|storage: .*|"
    r"pod_template[a-z_]*\.yaml: \".*\""
    r")\s*$")


@pytest.mark.parametrize("capture", CAPTURE_FILES, ids=ids(CAPTURE_FILES))
def test_changed_objects_lose_only_replaced_volume_lines(capture, tmp_path):
    import difflib

    spec = write_spec(tmp_path, FAMILY_SPECS[family(capture)])
    original = capture.read_bytes()
    out = run_cli(["-c", spec], original).stdout
    removed = []
    for old, new in zip(chunks(original), chunks(out)):
        if old != new:
            diff = difflib.unified_diff(old.decode().splitlines(), new.decode().splitlines(), lineterm="", n=0)
            removed += [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    unexpected = [line for line in removed if not REMOVABLE.match(line)]
    assert unexpected == []


def volumes_and_mounts(doc, containers=None):
    """A workload's or pod template's volumes, claim templates and each container's mounts, null keys dropped
    (the community chart writes `subPath:` with no value); only `containers` when given."""
    spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    clean = [{k: v for k, v in item.items() if v is not None} for item in spec.get("volumes") or []]
    mounts = {(key, c["name"]): [{k: v for k, v in m.items() if v is not None} for m in c.get("volumeMounts") or []]
              for key in ("initContainers", "containers") for c in spec.get(key) or []
              if containers is None or c["name"] in containers}
    claim_templates = [t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates") or []]
    return clean, claim_templates, mounts


# Where the chart itself can say it: the community chart's logs.persistence.existingClaim (config b), and
# Bitnami's triggerer (config b puts only its logs on the existing claim `airflow-logs`).
OTHER_A = [p for p in CAPTURE_FILES if re.match(r"helm[34]-(community-[0-9.]+|bitnami-[0-9.]+)-a\.yaml$", p.name)]


@pytest.mark.parametrize("capture", OTHER_A, ids=ids(OTHER_A))
def test_logs_claim_on_config_a_mounts_what_the_charts_own_config_b_mounts(capture):
    bitnami = family(capture) == "bitnami"
    expected = load_all(capture.with_name(capture.name.replace("-a.yaml", "-b.yaml")).read_bytes())
    result = run_cli(["--logs-claim", "airflow-logs" if bitnami else "airflow-log-pvc"], capture.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    got, want = pod_specs(load_all(result.stdout)), pod_specs(expected)
    if bitnami:
        got, want = ({"StatefulSet/airflow-triggerer": specs["StatefulSet/airflow-triggerer"]} for specs in (got, want))
    assert got.keys() == want.keys()
    for name, doc in want.items():
        # the community chart drops its log-cleanup sidecar under persistence: compare the containers both have
        both = {c for _, c in volumes_and_mounts(got[name])[2]} & {c for _, c in volumes_and_mounts(doc)[2]}
        assert volumes_and_mounts(got[name], both) == volumes_and_mounts(doc, both), name


def pod_specs(docs):
    """The workloads and the embedded pod templates of a stream, by name."""
    found = {f"{d['kind']}/{d['metadata']['name']}": d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")}
    found.update(pod_templates(docs))
    return found
