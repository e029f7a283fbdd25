"""The render path end to end through the CLI, on small Helm 3 and Helm 4 shaped streams."""
import difflib
import hashlib

import pytest

from conftest import STREAMS, by_name, load_all, pod_templates, run_cli, validate_k8s, write_spec
from conftest import TEMPLATE_LOGS_SPEC as LOGS_SPEC
from postrender.read import Stream

HELM3 = STREAMS / "helm3-official.yaml"
HELM4 = STREAMS / "helm4-official.yaml"
BOTH = pytest.mark.parametrize("stream", [HELM3, HELM4], ids=["helm3", "helm4"])


def render(stream, args, stdin=None):
    result = run_cli(args, stdin if stdin is not None else stream.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def chunks(data: bytes):
    import io

    return [c.raw for c in Stream(io.BytesIO(data))]


@BOTH
def test_replaces_logs_emptydir_with_claim_in_pod_template(stream, tmp_path):
    out = render(stream, ["-c", write_spec(tmp_path, LOGS_SPEC)])
    template = pod_templates(load_all(out))["airflow-config/pod_template_file.yaml"]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    assert volumes["logs"] == {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}
    assert volumes["config"] == {"name": "config", "configMap": {"name": "airflow-config"}}
    mounts = template["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "logs", "mountPath": "/opt/airflow/logs"} in mounts


@BOTH
def test_untouched_documents_are_byte_identical(stream, tmp_path):
    original = stream.read_bytes()
    out = render(stream, ["-c", write_spec(tmp_path, LOGS_SPEC)])
    before, after = chunks(original), chunks(out)
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    kinds = [load_all(before[i])[0]["kind"] for i in changed]
    # the template, and the workloads that mount its ConfigMap (they roll); the hook Job is never annotated
    assert sorted(kinds) == ["ConfigMap", "Deployment", "Deployment", "StatefulSet"]


def test_helm3_template_stays_a_block_scalar_and_only_changed_lines_change(tmp_path):
    original = HELM3.read_text()
    out = render(HELM3, ["-c", write_spec(tmp_path, LOGS_SPEC)]).decode()
    assert "  pod_template_file.yaml: |-\n    \n    ---\n" in out  # header, blank line with its spaces, inner ---
    diff = [line for line in difflib.unified_diff(original.splitlines(), out.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    checksum = f"        checksum/postrender: {template_hash(out)}"
    assert diff == [
        "-      - emptyDir:",
        "-          {}",
        "-        name: logs",
        "+      - name: logs",
        "+        persistentVolumeClaim:",
        "+          claimName: airflow-log-pvc",
        "+" + checksum,  # scheduler: has annotations already
        "+      annotations:",  # triggerer and api-server: the mapping is new
        "+" + checksum,
        "+      annotations:",
        "+" + checksum,
    ]


def test_helm4_template_stays_one_double_quoted_line(tmp_path):
    out = render(HELM4, ["-c", write_spec(tmp_path, LOGS_SPEC)]).decode()
    line = next(text for text in out.splitlines() if text.startswith("  pod_template_file.yaml:"))
    assert line.startswith('  pod_template_file.yaml: "\\n---\\napiVersion: v1') and line.endswith('"')
    assert "claimName: airflow-log-pvc" in load_all(out)[3]["data"]["pod_template_file.yaml"]
    assert "postrenderer.helm.sh/postrender-filename: 'airflow/templates/configmaps/configmap.yaml'" in out


def template_hash(out: str) -> str:
    docs = load_all(out)
    text = by_name(docs, "ConfigMap", "airflow-config")["data"]["pod_template_file.yaml"]
    return hashlib.sha256(text.encode()).hexdigest()


@BOTH
def test_scheduler_that_mounts_the_changed_template_is_annotated_to_roll(stream, tmp_path):
    out = render(stream, ["-c", write_spec(tmp_path, LOGS_SPEC)])
    docs = load_all(out)
    scheduler = by_name(docs, "Deployment", "airflow-scheduler")
    annotations = scheduler["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/postrender"] == template_hash(out.decode())
    assert annotations["checksum/airflow-config"].startswith("7d368b")  # Helm's own stays
    # a Job is never annotated, even when it mounts the ConfigMap
    for doc in docs:
        if doc["kind"] == "Job":
            assert "checksum/postrender" not in (doc["spec"]["template"]["metadata"].get("annotations") or {})


@BOTH
def test_logs_claim_does_what_the_charts_logs_persistence_does(stream):
    result = run_cli(["--logs-claim", "airflow-log-pvc"], stream.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    docs = load_all(result.stdout)
    claim = {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}
    triggerer = by_name(docs, "StatefulSet", "airflow-triggerer")
    assert "volumeClaimTemplates" not in triggerer["spec"]
    assert claim in triggerer["spec"]["template"]["spec"]["volumes"]
    scheduler = by_name(docs, "Deployment", "airflow-scheduler")
    assert claim in scheduler["spec"]["template"]["spec"]["volumes"]
    assert {"name": "logs", "emptyDir": {}} not in scheduler["spec"]["template"]["spec"]["volumes"]
    api = by_name(docs, "Deployment", "airflow-api-server")["spec"]["template"]["spec"]
    assert claim in api["volumes"]
    assert {"name": "logs", "mountPath": "/opt/airflow/logs"} in api["containers"][0]["volumeMounts"]
    assert claim in pod_templates(docs)["airflow-config/pod_template_file.yaml"]["spec"]["volumes"]
    assert b"volumeClaimTemplate 'logs'" in result.stderr and b"immutable" in result.stderr
    for doc in docs:
        validate_k8s(doc)
    for template in pod_templates(docs).values():
        validate_k8s(template)


@BOTH
def test_second_run_over_the_output_changes_nothing(stream):
    once = render(stream, ["--logs-claim", "airflow-log-pvc", "--volume", "data=airflow-data:/opt/airflow/data"])
    twice = render(stream, ["--logs-claim", "airflow-log-pvc", "--volume", "data=airflow-data:/opt/airflow/data"],
                   stdin=once)
    assert twice == once


def test_volume_shorthand_adds_a_read_only_claim_to_the_pod_template_only():
    out = render(HELM3, ["--volume", "dags=airflow-dags:/opt/airflow/dags:ro"])
    docs = load_all(out)
    template = pod_templates(docs)["airflow-config/pod_template_file.yaml"]
    assert {"name": "dags", "persistentVolumeClaim": {"claimName": "airflow-dags", "readOnly": True}} \
        in template["spec"]["volumes"]
    assert {"name": "dags", "mountPath": "/opt/airflow/dags", "readOnly": True} \
        in template["spec"]["containers"][0]["volumeMounts"]
    scheduler = by_name(docs, "Deployment", "airflow-scheduler")["spec"]["template"]["spec"]
    assert all(v["name"] != "dags" for v in scheduler["volumes"])


def test_later_spec_file_replaces_same_named_volume_of_earlier_one(tmp_path):
    first = write_spec(tmp_path, LOGS_SPEC, "a.yaml")
    second = write_spec(tmp_path, LOGS_SPEC.replace("airflow-log-pvc", "other-claim"), "b.yaml")
    out = render(HELM3, ["-c", first, "-c", second])
    template = pod_templates(load_all(out))["airflow-config/pod_template_file.yaml"]
    assert {"name": "logs", "persistentVolumeClaim": {"claimName": "other-claim"}} in template["spec"]["volumes"]


def test_postrender_config_env_is_the_fallback_for_c(tmp_path):
    first = write_spec(tmp_path, LOGS_SPEC, "a.yaml")
    second = write_spec(tmp_path, LOGS_SPEC.replace("airflow-log-pvc", "other-claim"), "b.yaml")
    result = run_cli([], HELM3.read_bytes(), env={"POSTRENDER_CONFIG": f"{first}:{second}"})
    assert result.returncode == 0, result.stderr.decode()
    assert b"claimName: other-claim" in result.stdout


def test_targets_by_component_kind_and_name_glob(tmp_path):
    spec = write_spec(tmp_path, """\
volumes:
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
    targets:
      - triggerer
      - {kind: Deployment, name: "airflow-api-*"}
    containers: ["*"]
""")
    docs = load_all(render(HELM3, ["-c", spec]))
    for kind, name in (("StatefulSet", "airflow-triggerer"), ("Deployment", "airflow-api-server")):
        pod = by_name(docs, kind, name)["spec"]["template"]["spec"]
        assert {"name": "data", "persistentVolumeClaim": {"claimName": "airflow-data"}} in pod["volumes"]
    scheduler = by_name(docs, "Deployment", "airflow-scheduler")["spec"]["template"]["spec"]
    assert all(v["name"] != "data" for v in scheduler["volumes"])
    template = pod_templates(docs)["airflow-config/pod_template_file.yaml"]
    assert all(v["name"] != "data" for v in template["spec"]["volumes"])


def test_conflict_fails_with_empty_stdout_and_names_the_object(tmp_path):
    spec = write_spec(tmp_path, LOGS_SPEC.replace("    replace: true\n", ""))
    result = run_cli(["-c", spec], HELM3.read_bytes())
    assert result.returncode == 1
    assert result.stdout == b""
    message = result.stderr.decode()
    assert "ConfigMap/airflow-config" in message and "pod_template_file.yaml" in message
    assert "replace: true" in message and "Traceback" not in message


def test_several_releases_in_one_stream_each_roll_on_their_own_template():
    one = HELM3.read_text()
    other = one.replace("airflow-config", "other-config").replace("airflow-scheduler", "other-scheduler") \
        .replace("airflow-triggerer", "other-triggerer").replace("airflow-api-server", "other-api-server")
    out = render(HELM3, ["--logs-claim", "airflow-log-pvc"], stdin=(one + other).encode()).decode()
    docs = load_all(out)
    templates = pod_templates(docs)
    for config, scheduler in (("airflow-config", "airflow-scheduler"), ("other-config", "other-scheduler")):
        text = by_name(docs, "ConfigMap", config)["data"]["pod_template_file.yaml"]
        annotations = by_name(docs, "Deployment", scheduler)["spec"]["template"]["metadata"]["annotations"]
        assert annotations["checksum/postrender"] == hashlib.sha256(text.encode()).hexdigest()
        assert templates[f"{config}/pod_template_file.yaml"]["spec"]["volumes"][0]["persistentVolumeClaim"]


@BOTH
def test_crlf_stream_keeps_crlf_everywhere(stream, tmp_path):
    crlf = stream.read_bytes().replace(b"\n", b"\r\n")
    out = render(stream, ["-c", write_spec(tmp_path, LOGS_SPEC)], stdin=crlf)
    assert b"\n" not in out.replace(b"\r\n", b"")
    lf = render(stream, ["-c", write_spec(tmp_path, LOGS_SPEC)])
    assert load_all(out.replace(b"\r\n", b"\n")) == load_all(lf)


def test_bom_survives_and_stream_still_works(tmp_path):
    out = render(HELM3, ["-c", write_spec(tmp_path, LOGS_SPEC)], stdin=b"\xef\xbb\xbf" + HELM3.read_bytes())
    assert out.startswith(b"\xef\xbb\xbf---\n# Source:")
    assert b"claimName: airflow-log-pvc" in out


def test_no_spec_is_a_usage_error():
    result = run_cli([], HELM3.read_bytes())
    assert result.returncode == 2 and result.stdout == b""
    assert b"nothing to do" in result.stderr
