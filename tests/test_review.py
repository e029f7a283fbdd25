"""`postrender --diff`: a unified diff of what the render would change, object by object.

The embedded worker pod template must be diffed as YAML lines of the template itself
(under `ConfigMap/NAME key KEY`), never as one escaped string; every other document is
diffed as its own lines, with hunk line numbers that point into the input (`-`) and the
output (`+`). Unit tests call `review` directly; CLI tests run the console script.
"""
import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from conftest import run_main, transform
from postrender import review
from postrender.inventory import inventory
from postrender.read import Stream
from postrender.spec import Spec, parse_spec_text
from postrender.yamlio import load

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "operator"
EXAMPLES = ROOT / "examples"
HELM3 = EXAMPLES / "airflow-1.19.0-helm3.yaml"
HELM4 = EXAMPLES / "airflow-1.19.0-helm4.yaml"
RENDERS = ROOT.parent / "shared" / "airflow-renders"
TEMPLATE = "ConfigMap/airflow-config key pod_template_file.yaml"

# Logs on a claim (the chart's emptyDir gives way) and a new shared folder for the worker pods.
SPEC = """\
volumes:
  - name: logs
    claimName: airflow-log-pvc
    mountPath: /opt/airflow/logs
    replace: true
    targets: [pod-template, scheduler]
    create: {storage: 50Gi, accessModes: [ReadWriteMany], storageClassName: nfs}
  - name: share
    claimName: airflow-share
    mountPath: /opt/airflow/share
    targets: [pod-template]
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# -- helpers ------------------------------------------------------------------------------------------
def cli(*args: str, stdin: bytes = b"", env_extra: Dict[str, str] = None) -> subprocess.CompletedProcess:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("NO_COLOR", raising=False)  # colour is decided by the tests
        return run_main(list(args), stdin, env_extra)


def spec_file(tmp_path: Path, text: str = SPEC) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return str(path)


def sections(diff: str) -> List[Tuple[str, str, List[str]]]:
    """(old header, new header, body lines) of every file section of a unified diff."""
    out: List[Tuple[str, str, List[str]]] = []
    lines = diff.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            out.append((lines[i][4:], lines[i + 1][4:], []))
            i += 2
            continue
        assert out, f"diff text before the first header: {lines[i]!r}"
        out[-1][2].append(lines[i])
        i += 1
    return out


def section(diff: str, name: str) -> List[str]:
    found = [body for old, new, body in sections(diff) if new.startswith(name + " ")]
    assert len(found) == 1, f"expected one section for {name}, got {len(found)}:\n{diff}"
    return found[0]


def documents(data: bytes) -> List[str]:
    return [chunk.text() for chunk in Stream(io.BytesIO(data))]


def document_number(data: bytes, kind: str, name: str) -> int:
    for chunk in Stream(io.BytesIO(data)):
        if f"kind: {kind}" in chunk.text() and re.search(rf"(?m)^  name: \"?{name}\"?$", chunk.text()):
            return chunk.index
    raise AssertionError(f"{kind}/{name} not in the stream")


def run_diff(data: bytes, spec_text: str = SPEC, color: bool = False) -> Tuple[str, object]:
    stream = Stream(io.BytesIO(data))
    spec = Spec(volumes=parse_spec_text(spec_text, "test"))
    return review.diff_stream(stream, iter(stream), spec, color=color)


# -- the pod template is diffed as YAML lines ---------------------------------------------------------
@pytest.mark.parametrize("render", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_diff_shows_claim_inside_pod_template_as_yaml_lines(tmp_path, render):
    data = render.read_bytes()
    result = cli("--diff", "-c", spec_file(tmp_path), stdin=data)
    assert result.returncode == 0, result.stderr.decode()
    diff = result.stdout.decode()
    number = document_number(data, "ConfigMap", "airflow-config")
    assert f"--- {TEMPLATE} (document {number})" in diff.splitlines()
    body = section(diff, TEMPLATE)
    added = [line[1:] for line in body if line.startswith("+")]
    removed = [line[1:] for line in body if line.startswith("-")]
    # the claim, as lines of the template's volume list
    assert "  - name: logs" in added
    assert "    persistentVolumeClaim:" in added
    assert "      claimName: airflow-log-pvc" in added
    assert "      claimName: airflow-share" in added
    assert removed == ["  - emptyDir:", "      {}", "    name: logs"]
    # the new mount, inside the base container's volumeMounts
    assert "        - name: share" in added
    assert "          mountPath: /opt/airflow/share" in added
    # never the escaped string (Helm 4) nor the indented block (Helm 3)
    assert not any("\\n" in line for line in body)
    assert not any(line.startswith(("+  pod_template_file.yaml", "-  pod_template_file.yaml")) for line in body)
    # ... and the ConfigMap itself has no section of its own: only its template changed
    assert not [new for _, new, _ in sections(diff) if new.startswith("ConfigMap/airflow-config (")]


def test_template_diff_is_the_same_under_helm3_and_helm4(tmp_path):
    """The template is decoded first, so its `|-` block and its quoted string diff alike."""
    bodies = []
    for render in (HELM3, HELM4):
        diff, _ = run_diff(render.read_bytes())
        bodies.append(section(diff, TEMPLATE))
    assert bodies[0] == bodies[1]


def test_diff_template_hunks_number_lines_of_the_template(tmp_path):
    data = HELM3.read_bytes()
    diff, _ = run_diff(data)
    before = load(documents(data)[document_number(data, "ConfigMap", "airflow-config") - 1])
    old_lines = before["data"]["pod_template_file.yaml"].splitlines()
    body = section(diff, TEMPLATE)
    _check_hunks(body, old_lines, None)


# -- documents ----------------------------------------------------------------------------------------
def _check_hunks(body: List[str], old: List[str], new) -> None:
    """Every hunk's `-`/context lines are at its old line numbers (and `+`/context at its new ones)."""
    hunks = [i for i, line in enumerate(body) if line.startswith("@@")]
    assert hunks, body
    for n, start in enumerate(hunks):
        a, _, c, _ = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$", body[start]).groups()
        lines = body[start + 1: hunks[n + 1] if n + 1 < len(hunks) else len(body)]
        at_old, at_new = int(a), int(c)
        for line in lines:
            if line[:1] in (" ", "-"):
                assert old[at_old - 1] == line[1:], (at_old, line)
                at_old += 1
            if new is not None and line[:1] in (" ", "+"):
                assert new[at_new - 1] == line[1:], (at_new, line)
                at_new += 1


