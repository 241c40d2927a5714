"""China's working days (法定节假日 and 调休 make-up working days) from the maintained chinese-calendar package."""

import datetime as dt

import chinese_calendar

from autogrant.transforms.errors import InputError


def is_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise InputError(
            f"the working-day calendar has no data for {day.year}: upgrade the chinese-calendar package "
            "(the State Council publishes each year's holidays in the autumn before)"
        ) from None


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself when n is 0); make-up Saturdays count."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def add_months(start: dt.date, n: int) -> dt.date:
    """The same day n months later, or the month's last day where it has none (2021-01-31 + 1 = 2021-02-28)."""
    month = start.month - 1 + n
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")
