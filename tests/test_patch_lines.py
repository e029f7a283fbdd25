"""The patcher's line buffer: lines as libyaml counts them, edits in the original's line numbers, dashes."""
import pytest

from postrender.errors import Where
from postrender.patch import CannotSplice, LineBuffer
from postrender.yamlio import compose


def items_of(text: str, key: str = "v"):
    root = compose(text, Where())
    return next(value for k, value in root.value if k.value == key).value


# -- line ends ---------------------------------------------------------------------------------------------
def test_crlf_text_keeps_crlf_on_untouched_and_new_lines():
    buffer = LineBuffer("a: 1\r\nb: 2\r\n")
    assert buffer.crlf and buffer.line(1) == "b: 2"
    buffer.edit(1, 2, ["b: 3", "c: 4"])
    assert buffer.apply() == "a: 1\r\nb: 3\r\nc: 4\r\n"


def test_a_lone_cr_breaks_a_line_as_libyaml_counts_it_and_stays_where_untouched():
    text = "a: 1\rb: 2\nc: 3\n"
    buffer = LineBuffer(text)
    root = compose(text, Where())
    c_key = root.value[2][0]
    assert c_key.start_mark.line == 2 and buffer.line(2) == "c: 3"  # the buffer's lines are the marks' lines
    buffer.edit(2, 3, ["c: 4"])
    assert buffer.apply() == "a: 1\rb: 2\nc: 4\n"
    assert not buffer.crlf  # LF and CR tie: new lines take LF


def test_a_last_line_without_a_line_end_gets_one_only_when_a_line_follows_it():
    buffer = LineBuffer("a: 1\nb: 2")
    buffer.insert(2, ["c: 3"])
    assert buffer.apply() == "a: 1\nb: 2\nc: 3"
    crlf = LineBuffer("a: 1\r\nb: 2")
    crlf.insert(2, ["c: 3"])
    assert crlf.apply() == "a: 1\r\nb: 2\r\nc: 3"


def test_without_edits_the_text_comes_back_as_it_was():
    text = "a: 1\r\n\x85b: 2"
    assert LineBuffer(text).apply() is text


# -- edits ------------------------------------------------------------------------------------------------------
def test_edits_are_stated_in_the_original_line_numbers_whatever_their_order():
    buffer = LineBuffer("0\n1\n2\n3\n4\n")
    buffer.edit(3, 4, [])  # a later line first
    buffer.edit(0, 1, ["zero", "nought"])  # an edit that adds a line above it
    buffer.insert(5, ["5"])
    assert buffer.apply() == "zero\nnought\n1\n2\n4\n5\n"


def test_inserts_at_the_same_line_keep_the_order_they_were_recorded_in():
    buffer = LineBuffer("a\nz\n")
    buffer.insert(1, ["b"])
    buffer.insert(1, ["c"])
    assert buffer.apply() == "a\nb\nc\nz\n"


def test_deleting_every_line_leaves_no_text():
    buffer = LineBuffer("a: 1\n")
    buffer.edit(0, 2, [])
    assert buffer.apply() == ""


# -- where nodes are -----------------------------------------------------------------------------------------
def test_dash_is_found_on_the_items_line_above_comments_and_on_a_dash_only_line():
    text = ("v:\n"
            "  - name: a\n"
            "  - # Source: b.yaml\n"
            "    name: b\n"
            "  -\n"
            "    # a note\n"
            "\n"
            "    name: c\n")
    buffer = LineBuffer(text)
    assert [buffer.dash(item) for item in items_of(text)] == [(2, 1), (2, 2), (2, 4)]
    assert [buffer.dash_column(item) for item in items_of(text)] == [2, 2, 2]


def test_dash_of_a_nested_sequence_item_is_its_own_dash():
    text = "v:\n- - a\n  - b\n"
    buffer = LineBuffer(text)
    inner = items_of(text)[0].value
    assert [buffer.dash(item) for item in inner] == [(2, 1), (2, 2)]


def test_an_item_without_a_dash_cannot_be_spliced():
    text = "v: [a, b]\n"
    with pytest.raises(CannotSplice):
        LineBuffer(text).dash(items_of(text)[1])


def test_a_block_scalars_lines_end_at_its_last_text_line_not_at_trailing_blanks_or_comments():
    text = "v:\n  - |\n    one\n    two\n\n  # comment\n  - x\n"
    buffer = LineBuffer(text)
    first = items_of(text)[0]
    assert buffer.last_line(first) == 3 and buffer.after(first) == 4


# -- new lines ---------------------------------------------------------------------------------------------------
def test_new_blocks_follow_the_documents_sequence_style():
    compact, indented = "spec:\n  v:\n  - a\n", "spec:\n  v:\n    - a\n"
    for text, expected in ((compact, ["  w:", "  - b"]), (indented, ["  w:", "    - b"])):
        buffer = LineBuffer(text)
        buffer.detect_style(compose(text, Where()))
        assert buffer.block({"w": ["b"]}, 2) == expected
    buffer = LineBuffer(indented)
    assert buffer.block([{"name": "b", "x": 1}], 4) == ["    - name: b", "      x: 1"]  # a list starts at its dash
