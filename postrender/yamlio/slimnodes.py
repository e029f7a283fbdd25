"""The slim-node composer: libyaml's own composer, handed lighter node classes and a cached resolver.

libyaml's composer (Cython) builds each node through a Python class and asks the
loader's resolver for every tag; with ruamel's classes that is four Python frames per
node and most of the time spent on a manifest. The composer looks its node classes up
as globals of the `_ruamel_yaml` module and calls `resolve`/`descend_resolver`/
`ascend_resolver` on the loader, so while one document is composed it is handed the
slim classes below (subclasses: every isinstance check still holds) and a cached
resolver. The safe loader's resolver is YAML 1.2 and never looks at the path, so a
plain scalar's tag depends on its text alone.

Nothing here runs at import: `binding()` checks on first use that the installed
binding looks like that (and composes a small document to prove it); where it does
not, it says None and the caller composes the stock way.
"""
from __future__ import annotations

from typing import Any, Dict, Generator, Optional

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .loader import MAP, SEQ, STR, Loader, Text, dispose


class _Scalar(ScalarNode):
    __slots__ = ()

    def __init__(self, tag: Any, value: Any, start_mark: Any, end_mark: Any, style: Any) -> None:
        self.ctag = tag
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = style


def _collection_init(self: Any, tag: Any, value: Any, start_mark: Any, end_mark: Any, flow_style: Any) -> None:
    self.ctag = tag
    self.value = value
    self.start_mark = start_mark
    self.end_mark = end_mark
    self.flow_style = flow_style


class _Sequence(SequenceNode):
    __slots__ = ()
    __init__ = _collection_init


class _Mapping(MappingNode):
    __slots__ = ()
    __init__ = _collection_init


_NOTHING: Dict[Any, Any] = {}  # stays empty
_PLAIN_TAGS: Dict[str, str] = {}  # plain scalar text -> its resolved tag (keys and common values recur)
_STOCK_RESOLVER: Any = None
_UNCHECKED = object()
_BINDING: Any = _UNCHECKED  # the `_ruamel_yaml` module once checked, None when it does not take slim nodes


def _resolve(kind: Any, value: Any, implicit: Any) -> str:
    if kind is _Scalar:
        if not implicit[0]:
            return STR
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = str(_STOCK_RESOLVER.resolve(ScalarNode, value, implicit))
            if len(_PLAIN_TAGS) < 8192:
                _PLAIN_TAGS[value] = tag
        return tag
    return MAP if kind is _Mapping else SEQ


def binding() -> Any:
    """The `_ruamel_yaml` module when its composer takes the slim nodes, else None (checked once)."""
    global _BINDING
    if _BINDING is _UNCHECKED:
        _BINDING = _check()
    return _BINDING


def _check() -> Any:
    global _STOCK_RESOLVER
    try:
        import _ruamel_yaml as module
        from ruamel.yaml.resolver import Resolver
    except ImportError:  # pragma: no cover - no libyaml
        return None
    if not all(isinstance(getattr(module, name, None), type) for name in ("ScalarNode", "SequenceNode",
                                                                          "MappingNode")):
        return None  # pragma: no cover - a clib that builds nodes some other way
    if not issubclass(Loader, getattr(module, "CParser", ())) or type(Loader.resolve) is not type(_resolve):
        return None  # pragma: no cover
    _STOCK_RESOLVER = Resolver()
    try:  # a clib that calls the classes or the resolver differently fails here, not on a manifest
        root: Any = _compose_with(module, "a: [b, 1]\n")
        item = root.value[0][1].value[1]
        if not (isinstance(root, _Mapping) and isinstance(item, _Scalar) and item.ctag == "tag:yaml.org,2002:int"
                and item.end_mark.column == 8):
            return None  # pragma: no cover
    except Exception:  # pragma: no cover
        return None
    return module


def compose(text: Text) -> Optional[Node]:
    """libyaml's composition of a single-document text in slim nodes (raises YAMLError).

    Only once `binding()` has said yes. Single-threaded: the node classes are swapped globally.
    """
    return _compose_with(_BINDING, text)


def _loader(text: Text) -> Any:
    loader: Any = Loader(text)
    loader.resolve = _resolve
    # called around every node and ignored here: builtins that take the same arguments (parent
    # node, index; none), allocate nothing and cost no Python frame, where a no-op function costs one
    loader.descend_resolver, loader.ascend_resolver = _NOTHING.get, _NOTHING.clear
    return loader


def _compose_with(module: Any, text: Text) -> Optional[Node]:
    loader = _loader(text)
    stock = module.ScalarNode, module.SequenceNode, module.MappingNode
    module.ScalarNode, module.SequenceNode, module.MappingNode = _Scalar, _Sequence, _Mapping
    try:
        return loader.get_single_node()
    finally:
        module.ScalarNode, module.SequenceNode, module.MappingNode = stock
        dispose(loader)


def compose_each(text: Text) -> Generator[Node, None, None]:
    """libyaml's composition of each document of a text in slim nodes, one at a time, with one
    parser (making a parser costs more than composing a tiny document). The classes are swapped only
    while a document is composed: between two, other texts may be composed. Raises YAMLError."""
    module = _BINDING
    loader = _loader(text)
    try:
        while True:
            stock = module.ScalarNode, module.SequenceNode, module.MappingNode
            module.ScalarNode, module.SequenceNode, module.MappingNode = _Scalar, _Sequence, _Mapping
            try:
                node = loader.get_node() if loader.check_node() else None
            finally:
                module.ScalarNode, module.SequenceNode, module.MappingNode = stock
            if node is None:
                return
            yield node
    finally:
        dispose(loader)
