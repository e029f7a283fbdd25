"""The JSON Schema of a spec file (`--schema`), built from the field table of spec/fields.py.

A module of its own: only `--schema` (and whoever validates specs with it) needs it, never a run.
"""
from __future__ import annotations

from typing import Any, Dict

from .fields import HEADER_FIELDS, OPTION_FIELDS, VOLUME_FIELDS, VOLUME_REQUIRED


def json_schema() -> Dict[str, Any]:
    """The JSON Schema of a spec file, built from the same tables the loader checks."""
    volume = {"type": "object", "additionalProperties": False, "properties": VOLUME_FIELDS,
              "required": list(VOLUME_REQUIRED)}
    volumes = {"type": "array", "items": volume}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://postrender.invalid/schema/v1/spec.json",
        "title": "postrender spec (VolumeInjection)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **HEADER_FIELDS,
            "volumes": volumes,
            **OPTION_FIELDS,
            "spec": {"type": "object", "additionalProperties": False,
                     "properties": {"volumes": volumes, **OPTION_FIELDS}, "required": ["volumes"]},
        },
        # the volumes list at the top level or under `spec` (KRM style), not both; or a file that only
        # says `strict` or `allow`, layered over one with volumes
        "anyOf": [{"required": ["volumes"]}, {"required": ["spec"]}, {"required": ["strict"]}, {"required": ["allow"]}],
        "not": {"required": ["volumes", "spec"]},
    }
