#!/usr/bin/env python3
"""Benchmark: what the Helm 4 plugin release costs at start-up, and its pure-Python mode.

    .venv/bin/python bench/plugin.py               # `make bench` runs it after bench/run.py
    .venv/bin/python bench/plugin.py --runs 21

Builds the release tarball (unsigned, tools/build_plugin.py) into bench/out/plugin/, unpacks it
as `helm plugin install` would into a HELM_PLUGINS directory of its own, beside a plugin `console`
whose command is this checkout's console script (.venv/bin/postrender): the same work without the
launcher. Rows, each the median of --runs timed runs after a warm-up, in alternating order:

  helm template               plain Helm 4 on tests/fixtures/chart, no post-renderer
  helm template + plugin      --post-renderer postrender (the release: launcher, python3 -I -S)
  helm template + console     --post-renderer console (the console script directly)
  launcher / console script   the two run by hand on one Helm 4 render (no Helm), --logs-claim
  pure-Python mode            the launcher with no C extension, on 1 and 20 releases

Then start-up side by side (--startup-runs interleaved rounds, default 21, medians), on the
bundled render (examples/airflow-1.19.0-helm3.yaml, --logs-claim): the floor of the design's own
dependencies (`python -I -c "import click, ruamel.yaml"`; for the launcher the same imports from the
release's lib/ under `python3 -I -S`), one render and `--version` by the console script and by the
launcher, and the kustomize post-renderer (bench/kustomize-postrender.sh, kubectl as bench/run.py
finds it); with the share of the `-X importtime` self time that is postrender's own modules.

The launcher runs the interpreter the console script's venv was made from (POSTRENDER_PYTHON), so
the rows compare the same Python; a pyenv shim as `python3` would add its own start-up on top.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out" / "plugin"
sys.path.insert(0, str(BENCH))
import streams  # noqa: E402  (bench/streams.py)

HELM4 = Path(os.environ.get("HELM4") or ROOT / ".cache" / "bin" / "v35" / "helm")
CHART = ROOT / "tests" / "fixtures" / "chart"
CONSOLE = ROOT / ".venv" / "bin" / "postrender"
RENDER = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"
CLAIM = "airflow-log-pvc"


def timed(argv, env, stdin_path=None):
    with open(stdin_path or os.devnull, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench/plugin.py: {argv[0]} failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    return seconds, proc.stdout


def setup(env):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_plugin.py"), "--dest", str(OUT / "dist"),
                           "--helm", str(HELM4)], env={k: v for k, v in os.environ.items()
                                                       if k not in ("HELM_SIGN_KEY", "HELM_KEYRING")},
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    plugins = OUT / "plugins"
    shutil.rmtree(plugins, ignore_errors=True)
    plugins.mkdir(parents=True)
    tgz = next((OUT / "dist").glob("postrender-*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extractall(plugins)  # what `helm plugin install` puts in the plugins directory
    pure = OUT / "pure" / "postrender"
    shutil.rmtree(pure.parent, ignore_errors=True)
    shutil.copytree(plugins / "postrender", pure)
    for so in (pure / "lib").glob("_ruamel_yaml*.so"):
        so.unlink()
    console = plugins / "console"
    (console / "bin").mkdir(parents=True)
    (console / "plugin.yaml").write_text("apiVersion: v1\nname: console\nversion: 0.0.1\ntype: postrenderer/v1\n"
                                         "runtime: subprocess\nruntimeConfig:\n  platformCommand:\n"
                                         f"    - command: \"{CONSOLE}\"\n")
    env["HELM_PLUGINS"] = str(plugins)
    return plugins / "postrender", pure


def import_share(argv, env, stdin_path, runs=5):
    """`-X importtime` of a run: (median ms of every import's self time, median ms of postrender's)."""
    totals, ours = [], []
    for _ in range(runs):
        with open(stdin_path, "rb") as stdin:
            err = subprocess.run(argv, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True).stderr
        rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:") and "self" not in line]
        totals.append(sum(int(r[0].split(":")[1]) for r in rows) / 1000)
        ours.append(sum(int(r[0].split(":")[1]) for r in rows if r[2].strip().startswith("postrender")) / 1000)
    return statistics.median(totals), statistics.median(ours)


def instructions(argv, env, stdin_path, runs=3):
    """Instructions a run executes (valgrind's callgrind, median of `runs`, hash seed fixed): a
    figure that neither the machine's load nor the host moves."""
    counts = []
    for _ in range(runs):
        with open(stdin_path or os.devnull, "rb") as stdin:
            err = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                                 env=dict(env, PYTHONHASHSEED="0"), stdin=stdin, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True).stderr
        counts.append(int(re.search(r"Collected : (\d+)", err).group(1)))
    return statistics.median(counts)


