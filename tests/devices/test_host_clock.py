"""Host-facing time runs on the host's clock: an SSP host that polls at its own wall-clock rate
(200 ms, 500 ms) gets a note credited at ``--speed`` 1, 30 and 60, a host that goes silent for
longer than the escrow time-out (in wall seconds) gets the note back with reject code 0x13, and a
kiosk at the README's speed works with real host software.

The host is the independent one of ``test_ssp_host.py`` (its own CRC and framing), on a real pty
opened with pyserial; it paces itself with its own wall clock, as kiosk software does.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import serial
import simpy
from escpos.printer import Serial
from pymodbus.client import AsyncModbusTcpClient
from test_card_reader import transact
from test_ssp_host import MODES, SspHost, events

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.card_reader import DEFAULT_TRACK2
from devices.catalog import default_catalog
from devices.kiosk import KioskHost
from devices.network import Network, NetworkSettings
from devices.protocols import stx_bcc as cr
from devices.protocols import ups_registers as regs
from devices.transports.pty import PtyPort
from workbench.clock import LiveClock

READ, CREDIT, REJECTING, REJECTED, STACKING, STACKED = 0xEF, 0xEE, 0xED, 0xEC, 0xCC, 0xEB
ESCROW_TIMEOUT_CODE = 0x13


def setup(host: SspHost) -> None:
    """SYNC, protocol 7, every channel accepted, enabled, the power-up event drained."""
    assert host.sync() == b"\xf0"
    assert host.cmd(0x06, 0x07) == b"\xf0"
    assert host.cmd(0x02, 0xFF, 0xFF) == b"\xf0"
    assert host.cmd(0x0A) == b"\xf0"
    assert host.cmd(0x07) is not None


def poll_every(host: SspHost, period: float, until: set[int], limit: float = 20.0) -> list[int]:
    """Poll at a fixed wall-clock period (the next poll is due ``period`` after the last one
    was due) until an event in ``until`` comes; returns the event codes seen, in order."""
    seen: list[int] = []
    due = time.monotonic()
    end = due + limit
    while time.monotonic() < end:
        reply = host.cmd(0x07)
        assert reply is not None, "the validator did not answer a poll"
        codes = [code for code, _ in events(reply)]
        seen += codes
        if until & set(codes):
            return seen
        due += period
        time.sleep(max(0.0, due - time.monotonic()))
    raise AssertionError(f"none of {until} within {limit} s; events {seen}")


def timed_poll(host: SspHost) -> tuple[list[tuple[int, int | None]], float, float]:
    """One poll: the events it reported, when it was sent and when its reply was in (monotonic
    seconds). The validator took the poll in somewhere between the two."""
    sent = time.monotonic()
    reply = host.cmd(0x07)
    assert reply is not None, "the validator did not answer a poll"
    return events(reply), sent, time.monotonic()


def until_in_escrow(host: SspHost) -> tuple[float, float]:
    """Poll quickly until the note is reported in escrow (read with a channel); returns when that
    last poll was sent and answered."""
    for _ in range(500):
        seen, sent, replied = timed_poll(host)
        if any(code == READ and ch for code, ch in seen):
            return sent, replied
        time.sleep(0.005)
    raise AssertionError("the note never reached escrow")


def in_order(seen: list[int], wanted: list[int]) -> bool:
    it = iter(seen)
    return all(code in it for code in wanted)


async def start(speed: float, **settings: float) -> tuple[LiveClock, BillValidator, PtyPort]:
    env = simpy.Environment()
    clock = LiveClock(env, speed=speed)
    clock.start()
    validator = BillValidator(
        env,
        BillValidatorSettings(base_reject_rate=0.0, wear_reject_per_note=0.0, **settings),
        MODES,
    )
    validator.attach_clock(clock)
    validator.start()
    port = PtyPort(validator.new_session, name="bill_validator", clock=validator)
    await port.start()
    return clock, validator, port


@pytest.mark.timeout(30)
@pytest.mark.parametrize("poll_s", [0.2, 0.5])
@pytest.mark.parametrize("speed", [1.0, 30.0, 60.0])
async def test_a_host_polling_at_its_own_rate_gets_the_note_credited_at_any_speed(
    speed: float, poll_s: float
) -> None:
    clock, validator, port = await start(speed)  # the default 5 s escrow time-out
    host = await asyncio.to_thread(SspHost, port.path)
    try:
        await asyncio.to_thread(setup, host)
        assert validator.act("insert-note", "20") == "20 EUR taken in"
        seen = await asyncio.to_thread(poll_every, host, poll_s, {STACKED, REJECTED})
    finally:
        host.close()
        await port.close()
        await clock.close()
    assert in_order(seen, [READ, STACKING, CREDIT, STACKED]), [hex(c) for c in seen]
    assert REJECTING not in seen
    assert validator.status()["counters"] == {"stacked": 1, "rejected": 0}


@pytest.mark.timeout(40)
async def test_the_escrow_time_out_counts_wall_seconds_of_host_silence_at_speed_60() -> None:
    """1 s escrow time-out at 60x: a host silent for 0.4 s (24 simulated seconds) keeps its
    note; one silent for 1.6 s gets it back, rejected for the escrow time-out.

    The silence is the one the validator saw, between taking in the poll before it and the poll
    after it; the host bounds it from its own clock (each poll was taken in between its sending
    and its reply). A loaded machine can stretch a 0.4 s sleep past the time-out: such a try
    still has to follow the rule (a silence surely over the time-out returns the note), and the
    short silence is tried again, a few times at most."""
    timeout = 1.0
    clock, validator, port = await start(60.0, escrow_timeout_s=timeout)
    host = await asyncio.to_thread(SspHost, port.path)

    def note_after_silence(silence: float) -> tuple[list[int], float, float]:
        """The events until the note's end, and the least and most silence the validator saw."""
        last_sent, last_replied = until_in_escrow(host)
        time.sleep(silence)
        first, sent, replied = timed_poll(host)
        seen = [code for code, _ in first]
        if not {STACKED, REJECTED} & set(seen):
            seen += poll_every(host, 0.05, {STACKED, REJECTED})
        return seen, sent - last_replied, replied - last_sent

    short: list[tuple[list[int], float, float]] = []
    stretched: list[tuple[list[int], float, float]] = []
    try:
        await asyncio.to_thread(setup, host)
        while not short and len(stretched) < 5:
            validator.act("insert-note", "10")
            kept = await asyncio.to_thread(note_after_silence, 0.4)
            (short if kept[2] < timeout else stretched).append(kept)
        validator.act("insert-note", "10")
        returned, least, _ = await asyncio.to_thread(note_after_silence, 1.6)
        last_reject = await asyncio.to_thread(host.cmd, 0x17)
    finally:
        host.close()
        await port.close()
        await clock.close()
    assert short, f"no poll came within the time-out after a 0.4 s sleep: {stretched}"
    kept_seen = short[0][0]
    assert in_order(kept_seen, [STACKING, CREDIT, STACKED]) and REJECTING not in kept_seen
    for seen, least_gap, _ in stretched:  # a silence surely over the time-out: the note returned
        if least_gap > timeout:
            assert in_order(seen, [REJECTING, REJECTED]) and CREDIT not in seen
    assert least > timeout
    assert in_order(returned, [REJECTING, REJECTED]) and CREDIT not in returned
    assert last_reject == bytes([0xF0, ESCROW_TIMEOUT_CODE])
    counters = validator.status()["counters"]
    assert counters["stacked"] == 1 + sum(STACKED in seen for seen, _, _ in stretched)
    assert counters["rejected"] == 1 + sum(REJECTED in seen for seen, _, _ in stretched)


