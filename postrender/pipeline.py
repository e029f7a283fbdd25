"""The pipeline: read the stream → select targets → inject → write.

Documents that cannot be targets are copied through as bytes without being
composed. Candidates (ConfigMaps and workloads) are composed with libyaml;
`Editor` works out their new plain value (the pure `inject_pod_spec` does
the injecting) and the splicer rewrites only the lines that changed.

A workload that mounts a ConfigMap whose embedded pod template changed is
annotated so that it rolls; when that ConfigMap comes later in the stream,
the workload waits in an output slot until it has been seen.
"""
import hashlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Dict, Iterable, List, Optional, Set, Tuple, Union

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from .create import claims_to_create
from .errors import InputError, Where
from .inject import Change, annotate_pod_template, inject_pod_spec
from .read import BOM, Chunk, Stream
from .report import Record, Result
from .select import (POD_SPEC_PATHS, ROLLED_KINDS, Site, dig, is_pod_template_text, object_identity,
                     is_candidate, target_matches, template_site, volumes_for, workload_site)
from .spec import Spec, VolumeSpec
from .patch import CannotSplice, DuplicateEdit, patch
from .write import Exported, Output
from .yamlio import check_syntax, parse

ROLL_ANNOTATION = "checksum/postrender"
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"
# Untouched documents above this size are copied through without a syntax check.
SYNTAX_CHECK_LIMIT = 4 * 1024 * 1024

ConfigMapKey = Tuple[Optional[str], str]  # (namespace, name)


def _replaced(data: Dict[str, Any], path: Tuple[str, ...], value: Any) -> Dict[str, Any]:
    """A copy of `data` with data[path] = value (None: the key removed), copying only along the path."""
    top = dict(data)
    node = top
    for key in path[:-1]:
        node[key] = dict(node[key]) if isinstance(node.get(key), dict) else {}
        node = node[key]
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return top


def configmap_refs(pod_spec: Any, namespace: Optional[str]) -> Set[ConfigMapKey]:
    """ConfigMaps a pod mounts as volumes (directly or projected)."""
    refs: Set[ConfigMapKey] = set()
    volumes = pod_spec.get("volumes") if isinstance(pod_spec, dict) else None
    for volume in volumes if isinstance(volumes, list) else []:
        if not isinstance(volume, dict):
            continue
        sources = [volume]
        projected = volume.get("projected")
        if isinstance(projected, dict) and isinstance(projected.get("sources"), list):
            sources += [s for s in projected["sources"] if isinstance(s, dict)]
        for source in sources:
            configmap = source.get("configMap")
            if isinstance(configmap, dict) and isinstance(configmap.get("name"), str):
                refs.add((namespace, configmap["name"]))
    return refs


def _value_nodes(root: Optional[Node], key: str) -> Dict[Any, Node]:
    """Value nodes of the mapping at root[key], by key (for line numbers); a repeated key: the last."""
    for key_node, value_node in reversed(getattr(root, "value", None) or []):
        if getattr(key_node, "value", None) == key:
            if not isinstance(value_node, MappingNode):
                return {}
            return {k.value: v for k, v in value_node.value if isinstance(k, ScalarNode)}
    return {}


def repeated_key_warning(duplicate: DuplicateEdit, where: Where, first_line: Optional[int],
                         what: str = "this document") -> str:
    """What to say of an edit to a repeated key (`first_line`: where the text's lines stand in the
    stream, None when they are not stream lines, as in a quoted pod template)."""
    if first_line is None:
        lines = " and ".join(str(n + 1) for n in duplicate.lines) + f" of {what}"
    else:
        lines = " and ".join(str(first_line + n + 1) for n in duplicate.lines)
    return (f"{where.but(line=None, column=None)}: key {duplicate.key!r} is repeated (lines {lines}); edited its "
            "last occurrence, the one Helm and kubectl read, and left the earlier ones as they were")


