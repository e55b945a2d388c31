"""eSSP codec: the manual's packet examples, the encrypted packet checked both ways against ITL's
own C implementation (``EncryptSSPPacket``/``DecryptSSPPacket``/``XpowYmodN`` of the eSSP6
package's ``libessp.so``), the unit's command rules in virtual time, and fuzzing: random or
well-sealed random encrypted frames never raise out of the validator."""

from __future__ import annotations

import ctypes
from typing import Any

import eSSP  # the PyPI package eSSP6 (test extra): ITL's C SDK
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.bill_validator import BillValidator, BillValidatorSettings
from devices.catalog import default_catalog
from devices.protocols.essp import (
    DEFAULT_FIXED_KEY,
    STEX,
    BadEncryptedPacket,
    HostCrypto,
    HostOffer,
    StaleCount,
    UnitKeys,
    aes_key,
    is_prime,
    open_packet,
    random_prime,
    seal,
    to_u64,
)
from devices.protocols.ssp import Deframer, Packet, crc16, encode_frame
from devices.protocols.ssp_messages import Command, command

MODES = default_catalog().for_device("bill_validator") + default_catalog().for_device("cash_box")
KEY = aes_key(DEFAULT_FIXED_KEY, 0x1122334455667788)
ITL = eSSP.eSSP.essp
ITL.EncryptSSPPacket.argtypes = [ctypes.c_ubyte] + [ctypes.c_void_p] * 5
ITL.DecryptSSPPacket.argtypes = [ctypes.c_void_p] * 5
ITL.XpowYmodN.restype = ctypes.c_longlong
ITL.XpowYmodN.argtypes = [ctypes.c_longlong] * 3


# -- the manual's examples (ITL GA138, "Set Generator", "Set Modulus", ...) --------------------
@pytest.mark.parametrize(
    ("code", "number", "wire"),
    [
        (Command.SET_GENERATOR, 982451653, "7F 80 09 4A C5 05 8F 3A 00 00 00 00 B2 73"),
        (Command.SET_MODULUS, 1287821, "7F 80 09 4B 8D A6 13 00 00 00 00 00 6C F6"),
        (Command.REQUEST_KEY_EXCHANGE, 7554354432121, "7F 80 09 4C 79 C8 9C E2 DE 06 00 00 9D 52"),
        (Command.SET_FIXED_KEY, 0x0123456701234567, "7F 80 09 60 67 45 23 01 67 45 23 01 BF 6F"),
    ],
)
def test_negotiation_commands_match_the_manuals_packets(code: int, number: int, wire: str) -> None:
    assert encode_frame(True, 0, command(code, to_u64(number))) == bytes.fromhex(wire)


def test_key_exchange_reply_of_the_manual() -> None:
    reply = bytes([0xF0]) + to_u64(0xDB273CE5FA1B6823)
    assert encode_frame(True, 0, reply) == bytes.fromhex(
        "7F 80 09 F0 23 68 1B FA E5 3C 27 DB 80 8A"
    )


