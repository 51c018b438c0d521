"""Reports built from the figures (no I/O): WIP by billing partner for the month-end summary.

Amounts stay integer minor units per currency; a figure is never summed across currencies.
"""

from __future__ import annotations

import pandas as pd

from billxl import money
from billxl.figures import wip as wip_figure
from billxl.reference import Reference


def wip_by_partner(wip_rows: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Billable WIP per billing partner and currency, valued at billing rates.

    ``wip_rows``: :func:`billxl.figures.wip.wip` (``LedgerView.wip_rows``). Returns partner id
    and name, currency, entries, hours (Decimal), fees, expenses and total (Decimal, the
    currency's minor digits) and the same in minor units, largest total first.
    """
    partner_of = reference.matters.set_index("matter_id")["billing_partner_id"]
    rows = wip_rows.assign(billing_partner_id=wip_rows["matter_id"].map(partner_of))
    out = wip_figure.summarise(rows, ["billing_partner_id"]).rename(
        columns={"fees_billing_minor": "fees_minor", "total_billing_minor": "total_minor"})
    out["partner"] = reference.display_names(out["billing_partner_id"])
    out = out.sort_values(["currency", "total_minor"], ascending=[True, False], ignore_index=True)
    out["hours"] = out["hours_milli"].map(money.milli_to_qty)
    for col in ("fees", "expenses", "total"):
        out[col] = [money.from_minor(v, c) for v, c in
                    zip(out[f"{col}_minor"], out["currency"], strict=True)]
    return out[["billing_partner_id", "partner", "currency", "entries", "hours", "fees",
                "expenses", "total", "fees_minor", "expenses_minor", "total_minor"]]
