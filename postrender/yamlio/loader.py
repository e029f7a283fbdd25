"""The libyaml binding, chosen once, and the core schema's tag names.

ruamel.yaml.clib's CSafeLoader parses and composes an order of magnitude faster than
the pure-Python SafeLoader and gives the same marks; without the clib the pure one
stands in. Every reader in this package (guards, composer, scalar constructor) makes
its loaders here and disposes of them through `dispose`.
"""
from typing import Any, Union

try:  # libyaml: an order of magnitude faster and gives the same marks
    from ruamel.yaml.cyaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - pure Python fallback
    from ruamel.yaml.loader import SafeLoader as Loader

Text = Union[str, bytes]

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"


def dispose(loader: Any) -> None:
    """Free a loader's libyaml parser (the pure-Python loader may have nothing to free)."""
    free = getattr(loader, "dispose", None)
    if free:
        free()
