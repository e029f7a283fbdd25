"""Names and values from a spec or an option are checked whole (contract, Bad input and limits).

`re.match(...$)` let a trailing newline through (`$` matches before a final line break): a claim
`"evil\n"` with `create:` wrote the raw name into the claim's `# Source:` comment, and the output
was no longer YAML. Every pattern now has to match the whole value.
"""
import pytest

from conftest import FIXTURES, run_main

STREAM = (FIXTURES / "aliases" / "anchor-in-earlier-container.yaml").read_bytes()


def _spec(tmp_path, **fields):
    values = {"name": "logs", "claimName": "logs-pvc", "mountPath": "/opt/airflow/logs", **fields}
    lines = "".join(f"    {key}: {value}\n" for key, value in values.items())
    path = tmp_path / "spec.yaml"
    path.write_text("volumes:\n  - " + lines.lstrip() + "    targets: [scheduler]\n")
    return ["-c", str(path)]


@pytest.mark.parametrize("field, value", [
    ("claimName", '"evil\\n"'),
    ("claimName", '"evil\\n# x"'),
    ("name", '"logs\\n"'),
    ("mountPath", '"/opt/airflow/logs\\n"'),
    ("mountPath", '"/opt/\\e]0;title\\a"'),
    ("subPath", '"logs\\n"'),
])
def test_refuses_a_spec_value_with_a_trailing_newline_or_control_character(tmp_path, field, value):
    code, out, err = run_main(_spec(tmp_path, **{field: value}), STREAM)
    err = err.decode()
    assert code == 2
    assert out == b""
    assert field in err and "invalid" in err
    assert "\x1b" not in err and "\x07" not in err


def test_refuses_a_created_claim_named_with_a_newline_and_writes_no_comment(tmp_path):
    args = _spec(tmp_path, claimName='"evil\\n"', create="{storage: 1Gi}")
    code, out, err = run_main(args, STREAM)
    err = err.decode()
    assert (code, out) == (2, b"")


@pytest.mark.parametrize("args", [
    ["--logs-claim", "logs\n"],
    ["--volume", "data=data-pvc\n:/data"],
    ["--volume", "data=data-pvc:/data\n"],
    ["--volume", "data\n=data-pvc:/data"],
])
def test_refuses_an_option_value_with_a_trailing_newline(args):
    code, out, err = run_main(args, STREAM)
    err = err.decode()
    assert (code, out) == (2, b"")
    assert "invalid" in err or "not a valid" in err
