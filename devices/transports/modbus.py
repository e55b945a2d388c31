"""A Modbus TCP port through pymodbus whose datastore is live: every request reads the device model
at that moment, writes go to the model, and a device can stop answering altogether.

The device side is a small :class:`RegisterBank`; this module maps it onto pymodbus's
``SimDevice`` datastore (the 3.x API that replaces the deprecated ``ModbusDeviceContext``):
an access ``action`` refreshes the addressed table from :meth:`RegisterBank.snapshot`
before each read and hands each write to :meth:`RegisterBank.write`. While
:meth:`RegisterBank.answering` is false, requests are taken off the wire and dropped, so
clients time out exactly as with a dead management card.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from workbench.errors import TransportError

log = logging.getLogger(__name__)


class Table(StrEnum):
    """The four Modbus tables."""

    COILS = "c"
    DISCRETE = "d"
    HOLDING = "h"
    INPUT = "i"


_TABLE_OF_FUNCTION = {1: Table.COILS, 5: Table.COILS, 15: Table.COILS, 2: Table.DISCRETE}
_TABLE_OF_FUNCTION.update({4: Table.INPUT})
_TABLE_OF_FUNCTION.update({fc: Table.HOLDING for fc in (3, 6, 16, 22, 23)})
_READS = {1, 2, 3, 4, 23}

ILLEGAL_FUNCTION = int(ExcCodes.ILLEGAL_FUNCTION)
ILLEGAL_ADDRESS = int(ExcCodes.ILLEGAL_ADDRESS)
ILLEGAL_VALUE = int(ExcCodes.ILLEGAL_VALUE)


class RegisterBank(Protocol):
    """What a device shows on Modbus: table sizes, a live snapshot, writes, and whether it answers."""

    sizes: dict[Table, int]
    """How many addresses each table has from 0 (0 or absent: the table does not exist, and
    requests for it get exception 0x01, illegal function)."""

    def snapshot(self, table: Table) -> Sequence[int] | Sequence[bool]:
        """The current values of a whole table (``sizes[table]`` long)."""
        ...

    def write(self, address: int, values: Sequence[int]) -> int | None:
        """Write holding registers; return a Modbus exception code to refuse, None to accept."""
        ...

    def answering(self) -> bool:
        """False while the device's management link is down (requests are dropped)."""
        ...


def _pack_bits(bits: Sequence[bool]) -> list[int]:
    """Bits to 16-bit words, bit 0 first, as pymodbus stores discrete inputs and coils."""
    words = [0] * ((len(bits) + 15) // 16)
    for i, bit in enumerate(bits):
        if bit:
            words[i // 16] |= 1 << (i % 16)
    return words


class ModbusPort:
    """A Modbus TCP server for one :class:`RegisterBank`, on ``host:port`` (port 0: ephemeral).

    Any unit id is answered (Modbus TCP devices on their own IP address usually ignore it).
    """

    kind = "modbus"

    def __init__(
        self, bank: RegisterBank, host: str = "127.0.0.1", port: int = 0, name: str = "modbus"
    ) -> None:
        self.bank = bank
        self.host = host
        self.port = port
        self.name = name
        self.dropped = 0
        """Requests taken off the wire unanswered while the bank was not answering."""
        self._server: ModbusTcpServer | None = None

    @property
    def endpoint(self) -> str:
        """``host:port`` as clients should dial it."""
        return f"{self.host}:{self.port}"

    def _device(self) -> SimDevice:
        sizes = self.bank.sizes
        bits = DataType.BITS
        regs = DataType.REGISTERS

        def block(table: Table) -> list[SimData]:
            count = max(1, sizes.get(table, 0))  # pymodbus needs one; an empty table refuses all
            if table in (Table.COILS, Table.DISCRETE):
                return [SimData(0, count=count, values=False, datatype=bits)]
            return [SimData(0, count=count, values=0, datatype=regs)]

        return SimDevice(
            id=0,
            simdata=(
                block(Table.COILS),
                block(Table.DISCRETE),
                block(Table.HOLDING),
                block(Table.INPUT),
            ),
            action=self._action,
        )

    async def _action(
        self,
        function_code: int,
        _start: int,
        address: int,
        _count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Called by pymodbus on each access after its own range check."""
        table = _TABLE_OF_FUNCTION.get(function_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if self.bank.sizes.get(table, 0) == 0:
            return ExcCodes.ILLEGAL_FUNCTION  # the device has no such table
        if set_values is not None:
            if table is not Table.HOLDING:
                return ExcCodes.ILLEGAL_FUNCTION
            code = self.bank.write(address, [int(v) for v in set_values])
            return ExcCodes(code) if code else None
        if function_code not in _READS:
            return None  # the read-back after a single write echoes what was written
        values = self.bank.snapshot(table)
        words = (
            _pack_bits([bool(v) for v in values])
            if table in (Table.COILS, Table.DISCRETE)
            else [int(v) & 0xFFFF for v in values]
        )
        registers[: len(words)] = words
        return None

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if sending or self.bank.answering():
            return pdu
        self.dropped += 1
        log.debug("%s: dropped request fc=%s (not answering)", self.name, pdu.function_code)
        none: Any = None  # pymodbus skips a request whose traced PDU is None
        return none

    async def start(self) -> None:
        """Bind and start serving."""
        self._server = ModbusTcpServer(
            self._device(), address=(self.host, self.port), trace_pdu=self._trace_pdu
        )
        try:
            await self._server.serve_forever(background=True)
        except (OSError, RuntimeError) as exc:
            self._server = None
            raise TransportError(f"{self.name}: cannot listen on {self.endpoint}: {exc}") from None
        transport: Any = self._server.transport
        self.port = transport.sockets[0].getsockname()[1]
        log.info("%s serving Modbus TCP on %s", self.name, self.endpoint)

    async def close(self) -> None:
        """Stop serving and drop connections."""
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def __aenter__(self) -> ModbusPort:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
