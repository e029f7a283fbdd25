"""The stream pipeline: read the stream → edit each object → write, in stream order.

Documents that cannot be targets are copied through as bytes without being
composed. Candidates (ConfigMaps, claims and workloads) are composed with
libyaml and handed to the editing filter (`edit.Editor`); what it changed is
spliced back into the document's own text. This module keeps only what a
stream needs: order, and the wait of a workload for a ConfigMap further down
(it waits in an output slot until that ConfigMap has been seen).
"""
from dataclasses import dataclass
from typing import Any, BinaryIO, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node, ScalarNode

from .claims import claim_documents
from .edit import ConfigMapKey, Edited, Editor, Ledger
from .errors import InputError
from .output import Exported, Output
from .read import BOM, Chunk, Piece, Run, Stream
from .spec import Spec
from .targets import CANDIDATE_WORDS, HOOK_ANNOTATION, dig, is_candidate, is_hook
from .yamlio import MAX_DEPTH, check_syntax, compose_each, parse, parses_cleanly, to_data

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
        self.last = b""  # the last two bytes written from the input (how its last line ended)

    @property
    def ledger(self) -> Ledger:
        return self.editor.ledger

    def run(self, stream: Stream, pieces: Iterable[Piece]) -> Ledger:
        self.feed(pieces, stream)
        return self.close()

    def feed(self, pieces: Iterable[Piece], stream: Optional[Stream] = None) -> None:
        """Transform `pieces` (of `stream`, which tells whether the input began with a BOM).

        Many documents are read at a time where that can be done: the reader's Runs (documents
        that cannot be targets) and the small such documents between targets, gathered here, are
        syntax-checked in one libyaml pass and copied as one piece; small candidates that the
        filter only reads (`_gathered`) are composed with one parser. A stream of very many tiny
        documents then costs little more per byte than any other. What does not parse cleanly is
        done document by document, so an error names its document and line as ever.
        """
        group: List[Chunk] = []  # small chunks of one kind in a row (`_gathered`)
        kind: Optional[str] = None
        size = 0
        items = iter(pieces)
        while True:
            try:
                piece = next(items)
            except StopIteration:
                break
            except BaseException:  # reading failed further down: what came before fails first
                self._flush(group, kind)
                raise
            if piece.index == 1 and stream is not None and stream.bom:  # known once reading began
                self.output.write(BOM)
            gathered = _gathered(piece.raw) if isinstance(piece, Chunk) else None
            if isinstance(piece, Chunk) and gathered is not None and gathered == kind and size < RUN_BYTES:
                group.append(piece)
                size += len(piece.raw)
                continue
            self._flush(group, kind)
            group, kind, size = [], None, 0
            if isinstance(piece, Chunk) and gathered is not None:
                group, kind, size = [piece], gathered, len(piece.raw)
            elif isinstance(piece, Run):
                self._copy_run(piece)
            else:
                self._write(self.document(piece), piece.raw)
        self._flush(group, kind)

    def _write(self, data: bytes, raw: bytes) -> None:
        """Write what became of a piece whose input bytes were `raw`."""
        self.output.write(data)
        self.last = (self.last + raw)[-2:] if len(raw) < 2 else raw[-2:]

    def _flush(self, group: List[Chunk], kind: Optional[str]) -> None:
        if group:
            (self._copy_group if kind == _PLAIN else self._compose_group)(group)

    def _copy_group(self, group: List[Chunk]) -> None:
        """Write small chunks that cannot be targets, checked together where they parse cleanly."""
        run = Run(group[0].index, group[0].first_line, b"".join(chunk.raw for chunk in group), len(group))
        if parses_cleanly(run.raw):
            self._copy(run)
            return
        for chunk in group:
            self._write(self.document(chunk), chunk.raw)

    def _copy_run(self, run: Run) -> None:
        """Write a Run of the reader: as it is where it parses cleanly, else document by document."""
        if parses_cleanly(run.raw):
            self._copy(run)
        else:
            self.feed(run.chunks())

    def _copy(self, run: Run) -> None:
        self._note(run)
        self._write(run.raw, run.raw)

    def _compose_group(self, group: List[Chunk]) -> None:
        """Small candidates composed with one parser (a parser costs more than a tiny document); from
        the first that does not read cleanly on, each alone (which then says what is wrong, and where)."""
        done = 0
        first_line = group[0].first_line  # the nodes' lines count from there
        roots = compose_each(b"".join(chunk.raw for chunk in group))
        if roots is not None:
            try:
                for chunk, root in _aligned(group, roots, first_line):
                    if root is None:  # comments only
                        self._write(chunk.raw, chunk.raw)
                    else:
                        memo: Dict[int, Any] = {}
                        try:
                            data = to_data(root, chunk.where, first_line, memo, shared=False)
                        except InputError:
                            break
                        # what the filter says of it (its errors too) is what it says of the document alone
                        self._write(self._edited(chunk, root, data, memo, first_line, alone=False), chunk.raw)
                    done += 1
            finally:
                roots.close()
        for chunk in group[done:]:
            self._write(self.document(chunk), chunk.raw)

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
        root, data, memo = parse(chunk.raw, chunk.where, chunk.first_line)  # the text is decoded only to edit it
        return self._edited(chunk, root, data, memo, chunk.first_line)

    def _edited(self, chunk: Chunk, root: Optional[Node], data: Any, memo: Dict[int, Any], first_line: int,
                alone: bool = True) -> bytes:
        """The bytes to write for a candidate read as `data` from the nodes `root` (`memo`: node ->
        value), whose lines count from the stream line `first_line`. Not `alone`: the nodes were
        read with other documents, so an edit is spliced into the document read again alone."""
        self.ledger.content = True
        if not isinstance(data, dict):
            return chunk.raw
        if HELM4_FILENAME in (dig(data, ("metadata", "annotations")) or {}):
            self.ledger.helm4 = True
        edited = self.editor.edit(data, chunk.where, root, first_line, memo)
        if edited.configmap is not None and not self.hold:
            self._seen(edited.configmap)
        if edited.pending:
            waiting = _Waiting(self.output.reserve(), chunk, chunk.text(), edited)
            for ref in edited.pending:
                self.waiting.setdefault(ref, []).append(waiting)
            return b""
        if edited.value is None:
            return chunk.raw
        if not alone:
            root, _, memo = parse(chunk.raw, chunk.where, chunk.first_line)
        return self.editor.spliced(chunk.text(), root, edited.value, memo, edited.where,
                                   chunk.first_line).encode("utf-8")

    def _note(self, piece: Piece) -> None:
        """What the ledger keeps of documents that are no targets (already syntax-checked)."""
        if piece.blank:
            return
        ledger = self.ledger
        ledger.content = True
        if not ledger.helm4 and HELM4_FILENAME.encode() in piece.raw:
            ledger.helm4 = True
        if ledger.plain:
            return
        # is every one a Helm hook? Read only while every object so far was one, and only when
        # the text names the annotation at all
        if HOOK_ANNOTATION.encode() not in piece.raw:
            ledger.plain = True
        elif isinstance(piece, Run):
            for chunk in piece.chunks():
                self._note(chunk)
        else:
            ledger.plain = not is_hook(parse(piece.raw, piece.where, piece.first_line)[1])

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


