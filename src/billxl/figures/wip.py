"""Work in progress (WIP): work recorded and not yet billed or written off, and what it is worth.

**Selection**, as of a day: an entry (time or expense) is WIP on ``as_of`` when it was worked
by then (``work_date <= as_of``) and had not left WIP by then (``closed_on`` — the day it was
billed or written off — is missing or later). ``billable`` entries are what can be billed;
non-billable time is WIP too, shown apart. The date that drives it is the work date.

**Valuation**, per entry, rounded once by the client's rounding rule:

- time at **standard** rates: hours x the firm's standard rate (the worked value);
- time at **billing** rates: hours x the agreed rate for the client or matter, else standard
  (what the pre-bill proposes to bill);
- where no rate table applies, the entry's own recorded rate stands in for both;
- an expense: its recorded amount, at both.

The pre-bill's lines are valued by :func:`value_time` too, so WIP and pre-bills agree to the
cent. **WIP aging** puts each entry's value in the buckets of :mod:`billxl.figures.aging` by the
days since its work date. The **worked value** of a period (:func:`worked`) is the time
worked in it, by work date, valued the same way. Pure: frames in
(``billxl.store.reads.work``), frames out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from billxl import money
from billxl.figures import aging
from billxl.figures.dates import cutoff

WIP_COLUMNS = ("entry_kind", "entry_pk", "entry_id", "matter_id", "client_id", "timekeeper_id",
               "currency", "work_date", "billable", "hours_milli", "recorded_minor",
               "standard_minor", "billing_minor")
MEASURES = ("billing", "standard", "hours", "recorded")


def is_open(frame: pd.DataFrame, as_of: Any = None) -> pd.Series:
    """Which rows of a work frame were WIP on ``as_of`` (now, without a date)."""
    limit = cutoff(as_of)
    if limit is None:
        return (frame["status"] == "WIP").astype(bool)
    worked = frame["work_date"] <= limit
    still = frame["closed_on"].isna() | (frame["closed_on"] > limit)
    return (worked & still).fillna(False).astype(bool)


def unbilled_through(frame: pd.DataFrame, through: Any = None) -> pd.Series:
    """Which rows are WIP now (``status`` WIP; a frame without one counts whole) and worked by
    ``through``: what a pre-bill or a month's reconciliation takes."""
    keep = pd.Series(True, index=frame.index)
    if "status" in frame:
        keep &= frame["status"] == "WIP"
    limit = cutoff(through)
    if limit is not None:
        keep &= pd.to_datetime(frame["work_date"]) <= limit
    return keep.fillna(False).astype(bool)


def value_time(hours_milli: np.ndarray, standard_rate: pd.Series, billing_rate: pd.Series,
               own_rate: pd.Series, rounding: np.ndarray) -> dict[str, np.ndarray]:
    """Time valued at standard and at billing rates (see the module docstring).

    Returns ``standard_rate``, ``billing_rate`` (nullable: missing where no rate is known at
    all), ``standard_minor`` and ``billing_minor`` (0 for an entry with no rate).
    """
    own = own_rate.astype("Int64")
    standard = standard_rate.astype("Int64").fillna(own)
    billing = billing_rate.astype("Int64").fillna(own)
    hours = np.asarray(hours_milli, dtype=np.int64)
    rule = np.asarray(rounding, dtype=object)
    return {
        "standard_rate": standard,
        "billing_rate": billing,
        "standard_minor": money.extend_by_rule(hours, standard.fillna(0).to_numpy(dtype=np.int64), rule),
        "billing_minor": money.extend_by_rule(hours, billing.fillna(0).to_numpy(dtype=np.int64), rule),
    }


def wip(time: pd.DataFrame, expenses: pd.DataFrame, rates_resolved: pd.DataFrame,
        clients_of: pd.Series, rounding_of, *, as_of: Any = None) -> pd.DataFrame:
    """The WIP on ``as_of``, one row per entry, valued (``WIP_COLUMNS``).

    ``time``/``expenses``: :func:`billxl.store.reads.work`; ``rates_resolved``:
    :func:`billxl.rates.resolve_rates` on ``time`` (same index); ``clients_of``: client id by
    matter id; ``rounding_of``: rule names for an array of client ids
    (:meth:`billxl.reference.Reference.roundings`).
    """
    t_open = time[is_open(time, as_of).to_numpy()]
    e_open = expenses[is_open(expenses, as_of).to_numpy()]
    t_client = t_open["matter_id"].map(clients_of)
    valued = value_time(t_open["hours_milli"].to_numpy(dtype=np.int64),
                        rates_resolved.loc[t_open.index, "standard_rate_minor"],
                        rates_resolved.loc[t_open.index, "billing_rate_minor"],
                        t_open["rate_minor"], rounding_of(t_client.to_numpy(dtype=object)))
    time_rows = pd.DataFrame({
        "entry_kind": "time", "entry_pk": t_open["entry_pk"].to_numpy(),
        "entry_id": t_open["entry_id"].to_numpy(), "matter_id": t_open["matter_id"].to_numpy(),
        "client_id": t_client.to_numpy(), "timekeeper_id": t_open["timekeeper_id"].to_numpy(),
        "currency": t_open["currency"].to_numpy(), "work_date": t_open["work_date"].to_numpy(),
        "billable": t_open["billable"].to_numpy(dtype=bool),
        "hours_milli": t_open["hours_milli"].to_numpy(dtype=np.int64),
        "recorded_minor": t_open["amount_minor"].astype("Int64").fillna(0)
        .to_numpy(dtype=np.int64),
        "standard_minor": valued["standard_minor"], "billing_minor": valued["billing_minor"]})
    amount = e_open["amount_minor"].to_numpy(dtype=np.int64)
    cost_rows = pd.DataFrame({
        "entry_kind": "expense", "entry_pk": e_open["entry_pk"].to_numpy(),
        "entry_id": e_open["entry_id"].to_numpy(), "matter_id": e_open["matter_id"].to_numpy(),
        "client_id": e_open["matter_id"].map(clients_of).to_numpy(),
        "timekeeper_id": e_open["timekeeper_id"].to_numpy(),
        "currency": e_open["currency"].to_numpy(), "work_date": e_open["work_date"].to_numpy(),
        "billable": e_open["billable"].to_numpy(dtype=bool), "hours_milli": 0,
        "recorded_minor": amount, "standard_minor": amount, "billing_minor": amount})
    parts = [p for p in (time_rows, cost_rows) if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, object)) for c in WIP_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return out.astype({c: d for c, d in _DTYPES.items()})[list(WIP_COLUMNS)]


