#!/usr/bin/env python3
"""Benchmark: postrender against the kustomize post-renderer and a plain split/join floor.

    .venv/bin/python bench/run.py                      # 1, 20 and 100 releases, 5 runs each
    .venv/bin/python bench/run.py --large              # ... and 1000 releases (~66 MB)
    .venv/bin/python bench/run.py --sizes 1,20 --runs 3
    .venv/bin/python bench/run.py --markdown           # Markdown table + machine line (README)
    .venv/bin/python bench/run.py --markdown --from-json   # re-print the last results
    .venv/bin/python bench/run.py --memory-check       # postrender's peak RSS on ~66 MB
    .venv/bin/python bench/run.py --shapes             # tiny-document streams against a Helm-shaped one
    .venv/bin/python bench/run.py --shapes --shape-mb 64 --shape-names configmaps,waiting

Each stream is N copies of the bundled Airflow render, each renamed as its own release
(bench/streams.py), written to bench/out/. The tools run side by side on the same file, in
alternating order, after one untimed warm-up each; a run is timed from spawn to exit (wall
clock) and its peak RSS is the largest resident set of the process or of any descendant it
waited for (os.wait4 -> ru_maxrss), which covers kubectl under the kustomize wrapper script.

  postrender  .venv/bin/postrender --logs-claim CLAIM       (or --postrender-cmd, a stand-in)
  kustomize   bench/kustomize-postrender.sh, i.e. `kubectl kustomize` on a temp kustomization
  floor       bench/splitjoin.py: decode, split on `---` lines, join, encode

Results: a table on stdout, JSON in bench/out/results.json. Progress goes to stderr.
Exit status: 0 ok, 1 a tool failed (or --memory-check over the limit), 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))

import streams  # noqa: E402  (bench/streams.py)

DEFAULT_INPUT = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"
DEFAULT_CLAIM = "airflow-log-pvc"
DEFAULT_KUBECTL = ROOT / ".cache" / "bin" / "v35" / "kubectl"
POSTRENDER_BIN = ROOT / ".venv" / "bin" / "postrender"
RESULTS = OUT / "results.json"
TOOLS = ("postrender", "kustomize", "floor")
MEMORY_CHECK_COPIES = 1000
MEMORY_LIMIT_MIB = 150


class BenchError(Exception):
    """A tool failed or is missing: reported on stderr, exit status 1."""


@dataclass
class Tool:
    name: str
    argv: list[str]
    expect_claim: bool  # its output must name the claim at least once per release
    note: str = ""


@dataclass
class Sample:
    seconds: float
    maxrss_kib: int


@dataclass
class Cell:
    """One tool at one stream size."""
    samples: list[Sample] = field(default_factory=list)
    skipped: str = ""  # why it was not measured (timeout, earlier timeout, ...)

    @property
    def median(self) -> float | None:
        return statistics.median(s.seconds for s in self.samples) if self.samples else None

    @property
    def peak_mib(self) -> float | None:
        return max(s.maxrss_kib for s in self.samples) / 1024 if self.samples else None


# --------------------------------------------------------------------------- running a child

def run_once(argv: list[str], stdin: Path, stdout: Path, stderr: Path, env: dict[str, str],
             timeout: float) -> tuple[Sample, int | None]:
    """Run argv once; (wall time + peak RSS, exit code or None on timeout).

    The child's peak RSS counts this process's own peak: Linux carries the peak of the memory a
    process had before exec over into its ru_maxrss, and a (v)forked child starts with this
    process's. So this process never holds a stream, or an output, whole (see `blocks`)."""
    with open(stdin, "rb") as fin, open(stdout, "wb") as fout, open(stderr, "wb") as ferr:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=ferr, env=env,
                                start_new_session=True)
        timed_out = threading.Event()

        def kill(sig: int) -> None:  # the whole group: kubectl under the wrapper script too
            timed_out.set()
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

        # SIGTERM first so the kustomize wrapper removes its temp dir; SIGKILL if ignored.
        timers = [threading.Timer(timeout, kill, [signal.SIGTERM]),
                  threading.Timer(timeout + 10, kill, [signal.SIGKILL])]
        for timer in timers:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            for timer in timers:
                timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    sample = Sample(seconds, usage.ru_maxrss)  # Linux: KiB
    return sample, (None if timed_out.is_set() else proc.returncode)


