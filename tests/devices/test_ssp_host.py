"""A kiosk's SSP host, written here from the specification with its own CRC and framing (it does
not use ``devices.protocols``), drives the simulated validator through a real pty opened with
pyserial, in live time: sync, inhibits, enable, a note credited, a jam mid-note, a corrupt frame
ignored, and a retried packet answered identically."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
import serial
import simpy

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.catalog import default_catalog
from devices.transports.pty import PtyPort
from workbench.clock import LiveClock

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")
SPEED = 10.0
WITH_CHANNEL = {0xEF, 0xEE, 0xE6, 0xE1, 0xE2}


def crc16(data: bytes) -> int:
    """CRC-16 as the SSP manual gives it: poly 0x8005, seed 0xFFFF, shifted MSB first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def frame(seq: int, data: bytes, corrupt: bool = False) -> bytes:
    body = bytes([seq, len(data)]) + data
    crc = crc16(body) ^ (0x0101 if corrupt else 0)
    body += bytes([crc & 0xFF, crc >> 8])
    stuffed = bytearray()
    for b in body:
        stuffed += b"\x7f\x7f" if b == 0x7F else bytes([b])
    return b"\x7f" + bytes(stuffed)


class SspHost:
    """A blocking SSP master on a serial port (run in a worker thread by the tests)."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 9600, timeout=0.02)
        self.seq = 0x80
        self.last_sent = b""

    def close(self) -> None:
        self.port.close()

    def read_reply(self, timeout: float = 0.5) -> bytes | None:
        """One reply's SEQ..DATA (CRC checked), or None if nothing complete arrives in time."""
        end = time.monotonic() + timeout
        buf = bytearray()
        started = escaped = False
        while time.monotonic() < end:
            chunk = self.port.read(1)
            if not chunk:
                continue
            b = chunk[0]
            if not started:
                started = b == 0x7F
                continue
            if escaped:
                escaped = False
                if b != 0x7F:
                    buf = bytearray()  # that lone 0x7F was a new STX
            elif b == 0x7F:
                escaped = True
                continue
            buf.append(b)
            if len(buf) >= 2 and len(buf) == buf[1] + 4:
                body = bytes(buf[:-2])
                assert crc16(body) == buf[-2] | buf[-1] << 8, f"bad CRC from slave: {buf.hex()}"
                return body
        return None

    def send(self, raw: bytes, timeout: float = 0.5) -> bytes | None:
        self.port.reset_input_buffer()
        self.port.write(raw)
        self.last_sent = raw
        body = self.read_reply(timeout)
        return None if body is None else body[2:]

    def sync(self) -> bytes | None:
        self.seq = 0x80
        return self.send(frame(0x80, b"\x11"))

    def cmd(self, *data: int) -> bytes | None:
        """A new command: the flag toggles (a command that got no answer keeps its flag)."""
        seq = self.seq ^ 0x80
        reply = self.send(frame(seq, bytes(data)))
        if reply is not None:
            self.seq = seq
        return reply

    def retry(self) -> bytes | None:
        return self.send(self.last_sent)


def events(reply: bytes) -> list[tuple[int, int | None]]:
    assert reply[0] == 0xF0, reply.hex()
    out: list[tuple[int, int | None]] = []
    i = 1
    while i < len(reply):
        code = reply[i]
        if code in WITH_CHANNEL:
            out.append((code, reply[i + 1]))
            i += 2
        else:
            out.append((code, None))
            i += 1
    return out


def channel_values(setup: bytes) -> dict[int, int]:
    """Channel -> face value from a SETUP REQUEST reply (protocol >= 6 layout)."""
    p = setup[1:]
    n = p[11]
    base = 12 + 2 * n + 4
    assert p[base - 1] >= 6
    long = p[base + 3 * n :]
    return {i + 1: int.from_bytes(long[4 * i : 4 * i + 4], "little") for i in range(n)}


Run = Callable[..., Awaitable[bytes | None]]


async def start_validator(
    clock: LiveClock, env: simpy.Environment
) -> tuple[BillValidator, PtyPort, SspHost, Run]:
    # Wide margins (in simulated seconds) so that a slow CI machine cannot change the story:
    # the escrow time-out is not what these tests are about, and the jam must land before credit.
    settings = BillValidatorSettings(
        base_reject_rate=0.0,
        wear_reject_per_note=0.0,
        escrow_timeout_s=60.0,
        credit_s=2.0,
        stack_s=3.0,
    )
    validator = BillValidator(env, settings, MODES)
    validator.attach_clock(clock)
    validator.start()
    port = PtyPort(validator.new_session, name="bill_validator", clock=validator)
    await port.start()
    host = await asyncio.to_thread(SspHost, port.path)

    async def run(fn: Callable[..., bytes | None], *args: int) -> bytes | None:
        return await asyncio.to_thread(fn, *args)

    return validator, port, host, run


