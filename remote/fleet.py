"""The fleet fan-out: find every terminal running under a state directory and run one suite on
each, at most ``concurrency`` at once, where one terminal's failure stops nothing.

A fleet run uses one certificate naming every terminal it may reach as a principal (see
docs/remote.md for why, and for the per-terminal alternative).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from remote.client import Endpoint, Identity, RunReport, run_suite
from workbench.errors import ConfigError

log = logging.getLogger(__name__)


async def fleet(
    manifests: Sequence[Path],
    identity: Identity,
    suite: str,
    *,
    concurrency: int = 20,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[RunReport], None] | None = None,
    connect_timeout: float = 10.0,
) -> list[RunReport]:
    """Run a suite on every terminal, at most ``concurrency`` at once; one failure stops nothing."""
    if concurrency < 1:
        raise ConfigError(f"concurrency(={concurrency}) must be >= 1")
    gate = asyncio.Semaphore(concurrency)

    async def one(manifest: Path) -> RunReport:
        async with gate:
            try:
                endpoint = Endpoint.from_manifest(manifest)
            except ConfigError as exc:
                report = RunReport(
                    manifest.parent.name,
                    suite,
                    identity.engineer,
                    time.time(),
                    time.time(),
                    "error",
                    error=str(exc),
                )
            else:
                if on_start is not None:
                    on_start(endpoint.terminal)
                try:
                    report = await run_suite(
                        endpoint, identity, suite, connect_timeout=connect_timeout
                    )
                except Exception as exc:  # a bug must not stop the other terminals either
                    log.exception("%s: run failed", endpoint.terminal)
                    report = RunReport(
                        endpoint.terminal,
                        suite,
                        identity.engineer,
                        time.time(),
                        time.time(),
                        "error",
                        error=f"{type(exc).__name__}: {exc}",
                    )
            if on_done is not None:
                on_done(report)
            return report

    return list(await asyncio.gather(*(one(m) for m in manifests)))
