"""Reading and checking a spec: a YAML node tree in, valid `VolumeSpec`s out.

`_Checker` walks the nodes, so that every error names the file (or
`functionConfig`, or the option), the line and the volume, says what a wrong
value is and what it should look like, and suggests the nearest key for a
misspelt one. The rules come from the field table (spec/fields.py).
"""
from __future__ import annotations

import posixpath
import re
from typing import Any, Dict, List, NoReturn, Optional, Sequence, Tuple

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InputError, SpecError, Where
from ..findings import WARNINGS
from ..yamlio import Plain, compose, to_data
from .fields import (
    CREATE_FIELDS,
    DEFAULT_TARGETS,
    HEADER_FIELDS,
    OPTION_FIELDS,
    TARGET_SCHEMA,
    TOP_FIELDS,
    VOLUME_FIELDS,
    VOLUME_REQUIRED,
)
from .model import Create, SpecFile, Target, VolumeSpec

# What a value of each JSON Schema type is called in a message (YAML words, with their article).
_TYPE_WORDS = {"string": "a string", "boolean": "true or false", "array": "a list", "object": "a mapping"}
# What a value that does not match a field's pattern must look like, in words (keyed like the
# `what` of _Checker.value). The schema's descriptions say what a field is; these say what is wrong.
_PROBLEMS = {
    "name": "a volume name is a DNS-1123 label: at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit",
    "claimName": "a claim name is a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', "
                 "starting and ending with a letter or digit",
    "mountPath": "it must be an absolute path (start with /)",
    "subPath": "it must be a relative path inside the claim (no leading /) without `..`",
    "create.storage": "write a quantity with a unit, e.g. 50Gi",
}


