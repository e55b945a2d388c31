"""Plots of a sweep: SLA attainment and utilisation against the swept variable.

:func:`plot_png` draws them with matplotlib (headless, Agg); :func:`render_text` draws the
same series with plotext and returns the text, for the terminal and the TUI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from workbench.capacity.sweep import Point
from workbench.errors import ConfigError

SERIES: tuple[tuple[str, str, str], ...] = (
    ("overall.P1.onsite", "P1 on site <= 1 h", "P1 on site"),
    ("overall.P2.onsite", "P2 on site <= 2 h", "P2 on site"),
    ("overall.P1.restore", "P1 restored <= 2 h after arrival", "P1 restored"),
    ("overall.P3.fix", "P3 fixed <= 2 working days", "P3 fixed"),
)
"""Attainment series drawn on the left panel: (metric, label, short label for the terminal)."""
LOAD: tuple[tuple[str, str], ...] = (
    ("overall.utilisation", "engineer utilisation"),
    ("overall.availability", "terminal availability"),
)
"""Series drawn on the right panel."""


def _series(points: Sequence[Point], metric: str) -> tuple[list[float], list[float], list[float]]:
    xs, ys, errs = [], [], []
    for pt in sorted(points, key=lambda p: p.value):
        est = pt.summary.get(metric)
        if est is None or math.isnan(est.mean):
            continue
        xs.append(pt.value)
        ys.append(est.mean)
        errs.append(0.0 if math.isnan(est.half) else est.half)
    return xs, ys, errs


def _check(points: Sequence[Point]) -> str:
    if not points:
        raise ConfigError("no sweep points to plot")
    return points[0].param


def plot_png(points: Sequence[Point], out: str | Path) -> Path:
    """Write a two-panel PNG (attainment, utilisation) with 95 % CI error bars."""
    param = _check(points)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for metric, label, _ in SERIES:
        xs, ys, errs = _series(points, metric)
        left.errorbar(xs, ys, yerr=errs, marker="o", capsize=3, label=label)
    left.set_xlabel(param)
    left.set_ylabel("share meeting the clock")
    left.set_ylim(0, 1.02)
    left.grid(alpha=0.3)
    left.legend(fontsize=8, loc="lower right")
    left.set_title("SLA attainment (95 % CI over replications)")
    for metric, label in LOAD:
        xs, ys, errs = _series(points, metric)
        right.errorbar(xs, ys, yerr=errs, marker="s", capsize=3, label=label)
    right.set_xlabel(param)
    right.set_ylim(0, 1.02)
    right.grid(alpha=0.3)
    right.legend(fontsize=8, loc="lower right")
    right.set_title("utilisation and availability")
    path = Path(out)
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return path


def render_text(
    points: Sequence[Point], width: int = 100, height: int = 24, color: bool = False
) -> str:
    """The attainment and utilisation series as a plotext chart, returned as text.

    Colourless by default so the TUI or a log can embed it; ``color=True`` keeps ANSI codes.
    """
    param = _check(points)
    import plotext

    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("default" if color else "colorless")
    series = (*SERIES, (LOAD[0][0], "", "utilisation"))
    for (metric, _, label), marker in zip(series, "12RFu", strict=True):
        xs, ys, _ = _series(points, metric)
        if xs:
            fig.draw(fig.signal(xs, ys, marker=marker).label(label).lines())
    fig.title("SLA attainment and utilisation (overall)")
    fig.label(param)
    text: str = fig.build().string(not color)
    fig.clear()
    return text
