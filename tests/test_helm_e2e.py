"""End-to-end: the real Helm 3 and Helm 4 binaries running postrender on tests/fixtures/chart.

Helm 3 runs the console script by path; Helm 4 runs the plugin (plugin.yaml + bin/postrender-plugin)
installed with `helm plugin install` from this checkout (development mode: the checkout's .venv),
each Helm 4 test on Helm 4.1.4 and 4.2.3 (the `helm4` fixture). The release tarball is tested in
test_plugin_release.py. Every Helm call gets its own HELM_*_HOME, HOME and XDG_STATE_HOME under
tmp_path. The binaries come from HELM3/HELM4/HELM42 (`make tools` fetches them).
"""
import re
from pathlib import Path

import pytest

from conftest import (
    BAD_CHART_SPEC,
    CHART,
    CHART_SPEC,
    HELM3,
    HELM4,
    assert_injected,
    assert_logs_on_claim,
    by_name,
    helm_env,
    load_all,
    need,
    pod_spec,
    postrender_script,
)
from conftest import run_command as run
from conftest import succeeded as ok

pytestmark = pytest.mark.helm

ROOT = Path(__file__).resolve().parents[1]
SCHEDULER_SRC = "templates/scheduler/scheduler-deployment.yaml"


@pytest.fixture
def env(tmp_path):
    """A clean environment: Helm's homes, HOME and XDG_STATE_HOME all under tmp_path."""
    return helm_env(tmp_path)


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(CHART_SPEC)
    return path


def chunks(stream):
    """Helm 3 stream -> {source file: chunk text}."""
    parts = re.split(r"(?m)^---\n(?=# Source: )", stream)
    return {p.split("\n", 1)[0][len("# Source: "):]: p for p in parts if p.startswith("# Source: ")}


# ---------------------------------------------------------------- Helm 3


def test_helm3_post_renderer_by_path(env, spec, tmp_path):
    helm = need(HELM3)
    script = postrender_script()
    args = ["--post-renderer", script, "--post-renderer-args=-c", f"--post-renderer-args={spec}"]
    plain = ok(run([helm, "template", "rel", CHART], env))
    out = ok(run([helm, "template", "rel", CHART, *args], env))

    assert_injected(out)
    assert "  pod_template_file.yaml: |-\n    \n    ---\n" in out, "Helm 3's |- block style is kept"
    before, after = chunks(plain), chunks(out)
    assert sorted(before) == sorted(after), "every # Source: line survives"
    for untouched in ("airflow/templates/api-server/api-server-service.yaml",
                      "airflow/templates/api-server/api-server-hpa.yaml"):  # the second is comment-only
        assert after[untouched] == before[untouched]

    # --show-only matches on the # Source: lines of the post-rendered stream.
    only = ok(run([helm, "template", "rel", CHART, *args, "--show-only", SCHEDULER_SRC], env))
    (sched,) = load_all(only)
    assert sched["kind"] == "Deployment" and sched["metadata"]["name"] == "rel-scheduler"
    assert_logs_on_claim(pod_spec(sched), ["scheduler", "scheduler-log-groomer"])

    # Another release name, and a second pass that changes nothing.
    assert_injected(ok(run([helm, "template", "other", CHART, *args], env)), release="other")
    again = run([script, "-c", spec], env, input=out)
    assert again.returncode == 0, again.stderr
    assert again.stdout == out


# Values the official chart's own tests use: a key set by the chart and again by the user, and a
# global pod annotation repeated per component, render one annotations mapping with repeated keys.
REPEATED_ANNOTATIONS = """\
airflowPodAnnotations: {example: global}
scheduler:
  podAnnotations: {example: scheduler, cluster-autoscaler.kubernetes.io/safe-to-evict: "false"}
"""


def assert_repeated_annotations_kept(out):
    """The scheduler's annotations as kubectl reads them (last wins): the user's values and the roll."""
    import yaml  # PyYAML lets the last occurrence win, as sigs.k8s.io/yaml does

    scheduler, = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "Deployment"
                  and d["metadata"]["name"] == "rel-scheduler"]
    annotations = scheduler["spec"]["template"]["metadata"]["annotations"]
    assert annotations["example"] == "scheduler"
    assert annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false"
    assert len(annotations["checksum/postrender"]) == 64
    assert_logs_on_claim(pod_spec(scheduler), ["scheduler", "scheduler-log-groomer"])


def test_helm3_installs_a_render_with_repeated_pod_annotations(env, spec, tmp_path):
    helm = need(HELM3)
    values = tmp_path / "values.yaml"
    values.write_text(REPEATED_ANNOTATIONS)
    script = postrender_script()
    args = ["-f", values, "--post-renderer", script, "--post-renderer-args=-c", f"--post-renderer-args={spec}"]
    out = ok(run([helm, "template", "rel", CHART, *args], env))
    assert out.count("example: ") == 2, "both occurrences reach Helm, as without postrender"
    assert_repeated_annotations_kept(out)
    again = run([script, "-c", spec], env, input=out)
    assert again.returncode == 0 and again.stdout == out, again.stderr


