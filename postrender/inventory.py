"""Inspect (`--inspect`): what a render holds that postrender can target.

Lists the worker pod templates embedded in ConfigMaps (ConfigMap, key) and
the workloads (Kind/name, component label), each with its containers
(regular and init), its volumes and what backs them (emptyDir, a claim, a
volumeClaimTemplate, a ConfigMap, a Secret, ...), every container's
mounts (volume, mountPath, subPath, readOnly), and who the pod runs as (each
container's user and group, the pod's fsGroup and supplementalGroups: what
decides whether pods can write each other's files on a shared claim). Claims
declared in the stream are listed too. `table` is for people, `json` for scripts.

Nothing is changed and no spec is needed: this is what you look at before
writing one (which volume holds the logs, which component label the
scheduler carries, which ConfigMap holds the template). Given a spec (`-c`,
`--logs-claim`, `--volume`), it also shows where each volume would go (the
pod specs and containers, as `targets.volumes_for` and the volume's
`containers` choose them) and what a run would warn about or fail on (the
real pipeline runs over the stream, its output dropped).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple

from .claims import pod_groups, run_as
from .errors import PostrenderError, Where
from .findings import Finding, printable, report_entry, stderr_line
from .inject import TASK_CONTAINER
from .krm import KIND as RESOURCE_LIST
from .pipeline import transform_in_one_process
from .read import Stream
from .sites import pod_sites
from .spec import Spec, VolumeSpec
from .targets import COMPONENT_LABELS, Site, dig, is_candidate, object_identity, volumes_for
from .yamlio import compose, to_data


# -- the model --------------------------------------------------------------------------------------
@dataclass
class PodView:
    """One pod spec: a workload's, or a worker pod template's."""

    kind: str  # the workload kind, or "ConfigMap" for an embedded pod template
    name: str
    namespace: Optional[str]
    document: int
    component: Optional[str] = None
    key: Optional[str] = None  # the ConfigMap data key of an embedded template
    containers: List[Dict[str, Any]] = field(default_factory=list)
    volumes: List[Dict[str, Any]] = field(default_factory=list)
    problem: Optional[str] = None  # why the pod could not be read (left out of the details)
    # the pod's securityContext: runAsUser, runAsGroup (None: the image's default), fsGroup (None: none)
    user: Optional[int] = None
    group: Optional[int] = None
    fs_group: Optional[int] = None
    supplemental_groups: List[int] = field(default_factory=list)
    gets: List["Injection"] = field(default_factory=list)  # what the spec would put here (with a spec)

    @property
    def airflow_containers(self) -> bool:
        """A worker pod template without regular containers: Airflow supplies its task container `base`."""
        return self.key is not None and self.problem is None and not any(
            not c.get("init") for c in self.containers)

    @property
    def label(self) -> str:
        if self.key is not None:
            return f"ConfigMap/{self.name} key {self.key}"
        return f"{self.kind}/{self.name}"

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.key is not None:
            out = {"configMap": self.name, "key": self.key}
        if self.namespace is not None:
            out["namespace"] = self.namespace
        out["document"] = self.document
        out["component"] = self.component
        if self.problem is not None:
            out["problem"] = self.problem
        if self.airflow_containers:
            out["containersSuppliedByAirflow"] = True
        if self.problem is None:
            out.update(runAsUser=self.user, runAsGroup=self.group, fsGroup=self.fs_group,
                       supplementalGroups=self.supplemental_groups)
        out["containers"] = self.containers
        out["volumes"] = self.volumes
        return out


@dataclass
class Injection:
    """A volume of the spec and the containers it would be mounted in, at one pod spec."""

    volume: VolumeSpec
    containers: List[str]  # `base` (a stub) for a worker pod template whose containers Airflow supplies

    def as_dict(self) -> Dict[str, Any]:
        return {"volume": self.volume.name, "claimName": self.volume.claim, "mountPath": self.volume.mount_path,
                "containers": self.containers}


@dataclass
class Inventory:
    templates: List[PodView] = field(default_factory=list)
    workloads: List[PodView] = field(default_factory=list)
    claims: List[Dict[str, Any]] = field(default_factory=list)
    lists: int = 0  # `kind: List` documents (their items are not looked into)
    spec: Optional[Spec] = None  # given: where its volumes go, and what a run says
    findings: List[Finding] = field(default_factory=list)  # a run's warnings
    error: Optional[Finding] = None  # why a run would fail

    @property
    def views(self) -> List[PodView]:
        return self.templates + self.workloads

    def placed(self) -> List[Tuple[VolumeSpec, List[Tuple[PodView, Injection]]]]:
        """Each volume (the spec's in order, then those --logs-claim found) with where it would go."""
        assert self.spec is not None
        order: Dict[Tuple[str, str], VolumeSpec] = {(v.name, v.claim): v for v in self.spec.volumes}
        places: Dict[Tuple[str, str], List[Tuple[PodView, Injection]]] = {key: [] for key in order}
        for view in self.views:
            for injection in view.gets:
                key = (injection.volume.name, injection.volume.claim)
                order.setdefault(key, injection.volume)
                places.setdefault(key, []).append((view, injection))
        return [(volume, places[key]) for key, volume in order.items()]

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"podTemplates": [t.as_dict() for t in self.templates],
                               "workloads": [w.as_dict() for w in self.workloads],
                               "claims": self.claims}
        if self.spec is not None:
            out["volumes"] = [{"name": volume.name, "claimName": volume.claim, "mountPath": volume.mount_path,
                               "targets": [t.describe() for t in volume.targets],
                               "injectedInto": [{**_place(view), "containers": injection.containers}
                                                for view, injection in places]}
                              for volume, places in self.placed()]
            out["warnings"] = [report_entry(f) for f in self.findings]
            out["error"] = report_entry(self.error) if self.error is not None else None
        return out


