"""Billing cycles: when each matter is billed for its time and expenses (pure).

A matter's cycle is its own (``matters.billing_cycle``), else its client's, else **monthly**;
the same for the day of the month it falls (``billing_day``; none: the month's last day, and a
day past a month's end is that month's last day).

==============  ==================================================================================
cycle           billed (``prebill --month``)                  falls due on (``schedule due``)
==============  ==================================================================================
monthly         every month                                   the cycle day of every month
quarterly       March, June, September and December           the cycle day of those months
milestones      a month in which one of its milestones was    the day the milestone was triggered
                triggered
completion      the month it closes, or any month after       the day it closed
on_request      only when named (``prebill --matter``)        never by itself
==============  ==================================================================================

WIP falls due to bill with its cycle: what was worked on or before the cycle's last date and
is not billed yet, when it comes to the matter's minimum bill amount (``matter_terms``).
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from billxl.reference import Reference
from billxl.store.tables import BILLING_CYCLES

__all__ = ["CYCLES", "DEFAULT_CYCLE", "QUARTER_MONTHS", "cycles_of", "last_cycle_day",
           "billed_in_month"]

CYCLES = BILLING_CYCLES
DEFAULT_CYCLE = "monthly"
QUARTER_MONTHS = (3, 6, 9, 12)
_DATED = ("monthly", "quarterly")


def cycles_of(reference: Reference) -> pd.DataFrame:
    """Each matter's cycle and day (the matter's, else its client's, else monthly and the last
    day): matter_id, client_id, billing_cycle, billing_day (Int64, missing for the last day),
    closed_on."""
    matters = reference.matters
    clients = reference.clients.set_index("client_id")
    own = _column(matters, "billing_cycle", object)
    client_cycle = matters["client_id"].map(_column(clients, "billing_cycle", object))
    day = _column(matters, "billing_day", "Int64")
    client_day = matters["client_id"].map(_column(clients, "billing_day", "Int64")).astype("Int64")
    cycle = own.where(own.notna(), client_cycle).fillna(DEFAULT_CYCLE)
    return pd.DataFrame({
        "matter_id": matters["matter_id"].to_numpy(), "client_id": matters["client_id"].to_numpy(),
        "billing_cycle": cycle.to_numpy(dtype=object),
        "billing_day": day.where(own.notna() | day.notna(), client_day).to_numpy(),
        "closed_on": pd.to_datetime(matters["closed_on"]).to_numpy()})


def _column(frame: pd.DataFrame, name: str, dtype) -> pd.Series:
    if name not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=dtype)
    values = frame[name]
    if dtype is object:
        values = values.astype(object).where(values.notna(), None)
        return values.map(lambda v: None if v is None or not str(v).strip() else str(v).strip())
    return values.astype(dtype)


def _on_day(year: int, month: int, day: int | None) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day is None else min(int(day), last))


def last_cycle_day(cycle: str, day: int | None, on: date) -> date | None:
    """The latest day on or before ``on`` that a monthly or quarterly cycle falls (None for
    the cycles that fall by an event: milestones, completion, on request)."""
    if cycle not in _DATED:
        return None
    months = 1 if cycle == "monthly" else 3
    year, month = on.year, on.month
    if cycle == "quarterly":  # the quarter's last month on or before this one
        back = month % 3
        month -= back
        if month == 0:
            year, month = year - 1, 12
    candidate = _on_day(year, month, day)
    if candidate > on:
        month -= months
        if month <= 0:
            year, month = year - 1, month + 12
        candidate = _on_day(year, month, day)
    return candidate


def billed_in_month(cycles: pd.DataFrame, end: date, *, triggered: set[str] = frozenset(),
                    named: set[str] = frozenset()) -> set[str]:
    """The matters ``prebill --month`` bills in the month that ends on ``end``, by their
    cycles (``cycles``: :func:`cycles_of`; ``triggered``: the matters with a milestone
    triggered in the month), and the ``named`` ones whatever their cycle."""
    cycle = cycles["billing_cycle"].to_numpy(dtype=object)
    closed = pd.to_datetime(cycles["closed_on"]).to_numpy()
    matter = cycles["matter_id"].to_numpy(dtype=object)
    due = ((cycle == "monthly")
           | ((cycle == "quarterly") & (end.month in QUARTER_MONTHS))
           | ((cycle == "milestones") & np.isin(matter, list(triggered)))
           | ((cycle == "completion") & ~pd.isna(closed)
              & (closed <= np.datetime64(end, "ns")))
           | np.isin(matter, list(named)))
    return set(matter[due].tolist())
