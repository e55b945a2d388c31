"""Where a touch lands in a touch panel's raw space, and the raw points a kiosk's buttons are
tapped at, remembered with the drift over which each holds.

The panel maps screen pixel ``(px, py)``, with the mapping drifted by ``d`` pixels along
:data:`DRIFT_DIRECTION`, to raw ``round(xl + (px + d * 0.8) * width / columns)`` and
``round(yt + (py + d * 0.6) * height / rows)``, held within ``0..top`` (:func:`raw_point`).

Each step of those sums is a correctly rounded floating-point operation that never decreases
as its operand grows (an addition, a product or a quotient by a positive number; ``round`` and
the hold at the ends never decrease either), so while the raw width and height are positive,
the raw point never decreases as ``d`` grows: when it is the same at ``lo`` and at ``hi``, it is
the same at every ``d`` between. A :class:`Point` keeps a tap's raw point, its packets and its
logged values with such a range, from the drift at the tap that worked it out to just short of
where a raw coordinate would move on (checked there with the same sums). The drift grows about
a quarter of a pixel a day, so a kiosk's buttons are tapped thousands of times at each raw point.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from devices.protocols import touch as t

if TYPE_CHECKING:
    from devices.touchscreen import TouchscreenSettings

DRIFT_DIRECTION = (0.8, 0.6)
"""Unit vector (screen pixels) along which the panel's mapping drifts (a 3-4-5 triangle)."""
DRIFT_X, DRIFT_Y = DRIFT_DIRECTION
_NEAR = 0.999
"""How far towards the next raw unit a :class:`Point`'s range reaches (then checked)."""

Axes = tuple[tuple[float, ...], float, float, int, float, float, int, int, float]


def axes(base: tuple[float, float, float, float], s: TouchscreenSettings) -> Axes:
    """The raw space at ``base`` (raw X at the left/right and raw Y at the top/bottom screen
    edges) as :func:`raw_point` maps onto it: ``base`` itself (to tell when it moved), the left
    edge, raw width, screen columns, the top edge, raw height, screen rows, the top raw value,
    and the drift rate (the same numbers in the same sums as from the settings and ``base``)."""
    xl, xr, yt, yb = base
    top = (1 << s.raw_bits) - 1
    return base, xl, xr - xl, s.screen_width, yt, yb - yt, s.screen_height, top, s.drift_px_per_day


def raw_point(axes: Axes, x: float, y: float, d: float) -> tuple[int, int]:
    """The raw point of screen pixel ``(x, y)`` with the mapping drifted by ``d`` pixels; off
    the raw range, held at its ends."""
    _, xl, width, columns, yt, height, rows, top, _ = axes
    rx = round(xl + (x + d * DRIFT_X) * width / columns)
    ry = round(yt + (y + d * DRIFT_Y) * height / rows)
    if 0 <= rx <= top and 0 <= ry <= top:
        return rx, ry
    return min(max(rx, 0), top), min(max(ry, 0), top)


class Point(NamedTuple):
    """A tap's raw point for every drift from ``lo`` to ``hi``: what the tap logs, sends and
    returns (the tuples kept, so a tap at it allocates none)."""

    lo: float
    hi: float
    values: tuple[int, int, int, int]
    """``px, py, rx, ry``: the ``touch`` record's values."""
    packets: bytes
    """The pen-down and pen-up packets."""
    raw: tuple[int, int]


def point(axes: Axes, px: int, py: int, d: float, bits: int) -> Point:
    """Screen pixel ``(px, py)``'s :class:`Point` at drift ``d``: its raw point is
    :func:`raw_point`'s, for ``d`` and as far on as it holds."""
    raw = raw_point(axes, px, py, d)
    _, xl, width, columns, yt, height, rows, top, _ = axes
    hi = d
    if width > 0 and height > 0:  # else the sums may decrease as d grows: no range
        rx, ry = raw
        x_at = xl + (px + d * DRIFT_X) * width / columns
        y_at = yt + (py + d * DRIFT_Y) * height / rows
        # the drift left before each coordinate reaches the half-way point to its next raw unit
        # (none at the top of the range: held there for ever after)
        reach = min(
            (rx + 0.5 - x_at) / (DRIFT_X * width / columns) if rx < top else float("inf"),
            (ry + 0.5 - y_at) / (DRIFT_Y * height / rows) if ry < top else float("inf"),
        )
        if reach == float("inf"):
            hi = reach
        elif reach > 0 and raw_point(axes, px, py, (far := d + _NEAR * reach)) == raw:
            hi = far
    return Point(d, hi, (px, py, *raw), tap_packets(*raw, bits), raw)


@lru_cache(maxsize=4096)
def tap_packets(rx: int, ry: int, bits: int) -> bytes:
    """The pen-down and pen-up packets of a tap at raw ``(rx, ry)`` (pure, so remembered: a
    kiosk's buttons are tapped at a few raw points for days)."""
    return t.TouchPacket(rx, ry, True, bits).encode() + t.TouchPacket(rx, ry, False, bits).encode()
