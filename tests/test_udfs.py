"""The worksheet functions, called as Excel calls them, against the ledger's own figures.

Excel (through xlwings, with ``ndim=2``) sends every argument as a list of lists: blanks as
None, numbers as floats (``0.30000000000000004`` hours, ``1001.0`` for an id), dates as
datetimes or serial numbers. Every figure is compared, to the cent, with the public API's
batch path (``invoice_balances``, ``aging``, ``unapplied_cash``, ``trust_balances``) or the
view's documented point look-ups, on SQLite and PostgreSQL; the rule check of a range with
the same entries read from a workbook file through intake.
"""

from __future__ import annotations

import gc
import math
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from billxl import (
    AGING_BUCKETS,
    LedgerView,
    Reference,
    aging,
    check_entries,
    demo,
    deposit_trust,
    from_minor,
    import_file,
    invoice_balances,
    load_guidelines,
    read_entries,
    save_master_record,
    set_firm_settings,
    unapplied_cash,
)
from billxl.billing import prebill
from billxl.billing.invoicing import finalize
from billxl.excel import arguments, udfs
from billxl.excel.arguments import PREFIX
from billxl.excel.udfs import (
    BILLXL_AGING,
    BILLXL_BALANCE,
    BILLXL_CHECK,
    BILLXL_CREDIT,
    BILLXL_RATE,
    BILLXL_TRUST,
    BILLXL_UTBMS,
    BILLXL_WIP,
)
from billxl.monthend import EXAMPLE_GUIDELINES
from billxl.payments import demo_receipts, post_receipts
from billxl.reconcile import guidelines_for
from billxl.store import tables as t
from billxl.store.ledger import Ledger

from .conftest import postgres_url_or_skip

MONTH_END = date(2026, 10, 31)
AS_OF = date(2026, 11, 30)
EPOCH = date(1899, 12, 30)  # Excel's day 0 (serial 1 is 1900-01-01, with its leap-year bug)

EVERY_PREBILL = "the test bills every pre-bill of the demo month"


def serial(day: date) -> float:
    """A date as Excel sends it from a cell without a date format."""
    return float((day - EPOCH).days)


def column(values) -> list[list]:
    """Values as Excel sends a column: a list of one-cell rows."""
    return [[v] for v in values]


def money(minor: int, currency: str) -> float:
    return float(from_minor(minor, currency))


def is_error(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                               marks=pytest.mark.postgres)])
def books(request, tmp_path_factory):
    """The demo month imported, billed and paid, a trust deposit, the example guidelines; the
    ledger named by BILLXL_LEDGER, as a workbook without a Settings sheet would find it."""
    folder = tmp_path_factory.mktemp("udfs")
    url = f"sqlite:///{folder / 'ledger.db'}" if request.param == "sqlite" else postgres_url_or_skip()
    firm = demo.build_firm(entries=400, seed=11)
    paths = demo.write_exports(firm, folder)
    ledger = Ledger.create(url, firm=firm.firm, actor="test")
    demo.load_into(ledger, firm)
    import_file(ledger, paths["time"], "time", actor="test")
    import_file(ledger, paths["expenses"], "expenses", actor="test")
    view = LedgerView(ledger)
    wip_before = {m: view.wip(m) for m in ledger.matters()["matter_id"]}
    prebill.create_prebills(ledger, "2026-10", actor="test")
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.prebills).values(status="approved", approved_by="test",
                                                  approved_at=datetime.now(UTC)))
    # the demo's pre-bills as drafted (no partner's edits): some would be held for what their
    # clients' portals reject; these figures are of the month billed whole
    finalize(ledger, month="2026-10", invoice_date=date(2026, 11, 5), actor="test",
             override=EVERY_PREBILL)
    receipts, _bounced = demo_receipts(invoice_balances(ledger), "2026-11", seed=3,
                                       clients=ledger.clients())
    receipts.to_csv(folder / "receipts.csv", index=False)
    post_receipts(ledger, folder / "receipts.csv", actor="test")
    matter = ledger.matters()["matter_id"].iloc[0]
    deposit_trust(ledger, matter, "1000.00", reference="wire 1", on=date(2026, 11, 1))
    set_firm_settings(ledger, guidelines_dir=EXAMPLE_GUIDELINES, actor="test")
    save_master_record(ledger, "clients", {"client_id": "1001", "name": "Numbers Inc",
                                           "currency": "USD"}, actor="test")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("BILLXL_LEDGER", url)
    LedgerView.close_all()
    udfs._failed.clear()
    yield {"ledger": ledger, "url": url, "folder": folder, "time_file": paths["time"],
           "wip_before": wip_before, "trust_matter": matter}
    monkey.undo()
    LedgerView.close_all()
    ledger.dispose()