def startup_instructions(env):
    """The console script's one render and `--version` against the floor, in instructions."""
    venv_python = str(ROOT / ".venv" / "bin" / "python")
    claim = ["--logs-claim", CLAIM]
    floor = instructions([venv_python, "-I", "-c", "import click, ruamel.yaml"], env, None)
    render = instructions([str(CONSOLE), *claim], env, RENDER)
    version = instructions([str(CONSOLE), "--version"], env, None)
    print(f"\nInstructions (callgrind, median of 3): floor {floor / 1e6:.0f} M; console script one render "
          f"{render / 1e6:.0f} M ({render / floor:.2f}x), --version {version / 1e6:.0f} M ({version / floor:.2f}x)")


def startup(plugin, env, base_python, runs):
    """Start-up side by side, interleaved (see the module's docstring); prints the table and the ratios."""
    venv_python = str(ROOT / ".venv" / "bin" / "python")
    lib = str(plugin / "lib")
    launcher = str(plugin / "bin" / "postrender-plugin")
    claim = ["--logs-claim", CLAIM]
    kenv = dict(env, CLAIM=CLAIM)
    rows = [
        ("python -I -c pass", [venv_python, "-I", "-c", "pass"], None),
        ("floor: python -I -c 'import click, ruamel.yaml'", [venv_python, "-I", "-c", "import click, ruamel.yaml"],
         None),
        ("console script, one render", [str(CONSOLE), *claim], RENDER),
        ("console script --version", [str(CONSOLE), "--version"], None),
        ("launcher floor: python3 -I -S, lib/ first, 'import click, ruamel.yaml'",
         [base_python, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {lib!r}); import click, ruamel.yaml"], None),
        ("launcher, one render", [launcher, *claim], RENDER),
        ("launcher --version", [launcher, "--version"], None),
    ]
    try:
        sys.path.insert(0, str(BENCH))
        from run import BenchError, kubectl_path  # bench/run.py: $KUBECTL or the pinned build

        try:
            kenv["KUBECTL"] = kubectl_path()
            rows.append(("kustomize post-renderer, one render", [str(BENCH / "kustomize-postrender.sh")], RENDER))
        except BenchError as exc:
            print(f"(kustomize left out: {exc})")
    finally:
        sys.path.remove(str(BENCH))
    samples = {name: [] for name, _, _ in rows}
    for name, cmd, stdin in rows:  # warm-up
        timed(cmd, kenv, stdin)
    for i in range(runs):
        for name, cmd, stdin in (rows if i % 2 == 0 else rows[::-1]):
            samples[name].append(timed(cmd, kenv, stdin)[0])
    med = {name: 1000 * statistics.median(values) for name, values in samples.items()}
    floor, lfloor = med[rows[1][0]], med[rows[4][0]]
    print(f"\nStart-up (median of {runs} interleaved rounds; one render = {RENDER.relative_to(ROOT)}, "
          f"--logs-claim; machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):\n")
    print("| what | ms | / its floor |")
    print("|---|---:|---:|")
    for name, _, _ in rows:
        base = lfloor if name.startswith("launcher") else floor
        print(f"| {name} | {med[name]:.1f} | {med[name] / base:.2f}x |")
    console = import_share([venv_python, "-X", "importtime", str(CONSOLE), *claim], env, RENDER)
    plugin_run = import_share([base_python, "-I", "-S", "-X", "importtime", "-c",
                               "import sys; d = sys.argv[1]; sys.path.insert(0, d + '/lib'); "
                               "from postrender.helm_plugin import launch; launch(d, 'release', sys.argv[2:])",
                               str(plugin), *claim], env, RENDER)
    print()
    for what, (total, ours) in (("console script", console), ("launcher", plugin_run)):
        print(f"{what}: -X importtime, one render: {total:.1f} ms of imports, {ours:.1f} ms "
              f"({100 * ours / total:.0f}%) postrender's own modules (median of 5)")
    render, version = med[rows[2][0]] / floor, med[rows[3][0]] / floor
    lrender, lversion = med[rows[5][0]] / lfloor, med[rows[6][0]] / lfloor
    print(f"console script: one render {render:.2f}x the floor (goal <= 1.35x), --version {version:.2f}x "
          "(goal <= 1.15x)")
    print(f"launcher: one render {lrender:.2f}x its floor, --version {lversion:.2f}x")
    kustomize = med.get("kustomize post-renderer, one render")
    if kustomize:
        print(f"one render: console script {med[rows[2][0]] / kustomize:.2f}x the kustomize post-renderer's time")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--startup-runs", type=int, default=21, help="interleaved rounds of the start-up table")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up table")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the start-up rows' instructions (needs valgrind)")
    args = parser.parse_args(argv)
    if not (HELM4.is_file() and CONSOLE.is_file()):
        sys.exit("bench/plugin.py: run `make setup tools` first")
    OUT.mkdir(parents=True, exist_ok=True)
    base_python = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                                  "import sys; print(getattr(sys, '_base_executable', sys.executable))"],
                                 capture_output=True, text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "POSTRENDER_"))}
    env.update(HELM_DATA_HOME=str(OUT / "data"), HELM_CONFIG_HOME=str(OUT / "config"),
               HELM_CACHE_HOME=str(OUT / "cache"), XDG_STATE_HOME=str(OUT / "state"), POSTRENDER_PYTHON=base_python)
    plugin, pure = setup(env)
    # The console script runs this checkout's package: byte-compile it first, or under
    # PYTHONDONTWRITEBYTECODE a module edited since `make compile` is compiled again on every run.
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", str(ROOT / "postrender")],
                   check=True)
    if args.instructions and not shutil.which("valgrind"):
        sys.exit("bench/plugin.py: --instructions needs valgrind (Debian: apt-get install valgrind)")
    if args.startup_only:
        startup(plugin, env, base_python, args.startup_runs)
        if args.instructions:
            startup_instructions(env)
        return 0

    helm4_render = OUT / "helm4-render.yaml"
    helm4_render.write_bytes(timed([str(HELM4), "template", "rel", str(CHART)], env)[1])
    pr = ["--post-renderer-args=--logs-claim", f"--post-renderer-args={CLAIM}"]
    big = OUT / "render-20.yaml"
    big.write_text("".join(streams.releases(RENDER.read_text(), 20)))
    rows = [
        ("helm template (no post-renderer)", [str(HELM4), "template", "rel", str(CHART)], None),
        ("helm template + plugin (release launcher)", [str(HELM4), "template", "rel", str(CHART),
                                                       "--post-renderer", "postrender", *pr], None),
        ("helm template + console script as plugin", [str(HELM4), "template", "rel", str(CHART),
                                                      "--post-renderer", "console", *pr], None),
        ("launcher, 1 Helm 4 render", [str(plugin / "bin" / "postrender-plugin"), "--logs-claim", CLAIM],
         helm4_render),
        ("console script, 1 Helm 4 render", [str(CONSOLE), "--logs-claim", CLAIM], helm4_render),
        ("launcher, 20 releases (1.3 MB)", [str(plugin / "bin" / "postrender-plugin"), "--logs-claim", CLAIM], big),
        ("launcher, pure-Python mode, 1 Helm 4 render", [str(pure / "bin" / "postrender-plugin"), "--logs-claim",
                                                         CLAIM], helm4_render),
        ("launcher, pure-Python mode, 20 releases", [str(pure / "bin" / "postrender-plugin"), "--logs-claim",
                                                     CLAIM], big),
    ]
    samples = {name: [] for name, _, _ in rows}
    outputs = {}
    for name, cmd, stdin in rows:  # warm-up: the plugin byte-compiles into its directory once
        outputs[name] = timed(cmd, env, stdin)[1]
    assert outputs[rows[1][0]] == outputs[rows[2][0]], "the plugin and the console script must agree"
    assert outputs[rows[3][0]] == outputs[rows[4][0]] == outputs[rows[6][0]]
    assert outputs[rows[5][0]] == outputs[rows[7][0]]
    for i in range(args.runs):
        order = rows if i % 2 == 0 else rows[::-1]
        for name, cmd, stdin in order:
            samples[name].append(timed(cmd, env, stdin)[0])
    med = {name: statistics.median(values) for name, values in samples.items()}
    print(f"\nHelm 4 plugin start-up (median of {args.runs}; python {base_python}):\n")
    print("| what | s |")
    print("|---|---:|")
    for name, _, _ in rows:
        print(f"| {name} | {med[name]:.3f} |")
    mb = big.stat().st_size / 1e6
    print(f"\nlauncher over the console script: {1000 * (med[rows[3][0]] - med[rows[4][0]]):+.1f} ms by hand, "
          f"{1000 * (med[rows[1][0]] - med[rows[2][0]]):+.1f} ms under helm template")
    print(f"pure-Python mode: {mb / med[rows[7][0]]:.1f} MB/s on 20 releases against "
          f"{mb / med[rows[5][0]]:.1f} MB/s with the C extension ({med[rows[7][0]] / med[rows[5][0]]:.1f}x the time)")
    startup(plugin, env, base_python, args.startup_runs)
    if args.instructions:
        startup_instructions(env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
