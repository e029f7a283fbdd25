"""`--strict`, `--allow ID`, and `strict:` / `allow:` in a spec or a KRM functionConfig (issue 23):
under strict any warning that no allow accepts fails the run as any failure does (exit 1, nothing
on stdout, the warnings are the message; `--report` still written; Helm 4's failure path; a KRM
error result)."""
import json

import pytest
from ruamel.yaml import YAML

from conftest import FIXTURES, load_all, run_cli, run_main, write_spec

STREAM = (FIXTURES / "hooks" / "manifests-helm4.yaml").read_bytes()  # a scheduler and a Service
# Two warnings: target 'triggerr' matched nothing (the scheduler did), volume 'data' matched nothing.
SPEC = """\
volumes:
  - name: logs
    claimName: airflow-logs
    mountPath: /opt/airflow/logs
    targets: [scheduler, triggerr]
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
    targets: [worker]
"""
CLEAN = SPEC.replace("[scheduler, triggerr]", "[scheduler]").replace("targets: [worker]", "targets: [scheduler]")
IDS = ("target-matched-nothing", "volume-matched-nothing")


def spec_args(tmp_path, *texts):
    args = []
    for index, text in enumerate(texts):
        args += ["-c", write_spec(tmp_path, text, f"spec{index}.yaml")]
    return args


def test_strict_fails_on_warnings_with_them_as_the_message_and_nothing_on_stdout(tmp_path):
    code, out, err = run_main([*spec_args(tmp_path, SPEC), "--strict"], STREAM)
    assert (code, out) == (1, b"")
    lines = err.decode().splitlines()
    assert lines[0].startswith("postrender: warning[target-matched-nothing]: volume 'logs': target 'triggerr'")
    assert lines[1].startswith("postrender: warning[volume-matched-nothing]: volume 'data' matched no object")
    assert lines[2] == ("postrender: error: strict mode refused 2 warnings (target-matched-nothing, "
                        "volume-matched-nothing); nothing was written")
    assert lines[3].startswith("  hint: fix what they say, or accept a kind of warning with --allow ID")
    assert len(lines) == 4  # each warning once: not also as an ordinary warning


def test_without_strict_the_same_warnings_let_the_run_succeed(tmp_path):
    code, out, err = run_main(spec_args(tmp_path, SPEC), STREAM)
    assert code == 0 and b"airflow-logs" in out
    assert [line.split("]")[0] for line in err.decode().splitlines()] == [f"postrender: warning[{i}" for i in IDS]


def test_strict_without_warnings_writes_the_stream(tmp_path):
    assert run_main(spec_args(tmp_path, CLEAN), STREAM)[:2] == run_main([*spec_args(tmp_path, CLEAN), "--strict"],
                                                                        STREAM)[:2]


def test_allow_accepts_each_named_kind_and_only_those(tmp_path):
    code, out, err = run_main([*spec_args(tmp_path, SPEC), "--strict", "--allow", IDS[0]], STREAM)
    assert (code, out) == (1, b"")
    assert "refused 1 warning (volume-matched-nothing)" in err.decode()
    assert "warning[target-matched-nothing]" in err.decode()  # the whole story, the allowed one too
    code, out, err = run_main([*spec_args(tmp_path, SPEC), "--strict", "--allow", IDS[0], "--allow", IDS[1]], STREAM)
    assert code == 0 and b"airflow-logs" in out
    assert err.decode().count("postrender: warning[") == 2  # still said, as without --strict


def test_strict_and_allow_in_the_spec_file(tmp_path):
    strict = "strict: true\n" + SPEC
    code, out, err = run_main(spec_args(tmp_path, strict), STREAM)
    assert (code, out) == (1, b"") and "refused 2 warnings" in err.decode()
    code, out, _ = run_main(spec_args(tmp_path, f"allow: [{', '.join(IDS)}]\n" + strict), STREAM)
    assert code == 0 and out


@pytest.mark.parametrize("later, refused", [
    ("", True),  # a later file that does not say `strict` keeps the earlier value
    ("strict: false\n", False),
    ("allow: [target-matched-nothing]\n", True),
])
def test_a_later_layer_keeps_strict_unless_it_says_otherwise(tmp_path, later, refused):
    over = later + "volumes:\n  - {name: extra, claimName: extra, mountPath: /extra, targets: [scheduler]}\n"
    code, out, _ = run_main(spec_args(tmp_path, "strict: true\n" + SPEC, over), STREAM)
    assert (code == 1 and out == b"") if refused else (code == 0 and out)


def test_allow_adds_up_across_layers_and_the_command_line_and_strict_wins_from_the_command_line(tmp_path):
    layers = spec_args(tmp_path, "strict: false\nallow: [target-matched-nothing]\n" + SPEC,
                       "allow: [volume-matched-nothing]\n")  # a file of options only
    assert run_main(layers, STREAM)[0] == 0
    assert run_main([*layers, "--strict"], STREAM)[0] == 0
    code, _, err = run_main([*spec_args(tmp_path, "allow: [target-matched-nothing]\n" + SPEC), "--strict"], STREAM)
    assert code == 1 and "refused 1 warning (volume-matched-nothing)" in err.decode()


