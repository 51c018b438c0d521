"""Ratios of a period: realization, utilisation and effective rate. Each is ``None`` where its
denominator is zero (never a division by zero, never a made-up 0 %).

- **billing realization** (bill date) = fees billed ÷ the worked value at standard rates of the
  time billed or written off on pre-bills in the period (:func:`period.worked_and_billed`);
- **collection rate** (payment date ÷ bill date) = collected ÷ billed, both in the period;
- **collection realization** = collected ÷ the standard value of the time billed in the period;
- **utilisation** (work date) = billable hours worked ÷ available hours, where available hours
  are ``hours_per_day`` (8 by default) on each working day (Monday to Friday) that a timekeeper
  was active in the period;
- **effective rate** (bill date) = fees billed on fee lines ÷ hours billed on them, in minor
  units per hour, rounded half-up to the minor unit.

Ratios are Decimals to four places (0.8750 is 87.5 %). Pure: values and frames in and out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from billxl.figures.dates import as_date

PLACES = Decimal("0.0001")


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` to four places (half-up), None for a zero denominator."""
    if not denominator:
        return None
    return (Decimal(int(numerator)) / Decimal(int(denominator))).quantize(PLACES, ROUND_HALF_UP)


def ratios(numerators: pd.Series, denominators: pd.Series) -> pd.Series:
    """:func:`ratio` element-wise, on the numerators' index."""
    return pd.Series([ratio(n, d) for n, d in zip(numerators, denominators, strict=True)],
                     index=numerators.index, dtype=object)


def realizations(standard_minor: int, fees_line_minor: int, billed_minor: int,
                 collected_minor: int) -> dict[str, Decimal | None]:
    """A period's realization ratios, from its sums in one currency: ``billing_realization``
    (fees on fee lines ÷ their worked value at standard rates, both of
    :func:`period.worked_and_billed`), ``collection_realization`` (collected ÷ that worked
    value) and ``collection_rate`` (collected ÷ billed, :func:`period.collected` and
    :func:`period.billed`)."""
    return {"billing_realization": ratio(fees_line_minor, standard_minor),
            "collection_realization": ratio(collected_minor, standard_minor),
            "collection_rate": ratio(collected_minor, billed_minor)}


def effective_rate(fees_minor: int, hours_milli: int) -> int | None:
    """Fees per hour, in minor units (half-up); None when no hours were billed."""
    if not hours_milli:
        return None
    per_hour = Decimal(int(fees_minor)) * 1000 / Decimal(int(hours_milli))
    return int(per_hour.quantize(Decimal(1), ROUND_HALF_UP))


def available_hours_milli(timekeepers: pd.DataFrame, start: Any, end: Any, *,
                          hours_per_day: int = 8) -> pd.Series:
    """Per timekeeper id: working days (Mon-Fri) active in ``start``..``end`` x hours a day."""
    first = np.datetime64(as_date(start), "D")
    after = np.datetime64(as_date(end), "D") + 1  # busday_count's end is exclusive
    since = np.maximum(pd.to_datetime(timekeepers["active_from"]).to_numpy("datetime64[D]"), first)
    until = pd.to_datetime(timekeepers["active_to"]).to_numpy("datetime64[D]") + 1
    until = np.where(np.isnat(until), after, np.minimum(until, after))
    days = np.busday_count(since, np.maximum(until, since))
    return pd.Series(days.astype(np.int64) * hours_per_day * 1000,
                     index=timekeepers["timekeeper_id"].to_numpy())


def utilisation(worked: pd.DataFrame, timekeepers: pd.DataFrame, start: Any, end: Any, *,
                hours_per_day: int = 8) -> pd.DataFrame:
    """Per timekeeper: ``billable_milli``, ``available_milli`` and ``utilisation``.

    ``worked``: time entries (``store.reads.work``) — all recorded time, billed or not.
    """
    first, last = pd.Timestamp(as_date(start)), pd.Timestamp(as_date(end))
    rows = worked[(worked["work_date"] >= first) & (worked["work_date"] <= last)
                  & worked["billable"]]
    billable = rows.groupby("timekeeper_id")["hours_milli"].sum()
    available = available_hours_milli(timekeepers, start, end, hours_per_day=hours_per_day)
    out = pd.DataFrame({"timekeeper_id": available.index,
                        "available_milli": available.to_numpy(dtype=np.int64)})
    out["billable_milli"] = out["timekeeper_id"].map(billable).fillna(0).astype("int64")
    out["utilisation"] = ratios(out["billable_milli"], out["available_milli"])
    return out[["timekeeper_id", "billable_milli", "available_milli", "utilisation"]]


def period_days(start: Any, end: Any) -> int:
    """Calendar days in ``start``..``end``, both inclusive."""
    return (as_date(end) - as_date(start)).days + 1


__all__ = ["PLACES", "available_hours_milli", "effective_rate", "period_days", "ratio",
           "ratios", "realizations", "utilisation"]