# ------------------------------------------------------------------------- money figures
def test_balances_of_every_invoice_and_client_are_the_ledgers_to_the_cent(books):
    ledger = books["ledger"]
    batch = invoice_balances(ledger, as_of=AS_OF)
    numbers = batch["number"].tolist()
    expected = [money(b, c) for b, c in zip(batch["balance_minor"], batch["currency"],
                                            strict=True)]
    assert any(e > 0 for e in expected) and any(e == 0 for e in expected)
    for as_of in ([[AS_OF]], [[datetime(2026, 11, 30)]], [[serial(AS_OF)]], [["2026-11-30"]]):
        got = BILLXL_BALANCE(column(numbers), as_of)
        assert got == column(expected)
    view = LedgerView.open(books["url"])
    clients = ledger.clients()["client_id"].tolist()
    currency = ledger.clients().set_index("client_id")["currency"]
    got = BILLXL_BALANCE(column(clients), [[AS_OF]])
    assert got == column([money(view.balance(c, AS_OF), currency[c]) for c in clients])
    # a client's balance is its invoices' (the batch path), to the cent
    by_client = batch.groupby("client_id")["balance_minor"].sum()
    for (value,), client in zip(got, clients, strict=True):
        assert value == money(int(by_client.get(client, 0)), currency[client])
    # today: as the ledger stands (nothing dated later than today in the demo)
    assert BILLXL_BALANCE(column(numbers)) == column(
        [money(b, c) for b, c in zip(invoice_balances(ledger)["balance_minor"],
                                     invoice_balances(ledger)["currency"], strict=True)])


def test_credit_trust_and_wip_are_the_ledgers_to_the_cent(books):
    ledger = books["ledger"]
    clients = ledger.clients()["client_id"].tolist()
    currency = ledger.clients().set_index("client_id")["currency"]
    held = unapplied_cash(ledger)
    held = held[held["status"] == "posted"].groupby("client_id")["unapplied_minor"].sum()
    assert held.sum() > 0
    assert BILLXL_CREDIT(column(clients)) == column(
        [money(int(held.get(c, 0)), currency[c]) for c in clients])

    matter = books["trust_matter"]
    owner = ledger.matters().set_index("matter_id")["client_id"][matter]
    assert BILLXL_TRUST([[matter, owner]]) == [[1000.0, 1000.0]]
    assert BILLXL_TRUST([[matter]], [[serial(MONTH_END)]]) == [[0.0]]  # deposited later

    # WIP on the month end is what the pre-bill valued (see test_view); billed now: nothing
    before = books["wip_before"]
    matters = list(before)
    matter_currency = ledger.matters().set_index("matter_id")["client_id"].map(currency)
    assert BILLXL_WIP(column(matters), [[MONTH_END]]) == column(
        [money(before[m], matter_currency[m]) for m in matters])
    # matters pre-billed in October have none left; a quarterly client's wait for December
    with ledger.engine.connect() as conn:
        billed = set(conn.execute(sa.select(t.prebills.c.matter_id)).scalars())
    assert billed and len(billed) < len(matters)
    assert BILLXL_WIP(column(matters)) == column(
        [0.0 if m in billed else money(before[m], matter_currency[m]) for m in matters])
    view = LedgerView.open(books["url"])
    hours = BILLXL_WIP(column(matters), [[MONTH_END]], [["Hours"]])
    assert hours == column([view.wip(m, MONTH_END, "hours") / 1000 for m in matters])
    assert sum(h for (h,) in hours) > 0


