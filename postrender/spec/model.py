"""The spec as the rest of the package sees it: the volumes to inject, their targets and claims.

Plain frozen values, built only by spec/parse.py (from a spec file, a KRM
functionConfig or a command-line shorthand), so that a `VolumeSpec` is always
valid; `Spec` is one run's volumes and `--logs-claim`.
"""
import fnmatch
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple


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
    logs_claim: Optional[str] = None  # --logs-claim: resolved per pod, see targets.logs_volume
    # (whether changes are reported is the run's option: `pipeline.Pipeline(report_changes=...)`)

    @property
    def empty(self) -> bool:
        return not self.volumes and not self.logs_claim
