"""Findings are data; every output is rendered from them."""
import json

from postrender.errors import Where
from postrender.findings import Finding, report_json


def test_a_warning_reads_as_its_place_and_message():
    finding = Finding.warning("claim 'x' is ReadWriteOnce", Where(document=3, obj="Deployment/a"))
    assert str(finding) == "document 3, Deployment/a: claim 'x' is ReadWriteOnce"
    assert str(Finding.warning("no place")) == "no place"


def test_the_report_lists_changes_with_their_fields_and_warnings_as_text():
    changes = [Finding.change("added-mount", Where(document=2, obj="Deployment/a", container="c", line=9), "logs",
                              "/opt/airflow/logs"),
               Finding.change("created", Where(obj="PersistentVolumeClaim/x"), "logs")]
    report = json.loads(report_json(changes + [Finding.warning("careful", Where(obj="Deployment/a"))]))
    assert report == {
        "changes": [{"document": 2, "object": "Deployment/a", "action": "added-mount", "volume": "logs",
                     "container": "c", "detail": "/opt/airflow/logs"},
                    {"document": 0, "object": "PersistentVolumeClaim/x", "action": "created", "volume": "logs"}],
        "warnings": ["Deployment/a: careful"],
    }
