"""The stream pipeline: read the stream → edit each object → write, in stream order.

Documents that cannot be targets are copied through as bytes without being
composed. Candidates (ConfigMaps, claims and workloads) are composed with
libyaml and handed to the editing filter (`edit.Editor`); what it changed is
spliced back into the document's own text. This module keeps what a stream
needs: order, and the wait of a workload for a ConfigMap further down (it
waits in an output slot until that ConfigMap has been seen, kept compactly in a
`waiting.Waits`: a stream may hold any number of them); it records the
findings (the changes only when they are to be reported), and at the end
writes the claims `create:` asks for and runs the end-of-stream checks. Many
small documents are read at a time (`batching`) unless `batch=False`.
"""
from __future__ import annotations

import re
from typing import Any, BinaryIO, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from ruamel.yaml.nodes import Node

from .batching import COPIED, Group, aligned, alone, grouped
from .checks import end_of_stream
from .claims import claim_documents
from .edit import Editor, splice
from .errors import InputError
from .findings import Finding
from .ledger import ConfigMapKey, Edited, Ledger
from .output import Exported, Output, Spool
from .read import BOM, MAX_DOCUMENT, Batch, Chunk, Piece, Stream, odd_breaks, too_large
from .records import Record
from .seen import digest
from .spec import Spec
from .targets import CANDIDATE_WORDS, HELM4_FILENAME, HOOK_ANNOTATION, dig, is_candidate, is_hook
from .waiting import Waits
from .yamlio import check_syntax, compose_each, parse, parse_again, parses_cleanly, to_data

_LIST_KIND = rb"(?:^|\n)kind[ \t]*:[ \t]*[\"']?List[\"']?[ \t\r]*(?:\n|$)"  # compiled on first use: rare
# Untouched documents above this size are copied through without a syntax check.
SYNTAX_CHECK_LIMIT = 4 * 1024 * 1024
# A stream under this size is transformed in one process: a fork (`twoprocess`) and its hand-over
# cost more than the second core saves. Here, so that the CLI decides without importing twoprocess.
MIN_BYTES = 256 * 1024


class _Waiting:
    """A workload whose roll annotation depends on ConfigMaps not seen yet: a small record (its
    text waits in the pipeline's `output.Spool`, its edit is done again when it is finished)."""

    __slots__ = ("slot", "index", "first_line", "at", "pending")

    def __init__(self, slot: int, index: int, first_line: int, at: Tuple[int, int], pending: int) -> None:
        self.slot = slot  # its place in the output
        self.index = index  # its document's number
        self.first_line = first_line  # ... and first stream line
        self.at = at  # (offset, size) of its text in the spool
        self.pending = pending  # how many of its ConfigMaps have not been seen yet


class Part(Record):
    """What a pipeline made of one part of a stream, handed to the pipeline of the part before it
    (see `twoprocess`): its output, its ledger, and the workloads still waiting (each with the
    digests of the ConfigMaps it waits for and its text)."""

    __slots__ = ("output", "ledger", "waiting", "last")

    def __init__(self, output: Exported, ledger: Ledger, waiting: List[Tuple[_Waiting, List[bytes], bytes]],
                 last: bytes) -> None:
        self.output = output
        self.ledger = ledger
        self.waiting = waiting
        self.last = last


