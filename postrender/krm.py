"""KRM function mode: a `ResourceList` in, a `ResourceList` out (kustomize, kpt).

Detection: the first document is a mapping whose `kind` is `ResourceList`,
wherever that key stands (kpt and kustomize write it first, a hand-made list
may put it after a long `items:`). `config.kubernetes.io/v1` and `v1beta1` are
served; any other apiVersion gets an error ResourceList that says so.

The spec is the functionConfig: its `volumes`, at the top level or under
`spec` (a postrender spec file, `apiVersion: postrender/v1`,
`kind: VolumeInjection`, works as is), layered under the command line's
`-c`/`--volume`/`--logs-claim`. The empty ConfigMap that `kpt fn eval`
sends when no `--fn-config` is given counts as no functionConfig; a
ConfigMap with data is refused with a message that says what to give instead.

The items are edited by the same Editor as a manifest stream, ConfigMaps
first so that workloads can roll on their new template hashes; the same
end-of-stream checks follow, and an edit of a repeated key draws the same
warning (`edit.repeated_key_warnings`). Each changed item is spliced into the
ResourceList text on its own, so comments (kpt passes each document's
`# Source:` lines), quoting, the `|-` pod template blocks and the
`config.kubernetes.io/*` / `internal.config.kubernetes.io/*` annotations stay,
and an item that cannot be spliced is rewritten alone.
Every change and every warning becomes one result (`info` / `warning`), worded
and tagged by findings.py (a change's action, volume, container and key; a
warning's id), with `resourceRef` (and `file`, where the orchestrator told us
the item's path) for the item it concerns. A failure is a ResourceList with no
items and one `error` result (tagged with the error's id); the CLI writes it
and exits non-zero.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from .checks import end_of_stream, refuse_warnings
from .claims import claim_manifest, created
from .edit import Editor, repeated_key_warnings
from .errors import InputError, PostrenderError, SpecError, StrictError, Where, stream_line
from .findings import Finding, krm_message, krm_tags
from .patch import CannotSplice, DuplicateEdit, LineBuffer, TreePatcher, check_aliases
from .patch.region import patch_item
from .read import MAX_DOCUMENT, Chunk, names_resource_list, too_large
from .spec import Spec, SpecFile, layered_spec, spec_file_from_node
from .targets import object_identity
from .yamlio import aliases_in, compose, dump_block, entry, to_data
from .yamlio.limits import may_alias

API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
KIND = "ResourceList"
_PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
_INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")

@dataclass
class KrmInput:
    """A document meant as a ResourceList, as read: its nodes, its value and the node -> value
    memo, or the error that says why it cannot be read."""

    chunk: Chunk
    root: Optional[Node] = None
    data: Any = None
    memo: Dict[int, Any] = field(default_factory=dict)
    error: Optional[PostrenderError] = None


def is_resource_list(chunk: Chunk) -> Optional[KrmInput]:
    """Is this (the first) document a ResourceList, i.e. should postrender act as a KRM function?
    If so, the ResourceList as read (see `run_krm`); None if not."""
    if b"ResourceList" not in chunk.raw:
        return None
    try:
        text = chunk.text()
        root = compose(text, chunk.where, chunk.first_line)
        memo: Dict[int, Any] = {}
        data = to_data(root, chunk.where, chunk.first_line, memo)
    except PostrenderError as exc:
        # unreadable: a KRM input only if it says so on a top-level line (then run_krm reports why)
        return KrmInput(chunk, error=exc) if names_resource_list(chunk.raw) else None
    return KrmInput(chunk, root, data, memo) if isinstance(data, dict) and data.get("kind") == KIND else None


class KrmFailure(Exception):
    """A ResourceList that reports an error; the CLI writes it and exits non-zero."""

    def __init__(self, output: bytes, error: PostrenderError):
        super().__init__(str(error))
        self.output = output
        self.error = error


def run_krm(given: KrmInput, cli_spec: Spec) -> bytes:
    """The output ResourceList (as bytes) for one input ResourceList (as `is_resource_list` read it).

    Raises KrmFailure (carrying the error ResourceList) when the input cannot be
    transformed; any other exception is a bug of ours.
    """
    chunk, root, data = given.chunk, given.root, given.data
    api_version = API_VERSIONS[0]
    try:
        if given.error is not None:
            raise given.error
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError("expected a ResourceList (a mapping with `kind: ResourceList`)", chunk.where)
        if data.get("apiVersion") not in API_VERSIONS:
            raise InputError(f"unsupported ResourceList apiVersion {data.get('apiVersion')!r}", chunk.where,
                             hint="postrender reads ResourceLists of " + " and ".join(API_VERSIONS))
        api_version = data["apiVersion"]
        items = data.get("items")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise InputError(f"`items` must be a list, not {type(items).__name__}", _at(chunk, _child(root, "items")))
        _check_sizes(chunk, items, _item_nodes(root))
        spec = _spec(root, cli_spec, chunk)
        editor = Editor(spec)
        new_items, found_in = _edit(editor, items, _item_nodes(root), given, api_version)
        unowned = end_of_stream(editor.ledger, spec)
        try:
            spliced = _splice_items(chunk.text(), root, given.memo, items, new_items)
            nodes = _item_nodes(root)
            for index, offset, edits in spliced.duplicates:
                where = _at(chunk, nodes[index]).but(obj="{}/{}".format(*object_identity(items[index])[:2]))
                found_in[index] += repeated_key_warnings(edits, where, chunk.first_line + offset)
            out = _write(spliced, given.memo, new_items, _strict(spec, new_items, found_in, unowned))
        except CannotSplice:  # an exotic layout (flow style, JSON): say it again in block style
            new = copy.deepcopy(data)
            new["items"] = new_items
            new["results"] = _strict(spec, new_items, found_in, unowned)
            return _dump(new)
        return out.encode("utf-8")
    except PostrenderError as exc:
        raise KrmFailure(failure_output(exc, api_version), exc) from None


def _strict(spec: Spec, items: List[Any], found: List[List[Finding]], unowned: List[Finding]) -> List[Dict[str, Any]]:
    """The results, once --strict (`strict: true`) has let the warnings pass (else StrictError)."""
    refuse_warnings(spec, [finding for findings in [*found, unowned] for finding in findings if finding.is_warning])
    return _results(items, found, unowned)


def failure_output(error: PostrenderError, api_version: str = API_VERSIONS[0], item: Any = None) -> bytes:
    """The ResourceList that reports `error`: no items (no object may pass), one error result (after
    the warnings that --strict refused, when it is theirs)."""
    warnings = error.warnings if isinstance(error, StrictError) else []
    results = [_result(warning) for warning in warnings] + [_result(error.finding, item)]
    return _dump({"apiVersion": api_version, "kind": KIND, "items": [], "results": results})


# -- the spec --------------------------------------------------------------------------------------
# Annotations that kpt (and kustomize) add to the functionConfig they read from the user's file.
_ADDED_ANNOTATIONS = re.compile(r"internal\.config\.kubernetes\.io/.*|config\.kubernetes\.io/(index|path)"
                                r"|(kustomize\.)?config\.k8s\.io/id")


def _added_lines(config: Optional[Node], line: int) -> int:
    """How many of the lines above `line` (0-based) hold annotations the tool added to the file:
    kpt writes `config.kubernetes.io/index` etc. into metadata.annotations, one line each in block
    style (plus the `annotations:` line when the file had none)."""
    annotations = _child(_child(config, "metadata"), "annotations")
    if not isinstance(annotations, MappingNode) or annotations.flow_style:
        return 0
    added = [(k, v) for k, v in annotations.value if _ADDED_ANNOTATIONS.fullmatch(str(getattr(k, "value", "")))]
    count = sum(v.end_mark.line - k.start_mark.line + 1 for k, v in added if k.start_mark.line < line)
    if added and len(added) == len(annotations.value) and annotations.start_mark.line <= line:
        count += 1  # the file had no annotations: kpt wrote the `annotations:` key too
    return count


def _spec(root: Optional[Node], cli_spec: Spec, chunk: Chunk) -> Spec:
    """The functionConfig's volumes layered under the command line's.

    Errors name the line of the file the user wrote: `kpt fn eval --fn-config FILE` (and kustomize,
    for a transformer config) writes that file's content, comments kept, one line below the
    `functionConfig:` key, having added its own annotations under metadata. So the line counts
    from that key, less the lines of those annotations. (kpt re-serialises the file: it drops
    blank lines between nodes and a leading `---`, and joins a flow mapping written over several
    lines; after such a spot the line is that of the functionConfig as kpt passed it.)
    """
    key, config = entry(root, "functionConfig")
    offset = key.start_mark.line if key is not None else 0

    def file_line(line: int) -> int:  # a 0-based line of the ResourceList → a 1-based line of the file
        return max(1, line - offset - _added_lines(config, line))

    where = Where(source="functionConfig", line=file_line(config.start_mark.line) if config is not None else None)
    given = SpecFile()
    try:
        data = to_data(config, where, strict_keys=True) if config is not None else None
    except PostrenderError as exc:  # a duplicate key: a spec error, at the line of the file
        line = file_line(exc.where.line - 1) if exc.where.line is not None else where.line
        raise SpecError(exc.message, exc.where.but(source="functionConfig", line=line), exc.hint) from None
    if data is None:
        pass
    elif not isinstance(data, dict):
        raise SpecError(f"functionConfig must be a mapping, not {type(data).__name__}", where,
                        hint="give a postrender spec: a mapping with a `volumes:` list")
    elif data.get("kind") == "ConfigMap":
        if data.get("data"):
            raise SpecError(
                "functionConfig is a ConfigMap (key=value arguments); postrender takes its spec as a "
                "VolumeInjection with a `volumes:` list", where,
                hint="kpt: `kpt fn eval DIR --exec postrender --fn-config volumes.yaml`; kustomize: put the "
                     "`config.kubernetes.io/function` annotation on the spec file itself; or pass "
                     "--logs-claim / --volume in the exec command")
        # an empty ConfigMap is what `kpt fn eval` sends without --fn-config: no functionConfig
    else:
        if "volumes" in data and "spec" in data:
            raise SpecError("functionConfig has both `volumes` and `spec`", where,
                            hint="give the `volumes:` list either at the top level or under `spec:`, not both")
        try:
            given = spec_file_from_node(config, "functionConfig")
        except SpecError as exc:
            if exc.where.line is not None:
                exc.where = exc.where.but(line=file_line(exc.where.line - 1))
            raise
    # the command line's --strict and --allow come after the functionConfig's, as its volumes do
    spec = layered_spec([given, SpecFile(cli_spec.volumes, True if cli_spec.strict else None, tuple(cli_spec.allow))],
                        cli_spec.logs_claim)
    if spec.empty:
        raise SpecError("nothing to do: no functionConfig with `volumes`, and no --logs-claim / --volume", where,
                        hint="give a functionConfig with a `volumes:` list (a postrender spec file works as is), "
                             "or pass --logs-claim CLAIM / --volume NAME=CLAIM:PATH in the exec command")
    return spec


# -- the items -------------------------------------------------------------------------------------
def _edit(editor: Editor, items: List[Any], nodes: List[Node], given: KrmInput,
          api_version: str) -> Tuple[List[Any], List[List[Finding]]]:
    """The new items (created claims appended) and, for each item, what its edit found (`nodes`:
    the items' nodes). An error in an item raises KrmFailure with an error result about that item."""
    chunk = given.chunk
    new_items = list(items)
    found_in: List[List[Finding]] = [[] for _ in items]
    order = sorted(range(len(items)), key=lambda i: 0 if object_identity(items[i])[0] == "ConfigMap" else 1)
    for index in order:  # ConfigMaps first: workloads roll on their template hashes
        item = items[index]
        if not isinstance(item, dict):
            continue
        node = nodes[index] if index < len(nodes) else None
        try:
            edited = editor.edit(item, _at(chunk, node), node, chunk.first_line, given.memo)
            findings = list(edited.findings)
            if edited.pending:  # a ConfigMap that is not among the items: none of its templates changed
                edited = editor.roll(item, edited)
                findings += edited.findings
        except PostrenderError as exc:
            raise KrmFailure(failure_output(exc, api_version, item), exc) from None
        new_items[index] = edited.value or item
        found_in[index] = findings
    for volume in editor.ledger.claims_to_create(editor.spec.volumes):
        new_items.append(claim_manifest(volume.claim, volume.create, helm4=False))
        assert volume.create is not None  # the claims to create are those of volumes with `create`
        size = f"{volume.create.storage}, " + ", ".join(volume.create.access_modes)
        found_in.append([created(volume, chunk.index, size)])
    return new_items, found_in


# -- results ---------------------------------------------------------------------------------------
def _results(items: List[Any], found: List[List[Finding]], unowned: List[Finding]) -> List[Dict[str, Any]]:
    """KRM results: each item's changes then its warnings, in item order, then those of no item."""
    results: List[Dict[str, Any]] = []
    for item, findings in [*zip(items, found), (None, unowned)]:
        for finding in sorted(findings, key=lambda f: f.is_warning):
            results.append(_result(finding, item))
    return results


def _result(finding: Finding, item: Any = None) -> Dict[str, Any]:
    """One result: the finding's message, severity and tags (findings.py words them), and the item
    it is about."""
    entry: Dict[str, Any] = {"message": krm_message(finding, item_known=isinstance(item, dict)),
                             "severity": finding.severity}
    if isinstance(item, dict):
        kind, name, namespace = object_identity(item)
        ref = {"apiVersion": str(item.get("apiVersion") or ""), "kind": kind or "", "name": name}
        if namespace:
            ref["namespace"] = namespace
        entry["resourceRef"] = ref
        file = _file(item)
        if file:
            entry["file"] = file
    entry["tags"] = krm_tags(finding)
    return entry


def _file(item: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The item's source file, as kpt and kustomize annotate it."""
    metadata = item.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return None
    path = next((annotations[k] for k in _PATH_ANNOTATIONS if isinstance(annotations.get(k), str)), None)
    if not path:
        return None
    file: Dict[str, Any] = {"path": path}
    index = next((annotations[k] for k in _INDEX_ANNOTATIONS if annotations.get(k) is not None), None)
    if index is not None:
        try:
            file["index"] = int(index)
        except (TypeError, ValueError):
            pass
    return file


# -- writing: splice each changed item on its own --------------------------------------------------
@dataclass
class _Spliced:
    """The input text with the changed items rewritten in place (recorded on `buffer`)."""

    buffer: LineBuffer
    root: MappingNode  # the ResourceList's
    # the repeated keys the edits touched: (item index, the line of the text their lines count from, edits)
    duplicates: List[Tuple[int, int, Sequence[DuplicateEdit]]]
    patcher: Optional[TreePatcher] = None  # set when items hold aliases: the result is read back (`_write`)


def _splice_items(text: str, root: Optional[Node], memo: Dict[int, Any], old_items: List[Any],
                  new_items: List[Any]) -> _Spliced:
    """The input text with the changed items rewritten in place, and the repeated keys each item's
    edit touched.

    Each changed item is spliced as a document of its own (`patch.patch_item`), so that an
    item that begins with comments (kpt writes `- # Source: ...`) or that cannot be spliced
    only costs that item its layout: it is then written anew in block style, at its place.
    """
    if not isinstance(root, MappingNode) or root.flow_style or not root.value:
        raise CannotSplice("the ResourceList is not a block mapping")
    nodes = _item_nodes(root)
    items_node = _child(root, "items")
    if nodes and isinstance(items_node, SequenceNode) and items_node.flow_style:
        raise CannotSplice("items in flow style")
    buffer = LineBuffer(text)
    buffer.detect_style(root)
    if may_alias(text) and any(True for _ in aliases_in(items_node)):
        # an item may read values of another: one walk over them all (`patch.tree`), read back after
        patcher = TreePatcher(buffer, memo, aliased=True)
        for node, new in zip(nodes, new_items):
            patcher.sync_item(node, new)
        lines = [node.start_mark.line for node in nodes]
        duplicates: List[Tuple[int, int, Sequence[DuplicateEdit]]] = [
            (max(i for i, line in enumerate(lines) if line <= duplicate.lines[0]), 0, (duplicate,))
            for duplicate in patcher.duplicates]
        return _Spliced(buffer, root, duplicates, patcher)
    spliced = _Spliced(buffer, root, [])
    for index, node in enumerate(nodes):
        if index < len(new_items) and new_items[index] is not old_items[index]:
            edits = patch_item(buffer, node, old_items[index], new_items[index])
            if edits:
                spliced.duplicates.append((index, node.start_mark.line, edits))
    return spliced


def _write(spliced: _Spliced, memo: Dict[int, Any], new_items: List[Any],
           results: List[Dict[str, Any]]) -> str:
    """The spliced text with the new items appended and `results` set (where the items hold
    aliases, read back: AliasConflict when it would not read `new_items`)."""
    buffer, root = spliced.buffer, spliced.root
    items_key, items_node = entry(root, "items")
    nodes = _item_nodes(root)
    added = new_items[len(nodes):]
    if added and nodes:
        buffer.insert(buffer.after(nodes[-1]), buffer.block(added, buffer.dash_column(nodes[-1])))
    elif added:
        _set_entry(buffer, root, "items", items_key, items_node, new_items)
    results_key, results_node = entry(root, "results")
    if results or results_key is not None:
        _set_entry(buffer, root, "results", results_key, results_node, results)
    out = buffer.apply()
    if spliced.patcher is not None:
        check_aliases(out, root, {**to_data(root, memo=memo), "items": new_items, "results": results},
                      spliced.patcher.moved)
    return out if out.endswith("\n") else out + ("\r\n" if buffer.crlf else "\n")


def _set_entry(buffer: LineBuffer, root: MappingNode, name: str, key: Optional[Node], value: Optional[Node],
               new: Any) -> None:
    """Replace the value of a top-level key, or append the key after the last entry."""
    if key is not None and value is not None:
        TreePatcher(buffer).replace_entry(key, value, new)
        return
    buffer.insert(buffer.after(root.value[-1][1]), buffer.block({name: new}, root.value[0][0].start_mark.column))


# -- helpers ---------------------------------------------------------------------------------------
def _child(node: Optional[Node], key: str) -> Optional[Node]:
    return entry(node, key)[1]


def _check_sizes(chunk: Chunk, items: List[Any], nodes: List[Node]) -> None:
    """Refuse an item over MAX_DOCUMENT bytes, as a stream document would be (the list as a whole is not capped)."""
    text = None
    for item, node in zip(items, nodes):
        start, end = node.start_mark.index, node.end_mark.index
        if end - start <= MAX_DOCUMENT // 4:  # 4 bytes a character at most
            continue
        if end - start <= MAX_DOCUMENT:
            text = chunk.text() if text is None else text
            if len(text[start:end].encode("utf-8")) <= MAX_DOCUMENT:
                continue
        kind, name = object_identity(item)[:2] if isinstance(item, dict) else ("item", "?")
        raise too_large("ResourceList item", MAX_DOCUMENT, _at(chunk, node).but(obj=f"{kind}/{name}"))


def _item_nodes(root: Optional[Node]) -> List[Node]:
    """The nodes of the ResourceList's items (none when `items` is not a sequence)."""
    items = _child(root, "items")
    return list(items.value) if isinstance(items, SequenceNode) else []


def _at(chunk: Chunk, node: Optional[Node]) -> Where:
    if node is None:
        return chunk.where
    return chunk.where.but(line=stream_line(chunk.first_line, node.start_mark.line))


def _dump(value: Dict[str, Any]) -> bytes:
    return ("\n".join(dump_block(value, indent_sequences=False)) + "\n").encode("utf-8")
