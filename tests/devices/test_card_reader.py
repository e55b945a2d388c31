"""The motorised card reader in virtual time and on a real pty: a customer's card from slot to
gate, head dirt growing with passes, the retain bin filling, and every catalog fault injected,
seen in the reply frames a host gets, and cleared."""

from __future__ import annotations

import asyncio

import pytest
import serial
import simpy
from hypothesis import given
from hypothesis import strategies as st

from devices.card_reader import DEFAULT_ATR, DEFAULT_TRACK2, CardReader, CardReaderSettings
from devices.catalog import default_catalog
from devices.protocols import stx_bcc as p
from devices.transports import PtyPort
from workbench.clock import LiveClock
from workbench.errors import DeviceError

MODES = default_catalog().for_device("card_reader")


def make(**settings: object) -> CardReader:
    reader = CardReader(simpy.Environment(), CardReaderSettings(**settings), MODES)  # type: ignore[arg-type]
    reader.start()
    return reader


class Host:
    """A kiosk application driving a session directly: command, expect ACK, parse the reply."""

    def __init__(self, reader: CardReader) -> None:
        self.session = reader.new_session()

    def send(self, cm: str, pm: str, data: bytes = b"") -> p.Reply | None:
        out = self.session.feed(p.Command(cm, pm, data).encode())
        if not out:
            return None
        assert out[0] == p.ACK
        (text,) = p.Deframer().feed(out[1:])
        assert isinstance(text, bytes)
        return p.parse_reply(text)

    def ok(self, cm: str, pm: str, data: bytes = b"") -> p.Reply:
        reply = self.send(cm, pm, data)
        assert reply is not None and reply.positive, reply
        return reply

    def error(self, cm: str, pm: str) -> str:
        reply = self.send(cm, pm)
        assert reply is not None and not reply.positive, reply
        return reply.code

    def status(self) -> tuple[str, str]:
        """(st0 st1, shutter + retain count) of a status request."""
        reply = self.ok("1", "0")
        return reply.code, reply.data.decode()


def test_a_customer_card_from_slot_to_gate_exact_log() -> None:
    reader = make()
    env, host = reader.env, Host(reader)
    assert host.ok("0", "2").data == b"ICT3K5-3R6940 SIM1.00"
    host.ok(":", "0")  # entry enabled: the shutter opens
    assert host.status() == ("00", "1000")
    env.run(until=10)
    reader.act("insert-card")
    assert host.status() == ("20", "0000")  # inside, shutter closed behind it
    assert host.ok("6", "2").data == DEFAULT_TRACK2.encode()
    assert host.ok("6", "1").data == b"B4761739001010119^TEST/CARDHOLDER^25122011143804489"
    assert host.error("6", "3") == p.E_NO_DATA
    assert host.ok("I", "0").data == bytes.fromhex(DEFAULT_ATR)
    env.run(until=12.5)
    assert host.ok("3", "0").code == "10"
    env.run(until=15)
    reader.act("take-card")
    assert host.status()[0] == "00"
    assert reader.log == [
        (0, "initialised mode=2"),
        (10, "card_inserted pan=4761739001010119"),
        (10, "negative_reply cm=6 pm=3 error=21"),
        (12.5, "card_ejected"),
        (15, "card_taken"),
    ]
    assert reader.status()["head_passes"] == 2


def test_a_card_cannot_go_in_while_entry_is_disabled() -> None:
    reader = make()
    assert "shutter is closed" in reader.act("insert-card")
    assert reader.status()["position"] == "none"
    with pytest.raises(DeviceError):
        reader.act("insert-card", "not-a-track")


