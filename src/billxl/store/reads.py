"""Named reads of the ledger's journals: each returns a frame laid out as ``schema.py`` declares.

The figures (``billxl.figures``) are computed from these frames and nothing else, so every
surface (the command line, the read-only view behind the worksheet functions, the notebooks)
reads the same rows and applies the same definition. A read takes an open connection, so that a
command reads everything it needs in one transaction; ``as_of`` leaves out what happened after
that day (a journal row dated later), which is how a figure is reproduced for a past date.

The journals are append-only (a reversal is a new row of the opposite sign), so a read never
needs anything but dates to give the ledger as it stood on a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from billxl import schema
from billxl.store import tables as t


def frame(conn: sa.Connection, query: sa.Select, spec: dict[str, str], *,
          processed: bool = False) -> pd.DataFrame:
    """Run ``query`` and return its rows with the columns and dtypes of ``spec``.

    The rows come through the driver's own cursor, inside ``conn``'s transaction: the frame's
    dtypes (``schema.typed``) do the conversions SQLAlchemy would otherwise make per value,
    which on a few hundred thousand rows is most of the read's time. ``processed`` lets
    SQLAlchemy convert each value instead (timestamps, for a few rows).
    """
    if processed:
        result = conn.execute(query)
        names, rows = list(result.keys()), result.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        return schema.typed(dict(zip(names, columns, strict=True)), spec)
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    if compiled.positional:
        params: tuple | dict = tuple(compiled.params[name] for name in compiled.positiontup)
    else:
        params = compiled.params
    cursor = conn.connection.driver_connection.cursor()  # the same connection, in its transaction
    try:
        cursor.execute(str(compiled), params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return schema.typed({name: [] for name in names}, spec)
    table = np.empty((len(rows), len(names)), dtype=object)  # rows to columns in one C pass
    table[:] = rows
    return schema.typed({name: table[:, i] for i, name in enumerate(names)}, spec)


def _journal(conn: sa.Connection, table: sa.Table, spec: dict[str, str], dated: str,
             as_of: date | None, **equal: str | None) -> pd.DataFrame:
    """The rows of a journal in key order, dated (column ``dated``) on or before ``as_of``, and
    equal to each given ``column=value`` (a None value is no condition)."""
    c = table.c
    query = sa.select(*(c[name] for name in spec)).order_by(*table.primary_key.columns)
    if as_of is not None:
        query = query.where(c[dated] <= as_of)
    for column, value in equal.items():
        if value is not None:
            query = query.where(c[column] == value)
    return frame(conn, query, spec)


def invoices(conn: sa.Connection, *, as_of: date | None = None,
             client: str | None = None) -> pd.DataFrame:
    """Invoices and credit notes (``schema.INVOICE_FRAME``) dated on or before ``as_of``."""
    return _journal(conn, t.invoices, schema.INVOICE_FRAME, "invoice_date", as_of,
                    client_id=client)


def invoice_register(conn: sa.Connection, *, start: date | None = None,
                     end: date | None = None, client: str | None = None) -> pd.DataFrame:
    """Whole rows of the ``invoices`` table (every column), dated ``start``..``end``."""
    inv = t.invoices.c
    query = sa.select(t.invoices).order_by(inv.invoice_pk)
    if start is not None:
        query = query.where(inv.invoice_date >= start)
    if end is not None:
        query = query.where(inv.invoice_date <= end)
    if client is not None:
        query = query.where(inv.client_id == client)
    spec = {c.name: _dtype(c) for c in t.invoices.c}
    return frame(conn, query, spec, processed=True)


def _dtype(column: sa.Column) -> str:
    """The frame dtype of a table column (for reads of whole rows)."""
    if isinstance(column.type, sa.Date):
        return "datetime64[ns]"
    if isinstance(column.type, sa.DateTime):
        return "object"
    if isinstance(column.type, sa.Boolean):
        return "bool"
    if isinstance(column.type, sa.Integer):
        return "Int64" if column.nullable else "int64"
    return "string"


def allocations(conn: sa.Connection, *, as_of: date | None = None) -> pd.DataFrame:
    """Money applied to invoices, from receipts and from trust (``schema.ALLOCATION_FRAME``)."""
    return _journal(conn, t.allocations, schema.ALLOCATION_FRAME, "applied_on", as_of)


def write_offs(conn: sa.Connection, *, as_of: date | None = None) -> pd.DataFrame:
    """Invoice balances written off after billing (``schema.WRITE_OFF_FRAME``)."""
    return _journal(conn, t.write_offs, schema.WRITE_OFF_FRAME, "written_on", as_of)


def expense_parts(conn: sa.Connection) -> pd.DataFrame:
    """Per invoice or credit note: its expense lines with their tax (``schema.EXPENSE_PART_FRAME``).

    Invoice lines never change once final, so this needs no date.
    """
    il = t.invoice_lines.c
    query = (sa.select(il.invoice_pk,
                       sa.func.sum(il.amount_minor + il.tax_minor).label("expense_part_minor"))
             .where(il.line_type.in_(["E", "IE"])).group_by(il.invoice_pk))
    return frame(conn, query, schema.EXPENSE_PART_FRAME)


def receipts(conn: sa.Connection, *, as_of: date | None = None) -> pd.DataFrame:
    """Cash received (``schema.RECEIPT_FRAME``), received on or before ``as_of``."""
    return _journal(conn, t.receipts, schema.RECEIPT_FRAME, "received_on", as_of)


def refunds(conn: sa.Connection, *, as_of: date | None = None) -> pd.DataFrame:
    """Unapplied cash paid back to clients (``schema.REFUND_FRAME``)."""
    return _journal(conn, t.refunds, schema.REFUND_FRAME, "refunded_on", as_of)


def trust_entries(conn: sa.Connection, *, as_of: date | None = None,
                  matter: str | None = None) -> pd.DataFrame:
    """Trust deposits, applications and refunds (``schema.TRUST_FRAME``), of one matter when
    ``matter`` is given."""
    return _journal(conn, t.trust_entries, schema.TRUST_FRAME, "entry_date", as_of, matter_id=matter)


def retainers(conn: sa.Connection, *, matter: str | None = None) -> pd.DataFrame:
    """Evergreen retainer levels per matter (``schema.RETAINER_FRAME``), or of one matter."""
    rt = t.retainers.c
    query = (sa.select(rt.matter_id, t.matters.c.client_id, rt.currency, rt.minimum_minor,
                       rt.target_minor)
             .join(t.matters, t.matters.c.matter_id == rt.matter_id))
    if matter is not None:
        query = query.where(rt.matter_id == matter)
    return frame(conn, query, schema.RETAINER_FRAME)


def fee_lines(conn: sa.Connection) -> pd.DataFrame:
    """The fee lines of every invoice and credit note (``schema.FEE_LINE_FRAME``)."""
    il = t.invoice_lines.c
    query = (sa.select(*(il[name] for name in schema.FEE_LINE_FRAME))
             .where(il.line_type.in_(["F", "IF"])).order_by(il.invoice_pk, il.line_no))
    return frame(conn, query, schema.FEE_LINE_FRAME)


def _day(conn: sa.Connection, column) -> sa.ColumnElement:
    """The calendar day of a timestamp column, as the dialect writes it."""
    if conn.dialect.name == "sqlite":
        return sa.func.date(column)
    return sa.cast(column, sa.Date)


def _invoiced_on():
    """Per pre-bill: the date of the first invoice it became (a subquery)."""
    inv = t.invoices.c
    return (sa.select(inv.prebill_pk, sa.func.min(inv.invoice_date).label("on"))
            .where(inv.prebill_pk.is_not(None)).group_by(inv.prebill_pk).subquery())


def prebill_write_offs(conn: sa.Connection) -> pd.DataFrame:
    """Time written off on pre-bills (``schema.PREBILL_WRITE_OFF_FRAME``), each dated by the
    invoice its pre-bill became, else the day the pre-bill was approved."""
    pl, pb, te, mt = t.prebill_lines.c, t.prebills.c, t.time_entries.c, t.matters.c
    invoiced = _invoiced_on()
    query = (sa.select(pl.entry_pk, te.timekeeper_id, te.matter_id, mt.client_id, mt.office_id,
                       te.currency, sa.func.coalesce(invoiced.c.on, _day(conn, pb.approved_at))
                       .label("closed_on"), pl.worked_amount_minor)
             .join(t.prebills, pb.prebill_pk == pl.prebill_pk)
             .join(t.time_entries, te.entry_pk == pl.entry_pk)
             .join(t.matters, mt.matter_id == te.matter_id)
             .outerjoin(invoiced, invoiced.c.prebill_pk == pl.prebill_pk)
             .where(pl.entry_kind == "time", pl.action == "write_off",
                    pb.status.in_(["finalized", "approved"])))
    return frame(conn, query, schema.PREBILL_WRITE_OFF_FRAME)


def _closing_dates(conn: sa.Connection, kind: str) -> pd.DataFrame:
    """For each entry of ``kind`` that left WIP: the day it left (``entry_pk, closed_on``).

    Billed: the date of the (latest) invoice that bills it. Written off on a pre-bill: the date
    of the invoice that pre-bill became, else the day the pre-bill was approved.
    """
    il, inv, pl, pb = t.invoice_lines.c, t.invoices.c, t.prebill_lines.c, t.prebills.c
    billed = (sa.select(il.entry_pk, sa.func.max(inv.invoice_date).label("closed_on"))
              .join(t.invoices, inv.invoice_pk == il.invoice_pk)
              .where(il.entry_kind == kind, inv.kind == "invoice").group_by(il.entry_pk))
    invoiced = _invoiced_on()
    written = (sa.select(pl.entry_pk, sa.func.max(sa.func.coalesce(
                   invoiced.c.on, _day(conn, pb.approved_at))).label("closed_on"))
               .join(t.prebills, pb.prebill_pk == pl.prebill_pk)
               .outerjoin(invoiced, invoiced.c.prebill_pk == pl.prebill_pk)
               .where(pl.entry_kind == kind, pl.action == "write_off").group_by(pl.entry_pk))
    spec = {"entry_pk": "int64", "closed_on": "datetime64[ns]"}
    both = pd.concat([frame(conn, billed, spec), frame(conn, written, spec)], ignore_index=True)
    return both.groupby("entry_pk", as_index=False)["closed_on"].max()


def work(conn: sa.Connection, *, through: date | None = None,
         open_only: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time entries and expenses (``schema.WORK_TIME_FRAME`` / ``WORK_EXPENSE_FRAME``).

    Each carries ``closed_on``: the day it was billed or written off (missing while it is
    WIP), so that WIP can be taken as of any date. ``through`` leaves out work dated later;
    ``open_only`` reads only what is WIP now (the pre-bill's and a worksheet's question).
    """
    out = []
    for table, kind, spec in ((t.time_entries, "time", schema.WORK_TIME_FRAME),
                              (t.expenses, "expense", schema.WORK_EXPENSE_FRAME)):
        pk = "entry_pk" if kind == "time" else "expense_pk"
        names = [n for n in spec if n not in ("entry_pk", "closed_on")]
        query = sa.select(table.c[pk].label("entry_pk"), *(table.c[n] for n in names))
        if through is not None:
            query = query.where(table.c.work_date <= through)
        if open_only:
            query = query.where(table.c.status == "WIP")
        rows = frame(conn, query.order_by(table.c[pk]),
                     {k: v for k, v in spec.items() if k != "closed_on"})
        if open_only or rows.empty:
            rows["closed_on"] = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns]")
        else:
            closed = _closing_dates(conn, kind).set_index("entry_pk")["closed_on"]
            closed = closed.astype("datetime64[ns]")
            rows["closed_on"] = closed.reindex(rows["entry_pk"].to_numpy()).to_numpy()
            # an entry back in WIP (a credit note returned it) is open whatever billed it once
            rows.loc[rows["status"] == "WIP", "closed_on"] = pd.NaT
        out.append(rows[list(spec)])
    return out[0], out[1]


