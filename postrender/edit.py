"""The editing filter: one object in, its new value and its findings out.

`Editor.edit` is the only place that knows the per-object order of operations
(as kyaml's `kio.Filter`): a ConfigMap's embedded worker pod templates are
injected and their hashes remembered; a claim is noted; a workload is injected
and, when every ConfigMap it mounts is known, annotated so that it rolls. A
workload whose ConfigMaps are not known yet comes back `pending`; the driver
calls `Editor.roll` once they are. The stream pipeline and KRM mode both drive
this filter: neither knows what happens inside.

The filter finds the pod specs of an object through `sites`, notes what each object
tells about the stream in the run's `Ledger` (`ledger.py`), and hands back the
findings of each edit (`Edited.findings`, and those of `roll`) for the driver to
record. `splice` writes a new value into the text it was read from; an edit of a
repeated key comes back as a warning with the text. What needs the whole stream is
said by the end-of-stream checks (`checks.py`).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from ruamel.yaml.nodes import Node

from .claims import ClaimUsers, ClaimWriters, several_pods, writers
from .errors import InputError, Where, stream_line
from .findings import CLAIM_TEMPLATE_REMOVED, REPEATED_KEY_EDITED, UNREADABLE_POD_TEMPLATE, VOLUME_NOT_MOUNTED, Finding
from .inject import NOT_MOUNTED, Change, annotate_pod_template, inject_pod_spec, inject_pod_template
from .ledger import ConfigMapKey, Edited, Ledger
from .patch import AliasConflict, CannotSplice, DuplicateEdit, patch
from .seen import sha256_hex
from .sites import CLAIM_TEMPLATES, PodSite, embedded_templates, workload
from .spec import Spec, VolumeSpec
from .targets import (
    EARLY_HOOKS,
    LOGS_CLAIM,
    POD_SPEC_PATHS,
    ROLLED_KINDS,
    Site,
    components,
    dig,
    hook_of,
    is_airflow,
    object_identity,
    target_matches,
    volumes_for,
)
from .yamlio import node_of

ROLL_ANNOTATION = "checksum/postrender"
COMPONENTS_KEPT = 1000  # component label values noted for the warnings' hints (a stream has a dozen)


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


def splice(text: str, root: Optional[Node], new: Any, memo: Dict[int, Any], where: Where,
           first_line: Optional[int], what: str = "this document", offset: int = 0) -> Tuple[str, List[Finding]]:
    """`text` (read as the nodes `root`, `memo`) edited to say `new`, and a warning for each edit of
    a repeated key (`first_line`: where the nodes' lines stand in the stream, None when they are
    not stream lines, as in a quoted pod template; `offset`: the line of the nodes' text at which
    `text` starts, when they were read from a longer one)."""
    assert root is not None  # only a document that parsed is edited
    try:
        patched = patch(text, root, new, memo, offset)
    except AliasConflict as exc:
        lines = [("anchor", exc.anchor_line), ("alias", exc.alias_line)]
        named = " and ".join(f"{role} at line {_text_line(first_line, n, what)}" for role, n in lines if n is not None)
        raise InputError(f"cannot edit {what}: the edit would change what a YAML alias reads ({named})",
                         where.but(line=None, column=None),
                         hint="write the aliased value out in full where the volume goes") from None
    except CannotSplice as exc:
        raise InputError(f"cannot edit {what} in place ({exc})", where) from None
    return patched.text, repeated_key_warnings(patched.duplicates, where, first_line, what)


def _text_line(first_line: Optional[int], line: int, what: str) -> str:
    """A text's 0-based line as the user finds it: a stream line, or a line of `what` (None: not stream lines)."""
    return str(stream_line(0, line)) + f" of {what}" if first_line is None else str(stream_line(first_line, line))


def repeated_key_warnings(duplicates: Iterable[DuplicateEdit], where: Where, first_line: Optional[int],
                          what: str = "this document") -> List[Finding]:
    """What to say of edits to repeated keys of the text of `what` at `where` (`first_line`: where
    the text's lines stand in the stream, None when they are not stream lines, as in a quoted pod
    template)."""
    found = []
    for duplicate in duplicates:
        lines = " and ".join(str(stream_line(first_line or 0, n)) for n in duplicate.lines)
        if first_line is None:
            lines += f" of {what}"
        found.append(Finding.warning(
            REPEATED_KEY_EDITED, f"key {duplicate.key!r} is repeated (lines {lines}); edited its last occurrence, "
            "the one Helm and kubectl read, and left the earlier ones as they were", where.but(line=None, column=None)))
    return found


