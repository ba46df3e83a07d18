"""Business days as Japanese public offices count them: weekends, national holidays (振替休日
included) and the year-end closure 12/29–1/3 are skipped."""

from datetime import date, timedelta

import pytest

from core.business_days import add_business_days, business_days_between, is_business_day


def test_a_plain_week_counts_the_weekdays_after_the_start():
    monday = date(2025, 6, 2)

    assert business_days_between(monday, monday) == 0
    assert business_days_between(monday, date(2025, 6, 6)) == 4  # Tue … Fri
    assert business_days_between(monday, date(2025, 6, 9)) == 5  # the weekend does not count


def test_sent_on_friday_it_is_one_day_old_on_monday_and_none_on_saturday():
    friday = date(2025, 6, 6)

    assert business_days_between(friday, date(2025, 6, 7)) == 0
    assert business_days_between(friday, date(2025, 6, 8)) == 0
    assert business_days_between(friday, date(2025, 6, 9)) == 1


def test_golden_week_2025_skips_showa_day_and_the_may_holidays():
    # 4/29 (Tue) 昭和の日; 5/3 (Sat) 憲法記念日; 5/4 (Sun) みどりの日; 5/5 (Mon) こどもの日;
    # 5/6 (Tue) 振替休日 for みどりの日 falling on a Sunday.
    assert not is_business_day(date(2025, 4, 29))
    assert not is_business_day(date(2025, 5, 5))
    assert not is_business_day(date(2025, 5, 6))
    # Business days after Mon 4/28 up to Wed 5/7: 4/30, 5/1, 5/2, 5/7.
    assert business_days_between(date(2025, 4, 28), date(2025, 5, 7)) == 4


def test_a_substitute_holiday_is_closed():
    # 天皇誕生日 2/23/2025 fell on a Sunday: Monday 2/24 is a 振替休日.
    assert not is_business_day(date(2025, 2, 24))
    assert business_days_between(date(2025, 2, 21), date(2025, 2, 25)) == 1


def test_new_years_day_is_closed_even_without_the_year_end_closure():
    # 元日 2026 is a Thursday.
    assert not is_business_day(date(2026, 1, 1), closed_year_end=False)
    assert is_business_day(date(2026, 1, 2), closed_year_end=False)


def test_the_year_end_closure_runs_from_12_29_to_1_3():
    friday = date(2025, 12, 26)
    monday = date(2026, 1, 5)

    for day in (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 2)):
        assert not is_business_day(day)
    assert is_business_day(monday)
    assert business_days_between(friday, monday) == 1
    # Without the closure only 元日 is a holiday: 12/29, 12/30, 12/31, 1/2 and 1/5.
    assert business_days_between(friday, monday, closed_year_end=False) == 5


def test_it_counts_backwards_as_a_negative_number():
    assert business_days_between(date(2025, 6, 9), date(2025, 6, 2)) == -5


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2025, 6, 6), 1, date(2025, 6, 9)),  # Friday + 1 → Monday
        (date(2025, 4, 28), 2, date(2025, 5, 1)),  # over 昭和の日
        (date(2025, 5, 2), 1, date(2025, 5, 7)),  # over the whole Golden Week
        (date(2025, 12, 26), 1, date(2026, 1, 5)),  # over the year-end closure
        (date(2026, 1, 5), -1, date(2025, 12, 26)),  # and back
        (date(2025, 6, 4), 0, date(2025, 6, 4)),
    ],
)
def test_add_business_days_lands_on_a_business_day(start, days, expected):
    assert add_business_days(start, days) == expected


def test_adding_and_counting_agree_over_two_years():
    start = date(2024, 12, 20)
    for days in range(0, 520, 7):
        end = add_business_days(start, days)
        assert business_days_between(start, end) == days
    day = start
    for _ in range(800):
        day += timedelta(days=1)
        expected = sum(
            1
            for offset in range(1, (day - start).days + 1)
            if is_business_day(start + timedelta(days=offset))
        )
        assert business_days_between(start, day) == expected
