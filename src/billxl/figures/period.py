"""What happened in a period (``start`` to ``end``, both inclusive), each by its own date.

- **billed** (bill date): invoices dated in the period, net of the credit notes dated in it:
  ``fees`` (less invoice discounts), ``expenses``, ``tax`` and ``total``;
- **collected** (payment date): money applied to invoices in the period, from receipts and
  from trust, net of reversals (a bounced payment is collected back);
- **written down** (bill date; pre-bill): the worked value at standard rates of the time billed
  in the period less what it was billed at, plus the standard value of time written off on the
  pre-bill (dated by the invoice that pre-bill became, else its approval);
- **written off** (write-off date; post-bill): invoice balances written off in the period, net
  of reversals.

Every amount is attributed to the invoice's client, matter and office (and so to the matter's
billing partner) and kept per currency. Pure: frames in (``billxl.store.reads``), frames out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from billxl.figures.dates import cutoff

#: The invoice columns an amount is attributed by.
OWNER = ("client_id", "matter_id", "office_id", "currency")


def within(values: pd.Series, start: Any, end: Any) -> pd.Series:
    """Which dates fall in ``start``..``end`` (inclusive; either end may be None: open)."""
    keep = pd.Series(True, index=values.index)
    if start is not None:
        keep &= values >= cutoff(start)
    if end is not None:
        keep &= values <= cutoff(end)
    return keep.fillna(False).astype(bool)


def _owned(rows: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    """Rows keyed by ``invoice_pk`` with the invoice's owner columns added."""
    return rows.merge(invoices[["invoice_pk", *OWNER]], on="invoice_pk", how="left")


def _sum(frame: pd.DataFrame, by: list[str], values: dict[str, str]) -> pd.DataFrame:
    keys = [*by, "currency"]
    if frame.empty:
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys},
                             **{v: pd.Series(dtype="int64") for v in values}})
    out = frame.groupby(keys, as_index=False, dropna=False).agg(
        **{name: (col, "sum") for name, col in values.items()})
    return out.astype({name: "int64" for name in values})


def billed(invoices: pd.DataFrame, start: Any, end: Any, by: list[str]) -> pd.DataFrame:
    """``fees_billed_minor, expenses_billed_minor, tax_billed_minor, billed_minor`` per group."""
    rows = invoices[within(invoices["invoice_date"], start, end)]
    rows = rows.assign(net_fees=rows["fees_minor"] - rows["discount_minor"])
    return _sum(rows, by, {"fees_billed_minor": "net_fees",
                           "expenses_billed_minor": "expenses_minor",
                           "tax_billed_minor": "tax_minor", "billed_minor": "total_minor"})


def collected(allocations: pd.DataFrame, invoices: pd.DataFrame, start: Any, end: Any,
              by: list[str]) -> pd.DataFrame:
    """``collected_minor`` (and ``from_trust_minor``, its part paid out of trust) per group."""
    rows = _owned(allocations[within(allocations["applied_on"], start, end)], invoices)
    rows = rows.assign(trust=np.where(rows["trust_entry_pk"].notna(), rows["amount_minor"], 0))
    return _sum(rows, by, {"collected_minor": "amount_minor", "from_trust_minor": "trust"})


def written_off(write_offs: pd.DataFrame, invoices: pd.DataFrame, start: Any, end: Any,
                by: list[str]) -> pd.DataFrame:
    """``written_off_minor`` (post-bill) per group."""
    rows = _owned(write_offs[within(write_offs["written_on"], start, end)], invoices)
    return _sum(rows, by, {"written_off_minor": "amount_minor"})


def worked_and_billed(lines: pd.DataFrame, invoices: pd.DataFrame,
                      prebill_write_offs: pd.DataFrame, start: Any, end: Any,
                      by: list[str]) -> pd.DataFrame:
    """Time billed in the period at standard and at billed value, and the write-down.

    ``lines``: fee lines of invoices and credit notes (``store.reads.fee_lines``);
    ``prebill_write_offs``: time written off on pre-bills (``store.reads.prebill_write_offs``).
    Columns ``hours_billed_milli, standard_minor`` (worked value of what was billed or written
    off), ``fees_line_minor`` (billed value) and ``written_down_minor``.
    """
    heads = invoices[within(invoices["invoice_date"], start, end)]
    rows = lines.merge(heads[["invoice_pk", *OWNER]], on="invoice_pk", how="inner")
    rows = rows.assign(hours=rows["quantity_milli"], standard=rows["standard_amount_minor"],
                       fees=rows["amount_minor"])
    off = prebill_write_offs[within(prebill_write_offs["closed_on"], start, end)]
    off = off.assign(hours=0, standard=off["worked_amount_minor"], fees=0)
    keep = [*dict.fromkeys([*by, "currency", "hours", "standard", "fees"])]
    both = pd.concat([rows[[c for c in keep if c in rows]], off[[c for c in keep if c in off]]],
                     ignore_index=True)
    out = _sum(both, by, {"hours_billed_milli": "hours", "standard_minor": "standard",
                          "fees_line_minor": "fees"})
    out["written_down_minor"] = out["standard_minor"] - out["fees_line_minor"]
    return out


__all__ = ["OWNER", "billed", "collected", "within", "worked_and_billed", "written_off"]
