"""The host side of DDC/CI monitor control (VESA MCCS) over a bridged line: Get VCP Feature and
its reply, Set VCP Feature (which the display does not answer).

    host = DdcHost()
    reply = answer_of(host.get(VCP_LUMINANCE))    # reply.current, reply.maximum
    port.write(host.set(VCP_LUMINANCE, 80))
"""

from __future__ import annotations

from devices.protocols import mccs as m
from devices.protocols.hosts import Exchange, owed_replies
from workbench.errors import ProtocolError

RETRIES = 3
"""How many times a host sends a Get VCP Feature again when no reply came in time: it is a read,
and the reply names its VCP code, so a late reply to an earlier try is the same answer and a
display (or its simulator) on a busy machine is not called silent."""

MARKER = m.VCP_VERSION
"""The VCP code a host asks for to find the end of the replies still on the line (MCCS version:
every MCCS display answers it, and the checks never ask it otherwise)."""


class DdcHost:
    """MCCS requests a host makes of a display."""

    @staticmethod
    def get(code: int) -> Exchange[m.VcpReply]:
        """Get VCP Feature; the answer raises :class:`ProtocolError` for an unsupported code."""
        return _reply_naming(code, supported=True)

    @staticmethod
    def mark(code: int) -> Exchange[m.VcpReply]:
        """Get VCP Feature ``code``, answered by any reply naming that code (supported or not),
        sent only to find where the replies already on the line end. DDC/CI has no sequence
        number and no input flush, but a display answers in order and each Get VCP reply names
        its code: once the reply naming ``code`` has come, every reply to a request sent before
        this one has come too (or never will), so a host that left replies of another code
        owed reads past them here and its next Get of that code is answered by its own reply."""
        return _reply_naming(code, supported=False)

    @staticmethod
    def owed(code: int, count: int) -> Exchange[bool]:
        """Read ``count`` more replies for VCP ``code``: those owed to the earlier tries of a Get
        answered late, so that a later Get of the same code (0xD6 again after a Set woke the
        display) does not take one for its own. True once all have come; nothing is sent."""

        def owed(item: object) -> bool:
            if not isinstance(item, bytes):
                return False
            reply = m.parse_reply(item)
            return isinstance(reply, m.VcpReply) and reply.code == code

        return owed_replies(m.PacketReader(reply=True).feed, owed, count)

    @staticmethod
    def set(code: int, value: int) -> bytes:
        """Set VCP Feature (no reply)."""
        return m.encode_request(m.SetVcp(code, value).payload())


def _reply_naming(code: int, *, supported: bool) -> Exchange[m.VcpReply]:
    """Get VCP Feature ``code``, answered by the first reply naming that code: with
    ``supported``, one that says the display does not support it raises :class:`ProtocolError`
    (:meth:`DdcHost.get`); without, any such reply will do (:meth:`DdcHost.mark`)."""
    reader = m.PacketReader(reply=True)

    def feed(chunk: bytes) -> m.VcpReply | None:
        for item in reader.feed(chunk):
            if isinstance(item, bytes):
                reply = m.parse_reply(item)
                if isinstance(reply, m.VcpReply) and reply.code == code:
                    if supported and reply.result != m.RESULT_OK:
                        raise ProtocolError(f"VCP 0x{code:02X} not supported by the display")
                    return reply
        return None

    return Exchange(m.encode_request(m.GetVcp(code).payload()), feed, fresh=False)
