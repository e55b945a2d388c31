"""Random bytes at every port of a live simulated kiosk, then a valid request to every device.

Used by ``tests/test_fuzz_kiosk.py`` (a few seconds a port kind) and ``bench/fuzz_bench.py`` (as
long as you like, with the process's RSS before and after). A port kind is what the endpoints
manifest calls it: ``serial`` (ptys), ``tcp`` (port 9100, the network echo), ``http`` and
``modbus``. Every port of a kind is fuzzed at once; the peer's replies are read and thrown away
(a fuzzer that never reads would only test the ports' backpressure). A connection the kiosk
closes is opened again.

A *flood* (:func:`flooding`) is one client in a process of its own writing random bytes at one
TCP port as fast as the kiosk takes them; :func:`modbus_latencies` times another port's requests
meanwhile (``tests/devices/transports/test_pacing.py``, ``bench/ports_bench.py --flood``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

from remote.diagnostics import registry
from remote.diagnostics.base import Result
from remote.diagnostics.links import SerialLink, TcpLink
from remote.diagnostics.print_head import EscPosHost
from workbench.errors import WorkbenchError

KINDS = ("serial", "tcp", "http", "modbus")
CHUNK = 512


def ports(manifest: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Port kind -> [(device, address)] from an endpoints manifest."""
    out: dict[str, list[tuple[str, str]]] = {}
    for device, ends in manifest["devices"].items():
        for kind, address in ends.items():
            out.setdefault(kind, []).append((device, str(address)))
    return out


async def _fuzz_pty(path: str, until: float, rng: random.Random) -> int:
    loop = asyncio.get_running_loop()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    sent = 0
    try:
        while loop.time() < until:
            try:
                sent += os.write(fd, rng.randbytes(rng.randint(1, CHUNK)))
            except BlockingIOError:
                pass
            try:
                while os.read(fd, 65536):
                    pass
            except (BlockingIOError, OSError):
                pass
            await asyncio.sleep(0)
    finally:
        os.close(fd)
    return sent


async def _discard(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def _fuzz_stream(address: str, until: float, rng: random.Random) -> int:
    loop = asyncio.get_running_loop()
    host, _, port = address.rpartition(":")
    sent = 0
    while loop.time() < until:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            await asyncio.sleep(0.01)
            continue

        drain = asyncio.create_task(_discard(reader))
        try:
            while loop.time() < until and not drain.done():
                writer.write(rng.randbytes(rng.randint(1, CHUNK)))
                await asyncio.wait_for(writer.drain(), max(0.01, until - loop.time()))
                sent += CHUNK
        except (OSError, TimeoutError):
            pass  # the kiosk hung up, or will not take more: open a new connection
        finally:
            drain.cancel()
            writer.close()
            await asyncio.gather(drain, return_exceptions=True)
    return sent


async def fuzz(
    manifest: Mapping[str, Any], kind: str, seconds: float, rng: random.Random
) -> dict[str, int]:
    """Random bytes at every port of ``kind`` for ``seconds``; bytes sent per device."""
    until = asyncio.get_running_loop().time() + seconds
    targets = ports(manifest).get(kind, [])
    runs = [
        _fuzz_pty(address, until, random.Random(rng.random()))
        if kind == "serial"
        else _fuzz_stream(address, until, random.Random(rng.random()))
        for _, address in targets
    ]
    sent = await asyncio.gather(*runs)
    return {device: n for (device, _), n in zip(targets, sent, strict=True)}


async def answers(manifest: Mapping[str, Any], timeout_s: float = 2.0) -> list[str]:
    """One valid request to every device; what did not answer (an empty list when all did).

    Each checklist item's status reads (the ``quick`` suite) for every device but the printer,
    whose parser may rightly sit inside a block the noise announced (an Epson printer waits for
    a ``GS ( k`` block's 60,000 bytes too): for it, ``DLE EOT 1..4`` on each of its ports, which
    a printer answers whatever it is in the middle of."""
    names = [n for n, t in registry.diagnostics().items() if t.device != "printer"]

    def silent(results: list[Result]) -> list[Result]:
        return [
            r
            for r in results
            if "does not answer" in (r.detail or "") or (r.status == "fail" and not r.measurements)
        ]

    # The first request comes right behind the noise, and may land inside a packet the noise
    # opened (0x0A 0x40 announces 64 bytes to the touch controller): the device takes it as
    # that packet's bytes, as a real one does. A host that gets no answer sends again, as kiosk
    # software does, after its time-out; by then the device has dropped the open packet (200 ms
    # of silence) and answers. Once is enough: the ports no longer sit on seconds of noise.
    first = silent(await registry.run(names, manifest, timeout_s=timeout_s))
    again = []
    if first:
        again = silent(await registry.run([r.test for r in first], manifest, timeout_s=timeout_s))
    quiet = [f"{r.test}: {r.detail}" for r in again]
    for kind, address in manifest["devices"].get("printer", {}).items():
        link = SerialLink(address) if kind == "serial" else TcpLink(address)
        try:
            async with link:
                host = EscPosHost(link, timeout_s)
                for n in (1, 2, 3, 4):
                    await host.realtime(n)
        except (WorkbenchError, OSError) as exc:
            quiet.append(f"printer {kind}: DLE EOT not answered: {exc}")
    return quiet


GC_WATCH = """
import atexit, gc, json, os, runpy, time
pauses, began = [], [0.0]
def watch(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        pauses.append((began[0], time.perf_counter() - began[0], info["generation"]))
gc.callbacks.append(watch)
atexit.register(lambda: open(os.environ["WB_GC_LOG"], "w").write(json.dumps(pauses)))
runpy.run_module("workbench.cli", run_name="__main__", alter_sys=True)
"""
"""``python -m workbench.cli`` that writes each garbage collection it made (when it started, on
``time.perf_counter``, its seconds and generation) as JSON to ``$WB_GC_LOG`` at exit."""


@asynccontextmanager
async def kiosk_up(
    state: Path,
    terminal: str,
    speed: float = 10.0,
    env: Mapping[str, str] | None = None,
    gc_log: Path | None = None,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, Any]]]:
    """A ``bill_payment`` kiosk in a process of its own (``workbench kiosk up``) and its endpoints
    manifest; its log goes to ``STATE/kiosk.log`` (a pipe nobody reads would fill up and stop the
    kiosk at its next log line: the fuzz makes the ports log a warning per refused connection).
    ``env`` is added to its environment; with ``gc_log`` its garbage collections are written
    there when it exits (:data:`GC_WATCH`)."""
    run = ("-c", GC_WATCH) if gc_log is not None else ("-m", "workbench.cli")
    extra = {**(env or {}), **({"WB_GC_LOG": str(gc_log)} if gc_log is not None else {})}
    with open(state / "kiosk.log", "wb") as kiosk_log:
        kiosk = await asyncio.create_subprocess_exec(
            sys.executable,
            *(*run, "kiosk", "up", "--state-dir", str(state)),
            *("--speed", str(speed), "--id", terminal),
            stdout=asyncio.subprocess.PIPE,
            stderr=kiosk_log,
            env={**os.environ, **extra},
        )
        assert kiosk.stdout is not None
        try:
            while b"kiosk(s) up" not in (line := await kiosk.stdout.readline()):
                if not line:
                    raise RuntimeError(f"the kiosk did not start; see {state / 'kiosk.log'}")
            yield kiosk, json.loads((state / terminal / "endpoints.json").read_text())
        finally:
            if kiosk.returncode is None:
                kiosk.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(kiosk.wait(), 10)
                except TimeoutError:
                    kiosk.kill()
                    await kiosk.wait()


