"""How failures and warnings reach a Helm user (postrender.delivery), the log file they land in,
and which code the plugin's launcher (bin/postrender-plugin) agrees to run.

The log must not be turned against the user: it is opened without following a symlink or a hard
link, made 0600 in a 0700 directory of ours, and kept bounded. Each test points XDG_STATE_HOME at
its tmp_path. The launcher runs only the plugin it belongs to (symlinks to it followed), a source
checkout only when it is a git checkout of postrender, and only a Python 3.9 or newer.
"""
import os
import stat
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from postrender import delivery, helm_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HELM_PLUGIN_NAME", "postrender")
    monkeypatch.delenv("HELM_PLUGIN_DIR", raising=False)
    return tmp_path / "state" / "postrender"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_plugin_mode_only_for_our_name(monkeypatch):
    monkeypatch.setenv("HELM_PLUGIN_NAME", "diff")  # a Helm 3 CLI plugin running Helm with us
    assert not helm_env.running_as_helm_plugin()
    assert delivery.deliver_failure("boom") is None
    monkeypatch.setenv("HELM_PLUGIN_NAME", "postrender")
    assert helm_env.running_as_helm_plugin()


def test_failure_is_a_block_scalar_and_logged_privately(state):
    out = delivery.deliver_failure("error: bad\x1b[31m spec\n  second line")
    text = YAML(typ="safe").load(out)
    assert isinstance(text, str), "never an object: Helm must refuse it"
    log = state / "postrender.log"
    assert text.splitlines()[0] == "postrender: error: bad?[31m spec"
    assert text.splitlines()[-1] == f"(log: {log})"
    assert "second line" in log.read_text()
    assert mode(log) == 0o600
    assert mode(state) == 0o700
    assert mode(state.parent) == 0o700, "a missing parent is made private too"


