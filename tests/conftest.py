"""Shared helpers: run the tool (in this process or as the real CLI), parse streams, validate
against Kubernetes schemas. Test modules share code only through this file."""
import hashlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

# The suite runs as under a terminal, where Ctrl-C interrupts: a shell ignores SIGINT in what it
# starts in the background (`make test &`), every process would inherit that, and the tests of
# Ctrl-C (which send it to postrender, or to this process) would wait for an interrupt that never came.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
STREAMS = FIXTURES / "streams"
CAPTURES = Path(os.environ.get("POSTRENDER_CAPTURES", ROOT.parent / "shared" / "airflow-renders"))
KUBERNETES_VERSION = "1.35.0"
HELM3_RENDER = (STREAMS / "helm3-official.yaml").read_bytes()  # the official chart, rendered by Helm 3
TEMPLATE_LOGS_SPEC = """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template]
"""

if TYPE_CHECKING:  # postrender is imported in the helpers that use it: a name moved breaks only their tests
    from postrender.ledger import Ledger
    from postrender.spec import Spec

# -- hypothesis: `make test` and CI run a fixed set of examples, `make fuzz` explores ------------
# The suite passes or fails the same way on every run: each property test's examples follow from
# its own code (derandomize), whatever its settings say, and no example database is replayed.
# `make fuzz` sets POSTRENDER_FUZZ=N: N times each test's examples, from random seeds, finds kept
# in .hypothesis/ and replayed first next time. --hypothesis-seed=S replays the seed S in either.
FUZZ_FACTOR = int(os.environ.get("POSTRENDER_FUZZ") or 0)
settings.register_profile("suite", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, database=settings.get_profile("default").database,
                          deadline=None, print_blob=True)
settings.load_profile("fuzz" if FUZZ_FACTOR else "suite")


def _hypothesis_settings(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Each property test's own settings, made the suite's or fuzz's (see above)."""
    seeded = config.getoption("--hypothesis-seed", None) is not None
    done: Set[int] = set()
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)  # what @settings/@given set
        if own is None or id(test) in done:  # not a property test; a parametrized one's other ids
            continue
        done.add(id(test))
        if FUZZ_FACTOR:
            new = settings(own, derandomize=False, database=settings().database,
                           max_examples=own.max_examples * FUZZ_FACTOR)
        else:
            new = settings(own, derandomize=not seeded, database=None)
        test._hypothesis_internal_use_settings = new


def run_cli(args: List[str], stdin: bytes = b"", env: Optional[Dict[str, str]] = None,
            timeout: float = 120, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The real console entry point in a child process (as Helm runs it), in an environment
    without the caller's POSTRENDER_* and HELM_* settings (plus `env`)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTRENDER_", "HELM_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "postrender", *args], input=stdin, capture_output=True,
                          env=full_env, timeout=timeout, cwd=cwd)


class Ran(NamedTuple):
    """What `run_main` saw: the fields a test reads from a finished `subprocess.run`."""
    returncode: int
    stdout: bytes
    stderr: bytes


def run_main(args: Sequence[str], stdin: bytes = b"", env: Optional[Dict[str, str]] = None,
             cwd: Optional[Path] = None) -> Ran:
    """`postrender.cli.main(args)` in this process, as `run_cli` runs the console script: stdin a
    pipe holding `stdin`, stdout and stderr captured as bytes, no POSTRENDER_* or HELM_* variable
    but those in `env`, in `cwd` when given. For tests of messages, exit codes and output; what is
    about the process itself (signals, file descriptors, start-up, Helm) runs `run_cli`."""
    from postrender.cli import main

    saved_env, saved_cwd, saved_streams = dict(os.environ), os.getcwd(), (sys.stdin, sys.stdout, sys.stderr)
    out, err = io.BytesIO(), io.BytesIO()
    try:
        for name in [name for name in os.environ if name.startswith(("POSTRENDER_", "HELM_"))]:
            del os.environ[name]
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
        code = main(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, out.getvalue(), err.getvalue())
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def transform(data: bytes, spec: Union["Spec", str], workers: int = 1, batch: bool = True,
              report_changes: bool = True) -> Tuple[bytes, "Ledger"]:
    """Bytes in, bytes out: the tool's output and ledger for `data`, in this process (`workers=2`:
    the stream cut in two, its second half in a forked child; `batch=False`: every document read
    alone, the reference of `pipeline.Pipeline`; `report_changes=False`: the ledger keeps the
    warnings only, as without --report). `spec` is a Spec, or the text of a spec file. The tool's
    errors propagate."""
    from postrender.pipeline import transform_in_one_process
    from postrender.spec import Spec, parse_spec_text
    from postrender.twoprocess import transform_maybe_in_two

    if isinstance(spec, str):
        spec = Spec(volumes=parse_spec_text(spec, "spec.yaml"))
    if batch:
        output, ledger = transform_maybe_in_two(io.BytesIO(data), spec, workers=workers,
                                                report_changes=report_changes)
    else:
        output, ledger = transform_in_one_process(io.BytesIO(data), spec, batch=False, report_changes=report_changes)
    try:
        buffer = io.BytesIO()
        output.copy_to(buffer)
    finally:
        output.close()
    return buffer.getvalue(), ledger


