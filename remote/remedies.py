"""Remote remedies for the faults the catalog marks remote-fixable: each one acts through the
device's own protocol where the protocol can fix it (SSP RESET, MCCS Set VCP, the touch
controller's recalibration, the card reader's initialise), falls back to what a real terminal's
host hardware does (power-cycling a peripheral through its USB port or relay, restarting a
service on the host PC) only where the protocol cannot reach the device, then re-runs the
diagnostic that detects the fault and says whether the condition cleared.

On a simulated kiosk the host-hardware steps go to its control plane as ``act`` requests and
are marked ``host`` in the steps; a real terminal without such a hook says what is left to do.
A fault the catalog does not mark remote-fixable is refused: it needs an engineer on site.

The bill validator's reset (SSP RESET, and how the unit came back) is
:mod:`remote.remedies_validator`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.protocols import escpos
from devices.protocols import mccs as m
from devices.protocols import stx_bcc as cr
from devices.protocols import touch as t
from devices.protocols import ups_registers as regs
from remote.diagnostics.base import LinkTimeout, Result, TestError, catalog, remedy_hint
from remote.diagnostics.card_reader import ReaderHost
from remote.diagnostics.control import ControlClient
from remote.diagnostics.display import DdcHost
from remote.diagnostics.links import REAL_LINKS, ByteLink, LinkFactory
from remote.diagnostics.print_head import EscPosHost
from remote.diagnostics.registry import Runner, diagnostics, plan
from remote.diagnostics.touchscreen import TouchHost
from remote.remedies_validator import _validator_reset
from workbench.errors import ConfigError, DeviceError, TransportError

log = logging.getLogger(__name__)

ON_SITE = "needs an engineer on site"
BRIGHTNESS_DEFAULT = 80


class HostActionUnavailable(DeviceError):
    """A remedy step needs the terminal's host hardware or OS, and this terminal has no hook."""


@dataclass(slots=True)
class Steps:
    """What a remedy did, in order; host-hardware steps are marked."""

    endpoints: Mapping[str, Any]
    control: ControlClient | None
    timeout_s: float
    links: LinkFactory = REAL_LINKS
    done: list[str] = field(default_factory=list)

    def port(self, device: str, kind: str) -> str:
        entry = self.endpoints.get("devices", {}).get(device) or {}
        value = entry.get(kind)
        if not value:
            raise DeviceError(f"the terminal has no {device} {kind} port")
        return str(value)

    def log(self, text: str) -> None:
        self.done.append(text)

    async def host(self, device: str, action: str, what: str) -> None:
        """A step the terminal's host hardware/OS performs (a relay, a USB port, a service)."""
        if self.control is None:
            raise HostActionUnavailable(
                f"{what}: this terminal has no host-action hook; do it on site"
            )
        message = await self.control.act(device, action)
        self.log(f"host: {what} ({message})")


