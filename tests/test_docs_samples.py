"""The samples in README.md and docs/*.md, run again: every documented command's output is compared
with the text the document shows, so that a sample cannot go stale.

Markers (HTML comments: invisible where the markdown is rendered), each right before a fenced block:
- `<!-- sample: postrender ARGS [< IN] [> OUT] -->`: the block is what the command prints on stdout;
  `<!-- sample stderr: ... -->` on stderr; `<!-- sample NAME: ... -->` what it leaves in the file NAME.
  A plain `postrender` command runs in-process (conftest.run_main): only its text matters here.
- `<!-- sample -->`: the block is a transcript: each line `$ COMMAND` runs in bash (the console
  script, as a reader would type it) and the lines up to the next `$ ` are what it prints (stdout,
  then stderr).
- `<!-- file: NAME -->`: the block is a file that later samples read.
A line `...` stands for any number of lines. In a JSON block a list may leave entries out (the rest
in order) and a string ending in `...` stands for any string that starts so; every mapping shows
all its keys. Lines are compared without trailing blanks.

Each document's samples run in order, in one directory that holds `examples/` and the document's
files, with RENDER=examples/airflow-1.19.0-helm3.yaml (the walk-through's variable).

`python tests/test_docs_samples.py --update` writes the real output into every sample that has no
`...` (an abridged sample is left for a person to abridge again).
"""
import json
import os
import re
import shlex
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from conftest import ROOT, run_main

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RENDER = "examples/airflow-1.19.0-helm3.yaml"
MARKER = re.compile(r"^<!-- (?:(?P<file>file): (?P<name>\S+)|sample(?: (?P<what>[^:]+?))?(?:: (?P<cmd>.*?))?) -->$")
ELLIPSIS = "..."


@dataclass
class Block:
    doc: Path
    line: int                    # 1-based line of the marker
    body: List[str]              # the fenced block's lines
    start: int                   # 0-based index of the first body line (for --update)
    lang: str
    file: Optional[str] = None   # a `file:` block
    what: str = "stdout"         # stdout, stderr or the name of a file the command leaves
    cmd: Optional[str] = None    # None for a transcript
    outputs: List[str] = field(default_factory=list)  # the real text, filled in by running

    @property
    def ident(self) -> str:
        return f"{self.doc.name}:{self.line}"


def blocks_of(doc: Path) -> List[Block]:
    lines = doc.read_text(encoding="utf-8").split("\n")
    found = []
    for i, line in enumerate(lines):
        marker = MARKER.match(line)
        if not marker:
            continue
        fence = i + 1
        assert fence < len(lines) and lines[fence].startswith("```"), \
            f"{doc.name}:{i + 1}: a sample or file marker must stand right before a fenced block"
        end = lines.index("```", fence + 1)
        block = Block(doc, i + 1, lines[fence + 1:end], fence + 1, lines[fence][3:].strip())
        if marker.group("file"):
            block.file = marker.group("name")
        else:
            block.what = marker.group("what") or "stdout"
            block.cmd = marker.group("cmd")
        found.append(block)
    return found


# -- running ------------------------------------------------------------------------------------------
def console_script() -> Path:
    script = Path(sys.executable).parent / "postrender"
    if not script.is_file():
        pytest.skip("the postrender console script is not installed in this environment: run `make setup`")
    return script


