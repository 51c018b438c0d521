"""Finalize resolves the open findings on the entries it bills or writes off, and no others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from billxl.billing.invoicing import finalize
from billxl.store import tables as t
from tests.test_invoicing import load


@pytest.fixture
def ledger(empty_ledger):
    load(empty_ledger)
    return empty_ledger


def _pk(ledger, table, key, entry_id):
    return int(ledger.read_frame(sa.select(table.c[key]).where(table.c.entry_id == entry_id))
               .iloc[0, 0])


def test_finalize_resolves_findings_on_billed_and_written_off_entries_only(ledger):
    te, ex = t.time_entries, t.expenses
    time_pk = {i: _pk(ledger, te, "entry_pk", f"T{i}") for i in (1, 2, 3, 4, 6)}
    expense_pk = _pk(ledger, ex, "expense_pk", "X5")
    missing_expense = max(time_pk.values()) + 100  # no expense has it; a time entry may
    assert ledger.count(ex) < time_pk[6]
    now = datetime.now(UTC)
    # (label, kind, entry_pk, status before, status after)
    cases = [
        ("billed", "time", time_pk[1], "open", "resolved"),
        ("written off", "time", time_pk[2], "queried", "resolved"),
        ("held", "time", time_pk[3], "open", "open"),
        ("transferred", "time", time_pk[4], "open", "open"),
        ("billed, waived", "time", time_pk[6], "waived", "waived"),
        ("billed expense", "expense", expense_pk, "open", "resolved"),
        # an expense finding whose number is that of a billed time entry, not of an expense
        ("other kind", "expense", time_pk[6], "open", "open"),
        ("no entry", "expense", missing_expense, "open", "open"),
    ]
    with ledger.transaction() as conn:
        conn.execute(t.findings.insert(), [
            {"rule": "VAGUE", "severity": "warning", "entry_kind": kind, "entry_pk": pk,
             "entry_id": label, "field": "narrative", "message": label, "status": before,
             "entry_hash": "x", "first_seen_at": now, "last_seen_at": now,
             "status_reason": "agreed" if before == "waived" else None,
             "status_by": "JS" if before == "waived" else None}
            for label, kind, pk, before, _ in cases])
    finalize(ledger, month="2026-10", actor="billing.sec")
    after = ledger.read_frame(sa.select(t.findings.c.entry_id, t.findings.c.status,
                                        t.findings.c.status_by))
    status = dict(zip(after["entry_id"], after["status"], strict=True))
    assert status == {label: expected for label, _, _, _, expected in cases}
    resolved = after[after["status"] == "resolved"]
    assert set(resolved["status_by"]) == {"finalize"}
