"""The Helm 4 plugin release, end to end, with real Helm 4 and the real tarball.

One session fixture builds dist-like output with tools/build_plugin.py (what `make plugin` runs),
signed with a throwaway gpg key made in a temporary GNUPGHOME (HELM_SIGN_KEY: its key id). The
tarball is then served over HTTP on 127.0.0.1 and installed with verification on, into a
HELM_DATA_HOME whose path has a space, with pip's indexes pointing at a closed port and no
`postrender` on PATH: the plugin runs only what it carries. Renders are compared byte for byte with
the console script run as a Helm 4 plugin. The verified install, the render and the failures that
must reach Helm's error run on Helm 4.1.4 and 4.2.3 (the `helm4` fixture), the rest on 4.1.4.
"""
import functools
import http.server
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import BAD_CHART_SPEC, CHART, CHART_SPEC, HELM3, HELM4, assert_injected, helm_env, need, write_spec
from conftest import run_command as run
from conftest import succeeded as ok

pytestmark = pytest.mark.helm

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.search(r'^__version__ = "([^"]+)"', (ROOT / "postrender" / "__init__.py").read_text(), re.M).group(1)
TGZ_NAME = f"postrender-{VERSION}.tgz"
KEY_NAME = "postrender test key"
KEY_UID = f"{KEY_NAME} <test@example.invalid>"
CONSOLE = Path(sys.executable).parent / "postrender"
PYENV = Path.home() / ".pyenv" / "versions"
MARKERS = ("venv.py", "pip/__main__.py", "click/__init__.py", "ruamel/__init__.py", "sitecustomize.py",
           "postrender/__init__.py", "usercustomize.py", "_ruamel_yaml.py", "ruamel/yaml/__init__.py")


class Release:
    def __init__(self, root: Path):
        self.root = root
        self.dist = root / "dist"
        self.tgz = self.dist / TGZ_NAME
        self.prov = self.dist / (TGZ_NAME + ".prov")
        self.pubring = root / "pubring.gpg"
        self.secring = root / "secring.gpg"
        self.key_id = ""
        self.build_stdout = ""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def build(dest: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "build_plugin.py"), "--dest", str(dest),
                           "--helm", str(HELM4)], env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Release:
    need(HELM4)
    if not shutil.which("gpg"):
        pytest.fail("gpg is missing: `make test` installs it (Debian package gnupg)")
    rel = Release(tmp_path_factory.mktemp("release"))
    home = rel.root / "gnupg"
    home.mkdir(mode=0o700)
    genv = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", KEY_UID,
                    "rsa2048", "sign", "never"], env=genv, check=True, capture_output=True, timeout=300)
    for flag, path in (("--export", rel.pubring), ("--export-secret-keys", rel.secring)):
        path.write_bytes(subprocess.run(["gpg", "--batch", flag], env=genv, check=True, capture_output=True).stdout)
    listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys"], env=genv, check=True,
                             capture_output=True, text=True).stdout
    rel.key_id = re.search(r"(?m)^pub:[^:]*:[^:]*:[^:]*:([0-9A-F]{16}):", listing).group(1)
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=genv, capture_output=True)  # gpg started one
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    env.update(HELM_SIGN_KEY=rel.key_id, HELM_KEYRING=str(rel.secring))  # Helm itself wants the user id
    proc = build(rel.dist, env)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    rel.build_stdout = proc.stdout
    return rel


