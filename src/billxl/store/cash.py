"""Cash's reads, writes and lock: receipts, allocations, write-offs, refunds, cash terms, trust.

:mod:`billxl.payments` and :mod:`billxl.trust` compute over what these return and hand back what
to write; each command's thin function runs lock -> read -> compute -> write inside one
``ledger.transaction()``. Every write here leaves the command's audit row: allocations made
alongside a receipt's change or a trust entry are recorded in that row's audit entry, as they
are written in the same step. The receivables figures themselves (balances, credit, trust
balance) are computed in :mod:`billxl.figures` from the journals of :mod:`billxl.store.reads`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from billxl.errors import LedgerError
from billxl.store import tables as t
from billxl.store.collections import client_currency
from billxl.store.ledger import Ledger, jsonable_row

__all__ = [
    "CASH_LOCK_KEY",
    "lock_cash",
    "client_currency",
    "matter_account",
    "read_cash_terms",
    "cash_terms_of",
    "save_cash_terms",
    "stored_receipt_keys",
    "write_receipt_batch",
    "receipts_with_id",
    "read_receipt_rows",
    "client_credit_receipts",
    "refunded_minor",
    "receipt_allocations",
    "receipt_write_offs",
    "insert_allocations",
    "insert_write_offs",
    "update_receipt",
    "write_off_invoice",
    "write_refunds",
    "insert_trust_entry",
    "retainer_of",
    "save_retainer",
    "trust_ledger_rows",
]

CASH_LOCK_KEY = 0x62696C6C786C  # 'billxl': the PostgreSQL advisory lock taken by cash writers


# =================================================================================== the lock
def lock_cash(conn: sa.Connection) -> None:
    """Let one cash writer at a time into the receipts and allocations (till commit).

    SQLite write transactions already hold the database's write lock (BEGIN IMMEDIATE). On
    PostgreSQL a transaction-scoped advisory lock queues posting, reversal, refunds and trust
    applications, so none of them allocates from balances another is changing.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CASH_LOCK_KEY})")


# =================================================================================== accounts
def matter_account(conn: sa.Connection, matter: str) -> dict | None:
    """A matter's ``matter_id``, ``client_id`` and the client's ``currency`` (None if none)."""
    row = conn.execute(sa.select(t.matters.c.matter_id, t.matters.c.client_id, t.clients.c.currency)
                       .join(t.clients, t.clients.c.client_id == t.matters.c.client_id)
                       .where(t.matters.c.matter_id == matter)).mappings().first()
    return None if row is None else dict(row)


def _row_of(conn: sa.Connection, table: sa.Table, key: str, value: str) -> dict | None:
    found = conn.execute(sa.select(table).where(table.c[key] == value)).mappings().first()
    return None if found is None else dict(found)


def _upsert(ledger: Ledger, conn: sa.Connection, table: sa.Table, key: str, row: dict,
            before: dict | None, actor: str | None) -> None:
    """Insert or replace the one row of ``table`` keyed by ``row[key]``, with its audit row."""
    if before:
        conn.execute(table.update().where(table.c[key] == row[key]), row)
    else:
        conn.execute(table.insert(), row)
    ledger.audit(conn, "update" if before else "insert", table.name, row[key],
                 jsonable_row(before) if before else None, jsonable_row(row), actor=actor)


# =================================================================================== cash terms
def read_cash_terms(ledger: Ledger, conn: sa.Connection | None = None) -> pd.DataFrame:
    """Every client's cash terms that were set (the ``cash_terms`` table's rows)."""
    return ledger.read_frame(t.cash_terms, conn)


def cash_terms_of(conn: sa.Connection, client: str) -> dict | None:
    """One client's cash terms row, None when none were set."""
    return _row_of(conn, t.cash_terms, "client_id", client)


def save_cash_terms(ledger: Ledger, conn: sa.Connection, row: dict, before: dict | None,
                    actor: str | None) -> None:
    """Write a client's cash terms (insert, or update ``before``) and audit the change."""
    _upsert(ledger, conn, t.cash_terms, "client_id", row, before, actor)


