"""Shared fixtures: nothing here starts servers implicitly; tests await readiness themselves."""

from __future__ import annotations

import gc

import pytest

pytest_plugins = ["pg_server"]  # the throwaway PostgreSQL server (postgres_url, records_url)


@pytest.fixture
def state_dir(tmp_path_factory: pytest.TempPathFactory):
    """A short state directory (Unix socket paths must stay under ~100 bytes)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="wb-", dir="/tmp") as d:
        yield Path(d)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect once, then freeze what is left out of the collector's reach, before an xdist
    worker says it has finished.

    After that word the worker has 5 s to exit (execnet's grace; then it sends the worker a
    SIGINT), and pytest's last step collects garbage five times over the whole heap (matplotlib,
    textual, hypothesis...: ~350,000 objects, 1-1.6 s a collection on two busy cores, 6.7-7.2 s
    measured). The SIGINT then landed inside Hypothesis's GC-timing callback and was reported as
    a ``PytestUnraisableExceptionWarning`` (``KeyboardInterrupt``). Here the one full collection
    runs while the controller still waits, with pytest's unraisable hook installed (nothing it
    would find is missed), and the five after it walk only what is made later."""
    gc.collect()
    gc.freeze()
