"""The writer: old node tree + new value → the smallest text edit, in the document's own style."""
from postrender.errors import Where
from postrender.patch import patch, patch_text
from postrender.yamlio import compose, to_data


def patched(text: str, change) -> str:
    root = compose(text, Where())
    new = change(to_data(root))
    out = patch_text(text, root, new)
    assert to_data(compose(out, Where())) == new  # the text says exactly the new value
    return out


def test_unchanged_value_leaves_text_identical():
    text = "a:   1   # odd spacing\nb: [x,  y]\n"
    assert patched(text, lambda d: d) == text


def test_added_sequence_item_follows_the_existing_dash_column():
    text = "volumes:\n  - name: a\n    emptyDir: {}\n"
    claim = {"name": "b", "persistentVolumeClaim": {"claimName": "c"}}
    out = patched(text, lambda d: {"volumes": d["volumes"] + [claim]})
    assert out == text + "  - name: b\n    persistentVolumeClaim:\n      claimName: c\n"


def test_compact_sequences_stay_compact():
    text = "spec:\n  volumes:\n  - name: a\n    emptyDir: {}\n"
    out = patched(text, lambda d: {"spec": {"volumes": d["spec"]["volumes"] + [{"name": "b"}]}})
    assert out.endswith("  - name: a\n    emptyDir: {}\n  - name: b\n")


def test_replacing_an_items_first_key_rewrites_only_that_item():
    text = "v:\n- emptyDir:\n    {}\n  name: logs\n- name: other\n"
    out = patched(text, lambda d: {"v": [{"name": "logs", "persistentVolumeClaim": {"claimName": "c"}}, d["v"][1]]})
    assert out == "v:\n- name: logs\n  persistentVolumeClaim:\n    claimName: c\n- name: other\n"


def test_scalar_change_keeps_quotes_key_text_and_trailing_comment():
    text = 'metadata:\n  "a/b": "x"   # keep me\n'
    assert patched(text, lambda d: {"metadata": {"a/b": "on"}}) == 'metadata:\n  "a/b": "on"   # keep me\n'


def test_new_strings_that_yaml_1_1_reads_as_other_types_are_quoted():
    out = patched("a: x\n", lambda d: {"a": "x", "b": "yes", "c": "0755"})
    assert "b: 'yes'" in out and "c: '0755'" in out


def test_literal_block_is_patched_line_by_line_with_clip_chomping():
    text = "data:\n  t: |\n    a: 1\n    b: 2\n  other: x\n"
    out = patched(text, lambda d: {"data": {"t": "a: 1\nb: 3\n", "other": "x"}})
    assert out == "data:\n  t: |\n    a: 1\n    b: 3\n  other: x\n"


def test_item_whose_dash_carries_a_comment_can_be_followed():
    text = "volumes:\n  - # scratch\n    name: tmp\n    emptyDir: {}\n"
    out = patched(text, lambda d: {"volumes": d["volumes"] + [{"name": "b"}]})
    assert out == text + "  - name: b\n"


def test_crlf_text_gets_crlf_lines():
    text = "a:\r\n  - x\r\n"
    assert patched(text, lambda d: {"a": ["x", "z"]}) == "a:\r\n  - x\r\n  - z\r\n"


def test_empty_flow_list_becomes_a_block_list_in_the_documents_style():
    text = "spec:\n  initContainers:\n  - name: i\n  volumes: []\n"
    out = patched(text, lambda d: {"spec": {"initContainers": d["spec"]["initContainers"], "volumes": [{"name": "v"}]}})
    assert out == "spec:\n  initContainers:\n  - name: i\n  volumes:\n  - name: v\n"


def test_a_list_item_whose_number_becomes_a_string_is_rewritten():
    # items are matched by value: 5, "5" and true are three different values, as Kubernetes reads them
    text = "env:\n- name: a\n  value: 5\n- name: b\n  value: true\n"
    out = patched(text, lambda d: {"env": [{"name": "a", "value": "5"}, {"name": "b", "value": "true"}]})
    assert out == "env:\n- name: a\n  value: '5'\n- name: b\n  value: 'true'\n"


def test_list_items_match_whatever_the_order_of_their_keys():
    text = "v:\n- name: a\n  emptyDir: {}\n- name: b\n"
    out = patched(text, lambda d: {"v": [{"emptyDir": {}, "name": "a"}, {"name": "b"}, {"name": "c"}]})
    assert out == text + "- name: c\n"


def test_a_document_read_in_a_longer_text_is_patched_at_its_lines_there():
    from postrender.yamlio import compose_each

    document = "kind: Pod\nspec:\n  volumes:\n  - name: logs\n    emptyDir: {}\n"
    root = list(compose_each(("a: 1\n---\n" + document).encode()))[1]  # its nodes' lines count from 2
    memo: dict = {}
    new = to_data(root, memo=memo)
    new = {**new, "spec": {"volumes": [{"name": "logs", "persistentVolumeClaim": {"claimName": "c"}}]}}
    alone = compose(document, Where())
    assert patch(document, root, new, memo, offset=2).text == patch_text(document, alone, new) == (
        "kind: Pod\nspec:\n  volumes:\n  - name: logs\n    persistentVolumeClaim:\n      claimName: c\n")
