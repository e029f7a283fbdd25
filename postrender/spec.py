"""The spec: which claim-backed volumes go where.

One table of fields (`VOLUME_FIELDS`, `CREATE_FIELDS`) drives both the
validation of spec files and the JSON Schema that `--schema` prints, so the
two cannot drift apart. Errors name the file, the line and the volume, and
suggest the nearest key for a misspelt one.
"""
import difflib
import errno
import fnmatch
import json
import os
import posixpath
import re
import stat
from dataclasses import dataclass, field
from typing import Any, Dict, List, NoReturn, Optional, Sequence, Tuple

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import InputError, SpecError, Where
from .yamlio import Plain, compose, to_data

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
DEFAULT_TARGETS = ("pod-template", "worker")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")

_TARGET_SCHEMA: Dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1,
         "description": "`pod-template`, `airflow` (the pod templates and every Airflow component workload), "
                        "or a component label value (`scheduler`, `worker`, `api-server`, ...)"},
        {"type": "object", "additionalProperties": False, "minProperties": 1,
         "properties": {
             "kind": {"type": "string", "enum": list(WORKLOAD_KINDS) + ["ConfigMap"]},
             "name": {"type": "string", "minLength": 1, "description": "glob over metadata.name"},
             "labels": {"type": "object", "additionalProperties": {"type": "string"}},
         }},
    ]
}

CREATE_FIELDS: Dict[str, Dict[str, Any]] = {
    "storage": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
                "description": "requested size, e.g. 50Gi"},
    "accessModes": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(ACCESS_MODES)},
                    "description": "default [ReadWriteMany]: task pods land on many nodes"},
    "storageClassName": {"type": "string", "description": "storage class; omitted: the cluster default"},
    "volumeMode": {"type": "string", "enum": ["Filesystem", "Block"]},
    "keep": {"type": "boolean", "default": True,
             "description": "annotate the claim `helm.sh/resource-policy: keep`, so that `helm uninstall` keeps it"},
}
CREATE_REQUIRED = ("storage",)

VOLUME_FIELDS: Dict[str, Dict[str, Any]] = {
    "name": {"type": "string", "pattern": DNS1123_LABEL, "maxLength": 63,
             "description": "volume name in the pod (DNS-1123 label)"},
    "claimName": {"type": "string", "pattern": DNS1123_SUBDOMAIN, "maxLength": 253,
                  "description": "PersistentVolumeClaim name (DNS-1123 subdomain)"},
    "mountPath": {"type": "string", "pattern": r"^/[^\x00-\x1f\x7f]*$",
                  "description": "absolute path in the containers"},
    "readOnly": {"type": "boolean", "default": False},
    "subPath": {"type": "string", "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\x00-\x1f\x7f]*$",
                "description": "relative path inside the claim, no `..`"},
    "replace": {"type": "boolean", "default": False,
                "description": "may replace a different same-named volume, a claim template, or a mount at mountPath"},
    "targets": {"type": "array", "items": _TARGET_SCHEMA, "minItems": 1, "default": list(DEFAULT_TARGETS)},
    "containers": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                   "default": ["*"], "description": "globs over container names; init containers only when named"},
    "create": {"type": "object", "additionalProperties": False, "properties": CREATE_FIELDS,
               "required": list(CREATE_REQUIRED), "description": "also emit the PersistentVolumeClaim"},
}
VOLUME_REQUIRED = ("name", "claimName", "mountPath")
# The top-level keys other than the volumes; the loader checks their values with these same rules.
HEADER_FIELDS: Dict[str, Dict[str, Any]] = {
    "apiVersion": {"type": "string", "enum": ["postrender/v1"]},
    "kind": {"type": "string", "enum": ["VolumeInjection"]},
    "metadata": {"type": "object"},
}
TOP_FIELDS = tuple(HEADER_FIELDS) + ("volumes", "spec")


def json_schema() -> Dict[str, Any]:
    """The JSON Schema of a spec file, built from the same tables the loader checks."""
    volume = {"type": "object", "additionalProperties": False, "properties": VOLUME_FIELDS,
              "required": list(VOLUME_REQUIRED)}
    volumes = {"type": "array", "items": volume}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://postrender.invalid/schema/v1/spec.json",
        "title": "postrender spec (VolumeInjection)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **HEADER_FIELDS,
            "volumes": volumes,
            "spec": {"type": "object", "additionalProperties": False, "properties": {"volumes": volumes},
                     "required": ["volumes"]},
        },
        # the volumes list at the top level or under `spec` (KRM style): exactly one of them
        "oneOf": [{"required": ["volumes"]}, {"required": ["spec"]}],
    }


