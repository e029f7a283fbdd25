"""The finding model: changes, warnings and errors are data, and every output is rendered from them."""
import ast
import json
import pickle
import re
from pathlib import Path

import pytest

from postrender import findings
from postrender.errors import InputError, SpecError
from postrender.findings import (
    CLAIM_TEMPLATE_REMOVED,
    INVALID_INPUT,
    INVALID_SPEC,
    RWO_CLAIM_SHARED,
    Finding,
    Where,
    internal_error,
    krm_message,
    krm_tags,
    report_json,
    stderr_line,
)

PACKAGE = Path(findings.__file__).parent
KEBAB = re.compile(r"[a-z]+(-[a-z]+)*")


# -- the model --------------------------------------------------------------------------------------
def test_a_warning_reads_as_its_place_and_message():
    finding = Finding.warning(RWO_CLAIM_SHARED, "claim 'x' is ReadWriteOnce", Where(document=3, obj="Deployment/a"))
    assert (finding.severity, finding.id, finding.action) == ("warning", "rwo-claim-shared", None)
    assert str(finding) == "document 3, Deployment/a: claim 'x' is ReadWriteOnce"
    assert str(Finding.warning(RWO_CLAIM_SHARED, "no place")) == "no place"


def test_a_change_is_identified_by_its_action_and_worded_from_it():
    change = Finding.change("added-mount", Where(obj="Deployment/a", container="c"), "logs", "/opt/airflow/logs")
    assert (change.severity, change.id, change.action) == ("info", "added-mount", "added-mount")
    assert change.message == "mounted volume logs at /opt/airflow/logs"
    annotated = Finding.change("annotated", Where(), detail="checksum/postrender=ab")
    assert annotated.message == "annotated the pod template"


def test_every_warning_and_error_kind_has_a_kebab_case_id_and_a_description():
    for table in (findings.WARNINGS, findings.ERRORS):
        for finding_id, description in table.items():
            assert KEBAB.fullmatch(finding_id) and description
    assert not findings.WARNINGS.keys() & findings.ERRORS.keys()


def test_every_warning_the_package_raises_names_a_known_kind():
    """Each `Finding.warning(ID, ...)` in the package passes one of the constants of `WARNINGS`."""
    constants = {name for name, value in vars(findings).items()
                 if isinstance(value, str) and value in findings.WARNINGS}
    used = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warning"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "Finding"):
                assert node.args and isinstance(node.args[0], ast.Name), f"{path.name}:{node.lineno}: no id constant"
                used.add(node.args[0].id)
    assert used <= constants
    assert used == constants, f"kinds of warning no code raises: {constants - used}"


def test_an_error_is_a_finding_carried_by_its_exception():
    error = SpecError("bad value", Where(source="spec.yaml", line=3, obj="volume logs"), hint="write 50Gi")
    finding = error.finding
    assert (finding.severity, finding.id, finding.message, finding.hint) == ("error", INVALID_SPEC, "bad value",
                                                                             "write 50Gi")
    assert str(error) == "spec.yaml, line 3, volume logs: bad value\n  hint: write 50Gi"
    assert InputError("x").finding.id == INVALID_INPUT
    assert InputError("x", finding_id="custom-kind").finding.id == "custom-kind"


def test_an_error_learns_its_place_later_and_keeps_the_parts_it_knew():
    error = InputError("conflict", Where(line=7))
    error.located(Where(document=2, line=1, obj="Deployment/a"))
    assert error.where == Where(document=2, line=7, obj="Deployment/a")
    error.where = error.where.but(container="c")
    assert error.finding.where.container == "c" and error.finding.message == "conflict"


def test_an_error_crosses_a_process_boundary_whole():
    """The forked child of the two-process path hands its error back pickled."""
    error = InputError("conflict", Where(document=4, line=9), hint="rename it", finding_id="custom-kind")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is InputError and back.finding == error.finding and str(back) == str(error)


