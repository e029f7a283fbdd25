"""Helm hooks and `create:` (issue 23): Helm 4 sends hooks through the post-renderer (Helm 3 never
does), even under --no-hooks, and creates the release's objects after its pre-install/pre-upgrade
hooks ran; Helm 4.2's SDK `separate` strategy post-renders the hooks and the rest in two runs.

Fixtures: tests/fixtures/hooks (a pre-install migration Job and a post-install user Job; the
scheduler and a Service), Helm 4 form.
"""
import json

import pytest

from conftest import (
    CHART,
    FIXTURES,
    HELM42,
    ROOT,
    by_name,
    helm_env,
    load_all,
    need,
    pod_spec,
    run_command,
    run_main,
    write_spec,
)
from conftest import succeeded as ok

HOOKS = (FIXTURES / "hooks" / "hooks-helm4.yaml").read_bytes()
MANIFESTS = (FIXTURES / "hooks" / "manifests-helm4.yaml").read_bytes()
COMBINED = MANIFESTS + b"---\n" + HOOKS  # what the Helm 4 CLI sends


def spec_text(targets: str, create: bool = True) -> str:
    return ("volumes:\n  - name: scratch\n    claimName: migration-scratch\n    mountPath: /scratch\n"
            f"    targets: {targets}\n" + ("    create: {storage: 1Gi}\n" if create else ""))


def run(tmp_path, targets, stream, create=True, *options):
    """(exit code, output documents, the report's warnings) of a run over `stream`."""
    report = tmp_path / "report.json"
    code, out, err = run_main(["-c", write_spec(tmp_path, spec_text(targets, create)), "--report", str(report),
                               *options], stream)
    return code, load_all(out.decode()), json.loads(report.read_text())["warnings"], err.decode()


def claims(docs):
    return [d["metadata"]["name"] for d in docs if d and d["kind"] == "PersistentVolumeClaim"]


def test_warns_that_a_created_claim_only_hooks_mount_must_exist_before_the_release_and_still_emits_it(tmp_path):
    code, docs, warnings, err = run(tmp_path, "[{kind: Job}]", COMBINED)
    assert code == 0
    assert claims(docs) == ["migration-scratch"]  # the contract: used in a stream with release objects
    (warning,) = warnings
    assert warning["id"] == "created-claim-for-hooks"
    message = warning["message"]
    assert "mounted only by Helm hooks" in message
    assert "pre-install,pre-upgrade hook Job/demo-migrate" in message
    assert "post-install,post-upgrade hook Job/demo-create-user" in message
    assert "--no-hooks" in message and "must exist before the release" in message
    assert "kubectl apply" in message and "drop `create:` from volume 'scratch'" in message
    assert "postrender: warning[created-claim-for-hooks]:" in err


def test_warns_when_a_pre_install_hook_mounts_a_created_claim_the_release_also_mounts(tmp_path):
    code, docs, warnings, _ = run(tmp_path, "[scheduler, {kind: Job, name: demo-migrate}]", COMBINED)
    assert code == 0 and claims(docs) == ["migration-scratch"]
    (warning,) = warnings
    assert warning["id"] == "created-claim-for-hooks"
    assert "mounted by a pre-install or pre-upgrade hook (pre-install,pre-upgrade hook Job/demo-migrate)" in \
        warning["message"]


def test_stays_quiet_when_only_a_post_install_hook_shares_a_created_claim_with_the_release(tmp_path):
    code, docs, warnings, err = run(tmp_path, "[scheduler, {kind: Job, name: demo-create-user}]", COMBINED)
    assert (code, claims(docs), warnings, err) == (0, ["migration-scratch"], [], "")


def test_stays_quiet_when_a_volume_without_create_goes_only_into_hooks(tmp_path):
    code, docs, warnings, err = run(tmp_path, "[{kind: Job}]", COMBINED, False)
    assert (code, claims(docs), warnings, err) == (0, [], [], "")
    jobs = [d for d in docs if d["kind"] == "Job"]
    assert all(v["name"] == "scratch" for j in jobs for v in j["spec"]["template"]["spec"]["volumes"])


def test_warns_that_a_created_claim_in_a_hooks_only_stream_is_not_emitted_there(tmp_path):
    code, docs, warnings, _ = run(tmp_path, "[{kind: Job}]", HOOKS)
    assert code == 0 and claims(docs) == []
    (warning,) = warnings
    assert warning["id"] == "created-claim-in-hooks-stream"
    message = warning["message"]
    assert "claim 'migration-scratch' of volume 'scratch' is mounted by Helm hooks" in message
    assert "`separate` post-render strategy" in message and "must exist before the release" in message


def test_the_manifests_stream_miss_says_that_hook_targets_were_post_rendered_apart(tmp_path):
    code, docs, warnings, _ = run(tmp_path, "[{kind: Job}]", MANIFESTS)
    assert code == 0 and claims(docs) == []
    (warning,) = warnings
    assert warning["id"] == "volume-matched-nothing"
    assert "this Helm 4 stream holds no hook workload" in warning["message"]
    assert "`separate` post-render strategy" in warning["message"]


def test_a_miss_in_a_stream_with_hooks_says_nothing_of_them(tmp_path):
    code, _, warnings, _ = run(tmp_path, "[{kind: CronJob}]", COMBINED)
    (warning,) = warnings
    assert code == 0 and warning["id"] == "volume-matched-nothing" and "hook" not in warning["message"]


def test_strict_refuses_a_created_claim_for_hooks(tmp_path):
    code, out, err = run_main(["-c", write_spec(tmp_path, spec_text("[{kind: Job}]")), "--strict"], COMBINED)
    assert (code, out) == (1, b"")
    assert "warning[created-claim-for-hooks]" in err.decode()
    code, out, _ = run_main(["-c", write_spec(tmp_path, spec_text("[{kind: Job}]")), "--strict",
                             "--allow", "created-claim-for-hooks"], COMBINED)
    assert code == 0 and claims(load_all(out.decode())) == ["migration-scratch"]


@pytest.mark.helm
def test_helm_4_2_stops_on_a_created_claim_for_a_pre_install_hook_under_strict(tmp_path):
    """The real Helm 4.2.3 and the plugin from this checkout: the chart's migration Job is a
    pre-install hook; the warning reaches Helm's error under --strict, and --allow lets it through."""
    helm = need(HELM42)
    env = helm_env(tmp_path)
    ok(run_command([helm, "plugin", "install", ROOT], env))
    spec = write_spec(tmp_path, spec_text("[{kind: Job}]"))
    args = [helm, "template", "rel", CHART, "--post-renderer", "postrender", "--post-renderer-args=-c",
            f"--post-renderer-args={spec}", "--post-renderer-args=--strict"]
    failed = run_command(args, env)
    assert failed.returncode != 0 and failed.stdout == ""
    assert "warning[created-claim-for-hooks]" in failed.stderr and "strict mode refused 1 warning" in failed.stderr
    docs = load_all(ok(run_command([*args, "--post-renderer-args=--allow",
                                    "--post-renderer-args=created-claim-for-hooks"], env)))
    job = by_name(docs, "Job", "rel-run-airflow-migrations")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install"
    assert {"name": "scratch", "persistentVolumeClaim": {"claimName": "migration-scratch"}} in pod_spec(job)["volumes"]
    assert claims(docs) == ["migration-scratch"]