class Pipeline:
    """Streams chunks through the editing filter into an all-or-nothing Output.

    A workload that mounts a ConfigMap not seen yet waits in an output slot and is finished
    when that ConfigMap comes. With `hold` (one part of a stream split between processes)
    waiting workloads are finished only in `close`, once every later part has been absorbed.
    Options of the run: `batch` reads many small documents at a time (see `batching`; False reads
    each alone, the reference), `report_changes` keeps the changes in the ledger besides the
    warnings (for `--report`).
    """

    def __init__(self, spec: Spec, hold: bool = False, batch: bool = True, report_changes: bool = True):
        self.editor = Editor(spec)
        self.output = Output()
        self.hold = hold
        self.batch = batch
        self.report_changes = report_changes
        self.spool = Spool()  # the waiting workloads' texts
        self.waits = Waits(self.spool, _Waiting)
        self.last = b""  # the last two bytes written from the input (how its last line ended)

    @property
    def ledger(self) -> Ledger:
        return self.editor.ledger

    def run(self, stream: Stream, pieces: Iterable[Piece]) -> Ledger:
        self.feed(pieces, stream)
        return self.close()

    def feed(self, pieces: Iterable[Piece], stream: Optional[Stream] = None) -> None:
        """Transform `pieces` (of `stream`, which tells whether the input began with a BOM)."""
        self._feed(self._counted(pieces), stream)

    def _counted(self, pieces: Iterable[Piece]) -> Iterator[Piece]:
        for piece in pieces:
            self.ledger.documents += piece.count
            yield piece

    def _feed(self, pieces: Iterable[Piece], stream: Optional[Stream] = None) -> None:
        for item in grouped(pieces) if self.batch else alone(pieces):
            if item.index == 1 and stream is not None and stream.bom:  # known once reading began
                self.output.write(BOM)
            if isinstance(item, Group):
                (self._copy_group if item.how == COPIED else self._compose_group)(item)
            elif isinstance(item, Batch):
                self._copy_batch(item)
            else:
                self._write(self.document(item), item.raw)

    def _record(self, findings: List[Finding]) -> None:
        self.ledger.record(findings, changes=self.report_changes)

    def _write(self, data: bytes, raw: bytes) -> None:
        """Write what became of a piece whose input bytes were `raw`."""
        self.output.write(data)
        self.last = (self.last + raw)[-2:] if len(raw) < 2 else raw[-2:]

    def _copy_group(self, group: Group) -> None:
        """Write small chunks that cannot be targets, checked together where they parse cleanly."""
        batch = group.batch()
        if parses_cleanly(batch.raw):
            self._copy(batch)
            return
        for chunk in group.chunks:
            self._write(self.document(chunk), chunk.raw)

    def _copy_batch(self, batch: Batch) -> None:
        """Write a Batch of the reader: as it is where it parses cleanly, else document by document."""
        if parses_cleanly(batch.raw):
            self._copy(batch)
        else:
            self._feed(batch.chunks())  # counted already

    def _copy(self, batch: Batch) -> None:
        note_facts(self.ledger, batch)
        self._write(batch.raw, batch.raw)

    def _compose_group(self, group: Group) -> None:
        """Small candidates composed with one parser (a parser costs more than a tiny document); from
        the first that does not read cleanly on, each alone (which then says what is wrong, and where)."""
        done = 0
        chunks = group.chunks
        first_line = chunks[0].first_line  # the nodes' lines count from there
        raw = group.batch().raw
        lines_agree = not odd_breaks(raw)  # a chunk's lines count LFs; libyaml's the other breaks too
        roots = compose_each(raw)
        if roots is not None:
            try:
                for chunk, root in aligned(chunks, roots, first_line):
                    if root is None:  # comments only
                        self._write(chunk.raw, chunk.raw)
                    else:
                        memo: Dict[int, Any] = {}
                        try:
                            data = to_data(root, chunk.where, first_line, memo, shared=False)
                        except InputError:
                            break
                        # what the filter says of it (its errors too) is what it says of the document alone
                        offset = chunk.first_line - first_line if lines_agree else None
                        self._write(self._edited(chunk, root, data, memo, first_line, offset), chunk.raw)
                    done += 1
            finally:
                roots.close()
        for chunk in chunks[done:]:
            self._write(self.document(chunk), chunk.raw)

    def close(self) -> Ledger:
        """Finish what still waits (no more ConfigMaps are coming), append claims, final warnings."""
        for waiting in self._waiting():
            self.finish(waiting)  # what never came changed no template of ours
        self.waits.clear()
        self.spool.close()
        ledger = self.ledger
        # a finished wait reports late: changes in stream order (warnings keep theirs)
        ledger.findings.sort(key=lambda f: 0 if f.is_warning else f.where.document or 0)
        spec = self.editor.spec
        text, created = claim_documents(ledger.claims_to_create(spec.volumes), ledger.helm4, self.last)
        self.output.write(text)
        ledger.record(c._replace(where=c.where.but(document=ledger.documents + n)) for n, c in enumerate(created, 1))
        ledger.record(end_of_stream(ledger, spec))
        if not ledger.content:  # only whitespace, comments and `---`: nothing for kubectl or Helm (contract)
            self.output.close()
            self.output = Output()
        return ledger

    def _waiting(self) -> List[_Waiting]:
        return self.waits.remaining()

    def part(self) -> Part:
        """This pipeline's work so far, for `absorb` in another process (nothing is closed)."""
        return Part(self.output.export(), self.ledger, self.waits.handed_over(), self.last)

    def absorb(self, part: Part) -> None:
        """Append the work done on the part of the stream that follows this pipeline's."""
        slots = self.output.extend(part.output)
        self.ledger.merge(part.ledger)
        for waiting, awaited, raw in part.waiting:
            self.waits.add(slots[waiting.slot], waiting.index, waiting.first_line, raw, awaited)
        self.last = part.last or self.last

    def document(self, chunk: Chunk) -> bytes:
        """The bytes to write for one chunk (b'' when it went into a slot)."""
        if chunk.blank:
            return chunk.raw
        if len(chunk.raw) > MAX_DOCUMENT:  # the reader let it by as a ResourceList, yet it is none
            raise too_large("document", MAX_DOCUMENT, chunk.where)
        if not is_candidate(chunk.raw):
            if len(chunk.raw) <= SYNTAX_CHECK_LIMIT:
                check_syntax(chunk.raw, chunk.where, chunk.first_line)  # libyaml reads the bytes: no str copy
            note_facts(self.ledger, chunk)
            return chunk.raw
        root, data, memo = parse(chunk.raw, chunk.where, chunk.first_line)  # the text is decoded only to edit it
        return self._edited(chunk, root, data, memo, chunk.first_line)

    def _edited(self, chunk: Chunk, root: Optional[Node], data: Any, memo: Dict[int, Any], first_line: int,
                offset: Optional[int] = 0) -> bytes:
        """The bytes to write for a candidate read as `data` from the nodes `root` (`memo`: node ->
        value), whose lines count from the stream line `first_line`. `offset`: the document's first
        line in the text the nodes were read from (0: read alone; None: unknown, read again alone)."""
        self.ledger.content = True
        if not isinstance(data, dict):
            return chunk.raw
        if HELM4_FILENAME in (dig(data, ("metadata", "annotations")) or {}):
            self.ledger.helm4 = True
        edited = self.editor.edit(data, chunk.where, root, first_line, memo)
        self._record(edited.findings)
        if edited.configmap is not None and not self.hold:
            self._seen(edited.configmap)
        if edited.pending:
            self.waits.add(self.output.reserve(), chunk.index, chunk.first_line, chunk.raw,
                           {digest(ref) for ref in edited.pending})
            return b""
        if edited.value is None:
            return chunk.raw
        if offset is None and root is not None:
            root, memo = parse_again(chunk.raw, chunk.where, chunk.first_line, root, memo)
        first_line, offset = (chunk.first_line, 0) if offset is None else (first_line, offset)
        return self._spliced(chunk.text(), root, edited.value, memo, edited, first_line, offset).encode("utf-8")

    def _spliced(self, text: str, root: Optional[Node], new: Any, memo: Dict[int, Any], edited: Edited,
                 first_line: int, offset: int = 0) -> str:
        text, found = splice(text, root, new, memo, edited.where, first_line, offset=offset)
        self._record(found)
        return text

    def _seen(self, configmap: ConfigMapKey) -> None:
        """Finish the workloads that waited for this ConfigMap and no other."""
        if not self.waits.count:  # as a rule: no digest to make
            return
        for waiting in self.waits.seen(digest(configmap)):
            self.finish(waiting)

    def finish(self, waiting: _Waiting) -> None:
        """Roll a workload that waited, now that its ConfigMaps are known (or known never to come)."""
        chunk = Chunk(waiting.index, waiting.first_line, self.spool.get(waiting.at))
        root, original, memo, edited = _edited_again(self.editor.spec, chunk)
        rolled = self.editor.roll(original, edited)
        self._record(rolled.findings)
        self.output.fill(waiting.slot, chunk.raw if rolled.value is None else self._spliced(
            chunk.text(), root, rolled.value, memo, rolled, chunk.first_line).encode("utf-8"))


