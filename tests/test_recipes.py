"""docs/recipes.md, exercised: the files and commands are taken from the document itself.

In the document, `<!-- recipe: ID -->` starts a recipe, `<!-- file: PATH -->` makes the next fenced
block a file of it, `<!-- run -->` makes it a command to run (bash -eo pipefail, in the recipe's
directory) and `<!-- run-if: TOOL -->` one to run only where TOOL is installed. The files of the
`common` recipe (the spec file) are in every recipe's directory.

The commands run with the real tools: Helm 3 and kubectl 1.35.2 from .cache/bin (`make tools`),
the postrender console script of this environment, and kpt where it is installed. The chart
`apache-airflow/airflow --version 1.19.0` is replaced by tests/fixtures/chart (offline), and no
cluster is reachable (KUBECONFIG points nowhere). Recipes for tools that are not installed here
(GitHub Actions, GitLab CI, helmfile, Argo CD, Flux) run the commands those tools would run, and
check the configuration against the facts their documentation states.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import by_name, load_all

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "recipes.md"
CHART = ROOT / "tests" / "fixtures" / "chart"
HELM3 = Path(os.environ.get("HELM3") or ROOT / ".cache" / "bin" / "v31" / "helm")
KUBECTL = Path(os.environ.get("KUBECTL") or ROOT / ".cache" / "bin" / "v35" / "kubectl")
CHART_REF = "apache-airflow/airflow --version 1.19.0"
CLAIM = "airflow-log-pvc"
LOGS = "/opt/airflow/logs"


# -- the document --------------------------------------------------------------------------------
def parse_recipes(text):
    recipes = {}
    current = None
    pending = None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = re.match(r"^<!-- (recipe|file|run|run-if):?\s*(.*?)\s*-->$", line)
        if marker:
            what, arg = marker.groups()
            if what == "recipe":
                current = recipes.setdefault(arg, {"files": {}, "runs": []})
            else:
                assert current is not None, f"line {i + 1}: {what} outside a recipe"
                pending = (what, arg)
        elif line.startswith("```") and pending is not None:
            end = lines.index("```", i + 1)
            body = "\n".join(lines[i + 1:end]) + "\n"
            what, arg = pending
            if what == "file":
                current["files"][arg] = body
            else:
                current["runs"].append((arg if what == "run-if" else None, body))
            pending = None
            i = end
        i += 1
    return recipes


RECIPES = parse_recipes(DOC.read_text())


def test_document_has_every_recipe():
    assert set(RECIPES) >= {"common", "ci", "github", "gitlab", "check", "strict", "helmfile", "argocd",
                            "kubectl-kustomize", "kustomize-krm", "kpt", "flux"}
    assert "airflow-volumes.yaml" in RECIPES["common"]["files"]


# -- running --------------------------------------------------------------------------------------
def need(path):
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"{path} is missing: run `make tools`")
    return path


def console_script(name):
    for candidate in (Path(sys.executable).parent / name, ROOT / ".venv" / "bin" / name):
        if candidate.is_file():
            return candidate
    pytest.skip(f"{name} is not installed in this environment: run `make setup`")


@pytest.fixture
def env(tmp_path):
    """PATH with helm (3), kubectl (1.35.2), postrender and kubernetes-validate; no cluster; homes in tmp."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("helm", need(HELM3)), ("kubectl", need(KUBECTL)),
                         ("postrender", console_script("postrender")),
                         ("kubernetes-validate", console_script("kubernetes-validate"))):
        (bin_dir / name).symlink_to(target)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "POSTRENDER_", "KUSTOMIZE_"))}
    e["PATH"] = f"{bin_dir}{os.pathsep}{e.get('PATH', '/usr/bin:/bin')}"
    e["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")
    for var, sub in (("HOME", "home"), ("HELM_CACHE_HOME", "helm/cache"), ("HELM_CONFIG_HOME", "helm/config"),
                     ("HELM_DATA_HOME", "helm/data"), ("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config")):
        e[var] = str(tmp_path / sub)
        os.makedirs(e[var], exist_ok=True)
    return e


def offline(text):
    """The document's chart reference, pointed at the fixture chart."""
    return text.replace(CHART_REF, str(CHART))


def setup(recipe, tmp_path):
    work = tmp_path / recipe
    work.mkdir()
    files = dict(RECIPES["common"]["files"])
    files.update(RECIPES[recipe]["files"])
    for name, body in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        if body.startswith("#!"):
            path.chmod(0o755)
    (work / "values.yaml").write_text("{}\n")
    return work


