"""The demo firm's spreadsheets: its timekeeping export written as an XLSX file, and a billing
partner's review typed into a pre-bill workbook, as a person would.

Used by :mod:`billxl.demo` and :mod:`billxl.monthend`; here because writing and editing
workbooks is this package's job (xlsxwriter, openpyxl).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from billxl.excel.prebill_workbook import SHEET

__all__ = ["write_time_export", "review_prebill"]


def write_time_export(frame: pd.DataFrame, path: str | Path, columns) -> None:
    """``frame`` as a timekeeping export: dates as date cells, numbers as numbers, every text
    cell as text (a narrative starting with '=' is never a formula)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    try:
        sheet = book.add_worksheet("Time entries")
        bold = book.add_format({"bold": True})
        day_format = book.add_format({"num_format": "yyyy-mm-dd"})
        hours_format = book.add_format({"num_format": "0.0##"})
        money_format = book.add_format({"num_format": "#,##0.00"})
        columns = list(columns)
        widths = {"entry_id": 16, "date": 11, "timekeeper_name": 22, "matter_id": 12,
                  "narrative": 70, "entered_on": 11}
        for j, name in enumerate(columns):
            sheet.set_column(j, j, widths.get(name, 10))
            sheet.write_string(0, j, name, bold)
        sheet.freeze_panes(1, 0)

        # Numbers and dates go in as doubles: a date is its Excel serial with a date format.
        epoch = np.datetime64("1899-12-30", "D")

        def serials(name):
            days = np.array(frame[name].tolist(), dtype="datetime64[D]")
            return (days - epoch).astype(np.int64).tolist()

        def numbers(name):
            return [float(v) for v in frame[name].tolist()]

        kinds = {"date": ("date", serials("date")), "entered_on": ("date", serials("entered_on")),
                 "hours": ("hours", numbers("hours")), "rate": ("money", numbers("rate")),
                 "amount": ("money", numbers("amount")),
                 "billable": ("bool", frame["billable"].tolist())}
        data = [kinds[c][1] if c in kinds else frame[c].tolist() for c in columns]
        kind = [kinds[c][0] if c in kinds else "text" for c in columns]
        write_string, write_number = sheet.write_string, sheet.write_number
        write_boolean = sheet.write_boolean
        formats = {"date": day_format, "hours": hours_format, "money": money_format}
        plan = list(enumerate(kind))
        for i, row in enumerate(zip(*data, strict=True), start=1):
            for j, how in plan:
                value = row[j]
                if how == "text":
                    if value:
                        write_string(i, j, value)
                elif how == "bool":
                    write_boolean(i, j, value)
                else:
                    write_number(i, j, value, formats[how])
    finally:
        book.close()


#: What a careful partner does with a line the client would reject (its 'Held at finalize
#: for' cell names the rule): the fix the workbook can make, else hold the line in WIP until
#: its entry is corrected (codes, narratives are the entry's).
_INCREMENT = re.compile(r"client's ([0-9.]+)-hour increment")
_AT_MOST = re.compile(r"(?:Bill at most|Bill at) ([0-9,]+(?:\.[0-9]+)?)")


def _careful(held: str, hours, kind: str) -> dict:
    """The cells a partner changes on a line held for ``held`` (rule: what. Fix: ...)."""
    rules = set(re.findall(r"^([A-Z_]+):", held, flags=re.MULTILINE))
    step = _INCREMENT.search(held)
    limit = _AT_MOST.search(held)
    if rules <= {"ADMIN_TASK", "INTERNAL_CONFERENCE"}:
        return {"Action": "no_charge", "Reason": "WD-CLIENT"}
    if rules == {"INCREMENT"} and step and hours:
        inc = Decimal(step.group(1))
        down = (Decimal(str(hours)) // inc) * inc
        return {"Bill hours": float(down), "Reason": "WD-CLIENT"}
    if rules <= {"EXPENSE_CAP"} and limit and kind == "expense":
        return {"Bill amount": float(limit.group(1).replace(",", "")), "Reason": "WD-CLIENT"}
    if rules <= {"RATE_CAP", "RATE_INCREASE_UNAPPROVED"} and limit:
        return {"Bill rate": float(limit.group(1).replace(",", "")), "Reason": "WD-CLIENT"}
    return {"Action": "hold", "Reason": None}


def review_prebill(path: str | Path, signed_on) -> None:
    """What a billing partner does with a pre-bill in the demo: write off the duplicates the
    checks found, write down vague and block-billed time by a fifth, put internal conferences
    at no charge, fix (or hold in WIP) each line the client would reject at finalize (the
    'Held at finalize for' column), and sign every matter. Edited in the workbook itself, as a
    person would."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book[SHEET]
    header = next(r for r in sheet.iter_rows(max_row=20) if r[0].value == "Date")
    col = {c.value: c.column for c in header if c.value}
    initials = "".join(w[0] for w in str(sheet.cell(2, 1).value or "").split()[-2:]) or "BP"
    for row in range(header[0].row + 1, sheet.max_row + 1):
        kind = sheet.cell(row, col["entry_kind"]).value

        def put(name, value, row=row):
            sheet.cell(row, col[name]).value = value

        if kind == "approval":
            put("Narrative", initials.upper())
            put("Worked value", datetime.combine(signed_on, datetime.min.time()))
            continue
        found = str(sheet.cell(row, col["Open findings"]).value or "")
        held = str(sheet.cell(row, col["Held at finalize for"]).value or "")
        hours = sheet.cell(row, col["Bill hours"]).value
        if held and "DUPLICATE" not in found:
            for name, value in _careful(held, hours, kind).items():
                put(name, value)
        elif "DUPLICATE" in found:
            put("Action", "write_off")
            put("Reason", "WD-DUP")
        elif "INTERNAL_CONFERENCE" in found:
            put("Action", "no_charge")
            put("Reason", "WD-CLIENT")
        elif kind == "time" and ("VAGUE" in found or "BLOCK_BILLING" in found) and hours:
            put("Bill hours", round(float(hours) * 0.8, 3))  # on the increment at apply
            put("Reason", "WD-INEFF")
    book.save(path)
