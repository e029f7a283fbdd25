"""Inject step: a pure function from (pod spec, volume specs) to a new pod spec.

No I/O and no YAML here: plain dicts and lists in, plain dicts and lists out,
plus the list of changes made. Inputs are never modified: what changes is
copied (copy-on-write), so an unchanged part of the result *is* the input's
part, which the writer recognises at once. This is the whole of the contract's
"what an injection does" (points 1, 2, 3 and 5); the annotation of point 4
is `annotate_pod_template`. `inject_pod_template` is the same for an embedded
worker pod template, which may leave its containers to Airflow.
"""
from __future__ import annotations

import posixpath
from typing import Any, Dict, List, Optional, Tuple

from .errors import InputError, Where
from .records import Record
from .spec import VolumeSpec


class Change(Record):
    """One thing the injection did, for the report and the warnings."""

    __slots__ = ("action", "volume", "container", "detail")

    def __init__(self, action: str, volume: Optional[str] = None, container: Optional[str] = None,
                 detail: Optional[str] = None) -> None:
        # added | replaced | updated-mount | added-mount | repointed-mount | removed-claim-template
        # | added-container | annotated, or the note not-mounted (nothing changed: a warning)
        self.action = action
        self.volume = volume
        self.container = container
        self.detail = detail

    @property
    def edit(self) -> bool:
        """Did this change the pod? (A note only says what could not be done.)"""
        return self.action != NOT_MOUNTED


NOT_MOUNTED = "not-mounted"
# The task container Airflow's pod generator builds for every task (`pod_generator.construct_pod`).
TASK_CONTAINER = "base"


def desired_volume(spec: VolumeSpec) -> Dict[str, Any]:
    claim: Dict[str, Any] = {"claimName": spec.claim}
    if spec.read_only:
        claim["readOnly"] = True
    return {"name": spec.name, "persistentVolumeClaim": claim}


def _volume_is(volume: Any, spec: VolumeSpec) -> bool:
    """Does this existing volume already say what the spec asks (null, absent and false alike)?"""
    if not isinstance(volume, dict):
        return False
    sources = {k: v for k, v in volume.items() if k != "name" and v is not None}
    claim = sources.get("persistentVolumeClaim")
    return (set(sources) == {"persistentVolumeClaim"} and isinstance(claim, dict)
            and claim.get("claimName") == spec.claim and bool(claim.get("readOnly")) == spec.read_only
            and not set(k for k, v in claim.items() if v is not None) - {"claimName", "readOnly"})


def _same_path(a: Any, b: str) -> bool:
    return isinstance(a, str) and posixpath.normpath(a) == b


