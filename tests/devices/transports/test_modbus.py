"""The live Modbus TCP port: every read sees the bank as it is now, writes reach the bank, sizes
bound the map, and a bank that stops answering makes clients time out."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import AsyncIterator, Sequence

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from devices.transports import Port
from devices.transports.modbus import ILLEGAL_ADDRESS, ILLEGAL_VALUE, ModbusPort, Table


class Bank:
    sizes = {Table.DISCRETE: 20, Table.HOLDING: 3, Table.INPUT: 4}

    def __init__(self) -> None:
        self.inputs = [1, 2, 3, 4]
        self.bits = [False] * 20
        self.holding = [0, 0, 0]
        self.writes: list[tuple[int, list[int]]] = []
        self.up = True

    def snapshot(self, table: Table) -> Sequence[int] | Sequence[bool]:
        return {Table.INPUT: self.inputs, Table.DISCRETE: self.bits, Table.HOLDING: self.holding}[
            table
        ]

    def write(self, address: int, values: Sequence[int]) -> int | None:
        self.writes.append((address, list(values)))
        if any(v > 100 for v in values):
            return ILLEGAL_VALUE
        self.holding[address : address + len(values)] = values
        return None

    def answering(self) -> bool:
        return self.up


@pytest.fixture
async def served() -> AsyncIterator[tuple[Bank, ModbusPort, AsyncModbusTcpClient]]:
    bank = Bank()
    async with ModbusPort(bank) as port:
        client = AsyncModbusTcpClient("127.0.0.1", port=port.port, timeout=0.3, retries=0)
        assert await client.connect()
        yield bank, port, client
        client.close()


@pytest.mark.timeout(10)
async def test_reads_are_live(served: tuple[Bank, ModbusPort, AsyncModbusTcpClient]) -> None:
    bank, port, client = served
    assert port.endpoint == f"127.0.0.1:{port.port}" and port.port > 0
    assert (await client.read_input_registers(0, count=4)).registers == [1, 2, 3, 4]
    bank.inputs[2] = 4321
    assert (await client.read_input_registers(2, count=1)).registers == [4321]
    bank.bits[17] = True
    assert (await client.read_discrete_inputs(16, count=4)).bits[:4] == [False, True, False, False]


@pytest.mark.timeout(10)
async def test_writes_reach_the_bank(served: tuple[Bank, ModbusPort, AsyncModbusTcpClient]) -> None:
    bank, _, client = served
    rr = await client.write_register(1, 42)
    assert not rr.isError() and rr.registers == [42]
    assert not (await client.write_registers(0, [7, 8])).isError()
    assert (await client.read_holding_registers(0, count=3)).registers == [7, 8, 0]
    rr = await client.write_register(2, 500)
    assert rr.isError() and rr.exception_code == ILLEGAL_VALUE
    assert bank.writes == [(1, [42]), (0, [7, 8]), (2, [500])]


@pytest.mark.timeout(10)
async def test_the_map_is_bounded(served: tuple[Bank, ModbusPort, AsyncModbusTcpClient]) -> None:
    _, _, client = served
    for rr in (
        await client.read_input_registers(4, count=1),
        await client.read_input_registers(3, count=2),
        await client.read_holding_registers(3, count=1),
        await client.read_discrete_inputs(32, count=1),
        await client.write_register(9, 1),
    ):
        assert rr.isError() and rr.exception_code == 0x02, rr
    rr = await client.read_coils(0, count=1)
    assert rr.isError() and rr.exception_code == 0x01


class ReadOnlyFirst(Bank):
    """Holding register 0 is read-only: a write to it is refused with exception 02."""

    def write(self, address: int, values: Sequence[int]) -> int | None:
        return ILLEGAL_ADDRESS if address == 0 else super().write(address, values)


@pytest.mark.timeout(10)
async def test_every_request_refused_for_its_address_is_told_what_it_tried_where() -> None:
    told: list[tuple[str, int, int, int]] = []
    async with ModbusPort(
        ReadOnlyFirst(), on_out_of_map=lambda *refused: told.append(refused)
    ) as port:
        client = AsyncModbusTcpClient("127.0.0.1", port=port.port, timeout=1, retries=0)
        assert await client.connect()
        try:
            answers = [
                await client.read_input_registers(3, count=2),
                await client.write_register(9, 1),  # 6: past the 3 holding registers
                await client.write_registers(2, [1, 2]),  # 16: 2 and 3, and 3 is past the end
                await client.write_register(0, 1),  # 6: inside the map, but read-only
                await client.mask_write_register(address=5, and_mask=0, or_mask=1),  # 22
                await client.readwrite_registers(
                    read_address=0, read_count=4, write_address=1, values=[1]
                ),  # 23: its read part is past the end
                await client.readwrite_registers(
                    read_address=0, read_count=1, write_address=2, values=[1, 2]
                ),  # 23: its write part is
                await client.write_registers(1, [5, 6]),  # accepted: not told
                await client.write_coil(0, True),  # no coils at all: exception 01, not told
            ]
        finally:
            client.close()
    codes = [rr.exception_code if rr.isError() else None for rr in answers]
    assert codes == [2, 2, 2, 2, 2, 2, 2, None, 1]
    assert told == [
        ("modbus_read_outside_the_map", 4, 3, 2),
        ("modbus_write_outside_the_map", 6, 9, 1),
        ("modbus_write_outside_the_map", 16, 2, 2),
        ("modbus_write_to_a_read_only_register", 6, 0, 1),
        ("modbus_write_outside_the_map", 22, 5, 1),
        ("modbus_read_outside_the_map", 23, 0, 4),
        ("modbus_write_outside_the_map", 23, 2, 2),
    ]


@pytest.mark.timeout(10)
async def test_a_silent_bank_times_clients_out(
    served: tuple[Bank, ModbusPort, AsyncModbusTcpClient],
) -> None:
    bank, port, client = served
    bank.up = False
    with pytest.raises(ModbusIOException):
        await client.read_input_registers(0, count=1)
    assert port.dropped == 1
    bank.up = True
    assert (await client.read_input_registers(0, count=1)).registers == [1]


@pytest.mark.timeout(10)
async def test_closed_port_refuses_connections() -> None:
    port: Port = ModbusPort(Bank())
    await port.start()
    host, number = port.endpoint.split(":")
    await port.close()
    with pytest.raises(OSError):
        await asyncio.open_connection(host, int(number))


# -- frames a client library would never send, over a raw socket ------------------------------
def adu(tid: int, pdu: bytes, *, protocol: int = 0, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid, protocol, len(pdu) + 1, unit) + pdu


async def reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(transaction id, PDU) of the next reply; fails the test if none comes within 2 s."""
    head = await asyncio.wait_for(reader.readexactly(7), 2.0)
    tid, protocol, length, _ = struct.unpack(">HHHB", head)
    assert protocol == 0
    return tid, await asyncio.wait_for(reader.readexactly(length - 1), 2.0)


