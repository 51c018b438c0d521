"""LEDES's reads and writes: the final invoices an export writes, and the portal submissions.

``billxl.ledes`` computes over what these return; each command's thin function reads, computes
and writes inside one connection or ``ledger.transaction()``. Every change to a submission
leaves a row in ``submission_events`` (its history) and one in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger, jsonable_row

__all__ = ["SUBMISSION_STATUSES", "export_invoices", "export_lines", "ledes_timekeepers",
           "tax_rates", "invoice_to_submit", "latest_submission", "insert_submission",
           "submission", "change_submission_status", "submissions", "submission_events",
           "rejections", "client_names"]

SUBMISSION_STATUSES = t.SUBMISSION_STATUSES


# =================================================================================== exports
def export_invoices(ledger: Ledger, conn: sa.Connection, *, numbers: list[str] | None,
                    start: date | None, end: date | None,
                    kinds: tuple[str, ...]) -> pd.DataFrame:
    """Whole invoice rows (by number, and/or dated ``start``..``end``) with the client and
    matter fields a LEDES file carries, in key order."""
    inv, cl, mt = t.invoices, t.clients, t.matters
    query = (sa.select(inv, cl.c.name.label("client_name"), cl.c.ledes_client_id,
                       cl.c.ebilling_portal, cl.c.tax_id.label("client_tax_id"),
                       cl.c.tax_jurisdiction, cl.c.address_1.label("client_address_1"),
                       cl.c.address_2.label("client_address_2"), cl.c.city.label("client_city"),
                       cl.c.region.label("client_region"),
                       cl.c.postcode.label("client_postcode"),
                       cl.c.country.label("client_country"), mt.c.name.label("matter_name"),
                       mt.c.client_matter_id)
             .join(cl, cl.c.client_id == inv.c.client_id)
             .join(mt, mt.c.matter_id == inv.c.matter_id)
             .where(inv.c.kind.in_(kinds)))
    if numbers is not None:
        query = query.where(inv.c.number.in_(list(numbers)))
    if start is not None:
        query = query.where(inv.c.invoice_date >= start)
    if end is not None:
        query = query.where(inv.c.invoice_date <= end)
    return ledger.read_frame(query.order_by(inv.c.invoice_pk), conn,
                             dates=["invoice_date", "due_date", "period_start", "period_end"])


def export_lines(ledger: Ledger, conn: sa.Connection, invoice_pks: list[int]) -> pd.DataFrame:
    """Whole ``invoice_lines`` rows of those invoices, by invoice and line number."""
    il = t.invoice_lines
    return ledger.read_frame(sa.select(il).where(il.c.invoice_pk.in_(invoice_pks))
                             .order_by(il.c.invoice_pk, il.c.line_no), conn, dates=["work_date"])


def ledes_timekeepers(ledger: Ledger, conn: sa.Connection) -> pd.DataFrame:
    """Every timekeeper's id, first and last name."""
    tk = t.timekeepers.c
    return ledger.read_frame(sa.select(tk.timekeeper_id, tk.first_name, tk.last_name), conn)


def tax_rates(ledger: Ledger, conn: sa.Connection) -> pd.DataFrame:
    """Whole rows of the ``tax_rates`` table."""
    return ledger.read_frame(t.tax_rates, conn)


# =================================================================================== submissions
def invoice_to_submit(conn: sa.Connection, number: str) -> dict | None:
    """An invoice's key, number, client and the client's portal, by number (None if none)."""
    row = conn.execute(
        sa.select(t.invoices.c.invoice_pk, t.invoices.c.number, t.invoices.c.client_id,
                  t.clients.c.ebilling_portal)
        .join(t.clients, t.clients.c.client_id == t.invoices.c.client_id)
        .where(t.invoices.c.number == number)).mappings().first()
    return None if row is None else dict(row)


def latest_submission(conn: sa.Connection, invoice_pk: int, portal: str) -> dict | None:
    """The newest version of an invoice's submission to a portal (None if never submitted)."""
    s = t.submissions
    row = conn.execute(sa.select(s).where(s.c.invoice_pk == invoice_pk, s.c.portal == portal)
                       .order_by(s.c.version.desc())).mappings().first()
    return None if row is None else dict(row)


