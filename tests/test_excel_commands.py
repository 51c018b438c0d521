"""The Billing ribbon's commands: every button run headless on the billing workbook filled from
the demo firm (its sheets checked against the ledger's figures, to the cent), the same
functions driven through the xlwings adapter by a double that records the xlwings calls (the one
place a double is acceptable: no Excel runs here), and bad input shown in the workbook.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table as SheetTable

import billxl
from billxl import from_minor
from billxl.excel import commands, layout
from billxl.excel.book import FileBook
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.conftest import postgres_url_or_skip

REPO = Path(__file__).resolve().parents[1]
BUILT = REPO / "workbooks" / "billxl-billing.xlsm"
XLWINGS_ADDIN = Path(__import__("xlwings").__file__).parent / "addin" / "xlwings.xlam"
MONTH = "2026-10"
AS_OF = "2026-11-30"

TIME, PAY = layout.table("TimeEntries"), layout.table("Payments")


# ----------------------------------------------------------------------------- the workbook
def _minimal_workbook(path: Path) -> Path:
    """The layout's sheets and tables, built with openpyxl (until the built workbook lands)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in layout.SHEETS:
        ws = wb.create_sheet(sheet.name)
        if sheet.name == "xlwings.conf":
            for i, (key, value) in enumerate(layout.XLWINGS_CONF, start=1):
                ws.cell(i, 1, key)
                ws.cell(i, 2, value)
            continue
        ws.cell(1, 1, sheet.title)
        col = 1
        for name in sheet.tables:
            spec = layout.table(name)
            for j, c in enumerate(spec.columns):
                ws.cell(layout.HEADER_ROW, col + j, c.header)
            last = get_column_letter(col + len(spec.columns) - 1)
            ws.add_table(SheetTable(displayName=name, ref=f"{get_column_letter(col)}"
                                    f"{layout.HEADER_ROW}:{last}{layout.HEADER_ROW + 1}"))
            col += len(spec.columns) + 1
    wb.save(path)
    book = FileBook(path)
    book.write_table("Settings", pd.DataFrame({
        "Setting": [s.label for s in layout.SETTINGS], "Value": [s.default for s in layout.SETTINGS],
        "Meaning": [s.meaning for s in layout.SETTINGS]}))
    book.save()
    return path


def fresh_workbook(folder: Path) -> Path:
    """A copy of the billing workbook (the built one once it exists) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if BUILT.exists():
        return Path(shutil.copyfile(BUILT, folder / BUILT.name))
    return _minimal_workbook(folder / "billxl-billing.xlsx")


def set_settings(path: Path, **values) -> None:
    book = FileBook(path)
    frame = book.read_table("Settings")
    for key, value in values.items():
        label = layout.setting(key).label
        assert (frame["Setting"] == label).any(), label
        frame.loc[frame["Setting"] == label, "Value"] = value
    book.write_table("Settings", frame)
    book.save()


def put_rows(path: Path, table: str, frame: pd.DataFrame) -> None:
    book = FileBook(path)
    book.write_table(table, frame)
    book.save()


def read(path: Path, table: str) -> pd.DataFrame:
    return FileBook(path).read_table(table)


def cents(value) -> Decimal:
    """A money cell back as exact cents (Excel holds doubles; two places are exact enough)."""
    return Decimal(repr(float(value))).quantize(Decimal("0.01"))


# ----------------------------------------------------------------------------- the demo firm
@pytest.fixture(scope="module")
def firm(tmp_path_factory):
    """The demo firm (600 entries) and its month's exports, before anything is imported."""
    from billxl import demo

    folder = tmp_path_factory.mktemp("firm")
    built = demo.build_firm(entries=600)
    exports = demo.write_exports(built, folder / "exports")
    return built, exports


def new_ledger(firm, url: str, *, guidelines: bool = True) -> str:
    from billxl import demo, set_firm_settings
    from billxl.monthend import EXAMPLE_GUIDELINES

    built, _ = firm
    ledger = Ledger.create(url, firm=built.firm, actor="test")
    demo.load_into(ledger, built)
    if guidelines:
        set_firm_settings(ledger, guidelines_dir=EXAMPLE_GUIDELINES, actor="test")
    ledger.dispose()
    return url


class Cycle:
    """Every command run headless, in the ribbon's order, on one workbook and one ledger."""

    def __init__(self, folder: Path, url: str, firm):
        self.folder, self.url, self.firm = folder, url, firm
        self.path = fresh_workbook(folder / "book")
        self.done: dict[str, commands.Done] = {}
        self.snapshots: dict[str, Path] = {}
        self.ledger_had: dict[str, dict[str, pd.DataFrame]] = {}

    def run(self, command: str, step: str | None = None, **reads) -> commands.Done:
        """Run a command; keep the workbook as it then is, and what the ledger then held
        (``reads``: name -> a function of the ledger), for the tests to compare."""
        done = commands.run_file(command, self.path)
        step = step or command
        assert done.ok, (step, done.message, done.problems[:5])
        assert read(self.path, "Problems").empty, step
        self.done[step] = done
        self.snapshots[step] = Path(shutil.copyfile(self.path,
                                                    self.folder / f"{step}{self.path.suffix}"))
        ledger = self.ledger()
        try:
            self.ledger_had[step] = {name: get(ledger) for name, get in reads.items()}
        finally:
            ledger.dispose()
        return done

    def ledger(self) -> Ledger:
        return Ledger.open(self.url)


