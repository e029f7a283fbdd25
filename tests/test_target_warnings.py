"""Targets (issue 13): the word `airflow`, targets that miss, and `--logs-claim` with no logs volume.

- `airflow` selects the worker pod templates and every Airflow component workload of the official,
  community and Bitnami charts, never statsd, redis, pgbouncer, flower, metrics or the jobs: checked
  on every captured render.
- A target the user wrote that matched nothing, while another target of its volume matched, is a
  warning in a stream that holds Airflow, with a did-you-mean drawn from the component labels of the
  stream's workloads. A volume that matched nothing keeps its one warning. The default targets
  (`pod-template, worker`) are not the user's words: a Celery-less render does not warn of `worker`.
- `--logs-claim` on a stream without an Airflow logs volume warns; an empty or hooks-only stream
  draws none of these warnings.
"""
import json
import re

import pytest

from conftest import (
    CAPTURES,
    FIXTURES,
    load_all,
    needs_captures,
    pod_templates,
    run_main,
    transform,
    validate_k8s,
    write_spec,
)
from postrender.checks import nearest
from postrender.ledger import Ledger
from postrender.spec import Spec, Target, parse_spec_text
from postrender.targets import AIRFLOW_COMPONENTS, Site, target_matches

EDGES = FIXTURES / "edges"
MINI3 = FIXTURES / "operator" / "mini-helm3.yaml"
HOOKS4 = EDGES / "hooks-only-helm4.yaml"
NO_AIRFLOW = EDGES / "no-airflow-helm3.yaml"
DATA_PATH = "/opt/airflow/shared-data"


def spec_text(targets: str, name: str = "shared-data") -> str:
    return (f"volumes:\n  - name: {name}\n    claimName: airflow-shared\n    mountPath: {DATA_PATH}\n"
            f"    targets: {targets}\n")


def run(stream: bytes, text: str = "", logs_claim=None):
    spec = Spec(volumes=parse_spec_text(text, "spec.yaml") if text else [], logs_claim=logs_claim)
    return transform(stream, spec)


def warnings(ledger: Ledger):
    return [str(w) for w in ledger.warnings]


def ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result


# -- the word `airflow` ---------------------------------------------------------------------------------
def site(component=None, key="app.kubernetes.io/component", configmap=None):
    labels = {key: component} if component else {}
    return Site("Deployment", "x", None, labels, {}, configmap=configmap, key="k" if configmap else None)


def test_airflow_target_unit():
    airflow = Target.word("airflow")
    assert airflow == Target(airflow=True) and airflow.describe() == "airflow"
    for component in AIRFLOW_COMPONENTS:
        assert target_matches(airflow, site(component))
        assert target_matches(airflow, site(component, key="component"))
    for other in ("statsd", "redis", "pgbouncer", "flower", "metrics", "db-migrations", "sync-users",
                  "run-airflow-migrations", "create-user-job", "setup-db", "cleanup", "airflow", None):
        assert not target_matches(airflow, site(other)), other
    assert target_matches(airflow, site(configmap="airflow-config"))
    assert Target.word("pod-template").pod_template and Target.word("worker").component == "worker"
    assert Target.word("worker", implied=True) == Target.word("worker")  # `implied` is no part of equality


def capture_names():
    return sorted(p.name for p in CAPTURES.glob("helm*-*.yaml")) if CAPTURES.is_dir() else []


def expected_airflow(name: str):
    """(workload names, has a pod template) that `airflow` must select in a capture, from what the
    chart renders for each configuration (see shared/notes.md)."""
    match = re.match(r"helm[34]-(official|community|bitnami)-([\d.]+)-(\w+(?:-[\w-]+)?)\.yaml", name)
    assert match, name
    family, version, config = match.groups()
    if family == "official":
        components = ["scheduler", "triggerer", "webserver" if version == "1.15.0" else "api-server"]
        components += [] if version == "1.15.0" else ["dag-processor"]
        celery, kubernetes = config in ("d", "e"), config != "d"
    elif family == "community":
        components = ["scheduler", "triggerer", "web"]
        celery, kubernetes = config == "d", config != "d"
    else:
        components = ["scheduler", "dag-processor", "triggerer", "web"]
        celery, kubernetes = config.startswith("c"), True
    return {f"airflow-{c}" for c in components + (["worker"] if celery else [])}, kubernetes


def changed_objects(before: bytes, after: bytes):
    old = [d for d in load_all(before) if isinstance(d, dict)]
    new = [d for d in load_all(after) if isinstance(d, dict)]
    assert len(old) == len(new)
    return [b for a, b in zip(old, new) if a != b]


