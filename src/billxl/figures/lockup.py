"""Lock-up: how many days of billing are tied up in unbilled work and in unpaid invoices.

Per currency, as of a day, over a window of ``days`` days ending on it (365 by default):

    daily billing = billed in the window (net of credit notes, by bill date) / days
    debtor days (DSO) = AR owed on ``as_of`` (positive balances) / daily billing
    WIP days = billable WIP on ``as_of`` at billing rates (:mod:`billxl.figures.wip`) / daily billing
    lock-up = WIP days + debtor days

The window is never longer than the ledger's billing history: with ``since`` (the first
day of the month of the ledger's first invoice, :func:`history_start`) a firm that has billed
through billxl for one month has its debtor days over that month, not its one month's billing
spread over a year (which would read as 365 days of debt).

Days are Decimals to one place; ``None`` when nothing was billed in the window.
Pure: frames in, a frame out.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from billxl.figures import period
from billxl.figures.dates import as_date

LOCKUP_COLUMNS = ("currency", "ar_minor", "billed_minor", "window_days", "debtor_days",
                  "wip_minor", "wip_days", "lockup_days")


def days_of(amount_minor: int, per_day: Decimal) -> Decimal | None:
    """How many days of ``per_day`` an amount is, to one place; None without billing."""
    if per_day <= 0:
        return None
    return (Decimal(int(amount_minor)) / per_day).quantize(Decimal("0.1"))


def history_start(invoices: pd.DataFrame) -> Any:
    """The first day of the month of the earliest invoice (None for a ledger without one)."""
    dated = pd.to_datetime(invoices["invoice_date"]).dropna()
    if dated.empty:
        return None
    return dated.min().date().replace(day=1)


def lockup(balances: pd.DataFrame, invoices: pd.DataFrame, wip_rows: pd.DataFrame, as_of: Any,
           *, days: int = 365, since: Any = None) -> pd.DataFrame:
    """Debtor days, WIP days and lock-up per currency (``LOCKUP_COLUMNS``); the window is
    ``days`` long, or shorter where the billing history (from ``since``) is."""
    end = as_date(as_of)
    if since is not None:
        days = max(1, min(days, (end - as_date(since)).days + 1))
    billed = period.billed(invoices, end - timedelta(days=days - 1), end, [])
    billed_by = billed.set_index("currency")["billed_minor"]
    owed = balances[balances["balance_minor"] > 0].groupby("currency")["balance_minor"].sum()
    open_wip = wip_rows[wip_rows["billable"]].groupby("currency")["billing_minor"].sum()
    rows = []
    for cur in sorted(set(owed.index) | set(billed_by.index) | set(open_wip.index)):
        ar_minor, billed_minor = int(owed.get(cur, 0)), int(billed_by.get(cur, 0))
        wip_minor = int(open_wip.get(cur, 0))
        per_day = Decimal(billed_minor) / days
        debtor, wip_days = days_of(ar_minor, per_day), days_of(wip_minor, per_day)
        rows.append({"currency": cur, "ar_minor": ar_minor, "billed_minor": billed_minor,
                     "window_days": days, "debtor_days": debtor, "wip_minor": wip_minor,
                     "wip_days": wip_days,
                     "lockup_days": None if debtor is None else debtor + wip_days})
    return pd.DataFrame(rows, columns=list(LOCKUP_COLUMNS))


__all__ = ["LOCKUP_COLUMNS", "days_of", "history_start", "lockup"]
