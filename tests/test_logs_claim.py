"""`--logs-claim` against the official chart's own logs persistence, through the real CLI.

The fixtures in tests/fixtures/logs-claim/ are shaped like the official chart's renders (Helm 3
form, and the same objects in the Helm 4 form): `subpath` has `logs.persistence` on the chart's
own claim with `subPath: test/logs`, `home` has `airflowHome: /usr/local/airflow`; both have an
extraContainer `sidecar` on every component. Each `*-existing-claim.yaml` is what the chart
renders for the same values plus `logs.persistence.existingClaim: airflow-log-pvc`.
"""
import textwrap

import pytest

from conftest import FIXTURES, by_name, load_all, pod_templates, run_main, validate_k8s

LOGS = FIXTURES / "logs-claim"
CLAIM = "airflow-log-pvc"
CASES = [f"helm{h}-{case}" for case in ("subpath", "home") for h in (3, 4)]
CHANNELS = ("containers", "initContainers")


def logs_claim(stdin: bytes, claim: str = CLAIM):
    result = run_main(["--logs-claim", claim], stdin)
    assert result.returncode == 0, result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    return result


def fixture(name: str) -> bytes:
    return (LOGS / f"{name}.yaml").read_bytes()


def without_checksums(value):
    """The object without checksum annotations (the chart's are computed before any post-renderer
    runs, postrender adds its own), nor the annotations mapping that held only those."""
    if isinstance(value, dict):
        kept = {k: without_checksums(v) for k, v in value.items() if not str(k).startswith("checksum/")}
        return {k: v for k, v in kept.items() if not (k == "annotations" and v == {})}
    if isinstance(value, list):
        return [without_checksums(v) for v in value]
    return value


def workloads(docs):
    return {(d["kind"], d["metadata"]["name"]): without_checksums(d) for d in docs
            if d["kind"] in ("Deployment", "StatefulSet")}


def pod(docs, kind, name):
    return by_name(docs, kind, name)["spec"]["template"]["spec"]


def mounts_of(pod_spec, volume):
    """(channel, container, mountPath, subPath) of every mount of `volume` in the pod."""
    return sorted((key, c["name"], m["mountPath"], m.get("subPath")) for key in CHANNELS
                  for c in pod_spec.get(key) or [] for m in c.get("volumeMounts") or [] if m["name"] == volume)


@pytest.mark.parametrize("case", CASES)
def test_output_equals_the_charts_own_existing_claim_render_is_valid_and_idempotent(case):
    result = logs_claim(fixture(case))
    docs = load_all(result.stdout)
    expected = load_all(fixture(f"{case}-existing-claim"))
    assert workloads(docs) == workloads(expected)
    assert pod_templates(docs) == pod_templates(expected)
    for doc in docs:
        validate_k8s(doc)
    for template in pod_templates(docs).values():
        validate_k8s(template)
    assert logs_claim(result.stdout).stdout == result.stdout