def bash(script, cwd, env, check=True, timeout=300):
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", offline(script)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{script}\nexit {proc.returncode}\n{proc.stderr}\n{proc.stdout[-2000:]}"
    return proc


def run_recipe(recipe, work, env):
    for tool, script in RECIPES[recipe]["runs"]:
        if tool is not None and shutil.which(tool, path=env["PATH"]) is None:
            continue
        bash(script, work, env)


# -- what every recipe must produce ----------------------------------------------------------------
def logs_on_claim(pod_spec, containers):
    volumes = [v for v in pod_spec.get("volumes") or [] if v["name"] == "logs"]
    assert volumes == [{"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}], pod_spec.get("volumes")
    by_name = {c["name"]: c for c in pod_spec["containers"]}
    for name in containers:
        assert [m["name"] for m in by_name[name].get("volumeMounts") or [] if m["mountPath"] == LOGS] == ["logs"]


def assert_injected(text, roll=True):
    """The claim is in the worker pod template (parsed out of the ConfigMap string) and the workloads."""
    objs = load_all(text)
    template_text = by_name(objs, "ConfigMap", "airflow-config")["data"]["pod_template_file.yaml"]
    template = YAML(typ="safe").load(template_text)
    assert template["kind"] == "Pod"
    logs_on_claim(template["spec"], ["base"])
    workloads = [by_name(objs, "Deployment", "airflow-scheduler"), by_name(objs, "StatefulSet", "airflow-triggerer"),
                 by_name(objs, "Deployment", "airflow-api-server")]
    for obj, containers in zip(workloads, (["scheduler"], ["triggerer"], ["api-server"])):
        logs_on_claim(obj["spec"]["template"]["spec"], containers)
    assert not by_name(objs, "StatefulSet", "airflow-triggerer")["spec"].get("volumeClaimTemplates")
    if roll:
        want = hashlib.sha256(template_text.encode("utf-8")).hexdigest()
        for obj in workloads:
            assert obj["spec"]["template"]["metadata"]["annotations"]["checksum/postrender"] == want
    return objs


def break_spec(work):
    spec = work / "airflow-volumes.yaml"
    spec.write_text(spec.read_text().replace("- name: logs", "- name: Bad_Name"))


# -- CI -----------------------------------------------------------------------------------------------
def test_ci_render_validate_and_review(tmp_path, env):
    work = setup("ci", tmp_path)
    run_recipe("ci", work, env)
    assert_injected((work / "rendered.yaml").read_text())
    diff = (work / "postrender.diff").read_text()
    assert re.search(rf"(?m)^\+\s+claimName: {CLAIM}$", diff), diff[:2000]

    # a bad spec fails the job, with the reason on stderr
    break_spec(work)
    (_, script), = RECIPES["ci"]["runs"]
    proc = bash(script, work, env, check=False)
    assert proc.returncode != 0 and "Bad_Name" in proc.stderr


def test_kubectl_dry_run_client_needs_a_cluster(tmp_path, env):
    """What the CI recipe says: kubectl's client dry runs are no offline check."""
    work = setup("ci", tmp_path)
    run_recipe("ci", work, env)
    for cmd in ("kubectl apply --dry-run=client -f rendered.yaml",
                "kubectl create --dry-run=client -o yaml -f rendered.yaml"):
        proc = bash(cmd, work, env, check=False, timeout=120)
        assert proc.returncode != 0, cmd
        assert "failed to download openapi" in proc.stderr or "unable to recognize" in proc.stderr, proc.stderr


def test_github_actions_steps(tmp_path, env):
    work = setup("github", tmp_path)
    workflow = YAML(typ="safe").load((work / ".github/workflows/airflow.yaml").read_text())
    job = workflow["jobs"]["render"]
    assert job["defaults"]["run"]["shell"] == "bash"  # GitHub: `bash --noprofile --norc -eo pipefail {0}`
    steps = {s.get("id"): s for s in job["steps"]}
    uses = [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]
    assert {"actions/checkout", "actions/setup-python", "azure/setup-helm"} <= set(uses)
    for step in ("render", "validate"):
        bash(steps[step]["run"], work, env)
    assert_injected((work / "rendered.yaml").read_text())


def test_gitlab_ci_script(tmp_path, env):
    work = setup("gitlab", tmp_path)
    job = YAML(typ="safe").load((work / ".gitlab-ci.yml").read_text())["airflow-manifests"]
    assert job["artifacts"]["paths"] == ["rendered.yaml"]
    bash("\n".join(job["script"]), work, env)
    assert_injected((work / "rendered.yaml").read_text())


def test_helmfile_release_fields(tmp_path, env):
    """helmfile is not installed here: run the `helm template` call it makes from the release's fields."""
    work = setup("helmfile", tmp_path)
    text = re.sub(r"\{\{.*?\}\}", "templated", (work / "helmfile.yaml.gotmpl").read_text())
    (release,) = YAML(typ="safe").load(text)["releases"]
    assert set(release) >= {"postRenderer", "postRendererArgs"}
    chart = CHART_REF if release["chart"] == "apache-airflow/airflow" and release["version"] == "1.19.0" else "?"
    cmd = ["helm", "template", release["name"], chart, "--namespace", release["namespace"]]
    cmd += [f"-f {v}" for v in release["values"]]
    cmd += ["--post-renderer", release["postRenderer"]]
    cmd += [f"--post-renderer-args={a}" for a in release["postRendererArgs"]]
    bash(" ".join(cmd) + " > rendered.yaml", work, env)
    assert_injected((work / "rendered.yaml").read_text())


# -- drift check and --strict ----------------------------------------------------------------------------
def require_option(option):
    """--check and --strict come with issue 23: until this build has them, their recipes cannot run."""
    proc = subprocess.run([str(console_script("postrender")), "--help"], capture_output=True, text=True)
    if not re.search(rf"(?m)^\s+{re.escape(option)}\b", proc.stdout):
        pytest.skip(f"this postrender has no {option} yet")


def fake_get_manifest(env, stored):
    """`helm get manifest RELEASE ...` answered from stored/RELEASE (no cluster here), as Helm answers
    a release that does not exist when there is no such file; every other helm command is the real one."""
    wrapper = Path(env["PATH"].split(os.pathsep)[0]) / "helm"
    real = wrapper.resolve()
    wrapper.unlink()
    wrapper.write_text(f"""#!/bin/sh
if [ "$1 $2" = "get manifest" ]; then
  [ -f "{stored}/$3" ] && exec cat "{stored}/$3"
  echo "Error: release: not found" >&2
  exit 1
fi
exec "{real}" "$@"
""")
    wrapper.chmod(0o755)
    stored.mkdir()


def test_drift_check_passes_the_post_rendered_release_and_flags_one_upgraded_without_it(tmp_path, env):
    require_option("--check")
    work = setup("check", tmp_path)
    stored = tmp_path / "stored"
    fake_get_manifest(env, stored)
    steps = {s["name"]: s["run"] for s in YAML(typ="safe").load((work / "deploy-steps.yaml").read_text())}
    # what `helm upgrade` of the Deploy step stores: the same render, post-rendered
    deploy = steps["Deploy"].replace("helm upgrade --install", "helm template", 1)
    bash(deploy.rstrip("\n") + f" > {stored}/airflow", work, env)
    proc = bash(steps["Check what Helm stored"], work, env)
    assert proc.stdout == proc.stderr == ""

    # a later `helm upgrade` without the post-renderer: the chart's own render is stored
    bash(f"helm template airflow {CHART_REF} --namespace airflow > {stored}/airflow", work, env)
    proc = bash("./check-drift.sh airflow airflow airflow-volumes.yaml", work, env, check=False)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    assert "airflow/airflow has drifted from airflow-volumes.yaml" in proc.stderr
    assert "ConfigMap/airflow-config" in proc.stderr and "StatefulSet/airflow-triggerer" in proc.stderr

    # a release that is not there: the check fails, it does not pass for "no drift"
    proc = bash("./check-drift.sh nope airflow airflow-volumes.yaml", work, env, check=False)
    assert proc.returncode == 1
    assert "release: not found" in proc.stderr and "the drift check failed (exit 1)" in proc.stderr


def test_scheduled_drift_check_runs_the_script_daily_and_in_cron(tmp_path, env):
    require_option("--check")
    work = setup("check", tmp_path)
    workflow = YAML(typ="safe").load((work / ".github/workflows/airflow-drift.yaml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    job = workflow["jobs"]["drift"]
    assert job["defaults"]["run"]["shell"] == "bash"
    steps = {s.get("name"): s for s in job["steps"]}
    stored = tmp_path / "stored"
    fake_get_manifest(env, stored)
    bash(f"helm template airflow {CHART_REF} --namespace airflow > {stored}/airflow", work, env)
    proc = bash(steps["Drift check"]["run"], work, env, check=False)
    assert proc.returncode == 3 and "has drifted" in proc.stderr

    (entry,) = [line for line in (work / "crontab").read_text().splitlines() if not line.startswith("#")]
    fields = entry.split()
    assert len(fields) >= 6 and fields[5].endswith("/check-drift.sh") and fields[6:8] == ["airflow", "airflow"]


def test_strict_recipe_passes_with_the_triggerer_warning_allowed_and_stops_without(tmp_path, env):
    require_option("--strict")
    work = setup("strict", tmp_path)
    run_recipe("strict", work, env)
    assert_injected((work / "rendered.yaml").read_text())

    (_, script), = RECIPES["strict"]["runs"]
    allow = "  --post-renderer-args=--allow --post-renderer-args=claim-template-removed \\\n"
    assert allow in script
    proc = bash(script.replace(allow, ""), work, env, check=False)
    assert proc.returncode != 0
    assert "claim-template-removed" in proc.stderr
    assert (work / "rendered.yaml").read_text() == ""  # nothing rendered, nothing to apply


# -- Argo CD ------------------------------------------------------------------------------------------
def test_argocd_cmp_commands(tmp_path, env):
    work = setup("argocd", tmp_path)
    yaml = YAML(typ="safe")
    configmap = yaml.load((work / "cmp-plugin.yaml").read_text())
    plugin = yaml.load(configmap["data"]["plugin.yaml"])
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1" and plugin["kind"] == "ConfigManagementPlugin"
    # the sidecar, as Argo CD's docs require it
    (sidecar,) = yaml.load((work / "repo-server-patch.yaml").read_text())["containers"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    assert mounts["/home/argocd/cmp-server/config/plugin.yaml"]["subPath"] == "plugin.yaml"
    assert {"/var/run/argocd", "/home/argocd/cmp-server/plugins", "/tmp"} <= set(mounts)
    app = yaml.load((work / "application.yaml").read_text())
    assert app["spec"]["source"]["plugin"]["name"] == plugin["metadata"]["name"]  # no spec.version

    # the Application's source directory: the chart, with the spec file beside Chart.yaml
    source = tmp_path / "app-source"
    shutil.copytree(CHART, source)
    shutil.copy(work / "airflow-volumes.yaml", source)
    assert list(source.glob(plugin["spec"]["discover"]["fileName"]))
    argo = dict(env, ARGOCD_APP_NAME="airflow", ARGOCD_APP_NAMESPACE="airflow")

    def run(step, extra=None):
        command = plugin["spec"][step]["command"] + plugin["spec"][step]["args"]
        return subprocess.run(command, cwd=source, env=dict(argo, **(extra or {})), capture_output=True,
                              text=True, timeout=300)

    init = run("init")
    assert init.returncode == 0 and init.stdout == "", init.stderr
    generated = run("generate")
    assert generated.returncode == 0, generated.stderr
    assert_injected(generated.stdout)

    # an Application env entry VALUES=... reaches the plugin as ARGOCD_ENV_VALUES
    (source / "values-prod.yaml").write_text("{}\n")
    assert run("generate", {"ARGOCD_ENV_VALUES": "values-prod.yaml"}).returncode == 0

    # a bad spec: generate fails, with no manifest on stdout (Argo CD prunes nothing)
    spec = (work / "airflow-volumes.yaml").read_text()
    (source / "bad.yaml").write_text(spec.replace("- name: logs", "- name: Bad_Name"))
    failed = run("generate", {"ARGOCD_ENV_POSTRENDER_SPEC": "bad.yaml"})
    assert failed.returncode != 0 and "Bad_Name" in failed.stderr
    assert "kind:" not in failed.stdout


# -- kustomize ----------------------------------------------------------------------------------------
def test_kubectl_kustomize_exec_plugin(tmp_path, env):
    work = setup("kubectl-kustomize", tmp_path)
    run_recipe("kubectl-kustomize", work, env)
    # kustomize sorts and re-serialises; the pod template string was edited by postrender before
    assert_injected((work / "out.yaml").read_text())

    break_spec(work)
    proc = bash(RECIPES["kubectl-kustomize"]["runs"][0][1], work, env, check=False)
    assert proc.returncode != 0 and "Bad_Name" in proc.stderr


def test_kustomize_krm_function(tmp_path, env):
    work = setup("kustomize-krm", tmp_path)
    bash(f"helm template airflow {CHART_REF} --namespace airflow > airflow.yaml", work, env)

    # kubectl's kustomize has no --enable-exec: it skips the function and says nothing (the recipe's warning)
    proc = bash("kubectl kustomize --enable-alpha-plugins .", work, env)
    assert CLAIM not in proc.stdout and "VolumeInjection" not in proc.stdout

    # the standalone kustomize, where installed, runs the recipe as written
    if shutil.which("kustomize", path=env["PATH"]):
        run_recipe("kustomize-krm", work, env)
        assert_injected((work / "out.yaml").read_text())

    # the same function config and wrapper, through kpt (the same ResourceList protocol)
    kpt = shutil.which("kpt", path=env["PATH"])
    if kpt is None:
        pytest.skip("kpt is not installed: the KRM exec function was only checked by tests/test_krm.py")
    resources = tmp_path / "resources"
    resources.mkdir()
    shutil.copy(work / "airflow.yaml", resources)
    proc = bash(f"kpt fn eval {resources} --exec ./postrender-krm --fn-config transformer.yaml -o unwrap",
                work, env, timeout=120)
    assert_injected(proc.stdout)
    assert "[info] v1/ConfigMap/airflow-config: pod template in key pod_template_file.yaml" in proc.stderr


def test_kpt(tmp_path, env):
    if shutil.which("kpt", path=env["PATH"]) is None:
        pytest.skip("kpt is not installed")
    work = setup("kpt", tmp_path)
    run_recipe("kpt", work, env)
    assert_injected((work / "airflow" / "airflow.yaml").read_text())  # edited in place
    assert_injected((work / "unwrapped.yaml").read_text())
    assert_injected((work / "pipeline" / "airflow.yaml").read_text())
    # --logs-claim alone: the chart's own logs volumes go on the claim, as logs.persistence would
    objs = load_all((work / "logs-only.yaml").read_text())
    template = YAML(typ="safe").load(by_name(objs, "ConfigMap", "airflow-config")["data"]["pod_template_file.yaml"])
    logs_on_claim(template["spec"], ["base"])
    logs_on_claim(by_name(objs, "Deployment", "airflow-scheduler")["spec"]["template"]["spec"], ["scheduler"])

    # a bad spec: kpt reports the error result and fails
    break_spec(work)
    proc = bash(RECIPES["kpt"]["runs"][0][1], work, env, check=False, timeout=120)
    assert proc.returncode != 0
    assert "[error]" in proc.stderr and "Bad_Name" in proc.stderr


# -- Flux ---------------------------------------------------------------------------------------------
def test_flux_rendered_manifests(tmp_path, env):
    work = setup("flux", tmp_path)
    run_recipe("flux", work, env)
    assert_injected((work / "deploy" / "airflow" / "airflow.yaml").read_text())
    assert_injected((work / "built.yaml").read_text())
    kustomization = YAML(typ="safe").load((work / "clusters/prod/airflow.yaml").read_text())
    assert kustomization["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["spec"]["path"] == "./deploy/airflow"
    assert kustomization["spec"]["sourceRef"]["kind"] == "GitRepository"


@pytest.mark.parametrize("patch, error", [
    ("- op: replace\n  path: /data/pod_template_file.yaml/spec/volumes/0\n"
     "  value: {name: logs, persistentVolumeClaim: {claimName: airflow-log-pvc}}\n",
     "doc is missing path: /data/pod_template_file.yaml/spec/volumes/0"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: airflow-config}\ndata:\n  pod_template_file.yaml:\n"
     "    spec: {volumes: [{name: logs, persistentVolumeClaim: {claimName: airflow-log-pvc}}]}\n",
     "wrong node kind: expected ScalarNode but got MappingNode"),
])
def test_flux_patches_cannot_reach_the_pod_template(tmp_path, env, patch, error):
    """What the Flux recipe quotes: kustomize patches (all a HelmRelease's postRenderers take) fail there."""
    work = tmp_path / "patch"
    work.mkdir()
    bash(f"helm template airflow {CHART_REF} --namespace airflow > airflow.yaml", work, env)
    indented = "\n".join("      " + line if line else line for line in patch.rstrip("\n").split("\n"))
    (work / "kustomization.yaml").write_text(
        "resources: [airflow.yaml]\npatches:\n  - target: {version: v1, kind: ConfigMap, name: airflow-config}\n"
        "    patch: |\n" + indented + "\n")
    proc = bash("kubectl kustomize .", work, env, check=False)
    assert proc.returncode != 0 and error in proc.stderr, proc.stderr
    assert error in DOC.read_text()
