"""Claims the spec asks to create (`create:`): one PersistentVolumeClaim per claim name.

They are appended after every other object. Under Helm 3 each gets a
`# Source:` line (so `helm template --show-only` finds it); under Helm 4 the
filename annotation Helm uses to file the objects it gets back.
"""
from typing import TYPE_CHECKING, Any, Dict, List

from .report import Record
from .spec import VolumeSpec
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


def claims_needed(editor: "Editor") -> List[VolumeSpec]:
    """The volumes whose claim must be created: once per claim, none the stream already declares."""
    done = set(editor.declared_modes)
    needed = []
    for volume in editor.spec.volumes:
        if volume.create is not None and volume.claim not in done:
            done.add(volume.claim)
            needed.append(volume)
    return needed


def claims_to_create(editor: "Editor", last_byte: bytes) -> bytes:
    """The YAML text of the claims to append ('' when none)."""
    docs: List[str] = []
    for volume in claims_needed(editor):
        manifest = claim_manifest(volume.claim, volume.create, editor.result.helm4)
        header = "---\n" if editor.result.helm4 else f"---\n# Source: {SOURCE_PREFIX}/{volume.claim}.yaml\n"
        docs.append(header + "\n".join(dump_block(manifest, indent_sequences=False)) + "\n")
        editor.result.records.append(Record(0, f"PersistentVolumeClaim/{volume.claim}", "created", volume.name))
    if not docs:
        return b""
    lead = "" if last_byte in (b"\n", b"") else "\n"
    return (lead + "".join(docs)).encode("utf-8")

