"""The end-of-stream checks: warnings that need the whole stream, one function each.

Like yamllint's rules, each check is a function of what the run kept (the `Ledger`)
and the spec, and returns its warnings; `end_of_stream` runs them all in a fixed
order. The driver records what they say once the last object is done.

- `missed_targets`: a volume that matched nothing; in a stream that holds Airflow, a
  target the user wrote that matched nothing while another of its volume matched (with
  a did-you-mean from the component labels the stream has).
- `logs_claim_unused`: `--logs-claim` found no logs volume.
- `unwritable_claims`: pods of different users write to one claim and share no group.
- `shared_single_pod_claims`: a ReadWriteOnce(Pod) claim mounted by several pods.
- `hook_claims`: a claim `create:` emits that only Helm hooks mount, or that a
  pre-install/pre-upgrade hook mounts (it would not exist yet when the hook runs); a
  `create:` claim mounted in a stream of hooks only (where it is not emitted).

An empty stream, or one of Helm hooks only (Helm 4.2's `separate` post-render strategy
sends the hooks on their own), draws none of the first two.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

from .claims import writability_warning
from .errors import StrictError
from .findings import (
    CLAIM_NOT_WRITABLE,
    CREATED_CLAIM_FOR_HOOKS,
    CREATED_CLAIM_IN_HOOKS_STREAM,
    LOGS_VOLUME_NOT_FOUND,
    RWO_CLAIM_SHARED,
    TARGET_MATCHED_NOTHING,
    VOLUME_MATCHED_NOTHING,
    Finding,
)
from .ledger import Ledger
from .spec import Spec, Target
from .targets import DEFAULT_LOG_PATHS, WEB_COMPONENTS


def missed_targets(ledger: Ledger, spec: Spec) -> List[Finding]:
    """A volume that matched nothing; and, in a stream that holds Airflow (a worker pod template
    or an Airflow component workload), each target the user wrote that matched nothing while
    another target of its volume matched."""
    if not ledger.has_release_objects:
        return []
    found = []
    seen = sorted(ledger.components)
    for volume in spec.volumes:
        if volume.name not in ledger.matched:
            targets = ", ".join(t.describe() for t in volume.targets)
            text = f"volume {volume.name!r} matched no object (targets: {targets})"
            if ledger.helm4 and not ledger.hook_workloads:
                # Helm 4 sends the hooks with the release's objects, unless an SDK's `separate`
                # strategy sends them in a run of their own: a hook target then misses here
                text += ("; this Helm 4 stream holds no hook workload: if the targets are Helm hooks, they were "
                         "post-rendered in a run of their own (Helm 4.2's `separate` post-render strategy)")
            if not ledger.airflow:
                text += "; the stream holds no Airflow worker pod template or component workload" + list_note(ledger)
            else:
                guesses = [(t.describe(), nearest(t, seen)) for t in volume.targets]
                hints = [f"{near!r} for {word!r}" for word, near in guesses if near]
                text += f"; did you mean {', '.join(hints)}?" if hints else ""
            found.append(Finding.warning(VOLUME_MATCHED_NOTHING, text))
            continue
        if not ledger.airflow:
            continue
        for index, target in enumerate(volume.targets):
            if (volume.name, index) in ledger.matched_targets or target.implied:
                continue
            text = f"volume {volume.name!r}: target {target.describe()!r} matched nothing"
            near = nearest(target, seen)
            if near:
                text += f" (did you mean {near!r}?)"
            elif target.pod_template:
                text += " (the stream has no worker pod template: does the executor include the KubernetesExecutor?)"
            elif target.component is not None and seen:
                text += f" (components in the stream: {', '.join(seen)})"
            found.append(Finding.warning(TARGET_MATCHED_NOTHING, text))
    return found


def nearest(target: Target, seen: List[str]) -> Optional[str]:
    """The component label value in the stream a component target most likely meant: the one the
    stream has of api-server / webserver / web (one role, three names), else the closest spelling."""
    word = target.component
    if word is None or not seen:
        return None
    if word in WEB_COMPONENTS:
        same_role = [c for c in WEB_COMPONENTS if c in seen and c != word]
        if same_role:
            return same_role[0]
    import difflib  # here only: a suggestion is rare, and difflib costs every start-up

    close = difflib.get_close_matches(word, seen, n=1, cutoff=0.6)
    return close[0] if close else None


def logs_claim_unused(ledger: Ledger, spec: Spec) -> List[Finding]:
    """`--logs-claim` in a stream with objects, and no Airflow logs volume found."""
    if not ledger.has_release_objects or not spec.logs_claim or ledger.logs_found:
        return []
    return [Finding.warning(
        LOGS_VOLUME_NOT_FOUND,
        f"--logs-claim {spec.logs_claim}: found no Airflow logs volume (nothing mounted at "
        f"{' or '.join(DEFAULT_LOG_PATHS)}, nor at the log folder the containers' AIRFLOW_HOME or "
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER names, in a worker pod template or workload)"
        + ("" if ledger.matched else "; nothing was changed") + list_note(ledger))]


def list_note(ledger: Ledger) -> str:
    """Why a stream of `kind: List` wrappers matched nothing (postrender reads documents, not List items)."""
    if not ledger.lists:
        return ""
    return ("; it holds a `kind: List`, and postrender does not look inside a List: feed it the List's items "
            "as documents (e.g. `yq '.items[] | split_doc'`)")


def unwritable_claims(ledger: Ledger, spec: Spec) -> List[Finding]:
    """Claims whose writers run as different users and share no group (see `claims.ClaimWriters`)."""
    texts = (writability_warning(claim, found) for claim, found in sorted(ledger.writers.items()))
    return [Finding.warning(CLAIM_NOT_WRITABLE, text) for text in texts if text is not None]


def shared_single_pod_claims(ledger: Ledger, spec: Spec) -> List[Finding]:
    """Claims only one node (ReadWriteOnce) or one pod (ReadWriteOncePod) may use, mounted by
    several pods at once. The access modes are the declared claim's, else those `create:` gives."""
    modes = dict(ledger.declared_modes)
    for volume in spec.volumes:
        if volume.create is not None:
            modes.setdefault(volume.claim, list(volume.create.access_modes))
    found = []
    for claim, users in sorted(ledger.claim_users.items()):
        access = modes.get(claim, [])
        single = [m for m in ("ReadWriteOncePod", "ReadWriteOnce") if m in access]
        if single and "ReadWriteMany" not in access and users.shared:
            why = ("only one pod at a time may use it, the others stay Pending" if single[0] == "ReadWriteOncePod"
                   else "pods on different nodes will hang in ContainerCreating (Multi-Attach error)")
            found.append(Finding.warning(
                RWO_CLAIM_SHARED,
                f"claim {claim!r} is {single[0]} but is mounted by {users.describe()}: {why}; use ReadWriteMany"))
    return found


