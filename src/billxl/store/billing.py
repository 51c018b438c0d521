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
    "time_outside",
    "fixed_fees_billed",
    "fees_billed_since",
    "write_invoices",
    "matter_currency",
    "insert_schedule_item",
    "read_schedule_item",
    "update_schedule_item",
    "read_schedule_items",
    "lock_matter_schedule",
    "replace_open_schedule_items",
    "matters_triggered_between",
    "scheduled_matters",
    "set_billing_cycle",
    "read_invoice",
    "read_invoice_lines",
    "read_credited_lines",
    "write_credit_note",
    "PREBILL_LOCK_KEY",
    "lock_prebill_writers",
    "read_wip",
    "read_open_prebills",
    "read_edited_line_keys",
    "insert_prebills",
    "supersede_prebills",
    "read_prebill_view",
    "lock_prebills",
    "read_line_entries",
    "update_prebill_lines",
    "set_prebill_approvals",
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
                  te.c.task_code, te.c.activity_code, te.c.status,
                  te.c.hours_milli.label("recorded_milli"))
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


def time_outside(ledger: Ledger, conn: sa.Connection, timekeepers: Iterable[str], first: date,
                 last: date, prebill_pks: list[int]) -> pd.DataFrame:
    """The recorded hours of the ``timekeepers``' time entries dated ``first`` to ``last`` that
    are on none of the pre-bills ``prebill_pks`` (other matters' time, or time not yet on a
    pre-bill), summed per timekeeper and day: timekeeper_id, work_date, hours_milli."""
    te, pl = t.time_entries, t.prebill_lines
    outside = sa.select(pl.c.entry_pk).where(pl.c.entry_kind == "time",
                                             pl.c.prebill_pk.in_(prebill_pks))
    parts = [ledger.read_frame(
        sa.select(te.c.timekeeper_id, te.c.work_date,
                  sa.func.sum(te.c.hours_milli).label("hours_milli"))
        .where(te.c.timekeeper_id.in_(chunk), te.c.work_date.between(first, last),
               te.c.entry_pk.not_in(outside))
        .group_by(te.c.timekeeper_id, te.c.work_date), conn, dates=["work_date"])
        for chunk in in_chunks(sorted(set(timekeepers)))]
    found = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"timekeeper_id": pd.Series(dtype=object), "work_date": pd.Series(dtype="datetime64[ns]"),
         "hours_milli": pd.Series(dtype=np.int64)})
    return found.astype({"hours_milli": np.int64})


def lock_due_schedule_items(ledger: Ledger, conn: sa.Connection, on: date,
                            matter: str | None, *, lock: bool = True) -> pd.DataFrame:
    """Scheduled invoices now due: not invoiced, dated on or before ``on`` or triggered by
    then (milestones); locked on PostgreSQL like the pre-bills (unless ``lock`` is False: a
    look at what is due)."""
    s = t.invoice_schedules
    q = sa.select(s).where(s.c.invoice_pk.is_(None),
                           sa.or_(s.c.due_on <= on, s.c.triggered_on <= on))
    if matter:
        q = q.where(s.c.matter_id == matter)
    if lock and conn.dialect.name == "postgresql":
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
    # the open findings of this kind are few beside a month's entries: read them (by the
    # status index), keep those on these entries, and update those by their key
    settled = set(entry_pks)
    ids = sorted(finding_id for finding_id, entry_pk in conn.execute(
        sa.select(f.c.finding_id, f.c.entry_pk).where(f.c.entry_kind == kind,
                                                      f.c.status.in_(["open", "queried"])))
        if entry_pk in settled)
    for chunk in in_chunks(ids):
        conn.execute(sa.update(f).where(f.c.finding_id.in_(chunk))
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
            # in key order: SQLite then updates the rows page by page, not all over the table
            keys = sorted(mine.loc[mine["action"] == action, "entry_pk"].astype(int).tolist())
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


def read_schedule_items(ledger: Ledger, matter_id: str | None = None,
                        conn: sa.Connection | None = None) -> pd.DataFrame:
    """Scheduled invoices (of a matter, or all) by matter and date (milestones after the
    dated items, in the order planned), with the number of the invoice each made
    (``invoice_number``, None while planned)."""
    s = t.invoice_schedules
    q = sa.select(s, t.invoices.c.number.label("invoice_number")).join(
        t.invoices, t.invoices.c.invoice_pk == s.c.invoice_pk, isouter=True)
    if matter_id:
        q = q.where(s.c.matter_id == matter_id)
    return ledger.read_frame(q.order_by(s.c.matter_id, s.c.due_on.is_(None), s.c.due_on,
                                        s.c.schedule_id), conn, dates=["due_on", "triggered_on"])


def lock_matter_schedule(ledger: Ledger, conn: sa.Connection, matter_id: str) -> pd.DataFrame:
    """A matter's scheduled invoices (as :func:`read_schedule_items`), locked on PostgreSQL so
    that a finalize cannot invoice an item while its plan is being replaced."""
    s = t.invoice_schedules
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(s.c.schedule_id).where(s.c.matter_id == matter_id)
                     .with_for_update())
    return read_schedule_items(ledger, matter_id, conn)


