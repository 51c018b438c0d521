"""Accounts receivable: aging, debtor days and lockup, the collections worklist, statements.

Everything is computed as of a date from the ledger's journals (invoices and credit notes,
allocations, write-offs, receipts and refunds), so an aging run for last month's end gives
last month's figures even after later receipts were posted.

Aging buckets, by the number of days since the basis date (the due date, or the invoice date):
``current`` (0 days or not yet reached), ``1_30``, ``31_60``, ``61_90``, ``91_120``,
``over_120``. Only balances owed count in the buckets; a negative balance (an invoice credited
after it was paid) and, per client, cash received but not applied are shown as ``credits``, and
``net = total - credits``. Amounts never add across currencies: every row is one currency.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from billxl import money
from billxl.errors import BillxlError, LedgerError
from billxl.figures import aging as aging_figure
from billxl.figures import balances, credit, lockup
from billxl.figures.aging import BUCKET_LABELS, BUCKETS
from billxl.figures.dates import as_date
from billxl.payments import invoice_balances
from billxl.reference import Reference
from billxl.store import collections, reads
from billxl.store.ledger import current_actor
from billxl.store.view import LedgerView

__all__ = ["BUCKETS", "BUCKET_LABELS", "age_items", "aging_table", "aging", "unapplied_as_of",
           "dso", "worklist", "add_note", "collection_notes", "write_aging", "statement_context",
           "write_statement"]

BASES = aging_figure.BASES
GROUPINGS = aging_figure.GROUPINGS
age_items = aging_figure.age_items
aging_table = aging_figure.aging_table


def _receivables(ledger, as_of: date, conn: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every invoice's balance and every receipt's unapplied cash as of a date."""
    j = reads.cash_journals(conn, as_of=as_of)
    owed = balances.invoice_balances(j.invoices, j.allocations, j.write_offs, j.expense_parts,
                                     as_of=as_of)
    return owed, credit.unapplied(j.receipts, j.allocations, j.refunds, as_of=as_of)


def _describe(reference: Reference, frame: pd.DataFrame) -> pd.DataFrame:
    """Add the names aging groups by: client, matter, billing partner, office."""
    names = reference.display_names(reference.timekeepers["timekeeper_id"])
    partners = pd.Series(names.to_numpy(), index=reference.timekeepers["timekeeper_id"].to_numpy())
    return aging_figure.describe(frame, reference.clients, reference.matters, partners,
                                 reference.offices)


def unapplied_as_of(ledger, as_of: date, conn: Any = None) -> pd.DataFrame:
    """Per receipt received by ``as_of`` and not reversed by then: its cash still unapplied
    (:func:`billxl.figures.credit.unapplied`)."""
    if conn is None:
        with ledger.engine.connect() as c:
            return unapplied_as_of(ledger, as_of, c)
    j = reads.cash_journals(conn, as_of=as_of)
    return credit.unapplied(j.receipts, j.allocations, j.refunds, as_of=as_of)


def aging(ledger, as_of: Any, *, by: str = "client", basis: str = "due") -> pd.DataFrame:
    """The AR aging as of a date, by client, matter, billing partner or office (minor units).

    :mod:`billxl.figures.aging` defines it; the credits (negative balances and cash on
    account) are placed under every grouping, so the totals are the same whatever ``by`` is.
    """
    as_of = as_date(as_of)
    with ledger.engine.connect() as conn:
        owed, cash = _receivables(ledger, as_of, conn)
        reference = Reference.from_ledger(ledger, conn)
    items = _describe(reference, age_items(owed, as_of, basis))
    held = aging_figure.credits(owed, cash)
    return aging_table(items, by, _describe(reference, held) if len(held) else None)


# =================================================================================== DSO, lockup
def dso(ledger, as_of: Any, *, days: int = 365) -> pd.DataFrame:
    """Debtor days (DSO), WIP days and lockup per currency, as of a date.

    :func:`billxl.figures.lockup.lockup` defines them: AR owed on ``as_of`` and the billable
    WIP on it (at billing rates, :mod:`billxl.figures.wip`) over the daily billing of the
    ``days`` before it, or over the ledger's billing history where that is shorter.
    """
    as_of = as_date(as_of)
    view = LedgerView(ledger)
    owed = view.receivables(as_of).balances
    invoices = view.journals().invoices
    return lockup.lockup(owed, invoices, view.wip_rows(as_of), as_of, days=days,
                         since=lockup.history_start(invoices))