def _list(parent: Dict[str, Any], key: str, where: Where) -> List[Any]:
    """parent[key] as a list to edit; null or absent is an empty list, anything else an error."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"`{key}` must be a list, not {type(value).__name__}", where, subject=value)
    return value


def _named(items: List[Any], where: Where, what: str) -> None:
    for item in items:
        if not isinstance(item, dict):
            raise InputError(f"every item of {what} must be a mapping", where, subject=item)


def inject_pod_spec(
    pod_spec: Any,
    volumes: List[VolumeSpec],
    where: Where,
    claim_templates: Optional[List[Any]] = None,
) -> Tuple[Dict[str, Any], Optional[List[Any]], List[Change]]:
    """Return (new pod spec, new volumeClaimTemplates or None, changes). Inputs are not modified."""
    if not isinstance(pod_spec, dict):
        raise InputError("the pod spec must be a mapping", where)
    pod = dict(pod_spec)
    templates = list(claim_templates) if claim_templates is not None else None
    changes: List[Change] = []
    containers = _list(pod, "containers", where)
    if not containers:
        raise InputError("targeted pod spec has no containers (it is not a valid pod)", where)
    init_containers = _list(pod, "initContainers", where)
    _named(containers, where, "containers")
    _named(init_containers, where, "initContainers")
    # copies that _mount may change; put back only where something changed
    containers = [dict(c) for c in containers]
    init_containers = [dict(c) for c in init_containers]

    # Two volumes mounted at one path in one container contradict each other: the later would
    # re-point the earlier's mount, and the next run would find a conflict there (not idempotent).
    mounted_at: Dict[Tuple[int, str], str] = {}
    for spec in volumes:
        for container in _chosen(spec, containers, init_containers):
            other = mounted_at.setdefault((id(container), spec.mount_path), spec.name)
            if other != spec.name:
                raise InputError(f"volumes {other!r} and {spec.name!r} would both be mounted at {spec.mount_path}",
                                 where.but(container=str(container.get("name"))),
                                 hint="give them different mountPaths, targets or containers in the spec")

    for spec in volumes:
        _inject_volume(pod, spec, where, changes)
        if templates:
            templates = _drop_claim_template(templates, spec, where, changes)
        for container in _chosen(spec, containers, init_containers):
            _mount(container, spec, where.but(container=str(container.get("name"))), changes)
    for key, copies in (("containers", containers), ("initContainers", init_containers)):
        originals = pod_spec.get(key) or []
        merged = [copy_ if copy_ != original else original for copy_, original in zip(copies, originals)]
        if any(new is not old for new, old in zip(merged, originals)):
            pod[key] = merged
    if templates is not None and not templates:
        templates = None  # the chart drops the whole key when no claim template is left
    return pod, templates, changes


def inject_pod_template(pod_spec: Any, volumes: List[VolumeSpec], where: Where) -> Tuple[Dict[str, Any], List[Change]]:
    """`inject_pod_spec` for an embedded worker pod template: (new pod spec, changes).

    Unlike a workload's, a template's spec may be missing or null or have no containers (contract
    point 5): Airflow merges the template into the pod it builds for each task, and a template
    without containers simply leaves the task container `base` as the executor made it, while a
    template's first container is merged into `base`, its `volumeMounts` extending base's
    (`reconcile_specs` / `reconcile_containers`). So the mounts go on a stub container `base`
    that carries nothing else. A volume whose `containers` exclude `base` is added without a
    mount, and a `not-mounted` note says so. Once the stub is there it is a container like any
    other: a second run finds the mounts in place and changes nothing.
    """
    if pod_spec is None:
        pod_spec = {}
    if not isinstance(pod_spec, dict) or _list(pod_spec, "containers", where):
        new, _, changes = inject_pod_spec(pod_spec, volumes, where)
        return new, changes
    mounted = [v for v in volumes if v.selects_container(TASK_CONTAINER, init=False)]
    new, _, changes = inject_pod_spec({**pod_spec, "containers": [{"name": TASK_CONTAINER}]}, volumes, where)
    if mounted:
        changes.insert(0, Change("added-container", container=TASK_CONTAINER,
                                 detail="only the mounts"))
    else:  # nothing to merge into the task container: no stub, the containers stay as they were
        if "containers" in pod_spec:
            new["containers"] = pod_spec["containers"]
        else:
            del new["containers"]
    changes += [Change(NOT_MOUNTED, v.name, TASK_CONTAINER,
                       f"its `containers` do not select {TASK_CONTAINER!r}, the task container Airflow supplies "
                       "to a pod template without containers")
                for v in volumes if v not in mounted]
    return new, changes


def _chosen(spec: VolumeSpec, containers: List[Dict[str, Any]],
            init_containers: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The containers a volume is mounted in: matching regular ones, and init ones it names."""
    return ([c for c in containers if spec.selects_container(str(c.get("name")), init=False)]
            + [c for c in init_containers if spec.selects_container(str(c.get("name")), init=True)])


