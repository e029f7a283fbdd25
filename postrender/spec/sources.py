"""Where a run's volumes come from: spec files (`-c`, POSTRENDER_CONFIG), the command line's
shorthands (`--volume`, `--logs-claim`), and their layering.

A spec file is read with a size limit and without blocking forever on a pipe;
each source is checked by spec/parse.py; `layer` merges them as Helm's `-f`
does. Every failure is a SpecError (exit 2).
"""
from __future__ import annotations

import errno
import os
import re
import stat
from typing import Dict, List, Optional, Sequence, Tuple

from ..errors import SpecError, Where
from .fields import VOLUME_FIELDS
from .model import Spec, SpecFile, VolumeSpec

# A spec is a few KB; anything past this is the wrong file (a render, a log, /dev/zero), and reading
# it whole would only delay the error and grow the process (the manifests are limited likewise).
SPEC_MAX_BYTES = 1 << 20
# How long a pipe or device named by -c (`-c <(kubectl get ...)`, a FIFO) may stay silent before
# postrender gives up on it, rather than wait forever for a writer that never comes.
SPEC_PIPE_TIMEOUT = 30.0


def read_spec_bytes(path: str, limit: int = SPEC_MAX_BYTES, timeout: Optional[float] = None) -> bytes:
    """The bytes of a spec file, read with a size limit and without blocking forever.

    A regular file is read up to `limit` bytes. A pipe, a FIFO or a character device is allowed
    too (process substitution `-c <(kubectl get cm ...)` names a pipe as /dev/fd/N): it is opened
    without blocking (a FIFO with no writer would block the open itself) and read up to the same
    limit until its writer closes it; when no byte comes for `timeout` seconds (default
    SPEC_PIPE_TIMEOUT) that is an error. A directory and `-` (stdin carries the manifests) are
    refused. Every failure is a SpecError (exit 2).
    """
    where = Where(source=repr(path) if path != path.strip() else path)  # a stray space shows
    if path == "-":
        raise SpecError("stdin carries the manifests, so the spec cannot come from `-`", Where(source="-c -"),
                        hint="give the spec as a file, or as `-c <(command)` in bash")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror}", where, _path_hint(path)) from None
    too_big = SpecError(f"the spec file is larger than {_size(limit)}: a spec is a few KB; is this the right file?",
                        where)
    wait = SPEC_PIPE_TIMEOUT if timeout is None else timeout
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(f"cannot read spec file: {os.strerror(errno.EISDIR)}", where)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise too_big
        poller = None
        if not stat.S_ISREG(info.st_mode):
            import select  # only for a pipe: not at every start of the tool
        if not stat.S_ISREG(info.st_mode) and hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
        chunks: List[bytes] = []
        size = 0
        while True:
            if poller is not None and not poller.poll(wait * 1000):
                raise SpecError(f"nothing came through this pipe for {wait:g} s (is anything writing to it?)", where,
                                hint="give a spec file; a FIFO needs a writer, e.g. `-c <(kubectl get cm ...)`")
            try:
                data = os.read(fd, min(1 << 16, limit + 1 - size))
            except BlockingIOError:  # woken without data (a writer came and went): wait again
                continue
            if not data:
                return b"".join(chunks)
            chunks.append(data)
            size += len(data)
            if size > limit:
                raise too_big
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror}", where) from None
    finally:
        os.close(fd)


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 and not count % (1 << 20) else f"{count:,} bytes"


def _path_hint(path: str) -> Optional[str]:
    """For a spec path that cannot be read: the slip that most likely made it, if one shows."""
    split = "give --post-renderer-args=-c --post-renderer-args=spec.yaml (one argument each)"
    if path != path.lstrip():
        return (f"the path {path!r} starts with a space: did you pass `--post-renderer-args=\"-c {path.strip()}\"` "
                f"as one argument? {split[0].upper() + split[1:]}")
    flag = re.search(r"\s(--?[A-Za-z][-A-Za-z]*)(?:[\s=]|$)", path)
    if flag:
        return (f"the path {path!r} holds the option {flag.group(1)}: were several arguments passed as one? "
                f"Each --post-renderer-args is one argument: {split}")
    if path.startswith("="):
        return f"the path {path!r} starts with '=': write `-c {path[1:]}` or `--config={path[1:]}`"
    if path.startswith(",") or re.match(r"-[-A-Za-z]*,", path) or re.search(r",--?[A-Za-z]", path):
        # `--post-renderer-args=-c,spec.yaml`: Helm passes that flag's value as one argument, unsplit
        return (f"the path {path!r} looks like `--post-renderer-args=-c,spec.yaml`: Helm does not split that "
                f"flag at commas, each --post-renderer-args is one argument: {split}")
    if "," in path:
        return ("the path holds a comma: -c takes one file; repeat -c for each file "
                "(or POSTRENDER_CONFIG=a.yaml:b.yaml)")
    return None


def load_spec_file(path: str) -> Sequence[VolumeSpec]:
    """The volumes of one spec file."""
    return read_spec_file(path).volumes


