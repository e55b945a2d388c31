"""The receipt printer model in virtual time: paper running to near-end and out, head dirt by
distance, every catalog fault on the status bytes and cleared again, the offline receive
buffer, the FEED button, counters, IDs, automatic status back, and garbage that never stops it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from devices.catalog import default_catalog
from devices.printer import Printer, PrinterSession, PrinterSettings
from devices.protocols.escpos import MAX_BLOCK
from devices.protocols.escpos_status import parse_counter_reply
from workbench.errors import DeviceError

MODES = default_catalog().for_device("printer")
STATUS_ALL = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
GS_R1 = b"\x1dr\x01"
HEALTHY = b"\x12\x12\x12\x12"


def ticket(k: int) -> bytes:
    """ESC @, line spacing 1 inch (180 dots at 180 dpi), four lines, full cut: 4 x 25.4 mm."""
    return b"\x1b@\x1b3\xb4" + f"TICKET {k}\nline 2\nline 3\nline 4\n".encode() + b"\x1dV\x00"


def receipt(k: int) -> str:
    return f"receipt text=TICKET {k}\nline 2\nline 3\nline 4"


def make(env: simpy.Environment, **settings_: Any) -> tuple[Printer, PrinterSession]:
    printer = Printer(env, PrinterSettings(**settings_), MODES)
    return printer, printer.new_session()


def counter(session: PrinterSession, number: int) -> int:
    return parse_counter_reply(session.feed(b"\x1dg2\x00" + number.to_bytes(2, "little")))


# -- paper ----------------------------------------------------------------------------------------
def test_paper_runs_to_near_end_then_out_and_a_new_roll_prints_what_was_held() -> None:
    env = simpy.Environment()
    printer, session = make(env, roll_length_m=1.0, near_end_m=0.3)
    seen: dict[float, bytes] = {}

    def kiosk() -> Generator[simpy.Event, Any, None]:
        for k in range(1, 11):  # 101.6 mm each: near end after the 7th, out inside the 10th
            yield env.timeout(60)
            session.feed(ticket(k))
            seen[env.now] = session.feed(STATUS_ALL + GS_R1)
        yield env.timeout(100)
        printer.act("refill-paper")
        seen[env.now] = session.feed(STATUS_ALL + GS_R1)

    env.process(kiosk())
    env.run()
    assert printer.log == [
        *[(60.0 * k, receipt(k)) for k in range(1, 7)],
        (420.0, "fault id=printer.paper_near_end"),
        (420.0, receipt(7)),
        (480.0, receipt(8)),
        (540.0, receipt(9)),
        (600.0, "fault id=printer.paper_out"),
        (700.0, "paper_refilled previous_mm=0.0"),
        (700.0, "clear id=printer.paper_out"),
        (700.0, "clear id=printer.paper_near_end"),
        (700.0, receipt(10)),  # the cut of ticket 10 waited in the receive buffer
    ]
    assert seen[360.0] == HEALTHY + b"\x00"
    assert seen[420.0] == b"\x12\x12\x12\x1e" + b"\x03"  # near end: still online
    assert seen[600.0] == b"\x1a\x32\x12\x7e" + b"\x0f"  # out: offline, stopped by paper end
    assert seen[700.0] == HEALTHY + b"\x00"
    assert printer.paper_mm == pytest.approx(1000.0)
    assert printer.receipts[-1] == "TICKET 10\nline 2\nline 3\nline 4"
    assert printer.state.cuts == 10


def test_head_dirt_follows_distance_and_shows_on_the_maintenance_counters() -> None:
    env = simpy.Environment()
    printer, session = make(env, head_clean_interval_m=0.2)
    env.run(until=60)
    session.feed(ticket(1))
    env.run(until=120)
    session.feed(ticket(2))  # 203.2 mm since cleaning: past the 200 mm interval
    lines = round(203.2 / (25.4 / 6))
    assert [counter(session, n) for n in (20, 148, 50, 178, 70)] == [lines, lines, 2, 2, 0]
    env.run(until=130)
    assert printer.act("clean-head") == "print head cleaned"
    assert printer.log == [
        (60.0, receipt(1)),
        (120.0, "fault id=printer.head_dirty"),
        (120.0, receipt(2)),
        (130.0, "head_cleaned since_clean_m=0.203"),
        (130.0, "clear id=printer.head_dirty"),
    ]
    assert counter(session, 20) == 0 and counter(session, 148) == lines
    assert printer.status()["head_dirt"] == 0.0 and printer.status()["head_distance_m"] == 0.203


def test_counters_reset_by_gs_g_0_and_hours_run_with_simulated_time() -> None:
    env = simpy.Environment()
    printer, session = make(env, cuts=1000)
    session.feed(ticket(1))
    assert counter(session, 50) == 1 and counter(session, 178) == 1001
    session.feed(b"\x1dg0\x00\x32\x00")
    assert counter(session, 50) == 0 and counter(session, 178) == 1001
    env.run(until=7300)
    assert counter(session, 70) == 2 and counter(session, 198) == 2
    assert session.feed(b"\x1dg2\x00\x63\x00") == b""  # counter 99 does not exist: no answer
    assert printer.log[-1] == (0.0, "counter_reset counter=50")


# -- faults -----------------------------------------------------------------------------------------
WIRE = {
    "printer.paper_out": (b"\x1a\x32\x12\x7e", b"\x0f", False),
    "printer.paper_near_end": (b"\x12\x12\x12\x1e", b"\x03", True),
    "printer.cover_open": (b"\x1a\x16\x12\x12", b"\x00", False),
    "printer.cutter_jam": (b"\x1a\x52\x1a\x12", b"\x00", False),
    "printer.head_overheat": (b"\x1a\x52\x52\x12", b"\x00", False),
    "printer.head_dirty": (HEALTHY, b"\x00", True),
    "printer.offline": (b"\x1a\x52\x12\x12", b"\x00", False),
    "printer.paper_jam": (b"\x1a\x52\x32\x12", b"\x00", False),
}
"""DLE EOT 1..4 and GS r 1 while each fault is active, and whether printing goes on."""


def test_the_table_covers_every_catalog_fault_of_the_printer() -> None:
    assert set(WIRE) == {m.id for m in MODES}


@pytest.mark.parametrize("fault", sorted(WIRE))
def test_each_fault_shows_on_the_wire_and_clears(fault: str) -> None:
    status, gs_r1, prints = WIRE[fault]
    env = simpy.Environment()
    printer, session = make(env, cooldown_s=None, head_clean_interval_m=1.0)
    assert session.feed(STATUS_ALL + GS_R1) == HEALTHY + b"\x00"
    printer.inject(fault)
    assert session.feed(STATUS_ALL + GS_R1) == status + gs_r1
    # python-escpos's is_online(): offline unless DLE EOT 1 bit 3 is clear
    assert session.feed(b"\x10\x04\x01")[0] & 8 == (0 if prints else 8)
    session.feed(ticket(1))
    assert len(printer.receipts) == (1 if prints else 0)
    if fault == "printer.head_dirty":
        assert counter(session, 20) >= 1000 / (25.4 / 6)
    env.run(until=5)
    printer.clear(fault)
    assert session.feed(STATUS_ALL + GS_R1) == HEALTHY + b"\x00"
    assert printer.receipts == ["TICKET 1\nline 2\nline 3\nline 4"]  # held data printed now
    assert printer.log[0] == (0.0, f"fault id={fault}")
    assert (5.0, f"clear id={fault}") in printer.log


def test_overheated_head_recovers_by_itself_after_the_cool_down() -> None:
    env = simpy.Environment()
    printer, session = make(env, cooldown_s=60)
    env.run(until=5)
    printer.inject("printer.head_overheat")
    env.run(until=10)
    session.feed(ticket(1))
    assert session.feed(b"\x10\x04\x03") == b"\x52"
    env.run(until=100)
    assert printer.log == [
        (5.0, "fault id=printer.head_overheat"),
        (65.0, "clear id=printer.head_overheat"),
        (65.0, receipt(1)),
    ]


def test_cover_open_buffers_print_data_and_loses_what_does_not_fit() -> None:
    env = simpy.Environment()
    printer, session = make(env, receive_buffer=64)
    printer.act("open-cover")
    session.feed(ticket(1))  # 38 bytes: held
    session.feed(ticket(2))  # its 30 bytes of text do not fit any more
    assert printer.status()["queued_bytes"] == 38 + 8
    env.run(until=30)
    assert printer.act("close-cover") == "cover closed"
    assert printer.log == [
        (0.0, "fault id=printer.cover_open"),
        (0.0, "data_discarded bytes=30"),
        (30.0, "clear id=printer.cover_open"),
        (30.0, receipt(1)),
    ]
    assert printer.state.cuts == 2 and printer.status()["queued_bytes"] == 0


def test_data_lost_to_a_full_buffer_is_recorded_at_most_twenty_times_a_second() -> None:
    # a flood of noise at an offline printer gave 70,000 records for 4 MB, each a store row
    env = simpy.Environment()
    printer, session = make(env, receive_buffer=64)
    printer.act("open-cover")
    session.feed(b"x" * 64)  # fills the buffer
    session.feed(b"\x1b@" * 50)  # 50 messages of 2 bytes that do not fit
    assert [t for _, t in printer.log].count("data_discarded bytes=2") == 20
    env.run(until=1.0)
    session.feed(b"\x1b@")
    assert printer.log[-2:] == [
        (1.0, "data_discards_suppressed count=30 bytes=60"),
        (1.0, "data_discarded bytes=2"),
    ]


def test_feed_button_feeds_paper_and_reports_it_while_held() -> None:
    env = simpy.Environment()
    printer, session = make(env, feed_speed_mm_s=100)
    env.run(until=10)
    assert printer.act("feed-button", "2") == "FEED held for 2 s"
    env.run(until=11)
    assert session.feed(b"\x10\x04\x01\x10\x04\x02") == b"\x1a\x1a"
    session.feed(ticket(1))
    env.run(until=20)
    assert printer.log == [(10.0, "feed_button seconds=2.0"), (12.0, receipt(1))]
    assert printer.paper_mm == pytest.approx(80000 - 200 - 101.6)
    for wrong in ("long", "0", "61"):
        with pytest.raises(DeviceError) as info:
            printer.act("feed-button", wrong)
        assert str(info.value) == (
            "printer feed-button takes [SECONDS], a number of seconds, more than 0 and at most 60; "
            f"given: {wrong}"
        )


def test_reset_remedy_clears_offline_and_drops_held_data() -> None:
    env = simpy.Environment()
    printer, session = make(env)
    printer.inject("printer.offline")
    session.feed(ticket(1))
    assert printer.act("reset") == "printer reset"
    assert session.feed(STATUS_ALL) == HEALTHY
    assert printer.receipts == [] and printer.log[-1] == (0.0, "clear id=printer.offline")


# -- identity, automatic status, bad input ----------------------------------------------------------
def test_printer_id_answers() -> None:
    env = simpy.Environment()
    _, session = make(env, model="TM-T88V", serial_number="X4ZA000042")
    assert session.feed(b"\x1dI\x01\x1dI\x02\x1dI\x31") == b"\x20\x02\x20"
    assert session.feed(b"\x1dI\x42\x1dI\x43\x1dI\x44") == b"_EPSON\x00_TM-T88V\x00_X4ZA000042\x00"
    assert session.feed(b"\x1dI\x7f") == b""


def test_automatic_status_back_is_sent_on_enable_and_on_every_change() -> None:
    env = simpy.Environment()
    printer, session = make(env)
    pushed: list[bytes] = []
    session.attach(pushed.append)
    assert session.feed(b"\x1da\x0f") == b"\x10\x00\x00\x00"
    printer.act("open-cover")
    printer.act("close-cover")
    printer.inject("printer.paper_near_end")
    assert pushed == [b"\x38\x00\x00\x00", b"\x10\x00\x00\x00", b"\x10\x00\x03\x00"]
    session.feed(b"\x1da\x00")
    printer.inject("printer.cutter_jam")
    assert len(pushed) == 3


def test_unknown_commands_are_logged_and_printing_goes_on() -> None:
    env = simpy.Environment()
    printer, session = make(env)
    session.feed(b"\x1b@\x1b\xffHELLO\n\x1d\x01\x1dV\x00")
    assert printer.log == [
        (0.0, "unknown_command hex=1b ff"),
        (0.0, "unknown_command hex=1d 01"),
        (0.0, "receipt text=HELLO"),
    ]


def test_receipt_layout_alignment_sizes_and_placeholders() -> None:
    env = simpy.Environment()
    printer, session = make(env, columns=42)
    session.feed(
        b"\x1b@\x1ba\x01\x1b!\x30KIOSK\n\x1b!\x00\x1ba\x02TOTAL 9.90\n\x1ba\x00"
        b"\x1bt\x10Caf\xe9\n"  # code page 16 = Windows-1252
        b"\x1dk\x024006381333931\x00"
        b"\x1d(k\x08\x001P0hello\x1d(k\x03\x001Q0"
        b"\x1dv0\x00\x30\x00\x78\x00" + bytes(48 * 120) + b"\x1bd\x06\x1dV\x00"
    )
    assert printer.receipts == [
        "                KIOSK\n"  # double width: 10 columns, centred in 42
        "                                TOTAL 9.90\n"
        "Café\n"
        "[BARCODE EAN13 4006381333931]\n"
        "[QR hello]\n"
        "[IMAGE 384x120]"
    ]


@given(st.binary(max_size=800))
@settings(max_examples=60, deadline=None)
def test_garbage_never_stops_the_printer_answering(garbage: bytes) -> None:
    env = simpy.Environment()
    printer, session = make(env)
    session.feed(garbage)
    session.feed(bytes(MAX_BLOCK + 64))  # completes whatever command the garbage began
    reply = session.feed(b"\x10\x04\x01")
    assert len(reply) == 1 and reply[0] & 0x93 == 0x12
    assert printer.status()["paper_mm"] <= 80000


# -- real-time commands, as the printer receives them ------------------------------------------------
@pytest.mark.parametrize(
    "opening",
    [
        b"\x1d(k\x60\xea",  # a QR block header: 60,000 bytes of data announced
        b"\x1d8L\x00\x00\x0f\x00",  # a GS 8 L block of about 1 MiB
        b"\x1dv0\x00\xff\x00\xff\x0f",  # a raster image of 255 x 4095 bytes
        b"\x1b*\x21\xff\x07",  # a 24-dot bit image 2047 columns wide
    ],
)
def test_dle_eot_is_answered_while_the_parser_is_inside_a_command(opening: bytes) -> None:
    # random bytes left the parser inside a counted block and DLE EOT went unanswered until
    # 64 KiB of NULs arrived; Epson: the status is sent whenever 10 04 n is received
    env = simpy.Environment()
    _, session = make(env)
    assert session.feed(opening + b"some data") == b""
    assert session.feed(STATUS_ALL) == HEALTHY
    assert session.feed(b"\x10") == b""  # split anywhere
    assert session.feed(b"\x04") == b""
    assert session.feed(b"\x04") == b"\x12"  # 10 04 04: paper sensor
    assert session.feed(b"\x10\x04\x05") == b""  # n out of range: ignored
    assert session.parser.pending > 0  # still inside the command: its data stays data
    assert session.feed(GS_R1) == b""


def test_dle_eot_as_the_argument_of_a_command_is_answered_too() -> None:
    env = simpy.Environment()
    _, session = make(env)
    # Epson's example: ESC 3 then DLE EOT 3 before n: the 10 is ESC 3's n, and the status goes
    assert session.feed(b"\x1b3\x10\x04\x03") == b"\x12"


def test_a_status_query_inside_text_is_answered_once() -> None:
    env = simpy.Environment()
    printer, session = make(env)
    assert session.feed(b"\x1b@PAID\x10\x04\x01 9.90\n\x1dV\x00") == b"\x12"
    assert printer.receipts == ["PAID 9.90"]


def test_clear_buffers_ends_a_stuck_block_and_answers() -> None:
    env = simpy.Environment()
    printer, session = make(env)
    session.feed(b"\x1d(k\x60\xea" + b"junk")
    assert session.feed(b"\x1dIC") == b""  # swallowed as QR data
    assert session.feed(b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08") == b"\x37\x25\x00"
    assert session.feed(b"\x1dIC") == b"_TM-T88V\x00"
    assert printer.log[-1] == (0.0, "buffers_cleared by=realtime_function")


def test_a_power_cycle_clears_every_stuck_parser() -> None:
    env = simpy.Environment()
    printer, session = make(env)
    other = printer.new_session()
    for s in (session, other):
        s.feed(b"\x1d8L\x00\x00\x0f\x00")
    printer.act("reset")
    assert session.feed(b"\x1dIC") == other.feed(b"\x1dIC") == b"_TM-T88V\x00"


@given(st.binary(max_size=800))
@example(b"\x10\x14\x01")  # a pulse command cut short: DLE EOT's bytes are no valid m, t
@settings(max_examples=60, deadline=None)
def test_after_any_garbage_dle_eot_is_answered_at_once(garbage: bytes) -> None:
    env = simpy.Environment()
    _, session = make(env)
    session.feed(garbage)
    reply = session.feed(b"\x10\x04\x01")
    assert reply and reply[-1] & 0x93 == 0x12


def test_line_noise_is_recorded_at_most_twenty_unknown_commands_a_second() -> None:
    # random bytes gave about 3,700 unknown-command records a megabyte, each a store row
    env = simpy.Environment()
    printer, session = make(env)
    session.feed(b"\x1b\xff" * 50)
    assert [t for _, t in printer.log].count("unknown_command hex=1b ff") == 20
    env.run(until=1.0)
    session.feed(b"\x1b\xff")
    assert printer.log[-2:] == [
        (1.0, "unknown_commands_suppressed count=30"),
        (1.0, "unknown_command hex=1b ff"),
    ]
