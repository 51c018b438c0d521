"""Intake: real CSV, XLSX and ODS files written here, imported into a real ledger on each backend.

Every refusal is checked problem by problem (row as the user sees it, column, value, reason) and
followed by proof that the ledger did not change.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from billxl import cells, intake, schema
from billxl.errors import InputError
from billxl.store import tables as t

TIME_HEADER = list(schema.CANONICAL_TIME_COLUMNS)
EXPENSE_HEADER = list(schema.CANONICAL_EXPENSE_COLUMNS)
PM_HEADER = ["ID", "Type", "Date", "User", "Matter", "Quantity", "Rate", "Total", "Description",
             "UTBMS Task", "UTBMS Activity", "UTBMS Expense", "Non-billable"]
FORMULA_NARRATIVES = ["=SUM(A1:A3)", "+44 20 7946 0000 call with counsel", "-- draft reviewed",
                      "@counsel re: motion", '=HYPERLINK("http://example.com","x")']


# --------------------------------------------------------------------------- reference data
def reference_frames() -> dict[str, pd.DataFrame]:
    """A small firm: three timekeepers, a USD client with two matters, a JPY client."""
    start = dt.date(2020, 1, 1)
    offices = pd.DataFrame([{"office_id": "NY", "name": "New York", "currency": "USD"},
                            {"office_id": "TYO", "name": "Tokyo", "currency": "JPY"}])
    people = [("TK01", "Jane", "Smith", "PARTNR", "NY"), ("TK02", "Bob", "Lee", "ASSOC", "NY"),
              ("TK03", "Ana", "Ruiz", "PARLGL", "TYO")]
    timekeepers = pd.DataFrame([{"timekeeper_id": i, "first_name": f, "last_name": last,
                                 "user_name": f"{f} {last}", "classification": c,
                                 "office_id": o, "active_from": start}
                                for i, f, last, c, o in people])
    clients = pd.DataFrame([{"client_id": "C0001", "name": "Acme Corp", "currency": "USD"},
                            {"client_id": "C0002", "name": "Beta KK", "currency": "JPY"}])
    matters = pd.DataFrame([
        {"matter_id": "C0001-0003", "client_id": "C0001", "name": "Acme v. Beta",
         "opened_on": start, "billing_partner_id": "TK01"},
        {"matter_id": "C0001-0004", "client_id": "C0001", "name": "Acme lease",
         "opened_on": start, "billing_partner_id": "TK01"},
        {"matter_id": "C0002-0001", "client_id": "C0002", "name": "Beta KK deal",
         "opened_on": start, "billing_partner_id": "TK01"},
    ])
    return {"offices": offices, "timekeepers": timekeepers, "clients": clients,
            "matters": matters}


@pytest.fixture
def ledger(empty_ledger):
    empty_ledger.load_reference(reference_frames(), actor="test")
    return empty_ledger


@pytest.fixture
def reference() -> intake.Reference:
    return intake.Reference.from_frames(reference_frames())


def counts(ledger) -> dict[str, int]:
    return {name: ledger.count(table) for name, table in
            (("time", t.time_entries), ("expenses", t.expenses),
             ("batches", t.import_batches), ("audit", t.audit_log))}


# --------------------------------------------------------------------------- file writers
def write_csv(path: Path, header: list[str], rows: list[list], *, encoding="utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], *, sheet="Export") -> Path:
    """Text as text cells (never formulas), numbers as numbers, dates as date cells."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    date_format = book.add_format({"num_format": "mm/dd/yyyy"})
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            elif value not in (None, ""):
                ws.write_string(r, c, str(value))
    book.close()
    return path


def write_ods(path: Path, header: list[str], rows: list[list]) -> Path:
    """A minimal OpenDocument spreadsheet, written by hand (no LibreOffice here)."""
    def cell(value) -> str:
        if isinstance(value, dt.date):
            return (f'<table:table-cell office:value-type="date" office:date-value='
                    f'"{value.isoformat()}"><text:p>{value.isoformat()}</text:p></table:table-cell>')
        if isinstance(value, int | float):
            return (f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        if value in (None, ""):
            return "<table:table-cell/>"
        return (f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
                "</text:p></table:table-cell>")

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
                   for row in [header, *rows])
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Time">{body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return path


def time_row(entry_id, *, date="2026-10-05", tk="TK01", matter="C0001-0003", client="C0001",
             hours="1.25", rate="500.00", amount="625.00", task="L110", activity="A101",
             narrative="Review documents") -> list:
    return [entry_id, date, tk, "", "", matter, client, hours, rate, amount, task, activity,
            narrative]


