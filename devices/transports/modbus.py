"""A Modbus TCP port whose datastore is live: every request reads the device model at that
moment, writes go to the model, and a device can stop answering altogether.

The device side is a small :class:`RegisterBank`; this module maps it onto pymodbus's
``SimDevice`` datastore (the 3.x API that replaces the deprecated ``ModbusDeviceContext``):
an access ``action`` refreshes the addressed table from :meth:`RegisterBank.snapshot`
before each read and hands each write to :meth:`RegisterBank.write`. While
:meth:`RegisterBank.answering` is false, requests are taken off the wire and dropped, so
clients time out exactly as with a dead management card. In live time the port brings the
device up to the clock before each request and wakes the clock after.

The socket side is a :class:`~devices.transports.listener.Listener` (so it carries the device's
wire faults and a bounded backlog, like every port) that frames requests itself and checks
them as the spec says (:mod:`devices.protocols.modbus_tcp`) before pymodbus decodes and runs
them: pymodbus 3.16's own server never consumes a frame whose protocol id is not 0 (every
later request on that connection goes unanswered) and answers an undecodable request with
function 0x80 instead of the request's function | 0x80.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, Protocol

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerSocket
from pymodbus.pdu import DecodePDU
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simcore import SimCore

from devices.protocols import modbus_tcp as mbap
from devices.transports.listener import Listener
from devices.transports.pacing import Turn
from workbench.clock import VIRTUAL, Timebase

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
DEVICE_FAILURE = int(ExcCodes.DEVICE_FAILURE)


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


_WRITES = {5: Table.COILS, 6: Table.HOLDING, 15: Table.COILS, 16: Table.HOLDING}
_WRITES[22] = Table.HOLDING
_SINGLE = {5, 6, 22}
"""Writes of one coil or register: the PDU has an address and a value, no count."""

READ_OUTSIDE = "modbus_read_outside_the_map"
WRITE_OUTSIDE = "modbus_write_outside_the_map"
WRITE_READ_ONLY = "modbus_write_to_a_read_only_register"


def refused_address(
    pdu: bytes, reply: bytes, sizes: dict[Table, int]
) -> tuple[str, int, int] | None:
    """``(what, address, count)`` when ``reply`` refuses ``pdu`` with exception 02 (illegal data
    address): a read or write past the end of its table (:data:`READ_OUTSIDE`,
    :data:`WRITE_OUTSIDE`), or a write the device refused inside its map
    (:data:`WRITE_READ_ONLY`); None for any other reply. For READ/WRITE MULTIPLE (23) the part
    that is out of range is named (its read part first, as the spec checks it)."""
    fc = pdu[0]
    if reply[mbap.MBAP_SIZE : mbap.MBAP_SIZE + 2] != bytes([fc | 0x80, ILLEGAL_ADDRESS]):
        return None
    if fc == 23 and len(pdu) >= 9:
        read_at, reads, write_at, writes = struct.unpack_from(">HHHH", pdu, 1)
        size = sizes.get(Table.HOLDING, 0)
        if read_at + reads > size:
            return READ_OUTSIDE, read_at, reads
        return (WRITE_OUTSIDE if write_at + writes > size else WRITE_READ_ONLY), write_at, writes
    if fc in _READS and len(pdu) >= 5:
        address, count = struct.unpack_from(">HH", pdu, 1)
        return READ_OUTSIDE, address, count
    if fc in _WRITES and len(pdu) >= 5:
        address, count = struct.unpack_from(">HH", pdu, 1)
        count = 1 if fc in _SINGLE else count
        inside = address + count <= sizes.get(_WRITES[fc], 0)
        return (WRITE_READ_ONLY if inside else WRITE_OUTSIDE), address, count
    return None


class ModbusPort(Listener):
    """A Modbus TCP server for one :class:`RegisterBank`, on ``host:port`` (port 0: ephemeral).

    Any unit id is answered (Modbus TCP devices on their own IP address usually ignore it).
    """

    kind = "modbus"

    def __init__(
        self,
        bank: RegisterBank,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "modbus",
        clock: Timebase = VIRTUAL,
        on_out_of_map: Callable[[str, int, int, int], None] | None = None,
    ) -> None:
        super().__init__(host, port, name)
        self.bank = bank
        self.on_out_of_map = on_out_of_map
        """Told ``(what, function, address, count)`` of each request answered exception 02
        (illegal data address: a read or write outside the register map, or a write to a
        read-only register; see :func:`refused_address`); a device records it for strict
        mode."""
        self.clock = clock
        """Brings the model up to 'now' around each request (the device, or a clock)."""
        self.dropped = 0
        """Requests taken off the wire unanswered while the bank was not answering."""
        self.bad_frames = 0
        """Frames discarded (protocol id not 0) or that closed their connection (bad length)."""
        self._functions = frozenset(
            fc for fc, table in _TABLE_OF_FUNCTION.items() if bank.sizes.get(table, 0) > 0
        )
        self._decoder = DecodePDU(is_server=True)
        self._framer = FramerSocket(self._decoder)
        self._context: Any = SimCore(self._device())  # pymodbus types it as a server context

    async def __aenter__(self) -> ModbusPort:
        await self.start()
        return self

    # -- one connection ----------------------------------------------------------------------
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer framed requests in order; discard what is not Modbus, close on bad framing.
        A client that pipelines requests gives the loop up after each turn, like a flooded port."""
        turn = Turn()
        while True:
            await turn.pass_if_over()
            try:
                head = await reader.readexactly(mbap.MBAP_SIZE)
                header = mbap.Header.decode(head)
                if (error := header.framing_error()) is not None:
                    self.bad_frames += 1
                    self.record("in", head)
                    log.info(
                        "%s: %s; connection closed", self.name, error
                    )  # a client error, counted
                    return
                pdu = await reader.readexactly(header.pdu_size)
            except asyncio.IncompleteReadError:
                return
            self.record("in", head + pdu)
            if header.protocol != 0:
                self.bad_frames += 1
                log.debug("%s: discarded a frame with protocol id %d", self.name, header.protocol)
                continue
            with turn:
                self.clock.catch_up()
                try:
                    if not self.bank.answering():
                        self.dropped += 1
                        log.debug("%s: dropped request fc=%d (not answering)", self.name, pdu[0])
                        continue
                    reply = await self._answer(header, pdu)
                    if self.on_out_of_map is not None:
                        refused = refused_address(pdu, reply, self.bank.sizes)
                        if refused is not None:
                            what, address, count = refused
                            self.on_out_of_map(what, pdu[0], address, count)
                finally:
                    self.clock.wake()
            self.record("out", reply)
            writer.write(reply)
            await writer.drain()

    async def _answer(self, header: mbap.Header, pdu: bytes) -> bytes:
        """The framed reply to one request: checked as the spec orders it, then run by pymodbus
        against the live datastore."""
        tid, unit = header.transaction, header.unit
        code = mbap.check_request(pdu, self._functions)
        request = self._decoder.decode(pdu) if code is None else None
        if request is None:
            return mbap.frame(tid, unit, mbap.exception(pdu[0], code or ILLEGAL_VALUE))
        try:
            response = await request.datastore_update(self._context, unit)
        except Exception:
            log.exception("%s: request fc=%d failed", self.name, pdu[0])
            return mbap.frame(tid, unit, mbap.exception(pdu[0], DEVICE_FAILURE))
        response.transaction_id = tid
        response.dev_id = unit
        return self._framer.buildFrame(response)

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