@dataclass(frozen=True)
class CashJournals:
    """What every receivables figure is computed from: invoices and what happened to them."""

    invoices: pd.DataFrame
    allocations: pd.DataFrame
    write_offs: pd.DataFrame
    expense_parts: pd.DataFrame
    receipts: pd.DataFrame
    refunds: pd.DataFrame


def cash_journals(conn: sa.Connection, *, as_of: date | None = None,
                  client: str | None = None, with_cash: bool = True) -> CashJournals:
    """The journals of :class:`CashJournals`, as of a date (``client`` narrows the invoices).

    ``with_cash=False`` skips receipts and refunds (empty frames) for the balances alone.
    """
    empty = schema.empty_frame
    return CashJournals(
        invoices=invoices(conn, as_of=as_of, client=client),
        allocations=allocations(conn, as_of=as_of),
        write_offs=write_offs(conn, as_of=as_of),
        expense_parts=expense_parts(conn),
        receipts=receipts(conn, as_of=as_of) if with_cash else empty(schema.RECEIPT_FRAME),
        refunds=refunds(conn, as_of=as_of) if with_cash else empty(schema.REFUND_FRAME),
    )


def newest_change(conn: sa.Connection) -> int:
    """A cheap fingerprint of the ledger's state: the newest audit id (0 for none).

    Every billxl write leaves an audit row in the same transaction, so each write moves it;
    the look-up is one step down the primary key's index, whatever the ledger's size.
    """
    return int(conn.execute(sa.select(sa.func.max(t.audit_log.c.audit_id))).scalar() or 0)


__all__ = ["CashJournals", "allocations", "cash_journals", "fee_lines", "invoice_register", "prebill_write_offs", "expense_parts", "frame", "invoices", "newest_change", "receipts",
           "refunds", "retainers", "trust_entries", "work", "write_offs"]
