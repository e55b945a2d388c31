"""A kiosk's eSSP host written here from ITL's manual, with its own CRC, framing, Diffie-Hellman and
encrypted packet (AES from ``cryptography``; nothing from ``devices.protocols``), drives the
simulated validator through a real pty in live time: it negotiates a key, enables the unit and
polls over encrypted packets until a note is credited; a wrong count is discarded unanswered and a
bad inner CRC puts the unit out of service until a RESET, as the manual says a real unit does."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import serial
import simpy
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.catalog import default_catalog
from devices.transports.pty import PtyPort
from workbench.clock import LiveClock

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")
FIXED_KEY = 0x0123456701234567
GENERATOR, MODULUS = 982451653, 1287821  # the primes of the manual's SET GENERATOR/MODULUS examples
HOST_RANDOM = 0x2F1B_3C4D


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def frame(seq: int, data: bytes) -> bytes:
    body = bytes([seq, len(data)]) + data
    body += crc16(body).to_bytes(2, "little")
    return b"\x7f" + body.replace(b"\x7f", b"\x7f\x7f")


class EsspHost:
    """A blocking eSSP master on a serial port (run in a worker thread by the tests)."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 9600, timeout=0.02)
        self.seq = 0x80
        self.key: bytes | None = None
        self.count = 0

    def close(self) -> None:
        self.port.close()

    def read_reply(self, timeout: float) -> bytes | None:
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
                    buf = bytearray()
            elif b == 0x7F:
                escaped = True
                continue
            buf.append(b)
            if len(buf) >= 2 and len(buf) == buf[1] + 4:
                assert crc16(bytes(buf[:-2])) == int.from_bytes(buf[-2:], "little")
                return bytes(buf[2:-2])
        return None

    def exchange(self, seq: int, data: bytes, timeout: float = 1.0) -> bytes | None:
        self.port.reset_input_buffer()
        self.port.write(frame(seq, data))
        return self.read_reply(timeout)

    def seal(self, data: bytes, count: int, corrupt: bool = False) -> bytes:
        assert self.key is not None
        plain = bytes([len(data)]) + count.to_bytes(4, "little") + data
        plain += os.urandom(-(len(plain) + 2) % 16)
        crc = crc16(plain) ^ (0x5A5A if corrupt else 0)
        plain += crc.to_bytes(2, "little")
        enc = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        return b"\x7e" + enc.update(plain) + enc.finalize()

    def unseal(self, packet: bytes) -> tuple[int, bytes]:
        assert self.key is not None and packet[0] == 0x7E, packet.hex()
        dec = Cipher(algorithms.AES(self.key), modes.ECB()).decryptor()
        plain = dec.update(packet[1:]) + dec.finalize()
        assert crc16(plain[:-2]) == int.from_bytes(plain[-2:], "little"), "inner CRC"
        return int.from_bytes(plain[1:5], "little"), plain[5 : 5 + plain[0]]

    def sync(self) -> bytes | None:
        self.seq = 0x80
        return self.exchange(0x80, b"\x11")

    def cmd(self, *data: int) -> bytes | None:
        """A command in the clear; the flag toggles when it is answered."""
        seq = self.seq ^ 0x80
        reply = self.exchange(seq, bytes(data))
        if reply is not None:
            self.seq = seq
        return reply

    def ecmd(
        self, *data: int, count: int | None = None, corrupt: bool = False, timeout: float = 1.0
    ) -> bytes | None:
        """A command inside an encrypted packet; the reply's count must be ours + 1."""
        seq = self.seq ^ 0x80
        sent = self.count if count is None else count
        reply = self.exchange(seq, self.seal(bytes(data), sent, corrupt), timeout)
        if reply is None:
            return None
        self.seq = seq
        self.count = sent + 1
        got, inner = self.unseal(reply)
        assert got == self.count, f"reply count {got}, expected {self.count}"
        return inner

    def negotiate(self) -> None:
        assert self.cmd(0x4A, *GENERATOR.to_bytes(8, "little")) == b"\xf0"
        assert self.cmd(0x4B, *MODULUS.to_bytes(8, "little")) == b"\xf0"
        host_inter = pow(GENERATOR, HOST_RANDOM, MODULUS)
        reply = self.cmd(0x4C, *host_inter.to_bytes(8, "little"))
        assert reply is not None and reply[0] == 0xF0 and len(reply) == 9
        slave_inter = int.from_bytes(reply[1:9], "little")
        negotiated = pow(slave_inter, HOST_RANDOM, MODULUS)
        self.key = FIXED_KEY.to_bytes(8, "little") + negotiated.to_bytes(8, "little")
        self.count = 0


