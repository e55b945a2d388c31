"""Which of the fleet's terminals are probed again on their own, and when: one whose agent
answers late (``slow``) or not at all (``down``), or whose agent is no longer known (``-``: its
kiosk stopped) after it had one, is probed again after a wait that doubles with each such answer,
up to a cap, until it answers ``up``."""

from __future__ import annotations

from collections.abc import Callable

from textual.timer import Timer

FOLLOWED = ("slow", "down")
"""Probe states of a terminal probed again on its own until it answers ``up``."""
HAD_AGENT = ("up", "slow", "down")
"""Probe states that say the terminal has an agent (answering or not)."""
REPROBE_FIRST_S = 5.0
"""How long after a ``slow`` or ``down`` answer a terminal is probed again; each further such
answer doubles the wait, up to :data:`REPROBE_MAX_S` (a probe of a slow agent holds a connection
for seconds: an overloaded machine is not hammered, nor a fleet's many stopped terminals)."""
REPROBE_MAX_S = 120.0


class Following:
    """The followed terminals, each with its timer and the wait it was set for (``waits``)."""

    def __init__(self, set_timer: Callable[..., Timer], reprobe: Callable[[str], object]) -> None:
        self._set_timer, self._reprobe = set_timer, reprobe
        self.waits: dict[str, tuple[Timer, float]] = {}
        self._had_agent: set[str] = set()  # a terminal listed in no manifest is not followed

    def clear(self) -> None:
        """Follow nobody (the rows are probed afresh)."""
        for timer, _ in self.waits.values():
            timer.stop()
        self.waits.clear()

    def listed(self, terminal: str, state: str) -> None:
        """A row as the fleet was (re)loaded: followed if its state says so."""
        if state in HAD_AGENT:
            self._had_agent.add(terminal)
        if self._follows(terminal, state):
            self._later(terminal)

    def answered(self, terminal: str, state: str) -> bool:
        """A probe's answer; True when it is a followed terminal's ``up`` (it is back)."""
        if state in HAD_AGENT:
            self._had_agent.add(terminal)
        if self._follows(terminal, state):
            self._later(terminal)
            return False
        return self.stop(terminal) is not None and state == "up"

    def stop(self, terminal: str) -> float | None:
        """Stop following ``terminal``: the wait its timer was set for (None: not followed)."""
        followed = self.waits.pop(terminal, None)
        if followed is None:
            return None
        followed[0].stop()
        return followed[1]

    def _follows(self, terminal: str, state: str) -> bool:
        return state in FOLLOWED or (state == "-" and terminal in self._had_agent)

    def _later(self, terminal: str) -> None:
        """Probe ``terminal`` again after a wait twice the last one's (the first
        :data:`REPROBE_FIRST_S`, at most :data:`REPROBE_MAX_S`)."""
        last = self.stop(terminal)
        wait = REPROBE_FIRST_S if last is None else min(2 * last, REPROBE_MAX_S)
        timer = self._set_timer(wait, lambda: self._reprobe(terminal), name=f"reprobe {terminal}")
        self.waits[terminal] = (timer, wait)
