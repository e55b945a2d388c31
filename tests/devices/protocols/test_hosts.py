"""The shared host drivers (devices/protocols/hosts): their bytes against published examples
(ITL's SSP manual, VESA's DDC/CI example, the ESC/POS reference, the reader's framing worked by
hand), not against the codec they share with the simulators; their state (SSP sequence flag,
retries, eSSP); and each one driving its simulated device through a byte session."""

from __future__ import annotations

import random

import pytest
import simpy

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.catalog import default_catalog
from devices.protocols.hosts import Exchange
from devices.protocols.hosts.card_reader import NAKED, CardReaderHost, retry_safe
from devices.protocols.hosts.ddc import DdcHost
from devices.protocols.hosts.escpos import PAPER, EscPosStatusHost
from devices.protocols.hosts.ssp import SspMaster, check_ok
from devices.protocols.hosts.touch import TouchHost
from devices.protocols.hosts.touch import retry_safe as touch_retry_safe
from devices.protocols.ssp import encode_frame
from devices.protocols.ssp_messages import Command, Response
from workbench.errors import ProtocolError


def answer_in_pieces(exchange: Exchange, data: bytes) -> object:
    """Feed the answer a byte at a time, as a slow line delivers it."""
    got = None
    for i in range(len(data)):
        assert got is None, "answered before the last byte"
        got = exchange.feed(data[i : i + 1])
    return got


def test_ssp_frames_are_the_manuals_and_the_sequence_flag_alternates() -> None:
    host = SspMaster()
    sync = host.command(Command.SYNC)
    assert sync.request == bytes.fromhex("7F 80 01 11 65 82")  # ITL SSP manual: SYNC, slave 0
    assert answer_in_pieces(sync, bytes.fromhex("7F 80 01 F0 23 80")) == (Response.OK, b"")
    poll = host.command(Command.POLL)
    assert poll.request[1] == 0x00  # the flag clear after SYNC
    assert host.resend().request == poll.request  # a retry keeps it
    assert host.command(Command.POLL).request[1] == 0x80  # a new command toggles it


def test_ssp_ignores_other_addresses_and_names_a_refusal() -> None:
    host = SspMaster(address=0)
    ask = host.command(Command.SYNC)
    other = bytes.fromhex("7F 81 01 F0")  # slave 1 answering: not ours (CRC irrelevant here)
    assert ask.feed(other) is None
    with pytest.raises(ProtocolError, match=r"command 0x0A answered 0xF4, not OK"):
        check_ok(Command.ENABLE, (0xF4, b""))


def test_ssp_requests_and_whole_replies_read_the_same_every_time() -> None:
    """The host remembers its plain frames and the replies it read: the second time gives the
    manual's bytes again, and a reply from another slave is refused every time."""
    host = SspMaster(address=0)
    ok = bytes.fromhex("7F 80 01 F0 23 80")
    other = encode_frame(True, 1, b"\xf0")
    for _ in range(2):
        assert host.request(Command.SYNC) == bytes.fromhex("7F 80 01 11 65 82")
        assert host.answer(ok) == (Response.OK, b"")
        with pytest.raises(ProtocolError, match="reply from address 1, not 0"):
            host.answer(other)
    polls = [host.request(Command.POLL) for _ in range(4)]
    assert polls == [encode_frame(i % 2 == 0, 0, b"\x07") for i in range(1, 5)]
    assert SspMaster(address=3).request(Command.SYNC) == encode_frame(True, 3, b"\x11")


def test_card_reader_handshake() -> None:
    host = CardReaderHost()
    ask = host.command("1", "0")  # status: STX, LEN 00 03, "C10", ETX, BCC = XOR of the rest
    body = bytes([0x00, 0x03]) + b"C10" + bytes([0x03])
    bcc = 0
    for b in bytes([0x02]) + body:
        bcc ^= b
    assert ask.request == bytes([0x02]) + body + bytes([bcc])
    assert host.command("1", "0").feed(bytes([0x15])) == NAKED
    text = b"P1000" + b"0000"
    reply = bytes([0x02, 0, len(text)]) + text + bytes([0x03])
    reply += bytes([_xor(reply)])
    got = answer_in_pieces(host.command("1", "0"), bytes([0x06]) + reply)
    assert getattr(got, "positive", None) is True
    assert host.ack() == b"\x06"


def _xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def test_escpos_status_ddc_and_touch_bytes() -> None:
    paper = EscPosStatusHost.realtime(PAPER)
    assert paper.request == b"\x10\x04\x04"  # DLE EOT 4
    assert paper.feed(b"\x12") == set()  # fixed bits only: paper present
    assert "paper_end" in EscPosStatusHost.realtime(PAPER).feed(b"\x72")
    get = DdcHost.get(0x10)
    assert get.request == bytes.fromhex("6E 51 82 01 10 AC")  # VESA DDC/CI: Get VCP luminance
    assert not get.fresh  # a display's replies are kept, not drained
    assert TouchHost().command(b"A").request == bytes.fromhex("0A 01 41")  # TouchKit check active
    touch = TouchHost()
    pen_up = bytes([0x80, 0x08, 0x00, 0x08, 0x00])  # x = y = 1024 of 2047, pen up
    assert touch.command(b"A").feed(pen_up + bytes.fromhex("0A 01 41")) == b"A"
    assert len(touch.touches) == 1 and TouchHost.taps(pen_up * 2) == 2


