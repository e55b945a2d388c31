"""The eleven checklist diagnostics by name, the suites built from them (``inspection``: all, in
checklist order; ``quick``: all, status reads only; ``device:<name>``: the tests of one
device), and the runner that streams their results.

Tests of different devices run concurrently; tests that share a device's port (the validator
and its cash box) take turns, and results come out in checklist order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from remote.diagnostics.base import Context, Diagnostic, Result, Stimulus
from remote.diagnostics.bill_validator import BillValidatorCheck
from remote.diagnostics.card_reader import CardReaderCheck
from remote.diagnostics.cash_box import CashBoxCheck
from remote.diagnostics.display import DisplayCheck
from remote.diagnostics.exterior import ExteriorCheck
from remote.diagnostics.host_pc import HostPcCheck
from remote.diagnostics.links import REAL_LINKS, LinkFactory
from remote.diagnostics.network import NetworkCheck
from remote.diagnostics.power import PowerCheck
from remote.diagnostics.print_head import PrintHeadCheck
from remote.diagnostics.system_software import SystemSoftwareCheck
from remote.diagnostics.touchscreen import TouchscreenCheck
from workbench.errors import ConfigError
from workbench.sla import CHECKLIST

log = logging.getLogger(__name__)

DEVICE_SUITE = "device:"


@cache
def diagnostics() -> dict[str, Diagnostic]:
    """One instance of each checklist diagnostic, in checklist order."""
    tests: list[Diagnostic] = [
        ExteriorCheck(),
        PowerCheck(),
        NetworkCheck(),
        TouchscreenCheck(),
        DisplayCheck(),
        CardReaderCheck(),
        BillValidatorCheck(),
        CashBoxCheck(),
        PrintHeadCheck(),
        HostPcCheck(),
        SystemSoftwareCheck(),
    ]
    by_name = {t.name: t for t in tests}
    return {name: by_name[name] for name, _ in CHECKLIST}


def suites() -> dict[str, list[str]]:
    """Suite name -> test names."""
    names = list(diagnostics())
    out = {"inspection": names, "quick": names}
    for test in diagnostics().values():
        out.setdefault(DEVICE_SUITE + test.device, []).append(test.name)
    return out


def describe() -> list[dict[str, Any]]:
    """What ``diag list`` shows: every test, then every suite."""
    tests = [t.describe() for t in diagnostics().values()]
    kinds = {
        "inspection": "the quarterly inspection: every checklist item",
        "quick": "every checklist item, status reads only (no stimuli, no test print)",
    }
    return tests + [
        {
            "name": s,
            "kind": "suite",
            "tests": t,
            "about": kinds.get(s, f"the tests of the {s[len(DEVICE_SUITE) :]}"),
        }
        for s, t in suites().items()
    ]


@dataclass(frozen=True, slots=True)
class Planned:
    """One test to run, and whether in quick mode."""

    test: Diagnostic
    quick: bool


def plan(names: Sequence[str]) -> list[Planned]:
    """Tests for suite and test names (each test once, first mention wins); unknown names raise."""
    tests, all_suites = diagnostics(), suites()
    out: dict[str, Planned] = {}
    for name in names:
        if name in tests:
            out.setdefault(name, Planned(tests[name], False))
        elif name in all_suites:
            for test in all_suites[name]:
                out.setdefault(test, Planned(tests[test], name == "quick"))
        else:
            valid = ", ".join([*tests, *all_suites])
            raise ConfigError(f"no diagnostic or suite {name!r}; known: {valid}")
    if not out:
        raise ConfigError("name at least one diagnostic or suite")
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Queued:
    """A test waiting for its device, which another run's test holds (``behind``)."""

    test: str
    device: str
    behind: str

    def as_dict(self) -> dict[str, Any]:
        """The ``queued`` line an engineer sees."""
        return {
            "event": "queued",
            "test": self.test,
            "device": self.device,
            "behind": self.behind,
            "message": f"{self.device} busy, {self.test} queued behind {self.behind}",
        }


@dataclass(slots=True)
class Runner:
    """Runs planned tests against one terminal; keeps a lock per device port across runs."""

    endpoints: Mapping[str, Any]
    stimulus: Stimulus | None = None
    timeout_s: float = 0.5
    links: LinkFactory = REAL_LINKS
    """Where the tests get their links (the real ports; in-memory doubles in tests)."""
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    holders: dict[str, tuple[str, object]] = field(default_factory=dict)
    """device -> the test now talking to it, and the run (stream) it belongs to."""

    def lock(self, device: str) -> asyncio.Lock:
        """The lock of one device's ports (one host talks to a device at a time)."""
        return self.locks.setdefault(device, asyncio.Lock())

    def busy(self, device: str, run: object = None) -> str | None:
        """The test holding ``device`` now for another run than ``run``, or None."""
        if not self.lock(device).locked():
            return None
        test, holder = self.holders.get(device, ("?", None))
        return None if run is not None and holder is run else test

    async def one(
        self,
        planned: Planned,
        queued: Callable[[Queued], None] | None = None,
        run: object = None,
    ) -> Result:
        """Run one test under its device's lock; ``queued`` is told when it has to wait behind
        another run's test (tests of one run that share a device just take turns)."""
        ctx = Context(self.endpoints, self.stimulus, planned.quick, self.timeout_s, self.links)
        device = planned.test.device
        lock = self.lock(device)
        if queued is not None and (holder := self.busy(device, run)) is not None:
            queued(Queued(planned.test.name, device, holder))
        async with lock:
            self.holders[device] = (planned.test.name, run)
            try:
                result = await planned.test.run_in(ctx)
            finally:
                del self.holders[device]
        log.info(
            "%s %s: %s %s",
            self.endpoints.get("terminal", "?"),
            result.test,
            result.status,
            result.suspect or "",
        )
        return result

    async def stream(
        self, names: Sequence[str], *, skip_busy: bool = False, notify: bool = False
    ) -> AsyncIterator[Result | Queued]:
        """Run tests concurrently and yield their results in plan order as they complete.

        ``skip_busy``: a test whose device another run holds is not run (a status read must
        not wait behind a diagnostic). ``notify``: also yield a :class:`Queued` notice, as
        soon as it happens, for each test that waits for its device. Unknown names raise before
        anything runs.
        """
        planned = [p for p in plan(names) if not (skip_busy and self.busy(p.test.device))]
        notices: asyncio.Queue[Queued] = asyncio.Queue()
        run = object()
        tasks = [
            asyncio.ensure_future(self.one(p, notices.put_nowait if notify else None, run))
            for p in planned
        ]
        try:
            for task in tasks:
                while not task.done():
                    getter = asyncio.ensure_future(notices.get())
                    await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                    if getter.done():
                        yield getter.result()
                    else:
                        getter.cancel()
                while not notices.empty():
                    yield notices.get_nowait()
                yield task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def run(
    names: Sequence[str],
    endpoints: Mapping[str, Any],
    *,
    stimulus: Stimulus | None = None,
    timeout_s: float = 0.5,
    links: LinkFactory = REAL_LINKS,
) -> list[Result]:
    """Run suites or tests and return all results (in plan order)."""
    runner = Runner(endpoints, stimulus, timeout_s, links)
    return [r async for r in runner.stream(names) if isinstance(r, Result)]
