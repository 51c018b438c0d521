"""Everything an invoice (or credit note) document shows, from the ledger's rows.

:func:`invoice_context` is pure: an invoice row, its lines and the firm, client and matter rows
in; a dict out that the HTML template and the XLSX writer both read. It prints nothing itself
and rounds nothing: every figure is a sum of the ledger's minor units.

How the lines tie to the invoice's totals
-----------------------------------------
The ledger keeps ``total = fees + expenses - discount + tax`` on the invoice, and on each line an
``amount`` (quantity x unit, rounded once, plus the line's ``adjustment``) and its ``tax``; so
``total`` is the sum of the lines' amounts and taxes. What counts as "discount" is the billing
engine's choice: ``billing/invoicing.py`` counts fee lines at hours x rate with their
adjustments in the discount, positive invoice-level fee lines (a fixed fee) in the fees and
negative ones (a cap write-down, an agreed discount) in the discount, and expenses at their
amounts. The document reads the lines that way when that is what makes them add up to the
invoice's own fees, expenses and discount, and otherwise tries the other ways of counting
(adjustments inside the fees, shown in an adjustment column; invoice-level lines on either
side), so what is printed always ties out to the ledger. If no reading does, the invoice is
refused (:class:`~billxl.errors.LedgerError`) rather than printed with figures that disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import pandas as pd

from billxl import money
from billxl.documents.formatting import Amount, Formats, to_date
from billxl.documents.settings import (
    expense_codes,
    pdf_settings,
    render_text,
    settings,
    template_dir,
)
from billxl.errors import LedgerError

CLASS_ORDER = ("PARTNR", "OFCOUN", "ASSOC", "PARLGL", "LGLAST", "OTHER")

_LINE_DEFAULTS: dict[str, Any] = {
    "line_no": None, "line_type": "F", "work_date": None, "timekeeper_id": None,
    "timekeeper_name": None, "classification": None, "narrative": "", "task_code": None,
    "activity_code": None, "expense_code": None, "quantity_milli": 0, "unit_minor": 0,
    "adjustment_minor": 0, "amount_minor": 0, "tax_percent": "0", "tax_minor": 0,
}


@dataclass(frozen=True)
class _Reading:
    """Which parts of the lines the invoice counts in its fees and expenses (the rest is its
    discount)."""

    fee_adjustments: bool  # line adjustments of F lines count in the fees
    positive_if: bool  # IF lines with a positive amount count in the fees
    negative_if: bool
    expense_adjustments: bool
    positive_ie: bool
    negative_ie: bool

    def in_subtotal(self, line_type: str, amount: int) -> bool:
        """Whether an invoice-level line counts in the fees/expenses (else in the discount)."""
        if line_type == "IF":
            return self.positive_if if amount > 0 else self.negative_if
        return self.positive_ie if amount > 0 else self.negative_ie


_ENGINE_READING = (False, True, False, True, True, True)  # billing/invoicing.py
_READINGS = sorted(product((False, True), repeat=6),
                   key=lambda r: sum(a != b for a, b in zip(r, _ENGINE_READING, strict=True)))


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _records(lines: pd.DataFrame | None) -> list[dict]:
    """The lines as plain dicts with every column the document reads, in line order."""
    if lines is None or lines.empty:
        return []
    records = []
    # column by column (DataFrame.to_dict goes cell by cell: most of a small invoice's time)
    columns = [str(c) for c in lines.columns]
    for values in zip(*(lines[c].tolist() for c in lines.columns), strict=True):
        row = {**_LINE_DEFAULTS, **dict(zip(columns, values, strict=True))}
        for col in ("quantity_milli", "unit_minor", "adjustment_minor", "amount_minor",
                    "tax_minor"):
            row[col] = _int(row[col])
        row["line_type"] = _text(row["line_type"]).strip().upper() or "F"
        row["tax_percent"] = _text(row["tax_percent"]) or "0"
        records.append(row)
    if all(r["line_no"] is not None and not pd.isna(r["line_no"]) for r in records):
        records.sort(key=lambda r: int(r["line_no"]))
    return records


def _header_lines(invoice: dict) -> list[dict]:
    """An invoice without lines (a schedule or a credit note for an amount): its header, as
    lines that say themselves where they count."""
    date_ = invoice.get("invoice_date")
    base = {**_LINE_DEFAULTS, "work_date": date_, "narrative": _text(invoice.get("description"))}
    rows = []
    if _int(invoice.get("fees_minor")):
        rows.append({**base, "line_type": "IF", "amount_minor": _int(invoice["fees_minor"]),
                     "_in_subtotal": True})
    if _int(invoice.get("expenses_minor")):
        rows.append({**base, "line_type": "IE", "amount_minor": _int(invoice["expenses_minor"]),
                     "_in_subtotal": True})
    if _int(invoice.get("discount_minor")):
        rows.append({**base, "line_type": "IF", "narrative": "",
                     "amount_minor": -_int(invoice["discount_minor"]), "_in_subtotal": False})
    if _int(invoice.get("tax_minor")):
        rows.append({**base, "line_type": "IF", "narrative": "", "tax_percent": "",
                     "tax_minor": _int(invoice["tax_minor"]), "_tax_only": True})
    for i, row in enumerate(rows, start=1):
        row["line_no"] = i
    return rows


def _reading(invoice: dict, lines: list[dict]) -> _Reading:
    parts = dict.fromkeys(("F_gross", "F_adj", "IF_pos", "IF_neg", "E_gross", "E_adj",
                           "IE_pos", "IE_neg"), 0)
    for r in lines:
        kind, amount, adj = r["line_type"], r["amount_minor"], r["adjustment_minor"]
        if kind in ("F", "E"):
            parts[f"{kind}_gross"] += amount - adj
            parts[f"{kind}_adj"] += adj
        elif kind in ("IF", "IE"):
            parts[f"{kind}_{'pos' if amount > 0 else 'neg'}"] += amount
    fees, expenses = _int(invoice["fees_minor"]), _int(invoice["expenses_minor"])
    discount = _int(invoice.get("discount_minor"))
    fee_parts = (parts["F_adj"], parts["IF_pos"], parts["IF_neg"])
    exp_parts = (parts["E_adj"], parts["IE_pos"], parts["IE_neg"])
    for r in _READINGS:
        counted_fees = parts["F_gross"] + sum(p for p, on in zip(fee_parts, r[:3], strict=True) if on)
        counted_exp = parts["E_gross"] + sum(p for p, on in zip(exp_parts, r[3:], strict=True) if on)
        left_out = sum(p for p, on in zip(fee_parts + exp_parts, r, strict=True) if not on)
        if counted_fees == fees and counted_exp == expenses and -left_out == discount:
            return _Reading(*r)
    cur = invoice["currency"]
    shown = ", ".join(f"{k} {money.format_amount(v, cur)}" for k, v in parts.items())
    raise LedgerError(
        f"Invoice {invoice.get('number')}: its lines ({shown}) do not add up to its fees "
        f"{money.format_amount(fees, cur)}, expenses {money.format_amount(expenses, cur)} and "
        f"discount {money.format_amount(discount, cur)} in any way of counting them. "
        "The document is not rendered."
    )


def _check_tax_and_total(invoice: dict, lines: list[dict]) -> None:
    tax = sum(r["tax_minor"] for r in lines)
    total = sum(r["amount_minor"] for r in lines) + tax
    cur = invoice["currency"]
    if tax != _int(invoice.get("tax_minor")) or total != _int(invoice["total_minor"]):
        raise LedgerError(
            f"Invoice {invoice.get('number')}: its lines add up to "
            f"{money.format_amount(total, cur)} (tax {money.format_amount(tax, cur)}) but the "
            f"invoice says {money.format_amount(_int(invoice['total_minor']), cur)} (tax "
            f"{money.format_amount(_int(invoice.get('tax_minor')), cur)}). "
            "The document is not rendered."
        )


def _address(row: dict, names: dict, home_country: str | None) -> list[str]:
    lines = [_text(row.get("address_1")), _text(row.get("address_2"))]
    place = ", ".join(p for p in (_text(row.get("city")), _text(row.get("region"))) if p)
    postcode = _text(row.get("postcode"))
    lines.append(f"{place} {postcode}".strip())
    country = _text(row.get("country")).upper()
    if country and country != (home_country or "").upper():
        lines.append(str(names.get(country, country)))
    return [line for line in lines if line]


def letterhead(firm: dict, conf: dict) -> dict:
    """The letterhead block: the firm's name and address, contact lines, tax id, footer."""
    head = conf.get("letterhead") or {}
    name = head.get("name") or _text(firm.get("name"))
    address = head.get("address") or _address(firm, conf.get("countries") or {}, None)
    return {
        "name": name,
        "tagline": _text(head.get("tagline")),
        "address": [str(a) for a in address],
        "contact": [str(c) for c in head.get("contact") or []],
        "tax_id_label": _text(head.get("tax_id_label")),
        "tax_id": _text(head.get("tax_id") or firm.get("law_firm_id")),
        "footer": render_text(head.get("footer"), firm_name=name),
    }


