"""Targets: what a site is, which volumes go into it, and the `--logs-claim` rule.

A *site* is one pod spec that may be targeted: the pod spec of a workload
(Deployment, StatefulSet, ..., CronJob, Pod) or a worker pod template
embedded as YAML text in a ConfigMap value (`sites` finds them in an object).
Sites are matched against each volume's `targets` (`volumes_for`);
`--logs-claim` is a rule that looks at the pod itself (what is mounted at the
Airflow logs path) to decide what to inject (`logs_volume`). Also here: the
cheap tests on a document's raw text (`is_candidate`, `is_pod_template_text`)
and the annotations Helm sets (hooks, Helm 4's filename).
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Any, Dict, List, Optional, Set, Tuple

from .errors import InputError, Where
from .records import Record
from .spec import WORKLOAD_KINDS, Spec, Target, VolumeSpec
from .words import holds_word

# Where each kind keeps its pod spec; the pod's metadata sits beside it.
POD_SPEC_PATHS: Dict[str, Tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
ROLLED_KINDS = ("Deployment", "StatefulSet", "DaemonSet")  # contract point 4
COMPONENT_LABELS = ("component", "app.kubernetes.io/component")
# The target `airflow`: the component label values of Airflow's own processes in the official chart
# (`component`: scheduler, dag-processor, triggerer, api-server / webserver before 1.16, worker),
# the community chart (`component`: scheduler, triggerer, web, worker) and the Bitnami chart
# (`app.kubernetes.io/component`: scheduler, dag-processor, triggerer, web, worker). Not theirs:
# statsd, redis, pgbouncer, flower, metrics, the migration / create-user / sync-users / setup-db
# jobs and the cleanup CronJob, which carry other values.
AIRFLOW_COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server", "webserver", "web", "worker")
# One role, three names: a target that misses one of them suggests the one the stream has.
WEB_COMPONENTS = ("api-server", "webserver", "web")
HOOK_ANNOTATION = "helm.sh/hook"
# Hooks that Helm runs before it creates (or updates) the release's objects.
EARLY_HOOKS = frozenset({"pre-install", "pre-upgrade"})
# Helm 4 files each object it hands a post-renderer under this annotation, and regroups the output by it.
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"
# Components that serve task logs in the UI: the chart mounts the logs claim there too.
LOG_READING_COMPONENTS = ("api-server", "webserver", "web")
# Where Airflow writes task logs when nothing says otherwise ($AIRFLOW_HOME/logs of the images).
DEFAULT_LOG_PATHS = ("/opt/airflow/logs", "/opt/bitnami/airflow/logs")
# `VolumeSpec.origin` of what --logs-claim puts where the logs are (LOGS_CLAIM) and of the mount it
# only adds for a component that reads the logs for the UI (LOGS_READER): the latter alone means
# the stream has no Airflow logs volume.
LOGS_CLAIM = "--logs-claim"
LOGS_READER = "--logs-claim (log reader)"

# Cheap pre-filter on raw text: a document without these words cannot be a target.
_CANDIDATE_KINDS = frozenset(kind.encode() for kind in WORKLOAD_KINDS + ("ConfigMap", "PersistentVolumeClaim",
                                                                        "ResourceList"))
# where none stands whole (words.py), no document is a candidate
CANDIDATE_WORDS = tuple(sorted(_CANDIDATE_KINDS))
# A block-style document names its kind on a top-level line; only then is that line decisive.
# (A line break, not `^`: a literal first character lets the regex engine skip ahead fast.)
_KIND_LINE = rb"[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?(\w+)"
_FIRST_KIND = re.compile(_KIND_LINE)
_TOP_KIND = re.compile(b"\n" + _KIND_LINE)
# `[ \t]`, not `\s`: `\s*` crosses line ends, and at every line start it would scan all the blank
# lines that follow (quadratic time on a value of many blank lines).
POD_TEMPLATE_TEXT = re.compile(r"^[ \t]*[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?Pod[\"']?[ \t]*(?:#.*)?\r?$", re.MULTILINE)


class Site(Record):
    """What the targets are matched against: a workload, or an embedded pod template."""

    __slots__ = ("kind", "name", "namespace", "labels", "pod_labels", "configmap", "key")

    def __init__(self, kind: str, name: str, namespace: Optional[str], labels: Dict[str, str],
                 pod_labels: Dict[str, str], configmap: Optional[str] = None, key: Optional[str] = None) -> None:
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.pod_labels = pod_labels
        self.configmap = configmap  # set for an embedded pod template: its ConfigMap
        self.key = key  # ... and the data key

    @property
    def label(self) -> str:
        if self.configmap is not None:
            return f"ConfigMap/{self.configmap} key {self.key}"
        return f"{self.kind}/{self.name}"


def components(site: Site) -> List[str]:
    """The component label values of a workload (its own labels, then its pods'); none for a pod template."""
    if site.configmap is not None:
        return []
    found = [labels.get(key) for labels in (site.labels, site.pod_labels) for key in COMPONENT_LABELS]
    return list(dict.fromkeys(c for c in found if c))


def is_airflow(site: Site) -> bool:
    """A worker pod template, or a workload of an Airflow component (see AIRFLOW_COMPONENTS)."""
    return site.configmap is not None or any(c in AIRFLOW_COMPONENTS for c in components(site))


def is_hook(data: Any) -> bool:
    """Is this object a Helm hook (annotation `helm.sh/hook`)?"""
    return hook_of(data) is not None


def hook_of(data: Any) -> Optional[str]:
    """The `helm.sh/hook` annotation of an object (`pre-install,pre-upgrade`), None when it is no hook."""
    annotations = dig(data, ("metadata", "annotations"))
    hook = annotations.get(HOOK_ANNOTATION) if isinstance(annotations, dict) else None
    return None if hook is None else str(hook)


def dig(data: Any, path: Tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _labels(value: Any) -> Dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def object_identity(data: Any) -> Tuple[Optional[str], str, Optional[str]]:
    """(kind, name, namespace) of a manifest."""
    if not isinstance(data, dict):
        return None, "", None
    kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    meta: Any = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = meta.get("name")
    namespace = meta.get("namespace")
    return kind, str(name) if name is not None else "", str(namespace) if namespace is not None else None


def workload_site(data: Dict[str, Any]) -> Optional[Site]:
    kind, name, namespace = object_identity(data)
    if kind not in POD_SPEC_PATHS:
        return None
    pod_meta_path = POD_SPEC_PATHS[kind][:-1] + ("metadata",)
    return Site(kind, name, namespace, _labels(dig(data, ("metadata", "labels"))),
                _labels(dig(data, pod_meta_path + ("labels",))))


def template_site(configmap: Dict[str, Any], key: str, template: Any) -> Site:
    _, name, namespace = object_identity(configmap)
    return Site("ConfigMap", name, namespace, _labels(dig(configmap, ("metadata", "labels"))),
                _labels(dig(template, ("metadata", "labels"))), configmap=name, key=key)


def is_candidate(raw: bytes) -> bool:
    """Could this document be a ConfigMap, a workload, a claim or a ResourceList?"""
    first = _FIRST_KIND.match(raw)
    kinds = ([first.group(1)] if first else []) + _TOP_KIND.findall(raw)
    if len(kinds) == 1:
        return kinds[0] in _CANDIDATE_KINDS
    return holds_word(raw, CANDIDATE_WORDS)  # flow style, JSON, or odd: look closer


def is_pod_template_text(value: Any) -> bool:
    return isinstance(value, str) and POD_TEMPLATE_TEXT.search(value) is not None


def target_matches(target: Target, site: Site) -> bool:
    if target.pod_template:
        return site.configmap is not None
    if target.airflow:
        return is_airflow(site)
    if target.component is not None:
        return target.component in components(site)
    if target.kind == "ConfigMap" or site.configmap is not None:
        if target.kind != "ConfigMap" or site.configmap is None:
            return False
    elif target.kind is not None and target.kind != site.kind:
        return False
    if target.name is not None and not fnmatch.fnmatchcase(site.name, target.name):
        return False
    return all(site.labels.get(k) == v for k, v in target.labels)


def volumes_for(site: Site, pod_spec: Any, spec: Spec, claim_templates: Any = None) -> List[VolumeSpec]:
    """The volume specs to inject into this site's pod spec, in spec order."""
    chosen = [v for v in spec.volumes if any(target_matches(t, site) for t in v.targets)]
    if spec.logs_claim:
        logs = (logs_volume(site, pod_spec, spec.logs_claim, claim_templates)
                or _task_logs(site, pod_spec, spec.logs_claim))
        if logs is not None and all(v.name != logs.name and v.mount_path != logs.mount_path for v in chosen):
            chosen.append(logs)
    return chosen


# -- --logs-claim -----------------------------------------------------------------------------------
def _containers(pod_spec: Any, key: str) -> List[Dict[str, Any]]:
    items = pod_spec.get(key) if isinstance(pod_spec, dict) else None
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def _mounts(container: Dict[str, Any]) -> List[Dict[str, Any]]:
    items = container.get("volumeMounts")
    return [m for m in items if isinstance(m, dict)] if isinstance(items, list) else []


def _env(container: Dict[str, Any], name: str) -> Optional[str]:
    env = container.get("env")
    for item in env if isinstance(env, list) else []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("value"), str):
            return item["value"]
    return None


def _norm(path: Any) -> Optional[str]:
    return posixpath.normpath(path) if isinstance(path, str) and path.startswith("/") else None


def _within(path: Optional[str], parent: str) -> bool:
    """Is `path` `parent` or below it (paths or subPaths, already normalised)?"""
    return path is not None and (path == parent or parent in ("", "/") or path.startswith(parent + "/"))


def log_paths(pod_spec: Any, containers: Optional[List[Dict[str, Any]]] = None) -> List[str]:
    """Candidate Airflow log folders for a pod: what the env of its containers says (`containers`
    first, then the regular ones, then the init ones), then the images' defaults.

    The official chart states `AIRFLOW_HOME` (its `airflowHome`) in every Airflow container and
    mounts the logs at `$AIRFLOW_HOME/logs`; its airflow.cfg does not name the log folder.
    """
    paths: Dict[str, None] = {}  # ordered and unique, without a scan per container
    for container in (containers or []) + _containers(pod_spec, "containers") + _containers(pod_spec, "initContainers"):
        home = _env(container, "AIRFLOW_HOME")
        configured = _env(container, "AIRFLOW__LOGGING__BASE_LOG_FOLDER")
        for path in (configured, home.rstrip("/") + "/logs" if home else None):
            path = _norm(path)
            if path:
                paths[path] = None
    return list(paths) + [p for p in DEFAULT_LOG_PATHS if p not in paths]


def logs_volume(site: Site, pod_spec: Any, claim: str, claim_templates: Any = None) -> Optional[VolumeSpec]:
    """What `--logs-claim` does to one pod, as the official chart's logs.persistence.existingClaim would.

    The logs volume is what the regular containers mount at the Airflow log path (the first
    candidate of `log_paths` that one of them mounts; two different volumes there are an error).
    - It serves only the logs (every mount of it, init containers' too, is at a log path or
      inside a subPath mounted there): the volume itself is put on the claim, same name, and no
      mount is touched, so each keeps its path and subPath (`containers=()`).
    - It is shared with other mounts (Bitnami: a subPath of a scratch emptyDir): a new volume
      `logs` is added and only the mounts of the shared volume at the log path move to it.
    The main container of a component that reads logs for the UI (api-server, webserver, web)
    mounts it too, where it does not yet; no other container (user extraContainers) gains a mount.
    """
    regular = _containers(pod_spec, "containers")
    if not regular:
        return None  # no container mounts logs, and none reads them
    init = _containers(pod_spec, "initContainers")
    main = _main_container(site, regular)
    paths = log_paths(pod_spec, [main] if main is not None else [])
    mounting: Dict[Optional[str], List[Dict[str, Any]]] = {}  # path -> the regular containers mounting there
    for container in regular:
        for at in dict.fromkeys(_norm(m.get("mountPath")) for m in _mounts(container)):
            mounting.setdefault(at, []).append(container)
    for path in paths:
        users = mounting.get(path, [])
        if users:
            break
    else:
        if main is None:
            return None
        path = paths[0]
        return VolumeSpec(name=_free_name(pod_spec, "logs", claim_templates), claim=claim, mount_path=path,
                          replace=True, containers=(str(main.get("name")),), origin=LOGS_READER)
    holders: Dict[str, List[str]] = {}  # volume mounted at the log path -> the containers that do
    for container in users:
        for mount in _mounts(container):
            if _norm(mount.get("mountPath")) == path:
                holders.setdefault(str(mount.get("name")), []).append(str(container.get("name")))
    if len(holders) > 1:
        listing = " and ".join(f"{v!r} (container {', '.join(cs)})" for v, cs in holders.items())
        raise InputError(f"--logs-claim cannot tell which volume holds the logs: {listing} are both mounted at {path}",
                         Where(obj=site.label),
                         hint="name the logs volume in a spec file (-c) with replace: true and the containers "
                              "to mount it")
    volume = next(iter(holders))
    mounts = [(c, m) for c in regular + init for m in _mounts(c) if m.get("name") == volume]
    if _only_logs([m for _, m in mounts], paths):
        name, movers = volume, []
    else:
        name = _free_name(pod_spec, "logs", claim_templates)
        movers = [c for c, m in mounts if _norm(m.get("mountPath")) == path]
    if main is not None and not any(_norm(m.get("mountPath")) == path for m in _mounts(main)):
        movers.append(main)
    names = tuple(dict.fromkeys(str(c.get("name")) for c in movers))
    return VolumeSpec(name=name, claim=claim, mount_path=path, replace=True, containers=names, origin=LOGS_CLAIM)


def _only_logs(mounts: List[Dict[str, Any]], paths: List[str]) -> bool:
    """Does a volume with these mounts hold nothing but logs? Each mount is at (or below) a log path,
    or mounts a subPath inside what is mounted there (a mount of the whole volume at a log path
    makes all of it logs). The Bitnami chart's scratch emptyDir also backs /tmp, the venv and
    airflow.cfg through other subPaths: shared."""
    log_dirs = set(paths)
    at_logs = [m for m in mounts if _under_any(_norm(m.get("mountPath")), log_dirs)]
    trees = {_sub_path(m) for m in at_logs}
    at_logs_ids = {id(m) for m in at_logs}
    return all(id(m) in at_logs_ids or _under_any(_sub_path(m), trees) for m in mounts)


def _under_any(path: Optional[str], parents: Set[str]) -> bool:
    """`any(_within(path, p) for p in parents)`, in time independent of how many parents there are."""
    if path is None:
        return False
    if "" in parents or "/" in parents:
        return True
    while path not in parents:
        cut = path.rfind("/")
        if cut <= 0:
            return False
        path = path[:cut]
    return True


def _sub_path(mount: Dict[str, Any]) -> str:
    """The mount's subPath, normalised; "" for the whole volume."""
    sub = posixpath.normpath(str(mount.get("subPath") or ".")).strip("/")
    return "" if sub == "." else sub


def _main_container(site: Site, containers: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The container of a log-reading component (api-server, webserver, web) that the chart mounts its
    logs in: the one named like the component (`api-server`; `airflow-web` in the community and
    Bitnami charts), else the first. None for other pods and for pod templates."""
    if site.configmap is not None or not containers:
        return None
    component = next((c for c in components(site) if c in LOG_READING_COMPONENTS), None)
    if component is None:
        return None
    named = [c for c in containers if c.get("name") in (component, f"airflow-{component}")]
    return named[0] if named else containers[0]


def _task_logs(site: Site, pod_spec: Any, claim: str) -> Optional[VolumeSpec]:
    """`--logs-claim` on a worker pod template without containers: Airflow's task container `base`
    gets the template's mounts (see `inject.inject_pod_template`), and with none of the template's own
    to say otherwise its task logs go to the default folder."""
    containers = pod_spec.get("containers") if isinstance(pod_spec, dict) else None
    if site.configmap is None or not (pod_spec is None or isinstance(pod_spec, dict)) or containers not in (None, []):
        return None
    return VolumeSpec(name=_free_name(pod_spec, "logs"), claim=claim, mount_path=log_paths(pod_spec)[0], replace=True,
                      origin=LOGS_CLAIM)


def _free_name(pod_spec: Any, wanted: str, claim_templates: Any = None) -> str:
    """`wanted`, unless the pod already uses it (a volume or a claim template) for something mounted elsewhere."""
    volumes = pod_spec.get("volumes") if isinstance(pod_spec, dict) else None
    taken = {v.get("name") for v in volumes if isinstance(v, dict)} if isinstance(volumes, list) else set()
    if isinstance(claim_templates, list):
        taken |= {t["metadata"].get("name") for t in claim_templates
                  if isinstance(t, dict) and isinstance(t.get("metadata"), dict)}
    mounted = {m.get("name") for c in _containers(pod_spec, "containers") + _containers(pod_spec, "initContainers")
               for m in _mounts(c)}
    name, n = wanted, 1
    while name in taken and name in mounted:
        n += 1
        name = f"{wanted}-{n}"
    return name
