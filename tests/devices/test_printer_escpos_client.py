"""python-escpos, unmodified, prints a receipt (text, barcode, QR code, image, cut) on the
simulated printer through its pty (``escpos.printer.Serial``) and its raw TCP port
(``escpos.printer.Network``) in live time, reads the status the way kiosk software does, and
the receipt is recorded; a garbage stream over the pty does not stop the printer answering."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
import serial
import simpy
from escpos.escpos import Escpos
from escpos.printer import Network, Serial
from PIL import Image, ImageDraw

from devices.catalog import default_catalog
from devices.printer import Printer, PrinterSettings
from devices.protocols.escpos import MAX_BLOCK
from devices.transports.pty import PtyPort
from devices.transports.tcp import TcpPort
from workbench.clock import LiveClock

MODES = default_catalog().for_device("printer")
RECEIPT = "\n".join(
    [
        "                ACME KIOSK",  # double height, centred in 42 columns
        "Ticket 0042",
        "      [BARCODE EAN13 4006381333931]",  # python-escpos centres barcodes
        "                [QR hello]",
        "             [IMAGE 384x120]",
    ]
)


def print_receipt(p: Escpos) -> None:
    """What a kiosk application sends for one receipt."""
    logo = Image.new("1", (384, 120), 1)
    ImageDraw.Draw(logo).rectangle((20, 20, 363, 99), fill=0)
    p.hw("INIT")
    p.set(align="center", bold=True, double_height=True)
    p.textln("ACME KIOSK")
    p.set(normal_textsize=True, bold=False, align="left")
    p.textln("Ticket 0042")
    p.barcode("4006381333931", "EAN13")
    p.qr("hello", native=True)
    p.image(logo)
    p.cut()


def make_printer() -> tuple[Printer, list[tuple[str, dict[str, Any]]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    printer = Printer(
        simpy.Environment(),
        PrinterSettings(),
        MODES,
        sink=lambda _device, _t, kind, detail: events.append((kind, detail)),
    )
    return printer, events


@pytest.mark.timeout(10)
async def test_python_escpos_over_the_pty_prints_and_reads_status() -> None:
    printer, events = make_printer()
    async with (
        LiveClock(printer.env, speed=1.0) as clock,
        PtyPort(printer.new_session, clock=printer) as port,
    ):
        printer.attach_clock(clock)
        p = Serial(devfile=port.path, baudrate=115200, timeout=0.15)

        def receipt_then_status() -> tuple[bool, int, bytes]:
            print_receipt(p)
            return p.is_online(), p.paper_status(), p.query_status(b"\x10\x04\x02")

        try:
            assert await asyncio.to_thread(receipt_then_status) == (True, 2, b"\x12")
            assert printer.receipts == [RECEIPT]
            assert ("receipt", {"text": RECEIPT}) in events
            printer.inject("printer.paper_near_end")
            assert await asyncio.to_thread(p.paper_status) == 1
            printer.inject("printer.paper_out")
            assert await asyncio.to_thread(lambda: (p.paper_status(), p.is_online())) == (0, False)
            printer.act("refill-paper")
            assert await asyncio.to_thread(lambda: (p.paper_status(), p.is_online())) == (2, True)
        finally:
            p.close()


@pytest.mark.timeout(10)
async def test_python_escpos_over_tcp_shares_the_printer_with_the_pty() -> None:
    printer, events = make_printer()
    async with (
        LiveClock(printer.env, speed=1.0) as clock,
        PtyPort(printer.new_session, clock=printer) as pty,
        TcpPort(printer.new_session, clock=printer) as tcp,
    ):
        printer.attach_clock(clock)
        net = Network(tcp.host, tcp.port, timeout=5)

        def receipt_then_status() -> tuple[bool, int]:
            print_receipt(net)
            return net.is_online(), net.paper_status()

        try:
            assert await asyncio.to_thread(receipt_then_status) == (True, 2)
            assert printer.receipts == [RECEIPT]
            # Cover open: the next receipt waits in the 4 KiB receive buffer; the 5.8 KB image
            # does not fit and is lost, as on a printer whose host ignores flow control.
            printer.act("open-cover")
            assert await asyncio.to_thread(receipt_then_status) == (False, 2)
            assert len(printer.receipts) == 1
            printer.act("close-cover")
            assert printer.receipts[1] == RECEIPT.rsplit("\n", 1)[0]
            assert await asyncio.to_thread(net.is_online) is True
        finally:
            net.close()
        # the pty's host sees the same printer: two cuts on the cumulative counter
        with serial.Serial(pty.path, 115200, timeout=2) as s:
            s.write(b"\x1dg2\x00\xb2\x00")
            assert await asyncio.to_thread(s.read_until, b"\x00") == b"_2\x00"
    assert [kind for kind, _ in events].count("receipt") == 2
    assert ("data_discarded", {"bytes": 5768}) in events


@pytest.mark.timeout(10)
async def test_a_garbage_stream_over_the_pty_does_not_stop_the_printer() -> None:
    printer, _ = make_printer()
    garbage = random.Random(7).randbytes(16384)
    async with (
        LiveClock(printer.env, speed=1.0) as clock,
        PtyPort(printer.new_session, clock=printer) as port,
    ):
        printer.attach_clock(clock)

        def send_garbage_then_ask() -> bytes:
            with serial.Serial(port.path, 115200, timeout=0.05) as s:
                s.write(garbage)
                s.write(bytes(MAX_BLOCK + 64))  # completes any command the garbage began
                s.write(b"\x1dI\x43\x10\x04\x01")  # model name, then real-time status
                got, end = b"", time.monotonic() + 5
                while time.monotonic() < end and not (
                    len(got) > 9 and got[-10:-1] == b"_TM-T88V\x00"
                ):
                    got += s.read(4096)
                return got

        got = await asyncio.to_thread(send_garbage_then_ask)
    assert got[-10:-1] == b"_TM-T88V\x00" and got[-1] & 0x93 == 0x12
    assert any(text.startswith("unknown_command") for _, text in printer.log)
