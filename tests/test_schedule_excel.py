"""Schedules in Excel: ``BILLXL_SCHEDULE`` called as Excel calls it (floats, date serials,
blanks, ranges), and the Schedules sheet's round trip headless (``billxl workbook run``'s
``run_file``): terms and items saved all or nothing, invoiced items locked, Bills due listed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl import LedgerView, build_schedule, finalize
from billxl.billing import schedules
from billxl.billing.schedule_builder import Terms
from billxl.excel import layout, udfs
from billxl.excel.arguments import PREFIX
from billxl.excel.book import FileBook
from billxl.excel.commands import run_file
from billxl.excel.udfs import BILLXL_SCHEDULE
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.conftest import FIRM
from tests.test_schedule_plans import reference

EPOCH = date(1899, 12, 30)


def serial(day: date) -> float:
    return float((day - EPOCH).days)


# =================================================================================== the UDF
HEADER = ["Date", "Description", "Amount USD", "Tax: none (no matter)"]


def test_the_function_spills_the_builders_items_from_what_excel_sends(small_ledger):
    got = BILLXL_SCHEDULE(100000.0, serial(date(2026, 11, 30)), 3.0)
    assert got[0] == HEADER  # the firm's currency; no matter, no tax
    assert got[1:] == [[date(2026, 11, 30), "Installment 1 of 3", 33333.33, 0.0],
                       [date(2026, 12, 31), "Installment 2 of 3", 33333.33, 0.0],
                       [date(2027, 1, 29), "Installment 3 of 3", 33333.34, 0.0]]
    items = build_schedule(Terms("installment", total="100000", count=3,
                                 start=date(2026, 11, 30)))
    assert [r[2] for r in got[1:]] == [float(Decimal(i.amount_minor).scaleb(-2)) for i in items]
    # the same from a datetime cell, ISO text, 1x1 ranges, a float with binary noise
    assert BILLXL_SCHEDULE([[0.1 * 3 * 1e6 / 3 - 100000.0 + 100000.0]],
                           [[datetime(2026, 11, 30)]], [[3.0]]) == got
    assert BILLXL_SCHEDULE("100,000.00", "2026-11-30", 3, None, None, None, "usd") == got


def test_quarters_a_half_even_tie_and_a_range_of_dates(small_ledger):
    quarters = BILLXL_SCHEDULE(30000.0, "2026-03-31", 4.0, "Quarterly")
    assert [r[0] for r in quarters[1:]] == [date(2026, 3, 31), date(2026, 6, 30),
                                            date(2026, 9, 30), date(2026, 12, 31)]
    assert [r[2] for r in quarters[1:]] == [7500.0] * 4
    assert [r[2] for r in BILLXL_SCHEDULE(1000.05, "2026-11-02", 2, None, "half_even")[1:]] == [
        500.02, 500.03]
    assert [r[2] for r in BILLXL_SCHEDULE(1000.05, "2026-11-02", 2, None, "HALF_UP")[1:]] == [
        500.03, 500.02]
    days = [[serial(date(2026, 12, 15))], [serial(date(2026, 11, 16))], [None]]
    given = BILLXL_SCHEDULE(10.0, days, None)
    assert [(r[0], r[2]) for r in given[1:]] == [(date(2026, 11, 16), 5.0),
                                                 (date(2026, 12, 15), 5.0)]


@pytest.mark.parametrize(("args", "reason"), [
    ((None, "2026-11-02", 2), "total: the amount to split is missing"),
    ((100.005, "2026-11-02", 2), "more than 2 decimal places"),
    ((100.0, "soon", 2), "start: 'soon' is not a date"),
    ((100.0, "2026-11-02", 2.5), "count: a whole number"),
    ((100.0, "2026-11-02", 0), "at least 1"),
    ((100.0, "2026-11-02", 2, "weekly"), "not a frequency"),
    ((100.0, "2026-11-02", 2, None, "bankers"), "not a rounding rule"),
    ((100.0, "2026-11-02", [[1], [2]]), "count: one cell"),
    ((100.0, None, 2), "needs the date of the first"),
    ((100.0, "2026-11-02", 2, None, None, None, "dollars"), "'DOLLARS' is not a currency code"),
    ((100.5, "2026-11-02", 2, None, None, None, "JPY"), "more than 0 decimal places"),
    ((100.0, "2026-11-02", 2, None, None, "GBX", "USD"), "GBX bills in GBP, not USD"),
])
def test_a_bad_argument_is_a_reason_in_the_spill_never_a_traceback(small_ledger, args, reason):
    got = BILLXL_SCHEDULE(*args)
    assert len(got) == 1 and got[0][0].startswith(PREFIX) and reason in got[0][0], got


def test_the_function_is_listed_with_help():
    assert BILLXL_SCHEDULE in udfs.FUNCTIONS
    assert list(BILLXL_SCHEDULE.arg_docs) == ["total", "start", "count", "frequency",
                                              "rounding", "matter", "in_currency"]
    assert all(0 < len(d) <= 255 for d in BILLXL_SCHEDULE.arg_docs.values())


@pytest.fixture
def small_ledger(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.create(url, firm=FIRM, actor="test")
    ledger.load_reference(reference(), actor="test")
    monkeypatch.setenv("BILLXL_LEDGER", url)
    LedgerView.close_all()
    udfs._failed.clear()
    yield ledger, url
    LedgerView.close_all()
    ledger.dispose()


def test_with_a_matter_its_currency_its_clients_rounding_and_tax(small_ledger):
    got = BILLXL_SCHEDULE(1000.05, "2026-11-30", 2, None, None, "GBX")
    assert got[0] == ["Date", "Description", "Amount GBP", "Tax GBP"]
    # the client rounds half even; GB VAT at 20% on each item, rounded once
    assert got[1:] == [[date(2026, 11, 30), "Installment 1 of 2", 500.02, 100.0],
                       [date(2026, 12, 31), "Installment 2 of 2", 500.03, 100.01]]
    ledger, _url = small_ledger
    plan = schedules.preview(ledger, "GBX", Terms("installment", count=2,
                                                  start=date(2026, 11, 30)))
    assert [float(Decimal(int(v)).scaleb(-2)) for v in plan["amount_minor"]] == [
        r[2] for r in got[1:]]
    assert BILLXL_SCHEDULE(1000.05, "2026-11-30", 2, None, "half_up", "GBX")[1][2] == 500.03
    assert BILLXL_SCHEDULE(1000.05, "2026-11-30", 2, None, None, "GBX", "gbp") == got
    assert "no matter NOPE" in BILLXL_SCHEDULE(1, "2026-11-30", 1, None, None, "NOPE")[0][0]


def test_without_a_matter_the_firms_currency_rounding_and_holidays(small_ledger):
    from billxl import set_firm_settings

    ledger, _url = small_ledger
    set_firm_settings(ledger, currency="EUR", rounding="half_even", country="US")
    LedgerView.close_all()
    got = BILLXL_SCHEDULE(1000.05, "2026-12-25", 2)
    assert got[0] == ["Date", "Description", "Amount EUR", "Tax: none (no matter)"]
    # Christmas Day (a Friday, a US holiday) moves to Monday the 28th; a tie to the even cent
    assert got[1:] == [[date(2026, 12, 28), "Installment 1 of 2", 500.02, 0.0],
                       [date(2027, 1, 25), "Installment 2 of 2", 500.03, 0.0]]
    assert BILLXL_SCHEDULE(100.0, "2026-12-25", 1, None, None, None, "JPY")[0][2] == "Amount JPY"


def test_without_a_ledger_the_currency_must_be_given(tmp_path, monkeypatch):
    monkeypatch.setenv("BILLXL_LEDGER", f"sqlite:///{tmp_path / 'none.db'}")
    LedgerView.close_all()
    udfs._failed.clear()
    got = BILLXL_SCHEDULE(100000.0, "2026-11-30", 3)
    assert len(got) == 1 and "in_currency: give it (USD, EUR ...), or name the ledger" in got[0][0]
    assert "there is no ledger file" in got[0][0]
    given = BILLXL_SCHEDULE(100000.0, "2026-11-30", 3, None, None, None, "JPY")
    assert given[0] == ["Date", "Description", "Amount JPY", "Tax: none (no matter)"]
    assert [r[2] for r in given[1:]] == [33333.0, 33333.0, 33334.0]
    assert not (tmp_path / "none.db").exists()  # nothing left behind


def test_the_dates_reach_excel_as_dates(small_ledger, monkeypatch):
    """xlwings' write pipeline, as a UDF's result goes through it (``conversion.write(ret,
    None, options)`` in xlwings.udfs.call_udf), ends in the engine's
    ``prepare_xl_data_element``: on Windows a ``date`` becomes a COM date (VT_DATE), which
    Excel shows as a date; a float would stay a bare serial number. The engine here is a
    double that records what reaches it."""
    import types

    import xlwings
    from xlwings import conversion

    seen = []

    def prepare(value, _options):
        seen.append(value)
        return value

    engine = types.SimpleNamespace(name="excel", impl=types.SimpleNamespace(
        prepare_xl_data_element=prepare))
    monkeypatch.setitem(xlwings.engines.engines_by_name, "excel", engine)
    for got in (BILLXL_SCHEDULE(100000.0, serial(date(2026, 11, 30)), 3.0),
                BILLXL_SCHEDULE(1000.05, [[serial(date(2026, 11, 30))], ["2026-12-31"]],
                                None, None, None, "GBX")):
        seen.clear()
        written = conversion.write(got, None, {})
        assert written == got
        days = seen[4::4]  # the first cell of each row after the header
        assert days and all(type(d) is date for d in days), days
        assert all(type(v) is float for v in seen[6::4] + seen[7::4])


# =================================================================================== the sheet
SCHED = layout.table("Schedules")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The billing workbook built from the layout as it is now."""
    from billxl import build_workbooks

    return build_workbooks(tmp_path_factory.mktemp("built")).workbook


