"""The fault catalog and the simulators stay in step: every fault has a simulator in a shipped
profile that can raise it, report it and clear it. (That each fault also shows on the wire is
checked through the real protocols by tests/remote/diagnostics/test_coverage.py.)"""

from __future__ import annotations

import pytest
import simpy

from devices.catalog import default_catalog
from devices.profiles import available, load_profile
from devices.registry import KINDS
from devices.terminal import Terminal

CATALOG = default_catalog()


def test_every_catalog_device_has_a_simulator_in_the_full_profile() -> None:
    simulated = {d for k in KINDS.values() for d in k.catalog_devices}
    assert set(CATALOG.devices) <= simulated
    full = load_profile("bill_payment")
    assert {d for k in full.devices for d in KINDS[k].catalog_devices} == set(CATALOG.devices)
    assert len(CATALOG) >= 50 and len(CATALOG.devices) >= 9
    assert set(available()) >= {"bill_payment", "query_print", "ticket"}


@pytest.fixture(scope="module")
def terminal() -> Terminal:
    env = simpy.Environment()
    t = Terminal(env, "KSK-COV", load_profile("bill_payment"), CATALOG, seed=1)
    t.start()
    env.run(until=1.0)
    return t


@pytest.mark.parametrize("fault_id", sorted(CATALOG))
def test_fault_injects_reports_and_clears(terminal: Terminal, fault_id: str) -> None:
    device = terminal.owner[fault_id]
    assert fault_id not in terminal.active_faults()
    terminal.inject(fault_id)
    assert fault_id in terminal.active_faults()
    assert fault_id in device.status()["faults"]
    terminal.env.run(until=terminal.env.now + 1.0)
    terminal.clear(fault_id)
    assert fault_id not in terminal.active_faults()
    events = [e for _, e in device.log]
    raised = len(events) - 1 - events[::-1].index(f"fault id={fault_id}")
    assert f"clear id={fault_id}" in events[raised:]