def _schedule_shown(firm) -> pd.DataFrame:
    """A Schedules row with only a matter: the demo's fixed fee in installments, to show."""
    from billxl import demo

    plans = demo.billing_plans(firm[0])
    return pd.DataFrame({layout.table("Schedules").header_of("matter_id"): [plans.installments]})


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cycle(request, firm, tmp_path_factory) -> Cycle:
    from billxl import invoice_balances, payments
    from billxl.excel.demo_files import review_prebill

    folder = tmp_path_factory.mktemp(f"cycle-{request.param}")
    url = str(folder / "billxl.db") if request.param == "sqlite" else postgres_url_or_skip()
    new_ledger(firm, url)
    c = Cycle(folder, url, firm)
    _, exports = firm
    set_settings(c.path, ledger_url=url, user="test.secretary", month=MONTH,
                 time_file=str(exports["time"]), as_of=AS_OF)
    c.run("import_time")
    set_settings(c.path, time_file=str(exports["expenses"]))
    c.run("import_time", "import_expenses")
    set_settings(c.path, time_file=str(exports["time"]))
    c.run("check")
    c.run("reconcile", findings=lambda led: billxl.list_findings(led, status="open"),
          entries=lambda led: led.read_frame(t.time_entries.select()))
    put_rows(c.path, "Schedules", _schedule_shown(firm))  # the secretary looks at one
    c.run("save_schedule")
    c.run("bills_due")
    prebills = {"prebills": lambda led: led.read_frame(t.prebills.select())}
    register = {"register": lambda led: billxl.list_invoices(led, month=MONTH)}
    c.run("build_prebills", **prebills)
    for name in sorted(set(read(c.path, "Prebills")["Workbook"])):  # each partner's review
        review_prebill(Path(name), dt.date(2026, 11, 3))
    c.run("apply_prebill_edits", **prebills)
    c.run("finalize", **register)
    listed = read(c.path, "Invoices")
    put_rows(c.path, "Invoices", listed.head(2))  # the secretary keeps the two to print
    c.run("render_documents")
    c.run("export_ledes", **register, submissions=billxl.list_submissions,
          clients=lambda led: led.read_frame(t.clients.select()))
    ledger = c.ledger()
    receipts, _bounced = payments.demo_receipts(invoice_balances(ledger), "2026-11", seed=202611)
    ledger.dispose()
    put_rows(c.path, "Payments", pd.DataFrame({PAY.header_of(k): receipts[k] for k in receipts}))
    c.receipts = receipts
    c.run("post_payments", **register)
    c.run("refresh_ar", aging=lambda led: billxl.aging(led, AS_OF),
          all_invoices=billxl.list_invoices)
    c.run("month_end_pack", **register, findings=lambda led: billxl.list_findings(led, status="open"))
    return c


# ----------------------------------------------------------------------------- the cycle
def test_the_schedules_and_bills_due_before_the_pre_bills(cycle, firm):
    from billxl import demo

    plans = demo.billing_plans(firm[0])
    shown = read(cycle.snapshots["save_schedule"], "Schedules")
    assert shown["Description"].tolist() == [f"Installment {i} of 3" for i in (1, 2, 3)]
    assert set(shown["Status"]) == {"planned"}
    due = read(cycle.snapshots["bills_due"], "BillsDue")
    scheduled = due[due["What"] == "scheduled"]
    assert plans.installments in set(scheduled["Matter"]) and plans.retainer in set(
        scheduled["Matter"])
    quarterly = set(firm[0].reference["matters"].query(
        f"client_id == '{plans.quarterly_client}'")["matter_id"])
    assert len(due[due["What"] == "cycle"]) > 5 and not quarterly & set(due["Matter"])
    assert cycle.done["bills_due"].message.startswith("Due to bill on 2026-10-31")


def test_import_time_brings_the_export_into_the_ledger_and_fills_the_lists(cycle):
    ledger = cycle.ledger()
    try:
        assert ledger.count(t.time_entries) == 600
        assert ledger.count(t.expenses) == 30
        clients = sorted(ledger.read_frame(t.clients.select())["client_id"])
        matters = sorted(ledger.read_frame(t.matters.select())["matter_id"])
    finally:
        ledger.dispose()
    assert "600 new" in cycle.done["import_time"].message
    assert "30 new" in cycle.done["import_expenses"].message
    snap = cycle.snapshots["import_time"]
    assert list(read(snap, "ListClients")["Client"]) == clients
    assert list(read(snap, "ListMatters")["Matter"]) == matters
    status = openpyxl.load_workbook(snap)[layout.STATUS_CELL[0]][layout.STATUS_CELL[1]].value
    assert status.startswith("Import time: Imported 600 row(s)")


def test_check_lists_every_finding_of_the_file_with_its_row(cycle, firm):
    _, exports = firm
    expected = billxl.check_file(exports["time"], period=billxl.month_range(MONTH)).findings
    shown = read(cycle.snapshots["check"], "Exceptions")
    assert len(shown) == len(expected) > 0
    got = sorted(zip(shown["Rule"], shown["Row"].astype(int), shown["Entry id"], strict=True))
    want = sorted(zip(expected["rule"], expected["row"].astype(int), expected["entry_id"],
                      strict=True))
    assert got == want
    assert list(shown["Severity"].map({"error": 0, "warning": 1, "info": 2})) == sorted(
        shown["Severity"].map({"error": 0, "warning": 1, "info": 2}))  # errors first