def replace_open_schedule_items(ledger: Ledger, conn: sa.Connection, matter_id: str,
                                rows: list[dict], before: list[dict], after: dict, *,
                                actor: str | None) -> list[int]:
    """Replace a matter's items not yet invoiced by ``rows``, and audit the change as one row:
    the old plan (``before``: its open items) and the new (``after``: the terms and items).
    Returns the new items' schedule_ids."""
    s = t.invoice_schedules
    conn.execute(sa.delete(s).where(s.c.matter_id == matter_id, s.c.invoice_pk.is_(None)))
    pks = []
    if rows:
        result = conn.execute(s.insert().returning(s.c.schedule_id, sort_by_parameter_order=True),
                              rows)
        pks = [int(pk) for pk in result.scalars()]
    ledger.audit(conn, "rebuild", "invoice_schedules", matter_id,
                 {"items": [jsonable_row(r) for r in before]},
                 {**jsonable_row(after), "items": [jsonable_row({"schedule_id": pk, **r})
                                                   for pk, r in zip(pks, rows, strict=True)]},
                 actor=actor)
    return pks


def matters_triggered_between(conn: sa.Connection, start: date, end: date) -> set[str]:
    """The matters with a milestone triggered from ``start`` to ``end``."""
    s = t.invoice_schedules
    return set(conn.execute(sa.select(s.c.matter_id).distinct().where(
        s.c.triggered_on >= start, s.c.triggered_on <= end)).scalars())


def scheduled_matters(conn: sa.Connection, matter_ids: Iterable[str]) -> set[str]:
    """Which of the matters have an invoice schedule (their agreed fee is billed by it)."""
    s = t.invoice_schedules
    found: set[str] = set()
    for chunk in in_chunks(matter_ids):
        found.update(conn.execute(sa.select(s.c.matter_id).distinct()
                                  .where(s.c.matter_id.in_(chunk))).scalars())
    return found


def set_billing_cycle(ledger: Ledger, conn: sa.Connection, table: str, key: str,
                      values: dict, *, actor: str | None) -> bool:
    """Set a client's or a matter's ``billing_cycle`` and ``billing_day`` (audited with the
    values before and after). False when there is no such client or matter."""
    tab = {"clients": t.clients, "matters": t.matters}[table]
    pk = tab.c[f"{table[:-1]}_id"]
    row = conn.execute(sa.select(tab.c.billing_cycle, tab.c.billing_day)
                       .where(pk == key)).mappings().first()
    if row is None:
        return False
    before = dict(row)
    if before != values:
        conn.execute(sa.update(tab).where(pk == key).values(**values))
        ledger.audit(conn, "update", table, key, before, values, actor=actor)
    return True


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


# =================================================================================== pre-bills
PREBILL_LOCK_KEY = 0x62696C6C  # 'bill': serialises pre-bill writers on PostgreSQL


def lock_prebill_writers(conn: sa.Connection) -> None:
    """One pre-bill writer at a time (SQLite's BEGIN IMMEDIATE already does this)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PREBILL_LOCK_KEY)))


def read_wip(ledger: Ledger, conn: sa.Connection,
             end: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """WIP time entries and expenses worked up to ``end``, in key order."""
    te, ex = t.time_entries, t.expenses
    entries = ledger.read_frame(sa.select(te).where(te.c.status == "WIP", te.c.work_date <= end)
                                .order_by(te.c.entry_pk), conn, dates=("work_date", "entered_on"))
    expenses = ledger.read_frame(sa.select(ex).where(ex.c.status == "WIP", ex.c.work_date <= end)
                                 .order_by(ex.c.expense_pk), conn, dates=("work_date",))
    return entries, expenses


def read_open_prebills(ledger: Ledger, conn: sa.Connection,
                       statuses: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pre-bills in ``statuses`` (draft, approved) and every line of them, each line with
    its pre-bill's month, matter_id, status and created_at."""
    pb, pl = t.prebills, t.prebill_lines
    statuses = list(statuses)
    lines = ledger.read_frame(
        sa.select(pl, pb.c.month, pb.c.matter_id, pb.c.status, pb.c.created_at)
        .join(pb, pb.c.prebill_pk == pl.c.prebill_pk).where(pb.c.status.in_(statuses)), conn)
    bills = ledger.read_frame(sa.select(pb).where(pb.c.status.in_(statuses)), conn)
    return bills, lines


