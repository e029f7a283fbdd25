"""The benchmark's input: N renamed copies of a render must be N releases side by side.

`make bench` feeds the same stream to postrender and to kustomize, which refuses two objects
with one id; and a copy that kept a name of another would also make the comparison unfair.
(Timings are measured by `make bench`, never asserted by tests.)
"""
import collections
import sys

import pytest

from conftest import CAPTURES, ROOT, load_all, needs_captures

sys.path.insert(0, str(ROOT / "bench"))
import streams  # noqa: E402  (bench/streams.py)

RENDERS = sorted(CAPTURES.glob("*.yaml")) if CAPTURES.is_dir() else []


def ids(text: str) -> collections.Counter:
    found: collections.Counter = collections.Counter()
    for doc in load_all(text):
        meta = doc.get("metadata") or {}
        found[(doc.get("kind"), meta.get("namespace"), meta.get("name"))] += 1
    return found


def test_bundled_render_copies_are_distinct_releases():
    render = (ROOT / "examples" / "airflow-1.19.0-helm3.yaml").read_text()
    single = ids(render)
    copies = ids("".join(streams.releases(render, 3)))
    assert sum(copies.values()) == 3 * sum(single.values())
    assert max(copies.values()) == 1
    assert {name for _, _, name in copies if "rel0002" in str(name)}


@needs_captures
@pytest.mark.parametrize("path", RENDERS, ids=[p.name for p in RENDERS])
def test_every_capture_copies_into_distinct_releases(path):
    copies = ids("".join(streams.releases(path.read_text(), 3)))
    assert [key for key, count in copies.items() if count > 1] == []


def test_only_the_release_name_is_renamed():
    text = ("name: airflow\nserviceAccountName: \"airflow\"\napp.kubernetes.io/name: airflow\nnamespace: airflow\n"
            "image: apache/airflow:3\nrelease: airflow\nhost: airflow-statsd\n")
    assert streams.rename_release(text, "rel0001") == (
        "name: rel0001\nserviceAccountName: \"rel0001\"\napp.kubernetes.io/name: airflow\nnamespace: airflow\n"
        "image: apache/airflow:3\nrelease: rel0001\nhost: rel0001-statsd\n")
