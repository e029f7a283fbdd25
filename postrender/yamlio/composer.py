"""Reading a document's text: its node tree (`compose`) or only its syntax (`check_syntax`).

Both go through the abuse guards first (`limits`): the cheap tests on the raw text, and
the event scan when one of them cannot rule abuse out, so libyaml never composes a
document that would cost the process its stack or its memory. Composing uses the
slim-node composer when the installed libyaml binding takes it (chosen on the first
document, not at import), else libyaml's stock composition; both give the same tree,
in which each alias then gets a node of its own at its token (`aliases`).
"""
from __future__ import annotations

from typing import Callable, Generator, List, Optional

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node

from ..errors import InputError, Where
from .aliases import AliasMark, separate
from .limits import (
    MAX_NODES,
    flow_shallow_documents,
    has_deep_prefix,
    may_alias,
    may_be_deep,
    may_hold_many_nodes,
    scan,
)
from .loader import Loader, Text, dispose
from .marks import yaml_error

_compose_node: Optional[Callable[[Text], Optional[Node]]] = None  # chosen on first use


def compose(text: Text, where: Where, first_line: int = 0) -> Optional[Node]:
    """The node tree of a single-document text, or None when it holds no document.

    Abusive input (see `limits.scan`) is refused before libyaml composes anything.
    """
    return compose_checked(text, where, first_line, may_alias(text))


def compose_checked(text: Text, where: Where, first_line: int, aliased: bool) -> Optional[Node]:
    """`compose`, told whether the text may hold an alias (`limits.may_alias`, which the caller needed too)."""
    marks: List[AliasMark] = []
    if aliased or may_be_deep(text) or may_hold_many_nodes(text):
        scan(text, where, first_line, MAX_NODES, marks)
    try:
        root = (_compose_node or _choose_composer())(text)
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line, text) from None
    except RecursionError:
        raise InputError("document is nested too deeply to process", where) from None
    separate(root, marks)  # an alias shares its anchor's node: give it one of its own, at its token
    return root


def _choose_composer() -> Callable[[Text], Optional[Node]]:
    global _compose_node
    from . import slimnodes  # only once a document is composed: a syntax check never needs it

    _compose_node = slimnodes.compose if slimnodes.binding() is not None else _compose_stock
    return _compose_node


def _compose_stock(text: Text) -> Optional[Node]:  # pragma: no cover - a binding without slim nodes
    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        dispose(loader)


def compose_each(text: bytes) -> Optional[Generator[Node, None, None]]:
    """The node trees of a run of small documents, one at a time from one parser (raises YAMLError
    as it goes); None when the guards cannot rule abuse out without a closer look (a possible alias,
    deep nesting, many nodes): then compose each document alone."""
    if may_alias(text) or has_deep_prefix(text) or may_hold_many_nodes(text) or not flow_shallow_documents(text):
        return None
    from . import slimnodes

    return slimnodes.compose_each(text) if slimnodes.binding() is not None else _compose_each_stock(text)


def _compose_each_stock(text: bytes) -> Generator[Node, None, None]:  # pragma: no cover - a binding without slim nodes
    loader = Loader(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        dispose(loader)


def check_syntax(text: Text, where: Where, first_line: int = 0) -> None:
    """Parse without building anything: raises InputError on malformed or abusive YAML."""
    if may_alias(text) or may_be_deep(text):
        scan(text, where, first_line)
        return
    loader = Loader(text)  # the common case: nothing to count, only libyaml's own checks
    try:
        if hasattr(loader, "raw_parse"):
            loader.raw_parse()  # libyaml parses in C without making an event object per token
        else:  # pragma: no cover - pure Python fallback
            while loader.check_event():
                loader.get_event()
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line, text) from None
    finally:
        dispose(loader)


def parses_cleanly(text: bytes) -> bool:
    """Does libyaml parse `text` (a run of whole documents) without an error, with nothing that
    `check_syntax` would look at closer (a possible alias, a deep block prefix, a document of many
    flow brackets)? The caller checks each document alone when this says no."""
    if may_alias(text) or has_deep_prefix(text) or not flow_shallow_documents(text):
        return False
    loader = Loader(text)
    try:
        if not hasattr(loader, "raw_parse"):  # pragma: no cover - pure Python fallback
            return False
        loader.raw_parse()
    except YAMLError:
        return False
    finally:
        dispose(loader)
    return True
