"""Property-based tests: random manifest streams and specs against an independent model.

Streams hold Deployments, StatefulSets, Jobs, ConfigMaps with embedded worker pod templates
(Helm 3 `|-` blocks and Helm 4 quoted strings), Services and comment-only documents, written
with random formatting: indented or compact sequences, 2 or 4 space indentation, flow or
block collections, comments, blank lines, quoting, the three spellings of null, key order,
and sometimes CRLF line ends and a BOM.

The reference model below applies the contract's points 1-5 to the parsed input in plain
Python (it does not import postrender.inject or postrender.targets). For every example:

* the tool fails (InputError) exactly when the model says the spec conflicts with the input;
* otherwise the output parses, and its data equals the model's, document by document (an
  embedded template is compared as parsed YAML, the roll annotation by its relation to the
  output's template text);
* documents the model leaves unchanged are byte-identical, a template keeps its string style,
  CRLF stays CRLF;
* a second run changes nothing;
* the stream cut in two, half of it transformed in a forked child, comes out as from one process.
"""
import copy
import fnmatch
import hashlib
import json
import posixpath
import re
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.control import event as _hypothesis_event
from ruamel.yaml import YAML

from conftest import transform
from postrender.errors import InputError

ROLL = "checksum/postrender"
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"
CLAIMS = ["airflow-log-pvc", "data-pvc"]
PATHS = ["/opt/airflow/logs", "/data", "/opt/airflow/config"]
CONFIGMAPS = ["airflow-config", "airflow-pod-template"]
COMPONENTS = ["scheduler", "worker", "triggerer", "web"]

_YAML = YAML(typ="safe", pure=False)


def parse_all(text: str) -> List[Any]:
    return list(_YAML.load_all(text))


def parse_one(text: str) -> Any:
    docs = parse_all(text)
    assert len(docs) <= 1
    return docs[0] if docs else None


# =====================================================================================================
# A YAML writer with random formatting (independent of the tool's own writer)
# =====================================================================================================
_RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ""}
_PLAIN = re.compile(r"^[A-Za-z/_][A-Za-z0-9_./-]*$")


class Style:
    def __init__(self, draw):
        self.draw = draw
        self.width = draw(st.sampled_from([2, 2, 4]))
        self.indent_sequences = draw(st.booleans())
        self.comments = draw(st.booleans())
        self.flow = draw(st.sampled_from([0.0, 0.0, 0.3]))

    def chance(self, p: float) -> bool:
        return p > 0 and self.draw(st.floats(0, 1)) < p


def scalar(value: Any, style: Style, flow: bool = False) -> str:
    if value is None:
        return style.draw(st.sampled_from(["null", "~"]))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain_ok = bool(_PLAIN.match(text)) and text.lower() not in _RESERVED and not (flow and ":" in text)
    choice = style.draw(st.sampled_from(["plain", "plain", "single", "double"])) if plain_ok else \
        style.draw(st.sampled_from(["single", "double"]))
    if choice == "plain":
        return text
    if choice == "single" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text)


def key_text(key: str, style: Style) -> str:
    if _PLAIN.match(key) and key.lower() not in _RESERVED and style.chance(0.85):
        return key
    return json.dumps(key) if style.chance(0.5) else "'" + key + "'"


def flow(value: Any, style: Style) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key_text(k, style)}: {flow(v, style)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, style) for v in value) + "]"
    return scalar(value, style, flow=True)


def comment(style: Style, pad: str) -> List[str]:
    if style.comments and style.chance(0.15):
        return [pad + style.draw(st.sampled_from(["# a comment", "#: not a key", "# - not an item", ""]))]
    return []