class Editor:
    """The editing filter of one run (see the module's docstring)."""

    def __init__(self, spec: Spec, ledger: Optional[Ledger] = None):
        self.spec = spec
        self.ledger = ledger if ledger is not None else Ledger()
        self.hook: Optional[str] = None  # the `helm.sh/hook` value of the object being edited

    def edit(self, data: Any, where: Where, root: Optional[Node] = None, first_line: int = 0,
             memo: Optional[Dict[int, Any]] = None) -> Edited:
        """Edit one object (`root`/`first_line`: its nodes and first stream line, for places in
        messages; `memo`: the value of each node, to say on which line a conflict stands)."""
        found: List[Finding] = []
        self.hook = hook_of(data)
        if self.hook is None:
            self.ledger.has_release_objects = True
        kind, name, namespace = object_identity(data)
        where = where.but(obj=f"{kind}/{name}")
        if kind == "ConfigMap":
            new = self._configmap(data, where, root, first_line, found)
            return Edited(new, where, found, configmap=(namespace, name))
        if kind == "PersistentVolumeClaim":
            modes = dig(data, ("spec", "accessModes"))
            # every declared claim counts (create: must not emit it twice), with or without accessModes
            self.ledger.declared_modes[name] = [str(m) for m in modes] if isinstance(modes, list) else []
            return Edited(None, where, found)
        place = workload(data)
        if place is None:
            return Edited(None, where, found)
        try:
            new = self._workload(data, place, where, found)
        except InputError as exc:
            raise _located(exc, root, memo, first_line) from None
        site = place.site
        current = new if new is not None else data
        refs = configmap_refs(dig(current, place.path), site.namespace) if site.kind in ROLLED_KINDS else set()
        seen = self.ledger.configmaps
        edited = Edited(new, where, found, site=site, refs=refs, pending={r for r in refs if r not in seen})
        if not edited.pending:
            edited.value = self._rolled(current, site, refs, where, found) or new
        return edited

    def roll(self, data: Dict[str, Any], edited: Edited) -> Edited:
        """A pending workload once its ConfigMaps are known (or known never to come), `data` being
        what `edit` was given: its final value (None when unchanged) and what rolling it found."""
        assert edited.site is not None
        edited.pending.clear()
        found: List[Finding] = []
        current = edited.value if edited.value is not None else data
        value = self._rolled(current, edited.site, edited.refs, edited.where, found) or edited.value
        return Edited(value, edited.where, found, site=edited.site, refs=edited.refs)

    # -- ConfigMaps with embedded worker pod templates ------------------------------------------
    def _configmap(self, data: Dict[str, Any], where: Where, root: Optional[Node], first_line: int,
                   found: List[Finding]) -> Optional[Dict[str, Any]]:
        """The ConfigMap with its pod templates injected, or None when nothing changes."""
        _, name, namespace = object_identity(data)
        new_values: Dict[str, str] = {}
        hashes: List[str] = []
        for place in embedded_templates(data, where, root, first_line):
            new_text = self._pod_template(place, found)
            if new_text is not None:
                assert place.template is not None
                new_values[place.template.key] = new_text
                hashes.append(sha256_hex(new_text.encode("utf-8")))
        self.ledger.configmaps.add((namespace, name), where.document or 0, tuple(hashes))
        if not new_values:
            return None
        return _replaced(data, ("data",), {**data["data"], **new_values})

    def _pod_template(self, place: PodSite, found: List[Finding]) -> Optional[str]:
        """A worker pod template's new text, or None when it does not change."""
        template, site = place.template, place.site
        assert template is not None
        if template.error is not None:
            exc = template.error
            # a worker pod template the spec targets must not be skipped silently: its pods would
            # run without the volume
            if self.spec.logs_claim or any(target_matches(t, site) for v in self.spec.volumes for t in v.targets):
                raise InputError(f"the worker pod template is not readable YAML: {exc.message}", exc.where,
                                 hint=exc.hint) from None
            found.append(Finding.warning(UNREADABLE_POD_TEMPLATE,
                                         f"looks like a pod template but is not readable YAML ({exc.message}); "
                                         "left unchanged", exc.where))
            return None
        self.ledger.templates += 1
        self.ledger.airflow = True
        volumes = volumes_for(site, place.pod, self.spec)
        if not volumes:
            return None
        # a quoted template's own lines are not the stream's: its errors stand on its key's line
        at = template.where.but(obj=f"ConfigMap/{site.configmap}")
        try:
            new_pod, changes = inject_pod_template(place.pod, volumes,
                                                   at if template.block else at.but(line=template.first_line + 1))
        except InputError as exc:
            raise (_located(exc, template.root, template.memo, template.first_line) if template.block else exc) \
                from None
        self._account(site, volumes, changes, template.where, new_pod, found)
        if not any(change.edit for change in changes):
            return None
        text, duplicates = splice(template.text, template.root, _replaced(template.value, place.path, new_pod),
                                  template.memo or {}, template.where,
                                  template.first_line if template.block else None, "the embedded pod template")
        found += duplicates
        return text

    # -- workloads ----------------------------------------------------------------------------------
    def _workload(self, data: Dict[str, Any], place: PodSite, where: Where,
                  found: List[Finding]) -> Optional[Dict[str, Any]]:
        """The workload with its volumes injected, or None when unchanged."""
        site = place.site
        if self.hook is not None:
            self.ledger.hook_workloads = True
        if len(self.ledger.components) < COMPONENTS_KEPT:
            self.ledger.components.update(components(site))
        if not self.ledger.airflow and is_airflow(site):
            self.ledger.airflow = True
        templates = place.claim_templates
        if templates is not None and not isinstance(templates, list):
            raise InputError("`volumeClaimTemplates` must be a list", where)
        volumes = volumes_for(site, place.pod, self.spec, templates)
        if not volumes:
            return None
        new_pod, new_templates, changes = inject_pod_spec(place.pod, volumes, where, templates)
        self._account(site, volumes, changes, where, new_pod, found, several_pods(site.kind, data))
        if not changes:
            return None
        new_data = _replaced(data, place.path, new_pod)
        if templates is not None:
            new_data = _replaced(new_data, CLAIM_TEMPLATES, new_templates)
        return new_data

    def _rolled(self, data: Dict[str, Any], site: Site, refs: Set[ConfigMapKey], where: Where,
                found: List[Finding]) -> Optional[Dict[str, Any]]:
        """The workload with the roll annotation, or None when no template it mounts changed."""
        document = where.document or 0
        hashes = sorted(h for ref in refs for h in self.ledger.configmaps.hashes_for(ref, document))
        if not hashes:
            return None
        value = hashes[0] if len(hashes) == 1 else sha256_hex("\n".join(hashes).encode())
        meta_path = POD_SPEC_PATHS[site.kind][:-1] + ("metadata",)
        metadata = dig(data, meta_path)
        if dig(metadata, ("annotations", ROLL_ANNOTATION)) == value:
            return None
        new_data = _replaced(data, meta_path, annotate_pod_template(metadata, ROLL_ANNOTATION, value, where))
        found.append(Finding.change("annotated", Where(document=document, obj=site.label),
                                    detail=f"{ROLL_ANNOTATION}={value}"))
        return new_data

    # -- bookkeeping for the report and the warnings ------------------------------------------------
    def _account(self, site: Site, volumes: List[VolumeSpec], changes: List[Change], where: Where,
                 pod: Any, found: List[Finding], several: Optional[str] = None) -> None:
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
            if self.hook is None:
                ledger.release_claims.add(volume.claim)
            else:
                ledger.hook_users.setdefault(volume.claim, ClaimUsers()).add(f"{self.hook} hook {site.label}")
                if EARLY_HOOKS.intersection(phase.strip() for phase in self.hook.split(",")):
                    ledger.early_claims.add(volume.claim)
            for writer in writers(site.label, pod, volume.claim):
                ledger.writers.setdefault(volume.claim, ClaimWriters()).add(writer)
        place = Where(document=where.document or 0, obj=label, key=site.key)
        for change in changes:
            if change.action == NOT_MOUNTED:
                found.append(Finding.warning(VOLUME_NOT_MOUNTED,
                                             f"volume {change.volume!r} is added but will not be mounted: "
                                             f"{change.detail}; add {change.container!r} to them",
                                             Where(obj=site.label)))
                continue
            found.append(Finding.change(change.action, place.but(container=change.container), change.volume,
                                        change.detail))
            if change.action == "removed-claim-template":
                found.append(Finding.warning(
                    CLAIM_TEMPLATE_REMOVED,
                    f"removed volumeClaimTemplate {change.volume!r} ({change.detail}). volumeClaimTemplates "
                    f"is immutable on a live StatefulSet, so `helm upgrade` will fail on it: first run "
                    f"`kubectl delete statefulset {site.name} --cascade=orphan` (its pods keep running and are "
                    f"adopted by the new StatefulSet), and once the logs are migrated delete the old claims "
                    f"`{change.volume}-{site.name}-<ordinal>`", Where(obj=site.label)))
