"""Invoice schedules: a plan of future invoices for retainers, installments and milestones.

Each item is an amount with a date (installments, retainers) or a trigger (a milestone such as
"signing"). ``billxl invoice finalize`` invoices every item that is due — dated on or before the
invoice date, or triggered — once; an item already invoiced can no longer be edited.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from billxl import money
from billxl.errors import LedgerError
from billxl.store import billing as store
from billxl.store.ledger import Ledger

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
        currency = store.matter_currency(conn, matter_id)
        if currency is None:
            raise LedgerError(f"There is no matter {matter_id} in the ledger.")
        row = {"matter_id": matter_id, "kind": kind, "due_on": due_on, "trigger": trigger,
               "amount_minor": money.to_minor(amount, currency), "description": description}
        return store.insert_schedule_item(ledger, conn, row, actor=actor)


def _open_item(conn, schedule_id: int) -> dict:
    row = store.read_schedule_item(conn, schedule_id)
    if row is None:
        raise LedgerError(f"There is no scheduled invoice {schedule_id}.")
    if row["invoice_pk"] is not None:
        raise LedgerError(f"Scheduled invoice {schedule_id} has been invoiced; it cannot change "
                          "(correct the invoice with a credit note).")
    return row


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
            values["amount_minor"] = money.to_minor(
                changes["amount"], store.matter_currency(conn, before["matter_id"]))
        store.update_schedule_item(ledger, conn, schedule_id, before, values, actor=actor)


def trigger(ledger: Ledger, schedule_id: int, on: date, *, actor: str | None = None) -> None:
    """Record that a milestone happened: it is invoiced at the next finalize."""
    update_item(ledger, schedule_id, triggered_on=on, actor=actor)


def list_items(ledger: Ledger, matter_id: str | None = None) -> pd.DataFrame:
    """Scheduled invoices (of a matter, or all), each 'planned' or 'invoiced'."""
    frame = store.read_schedule_items(ledger, matter_id)
    frame["status"] = frame["invoice_number"].map(lambda n: "planned" if _blank(n) else "invoiced")
    return frame


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))
