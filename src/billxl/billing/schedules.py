"""Invoice schedules: a plan of future invoices for retainers, installments and milestones.

Each item is an amount with a date (installments, retainers) or a trigger (a milestone such as
"signing"). ``billxl invoice finalize`` invoices every item that is due — dated on or before the
invoice date, or triggered — once; an item already invoiced can no longer be edited.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from billxl import money
from billxl.errors import LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger, jsonable_row

KINDS = ("installment", "retainer", "milestone")


def add_item(ledger: Ledger, matter_id: str, *, kind: str, amount: str, description: str,
             due_on: date | None = None, trigger: str | None = None,
             actor: str | None = None) -> int:
    """Plan an invoice. Installments and retainers need a date; milestones a trigger."""
    if kind not in KINDS:
        raise LedgerError(f"{kind!r} is not a kind of scheduled invoice; use one of {KINDS}.")
    if kind == "milestone" and not trigger:
        raise LedgerError("A milestone needs its trigger, e.g. 'on signing'.")
    if kind != "milestone" and due_on is None:
        raise LedgerError(f"A {kind} needs the date it falls due.")
    with ledger.transaction() as conn:
        matter = conn.execute(sa.select(t.matters.c.client_id).where(
            t.matters.c.matter_id == matter_id)).first()
        if matter is None:
            raise LedgerError(f"There is no matter {matter_id} in the ledger.")
        currency = conn.execute(sa.select(t.clients.c.currency).where(
            t.clients.c.client_id == matter.client_id)).scalar_one()
        row = {"matter_id": matter_id, "kind": kind, "due_on": due_on, "trigger": trigger,
               "amount_minor": money.to_minor(amount, currency), "description": description}
        pk = conn.execute(t.invoice_schedules.insert().returning(
            t.invoice_schedules.c.schedule_id), row).scalar_one()
        ledger.audit(conn, "insert", "invoice_schedules", str(pk), None, jsonable_row(row),
                     actor=actor)
    return int(pk)


def _open_item(conn: sa.Connection, schedule_id: int) -> dict:
    row = conn.execute(sa.select(t.invoice_schedules).where(
        t.invoice_schedules.c.schedule_id == schedule_id)).mappings().first()
    if row is None:
        raise LedgerError(f"There is no scheduled invoice {schedule_id}.")
    if row["invoice_pk"] is not None:
        raise LedgerError(f"Scheduled invoice {schedule_id} has been invoiced; it cannot change "
                          "(correct the invoice with a credit note).")
    return dict(row)


def update_item(ledger: Ledger, schedule_id: int, *, actor: str | None = None, **changes) -> None:
    """Change the amount (text), date, trigger or description of an item not yet invoiced."""
    allowed = {"amount", "due_on", "trigger", "description", "triggered_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise LedgerError(f"A scheduled invoice has no {', '.join(sorted(unknown))} to change.")
    with ledger.transaction() as conn:
        before = _open_item(conn, schedule_id)
        values = {k: v for k, v in changes.items() if k != "amount"}
        if "amount" in changes:
            matter = ledger.read_frame(sa.select(t.clients.c.currency).join(
                t.matters, t.matters.c.client_id == t.clients.c.client_id).where(
                t.matters.c.matter_id == before["matter_id"]), conn)
            values["amount_minor"] = money.to_minor(changes["amount"], matter["currency"].iloc[0])
        conn.execute(sa.update(t.invoice_schedules).where(
            t.invoice_schedules.c.schedule_id == schedule_id).values(**values))
        ledger.audit(conn, "update", "invoice_schedules", str(schedule_id),
                     jsonable_row({k: before[k] for k in values}), jsonable_row(values),
                     actor=actor)


def trigger(ledger: Ledger, schedule_id: int, on: date, *, actor: str | None = None) -> None:
    """Record that a milestone happened: it is invoiced at the next finalize."""
    update_item(ledger, schedule_id, triggered_on=on, actor=actor)


def list_items(ledger: Ledger, matter_id: str | None = None) -> pd.DataFrame:
    q = sa.select(t.invoice_schedules, t.invoices.c.number.label("invoice_number")).join(
        t.invoices, t.invoices.c.invoice_pk == t.invoice_schedules.c.invoice_pk, isouter=True)
    if matter_id:
        q = q.where(t.invoice_schedules.c.matter_id == matter_id)
    frame = ledger.read_frame(q.order_by(t.invoice_schedules.c.matter_id,
                                         t.invoice_schedules.c.due_on))
    frame["status"] = frame["invoice_number"].map(lambda n: "planned" if _blank(n) else "invoiced")
    return frame


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))
