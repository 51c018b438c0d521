"""An invoice's balance: what the client still owes on it, as of a date.

    balance = total + credited - paid - written off

- ``total``: the invoice's total (fees + expenses - discount + tax), dated by the invoice date;
- ``credited``: the credit notes issued against it by ``as_of`` (negative amounts);
- ``paid``: the allocations applied to it by ``as_of``, from receipts and from trust, net of
  reversals (a returned payment is a negative allocation);
- ``written off``: post-bill write-offs written by ``as_of``, net of their reversals.

The balance is split into ``expenses_open`` and ``fees_open``: credit notes and write-offs come
out of fees first, so an invoice's expenses (with their tax) stay owed until they are paid —
what an expenses-first payment pays before any fees. A negative balance (an invoice credited
after it was paid) is money the firm owes back: a credit, never a debt. Credit notes themselves
carry no balance; they are the ``credited`` of the invoice they correct.

The date that drives each part is its own journal date; invoices dated after ``as_of`` are left
out. Pure: frames in (``billxl.store.reads``), a frame out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from billxl.figures.dates import on_or_before

BALANCE_COLUMNS = ("invoice_pk", "number", "client_id", "matter_id", "office_id", "currency",
                   "invoice_date", "due_date", "fees_minor", "expenses_minor", "discount_minor",
                   "tax_minor", "total_minor", "credited_minor", "paid_minor",
                   "written_off_minor", "balance_minor", "expenses_open_minor", "fees_open_minor")


def _sum_by(keys: pd.Series, values: pd.Series, index: pd.Series) -> np.ndarray:
    """``values`` summed per key, looked up for each of ``index`` (0 where none)."""
    if keys.empty:
        return np.zeros(len(index), dtype=np.int64)
    sums = values.astype("int64").groupby(keys.to_numpy()).sum()
    return index.map(sums).fillna(0).to_numpy(dtype=np.int64)


def invoice_balances(invoices: pd.DataFrame, allocations: pd.DataFrame,
                     write_offs: pd.DataFrame, expense_parts: pd.DataFrame | None = None, *,
                     as_of: Any = None, client: str | None = None) -> pd.DataFrame:
    """Every invoice (not credit notes) with its balance as of a date (``BALANCE_COLUMNS``).

    Inputs are the frames of ``store.reads``: ``invoices`` (credit notes included),
    ``allocations``, ``write_offs`` and ``expense_parts``; rows dated after ``as_of`` are
    left out here, so the reads may bring more.
    """
    every = invoices[on_or_before(invoices["invoice_date"], as_of)]
    if client is not None:
        every = every[every["client_id"] == client]
    is_note = (every["kind"] == "credit_note").to_numpy()
    notes = every[is_note]
    frame = every[~is_note].reset_index(drop=True)
    pks = frame["invoice_pk"]
    frame["credited_minor"] = _sum_by(notes["credits_invoice_pk"].astype("int64"),
                                      notes["total_minor"], pks)
    applied = allocations[on_or_before(allocations["applied_on"], as_of)]
    frame["paid_minor"] = _sum_by(applied["invoice_pk"], applied["amount_minor"], pks)
    paid_expenses = _sum_by(applied["invoice_pk"], applied["expenses_minor"], pks)
    written = write_offs[on_or_before(write_offs["written_on"], as_of)]
    frame["written_off_minor"] = _sum_by(written["invoice_pk"], written["amount_minor"], pks)
    # a credit note's expense lines count against the invoice it credits
    expense_part = np.zeros(len(frame), dtype=np.int64)
    if expense_parts is not None and len(expense_parts):
        owner = pd.concat([pd.Series(pks.to_numpy(), index=pks.to_numpy()),
                           pd.Series(notes["credits_invoice_pk"].astype("int64").to_numpy(),
                                     index=notes["invoice_pk"].to_numpy())])
        parts = expense_parts[expense_parts["invoice_pk"].isin(owner.index)]
        expense_part = _sum_by(parts["invoice_pk"].map(owner), parts["expense_part_minor"], pks)
    frame["balance_minor"] = (frame["total_minor"] + frame["credited_minor"] - frame["paid_minor"]
                              - frame["written_off_minor"])
    open_expenses = np.clip(expense_part - paid_expenses, 0, None)
    owed = frame["balance_minor"].clip(lower=0).to_numpy(dtype=np.int64)
    frame["expenses_open_minor"] = np.minimum(open_expenses, owed)
    frame["fees_open_minor"] = frame["balance_minor"] - frame["expenses_open_minor"]
    return frame[list(BALANCE_COLUMNS)]


def invoice_status(balances: pd.DataFrame) -> pd.Series:
    """What an invoice's balance says in words: paid, part paid, credited, credit balance …"""
    paid = balances["paid_minor"] > 0
    off = balances["written_off_minor"] > 0
    settled = balances["balance_minor"] == 0
    return pd.Series(np.select(
        [balances["balance_minor"] < 0, settled & paid, settled & off, settled, paid,
         balances["credited_minor"] != 0],
        ["credit balance", "paid", "written off", "credited", "part paid", "part credited"],
        default="open"), index=balances.index)


__all__ = ["BALANCE_COLUMNS", "invoice_balances", "invoice_status"]