def test_reconcile_shows_the_ledgers_open_findings_with_exact_amounts(cycle):
    had = cycle.ledger_had["reconcile"]
    open_, entries = had["findings"], had["entries"]
    shown = read(cycle.snapshots["reconcile"], "Exceptions")
    assert sorted(shown["Finding id"].astype(int)) == sorted(open_["finding_id"].astype(int))
    assert (shown["Severity"] == "error").sum() == (open_["severity"] == "error").sum()
    amounts = entries.set_index("entry_id")
    for rec in shown[shown["Entry id"].isin(amounts.index)].to_dict("records"):
        entry = amounts.loc[rec["Entry id"]]
        assert cents(rec["Amount"]) == from_minor(int(entry["amount_minor"]), rec["Currency"])
        assert Decimal(repr(rec["Hours"])) == Decimal(int(entry["hours_milli"])).scaleb(-3)
    assert "error(s)" in cycle.done["reconcile"].message and cycle.done["reconcile"].attention


def test_build_prebills_lists_each_matter_and_each_partners_workbook(cycle):
    shown = read(cycle.snapshots["build_prebills"], "Prebills")
    stored = cycle.ledger_had["build_prebills"]["prebills"]
    assert sorted(shown["Pre-bill"].astype(int)) == sorted(stored["prebill_pk"].astype(int))
    assert set(shown["Status"]) == {"draft"}
    for name in set(shown["Workbook"]):
        assert Path(name).is_file() and Path(name).name.startswith(f"prebill_{MONTH}_")
    assert shown["Lines"].sum() > 0 and (shown["Hours"] > 0).all()


def test_apply_prebill_edits_approves_what_the_partners_signed(cycle):
    shown = read(cycle.snapshots["apply_prebill_edits"], "Prebills")
    stored = cycle.ledger_had["apply_prebill_edits"]["prebills"].set_index("prebill_pk")
    assert set(shown["Status"]) == {"approved"}
    for pk, status in zip(shown["Pre-bill"].astype(int), shown["Status"], strict=True):
        assert stored.loc[pk, "status"] == status
    assert "approved" in cycle.done["apply_prebill_edits"].message
    assert shown["Workbook"].map(lambda p: Path(p).is_file()).all()  # still named


def test_finalize_lists_the_invoices_to_the_cent(cycle):
    shown = read(cycle.snapshots["finalize"], "Invoices").set_index("Invoice")
    register = cycle.ledger_had["finalize"]["register"].set_index("number")
    assert sorted(shown.index) == sorted(register.index)
    for number, inv in register.iterrows():
        for header, column in (("Fees", "fees_minor"), ("Expenses", "expenses_minor"),
                               ("Tax", "tax_minor"), ("Total", "total_minor"),
                               ("Balance", "balance_minor")):
            assert cents(shown.loc[number, header]) == from_minor(int(inv[column]), inv["currency"])
    for currency, block in register.groupby("currency"):
        total = sum(cents(v) for v in shown.loc[block.index, "Total"])
        assert total == from_minor(int(block["total_minor"].sum()), currency)
        assert f"{total:,.2f} {currency}" in cycle.done["finalize"].message


def test_render_documents_prints_the_invoices_listed(cycle):
    shown = read(cycle.snapshots["render_documents"], "Invoices")
    chosen = list(read(cycle.snapshots["finalize"], "Invoices")["Invoice"].head(2))
    with_document = shown[shown["Document"].notna() & (shown["Document"] != "")]
    assert sorted(with_document["Invoice"]) == sorted(chosen)
    for path in with_document["Document"]:
        assert Path(path).is_file() and Path(path).read_bytes()[:4] == b"%PDF"
    assert len(shown) == len(read(cycle.snapshots["finalize"], "Invoices"))  # all still listed


def test_export_ledes_shows_each_submission_or_why_it_is_held_back(cycle):
    shown = read(cycle.snapshots["export_ledes"], "Submissions")
    had = cycle.ledger_had["export_ledes"]
    register, subs = had["register"], had["submissions"]
    portals = had["clients"].set_index("client_id")["ebilling_portal"]
    billed_by_portal = register[register["client_id"].map(portals).fillna("").astype(str) != ""]
    assert sorted(shown["Invoice"]) == sorted(billed_by_portal["number"])  # every one, once
    submitted = shown[shown["Status"] == "submitted"]
    assert sorted(submitted["Invoice"]) == sorted(subs["invoice"])
    held = shown[shown["Status"] == "held back"]
    assert (held["Why"].str.len() > 0).all()
    for path in submitted["File"]:
        assert Path(path).is_file()


def test_post_payments_shows_each_receipts_allocation(cycle):
    shown = read(cycle.snapshots["post_payments"], "Payments")
    register = cycle.ledger_had["post_payments"]["register"]
    assert sorted(shown["Receipt id"]) == sorted(cycle.receipts["receipt_id"])
    assert shown["Status"].notna().all()
    paid = shown[shown["Status"] == "posted"]
    for currency, block in register.groupby("currency"):
        applied = sum((cents(v) for v in paid.loc[paid["Currency"] == currency, "Applied"]),
                      Decimal(0))
        assert applied == from_minor(int(block["paid_minor"].sum()), currency)
    unmatched = shown[shown["Status"].str.startswith("unmatched")]
    assert len(unmatched) >= 1 and (unmatched["Applied"] == 0).all()
    named = paid[paid["Remittance"].fillna("").str.contains("invoice")]
    for remittance, invoices in zip(named["Remittance"], named["Invoices"], strict=True):
        assert remittance.split()[-1] in invoices
    # posted rows keep their Status, so the button now posts nothing new and says so
    again = commands.run_file("post_payments", cycle.snapshots["post_payments"],
                              out=cycle.folder / "again.xlsx")
    assert again.refused == "input" and "already" in again.message