# =================================================================================== posting
def _stamp(conn: sa.Connection, when: datetime) -> str:
    """A timestamp as the bulk writer passes it: SQLAlchemy's SQLite text, or ISO with offset."""
    if conn.dialect.name == "sqlite":
        return when.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return when.isoformat()


def stored_receipt_keys(ledger: Ledger, conn: sa.Connection, source: str,
                        keys: pd.Series) -> pd.DataFrame:
    """The stored (source_key, row_hash) of the keys in this file: one join via a temp table."""
    columns = ["source_key", "row_hash"]
    if keys.empty:
        return pd.DataFrame(columns=columns)
    scratch = sa.Table("billxl_receipt_keys", sa.MetaData(),
                       sa.Column("source_key", sa.String(100)), prefixes=["TEMPORARY"])
    scratch.create(conn)
    try:
        ledger.bulk_insert(conn, scratch, pd.DataFrame({"source_key": keys.to_numpy(dtype=object)}))
        rc = t.receipts.c
        query = (sa.select(rc.source_key, rc.row_hash)
                 .select_from(scratch.join(t.receipts, sa.and_(rc.source == source,
                                                               rc.source_key == scratch.c.source_key))))
        return ledger.read_frame(query, conn)
    finally:
        scratch.drop(conn)


def write_receipt_batch(ledger: Ledger, conn: sa.Connection, receipts: pd.DataFrame,
                        allocations: pd.DataFrame, write_offs: pd.DataFrame, *, file_name: str,
                        file_sha256: str, profile: str, source: str, actor: str,
                        report: Callable[[str, int, int], None]) -> int:
    """A posting run: its import batch, the receipts, their allocations and write-offs, and one
    audit row; returns the batch id.

    ``allocations`` and ``write_offs`` name their receipt by its row position in ``receipts``
    (``receipt``); a write-off's ``reason`` is written as given.
    """
    now = datetime.now(UTC)
    stamp = _stamp(conn, now)
    r = receipts
    sums = {k: int(v) for k, v in r[["amount_minor", "allocated_minor", "written_off_minor",
                                     "unapplied_minor"]].sum().items()}
    batch = {"kind": "receipts", "file_name": file_name[:260], "file_sha256": file_sha256,
             "profile": profile, "source": source, "actor": actor, "imported_at": now,
             "rows_read": len(r), "rows_new": len(r), "rows_changed": 0, "rows_unchanged": 0}
    batch_id = int(conn.execute(t.import_batches.insert(), batch).inserted_primary_key[0])
    report("Writing receipts", 0, len(r))
    rows = r.assign(batch_id=batch_id, posted_at=stamp, posted_by=actor)
    ledger.bulk_insert(conn, t.receipts, rows[[c.name for c in t.receipts.c if c.name in rows]])
    report("Writing receipts", len(r), len(r))

    pks = ledger.read_frame(sa.select(t.receipts.c.source_key, t.receipts.c.receipt_pk)
                            .where(t.receipts.c.batch_id == batch_id), conn)
    pk_of = dict(zip(pks["source_key"], pks["receipt_pk"].astype("int64"), strict=True))
    receipt_pk = r["source_key"].map(pk_of).to_numpy(dtype=np.int64)
    received = r["received_on"].to_numpy()
    alloc, offs = allocations, write_offs
    report("Writing allocations", 0, len(alloc))
    if len(alloc):
        pos = alloc["receipt"].to_numpy()
        ledger.bulk_insert(conn, t.allocations, pd.DataFrame({
            "receipt_pk": receipt_pk[pos], "invoice_pk": alloc["invoice_pk"].to_numpy(np.int64),
            "applied_on": received[pos], "kind": "apply", "rule": alloc["rule"].to_numpy(),
            "amount_minor": alloc["amount_minor"].to_numpy(np.int64),
            "expenses_minor": alloc["expenses_minor"].to_numpy(np.int64),
            "batch_id": batch_id, "created_at": stamp, "created_by": actor}))
    if len(offs):
        pos = offs["receipt"].to_numpy()
        ledger.bulk_insert(conn, t.write_offs, pd.DataFrame({
            "invoice_pk": offs["invoice_pk"].to_numpy(np.int64), "receipt_pk": receipt_pk[pos],
            "written_on": received[pos], "kind": "write_off",
            "amount_minor": offs["amount_minor"].to_numpy(np.int64),
            "reason": offs["reason"].to_numpy(dtype=object),
            "created_at": stamp, "created_by": actor}))
    report("Writing allocations", len(alloc), len(alloc))
    ledger.audit(conn, "post", "receipts", f"batch {batch_id}", None, {
        "batch_id": batch_id, "file": batch["file_name"], "file_sha256": batch["file_sha256"],
        "receipts": len(r), "unmatched": int((r["status"] == "unmatched").sum()),
        "allocations": len(alloc), "write_offs": len(offs), **sums}, actor=actor)
    return batch_id


