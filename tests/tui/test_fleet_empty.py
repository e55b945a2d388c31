"""A first ``workbench tui`` on an empty state directory: the fleet's status line says how to
bring a kiosk up under it (the real command, with the session's CA), not ``0 terminals``."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_backend import NOW, FakeBackend
from textual.widgets import Label
from waits import until

from remote.window import CertificateAuthority
from tui.app import WorkbenchApp
from tui.live import LiveBackend

pytestmark = pytest.mark.timeout(45)
SIZE = (160, 34)


def status(app: WorkbenchApp) -> str:
    return str(app.fleet.query_one("#fleet-status", Label).render())


async def test_an_empty_state_dir_says_how_to_start_a_kiosk(tmp_path: Path) -> None:
    CertificateAuthority.init(tmp_path / "ca")
    backend = LiveBackend(tmp_path, ca=tmp_path / "ca")
    app = WorkbenchApp(backend, reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app).startswith("no kiosks"))
        assert status(app) == (
            f"no kiosks under {tmp_path}: start one with 'workbench kiosk up --state-dir "
            f"{tmp_path} --ca {tmp_path / 'ca'} &', then ctrl+r (a tour: workbench demo)"
        )


async def test_without_a_ca_the_command_has_none(tmp_path: Path) -> None:
    app = WorkbenchApp(LiveBackend(tmp_path), reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app).startswith("no kiosks"))
        assert f"'workbench kiosk up --state-dir {tmp_path} &'" in status(app)


async def test_a_fleet_with_terminals_counts_them() -> None:
    app = WorkbenchApp(FakeBackend(3), reason="INC-2041", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status(app).startswith("3 terminals"))
