"""Drift check (`--check`): would the spec change anything in this stream?

Made for what Helm stored (`helm get manifest RELEASE`): Helm keeps the manifests it applied but
not the post-renderer, so a `helm upgrade` run without it stores (and applies) the chart's own
volumes again. The real pipeline runs over the stream and its changes are the answer, one line
each (`namespace/Kind/name [key] [container]: action volume`); the manifests are never written.
The `checksum/postrender` annotation alone is no drift: it follows a template change, and a
stored manifest whose templates are right needs no roll.

A stream in which no volume found any target proves nothing (an empty input from a failed
`helm get`, a pipe without `pipefail`, another release): that is an error, not "no drift".
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from .errors import InputError, Where
from .findings import Finding, printable
from .ledger import Ledger
from .read import Chunk, Piece, Stream
from .spec import Spec
from .targets import object_identity
from .twoprocess import transform_maybe_in_two
from .yamlio import load

NOT_DRIFT = frozenset({"annotated"})  # follows a template change; alone it changes no volume


def drifted(changes: Iterable[Finding]) -> List[Finding]:
    """The changes that are drift (all but the roll annotation)."""
    return [change for change in changes if change.id not in NOT_DRIFT]


def _kept(pieces: Iterable[Piece], into: Dict[int, Chunk]) -> Iterator[Piece]:
    """Pass the pieces on, keeping each document that may change (a Batch holds none) by number."""
    for piece in pieces:
        if isinstance(piece, Chunk) and not piece.blank:
            into[piece.index] = piece
        yield piece


def _namespace(chunk: Optional[Chunk]) -> Optional[str]:
    if chunk is None:  # a claim `create:` would add: it has no namespace of its own
        return None
    try:
        data: Any = load(chunk.text(), Where(document=chunk.index), chunk.first_line)
    except InputError:
        return None
    return object_identity(data)[2]


def check_lines(changes: List[Finding], chunks: Dict[int, Chunk]) -> List[str]:
    """One line per change: `namespace/Kind/name [key] [container]: action volume`, printable."""
    namespaces: Dict[int, Optional[str]] = {}
    lines = []
    for change in changes:
        where = change.where
        document = where.document or 0
        if document not in namespaces:
            namespaces[document] = _namespace(chunks.get(document))
        namespace = namespaces[document]
        obj = where.obj or "document %d" % document
        if where.key and obj.endswith(f" key {where.key}"):  # a site label names the key itself
            obj = obj[:-len(f" key {where.key}")]
        head = " ".join(part for part in (obj, where.key, where.container) if part)
        if namespace:
            head = f"{namespace}/{head}"
        lines.append(printable(f"{head}: {change.id}" + (f" {change.volume}" if change.volume else "")))
    return lines


def no_target(ledger: Ledger, spec: Spec) -> Optional[InputError]:
    """The error of a stream in which no volume found a target (None when one did)."""
    if ledger.matched:
        return None
    hint = ("check the release name and namespace, and run the pipe under `set -o pipefail` so that a "
            "failed `helm get manifest` fails the check")
    if not ledger.content:
        return InputError("nothing to check: the input is empty (did `helm get manifest` fail?)", hint=hint)
    wanted = [f"{volume.name} ({', '.join(t.describe() for t in volume.targets)})" for volume in spec.volumes]
    if spec.logs_claim:
        wanted.append(f"--logs-claim {spec.logs_claim} (the Airflow logs volume)")
    return InputError("nothing to check: no volume found a target in the stream, so it cannot tell whether "
                      "the stream has drifted: " + "; ".join(wanted), hint=hint)


def check_stream(stream: Stream, started: Iterable[Piece], spec: Spec) -> Tuple[List[str], Ledger]:
    """(one line per change that is drift, the run's Ledger); the transformed stream is dropped."""
    chunks: Dict[int, Chunk] = {}
    output, ledger = transform_maybe_in_two(stream, spec, _kept(started, chunks), report_changes=True)
    output.close()
    return check_lines(drifted(ledger.changes), chunks), ledger