def emit_mapping(mapping: Dict[str, Any], indent: int, style: Style, first_comment: bool = True) -> List[str]:
    pad = " " * indent
    lines: List[str] = []
    for index, (key, value) in enumerate(mapping.items()):
        if index or first_comment:
            lines += comment(style, pad)
        head = f"{pad}{key_text(key, style)}:"
        if value is None:
            lines.append(head + style.draw(st.sampled_from([" null", " ~", ""])))
        elif isinstance(value, (dict, list)) and (not value or style.chance(style.flow)):
            lines.append(f"{head} {flow(value, style)}")
        elif isinstance(value, dict):
            lines.append(head)
            lines += emit_mapping(value, indent + style.width, style)
        elif isinstance(value, list):
            lines.append(head)
            lines += emit_sequence(value, indent + (style.width if style.indent_sequences else 0), style)
        else:
            placeholder = str(value).startswith("__template_")  # a block scalar's header comes there
            trailing = "  # note" if style.comments and not placeholder and style.chance(0.1) else ""
            lines.append(f"{head} {scalar(value, style)}{trailing}")
    return lines


def emit_sequence(items: List[Any], indent: int, style: Style) -> List[str]:
    pad = " " * indent
    lines: List[str] = []
    for item in items:
        lines += comment(style, pad)
        if isinstance(item, dict) and item and not style.chance(style.flow):
            body = emit_mapping(item, indent + 2, style, first_comment=False)
            lines.append(pad + "- " + body[0].lstrip(" "))
            lines += body[1:]
        elif isinstance(item, list) and item and not style.chance(style.flow):
            lines.append(pad + "-")
            lines += emit_sequence(item, indent + 2, style)
        elif isinstance(item, (dict, list)):
            lines.append(pad + "- " + flow(item, style))
        else:
            lines.append(pad + "- " + scalar(item, style))
    return lines


def emit(mapping: Dict[str, Any], style: Style) -> str:
    return "\n".join(emit_mapping(mapping, 0, style)) + "\n"


# =====================================================================================================
# Random objects
# =====================================================================================================
def shuffled(draw, mapping: Dict[str, Any], first: Optional[str] = None) -> Dict[str, Any]:
    keys = list(mapping)
    order = draw(st.permutations(keys))
    if first in mapping and draw(st.booleans()):
        order = [first] + [k for k in order if k != first]
    return {k: mapping[k] for k in order}


def empty_list(draw) -> Any:
    """Absent (a marker), null or []."""
    return draw(st.sampled_from(["<absent>", None, []]))


def put(mapping: Dict[str, Any], key: str, value: Any) -> None:
    if value != "<absent>":
        mapping[key] = value


@st.composite
def mounts(draw, volume_names: List[str]) -> List[Dict[str, Any]]:
    result = []
    for _ in range(draw(st.integers(0, 3))):
        mount: Dict[str, Any] = {
            "name": draw(st.sampled_from(volume_names + ["logs", "data"])),
            "mountPath": draw(st.sampled_from(PATHS + ["/opt/airflow/logs/", "/tmp", "/opt/airflow/dags"])),
        }
        if draw(st.booleans()):
            mount["readOnly"] = draw(st.booleans())
        if draw(st.integers(0, 3)) == 0:
            mount["subPath"] = draw(st.sampled_from(["", "logs", "airflow.cfg"]))
        result.append(shuffled(draw, mount, "name"))
    return result


@st.composite
def containers(draw, names: List[str], volume_names: List[str], count: Tuple[int, int]) -> List[Dict[str, Any]]:
    chosen = draw(st.lists(st.sampled_from(names), min_size=count[0], max_size=count[1], unique=True))
    result = []
    for name in chosen:
        container: Dict[str, Any] = {"name": name, "image": "apache/airflow:3.1.7"}
        put(container, "volumeMounts", draw(st.one_of(st.just("<absent>"), st.none(), mounts(volume_names))))
        if draw(st.integers(0, 4)) == 0:
            container["args"] = ["run", "--flag"]
        result.append(shuffled(draw, container, "name"))
    return result


