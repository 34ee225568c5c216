"""The reps' working calendar (`simfunnel.model.calendar.WorkCalendar`).

Day 0 of every simulation is a Monday at 00:00 and times are in days, so Monday 10:00 is ``10 / 24`` and
Saturday 10:00 is ``5 + 10 / 24``. The default calendar works Monday to Friday, 09:00-17:00.
"""

from __future__ import annotations

import math

import pytest

from simfunnel.model.calendar import WorkCalendar
from simfunnel.scenario import Calendar

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
NEXT_MON = 7


def at(day: int, hour: float, minute: float = 0.0) -> float:
    """Time in days of ``day`` (0 = the first Monday) at hour:minute."""
    return day + (hour + minute / 60.0) / 24.0


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar(Calendar())


@pytest.fixture
def always() -> WorkCalendar:
    return WorkCalendar(Calendar(enabled=False))


# ----------------------------------------------------------------------------------------------- is_open
def test_open_on_a_weekday_during_working_hours(cal):
    """Reps are at work on a Monday at 10:00."""
    assert cal.is_open(at(MON, 10))


def test_closed_on_the_weekend(cal):
    """Nobody works on Saturday or Sunday, not even during 'working hours'."""
    assert not cal.is_open(at(SAT, 10))
    assert not cal.is_open(at(SUN, 12))
    assert not cal.is_open(at(SAT + 7, 10))  # the weekly pattern repeats


def test_working_window_is_half_open(cal):
    """The window is [09:00, 17:00): open at 09:00 sharp, closed at 17:00 sharp."""
    assert not cal.is_open(at(TUE, 8, 59))
    assert cal.is_open(at(TUE, 9))
    assert cal.is_open(at(TUE, 16, 59))
    assert not cal.is_open(at(TUE, 17))
    assert not cal.is_open(at(TUE, 23))


def test_custom_workdays_and_hours():
    """A shop open Tuesday to Saturday, 10:00-19:00, works on Saturday and not on Monday."""
    shop = WorkCalendar(Calendar(workdays=(1, 2, 3, 4, 5), start_hour=10, hours_per_day=9))
    assert shop.is_open(at(SAT, 18, 30))
    assert not shop.is_open(at(MON, 12))
    assert not shop.is_open(at(SAT, 19))
    assert shop.hours_per_week == 45


def test_disabled_calendar_is_always_open(always):
    """A disabled calendar (M/M/c validation) is open at any time, weekends and nights included."""
    for t in (0.0, at(SAT, 3), at(SUN, 23, 59), 1234.5678):
        assert always.is_open(t)
    assert always.hours_per_week == 24 * 7


# ----------------------------------------------------------------------------------------------- finish
def test_finish_within_the_day(cal):
    """An activity that fits before the close ends `hours` later."""
    assert cal.finish(at(MON, 10), 2.0) == pytest.approx(at(MON, 12), abs=1e-12)


def test_finish_exactly_at_the_close(cal):
    """An activity that uses the rest of the day ends at 17:00 that day (not the next morning)."""
    assert cal.finish(at(MON, 15), 2.0) == pytest.approx(at(MON, 17), abs=1e-12)


def test_activity_crossing_the_close_rolls_into_the_next_working_day(cal):
    """Two hours started on Monday at 16:00: one hour on Monday, the other from 09:00 on Tuesday."""
    assert cal.finish(at(MON, 16), 2.0) == pytest.approx(at(TUE, 10), abs=1e-12)


def test_activity_spanning_several_days(cal):
    """Twenty working hours from Monday 13:00: 4 h Monday, 8 h Tuesday, 8 h Wednesday -> Wednesday 17:00."""
    assert cal.finish(at(MON, 13), 20.0) == pytest.approx(at(WED, 17), abs=1e-12)


def test_activity_crossing_the_weekend(cal):
    """Three hours started on Friday at 16:00: one on Friday, two on Monday -> Monday 11:00."""
    assert cal.finish(at(FRI, 16), 3.0) == pytest.approx(at(NEXT_MON, 11), abs=1e-12)


def test_work_queued_before_opening_starts_at_opening(cal):
    """Work queued at 07:00 starts at 09:00: one hour ends at 10:00."""
    assert cal.finish(at(WED, 7), 1.0) == pytest.approx(at(WED, 10), abs=1e-12)


def test_work_queued_after_the_close_starts_next_morning(cal):
    """Work queued on Thursday at 20:00 starts on Friday at 09:00."""
    assert cal.finish(at(THU, 20), 0.5) == pytest.approx(at(FRI, 9, 30), abs=1e-12)


def test_work_queued_on_saturday_starts_on_monday(cal):
    """Work queued on Saturday ends on Monday, counted from 09:00."""
    assert cal.finish(at(SAT, 10), 1.0) == pytest.approx(at(NEXT_MON, 10), abs=1e-12)


def test_zero_hours_in_open_time_ends_at_once(cal):
    """No work, no time (when the calendar is open)."""
    t = at(TUE, 11, 15)
    assert cal.finish(t, 0.0) == t


def test_disabled_calendar_finish_is_wall_clock(always):
    """Without a calendar an activity of h hours started at t ends at t + h/24, nights and weekends too."""
    for t, h in ((0.0, 1.0), (at(FRI, 16), 3.0), (at(SAT, 23), 30.0), (17.123, 0.0)):
        assert always.finish(t, h) == t + h / 24.0