@pytest.fixture(scope="session")
def server(release):
    """release.dist over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(release.dist))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def spec(tmp_path):
    return write_spec(tmp_path, CHART_SPEC)


@pytest.fixture
def henv(tmp_path):
    """Helm's homes (HELM_DATA_HOME with a space), HOME and XDG_STATE_HOME under tmp_path; pip's indexes
    unreachable; no postrender console script on PATH."""
    e = helm_env(tmp_path, "helm data", drop=("HELM_", "POSTRENDER_", "PIP_", "PYTHON"))
    dead = f"http://127.0.0.1:{closed_port()}/simple"
    e.update(PIP_INDEX_URL=dead, PIP_EXTRA_INDEX_URL=dead, PIP_NO_INDEX="1", PIP_FIND_LINKS="")
    path = [d for d in e.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "postrender").exists()]
    e["PATH"] = os.pathsep.join(path)
    assert shutil.which("postrender", path=e["PATH"]) is None
    return e


def install(env, source, keyring, *extra, helm=HELM4):
    return run([helm, "plugin", "install", source, "--keyring", keyring, *extra], env, timeout=120)


def installed(release, server, env, helm=HELM4):
    proc = install(env, f"{server}/{TGZ_NAME}", release.pubring, helm=helm)
    ok(proc)
    assert "Plugin Hash Verified" in proc.stdout and "Installed plugin: postrender" in proc.stdout, proc.stdout
    return Path(env["HELM_DATA_HOME"]) / "plugins" / "postrender"


def template(env, spec, plugin="postrender", helm=HELM4, **kw):
    return run([helm, "template", "rel", CHART, "--post-renderer", plugin,
                "--post-renderer-args=-c", f"--post-renderer-args={spec}"], env, **kw)


@pytest.fixture
def console_plugin(tmp_path, henv):
    """The console script of this checkout's venv as a Helm 4 post-renderer named `console`: the reference."""
    d = tmp_path / "console-plugin"
    (d / "bin").mkdir(parents=True)
    (d / "plugin.yaml").write_text("apiVersion: v1\nname: console\nversion: 0.0.1\ntype: postrenderer/v1\n"
                                   "runtime: subprocess\nruntimeConfig:\n  platformCommand:\n"
                                   "    - command: \"${HELM_PLUGIN_DIR}/bin/run\"\n")
    (d / "bin" / "run").write_text(f"#!/bin/sh\nexec '{CONSOLE}' \"$@\"\n")
    (d / "bin" / "run").chmod(0o755)
    ok(run([HELM4, "plugin", "install", d], henv))
    return "console"


def reference(henv, spec, console_plugin, helm=HELM4):
    out = ok(template(henv, spec, console_plugin, helm=helm))
    assert_injected(out)
    return out


def log_text(env):
    log = Path(env["XDG_STATE_HOME"]) / "postrender" / "postrender.log"
    return log.read_text() if log.exists() else ""


# ---------------------------------------------------------------- the artifact


def test_build_is_signed_and_carries_everything(release):
    assert release.tgz.is_file() and release.prov.is_file(), release.build_stdout
    assert "sha256:" in release.build_stdout
    assert f"signed with {KEY_UID!r}" in release.build_stdout, "the key id was resolved to the key's user id"
    with tarfile.open(release.tgz) as tar:
        members = {m.name: m for m in tar.getmembers()}
        plugin_yaml = YAML(typ="safe").load(tar.extractfile("postrender/plugin.yaml"))
        files = {name: tar.extractfile(m).read() for name, m in members.items() if m.isfile()}
    assert plugin_yaml["version"] == VERSION and plugin_yaml["type"] == "postrenderer/v1"
    assert "platformHooks" not in plugin_yaml["runtimeConfig"], "no install hooks"
    tops = {name.split("/")[1] for name in members if name.count("/") >= 1}
    assert tops == {"bin", "lib", "licenses", "plugin.yaml"}
    assert all(top < "plugin.yaml" for top in tops - {"plugin.yaml"}), "Helm copies plugin.yaml last"
    assert members["postrender/bin/postrender-plugin"].mode == 0o755
    for src in (ROOT / "postrender").glob("*.py"):
        assert files[f"postrender/lib/postrender/{src.name}"] == src.read_bytes(), src.name
    assert not [n for n in members if "__pycache__" in n or n.endswith((".pyc", ".dist-info")) or ".venv" in n]
    # ruamel.yaml.clib for every supported CPython and platform, each named by its ABI tag.
    machine = {b"\x3e\x00": "x86_64", b"\xb7\x00": "aarch64"}
    for minor in range(9, 15):
        for arch in ("x86_64", "aarch64"):
            so = files[f"postrender/lib/_ruamel_yaml.cpython-3{minor}-{arch}-linux-gnu.so"]
            assert so[:4] == b"\x7fELF" and machine[so[18:20]] == arch
    assert b'__version__ = "8.1.8"' in files["postrender/lib/py39/click/__init__.py"]
    assert "postrender/lib/click/core.py" in files and "postrender/lib/ruamel/yaml/main.py" in files
    vendored = files["postrender/lib/VENDORED.txt"].decode()
    lock = (ROOT / "requirements" / "plugin.lock").read_text()
    sums = re.findall(r"sha256:([0-9a-f]{64})", vendored)
    assert len(sums) == 3 + 12 and all(s in lock for s in sums)
    assert {m.mtime for m in members.values()} == {next(iter(members.values())).mtime}, "one fixed mtime"


