"""`make test` loads this pytest plugin (`-p suite_banner`) to say what it is about to do, with
the count pytest has just collected: the suite runs for several minutes in quiet mode."""


def pytest_collection_finish(session):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not session.config.option.collectonly:
        reporter.write_line(f"running the suite ({len(session.items)} tests, several minutes)...")