def test_a_figure_in_two_currencies_asks_for_the_currency(books):
    ledger = books["ledger"]
    view = LedgerView.open(books["url"])
    index = view.amounts("wip", MONTH_END)
    partner = next(p for p in view.ids("partner") if len(index[p]) > 1)
    cells = BILLXL_WIP([[partner]], [[MONTH_END]])
    assert is_error(cells[0][0]) and "name the currency" in cells[0][0]
    for cur, minor in index[partner].items():
        assert BILLXL_WIP([[partner]], [[MONTH_END]], None, [[cur.lower()]]) == [
            [money(minor, cur)]]
        assert minor == view.wip(partner, MONTH_END, currency=cur)
    # the partner's WIP in one currency is its matters' in that currency
    matters = ledger.matters()
    mine = matters[matters["billing_partner_id"] == partner]["matter_id"]
    cur = next(iter(index[partner]))
    total = sum(v.get(cur, 0) for m, v in index.items() if m in set(mine))
    assert total == index[partner][cur]


def test_aging_spills_a_header_and_a_row_per_client_equal_to_the_ar_aging(books):
    ledger = books["ledger"]
    clients = ledger.clients()["client_id"].tolist()
    cells = BILLXL_AGING(column(clients), [[AS_OF]])
    header, rows = cells[0], cells[1:]
    assert header[:2] == ["Client", "Currency"] and header[-1] == "Total"
    assert len(header) == len(AGING_BUCKETS) + 3 and len(rows) == len(clients)
    table = aging(ledger, AS_OF).set_index("client_id")
    view = LedgerView.open(books["url"])
    for client, row in zip(clients, rows, strict=True):
        assert row[0] == client
        buckets = view.aging(client, AS_OF)
        cur = row[1]
        assert row[2:-1] == [money(buckets[b], cur) for b in AGING_BUCKETS]
        expected = int(table["total"].get(client, 0)) if client in table.index else 0
        assert row[-1] == money(expected, cur)
    assert sum(r[-1] for r in rows) > 0
    single = BILLXL_AGING(clients[1], AS_OF)
    assert single == [header, rows[1]]
    other = "XYZ" if rows[1][1] != "XYZ" else "ABC"
    assert BILLXL_AGING(clients[1], AS_OF, other)[1][2:] == [0.0] * (len(header) - 2)
    bad = BILLXL_AGING([["NOPE"], [None], [clients[1]]], [[AS_OF]])
    assert is_error(bad[1][0]) and bad[1][1:] == [None] * (len(header) - 1)
    assert bad[2] == [None] * len(header) and bad[3] == rows[1]


def test_an_aging_in_two_currencies_asks_for_the_currency(books):
    view = LedgerView.open(books["url"])
    blank = [None] * (len(AGING_BUCKETS) + 3)
    zero = dict.fromkeys(AGING_BUCKETS, 0)
    index = {"C9": {"USD": {**zero, "current": 12345}, "EUR": {**zero, "1_30": 1}}}
    row = udfs._aging_row("C9", index, None, view, blank)
    assert row[0] == PREFIX + "C9 owes in EUR, USD: name the currency" and row[1:] == blank[1:]
    assert udfs._aging_row("C9", index, "USD", view, blank)[1:4] == ["USD", 123.45, 0.0]
    assert udfs._aging_row("C9", index, "EUR", view, blank)[-1] == 0.01


# ------------------------------------------------------------------------- rates and codes
def test_rates_from_a_range_equal_single_cells_and_the_rate_book(books):
    ledger = books["ledger"]
    view = LedgerView.open(books["url"])
    entries = ledger.time_entries().head(60)
    currency = view.matter_currencies()
    days = [d.date() for d in entries["work_date"]]
    # 60 distinct questions: the vectorised path; one cell at a time: the point path
    many = BILLXL_RATE(column(entries["timekeeper_id"]), column(entries["matter_id"]),
                       column(serial(d) for d in days))
    book = view.reference.rate_book
    expected = [book.billing(tk, m, d, currency[m]) for tk, m, d in
                zip(entries["timekeeper_id"], entries["matter_id"], days, strict=True)]
    assert any(e is not None for e in expected)
    for (got,), e, m in zip(many, expected, entries["matter_id"], strict=True):
        assert got == money(e, currency[m]) if e is not None else is_error(got)
    for (value,), tk, m, d in list(zip(many, entries["timekeeper_id"], entries["matter_id"],
                                       days, strict=True))[:20]:
        assert BILLXL_RATE([[tk]], [[m]], [[datetime.combine(d, datetime.min.time())]]) == [[value]]
    tk, m = entries["timekeeper_id"].iloc[0], entries["matter_id"].iloc[0]
    for kind in ("standard", "approved"):
        got = BILLXL_RATE(tk, m, days[0], kind.title())
        want = view.rate(tk, m, days[0], kind)
        assert got == (money(want, currency[m]) if want is not None else got)
        assert want is not None or is_error(got)
    # a row of timekeepers against a column of matters: a block
    tks = sorted(set(entries["timekeeper_id"]))[:3]
    matters = sorted(set(entries["matter_id"]))[:2]
    block = BILLXL_RATE([tks], column(matters), [[days[0]]])
    assert [[BILLXL_RATE(a, b, days[0]) for a in tks] for b in matters] == block


