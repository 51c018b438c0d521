"""The exceptions workbook a secretary works from after reconciliation.

Sheets: **Exceptions** (one row per finding beside the entry's details; severity colours,
filters, frozen header), **Summary** (by rule and by timekeeper) and **Queries** (what to ask
each lawyer, grouped by lawyer). Written with XlsxWriter; every text cell is written as a string
(a narrative that starts with ``=`` stays text) and the file appears atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from billxl import money
from billxl.atomic import atomic_path

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_FILL = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}

#: (header, frame column, width, kind)
EXCEPTION_COLUMNS = [
    ("Severity", "severity", 9, "text"),
    ("Rule", "rule", 22, "text"),
    ("Status", "status", 9, "text"),
    ("Finding", "message", 60, "wrap"),
    ("Suggestion", "suggestion", 40, "wrap"),
    ("Entry", "entry_id", 16, "text"),
    ("Date", "work_date", 11, "date"),
    ("Timekeeper", "timekeeper_name", 20, "text"),
    ("Matter", "matter_id", 13, "text"),
    ("Client", "client_id", 9, "text"),
    ("Hours", "hours_milli", 7, "hours"),
    ("Rate", "rate_minor", 10, "money"),
    ("Amount", "amount_minor", 11, "money"),
    ("Cur.", "currency", 5, "text"),
    ("Task", "task_code", 6, "text"),
    ("Activity", "activity_code", 8, "text"),
    ("Narrative", "narrative", 70, "wrap"),
]


def _formats(book: xlsxwriter.Workbook) -> dict:
    base = {"valign": "top", "font_size": 10}
    fmt = {
        "header": book.add_format({**base, "bold": True, "bg_color": "#1F3864",
                                   "font_color": "#FFFFFF", "text_wrap": True}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "subtitle": book.add_format({"italic": True, "font_color": "#595959"}),
        "group": book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "top": 1}),
        "bold": book.add_format({**base, "bold": True}),
    }
    for sev, colour in (("plain", None), *SEVERITY_FILL.items()):
        extra = {"bg_color": colour} if colour else {}
        fmt[(sev, "text")] = book.add_format({**base, **extra})
        fmt[(sev, "wrap")] = book.add_format({**base, **extra, "text_wrap": True})
        fmt[(sev, "date")] = book.add_format({**base, **extra, "num_format": "yyyy-mm-dd"})
        fmt[(sev, "hours")] = book.add_format({**base, **extra, "num_format": "0.00#"})
        fmt[(sev, "money")] = book.add_format({**base, **extra, "num_format": "#,##0.00"})
        fmt[(sev, "int")] = book.add_format({**base, **extra, "num_format": "#,##0"})
    return fmt


def _print_setup(sheet, header_row: int | None = None) -> None:
    """Landscape, one page wide, header repeated: readable when someone prints it."""
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    if header_row is not None:
        sheet.repeat_rows(header_row)


def _fit_height(sheet, row: int, texts_and_widths: list[tuple[object, int]]) -> None:
    """XlsxWriter cannot autofit; size a row for its longest wrapped text (13 pt a line)."""
    lines = 1
    for text, width in texts_and_widths:
        if isinstance(text, str) and text:
            lines = max(lines, sum(1 + len(part) // max(width - 2, 1) for part in text.split("\n")))
    if lines > 1:
        sheet.set_row(row, 13 * min(lines, 30))


def _write_cell(sheet, row: int, col: int, kind: str, value, fmt, currency: str = "USD") -> None:
    """One cell, typed: strings are always strings (never formulas), numbers exact to the cent."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        sheet.write_blank(row, col, None, fmt)
    elif kind == "date":
        sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmt)
    elif kind == "hours":
        sheet.write_number(row, col, float(money.milli_to_qty(int(value))), fmt)
    elif kind == "money":
        sheet.write_number(row, col, float(money.from_minor(int(value), currency)), fmt)
    elif kind == "int":
        sheet.write_number(row, col, int(value), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _sorted(findings: pd.DataFrame) -> pd.DataFrame:
    order = findings["severity"].map(SEVERITY_ORDER).fillna(3)
    return (findings.assign(_sev=order)
            .sort_values(["_sev", "rule", "timekeeper_name", "work_date", "entry_id"],
                         kind="stable")
            .drop(columns="_sev"))


def _exceptions_sheet(book, fmt, findings: pd.DataFrame, title: str) -> None:
    sheet = book.add_worksheet("Exceptions")
    sheet.write_string(0, 0, title, fmt["title"])
    header_row = 2
    for col, (header, _field, width, _kind) in enumerate(EXCEPTION_COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write_string(header_row, col, header, fmt["header"])
    for i, rec in enumerate(findings.to_dict("records"), start=header_row + 1):
        sev = rec.get("severity") if rec.get("severity") in SEVERITY_FILL else "plain"
        currency = rec.get("currency") or "USD"
        for col, (_header, field, _width, kind) in enumerate(EXCEPTION_COLUMNS):
            _write_cell(sheet, i, col, kind, rec.get(field), fmt[(sev, kind)], currency)
        _fit_height(sheet, i, [(rec.get(f), w) for _h, f, w, k in EXCEPTION_COLUMNS if k == "wrap"])
    last = header_row + max(len(findings), 1)
    sheet.autofilter(header_row, 0, last, len(EXCEPTION_COLUMNS) - 1)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_row(header_row, 30)
    _print_setup(sheet, header_row)


def _summary_sheet(book, fmt, findings: pd.DataFrame, title: str) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write_string(0, 0, f"Summary — {title}", fmt["title"])
    severities = ["error", "warning", "info"]

    def table(top: int, label: str, by: str, names: dict[str, str]) -> int:
        headers = [label, "Errors", "Warnings", "Info", "Findings", "Entries", "Hours"]
        for col, h in enumerate(headers):
            sheet.write_string(top, col, h, fmt["header"])
        counts = (findings.pivot_table(index=by, columns="severity", values="entry_id",
                                       aggfunc="size", fill_value=0)
                  .reindex(columns=severities, fill_value=0))
        entries = findings.drop_duplicates([by, "entry_id"])
        per = entries.groupby(by).agg(n=("entry_id", "size"), hours=("hours_milli", "sum"))
        table_ = counts.join(per).sort_values(severities, ascending=False)
        row = top
        for row, (key, rec) in enumerate(table_.iterrows(), start=top + 1):
            sheet.write_string(row, 0, names.get(key, str(key)), fmt[("plain", "text")])
            for col, sev in enumerate(severities, start=1):
                sheet.write_number(row, col, int(rec[sev]), fmt[(sev, "int")] if rec[sev] else
                                   fmt[("plain", "int")])
            sheet.write_number(row, 4, int(rec[severities].sum()), fmt[("plain", "int")])
            sheet.write_number(row, 5, int(rec["n"]), fmt[("plain", "int")])
            _write_cell(sheet, row, 6, "hours", rec["hours"], fmt[("plain", "hours")])
        return row + 3

    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 6, 10)
    _print_setup(sheet)
    row = table(2, "Rule", "rule", {})
    names = dict(zip(findings["timekeeper_id"], findings["timekeeper_name"], strict=False))
    table(row, "Timekeeper", "timekeeper_id", names)


def _queries_sheet(book, fmt, findings: pd.DataFrame) -> None:
    """Per lawyer, the entries to ask about and what to ask."""
    sheet = book.add_worksheet("Queries")
    sheet.write_string(0, 0, "Queries for each lawyer", fmt["title"])
    sheet.write_string(1, 0, "Send each lawyer their block; record answers in the ledger "
                       "(resolve, or waive with a reason).", fmt["subtitle"])
    headers = ["Date", "Matter", "Hours", "Entry", "Narrative", "Please check"]
    widths = [11, 13, 7, 16, 70, 70]
    kinds = ["date", "text", "hours", "text", "wrap", "wrap"]
    for col, w in enumerate(widths):
        sheet.set_column(col, col, w)
    _print_setup(sheet)
    row = 3
    asks = findings[findings["severity"].isin(["error", "warning"])]
    for (name, _tk), block in asks.groupby(["timekeeper_name", "timekeeper_id"], sort=True):
        entries = block.groupby("entry_id", sort=False).agg(
            work_date=("work_date", "first"), matter_id=("matter_id", "first"),
            hours_milli=("hours_milli", "first"), narrative=("narrative", "first"),
            ask=("message", lambda m: "\n".join(f"• {x}" for x in m)),
        ).sort_values(["work_date", "matter_id"])
        sheet.merge_range(row, 0, row, len(headers) - 1,
                          f"{name} — {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}",
                          fmt["group"])
        row += 1
        for col, h in enumerate(headers):
            sheet.write_string(row, col, h, fmt["header"])
        for rec in entries.reset_index().to_dict("records"):
            row += 1
            values = [rec["work_date"], rec["matter_id"], rec["hours_milli"], rec["entry_id"],
                      rec["narrative"], rec["ask"]]
            for col, (kind, value) in enumerate(zip(kinds, values, strict=True)):
                _write_cell(sheet, row, col, kind, value, fmt[("plain", kind)])
            _fit_height(sheet, row, [(rec["narrative"], widths[4]), (rec["ask"], widths[5])])
        row += 2


def write_exceptions_workbook(path: str | Path, findings: pd.DataFrame, *, title: str) -> Path:
    """Write the exceptions workbook for ``findings`` (one row each, with entry details).

    ``findings`` columns: rule, severity, status, message, suggestion, entry_id, work_date,
    timekeeper_id, timekeeper_name, matter_id, client_id, hours_milli, rate_minor, amount_minor,
    currency, task_code, activity_code, narrative.
    """
    findings = _sorted(findings)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                              "strings_to_numbers": False,
                                              "strings_to_urls": False})
        fmt = _formats(book)
        _exceptions_sheet(book, fmt, findings, title)
        _summary_sheet(book, fmt, findings, title)
        _queries_sheet(book, fmt, findings)
        book.close()
    return Path(path)
