"""What several benchmarks do to the demo month before they time anything: bill it and collect
it (every draft pre-bill approved, the month finalized, the demo's receipts posted)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from billxl import payments
from billxl.billing import prebill
from billxl.billing.invoicing import finalize
from billxl.store import tables as t


def bill_and_collect(ledger, month: str, folder: Path) -> None:
    prebill.create_prebills(ledger, month, actor="bench")
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.prebills).where(t.prebills.c.status == "draft")
                     .values(status="approved", approved_by="bench",
                             approved_at=datetime.now(UTC)))
    finalize(ledger, month=month, invoice_date=date(2026, 11, 3), actor="bench")
    receipts, _ = payments.demo_receipts(payments.invoice_balances(ledger), "2026-11",
                                         clients=ledger.clients())
    receipts.to_csv(folder / "receipts.csv", index=False)
    payments.post_receipts(ledger, folder / "receipts.csv", actor="bench")
