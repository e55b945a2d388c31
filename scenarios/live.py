"""A scenario played in live time: simulated kiosks with their SSH agents, the scenario's timeline
on each, and site visits that trainees dispatch, so that trainees work on the kiosks through
``workbench remote`` (or the TUI) while the story unfolds.

    async with LiveScenario(load("display-brightness-low"), state_dir, ["KSK-0001"], speed=60):
        ...   # trainees connect; STATE/KSK-0001/scenario.json says what is running

Each terminal's ``scenario.json`` (beside its ``endpoints.json``) records which scenario runs,
the speed and the wall and simulated times it started: what scoring needs to put the agent's
audit log (wall time) on the scenario's simulated clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devices.kiosk import KioskHost
from scenarios.library import Loaded
from scenarios.stage import Stage
from scenarios.timeline import Observer, Timeline
from workbench.clock import check_speed

log = logging.getLogger(__name__)


def ensure_ca(ca_dir: Path) -> Path:
    """The support CA in ``ca_dir``, created there on first use."""
    from remote.window import CertificateAuthority

    if not (ca_dir / "user_ca.pub").exists():
        CertificateAuthority.init(ca_dir)
    return ca_dir


class LiveScenario:
    """Kiosks with agents, in live time, each playing the scenario's timeline on a
    :class:`scenarios.stage.Stage` (so their control planes answer ``scenario.status``)."""

    def __init__(
        self,
        loaded: Loaded,
        state_dir: str | Path,
        ids: Sequence[str],
        *,
        speed: float = 60.0,
        ca_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        class_id: str | None = None,
    ) -> None:
        self.loaded = loaded
        self.state_dir = Path(state_dir).resolve()
        self.ids = list(ids)
        self.speed = check_speed(speed)  # before a class seats anyone: keys, certificates
        self.ca_dir = Path(ca_dir) if ca_dir is not None else self.state_dir / "ca"
        self.named_ca = ca_dir is not None
        """A CA the caller named is used, never made (a typo made a new, untrusted CA there)."""
        self.bind = host
        self.class_id = class_id
        """The class the agents serve (a ``class up``), which its trainees' certificates name."""
        self.observer = Observer()
        self.kiosks: KioskHost | None = None
        self.stage: Stage | None = None

    @property
    def scenario(self) -> Any:
        return self.loaded.scenario

    @property
    def timelines(self) -> dict[str, Timeline]:
        """Each terminal's timeline."""
        return {} if self.stage is None else {t: p.timeline for t, p in self.stage.plays.items()}

    def run_path(self, terminal_id: str) -> Path:
        """``STATE/ID/scenario.json``: what runs on this terminal and since when."""
        return self.state_dir / terminal_id / "scenario.json"

    async def start(self) -> None:
        """Start the kiosks and their agents, then the timelines; write each run record."""
        from scenarios.wiring import kiosk_backend, kiosk_extra

        s = self.scenario
        if self.named_ca:
            from remote.window import CertificateAuthority

            CertificateAuthority(self.ca_dir)  # "not a CA directory (run ... ca init ...)"
        else:
            ensure_ca(self.ca_dir)
        self.kiosks = KioskHost(
            self.state_dir,
            self.loaded.profile,
            self.ids,
            speed=self.speed,
            seed=s.seed,
            host=self.bind,
            extras=[
                kiosk_extra(self.ca_dir, kiosk_backend, host=self.bind, class_id=self.class_id)
            ],
            initial_time=s.start_offset,
        )
        self.kiosks.listeners.append(self.observer)
        await self.kiosks.start()
        self.stage = Stage(self.kiosks, self.ca_dir)
        for tid in self.kiosks.terminals:
            self.stage.serve(tid)
            self.stage.start(tid, self.loaded, sim_origin=s.start_offset)

    async def close(self) -> None:
        """Stop the visits watcher, the agents and the kiosks (the run records stay for scoring)."""
        if self.stage is not None:
            await self.stage.close()
        if self.kiosks is not None:
            await self.kiosks.close()
            self.kiosks = None

    async def __aenter__(self) -> LiveScenario:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def poll_dispatches(self) -> None:
        """Start the visit of every dispatch not seen yet (travel, then the catalog's repair)."""
        if self.stage is not None:
            self.stage.poll_dispatches()


def read_run(state_dir: Path, terminal_id: str) -> dict[str, Any]:
    """A terminal's ``scenario.json`` (a :class:`WorkbenchError` naming it when missing)."""
    from workbench.errors import ConfigError

    path = state_dir / terminal_id / "scenario.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no scenario has run on {terminal_id} here (see 'workbench scenario run "
            "--live' or 'workbench class up')"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a scenario run record: {exc}") from None
    return record