def _edited_again(spec: Spec, chunk: Chunk) -> Tuple[Optional[Node], Any, Dict[int, Any], Edited]:
    """A waiting workload's nodes, value, node -> value memo, and its edit done again for its value
    only (what the edit found was recorded when it came)."""
    root, original, memo = parse(chunk.raw, chunk.where, chunk.first_line)
    return root, original, memo, Editor(spec, Ledger()).edit(original, chunk.where, root, chunk.first_line, memo)


def note_facts(ledger: Ledger, piece: Piece) -> None:
    """What the ledger keeps of documents that are no targets (already syntax-checked): that the
    stream has content, Helm 4's filename annotation, an object that is not a Helm hook."""
    if piece.blank:
        return
    ledger.content = True
    if not ledger.helm4 and HELM4_FILENAME.encode() in piece.raw:
        ledger.helm4 = True
    if not ledger.lists and b"List" in piece.raw and re.search(_LIST_KIND, piece.raw):
        ledger.lists = True  # kubectl's wrapper: what the warnings say when nothing matched
    if ledger.has_release_objects:
        return
    # is every one a Helm hook? Read only while every object so far was one, and only when
    # the text names the annotation at all
    if HOOK_ANNOTATION.encode() not in piece.raw:
        ledger.has_release_objects = True
    elif isinstance(piece, Batch):
        for chunk in piece.chunks():
            note_facts(ledger, chunk)
    else:
        ledger.has_release_objects = not is_hook(parse(piece.raw, piece.where, piece.first_line)[1])


def pieces(stream: Stream) -> Iterator[Piece]:
    """The stream's pieces as the pipeline takes them: Batches of documents that cannot be targets."""
    return stream.pieces(CANDIDATE_WORDS)


def transform_in_one_process(source: Union[BinaryIO, Stream], spec: Spec, started: Optional[Iterable[Piece]] = None,
                             batch: bool = True, report_changes: bool = True) -> Tuple[Output, Ledger]:
    """Run the whole pipeline over a binary stream (or a Stream whose `pieces` were already
    `started`, as the CLI does to look at the first document); the caller copies the Output to
    stdout only on success. `batch`, `report_changes`: see `Pipeline`."""
    stream = source if isinstance(source, Stream) else Stream(source)
    pipeline = Pipeline(spec, batch=batch, report_changes=report_changes)
    try:
        result = pipeline.run(stream, started if started is not None else pieces(stream))
    except BaseException:
        pipeline.output.close()
        raise
    return pipeline.output, result
