"""patch/align.py: the opcodes that turn one list into another, difflib's only when they must be."""
from __future__ import annotations

import difflib
import subprocess
import sys
from typing import List, Sequence, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from postrender.patch.align import opcodes

items = st.lists(st.sampled_from("abcdef"), max_size=8)


def _apply(old: Sequence[str], new: Sequence[str], codes: Sequence[Tuple[str, int, int, int, int]]) -> List[str]:
    out: List[str] = []
    at_old = at_new = 0
    for op, i1, i2, j1, j2 in codes:
        assert (i1, j1) == (at_old, at_new)  # contiguous, in order, covering both lists
        if op == "equal":
            assert list(old[i1:i2]) == list(new[j1:j2])
            out += old[i1:i2]
        else:
            assert op in ("replace", "delete", "insert") and (i2 > i1 or j2 > j1)
            out += new[j1:j2]
        at_old, at_new = i2, j2
    assert (at_old, at_new) == (len(old), len(new))
    return out


def difflib_opcodes(old: Sequence[object], new: Sequence[object]) -> List[Tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()


@settings(max_examples=300)
@given(items, items)
def test_opcodes_turn_the_old_list_into_the_new_one(old, new):
    assert _apply(old, new, opcodes(old, new)) == new


@settings(max_examples=300)
@given(st.lists(st.integers(0, 30), max_size=10, unique=True), st.integers(0, 10), st.integers(0, 3),
       st.lists(st.integers(31, 60), max_size=4, unique=True))
def test_a_change_in_one_place_of_distinct_items_aligns_as_difflib_does(old, at, removed, added):
    at = min(at, len(old))
    new = old[:at] + added + old[at + removed:]
    assert opcodes(old, new) == difflib_opcodes(old, new)


def test_an_added_mount_is_one_insert_after_the_kept_items():
    assert opcodes(["a", "b"], ["a", "b", "logs"]) == [("equal", 0, 2, 0, 2), ("insert", 2, 2, 2, 3)]


def test_a_replaced_volume_is_one_replace_between_kept_items():
    assert opcodes(["a", "logs", "c"], ["a", "claim", "c"]) == [
        ("equal", 0, 1, 0, 1), ("replace", 1, 2, 1, 2), ("equal", 2, 3, 2, 3)]


def test_lines_replaced_by_as_many_others_are_one_replace():
    old = ["volumes:", "- emptyDir: {}", "  name: logs", "- name: config"]
    new = ["volumes:", "- name: logs", "  persistentVolumeClaim: {claimName: logs}", "- name: config"]
    assert opcodes(old, new) == [("equal", 0, 1, 0, 1), ("replace", 1, 3, 1, 3), ("equal", 3, 4, 3, 4)]


def test_changes_in_several_places_go_to_difflib():
    old, new = ["a", "b", "c", "d"], ["x", "b", "c", "y"]
    assert opcodes(old, new) == difflib_opcodes(old, new) == [
        ("replace", 0, 1, 0, 1), ("equal", 1, 3, 1, 3), ("replace", 3, 4, 3, 4)]


def test_a_change_in_one_place_does_not_import_difflib():
    code = ("import sys; from postrender.patch.align import opcodes; opcodes('abc', 'abxc'); "
            "opcodes('abc', 'ac'); opcodes('abc', 'axc'); print('difflib' in sys.modules)")
    assert subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
