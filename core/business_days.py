"""Business days (営業日) as Japanese public offices count them.

Closed: Saturdays, Sundays, national holidays (国民の祝日, 振替休日 and 国民の休日, from the
maintained ``holidays`` library rather than a list of our own that would go stale), and — unless
``closed_year_end=False`` — the year-end and New Year closure, 12/29 to 1/3 (年末年始, the days
public offices close under 行政機関の休日に関する法律).

Ages count the business days *after* the start up to and including the end, so a referral sent
on Friday is one business day old on Monday, and zero days old on the Saturday in between.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays

YEAR_END_CLOSURE = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))


@lru_cache(maxsize=256)
def _closed_weekdays(year: int, closed_year_end: bool) -> frozenset[date]:
    """Monday-to-Friday dates of ``year`` that are not business days."""
    closed = set(holidays.country_holidays("JP", years=year))
    if closed_year_end:
        closed.update(date(year, month, day) for month, day in YEAR_END_CLOSURE)
    return frozenset(day for day in closed if day.weekday() < 5)


def is_business_day(day: date, *, closed_year_end: bool = True) -> bool:
    return day.weekday() < 5 and day not in _closed_weekdays(day.year, closed_year_end)


def _weekdays_after(start: date, end: date) -> int:
    """Monday-to-Friday dates d with start < d <= end (end >= start)."""
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    # The few days left over after whole weeks: at most six, so a loop is cheap.
    for offset in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def business_days_between(start_date: date, end_date: date, closed_year_end: bool = True) -> int:
    """Business days d with start_date < d <= end_date; negative when end_date comes first."""
    if end_date < start_date:
        return -business_days_between(end_date, start_date, closed_year_end)
    count = _weekdays_after(start_date, end_date)
    for year in range(start_date.year, end_date.year + 1):
        count -= sum(
            1 for day in _closed_weekdays(year, closed_year_end) if start_date < day <= end_date
        )
    return count


def add_business_days(start_date: date, days: int, closed_year_end: bool = True) -> date:
    """The ``days``-th business day after ``start_date`` (before it, when ``days`` is negative);
    ``start_date`` itself for 0.

    So ``add_business_days(today + 1 day, -n)`` is the n-th most recent business day up to
    today: a referral sent before that day has waited at least n business days.
    """
    step = timedelta(days=1 if days >= 0 else -1)
    day = start_date
    remaining = abs(days)
    while remaining:
        day += step
        if is_business_day(day, closed_year_end=closed_year_end):
            remaining -= 1
    return day
