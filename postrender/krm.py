"""KRM function mode: a `ResourceList` in, a `ResourceList` out (kustomize, kpt).

The spec is the functionConfig (its `volumes`, at the top level or under
`spec`; a postrender spec file works as is); the items are edited by the same
Editor as a manifest stream, ConfigMaps first so that workloads can roll; the
ResourceList text is spliced like any document, so comments and the
`config.kubernetes.io/*` annotations stay. Every change and warning becomes a
result; a failure is a ResourceList whose result has severity error.
"""
import copy
from typing import Any, Dict, List, Optional

from ruamel.yaml.nodes import MappingNode, Node

from .create import claim_manifest
from .errors import PostrenderError, Where
from .pipeline import Editor
from .read import Chunk
from .report import Result
from .select import POD_SPEC_PATHS, dig, object_identity
from .spec import Spec, _Checker, layer, volumes_from_node
from .splice import CannotSplice, patch_text
from .yamlio import compose, dump_block, to_data

API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")


def is_resource_list(chunk: Chunk) -> bool:
    if b"ResourceList" not in chunk.raw:
        return False
    try:
        data = to_data(compose(chunk.text(), chunk.where, chunk.first_line))
    except PostrenderError:
        return False
    return isinstance(data, dict) and data.get("kind") == "ResourceList" and data.get("apiVersion") in API_VERSIONS


def _child(node: Optional[Node], key: str) -> Optional[Node]:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                return value_node
    return None


def _ref(item: Any) -> Dict[str, str]:
    kind, name, namespace = object_identity(item)
    ref = {"apiVersion": str(item.get("apiVersion", "")) if isinstance(item, dict) else "", "kind": kind or "",
           "name": name}
    if namespace:
        ref["namespace"] = namespace
    return ref


def _results(result: Result, items: List[Any]) -> List[Dict[str, Any]]:
    by_label = {f"{object_identity(i)[0]}/{object_identity(i)[1]}": i for i in items if isinstance(i, dict)}
    results = []
    for record in result.records:
        message = f"{record.action} volume {record.volume}" if record.volume else record.action
        if record.container:
            message += f" in container {record.container}"
        if record.key:
            message += f" (key {record.key})"
        if record.detail:
            message += f": {record.detail}"
        entry: Dict[str, Any] = {"message": message, "severity": "info"}
        if record.object in by_label:
            entry["resourceRef"] = _ref(by_label[record.object])
        results.append(entry)
    results += [{"message": w, "severity": "warning"} for w in result.warnings]
    return results


def run_krm(chunk: Chunk, cli_spec: Spec) -> bytes:
    """The output ResourceList (as bytes) for one input ResourceList; raises only for our own bugs."""
    text = chunk.text()
    root = compose(text, chunk.where, chunk.first_line)
    data = to_data(root, chunk.where, chunk.first_line)
    items = data.get("items") or []
    try:
        spec = _spec(root, cli_spec)
        editor = Editor(spec)
        new_items = _edit(editor, items, _child(root, "items"), chunk)
        editor.finish()
        results = _results(editor.result, new_items)
        new = copy.deepcopy(data)
        new["items"] = new_items
        new["results"] = results
        try:
            return patch_text(text, root, new).encode("utf-8")
        except CannotSplice:
            return ("\n".join(dump_block(new, indent_sequences=False)) + "\n").encode("utf-8")
    except PostrenderError as exc:
        failed = copy.deepcopy(data)
        failed["results"] = [{"message": str(exc), "severity": "error"}]
        raise KrmFailure(("\n".join(dump_block(failed, indent_sequences=False)) + "\n").encode("utf-8"), exc)


class KrmFailure(Exception):
    """A ResourceList that reports an error; the CLI writes it and exits non-zero."""

    def __init__(self, output: bytes, error: PostrenderError):
        super().__init__(str(error))
        self.output = output
        self.error = error


def _spec(root: Node, cli_spec: Spec) -> Spec:
    config = _child(root, "functionConfig")
    volumes = []
    if config is not None and to_data(config) is not None:
        volumes = volumes_from_node(config, _Checker("functionConfig"))
    return Spec(volumes=layer([volumes, cli_spec.volumes]), logs_claim=cli_spec.logs_claim)


def _edit(editor: Editor, items: Any, items_node: Optional[Node], chunk: Chunk) -> List[Any]:
    if not isinstance(items, list):
        return items
    nodes = list(getattr(items_node, "value", None) or [])
    new_items = list(items)
    order = sorted(range(len(items)), key=lambda i: 0 if object_identity(items[i])[0] == "ConfigMap" else 1)
    for index in order:  # ConfigMaps first: workloads roll on their template hashes
        item = items[index]
        kind, name, _ = object_identity(item)
        node = nodes[index] if index < len(nodes) else None
        line = chunk.first_line + (node.start_mark.line if node is not None else 0)
        where = Where(document=chunk.index, line=line + 1, obj=f"{kind}/{name}")
        if kind == "ConfigMap":
            new_items[index] = editor.configmap(item, where, node, chunk.first_line) or item
        elif kind in POD_SPEC_PATHS:
            new, site = editor.workload(item, where)
            current = new if new is not None else item
            refs = editor.roll_refs(current, site)
            new_items[index] = editor.rolled(current, site, refs, where, chunk.index) or current
        elif kind == "PersistentVolumeClaim":
            editor.note_claim(item)
    declared = set(editor.declared_modes)
    for volume in editor.spec.volumes:
        if volume.create is not None and volume.claim not in declared:
            declared.add(volume.claim)
            new_items.append(claim_manifest(volume.claim, volume.create, helm4=False))
    return new_items