def test_refuses_an_unknown_warning_id_with_a_did_you_mean(tmp_path):
    code, out, err = run_main([*spec_args(tmp_path, SPEC), "--strict", "--allow", "claim-template-remove"], STREAM)
    assert (code, out) == (2, b"")
    assert err.decode() == ("postrender: error: --allow: --allow 'claim-template-remove': not a warning id\n"
                            "  hint: did you mean 'claim-template-removed'?\n")
    code, out, err = run_main(spec_args(tmp_path, "allow: [rwo-claim-share]\n" + SPEC), STREAM)
    assert (code, out) == (2, b"")
    assert err.decode() == ("postrender: error: spec0.yaml, line 1: allow: 'rwo-claim-share' is not a warning id\n"
                            "  hint: did you mean 'rwo-claim-shared'?\n").replace("spec0.yaml", str(tmp_path /
                                                                                                  "spec0.yaml"))
    code, _, err = run_main(spec_args(tmp_path, "strict: yes please\n" + SPEC), STREAM)
    assert code == 2 and "strict must be true or false" in err.decode()


def test_the_report_is_still_written_with_the_warnings_and_the_error(tmp_path):
    report = tmp_path / "report.json"
    code, out, _ = run_main([*spec_args(tmp_path, SPEC), "--strict", "--report", str(report)], STREAM)
    assert (code, out) == (1, b"")
    written = json.loads(report.read_text())
    assert written["changes"] == []
    assert [w["id"] for w in written["warnings"]] == list(IDS)
    assert written["error"]["id"] == "strict-warnings" and written["error"]["severity"] == "error"
    assert "--allow ID" in written["error"]["hint"]


def test_diff_fails_the_same_under_strict(tmp_path):
    code, out, err = run_main([*spec_args(tmp_path, SPEC), "--strict", "--diff"], STREAM)
    assert (code, out) == (1, b"") and "refused 2 warnings" in err.decode()
    code, out, _ = run_main([*spec_args(tmp_path, SPEC), "--strict", "--diff", "--allow", IDS[0], "--allow", IDS[1]],
                            STREAM)
    assert code == 0 and out.startswith(b"--- ")


def test_helm4_plugin_mode_carries_the_warnings_into_helms_error(tmp_path):
    env = {"HELM_PLUGIN_NAME": "postrender", "XDG_STATE_HOME": str(tmp_path / "state")}
    code, out, _ = run_main([*spec_args(tmp_path, SPEC), "--strict"], STREAM, env=env)
    assert code == 0  # Helm 4 hides the stdout of a plugin that exits non-zero
    scalar = YAML(typ="safe").load(out)  # one string, never an object: Helm refuses it and quotes it
    assert isinstance(scalar, str)
    assert "warning[target-matched-nothing]" in scalar and "warning[volume-matched-nothing]" in scalar
    assert "strict mode refused 2 warnings" in scalar
    assert "strict mode refused 2 warnings" in (tmp_path / "state" / "postrender" / "postrender.log").read_text()


KRM = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
functionConfig:
  apiVersion: postrender/v1
  kind: VolumeInjection
  spec:
    strict: true
    volumes:
      - {name: logs, claimName: airflow-logs, mountPath: /opt/airflow/logs, targets: [scheduler, triggerr]}
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: demo-scheduler, labels: {component: scheduler}}
    spec:
      template:
        spec:
          containers: [{name: scheduler, image: "apache/airflow:3.1.7"}]
"""


def test_krm_strict_beside_volumes_gives_an_error_result_after_the_warnings(tmp_path):
    code, out, _ = run_main([], KRM.encode())
    assert code == 1
    result = YAML(typ="safe").load(out)
    assert result["items"] == []
    assert [(r["severity"], r["tags"]["id"]) for r in result["results"]] == [
        ("warning", "target-matched-nothing"), ("error", "strict-warnings")]
    allowed = KRM.replace("strict: true", "strict: true\n    allow: [target-matched-nothing]")
    code, out, _ = run_main([], allowed.encode())
    assert code == 0 and YAML(typ="safe").load(out)["items"][0]["spec"]["template"]["spec"]["volumes"]


def test_krm_takes_strict_from_the_exec_command_line(tmp_path):
    plain = KRM.replace("    strict: true\n", "")
    assert run_main([], plain.encode())[0] == 0
    assert run_main(["--strict"], plain.encode())[0] == 1


def test_strict_does_not_go_with_inspect(tmp_path):
    code, _, err = run_main(["--inspect", "--strict"], STREAM)
    assert code == 2 and "--strict does not go with --inspect" in err.decode()


def test_the_schema_knows_strict_and_allow():
    from postrender.findings import WARNINGS
    from postrender.spec import json_schema

    schema = json_schema()
    assert schema["properties"]["strict"]["type"] == "boolean"
    assert schema["properties"]["allow"]["items"]["enum"] == list(WARNINGS)
    assert set(schema["properties"]["spec"]["properties"]) == {"volumes", "strict", "allow"}


def test_the_process_exits_1_with_an_empty_stdout(tmp_path):
    proc = run_cli([*spec_args(tmp_path, SPEC), "--strict"], STREAM)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert b"strict mode refused 2 warnings" in proc.stderr
    assert load_all(run_cli(spec_args(tmp_path, CLEAN) + ["--strict"], STREAM).stdout.decode())
