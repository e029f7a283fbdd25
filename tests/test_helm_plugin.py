"""How failures and warnings reach a Helm user (postrender.delivery), and the log file they land in.

The log must not be turned against the user: it is opened without following a symlink, made 0600
in a 0700 directory of ours, and kept bounded. Each test points XDG_STATE_HOME at its tmp_path.
"""
import os
import stat
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
