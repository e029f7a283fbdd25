"""The spec as the rest of the package sees it: the volumes to inject, their targets and claims.

Plain values (`records.Record`s: defining a frozen dataclass costs a run about 1.5 ms), built
only by spec/parse.py (from a spec file, a KRM functionConfig or a command-line shorthand), so
that a `VolumeSpec` is always valid; `Spec` is one run's volumes and `--logs-claim`.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Dict, FrozenSet, Optional, Sequence, Tuple

from ..records import Record


class Target(Record):
    """One entry of `targets`: the pod templates, every Airflow component (`airflow`), a component,
    or a kind/name/labels match. `implied`: not written by the user (the default targets), so a
    miss of it alone is no mistake to warn about; no part of equality."""

    __slots__ = ("pod_template", "component", "kind", "name", "labels", "airflow", "implied")

    def __init__(self, pod_template: bool = False, component: Optional[str] = None, kind: Optional[str] = None,
                 name: Optional[str] = None, labels: Tuple[Tuple[str, str], ...] = (), airflow: bool = False,
                 implied: bool = False) -> None:
        self.pod_template = pod_template
        self.component = component
        self.kind = kind
        self.name = name
        self.labels = labels
        self.airflow = airflow
        self.implied = implied  # the last field: equality and hash compare the others

    def _values(self) -> Tuple[object, ...]:
        return super()._values()[:-1]

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


class Create(Record):
    """A volume's `create:`: the claim postrender adds to the stream."""

    __slots__ = ("storage", "access_modes", "storage_class", "volume_mode", "keep")

    def __init__(self, storage: str, access_modes: Tuple[str, ...] = ("ReadWriteMany",),
                 storage_class: Optional[str] = None, volume_mode: Optional[str] = None, keep: bool = True) -> None:
        self.storage = storage
        self.access_modes = access_modes
        self.storage_class = storage_class
        self.volume_mode = volume_mode
        self.keep = keep  # helm.sh/resource-policy: keep


class VolumeSpec(Record):
    """One volume to inject: its claim, where it is mounted, in which pods and containers."""

    __slots__ = ("name", "claim", "mount_path", "read_only", "sub_path", "replace", "targets", "containers",
                 "create", "origin")

    def __init__(self, name: str, claim: str, mount_path: str, read_only: bool = False, sub_path: Optional[str] = None,
                 replace: bool = False, targets: Tuple[Target, ...] = (), containers: Tuple[str, ...] = ("*",),
                 create: Optional[Create] = None, origin: str = "spec") -> None:
        self.name = name
        self.claim = claim
        self.mount_path = mount_path
        self.read_only = read_only
        self.sub_path = sub_path
        self.replace = replace
        self.targets = targets  # set from DEFAULT_TARGETS by the loader
        # `()` mounts it in no container: only the volume is put on the claim (what --logs-claim does
        # to a logs volume it re-points in place, every mount kept as it is)
        self.containers = containers
        self.create = create
        self.origin = origin  # where it came from, for messages

    def selects_container(self, name: str, init: bool) -> bool:
        # init containers only when a pattern other than the catch-all names them
        matchers = _MATCHERS.get(self.containers)
        if matchers is None:  # made once per list of patterns: --logs-claim gives one per container
            matchers = _MATCHERS[self.containers] = (
                _ContainerMatcher(self.containers), _ContainerMatcher(tuple(p for p in self.containers if p != "*")))
        return matchers[init](name)


_GLOB_CHARS = frozenset("*?[\\")  # a pattern holding none of them is a literal name
# (all patterns, those that name init containers) per `containers` of a volume
_MATCHERS: Dict[Tuple[str, ...], Tuple["_ContainerMatcher", "_ContainerMatcher"]] = {}


class _ContainerMatcher:
    """`fnmatchcase` against any of a volume's `containers` patterns, in time independent of their
    number: literal names in a set, the globs in one compiled regex. --logs-claim names every
    container of a pod, so matching each container against each pattern would be quadratic."""

    def __init__(self, patterns: Tuple[str, ...]):
        self.literals = frozenset(p for p in patterns if _GLOB_CHARS.isdisjoint(p))
        globs = [p for p in dict.fromkeys(patterns) if p not in self.literals]
        self.everything = "*" in globs  # then no regex is needed (--logs-claim's `containers`)
        self.regex = None
        if globs and not self.everything:
            self.regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in globs))

    def __call__(self, name: str) -> bool:
        return (self.everything or name in self.literals
                or self.regex is not None and self.regex.match(name) is not None)


class SpecFile(Record):
    """What one source of the spec says (a spec file, a functionConfig, the command line): its
    volumes, and `strict` (None: it does not say) and the warning ids it `allow`s."""

    __slots__ = ("volumes", "strict", "allow")

    def __init__(self, volumes: Sequence[VolumeSpec] = (), strict: Optional[bool] = None,
                 allow: Tuple[str, ...] = ()) -> None:
        self.volumes = volumes
        self.strict = strict
        self.allow = allow


class Spec(Record):
    """One run's volumes, --logs-claim and --strict (whether changes are reported is the run's
    option: `pipeline.Pipeline(report_changes=...)`)."""

    __slots__ = ("volumes", "logs_claim", "strict", "allow")

    def __init__(self, volumes: Sequence[VolumeSpec] = (), logs_claim: Optional[str] = None, strict: bool = False,
                 allow: FrozenSet[str] = frozenset()) -> None:
        self.volumes = volumes
        self.logs_claim = logs_claim  # --logs-claim: resolved per pod, see targets.logs_volume
        self.strict = strict  # any warning not allowed fails the run (checks.refuse_warnings)
        self.allow = allow  # warning ids accepted under strict

    @property
    def empty(self) -> bool:
        return not self.volumes and not self.logs_claim
