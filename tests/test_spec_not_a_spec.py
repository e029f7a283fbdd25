"""A file given as a spec that is not one is named as such, without quoting its content back.

`-c /etc/shadow` used to answer `unknown key 'root:*:20228:...'`: the first line of a secret, in
stderr, in Helm's error, in the log and in CI logs.
"""
from conftest import FIXTURES, run_main

STREAM = (FIXTURES / "aliases" / "anchor-in-earlier-container.yaml").read_bytes()
SECRET = "root:*:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n"


def test_a_shadow_like_file_is_named_not_a_spec_and_not_quoted(tmp_path):
    path = tmp_path / "shadow"
    path.write_text(SECRET)
    code, out, err = run_main(["-c", str(path)], STREAM)
    err = err.decode()
    assert (code, out) == (2, b"")
    assert "not a postrender spec" in err
    assert "root:" not in err and "20228" not in err


def test_a_spec_with_one_mistyped_key_still_gets_its_did_you_mean(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("volumes: []\nvolumse: []\n")
    code, _, err = run_main(["-c", str(path)], STREAM)
    err = err.decode()
    assert code == 2
    assert "unknown key 'volumse'" in err and "did you mean 'volumes'" in err


def test_a_long_unknown_key_is_cut_short(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("volumes: []\n" + "k" * 500 + ": 1\n")
    code, _, err = run_main(["-c", str(path)], STREAM)
    err = err.decode()
    assert code == 2
    assert "k" * 61 not in err