def insert_submission(ledger: Ledger, conn: sa.Connection, row: dict, invoice: str,
                      actor: str) -> int:
    """Insert a submission (status 'submitted'), its first event and its audit row; its id."""
    s = t.submissions
    submission_id = conn.execute(s.insert().returning(s.c.submission_id), row).scalar_one()
    conn.execute(t.submission_events.insert(), {"submission_id": submission_id,
                                                "status": "submitted", "reason": None,
                                                "at": row["submitted_at"], "actor": actor})
    ledger.audit(conn, "submit", "submissions", str(submission_id), None,
                 jsonable_row({**row, "submission_id": submission_id, "invoice": invoice}),
                 actor=actor)
    return submission_id


def submission(conn: sa.Connection, submission_id: int) -> dict | None:
    """One submission's row (None if there is none)."""
    s = t.submissions
    row = conn.execute(sa.select(s).where(s.c.submission_id == int(submission_id))
                       ).mappings().first()
    return None if row is None else dict(row)


def change_submission_status(ledger: Ledger, conn: sa.Connection, submission: dict, status: str,
                             reason: str | None, actor: str, at: datetime) -> None:
    """Move a submission to ``status``: the row, an event and an audit row."""
    s = t.submissions
    conn.execute(sa.update(s).where(s.c.submission_id == submission["submission_id"])
                 .values(status=status, status_at=at))
    conn.execute(t.submission_events.insert(), {"submission_id": submission["submission_id"],
                                                "status": status, "reason": reason, "at": at,
                                                "actor": actor})
    ledger.audit(conn, "status", "submissions", str(submission["submission_id"]),
                 {"status": submission["status"]},
                 {"status": status, "reason": reason, "at": at.isoformat()}, actor=actor)


def submissions(ledger: Ledger, conn: sa.Connection, *, status: str | None = None,
                portal: str | None = None, client: str | None = None,
                invoice: str | None = None) -> pd.DataFrame:
    """Submissions with their invoice's number, client, matter, currency and total, and the
    reason of their latest rejection, in id order."""
    s, inv, ev = t.submissions, t.invoices, t.submission_events
    last_reason = (sa.select(ev.c.reason).where(ev.c.submission_id == s.c.submission_id,
                                                ev.c.status == "rejected")
                   .order_by(ev.c.event_id.desc()).limit(1).scalar_subquery())
    query = (sa.select(s.c.submission_id, inv.c.number.label("invoice"), inv.c.client_id,
                       inv.c.matter_id, s.c.portal, s.c.format, s.c.version, s.c.status,
                       s.c.submitted_at, s.c.submitted_by, s.c.status_at, s.c.file_name,
                       s.c.file_sha256, inv.c.currency, inv.c.total_minor,
                       last_reason.label("rejection_reason"))
             .join(inv, inv.c.invoice_pk == s.c.invoice_pk))
    if status:
        query = query.where(s.c.status == status)
    if portal:
        query = query.where(s.c.portal == portal)
    if client:
        query = query.where(inv.c.client_id == client)
    if invoice:
        query = query.where(inv.c.number == invoice)
    return ledger.read_frame(query.order_by(s.c.submission_id), conn)


def submission_events(ledger: Ledger, conn: sa.Connection, submission_id: int) -> pd.DataFrame:
    """A submission's events (its history), oldest first."""
    ev = t.submission_events
    return ledger.read_frame(sa.select(ev).where(ev.c.submission_id == int(submission_id))
                             .order_by(ev.c.event_id), conn)


def rejections(ledger: Ledger, conn: sa.Connection) -> pd.DataFrame:
    """Every rejection event with its portal, invoice number, client and client's name."""
    ev, s, inv, cl = t.submission_events, t.submissions, t.invoices, t.clients
    return ledger.read_frame(
        sa.select(ev.c.submission_id, ev.c.reason, ev.c.at, s.c.portal,
                  inv.c.number.label("invoice"), inv.c.client_id, cl.c.name.label("client_name"))
        .join(s, s.c.submission_id == ev.c.submission_id)
        .join(inv, inv.c.invoice_pk == s.c.invoice_pk)
        .join(cl, cl.c.client_id == inv.c.client_id)
        .where(ev.c.status == "rejected"), conn)


def client_names(ledger: Ledger, conn: sa.Connection) -> pd.DataFrame:
    """Every client's id and name."""
    return ledger.read_frame(sa.select(t.clients.c.client_id, t.clients.c.name), conn)