def _inject_volume(pod: Dict[str, Any], spec: VolumeSpec, where: Where, changes: List[Change]) -> None:
    volumes = list(_list(pod, "volumes", where))
    _named(volumes, where, "volumes")
    same_name = [i for i, v in enumerate(volumes) if v.get("name") == spec.name]
    wanted = desired_volume(spec)
    if not same_name:
        volumes.append(wanted)
        pod["volumes"] = volumes
        changes.append(Change("added", spec.name, detail=f"claim {spec.claim}"))
        return
    first = same_name[0]
    if len(same_name) == 1 and _volume_is(volumes[first], spec):
        return
    if not spec.replace:
        current = ", ".join(k for k in volumes[first] if k != "name") or "nothing"
        raise InputError(
            f"volume {spec.name!r} already exists backed by {current}",
            where, hint=f"set `replace: true` on volume {spec.name!r} to put it on claim {spec.claim}",
            subject=volumes[first])
    # keep the volume's place and its other keys' order: name first, as the chart writes it
    volumes[first] = wanted
    for index in reversed(same_name[1:]):
        del volumes[index]
    pod["volumes"] = volumes
    changes.append(Change("replaced", spec.name, detail=f"claim {spec.claim}"))


def _drop_claim_template(templates: List[Any], spec: VolumeSpec, where: Where, changes: List[Change]) -> List[Any]:
    def named(t: Any) -> bool:
        return isinstance(t, dict) and isinstance(t.get("metadata"), dict) and t["metadata"].get("name") == spec.name

    defined = next((t for t in templates if named(t)), None)
    if defined is None:
        return templates
    if not spec.replace:
        raise InputError(f"volumeClaimTemplates already define {spec.name!r}", where,
                         hint=f"set `replace: true` on volume {spec.name!r} to use claim {spec.claim} instead",
                         subject=defined)
    changes.append(Change("removed-claim-template", spec.name, detail=f"now on claim {spec.claim}"))
    return [t for t in templates if not named(t)]


def _mount(container: Dict[str, Any], spec: VolumeSpec, where: Where, changes: List[Change]) -> None:
    mounts = list(_list(container, "volumeMounts", where))
    _named(mounts, where, "volumeMounts")
    at_path = [i for i, m in enumerate(mounts) if _same_path(m.get("mountPath"), spec.mount_path)]
    if not at_path:
        mount: Dict[str, Any] = {"name": spec.name, "mountPath": spec.mount_path}
        if spec.read_only:
            mount["readOnly"] = True
        if spec.sub_path:
            mount["subPath"] = spec.sub_path
        mounts.append(mount)
        container["volumeMounts"] = mounts
        changes.append(Change("added-mount", spec.name, where.container, spec.mount_path))
        return
    for index in at_path:
        original = mounts[index]
        mount = mounts[index] = dict(original)
        repoint = mount.get("name") != spec.name
        if repoint and not spec.replace:
            raise InputError(
                f"volume {mount.get('name')!r} is already mounted at {spec.mount_path}", where,
                hint=f"set `replace: true` on volume {spec.name!r} to mount it there instead", subject=original)
        before = dict(mount)
        mount["name"] = spec.name
        _set_or_drop(mount, "readOnly", True if spec.read_only else None, keep_false=not spec.read_only)
        _set_or_drop(mount, "subPath", spec.sub_path)
        if before != mount:
            action = "repointed-mount" if repoint else "updated-mount"
            changes.append(Change(action, spec.name, where.container, spec.mount_path))
            container["volumeMounts"] = mounts


def _set_or_drop(mount: Dict[str, Any], key: str, value: Any, keep_false: bool = False) -> None:
    if value is not None:
        mount[key] = value
    elif key in mount and mount[key] not in (None, "") and not (keep_false and mount[key] is False):
        del mount[key]


def annotate_pod_template(metadata: Any, key: str, value: str, where: Where) -> Dict[str, Any]:
    """Pod-template metadata with one annotation set (creating `annotations` if needed)."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InputError("the pod template's metadata must be a mapping", where)
    result = dict(metadata)
    annotations = result.get("annotations")
    if annotations is None:
        annotations = {}
    if not isinstance(annotations, dict):
        raise InputError("annotations must be a mapping", where)
    annotations = dict(annotations)
    annotations[key] = value
    result["annotations"] = annotations
    return result
