"""The spec: which claim-backed volumes go where.

A package of one job per module: `model` (the values the rest of the package
uses: `Spec`, `VolumeSpec`, `Target`, `Create`), `fields` (the field table and
the JSON Schema built from it), `parse` (a spec's YAML checked into volumes,
every error with its line) and `sources` (spec files, the command line's
shorthands and their layering). The names the rest of the package uses are
re-exported here.
"""
from .fields import ACCESS_MODES, CREATE_FIELDS, DEFAULT_TARGETS, VOLUME_FIELDS, WORKLOAD_KINDS, json_schema
from .model import Create, Spec, Target, VolumeSpec
from .parse import parse_spec_text, volumes_from_node
from .sources import (
    SPEC_MAX_BYTES,
    SPEC_PIPE_TIMEOUT,
    config_paths,
    layer,
    load_spec_file,
    parse_claim_option,
    parse_volume_option,
    parse_volume_options,
    read_spec_bytes,
)

__all__ = ["ACCESS_MODES", "CREATE_FIELDS", "DEFAULT_TARGETS", "VOLUME_FIELDS", "WORKLOAD_KINDS", "json_schema",
           "Create", "Spec", "Target", "VolumeSpec", "parse_spec_text", "volumes_from_node", "SPEC_MAX_BYTES",
           "SPEC_PIPE_TIMEOUT", "config_paths", "layer", "load_spec_file", "parse_claim_option",
           "parse_volume_option", "parse_volume_options", "read_spec_bytes"]
