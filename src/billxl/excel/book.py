"""A *book*: what a ribbon command sees of the billing workbook, and its two adapters.

A command (:mod:`billxl.excel.commands`) reads a table into a DataFrame, writes a DataFrame to a
table, and says what it did; it never touches a cell. The :class:`Book` protocol is that and
nothing more:

``name`` and ``folder``
    the workbook's file name (problems name it) and the folder relative paths in Settings start
    from (None when the workbook has never been saved).
``read_table(name)``
    the Excel table as a DataFrame: one column per header (as the sheet has them), one row per
    data row that is not blank, indexed by the **row number the user sees** in Excel; values as
    Excel holds them (text, float, datetime, bool, None).
``write_table(name, frame)``
    replace the table's rows with ``frame`` (columns named by the layout's headers), resizing
    the table; cells typed by the layout's column kinds (:func:`cell_rows`).
``message(text, problem=False)`` and ``progress(stage, done, total)``
    the status line (``layout.STATUS_CELL`` and, live, Excel's status bar); a problem is also
    shown in a message box in Excel.

Two adapters:

* :class:`FileBook`: a workbook file through openpyxl, for ``billxl workbook run`` and the tests.
  It keeps the VBA project (``keep_vba``) and puts back the ribbon's relationship that openpyxl
  drops on save, and saves atomically.
* :class:`XlwingsBook`: live Excel through xlwings (``xw.Book.caller()`` from ``RunPython``).
  Deliberately tiny: a table read is one ``range.value``, a write one ``Table.update``.

Both write the same cell values (:func:`cell_rows`); only how text that starts with ``=``,
``+``, ``-`` or ``@`` stays text differs: openpyxl marks the cell with a quote prefix, Excel is
given the value with a leading apostrophe (which it takes as that prefix, not as a character).
"""

from __future__ import annotations

import re
import zipfile
from copy import copy
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from billxl.atomic import atomic_path
from billxl.cells import openpyxl_text, xlsx_text
from billxl.errors import InputError, Problem
from billxl.excel import layout

__all__ = ["Book", "FileBook", "XlwingsBook", "cell_rows", "cell_value", "frame_from_cells",
           "scratch_workbook"]


class Book(Protocol):
    name: str
    folder: Path | None

    def read_table(self, name: str) -> pd.DataFrame: ...

    def write_table(self, name: str, frame: pd.DataFrame) -> None: ...

    def message(self, text: str, *, problem: bool = False) -> None: ...

    def progress(self, stage: str, done: int, total: int) -> None: ...


# ------------------------------------------------------------------------------ shared cells
def frame_from_cells(cells: list[list[Any]], header_row: int) -> pd.DataFrame:
    """A table's cells (header row first) as a frame indexed by the sheet's row numbers."""
    if not cells:
        return pd.DataFrame()
    headers = [("" if h is None else str(h)).strip() for h in cells[0]]
    body = [list(r) for r in cells[1:]]
    index = pd.RangeIndex(header_row + 1, header_row + 1 + len(body), name="row")
    frame = pd.DataFrame(body, columns=headers, index=index, dtype=object)
    blank = frame.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))
    return frame[~blank.all(axis=1)] if len(frame) else frame


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def cell_value(kind: str, value: Any) -> Any:
    """One value as the cell holds it: numbers for money and hours (Excel has only doubles; a
    Decimal of two places is the double Excel shows as those digits), dates as dates, text as
    text (identifiers too: ``1001`` stays the text ``1001``), blanks as None."""
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if kind in ("money", "hours"):
        return float(value) if isinstance(value, (Decimal, int, float)) else value
    if kind == "int":
        return int(value) if isinstance(value, (int, float, Decimal)) else value
    if kind == "date":
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = xlsx_text(value if isinstance(value, str) else str(value))
    return text or None  # an empty text is a blank cell in Excel too


def cell_rows(table: layout.Table, frame: pd.DataFrame) -> list[list[Any]]:
    """Rows of cell values for ``table`` (its columns, in its order) from ``frame``.

    ``frame`` holds the columns by header; a column it lacks is written blank.
    """
    columns = []
    for col in table.columns:
        values = frame[col.header].tolist() if col.header in frame else [None] * len(frame)
        columns.append([cell_value(col.kind, v) for v in values])
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def _no_table(book: str, name: str) -> InputError:
    sheet = layout.sheet_of(name) if name in layout.TABLES else None
    reason = (f"the table {name} is missing" + (f" from the {sheet} sheet" if sheet else "")
              + ": is this billxl's billing workbook? (billxl workbook build makes one)")
    return InputError(f"{book}: {reason}", [Problem(book, None, None, name, reason, sheet=sheet)])


# ------------------------------------------------------------------------------ file adapter
ROW_HEIGHT = 13  # points a line of the workbook's 10-point text takes
MAX_ROW_LINES = 8  # a taller row hides the table; the cell keeps all its text


