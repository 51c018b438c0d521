"""Credit on account: cash received from a client and not (yet) applied to any invoice.

    unapplied (per receipt) = amount received - applied to invoices - refunded

counting a receipt received by ``as_of`` and not reversed by then, the allocations applied by
then (net of reversals) and the refunds paid by then. A client's **credit on account** is the
sum over its identified receipts; cash whose payer is not yet known belongs to no client and is
reported apart (``unidentified``). The date that drives it is each journal's own date.

Credit on account is money the firm holds for the client: a statement shows it and states the
net amount due (open balances less the credit), and the aging shows it as ``credits`` beside the
balances under every grouping. Pure: frames in (``billxl.store.reads``), frames out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from billxl.figures.dates import cutoff, on_or_before

UNAPPLIED_COLUMNS = ("receipt_pk", "receipt_id", "client_id", "currency", "received_on",
                     "amount_minor", "unapplied_minor")


def unapplied(receipts: pd.DataFrame, allocations: pd.DataFrame, refunds: pd.DataFrame, *,
              as_of: Any = None) -> pd.DataFrame:
    """Per receipt with cash still unapplied on ``as_of`` (``UNAPPLIED_COLUMNS``)."""
    limit = cutoff(as_of)
    rec = receipts[on_or_before(receipts["received_on"], as_of)]
    reversed_ = rec["status"] == "reversed"
    if limit is not None:
        reversed_ &= (rec["reversed_on"] <= limit).fillna(True)
    rec = rec[~reversed_.to_numpy(dtype=bool)].reset_index(drop=True)
    out = rec.copy()
    used = pd.Series(0, index=rec.index, dtype="int64")
    for journal, when in ((allocations, "applied_on"), (refunds, "refunded_on")):
        rows = journal[on_or_before(journal[when], as_of) & journal["receipt_pk"].notna()]
        sums = rows["amount_minor"].groupby(rows["receipt_pk"].astype("int64").to_numpy()).sum()
        used += rec["receipt_pk"].map(sums).fillna(0).astype("int64")
    out["unapplied_minor"] = (rec["amount_minor"] - used).astype("int64")
    return out.loc[out["unapplied_minor"] != 0, list(UNAPPLIED_COLUMNS)].reset_index(drop=True)


def credit_on_account(unapplied_cash: pd.DataFrame) -> pd.DataFrame:
    """Per client and currency: ``credit_minor``, the cash held unapplied (identified only)."""
    known = unapplied_cash[unapplied_cash["client_id"].notna()]
    return (known.groupby(["client_id", "currency"], as_index=False)
            .agg(credit_minor=("unapplied_minor", "sum"), receipts=("receipt_pk", "size"))
            .astype({"credit_minor": "int64", "receipts": "int64"}))


def unidentified(unapplied_cash: pd.DataFrame) -> pd.DataFrame:
    """Per currency: cash received from payers not yet identified (``unidentified_minor``)."""
    stray = unapplied_cash[unapplied_cash["client_id"].isna()]
    return (stray.groupby("currency", as_index=False)
            .agg(unidentified_minor=("unapplied_minor", "sum"), receipts=("receipt_pk", "size")))


__all__ = ["UNAPPLIED_COLUMNS", "credit_on_account", "unapplied", "unidentified"]
