"""The libyaml binding, chosen once, and the core schema's tag names.

ruamel.yaml.clib's CSafeLoader parses and composes an order of magnitude faster than
the pure-Python SafeLoader and gives the same marks; without the clib the pure one
stands in. Every reader in this package (guards, composer, scalar constructor) makes
its loaders here and disposes of them through `dispose`.
"""
from __future__ import annotations

from typing import Any, Union

try:  # libyaml: an order of magnitude faster and gives the same marks
    from ruamel.yaml.cyaml import CSafeLoader as Loader

    PURE_PYTHON = False
except ImportError:  # no C extension for this interpreter: the pure-Python loader, made to agree
    from ruamel.yaml.events import ScalarEvent
    from ruamel.yaml.loader import SafeLoader
    from ruamel.yaml.tokens import ValueToken

    PURE_PYTHON = True

    class Loader(SafeLoader):  # type: ignore[no-redef]
        """ruamel.yaml's pure SafeLoader, with libyaml's marks where postrender edits at them."""

        # ruamel.yaml 0.19's composer reads it, and its old-style SafeLoader never sets it (every
        # document would fail); None is no limit there: limits.py bounds the depth itself.
        max_depth = None

        def parse_block_mapping_value(self) -> Any:
            """For `key:` with no value, libyaml puts the empty scalar right after the colon; the
            pure parser at the next token, often a later line (an edit would land after the next
            key). Both give that scalar one mark for start and end, which no other scalar has."""
            colon = self.scanner.peek_token() if self.scanner.check_token(ValueToken) else None
            event = super().parse_block_mapping_value()
            if (colon is not None and type(event) is ScalarEvent and event.value == ""
                    and event.start_mark is event.end_mark and event.implicit == (True, False)):
                event.start_mark = event.end_mark = colon.end_mark
            return event

Text = Union[str, bytes]

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"


def dispose(loader: Any) -> None:
    """Free a loader's libyaml parser (the pure-Python loader may have nothing to free), and the
    loader with its text at once: it refers to itself (as its parser, composer, resolver, ...), a
    cycle that would keep both until the cyclic collector comes, which `process` makes rare."""
    free = getattr(loader, "dispose", None)
    if free:
        free()
    vars(loader).clear()
