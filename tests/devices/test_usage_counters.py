"""Usage mode ``counters``: customers drawn from the same model as the bytes mode, put on the
devices' counters with no protocol bytes, wear the devices as the bytes mode does, in
distribution (the customers are drawn in bulk, so they are not the same customers): over a
simulated month, with paper rolls running out and refilled, the cash box filling and collected,
the card head and note sensors wearing."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy

from devices.catalog import default_catalog
from devices.profiles import load_profile
from devices.terminal import Terminal
from devices.usage import UsageSettings
from devices.usage_counters import CountersApp, draw_customers
from workbench.clock import DAY, HOUR
from workbench.errors import ConfigError

PROFILE = """\
name: usage_counters_test
devices:
  printer: {{roll_length_m: 30, near_end_m: 5}}
  bill_validator: {{cash_box_capacity: 400, dirty_after_notes: 1200}}
  card_reader: {{head_dirty_passes: 2500}}
  touchscreen: {{}}
usage:
  enabled: true
  mode: {mode}
  customers_per_hour: 6
  refill_paper: true
  collect_cash_every_d: 7
"""
MONTH = 30 * DAY


def _kiosk(tmp_path: Path, mode: str, seed: int) -> Terminal:
    path = tmp_path / f"{mode}.yaml"
    path.write_text(PROFILE.format(mode=mode))
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=seed)
    terminal.start()
    return terminal


def _faults(terminal: Terminal, device: str, fault: str) -> list[float]:
    return [t for t, e in terminal.devices[device].log if e == f"fault id={fault}"]


def _month(tmp_path: Path, mode: str, seed: int) -> dict[str, float]:
    """What a trainer reads after a month: the application's counters, the devices' wear
    counters, how often the consumables ran out, and when they first did."""
    terminal = _kiosk(tmp_path, mode, seed)
    terminal.env.run(until=MONTH)
    assert terminal.app is not None
    assert isinstance(terminal.app, CountersApp) == (mode == "counters")
    out: dict[str, float] = dict(terminal.app.status())
    printer = terminal.devices["printer"].status()
    validator = terminal.devices["bill_validator"].status()
    reader = terminal.devices["card_reader"].status()
    out["paper_m"] = printer["head_distance_m"]
    out["cuts"] = printer["cuts"]
    out["notes_rejected"] = validator["counters"]["rejected"]
    out["card_passes"] = reader["total_passes"]
    out["touches"] = terminal.devices["touchscreen"].state.touches  # type: ignore[attr-defined]
    for key, device, fault in (
        ("paper_near_end", "printer", "printer.paper_near_end"),
        ("cash_box_full", "bill_validator", "cash_box.full"),
        ("sensor_dirty", "bill_validator", "bill_validator.sensor_dirty"),
        ("card_head_dirty", "card_reader", "card_reader.head_dirty"),
    ):
        times = _faults(terminal, device, fault)
        out[f"{key}_times"] = len(times)
        out[f"{key}_first_h"] = times[0] / HOUR if times else -1.0
    return out


@pytest.fixture(scope="module")
def counters_months(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, float]]:
    tmp = tmp_path_factory.mktemp("counters")
    return [_month(tmp, "counters", seed) for seed in range(20)]


@pytest.mark.parametrize("seed", [7, 11])
def test_a_month_in_counters_mode_wears_the_devices_as_the_bytes_mode_does(
    tmp_path: Path, seed: int, counters_months: list[dict[str, float]]
) -> None:
    by_bytes = _month(tmp_path, "bytes", seed)
    # The month ran as designed in both modes: the consumables ran out and staff came.
    assert by_bytes["customers"] > 2000
    for month in (by_bytes, *counters_months):
        assert month["paper_refills"] >= 5 and month["paper_near_end_times"] >= 5
        assert month["cash_collections"] == 4 and month["cash_box_full_times"] >= 3
        assert month["sensor_dirty_times"] == 1 and month["card_head_dirty_times"] == 1
        assert month["card_read_errors"] > 0 and month["receipts_skipped"] > 0  # paper ran out
    # Every counter of the bytes month lies within 5 standard deviations of the counters
    # mode's months (20 seeds); a counter that is always the same must be the same.
    compared = [k for k in by_bytes if k not in ("cash_credited",)]
    far = {}
    for key in compared:
        values = [m[key] for m in counters_months]
        mean, sd = statistics.fmean(values), statistics.stdev(values)
        if abs(by_bytes[key] - mean) > 5 * sd + 1e-9:
            far[key] = (by_bytes[key], round(mean, 2), round(sd, 2))
    assert not far, f"bytes month (value, counters mean, sd): {far}"
    # The figures a trainer reads agree to within a few per cent on average.
    for key in ("customers", "receipts", "paper_m", "notes_credited", "card_passes", "touches"):
        mean = statistics.fmean(m[key] for m in counters_months)
        assert abs(by_bytes[key] - mean) <= 0.08 * mean, key


def test_the_counters_mode_draws_poisson_customers_within_opening_hours() -> None:
    settings = UsageSettings(customers_per_hour=6.0, opens_h=7, closes_h=21)
    draws = draw_customers(np.random.default_rng(3), settings, 0, 200, 0.0)
    at = np.asarray(draws.arrivals)
    into = at % DAY
    assert (into >= 7 * HOUR).all() and (into < 21 * HOUR).all()
    assert (np.diff(at) >= 0).all()
    per_day = np.bincount((at // DAY).astype(int), minlength=200)
    # 84 a day on average, Poisson: the variance equals the mean (within sampling error).
    assert abs(per_day.mean() - 84) < 3 * (84 / 200) ** 0.5
    assert 0.7 * 84 < per_day.var() < 1.3 * 84
    # Gaps within a day are exponential with mean 10 minutes.
    gaps = np.concatenate([np.diff(at[(at // DAY) == d]) for d in range(200)])
    assert abs(gaps.mean() - 600) < 0.05 * 600
    assert abs(gaps.std() - 600) < 0.08 * 600
    assert all(1 <= len(n) <= settings.max_notes for n in draws.notes)
    assert {v for n in draws.notes for v in n} == set(settings.notes)
    # Started in the middle of a day, only the customers still to come.
    later = draw_customers(np.random.default_rng(3), settings, 0, 1, 12 * HOUR)
    assert later.arrivals and min(later.arrivals) >= 12 * HOUR


def test_paper_near_end_is_raised_by_the_receipt_that_reaches_it(tmp_path: Path) -> None:
    terminal = _kiosk(tmp_path, "counters", 5)
    printer = terminal.devices["printer"]
    terminal.env.run(until=7 * DAY)
    log = printer.log
    at = next(i for i, (_, e) in enumerate(log) if e == "fault id=printer.paper_near_end")
    t, _ = log[at]
    assert log[at + 1][0] == t and log[at + 1][1].startswith("receipt ")
    receipts_before = sum(1 for _, e in log[:at] if e.startswith("receipt "))
    mm_per_receipt = printer.state.distance_mm / printer.status()["receipts"]
    # 25 m of the 30 m roll: the receipt that crossed it, not one a customer later.
    assert receipts_before * mm_per_receipt < 25_000 <= (receipts_before + 1) * mm_per_receipt
    # The application saw near-end at its next receipt and staff refilled at the next opening.
    refill = next(t2 for t2, e in printer.log if e.startswith("paper_refilled"))
    assert refill == (t // DAY + 1) * DAY + 7 * HOUR


def test_a_full_cash_box_refuses_cash_until_staff_collect_it(tmp_path: Path) -> None:
    terminal = _kiosk(tmp_path, "counters", 5)
    validator = terminal.devices["bill_validator"]
    assert terminal.app is not None
    terminal.env.run(until=7 * DAY)
    full = _faults(terminal, "bill_validator", "cash_box.full")
    assert len(full) == 1 and full[0] < 6 * DAY
    refused = [t for t, e in terminal.app.log if e == "cash_refused reason=no_credit"]
    # Before: only a customer whose every note was rejected; after: every cash customer.
    assert len([t for t in refused if t < full[0]]) <= 3
    assert len([t for t in refused if t >= full[0]]) >= 20
    assert validator.status()["cash_box"] == {"level": 400, "capacity": 400, "present": True}
    terminal.env.run(until=8 * DAY)  # the collection at the 8th opening, then customers
    collected = next(t for t, e in terminal.app.log if e == "cash_collected")
    assert collected == 7 * DAY + 7 * HOUR
    assert not validator.has("cash_box.full")
    assert 0 < validator.status()["cash_box"]["level"] < 400  # type: ignore[index]
    after = [t for t, e in terminal.app.log if e == "cash_refused reason=no_credit"]
    assert len([t for t in after if t > collected]) <= 3


@pytest.mark.parametrize("mode", ["bytes", "counters"])
def test_only_the_bytes_mode_talks_to_the_devices_sessions(tmp_path: Path, mode: str) -> None:
    terminal = _kiosk(tmp_path, mode, 7)
    assert terminal.app is not None
    fed: list[int] = []
    for session in terminal.app._sessions.values():
        feed = session.feed

        def counting(data: bytes, feed: Callable[[bytes], bytes] = feed) -> bytes:
            fed.append(len(data))
            return feed(data)

        session.feed = counting  # type: ignore[method-assign]
    terminal.env.run(until=2 * DAY)
    assert terminal.devices["printer"].status()["receipts"] > 50
    assert (sum(fed) > 100_000) == (mode == "bytes")
    assert (sum(fed) == 0) == (mode == "counters")


def test_the_same_seed_runs_the_same_counters_month(tmp_path: Path) -> None:
    first: Any = _month(tmp_path, "counters", 3)
    again: Any = _month(tmp_path, "counters", 3)
    assert first == pytest.approx(again, nan_ok=True)
    assert first != pytest.approx(_month(tmp_path, "counters", 4), nan_ok=True)


def test_an_unknown_usage_mode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.format(mode="wire"))
    with pytest.raises(ConfigError, match="mode"):
        load_profile(path)
