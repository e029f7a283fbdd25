"""The command line in-process: exit codes and streams, without a child process."""
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
