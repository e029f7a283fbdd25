"""Review (`--diff`): a unified diff of what the render would change, object by object.

The real pipeline does the work (`pipeline.transform_in_one_process`): nothing here injects
anything. The input chunks are kept as they stream past, the output is split
back into documents the same way `read.Stream` splits the input (every input
chunk gives exactly one output chunk, and the claims that `create:` asks for
come after them), and each changed pair is diffed:

* a document is diffed as its YAML lines, under a header naming it
  (`Deployment/airflow-scheduler (document 23)`); hunk line numbers are
  stream line numbers, so `-` lines point into the input and `+` lines into
  the output;
* an embedded worker pod template is decoded from its ConfigMap value
  (a `|-` block under Helm 3, one double-quoted string under Helm 4) and
  diffed as the YAML lines of the template itself, under
  `ConfigMap/NAME key KEY (document N)`, with line numbers inside the template;
* a created claim is diffed against nothing (`--- /dev/null`).

Colour (ANSI) only when stdout is a terminal and `NO_COLOR` is unset.
No change at all gives no output.
"""
from __future__ import annotations

import difflib
import io
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from .errors import InputError, Where
from .ledger import Ledger
from .pipeline import transform_in_one_process
from .read import Batch, Chunk, Piece, Stream
from .spec import Spec
from .targets import is_pod_template_text, object_identity
from .yamlio import load

CONTEXT = 3
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

# ANSI styles, as git colours its diffs
_BOLD, _CYAN, _RED, _GREEN, _RESET = "\033[1m", "\033[36m", "\033[31m", "\033[32m", "\033[0m"


def use_color(stream: Any = None, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    environ = os.environ if environ is None else environ
    if "NO_COLOR" in environ:
        return False
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached
        return False


@dataclass
class _Doc:
    """One document of the stream, before or after."""

    index: int  # 1-based document number
    first_line: int  # 0-based stream line of its first line
    text: str

    @property
    def lines(self) -> List[str]:
        return _lines(self.text)


def _lines(text: str) -> List[str]:
    """Lines without their line ends, counted as the stream counts them (on LF only)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # a final line end is not a line: "a\nb" and "a\nb\n" read alike
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _decode(chunk: Chunk) -> _Doc:
    return _Doc(chunk.index, chunk.first_line, chunk.text())


def _kept(pieces: Iterable[Piece], into: List[Chunk]) -> Iterator[Piece]:
    """Pass the pieces on to the pipeline, keeping each document for the diff."""
    for piece in pieces:
        into.extend(piece.chunks() if isinstance(piece, Batch) else (piece,))
        yield piece


def _data(doc: _Doc) -> Any:
    """Plain values of a document (None when it cannot be read: it then gets a plain text diff)."""
    try:
        return load(doc.text, Where(document=doc.index), doc.first_line)
    except InputError:
        return None


def _label(data: Any) -> str:
    kind, name, _ = object_identity(data)
    if kind:
        return f"{kind}/{name}" if name else kind
    return "document"


def _shift(lines: Iterable[str], before: int, after: int) -> Iterator[str]:
    """Renumber difflib's hunk headers by line offsets (document lines → stream lines)."""
    for line in lines:
        match = _HUNK.match(line)
        if match is None:
            yield line
            continue
        a, b, c, d = match.groups()
        old = f"{int(a) + before}" + (f",{b}" if b is not None else "")
        new = f"{int(c) + after}" + (f",{d}" if d is not None else "")
        yield f"@@ -{old} +{new} @@"


def _unified(old: List[str], new: List[str], old_name: str, new_name: str,
             old_offset: int = 0, new_offset: int = 0) -> List[str]:
    body = difflib.unified_diff(old, new, old_name, new_name, n=CONTEXT, lineterm="")
    return list(_shift(body, old_offset, new_offset))


def _template_values(data: Any) -> Dict[str, str]:
    values = data.get("data") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        return {}
    return {str(k): v for k, v in values.items() if is_pod_template_text(v)}


def _without(data: Any, keys: Iterable[str]) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return data
    trimmed = dict(data)
    trimmed["data"] = {k: v for k, v in data["data"].items() if str(k) not in set(keys)}
    return trimmed


def diff_document(before: _Doc, after: _Doc) -> List[str]:
    """The diff lines of one changed document ([] when it did not change)."""
    if before.lines == after.lines:
        return []
    old_data, new_data = _data(before), _data(after)
    label = _label(old_data if old_data is not None else new_data)
    where = f"(document {before.index})"
    out: List[str] = []
    old_templates, new_templates = _template_values(old_data), _template_values(new_data)
    changed_keys = [k for k in new_templates if k in old_templates and old_templates[k] != new_templates[k]]
    if changed_keys:
        _, name, _ = object_identity(old_data)
        for key in changed_keys:
            header = f"ConfigMap/{name} key {key} {where}"
            out += _unified(_lines(old_templates[key]), _lines(new_templates[key]), header, header)
        if _without(old_data, changed_keys) == _without(new_data, changed_keys):
            return out  # the templates were all that changed
    header = f"{label} {where}"
    return _unified(before.lines, after.lines, header, header,
                    before.first_line, after.first_line) + out


def diff_new(doc: _Doc) -> List[str]:
    """A document the run added (a claim from `create:`)."""
    label = _label(_data(doc))
    lines = doc.lines
    return _unified([], lines, "/dev/null", f"{label} (new, document {doc.index})", 0, doc.first_line)


def paint(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if line.startswith(("--- ", "+++ ")):
            yield f"{_BOLD}{line}{_RESET}"
        elif line.startswith("@@"):
            yield f"{_CYAN}{line}{_RESET}"
        elif line.startswith("-"):
            yield f"{_RED}{line}{_RESET}"
        elif line.startswith("+"):
            yield f"{_GREEN}{line}{_RESET}"
        else:
            yield line


def diff_documents(before: List[_Doc], after: List[_Doc]) -> List[str]:
    """Pair input and output documents and diff each pair, then the added ones."""
    if len(after) < len(before):
        # The output no longer splits like the input (cannot happen with the patcher's edits,
        # which never put `---` at column 0): say so and show the whole stream.
        old_lines = [line for doc in before for line in doc.lines]
        new_lines = [line for doc in after for line in doc.lines]
        return _unified(old_lines, new_lines, "stream (input)", "stream (output)")
    lines: List[str] = []
    for old, new in zip(before, after):
        lines += diff_document(old, new)
    for new in after[len(before):]:
        lines += diff_new(new)
    return lines


def diff_stream(stream: Stream, started: Iterable[Piece], spec: Spec,
                color: Optional[bool] = None, report_changes: bool = True) -> Tuple[str, Ledger]:
    """(the diff text, the run's Ledger); '' when the run changes nothing.

    `color`: None decides from stdout and NO_COLOR; `report_changes`: see `pipeline.Pipeline`.
    """
    kept: List[Chunk] = []
    output, ledger = transform_in_one_process(stream, spec, _kept(started, kept), report_changes=report_changes)
    try:
        buffer = io.BytesIO()
        output.copy_to(buffer)
    finally:
        output.close()
    if not ledger.content:  # an empty input's output is empty by rule, not by an edit: nothing to review
        return "", ledger
    buffer.seek(0)
    before = [_decode(chunk) for chunk in kept]
    after = [_decode(chunk) for chunk in Stream(buffer, limit=None)]  # our own output: it may grow past the limit
    lines = diff_documents(before, after)
    if not lines:
        return "", ledger
    if color if color is not None else use_color():
        lines = list(paint(lines))
    return "\n".join(lines) + "\n", ledger
