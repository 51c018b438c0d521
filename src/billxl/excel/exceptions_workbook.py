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

from billxl import cells, money
from billxl.atomic import atomic_path
from billxl.excel import fitting

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_FILL = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}

#: (header, frame column, kind, least width, widest): the columns printed, then the ones shown
#: on screen only. Widths follow the values (wider ones wrap); printed, the first ones fit one
#: landscape page at a readable size (a row of all seventeen would print at about 4 pt).
PRINTED_COLUMNS = [
    ("Severity", "severity", "text", 6, 10),
    ("Rule", "rule", "text", 6, 26),
    ("Finding", "message", "wrap", 16, 30),
    ("Entry", "entry_id", "text", 6, 18),
    ("Date", "work_date", "date", 6, 12),
    ("Timekeeper", "timekeeper_name", "text", 8, 20),
    ("Matter", "matter_id", "text", 6, 16),
    ("Hours", "hours_milli", "hours", 5, 9),
    ("Amount", "amount_minor", "money", 6, 14),
    ("Cur.", "currency", "text", 4, 6),
    ("Narrative", "narrative", "wrap", 16, 38),
]
SCREEN_COLUMNS = [
    ("Suggestion", "suggestion", "wrap", 16, 60),  # wide: rows no taller than the print
    ("Status", "status", "text", 6, 12),
    ("Client", "client_id", "text", 6, 14),
    ("Rate", "rate_minor", "money", 6, 12),
    ("Task", "task_code", "text", 4, 8),
    ("Activity", "activity_code", "text", 4, 8),
]
EXCEPTION_COLUMNS = [*PRINTED_COLUMNS, *SCREEN_COLUMNS]
TEXT_KINDS = ("text", "wrap")
SIZE = 10  # points, every cell


def _formats(book: xlsxwriter.Workbook) -> dict:
    base = {"valign": "top", "font_name": fitting.FONT, "font_size": SIZE}
    cell = {**base, "border": 1, "border_color": "#BFBFBF"}  # lines between columns
    fmt = {
        "texts": cells.XlsxText(book),  # data text: visible, never a formula, quoted if need be
        "header": book.add_format({**cell, "bold": True, "bg_color": "#1F3864",
                                   "font_color": "#FFFFFF", "text_wrap": True}),
        "title": book.add_format({**base, "bold": True, "font_size": 14}),
        "subtitle": book.add_format({**base, "italic": True, "font_color": "#595959"}),
        "group": book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "top": 1}),
    }
    for sev, colour in (("plain", None), *SEVERITY_FILL.items()):
        extra = {"bg_color": colour} if colour else {}
        fmt[(sev, "text")] = book.add_format({**cell, **extra, "text_wrap": True})
        fmt[(sev, "wrap")] = fmt[(sev, "text")]
        # dates read like codes, from the left: never run into the next column's text
        fmt[(sev, "date")] = book.add_format({**cell, **extra, "num_format": "yyyy-mm-dd",
                                              "align": "left"})
        # numbers keep a bracket's width free on their right, clear of the next column's text
        fmt[(sev, "hours")] = book.add_format({**cell, **extra, "num_format": "0.00#_)"})
        fmt[(sev, "money")] = book.add_format({**cell, **extra, "num_format": "#,##0.00_)"})
        fmt[(sev, "int")] = book.add_format({**cell, **extra, "num_format": "#,##0_)"})
    return fmt


def _shown(kind: str, value, currency: object = "USD") -> str | None:
    """A value as its cell shows it, a number with the room its format keeps on its right: what
    its column must be wide enough for."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "date":
        return "0000-00-00"
    if kind == "hours":
        return f"{money.milli_to_qty(int(value)):.3f})"
    if kind == "money":
        cur = currency if isinstance(currency, str) and currency else "USD"
        return f"{money.from_minor(int(value), cur):,})"
    if kind == "int":
        return f"{int(value):,})"
    return str(value)


def _widths(frame: pd.DataFrame, columns) -> list[float]:
    """Each column's width from the values it shows (see :func:`fitting.column_width`)."""
    widths = []
    currencies = frame["currency"].tolist() if "currency" in frame else ["USD"] * len(frame)
    for (header, field, kind, least, widest) in columns:
        values = frame[field].tolist() if field in frame else []
        shown = {_shown(kind, v, c) for v, c in zip(values, currencies, strict=True)}
        widths.append(fitting.column_width(shown, header, size=SIZE, minimum=least,
                                           maximum=widest))
    return widths