@pytest.mark.parametrize("hours", [0.25, 1.0, 7.9, 13.5, 100.0])
@pytest.mark.parametrize("start", [at(MON, 0), at(MON, 9), at(TUE, 16, 45), at(FRI, 12), at(SAT, 10), at(SUN, 23)])
def test_activity_ends_inside_a_working_window(cal, start, hours):
    """Whenever it starts, an activity of positive length ends during working time or exactly at a close."""
    end = cal.finish(start, hours)
    assert end > start
    assert cal.is_open(end - 1e-9)


@pytest.mark.parametrize("start", [at(SAT, 10), at(NEXT_MON, 9), at(SUN, 23)])
def test_full_day_activity_from_a_later_opening_ends_at_the_close(cal, start):
    """A full working day (8 h) queued for, or started at, Monday 09:00 ends on Monday at 17:00."""
    assert cal.finish(start, 8.0) == pytest.approx(at(NEXT_MON, 17), abs=1e-9)


def test_full_first_day_ends_at_the_close(cal):
    """A full working day started at 09:00 on day 0 ends at 17:00 on day 0."""
    assert cal.finish(at(MON, 9), 8.0) == pytest.approx(at(MON, 17), abs=1e-12)


# ----------------------------------------------------------------------------------------------- working_hours
def test_working_hours_of_one_week(cal):
    """A whole week holds five 8-hour days; so does any 7-day span."""
    assert cal.working_hours(0.0, 7.0) == pytest.approx(40.0)
    assert cal.working_hours(at(WED, 13), at(WED + 7, 13)) == pytest.approx(40.0)


def test_working_hours_of_an_empty_or_reversed_span(cal):
    """A span with b <= a holds no working time."""
    assert cal.working_hours(3.0, 3.0) == 0.0
    assert cal.working_hours(3.0, 2.0) == 0.0


def test_working_hours_outside_the_window(cal):
    """A night or a weekend holds no working time."""
    assert cal.working_hours(at(MON, 17), at(TUE, 9)) == 0.0
    assert cal.working_hours(at(FRI, 17), at(NEXT_MON, 9)) == 0.0


def test_disabled_calendar_counts_every_hour(always):
    """Without a calendar every hour is a working hour."""
    assert always.working_hours(at(FRI, 12), at(NEXT_MON, 12)) == pytest.approx(72.0)


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("hours", [0.1, 1.0, 3.5, 8.0, 11.0, 45.0])
@pytest.mark.parametrize("start", [0.0, at(MON, 9), at(TUE, 16, 30), at(FRI, 15), at(SAT, 12), 10.77])
def test_working_hours_inverts_finish(enabled, start, hours):
    """working_hours(t, finish(t, h)) == h: the time an activity takes, counted in working time, is its length."""
    c = WorkCalendar(Calendar(enabled=enabled))
    assert c.working_hours(start, c.finish(start, hours)) == pytest.approx(hours, abs=1e-9)


def test_working_hours_add_up_over_consecutive_activities(cal):
    """Activities done back to back: the span they cover holds the sum of their working hours."""
    t0 = at(THU, 15, 20)
    t = t0
    lengths = [0.75, 2.0, 6.5, 1.25, 9.0, 0.5]
    for h in lengths:
        t_next = cal.finish(t, h)
        assert cal.working_hours(t, t_next) == pytest.approx(h, abs=1e-9)
        t = t_next
    assert cal.working_hours(t0, t) == pytest.approx(sum(lengths), abs=1e-9)


def test_working_hours_is_additive(cal):
    """working_hours(a, c) == working_hours(a, b) + working_hours(b, c) for a <= b <= c."""
    a, b, c = at(TUE, 11), at(SAT, 4), at(NEXT_MON + 1, 15, 30)
    assert cal.working_hours(a, c) == pytest.approx(cal.working_hours(a, b) + cal.working_hours(b, c))


# ----------------------------------------------------------------------------------------------- next_opening_after
def test_next_opening_later_the_same_day(cal):
    """Before 09:00 the next opening is 09:00 the same day."""
    assert cal.next_opening_after(at(MON, 7)) == pytest.approx(at(MON, 9), abs=1e-12)


def test_next_opening_is_strictly_after(cal):
    """At 09:00 sharp the next opening is the next day's, not the current one."""
    assert cal.next_opening_after(at(MON, 9)) == pytest.approx(at(TUE, 9), abs=1e-12)
    assert cal.next_opening_after(at(TUE, 9)) > at(TUE, 9)


def test_next_opening_during_working_hours_is_tomorrow(cal):
    """During the working day the next opening is the next working morning."""
    assert cal.next_opening_after(at(WED, 12)) == pytest.approx(at(THU, 9), abs=1e-12)


def test_next_opening_skips_the_weekend(cal):
    """From Friday noon, Saturday or Sunday the next opening is Monday 09:00."""
    for t in (at(FRI, 12), at(SAT, 1), at(SUN, 23, 59)):
        assert cal.next_opening_after(t) == pytest.approx(at(NEXT_MON, 9), abs=1e-12)


def test_next_opening_with_a_single_workday():
    """With only Wednesdays worked, the opening after Wednesday 09:00 is a week later."""
    wed = WorkCalendar(Calendar(workdays=(2,)))
    assert wed.next_opening_after(at(MON, 0)) == pytest.approx(at(WED, 9), abs=1e-12)
    assert wed.next_opening_after(at(WED, 9)) == pytest.approx(at(WED + 7, 9), abs=1e-12)


def test_disabled_calendar_never_opens(always):
    """A calendar that is always open has no 'next opening'."""
    assert math.isinf(always.next_opening_after(3.3))
