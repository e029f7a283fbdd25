"""How Airflow's KubernetesExecutor turns the worker pod template into a task pod, on plain dicts.

A small port of the cncf.kubernetes provider's `pod_generator.py` (`reconcile_pods`,
`reconcile_specs`, `reconcile_containers`, `merge_objects`, `extend_object_field`), so that a test
can check what a task pod really gets from a template, not only what the template says. Airflow
works on kubernetes-client objects, which are truthy whenever present; here a present object is a
dict (possibly empty), so presence is tested with `is None`, and field values by truthiness as
Airflow does. The template is the base, the pod the executor builds for the task is the client:
the client's set fields win, the listed list fields are concatenated (base first).
"""
import copy
from typing import Any, Dict, List, Optional

CONTAINER_LISTS = ("volumeMounts", "env", "envFrom", "ports", "volumeDevices")


def merge_objects(base: Optional[Dict[str, Any]], client: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The client's fields, and the base's where the client's are unset or empty."""
    if base is None:
        return client
    if client is None:
        return base
    merged = copy.deepcopy(client)
    for key, value in base.items():
        if not merged.get(key) and value:
            merged[key] = copy.deepcopy(value)
    return merged


def extend_object_field(base: Dict[str, Any], client: Dict[str, Any], field: str) -> Dict[str, Any]:
    """The client with `field` = base's list + client's list."""
    merged = copy.deepcopy(client)
    base_items, client_items = base.get(field), client.get(field)
    for items in (base_items, client_items):
        if items is not None and not isinstance(items, list):
            raise ValueError(f"The chosen field must be a list: {field}")
    if not base_items:
        return merged
    merged[field] = copy.deepcopy(base_items) + (client_items or [])
    return merged


def reconcile_containers(base: Optional[List[Dict[str, Any]]],
                         client: Optional[List[Dict[str, Any]]]) -> Optional[List[Dict[str, Any]]]:
    """Pairwise by position: the template's first container merged into the task container."""
    if not base:
        return client
    if not client:
        return base
    container = client[0]
    for field in CONTAINER_LISTS:
        container = extend_object_field(base[0], container, field)
    container = merge_objects(base[0], container)
    return [container] + (reconcile_containers(base[1:], client[1:]) or [])


def reconcile_specs(base: Optional[Dict[str, Any]], client: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if base is not None and client is None:
        return base
    if base is None:
        return client
    client = dict(client, containers=reconcile_containers(base.get("containers"), client.get("containers")))
    merged = extend_object_field(base, client, "initContainers")
    merged = extend_object_field(base, merged, "volumes")
    return merge_objects(base, merged)


def reconcile_metadata(base: Optional[Dict[str, Any]], client: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if base is None or client is None:
        return client if base is None else base
    client = dict(client)
    for key in ("labels", "annotations"):
        if base.get(key) or client.get(key):
            client[key] = {**(base.get(key) or {}), **(client.get(key) or {})}
    return merge_objects(base, client)


def reconcile_pods(base: Dict[str, Any], client: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if client is None:
        return base
    pod = copy.deepcopy(client)
    pod["spec"] = reconcile_specs(base.get("spec"), pod.get("spec"))
    pod["metadata"] = reconcile_metadata(base.get("metadata"), pod.get("metadata"))
    return merge_objects(base, pod)


def task_pod(image: str = "apache/airflow:3.1.7") -> Dict[str, Any]:
    """The pod the executor builds for one task (`PodGenerator.construct_pod`'s `dynamic_pod`)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "example-dag-run-task-1a2b3c", "namespace": "airflow",
                     "annotations": {"dag_id": "example", "task_id": "run", "try_number": "1"},
                     "labels": {"dag_id": "example", "task_id": "run", "try_number": "1",
                                "kubernetes_executor": "True", "airflow-worker": "1"}},
        "spec": {"containers": [{
            "name": "base",
            "image": image,
            "args": ["airflow", "tasks", "run", "example", "run", "manual__2025-01-01", "--local"],
            "env": [{"name": "AIRFLOW_IS_K8S_EXECUTOR_POD", "value": "True"}],
        }]},
    }


def task_pod_from(template: Dict[str, Any]) -> Dict[str, Any]:
    """The task pod Airflow runs from this worker pod template (no executor_config override)."""
    return reconcile_pods(template, task_pod())
