"""`postrender --check`: the drift check on what Helm stored (exit 0 nothing to change, 3 changes,
1 when no volume found a target), on the real captures, on what Helm 4.2.3 renders, and its messages."""
import json
import re
from pathlib import Path

import pytest

from conftest import (
    CAPTURES,
    CHART,
    CHART_SPEC,
    HELM3_RENDER,
    HELM42,
    helm_env,
    need,
    needs_captures,
    postrender_script,
    run_main,
    write_spec,
)
from conftest import run_command as run
from conftest import succeeded as ok

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(p.name for p in CAPTURES.glob("*.yaml")) if CAPTURES.is_dir() else []
CLAIM = "airflow-log-pvc"
CREATE_SPEC = f"""\
volumes:
  - name: logs
    claimName: {CLAIM}
    mountPath: /opt/airflow/logs
    replace: true
    targets: [airflow]
    create: {{storage: 5Gi}}
"""
# the official chart 1.19.0 under Helm 3 (block template), as examples/ holds it
OFFICIAL_SPEC = CHART_SPEC.replace(CLAIM, "airflow-logs")


def post_rendered(args, data):
    code, out, err = run_main(args, data)
    assert code == 0, err.decode()
    return out


def check(args, data):
    return run_main(["--check", *args], data)


# -- on the captures -------------------------------------------------------------------------------
@needs_captures
@pytest.mark.parametrize("name", NAMES)
def test_check_passes_postrenders_own_output_and_flags_the_plain_render(name, tmp_path):
    data = (CAPTURES / name).read_bytes()
    for args in (["--logs-claim", CLAIM], ["-c", write_spec(tmp_path, CREATE_SPEC)]):
        code, out, err = check(args, post_rendered(args, data))
        assert (code, out) == (0, b""), err.decode()
        code, out, err = check(args, data)
        # the official and community b/c variants already keep the logs on the claim (logs.persistence)
        carries = re.search(r"-(official|community)-[\d.]+-[bc]\.yaml$", name) and args[0] == "--logs-claim"
        if carries:
            assert (code, out) == (0, b""), err.decode()
            continue
        assert code == 3, err.decode()
        lines = out.decode().splitlines()
        assert lines and all(re.fullmatch(r"\S+( \S+)*: [a-z-]+( \S+)?", line) for line in lines), lines
        assert not any(": annotated" in line for line in lines)


def test_check_lines_name_namespace_object_key_container_action_and_volume(tmp_path):
    # the API server's Deployment names its namespace; the other objects do not
    data = HELM3_RENDER.replace(b"  name: airflow-api-server\n", b"  name: airflow-api-server\n  namespace: prod\n", 1)
    code, out, _ = check(["-c", write_spec(tmp_path, CREATE_SPEC.replace(CLAIM, "airflow-logs"))], data)
    assert code == 3
    lines = out.decode().splitlines()
    assert "ConfigMap/airflow-config pod_template_file.yaml: replaced logs" in lines
    assert "prod/Deployment/airflow-api-server api-server: added-mount logs" in lines
    assert "Deployment/airflow-scheduler: replaced logs" in lines
    assert lines[-1] == "PersistentVolumeClaim/airflow-logs: created logs"


def test_check_on_helm4_quoted_template_and_community_chart(tmp_path):
    for render in ("airflow-1.19.0-helm4.yaml", "airflow-1.19.0-helm3.yaml"):
        data = (ROOT / "examples" / render).read_bytes()
        spec = write_spec(tmp_path, OFFICIAL_SPEC)
        code, out, _ = check(["-c", spec], data)
        assert code == 3 and b"ConfigMap/airflow-config pod_template_file.yaml: replaced logs" in out
        assert check(["-c", spec], post_rendered(["-c", spec], data))[:2] == (0, b"")


@needs_captures
def test_check_community_chart_logs_data_volume():
    data = (CAPTURES / "helm4-community-8.9.0-a.yaml").read_bytes()
    code, out, _ = check(["--logs-claim", CLAIM], data)
    assert code == 3 and b": replaced logs-data" in out


# -- what is no drift, and what proves nothing -------------------------------------------------------
def test_the_roll_annotation_alone_is_no_drift(tmp_path):
    spec = write_spec(tmp_path, OFFICIAL_SPEC)
    done = post_rendered(["-c", spec], HELM3_RENDER)
    assert b"checksum/postrender" in done
    # a stored release whose templates are right but whose annotation went missing or stale
    for stale in (re.sub(rb"checksum/postrender: \S+", b"checksum/postrender: old", done),
                  re.sub(rb"\n *checksum/postrender: \S+", b"", done)):
        assert check(["-c", spec], stale)[:2] == (0, b"")


@pytest.mark.parametrize("data", [b"", b"\n", b"---\n# nothing\n"], ids=["empty", "blank", "comments"])
def test_empty_input_is_no_answer_exit_1(data, tmp_path):
    code, out, err = check(["-c", write_spec(tmp_path, OFFICIAL_SPEC)], data)
    assert (code, out) == (1, b"")
    assert "nothing to check: the input is empty" in err.decode() and "pipefail" in err.decode()