def _place(view: PodView) -> Dict[str, Any]:
    place: Dict[str, Any] = {"object": f"{view.kind}/{view.name}"}
    if view.key is not None:
        place["key"] = view.key
    if view.namespace is not None:
        place["namespace"] = view.namespace
    place["document"] = view.document
    return place


# -- reading ----------------------------------------------------------------------------------------
def _list(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def component_of(site: Site) -> Optional[str]:
    """The component label value of a site: a workload's own labels first, then its pods'; a
    template's own labels (not its ConfigMap's)."""
    for labels in (site.pod_labels,) if site.configmap is not None else (site.labels, site.pod_labels):
        for key in COMPONENT_LABELS:
            if key in labels:
                return labels[key]
    return None


def describe_source(volume: Dict[str, Any]) -> Dict[str, Any]:
    """What backs a volume: {"type": ..., plus the fields that say which one}."""
    sources = [k for k, v in volume.items() if k != "name" and v is not None]
    if not sources:
        return {"type": "emptyDir"}  # a volume with no source is an emptyDir (API default)
    kind = sources[0]
    value = volume[kind]
    out: Dict[str, Any] = {"type": kind}
    if not isinstance(value, dict):
        return out
    if kind == "persistentVolumeClaim":
        out["claimName"] = value.get("claimName")
        if value.get("readOnly"):
            out["readOnly"] = True
    elif kind == "configMap":
        out["configMap"] = value.get("name")
    elif kind == "secret":
        out["secretName"] = value.get("secretName")
    elif kind == "emptyDir":
        for key in ("medium", "sizeLimit"):
            if value.get(key):
                out[key] = value[key]
    elif kind == "hostPath":
        out["path"] = value.get("path")
    elif kind == "nfs":
        out["server"], out["path"] = value.get("server"), value.get("path")
    elif kind == "csi":
        out["driver"] = value.get("driver")
    elif kind == "ephemeral":
        claim = dig(value, ("volumeClaimTemplate", "spec"))
        out.update(_claim_summary(claim))
    elif kind == "projected":
        parts = []
        for source in _list(value.get("sources")):
            for sub, detail in source.items():
                name = detail.get("name") if isinstance(detail, dict) else None
                parts.append(f"{sub} {name}" if name else sub)
        out["sources"] = parts
    return {k: v for k, v in out.items() if v is not None}


def _claim_summary(claim_spec: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if not isinstance(claim_spec, dict):
        return out
    storage = dig(claim_spec, ("resources", "requests", "storage"))
    if storage is not None:
        out["storage"] = str(storage)
    if isinstance(claim_spec.get("accessModes"), list):
        out["accessModes"] = [str(m) for m in claim_spec["accessModes"]]
    if claim_spec.get("storageClassName") is not None:
        out["storageClassName"] = claim_spec["storageClassName"]
    return out


def _mounts(container: Dict[str, Any]) -> List[Dict[str, Any]]:
    mounts = []
    for mount in _list(container.get("volumeMounts")):
        item: Dict[str, Any] = {"volume": mount.get("name"), "mountPath": mount.get("mountPath")}
        if mount.get("subPath"):
            item["subPath"] = mount["subPath"]
        item["readOnly"] = bool(mount.get("readOnly"))
        mounts.append(item)
    return mounts


def read_pod(view: PodView, pod_spec: Any, claim_templates: Any = None) -> PodView:
    if not isinstance(pod_spec, dict):
        view.problem = "no pod spec"
        return view
    view.user, view.group = run_as(pod_spec, {})
    view.fs_group, supplemental = pod_groups(pod_spec)
    view.supplemental_groups = list(supplemental)
    for key, init in (("initContainers", True), ("containers", False)):
        for container in _list(pod_spec.get(key)):
            user, group = run_as(pod_spec, container)  # what it runs as: its own securityContext, else the pod's
            view.containers.append({"name": container.get("name"), "init": init, "mounts": _mounts(container),
                                    "runAsUser": user, "runAsGroup": group})
    for volume in _list(pod_spec.get("volumes")):
        view.volumes.append({"name": volume.get("name"), **describe_source(volume)})
    for template in _list(claim_templates):
        name = dig(template, ("metadata", "name"))
        view.volumes.append({"name": name, "type": "volumeClaimTemplate", **_claim_summary(template.get("spec"))})
    return view


def _injections(view: PodView, site: Site, pod: Any, spec: Spec, claim_templates: Any = None) -> List[Injection]:
    """What the spec would put into this pod spec: each volume, and the containers that would mount it."""
    found = []
    for volume in volumes_for(site, pod, spec, claim_templates):
        # a volume that names no container (--logs-claim's own logs volume) keeps the mounts it has
        names = [str(c.get("name")) + (" (init)" if c.get("init") else "") for c in view.containers
                 if volume.selects_container(str(c.get("name")), init=bool(c.get("init")))
                 or not volume.containers and any(m.get("volume") == volume.name for m in c["mounts"])]
        if view.airflow_containers and volume.selects_container(TASK_CONTAINER, init=False):
            names.append(TASK_CONTAINER)  # the stub a run adds for the task container Airflow supplies
        found.append(Injection(volume, names))
    return found


def _objects(source: BinaryIO, found: "Inventory") -> Iterator[Tuple[int, Any]]:
    """(document number, value) of every object that may hold a pod; a ResourceList's items too (KRM input)."""
    for chunk in Stream(source):
        if chunk.blank or not is_candidate(chunk.raw):
            if not chunk.blank and b"List" in chunk.raw and object_identity(_data(chunk))[0] == "List":
                found.lists += 1
            continue
        text = chunk.text()
        data = to_data(compose(text, chunk.where, chunk.first_line), chunk.where, chunk.first_line)
        kind, _, _ = object_identity(data)
        if kind == RESOURCE_LIST:
            for item in _list(data.get("items")):
                yield chunk.index, item
        else:
            yield chunk.index, data


def _data(chunk: Any) -> Any:
    return to_data(compose(chunk.text(), chunk.where, chunk.first_line), chunk.where, chunk.first_line)


def inventory(source: BinaryIO, spec: Optional[Spec] = None) -> Inventory:
    found = Inventory(spec=spec)
    for document, data in _objects(source, found):
        kind, name, namespace = object_identity(data)
        if kind == "PersistentVolumeClaim":
            found.claims.append({"name": name, **({"namespace": namespace} if namespace else {}),
                                 "document": document, **_claim_summary(data.get("spec"))})
            continue
        for place in pod_sites(data, Where(document=document, obj=f"{kind}/{name}")):
            site = place.site
            if place.template is None:
                view = PodView(site.kind, name, namespace, document, component=component_of(site))
                found.workloads.append(read_pod(view, place.pod, place.claim_templates))
                if spec is not None and view.problem is None:
                    view.gets = _injections(view, site, place.pod, spec, place.claim_templates)
                continue
            view = PodView("ConfigMap", name, namespace, document, key=site.key)
            if place.template.error is not None:
                view.problem = f"not readable YAML: {place.template.error.message}"
                found.templates.append(view)
                continue
            view.component = component_of(site)
            # the spec may be missing: Airflow supplies the containers
            found.templates.append(read_pod(view, {} if place.pod is None else place.pod))
            if spec is not None:
                view.gets = _injections(view, site, place.pod, spec)
    return found


def run_findings(data: bytes, spec: Spec) -> Tuple[List[Finding], Optional[Finding]]:
    """What a run of `spec` over `data` would say: its warnings, and its error (None when it succeeds)."""
    try:
        output, ledger = transform_in_one_process(io.BytesIO(data), spec, report_changes=False)
    except PostrenderError as exc:
        return [], exc.finding
    output.close()
    return ledger.warnings, None


# -- writing ----------------------------------------------------------------------------------------
def source_text(volume: Dict[str, Any], templates: Dict[str, str]) -> str:
    """A volume's backing in a few words: `persistentVolumeClaim airflow-log-pvc`."""
    kind = volume.get("type", "")
    if kind == "persistentVolumeClaim":
        text = f"persistentVolumeClaim {volume.get('claimName')}" + (" (read-only)" if volume.get("readOnly") else "")
    elif kind == "configMap":
        name = volume.get("configMap")
        text = f"configMap {name}"
        if name in templates:
            text += f" (holds the pod template, key {templates[name]})"
    elif kind == "secret":
        text = f"secret {volume.get('secretName')}"
    elif kind in ("volumeClaimTemplate", "ephemeral"):
        bits: List[Any] = [volume.get("storage"), ",".join(volume.get("accessModes") or []) or None,
                volume.get("storageClassName")]
        text = kind + (" " + " ".join(b for b in bits if b) if any(bits) else "")
    elif kind == "emptyDir":
        bits = [f"{k}={volume[k]}" for k in ("medium", "sizeLimit") if k in volume]
        text = "emptyDir" + (" " + " ".join(bits) if bits else "")
    elif kind == "hostPath":
        text = f"hostPath {volume.get('path')}"
    elif kind == "nfs":
        text = f"nfs {volume.get('server')}:{volume.get('path')}"
    elif kind == "csi":
        text = f"csi {volume.get('driver')}"
    elif kind == "projected":
        text = "projected: " + ", ".join(volume.get("sources") or [])
    else:
        text = kind
    return text


def _table(rows: List[List[str]], indent: str = "    ") -> List[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [(indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths))).rstrip() for row in rows]


def _id_text(value: Optional[int]) -> str:
    return "image default" if value is None else str(value)


def _runs_as(view: PodView) -> str:
    """`runs as user 50000, group 0, fsGroup 0`: the pod's main identity (its first regular container's,
    else the pod's own), then each container that runs as someone else."""
    regular = [c for c in view.containers if not c.get("init")]
    first = regular[0] if regular else {"runAsUser": view.user, "runAsGroup": view.group}
    main = (first.get("runAsUser"), first.get("runAsGroup"))
    text = f"    runs as user {_id_text(main[0])}, group {_id_text(main[1])}, fsGroup "
    text += "none" if view.fs_group is None else str(view.fs_group)
    if view.supplemental_groups:
        text += ", supplementalGroups " + ",".join(str(g) for g in view.supplemental_groups)
    others = [c for c in view.containers if (c.get("runAsUser"), c.get("runAsGroup")) != main]
    for container in others:
        text += (f"; {container.get('name')}{' (init)' if container.get('init') else ''}: user "
                 f"{_id_text(container.get('runAsUser'))}, group {_id_text(container.get('runAsGroup'))}")
    return text


def _pod_lines(view: PodView, templates: Dict[str, str]) -> List[str]:
    lines: List[str] = []
    if view.problem:
        return [f"    ({view.problem})"]
    lines.append(_runs_as(view))
    volumes = [["VOLUME", "BACKED BY"]]
    for volume in view.volumes:
        volumes.append([str(volume.get("name")), source_text(volume, templates)])
    lines += _table(volumes) if len(volumes) > 1 else ["    (no volumes)"]
    mounts = [["CONTAINER", "VOLUME", "MOUNT PATH", "SUBPATH", "RO"]]
    known = {volume.get("name") for volume in view.volumes}
    for container in view.containers:
        name = str(container.get("name")) + (" (init)" if container.get("init") else "")
        if not container["mounts"]:
            mounts.append([name, "-", "", "", ""])
        for mount in container["mounts"]:
            shown = str(mount.get("volume")) + ("" if mount.get("volume") in known else " (no such volume!)")
            mounts.append([name, shown, str(mount.get("mountPath")), mount.get("subPath", ""),
                           "ro" if mount.get("readOnly") else ""])
    lines.append("")
    lines += _table(mounts) if len(mounts) > 1 else [] if view.airflow_containers else ["    (no containers)"]
    if view.airflow_containers:
        lines.append("    (containers supplied by Airflow: the task container `base`)")
    return lines


def _namespace(view: PodView) -> str:
    return f"  namespace {view.namespace}" if view.namespace else ""


def table(found: Inventory) -> str:
    templates = {t.name: t.key or "" for t in found.templates}
    lines: List[str] = []
    lines.append(f"WORKER POD TEMPLATES ({len(found.templates)})")
    if not found.templates and found.lists:
        lines.append("  none seen: the stream holds a `kind: List`, and postrender does not look inside a List "
                     "(feed it the List's items as documents)")
    elif not found.templates:
        lines.append("  none: no ConfigMap value holds a `kind: Pod` (the executor does not include Kubernetes?)")
    for view in found.templates:
        lines.append("")
        lines.append(f"  ConfigMap/{view.name}  key {view.key}{_namespace(view)}  (document {view.document})")
        lines += _pod_lines(view, templates)
    lines.append("")
    lines.append(f"WORKLOADS ({len(found.workloads)})")
    for view in found.workloads:
        lines.append("")
        component = f"component {view.component}" if view.component else "no component label"
        lines.append(f"  {view.kind}/{view.name}  {component}{_namespace(view)}  (document {view.document})")
        lines += _pod_lines(view, templates)
    if found.claims:
        lines.append("")
        lines.append(f"CLAIMS IN THE STREAM ({len(found.claims)})")
        rows = [["CLAIM", "SIZE", "ACCESS MODES", "CLASS"]]
        for claim in found.claims:
            rows.append([str(claim["name"]), claim.get("storage", ""), ",".join(claim.get("accessModes", [])),
                         str(claim.get("storageClassName", ""))])
        lines += _table(rows, "  ")
    if found.spec is not None:
        lines += [""] + spec_lines(found)
    return "\n".join(lines)


def spec_lines(found: Inventory) -> List[str]:
    """Where each volume of the spec would go, and what a run would say."""
    lines = ["WHERE THE SPEC PUTS EACH VOLUME"]
    for volume, places in found.placed():
        lines.append("")
        targets = ", ".join(t.describe() for t in volume.targets) or "the Airflow logs volume, --logs-claim"
        lines.append(f"  {volume.name}: claim {volume.claim} at {volume.mount_path}  (targets: {targets})")
        rows = [["INTO", "CONTAINERS"]]
        for view, injection in places:
            rows.append([view.label, ", ".join(injection.containers) or "(none: added, not mounted)"])
        lines += _table(rows) if len(rows) > 1 else ["    matches nothing in this stream"]
    if found.error is not None:
        lines += ["", "A RUN WOULD FAIL", "  " + stderr_line(found.error)]
    if found.findings:
        lines += ["", f"A RUN WOULD WARN ({len(found.findings)})"] + ["  " + stderr_line(f) for f in found.findings]
    return lines


def inspect_stream(source: BinaryIO, output_format: str = "table", spec: Optional[Spec] = None) -> str:
    """The inventory of a rendered stream, as a table or as JSON (with `spec`: where its volumes go
    and what a run would say)."""
    return inspection(source, output_format, spec)[0]


def inspection(source: BinaryIO, output_format: str = "table", spec: Optional[Spec] = None) -> Tuple[str, Inventory]:
    """`inspect_stream`'s text, and the inventory itself (its run's findings for stderr)."""
    if spec is None:
        found = inventory(source)
    else:
        data = source.read()
        found = inventory(io.BytesIO(data), spec)
        found.findings, found.error = run_findings(data, spec)
    if output_format == "json":
        return json.dumps(found.as_dict(), indent=2, default=str), found  # a number kept as text (yamlio.Plain)
    return printable(table(found)), found