@pytest.mark.parametrize("render", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_diff_hunk_line_numbers_are_stream_lines_of_input_and_output(render):
    data = render.read_bytes()
    diff, _ = run_diff(data)
    out, _ = transform(data, SPEC)
    old_lines, new_lines = data.decode().splitlines(), out.decode().splitlines()
    checked = 0
    for old_name, new_name, body in sections(diff):
        if " key " in new_name:
            continue  # template sections count lines inside the template
        _check_hunks(body, old_lines, new_lines)
        checked += 1
    assert checked >= 2


def test_diff_headers_name_kind_name_and_document_number():
    data = HELM3.read_bytes()
    diff, _ = run_diff(data)
    headers = [new for _, new, _ in sections(diff)]
    scheduler = document_number(data, "Deployment", "airflow-scheduler")
    assert f"Deployment/airflow-scheduler (document {scheduler})" in headers
    for old, new, _ in sections(diff):
        assert re.match(r"^[A-Z][A-Za-z]+/[a-z0-9.-]+( key \S+)? \((new, )?document \d+\)$", new), new
        assert old == new or old == "/dev/null"


def test_diff_shows_scheduler_claim_and_roll_annotation():
    data = HELM3.read_bytes()
    diff, _ = run_diff(data)
    body = section(diff, "Deployment/airflow-scheduler")
    added = [line[1:].strip() for line in body if line.startswith("+")]
    removed = [line[1:].strip() for line in body if line.startswith("-")]
    assert "persistentVolumeClaim:" in added and "claimName: airflow-log-pvc" in added
    assert "emptyDir: {}" in removed or "{}" in removed
    assert any(line.startswith("checksum/postrender: ") for line in added)
    # the share volume is for the worker pods only
    assert not any("share" in line for line in added)


def test_diff_lists_created_claim_as_new_document_after_the_others():
    data = HELM4.read_bytes()
    diff, _ = run_diff(data)
    last_old, last_new, body = sections(diff)[-1]
    count = len(documents(data))
    assert last_old == "/dev/null"
    assert last_new == f"PersistentVolumeClaim/airflow-log-pvc (new, document {count + 1})"
    assert all(line.startswith(("+", "@@")) for line in body)
    text = "\n".join(line[1:] for line in body if line.startswith("+"))
    claim = load(text.split("---\n", 1)[1])
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["storageClassName"] == "nfs"


def test_diff_prints_only_changes_not_the_manifests():
    diff, _ = run_diff(HELM3.read_bytes())
    assert "kind: ServiceAccount" not in diff
    assert "# Source: airflow/templates/rbac/pod-launcher-role.yaml" not in diff
    # untouched objects have no section
    assert not [n for _, n, _ in sections(diff) if n.startswith(("Service/", "Secret/", "Role"))]


def test_diff_on_fixture_names_every_changed_object_once(tmp_path):
    data = (FIXTURES / "mini-helm3.yaml").read_bytes()
    result = cli("--diff", "-c", str(FIXTURES / "spec-logs-share.yaml"), stdin=data)
    assert result.returncode == 0, result.stderr.decode()
    headers = [new for _, new, _ in sections(result.stdout.decode())]
    assert headers == [
        "ConfigMap/demo-config key pod_template_file.yaml (document 2)",
        "Deployment/demo-scheduler (document 3)",
        "PersistentVolumeClaim/demo-logs (new, document 7)",
    ]
    # the Job mounts the same ConfigMap but is not rolled (contract point 4), the triggerer is not targeted
    assert "demo-migrate" not in result.stdout.decode()


# -- nothing to show ----------------------------------------------------------------------------------
def test_diff_is_empty_when_the_render_already_has_the_changes(tmp_path):
    spec = spec_file(tmp_path)
    first = cli("-c", spec, stdin=HELM3.read_bytes())
    assert first.returncode == 0, first.stderr.decode()
    again = cli("--diff", "-c", spec, stdin=first.stdout)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout == b""


def test_diff_is_empty_and_warns_when_the_spec_matches_nothing(tmp_path):
    spec = spec_file(tmp_path, "volumes:\n- {name: data, claimName: data, mountPath: /data, targets: [nosuch]}\n")
    result = cli("--diff", "-c", spec, stdin=HELM3.read_bytes())
    assert result.returncode == 0
    assert result.stdout == b""
    assert b"matched no object" in result.stderr


def test_diff_unit_returns_empty_text_for_no_change():
    text, ledger = run_diff((FIXTURES / "mini-helm3.yaml").read_bytes(),
                            "volumes:\n- {name: x, claimName: x, mountPath: /x, targets: [nosuch]}\n")
    assert text == ""
    assert ledger.changes == []


def test_diff_of_stream_without_final_newline_shows_only_the_new_claim():
    data = (FIXTURES / "mini-helm3.yaml").read_bytes().rstrip(b"\n")
    spec = ("volumes:\n- {name: extra, claimName: extra, mountPath: /extra, targets: [{kind: Job}],"
            " create: {storage: 1Gi}}\n")
    diff, _ = run_diff(data, spec)
    assert [new for _, new, _ in sections(diff)] == [
        "Job/demo-migrate (document 5)", "PersistentVolumeClaim/extra (new, document 7)"]


# -- failures -----------------------------------------------------------------------------------------
def test_diff_failure_leaves_stdout_empty_and_names_the_object(tmp_path):
    spec = spec_file(tmp_path, SPEC.replace("    replace: true\n", ""))
    result = cli("--diff", "-c", spec, stdin=HELM3.read_bytes())
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"ConfigMap/airflow-config" in result.stderr
    assert b"replace: true" in result.stderr


# -- colour -------------------------------------------------------------------------------------------
def test_diff_colours_only_when_asked():
    data = (FIXTURES / "mini-helm3.yaml").read_bytes()
    plain, _ = run_diff(data, (FIXTURES / "spec-logs-share.yaml").read_text(), color=False)
    coloured, _ = run_diff(data, (FIXTURES / "spec-logs-share.yaml").read_text(), color=True)
    assert not ANSI.search(plain)
    assert "\x1b[32m+" in coloured and "\x1b[31m-" in coloured and "\x1b[36m@@" in coloured
    assert ANSI.sub("", coloured) == plain


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_color_needs_a_terminal_and_no_NO_COLOR():
    assert review.use_color(_Tty(), {}) is True
    assert review.use_color(_Tty(), {"NO_COLOR": "1"}) is False
    assert review.use_color(_Tty(), {"NO_COLOR": ""}) is False  # set, even empty
    assert review.use_color(io.StringIO(), {}) is False


def test_diff_through_a_pipe_has_no_colour(tmp_path):
    result = cli("--diff", "-c", spec_file(tmp_path), stdin=HELM3.read_bytes())
    assert result.stdout and not ANSI.search(result.stdout.decode())


def _run_on_terminal(args: List[str], stdin: bytes, env_extra: Dict[str, str]) -> str:
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTRENDER_", "HELM_")) and k != "NO_COLOR"}
    env.update(env_extra)
    proc = subprocess.Popen([sys.executable, "-m", "postrender", *args], stdin=subprocess.PIPE, stdout=slave,
                            stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    os.close(slave)
    proc.stdin.write(stdin)
    proc.stdin.close()
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            block = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not block:
            break
        chunks.append(block)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode()


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_diff_on_a_terminal_is_coloured_unless_NO_COLOR(tmp_path):
    args = ["--diff", "-c", str(FIXTURES / "spec-logs-share.yaml")]
    data = (FIXTURES / "mini-helm3.yaml").read_bytes()
    assert "\x1b[32m+" in _run_on_terminal(args, data, {})
    assert not ANSI.search(_run_on_terminal(args, data, {"NO_COLOR": "1"}))


# -- the pairing of documents ------------------------------------------------------------------------
def test_diff_document_shows_other_configmap_changes_beside_the_template():
    before = review._Doc(4, 10, "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: one\n"
                                "  t: \"kind: Pod\\nspec:\\n  containers: []\\n\"\n")
    after = review._Doc(4, 10, "kind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: two\n"
                               "  t: \"kind: Pod\\nspec:\\n  containers: [x]\\n\"\n")
    lines = review.diff_document(before, after)
    headers = [line for line in lines if line.startswith("+++ ")]
    assert headers == ["+++ ConfigMap/c (document 4)", "+++ ConfigMap/c key t (document 4)"]
    assert "+  containers: [x]" in lines


def test_diff_documents_falls_back_to_a_whole_stream_diff_when_documents_do_not_pair():
    before = [review._Doc(1, 0, "---\na: 1\n"), review._Doc(2, 2, "---\nb: 1\n")]
    after = [review._Doc(1, 0, "---\na: 1\nb: 2\n")]
    lines = review.diff_documents(before, after)
    assert lines[:2] == ["--- stream (input)", "+++ stream (output)"]
    assert "+b: 2" in lines and "-b: 1" in lines


def test_diff_of_a_crlf_stream_with_a_bom_reads_like_the_lf_one():
    data = (FIXTURES / "mini-helm3.yaml").read_bytes()
    spec = (FIXTURES / "spec-logs-share.yaml").read_text()
    lf, _ = run_diff(data, spec)
    crlf, _ = run_diff(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"), spec)
    assert lf and crlf == lf
    assert "\r" not in crlf and "\ufeff" not in crlf


def test_unchanged_line_ends_are_not_a_change():
    assert review.diff_document(review._Doc(1, 0, "a: 1\r\nb: 2"), review._Doc(1, 0, "a: 1\r\nb: 2\n")) == []


# -- the captured renders -----------------------------------------------------------------------------
CAPTURES = sorted(RENDERS.glob("helm*-*.yaml")) if RENDERS.is_dir() else []


@pytest.mark.captures
@pytest.mark.skipif(not CAPTURES, reason=f"{RENDERS} is absent")
@pytest.mark.parametrize("render", CAPTURES, ids=lambda p: p.stem)
def test_diff_on_captured_renders_shows_the_new_mount_in_every_pod_template(render):
    data = render.read_bytes()
    result = cli("--diff", "--volume", "share=extra-claim:/opt/airflow/team-share", stdin=data)
    assert result.returncode == 0, result.stderr.decode()
    diff = result.stdout.decode()
    expected = {f"ConfigMap/{t.name} key {t.key}" for t in inventory(io.BytesIO(data)).templates}
    templates = [(new, body) for _, new, body in sections(diff) if " key " in new]
    assert {name.split(" (document")[0] for name, _ in templates} == expected
    for name, body in templates:
        added = [line[1:].strip() for line in body if line.startswith("+")]
        assert "claimName: extra-claim" in added, name
        assert "mountPath: /opt/airflow/team-share" in added, name
        assert not any("\\n" in line for line in body), name
