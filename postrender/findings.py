"""What a run found and did, as data: every change and every warning is a `Finding`.

Like kyaml's `framework.Result` and yamllint's `LintProblem`, a finding carries
its severity, the place (document, line, `Kind/name`, ConfigMap key, container),
and for a change its action and volume. Every output derives from the same
findings: the warnings on stderr (and, under Helm, the terminal and the log),
`--report` JSON, KRM `results`.
"""
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional

from .errors import Where

INFO = "info"  # a change made
WARNING = "warning"  # something the user must hear of; the run still succeeds


@dataclass(frozen=True)
class Finding:
    severity: str
    message: str  # without the place: `where` says it
    where: Where = Where()
    action: Optional[str] = None  # a change's kind: added | replaced | added-mount | ... | annotated | created
    volume: Optional[str] = None
    detail: Optional[str] = None

    @classmethod
    def change(cls, action: str, where: Where, volume: Optional[str] = None,
               detail: Optional[str] = None) -> "Finding":
        return cls(INFO, action, where, action, volume, detail)

    @classmethod
    def warning(cls, message: str, where: Where = Where()) -> "Finding":
        return cls(WARNING, message, where)

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    def __str__(self) -> str:
        place = str(self.where)
        return f"{place}: {self.message}" if place else self.message

    def as_change(self) -> Dict[str, Any]:
        """The report's entry for a change (the fields that are set)."""
        entry = {"document": self.where.document or 0, "object": self.where.obj, "action": self.action,
                 "volume": self.volume, "container": self.where.container, "key": self.where.key,
                 "detail": self.detail}
        return {k: v for k, v in entry.items() if v is not None}


def report_json(findings: Iterable[Finding]) -> str:
    """`--report`: every change, then every warning as a line of text."""
    found = list(findings)
    return json.dumps({"changes": [f.as_change() for f in found if not f.is_warning],
                       "warnings": [str(f) for f in found if f.is_warning]}, indent=2)