# =================================================================================== collections
def add_note(ledger, client: str, note: str, *, invoice: str | None = None,
             contacted_on: date | None = None, promised_on: date | None = None,
             promised_amount: Any = None, actor: str | None = None) -> dict:
    """Record a collections contact: what was said, and any promise to pay (date, amount)."""
    if not (note and note.strip()):
        raise LedgerError("A collections note needs some text.")
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        currency = collections.client_currency(conn, client)
        if currency is None:
            raise LedgerError(f"There is no client {client} in the ledger.")
        invoice_pk = None
        if invoice:
            found = collections.invoice_of(conn, invoice)
            if found is None:
                raise LedgerError(f"There is no invoice {invoice} in the ledger.")
            if found["client_id"] != client:
                raise LedgerError(f"Invoice {invoice} is client {found['client_id']}'s, "
                                  f"not {client}'s.")
            invoice_pk, currency = int(found["invoice_pk"]), found["currency"]
        promised_minor = None
        if promised_amount is not None:
            promised_minor = money.to_minor(money.D(promised_amount), currency)
            if promised_minor <= 0:
                raise LedgerError("A promised amount must be more than 0.")
        row = {"client_id": client, "invoice_pk": invoice_pk,
               "contacted_on": as_date(contacted_on or date.today()),
               "promised_on": as_date(promised_on) if promised_on else None,
               "promised_minor": promised_minor, "note": note.strip(),
               "created_at": datetime.now(UTC), "created_by": actor}
        pk = collections.insert_note(ledger, conn, row, actor)
    return {"note_pk": pk, **row}


def collection_notes(ledger, client: str | None = None) -> pd.DataFrame:
    """Collections notes, newest first (with the invoice number when a note names one)."""
    with ledger.engine.connect() as conn:
        return collections.notes(conn, client)


def worklist(ledger, as_of: Any, *, include_current: bool = False) -> pd.DataFrame:
    """Who to chase, largest and oldest first, with the last contact and any promise.

    One row per client and currency with money overdue on ``as_of`` (or anything open, with
    ``include_current``): ``open_minor``, ``overdue_minor``, ``oldest_days`` (past due),
    ``oldest_invoice``, ``invoices``; ``amount_days`` (overdue money x days overdue, the order
    of the list: a large debt and an old one both rise); from the notes kept in the ledger,
    ``last_contact``, ``last_note``, ``promised_on``, ``promised_minor`` and ``promise``
    (``due`` or ``broken``: the date passed and money is still overdue).
    """
    as_of = as_date(as_of)
    items = age_items(invoice_balances(ledger, as_of=as_of), as_of, "due")
    return aging_figure.worklist(items, as_of, ledger.clients(), collection_notes(ledger),
                                 include_current=include_current)


# =================================================================================== output
def write_aging(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """The aging as CSV (decimal strings) or XLSX (numbers with the currency's decimals)."""
    from billxl.excel.aging_workbook import write_aging as write

    return write(table, path, title=title)


def statement_context(ledger, client: str, as_of: Any, *, templates: Any = None) -> dict:
    """The statement of account of a client as of a date, for ``billxl.documents``.

    Payments are the allocations applied by ``as_of`` and the write-offs written by then (both
    reduce what is owed; the statement prints them together as paid). The client's credit on
    account (:mod:`billxl.figures.credit`, in the statement's currency) is shown and taken off:
    the statement asks for the net amount due.
    """
    from billxl.documents import statement_context as context_of

    as_of = as_date(as_of)
    with ledger.engine.connect() as conn:
        reference = Reference.from_ledger(ledger, conn)
        j = reads.cash_journals(conn, as_of=as_of, client=client)
    try:
        row = reference.client(client)
    except KeyError:
        raise LedgerError(f"There is no client {client} in the ledger.") from None
    matter_names = reference.matters.set_index("matter_id")["name"]
    invoices = j.invoices.assign(matter_name=j.invoices["matter_id"].map(matter_names))
    written = j.write_offs.rename(columns={"written_on": "applied_on"})
    mine = j.allocations["invoice_pk"].isin(invoices["invoice_pk"])
    payments = pd.concat([j.allocations.loc[mine, ["invoice_pk", "amount_minor", "applied_on"]],
                          written.loc[written["invoice_pk"].isin(invoices["invoice_pk"]),
                                      ["invoice_pk", "amount_minor", "applied_on"]]],
                         ignore_index=True)
    currency = (sorted(set(invoices["currency"].dropna()))[:1] or [row.get("currency")])[0]
    held = credit.credit_on_account(credit.unapplied(j.receipts, j.allocations, j.refunds,
                                                     as_of=as_of))
    held = held[(held["client_id"] == client) & (held["currency"] == currency)]
    return context_of(dict(row), dict(reference.firm), invoices, as_of, payments,
                      templates=templates, on_account_minor=int(held["credit_minor"].sum()))


def write_statement(ledger, client: str, as_of: Any, path: str | Path, *,
                    templates: Any = None) -> Path:
    """A client's statement of account as PDF or XLSX (by the file's suffix)."""
    from billxl.documents import render_statement_pdf, render_statement_xlsx

    path = Path(path)
    context = statement_context(ledger, client, as_of, templates=templates)
    if path.suffix.lower() == ".pdf":
        return render_statement_pdf(context, path)
    if path.suffix.lower() == ".xlsx":
        return render_statement_xlsx(context, path)
    raise BillxlError(f"Write the statement as .pdf or .xlsx, not {path.suffix or 'no suffix'}.")