def test_a_render_of_another_release_is_exit_1(tmp_path):
    spec = OFFICIAL_SPEC.replace("targets: [pod-template, scheduler, triggerer, api-server]",
                                 "targets: [{kind: ConfigMap, name: airflow-config}, {kind: Deployment, "
                                 "name: airflow-scheduler}]")
    other = HELM3_RENDER.replace(b"airflow-", b"other-")
    code, out, err = check(["-c", write_spec(tmp_path, spec)], other)
    assert (code, out) == (1, b"")
    assert "no volume found a target" in err.decode() and "release name" in err.decode()


def test_an_error_wins_over_drift(tmp_path):
    spec = write_spec(tmp_path, OFFICIAL_SPEC)
    code, out, err = check(["-c", spec], HELM3_RENDER + b"---\nkind: [broken\n")
    assert (code, out) == (1, b"") and "error" in err.decode()
    code, out, _ = check(["-c", spec.replace("spec.yaml", "missing.yaml")], HELM3_RENDER)
    assert (code, out) == (2, b"")


def test_warnings_still_go_to_stderr_and_the_report_lists_the_changes(tmp_path):
    report = tmp_path / "report.json"
    code, out, err = check(["-c", write_spec(tmp_path, OFFICIAL_SPEC), "--report", str(report)], HELM3_RENDER)
    assert code == 3 and b"kind: " not in out  # never the manifests
    assert "warning[claim-template-removed]" in err.decode()
    found = json.loads(report.read_text())
    assert {c["action"] for c in found["changes"]} >= {"replaced", "added-mount"} and found["error"] is None


def test_check_with_diff_prints_the_diff_with_the_same_exit(tmp_path):
    spec = write_spec(tmp_path, OFFICIAL_SPEC)
    code, out, _ = check(["--diff", "-c", spec], HELM3_RENDER)
    assert code == 3 and out.startswith(b"--- ") and b"+      claimName: airflow-logs" in out
    assert check(["--diff", "-c", spec], post_rendered(["-c", spec], HELM3_RENDER))[:2] == (0, b"")


def test_check_with_inspect_or_a_resource_list_is_a_usage_error(tmp_path):
    spec = write_spec(tmp_path, OFFICIAL_SPEC)
    code, out, err = run_main(["--check", "--inspect", "-c", spec], HELM3_RENDER)
    assert (code, out) == (2, b"") and "--check does not go with --inspect" in err.decode()
    resource_list = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
    code, out, err = run_main(["--check", "-c", spec], resource_list)
    assert (code, out) == (2, b"") and "ResourceList" in err.decode()


def test_check_with_volume_option():
    code, out, _ = check(["--volume", "data=airflow-data:/opt/airflow/data"], HELM3_RENDER)
    assert code == 3 and b"pod_template_file.yaml: added data" in out


def test_control_characters_in_names_are_escaped(tmp_path):
    spec = write_spec(tmp_path, OFFICIAL_SPEC)
    odd = HELM3_RENDER.replace(b"name: airflow-scheduler\n", b'name: "airflow-scheduler\\e]0;x\\a"\n', 1)
    code, out, _ = check(["-c", spec], odd)
    assert code == 3 and b"\x1b" not in out and b"\\x1b" in out


# -- end to end: Helm 4.2.3 renders, postrender checks -------------------------------------------------
@pytest.mark.helm
def test_helm42_post_rendered_output_passes_and_the_plain_render_drifts(tmp_path):
    helm = need(HELM42)
    env = helm_env(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(CHART_SPEC)
    ok(run([helm, "plugin", "install", ROOT], env))
    stored = ok(run([helm, "template", "rel", CHART, "--post-renderer", "postrender",
                     "--post-renderer-args=-c", f"--post-renderer-args={spec}"], env))
    assert "# Source: " in stored and "postrender-filename" not in stored  # what Helm 4 stores
    script = postrender_script()
    proc = run([script, "--check", "-c", spec], env, input=stored)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    plain = ok(run([helm, "template", "rel", CHART], env))
    proc = run([script, "--check", "-c", spec], env, input=plain)
    assert proc.returncode == 3, proc.stderr
    assert "ConfigMap/rel-config pod_template_file.yaml: replaced logs" in proc.stdout.splitlines()


# -- issue 23's small fixes beside the check --------------------------------------------------------------
def test_report_numbers_a_created_claim_as_the_diff_does(tmp_path):
    spec = write_spec(tmp_path, CREATE_SPEC)
    report = tmp_path / "report.json"
    code, diff, _ = run_main(["--diff", "-c", spec, "--report", str(report)], HELM3_RENDER)
    assert code == 0
    (number,) = re.findall(rb"PersistentVolumeClaim/\S+ \(new, document (\d+)\)", diff)
    (created,) = [c for c in json.loads(report.read_text())["changes"] if c["action"] == "created"]
    assert created["document"] == int(number) == HELM3_RENDER.count(b"\n---") + 1 + 1


def test_the_hint_for_a_comma_joined_post_renderer_arg_names_helms_unsplit_flag(tmp_path):
    # `--post-renderer-args=-c,spec.yaml` reaches postrender as the one argument `-c,spec.yaml`
    code, out, err = run_main(["-c,spec.yaml"], HELM3_RENDER, cwd=tmp_path)
    assert (code, out) == (2, b"")
    assert "Helm does not split that flag at commas, each --post-renderer-args is one argument" in err.decode()
