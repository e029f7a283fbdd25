"""The injection as a pure function over pod specs: no YAML, no I/O."""
import pytest

from airflow_merge import task_pod_from
from postrender.errors import InputError, Where
from postrender.inject import annotate_pod_template, inject_pod_spec, inject_pod_template
from postrender.spec import VolumeSpec

HERE = Where(obj="Deployment/test")


def logs_spec(**overrides):
    values = dict(name="logs", claim="airflow-log-pvc", mount_path="/opt/airflow/logs", replace=True)
    values.update(overrides)
    return VolumeSpec(**values)


def worker_pod():
    return {
        "containers": [{"name": "base", "volumeMounts": [{"mountPath": "/opt/airflow/logs", "name": "logs"}]}],
        "volumes": [{"emptyDir": {}, "name": "logs"}, {"configMap": {"name": "cfg"}, "name": "config"}],
    }


def test_replaces_logs_emptydir_with_claim_in_place():
    pod, _, changes = inject_pod_spec(worker_pod(), [logs_spec()], HERE)
    assert pod["volumes"][0] == {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}
    assert pod["volumes"][1]["name"] == "config"
    assert [c.action for c in changes] == ["replaced"]


def test_does_not_modify_its_input():
    original = worker_pod()
    inject_pod_spec(original, [logs_spec()], HERE)
    assert original == worker_pod()


def test_refuses_to_replace_a_different_same_named_volume_without_replace():
    with pytest.raises(InputError) as error:
        inject_pod_spec(worker_pod(), [logs_spec(replace=False)], HERE)
    assert "replace: true" in str(error.value) and "Deployment/test" in str(error.value)


def test_adds_volume_and_mount_to_every_regular_container_by_default():
    pod = {"containers": [{"name": "a"}, {"name": "b", "volumeMounts": None}],
           "initContainers": [{"name": "init"}], "volumes": None}
    spec = VolumeSpec(name="data", claim="shared", mount_path="/data")
    new, _, _ = inject_pod_spec(pod, [spec], HERE)
    assert new["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "shared"}}]
    assert new["containers"][0]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert new["containers"][1]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert "volumeMounts" not in new["initContainers"][0]


def test_init_containers_only_when_named():
    pod = {"containers": [{"name": "a"}], "initContainers": [{"name": "init"}]}
    spec = VolumeSpec(name="data", claim="shared", mount_path="/data", containers=("a", "init"))
    new, _, _ = inject_pod_spec(pod, [spec], HERE)
    assert new["initContainers"][0]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]


def test_container_globs_choose_containers():
    pod = {"containers": [{"name": "scheduler"}, {"name": "scheduler-log-groomer"}, {"name": "git-sync"}]}
    spec = VolumeSpec(name="data", claim="c", mount_path="/d", containers=("scheduler*",))
    new, _, _ = inject_pod_spec(pod, [spec], HERE)
    assert [bool(c.get("volumeMounts")) for c in new["containers"]] == [True, True, False]


def test_read_only_volume_is_read_only_on_claim_and_mount():
    pod = {"containers": [{"name": "a"}]}
    new, _, _ = inject_pod_spec(pod, [VolumeSpec(name="dags", claim="d", mount_path="/dags", read_only=True)], HERE)
    assert new["volumes"][0]["persistentVolumeClaim"] == {"claimName": "d", "readOnly": True}
    assert new["containers"][0]["volumeMounts"][0] == {"name": "dags", "mountPath": "/dags", "readOnly": True}


def test_mount_of_another_volume_at_the_path_is_a_conflict_naming_the_container():
    pod = {"containers": [{"name": "a", "volumeMounts": [{"name": "scratch", "mountPath": "/data"}]}]}
    with pytest.raises(InputError) as error:
        inject_pod_spec(pod, [VolumeSpec(name="data", claim="c", mount_path="/data")], HERE)
    assert "container a" in str(error.value) and "scratch" in str(error.value)


def test_replace_repoints_only_the_mount_at_the_path_and_keeps_the_shared_emptydir():
    pod = {"containers": [{"name": "worker", "volumeMounts": [
        {"name": "empty-dir", "mountPath": "/tmp", "subPath": "tmp-dir"},
        {"name": "empty-dir", "mountPath": "/opt/bitnami/airflow/logs", "subPath": "app-logs-dir"}]}],
        "volumes": [{"name": "empty-dir", "emptyDir": {}}]}
    spec = VolumeSpec(name="logs", claim="c", mount_path="/opt/bitnami/airflow/logs", replace=True)
    new, _, changes = inject_pod_spec(pod, [spec], HERE)
    assert new["containers"][0]["volumeMounts"] == [
        {"name": "empty-dir", "mountPath": "/tmp", "subPath": "tmp-dir"},
        {"name": "logs", "mountPath": "/opt/bitnami/airflow/logs"}]
    assert new["volumes"] == [{"name": "empty-dir", "emptyDir": {}},
                              {"name": "logs", "persistentVolumeClaim": {"claimName": "c"}}]
    assert {c.action for c in changes} == {"added", "repointed-mount"}


def test_mount_of_the_same_volume_at_the_path_is_updated_in_place_keeping_other_keys():
    pod = {"containers": [{"name": "a", "volumeMounts": [
        {"name": "data", "mountPath": "/data", "mountPropagation": "None", "subPath": "old"}]}]}
    spec = VolumeSpec(name="data", claim="c", mount_path="/data", read_only=True)
    new, _, _ = inject_pod_spec(pod, [spec], HERE)
    assert new["containers"][0]["volumeMounts"] == [
        {"name": "data", "mountPath": "/data", "mountPropagation": "None", "readOnly": True}]