GOOD_ROWS = [
    time_row("T1"),
    time_row("T2", tk="tk02", hours="0.1", rate="350", amount="35", narrative="Call with client"),
    time_row("T3", date="2026-10-06", tk="TK03", matter="C0002-0001", client="C0002", hours="2",
             rate="30000", amount="60000", task="", activity="", narrative="Deal call (JPY)"),
]


def problems_of(error: InputError) -> list[tuple]:
    return [(p.row, p.column, p.value, p.reason) for p in error.problems]


# --------------------------------------------------------------------------- clean imports
def test_clean_csv_import(ledger, tmp_path):
    path = write_csv(tmp_path / "time.csv", TIME_HEADER, GOOD_ROWS)
    stages = []
    result = intake.import_file(ledger, path, "time", "canonical", actor="alice",
                                progress=lambda stage, done, total: stages.append((stage, done, total)))

    assert (result.rows_read, result.new, result.changed, result.unchanged) == (3, 3, 0, 0)
    assert result.kinds["time"].batch_id == result.batch_ids[0]
    assert "3 new" in result.summary()
    entries = ledger.time_entries().set_index("entry_id")
    assert list(entries.index) == ["T1", "T2", "T3"]
    assert entries.loc["T1", ["hours_milli", "rate_minor", "amount_minor", "currency"]].tolist() == \
        [1250, 50000, 62500, "USD"]
    # the ledger's own spelling of the timekeeper id is stored, whatever the case in the file
    assert entries.loc["T2", "timekeeper_id"] == "TK02"
    assert entries.loc["T2", "hours_milli"] == 100
    # JPY has no minor unit: 30000 yen is 30000 minor units
    assert entries.loc["T3", ["rate_minor", "amount_minor", "currency"]].tolist() == [30000, 60000, "JPY"]
    assert pd.isna(entries.loc["T3", "task_code"])
    assert entries.loc["T3", "work_date"] == pd.Timestamp("2026-10-06")
    assert set(entries["status"]) == {"WIP"} and set(entries["source"]) == {"canonical"}
    assert entries["billable"].all()

    batch = ledger.read_frame(t.import_batches).iloc[0]
    assert (batch["kind"], batch["file_name"], batch["profile"], batch["actor"]) == \
        ("time", "time.csv", "canonical", "alice")
    assert (batch["rows_read"], batch["rows_new"], batch["rows_changed"], batch["rows_unchanged"]) == (3, 3, 0, 0)
    assert len(batch["file_sha256"]) == 64
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "import")
                              .where(t.audit_log.c.table_name == "import_batches"))
    assert len(audit) == 1 and audit.iloc[0]["actor"] == "alice"
    assert audit.iloc[0]["after"]["rows_new"] == 3
    assert [s for s, _, _ in stages][0].startswith("Reading time.csv")
    assert ("Writing time entries", 3, 3) in stages


def test_clean_xlsx_import_with_typed_cells(ledger, tmp_path):
    rows = [
        # float noise from a formula (0.1 + 0.2) is within 1e-9 of 0.3 and counts as 0.3
        ["X1", dt.date(2026, 10, 5), "TK01", "Jane Smith", "PARTNR", "C0001-0003", "C0001",
         0.1 + 0.2, 450.5, 135.15, "L110", "A101", "Draft motion"],
        ["X2", dt.date(2026, 10, 7), "TK02", "Bob Lee", "ASSOC", "C0001-0004", "", 8, 350, 2800,
         "", "", "Lease review"],
        ["", "", "", "", "", "", "", "", "", "", "", "", ""],  # a blank row is skipped
    ]
    path = write_xlsx(tmp_path / "time.xlsx", TIME_HEADER, rows)
    result = intake.import_file(ledger, path)
    assert (result.rows_read, result.new) == (2, 2)
    entries = ledger.time_entries().set_index("entry_id")
    assert entries.loc["X1", ["hours_milli", "rate_minor", "amount_minor"]].tolist() == [300, 45050, 13515]
    assert entries.loc["X2", "work_date"] == pd.Timestamp("2026-10-07")
    assert entries.loc["X2", "hours_milli"] == 8000


def test_ods_import(ledger, tmp_path):
    rows = [["O1", dt.date(2026, 10, 5), "TK01", "", "", "C0001-0003", "C0001", 1.5, 500, 750,
             "L120", "A102", "=A1 stays text"]]
    result = intake.import_file(ledger, write_ods(tmp_path / "time.ods", TIME_HEADER, rows))
    assert result.new == 1
    entry = ledger.time_entries().iloc[0]
    assert (entry["hours_milli"], entry["amount_minor"], entry["narrative"]) == (1500, 75000, "=A1 stays text")


