"""Benchmark of the TCP ports' wire layer, each against a baseline in the same run (the best of
``--repeats`` runs of each, baseline and port alternating).

- Raw TCP: median round trip of a 5-byte echo through :class:`TcpPort` (the wired protocol and
  a clean wire) against a bare ``asyncio.start_server`` echo.
- Modbus TCP: median ``read_input_registers(0, 4)`` round trip from pymodbus's client through
  :class:`ModbusPort` (its own framing and checks, pymodbus decoding and datastore) against
  pymodbus's own ``ModbusTcpServer`` on the same ``SimDevice``.
- Raw TCP throughput: MiB/s a client pushes through a :class:`TcpPort` whose session answers
  nothing, against the bare server.
- Another port during a flood: Modbus read round trips to the UPS of a ``bill_payment`` kiosk in
  a process of its own (``workbench kiosk up``) while a client floods its printer's port 9100
  with random bytes, against the same reads on the idle kiosk just before (median, 90th
  percentile, worst), and the MiB/s of noise the kiosk took meanwhile.

    .venv/bin/python bench/ports_bench.py [--rounds 3000] [--mib 64] [--flood-reads 300]
        [--gc-freeze on|off|both] [--flood-only]

With ``--gc-freeze both`` the flood runs ``--repeats`` times with the kiosk's start-up frozen out
of the garbage collector and as many without, alternating, and reports the kiosk's own
collections during the flood (full ones apart) beside the reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import port_fuzz
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer

from devices.transports.modbus import ModbusPort, Table
from devices.transports.tcp import TcpPort

MIB = 1 << 20


class Echo:
    def feed(self, data: bytes) -> bytes:
        return data


class Sink:
    def feed(self, data: bytes) -> bytes:
        return b""


class Bank:
    sizes = {Table.INPUT: 4}

    def snapshot(self, table: Table) -> Sequence[int]:
        return [1, 2, 3, 4]

    def write(self, address: int, values: Sequence[int]) -> int | None:
        return None

    def answering(self) -> bool:
        return True


async def median_us(rounds: int, once: Callable[[], Awaitable[None]]) -> float:
    for _ in range(50):
        await once()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await once()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1e6, 1)


async def echo_rtt(port: int, rounds: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def once() -> None:
        writer.write(b"hello")
        await reader.readexactly(5)

    try:
        return await median_us(rounds, once)
    finally:
        writer.close()


async def push(port: int, mib: int) -> float:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk = b"x" * 65536
    t0 = time.perf_counter()
    for _ in range(mib * MIB // len(chunk)):
        writer.write(chunk)
        await writer.drain()
    writer.write_eof()
    await writer.drain()
    seconds = time.perf_counter() - t0
    writer.close()
    return round(mib / seconds, 1)


async def bare(answer: bool) -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if answer:
                writer.write(data)
                await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def modbus_rtt(port: int, rounds: int) -> float:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await client.connect()

    async def once() -> None:
        rr = await client.read_input_registers(0, count=4)
        assert rr.registers == [1, 2, 3, 4], rr

    try:
        return await median_us(rounds, once)
    finally:
        client.close()


async def bare_echo_rtt(rounds: int) -> float:
    server = await bare(answer=True)
    try:
        return await echo_rtt(server.sockets[0].getsockname()[1], rounds)
    finally:
        server.close()


async def port_echo_rtt(rounds: int) -> float:
    async with TcpPort(Echo) as tcp:
        return await echo_rtt(tcp.port, rounds)


async def bare_push(mib: int) -> float:
    server = await bare(answer=False)
    try:
        return await push(server.sockets[0].getsockname()[1], mib)
    finally:
        server.close()


async def port_push(mib: int) -> float:
    async with TcpPort(Sink) as tcp:
        return await push(tcp.port, mib)


async def pymodbus_read_rtt(rounds: int) -> float:
    reference = ModbusTcpServer(ModbusPort(Bank())._device(), address=("127.0.0.1", 0))
    await reference.serve_forever(background=True)
    transport: asyncio.Server = reference.transport  # type: ignore[assignment]
    try:
        return await modbus_rtt(transport.sockets[0].getsockname()[1], rounds)
    finally:
        await reference.shutdown()


async def port_read_rtt(rounds: int) -> float:
    async with ModbusPort(Bank()) as port:
        return await modbus_rtt(port.port, rounds)


def spread_ms(times: list[float]) -> dict[str, float]:
    """Median, 90th percentile and worst of round trips, in ms."""
    ordered = sorted(times)
    return {
        "median": round(statistics.median(ordered) * 1e3, 2),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))] * 1e3, 2),
        "max": round(ordered[-1] * 1e3, 1),
    }


async def during_flood(reads: int, freeze: bool = True) -> dict[str, dict[str, float]]:
    """UPS Modbus reads on an idle kiosk, then while its printer's port 9100 is flooded; the
    kiosk's garbage collections during the flood (full ones apart: the longest pauses). With
    ``freeze`` False the kiosk leaves its start-up objects to the collector
    (``WORKBENCH_GC_FREEZE=0``)."""
    env = {"WORKBENCH_GC_FREEZE": "1" if freeze else "0"}
    with tempfile.TemporaryDirectory(prefix="wb-flood-", dir="/tmp") as d:
        gc_log = Path(d) / "gc.json"
        async with port_fuzz.kiosk_up(Path(d), "KSK-FLOOD", 1.0, env, gc_log) as (_, manifest):
            devices = manifest["devices"]
            ups = devices["ups"]["modbus"]
            idle = await port_fuzz.modbus_latencies(ups, reads, within_s=120)
            started = time.perf_counter()
            async with port_fuzz.flooding(devices["printer"]["tcp"]) as flood:
                loaded = await port_fuzz.modbus_latencies(ups, reads, within_s=120)
                running = flood.running
            ended = time.perf_counter()
        collections = [p for p in json.loads(gc_log.read_text()) if started <= p[0] <= ended]
    if not running:
        raise RuntimeError("the flood ended before the reads did")
    idle_ms, flood_ms = spread_ms(idle), spread_ms(loaded)
    full = [seconds for _, seconds, generation in collections if generation == 2]
    return {
        "modbus_read_during_9100_flood_ms": {
            **{f"idle_{k}": v for k, v in idle_ms.items()},
            **{f"flood_{k}": v for k, v in flood_ms.items()},
            "ratio_median": round(flood_ms["median"] / idle_ms["median"], 1),
            "flood_reads_over_50ms": sum(t > 0.05 for t in loaded),
        },
        "kiosk_gc_during_flood": {
            "collections": len(collections),
            "full": len(full),
            "full_max_ms": round(max(full, default=0.0) * 1e3, 1),
            "full_total_ms": round(sum(full) * 1e3, 1),
            "max_ms": round(max((p[1] for p in collections), default=0.0) * 1e3, 1),
        },
        "flood_taken_mib_s": {"mib_s": round(flood.sent / MIB / (ended - started), 2)},
    }


async def flood_gc(reads: int, repeats: int) -> dict[str, dict[str, float]]:
    """:func:`during_flood` with the kiosk's start-up frozen out of the collector and without,
    alternating; the best median and p90 of each, and the worst max (a pause is what it is)."""
    runs: dict[bool, list[dict[str, dict[str, float]]]] = {True: [], False: []}
    for _ in range(repeats):
        for freeze in (False, True):
            runs[freeze].append(await during_flood(reads, freeze))
    out: dict[str, dict[str, float]] = {}
    for freeze, label in ((False, "no_gc_freeze"), (True, "gc_freeze")):
        reads_ms = [r["modbus_read_during_9100_flood_ms"] for r in runs[freeze]]
        gcs = [r["kiosk_gc_during_flood"] for r in runs[freeze]]
        out[f"flood_{label}"] = {
            "read_median_ms": min(r["flood_median"] for r in reads_ms),
            "read_p90_ms": min(r["flood_p90"] for r in reads_ms),
            "read_max_ms": max(r["flood_max"] for r in reads_ms),
            "reads_over_50ms": sum(r["flood_reads_over_50ms"] for r in reads_ms),
            "full_collections": sum(g["full"] for g in gcs),
            "full_max_ms": max(g["full_max_ms"] for g in gcs),
            "full_total_ms": round(sum(g["full_total_ms"] for g in gcs), 1),
            "gc_max_ms": max(g["max_ms"] for g in gcs),
            "mib_s": min(r["flood_taken_mib_s"]["mib_s"] for r in runs[freeze]),
        }
    return out


async def main(rounds: int, mib: int, repeats: int) -> dict[str, dict[str, float]]:
    """Each figure is the best of ``repeats`` runs, baseline and port alternating."""
    pairs: dict[str, tuple[str, Callable[[], Awaitable[float]], Callable[[], Awaitable[float]]]]
    pairs = {
        "tcp_echo_rtt_us": (
            "bare asyncio",
            lambda: bare_echo_rtt(rounds),
            lambda: port_echo_rtt(rounds),
        ),
        "tcp_push_mib_s": ("bare asyncio", lambda: bare_push(mib), lambda: port_push(mib)),
        "modbus_read_rtt_us": (
            "pymodbus ModbusTcpServer",
            lambda: pymodbus_read_rtt(rounds),
            lambda: port_read_rtt(rounds),
        ),
    }
    out: dict[str, dict[str, float]] = {}
    for name, (baseline, base_fn, port_fn) in pairs.items():
        low = name.endswith("_us")
        base_runs, port_runs = [], []
        for _ in range(repeats):
            base_runs.append(await base_fn())
            port_runs.append(await port_fn())
        b = min(base_runs) if low else max(base_runs)
        p = min(port_runs) if low else max(port_runs)
        out[name] = {baseline: b, "port": p, "ratio": round(p / b, 2)}
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--flood-reads",
        type=int,
        default=300,
        help="Modbus reads idle and during the flood (0: skip)",
    )
    parser.add_argument(
        "--gc-freeze",
        choices=["on", "off", "both"],
        default="on",
        help="The flooded kiosk freezes its start-up out of the garbage collector (on, as "
        "`kiosk up` does), or not (off), or both alternating --repeats times each (both)",
    )
    parser.add_argument("--flood-only", action="store_true", help="Skip the port figures.")
    args = parser.parse_args()
    figures = {} if args.flood_only else asyncio.run(main(args.rounds, args.mib, args.repeats))
    if args.flood_reads and args.gc_freeze == "both":
        figures |= asyncio.run(flood_gc(args.flood_reads, args.repeats))
    elif args.flood_reads:
        figures |= asyncio.run(during_flood(args.flood_reads, args.gc_freeze == "on"))
    print(json.dumps(figures, indent=2))
