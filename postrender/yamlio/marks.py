"""libyaml marks → places in the stream, and libyaml's errors → InputError at their place.

A mark counts lines and columns from 0 within the text libyaml was given; a `Where`
counts them from 1 within the whole stream (`errors.stream_line`). libyaml also breaks
lines on a lone CR, NEL, U+2028 and U+2029, which the stream does not: where the text
is at hand, the line is counted again on LF only.
"""
from __future__ import annotations

from typing import Any, Optional

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from ..errors import InputError, Where, stream_line
from .breaks import OTHER_BREAKS, OTHER_BREAKS_UTF8
from .loader import Text


def at_mark(where: Where, mark: Any, first_line: int = 0) -> Where:
    """`where` at a libyaml mark, counting lines as libyaml does (the text holds LF/CRLF breaks only)."""
    return where.but(line=stream_line(first_line, mark.line), column=mark.column + 1)


def where_at(text: Optional[Text], mark: Any, where: Where, first_line: int) -> Where:
    """`where` at a libyaml mark, as a line/column of the stream.

    The stream's lines are counted on LF only, so the line comes from the mark's
    character index when the text is at hand.
    """
    if mark is None:
        return where
    line, column = mark.line, mark.column
    index = getattr(mark, "index", None)  # in characters
    if isinstance(text, bytes) and any(b in text for b in OTHER_BREAKS_UTF8):
        text = text.decode("utf-8", "replace")  # only then do libyaml's lines differ; an error path: copies are fine
    if isinstance(text, str) and isinstance(index, int) and 0 <= index <= len(text):
        line = text.count("\n", 0, index)
        column = index - (text.rfind("\n", 0, index) + 1)
    return where.but(line=stream_line(first_line, line), column=column + 1)


def yaml_error(exc: YAMLError, where: Where, first_line: int = 0, text: Optional[Text] = None) -> InputError:
    """An InputError at the place libyaml reported (`first_line` shifts to stream lines)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, MarkedYAMLError) and mark is not None:
        where = where_at(text, mark, where, first_line)
    position = getattr(exc, "position", None)  # a ReaderError: a byte offset into the UTF-8 text
    if isinstance(exc, ReaderError) and isinstance(position, int) and text is not None:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        prefix = raw[:position]
        column = len(prefix[prefix.rfind(b"\n") + 1:].decode("utf-8", "replace"))
        where = where.but(line=stream_line(first_line, prefix.count(b"\n")), column=column + 1)
        character = getattr(exc, "character", None)
        if isinstance(character, int) and getattr(exc, "reason", None):
            problem = f"character {character:#06x} is not allowed ({exc.reason})"
    hint = None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")  # an error path: the copy is no matter
    if isinstance(text, str) and any(ch in text.replace("\r\n", "\n") for ch in OTHER_BREAKS):
        hint = ("the document holds a line break other than LF or CRLF (a lone CR, NEL, U+2028 or U+2029), "
                "which YAML also reads as a line break")
    elif "\t" in problem or isinstance(text, str) and "\t" in text and "cannot start any token" in problem:
        hint = "YAML does not allow tabs for indentation"
    return InputError(f"invalid YAML: {problem}", where, hint=hint)
