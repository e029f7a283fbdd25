"""Text from the input that reaches a message or an --inspect table has its control characters
escaped (contract, Bad input and limits): an object name holding an OSC sequence must not set the
terminal's title or clipboard (OSC 52) when postrender names the object."""
import json

from conftest import run_main

OSC = "\x1b]52;c;ZXZpbA==\x07"
NAME = "web" + OSC + "\u202e\x9b"


def _deployment(volume: str = "emptyDir: {}") -> bytes:
    name = json.dumps(NAME)  # a double-quoted YAML scalar holding the escapes
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels: {{component: scheduler}}\n"
            "spec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: i\n"
            f"      volumes:\n        - name: logs\n          {volume}\n").encode()


def _spec(tmp_path, replace: bool) -> list:
    path = tmp_path / "spec.yaml"
    path.write_text("volumes:\n  - name: logs\n    claimName: logs-pvc\n    mountPath: /opt/airflow/logs\n"
                    f"    targets: [scheduler]\n    replace: {str(replace).lower()}\n")
    return ["-c", str(path)]


def _clean(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text, text


def test_an_error_naming_an_object_escapes_its_control_characters(tmp_path):
    code, out, err = run_main(_spec(tmp_path, replace=False), _deployment())
    err = err.decode()
    assert (code, out) == (1, b"")
    _clean(err)
    assert "\\x1b]52;c;ZXZpbA==\\x07" in err  # shown, as text


def test_a_warning_naming_an_object_escapes_its_control_characters(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("volumes:\n  - name: logs\n    claimName: logs-pvc\n    mountPath: /opt/airflow/logs\n"
                    "    targets: [scheduler]\n    replace: true\n"
                    "    create: {storage: 1Gi, accessModes: [ReadWriteOnce]}\n")
    stream = _deployment().replace(b"spec:\n  template:", b"spec:\n  replicas: 2\n  template:")
    code, _, err = run_main(["-c", str(spec)], stream)
    err = err.decode()
    assert code == 0
    assert "warning[" in err
    _clean(err)


def test_the_inspect_table_escapes_control_characters():
    code, out, err = run_main(["--inspect"], _deployment())
    err = err.decode()
    assert code == 0, err
    _clean(out.decode())
    assert "\\x1b" in out.decode()


def test_the_inspect_json_stays_json_with_the_name_whole():
    code, out, _ = run_main(["--inspect", "--output", "json"], _deployment())
    assert code == 0
    _clean(out.decode())
    assert json.loads(out)["workloads"][0]["name"] == NAME  # the data, whole