def test_refresh_ar_is_the_ledgers_aging_to_the_cent(cycle):
    shown = read(cycle.snapshots["refresh_ar"], "Aging").set_index("Client")
    had = cycle.ledger_had["refresh_ar"]
    table, register = had["aging"].set_index("client_id"), had["all_invoices"]
    assert sorted(shown.index) == sorted(table.index) and len(table) > 0
    for client, row in table.iterrows():
        for header, column in (("Current", "current"), ("1-30", "1_30"), ("Total", "total"),
                               ("Net due", "net")):
            assert cents(shown.loc[client, header]) == from_minor(int(row[column]), row["currency"])
    owed = register[register["balance_minor"] > 0].groupby("currency")["balance_minor"].sum()
    for currency, minor in owed.items():
        total = sum(cents(v) for v in shown.loc[shown["Currency"] == currency, "Total"])
        assert total == from_minor(int(minor), currency)


def test_month_end_pack_figures_and_files(cycle):
    shown = read(cycle.snapshots["month_end_pack"], "MonthEnd")
    register = cycle.ledger_had["month_end_pack"]["register"]
    invoiced = shown[shown["Figure"] == f"Invoiced in {MONTH}"].set_index("Currency")
    for currency, block in register[register["kind"] == "invoice"].groupby("currency"):
        assert cents(invoiced.loc[currency, "Amount"]) == from_minor(
            int(block["total_minor"].sum()), currency)
    findings = shown[shown["Figure"].str.startswith("Open findings")]
    open_now = cycle.ledger_had["month_end_pack"]["findings"]
    assert findings["Days or count"].tolist() == [len(open_now)]  # a count, not an amount
    assert findings["Amount"].isna().all()
    files = {Path(p) for p in shown["File"] if p}
    assert {p.suffix for p in files} == {".xlsx", ".csv"}
    assert all(p.is_file() for p in files)
    assert f"Owed at {AS_OF}" in set(shown["Figure"])


def test_every_step_keeps_the_workbooks_ribbon_and_vba(cycle):
    with zipfile.ZipFile(cycle.snapshots["month_end_pack"]) as after, \
            zipfile.ZipFile(fresh_workbook(cycle.folder / "pristine")) as before:
        for name in before.namelist():
            if name.startswith(("customUI/", "xl/vbaProject")):
                assert after.read(name) == before.read(name), name
        rels = after.read("_rels/.rels").decode()
        if any(n.startswith("customUI/") for n in before.namelist()):
            assert "/ui/extensibility" in rels


# ----------------------------------------------------------------------------- bad input
@pytest.fixture
def small(firm, tmp_path) -> Path:
    """A fresh ledger of the demo firm (nothing imported) and a workbook pointing at it."""
    url = new_ledger(firm, str(tmp_path / "billxl.db"))
    path = fresh_workbook(tmp_path / "book")
    set_settings(path, ledger_url=url, month=MONTH, user="test.secretary")
    return path


def typed_entries(firm, n: int = 4) -> pd.DataFrame:
    _, exports = firm
    rows = pd.read_excel(exports["time"], dtype=object, engine="openpyxl").head(n)
    return pd.DataFrame({c.header: rows[c.field] for c in TIME.columns if c.field in rows})


def test_typed_rows_import_and_formula_like_narratives_stay_text(small, firm):
    rows = typed_entries(firm)
    narrative = TIME.header_of("narrative")
    rows.loc[0, narrative] = "=HYPERLINK(\"http://x\") review of the contract"
    rows.loc[1, narrative] = "@mention: call with client"
    put_rows(small, "TimeEntries", rows)
    done = commands.run_file("import_time", small)
    assert done.ok and "4 new" in done.message, done.message
    ledger = Ledger.open(Path(small).parent.parent / "billxl.db")
    try:
        stored = ledger.read_frame(t.time_entries.select()).set_index("entry_id")
    finally:
        ledger.dispose()
    assert stored.loc[rows.loc[0, TIME.header_of("entry_id")], "narrative"] == rows.loc[0, narrative]
    wb = openpyxl.load_workbook(small)
    ws = wb[TIME.sheet]
    col = TIME.headers.index(narrative) + 1
    first = ws.cell(layout.HEADER_ROW + 1, col)
    assert first.value == rows.loc[0, narrative] and first.data_type == "s" and first.quotePrefix
    assert ws.cell(layout.HEADER_ROW + 3, col).quotePrefix is False  # plain text: no prefix
    assert set(read(small, "TimeEntries")["Status"]) == {"imported"}
    again = commands.run_file("import_time", small)
    assert "0 new" in again.message and "4 already in the ledger" in again.message


