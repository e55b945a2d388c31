"""The kiosk application and its customers: a simulated week of use wears the devices as in the
field, through the devices' own byte sessions; exact logs in virtual time with a fixed seed."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest
import simpy
from hypothesis import given
from hypothesis import strategies as st

from devices.catalog import default_catalog
from devices.kiosk import KioskHost
from devices.printer import LINE_MM, Printer, PrinterSettings
from devices.profiles import load_profile
from devices.protocols import escpos, ssp
from devices.terminal import Terminal
from devices.usage import receipt_bytes
from workbench.clock import DAY, HOUR
from workbench.errors import ConfigError

PROFILE = """\
name: usage_test
devices:
  printer: {{roll_length_m: 30, near_end_m: 5}}
  bill_validator: {{cash_box_capacity: 2000}}
  card_reader: {{}}
  touchscreen: {{}}
usage:
  enabled: true
  customers_per_hour: 6
  opens_h: 7
  closes_h: 21
  refill_paper: false
  collect_cash_every_d: null
{extra}"""


def _terminal(tmp_path: Path, extra: str = "", seed: int = 7) -> Terminal:
    path = tmp_path / "usage_test.yaml"
    path.write_text(PROFILE.format(extra=extra))
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=seed)
    terminal.start()
    return terminal


def _week(tmp_path: Path, extra: str = "", seed: int = 7) -> Terminal:
    terminal = _terminal(tmp_path, extra, seed)
    terminal.env.run(until=7 * DAY)
    return terminal


def _rounded(log: list[tuple[float, str]], n: int) -> list[tuple[float, str]]:
    return [(round(t, 6), e) for t, e in log[:n]]


def test_a_week_of_customers_wears_every_device_through_its_protocol(tmp_path: Path) -> None:
    terminal = _week(tmp_path)
    app, dev = terminal.app, terminal.devices
    assert app is not None
    stats = app.stats
    assert (stats.customers, stats.card_payments, stats.cash_payments, stats.lookups) == (
        604,
        257,
        292,
        55,
    )
    # The first customer of the first morning (07:16) pays by card: the application opens the
    # shutter, the card goes in, track 2 is read over STX/BCC, the card comes back and is taken.
    assert _rounded(dev["card_reader"].log, 4) == [
        (26203.009987, "initialised mode=0"),
        (26207.878246, "card_inserted pan=4761739001010119"),
        (26207.878246, "card_ejected"),
        (26209.878246, "card_taken"),
    ]
    # The second pays cash: SSP setup and ENABLE, then a 20 read for 1 s, held in escrow until
    # the next POLL (every 0.5 s), stacked, credited 0.6 s later and in the cash box at 1.2 s.
    assert _rounded(dev["bill_validator"].log, 8) == [
        (26468.03443, "inhibits accepting=[1, 2, 3, 4, 5, 6, 7]"),
        (26468.03443, "enabled"),
        (26470.707505, "note_inserted value=20 genuine=True"),
        (26470.707505, "reading value=20"),
        (26471.707505, "escrow channel=3"),
        (26472.207505, "stacking channel=3"),
        (26472.807505, "credit channel=3"),
        (26473.407505, "stacked channel=3 cash_box=1"),
    ]
    first_receipt = dev["printer"].log[0]
    assert first_receipt[0] == pytest.approx(26209.878246)
    assert first_receipt[1].startswith("receipt text=            CITY SERVICE HALL\n")
    assert "Paid by card ****0119" in first_receipt[1]

    printer, validator, reader, touch = (dev[n].status() for n in dev)
    # notes fill the cash box, exactly the ones the application saw credited
    assert validator["cash_box"]["level"] == stats.notes_credited == 581
    # each card passes the read head twice (drawn in, ejected)
    assert reader["total_passes"] == 2 * stats.card_payments == 514
    assert touch["touches"] == stats.touches_seen == 5 * stats.customers
    # paper and the head: the 30 m roll is used up, the head ran 30 m and the counters say so
    assert printer["faults"] == ["printer.paper_near_end", "printer.paper_out"]
    assert printer["paper_mm"] == 0.0
    assert printer["head_distance_m"] == 30.0
    assert printer["head_dirt"] == pytest.approx(30.0 / 5000.0)
    assert dev["printer"].counter(148) == int(30_000 / LINE_MM)
    assert stats.receipts_skipped == stats.customers - stats.receipts == 346


def test_a_validator_that_requires_essp_takes_the_same_cash_encrypted(tmp_path: Path) -> None:
    """The application meets KEY NOT SET, negotiates a key and pays exactly as in the clear."""
    plain = _terminal(tmp_path)
    plain.env.run(until=2 * DAY)
    path = tmp_path / "usage_test.yaml"
    path.write_text(
        PROFILE.format(extra="").replace(
            "cash_box_capacity: 2000}", "cash_box_capacity: 2000, require_encryption: true}"
        )
    )
    env = simpy.Environment()
    encrypted = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=7)
    encrypted.start()
    env.run(until=2 * DAY)
    assert plain.app is not None and encrypted.app is not None
    assert encrypted.app.stats.cash_payments > 0
    assert encrypted.app.stats == plain.app.stats
    essp = encrypted.devices["bill_validator"].status()["essp"]
    assert essp["required"] and essp["key_set"] and essp["count"] > 100


def test_paper_near_end_comes_by_wear_at_the_predicted_receipt(tmp_path: Path) -> None:
    """Near-end trips on the receipt that takes the roll below 5 m; every customer prints one,
    so it comes about k / customers_per_hour opening hours after the first opening."""
    env = simpy.Environment()
    probe = Printer(env, PrinterSettings(), [])
    probe.new_session().feed(receipt_bytes("card", 12))
    mm_per_receipt = 80_000 - probe.paper_mm
    k = math.ceil((30_000 - 5_000) / mm_per_receipt)
    assert k == 215

    terminal = _week(tmp_path)
    log = terminal.devices["printer"].log
    receipts = [t for t, e in log if e.startswith("receipt ")]
    near_end = next(t for t, e in log if e == "fault id=printer.paper_near_end")
    assert near_end == receipts[k - 1] == pytest.approx(208581.573353)
    assert near_end > receipts[k - 2]
    open_hours = 2 * 14 + (near_end - 2 * DAY - 7 * HOUR) / HOUR
    expected = k / 6  # Poisson arrivals: sd sqrt(k) customers
    assert abs(open_hours - expected) < 3 * math.sqrt(k) / 6
    # the application reads the near-end sensor (DLE EOT 4) before the next receipt
    assert terminal.app is not None
    assert terminal.app.log[0] == (pytest.approx(208648.767959), "paper_low sensors=near_end")


def test_the_same_seed_gives_the_same_week_and_another_seed_another(tmp_path: Path) -> None:
    one, two = _week(tmp_path), _week(tmp_path)
    assert one.devices["bill_validator"].log == two.devices["bill_validator"].log
    other = _week(tmp_path, seed=8)
    assert other.devices["bill_validator"].log != one.devices["bill_validator"].log


def test_customers_come_only_in_opening_hours(tmp_path: Path) -> None:
    terminal = _week(tmp_path)
    times = [t for t, e in terminal.devices["touchscreen"].log if e.startswith("touch ")]
    hours = {int(t % DAY // HOUR) for t in times}
    assert min(hours) == 7
    assert max(hours) <= 21  # the last customer may finish a little after closing
    assert all(7 * HOUR <= t % DAY < 21 * HOUR + 120 for t in times)


def test_faults_change_what_customers_can_do(tmp_path: Path) -> None:
    terminal = _terminal(tmp_path)
    terminal.inject("cash_box.removed")
    terminal.inject("printer.cover_open")
    terminal.env.run(until=1 * DAY)
    app = terminal.app
    assert app is not None
    # no note goes in with the cash box out: cash customers turn to the card
    validator = terminal.devices["bill_validator"].status()
    assert validator["cash_box"]["level"] == 0
    assert app.stats.cash_payments == 0
    assert app.stats.card_payments > 0
    assert app.log[0][1] == "cash_refused reason=no_credit"
    # the printer is offline (DLE EOT 1 says so): no receipts are sent to it
    assert app.stats.receipts == 0
    assert app.stats.receipts_skipped == app.stats.customers
    assert terminal.devices["printer"].status()["receipts"] == 0


def test_staff_rounds_refill_paper_collect_cash_and_repair(tmp_path: Path) -> None:
    extra = "  refill_paper: true\n  collect_cash_every_d: 2\n  repair_faults: true\n"
    text = (
        PROFILE.format(extra="")
        .replace("  refill_paper: false\n", "")
        .replace("  collect_cash_every_d: null\n", "")
    )
    path = tmp_path / "staff.yaml"
    path.write_text(text + extra)
    env = simpy.Environment()
    terminal = Terminal(env, "KSK-0001", load_profile(path), default_catalog(), seed=7)
    terminal.start()
    terminal.inject("card_reader.card_jam")
    env.run(until=7 * DAY)
    app = terminal.app
    assert app is not None
    assert app.log[:3] == [
        (7 * HOUR, "repaired fault=card_reader.card_jam"),
        (2 * DAY + 7 * HOUR, "cash_collected"),
        (pytest.approx(208648.767959), "paper_low sensors=near_end"),
    ]
    # paper out in the afternoon of day 2; a new roll at the next opening, then printing again
    refills = [(t, e) for t, e in terminal.devices["printer"].log if "paper_refilled" in e]
    assert refills == [
        (3 * DAY + 7 * HOUR, "paper_refilled previous_mm=0.0"),
        (6 * DAY + 7 * HOUR, "paper_refilled previous_mm=460.4"),
    ]
    assert app.stats.receipts == terminal.devices["printer"].status()["receipts"]
    assert terminal.devices["printer"].status()["receipts"] > 2 * 215
    # the cash box is emptied every second morning (CIT), so it never gets near full
    emptied = [e for _, e in terminal.devices["bill_validator"].log if "emptied" in e]
    assert len(emptied) == app.stats.cash_collections == 3
    assert terminal.devices["bill_validator"].status()["faults"] == []


def test_bad_usage_settings_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.format(extra="  customers_per_hr: 3\n"))
    with pytest.raises(ConfigError, match=r"bad.yaml.*customers_per_hr"):
        load_profile(path)
    path.write_text(PROFILE.format(extra="").replace("closes_h: 21", "closes_h: 6"))
    with pytest.raises(ConfigError, match=r"closes_h\(=6.0\) must be after opens_h"):
        load_profile(path)
    # customers pay with face values: none, 0 or a negative note is no note
    for notes, why in (
        ("[]", "notes: .*at least 1 item"),
        ("[10, 0]", "notes.1: .*greater than 0"),
    ):
        path.write_text(PROFILE.format(extra=f"  notes: {notes}\n"))
        with pytest.raises(ConfigError, match=rf"bad.yaml:\d+: usage.{why}"):
            load_profile(path)


def test_shipped_profiles_describe_their_traffic_but_stay_idle() -> None:
    for name in ("bill_payment", "query_print", "ticket"):
        usage = load_profile(name).usage
        assert usage is not None and not usage.enabled
        assert usage.customers_per_hour > 0


async def _timer_lateness(worst: list[float], step: float = 0.01) -> None:
    """Keep in ``worst[0]`` the worst lateness of a 10 ms asyncio timer until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(step)
        worst[0] = max(worst[0], loop.time() - start - step)


