"""Every pod spec of an object, with its place: the one enumerator of sites.

A workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)
holds one pod spec, at `targets.POD_SPEC_PATHS[kind]`; a ConfigMap holds one in
each data value that is a worker pod template (the YAML text of a `kind: Pod`,
which Airflow's KubernetesExecutor reads). The editor (`edit.Editor`) and
`--inspect` (`inventory`) both find them here, so both see the same sites.

An embedded template is read here too, its lines counted as the stream's where the
ConfigMap's nodes say where its value stands (a `|` block's lines are stream lines;
a quoted template's are its own); one that is not readable YAML comes with its
error, for the caller to decide on.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Optional, Tuple

from ruamel.yaml.nodes import Node

from .errors import InputError, Where
from .records import Record
from .targets import POD_SPEC_PATHS, Site, dig, is_pod_template_text, object_identity, template_site, workload_site
from .yamlio import entries, entry, parse

CLAIM_TEMPLATES = ("spec", "volumeClaimTemplates")  # a StatefulSet's


class Template:
    """A worker pod template as a ConfigMap value holds it, read."""

    def __init__(self, key: Any, text: str, where: Where, first_line: int, block: bool) -> None:
        self.key = key  # the ConfigMap data key as read (the site's `key` is its text)
        self.text = text
        self.where = where  # the ConfigMap's place with the key (no line: a template's lines are its own)
        self.first_line = first_line  # the stream line the text's lines count from
        self.block = block  # a `|` block, whose lines are stream lines; a quoted template is on its key's line
        # its nodes, value (a mapping of `kind: Pod`) and node -> value memo, once read
        self.root: Optional[Node] = None
        self.value: Any = None
        self.memo: Optional[Dict[int, Any]] = None
        self.error: Optional[InputError] = None  # not readable YAML: nothing else is set


class PodSite(Record):
    """One pod spec of an object: where it stands and what it is."""

    __slots__ = ("site", "pod", "path", "claim_templates", "template")

    def __init__(self, site: Site, pod: Any, path: Tuple[str, ...], claim_templates: Any = None,
                 template: Optional[Template] = None) -> None:
        self.site = site
        self.pod = pod  # the pod spec as found (None when absent: a template may leave it to Airflow)
        self.path = path  # where the object (the workload, or the template) keeps it
        self.claim_templates = claim_templates  # a StatefulSet's volumeClaimTemplates as found
        self.template = template  # set for an embedded pod template


def workload(data: Dict[str, Any]) -> Optional[PodSite]:
    """The pod spec of a workload (None for an object of another kind)."""
    site = workload_site(data)
    if site is None:
        return None
    path = POD_SPEC_PATHS[site.kind]
    templates = dig(data, CLAIM_TEMPLATES) if site.kind == "StatefulSet" else None
    return PodSite(site, dig(data, path), path, templates)


def embedded_templates(configmap: Dict[str, Any], where: Where, root: Optional[Node] = None,
                       first_line: int = 0) -> Iterator[PodSite]:
    """The worker pod templates of a ConfigMap, each read as it is reached (`where`: the ConfigMap's
    place; `root`, `first_line`: its nodes and the stream line they count from, for the templates'
    lines). A value that is not readable YAML comes with its `error` and a site without pod labels;
    a readable one that is not a `kind: Pod` mapping is no site."""
    values = configmap.get("data")
    nodes = entries(entry(root, "data")[1])
    for key, value in (values.items() if isinstance(values, dict) else []):
        if not is_pod_template_text(value):
            continue
        node = nodes.get(key)
        block = getattr(node, "style", None) == "|"
        # lines inside a `|` block start on the line after its header; a quoted one is on one line
        line = first_line + (node.start_mark.line + (1 if block else 0) if node is not None else 0)
        template = Template(key, value, where.but(key=str(key), line=None, column=None), line, block)
        try:
            template.root, template.value, template.memo = parse(value, template.where, line)
        except InputError as exc:
            template.error = exc
            yield PodSite(template_site(configmap, str(key), {}), None, ("spec",), template=template)
            continue
        if isinstance(template.value, dict) and template.value.get("kind") == "Pod":
            yield PodSite(template_site(configmap, str(key), template.value), template.value.get("spec"), ("spec",),
                          template=template)


def pod_sites(data: Any, where: Where, root: Optional[Node] = None, first_line: int = 0) -> Iterator[PodSite]:
    """Every pod spec of an object: a workload's, or the templates a ConfigMap embeds (see
    `embedded_templates` for the arguments)."""
    kind = object_identity(data)[0]
    if kind == "ConfigMap":
        yield from embedded_templates(data, where, root, first_line)
    elif kind in POD_SPEC_PATHS:
        found = workload(data)
        if found is not None:
            yield found
