"""Encrypted SSP (eSSP): the Diffie-Hellman key negotiation, the 128-bit AES key and the encrypted
packet that rides in an SSP packet's data, for both ends of the link. Pure: no I/O, no clock;
randomness comes in as functions, so tests can pin it.

The encrypted packet is ``STEX(0x7E)`` followed by AES-128 in ECB mode over ``eLENGTH eCOUNT(4,
little-endian) eDATA ePACKING eCRCL eCRCH``, padded with random bytes to a multiple of 16; the
CRC is SSP's CRC-16 over everything before it. The key is the 64-bit fixed key (bytes 0-7,
little-endian) then the 64-bit negotiated key (bytes 8-15, little-endian). The count is reset to
0 by each negotiation; the host sends count ``c`` and steps to ``c + 1``, the unit checks ``c``,
steps to ``c + 1`` and seals its reply with ``c + 1`` (what ITL's own host libraries check).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from devices.protocols.ssp import crc16
from devices.protocols.ssp_messages import Command
from workbench.errors import ProtocolError

STEX = 0x7E
BLOCK = 16
FIXED_PART = 7
"""eLENGTH (1) + eCOUNT (4) + eCRC (2): the bytes of a block besides data and packing."""
DEFAULT_FIXED_KEY = 0x0123456701234567
"""ITL's factory fixed key (the manual's SET FIXED KEY example and the hosts' default)."""
MAX_DATA = 255 - 1 - BLOCK
"""Largest eDATA whose sealed packet still fits an SSP packet's 255 data bytes."""
ITL_PRIME_LIMIT = 1 << 31
"""ITL's host code draws its primes and its random exponent below 2**31."""

RandBits = Callable[[int], int]
Packing = Callable[[int], bytes]


class BadEncryptedPacket(ProtocolError):
    """An encrypted block that is not one: a length that is no multiple of 16, an eLENGTH past
    the block, or an inner CRC that fails (the data was not encrypted with this key)."""


class StaleCount(ProtocolError):
    """An encrypted block whose eCOUNT is not the one expected (a replay or a lost packet)."""

    def __init__(self, count: int, expected: int, what: str = "eCOUNT") -> None:
        super().__init__(f"{what} {count}, expected {expected}")
        self.count = count
        self.expected = expected


# -- numbers ---------------------------------------------------------------------------------
def to_u64(number: int) -> bytes:
    """Eight little-endian bytes, as the key negotiation commands carry their numbers."""
    if not 0 <= number < 1 << 64:
        raise ProtocolError(f"eSSP number(={number}) must fit 64 bits")
    return number.to_bytes(8, "little")


def from_u64(data: bytes) -> int:
    """The number in eight little-endian bytes."""
    if len(data) != 8:
        raise ProtocolError(f"eSSP number: {len(data)} bytes, need 8")
    return int.from_bytes(data, "little")


_WITNESSES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
"""Miller-Rabin with these bases is exact for every n < 3.3e24, so for every 64-bit number."""


def is_prime(n: int) -> bool:
    """Whether ``n`` is prime (exact for 64-bit numbers)."""
    if n < 2:
        return False
    for p in _WITNESSES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for a in _WITNESSES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(randbits: RandBits = secrets.randbits, limit: int = ITL_PRIME_LIMIT) -> int:
    """A random prime below ``limit`` (ITL's hosts: below 2**31)."""
    bits = limit.bit_length() - 1
    while True:
        candidate = randbits(bits) | 1
        while candidate < limit:
            if candidate > 2 and is_prime(candidate):
                return candidate
            candidate += 2


def aes_key(fixed_key: int, negotiated_key: int) -> bytes:
    """The 128-bit AES key: fixed key then negotiated key, each 8 bytes little-endian."""
    return to_u64(fixed_key) + to_u64(negotiated_key)


# -- the encrypted block ---------------------------------------------------------------------
def _cipher(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.AES(key), modes.ECB())