@pytest.mark.timeout(10)
async def test_customers_in_live_time_through_a_kiosk_host(state_dir: Path) -> None:
    path = state_dir / "live.yaml"
    text = (
        PROFILE.format(extra="")
        .replace("opens_h: 7", "opens_h: 0")
        .replace("closes_h: 21", "closes_h: 24")
    )
    path.write_text(text.replace("customers_per_hour: 6", "customers_per_hour: 120"))
    async with KioskHost(state_dir, path, ["KSK-0009"], speed=7200) as host:
        worst = [0.0]
        late = asyncio.create_task(_timer_lateness(worst))  # the loop's own delay, same run
        await host.clock.wait(host.env.timeout(1800))  # half a simulated hour, 0.25 s of wall
        late.cancel()
        app = host.terminals["KSK-0009"].app
        assert app is not None
        assert app.stats.customers >= 20
        assert host.terminals["KSK-0009"].devices["printer"].status()["receipts"] > 10
        # Live time keeps up: its lag is within what a bare asyncio timer suffered meanwhile.
        assert host.clock.max_lag < 0.5 + 2 * worst[0]


@given(st.binary(max_size=40), st.booleans(), st.integers(0, 0x7F))
def test_the_ssp_whole_frame_fast_path_reads_as_byte_by_byte(
    data: bytes, seq: bool, address: int
) -> None:
    """The application's frames take the deframer's whole-frame shortcut; it must agree."""
    frame = ssp.encode_frame(seq, address, data)
    bytewise = ssp.Deframer()
    slow = [item for i in range(len(frame)) for item in bytewise.feed(frame[i : i + 1])]
    assert ssp.Deframer().feed(frame) == slow == [ssp.Packet(seq, address, data)]
    corrupt = frame[:-1] + bytes([frame[-1] ^ 1])
    bytewise = ssp.Deframer()
    slow = [item for i in range(len(corrupt)) for item in bytewise.feed(corrupt[i : i + 1])]
    assert ssp.Deframer().feed(corrupt) == slow


def test_a_remembered_receipt_parse_equals_a_fresh_one() -> None:
    receipt = receipt_bytes("cash", 12)
    fresh = escpos.parse(receipt)
    assert escpos.Parser().feed(receipt) == fresh  # parsed and remembered
    assert escpos.Parser().feed(receipt) == fresh  # from memory