def read_spec_file(path: str) -> SpecFile:
    """What one spec file says: its volumes, `strict` and `allow`."""
    raw = read_spec_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"the spec file is not UTF-8 (byte {exc.start})", Where(source=path)) from None
    from .parse import parse_spec_file  # here only: a run with --logs-claim alone reads no spec

    return parse_spec_file(text, path)


def layered_spec(sources: Sequence[SpecFile], logs_claim: Optional[str] = None) -> Spec:
    """The run's spec from its sources, earliest first (spec files, then the command line), as
    Helm's `-f` layers values: volumes by `layer`; `strict` as the last source that says it;
    `allow` added up."""
    strict = [source.strict for source in sources if source.strict is not None]
    return Spec(volumes=layer([source.volumes for source in sources]), logs_claim=logs_claim,
                strict=bool(strict and strict[-1]),
                allow=frozenset(warning_id for source in sources for warning_id in source.allow))


def parse_allow_options(texts: Sequence[str]) -> Tuple[str, ...]:
    """Every `--allow ID`, checked against the warning ids."""
    for text in texts:
        from .parse import unknown_warning_id

        hint = unknown_warning_id(text)
        if hint is not None:
            raise SpecError(f"--allow {text!r}: not a warning id", Where(source="--allow"), hint)
    return tuple(texts)


def layer(files: Sequence[Sequence[VolumeSpec]]) -> List[VolumeSpec]:
    """Like Helm's -f: a volume in a later file replaces the same-named volume of an earlier one."""
    merged: Dict[str, VolumeSpec] = {}
    for volumes in files:
        for volume in volumes:
            merged.pop(volume.name, None)
            merged[volume.name] = volume
    result = list(merged.values())
    _one_create_per_claim(result)
    return result


def _one_create_per_claim(volumes: Sequence[VolumeSpec]) -> None:
    """Two volumes on one claim may both say `create:`, but not two different claims to create."""
    first: Dict[str, VolumeSpec] = {}
    for volume in volumes:
        if volume.create is None:
            continue
        other = first.setdefault(volume.claim, volume)
        if other.create != volume.create:
            raise SpecError(f"volumes {other.name!r} ({other.origin}) and {volume.name!r} ({volume.origin}) both "
                            f"create claim {volume.claim!r}, differently",
                            hint="give `create:` to one of them only, or the same to both")


def parse_volume_option(text: str) -> VolumeSpec:
    """`--volume NAME=CLAIM:MOUNTPATH[:ro]`."""
    usage = "expected NAME=CLAIM:MOUNTPATH[:ro], e.g. data=airflow-data:/opt/airflow/data"
    name, sep, rest = text.partition("=")
    claim, sep2, path = rest.partition(":")
    if not sep or not sep2 or not name or not claim or not path:
        raise SpecError(f"--volume {text!r}: {usage}")
    read_only = False
    if path.endswith(":ro") or path.endswith(":rw"):
        read_only = path.endswith(":ro")
        path = path[:-3]
    if ":" in path:  # `:RO`, `:ro:x`: a typo would otherwise become part of the path
        raise SpecError(f"--volume {text!r}: the mount path {path!r} holds ':'; only `:ro` or `:rw` may follow "
                        f"it ({usage})")
    where = Where(source=f"--volume {text}")
    source = (f"volumes:\n- name: {_q(name)}\n  claimName: {_q(claim)}\n  mountPath: {_q(path)}\n"
              f"  readOnly: {str(read_only).lower()}\n")
    try:
        from .parse import parse_spec_text

        return parse_spec_text(source, f"--volume {text}")[0]
    except SpecError as exc:
        raise SpecError(exc.message, where, exc.hint) from None


def parse_volume_options(texts: Sequence[str]) -> List[VolumeSpec]:
    """Every `--volume`; a name given twice is an error, as a name repeated within one spec file."""
    volumes = [parse_volume_option(text) for text in texts]
    seen: Dict[str, str] = {}
    for text, volume in zip(texts, volumes):
        if volume.name in seen:
            raise SpecError(f"--volume {text!r}: volume {volume.name!r} is already given by "
                            f"--volume {seen[volume.name]!r}")
        seen[volume.name] = text
    return volumes


def parse_claim_option(claim: str, option: str = "--logs-claim") -> str:
    """A claim name given on the command line, checked like a spec's claimName."""
    rule = VOLUME_FIELDS["claimName"]
    if not re.fullmatch(rule["pattern"], claim) or len(claim) > rule["maxLength"]:
        raise SpecError(f"{option} {claim!r}: not a valid claim name ({rule['description']})")
    return claim


def _q(text: str) -> str:
    """`text` as a YAML scalar that reads back exactly (double-quoted: a line break stays one, escaped)."""
    import json  # here only: a run with no spec file needs no JSON

    return json.dumps(text)


def config_paths(options: Sequence[str], environ: Optional[Dict[str, str]] = None) -> List[str]:
    """-c files, else POSTRENDER_CONFIG (several separated by ':' as KUBECONFIG)."""
    if options:
        return list(options)
    env = (environ if environ is not None else os.environ).get("POSTRENDER_CONFIG", "")
    return [path for path in env.split(os.pathsep) if path]
