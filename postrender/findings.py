"""The finding model: every change, warning and error of a run is a `Finding`.

Like kyaml's `framework.Result` and yamllint's `LintProblem`, a finding carries
its severity (`info`: a change made; `warning`: the run still succeeds;
`error`: the run fails, the finding carried by a `PostrenderError`), a stable
kebab-case `id` of its kind (a change's action, a warning's kind, an error's
kind), its place (`Where`: document, line, `Kind/name`, ConfigMap key,
container) and its message, which never repeats the place. A change also
names its volume and a detail; an error may say what to do (`hint`).

Every output is rendered here, from those fields, by one renderer each:
`stderr_line` (stderr, and under Helm the terminal and the log file),
`report_json` (`--report`), `krm_message` and `krm_tags` (KRM `results`,
which krm.py wraps with the item's reference).
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Optional

from .records import Record

INFO = "info"  # a change made
WARNING = "warning"  # something the user must hear of; the run still succeeds
ERROR = "error"  # the run fails: nothing on stdout

# The kinds of warning, each with a stable id (scripts and `--strict`'s exceptions name them)
# and what it is about (the README's table).
VOLUME_MATCHED_NOTHING = "volume-matched-nothing"
TARGET_MATCHED_NOTHING = "target-matched-nothing"
LOGS_VOLUME_NOT_FOUND = "logs-volume-not-found"
CLAIM_TEMPLATE_REMOVED = "claim-template-removed"
RWO_CLAIM_SHARED = "rwo-claim-shared"
CLAIM_NOT_WRITABLE = "claim-not-writable"
REPEATED_KEY_EDITED = "repeated-key-edited"
VOLUME_NOT_MOUNTED = "volume-not-mounted"
UNREADABLE_POD_TEMPLATE = "unreadable-pod-template"
CREATED_CLAIM_FOR_HOOKS = "created-claim-for-hooks"
CREATED_CLAIM_IN_HOOKS_STREAM = "created-claim-in-hooks-stream"
WARNINGS: Dict[str, str] = {
    VOLUME_MATCHED_NOTHING: "a volume whose targets matched no object",
    TARGET_MATCHED_NOTHING: "a target you wrote matched nothing, in a stream with Airflow in it",
    LOGS_VOLUME_NOT_FOUND: "--logs-claim found no Airflow logs volume",
    CLAIM_TEMPLATE_REMOVED: "a StatefulSet volumeClaimTemplate was removed (an immutable field)",
    RWO_CLAIM_SHARED: "a ReadWriteOnce or ReadWriteOncePod claim is mounted by several pods",
    CLAIM_NOT_WRITABLE: "a claim is written by pods of different users that share no owner group",
    REPEATED_KEY_EDITED: "an edit went to the last of a repeated key's occurrences",
    VOLUME_NOT_MOUNTED: "a volume was added to a pod template without containers but mounted nowhere",
    UNREADABLE_POD_TEMPLATE: "a ConfigMap value that looks like a pod template is not readable YAML",
    CREATED_CLAIM_FOR_HOOKS: "a claim that `create:` emits is mounted only by Helm hooks, or by a pre-install or "
                             "pre-upgrade hook, which run before it exists",
    CREATED_CLAIM_IN_HOOKS_STREAM: "a `create:` claim is mounted in a stream of Helm hooks only, where it is not "
                                   "created",
}

# The kinds of error.
INVALID_INPUT = "invalid-input"  # the manifests cannot be transformed (exit 1)
INVALID_SPEC = "invalid-spec"  # the spec or an option's value is wrong (exit 2)
USAGE_ERROR = "usage-error"  # the command line is wrong (exit 2)
INTERRUPTED = "interrupted"  # Ctrl-C (exit 130)
OUTPUT_ERROR = "output-error"  # stdout cannot be written: closed, a full disk (exit 1)
INTERNAL_ERROR = "internal-error"  # a bug of ours (exit 1)
STRICT_WARNINGS = "strict-warnings"  # --strict refused the run's warnings (exit 1)
ERRORS: Dict[str, str] = {
    INVALID_INPUT: "the manifests cannot be transformed (bad YAML, a conflict, an invalid pod)",
    INVALID_SPEC: "the spec file, the functionConfig or an option's value is wrong",
    USAGE_ERROR: "options that do not exist, conflict or would be ignored",
    INTERRUPTED: "the run was interrupted",
    OUTPUT_ERROR: "stdout cannot be written (closed, a full disk, an I/O error)",
    INTERNAL_ERROR: "a bug of postrender's (please report it with the input)",
    STRICT_WARNINGS: "--strict (or `strict: true`) refused the run's warnings that no --allow accepts",
}

REPORT_VERSION = 1


class Where(Record):
    """A place in the input: stream document, line/column, object, ConfigMap key, container.

    The records of a run are `records.Record`s, not dataclasses: a frozen dataclass costs about
    1.5 ms to define, a tenth of a one-release run's own work (see `tests/test_startup.py`)."""

    __slots__ = ("source", "document", "line", "column", "obj", "key", "container")

    def __init__(self, source: Optional[str] = None, document: Optional[int] = None, line: Optional[int] = None,
                 column: Optional[int] = None, obj: Optional[str] = None, key: Optional[str] = None,
                 container: Optional[str] = None) -> None:
        self.source = source  # a spec file path, or None for the manifest stream
        self.document = document  # 1-based document number in the stream
        self.line = line  # 1-based line in the stream (or spec file)
        self.column = column  # 1-based
        self.obj = obj  # "Kind/name"
        self.key = key  # ConfigMap data key holding an embedded pod template
        self.container = container

    def but(self, **changes: Any) -> "Where":
        return self._replace(**changes)

    def __str__(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source)
        if self.document is not None:
            parts.append(f"document {self.document}")
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        if self.obj:
            parts.append(self.obj)
        if self.key and not (self.obj and self.obj.endswith(f" key {self.key}")):  # a site label names it
            parts.append(f"key {self.key}")
        if self.container:
            parts.append(f"container {self.container}")
        return ", ".join(parts)


