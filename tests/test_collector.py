"""collector.py: the collector is off for a small input and on again once the input is large."""
import subprocess
import sys

from conftest import ROOT

PROBE = """
import gc, io, sys
from postrender import process
from postrender.read import Stream
process.start()
size = int(sys.argv[1])
states = [gc.isenabled()]
for piece in Stream(io.BytesIO(b"---\\na: 1\\n" * (size // 9))):
    pass
states.append(gc.isenabled())
print(states)
"""


def collector_states(input_bytes: int) -> str:
    return subprocess.run([sys.executable, "-I", "-c", PROBE, str(input_bytes)], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout.strip()


def test_a_small_input_is_read_with_the_collector_off():
    assert collector_states(64 * 1024) == "[False, False]"


def test_a_large_input_turns_the_collector_on_again():
    assert collector_states(1024 * 1024) == "[False, True]"


def test_the_collector_is_left_alone_where_start_did_not_turn_it_off():
    import gc
    import io

    from postrender.read import Stream

    gc.disable()
    try:
        list(Stream(io.BytesIO(b"---\na: 1\n" * 100_000)))
        assert not gc.isenabled()  # a host's own choice stands
    finally:
        gc.enable()
