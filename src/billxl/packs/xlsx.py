"""A pack as an XLSX workbook: a Contents sheet, then one sheet per table (XlsxWriter).

Values are numbers with number formats, not printed text: money in the currency's units with its
own minor digits (``#,##0.00;-#,##0.00``, JPY ``#,##0``; negative amounts with a minus sign, and
the currency's symbol in the format where the table shows no currency column, as in the HTML), hours in hours (one or two places, as the HTML prints them), ratios as fractions
formatted as percentages (0.875 shows 87.5%), days and counts whole, dates as dates in the firm's
``dates.xlsx`` format; a missing value is an empty cell. Excel holds numbers as doubles, exact to
the cent for any amount a firm bills; the tests read them back and compare with the minor units.

Every text cell is written with ``write_string`` and the workbook never converts strings, so a
client name or narrative that starts with ``=``, ``+``, ``-`` or ``@`` stays text; such cells
also carry Excel's quote prefix, so that editing one does not turn it into a formula, and
characters that do not show are left out (:mod:`billxl.cells`: the one rule for both).

Each table sheet has the table's title, the pack's running title, the table's note, the header
row (frozen, repeated on printed pages) and the rows, total rows bold; columns are as wide as
their longest printed value (:func:`billxl.packs.printed.cell_text`), up to a limit past which
text wraps. Printed: A4 landscape, one page wide, the pack and page number in the footer.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import quote_sheetname

from billxl import money
from billxl.atomic import atomic_path
from billxl.cells import header_text, quote_prefixed, xlsx_text
from billxl.documents.formatting import to_date
from billxl.documents.settings import settings, template_dir
from billxl.packs import printed
from billxl.packs.tables import Pack, Table

ACCENT = "#1F3864"
BAND = "#E8EDF6"
FONT = {"font_name": "Arial", "font_size": 10}
HEADER_ROW = 3  # title, running title, note, then the header
MAX_WIDTH = 60  # characters; longer text wraps
NOTE_WIDTH = 100  # the Contents sheet's "What it shows"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def money_format(currency: str, *, symbol: bool = False) -> str:
    """The number format of an amount in ``currency`` (its own minor digits, minus sign), with
    the currency's symbol in front when ``symbol`` (a table that shows no currency column)."""
    digits = money.minor_digits(currency)
    body = "#,##0" + ("." + "0" * digits if digits else "")
    if symbol:
        mark = printed.formats().symbol(currency).replace('"', '""')
        body = f'"{mark}"{body}'
    return f"{body};-{body}"


NUMBER_FORMATS = {"ratio": "0.0%", "days": "#,##0", "count": "#,##0",
                  "hours1": "#,##0.0", "hours2": "#,##0.00"}


def sheet_names(pack: Pack) -> dict[str, str]:
    """Each table's sheet name: its title, within Excel's 31 characters and rules, unique."""
    taken = {"contents"}
    names = {}
    for key, table in pack.tables.items():
        base = _BAD_SHEET_CHARS.sub(" ", table.title or key).strip().strip("'")[:31].strip() or key
        name, n = base, 2
        while name.lower() in taken:
            suffix = f" ({n})"
            name, n = base[:31 - len(suffix)].rstrip() + suffix, n + 1
        taken.add(name.lower())
        names[key] = name
    return names


