"""``workbench demo``: everything wired together on loopback, as each kind of user meets it.

A simulated bill-payment kiosk comes up with its SSH agent; kiosk software prints a receipt
through python-escpos on the printer's pty and takes a banknote over SSP; a trainer injects
faults; a remote engineer, inside a 1-hour certificate window, runs the quarterly inspection
over SSH, fixes what can be fixed remotely and is told what needs a site visit.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import warnings
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from devices.kiosk import KioskHost
from devices.protocols.ssp_messages import Command, Event
from remote.audit import verify
from remote.client import AgentClient, Endpoint, Identity, record_run, run_suite
from remote.diagnostics.links import SerialLink
from remote.diagnostics.ssp_host import SspHost
from remote.window import CertificateAuthority, engineer_key
from scenarios.wiring import kiosk_backend, kiosk_extra

TERMINAL = "KSK-DEMO"
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim", "error": "magenta"}


def print_receipt(path: str) -> dict[str, Any]:
    """What kiosk software does: an escpos receipt on the serial port, then a status check."""
    from escpos.printer import Serial
    from PIL import Image, ImageDraw

    logo = Image.new("1", (200, 48), 1)
    ImageDraw.Draw(logo).rectangle((4, 4, 195, 43), outline=0, width=4)
    printer = Serial(devfile=path, baudrate=115200, timeout=0.3)  # status reads wait this out
    # python-escpos prints chatter ("Using hardware barcode renderer") and warns about its profile.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _print(printer, logo)


def _print(printer: Any, logo: Any) -> dict[str, Any]:
    try:
        printer.set(align="center", bold=True, double_height=True)
        printer.text("CITY WATER BILL\n")
        printer.set(align="left", bold=False, normal_textsize=True)
        printer.image(logo)
        printer.text("Account    0012-3456-78\nPeriod     2026-10\nPaid       20.00 EUR\n")
        printer.barcode("4006381333931", "EAN13")
        printer.qr("https://pay.example/r/0012345678", native=True, size=4)
        printer.text("Thank you\n")
        printer.cut()
        online = printer.is_online()
        paper = printer.paper_status()
    finally:
        printer.close()
    return {"online": online, "paper": {2: "adequate", 1: "near end", 0: "out"}.get(paper, paper)}


async def take_banknote(host: KioskHost, path: str, value: str, out: Console, speed: float) -> None:
    """What kiosk software does with the validator: sync, enable, poll while a customer pays."""
    async with SerialLink(path) as link:
        ssp = SspHost(link, timeout=1.0)
        await ssp.sync()
        await ssp.ok(Command.SET_INHIBITS, b"\xff\xff")
        await ssp.ok(Command.ENABLE)
        await ssp.poll()  # the events since power-up (slave reset, disabled)
        out.print(
            f"  customer inserts a {value} note: {host.terminals[TERMINAL].act('insert-note', value)}"
        )
        seen: list[str] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            events = await ssp.poll()
            seen += [str(e) for e in events]
            if any(e.code == Event.STACKED for e in events):
                break
            # Kiosk software polls every 100-200 ms of real time: 0.2 s simulated here, whatever
            # the speed, or a fast clock would see a silent host and reject the note in escrow.
            await asyncio.sleep(min(0.2, 0.2 / speed))
        out.print("  poll events: " + ", ".join(dict.fromkeys(seen)))


def engineer_identity(base: Path, ca: CertificateAuthority, store: Any) -> tuple[Path, Path]:
    """An engineer key (0600) and a 1-hour window certificate for the demo terminal."""
    key_path = base / "engineer"
    key = engineer_key(key_path, "demo.engineer")
    grant = ca.grant(
        [TERMINAL], key, hours=1, allow=("diag", "remedy", "trainer"), ticket="DEMO-1", store=store
    )
    cert_path = base / "engineer-cert.pub"
    cert_path.write_bytes(grant.certificate)
    return key_path, cert_path


def results_table(title: str, results: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    table.add_column("test", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("suspect", no_wrap=True)
    table.add_column("finding")
    for r in results:
        status = str(r.get("status"))
        table.add_row(
            str(r.get("test")),
            f"[{STATUS_STYLE.get(status, '')}]{status}[/]",
            str(r.get("suspect") or ""),
            str(r.get("detail") or r.get("remedy") or ""),
        )
    return table


async def run_demo(state_dir: Path, speed: float, out: Console) -> None:
    """Run the whole demo; the kiosk and its agent are closed cleanly at the end."""
    base = state_dir / "demo"
    base.mkdir(parents=True, exist_ok=True)
    ca_dir = base / "ca"
    ca = (
        CertificateAuthority(ca_dir)
        if (ca_dir / "user_ca").exists()
        else CertificateAuthority.init(ca_dir)
    )
    extra = kiosk_extra(ca_dir, kiosk_backend)
    async with KioskHost(base, "bill_payment", [TERMINAL], speed=speed, extras=[extra]) as host:
        manifest = host.endpoints[TERMINAL]
        out.rule(f"1. simulated kiosk {TERMINAL} (profile bill_payment, speed {speed:g}x)")
        for device, ends in manifest["devices"].items():
            out.print(f"  {device:15} " + "  ".join(f"{k}={v}" for k, v in ends.items()))
        out.print(f"  {'ssh agent':15} {manifest['agent']}   records: {host.store.path}")

        out.rule("2. kiosk software prints a receipt with python-escpos on the serial port")
        status = await asyncio.to_thread(print_receipt, manifest["devices"]["printer"]["serial"])
        out.print(
            f"  printer status after printing: online={status['online']}, paper {status['paper']}"
        )
        receipt = host.store.receipts(TERMINAL)[-1]
        out.print("  recorded receipt:")
        for text_line in receipt.text.splitlines():
            out.print(f"  | {text_line}", markup=False)

        out.rule("3. a customer pays with a banknote (SSP over the validator's serial port)")
        await take_banknote(host, manifest["devices"]["bill_validator"]["serial"], "20", out, speed)
        box = host.terminals[TERMINAL].devices["bill_validator"].status()["cash_box"]
        out.print(f"  cash box: {box['level']}/{box['capacity']} notes")

        out.rule("4. a trainer injects faults; the remote engineer gets a 1-hour window")
        terminal = host.terminals[TERMINAL]
        for fault in ("printer.paper_out", "display.brightness_low"):
            terminal.inject(fault)
            out.print(f"  trainer injected {fault}")
        key, cert = engineer_identity(base, ca, host.store)
        identity = Identity.load(key, cert, ca_dir / "known_hosts")
        endpoint = Endpoint.from_manifest(host.manifest_path(TERMINAL))
        out.print(f"  grant: {identity.engineer} may reach {TERMINAL} for 1 h (cert {cert.name})")

        out.rule("5. the engineer runs the quarterly inspection over SSH")
        report = await run_suite(endpoint, identity, "inspection")
        record_run(host.store, report)
        out.print(results_table(f"inspection of {TERMINAL}: {report.outcome}", report.results))
        out.print(
            f"  {len(report.results)} checks in {report.finished - report.started:.2f} s, stored as a maintenance record"
        )

        out.rule("6. remote remedies, and what needs a site visit")
        async with AgentClient(endpoint, identity) as client:
            for r in report.results:
                suspect = r.get("suspect")
                if not suspect or r.get("status") == "pass":
                    continue
                mode = host.catalog[suspect]
                if not mode.remote_fixable or not mode.remedy:
                    out.print(
                        f"  {suspect}: not remote-fixable, dispatch an engineer ({mode.repair_minutes:g} min on site)"
                    )
                    continue
                async for line in client.stream(f"remedy {mode.remedy}"):
                    if line.get("event") == "remedy":
                        verdict = "cleared" if line.get("cleared") else "NOT cleared"
                        out.print(f"  remedy {mode.remedy}: {verdict} ({line.get('detail', '')})")
                    elif line.get("event") == "error":
                        out.print(f"  remedy {mode.remedy}: refused: {line.get('error')}")
        out.print(f"  site visit: {terminal.act('refill-paper')}")
        again = await run_suite(endpoint, identity, "quick")
        record_run(host.store, again)
        out.print(f"  quick check after the visit: {again.outcome} ({again.counts()})")

    out.rule("7. the audit trail")
    audit = base / TERMINAL / "agent" / "audit.jsonl"
    # against the host key and the last seal the engineer's client saw (kept with its records)
    seal = again.seal
    chain = verify(audit, key=again.host_key, seal=seal)
    if chain.ok:
        out.print(
            f"  {audit}: hash chain and seals verified, {chain.lines} lines, "
            f"reaching line {seal.seq if seal else '-'} the engineer's records saw sealed"
        )
    else:
        out.print(f"  {audit}: BROKEN at line {chain.broken_line}: {chain.reason}")
    out.print(f"\nDone. Everything ran on loopback; state and records are in {base}")