def stream_line(first_line: int, line: int) -> int:
    """The 1-based stream line of `line`, a 0-based line (as libyaml's marks count them) of a text
    that starts after `first_line` lines of the stream (a chunk's `first_line`; 0 for a whole text)."""
    return first_line + line + 1


# What a change did, in words: (sentence, where its detail goes: after "at", in parentheses, nowhere).
_CHANGES = {
    "added": ("added volume {volume}", "()"),
    "replaced": ("replaced volume {volume}", "()"),
    "added-mount": ("mounted volume {volume}", "at"),
    "updated-mount": ("updated the mount of volume {volume}", "at"),
    "repointed-mount": ("re-pointed a mount to volume {volume}", "at"),
    "removed-claim-template": ("removed volumeClaimTemplate {volume}", ""),  # its detail is its warning's
    "added-container": ("added a stub for Airflow's task container", "()"),
    "annotated": ("annotated the pod template", "()"),
    "created": ("created this claim for volume {volume}", "()"),
}


class Finding(Record):
    """A change made, a warning or an error, with its place (see the module)."""

    __slots__ = ("severity", "id", "message", "where", "volume", "detail", "hint")

    def __init__(self, severity: str, id: str, message: str, where: Where = Where(), volume: Optional[str] = None,
                 detail: Optional[str] = None, hint: Optional[str] = None) -> None:
        self.severity = severity
        self.id = id  # stable, kebab-case: a change's action, a warning's or an error's kind
        self.message = message  # without the place: `where` says it
        self.where = where
        self.volume = volume
        self.detail = detail
        self.hint = hint  # what to do (errors)

    @classmethod
    def change(cls, action: str, where: Where, volume: Optional[str] = None,
               detail: Optional[str] = None) -> "Finding":
        """A change made: `action` is its id (added | replaced | added-mount | ... | annotated | created)."""
        sentence, detail_goes = _CHANGES.get(action, (action + (" volume {volume}" if volume else ""), "()"))
        message = sentence.format(volume=volume)
        if detail_goes == "at" and detail:
            message += f" at {detail}"
        return cls(INFO, action, message, where, volume, detail)

    @classmethod
    def warning(cls, finding_id: str, message: str, where: Where = Where()) -> "Finding":
        """A warning of the kind `finding_id` (one of `WARNINGS`)."""
        return cls(WARNING, finding_id, message, where)

    @classmethod
    def error(cls, finding_id: str, message: str, where: Where = Where(), hint: Optional[str] = None) -> "Finding":
        return cls(ERROR, finding_id, message, where, hint=hint)

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    @property
    def action(self) -> Optional[str]:
        """A change's kind (its id); None for a warning or an error."""
        return self.id if self.severity == INFO else None

    def __str__(self) -> str:
        """The place, the message and, on a line of its own, the hint."""
        place = str(self.where)
        text = f"{place}: {self.message}" if place else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


