"""Billing periods: a month given as YYYY-MM, and its first and last day."""

from __future__ import annotations

import calendar
import re
from datetime import date

from billxl.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_range(month: str) -> tuple[date, date]:
    """'2026-10' -> (2026-10-01, 2026-10-31). A clear error for anything else."""
    match = _MONTH.match(month.strip()) if isinstance(month, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InputError(f"{month!r} is not a month: write it as YYYY-MM, e.g. 2026-10.")
    year, mon = int(match.group(1)), int(match.group(2))
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])
