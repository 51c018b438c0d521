"""Billing's reads, writes and locks: pre-bills, invoices, credit notes and schedules.

The billing modules (``billxl.billing``) compute over what these return and hand back what to
write; each command's thin function runs lock -> read -> compute -> write inside one
``ledger.transaction()``. Every write here that changes a business record leaves its audit row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger, jsonable_row
from billxl.store.numbering import take_numbers

__all__ = [
    "IN_LIST_BOUND",
    "in_chunks",
    "lock_approved_prebills",
    "read_prebill_entries",
    "lock_due_schedule_items",
    "fixed_fees_billed",
    "fees_billed_since",
    "write_invoices",
    "matter_currency",
    "insert_schedule_item",
    "read_schedule_item",
    "update_schedule_item",
    "read_schedule_items",
    "read_invoice",
    "read_invoice_lines",
    "read_credited_lines",
    "write_credit_note",
]

IN_LIST_BOUND = 30_000  # rows per IN (...) list, under every driver's parameter limit


def in_chunks(values: Iterable) -> list[list]:
    """``values`` in lists short enough for one IN (...) each."""
    values = list(values)
    return [values[i:i + IN_LIST_BOUND] for i in range(0, len(values), IN_LIST_BOUND)]


# =================================================================================== finalize
def lock_approved_prebills(conn: sa.Connection, month: str | None,
                           matter: str | None) -> pd.DataFrame:
    """Approved pre-bills (of a month and/or a matter), locked on PostgreSQL so that a
    concurrent finalize cannot take them too (SQLite's write transaction already serialises)."""
    q = sa.select(t.prebills).where(t.prebills.c.status == "approved")
    if month:
        q = q.where(t.prebills.c.month == month)
    if matter:
        q = q.where(t.prebills.c.matter_id == matter)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    rows = conn.execute(q.order_by(t.prebills.c.prebill_pk)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=list(t.prebills.c.keys()))


def read_prebill_entries(ledger: Ledger, conn: sa.Connection,
                         prebill_pks: list[int]) -> pd.DataFrame:
    """Every line of the pre-bills with its entry's details and status (the columns finalize
    uses; a month's lines in one go). No pre-bills: an empty frame of pre-bill line columns."""
    if not prebill_pks:
        return pd.DataFrame(columns=list(t.prebill_lines.c.keys()))
    pl, te, ex = t.prebill_lines, t.time_entries, t.expenses
    lines = ledger.read_frame(
        sa.select(pl.c.prebill_pk, pl.c.entry_kind, pl.c.entry_pk, pl.c.worked_amount_minor,
                  pl.c.bill_qty_milli, pl.c.bill_rate_minor, pl.c.bill_amount_minor,
                  pl.c.action, pl.c.transfer_to)
        .where(pl.c.prebill_pk.in_(prebill_pks)), conn)
    time = ledger.read_frame(
        sa.select(te.c.entry_pk, te.c.work_date, te.c.timekeeper_id, te.c.narrative,
                  te.c.task_code, te.c.activity_code, te.c.status)
        .where(te.c.entry_pk.in_(
            sa.select(pl.c.entry_pk).where(pl.c.prebill_pk.in_(prebill_pks),
                                           pl.c.entry_kind == "time"))), conn, dates=["work_date"])
    cost = ledger.read_frame(
        sa.select(ex.c.expense_pk.label("entry_pk"), ex.c.work_date, ex.c.timekeeper_id,
                  ex.c.narrative, ex.c.expense_code, ex.c.status)
        .where(ex.c.expense_pk.in_(
            sa.select(pl.c.entry_pk).where(pl.c.prebill_pk.in_(prebill_pks),
                                           pl.c.entry_kind == "expense"))), conn,
        dates=["work_date"])
    details = pd.concat([time.assign(entry_kind="time"), cost.assign(entry_kind="expense")],
                        ignore_index=True)
    return lines.merge(details, on=["entry_kind", "entry_pk"], how="left")


def lock_due_schedule_items(ledger: Ledger, conn: sa.Connection, on: date,
                            matter: str | None) -> pd.DataFrame:
    """Scheduled invoices now due: not invoiced, dated on or before ``on`` or triggered by
    then (milestones); locked on PostgreSQL like the pre-bills."""
    s = t.invoice_schedules
    q = sa.select(s).where(s.c.invoice_pk.is_(None),
                           sa.or_(s.c.due_on <= on, s.c.triggered_on <= on))
    if matter:
        q = q.where(s.c.matter_id == matter)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return ledger.read_frame(q.order_by(s.c.schedule_id), conn)


def fixed_fees_billed(conn: sa.Connection, matter_ids: Iterable[str]) -> dict[str, set[str]]:
    """Descriptions of the fixed-fee lines already invoiced on each matter, for all the
    matters in one query (per IN list)."""
    il, inv = t.invoice_lines, t.invoices
    billed: dict[str, set[str]] = {}
    for chunk in in_chunks(matter_ids):
        rows = conn.execute(sa.select(inv.c.matter_id, il.c.narrative)
                            .join(inv, inv.c.invoice_pk == il.c.invoice_pk)
                            .where(inv.c.matter_id.in_(chunk), inv.c.kind == "invoice",
                                   il.c.line_type == "IF", il.c.amount_minor > 0))
        for matter_id, narrative in rows:
            billed.setdefault(matter_id, set()).add(narrative)
    return billed


def fees_billed_since(conn: sa.Connection, since: dict[str, date]) -> dict[str, int]:
    """Fees net of discounts invoiced on each matter on or after its date, for all the
    matters in one query (per IN list)."""
    inv = t.invoices
    billed = dict.fromkeys(since, 0)
    for chunk in in_chunks(since):
        rows = conn.execute(sa.select(inv.c.matter_id, inv.c.invoice_date,
                                      sa.func.sum(inv.c.fees_minor - inv.c.discount_minor))
                            .where(inv.c.matter_id.in_(chunk))
                            .group_by(inv.c.matter_id, inv.c.invoice_date))
        for matter_id, day, amount in rows:
            if day >= since[matter_id]:
                billed[matter_id] += int(amount)
    return billed


def write_invoices(ledger: Ledger, conn: sa.Connection, invoices: list[dict], scopes: list[str],
                   lines: pd.DataFrame, line_columns: list[str], settled: pd.DataFrame,
                   prebill_pks: list[int], *, actor: str) -> dict[str, int]:
    """Write a finalize run: number the invoices (gapless, per scope: 'firm' or an office),
    insert them and their lines (``lines["invoice"]`` is the header's position), settle the
    pre-bills' entries (``settled``: their lines' entry_kind, entry_pk, action, transfer_to),
    link scheduled items to their invoices, mark the pre-bills finalized and audit each
    invoice. Sets each header's ``number``; returns the entries billed, written off and
    transferred."""
    numbers = {scope: iter(take_numbers(conn, scope, count,
                                        prefix="" if scope == "firm" else f"{scope}-"))
               for scope, count in Counter(scopes).items()}
    for header, scope in zip(invoices, scopes, strict=True):
        header["number"] = next(numbers[scope])
    if invoices:
        conn.execute(t.invoices.insert(), invoices)
    issued = [h["number"] for h in invoices]
    pks = {}
    for chunk in in_chunks(issued):
        pks.update(conn.execute(sa.select(t.invoices.c.number, t.invoices.c.invoice_pk)
                                .where(t.invoices.c.number.in_(chunk))).all())
    if len(lines):
        lines["invoice_pk"] = np.array([pks[n] for n in issued],
                                       dtype=np.int64)[lines["invoice"].to_numpy()]
        lines["narrative"] = lines["narrative"].fillna("")
        ledger.bulk_insert(conn, t.invoice_lines, lines[["invoice_pk", *line_columns]])

    counts = _settle_entries(conn, settled)
    for header in invoices:
        if header.get("schedule_id"):
            conn.execute(sa.update(t.invoice_schedules)
                         .where(t.invoice_schedules.c.schedule_id == header["schedule_id"])
                         .values(invoice_pk=pks[header["number"]]))
    conn.execute(sa.update(t.prebills).where(t.prebills.c.prebill_pk.in_(prebill_pks))
                 .values(status="finalized"))
    ledger.audit_many(conn, "finalize", "invoices", [
        (h["number"], None, {k: (v.isoformat() if isinstance(v, date | datetime) else v)
                             for k, v in h.items()}) for h in invoices], actor=actor)
    return counts


def _close_findings(conn: sa.Connection, kind: str, entry_pks: list[int]) -> None:
    """Findings on entries now billed or written off leave the review list: the partner
    decided on them when approving the pre-bill."""
    f = t.findings
    for chunk in in_chunks(entry_pks):
        conn.execute(sa.update(f).where(f.c.entry_kind == kind, f.c.entry_pk.in_(chunk),
                                        f.c.status.in_(["open", "queried"]))
                     .values(status="resolved", status_by="finalize",
                             status_reason="the entry was billed or written off on finalize",
                             status_at=datetime.now(UTC)))


def _settle_entries(conn: sa.Connection, lines: pd.DataFrame) -> dict[str, int]:
    """Entries' new status after finalizing: billed, written off, or moved to another matter."""
    counts = {"billed": 0, "written_off": 0, "transferred": 0}
    for kind, table, pk in (("time", t.time_entries, "entry_pk"),
                            ("expense", t.expenses, "expense_pk")):
        mine = lines[lines["entry_kind"] == kind]
        for action, status in (("bill", "billed"), ("no_charge", "billed"),
                               ("write_off", "written_off")):
            keys = mine.loc[mine["action"] == action, "entry_pk"].astype(int).tolist()
            for chunk in in_chunks(keys):
                conn.execute(sa.update(table).where(table.c[pk].in_(chunk)).values(status=status))
            counts["written_off" if status == "written_off" else "billed"] += len(keys)
        settled = mine.loc[mine["action"].isin(["bill", "no_charge", "write_off"]), "entry_pk"]
        _close_findings(conn, kind, settled.astype(int).tolist())
        moves = mine[mine["action"] == "transfer"]
        if len(moves):
            conn.execute(sa.update(table).where(table.c[pk] == sa.bindparam("b_pk"))
                         .values(matter_id=sa.bindparam("b_to")),
                         [{"b_pk": int(k), "b_to": to} for k, to in
                          zip(moves["entry_pk"], moves["transfer_to"], strict=True)])
            counts["transferred"] += len(moves)
    return counts


# =================================================================================== schedules
def matter_currency(conn: sa.Connection, matter_id: str) -> str | None:
    """The currency a matter bills in (its client's), None when there is no such matter."""
    return conn.execute(sa.select(t.clients.c.currency)
                        .join(t.matters, t.matters.c.client_id == t.clients.c.client_id)
                        .where(t.matters.c.matter_id == matter_id)).scalar()


def insert_schedule_item(ledger: Ledger, conn: sa.Connection, row: dict, *,
                         actor: str | None) -> int:
    """Add a scheduled invoice (audited); returns its schedule_id."""
    pk = conn.execute(t.invoice_schedules.insert().returning(
        t.invoice_schedules.c.schedule_id), row).scalar_one()
    ledger.audit(conn, "insert", "invoice_schedules", str(pk), None, jsonable_row(row),
                 actor=actor)
    return int(pk)


def read_schedule_item(conn: sa.Connection, schedule_id: int) -> dict | None:
    row = conn.execute(sa.select(t.invoice_schedules).where(
        t.invoice_schedules.c.schedule_id == schedule_id)).mappings().first()
    return None if row is None else dict(row)


def update_schedule_item(ledger: Ledger, conn: sa.Connection, schedule_id: int, before: dict,
                         values: dict, *, actor: str | None) -> None:
    """Change a scheduled invoice's fields (audited: their values before and after)."""
    conn.execute(sa.update(t.invoice_schedules).where(
        t.invoice_schedules.c.schedule_id == schedule_id).values(**values))
    ledger.audit(conn, "update", "invoice_schedules", str(schedule_id),
                 jsonable_row({k: before[k] for k in values}), jsonable_row(values), actor=actor)


def read_schedule_items(ledger: Ledger, matter_id: str | None = None) -> pd.DataFrame:
    """Scheduled invoices (of a matter, or all) by matter and date, with the number of the
    invoice each made (``invoice_number``, None while planned)."""
    s = t.invoice_schedules
    q = sa.select(s, t.invoices.c.number.label("invoice_number")).join(
        t.invoices, t.invoices.c.invoice_pk == s.c.invoice_pk, isouter=True)
    if matter_id:
        q = q.where(s.c.matter_id == matter_id)
    return ledger.read_frame(q.order_by(s.c.matter_id, s.c.due_on))


# =================================================================================== credit notes
def read_invoice(conn: sa.Connection, number: str) -> dict | None:
    """An invoice's (or credit note's) header by its number, None if there is none."""
    row = conn.execute(sa.select(t.invoices).where(t.invoices.c.number == number)).mappings().first()
    return None if row is None else dict(row)


def read_invoice_lines(ledger: Ledger, conn: sa.Connection, invoice_pk: int) -> pd.DataFrame:
    return ledger.read_frame(sa.select(t.invoice_lines).where(
        t.invoice_lines.c.invoice_pk == invoice_pk), conn, dates=["work_date"])


def read_credited_lines(ledger: Ledger, conn: sa.Connection, invoice_pk: int) -> pd.DataFrame:
    """The lines of every credit note against an invoice."""
    notes = sa.select(t.invoices.c.invoice_pk).where(t.invoices.c.credits_invoice_pk == invoice_pk)
    return ledger.read_frame(sa.select(t.invoice_lines)
                             .where(t.invoice_lines.c.invoice_pk.in_(notes)), conn)


def write_credit_note(ledger: Ledger, conn: sa.Connection, header: dict, lines: pd.DataFrame,
                      line_columns: list[str], *, scope: str, prefix: str, return_wip: bool,
                      audit_before: dict, reason: str, actor: str) -> None:
    """Number a credit note in its own gapless sequence (sets ``header["number"]``), insert it
    and its lines, put the credited lines' entries back to WIP if asked, and audit it."""
    number = take_numbers(conn, scope, 1, prefix=prefix)[0]
    header["number"] = number
    pk = conn.execute(t.invoices.insert().returning(t.invoices.c.invoice_pk), header).scalar_one()
    lines["invoice_pk"] = pk
    ledger.bulk_insert(conn, t.invoice_lines,
                       lines[["invoice_pk", *[c for c in line_columns if c in lines]]])
    if return_wip:
        for kind, table, key in (("time", t.time_entries, "entry_pk"),
                                 ("expense", t.expenses, "expense_pk")):
            keys = lines.loc[lines["entry_kind"] == kind, "entry_pk"].dropna()
            if len(keys):
                conn.execute(sa.update(table).where(table.c[key].in_(keys.astype(int).tolist()))
                             .values(status="WIP"))
    ledger.audit(conn, "credit", "invoices", number, audit_before,
                 {"credit_note": number, "total_minor": header["total_minor"],
                  "reason": reason, "return_wip": return_wip}, actor=actor)
