"""What every checklist diagnostic shares: the structured :class:`Result`, the :class:`Report` a
test fills while it talks to its device, the :class:`Diagnostic` base that turns a missing device
into ``skip`` and a silent one into the fault that silence means, and the fault catalog lookup
that turns a suspected fault into a remedy hint.

A diagnostic only ever gets the terminal's endpoints manifest (device name -> port) and, on a
terminal where someone or something can press, touch or insert things, a :class:`Stimulus`.

Who is to blame decides the verdict. A device that answers wrongly or not at all is the device's
fault (``fail``/``warn`` with a suspect). A test that cannot be carried out (its port cannot be
opened or connected, its control plane or stimulus is unreachable, the host is too busy to
measure) is an ``error`` of the test, with no suspect: it never sends an engineer on a trip.
Waits for a device are charged only for the time this host was actually able to wait
(:func:`wait_for_device`), so the host's own load is not blamed on the device.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

import devices.protocols
from workbench.errors import ProtocolError, TransportError, WorkbenchError
from workbench.faults import FaultCatalog, FaultMode
from workbench.sla import CHECKLIST

if TYPE_CHECKING:
    from remote.diagnostics.links import LinkFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
Status = Literal["pass", "warn", "fail", "skip", "error"]
RANK: dict[str, int] = {"skip": 0, "pass": 1, "warn": 2, "error": 3, "fail": 4}

CHECKLIST_TEXT: dict[str, str] = dict(CHECKLIST)
"""Checklist item name -> what the service plan says it checks."""

CATALOG_PATH = Path(devices.protocols.__file__).parents[1] / "catalog.yaml"
"""The shipped catalog file (read as data: ``remote`` never imports the simulators)."""


@cache
def catalog() -> FaultCatalog:
    """The fault catalog the diagnostics name their suspects from."""
    return FaultCatalog.load(CATALOG_PATH)


def remedy_hint(fault_id: str) -> str:
    """What to do about a fault: its remote remedy, or what the engineer on site must bring."""
    try:
        mode: FaultMode = catalog()[fault_id]
    except WorkbenchError:
        return "unknown fault: call the hotline"
    if mode.remote_fixable and mode.remedy:
        return f"remote: remedy {mode.remedy}"
    part = f", bring part {mode.part}" if mode.part else ""
    return f"on site: {mode.title[0].lower()}{mode.title[1:]} (~{mode.repair_minutes:g} min{part})"


class LinkTimeout(TransportError):
    """A device did not answer within the time a healthy one takes."""


class PortUnreachable(TransportError):
    """A device's port cannot be opened or connected (a wrong path or address in the manifest,
    a terminal that is not up): the test cannot run, which says nothing about the device."""


class TestError(WorkbenchError):
    """The test itself could not be carried out (its control plane or stimulus failed, the host
    was too busy to measure); reported as ``error``, never as a device fault."""

    __test__ = False  # not a pytest class


WAIT_TICK_S = 0.05
PATIENCE = 20.0
"""However busy the host, a wait ends after this many times its timeout in wall time."""


async def wait_for_device(awaitable: Awaitable[T], timeout: float) -> T:
    """``asyncio.wait_for`` that charges the device only for time this host could wait.

    The wait is cut into ticks of 50 ms. A tick the event loop ended a whole tick late (this host
    busy with other work, or with other kiosks in the same process) is not counted against
    ``timeout``. A device that never answers still times out after ``timeout`` of the host's
    attention (and at most ``PATIENCE`` times ``timeout`` of wall time); a healthy device on a
    loaded host is not called silent."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(awaitable)
    budget = timeout
    give_up = loop.time() + PATIENCE * max(timeout, WAIT_TICK_S)
    try:
        while True:
            tick = max(min(budget, WAIT_TICK_S), 0.0)
            started = loop.time()
            done, _ = await asyncio.wait({task}, timeout=tick)
            if done:
                return task.result()
            if loop.time() - started - tick < WAIT_TICK_S:  # woken (about) on time: charge it
                budget -= tick
            if budget <= 1e-9 or loop.time() >= give_up:
                raise TimeoutError
    finally:
        if not task.done():
            task.cancel()


class Stimulus(Protocol):
    """A physical input a test needs (a touch on a calibration target, a test card, a test note).

    On a simulated terminal the control plane performs it; on a real one a person on site would,
    so real terminals without one run the tests' status parts only.
    """

    async def act(self, device: str, action: str, *args: str) -> str:
        """Perform a stimulus on a device; returns what the device says happened."""
        ...


@dataclass(frozen=True, slots=True)
class Result:
    """One diagnostic's verdict, JSON-able through :meth:`as_dict`."""

    test: str
    status: Status
    measurements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """``{"name": {"value": 12.3, "unit": "mm"}}``."""
    suspect: str | None = None
    """The catalog fault id the test suspects (None when it suspects nothing)."""
    remedy: str | None = None
    detail: str = ""
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Pass or skip."""
        return self.status in ("pass", "skip")

    def as_dict(self) -> dict[str, Any]:
        """The result as the agent streams it."""
        return {
            "test": self.test,
            "status": self.status,
            "measurements": {k: dict(v) for k, v in self.measurements.items()},
            "suspect": self.suspect,
            "remedy": self.remedy,
            "detail": self.detail,
            "duration_s": round(self.duration_s, 4),
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a test found wrong, and the fault it points to."""

    status: Status
    suspect: str | None
    detail: str


