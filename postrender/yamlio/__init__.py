"""YAML in and out, kept apart from the edits.

Reading composes a document with libyaml (ruamel.yaml.clib): node trees whose marks give
the line and column of every key and value, so the writer can splice text instead of
re-dumping documents. One module a job:

* `limits`    the abuse guards (depth, aliases, size) and their MAX_* limits; `scan`
* `composer`  `compose` / `compose_each` / `check_syntax`: libyaml behind those guards
* `aliases`   each alias as a node of its own at its `*name` token (the patcher edits around it)
* `slimnodes` the slim-node composer `composer` uses where the binding takes it (checked on first use)
* `values`    Python values from nodes (`to_data`, `parse`, `parse_again`, `load`); a repeated key: the last wins,
              there and in the node lookups by key (`entry`, `entries`)
* `emit`      `dump_block` / `dump_scalar`: the only writer of new YAML text (YAML 1.1 quoting)
* `marks`     libyaml marks → stream lines and columns; libyaml errors → InputError (`yaml_error`)
* `breaks`    the line breaks other than LF (a lone CR, NEL, U+2028, U+2029), for every module that must know
* `loader`    the libyaml binding (or the pure-Python fallback) and the core tag names

The names other modules use are re-exported here: `from .yamlio import compose` keeps working.
"""
from .aliases import aliases_in, anchor_of, is_alias
from .composer import check_syntax, compose, compose_each, parses_cleanly
from .emit import dump_block, dump_scalar
from .limits import MAX_ALIAS_VALUES, MAX_DEPTH, MAX_EXPANDED_NODES, MAX_NODES, scan
from .loader import MAP, SEQ, STR, Text
from .marks import yaml_error
from .values import Plain, entries, entry, load, node_identity, node_of, parse, parse_again, to_data

__all__ = ["MAP", "MAX_ALIAS_VALUES", "MAX_DEPTH", "MAX_EXPANDED_NODES", "MAX_NODES", "Plain", "SEQ", "STR",
           "Text", "aliases_in", "anchor_of", "check_syntax", "compose", "compose_each", "dump_block", "dump_scalar",
           "entries", "entry", "is_alias", "load", "node_identity", "node_of", "parse", "parse_again", "parses_cleanly",
           "scan", "to_data", "yaml_error"]

