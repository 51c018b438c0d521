"""Invoices, credit notes and statements of account as PDF and XLSX, from the firm's templates.

The firm edits ``templates/`` (``invoice.html``, ``statement.html``, ``base.html``,
``print.css`` and ``documents.yaml``), never code. A document is made in two steps: a *context*
(a dict of everything the document shows, printed and exact; pure, no I/O but the templates'
settings) and a *rendering* of that context (WeasyPrint for PDF, XlsxWriter for XLSX), written
atomically::

    invoice, lines, firm, client, matter = load_invoice(ledger, invoice_pk)
    context = invoice_context(invoice, lines, firm=firm, client=client, matter=matter)
    render_invoice_pdf(context, "INV-0001.pdf"); render_invoice_xlsx(context, "INV-0001.xlsx")

or, for a month of invoices in parallel processes, ``render_invoices(ledger, pks, out_dir,
workers=2)``.
"""

from billxl.documents.batch import load_invoice, render_invoices
from billxl.documents.formatting import Amount
from billxl.documents.invoice import invoice_context
from billxl.documents.pdf import render_invoice_pdf, render_statement_pdf
from billxl.documents.statement import open_items, statement_context
from billxl.documents.xlsx import render_invoice_xlsx, render_statement_xlsx

__all__ = [
    "Amount",
    "invoice_context",
    "load_invoice",
    "open_items",
    "render_invoice_pdf",
    "render_invoice_xlsx",
    "render_invoices",
    "render_statement_pdf",
    "render_statement_xlsx",
    "statement_context",
]
