"""The business calendar in model hours: working days for the P3 clock and shift on/off times.

Hour 0 is midnight at the start of the plan's ``start_date``; one model time unit is an hour.
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta

from workbench.capacity.config import WEEKDAYS, Calendar, Shift


class BusinessCalendar:
    """Which days are working days, and deadlines counted in working days."""

    def __init__(self, calendar: Calendar, horizon_days: int) -> None:
        self.start = calendar.start_date
        workdays = {WEEKDAYS.index(d) for d in calendar.workdays}
        holidays = set(calendar.holidays)
        self.days = horizon_days + 60
        self._working = [
            d
            for d in range(self.days)
            if (self.start + timedelta(d)).weekday() in workdays
            and self.start + timedelta(d) not in holidays
        ]
        self._holidays = holidays

    def date_of(self, hour: float) -> date:
        """The calendar date at a model hour."""
        return self.start + timedelta(int(hour // 24))

    def is_holiday(self, day: int) -> bool:
        """Whether day number ``day`` (0 = start date) is a declared holiday."""
        return self.start + timedelta(day) in self._holidays

    def add_working_days(self, hour: float, n: float) -> float:
        """The deadline ``n`` working days after ``hour``: same clock time on the n-th working day.

        A report on a non-working day counts from the start of the next working day.
        """
        day = int(hour // 24)
        i = bisect.bisect_left(self._working, day)
        whole = int(n)
        if i >= len(self._working):
            return hour + 24 * n
        clock = hour - 24 * day if self._working[i] == day else 0.0
        j = min(i + whole, len(self._working) - 1)
        return 24 * self._working[j] + clock + 24 * (n - whole)


def shift_intervals(
    shift: Shift, calendar: BusinessCalendar, horizon: float, first_day: int = 0
) -> list[tuple[float, float]]:
    """Every (on, off) interval of a shift, in model hours, starting before ``horizon``.

    ``first_day=-1`` includes the shift that started the evening before hour 0.
    """
    days = {WEEKDAYS.index(d) for d in shift.days}
    out: list[tuple[float, float]] = []
    for d in range(first_day, int(horizon // 24) + 1):
        if (calendar.start + timedelta(d)).weekday() not in days:
            continue
        if shift.holidays_off and calendar.is_holiday(d):
            continue
        on = 24.0 * d + shift.start
        if on < horizon and on + shift.hours > 0:
            out.append((on, on + shift.hours))
    return out


def on_hours(intervals: list[tuple[float, float]], horizon: float) -> float:
    """Hours of the intervals that fall inside [0, horizon]."""
    return sum(max(0.0, min(off, horizon) - max(on, 0.0)) for on, off in intervals)