def test_two_builds_are_identical_and_unsigned_says_so(release, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    proc = build(tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert "UNSIGNED" in proc.stdout
    assert not (tmp_path / (TGZ_NAME + ".prov")).exists()
    assert (tmp_path / TGZ_NAME).read_bytes() == release.tgz.read_bytes(), "reproducible byte for byte"
    # Helm 4 verifies by default: an unsigned tarball is refused.
    henv = dict(env, HELM_DATA_HOME=str(tmp_path / "data"), HELM_CONFIG_HOME=str(tmp_path / "cfg"),
                HELM_CACHE_HOME=str(tmp_path / "cache"))
    refused = install(henv, tmp_path / TGZ_NAME, release.pubring)
    assert refused.returncode != 0 and "Installed plugin" not in refused.stdout


def build_tool():
    spec = importlib.util.spec_from_file_location("build_plugin", ROOT / "tools" / "build_plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sign_key_that_no_key_has_is_named_with_the_keyrings_user_ids(release, tmp_path, monkeypatch, capsys):
    """Helm alone would say `private key not found`."""
    monkeypatch.setenv("HELM_KEYRING", str(release.secring))
    for key in ("nobody@example.invalid", "DEADBEEF01234567"):
        monkeypatch.setenv("HELM_SIGN_KEY", key)
        assert build_tool().main(["--dest", str(tmp_path), "--helm", str(HELM4)]) == 1
        err = capsys.readouterr().err
        assert f"HELM_SIGN_KEY={key!r}: no key in HELM_KEYRING={release.secring} has a user id containing it" in err
        assert KEY_UID in err, "the keyring's user ids, to choose from"
    assert list(tmp_path.iterdir()) == []


def test_failed_build_keeps_the_previous_tarball(release, tmp_path, monkeypatch, capsys):
    dest = tmp_path / "dist"
    dest.mkdir()
    for path in (release.tgz, release.prov):
        shutil.copyfile(path, dest / path.name)
    helm = tmp_path / "failing-helm"  # writes half a tarball where it was told to, then fails
    helm.write_text('#!/bin/sh\nwhile [ "$1" != --destination ]; do shift; done\n'
                    f'printf half > "$2/{TGZ_NAME}"\necho "Error: signing failed" >&2\nexit 1\n')
    helm.chmod(0o755)
    monkeypatch.setenv("HELM_SIGN_KEY", release.key_id)
    monkeypatch.setenv("HELM_KEYRING", str(release.secring))
    assert build_tool().main(["--dest", str(dest), "--helm", str(helm)]) == 1
    assert "Error: signing failed" in capsys.readouterr().err
    assert sorted(p.name for p in dest.iterdir()) == [TGZ_NAME, TGZ_NAME + ".prov"]
    assert (dest / TGZ_NAME).read_bytes() == release.tgz.read_bytes()
    assert (dest / (TGZ_NAME + ".prov")).read_bytes() == release.prov.read_bytes()


# ---------------------------------------------------------------- install and run


def test_install_over_http_verified_and_render_matches_console_script(release, server, henv, spec, console_plugin,
                                                                       helm4):
    plugin_dir = installed(release, server, henv, helm=helm4)
    assert " " in str(plugin_dir)
    listing = ok(run([helm4, "plugin", "list"], henv))
    assert re.search(r"(?m)^postrender\s+%s\s+postrenderer/v1\s+v1\s+signed\b" % re.escape(VERSION), listing), listing
    want = reference(henv, spec, console_plugin, helm=helm4)
    for _ in range(2):  # the first run byte-compiles into the plugin dir, the second uses that
        assert ok(template(henv, spec, helm=helm4)) == want
    assert not (plugin_dir / ".venv").exists()
    assert "pure-Python" not in log_text(henv), "the bundled C extension is used"
    assert not list(plugin_dir.glob("*.log"))


def test_hostile_working_directory_runs_nothing(release, server, henv, spec, console_plugin, tmp_path):
    installed(release, server, henv)
    want = reference(henv, spec, console_plugin)
    cwd = tmp_path / "hostile"
    found = tmp_path / "markers"
    found.mkdir()
    for rel in MARKERS:
        path = cwd / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"open({str(found / rel.replace('/', '_'))!r}, 'w').close()\n")
    env = dict(henv, PYTHONPATH=str(cwd), PYTHONSTARTUP=str(cwd / "sitecustomize.py"), PYTHONUSERBASE=str(cwd),
               PYTHONHOME=str(cwd))  # would break any interpreter that honoured it
    assert ok(template(env, spec, cwd=cwd)) == want
    assert list(found.iterdir()) == []
    # The same files imported from the cwd by a non-isolated interpreter do write markers (the check works).
    subprocess.run([sys.executable, "-c", "import sitecustomize"], cwd=cwd, env=dict(os.environ, PYTHONPATH=""))
    assert [p.name for p in found.iterdir()] == ["sitecustomize.py"]


def test_launcher_finds_its_dir_from_its_own_path(release, server, henv, tmp_path):
    """HELM_PLUGIN_DIR is not trusted, and a plugin dir with a space, *, ? and [ works."""
    plugin_dir = installed(release, server, henv)
    odd = tmp_path / "odd [x] *?"
    shutil.copytree(plugin_dir, odd)
    evil = tmp_path / "evil"
    (evil / "lib" / "postrender").mkdir(parents=True)
    (evil / "lib" / "postrender" / "__init__.py").write_text(f"open({str(tmp_path / 'pwned')!r}, 'w').close()\n")
    stream = ok(run([HELM4, "template", "rel", CHART], henv))
    env = dict(henv, HELM_PLUGIN_DIR=str(evil))
    proc = run([odd / "bin" / "postrender-plugin", "--logs-claim", "airflow-log-pvc"], env, input=stream,
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "claimName: airflow-log-pvc" in proc.stdout
    assert not (tmp_path / "pwned").exists()
    # A symlink to the launcher from a folder that holds a postrender/ package and a .venv runs the
    # release the link points into, none of that folder.
    (evil / "postrender").mkdir()
    (evil / "postrender" / "__init__.py").write_text((evil / "lib" / "postrender" / "__init__.py").read_text())
    (evil / ".venv" / "bin").mkdir(parents=True)
    (evil / ".venv" / "bin" / "python").write_text(f"#!/bin/sh\ntouch '{tmp_path / 'pwned'}'\n")
    (evil / ".venv" / "bin" / "python").chmod(0o755)
    (evil / "bin").mkdir()
    (evil / "bin" / "postrender-plugin").symlink_to(odd / "bin" / "postrender-plugin")
    proc = run([evil / "bin" / "postrender-plugin", "--logs-claim", "airflow-log-pvc"], env, input=stream,
               cwd=tmp_path)
    assert proc.returncode == 0 and "claimName: airflow-log-pvc" in proc.stdout, proc.stderr
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.12", "3.13"])
def test_other_cpythons_use_their_bundled_extension(release, server, henv, spec, console_plugin, version):
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no CPython {version} under {PYENV}")
    installed(release, server, henv)
    want = reference(henv, spec, console_plugin)
    env = dict(henv, POSTRENDER_PYTHON=str(found[-1]))
    assert ok(template(env, spec)) == want
    assert "pure-Python" not in log_text(env), f"CPython {version} found its _ruamel_yaml extension"


def test_python_too_old_is_reported(release, server, henv, spec):
    found = sorted(PYENV.glob("3.8.*/bin/python3.8"))
    if not found:
        pytest.skip(f"no CPython 3.8 under {PYENV}")
    installed(release, server, henv)
    proc = template(dict(henv, POSTRENDER_PYTHON=str(found[-1])), spec, start_new_session=True)
    assert proc.returncode != 0
    assert "too old: 3.9 or newer is needed" in proc.stderr, proc.stderr


def test_missing_interpreter_is_reported(release, server, henv, spec, tmp_path):
    installed(release, server, henv)
    proc = template(dict(henv, POSTRENDER_PYTHON=str(tmp_path / "no-such-python3")), spec, start_new_session=True)
    assert proc.returncode != 0 and "kind:" not in proc.stdout
    assert "POSTRENDER_PYTHON" in proc.stderr and "no-such-python3" in proc.stderr, proc.stderr
    assert "no-such-python3" in log_text(henv)


def test_pure_python_mode_works_and_says_so_once(release, server, henv, spec, console_plugin, tmp_path):
    """With no bundled C extension for the interpreter (here: removed), same output, one note in the log."""
    plugin_dir = installed(release, server, henv)
    want = reference(henv, spec, console_plugin)
    plugins = tmp_path / "pure plugins"
    shutil.copytree(plugin_dir, plugins / "postrender")
    for so in (plugins / "postrender" / "lib").glob("_ruamel_yaml*.so"):
        so.unlink()
    env = dict(henv, HELM_PLUGINS=str(plugins))
    for _ in range(2):
        assert ok(template(env, spec)) == want
    assert log_text(env).count("pure-Python mode") == 1
    # And on real Airflow renders, byte for byte the C mode's output.
    launcher_c = plugin_dir / "bin" / "postrender-plugin"
    launcher_pure = plugins / "postrender" / "bin" / "postrender-plugin"
    streams = sorted((ROOT / "tests" / "fixtures" / "streams").glob("*.yaml"))[:2] + [
        ROOT / "examples" / "airflow-1.19.0-helm3.yaml"]
    for stream in streams:
        for args in (["--logs-claim", "airflow-log-pvc"], ["--volume", "data=airflow-data:/opt/airflow/data"]):
            c = run([launcher_c, *args], henv, input=stream.read_text())
            pure = run([launcher_pure, *args], henv, input=stream.read_text())
            assert (pure.returncode, pure.stdout, pure.stderr) == (c.returncode, c.stdout, c.stderr), stream.name


# ---------------------------------------------------------------- refusals


def tampered_copy(release, where: Path) -> Path:
    where.mkdir()
    tgz = where / TGZ_NAME
    data = bytearray(release.tgz.read_bytes())
    data[len(data) // 2] ^= 0x01
    tgz.write_bytes(bytes(data))
    shutil.copyfile(release.prov, where / (TGZ_NAME + ".prov"))
    return tgz


def test_tampered_or_unsigned_tarball_is_refused(release, henv, tmp_path):
    tgz = tampered_copy(release, tmp_path / "tampered")
    handler = functools.partial(QuietHandler, directory=str(tgz.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        proc = install(henv, f"http://127.0.0.1:{httpd.server_address[1]}/{TGZ_NAME}", release.pubring)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert proc.returncode != 0, proc.stdout
    assert "Installed plugin" not in proc.stdout
    assert "postrender" not in ok(run([HELM4, "plugin", "list"], henv))
    assert not (Path(henv["HELM_DATA_HOME"]) / "plugins" / "postrender").exists()
    # No .prov beside the tarball: refused too.
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copyfile(release.tgz, bare / TGZ_NAME)
    assert install(henv, bare / TGZ_NAME, release.pubring).returncode != 0
    # Signed by a key the keyring does not hold: refused.
    assert install(henv, release.tgz, tmp_path / "empty.gpg").returncode != 0


# ---------------------------------------------------------------- failures reach the user, safely


def test_failure_reaches_user_and_log_symlink_is_not_followed(release, server, henv, tmp_path, helm4):
    installed(release, server, henv, helm=helm4)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_CHART_SPEC)
    proc = template(henv, bad, helm=helm4, start_new_session=True)  # no terminal: Helm's error must carry it
    assert proc.returncode != 0 and "Bad_Name" in proc.stderr
    state = Path(henv["XDG_STATE_HOME"]) / "postrender"
    log = state / "postrender.log"
    assert str(log) in proc.stderr and "Bad_Name" in log.read_text()
    assert (os.stat(log).st_mode & 0o777, os.stat(state).st_mode & 0o777) == (0o600, 0o700)

    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    log.unlink()
    log.symlink_to(victim)
    proc = template(henv, bad, helm=helm4, start_new_session=True)
    assert "Bad_Name" in proc.stderr and "no log file could be written" in proc.stderr, proc.stderr
    # The launcher's own failures (written by the shell) do not follow it either.
    proc = template(dict(henv, POSTRENDER_PYTHON=str(tmp_path / "nope")), bad, helm=helm4, start_new_session=True)
    assert "nope" in proc.stderr and "no log file could be written" in proc.stderr, proc.stderr
    assert victim.read_text() == "precious\n" and log.is_symlink()


def test_interpreter_too_old_is_named_in_helms_error(release, server, henv, spec, tmp_path, helm4):
    """A Python 2 refuses the launcher's -I before running anything ("Unknown option: -I", on a
    stderr Helm 4 drops): the launcher asks first, and Helm's error says which interpreter it is."""
    installed(release, server, henv, helm=helm4)
    python = tmp_path / "bin" / "python2.7"
    python.parent.mkdir()
    python.write_text('#!/bin/sh\ncase $1 in -I) echo "Unknown option: -I" >&2; exit 2 ;; *) printf 2.7.18 ;; esac\n')
    python.chmod(0o755)
    proc = template(dict(henv, POSTRENDER_PYTHON=str(python)), spec, helm=helm4, start_new_session=True)
    assert proc.returncode != 0 and "kind:" not in proc.stdout
    reason = (f"POSTRENDER_PYTHON={python} is Python 2.7.18: too old: 3.9 or newer is needed "
              "(it said: Unknown option: -I)")
    assert reason in proc.stderr, proc.stderr
    assert reason in log_text(henv)


# ---------------------------------------------------------------- kills


def test_killed_install_never_leaves_a_plugin_that_fails(release, henv, spec, console_plugin, tmp_path):
    """Helm copies the extracted tarball in name order and loads a plugin only with its plugin.yaml,
    which comes last: an install killed at any moment leaves either the whole plugin or none."""
    want = reference(henv, spec, console_plugin)
    start = time.monotonic()
    ok(install(dict(henv, HELM_DATA_HOME=str(tmp_path / "timing")), release.tgz, release.pubring))
    full = time.monotonic() - start
    outcomes = []
    for i, fraction in enumerate((0.1, 0.3, 0.5, 0.65, 0.8, 0.95)):
        env = dict(henv, HELM_DATA_HOME=str(tmp_path / f"kill {i}"))
        proc = subprocess.Popen([str(HELM4), "plugin", "install", str(release.tgz), "--keyring", str(release.pubring)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(full * fraction)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        listed = "postrender" in ok(run([HELM4, "plugin", "list"], env))
        outcomes.append((proc.returncode, listed))
        if listed:
            assert ok(template(env, spec)) == want, f"killed at {fraction:.0%}: listed, so it must work"
        else:
            proc2 = template(env, spec)
            assert proc2.returncode != 0 and "not found" in proc2.stderr
            leftover = Path(env["HELM_DATA_HOME"]) / "plugins" / "postrender"
            shutil.rmtree(leftover, ignore_errors=True)  # docs/helm.md: remove what a killed install left
            ok(install(env, release.tgz, release.pubring))
            assert ok(template(env, spec)) == want
    assert any(code == -signal.SIGKILL for code, _ in outcomes), f"no install was actually killed: {outcomes}"


def test_partial_copy_is_never_loaded(release, henv, tmp_path):
    """Deterministic: every prefix of Helm's copy order (files in name order) short of plugin.yaml is
    not a plugin for Helm."""
    source = tmp_path / "extracted"
    with tarfile.open(release.tgz) as tar:
        tar.extractall(source)
    files = sorted(p.relative_to(source / "postrender") for p in (source / "postrender").rglob("*") if p.is_file())
    assert files[-1] == Path("plugin.yaml")
    plugins = tmp_path / "plugins"
    env = dict(henv, HELM_PLUGINS=str(plugins))
    step = max(1, len(files) // 6)
    for cut in list(range(0, len(files) - 1, step)) + [len(files) - 1]:
        shutil.rmtree(plugins, ignore_errors=True)
        for rel in files[:cut]:
            (plugins / "postrender" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / "postrender" / rel, plugins / "postrender" / rel)
        proc = run([HELM4, "plugin", "list"], env)
        assert proc.returncode == 0 and "postrender" not in proc.stdout, (cut, proc.stdout, proc.stderr)


def test_killed_first_run_never_breaks_later_runs(release, server, henv, spec, console_plugin):
    plugin_dir = installed(release, server, henv)
    want = reference(henv, spec, console_plugin)

    def fresh():
        for cache in plugin_dir.rglob("__pycache__"):
            shutil.rmtree(cache)
        shutil.rmtree(Path(henv["XDG_STATE_HOME"]), ignore_errors=True)

    fresh()
    start = time.monotonic()
    assert ok(template(henv, spec)) == want
    first = time.monotonic() - start
    killed = 0
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95):
        fresh()
        proc = subprocess.Popen([str(HELM4), "template", "rel", str(CHART), "--post-renderer", "postrender",
                                 "--post-renderer-args=-c", f"--post-renderer-args={spec}"], env=henv,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(first * fraction)
        os.killpg(proc.pid, signal.SIGKILL)
        killed += proc.wait() == -signal.SIGKILL
        assert ok(template(henv, spec)) == want, f"after a first run killed at {fraction:.0%}"
    assert killed, "no run was actually killed"


# ---------------------------------------------------------------- Helm 3 beside Helm 4


def test_helm3_needs_helm4_plugins_elsewhere(release, server, henv, tmp_path):
    """What the README says: Helm 3 cannot read the v1 plugin.yaml in a shared plugin directory; with
    a HELM_DATA_HOME of Helm 4's own, both work."""
    helm3 = need(HELM3)
    installed(release, server, henv)
    shared = run([helm3, "template", "rel", CHART], henv)
    assert 'unknown field "apiVersion"' in shared.stderr
    # Helm 4 with its own HELM_DATA_HOME (HELM_PLUGINS alone is not enough: Helm 4.1.4 installs a
    # tarball into $HELM_DATA_HOME/plugins whatever HELM_PLUGINS says), Helm 3 with the default one.
    helm4_env = dict(henv, HELM_DATA_HOME=str(tmp_path / "helm4 data"))
    ok(install(helm4_env, release.tgz, release.pubring))
    assert "postrender" in ok(run([HELM4, "plugin", "list"], helm4_env))
    helm3_env = dict(henv, HELM_DATA_HOME=str(tmp_path / "helm3 data"))
    os.makedirs(helm3_env["HELM_DATA_HOME"])
    clean = run([helm3, "template", "rel", CHART], helm3_env)
    assert clean.returncode == 0 and "failed to load plugins" not in clean.stderr, clean.stderr


# ---------------------------------------------------------------- a source checkout


def test_checkout_without_environment_says_how_to_build(henv, spec, tmp_path):
    helm = need(HELM4)
    plugins = tmp_path / "plugins [dev] *?"
    copy = plugins / "postrender"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
        "examples", "bench"))
    subprocess.run(["git", "init", "-q", str(copy)], check=True, capture_output=True)  # a checkout is a git one
    proc = run([copy / "bin" / "postrender-plugin", "--logs-claim", "x"], dict(henv, HELM_PLUGIN_NAME="postrender"),
               input="")
    assert proc.returncode == 0, "plugin mode: the reason goes out on stdout"
    assert "make plugin" in proc.stdout and f"helm plugin install dist/postrender-{VERSION}.tgz" in proc.stdout
    assert not (copy / ".venv").exists(), "it builds nothing"
    # Installed as a directory (Helm 4's development mode), the same reason reaches Helm's error.
    ok(run([helm, "plugin", "install", copy], henv))
    out = template(henv, spec, start_new_session=True)
    assert out.returncode != 0 and "make plugin" in out.stderr, out.stderr