@needs_captures
@pytest.mark.parametrize("name", capture_names())
def test_airflow_target_on_every_capture(name):
    stream = (CAPTURES / name).read_bytes()
    out, ledger = run(stream, spec_text("[airflow]"))
    assert warnings(ledger) == []
    changed = changed_objects(stream, out)
    workloads, kubernetes = expected_airflow(name)
    assert {d["metadata"]["name"] for d in changed if d["kind"] != "ConfigMap"} == workloads
    templates = [d for d in changed if d["kind"] == "ConfigMap"]
    assert len(templates) == (1 if kubernetes else 0)
    for template in pod_templates(templates).values():
        claim = {"name": "shared-data", "persistentVolumeClaim": {"claimName": "airflow-shared"}}
        assert claim in template["spec"]["volumes"]
    for doc in changed:
        validate_k8s(doc)
    again, _ = run(out, spec_text("[airflow]"))
    assert again == out


@needs_captures
@pytest.mark.parametrize("name", ["helm3-official-1.19.0-e.yaml", "helm4-community-8.9.0-d.yaml",
                                  "helm4-bitnami-25.1.0-c.yaml"])
def test_airflow_target_through_the_cli(tmp_path, name):
    stream = (CAPTURES / name).read_bytes()
    result = ok(run_main(["-c", write_spec(tmp_path, spec_text("[airflow]"))], stream))
    assert result.stderr == b""
    again = ok(run_main(["-c", write_spec(tmp_path, spec_text("[airflow]"))], result.stdout))
    assert again.stdout == result.stdout


# -- targets that miss ---------------------------------------------------------------------------------
def test_per_target_warnings_with_did_you_mean_official(tmp_path):
    """The issue's example: a render with the pod template, `api-server` and `worker`."""
    stream = (CAPTURES / "helm3-official-1.19.0-e.yaml").read_bytes() if CAPTURES.is_dir() else None
    if stream is None:
        pytest.skip("captures not found")
    result = ok(run_main(["-c", write_spec(tmp_path, spec_text("[pod-template, webserver, workers]")),
                         "--report", str(tmp_path / "r.json")], stream))
    expected = ["volume 'shared-data': target 'webserver' matched nothing (did you mean 'api-server'?)",
                "volume 'shared-data': target 'workers' matched nothing (did you mean 'worker'?)"]
    report = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert report == [{"severity": "warning", "id": "target-matched-nothing", "message": w} for w in expected]
    assert result.stderr.decode().splitlines() == [f"postrender: warning[target-matched-nothing]: {w}"
                                                   for w in expected]


@needs_captures
@pytest.mark.parametrize("name, targets, expected", [
    ("helm4-bitnami-25.1.0-c.yaml", "[pod-template, api-server, schedulers]",
     ["target 'api-server' matched nothing (did you mean 'web'?)",
      "target 'schedulers' matched nothing (did you mean 'scheduler'?)"]),
    ("helm3-community-8.9.0-a.yaml", "[pod-template, webserver, triggerer]",
     ["target 'webserver' matched nothing (did you mean 'web'?)"]),
    ("helm4-official-1.15.0-a.yaml", "[pod-template, api-server, dag-processor]",
     ["target 'api-server' matched nothing (did you mean 'webserver'?)",
      "target 'dag-processor' matched nothing (components in the stream: create-user-job, "
      "run-airflow-migrations, scheduler, statsd, triggerer, webserver)"]),  # Helm 4 sends the hook jobs too
    ("helm3-official-1.19.0-d.yaml", "[pod-template, worker]",
     ["target 'pod-template' matched nothing (the stream has no worker pod template: does the executor "
      "include the KubernetesExecutor?)"]),
    ("helm3-official-1.19.0-a.yaml", "[airflow, {kind: Deployment, name: 'nothing-*'}]",
     ["target '{kind=Deployment, name=nothing-*}' matched nothing"]),
])
def test_per_target_warnings_on_captures(name, targets, expected):
    _, ledger = run((CAPTURES / name).read_bytes(), spec_text(targets))
    assert warnings(ledger) == [f"volume 'shared-data': {e}" for e in expected]


def test_a_volume_that_matched_nothing_keeps_its_one_warning_with_hints():
    _, ledger = run(MINI3.read_bytes(), spec_text("[schedular, triggerrer]"))
    assert warnings(ledger) == ["volume 'shared-data' matched no object (targets: schedular, triggerrer); "
                                "did you mean 'scheduler' for 'schedular', 'triggerer' for 'triggerrer'?"]


def test_default_targets_are_not_warned_about_one_by_one():
    """`--volume` and a spec without `targets` mean the pod template (and Celery workers, if any)."""
    _, ledger = run(MINI3.read_bytes(), "volumes:\n- {name: d, claimName: d, mountPath: /d}\n")
    assert warnings(ledger) == []
    result = ok(run_main(["--volume", "d=d:/d"], MINI3.read_bytes()))
    assert result.stderr == b""


