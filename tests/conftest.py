"""Shared helpers: run the real CLI, parse streams, validate against Kubernetes schemas."""
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import settings
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
STREAMS = FIXTURES / "streams"
CAPTURES = Path(os.environ.get("POSTRENDER_CAPTURES", ROOT.parent / "shared" / "airflow-renders"))
KUBERNETES_VERSION = "1.35.0"

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


def pytest_collection_modifyitems(config, items) -> None:
    seeded = config.getoption("--hypothesis-seed", None) is not None
    done = set()
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


needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"captured renders not found at {CAPTURES}")


class _Kept(io.BytesIO):
    def close(self) -> None:  # the wrapper around it closes it when collected: keep what it holds
        pass


def run_main(args: List[str], stdin: bytes) -> Tuple[int, bytes, str]:
    """`postrender ARGS` in this process: exit code, stdout bytes, stderr text."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = _Kept(), io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout = io.TextIOWrapper(out, write_through=True)
    sys.stderr = err
    try:
        from postrender.cli import main

        code = main(args)
        sys.stdout.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


# The official Helm builds (`make tools`; HELM3/HELM4/HELM42 name others): Helm 3.17.3 runs the
# console script, the Helm 4 plugin is tested on 4.1.4 and 4.2.3 (the `helm4` fixture: each in turn).
HELM3 = Path(os.environ.get("HELM3") or ROOT / ".cache" / "bin" / "v31" / "helm")
HELM4 = Path(os.environ.get("HELM4") or ROOT / ".cache" / "bin" / "v35" / "helm")
HELM42 = Path(os.environ.get("HELM42") or ROOT / ".cache" / "bin" / "v36" / "helm")


def need(binary: Path) -> Path:
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.skip(f"{binary} is missing: run `make tools` (or set HELM3/HELM4/HELM42) for the Helm end-to-end tests")
    return binary


@pytest.fixture(params=[HELM4, HELM42], ids=["helm-4.1.4", "helm-4.2.3"])
def helm4(request) -> Path:
    return need(request.param)
