"""The validator side of SSP commands: checks each command's parameters, calls the unit behind
it through the :class:`ValidatorUnit` interface, and encodes the reply a real NV-series unit gives,
in the clear or inside eSSP's encrypted packet.

Pure like the rest of the codec: no I/O, no clock. Unknown commands get 0xF2, a wrong number of
parameters 0xF3, an unsupported host protocol version 0xF8, and REJECT or HOLD with no note in
escrow 0xF5. eSSP (:mod:`devices.protocols.essp`): SET GENERATOR and SET MODULUS answer 0xF4 for
a number that is not prime, REQUEST KEY EXCHANGE 0xF8 before both are set; a command that must
come encrypted and comes in the clear, or an encrypted one before any key, gets 0xFA (KEY NOT
SET); a packet with the wrong count is discarded unanswered (and told to ``on_wrong_count``, for
strict mode); one that fails its inner CRC puts the
unit out of service (disabled, silent) until a RESET or a power cycle, as ITL's manual says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from devices.protocols.essp import DEFAULT_FIXED_KEY, STEX, StaleCount, UnitKeys, from_u64, to_u64
from devices.protocols.ssp_messages import (
    Command,
    Counters,
    Response,
    SetupData,
    UnitData,
    channels_of_mask,
    encode_channel_values,
    encode_serial,
    parse_command,
    reply,
)
from workbench.errors import ProtocolError

log = logging.getLogger(__name__)

MONEY_COMMANDS = frozenset(
    {
        Command.ENABLE,
        Command.SET_INHIBITS,
        Command.POLL,
        Command.HOLD,
        Command.REJECT,
        Command.GET_COUNTERS,
        Command.RESET_COUNTERS,
    }
)
"""Commands that take in, report or settle money: encrypted only on a unit that requires it."""
ENCRYPTED_ONLY = frozenset({Command.SET_FIXED_KEY})
"""Commands every eSSP unit takes only encrypted (the manual: "This command must be encrypted")."""


class ValidatorUnit(Protocol):
    """What the command layer needs from a note validator (a simulator or a test double)."""

    def responsive(self) -> bool:
        """False while the unit answers nothing (rebooting, hung)."""
        ...

    def setup_data(self) -> SetupData:
        """Dataset and identity in the layout of the protocol version in force."""
        ...

    def counters(self) -> Counters: ...

    def serial_number(self) -> int: ...

    def last_reject_code(self) -> int: ...

    def poll_reply(self, params: bytes) -> bytes:
        """POLL's reply data: OK, then the events since the last poll and the ongoing states
        (:func:`~devices.protocols.ssp_messages.encode_poll`); the command's function itself."""
        ...

    def reset(self) -> None: ...

    def set_protocol(self, version: int) -> bool:
        """Switch protocol version; False when not supported."""
        ...

    def set_enabled(self, enabled: bool) -> None: ...

    def set_accepting(self, channels: set[int]) -> None: ...

    def set_display(self, on: bool) -> None: ...

    def host_reject(self) -> bool:
        """Reject the note in escrow; False when there is none."""
        ...

    def host_hold(self) -> bool:
        """Hold the note in escrow; False when there is none."""
        ...

    def reset_counters(self) -> None: ...


