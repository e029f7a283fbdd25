"""The fast composer (slim nodes, cached resolver) against libyaml's stock composition.

`yamlio.compose` hands libyaml's composer slim node classes and a cached resolver while it
composes (it spends most of the time on a manifest otherwise). These tests hold it to the
stock ruamel.yaml CSafeLoader: the same tree, tags, values, styles and marks, and the same
documents refused, on the real captures and on random YAML-ish text.
"""
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from ruamel.yaml.cyaml import CSafeLoader
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from conftest import CAPTURES, needs_captures, run_cli, yamlish
from postrender import yamlio
from postrender.errors import InputError, Where
from postrender.read import Stream
from postrender.yamlio import compose, slimnodes, to_data


def shape(node: Any) -> Any:
    """Everything the tool reads off a node, as plain tuples."""
    if node is None:
        return None
    if yamlio.is_alias(node):  # ours stands at its `*name` token; libyaml's is the anchor's node itself
        node = node.target
    marks = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    if isinstance(node, ScalarNode):
        return ("scalar", str(node.tag), node.value, node.style or None, marks)
    if isinstance(node, SequenceNode):
        return ("seq", str(node.tag), bool(node.flow_style), marks, [shape(item) for item in node.value])
    assert isinstance(node, MappingNode)
    return ("map", str(node.tag), bool(node.flow_style), marks, [(shape(k), shape(v)) for k, v in node.value])


def stock(text: Any) -> Any:
    loader = CSafeLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def assert_same_as_stock(text: Any) -> None:
    try:
        expected = stock(text)
    except YAMLError:
        with pytest.raises(InputError):
            compose(text, Where())
        return
    except RecursionError:  # pragma: no cover - too deep for the stock path as well
        return
    try:
        got = compose(text, Where())
    except InputError as exc:
        assert exc.message.startswith(("nested deeper", "aliases expand", "alias ", "undefined alias", "holds more")), \
            exc.message  # only the abuse limits may refuse what libyaml composes
        return
    assert shape(got) == shape(expected)
    try:
        want = to_data(expected)
    except InputError as exc:
        with pytest.raises(InputError) as raised:
            to_data(got)
        assert raised.value.message == exc.message
        return
    assert to_data(got) == want


def test_the_fast_composer_is_in_use():
    # it falls back to the stock path silently when the clib does not take the slim nodes
    assert slimnodes.binding() is not None
    assert type(compose("a: [b]\n", Where())).__name__ == "_Mapping"


def test_composes_the_same_tree_as_stock_libyaml_for_styles_tags_and_aliases():
    assert_same_as_stock("""\
a: 1
b: "two"
c: 'three'
d: |-
  four
e: >
  five
f: [1, 2.5, null, ~, true, yes, 0755, 1e3, 2001-12-14]
g: {h: &x [i], j: *x}
k: !local text
l: !!str 12
m: ! 13
? [n]
: o
""")


@needs_captures
def test_composes_every_captured_document_as_stock_libyaml_does():
    count = 0
    for path in sorted(CAPTURES.glob("*.yaml")):
        with path.open("rb") as source:
            for chunk in Stream(source):
                if not chunk.blank:
                    assert_same_as_stock(chunk.raw)
                    count += 1
    assert count > 1000


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish)
def test_composes_random_yamlish_text_as_stock_libyaml_does(text):
    assert_same_as_stock(text)


def test_a_float_without_a_dot_draws_no_library_warning_on_stderr():
    doc = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1e3\n" \
          b"  template:\n    spec:\n      containers: [{name: a}]\n"
    proc = run_cli(["--logs-claim", "c"], doc)
    assert proc.returncode == 0 and proc.stdout == doc
    # only our own word: this Deployment has no Airflow logs volume for --logs-claim to find
    ours = "postrender: warning[logs-volume-not-found]: --logs-claim c: found no Airflow logs volume"
    assert [line for line in proc.stderr.decode().splitlines() if not line.startswith(ours)] == []


def test_node_of_finds_the_line_of_a_value_by_identity():
    from postrender.yamlio import node_of, parse

    root, data, memo = parse("a:\n  b:\n    - {x: 1}\n    - {x: 1}\n", Where(), 0)
    second = data["a"]["b"][1]
    assert node_of(root, memo, second).start_mark.line == 3  # the equal first one is not it
    assert node_of(root, memo, {"x": 1}) is None


def test_parse_again_gives_a_document_composed_alone_the_values_read_in_its_group():
    from postrender.yamlio import parse, parse_again

    document = b"spec:\n  volumes:\n    - name: logs\n      emptyDir: {}\n"
    roots = list(yamlio.compose_each(b"kind: ConfigMap\n---\n" + document))
    memo: dict = {}
    data = to_data(roots[1], memo=memo)
    root, adopted = parse_again(document, Where(), 2, roots[1], memo)
    volumes = root.value[0][1].value[0][1]
    assert volumes.start_mark.line == 2  # its marks count in its own text, not in the group's (4)
    assert adopted[id(volumes)] is data["spec"]["volumes"]  # the very value the editor was given
    assert adopted[id(root)] is data
    assert len(adopted) == 10  # every node: the root, 4 keys, their 4 values, the list's item
    assert parse(document, Where(), 2)[1] == data
