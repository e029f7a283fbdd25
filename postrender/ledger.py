"""What a run keeps across objects: the `Ledger`, and what the filter made of one object (`Edited`).

The filter (`edit.Editor`) notes here what each object tells about the stream (the ConfigMaps
seen and the hashes of the templates they changed, the claims declared and mounted, who writes
to them, the components met, an object that is not a Helm hook); the stream driver
(`pipeline.Pipeline`) records the findings, and what the documents it does not hand to the
filter tell (content, Helm 4's annotations, objects that are not hooks). Two parts of a stream
transformed in two processes `merge` their ledgers into one; the end-of-stream checks
(`checks`) read it.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from .claims import ClaimUsers, ClaimWriters, claims_needed
from .errors import Where
from .findings import Finding
from .seen import FirstSeen, digest
from .spec import VolumeSpec
from .targets import Site

ConfigMapKey = Tuple[Optional[str], str]  # (namespace, name)
Hashes = Tuple[str, ...]  # of the pod templates an occurrence of a ConfigMap changed


class ConfigMapsSeen:
    """Every ConfigMap of the stream and the hashes of the pod templates each occurrence changed:
    what a workload that mounts one needs in order to roll (`hashes_for`).

    A stream may hold millions of ConfigMaps, nearly all of them without a template: those are kept
    in `unchanged` (a `seen.FirstSeen`), 24 bytes each however long their names, with the document of
    their first occurrence. Only a ConfigMap that changed a template keeps a list of its
    occurrences; its unchanged ones before the first change count as that first one (a workload
    before the change gets no hash either way). Equal hashes are kept once: copies of one
    template cost no more than their list."""

    def __init__(self) -> None:
        self.unchanged = FirstSeen()
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
            self.unchanged.add(ref, document)
        else:
            first = self.unchanged.pop(ref)
            self.changed[key] = [(document, hashes)] if first is None else [(first, ()), (document, hashes)]

    def __contains__(self, ref: ConfigMapKey) -> bool:
        return self._key(ref) in self.changed or ref in self.unchanged

    def hashes_for(self, ref: ConfigMapKey, document: int) -> Hashes:
        """The hashes of the ConfigMap a workload at `document` mounts: its last occurrence up to
        that document, else its first one after (a ConfigMap further down)."""
        occurrences = self.changed.get(self._key(ref))
        if occurrences is None:
            return ()
        before = [hashes for at, hashes in occurrences if at <= document]
        return before[-1] if before else occurrences[0][1]

    def merge(self, later: "ConfigMapsSeen") -> None:
        """Fold in the ConfigMaps of the part of the stream that follows (as `add` would have, had
        they come here: an unchanged one is known by its digest only)."""
        changed = {digest(self._ref(key)): occurrences for key, occurrences in self.changed.items()}
        for key_digest, document in later.unchanged.records():
            occurrences = changed.get(key_digest)
            if occurrences is None:
                self.unchanged.add_digest(key_digest, document)
            else:
                occurrences.append((document, ()))
        for key, occurrences in later.changed.items():
            for document, hashes in occurrences:
                self.add(self._ref(key), document, hashes)


class Ledger:
    """Everything a run keeps across objects. `merge` folds a later part of the stream in, by
    each attribute's type, so a new attribute needs no merging code of its own."""

    def __init__(self) -> None:
        self.findings: List[Finding] = []
        self.configmaps = ConfigMapsSeen()  # and their changed templates
        self.matched: Set[str] = set()  # spec volume names that matched something
        self.claim_users: Dict[str, ClaimUsers] = {}  # claim -> sites using it
        # claim -> accessModes of the claims in the stream (a later declaration replaces an earlier
        # one: see _REPLACED)
        self.declared_modes: Dict[str, List[str]] = {}
        self.templates = 0  # embedded pod templates seen
        self.helm4 = False  # the input carried Helm 4's filename annotations
        # (volume name, index in its targets) of every target that matched something
        self.matched_targets: Set[Tuple[str, int]] = set()
        self.components: Set[str] = set()  # component label values of the workloads seen
        self.airflow = False  # the stream holds a worker pod template or an Airflow component workload
        # the stream holds an object that is not a Helm hook (Helm 4.2 may send the hooks on their own)
        self.has_release_objects = False
        self.content = False  # the stream holds a document that is more than comments and blank lines
        self.lists = False  # the stream holds a `kind: List` (whose items postrender does not look into)
        self.documents = 0  # documents read (a created claim is numbered after them, as `--diff` numbers it)
        self.logs_found = False  # --logs-claim found where the logs go (see targets.LOGS_CLAIM)
        self.writers: Dict[str, ClaimWriters] = {}  # claim -> who mounts it read-write
        # Helm hooks (Helm 4 sends them through the post-renderer): claims an object that is not a hook
        # mounts; claim -> the hook sites that mount it; claims a pre-install/pre-upgrade hook mounts
        self.release_claims: Set[str] = set()
        self.hook_users: Dict[str, ClaimUsers] = {}
        self.early_claims: Set[str] = set()
        self.hook_workloads = False  # the stream holds a workload that is a Helm hook

    _REPLACED = ("declared_modes",)  # dicts whose later entries replace earlier ones on merge

    def merge(self, later: "Ledger") -> None:
        for name, mine in vars(self).items():
            theirs = getattr(later, name)
            if isinstance(mine, bool):
                setattr(self, name, mine or theirs)
            elif isinstance(mine, int):
                setattr(self, name, mine + theirs)
            elif isinstance(mine, set):
                mine |= theirs
            elif isinstance(mine, list):
                mine.extend(theirs)
            elif isinstance(mine, ConfigMapsSeen):
                mine.merge(theirs)
            elif name in self._REPLACED:
                mine.update(theirs)
            else:  # dicts of records that merge: per key
                for key, value in theirs.items():
                    mine.setdefault(key, type(value)()).merge(value)

    def claims_to_create(self, volumes: Sequence[VolumeSpec]) -> List[VolumeSpec]:
        """The volumes whose claim `create:` emits (see `claims.claims_needed`)."""
        return claims_needed(volumes, self.declared_modes, self.claim_users, only_hooks=not self.has_release_objects)

    def record(self, findings: Iterable[Finding], changes: bool = True) -> None:
        """Keep `findings`, the changes among them only with `changes` (the warnings always)."""
        self.findings.extend(f for f in findings if changes or f.is_warning)

    @property
    def warnings(self) -> List[Finding]:
        return [f for f in self.findings if f.is_warning]

    @property
    def changes(self) -> List[Finding]:
        return [f for f in self.findings if not f.is_warning]


class Edited:
    """What the filter made of one object."""

    def __init__(self, value: Optional[Dict[str, Any]], where: Where, findings: List[Finding],
                 configmap: Optional[ConfigMapKey] = None, site: Optional[Site] = None,
                 refs: Optional[Set[ConfigMapKey]] = None, pending: Optional[Set[ConfigMapKey]] = None) -> None:
        self.value = value  # the new object, None when unchanged
        self.where = where  # the object's place, `Kind/name` included
        self.findings = findings  # what this object's edit found (the driver records them)
        self.configmap = configmap  # a ConfigMap's (namespace, name)
        self.site = site  # a workload's site
        # the ConfigMaps whose templates make it roll, and those of them not seen yet (call `roll` later)
        self.refs: Set[ConfigMapKey] = set() if refs is None else refs
        self.pending: Set[ConfigMapKey] = set() if pending is None else pending