def test_no_per_target_warning_without_airflow_in_the_stream():
    stream = NO_AIRFLOW.read_bytes()
    _, ledger = run(stream, spec_text("[airflow]"))
    assert warnings(ledger) == ["volume 'shared-data' matched no object (targets: airflow); the stream holds "
                                "no Airflow worker pod template or component workload"]
    out, ledger = run(stream, spec_text("[cache, scheduler]"))
    assert warnings(ledger) == []  # `cache` matched; no Airflow here to say `scheduler` is missing
    assert out != stream


def test_nothing_is_warned_about_in_an_empty_or_hooks_only_stream():
    for stream in (b"", b"---\n# c\n", HOOKS4.read_bytes()):
        _, ledger = run(stream, spec_text("[airflow, nosuch]"), logs_claim="airflow-logs")
        assert warnings(ledger) == []


def test_nearest_unit():
    seen = ["api-server", "dag-processor", "scheduler", "statsd", "triggerer", "worker"]
    assert nearest(Target.word("webserver"), seen) == "api-server"
    assert nearest(Target.word("web"), ["web", "webserver"]) == "webserver"
    assert nearest(Target.word("workers"), seen) == "worker"
    assert nearest(Target.word("flower"), seen) is None
    assert nearest(Target.word("pod-template"), seen) is None
    assert nearest(Target.word("scheduler"), []) is None


def test_per_target_matches_survive_the_merge_of_two_halves():
    first, second = Ledger(), Ledger()
    first.matched_targets.add(("v", 0))
    second.matched_targets.add(("v", 1))
    second.components.add("worker")
    second.airflow = second.has_release_objects = True
    first.merge(second)
    assert first.matched_targets == {("v", 0), ("v", 1)}
    assert first.components == {"worker"} and first.airflow and first.has_release_objects




# -- --logs-claim with no logs volume -----------------------------------------------------------------
LOGS_WARNING = "--logs-claim airflow-logs: found no Airflow logs volume"


def test_logs_claim_on_a_stream_without_airflow_warns(tmp_path):
    stream = NO_AIRFLOW.read_bytes()
    result = ok(run_main(["--logs-claim", "airflow-logs", "--report", str(tmp_path / "r.json")], stream))
    assert result.stdout == stream
    (entry,) = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert entry["id"] == "logs-volume-not-found"
    warning = entry["message"]
    assert warning.startswith(LOGS_WARNING) and warning.endswith("; nothing was changed")
    assert "/opt/airflow/logs" in warning


def test_logs_claim_on_airflow_without_a_logs_volume_warns():
    """Only an api-server, which reads logs for the UI: it gets the claim, but no pod writes logs there."""
    stream = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: airflow-api-server
  labels: {component: api-server}
spec:
  selector: {matchLabels: {component: api-server}}
  template:
    metadata: {labels: {component: api-server}}
    spec:
      containers:
        - name: api-server
          image: apache/airflow:3.1.7
"""
    out, ledger = run(stream, logs_claim="airflow-logs")
    (warning,) = warnings(ledger)
    assert warning.startswith(LOGS_WARNING) and "nothing was changed" not in warning
    assert out != stream


def test_logs_claim_on_a_render_with_a_logs_volume_is_quiet():
    _, ledger = run(MINI3.read_bytes(), logs_claim="airflow-logs")
    assert [w for w in warnings(ledger) if "removed volumeClaimTemplate" not in w] == []


@needs_captures
@pytest.mark.parametrize("name", capture_names())
def test_logs_claim_finds_the_logs_volume_in_every_capture(name):
    _, ledger = run((CAPTURES / name).read_bytes(), logs_claim="airflow-log-pvc")
    assert not any(w.startswith("--logs-claim") for w in warnings(ledger))
    assert not any("share no group" in w for w in warnings(ledger))


@pytest.mark.parametrize("order", ["hooks first", "hooks last"])
def test_two_processes_give_what_one_gives(order):
    """A stream cut in two (`twoprocess`, forced): the halves' ledgers merge into the same
    warnings and the same created claim as one pipeline over the whole stream."""
    hooks = b"---\n" + HOOKS4.read_bytes()
    stream = hooks + MINI3.read_bytes() if order == "hooks first" else MINI3.read_bytes() + hooks
    spec = Spec(volumes=parse_spec_text(spec_text("[pod-template, triggerer, schedular]") +
                                        "    create: {storage: 1Gi}\n", "s"))
    results = []
    for workers in (1, 2):
        output, ledger = transform(stream, spec, workers)
        results.append((output, warnings(ledger)))
    assert results[0] == results[1]
    out, found = results[0]
    assert found == ["volume 'shared-data': target 'schedular' matched nothing (did you mean 'scheduler'?)"]
    assert len([d for d in load_all(out) if d.get("kind") == "PersistentVolumeClaim"]) == 1
