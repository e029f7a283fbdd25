"""Finding targets: sites, target matching, the cheap candidate pre-filter."""
from postrender.spec import Spec, Target, VolumeSpec
from postrender.targets import (
    is_candidate,
    is_pod_template_text,
    object_identity,
    target_matches,
    template_site,
    volumes_for,
    workload_site,
)

CONFIGMAP = {"kind": "ConfigMap", "metadata": {"name": "airflow-config", "namespace": "af"}}
SCHEDULER = {"kind": "Deployment", "metadata": {"name": "airflow-scheduler", "labels": {"tier": "airflow"}},
             "spec": {"template": {"metadata": {"labels": {"component": "scheduler"}}, "spec": {}}}}
WORKERS = {"kind": "StatefulSet", "metadata": {"name": "w", "labels": {"app.kubernetes.io/component": "worker"}},
           "spec": {"template": {"spec": {}}}}


def test_a_component_matches_either_label_on_the_object_or_its_pod_template():
    assert target_matches(Target(component="scheduler"), workload_site(SCHEDULER))
    assert target_matches(Target(component="worker"), workload_site(WORKERS))
    assert not target_matches(Target(component="worker"), workload_site(SCHEDULER))


def test_pod_template_matches_embedded_templates_only():
    site = template_site(CONFIGMAP, "pod_template_file.yaml", {"kind": "Pod"})
    assert target_matches(Target(pod_template=True), site)
    assert not target_matches(Target(pod_template=True), workload_site(SCHEDULER))
    assert not target_matches(Target(component="scheduler"), site)


def test_a_kind_name_labels_target_must_match_all_its_fields():
    site = workload_site(SCHEDULER)
    assert target_matches(Target(kind="Deployment", name="airflow-*", labels=(("tier", "airflow"),)), site)
    assert not target_matches(Target(kind="StatefulSet", name="airflow-*"), site)
    assert not target_matches(Target(name="airflow-*", labels=(("tier", "other"),)), site)
    # kind: ConfigMap selects the templates inside matching ConfigMaps
    template = template_site(CONFIGMAP, "k", {"kind": "Pod"})
    assert target_matches(Target(kind="ConfigMap", name="airflow-config"), template)


def test_object_identity_reads_kind_name_and_namespace_as_text():
    assert object_identity(CONFIGMAP) == ("ConfigMap", "airflow-config", "af")
    assert object_identity({"kind": 5, "metadata": {"name": 12}}) == (None, "12", None)
    assert object_identity([]) == (None, "", None)


def test_the_candidate_pre_filter_skips_what_cannot_be_a_target():
    assert is_candidate(b"apiVersion: v1\nkind: ConfigMap\n")
    assert is_candidate(b"kind: Deployment\n")
    assert not is_candidate(b"apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")
    assert is_candidate(b'{"kind": "StatefulSet"}')  # flow style: look closer


def test_pod_template_text_is_any_value_whose_kind_line_says_pod():
    assert is_pod_template_text("apiVersion: v1\nkind: Pod\n")
    assert is_pod_template_text('  "kind": "Pod"  # the worker\n')
    assert not is_pod_template_text("kind: PodTemplate\n")
    assert not is_pod_template_text(7)


def test_volumes_follow_spec_order_and_the_logs_rule_adds_the_logs_volume():
    data = VolumeSpec(name="data", claim="d", mount_path="/data", targets=(Target(component="scheduler"),))
    pod = {"containers": [{"name": "scheduler", "volumeMounts": [{"name": "logs", "mountPath": "/opt/airflow/logs"}]}],
           "volumes": [{"name": "logs", "emptyDir": {}}]}
    chosen = volumes_for(workload_site(SCHEDULER), pod, Spec(volumes=[data], logs_claim="logs-pvc"))
    assert [(v.name, v.claim) for v in chosen] == [("data", "d"), ("logs", "logs-pvc")]
    assert volumes_for(workload_site(WORKERS), {"containers": []}, Spec(volumes=[data])) == []
