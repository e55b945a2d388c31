"""The eleven checklist diagnostics by name, the suites built from them (``inspection``: all, in
checklist order; ``quick``: all, status reads only; ``device:<name>``: the tests of one
device), and the runner that streams their results.

Tests of different devices run concurrently; tests that share a device's port (the validator
and its cash box) take turns, and results come out in checklist order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
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


@dataclass(slots=True)
class Runner:
    """Runs planned tests against one terminal; keeps a lock per device port across runs."""

    endpoints: Mapping[str, Any]
    stimulus: Stimulus | None = None
    timeout_s: float = 0.5
    links: LinkFactory = REAL_LINKS
    """Where the tests get their links (the real ports; in-memory doubles in tests)."""
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, device: str) -> asyncio.Lock:
        """The lock of one device's ports (one host talks to a device at a time)."""
        return self.locks.setdefault(device, asyncio.Lock())

    async def one(self, planned: Planned) -> Result:
        """Run one test under its device's lock."""
        ctx = Context(self.endpoints, self.stimulus, planned.quick, self.timeout_s, self.links)
        async with self.lock(planned.test.device):
            result = await planned.test.run_in(ctx)
        log.info(
            "%s %s: %s %s",
            self.endpoints.get("terminal", "?"),
            result.test,
            result.status,
            result.suspect or "",
        )
        return result

    async def stream(self, names: Sequence[str]) -> AsyncIterator[Result]:
        """Run tests concurrently and yield their results in plan order as they complete.

        Unknown names raise before anything runs.
        """
        planned = plan(names)
        tasks = [asyncio.ensure_future(self.one(p)) for p in planned]
        try:
            for task in tasks:
                yield await task
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
    return [r async for r in runner.stream(names)]