# =================================================================================== receipts
def receipts_with_id(conn: sa.Connection, receipt_id: str, source: str | None) -> list[dict]:
    """Every stored receipt with this id (in ``source`` when given), as rows."""
    query = sa.select(t.receipts).where(t.receipts.c.receipt_id == receipt_id)
    if source:
        query = query.where(t.receipts.c.source == source)
    return [dict(row) for row in conn.execute(query).mappings().all()]


def read_receipt_rows(ledger: Ledger, conn: sa.Connection | None = None, *,
                      status: str | None = None, client: str | None = None) -> pd.DataFrame:
    """Receipts (every column; optionally of one status or client), oldest first."""
    query = sa.select(t.receipts)
    if status:
        query = query.where(t.receipts.c.status == status)
    if client:
        query = query.where(t.receipts.c.client_id == client)
    return ledger.read_frame(query.order_by(t.receipts.c.received_on, t.receipts.c.receipt_pk),
                             conn, dates=("received_on", "reversed_on"))


def client_credit_receipts(ledger: Ledger, conn: sa.Connection, client: str,
                           currency: str) -> pd.DataFrame:
    """A client's receipts in ``currency`` with cash unapplied (not reversed), oldest first."""
    rc = t.receipts.c
    return ledger.read_frame(
        sa.select(t.receipts).where(rc.client_id == client, rc.status != "reversed",
                                    rc.unapplied_minor > 0, rc.currency == currency)
        .order_by(rc.received_on, rc.receipt_pk), conn)


def refunded_minor(conn: sa.Connection, receipt_pk: int) -> int:
    """How much of a receipt was refunded (minor units)."""
    rf = t.refunds.c
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(rf.amount_minor), 0))
                            .where(rf.receipt_pk == receipt_pk)).scalar())


def receipt_allocations(conn: sa.Connection, receipt_pk: int) -> list[tuple[int, int, int]]:
    """What a receipt has paid, net, per invoice: (invoice_pk, amount, expenses part)."""
    al = t.allocations.c
    rows = conn.execute(sa.select(al.invoice_pk, sa.func.sum(al.amount_minor),
                                  sa.func.sum(al.expenses_minor))
                        .where(al.receipt_pk == receipt_pk).group_by(al.invoice_pk)).all()
    return [(int(pk), int(a), int(e)) for pk, a, e in rows]


def receipt_write_offs(conn: sa.Connection, receipt_pk: int) -> list[tuple[int, int]]:
    """What was written off with a receipt, net, per invoice: (invoice_pk, amount)."""
    wo = t.write_offs.c
    rows = conn.execute(sa.select(wo.invoice_pk, sa.func.sum(wo.amount_minor))
                        .where(wo.receipt_pk == receipt_pk).group_by(wo.invoice_pk)).all()
    return [(int(pk), int(a)) for pk, a in rows]


