"""The rules over expenses: caps per expense code, receipts, codes the client does not pay for.

(Dates, narratives, UTBMS codes and duplicates of expenses are checked by the shared rules in
``time_rules`` and ``duplicates``.)
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from billxl import money
from billxl.rules.engine import Batch, found, money_text, rule, text_of


def _minor(amount: Decimal, currency_digits: int) -> int:
    """A guideline amount (Decimal) in a currency's minor units, rounded half-up."""
    return int(amount.scaleb(currency_digits).quantize(Decimal(1), rounding=money.DEFAULT_ROUNDING.decimal_mode))


def _code_names(b: Batch) -> pd.Series:
    """'Meals (E111)' for each row's expense code (the code alone when the set has no name)."""
    names: dict[str, str] = {}
    for g, _ in b.by_guide():
        names.update(g.codes("expense").names)
    codes = b.frame["expense_code"]
    named = codes.map(names)
    return (named.fillna("") + " (" + text_of(codes) + ")").str.lstrip()


@rule("EXPENSE_CAP", severity="error", kinds=("expense",),
      description="An expense over the client's cap for its expense code (e.g. meals E111 100.00).")
def expense_cap(b: Batch):
    f = b.frame
    cap = pd.Series(pd.NA, index=f.index, dtype="Int64")
    digits = f["currency"].fillna("USD").map(money.minor_digits).to_numpy()
    for g, rows in b.by_guide():
        for code, amount in g.expense_caps.items():
            hit = rows & (f["expense_code"] == code).fillna(False).to_numpy()
            for d in np.unique(digits[hit]):
                cap[hit & (digits == d)] = _minor(amount, int(d))
    over = (f["amount_minor"] > cap).fillna(False).to_numpy()
    if not over.any():
        return None
    sub = f[over]
    cap_text = money_text(cap[over], sub["currency"])
    message = (_code_names(b)[over] + " of " + money_text(sub["amount_minor"], sub["currency"])
               + " is over the client's cap of " + cap_text)
    return found(over, message, field="amount",
                 suggestion="Bill at most " + cap_text + " and write off the rest")


@rule("RECEIPT_REQUIRED", severity="error", kinds=("expense",),
      description="An expense over the receipt threshold (default 75.00) with no receipt reference.")
def receipt_required(b: Batch):
    f = b.frame
    digits = f["currency"].fillna("USD").map(money.minor_digits).to_numpy()
    threshold = np.zeros(len(f), dtype=np.int64)
    for g, rows in b.by_guide():
        for d in np.unique(digits[rows]):
            threshold[rows & (digits == d)] = _minor(g.receipt_threshold, int(d))
    no_receipt = f["receipt_ref"].fillna("").str.strip() == ""
    bad = (no_receipt & (f["amount_minor"] > threshold)).fillna(False).to_numpy()
    if not bad.any():
        return None
    sub = f[bad]
    limit = money_text(pd.Series(threshold[bad], index=sub.index), sub["currency"])
    message = ("Expense of " + money_text(sub["amount_minor"], sub["currency"]) + " is over "
               + limit + " and has no receipt reference")
    return found(bad, message, field="receipt_ref",
                 suggestion="Attach the receipt and record its reference")


@rule("NON_BILLABLE_EXPENSE", severity="error", kinds=("expense",),
      description="An expense code the client does not pay for (e.g. E101 in-house copying, "
                  "E106 online research), billed.")
def non_billable_expense(b: Batch):
    f = b.frame
    bad = np.zeros(len(f), dtype=bool)
    for g, rows in b.by_guide():
        if g.non_billable_expense_codes:
            bad |= rows & f["expense_code"].isin(g.non_billable_expense_codes).to_numpy()
    bad &= f["billable"].to_numpy()
    if not bad.any():
        return None
    message = "The client does not pay for " + _code_names(b)[bad]
    return found(bad, message, field="expense_code",
                 suggestion="Mark the expense non-billable (it stays in the firm's costs)")
