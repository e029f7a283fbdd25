"""Records: classes of named fields, compared, hashed and shown by them, and nothing else.

The run's records are these: not dataclasses (defining a frozen one costs about 1.5 ms), nor
named tuples (defining a `typing.NamedTuple` in a module with `from __future__ import annotations`
costs about 1.7 M instructions: each field's annotation is compiled into a ForwardRef, the class's
`__new__` by `eval`; the run's fifteen were a tenth of a one-release run's own work). A Record
subclass costs a twentieth of that, and offers what the run used of a named tuple (`_replace`,
`_asdict`). Fields are not a tuple's: a record is neither indexed nor unpacked.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    """A direct subclass names its fields in `__slots__` and sets them in its `__init__`; two
    records are equal when they are of one class with equal fields."""

    __slots__ = ()

    def _values(self) -> Tuple[Any, ...]:
        """What equality and the hash compare: every field (a subclass may leave some out)."""
        names: Tuple[str, ...] = type(self).__slots__
        return tuple(getattr(self, name) for name in names)

    def _asdict(self) -> Dict[str, Any]:
        """The fields by name, in order (as a named tuple's `_asdict`)."""
        names: Tuple[str, ...] = type(self).__slots__
        return {name: getattr(self, name) for name in names}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def _replace(self: R, **changes: Any) -> R:
        """A copy with the given fields changed (as a named tuple's `_replace`)."""
        names: Tuple[str, ...] = type(self).__slots__
        unknown = set(changes) - set(names)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        copy = object.__new__(type(self))
        for name in names:
            setattr(copy, name, changes[name] if name in changes else getattr(self, name))
        return copy

    def __repr__(self) -> str:
        names: Tuple[str, ...] = type(self).__slots__
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({fields})"