def seal(key: bytes, count: int, data: bytes, packing: Packing = os.urandom) -> bytes:
    """``data`` as an encrypted packet (STEX + ciphertext), with ``count`` as its eCOUNT."""
    if len(data) > MAX_DATA:
        raise ProtocolError(f"eSSP data length(={len(data)}) must be <= {MAX_DATA}")
    plain = bytes([len(data)]) + (count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(data)
    pad = -(len(plain) + 2) % BLOCK
    plain += packing(pad)[:pad]
    plain += crc16(plain).to_bytes(2, "little")
    enc = _cipher(key).encryptor()
    return bytes([STEX]) + enc.update(plain) + enc.finalize()


@dataclass(frozen=True, slots=True)
class Opened:
    """A decrypted block: its eCOUNT and eDATA."""

    count: int
    data: bytes


def open_packet(key: bytes, packet: bytes) -> Opened:
    """Decrypt an encrypted packet (starting with STEX) and check its inner CRC.

    Raises :class:`BadEncryptedPacket` when it is not a block encrypted with ``key``.
    """
    if not packet or packet[0] != STEX:
        raise BadEncryptedPacket("not an encrypted packet (no STEX)")
    body = packet[1:]
    if not body or len(body) % BLOCK:
        raise BadEncryptedPacket(f"encrypted length {len(body)} is not a multiple of {BLOCK}")
    dec = _cipher(key).decryptor()
    plain = dec.update(body) + dec.finalize()
    if crc16(plain[:-2]) != int.from_bytes(plain[-2:], "little"):
        raise BadEncryptedPacket("inner CRC fails: not encrypted with this key")
    length = plain[0]
    if 5 + length > len(plain) - 2:
        raise BadEncryptedPacket(f"eLENGTH {length} runs past the {len(plain)}-byte block")
    return Opened(int.from_bytes(plain[1:5], "little"), plain[5 : 5 + length])


# -- the unit's side ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Received:
    """A command the unit took out of an encrypted packet, with what its reply is sealed with
    (the key in force when it arrived, so a RESET still gets an encrypted OK)."""

    data: bytes
    key: bytes
    reply_count: int


class UnitKeys:
    """The unit's half of eSSP: generator, modulus, the negotiated key and the packet count.

    Forgotten at power-up and reset (:meth:`forget`), except the fixed key, which a real unit
    keeps in memory until SSP ENCRYPTION RESET TO DEFAULT.
    """

    def __init__(
        self,
        fixed_key: int = DEFAULT_FIXED_KEY,
        *,
        randbits: RandBits = secrets.randbits,
        packing: Packing = os.urandom,
    ) -> None:
        self.fixed_key = fixed_key
        self.randbits = randbits
        self.packing = packing
        self.generator: int | None = None
        self.modulus: int | None = None
        self.key: bytes | None = None
        self.count = 0

    def forget(self) -> None:
        """Power-up state: no generator, modulus or key; count 0."""
        self.generator = self.modulus = self.key = None
        self.count = 0

    def set_generator(self, number: int) -> bool:
        """SET GENERATOR; False (the unit answers 0xF4) when the number is not prime."""
        if not is_prime(number):
            return False
        self.generator = number
        return True

    def set_modulus(self, number: int) -> bool:
        """SET MODULUS; False (0xF4) when the number is not prime."""
        if not is_prime(number):
            return False
        self.modulus = number
        return True

    def exchange(self, host_inter: int) -> int | None:
        """REQUEST KEY EXCHANGE: the slave intermediate key, the key made and the count reset;
        None (the unit answers 0xF8) while the generator or the modulus is missing."""
        g, p = self.generator, self.modulus
        if g is None or p is None:
            return None
        slave_random = self.randbits(31) + 1
        self.key = aes_key(self.fixed_key, pow(host_inter, slave_random, p))
        self.count = 0
        return pow(g, slave_random, p)

    def receive(self, packet: bytes) -> Received:
        """Open a command packet: raises :class:`BadEncryptedPacket` (or ProtocolError with no
        key), or :class:`StaleCount` for a count other than the unit's; else steps the count."""
        if self.key is None:
            raise ProtocolError("encrypted packet while no key is set")
        opened = open_packet(self.key, packet)
        if opened.count != self.count:
            raise StaleCount(opened.count, self.count)
        self.count = (self.count + 1) & 0xFFFFFFFF
        return Received(opened.data, self.key, self.count)

    def peek(self, packet: bytes) -> bytes | None:
        """The command in a packet, if it opens with the current key (no state changes)."""
        if self.key is None:
            return None
        try:
            return open_packet(self.key, packet).data
        except ProtocolError:
            return None

    def reply(self, received: Received, data: bytes) -> bytes:
        """The reply to an encrypted command, sealed as the host expects it."""
        return seal(received.key, received.reply_count, data, self.packing)


# -- the host's side ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HostOffer:
    """What a host sends to negotiate: generator, modulus, and its intermediate key (made from
    a secret random exponent, kept to finish the key)."""

    generator: int
    modulus: int
    host_random: int

    @classmethod
    def new(cls, randbits: RandBits = secrets.randbits) -> HostOffer:
        """Two random primes and a random exponent, below 2**31 as ITL's hosts draw them."""
        return cls(random_prime(randbits), random_prime(randbits), randbits(31) + 1)

    @property
    def host_inter(self) -> int:
        """GENERATOR ^ HOST_RND mod MODULUS: the REQUEST KEY EXCHANGE parameter."""
        return pow(self.generator, self.host_random, self.modulus)

    def negotiated_key(self, slave_inter: int) -> int:
        """SLAVE_INTER ^ HOST_RND mod MODULUS: the 64-bit negotiated key."""
        return pow(slave_inter, self.host_random, self.modulus)

    def commands(self) -> tuple[tuple[int, bytes], ...]:
        """The negotiation, in order, as (command code, parameters): SET GENERATOR, SET MODULUS,
        REQUEST KEY EXCHANGE. Each must answer OK; the last one's payload goes to :meth:`finish`."""
        return (
            (Command.SET_GENERATOR, to_u64(self.generator)),
            (Command.SET_MODULUS, to_u64(self.modulus)),
            (Command.REQUEST_KEY_EXCHANGE, to_u64(self.host_inter)),
        )

    def finish(self, payload: bytes, fixed_key: int = DEFAULT_FIXED_KEY) -> HostCrypto:
        """The encrypted channel from REQUEST KEY EXCHANGE's payload (the 8 bytes after OK)."""
        return HostCrypto.from_exchange(self, from_u64(payload[:8]), fixed_key)


class HostCrypto:
    """A host's encrypted channel once the key is negotiated: seals commands and opens replies,
    keeping the count in step with the unit."""

    def __init__(self, key: bytes, packing: Packing = os.urandom) -> None:
        self.key = key
        self.packing = packing
        self.count = 0

    @classmethod
    def from_exchange(
        cls, offer: HostOffer, slave_inter: int, fixed_key: int = DEFAULT_FIXED_KEY
    ) -> HostCrypto:
        """The channel that a finished negotiation gives."""
        return cls(aes_key(fixed_key, offer.negotiated_key(slave_inter)))

    def command(self, data: bytes) -> bytes:
        """A command's data as an encrypted packet; steps the count."""
        packet = seal(self.key, self.count, data, self.packing)
        self.count = (self.count + 1) & 0xFFFFFFFF
        return packet

    def reply(self, packet: bytes) -> bytes:
        """The data of a reply: a plain reply passes through; an encrypted one is opened and its
        count checked (raises :class:`BadEncryptedPacket` or :class:`StaleCount`)."""
        if not packet or packet[0] != STEX:
            return packet
        opened = open_packet(self.key, packet)
        if opened.count != self.count:
            raise StaleCount(opened.count, self.count, "reply eCOUNT")
        return opened.data
