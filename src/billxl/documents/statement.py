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

import numpy as np
import pandas as pd

from billxl.documents.formatting import Formats, to_date
from billxl.documents.invoice import bank_details, letterhead, party
from billxl.documents.settings import render_text, settings, template_dir
from billxl.errors import BillxlError

#: (key, label key, lowest and highest days past due, inclusive)
BUCKETS = (
    ("current", "current", None, 0),
    ("1_30", "bucket_1_30", 1, 30),
    ("31_60", "bucket_31_60", 31, 60),
    ("61_90", "bucket_61_90", 61, 90),
    ("91_120", "bucket_91_120", 91, 120),
    ("120_plus", "bucket_120_plus", 121, None),
)

_PAYMENT_DATE_COLUMNS = ("applied_on", "date", "paid_on", "received_on")


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.normalize()


def open_items(invoices: pd.DataFrame, as_of: date,
               payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per open item with ``original_minor``, ``paid_minor``, ``credited_minor``,
    ``balance_minor``, ``days_overdue`` and ``bucket``, sorted by date and number."""
    cutoff = pd.Timestamp(as_of)
    inv = invoices.copy()
    if "kind" not in inv.columns:
        inv["kind"] = "invoice"
    if "credits_invoice_pk" not in inv.columns:
        inv["credits_invoice_pk"] = pd.NA
    inv["invoice_date"] = _dates(inv["invoice_date"])
    inv["due_date"] = _dates(inv["due_date"])
    inv = inv[inv["invoice_date"] <= cutoff]

    paid = pd.Series(dtype="int64")
    if payments is not None and not payments.empty:
        pay = payments
        when = next((c for c in _PAYMENT_DATE_COLUMNS if c in pay.columns), None)
        if when is not None:
            pay = pay[_dates(pay[when]) <= cutoff]
        paid = pay.groupby("invoice_pk")["amount_minor"].sum().astype("int64")

    is_credit = inv["kind"].eq("credit_note")
    credits = inv[is_credit]
    known = set(inv.loc[~is_credit, "invoice_pk"])
    applied = credits[credits["credits_invoice_pk"].isin(known)]
    credited = (-applied.groupby("credits_invoice_pk")["total_minor"].sum()).astype("int64")
    items = pd.concat([inv[~is_credit], credits[~credits["credits_invoice_pk"].isin(known)]])

    items = items.assign(
        original_minor=items["total_minor"].astype("int64"),
        paid_minor=items["invoice_pk"].map(paid).fillna(0).astype("int64"),
        credited_minor=items["invoice_pk"].map(credited).fillna(0).astype("int64"),
    )
    items["balance_minor"] = (items["original_minor"] - items["paid_minor"]
                              - items["credited_minor"])
    items = items[items["balance_minor"] != 0].copy()
    items["days_overdue"] = (cutoff - items["due_date"]).dt.days.astype("int64")
    days = items["days_overdue"].to_numpy()
    edges = np.array([0, 30, 60, 90, 120])
    items["bucket"] = np.array([b[0] for b in BUCKETS])[np.searchsorted(edges, days,
                                                                        side="left")]
    return items.sort_values(["invoice_date", "number"], kind="stable").reset_index(drop=True)


def statement_context(client: dict, firm: dict, invoices: pd.DataFrame, as_of: date,
                      payments: pd.DataFrame | None = None, *, remittance: dict | None = None,
                      templates: Any = None) -> dict:
    """Everything the statement templates need.

    ``invoices``: the client's rows of the ``invoices`` table (``invoice_pk, number, kind,
    credits_invoice_pk, matter_id, currency, invoice_date, due_date, total_minor``; a
    ``matter_name`` column is printed when present). ``payments``: amounts applied to invoices
    (``invoice_pk, amount_minor`` and optionally the date applied, ``applied_on``/``date``);
    those after ``as_of`` are left out.
    """
    folder = template_dir(templates)
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
              "amount": amt(int(by_bucket.get(key, 0)))} for key, label_key, _lo, _hi in BUCKETS]
    total = int(items["balance_minor"].sum()) if len(items) else 0
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
        },
        "texts": {
            "intro": render_text(texts.get("statement_intro"), as_of=fmt.date(as_of),
                                 client_number=who["id"]),
            "footer": render_text(texts.get("statement_footer")),
            "remittance_intro": render_text(texts.get("remittance_intro")),
        },
        "payment": {
            "due": total > 0,
            "intro": render_text(texts.get("remittance_intro")),
            "details": bank_details(cur, conf, head["name"], remittance) if total > 0 else [],
            "reference": who["id"],
        },
        "xlsx": dict(conf.get("xlsx") or {}),
        "date_format_xlsx": str((conf.get("dates") or {}).get("xlsx", "d mmm yyyy")),
        "template_dir": str(folder),
    }