@pytest.mark.timeout(40)
async def test_the_readme_speed_works_with_real_host_software(state_dir: Path) -> None:
    """``kiosk up --speed 60`` (the README's example) with python-escpos, an SSP host polling
    every 200 ms, pyserial on the card reader and pymodbus on the UPS."""
    async with KioskHost(state_dir, "bill_payment", ["KSK-0060"], speed=60) as kiosk:
        terminal = kiosk.terminals["KSK-0060"]
        ports = kiosk.endpoints["KSK-0060"]["devices"]

        def escpos() -> tuple[bool, int]:
            p = Serial(devfile=ports["printer"]["serial"], baudrate=115200, timeout=0.15)
            try:
                p.textln("PAID 20.00 EUR")
                p.cut()
                return p.is_online(), p.paper_status()
            finally:
                p.close()

        assert await asyncio.to_thread(escpos) == (True, 2)

        ssp = await asyncio.to_thread(SspHost, ports["bill_validator"]["serial"])
        try:
            await asyncio.to_thread(setup, ssp)
            terminal.act("insert-note", "20")
            seen = await asyncio.to_thread(poll_every, ssp, 0.2, {STACKED, REJECTED})
        finally:
            ssp.close()
        assert in_order(seen, [READ, STACKING, CREDIT, STACKED]), [hex(c) for c in seen]

        with serial.Serial(ports["card_reader"]["serial"], 38400, timeout=2) as reader:
            assert (await asyncio.to_thread(transact, reader, cr.Command("0", "0"))).positive
            await asyncio.to_thread(transact, reader, cr.Command(":", "0"))
            terminal.act("insert-card")
            track2 = await asyncio.to_thread(transact, reader, cr.Command("6", "2"))
        assert track2.positive and track2.data == DEFAULT_TRACK2.encode()

        host, port = ports["ups"]["modbus"].rsplit(":", 1)
        client = AsyncModbusTcpClient(host, port=int(port), timeout=2, retries=0)
        assert await client.connect()
        try:
            rr = await client.read_input_registers(0, count=regs.INPUT_COUNT)
        finally:
            client.close()
        assert not rr.isError() and regs.decode_inputs(rr.registers).output_voltage == 230.0
    assert terminal.devices["printer"].status()["receipts"] == 1


@pytest.mark.timeout(20)
async def test_the_network_echo_paces_its_round_trip_in_wall_time_at_speed_60() -> None:
    """The modelled 25 ms (450 ms with high latency) is what a client measures at 60x, not a
    sixtieth of it."""
    env = simpy.Environment()
    net = Network(env, NetworkSettings(), default_catalog().for_device("network"))
    net.start()
    echo = net.open_port("tcp", "127.0.0.1")
    async with LiveClock(env, speed=60.0) as clock, echo:
        net.attach_clock(clock)
        reader, writer = await asyncio.open_connection(*echo.endpoint.split(":"))
        loop = asyncio.get_running_loop()

        async def round_trip(token: str) -> float:
            t0 = loop.time()
            writer.write(f"PING {token}\n".encode())
            assert await reader.readline() == f"PONG {token}\n".encode()
            return loop.time() - t0

        healthy = [await round_trip(f"h{i}") for i in range(5)]
        net.inject("network.high_latency")
        slow = [await round_trip(f"s{i}") for i in range(3)]
        writer.close()
    assert min(healthy) >= 0.020  # 25 ms +- 5 ms of jitter; at 60x a sixtieth would be 0.4 ms
    assert min(slow) >= 0.445
