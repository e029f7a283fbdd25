"""One error model: every failure is a typed error that knows where it happened.

The CLI turns these into one to a few lines on stderr and an exit code
(1: the input cannot be transformed, 2: bad usage or bad spec). Nothing else
in the package prints or exits.
"""
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Where:
    """A place in the input: stream document, line/column, object, ConfigMap key, container."""

    source: Optional[str] = None  # a spec file path, or None for the manifest stream
    document: Optional[int] = None  # 1-based document number in the stream
    line: Optional[int] = None  # 1-based line in the stream (or spec file)
    column: Optional[int] = None  # 1-based
    obj: Optional[str] = None  # "Kind/name"
    key: Optional[str] = None  # ConfigMap data key holding an embedded pod template
    container: Optional[str] = None

    def but(self, **changes) -> "Where":
        # what dataclasses.replace does, at a tenth of its cost: one call per object of the stream
        if not changes.keys() <= vars(self).keys():
            raise TypeError(f"Where has no field {sorted(changes.keys() - vars(self).keys())}")
        new = object.__new__(Where)
        vars(new).update(vars(self), **changes)
        return new

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


class PostrenderError(Exception):
    """Base class: a message, a place and an optional hint on what to do."""

    exit_code = 1

    def __init__(self, message: str, where: Optional[Where] = None, hint: Optional[str] = None,
                 subject: Any = None):
        super().__init__(message)
        self.message = message
        self.where = where or Where()
        self.hint = hint
        # the input value it is about (a volume, a mount, a container): whoever holds the nodes
        # the value was read from can say on which line it stands
        self.subject = subject

    def located(self, where: Where) -> "PostrenderError":
        """Fill in the parts of the place this error does not know yet."""
        known = {k: v for k, v in vars(self.where).items() if v is not None}
        self.where = where.but(**known)
        return self

    def __str__(self) -> str:
        place = str(self.where)
        text = f"{place}: {self.message}" if place else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(PostrenderError):
    """The manifests cannot be transformed (bad YAML, a conflict, an invalid pod)."""

    exit_code = 1


class SpecError(PostrenderError):
    """The spec file or the command line is wrong."""

    exit_code = 2
