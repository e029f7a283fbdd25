"""`make demo`: run postrender on the bundled Airflow render and show what changed.

Uses the official chart 1.19.0 render (KubernetesExecutor defaults, as Helm 3 hands it to a
post-renderer) and `--logs-claim airflow-log-pvc`: what the chart's own logs.persistence does,
including inside the worker pod template that kustomize cannot reach. Prints the `--diff` of it
(`postrender --diff --logs-claim airflow-log-pvc < RENDER`, the command shown as its first line),
then runs it for real and checks that a second run over the output changes nothing.
"""
import difflib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RENDER = ROOT / "examples" / "airflow-1.19.0-helm3.yaml"


def main() -> int:
    command = [sys.executable, "-m", "postrender", "--logs-claim", "airflow-log-pvc"]
    print(f"$ postrender --diff --logs-claim airflow-log-pvc < {RENDER.relative_to(ROOT)}\n")
    diff = subprocess.run(command + ["--diff"], stdin=RENDER.open("rb"), capture_output=True, text=True)
    sys.stdout.write(diff.stdout)
    sys.stdout.write(diff.stderr)
    if diff.returncode:
        return diff.returncode
    out = subprocess.run(command, stdin=RENDER.open("rb"), capture_output=True)
    if out.returncode:
        sys.stdout.write(out.stderr.decode())
        return out.returncode
    before, after = RENDER.read_bytes(), out.stdout
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    added = sum(1 for line in changed if line.startswith("+"))
    print(f"\n{len(before)} bytes in, {len(after)} bytes out: {added} lines added, "
          f"{len(changed) - added} removed; every other line is as Helm rendered it.")
    again = subprocess.run(command, input=after, capture_output=True)
    print("second run over the output changes nothing:", again.stdout == after)
    return 0 if again.stdout == after else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `make demo | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
