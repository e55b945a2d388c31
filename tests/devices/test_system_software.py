"""The kiosk application's health endpoint: services, versions against the manifest, the last
transaction, and a hung app that does not answer within 2 s; every fault injected, seen, cleared."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Callable

import pytest
import simpy

from devices.catalog import default_catalog
from devices.protocols.health import AppHealth, parse_app_health
from devices.system_software import SystemSoftware, SystemSoftwareSettings
from devices.transports.http import HttpPort
from workbench.clock import LiveClock
from workbench.errors import DeviceError

MODES = default_catalog().for_device("system_software")


def make(**overrides: object) -> tuple[simpy.Environment, SystemSoftware]:
    env = simpy.Environment()
    app = SystemSoftware(env, SystemSoftwareSettings(**overrides), MODES)  # type: ignore[arg-type]
    app.start()
    return env, app


def test_transactions_and_restarts_in_virtual_time() -> None:
    env, app = make()
    env.run(until=120)
    app.act("transaction")
    env.run(until=300)
    app.inject("system_software.service_crashed")
    assert [s.state for s in app.health().services if s.name == "payment-service"] == ["crashed"]
    env.run(until=360)
    app.act("restart-service", "payment-service")
    env.run(until=400)
    h = app.health()
    assert h.last_transaction_s == 120 and h.seconds_since_transaction == 280
    assert h.transactions == 1
    assert {s.name: s.restarts for s in h.services}["payment-service"] == 1
    assert app.log == [
        (120, "transaction n=1"),
        (300, "fault id=system_software.service_crashed"),
        (360, "service_restarted name=payment-service"),
        (360, "clear id=system_software.service_crashed"),
    ]


def test_hung_app_takes_no_transactions_until_restarted() -> None:
    env, app = make()
    app.inject("system_software.app_hung")
    with pytest.raises(DeviceError, match="hung"):
        app.act("transaction")
    env.run(until=50)
    app.act("restart-app")
    assert app.health().uptime_s == 0 and app.health().responsive
    assert app.act("transaction") == "transaction 1"
    with pytest.raises(
        DeviceError,
        match=r"^system_software restart-service takes \[NAME\], a service of the release "
        r"\(kiosk-ui, payment-service, .*\); given: nope$",
    ):
        app.act("restart-service", "nope")
    assert app.act("restart-service") == "no crashed service"


def test_settings_must_name_manifest_services() -> None:
    with pytest.raises(DeviceError, match="crash_service"):
        make(crash_service="coffee-maker")


def fetch(url: str, timeout: float = 2.0) -> AppHealth:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.status == 200
        return parse_app_health(resp.read())


@pytest.fixture
async def served() -> AsyncIterator[tuple[SystemSoftware, HttpPort]]:
    env, app = make()
    port = app.open_port("http", "127.0.0.1")
    async with LiveClock(env, speed=100.0):
        await port.start()
        yield app, port
        await port.close()


@pytest.mark.timeout(10)
async def test_health_document(served: tuple[SystemSoftware, HttpPort]) -> None:
    app, port = served
    app.act("transaction")
    h = await asyncio.to_thread(fetch, port.url("/health"))
    assert h.responsive and h.release == "2026.3.1" and h.mismatched == []
    assert sorted(s.name for s in h.services) == sorted(h.manifest)
    assert all(s.state == "running" and s.version == h.manifest[s.name] for s in h.services)
    assert h.transactions == 1 and h.seconds_since_transaction is not None


def probe(url: str, budget: float = 2.0) -> AppHealth | None:
    """What a diagnostic does: GET /health with a 2 s budget; None when it does not answer."""
    try:
        return fetch(url, timeout=budget)
    except TimeoutError:
        return None


WIRE: dict[str, Callable[[AppHealth | None], bool]] = {
    "system_software.service_crashed": lambda h: (
        h is not None and any(s.state == "crashed" for s in h.services)
    ),
    "system_software.app_hung": lambda h: h is None,
    "system_software.version_mismatch": lambda h: (
        h is not None
        and h.mismatched == ["device-manager"]
        and {s.name: s.version for s in h.services}["device-manager"] == "1.18.0"
    ),
}
REMEDY = {
    "system_software.service_crashed": ("restart-service",),  # as the remote remedy calls it
    "system_software.app_hung": ("restart-app",),
    "system_software.version_mismatch": ("update",),
}


def test_every_catalog_fault_has_a_wire_check_and_its_remedy() -> None:
    assert sorted(WIRE) == sorted(m.id for m in MODES) == sorted(REMEDY)
    for mode in MODES:
        assert REMEDY[mode.id][0] == mode.remedy.split(".", 1)[1].replace("_", "-")  # type: ignore[union-attr]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("fault_id", sorted(WIRE))
@pytest.mark.parametrize("how", ["clear", "remedy"])
async def test_fault_shows_on_health_and_clears(
    served: tuple[SystemSoftware, HttpPort], fault_id: str, how: str
) -> None:
    app, port = served
    url = port.url("/health")
    budget = 2.0 if how == "clear" else 0.5  # the catalog's 2 s once; shorter the second time
    assert not WIRE[fault_id](await asyncio.to_thread(probe, url))
    app.inject(fault_id)
    assert WIRE[fault_id](await asyncio.to_thread(probe, url, budget))
    if how == "clear":
        app.clear(fault_id)
    else:
        app.act(*REMEDY[fault_id])
    h = await asyncio.to_thread(probe, url)
    assert h is not None and not WIRE[fault_id](h) and not app.active
