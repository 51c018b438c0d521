"""The reads behind an invoice's documents: the invoice, its lines and the rows it names.

``billxl.documents`` renders from what these return; each read takes an open connection so that
one document is read in one.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger

__all__ = ["document_invoices", "document_lines", "firm_rows", "client_rows", "matter_rows",
           "tax_type_on", "invoice_keys"]


def document_invoices(ledger: Ledger, conn: sa.Connection, invoice_pks: list[int]) -> pd.DataFrame:
    """The invoices' whole rows (those that exist), with the number and date of the invoice
    each credits as ``credits_invoice_number`` and ``credits_invoice_date``."""
    original = t.invoices.alias("original")
    query = (sa.select(t.invoices, original.c.number.label("credits_invoice_number"),
                       original.c.invoice_date.label("credits_invoice_date"))
             .select_from(t.invoices.outerjoin(
                 original, t.invoices.c.credits_invoice_pk == original.c.invoice_pk))
             .where(t.invoices.c.invoice_pk.in_([int(pk) for pk in invoice_pks])))
    return ledger.read_frame(query, conn)


def document_lines(ledger: Ledger, conn: sa.Connection, invoice_pks: list[int]) -> pd.DataFrame:
    """The invoices' whole ``invoice_lines`` rows by invoice and in line order, with the
    timekeeper's ``last_name`` and ``first_name``."""
    il, tk = t.invoice_lines, t.timekeepers
    return ledger.read_frame(
        sa.select(il, tk.c.last_name, tk.c.first_name)
        .select_from(il.outerjoin(tk, il.c.timekeeper_id == tk.c.timekeeper_id))
        .where(il.c.invoice_pk.in_([int(pk) for pk in invoice_pks]))
        .order_by(il.c.invoice_pk, il.c.line_no), conn)


def firm_rows(ledger: Ledger, conn: sa.Connection) -> pd.DataFrame:
    """The ``firm`` table, whole."""
    return ledger.read_frame(sa.select(t.firm), conn)


def client_rows(ledger: Ledger, conn: sa.Connection, client_ids: list[str]) -> pd.DataFrame:
    """The clients' whole rows (those that exist)."""
    return ledger.read_frame(sa.select(t.clients).where(t.clients.c.client_id.in_(client_ids)),
                             conn)


def matter_rows(ledger: Ledger, conn: sa.Connection, matter_ids: list[str]) -> pd.DataFrame:
    """The matters' whole rows (those that exist)."""
    return ledger.read_frame(sa.select(t.matters).where(t.matters.c.matter_id.in_(matter_ids)),
                             conn)


def tax_type_on(conn: sa.Connection, jurisdiction: str, on: date) -> str | None:
    """The tax type (VAT, GST, ...) of the jurisdiction's rate in force on a day, if any."""
    rate = t.tax_rates.c
    return conn.execute(
        sa.select(rate.tax_type)
        .where(rate.jurisdiction == jurisdiction, rate.effective_from <= on,
               sa.or_(rate.effective_to.is_(None), rate.effective_to >= on))
        .order_by(rate.effective_from.desc()).limit(1)).scalar()


def invoice_keys(ledger: Ledger, conn: sa.Connection, numbers: list[str]) -> list[int]:
    """The keys of the invoices with these numbers (in the ledger's order)."""
    query = sa.select(t.invoices.c.invoice_pk).where(t.invoices.c.number.in_(list(numbers)))
    return ledger.read_frame(query, conn)["invoice_pk"].tolist()
