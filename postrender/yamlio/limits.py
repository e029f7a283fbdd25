"""Limits that only stop abuse, and the guards that enforce them before libyaml composes.

Rendered manifests nest a few dozen levels, hold a few thousand values and rarely use
aliases at all; a hostile or broken text may do otherwise, and composing it would cost
the process its stack, its memory or quadratic time:

* nesting: libyaml's composer recurses in C (a few hundred thousand levels overflow the
  stack: SIGSEGV), its scanner does work proportional to the depth for every token (deep
  input takes quadratic time), and the Python code after it recurses too;
* aliases: a tiny document can expand to billions of values;
* size: a node tree costs about a hundred times its text.

So each text is first looked at with cheap tests that are never wrong when they say
"no" (`may_be_deep`, `may_hold_many_nodes`, `may_alias`), and only when one says "maybe"
is it scanned event by event (`scan`), stopping at the first limit crossed.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from ..errors import InputError, Where
from .loader import Loader, Text, dispose
from .marks import where_at, yaml_error

MAX_DEPTH = 256
MAX_ALIAS_VALUES = 1_000_000  # values that aliases add when expanded
MAX_EXPANDED_NODES = 2_000_000  # values of one document once expanded (to_data's own guard)
MAX_NODES = 1_000_000  # nodes of one composed document (memory: a node tree costs ~100x its text)
SCAN_ABOVE = 2 * 1024 * 1024  # below this size a document cannot hold MAX_NODES nodes

# The characters of a line's indentation and of the block indicators that open nested
# collections on it (`- - ? key`): a run of MAX_DEPTH // 4 of them is what `may_be_deep` seeks.
_PREFIX_CHARS = bytes.maketrans(b"\t-?:", b"    ")
_PREFIX_RUN = b" " * (MAX_DEPTH // 4)
_STEP = 1 << 20
# An alias token: `*` and a name, where a token may start (at the start, after a space, a line
# break, a BOM or `[{,`). The `*` comes first and what stands before it is looked behind: a
# literal first lets the regex engine skip to each `*` (70 times faster than trying every
# position; tests/test_yamlio_modules.py holds them to the plain spelling). Compiled on first
# use (re caches them): only a text that holds a `*` is searched.
_ALIAS = r"\*(?<![^\s\[{,\ufeff]\*)[^\s\[\]{},]"
_ALIAS_B = rb"\*(?:(?<![^\s\[{,]\*)|(?<=\xc2\x85\*)|(?<=\xe2\x80[\xa8\xa9]\*)|(?<=\xef\xbb\xbf\*))[^\s\[\]{},]"


def may_be_deep(text: Text) -> bool:
    """Could this text nest deeper than MAX_DEPTH? Cheap, never wrong when it says no.

    Each flow collection opens with a `[` or `{`. A block collection nested in a block
    collection starts further right, except a sequence that is a mapping's value, which
    may start at the mapping's column (but its own items start further right). So a
    block collection at depth d starts at column >= d/2 - 1, right after the line's
    indentation and its block indicators; with no such prefix of MAX_DEPTH/4 characters
    and at most MAX_DEPTH/2 brackets, the depth is at most MAX_DEPTH.
    """
    if isinstance(text, bytes):
        flow = text.count(b"[") + text.count(b"{")
    else:
        flow = text.count("[") + text.count("{")
    return flow > MAX_DEPTH // 2 or has_deep_prefix(text)


def has_deep_prefix(text: Text) -> bool:
    """Does a line open MAX_DEPTH // 4 block levels (indentation and block indicators)? `may_be_deep`
    without the flow brackets. Cheap, never wrong when it says no."""
    # a prefix that long is a run of those characters somewhere (a looser test, but a fast one:
    # a regex anchored at every line start costs ten times more); slices keep memory flat
    overlap = len(_PREFIX_RUN)
    for start in range(0, len(text), _STEP):
        piece = text[start:start + _STEP + overlap]
        if isinstance(piece, str):
            piece = piece.encode("utf-8", "surrogatepass")
        if _PREFIX_RUN in piece.translate(_PREFIX_CHARS):
            return True
    return False


# Every byte but the flow openers and NUL (which stands for a `---` line), and `[` read as `{`.
_NOT_OPENERS = bytes(b for b in range(256) if b not in b"[{\x00")
_OPENERS_AS_ONE = bytes.maketrans(b"[", b"{")
_NOT_A_START = rb"\n---[^ \t\r\n]"  # a `---` line that starts no document (compiled on first use: rare)


def flow_shallow_documents(text: bytes) -> bool:
    """Does no document of this run of documents (split at its `\n---` lines) hold more than
    MAX_DEPTH // 2 flow brackets `[` `{`? Then none nests deeper through them (`may_be_deep`). Counts
    brackets in scalars and comments too: never wrong when it says yes. A few passes in C, however
    many documents the run holds (a document's nesting makes libyaml's scan slower on every token)."""
    limit = MAX_DEPTH // 2
    if text.count(b"[") + text.count(b"{") <= limit:
        return True
    if b"\x00" in text or re.search(_NOT_A_START, text):  # NUL is no YAML; `---x` would split a document
        return False
    openers = text.replace(b"\n---", b"\x00").translate(_OPENERS_AS_ONE, _NOT_OPENERS)
    return b"{" * (limit + 1) not in openers


def may_hold_many_nodes(text: Text) -> bool:
    """Could this text hold more than MAX_NODES nodes? Cheap, never wrong when it says no.

    A node starts at a line's start or after an indicator (`-`, `?`, `:`, `,`, `[`, `{`),
    and each of those starts at most a collection and its first item: a huge single
    scalar (a 60 MB blob) holds few nodes however long it is.
    """
    if len(text) <= SCAN_ABOVE:
        return False
    marks = ("\n", "-", "?", ":", ",", "[", "{")
    if isinstance(text, bytes):
        starts = sum(text.count(mark.encode()) for mark in marks)
    else:
        starts = sum(text.count(mark) for mark in marks)
    return 3 * (starts + 1) > MAX_NODES


def may_alias(text: Text) -> bool:
    """Could this text hold an alias (`*name` where a token starts)? Cheap, never wrong when it says no."""
    if isinstance(text, bytes):
        return b"*" in text and re.search(_ALIAS_B, text) is not None
    return "*" in text and re.search(_ALIAS, text) is not None


def scan(text: Text, where: Where, first_line: int = 0, max_nodes: Optional[int] = None,
         aliases: Optional[List[Any]] = None) -> int:
    """Parse `text` to events only, refusing what would be abuse to compose; returns the node count.

    Raises InputError on malformed YAML, nesting deeper than MAX_DEPTH (checked on each
    event, so libyaml never gets far into a too deep document), aliases that expand to
    more than MAX_ALIAS_VALUES values, a recursive or undefined alias, and more than
    `max_nodes` nodes. Each alias token's (start mark, end mark, anchor name) is appended to
    `aliases` when given (`aliases.separate` needs them).
    """
    loader = Loader(text)
    depth = nodes = added = 0
    sizes: Dict[Any, int] = {}  # anchor -> values of its node once expanded (capped)
    stack: List[List[Any]] = []  # [anchor, values so far] of each open collection
    cap = MAX_ALIAS_VALUES + 1

    def fail(message: str, event: Any, hint: Optional[str] = None) -> InputError:
        return InputError(message, where_at(text, event.start_mark, where, first_line), hint=hint)

    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                nodes += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += 1
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                nodes += 1
                depth += 1
                if depth > MAX_DEPTH:
                    raise fail(f"nested deeper than {MAX_DEPTH} levels; refused", event,
                               hint="Kubernetes objects nest a few dozen levels at most")
                if event.anchor is not None:
                    sizes.pop(event.anchor, None)  # open: an alias to it now would be recursive
                stack.append([event.anchor, 1])
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
                anchor, size = stack.pop()
                if anchor is not None:
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] = min(stack[-1][1] + size, cap)
            elif kind is AliasEvent:
                if aliases is not None:
                    aliases.append((event.start_mark, event.end_mark, event.anchor))
                size = sizes.get(event.anchor)
                if size is None:
                    if any(entry[0] == event.anchor for entry in stack):
                        raise fail(f"alias *{event.anchor} refers to a node that contains it (a recursive "
                                   "structure); refused", event)
                    raise fail(f"undefined alias *{event.anchor}", event)
                added += size
                if added > MAX_ALIAS_VALUES:
                    raise fail(f"aliases expand to more than {MAX_ALIAS_VALUES:,} values (an alias bomb?); refused",
                               event, hint="write the values out instead of repeating them through aliases")
                if stack:
                    stack[-1][1] = min(stack[-1][1] + size, cap)
            if max_nodes is not None and nodes > max_nodes:
                raise fail(f"holds more than {max_nodes:,} values; refused (Kubernetes objects are far smaller)",
                           event)
    except YAMLError as exc:
        raise yaml_error(exc, where, first_line, text) from None
    finally:
        dispose(loader)
    return nodes
