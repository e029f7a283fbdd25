"""Command line: parse options, build the spec, run the pipeline, report.

Kept thin: everything it calls is testable without a process. Its own job is
the contract's promises at the process boundary: stdout gets the whole
transformed stream or nothing; warnings and failures are findings, rendered by
findings.py on stderr (and by delivery.py, under Helm, somewhere the user can
still see them) and in `--report`, which a failed run writes too, with its
error; exit codes are 0 (success), 1 (the input cannot be transformed),
2 (bad usage or spec), 130 (interrupted).
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, BinaryIO, Iterator, List, Optional, Sequence, Tuple, Type

import click

from . import __version__

# Everything else is imported where it is used: a run imports the stream path only, and `--version`,
# `--help` and a usage error import nothing of the package but this module (README: Speed).
if TYPE_CHECKING:
    from .errors import PostrenderError, SpecError
    from .findings import Finding
    from .krm import KrmInput
    from .ledger import Ledger
    from .output import Output
    from .read import Piece, Stream
    from .spec import Spec

def build_spec(configs: Sequence[str], logs_claim: Optional[str], volumes: Sequence[str], strict: bool = False,
               allow: Sequence[str] = ()) -> Spec:
    from .spec import (
        SpecFile,
        config_paths,
        layered_spec,
        parse_allow_options,
        parse_claim_option,
        parse_volume_options,
        read_spec_file,
    )

    files = [read_spec_file(path) for path in config_paths(configs)]
    options = SpecFile(parse_volume_options(volumes), True if strict else None, parse_allow_options(allow))
    return layered_spec(files + [options], None if logs_claim is None else parse_claim_option(logs_claim))


def _stdin() -> BinaryIO:
    if sys.stdin is None or sys.stdin.isatty():
        from .errors import SpecError

        raise SpecError("postrender reads rendered manifests on stdin",
                        hint="pipe them in: helm template ... | postrender -c spec.yaml")
    return sys.stdin.buffer


class _Run:
    """What `main` must know of a run when it fails: where the report goes (None until the options
    are accepted, and in KRM mode, whose `results` report instead)."""

    def __init__(self) -> None:  # a plain class: `--version` then needs no dataclasses
        self.report: Optional[str] = None


def _emit_warnings(warnings: List[Finding]) -> None:
    if not warnings:
        return
    from .findings import stderr_line
    from .helm_env import stderr_is_dropped

    dropped = stderr_is_dropped()  # under Helm, which drops stderr: the terminal and the log as well
    for warning in warnings:
        text = stderr_line(warning)
        click.echo(text, err=True)
        if dropped:
            from .delivery import deliver_warning

            deliver_warning(text)


def _write_report(run: _Run, findings: List[Finding], error: Optional[Finding] = None) -> None:
    target = run.report
    if target is None:
        return
    from .findings import report_json

    text = report_json(findings, error)
    if target == "-":
        click.echo(text, err=True)
        return
    try:
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        run.report = None  # this failure is not written there either
        from .errors import SpecError

        raise SpecError(f"cannot write the report to {target}: {exc.strerror}") from None


def _complete_file(ctx, param, incomplete):
    """Shell completion of a file name (the shell lists the files); the value itself is read as
    given, by load_spec_file / _write_report, with their own messages."""
    return [click.shell_completion.CompletionItem(incomplete, type="file")]


def _given(ctx: click.Context, name: str) -> bool:
    """Was this option on the command line (not a default)?"""
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


def _check_usage(ctx: click.Context) -> None:
    """Options that conflict, or that would be silently ignored, are usage errors (exit 2)."""
    given = [p for p in ctx.command.params if isinstance(p, click.Option) and p.name and _given(ctx, p.name)]
    flags = {p.name: "/".join(p.opts) for p in given}
    if "schema" in flags and len(flags) > 1:
        others = ", ".join(flag for name, flag in flags.items() if name != "schema")
        raise click.UsageError(f"--schema prints the spec's JSON Schema and takes no other option (got {others})")
    if "inspect" in flags:
        for name in ("show_diff", "report", "check", "strict", "allow"):
            if name in flags:
                raise click.UsageError(f"{flags[name]} does not go with --inspect, which changes nothing")
    elif "output_format" in flags:
        raise click.UsageError("--output is the format of --inspect; give it with --inspect")


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"postrender, version {__version__}", color=ctx.color)
        ctx.exit()


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


# `--version` and `-h/--help` are plain options that do what click's own do: click's decorators
# translate their texts through gettext at every start, which imports `locale` (~2 ms a run).
@click.command(add_help_option=False)
@click.option("-c", "--config", "configs", multiple=True, metavar="SPEC", shell_complete=_complete_file,
              help="Spec file (repeatable; later files override same-named volumes). Env: POSTRENDER_CONFIG.")
@click.option("--logs-claim", metavar="CLAIM", help="Put the Airflow logs volume on this existing claim.")
@click.option("--volume", "volumes", multiple=True, metavar="NAME=CLAIM:MOUNTPATH[:ro|:rw]",
              help="Add a claim-backed volume to the worker pod template and Celery workers (repeatable).")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the changes instead of the manifests.")
@click.option("--check", is_flag=True,
              help="Drift check: print one line per change the spec would make instead of the manifests "
                   "(with --diff, the diff); exit 3 when there is any, 0 when none.")
@click.option("--inspect", is_flag=True,
              help="List the pod templates and workloads found, with volumes and mounts "
                   "(checks -c, --logs-claim and --volume when given; changes nothing).")
@click.option("--output", "output_format", type=click.Choice(["table", "json"]), default="table",
              help="Format of --inspect.")
@click.option("--strict", is_flag=True,
              help="Fail the run (exit 1, nothing on stdout) on any warning not allowed. Spec: `strict: true`.")
@click.option("--allow", "allow", multiple=True, metavar="ID",
              help="Accept the warnings of this id under --strict (repeatable). Spec: `allow: [ID]`.")
@click.option("--schema", is_flag=True, help="Print the JSON Schema of the spec file.")
@click.option("--report", metavar="FILE", shell_complete=_complete_file,
              help="Also write a JSON report of the changes and warnings (or the error) to FILE ('-' = stderr).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version and exit.")
@click.option("-h", "--help", is_flag=True, expose_value=False, is_eager=True, callback=_show_help,
              help="Show this message and exit.")
@click.pass_context
def command(ctx, configs, logs_claim, volumes, show_diff, check, inspect, output_format, strict, allow, schema,
            report) -> None:
    """Helm post-renderer: put Airflow's worker pod template and workloads on persistent volume claims.

    Reads rendered manifests on stdin and writes them to stdout with the volumes injected.
    """
    from .output import watch_interrupts

    watch_interrupts()  # here, not in main: `--version` and `--help` end before this and import nothing more
    _check_usage(ctx)
    run = ctx.obj if isinstance(ctx.obj, _Run) else _Run()
    if schema:
        import json

        from .output import to_stdout
        from .spec.schema import json_schema

        to_stdout(json.dumps(json_schema(), indent=2) + "\n")
        return
    if inspect:
        from .findings import stderr_line
        from .inventory import inspection
        from .output import to_stdout

        given = build_spec(configs, logs_claim, volumes) if configs or logs_claim is not None or volumes else None
        text, found = inspection(_stdin(), output_format, given)  # printable already (JSON escapes itself)
        _emit_warnings(found.findings)  # as a run would say them
        if found.error is not None:
            _echo_error(stderr_line(found.error))
        to_stdout(text + "\n")
        return
    from .checks import refuse_warnings
    from .errors import SpecError
    from .output import to_stdout
    from .pipeline import pieces
    from .read import Chunk, Stream, first_content
    from .spec import Spec

    try:
        spec, spec_error = build_spec(configs, logs_claim, volumes, strict, allow), None
    except SpecError as exc:  # in KRM mode this must still come back as a ResourceList
        spec, spec_error = Spec(), exc
    run.report = report  # from here on, a failure is reported there too
    stream = Stream(_stdin())
    first, started = first_content(pieces(stream))
    resource_list = None
    if isinstance(first, Chunk) and b"ResourceList" in first.raw:  # else none: KRM mode is not imported
        from .krm import is_resource_list

        resource_list = is_resource_list(first)  # a Batch holds none
    if resource_list is not None:
        run.report = None
        if check:  # a KRM function answers with a ResourceList, never with a verdict
            raise click.UsageError("--check does not go with a ResourceList on stdin (KRM mode)")
        if spec_error is None and (show_diff or report is not None):  # never silently ignored
            flag = "--diff" if show_diff else "--report"
            spec_error = SpecError(f"{flag} does not go with a ResourceList on stdin (KRM mode)",
                                   hint="the ResourceList's `results` say what changed; run without " + flag)
        _run_krm(resource_list, started, spec, spec_error)
        return
    if spec_error is not None:
        raise spec_error
    if spec.empty:
        raise SpecError("nothing to do: give -c SPEC, --logs-claim CLAIM or --volume NAME=CLAIM:PATH",
                        hint="set POSTRENDER_CONFIG to a spec file, or see `postrender --help`")
    if check:
        _check(ctx, run, stream, started, spec, show_diff)
        return
    if show_diff:
        from .review import diff_stream

        text, ledger = diff_stream(stream, started, spec, report_changes=report is not None)
        refuse_warnings(spec, ledger.warnings)
        _emit_warnings(ledger.warnings)
        _write_report(run, ledger.findings)
        to_stdout(text)
        return
    output, ledger = _transform(stream, spec, started, report_changes=report is not None)
    try:
        refuse_warnings(spec, ledger.warnings)
        _emit_warnings(ledger.warnings)
        _write_report(run, ledger.findings)
        to_stdout(output)
    finally:
        output.close()


def _check(ctx: click.Context, run: _Run, stream: Stream, started: Iterator[Piece], spec: Spec,
           show_diff: bool) -> None:
    """`--check`: the changes the spec would make (lines, or the diff) instead of the manifests; exit 3
    when there is any. A stream in which no volume found a target fails (exit 1): it proves nothing."""
    from .checks import refuse_warnings
    from .drift import check_stream, drifted, no_target
    from .output import to_stdout

    if show_diff:
        from .review import diff_stream

        text, ledger = diff_stream(stream, started, spec, report_changes=True)
        drift = bool(drifted(ledger.changes))
    else:
        lines, ledger = check_stream(stream, started, spec)
        text, drift = "".join(line + "\n" for line in lines), bool(lines)
    refuse_warnings(spec, ledger.warnings)
    _emit_warnings(ledger.warnings)
    error = no_target(ledger, spec)
    if error is not None:
        raise error
    _write_report(run, ledger.findings)
    if drift:
        to_stdout(text)
        ctx.exit(3)


def _transform(stream: Stream, spec: Spec, started: Iterator[Piece], report_changes: bool) -> Tuple[Output, Ledger]:
    """The stream transformed: a small one (under pipeline.MIN_BYTES in all) here, without even
    importing the fork machinery; a larger one as `twoprocess` decides."""
    from .pipeline import MIN_BYTES, transform_in_one_process

    held, size = [], 0
    for piece in started:
        held.append(piece)
        size += len(piece.raw)
        if size >= MIN_BYTES:
            import itertools

            from .twoprocess import transform_maybe_in_two

            return transform_maybe_in_two(stream, spec, itertools.chain(held, started), report_changes=report_changes)
    return transform_in_one_process(stream, spec, held, report_changes=report_changes)


def _run_krm(found: KrmInput, started: Iterator[Piece], spec: Spec, spec_error: Optional[SpecError] = None) -> None:
    from .errors import InputError
    from .krm import KrmFailure, failure_output, run_krm
    from .output import to_stdout

    first = found.chunk
    error: Optional[PostrenderError] = spec_error
    if error is None and any(not piece.blank for piece in started if piece is not first):
        error = InputError("a ResourceList must be the only document on stdin", first.where)
    if error is not None:
        to_stdout(failure_output(error))
        raise error
    try:
        out = run_krm(found, spec)
    except KrmFailure as failure:
        to_stdout(failure.output)
        raise failure.error
    to_stdout(out)


def _fail(error: Finding, code: int, run: _Run, warnings: Sequence[Finding] = ()) -> int:
    """Report a failure (on stderr, and in the report when one was asked for); returns the exit code.
    `warnings`: what --strict refused, shown before the error (and kept in the report).

    Under Helm 4 stderr is dropped and so is stdout when the plugin exits non-zero, so there the
    reason goes to the terminal and a log file, and stdout carries it as a lone YAML scalar that
    Helm refuses (no object is ever emitted) while quoting it in its own error message.
    """
    from .findings import stderr_line
    from .helm_env import running_as_helm_plugin

    text = "\n".join(stderr_line(finding) for finding in [*warnings, error])
    _echo_error(text)
    try:
        _write_report(run, list(warnings), error)
    except _postrender_error() as exc:  # the report cannot be written: say that too
        _echo_error(stderr_line(exc.finding))
    except Exception:  # out of memory, interrupted again: the error above is what counts
        pass
    if not running_as_helm_plugin():
        return code
    from .delivery import PLUGIN_FAILURE_EXIT_CODE, deliver_failure

    try:
        sys.stdout.write(deliver_failure(text) or "")
        sys.stdout.flush()
    except Exception:
        return code
    return PLUGIN_FAILURE_EXIT_CODE


def _echo_error(text: str) -> None:
    try:
        click.echo(text, err=True)
    except Exception:  # stderr gone: nothing more to do there
        pass


def _usage_hint(exc: click.ClickException) -> str:
    name = getattr(exc, "option_name", None) or ""
    if isinstance(exc, click.NoSuchOption) and " " in name.strip():  # `--post-renderer-args="--config x.yaml"`
        return (f"{name!r} is an option and its value in one argument: under Helm give each its own "
                f"--post-renderer-args (--post-renderer-args={name.split()[0]} "
                f"--post-renderer-args={name.split(None, 1)[1]})")
    return "see `postrender --help`"


def _postrender_error() -> Type[PostrenderError]:
    """The class `main` catches, imported when an exception reaches that clause: `--version` never
    imports the finding model."""
    from .errors import PostrenderError

    return PostrenderError


def _interrupted(run: _Run) -> int:
    from .findings import interrupted
    from .output import forget_stdout_text

    forget_stdout_text()  # ruamel's emitter prints what it was writing when a Ctrl-C hits it
    return _fail(interrupted(), 130, run)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `postrender` console script."""
    run = _Run()
    try:
        try:
            code = command.main(args=argv, prog_name="postrender", standalone_mode=False, obj=run)
        except click.exceptions.Exit as exc:
            return exc.exit_code
        except click.exceptions.Abort:
            return _interrupted(run)
        except click.ClickException as exc:
            from .findings import USAGE_ERROR, Finding

            return _fail(Finding.error(USAGE_ERROR, exc.format_message(), hint=_usage_hint(exc)), 2, run)
        return code if isinstance(code, int) else 0  # `ctx.exit(3)` (--check) comes back as the result
    except _postrender_error() as exc:
        from .errors import StrictError

        return _fail(exc.finding, exc.exit_code, run, exc.warnings if isinstance(exc, StrictError) else ())
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): not our failure to report
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 1
    except KeyboardInterrupt:
        return _interrupted(run)
    except RecursionError:
        from .errors import InputError

        return _fail(InputError("the input is nested too deeply to process").finding, 1, run)
    except MemoryError:
        from .errors import InputError

        return _fail(InputError("out of memory while reading the input").finding, 1, run)
    except Exception as exc:  # a bug of ours: still no traceback, but say what to report
        from .findings import internal_error

        return _fail(internal_error(exc), 1, run)