@st.composite
def pod_specs(draw, configmap: Optional[str] = None) -> Dict[str, Any]:
    names = draw(st.lists(st.sampled_from(["logs", "data", "config", "tmp"]), max_size=4, unique=True))
    volumes = []
    for name in names:
        kind = draw(st.sampled_from(["emptyDir", "configMap", "pvc", "pvc", "hostPath"]))
        if kind == "emptyDir":
            volume = {"name": name, "emptyDir": draw(st.sampled_from([{}, None, {"sizeLimit": "1Gi"}]))}
        elif kind == "configMap":
            volume = {"name": name, "configMap": {"name": configmap or draw(st.sampled_from(CONFIGMAPS))}}
        elif kind == "pvc":
            claim: Dict[str, Any] = {"claimName": draw(st.sampled_from(CLAIMS))}
            if draw(st.booleans()):
                claim["readOnly"] = draw(st.booleans())
            volume = {"name": name, "persistentVolumeClaim": claim}
        else:
            volume = {"name": name, "hostPath": {"path": "/var/log"}}
        volumes.append(shuffled(draw, volume, "name"))
    pod: Dict[str, Any] = {}
    count = draw(st.sampled_from([(1, 3), (1, 3), (1, 3), (0, 0)]))
    regular = draw(containers(["base", "scheduler", "worker", "sidecar"], names, count))
    put(pod, "containers", regular if regular else draw(st.sampled_from(["<absent>", None, []])))
    if draw(st.booleans()):
        put(pod, "initContainers", draw(st.one_of(st.just(None), containers(["init-db", "wait-migrations"], names,
                                                                            (1, 2)))))
    put(pod, "volumes", volumes if volumes else empty_list(draw))
    if draw(st.booleans()):
        pod["restartPolicy"] = "Never"
    return shuffled(draw, pod)


def labels(draw) -> Dict[str, Any]:
    result: Dict[str, Any] = {}
    component = draw(st.sampled_from(COMPONENTS + [None]))
    if component:
        result[draw(st.sampled_from(["component", "app.kubernetes.io/component"]))] = component
    if draw(st.booleans()):
        result["tier"] = "airflow"
    return result


@st.composite
def workloads(draw, index: int, helm4: bool) -> Dict[str, Any]:
    kind = draw(st.sampled_from(["Deployment", "Deployment", "StatefulSet", "Job"]))
    metadata: Dict[str, Any] = {"name": f"airflow-{kind.lower()}-{index}"}
    top_labels = labels(draw)
    if top_labels:
        metadata["labels"] = top_labels
    if helm4:
        metadata["annotations"] = {HELM4_FILENAME: f"airflow/templates/{kind.lower()}-{index}.yaml"}
    template: Dict[str, Any] = {}
    pod_meta_labels = labels(draw) if draw(st.booleans()) else {}
    if pod_meta_labels:
        template["metadata"] = {"labels": pod_meta_labels}
    elif draw(st.integers(0, 3)) == 0:
        template["metadata"] = {"annotations": {"checksum/airflow-config": "abc"}}
    template["spec"] = draw(pod_specs())
    spec: Dict[str, Any] = {"template": shuffled(draw, template)}
    if kind != "Job":
        spec["replicas"] = 1
    if kind == "StatefulSet" and draw(st.booleans()):
        spec["volumeClaimTemplates"] = [
            {"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}}
            for name in draw(st.lists(st.sampled_from(["logs", "data"]), min_size=1, max_size=2, unique=True))]
    return {"apiVersion": "batch/v1" if kind == "Job" else "apps/v1", "kind": kind, "metadata": metadata,
            "spec": shuffled(draw, spec)}


@st.composite
def configmaps(draw, name: str, helm4: bool) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """(the ConfigMap with placeholders for its templates, {placeholder: how the value is written})."""
    metadata: Dict[str, Any] = {"name": name}
    if draw(st.booleans()):
        metadata["labels"] = {"tier": "airflow"}
    if helm4:
        metadata["annotations"] = {HELM4_FILENAME: "airflow/templates/configmaps/configmap.yaml"}
    data: Dict[str, Any] = {"airflow.cfg": "[core]\nexecutor = KubernetesExecutor"}
    written: Dict[str, str] = {}
    for key in draw(st.lists(st.sampled_from(["pod_template_file.yaml", "pod_template.yaml"]), min_size=1,
                             max_size=2, unique=True)):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "placeholder-name"},
               "spec": draw(pod_specs(configmap=name))}
        style = Style(draw)
        text = emit(pod, style)
        if draw(st.booleans()):
            text = "\n---\n" + text  # the official chart's template starts so
        if draw(st.booleans()):
            text = text.replace("kind: Pod\n", "kind: Pod   \n")  # trailing spaces, as in the chart
        text = text.rstrip("\n")
        placeholder = f"__template_{len(written)}__"
        # Helm 4: a quoted string; Helm 3: a `|-` block, indented below its key (see `streams`)
        written[placeholder] = json.dumps(text) if helm4 else "|-\n" + "\n".join(
            ("{pad}" + line) if line else "" for line in text.split("\n"))
        data[key] = placeholder
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": shuffled(draw, data)}, written


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "airflow-web"},
           "spec": {"ports": [{"name": "http", "port": 8080}], "selector": {"component": "web"}}}


