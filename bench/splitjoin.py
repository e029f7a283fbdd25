#!/usr/bin/env python3
"""The floor of the benchmark: the least a Python post-renderer must do.

Read the stream from stdin, decode it, split it into documents on lines that START with `---`
(column 0 only: the Airflow pod template holds an indented `---`), join them again and write
the result to stdout. No YAML parsing at all: whatever postrender costs above this is its own.
"""
import re
import sys

DOC_START = re.compile(r"^(?=---)", re.MULTILINE)


def main() -> None:
    text = sys.stdin.buffer.read().decode("utf-8")
    documents = DOC_START.split(text)
    sys.stdout.buffer.write("".join(documents).encode("utf-8"))


if __name__ == "__main__":
    main()
