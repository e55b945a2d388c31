"""A class started from the TUI: ``workbench class up`` run as a process of its own (so the class
goes on when the TUI closes, as one started from a shell does), its output in ``STATE/class.log``;
the class view read from ``STATE/class.json``, each kiosk's ``scenario.status`` and each agent's
audit log. Any class is stopped the way ``workbench class stop`` does it
(:func:`scenarios.classroom.stop_class`), whether this TUI, another or a shell started it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tui.backend import ClassView, PlayView, SeatView
from workbench.errors import ConfigError, WorkbenchError

CLASS_UP_S = 90.0
"""How long a class may take to come up (keys, certificates and kiosks for every trainee)."""


class ClassOps:
    """Mixed into :class:`tui.live.LiveBackend` after :class:`tui.live_trainer.TrainerOps`."""

    state_dir: Path
    _class_proc: subprocess.Popen[bytes] | None = None

    if TYPE_CHECKING:  # provided by the classes it is mixed with

        async def scenario_status(self, terminal: str) -> PlayView: ...

        def _actions_seen(self, terminal: str, since: float = 0.0) -> tuple[int, str]: ...

        def _note(self, terminal: str, action: str, outcome: str, detail: str = "") -> None: ...

    async def start_class(
        self, scenario: str, trainees: int, speed: float, hours: float
    ) -> ClassView:
        from scenarios.classroom import class_path

        view = await self.class_view()
        if view is not None and view.running:
            raise ConfigError(f"a class on {view.scenario} is running here; stop it first")
        record = class_path(self.state_dir)
        record.unlink(missing_ok=True)
        log_path = self.state_dir / "class.log"
        argv = [sys.executable, "-m", "workbench.cli", "class", "up", "--scenario", scenario]
        argv += ["--trainees", str(trainees), "--speed", f"{speed:g}", "--hours", f"{hours:g}"]
        argv += ["--state-dir", str(self.state_dir.resolve())]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        self._class_proc = proc
        deadline = time.monotonic() + CLASS_UP_S
        while "up in" not in log_path.read_text(errors="replace"):
            if proc.poll() is not None:
                lines = log_path.read_text(errors="replace").strip().splitlines()
                why = lines[-1].removeprefix("workbench: error: ") if lines else ""
                raise ConfigError(why or f"'workbench class up' exited {proc.returncode}")
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"the class did not come up within {CLASS_UP_S:g} s; see {log_path}"
                )
            await asyncio.sleep(0.1)
        self._note("-", f"class {scenario}", "started", f"{trainees} trainee(s) at {speed:g}x")
        view = await self.class_view()
        assert view is not None
        return view

    async def class_view(self) -> ClassView | None:
        from scenarios.classroom import read_class

        try:
            record = read_class(self.state_dir)
        except WorkbenchError:
            return None
        seats = record.get("trainees", [])
        started = float(record.get("started") or 0.0)
        plays = await asyncio.gather(*(self.scenario_status(t["terminal"]) for t in seats))
        seen = await asyncio.to_thread(  # audit logs read off the UI's event loop
            lambda: [self._actions_seen(t["terminal"], started) for t in seats]
        )
        views = []
        for seat, play, (count, last) in zip(seats, plays, seen, strict=True):
            done = sum(s.done for s in play.steps)
            views.append(
                SeatView(
                    seat["name"],
                    seat["terminal"],
                    play.state,
                    f"{done}/{len(play.steps)}" if play.steps else "-",
                    count,
                    last,
                )
            )
        return ClassView(
            str(record.get("scenario")),
            float(record.get("speed") or 0.0),
            float(record.get("started") or 0.0),
            any(v.state not in ("down", "none") for v in views),
            tuple(views),
        )

    async def stop_class(self) -> None:
        from scenarios.classroom import stop_class

        done = await asyncio.to_thread(stop_class, self.state_dir)
        if self._class_proc is not None:  # started here: collect its exit status
            await asyncio.to_thread(self._class_proc.wait)
            self._class_proc = None
        outcome = f"killed after {done.stopped.grace_s:g} s" if done.stopped.killed else "stopped"
        self._note("-", f"class {done.record.get('scenario')}", outcome)