def environment(work: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTRENDER_", "HELM_"))}
    env.update(RENDER=RENDER, XDG_STATE_HOME=str(work / "state"), NO_COLOR="1", LC_ALL="C.UTF-8",
               PATH=f"{console_script().parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}")
    return env


@contextmanager
def inside(work: Path, env: Dict[str, str]):
    """cwd and environment of an in-process run, put back after it."""
    saved_cwd, saved_env = os.getcwd(), dict(os.environ)
    os.chdir(work)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def in_process(cmd: str, work: Path, env: Dict[str, str]) -> Optional[Tuple[str, str]]:
    """stdout and stderr of `postrender ARGS [< IN] [> OUT] [2> ERR]` run by main(); None for any other
    shell command."""
    words = shlex.split(cmd.replace("$RENDER", RENDER))
    if words[0] != "postrender" or set(words) & {"|", "||", "&&", ";", "&"}:
        return None
    args, redirects = [], {}
    it = iter(words[1:])
    for word in it:
        if word in ("<", ">", "2>"):
            redirects[word] = next(it)
        else:
            args.append(word)
    with inside(work, env):
        stdin = Path(redirects["<"]).read_bytes() if "<" in redirects else b""
        _, out, err_bytes = run_main(args, stdin)
        text, err = out.decode("utf-8"), err_bytes.decode("utf-8")
        if ">" in redirects:
            Path(redirects[">"]).write_text(text, encoding="utf-8")
            text = ""
        if "2>" in redirects:
            Path(redirects["2>"]).write_text(err, encoding="utf-8")
            err = ""
    return text, err


def in_bash(cmd: str, work: Path, env: Dict[str, str]) -> Tuple[str, str]:
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-o", "pipefail", "-c", cmd], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.stdout, proc.stderr


def transcript(body: List[str]) -> List[Tuple[str, List[str]]]:
    """(command, the lines shown after it) of each `$ ` line of a transcript block."""
    steps: List[Tuple[str, List[str]]] = []
    for line in body:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"a transcript starts with a `$ ` line, not {line!r}"
            steps[-1][1].append(line)
    return steps


def run_doc(doc: Path, work: Path) -> List[Block]:
    """Every block of the document, in order, with the real output of each sample."""
    (work / "examples").symlink_to(ROOT / "examples")
    env = environment(work)
    found = blocks_of(doc)
    for block in found:
        if block.file is not None:
            target = work / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(block.body) + "\n", encoding="utf-8")
        elif block.cmd is None:
            block.outputs = ["".join(in_bash(cmd, work, env)) for cmd, _ in transcript(block.body)]
        else:
            out, err = in_process(block.cmd, work, env) or in_bash(block.cmd, work, env)
            if block.what == "stdout":
                block.outputs = [out]
            elif block.what == "stderr":
                block.outputs = [err]
            else:
                block.outputs = [(work / block.what).read_text(encoding="utf-8")]
    return found


# -- comparing ----------------------------------------------------------------------------------------
def lines_match(shown: List[str], real: str) -> bool:
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == ELLIPSIS else re.escape(line.rstrip()) + r"\n"
                      for line in shown)
    text = "".join(line.rstrip() + "\n" for line in real.splitlines())
    return re.fullmatch(pattern, text) is not None


def json_match(shown, real) -> bool:
    if isinstance(shown, dict):
        return isinstance(real, dict) and shown.keys() == real.keys() and all(
            json_match(value, real[key]) for key, value in shown.items())
    if isinstance(shown, list):
        if not isinstance(real, list):
            return False
        rest = iter(real)  # each shown entry matches a later real one: a subsequence
        return all(any(json_match(item, candidate) for candidate in rest) for item in shown)
    if isinstance(shown, str) and shown.endswith(ELLIPSIS):
        return isinstance(real, str) and real.startswith(shown[:-len(ELLIPSIS)])
    return shown == real


def shown_parts(block: Block) -> List[List[str]]:
    return [shown for _, shown in transcript(block.body)] if block.cmd is None else [block.body]


def matches(block: Block) -> bool:
    if block.lang == "json":
        return json_match(json.loads("\n".join(block.body)), json.loads(block.outputs[0]))
    return all(lines_match(shown, real) for shown, real in zip(shown_parts(block), block.outputs))


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Dict[str, Block]:
    """Each document's samples, run once (in order: a sample may read what an earlier one wrote)."""
    found = {}
    for doc in DOCS:
        work = tmp_path_factory.mktemp(doc.stem)
        found.update((block.ident, block) for block in run_doc(doc, work) if block.file is None)
    return found


SAMPLES = [block.ident for doc in DOCS for block in blocks_of(doc) if block.file is None]


def test_the_walkthrough_and_the_readme_have_samples():
    assert any(ident.startswith("walkthrough.md:") for ident in SAMPLES)
    assert any(ident.startswith("README.md:") for ident in SAMPLES)


