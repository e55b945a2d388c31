"""How a terminal's screen writes what the terminal says into its tables: a result's cells, a
status or outcome in its colour, its devices' state from a ``status`` document, a log line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.widgets.fleet_table import OUTCOME_COLOUR

MEASUREMENTS_WIDTH = 70
RESULT_COLUMNS = (
    ("test", 15),
    ("status", 6),
    ("suspect", 26),
    ("remedy / hint", 34),
    ("measurements", MEASUREMENTS_WIDTH),
)


def measurements(line: dict[str, Any]) -> str:
    """A result's measurements in one line: ``name value unit, ...``."""
    return ", ".join(
        f"{k} {v.get('value')} {v.get('unit', '')}".strip() if isinstance(v, dict) else f"{k} {v}"
        for k, v in (line.get("measurements") or {}).items()
    )


def status_text(status: str) -> str:
    """A status or outcome in its colour (Rich markup)."""
    colour = OUTCOME_COLOUR.get(status)
    return f"[{colour}]{status}[/]" if colour else status


def log_text(entry: dict[str, Any]) -> str:
    """The few fields worth a line: a test's verdict, a remedy's outcome, a fault's id."""
    keys = ("test", "status", "suspect", "action", "cleared", "detail", "id")
    return " ".join(f"{k}={entry[k]}" for k in keys if entry.get(k) not in (None, ""))


def device_rows(
    status: dict[str, Any], suite_tests: Callable[[str], list[str]]
) -> list[tuple[str, str, str, str]]:
    """(device, ports, checklist items now, suspects) for each device of a ``status`` document,
    then a row for each checklist item no device's suite names."""
    now = status.get("now") or {}
    rows = []
    shown: set[str] = set()
    for device, ports in (status.get("devices") or {}).items():
        tests = {t: now[t] for t in suite_tests(f"device:{device}") if t in now}
        shown |= set(tests)
        state = ", ".join(f"{t} {status_text(str(v.get('status')))}" for t, v in tests.items())
        suspects = ", ".join(str(v.get("suspect")) for v in tests.values() if v.get("suspect"))
        ports_text = "  ".join(f"{k}={v}" for k, v in ports.items())
        rows.append((device, ports_text, state or "-", suspects))
    for test, v in now.items():
        if test not in shown:
            state = f"{test} {status_text(str(v.get('status')))}"
            rows.append((f"({test})", "", state, str(v.get("suspect") or "")))
    return rows