class UnitCommands:
    """Turns command data into reply data for one :class:`ValidatorUnit`."""

    def __init__(
        self,
        unit: ValidatorUnit,
        *,
        require_encryption: bool = False,
        keys: UnitKeys | None = None,
        on_wrong_count: Callable[[int, int], None] | None = None,
    ) -> None:
        self.unit = unit
        self.on_wrong_count = on_wrong_count
        """Told ``(count, expected)`` of each encrypted packet discarded for its eCOUNT (the
        unit stays silent; a device records it so that strict mode reports the host)."""
        self.require_encryption = require_encryption
        """Money commands (:data:`MONEY_COMMANDS`) only inside an encrypted packet (for the
        unit's life: :meth:`direct` answers by it)."""
        self.keys = keys if keys is not None else UnitKeys()
        self.out_of_service = False
        """Set by an encrypted packet that fails its inner CRC; cleared by a reset."""
        self._parsed: dict[bytes, tuple[Callable[[bytes], bytes], bytes]] = {}
        """:meth:`_parse` by command data."""
        u = unit
        ok = reply(Response.OK)

        def run(action: Callable[[], object]) -> bytes:
            action()
            return ok

        def ok_if(done: Callable[[], bool]) -> bytes:
            return ok if done() else reply(Response.CANNOT_PROCESS)

        # ENABLE and DISABLE come with every customer: one call more than the setter's.
        def enable(params: bytes) -> bytes:
            u.set_enabled(True)
            return ok

        def disable(params: bytes) -> bytes:
            u.set_enabled(False)
            return ok

        self._table: dict[int, tuple[int, int, Callable[[bytes], bytes]]] = {
            Command.SYNC: (0, 0, lambda p: ok),
            Command.ENABLE_HIGHER_PROTOCOL: (0, 0, lambda p: ok),
            Command.RESET: (0, 0, lambda p: run(u.reset)),
            Command.HOST_PROTOCOL_VERSION: (1, 1, self._protocol),
            Command.SETUP_REQUEST: (0, 0, lambda p: reply(Response.OK, u.setup_data().encode())),
            Command.SET_INHIBITS: (
                1,
                2,
                lambda p: run(lambda: u.set_accepting(channels_of_mask(p))),
            ),
            Command.DISPLAY_ON: (0, 0, lambda p: run(lambda: u.set_display(True))),
            Command.DISPLAY_OFF: (0, 0, lambda p: run(lambda: u.set_display(False))),
            Command.POLL: (0, 0, u.poll_reply),  # every poll: no frame in between
            Command.REJECT: (0, 0, lambda p: ok_if(u.host_reject)),
            Command.HOLD: (0, 0, lambda p: ok_if(u.host_hold)),
            Command.DISABLE: (0, 0, disable),
            Command.ENABLE: (0, 0, enable),
            Command.GET_SERIAL_NUMBER: (
                0,
                0,
                lambda p: reply(Response.OK, encode_serial(u.serial_number())),
            ),
            Command.UNIT_DATA: (0, 0, self._unit_data),
            Command.CHANNEL_VALUE_REQUEST: (0, 0, self._channel_values),
            Command.CHANNEL_SECURITY_DATA: (0, 0, self._channel_security),
            Command.LAST_REJECT_CODE: (
                0,
                0,
                lambda p: reply(Response.OK, bytes([u.last_reject_code()])),
            ),
            Command.GET_COUNTERS: (0, 0, lambda p: reply(Response.OK, u.counters().encode())),
            Command.RESET_COUNTERS: (0, 0, lambda p: run(u.reset_counters)),
            Command.SET_GENERATOR: (8, 8, self._set_generator),
            Command.SET_MODULUS: (8, 8, self._set_modulus),
            Command.REQUEST_KEY_EXCHANGE: (8, 8, self._key_exchange),
            Command.SET_FIXED_KEY: (8, 8, self._set_fixed_key),
            Command.RESET_FIXED_KEY: (0, 0, self._reset_fixed_key),
        }

    def power_up(self) -> None:
        """Forget the negotiated key and come back into service (reset, power cycle)."""
        self.keys.forget()
        self.out_of_service = False

    def handle(self, data: bytes) -> bytes | None:
        """The reply data to a command (plain or an encrypted packet), or None when silent."""
        if not data or not self.unit.responsive():
            return None
        if self.out_of_service:
            return self._run(data) if data == bytes([Command.RESET]) else None
        code = data[0]
        if code != STEX:
            if code in ENCRYPTED_ONLY or (self.require_encryption and code in MONEY_COMMANDS):
                return _KEY_NOT_SET_REPLY
            parsed = self._parsed.get(data)  # what _run does, without the call (every POLL)
            if parsed is None:
                parsed = self._parse(data)
            return parsed[0](parsed[1])
        if self.keys.key is None:
            return _KEY_NOT_SET_REPLY
        try:
            received = self.keys.receive(data)
        except StaleCount as why:
            log.info("eSSP packet discarded: %s", why)
            if self.on_wrong_count is not None:
                self.on_wrong_count(why.count, why.expected)
            return None
        except ProtocolError as why:
            log.warning("eSSP packet not encrypted with the key (%s): out of service", why)
            self.keys.forget()
            self.unit.set_enabled(False)
            self.out_of_service = True
            return None
        return self.keys.reply(received, self._run(received.data))

    def direct(self, data: bytes) -> tuple[Callable[[bytes], bytes], bytes] | None:
        """The function and parameters that answer plain command data, as :meth:`handle` runs
        them while the unit answers and is in service; None for an eSSP packet or a command
        that must come encrypted (:meth:`handle` decides those). Pure: ``require_encryption``
        is the unit's for its life, and the parse is the bytes'."""
        code = data[0]
        if code == STEX or code in ENCRYPTED_ONLY:
            return None
        if self.require_encryption and code in MONEY_COMMANDS:
            return None
        parsed = self._parsed.get(data)
        return parsed if parsed is not None else self._parse(data)

    def is_sync(self, data: bytes) -> bool:
        """Whether packet data is a SYNC, in the clear or encrypted with the current key."""
        if not data:
            return False
        if data[0] != STEX:
            return data[0] == _SYNC
        inner = self.keys.peek(data)
        return bool(inner) and inner is not None and inner[0] == _SYNC

    def status(self) -> dict[str, Any]:
        """The eSSP state, as a trainer sees it."""
        return {
            "required": self.require_encryption,
            "key_set": self.keys.key is not None,
            "count": self.keys.count,
            "out_of_service": self.out_of_service,
        }

    def _run(self, data: bytes) -> bytes:
        parsed = self._parsed.get(data)
        if parsed is None:
            parsed = self._parse(data)
        fn, params = parsed
        return fn(params)

    def _parse(self, data: bytes) -> tuple[Callable[[bytes], bytes], bytes]:
        """The handler of command data and its parameters (an error reply's constant function
        for an unknown command or a wrong parameter count); remembered by the data, as it is a
        pure function of the bytes and a host sends a handful of commands all day."""
        if not data:
            return _constant(reply(Response.UNKNOWN_COMMAND)), b""
        code, params = parse_command(data)
        entry = self._table.get(code)
        if entry is None:
            parsed = _constant(reply(Response.UNKNOWN_COMMAND)), params
        else:
            low, high, fn = entry
            if low <= len(params) <= high:
                parsed = fn, params
            else:
                parsed = _constant(reply(Response.WRONG_PARAMETERS)), params
        if len(self._parsed) >= _PARSED_LIMIT:
            self._parsed.clear()
        self._parsed[bytes(data)] = parsed
        return parsed

    def _set_generator(self, params: bytes) -> bytes:
        ok = self.keys.set_generator(from_u64(params))
        return reply(Response.OK if ok else Response.OUT_OF_RANGE)

    def _set_modulus(self, params: bytes) -> bytes:
        ok = self.keys.set_modulus(from_u64(params))
        return reply(Response.OK if ok else Response.OUT_OF_RANGE)

    def _key_exchange(self, params: bytes) -> bytes:
        slave_inter = self.keys.exchange(from_u64(params))
        if slave_inter is None:
            return reply(Response.FAIL)
        return reply(Response.OK, to_u64(slave_inter))

    def _set_fixed_key(self, params: bytes) -> bytes:
        # Takes effect at the next negotiation; the key in force stays as it is.
        self.keys.fixed_key = from_u64(params)
        return reply(Response.OK)

    def _reset_fixed_key(self, params: bytes) -> bytes:
        # The manual: "the device will reply OK, then reset", with the default fixed key.
        self.keys.fixed_key = DEFAULT_FIXED_KEY
        self.unit.reset()
        return reply(Response.OK)

    def _protocol(self, params: bytes) -> bytes:
        ok = self.unit.set_protocol(params[0])
        return reply(Response.OK if ok else Response.FAIL)

    def _unit_data(self, params: bytes) -> bytes:
        s = self.unit.setup_data()
        data = UnitData(s.firmware, s.country, s.value_multiplier, s.protocol_version, s.unit_type)
        return reply(Response.OK, data.encode())

    def _channel_values(self, params: bytes) -> bytes:
        s = self.unit.setup_data()
        countries = s.countries or (s.country,) * len(s.values)
        payload = encode_channel_values(s.values, s.value_multiplier, s.protocol_version, countries)
        return reply(Response.OK, payload)

    def _channel_security(self, params: bytes) -> bytes:
        s = self.unit.setup_data()
        return reply(Response.OK, bytes([len(s.security), *s.security]))


_SYNC = int(Command.SYNC)
"""SYNC's code as a plain int (compared on every packet)."""
_KEY_NOT_SET_REPLY = reply(Response.KEY_NOT_SET)
_PARSED_LIMIT = 256


def _constant(answer: bytes) -> Callable[[bytes], bytes]:
    """A handler that answers ``answer`` whatever the parameters (an error reply)."""
    return lambda params: answer