@pytest.mark.parametrize("ident", SAMPLES)
def test_sample_shows_what_the_command_prints(ran, ident):
    block = ran[ident]
    if block.cmd is None:
        got = "\n".join(f"$ {cmd}\n{real}" for (cmd, _), real in zip(transcript(block.body), block.outputs))
    else:
        got = block.outputs[0]
    assert matches(block), f"{ident}: the sample is stale; the command prints:\n{got}"


# -- the options as --help names them -----------------------------------------------------------------
def help_metavars() -> Dict[str, str]:
    code, out, _ = run_main(["--help"], b"")
    assert code == 0
    found = {}
    for line in out.decode("utf-8").splitlines():
        option = re.match(r"^\s+(?:(-\w), )?(--[\w-]+)(?: (\S+))?", line)
        if option and option.group(3):
            for name in filter(None, option.group(1, 2)):
                found[name] = option.group(3)
    return found


def test_docs_give_each_option_the_argument_help_names():
    metavars = help_metavars()
    assert metavars["--volume"] == "NAME=CLAIM:MOUNTPATH[:ro|:rw]"
    mentions = []
    for doc in (ROOT / "README.md", ROOT / "docs" / "walkthrough.md", ROOT / "docs" / "recipes.md"):
        for span in re.findall(r"`([^`\n]+)`", doc.read_text(encoding="utf-8")):
            mention = re.match(r"^(?:postrender )?(-c|--[a-z][a-z-]*) ([A-Z][^\s]*)", span)
            if mention and mention.group(1) in metavars:
                mentions.append((doc.name, mention.group(1), mention.group(2)))
    assert ("README.md", "--volume", metavars["--volume"]) in mentions
    assert [m for m in mentions if m[2] != metavars[m[1]]] == []


# -- links between the documents ---------------------------------------------------------------------
def prose(doc: Path) -> str:
    """The document without its fenced blocks."""
    return re.sub(r"(?ms)^```.*?^```", "", doc.read_text(encoding="utf-8"))


def anchors(doc: Path) -> set:
    """GitHub's anchors for the document's headings: lower case, punctuation dropped, spaces to hyphens."""
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
            for heading in re.findall(r"(?m)^#+ (.+)$", prose(doc))}


@pytest.mark.parametrize("doc", [ROOT / "README.md", ROOT / "docs" / "walkthrough.md", ROOT / "docs" / "recipes.md"],
                         ids=lambda doc: doc.name)
def test_links_to_other_documents_reach_a_file_and_a_heading(doc):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(doc)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        if not linked.is_file() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    assert broken == []


# -- make demo ----------------------------------------------------------------------------------------
def test_demo_shows_the_diff_command_it_runs_and_that_a_second_run_changes_nothing(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py")], capture_output=True, text=True,
                          timeout=120, env=environment(tmp_path), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first == f"$ postrender --diff --logs-claim airflow-log-pvc < {RENDER}"
    assert "\n+++ ConfigMap/airflow-config key pod_template_file.yaml (document 12)\n" in proc.stdout
    assert proc.stdout.rstrip().endswith("second run over the output changes nothing: True")


# -- python tests/test_docs_samples.py --update ---------------------------------------------------------
def update(work_root: Path) -> None:
    for doc in DOCS:
        work = work_root / doc.stem
        work.mkdir()
        lines = doc.read_text(encoding="utf-8").split("\n")
        for block in reversed(run_doc(doc, work)):
            if block.file is not None or matches(block):
                continue
            if any(line.strip() == ELLIPSIS for line in block.body) or block.lang == "json":
                print(f"{block.ident}: abridged and stale: edit it by hand")
                continue
            if block.cmd is None:
                new = [line for (cmd, _), real in zip(transcript(block.body), block.outputs)
                       for line in [f"$ {cmd}", *real.splitlines()]]
            else:
                new = block.outputs[0].splitlines()
            lines[block.start:block.start + len(block.body)] = new
            print(f"{block.ident}: updated")
        doc.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_docs_samples.py --update")
    with tempfile.TemporaryDirectory() as scratch:
        update(Path(scratch))