def test_expenses_csv(ledger, tmp_path):
    rows = [
        ["E1", "2026-10-05", "TK02", "C0001-0003", "C0001", "E101", "120", "0.15", "", "Copies", "R-1", "yes"],
        ["E2", "2026-10-06", "", "C0001-0004", "", "e112", "", "", "350.00", "Filing fee", "", "No"],
    ]
    result = intake.import_file(ledger, write_csv(tmp_path / "exp.csv", EXPENSE_HEADER, rows), "expenses")
    assert result.kinds["expenses"].new == 2
    exp = ledger.expenses().set_index("entry_id")
    # amount derived once from quantity x unit cost: 120 x 0.15 = 18.00
    assert exp.loc["E1", ["quantity_milli", "unit_cost_minor", "amount_minor"]].tolist() == [120000, 15, 1800]
    assert exp.loc["E1", "receipt_ref"] == "R-1" and bool(exp.loc["E1", "billable"])
    # no quantity means one item; the unit cost is the amount
    assert exp.loc["E2", ["quantity_milli", "unit_cost_minor", "amount_minor"]].tolist() == [1000, 35000, 35000]
    assert exp.loc["E2", "expense_code"] == "E112" and pd.isna(exp.loc["E2", "timekeeper_id"])
    assert not bool(exp.loc["E2", "billable"])


def test_all_with_a_one_kind_layout(ledger, tmp_path):
    """kind='all' on a canonical time file imports the time (the layout says what it holds)."""
    result = intake.import_file(ledger, write_csv(tmp_path / "t.csv", TIME_HEADER, GOOD_ROWS), "all")
    assert list(result.kinds) == ["time"] and result.new == 3


def test_cp1252_semicolon_csv(ledger, tmp_path):
    """A European Excel 'CSV': Windows-1252 text and semicolons."""
    path = tmp_path / "time.csv"
    lines = [";".join(TIME_HEADER),
             ";".join(time_row("W1", narrative="Réunion avec le client, café"))]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    assert intake.import_file(ledger, path).new == 1
    assert ledger.time_entries().iloc[0]["narrative"] == "Réunion avec le client, café"


# --------------------------------------------------------------------------- refusals
BAD_ROWS = [
    time_row("T1"),                                            # row 2: fine
    time_row("T2", date="2026-02-30"),                         # row 3: no 30 February
    time_row("T3", hours="-1.5"),                              # row 4: negative hours
    time_row("T4", hours="25"),                                # row 5: more than a day
    time_row("T5", matter="C0009-0001"),                       # row 6: unknown matter
    time_row("T6", tk="TK99"),                                 # row 7: unknown timekeeper
    time_row("T7", client="C0002"),                            # row 8: matter is C0001's
    time_row("T8", hours="1.2345"),                            # row 9: too precise
    time_row("T9", rate="350.505", task="L11"),                # row 10: half a cent, bad code
    time_row("T3", date="", hours=""),                         # row 11: repeated id, blanks
]


def test_bad_rows_are_all_reported_and_nothing_is_imported(ledger, tmp_path):
    before = counts(ledger)
    path = write_csv(tmp_path / "time.csv", TIME_HEADER, BAD_ROWS)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, path)
    assert problems_of(caught.value) == [
        (3, "date", "2026-02-30", "is not a date (expected YYYY-MM-DD)"),
        (4, "entry_id", "T3", "this entry ID appears more than once in the file (rows 4, 11)"),
        (4, "hours", "-1.5", "the hours must be more than 0"),
        (5, "hours", "25", "is more than 24 hours in one entry"),
        (6, "matter_id", "C0009-0001", "no matter with this number in the ledger"),
        (7, "timekeeper_id", "TK99", "no timekeeper with this ID in the ledger"),
        (8, "client_id", "C0002", "matter C0001-0003 belongs to client C0001, not to this client"),
        (9, "hours", "1.2345", "has more than 3 decimal places"),
        (10, "rate", "350.505", "has more than 2 decimal places (USD amounts go to 0.01)"),
        (10, "task_code", "L11", "is not a UTBMS task code (one letter and three digits, e.g. L110)"),
        (11, "entry_id", "T3", "this entry ID appears more than once in the file (rows 4, 11)"),
        (11, "date", None, "the date is missing"),
        (11, "hours", None, "the hours are missing"),
    ]
    assert {p.file for p in caught.value.problems} == {str(path)}
    assert {p.sheet for p in caught.value.problems} == {None}
    assert "nothing was imported; 13 problem(s) in 9 row(s)" in caught.value.summary
    assert counts(ledger) == before


