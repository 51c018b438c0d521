"""A client's statement of account: the invoices still open on a date, and how old they are.

:func:`statement_context` is pure and vectorised: the client's invoices (rows of the
``invoices`` table, credit notes included) and the payments applied to them in; the open items
and the aging out. An invoice's balance is its total, less the payments applied to it on or
before the statement date, less the credit notes issued against it by then; a credit note whose
invoice is not among those given stands as an item of its own (a credit on the account). Items
are aged by days past their due date: current (not yet due), 1-30, 31-60, 61-90, 91-120 and over
120 days; the buckets add up to the total outstanding exactly.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from billxl.documents.formatting import Formats, to_date
from billxl.documents.invoice import bank_details, letterhead, party
from billxl.documents.settings import pdf_settings, render_text, settings, template_dir
from billxl.errors import BillxlError
from billxl.figures import aging, balances

#: (key, label key): the buckets of :mod:`billxl.figures.aging`, with their label keys
BUCKETS = tuple((key, "current" if key == "current" else
                 f"bucket_{key.replace('over_120', '120_plus')}") for key in aging.BUCKETS)

_PAYMENT_DATE_COLUMNS = ("applied_on", "date", "paid_on", "received_on")


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.normalize().astype("datetime64[ns]")


def open_items(invoices: pd.DataFrame, as_of: date,
               payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per open item with ``original_minor``, ``paid_minor``, ``credited_minor``,
    ``balance_minor``, ``days_overdue`` and ``bucket``, sorted by date and number.

    The balance is :func:`billxl.figures.balances.invoice_balances` (``paid`` here is every
    payment given: allocations and write-offs alike; ``credited`` is shown positive). A credit
    note whose invoice is not among those given stands as an item of its own.
    """
    cutoff = pd.Timestamp(as_of)
    inv = invoices.copy()
    if "kind" not in inv.columns:
        inv["kind"] = "invoice"
    if "credits_invoice_pk" not in inv.columns:
        inv["credits_invoice_pk"] = pd.NA
    inv["invoice_date"] = _dates(inv["invoice_date"])
    inv["due_date"] = _dates(inv["due_date"])
    inv = inv[inv["invoice_date"] <= cutoff]
    is_credit = inv["kind"].eq("credit_note")
    known = set(inv.loc[~is_credit, "invoice_pk"])
    orphan = is_credit & ~inv["credits_invoice_pk"].isin(known)
    journal = inv[~orphan].assign(**{c: 0 for c in ("fees_minor", "expenses_minor",
                                                    "discount_minor", "tax_minor")
                                     if c not in inv.columns})
    for col in ("client_id", "office_id"):
        if col not in journal.columns:
            journal[col] = None
    journal = journal.astype({"invoice_pk": "int64", "total_minor": "int64",
                              "credits_invoice_pk": "Int64"})
    paid = pd.DataFrame({"invoice_pk": pd.Series(dtype="int64"),
                         "applied_on": pd.Series(dtype="datetime64[ns]"),
                         "amount_minor": pd.Series(dtype="int64"),
                         "expenses_minor": pd.Series(dtype="int64")})
    if payments is not None and not payments.empty:
        when = next((c for c in _PAYMENT_DATE_COLUMNS if c in payments.columns), None)
        paid = pd.DataFrame({
            "invoice_pk": payments["invoice_pk"].astype("int64").to_numpy(),
            "applied_on": (_dates(payments[when]) if when else
                           pd.Series(cutoff, index=payments.index)).to_numpy(),
            "amount_minor": payments["amount_minor"].astype("int64").to_numpy(),
            "expenses_minor": 0})
    nothing = paid.iloc[0:0].rename(columns={"applied_on": "written_on"})
    owed = balances.invoice_balances(journal, paid, nothing, as_of=as_of)
    items = owed.assign(original_minor=owed["total_minor"], credited_minor=-owed["credited_minor"])
    stray = inv[orphan].assign(original_minor=inv.loc[orphan, "total_minor"].astype("int64"),
                               paid_minor=0, credited_minor=0,
                               balance_minor=inv.loc[orphan, "total_minor"].astype("int64"))
    extra = [c for c in inv.columns if c not in items.columns]  # e.g. matter_name, kind
    items = items.merge(inv[["invoice_pk", *extra]], on="invoice_pk", how="left")
    items = pd.concat([items, stray[[c for c in stray.columns if c in items.columns]]],
                      ignore_index=True)
    items = items[items["balance_minor"] != 0].copy()
    for col in ("original_minor", "paid_minor", "credited_minor", "balance_minor"):
        items[col] = items[col].astype("int64")
    items["days_overdue"] = (cutoff - items["due_date"]).dt.days.astype("int64")
    items["bucket"] = aging.bucket_of(items["days_overdue"].to_numpy())
    return items.sort_values(["invoice_date", "number"], kind="stable").reset_index(drop=True)


