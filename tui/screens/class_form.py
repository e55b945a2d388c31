"""How many trainees, how fast and how long: the questions before a class starts (a scenario
already picked). Each value is checked as it is submitted; a wrong one is named in red."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

MAX_TRAINEES = 500
"""What ``workbench class up --trainees`` takes."""

FIELDS = (
    ("trainees", "trainees (one kiosk, key, window and handout each)", "3"),
    ("speed", "speed (simulated seconds per wall second)", "60"),
    ("hours", "each trainee's window (hours)", "1"),
)


def parse_class(values: dict[str, str]) -> tuple[int, float, float]:
    """``(trainees, speed, hours)``; a :class:`ValueError` naming the field that is wrong."""
    try:
        trainees = int(values["trainees"])
    except ValueError:
        raise ValueError(f"trainees(={values['trainees']!r}) must be a whole number") from None
    if not 1 <= trainees <= MAX_TRAINEES:
        raise ValueError(f"trainees(={trainees}) must be 1 to {MAX_TRAINEES}")
    out = []
    for name in ("speed", "hours"):
        try:
            value = float(values[name])
        except ValueError:
            raise ValueError(f"{name}(={values[name]!r}) must be a number") from None
        if value <= 0:
            raise ValueError(f"{name}(={value:g}) must be > 0")
        out.append(value)
    return trainees, out[0], out[1]


class ClassFormScreen(ModalScreen[tuple[int, float, float] | None]):
    """Enter in the last field (or on any, once all are filled) starts; Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    ClassFormScreen { align: center middle; }
    ClassFormScreen > Vertical {
        width: 70; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    ClassFormScreen Label { width: 100%; }
    ClassFormScreen #class-error { color: $error; }
    """

    def __init__(self, scenario: str) -> None:
        super().__init__()
        self.scenario = scenario

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Start a class on [b]{self.scenario}[/b]", classes="title")
            for name, label, default in FIELDS:
                yield Label(label)
                yield Input(default, id=f"class-{name}")
            yield Label("", id="class-error")
            yield Label("[dim]Enter starts · Esc cancels[/]")

    def on_input_submitted(self, _: Input.Submitted) -> None:
        values = {name: self.query_one(f"#class-{name}", Input).value for name, _, _ in FIELDS}
        try:
            answer = parse_class(values)
        except ValueError as exc:
            self.query_one("#class-error", Label).update(str(exc))
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