def test_bad_cells_in_a_workbook_name_the_sheet(ledger, tmp_path):
    rows = [["X1", "5 Oct", "TK01", "", "", "C0001-0003", "C0001", 1.0001, 400, 400.004, "", "", ""],
            ["X2", dt.date(2026, 10, 5), "TK01", "", "", "C0001-0003", "C0001", "two", 400, 800, "", "", ""],
            ["X3", dt.date(2206, 10, 5), "TK01", "", "", "C0001-0003", "C0001", 1, 400, 400, "", "", ""]]
    before = counts(ledger)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, write_xlsx(tmp_path / "t.xlsx", TIME_HEADER, rows, sheet="October"))
    assert problems_of(caught.value) == [
        (2, "date", "5 Oct", "is not a date (expected YYYY-MM-DD)"),
        (2, "hours", "1.0001", "has more than 3 decimal places"),
        (2, "amount", "400.004", "has more than 2 decimal places (USD amounts go to 0.01)"),
        (3, "hours", "two", "is not a number"),
        (4, "date", "2206-10-05", "is not a plausible date (before 1900 or after 2199)"),
    ]
    assert {p.sheet for p in caught.value.problems} == {"October"}
    assert counts(ledger) == before


def test_missing_columns_are_listed_with_the_columns_found(ledger, tmp_path):
    header = [c for c in TIME_HEADER if c not in ("hours", "matter_id")]
    rows = [[v for c, v in zip(TIME_HEADER, time_row("T1"), strict=True) if c in header]]
    before = counts(ledger)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, write_csv(tmp_path / "t.csv", header, rows))
    found = ", ".join(repr(c) for c in header)
    assert problems_of(caught.value) == [
        (1, "matter_id", None, f"the column 'matter_id' is missing (profile 'canonical' needs it); the columns found are: {found}"),
        (1, "hours", None, f"the column 'hours' is missing (profile 'canonical' needs it); the columns found are: {found}"),
    ]
    assert counts(ledger) == before


def test_truncated_xlsx_is_damaged(ledger, tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", TIME_HEADER, [time_row("T1")]).read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    before = counts(ledger)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, cut)
    assert "cut.xlsx is damaged or is not a spreadsheet" in str(caught.value)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].reason.startswith("the file is damaged or is not a spreadsheet")
    assert counts(ledger) == before


def test_not_a_spreadsheet(ledger, tmp_path):
    fake = tmp_path / "report.xlsx"
    fake.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n")
    with pytest.raises(InputError, match="is damaged or is not a spreadsheet"):
        intake.import_file(ledger, fake)
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match="is damaged or is not a spreadsheet"):
        intake.import_file(ledger, binary)


def test_csv_with_a_truncated_last_line(ledger, tmp_path):
    path = write_csv(tmp_path / "t.csv", TIME_HEADER, GOOD_ROWS)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("T3,") + len("T3,2026-10-06,TK03,,")], encoding="utf-8")
    before = counts(ledger)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, path)
    first = caught.value.problems[0]
    assert (first.row, first.value) == (4, "T3,2026-10-06,TK03,,")
    assert first.reason.startswith("this line is cut short: it has 5 of the 13 columns")
    assert counts(ledger) == before


def test_csv_with_an_unclosed_quote(ledger, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",".join(TIME_HEADER) + "\n" + ",".join(time_row("T1")) + '\nT2,"2026-10-05,TK01',
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, path)
    assert problems_of(caught.value) == [
        (3, None, None, 'a quoted value is never closed: the file may be cut short, or a " is missing')]


def test_csv_with_an_unquoted_separator(ledger, tmp_path):
    rows = [time_row("T1"), time_row("T2", narrative="Call re: motion")]
    path = write_csv(tmp_path / "t.csv", TIME_HEADER, rows)
    path.write_text(path.read_text(encoding="utf-8").replace("Call re: motion", "Call, motion"),
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, path)
    assert problems_of(caught.value) == [
        (3, None, None, "this line has 14 values but the header has 13 columns (an unquoted "
                        "separator in a value?)")]


