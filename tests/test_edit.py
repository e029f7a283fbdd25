"""The editing filter without a stream: one object in, its new value and findings out."""
import pickle
import textwrap

from conftest import transform
from postrender.checks import end_of_stream
from postrender.claims import ClaimUsers
from postrender.edit import ROLL_ANNOTATION, Editor
from postrender.errors import Where
from postrender.findings import Finding
from postrender.ledger import Ledger
from postrender.spec import Spec, VolumeSpec

LOGS = VolumeSpec(name="logs", claim="airflow-log-pvc", mount_path="/opt/airflow/logs", replace=True,
                  targets=(), containers=("*",))
TEMPLATE = """\
apiVersion: v1
kind: Pod
spec:
  containers:
    - name: base
      volumeMounts:
        - {mountPath: /opt/airflow/logs, name: logs}
  volumes:
    - {name: logs, emptyDir: {}}
"""
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "airflow-config"},
             "data": {"pod_template_file.yaml": TEMPLATE}}


def scheduler(annotations=None):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "airflow-scheduler", "labels": {"component": "scheduler"}},
            "spec": {"template": {"metadata": {"annotations": annotations or {}}, "spec": {
                "containers": [{"name": "scheduler", "image": "apache/airflow"}],
                "volumes": [{"name": "config", "configMap": {"name": "airflow-config"}}]}}}}


def editor():
    return Editor(Spec(logs_claim="airflow-log-pvc"))


def test_a_configmap_comes_back_with_its_pod_template_on_the_claim_and_its_changes():
    edited = editor().edit(CONFIGMAP, Where(document=1))
    assert "claimName: airflow-log-pvc" in edited.value["data"]["pod_template_file.yaml"]
    assert edited.configmap == (None, "airflow-config")
    assert [f.action for f in edited.findings] == ["replaced"]
    assert edited.findings[0].where.obj == "ConfigMap/airflow-config"
    assert edited.findings[0].where.key == "pod_template_file.yaml"


def test_the_input_object_is_never_modified():
    before = repr(CONFIGMAP)
    editor().edit(CONFIGMAP, Where(document=1))
    assert repr(CONFIGMAP) == before


def test_a_workload_whose_configmap_is_known_rolls_at_once():
    filter_ = editor()
    filter_.edit(CONFIGMAP, Where(document=1))
    edited = filter_.edit(scheduler(), Where(document=2))
    assert not edited.pending
    assert len(edited.value["spec"]["template"]["metadata"]["annotations"][ROLL_ANNOTATION]) == 64
    assert [f.action for f in edited.findings] == ["annotated"]


def test_a_workload_before_its_configmap_is_pending_and_rolls_once_it_is_known():
    filter_ = editor()
    original = scheduler()
    edited = filter_.edit(original, Where(document=1))
    assert edited.pending == {(None, "airflow-config")} and edited.value is None
    filter_.edit(CONFIGMAP, Where(document=2))
    rolled = filter_.roll(original, edited)
    assert ROLL_ANNOTATION in rolled.value["spec"]["template"]["metadata"]["annotations"]
    assert [f.action for f in rolled.findings] == ["annotated"]
    assert not edited.pending


def test_a_pending_workload_whose_configmap_never_comes_stays_as_it_was():
    filter_ = editor()
    original = scheduler()
    edited = filter_.edit(original, Where(document=1))
    rolled = filter_.roll(original, edited)
    assert rolled.value is None and rolled.findings == []


def test_a_claim_in_the_stream_is_noted_with_its_access_modes():
    filter_ = editor()
    claim = {"kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    assert filter_.edit(claim, Where()).value is None
    assert filter_.ledger.declared_modes == {"c": ["ReadWriteOnce"]}


def test_the_end_of_stream_checks_warn_of_a_volume_that_matched_nothing_in_a_stream_with_objects():
    spec = Spec(volumes=[LOGS])
    filter_ = Editor(spec)
    assert end_of_stream(filter_.ledger, spec) == []  # an empty stream draws no warning
    filter_.edit(scheduler(), Where(document=1))
    found = end_of_stream(filter_.ledger, spec)
    assert [str(f).split(" (")[0] for f in found] == ["volume 'logs' matched no object"]


def test_ledgers_merge_field_by_field():
    first, second = Ledger(), Ledger()
    first.findings.append(Finding.warning("some-warning", "a"))
    second.findings.append(Finding.warning("some-warning", "b"))
    first.configmaps.add((None, "x"), 1, ("h1",))
    second.configmaps.add((None, "x"), 5, ("h2",))
    first.claim_users["c"] = ClaimUsers()
    first.claim_users["c"].add("Deployment/a")
    second.claim_users["c"] = ClaimUsers()
    for site in ("Deployment/b", "Deployment/a"):
        second.claim_users["c"].add(site)
    first.declared_modes["c"] = ["ReadWriteOnce"]
    second.declared_modes["c"] = ["ReadWriteMany"]
    second.matched.add("logs")
    first.templates, second.templates = 1, 2
    second.helm4 = True
    first.merge(pickle.loads(pickle.dumps(second)))  # as it comes from the forked child
    assert [f.message for f in first.findings] == ["a", "b"]
    assert first.configmaps.changed == {"x": [(1, ("h1",)), (5, ("h2",))]}
    assert first.claim_users["c"].describe() == "Deployment/a, Deployment/b"  # a site met twice counts once
    assert first.declared_modes == {"c": ["ReadWriteMany"]}  # a later declaration wins
    assert first.matched == {"logs"} and first.templates == 3 and first.helm4


def test_each_edit_hands_back_its_own_changes_and_the_ledger_keeps_what_the_stream_needs():
    filter_ = editor()
    for document in range(1, 1001):
        edited = filter_.edit({**CONFIGMAP, "metadata": {"name": f"c{document}"}}, Where(document=document))
        assert edited.value is not None and [f.action for f in edited.findings if not f.is_warning]
    assert filter_.ledger.findings == []  # the driver records them
    users = filter_.ledger.claim_users["airflow-log-pvc"]
    assert users.count == 1000 and len(users.names) == 20  # the warnings name 20 and count the rest
    assert "and 980 more" in users.describe()


def test_without_a_report_the_ledger_keeps_the_warnings_and_not_the_changes():
    template = textwrap.indent(TEMPLATE, "    ")
    stream = "".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{n}}}\ndata:\n  pod_template_file.yaml: |\n{template}"
                     for n in range(1, 4)).encode()
    nowhere = VolumeSpec(name="data", claim="data", mount_path="/data", targets=())  # matches nothing: a warning
    spec = Spec(volumes=[nowhere], logs_claim="airflow-log-pvc")
    ledgers = [transform(stream, spec, report_changes=report)[1] for report in (False, True)]
    quiet, reported = ledgers
    assert quiet.changes == [] and len(reported.changes) == 3
    assert quiet.warnings == reported.warnings and len(quiet.warnings) == 1