def test_statefulset_claim_template_is_removed_when_replacing():
    pod = {"containers": [{"name": "t", "volumeMounts": [{"name": "logs", "mountPath": "/opt/airflow/logs"}]}]}
    templates = [{"metadata": {"name": "logs"}, "spec": {}}]
    new, new_templates, changes = inject_pod_spec(pod, [logs_spec()], HERE, templates)
    assert new_templates is None  # no claim template left: the key goes, as the chart does
    assert new["volumes"] == [{"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}]
    assert "removed-claim-template" in [c.action for c in changes]
    assert "airflow-log-pvc" in next(c.detail for c in changes if c.action == "removed-claim-template")


def test_statefulset_claim_template_needs_replace():
    pod = {"containers": [{"name": "t"}]}
    with pytest.raises(InputError, match="replace: true"):
        inject_pod_spec(pod, [logs_spec(replace=False)], HERE, [{"metadata": {"name": "logs"}}])


def test_pod_without_containers_is_an_error():
    with pytest.raises(InputError, match="no containers"):
        inject_pod_spec({"containers": []}, [logs_spec()], HERE)


# -- an embedded worker pod template may leave its containers to Airflow (contract point 5) ------------
STUB = {"name": "base", "volumeMounts": [{"name": "logs", "mountPath": "/opt/airflow/logs"}]}
CLAIM = {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}


@pytest.mark.parametrize("pod", [None, {}, {"containers": []}, {"containers": None}],
                         ids=["no-spec", "empty-spec", "empty-containers", "null-containers"])
def test_template_without_containers_gets_a_base_stub_with_only_the_mounts(pod):
    new, changes = inject_pod_template(pod, [logs_spec()], HERE)
    assert new == {"containers": [STUB], "volumes": [CLAIM]}
    assert [(c.action, c.container) for c in changes] == [("added-container", "base"), ("added", None),
                                                          ("added-mount", "base")]
    # Airflow merges the stub into its task container `base`: the task mounts the claim
    pod_ = task_pod_from({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"}, "spec": new})
    assert STUB["volumeMounts"][0] in pod_["spec"]["containers"][0]["volumeMounts"]
    assert pod_["spec"]["volumes"] == [CLAIM]


def test_template_stub_keeps_the_templates_other_pod_fields():
    pod = {"restartPolicy": "Never", "initContainers": [{"name": "init"}],
           "volumes": [{"name": "cfg", "configMap": {}}]}
    new, _ = inject_pod_template(pod, [logs_spec()], HERE)
    assert new == {**pod, "containers": [STUB], "volumes": pod["volumes"] + [CLAIM]}
    assert pod == {"restartPolicy": "Never", "initContainers": [{"name": "init"}],
                   "volumes": [{"name": "cfg", "configMap": {}}]}  # not modified


def test_template_stub_is_a_container_like_any_other_on_the_second_run():
    once, _ = inject_pod_template(None, [logs_spec()], HERE)
    twice, changes = inject_pod_template(once, [logs_spec()], HERE)
    assert twice == once and changes == []


def test_template_containers_filter_excluding_base_leaves_the_stub_out_with_a_note():
    for pod in ({}, {"containers": []}):
        new, changes = inject_pod_template(pod, [logs_spec(containers=("worker",))], HERE)
        assert new == {**pod, "volumes": [CLAIM]}
        assert [(c.action, c.volume, c.container, c.edit) for c in changes] == [
            ("added", "logs", None, True), ("not-mounted", "logs", "base", False)]
    again, changes = inject_pod_template(new, [logs_spec(containers=("worker",))], HERE)
    assert again == new and [c.action for c in changes] == ["not-mounted"]


def test_template_with_containers_is_injected_as_any_pod_spec():
    new, changes = inject_pod_template(worker_pod(), [logs_spec()], HERE)
    assert new == inject_pod_spec(worker_pod(), [logs_spec()], HERE)[0]
    assert [c.action for c in changes] == ["replaced"]


def test_template_spec_that_is_not_a_mapping_is_still_an_error():
    with pytest.raises(InputError, match="must be a mapping"):
        inject_pod_template(["containers"], [logs_spec()], HERE)


def test_wrong_types_are_errors_and_null_lists_mean_empty():
    with pytest.raises(InputError, match="`volumes` must be a list"):
        inject_pod_spec({"containers": [{"name": "a"}], "volumes": {"x": 1}}, [logs_spec()], HERE)
    with pytest.raises(InputError, match="`containers` must be a list"):
        inject_pod_spec({"containers": "a"}, [logs_spec()], HERE)


def test_second_injection_changes_nothing():
    once, _, _ = inject_pod_spec(worker_pod(), [logs_spec()], HERE)
    twice, _, changes = inject_pod_spec(once, [logs_spec()], HERE)
    assert twice == once and changes == []


def test_annotation_is_added_to_pod_template_metadata():
    meta = annotate_pod_template({"labels": {"a": "b"}}, "checksum/postrender", "abc", HERE)
    assert meta == {"labels": {"a": "b"}, "annotations": {"checksum/postrender": "abc"}}


def test_no_containers_puts_only_the_volume_on_the_claim_and_keeps_every_mount():
    pod = worker_pod()
    pod["containers"][0]["volumeMounts"][0]["subPath"] = "test/logs"
    pod["initContainers"] = [{"name": "init", "volumeMounts": [{"name": "logs", "mountPath": "/opt/airflow/logs",
                                                                "subPath": "test/logs"}]}]
    templates = [{"metadata": {"name": "logs"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]
    new, new_templates, changes = inject_pod_spec(pod, [logs_spec(containers=())], HERE, templates)
    assert new["volumes"][0] == {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-log-pvc"}}
    assert new["containers"] is pod["containers"] and new["initContainers"] is pod["initContainers"]
    assert new_templates is None
    assert [c.action for c in changes] == ["replaced", "removed-claim-template"]
