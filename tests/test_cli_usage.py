"""Options that conflict or would be silently ignored are usage errors (exit 2, stdout empty,
no traceback): `--diff` with `--inspect`, `--report` with `--inspect`, `--output` without
`--inspect` (only when given: its default never counts), `--schema` with any other option, and
`--inspect` with a spec that cannot be read (the spec is checked, though --inspect changes nothing).
"""
import json

import pytest

from conftest import HELM3_RENDER as STREAM
from conftest import TEMPLATE_LOGS_SPEC as GOOD
from conftest import run_main, write_spec


def usage_error(proc, *needles):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, (proc.returncode, err)
    assert proc.stdout == b"", proc.stdout[:200]
    assert "Traceback" not in err and err.startswith("postrender: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize("args, needle", [
    (["--diff", "--inspect"], "--diff does not go with --inspect"),
    (["--inspect", "--report", "changes.json"], "--report does not go with --inspect"),
    (["--output", "json"], "--output is the format of --inspect"),
    (["--output=table", "--logs-claim", "airflow-log-pvc"], "--output is the format of --inspect"),
    (["--schema", "-c", "spec.yaml"],
     "--schema prints the spec's JSON Schema and takes no other option (got -c/--config)"),
    (["--schema", "--inspect"], "takes no other option (got --inspect)"),
    (["--schema", "--output", "json"], "takes no other option (got --output)"),
])
def test_conflicting_or_ignored_options(args, needle):
    usage_error(run_main(args, STREAM), needle)


def test_the_default_of_output_is_no_option(tmp_path):
    proc = run_main(["-c", write_spec(tmp_path, GOOD)], STREAM)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"claimName: airflow-log-pvc" in proc.stdout


def test_inspect_with_an_unreadable_spec_fails(tmp_path):
    usage_error(run_main(["--inspect", "-c", str(tmp_path / "missing.yaml")], STREAM),
                "missing.yaml: cannot read spec file")


def test_inspect_with_an_invalid_spec_or_option_fails(tmp_path):
    usage_error(run_main(["--inspect", "-c", write_spec(tmp_path, GOOD.replace("name: logs", "name: Bad"))], STREAM),
                "line 2", "Bad")
    usage_error(run_main(["--inspect", "--logs-claim", "Bad_Claim"], STREAM), "--logs-claim 'Bad_Claim'")
    usage_error(run_main(["--inspect", "--volume", "nonsense"], STREAM), "--volume")


def test_inspect_with_a_valid_spec_lists_the_stream(tmp_path):
    proc = run_main(["--inspect", "--output", "json", "-c", write_spec(tmp_path, GOOD)], STREAM)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["podTemplates"], "the listing is that of --inspect alone"
    assert proc.stdout == run_main(["--inspect", "--output", "json"], STREAM).stdout


def test_schema_alone_and_with_the_env_fallback(tmp_path):
    """POSTRENDER_CONFIG is no option given: --schema still works where it is set."""
    for env in ({}, {"POSTRENDER_CONFIG": str(tmp_path / "missing.yaml")}):
        proc = run_main(["--schema"], env=env)
        assert proc.returncode == 0, proc.stderr.decode()
        assert json.loads(proc.stdout)["title"].startswith("postrender spec")


def test_diff_with_report_still_works(tmp_path):
    proc = run_main(["--diff", "-c", write_spec(tmp_path, GOOD), "--report", str(tmp_path / "r.json")], STREAM)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads((tmp_path / "r.json").read_text())["changes"]
