"""The pipeline's shortcuts for many small documents (issue 14) change nothing but the cost.

The reader hands out Batches (documents that cannot be targets, checked in one pass) and the
pipeline reads small candidates with one shared parser. Whatever the stream, the result must be
what reading every document alone gives: the same bytes out, the same findings, the same error
(message and place). `batch=False` reads every document alone: the reference.
"""
import io
from typing import Any, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import transform
from postrender import batching, pipeline
from postrender.errors import PostrenderError
from postrender.read import Stream
from postrender.spec import Spec, parse_spec_text

SPEC = Spec(volumes=parse_spec_text("""\
volumes:
  - name: logs
    claimName: airflow-logs
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler, {kind: StatefulSet}]
    create: {storage: 1Gi}
""", "spec.yaml"))

POD_TEMPLATE = ("kind: Pod\\nmetadata: {name: w}\\nspec:\\n  containers:\\n  - name: base\\n"
                "    volumeMounts: [{name: logs, mountPath: /opt/airflow/logs}]\\n"
                "  volumes: [{name: logs, emptyDir: {}}]\\n")
# small documents of every sort the shortcuts treat differently
DOCUMENTS = [
    "---\na: 1\n",
    "---\n{}\n",
    "---\n# Source: chart/templates/scheduler-deployment.yaml\n# a Deployment, in a comment only\n",
    "# a comment before any document\n",
    "--- # a comment on the marker\n",
    "---\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: '1'}\n",
    "---\nkind: ConfigMap\nmetadata: {name: plain, namespace: other}\ndata:\n  a: |\n    text\n",
    '---\n{"kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"k": "v"}}\n',
    "---\nkind: ConfigMap\nmetadata: {name: airflow-pod-template}\ndata:\n  pod_template_file.yaml: \""
    + POD_TEMPLATE + "\"\n",
    "---\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteMany]}\n",
    "---\nkind: Deployment\nmetadata: {name: s, labels: {component: scheduler}}\nspec:\n  template:\n"
    "    spec:\n      containers:\n      - name: scheduler\n"
    "        volumeMounts: [{name: logs, mountPath: /opt/airflow/logs}]\n"
    "      volumes: [{name: logs, emptyDir: {}}]\n",
    "---\nkind: Job\nmetadata:\n  name: h\n  annotations: {helm.sh/hook: post-install}\n",
    "---\nkind: Deployment\n  bad: indent\n",  # invalid YAML in a candidate
    "  name: x\nkind: Deployment\n",  # valid up to the dedent, then an error just after the document
    "---\na: [1\n",  # invalid YAML in a document that cannot be a target
    "---\nkind: ConfigMap\nmetadata: {name: dup}\nmetadata: {name: dup}\n",  # a duplicate key
    "---\nkind: ConfigMap\nmetadata: {name: n}\ndata: {n: 2001-13-45, m: 0o17}\n",
    "---\na: 1\n...\n",
    "---\nkind: Secret\nmetadata: {name: s}\n...\n# after the end\n",
    "---\nkind: Service\nmetadata: {name: &a x, labels: *a}\n",  # an alias
    # an edit to a repeated key: the warning names its stream lines
    "---\nkind: Deployment\nmetadata: {name: d, labels: {component: scheduler}}\nspec:\n  template:\n"
    "    spec:\n      containers:\n      - name: scheduler\n      volumes: [{name: logs, emptyDir: {}}]\n"
    "      volumes: [{name: logs, emptyDir: {}}]\n",
    # Helm 3's pod template: a block scalar, patched line by line
    "---\nkind: ConfigMap\nmetadata: {name: airflow-pod-template-b}\ndata:\n  pod_template_file.yaml: |\n"
    + "".join("    " + line + "\n" for line in POD_TEMPLATE.replace("\\n", "\n").splitlines()),
    "---\nkind: ConfigMap\nmetadata: {name: cr}\rdata: {a: '1'}\n",  # a bare CR: libyaml's line break, not the reader's
]


def outcome(data: bytes, batch: bool = True) -> Tuple[Any, ...]:
    try:
        output, ledger = transform(data, SPEC, batch=batch)
    except PostrenderError as error:
        return ("error", type(error).__name__, str(error))
    return ("ok", output, [str(finding) for finding in ledger.findings])


def alone(data: bytes) -> Tuple[Any, ...]:
    return outcome(data, batch=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(DOCUMENTS), max_size=24), st.sampled_from(["\n", "\r\n"]))
def test_many_small_documents_read_together_give_what_each_alone_gives(documents, newline):
    data = "".join(documents).replace("\n", newline).encode()
    assert outcome(data) == alone(data)


def test_an_error_just_after_a_small_document_is_that_documents_error():
    data = b"---\nkind: ConfigMap\nmetadata: {name: a}\n---\n  name: x\nkind: Deployment\n---\na: 1\n"
    result = outcome(data)
    assert result[0] == "error" and "document 2, line 6" in result[2]
    assert result == alone(data)


def test_comment_only_documents_between_small_candidates_make_no_content():
    data = "".join(DOCUMENTS[2:5] * 3).encode()
    assert outcome(data) == ("ok", b"", [])


def test_a_long_stream_of_tiny_documents_comes_out_byte_for_byte_in_batches():
    data = b"---\na: 1\n" * 50_000 + b"---\n# a Deployment named in a comment\n" + b"---\n{}\n" * 50_000
    kinds = {type(piece).__name__ for piece in pipeline.pieces(Stream(io.BytesIO(data)))}
    assert kinds == {"Batch", "Chunk"}
    result = outcome(data)
    assert result[:2] == ("ok", data)
    assert result == alone(data)


# -- batching, unit by unit ------------------------------------------------------------------------------
def test_small_chunks_of_one_kind_in_a_row_are_gathered_and_a_large_one_stays_alone():
    big = "---\nkind: ConfigMap\nmetadata: {name: big}\ndata: {a: '" + "x" * batching.SMALL_BYTES + "'}\n"
    data = ("---\na: 1\n" * 3 + DOCUMENTS[5] * 2 + big + "---\na: 2\n").encode()
    items = list(batching.grouped(Stream(io.BytesIO(data))))
    shapes = [(item.how, len(item.chunks)) if isinstance(item, batching.Group) else type(item).__name__
              for item in items]
    assert shapes == [(batching.COPIED, 3), (batching.COMPOSED, 2), "Chunk", (batching.COPIED, 1)]


def test_a_group_read_before_a_reading_error_comes_out_first():
    def pieces():
        yield from Stream(io.BytesIO(b"---\na: 1\n---\nb: 2\n"))
        raise PostrenderError("further down")

    items = batching.grouped(pieces())
    assert isinstance(next(items), batching.Group)
    with pytest.raises(PostrenderError, match="further down"):
        next(items)


def test_the_reference_reads_every_document_alone():
    data = b"---\na: 1\n" * 1000 + b"---\nkind: Deployment\n"
    items = list(batching.alone(pipeline.pieces(Stream(io.BytesIO(data)))))
    assert all(type(item).__name__ == "Chunk" for item in items) and len(items) == 1001