def _aligned(group: List[Chunk], roots: Iterator[Node], first_line: int) -> Iterator[Tuple[Chunk, Optional[Node]]]:
    """Each chunk of a group with the root libyaml composed of it (None for comments only), from the
    start for as long as the two agree. A root is taken only once the parser has read on past its
    document (what is wrong just after a document is that document's error); at the first error
    or disagreement, stop: the rest is read alone."""
    try:
        ahead = next(roots, None)
        for chunk in group:
            if chunk.blank and not chunk.raw.startswith(b"---"):
                yield chunk, None  # no document at all for libyaml
                continue
            root, ahead = ahead, next(roots, None)
            if root is None:
                return
            if chunk.blank:  # a `---` and comments: an empty document
                if not (isinstance(root, ScalarNode) and (root.tag or "").endswith(":null") and root.value == ""):
                    return
                yield chunk, None
                continue
            top = first_line + root.start_mark.line
            if not chunk.first_line <= top <= chunk.first_line + chunk.raw.count(b"\n"):
                return  # pragma: no cover - a chunk is one document: this would be a bug
            yield chunk, root
    except YAMLError:
        return


_PLAIN = "plain"
_COMPOSED = "composed"


def _gathered(raw: bytes) -> Optional[str]:
    """Can this chunk be read together with its neighbours, and how? A small document with no
    directive and few flow brackets: one that cannot be a target shares its syntax check (_PLAIN),
    a candidate its parser (_COMPOSED); None for any other."""
    if len(raw) > PLAIN_BYTES or raw[:1] == b"%" or b"\n%" in raw or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH // 2:
        return None
    return _PLAIN if not is_candidate(raw) else _COMPOSED


def pieces(stream: Stream) -> Iterator[Piece]:
    """The stream's pieces as the pipeline takes them: Runs of documents that cannot be targets."""
    return stream.pieces(CANDIDATE_WORDS)


def transform_in_one_process(source: Union[BinaryIO, Stream], spec: Spec,
                             started: Optional[Iterable[Piece]] = None) -> Tuple[Output, Ledger]:
    """Run the whole pipeline over a binary stream (or a Stream whose `pieces` were already
    `started`, as the CLI does to look at the first document); the caller copies the Output to
    stdout only on success."""
    stream = source if isinstance(source, Stream) else Stream(source)
    pipeline = Pipeline(spec)
    try:
        result = pipeline.run(stream, started if started is not None else pieces(stream))
    except BaseException:
        pipeline.output.close()
        raise
    return pipeline.output, result
