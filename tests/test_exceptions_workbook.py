"""The exceptions workbook: what is in it, that text stays text, and that LibreOffice opens it."""

from __future__ import annotations

import openpyxl
import pandas as pd

from billxl.excel.exceptions_workbook import write_exceptions_workbook
from tests.office import recalculated

ENTRY = {"entry_id": "T1", "work_date": pd.Timestamp("2026-10-05"), "timekeeper_id": "TK1",
         "timekeeper_name": "Smith, Jane", "matter_id": "C0001-0001", "client_id": "C0001",
         "hours_milli": 1250, "rate_minor": 65000, "amount_minor": 81250, "currency": "USD",
         "task_code": "L110", "activity_code": "A101", "narrative": "=HYPERLINK(\"x\") review",
         "status": "open", "suggestion": None}


def findings():
    return pd.DataFrame([
        {**ENTRY, "rule": "FORMULA_TEXT", "severity": "warning",
         "message": "The narrative starts with '=' and a spreadsheet would read it as a formula."},
        {**ENTRY, "rule": "INCREMENT", "severity": "error",
         "message": "Hours 1.25 are not a multiple of the client's 0.1-hour increment."},
        {**ENTRY, "entry_id": "T2", "timekeeper_id": "TK2", "timekeeper_name": "Patel, Raj",
         "narrative": "Review file", "hours_milli": 300, "amount_minor": 19500,
         "rule": "VAGUE", "severity": "warning", "message": "The narrative is too vague."},
    ])


def test_sheets_rows_and_text_that_stays_text(tmp_path):
    path = write_exceptions_workbook(tmp_path / "exceptions.xlsx", findings(), title="October 2026")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Exceptions", "Summary", "Queries"]
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["Severity", "Rule", "Finding", "Entry"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    assert [r[1] for r in rows] == ["INCREMENT", "FORMULA_TEXT", "VAGUE"]  # errors first
    narrative = rows[0][header.index("Narrative")]
    assert narrative == '=HYPERLINK("x") review'
    assert sheet.cell(4, header.index("Narrative") + 1).data_type == "s"  # a string, not a formula
    assert rows[0][header.index("Amount")] == 812.5
    assert rows[0][header.index("Hours")] == 1.25
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:Q6"
    queries = [[c.value for c in r] for r in book["Queries"].iter_rows()]
    blocks = [r[0] for r in queries if r[0] and " — " in str(r[0])]
    assert blocks == ["Patel, Raj — 1 entry", "Smith, Jane — 1 entry"]


def test_libreoffice_opens_it_with_the_same_values(tmp_path):
    path = write_exceptions_workbook(tmp_path / "exceptions.xlsx", findings(), title="October 2026")
    book = recalculated(path, tmp_path / "lo")
    sheet = book["Exceptions"]
    assert sheet["B4"].value == "INCREMENT"
    assert sheet["K4"].value == '=HYPERLINK("x") review'
    assert sheet["I4"].value == 812.5
    summary = [[c.value for c in r] for r in book["Summary"].iter_rows()]
    by_rule = {r[0]: r[1:5] for r in summary if r[0] in {"INCREMENT", "VAGUE", "FORMULA_TEXT"}}
    assert by_rule["INCREMENT"] == [1, 0, 0, 1]
    assert by_rule["VAGUE"] == [0, 1, 0, 1]


def test_printed_at_a_readable_size_and_columns_wide_enough(tmp_path):
    """The Exceptions sheet prints Severity to Narrative one page wide at 7.5 pt or more (all
    seventeen columns printed at about 4 pt); a date never runs into the matter beside it."""
    from billxl.excel import fitting

    long_name = {"timekeeper_name": "Montgomery-Fitzwilliam, Alexandra Katherine"}
    frame = pd.concat([findings(), pd.DataFrame([{**ENTRY, **long_name, "rule": "VAGUE",
                                                  "severity": "warning", "message": "Vague."}])])
    path = write_exceptions_workbook(tmp_path / "exceptions.xlsx", frame, title="October 2026")
    book = openpyxl.load_workbook(path)
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[3]]
    assert sheet.print_area == "'Exceptions'!$A$1:$K$7"
    assert header[10] == "Narrative"
    assert sheet.page_setup.orientation == "landscape"
    # one page wide (1, the default, is left out of the file), as many pages tall as it takes
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    widths = [sheet.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
              for i in range(11)]
    assert fitting.printed_scale(widths) * 10 >= fitting.MIN_PRINTED_PT
    assert sheet.print_title_rows == "$3:$3"
    date_col = openpyxl.utils.get_column_letter(header.index("Date") + 1)
    assert sheet.column_dimensions[date_col].width >= fitting.units_for(
        fitting.text_px("2026-10-05"))
    name_col = openpyxl.utils.get_column_letter(header.index("Timekeeper") + 1)
    cell = next(c for c in sheet[name_col] if c.value == long_name["timekeeper_name"])
    # wider than its column may be: it wraps, and its row is tall enough for the lines
    width = sheet.column_dimensions[name_col].width
    assert cell.alignment.wrap_text and fitting.lines(cell.value, width) >= 2
    assert sheet.row_dimensions[cell.row].height >= fitting.row_height(fitting.lines(cell.value, width))
    queries = book["Queries"]
    assert queries.column_dimensions["A"].width >= fitting.units_for(fitting.text_px("2026-10-05"))
    assert queries.row_breaks.count == 2  # three lawyers: each block after the first starts a page
