"""The editing filter: one object in, its new value and what was done out.

`Editor.edit` is the only place that knows the per-object order of operations
(as kyaml's `kio.Filter`): a ConfigMap's embedded worker pod templates are
injected and their hashes remembered; a claim is noted; a workload is injected
and, when every ConfigMap it mounts is known, annotated so that it rolls. A
workload whose ConfigMaps are not known yet comes back `pending`; the driver
calls `Editor.roll` once they are. The stream pipeline and KRM mode both drive
this filter: neither knows what happens inside.

What a run did accumulates in one `Ledger`, which two halves of a stream
(transformed in two processes) `merge` into one. `finish` turns what needs the
whole stream into warnings: targets that matched nothing (only in a stream that
holds Airflow, with a did-you-mean from the component labels it has), a
`--logs-claim` that found no logs volume, claims that pods on one node at a time
cannot share, or that pods of different users cannot all write. An empty stream,
or one of Helm hooks only (Helm 4.2's `separate` post-render strategy sends the
hooks on their own), draws none of the first two, and gets no created claim.
"""
import difflib
import hashlib
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Set, Tuple, Union

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from .claims import ClaimUsers, ClaimWriters, claims_needed, several_pods, writability_warning, writers
from .errors import InputError, Where, stream_line
from .findings import (CLAIM_NOT_WRITABLE, CLAIM_TEMPLATE_REMOVED, LOGS_VOLUME_NOT_FOUND, REPEATED_KEY_EDITED,
                       RWO_CLAIM_SHARED, TARGET_MATCHED_NOTHING, UNREADABLE_POD_TEMPLATE, VOLUME_MATCHED_NOTHING,
                       VOLUME_NOT_MOUNTED, Finding)
from .inject import NOT_MOUNTED, Change, annotate_pod_template, inject_pod_spec, inject_pod_template
from .patch import AliasConflict, CannotSplice, DuplicateEdit, patch
from .spec import Spec, VolumeSpec
from .targets import (DEFAULT_LOG_PATHS, LOGS_CLAIM, POD_SPEC_PATHS, ROLLED_KINDS, WEB_COMPONENTS, Site, Target,
                      components, dig, is_airflow, is_hook, is_pod_template_text, object_identity, target_matches,
                      template_site, volumes_for, workload_site)
from .yamlio import node_of, parse

ROLL_ANNOTATION = "checksum/postrender"
COMPONENTS_KEPT = 1000  # component label values noted for the warnings' hints (a stream has a dozen)

ConfigMapKey = Tuple[Optional[str], str]  # (namespace, name)
Hashes = Tuple[str, ...]  # of the pod templates an occurrence of a ConfigMap changed


class ConfigMapsSeen:
    """Every ConfigMap of the stream and the hashes of the pod templates each occurrence changed:
    what a workload that mounts one needs in order to roll (`hashes_for`).

    A stream may hold millions of ConfigMaps, nearly all of them without a template: each of those
    costs one small dict entry (its name alone is the key when it has no namespace) that keeps the
    document of its first occurrence. Only a ConfigMap that changed a template keeps a list of its
    occurrences; its unchanged ones before the first change count as that first one (a workload
    before the change gets no hash either way). Equal hashes are kept once: copies of one
    template cost no more than their list."""

    def __init__(self) -> None:
        self.unchanged: Dict[Union[str, ConfigMapKey], int] = {}
        self.changed: Dict[Union[str, ConfigMapKey], List[Tuple[int, Hashes]]] = {}
        self._hashes: Dict[Hashes, Hashes] = {}

    @staticmethod
    def _key(ref: ConfigMapKey) -> Union[str, ConfigMapKey]:
        return ref[1] if ref[0] is None else ref

    @staticmethod
    def _ref(key: Union[str, ConfigMapKey]) -> ConfigMapKey:
        return key if isinstance(key, tuple) else (None, key)

    def add(self, ref: ConfigMapKey, document: int, hashes: Hashes) -> None:
        """Note an occurrence (occurrences come in stream order)."""
        key = self._key(ref)
        if hashes:
            hashes = self._hashes.setdefault(hashes, hashes)
        occurrences = self.changed.get(key)
        if occurrences is not None:
            occurrences.append((document, hashes))
        elif not hashes:
            self.unchanged.setdefault(key, document)
        else:
            first = self.unchanged.pop(key, None)
            self.changed[key] = [(document, hashes)] if first is None else [(first, ()), (document, hashes)]

    def __contains__(self, ref: ConfigMapKey) -> bool:
        key = self._key(ref)
        return key in self.unchanged or key in self.changed

    def hashes_for(self, ref: ConfigMapKey, document: int) -> Hashes:
        """The hashes of the ConfigMap a workload at `document` mounts: its last occurrence up to
        that document, else its first one after (a ConfigMap further down)."""
        occurrences = self.changed.get(self._key(ref))
        if occurrences is None:
            return ()
        before = [hashes for at, hashes in occurrences if at <= document]
        return before[-1] if before else occurrences[0][1]

    def merge(self, later: "ConfigMapsSeen") -> None:
        """Fold in the ConfigMaps of the part of the stream that follows."""
        for key, document in later.unchanged.items():
            self.add(self._ref(key), document, ())
        for key, occurrences in later.changed.items():
            for document, hashes in occurrences:
                self.add(self._ref(key), document, hashes)