_OUTSIDE = ("such a claim must exist before the release: create it outside Helm (e.g. `kubectl apply -f "
            "pvc.yaml`) and drop `create:` from volume {volume!r}")


def hook_claims(ledger: Ledger, spec: Spec) -> List[Finding]:
    """Helm 4 sends hooks through the post-renderer (Helm 3 never does), even under `--no-hooks`, and
    creates a release's objects only after its pre-install/pre-upgrade hooks ran. So a claim that
    `create:` emits is wrong for a hook: one that only hooks mount would not exist when a pre-* hook
    runs (or is created for nothing under --no-hooks), one that a pre-* hook mounts would not exist
    yet for it; and in a stream of hooks only the claim is not emitted at all (`claims.claims_needed`)."""
    found = []
    if not ledger.has_release_objects:
        done = set(ledger.declared_modes)
        for volume in spec.volumes:
            if volume.create is None or volume.claim not in ledger.hook_users or volume.claim in done:
                continue
            done.add(volume.claim)
            found.append(Finding.warning(CREATED_CLAIM_IN_HOOKS_STREAM, (
                f"claim {volume.claim!r} of volume {volume.name!r} is mounted by Helm hooks "
                f"({ledger.hook_users[volume.claim].describe()}) in a stream of hooks only, where `create:` does "
                "not emit it (Helm 4.2's `separate` post-render strategy post-renders the hooks on their own); "
                + _OUTSIDE.format(volume=volume.name))))
        return found
    for volume in ledger.claims_to_create(spec.volumes):
        users = ledger.hook_users.get(volume.claim)
        if users is None:
            continue
        if volume.claim not in ledger.release_claims:
            why = (f"is mounted only by Helm hooks ({users.describe()}): Helm creates it with the release's objects, "
                   "after the pre-install and pre-upgrade hooks ran, so such a hook waits for a claim that does not "
                   "exist yet, and under --no-hooks it is created for nothing")
        elif volume.claim in ledger.early_claims:
            why = (f"is mounted by a pre-install or pre-upgrade hook ({users.describe()}), which Helm runs before "
                   "it creates the claim with the release's objects: the hook waits for a claim that does not "
                   "exist yet")
        else:
            continue
        found.append(Finding.warning(CREATED_CLAIM_FOR_HOOKS, f"claim {volume.claim!r} that `create:` emits "
                                     f"for volume {volume.name!r} {why}; " + _OUTSIDE.format(volume=volume.name)))
    return found


Check = Callable[[Ledger, Spec], List[Finding]]
CHECKS: Tuple[Check, ...] = (missed_targets, logs_claim_unused, unwritable_claims, shared_single_pod_claims,
                             hook_claims)


def end_of_stream(ledger: Ledger, spec: Spec) -> List[Finding]:
    """What every check says, in the order of `CHECKS`."""
    return [finding for check in CHECKS for finding in check(ledger, spec)]


def refuse_warnings(spec: Spec, warnings: List[Finding]) -> None:
    """Under `--strict` (`strict: true`), fail the run on any warning whose id is not allowed:
    StrictError carries every warning of the run, to be shown before it."""
    if not spec.strict:
        return
    refused = [warning for warning in warnings if warning.id not in spec.allow]
    if not refused:
        return
    ids = ", ".join(dict.fromkeys(warning.id for warning in refused))
    count = f"{len(refused)} warning" + ("s" if len(refused) > 1 else "")
    raise StrictError(f"strict mode refused {count} ({ids}); nothing was written", warnings,
                      hint=f"fix what {'they say' if len(refused) > 1 else 'it says'}, or accept a kind of warning "
                           f"with --allow ID (`allow: [ID]` in the spec), e.g. --allow {refused[0].id}")
