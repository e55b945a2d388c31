"""Benchmark of the simulated receipt printer over a pty, against a raw pty pipe in the same run.

- Throughput: bytes/s of receipt data (python-escpos output: text, barcode, QR, a 384x120
  image, cut) accepted and printed, for a mixed receipt and a text-only one, against a raw pty
  pipe (a thread that reads and discards) fed the same bytes.
- Latency: median ``DLE EOT 1`` round trip against a raw 1-byte echo round trip on a pty.

The host is a separate process (as kiosk software is) writing to the slave path with plain
``os.write``/``os.read``; the printer runs in live time under asyncio as in a running kiosk.

    .venv/bin/python bench/printer_bench.py [--mib 16] [--rounds 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simpy

from devices.catalog import default_catalog
from devices.printer import Printer, PrinterSettings
from devices.transports.pty import PtyPort
from workbench.clock import LiveClock

MIB = 1 << 20


def receipts(kind: str) -> bytes:
    """One receipt as python-escpos emits it."""
    from escpos.printer import Dummy
    from PIL import Image, ImageDraw

    d = Dummy()
    d.hw("INIT")
    d.set(align="center", bold=True, double_height=True)
    d.textln("ACME KIOSK")
    d.set(normal_textsize=True, bold=False, align="left")
    for i in range(30):
        d.textln(f"Item {i:02d} {'description':<22} {i * 1.25:8.2f}")
    d.set(align="right")
    d.textln("TOTAL  1234.56")
    if kind == "mixed":
        logo = Image.new("1", (384, 120), 1)
        ImageDraw.Draw(logo).rectangle((20, 20, 363, 99), fill=0)
        with contextlib.redirect_stdout(io.StringIO()):
            d.barcode("4006381333931", "EAN13")
            d.qr("https://example.com/r/0042", native=True)
            d.image(logo)
    d.cut()
    return bytes(d.output)


# -- the host side (a child process) ------------------------------------------------------------
def client(path: str, mode: str, size: int, rounds: int, kind: str) -> dict[str, Any]:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    try:
        if mode == "throughput":
            one = receipts(kind)
            data = one * max(1, size // len(one))
            view = memoryview(data)
            t0 = time.perf_counter()
            for i in range(0, len(data), 4096):
                os.write(fd, view[i : i + 4096])
            os.write(fd, b"\x10\x04\x01")
            reply = os.read(fd, 1)
            dt = time.perf_counter() - t0
            return {"bytes": len(data), "seconds": dt, "reply": reply.hex()}
        probe = b"\x10\x04\x01" if mode == "rtt" else b"\x01"
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter_ns()
            os.write(fd, probe)
            os.read(fd, 1)
            samples.append(time.perf_counter_ns() - t0)
        return {"median_us": statistics.median(samples) / 1000, "p99_us": _p99(samples) / 1000}
    finally:
        os.close(fd)


def _p99(samples: list[int]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def _client_cmd(path: str, mode: str, args: argparse.Namespace, kind: str = "mixed") -> list[str]:
    return [
        sys.executable, __file__, "--client", path, mode,
        "--mib", str(args.mib), "--rounds", str(args.rounds), "--kind", kind,
    ]  # fmt: skip


# -- the raw pty baseline --------------------------------------------------------------------------
def raw_run(mode: str, args: argparse.Namespace, kind: str = "mixed") -> dict[str, Any]:
    """The same host against a thread that reads and discards (or echoes one byte) on a pty."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    expected = len(receipts(kind)) * max(1, args.mib * MIB // len(receipts(kind))) + 3
    stop = threading.Event()

    def serve() -> None:
        count = 0
        while not stop.is_set():
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if mode == "echo":
                os.write(master, data[:1])
            else:
                count += len(data)
                if count >= expected:
                    os.write(master, b"\x12")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        out = subprocess.run(_client_cmd(path, mode if mode != "echo" else "echo", args, kind),
                             check=True, capture_output=True, text=True).stdout  # fmt: skip
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
    result: dict[str, Any] = json.loads(out)
    return result


# -- the printer -------------------------------------------------------------------------------------
async def printer_run(mode: str, args: argparse.Namespace, kind: str = "mixed") -> dict[str, Any]:
    env = simpy.Environment()
    settings = PrinterSettings(roll_length_m=1e9, head_clean_interval_m=1e9)
    printer = Printer(env, settings, default_catalog().for_device("printer"))
    async with (
        LiveClock(env, speed=1.0) as clock,
        PtyPort(printer.new_session, clock=printer) as port,
    ):
        printer.attach_clock(clock)
        proc = await asyncio.create_subprocess_exec(
            *_client_cmd(port.path, mode, args, kind), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
    result: dict[str, Any] = json.loads(out)
    if mode == "throughput":
        result["receipts"] = len(printer.receipts)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=16, help="receipt data per throughput run")
    parser.add_argument("--rounds", type=int, default=3000, help="round trips per latency run")
    parser.add_argument("--kind", default="mixed", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        path, mode = args.client
        print(json.dumps(client(path, mode, args.mib * MIB, args.rounds, args.kind)))
        return

    report: dict[str, Any] = {}
    for kind in ("mixed", "text"):
        raw = raw_run("throughput", args, kind)
        sim = asyncio.run(printer_run("throughput", args, kind))
        raw_bps, sim_bps = raw["bytes"] / raw["seconds"], sim["bytes"] / sim["seconds"]
        report[f"throughput_{kind}"] = {
            "receipt_bytes": len(receipts(kind)),
            "raw_pty_mib_s": round(raw_bps / MIB, 1),
            "printer_mib_s": round(sim_bps / MIB, 2),
            "ratio": round(sim_bps / raw_bps, 3),
            "receipts_printed": sim["receipts"],
            "goal_mib_s": 5,
        }
    raw_rtt = raw_run("echo", args)
    sim_rtt = asyncio.run(printer_run("rtt", args))
    report["dle_eot_rtt"] = {
        "raw_pty_median_us": round(raw_rtt["median_us"], 1),
        "printer_median_us": round(sim_rtt["median_us"], 1),
        "printer_p99_us": round(sim_rtt["p99_us"], 1),
        "ratio": round(sim_rtt["median_us"] / raw_rtt["median_us"], 2),
        "goal_ratio": 10,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
