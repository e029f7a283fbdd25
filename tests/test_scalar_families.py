"""Numbers and dates are never interpreted (issue 14).

`data: {a: <5000 digits>}` and `a: 2001-13-45` are valid YAML; postrender once died on them with
"internal error" (Python's int digit limit, a month of 13). Every YAML 1.1/1.2 scalar family goes
through untouched documents byte for byte, and through targeted ones with only the injection
added, wherever it stands in the edited pod spec; a second run changes nothing.
"""

import pytest
from ruamel.yaml import YAML

from conftest import run_main, transform
from postrender.spec import Spec
from postrender.yamlio import Plain, dump_block, load

FAMILIES = [
    "9" * 5000,  # past Python's int digit limit
    "-" + "1" * 4301,
    "2001-13-45",  # a timestamp by the regex, no date
    "2001-02-30T25:61:61Z",
    "2001-12-14t21:59:43.10-05:00",
    "1:20", "190:20:30.15",  # sexagesimal (YAML 1.1)
    ".inf", "-.Inf", ".NaN",
    "0o17", "0o99", "017", "0x1F", "0xZZ", "0b101", "0b102", "+12_345", "1_000.5e3",
    "1e400", "-0", "0.", "1.2.3",
    "yes", "No", "on", "~", "null", "True",
]

SPEC = Spec(logs_claim="logs-pvc")


def _run(raw: bytes) -> bytes:
    return transform(raw, SPEC)[0]


def _untouched(value: str) -> bytes:
    flow = f"- [{value}, {value}]\n- {{k: {value}}}\n" if ":" not in value else ""  # `:` ends a key in flow
    return (f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  labels:\n    v: {value}\n"
            f"data:\n  a: {value}\n---\nkind: Service\nmetadata: {{name: s}}\nspec:\n  port: {value}\n"
            f"---\n{value}\n---\n- {value}\n{flow}").encode()


def _targeted(value: str) -> bytes:
    mount = ("- {name: scratch, mountPath: /opt/airflow/logs, subPath: logs, x: %s}" % value if ":" not in value
             else "- name: scratch\n          mountPath: /opt/airflow/logs\n          subPath: logs\n"
                  "          x: " + value)
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  labels: {{component: worker}}
  annotations:
    a: {value}
spec:
  replicas: {value}
  template:
    metadata:
      labels: {{component: worker}}
      annotations:
        b: {value}
    spec:
      terminationGracePeriodSeconds: {value}
      volumes:
      - name: scratch
        emptyDir:
          sizeLimit: {value}
      containers:
      - name: worker
        image: apache/airflow
        env:
        - name: BIG
          value: {value}
        resources:
          limits:
            cpu: {value}
        volumeMounts:
        {mount}
        - name: scratch
          mountPath: /tmp
          subPath: tmp
          y: {value}
      - name: sidecar
        image: busybox
        args:
        - {value}
        - "{value}"
""".replace("{mount}", mount).encode()


def _template(value: str) -> bytes:
    return f"""---
apiVersion: v1
kind: ConfigMap
metadata:
  name: airflow-config
data:
  pod_template_file.yaml: |
    apiVersion: v1
    kind: Pod
    metadata:
      name: t
      annotations:
        n: {value}
    spec:
      activeDeadlineSeconds: {value}
      volumes:
      - name: logs
        emptyDir:
          sizeLimit: {value}
      containers:
      - name: base
        image: apache/airflow
        volumeMounts:
        - name: logs
          mountPath: /opt/airflow/logs
        env:
        - name: X
          value: {value}
""".encode()


def _parsed(raw: bytes):
    return list(YAML(typ="safe").compose_all(raw.decode()))  # composed only: a test must not interpret them either


@pytest.mark.parametrize("value", FAMILIES)
def test_untouched_documents_pass_byte_for_byte(value):
    raw = _untouched(value)
    assert _run(raw) == raw


@pytest.mark.parametrize("value", FAMILIES)
@pytest.mark.parametrize("make", [_targeted, _template])
def test_targeted_documents_keep_every_scalar_as_written(value, make):
    raw = make(value)
    out = _run(raw)
    assert b"logs-pvc" in out
    new_lines = set(out.decode().splitlines())
    lost = [line for line in raw.decode().splitlines() if line not in new_lines]
    # only the logs volume or mount changes (a re-pointed mount drops its subPath; a volume put on the
    # claim loses its emptyDir): every other line, each one with the value included, stays as written
    assert len(lost) <= 2, lost
    assert len([line for line in lost if value in line]) <= 1, lost
    assert _run(out) == out  # idempotent
    _parsed(out)  # still YAML


def test_a_reemitted_mapping_writes_numbers_and_dates_as_the_plain_scalars_they_were():
    value = {"a": Plain("0x1F"), "b": Plain("2001-13-45"), "c": Plain("9" * 50), "d": Plain(".inf"),
             "e": Plain("0o17"), "s": "0x1F", "t": True, "z": None}
    lines = dump_block(value, indent_sequences=False)
    assert lines == ["a: 0x1F", "b: 2001-13-45", "c: " + "9" * 50, "d: .inf", "e: 0o17", "s: '0x1F'", "t: true",
                     "z: null"]
    again = load("\n".join(lines) + "\n")
    assert again == value


def test_numbers_stay_text_and_compare_as_text():
    data = load("a: 0x1F\nb: 31\nc: '31'\nd: 2001-13-45\ne: true\nf: ~\n")
    assert data["a"] == Plain("0x1F") and data["a"] != data["b"] and data["b"] != "31" and data["c"] == "31"
    assert str(data["d"]) == "2001-13-45" and data["e"] is True and data["f"] is None


@pytest.mark.parametrize("value", ["9" * 5000, "2001-13-45"])
def test_the_cli_never_reports_an_internal_error(value):
    for raw in (_untouched(value), _targeted(value), f"data: {{a: {value}}}\n".encode()):
        result = run_main(["--logs-claim", "logs-pvc"], raw)
        assert result.returncode == 0, result.stderr
        assert b"internal error" not in result.stderr