BLOCK = 1 << 20  # files are read in blocks of this size: see `run_once` on why the harness stays small


def blocks(path: Path):
    with open(path, "rb") as f:
        while True:
            block = f.read(BLOCK)
            if not block:
                return
            yield block


def count_in(path: Path, needle: bytes) -> int:
    """How many times `needle` occurs in the file (read in blocks)."""
    found, tail = 0, b""
    for block in blocks(path):
        block = tail + block
        found += block.count(needle)
        tail = block[max(0, len(block) - len(needle) + 1):]  # too short to hold a whole match again
    return found


def same_bytes(first: Path, second: Path) -> bool:
    if first.stat().st_size != second.stat().st_size:
        return False
    with open(second, "rb") as other:
        return all(block == other.read(len(block)) for block in blocks(first))


def check_output(tool: Tool, copies: int, stream: Path, out: Path, claim: str) -> None:
    """Fail loudly unless the tool produced a plausible transformed stream."""
    if not any(block.strip() for block in blocks(out)):
        raise BenchError(f"{tool.name}: empty output for {stream.name}")
    if tool.name == "floor" and not same_bytes(out, stream):
        raise BenchError(f"floor: output differs from its input for {stream.name}")
    if tool.expect_claim:
        found = count_in(out, claim.encode())
        if found < copies:
            raise BenchError(f"{tool.name}: the claim {claim!r} appears {found} times in the "
                             f"output for {copies} releases ({out})")


def tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    return "\n".join("    " + line for line in text.splitlines()[-lines:]) or "    (no stderr)"


def measure(tool: Tool, copies: int, stream: Path, cell: Cell, env: dict[str, str],
            args: argparse.Namespace, *, warmup: bool) -> None:
    out = OUT / f"{tool.name}-x{copies}.out"
    err = OUT / f"{tool.name}-x{copies}.err"
    sample, rc = run_once(tool.argv, stream, out, err, env, args.timeout)
    if rc is None:
        if tool.name != "kustomize":
            raise BenchError(f"{tool.name}: no result after {args.timeout:g} s on "
                             f"{stream.name} (--timeout)")
        cell.skipped = f"> {args.timeout:g} s"
        progress(f"  {tool.name:<10} x{copies}: timed out after {args.timeout:g} s")
        return
    if rc != 0:
        raise BenchError(f"{tool.name} FAILED (exit {rc}) on {stream.name}\n"
                         f"  command: {shlex.join(tool.argv)} < {stream}\n"
                         f"  stderr ({err}):\n{tail(err)}")
    if warmup:
        check_output(tool, copies, stream, out, args.claim)
        if sample.seconds < args.slow:
            progress(f"  {tool.name:<10} x{copies}: warm-up {sample.seconds:.3f} s")
            return
        # Too slow to repeat: the warm-up run is the one measurement.
        progress(f"  {tool.name:<10} x{copies}: {sample.seconds:.1f} s > --slow "
                 f"{args.slow:.0f} s, measured once")
        cell.skipped = "once"
    cell.samples.append(sample)


def bench_size(tools: list[Tool], copies: int, stream: Path, env: dict[str, str],
               args: argparse.Namespace, dead: set[str]) -> dict[str, Cell]:
    cells = {tool.name: Cell() for tool in tools}
    for tool in tools:
        if tool.name in dead:
            cells[tool.name].skipped = "skipped (timed out on a smaller stream)"
            continue
        measure(tool, copies, stream, cells[tool.name], env, args, warmup=True)
        if cells[tool.name].skipped.startswith(">"):
            dead.add(tool.name)
    for run in range(args.runs):
        order = tools if run % 2 == 0 else tools[::-1]
        for tool in order:
            cell = cells[tool.name]
            if cell.skipped:
                continue
            measure(tool, copies, stream, cell, env, args, warmup=False)
        progress(f"  run {run + 1}/{args.runs}: " + ", ".join(
            f"{t.name} {cells[t.name].samples[-1].seconds:.3f} s"
            for t in tools if cells[t.name].samples and not cells[t.name].skipped))
    return cells


# --------------------------------------------------------------------------- tools & machine

