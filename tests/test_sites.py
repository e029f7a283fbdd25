"""The one enumerator of sites: every pod spec of an object, with its place."""
import io
import json

import pytest

from conftest import CAPTURES, needs_captures
from postrender.errors import Where
from postrender.inventory import inventory
from postrender.read import Stream
from postrender.sites import pod_sites
from postrender.targets import is_candidate
from postrender.yamlio import parse

TEMPLATE = "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {component: worker}\nspec:\n  containers: [{name: base}]\n"


def sites_of(text: str, first_line: int = 0):
    root, data, _ = parse(text, Where(document=1), first_line)
    return list(pod_sites(data, Where(document=1, obj="X/x"), root, first_line))


def test_a_workload_has_one_site_at_its_kinds_pod_spec_path():
    [place] = sites_of("kind: CronJob\nmetadata: {name: c, labels: {component: cleanup}}\nspec:\n  jobTemplate:\n"
                       "    spec: {template: {spec: {containers: [{name: a}]}}}\n")
    assert place.site.label == "CronJob/c" and place.site.labels == {"component": "cleanup"}
    assert place.path == ("spec", "jobTemplate", "spec", "template", "spec")
    assert place.pod == {"containers": [{"name": "a"}]} and place.template is None


def test_a_statefulset_site_carries_its_claim_templates_and_other_kinds_have_none():
    [place] = sites_of("kind: StatefulSet\nmetadata: {name: s}\nspec:\n"
                       "  volumeClaimTemplates: [{metadata: {name: logs}}]\n  template: {spec: {containers: []}}\n")
    assert place.claim_templates == [{"metadata": {"name": "logs"}}]
    assert sites_of("kind: Service\nmetadata: {name: s}\n") == []
    assert sites_of("kind: PersistentVolumeClaim\nmetadata: {name: c}\n") == []


def test_each_embedded_pod_template_is_a_site_read_with_its_stream_lines():
    block = "\n".join("    " + line for line in TEMPLATE.splitlines())
    text = ("kind: ConfigMap\nmetadata: {name: airflow-config}\ndata:\n  note: plain text\n"
            f"  pod_template_file.yaml: |\n{block}\n  quoted.yaml: {json.dumps(TEMPLATE)}\n"
            "  other.yaml: 'kind: Service'\n")
    places = sites_of(text, first_line=10)
    assert [p.site.label for p in places] == ["ConfigMap/airflow-config key pod_template_file.yaml",
                                              "ConfigMap/airflow-config key quoted.yaml"]
    block_site, quoted_site = places
    assert block_site.template.block and block_site.template.first_line == 10 + 5  # the line after `|`
    assert not quoted_site.template.block and quoted_site.template.first_line == 10 + 11  # its key's line (0-based)
    assert block_site.site.pod_labels == {"component": "worker"}
    assert block_site.pod == {"containers": [{"name": "base"}]}
    assert block_site.template.where == Where(document=1, obj="X/x", key="pod_template_file.yaml")


def test_an_unreadable_template_is_a_site_with_its_error_and_no_pod_labels():
    [place] = sites_of("kind: ConfigMap\nmetadata: {name: c}\ndata:\n  t.yaml: \"kind: Pod\\nspec: [\"\n")
    assert place.template.error is not None and place.pod is None and place.site.pod_labels == {}
    assert place.site.key == "t.yaml"


@needs_captures
@pytest.mark.parametrize("capture", ["helm3-official-1.19.0-e.yaml", "helm4-community-8.9.0-f.yaml",
                                     "helm3-bitnami-25.1.0-c.yaml"])
def test_inspect_lists_the_sites_the_editor_is_given(capture):
    data = (CAPTURES / capture).read_bytes()
    found = inventory(io.BytesIO(data))
    listed = [f"ConfigMap/{v.name} key {v.key}" for v in found.templates] + [v.label for v in found.workloads]
    sites = []
    for chunk in Stream(io.BytesIO(data)):
        if not chunk.blank and is_candidate(chunk.raw):
            root, value, _ = parse(chunk.raw, chunk.where, chunk.first_line)
            sites += [p.site.label for p in pod_sites(value, chunk.where, root, chunk.first_line)]
    templates = [s for s in sites if s.startswith("ConfigMap/")]
    assert listed == templates + [s for s in sites if not s.startswith("ConfigMap/")] and templates
