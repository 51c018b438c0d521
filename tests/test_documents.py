"""Invoice, credit-note and statement documents: what they print ties out to the ledger.

The PDF's printed total is read back from the PDF's text; the XLSX's totals are recalculated
by LibreOffice (a real spreadsheet program) and compared to the ledger to the cent; a narrative
that starts with '=' stays text; long invoices repeat their table headers on every page; the
statement's aging adds up; and a month's invoices render from a real ledger in two processes.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pypdf
import pytest
import sqlalchemy as sa

from billxl import money
from billxl.documents import (
    invoice_context,
    load_invoice,
    open_items,
    render_invoice_pdf,
    render_invoice_xlsx,
    render_invoices,
    render_statement_pdf,
    render_statement_xlsx,
    statement_context,
)
from billxl.errors import LedgerError
from billxl.store import tables as t
from tests.office import recalculated

ROOT = Path(__file__).resolve().parents[1]

FIRM = {"firm_id": 1, "name": "Harcourt & Vale LLP", "law_firm_id": "GB 123 4567 89",
        "currency": "GBP", "address_1": "1 Example Street", "city": "London",
        "postcode": "EC2A 1AA", "country": "GB"}
CLIENT = {"client_id": "C0001", "name": "Acme Holdings Ltd", "currency": "GBP",
          "tax_jurisdiction": "GB", "payment_terms_days": 30,
          "billing_contact": "Jane Doe, Finance Director", "address_1": "10 High Street",
          "city": "Manchester", "postcode": "M1 1AA", "country": "GB"}
MATTER = {"matter_id": "C0001-0001", "client_id": "C0001", "name": "Acquisition of Widget Co",
          "client_matter_id": "LEGAL-2026-17"}
FORMULA_NARRATIVE = '=HYPERLINK("http://x") draft disclosure letter'

TIMEKEEPERS = [("TK1", "Smith, Jane", "PARTNR", 65000), ("TK2", "Patel, Raj", "ASSOC", 35000),
               ("TK3", "Okafor, Ngozi", "PARLGL", 15000)]


def fee(line_no: int, day: int, tk: int, hours: str, narrative: str, *, vat: str = "20",
        adjustment: int = 0) -> dict:
    tk_id, name, cls, rate = TIMEKEEPERS[tk]
    qty = money.qty_to_milli(hours)
    amount = money.extend(qty, rate) + adjustment
    return {"line_no": line_no, "line_type": "F", "work_date": date(2026, 10, day),
            "timekeeper_id": tk_id, "timekeeper_name": name, "classification": cls,
            "narrative": narrative, "quantity_milli": qty, "unit_minor": rate,
            "standard_amount_minor": money.extend(qty, rate), "adjustment_minor": adjustment,
            "amount_minor": amount, "tax_percent": vat, "tax_minor": money.percent_of(amount, vat)}


def expense(line_no: int, day: int, code: str, qty: str, unit: int, narrative: str) -> dict:
    q = money.qty_to_milli(qty)
    amount = money.extend(q, unit)
    return {"line_no": line_no, "line_type": "E", "work_date": date(2026, 10, day),
            "expense_code": code, "narrative": narrative, "quantity_milli": q,
            "unit_minor": unit, "standard_amount_minor": amount, "adjustment_minor": 0,
            "amount_minor": amount, "tax_percent": "20",
            "tax_minor": money.percent_of(amount, "20")}


def invoice_header(lines: list[dict], *, number: str = "INV-2026-0001", pk: int = 1,
                   **extra) -> dict:
    """The invoice row for ``lines``: fees and expenses gross, adjustments and IF/IE lines in
    the discount (one of the readings the documents accept)."""
    frame = pd.DataFrame(lines)
    kind = frame["line_type"]
    gross = frame["amount_minor"] - frame["adjustment_minor"]
    fees = int(gross[kind == "F"].sum())
    expenses = int(gross[kind == "E"].sum())
    discount = -int(frame["adjustment_minor"].sum() + frame["amount_minor"][kind.isin(["IF", "IE"])].sum())
    tax = int(frame["tax_minor"].sum())
    return {"invoice_pk": pk, "number": number, "kind": "invoice", "client_id": "C0001",
            "matter_id": "C0001-0001", "currency": "GBP", "invoice_date": date(2026, 10, 31),
            "due_date": date(2026, 11, 30), "period_start": date(2026, 10, 1),
            "period_end": date(2026, 10, 31), "description": "Professional services, October 2026",
            "payor_percent": "100", "fees_minor": fees, "expenses_minor": expenses,
            "discount_minor": discount, "tax_minor": tax,
            "total_minor": fees + expenses - discount + tax, "rounding": "half_up",
            "finalized_at": datetime(2026, 10, 31, 18, tzinfo=UTC), "finalized_by": "test",
            **extra}


def sample_lines(fees: int = 3) -> list[dict]:
    narratives = ["Review share purchase agreement and advise on the warranty and indemnity "
                  "package; call with client's general counsel",
                  FORMULA_NARRATIVE,
                  "Prepare completion bible & index <draft>"]
    lines = [fee(i + 1, 1 + i % 28, i % 3, ["2.5", "1.25", "0.8", "3.1"][i % 4],
                 narratives[i] if i < 3 else f"Entry {i + 1}: review data room documents "
                 f"folder {i} and update the due diligence report")
             for i in range(fees)]
    n = len(lines)
    lines += [expense(n + 1, 3, "E101", "250", 10, "Photocopying, 250 pages"),
              expense(n + 2, 7, "E110", "1", 18640, "Rail travel London-Manchester (return)"),
              expense(n + 3, 9, "E101", "40", 10, "")]
    fees_gross = sum(x["amount_minor"] for x in lines if x["line_type"] == "F")
    discount = -money.percent_of(fees_gross, "10")
    lines.append({"line_no": n + 4, "line_type": "IF", "work_date": date(2026, 10, 31),
                  "narrative": "Agreed discount: 10% of fees", "quantity_milli": 0,
                  "unit_minor": 0, "standard_amount_minor": 0, "adjustment_minor": 0,
                  "amount_minor": discount, "tax_percent": "20",
                  "tax_minor": money.percent_of(discount, "20")})
    return lines


def context_for(lines, **header):
    inv = invoice_header(lines, **header)
    return inv, invoice_context(inv, pd.DataFrame(lines), firm=FIRM, client=CLIENT,
                                matter=MATTER)


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def printed_amount(text: str, label: str) -> Decimal:
    found = re.search(re.escape(label) + r"\s*(-?)£([\d,]+\.\d\d)", text)
    assert found, f"{label!r} with an amount is not in the text:\n{text}"
    return money.D(found.group(1) + found.group(2))


def named(book: openpyxl.Workbook, name: str):
    (sheet, ref), = book.defined_names[name].destinations
    return book[sheet][ref.replace("$", "")]


# ============================================================================ the context
def test_context_ties_out_and_shows_what_a_client_reads():
    inv, ctx = context_for(sample_lines())
    totals = ctx["totals"]
    assert totals["total"].minor == inv["total_minor"]
    assert totals["total"].value == money.from_minor(inv["total_minor"], "GBP")
    assert totals["total_due"].text.startswith("£") and "," in totals["total_due"].text
    assert sum(f["amount"].minor for f in ctx["fees"]) == inv["fees_minor"]
    assert sum(e["amount"].minor for e in ctx["expenses"]) == inv["expenses_minor"]
    assert sum(d["amount"].minor for d in ctx["discounts"]) == -inv["discount_minor"]
    assert [x["label"] for x in ctx["taxes"]] == ["VAT 20%"]
    assert ctx["taxes"][0]["amount"].minor == inv["tax_minor"]
    assert ctx["fees"][1]["narrative"] == FORMULA_NARRATIVE
    assert [k["class_label"] for k in ctx["timekeepers"]] == ["Partner", "Associate", "Paralegal"]
    assert sum(k["amount"].minor for k in ctx["timekeepers"]) == inv["fees_minor"]
    by_code = {c["code"]: (c["name"], c["count"], c["amount"].minor)
               for c in ctx["expenses_by_code"]}
    assert by_code == {"E101": ("Copying", 2, 2900), "E110": ("Out-of-town travel", 1, 18640)}
    assert ctx["payment"]["reference"] == "INV-2026-0001"
    assert ("Sort code", "00-00-00") in ctx["payment"]["details"]
    assert "30 November 2026" in ctx["payment"]["terms"]
    assert ctx["invoice"]["period_text"] == "1 October 2026 to 31 October 2026"


def test_line_adjustments_counted_in_fees_show_an_adjustment_column():
    lines = [fee(1, 1, 0, "2", "Advice", adjustment=-13000), fee(2, 2, 1, "1", "Drafting")]
    header = invoice_header(lines)
    # the engine may count line adjustments inside the fees instead of the discount
    header.update(fees_minor=sum(x["amount_minor"] for x in lines), discount_minor=0)
    ctx = invoice_context(header, pd.DataFrame(lines), firm=FIRM, client=CLIENT, matter=MATTER)
    assert ctx["show_line_adjustments"]
    assert [f["amount"].minor for f in ctx["fees"]] == [117000, 35000]
    assert ctx["discounts"] == []


def test_lines_that_do_not_tie_out_are_refused():
    lines = sample_lines()
    header = invoice_header(lines)
    header.update(fees_minor=header["fees_minor"] + 1, total_minor=header["total_minor"] + 1)
    with pytest.raises(LedgerError, match="do not add up|add up to"):
        invoice_context(header, pd.DataFrame(lines), firm=FIRM, client=CLIENT, matter=MATTER)


# ============================================================================ PDF
def test_pdf_prints_the_ledger_total(tmp_path):
    inv, ctx = context_for(sample_lines())
    path = render_invoice_pdf(ctx, tmp_path / "invoice.pdf")
    pages = pdf_text(path)
    first = pages[0]
    assert "INVOICE" in first and "INV-2026-0001" in first and "Acme Holdings Ltd" in first
    assert "For professional services rendered" in first
    total = money.from_minor(inv["total_minor"], "GBP")
    assert printed_amount(first, "Total due") == total
    assert printed_amount(first, "Total this invoice") == total
    assert "VAT 20%" in first
    assert f"Page 1 of {len(pages)}" in first
    everything = "\n".join(pages)
    assert FORMULA_NARRATIVE in everything
    assert "& index <draft>" in everything  # escaped for HTML, printed as written
    assert "Expenses by code" in everything and "Out-of-town travel" in everything
    assert not list(tmp_path.glob(".*.part"))  # written atomically


def test_long_invoice_repeats_table_headers_and_numbers_pages(tmp_path):
    inv, ctx = context_for(sample_lines(fees=120))
    pages = pdf_text(render_invoice_pdf(ctx, tmp_path / "long.pdf"))
    assert len(pages) >= 4
    detail = [p for p in pages if "Entry " in p]
    assert len(detail) >= 3
    for page in detail:  # every page of the fee detail starts with the table's header
        assert re.search(r"Date\s*Timekeeper\s*Description\s*Hours\s*Rate\s*Amount \(GBP\)", page)
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in page
    assert "(continued)" in pages[1]
    assert printed_amount(pages[0], "Total due") == money.from_minor(inv["total_minor"], "GBP")


def test_credit_note_is_titled_and_negative(tmp_path):
    lines = [{**x, "quantity_milli": -x["quantity_milli"], "amount_minor": -x["amount_minor"],
              "standard_amount_minor": -x["standard_amount_minor"],
              "adjustment_minor": -x["adjustment_minor"], "tax_minor": -x["tax_minor"]}
             for x in sample_lines()]
    header = invoice_header(lines, number="CN-2026-0001", pk=2, kind="credit_note",
                            credits_invoice_pk=1, credits_invoice_number="INV-2026-0001",
                            credits_invoice_date=date(2026, 10, 31))
    ctx = invoice_context(header, pd.DataFrame(lines), firm=FIRM, client=CLIENT, matter=MATTER)
    assert ctx["title"] == "CREDIT NOTE" and ctx["totals"]["total"].minor < 0
    text = "\n".join(pdf_text(render_invoice_pdf(ctx, tmp_path / "cn.pdf")))
    assert "CREDIT NOTE" in text and "INV-2026-0001" in text
    assert printed_amount(text, "Total credited") == money.from_minor(header["total_minor"], "GBP")
    assert "-£" in text and "Remittance details" not in text  # nothing to pay
    book = openpyxl.load_workbook(render_invoice_xlsx(ctx, tmp_path / "cn.xlsx"))
    assert book.sheetnames == ["Credit note"]
    assert any(c.value == "CREDIT NOTE" for row in book.active.iter_rows() for c in row)


# ============================================================================ XLSX
def test_xlsx_totals_are_formulas_that_libreoffice_recalculates_to_the_ledger(tmp_path):
    inv, ctx = context_for(sample_lines())
    path = render_invoice_xlsx(ctx, tmp_path / "invoice.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Invoice"]
    for name in ("Fees", "Expenses", "Subtotal", "Total", "TotalDue"):
        assert str(named(book, name).value).startswith("="), name
    narrative = [c for row in sheet.iter_rows() for c in row
                 if isinstance(c.value, str) and "disclosure letter" in c.value]
    assert len(narrative) == 1 and narrative[0].value == FORMULA_NARRATIVE
    assert narrative[0].data_type == "s"  # a string, not a formula

    calc = recalculated(path, tmp_path / "lo")
    def minor(name):
        return money.to_minor(money.D(repr(named(calc, name).value)), "GBP")
    assert minor("TotalDue") == inv["total_minor"]
    assert minor("Total") == inv["total_minor"]
    assert minor("Fees") == inv["fees_minor"]
    assert minor("Expenses") == inv["expenses_minor"]
    assert minor("Tax") == inv["tax_minor"]
    cells = [c.value for row in calc["Invoice"].iter_rows() for c in row]
    assert FORMULA_NARRATIVE in cells


# ============================================================================ statement
def statement_invoices() -> pd.DataFrame:
    rows = [  # number, invoice date, due date, total
        ("INV-1", date(2026, 5, 1), date(2026, 5, 31), 120000),   # 153 days overdue: 120+
        ("INV-2", date(2026, 7, 15), date(2026, 8, 14), 50000),   # 78: 61-90
        ("INV-3", date(2026, 8, 31), date(2026, 9, 30), 250000),  # 31: 31-60, part paid
        ("INV-4", date(2026, 9, 30), date(2026, 10, 30), 99999),  # 1: 1-30
        ("INV-5", date(2026, 10, 20), date(2026, 11, 19), 33300),  # not yet due: current
        ("INV-6", date(2026, 6, 1), date(2026, 7, 1), 10000),     # paid in full
        ("INV-7", date(2026, 11, 15), date(2026, 12, 15), 70000),  # after the statement date
    ]
    frame = pd.DataFrame([{"invoice_pk": i + 1, "number": n, "kind": "invoice",
                           "credits_invoice_pk": None, "matter_id": "C0001-0001",
                           "matter_name": "Acquisition of Widget Co", "currency": "GBP",
                           "invoice_date": d, "due_date": due, "total_minor": total}
                          for i, (n, d, due, total) in enumerate(rows)])
    credit = {"invoice_pk": 20, "number": "CN-1", "kind": "credit_note", "credits_invoice_pk": 2,
              "matter_id": "C0001-0001", "currency": "GBP", "invoice_date": date(2026, 9, 1),
              "due_date": date(2026, 9, 1), "total_minor": -20000}
    return pd.concat([frame, pd.DataFrame([credit])], ignore_index=True)


def statement_payments() -> pd.DataFrame:
    return pd.DataFrame([{"invoice_pk": 3, "amount_minor": 100000, "applied_on": date(2026, 10, 5)},
                         {"invoice_pk": 6, "amount_minor": 10000, "applied_on": date(2026, 7, 1)},
                         {"invoice_pk": 4, "amount_minor": 99999,
                          "applied_on": date(2026, 11, 20)}])  # after the statement date


def test_statement_aging_adds_up_to_the_open_total(tmp_path):
    as_of = date(2026, 10, 31)
    items = open_items(statement_invoices(), as_of, statement_payments())
    assert list(items["number"]) == ["INV-1", "INV-2", "INV-3", "INV-4", "INV-5"]
    assert dict(zip(items["number"], items["bucket"], strict=True)) == {
        "INV-1": "over_120", "INV-2": "61_90", "INV-3": "31_60", "INV-4": "1_30",
        "INV-5": "current"}
    balances = dict(zip(items["number"], items["balance_minor"], strict=True))
    assert balances == {"INV-1": 120000, "INV-2": 30000, "INV-3": 150000, "INV-4": 99999,
                        "INV-5": 33300}
    ctx = statement_context(CLIENT, FIRM, statement_invoices(), as_of, statement_payments())
    total = sum(balances.values())
    assert ctx["totals"]["balance"].minor == total
    assert sum(b["amount"].minor for b in ctx["aging"]) == total
    assert [b["label"] for b in ctx["aging"]] == ["Current", "1–30 days", "31–60 days",
                                                  "61–90 days", "91–120 days", "Over 120 days"]
    assert ctx["totals"]["overdue"].minor == total - 33300
    assert ctx["show_credited"]

    text = "\n".join(pdf_text(render_statement_pdf(ctx, tmp_path / "statement.pdf")))
    assert "STATEMENT OF ACCOUNT" in text and "INV-3" in text and "INV-6" not in text
    assert printed_amount(text, "Total outstanding") == money.from_minor(total, "GBP")

    path = render_statement_xlsx(ctx, tmp_path / "statement.xlsx")
    calc = recalculated(path, tmp_path / "lo")
    def minor(name):
        return money.to_minor(money.D(repr(named(calc, name).value)), "GBP")
    assert minor("Outstanding") == total
    assert minor("AgingTotal") == total


def test_a_firm_edits_templates_not_code(tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    settings = folder / "documents.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        .replace('total_due: "Total due"', 'total_due: "Amount payable"')
                        .replace("  tagline: ~", '  tagline: "Avocats"'),
                        encoding="utf-8")
    monkeypatch.setenv("BILLXL_TEMPLATES", str(folder))
    inv, ctx = context_for(sample_lines())
    assert ctx["letterhead"]["tagline"] == "Avocats"
    text = pdf_text(render_invoice_pdf(ctx, tmp_path / "invoice.pdf"))[0]
    assert printed_amount(text, "Amount payable") == money.from_minor(inv["total_minor"], "GBP")


# ============================================================================ from the ledger
def _insert_invoice(conn, pk: int, number: str, lines: list[dict], **extra) -> None:
    header = invoice_header(lines, number=number, pk=pk, **extra)
    header = {k: v for k, v in header.items() if k in t.invoices.c}
    conn.execute(t.invoices.insert(), header)
    optional = dict.fromkeys(["entry_kind", "entry_pk", "timekeeper_id", "timekeeper_name",
                              "classification", "task_code", "activity_code", "expense_code"])
    conn.execute(t.invoice_lines.insert(),
                 [{**optional, **{k: v for k, v in line.items() if k in t.invoice_lines.c},
                   "invoice_pk": pk} for line in lines])


def insert_client_matter(conn) -> None:
    """The office, timekeepers, client and matter that the invoices here are billed to."""
    conn.execute(t.offices.insert(), {"office_id": "LON", "name": "London", "city": "London",
                                      "country": "GB", "currency": "GBP"})
    conn.execute(t.timekeepers.insert(), [
        {"timekeeper_id": tk, "first_name": name.split(", ")[1],
         "last_name": name.split(", ")[0], "classification": cls, "office_id": "LON",
         "active_from": date(2020, 1, 1)} for tk, name, cls, _rate in TIMEKEEPERS])
    conn.execute(t.clients.insert(), {k: v for k, v in CLIENT.items() if k in t.clients.c})
    conn.execute(t.matters.insert(), {**MATTER, "opened_on": date(2026, 1, 5),
                                      "billing_partner_id": "TK1"})


def test_render_from_the_ledger_in_two_processes(empty_ledger, tmp_path):
    ledger = empty_ledger
    with ledger.transaction() as conn:
        conn.execute(t.firm.update().values(
            {k: v for k, v in FIRM.items() if k not in ("firm_id", "law_firm_id")}))
        insert_client_matter(conn)
        conn.execute(t.tax_rates.insert(), {"jurisdiction": "GB", "tax_type": "VAT",
                                            "applies_to": "both", "percent": "20",
                                            "effective_from": date(2011, 1, 4)})
        lines = sample_lines()
        # a line with no name of its own takes the timekeeper's from the ledger
        lines[0] = {**lines[0], "timekeeper_name": None}
        _insert_invoice(conn, 1, "INV/2026/0001", lines)
        _insert_invoice(conn, 2, "INV/2026/0002", sample_lines(fees=8))
        credit = [{**x, "amount_minor": -x["amount_minor"], "tax_minor": -x["tax_minor"],
                   "quantity_milli": -x["quantity_milli"]} for x in sample_lines()[:1]]
        _insert_invoice(conn, 3, "CN/2026/0001", credit, kind="credit_note",
                        credits_invoice_pk=1)

    invoice, frame, firm, client, matter = load_invoice(ledger, 1)
    assert invoice["number"] == "INV/2026/0001" and len(frame) == len(lines)
    assert frame.loc[0, "timekeeper_name"] == "Smith, Jane"
    assert firm["name"] == FIRM["name"] and client["tax_type"] == "VAT"
    assert matter["client_matter_id"] == "LEGAL-2026-17"
    credit_note = load_invoice(ledger, 3)[0]
    assert credit_note["credits_invoice_number"] == "INV/2026/0001"
    with pytest.raises(LedgerError, match="no invoice"):
        load_invoice(ledger, 99)

    seen = []
    paths = render_invoices(ledger, [1, 2, 3], tmp_path / "out", workers=2,
                            progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in paths] == ["INV-2026-0001.pdf", "INV-2026-0001.xlsx",
                                       "INV-2026-0002.pdf", "INV-2026-0002.xlsx",
                                       "CN-2026-0001.pdf", "CN-2026-0001.xlsx"]
    assert all(p.stat().st_size > 0 for p in paths) and seen[-1] == (3, 3)
    with ledger.engine.connect() as conn:
        totals = dict(conn.execute(sa.select(t.invoices.c.number, t.invoices.c.total_minor)).all())
    for path in paths[::2]:
        text = "\n".join(pdf_text(path))
        label = "Total credited" if path.name.startswith("CN") else "Total due"
        ledger_number = path.stem.replace("-", "/")
        assert printed_amount(text, label) == money.from_minor(totals[ledger_number], "GBP")
    assert "CREDIT NOTE" in pdf_text(paths[4])[0]
    # one process gives the same documents
    again = render_invoices(ledger, [2], tmp_path / "one", formats=("xlsx",))
    assert [p.name for p in again] == ["INV-2026-0002.xlsx"]


def test_an_invoice_without_lines_prints_its_header_and_the_balance_brought_forward(tmp_path):
    header = {"invoice_pk": 5, "number": "INV-2026-0005", "kind": "invoice", "currency": "GBP",
              "matter_id": "C0001-0001", "invoice_date": date(2026, 10, 31),
              "due_date": date(2026, 11, 30), "description": "Retainer for November 2026",
              "fees_minor": 500000, "expenses_minor": 0, "discount_minor": 0,
              "tax_minor": 100000, "total_minor": 600000}
    ctx = invoice_context(header, pd.DataFrame(), firm=FIRM, client=CLIENT, matter=MATTER,
                          balance_brought_forward_minor=123456)
    assert ctx["totals"]["total_due"].minor == 723456
    assert [f["narrative"] for f in ctx["fees"]] == ["Retainer for November 2026"]
    text = pdf_text(render_invoice_pdf(ctx, tmp_path / "retainer.pdf"))[0]
    assert printed_amount(text, "Total this invoice") == Decimal("6000.00")
    assert "Balance brought forward 1,234.56" in text
    assert printed_amount(text, "Total due") == Decimal("7234.56")
    book = openpyxl.load_workbook(render_invoice_xlsx(ctx, tmp_path / "retainer.xlsx"))
    assert named(book, "TotalDue").value.startswith("=")


def test_a_fixed_fee_invoice_as_the_billing_engine_totals_it(tmp_path):
    from billxl.billing.invoicing import invoice_totals  # the engine's own way of counting

    time = [fee(1, 1, 0, "2", "Negotiate heads of terms"), fee(2, 2, 1, "3.5", "Draft SPA")]
    for line in time:  # the time is shown, the fee is the agreed amount
        line.update(adjustment_minor=-line["amount_minor"], amount_minor=0, tax_minor=0)
    level = [("Fixed fee as agreed", 1_500_000), ("Discount as agreed", -50_000)]
    lines = time + [{"line_no": 3 + i, "line_type": "IF", "work_date": date(2026, 10, 31),
                     "narrative": text, "quantity_milli": 1000, "unit_minor": amount,
                     "standard_amount_minor": 0, "adjustment_minor": 0, "amount_minor": amount,
                     "tax_percent": "20", "tax_minor": money.percent_of(amount, "20")}
                    for i, (text, amount) in enumerate(level)]
    header = {**invoice_header(lines), **invoice_totals(pd.DataFrame(lines))}
    ctx = invoice_context(header, pd.DataFrame(lines), firm=FIRM, client=CLIENT, matter=MATTER)
    assert ctx["totals"]["total"].minor == 1_450_000 + 290_000
    assert [f["narrative"] for f in ctx["fees"]][-1] == "Fixed fee as agreed"
    assert [(d["label"], d["amount"].minor) for d in ctx["discounts"]] == [
        ("Time recorded, covered by the fixed fee", -(130000 + 122500)),
        ("Discount as agreed", -50_000)]
    text = pdf_text(render_invoice_pdf(ctx, tmp_path / "fixed.pdf"))[0]
    assert printed_amount(text, "Total due") == Decimal("17400.00")