def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def postrender_tool(args: argparse.Namespace) -> Tool:
    if args.postrender_cmd:
        return Tool("postrender", shlex.split(args.postrender_cmd), expect_claim=False,
                    note=f"stand-in: {args.postrender_cmd}")
    argv = [str(POSTRENDER_BIN), "--logs-claim", args.claim]
    try:
        probe = subprocess.run([str(POSTRENDER_BIN), "--help"], capture_output=True,
                               text=True, timeout=60)
    except OSError as exc:
        raise BenchError(f"postrender is not installed ({exc}); run `make setup`, or test "
                         f"the harness with --postrender-cmd 'python3 bench/splitjoin.py'")
    if probe.returncode != 0:
        raise BenchError(f"`{POSTRENDER_BIN} --help` exits {probe.returncode}:\n"
                         f"{probe.stderr.strip()}")
    return Tool("postrender", argv, expect_claim=True)


def make_tools(args: argparse.Namespace) -> list[Tool]:
    chosen = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(chosen) - set(TOOLS))
    if unknown or not chosen:
        raise SystemExit(f"run.py: --tools takes a subset of {','.join(TOOLS)}")
    tools = []
    for name in TOOLS:  # fixed order: postrender, kustomize, floor
        if name not in chosen:
            continue
        if name == "postrender":
            tools.append(postrender_tool(args))
        elif name == "kustomize":
            tools.append(Tool("kustomize", [str(BENCH / "kustomize-postrender.sh")],
                              expect_claim=True))
        else:
            tools.append(Tool("floor", [sys.executable, str(BENCH / "splitjoin.py")],
                              expect_claim=False))
    return tools


def kubectl_path() -> str:
    kubectl = os.environ.get("KUBECTL") or str(DEFAULT_KUBECTL)
    if not os.access(kubectl, os.X_OK):
        raise BenchError(f"kubectl not found at {kubectl}; run `make tools` or set KUBECTL")
    return kubectl


def machine(kubectl: str | None) -> dict[str, str | int | None]:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                model = value.strip()
                break
    except OSError:
        pass
    info: dict[str, str | int | None] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": model or platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "kubectl": None,
        "commit": None,
    }
    if kubectl:
        try:
            version = subprocess.run([kubectl, "version", "--client"], capture_output=True,
                                     text=True, timeout=30).stdout
            fields = dict(line.split(": ", 1) for line in version.splitlines() if ": " in line)
            info["kubectl"] = (f"kubectl {fields.get('Client Version', '?')} "
                               f"(kustomize {fields.get('Kustomize Version', '?')})")
        except OSError:
            pass
    try:
        info["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True).stdout.strip() or None
    except OSError:
        pass
    return info


def machine_line(info: dict) -> str:
    line = f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}"
    if info.get("kubectl"):
        line += f", {info['kubectl']}"
    return line


# --------------------------------------------------------------------------- reporting

def ratio(a: dict, b: dict, timeout: float) -> str:
    """Median time of a over b; an upper bound when b timed out."""
    if a["median_s"] is None:
        return "-"
    if b["median_s"] is None:
        return f"<{a['median_s'] / timeout:.3g}x" if b["skipped"].startswith(">") else "-"
    return f"{a['median_s'] / b['median_s']:.3g}x"


def rows(results: dict) -> tuple[list[tuple[str, list[str]]], list[list[str]]]:
    """Column groups (title, sub-headers) and one row of cells per stream size."""
    tools = results["tools"]
    timeout = results.get("timeout_s", 0)
    pairs = [b for b in ("kustomize", "floor") if "postrender" in tools and b in tools]
    groups = [("", ["copies", "MB"])]
    groups += [(name, ["s", "MB/s", "RSS MiB"]) for name in tools]
    if pairs:
        groups.append(("postrender /", pairs))
    body = []
    for size in results["sizes"]:
        mb = size["bytes"] / 1e6
        cells = size["tools"]
        row = [str(size["copies"]), f"{mb:.2f}"]
        for name in tools:
            median, rss, skipped = (cells[name]["median_s"], cells[name]["peak_rss_mib"],
                                    cells[name]["skipped"])
            if median is None:
                row += [skipped.split(" (")[0] or "-", "-", "-"]
                continue
            mark = "†" if skipped == "once" else ""
            row += [f"{median:.3f}{mark}", f"{mb / median:.3g}", f"{rss:.0f}"]
        row += [ratio(cells["postrender"], cells[b], timeout) for b in pairs]
        body.append(row)
    return groups, body


