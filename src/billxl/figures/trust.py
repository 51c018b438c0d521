"""Trust balance: client money held for a matter, as of a date.

    trust balance (matter, currency) = deposits - applications to invoices - refunds

the sum of the matter's trust entries dated by ``as_of`` (deposits are positive, applications
and refunds negative). The store never lets it go below zero. A client's trust balance is the
sum over its matters, per currency; trust money is the client's, never the firm's, so it is
shown beside receivables (never netted against them). An evergreen retainer asks for a top-up
when the balance falls below its minimum: ``top_up = target - balance``.
Pure: frames in (``billxl.store.reads``), a frame out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from billxl.figures.dates import on_or_before

TRUST_COLUMNS = ("client_id", "matter_id", "currency", "balance_minor", "deposited_minor",
                 "last_entry", "minimum_minor", "target_minor", "below_minimum", "top_up_minor")


def trust_balances(entries: pd.DataFrame, retainers: pd.DataFrame | None = None, *,
                   as_of: Any = None) -> pd.DataFrame:
    """Per client, matter and currency (``TRUST_COLUMNS``); matters with a retainer and no
    entries yet are listed with a balance of 0."""
    rows = entries[on_or_before(entries["entry_date"], as_of)]
    keys = ["client_id", "matter_id", "currency"]
    frame = (rows.assign(deposited_minor=rows["amount_minor"].clip(lower=0))
             .groupby(keys, as_index=False)
             .agg(balance_minor=("amount_minor", "sum"), deposited_minor=("deposited_minor", "sum"),
                  last_entry=("entry_date", "max")))
    if retainers is not None and len(retainers):
        frame = frame.merge(retainers[[*keys, "minimum_minor", "target_minor"]], on=keys,
                            how="outer")
    else:
        frame["minimum_minor"] = pd.Series(dtype="Int64")
        frame["target_minor"] = pd.Series(dtype="Int64")
    for col in ("balance_minor", "deposited_minor"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["minimum_minor"] = frame["minimum_minor"].astype("Int64")
    frame["target_minor"] = frame["target_minor"].astype("Int64")
    below = (frame["minimum_minor"].notna()
             & (frame["balance_minor"] < frame["minimum_minor"].fillna(0))).to_numpy(dtype=bool)
    frame["below_minimum"] = below
    frame["top_up_minor"] = np.where(
        below, frame["target_minor"].fillna(0).to_numpy(dtype=np.int64) - frame["balance_minor"],
        0).astype("int64")
    frame["last_entry"] = frame["last_entry"].astype("datetime64[ns]")
    return frame.sort_values(keys, ignore_index=True)[list(TRUST_COLUMNS)]


__all__ = ["TRUST_COLUMNS", "trust_balances"]