def test_empty_files(ledger, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    before = counts(ledger)
    with pytest.raises(InputError, match="empty.csv is empty"):
        intake.import_file(ledger, empty)
    blank_xlsx = tmp_path / "blank.xlsx"
    xlsxwriter.Workbook(str(blank_xlsx)).close()
    with pytest.raises(InputError, match="is empty"):
        intake.import_file(ledger, blank_xlsx)
    # a header and nothing under it: refused, and no empty import batch recorded
    header_only = write_csv(tmp_path / "october.csv", TIME_HEADER, [])
    with pytest.raises(InputError, match=r"october.csv has its header row \(1\) but no entries"):
        intake.import_file(ledger, header_only)
    header_sheet = write_xlsx(tmp_path / "t.xlsx", TIME_HEADER, [], sheet="Time")
    with pytest.raises(InputError, match=r"\(sheet Time\) has its header row"):
        intake.import_file(ledger, header_sheet)
    assert counts(ledger) == before


def test_missing_sheet_names_the_sheets(ledger, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", TIME_HEADER, [time_row("T1")], sheet="Time")
    with pytest.raises(InputError, match="has no sheet named 'Nope'; its sheets are: Time"):
        intake.import_file(ledger, path, sheet="Nope")


# --------------------------------------------------------------------------- idempotence
def test_reimport_adds_nothing_and_overlap_adds_only_new_rows(ledger, tmp_path):
    first = write_csv(tmp_path / "sep.csv", TIME_HEADER, GOOD_ROWS[:2])
    assert intake.import_file(ledger, first).new == 2
    again = intake.import_file(ledger, first)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    assert ledger.count(t.time_entries) == 2

    # the next export overlaps: T2 again (unchanged) plus T3 and T4
    overlap = write_csv(tmp_path / "oct.csv", TIME_HEADER,
                        [GOOD_ROWS[1], GOOD_ROWS[2], time_row("T4", hours="3")])
    result = intake.import_file(ledger, overlap)
    assert (result.new, result.changed, result.unchanged) == (2, 0, 1)
    assert sorted(ledger.time_entries()["entry_id"]) == ["T1", "T2", "T3", "T4"]
    batches = ledger.read_frame(t.import_batches)
    assert batches["rows_new"].tolist() == [2, 0, 2]

    # another source name is another key space: the same ids are new there
    other = intake.import_file(ledger, first, source="other_system")
    assert other.new == 2 and other.source == "other_system"
    assert ledger.count(t.time_entries) == 6


def test_changed_row_updates_wip_entry_with_audit(ledger, tmp_path):
    intake.import_file(ledger, write_csv(tmp_path / "a.csv", TIME_HEADER, GOOD_ROWS))
    pk_before = ledger.time_entries().set_index("entry_id").loc["T2", "entry_pk"]
    changed = [GOOD_ROWS[0], time_row("T2", tk="TK02", hours="0.5", rate="350", amount="175",
                                      narrative="Call with client re: settlement"), GOOD_ROWS[2]]
    result = intake.import_file(ledger, write_csv(tmp_path / "b.csv", TIME_HEADER, changed), actor="bob")
    assert (result.new, result.changed, result.unchanged) == (0, 1, 2)

    entries = ledger.time_entries().set_index("entry_id")
    assert len(entries) == 3
    t2 = entries.loc["T2"]
    assert (t2["entry_pk"], t2["hours_milli"], t2["amount_minor"], t2["status"]) == (pk_before, 500, 17500, "WIP")
    assert t2["narrative"] == "Call with client re: settlement"
    assert t2["batch_id"] == result.batch_ids[0]

    updates = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "update"))
    assert len(updates) == 1
    audit = updates.iloc[0]
    assert (audit["table_name"], audit["row_key"], audit["actor"]) == ("time_entries", str(pk_before), "bob")
    assert (audit["before"]["hours_milli"], audit["after"]["hours_milli"]) == (100, 500)
    assert audit["before"]["narrative"] == "Call with client"
    assert audit["after"]["narrative"] == "Call with client re: settlement"
    assert audit["before"]["row_hash"] != audit["after"]["row_hash"]


def test_change_to_billed_entry_is_refused(ledger, tmp_path):
    intake.import_file(ledger, write_csv(tmp_path / "a.csv", TIME_HEADER, GOOD_ROWS))
    with ledger.transaction() as conn:
        conn.execute(t.time_entries.update().where(t.time_entries.c.source_key == "T1")
                     .values(status="billed"))
    before = counts(ledger)
    rows = [time_row("T1", hours="2", amount="1000.00"), GOOD_ROWS[1], GOOD_ROWS[2], time_row("T9")]
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, write_csv(tmp_path / "b.csv", TIME_HEADER, rows))
    assert problems_of(caught.value) == [
        (2, "entry_id", "T1", "this entry is already billed; changes to billed time must go "
                              "through a credit note")]
    assert counts(ledger) == before  # not even the new row T9
    assert ledger.time_entries().set_index("entry_id").loc["T1", "hours_milli"] == 1250
    # unchanged billed entries are no problem: the original file imports as 'nothing new'
    again = intake.import_file(ledger, tmp_path / "a.csv")
    assert (again.new, again.unchanged) == (0, 3)


