"""The end-of-stream checks, one by one: what the ledger of a run and the spec say at the end."""
from postrender.checks import (
    CHECKS,
    end_of_stream,
    logs_claim_unused,
    missed_targets,
    shared_single_pod_claims,
    unwritable_claims,
)
from postrender.claims import ClaimUsers, ClaimWriters, Writer
from postrender.ledger import Ledger
from postrender.spec import Create, Spec, Target, VolumeSpec

LOGS = VolumeSpec(name="logs", claim="airflow-logs", mount_path="/opt/airflow/logs",
                  targets=(Target.word("scheduler"), Target.word("workers")))


def ledger(**facts) -> Ledger:
    found = Ledger()
    for name, value in {"has_release_objects": True, **facts}.items():
        setattr(found, name, value)
    return found


def messages(findings):
    return [f.message for f in findings]


def test_nothing_is_said_of_a_stream_without_release_objects():
    quiet = Ledger()  # empty, or Helm hooks only
    spec = Spec(volumes=[LOGS], logs_claim="airflow-logs")
    assert missed_targets(quiet, spec) == [] and logs_claim_unused(quiet, spec) == []


def test_a_volume_that_matched_nothing_is_named_with_a_hint_where_the_stream_holds_airflow():
    assert messages(missed_targets(ledger(), Spec(volumes=[LOGS]))) == [
        "volume 'logs' matched no object (targets: scheduler, workers); the stream holds no Airflow worker pod "
        "template or component workload"]
    hinted = missed_targets(ledger(airflow=True, components={"triggerer", "worker"}), Spec(volumes=[LOGS]))
    assert messages(hinted) == ["volume 'logs' matched no object (targets: scheduler, workers); did you mean "
                                "'worker' for 'workers'?"]


def test_a_target_that_matched_nothing_beside_one_that_did_is_named():
    facts = ledger(airflow=True, components={"scheduler", "worker"}, matched={"logs"}, matched_targets={("logs", 0)})
    assert messages(missed_targets(facts, Spec(volumes=[LOGS]))) == [
        "volume 'logs': target 'workers' matched nothing (did you mean 'worker'?)"]


def test_a_logs_claim_that_found_no_logs_volume_says_so():
    spec = Spec(logs_claim="airflow-logs")
    [said] = messages(logs_claim_unused(ledger(), spec))
    assert said.startswith("--logs-claim airflow-logs: found no Airflow logs volume")
    assert said.endswith("nothing was changed")
    assert logs_claim_unused(ledger(logs_found=True), spec) == []
    assert logs_claim_unused(ledger(), Spec(volumes=[LOGS])) == []


def test_writers_of_different_users_without_a_shared_group_are_named():
    writers = ClaimWriters.of([Writer("Deployment/a", "a", 1, 1, None), Writer("Deployment/b", "b", 2, 2, None)])
    [said] = messages(unwritable_claims(ledger(writers={"airflow-logs": writers}), Spec()))
    assert said.startswith("claim 'airflow-logs' is written by pods that run as different users")
    shared = ClaimWriters.of([Writer("Deployment/a", "a", 1, 0, 0), Writer("Deployment/b", "b", 2, 0, 0)])
    assert unwritable_claims(ledger(writers={"airflow-logs": shared}), Spec()) == []


def test_a_single_node_claim_mounted_by_several_pods_is_named_with_the_modes_create_gives():
    users = ClaimUsers()
    users.add("Deployment/a")
    users.add("Deployment/b")
    created = VolumeSpec(name="logs", claim="airflow-logs", mount_path="/logs",
                         create=Create(storage="1Gi", access_modes=("ReadWriteOnce",)))
    [said] = messages(shared_single_pod_claims(ledger(claim_users={"airflow-logs": users}), Spec(volumes=[created])))
    assert said.startswith("claim 'airflow-logs' is ReadWriteOnce but is mounted by Deployment/a, Deployment/b")
    declared = ledger(claim_users={"airflow-logs": users}, declared_modes={"airflow-logs": ["ReadWriteMany"]})
    assert shared_single_pod_claims(declared, Spec(volumes=[created])) == []  # the stream's claim wins


def test_end_of_stream_says_what_every_check_says_in_their_order():
    facts = ledger()
    spec = Spec(volumes=[LOGS], logs_claim="airflow-logs")
    assert end_of_stream(facts, spec) == [f for check in CHECKS for f in check(facts, spec)]
    assert messages(end_of_stream(facts, spec))[0].startswith("volume 'logs' matched no object")
    assert messages(end_of_stream(facts, spec))[1].startswith("--logs-claim airflow-logs")
