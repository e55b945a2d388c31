"""Shared fixtures: nothing here starts servers implicitly; tests await readiness themselves."""

from __future__ import annotations

import pytest

pytest_plugins = ["pg_server"]  # the throwaway PostgreSQL server (postgres_url, records_url)


@pytest.fixture
def state_dir(tmp_path_factory: pytest.TempPathFactory):
    """A short state directory (Unix socket paths must stay under ~100 bytes)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="wb-", dir="/tmp") as d:
        yield Path(d)