def test_the_ssp_driver_takes_a_note_from_the_simulated_validator() -> None:
    env = simpy.Environment()
    modes = default_catalog().for_device("bill_validator")
    validator = BillValidator(env, BillValidatorSettings(), modes, rng=random.Random(1))
    session = validator.new_session()
    host = SspMaster()

    def send(code: int, params: bytes = b"") -> tuple[int, bytes]:
        ask = host.command(code, params)
        got = ask.feed(session.feed(ask.request))
        assert got is not None
        return got

    for code, params in ((Command.SYNC, b""), (Command.SET_INHIBITS, b"\xff\xff"),
                         (Command.ENABLE, b"")):  # fmt: skip
        check_ok(code, send(code, params))
    assert "taken in" in validator.act("insert-note", "10")
    seen: set[int] = set()
    for _ in range(40):
        env.run(until=env.now + 0.5)
        payload = check_ok(Command.POLL, send(Command.POLL))
        seen |= set(payload)
    assert {0xEE, 0xCC, 0xEB} <= seen  # credit, stacking, stacked


def _reader_reply(text: bytes) -> bytes:
    frame = bytes([0x02, 0, len(text)]) + text + bytes([0x03])
    return frame + bytes([_xor(frame)])


def test_the_card_reader_host_takes_only_the_reply_naming_its_command() -> None:
    """A late reply to an earlier command (ACKed or sent again on a NAK) is passed over; a query
    may be sent again, a command that moves the card has its reply asked for with a NAK."""
    host = CardReaderHost()
    eject = host.command("3", "0")
    late_status = bytes([0x06]) + _reader_reply(b"P1010" + b"0000")
    assert eject.feed(late_status) is None
    again = host.again(eject)
    assert again.request == b"\x15" and not again.fresh
    got = again.feed(_reader_reply(b"P3010"))  # the reader's last reply, sent again (no ACK)
    assert getattr(got, "cm", None) == "3" and getattr(got, "positive", None) is True
    assert [cm for cm in "0136:I" if retry_safe(cm)] == ["1", "6"]
    owed = host.owed("1", "0", 2)
    assert owed.request == b"" and owed.feed(late_status) is None
    assert owed.feed(_reader_reply(b"P3010") + late_status) is True


def test_the_touch_host_reads_the_replies_owed_to_earlier_tries() -> None:
    host = TouchHost()
    pen_down = bytes([0x81, 0x08, 0x00, 0x08, 0x00])
    owed = host.owed(ord("A"), 2)
    assert owed.feed(bytes.fromhex("0A 01 41")) is None
    assert owed.feed(bytes.fromhex("0A 01 44") + bytes.fromhex("0A 01 41") + pen_down) is True
    assert len(host.touches) == 1  # the touch after the last owed reply is kept
    reply = host.command(b"A").feed(bytes.fromhex("0A 01 41") + pen_down)
    assert reply == b"A" and len(host.touches) == 2  # and one after the answer too
    assert [chr(c) for c in b"ADEKkCR" if touch_retry_safe(c)] == ["A", "D", "E", "K"]


def test_a_sync_takes_only_a_sync_answer_not_the_last_sessions_late_reply() -> None:
    """A SYNC always carries the flag set: a late reply to the previous session's last command
    that carried it too (GET COUNTERS after SYNC and POLL) is not its answer, plain or encrypted,
    nor is a bare error; the unit's bare OK is."""
    first = SspMaster()
    assert [first.request(c)[1] for c in (Command.SYNC, Command.POLL, Command.GET_COUNTERS)] == [
        0x80,
        0x00,
        0x80,
    ]
    counters = encode_frame(True, 0, b"\xf0" + bytes(21))
    sealed = encode_frame(True, 0, b"\x7e" + bytes(16))  # an eSSP reply: STEX + ciphertext
    refused = encode_frame(True, 0, b"\xf5")
    sync = SspMaster().command(Command.SYNC)
    assert sync.request == bytes.fromhex("7F 80 01 11 65 82")
    assert sync.feed(counters + sealed + refused) is None
    assert sync.feed(bytes.fromhex("7F 80 01 F0 23 80")) == (Response.OK, b"")
    # another command still takes its reply's payload
    poll = first.command(Command.POLL)
    assert poll.feed(encode_frame(False, 0, b"\xf0\xe8")) == (Response.OK, b"\xe8")
