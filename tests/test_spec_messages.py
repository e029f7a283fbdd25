"""Spec error messages read as sentences: YAML words with their article (`a list`, not `a array`),
the value named (`the number 50`), and what a valid value looks like (`write a quantity with a
unit, e.g. 50Gi`), never a schema description glued after `is invalid:`.

Most checks call the loader in-process (the CLI adds only the `postrender: error:` head, which
tests/test_spec_errors.py covers); one goes through the real CLI.
"""
import re

import pytest

from conftest import run_main, write_spec
from postrender.errors import SpecError
from postrender.spec import CREATE_FIELDS, VOLUME_FIELDS, parse_spec_text

BASE = {"name": "logs", "claimName": "airflow-log-pvc", "mountPath": "/opt/airflow/logs"}


def spec_text(create_fields=None, **fields) -> str:
    volume = dict(BASE, **fields)
    lines = ["volumes:", "  - name: " + str(volume.pop("name"))]
    lines += [f"    {key}: {value}" for key, value in volume.items()]
    if create_fields is not None:
        lines.append("    create:")
        lines += [f"      {key}: {value}" for key, value in create_fields.items()]
    return "\n".join(lines) + "\n"


def error(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_spec_text(text, "spec.yaml")
    return caught.value


# Wrong phrasings the messages used to have, or could fall into.
ODD = re.compile(r"\ba (array|object|boolean|integer)\b|\bnot (str|int|float|bool|list|dict|NoneType)\b"
                 r"|is invalid: (absolute path in|volume name in|PersistentVolumeClaim name|relative path inside"
                 r"|requested size)")


def test_mount_path_says_it_must_be_absolute():
    err = error(spec_text(mountPath="opt/airflow/logs"))
    assert err.message == "mountPath 'opt/airflow/logs' is invalid: it must be an absolute path (start with /)"
    assert "in the containers" not in str(err)


def test_a_list_not_an_array():
    err = error(spec_text(targets="scheduler"))
    assert err.message == "targets must be a list, not the string 'scheduler'"
    assert error(spec_text(containers="{a: 1}")).message == "containers must be a list, not a mapping"


def test_storage_without_unit_hints_at_the_unit():
    err = error(spec_text(create_fields={"storage": 50}))
    assert err.message == "create.storage must be a string, not the number 50"
    assert err.hint == "write a quantity with a unit, e.g. 50Gi"
    assert err.where.line == 6 and err.where.obj == "volume logs"


def test_storage_with_a_bad_quantity_says_what_a_quantity_is():
    err = error(spec_text(create_fields={"storage": "50 GB"}))
    assert err.message == "create.storage '50 GB' is invalid: write a quantity with a unit, e.g. 50Gi"


def test_read_only_takes_true_or_false():
    assert error(spec_text(readOnly="yes")).message == "readOnly must be true or false, not the string 'yes'"


def test_a_number_where_a_name_goes_says_quote_it():
    err = error(spec_text(claimName=123))
    assert err.message == "claimName must be a string, not the number 123"
    assert err.hint == 'quote it: "123"'


@pytest.mark.parametrize("field, value, words", [
    ("name", "Bad_Name", "a volume name is a DNS-1123 label"),
    ("claimName", "Bad_Claim", "a claim name is a DNS-1123 subdomain"),
    ("subPath", "../x", "it must be a relative path inside the claim (no leading /) without `..`"),
])
def test_pattern_messages_say_what_is_wrong(field, value, words):
    err = error(spec_text(**{field: value}))
    assert err.message.startswith(f"{field} {value!r} is invalid: {words}"), err.message


def test_enum_says_must_be_one_of_and_suggests():
    err = error(spec_text(create_fields={"storage": "1Gi", "accessModes": "[ReadWriteMny]"}))
    assert err.message.startswith("an item of create.accessModes 'ReadWriteMny' must be one of ReadWriteOnce"), \
        err.message
    assert err.hint == "did you mean 'ReadWriteMany'?"


def _wrong_values(rule):
    kind = rule.get("type")
    values = {"string": ["50", "true", "[a]", "{a: b}", "''" if rule.get("minLength") else "'~'", "'!!bad'"],
              "boolean": ["'yes'", "1", "[a]", "{a: b}"],
              "array": ["x", "1", "{a: b}", "[]", "[1]"],
              "object": ["x", "1", "[a]"]}
    return values.get(kind, ["x"])


def _cases():
    for key, rule in VOLUME_FIELDS.items():
        if key == "name":
            continue
        for value in _wrong_values(rule):
            yield spec_text(**{key: value})
    for key, rule in CREATE_FIELDS.items():
        for value in _wrong_values(rule):
            yield spec_text(create_fields={"storage": "1Gi", key: value})


@pytest.mark.parametrize("text", list(_cases()))
def test_no_message_reads_oddly(text):
    """Every wrong type or value of every field: a sentence, not a schema keyword."""
    try:
        parse_spec_text(text, "spec.yaml")
    except SpecError as err:
        assert not ODD.search(str(err)), str(err)


def test_through_the_cli(tmp_path):
    proc = run_main(["-c", write_spec(tmp_path, spec_text(create_fields={"storage": 50}))], b"")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and proc.stdout == b""
    assert err == ("postrender: error: " + str(tmp_path / "spec.yaml") + ", line 6, volume logs: create.storage "
                   "must be a string, not the number 50\n  hint: write a quantity with a unit, e.g. 50Gi\n"), err