async def poll_until(
    run: Run, host: SspHost, clock: LiveClock, done: Callable[[int, int | None], bool]
) -> list[tuple[int, int | None]]:
    """Poll every 0.2 simulated seconds, collecting events, until one satisfies ``done``."""
    seen: list[tuple[int, int | None]] = []
    for _ in range(200):
        reply = await run(host.cmd, 0x07)
        assert reply is not None
        new = events(reply)
        seen += new
        if any(done(c, ch) for c, ch in new):
            return seen
        await clock.sleep(0.2)
    raise AssertionError(f"condition not seen; events: {seen}")


def collapse(seen: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    return [e for i, e in enumerate(seen) if i == 0 or seen[i - 1] != e]


@pytest.mark.timeout(10)
async def test_host_sees_a_note_read_stacked_and_credited_then_a_jam_mid_note() -> None:
    env = simpy.Environment()
    async with LiveClock(env, speed=SPEED) as clock:
        validator, port, host, run = await start_validator(clock, env)
        try:
            assert await run(host.sync) == b"\xf0"
            assert await run(host.cmd, 0x06, 0x07) == b"\xf0"  # host protocol version 7
            setup = await run(host.cmd, 0x05)
            assert setup is not None and setup[:2] == b"\xf0\x00"  # OK, unit type 0: validator
            values = channel_values(setup)
            assert values == {1: 5, 2: 10, 3: 20, 4: 50, 5: 100, 6: 200, 7: 500}
            assert await run(host.cmd, 0x02, 0xFF, 0xFF) == b"\xf0"  # accept every channel
            assert await run(host.cmd, 0x0A) == b"\xf0"
            assert events(await run(host.cmd, 0x07) or b"") == [(0xF1, None)]

            assert validator.act("insert-note", "20") == "20 EUR taken in"
            seen = collapse(await poll_until(run, host, clock, lambda c, ch: c == 0xEB))
            credit = [values[ch] for c, ch in seen if c == 0xEE and ch is not None]
            assert credit == [20]
            assert seen in (
                [(0xEF, 0), (0xEF, 3), (0xCC, None), (0xEE, 3), (0xCC, None), (0xEB, None)],
                [(0xEF, 0), (0xEF, 3), (0xCC, None), (0xEE, 3), (0xEB, None)],
            )

            # A second note jams while it is being stacked.
            validator.act("insert-note", "50")
            await poll_until(run, host, clock, lambda c, ch: c == 0xCC)
            validator.inject("bill_validator.unsafe_jam")
            jammed = await poll_until(run, host, clock, lambda c, ch: c == 0xE9)
            assert (0xEB, None) not in jammed and (0xEE, 4) not in jammed
            assert validator.act("clear-jam") == "jam cleared"
            cleared = await poll_until(run, host, clock, lambda c, ch: c == 0xE1)
            assert (0xE1, 4) in cleared  # the 50 EUR note came back out of the bezel
        finally:
            host.close()
            await port.close()


@pytest.mark.timeout(10)
async def test_corrupt_frame_is_ignored_and_a_retry_gets_the_identical_answer() -> None:
    env = simpy.Environment()
    async with LiveClock(env, speed=SPEED) as clock:
        validator, port, host, run = await start_validator(clock, env)
        try:
            assert await run(host.sync) == b"\xf0"
            assert await run(host.cmd, 0x02, 0xFF, 0x00) == b"\xf0"
            assert await run(host.cmd, 0x0A) == b"\xf0"
            await run(host.cmd, 0x07)

            # A POLL with a bad CRC: no answer at all. The good frame with the same flag is.
            seq = host.seq ^ 0x80
            bad = await asyncio.to_thread(host.send, frame(seq, b"\x07", corrupt=True), 0.3)
            assert bad is None
            assert await asyncio.to_thread(host.send, frame(seq, b"\x07")) == b"\xf0"
            host.seq = seq

            # The note reaches escrow; the host's POLL reply is lost and it retries the packet:
            # the same answer comes back, and the retry does not accept the note.
            validator.act("insert-note", "10")
            await clock.sleep(1.5)
            first = await run(host.cmd, 0x07)
            assert first is not None and (0xEF, 2) in events(first)
            assert await run(host.retry) == first
            assert validator.status()["escrow"] == [{"value": 10, "channel": 2}]
            nxt = await run(host.cmd, 0x07)
            assert nxt is not None and events(nxt) == [(0xCC, None)]
        finally:
            host.close()
            await port.close()