_CONTROL = re.compile("[\x00-\x1f\x7f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


def _describe(data: Any) -> str:
    """A value as a message names it: `the number 50`, `the string 'yes'`, `a list`."""
    if data is None:
        return "an empty value"
    if isinstance(data, bool):
        return str(data).lower()
    if isinstance(data, (int, float)):
        return f"the number {data}"
    if isinstance(data, Plain):  # a number or a date, kept as its text
        return f"the date {data}" if _DATE.match(data.text) else f"the number {data}"
    if isinstance(data, str):
        return f"the string {data!r}"
    names: Dict[type, str] = {list: "a list", dict: "a mapping"}
    return names.get(type(data), type(data).__name__)


class _Checker:
    """Walks a spec's node tree, so that every error can name its line."""

    def __init__(self, source: str):
        self.source = source

    def at(self, node: Optional[Node], volume: Optional[str] = None) -> Where:
        line = node.start_mark.line + 1 if node is not None else None
        return Where(source=self.source, line=line, obj=f"volume {volume}" if volume else None)

    def fail(self, message: str, node: Optional[Node], volume: Optional[str] = None,
             hint: Optional[str] = None) -> NoReturn:
        raise SpecError(message, self.at(node, volume), hint)

    def entries(self, node: Node, what: str, volume: Optional[str] = None) -> Dict[str, Tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            self.fail(f"{what} must be a mapping", node, volume)
        result: Dict[str, Tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.fail(f"{what}: keys must be strings", key_node, volume)
            if key in result:
                self.fail(f"{what}: duplicate key {key!r}", key_node, volume)
            result[key] = (key_node, value_node)
        return result

    def unknown(self, entries: Dict[str, Tuple[Node, Node]], allowed: Sequence[str], what: str,
                volume: Optional[str] = None) -> None:
        for key, (key_node, _) in entries.items():
            if key not in allowed:
                close = _closest(key, allowed)
                hint = f"did you mean {close!r}?" if close else "known keys: " + ", ".join(allowed)
                shown = repr(key) if len(key) <= 60 else repr(key[:57] + "...")
                self.fail(f"unknown key {shown} in {what}", key_node, volume, hint)

    def value(self, node: Node, rule: Dict[str, Any], what: str, volume: Optional[str]) -> Any:
        try:
            data = to_data(node, strict_keys=True)
        except InputError as exc:
            self.fail(exc.message, node, volume)
        kind = rule.get("type")
        types = {"string": str, "boolean": bool, "array": list, "object": dict}
        if kind in types and not isinstance(data, types[kind]):
            hint = None
            if kind == "string" and isinstance(data, (int, float, Plain)) and not isinstance(data, bool):
                hint = _PROBLEMS.get(what) if what == "create.storage" else f'quote it: "{data}"'
            self.fail(f"{what} must be {_TYPE_WORDS[kind]}, not {_describe(data)}", node, volume, hint)
        if kind == "string":
            if "pattern" in rule and _CONTROL.search(data):
                self.fail(f"{what} {data!r} is invalid: it holds a line break or another control character", node,
                          volume)
            # whole: `$` also matches before a final \n
            if "pattern" in rule and not re.fullmatch(rule["pattern"], data):
                self.fail(f"{what} {data!r} is invalid: {_PROBLEMS.get(what) or 'it must match ' + rule['pattern']}",
                          node, volume)
            if "maxLength" in rule and len(data) > rule["maxLength"]:
                self.fail(f"{what} is longer than {rule['maxLength']} characters", node, volume)
            if "minLength" in rule and len(data) < rule["minLength"]:
                self.fail(f"{what} must not be empty", node, volume)
            if "enum" in rule and data not in rule["enum"]:
                close = _closest(data, rule["enum"])
                self.fail(f"{what} {data!r} must be one of {', '.join(rule['enum'])}", node, volume,
                          f"did you mean {close!r}?" if close else None)
        if kind == "array":
            if len(data) < rule.get("minItems", 0):
                self.fail(f"{what} must not be empty", node, volume)
            item_rule = rule.get("items", {})
            if "type" in item_rule:
                for item_node in node.value:
                    self.value(item_node, item_rule, f"an item of {what}", volume)
        return data


def _target(checker: _Checker, node: Node, volume: str) -> Target:
    data = checker.value(node, {}, "a target", volume)
    if isinstance(data, str) and data:
        return Target.word(data)
    if isinstance(data, dict) and data:
        entries = checker.entries(node, "a target", volume)
        checker.unknown(entries, ("kind", "name", "labels"), "a target", volume)
        props = TARGET_SCHEMA["oneOf"][1]["properties"]
        kind = checker.value(entries["kind"][1], props["kind"], "target kind", volume) if "kind" in entries else None
        name = checker.value(entries["name"][1], props["name"], "target name", volume) if "name" in entries else None
        labels = (checker.value(entries["labels"][1], {"type": "object"}, "target labels", volume)
                  if "labels" in entries else {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            checker.fail("target labels must map strings to strings", entries["labels"][1], volume)
        return Target(kind=kind, name=name, labels=tuple(sorted(labels.items())))
    checker.fail("a target is a word (pod-template, airflow, scheduler, ...) or a mapping of kind/name/labels",
                 node, volume)
    raise AssertionError  # pragma: no cover


def _volume(checker: _Checker, node: Node, index: int) -> VolumeSpec:
    label = f"#{index + 1}"
    entries = checker.entries(node, f"volume {label}")
    if "name" in entries and isinstance(entries["name"][1], ScalarNode):
        label = str(entries["name"][1].value)
    checker.unknown(entries, tuple(VOLUME_FIELDS), "a volume", label)
    for key in VOLUME_REQUIRED:
        if key not in entries:
            checker.fail(f"missing required key {key!r}", node, label)
    values = {key: checker.value(value, VOLUME_FIELDS[key], key, label) for key, (_, value) in entries.items()
              if key not in ("targets", "create")}
    sub_path = values.get("subPath") or None
    if values["mountPath"] != posixpath.normpath(values["mountPath"]) and values["mountPath"] != "/":
        values["mountPath"] = posixpath.normpath(values["mountPath"])
    targets = tuple(Target.word(t, implied=True) for t in DEFAULT_TARGETS)
    if "targets" in entries:
        targets_node = entries["targets"][1]
        checker.value(targets_node, {"type": "array", "minItems": 1}, "targets", label)
        targets = tuple(_target(checker, item, label) for item in targets_node.value)
    create = None
    if "create" in entries:
        create_entries = checker.entries(entries["create"][1], "create", label)
        checker.unknown(create_entries, tuple(CREATE_FIELDS), "create", label)
        if "storage" not in create_entries:
            checker.fail("create needs 'storage' (e.g. 50Gi)", entries["create"][1], label)
        c = {key: checker.value(value, CREATE_FIELDS[key], f"create.{key}", label)
             for key, (_, value) in create_entries.items()}
        create = Create(storage=c["storage"], access_modes=tuple(c.get("accessModes") or ("ReadWriteMany",)),
                        storage_class=c.get("storageClassName"), volume_mode=c.get("volumeMode"),
                        keep=c.get("keep", True))
    return VolumeSpec(
        name=values["name"], claim=values["claimName"], mount_path=values["mountPath"],
        read_only=bool(values.get("readOnly", False)), sub_path=sub_path, replace=bool(values.get("replace", False)),
        targets=targets, containers=tuple(values.get("containers") or ("*",)), create=create,
        origin=checker.source,
    )


def parse_spec_text(text: str, source: str) -> Sequence[VolumeSpec]:
    """The volumes of one spec file (or a KRM functionConfig) given as text."""
    return parse_spec_file(text, source).volumes


def parse_spec_file(text: str, source: str) -> SpecFile:
    """What one spec file given as text says: its volumes, `strict` and `allow`."""
    checker = _Checker(source)
    if not text.strip():
        raise SpecError("the spec file is empty", Where(source=source), "it needs a `volumes:` list")
    try:
        root = compose(text, Where(source=source))
    except InputError as exc:
        raise SpecError(exc.message, exc.where) from None
    return _spec_file(root, checker)


def _closest(word: str, words: Sequence[str]) -> Optional[str]:
    """The word of `words` that `word` most likely meant, if any."""
    import difflib  # here only: a suggestion is rare, and difflib costs every start-up

    close = difflib.get_close_matches(word, words, n=1, cutoff=0.6)
    return close[0] if close else None


def volumes_from_node(root: Optional[Node], source: str) -> Sequence[VolumeSpec]:
    """The volumes of a spec already composed (a KRM functionConfig); errors name `source`."""
    return spec_file_from_node(root, source).volumes


def spec_file_from_node(root: Optional[Node], source: str) -> SpecFile:
    """What a spec already composed (a KRM functionConfig) says; errors name `source`."""
    return _spec_file(root, _Checker(source))


def unknown_warning_id(text: str) -> Optional[str]:
    """None when `text` is a warning id (findings.WARNINGS), else what to say: the nearest id."""
    if text in WARNINGS:
        return None
    close = _closest(text, list(WARNINGS))
    return f"did you mean {close!r}?" if close else "the warning ids: " + ", ".join(WARNINGS)


def _options(checker: "_Checker", places: Sequence[Dict[str, Tuple[Node, Node]]]) -> Tuple[Optional[bool],
                                                                                          Tuple[str, ...]]:
    """`strict` and `allow` of a spec, given at the top level or under `spec` (`places`), once."""
    found: Dict[str, Tuple[Node, Node]] = {}
    for entries in places:
        for key in OPTION_FIELDS:
            if key in entries:
                if key in found:
                    checker.fail(f"`{key}` is given both at the top level and under `spec`", entries[key][0])
                found[key] = entries[key]
    strict = checker.value(found["strict"][1], OPTION_FIELDS["strict"], "strict", None) if "strict" in found else None
    allow: List[str] = []
    if "allow" in found:
        node = found["allow"][1]
        checker.value(node, {"type": "array", "items": {"type": "string"}}, "allow", None)
        for item in node.value:
            hint = unknown_warning_id(item.value)
            if hint is not None:
                checker.fail(f"allow: {item.value!r} is not a warning id", item, hint=hint)
            allow.append(item.value)
    return strict, tuple(allow)


def _spec_file(root: Optional[Node], checker: "_Checker") -> SpecFile:
    volumes, places = _volumes(root, checker)
    strict, allow = _options(checker, places)
    return SpecFile(volumes, strict, allow)


def _volumes(root: Optional[Node], checker: "_Checker") -> Tuple[List[VolumeSpec], List[Dict[str, Tuple[Node, Node]]]]:
    """The volumes, and the mappings where they stand (the top level, and `spec` when they are there)."""
    if root is None or not isinstance(root, MappingNode):
        checker.fail("a spec is a mapping with a `volumes:` list", root, hint="see `postrender --schema`")
    top = checker.entries(root, "the spec")
    if not any(key in TOP_FIELDS or _closest(key, TOP_FIELDS) for key in top):
        # another file (a secret, a config): never quote it back
        checker.fail("this file is not a postrender spec: none of its top-level keys is one of "
                     + ", ".join(TOP_FIELDS), None, hint="see `postrender --schema`")
    checker.unknown(top, TOP_FIELDS, "the spec")
    for key, rule in HEADER_FIELDS.items():
        if key in top:
            checker.value(top[key][1], rule, key, None)
    if "volumes" in top and "spec" in top:
        checker.fail("give `volumes` at the top level or under `spec`, not both", top["spec"][0])
    volumes_node = top.get("volumes", (None, None))[1]
    places = [top]
    if volumes_node is None and "spec" in top:
        inner = checker.entries(top["spec"][1], "spec")
        checker.unknown(inner, ("volumes",) + tuple(OPTION_FIELDS), "spec")
        volumes_node = inner.get("volumes", (None, None))[1]
        places.append(inner)
    if volumes_node is None and any(key in top for key in OPTION_FIELDS):
        return [], places  # a file that only says `strict` or `allow` (layered over one with volumes)
    if volumes_node is None:
        checker.fail("the spec has no `volumes:` list", root, hint="see `postrender --schema`")
    if not isinstance(volumes_node, SequenceNode):
        checker.fail("`volumes` must be a list", volumes_node)
    volumes = [_volume(checker, item, index) for index, item in enumerate(volumes_node.value)]
    seen: Dict[str, int] = {}
    for index, volume in enumerate(volumes):
        if volume.name in seen:
            checker.fail(f"volume name {volume.name!r} is given twice in this file", volumes_node.value[index],
                         volume.name, hint="a name may appear once per file; later -c files may override it")
        seen[volume.name] = index
    return volumes, places
