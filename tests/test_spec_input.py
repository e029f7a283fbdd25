"""Spec files are read like manifests: with a size limit, never blocking forever, never a hang or
a traceback; and a path that cannot be read says what slip most likely made it.

-c takes a regular file (up to 1 MiB), or a pipe the user named on purpose (`-c <(command)`,
a FIFO with a writer), read to its end with the same limit; a pipe silent for
SPEC_PIPE_TIMEOUT seconds is an error. `-` is refused: stdin carries the manifests.
"""
import io
import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import HELM3_RENDER as STREAM
from conftest import TEMPLATE_LOGS_SPEC as GOOD
from conftest import run_cli, run_main, write_spec
from postrender import cli, spec
from postrender.errors import SpecError
from postrender.spec import sources


def fails(proc, *needles, code=2):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, (proc.returncode, err)
    assert proc.stdout == b""
    assert "Traceback" not in err and err.startswith("postrender: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def injected(proc):
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"claimName: airflow-log-pvc" in proc.stdout


# -- size -----------------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused_quickly_naming_the_limit():
    start = time.monotonic()
    proc = run_cli(["-c", "/dev/zero"], STREAM, timeout=30)
    fails(proc, "/dev/zero: the spec file is larger than 1 MiB")
    assert time.monotonic() - start < 20


def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(3 << 30)  # 3 GiB of holes: reading it would take long and grow the process
    start = time.monotonic()
    fails(run_cli(["-c", str(path)], STREAM, timeout=30), "larger than 1 MiB")
    assert time.monotonic() - start < 20


def test_the_limit_is_one_mib(tmp_path):
    padding = "#" + "x" * 99 + "\n"
    at_limit = GOOD + padding * ((spec.SPEC_MAX_BYTES - len(GOOD)) // len(padding))
    at_limit += "#" * (spec.SPEC_MAX_BYTES - len(at_limit) - 1) + "\n"
    assert len(at_limit) == spec.SPEC_MAX_BYTES
    assert len(spec.read_spec_bytes(write_spec(tmp_path, at_limit))) == spec.SPEC_MAX_BYTES
    with pytest.raises(SpecError, match="larger than 1 MiB"):
        spec.read_spec_bytes(write_spec(tmp_path, at_limit + "\n", "over.yaml"))


def test_a_spec_alias_bomb_is_refused(tmp_path):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    fails(run_main(["-c", write_spec(tmp_path, "\n".join(lines) + "\n" + GOOD)], STREAM),
          "alias")


def test_a_deeply_nested_spec_is_refused(tmp_path):
    fails(run_main(["-c", write_spec(tmp_path, "volumes: " + "[" * 5000 + "]" * 5000 + "\n")], STREAM),
          "nested deeper")


# -- pipes and other files -------------------------------------------------------------------------
def test_a_fifo_nobody_writes_to_does_not_hang(tmp_path, monkeypatch, capsys):
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(sources, "SPEC_PIPE_TIMEOUT", 0.5)  # the CLI's own wait, shortened
    monkeypatch.setattr(cli.sys, "stdin", io.TextIOWrapper(io.BytesIO(STREAM)))
    start = time.monotonic()
    assert cli.main(["-c", str(fifo)]) == 2
    assert time.monotonic() - start < 10
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nothing came through this pipe for 0.5 s" in captured.err


def test_the_pipe_timeout_is_documented_and_generous():
    assert spec.SPEC_PIPE_TIMEOUT >= 10  # kubectl against a slow API server still makes it


def test_a_fifo_whose_writer_comes_later_is_read(tmp_path):
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)

    def writer():
        time.sleep(1.0)  # postrender is already waiting: the open must not have blocked it for good
        with open(fifo, "w") as handle:
            handle.write(GOOD[:40])
            handle.flush()
            time.sleep(0.5)
            handle.write(GOOD[40:])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        injected(run_cli(["-c", str(fifo)], STREAM, timeout=60))
    finally:
        thread.join()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_process_substitution(tmp_path):
    path = write_spec(tmp_path, GOOD)
    script = 'exec "$0" -m postrender -c <(sleep 0.5; cat "$1")'
    proc = subprocess.run(["bash", "-c", script, cli.sys.executable, path], input=STREAM, capture_output=True,
                          timeout=60, env={k: v for k, v in os.environ.items() if k != "HELM_PLUGIN_NAME"})
    injected(proc)


def test_a_pipe_over_the_limit_is_refused(tmp_path):
    proc = subprocess.run(["bash", "-c", 'exec "$0" -m postrender -c <(yes "# filler")', cli.sys.executable],
                          input=STREAM, capture_output=True, timeout=60)
    fails(proc, "larger than 1 MiB")


def test_a_directory_and_stdin_are_refused(tmp_path):
    fails(run_main(["-c", str(tmp_path)], STREAM), "cannot read spec file: Is a directory")
    fails(run_main(["-c", "-"], STREAM), "-c -: stdin carries the manifests", "<(command)")


def test_an_unreadable_file_keeps_its_message(tmp_path):
    err = fails(run_main(["-c", str(tmp_path / "missing.yaml")], STREAM),
                "missing.yaml: cannot read spec file: No such file or directory")
    assert "hint" not in err, "no slip shows in this path: no hint"


# -- hints for the usual slips ---------------------------------------------------------------------
def test_one_quoted_post_renderer_arg_is_explained():
    """`--post-renderer-args="-c spec.yaml"` reaches postrender as one argument, `-c spec.yaml`."""
    err = fails(run_main(["-c spec.yaml"], STREAM))
    assert err.startswith("postrender: error: ' spec.yaml': cannot read spec file"), err
    assert ("the path ' spec.yaml' starts with a space: did you pass `--post-renderer-args=\"-c spec.yaml\"` "
            "as one argument? Give --post-renderer-args=-c --post-renderer-args=spec.yaml") in err


def test_a_flag_inside_the_path_is_explained():
    err = fails(run_main(["-c", "spec.yaml --logs-claim x"], STREAM))
    assert "holds the option --logs-claim" in err and "--post-renderer-args=-c --post-renderer-args=spec.yaml" in err


def test_a_comma_is_explained():
    fails(run_main(["-c", "a.yaml,b.yaml"], STREAM), "-c takes one file; repeat -c", "POSTRENDER_CONFIG=a.yaml:b.yaml")


def test_an_equals_sign_is_explained():
    fails(run_main(["-c=spec.yaml"], STREAM), "starts with '='", "`-c spec.yaml`")


def test_an_option_and_its_value_in_one_argument_is_explained():
    err = fails(run_main(["--config spec.yaml"], STREAM))
    assert "No such option" in err
    assert "--post-renderer-args=--config --post-renderer-args=spec.yaml" in err