def events(reply: bytes) -> list[tuple[int, int | None]]:
    assert reply[0] == 0xF0, reply.hex()
    out: list[tuple[int, int | None]] = []
    i = 1
    while i < len(reply):
        if reply[i] in {0xEF, 0xEE, 0xE6, 0xE1, 0xE2}:
            out.append((reply[i], reply[i + 1]))
            i += 2
        else:
            out.append((reply[i], None))
            i += 1
    return out


async def start(
    clock: LiveClock, env: simpy.Environment
) -> tuple[BillValidator, PtyPort, EsspHost]:
    settings = BillValidatorSettings(
        require_encryption=True,
        base_reject_rate=0.0,
        wear_reject_per_note=0.0,
        escrow_timeout_s=60.0,
    )
    validator = BillValidator(env, settings, MODES)
    validator.attach_clock(clock)
    validator.start()
    port = PtyPort(validator.new_session, name="bill_validator", clock=validator)
    await port.start()
    return validator, port, await asyncio.to_thread(EsspHost, port.path)


@pytest.mark.timeout(20)
async def test_host_negotiates_a_key_enables_and_polls_encrypted_until_a_note_is_credited() -> None:
    env = simpy.Environment()
    async with LiveClock(env, speed=10.0) as clock:
        validator, port, host = await start(clock, env)
        run = asyncio.to_thread
        try:
            assert await run(host.sync) == b"\xf0"
            assert await run(host.cmd, 0x0A) == b"\xfa"  # ENABLE in the clear: key not set
            assert await run(host.cmd, 0x4C, *bytes(8)) == b"\xf8"  # no generator yet: FAIL
            await run(host.negotiate)
            assert await run(host.cmd, 0x0A) == b"\xfa"  # still only encrypted
            assert await run(host.ecmd, 0x06, 0x07) == b"\xf0"
            assert await run(host.ecmd, 0x02, 0xFF, 0xFF) == b"\xf0"
            assert await run(host.ecmd, 0x0A) == b"\xf0"
            serial_reply = await run(host.cmd, 0x0C)  # a general command may come in the clear
            assert serial_reply == b"\xf0" + (20_512_345).to_bytes(4, "big")
            assert await run(host.ecmd, 0x07) == b"\xf0\xf1"  # slave reset, since power-up

            assert validator.act("insert-note", "50") == "50 EUR taken in"
            seen: list[tuple[int, int | None]] = []
            for _ in range(150):
                reply = await run(host.ecmd, 0x07)
                assert reply is not None
                seen += events(reply)
                if (0xEB, None) in seen:
                    break
                await clock.sleep(0.2)
            assert (0xEF, 4) in seen and (0xEE, 4) in seen and (0xEB, None) in seen
            assert validator.cash_box.level == 1
        finally:
            host.close()
            await port.close()


@pytest.mark.timeout(20)
async def test_a_wrong_count_is_discarded_and_a_bad_inner_crc_takes_the_unit_out_of_service() -> (
    None
):
    env = simpy.Environment()
    async with LiveClock(env, speed=10.0) as clock:
        validator, port, host = await start(clock, env)
        run = asyncio.to_thread
        try:
            assert await run(host.sync) == b"\xf0"
            await run(host.negotiate)
            assert await run(host.ecmd, 0x0A) == b"\xf0"
            assert host.count == 1

            # A replayed count (0 again) and one from the future (5): no answer at all.
            assert await run(lambda: host.ecmd(0x07, count=0, timeout=0.4)) is None
            assert await run(lambda: host.ecmd(0x07, count=5, timeout=0.4)) is None
            # The right count still works: the refused packets did not move the unit's count.
            assert await run(host.ecmd, 0x07) is not None
            assert host.count == 2

            # A packet whose inner CRC fails: the unit assumes the host did not encrypt it and
            # goes out of service (disabled, silent) until it is reset.
            assert await run(lambda: host.ecmd(0x07, corrupt=True, timeout=0.4)) is None
            assert await run(lambda: host.ecmd(0x07, timeout=0.4)) is None
            assert await run(host.exchange, 0x80, b"\x11", 0.4) is None  # not even SYNC
            assert validator.status()["enabled"] is False
            assert validator.status()["essp"]["out_of_service"] is True
            assert validator.act("insert-note", "20") == "20 EUR not taken: validator disabled"

            host.seq = 0x00  # RESET in the clear, with a fresh flag
            assert await run(host.exchange, 0x80, b"\x01") == b"\xf0"
            for _ in range(100):  # silent while it reboots (reset_s), then back in service
                if await run(host.exchange, 0x80, b"\x11", 0.3) == b"\xf0":
                    break
                await clock.sleep(0.5)
            host.seq = 0x80  # in step after the SYNC
            assert validator.status()["essp"] == {
                "required": True,
                "key_set": False,
                "count": 0,
                "out_of_service": False,
            }
            assert await run(host.cmd, 0x07) == b"\xfa"  # a new key is needed
        finally:
            host.close()
            await port.close()
