"""KRM function mode: a ResourceList on stdin, a ResourceList on stdout (kpt, kustomize).

Most tests run the real console entry (`python -m postrender`) as a process, because the
contract is about the process: the ResourceList on stdout, the exit code, and stderr.
The Airflow ResourceLists are built from the bundled render of the official chart 1.19.0.
"""
import copy
import hashlib
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import krm_failed as failed
from conftest import run_main
from postrender.krm import KrmFailure, is_resource_list, run_krm
from postrender.read import Chunk
from postrender.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "krm"
CLAIM = "airflow-log-pvc"
LOGS = "/opt/airflow/logs"
SPEC = {
    "apiVersion": "postrender/v1",
    "kind": "VolumeInjection",
    "metadata": {"name": "airflow-volumes", "annotations": {"config.kubernetes.io/local-config": "true"}},
    "volumes": [{"name": "logs", "claimName": CLAIM, "mountPath": LOGS, "replace": True,
                 "targets": ["pod-template", "scheduler", "triggerer", "api-server"]}],
}


# -- helpers ---------------------------------------------------------------------------------------
def postrender(stdin, *args):
    return run_main(list(args), stdin.encode("utf-8") if isinstance(stdin, str) else stdin)


def load(text):
    return YAML(typ="safe").load(text)


def dump(value):
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 1 << 20  # one line per string, as kpt and kustomize write them
    import io

    out = io.StringIO()
    yaml.dump(value, out)
    return out.getvalue()


def airflow_items():
    """The objects of the bundled Helm 3 render, as kpt hands them over (path/index annotations)."""
    items = [d for d in YAML(typ="safe").load_all(EXAMPLE.read_text()) if d]
    for index, item in enumerate(items):
        annotations = item.setdefault("metadata", {}).get("annotations") or {}
        annotations.update({
            "config.kubernetes.io/index": str(index),
            "config.kubernetes.io/path": "airflow.yaml",
            "internal.config.kubernetes.io/index": str(index),
            "internal.config.kubernetes.io/path": "airflow.yaml",
            "internal.config.kubernetes.io/id": str(index + 1),
        })
        item["metadata"]["annotations"] = annotations
    return items


def resource_list(items, function_config=SPEC, api_version="config.kubernetes.io/v1"):
    rl = {"apiVersion": api_version, "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return rl


def kpt_style(stream_text, function_config_text):
    """A ResourceList written the way kpt writes one: each document's own text (comments and all)
    indented under `items:`; `kind` first."""
    items = []
    for doc in re.split(r"(?m)^---[ \t]*\n", stream_text):
        body = [line for line in doc.split("\n")]
        if not any(line.strip() and not line.lstrip().startswith("#") for line in body):
            continue  # comment-only documents are no items
        while body and not body[-1].strip():
            body.pop()
        items.append("\n".join(["- " + body[0]] + [("  " + line) if line else line for line in body[1:]]))
    config = "\n".join("  " + line if line else line for line in function_config_text.rstrip("\n").split("\n"))
    return ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "\n".join(items)
            + "\nfunctionConfig:\n" + config + "\n")


