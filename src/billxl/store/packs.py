"""The reads the month-end packs need beyond the journals: the partner's reasons on pre-bill
lines, the findings with the matter of their entry, portal submissions and collections notes.

Each returns a frame with the columns its docstring names (dates as datetime64, amounts as
integer minor units); :func:`pack_reads` reads them all in one connection, for
:mod:`billxl.packs.source` to compute over. Nothing here computes a figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from billxl import schema
from billxl.store import collections, ledes, reads
from billxl.store import tables as t

#: Pre-bill lines that changed the worked value, with the partner's reason.
PREBILL_CHANGE_FRAME = {
    "prebill_pk": "int64",
    "entry_pk": "int64",
    "matter_id": "string",
    "client_id": "string",
    "currency": "string",
    "closed_on": "datetime64[ns]",
    "action": "string",
    "reason_code": "string",
    "note": "string",
    "worked_qty_milli": "int64",
    "worked_amount_minor": "int64",
    "bill_amount_minor": "int64",
}

#: Findings with what their entry was: its matter, client, timekeeper and work date.
FINDING_FRAME = {
    "finding_id": "int64",
    "rule": "string",
    "severity": "string",
    "status": "string",
    "entry_kind": "string",
    "entry_pk": "int64",
    "entry_id": "string",
    "field": "string",
    "message": "string",
    "status_reason": "string",
    "status_by": "string",
    "status_at": "datetime64[ns]",
    "matter_id": "string",
    "client_id": "string",
    "timekeeper_id": "string",
    "work_date": "datetime64[ns]",
}


def prebill_changes(conn: sa.Connection) -> pd.DataFrame:
    """Time lines of approved or finalized pre-bills that the partner changed or gave a reason
    for (``PREBILL_CHANGE_FRAME``): no charge, written off, or billed at a value other than
    the worked one. Each is dated by the invoice its pre-bill became, else its approval day."""
    pl, pb, te, mt = t.prebill_lines.c, t.prebills.c, t.time_entries.c, t.matters.c
    inv = t.invoices.c
    invoiced = (sa.select(inv.prebill_pk, sa.func.min(inv.invoice_date).label("on"))
                .where(inv.prebill_pk.is_not(None)).group_by(inv.prebill_pk).subquery())
    approved = (sa.func.date(pb.approved_at) if conn.dialect.name == "sqlite"
                else sa.cast(pb.approved_at, sa.Date))
    query = (sa.select(pl.prebill_pk, pl.entry_pk, pb.matter_id, mt.client_id, te.currency,
                       sa.func.coalesce(invoiced.c.on, approved).label("closed_on"),
                       pl.action, pl.reason_code, pl.note, pl.worked_qty_milli,
                       pl.worked_amount_minor, pl.bill_amount_minor)
             .join(t.prebills, pb.prebill_pk == pl.prebill_pk)
             .join(t.time_entries, te.entry_pk == pl.entry_pk)
             .join(t.matters, mt.matter_id == pb.matter_id)
             .outerjoin(invoiced, invoiced.c.prebill_pk == pl.prebill_pk)
             .where(pl.entry_kind == "time", pb.status.in_(["finalized", "approved"]),
                    pl.action.in_(["bill", "no_charge", "write_off"]),
                    sa.or_(pl.action != "bill", pl.reason_code.is_not(None),
                           pl.bill_amount_minor != pl.worked_amount_minor))
             .order_by(pl.prebill_pk, pl.entry_pk))
    return reads.frame(conn, query, PREBILL_CHANGE_FRAME)


def findings(conn: sa.Connection) -> pd.DataFrame:
    """Every finding, with its entry's matter, client, timekeeper and work date
    (``FINDING_FRAME``), in id order."""
    f = t.findings.c
    parts = []
    for kind, table, pk in (("time", t.time_entries, "entry_pk"),
                            ("expense", t.expenses, "expense_pk")):
        e = table.c
        parts.append(
            sa.select(f.finding_id, f.rule, f.severity, f.status, f.entry_kind, f.entry_pk,
                      f.entry_id, f.field, f.message, f.status_reason, f.status_by,
                      f.status_at, e.matter_id, t.matters.c.client_id, e.timekeeper_id,
                      e.work_date)
            .join(table, e[pk] == f.entry_pk)
            .join(t.matters, t.matters.c.matter_id == e.matter_id)
            .where(f.entry_kind == kind))
    query = sa.union_all(*parts).subquery()
    result = conn.execute(sa.select(query).order_by(query.c.finding_id))
    names, rows = list(result.keys()), result.fetchall()
    columns = dict(zip(names, zip(*rows, strict=True) if rows else [()] * len(names),
                       strict=True))
    columns["status_at"] = _utc(pd.Series(columns["status_at"], dtype=object)).tolist()
    return schema.typed(columns, FINDING_FRAME)


@dataclass(frozen=True)
class PackReads:
    """What the packs read besides the journals of :mod:`billxl.store.reads`."""

    fee_lines: pd.DataFrame  # reads.fee_lines
    prebill_write_offs: pd.DataFrame  # reads.prebill_write_offs
    prebill_changes: pd.DataFrame  # PREBILL_CHANGE_FRAME
    findings: pd.DataFrame  # FINDING_FRAME
    submissions: pd.DataFrame  # store.ledes.submissions
    notes: pd.DataFrame  # store.collections.notes (newest first)


def pack_reads(ledger) -> PackReads:
    """Everything of :class:`PackReads`, in one connection."""
    with ledger.engine.connect() as conn:
        subs = ledes.submissions(ledger, conn)
        for col in ("submitted_at", "status_at"):
            subs[col] = _utc(subs[col])
        found = findings(conn)
        return PackReads(fee_lines=reads.fee_lines(conn),
                         prebill_write_offs=reads.prebill_write_offs(conn),
                         prebill_changes=prebill_changes(conn), findings=found,
                         submissions=subs, notes=collections.notes(conn))


def _utc(values: pd.Series) -> pd.Series:
    """Timestamps as naive UTC ``datetime64[ns]`` (PostgreSQL gives them with a time zone,
    SQLite without one; billxl writes them in UTC)."""
    return pd.to_datetime(values, utc=True).dt.tz_localize(None).astype("datetime64[ns]")


__all__ = ["FINDING_FRAME", "PREBILL_CHANGE_FRAME", "PackReads", "findings", "pack_reads",
           "prebill_changes"]