def insert_allocations(conn: sa.Connection, rows: Sequence[dict]) -> None:
    """Allocation rows (from a receipt or a trust entry), audited with the change they belong
    to (the receipt's update, the trust entry)."""
    if rows:
        conn.execute(t.allocations.insert(), list(rows))


def insert_write_offs(conn: sa.Connection, rows: Sequence[dict]) -> None:
    """Write-off rows made with a receipt's change, audited with the receipt's update."""
    if rows:
        conn.execute(t.write_offs.insert(), list(rows))


def update_receipt(ledger: Ledger, conn: sa.Connection, receipt_pk: int, values: dict, *,
                   action: str, before: dict, after: dict, actor: str | None) -> None:
    """Set ``values`` on one receipt and audit the change (``before``/``after`` as shown)."""
    conn.execute(t.receipts.update().where(t.receipts.c.receipt_pk == receipt_pk), values)
    ledger.audit(conn, action, "receipts", str(receipt_pk), jsonable_row(before),
                 jsonable_row(after), actor=actor)


def write_off_invoice(ledger: Ledger, conn: sa.Connection, row: dict, number: str,
                      before: dict, after: dict, actor: str | None) -> None:
    """One write-off of (part of) an invoice's balance, audited against the invoice."""
    conn.execute(t.write_offs.insert(), row)
    ledger.audit(conn, "write_off", "invoices", number, before, after, actor=actor)


def write_refunds(ledger: Ledger, conn: sa.Connection, rows: Sequence[dict],
                  drawn: Sequence[tuple[int, int]], *, key: str, before: dict, after: dict,
                  actor: str | None) -> None:
    """Refunds of unapplied cash: their rows, each receipt's ``unapplied_minor`` lowered by
    what was drawn from it (receipt_pk, amount), and one audit row under ``key``."""
    rc = t.receipts.c
    conn.execute(t.refunds.insert(), list(rows))
    conn.execute(t.receipts.update().where(rc.receipt_pk == sa.bindparam("b_pk"))
                 .values(unapplied_minor=rc.unapplied_minor - sa.bindparam("b_drawn")),
                 [{"b_pk": int(pk), "b_drawn": int(d)} for pk, d in drawn])
    ledger.audit(conn, "refund", "receipts", key, before, after, actor=actor)


# =================================================================================== trust
def insert_trust_entry(ledger: Ledger, conn: sa.Connection, row: dict, actor: str) -> int:
    """Insert one trust entry and audit it; the store's refusal (a negative balance) becomes
    a LedgerError."""
    try:
        pk = conn.execute(t.trust_entries.insert().returning(t.trust_entries.c.trust_entry_pk),
                          {**row, "created_at": datetime.now(UTC), "created_by": actor}
                          ).scalar_one()
    except sa.exc.IntegrityError as error:
        raise LedgerError(f"The ledger refused the trust entry: {str(error.orig).splitlines()[0]}."
                          ) from None
    ledger.audit(conn, "insert", "trust_entries", str(pk), None,
                 {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()},
                 actor=actor)
    return int(pk)


def retainer_of(conn: sa.Connection, matter: str) -> dict | None:
    """A matter's retainer row, None when it has none."""
    return _row_of(conn, t.retainers, "matter_id", matter)


def save_retainer(ledger: Ledger, conn: sa.Connection, row: dict, before: dict | None,
                  actor: str | None) -> None:
    """Write a matter's retainer (insert, or update ``before``) and audit the change."""
    _upsert(ledger, conn, t.retainers, "matter_id", row, before, actor)


def trust_ledger_rows(ledger: Ledger, matter: str) -> pd.DataFrame:
    """A matter's trust entries (every column) in the order recorded."""
    te = t.trust_entries.c
    return ledger.read_frame(sa.select(t.trust_entries).where(te.matter_id == matter)
                             .order_by(te.trust_entry_pk), dates=("entry_date",))
