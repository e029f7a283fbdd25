"""Streams at the edges (issue 13): empty input, streams of Helm hooks only, and what `create:` emits.

- Empty input (whitespace, comments, `---` only) gives empty output and exit 0, even with
  `create:` (the contract): no claim is appended and nothing is warned about; `--diff` shows nothing.
- A claim is created only for a volume injected into (or found in) an object of this stream, once
  per claim, after the objects, and never into a stream whose every object is a Helm hook (Helm
  4.2's `separate` post-render strategy sends the hooks on their own).
- Created claims carry `helm.sh/resource-policy: keep` unless `create: {keep: false}`.
- KRM mode follows the same rules.
"""
import json
from pathlib import Path

import pytest

from conftest import FIXTURES, by_name, load_all, run_main, transform, validate_k8s, write_spec
from postrender.claims import claim_manifest, claims_needed
from postrender.spec import Create, Spec, VolumeSpec, json_schema, parse_spec_text

EDGES = FIXTURES / "edges"
MINI3 = FIXTURES / "operator" / "mini-helm3.yaml"
MINI4 = FIXTURES / "operator" / "mini-helm4.yaml"
HOOKS4 = EDGES / "hooks-only-helm4.yaml"
KEEP = "helm.sh/resource-policy"
FILENAME = "postrenderer.helm.sh/postrender-filename"

CREATE = """\
volumes:
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
    create: {storage: 1Gi}
"""

EMPTY_INPUTS = {
    "nothing": b"",
    "blank lines": b"\n\n  \n",
    "a comment": b"# nothing rendered\n",
    "a separator": b"---\n",
    "separators": b"---\n---\n...\n---\n",
    "comment-only documents, CRLF":
        b"---\r\n# Source: demo/templates/a.yaml\r\n---\r\n# Source: demo/templates/b.yaml\r\n",
    "comment-only documents (fixture)": (EDGES / "comments-only-helm3.yaml").read_bytes(),
}


def ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result


def claims(out: bytes):
    return [d for d in load_all(out) if isinstance(d, dict) and d.get("kind") == "PersistentVolumeClaim"]


def run(stream: bytes, spec: Spec):
    return transform(stream, spec)


def spec_of(text: str) -> Spec:
    return Spec(volumes=parse_spec_text(text, "spec.yaml"))


# -- 1. empty input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", list(EMPTY_INPUTS.values()), ids=list(EMPTY_INPUTS))
def test_empty_input_gives_no_object_and_no_claim_even_with_create(tmp_path, stream):
    result = ok(run_main(["-c", write_spec(tmp_path, CREATE), "--report", str(tmp_path / "r.json")], stream))
    assert result.stdout == b""  # nothing in, nothing out
    assert result.stderr == b""
    assert json.loads((tmp_path / "r.json").read_text()) == {"version": 1, "changes": [], "warnings": [],
                                                             "error": None}


@pytest.mark.parametrize("stream", list(EMPTY_INPUTS.values()), ids=list(EMPTY_INPUTS))
def test_empty_input_diff_is_empty(tmp_path, stream):
    result = ok(run_main(["--diff", "-c", write_spec(tmp_path, CREATE)], stream))
    assert result.stdout == b"" and result.stderr == b""


def test_empty_input_with_the_shorthands_is_quiet():
    for args in (["--logs-claim", "airflow-logs"], ["--volume", "data=airflow-data:/data"]):
        result = ok(run_main(args, b"---\n# Source: x\n"))
        assert result.stdout == b"" and result.stderr == b""


def test_empty_stream_unit():
    out, ledger = run(b"---\n# c\n", spec_of(CREATE))
    assert out == b""
    assert ledger.findings == [] and not ledger.has_release_objects


# -- 2. hooks -------------------------------------------------------------------------------------
def test_a_stream_of_hooks_only_gets_no_claim_and_no_warning(tmp_path):
    stream = HOOKS4.read_bytes()
    result = ok(run_main(["-c", write_spec(tmp_path, CREATE)], stream))
    assert result.stdout == stream
    assert result.stderr == b""


def test_a_hook_that_is_injected_into_still_gets_no_claim(tmp_path):
    """Even a volume that went into a hook Job: the claim belongs to the run over the other objects."""
    spec = CREATE + "    targets: [{kind: Job}]\n"
    result = ok(run_main(["-c", write_spec(tmp_path, spec)], HOOKS4.read_bytes()))
    docs = load_all(result.stdout)
    job = by_name(docs, "Job", "demo-migrate")
    claim = {"name": "data", "persistentVolumeClaim": {"claimName": "airflow-data"}}
    assert claim in job["spec"]["template"]["spec"]["volumes"]
    assert claims(result.stdout) == []