@st.composite
def streams(draw) -> Tuple[bytes, List[str]]:
    """(the stream's bytes, the text of each document as the tool will split them)."""
    helm4 = draw(st.booleans())
    objects: List[Tuple[Dict[str, Any], Dict[str, str]]] = []
    for index, name in enumerate(draw(st.lists(st.sampled_from(CONFIGMAPS), max_size=2, unique=True))):
        objects.append(draw(configmaps(name, helm4)))
    for index in range(draw(st.integers(1, 3))):
        objects.append((draw(workloads(index, helm4)), {}))
    objects.append((copy.deepcopy(SERVICE), {}))
    order = draw(st.permutations(range(len(objects))))
    documents: List[str] = []
    for position, index in enumerate(order):
        obj, written = objects[index]
        style = Style(draw)
        if written:
            style.flow = 0.0  # a block scalar cannot stand in a flow mapping
        text = emit(obj, style)
        for placeholder, value in written.items():
            def embed(match, value=value):
                pad = " " * (len(match.group(1)) + 2)  # the key's column, plus two
                return match.group(0)[: match.start(2) - match.start(0)] + value.replace("{pad}", pad)
            text = re.sub(r"(?m)^( *)\S.*?(['\"]?" + placeholder + r"['\"]?)$", embed, text)
            assert placeholder not in text
        if helm4:
            documents.append(text if position == 0 and draw(st.booleans()) else "---\n" + text)
        else:
            documents.append(f"---\n# Source: airflow/templates/doc-{position}.yaml\n" + text)
        if not helm4 and draw(st.integers(0, 3)) == 0:
            documents.append("---\n# Source: airflow/templates/disabled.yaml\n# (comment-only)\n")
    text = "".join(documents)
    crlf = draw(st.integers(0, 4)) == 0
    bom = draw(st.integers(0, 6)) == 0
    if crlf:
        text = text.replace("\n", "\r\n")
        documents = [d.replace("\n", "\r\n") for d in documents]
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    return data, documents


