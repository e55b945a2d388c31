"""The trainer's half of :class:`tui.live.LiveBackend`: faults and stimuli through a simulated
kiosk's control plane, scenarios started, watched and stopped there (``scenario.start|status|stop``,
which ``workbench kiosk up`` and live scenario runs serve), scoring on demand, the agent's audit log
and the stored scorecards."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.backend import PlayView, ScenarioInfo, ScoreItem, ScoreView, StepView, at_text
from workbench.errors import ConfigError, DeviceError, RemoteError, TransportError, WorkbenchError

if TYPE_CHECKING:
    from workbench.records import Scorecard


def _summary(description: str, title: str) -> str:
    """The first sentence of a scenario's description (its title when it has none)."""
    text = " ".join(description.split())
    return (text.split(". ")[0].rstrip(".") + ".") if text else title


def play_view(terminal: str, doc: dict[str, Any]) -> PlayView:
    """A ``scenario.status`` reply as the screens show it."""
    return PlayView(
        terminal,
        str(doc.get("state", "none")),
        str(doc.get("scenario", "")),
        str(doc.get("title", "")),
        str(doc.get("severity", "")),
        float(doc.get("speed") or 0.0),
        float(doc.get("elapsed_wall") or 0.0),
        float(doc.get("elapsed_sim") or 0.0),
        str(doc.get("clock", "")),
        tuple(
            StepView(float(s["at"]), str(s["what"]), bool(s["done"])) for s in doc.get("steps", [])
        ),
        tuple(f"{e['clock']}  {e['text']}" for e in doc.get("log", [])),
        tuple(doc.get("active_faults", [])),
    )


