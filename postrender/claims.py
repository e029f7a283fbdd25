"""Claims: the ones the spec asks to create (`create:`), and who writes to the ones it mounts.

Created claims: one PersistentVolumeClaim per claim name, appended after every
other object, and only for a claim that some volume of the spec was injected
into (or already found in) an object of this stream, never into a stream whose
every object is a Helm hook: Helm 4.2's SDK `separate` post-render strategy runs
the post-renderer once on the hooks and once on the rest, and the claim belongs
to the rest. An empty stream gets none (with `kubectl apply --prune`, a claim
out of nowhere is as wrong as one missing). Each carries
`helm.sh/resource-policy: keep` unless `keep: false`, so that `helm uninstall`
does not take the logs with it. Under Helm 3 each gets a `# Source:` line (so
`helm template --show-only` finds it); under Helm 4 the filename annotation Helm
uses to file the objects it gets back.

Writers: the containers that mount a claim read-write, with the user and groups
they run as (see `Writer` and `ClaimWriters`). Users: the sites that mount a claim
(`ClaimUsers`). Both are kept per claim at a cost that does not grow with the
stream: a warning names the first `SHOWN` sites and counts the rest, and the
writers' rule is decided on a running summary, exactly.
"""
from __future__ import annotations

import re
from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .errors import Where
from .findings import Finding
from .records import Record
from .spec import VolumeSpec
from .targets import HELM4_FILENAME, dig
from .yamlio import Plain, dump_block

_DECIMAL = re.compile(r"[-+]?[0-9]{1,19}")

SOURCE_PREFIX = "postrender/claims"
RESOURCE_POLICY = "helm.sh/resource-policy"


def claim_manifest(claim: str, create: Any, helm4: bool) -> Dict[str, Any]:
    metadata: Dict[str, Any] = {"name": claim, "labels": {"app.kubernetes.io/managed-by": "postrender"}}
    annotations: Dict[str, str] = {}
    if helm4:
        annotations[HELM4_FILENAME] = f"{SOURCE_PREFIX}/{claim}.yaml"
    if getattr(create, "keep", True):
        annotations[RESOURCE_POLICY] = "keep"
    if annotations:
        metadata["annotations"] = annotations
    spec: Dict[str, Any] = {"accessModes": list(create.access_modes),
                            "resources": {"requests": {"storage": create.storage}}}
    if create.storage_class is not None:
        spec["storageClassName"] = create.storage_class
    if create.volume_mode is not None:
        spec["volumeMode"] = create.volume_mode
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


def claims_needed(volumes: Sequence[VolumeSpec], declared: Collection[str], used: Collection[str],
                  only_hooks: bool = False) -> List[VolumeSpec]:
    """The volumes whose claim must be created: once per claim, only claims `used` (injected into, or
    found in, an object of the stream), none the stream already `declared`, none when the stream
    holds `only_hooks` (or nothing: then nothing is used either)."""
    if only_hooks:
        return []
    done = set(declared)
    needed = []
    for volume in volumes:
        if volume.create is not None and volume.claim in used and volume.claim not in done:
            done.add(volume.claim)
            needed.append(volume)
    return needed


def created(volume: VolumeSpec, document: int = 0, detail: Any = None) -> Finding:
    """The change a created claim is reported as."""
    return Finding.change("created", Where(document=document, obj=f"PersistentVolumeClaim/{volume.claim}"),
                          volume.name, detail)


def claim_documents(volumes: Sequence[VolumeSpec], helm4: bool, last: bytes) -> Tuple[bytes, List[Finding]]:
    """The YAML text of the claims to append (b'' when none), and the changes to report. `last`: the
    stream's last bytes; the claims' lines end as its last line did (CRLF or LF)."""
    docs: List[str] = []
    for volume in volumes:
        manifest = claim_manifest(volume.claim, volume.create, helm4)
        header = "---\n" if helm4 else f"---\n# Source: {SOURCE_PREFIX}/{volume.claim}.yaml\n"
        docs.append(header + "\n".join(dump_block(manifest, indent_sequences=False)) + "\n")
    if not docs:
        return b"", []
    newline = "\r\n" if last.endswith(b"\r\n") else "\n"
    lead = "" if last.endswith(b"\n") or not last else "\n"
    text = lead + "".join(docs)
    return text.replace("\n", newline).encode("utf-8"), [created(volume) for volume in volumes]