def test_hooks_next_to_other_objects_get_the_claim_once_at_the_end(tmp_path):
    """Helm 4's default strategy sends hooks and the rest together: one claim, after the objects."""
    stream = MINI4.read_bytes().rstrip(b"\n") + b"\n---\n" + HOOKS4.read_bytes()
    result = ok(run_main(["-c", write_spec(tmp_path, CREATE)], stream))
    docs = load_all(result.stdout)
    assert [d["kind"] for d in docs][-1] == "PersistentVolumeClaim"
    (claim,) = claims(result.stdout)
    assert claim["metadata"]["annotations"] == {FILENAME: "postrender/claims/airflow-data.yaml", KEEP: "keep"}
    validate_k8s(claim)


def test_a_helm3_hook_annotation_in_a_plain_document_is_read_properly(tmp_path):
    """A non-workload hook (a ServiceAccount) beside a workload: the stream is not hooks only."""
    hook = HOOKS4.read_text().split("---\n")[0]
    stream = ("---\n# Source: demo/templates/sa.yaml\n" + hook).encode() + MINI3.read_bytes()
    result = ok(run_main(["-c", write_spec(tmp_path, CREATE)], stream))
    assert len(claims(result.stdout)) == 1


def test_hook_detection_reads_the_annotation_not_the_words():
    """`helm.sh/hook` in a comment or a value is no hook."""
    stream = (b"---\n# helm.sh/hook: pre-install\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
              b"  annotations:\n    note: see helm.sh/hook\n")
    _, ledger = run(stream, spec_of(CREATE))
    assert ledger.has_release_objects
    _, ledger = run(HOOKS4.read_bytes(), spec_of(CREATE))
    assert not ledger.has_release_objects


# -- 2. only claims that were injected, once per claim --------------------------------------------
TWO = """\
volumes:
  - name: data
    claimName: airflow-data
    mountPath: /opt/airflow/data
    targets: [pod-template]
    create: {storage: 1Gi}
  - name: extra
    claimName: airflow-extra
    mountPath: /opt/airflow/extra
    targets: [no-such-component]
    create: {storage: 2Gi}
  - name: data-again
    claimName: airflow-data
    mountPath: /opt/airflow/data-again
    targets: [scheduler]
    create: {storage: 1Gi}
"""


def test_only_claims_of_injected_volumes_are_created_once_each(tmp_path):
    result = ok(run_main(["-c", write_spec(tmp_path, TWO)], MINI3.read_bytes()))
    assert [c["metadata"]["name"] for c in claims(result.stdout)] == ["airflow-data"]
    assert result.stdout.count(b"# Source: postrender/claims/") == 1
    assert b"volume 'extra' matched no object" in result.stderr


def test_second_run_is_byte_identical_and_does_not_create_again(tmp_path):
    spec = write_spec(tmp_path, TWO)
    first = ok(run_main(["-c", spec], MINI3.read_bytes()))
    second = ok(run_main(["-c", spec], first.stdout))
    assert second.stdout == first.stdout
    for doc in load_all(first.stdout):
        validate_k8s(doc)


def test_an_object_that_already_has_the_volume_counts_as_injected(tmp_path):
    """The output without its claim (say the claim went to another release): the volumes are all in
    place already, nothing changes in the objects, and the claim comes back."""
    spec = write_spec(tmp_path, CREATE + "    targets: [pod-template]\n")
    first = ok(run_main(["-c", spec], MINI3.read_bytes()))
    objects, _, created = first.stdout.partition(b"---\n# Source: postrender/claims/")
    assert created
    again = ok(run_main(["-c", spec, "--report", "-"], objects))
    assert again.stdout == first.stdout
    assert b'"action": "created"' in again.stderr and b'"action": "added"' not in again.stderr


def test_claims_needed_unit():
    create = Create(storage="1Gi")
    a = VolumeSpec(name="a", claim="c1", mount_path="/a", create=create)
    b = VolumeSpec(name="b", claim="c1", mount_path="/b", create=create)
    c = VolumeSpec(name="c", claim="c2", mount_path="/c", create=create)
    assert claims_needed([a, b, c], declared=[], used={"c1", "c2"}) == [a, c]
    assert claims_needed([a, b, c], declared=["c1"], used={"c1", "c2"}) == [c]
    assert claims_needed([a, b, c], declared=[], used={"c2"}) == [c]
    assert claims_needed([a, b, c], declared=[], used={"c1", "c2"}, only_hooks=True) == []