@dataclass
class Ledger:
    """Everything a run keeps across objects. `merge` folds a later part of the stream in, by
    each field's type, so a new field needs no merging code of its own."""

    findings: List[Finding] = field(default_factory=list)
    configmaps: ConfigMapsSeen = field(default_factory=ConfigMapsSeen)  # and their changed templates
    matched: Set[str] = field(default_factory=set)  # spec volume names that matched something
    claim_users: Dict[str, ClaimUsers] = field(default_factory=dict)  # claim -> sites using it
    # claim -> accessModes of the claims in the stream (a later declaration replaces an earlier one)
    declared_modes: Dict[str, List[str]] = field(default_factory=dict, metadata={"merge": "replace"})
    templates: int = 0  # embedded pod templates seen
    helm4: bool = False  # the input carried Helm 4's filename annotations
    # (volume name, index in its targets) of every target that matched something
    matched_targets: Set[Tuple[str, int]] = field(default_factory=set)
    components: Set[str] = field(default_factory=set)  # component label values of the workloads seen
    airflow: bool = False  # the stream holds a worker pod template or an Airflow component workload
    plain: bool = False  # the stream holds an object that is not a Helm hook
    content: bool = False  # the stream holds a document that is more than comments and blank lines
    logs_found: bool = False  # --logs-claim found where the logs go (see targets.LOGS_CLAIM)
    writers: Dict[str, ClaimWriters] = field(default_factory=dict)  # claim -> who mounts it read-write

    def merge(self, later: "Ledger") -> None:
        for spec in fields(self):
            mine, theirs = getattr(self, spec.name), getattr(later, spec.name)
            if isinstance(mine, bool):
                setattr(self, spec.name, mine or theirs)
            elif isinstance(mine, int):
                setattr(self, spec.name, mine + theirs)
            elif isinstance(mine, set):
                mine |= theirs
            elif isinstance(mine, list):
                mine.extend(theirs)
            elif isinstance(mine, ConfigMapsSeen):
                mine.merge(theirs)
            elif spec.metadata.get("merge") == "replace":
                mine.update(theirs)
            else:  # dicts of records that merge: per key
                for key, value in theirs.items():
                    mine.setdefault(key, type(value)()).merge(value)

    def claims_to_create(self, volumes: List[VolumeSpec]) -> List[VolumeSpec]:
        """The volumes whose claim `create:` emits (see `claims.claims_needed`)."""
        return claims_needed(volumes, self.declared_modes, self.claim_users, only_hooks=not self.plain)

    @property
    def warnings(self) -> List[Finding]:
        return [f for f in self.findings if f.is_warning]

    @property
    def changes(self) -> List[Finding]:
        return [f for f in self.findings if not f.is_warning]