def worked(time: pd.DataFrame, rates_resolved: pd.DataFrame, clients_of: pd.Series,
           rounding_of, start: Any, end: Any) -> pd.DataFrame:
    """The time worked in ``start``..``end`` (work date, both inclusive), billed or not, each
    entry valued as WIP is (:func:`value_time`): ``entry_pk, matter_id, client_id,
    timekeeper_id, currency, work_date, billable, hours_milli, standard_minor, billing_minor``.

    The worked value of a period is its ``standard_minor`` (hours x standard rates); inputs as
    for :func:`wip`, with ``time`` the whole history (``store.reads.work``).
    """
    when = time["work_date"]
    rows = time[((when >= cutoff(start)) & (when <= cutoff(end))).fillna(False).to_numpy()]
    client = rows["matter_id"].map(clients_of)
    valued = value_time(rows["hours_milli"].to_numpy(dtype=np.int64),
                        rates_resolved.loc[rows.index, "standard_rate_minor"],
                        rates_resolved.loc[rows.index, "billing_rate_minor"],
                        rows["rate_minor"], rounding_of(client.to_numpy(dtype=object)))
    return pd.DataFrame({
        "entry_pk": rows["entry_pk"].to_numpy(dtype=np.int64),
        "matter_id": rows["matter_id"].to_numpy(), "client_id": client.to_numpy(),
        "timekeeper_id": rows["timekeeper_id"].to_numpy(),
        "currency": rows["currency"].to_numpy(), "work_date": rows["work_date"].to_numpy(),
        "billable": rows["billable"].to_numpy(dtype=bool),
        "hours_milli": rows["hours_milli"].to_numpy(dtype=np.int64),
        "standard_minor": np.asarray(valued["standard_minor"], dtype=np.int64),
        "billing_minor": np.asarray(valued["billing_minor"], dtype=np.int64)})


_DTYPES = {"entry_pk": "int64", "work_date": "datetime64[ns]", "billable": "bool",
           "hours_milli": "int64", "recorded_minor": "int64", "standard_minor": "int64",
           "billing_minor": "int64"}


def summarise(wip_rows: pd.DataFrame, by: list[str], *, billable_only: bool = True
              ) -> pd.DataFrame:
    """WIP per group and currency: ``entries, hours_milli, fees_standard_minor,
    fees_billing_minor, expenses_minor, total_standard_minor, total_billing_minor``."""
    rows = wip_rows[wip_rows["billable"]] if billable_only else wip_rows
    is_time = rows["entry_kind"] == "time"
    parts = rows.assign(
        fees_standard_minor=np.where(is_time, rows["standard_minor"], 0),
        fees_billing_minor=np.where(is_time, rows["billing_minor"], 0),
        expenses_minor=np.where(is_time, 0, rows["billing_minor"]))
    keys = [*by, "currency"]
    out = (parts.groupby(keys, as_index=False, dropna=False)
           .agg(entries=("entry_pk", "size"), hours_milli=("hours_milli", "sum"),
                fees_standard_minor=("fees_standard_minor", "sum"),
                fees_billing_minor=("fees_billing_minor", "sum"),
                expenses_minor=("expenses_minor", "sum")))
    for col in ("entries", "hours_milli", "fees_standard_minor", "fees_billing_minor",
                "expenses_minor"):
        out[col] = out[col].astype("int64")
    out["total_standard_minor"] = out["fees_standard_minor"] + out["expenses_minor"]
    out["total_billing_minor"] = out["fees_billing_minor"] + out["expenses_minor"]
    return out


def wip_aging(wip_rows: pd.DataFrame, as_of: Any, by: list[str], *,
              measure: str = "billing") -> pd.DataFrame:
    """Billable WIP per group, currency and age bucket (days since the work date)."""
    rows = wip_rows[wip_rows["billable"]]
    days = (cutoff(as_of) - rows["work_date"]).dt.days.to_numpy()
    rows = rows.assign(bucket=aging.bucket_of(days), value=rows[f"{measure}_minor"])
    keys = [*by, "currency"]
    table = (rows.pivot_table(index=keys, columns="bucket", values="value", aggfunc="sum",
                              fill_value=0, observed=True).reset_index()
             if len(rows) else pd.DataFrame(columns=keys))
    table.columns.name = None
    for b in aging.BUCKETS:
        table[b] = table[b].astype("int64") if b in table else 0
    table["total"] = table[list(aging.BUCKETS)].sum(axis=1).astype("int64")
    return table[[*keys, *aging.BUCKETS, "total"]].sort_values(
        ["currency", "total"], ascending=[True, False], ignore_index=True)


__all__ = ["MEASURES", "WIP_COLUMNS", "is_open", "summarise", "unbilled_through",
           "value_time", "wip", "wip_aging", "worked"]
