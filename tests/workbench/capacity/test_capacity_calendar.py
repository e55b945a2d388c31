"""Working days for the P3 clock, shift hours, and the package's import hygiene."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from workbench.capacity.calendar import BusinessCalendar, on_hours, shift_intervals
from workbench.capacity.config import Calendar, Shift

# 2027-01-04 is a Monday; 2027-01-05 (Tuesday) is declared a holiday.
CAL = BusinessCalendar(Calendar(start_date=date(2027, 1, 4), holidays=[date(2027, 1, 5)]), 30)


def test_two_working_days_skip_weekends_and_holidays() -> None:
    # Monday 10:00 -> Wednesday is day 1 (Tuesday is a holiday), Thursday day 2: Thursday 10:00.
    assert CAL.add_working_days(10.0, 2) == 3 * 24 + 10.0
    # Friday 15:00 -> Monday, Tuesday: Tuesday 15:00 of the next week.
    assert CAL.add_working_days(4 * 24 + 15.0, 2) == 8 * 24 + 15.0
    # Saturday 11:00 counts from the start of Monday: Monday is day 0, deadline Wednesday 00:00.
    assert CAL.add_working_days(5 * 24 + 11.0, 2) == 9 * 24.0
    assert CAL.date_of(26.0) == date(2027, 1, 5)


def test_shift_intervals_and_hours() -> None:
    night = Shift(start=22, hours=8)
    week = shift_intervals(night, CAL, 7 * 24.0, first_day=-1)
    assert week[0] == (-2.0, 6.0)
    # 6 h of the night before hour 0, six whole nights, and 2 h of the last one.
    assert on_hours(week, 7 * 24.0) == 6 + 6 * 8 + 2
    day = Shift(start=8, hours=9, days=["mon", "tue", "wed", "thu", "fri"], holidays_off=True)
    assert [on for on, _ in shift_intervals(day, CAL, 7 * 24.0)] == [8.0, 56.0, 80.0, 104.0]


def test_capacity_imports_no_upper_package_and_starts_nothing() -> None:
    code = (
        "import sys, threading\n"
        "import workbench.capacity.sweep, workbench.capacity.sizing, workbench.capacity.cli\n"
        "import workbench.capacity.plot, workbench.capacity.erlang\n"
        "bad = [m for m in ('devices', 'remote', 'scenarios', 'tui', 'textual') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert 'distributed' not in sys.modules and 'matplotlib' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
