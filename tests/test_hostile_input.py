"""Hostile and malformed manifest streams, through the CLI (in a child process where a crash, a hang
or the memory used is the point).

Every case ends in a correct result or a clean failure: exit 1 (2 for the spec), an EMPTY
stdout, a few readable lines on stderr that name the place, never a traceback, a crash
(signal), a hang or a memory blow-up.
"""
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from conftest import ROOT, STREAMS, Ran, load_all, pod_templates, run_cli, run_main, write_spec
from postrender.read import Stream

SPEC = """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler]
"""

CONFIGMAP = (STREAMS / "worker-pod-template.yaml").read_text()  # the official chart's, trimmed

SCHEDULER = """\
---
# Source: airflow/templates/scheduler/scheduler-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: airflow-scheduler
  labels:
    component: scheduler
spec:
  template:
    spec:
      containers:
        - name: scheduler
          image: apache/airflow:3.1.7
          volumeMounts:
            - name: logs
              mountPath: /opt/airflow/logs
            - name: config
              mountPath: /opt/airflow/pod_templates/pod_template_file.yaml
              subPath: pod_template_file.yaml
      volumes:
        - name: logs
          emptyDir: {}
        - name: config
          configMap:
            name: airflow-config
"""

SERVICE = """\
---
# Source: airflow/templates/api-server/api-server-service.yaml
apiVersion: v1
kind: Service
metadata:
  name: airflow-api-server   # untouched
spec:
  ports: [{name: http, port: 8080}]
"""

STREAM = CONFIGMAP + SCHEDULER + SERVICE
CLAIM = {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}


# -- helpers -------------------------------------------------------------------------------------------
def chunks(data: bytes) -> List[bytes]:
    return [chunk.raw for chunk in Stream(io.BytesIO(data))]


def run(tmp_path: Path, stdin: bytes, spec: str = SPEC) -> Ran:
    return run_main(["-c", write_spec(tmp_path, spec)], stdin)


def run_apart(tmp_path: Path, stdin: bytes, timeout: float) -> subprocess.CompletedProcess:
    """The real CLI in a child process: a crash (a signal) or a hang must not take the test run along."""
    return run_cli(["-c", write_spec(tmp_path, SPEC)], stdin, timeout=timeout)


def assert_clean_failure(result: subprocess.CompletedProcess, code: int = 1, *needles: str) -> str:
    """Exit `code`, nothing on stdout, a short readable message on stderr naming `needles`."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, (result.returncode, err)
    assert result.stdout == b"", result.stdout[:300]
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.startswith("postrender: error: "), err
    assert len(err.strip().splitlines()) <= 6, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def assert_success(result: subprocess.CompletedProcess) -> bytes:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, err
    assert "Traceback" not in err, err
    return result.stdout


def scheduler_volumes(docs) -> dict:
    deployment = next(d for d in docs if isinstance(d, dict) and d.get("kind") == "Deployment")
    return {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}


MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys
    stdin_path, stdout_path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(stdin_path, "rb") as src, open(stdout_path, "wb") as dst:
        done = subprocess.run([sys.executable, "-m", "postrender", *args], stdin=src, stdout=dst,
                              stderr=subprocess.PIPE, timeout=600)
    print(json.dumps({"rc": done.returncode, "stderr": done.stderr.decode("utf-8", "replace"),
                      "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
""")


def run_measured(tmp_path: Path, data: bytes, args: List[str]) -> Tuple[int, str, bytes, int]:
    """(exit code, stderr, stdout, peak RSS in bytes) of one CLI run: a wrapper process whose only
    child is the CLI, so RUSAGE_CHILDREN is that child's peak alone."""
    stdin_path, stdout_path = tmp_path / "in.yaml", tmp_path / "out.yaml"
    stdin_path.write_bytes(data)
    env = dict(os.environ)
    for name in ("HELM_PLUGIN_NAME", "HELM_PLUGIN_DIR", "POSTRENDER_CONFIG"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(stdin_path), str(stdout_path), *args],
                          capture_output=True, timeout=600, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    return report["rc"], report["stderr"], stdout_path.read_bytes(), report["peak_kb"] * 1024


# -- malformed YAML ------------------------------------------------------------------------------------
MALFORMED = {
    "unclosed-flow-mapping": ("metadata: {name: x\n", "did not find expected"),
    "unclosed-flow-sequence": ("spec:\n  ports: [80, 443\n", "did not find expected"),
    "bad-indentation": ("metadata:\n  name: x\n   labels: {}\n", "line"),
    "tab-indentation": ("metadata:\n\tname: x\n", "tab"),
    "unclosed-quote": ("metadata:\n  name: \"x\n", "line"),
}