class _Formats:
    """The workbook's cell formats, made once per (number format, bold, wrap)."""

    def __init__(self, book: xlsxwriter.Workbook, date_format: str):
        self.book, self.date_format, self._made = book, date_format, {}
        add = book.add_format
        self.title = add({**FONT, "bold": True, "font_size": 13, "font_color": ACCENT})
        self.big = add({**FONT, "bold": True, "font_size": 16, "font_color": ACCENT})
        self.muted = add({**FONT, "font_color": "#5A5A5A"})
        self.note = add({**FONT, "font_color": "#5A5A5A", "italic": True, "text_wrap": True,
                         "valign": "top"})
        self.empty = add({**FONT, "italic": True})
        self.link = add({**FONT, "font_color": "#1F4E9E", "underline": 1, "valign": "top"})
        self.head = add({**FONT, "bold": True, "font_color": ACCENT, "bottom": 2,
                         "bottom_color": ACCENT, "text_wrap": True, "valign": "bottom"})
        self.head_num = add({**FONT, "bold": True, "font_color": ACCENT, "bottom": 2,
                             "bottom_color": ACCENT, "text_wrap": True, "valign": "bottom",
                             "align": "right"})

    def cell(self, num_format: str | None = None, *, bold: bool = False, wrap: bool = False,
             quote: bool = False):
        key = (num_format, bold, wrap, quote)
        if key not in self._made:
            spec: dict[str, Any] = {**FONT, "valign": "top"}
            if num_format:
                spec["num_format"] = num_format
            if bold:
                spec.update(bold=True, bg_color=BAND, top=1, top_color=ACCENT, bottom=1,
                            bottom_color=ACCENT)
            if wrap:
                spec["text_wrap"] = True
            if quote:
                spec["quote_prefix"] = True
            self._made[key] = self.book.add_format(spec)
        return self._made[key]


def _text(ws, row: int, col: int, value: Any, fmt) -> None:
    ws.write_string(row, col, xlsx_text(value), fmt)


def _write_value(ws, fm: _Formats, row: int, col: int, kind: str, value: Any, currency: Any,
                 places: int | None, bold: bool, wrap: bool, symbol: bool) -> None:
    """One cell of a table: a number with its format, a date, or a string (never a formula)."""
    if printed.is_missing(value):
        ws.write_blank(row, col, None, fm.cell(bold=bold))
    elif kind == "money":
        amount = money.from_minor(int(value), str(currency))
        ws.write_number(row, col, float(amount), fm.cell(money_format(str(currency), symbol=symbol),
                                                    bold=bold))
    elif kind == "hours":
        ws.write_number(row, col, float(money.milli_to_qty(int(value))),
                        fm.cell(NUMBER_FORMATS[f"hours{places or 2}"], bold=bold))
    elif kind in ("ratio", "days"):
        ws.write_number(row, col, float(money.D(value)), fm.cell(NUMBER_FORMATS[kind], bold=bold))
    elif kind == "count":
        ws.write_number(row, col, float(int(value)), fm.cell(NUMBER_FORMATS["count"], bold=bold))
    elif kind == "date":
        d = to_date(value)
        ws.write_datetime(row, col, datetime(d.year, d.month, d.day),
                          fm.cell(fm.date_format, bold=bold))
    else:
        text = xlsx_text(str(value))
        _text(ws, row, col, text, fm.cell(bold=bold, wrap=wrap,
                                          quote=quote_prefixed(text)))


