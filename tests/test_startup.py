"""Start-up: a run imports what its input and options need, and nothing else (issue 24).

A post-renderer starts once per `helm upgrade`, so every module imported for nothing is paid on
every release. Each test runs `cli.main` in a fresh isolated interpreter (`python -I`) and reads
which of the package's modules `sys.modules` holds afterwards. (The time itself is measured by
`make bench`, never asserted here.)
"""
import json
import os
import subprocess
import sys
from typing import Dict, List, Set

import pytest

from conftest import HELM3_RENDER, ROOT

# What a run over a manifest stream must not import: KRM mode, --diff, --inspect, the fork machinery
# (a small stream stays in one process), the Helm plugin's launcher and delivery (not under Helm),
# the JSON Schema builder (--schema) and the patching of KRM items.
NOT_ON_THE_STREAM_PATH = ("postrender.krm", "postrender.review", "postrender.inventory", "postrender.twoprocess",
                          "postrender.helm_plugin", "postrender.delivery", "postrender.spec.schema",
                          "postrender.patch.region")

RUN = """
import os, sys
from postrender.cli import main
sys.stdout = open(os.devnull, "w")  # the transformed stream: not what this test reads
code = main(sys.argv[1:])
modules = sorted(sys.modules)
sys.stdout = sys.__stdout__
import json  # only now: whether the run imported it is the question
print(json.dumps({"code": code, "modules": modules}))
"""


def off_helm() -> Dict[str, str]:
    """This environment without a HELM_* or POSTRENDER_* variable: a run that is not under Helm."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "POSTRENDER_"))}


def modules_after(args: List[str], stdin: bytes = b"") -> Set[str]:
    """The modules `main(args)` left imported, in a fresh isolated interpreter, off Helm (no
    HELM_* or POSTRENDER_* variable); the run must succeed."""
    proc = subprocess.run([sys.executable, "-I", "-c", RUN, *args], input=stdin, capture_output=True,
                          env=off_helm(), cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    found = json.loads(proc.stdout)
    assert found["code"] == 0, proc.stderr.decode()
    return set(found["modules"])


def imported_by(args: List[str]) -> Set[str]:
    """The modules `python -I -X importtime ARGS` imported, off Helm, for a process that cannot say
    itself (it ends with os._exit); it must succeed."""
    proc = subprocess.run([sys.executable, "-I", "-X", "importtime", *args], capture_output=True, cwd=ROOT,
                          env=off_helm(), timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stderr.decode().splitlines()
    return {line.split("|")[-1].strip() for line in lines if line.startswith("import time:")}


def test_a_small_stream_imports_the_stream_path_only():
    modules = modules_after(["--logs-claim", "airflow-log-pvc"], HELM3_RENDER)
    assert {"postrender.pipeline", "postrender.edit"} <= modules  # it did run the pipeline
    assert sorted(modules.intersection(NOT_ON_THE_STREAM_PATH)) == []
    assert "hashlib" not in modules  # the roll annotation's SHA-256 without loading OpenSSL
    # Defining a dataclass costs about a millisecond (the stream path's records are records.Record and
    # plain classes); json's three modules two (the patcher and the emitter key values without it).
    assert "dataclasses" not in modules and "json" not in modules
    assert "postrender.spec.parse" not in modules  # --logs-claim alone reads no spec
    assert "difflib" not in modules  # for lists an edit changes in several places only (`patch.align`)
    assert "locale" not in modules  # click's own --help/--version would translate their texts (gettext)


def test_a_spec_file_imports_the_spec_reader(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("volumes:\n- name: dags\n  claimName: airflow-dags\n  mountPath: /opt/airflow/dags\n")
    assert "postrender.spec.parse" in modules_after(["-c", str(spec)], HELM3_RENDER)


def test_a_small_stream_with_a_report_imports_the_stream_path_only(tmp_path):
    modules = modules_after(["--logs-claim", "airflow-log-pvc", "--report", str(tmp_path / "r.json")], HELM3_RENDER)
    assert sorted(modules.intersection(NOT_ON_THE_STREAM_PATH)) == []
    assert json.loads((tmp_path / "r.json").read_text())["changes"]


@pytest.mark.parametrize("args, stdin, needed", [
    (["--diff", "--logs-claim", "airflow-log-pvc"], HELM3_RENDER, "postrender.review"),
    (["--inspect"], HELM3_RENDER, "postrender.inventory"),
    (["--schema"], b"", "postrender.spec.schema"),
    (["--logs-claim", "airflow-log-pvc"],
     b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", "postrender.krm"),
], ids=["diff", "inspect", "schema", "krm"])
def test_an_option_or_input_that_needs_a_module_imports_it(args, stdin, needed):
    assert needed in modules_after(args, stdin)


def test_a_stream_big_enough_for_two_processes_imports_the_fork_machinery():
    from postrender.pipeline import MIN_BYTES

    stream = HELM3_RENDER * (MIN_BYTES // len(HELM3_RENDER) + 2)
    assert "postrender.twoprocess" in modules_after(["--logs-claim", "airflow-log-pvc"], stream)


def test_version_imports_nothing_of_the_package_but_the_cli_and_reads_no_package_metadata():
    modules = modules_after(["--version"])
    assert sorted(m for m in modules if m.startswith("postrender")) == ["postrender", "postrender.cli"]
    assert "importlib.metadata" not in modules
    assert not any(m.startswith("ruamel") for m in modules)
    assert "locale" not in modules


def test_version_through_the_console_entry_imports_neither_signal_nor_locale():
    """`python -m postrender` runs as the console script does (process.run, exit_flushed)."""
    imported = imported_by(["-m", "postrender", "--version"])
    assert "postrender.process" in imported and "postrender.cli" in imported
    assert "signal" not in imported  # its enums cost ~1 ms; exit_flushed uses _signal
    assert "locale" not in imported


def test_the_plugin_launcher_imports_its_failure_delivery_only_to_deliver_a_failure():
    """helm_plugin.launch, as bin/postrender-plugin runs it (checkout layout), off Helm."""
    runner = "import sys; from postrender.helm_plugin import launch; launch(sys.argv[1], 'checkout', sys.argv[2:])"
    imported = imported_by(["-c", runner, str(ROOT), "--version"])
    assert "postrender.helm_plugin" in imported and "postrender.cli" in imported
    assert "postrender.delivery" not in imported and "postrender.helm_env" not in imported


def test_version_prints_the_package_version():
    from postrender import __version__

    proc = subprocess.run([sys.executable, "-I", "-m", "postrender", "--version"], capture_output=True, cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == f"postrender, version {__version__}\n"
