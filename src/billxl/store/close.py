"""What the month-end close checks read: open error findings, pre-bills not finalized, and
receipts left in suspense (:func:`billxl.packs.batch.close_problems` turns them into words).

- a finding counts while it is ``open`` or ``queried`` (a waived or resolved one does not), is
  of severity ``error``, and is on an entry worked on or before the month's last day (the
  reconciliation checks the WIP through the month);
- a pre-bill of the month counts while it is ``draft`` or ``approved`` (``superseded`` ones were
  replaced by a newer draft of the same matter);
- a receipt counts while it is ``unmatched`` (in suspense: no client identified) and was
  received on or before the month's last day.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger

OPEN_FINDING_STATUSES = ("open", "queried")
UNFINISHED_PREBILL_STATUSES = ("draft", "approved")


def open_error_findings(ledger: Ledger, through: date) -> pd.DataFrame:
    """Open or queried error findings on entries worked up to ``through``."""
    f = t.findings.c
    columns = [f.finding_id, f.rule, f.entry_kind, f.entry_id, f.message, f.status]

    def on(entries: sa.Table, pk: sa.Column, kind: str) -> sa.Select:
        return (sa.select(*columns, entries.c.matter_id, entries.c.work_date)
                .select_from(t.findings.join(entries, sa.and_(f.entry_kind == kind,
                                                              f.entry_pk == pk)))
                .where(f.severity == "error", f.status.in_(OPEN_FINDING_STATUSES),
                       entries.c.work_date <= through))

    query = sa.union_all(on(t.time_entries, t.time_entries.c.entry_pk, "time"),
                         on(t.expenses, t.expenses.c.expense_pk, "expense"))
    frame = ledger.read_frame(sa.select(query.subquery()))
    return frame.sort_values("finding_id", kind="stable").reset_index(drop=True)


def unfinished_prebills(ledger: Ledger, month: str) -> pd.DataFrame:
    """The month's pre-bills that are still draft or approved (not finalized)."""
    p = t.prebills.c
    return ledger.read_frame(
        sa.select(p.prebill_pk, p.matter_id, p.billing_partner_id, p.status)
        .where(p.month == month, p.status.in_(UNFINISHED_PREBILL_STATUSES))
        .order_by(p.matter_id, p.prebill_pk))


def receipts_in_suspense(ledger: Ledger, through: date) -> pd.DataFrame:
    """Receipts received up to ``through`` and still unmatched (no client identified)."""
    r = t.receipts.c
    return ledger.read_frame(
        sa.select(r.receipt_pk, r.receipt_id, r.received_on, r.payer, r.amount_minor,
                  r.currency, r.unmatched_reason)
        .where(r.status == "unmatched", r.received_on <= through)
        .order_by(r.received_on, r.receipt_pk))


__all__ = ["open_error_findings", "receipts_in_suspense", "unfinished_prebills"]