@dataclass
class Edited:
    """What the filter made of one object."""

    value: Optional[Dict[str, Any]]  # the new object, None when unchanged
    where: Where  # the object's place, `Kind/name` included
    findings: List[Finding]  # what this object's edit found (also in the ledger)
    configmap: Optional[ConfigMapKey] = None  # a ConfigMap's (namespace, name)
    site: Optional[Site] = None  # a workload's site
    refs: Set[ConfigMapKey] = field(default_factory=set)  # ConfigMaps whose templates make it roll
    pending: Set[ConfigMapKey] = field(default_factory=set)  # ... of which not seen yet: call `roll` later


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


def _located(error: InputError, root: Optional[Node], memo: Optional[Dict[int, Any]], first_line: int) -> InputError:
    """The error with the stream line of the value it is about (its `subject`), where the nodes
    the object was read from (`root`, `memo`, lines counted from `first_line`) say."""
    node = node_of(root, memo, error.subject) if error.subject is not None and root is not None and memo else None
    if node is not None:
        error.where = error.where.but(line=first_line + node.start_mark.line + 1, column=None)
    return error


def _value_nodes(root: Optional[Node], key: str) -> Dict[Any, Node]:
    """Value nodes of the mapping at root[key], by key (for line numbers); a repeated key: the last."""
    for key_node, value_node in reversed(getattr(root, "value", None) or []):
        if getattr(key_node, "value", None) == key:
            if not isinstance(value_node, MappingNode):
                return {}
            return {k.value: v for k, v in value_node.value if isinstance(k, ScalarNode)}
    return {}


def _text_line(first_line: Optional[int], line: int, what: str) -> str:
    """A text's 0-based line as the user finds it: a stream line, or a line of `what` (None: not stream lines)."""
    return str(stream_line(0, line)) + f" of {what}" if first_line is None else str(stream_line(first_line, line))


def repeated_key_warning(duplicate: DuplicateEdit, where: Where, first_line: Optional[int],
                         what: str = "this document") -> Finding:
    """What to say of an edit to a repeated key (`first_line`: where the text's lines stand in the
    stream, None when they are not stream lines, as in a quoted pod template)."""
    lines = " and ".join(str(stream_line(first_line or 0, n)) for n in duplicate.lines)
    if first_line is None:
        lines += f" of {what}"
    return Finding.warning(REPEATED_KEY_EDITED,
                           f"key {duplicate.key!r} is repeated (lines {lines}); edited its last occurrence, the one "
                           "Helm and kubectl read, and left the earlier ones as they were",
                           where.but(line=None, column=None))