class TrainerOps:
    """Mixed into :class:`tui.live.LiveBackend` (which provides the state dir and the trail)."""

    state_dir: Path
    store_path: Path
    engineer: str
    _library: list[ScenarioInfo] | None = None

    if TYPE_CHECKING:  # provided by LiveBackend

        def _manifest(self, terminal: str) -> dict[str, Any]: ...

        def _note(self, terminal: str, action: str, outcome: str, detail: str = "") -> None: ...

    def _control(self, terminal: str) -> str:
        if not (self.state_dir / terminal / "endpoints.json").exists():  # stopped, or never ran
            raise ConfigError(
                f"{terminal} is not running (no kiosk answers for it under {self.state_dir})"
            )
        path = self._manifest(terminal).get("control")
        if not path:
            raise RemoteError(f"{terminal} is not a simulated kiosk: no fault injection")
        return str(path)

    async def faults(self, terminal: str) -> list[dict[str, Any]]:
        from devices.transports.control_client import request_async

        result: list[dict[str, Any]] = await request_async(self._control(terminal), "fault.list")
        return result

    async def inject(self, terminal: str, fault: str) -> None:
        from devices.transports.control_client import request_async

        await request_async(self._control(terminal), "fault.inject", id=fault, by=self.engineer)
        self._note(terminal, f"inject {fault}", "done")

    async def clear(self, terminal: str, fault: str) -> None:
        from devices.transports.control_client import request_async

        await request_async(self._control(terminal), "fault.clear", id=fault, by=self.engineer)
        self._note(terminal, f"clear {fault}", "done")

    async def act(self, terminal: str, stimulus: str) -> str:
        from devices.transports.control_client import request_async

        action, *args = stimulus.split()
        result = await request_async(
            self._control(terminal), "act", action=action, args=args, device=None, by=self.engineer
        )
        message = str(result.get("message") if isinstance(result, dict) else result)
        self._note(terminal, f"stimulus {stimulus}", "done", message)
        return message

    def agent_audit(self, terminal: str, limit: int = 200) -> list[dict[str, Any]]:
        path = self.state_dir / terminal / "agent" / "audit.jsonl"
        try:
            lines = path.read_text().splitlines()[-limit:]
        except OSError:
            return []
        out = []
        for text in lines:
            try:
                out.append(json.loads(text))
            except ValueError:
                continue  # a torn last line
        return out

    def scorecards(self, limit: int = 200) -> list[Scorecard]:
        if not self.store_path.exists():
            return []
        from workbench.store import RecordStore

        with RecordStore(self.store_path) as store:
            cards = store.scorecards()
        return sorted(cards, key=lambda c: (c.created, c.id), reverse=True)[:limit]

    # -- scenarios ------------------------------------------------------------------------------
    def library(self) -> list[ScenarioInfo]:
        if self._library is None:
            from scenarios.library import available, load
            from scenarios.stage import step_text
            from scenarios.timeline import plan

            found = []
            for name in available():
                try:
                    s = load(name).scenario
                except WorkbenchError:
                    continue  # a broken library file: `workbench scenario validate` names it
                steps = tuple(f"{at_text(at)} {step_text(step)}" for at, step in plan(s))
                found.append(
                    ScenarioInfo(
                        s.name,
                        str(s.severity),
                        s.profile,
                        s.title,
                        _summary(s.description, s.title),
                        steps,
                    )
                )
            self._library = found
        return self._library

    async def _scenario(self, terminal: str, op: str, **fields: Any) -> dict[str, Any]:
        from devices.transports.control_client import request_async

        try:
            doc: dict[str, Any] = await request_async(self._control(terminal), op, **fields)
        except DeviceError as exc:
            if "unknown op" in str(exc):
                raise RemoteError(
                    f"{terminal} plays no scenarios: start it with 'workbench kiosk up' "
                    "(or 'workbench scenario run --live')"
                ) from None
            raise
        return doc

    async def start_scenario(self, terminal: str, scenario: str) -> PlayView:
        record = await self._scenario(terminal, "scenario.start", scenario=scenario)
        self._note(terminal, f"scenario {scenario}", "started", f"at {record.get('speed')}x")
        return await self.scenario_status(terminal)

    async def scenario_status(self, terminal: str) -> PlayView:
        try:
            return play_view(terminal, await self._scenario(terminal, "scenario.status"))
        except (TransportError, ConfigError) as exc:  # not running (no socket, no manifest)
            return PlayView(terminal, "down", error=str(exc))

    async def stop_scenario(self, terminal: str) -> PlayView:
        view = play_view(terminal, await self._scenario(terminal, "scenario.stop"))
        self._note(terminal, f"scenario {view.scenario}", "stopped")
        return view

    async def score(self, terminal: str) -> ScoreView:
        from scenarios.scoring import score_terminal, store_scorecard

        def scored() -> tuple[Any, int]:
            card = score_terminal(self.state_dir, terminal)
            return card, store_scorecard(self.state_dir, card)

        card, card_id = await asyncio.to_thread(scored)
        self._note(terminal, f"score {card.scenario}", f"{card.points}/{card.max_points}")
        actions = []
        for a in card.actions:
            extra = (
                f" -> {a['outcome']}"
                if a.get("outcome")
                else (f" (exit {a['exit_status']})" if a.get("exit_status") is not None else "")
            )
            actions.append(f"{a['clock']}  {a['action']}{extra}")
        return ScoreView(
            card.scenario,
            card.terminal,
            card.trainee,
            card.points,
            card.max_points,
            tuple(ScoreItem(i.name, i.points, i.max_points, i.detail) for i in card.items),
            tuple(actions),
            card_id,
        )

    def _actions_seen(self, terminal: str, since: float = 0.0) -> tuple[int, str]:
        """How many actions trainees took on the terminal's agent from ``since`` (a class's
        start: the log goes on from the classes before), and the last one, as their scorecards
        count them: a run of reads (``status``, ``logs``..., which a TUI's terminal screen sends
        every few seconds) is one action, and the last action is the last that is not a read."""
        from scenarios.scoring import is_read

        commands = [
            r
            for r in self.agent_audit(terminal, 2000)
            if r.get("event") == "command" and float(r.get("time") or 0) >= since
        ]
        if not commands:
            return 0, ""
        reads = [is_read(str(c.get("command") or "")) is not None for c in commands]
        count = sum(1 for i, read in enumerate(reads) if not read or i == 0 or not reads[i - 1])
        acted = [c for c, read in zip(commands, reads, strict=True) if not read]
        last = (acted or commands)[-1]
        when = time.strftime("%H:%M:%S", time.localtime(float(last.get("time") or 0)))
        return count, f"{when} {last.get('command')}"
