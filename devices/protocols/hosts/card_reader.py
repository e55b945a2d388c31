"""The host side of the motorised card reader's STX/ETX/BCC protocol with its ACK/NAK handshake:
the host sends a command, the reader ACKs it (or NAKs a garbled one, to be sent again) and sends
its reply; the host ACKs the reply.

    host = CardReaderHost()
    ask = host.command(CM_STATUS, "0")
    got = answer_of(ask)          # a Reply, or NAKED: send ask.request again
    port.write(host.ack())
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Final, Literal

from devices.protocols import stx_bcc as p
from devices.protocols.hosts import Exchange
from workbench.errors import ProtocolError

NAKED: Final = "nak"
"""The reader refused the command frame (it arrived garbled): send it again."""

ReaderAnswer = p.Reply | Literal["nak"]


_ACK = bytes([p.ACK])


@cache
def _command(cm: str, pm: str, data: bytes) -> bytes:
    return p.Command(cm, pm, data).encode()


@lru_cache(maxsize=1024)
def _acked_reply(raw: bytes) -> p.Reply:
    if not raw.startswith(bytes([p.ACK])):
        raise ProtocolError(f"card reader did not acknowledge: {raw[:8].hex(' ')}")
    return p.parse_reply(p.decode_frame(raw[1:]))


class CardReaderHost:
    """The host of one card reader link."""

    def command(self, cm: str, pm: str, data: bytes = b"") -> Exchange[ReaderAnswer]:
        """A command; the answer is the reply that follows the reader's ACK, or :data:`NAKED`."""
        deframer = p.Deframer()
        acked = False

        def feed(chunk: bytes) -> ReaderAnswer | None:
            nonlocal acked
            for item in deframer.feed(chunk):
                if isinstance(item, p.Control):
                    if item.byte == p.NAK:
                        return NAKED
                    acked |= item.byte == p.ACK
                elif isinstance(item, bytes) and acked:
                    return p.parse_reply(item)
            return None

        return Exchange(_command(cm, pm, data), feed)

    @staticmethod
    def request(cm: str, pm: str, data: bytes = b"") -> bytes:
        """The framed command, as :meth:`command` sends it, for a caller that reads the ACK and
        the whole reply with :meth:`answer` (no :class:`Exchange` needed)."""
        return _command(cm, pm, data)

    @staticmethod
    def ack() -> bytes:
        """What the host sends once it has the reply."""
        return _ACK

    @staticmethod
    def answer(raw: bytes) -> p.Reply:
        """Parse an ACK and a whole reply frame that arrived together (a device that answers at
        once); raises :class:`ProtocolError` for anything else."""
        return _acked_reply(raw)