def test_utbms_names_and_unknown_codes():
    assert BILLXL_UTBMS("l110") == "Fact Investigation/Development"
    assert BILLXL_UTBMS([["E101", None], ["X999", 101.0]]) == [
        ["Copying", None], [PREFIX + "X999 is not a UTBMS code", PREFIX + "101 is not a UTBMS code"]]


# ------------------------------------------------------------------------- shapes and errors
def test_a_bad_cell_stays_in_its_cell_and_a_range_keeps_its_shape(books):
    ledger = books["ledger"]
    batch = invoice_balances(ledger, as_of=AS_OF)
    owed = batch[batch["balance_minor"] > 0].iloc[0]
    value = money(int(owed["balance_minor"]), owed["currency"])
    cells = [[owed["number"], "NOPE", None],
             [1001.0, True, owed["number"]]]
    got = BILLXL_BALANCE(cells, [[AS_OF, AS_OF, AS_OF], ["31/11/2026", AS_OF, 2958466.0 * 2]])
    assert got[0][0] == value and got[0][2] is None
    assert got[0][1] == PREFIX + "no invoice or client NOPE on 2026-11-30"
    assert got[1][0] == PREFIX + "'31/11/2026' is not a date (a date, a date serial or YYYY-MM-DD)"
    assert got[1][1] is None  # TRUE is no id: a blank
    assert got[1][2] == PREFIX + "'5916932' is not a date (a date, a date serial or YYYY-MM-DD)"
    # an id typed as a number is its digits: client "1001" exists (nothing owed)
    assert BILLXL_BALANCE([[1001.0]]) == [[0.0]]
    assert BILLXL_CREDIT(1001) == 0.0
    # one cell goes with a whole range; a row with a block as wide
    assert BILLXL_BALANCE([[owed["number"]]] * 3, AS_OF) == [[value]] * 3
    assert BILLXL_BALANCE([[owed["number"], owed["number"]]] * 2, [[AS_OF, serial(AS_OF)]]) == [
        [value, value]] * 2
    # ranges that do not fit: the reason in every cell of the first argument's shape
    wrong = BILLXL_BALANCE([[owed["number"]]] * 2, [[AS_OF]] * 3)
    assert wrong == PREFIX + "the ranges do not fit together (2x1 and 3x1 cells)"
    bad_measure = BILLXL_WIP([["x"], ["y"]], None, [["colour"], ["hours"]])
    assert "measured how" in bad_measure[0][0] and bad_measure[1][0] == (
        PREFIX + "no matter, client or billing partner y")
    # what Python callers pass: a scalar gives a scalar, a list a list
    assert BILLXL_BALANCE(owed["number"], AS_OF) == value
    assert BILLXL_BALANCE([owed["number"], "NOPE"], AS_OF)[0] == value
    assert BILLXL_TRUST(ledger.matters()["billing_partner_id"].iloc[0]).startswith(
        PREFIX + "no matter or client")


def test_single_cells_and_ranges_agree_for_every_figure(books):
    ledger = books["ledger"]
    numbers = invoice_balances(ledger)["number"].tolist()[:8]
    clients = ledger.clients()["client_id"].tolist()[:8]
    matters = ledger.matters()["matter_id"].tolist()[:8]
    for function, keys in ((BILLXL_BALANCE, numbers + clients), (BILLXL_CREDIT, clients),
                           (BILLXL_TRUST, matters + clients), (BILLXL_WIP, matters + clients)):
        whole = function(column(keys + ["NOPE"]), [[MONTH_END]])
        assert whole == [[function([[k]], [[MONTH_END]])[0][0]] for k in keys + ["NOPE"]]
        assert whole == column(function(k, MONTH_END) for k in keys + ["NOPE"])


