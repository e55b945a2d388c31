"""Usage mode ``counters``: the same seeded customers as the bytes mode, put on the devices'
counters with no protocol bytes, wear the devices the same way over a simulated week."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import simpy

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from devices.usage_counters import CountersApp
from workbench.clock import DAY
from workbench.errors import ConfigError

PROFILE = """\
name: usage_counters_test
devices:
  printer: {{roll_length_m: 30, near_end_m: 5}}
  bill_validator: {{cash_box_capacity: 250}}
  card_reader: {{}}
  touchscreen: {{}}
usage:
  enabled: true
  mode: {mode}
  customers_per_hour: 6
  refill_paper: false
  collect_cash_every_d: null
"""


def _week(tmp_path: Path, mode: str, seed: int = 7) -> Terminal:
    path = tmp_path / f"{mode}.yaml"
    path.write_text(PROFILE.format(mode=mode))
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=seed)
    terminal.start()
    env.run(until=7 * DAY)
    return terminal


def _first(terminal: Terminal, device: str, fault: str) -> float:
    return next(t for t, e in terminal.devices[device].log if e == f"fault id={fault}")


@pytest.mark.parametrize("seed", [7, 11])
def test_a_week_in_counters_mode_wears_the_devices_as_the_bytes_mode_does(
    tmp_path: Path, seed: int
) -> None:
    by_bytes, by_counters = _week(tmp_path, "bytes", seed), _week(tmp_path, "counters", seed)
    assert isinstance(by_counters.app, CountersApp)
    assert by_bytes.app is not None and not isinstance(by_bytes.app, CountersApp)
    b, c = by_bytes.app.stats, by_counters.app.stats
    assert c.customers == b.customers > 400
    assert (c.card_payments, c.cash_payments, c.lookups) == (
        b.card_payments,
        b.cash_payments,
        b.lookups,
    )
    assert abs(c.receipts - b.receipts) <= 1 and b.receipts > 100
    bp, cp = by_bytes.devices["printer"].status(), by_counters.devices["printer"].status()
    assert abs(cp["head_distance_m"] - bp["head_distance_m"]) <= 0.1  # paper used, in metres
    assert abs(cp["cuts"] - bp["cuts"]) <= 1
    bv, cv = (
        by_bytes.devices["bill_validator"].status(),
        by_counters.devices["bill_validator"].status(),
    )
    assert cv["cash_box"]["level"] == bv["cash_box"]["level"] == 250  # notes stacked: box full
    assert cv["counters"] == bv["counters"]
    assert (
        by_counters.devices["card_reader"].status()["head_passes"]
        == by_bytes.devices["card_reader"].status()["head_passes"]
    )
    touches = by_counters.devices["touchscreen"].state.touches  # type: ignore[attr-defined]
    assert touches == by_bytes.devices["touchscreen"].state.touches == c.touches_seen  # type: ignore[attr-defined]
    # Wear faults are reached the same way: paper near end and out, cash box full, within
    # minutes of each other (a counters customer's effects land when they step up).
    for device, fault in (
        ("printer", "printer.paper_near_end"),
        ("printer", "printer.paper_out"),
        ("bill_validator", "cash_box.near_full"),
        ("bill_validator", "cash_box.full"),
    ):
        assert abs(_first(by_counters, device, fault) - _first(by_bytes, device, fault)) < 300
    assert c.receipts_skipped == b.receipts_skipped > 0  # paper out: customers got no receipt


@pytest.mark.parametrize("mode", ["bytes", "counters"])
def test_only_the_bytes_mode_talks_to_the_devices_sessions(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"{mode}.yaml"
    path.write_text(PROFILE.format(mode=mode))
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=7)
    terminal.start()
    assert terminal.app is not None
    fed: list[int] = []
    for session in terminal.app._sessions.values():
        feed = session.feed

        def counting(data: bytes, feed: Callable[[bytes], bytes] = feed) -> bytes:
            fed.append(len(data))
            return feed(data)

        session.feed = counting  # type: ignore[method-assign]
    env.run(until=2 * DAY)
    assert terminal.devices["printer"].status()["receipts"] > 50
    assert (sum(fed) > 100_000) == (mode == "bytes")
    assert (sum(fed) == 0) == (mode == "counters")


def test_an_unknown_usage_mode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.format(mode="wire"))
    with pytest.raises(ConfigError, match="mode"):
        load_profile(path)
