"""Plots of a sweep: SLA attainment (with the target line) and utilisation against the swept variable.

:func:`plot_png` draws them with matplotlib (headless, Agg), one row of panels per scope
(``overall`` or a region); :func:`render_text` draws the same series with plotext and
returns the text, for the terminal and the TUI. Every clock counts from the fault report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from workbench.capacity.clauses import BY_KEY, DEFAULT_TARGET
from workbench.capacity.sweep import Point
from workbench.errors import ConfigError

SERIES: tuple[tuple[str, str, str], ...] = tuple(
    (BY_KEY[key].metric, f"{BY_KEY[key].severity} {BY_KEY[key].label}", short)
    for key, short in (
        ("p3_onsite", "P3 on site"),
        ("p2_restore", "P2 restored"),
        ("p1_restore", "P1 restored"),
        ("p2_onsite", "P2 on site"),
        ("p1_onsite", "P1 on site"),
    )
)
"""Attainment series, drawn in this order so P1 ends on top: (metric, label, short label)."""
_STYLE = {"P1": ("-", "o", 2.4), "P2": ("--", "s", 1.8), "P3": (":", "^", 1.6)}
LOAD: tuple[tuple[str, str], ...] = (
    ("utilisation", "engineer utilisation"),
    ("availability", "terminal availability"),
)
"""Series drawn on the right panel (metric suffix, label)."""


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


def scopes_of(points: Sequence[Point]) -> list[str]:
    """The scopes a sweep's results hold: ``overall`` and every region, in file order."""
    if not points:
        return []
    seen = dict.fromkeys(
        k.partition(".")[0] for k in points[0].summary if k.endswith(".utilisation")
    )
    return list(seen)


def _check(points: Sequence[Point], scopes: Sequence[str]) -> tuple[str, list[str]]:
    if not points:
        raise ConfigError("no sweep points to plot")
    known = scopes_of(points)
    wanted = known if "all" in scopes else list(scopes)
    for s in wanted:
        if s not in known:
            raise ConfigError(f"--region {s!r}: not in the results; known: {', '.join(known)}, all")
    return points[0].param, wanted


def plot_png(
    points: Sequence[Point],
    out: str | Path,
    scopes: Sequence[str] = ("overall",),
    target: float = DEFAULT_TARGET,
) -> Path:
    """Write a PNG: per scope, attainment with 95 % CI bars and the target line, and load."""
    param, wanted = _check(points, scopes)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(wanted)
    fig, axes = plt.subplots(
        rows, 2, figsize=(12, 3.9 * rows + 0.9), squeeze=False, constrained_layout=True
    )
    for row, scope in enumerate(wanted):
        left, right = axes[row]
        for metric, label, _ in SERIES:
            xs, ys, errs = _series(points, f"{scope}.{metric}")
            style, marker, width = _STYLE[label[:2]]
            left.errorbar(xs, ys, yerr=errs, linestyle=style, marker=marker, linewidth=width,
                          capsize=3, label=label)  # fmt: skip
        left.axhline(target, color="black", linestyle=(0, (6, 3)), linewidth=1,
                     label=f"target {100 * target:g} %")  # fmt: skip
        left.set_xlabel(param)
        left.set_ylabel("share meeting the clock")
        left.set_ylim(0, 1.02)
        left.grid(alpha=0.3)
        left.set_title(f"{scope}: SLA attainment, clocks from the fault report (95 % CI)")
        for metric, label in LOAD:
            xs, ys, errs = _series(points, f"{scope}.{metric}")
            right.errorbar(xs, ys, yerr=errs, marker="s", capsize=3, label=label)
        right.set_xlabel(param)
        right.set_ylim(0, max(1.02, *(y for y in _series(points, f"{scope}.utilisation")[1])))
        right.grid(alpha=0.3)
        right.set_title(f"{scope}: utilisation and availability")
        if row == 0:
            left.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.16), ncol=2)
            right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.16), ncol=2)
    path = Path(out)
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return path


def render_text(
    points: Sequence[Point],
    width: int = 100,
    height: int = 24,
    color: bool = False,
    scope: str = "overall",
    target: float = DEFAULT_TARGET,
) -> str:
    """The attainment and utilisation series of one scope as a plotext chart, returned as text.

    Colourless by default so the TUI or a log can embed it; ``color=True`` keeps ANSI codes.
    The target is a horizontal line marked ``T``.
    """
    param, _ = _check(points, [scope])
    import plotext

    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("default" if color else "colorless")
    series = (*SERIES, ("utilisation", "engineer utilisation", "utilisation"))
    legend = []
    for (metric, label, _), marker in zip(series, "3rR21u", strict=True):
        xs, ys, _ = _series(points, f"{scope}.{metric}")
        if xs:
            fig.draw(fig.signal(xs, ys, marker=marker).lines())
            legend.append(f"{marker} {label}")
    fig.line(target, style="dotted")
    legend.append(f"··· target {100 * target:g} %")
    fig.legend(active=False)
    fig.title(f"SLA attainment and utilisation ({scope}; clocks from the fault report)")
    fig.label(param)
    text: str = fig.build().string(not color)
    fig.clear()
    return text + "\n" + _wrap("   ".join(legend), width)


def _wrap(text: str, width: int) -> str:
    """The legend under the chart, broken between entries to fit ``width``."""
    lines, line = [], ""
    for entry in text.split("   "):
        if line and len(line) + 3 + len(entry) > width:
            lines.append(line)
            line = entry
        else:
            line = f"{line}   {entry}" if line else entry
    return "\n".join([*lines, line])