def test_helm3_failure_shows_reason_even_inside_another_plugin(env, tmp_path):
    """Helm 3 shows the post-renderer's stderr; HELM_PLUGIN_NAME inherited from a Helm 3 CLI
    plugin (helm-diff runs `helm upgrade --post-renderer ...`) must not switch to plugin mode."""
    helm = need(HELM3)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_CHART_SPEC)
    env.update(HELM_PLUGIN_NAME="diff", HELM_PLUGIN_DIR=str(tmp_path / "diff-plugin"))
    proc = run([helm, "template", "rel", CHART, "--post-renderer", postrender_script(),
                "--post-renderer-args=-c", f"--post-renderer-args={bad}"], env)
    assert proc.returncode != 0
    assert "kind:" not in proc.stdout
    assert "Bad_Name" in proc.stderr
    assert "|-" not in proc.stderr, "no plugin-mode block scalar under Helm 3"


# ---------------------------------------------------------------- Helm 4


def install_plugin(helm, source, env):
    proc = run([helm, "plugin", "install", source], env)
    ok(proc)
    assert "Installed plugin: postrender" in proc.stdout
    assert "failed to load plugin" not in proc.stderr, proc.stderr
    listing = ok(run([helm, "plugin", "list"], env))
    assert re.search(r"(?m)^postrender\s+0\.1\.0\s+postrenderer/v1\s+v1\b", listing), listing
    return proc


def helm4_template(helm, spec, env, *extra, **kw):
    return run([helm, "template", "rel", CHART, "--post-renderer", "postrender",
                "--post-renderer-args=-c", f"--post-renderer-args={spec}", *extra], env, **kw)


def test_helm4_plugin_from_repo_dir(env, spec, helm4):
    helm = helm4
    install_plugin(helm, ROOT, env)
    out = ok(helm4_template(helm, spec, env))
    objs = assert_injected(out)
    # Objects kept postrenderer.helm.sh/postrender-filename: Helm regrouped them under their files.
    assert f"# Source: airflow/{SCHEDULER_SRC}\n" in out
    assert "generated-by-postrender" not in out
    # Helm 4 hands hooks to the post-renderer too: the Job is not a target and does not roll.
    job = by_name(objs, "Job", "rel-run-airflow-migrations")
    assert [v["name"] for v in pod_spec(job)["volumes"]] == ["config"]
    assert "checksum/postrender" not in (job["spec"]["template"]["metadata"].get("annotations") or {})


def test_helm4_installs_a_render_with_repeated_pod_annotations(env, spec, tmp_path, helm4):
    helm = helm4
    install_plugin(helm, ROOT, env)
    values = tmp_path / "values.yaml"
    values.write_text(REPEATED_ANNOTATIONS)
    ok(run([helm, "template", "rel", CHART, "-f", values], env))  # Helm 4 itself accepts the render
    assert_repeated_annotations_kept(ok(helm4_template(helm, spec, env, "-f", values)))


def test_helm4_failure_reaches_the_user_without_a_terminal(env, tmp_path, helm4):
    """Helm 4 drops the plugin's stderr: with no tty, the reason must be in Helm's own error
    message and in the documented log file."""
    helm = helm4
    install_plugin(helm, ROOT, env)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_CHART_SPEC)
    proc = helm4_template(helm, bad, env, start_new_session=True)  # no controlling terminal
    assert proc.returncode != 0
    assert "kind:" not in proc.stdout
    log = Path(env["XDG_STATE_HOME"]) / "postrender" / "postrender.log"
    assert log.is_file(), "the failure is logged"
    assert "Bad_Name" in log.read_text()
    assert "Bad_Name" in proc.stderr, f"Helm's error must carry the reason:\n{proc.stderr}"
    assert str(log) in proc.stderr, "and name the log file"


HOOK_SPEC = """\
volumes:
  - name: scratch
    claimName: migration-scratch
    mountPath: /scratch
    targets: [{kind: Job}]
"""


def test_hooks_get_volumes_under_helm4_only(env, tmp_path):
    """What docs/helm.md says: Helm 3 never sends a hook (the migration Job) through the
    post-renderer, Helm 4 does."""
    spec = tmp_path / "hook.yaml"
    spec.write_text(HOOK_SPEC)
    args = ["--post-renderer-args=-c", f"--post-renderer-args={spec}"]
    helm3 = ok(run([need(HELM3), "template", "rel", CHART, "--post-renderer", postrender_script(), *args], env))
    helm4 = need(HELM4)
    install_plugin(helm4, ROOT, env)
    helm4_out = ok(run([helm4, "template", "rel", CHART, "--post-renderer", "postrender", *args], env))
    volumes = {}
    for name, out in (("helm3", helm3), ("helm4", helm4_out)):
        job = by_name(load_all(out), "Job", "rel-run-airflow-migrations")
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install"
        volumes[name] = [v["name"] for v in pod_spec(job)["volumes"]]
    assert volumes == {"helm3": ["config"], "helm4": ["config", "scratch"]}