def test_primes() -> None:
    assert [n for n in range(40) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
    assert is_prime(982451653) and is_prime(1287821) and is_prime((1 << 61) - 1)
    assert not is_prime(561) and not is_prime(
        3215031751
    )  # a Carmichael number, a strong pseudoprime
    assert is_prime(random_prime()) and random_prime() < 1 << 31


def test_host_and_unit_reach_the_same_key_as_itl_computes_it() -> None:
    unit = UnitKeys()
    offer = HostOffer.new()
    assert unit.set_generator(offer.generator) and unit.set_modulus(offer.modulus)
    slave_inter = unit.exchange(offer.host_inter)
    assert slave_inter is not None
    assert offer.host_inter == ITL.XpowYmodN(offer.generator, offer.host_random, offer.modulus)
    host = HostCrypto.from_exchange(offer, slave_inter)
    assert host.key == unit.key
    itl_key = ITL.XpowYmodN(slave_inter, offer.host_random, offer.modulus)
    assert host.key == aes_key(DEFAULT_FIXED_KEY, itl_key)


def test_the_host_offers_steps_negotiate_with_the_unit() -> None:
    validator, link = make()
    offer = HostOffer.new()
    steps = offer.commands()
    assert [code for code, _ in steps] == [0x4A, 0x4B, 0x4C]
    payload = b""
    for code, params in steps:
        reply = link.plain(code, *params)
        assert reply is not None and reply[0] == 0xF0
        payload = reply[1:]
    assert offer.finish(payload).key == validator.commands.keys.key


# -- the encrypted packet against ITL's C code -----------------------------------------------
def itl_encrypt(data: bytes, count: int) -> bytes:
    ctypes.c_uint.in_dll(ITL, "encPktCount").value = count  # encPktCount[0]
    buf = ctypes.create_string_buffer(bytes(data), 255)
    length = ctypes.c_ubyte(len(data))
    key = ctypes.create_string_buffer(KEY, 16)
    assert ITL.EncryptSSPPacket(0, buf, buf, ctypes.byref(length), ctypes.byref(length), key) == 1
    return buf.raw[: length.value]


def itl_decrypt(block: bytes) -> bytes:
    buf = ctypes.create_string_buffer(block, 255)
    length = ctypes.c_ubyte(len(block))
    key = ctypes.create_string_buffer(KEY, 16)
    assert ITL.DecryptSSPPacket(buf, buf, ctypes.byref(length), ctypes.byref(length), key) == 1
    return buf.raw[: len(block)]


@given(st.binary(min_size=1, max_size=120), st.integers(0, 0xFFFFFFFF))
@settings(max_examples=50, deadline=None)
def test_itl_encrypted_packets_open_and_ours_decrypt_in_itl(data: bytes, count: int) -> None:
    theirs = itl_encrypt(data, count)
    assert theirs[0] == STEX and (len(theirs) - 1) % 16 == 0
    opened = open_packet(KEY, theirs)
    assert (opened.count, opened.data) == (count, data)

    ours = seal(KEY, count, data)
    assert len(ours) == len(theirs)  # the same packing length
    plain = itl_decrypt(ours[1:])
    assert plain[0] == len(data) and int.from_bytes(plain[1:5], "little") == count
    assert plain[5 : 5 + len(data)] == data
    assert crc16(plain[:-2]) == int.from_bytes(plain[-2:], "little")


def test_open_refuses_what_was_not_sealed_with_the_key() -> None:
    packet = seal(KEY, 3, b"\x07")
    with pytest.raises(BadEncryptedPacket, match="inner CRC"):
        open_packet(aes_key(1, 2), packet)
    with pytest.raises(BadEncryptedPacket, match="multiple of 16"):
        open_packet(KEY, packet[:-1])
    host = HostCrypto(KEY)
    host.count = 4
    with pytest.raises(StaleCount):
        host.reply(seal(KEY, 3, b"\xf0"))
    assert host.reply(b"\xf0\xf1") == b"\xf0\xf1"  # a plain reply passes through


# -- the unit's rules, in virtual time --------------------------------------------------------
class Link:
    """A host on one session: plain or encrypted commands, the sequence flag toggled."""

    def __init__(self, validator: BillValidator) -> None:
        self.session = validator.new_session()
        self.seq = True
        self.crypto: HostCrypto | None = None

    def raw(self, data: bytes) -> bytes | None:
        self.seq = not self.seq
        out = self.session.feed(encode_frame(self.seq, 0, data))
        if not out:
            self.seq = not self.seq
            return None
        (packet,) = Deframer().feed(out)
        assert isinstance(packet, Packet)
        return packet.data

    def plain(self, *data: int) -> bytes | None:
        return self.raw(bytes(data))

    def enc(self, *data: int) -> bytes | None:
        assert self.crypto is not None
        reply = self.raw(self.crypto.command(bytes(data)))
        return None if reply is None else self.crypto.reply(reply)

    def negotiate(self, fixed_key: int = DEFAULT_FIXED_KEY) -> None:
        offer = HostOffer.new()
        assert self.plain(Command.SET_GENERATOR, *to_u64(offer.generator)) == b"\xf0"
        assert self.plain(Command.SET_MODULUS, *to_u64(offer.modulus)) == b"\xf0"
        reply = self.plain(Command.REQUEST_KEY_EXCHANGE, *to_u64(offer.host_inter))
        assert reply is not None and reply[0] == 0xF0
        self.crypto = HostCrypto.from_exchange(
            offer, int.from_bytes(reply[1:], "little"), fixed_key
        )


def make(**overrides: Any) -> tuple[BillValidator, Link]:
    env = simpy.Environment()
    validator = BillValidator(env, BillValidatorSettings(**overrides), MODES)
    validator.start()
    link = Link(validator)
    assert link.plain(Command.SYNC) == b"\xf0"
    return validator, link


def test_optional_encryption_takes_money_commands_either_way() -> None:
    _, link = make()
    assert link.plain(Command.ENABLE) == b"\xf0"
    assert link.raw(seal(KEY, 0, b"\x07")) == b"\xfa"  # encrypted before any key: key not set
    link.negotiate()
    assert link.enc(Command.POLL) == b"\xf0\xf1"
    assert link.plain(Command.POLL) == b"\xf0"


def test_required_encryption_refuses_money_commands_in_the_clear() -> None:
    validator, link = make(require_encryption=True)
    for code in (Command.ENABLE, Command.SET_INHIBITS, Command.POLL, Command.GET_COUNTERS):
        params = b"\xff\xff" if code == Command.SET_INHIBITS else b""
        assert link.plain(code, *params) == b"\xfa", f"0x{code:02X}"
    assert link.plain(Command.GET_SERIAL_NUMBER) is not None  # general commands stay open
    link.negotiate()
    assert link.enc(Command.ENABLE) == b"\xf0" and validator.state.enabled
    assert link.plain(Command.POLL) == b"\xfa"


def test_set_fixed_key_applies_from_the_next_negotiation_and_0x61_restores_the_default() -> None:
    validator, link = make()
    link.negotiate()
    new_key = 0x0BADC0FFEE0DDF00
    assert link.enc(Command.SET_FIXED_KEY, *to_u64(new_key)) == b"\xf0"
    assert link.enc(Command.POLL) is not None  # the key in force is unchanged
    link.negotiate(fixed_key=new_key)
    assert link.enc(Command.POLL) is not None
    assert validator.commands.keys.fixed_key == new_key
    assert link.enc(Command.RESET_FIXED_KEY) == b"\xf0"  # answered encrypted, then a reset
    assert validator.state.resetting and validator.commands.keys.fixed_key == DEFAULT_FIXED_KEY
    assert validator.commands.keys.key is None


def test_a_retry_gets_the_same_sealed_reply_and_an_encrypted_sync_resets_the_flag() -> None:
    _, link = make()
    link.negotiate()
    assert link.crypto is not None
    packet = link.crypto.command(bytes([Command.POLL]))
    link.seq = not link.seq
    first = link.session.feed(encode_frame(link.seq, 0, packet))
    assert link.session.feed(encode_frame(link.seq, 0, packet)) == first
    # An encrypted SYNC with the same flag as the last packet is still run, not taken as a retry.
    sync = link.crypto.command(bytes([Command.SYNC]))
    (reply,) = Deframer().feed(link.session.feed(encode_frame(link.seq, 0, sync)))
    assert isinstance(reply, Packet) and link.crypto.reply(reply.data) == b"\xf0"


def test_out_of_service_is_silent_to_retries_too_until_a_reset() -> None:
    validator, link = make()
    link.negotiate()
    assert link.crypto is not None
    packet = link.crypto.command(bytes([Command.POLL]))
    link.seq = not link.seq
    answered = encode_frame(link.seq, 0, packet)
    assert link.session.feed(answered)
    assert link.raw(seal(aes_key(1, 2), link.crypto.count, b"\x07")) is None  # wrong key
    assert validator.commands.out_of_service
    assert link.session.feed(answered) == b""  # a retry of the last answered packet
    assert link.plain(Command.SYNC) is None
    assert link.plain(Command.RESET) == b"\xf0"
    validator.env.run(until=validator.env.now + validator.settings.reset_s + 0.1)
    assert link.plain(Command.SYNC) == b"\xf0" and not validator.commands.out_of_service


# -- fuzzing ----------------------------------------------------------------------------------
@given(st.binary(min_size=1, max_size=200))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_random_encrypted_frames_never_raise_out_of_the_validator(body: bytes) -> None:
    validator, link = make(require_encryption=True)
    link.negotiate()
    link.raw(bytes([STEX]) + body)  # garbage: out of service, no reply, no exception
    assert validator.commands.out_of_service or validator.commands.keys.key is not None


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=8))
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_random_commands_sealed_with_the_right_key_always_get_a_sealed_reply(
    commands: list[bytes],
) -> None:
    _, link = make(require_encryption=True)
    link.negotiate()
    for data in commands:
        if data[0] in (Command.RESET, Command.RESET_FIXED_KEY, Command.REQUEST_KEY_EXCHANGE):
            continue  # these end the key: the next packet is rightly refused
        assert link.enc(*data) is not None, data.hex()