def find(items, kind, name):
    found = [i for i in items if i.get("kind") == kind and i["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def identities(items):
    return [(i.get("kind"), i["metadata"]["name"]) for i in items]


def pod(obj):
    return obj["spec"]["template"]["spec"]


def volume(pod_spec, name):
    found = [v for v in pod_spec.get("volumes") or [] if v["name"] == name]
    assert len(found) == 1, pod_spec.get("volumes")
    return found[0]


def mounts_at(container, path):
    return [m["name"] for m in container.get("volumeMounts") or [] if m["mountPath"] == path]


def template_of(items):
    text = find(items, "ConfigMap", "airflow-config")["data"]["pod_template_file.yaml"]
    return text, load(text)


def assert_airflow_injected(items):
    """The logs claim is in the embedded worker pod template and the targeted workloads."""
    text, template = template_of(items)
    assert template["kind"] == "Pod"
    assert volume(template["spec"], "logs") == {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}
    (base,) = template["spec"]["containers"]
    assert mounts_at(base, LOGS) == ["logs"]
    assert volume(template["spec"], "config")["configMap"] == {"name": "airflow-config"}

    scheduler = find(items, "Deployment", "airflow-scheduler")
    assert volume(pod(scheduler), "logs") == {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}
    triggerer = find(items, "StatefulSet", "airflow-triggerer")
    assert volume(pod(triggerer), "logs")["persistentVolumeClaim"] == {"claimName": CLAIM}
    assert not triggerer["spec"].get("volumeClaimTemplates"), "the chart's own logs claim template is gone"
    api = find(items, "Deployment", "airflow-api-server")
    assert mounts_at(pod(api)["containers"][0], LOGS) == ["logs"]
    # the workloads that mount the changed ConfigMap roll on the new template text
    want = hashlib.sha256(text.encode("utf-8")).hexdigest()
    for obj in (scheduler, triggerer, api):
        assert obj["spec"]["template"]["metadata"]["annotations"]["checksum/postrender"] == want


def ok(proc):
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode("utf-8")


# -- the Airflow render as a ResourceList ------------------------------------------------------
def test_airflow_resource_list_v1():
    items = airflow_items()
    text = "# a ResourceList as an orchestrator hands it over\n" + dump(resource_list(items))
    out_text = ok(postrender(text))
    out = load(out_text)

    assert out["apiVersion"] == "config.kubernetes.io/v1" and out["kind"] == "ResourceList"
    assert identities(out["items"]) == identities(items), "every item comes back, in order"
    assert_airflow_injected(out["items"])
    assert out["functionConfig"] == SPEC
    assert out_text.startswith("# a ResourceList as an orchestrator hands it over\n")
    # the orchestrator's annotations stay on every item, changed or not
    for before, after in zip(items, out["items"]):
        want = {k: v for k, v in before["metadata"]["annotations"].items() if "config.kubernetes.io/" in k}
        got = after["metadata"].get("annotations") or {}
        assert {k: got.get(k) for k in want} == want, after["metadata"]["name"]
    # untouched items are unchanged
    changed = {("ConfigMap", "airflow-config"), ("Deployment", "airflow-scheduler"),
               ("Deployment", "airflow-dag-processor"), ("Deployment", "airflow-api-server"),
               ("StatefulSet", "airflow-triggerer")}
    for before, after in zip(items, out["items"]):
        if (before["kind"], before["metadata"]["name"]) not in changed:
            assert after == before, before["metadata"]["name"]

    results = out["results"]
    assert results, "results report what changed"
    assert {r["severity"] for r in results} <= {"info", "warning"}
    for result in results:
        assert result["message"]
    by_ref = {}
    for result in results:
        ref = result.get("resourceRef")
        assert ref is not None, result  # every change and warning here concerns one item
        by_ref.setdefault((ref["kind"], ref["name"]), []).append(result)
    configmap = by_ref[("ConfigMap", "airflow-config")]
    assert any("logs" in r["message"] and r["tags"].get("key") == "pod_template_file.yaml" for r in configmap)
    assert configmap[0]["resourceRef"]["apiVersion"] == "v1"
    assert configmap[0]["file"] == {"path": "airflow.yaml", "index": 11}
    triggerer = by_ref[("StatefulSet", "airflow-triggerer")]
    assert any(r["severity"] == "warning" and "immutable" in r["message"] for r in triggerer)
    assert any(r["severity"] == "info" and r["tags"]["action"] == "removed-claim-template" for r in triggerer)
    assert any(r["tags"].get("action") == "added-mount" and r["tags"].get("container") == "api-server"
               for r in by_ref[("Deployment", "airflow-api-server")])


def test_airflow_resource_list_v1beta1_with_spec_under_spec():
    config = {"apiVersion": "postrender/v1", "kind": "VolumeInjection", "metadata": {"name": "x"},
              "spec": {"volumes": SPEC["volumes"]}}
    items = airflow_items()
    out = load(ok(postrender(dump(resource_list(items, config, "config.kubernetes.io/v1beta1")))))
    assert out["apiVersion"] == "config.kubernetes.io/v1beta1"
    assert identities(out["items"]) == identities(items)
    assert_airflow_injected(out["items"])
    assert any(r.get("resourceRef", {}).get("kind") == "ConfigMap" for r in out["results"])


def test_kpt_style_text_keeps_comments_and_block_style():
    """kpt passes each document's own text: `# Source:` comments, quoting and the `|-` pod template stay."""
    stream = EXAMPLE.read_text()
    spec_text = (FIXTURES / "airflow-volumes.yaml").read_text()
    text = kpt_style(stream, spec_text)
    out_text = ok(postrender(text))
    out = load(out_text)
    assert_airflow_injected(out["items"])
    sources = re.findall(r"(?m)^- # Source: .*$", text)
    assert sources and all(line in out_text for line in sources)
    assert "  # A postrender spec file that also serves as a KRM functionConfig" in out_text
    assert re.search(r"(?m)^    pod_template_file\.yaml: \|-$", out_text), "the template keeps its |- block"
    # an item that is not touched is there byte for byte
    service = text[text.index("- # Source: airflow/templates/api-server/api-server-service.yaml"):]
    service = service[: service.index("\n- ")]
    assert service in out_text
    # and the edit is local: a few dozen lines, not a rewrite
    import difflib

    changed = [line for line in difflib.unified_diff(text.split("\n"), out_text.split("\n"), n=0)
               if line.startswith("-") and not line.startswith("---")]
    assert 0 < len(changed) < 40, changed


def test_kind_after_items_is_detected():
    """`kind: ResourceList` after a long `items:` (the whole Airflow render), `apiVersion` last."""
    items = airflow_items()
    body = dump({"items": items, "functionConfig": SPEC})
    text = body + "kind: ResourceList\napiVersion: config.kubernetes.io/v1\n"
    assert text.index("kind: ResourceList") > len(text) // 2
    out_text = ok(postrender(text))
    out = load(out_text)
    assert identities(out["items"]) == identities(items)
    assert_airflow_injected(out["items"])
    assert out["results"]
    assert out_text.index("kind: ResourceList") > out_text.index("functionConfig:"), "key order is kept"


def test_kind_last_fixture_is_edited_in_place():
    text = (FIXTURES / "kind-last.yaml").read_text()
    out_text = ok(postrender(text))
    out = load(out_text)
    template = load(out["items"][0]["data"]["pod_template_file.yaml"])
    assert volume(template["spec"], "logs") == {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}
    assert volume(pod(out["items"][1]), "logs") == {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}
    for comment in ("# the worker pod template, as the official chart embeds it",
                    "name: placeholder-name   # replaced by the executor",
                    "kind: ResourceList   # last, after the items"):
        assert comment in out_text
    assert out["results"][0]["file"] == {"path": "airflow/configmap.yaml", "index": 0}
    # running the output through again changes no item and reports no change
    again = load(ok(postrender(out_text)))
    assert again["items"] == out["items"]
    assert not [r for r in again["results"] if r["severity"] == "info"]


# -- failures ------------------------------------------------------------------------------------
def test_bad_volume_name_is_an_error_result():
    config = copy.deepcopy(SPEC)
    config["volumes"][0]["name"] = "Bad_Name"
    proc = postrender(dump(resource_list(airflow_items(), config)))
    _, result = failed(proc, code=2)
    assert "Bad_Name" in result["message"] and "functionConfig" in result["message"]
    assert b"kind: Deployment" not in proc.stdout


def test_conflict_in_an_item_names_the_item():
    config = copy.deepcopy(SPEC)
    del config["volumes"][0]["replace"]  # the chart's logs emptyDir is in the way
    _, result = failed(postrender(dump(resource_list(airflow_items(), config))), code=1)
    assert result["resourceRef"] == {"apiVersion": "v1", "kind": "ConfigMap", "name": "airflow-config"}
    assert result["file"] == {"path": "airflow.yaml", "index": 11}
    assert "replace: true" in result["message"]


def test_configmap_function_config_is_a_clear_error():
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
              "data": {"claimName": CLAIM}}
    _, result = failed(postrender(dump(resource_list(airflow_items(), config))), code=2)
    assert "ConfigMap" in result["message"] and "volumes" in result["message"]
    assert "--fn-config" in result["message"]


def test_empty_configmap_is_no_function_config():
    """`kpt fn eval --exec 'postrender --logs-claim X'` sends an empty ConfigMap: the command line decides."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}, "data": {}}
    out = load(ok(postrender(dump(resource_list(airflow_items(), config)), "--logs-claim", CLAIM)))
    _, template = template_of(out["items"])
    assert volume(template["spec"], "logs")["persistentVolumeClaim"] == {"claimName": CLAIM}
    failed(postrender(dump(resource_list(airflow_items(), config))), code=2)  # and nothing at all: an error


def test_no_function_config_and_no_options_is_an_error():
    _, result = failed(postrender(dump(resource_list(airflow_items(), None))), code=2)
    assert "nothing to do" in result["message"]


def test_volumes_and_spec_together_are_an_error():
    config = dict(SPEC, spec={"volumes": SPEC["volumes"]})
    _, result = failed(postrender(dump(resource_list(airflow_items(), config))), code=2)
    assert "both" in result["message"]


def test_unsupported_api_version_and_bad_yaml():
    _, result = failed(postrender(dump(resource_list([], SPEC, "config.kubernetes.io/v1alpha1"))), code=1)
    assert "v1alpha1" in result["message"]
    _, result = failed(postrender("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n"), code=1)
    assert "invalid YAML" in result["message"] and "line 4" in result["message"]
    _, result = failed(postrender("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {a: 1}\n"), code=1)
    assert "`items` must be a list" in result["message"]


def test_layered_with_command_line_and_create():
    """-c on the command line layers over the functionConfig; `create:` adds the claim as an item."""
    config = {"apiVersion": "postrender/v1", "kind": "VolumeInjection", "volumes": [
        {"name": "logs", "claimName": "from-function-config", "mountPath": LOGS, "replace": True}]}
    proc = postrender(dump(resource_list(airflow_items(), config)), "--volume", "data=airflow-data:/opt/airflow/data")
    out = load(ok(proc))
    _, template = template_of(out["items"])
    assert volume(template["spec"], "logs")["persistentVolumeClaim"] == {"claimName": "from-function-config"}
    assert volume(template["spec"], "data")["persistentVolumeClaim"] == {"claimName": "airflow-data"}

    config["volumes"][0]["create"] = {"storage": "50Gi", "storageClassName": "nfs"}
    items = airflow_items()
    out = load(ok(postrender(dump(resource_list(items, config)))))
    assert len(out["items"]) == len(items) + 1
    claim = out["items"][-1]
    assert claim["kind"] == "PersistentVolumeClaim" and claim["metadata"]["name"] == "from-function-config"
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    created = [r for r in out["results"] if r.get("tags", {}).get("action") == "created"]
    assert created and created[0]["resourceRef"]["kind"] == "PersistentVolumeClaim"


# -- detection and the in-process API --------------------------------------------------------------
def chunk(text):
    return Chunk(1, 0, text.encode("utf-8"))


def test_detection_reads_the_resource_list_once():
    found = is_resource_list(chunk((FIXTURES / "kind-last.yaml").read_text()))
    assert found is not None and found.data["kind"] == "ResourceList" and found.root is not None
    assert is_resource_list(chunk(dump(resource_list([], None, "config.kubernetes.io/v1beta1"))))
    assert not is_resource_list(chunk("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
                                      "data: {note: 'kind: ResourceList'}\n"))
    assert not is_resource_list(chunk("apiVersion: v1\nkind: List\nitems: []\n"))
    first = EXAMPLE.read_text().split("\n---\n")[1]
    assert not is_resource_list(chunk(first))


def test_run_krm_raises_krm_failure_with_the_error_list():
    config = copy.deepcopy(SPEC)
    config["volumes"][0]["mountPath"] = "relative/path"
    with pytest.raises(KrmFailure) as info:
        run_krm(is_resource_list(chunk(dump(resource_list(airflow_items(), config)))), Spec())
    out = load(info.value.output.decode())
    assert out["results"][0]["severity"] == "error" and "mountPath" in out["results"][0]["message"]
    assert info.value.error.exit_code == 2


def test_a_resource_list_must_be_alone():
    proc = postrender(dump(resource_list([], SPEC)) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert proc.returncode == 1 and b"only document" in proc.stderr


# -- layouts ---------------------------------------------------------------------------------------
def test_json_resource_list():
    """JSON is YAML: a JSON ResourceList gets a (block style) ResourceList back."""
    import json

    out = load(ok(postrender(json.dumps(resource_list(airflow_items())))))
    assert identities(out["items"]) == identities(airflow_items())
    assert_airflow_injected(out["items"])


def test_crlf_resource_list():
    text = (FIXTURES / "kind-last.yaml").read_text().replace("\n", "\r\n")
    raw = postrender(text).stdout
    assert raw.count(b"\r\n") == raw.count(b"\n"), "every line keeps its CRLF"
    out = load(raw.decode())
    template = load(out["items"][0]["data"]["pod_template_file.yaml"])
    assert volume(template["spec"], "logs")["persistentVolumeClaim"] == {"claimName": CLAIM}


def test_results_are_replaced_and_refs_carry_namespaces():
    """An earlier function's `results` are replaced; two same-named workloads in two namespaces
    get their own resourceRef; a flow-style item that cannot be spliced is rewritten alone."""
    text = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
# a comment before the first item
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: worker, namespace: team-a, labels: {component: worker}}
  spec:
    template:
      spec:
        containers:
        - name: worker   # the Celery worker
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: worker, namespace: team-b, labels: {component: worker}},
   spec: {template: {spec: {containers: [{name: worker}]}}}}
functionConfig:
  volumes:
  - {name: data, claimName: data-pvc, mountPath: /data}
results:
- message: from an earlier function
  severity: info
"""
    out_text = ok(postrender(text))
    out = load(out_text)
    for item in out["items"]:
        assert volume(pod(item), "data")["persistentVolumeClaim"] == {"claimName": "data-pvc"}
    assert "# a comment before the first item" in out_text and "# the Celery worker" in out_text
    assert "from an earlier function" not in out_text
    namespaces = {r["resourceRef"].get("namespace") for r in out["results"] if r["severity"] == "info"}
    assert namespaces == {"team-a", "team-b"}


@pytest.mark.parametrize("flag", [["--diff"], ["--report", "-"]])
def test_diff_and_report_are_not_silently_ignored_on_a_resource_list(flag):
    _, result = failed(postrender(dump(resource_list(airflow_items())), *flag), code=2)
    assert f"{flag[0]} does not go with a ResourceList" in result["message"]


def test_a_conflict_in_an_item_names_the_line_of_what_it_conflicts_with():
    items = "\n".join([
        "apiVersion: config.kubernetes.io/v1",
        "kind: ResourceList",
        "items:",
        "- apiVersion: apps/v1",
        "  kind: Deployment",
        "  metadata: {name: s, labels: {component: scheduler}}",
        "  spec:",
        "    template:",
        "      spec:",
        "        containers: [{name: scheduler, image: x}]",
        "        volumes:",
        "        - name: logs",  # line 12
        "          emptyDir: {}",
        "functionConfig:",
        "  volumes: [{name: logs, claimName: c, mountPath: /logs, targets: [scheduler]}]",
    ]) + "\n"
    _, result = failed(postrender(items), code=1)
    assert result["message"].startswith("document 1, line 12, Deployment/s: volume 'logs' already exists")