def statement_context(client: dict, firm: dict, invoices: pd.DataFrame, as_of: date,
                      payments: pd.DataFrame | None = None, *, remittance: dict | None = None,
                      templates: Any = None, on_account_minor: int = 0) -> dict:
    """Everything the statement templates need.

    ``invoices``: the client's rows of the ``invoices`` table (``invoice_pk, number, kind,
    credits_invoice_pk, matter_id, currency, invoice_date, due_date, total_minor``; a
    ``matter_name`` column is printed when present). ``payments``: amounts applied to invoices
    (``invoice_pk, amount_minor`` and optionally the date applied, ``applied_on``/``date``);
    those after ``as_of`` are left out. ``on_account_minor``: cash the client has paid and
    the firm has not applied to any invoice (:mod:`billxl.figures.credit`); the statement shows
    it and asks for the net amount due, ``total outstanding - credit on account``.
    """
    folder = template_dir(templates, firm)
    conf = settings(folder)
    fmt = Formats(conf)
    labels = dict(conf.get("labels") or {})
    as_of = to_date(as_of)
    currencies = sorted(set(invoices["currency"].dropna().astype(str).str.upper())) \
        if len(invoices) else []
    if len(currencies) > 1:
        raise BillxlError(f"Client {client.get('client_id')} has invoices in {', '.join(currencies)}:"
                          " render one statement per currency.")
    cur = currencies[0] if currencies else str(client.get("currency") or firm.get("currency")
                                               or "USD").upper()
    items = open_items(invoices, as_of, payments)

    def amt(minor: int):
        return fmt.amount(int(minor), cur)

    rows = []
    for rec in items.to_dict("records"):
        name = rec.get("matter_name")
        matter = str(rec.get("matter_id") or "")
        if isinstance(name, str) and name:
            matter = f"{matter} {name}".strip()
        rows.append({
            "invoice_pk": rec.get("invoice_pk"),
            "number": str(rec["number"]),
            "kind": rec["kind"],
            "is_credit_note": rec["kind"] == "credit_note",
            "matter": matter,
            "matter_id": str(rec.get("matter_id") or ""),
            "matter_name": name if isinstance(name, str) else "",
            "invoice_date": rec["invoice_date"].date(),
            "invoice_date_text": fmt.date(rec["invoice_date"], short=True),
            "due_date": rec["due_date"].date(),
            "due_date_text": fmt.date(rec["due_date"], short=True),
            "days_overdue": int(rec["days_overdue"]),
            "days_overdue_text": str(rec["days_overdue"]) if rec["days_overdue"] > 0 else "",
            "overdue": rec["days_overdue"] > 0,
            "original": amt(rec["original_minor"]),
            "paid": amt(rec["paid_minor"]),
            "credited": amt(rec["credited_minor"]),
            "balance": amt(rec["balance_minor"]),
            "bucket": rec["bucket"],
        })
    by_bucket = items.groupby("bucket")["balance_minor"].sum() if len(items) else pd.Series()
    aging = [{"key": key, "label": str(labels.get(label_key, key)),
              "amount": amt(int(by_bucket.get(key, 0)))} for key, label_key in BUCKETS]
    total = int(items["balance_minor"].sum()) if len(items) else 0
    on_account = int(on_account_minor)
    net_due = total - on_account
    overdue = int(items.loc[items["days_overdue"] > 0, "balance_minor"].sum()) if len(items) else 0
    head = letterhead(firm, conf)
    who = party(client, conf, firm)
    texts = conf.get("texts") or {}
    return {
        "kind": "statement",
        "title": str(labels.get("statement", "STATEMENT OF ACCOUNT")),
        "labels": labels,
        "letterhead": head,
        "client": who,
        "as_of": as_of,
        "as_of_text": fmt.date(as_of),
        "currency": cur,
        "currency_symbol": fmt.symbol(cur).strip(),
        "items": rows,
        "show_credited": bool((items["credited_minor"] != 0).any()) if len(items) else False,
        "aging": aging,
        "totals": {
            "original": amt(int(items["original_minor"].sum()) if len(items) else 0),
            "paid": amt(int(items["paid_minor"].sum()) if len(items) else 0),
            "credited": amt(int(items["credited_minor"].sum()) if len(items) else 0),
            "balance": amt(total),
            "overdue": amt(overdue),
            "on_account": amt(on_account),
            "net_due": amt(net_due),
            "net": amt(abs(net_due)),
        },
        "net_label": str(labels.get("net_due" if net_due >= 0 else "in_credit",
                                    "Net amount due" if net_due >= 0 else "In credit")),
        "has_credit": on_account != 0,
        "texts": {
            "intro": render_text(texts.get("statement_intro"), as_of=fmt.date(as_of),
                                 client_number=who["id"]),
            "footer": render_text(texts.get("statement_footer")),
            "remittance_intro": render_text(texts.get("remittance_intro")),
        },
        "payment": {
            "due": net_due > 0,
            "amount": amt(net_due),
            "intro": render_text(texts.get("remittance_intro")),
            "details": bank_details(cur, conf, head["name"], remittance) if net_due > 0 else [],
            "reference": who["id"],
        },
        "xlsx": dict(conf.get("xlsx") or {}),
        "date_format_xlsx": str((conf.get("dates") or {}).get("xlsx", "d mmm yyyy")),
        "pdf": pdf_settings(conf, firm),
        "template_dir": str(folder),
    }