def read_edited_line_keys(ledger: Ledger, conn: sa.Connection,
                          since: datetime | None) -> pd.Series:
    """The audit keys of pre-bill lines that an edit changed (since a moment, or ever)."""
    al = t.audit_log
    query = sa.select(al.c.row_key).where(al.c.table_name == "prebill_lines")
    if since is not None:
        query = query.where(al.c.at >= since)
    return ledger.read_frame(query.distinct(), conn)["row_key"].astype(str)


def insert_prebills(ledger: Ledger, conn: sa.Connection, rows: list[dict], lines: pd.DataFrame,
                    audits: list[dict], *, actor: str) -> list[int]:
    """Insert draft pre-bills (``rows``) and their lines: ``lines["prebill"]`` is the row's
    position; each pre-bill is audited with its ``audits`` entry. Returns their keys."""
    result = conn.execute(t.prebills.insert().returning(t.prebills.c.prebill_pk,
                                                        sort_by_parameter_order=True), rows)
    pks = [int(pk) for pk in result.scalars()]
    lines = lines.assign(prebill_pk=np.asarray(pks, dtype=np.int64)[
        lines.pop("prebill").to_numpy(dtype=np.int64)])
    ledger.bulk_insert(conn, t.prebill_lines, lines)
    ledger.audit_many(conn, "insert", "prebills",
                      [(str(pk), None, after) for pk, after in zip(pks, audits, strict=True)],
                      actor=actor)
    return pks


def supersede_prebills(ledger: Ledger, conn: sa.Connection, pks: list[int],
                       replaced_by: list[int | None], *, actor: str) -> None:
    """Mark draft pre-bills superseded (audited with the pre-bill that replaces each)."""
    conn.execute(sa.update(t.prebills).where(t.prebills.c.prebill_pk.in_(pks))
                 .values(status="superseded"))
    ledger.audit_many(conn, "update", "prebills", [
        (str(int(pk)), {"status": "draft"}, {"status": "superseded", "replaced_by": by})
        for pk, by in zip(pks, replaced_by, strict=True)], actor=actor)