@pytest.mark.parametrize("targeted", [True, False], ids=["targeted", "untargeted"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_yaml_fails_cleanly_naming_document_and_line(tmp_path, case, targeted):
    body, needle = MALFORMED[case]
    kind = "Deployment" if targeted else "Service"
    bad = f"---\n# Source: x/bad.yaml\napiVersion: v1\nkind: {kind}\n{body}"
    stream = CONFIGMAP + bad + SERVICE  # the bad object is document 2, starting on stream line 24
    result = run(tmp_path, stream.encode())
    err = assert_clean_failure(result, 1, "document 2", "line ", "invalid YAML")
    assert needle in err
    line = int(err.split("line ", 1)[1].split(",")[0].split(":")[0])
    assert 24 + 4 <= line <= 24 + 4 + body.count("\n"), err  # inside the bad object's body


@pytest.mark.parametrize("text", ["---\n...  - x\n", "---\na: 1\n... b\n"])
def test_content_on_a_document_end_marker_line_is_no_yaml_and_refused(tmp_path, text):
    # libyaml reads the `...` and then content that no `---` opens: it was taken for a bare `...`
    assert_clean_failure(run(tmp_path, (STREAM + text).encode()), 1, "document 4", "invalid YAML")


def test_malformed_yaml_in_the_last_document_still_leaves_stdout_empty(tmp_path):
    stream = STREAM + "---\nkind: Service\nmetadata: [\n"
    assert_clean_failure(run(tmp_path, stream.encode()), 1, "document 4")


def test_duplicate_name_in_a_targeted_object_targets_by_the_winning_value(tmp_path):
    # Helm 3 and kubectl read the last occurrence: the object is `other`, and it is injected
    stream = SCHEDULER.replace("  name: airflow-scheduler\n", "  name: airflow-scheduler\n  name: other\n")
    spec = SPEC.replace("[pod-template, scheduler]", "[{kind: Deployment, name: other}]")
    result = run(tmp_path, stream.encode(), spec)
    assert result.returncode == 0, result.stderr
    docs = load_all(result.stdout.replace(b"  name: airflow-scheduler\n", b""))
    volumes = docs[0]["spec"]["template"]["spec"]["volumes"]
    assert CLAIM in volumes


def test_duplicate_volumes_key_in_a_targeted_pod_spec_is_edited_where_it_wins(tmp_path):
    stream = SCHEDULER.replace("      volumes:\n", "      volumes: []\n      volumes:\n")
    result = run(tmp_path, stream.encode())
    assert result.returncode == 0, result.stderr
    assert b"      volumes: []\n      volumes:\n        - name: logs\n          persistentVolumeClaim:" in result.stdout
    assert "key 'volumes' is repeated (lines 21 and 22)" in result.stderr.decode()


# -- encodings and line ends ------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["targeted", "untargeted", "comment-only"])
def test_bytes_that_are_not_utf8_fail_naming_document_and_line(tmp_path, where):
    bad = {
        "targeted": SCHEDULER.replace("image: apache", "image: \xff\xfeapache", 1),
        "untargeted": SERVICE.replace("name: airflow-api-server", "name: airflow-\xe9-server"),
        "comment-only": "---\n# Source: x/disabled.yaml\n# caf\xe9\n",
    }[where]
    data = CONFIGMAP.encode() + bad.encode("latin-1") + SERVICE.encode()
    lines_before = CONFIGMAP.count("\n")
    offending = next(i for i, line in enumerate(bad.encode("latin-1").split(b"\n")) if not line.isascii())
    assert_clean_failure(run(tmp_path, data), 1, "not valid UTF-8", "document 2",
                         f"line {lines_before + offending + 1}")


def test_a_truncated_utf8_sequence_at_the_end_of_the_stream_fails(tmp_path):
    data = STREAM.encode() + "# caf\u00e9".encode()[:-1]
    assert_clean_failure(run(tmp_path, data), 1, "not valid UTF-8")


@pytest.mark.parametrize("fixture", ["helm3-official.yaml", "helm4-official.yaml"])
def test_bom_and_crlf_survive_and_injection_happens(tmp_path, fixture):
    lf = (STREAMS / fixture).read_bytes()
    assert b"\r" not in lf
    out_lf = assert_success(run(tmp_path, lf))
    assert out_lf != lf
    crlf = b"\xef\xbb\xbf" + lf.replace(b"\n", b"\r\n")
    out_crlf = assert_success(run(tmp_path, crlf))
    # the same edit, with every line (the added ones too) ending in CRLF, and the BOM kept
    assert out_crlf == b"\xef\xbb\xbf" + out_lf.replace(b"\n", b"\r\n")
    assert out_crlf.count(b"\n") == out_crlf.count(b"\r\n")
    template = next(iter(pod_templates(load_all(out_crlf[3:].decode())).values()))
    assert CLAIM in template["spec"]["volumes"]
    # untouched documents byte for byte
    before, after = chunks(crlf), chunks(out_crlf)
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed and len(changed) < len(before)


def test_crlf_stream_new_lines_use_crlf(tmp_path):
    data = STREAM.replace("\n", "\r\n").encode()
    out = assert_success(run(tmp_path, data))
    assert b"claimName: airflow-log-pvc\r\n" in out
    assert out.count(b"\n") == out.count(b"\r\n")
    docs = load_all(out)
    assert scheduler_volumes(docs)["logs"] == CLAIM
    assert chunks(out)[2] == chunks(data)[2]


def test_document_end_markers_survive(tmp_path):
    stream = STREAM.replace("\n---\n", "\n...\n---\n") + "...\n"
    assert stream.count("...\n") == 3
    data = stream.encode()
    out = assert_success(run(tmp_path, data))
    assert out.count(b"\n...\n") == 3 and out.endswith(b"...\n")
    assert scheduler_volumes(load_all(out))["logs"] == CLAIM
    before, after = chunks(data), chunks(out)
    assert len(before) == len(after)
    assert before[-1] == after[-1]  # the Service, with its end marker


def test_yaml_directives_belong_to_their_document(tmp_path):
    data = ("%YAML 1.1\n" + SCHEDULER + "...\n%YAML 1.1\n" + SERVICE).encode()
    out = assert_success(run(tmp_path, data))
    assert out.startswith(b"%YAML 1.1\n---\n")
    assert scheduler_volumes(load_all(out))["logs"] == CLAIM


def test_scalar_list_and_empty_documents_pass_through(tmp_path):
    odd = "--- 42\n---\n- a\n- b\n--- |\n  some text\n---\n--- null\n---\n[1, 2]\n"
    data = (STREAM + odd).encode()
    out = assert_success(run(tmp_path, data))
    assert out.endswith(odd.encode())
    assert scheduler_volumes(load_all(out))["logs"] == CLAIM


def test_empty_input_gives_empty_output(tmp_path):
    result = run(tmp_path, b"")
    assert result.returncode == 0 and result.stdout == b""
    assert "Traceback" not in result.stderr.decode()


# -- abuse: aliases, nesting, tags -----------------------------------------------------------------------
def billion_laughs(kind: str, levels: int = 9) -> str:
    lines = [f"---\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: lol\n",
             'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]\n")
    return "".join(lines)


@pytest.mark.parametrize("kind", ["Deployment", "ConfigMap", "Service"])
def test_alias_bomb_is_refused_with_bounded_memory(tmp_path, kind):
    code, err, out, peak = run_measured(tmp_path, (STREAM + billion_laughs(kind)).encode(),
                                        ["-c", write_spec(tmp_path, SPEC)])
    assert code == 1 and out == b"" and "Traceback" not in err, err
    assert "alias" in err and "document 4" in err
    assert peak < 400 * 1024 * 1024


@pytest.mark.parametrize("text", [
    "---\nkind: Deployment\nmetadata: &m {name: x, labels: {self: *m}}\n",
    "---\nkind: Service\nspec: &s [*s]\n",
])
def test_recursive_alias_is_refused(tmp_path, text):
    assert_clean_failure(run(tmp_path, text.encode()), 1, "alias", "document 1")


def test_undefined_alias_is_an_error(tmp_path):
    assert_clean_failure(run(tmp_path, b"---\nkind: Service\nspec: *nothing\n"), 1, "alias", "line 3")


def test_a_few_aliases_are_fine(tmp_path):
    extra = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: &l {app: a}\n  annotations: *l\n"
    data = (STREAM + extra).encode()
    out = assert_success(run(tmp_path, data))
    assert out.endswith(extra.encode())


DEPTH = 20_000
DEEP = {
    "flow": "x: " + "[" * DEPTH + "]" * DEPTH + "\n",
    "flow-mapping": "x: " + "{a: " * DEPTH + "b" + "}" * DEPTH + "\n",
    # indentation grows with the depth: 2,000 levels are already 2 MB of text
    "block-mapping": "x:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(2000)),
    "block-sequence": "x:\n" + "- " * DEPTH + "y\n",
}


@pytest.mark.parametrize("kind", ["Deployment", "Service"])
@pytest.mark.parametrize("shape", sorted(DEEP))
def test_deep_nesting_is_refused_without_crash_or_hang(tmp_path, shape, kind):
    text = f"---\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: deep\n{DEEP[shape]}"
    start = time.monotonic()
    result = run_apart(tmp_path, (STREAM + text).encode(), timeout=60)
    assert time.monotonic() - start < 30
    assert result.returncode > 0, result.returncode  # < 0: killed by a signal (SIGSEGV)
    assert_clean_failure(result, 1, "nested deeper", "document 4")


def test_million_deep_nesting_finishes_fast(tmp_path):
    # libyaml's scanner works in proportion to the depth for every token: quadratic time
    text = "---\nkind: Service\nx: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n"
    start = time.monotonic()
    assert_clean_failure(run_apart(tmp_path, text.encode(), timeout=60), 1, "nested deeper")
    assert time.monotonic() - start < 20


def test_deep_nesting_inside_an_embedded_pod_template_does_not_crash(tmp_path):
    deep = "    x: " + "[" * DEPTH + "]" * DEPTH + "\n"
    stream = CONFIGMAP.replace("    spec:\n", deep + "    spec:\n", 1)
    result = run_apart(tmp_path, stream.encode(), timeout=60)
    assert result.returncode >= 0
    assert "Traceback" not in result.stderr.decode()
    if result.returncode:
        assert_clean_failure(result, 1, "ConfigMap/airflow-config")


def test_nesting_within_the_limit_still_works(tmp_path):
    from postrender.yamlio import MAX_DEPTH

    depth = MAX_DEPTH - 10
    deep = "x: " + "[" * depth + "]" * depth + "\n"
    block = "y:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(depth // 2))
    stream = SCHEDULER.replace("spec:\n  template:", deep + block + "spec:\n  template:", 1)
    out = assert_success(run(tmp_path, (stream + SERVICE).encode()))
    assert deep.encode() in out and block.encode() in out
    assert scheduler_volumes(load_all(out))["logs"] == CLAIM


TAGS = [
    '!!python/object/apply:os.system ["touch {path}"]',
    '!!python/object/apply:subprocess.check_call [["touch", "{path}"]]',
    '!!python/object/new:subprocess.Popen [["touch", "{path}"]]',
    '!!python/name:os.system',
    "!<tag:yaml.org,2002:python/object/apply:os.system> [\"touch {path}\"]",
]


@pytest.mark.parametrize("place", ["pod-spec", "metadata", "untargeted", "pod-template", "spec-file"])
@pytest.mark.parametrize("tag", range(len(TAGS)))
def test_arbitrary_tags_are_never_constructed(tmp_path, tag, place):
    marker = tmp_path / "pwned"
    value = TAGS[tag].format(path=marker)
    stream, spec = STREAM, SPEC
    if place == "pod-spec":
        stream = SCHEDULER.replace("    spec:\n      containers:",
                                   f"    spec:\n      extra: {value}\n      containers:")
    elif place == "metadata":
        stream = SCHEDULER.replace("  labels:\n", f"  annotations: {value}\n  labels:\n")
    elif place == "untargeted":
        stream = STREAM + f"---\nkind: Service\nmetadata:\n  name: x\nspec: {value}\n"
    elif place == "pod-template":
        stream = CONFIGMAP.replace("    spec:\n", f"    extra: {value}\n    spec:\n", 1)
    else:
        spec = SPEC + f"metadata: {value}\n"
    result = run(tmp_path, stream.encode(), spec=spec)
    time.sleep(0.1)
    assert not marker.exists()
    err = result.stderr.decode()
    assert "Traceback" not in err
    if result.returncode:
        assert result.stdout == b""
    if place in ("pod-spec", "metadata"):
        assert_clean_failure(result, 1, "unsupported tag", "document 1", "line 7" if place == "metadata" else "line 12")


# -- wrong types in targeted objects ------------------------------------------------------------------------
@pytest.mark.parametrize("replacement, needle", [
    ("containers: {scheduler: {image: x}}", "`containers` must be a list"),
    ("containers: scheduler", "`containers` must be a list"),
    ("containers: 3", "`containers` must be a list"),
    ("containers: [scheduler]", "containers"),
])
def test_containers_not_a_list_of_mappings_is_an_error(tmp_path, replacement, needle):
    stream = SCHEDULER.split("      containers:\n")[0] + f"      {replacement}\n"
    assert_clean_failure(run(tmp_path, stream.encode()), 1, needle, "Deployment/airflow-scheduler", "document 1")


@pytest.mark.parametrize("replacement", ["volumes: {logs: {emptyDir: {}}}", "volumes: logs", "volumes: [logs]"])
def test_volumes_not_a_list_of_mappings_is_an_error(tmp_path, replacement):
    head = SCHEDULER.split("      volumes:\n")[0]
    stream = head + f"      {replacement}\n"
    assert_clean_failure(run(tmp_path, stream.encode()), 1, "volumes", "Deployment/airflow-scheduler")


def test_volume_mounts_not_a_list_is_an_error_naming_the_container(tmp_path):
    stream = SCHEDULER.split("          volumeMounts:\n")[0] + "          volumeMounts: {logs: /opt/airflow/logs}\n"
    assert_clean_failure(run(tmp_path, stream.encode()), 1, "volumeMounts", "container scheduler")


@pytest.mark.parametrize("null", ["null", "~", ""])
def test_null_volumes_and_mounts_mean_empty(tmp_path, null):
    stream = f"""\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: airflow-scheduler
  labels: {{component: scheduler}}
spec:
  template:
    spec:
      containers:
        - name: scheduler
          image: x
          volumeMounts: {null}
      volumes: {null}
"""
    out = assert_success(run(tmp_path, stream.encode()))
    docs = load_all(out)
    pod = docs[0]["spec"]["template"]["spec"]
    assert pod["volumes"] == [CLAIM]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "logs", "mountPath": "/opt/airflow/logs"}]
    again = assert_success(run(tmp_path, out))
    assert again == out


def test_null_volumes_in_a_pod_template_mean_empty(tmp_path):
    stream = CONFIGMAP.replace("      volumes:\n      - emptyDir: {}\n        name: logs\n", "      volumes: null\n")
    stream = stream.replace("          volumeMounts:\n            - mountPath: /opt/airflow/logs\n"
                            "              name: logs\n",
                            "          volumeMounts: ~\n")
    out = assert_success(run(tmp_path, stream.encode()))
    template = pod_templates(load_all(out))["airflow-config/pod_template_file.yaml"]
    assert template["spec"]["volumes"] == [CLAIM]


@pytest.mark.parametrize("spec_text", [
    "    spec:\n      volumes: []\n",
    "    spec:\n      containers: []\n",
    "    spec:\n      containers: null\n",
    "    spec: {}\n",
    "    spec: ~\n",
    "    spec:\n",
    "",
])
def test_pod_template_without_containers_gets_a_base_stub_carrying_the_mount(tmp_path, spec_text):
    """Contract point 5: Airflow supplies the task container `base` to such a template."""
    head = CONFIGMAP.split("    spec:\n")[0]
    out = assert_success(run(tmp_path, (head + spec_text).encode()))
    template = pod_templates(load_all(out))["airflow-config/pod_template_file.yaml"]
    assert template["spec"]["containers"] == [
        {"name": "base", "volumeMounts": [{"name": "logs", "mountPath": "/opt/airflow/logs"}]}]
    assert template["spec"]["volumes"] == [CLAIM]
    assert assert_success(run(tmp_path, out)) == out


def test_workload_without_containers_is_an_error(tmp_path):
    stream = SCHEDULER.split("      containers:\n")[0] + "      volumes: []\n"
    assert_clean_failure(run(tmp_path, stream.encode()), 1, "no containers", "Deployment/airflow-scheduler")


def test_pod_spec_not_a_mapping_is_an_error(tmp_path):
    stream = SCHEDULER.split("    spec:\n")[0] + "    spec: [containers]\n"
    assert_clean_failure(run(tmp_path, stream.encode()), 1, "Deployment/airflow-scheduler")


def test_configmap_data_that_is_not_a_mapping_passes_or_fails_cleanly(tmp_path):
    for data in ("data: [1, 2]\n", "data: text\n", "data:\n"):
        stream = f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n{data}" + SCHEDULER
        result = run(tmp_path, stream.encode())
        err = result.stderr.decode()
        assert "internal error" not in err and "Traceback" not in err, err
        assert result.returncode == 0, err


# -- size ---------------------------------------------------------------------------------------------------
BIG = 60 * 1024 * 1024


@pytest.mark.parametrize("kind", ["Secret", "ConfigMap"])
def test_refuses_a_60mb_document_before_holding_it_with_bounded_memory(tmp_path, kind):
    big = f"---\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: blob\ndata:\n  blob: {'QUJD' * (BIG // 4)}\n"
    data = (STREAM + big).encode()
    code, err, out, peak = run_measured(tmp_path, data, ["-c", write_spec(tmp_path, SPEC)])
    assert code == 1, err
    assert out == b""
    line = STREAM.count("\n") + 1
    assert f"document 4, line {line}, {kind}/blob: document larger than 8 MiB; refused" in err, err
    # refused once 8 MiB of it is read: never held whole, decoded or composed
    assert peak < 256 * 1024 ** 2, peak / 1024 ** 2


# -- line breaks other than LF / CRLF ----------------------------------------------------------------------
ODD_BREAKS = {
    "lone-cr-in-comment": ("# Source: airflow/templates/scheduler/scheduler-deployment.yaml\n",
                           "# Source: airflow/templates/scheduler/scheduler-deployment.yaml\r# more\n"),
    "lone-cr-in-quoted": ("image: apache/airflow:3.1.7\n", 'image: "apache/airflow:3.1.7"\n          args: ["a\rb"]\n'),
    "nel-in-quoted": ("image: apache/airflow:3.1.7\n", 'image: "apache/airflow:3.1.7"\n          args: ["a\x85b"]\n'),
    "ls-in-quoted": ("image: apache/airflow:3.1.7\n", 'image: "apache/airflow:3.1.7"\n          args: ["a\u2028b"]\n'),
    "ps-in-comment": ("image: apache/airflow:3.1.7\n", "image: apache/airflow:3.1.7 # a\u2029b\n"),
    "nel-ends-a-line": ("  name: airflow-scheduler\n", "  name: airflow-scheduler\x85"),
    "ls-in-plain": ("image: apache/airflow:3.1.7\n", "image: apache/airflow\u2028  :3.1.7\n"),
}


@pytest.mark.parametrize("case", sorted(ODD_BREAKS))
def test_unusual_line_breaks_in_a_targeted_document_never_corrupt_output(tmp_path, case):
    old, new = ODD_BREAKS[case]
    scheduler = SCHEDULER.replace(old, new, 1)
    assert scheduler != SCHEDULER
    data = (CONFIGMAP + scheduler + SERVICE).encode()
    result = run(tmp_path, data)
    err = result.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    if result.returncode:
        assert_clean_failure(result, 1, "document 2", "line")
        return
    out = result.stdout
    assert new.encode() in out  # the odd line kept as it was
    from ruamel.yaml import YAML

    before = list(YAML(typ="safe").load_all(data.decode()))
    after = list(YAML(typ="safe").load_all(out.decode()))
    assert len(before) == len(after)
    assert scheduler_volumes(after)["logs"] == CLAIM
    # the edit touched the volume only
    b_pod, a_pod = before[1]["spec"]["template"]["spec"], after[1]["spec"]["template"]["spec"]
    assert b_pod["containers"] == a_pod["containers"]
    assert before[1]["metadata"] == after[1]["metadata"]
    assert chunks(out)[2] == chunks(data)[2]


@pytest.mark.parametrize("char", ["\r", "\x85", "\u2028", "\u2029"], ids=["cr", "nel", "ls", "ps"])
def test_a_document_marker_after_an_unusual_line_break_starts_a_document_as_yaml_reads_it(tmp_path, char):
    # the ConfigMap's and the Deployment's last lines end with the odd break, the next `---` follows at once
    stream = CONFIGMAP.rstrip("\n") + char + SCHEDULER.rstrip("\n") + char + SERVICE
    out = assert_success(run(tmp_path, stream.encode()))
    assert out.endswith(SERVICE.encode()) and char.encode() in out
    docs = load_all(out)
    assert len(docs) == len(load_all(stream)) == 3
    assert scheduler_volumes(docs)["logs"] == CLAIM
    assert CLAIM in pod_templates(docs)["airflow-config/pod_template_file.yaml"]["spec"]["volumes"]


def test_a_stream_that_is_yaml_only_when_a_lone_cr_is_no_line_break_is_refused_naming_the_line(tmp_path):
    # the fuzz find (hypothesis seed 56): `---\r--- |` is two documents, and the block scalar ends
    # before `apiVersion:`; it was passed through with exit 0 when only LF started a line
    data = (b"---\r\n---\r--- |\n\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: s\r\n"
            b"---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: c}\r\n")
    result = run_cli(["--logs-claim", "x"], data)
    assert_clean_failure(result, 1, "document 3, line 4", "invalid YAML")


def helm4_configmap(template: str) -> str:
    """The ConfigMap as Helm 4 hands it over: the template as one double-quoted string."""
    return ("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: airflow-config\ndata:\n"
            f"  pod_template_file.yaml: {json.dumps(template)}\n")


TEMPLATE = textwrap.dedent(CONFIGMAP.split("|-\n", 1)[1])


@pytest.mark.parametrize("char", ["\r", "\x85", "\u2028", "\u2029"])
def test_unusual_line_breaks_inside_an_embedded_pod_template(tmp_path, char):
    # Helm 3: a `|-` block; a YAML reader ends the line there, and the block with it
    stream = CONFIGMAP.replace("          image: apache/airflow:3.1.7\n",
                               f'          image: apache/airflow:3.1.7\n          args: ["a{char}b"]\n')
    result = run(tmp_path, stream.encode())
    err = result.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    if result.returncode:
        assert_clean_failure(result, 1, "document 1", "line 1")
    else:
        template = pod_templates(load_all(result.stdout))["airflow-config/pod_template_file.yaml"]
        assert CLAIM in template["spec"]["volumes"]
    # Helm 4: an escaped character inside a quoted string; the template text itself has the break
    template = TEMPLATE.replace("      image: apache/airflow:3.1.7\n",
                                f'      image: apache/airflow:3.1.7\n      args: ["a{char}b"]\n')
    assert char in template
    stream = helm4_configmap(template)
    result = run(tmp_path, stream.encode())
    err = result.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    if result.returncode:
        assert_clean_failure(result, 1, "ConfigMap/airflow-config")
        return
    docs = load_all(result.stdout)
    template_out = pod_templates(docs)["airflow-config/pod_template_file.yaml"]
    assert CLAIM in template_out["spec"]["volumes"]
    original = load_all(template)[0]
    assert template_out["spec"]["containers"] == original["spec"]["containers"]
    assert result.stdout.count(b"\n") == stream.count("\n")  # still one quoted line


# -- the process boundary ---------------------------------------------------------------------------------
def big_stream() -> bytes:
    filler = "".join(f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n"
                     f"spec:\n  ports: [{{port: {i}}}]\n"
                     for i in range(20000))
    return (STREAM + filler).encode()


def test_broken_pipe_on_stdout_gives_no_traceback(tmp_path):
    spec = write_spec(tmp_path, SPEC)
    env = dict(os.environ, PYTHONUNBUFFERED="0")
    env.pop("HELM_PLUGIN_NAME", None)
    proc = subprocess.Popen([sys.executable, "-m", "postrender", "-c", spec], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    writer = threading.Thread(target=lambda: (proc.stdin.write(big_stream()), proc.stdin.close()))
    writer.start()
    head = proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    writer.join(timeout=60)
    assert head == b"---\n# Sour"
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert code in (0, 1, 141), code


def test_broken_pipe_through_a_shell_pipeline(tmp_path):
    (tmp_path / "in.yaml").write_bytes(big_stream())
    spec = write_spec(tmp_path, SPEC)
    script = (f'"{sys.executable}" -m postrender -c "{spec}" < "{tmp_path / "in.yaml"}" 2>"{tmp_path / "err"}"'
              f' | head -c 10; echo " ${{PIPESTATUS[0]}}"')
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=60, cwd=ROOT)
    err = (tmp_path / "err").read_text()
    assert done.stdout.startswith(b"---\n# Sour")
    assert "Traceback" not in err and "Exception ignored" not in err, err


def run_to(tmp_path: Path, stdout, preexec=None, options=("-c", "SPEC")) -> Tuple[int, str]:
    """(exit code, stderr) of the CLI over big_stream() with `stdout` (a file object, or None: closed)."""
    options = [write_spec(tmp_path, SPEC) if option == "SPEC" else option for option in options]
    (tmp_path / "in.yaml").write_bytes(big_stream())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTRENDER_", "HELM_"))}

    def prepare() -> None:
        if stdout is None:
            os.close(1)
        if preexec is not None:
            preexec()

    with open(tmp_path / "in.yaml", "rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "postrender", *options], stdin=stdin,
                              stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, env=env, timeout=120,
                              preexec_fn=prepare)
    return done.returncode, done.stderr.decode()


EVERY_OUTPUT = {"stream": ("-c", "SPEC"), "diff": ("--diff", "-c", "SPEC"), "inspect": ("--inspect",),
                "schema": ("--schema",)}


@pytest.mark.parametrize("mode", sorted(EVERY_OUTPUT))
def test_a_full_disk_is_named_as_such(tmp_path, mode):
    with open("/dev/full", "wb") as full:
        code, err = run_to(tmp_path, full, options=EVERY_OUTPUT[mode])
    assert code == 1, err
    assert err == "postrender: error: cannot write the output: no space left on device\n", err


@pytest.mark.parametrize("mode", sorted(EVERY_OUTPUT))
def test_a_closed_stdout_is_named_as_such(tmp_path, mode):
    code, err = run_to(tmp_path, None, options=EVERY_OUTPUT[mode])
    assert code == 1, err
    assert err == "postrender: error: cannot write the output: stdout is closed\n", err


@pytest.mark.parametrize("before", [b"", b"kept: what was there before\n"], ids=["new", "appended"])
def test_a_regular_file_that_cannot_take_the_whole_stream_is_left_as_it_was(tmp_path, before):
    import resource

    target = tmp_path / "out.yaml"
    target.write_bytes(before)
    limit = 1 << 18  # the file may not grow past 256 KiB: the write fails a quarter of the way in

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with open(target, "ab" if before else "wb") as out:
        code, err = run_to(tmp_path, out, limited)
    assert code == 1, err
    assert err == "postrender: error: cannot write the output: file too large\n", err
    assert target.read_bytes() == before  # what was written is taken back


def start_cli(args: List[str], cpus: int = 0) -> subprocess.Popen:
    """The CLI in a child process with pipes on stdin, stdout and stderr (in a session of its own,
    so that a Ctrl-C can go to its process group as a terminal sends it), on `cpus` CPUs (0: all)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTRENDER_", "HELM_"))}

    def pin() -> None:
        if cpus:
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cpus])

    return subprocess.Popen([sys.executable, "-m", "postrender", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
                            start_new_session=True, preexec_fn=pin)


def unread(fd: int) -> int:
    """Bytes in the pipe of which `fd` is an end that were not read yet."""
    import fcntl
    import termios

    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def wait_until_blocked(proc: subprocess.Popen, done) -> None:
    """Until `done()` holds and the process sleeps: blocked on a pipe the test holds (nothing else
    puts it to sleep). A wait for a state, not a delay: how long it takes does not matter."""
    while not (done() and Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S"):
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.01)


def interrupted(proc: subprocess.Popen) -> Tuple[bytes, str]:
    """Ctrl-C to the process group of `proc` (stdin kept open: the run cannot end by itself);
    its stdout and stderr once it has ended."""
    os.killpg(proc.pid, signal.SIGINT)
    out = proc.stdout.read()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    proc.stdin.close()
    return out, err


def assert_interrupted(proc: subprocess.Popen, err: str) -> None:
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip() == "postrender: error: interrupted", err  # (after a line break: the terminal shows ^C)


needs_two_cpus = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                    reason="the two-process path needs two usable CPUs")


@pytest.mark.parametrize("cpus", [1, pytest.param(0, marks=needs_two_cpus)], ids=["one-process", "two-process"])
def test_sigint_gives_no_traceback_and_no_output(tmp_path, cpus):
    # the stream is written but stdin stays open: wherever the Ctrl-C lands, the run has not ended
    proc = start_cli(["-c", write_spec(tmp_path, SPEC)], cpus=cpus)
    proc.stdin.write(big_stream()[: 1 << 20])
    proc.stdin.flush()
    wait_until_blocked(proc, lambda: unread(proc.stdin.fileno()) == 0)
    out, err = interrupted(proc)
    assert out == b""
    assert_interrupted(proc, err)


def test_sigint_in_krm_mode_gives_no_resource_list_and_no_traceback(tmp_path):
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "x" * 100}}
             for i in range(1000)]
    resource_list = json.dumps({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items})
    proc = start_cli(["--logs-claim", "airflow-log-pvc"])
    # the ResourceList is read; the CLI reads on, to see that nothing follows it
    proc.stdin.write(resource_list.encode() + b"\n---\n")
    proc.stdin.flush()
    wait_until_blocked(proc, lambda: unread(proc.stdin.fileno()) == 0)
    out, err = interrupted(proc)
    assert out == b""
    assert_interrupted(proc, err)


@needs_two_cpus
def test_sigint_while_the_stream_is_written_lets_the_reader_have_it_whole(tmp_path):
    data = big_stream()[: 1 << 20]
    spec = write_spec(tmp_path, SPEC)
    expected = run_cli(["-c", spec], data)
    assert expected.returncode == 0 and len(expected.stdout) > 1 << 19
    proc = start_cli(["-c", spec])
    proc.stdin.write(data)
    proc.stdin.close()
    # the stream fills the stdout pipe (this test reads nothing yet): the CLI is writing it
    wait_until_blocked(proc, lambda: unread(proc.stdout.fileno()) > 0)
    os.killpg(proc.pid, signal.SIGINT)
    out = proc.stdout.read()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert out == expected.stdout  # never part of a stream
    assert_interrupted(proc, err)


def test_a_configmap_value_of_blank_lines_does_not_hang(tmp_path):
    value = '"' + "\\n" * 100_000 + 'x"\n'  # 100,000 lines: minutes with the quadratic pattern
    stream = f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blank\ndata:\n  key: {value}" + SCHEDULER
    start = time.monotonic()
    result = run_apart(tmp_path, stream.encode(), timeout=10)
    assert time.monotonic() - start < 8
    assert "Traceback" not in result.stderr.decode()


@pytest.mark.parametrize("breakage, needle", [
    ("    spec: [\n", "invalid YAML"),
    ("    spec:\n      containers: []\n    spec: [\n", "invalid YAML"),
    ("    spec: !!python/object/apply:os.system [\"true\"]\n    x:\n", "unsupported tag"),
])
def test_a_targeted_pod_template_that_does_not_parse_is_an_error(tmp_path, breakage, needle):
    stream = CONFIGMAP.replace("    spec:\n", breakage, 1)
    assert_clean_failure(run(tmp_path, stream.encode()), 1, needle, "ConfigMap/airflow-config",
                         "pod_template_file.yaml")


def test_mixed_line_ends_new_lines_follow_the_most_common(tmp_path):
    crlf = STREAM.replace("\n", "\r\n").replace("  name: airflow-scheduler\r\n", "  name: airflow-scheduler\n")
    out = assert_success(run(tmp_path, crlf.encode()))
    assert b"claimName: airflow-log-pvc\r\n" in out
    assert out.count(b"\n") - out.count(b"\r\n") == 1  # only the line that had LF alone
