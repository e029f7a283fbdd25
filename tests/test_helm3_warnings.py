"""Warnings reach the user under Helm 3, which drops a post-renderer's stderr when it succeeds.

Helm 3.17.3 gives a post-renderer no variable of its own, so postrender goes by the process
tree: stderr not a terminal and a `helm` binary as the parent (through a wrapper shell). Then each
warning also goes to the terminal, if there is one, and to the log file, as in Helm 4 plugin mode.
The render here triggers the StatefulSet warning: the fixture chart's triggerer has a `logs`
volumeClaimTemplate, and the spec replaces it.
"""
import fcntl
import os
import select
import subprocess
import termios
from pathlib import Path

import pytest

from conftest import CHART, HELM3, need, postrender_script, run_cli
from conftest import helm_env as helm_homes  # postrender.helm_env is the module under test here
from conftest import run_command as run
from conftest import succeeded as ok
from postrender import helm_env

TRIGGERER = """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [triggerer]
"""
WARNING = "StatefulSet/rel-triggerer: removed volumeClaimTemplate 'logs'"


@pytest.fixture
def env(tmp_path):
    return helm_homes(tmp_path)


@pytest.fixture
def trigger_spec(tmp_path):
    path = tmp_path / "triggerer.yaml"
    path.write_text(TRIGGERER)
    return path


def log_of(env):
    return Path(env["XDG_STATE_HOME"]) / "postrender" / "postrender.log"


def helm3_template(post_renderer, spec):
    return [need(HELM3), "template", "rel", CHART, "--post-renderer", post_renderer,
            "--post-renderer-args=-c", f"--post-renderer-args={spec}"]


@pytest.mark.helm
def test_the_warning_reaches_the_log_without_a_terminal(env, trigger_spec):
    proc = run(helm3_template(postrender_script(), trigger_spec), env, start_new_session=True)
    out = ok(proc)
    assert "name: rel-triggerer" in out and "volumeClaimTemplates" not in out
    assert WARNING not in proc.stderr, "Helm 3 dropped postrender's stderr (why the log is needed)"
    log = log_of(env)
    assert WARNING in log.read_text()
    assert "--cascade=orphan" in log.read_text(), "the whole warning, with what to do"


@pytest.mark.helm
def test_the_warning_reaches_the_terminal(env, trigger_spec):
    """Helm run in a terminal (a pseudo-terminal made the controlling terminal of Helm's session),
    its stdout and stderr captured as a script would."""
    master, slave = os.openpty()

    def controlling_terminal():  # in the child, after setsid (start_new_session)
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    try:
        proc = subprocess.run([str(c) for c in helm3_template(postrender_script(), trigger_spec)], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                              start_new_session=True, preexec_fn=controlling_terminal)
        ok(proc)
        seen = b""
        while select.select([master], [], [], 2)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        os.close(slave)
    assert WARNING.encode() in seen, seen
    assert WARNING in log_of(env).read_text()


@pytest.mark.helm
def test_through_a_wrapper_script_and_inside_another_helm_plugin(env, trigger_spec, tmp_path):
    """A wrapper that runs postrender without `exec` (its parent is then the shell), under a
    Helm 3 CLI plugin's HELM_PLUGIN_NAME: still Helm 3, the manifests on stdout, the warning logged."""
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text(f'#!/bin/sh\n"{postrender_script()}" "$@"\nexit $?\n')
    wrapper.chmod(0o755)
    env.update(HELM_PLUGIN_NAME="diff", HELM_PLUGIN_DIR=str(tmp_path / "diff-plugin"))
    out = ok(run(helm3_template(wrapper, trigger_spec), env, start_new_session=True))
    assert "name: rel-triggerer" in out
    assert WARNING in log_of(env).read_text()


def test_not_started_by_helm_the_warning_stays_on_stderr(tmp_path):
    """Run from a script (stderr a pipe, the parent Python): stderr is read, no log file is written."""
    spec = tmp_path / "triggerer.yaml"
    spec.write_text(TRIGGERER)
    render = subprocess.run([str(need(HELM3)), "template", "rel", str(CHART)], capture_output=True, timeout=300,
                            env=dict(os.environ, HOME=str(tmp_path), HELM_DATA_HOME=str(tmp_path / "h"),
                                     HELM_CONFIG_HOME=str(tmp_path / "h"), HELM_CACHE_HOME=str(tmp_path / "h")))
    assert render.returncode == 0, render.stderr
    state = tmp_path / "state"
    proc = run_cli(["-c", str(spec)], render.stdout, env={"XDG_STATE_HOME": str(state)})
    assert proc.returncode == 0, proc.stderr.decode()
    assert WARNING in proc.stderr.decode()
    assert not (state / "postrender" / "postrender.log").exists()


@pytest.mark.parametrize("name, helm", [
    ("helm", True), ("helm3", True), ("helm-3.17.3", True), ("helm_v3", True), ("helm.v3", True),
    ("helmfile", False), ("helm-docs", False), ("helmsman", False), ("python3", False), ("", False),
])
def test_which_binaries_count_as_helm(name, helm):
    assert helm_env.is_helm_binary(name) is helm


def test_the_parent_is_looked_up(monkeypatch):
    """This test process's parent is no helm; a faked process table with helm above a shell is."""
    helm_env.started_by_helm.cache_clear()
    assert helm_env.started_by_helm() is False
    table = {100: ({"sh"}, 50), 50: ({"helm"}, 1)}
    monkeypatch.setattr(helm_env.os, "getppid", lambda: 100)
    monkeypatch.setattr(helm_env, "_process", lambda pid: table.get(pid, (set(), 0)))
    helm_env.started_by_helm.cache_clear()
    try:
        assert helm_env.started_by_helm() is True
        table[100] = ({"make"}, 50)  # not a wrapper shell: helm above it is someone else's
        helm_env.started_by_helm.cache_clear()
        assert helm_env.started_by_helm() is False
    finally:
        helm_env.started_by_helm.cache_clear()
