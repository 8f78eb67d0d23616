"""Periods: a month written ``YYYY-MM``, and the arithmetic every layer needs of it.

The one home of the period's form and of month start, end, the month before and ranges, so
that no module writes ``replace(day=1) - timedelta(days=1)`` of its own.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

# ASCII digits only: ``\d`` would take Arabic-Indic ones too
PERIOD_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
# the agencies' months are Indonesian months; "today" is today in Jakarta
TIMEZONE = ZoneInfo("Asia/Jakarta")


class PeriodError(ValueError):
    """A period that is not a month ``YYYY-MM`` that has begun, or a range given backwards."""


def this_month(today: dt.date | None = None) -> str:
    """``YYYY-MM`` of ``today`` (default: today in Asia/Jakarta)."""
    return f"{today or dt.datetime.now(TIMEZONE).date():%Y-%m}"


def first_day(period: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month (how every table stores ``period``)."""
    return dt.date.fromisoformat(f"{period}-01")


def last_day(period: str) -> dt.date:
    """The last day of a ``YYYY-MM`` period."""
    year, month = map(int, period.split("-"))
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def month_before(period: str) -> str:
    """The ``YYYY-MM`` before ``period``."""
    return f"{first_day(period) - dt.timedelta(days=1):%Y-%m}"


def month_after(period: str) -> str:
    """The ``YYYY-MM`` after ``period``."""
    return f"{last_day(period) + dt.timedelta(days=1):%Y-%m}"


def previous_month(today: dt.date | None = None) -> str:
    """``YYYY-MM`` of the month before ``today`` (default: today in Asia/Jakarta)."""
    return month_before(this_month(today))


def check_month(value: str) -> str:
    """``value`` if it is a month ``YYYY-MM`` that has begun; a :class:`PeriodError` naming it
    otherwise."""
    if not PERIOD_PATTERN.fullmatch(value):
        raise PeriodError(f"period must be a month written YYYY-MM, e.g. 2025-05; got {value!r}")
    now = this_month()
    if value > now:
        raise PeriodError(
            f"period {value} is in the future (this month is {now}): an extract "
            "describes a month that has begun"
        )
    return value


def months(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` (``YYYY-MM``, inclusive), oldest first."""
    check_month(start)
    check_month(end)
    if start > end:
        raise PeriodError(f"start {start} is after end {end}: give the older month first")
    out = [start]
    while out[-1] < end:
        out.append(month_after(out[-1]))
    return out
