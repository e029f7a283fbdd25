"""The spec's field table: what each key of a spec file may hold.

One table of fields (`VOLUME_FIELDS`, `CREATE_FIELDS`, `HEADER_FIELDS`) drives
both the checks of spec/parse.py and the JSON Schema that `--schema` prints
(spec/schema.py), so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Any, Dict

from ..findings import WARNINGS

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
DEFAULT_TARGETS = ("pod-template", "worker")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")

TARGET_SCHEMA: Dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1,
         "description": "`pod-template`, `airflow` (the pod templates and every Airflow component workload), "
                        "or a component label value (`scheduler`, `worker`, `api-server`, ...)"},
        {"type": "object", "additionalProperties": False, "minProperties": 1,
         "properties": {
             "kind": {"type": "string", "enum": list(WORKLOAD_KINDS) + ["ConfigMap"]},
             "name": {"type": "string", "minLength": 1, "description": "glob over metadata.name"},
             "labels": {"type": "object", "additionalProperties": {"type": "string"}},
         }},
    ]
}

CREATE_FIELDS: Dict[str, Dict[str, Any]] = {
    "storage": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
                "description": "requested size, e.g. 50Gi"},
    "accessModes": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(ACCESS_MODES)},
                    "description": "default [ReadWriteMany]: task pods land on many nodes"},
    "storageClassName": {"type": "string", "description": "storage class; omitted: the cluster default"},
    "volumeMode": {"type": "string", "enum": ["Filesystem", "Block"]},
    "keep": {"type": "boolean", "default": True,
             "description": "annotate the claim `helm.sh/resource-policy: keep`, so that `helm uninstall` keeps it"},
}
CREATE_REQUIRED = ("storage",)

VOLUME_FIELDS: Dict[str, Dict[str, Any]] = {
    "name": {"type": "string", "pattern": DNS1123_LABEL, "maxLength": 63,
             "description": "volume name in the pod (DNS-1123 label)"},
    "claimName": {"type": "string", "pattern": DNS1123_SUBDOMAIN, "maxLength": 253,
                  "description": "PersistentVolumeClaim name (DNS-1123 subdomain)"},
    "mountPath": {"type": "string", "pattern": r"^/[^\x00-\x1f\x7f]*$",
                  "description": "absolute path in the containers"},
    "readOnly": {"type": "boolean", "default": False},
    "subPath": {"type": "string", "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\x00-\x1f\x7f]*$",
                "description": "relative path inside the claim, no `..`"},
    "replace": {"type": "boolean", "default": False,
                "description": "may replace a different same-named volume, a claim template, or a mount at mountPath"},
    "targets": {"type": "array", "items": TARGET_SCHEMA, "minItems": 1, "default": list(DEFAULT_TARGETS)},
    "containers": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                   "default": ["*"], "description": "globs over container names; init containers only when named"},
    "create": {"type": "object", "additionalProperties": False, "properties": CREATE_FIELDS,
               "required": list(CREATE_REQUIRED), "description": "also emit the PersistentVolumeClaim"},
}
VOLUME_REQUIRED = ("name", "claimName", "mountPath")
# The top-level keys other than the volumes; the loader checks their values with these same rules.
HEADER_FIELDS: Dict[str, Dict[str, Any]] = {
    "apiVersion": {"type": "string", "enum": ["postrender/v1"]},
    "kind": {"type": "string", "enum": ["VolumeInjection"]},
    "metadata": {"type": "object"},
}
# What a spec says beside its volumes (at the top level, or under `spec` beside them).
OPTION_FIELDS: Dict[str, Dict[str, Any]] = {
    "strict": {"type": "boolean", "default": False,
               "description": "any warning not allowed fails the run (as --strict); a later -c file that does "
                              "not say keeps the earlier value"},
    "allow": {"type": "array", "items": {"type": "string", "enum": list(WARNINGS)},
              "description": "warning ids accepted under strict (as --allow; every file's are added up)"},
}
TOP_FIELDS = tuple(HEADER_FIELDS) + ("volumes", "spec") + tuple(OPTION_FIELDS)