def footnotes(results: dict) -> list[str]:
    notes = [f"Input: {results['input']}, each copy renamed as its own release; "
             f"median of {results['runs']} runs after one warm-up; peak RSS = max over runs."]
    if any(c["skipped"] == "once" for s in results["sizes"] for c in s["tools"].values()):
        notes.append(f"† measured once (the warm-up took longer than {results['slow_s']:.0f} s).")
    for name, note in results.get("notes", {}).items():
        if note:
            notes.append(f"{name}: {note}")
    return notes


def print_text(results: dict) -> None:
    groups, body = rows(results)
    header = [sub for _, subs in groups for sub in subs]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    titles, i = [], 0
    for title, subs in groups:  # each group title centred over its columns
        span = sum(widths[i:i + len(subs)]) + 2 * (len(subs) - 1)
        titles.append(title.center(span))
        i += len(subs)
    print("  ".join(titles).rstrip())
    for row in [header] + body:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    for note in footnotes(results):
        print(note)
    print(machine_line(results["machine"]))


def print_markdown(results: dict) -> None:
    groups, body = rows(results)
    header = [f"{title} {sub}".strip() for title, subs in groups for sub in subs]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for row in body:
        print("| " + " | ".join(row) + " |")
    print()
    for note in footnotes(results):
        print(note + "  ")
    print(machine_line(results["machine"]))


def cell_json(cell: Cell) -> dict:
    return {
        "median_s": cell.median,
        "peak_rss_mib": cell.peak_mib,
        "skipped": cell.skipped,
        "samples_s": [round(s.seconds, 6) for s in cell.samples],
        "maxrss_kib": [s.maxrss_kib for s in cell.samples],
    }


# --------------------------------------------------------------------------- modes

def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"run.py: --sizes wants numbers like 1,20,100, not {text!r}")
    if not sizes or min(sizes) < 1:
        raise SystemExit("run.py: --sizes wants positive numbers")
    return sorted(set(sizes))


def child_env(kubectl: str | None, claim: str) -> dict[str, str]:
    env = dict(os.environ, CLAIM=claim)
    if kubectl:
        env["KUBECTL"] = kubectl
    return env


def run_bench(args: argparse.Namespace) -> dict:
    sizes = parse_sizes(args.sizes)
    if args.large and MEMORY_CHECK_COPIES not in sizes:
        sizes.append(MEMORY_CHECK_COPIES)
    tools = make_tools(args)
    kubectl = kubectl_path() if any(t.name == "kustomize" for t in tools) else None
    env = child_env(kubectl, args.claim)
    OUT.mkdir(parents=True, exist_ok=True)

    results = {
        "input": str(args.input.relative_to(ROOT) if args.input.is_relative_to(ROOT)
                     else args.input),
        "claim": args.claim,
        "runs": args.runs,
        "slow_s": args.slow,
        "timeout_s": args.timeout,
        "tools": [t.name for t in tools],
        "commands": {t.name: shlex.join(t.argv) for t in tools},
        "notes": {t.name: t.note for t in tools},
        "machine": machine(kubectl),
        "sizes": [],
    }
    dead: set[str] = set()
    for copies in sizes:
        stream = streams.write_stream(args.input, copies, OUT)
        size = stream.stat().st_size
        progress(f"{copies} release(s): {stream.relative_to(ROOT)} ({size / 1e6:.2f} MB)")
        cells = bench_size(tools, copies, stream, env, args, dead)
        results["sizes"].append({
            "copies": copies,
            "bytes": size,
            "stream": str(stream.relative_to(ROOT)),
            "tools": {name: cell_json(cell) for name, cell in cells.items()},
        })
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")  # keep partial results
    progress(f"results: {RESULTS.relative_to(ROOT)}")
    return results


