"""Checklist item "system software": the kiosk application's ``GET /health``
(:class:`devices.protocols.health.AppHealth`) must answer within 2 s and say it is responsive,
every service running, and every version the one its release manifest names.
"""

from __future__ import annotations

import logging

from devices.protocols.health import parse_app_health
from remote.diagnostics.base import (
    CHECKLIST_TEXT,
    Context,
    Diagnostic,
    LinkTimeout,
    PortUnreachable,
    Report,
)
from workbench.errors import ProtocolError, TransportError

log = logging.getLogger(__name__)

CRASHED = "system_software.service_crashed"
HUNG = "system_software.app_hung"
VERSIONS = "system_software.version_mismatch"
ANSWER_WITHIN_S = 2.0
"""The catalog's limit: a health endpoint slower than this counts as a hung application."""


class SystemSoftwareCheck(Diagnostic):
    """The kiosk application and its services."""

    name = "system_software"
    checklist = CHECKLIST_TEXT["system_software"]
    device = "system_software"
    silent_fault = HUNG

    async def check(self, ctx: Context, report: Report) -> None:
        address = ctx.port(self.device, "http")
        if address is None:
            report.fail(None, "the application has no health endpoint (http) in the manifest")
            return
        try:
            status, body = await ctx.links.http_get(address, "/health", ANSWER_WITHIN_S)
        except LinkTimeout:
            report.fail(HUNG, f"GET /health did not answer within {ANSWER_WITHIN_S:g} s")
            return
        except PortUnreachable:
            raise  # the test cannot reach the endpoint: an error of the test
        except TransportError as exc:
            report.fail(HUNG, f"the application is not serving its health endpoint: {exc}")
            return
        if status != 200:
            raise ProtocolError(f"GET /health answered HTTP {status}")
        h = parse_app_health(body)
        report.measure("release", h.release)
        report.measure("uptime", h.uptime_s, "s")
        report.measure("transactions", h.transactions, "transactions")
        if h.seconds_since_transaction is not None:
            report.measure("since_last_transaction", h.seconds_since_transaction, "s")
        running = [s for s in h.services if s.state == "running"]
        report.measure("services_running", len(running), f"of {len(h.services)}")
        if not h.responsive:
            report.fail(HUNG, f"{h.app} reports itself unresponsive")
        crashed = [s.name for s in h.services if s.state == "crashed"]
        if crashed:
            report.fail(CRASHED, f"service(s) crashed: {', '.join(crashed)}")
        if h.mismatched:
            wrong = ", ".join(
                f"{s.name} {s.version} (release {h.release}: {h.manifest.get(s.name, '?')})"
                for s in h.services
                if s.name in h.mismatched
            )
            report.warn(
                VERSIONS,
                f"versions differ from the release manifest: {wrong or ', '.join(h.mismatched)}",
            )