@st.composite
def specs(draw) -> str:
    volumes = []
    names = draw(st.lists(st.sampled_from(["logs", "logs", "data", "config"]), min_size=1, max_size=2, unique=True))
    # one mountPath per volume: two volumes at one path in one container contradict each other
    # (see test_two_volumes_at_one_path_in_one_container)
    paths = draw(st.permutations(PATHS))
    for name, path in zip(names, paths):
        volume: Dict[str, Any] = {"name": name, "claimName": draw(st.sampled_from(CLAIMS)), "mountPath": path}
        if draw(st.booleans()):
            volume["readOnly"] = draw(st.booleans())
        if draw(st.integers(0, 3)) == 0:
            volume["subPath"] = draw(st.sampled_from(["logs", "a/b"]))
        volume["replace"] = draw(st.sampled_from([True, True, False]))
        targets = draw(st.lists(st.sampled_from([
            "pod-template", "scheduler", "worker", "triggerer", {"kind": "StatefulSet"},
            {"kind": "ConfigMap", "name": "airflow-pod-*"}, {"kind": "Deployment", "labels": {"tier": "airflow"}},
            {"kind": "Job"}]), min_size=1, max_size=3, unique_by=lambda t: json.dumps(t, sort_keys=True)))
        if draw(st.integers(0, 3)):
            volume["targets"] = targets
        if draw(st.booleans()):
            volume["containers"] = draw(st.sampled_from([["*"], ["base"], ["scheduler", "init-*"], ["*", "wait-*"]]))
        volumes.append(volume)
    return json.dumps({"volumes": volumes})


# =====================================================================================================
# The reference model: the contract, on plain data
# =====================================================================================================
class Conflict(Exception):
    pass


