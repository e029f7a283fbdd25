"""The spec: which claim-backed volumes go where.

A package of one job per module: `model` (the values the rest of the package
uses: `Spec`, `VolumeSpec`, `Target`, `Create`), `fields` (the field table),
`schema` (the JSON Schema built from it), `parse` (a spec's YAML checked into volumes,
every error with its line) and `sources` (spec files, the command line's
shorthands and their layering). The names the rest of the package uses are
re-exported here; those of `schema` and `parse` are imported on first use: a run
never builds the schema, and one with `--logs-claim` alone reads no spec.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fields import ACCESS_MODES, CREATE_FIELDS, DEFAULT_TARGETS, VOLUME_FIELDS, WORKLOAD_KINDS
from .model import Create, Spec, SpecFile, Target, VolumeSpec
from .sources import (
    SPEC_MAX_BYTES,
    SPEC_PIPE_TIMEOUT,
    config_paths,
    layer,
    layered_spec,
    load_spec_file,
    parse_allow_options,
    parse_claim_option,
    parse_volume_option,
    parse_volume_options,
    read_spec_bytes,
    read_spec_file,
)

__all__ = ["ACCESS_MODES", "CREATE_FIELDS", "DEFAULT_TARGETS", "VOLUME_FIELDS", "WORKLOAD_KINDS", "json_schema",
           "Create", "Spec", "SpecFile", "Target", "VolumeSpec", "parse_spec_file", "parse_spec_text",
           "spec_file_from_node", "unknown_warning_id", "volumes_from_node", "SPEC_MAX_BYTES", "SPEC_PIPE_TIMEOUT",
           "config_paths", "layer", "layered_spec", "load_spec_file", "parse_allow_options", "parse_claim_option",
           "parse_volume_option", "parse_volume_options", "read_spec_bytes", "read_spec_file"]

if TYPE_CHECKING:
    from .parse import parse_spec_file, parse_spec_text, spec_file_from_node, unknown_warning_id, volumes_from_node
    from .schema import json_schema

_ON_FIRST_USE = {"json_schema": "schema", "parse_spec_file": "parse", "parse_spec_text": "parse",
                 "spec_file_from_node": "parse", "unknown_warning_id": "parse", "volumes_from_node": "parse"}


def __getattr__(name: str) -> Any:
    """A name of spec/schema.py or spec/parse.py, imported when first asked for."""
    if name in _ON_FIRST_USE:
        import importlib

        return getattr(importlib.import_module(f".{_ON_FIRST_USE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