# -- 3. keep ----------------------------------------------------------------------------------------
def test_created_claims_are_kept_by_helm_uninstall_unless_keep_false(tmp_path):
    kept = ok(run_main(["-c", write_spec(tmp_path, CREATE + "    targets: [pod-template]\n")], MINI3.read_bytes()))
    (claim,) = claims(kept.stdout)
    assert claim["metadata"]["annotations"] == {KEEP: "keep"}
    validate_k8s(claim)
    spec = CREATE.replace("{storage: 1Gi}", "{storage: 1Gi, keep: false}") + "    targets: [pod-template]\n"
    for stream in (MINI3, MINI4):
        dropped = ok(run_main(["-c", write_spec(tmp_path, spec)], stream.read_bytes()))
        (claim,) = claims(dropped.stdout)
        assert KEEP not in (claim["metadata"].get("annotations") or {})
        validate_k8s(claim)


def test_keep_is_in_the_schema_and_checked_by_the_loader(tmp_path):
    rule = json_schema()["properties"]["volumes"]["items"]["properties"]["create"]["properties"]["keep"]
    assert rule["type"] == "boolean" and rule["default"] is True
    assert parse_spec_text(CREATE, "s")[0].create.keep is True
    bad = CREATE.replace("{storage: 1Gi}", "{storage: 1Gi, keep: 'no'}")
    result = run_main(["-c", write_spec(tmp_path, bad)], MINI3.read_bytes())
    assert result.returncode == 2 and result.stdout == b""
    assert b"create.keep must be true or false" in result.stderr
    typo = CREATE.replace("{storage: 1Gi}", "{storage: 1Gi, kep: true}")
    result = run_main(["-c", write_spec(tmp_path, typo)], MINI3.read_bytes())
    assert result.returncode == 2 and b"did you mean 'keep'?" in result.stderr


def test_claim_manifest_unit():
    assert claim_manifest("c", Create(storage="1Gi"), helm4=False)["metadata"]["annotations"] == {KEEP: "keep"}
    assert "annotations" not in claim_manifest("c", Create(storage="1Gi", keep=False), helm4=False)["metadata"]


# -- 9. KRM mode: the same rules --------------------------------------------------------------------
def resource_list(items_yaml: str, config: str = CREATE) -> bytes:
    config_block = "".join("  " + line + "\n" for line in config.splitlines())
    return (f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:{items_yaml}\n"
            f"functionConfig:\n{config_block}").encode()


def items_of(stream: Path) -> str:
    docs = [d for d in stream.read_text().split("\n---\n") if d.strip()]
    out = ""
    for doc in docs:
        body = "\n".join(line for line in doc.splitlines() if line and not line.startswith("#") and line != "---")
        out += "\n- " + "\n  ".join(body.splitlines())
    return out


def krm(stdin: bytes):
    result = ok(run_main([], stdin))
    (out,) = load_all(result.stdout)
    return out


def test_krm_empty_items_get_no_claim():
    for items in (" []", ""):
        out = krm(resource_list(items))
        assert out["items"] in ([], None) and out.get("results") in ([], None)


def test_krm_hooks_only_get_no_claim():
    config = CREATE + "    targets: [{kind: Job}]\n"
    out = krm(resource_list(items_of(HOOKS4), config))
    assert [i["kind"] for i in out["items"]] == ["ServiceAccount", "Job"]
    assert not any("created" in r["message"] for r in out.get("results") or [])


def test_krm_claim_is_kept_and_per_target_warnings_carry_over():
    config = CREATE + "    targets: [pod-template, schedular]\n"
    out = krm(resource_list(items_of(MINI3), config))
    claim = out["items"][-1]
    assert claim["kind"] == "PersistentVolumeClaim" and claim["metadata"]["annotations"] == {KEEP: "keep"}
    warnings = [r["message"] for r in out["results"] if r["severity"] == "warning"]
    assert "volume 'data': target 'schedular' matched nothing (did you mean 'scheduler'?)" in warnings
    keep_false = krm(resource_list(items_of(MINI3), config.replace("{storage: 1Gi}", "{storage: 1Gi, keep: false}")))
    assert "annotations" not in keep_false["items"][-1]["metadata"]


# -- small untargeted objects (checked together in runs) still count -------------------------------------
SERVICES = b"".join(b"---\napiVersion: v1\nkind: Service\nmetadata: {name: s%d}\n" % n for n in range(5))


def test_a_stream_of_small_untargeted_objects_is_not_empty():
    out, ledger = run(SERVICES, spec_of(CREATE))
    assert out == SERVICES and ledger.content and ledger.has_release_objects


def test_small_untargeted_objects_make_a_stream_more_than_hooks(tmp_path):
    """A hook that takes the volume, beside ordinary (small, untargeted) objects: the claim is made."""
    hooks, spec = HOOKS4.read_bytes(), spec_of(CREATE + "    targets: [{kind: Job}]\n")
    out, _ = run(hooks, spec)
    assert claims(out) == [] and b"claimName: airflow-data" in out  # hooks only: injected, no claim
    out, _ = run(hooks + SERVICES, spec)
    assert [c["metadata"]["name"] for c in claims(out)] == ["airflow-data"]