# --------------------------------------------------------------------------- narratives
@pytest.mark.parametrize("kind_of_file", ["csv", "xlsx"])
def test_formula_like_narratives_are_stored_as_text(ledger, tmp_path, kind_of_file):
    rows = [time_row(f"F{i}", narrative=text) for i, text in enumerate(FORMULA_NARRATIVES)]
    if kind_of_file == "csv":
        path = write_csv(tmp_path / "f.csv", TIME_HEADER, rows)
    else:
        path = write_xlsx(tmp_path / "f.xlsx", TIME_HEADER, rows)
    intake.import_file(ledger, path)
    stored = ledger.time_entries().sort_values("entry_id")["narrative"].tolist()
    assert stored == FORMULA_NARRATIVES


# --------------------------------------------------------------------------- pm_activities
def pm_rows() -> list[list]:
    return [
        [1001, "TimeEntry", "10/05/2026", "Jane Smith", "C0001-0003 Acme v. Beta", 1.5, 500, 750,
         "Draft motion to compel", "L110", "A103", "", "No"],
        [1002, "ExpenseEntry", dt.date(2026, 10, 6), "bob lee", "C0001-0003 Acme v. Beta", 120,
         0.15, 18, "Copies", "", "", "E101", "No"],
        [1003, "TimeEntry", dt.date(2026, 10, 7), "ANA  RUIZ", "C0002-0001 Beta KK deal", 2,
         30000, 60000, "=Internal: call", "", "", "", "Yes"],
        [1004, "ExpenseEntry", "10/8/2026", "Jane Smith", "C0001-0004 Acme lease", 1, 350, 350,
         "Filing fee", "", "", "E112", ""],
    ]


def test_pm_activities_mixed_file(ledger, tmp_path):
    path = write_xlsx(tmp_path / "activities.xlsx", PM_HEADER, pm_rows(), sheet="Activities")
    result = intake.import_file(ledger, path, "all", "pm_activities", actor="sam")
    assert result.kinds["time"].new == 2 and result.kinds["expenses"].new == 2
    assert len(set(result.batch_ids)) == 2 and result.skipped == {}

    time = ledger.time_entries().set_index("entry_id")
    assert list(time.index) == ["1001", "1003"]
    assert set(time["source"]) == {"pm_activities"}
    first = time.loc["1001"]
    assert (first["timekeeper_id"], first["matter_id"], first["work_date"]) == \
        ("TK01", "C0001-0003", pd.Timestamp("2026-10-05"))
    assert (first["hours_milli"], first["rate_minor"], first["amount_minor"]) == (1500, 50000, 75000)
    assert (first["task_code"], first["activity_code"], bool(first["billable"])) == ("L110", "A103", True)
    third = time.loc["1003"]
    assert (third["timekeeper_id"], third["currency"], bool(third["billable"])) == ("TK03", "JPY", False)
    assert third["narrative"] == "=Internal: call"

    exp = ledger.expenses().set_index("entry_id")
    assert exp.loc["1002", ["timekeeper_id", "quantity_milli", "unit_cost_minor", "amount_minor",
                            "expense_code"]].tolist() == ["TK02", 120000, 15, 1800, "E101"]
    assert exp.loc["1004", "work_date"] == pd.Timestamp("2026-10-08")
    assert bool(exp.loc["1004", "billable"])  # blank Non-billable means billable

    # importing only the time of the same file skips (and counts) its expense rows
    only_time = intake.import_file(ledger, path, "time", "pm_activities")
    assert only_time.skipped == {"expenses": 2} and only_time.unchanged == 2
    assert "2 expenses in the file were not imported" in only_time.summary()

    # a billed expense changed in a later export is refused, named by the file's own column
    with ledger.transaction() as conn:
        conn.execute(t.expenses.update().where(t.expenses.c.source_key == "1002")
                     .values(status="billed"))
    rows = pm_rows()
    rows[1][7] = 19
    before = counts(ledger)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, write_xlsx(tmp_path / "later.xlsx", PM_HEADER, rows),
                           "expenses", "pm_activities")
    assert problems_of(caught.value) == [
        (3, "ID", "1002", "this entry is already billed; changes to billed expenses must go "
                          "through a credit note")]
    assert counts(ledger) == before


def test_pm_activities_problems(ledger, tmp_path):
    # as a CSV export writes them: dates as US text
    rows = [[v.strftime("%m/%d/%Y") if isinstance(v, dt.date) else v for v in row] for row in pm_rows()]
    rows[0][3] = "Jane Smiht"
    rows[1][1] = "Flat fee"
    rows[2][4] = "Acme general"
    rows[3][2] = "2026-10-08"  # ISO is not what this export writes
    rows[3][12] = "Maybe"
    before = counts(ledger)
    with pytest.raises(InputError) as caught:
        intake.import_file(ledger, write_csv(tmp_path / "act.csv", PM_HEADER, rows), "all", "pm_activities")
    assert problems_of(caught.value) == [
        (2, "User", "Jane Smiht", "no timekeeper has this user name in the ledger"),
        (3, "Type", "Flat fee", "is not a type this profile knows; expected one of: TimeEntry, ExpenseEntry"),
        (4, "Matter", "Acme general", "no matter with this number in the ledger"),
        (5, "Date", "2026-10-08", "is not a date (expected MM/DD/YYYY or MM/DD/YY)"),
        (5, "Non-billable", "Maybe", "should be Yes or No"),
    ]
    assert counts(ledger) == before


