"""Faults stay until repaired; only those the profile marks self-clearing go away on their own."""

from __future__ import annotations

from pathlib import Path

import pytest
import simpy

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from workbench.errors import ConfigError

PROFILE = """\
name: selfclear
devices:
  network: {{}}
  printer: {{}}
faults:
  self_clearing: {{{marks}}}
"""


def _terminal(tmp_path: Path, marks: str) -> Terminal:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE.format(marks=marks))
    terminal = Terminal(simpy.Environment(), "KSK-1", load_profile(path), default_catalog())
    terminal.start()
    return terminal


def test_only_marked_faults_clear_themselves(tmp_path: Path) -> None:
    t = _terminal(tmp_path, "network.high_latency: 20m")
    t.inject("network.high_latency")
    t.inject("printer.cover_open")
    t.env.run(until=20 * 60 - 1)
    assert t.active_faults() == ["printer.cover_open", "network.high_latency"]
    t.env.run(until=3 * 86400)
    assert t.active_faults() == ["printer.cover_open"]
    assert (1200.0, "clear id=network.high_latency") in t.devices["network"].log


def test_a_fault_cleared_and_raised_again_gets_its_own_time(tmp_path: Path) -> None:
    t = _terminal(tmp_path, "network.high_latency: 20m")
    t.inject("network.high_latency")
    t.env.run(until=600)
    t.clear("network.high_latency")
    t.inject("network.high_latency")  # a new episode at 600 s: it lasts until 1800 s
    t.env.run(until=1700)
    assert t.active_faults() == ["network.high_latency"]
    t.env.run(until=1801)
    assert t.active_faults() == []


def test_marking_a_fault_the_profile_cannot_show(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r":\d+: faults.self_clearing: 'cash_box.full' is not a fault"
    ):
        _terminal(tmp_path, "cash_box.full: 1h")