# -- the model -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One entry of `targets`: the pod templates, every Airflow component (`airflow`), a component,
    or a kind/name/labels match. `implied`: not written by the user (the default targets), so a
    miss of it alone is no mistake to warn about."""

    pod_template: bool = False
    component: Optional[str] = None
    kind: Optional[str] = None
    name: Optional[str] = None
    labels: Tuple[Tuple[str, str], ...] = ()
    airflow: bool = False
    implied: bool = field(default=False, compare=False)

    @classmethod
    def word(cls, text: str, implied: bool = False) -> "Target":
        """A target given as a word: `pod-template`, `airflow`, or a component label value."""
        if text == "pod-template":
            return cls(pod_template=True, implied=implied)
        if text == "airflow":
            return cls(airflow=True, implied=implied)
        return cls(component=text, implied=implied)

    def describe(self) -> str:
        if self.pod_template:
            return "pod-template"
        if self.airflow:
            return "airflow"
        if self.component:
            return self.component
        parts = [f"{k}={v}" for k, v in (("kind", self.kind), ("name", self.name)) if v]
        parts += [f"{k}={v}" for k, v in self.labels]
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class Create:
    storage: str
    access_modes: Tuple[str, ...] = ("ReadWriteMany",)
    storage_class: Optional[str] = None
    volume_mode: Optional[str] = None
    keep: bool = True  # helm.sh/resource-policy: keep


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    claim: str
    mount_path: str
    read_only: bool = False
    sub_path: Optional[str] = None
    replace: bool = False
    targets: Tuple[Target, ...] = ()  # set from DEFAULT_TARGETS by the loader
    # `()` mounts it in no container: only the volume is put on the claim (what --logs-claim does to
    # a logs volume it re-points in place, every mount kept as it is)
    containers: Tuple[str, ...] = ("*",)
    create: Optional[Create] = None
    origin: str = "spec"  # where it came from, for messages

    def selects_container(self, name: str, init: bool) -> bool:
        # init containers only when a pattern other than the catch-all names them
        matchers = self.__dict__.get("_matchers")
        if matchers is None:  # made once per spec: --logs-claim gives one pattern per container
            matchers = (_ContainerMatcher(self.containers), _ContainerMatcher(tuple(p for p in self.containers
                                                                                    if p != "*")))
            object.__setattr__(self, "_matchers", matchers)  # not a field: equality and hash ignore it
        return matchers[init](name)


_GLOB_CHARS = re.compile(r"[*?\\[]")


class _ContainerMatcher:
    """`fnmatchcase` against any of a volume's `containers` patterns, in time independent of their
    number: literal names in a set, the globs in one compiled regex. --logs-claim names every
    container of a pod, so matching each container against each pattern would be quadratic."""

    def __init__(self, patterns: Tuple[str, ...]):
        self.literals = frozenset(p for p in patterns if not _GLOB_CHARS.search(p))
        globs = [p for p in dict.fromkeys(patterns) if p not in self.literals]
        self.everything = "*" in globs
        self.regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in globs)) if globs else None

    def __call__(self, name: str) -> bool:
        return (self.everything or name in self.literals
                or self.regex is not None and self.regex.match(name) is not None)


@dataclass
class Spec:
    volumes: List[VolumeSpec] = field(default_factory=list)
    logs_claim: Optional[str] = None  # --logs-claim: resolved per pod, see select.logs_volume
    # every change goes into the run's findings (for --report); False keeps the warnings only, so
    # that a run's memory does not grow with the number of objects it edits
    report_changes: bool = True

    @property
    def empty(self) -> bool:
        return not self.volumes and not self.logs_claim


# -- loading ----------------------------------------------------------------------------------------
# What a value of each JSON Schema type is called in a message (YAML words, with their article).
_TYPE_WORDS = {"string": "a string", "boolean": "true or false", "array": "a list", "object": "a mapping"}
# What a value that does not match a field's pattern must look like, in words (keyed like the
# `what` of _Checker.value). The schema's descriptions say what a field is; these say what is wrong.
_PROBLEMS = {
    "name": "a volume name is a DNS-1123 label: at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit",
    "claimName": "a claim name is a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', "
                 "starting and ending with a letter or digit",
    "mountPath": "it must be an absolute path (start with /)",
    "subPath": "it must be a relative path inside the claim (no leading /) without `..`",
    "create.storage": "write a quantity with a unit, e.g. 50Gi",
}


_CONTROL = re.compile("[\x00-\x1f\x7f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


def _describe(data: Any) -> str:
    """A value as a message names it: `the number 50`, `the string 'yes'`, `a list`."""
    if data is None:
        return "an empty value"
    if isinstance(data, bool):
        return str(data).lower()
    if isinstance(data, (int, float)):
        return f"the number {data}"
    if isinstance(data, Plain):  # a number or a date, kept as its text
        return f"the date {data}" if _DATE.match(data.text) else f"the number {data}"
    if isinstance(data, str):
        return f"the string {data!r}"
    names: Dict[type, str] = {list: "a list", dict: "a mapping"}
    return names.get(type(data), type(data).__name__)


class _Checker:
    """Walks a spec's node tree, so that every error can name its line."""

    def __init__(self, source: str):
        self.source = source

    def at(self, node: Optional[Node], volume: Optional[str] = None) -> Where:
        line = node.start_mark.line + 1 if node is not None else None
        return Where(source=self.source, line=line, obj=f"volume {volume}" if volume else None)

    def fail(self, message: str, node: Optional[Node], volume: Optional[str] = None,
             hint: Optional[str] = None) -> NoReturn:
        raise SpecError(message, self.at(node, volume), hint)

    def entries(self, node: Node, what: str, volume: Optional[str] = None) -> Dict[str, Tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            self.fail(f"{what} must be a mapping", node, volume)
        result: Dict[str, Tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.fail(f"{what}: keys must be strings", key_node, volume)
            if key in result:
                self.fail(f"{what}: duplicate key {key!r}", key_node, volume)
            result[key] = (key_node, value_node)
        return result

    def unknown(self, entries: Dict[str, Tuple[Node, Node]], allowed: Sequence[str], what: str,
                volume: Optional[str] = None) -> None:
        for key, (key_node, _) in entries.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(allowed)
                shown = repr(key) if len(key) <= 60 else repr(key[:57] + "...")
                self.fail(f"unknown key {shown} in {what}", key_node, volume, hint)

    def value(self, node: Node, rule: Dict[str, Any], what: str, volume: Optional[str]) -> Any:
        try:
            data = to_data(node, strict_keys=True)
        except InputError as exc:
            self.fail(exc.message, node, volume)
        kind = rule.get("type")
        types = {"string": str, "boolean": bool, "array": list, "object": dict}
        if kind in types and not isinstance(data, types[kind]):
            hint = None
            if kind == "string" and isinstance(data, (int, float, Plain)) and not isinstance(data, bool):
                hint = _PROBLEMS.get(what) if what == "create.storage" else f'quote it: "{data}"'
            self.fail(f"{what} must be {_TYPE_WORDS[kind]}, not {_describe(data)}", node, volume, hint)
        if kind == "string":
            if "pattern" in rule and _CONTROL.search(data):
                self.fail(f"{what} {data!r} is invalid: it holds a line break or another control character", node,
                          volume)
            # whole: `$` also matches before a final \n
            if "pattern" in rule and not re.fullmatch(rule["pattern"], data):
                self.fail(f"{what} {data!r} is invalid: {_PROBLEMS.get(what) or 'it must match ' + rule['pattern']}",
                          node, volume)
            if "maxLength" in rule and len(data) > rule["maxLength"]:
                self.fail(f"{what} is longer than {rule['maxLength']} characters", node, volume)
            if "minLength" in rule and len(data) < rule["minLength"]:
                self.fail(f"{what} must not be empty", node, volume)
            if "enum" in rule and data not in rule["enum"]:
                close = difflib.get_close_matches(data, rule["enum"], n=1, cutoff=0.6)
                self.fail(f"{what} {data!r} must be one of {', '.join(rule['enum'])}", node, volume,
                          f"did you mean {close[0]!r}?" if close else None)
        if kind == "array":
            if len(data) < rule.get("minItems", 0):
                self.fail(f"{what} must not be empty", node, volume)
            item_rule = rule.get("items", {})
            if "type" in item_rule:
                for item_node in node.value:
                    self.value(item_node, item_rule, f"an item of {what}", volume)
        return data


def _target(checker: _Checker, node: Node, volume: str) -> Target:
    data = checker.value(node, {}, "a target", volume)
    if isinstance(data, str) and data:
        return Target.word(data)
    if isinstance(data, dict) and data:
        entries = checker.entries(node, "a target", volume)
        checker.unknown(entries, ("kind", "name", "labels"), "a target", volume)
        props = _TARGET_SCHEMA["oneOf"][1]["properties"]
        kind = checker.value(entries["kind"][1], props["kind"], "target kind", volume) if "kind" in entries else None
        name = checker.value(entries["name"][1], props["name"], "target name", volume) if "name" in entries else None
        labels = (checker.value(entries["labels"][1], {"type": "object"}, "target labels", volume)
                  if "labels" in entries else {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            checker.fail("target labels must map strings to strings", entries["labels"][1], volume)
        return Target(kind=kind, name=name, labels=tuple(sorted(labels.items())))
    checker.fail("a target is a word (pod-template, airflow, scheduler, ...) or a mapping of kind/name/labels",
                 node, volume)
    raise AssertionError  # pragma: no cover


def _volume(checker: _Checker, node: Node, index: int) -> VolumeSpec:
    label = f"#{index + 1}"
    entries = checker.entries(node, f"volume {label}")
    if "name" in entries and isinstance(entries["name"][1], ScalarNode):
        label = str(entries["name"][1].value)
    checker.unknown(entries, tuple(VOLUME_FIELDS), "a volume", label)
    for key in VOLUME_REQUIRED:
        if key not in entries:
            checker.fail(f"missing required key {key!r}", node, label)
    values = {key: checker.value(value, VOLUME_FIELDS[key], key, label) for key, (_, value) in entries.items()
              if key not in ("targets", "create")}
    sub_path = values.get("subPath") or None
    if values["mountPath"] != posixpath.normpath(values["mountPath"]) and values["mountPath"] != "/":
        values["mountPath"] = posixpath.normpath(values["mountPath"])
    targets = tuple(Target.word(t, implied=True) for t in DEFAULT_TARGETS)
    if "targets" in entries:
        targets_node = entries["targets"][1]
        checker.value(targets_node, {"type": "array", "minItems": 1}, "targets", label)
        targets = tuple(_target(checker, item, label) for item in targets_node.value)
    create = None
    if "create" in entries:
        create_entries = checker.entries(entries["create"][1], "create", label)
        checker.unknown(create_entries, tuple(CREATE_FIELDS), "create", label)
        if "storage" not in create_entries:
            checker.fail("create needs 'storage' (e.g. 50Gi)", entries["create"][1], label)
        c = {key: checker.value(value, CREATE_FIELDS[key], f"create.{key}", label)
             for key, (_, value) in create_entries.items()}
        create = Create(storage=c["storage"], access_modes=tuple(c.get("accessModes") or ("ReadWriteMany",)),
                        storage_class=c.get("storageClassName"), volume_mode=c.get("volumeMode"),
                        keep=c.get("keep", True))
    return VolumeSpec(
        name=values["name"], claim=values["claimName"], mount_path=values["mountPath"],
        read_only=bool(values.get("readOnly", False)), sub_path=sub_path, replace=bool(values.get("replace", False)),
        targets=targets, containers=tuple(values.get("containers") or ("*",)), create=create,
        origin=checker.source,
    )


def parse_spec_text(text: str, source: str) -> List[VolumeSpec]:
    """The volumes of one spec file (or a KRM functionConfig) given as text."""
    checker = _Checker(source)
    if not text.strip():
        raise SpecError("the spec file is empty", Where(source=source), "it needs a `volumes:` list")
    try:
        root = compose(text, Where(source=source))
    except InputError as exc:
        raise SpecError(exc.message, exc.where) from None
    return _volumes(root, checker)


def volumes_from_node(root: Optional[Node], source: str) -> List[VolumeSpec]:
    """The volumes of a spec already composed (a KRM functionConfig); errors name `source`."""
    return _volumes(root, _Checker(source))


def _volumes(root: Optional[Node], checker: "_Checker") -> List[VolumeSpec]:
    if root is None or not isinstance(root, MappingNode):
        checker.fail("a spec is a mapping with a `volumes:` list", root, hint="see `postrender --schema`")
    top = checker.entries(root, "the spec")
    if not any(key in TOP_FIELDS or difflib.get_close_matches(key, TOP_FIELDS, n=1, cutoff=0.6) for key in top):
        # another file (a secret, a config): never quote it back
        checker.fail("this file is not a postrender spec: none of its top-level keys is one of "
                     + ", ".join(TOP_FIELDS), None, hint="see `postrender --schema`")
    checker.unknown(top, TOP_FIELDS, "the spec")
    for key, rule in HEADER_FIELDS.items():
        if key in top:
            checker.value(top[key][1], rule, key, None)
    if "volumes" in top and "spec" in top:
        checker.fail("give `volumes` at the top level or under `spec`, not both", top["spec"][0])
    volumes_node = top.get("volumes", (None, None))[1]
    if volumes_node is None and "spec" in top:
        inner = checker.entries(top["spec"][1], "spec")
        checker.unknown(inner, ("volumes",), "spec")
        volumes_node = inner.get("volumes", (None, None))[1]
    if volumes_node is None:
        checker.fail("the spec has no `volumes:` list", root, hint="see `postrender --schema`")
    if not isinstance(volumes_node, SequenceNode):
        checker.fail("`volumes` must be a list", volumes_node)
    volumes = [_volume(checker, item, index) for index, item in enumerate(volumes_node.value)]
    seen: Dict[str, int] = {}
    for index, volume in enumerate(volumes):
        if volume.name in seen:
            checker.fail(f"volume name {volume.name!r} is given twice in this file", volumes_node.value[index],
                         volume.name, hint="a name may appear once per file; later -c files may override it")
        seen[volume.name] = index
    return volumes


# A spec is a few KB; anything past this is the wrong file (a render, a log, /dev/zero), and reading
# it whole would only delay the error and grow the process (the manifests are limited likewise).
SPEC_MAX_BYTES = 1 << 20
# How long a pipe or device named by -c (`-c <(kubectl get ...)`, a FIFO) may stay silent before
# postrender gives up on it, rather than wait forever for a writer that never comes.
SPEC_PIPE_TIMEOUT = 30.0


def read_spec_bytes(path: str, limit: int = SPEC_MAX_BYTES, timeout: Optional[float] = None) -> bytes:
    """The bytes of a spec file, read with a size limit and without blocking forever.

    A regular file is read up to `limit` bytes. A pipe, a FIFO or a character device is allowed
    too (process substitution `-c <(kubectl get cm ...)` names a pipe as /dev/fd/N): it is opened
    without blocking (a FIFO with no writer would block the open itself) and read up to the same
    limit until its writer closes it; when no byte comes for `timeout` seconds (default
    SPEC_PIPE_TIMEOUT) that is an error. A directory and `-` (stdin carries the manifests) are
    refused. Every failure is a SpecError (exit 2).
    """
    where = Where(source=repr(path) if path != path.strip() else path)  # a stray space shows
    if path == "-":
        raise SpecError("stdin carries the manifests, so the spec cannot come from `-`", Where(source="-c -"),
                        hint="give the spec as a file, or as `-c <(command)` in bash")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror}", where, _path_hint(path)) from None
    too_big = SpecError(f"the spec file is larger than {_size(limit)}: a spec is a few KB; is this the right file?",
                        where)
    wait = SPEC_PIPE_TIMEOUT if timeout is None else timeout
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(f"cannot read spec file: {os.strerror(errno.EISDIR)}", where)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise too_big
        poller = None
        if not stat.S_ISREG(info.st_mode):
            import select  # only for a pipe: not at every start of the tool
        if not stat.S_ISREG(info.st_mode) and hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
        chunks: List[bytes] = []
        size = 0
        while True:
            if poller is not None and not poller.poll(wait * 1000):
                raise SpecError(f"nothing came through this pipe for {wait:g} s (is anything writing to it?)", where,
                                hint="give a spec file; a FIFO needs a writer, e.g. `-c <(kubectl get cm ...)`")
            try:
                data = os.read(fd, min(1 << 16, limit + 1 - size))
            except BlockingIOError:  # woken without data (a writer came and went): wait again
                continue
            if not data:
                return b"".join(chunks)
            chunks.append(data)
            size += len(data)
            if size > limit:
                raise too_big
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror}", where) from None
    finally:
        os.close(fd)


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 and not count % (1 << 20) else f"{count:,} bytes"


def _path_hint(path: str) -> Optional[str]:
    """For a spec path that cannot be read: the slip that most likely made it, if one shows."""
    split = "give --post-renderer-args=-c --post-renderer-args=spec.yaml (one argument each)"
    if path != path.lstrip():
        return (f"the path {path!r} starts with a space: did you pass `--post-renderer-args=\"-c {path.strip()}\"` "
                f"as one argument? {split[0].upper() + split[1:]}")
    flag = re.search(r"\s(--?[A-Za-z][-A-Za-z]*)(?:[\s=]|$)", path)
    if flag:
        return (f"the path {path!r} holds the option {flag.group(1)}: were several arguments passed as one? "
                f"Each --post-renderer-args is one argument: {split}")
    if path.startswith("="):
        return f"the path {path!r} starts with '=': write `-c {path[1:]}` or `--config={path[1:]}`"
    if "," in path:
        return ("the path holds a comma: -c takes one file; repeat -c for each file "
                "(or POSTRENDER_CONFIG=a.yaml:b.yaml)")
    return None


def load_spec_file(path: str) -> List[VolumeSpec]:
    raw = read_spec_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"the spec file is not UTF-8 (byte {exc.start})", Where(source=path)) from None
    return parse_spec_text(text, path)


def layer(files: Sequence[List[VolumeSpec]]) -> List[VolumeSpec]:
    """Like Helm's -f: a volume in a later file replaces the same-named volume of an earlier one."""
    merged: Dict[str, VolumeSpec] = {}
    for volumes in files:
        for volume in volumes:
            merged.pop(volume.name, None)
            merged[volume.name] = volume
    result = list(merged.values())
    _one_create_per_claim(result)
    return result


def _one_create_per_claim(volumes: Sequence[VolumeSpec]) -> None:
    """Two volumes on one claim may both say `create:`, but not two different claims to create."""
    first: Dict[str, VolumeSpec] = {}
    for volume in volumes:
        if volume.create is None:
            continue
        other = first.setdefault(volume.claim, volume)
        if other.create != volume.create:
            raise SpecError(f"volumes {other.name!r} ({other.origin}) and {volume.name!r} ({volume.origin}) both "
                            f"create claim {volume.claim!r}, differently",
                            hint="give `create:` to one of them only, or the same to both")


def parse_volume_option(text: str) -> VolumeSpec:
    """`--volume NAME=CLAIM:MOUNTPATH[:ro]`."""
    usage = "expected NAME=CLAIM:MOUNTPATH[:ro], e.g. data=airflow-data:/opt/airflow/data"
    name, sep, rest = text.partition("=")
    claim, sep2, path = rest.partition(":")
    if not sep or not sep2 or not name or not claim or not path:
        raise SpecError(f"--volume {text!r}: {usage}")
    read_only = False
    if path.endswith(":ro") or path.endswith(":rw"):
        read_only = path.endswith(":ro")
        path = path[:-3]
    if ":" in path:  # `:RO`, `:ro:x`: a typo would otherwise become part of the path
        raise SpecError(f"--volume {text!r}: the mount path {path!r} holds ':'; only `:ro` or `:rw` may follow "
                        f"it ({usage})")
    where = Where(source=f"--volume {text}")
    source = (f"volumes:\n- name: {_q(name)}\n  claimName: {_q(claim)}\n  mountPath: {_q(path)}\n"
              f"  readOnly: {str(read_only).lower()}\n")
    try:
        return parse_spec_text(source, f"--volume {text}")[0]
    except SpecError as exc:
        raise SpecError(exc.message, where, exc.hint) from None


def parse_volume_options(texts: Sequence[str]) -> List[VolumeSpec]:
    """Every `--volume`; a name given twice is an error, as a name repeated within one spec file."""
    volumes = [parse_volume_option(text) for text in texts]
    seen: Dict[str, str] = {}
    for text, volume in zip(texts, volumes):
        if volume.name in seen:
            raise SpecError(f"--volume {text!r}: volume {volume.name!r} is already given by "
                            f"--volume {seen[volume.name]!r}")
        seen[volume.name] = text
    return volumes


def parse_claim_option(claim: str, option: str = "--logs-claim") -> str:
    """A claim name given on the command line, checked like a spec's claimName."""
    rule = VOLUME_FIELDS["claimName"]
    if not re.fullmatch(rule["pattern"], claim) or len(claim) > rule["maxLength"]:
        raise SpecError(f"{option} {claim!r}: not a valid claim name ({rule['description']})")
    return claim


def _q(text: str) -> str:
    """`text` as a YAML scalar that reads back exactly (double-quoted: a line break stays one, escaped)."""
    return json.dumps(text)


def config_paths(options: Sequence[str], environ: Optional[Dict[str, str]] = None) -> List[str]:
    """-c files, else POSTRENDER_CONFIG (several separated by ':' as KUBECONFIG)."""
    if options:
        return list(options)
    env = (environ if environ is not None else os.environ).get("POSTRENDER_CONFIG", "")
    return [path for path in env.split(os.pathsep) if path]