def test_read_errors_grow_with_passes_until_the_head_is_dirty() -> None:
    reader = make(head_dirty_passes=4, read_error_at_dirty=1.0)
    env, host = reader.env, Host(reader)
    chances = []
    for _ in range(2):
        host.ok(":", "0")
        reader.act("insert-card")
        chances.append(reader.read_error_probability())
        env.run(until=env.now + 5)
        host.ok("3", "0")
        reader.act("take-card")
        env.run(until=env.now + 55)
    assert chances == [1 / 16, 9 / 16]
    assert reader.log == [
        (0, "card_inserted pan=4761739001010119"),
        (5, "card_ejected"),
        (5, "card_taken"),
        (60, "card_inserted pan=4761739001010119"),
        (65, "card_ejected"),
        (65, "fault id=card_reader.head_dirty"),
        (65, "card_taken"),
    ]
    host.ok(":", "0")
    reader.act("insert-card")
    assert host.error("6", "2") == p.E_READ  # probability 1 now
    reader.act("clean-head")
    assert not reader.has("card_reader.head_dirty")
    assert host.ok("6", "2").data == DEFAULT_TRACK2.encode()


def test_capturing_fills_the_retain_bin_until_it_refuses() -> None:
    reader = make(retain_capacity=2)
    host = Host(reader)
    for _ in range(2):
        host.ok(":", "0")
        reader.act("insert-card")
        host.ok("3", "1")
    assert reader.has("card_reader.retain_bin_full")
    assert host.status() == ("01", "0002")
    host.ok(":", "0")
    reader.act("insert-card")
    assert host.error("3", "1") == p.E_BIN_FULL
    assert host.error("0", "1") == p.E_BIN_FULL  # initialise-and-capture cannot either
    reader.act("empty-retain-bin")
    assert host.ok("3", "1").code == "00"
    assert [e for _, e in reader.log if "retain" in e or "fault" in e or "clear" in e] == [
        "card_captured retained=1",
        "card_captured retained=2",
        "fault id=card_reader.retain_bin_full",
        "retain_bin_emptied cards=2",
        "clear id=card_reader.retain_bin_full",
        "card_captured retained=1",
    ]


def inside(reader: CardReader, host: Host) -> None:
    host.ok(":", "0")
    reader.act("insert-card")


def test_card_jam_shows_as_jammed_position_and_error_10() -> None:
    reader = make()
    host = Host(reader)
    inside(reader, host)
    reader.inject("card_reader.card_jam")
    assert host.status()[0] == "30"
    assert host.error("3", "0") == p.E_JAM
    assert host.error("0", "0") == p.E_JAM
    reader.clear("card_reader.card_jam")
    assert host.status()[0] == "00"
    host.ok("0", "0")


def test_head_dirty_injected_fails_every_read_then_cleaning_clears_it() -> None:
    reader = make()
    host = Host(reader)
    inside(reader, host)
    reader.inject("card_reader.head_dirty")
    assert [host.error("6", "2") for _ in range(5)] == [p.E_READ] * 5
    reader.clear("card_reader.head_dirty")
    assert host.ok("6", "2").data == DEFAULT_TRACK2.encode()


def test_shutter_stuck_fails_init_and_entry_until_a_power_cycle() -> None:
    reader = make()
    host = Host(reader)
    reader.inject("card_reader.shutter_stuck")
    assert host.status() == ("00", "2000")
    assert host.error("0", "0") == p.E_SHUTTER
    assert host.error(":", "0") == p.E_SHUTTER
    assert "stuck" in reader.act("insert-card")
    reader.act("reinit")
    assert not reader.has("card_reader.shutter_stuck")
    host.ok("0", "0")
    assert host.status() == ("00", "0000")


def test_retain_bin_full_injected_refuses_capture() -> None:
    reader = make()
    host = Host(reader)
    inside(reader, host)
    reader.inject("card_reader.retain_bin_full")
    assert host.status()[0] == "21"
    assert host.error("3", "1") == p.E_BIN_FULL
    reader.clear("card_reader.retain_bin_full")
    assert host.ok("3", "1").code == "00"


