"""The stream pipeline: read the stream → edit each object → write, in stream order.

Documents that cannot be targets are copied through as bytes without being
composed. Candidates (ConfigMaps, claims and workloads) are composed with
libyaml and handed to the editing filter (`edit.Editor`); what it changed is
spliced back into the document's own text. This module keeps only what a
stream needs: order, and the wait of a workload for a ConfigMap further down
(it waits in an output slot until that ConfigMap has been seen).
"""
from dataclasses import dataclass
from typing import BinaryIO, Dict, Iterable, List, Optional, Tuple, Union

from .claims import claim_documents
from .edit import ConfigMapKey, Edited, Editor, Ledger
from .output import Exported, Output
from .read import BOM, Chunk, Stream
from .spec import Spec
from .targets import HOOK_ANNOTATION, dig, is_candidate, is_hook
from .yamlio import MAX_DEPTH, check_syntax, parse, parses_cleanly

HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"
# Untouched documents above this size are copied through without a syntax check.
SYNTAX_CHECK_LIMIT = 4 * 1024 * 1024
# Documents up to PLAIN_BYTES that cannot be targets are checked and copied in runs of RUN_BYTES.
PLAIN_BYTES = 16 * 1024
RUN_BYTES = 256 * 1024


@dataclass
class _Waiting:
    """A workload whose roll annotation depends on ConfigMaps not seen yet."""

    slot: int
    chunk: Chunk
    text: str  # the original text
    edited: Edited


@dataclass
class Part:
    """What a pipeline made of one part of a stream, handed to the pipeline of the part before it
    (see `twoprocess`): its output, its ledger, and the workloads still waiting."""

    output: Exported
    ledger: Ledger
    waiting: List[_Waiting]
    last: bytes


