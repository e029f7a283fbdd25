"""Without ruamel.yaml.clib's C extension (an interpreter the plugin release has no build for, or a
pip install without a wheel), postrender runs on ruamel.yaml's pure-Python loader and gives the
same output: yamlio's loader makes it agree with libyaml where edits are placed."""
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT, STREAMS, run_cli, write_spec

# The CLI with the C extension made unimportable before anything imports ruamel.yaml.
PURE = "import sys; sys.modules['_ruamel_yaml'] = None; from postrender.cli import main; sys.exit(main())"
STREAMS_AND_ARGS = [
    (STREAMS / "helm3-official.yaml", ["--logs-claim", "airflow-log-pvc"]),
    (STREAMS / "helm4-official.yaml", ["--logs-claim", "airflow-log-pvc"]),
    (STREAMS / "helm3-official.yaml", ["--volume", "data=airflow-data:/opt/airflow/data"]),
    (FIXTURES / "logs-claim" / "helm3-subpath.yaml", ["--logs-claim", "airflow-log-pvc"]),
    (FIXTURES / "duplicates" / "scheduler-annotations-helm4.yaml", ["--logs-claim", "airflow-log-pvc"]),
    (ROOT / "examples" / "airflow-1.19.0-helm3.yaml", ["--volume", "data=airflow-data:/opt/airflow/data"]),
]


def run_pure(args, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PURE, *args], input=stdin, capture_output=True, timeout=300,
                          cwd=ROOT)


def test_the_pure_loader_is_the_one_in_use_without_the_extension():
    probe = ("import sys; sys.modules['_ruamel_yaml'] = None; from postrender.yamlio import loader; "
             "print(loader.PURE_PYTHON)")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout == "True\n"


@pytest.mark.parametrize("path, args", STREAMS_AND_ARGS, ids=[f"{p.name}{a[0]}" for p, a in STREAMS_AND_ARGS])
def test_pure_python_mode_gives_the_output_of_libyaml(path, args):
    data = path.read_bytes()
    c_mode, pure = run_cli(args, data), run_pure(args, data)
    assert c_mode.returncode == 0, c_mode.stderr
    assert (pure.returncode, pure.stdout, pure.stderr) == (c_mode.returncode, c_mode.stdout, c_mode.stderr)
    assert pure.stdout != data  # something was edited: the marks mattered


def test_an_empty_value_keeps_libyaml_place_in_pure_python_mode(tmp_path):
    """`subPath:` with no value: the new mount goes after that mount, not after the next key."""
    stream = (b"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: s\n  labels: {component: scheduler}\n"
              b"spec:\n  template:\n    spec:\n      containers:\n        - name: s\n          volumeMounts:\n"
              b"            - name: x\n              mountPath: /x\n              subPath:\n"
              b"          image: i\n      volumes:\n        - name: x\n          emptyDir: {}\n")
    spec = write_spec(tmp_path, "volumes:\n- {name: data, claimName: d, mountPath: /data, targets: [scheduler]}\n")
    c_mode, pure = run_cli(["-c", spec], stream), run_pure(["-c", spec], stream)
    assert b"              subPath:\n            - name: data\n" in c_mode.stdout
    assert (pure.returncode, pure.stdout) == (c_mode.returncode, c_mode.stdout)
