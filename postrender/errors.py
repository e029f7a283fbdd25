"""Failures: an exception that carries the run's error as a `Finding` (severity `error`).

Every failure is a typed error that knows where it happened: its finding has
the id of its kind, the place, the message and a hint on what to do. The CLI
renders that finding on stderr (and in `--report`, and under Helm 4 where
the user can still see it) and exits with the type's code (1: the input
cannot be transformed, 2: bad usage or bad spec); KRM mode renders it as an
error result. The rest of the package raises; only the CLI and the plugin
launcher print and exit.

`Where` and `stream_line` belong to the finding model and are importable from
here too: most of the package meets a place when it raises an error.
"""
from __future__ import annotations

from typing import Any, List, Optional

from .findings import ERROR, INVALID_INPUT, INVALID_SPEC, STRICT_WARNINGS, Finding, Where, stream_line

__all__ = ["PostrenderError", "InputError", "SpecError", "StrictError", "Where", "stream_line"]


class PostrenderError(Exception):
    """Base class: the error's finding (its message, place and an optional hint)."""

    exit_code = 1
    finding_id = INVALID_INPUT  # the kind of error a type stands for, unless told otherwise

    def __init__(self, message: str, where: Optional[Where] = None, hint: Optional[str] = None,
                 subject: Any = None, finding_id: Optional[str] = None):
        super().__init__(message)  # the one positional argument: what unpickling (from a child) passes back
        self.finding = Finding(ERROR, finding_id or self.finding_id, message, where or Where(), hint=hint)
        # the input value it is about (a volume, a mount, a container): whoever holds the nodes
        # the value was read from can say on which line it stands
        self.subject = subject

    @property
    def message(self) -> str:
        return self.finding.message

    @property
    def hint(self) -> Optional[str]:
        return self.finding.hint

    @property
    def where(self) -> Where:
        return self.finding.where

    @where.setter
    def where(self, where: Where) -> None:
        finding = self.finding
        self.finding = Finding(finding.severity, finding.id, finding.message, where, hint=finding.hint)

    def located(self, where: Where) -> "PostrenderError":
        """Fill in the parts of the place this error does not know yet."""
        known = {k: v for k, v in self.where._asdict().items() if v is not None}
        self.where = where.but(**known)
        return self

    def __str__(self) -> str:
        return str(self.finding)


class InputError(PostrenderError):
    """The manifests cannot be transformed (bad YAML, a conflict, an invalid pod)."""

    exit_code = 1
    finding_id = INVALID_INPUT


class SpecError(PostrenderError):
    """The spec file or the command line is wrong."""

    exit_code = 2
    finding_id = INVALID_SPEC


class StrictError(InputError):
    """`--strict` refused the run's warnings: they are its message (`warnings`, shown before it)."""

    finding_id = STRICT_WARNINGS

    def __init__(self, message: str, warnings: List[Finding], hint: Optional[str] = None):
        super().__init__(message, hint=hint)
        self.warnings = warnings