# --------------------------------------------------------------------------- pure parts
def test_check_entries_returns_the_schema_frame(reference, tmp_path):
    raw = intake.read_table(write_csv(tmp_path / "t.csv", TIME_HEADER, GOOD_ROWS))
    assert raw.columns == tuple(TIME_HEADER) and raw.rows.tolist() == [2, 3, 4]
    frame, problems = intake.check_entries(raw, intake.load_profile("canonical"), reference, "time")
    assert problems == []
    assert list(frame.columns) == list(schema.TIME_FRAME)
    assert {c: str(frame[c].dtype) for c in frame} == {c: str(pd.Series(dtype=d).dtype)
                                                       for c, d in schema.TIME_FRAME.items()}
    assert frame["row"].tolist() == [2, 3, 4]


def test_header_row_further_down(reference, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Time export\nPeriod: October 2026\n" + ",".join(TIME_HEADER) + "\n"
                    + ",".join(time_row("T1", hours="x")) + "\n", encoding="utf-8")
    raw = intake.read_table(path, header_row=3)
    _, problems = intake.check_entries(raw, intake.load_profile("canonical"), reference, "time")
    assert [(p.row, p.column, p.reason) for p in problems] == [(4, "hours", "is not a number")]


def test_profile_typo_names_the_key(tmp_path):
    text = (Path(intake.__file__).parent / "profiles" / "canonical.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "mine.yaml"
    bad.write_text(text.replace("    narrative: narrative\n", "    narative: narrative\n", 1)
                   .replace("timekeeper_lookup: timekeeper_id", "timekeeper_lookup: initials"),
                   encoding="utf-8")
    with pytest.raises(InputError) as caught:
        intake.load_profile(str(bad))
    keys = {p.column: p.reason for p in caught.value.problems}
    assert set(keys) == {"time.columns.narative", "timekeeper_lookup"}
    assert keys["time.columns.narative"].startswith("'narative' is not a setting billxl knows")
    assert "narrative" in keys["time.columns.narative"]  # lists the allowed keys
    with pytest.raises(InputError, match="There is no profile named 'nope'"):
        intake.load_profile("nope")


def test_shipped_profiles_load():
    assert intake.profile_names() == ["canonical", "clio-activities", "harvest-detailed",
                                      "harvest-import", "juris-time", "pm_activities",
                                      "toggl-detailed"]
    for name in intake.profile_names():
        assert intake.load_profile(name).name == name
    pm = intake.load_profile("pm_activities")
    assert pm.kinds == ("time", "expenses") and pm.type_column == "Type"
    taken, unmatched = intake._taken(np.array(["C0001-0003 Acme v. Beta", "  "], dtype=object),
                                     pattern=__import__("re").compile(pm.patterns["matter"]),
                                     name="matter")
    assert taken.tolist() == ["C0001-0003", ""] and unmatched.tolist() == [False, False]


def test_matter_pattern_is_the_older_spelling_of_patterns_matter(tmp_path):
    text = (Path(intake.__file__).parent / "profiles" / "pm_activities.yaml").read_text(encoding="utf-8")
    old = tmp_path / "old.yaml"
    old.write_text(text.replace("patterns:\n  matter:", "matter_pattern:"), encoding="utf-8")
    assert "matter_pattern" in old.read_text(encoding="utf-8")
    assert intake.load_profile(old).patterns == intake.load_profile("pm_activities").patterns


def test_row_hash_matches_schema():
    frame = pd.DataFrame({
        "timekeeper_id": pd.Series(["TK1", None, "é=x"], dtype="string"),
        "matter_id": pd.Series(["M1", "M2", ""], dtype="string"),
        "work_date": pd.Series(pd.to_datetime(["2026-10-05", None, "1999-01-31"])).astype("datetime64[ns]"),
        "hours_milli": pd.Series([1250, 0, -5], dtype="int64"),
        "rate_minor": pd.Series([50000, None, 7], dtype="Int64"),
        "amount_minor": pd.Series([None, None, 7], dtype="Int64"),
        "narrative": pd.Series(["=SUM(A1)", "", "line\nbreak \x1f"], dtype="string"),
        "task_code": pd.Series([None, "L110", None], dtype="string"),
        "activity_code": pd.Series([None, "A101", None], dtype="string"),
        "billable": pd.Series([True, False, True], dtype="bool"),
    })
    assert schema.row_hash(frame, schema.TIME_CONTENT).tolist() == \
        _reference_row_hash(frame, schema.TIME_CONTENT)


def _reference_row_hash(frame, columns):
    """The definition of the row hash, written plainly (the fast one must equal it)."""
    text = frame[columns[0]].astype("string").fillna("\x00")
    for col in columns[1:]:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d")
        text = text + "\x1f" + values.astype("string").fillna("\x00")
    hashed = pd.util.hash_pandas_object(text, index=False).to_numpy()
    return [f"{h:016x}" for h in hashed]


decimals = st.decimals(min_value=Decimal("-99999999.999"), max_value=Decimal("99999999.999"),
                       places=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(decimals, min_size=1, max_size=20), st.booleans())
def test_text_numbers_parse_exactly(values, thousands):
    texts = [f"{v:,f}" if thousands else f"{v:f}" for v in values]
    parsed, status = cells.scaled_text(np.array(texts, dtype=str), 3)
    assert status.tolist() == [cells.OK] * len(values)
    assert parsed.tolist() == [int(v * 1000) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=-10**12, max_value=10**12), min_size=1, max_size=20))
