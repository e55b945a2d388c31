"""The live Modbus TCP port: every read sees the bank as it is now, writes reach the bank, sizes
bound the map, and a bank that stops answering makes clients time out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from devices.transports import Port
from devices.transports.modbus import ILLEGAL_VALUE, ModbusPort, Table


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
