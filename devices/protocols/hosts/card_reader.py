"""The host side of the motorised card reader's STX/ETX/BCC protocol with its ACK/NAK handshake:
the host sends a command, the reader ACKs it (or NAKs a garbled one, to be sent again) and sends
its reply; the host ACKs the reply, or NAKs it to have it sent again.

    host = CardReaderHost()
    ask = host.command(CM_STATUS, "0")
    got = answer_of(ask)          # a Reply, or NAKED: send ask.request again
    port.write(host.ack())

A reply names its command (``CM PM``), and the host takes only the reply naming the command it
sent: a late reply to an earlier command is never taken for this one's. When no reply comes in
time a host tries again (:data:`REPLY_TIMEOUT_S`, :data:`RETRIES`), the way that suits the
command (:func:`retry_safe`): a query is sent again; a command that moves the card, the shutter
or the chip's power is sent once, and the host asks for its reply again with a NAK
(:meth:`CardReaderHost.again`), which the reader answers with its last reply and never acts on.
Either way the replies owed to the earlier tries are read (:meth:`CardReaderHost.owed`) before
the host goes on.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Final, Literal

from devices.protocols import stx_bcc as p
from devices.protocols.hosts import Exchange, owed_replies
from workbench.errors import ProtocolError

NAKED: Final = "nak"
"""The reader refused the command frame (it arrived garbled): send it again."""

ReaderAnswer = p.Reply | Literal["nak"]

REPLY_TIMEOUT_S = 0.5
"""How long a host waits for the reader's ACK and reply to one command frame (or to one NAK asking
for the reply again) before it tries again."""
RETRIES = 3
"""How many times a host tries again before it calls the reader silent: with
:data:`REPLY_TIMEOUT_S`, a reader (or its simulator) on a busy machine may answer up to 2 s late
and still be heard. Sankyo-style host libraries likewise send a command again when no ACK came,
and then wait patiently for the reply."""
QUERIES: Final = frozenset({p.CM_STATUS, p.CM_READ})
"""Commands that only read (status, read a track): a host sends them again when no reply came,
since carrying one out twice changes nothing."""

_ACK = bytes([p.ACK])
_NAK = bytes([p.NAK])


def retry_safe(cm: str) -> bool:
    """Whether a command may be sent again when its reply does not come (:data:`QUERIES`).

    The others change the reader's state and are sent once: an initialise or a card carried twice
    moves the card twice (a second eject of a card already at the gate is a sequence error, a
    second capture may take the next customer's card), entry enable and chip power-on are not
    repeated blindly either. For those the host asks for the reply again (:meth:`CardReaderHost.again`).
    """
    return cm in QUERIES


@cache
def _command(cm: str, pm: str, data: bytes = b"") -> bytes:
    """The framed command, as :meth:`CardReaderHost.command` sends it, for a caller that reads
    the ACK and the whole reply with :meth:`CardReaderHost.answer` (no :class:`Exchange`)."""
    return p.Command(cm, pm, data).encode()


@lru_cache(maxsize=1024)
def _acked_reply(raw: bytes) -> p.Reply:
    """An ACK and a whole reply frame that arrived together (a device that answers at once),
    parsed; raises :class:`ProtocolError` for anything else (pure, so remembered)."""
    if not raw.startswith(bytes([p.ACK])):
        raise ProtocolError(f"card reader did not acknowledge: {raw[:8].hex(' ')}")
    return p.parse_reply(p.decode_frame(raw[1:]))


class CardReaderHost:
    """The host of one card reader link."""

    def command(self, cm: str, pm: str, data: bytes = b"") -> Exchange[ReaderAnswer]:
        """A command; the answer is the reply naming it (``CM PM``), or :data:`NAKED` when the
        reader refused the frame. Replies naming another command (late ones, to an earlier
        command) are passed over."""
        deframer = p.Deframer()

        def feed(chunk: bytes) -> ReaderAnswer | None:
            for item in deframer.feed(chunk):
                if isinstance(item, p.Control):
                    if item.byte == p.NAK:
                        return NAKED
                elif isinstance(item, bytes):
                    reply = p.parse_reply(item)
                    if reply.cm == cm and reply.pm == pm:
                        return reply
            return None

        return Exchange(_command(cm, pm, data), feed)

    @staticmethod
    def again(exchange: Exchange[ReaderAnswer]) -> Exchange[ReaderAnswer]:
        """Ask for the reply to ``exchange``'s command again (a NAK: the reader sends its last
        reply once more and carries nothing out); bytes already arrived are kept."""
        return Exchange(_NAK, exchange.feed, fresh=False)

    @staticmethod
    def owed(cm: str, pm: str, count: int) -> Exchange[bool]:
        """Read ``count`` more replies naming ``cm pm``: those owed to the earlier tries of a
        command answered late (the reader answers every frame and every NAK), so that none is
        left on the line for a later command, or the next session, to take. The answer is True
        once all have come; nothing is sent."""

        def owed(item: object) -> bool:
            if not isinstance(item, bytes):
                return False
            reply = p.parse_reply(item)
            return reply.cm == cm and reply.pm == pm

        return owed_replies(p.Deframer().feed, owed, count)

    # The three below are the cached functions themselves, not methods calling them: a kiosk
    # calls them for every exchange with the reader, and a call layer costs more than the look-up.
    request = staticmethod(_command)
    """``request(cm, pm, data=b"")``: the framed command, as :meth:`command` sends it, for a
    caller that reads the ACK and the whole reply with :meth:`answer` (no :class:`Exchange`)."""

    answer = staticmethod(_acked_reply)
    """``answer(raw)``: parse an ACK and a whole reply frame that arrived together (a device that
    answers at once); raises :class:`ProtocolError` for anything else."""

    ACK: Final = _ACK
    """What the host sends once it has the reply."""

    @staticmethod
    def ack() -> bytes:
        """What the host sends once it has the reply (:data:`ACK`)."""
        return _ACK