def test_workbook_doubles_snap_to_the_grid(millis):
    # what Excel stores for a number typed with up to 3 decimals: the nearest double
    doubles = np.array([float(Decimal(m) / 1000) for m in millis])
    parsed, status = cells.scaled_floats(doubles, 3)
    assert status.tolist() == [cells.OK] * len(millis) and parsed.tolist() == millis
    # a fourth decimal is refused (below 10**8 thousandths the 1e-9 tolerance is < 0.1)
    moderate = doubles[np.abs(doubles) < 1e5]
    _, off_status = cells.scaled_floats(moderate + 0.0004, 3)
    assert set(off_status.tolist()) <= {cells.TOO_PRECISE}


def test_text_numbers_refused():
    texts = np.array(["1,25", "1.2345", "abc", "", "--1", "1e3", "12,345.6789", "$1,250.50", " -0.5 "])
    parsed, status = cells.scaled_text(texts, 3)
    assert status.tolist() == [cells.NOT_NUMBER, cells.TOO_PRECISE, cells.NOT_NUMBER,
                               cells.BLANK, cells.NOT_NUMBER, cells.NOT_NUMBER,
                               cells.TOO_PRECISE, cells.OK, cells.OK]
    assert parsed[-2:].tolist() == [1250500, -500]


def test_dates_with_a_midnight_time_are_dates():
    column = np.array(["2026-10-05 00:00:00", "2026-10-06T00:00", "2026-10-07 09:30:00",
                       "2026-10-08"], dtype=object)
    days, bad, _far, _blank = cells.parse_dates(column, ("%Y-%m-%d",))
    assert [str(d)[:10] for d in days[~bad]] == ["2026-10-05", "2026-10-06", "2026-10-08"]
    assert bad.tolist() == [False, False, True, False]


def test_durations_are_exact_thousandths_of_an_hour_rounded_half_up():
    column = np.array(["1:30", "01:30:00", "0:00:09", "0:00:08", "0:17:23", "27:05:10", "1:60",
                       "1.5", "", dt.timedelta(hours=2, minutes=6), dt.time(0, 45, 18)], dtype=object)
    values, found = cells.scaled_durations(column, 3)
    assert found.tolist() == [True, True, True, True, True, True, False, False, False, True, True]
    # 9 s is 2.5 thousandths (up to 3); 8 s is 2.22 (down to 2); 1,043 s is 289.72
    assert values[found].tolist() == [1500, 1500, 3, 2, 290, 27086, 2100, 755]


def test_text_numbers_with_other_marks():
    parsed, status = cells.scaled_text(np.array(["1,5", "1.234,50", "1.5", "1.500", "1,500", "12.34.5"]),
                                       3, decimal=",", thousands=".")
    assert status.tolist() == [cells.OK, cells.OK, cells.NOT_NUMBER, cells.OK, cells.OK,
                               cells.NOT_NUMBER]
    assert parsed[[0, 1, 3, 4]].tolist() == [1500, 1234500, 1500000, 1500]
    parsed, status = cells.scaled_text(np.array(["1 234.5", "1\u00a0234.5", "1,234.5", "12 34.5"]),
                                       3, decimal=".", thousands=" ")
    assert status.tolist() == [cells.OK, cells.OK, cells.NOT_NUMBER, cells.NOT_NUMBER]
    assert parsed[:2].tolist() == [1234500, 1234500]
