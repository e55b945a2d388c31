"""The SSP master (host) of a bill validator: frames with the sequence flag toggled for every new
command and kept for a retry, SYNC resetting it, replies from this address only, and eSSP
(negotiate a key, then every command sealed and every reply opened) when the unit wants it.

    host = SspMaster()
    status, payload = answer_of(host.command(Command.SYNC))
    ...
    if status == Response.KEY_NOT_SET:
        for code, ask in host.negotiation(): ...   # three exchanges, each must answer OK
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from devices.protocols import essp
from devices.protocols.hosts import Exchange, owed_replies
from devices.protocols.ssp import Deframer, Packet, decode_frame, encode_frame
from devices.protocols.ssp_messages import (
    Command,
    PollEvent,
    Response,
    command,
    decode_poll_events,
    parse_reply,
)
from workbench.errors import ProtocolError
from workbench.memo import Memo

NEGOTIATION = frozenset({Command.SET_GENERATOR, Command.SET_MODULUS, Command.REQUEST_KEY_EXCHANGE})
"""Commands that set up eSSP: never themselves answered KEY NOT SET."""

_SYNC, _POLL, _OK = int(Command.SYNC), int(Command.POLL), int(Response.OK)
_NEGOTIATION = frozenset(int(c) for c in NEGOTIATION)
"""SYNC and the negotiation's codes as plain ints (looked at for every command)."""
SYNC_ANSWER = bytes([Response.OK])
"""What a unit answers to SYNC: a bare OK, never a payload, never encrypted."""

SspAnswer = tuple[int, bytes]
"""The generic response code and the payload after it."""
PollAnswer = tuple[int | None, tuple[PollEvent, ...]]
"""A POLL's generic response code (None: no answer, or one the host cannot read) and, when it is
OK, its events in order (none when they cannot be read)."""
_UNANSWERED: PollAnswer = (None, ())
_Last = tuple[bytes, "essp.HostCrypto | None", bool]
"""A request as :attr:`SspMaster._last` keeps it: its frame, its channel, whether it is a SYNC."""

REPLY_TIMEOUT_S = 0.5
"""How long a host waits for the reply to one packet before it sends the same packet again."""
RETRIES = 3
"""How many times a host sends the same packet again (same sequence flag: the unit answers a
retry from its retry cache, so a command is never carried out twice) before it calls the unit
silent. ITL's host libraries likewise take a timeout and a retry level per command; with
:data:`REPLY_TIMEOUT_S` a reply may come up to 2 s late (a validator, or its simulator, on a
busy machine) and still be taken."""


_MEMO_LIMIT = 256
"""Frames a host remembers in each direction (a stream of strange ones is forgotten)."""


def _plain_frame(seq: bool, address: int, code: int, params: bytes) -> bytes:
    return encode_frame(seq, address, command(code, params))


def _plain_reply(frame: bytes) -> tuple[int, SspAnswer]:
    packet = decode_frame(frame)
    return packet.address, parse_reply(packet.data)


def _poll_answer(answer: SspAnswer) -> PollAnswer:
    """What a POLL's answer says: its code and, when OK, the events of its payload."""
    status, payload = answer
    if status != _OK:
        return status, ()
    try:
        return status, tuple(decode_poll_events(payload))
    except ProtocolError:
        return status, ()


class _PollReplies(Memo[bytes, PollAnswer]):
    """Plain POLL reply frames read by :meth:`SspMaster.poll`, by their bytes, made on first use
    as :meth:`SspMaster.answer` reads them (a pure function of the bytes for one address: its
    memo holds the same); a subscript, so a reply seen before costs one lookup and no call."""

    def __init__(self, address: int) -> None:
        super().__init__({b"": _UNANSWERED})  # silence
        self.address = address

    limit = _MEMO_LIMIT

    def make(self, key: bytes) -> PollAnswer:
        try:
            address, answer = _plain_reply(key)
        except ProtocolError:  # silence (b"") among them
            return _UNANSWERED
        return _UNANSWERED if address != self.address else _poll_answer(answer)


class _PlainFrames(Memo[int, tuple[_Last, _Last]]):
    """A plain command's two frames without parameters, by its code, each as :attr:`SspMaster._last`
    keeps it (flag clear, flag set; no channel, no SYNC), as :meth:`SspMaster.request` frames
    them."""

    def __init__(self, address: int) -> None:
        super().__init__()
        self.address = address

    limit = _MEMO_LIMIT

    def make(self, key: int) -> tuple[_Last, _Last]:
        clear, set_ = (_plain_frame(seq, self.address, key, b"") for seq in (False, True))
        return (clear, None, False), (set_, None, False)


