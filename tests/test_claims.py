"""Claims that `create:` asks for: which, and their text."""
from conftest import load_all
from postrender.claims import claim_documents, claims_needed
from postrender.spec import Create, VolumeSpec

CREATE = Create(storage="50Gi", access_modes=("ReadWriteMany",))


def volume(name, claim, create=CREATE):
    return VolumeSpec(name=name, claim=claim, mount_path=f"/{name}", create=create)


def test_one_claim_per_name_only_if_used_and_none_the_stream_declares():
    volumes = [volume("a", "shared"), volume("b", "shared"), volume("c", "declared"), volume("d", "x", None),
               volume("e", "unused")]
    used = {"shared", "declared", "x"}
    assert [v.name for v in claims_needed(volumes, declared={"declared"}, used=used)] == ["a"]
    assert claims_needed(volumes, declared=set(), used=used, only_hooks=True) == []


def test_helm3_claims_get_a_source_line_and_helm4_claims_the_filename_annotation():
    text, found = claim_documents([volume("a", "logs-pvc")], helm4=False, last=b"x")
    assert text.startswith(b"\n---\n# Source: postrender/claims/logs-pvc.yaml\n")  # after a last line without end
    [claim] = load_all(text)
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "50Gi"}}}
    assert [(f.action, f.where.obj) for f in found] == [("created", "PersistentVolumeClaim/logs-pvc")]
    text, _ = claim_documents([volume("a", "logs-pvc")], helm4=True, last=b"\n")
    [claim] = load_all(text)
    assert claim["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"] == \
        "postrender/claims/logs-pvc.yaml"
    assert claim_documents([], helm4=True, last=b"\n") == (b"", [])


def test_created_claims_end_their_lines_as_the_streams_last_line_does():
    crlf, _ = claim_documents([volume("a", "logs-pvc")], helm4=True, last=b"x\r\n")
    assert crlf.count(b"\r\n") == crlf.count(b"\n") > 5
    unended, _ = claim_documents([volume("a", "logs-pvc")], helm4=True, last=b"x}")
    assert unended.startswith(b"\n---\n") and b"\r" not in unended