@dataclass(slots=True)
class Report:
    """Filled by a running test: measurements with units, findings, and plain notes."""

    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def measure(self, name: str, value: Any, unit: str = "") -> None:
        """Record a measurement (floats rounded to 4 decimals)."""
        if isinstance(value, float):
            value = round(value, 4)
        self.measurements[name] = {"value": value, "unit": unit}

    def fail(self, suspect: str | None, detail: str) -> None:
        """The device is out of service for this item."""
        self.findings.append(Finding("fail", suspect, detail))

    def warn(self, suspect: str | None, detail: str) -> None:
        """The device works but needs attention."""
        self.findings.append(Finding("warn", suspect, detail))

    def error(self, detail: str) -> None:
        """The test could not be carried out; nothing is said about the device."""
        self.findings.append(Finding("error", None, detail))

    def note(self, detail: str) -> None:
        """A remark that is not a finding (what was not checked, and why)."""
        self.notes.append(detail)

    def result(self, test: str, duration_s: float) -> Result:
        """The verdict: the worst finding decides the status and the suspect."""
        if not self.findings:
            return Result(
                test, "pass", self.measurements, None, None, "; ".join(self.notes), duration_s
            )
        worst = max(RANK[f.status] for f in self.findings)
        first = next(f for f in self.findings if RANK[f.status] == worst)
        details = [f.detail for f in self.findings] + self.notes
        if first.status == "error":
            remedy = None
        elif first.suspect:
            remedy = remedy_hint(first.suspect)
        else:
            remedy = "check the device on site"
        return Result(
            test, first.status, self.measurements, first.suspect, remedy, "; ".join(details),
            duration_s,
        )  # fmt: skip


def _real_links() -> LinkFactory:
    from remote.diagnostics.links import REAL_LINKS

    return REAL_LINKS


@dataclass(frozen=True, slots=True)
class Context:
    """What a running test may use."""

    endpoints: Mapping[str, Any]
    stimulus: Stimulus | None = None
    quick: bool = False
    """Status reads only: no stimuli, no test print, no bulk transfer."""
    timeout_s: float = 0.5
    """Wall seconds a healthy device takes at most to answer one request."""
    links: LinkFactory = field(default_factory=lambda: _real_links())
    """Where the test gets its links to the devices (in-memory ones in tests)."""

    def port(self, device: str, kind: str) -> str | None:
        """The device's port of a kind (``serial``, ``tcp``, ``modbus``, ``http``...), or None."""
        entry = self.endpoints.get("devices", {}).get(device)
        if not isinstance(entry, Mapping):
            return None
        value = entry.get(kind)
        return str(value) if value else None

    def has(self, device: str) -> bool:
        """Whether the manifest lists the device."""
        return device in self.endpoints.get("devices", {})

    @property
    def can_stimulate(self) -> bool:
        """Whether stimuli are available and wanted."""
        return self.stimulus is not None and not self.quick


class Diagnostic(ABC):
    """One checklist item's scripted test."""

    name: ClassVar[str]
    """The checklist name (``print_head``, ``power``...)."""
    checklist: ClassVar[str]
    """The checklist item as the service plan words it."""
    device: ClassVar[str]
    """The manifest device the test talks to."""
    silent_fault: ClassVar[str | None] = None
    """The catalog fault a device that does not answer at all points to."""
    silent_skips: ClassVar[bool] = False
    """A silent device leaves this item unchecked (``skip``) rather than failed: another test
    of the same device names the fault."""

    async def run(
        self,
        endpoints: Mapping[str, Any],
        *,
        stimulus: Stimulus | None = None,
        quick: bool = False,
        links: LinkFactory | None = None,
    ) -> Result:
        """Run the test against the terminal described by ``endpoints``."""
        ctx = Context(endpoints, stimulus, quick, links=links or _real_links())
        return await self.run_in(ctx)

    async def run_in(self, ctx: Context) -> Result:
        """Run with a prepared context; never raises for a device problem."""
        started = time.perf_counter()
        report = Report()
        if not ctx.has(self.device):
            return Result(
                self.name,
                "skip",
                detail=f"the terminal has no {self.device} (not in its endpoints manifest)",
            )
        try:
            await self.check(ctx, report)
        except LinkTimeout as exc:
            if self.silent_skips:
                return Result(
                    self.name,
                    "skip",
                    report.measurements,
                    detail=f"not checked: {self.device} does not answer ({exc})",
                    duration_s=time.perf_counter() - started,
                )
            report.fail(self.silent_fault, f"{self.device} does not answer: {exc}")
        except PortUnreachable as exc:
            report.error(f"not tested: {exc} (check the endpoints manifest; is the terminal up?)")
        except TestError as exc:
            report.error(f"not tested: {exc}")
        except (TransportError, ProtocolError, OSError) as exc:
            report.fail(self.silent_fault, f"{self.device}: {exc}")
        return report.result(self.name, time.perf_counter() - started)

    @abstractmethod
    async def check(self, ctx: Context, report: Report) -> None:
        """Talk to the device and fill the report."""

    def describe(self) -> dict[str, Any]:
        """The entry ``diag list`` shows."""
        return {
            "name": self.name,
            "kind": "test",
            "checklist": self.checklist,
            "device": self.device,
        }
