"""The command line in-process: exit codes and streams, without a child process."""
import io
import sys

import pytest

from postrender.cli import main
from conftest import STREAMS


class Pipe(io.BytesIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def streams(monkeypatch):
    """Swap stdin/stdout for byte pipes; returns a function that runs main() on `data`."""
    def run(args, data=b""):
        stdin, stdout = io.TextIOWrapper(Pipe(data)), io.TextIOWrapper(Pipe(), write_through=True)
        monkeypatch.setattr(sys, "stdin", stdin)
        monkeypatch.setattr(sys, "stdout", stdout)
        code = main(args)
        return code, stdout.buffer.getvalue()
    return run


def test_transforms_stdin_to_stdout_and_exits_zero(streams, capsys):
    data = (STREAMS / "worker-pod-template.yaml").read_bytes()
    code, out = streams(["--logs-claim", "airflow-log-pvc"], data)
    assert code == 0
    assert b"claimName: airflow-log-pvc" in out and out.startswith(b"---\n# Source:")


def test_a_bad_option_is_a_usage_error_with_exit_2_and_nothing_on_stdout(streams, capsys):
    code, out = streams(["--no-such-option"], b"")
    assert code == 2 and out == b""
    assert "postrender: error:" in capsys.readouterr().err


def test_an_input_error_exits_1_with_an_empty_stdout(streams, capsys):
    code, out = streams(["--logs-claim", "airflow-log-pvc"], b"---\nkind: Deployment\nmetadata: [\n")
    assert code == 1 and out == b""
    assert "document 1" in capsys.readouterr().err


def test_nothing_to_do_is_a_usage_error(streams, capsys):
    code, out = streams([], b"---\nkind: ConfigMap\n")
    assert code == 2 and out == b""
    assert "nothing to do" in capsys.readouterr().err