def test_no_ledger_means_a_reason_in_every_cell_and_no_file_left_behind(books, monkeypatch,
                                                                        tmp_path):
    monkeypatch.setenv("BILLXL_LEDGER", str(tmp_path / "missing.db"))
    got = BILLXL_BALANCE([["000001"], ["000002"]])
    assert got[0] == got[1] and got[0][0].startswith(PREFIX + "there is no ledger file")
    assert not (tmp_path / "missing.db").exists()
    assert BILLXL_CHECK([["entry_id"], ["1"]])[0][0].startswith(PREFIX)
    assert BILLXL_UTBMS("L110") == "Fact Investigation/Development"  # needs no ledger
    assert gc.isenabled()  # paused during each call only, failed or not


# ------------------------------------------------------------------------- the ledger
class FakeRange:
    def __init__(self, cells):
        self.value = cells

    def options(self, ndim=None):
        return self


class FakeSheet:
    def __init__(self, cells):
        self.used_range = FakeRange(cells)


class FakeBook:
    """What the functions touch of ``caller.sheet.book`` in live Excel."""

    def __init__(self, fullname, sheets):
        self.fullname = fullname
        self.sheets = sheets


class FakeCaller:
    def __init__(self, book):
        self.sheet = type("Sheet", (), {"book": book})()


def settings_cells(ledger_value) -> list[list]:
    """The Settings sheet as the billing workbook lays it out (title, hint, table)."""
    return [["Settings", None, None], ["Where the ledger is ...", None, None],
            ["Setting", "Value", "Meaning"], ["Ledger", ledger_value, "The ledger ..."],
            ["User", "Jane", "Your name"]]


def test_the_workbooks_settings_sheet_names_the_ledger(books, monkeypatch, tmp_path):
    ledger = books["ledger"]
    number = invoice_balances(ledger)["number"].iloc[3]
    expected = BILLXL_BALANCE(number)
    monkeypatch.setenv("BILLXL_LEDGER", str(tmp_path / "elsewhere.db"))  # not this one
    assert BILLXL_BALANCE(number).startswith(PREFIX + "there is no ledger file")
    if books["url"].startswith("sqlite"):  # a relative path: beside the workbook
        folder, name = books["folder"], "ledger.db"
    else:
        folder, name = tmp_path, books["url"]
    caller = FakeCaller(FakeBook(str(folder / "billing.xlsm"),
                                 {"Settings": FakeSheet(settings_cells(name))}))
    assert BILLXL_BALANCE(number, caller=caller) == expected
    assert BILLXL_WIP([[None]], caller=caller) == [[None]]
    # a workbook without a Settings sheet uses BILLXL_LEDGER
    bare = FakeCaller(FakeBook(str(tmp_path / "other.xlsx"), {}))
    assert BILLXL_BALANCE(number, caller=bare).startswith(PREFIX + "there is no ledger file")
    assert udfs.settings_ledger(settings_cells(None)) is None
    assert udfs.settings_ledger(settings_cells("/abs/l.db"), Path("/books")) == "/abs/l.db"
    assert udfs.settings_ledger(settings_cells("l.db"), Path("/books")) == "/books/l.db"
    assert udfs.settings_ledger([["ledger_url", "postgresql://h/db"]]) == "postgresql://h/db"