@pytest.fixture
def book(built, small_ledger, tmp_path):
    import shutil

    path = Path(shutil.copyfile(built, tmp_path / built.name))
    _, url = small_ledger
    wb = FileBook(path)
    settings = wb.read_table("Settings")
    settings.loc[settings["Setting"] == layout.setting("ledger_url").label, "Value"] = url
    wb.write_table("Settings", settings)
    wb.save()
    return path


def put(path: Path, rows: list[dict], table: str = "Schedules") -> None:
    wb = FileBook(path)
    wb.write_table(table, pd.DataFrame(rows, columns=layout.table(table).headers))
    wb.save()


def read(path: Path, table: str = "Schedules") -> pd.DataFrame:
    return FileBook(path).read_table(table)


def test_the_schedules_sheet_round_trip(book, small_ledger):
    ledger, _ = small_ledger
    put(book, [
        {"Matter": "FIX", "Due": date(2026, 10, 30), "Count": 3, "Frequency": "monthly"},
        {"Matter": "MS", "Trigger": "on signing", "Percent": 30.0},
        {"Matter": "MS", "Trigger": "on filing", "Percent": 40},
        {"Matter": "MS", "Trigger": "on completion", "Percent": "30"},
        {"Matter": "GBX", "Kind": "installment", "Due": datetime(2026, 11, 30),
         "Amount": 500.02, "Description": "First half"},
        {"Matter": "GBX", "Kind": "Installment", "Due": "2026-12-31", "Amount": 500.03,
         "Description": "=Second half"}])
    done = run_file("save_schedule", book)
    assert done.ok, done.problems
    shown = read(book)
    assert shown["Matter"].tolist() == ["FIX"] * 3 + ["MS"] * 3 + ["GBX"] * 2
    assert [Decimal(repr(v)) for v in shown["Amount"]] == [
        Decimal(x) for x in ("33333.33", "33333.33", "33333.34", "25500", "34000", "25500",
                             "500.02", "500.03")]
    assert shown["Tax"].tolist()[-2:] == [100.0, 100.01]
    assert shown["Description"].iloc[-1] == "=Second half"  # text, never a formula
    assert set(shown["Status"]) == {"planned"}
    assert schedules.list_plan(ledger, "FIX")["amount_minor"].sum() == 10_000_000

    finalize(ledger, month="2026-11")  # FIX's items of 30 Oct and 30 Nov, GBX's first half
    put(book, [{"Matter": "FIX"}, {"Matter": "GBX"}])  # only the matters: show their schedules
    assert run_file("save_schedule", book).ok
    shown = read(book)
    assert shown["Status"].tolist() == ["invoiced: locked"] * 2 + ["planned"] + [
        "invoiced: locked", "planned"]
    assert shown["Invoice"].notna().tolist() == [True, True, False, True, False]

    # an invoiced row changed: refused, the row and column named, nothing written
    before = ledger.read_frame(sa.select(t.invoice_schedules))
    edited = shown.copy()
    edited.loc[edited.index[0], "Amount"] = 30000.0
    edited.loc[edited.index[2], "Amount"] = 36666.67
    put(book, edited.to_dict("records"))
    done = run_file("save_schedule", book)
    assert not done.ok
    locked = [p for p in done.problems if "locked" in p.reason]
    assert [(p.row, p.column) for p in locked] == [(layout.HEADER_ROW + 1, "Amount")]
    assert "invoice 00000" in locked[0].reason and "credit note" in locked[0].reason
    problems = read(book, "Problems")
    assert problems["Row"].tolist()[0] == layout.HEADER_ROW + 1
    pd.testing.assert_frame_equal(ledger.read_frame(sa.select(t.invoice_schedules)), before)

    # the fee no longer adds up: refused naming both figures
    edited.loc[edited.index[0], "Amount"] = shown["Amount"].iloc[0]
    put(book, edited.to_dict("records"))
    done = run_file("save_schedule", book)
    assert not done.ok and any("103,333.33 USD" in p.reason and "100,000.00 USD" in p.reason
                               for p in done.problems)

    # what is left of FIX's fee (33,333.34) in two quarterly installments: a terms row
    rows = shown.iloc[:2].to_dict("records") + [
        {"Matter": "FIX", "Due": date(2027, 1, 29), "Count": 2, "Frequency": "quarterly"},
        *shown.iloc[3:].to_dict("records")]
    put(book, rows)
    done = run_file("save_schedule", book)
    assert done.ok, done.problems
    fix = read(book)
    fix = fix[fix["Matter"] == "FIX"]
    assert fix["Amount"].tolist() == [33333.33, 33333.33, 16666.67, 16666.67]
    assert schedules.list_plan(ledger, "FIX")["amount_minor"].sum() == 10_000_000


