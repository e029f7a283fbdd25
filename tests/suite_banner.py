"""`make test` loads this pytest plugin (`-p suite_banner`): it says what the suite is about to do,
with the count pytest has just collected (quiet mode shows little for minutes), and ends with the
suite's wall time. Under pytest-xdist it speaks from the controller, which hears each worker's
collection."""
import time

import pytest

_started = time.monotonic()
_announced = False


def _announce(config: pytest.Config, count: int, workers: int = 0) -> None:
    global _announced
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if _announced or reporter is None or config.option.collectonly or hasattr(config, "workerinput"):
        return
    _announced = True
    on = f" on {workers} workers" if workers else ""
    reporter.write_line(f"running the suite ({count} tests{on}, a few minutes)...")


def pytest_sessionstart(session: pytest.Session) -> None:
    global _started
    _started = time.monotonic()


def pytest_collection_finish(session: pytest.Session) -> None:
    _announce(session.config, len(session.items))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    _announce(node.config, len(ids), len(getattr(node.config.option, "tx", None) or ()))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    minutes, seconds = divmod(round(time.monotonic() - _started), 60)
    terminalreporter.write_line(f"suite wall time: {minutes} min {seconds:02d} s")
