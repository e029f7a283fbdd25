"""postrender.yamlio module by module: limits, marks, values, emit, and what importing it costs."""
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postrender.errors import InputError, Where, stream_line
from postrender.yamlio import (
    Plain,
    compose,
    dump_block,
    dump_scalar,
    entries,
    entry,
    load,
    node_identity,
    parse,
    scan,
    to_data,
)
from postrender.yamlio.breaks import ODD_BREAK_UTF8, OTHER_BREAKS, OTHER_BREAKS_UTF8
from postrender.yamlio.limits import MAX_DEPTH, may_alias, may_be_deep, may_hold_many_nodes
from postrender.yamlio.marks import yaml_error


# -- errors.stream_line ------------------------------------------------------------------------------
def test_stream_line_turns_a_0_based_mark_line_into_a_1_based_stream_line():
    assert stream_line(0, 0) == 1
    assert stream_line(10, 2) == 13  # line 2 of a document that starts after 10 stream lines


# -- limits --------------------------------------------------------------------------------------------------
def test_cheap_tests_pass_an_ordinary_manifest_without_a_scan():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: '*b'\n"
    assert not may_be_deep(text) and not may_hold_many_nodes(text) and not may_alias(text)
    assert may_alias("a: &x 1\nb: *x\n") and may_alias(b"a: &x 1\nb: [*x]\n")


# An alias token as first spelled: `*` and a name at the start or after a blank, a line break, a
# BOM or `[{,`. may_alias looks behind the `*` instead (fast); it must say what this says.
_PLAIN_ALIAS = r"(?:^|[\s\[{,\ufeff])\*[^\s\[\]{},]"
_PLAIN_ALIAS_UTF8 = rb"(?:^|[\s\[{,]|\xc2\x85|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf)\*[^\s\[\]{},]"
# what may stand before a `*` (breaks of every kind, flow indicators, words, lookalikes) and after it
_BEFORE_STAR = ["", "a", " ", "\t", "\n", "\r", "[", "]", "{", "}", ",", ":", "*", "\x85", "\u2028", "\u2029",
                "\ufeff", "\u00c5", "\u2027", "\ufeffa", "&b"]
_AFTER_STAR = ["", "a", " ", "]", ",", "*"]


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(_BEFORE_STAR), st.sampled_from(_AFTER_STAR)), min_size=1, max_size=3)
       .map(lambda pairs: "".join(before + "*" + after for before, after in pairs)))
def test_may_alias_says_what_the_plain_token_rule_says(text):
    assert may_alias(text) == (re.search(_PLAIN_ALIAS, text) is not None)
    raw = text.encode("utf-8")
    assert may_alias(raw) == (re.search(_PLAIN_ALIAS_UTF8, raw) is not None)


def test_may_alias_finds_a_star_token_after_each_kind_of_break_and_at_the_start():
    for before in ("", " ", "\n", "[", "{", ",", "\x85", "\u2028", "\u2029", "\ufeff"):
        assert may_alias(before + "*x") and may_alias((before + "*x").encode("utf-8")), repr(before)
    for before in ("a", "\u00c5", "\u2027"):  # inside a word, or after a character that only ends like a break
        assert not may_alias(before + "*x") and not may_alias((before + "*x").encode("utf-8")), repr(before)


def test_nesting_deeper_than_the_limit_is_refused_at_its_line():
    text = "a: 1\nb: 2\nx: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    assert may_be_deep(text)
    with pytest.raises(InputError) as raised:
        compose(text, Where(document=3), first_line=20)
    assert raised.value.message.startswith(f"nested deeper than {MAX_DEPTH} levels")
    where = raised.value.where  # the root mapping is level 1: the bracket at level MAX_DEPTH + 1 is number MAX_DEPTH
    assert (where.line, where.column, where.document) == (23, 3 + MAX_DEPTH, 3)


def test_an_alias_bomb_is_refused_before_it_is_composed():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, "
              f"*a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 8)]
    with pytest.raises(InputError, match="aliases expand to more than"):
        compose("\n".join(lines) + "\n", Where())


def test_scan_counts_nodes_and_refuses_more_than_asked():
    assert scan("a: [1, 2]\n", Where()) == 5  # the mapping, its key, the list and its two items
    with pytest.raises(InputError, match="holds more than 3 values"):
        scan("a: [1, 2]\n", Where(), max_nodes=3)


# -- marks -----------------------------------------------------------------------------------------------------
def test_a_yaml_error_names_the_stream_line_and_column():
    with pytest.raises(InputError) as raised:
        compose("a: 1\nb: [2\n", Where(), first_line=5)
    assert raised.value.message.startswith("invalid YAML")
    assert (raised.value.where.line, raised.value.where.column) == (8, 1)


