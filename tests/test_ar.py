"""AR: aging by due or invoice date per client, matter, partner and office; DSO and lockup; the
collections worklist and its notes; the aging and statements as files."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from billxl import ar, payments
from billxl.errors import LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.test_payments import billxl, firm, receipt, write_csv

AS_OF = date(2026, 10, 31)


@pytest.fixture
def ledger(empty_ledger):
    return firm(empty_ledger)


def rows(table: pd.DataFrame, key: str) -> dict:
    return {r[key]: {b: r[b] for b in (*ar.BUCKETS, "total", "credits", "net") if r[b]}
            for r in table.to_dict("records")}


def test_aging_by_due_date_and_by_invoice_date(ledger):
    by_due = ar.aging(ledger, AS_OF)
    # 000001 due 31 Jul: 92 days; 000002 due 31 Aug: 61; 000003 due 1 Oct: 30;
    # 000005 due 10 Oct: 21; 000006 due 31 Oct: 0 (current); 000004 (GBP) due 14 Sep: 47
    assert rows(by_due, "client_id") == {
        "C1": {"1_30": 85000, "61_90": 50000, "91_120": 120000, "total": 255000, "net": 255000},
        "C3": {"current": 75000, "1_30": 200000, "total": 275000, "net": 275000},
        "C2": {"31_60": 36000, "total": 36000, "net": 36000}}
    assert by_due["currency"].tolist() == ["GBP", "USD", "USD"]  # never added across currencies
    by_date = ar.aging(ledger, AS_OF, basis="invoice")
    assert rows(by_date, "client_id")["C1"] == {"31_60": 85000, "91_120": 50000,
                                                "over_120": 120000, "total": 255000,
                                                "net": 255000}
    assert rows(by_date, "client_id")["C3"] == {"1_30": 75000, "31_60": 200000, "total": 275000,
                                                "net": 275000}


def test_aging_by_partner_matter_and_office(ledger):
    partners = ar.aging(ledger, AS_OF, by="partner")
    assert {(r["partner"], r["currency"]): r["total"] for r in partners.to_dict("records")} == {
        ("Smith, Jane", "USD"): 120000 + 50000 + 200000 + 75000,  # M1 and M4
        ("Patel, Raj", "USD"): 85000, ("Patel, Raj", "GBP"): 36000}  # M2 and M3
    matters = ar.aging(ledger, AS_OF, by="matter")
    assert matters.set_index("matter_id").loc["M4", "matter"] == "Beta merger"
    offices = ar.aging(ledger, AS_OF, by="office")
    assert {(r["office_id"], r["currency"]): r["total"] for r in offices.to_dict("records")} == {
        ("NYC", "USD"): 530000, ("LDN", "GBP"): 36000}
    with pytest.raises(Exception, match="not one of"):
        ar.aging(ledger, AS_OF, by="colour")


def test_aging_as_of_a_date_ignores_what_came_later(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-15", "500.00", client_id="C1", remittance="000002"),
        receipt("R2", "2026-11-05", "3000.00", client_id="C3"),  # after the aging date
        receipt("R3", "2026-10-20", "40.00", client_id="C3", remittance="no invoice")]))
    payments.reverse_receipt(ledger, "R1", reason="NSF", on=date(2026, 11, 10))
    october = rows(ar.aging(ledger, AS_OF), "client_id")
    assert "61_90" not in october["C1"]  # R1 had paid 000002 by then
    assert october["C1"]["total"] == 205000
    assert october["C3"]["total"] == 275000 - 4000  # R3 went to the oldest invoice
    november = rows(ar.aging(ledger, date(2026, 11, 30)), "client_id")
    assert november["C1"]["total"] == 255000  # R1 bounced on 10 Nov
    # R2 paid the rest of C3's invoices and left 290.00 on account: a credit, not a debt
    assert november["C3"] == {"credits": 29000, "net": -29000}
    assert ar.unapplied_as_of(ledger, AS_OF).empty


def test_dso_wip_days_and_lockup(ledger):
    with ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), {
            "source": "t", "source_key": "E1", "entry_id": "E1", "timekeeper_id": "TK1",
            "matter_id": "M1", "work_date": date(2026, 10, 20), "hours_milli": 2000,
            "rate_minor": 50000, "amount_minor": 100000, "currency": "USD", "row_hash": "x"})
    figures = ar.dso(ledger, AS_OF, days=92).set_index("currency")
    usd = figures.loc["USD"]
    # billed in the 92 days to 31 Oct: 500 + 850 + 2,000 + 750 = 4,100.00; owed: 5,300.00
    assert (usd["ar_minor"], usd["billed_minor"], usd["wip_minor"]) == (530000, 410000, 100000)
    assert usd["debtor_days"] == Decimal("118.9")  # 5,300 / (4,100 / 92)
    assert usd["wip_days"] == Decimal("22.4")  # 1,000 / (4,100 / 92)
    assert usd["lockup_days"] == Decimal("141.3")
    assert figures.loc["GBP", "debtor_days"] == Decimal("92.0")


def test_the_worklist_puts_large_and_old_debts_first_with_notes_and_promises(ledger):
    ar.add_note(ledger, "C3", "Spoke to AP; paying end of month", contacted_on=date(2026, 10, 20),
                promised_on=date(2026, 11, 15), promised_amount="2000.00")
    ar.add_note(ledger, "C1", "Left a voicemail", invoice="000001", contacted_on=date(2026, 10, 2),
                promised_on=date(2026, 10, 10))
    ar.add_note(ledger, "C1", "Second reminder sent", contacted_on=date(2026, 10, 25))
    with pytest.raises(LedgerError, match="not C3's"):
        ar.add_note(ledger, "C3", "wrong", invoice="000001")
    work = ar.worklist(ledger, AS_OF)
    # money x days overdue: C1 120,000x92 + 50,000x61 + 85,000x30; C3 200,000x21; C2 36,000x47
    assert work["client_id"].tolist() == ["C1", "C3", "C2"]
    c1 = work.set_index("client_id").loc["C1"]
    assert (c1["overdue_minor"], c1["oldest_days"], c1["oldest_invoice"], c1["invoices"]) == (
        255000, 92, "000001", 3)
    assert c1["last_note"] == "Second reminder sent" and c1["promise"] == "broken"
    c3 = work.set_index("client_id").loc["C3"]
    assert (c3["overdue_minor"], c3["open_minor"], c3["promise"], c3["promised_minor"]) == (
        200000, 275000, "due", 200000)
    assert len(ar.collection_notes(ledger, "C1")) == 2


def test_the_aging_as_a_workbook_and_a_csv(ledger, tmp_path):
    table = ar.aging(ledger, AS_OF)
    book = openpyxl.load_workbook(ar.write_aging(table, tmp_path / "aging.xlsx", title="Aging"))
    sheet = book["Aging"]
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["Client Id", "Client", "Currency"] and "Over 120" in header
    body = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert body["C1"]["91-120"] == 1200 and body["C1"]["Total"] == 2550
    assert sheet.cell(4, header.index("Total") + 1).number_format == "#,##0.00"
    frame = pd.read_csv(ar.write_aging(table, tmp_path / "aging.csv"), dtype=str)
    assert frame.set_index("client_id").loc["C3", "total"] == "2750.00"


def test_the_aging_workbook_shows_long_client_names_whole(ledger, tmp_path):
    """A name is never cut off: its column is as wide as it (up to a limit), beyond which it
    wraps in a row tall enough ("Westbrook Propert" was all one could read)."""
    from billxl.excel import fitting

    table = ar.aging(ledger, AS_OF)
    names = ["Westbrook Properties LLC",
             "The Westbrook Properties International Holdings and Investments Company LLC"]
    table.loc[table.index[:2], "client"] = names
    sheet = openpyxl.load_workbook(ar.write_aging(table, tmp_path / "aging.xlsx"))["Aging"]
    width = sheet.column_dimensions["B"].width
    assert width >= fitting.units_for(fitting.text_px(names[0]))
    cells = {c.value: c for c in sheet["B"] if c.value in names}
    assert set(cells) == set(names)
    long = cells[names[1]]
    assert long.alignment.wrap_text and fitting.lines(long.value, width) >= 2
    assert sheet.row_dimensions[long.row].height >= fitting.row_height(
        fitting.lines(long.value, width))
    assert sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"


def test_a_statement_of_account_ties_out(ledger, tmp_path):
    pytest.importorskip("weasyprint")
    import pypdf

    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-15", "500.00", client_id="C1", remittance="000002")]))
    payments.write_off(ledger, "000003", "50.00", reason="goodwill", on=date(2026, 10, 20))
    context = ar.statement_context(ledger, "C1", AS_OF)
    assert context["totals"]["balance"].minor == 120000 + 80000
    assert sum(a["amount"].minor for a in context["aging"]) == 200000
    pdf = ar.write_statement(ledger, "C1", AS_OF, tmp_path / "statement.pdf")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "000001" in text and "000002" not in text  # paid items are not open
    assert ar.write_statement(ledger, "C1", AS_OF, tmp_path / "statement.xlsx").exists()


def test_ar_commands(tmp_path):
    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    firm(Ledger.create(url, firm=FIRM)).dispose()
    shown = json.loads(billxl(url, "ar", "aging", "--as-of", "2026-10-31", "--by", "client",
                              "--format", "json", "--out", str(tmp_path / "a.xlsx")).stdout)
    assert {r["client_id"]: r["total"] for r in shown} == {"C2": "360.00", "C1": "2550.00",
                                                           "C3": "2750.00"}
    assert (tmp_path / "a.xlsx").exists()
    partner = billxl(url, "ar", "aging", "--as-of", "2026-10-31", "--by", "partner", "--basis",
                     "invoice").stdout
    assert "Smith, Jane" in partner and "Over 120" in partner
    assert "recorded for client C1" in billxl(url, "ar", "note", "C1", "--text", "Called",
                                              "--contacted-on", "2026-10-30", "--promised-on",
                                              "2026-11-20").stdout
    work = json.loads(billxl(url, "ar", "worklist", "--as-of", "2026-10-31", "--format",
                             "json").stdout)
    assert work[0]["client_id"] == "C1" and work[0]["overdue"] == "2550.00"
    assert work[0]["promise"] == "due"
    dso = json.loads(billxl(url, "ar", "dso", "--as-of", "2026-10-31", "--format", "json").stdout)
    assert {r["currency"] for r in dso} == {"USD", "GBP"}
    bad = billxl(url, "ar", "aging", "--as-of", "31/10/2026", ok=2)
    assert "YYYY-MM-DD" in bad.stderr


def _credit_ledger(ledger, tmp_path):
    """C3 overpays (290.00 left on account); C1 has an invoice credited after it was paid."""
    from billxl.billing.credit_notes import issue_credit_note

    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-15", "500.00", client_id="C1", remittance="000002"),
        receipt("R2", "2026-10-20", "3040.00", client_id="C3")]))
    issue_credit_note(ledger, "000002", reason="billed twice", on=date(2026, 10, 25))
    return ledger


def test_aging_totals_are_the_same_under_every_grouping(ledger, tmp_path):
    _credit_ledger(ledger, tmp_path)
    totals = {}
    for by in ar.GROUPINGS:
        table = ar.aging(ledger, AS_OF, by=by)
        totals[by] = table.groupby("currency")[["total", "credits", "net"]].sum().to_dict("index")
    assert totals["client"]["USD"]["credits"] == 29000 + 50000  # cash on account + credited
    for by in ("matter", "partner", "office"):
        assert totals[by] == totals["client"], by
    # the cash on account sits with the client's latest invoice: C3's matter, partner and office
    partner = ar.aging(ledger, AS_OF, by="partner").set_index(["partner", "currency"])
    assert partner.loc[("Smith, Jane", "USD"), "credits"] == 29000 + 50000


def test_a_statement_asks_for_what_the_aging_says_is_owed(ledger, tmp_path):
    _credit_ledger(ledger, tmp_path)
    aging = ar.aging(ledger, AS_OF).set_index("client_id")
    for client in ("C1", "C3"):
        context = ar.statement_context(ledger, client, AS_OF)
        assert context["totals"]["net_due"].minor == aging.loc[client, "net"], client
    c3 = ar.statement_context(ledger, "C3", AS_OF)
    assert c3["totals"]["on_account"].minor == 29000 and c3["has_credit"]
    assert not c3["payment"]["due"]  # the firm holds more than the client owes


def test_a_statement_workbook_nets_the_credit_off_in_a_live_formula(ledger, tmp_path):
    from tests.test_documents import named, recalculated

    _credit_ledger(ledger, tmp_path)
    path = ar.write_statement(ledger, "C3", AS_OF, tmp_path / "c3.xlsx")
    calc = recalculated(path, tmp_path / "lo")
    assert round(named(calc, "NetDue").value * 100) == -29000  # 0.00 owed less 290.00 held
