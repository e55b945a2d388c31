"""A scorecard just computed: who, on which terminal and scenario, the total, each scored item
with its points and why, and what the trainee did on the scenario's clock; and the message a
screen's "score now" worker posts when the card is in."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

from tui.backend import Backend, ScoreView


def points_text(points: int, max_points: int) -> str:
    """``20/20``, ``0/30``; a penalty (no maximum) as ``-30``."""
    return f"{points:+d}" if max_points == 0 else f"{points}/{max_points}"


class Scored(Message):
    """A terminal's run was scored and the card stored (or ``error``); a screen handles it in
    ``on_scored``."""

    def __init__(self, card: ScoreView | None, error: str | None = None) -> None:
        super().__init__()
        self.card, self.error = card, error

    @classmethod
    async def score(cls, backend: Backend, terminal: str) -> Scored:
        """Score ``terminal``'s run now; a failure is the message's ``error``, never raised."""
        try:
            return cls(await backend.score(terminal))
        except Exception as exc:
            return cls(None, f"score {terminal}: {exc}")

    def show(self, screen: Screen[None], error_timeout: float | None = None) -> None:
        """Tell the user on ``screen``: the error, or the points and the card itself."""
        if self.card is None:
            screen.notify(str(self.error), severity="error", timeout=error_timeout)
            return
        card = self.card
        screen.notify(f"{card.points}/{card.max_points} stored", title=f"Scored {card.terminal}")
        screen.app.push_screen(ScorecardScreen(card))


class ScorecardScreen(ModalScreen[None]):
    """Esc (or Enter) closes it; the card is already stored."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close")]

    DEFAULT_CSS = """
    ScorecardScreen { align: center middle; }
    ScorecardScreen > Vertical {
        width: 110; height: auto; max-height: 90%; padding: 1 2;
        border: thick $success; background: $surface;
    }
    ScorecardScreen Label { width: 100%; }
    ScorecardScreen DataTable { height: auto; max-height: 12; }
    """

    def __init__(self, card: ScoreView) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        c = self.card
        with Vertical():
            yield Label(
                f"[b]{c.scenario}[/b] on {c.terminal} ({c.trainee or 'nobody connected'}): "
                f"[b]{c.points}/{c.max_points}[/b]",
                id="scorecard-total",
            )
            yield DataTable(id="scorecard-items", cursor_type="none")
            yield Label("[b]what was done:[/b]")
            yield Label("\n".join(c.actions) or "nothing yet", id="scorecard-actions")
            yield Label(f"[dim]scorecard {c.card_id} stored · Esc closes[/]")

    def on_mount(self) -> None:
        table = self.query_one("#scorecard-items", DataTable)
        table.add_columns("item", "points", "detail")
        for item in self.card.items:
            table.add_row(item.name, points_text(item.points, item.max_points), item.detail)

    def action_close(self) -> None:
        self.dismiss(None)
