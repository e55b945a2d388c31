"""A capacity result drawn in the terminal, as rich text that renders in any Static widget.

- A run (``workbench capacity run --json``): one horizontal bar per SLA verdict row, the measured
  share of faults meeting the clause's clock against its target (``|``), coloured by the verdict,
  failing rows first.
- A sweep (``workbench capacity sweep --out FILE.json|.csv``): per scope (overall, then each
  region) the plotext chart ``workbench capacity plot --text`` draws: attainment by severity and
  engineer utilisation against the swept parameter, with the target line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.text import Text

from workbench.errors import ConfigError

VERDICT_COLOUR = {"fails": "red", "undecided": "yellow", "holds": "green", "no faults": "dim"}
ORDER = list(VERDICT_COLOUR)
BAR = 40


def load_capacity(path: Path) -> dict[str, Any]:
    """Read a ``capacity run --json`` result or a sweep's results file; a one-line error names
    the file and what is wrong. A sweep comes back as ``{"sweep": [Point, ...]}``."""
    if Path(path).suffix == ".csv" or _is_list(path):
        from workbench.capacity.sweep import load

        points = load(path)
        if not points:
            raise ConfigError(
                f"{path}: no sweep points: give a `workbench capacity sweep --out` file"
            )
        return {"sweep": points}
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the capacity result: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None
    rows = doc.get("verdict", {}).get("rows") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f"{path}: no verdict.rows: give `workbench capacity run --json` output")
    return doc


def _is_list(path: Path) -> bool:
    """Whether a JSON file holds a list (a sweep's points) rather than one run's result."""
    try:
        with Path(path).open("rb") as f:
            return f.read(64).lstrip().startswith(b"[")
    except OSError:
        return False  # load_capacity's own read names the error


def capacity_chart(doc: dict[str, Any], bar: int = BAR, width: int = 100) -> Text:
    """The verdict rows as bars: measured share (filled) against the target (``|``); or, for a
    sweep, one plotext chart per scope."""
    if "sweep" in doc:
        return sweep_chart(doc["sweep"], width)
    verdict = doc.get("verdict", {})
    out = Text()
    out.append(f"{doc.get('plan', '?')}: {verdict.get('line', '')}\n", style="bold")
    rows = sorted(verdict.get("rows", []), key=lambda r: _rank(str(r.get("verdict"))))
    width = max((len(f"{r.get('scope')} {r.get('clause')}") for r in rows), default=0)
    for row in rows:
        label = f"{row.get('scope')} {row.get('clause')}".ljust(width)
        share, target = row.get("share"), float(row.get("target") or 0)
        colour = VERDICT_COLOUR.get(str(row.get("verdict")), "")
        filled = 0 if share is None else round(float(share) * bar)
        mark = min(bar - 1, round(target * bar))
        cells = ["█" if i < filled else "·" for i in range(bar)]
        cells[mark] = "|"
        out.append(f"{label} ")
        out.append("".join(cells), style=colour)
        measured = "  -  " if share is None else f"{100 * float(share):5.1f}"
        out.append(f" {measured} % vs {100 * target:g} %  {row.get('verdict')}\n", style=colour)
    return out


def _rank(verdict: str) -> int:
    return ORDER.index(verdict) if verdict in ORDER else len(ORDER)


def sweep_chart(points: list[Any], width: int = 100, height: int = 20) -> Text:
    """A sweep's attainment and utilisation per scope, drawn by plotext in colour."""
    from workbench.capacity.plot import render_text, scopes_of

    out = Text()
    for scope in scopes_of(points):
        out.append_text(Text.from_ansi(render_text(points, width, height, True, scope)))
        out.append("\n\n")
    return out