def memory_check(args: argparse.Namespace) -> int:
    tools = [postrender_tool(args), Tool("floor", [sys.executable, str(BENCH / "splitjoin.py")],
                                         expect_claim=False)]
    env = child_env(None, args.claim)
    stream = streams.write_stream(args.input, MEMORY_CHECK_COPIES, OUT)
    size = stream.stat().st_size
    progress(f"memory check: {stream.relative_to(ROOT)} ({size / 1e6:.1f} MB, "
             f"{MEMORY_CHECK_COPIES} releases)")
    cells = {}
    for tool in tools:
        cell = cells[tool.name] = Cell()
        for _ in range(args.runs):
            measure(tool, MEMORY_CHECK_COPIES, stream, cell, env, args, warmup=False)
        check_output(tool, MEMORY_CHECK_COPIES, stream,
                     OUT / f"{tool.name}-x{MEMORY_CHECK_COPIES}.out", args.claim)
    pr, floor = cells["postrender"], cells["floor"]
    ok = pr.peak_mib <= args.memory_limit
    report = {
        "stream": str(stream.relative_to(ROOT)),
        "bytes": size,
        "command": shlex.join(tools[0].argv),
        "note": tools[0].note,
        "limit_mib": args.memory_limit,
        "ok": ok,
        "machine": machine(None),
        "tools": {name: cell_json(cell) for name, cell in cells.items()},
    }
    (OUT / "memory.json").write_text(json.dumps(report, indent=2) + "\n")
    if tools[0].note:
        print(f"postrender {tools[0].note}")
    print(f"stream: {size / 1e6:.1f} MB ({MEMORY_CHECK_COPIES} releases)")
    print(f"postrender: peak RSS {pr.peak_mib:.0f} MiB, {pr.median:.2f} s "
          f"({size / 1e6 / pr.median:.1f} MB/s)")
    print(f"floor:      peak RSS {floor.peak_mib:.0f} MiB, {floor.median:.2f} s")
    print(f"{'OK' if ok else 'FAIL'}: postrender peak RSS {pr.peak_mib:.0f} MiB "
          f"{'<=' if ok else '>'} {args.memory_limit:.0f} MiB")
    return 0 if ok else 1


SHAPE_TIME_LIMIT = 3.0  # each shape within this many times the Helm-shaped stream's time ...
SHAPE_RSS_LIMIT = 2.0  # ... and this many times its peak RSS (issue 14)


