"""A bounded fuzz run: random bytes, YAML-ish text and mutated manifests into the stream reader
and the pipeline, random spec-ish text into the spec loader.

Whatever goes in, the only exception allowed out is a PostrenderError (which the CLI turns
into a clean message and exit code 1 or 2): anything else would surface as an internal error.
When the pipeline succeeds, its output must be valid UTF-8 YAML again, and a second run over
it must succeed and change nothing (the contract's idempotence). A few thousand cases in well
under a minute; `make fuzz` runs many more with random seeds.
"""
import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from conftest import FUZZ_FACTOR, STREAMS, YAMLISH_TOKENS, transform, yamlish
from postrender.errors import PostrenderError
from postrender.read import Stream
from postrender.spec import Spec, parse_spec_text

SPEC_TEXT = json.dumps({"volumes": [
    {"name": "logs", "claimName": "airflow-log-pvc", "mountPath": "/opt/airflow/logs", "replace": True,
     "targets": ["pod-template", "scheduler", "worker", {"kind": "StatefulSet"}]},
    {"name": "data", "claimName": "data-pvc", "mountPath": "/data", "subPath": "x", "readOnly": True,
     "containers": ["*", "init-*"], "targets": ["pod-template", {"kind": "Deployment"}]},
]})
SPECS = [
    Spec(volumes=parse_spec_text(SPEC_TEXT, "spec.yaml")),
    Spec(logs_claim="airflow-log-pvc"),
]
SEEDS = [(STREAMS / name).read_text() for name in ("helm3-official.yaml", "helm4-official.yaml")] + ["""\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: s
  labels: {component: scheduler}
spec:
  template:
    spec:
      initContainers: [{name: init-db, image: x}]
      containers:
      - name: scheduler
        volumeMounts: [{name: logs, mountPath: /opt/airflow/logs, subPath: ''}]
      volumes:
      - {name: logs, emptyDir: {}}
      - {name: config, configMap: {name: airflow-config}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: airflow-config}
data:
  pod_template_file.yaml: "kind: Pod\\nspec:\\n  containers:\\n  - name: base\\n    volumeMounts: ~\\n  volumes:"
"""]



@st.composite
def mutated(draw) -> bytes:
    """A seed stream with a few random edits: deletions, insertions, duplicated or swapped lines, re-indentation."""
    text = draw(st.sampled_from(SEEDS))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "indent", "dedent", "cut"]))
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete":
            del lines[at]
        elif op == "insert":
            line = lines[at]
            column = draw(st.integers(0, len(line)))
            lines[at] = line[:column] + draw(st.sampled_from(YAMLISH_TOKENS)) + line[column:]
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "swap" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        elif op == "indent":
            lines[at] = "  " + lines[at]
        elif op == "dedent":
            lines[at] = lines[at][2:] if lines[at].startswith("  ") else lines[at]
        elif op == "cut":
            return "\n".join(lines)[: draw(st.integers(0, len(text)))].encode("utf-8", "surrogatepass")
        text = "\n".join(lines)
    return text.encode("utf-8", "surrogatepass")


def run(data: bytes, spec: Spec) -> None:
    try:
        result, _ = transform(data, spec)
    except PostrenderError:
        return
    # the output is well-formed YAML, document by document, and the tool takes it again
    for chunk in Stream(io.BytesIO(result)):
        if not chunk.blank:  # comments, blank lines and bare markers are copied through unparsed
            for _event in _PARSER.parse(chunk.raw.decode("utf-8")):
                pass
    assert transform(result, spec)[0] == result  # and finds nothing left to change there


_PARSER = YAML(typ="safe", pure=False)


FUZZ = settings(max_examples=1000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(SPECS))
def test_random_bytes(data, spec):
    run(data, spec)


@FUZZ
@given(yamlish, st.sampled_from(SPECS))
@example("---\n...\n\r...\n", SPECS[0])  # make fuzz: a lone CR and `...` are no content (libyaml refuses them alone)
def test_yamlish_text(text, spec):
    run(text.encode("utf-8", "surrogatepass"), spec)


# Found with --hypothesis-seed=56: `---\r--- |` is two documents for libyaml (a lone CR breaks the
# line), one for a splitter that broke lines on LF only; the stream is no YAML and passed through.
SEED_56 = (b"---\r\n---\r--- |\n\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: s\r\n"
           b"  labels: {component: scheduler}\r\nspec:\r\n  template:\r\n    spec:\r\n"
           b"      initContainers: [{name: init-db, image: x}]\r\n      containers:\r\n      - name: scheduler\r\n"
           b"        volumeMounts: [{name: logs, mountPath: /opt/airflow/logs, subPath: ''}]\r\n      volumes:\r\n"
           b"      - {name: logs, emptyDir: {}}\r\n      - {name: config, configMap: {name: airflow-config}}\r\n"
           b"---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: airflow-config}\r\ndata:\r\n"
           b'  pod_template_file.yaml: "kind: Pod\\nspec:\\n  containers:\\n  - name: base\\n    volumeMounts: ~\\n'
           b'  volumes:"\r\n')


@settings(FUZZ, max_examples=3000)
@given(mutated(), st.sampled_from(SPECS))
@example(SEED_56, SPECS[0])
@example(SEED_56, SPECS[1])
def test_mutated_manifests(data, spec):
    run(data, spec)


@FUZZ
@given(st.binary(max_size=300))
def test_stream_reader_never_fails_but_on_utf8(data):
    try:
        chunks = list(Stream(io.BytesIO(data)))
    except PostrenderError:
        return
    assert b"".join(c.raw for c in chunks) == data.removeprefix(b"\xef\xbb\xbf")


SPEC_TOKENS = [
    "volumes:\n", "spec:\n", "  volumes:\n", "apiVersion: postrender/v1\n", "kind: VolumeInjection\n", "metadata: {}\n",
    "- ", "  - ", "name: ", "claimName: ", "mountPath: ", "readOnly: ", "subPath: ", "replace: ", "targets: ",
    "containers: ", "create: ", "storage: ", "accessModes: ", "storageClassName: ", "volumeMode: ", "logs", "c",
    "/opt/airflow/logs", "../x", "/x", "true", "no", "50Gi", "[ReadWriteMany]", "[pod-template, worker]",
    "[{kind: ConfigMap, name: 'a*'}]", "[{labels: {a: b}}]", "[{kind: Nope}]", '["*"]', "[]", "{}", "null", "~",
    "\n", "    ", "  ", "[", "]", "{", "}", ", ", "&a ", "*a", "!!python/name:os.system ", "!x ", "'", '"', "#c\n",
    "\t", "\r", "\x00", "é", "1", "0x10", "Logs_Vol",
]


@FUZZ
@given(st.one_of(st.lists(st.sampled_from(SPEC_TOKENS), max_size=40).map("".join), st.text(max_size=200)))
def test_spec_loader(text):
    try:
        parse_spec_text(text, "spec.yaml")
    except PostrenderError:
        pass


def test_the_suite_runs_every_property_test_on_a_fixed_set_of_examples(request):
    # `make test` and CI pass or fail the same way each time (conftest's profile); `make fuzz` explores
    if FUZZ_FACTOR or request.config.getoption("--hypothesis-seed", None) is not None:
        pytest.skip("exploring: random or given seeds")
    found = {item.nodeid: item.obj._hypothesis_internal_use_settings for item in request.session.items
             if hasattr(getattr(item, "obj", None), "_hypothesis_internal_use_settings")}
    assert found
    for nodeid, own in found.items():
        assert own.derandomize and own.database is None, nodeid
