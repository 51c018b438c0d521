"""The billing workbook's sheets, and the add-in's one sheet, written with XlsxWriter from
:mod:`billxl.excel.layout`.

Every data sheet: the title in row 1, the status or hint in row 2, the layout's Excel table from
:data:`~billxl.excel.layout.HEADER_ROW` (one blank data row, which Excel needs; a command's
write replaces it), frozen above the first data row, columns as wide as the layout says, each
cell formatted by its column's kind (money, hours, dates, identifiers kept as text), the
secretary's input columns shaded, severity cells coloured by their value, drop-down lists from
the hidden Lists sheet through defined names that refer to its table columns (so a list grows
with its table). Text is always written as text; text that starts with ``=``, ``+``, ``-`` or
``@`` also gets a quote prefix, so editing the cell later never turns it into a formula.

The first sheet (Instructions) holds the steps, then a *Where things stand* block of formulas
over the tables (counts and hours), which Excel and LibreOffice recalculate, then the worksheet
functions with what each returns.

The file is written with fixed document properties, so the same inputs give the same bytes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from billxl.excel import layout
from billxl.excel.workbook_build.udf_modules import vba_parameters

__all__ = ["BUILD_TIME", "STATUS_ROWS", "FIRST_SHEET", "write_billing_sheets",
           "write_addin_sheet", "function_line"]

#: The document properties' date: fixed, so that a build is reproducible.
BUILD_TIME = datetime(2026, 1, 1)
FIRST_SHEET = layout.SHEETS[0].name
ADDIN_SHEET = "billxl"

_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
_BASE = {"valign": "top", "font_size": 10}
_SEVERITY = "severity"
#: Numbers right-aligned a character in from the edge, dates centred, so that neither runs
#: into the text of the next column.
_NUMBERS = ("money", "hours", "int")
_ALIGN = {**{kind: {"align": "right", "indent": 1} for kind in _NUMBERS},
          "date": {"align": "center"}}


def _status_rows() -> tuple[tuple[str, str], ...]:
    """(label, formula, kind) of the Instructions sheet's *Where things stand* block."""
    def ref(table: str, field: str) -> str:
        return f"{table}[{layout.table(table).header_of(field)}]"

    return (
        ("Time entries on the Time entries sheet", f"=COUNT({ref('TimeEntries', 'hours')})",
         "int"),
        ("Their hours", f"=SUM({ref('TimeEntries', 'hours')})", "hours"),
        ("Errors on Exceptions", f'=COUNTIF({ref("Exceptions", "severity")},"error")', "int"),
        ("Warnings on Exceptions", f'=COUNTIF({ref("Exceptions", "severity")},"warning")',
         "int"),
        ("Pre-bills listed", f"=COUNT({ref('Prebills', 'prebill_pk')})", "int"),
        ("Invoices listed", f"=COUNTA({ref('Invoices', 'number')})", "int"),
        ("Receipts on the Payments sheet", f"=COUNT({ref('Payments', 'amount')})", "int"),
        ("Clients who owe money (AR)", f'=COUNTIF({ref("Aging", "net")},">0")', "int"),
    )


STATUS_ROWS = _status_rows()


def _properties(title: str) -> dict[str, Any]:
    return {"title": title, "author": "billxl", "company": "", "created": BUILD_TIME,
            "comments": "Built by billxl workbook build."}