def helm_env(tmp_path: Path, data_home: str = "helm-data", drop: tuple = ("HELM_", "POSTRENDER_")) -> Dict[str, str]:
    """The caller's environment without variables starting with `drop`, and Helm's homes, HOME and
    XDG_STATE_HOME all under tmp_path (HELM_DATA_HOME named `data_home`)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(drop) and k not in ("XDG_STATE_HOME", "XDG_DATA_HOME")}
    for var, sub in (("HELM_DATA_HOME", data_home), ("HELM_CONFIG_HOME", "helm-config"),
                     ("HELM_CACHE_HOME", "helm-cache"), ("HOME", "home"), ("XDG_STATE_HOME", "state")):
        env[var] = str(tmp_path / sub)
        os.makedirs(env[var], exist_ok=True)
    return env


def load_all(text: Any) -> List[Any]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return [doc for doc in YAML(typ="safe", pure=False).load_all(text) if doc is not None]


def by_name(docs: List[Any], kind: str, name: str) -> Dict[str, Any]:
    """The one object of that kind and name in the stream (none, or two, fail the test)."""
    found = [doc for doc in docs if isinstance(doc, dict) and doc.get("kind") == kind
             and (doc.get("metadata") or {}).get("name") == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} in the stream"
    return found[0]


def pod_templates(docs: List[Any]) -> Dict[str, Dict[str, Any]]:
    """Embedded worker pod templates, parsed, by 'configmap/key'."""
    found = {}
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if isinstance(value, str) and "kind: Pod" in value:
                    parsed = load_all(value)
                    if parsed and isinstance(parsed[0], dict) and parsed[0].get("kind") == "Pod":
                        found[f"{doc['metadata']['name']}/{key}"] = parsed[0]
    return found


def validate_k8s(doc: Dict[str, Any]) -> None:
    """Schema-validate one object (unknown fields rejected); raises on failure."""
    import kubernetes_validate

    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def write_spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# Under pytest-xdist (`make test`: -n auto --dist loadgroup) the tests of these modules run on one
# worker, so that their costly session fixtures (a signed plugin release) are built once, not once
# per worker. Every other test is independent: homes, ports and files under tmp_path.
ONE_WORKER = ("test_plugin_release",)


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    _hypothesis_settings(config, items)
    for item in items:
        if item.path.stem in ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"captured renders not found at {CAPTURES}")


def krm_failed(proc: Any, code: Optional[int] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """A failure in KRM mode: non-zero exit, a ResourceList with one error result and no items, the
    reason on stderr; returns (the ResourceList, its result)."""
    assert proc.returncode != 0, proc.stdout.decode()
    if code is not None:
        assert proc.returncode == code, proc.stderr.decode()
    stderr = proc.stderr.decode()
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    out = YAML(typ="safe").load(proc.stdout.decode())
    assert out["kind"] == "ResourceList"
    assert out["items"] == [], "a failed run hands back no object"
    (result,) = out["results"]
    assert result["severity"] == "error"
    assert result["message"].split("\n")[0] in stderr
    return out, result


# -- Helm end to end (test_helm_e2e, test_helm3_warnings, test_plugin_release) ---------------------------------
# The official Helm builds (`make tools`; HELM3/HELM4/HELM42 name others): Helm 3.17.3 runs the
# console script, the Helm 4 plugin is tested on 4.1.4 and 4.2.3 (the `helm4` fixture: each in turn).
HELM3 = Path(os.environ.get("HELM3") or ROOT / ".cache" / "bin" / "v31" / "helm")
HELM4 = Path(os.environ.get("HELM4") or ROOT / ".cache" / "bin" / "v35" / "helm")
HELM42 = Path(os.environ.get("HELM42") or ROOT / ".cache" / "bin" / "v36" / "helm")
CHART = FIXTURES / "chart"
CHART_CLAIM = "airflow-log-pvc"
CHART_LOGS = "/opt/airflow/logs"
CHART_SPEC = f"""\
volumes:
  - name: logs
    claimName: {CHART_CLAIM}
    mountPath: {CHART_LOGS}
    replace: true
    targets: [pod-template, scheduler, triggerer, api-server]
