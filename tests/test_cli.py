"""The command line in-process: exit codes and streams, without a child process."""
import json

from conftest import STREAMS, run_main


def test_transforms_stdin_to_stdout_and_exits_zero():
    data = (STREAMS / "worker-pod-template.yaml").read_bytes()
    ran = run_main(["--logs-claim", "airflow-log-pvc"], data)
    assert ran.returncode == 0
    assert b"claimName: airflow-log-pvc" in ran.stdout and ran.stdout.startswith(b"---\n# Source:")


def test_a_bad_option_is_a_usage_error_with_exit_2_and_nothing_on_stdout():
    ran = run_main(["--no-such-option"], b"")
    assert ran.returncode == 2 and ran.stdout == b""
    assert b"postrender: error:" in ran.stderr


def test_an_input_error_exits_1_with_an_empty_stdout():
    ran = run_main(["--logs-claim", "airflow-log-pvc"], b"---\nkind: Deployment\nmetadata: [\n")
    assert ran.returncode == 1 and ran.stdout == b""
    assert b"document 1" in ran.stderr


def test_nothing_to_do_is_a_usage_error():
    ran = run_main([], b"---\nkind: ConfigMap\n")
    assert ran.returncode == 2 and ran.stdout == b""
    assert b"nothing to do" in ran.stderr


# -- the report of a failed run -----------------------------------------------------------------------
def test_a_failed_run_still_writes_its_report_with_the_error(tmp_path):
    report = tmp_path / "r.json"
    ran = run_main(["--logs-claim", "airflow-log-pvc", "--report", str(report)],
                   b"---\nkind: Deployment\nmetadata: [\n")
    assert ran.returncode == 1 and ran.stdout == b""
    written = json.loads(report.read_text())
    assert (written["version"], written["changes"], written["warnings"]) == (1, [], [])
    error = written["error"]
    assert (error["severity"], error["id"], error["document"]) == ("error", "invalid-input", 1)
    assert error["message"].startswith("invalid YAML")
    assert ran.stderr.startswith(b"postrender: error: document 1, line")


def test_a_bad_spec_is_in_the_report_too(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("volumes:\n  - name: logs\n    claimName: c\n    mountpath: /logs\n")
    ran = run_main(["-c", str(spec), "--report", str(tmp_path / "r.json")], b"---\nkind: ConfigMap\n")
    assert ran.returncode == 2 and ran.stdout == b""
    error = json.loads((tmp_path / "r.json").read_text())["error"]
    assert (error["id"], error["source"], error["line"], error["object"]) == ("invalid-spec", str(spec), 4,
                                                                              "volume logs")
    assert error["hint"] == "did you mean 'mountPath'?"


def test_a_report_the_options_refuse_is_never_written(tmp_path):
    """`--report` with `--inspect` is a usage error, and a ResourceList's error goes in its results."""
    report = tmp_path / "r.json"
    assert run_main(["--inspect", "--report", str(report)], b"---\nkind: ConfigMap\n").returncode == 2
    resource_list = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
    ran = run_main(["--logs-claim", "c", "--report", str(report)], resource_list)
    assert ran.returncode == 2 and b"does not go with a ResourceList" in ran.stdout
    assert not report.exists()