class Editor:
    """New values for ConfigMaps and workloads, and what was done, across one stream."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.result = Result()
        # every ConfigMap seen, in stream order: (document, hashes of its changed pod templates)
        self.template_hashes: Dict[ConfigMapKey, List[Tuple[int, List[str]]]] = {}
        self.matched: Set[str] = set()  # spec volume names that matched something
        self.claim_users: Dict[str, Set[str]] = {}  # claim -> sites using it
        self.declared_modes: Dict[str, List[str]] = {}  # claim -> accessModes of claims in the stream

    # -- ConfigMaps with embedded worker pod templates ------------------------------------------
    def configmap(self, data: Dict[str, Any], where: Where, root: Optional[Node] = None,
                  first_line: int = 0) -> Optional[Dict[str, Any]]:
        """The ConfigMap with its pod templates injected, or None when nothing changes."""
        _, name, namespace = object_identity(data)
        values = data.get("data")
        new_values: Dict[str, str] = {}
        hashes: List[str] = []
        nodes = _value_nodes(root, "data")
        for key, value in (values.items() if isinstance(values, dict) else []):
            if not is_pod_template_text(value):
                continue
            node = nodes.get(key)
            # lines inside a `|` block start on the line after its header; a quoted one is on one line
            line = first_line + (node.start_mark.line + (1 if node.style == "|" else 0) if node is not None else 0)
            new_text = self.pod_template(data, str(key), value, where.but(key=str(key), line=None, column=None), line,
                                         block=node is not None and node.style == "|")
            if new_text is not None:
                new_values[key] = new_text
                hashes.append(hashlib.sha256(new_text.encode("utf-8")).hexdigest())
        self.template_hashes.setdefault((namespace, name), []).append((where.document or 0, hashes))
        if not new_values:
            return None
        return _replaced(data, ("data",), {**data["data"], **new_values})

    def pod_template(self, configmap: Dict[str, Any], key: str, value: str, where: Where,
                     first_line: int, block: bool = False) -> Optional[str]:
        try:
            root, template, memo = parse(value, where, first_line)
        except InputError as exc:
            # a worker pod template the spec targets must not be skipped silently: its pods would
            # run without the volume
            site = template_site(configmap, key, {})
            if self.spec.logs_claim or any(target_matches(t, site) for v in self.spec.volumes for t in v.targets):
                raise InputError(f"the worker pod template is not readable YAML: {exc.message}", exc.where,
                                 hint=exc.hint) from None
            self.result.warnings.append(f"{exc.where}: looks like a pod template but is not readable YAML "
                                        f"({exc.message}); left unchanged")
            return None
        if not isinstance(template, dict) or template.get("kind") != "Pod":
            return None
        self.result.templates += 1
        site = template_site(configmap, key, template)
        volumes = volumes_for(site, template.get("spec"), self.spec)
        if not volumes:
            return None
        new_pod, _, changes = inject_pod_spec(template.get("spec"), volumes, where.but(obj=f"ConfigMap/{site.configmap}"))
        self.account(site, volumes, changes, where.document, key)
        if not changes:
            return None
        new_template = _replaced(template, ("spec",), new_pod)
        # a `|` block's lines are stream lines; a quoted template's lines are its own
        return self.spliced(value, root, new_template, memo, where, first_line if block else None,
                            "the embedded pod template")

    def spliced(self, text: str, root: Optional[Node], new: Any, memo: Dict[int, Any], where: Where,
                first_line: Optional[int], what: str = "this document") -> str:
        """`text` edited to say `new`; an edit of a repeated key is a warning (`first_line`: where
        the text's lines stand in the stream, None when they are not stream lines)."""
        try:
            patched = patch(text, root, new, memo)
        except CannotSplice as exc:
            raise InputError(f"cannot edit {what} in place ({exc})", where) from None
        self.result.warnings += [repeated_key_warning(d, where, first_line, what) for d in patched.duplicates]
        return patched.text

    # -- workloads ----------------------------------------------------------------------------------
    def workload(self, data: Dict[str, Any], where: Where) -> Tuple[Optional[Dict[str, Any]], Site]:
        """The workload with its volumes injected (None when unchanged), and its site."""
        site = workload_site(data)
        assert site is not None
        path = POD_SPEC_PATHS[site.kind]
        pod = dig(data, path)
        templates_path = ("spec", "volumeClaimTemplates")
        templates = dig(data, templates_path) if site.kind == "StatefulSet" else None
        if templates is not None and not isinstance(templates, list):
            raise InputError("`volumeClaimTemplates` must be a list", where)
        volumes = volumes_for(site, pod, self.spec, templates)
        if not volumes:
            return None, site
        new_pod, new_templates, changes = inject_pod_spec(pod, volumes, where, templates)
        self.account(site, volumes, changes, where.document)
        if not changes:
            return None, site
        new_data = _replaced(data, path, new_pod)
        if templates is not None:
            new_data = _replaced(new_data, templates_path, new_templates)
        return new_data, site

    def roll_refs(self, data: Dict[str, Any], site: Site) -> Set[ConfigMapKey]:
        """ConfigMaps whose template changes would make this workload roll."""
        if site.kind not in ROLLED_KINDS:
            return set()
        return configmap_refs(dig(data, POD_SPEC_PATHS[site.kind]), site.namespace)

    def hashes_for(self, ref: ConfigMapKey, document: int) -> List[str]:
        """The changed-template hashes of the ConfigMap a workload at `document` mounts: its last
        occurrence up to that document, else its first one after (a ConfigMap further down)."""
        occurrences = self.template_hashes.get(ref, [])
        before = [hashes for at, hashes in occurrences if at <= document]
        if before:
            return before[-1]
        return occurrences[0][1] if occurrences else []

    def rolled(self, data: Dict[str, Any], site: Site, refs: Set[ConfigMapKey], where: Where,
               document: int) -> Optional[Dict[str, Any]]:
        """The workload with the roll annotation, or None when no template it mounts changed."""
        hashes = sorted(h for ref in refs for h in self.hashes_for(ref, document))
        if not hashes:
            return None
        value = hashes[0] if len(hashes) == 1 else hashlib.sha256("\n".join(hashes).encode()).hexdigest()
        meta_path = POD_SPEC_PATHS[site.kind][:-1] + ("metadata",)
        metadata = dig(data, meta_path)
        if dig(metadata, ("annotations", ROLL_ANNOTATION)) == value:
            return None
        new_data = _replaced(data, meta_path, annotate_pod_template(metadata, ROLL_ANNOTATION, value, where))
        self.result.records.append(Record(document, site.label, "annotated", detail=f"{ROLL_ANNOTATION}={value}"))
        return new_data

    # -- bookkeeping for the report and the warnings ------------------------------------------------
    def account(self, site: Site, volumes: List[VolumeSpec], changes: List[Change], document: Optional[int],
                key: Optional[str] = None) -> None:
        label = f"ConfigMap/{site.configmap}" if site.configmap is not None else site.label
        for volume in volumes:
            self.matched.add(volume.name)
            self.claim_users.setdefault(volume.claim, set()).add(site.label)
        for change in changes:
            self.result.records.append(Record(document or 0, label, change.action, change.volume,
                                              change.container, key, change.detail))
            if change.action == "removed-claim-template":
                self.result.warnings.append(
                    f"{label}: removed volumeClaimTemplate {change.volume!r} ({change.detail}). volumeClaimTemplates "
                    f"is immutable on a live StatefulSet, so `helm upgrade` will fail on it: first run "
                    f"`kubectl delete statefulset {site.name} --cascade=orphan` (its pods keep running and are "
                    f"adopted by the new StatefulSet), and once the logs are migrated delete the old claims "
                    f"`{change.volume}-{site.name}-<ordinal>`")

    def note_claim(self, data: Dict[str, Any]) -> None:
        _, name, _ = object_identity(data)
        modes = dig(data, ("spec", "accessModes"))
        # every declared claim counts (create: must not emit it twice), with or without accessModes
        self.declared_modes[name] = [str(m) for m in modes] if isinstance(modes, list) else []

    def finish(self) -> None:
        """Warnings that need the whole stream."""
        for volume in self.spec.volumes:
            if volume.name not in self.matched:
                targets = ", ".join(t.describe() for t in volume.targets)
                self.result.warnings.append(f"volume {volume.name!r} matched no object (targets: {targets})")
        modes = dict(self.declared_modes)
        for volume in self.spec.volumes:
            if volume.create is not None:
                modes.setdefault(volume.claim, list(volume.create.access_modes))
        for claim, users in sorted(self.claim_users.items()):
            access = modes.get(claim, [])
            shared = len(users) > 1 or any(u.startswith("ConfigMap/") for u in users)
            single = [m for m in ("ReadWriteOncePod", "ReadWriteOnce") if m in access]
            if single and "ReadWriteMany" not in access and shared:
                why = ("only one pod at a time may use it, the others stay Pending" if single[0] == "ReadWriteOncePod"
                       else "pods on different nodes will hang in ContainerCreating (Multi-Attach error)")
                self.result.warnings.append(
                    f"claim {claim!r} is {single[0]} but is mounted by {', '.join(sorted(users))}: {why}; "
                    "use ReadWriteMany")


@dataclass
class _Waiting:
    """A workload whose roll annotation depends on ConfigMaps not seen yet."""

    slot: int
    chunk: Chunk
    text: str  # the original text
    new_data: Optional[Dict[str, Any]]  # after injection (None: unchanged)
    site: Site
    refs: Set[ConfigMapKey]
    pending: Set[ConfigMapKey]


@dataclass
class Part:
    """What a pipeline made of one part of a stream, handed to the pipeline of the part before it
    (see `fork`): its output, its bookkeeping, and the workloads still waiting."""

    output: Exported
    result: Result
    template_hashes: Dict[ConfigMapKey, List[Tuple[int, List[str]]]]
    matched: Set[str]
    claim_users: Dict[str, Set[str]]
    declared_modes: Dict[str, List[str]]
    seen: Set[ConfigMapKey]
    waiting: List[_Waiting]
    last: bytes


class Pipeline:
    """Streams chunks through the Editor into an all-or-nothing Output.

    A workload that mounts a ConfigMap not seen yet waits in an output slot and is finished
    when that ConfigMap comes. With `hold` (one part of a stream split between processes)
    waiting workloads are finished only in `close`, once every later part has been absorbed.
    """

    def __init__(self, spec: Spec, hold: bool = False):
        self.editor = Editor(spec)
        self.output = Output()
        self.hold = hold
        self.seen: Set[ConfigMapKey] = set()
        self.waiting: Dict[ConfigMapKey, List[_Waiting]] = {}
        self.last = b""  # the last byte written from the input

    @property
    def result(self) -> Result:
        return self.editor.result

    def run(self, stream: Stream, chunks: Iterable[Chunk]) -> Result:
        self.feed(chunks, stream)
        return self.close()

    def feed(self, chunks: Iterable[Chunk], stream: Optional[Stream] = None) -> None:
        """Transform `chunks` (of `stream`, which tells whether the input began with a BOM)."""
        for chunk in chunks:
            if chunk.index == 1 and stream is not None and stream.bom:  # known once reading began
                self.output.write(BOM)
            self.output.write(self.document(chunk))
            self.last = chunk.raw[-1:] or self.last

    def close(self) -> Result:
        """Finish what still waits (no more ConfigMaps are coming), append claims, final warnings."""
        for waiting in self._waiting():
            waiting.pending.clear()  # what never came changed no template of ours
            self.finish(waiting)
        self.waiting.clear()
        self.result.records.sort(key=lambda record: record.document)  # a finished wait records late
        self.output.write(claims_to_create(self.editor, self.last))
        self.editor.finish()
        return self.result

    def _waiting(self) -> List[_Waiting]:
        return list({id(w): w for ws in self.waiting.values() for w in ws}.values())

    def part(self) -> Part:
        """This pipeline's work so far, for `absorb` in another process (nothing is closed)."""
        editor = self.editor
        return Part(self.output.export(), editor.result,
                    editor.template_hashes, editor.matched, editor.claim_users, editor.declared_modes,
                    self.seen, self._waiting(), self.last)

    def absorb(self, part: Part) -> None:
        """Append the work done on the part of the stream that follows this pipeline's."""
        slots = self.output.extend(part.output)
        editor, result = self.editor, self.result
        result.records += part.result.records
        result.warnings += part.result.warnings
        result.templates += part.result.templates
        result.helm4 = result.helm4 or part.result.helm4
        for key, occurrences in part.template_hashes.items():
            editor.template_hashes.setdefault(key, []).extend(occurrences)
        editor.matched |= part.matched
        for claim, users in part.claim_users.items():
            editor.claim_users.setdefault(claim, set()).update(users)
        editor.declared_modes.update(part.declared_modes)
        self.seen |= part.seen
        for waiting in part.waiting:
            waiting.slot = slots[waiting.slot]
            for ref in waiting.pending:
                self.waiting.setdefault(ref, []).append(waiting)
        self.last = part.last or self.last

    def document(self, chunk: Chunk) -> bytes:
        """The bytes to write for one chunk (b'' when it went into a slot)."""
        if chunk.blank:
            return chunk.raw
        if not is_candidate(chunk.raw):
            if len(chunk.raw) <= SYNTAX_CHECK_LIMIT:
                check_syntax(chunk.raw, chunk.where, chunk.first_line)  # libyaml reads the bytes: no str copy
            if not self.result.helm4 and HELM4_FILENAME.encode() in chunk.raw:
                self.result.helm4 = True
            return chunk.raw
        root, data, memo = parse(chunk.raw, chunk.where, chunk.first_line)  # the text is decoded only to edit it
        if not isinstance(data, dict):
            return chunk.raw
        kind, name, namespace = object_identity(data)
        if HELM4_FILENAME in (dig(data, ("metadata", "annotations")) or {}):
            self.result.helm4 = True
        where = chunk.where.but(obj=f"{kind}/{name}")
        new: Optional[Dict[str, Any]] = None
        if kind == "ConfigMap":
            new = self.editor.configmap(data, where, root, chunk.first_line)
            self.seen_configmap((namespace, name))
        elif kind == "PersistentVolumeClaim":
            self.editor.note_claim(data)
        elif kind in POD_SPEC_PATHS:
            new, site = self.editor.workload(data, where)
            current = new if new is not None else data
            refs = self.editor.roll_refs(current, site)
            pending = refs - self.seen
            if pending:
                waiting = _Waiting(self.output.reserve(), chunk, chunk.text(), new, site, refs, pending)
                for ref in pending:
                    self.waiting.setdefault(ref, []).append(waiting)
                return b""
            new = self.editor.rolled(current, site, refs, where, chunk.index) or new
        if new is None:
            return chunk.raw
        return self.editor.spliced(chunk.text(), root, new, memo, where, chunk.first_line).encode("utf-8")

    def seen_configmap(self, key: ConfigMapKey) -> None:
        self.seen.add(key)
        if self.hold:
            return
        for waiting in self.waiting.pop(key, []):
            waiting.pending.discard(key)
            if not waiting.pending:
                self.finish(waiting)

    def finish(self, waiting: _Waiting) -> None:
        chunk = waiting.chunk
        where = chunk.where.but(obj=waiting.site.label)
        current = waiting.new_data
        root, original, memo = parse(waiting.text, where, chunk.first_line)
        if current is None:
            current = original
        new = self.editor.rolled(current, waiting.site, waiting.refs, where, chunk.index) or waiting.new_data
        text = waiting.text if new is None else self.editor.spliced(waiting.text, root, new, memo, where,
                                                                    chunk.first_line)
        self.output.fill(waiting.slot, text.encode("utf-8"))


def transform(source: Union[BinaryIO, Stream], spec: Spec,
              chunks: Optional[Iterable[Chunk]] = None) -> Tuple[Output, Result]:
    """Run the whole pipeline over a binary stream (or a Stream whose `chunks` were already
    started, as the CLI does to look at the first document); the caller copies the Output to
    stdout only on success."""
    stream = source if isinstance(source, Stream) else Stream(source)
    pipeline = Pipeline(spec)
    try:
        result = pipeline.run(stream, chunks if chunks is not None else stream)
    except BaseException:
        pipeline.output.close()
        raise
    return pipeline.output, result