def _lines(value: Any, width: float) -> int:
    if not isinstance(value, str) or not value:
        return 1
    per_line = max(int(width * 1.1), 1)  # a column's width counts digits; text runs narrower
    return sum(max(1, -(-len(part) // per_line)) for part in value.split("\n"))


_UI_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*?Type=\"[^\"]*/ui/extensibility\"[^>]*/>")
_RELS = "_rels/.rels"


class FileBook:
    """The billing workbook as a file, read and written with openpyxl."""

    def __init__(self, path: str | Path):
        import openpyxl

        self.path = Path(path)
        self.name = self.path.name
        self.folder = self.path.resolve().parent
        self.messages: list[str] = []
        self.on_progress = None  # a callable(stage, done, total), e.g. the CLI's bars
        self._keep_vba = self.path.suffix.lower() in (".xlsm", ".xlam")
        self.wb = openpyxl.load_workbook(self.path, keep_vba=self._keep_vba)
        self._styles: dict[tuple, Any] = {}
        from openpyxl.styles.cell_style import StyleArray

        self._plain = StyleArray()

    # -- tables
    def _find(self, name: str):
        for ws in self.wb.worksheets:
            if name in ws.tables:
                return ws, ws.tables[name]
        raise _no_table(self.name, name)

    def read_table(self, name: str) -> pd.DataFrame:
        from openpyxl.utils.cell import range_boundaries

        ws, tab = self._find(name)
        min_col, min_row, max_col, max_row = range_boundaries(tab.ref)
        cells = [list(r) for r in ws.iter_rows(min_row=min_row, max_row=max_row,
                                               min_col=min_col, max_col=max_col,
                                               values_only=True)]
        return frame_from_cells(cells, min_row)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        from openpyxl.utils.cell import get_column_letter, range_boundaries

        ws, tab = self._find(name)
        spec = layout.table(name)
        min_col, min_row, max_col, max_row = range_boundaries(tab.ref)
        width = len(spec.columns)
        rows = cell_rows(spec, frame)
        letters = [get_column_letter(min_col + j) for j in range(width)]
        for j, col in enumerate(spec.columns):
            ws.cell(min_row, min_col + j, col.header)
        last = min_row + max(len(rows), 1)
        for r in range(min_row + 1, max(max_row, last) + 1):  # clear what was there
            for c in range(min_col, max(max_col, min_col + width - 1) + 1):
                cell = ws.cell(r, c)
                cell.value = None
                cell._style = copy(self._column_style(ws, get_column_letter(c)))
            if r in ws.row_dimensions:
                ws.row_dimensions[r].height = None
        wraps = [(j, col.width) for j, col in enumerate(spec.columns) if col.kind == "wrap"]
        for i, row in enumerate(rows, start=min_row + 1):
            for j, (col, value) in enumerate(zip(spec.columns, row, strict=True)):
                cell = ws.cell(i, min_col + j)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                self._styled(ws, cell, letters[j], col, value)
            lines = max((_lines(row[j], w) for j, w in wraps), default=1)
            if lines > 1:  # openpyxl cannot autofit: size the row for its wrapped text
                ws.row_dimensions[i].height = ROW_HEIGHT * min(lines, MAX_ROW_LINES)
        ref = f"{letters[0]}{min_row}:{letters[-1]}{last}"
        tab.ref = ref
        if tab.autoFilter is not None:
            tab.autoFilter.ref = ref
        tab.tableColumns = tab.tableColumns[:width]
        for j, col in enumerate(spec.columns):
            if j < len(tab.tableColumns):
                tab.tableColumns[j].name = col.header
        if len(tab.tableColumns) < width:
            from openpyxl.worksheet.table import TableColumn

            for j in range(len(tab.tableColumns), width):
                tab.tableColumns.append(TableColumn(id=j + 1, name=spec.columns[j].header))

    def _column_style(self, ws, letter: str):
        """The style the workbook gives the column (its font, format, input shading), if any.

        Excel saves neighbouring columns that look alike as one span (``<col min=3 max=7>``),
        which openpyxl keys by the span's first letter: the column's style is the span's that
        holds it."""
        from openpyxl.utils.cell import column_index_from_string

        dim = ws.column_dimensions.get(letter)
        if dim is None or not dim.min:
            index = column_index_from_string(letter)
            dim = next((d for d in ws.column_dimensions.values()
                        if d.min and d.max and d.min <= index <= d.max), None)
        return dim._style if dim is not None else self._plain

    def _styled(self, ws, cell, letter: str, col: layout.Column, value: Any) -> None:
        """Style a cell: the column's own style, with the layout's number format, the quote
        prefix, the severity fill and wrapping on top. The first cell of each combination is
        styled attribute by attribute; the rest copy its style array (openpyxl's own idiom
        for copying a style), which is what keeps big tables fast."""
        from openpyxl.styles import Alignment, PatternFill

        quote = layout.formula_like(value)
        fill = layout.SEVERITY_FILLS.get(value) if col.kind == "severity" else None
        key = (ws.title, letter, col.number_format, quote, fill, col.kind == "wrap")
        proto = self._styles.get(key)
        if proto is not None:
            cell._style = copy(proto)
            return
        cell._style = copy(self._column_style(ws, letter))
        cell.number_format = col.number_format
        cell.quotePrefix = quote
        if fill:
            cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
        if col.kind == "wrap":
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        self._styles[key] = copy(cell._style)

    # -- messages
    def message(self, text: str, *, problem: bool = False) -> None:
        self.messages.append(text)
        sheet, cell = layout.STATUS_CELL
        if sheet in self.wb.sheetnames:
            openpyxl_text(self.wb[sheet][cell], text)

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(stage, done, total)

    # -- saving
    def save(self, path: str | Path | None = None) -> Path:
        """Save atomically (to ``path``, by default over the file read), ribbon and VBA kept."""
        target = Path(path) if path is not None else self.path
        with atomic_path(target) as tmp:
            self.wb.save(tmp)
            if self._keep_vba:
                _restore_ribbon(self.path, tmp)
        return target


def _restore_ribbon(original: Path, saved: Path) -> None:
    """Put back the customUI parts and their package relationship that openpyxl drops."""
    with zipfile.ZipFile(original) as src:
        names = set(src.namelist())
        old_rels = src.read(_RELS).decode("utf-8") if _RELS in names else ""
        wanted = _UI_RELATIONSHIP.findall(old_rels)
        ui_parts = {n: src.read(n) for n in names if n.startswith("customUI/")}
    if not wanted and not ui_parts:
        return
    with zipfile.ZipFile(saved) as out:
        have = {i.filename: out.read(i.filename) for i in out.infolist()}
        infos = {i.filename: i for i in out.infolist()}
    rels = have[_RELS].decode("utf-8")
    missing = [r for r in wanted if re.search(r'Target="([^"]+)"', r).group(1) not in rels]
    if missing:
        rels = rels.replace("</Relationships>", "".join(missing) + "</Relationships>")
    have[_RELS] = rels.encode("utf-8")
    for name, data in ui_parts.items():
        have.setdefault(name, data)
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in have.items():
            info = infos.get(name)
            out.writestr(info if info is not None else name, data, zipfile.ZIP_DEFLATED)


# ------------------------------------------------------------------------------ live adapter
class XlwingsBook:
    """The workbook open in Excel, through xlwings (``XlwingsBook(xw.Book.caller())``)."""

    def __init__(self, book):
        self.book = book
        self.name = book.name
        full = Path(book.fullname)
        self.folder = full.parent if full.parent != Path(".") else None

    @classmethod
    def caller(cls) -> XlwingsBook:
        """The workbook whose button ran ``RunPython``."""
        import xlwings as xw

        return cls(xw.Book.caller())

    def _table(self, name: str):
        for sheet in self.book.sheets:
            for tab in sheet.tables:
                if tab.name == name:
                    return tab
        raise _no_table(self.name, name)

    def read_table(self, name: str) -> pd.DataFrame:
        tab = self._table(name)
        return frame_from_cells(tab.range.options(ndim=2).value, tab.range.row)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        spec = layout.table(name)
        rows = [["'" + v if layout.formula_like(v) else v for v in row]
                for row in cell_rows(spec, frame)]
        # an empty frame would leave the table's first row as it was: write one blank row
        rows = rows or [[None] * len(spec.headers)]
        self._table(name).update(pd.DataFrame(rows, columns=spec.headers, dtype=object),
                                 index=False)

    def message(self, text: str, *, problem: bool = False) -> None:
        sheet, cell = layout.STATUS_CELL
        self.book.sheets[sheet][cell].value = "'" + text if layout.formula_like(text) else text
        self.book.app.status_bar = text[:250]
        if problem:
            self.book.app.alert(text, title="billxl")

    def progress(self, stage: str, done: int, total: int) -> None:
        self.book.app.status_bar = f"billxl: {stage} {done:,} of {total:,}"


def scratch_workbook(path: str | Path, sheet: str, headers: list[str],
                     rows: list[list[Any]]) -> Path:
    """A plain one-sheet workbook (headers in row 1): how typed rows reach billxl's readers,
    which then read them exactly as they would read the same cells in an exported file.
    Text is written as text even when it starts with ``=`` (openpyxl would make it a formula)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(headers)

    def cell(value: Any) -> Any:
        if not (isinstance(value, str) and value.startswith("=")):
            return value
        c = WriteOnlyCell(ws, value=value)
        c.data_type = "s"
        return c

    for row in rows:
        ws.append([cell(v) for v in row])
    wb.save(path)
    return Path(path)
