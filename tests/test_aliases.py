"""YAML anchors and aliases: an edit never lands in another node's text (contract, Fidelity).

libyaml hands an alias back as the anchor's own node, whose marks point at the anchor's text;
appending after such a value once wrote a container's mount into the container that held the
anchor (and, without a `volumes:` key, turned the next container into a volume). Each case here
is parsed after the run and compared with what the spec asks, value by value; the property test
holds random anchors and aliases over pod specs to the same tool run on the alias-free text.
"""
import io
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.representer import SafeRepresenter

from conftest import FIXTURES, by_name, load_all, pod_templates, run_main
from postrender.errors import Where
from postrender.patch import AliasConflict, check_aliases
from postrender.yamlio import compose

ALIASES = FIXTURES / "aliases"
MOUNT = {"name": "logs", "mountPath": "/opt/airflow/logs"}
CLAIM_VOLUME = {"name": "logs", "persistentVolumeClaim": {"claimName": "logs-pvc"}}


def spec_args(tmp_path: Path, containers: str, targets: str = "[scheduler]", extra: str = "") -> List[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text("volumes:\n  - name: logs\n    claimName: logs-pvc\n    mountPath: /opt/airflow/logs\n"
                    f"    targets: {targets}\n    containers: {containers}\n{extra}")
    return ["-c", str(spec)]


def containers_of(doc: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {c["name"]: c for c in doc["spec"]["template"]["spec"]["containers"]}


def test_mounts_into_the_named_container_when_an_earlier_container_holds_the_anchor(tmp_path):
    text = (ALIASES / "anchor-in-earlier-container.yaml").read_bytes()
    code, out, err = run_main(spec_args(tmp_path, "[base]") + ["--report", "-"], text)
    err = err.decode()
    assert code == 0, err
    deployment = by_name(load_all(out), "Deployment", "web")
    containers = containers_of(deployment)
    assert containers["base"]["volumeMounts"] == [MOUNT]
    assert "volumeMounts" not in containers["sidecar"]
    assert containers["base"]["resources"] == containers["sidecar"]["resources"] == {"limits": {"cpu": "100m"}}
    assert deployment["spec"]["template"]["spec"]["volumes"] == [CLAIM_VOLUME]
    # the alias stays an alias; what base gains comes after its token
    lines = out.decode().splitlines()
    assert lines[lines.index("          resources: *r") + 1] == "          volumeMounts:"
    changes = json.loads(err)["changes"]
    assert {c.get("container") for c in changes if c["action"] == "added-mount"} == {"base"}


def test_adds_the_pod_volumes_after_the_alias_not_into_the_containers(tmp_path):
    text = (ALIASES / "anchor-in-earlier-container.yaml").read_bytes()
    code, out, _ = run_main(spec_args(tmp_path, '["*"]'), text)
    assert code == 0
    deployment = by_name(load_all(out), "Deployment", "web")
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == ["sidecar", "base"]
    assert deployment["spec"]["template"]["spec"]["volumes"] == [CLAIM_VOLUME]


def test_an_alias_of_an_edited_anchor_still_reads_its_old_value(tmp_path):
    text = (ALIASES / "anchored-mounts-shared.yaml").read_bytes()
    code, out, err = run_main(spec_args(tmp_path, "[sidecar]"), text)
    err = err.decode()
    assert code == 0, err
    containers = containers_of(by_name(load_all(out), "Deployment", "scheduler"))
    config = {"name": "config", "mountPath": "/etc/config"}
    assert containers["sidecar"]["volumeMounts"] == [config, MOUNT]
    assert containers["base"]["volumeMounts"] == [config]  # untargeted: reads as before


def test_an_alias_that_both_containers_share_gets_the_mount_in_each(tmp_path):
    text = (ALIASES / "anchored-mounts-shared.yaml").read_bytes()
    code, out, _ = run_main(spec_args(tmp_path, '["*"]'), text)
    assert code == 0
    containers = containers_of(by_name(load_all(out), "Deployment", "scheduler"))
    assert containers["sidecar"]["volumeMounts"] == containers["base"]["volumeMounts"] == [
        {"name": "config", "mountPath": "/etc/config"}, MOUNT]
    again = run_main(spec_args(tmp_path, '["*"]'), out)
    assert again[:2] == (0, out)  # idempotent


def _template_base(out: bytes) -> Dict[str, Dict[str, Any]]:
    template = pod_templates(load_all(out))["airflow-config/pod_template_file.yaml"]
    return {c["name"]: c for c in template["spec"]["containers"]}


@pytest.mark.parametrize("fixture, style", [("pod-template-helm3.yaml", b"pod_template_file.yaml: |-"),
                                            ("pod-template-helm4.yaml", b'pod_template_file.yaml: "')])
def test_embedded_pod_template_with_aliases_keeps_its_style(tmp_path, fixture, style):
    code, out, err = run_main(spec_args(tmp_path, "[base]", "[pod-template]"), (ALIASES / fixture).read_bytes())
    assert code == 0, err.decode()
    containers = _template_base(out)
    assert containers["base"]["volumeMounts"] == [MOUNT]
    assert "volumeMounts" not in containers["git-sync"]
    assert containers["base"]["env"] == containers["git-sync"]["env"] == [{"name": "TZ", "value": "UTC"}]
    assert style in out  # Helm 3's `|-` block, Helm 4's quoted string


def test_resourcelist_alias_across_items_keeps_the_untargeted_item(tmp_path):
    text = (ALIASES / "resourcelist-alias-across-items.yaml").read_bytes()
    code, out, err = run_main([], text)
    err = err.decode()
    assert code == 0, err
    assert "internal error" not in err
    (resource_list,) = load_all(out)
    items = {item["metadata"]["name"]: item for item in resource_list["items"]}
    assert containers_of(items["a"])["base"]["volumeMounts"] == [MOUNT]
    assert containers_of(items["b"])["base"] == {"name": "base", "image": "app"}  # not targeted


def test_a_text_that_would_read_otherwise_is_refused_naming_anchor_and_alias():
    text = "a: &x [1]\nb: *x\n"
    root = compose(text, Where())
    try:
        check_aliases("a: &x [1, 2]\nb: *x\n", root, {"a": [1, 2], "b": [1]}, set())
    except AliasConflict as conflict:
        assert (conflict.anchor_line, conflict.alias_line) == (0, 1)
    else:
        raise AssertionError("a text that reads otherwise was accepted")


# -- the property: anchors and aliases change nothing but where the text stands -----------------------
class _Expanding(SafeRepresenter):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(doc: Dict[str, Any], expand: bool) -> bytes:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    if expand:
        yaml.Representer = _Expanding
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue().encode()


NAMES = ["sidecar", "base", "git-sync"]
PATHS = ["/opt/airflow/logs", "/etc/config", "/data"]


@st.composite
def aliased_deployments(draw: Any) -> Dict[str, Any]:
    """A Deployment whose containers share (so ruamel writes anchors and aliases) mounts, resources,
    env lists and single mounts, at random."""
    count = draw(st.integers(1, 3))
    shared_pool: Dict[str, List[Any]] = {"volumeMounts": [], "resources": [], "env": [], "mount": []}

    def maybe_shared(kind: str, fresh: Any) -> Any:
        pool = shared_pool[kind]
        if pool and draw(st.booleans()):
            return draw(st.sampled_from(pool))
        pool.append(fresh)
        return fresh

    containers = []
    for index in range(count):
        container: Dict[str, Any] = {"name": NAMES[index], "image": "img"}
        if draw(st.booleans()):
            container["resources"] = maybe_shared("resources", {"limits": {"cpu": draw(st.sampled_from(["1", "2"]))}})
        if draw(st.booleans()):
            container["env"] = maybe_shared("env", [{"name": "A", "value": draw(st.sampled_from(["x", "y"]))}])
        if draw(st.booleans()):
            mounts = [maybe_shared("mount", {"name": draw(st.sampled_from(["config", "logs"])),
                                             "mountPath": draw(st.sampled_from(PATHS))})
                      for _ in range(draw(st.integers(0, 2)))]
            container["volumeMounts"] = maybe_shared("volumeMounts", mounts)
        containers.append(container)
    pod: Dict[str, Any] = {"containers": containers}
    if draw(st.booleans()):
        pod["volumes"] = [{"name": "config", "configMap": {"name": "cfg"}}]
        if draw(st.booleans()):
            pod["volumes"].append({"name": "logs", "emptyDir": {}})
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "scheduler", "labels": {"component": "scheduler"}},
            "spec": {"template": {"metadata": {"labels": {"component": "scheduler"}}, "spec": pod}}}