POD_PATHS = {"Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
             "DaemonSet": ("spec", "template", "spec"), "ReplicaSet": ("spec", "template", "spec"),
             "Job": ("spec", "template", "spec"), "Pod": ("spec",),
             "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}


def get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def component_of(labels: Any) -> List[str]:
    if not isinstance(labels, dict):
        return []
    return [labels[k] for k in ("component", "app.kubernetes.io/component") if k in labels]


def targets_template(volume: Dict[str, Any], configmap: Dict[str, Any]) -> bool:
    for target in volume.get("targets", ["pod-template", "worker"]):
        if target == "pod-template":
            return True
        if isinstance(target, dict) and target.get("kind") == "ConfigMap":
            name = get(configmap, "metadata", "name")
            if "name" in target and not fnmatch.fnmatchcase(name, target["name"]):
                continue
            if all(get(configmap, "metadata", "labels", k) == v for k, v in target.get("labels", {}).items()):
                return True
    return False


def targets_workload(volume: Dict[str, Any], obj: Dict[str, Any]) -> bool:
    kind = obj["kind"]
    path = POD_PATHS[kind]
    pod_labels = get(obj, *path[:-1], "metadata", "labels")
    for target in volume.get("targets", ["pod-template", "worker"]):
        if target == "pod-template":
            continue
        if isinstance(target, str):
            if target in component_of(get(obj, "metadata", "labels")) + component_of(pod_labels):
                return True
            continue
        if target.get("kind") in (None, kind) and target.get("kind") != "ConfigMap":
            name = get(obj, "metadata", "name")
            if "name" in target and not fnmatch.fnmatchcase(name, target["name"]):
                continue
            if all(get(obj, "metadata", "labels", k) == v for k, v in target.get("labels", {}).items()):
                return True
    return False


def selects(volume: Dict[str, Any], name: str, init: bool) -> bool:
    patterns = volume.get("containers", ["*"])
    if init:
        patterns = [p for p in patterns if p != "*"]
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def wanted_volume(volume: Dict[str, Any]) -> Dict[str, Any]:
    claim = {"claimName": volume["claimName"]}
    if volume.get("readOnly"):
        claim["readOnly"] = True
    return {"name": volume["name"], "persistentVolumeClaim": claim}


def inject(pod: Dict[str, Any], volume: Dict[str, Any], claim_templates: Optional[list],
           template: bool = False) -> Optional[list]:
    """Points 1, 2, 3 and 5 on one pod spec, in place; returns the new claim templates."""
    if not pod.get("containers") and not template:
        raise Conflict("no containers")
    name, replace = volume["name"], volume.get("replace", False)
    # 1. exactly one volume NAME on the claim
    volumes = pod.get("volumes") or []
    same = [i for i, v in enumerate(volumes) if v.get("name") == name]
    wanted = wanted_volume(volume)
    if not same:
        volumes.append(wanted)
    elif normalize(volumes[same[0]]) != normalize(wanted):
        if not replace:
            raise Conflict(f"volume {name} differs")
        volumes[same[0]] = wanted
    pod["volumes"] = volumes
    # 2. a claim template of that name goes (a replacement)
    if claim_templates and any(get(t, "metadata", "name") == name for t in claim_templates):
        if not replace:
            raise Conflict(f"claim template {name}")
        claim_templates = [t for t in claim_templates if get(t, "metadata", "name") != name]
    # 3. mounts
    path = volume["mountPath"]
    chosen = [c for c in pod.get("containers") or [] if selects(volume, c["name"], False)]
    chosen += [c for c in pod.get("initContainers") or [] if selects(volume, c["name"], True)]
    for container in chosen:
        mounts_ = container.get("volumeMounts") or []
        at_path = [m for m in mounts_ if posixpath.normpath(m["mountPath"]) == path]
        if not at_path:
            mount = {"name": name, "mountPath": path}
            if volume.get("readOnly"):
                mount["readOnly"] = True
            if volume.get("subPath"):
                mount["subPath"] = volume["subPath"]
            mounts_.append(mount)
        for mount in at_path:
            if mount["name"] != name and not replace:
                raise Conflict(f"{mount['name']} mounted at {path}")
            mount["name"] = name
            mount.pop("readOnly", None)
            mount.pop("subPath", None)
            if volume.get("readOnly"):
                mount["readOnly"] = True
            if volume.get("subPath"):
                mount["subPath"] = volume["subPath"]
        container["volumeMounts"] = mounts_
    return claim_templates


def normalize(value: Any) -> Any:
    """Equal as Kubernetes sees it: null, absent and empty alike; readOnly false and subPath "" are defaults."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            item = normalize(item)
            if item is None or item == [] or (key == "readOnly" and item is False) or (key == "subPath" and item == ""):
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def is_template(value: Any) -> bool:
    if not isinstance(value, str) or "kind" not in value:
        return False
    try:
        parsed = parse_one(value)
    except Exception:
        return False
    return isinstance(parsed, dict) and parsed.get("kind") == "Pod"


class Model:
    """What the contract says the output is. `docs` holds the expected data of each document; a
    template is expected as parsed data, with None where the output's text is to be trusted."""

    def __init__(self, inputs: List[Any], volumes: List[Dict[str, Any]]):
        self.inputs = inputs
        self.volumes = volumes
        self.expected: List[Any] = []
        self.changed_templates: Dict[str, List[str]] = {}  # configmap -> keys whose template changed
        for doc in inputs:
            self.expected.append(self.document(copy.deepcopy(doc)))

    def document(self, doc: Any) -> Any:
        if not isinstance(doc, dict):
            return doc
        kind = doc.get("kind")
        if kind == "ConfigMap":
            for key, value in list((doc.get("data") or {}).items()):
                if not is_template(value):
                    continue
                template = parse_one(value)
                new = copy.deepcopy(template)
                targeted = [volume for volume in self.volumes if targets_template(volume, doc)]
                # point 5: a template without containers leaves them to Airflow, whose task container
                # `base` takes the mounts of a stub `base` (when some volume is mounted there)
                if not new["spec"].get("containers") and any(selects(v, "base", False) for v in targeted):
                    new["spec"]["containers"] = [{"name": "base"}]
                for volume in targeted:
                    inject(new["spec"], volume, None, template=True)
                if normalize(new) != normalize(template):
                    self.changed_templates.setdefault(doc["metadata"]["name"], []).append(key)
                    doc["data"][key] = ("template", new)
                else:
                    doc["data"][key] = ("template", template)
        elif kind in POD_PATHS:
            pod = get(doc, *POD_PATHS[kind])
            templates = get(doc, "spec", "volumeClaimTemplates") if kind == "StatefulSet" else None
            for volume in self.volumes:
                if targets_workload(volume, doc):
                    templates = inject(pod, volume, templates)
            if kind == "StatefulSet":
                doc["spec"]["volumeClaimTemplates"] = templates
        return doc

    def roll_refs(self, doc: Any) -> List[str]:
        """ConfigMaps with a changed template that this workload mounts (point 4)."""
        if not isinstance(doc, dict) or doc.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
            return []
        pod = get(doc, *POD_PATHS[doc["kind"]])
        names = {get(v, "configMap", "name") for v in (pod.get("volumes") or [])}
        return sorted(n for n in names if n in self.changed_templates)


# =====================================================================================================
# Running the tool
# =====================================================================================================
def run_tool(data: bytes, spec_text: str, workers: int = 1) -> bytes:
    """The tool's output: one pipeline, or (workers=2) the stream cut in two and half of it forked."""
    return transform(data, spec_text, workers)[0]


def split(text: str) -> List[str]:
    """Documents at lines that start with `---` (column 0)."""
    parts = re.split(r"(?m)^(?=---(?:[ \t\r]|$))", text)
    return [p for p in parts if p]


def template_values(doc: Dict[str, Any]) -> Dict[str, str]:
    return {k: v for k, v in (doc.get("data") or {}).items() if is_template(v)}


def event(name: str) -> None:
    try:
        _hypothesis_event(name)
    except Exception:  # outside a hypothesis test
        pass


def check_example(data: bytes, documents: List[str], spec_text: str) -> None:
    text = data.decode("utf-8-sig")
    inputs = [parse_one(d) for d in documents]
    # the generator's own check: the documents say what they were written to say
    assert len(split(text)) == len(documents)
    volumes = json.loads(spec_text)["volumes"]
    try:
        model: Optional[Model] = Model(inputs, volumes)
    except Conflict:
        model = None
    try:
        out = run_tool(data, spec_text, workers=2)
    except InputError as exc:
        assert model is None, f"the tool failed where the contract says it works: {exc}"
        event("conflict")
        return
    assert model is not None, "the tool succeeded where the contract says it must fail"
    assert run_tool(data, spec_text) == out, "one process writes what two write"

    # the BOM and the line ends survive
    assert out.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    out_text = out.decode("utf-8-sig")
    if "\r\n" in text:
        assert out_text.count("\n") == out_text.count("\r\n"), "a line without CRLF in a CRLF stream"
    out_docs = split(out_text)
    assert len(out_docs) == len(documents)
    outputs = [parse_one(d) for d in out_docs]

    hashes: Dict[str, List[str]] = {}
    for index, (before, expected, after) in enumerate(zip(inputs, model.expected, outputs)):
        if not isinstance(expected, dict) or expected.get("kind") != "ConfigMap":
            continue
        for key, value in expected.get("data", {}).items():
            if isinstance(value, tuple):
                got = after["data"][key]
                assert isinstance(got, str)
                assert normalize(parse_one(got)) == normalize(value[1]), f"template {key} of document {index + 1}"
                if key in model.changed_templates.get(expected["metadata"]["name"], []):
                    hashes.setdefault(expected["metadata"]["name"], []).append(
                        hashlib.sha256(got.encode("utf-8")).hexdigest())
                else:
                    assert got == before["data"][key]
                expected["data"][key] = got  # compared as text below
        # the string style of a changed template is kept
        for key in template_values(before):
            line = next(t for t in out_docs[index].splitlines() if re.match(rf"\s+['\"]?{re.escape(key)}", t))
            original = next(t for t in documents[index].splitlines() if re.match(rf"\s+['\"]?{re.escape(key)}", t))
            assert line.rstrip().endswith("|-") == original.rstrip().endswith("|-"), (line, original)

    for index, (before, expected, after) in enumerate(zip(inputs, model.expected, outputs)):
        refs = model.roll_refs(expected)
        if refs:
            values = sorted(h for ref in refs for h in hashes[ref])
            value = values[0] if len(values) == 1 else hashlib.sha256("\n".join(values).encode()).hexdigest()
            meta = expected["spec"]["template"].setdefault("metadata", None) or {}
            expected["spec"]["template"]["metadata"] = meta
            meta.setdefault("annotations", None)
            meta["annotations"] = dict(meta["annotations"] or {}, **{ROLL: value})
        assert normalize(after) == normalize(expected), f"document {index + 1} differs from the model"
        if normalize(expected) == normalize(before):
            assert out_docs[index] == documents[index], f"document {index + 1} is unchanged yet not byte-identical"

    event("changed" if out != data else "unchanged")
    if model.changed_templates:
        event("a template changed")
    # idempotent
    assert run_tool(out, spec_text) == out


SETTINGS = settings(max_examples=200, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(streams(), specs())
def test_streams_against_the_contract_model(stream, spec_text):
    data, documents = stream
    check_example(data, documents, spec_text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(streams())
def test_a_spec_that_matches_nothing_changes_nothing(stream):
    data, _ = stream
    spec = json.dumps({"volumes": [{"name": "unused", "claimName": "c", "mountPath": "/unused",
                                    "targets": [{"kind": "DaemonSet"}]}]})
    assert run_tool(data, spec) == data


# A few fixed examples that once failed, kept as regression tests.
@pytest.mark.parametrize("spec_volumes", [
    [{"name": "logs", "claimName": "airflow-log-pvc", "mountPath": "/opt/airflow/logs", "replace": True}],
])
def test_fixed_example_helm3_and_helm4(spec_volumes):
    template = ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: base\n  volumes:\n  - emptyDir: {}\n"
                "    name: logs")
    for value in ("|-\n" + "\n".join("    " + line for line in template.split("\n")), json.dumps(template)):
        doc = (f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: airflow-config\ndata:\n"
               f"  pod_template_file.yaml: {value}\n")
        check_example(doc.encode(), [doc], json.dumps({"volumes": spec_volumes}))


# Two spec volumes at one path in one container contradict each other: the later re-points the
# earlier's mount, and a second run then finds "another volume at the mount path" (not
# idempotent). inject.py (not this suite's file) does not check it yet: see the report.
TWO_AT_ONE_PATH = json.dumps({"volumes": [
    {"name": "logs", "claimName": "airflow-log-pvc", "mountPath": "/opt/airflow/logs", "targets": ["scheduler"]},
    {"name": "data", "claimName": "data-pvc", "mountPath": "/opt/airflow/logs", "replace": True,
     "targets": ["scheduler"]},
]})
SCHEDULER = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: airflow-scheduler
  labels: {component: scheduler}
spec:
  template:
    spec:
      containers:
        - name: scheduler
          image: apache/airflow:3.1.7
"""


def test_two_volumes_at_one_path_in_one_container():
    with pytest.raises(InputError) as failure:
        run_tool(SCHEDULER, TWO_AT_ONE_PATH)
    assert "/opt/airflow/logs" in str(failure.value) and "scheduler" in str(failure.value)


@pytest.mark.parametrize("empty", ["''", '""', "", "null"])
def test_fixed_example_empty_sub_path_is_rewritten_in_place(empty):
    # once: `subPath: ''` became `subPath: 'logs' ''` (the quoted empty string taken for a null)
    doc = f"""\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: airflow-scheduler
  labels: {{component: scheduler}}
spec:
  template:
    spec:
      containers:
      - name: scheduler
        volumeMounts:
        - name: logs
          mountPath: /opt/airflow/logs
          subPath: {empty}
        args: [run]
"""
    spec = json.dumps({"volumes": [{"name": "logs", "claimName": "airflow-log-pvc", "mountPath": "/opt/airflow/logs",
                                    "subPath": "logs", "replace": True, "targets": ["scheduler"]}]})
    check_example(doc.encode(), [doc], spec)