def test_bad_rows_are_all_told_and_nothing_is_saved(book, small_ledger):
    ledger, _ = small_ledger
    put(book, [
        {"Matter": "NOPE", "Amount": 5.0, "Due": "2026-11-30"},
        {"Matter": "RET", "Kind": "retainer", "Due": "soon", "Amount": 5.0},
        {"Matter": "RET", "Kind": "fortnightly", "Due": "2026-11-30", "Amount": 5.0},
        {"Matter": "RET", "Kind": "milestone", "Amount": 5.0},
        {"Matter": "RET", "Trigger": "on signing", "Percent": 30},
        {"Matter": "RET", "Due": "2026-11-30", "Amount": 5.001},
        {"Kind": "retainer", "Due": "2026-11-30", "Amount": 5.0},
        {"Matter": "FIX", "Due": "2026-11-30", "Count": 3, "Frequency": "weekly"}])
    done = run_file("save_schedule", book)
    assert not done.ok
    where = {(p.row, p.column) for p in done.problems}
    first = layout.HEADER_ROW + 1
    assert where >= {(first, "Matter"), (first + 1, "Due"), (first + 2, "Kind"),
                     (first + 3, "Trigger"), (first + 4, "Percent"), (first + 5, "Amount"),
                     (first + 6, "Matter"), (first + 7, None)}
    assert ledger.read_frame(sa.select(t.invoice_schedules)).empty