def test_a_bad_typed_row_is_named_by_its_sheet_row_and_nothing_is_imported(small, firm):
    rows = typed_entries(firm)
    rows.loc[1, TIME.header_of("date")] = "31/02/2026"
    rows.loc[3, TIME.header_of("matter_id")] = "C9999-0001"
    put_rows(small, "TimeEntries", rows)
    done = commands.run_file("import_time", small)
    assert done.refused == "input" and "nothing was changed" in done.message
    problems = read(small, "Problems")
    first = layout.HEADER_ROW + 1
    where = set(zip(problems["Sheet"], problems["Row"].astype(int), problems["Column"],
                    strict=True))
    assert ("Time entries", first + 1, "Date") in where
    assert ("Time entries", first + 3, "Matter") in where
    assert set(problems["File"]) == {Path(small).name}  # not the scratch file
    assert set(problems["Command"]) == {"Import time"}
    assert read(small, "TimeEntries")["Status"].isna().all()  # nothing half-written
    ledger = Ledger.open(Path(small).parent.parent / "billxl.db")
    try:
        assert ledger.count(t.time_entries) == 0
    finally:
        ledger.dispose()
    # the same rows through Check: findings instead of a refusal, on their rows
    checked = commands.run_file("check", small)
    assert checked.ok and checked.attention
    found = read(small, "Exceptions")
    unreadable = found[found["Rule"] == "ROW_UNREADABLE"]
    assert list(unreadable["Row"].astype(int)) == [first + 1]  # the date that does not exist
    assert (unreadable["Entry id"] == rows.loc[1, TIME.header_of("entry_id")]).all()
    assert read(small, "Problems").empty  # cleared by a command that ran


@pytest.mark.parametrize("settings, column, why", [
    ({"time_file": "no-such-export.xlsx"}, "Time file", "there is no file"),
    ({"ledger_url": "missing.db"}, "Ledger", "there is no ledger file"),
    ({"month": "October"}, "Month", "is not a month"),
])
def test_a_bad_setting_is_shown_on_problems(small, settings, column, why):
    set_settings(small, **settings)
    command = {"time_file": "import_time", "ledger_url": "refresh_ar"}.get(next(iter(settings)),
                                                                         "reconcile")
    done = commands.run_file(command, small)
    assert not done.ok
    problems = read(small, "Problems")
    assert list(problems["Sheet"]) == ["Settings"] and list(problems["Column"]) == [column]
    assert why in problems["Why"].iloc[0]
    status = openpyxl.load_workbook(small)["Instructions"][layout.STATUS_CELL[1]].value
    assert "nothing was changed" in status


def test_reconcile_without_guideline_files_says_so_on_problems(firm, tmp_path):
    url = new_ledger(firm, str(tmp_path / "billxl.db"), guidelines=False)
    path = fresh_workbook(tmp_path / "book")
    set_settings(path, ledger_url=url, month=MONTH)
    done = commands.run_file("reconcile", path)
    assert done.refused == "input"
    assert "guideline" in read(path, "Problems")["Why"].iloc[0]
    assert read(path, "Exceptions").empty


def test_apply_with_a_missing_workbook_applies_the_others_and_lists_the_missing(small, firm):
    _, exports = firm
    set_settings(small, time_file=str(exports["time"]))
    assert commands.run_file("import_time", small).ok
    assert commands.run_file("build_prebills", small).ok
    listed = read(small, "Prebills")
    gone = sorted(set(listed["Workbook"]))[0]
    Path(gone).unlink()
    done = commands.run_file("apply_prebill_edits", small)
    assert done.ok and done.attention and "1 refused" in done.message
    problems = read(small, "Problems")
    assert list(problems["Value"]) == [gone] and "no workbook" in problems["Why"].iloc[0]