# -- who writes to a claim --------------------------------------------------------------------------
def _id(value: Any) -> Optional[int]:
    """A uid, gid or count as Kubernetes takes it (a decimal int64, read from its text: yamlio keeps
    numbers as `Plain` text), else None."""
    if isinstance(value, Plain) and _DECIMAL.fullmatch(value.text):
        return int(value.text, 10)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _security(holder: Any) -> Dict[str, Any]:
    context = holder.get("securityContext") if isinstance(holder, dict) else None
    return context if isinstance(context, dict) else {}


def run_as(pod_spec: Any, container: Any) -> Tuple[Optional[int], Optional[int]]:
    """(uid, primary gid) a container runs as: its own securityContext, else the pod's; None where
    neither says (the image's default: 50000:0 in the official Airflow image, 1001 in Bitnami's)."""
    own, pod = _security(container), _security(pod_spec)
    uid = _id(own.get("runAsUser")) if _id(own.get("runAsUser")) is not None else _id(pod.get("runAsUser"))
    gid = _id(own.get("runAsGroup")) if _id(own.get("runAsGroup")) is not None else _id(pod.get("runAsGroup"))
    return uid, gid


def pod_groups(pod_spec: Any) -> Tuple[Optional[int], Tuple[int, ...]]:
    """(fsGroup, supplementalGroups) of a pod: groups every container of it belongs to."""
    pod = _security(pod_spec)
    extra = pod.get("supplementalGroups")
    groups = (_id(g) for g in (extra if isinstance(extra, list) else []))
    return _id(pod.get("fsGroup")), tuple(g for g in groups if g is not None)


# The field that says how many pods of a workload run at once (absent: one).
_POD_COUNT = {"Deployment": ("spec", "replicas"), "ReplicaSet": ("spec", "replicas"),
              "StatefulSet": ("spec", "replicas"), "Job": ("spec", "parallelism")}


def several_pods(kind: Optional[str], workload: Any) -> Optional[str]:
    """Why a workload runs more than one pod at a time (`replicas: 3`, a DaemonSet's pod per node),
    or None: a claim only one pod may use is then used by several."""
    if kind == "DaemonSet":
        return "a pod per node"
    path = _POD_COUNT.get(kind or "")
    count = _id(dig(workload, path)) if path is not None else None
    return f"{path[-1]}: {count}" if path is not None and count is not None and count > 1 else None


class Writer(Record):
    """A container that mounts a claim read-write, and who it runs as (see `run_as`, `pod_groups`)."""

    __slots__ = ("pod", "container", "uid", "gid", "fs_group", "supplemental")

    def __init__(self, pod: str, container: str, uid: Optional[int], gid: Optional[int], fs_group: Optional[int],
                 supplemental: Tuple[int, ...] = ()) -> None:
        self.pod = pod  # the site: `Deployment/x`, `ConfigMap/x key y`
        self.container = container
        self.uid = uid
        self.gid = gid
        self.fs_group = fs_group
        self.supplemental = supplemental

    @property
    def groups(self) -> Set[int]:
        """Every group its processes are in: the primary one, the pod's fsGroup and supplementalGroups."""
        return {g for g in (self.gid, self.fs_group, *self.supplemental) if g is not None}

    def describe(self) -> str:
        def show(value: Optional[int]) -> str:
            return "image default" if value is None else str(value)
        fs_group = "none" if self.fs_group is None else self.fs_group
        text = f"uid {show(self.uid)}, gid {show(self.gid)}, fsGroup {fs_group}"
        return text + (f", supplementalGroups {list(self.supplemental)}" if self.supplemental else "")


def writers(pod: str, pod_spec: Any, claim: str) -> List[Writer]:
    """The containers (init containers too) of a pod spec that mount `claim` read-write: through a
    volume on that claim that is not `readOnly`, by a mount that is not `readOnly`."""
    if not isinstance(pod_spec, dict):
        return []
    volumes: Any = pod_spec.get("volumes") if isinstance(pod_spec.get("volumes"), list) else []
    names = set()
    for volume in volumes:
        source = volume.get("persistentVolumeClaim") if isinstance(volume, dict) else None
        if isinstance(source, dict) and source.get("claimName") == claim and source.get("readOnly") is not True:
            names.add(volume.get("name"))
    fs_group, supplemental = pod_groups(pod_spec)
    found = []
    for key in ("initContainers", "containers"):
        containers: Any = pod_spec.get(key) if isinstance(pod_spec.get(key), list) else []
        for container in containers:
            mounts = container.get("volumeMounts") if isinstance(container, dict) else None
            if any(isinstance(m, dict) and m.get("name") in names and m.get("readOnly") is not True
                   for m in (mounts if isinstance(mounts, list) else [])):
                uid, gid = run_as(pod_spec, container)
                found.append(Writer(pod, str(container.get("name")), uid, gid, fs_group, supplemental))
    return found