# -- renderers -------------------------------------------------------------------------------------
_ASCII_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    """`text` with every control or format character but line breaks and tabs written as an escape
    (`\\x1b`, `\\u202e`): names from the input reach a terminal, a log or a CI log as text, never as
    an escape sequence (a window title, the clipboard through OSC 52, reordered text)."""
    if text.isascii() and not _ASCII_CONTROLS.search(text):
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)


def stderr_line(finding: Finding) -> str:
    """A warning or an error as postrender writes it on stderr (and, under Helm, to the terminal and
    the log): `postrender: warning[ID]: PLACE: MESSAGE`, `postrender: error: PLACE: MESSAGE`; control
    characters from the input escaped (`printable`)."""
    head = f"warning[{finding.id}]" if finding.is_warning else finding.severity
    return printable(f"postrender: {head}: {finding}")


def internal_error(exc: BaseException) -> Finding:
    """A bug of ours: no traceback, but what to report."""
    return Finding.error(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc} (please report this with "
                                         "the input that caused it)")


def interrupted() -> Finding:
    return Finding.error(INTERRUPTED, "interrupted")


def _place(where: Where) -> Dict[str, Any]:
    """The place of a warning or an error in the report: the fields that are known."""
    entry = {"source": where.source, "document": where.document, "line": where.line, "column": where.column,
             "object": where.obj, "key": where.key, "container": where.container}
    return {k: v for k, v in entry.items() if v is not None}


def report_entry(finding: Finding) -> Dict[str, Any]:
    """The report's entry for a finding: a change's fields as they always were (`document` 0 when
    it has none); a warning's or an error's severity, id, place, message (and hint)."""
    if finding.severity == INFO:
        where = finding.where
        entry = {"document": where.document or 0, "object": where.obj, "action": finding.id,
                 "volume": finding.volume, "container": where.container, "key": where.key,
                 "detail": finding.detail}
        return {k: v for k, v in entry.items() if v is not None}
    entry = {"severity": finding.severity, "id": finding.id, **_place(finding.where), "message": finding.message}
    if finding.hint:
        entry["hint"] = finding.hint
    return entry


def report_json(findings: Iterable[Finding], error: Optional[Finding] = None) -> str:
    """`--report`: the format's version, every change, every warning and the error (null when the
    run succeeded; a failed run made no change: its changes and warnings are empty)."""
    import json  # only for --report: the rest of a run needs no JSON encoder

    found = list(findings)
    return json.dumps({"version": REPORT_VERSION,
                       "changes": [report_entry(f) for f in found if f.severity == INFO],
                       "warnings": [report_entry(f) for f in found if f.is_warning],
                       "error": report_entry(error) if error is not None else None}, indent=2)


def krm_message(finding: Finding, item_known: bool = True) -> str:
    """A KRM result's message. A change reads as a sentence about its item (`item_known`: the result
    names the item in its resourceRef; else the object starts the message), its key first and its
    container and detail after; a warning or an error reads as on stderr, without the head."""
    if finding.severity != INFO:
        return str(finding)
    where = finding.where
    text = finding.message
    if where.key:
        text = f"pod template in key {where.key}: {text}"
    if where.container:
        text += f" in container {where.container}"
    if finding.detail and _CHANGES.get(finding.id, ("", "()"))[1] == "()":
        text += f" ({finding.detail})"
    return text if item_known else f"{where.obj}: {text}"


def krm_tags(finding: Finding) -> Dict[str, str]:
    """A KRM result's tags: a change's action, volume, container and key; a warning's or an error's id."""
    if finding.severity == INFO:
        tags = {"action": finding.id, "volume": finding.volume, "container": finding.where.container,
                "key": finding.where.key}
        return {k: v for k, v in tags.items() if v}
    return {"id": finding.id}
