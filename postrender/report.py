"""What a run did: every change (object, key, volume, container, action) and every warning.

The CLI prints the warnings on stderr and, with `--report FILE`, writes the
whole result as JSON; KRM mode turns it into `results`.
"""
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Record:
    """One change, as the report lists it."""

    document: int
    object: str
    action: str
    volume: Optional[str] = None
    container: Optional[str] = None
    key: Optional[str] = None
    detail: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class Result:
    records: List[Record] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    templates: int = 0  # embedded pod templates seen
    helm4: bool = False  # the input carried Helm 4's filename annotations


def to_json(result: Result) -> str:
    return json.dumps({"changes": [r.as_dict() for r in result.records], "warnings": result.warnings}, indent=2)