def test_log_symlink_is_not_followed(state, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    state.mkdir(parents=True, mode=0o700)
    (state / "postrender.log").symlink_to(victim)
    out = delivery.deliver_failure("boom")
    assert victim.read_text() == "precious\n"
    assert (state / "postrender.log").is_symlink()
    assert "(no log file could be written)" in out


def test_symlinked_state_dir_is_not_followed(state, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    state.parent.mkdir(parents=True)
    state.symlink_to(elsewhere)
    assert "(no log file could be written)" in delivery.deliver_failure("boom")
    assert list(elsewhere.iterdir()) == []


def test_fifo_and_hard_link_are_refused(state, tmp_path):
    state.mkdir(parents=True, mode=0o700)
    os.mkfifo(state / "postrender.log")  # opening it for writing must not block
    assert "(no log file could be written)" in delivery.deliver_failure("boom")
    os.unlink(state / "postrender.log")
    other = tmp_path / "other"
    other.write_text("mine\n")
    os.link(other, state / "postrender.log")
    assert "(no log file could be written)" in delivery.deliver_failure("boom")
    assert other.read_text() == "mine\n"


def test_loose_permissions_are_tightened(state):
    state.mkdir(parents=True)
    os.chmod(state, 0o755)
    log = state / "postrender.log"
    log.write_text("old entry\n")
    os.chmod(log, 0o644)
    delivery.deliver_failure("boom")
    assert (mode(state), mode(log)) == (0o700, 0o600)
    assert log.read_text().startswith("old entry\n"), "appended, not replaced"


def test_log_rotates_past_its_limit(state):
    state.mkdir(parents=True, mode=0o700)
    log = state / "postrender.log"
    log.write_bytes(b"x" * (delivery._LOG_ROTATE_BYTES + 1))
    delivery.deliver_failure("boom")
    assert (state / "postrender.log.1").stat().st_size == delivery._LOG_ROTATE_BYTES + 1
    assert log.stat().st_size < 1000 and "boom" in log.read_text()
    assert mode(log) == 0o600


def test_one_entry_is_bounded(state):
    delivery.deliver_failure("y" * (1 << 20))
    size = (state / "postrender.log").stat().st_size
    assert size <= delivery._LOG_ENTRY_BYTES
    assert (state / "postrender.log").read_text().endswith("(cut: entry over 64 KiB)\n")


def test_warning_goes_to_the_log_in_plugin_mode_only(state, monkeypatch):
    delivery.deliver_warning("postrender: warning: careful")
    assert "careful" in (state / "postrender.log").read_text()
    monkeypatch.setenv("HELM_PLUGIN_NAME", "other")
    delivery.deliver_warning("postrender: warning: unseen")
    assert "unseen" not in (state / "postrender.log").read_text()


def test_note_once(state):
    assert delivery.note_once("pure-python-x/y", "note: slow mode")
    assert not delivery.note_once("pure-python-x/y", "note: slow mode")
    assert delivery.note_once("other", "note: another")
    text = (state / "postrender.log").read_text()
    assert text.count("slow mode") == 1 and text.count("another") == 1
    assert mode(state / "noted-pure-python-x_y") == 0o600


def test_note_once_without_a_log_does_not_mark(state, tmp_path):
    state.mkdir(parents=True, mode=0o700)
    (state / "postrender.log").symlink_to(tmp_path / "victim")
    assert not delivery.note_once("k", "note")
    assert not (state / "noted-k").exists(), "it will be said once a log can be written"


# ---------------------------------------------------------------- the shell launcher, run directly

LAUNCHER = ROOT / "bin" / "postrender-plugin"
RENDER = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"


def run_launcher(launcher: Path, tmp_path: Path, *args: str, stdin: bytes = b"", **env: str):
    """The launcher in a new session (no terminal), its log under tmp_path/state."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "POSTRENDER_", "XDG_"))}
    full.update(XDG_STATE_HOME=str(tmp_path / "state"), **env)
    return subprocess.run([str(launcher), *args], input=stdin, capture_output=True, env=full, timeout=120,
                          start_new_session=True)


def plant(folder: Path, marker: Path) -> None:
    """Make `folder` look like a checkout of postrender whose code and .venv write `marker` if run."""
    (folder / "postrender").mkdir(parents=True)
    (folder / "postrender" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    venv_python = folder / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    venv_python.chmod(0o755)
    for name in ("pyproject.toml", "plugin.yaml"):
        (folder / name).write_bytes((ROOT / name).read_bytes())
    (folder / "bin").mkdir()


def test_symlinked_launcher_runs_its_own_plugin_not_the_links_folder(tmp_path):
    """A symlink to the launcher inside a folder with a postrender/ package and a .venv (even a
    .git) runs the plugin the launcher belongs to: nothing of that folder."""
    decoy, marker = tmp_path / "decoy", tmp_path / "decoy-code-ran"
    plant(decoy, marker)
    (decoy / ".git").mkdir()
    (decoy / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (decoy / "bin" / "postrender-plugin").symlink_to(LAUNCHER)
    hop = tmp_path / "elsewhere" / "run"  # a chain of two links, the second relative
    hop.parent.mkdir()
    hop.symlink_to(os.path.relpath(decoy / "bin" / "postrender-plugin", hop.parent))
    for launcher in (decoy / "bin" / "postrender-plugin", hop):
        proc = run_launcher(launcher, tmp_path, "--logs-claim", "airflow-log-pvc", stdin=RENDER.read_bytes())
        assert proc.returncode == 0, proc.stderr.decode()
        assert b"claimName: airflow-log-pvc" in proc.stdout
        assert not marker.exists()


def test_launcher_outside_a_checkout_runs_nothing_there(tmp_path):
    """A copy of the launcher in a folder that is not a git checkout of postrender (here: no .git)
    runs neither that folder's code and .venv nor a `postrender` console script on PATH."""
    fake, marker = tmp_path / "fake", tmp_path / "fake-code-ran"
    plant(fake, marker)
    launcher = fake / "bin" / "postrender-plugin"
    launcher.write_bytes(LAUNCHER.read_bytes())
    launcher.chmod(0o755)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "postrender").write_text(f"#!{fake / '.venv' / 'bin' / 'python'}\n")
    (scripts / "postrender").chmod(0o755)
    proc = run_launcher(launcher, tmp_path, "--logs-claim", "x", PATH=f"{scripts}:{os.environ['PATH']}",
                        HELM_PLUGIN_NAME="postrender")
    assert proc.returncode == 0, "plugin mode: the reason goes out on stdout"
    reason = YAML(typ="safe").load(proc.stdout)
    assert f"{fake} is neither a release of the postrender plugin" in reason
    assert "helm plugin install" in reason
    assert not marker.exists()


def test_launcher_log_refuses_a_hard_link_and_a_symlink(tmp_path):
    state = tmp_path / "state" / "postrender"
    state.mkdir(parents=True, mode=0o700)
    launcher = tmp_path / "lone" / "bin" / "postrender-plugin"  # not a plugin: the launcher fails, and logs
    launcher.parent.mkdir(parents=True)
    launcher.write_bytes(LAUNCHER.read_bytes())
    launcher.chmod(0o755)
    precious = tmp_path / "precious"
    precious.write_text("mine\n")
    os.link(precious, state / "postrender.log")
    proc = run_launcher(launcher, tmp_path)
    assert proc.returncode == 1 and b"no log file could be written" in proc.stderr, proc.stderr
    assert precious.read_text() == "mine\n"
    os.unlink(state / "postrender.log")
    (state / "postrender.log").symlink_to(precious)
    proc = run_launcher(launcher, tmp_path)
    assert b"no log file could be written" in proc.stderr and precious.read_text() == "mine\n"
    os.unlink(state / "postrender.log")
    proc = run_launcher(launcher, tmp_path)
    assert b"log: " in proc.stderr and "is neither a release" in (state / "postrender.log").read_text()


def fake_release(tmp_path: Path) -> Path:
    """A plugin folder the launcher takes for a release (lib/postrender exists): its launcher."""
    launcher = tmp_path / "plugin" / "bin" / "postrender-plugin"
    launcher.parent.mkdir(parents=True)
    (tmp_path / "plugin" / "lib" / "postrender").mkdir(parents=True)
    launcher.write_bytes(LAUNCHER.read_bytes())
    launcher.chmod(0o755)
    return launcher


def fake_interpreter(path: Path, script: str) -> Path:
    """A stand-in interpreter; every run appends its arguments' count to path + '.runs'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho $# >>'{path}.runs'\n{script}")
    path.chmod(0o755)
    return path


PYTHON27 = """\
case $1 in
  -I) echo "Unknown option: -I" >&2; echo "usage: python2.7 [option] ..." >&2; exit 2 ;;
  *) printf 2.7.18 ;;