# ----------------------------------------------------------------------------- the CLI
def test_billxl_workbook_run_saves_the_result_and_exits_by_outcome(small, tmp_path):
    env = {**os.environ, "BILLXL_USER": "test.secretary"}
    env.pop("BILLXL_LEDGER", None)
    cli = [sys.executable, "-m", "billxl.cli", "workbook", "run"]
    done = subprocess.run([*cli, "refresh_ar", str(small)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "AR as of" in done.stdout and "Saved" in done.stdout
    refused = subprocess.run([*cli, "import_time", str(small)], capture_output=True, text=True,
                             env=env, cwd=tmp_path, timeout=120)
    assert refused.returncode == 2 and "Nothing to import" in refused.stderr
    assert not read(small, "Problems").empty
    other = subprocess.run([*cli, "refresh_ar", str(small), "--ledger", str(tmp_path / "no.db")],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert other.returncode == 2 and "no ledger file" in other.stderr


# ----------------------------------------------------------------------------- VBA and ribbon
RIBBON = ('<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"><ribbon><tabs>'
          '<tab id="billxlTab" label="Billing"><group id="g" label="Cycle"><button id="refresh_ar" '
          'label="Refresh AR" onAction="BillxlRibbonButton"/></group></tab></tabs></ribbon>'
          '</customUI>')
UI_REL = ('<Relationship Id="rIdBillxlUI" Type="http://schemas.microsoft.com/office/2007/'
          'relationships/ui/extensibility" Target="customUI/customUI14.xml"/>')


def _xlsm_with_ribbon(path: Path) -> Path:
    """xlwings' standalone quickstart workbook (a real VBA project) with a ribbon added."""
    source = XLWINGS_ADDIN.parent.parent / "quickstart_standalone.xlsm"
    if not source.exists():
        pytest.skip("xlwings' quickstart_standalone.xlsm is not in the installed package")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", UI_REL.encode() + b"</Relationships>")
            out.writestr(item, data)
        out.writestr("customUI/customUI14.xml", RIBBON)
    return path


def test_filebook_keeps_the_vba_project_and_puts_the_ribbon_relationship_back(tmp_path):
    """openpyxl drops the customUI relationship on save; FileBook puts it back."""
    original = _xlsm_with_ribbon(tmp_path / "original.xlsm")
    openpyxl.load_workbook(original, keep_vba=True).save(tmp_path / "plain.xlsm")
    with zipfile.ZipFile(tmp_path / "plain.xlsm") as z:
        assert "/ui/extensibility" not in z.read("_rels/.rels").decode()  # the loss we repair
    copy = Path(shutil.copyfile(original, tmp_path / "saved.xlsm"))
    FileBook(copy).save()
    with zipfile.ZipFile(copy) as after, zipfile.ZipFile(original) as before:
        assert after.read("xl/vbaProject.bin") == before.read("xl/vbaProject.bin")
        assert after.read("customUI/customUI14.xml") == before.read("customUI/customUI14.xml")
        assert after.read("_rels/.rels").decode().count(UI_REL) == 1
        assert "macroEnabled" in after.read("[Content_Types].xml").decode()
        assert after.testzip() is None
    FileBook(copy).save()  # twice: still one relationship
    with zipfile.ZipFile(copy) as after:
        assert after.read("_rels/.rels").decode().count("/ui/extensibility") == 1
    from oletools.olevba import VBA_Parser

    code = [c for _f, _s, _name, c in VBA_Parser(str(copy)).extract_macros()]
    assert len(code) > 3 and any("Function RunPython" in c for c in code)


# ----------------------------------------------------------------------------- xlwings double
class Recorder(list):
    def __call__(self, *call):
        self.append(call)


class FakeRange:
    """A cell block as xlwings shows it: .value (2-D with options(ndim=2)), .row."""

    def __init__(self, rec: Recorder, sheet: str, address: str, cells=None, row: int = 1):
        self.rec, self.sheet, self.address, self.cells, self.row = rec, sheet, address, cells, row

    def options(self, **kw):
        self.rec("options", self.sheet, self.address, kw)
        return self

    @property
    def value(self):
        self.rec("read", self.sheet, self.address)
        return [[_as_excel_returns(v) for v in r] for r in self.cells]

    @value.setter
    def value(self, v):
        self.rec("write", self.sheet, self.address, v)
        self.cells = [[v]]


def _as_excel_returns(v):
    """What Excel hands back: numbers as floats, dates as datetimes, the quote prefix gone."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, Decimal)):
        return float(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, str) and v.startswith("'"):
        return v[1:]
    return v


class FakeTable:
    def __init__(self, rec: Recorder, sheet: str, name: str, cells, row: int):
        self.rec, self.sheet, self.name, self.cells, self.row = rec, sheet, name, cells, row

    @property
    def range(self):
        return FakeRange(self.rec, self.sheet, self.name, self.cells, self.row)

    def update(self, frame: pd.DataFrame, index: bool = True):
        self.rec("update", self.sheet, self.name, frame.copy(), index)
        # as xlwings does: an empty frame resizes to one data row and leaves that row alone
        self.cells = [list(frame.columns), *(frame.to_numpy().tolist() if len(frame) else
                                             self.cells[1:2])]
        return self


class FakeSheet:
    def __init__(self, rec, name, tables):
        self.rec, self.name, self.tables, self.cells = rec, name, tables, {}

    def __getitem__(self, address):
        return self.cells.setdefault(address, FakeRange(self.rec, self.name, address, [[None]]))


class FakeApp:
    def __init__(self, rec):
        self.rec = rec

    @property
    def status_bar(self):
        return None

    @status_bar.setter
    def status_bar(self, text):
        self.rec("status_bar", text)

    def alert(self, prompt, title=None, **kw):
        self.rec("alert", title, prompt)


class FakeSheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)


class FakeBook:
    """An xw.Book as the adapter uses it, seeded from a workbook file's tables."""

    def __init__(self, path: Path):
        self.rec = Recorder()
        self.name, self.fullname = path.name, str(path)
        self.app = FakeApp(self.rec)
        wb = openpyxl.load_workbook(path)
        self.sheets = FakeSheets()
        for ws in wb.worksheets:
            tables = []
            for name in list(ws.tables):
                rows = [list(r) for r in ws[ws.tables[name].ref]]
                cells = [[c.value for c in r] for r in rows]
                tables.append(FakeTable(self.rec, ws.title, name, cells, rows[0][0].row))
            self.sheets.append(FakeSheet(self.rec, ws.title, tables))

    def calls(self, kind: str) -> list[tuple]:
        return [c for c in self.rec if c[0] == kind]

    def table(self, name: str) -> FakeTable:
        return next(tab for s in self.sheets for tab in s.tables if tab.name == name)

    def frame(self, name: str) -> pd.DataFrame:
        """The table as it now stands (what the user would see), blank rows left out."""
        from billxl.excel.book import frame_from_cells

        tab = self.table(name)
        return frame_from_cells([[_as_excel_returns(v) for v in r] for r in tab.cells], tab.row)

    def put(self, name: str, frame: pd.DataFrame) -> None:
        """The user typing or pasting rows into a table."""
        tab = self.table(name)
        headers = tab.cells[0]
        rows = [[rec.get(h) for h in headers] for rec in frame.to_dict("records")]
        tab.cells = [headers, *(rows or [[None] * len(headers)])]

    def updated(self, table: str) -> pd.DataFrame:
        found = [c for c in self.calls("update") if c[2] == table]
        assert found, f"no update of {table}"
        return found[-1][3]


def test_the_live_adapter_reads_and_writes_through_xlwings_calls(small, firm):
    rows = typed_entries(firm)
    narrative = TIME.header_of("narrative")
    rows.loc[2, narrative] = "=1+1 is not a formula here"
    put_rows(small, "TimeEntries", rows)
    fake = FakeBook(small)
    commands.run_from_excel("import_time", fake)
    # read: the Settings and Time entries tables, each as one 2-D block
    reads = [c[1:3] for c in fake.calls("read")]
    assert ("Settings", "Settings") in reads and ("Time entries", "TimeEntries") in reads
    assert all(c[3] == {"ndim": 2} for c in fake.calls("options"))
    # writes: one Table.update per table, rows in the layout's columns
    tables = [c[2] for c in fake.calls("update")]
    assert tables == ["ListClients", "ListMatters", "TimeEntries", "Problems"]
    written = fake.updated("TimeEntries")
    assert list(written.columns) == TIME.headers
    assert written.loc[2, narrative] == "'=1+1 is not a formula here"  # Excel's quote prefix
    assert written.loc[0, narrative] == rows.loc[0, narrative]
    assert set(written["Status"]) == {"imported"}
    assert all(c[4] is False for c in fake.calls("update"))  # index=False
    hours = written[TIME.header_of("hours")]
    assert all(isinstance(h, float) for h in hours)
    blank = fake.updated("Problems")  # one blank row: Table.update would keep an old first row
    assert len(blank) == 1 and blank.isna().all(axis=None) and fake.frame("Problems").empty
    # the status line: the status cell and the status bar, no message box
    status = [c for c in fake.calls("write") if c[1:3] == layout.STATUS_CELL]
    assert len(status) == 1 and status[0][3].startswith("Import time: Imported 4 row(s)")
    assert fake.calls("status_bar")[-1][1] == status[0][3]
    assert not fake.calls("alert")


def test_the_live_adapter_shows_problems_in_excel_and_never_raises(small, firm):
    rows = typed_entries(firm)
    rows.loc[0, TIME.header_of("hours")] = "lots"
    put_rows(small, "TimeEntries", rows)
    fake = FakeBook(small)
    commands.run_from_excel("import_time", fake)
    problems = fake.updated("Problems")
    assert list(problems["Row"]) == [layout.HEADER_ROW + 1]
    assert list(problems["Column"]) == ["Hours"]
    assert [c[2] for c in fake.calls("update")] == ["Problems"]  # nothing else written
    (alert,) = fake.calls("alert")
    assert alert[1] == "billxl" and "nothing was changed" in alert[2]

    broken = FakeBook(small)
    broken.sheets = FakeSheets([s for s in broken.sheets if s.name != "Settings"] +
                               [FakeSheet(broken.rec, "Settings", [])])
    commands.run_from_excel("refresh_ar", broken)  # no Settings table: said, not raised
    assert "is this billxl's billing workbook" in broken.calls("alert")[0][2]

    boom = FakeBook(small)
    boom.table("Aging").update = None  # a bug inside a write: not billxl's error, still not raised
    commands.run_from_excel("refresh_ar", boom)
    assert "billxl could not run refresh_ar: TypeError" in boom.calls("alert")[-1][2]


def _normalised(frame: pd.DataFrame, root: Path) -> pd.DataFrame:
    """Cells as Excel returns them, with the run's own folder taken out of paths."""
    def one(v):
        v = _as_excel_returns(v)
        return v.replace(str(root), "<root>") if isinstance(v, str) else v
    return frame.reset_index(drop=True).map(one)


def test_every_command_through_the_live_adapter_writes_what_the_headless_run_wrote(
        cycle, firm, tmp_path):
    """The whole cycle again, through XlwingsBook over the recording double, on a second ledger
    of the same firm: each command updates only the tables the layout says it writes, with the
    cells the headless run wrote, and says the same."""
    from billxl.excel.demo_files import review_prebill

    if not cycle.url.endswith(".db"):
        pytest.skip("compared once, with the SQLite cycle")
    _, exports = firm
    url = new_ledger(firm, str(tmp_path / "billxl.db"))
    fake = FakeBook(fresh_workbook(tmp_path / "book"))
    settings = fake.table("Settings")
    values = {"ledger_url": url, "user": "test.secretary", "as_of": dt.datetime(2026, 11, 30),
              "month": dt.datetime(2026, 10, 1),  # Excel made a date of the 2026-10 typed
              "time_file": str(exports["time"])}
    labels = {layout.setting(k).label: v for k, v in values.items()}
    settings.cells = [settings.cells[0], *[[r[0], labels.get(r[0], r[1]), r[2]]
                                           for r in settings.cells[1:]]]

    def setting(key, value):
        label = layout.setting(key).label
        settings.cells = [r if r[0] != label else [r[0], value, r[2]] for r in settings.cells]

    def step(command, name=None):
        name = name or command
        start = len(fake.rec)
        commands.run_from_excel(command, fake)
        updated = {c[2] for c in fake.rec[start:] if c[0] == "update"}
        assert updated <= {*layout.command(command).writes, "Problems"}, (name, updated)
        assert not [c for c in fake.rec[start:] if c[0] == "alert"], name
        snapshot = cycle.snapshots[name]
        for table in updated:
            live = _normalised(fake.frame(table), tmp_path / "book")
            headless = _normalised(read(snapshot, table), cycle.folder / "book")
            pd.testing.assert_frame_equal(live, headless, check_dtype=False, obj=name)
        said = [c[3] for c in fake.rec[start:] if c[0] == "write" and c[1:3] == layout.STATUS_CELL]
        wb_said = openpyxl.load_workbook(snapshot)[layout.STATUS_CELL[0]][layout.STATUS_CELL[1]]
        assert said[-1].replace(str(tmp_path / "book"), "") == wb_said.value.replace(
            str(cycle.folder / "book"), ""), name

    step("import_time")
    setting("time_file", str(exports["expenses"]))
    step("import_time", "import_expenses")
    setting("time_file", str(exports["time"]))
    step("check")
    step("reconcile")
    fake.put("Schedules", _schedule_shown(firm))
    step("save_schedule")
    step("bills_due")
    step("build_prebills")
    for name in sorted(set(fake.frame("Prebills")["Workbook"])):
        review_prebill(Path(name), dt.date(2026, 11, 3))
    step("apply_prebill_edits")
    step("finalize")
    fake.put("Invoices", fake.frame("Invoices").head(2))
    step("render_documents")
    step("export_ledes")
    fake.put("Payments", pd.DataFrame({PAY.header_of(k): cycle.receipts[k] for k in cycle.receipts}))
    for command in ("post_payments", "refresh_ar", "month_end_pack"):
        step(command)
    assert {c[2] for c in fake.calls("update")} >= {t.name for t in layout.TABLES.values()
                                                     if not t.name.startswith("List")
                                                     and t.name != "Settings"} - {"TimeEntries"}
    progress = [c[1] for c in fake.calls("status_bar") if c[1].startswith("billxl: ")]
    assert any("Rendering invoice documents" in p for p in progress)


def test_the_finished_workbook_opens_in_libreoffice_with_the_ledgers_figures(cycle, tmp_path):
    """LibreOffice (headless) opens the workbook every command wrote, recalculates it, and its
    Invoices and AR sheets hold the ledger's figures (pages looked at: see the report)."""
    from tests.office import recalculated

    if not cycle.url.endswith(".db"):
        pytest.skip("opened once, for the SQLite cycle")
    wb = recalculated(cycle.snapshots["month_end_pack"], tmp_path / "lo")

    def sheet_table(sheet: str) -> pd.DataFrame:
        rows = list(wb[sheet].iter_rows(min_row=layout.HEADER_ROW, values_only=True))
        frame = pd.DataFrame(rows[1:], columns=rows[0]).dropna(how="all")
        return frame.loc[:, [c for c in frame.columns if c]]

    invoices = sheet_table("Invoices").set_index("Invoice")
    register = cycle.ledger_had["month_end_pack"]["register"].set_index("number")
    assert sorted(invoices.index) == sorted(register.index)
    for number, inv in register.iterrows():
        assert cents(invoices.loc[number, "Total"]) == from_minor(int(inv["total_minor"]),
                                                                  inv["currency"])
    aging = sheet_table("AR").set_index("Client")
    for client, row in cycle.ledger_had["refresh_ar"]["aging"].set_index("client_id").iterrows():
        assert cents(aging.loc[client, "Net due"]) == from_minor(int(row["net"]), row["currency"])
    assert sheet_table("Problems").empty


def test_a_column_styled_as_part_of_a_span_keeps_its_style(tmp_path):
    """Excel saves neighbouring columns that look alike as one <col min max> span; a table
    written into such a workbook takes each column's style from the span that holds it."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.dimensions import ColumnDimension

    path = fresh_workbook(tmp_path)
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    ws = wb["Payments"]
    spec = layout.table("Payments")
    for letter in list(ws.column_dimensions):
        del ws.column_dimensions[letter]
    span = ColumnDimension(ws, index="A", min=1, max=len(spec.columns), width=14)
    span.font = Font(name="Arial", size=13)
    ws.column_dimensions["A"] = span
    wb.save(path)
    frame = pd.DataFrame([{c.header: None for c in spec.columns}])
    frame.iloc[0, 2] = "a payer"
    put_rows(path, "Payments", frame)
    ws = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")["Payments"]
    third = ws.cell(layout.HEADER_ROW + 1, 3)
    assert (third.font.name, third.font.size) == ("Arial", 13)


def test_build_prebills_again_keeps_a_partners_unapplied_edits(firm, tmp_path):
    """Like `billxl prebill`, the button refuses to rebuild the month while a partner's workbook
    holds edits not yet applied: the pre-bills stay as they were, and Problems says why."""
    from billxl.excel.demo_files import review_prebill

    url = new_ledger(firm, str(tmp_path / "billxl.db"))
    c = Cycle(tmp_path, url, firm)
    set_settings(c.path, ledger_url=url, user="test.secretary", month=MONTH,
                 time_file=str(firm[1]["time"]))
    c.run("import_time")
    c.run("build_prebills")
    before = c.ledger().read_frame(t.prebills.select())
    edited = sorted(set(read(c.path, "Prebills")["Workbook"]))[0]
    review_prebill(Path(edited), dt.date(2026, 11, 3))  # approved, not yet applied
    # new time on one of that partner's matters: drafting again would rebuild its pre-bill
    listed = read(c.path, "Prebills")
    matter = listed.loc[listed["Workbook"] == edited, "Matter"].iloc[0]
    export = pd.read_excel(firm[1]["time"], dtype=str, engine="calamine")
    late = export[export["matter_id"] == matter].head(1).assign(
        entry_id="LATE-1", narrative="Draft reply to opposing counsel on the late discovery")
    late.to_csv(tmp_path / "late.csv", index=False)
    ledger = c.ledger()
    billxl.import_file(ledger, tmp_path / "late.csv", "time")
    ledger.dispose()
    done = commands.run_file("build_prebills", c.path)
    assert not done.ok
    problems = read(c.path, "Problems")
    assert problems["Why"].str.contains("not applied|apply it first", regex=True).any(), problems
    after = c.ledger().read_frame(t.prebills.select())
    assert after["prebill_pk"].tolist() == before["prebill_pk"].tolist()  # nothing rebuilt
    assert (after["status"] == before["status"]).all()
