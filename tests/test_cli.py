"""The command line in-process: exit codes and streams, without a child process."""
import io
import json
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


# -- the report of a failed run -----------------------------------------------------------------------
def test_a_failed_run_still_writes_its_report_with_the_error(streams, capsys, tmp_path):
    report = tmp_path / "r.json"
    code, out = streams(["--logs-claim", "airflow-log-pvc", "--report", str(report)],
                        b"---\nkind: Deployment\nmetadata: [\n")
    assert code == 1 and out == b""
    written = json.loads(report.read_text())
    assert (written["version"], written["changes"], written["warnings"]) == (1, [], [])
    error = written["error"]
    assert (error["severity"], error["id"], error["document"]) == ("error", "invalid-input", 1)
    assert error["message"].startswith("invalid YAML")
    assert capsys.readouterr().err.startswith("postrender: error: document 1, line")


def test_a_bad_spec_is_in_the_report_too(streams, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("volumes:\n  - name: logs\n    claimName: c\n    mountpath: /logs\n")
    code, out = streams(["-c", str(spec), "--report", str(tmp_path / "r.json")], b"---\nkind: ConfigMap\n")
    assert code == 2 and out == b""
    error = json.loads((tmp_path / "r.json").read_text())["error"]
    assert (error["id"], error["source"], error["line"], error["object"]) == ("invalid-spec", str(spec), 4,
                                                                              "volume logs")
    assert error["hint"] == "did you mean 'mountPath'?"


def test_a_report_the_options_refuse_is_never_written(streams, tmp_path):
    """`--report` with `--inspect` is a usage error, and a ResourceList's error goes in its results."""
    report = tmp_path / "r.json"
    assert streams(["--inspect", "--report", str(report)], b"---\nkind: ConfigMap\n")[0] == 2
    resource_list = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
    code, out = streams(["--logs-claim", "c", "--report", str(report)], resource_list)
    assert code == 2 and b"does not go with a ResourceList" in out
    assert not report.exists()