def party(row: dict, conf: dict, firm: dict) -> dict:
    """A client as it appears in the address block."""
    return {
        "id": _text(row.get("client_id")),
        "name": _text(row.get("name")),
        "contact": _text(row.get("billing_contact")),
        "address": _address(row, conf.get("countries") or {}, _text(firm.get("country"))),
        "tax_id": _text(row.get("tax_id")),
    }


def bank_details(currency: str, conf: dict, firm_name: str,
                 override: dict | None = None) -> list[tuple[str, str]]:
    """The remittance lines for a currency: the argument, else documents.yaml by currency."""
    table = conf.get("remittance") or {}
    chosen = override if override is not None else (table.get(currency) or table.get("default")
                                                     or {})
    return [(str(k), render_text(str(v), firm_name=firm_name)) for k, v in chosen.items()
            if v not in (None, "")]


def tax_name(client: dict, conf: dict) -> str:
    if client.get("tax_type"):
        return str(client["tax_type"])
    names = conf.get("tax_names") or {}
    jurisdiction = _text(client.get("tax_jurisdiction")).upper()
    return str(names.get(jurisdiction) or names.get(jurisdiction[:2]) or names.get("default")
               or "Tax")


def invoice_context(invoice: dict, lines: pd.DataFrame, *, firm: dict, client: dict,
                    matter: dict, balance_brought_forward_minor: int = 0,
                    remittance: dict | None = None, templates: Any = None) -> dict:
    """Everything the invoice templates need, as printed text and as exact values.

    ``invoice`` is a row of the ``invoices`` table (for a credit note, the original's number
    and date may be given as ``credits_invoice_number`` and ``credits_invoice_date``, as
    :func:`~billxl.documents.load_invoice` does); ``lines`` its ``invoice_lines``. Amounts come
    out as :class:`~billxl.documents.formatting.Amount` (``value`` Decimal, ``minor``, ``plain``
    and ``text``); ``remittance`` (label -> value) replaces the bank details of documents.yaml.
    """
    folder = template_dir(templates, firm)
    conf = settings(folder)
    fmt = Formats(conf)
    labels = dict(conf.get("labels") or {})
    classes = conf.get("classifications") or {}
    codes = expense_codes()
    cur = str(invoice["currency"]).upper()

    def amt(minor: int) -> Amount:
        return fmt.amount(int(minor), cur)

    records = _records(lines)
    if records:
        _check_tax_and_total(invoice, records)
        reading = _reading(invoice, records)
        for r in records:
            r["_in_subtotal"] = (r["line_type"] in ("F", "E")
                                 or reading.in_subtotal(r["line_type"], r["amount_minor"]))
            r["_tax_only"] = False
    else:
        reading = _Reading(*_ENGINE_READING)
        records = _header_lines(invoice)
        for r in records:
            r.setdefault("_tax_only", False)
    is_credit = _text(invoice.get("kind")) == "credit_note"

    # ---------------------------------------------------------------- one pass over the lines
    fees, expenses, level_discounts = [], [], []
    fee_adjustments = expense_adjustments = 0
    all_time_written_off = True  # a fixed fee: every entry's amount adjusted to nothing
    people: dict[tuple, dict] = {}
    by_code: dict[str, dict] = {}
    by_rate: dict[str, dict] = {}
    for r in records:
        kind, amount, adj = r["line_type"], r["amount_minor"], r["adjustment_minor"]
        if not r["_tax_only"]:
            key = _percent_key(r["tax_percent"])
            group = by_rate.setdefault(key, {"base": 0, "tax": 0})
            group["base"] += amount
            group["tax"] += r["tax_minor"]
        else:
            by_rate.setdefault("", {"base": None, "tax": 0})["tax"] += r["tax_minor"]
            continue
        if kind == "F":
            shown = amount if reading.fee_adjustments else amount - adj
            fee_adjustments += adj
            all_time_written_off &= amount == 0
            fees.append(_fee_row(r, shown, fmt, amt, timed=True))
            name = _text(r["timekeeper_name"]) or _text(r["timekeeper_id"])
            person = people.setdefault((name, _text(r["classification"]), r["unit_minor"]),
                                       {"hours": 0, "amount": 0})
            person["hours"] += r["quantity_milli"]
            person["amount"] += shown
        elif kind == "E":
            shown = amount if reading.expense_adjustments else amount - adj
            expense_adjustments += adj
            expenses.append(_expense_row(r, shown, fmt, amt, codes, itemised=True))
        elif r["_in_subtotal"]:
            if kind == "IF":
                fees.append(_fee_row(r, amount, fmt, amt, timed=False))
            else:
                expenses.append(_expense_row(r, amount, fmt, amt, codes, itemised=False))
        elif amount:
            level_discounts.append({"label": _text(r["narrative"]) or str(labels.get("discount")),
                                    "amount": amt(amount)})

    discounts = []
    if not reading.fee_adjustments and fee_adjustments:
        label = "fixed_fee_time" if all_time_written_off else "line_discounts"
        discounts.append({"label": str(labels.get(label, "Discounts")),
                          "amount": amt(fee_adjustments)})
    if not reading.expense_adjustments and expense_adjustments:
        discounts.append({"label": str(labels.get("expense_discounts", "Discounts")),
                          "amount": amt(expense_adjustments)})
    discounts += level_discounts
    show_adjustments = reading.fee_adjustments and any(
        r["adjustment_minor"] for r in records if r["line_type"] == "F")

    rank = {c: i for i, c in enumerate(CLASS_ORDER)}
    summary = [{"name": name, "classification": cls, "class_label": str(classes.get(cls, cls)),
                "hours": money.milli_to_qty(p["hours"]), "hours_text": fmt.hours(p["hours"]),
                "rate": amt(rate), "amount": amt(p["amount"])}
               for (name, cls, rate), p in sorted(
                   people.items(), key=lambda kv: (rank.get(kv[0][1], len(rank)), -kv[0][2],
                                                   kv[0][0]))]
    hours_total = sum(p["hours"] for p in people.values())
    summary_total = {
        "hours": money.milli_to_qty(hours_total) if people else None,
        "hours_text": fmt.hours(hours_total) if people else "",
        "amount": amt(sum(p["amount"] for p in people.values())),
    }

    for row in expenses:
        entry = by_code.setdefault(row["code"], {
            "code": row["code"], "name": codes.get(row["code"]) or str(labels.get("uncoded")),
            "count": 0, "minor": 0})
        entry["count"] += 1
        entry["minor"] += row["amount"].minor
    expenses_by_code = [{"code": e["code"], "name": e["name"], "count": e["count"],
                         "amount": amt(e["minor"])}
                        for e in sorted(by_code.values(), key=lambda e: (e["code"] == "",
                                                                          e["code"]))]

    # ---------------------------------------------------------------- tax by rate
    tax_label = tax_name(client, conf)
    subtotal_minor = (_int(invoice["fees_minor"]) + _int(invoice["expenses_minor"])
                      - _int(invoice.get("discount_minor")))
    taxes = []
    for key in sorted(by_rate, key=lambda k: (k == "", money.D(k) if k else 0)):
        group = by_rate[key]
        if group["tax"] == 0 and (key == "" or money.D(key) == 0):
            continue
        percent_text = fmt.percent(key) if key else ""
        taxes.append({
            "label": f"{tax_label} {percent_text}".strip(),
            "percent": money.D(key) if key else None,
            "percent_text": percent_text,
            # a tax known only from the invoice's header is on the whole subtotal
            "base": amt(subtotal_minor if group["base"] is None else group["base"]),
            "amount": amt(group["tax"]),
        })

    # ---------------------------------------------------------------- totals
    fees_minor, exp_minor = _int(invoice["fees_minor"]), _int(invoice["expenses_minor"])
    discount_minor = _int(invoice.get("discount_minor"))
    tax_minor, total_minor = _int(invoice.get("tax_minor")), _int(invoice["total_minor"])
    if fees_minor + exp_minor - discount_minor + tax_minor != total_minor:
        raise LedgerError(f"Invoice {invoice.get('number')}: fees + expenses - discount + tax "
                          f"is not its total; the document is not rendered.")
    bbf = _int(balance_brought_forward_minor)
    totals = {
        "fees": amt(fees_minor),
        "expenses": amt(exp_minor),
        "discount": amt(-discount_minor),
        "subtotal": amt(subtotal_minor),
        "tax": amt(tax_minor),
        "total": amt(total_minor),
        "balance_brought_forward": amt(bbf),
        "total_due": amt(total_minor + bbf),
    }

    # ---------------------------------------------------------------- words around the figures
    head = letterhead(firm, conf)
    texts_conf = conf.get("texts") or {}
    number = _text(invoice.get("number"))
    inv_date, due = to_date(invoice.get("invoice_date")), to_date(invoice.get("due_date"))
    period = fmt.period(invoice.get("period_start"), invoice.get("period_end"))
    terms_days = client.get("payment_terms_days")
    if terms_days is None or pd.isna(terms_days):
        terms_days = (due - inv_date).days if due and inv_date else 30
    original_number = _text(invoice.get("credits_invoice_number")) or (
        f"#{invoice['credits_invoice_pk']}" if _text(invoice.get("credits_invoice_pk")) else "")
    # an invoice of expenses alone does not speak of professional services
    expenses_only = not fees and not fees_minor and bool(expenses or exp_minor)
    services_text = texts_conf.get("expenses_only" if expenses_only else "services")
    texts = {
        "services": render_text(services_text, period=period,
                                matter_name=_text(matter.get("name")),
                                description=_text(invoice.get("description"))),
        "payment_terms": render_text(texts_conf.get("payment_terms"),
                                     terms_days=int(terms_days), due_date=fmt.date(due),
                                     number=number),
        "remittance_intro": render_text(texts_conf.get("remittance_intro")),
        "credit_note": render_text(texts_conf.get("credit_note"),
                                   original_number=original_number,
                                   original_date=fmt.date(invoice.get("credits_invoice_date")))
        if is_credit else "",
        # a split-billed matter: this payor's invoice shows its share of every line
        "split_share": render_text(texts_conf.get("split_share"),
                                   percent=_text(invoice.get("payor_percent")))
        if (_text(invoice.get("payor_percent")) or "100") not in ("100", "100.00") else "",
    }
    pay = totals["total_due"].minor > 0
    return {
        "kind": "credit_note" if is_credit else "invoice",
        "is_credit_note": is_credit,
        "title": str(labels.get("credit_note" if is_credit else "invoice")),
        "labels": labels,
        "texts": texts,
        "letterhead": head,
        "client": party(client, conf, firm),
        "matter": {"id": _text(matter.get("matter_id") or invoice.get("matter_id")),
                   "name": _text(matter.get("name")),
                   "client_matter_id": _text(matter.get("client_matter_id"))},
        "invoice": {
            "pk": invoice.get("invoice_pk"),
            "number": number,
            "number_label": str(labels.get("credit_note_number" if is_credit else
                                           "invoice_number")),
            "date": inv_date, "date_text": fmt.date(inv_date),
            "due_date": due, "due_date_text": fmt.date(due),
            "period_start": to_date(invoice.get("period_start")),
            "period_end": to_date(invoice.get("period_end")),
            "period_text": period,
            "description": _text(invoice.get("description")),
            "currency": cur,
            "currency_symbol": fmt.symbol(cur).strip(),
            "credits_invoice_number": original_number,
            "payor_percent": _text(invoice.get("payor_percent")) or "100",
        },
        "fees": fees,
        "show_line_adjustments": show_adjustments,
        "timekeepers": summary,
        "timekeepers_total": summary_total,
        "expenses": expenses,
        "expenses_by_code": expenses_by_code,
        "discounts": discounts,
        "taxes": taxes,
        "totals": totals,
        "payment": {
            "due": pay,
            "terms": texts["payment_terms"] if pay else "",
            "intro": texts["remittance_intro"],
            "details": bank_details(cur, conf, head["name"], remittance) if pay else [],
            "reference": number,
        },
        "xlsx": dict(conf.get("xlsx") or {}),
        "date_format_xlsx": str((conf.get("dates") or {}).get("xlsx", "d mmm yyyy")),
        "pdf": pdf_settings(conf, firm),
        "template_dir": str(folder),
    }


