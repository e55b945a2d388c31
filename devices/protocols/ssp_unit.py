"""The validator side of SSP commands: checks each command's parameters, calls the unit behind
it through the :class:`ValidatorUnit` interface, and encodes the reply a real NV-series unit gives.

Pure like the rest of the codec: no I/O, no clock. Unknown commands get 0xF2, a wrong number of
parameters 0xF3, an unsupported host protocol version 0xF8, and REJECT or HOLD with no note in
escrow 0xF5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from devices.protocols.ssp_messages import (
    Command,
    Counters,
    PollEvent,
    Response,
    SetupData,
    UnitData,
    channels_of_mask,
    encode_channel_values,
    encode_poll,
    encode_serial,
    parse_command,
    reply,
)


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

    def poll(self) -> list[PollEvent]: ...

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

    def __init__(self, unit: ValidatorUnit) -> None:
        self.unit = unit
        u = unit
        ok = reply(Response.OK)

        def run(action: Callable[[], object]) -> bytes:
            action()
            return ok

        def ok_if(done: Callable[[], bool]) -> bytes:
            return ok if done() else reply(Response.CANNOT_PROCESS)

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
            Command.POLL: (0, 0, lambda p: encode_poll(u.poll())),
            Command.REJECT: (0, 0, lambda p: ok_if(u.host_reject)),
            Command.HOLD: (0, 0, lambda p: ok_if(u.host_hold)),
            Command.DISABLE: (0, 0, lambda p: run(lambda: u.set_enabled(False))),
            Command.ENABLE: (0, 0, lambda p: run(lambda: u.set_enabled(True))),
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
        }

    def handle(self, data: bytes) -> bytes | None:
        """The reply data to a command, or None when the unit is silent."""
        if not self.unit.responsive():
            return None
        code, params = parse_command(data)
        entry = self._table.get(code)
        if entry is None:
            return reply(Response.UNKNOWN_COMMAND)
        low, high, fn = entry
        if not low <= len(params) <= high:
            return reply(Response.WRONG_PARAMETERS)
        return fn(params)

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