esac
"""


def test_launcher_names_an_interpreter_too_old_to_run(tmp_path):
    """POSTRENDER_PYTHON=python2.7 refuses -I before anything runs: the launcher says which
    interpreter, which version and what it said, in the log and (plugin mode) in Helm's error."""
    python = fake_interpreter(tmp_path / "bin" / "python2.7", PYTHON27)
    proc = run_launcher(fake_release(tmp_path), tmp_path, "--logs-claim", "x", POSTRENDER_PYTHON=str(python),
                        HELM_PLUGIN_NAME="postrender")
    assert proc.returncode == 0
    reason = YAML(typ="safe").load(proc.stdout)
    assert isinstance(reason, str), "a block scalar: Helm 4 refuses it and quotes it"
    first = reason.splitlines()[0]
    assert first == (f"postrender plugin: cannot run: POSTRENDER_PYTHON={python} is Python 2.7.18: too old: "
                     "3.9 or newer is needed (it said: Unknown option: -I).")
    assert first in (tmp_path / "state" / "postrender" / "postrender.log").read_text()


def runs(program: Path) -> int:
    runs = Path(f"{program}.runs")
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def test_launcher_takes_a_python3_n_at_its_name(tmp_path):
    """python3.N (N >= 9) is run once, for postrender: no extra start-up to ask its version. Any
    other name is asked first; when it answers with another executable (a wrapper such as pyenv's
    shim), that one runs postrender, not the wrapper again."""
    real = fake_interpreter(tmp_path / "real" / "python3.12", "exit 0\n")
    asked = fake_interpreter(tmp_path / "asked" / "python", 'case $4 in *version_info*) echo True ;; esac\n')
    target = fake_interpreter(tmp_path / "versions" / "python3.13", "exit 0\n")
    shim = fake_interpreter(tmp_path / "shim" / "python3",
                            f'case $4 in *version_info*) printf "True\\n{target}\\n" ;; esac\n')
    for python, want in ((real, {real: 1}), (asked, {asked: 2}), (shim, {shim: 1, target: 1})):
        proc = run_launcher(fake_release(tmp_path / python.parent.name), tmp_path, POSTRENDER_PYTHON=str(python))
        assert proc.returncode == 0, proc.stderr
        assert {program: runs(program) for program in want} == want, python