def test_a_lone_cr_does_not_shift_the_reported_line_and_gets_a_hint():
    with pytest.raises(InputError) as raised:
        compose("a: 1\rb: 2\nc: [\n", Where())
    assert raised.value.where.line == 3  # the stream counts LF only; libyaml would say 4
    assert "lone CR" in raised.value.hint


def test_yaml_error_of_a_reader_error_points_at_the_bad_character():
    with pytest.raises(InputError) as raised:
        load("a: 1\nb: x\x07y\n", Where())
    assert (raised.value.where.line, raised.value.where.column) == (2, 5)
    assert "0x0007" in raised.value.message
    assert yaml_error(MarklessError(), Where(line=9)).where.line == 9  # no mark: the place stays


class MarklessError(Exception):
    """An error libyaml raised without a mark."""

    problem = "something"


# -- breaks ------------------------------------------------------------------------------------------------
def test_the_odd_line_breaks_are_the_other_breaks_but_crlf():
    for text, odd in [(b"a\rb", True), (b"a\r\nb", False), (b"a\nb", False)] + [(b"a" + b + b"b", True)
                                                                                 for b in OTHER_BREAKS_UTF8[1:]]:
        assert (ODD_BREAK_UTF8.search(text) is not None) is odd, text
    assert OTHER_BREAKS_UTF8 == tuple(b.encode() for b in OTHER_BREAKS) and "\n" not in OTHER_BREAKS


# -- values ------------------------------------------------------------------------------------------------
def test_a_repeated_key_reads_as_its_last_occurrence_unless_keys_are_strict():
    root = compose("a: x\nb: y\na: z\n", Where())
    assert to_data(root) == {"a": "z", "b": "y"}
    with pytest.raises(InputError, match="duplicate key 'a'") as raised:
        to_data(root, Where(), first_line=10, strict_keys=True)
    assert raised.value.where.line == 13


def test_a_node_looked_up_by_key_is_its_last_occurrence_as_in_the_value():
    root = compose("kind: A\nmetadata: {name: x}\nkind: B\n", Where())
    key, value = entry(root, "kind")
    assert (key.value, value.value) == ("kind", "B") and to_data(root)["kind"] == "B"
    assert entry(root, "nothing") == (None, None) and entry(value, "kind") == (None, None)
    assert {k: v.value for k, v in entries(root).items() if k != "metadata"} == {"kind": "B"}
    assert node_identity(root) == "B/x" and entries(value) == {}


def test_parse_gives_tree_value_and_memo_and_names_the_object_of_a_value_that_does_not_convert():
    root, data, memo = parse("kind: Pod\nmetadata:\n  name: p\nspec: {x: y}\n", Where())
    assert data["spec"] == {"x": "y"} and memo[id(root)] is data
    assert node_identity(root) == "Pod/p"
    with pytest.raises(InputError) as raised:
        parse("kind: Pod\nmetadata: {name: p}\nspec: !!python/object x\n", Where())
    assert raised.value.where.obj == "Pod/p" and "unsupported tag" in raised.value.message


def test_scalars_read_as_yaml_1_2_core_values_numbers_and_dates_as_their_text_and_tags_never_constructed():
    assert load("a: on\nb: 0755\nc: 1e3\nd: !local text\ne: 2001-12-14\nf: true\ng: ~\n") == \
        {"a": "on", "b": Plain("0755"), "c": Plain("1e3"), "d": "text", "e": Plain("2001-12-14"), "f": True, "g": None}


# -- emit ---------------------------------------------------------------------------------------------------
def test_new_text_is_quoted_as_yaml_1_1_readers_need():
    assert dump_block({"a": "on", "b": "0755", "c": "x"}, indent_sequences=True) == ["a: 'on'", "b: '0755'", "c: x"]


def test_dumped_blocks_are_cached_but_handed_out_as_copies():
    first = dump_block({"v": [1]}, indent_sequences=False)
    first.append("changed")
    assert dump_block({"v": [1]}, indent_sequences=False) == ["v:", "- 1"]


def test_a_scalar_keeps_its_quote_style_unless_it_holds_a_line_break():
    assert dump_scalar("it's", "'") == "'it''s'"
    assert dump_scalar("a\nb", "'") == '"a\\nb"'
    assert dump_scalar("plain", "?") == '"plain"'


# -- import cost ---------------------------------------------------------------------------------------------
def test_the_slim_node_composer_is_set_up_on_the_first_document_not_at_import():
    code = ("import sys, postrender.cli\n"
            "print('postrender.yamlio.slimnodes' in sys.modules)\n"
            "from postrender.yamlio import compose\n"
            "from postrender.errors import Where\n"
            "print(type(compose('a: 1', Where())).__name__, 'postrender.yamlio.slimnodes' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "_Mapping", "True"]
