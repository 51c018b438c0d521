"""The one way a figure takes a date: ``as_of`` (a day, inclusive) as a pandas Timestamp."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from billxl.errors import BillxlError


def as_date(value: Any) -> date:
    """A ``date`` from a date, a datetime, a Timestamp or ISO text; an error in words if not."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise BillxlError(f"{value!r} is not a date: write it as YYYY-MM-DD.") from None


def cutoff(as_of: Any) -> pd.Timestamp | None:
    """The end of ``as_of`` as a Timestamp at midnight (``None`` stays ``None``: no cut-off)."""
    return None if as_of is None else pd.Timestamp(as_date(as_of))


def on_or_before(values: pd.Series, as_of: Any) -> pd.Series:
    """Which dated rows happened by ``as_of`` (all of them when there is no cut-off)."""
    limit = cutoff(as_of)
    if limit is None:
        return pd.Series(True, index=values.index)
    return (values <= limit).fillna(False).astype(bool)