def test_bills_due_lists_the_cycles_and_the_scheduled_invoices(book, small_ledger):
    ledger, _ = small_ledger
    schedules.plan(ledger, "RET", Terms("retainer", amount="5000", count=3,
                                        start=date(2026, 10, 31)))
    wb = FileBook(book)
    settings = wb.read_table("Settings")
    # the Value column is text (its cells' format is @): a date is typed as YYYY-MM-DD
    settings.loc[settings["Setting"] == layout.setting("due_on").label, "Value"] = "2026-11-30"
    wb.write_table("Settings", settings)
    wb.save()
    done = run_file("bills_due", book)
    assert done.ok, done.problems
    due = read(book, "BillsDue")
    assert due["Description"].tolist() == ["Retainer for October 2026",
                                           "Retainer for November 2026"]
    assert due["Amount"].tolist() == [5000.0, 5000.0] and set(due["What"]) == {"scheduled"}
    assert "2 scheduled invoice(s)" in done.message


def test_a_row_without_its_due_date_says_so_in_words(book, small_ledger):
    put(book, [{"Matter": "RET", "Kind": "installment", "Amount": 5.0},
               {"Matter": "RET", "Kind": "retainer", "Amount": 5.0}])
    done = run_file("save_schedule", book)
    assert not done.ok
    reasons = sorted(p.reason for p in done.problems if p.column == "Due")
    assert reasons == ["a retainer needs the date it falls due",
                       "an installment needs the date it falls due"]
