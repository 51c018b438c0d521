"""Credit notes: the only way a final invoice is corrected, and the invoice register.

A credit note is an invoice of kind ``credit_note`` with negative lines, referencing the
invoice it corrects. It credits the whole invoice, chosen lines (optionally returning their
entries to WIP so they can be billed again, corrected), or an amount. An invoice can never be
credited for more than its remaining total. Credit notes are numbered in their own gapless
sequence (``CN-000001``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from billxl import money
from billxl.billing.invoicing import LINE_COLUMNS, invoice_totals, percent_of_array
from billxl.errors import LedgerError
from billxl.figures import balances
from billxl.money import Rounding
from billxl.periods import month_range
from billxl.store import billing as store
from billxl.store import reads
from billxl.store.ledger import Ledger, current_actor

CREDIT_SCOPE, CREDIT_PREFIX = "credit", "CN-"


def _invoice(conn, number: str) -> dict:
    row = store.read_invoice(conn, number)
    if row is None:
        raise LedgerError(f"There is no invoice {number} in the ledger.")
    if row["kind"] != "invoice":
        raise LedgerError(f"{number} is a credit note; only invoices can be credited.")
    return row


def issue_credit_note(ledger: Ledger, number: str, *, reason: str,
                      lines: list[int] | None = None, amount: Decimal | str | None = None,
                      return_wip: bool = False, on: date | None = None,
                      actor: str | None = None) -> dict:
    """Credit invoice ``number`` in full, by line numbers, or by a pre-tax amount."""
    if not (reason and reason.strip()):
        raise LedgerError("A credit note needs a reason (it is printed on the credit note).")
    if lines and amount is not None:
        raise LedgerError("Credit either chosen lines or an amount, not both.")
    if return_wip and amount is not None:
        raise LedgerError("Only credited lines can return their entries to WIP, not an amount.")
    actor = actor or current_actor()
    on = on or date.today()
    with ledger.transaction() as conn:
        original = _invoice(conn, number)
        rounding = Rounding(original["rounding"])
        source = store.read_invoice_lines(ledger, conn, original["invoice_pk"])
        before = store.read_credited_lines(ledger, conn, original["invoice_pk"])
        remaining = original["total_minor"] + int(before["amount_minor"].sum()
                                                  + before["tax_minor"].sum())
        if remaining <= 0:
            raise LedgerError(f"Invoice {number} is already fully credited.")

        if amount is not None:
            pre_tax = money.to_minor(amount, original["currency"])
            fee_tax = (source.loc[source["line_type"].isin(["F", "IF"]), "tax_percent"]
                       .map(money.D).max() if len(source) else Decimal(0))
            fee_tax = Decimal(0) if pd.isna(fee_tax) else fee_tax
            tax = int(percent_of_array(np.array([pre_tax]), fee_tax, rounding)[0])
            if pre_tax <= 0 or pre_tax + tax > remaining:
                raise LedgerError(
                    f"A credit of {money.format_amount(pre_tax, original['currency'])} plus tax "
                    f"is more than what remains of invoice {number} "
                    f"({money.format_amount(remaining, original['currency'])}).")
            credit = pd.DataFrame([{
                "line_type": "IF", "work_date": pd.Timestamp(on), "narrative": f"Credit: {reason}",
                "quantity_milli": 1000, "unit_minor": -pre_tax, "standard_amount_minor": 0,
                "adjustment_minor": 0, "amount_minor": -pre_tax, "tax_percent": str(fee_tax),
                "tax_minor": -tax}])
        else:
            chosen = source if not lines else source[source["line_no"].isin(lines)]
            unknown = sorted(set(lines or []) - set(source["line_no"]))
            if unknown:
                raise LedgerError(f"Invoice {number} has no line {', '.join(map(str, unknown))}.")
            if not lines and len(before):
                raise LedgerError(f"Invoice {number} is already partly credited; credit the "
                                  "remaining lines or an amount instead of the whole invoice.")
            again = chosen.merge(before[["entry_kind", "entry_pk"]].dropna(),
                                 on=["entry_kind", "entry_pk"])
            if len(again):
                raise LedgerError(f"Line(s) {', '.join(map(str, again['line_no']))} of invoice "
                                  f"{number} were credited already.")
            credit = chosen.copy()
            for col in ("standard_amount_minor", "adjustment_minor", "amount_minor", "tax_minor"):
                credit[col] = -credit[col].astype("int64")
            # quantity x unit + adjustment = amount still holds: an entry line credits its
            # hours (negative quantity at the same rate), an invoice-level line its amount
            entry_line = credit["line_type"].isin(["F", "E"])
            credit["quantity_milli"] = credit["quantity_milli"].where(~entry_line,
                                                                      -credit["quantity_milli"])
            credit["unit_minor"] = credit["unit_minor"].where(entry_line, -credit["unit_minor"])
        credit = credit.reset_index(drop=True)
        credit["line_no"] = np.arange(1, len(credit) + 1)

        header = {k: original[k] for k in ("client_id", "matter_id", "office_id", "currency",
                                           "period_start", "period_end", "payor_percent",
                                           "rounding")}
        header.update({"number": None, "kind": "credit_note",
                       "credits_invoice_pk": original["invoice_pk"], "invoice_date": on,
                       "due_date": on, "description": f"Credit note for invoice {number}: {reason}",
                       "finalized_at": datetime.now(UTC), "finalized_by": actor,
                       **invoice_totals(credit)})
        store.write_credit_note(ledger, conn, header, credit, LINE_COLUMNS, scope=CREDIT_SCOPE,
                                prefix=CREDIT_PREFIX, return_wip=return_wip,
                                audit_before={"invoice": number, "remaining_minor": remaining},
                                reason=reason, actor=actor)
    return header


def list_invoices(ledger: Ledger, *, month: str | None = None,
                  client: str | None = None) -> pd.DataFrame:
    """The invoice register: every invoice and credit note with its balance and status.

    The balance is :func:`billxl.figures.balances.invoice_balances` (its total less the credit
    notes against it, the payments allocated to it and the short payments written off), as the
    ledger stands; ``credited`` is the credit notes' total (negative). A credit note's balance is
    zero and its status "credit note".
    """
    start, end = month_range(month) if month else (None, None)
    with ledger.engine.connect() as conn:
        frame = reads.invoice_register(conn, start=start, end=end, client=client)
        j = reads.cash_journals(conn, client=client, with_cash=False)
    owed = balances.invoice_balances(j.invoices, j.allocations, j.write_offs, j.expense_parts)
    figures = owed[["invoice_pk", "credited_minor", "paid_minor", "written_off_minor",
                    "balance_minor"]].rename(columns={"credited_minor": "credited"})
    frame = frame.merge(figures, on="invoice_pk", how="left")
    for col in ("credited", "paid_minor", "written_off_minor", "balance_minor"):
        frame[col] = frame[col].fillna(0).astype("int64")
    is_invoice = (frame["kind"] == "invoice").to_numpy()
    status = balances.invoice_status(frame.rename(columns={"credited": "credited_minor"}))
    frame["status"] = np.where(is_invoice, status, "credit note")
    return frame