@pytest.mark.parametrize("helm", [3, 4])
def test_subpath_init_main_and_groomer_stay_on_the_one_logs_volume_with_their_subpath(helm):
    docs = load_all(logs_claim(fixture(f"helm{helm}-subpath")).stdout)
    for kind, name, component in (("Deployment", "airflow-scheduler", "scheduler"),
                                  ("StatefulSet", "airflow-triggerer", "triggerer"),
                                  ("StatefulSet", "airflow-worker", "worker")):
        spec = pod(docs, kind, name)
        assert [v for v in spec["volumes"] if v["name"] != "config"] == [
            {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}]
        assert mounts_of(spec, "logs") == [
            ("containers", component, "/opt/airflow/logs", "test/logs"),
            ("containers", f"{component}-log-groomer", "/opt/airflow/logs", "test/logs"),
            ("initContainers", "wait-for-airflow-migrations", "/opt/airflow/logs", "test/logs"),
        ]
    api = pod(docs, "Deployment", "airflow-api-server")
    assert mounts_of(api, "logs") == [("containers", "api-server", "/opt/airflow/logs", "test/logs")]
    # the chart's own claim is no longer used by any pod
    specs = [pod(docs, d["kind"], d["metadata"]["name"]) for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    specs += [t["spec"] for t in pod_templates(docs).values()]
    claims = {v["persistentVolumeClaim"]["claimName"]
              for s in specs for v in s["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {CLAIM}


@pytest.mark.parametrize("helm", [3, 4])
def test_custom_airflow_home_repoints_the_logs_volume_where_the_render_mounts_it(helm):
    result = logs_claim(fixture(f"helm{helm}-home"))
    docs = load_all(result.stdout)
    for kind, name in (("Deployment", "airflow-scheduler"), ("StatefulSet", "airflow-triggerer"),
                       ("StatefulSet", "airflow-worker")):
        spec = pod(docs, kind, name)
        assert [v["name"] for v in spec["volumes"]] == ["config", "logs"]  # no second logs volume
        assert spec["volumes"][1] == {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}
        # the chart's init container mounts /opt/airflow/logs whatever airflowHome is: kept as it is
        assert ("initContainers", "wait-for-airflow-migrations", "/opt/airflow/logs", None) in mounts_of(spec, "logs")
        assert "volumeClaimTemplates" not in by_name(docs, kind, name)["spec"]
    api = pod(docs, "Deployment", "airflow-api-server")
    assert api["volumes"][-1] == {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}
    assert mounts_of(api, "logs") == [("containers", "api-server", "/usr/local/airflow/logs", None)]
    template = pod_templates(docs)["airflow-config/pod_template_file.yaml"]["spec"]
    assert mounts_of(template, "logs") == [("containers", "base", "/usr/local/airflow/logs", None)]
    assert b"volumeClaimTemplate 'logs'" in result.stderr


@pytest.mark.parametrize("case", CASES)
def test_extra_containers_never_get_the_logs_mount(case):
    docs = load_all(logs_claim(fixture(case)).stdout)
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            sidecar = [c for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == "sidecar"]
            assert sidecar and "volumeMounts" not in sidecar[0], doc["metadata"]["name"]


# -- small pods: one document each ------------------------------------------------------------------
def deployment(component, containers, volumes="", init="", label="component"):
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: airflow-{component}
          labels:
            {label}: {component}
        spec:
          selector:
            matchLabels:
              {label}: {component}
          template:
            metadata:
              labels:
                {label}: {component}
            spec:
        """) + textwrap.indent(textwrap.dedent(init + containers + volumes), " " * 6)


SIDECAR = """\
- name: sidecar
  image: busybox:1.36
"""


def main_container(name, home="/opt/airflow"):
    return f"""\
- name: {name}
  image: apache/airflow:3.1.7
  env:
    - name: AIRFLOW_HOME
      value: {home}
"""


@pytest.mark.parametrize("component, name, label", [
    ("api-server", "api-server", "component"),  # official 1.18+
    ("webserver", "webserver", "component"),  # official 1.15
    ("web", "airflow-web", "app.kubernetes.io/component"),  # Bitnami-style naming
])
@pytest.mark.parametrize("sidecar_first", [True, False], ids=["sidecar-first", "sidecar-last"])
def test_log_reader_gets_the_mount_in_its_main_container_wherever_extra_containers_stand(
        component, name, label, sidecar_first):
    main = main_container(name, home="/usr/local/airflow")
    containers = "containers:\n" + textwrap.indent(SIDECAR + main if sidecar_first else main + SIDECAR, "  ")
    doc = deployment(component, containers, label=label)
    result = logs_claim(doc.encode())
    spec = load_all(result.stdout)[0]["spec"]["template"]["spec"]
    assert spec["volumes"] == [{"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}]
    assert mounts_of(spec, "logs") == [("containers", name, "/usr/local/airflow/logs", None)]
    validate_k8s(load_all(result.stdout)[0])
    assert logs_claim(result.stdout).stdout == result.stdout


BITNAMI_LIKE = """\
initContainers:
  - name: wait-for-db-migrations
    image: bitnami/airflow:3.0.5
    volumeMounts:
      - name: empty-dir
        mountPath: /tmp
        subPath: tmp-dir
      - name: empty-dir
        mountPath: /opt/bitnami/airflow/logs
        subPath: app-logs-dir
containers:
  - name: airflow-scheduler
    image: bitnami/airflow:3.0.5
    volumeMounts:
      - name: empty-dir
        mountPath: /tmp
        subPath: tmp-dir
      - name: empty-dir
        mountPath: /opt/bitnami/airflow/logs
        subPath: app-logs-dir
      - name: empty-dir
        mountPath: /opt/bitnami/airflow/airflow.cfg
        subPath: app-base-dir/airflow.cfg
"""
EMPTY_DIR = """\
volumes:
  - name: empty-dir
    emptyDir: {}
"""


def test_logs_on_a_shared_scratch_volume_move_to_a_new_logs_volume_and_the_scratch_stays():
    doc = deployment("scheduler", BITNAMI_LIKE, EMPTY_DIR, label="app.kubernetes.io/component")
    result = logs_claim(doc.encode())
    spec = load_all(result.stdout)[0]["spec"]["template"]["spec"]
    assert spec["volumes"] == [{"name": "empty-dir", "emptyDir": {}},
                               {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}]
    # every logs mount moves, the init container's too, and leaves the scratch volume's subPath behind
    assert mounts_of(spec, "logs") == [
        ("containers", "airflow-scheduler", "/opt/bitnami/airflow/logs", None),
        ("initContainers", "wait-for-db-migrations", "/opt/bitnami/airflow/logs", None),
    ]
    assert mounts_of(spec, "empty-dir") == [
        ("containers", "airflow-scheduler", "/opt/bitnami/airflow/airflow.cfg", "app-base-dir/airflow.cfg"),
        ("containers", "airflow-scheduler", "/tmp", "tmp-dir"),
        ("initContainers", "wait-for-db-migrations", "/tmp", "tmp-dir"),
    ]
    validate_k8s(load_all(result.stdout)[0])
    assert logs_claim(result.stdout).stdout == result.stdout


def test_a_volume_whose_every_mount_is_inside_the_logs_is_dedicated_and_repointed_in_place():
    containers = main_container("scheduler") + """\
  volumeMounts:
    - name: logs
      mountPath: /opt/airflow/logs
      subPath: test/logs
    - name: logs
      mountPath: /var/log/dag-processor-manager
      subPath: test/logs/dag_processor_manager
"""
    doc = deployment("scheduler", "containers:\n" + textwrap.indent(containers, "  "),
                     "volumes:\n  - name: logs\n    emptyDir: {}\n")
    spec = load_all(logs_claim(doc.encode()).stdout)[0]["spec"]["template"]["spec"]
    assert spec["volumes"] == [{"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}]
    assert mounts_of(spec, "logs") == [
        ("containers", "scheduler", "/opt/airflow/logs", "test/logs"),
        ("containers", "scheduler", "/var/log/dag-processor-manager", "test/logs/dag_processor_manager"),
    ]


def test_an_init_container_on_another_volume_at_the_log_path_is_left_as_the_chart_leaves_it():
    """Bitnami's triggerer: the init container logs to the scratch emptyDir, the triggerer to its
    own `logs` claim template; with logs persistence the chart moves only the latter."""
    pod_text = BITNAMI_LIKE.replace("""\
      - name: empty-dir
        mountPath: /opt/bitnami/airflow/logs
        subPath: app-logs-dir
      - name: empty-dir
        mountPath: /opt/bitnami/airflow/airflow.cfg""", """\
      - name: logs
        mountPath: /opt/bitnami/airflow/logs
      - name: empty-dir
        mountPath: /opt/bitnami/airflow/airflow.cfg""")
    doc = deployment("triggerer", pod_text.replace("airflow-scheduler", "airflow-triggerer"), EMPTY_DIR,
                     label="app.kubernetes.io/component").replace("kind: Deployment", "kind: StatefulSet")
    doc += textwrap.indent(textwrap.dedent("""\
        volumeClaimTemplates:
          - metadata:
              name: logs
            spec:
              accessModes: ["ReadWriteOnce"]
              resources:
                requests:
                  storage: 8Gi
        """), "  ")
    result = logs_claim(doc.encode())
    out = load_all(result.stdout)[0]
    spec = out["spec"]["template"]["spec"]
    assert "volumeClaimTemplates" not in out["spec"]
    assert spec["volumes"] == [{"name": "empty-dir", "emptyDir": {}},
                               {"name": "logs", "persistentVolumeClaim": {"claimName": CLAIM}}]
    assert mounts_of(spec, "logs") == [("containers", "airflow-triggerer", "/opt/bitnami/airflow/logs", None)]
    assert ("initContainers", "wait-for-db-migrations", "/opt/bitnami/airflow/logs", "app-logs-dir") \
        in mounts_of(spec, "empty-dir")


def test_two_volumes_at_the_log_path_fail_naming_the_object_the_volumes_and_the_containers():
    containers = main_container("scheduler") + """\
  volumeMounts:
    - name: logs
      mountPath: /opt/airflow/logs
- name: shipper
  image: fluent/fluent-bit:3.0
  volumeMounts:
    - name: shipper-logs
      mountPath: /opt/airflow/logs/
"""
    volumes = "volumes:\n  - name: logs\n    emptyDir: {}\n  - name: shipper-logs\n    emptyDir: {}\n"
    doc = deployment("scheduler", "containers:\n" + textwrap.indent(containers, "  "), volumes)
    result = run_main(["--logs-claim", CLAIM], doc.encode())
    assert result.returncode == 1 and result.stdout == b""
    message = result.stderr.decode()
    assert "Deployment/airflow-scheduler" in message
    assert "'logs' (container scheduler)" in message and "'shipper-logs' (container shipper)" in message
    assert "/opt/airflow/logs" in message and "Traceback" not in message