def _stream(doc: Dict[str, Any], embedded: bool, expand: bool) -> bytes:
    """The Deployment itself, or its pod spec as a worker pod template embedded in a ConfigMap."""
    if not embedded:
        return _dump(doc, expand)
    template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "worker"},
                "spec": doc["spec"]["template"]["spec"]}
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "airflow-config"},
                 "data": {"pod_template_file.yaml": _dump(template, expand).decode()}}
    return _dump(configmap, expand=True)


def _read(out: bytes, embedded: bool) -> Any:
    return pod_templates(load_all(out)) if embedded else load_all(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=aliased_deployments(), containers=st.sampled_from(['["*"]', "[base]", "[sidecar]", "[git-sync, base]"]),
       replace=st.booleans(), embedded=st.booleans())
def test_anchors_and_aliases_read_as_the_same_spec_on_their_expansion(tmp_path, doc, containers, replace, embedded):
    aliased, expanded = _stream(doc, embedded, expand=False), _stream(doc, embedded, expand=True)
    targets = "[pod-template]" if embedded else "[scheduler]"
    args = spec_args(tmp_path, containers, targets, extra="    replace: true\n" if replace else "")
    code, out, err = run_main(args, aliased)
    err = err.decode()
    want_code, want, want_err = run_main(args, expanded)
    if code == 1 and "alias" in err:  # a refusal is allowed, naming the anchor's and the alias's lines
        assert "anchor at line" in err and "alias at line" in err, err
        return
    assert code == want_code, (err, want_err)
    if code == 0:
        assert _read(out, embedded) == _read(want, embedded)
        assert run_main(args, out)[1] == out  # idempotent