def test_no_response_means_no_ack_and_no_reply() -> None:
    reader = make()
    host = Host(reader)
    reader.inject("card_reader.no_response")
    assert host.session.feed(p.Command("1", "0").encode()) == b""
    assert host.session.feed(p.Command("1", "0").encode()[:-1] + b"\x00") == b""  # not even a NAK
    reader.act("reinit")
    assert host.status()[0] == "00"


def test_chip_contact_fault_answers_no_atr() -> None:
    reader = make()
    host = Host(reader)
    inside(reader, host)
    reader.inject("card_reader.chip_contact_fault")
    assert host.error("I", "0") == p.E_NO_ATR
    reader.clear("card_reader.chip_contact_fault")
    assert host.ok("I", "0").data == bytes.fromhex(DEFAULT_ATR)


def test_handshake_nak_on_bad_bcc_and_resend_on_host_nak() -> None:
    reader = make()
    session = reader.new_session()
    frame = p.Command("1", "0").encode()
    assert session.feed(frame[:-1] + bytes([frame[-1] ^ 0xFF])) == bytes([p.NAK])
    first = session.feed(frame)
    assert first[0] == p.ACK
    assert session.feed(bytes([p.NAK])) == first[1:]
    assert session.feed(bytes([p.ACK])) == b""
    assert Host(reader).error("Z", "0") == p.E_UNDEFINED


def transact(port: serial.Serial, cmd: p.Command) -> p.Reply:
    """The host's side: send, wait for ACK, read the reply frame, ACK it."""
    port.write(cmd.encode())
    assert port.read(1) == bytes([p.ACK])
    head = port.read(3)
    rest = port.read(int.from_bytes(head[1:3], "big") + 2)
    port.write(bytes([p.ACK]))
    return p.parse_reply(p.decode_frame(head + rest))


@pytest.mark.timeout(10)
async def test_pyserial_host_reads_a_card_over_a_real_pty() -> None:
    reader = make()
    async with LiveClock(reader.env, speed=1.0), PtyPort(reader.new_session, name="card") as port:
        with serial.Serial(port.path, 38400, timeout=2) as client:
            init = await asyncio.to_thread(transact, client, p.Command("0", "0"))
            assert init.positive and init.data.startswith(b"ICT3K5")
            await asyncio.to_thread(transact, client, p.Command(":", "0"))
            reader.act("insert-card", ";4000000000000002=30121010000000000000?")
            track2 = await asyncio.to_thread(transact, client, p.Command("6", "2"))
            assert track2.positive and track2.data == b"4000000000000002=30121010000000000000"
            atr = await asyncio.to_thread(transact, client, p.Command("I", "0"))
            assert atr.data == bytes.fromhex(DEFAULT_ATR)
            eject = await asyncio.to_thread(transact, client, p.Command("3", "0"))
            assert eject.positive and eject.code == "10"


@given(st.lists(st.binary(max_size=40), max_size=8))
def test_any_bytes_from_the_host_get_bytes_back_never_an_exception(chunks: list[bytes]) -> None:
    reader = make()
    session = reader.new_session()
    session.feed(p.Command(":", "0").encode())
    reader.act("insert-card")
    for chunk in chunks:
        assert isinstance(session.feed(chunk), bytes)
        assert isinstance(session.feed(p.encode_frame(b"C" + chunk)), bytes)


def test_a_frame_left_open_by_line_noise_is_abandoned_after_a_pause() -> None:
    # noise that looked like STX with LEN 1023 swallowed the host's commands for a kilobyte
    reader = make()
    host = Host(reader)
    assert host.session.feed(b"\x7f\x02\x03\xffnoise") == b""
    assert host.send("1", "0") is None  # within the frame's inter-byte time: still its data
    reader.env.run(until=reader.env.now + 0.3)  # the host pauses, as one waiting for an ACK does
    assert host.status() == ("00", "0000")
    assert reader.log[-1][1] == "frame_abandoned bytes=16"  # STX LEN "noise" and a command