def _height(text: str, width: int) -> float:
    """A wrapped row's height for its text (XlsxWriter cannot autofit): 13 pt a line, a line
    holding about 1.1 characters per unit of column width."""
    per_line = max(int(width * 1.1), 1)
    return 13.0 * max(1, -(-len(text) // per_line))


def _widths(table: Table) -> list[int]:
    """Each column's width: its longest printed value or its header, within limits."""
    symbol = not printed.shows_currency(table)
    frame = table.frame
    currencies = frame["currency"].tolist() if "currency" in frame else [None] * len(frame)
    widths = []
    for column in table.columns:
        kinds = printed.row_kinds(table, column)
        places = printed.column_places(table, column)
        longest = min(len(column.label), MAX_WIDTH - 4)  # headers on one line
        for kind, value, cur, p in zip(kinds, frame[column.name].tolist(), currencies, places,
                                       strict=True):
            text = printed.cell_text(kind, value, currency=None if printed.is_missing(cur) else cur,
                                    symbol=symbol, places=p)
            longest = max(longest, len(text))
        pad = 4 if column.kind in (*printed.NUMERIC, "by_row") else 2
        widths.append(min(max(longest + pad, 8), MAX_WIDTH))
    return widths


def _table_sheet(book: xlsxwriter.Workbook, fm: _Formats, pack: Pack, table: Table,
                 name: str) -> None:
    ws = book.add_worksheet(name)
    ws.hide_gridlines(2)
    last_col = max(len(table.columns) - 1, 0)
    _text(ws, 0, 0, table.title, fm.title)
    _text(ws, 1, 0, printed.running_title(pack), fm.muted)
    widths = _widths(table)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    if table.note:
        ws.merge_range(2, 0, 2, max(last_col, 3), "", fm.note)
        _text(ws, 2, 0, table.note, fm.note)
        ws.set_row(2, _height(table.note, sum(widths[: max(last_col, 3) + 1])))
    numeric = (*printed.NUMERIC, "by_row")
    for col, column in enumerate(table.columns):
        _text(ws, HEADER_ROW, col, column.label,
              fm.head_num if column.kind in numeric else fm.head)
    first = HEADER_ROW + 1
    if table.empty:
        _text(ws, first, 0, printed.empty_sentence(table), fm.empty)
    frame = table.frame
    currencies = frame["currency"].tolist() if "currency" in frame else [None] * len(frame)
    totals = printed.total_rows(table)
    symbol = not printed.shows_currency(table)
    for col, column in enumerate(table.columns):
        kinds = printed.row_kinds(table, column)
        places = printed.column_places(table, column)
        wrap = widths[col] >= MAX_WIDTH
        for i, value in enumerate(frame[column.name].tolist()):
            _write_value(ws, fm, first + i, col, kinds[i], value, currencies[i], places[i],
                         totals[i], wrap, symbol)
    ws.freeze_panes(first, 0)
    ws.repeat_rows(HEADER_ROW)
    _print_setup(ws, pack)


def _print_setup(ws, pack: Pack) -> None:
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    running = header_text(printed.running_title(pack), 120)
    ws.set_footer(f"&L&8{running}&R&8Page &P of &N")


def _contents(book: xlsxwriter.Workbook, fm: _Formats, pack: Pack, names: dict[str, str]) -> None:
    ws = book.add_worksheet("Contents")
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 8)
    ws.set_column(2, 2, 2)
    ws.set_column(3, 3, NOTE_WIDTH)
    lines = printed.cover_lines(pack)
    _text(ws, 0, 0, pack.title, fm.big)
    for row, line in enumerate(lines, start=1):
        _text(ws, row, 0, line, fm.muted)
    head = len(lines) + 2
    for col, label in ((0, "Table"), (1, "Rows"), (2, ""), (3, "What it shows")):
        _text(ws, head, col, label, fm.head_num if label == "Rows" else fm.head)
    for row, (key, table) in enumerate(pack.tables.items(), start=head + 1):
        sheet = names[key]
        ws.write_url(row, 0, f"internal:{quote_sheetname(sheet)}!A1", fm.link, string=table.title)
        ws.write_number(row, 1, float(sum(not t for t in printed.total_rows(table))),
                        fm.cell(NUMBER_FORMATS["count"]))
        _text(ws, row, 3, table.note, fm.cell(wrap=True))
        ws.set_row(row, _height(table.note, NOTE_WIDTH))
    ws.freeze_panes(head + 1, 0)
    _print_setup(ws, pack)
    ws.activate()


def write_pack(pack: Pack, path: str | os.PathLike) -> Path:
    """Write the pack as XLSX (Contents first, then a sheet per table), atomically.

    The file's mode is what the umask gives a new file (readable by the group, when the umask
    says so), never world-writable.
    """
    path = Path(path)
    date_format = str((settings(template_dir()).get("dates") or {}).get("xlsx", "d mmm yyyy"))
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                              "strings_to_numbers": False,
                                              "strings_to_urls": False})
        book.set_properties({"title": printed.running_title(pack), "company": pack.firm})
        fm = _Formats(book, date_format)
        names = sheet_names(pack)
        _contents(book, fm, pack, names)
        for key, table in pack.tables.items():
            _table_sheet(book, fm, pack, table, names[key])
        book.close()
    return path


__all__ = ["money_format", "sheet_names", "write_pack"]
