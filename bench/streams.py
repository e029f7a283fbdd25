"""Benchmark input: N copies of one rendered Airflow release, each renamed as its own release.

The release name `airflow` is replaced only where it IS the release name:
  * resource-name prefixes `airflow-...` (`airflow-scheduler`, `"airflow-worker"`,
    `http://airflow-api-server:8080`, `statsd_host = airflow-statsd`);
  * names that are the release name alone (`name: airflow`, `serviceAccountName: airflow`,
    as the community chart names its ServiceAccount);
  * `release: airflow` labels.
Everything else stays: image `apache/airflow`, paths `/opt/airflow/...`, the chart label
`airflow-1.19.0`, `checksum/airflow-config`, `wait-for-airflow-migrations`, `tier: airflow`,
`# Source: airflow/templates/...` (the chart name) and the namespace `airflow`.
Renaming keeps every object id unique, so the whole stream is valid for kustomize as well.
"""
import re
from pathlib import Path
from typing import Iterator

RELEASE = "airflow"

# `airflow-` not glued to a word, `.`, `-` or a path (but `//` of a URL is fine), not a version.
_NAME_PREFIX = re.compile(r"(?:(?<=//)|(?<![\w./-]))airflow-(?!\d)")
_RELEASE_LABEL = re.compile(r"\b(release: [\"']?)airflow\b")
# `name: airflow`, `serviceAccountName: "airflow"`: a key ending in name/Name (a label key such as
# `app.kubernetes.io/name`, which holds the chart name, has a `/` and does not match)
_EXACT_NAME = re.compile(r"^([ \t]*(?:- )?[A-Za-z]*[nN]ame: [\"']?)airflow(?=[\"']?[ \t]*\r?$)", re.MULTILINE)


def release_name(index: int) -> str:
    return f"rel{index:04d}"


def rename_release(text: str, new: str) -> str:
    text = _NAME_PREFIX.sub(new + "-", text)
    text = _EXACT_NAME.sub(lambda m: m.group(1) + new, text)
    return _RELEASE_LABEL.sub(lambda m: m.group(1) + new, text)


def releases(render: str, copies: int) -> Iterator[str]:
    """`copies` renamed releases, one after the other, each starting on a `---` line."""
    if not render.endswith("\n"):
        render += "\n"
    if not render.startswith("---"):
        render = "---\n" + render
    return (rename_release(render, release_name(i)) for i in range(copies))


def write_stream(render_path: Path, copies: int, out_dir: Path) -> Path:
    """Write the stream for `copies` releases under out_dir and return its path.

    One release at a time: the benchmark process must stay small, since a child's peak RSS
    (ru_maxrss) counts the parent's pages it shares between fork and exec.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"stream-{render_path.stem}-x{copies}.yaml"
    render = render_path.read_text(encoding="utf-8")
    with path.open("wb") as out:
        for release in releases(render, copies):
            out.write(release.encode("utf-8"))
    return path