def shapes(args: argparse.Namespace) -> int:
    """postrender on streams of one size, each made of one kind of document, against a Helm-shaped
    stream of that size: time and peak RSS, and their ratios to the Helm-shaped stream's."""
    tool = postrender_tool(args)
    env = child_env(None, args.claim)
    size = int(args.shape_mb * 1_000_000)
    cells: dict[str, Cell] = {}
    paths = {}
    for shape in args.shape_names:
        paths[shape] = streams.write_shape(shape, args.input, OUT, size)
        progress(f"shape {shape}: {paths[shape].relative_to(ROOT)} ({paths[shape].stat().st_size / 1e6:.1f} MB)")
    for shape, path in paths.items():
        cell = cells[shape] = Cell()
        check = Tool(tool.name, tool.argv, expect_claim=tool.expect_claim and shape == "helm", note=tool.note)
        for run in range(args.runs):
            measure(check, 0, path, cell, env, args, warmup=False)
            progress(f"  {shape:<11} run {run + 1}/{args.runs}: {cell.samples[-1].seconds:.2f} s, "
                     f"{cell.samples[-1].maxrss_kib / 1024:.0f} MiB")
        check_output(check, 1 if shape == "helm" else 0, path, OUT / f"{tool.name}-x0.out", args.claim)
    helm = cells["helm"]
    over = []
    report = {"bytes": size, "command": shlex.join(tool.argv), "note": tool.note, "machine": machine(None),
              "time_limit": SHAPE_TIME_LIMIT, "rss_limit": SHAPE_RSS_LIMIT, "shapes": {}}
    lines = ["| shape | MB | documents | s | peak RSS MiB | time / helm | RSS / helm |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for shape, cell in cells.items():
        path = paths[shape]
        documents = count_in(path, b"---\n")
        time_ratio, rss_ratio = cell.median / helm.median, cell.peak_mib / helm.peak_mib
        edited = shape in streams.EDITED_SHAPES
        if not edited and (time_ratio > SHAPE_TIME_LIMIT or rss_ratio > SHAPE_RSS_LIMIT):
            over.append(shape)
        lines.append(f"| {shape}{' (edited)' if edited else ''} | {path.stat().st_size / 1e6:.1f} | {documents:,} | "
                     f"{cell.median:.2f} | "
                     f"{cell.peak_mib:.0f} | {time_ratio:.2f}× | {rss_ratio:.2f}× |")
        report["shapes"][shape] = {"documents": documents, "what": streams.SHAPES[shape], **cell_json(cell),
                                   "time_ratio": time_ratio, "rss_ratio": rss_ratio}
    report["harness_peak_rss_mib"] = own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (OUT / "shapes.json").write_text(json.dumps(report, indent=2) + "\n")
    if tool.note:
        print(f"postrender {tool.note}")
    print("\n".join(lines))
    print(machine_line(report["machine"]) + f", median of {args.runs}; this harness's own peak RSS {own:.0f} MiB "
          "(a floor under every figure: see run_once)")
    print("(edited): every document is edited; reported, not held to the limits")
    if over:
        print(f"OVER: {', '.join(over)} past {SHAPE_TIME_LIMIT:g}x the time or {SHAPE_RSS_LIMIT:g}x the peak RSS "
              "of the Helm-shaped stream")
        return 1
    print(f"OK: every shape within {SHAPE_TIME_LIMIT:g}x the time and {SHAPE_RSS_LIMIT:g}x the peak RSS of the "
          "Helm-shaped stream")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark postrender against kustomize and a split/join floor.")
    parser.add_argument("--sizes", default="1,20,100",
                        help="releases per stream, comma-separated (default 1,20,100)")
    parser.add_argument("--large", action="store_true", help="also 1000 releases (~66 MB)")
    parser.add_argument("--runs", type=int, default=None,
                        help="timed runs per tool and size (default 5; 1 for --memory-check)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"subset of {','.join(TOOLS)} (default all)")
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT,
                        help="the render to copy (default examples/airflow-1.19.0-helm3.yaml)")
    parser.add_argument("--claim", default=DEFAULT_CLAIM, help="claim for the logs volume")
    parser.add_argument("--postrender-cmd",
                        help="stand-in command for postrender (testing the harness only)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds before a run is killed (default 300); kustomize is then "
                             "reported as timed out and skipped at larger sizes")
    parser.add_argument("--slow", type=float, default=60,
                        help="a tool whose warm-up takes longer is measured once (default 60)")
    parser.add_argument("--markdown", action="store_true",
                        help="print a Markdown table and a machine line (for the README)")
    parser.add_argument("--from-json", action="store_true",
                        help=f"do not run: print the table from {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--memory-check", action="store_true",
                        help=f"postrender's peak RSS on {MEMORY_CHECK_COPIES} releases")
    parser.add_argument("--memory-limit", type=float, default=MEMORY_LIMIT_MIB,
                        help=f"MiB allowed in --memory-check (default {MEMORY_LIMIT_MIB})")
    parser.add_argument("--shapes", action="store_true",
                        help="postrender on streams of tiny documents against a Helm-shaped stream of the "
                             "same size: time, peak RSS and their ratios")
    parser.add_argument("--shape-mb", type=float, default=streams.SHAPE_BYTES / 1e6,
                        help=f"size of each --shapes stream in MB (default {streams.SHAPE_BYTES / 1e6:g})")
    parser.add_argument("--shape-names", default=",".join(streams.SHAPES),
                        help="the --shapes to run, comma-separated (default all; helm, the reference, always)")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.shape_names.split(",") if name.strip()]
    unknown = sorted(set(names) - set(streams.SHAPES))
    if unknown:
        parser.error(f"--shape-names takes some of {','.join(streams.SHAPES)}, not {','.join(unknown)}")
    args.shape_names = ["helm"] + [name for name in streams.SHAPES if name in names and name != "helm"]
    args.input = args.input.resolve()
    if args.runs is None:
        args.runs = 1 if args.memory_check else 3 if args.shapes else 5
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    try:
        if args.memory_check:
            return memory_check(args)
        if args.shapes:
            return shapes(args)
        if args.from_json:
            results = json.loads(RESULTS.read_text())
        else:
            results = run_bench(args)
    except BenchError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 1
    (print_markdown if args.markdown else print_text)(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