class Pipeline:
    """Streams chunks through the editing filter into an all-or-nothing Output.

    A workload that mounts a ConfigMap not seen yet waits in an output slot and is finished
    when that ConfigMap comes. With `hold` (one part of a stream split between processes)
    waiting workloads are finished only in `close`, once every later part has been absorbed.
    """

    def __init__(self, spec: Spec, hold: bool = False):
        self.editor = Editor(spec)
        self.output = Output()
        self.hold = hold
        self.waiting: Dict[ConfigMapKey, List[_Waiting]] = {}
        self.last = b""  # the last byte written from the input

    @property
    def ledger(self) -> Ledger:
        return self.editor.ledger

    def run(self, stream: Stream, chunks: Iterable[Chunk]) -> Ledger:
        self.feed(chunks, stream)
        return self.close()

    def feed(self, chunks: Iterable[Chunk], stream: Optional[Stream] = None) -> None:
        """Transform `chunks` (of `stream`, which tells whether the input began with a BOM).

        Small documents that cannot be targets are gathered in runs, syntax-checked in one libyaml
        pass and copied as one piece: a stream of very many tiny documents costs little more per
        byte than any other (a run that does not parse cleanly is done document by document, so
        an error names its document and line as ever).
        """
        run: List[Chunk] = []
        size = 0
        items = iter(chunks)
        while True:
            try:
                chunk = next(items)
            except StopIteration:
                break
            except BaseException:  # reading failed further down: what came before fails first
                self._copy(run)
                raise
            if chunk.index == 1 and stream is not None and stream.bom:  # known once reading began
                self.output.write(BOM)
            if _plain(chunk.raw):
                run.append(chunk)
                size += len(chunk.raw)
                if size >= RUN_BYTES:
                    self._copy(run)
                    run, size = [], 0
                continue
            if run:
                self._copy(run)
                run, size = [], 0
            self.output.write(self.document(chunk))
            self.last = chunk.raw[-1:] or self.last
        self._copy(run)

    def _copy(self, run: List[Chunk]) -> None:
        """Write a run of plain chunks (see `_plain`), checked together where they parse cleanly."""
        if not run:
            return
        text = b"".join(chunk.raw for chunk in run)
        if not parses_cleanly(text):
            for chunk in run:
                self.output.write(self.document(chunk))
                self.last = chunk.raw[-1:] or self.last
            return
        for chunk in run:
            self._note(chunk)
        self.output.write(text)
        self.last = text[-1:] or self.last

    def close(self) -> Ledger:
        """Finish what still waits (no more ConfigMaps are coming), append claims, final warnings."""
        for waiting in self._waiting():
            self.finish(waiting)  # what never came changed no template of ours
        self.waiting.clear()
        ledger = self.ledger
        # a finished wait reports late: changes in stream order (warnings keep theirs)
        ledger.findings.sort(key=lambda f: 0 if f.is_warning else f.where.document or 0)
        claims = ledger.claims_to_create(self.editor.spec.volumes)
        text, created = claim_documents(claims, ledger.helm4, self.last)
        self.output.write(text)
        ledger.findings += created
        self.editor.finish()
        if not ledger.content:  # only whitespace, comments and `---`: nothing for kubectl or Helm (contract)
            self.output.close()
            self.output = Output()
        return ledger

    def _waiting(self) -> List[_Waiting]:
        return list({id(w): w for ws in self.waiting.values() for w in ws}.values())

    def part(self) -> Part:
        """This pipeline's work so far, for `absorb` in another process (nothing is closed)."""
        return Part(self.output.export(), self.ledger, self._waiting(), self.last)

    def absorb(self, part: Part) -> None:
        """Append the work done on the part of the stream that follows this pipeline's."""
        slots = self.output.extend(part.output)
        self.ledger.merge(part.ledger)
        for waiting in part.waiting:
            waiting.slot = slots[waiting.slot]
            for ref in waiting.edited.pending:
                self.waiting.setdefault(ref, []).append(waiting)
        self.last = part.last or self.last

    def document(self, chunk: Chunk) -> bytes:
        """The bytes to write for one chunk (b'' when it went into a slot)."""
        if chunk.blank:
            return chunk.raw
        if not is_candidate(chunk.raw):
            if len(chunk.raw) <= SYNTAX_CHECK_LIMIT:
                check_syntax(chunk.raw, chunk.where, chunk.first_line)  # libyaml reads the bytes: no str copy
            self._note(chunk)
            return chunk.raw
        self.ledger.content = True
        root, data, memo = parse(chunk.raw, chunk.where, chunk.first_line)  # the text is decoded only to edit it
        if not isinstance(data, dict):
            return chunk.raw
        if HELM4_FILENAME in (dig(data, ("metadata", "annotations")) or {}):
            self.ledger.helm4 = True
        edited = self.editor.edit(data, chunk.where, root, chunk.first_line)
        if edited.configmap is not None and not self.hold:
            self._seen(edited.configmap)
        if edited.pending:
            waiting = _Waiting(self.output.reserve(), chunk, chunk.text(), edited)
            for ref in edited.pending:
                self.waiting.setdefault(ref, []).append(waiting)
            return b""
        if edited.value is None:
            return chunk.raw
        return self.editor.spliced(chunk.text(), root, edited.value, memo, edited.where,
                                   chunk.first_line).encode("utf-8")

    def _note(self, chunk: Chunk) -> None:
        """What the ledger keeps of a document that is no target (already syntax-checked)."""
        if chunk.blank:
            return
        ledger = self.ledger
        ledger.content = True
        if not ledger.helm4 and HELM4_FILENAME.encode() in chunk.raw:
            ledger.helm4 = True
        if not ledger.plain:
            ledger.plain = not self._hook(chunk)

    @staticmethod
    def _hook(chunk: Chunk) -> bool:
        """Is this document (not a candidate, already syntax-checked) a Helm hook? Read only while
        every object so far was one, and only when the text names the annotation at all."""
        if HOOK_ANNOTATION.encode() not in chunk.raw:
            return False
        return is_hook(parse(chunk.raw, chunk.where, chunk.first_line)[1])

    def _seen(self, configmap: ConfigMapKey) -> None:
        """Finish the workloads that waited for this ConfigMap and no other."""
        for waiting in self.waiting.pop(configmap, []):
            waiting.edited.pending.discard(configmap)
            if not waiting.edited.pending:
                self.finish(waiting)

    def finish(self, waiting: _Waiting) -> None:
        chunk, where = waiting.chunk, waiting.edited.where
        root, original, memo = parse(waiting.text, where, chunk.first_line)
        new = self.editor.roll(original, waiting.edited)
        text = waiting.text if new is None else self.editor.spliced(waiting.text, root, new, memo, where,
                                                                    chunk.first_line)
        self.output.fill(waiting.slot, text.encode("utf-8"))


def _plain(raw: bytes) -> bool:
    """A small document that cannot be a target, with no directive and few flow brackets: one whose
    check can be shared with its neighbours'."""
    return (len(raw) <= PLAIN_BYTES and raw[:1] != b"%" and b"\n%" not in raw
            and raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH // 2 and not is_candidate(raw))


def transform_in_one_process(source: Union[BinaryIO, Stream], spec: Spec,
                        chunks: Optional[Iterable[Chunk]] = None) -> Tuple[Output, Ledger]:
    """Run the whole pipeline over a binary stream (or a Stream whose `chunks` were already
    started, as the CLI does to look at the first document); the caller copies the Output to
    stdout only on success."""
    stream = source if isinstance(source, Stream) else Stream(source)
    pipeline = Pipeline(spec)
    try:
        result = pipeline.run(stream, chunks if chunks is not None else stream)
    except BaseException:
        pipeline.output.close()
        raise
    return pipeline.output, result