# ------------------------------------------------------------------------- the check
def excel_rows(path) -> list[list]:
    """A workbook's first sheet as Excel sends a range: blanks None, numbers floats."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [[None if c == "" else (float(c) if type(c) is int else c) for c in r] for r in rows]


def planted(rows: list[list]) -> list[list]:
    """The demo's entries with what a secretary's range holds: a typo in the hours, hours
    summed in a formula (0.1 + 0.2), an id typed as a number, a serial date, a blank row, an
    entry id twice."""
    out = [list(r) for r in rows]
    col = {h: i for i, h in enumerate(out[0])}
    out[3][col["hours"]] = "abc"
    out[4][col["hours"]] = 0.1 + 0.2  # 0.30000000000000004
    rate = out[4][col["rate"]]
    out[4][col["amount"]] = float(Decimal("0.3") * Decimal(str(rate)))
    out[5][col["entry_id"]] = 1001.0
    out[6][col["date"]] = serial(out[6][col["date"]])
    out[7] = [None] * len(out[0])
    out[9][col["entry_id"]] = out[8][col["entry_id"]]
    out[10][col["rate"]] = -5.0
    return out


def file_findings(rows: list[list], path: Path, reference: Reference, **guidelines) -> dict:
    """The same entries written to a workbook and checked the way intake and reconcile do:
    rules per entry id for the rows intake reads without a problem."""
    book = openpyxl.Workbook()
    for r in rows:
        book.active.append(r)
    book.save(path)
    checked = read_entries(path, "time", reference=reference, refuse=False)
    bad_rows = {p.row for p in checked.problems}
    frame = checked.frames["time"]
    frame = frame[~frame["row"].isin(bad_rows)]
    found = check_entries(frame, context=reference, **guidelines).findings
    return {entry: found[found["entry_id"] == entry]["rule"].tolist()
            for entry in frame["entry_id"]}


def test_check_spills_one_row_per_entry_as_intake_and_the_rules_see_them(books, tmp_path):
    ledger = books["ledger"]
    rows = planted(excel_rows(books["time_file"]))
    out = BILLXL_CHECK(rows)
    assert out[0] == udfs.CHECK_COLUMNS and len(out) == len(rows)
    reference = Reference.from_ledger(ledger)
    by_client = guidelines_for(reference.clients, None, setting=str(EXAMPLE_GUIDELINES))
    expected = file_findings(rows, tmp_path / "entries.xlsx", reference,
                             guidelines_by_client=by_client)
    compared = 0
    for row in out[1:]:
        entry, severity, rules, count, message = row
        if entry in expected:
            assert (rules.split(", ") if rules else []) == list(dict.fromkeys(expected[entry]))
            assert count == len(expected[entry])
            assert (severity == "ok") == (count == 0) and (message == "") == (count == 0)
            compared += 1
    assert compared >= len(rows) - 12 and sum(1 for r in out[1:] if r[1] == "error") > 5
    assert out[3][1:3] == ["error", "ROW_UNREADABLE"] and "'abc' is not a number" in out[3][4]
    assert out[4][0] == rows[4][0] and "AMOUNT_MISMATCH" not in out[4][2]  # 0.3 hours exactly
    assert out[5][0] == "1001"
    assert out[7] == [None] * 5
    assert out[9][2] == "ROW_UNREADABLE" and "more than once" in out[9][4]
    assert out[8][2].startswith("ROW_UNREADABLE")
    assert "INVALID_VALUE" in out[10][2] and out[10][1] == "error"  # read, not allowed
    assert out[10][0] in expected or out[10][3] > 1  # and still checked by the rules


def test_check_with_a_named_guideline_set_and_the_workbooks_own_headers(books, tmp_path):
    ledger = books["ledger"]
    rows = excel_rows(books["time_file"])[:120]
    strict = BILLXL_CHECK(rows, "strict-insurer")
    reference = Reference.from_ledger(ledger)
    expected = file_findings(rows, tmp_path / "entries.xlsx", reference,
                             guidelines=load_guidelines(EXAMPLE_GUIDELINES / "strict-insurer.yaml"))
    assert {r[0]: r[3] for r in strict[1:]} == {e: len(v) for e, v in expected.items()}
    assert strict != BILLXL_CHECK(rows)  # the clients' own sets are not all strict
    assert BILLXL_CHECK(rows, [[str(EXAMPLE_GUIDELINES / "strict-insurer.yaml")]]) == strict
    # the billing workbook's Time entries table: its headers, in another order
    from billxl.excel import layout

    headers = {c.field: c.header for c in layout.table("TimeEntries").columns}
    shown = [[headers.get(h, h) for h in rows[0]], *rows[1:]]
    order = list(reversed(range(len(rows[0]))))
    assert BILLXL_CHECK([[r[i] for i in order] for r in shown], "strict-insurer") == strict
    # what cannot be checked at all: one cell that says why
    no_hours = [[c for c, h in zip(r, rows[0], strict=True) if h != "hours"] for r in rows]
    said = BILLXL_CHECK(no_hours)
    assert len(said) == 1 and "'hours' is missing" in said[0][0]
    assert BILLXL_CHECK(rows, "no-such-set")[0][0] == (
        PREFIX + f"no guideline set or file no-such-set in {EXAMPLE_GUIDELINES}")
    assert BILLXL_CHECK([[None, None]])[0][0].startswith(PREFIX + "the range's first row")
    assert BILLXL_CHECK(rows[:1]) == [udfs.CHECK_COLUMNS]


# ------------------------------------------------------------------------- what Excel sends
def test_values_as_excel_sends_them_become_exact():
    cells = np.array([0.1 + 0.2, 1.2345, "1,250.5", None, "x", 1e13, 7.0], dtype=object)
    assert arguments.exact(cells, 3) == [Decimal("0.3"), "'1.2345' has more than 3 decimal "
                                         "places", Decimal("1250.5"), None,
                                         "'x' is not a number", "'10000000000000' is too large",
                                         Decimal("7")]
    assert arguments.exact(np.array([19.99 * 3], dtype=object), 2) == [Decimal("59.97")]
    assert arguments.ids(np.array([1001.0, " C0001 ", 7, "", None, True, 1.5], dtype=object)) \
        == ["1001", "C0001", "7", None, None, None, "1.5"]
    assert arguments.words(np.array(["Billing", " usd "], dtype=object), upper=True) == [
        "BILLING", "USD"]
    day = date(2026, 10, 31)
    got = arguments.days(np.array([serial(day), serial(day) + 0.75, day, datetime(2026, 10, 31, 9),
                                   "2026-10-31", None, "31/10/2026", 1e9, True], dtype=object))
    assert got[:6] == [day, day, day, day, day, None]
    assert all(isinstance(g, str) for g in got[6:])
    # serial numbers match xlwings' own conversion
    import xlwings

    assert xlwings.to_datetime(serial(day)).date() == day


def test_money_as_a_double_is_the_decimal_nearest_the_minor_units():
    rng = random.Random(7)
    minor = [rng.randrange(-10**13, 10**13) for _ in range(5000)] + [1, 5, 10, 30, 45, 2**53 - 1]
    for digits in (0, 2, 3):
        got = arguments.major_units(np.array(minor), digits).tolist()
        assert got == [float(Decimal(m).scaleb(-digits)) for m in minor]
    assert arguments.major_units(np.array([30000, 1]), np.array([3, 2])).tolist() == [30.0, 0.01]
    assert math.isclose(arguments.major_units(np.array([10]), 2)[0], 0.1)


def test_shapes_broadcast_as_numpy_does():
    grids, shape, rank = arguments.fit([[1], [2]], [[3, 4]], 5)
    assert rank == 2 and shape == (2, 2) and [g.shape for g in grids] == [(2, 1), (1, 2), (1, 1)]
    assert [arguments.spread(g.ravel().tolist(), g, shape) for g in grids] == [
        [1, 1, 2, 2], [3, 4, 3, 4], [5, 5, 5, 5]]
    assert arguments.shaped([1, 2, 3, 4], shape, rank) == [[1, 2], [3, 4]]
    assert arguments.fit("a")[2] == 0 and arguments.fit(["a", "b"])[2] == 1
    with pytest.raises(ValueError, match="do not fit"):
        arguments.fit([[1], [2]], [[1], [2], [3]])
    assert arguments.grid([[1, 2], [3]])[0].tolist() == [[1, 2], [3, None]]  # ragged: padded
    assert arguments.error_text("a\n  b" + "x" * 300).startswith(PREFIX + "a b")
    assert len(arguments.error_text("x" * 300)) == 255


def test_every_function_is_listed_with_help_for_each_argument():
    names = [f.__name__ for f in udfs.FUNCTIONS]
    assert names == ["BILLXL_RATE", "BILLXL_WIP", "BILLXL_BALANCE", "BILLXL_CREDIT",
                     "BILLXL_TRUST", "BILLXL_AGING", "BILLXL_CHECK", "BILLXL_SCHEDULE",
                     "BILLXL_UTBMS"]
    for f in udfs.FUNCTIONS:
        params = [p for p in f.__code__.co_varnames[:f.__code__.co_argcount] if p != "caller"]
        assert list(f.arg_docs) == params
        assert all(0 < len(doc) <= 255 for doc in f.arg_docs.values())
        assert f.__doc__ and len(f.__doc__) <= 255
    with pytest.raises(TypeError, match="help for"):
        udfs._udf(a="x")(lambda a, b: None)
    assert udfs.FUNCTIONS[-1] is BILLXL_UTBMS  # the failed registration added nothing


def test_a_serial_date_as_of_is_a_day(books):
    ledger = books["ledger"]
    number = invoice_balances(ledger)["number"].iloc[5]
    for offset in (0, 1, 20):
        day = date(2026, 11, 5) + timedelta(days=offset)
        assert BILLXL_BALANCE(number, serial(day)) == BILLXL_BALANCE(number, day)