class _PlainAnswers(Memo[bytes, "SspAnswer | None"]):
    """Replies to plain commands read by :meth:`SspMaster.ask`, by their bytes: the answer
    :meth:`SspMaster.answer` reads, None where it raises (a frame it cannot read, another
    address's reply) and for silence (a pure function of the bytes for one address)."""

    def __init__(self, address: int) -> None:
        super().__init__({b"": None})  # silence
        self.address = address

    limit = _MEMO_LIMIT

    def make(self, key: bytes) -> SspAnswer | None:
        try:
            address, answer = _plain_reply(key)
        except ProtocolError:
            return None
        return answer if address == self.address else None


class SspMaster:
    """The host side of one SSP link (address ``address``), plain or encrypted."""

    def __init__(self, address: int = 0, fixed_key: int = essp.DEFAULT_FIXED_KEY) -> None:
        self.address = address
        self.fixed_key = fixed_key
        self.crypto: essp.HostCrypto | None = None
        """The encrypted channel, once a key is negotiated."""
        self._seq = True
        self._last: _Last | None = None
        """The last request's frame, its channel, and whether it is a SYNC."""
        self._offer: essp.HostOffer | None = None
        self._frames: dict[tuple[bool, int, bytes], bytes] = {}
        """Plain command frames by flag, code and parameters (the address is the link's)."""
        self._answers: dict[bytes, SspAnswer] = {}
        """Plain reply frames from this address, read (a host sees a handful all day)."""
        self._plain = _PlainFrames(address)
        """Plain commands' frames without parameters by code, for :meth:`ask`."""
        self._poll_frames = self._plain[_POLL]
        """POLL's two plain frames by flag, as :attr:`_last` keeps them (no crypto, no SYNC)."""
        self._polls = _PollReplies(address)
        self._plain_answers = _PlainAnswers(address)

    def command(self, code: int, params: bytes = b"") -> Exchange[SspAnswer]:
        """A new command (SYNC resets the sequence; anything else toggles it). Sealed when a
        key is set, except SYNC and the negotiation itself."""
        self.request(code, params)
        assert self._last is not None
        return self._exchange(*self._last)

    def request(self, code: int, params: bytes = b"") -> bytes:
        """The frame of a new command, as :meth:`command` sends it, for a caller that reads the
        whole reply with :meth:`answer` (no :class:`Exchange` needed)."""
        sync = code == _SYNC
        seq = True if sync else not self._seq
        self._seq = seq
        crypto = None if sync or code in _NEGOTIATION else self.crypto
        if crypto is None:
            key = (seq, code, params)
            frame = self._frames.get(key)
            if frame is None:
                if len(self._frames) >= _MEMO_LIMIT:
                    self._frames.clear()
                frame = self._frames[key] = _plain_frame(seq, self.address, code, params)
        else:
            frame = encode_frame(seq, self.address, crypto.command(command(code, params)))
        self._last = (frame, crypto, sync)
        return frame

    def resend(self) -> Exchange[SspAnswer]:
        """The last command again, same sequence flag (a retry after no answer)."""
        if self._last is None:
            raise ProtocolError("nothing to resend")
        return self._exchange(*self._last)

    def _exchange(
        self, frame: bytes, crypto: essp.HostCrypto | None, sync: bool
    ) -> Exchange[SspAnswer]:
        """The exchange of the last request: a reply from this address that carries the
        request's sequence flag (the unit echoes it), so a late reply to an earlier packet (its
        retry answered too) is never taken for this command's answer.

        A SYNC's answer is also what SYNC answers (:data:`SYNC_ANSWER`): a SYNC carries the flag
        set whatever came before, so a late reply to the previous session's last command, if
        that carried the flag set too, would otherwise be taken for it (an encrypted one fails
        the SYNC: ``command 0x11 answered 0x7E``). A stale bare OK cannot be told from it, and
        taking one is harmless: the SYNC's own reply follows, flag set, and the next command
        (flag clear) passes over it; a serial line keeps order, so every reply the unit sent
        before that is in by then, and the commands after it alternate the flag."""
        deframer = Deframer()
        address = self.address
        seq = self._seq

        def feed(data: bytes) -> SspAnswer | None:
            for item in deframer.feed(data):
                if not isinstance(item, Packet) or item.address != address or item.seq != seq:
                    continue
                if sync:
                    if item.data == SYNC_ANSWER:
                        return Response.OK, b""
                    continue
                if crypto is None:
                    return parse_reply(item.data)
                return parse_reply(crypto.reply(item.data))
            return None

        return Exchange(frame, feed)

    def owed(self, count: int) -> Exchange[bool]:
        """Read ``count`` more replies carrying the last request's flag from this address: those
        owed to its earlier tries when it was answered late (the unit answers every retry from
        its cache), so none is left on the line for a later SYNC (flag set whatever came before)
        or the next session to take. The answer is True once all have come; nothing is sent."""
        address, seq = self.address, self._seq

        def owed(item: object) -> bool:
            return isinstance(item, Packet) and item.address == address and item.seq == seq

        return owed_replies(Deframer().feed, owed, count)

    def answer(self, frame: bytes) -> SspAnswer:
        """Parse one whole reply frame to the last plain command (the fast path of a host whose
        device answers at once); raises :class:`ProtocolError` for anything else."""
        last = self._last
        if last is not None and last[1] is not None:
            return parse_reply(last[1].reply(decode_frame(frame).data))
        answer = self._answers.get(frame)
        if answer is None:
            address, answer = _plain_reply(frame)
            if address != self.address:
                raise ProtocolError(f"reply from address {address}, not {self.address}")
            if len(self._answers) >= _MEMO_LIMIT:
                self._answers.clear()
            self._answers[frame] = answer
        return answer

    def poll(self, feed: Callable[[bytes], bytes]) -> PollAnswer:
        """One POLL exchange through ``feed`` (the unit's byte session: a frame in, the reply
        bytes out): the frame :meth:`command` would send, the reply read as :meth:`answer` reads
        it, and its events. A host polls all day, so in the clear this is the whole exchange in
        one call: the flag toggled, one of POLL's two frames, and the reply's bytes looked up
        among those read before (``tests/devices/test_ssp_host_poll.py`` holds it to
        :meth:`request` and :meth:`answer`)."""
        if self.crypto is not None:  # sealed: the frame and the reply differ every time
            raw = feed(self.request(_POLL))
            if not raw:
                return _UNANSWERED
            try:
                return _poll_answer(self.answer(raw))
            except ProtocolError:
                return _UNANSWERED
        seq = self._seq = not self._seq
        self._last = last = self._poll_frames[seq]
        return self._polls[feed(last[0])]

    def ask(self, code: int, feed: Callable[[bytes], bytes]) -> SspAnswer | None:
        """One exchange of a command without parameters through ``feed`` (the unit's byte
        session): the frame :meth:`request` makes, the reply read as :meth:`answer` reads it;
        None for silence or a reply it cannot read (another address's among them).

        A kiosk enables and disables its validator for every cash customer, so in the clear
        (no key; not a SYNC, which sets the flag) this is the whole exchange in one call, as
        :meth:`poll` is: the flag toggled, the command's frame for that flag (made once), the
        reply looked up among those read before. It skips :meth:`request`'s steps for a SYNC,
        a sealed command and parameters, and :meth:`answer`'s for a sealed reply, none of which
        can apply here (``tests/devices/test_ssp_host_poll.py`` holds it to
        :meth:`request` and :meth:`answer`)."""
        if self.crypto is not None or code == _SYNC:
            raw = feed(self.request(code))
            if not raw:
                return None
            try:
                return self.answer(raw)
            except ProtocolError:
                return None
        seq = self._seq = not self._seq
        self._last = last = self._plain[code][seq]
        return self._plain_answers[feed(last[0])]

    # -- eSSP ---------------------------------------------------------------------------------
    def negotiation(self) -> Iterator[tuple[int, Exchange[SspAnswer]]]:
        """SET GENERATOR, SET MODULUS and REQUEST KEY EXCHANGE, one at a time (as ITL's host
        library draws its numbers); each must answer OK; pass the last answer's payload to
        :meth:`finish_negotiation`. Forgets any key until then."""
        self.crypto = None
        self._offer = offer = essp.HostOffer.new()
        for code, params in offer.commands():
            yield code, self.command(code, params)

    def finish_negotiation(self, payload: bytes) -> None:
        """The key from REQUEST KEY EXCHANGE's payload; later commands go encrypted."""
        if self._offer is None:
            raise ProtocolError("no key negotiation under way")
        self.crypto = self._offer.finish(payload, self.fixed_key)
        self._offer = None


def check_ok(code: int, answer: SspAnswer) -> bytes:
    """The payload of an answer that must be OK; :class:`ProtocolError` naming the command else."""
    status, payload = answer
    if status != Response.OK:
        raise ProtocolError(f"command 0x{code:02X} answered 0x{status:02X}, not OK")
    return payload