class Editor:
    """The editing filter of one run (see the module's docstring)."""

    def __init__(self, spec: Spec, ledger: Optional[Ledger] = None):
        self.spec = spec
        self.ledger = ledger if ledger is not None else Ledger()
        self._found: List[Finding] = []  # the findings of the object being edited

    def _note(self, finding: Finding) -> None:
        if finding.is_warning or self.spec.report_changes:
            self.ledger.findings.append(finding)
        self._found.append(finding)

    def edit(self, data: Any, where: Where, root: Optional[Node] = None, first_line: int = 0,
             memo: Optional[Dict[int, Any]] = None) -> Edited:
        """Edit one object (`root`/`first_line`: its nodes and first stream line, for places in
        messages; `memo`: the value of each node, to say on which line a conflict stands)."""
        self._found = []
        if not self.ledger.plain and not is_hook(data):
            self.ledger.plain = True
        kind, name, namespace = object_identity(data)
        where = where.but(obj=f"{kind}/{name}")
        if kind == "ConfigMap":
            new = self._configmap(data, where, root, first_line)
            return Edited(new, where, self._found, configmap=(namespace, name))
        if kind == "PersistentVolumeClaim":
            modes = dig(data, ("spec", "accessModes"))
            # every declared claim counts (create: must not emit it twice), with or without accessModes
            self.ledger.declared_modes[name] = [str(m) for m in modes] if isinstance(modes, list) else []
            return Edited(None, where, self._found)
        if kind not in POD_SPEC_PATHS:
            return Edited(None, where, self._found)
        try:
            new, site = self._workload(data, where)
        except InputError as exc:
            raise _located(exc, root, memo, first_line) from None
        current = new if new is not None else data
        refs = configmap_refs(dig(current, POD_SPEC_PATHS[site.kind]), site.namespace) \
            if site.kind in ROLLED_KINDS else set()
        seen = self.ledger.configmaps
        edited = Edited(new, where, self._found, site=site, refs=refs, pending={r for r in refs if r not in seen})
        if not edited.pending:
            edited.value = self._rolled(current, site, refs, where) or new
        return edited

    def roll(self, data: Dict[str, Any], edited: Edited) -> Optional[Dict[str, Any]]:
        """A pending workload once its ConfigMaps are known (or known never to come): its final
        value (`data`: what `edit` was given), None when unchanged."""
        assert edited.site is not None
        self._found = edited.findings
        edited.pending.clear()
        current = edited.value if edited.value is not None else data
        return self._rolled(current, edited.site, edited.refs, edited.where) or edited.value

    def spliced(self, text: str, root: Optional[Node], new: Any, memo: Dict[int, Any], where: Where,
                first_line: Optional[int], what: str = "this document") -> str:
        """`text` edited to say `new`; an edit of a repeated key is a warning (`first_line`: where
        the text's lines stand in the stream, None when they are not stream lines)."""
        try:
            patched = patch(text, root, new, memo)
        except AliasConflict as exc:
            lines = [("anchor", exc.anchor_line), ("alias", exc.alias_line)]
            named = " and ".join(f"{role} at line {_text_line(first_line, n, what)}" for role, n in lines if n is not None)
            raise InputError(f"cannot edit {what}: the edit would change what a YAML alias reads ({named})",
                             where.but(line=None, column=None),
                             hint="write the aliased value out in full where the volume goes") from None
        except CannotSplice as exc:
            raise InputError(f"cannot edit {what} in place ({exc})", where) from None
        for duplicate in patched.duplicates:
            self._note(repeated_key_warning(duplicate, where, first_line, what))
        return patched.text

    # -- ConfigMaps with embedded worker pod templates ------------------------------------------
    def _configmap(self, data: Dict[str, Any], where: Where, root: Optional[Node],
                   first_line: int) -> Optional[Dict[str, Any]]:
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
            block = node is not None and node.style == "|"
            # lines inside a `|` block start on the line after its header; a quoted one is on one line
            line = first_line + (node.start_mark.line + (1 if block else 0) if node is not None else 0)
            new_text = self._pod_template(data, str(key), value, where.but(key=str(key), line=None, column=None),
                                          line, block)
            if new_text is not None:
                new_values[key] = new_text
                hashes.append(hashlib.sha256(new_text.encode("utf-8")).hexdigest())
        self.ledger.configmaps.add((namespace, name), where.document or 0, tuple(hashes))
        if not new_values:
            return None
        return _replaced(data, ("data",), {**data["data"], **new_values})

    def _pod_template(self, configmap: Dict[str, Any], key: str, value: str, where: Where,
                      first_line: int, block: bool) -> Optional[str]:
        try:
            root, template, memo = parse(value, where, first_line)
        except InputError as exc:
            # a worker pod template the spec targets must not be skipped silently: its pods would
            # run without the volume
            site = template_site(configmap, key, {})
            if self.spec.logs_claim or any(target_matches(t, site) for v in self.spec.volumes for t in v.targets):
                raise InputError(f"the worker pod template is not readable YAML: {exc.message}", exc.where,
                                 hint=exc.hint) from None
            self._note(Finding.warning(UNREADABLE_POD_TEMPLATE,
                                       f"looks like a pod template but is not readable YAML ({exc.message}); "
                                       "left unchanged", exc.where))
            return None
        if not isinstance(template, dict) or template.get("kind") != "Pod":
            return None
        self.ledger.templates += 1
        self.ledger.airflow = True
        site = template_site(configmap, key, template)
        volumes = volumes_for(site, template.get("spec"), self.spec)
        if not volumes:
            return None
        try:
            new_pod, changes = inject_pod_template(template.get("spec"), volumes,
                                                   where.but(obj=f"ConfigMap/{site.configmap}"))
        except InputError as exc:
            if not block:  # a quoted template's own lines are not the stream's: the key's line
                exc.where = exc.where.but(line=first_line + 1)
                raise
            raise _located(exc, root, memo, first_line) from None
        self._account(site, volumes, changes, where, new_pod)
        if not any(change.edit for change in changes):
            return None
        new_template = _replaced(template, ("spec",), new_pod)
        # a `|` block's lines are stream lines; a quoted template's lines are its own
        return self.spliced(value, root, new_template, memo, where, first_line if block else None,
                            "the embedded pod template")

    # -- workloads ----------------------------------------------------------------------------------
    def _workload(self, data: Dict[str, Any], where: Where) -> Tuple[Optional[Dict[str, Any]], Site]:
        """The workload with its volumes injected (None when unchanged), and its site."""
        site = workload_site(data)
        assert site is not None
        if len(self.ledger.components) < COMPONENTS_KEPT:
            self.ledger.components.update(components(site))
        if not self.ledger.airflow and is_airflow(site):
            self.ledger.airflow = True
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
        self._account(site, volumes, changes, where, new_pod, several_pods(site.kind, data))
        if not changes:
            return None, site
        new_data = _replaced(data, path, new_pod)
        if templates is not None:
            new_data = _replaced(new_data, templates_path, new_templates)
        return new_data, site

    def _rolled(self, data: Dict[str, Any], site: Site, refs: Set[ConfigMapKey],
                where: Where) -> Optional[Dict[str, Any]]:
        """The workload with the roll annotation, or None when no template it mounts changed."""
        document = where.document or 0
        hashes = sorted(h for ref in refs for h in self.ledger.configmaps.hashes_for(ref, document))
        if not hashes:
            return None
        value = hashes[0] if len(hashes) == 1 else hashlib.sha256("\n".join(hashes).encode()).hexdigest()
        meta_path = POD_SPEC_PATHS[site.kind][:-1] + ("metadata",)
        metadata = dig(data, meta_path)
        if dig(metadata, ("annotations", ROLL_ANNOTATION)) == value:
            return None
        new_data = _replaced(data, meta_path, annotate_pod_template(metadata, ROLL_ANNOTATION, value, where))
        self._note(Finding.change("annotated", Where(document=document, obj=site.label),
                                  detail=f"{ROLL_ANNOTATION}={value}"))
        return new_data

    # -- bookkeeping for the report and the warnings ------------------------------------------------
    def _account(self, site: Site, volumes: List[VolumeSpec], changes: List[Change], where: Where,
                 pod: Any, several: Optional[str] = None) -> None:
        """Note what the volumes did at one site (`pod`: its pod spec as it now is; `several`: why
        the site runs several pods at once, if it does)."""
        label = f"ConfigMap/{site.configmap}" if site.configmap is not None else site.label
        ledger = self.ledger
        claims = set()
        for volume in volumes:
            ledger.matched.add(volume.name)
            ledger.matched_targets.update((volume.name, i) for i, t in enumerate(volume.targets)
                                          if target_matches(t, site))
            if volume.origin == LOGS_CLAIM:
                ledger.logs_found = True
            if volume.claim in claims:
                continue  # two volumes on one claim: its writers are noted once
            claims.add(volume.claim)
            ledger.claim_users.setdefault(volume.claim, ClaimUsers()).add(site.label, several)
            for writer in writers(site.label, pod, volume.claim):
                ledger.writers.setdefault(volume.claim, ClaimWriters()).add(writer)
        place = Where(document=where.document or 0, obj=label, key=site.key)
        for change in changes:
            if change.action == NOT_MOUNTED:
                self._note(Finding.warning(VOLUME_NOT_MOUNTED,
                                           f"volume {change.volume!r} is added but will not be mounted: "
                                           f"{change.detail}; add {change.container!r} to them", Where(obj=site.label)))
                continue
            self._note(Finding.change(change.action, place.but(container=change.container), change.volume,
                                      change.detail))
            if change.action == "removed-claim-template":
                self._note(Finding.warning(
                    CLAIM_TEMPLATE_REMOVED,
                    f"removed volumeClaimTemplate {change.volume!r} ({change.detail}). volumeClaimTemplates "
                    f"is immutable on a live StatefulSet, so `helm upgrade` will fail on it: first run "
                    f"`kubectl delete statefulset {site.name} --cascade=orphan` (its pods keep running and are "
                    f"adopted by the new StatefulSet), and once the logs are migrated delete the old claims "
                    f"`{change.volume}-{site.name}-<ordinal>`", Where(obj=site.label)))

    def finish(self) -> List[Finding]:
        """Warnings that need the whole stream (also added to the ledger)."""
        self._found = []
        if self.ledger.plain:  # not for an empty stream, nor one of hooks only
            self._missed_targets()
            if self.spec.logs_claim and not self.ledger.logs_found:
                self._note(Finding.warning(
                    LOGS_VOLUME_NOT_FOUND,
                    f"--logs-claim {self.spec.logs_claim}: found no Airflow logs volume (nothing mounted at "
                    f"{' or '.join(DEFAULT_LOG_PATHS)}, nor at the log folder the containers' AIRFLOW_HOME or "
                    "AIRFLOW__LOGGING__BASE_LOG_FOLDER names, in a worker pod template or workload)"
                    + ("" if self.ledger.matched else "; nothing was changed")))
        for claim, found in sorted(self.ledger.writers.items()):
            text = writability_warning(claim, found)
            if text is not None:
                self._note(Finding.warning(CLAIM_NOT_WRITABLE, text))
        modes = dict(self.ledger.declared_modes)
        for volume in self.spec.volumes:
            if volume.create is not None:
                modes.setdefault(volume.claim, list(volume.create.access_modes))
        for claim, users in sorted(self.ledger.claim_users.items()):
            access = modes.get(claim, [])
            single = [m for m in ("ReadWriteOncePod", "ReadWriteOnce") if m in access]
            if single and "ReadWriteMany" not in access and users.shared:
                why = ("only one pod at a time may use it, the others stay Pending" if single[0] == "ReadWriteOncePod"
                       else "pods on different nodes will hang in ContainerCreating (Multi-Attach error)")
                self._note(Finding.warning(
                    RWO_CLAIM_SHARED,
                    f"claim {claim!r} is {single[0]} but is mounted by {users.describe()}: {why}; "
                    "use ReadWriteMany"))
        return self._found

    def _missed_targets(self) -> None:
        """A volume that matched nothing; and, in a stream that holds Airflow (a worker pod template
        or an Airflow component workload), each target the user wrote that matched nothing while
        another target of its volume matched."""
        ledger = self.ledger
        seen = sorted(ledger.components)
        for volume in self.spec.volumes:
            if volume.name not in ledger.matched:
                targets = ", ".join(t.describe() for t in volume.targets)
                text = f"volume {volume.name!r} matched no object (targets: {targets})"
                if not ledger.airflow:
                    text += "; the stream holds no Airflow worker pod template or component workload"
                else:
                    hints = [(t.describe(), _nearest(t, seen)) for t in volume.targets]
                    hints = [f"{near!r} for {word!r}" for word, near in hints if near]
                    text += f"; did you mean {', '.join(hints)}?" if hints else ""
                self._note(Finding.warning(VOLUME_MATCHED_NOTHING, text))
                continue
            if not ledger.airflow:
                continue
            for index, target in enumerate(volume.targets):
                if (volume.name, index) in ledger.matched_targets or target.implied:
                    continue
                text = f"volume {volume.name!r}: target {target.describe()!r} matched nothing"
                near = _nearest(target, seen)
                if near:
                    text += f" (did you mean {near!r}?)"
                elif target.pod_template:
                    text += " (the stream has no worker pod template: does the executor include the KubernetesExecutor?)"
                elif target.component is not None and seen:
                    text += f" (components in the stream: {', '.join(seen)})"
                self._note(Finding.warning(TARGET_MATCHED_NOTHING, text))


def _nearest(target: Target, seen: List[str]) -> Optional[str]:
    """The component label value in the stream a component target most likely meant: the one the
    stream has of api-server / webserver / web (one role, three names), else the closest spelling."""
    word = target.component
    if word is None or not seen:
        return None
    if word in WEB_COMPONENTS:
        same_role = [c for c in WEB_COMPONENTS if c in seen and c != word]
        if same_role:
            return same_role[0]
    close = difflib.get_close_matches(word, seen, n=1, cutoff=0.6)
    return close[0] if close else None
