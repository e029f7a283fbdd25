"""Shell completion (click's protocol, as the scripts from `_POSTRENDER_COMPLETE=bash_source
postrender` call it): `-c` and `--report` complete file names, the other options what they take."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def complete(words: str, shell: str = "bash") -> list:
    """What the completion script gets back for the command line `words` (the cursor at its end)."""
    parts = words.split(" ")
    env = dict(os.environ, _POSTRENDER_COMPLETE=f"{shell}_complete", COMP_WORDS=words,
               COMP_CWORD=str(len(parts) - 1))
    env.pop("HELM_PLUGIN_NAME", None)
    proc = subprocess.run([sys.executable, "-m", "postrender"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.parametrize("words", ["postrender -c ", "postrender --config sp", "postrender --report ",
                                   "postrender -c a.yaml --report ch"])
def test_file_options_complete_file_names(words):
    # bash then lists the files that start with the word (compopt -o default)
    assert complete(words) == ["file," + words.rsplit(" ", 1)[1]]


def test_zsh_gets_file_completion_too():
    out = complete("postrender -c ", "zsh")
    assert out[0] == "file", out


def test_other_options_complete_what_they_take():
    assert complete("postrender --output ") == ["plain,table", "plain,json"]
    assert complete("postrender --out") == ["plain,--output"]
    assert "file," not in complete("postrender --logs-claim ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_source_scripts(shell):
    env = dict(os.environ, _POSTRENDER_COMPLETE=f"{shell}_source")
    proc = subprocess.run([sys.executable, "-m", "postrender"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "_POSTRENDER_COMPLETE" in proc.stdout and "postrender" in proc.stdout