FLOODER = """
import random, signal, socket, sys
host, port, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent = 0
def stop(*_):
    print(sent, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
conn = socket.create_connection((host, port))
noise = random.Random(seed).randbytes(1 << 20)
while True:
    for start in range(0, len(noise), 65536):
        conn.sendall(noise[start : start + 65536])
        sent += 65536
        if sent == 1 << 20:
            print("flooding", flush=True)
"""
"""A client that writes random bytes (1 MiB of them, over and over) at ``host port`` as fast as
the peer takes them; it says ``flooding`` after its first MiB, and how many bytes it sent when
it is terminated."""


class Flood:
    """A running :data:`FLOODER` process; :attr:`sent` is known once the flood is over."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.sent = 0

    @property
    def running(self) -> bool:
        """Whether the flooder is still writing."""
        return self.process.returncode is None


@asynccontextmanager
async def flooding(address: str, seed: int = 0) -> AsyncIterator[Flood]:
    """Flood the TCP port at ``address`` from a process of its own until the block ends; the block
    starts once the first MiB is sent."""
    host, _, port = address.rpartition(":")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-c", FLOODER, host, port, str(seed)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    flood = Flood(process)
    try:
        if await process.stdout.readline() != b"flooding\n":
            raise RuntimeError(f"the flooder could not flood {address}")
        yield flood
    finally:
        if process.returncode is None:
            process.terminate()
        out, _ = await process.communicate()
        flood.sent = int(out) if out.strip().isdigit() else 0


async def modbus_latencies(
    address: str, count: int, pause_s: float = 0.01, within_s: float = 15.0
) -> list[float]:
    """Seconds each of ``count`` Modbus reads (input registers 0..3) took to be answered, one
    every ``pause_s`` seconds (fewer when ``within_s`` seconds pass first)."""
    until = time.perf_counter() + within_s
    host, _, port = address.rpartition(":")
    client = AsyncModbusTcpClient(host, port=int(port), timeout=30, retries=0)
    await client.connect()
    times = []
    try:
        for _ in range(count):
            if time.perf_counter() > until:
                break
            started = time.perf_counter()
            reply = await client.read_input_registers(0, count=4)
            times.append(time.perf_counter() - started)
            if reply.isError():
                raise RuntimeError(f"Modbus read at {address} refused: {reply}")
            await asyncio.sleep(pause_s)
    finally:
        client.close()
    return times
