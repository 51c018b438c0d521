"""The figures in a pack, computed from frames (no I/O): WIP and its breakdowns.

Amounts stay integer minor units per currency; a figure is never summed across currencies.
"""

from __future__ import annotations

import pandas as pd

from billxl import money


def wip_by_partner(entries: pd.DataFrame, expenses: pd.DataFrame, matters: pd.DataFrame,
                   timekeepers: pd.DataFrame) -> pd.DataFrame:
    """Unbilled time and expenses per billing partner and currency.

    ``entries`` and ``expenses`` are ledger frames (``hours_milli``, ``amount_minor``); only
    WIP rows count. Returns partner id and name, currency, hours (Decimal), fees, expenses and
    total (Decimal, the currency's minor digits), largest total first.
    """
    owner = matters[["matter_id", "billing_partner_id"]]
    fees = (entries[entries["status"] == "WIP"].merge(owner, on="matter_id")
            .groupby(["billing_partner_id", "currency"], as_index=False)
            .agg(hours_milli=("hours_milli", "sum"), fees_minor=("amount_minor", "sum"),
                 entries=("entry_id", "size")))
    costs = (expenses[expenses["status"] == "WIP"].merge(owner, on="matter_id")
             .groupby(["billing_partner_id", "currency"], as_index=False)
             .agg(expenses_minor=("amount_minor", "sum")))
    out = fees.merge(costs, on=["billing_partner_id", "currency"], how="outer")
    for col in ("hours_milli", "fees_minor", "expenses_minor", "entries"):
        out[col] = out[col].fillna(0).astype("int64")
    out["total_minor"] = out["fees_minor"] + out["expenses_minor"]
    names = timekeepers.assign(
        partner=timekeepers["last_name"] + ", " + timekeepers["first_name"]
    )[["timekeeper_id", "partner"]]
    out = out.merge(names, left_on="billing_partner_id", right_on="timekeeper_id", how="left")
    out = out.sort_values(["currency", "total_minor"], ascending=[True, False], ignore_index=True)
    out["hours"] = out["hours_milli"].map(money.milli_to_qty)
    for col in ("fees", "expenses", "total"):
        out[col] = [money.from_minor(v, c) for v, c in zip(out[f"{col}_minor"], out["currency"], strict=True)]
    return out[["billing_partner_id", "partner", "currency", "entries", "hours", "fees",
                "expenses", "total", "fees_minor", "expenses_minor", "total_minor"]]