class _Formats:
    """XlsxWriter formats, made once per combination."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self._made: dict[tuple, Any] = {}
        self.title = book.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"})
        self.hint = book.add_format({"italic": True, "font_color": "#595959"})
        header = {**_BASE, "bold": True, "text_wrap": True, "bg_color": "#" + layout.HEADER_FILL,
                  "font_color": "#" + layout.HEADER_FONT}
        self.header = book.add_format(header)
        # a number column's header sits over its numbers, a date column's over its dates
        self.header_by_kind = {kind: book.add_format({**header, **_ALIGN[kind]})
                               for kind in _ALIGN}
        self.heading = book.add_format({"bold": True, "font_size": 11, "font_color": "#1F3864"})
        self.line = book.add_format({**_BASE, "text_wrap": True})
        self.label = book.add_format({**_BASE})
        self.figures = {kind: book.add_format({**_BASE, "bold": True, "align": "left",
                                               "num_format": layout.NUMBER_FORMATS[kind]})
                        for kind in ("int", "hours")}
        self.code = book.add_format({**_BASE, "num_format": "@"})
        self.fills = {sev: book.add_format({"bg_color": "#" + colour})
                      for sev, colour in layout.SEVERITY_FILLS.items()}

    def cell(self, column: layout.Column, *, quoted: bool = False, shaded: bool = False,
             indent: bool = False):
        """A cell of ``column``; ``shaded`` marks an input column's blank row, ``indent`` text
        that follows a number column."""
        key = (column.kind, shaded and column.input, quoted, indent)
        if key not in self._made:
            spec: dict[str, Any] = {**_BASE, "num_format": column.number_format,
                                    **_ALIGN.get(column.kind, {}),
                                    **({"align": "left", "indent": 1} if indent else {})}
            if column.kind == "wrap":
                spec["text_wrap"] = True
            if shaded and column.input:
                spec["bg_color"] = "#" + layout.INPUT_FILL
            if quoted:
                spec["quote_prefix"] = True
            self._made[key] = self.book.add_format(spec)
        return self._made[key]


def _fit_height(sheet, row: int, texts: Sequence[tuple[str, float]]) -> None:
    """XlsxWriter cannot autofit: give a row of wrapped text the lines its longest text needs
    (about 1.2 characters of 10-point text per unit of column width, 13.5 points a line)."""
    lines = max([1, *(sum(max(1, -(-len(part) // max(int(width * 1.2) - 1, 1)))
                          for part in text.split("\n"))
                      for text, width in texts if text)])
    if lines > 1:
        sheet.set_row(row, 13.5 * min(lines, 20))


def _text(sheet, row: int, col: int, value: str, fmt, quoted_fmt) -> None:
    """Text as text; formula-looking text with a quote prefix as well."""
    sheet.write_string(row, col, value, quoted_fmt if layout.formula_like(value) else fmt)


def _table(sheet, fmt: _Formats, spec: layout.Table, first_col: int,
           rows: Sequence[Sequence[str]] = ()) -> int:
    """Write ``spec`` as an Excel table from the header row at ``first_col``; returns the next
    free column. ``rows`` are text values (the lists, the settings)."""
    top = layout.HEADER_ROW - 1  # zero-based header row
    # left-aligned text right after right-aligned numbers starts a character in (LibreOffice
    # ignores a right indent on the numbers themselves)
    indents = [j > 0 and spec.columns[j - 1].kind in _NUMBERS and c.kind not in _ALIGN
               for j, c in enumerate(spec.columns)]
    for j, column in enumerate(spec.columns):
        # the column's format below the table too: a row typed or pasted under it is formatted
        sheet.set_column(first_col + j, first_col + j, column.width,
                         fmt.cell(column, indent=indents[j]))
        if not rows:  # the one blank data row Excel needs, shaded where the secretary types
            sheet.write_blank(top + 1, first_col + j, None,
                              fmt.cell(column, shaded=True, indent=indents[j]))
    for i, values in enumerate(rows, start=1):
        wrapped = []
        for j, column in enumerate(spec.columns):
            value = values[j] if j < len(values) else ""
            _text(sheet, top + i, first_col + j, value,
                  fmt.cell(column, shaded=True, indent=indents[j]),
                  fmt.cell(column, quoted=True, shaded=True, indent=indents[j]))
            if column.kind == "wrap":
                wrapped.append((value, column.width))
        _fit_height(sheet, top + i, wrapped)
    _fit_height(sheet, top, [(c.header, c.width) for c in spec.columns])  # wrapped headers
    last_row = top + max(len(rows), 1)
    sheet.add_table(top, first_col, last_row, first_col + len(spec.columns) - 1, {
        "name": spec.name,
        "style": "Table Style Light 1",
        "autofilter": True,
        "columns": [{"header": c.header, "format": fmt.cell(c, indent=indent),
                     "header_format": fmt.header_by_kind.get(c.kind, fmt.header)}
                    for c, indent in zip(spec.columns, indents, strict=True)],
    })
    first_data = top + 1
    for j, column in enumerate(spec.columns):
        col = first_col + j
        last = first_data + layout.VALIDATION_ROWS - 1
        if column.validation is not None:
            source = layout.LISTS[column.validation]
            sheet.data_validation(first_data, col, last, col, {
                "validate": "list", "source": f"={source.name}", "ignore_blank": True,
                # a warning, not a refusal: the list may lag behind the ledger, which checks
                "error_type": "warning", "error_title": "Not in the list",
                "error_message": f"This {column.header.lower()} is not in the workbook's list "
                                 "(Lists sheet, refreshed by Import time). Keep it anyway?",
            })
        if column.kind == _SEVERITY:
            for severity, fill in fmt.fills.items():
                sheet.conditional_format(first_data, col, last, col, {
                    "type": "cell", "criteria": "==", "value": f'"{severity}"', "format": fill})
    return first_col + len(spec.columns) + 1


def function_line(f: Callable[..., Any]) -> str:
    """``BILLXL_WIP(matter_or_client, [as_of], ...)``: a function as Insert Function lists it
    (by its VBA wrapper's argument names; optional ones in brackets)."""
    params = inspect.signature(f).parameters
    names = [vba if params[py].default is params[py].empty else f"[{vba}]"
             for py, vba in vba_parameters(f)]
    return f"{f.__name__}({', '.join(names)})"


def _instructions(sheet, fmt: _Formats, spec: layout.Sheet,
                  functions: Sequence[Callable[..., Any]]) -> None:
    sheet.set_column(0, 0, 62)
    sheet.set_column(1, 1, 70)
    sheet.write_string(0, 0, spec.title, fmt.title)
    status_sheet, status_cell = layout.STATUS_CELL
    if status_sheet == spec.name:
        sheet.write_string(status_cell, "Nothing has run yet: start with Settings.", fmt.hint)
    row = 2
    for line in layout.INSTRUCTIONS:
        sheet.merge_range(row, 0, row, 1, line, fmt.line)
        _fit_height(sheet, row, [(line, 62 + 70)])
        row += 1
    row += 1
    sheet.write_string(row, 0, "Where things stand", fmt.heading)
    row += 1
    for label, formula, kind in STATUS_ROWS:
        sheet.write_string(row, 0, label, fmt.label)
        sheet.write_formula(row, 1, formula, fmt.figures[kind], 0)
        row += 1
    if functions:
        row += 1
        sheet.write_string(row, 0, "Worksheet functions (in any formula)", fmt.heading)
        row += 1
        for f in functions:
            sheet.write_string(row, 0, function_line(f), fmt.code)
            doc = (inspect.getdoc(f) or "").split("\n\n", 1)[0]
            sheet.write_string(row, 1, " ".join(doc.split()), fmt.line)
            row += 1


def _data_sheet(sheet, fmt: _Formats, spec: layout.Sheet,
                rows: Mapping[str, Sequence[Sequence[str]]]) -> None:
    sheet.write_string(0, 0, spec.title, fmt.title)
    hints = [layout.table(t).hint for t in spec.tables if layout.table(t).hint]
    if hints:
        sheet.write_string(1, 0, hints[0], fmt.hint)
    col = 0
    for name in spec.tables:
        col = _table(sheet, fmt, layout.table(name), col, rows.get(name, ()))
    sheet.freeze_panes(layout.HEADER_ROW, 0)


def _xlwings_conf(sheet, fmt: _Formats) -> None:
    """xlwings' settings: key in A, value in B, from A1 down with no blank row. A key with a
    blank value would hide the same key in the user's own xlwings.conf, so only keys with a
    value are written."""
    row = 0
    for key, value in layout.XLWINGS_CONF:
        if value:
            sheet.write_string(row, 0, key, fmt.code)
            sheet.write_string(row, 1, value, fmt.code)
            row += 1
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 40)
    sheet.set_column(3, 3, 90)
    sheet.write_string(0, 3, "xlwings reads its settings here: a key in column A, its value in "
                       "column B, from row 1 down without a blank row.", fmt.hint)
    sheet.write_string(1, 3, "Add Interpreter_Win (the full path of pythonw.exe) or PYTHONPATH "
                       "only with a value: a key left blank here hides your own xlwings.conf.",
                       fmt.hint)