def read_prebill_view(ledger: Ledger, month: str, partner: str | None,
                      statuses: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What a month's pre-bill workbook shows, as three frames: the time lines and the expense
    lines of its open pre-bills (each with its pre-bill's and its entry's fields) and the open
    or queried findings of their entries."""
    pb, pl, te, ex, fi = t.prebills, t.prebill_lines, t.time_entries, t.expenses, t.findings
    where = [pb.c.month == month, pb.c.status.in_(list(statuses))]
    if partner:
        where.append(pb.c.billing_partner_id == partner)
    head = [pl, pb.c.month, pb.c.matter_id, pb.c.billing_partner_id,
            pb.c.status.label("prebill_status"), pb.c.approved_by, pb.c.approved_at]
    with ledger.engine.connect() as conn:
        time = ledger.read_frame(
            sa.select(*head, te.c.entry_id, te.c.status.label("entry_status"), te.c.work_date,
                      te.c.timekeeper_id, te.c.narrative, te.c.task_code, te.c.activity_code)
            .join(pb, pb.c.prebill_pk == pl.c.prebill_pk)
            .join(te, sa.and_(pl.c.entry_kind == "time", te.c.entry_pk == pl.c.entry_pk))
            .where(*where), conn, dates=("work_date",))
        cost = ledger.read_frame(
            sa.select(*head, ex.c.entry_id, ex.c.status.label("entry_status"), ex.c.work_date,
                      ex.c.timekeeper_id, ex.c.narrative, ex.c.expense_code)
            .join(pb, pb.c.prebill_pk == pl.c.prebill_pk)
            .join(ex, sa.and_(pl.c.entry_kind == "expense", ex.c.expense_pk == pl.c.entry_pk))
            .where(*where), conn, dates=("work_date",))
        found = ledger.read_frame(
            sa.select(fi.c.entry_kind, fi.c.entry_pk, fi.c.rule, fi.c.severity, fi.c.message)
            .join(pl, sa.and_(pl.c.entry_kind == fi.c.entry_kind, pl.c.entry_pk == fi.c.entry_pk))
            .join(pb, pb.c.prebill_pk == pl.c.prebill_pk)
            .where(*where, fi.c.status.in_(("open", "queried")))
            .order_by(fi.c.entry_kind, fi.c.entry_pk, fi.c.severity, fi.c.rule), conn)
    return time, cost, found


def lock_prebills(ledger: Ledger, conn: sa.Connection,
                  pks: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pre-bills by key (locked on PostgreSQL: finalize waits for an application, and it for
    finalize) and their stored lines (``prebill_pk``, ``entry_pk`` int64)."""
    pb, pl = t.prebills, t.prebill_lines
    bills_q = sa.select(pb).where(pb.c.prebill_pk.in_(pks))
    if conn.dialect.name == "postgresql":
        bills_q = bills_q.with_for_update()
    bills = ledger.read_frame(bills_q, conn)
    stored = ledger.read_frame(sa.select(pl).where(pl.c.prebill_pk.in_(pks)), conn)
    stored = stored.astype({"prebill_pk": "int64", "entry_pk": "int64"})
    stored["entry_kind"] = stored["entry_kind"].astype(object)
    return bills, stored


def read_line_entries(ledger: Ledger, conn: sa.Connection, pks: list[int]) -> pd.DataFrame:
    """The entries on the lines of pre-bills ``pks``: entry_kind, entry_pk, entry_id,
    entry_status and entry_matter."""
    te, ex, pl = t.time_entries, t.expenses, t.prebill_lines
    time = ledger.read_frame(
        sa.select(te.c.entry_pk, te.c.entry_id, te.c.status.label("entry_status"),
                  te.c.matter_id.label("entry_matter"))
        .where(te.c.entry_pk.in_(sa.select(pl.c.entry_pk).where(
            pl.c.prebill_pk.in_(pks), pl.c.entry_kind == "time"))), conn)
    cost = ledger.read_frame(
        sa.select(ex.c.expense_pk.label("entry_pk"), ex.c.entry_id,
                  ex.c.status.label("entry_status"), ex.c.matter_id.label("entry_matter"))
        .where(ex.c.expense_pk.in_(sa.select(pl.c.entry_pk).where(
            pl.c.prebill_pk.in_(pks), pl.c.entry_kind == "expense"))), conn)
    both = pd.concat([time.assign(entry_kind="time"), cost.assign(entry_kind="expense")],
                     ignore_index=True)
    both["entry_kind"] = both["entry_kind"].astype(object)
    return both.astype({"entry_pk": "int64"})


def update_prebill_lines(ledger: Ledger, conn: sa.Connection,
                         keys: list[tuple[int, str, int]], values: list[dict],
                         audits: list[tuple[str, dict, dict]], *, actor: str) -> None:
    """Set the fields in ``values`` of each pre-bill line (keyed prebill_pk, entry_kind,
    entry_pk) in one statement; ``audits`` are the lines' (key, before, after)."""
    pl = t.prebill_lines
    columns = list(values[0]) if values else []
    stmt = (pl.update().where(pl.c.prebill_pk == sa.bindparam("k_pb"),
                              pl.c.entry_kind == sa.bindparam("k_kind"),
                              pl.c.entry_pk == sa.bindparam("k_entry"))
            .values({c: sa.bindparam(f"v_{c}") for c in columns}))
    params = [{"k_pb": pb, "k_kind": kind, "k_entry": entry, **{f"v_{c}": v[c] for c in columns}}
              for (pb, kind, entry), v in zip(keys, values, strict=True)]
    conn.execute(stmt, params)
    ledger.audit_many(conn, "update", "prebill_lines", audits, actor=actor)


def set_prebill_approvals(ledger: Ledger, conn: sa.Connection, changes: list[tuple[int, dict]],
                          audits: list[tuple[str, dict, dict]], *, actor: str) -> None:
    """Approve or reopen pre-bills: each (prebill_pk, status/approved_by/approved_at values),
    audited with ``audits``."""
    pb = t.prebills
    for pk, values in changes:
        conn.execute(pb.update().where(pb.c.prebill_pk == pk).values(**values))
    ledger.audit_many(conn, "update", "prebills", audits, actor=actor)