RemedyFn = Callable[[Steps], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Remedy:
    """A remote action and the diagnostic that tells whether it worked."""

    name: str
    test: str
    run: RemedyFn
    about: str


# -- the remedies --------------------------------------------------------------------------------
async def _printer_reset(s: Steps) -> None:
    entry = s.endpoints.get("devices", {}).get("printer") or {}
    link: ByteLink = (
        s.links.serial(entry["serial"])
        if entry.get("serial")
        else s.links.tcp(s.port("printer", "tcp"))
    )
    async with link:
        host = EscPosHost(link, s.timeout_s)
        # DLE DC4 8: clear the receive and print buffers; a real-time command, so it also ends a
        # command line noise left half received (a block that would swallow the next 64 KiB)
        link.drain_input()
        link.write(escpos.CLEAR_BUFFERS)
        heard = bytearray()

        def cleared(chunk: bytes) -> bool | None:
            heard.extend(chunk)
            return True if escpos.CLEAR_RESPONSE in heard else None

        try:
            await link.until(cleared, s.timeout_s)
            s.log("DLE DC4 8 sent: receive and print buffers cleared")
        except LinkTimeout:
            s.log("DLE DC4 8 sent: no clear response (the printer may not support it)")
        link.write(b"\x10\x05\x02")  # DLE ENQ 2: recover from an error, clearing the buffers
        s.log("DLE ENQ 2 sent")
        if "error" not in await host.realtime(2):
            return
        s.log("the printer still reports an error")
    await s.host("printer", "reset", "printer power cycled (USB port)")


async def _card_reader_reinit(s: Steps) -> None:
    path = s.port("card_reader", "serial")
    async with s.links.serial(path) as link:
        host = ReaderHost(link, s.timeout_s)
        try:
            reply = await host.command(cr.CM_INIT, "2")
            ok = reply.positive
            s.log(f"initialise: {'P' if ok else 'N ' + reply.code}")
        except LinkTimeout:
            ok = False
            s.log("card reader silent to initialise")
        if ok:
            return
        await s.host("card_reader", "reinit", "card reader power cycled (USB port)")
        reply = await host.command(cr.CM_INIT, "2")
        s.log(f"initialise after power cycle: {'P' if reply.positive else 'N ' + reply.code}")


async def _touch_command(s: Steps, letter: int, what: str) -> bool:
    path = s.port("touchscreen", "serial")
    async with s.links.serial(path) as link:
        try:
            await TouchHost(link, s.timeout_s).command(bytes([letter]))
        except LinkTimeout:
            s.log(f"controller silent to {what}")
            return False
    s.log(f"{what} done")
    return True


async def _touch_recalibrate(s: Steps) -> None:
    await _touch_command(s, t.RECALIBRATE, "recalibration (C)")


async def _touch_reset(s: Steps) -> None:
    if not await _touch_command(s, t.RESET, "controller reset (R)"):
        await s.host("touchscreen", "reset", "touch controller power cycled (USB port)")
    await _touch_command(s, t.CHECK_ACTIVE, "check active (A)")


async def _display_set(s: Steps, code: int, value: int, what: str) -> None:
    path = s.port("display", "serial")
    async with s.links.serial(path) as link:
        ddc = DdcHost(link, s.timeout_s)
        ddc.set(code, value)
        now = (await ddc.get(code)).current
    s.log(f"{what}: Set VCP 0x{code:02X}={value}, reads {now}")


async def _display_power_on(s: Steps) -> None:
    await _display_set(s, m.VCP_POWER_MODE, m.POWER_ON, "power on")


async def _display_brightness(s: Steps) -> None:
    await _display_set(s, m.VCP_LUMINANCE, BRIGHTNESS_DEFAULT, "brightness")


async def _ups_reset_comms(s: Steps) -> None:
    await s.host("ups", "reset-comms", "UPS management card restarted")


async def _ups_battery_test(s: Steps) -> None:
    loop = asyncio.get_running_loop()
    async with s.links.modbus(s.port("ups", "modbus"), s.timeout_s) as ups:
        await ups.write(regs.HoldingRegister.BATTERY_TEST_COMMAND, regs.TEST_COMMAND_START)
        s.log("battery test started (holding 0 = 1)")
        deadline = loop.time() + 30.0
        while loop.time() < deadline:
            raw = (await ups.holding(regs.HoldingRegister.BATTERY_TEST_RESULT, 1))[0]
            result = regs.decode_test_result(raw)
            if result is not regs.BatteryTestResult.IN_PROGRESS:
                s.log(f"battery test {result.name.lower()}")
                return
            await asyncio.sleep(0.02)
        s.log("battery test still running after 30 s")


def _host_remedy(device: str, action: str, what: str) -> RemedyFn:
    async def run(s: Steps) -> None:
        await s.host(device, action, what)

    return run


REMEDIES: dict[str, Remedy] = {
    r.name: r
    for r in (
        Remedy(
            "printer.reset",
            "print_head",
            _printer_reset,
            "DLE ENQ 2 (recover, clear buffers); power cycle when the error stays",
        ),
        Remedy(
            "bill_validator.reset",
            "bill_validator",
            _validator_reset,
            "SSP RESET; power cycle when silent",
        ),
        Remedy(
            "card_reader.reinit",
            "card_reader",
            _card_reader_reinit,
            "initialise; power cycle when that fails",
        ),
        Remedy(
            "touchscreen.recalibrate",
            "touchscreen",
            _touch_recalibrate,
            "controller recalibration (C)",
        ),
        Remedy(
            "touchscreen.reset",
            "touchscreen",
            _touch_reset,
            "controller reset; power cycle when silent",
        ),
        Remedy("display.power_on", "display", _display_power_on, "Set VCP 0xD6 = 1 (on)"),
        Remedy(
            "display.set_brightness",
            "display",
            _display_brightness,
            f"Set VCP 0x10 = {BRIGHTNESS_DEFAULT}",
        ),
        Remedy("ups.reset_comms", "power", _ups_reset_comms, "restart the UPS management card"),
        Remedy("ups.battery_test", "power", _ups_battery_test, "run the UPS battery self-test"),
        Remedy(
            "network.flush_dns",
            "network",
            _host_remedy("network", "flush-dns", "DNS cache flushed"),
            "flush the resolver cache",
        ),
        Remedy(
            "host_pc.clean_disk",
            "host_pc",
            _host_remedy("host_pc", "clean-disk", "logs and caches cleaned"),
            "clean logs and caches",
        ),
        Remedy(
            "host_pc.sync_time",
            "host_pc",
            _host_remedy("host_pc", "sync-time", "clock synchronised (NTP)"),
            "step the clock from NTP",
        ),
        Remedy(
            "system_software.restart_service",
            "system_software",
            _host_remedy("system_software", "restart-service", "crashed services restarted"),
            "restart crashed services",
        ),
        Remedy(
            "system_software.restart_app",
            "system_software",
            _host_remedy("system_software", "restart-app", "application restarted"),
            "restart the kiosk application",
        ),
        Remedy(
            "system_software.update",
            "system_software",
            _host_remedy("system_software", "update", "release manifest applied"),
            "install the release's versions",
        ),
    )
}


def describe() -> list[dict[str, Any]]:
    """Every remedy, the faults it is meant to clear and the test that checks it."""
    out = []
    for r in REMEDIES.values():
        faults = [f.id for f in catalog().values() if f.remedy == r.name]
        out.append({"name": r.name, "test": r.test, "faults": faults, "about": r.about})
    return out


async def apply(
    action: str,
    endpoints: Mapping[str, Any],
    *,
    control: ControlClient | None = None,
    runner: Runner | None = None,
    timeout_s: float = 0.5,
    links: LinkFactory | None = None,
) -> dict[str, Any]:
    """Apply a remedy (by its name, or by the fault id it should clear) and re-test.

    Returns ``{"action", "cleared", "detail", "steps", "result"}``; a fault that is not
    remote-fixable comes back ``refused`` with the on-site message, an unknown name raises.
    """
    faults = catalog()
    targets: list[str]
    if action in set(faults) and action not in REMEDIES:
        mode = faults[action]
        if not mode.remote_fixable or not mode.remedy:
            part = f"; bring {mode.part}" if mode.part else ""
            return {
                "action": action,
                "cleared": False,
                "refused": True,
                "detail": f"{action} ({mode.title}) is not remote-fixable: {ON_SITE} "
                f"(~{mode.repair_minutes:g} min{part})",
                "steps": [],
            }
        targets, action = [action], mode.remedy
    elif action in REMEDIES:
        targets = [f.id for f in faults.values() if f.remedy == action]
    else:
        raise ConfigError(
            f"no remedy {action!r}; remedies: {', '.join(REMEDIES)} (or a remote-fixable fault id)"
        )
    remedy = REMEDIES[action]
    links = links or (runner.links if runner is not None else REAL_LINKS)
    runner = runner or Runner(endpoints, control, timeout_s, links)
    steps = Steps(endpoints, control, timeout_s, links)
    error: str | None = None
    try:
        async with runner.lock(_device_of(remedy)):
            await remedy.run(steps)
    except (TransportError, DeviceError, TestError, OSError) as exc:
        error = str(exc)
        steps.log(f"stopped: {exc}")
    result: Result = await runner.one(plan([remedy.test])[0])
    cleared = error is None and result.status == "pass"
    if cleared:
        detail = f"{remedy.about}: {remedy.test} passes again"
    elif error is not None:
        detail = f"{remedy.about} could not be completed: {error}"
    elif result.suspect in targets:
        detail = f"{remedy.about} did not clear {result.suspect}: {ON_SITE}"
    elif result.suspect:
        detail = f"{remedy.about} done, but {remedy.test} still reports {result.suspect} ({remedy_hint(result.suspect)})"
    else:
        detail = f"{remedy.about} done, but {remedy.test} is {result.status}: {result.detail}"
    log.info("remedy %s on %s: cleared=%s", action, endpoints.get("terminal", "?"), cleared)
    return {
        "action": action,
        "cleared": cleared,
        "detail": detail,
        "targets": targets,
        "steps": steps.done,
        "result": result.as_dict(),
    }


def _device_of(remedy: Remedy) -> str:
    return diagnostics()[remedy.test].device