def write_billing_sheets(path: Path, *, rows: Mapping[str, Sequence[Sequence[str]]],
                         functions: Sequence[Callable[..., Any]]) -> None:
    """The billing workbook's sheets (no VBA yet) at ``path``; ``rows`` are the text rows of
    the tables the build fills (the lists and the settings)."""
    book = xlsxwriter.Workbook(str(path), _OPTIONS)
    book.set_properties(_properties("billxl billing workbook"))
    fmt = _Formats(book)
    for spec in layout.SHEETS:
        sheet = book.add_worksheet(spec.name)
        if spec.tab_colour:
            sheet.set_tab_color("#" + spec.tab_colour)
        if spec.name == FIRST_SHEET:
            _instructions(sheet, fmt, spec, functions)
        elif spec.name == "xlwings.conf":
            _xlwings_conf(sheet, fmt)
        else:
            _data_sheet(sheet, fmt, spec, rows)
        if spec.hidden:
            sheet.hide()
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        if spec.tables:
            sheet.repeat_rows(layout.HEADER_ROW - 1)
    for source in layout.LISTS.values():
        book.define_name(source.name, f"={source.table}[{source.column}]")
    book.worksheets()[0].activate()
    book.close()


def write_addin_sheet(path: Path, functions: Sequence[Callable[..., Any]]) -> None:
    """The add-in's one sheet (Excel shows none of an add-in's sheets): what the add-in is."""
    book = xlsxwriter.Workbook(str(path), _OPTIONS)
    book.set_properties(_properties("billxl add-in"))
    fmt = _Formats(book)
    sheet = book.add_worksheet(ADDIN_SHEET)
    sheet.set_column(0, 0, 100)
    sheet.write_string(0, 0, "billxl add-in", fmt.title)
    lines = [
        "The Billing ribbon and billxl's worksheet functions, for every workbook open in Excel.",
        "The buttons work on the active workbook: billxl's billing workbook, or a copy of it.",
        "Settings come from the active workbook's xlwings.conf sheet, else an xlwings.conf file "
        "beside it, else %USERPROFILE%\\.xlwings\\xlwings.conf.",
        "Functions: " + ", ".join(f.__name__ for f in functions) + ".",
    ]
    for i, line in enumerate(lines, start=2):
        sheet.write_string(i, 0, line, fmt.line)
    book.close()