"""
BAD_CHART_SPEC = CHART_SPEC.replace("name: logs", "name: Bad_Name")


def need(binary: Path) -> Path:
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.skip(f"{binary} is missing: run `make tools` (or set HELM3/HELM4/HELM42) for the Helm end-to-end "
                    "tests")
    return binary


@pytest.fixture(params=[HELM4, HELM42], ids=["helm-4.1.4", "helm-4.2.3"])
def helm4(request) -> Path:
    return need(request.param)


def postrender_script() -> Path:
    """The console script of the environment running the tests (.venv/bin/postrender)."""
    for candidate in (Path(sys.executable).parent / "postrender", ROOT / ".venv" / "bin" / "postrender"):
        if candidate.is_file():
            return candidate
    pytest.fail("the postrender console script is not installed: run `make setup`")


def run_command(cmd: Sequence[Any], env: Dict[str, str], timeout: float = 300,
                **kw: Any) -> subprocess.CompletedProcess:
    """`cmd` (Helm, a launcher) in `env`, text in and out; stdin closed unless `input` is given."""
    if "input" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    return subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout, **kw)


def succeeded(proc: subprocess.CompletedProcess) -> str:
    """The stdout of a command that must have exited 0."""
    assert proc.returncode == 0, f"{proc.args} failed ({proc.returncode}):\n{proc.stderr}\n{proc.stdout}"
    return proc.stdout


def pod_spec(obj: Dict[str, Any]) -> Dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def volume_named(spec: Dict[str, Any], name: str) -> Dict[str, Any]:
    found = [v for v in spec.get("volumes") or [] if v["name"] == name]
    assert len(found) == 1, f"volume {name}: {spec.get('volumes')}"
    return found[0]


def mounts_at(container: Dict[str, Any], path: str) -> List[Dict[str, Any]]:
    return [m for m in container.get("volumeMounts") or [] if m["mountPath"] == path]


def assert_logs_on_claim(spec: Dict[str, Any], containers: List[str]) -> None:
    """The pod has one `logs` volume, on the chart's claim, and each named container mounts it at CHART_LOGS."""
    assert volume_named(spec, "logs") == {"name": "logs", "persistentVolumeClaim": {"claimName": CHART_CLAIM}}
    named = {c["name"]: c for c in spec["containers"]}
    for name in containers:
        assert [m["name"] for m in mounts_at(named[name], CHART_LOGS)] == ["logs"], named[name]


def assert_injected(out: str, release: str = "rel") -> List[Any]:
    """Checks a post-rendered stream of the fixture chart (both Helm versions) under CHART_SPEC."""
    objs = load_all(out)
    cm = by_name(objs, "ConfigMap", f"{release}-config")
    template_text = cm["data"]["pod_template_file.yaml"]
    assert template_text.startswith("\n---\n"), "the embedded template keeps its leading '\\n---'"
    pod = YAML(typ="safe").load(template_text)
    assert pod["kind"] == "Pod"
    assert_logs_on_claim(pod["spec"], ["base"])
    assert volume_named(pod["spec"], "config")["configMap"] == {"name": f"{release}-config"}

    scheduler = by_name(objs, "Deployment", f"{release}-scheduler")
    assert_logs_on_claim(pod_spec(scheduler), ["scheduler", "scheduler-log-groomer"])
    sched_mounts = pod_spec(scheduler)["containers"][0]["volumeMounts"]
    assert {"name": "config", "mountPath": "/opt/airflow/pod_templates/pod_template_file.yaml",
            "subPath": "pod_template_file.yaml", "readOnly": True} in sched_mounts

    triggerer = by_name(objs, "StatefulSet", f"{release}-triggerer")
    assert not [t for t in triggerer["spec"].get("volumeClaimTemplates") or [] if t["metadata"]["name"] == "logs"]
    assert_logs_on_claim(pod_spec(triggerer), ["triggerer", "triggerer-log-groomer"])

    api = by_name(objs, "Deployment", f"{release}-api-server")
    assert_logs_on_claim(pod_spec(api), ["api-server"])

    # The workloads that mount the changed ConfigMap roll: the sha256 of the new template text.
    want = hashlib.sha256(template_text.encode("utf-8")).hexdigest()
    for obj in (scheduler, triggerer, api):
        annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
        assert annotations.get("checksum/postrender") == want, obj["metadata"]["name"]
    return objs


# Pieces of YAML-like text (markers, keys of the objects the tool edits, flow and block syntax, tags,
# aliases, odd line breaks and characters) that random tests string together.
YAMLISH_TOKENS = [
    "---\n", "...\n", "--- |\n", "%YAML 1.1\n", "kind: Deployment\n", "kind: StatefulSet\n", "kind: ConfigMap\n",
    "kind: Pod\n", "kind: Job\n", "apiVersion: v1\n", "metadata:\n", "  name: x\n", "  labels: {component: worker}\n",
    "spec:\n", "  template:\n", "    spec:\n", "data:\n", "  k: |-\n", "    kind: Pod\n", "containers:", "volumes:",
    "volumeMounts:", "initContainers:", "volumeClaimTemplates:", "- name: logs\n", "- name: base\n",
    "mountPath: /opt/airflow/logs\n", "emptyDir: {}\n", "configMap: {name: x}\n", "persistentVolumeClaim:",
    "claimName: c\n", "  ", "    ", "- ", ": ", "? ", "[", "]", "{", "}", ", ", "&a ", "*a", "*b", "<<: *a\n",
    "!!python/object/apply:os.system [\"true\"]", "!!binary ", "!local ", "!!set ", "!!str ", "'", '"', "''", '"\\n"',
    "|\n", ">-\n", "|2\n", "# c\n", " # c", "\n", "\r\n", "\r", "\x85", "\u2028", "\u2029", "\t", "\ufeff", "\x00",
    "null", "~", "true", "yes", "0755", "1e3", "2001-12-14", "é", "\U0001f600", "a" * 40,
]

yamlish = st.lists(st.sampled_from(YAMLISH_TOKENS), max_size=40).map("".join)