def _fee_row(r: dict, shown: int, fmt: Formats, amt, *, timed: bool) -> dict:
    return {
        "line_no": r["line_no"],
        "date": to_date(r["work_date"]),
        "date_text": fmt.date(r["work_date"]),
        "date_short": fmt.date(r["work_date"], short=True),
        "timekeeper": _text(r["timekeeper_name"]) or _text(r["timekeeper_id"]),
        "timekeeper_id": _text(r["timekeeper_id"]),
        "classification": _text(r["classification"]),
        "narrative": _text(r["narrative"]),
        "task_code": _text(r["task_code"]),
        "activity_code": _text(r["activity_code"]),
        "hours": money.milli_to_qty(r["quantity_milli"]) if timed else None,
        "hours_text": fmt.hours(r["quantity_milli"]) if timed else "",
        "rate": amt(r["unit_minor"]) if timed else None,
        "adjustment": amt(r["adjustment_minor"]),
        "amount": amt(shown),
    }


def _expense_row(r: dict, shown: int, fmt: Formats, amt, codes: dict, *,
                 itemised: bool) -> dict:
    code = _text(r["expense_code"]).upper()
    return {
        "line_no": r["line_no"],
        "date": to_date(r["work_date"]),
        "date_text": fmt.date(r["work_date"]),
        "date_short": fmt.date(r["work_date"], short=True),
        "code": code,
        "code_name": codes.get(code, ""),
        "narrative": _text(r["narrative"]) or codes.get(code, ""),
        "quantity": money.milli_to_qty(r["quantity_milli"]) if itemised else None,
        "quantity_text": fmt.quantity(r["quantity_milli"]) if itemised else "",
        "unit": amt(r["unit_minor"]) if itemised else None,
        "amount": amt(shown),
    }


def _percent_key(text: Any) -> str:
    """'20', '20.0' and '20.00' are one rate; '' (a tax-only header line) stays apart."""
    raw = _text(text).strip()
    if not raw:
        return ""
    value = money.D(raw).normalize()
    return f"{value:f}"