# -- stderr (and, under Helm, the terminal and the log) -----------------------------------------------
def test_stderr_shows_a_warnings_id_and_an_errors_hint():
    warning = Finding.warning(CLAIM_TEMPLATE_REMOVED, "removed it", Where(obj="StatefulSet/t"))
    assert stderr_line(warning) == "postrender: warning[claim-template-removed]: StatefulSet/t: removed it"
    error = InputError("not valid", Where(document=2, line=5), hint="fix it").finding
    assert stderr_line(error) == "postrender: error: document 2, line 5: not valid\n  hint: fix it"
    assert stderr_line(internal_error(KeyError("k"))).startswith("postrender: error: internal error: KeyError: 'k'")


# -- --report -------------------------------------------------------------------------------------------
def test_the_report_lists_changes_as_always_and_warnings_as_objects():
    changes = [Finding.change("added-mount", Where(document=2, obj="Deployment/a", container="c", line=9), "logs",
                              "/opt/airflow/logs"),
               Finding.change("created", Where(obj="PersistentVolumeClaim/x"), "logs")]
    warnings = [Finding.warning(RWO_CLAIM_SHARED, "careful", Where(document=2, line=9, obj="Deployment/a")),
                Finding.warning(RWO_CLAIM_SHARED, "stream-wide")]
    report = json.loads(report_json(changes + warnings))
    assert report == {
        "version": 1,
        "changes": [{"document": 2, "object": "Deployment/a", "action": "added-mount", "volume": "logs",
                     "container": "c", "detail": "/opt/airflow/logs"},
                    {"document": 0, "object": "PersistentVolumeClaim/x", "action": "created", "volume": "logs"}],
        "warnings": [{"severity": "warning", "id": "rwo-claim-shared", "document": 2, "line": 9,
                      "object": "Deployment/a", "message": "careful"},
                     {"severity": "warning", "id": "rwo-claim-shared", "message": "stream-wide"}],
        "error": None,
    }


def test_a_failed_runs_report_holds_the_error_and_no_change():
    error = SpecError("unknown key 'mountpath'", Where(source="spec.yaml", line=4, obj="volume logs"),
                      hint="did you mean 'mountPath'?")
    report = json.loads(report_json([], error.finding))
    assert report == {"version": 1, "changes": [], "warnings": [],
                      "error": {"severity": "error", "id": "invalid-spec", "source": "spec.yaml", "line": 4,
                                "object": "volume logs", "message": "unknown key 'mountpath'",
                                "hint": "did you mean 'mountPath'?"}}


# -- KRM results ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("change, known, message", [
    (Finding.change("added-mount", Where(obj="Deployment/a", container="c"), "logs", "/logs"), True,
     "mounted volume logs at /logs in container c"),
    (Finding.change("replaced", Where(obj="ConfigMap/cfg", key="pod.yaml"), "logs", "claim x"), True,
     "pod template in key pod.yaml: replaced volume logs (claim x)"),
    (Finding.change("added-container", Where(obj="ConfigMap/cfg", key="k", container="base"), None, "only the mounts"),
     True, "pod template in key k: added a stub for Airflow's task container in container base (only the mounts)"),
    (Finding.change("removed-claim-template", Where(obj="StatefulSet/t"), "logs", "now on claim x"), True,
     "removed volumeClaimTemplate logs"),  # its detail is advice: the warning carries it
    (Finding.change("created", Where(obj="PersistentVolumeClaim/x"), "logs", "5Gi, ReadWriteMany"), False,
     "PersistentVolumeClaim/x: created this claim for volume logs (5Gi, ReadWriteMany)"),
])
def test_a_krm_result_words_a_change_about_its_item(change, known, message):
    assert krm_message(change, item_known=known) == message


def test_krm_tags_carry_a_changes_fields_and_a_warnings_id():
    change = Finding.change("added-mount", Where(obj="Deployment/a", container="c", key=None), "logs", "/logs")
    assert krm_tags(change) == {"action": "added-mount", "volume": "logs", "container": "c"}
    warning = Finding.warning(RWO_CLAIM_SHARED, "careful", Where(obj="Deployment/a"))
    assert krm_tags(warning) == {"id": "rwo-claim-shared"}
    assert krm_message(warning) == "Deployment/a: careful"


def test_the_readme_lists_every_kind_of_warning():
    readme = (PACKAGE.parent / "README.md").read_text()
    listed = re.findall(r"^\| `([a-z-]+)` \| ", readme, re.M)
    assert listed == list(findings.WARNINGS)
