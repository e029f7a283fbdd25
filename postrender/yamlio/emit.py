"""New YAML text: the only writer of it in the package.

Only small fragments are ever written (a new volume, a mount, one quoted scalar),
never whole documents: the patcher splices them into the text as it stands. They come
from ruamel.yaml with YAML 1.1 quoting rules, because Kubernetes' decoders read YAML
1.1 (`on`, `yes`, `0755` must stay strings). ruamel's emitter is set up on the first
fragment, not at import (a post-renderer that changes nothing never needs it), and the
few fragments that recur in every release are dumped once.
"""
from __future__ import annotations

import io
from typing import Any, Dict, List, Tuple

from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver  # loaded with the loader already: costs nothing

from .breaks import OTHER_BREAKS
from .values import Plain

_DUMPERS: Dict[bool, Any] = {}
_DUMPED: Dict[Tuple[str, bool], List[str]] = {}  # the same few fragments recur in every release
_SCALAR_DUMPERS: Dict[str, Any] = {}
_BREAKS = ("\n",) + OTHER_BREAKS  # what YAML reads as a line break


class _Yaml11Resolver(VersionedResolver):
    """Resolve (and so quote) plain scalars as a YAML 1.1 reader would, without a %YAML directive."""

    @property
    def processing_version(self):  # type: ignore[override]
        return (1, 1)


def _dumper(indent_sequences: bool) -> Any:
    from ruamel.yaml import YAML  # the emitter is only needed once something changes
    from ruamel.yaml.representer import SafeRepresenter

    class Representer(SafeRepresenter):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # values an alias shares are written out in full: a fragment never holds an anchor

    yaml: Any = YAML(typ="safe", pure=True)
    yaml.Resolver = _Yaml11Resolver
    yaml.Representer = Representer
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 1 << 30  # never fold a long string
    yaml.sort_base_mapping_type_on_output = False  # keep the order we build (name first)
    resolve = yaml.resolver.resolve
    # a number or a date kept as text goes back as the plain scalar it was (its tag as YAML 1.1 reads it)
    yaml.representer.add_representer(
        Plain, lambda representer, data: representer.represent_scalar(
            resolve(ScalarNode, data.text, (True, False)), data.text))
    if indent_sequences:
        yaml.indent(mapping=2, sequence=4, offset=2)
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def dump_block(value: Any, indent_sequences: bool) -> List[str]:
    """Block-style YAML lines (without line ends) for a mapping or a list."""
    key = (repr(value), indent_sequences)  # exact for what YAML reads (Plain included), key order too
    cached = _DUMPED.get(key)
    if cached is None:
        yaml = _DUMPERS.get(indent_sequences)
        if yaml is None:
            yaml = _DUMPERS[indent_sequences] = _dumper(indent_sequences)
        out = io.StringIO()
        yaml.dump(value, out)
        cached = out.getvalue().rstrip("\n").split("\n")
        if len(_DUMPED) < 4096:
            _DUMPED[key] = cached
    return list(cached)


def _scalar_dumper(style: str) -> Any:
    from ruamel.yaml import YAML

    # libyaml's emitter writes a double-quoted scalar twenty times faster than the pure one
    # (a Helm 4 pod template is one such scalar of several KB). Single quotes (rare: Helm
    # writes double) keep the pure emitter, which writes every printable character as it is.
    yaml: Any = YAML(typ="safe", pure=style != '"')
    yaml.width = 1 << 30
    yaml.allow_unicode = True
    yaml.default_style = style
    return yaml


def dump_scalar(value: str, style: str) -> str:
    """One string as a single-line scalar in the given style ('"' or "'"), falling back to '"'."""
    if style not in ("'", '"') or any(ch in value for ch in _BREAKS):
        style = '"'  # a line break stays one line only as an escape in double quotes
    yaml = _SCALAR_DUMPERS.get(style)
    if yaml is None:
        yaml = _SCALAR_DUMPERS[style] = _scalar_dumper(style)
    out = io.StringIO()
    yaml.dump(value, out)
    text = out.getvalue()
    if text.endswith("\n...\n"):
        text = text[: -len("\n...\n")]
    return text.rstrip("\n")