def _fit_height(sheet, row: int, texts_and_widths: list[tuple[object, float]]) -> None:
    """Size a row for its longest wrapped text (see :mod:`billxl.excel.fitting`)."""
    lines = max((fitting.lines(text, width, SIZE) for text, width in texts_and_widths),
                default=1)
    if lines > 1:
        sheet.set_row(row, fitting.row_height(lines, SIZE))


def _write_cell(sheet, row: int, col: int, kind: str, value, fmt, currency: str = "USD",
                texts: cells.XlsxText | None = None) -> None:
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
    elif texts is not None:
        texts.write(sheet, row, col, value, fmt)
    else:
        sheet.write_string(row, col, cells.xlsx_text(str(value)), fmt)


def _sorted(findings: pd.DataFrame) -> pd.DataFrame:
    order = findings["severity"].map(SEVERITY_ORDER).fillna(3)
    return (findings.assign(_sev=order)
            .sort_values(["_sev", "rule", "timekeeper_name", "work_date", "entry_id"],
                         kind="stable")
            .drop(columns="_sev"))


def _exceptions_sheet(book, fmt, findings: pd.DataFrame, title: str) -> None:
    sheet = book.add_worksheet("Exceptions")
    sheet.write_string(0, 0, title, fmt["title"])
    printed = len(PRINTED_COLUMNS)
    sheet.write_string(1, 0, "Printed: Severity to Narrative; "
                       + ", ".join(h.lower() for h, *_ in SCREEN_COLUMNS)
                       + " are on screen beside them.", fmt["subtitle"])
    header_row = 2
    widths = _widths(findings, EXCEPTION_COLUMNS)
    for col, ((header, *_), width) in enumerate(zip(EXCEPTION_COLUMNS, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(header_row, col, header, fmt["header"])
    for i, rec in enumerate(findings.to_dict("records"), start=header_row + 1):
        sev = rec.get("severity") if rec.get("severity") in SEVERITY_FILL else "plain"
        _write_row(sheet, i, EXCEPTION_COLUMNS, widths, rec, lambda kind, s=sev: fmt[(s, kind)],
                   fmt["texts"])
    last = header_row + max(len(findings), 1)
    sheet.autofilter(header_row, 0, last, len(EXCEPTION_COLUMNS) - 1)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.print_area(0, 0, last, printed - 1)
    fitting.print_setup(sheet, widths[:printed], size=SIZE, header_row=header_row,
                        header=title)


def _write_row(sheet, row: int, columns, widths: list[float], rec: dict, fmt_of,
               writer: cells.XlsxText) -> None:
    """One record across ``columns``, the row as tall as its longest wrapped text."""
    currency = rec.get("currency") or "USD"
    texts = []
    for col, ((_header, field, kind, *_), width) in enumerate(zip(columns, widths, strict=True)):
        value = rec.get(field)
        _write_cell(sheet, row, col, kind, value, fmt_of(kind), currency, writer)
        if kind in TEXT_KINDS:
            texts.append((value, width))
    _fit_height(sheet, row, texts)


def _summary_sheet(book, fmt, findings: pd.DataFrame, title: str) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write_string(0, 0, f"Summary — {title}", fmt["title"])
    severities = ["error", "warning", "info"]
    names = dict(zip(findings["timekeeper_id"], findings["timekeeper_name"], strict=False))

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
            fmt["texts"].write(sheet, row, 0, names.get(key, str(key)), fmt[("plain", "text")])
            for col, sev in enumerate(severities, start=1):
                sheet.write_number(row, col, int(rec[sev]), fmt[(sev, "int")] if rec[sev] else
                                   fmt[("plain", "int")])
            sheet.write_number(row, 4, int(rec[severities].sum()), fmt[("plain", "int")])
            sheet.write_number(row, 5, int(rec["n"]), fmt[("plain", "int")])
            _write_cell(sheet, row, 6, "hours", rec["hours"], fmt[("plain", "hours")])
        return row + 3

    labels = [*findings["rule"].astype(str), *names.values()]
    # the largest figure a column can hold: every finding, or every hour, in one row
    largest = [_shown("int", len(findings)), _shown("hours", findings["hours_milli"].sum())]
    widths = [fitting.column_width(labels, "Timekeeper", size=SIZE, minimum=16, maximum=40),
              *[fitting.column_width(largest, "Warnings", size=SIZE, minimum=8, maximum=16)] * 6]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    fitting.print_setup(sheet, widths, size=SIZE, header=title)
    row = table(2, "Rule", "rule", {})
    table(row, "Timekeeper", "timekeeper_id", names)


#: The Queries sheet's columns, as :data:`EXCEPTION_COLUMNS`.
QUERY_COLUMNS = [
    ("Date", "work_date", "date", 6, 12),
    ("Matter", "matter_id", "text", 6, 16),
    ("Hours", "hours_milli", "hours", 5, 9),
    ("Entry", "entry_id", "text", 6, 18),
    ("Narrative", "narrative", "wrap", 20, 50),
    ("Please check", "ask", "wrap", 20, 46),
]


def _queries_sheet(book, fmt, findings: pd.DataFrame, title: str) -> None:
    """Per lawyer, the entries to ask about and what to ask; printed, a page each."""
    sheet = book.add_worksheet("Queries")
    sheet.write_string(0, 0, "Queries for each lawyer", fmt["title"])
    sheet.write_string(1, 0, "Send each lawyer their block; record answers in the ledger "
                       "(resolve, or waive with a reason).", fmt["subtitle"])
    asks = findings[findings["severity"].isin(["error", "warning"])]
    entries = (asks.groupby(["timekeeper_name", "timekeeper_id", "entry_id"], sort=True)
               .agg(work_date=("work_date", "first"), matter_id=("matter_id", "first"),
                    hours_milli=("hours_milli", "first"), narrative=("narrative", "first"),
                    ask=("message", lambda m: "\n".join(f"• {x}" for x in m)))
               .reset_index())
    widths = _widths(entries, QUERY_COLUMNS)
    for col, w in enumerate(widths):
        sheet.set_column(col, col, w)
    fitting.print_setup(sheet, widths, size=SIZE, header=title)
    row = 3
    breaks = []
    for (name, _tk), block in entries.groupby(["timekeeper_name", "timekeeper_id"], sort=True):
        if row > 3:
            breaks.append(row)  # each lawyer's block starts a page
        sheet.merge_range(row, 0, row, len(QUERY_COLUMNS) - 1,
                          f"{name} — {len(block)} entr{'y' if len(block) == 1 else 'ies'}",
                          fmt["group"])
        row += 1
        for col, (header, *_) in enumerate(QUERY_COLUMNS):
            sheet.write_string(row, col, header, fmt["header"])
        for rec in block.sort_values(["work_date", "matter_id"]).to_dict("records"):
            row += 1
            _write_row(sheet, row, QUERY_COLUMNS, widths, rec, lambda kind: fmt[("plain", kind)],
                       fmt["texts"])
        row += 2
    sheet.set_h_pagebreaks(breaks[:1023])


def write_exceptions_workbook(path: str | Path, findings: pd.DataFrame, *, title: str) -> Path:
    """Write the exceptions workbook for ``findings`` (one row each, with entry details).

    ``findings`` columns: rule, severity, status, message, suggestion, entry_id, work_date,
    timekeeper_id, timekeeper_name, matter_id, client_id, hours_milli, rate_minor, amount_minor,
    currency, task_code, activity_code, narrative.
    """
    findings = _sorted(findings)
    with atomic_path(path) as tmp:
        book = fitting.new_workbook(tmp)
        fmt = _formats(book)
        _exceptions_sheet(book, fmt, findings, title)
        _summary_sheet(book, fmt, findings, title)
        _queries_sheet(book, fmt, findings, title)
        book.close()
    return Path(path)
