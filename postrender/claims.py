"""Claims the spec asks to create (`create:`): one PersistentVolumeClaim per claim name.

They are appended after every other object. Under Helm 3 each gets a
`# Source:` line (so `helm template --show-only` finds it); under Helm 4 the
filename annotation Helm uses to file the objects it gets back.
"""
from typing import Any, Collection, Dict, List, Sequence, Tuple

from .errors import Where
from .findings import Finding
from .spec import VolumeSpec
from .yamlio import dump_block

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


def claims_needed(volumes: Sequence[VolumeSpec], declared: Collection[str]) -> List[VolumeSpec]:
    """The volumes whose claim must be created: once per claim, none the stream already `declared`."""
    done = set(declared)
    needed = []
    for volume in volumes:
        if volume.create is not None and volume.claim not in done:
            done.add(volume.claim)
            needed.append(volume)
    return needed


def created(volume: VolumeSpec, document: int = 0, detail: Any = None) -> Finding:
    """The change a created claim is reported as."""
    return Finding.change("created", Where(document=document, obj=f"PersistentVolumeClaim/{volume.claim}"),
                          volume.name, detail)


def claim_documents(volumes: Sequence[VolumeSpec], helm4: bool, last_byte: bytes) -> Tuple[bytes, List[Finding]]:
    """The YAML text of the claims to append (b'' when none), and the changes to report."""
    docs: List[str] = []
    for volume in volumes:
        manifest = claim_manifest(volume.claim, volume.create, helm4)
        header = "---\n" if helm4 else f"---\n# Source: {SOURCE_PREFIX}/{volume.claim}.yaml\n"
        docs.append(header + "\n".join(dump_block(manifest, indent_sequences=False)) + "\n")
    if not docs:
        return b"", []
    lead = "" if last_byte in (b"\n", b"") else "\n"
    return (lead + "".join(docs)).encode("utf-8"), [created(volume) for volume in volumes]
