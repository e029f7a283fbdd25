"""One sequence item patched as a document of its own (KRM mode's items), on a shared line buffer."""
from postrender.errors import Where
from postrender.patch import LineBuffer, TreePatcher, patch_item
from postrender.yamlio import compose, to_data


def patch_items(text: str, change):
    root = compose(text, Where())
    items = next(value for key, value in root.value if key.value == "items")
    buffer = LineBuffer(text)
    buffer.detect_style(root)
    duplicates = []
    for index, item in enumerate(items.value):
        old = to_data(item)
        new = change(index, old)
        if new is not old:
            duplicates += [(index, d.key, d.lines) for d in patch_item(buffer, item, old, new)]
    return buffer.apply(), duplicates


def test_an_items_comments_and_quoting_stay_and_only_its_changed_lines_are_written():
    text = ('items:\n'
            '- # Source: chart/templates/a.yaml\n'
            '  kind: A\n'
            '  metadata: {name: "a"}\n'
            '  spec:\n'
            '    n: 1\n'
            '- kind: B\n')
    out, duplicates = patch_items(text, lambda i, old: {**old, "spec": {"n": 2}} if i == 0 else old)
    assert out == text.replace("    n: 1", "    n: 2")
    assert duplicates == []


def test_an_item_that_cannot_stand_alone_is_rewritten_whole_at_its_place():
    # a flow mapping that goes on to the left of the item: cut out and dedented, it is no YAML
    text = "items:\n- kind: B  # a comment\n  d: {p: 1,\n q: 2}\n- kind: C\n"
    out, _ = patch_items(text, lambda i, old: {**old, "count": 1} if i == 0 else old)
    assert out == "items:\n- kind: B\n  d:\n    p: 1\n    q: 2\n  count: 1\n- kind: C\n"


def test_an_edit_of_a_repeated_key_in_an_item_is_counted_from_the_items_first_line():
    text = "items:\n- kind: A\n  spec: {}\n  spec:\n    n: 1\n"
    out, duplicates = patch_items(text, lambda i, old: {"kind": "A", "spec": {"n": 2}})
    assert out == "items:\n- kind: A\n  spec: {}\n  spec:\n    n: 2\n"
    assert duplicates == [(0, "spec", (1, 2))]


def test_a_top_level_entry_is_replaced_through_the_tree_patcher_on_the_same_buffer():
    text = "kind: ResourceList\nresults: []  # set below\n"
    root = compose(text, Where())
    buffer = LineBuffer(text)
    key, value = root.value[1]
    TreePatcher(buffer).replace_entry(key, value, [{"message": "m"}])
    assert buffer.apply() == "kind: ResourceList\nresults:\n  - message: m\n"