VALID = bytes([4, 0, 0, 0, 2])  # read input registers 0..1
VALID_REPLY = bytes([4, 4, 0, 1, 0, 2])


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("name", "pdu", "answer"),
    [
        ("read input quantity 0", bytes([4, 0, 0, 0, 0]), bytes([0x84, 3])),
        ("read input quantity 126", bytes([4, 0, 0, 0, 126]), bytes([0x84, 3])),
        ("read holding quantity 126", bytes([3, 0, 0, 0, 126]), bytes([0x83, 3])),
        ("read discrete quantity 2001", bytes([2, 0, 0, 0x07, 0xD1]), bytes([0x82, 3])),
        ("unknown function 0x41", bytes([0x41, 0, 0, 0, 1]), bytes([0xC1, 1])),
        ("a table the device lacks (coils)", bytes([1, 0, 0, 0, 1]), bytes([0x81, 1])),
        ("short read", bytes([4, 0, 0]), bytes([0x84, 3])),
        ("function code alone", bytes([3]), bytes([0x83, 3])),
        ("long read", bytes([4, 0, 0, 0, 1, 9]), bytes([0x84, 3])),
        ("write multiple, byte count wrong", bytes([16, 0, 0, 0, 1, 4, 0, 7]), bytes([0x90, 3])),
        ("write multiple, data short", bytes([16, 0, 0, 0, 2, 4, 0, 7]), bytes([0x90, 3])),
        ("address past the map", bytes([4, 0, 4, 0, 1]), bytes([0x84, 2])),
    ],
)
async def test_bad_requests_get_the_spec_exception_and_the_connection_goes_on(
    name: str, pdu: bytes, answer: bytes
) -> None:
    bank = Bank()
    bank.inputs = [1, 2, 3, 4]
    async with ModbusPort(bank) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(adu(7, pdu))
        assert await reply(reader) == (7, answer), name
        writer.write(adu(8, VALID))
        assert await reply(reader) == (8, VALID_REPLY)
        writer.close()


@pytest.mark.timeout(10)
async def test_a_frame_that_is_not_modbus_is_discarded_and_the_next_request_answered() -> None:
    # pymodbus's own server never consumed it: every later request went unanswered
    async with ModbusPort(Bank()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(adu(1, VALID, protocol=1) + adu(2, VALID))
        assert await reply(reader) == (2, VALID_REPLY)  # the protocol-1 frame got nothing
        writer.write(adu(3, VALID, protocol=0xFFFF))
        writer.write(adu(4, VALID))
        assert await reply(reader) == (4, VALID_REPLY)
        assert port.bad_frames == 2
        writer.close()


@pytest.mark.timeout(10)
@pytest.mark.parametrize("length", [0, 1, 255, 0xFFFF])
async def test_a_frame_that_cannot_be_followed_closes_its_connection_only(length: int) -> None:
    async with ModbusPort(Bank()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(struct.pack(">HHHB", 1, 0, length, 1) + VALID)
        assert await asyncio.wait_for(reader.read(), 2.0) == b""  # closed, nothing answered
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        writer.write(adu(2, VALID))
        assert await reply(reader) == (2, VALID_REPLY)
        writer.close()


@pytest.mark.timeout(10)
async def test_pymodbus_client_reads_on_after_a_bad_frame_on_another_connection(
    served: tuple[Bank, ModbusPort, AsyncModbusTcpClient],
) -> None:
    _, port, client = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
    writer.write(adu(1, bytes([0x41]), protocol=5) + adu(2, bytes([0x41])))
    assert await reply(reader) == (2, bytes([0xC1, 1]))
    assert (await client.read_input_registers(0, count=4)).registers == [1, 2, 3, 4]
    writer.close()


@pytest.mark.timeout(20)
async def test_random_requests_each_get_one_reply_with_their_function_code() -> None:
    rng = random.Random(9)
    async with ModbusPort(Bank()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.port)
        for tid in range(300):
            function = rng.choice([1, 2, 3, 4, 5, 6, 15, 16, 22, 23, 0x2B, rng.randrange(256)])
            pdu = bytes([function]) + rng.randbytes(rng.randrange(0, 12))
            writer.write(adu(tid, pdu))
            got_tid, answer = await reply(reader)
            assert got_tid == tid and answer[0] & 0x7F == function & 0x7F, (pdu, answer)
            if answer[0] & 0x80:
                assert len(answer) == 2 and answer[1] in (1, 2, 3), (pdu, answer)
        writer.write(adu(1000, VALID))
        assert await reply(reader) == (1000, VALID_REPLY)
        writer.close()
