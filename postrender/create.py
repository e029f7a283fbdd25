"""Claims the spec asks to create (`create:`): one PersistentVolumeClaim per claim name.

They are appended after every other object. Under Helm 3 each gets a
`# Source:` line (so `helm template --show-only` finds it); under Helm 4 the
filename annotation Helm uses to file the objects it gets back.
"""
from typing import TYPE_CHECKING, Any, Dict, List

from .report import Record
from .yamlio import dump_block

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Editor

SOURCE_PREFIX = "postrender/claims"


def claim_manifest(claim: str, create: Any, helm4: bool) -> Dict[str, Any]:
    metadata: Dict[str, Any] = {"name": claim, "labels": {"app.kubernetes.io/managed-by": "postrender"}}
    if helm4:
        metadata["annotations"] = {"postrenderer.helm.sh/postrender-filename": f"{SOURCE_PREFIX}/{claim}.yaml"}
    spec: Dict[str, Any] = {"accessModes": list(create.access_modes),
                            "resources": {"requests": {"storage": create.storage}}}
    if create.storage_class is not None:
        spec["storageClassName"] = create.storage_class
    if create.volume_mode is not None:
        spec["volumeMode"] = create.volume_mode
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


def claims_to_create(pipeline: "Editor", last_byte: bytes) -> bytes:
    """The YAML text of the claims to append ('' when none), skipping claims the stream already declares."""
    docs: List[str] = []
    done = set(pipeline.declared_modes)
    for volume in pipeline.spec.volumes:
        if volume.create is None or volume.claim in done:
            continue
        done.add(volume.claim)
        manifest = claim_manifest(volume.claim, volume.create, pipeline.result.helm4)
        header = "---\n" if pipeline.result.helm4 else f"---\n# Source: {SOURCE_PREFIX}/{volume.claim}.yaml\n"
        docs.append(header + "\n".join(dump_block(manifest, indent_sequences=False)) + "\n")
        pipeline.result.records.append(Record(0, f"PersistentVolumeClaim/{volume.claim}", "created", volume.name))
    if not docs:
        return b""
    lead = "" if last_byte in (b"\n", b"") else "\n"
    return (lead + "".join(docs)).encode("utf-8")