SHOWN = 20  # the sites a warning names for one claim; it counts the others


class ClaimUsers:
    """The sites (`Deployment/x`, `ConfigMap/x key y`) that mount one claim: how many, and the
    first `SHOWN` by name. A site met again is counted once while it is among those named."""

    __slots__ = ("names", "count", "several")

    def __init__(self) -> None:
        self.names: List[str] = []
        self.count = 0
        self.several = False  # one of them runs several pods at once (see `several_pods`)

    def add(self, site: str, several: Optional[str] = None) -> None:
        """Note a site (`several`: why it runs several pods at once, if it does)."""
        if several is not None:
            self.several = True
            site = f"{site} ({several})"
        if site in self.names:
            return
        if len(self.names) < SHOWN:
            self.names.append(site)
        self.count += 1

    def merge(self, later: "ClaimUsers") -> None:
        for site in later.names:
            self.add(site)
        self.count += later.count - len(later.names)
        self.several = self.several or later.several

    @property
    def shared(self) -> bool:
        """Mounted by more than one pod at a time: two sites, a site that runs several pods, or a
        worker pod template (a pod per task)."""
        return self.count > 1 or self.several or any(name.startswith("ConfigMap/") for name in self.names)

    def describe(self) -> str:
        more = self.count - len(self.names)
        return ", ".join(sorted(self.names)) + (f" and {more} more" if more else "")


class ClaimWriters:
    """What is known of the writers of one claim: enough to decide the rule exactly, and the first
    `SHOWN` of them to name.

    Only writers whose user is known count (an image default is not guessed at). They are a problem
    when they run as two or more different users and there is no shared owner group: no gid that
    is the fsGroup of one of their pods (Kubernetes makes the fsGroup own the volume, setgid, so
    that new files get that group) and that every one of them is in (as its runAsGroup, its pod's
    fsGroup or one of its pod's supplementalGroups). Same user everywhere, or such a group: fine.
    So it keeps two of their users, the groups every one of them is in (which only shrink), and
    the owner groups among those (an owner outside them can never become shared again).
    """

    __slots__ = ("users", "common", "owners", "shown", "count")

    def __init__(self) -> None:
        self.users: Set[int] = set()  # at most two: all the rule asks is whether there are two
        self.common: Optional[Set[int]] = None  # None: no writer yet
        self.owners: Set[int] = set()
        self.shown: List[Writer] = []
        self.count = 0

    @classmethod
    def of(cls, found: Iterable[Writer]) -> "ClaimWriters":
        record = cls()
        for writer in found:
            record.add(writer)
        return record

    def add(self, writer: Writer) -> None:
        if writer.uid is None:
            return
        self._fold({writer.uid}, writer.groups, {writer.fs_group} - {None}, [writer], 1)

    def merge(self, later: "ClaimWriters") -> None:
        if later.common is not None:
            self._fold(later.users, later.common, later.owners, later.shown, later.count)

    def _fold(self, users: Set[int], groups: Set[int], owners: Set[Any], shown: List[Writer], count: int) -> None:
        for user in users:
            if len(self.users) < 2:
                self.users.add(user)
        self.common = set(groups) if self.common is None else self.common & groups
        self.owners = (self.owners | owners) & self.common
        self.shown.extend(shown[:SHOWN - len(self.shown)])
        self.count += count

    @property
    def unshared(self) -> bool:
        """The writers cannot all be sure to write what the others wrote."""
        return len(self.users) > 1 and not self.owners


def writability_warning(claim: str, record: ClaimWriters) -> Optional[str]:
    """The warning for one claim's writers, or None (see `ClaimWriters`)."""
    if not record.unshared:
        return None
    by_pod: Dict[str, List[Writer]] = {}
    for writer in record.shown:
        by_pod.setdefault(writer.pod, []).append(writer)
    parts = []
    for pod, pod_writers in by_pod.items():
        identities = list(dict.fromkeys(w.describe() for w in pod_writers))
        if len(identities) == 1:
            parts.append(f"{pod} ({identities[0]})")
        else:
            parts += [f"{pod} container {w.container} ({w.describe()})" for w in pod_writers]
    if record.count > len(record.shown):
        parts.append(f"and {record.count - len(record.shown)} more containers")
    return (f"claim {claim!r} is written by pods that run as different users and share no group that would own "
            f"it: {'; '.join(parts)}. Files one of them writes may not be writable by the others (task logs, "
            "log groomers): give all of them one fsGroup (or a supplementalGroup equal to the fsGroup), or the "
            "same runAsUser")
