"""The pre-bill workbook a billing partner reviews, edits and signs, and reading it back.

One workbook per billing partner and month. Sheets:

* **Pre-bill**: one section per matter (a header with the matter, client, currency and the
  pre-bill's status in the ledger when the workbook was written; fee lines; expense lines;
  subtotals; the invoice as finalize will make it; the partner's approval cells). Yellow cells
  are the partner's: Bill hours, Bill rate, Bill amount (a ``ROUND(hours*rate)`` formula the
  partner may type over, showing 0 on a no-charge or written-off line), Action, Transfer to,
  Reason, Note, and per matter *Approved by* / *Approved on* (beside them a signature box for a
  printed copy, which billxl does not read). Subtotals are SUMIF formulas over the section, so
  a spreadsheet program recalculates them as the partner types; billxl never trusts them and
  recomputes totals from the lines. The invoice rows (the fee arrangement's effect: a fixed
  fee, a cap, discounts; tax; the total; each payor's share) are values billxl computed with
  finalize's own code from the lines as written; on a plain hourly matter without tax the total
  is a formula that follows the partner's edits, elsewhere a note says when edits change it.
* **Summary**: one row per matter (worked value, amount to bill, approval), linked to its section.
* **Instructions**: what to change, the actions and reason codes, how to approve, what is checked.

Every other cell is locked and the sheet protected, **without a password**: protection guards
against slips, not against a determined user. What guards the read-back is in five hidden,
locked columns on each line: prebill_pk, entry_kind, entry_pk, the line's original values (JSON:
the editable values as written, and what the locked cells showed — numbers and dates as such,
texts as short digests) and a check digest over all four. A row whose keys or originals were
altered fails the check and is refused; the originals tell what the partner changed, and an edit
typed into a locked cell (the sheet is protected, but without a password) is refused, naming the
row and the column, instead of being dropped. A row copied, moved to another matter's section,
or not written by billxl at all is refused the same way. Every row billxl writes carries its
kind in the hidden entry_kind column.

Text is always written as text (a narrative that starts with ``=`` stays text), and the file
appears atomically. Reading uses python-calamine and converts numbers exactly as intake does:
doubles are snapped to thousandths (hours) or minor units (money) only when they sit on that
grid. Formula cells are read as their saved values: a file saved by Excel or LibreOffice holds
them; one saved by a library without a calculation engine leaves them blank, and a blank
Bill amount means what billxl wrote there (its formula: "hours x rate", or an amount typed
before).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from billxl import money
from billxl.atomic import atomic_path
from billxl.billing.vocabulary import ACTIONS, MAX_LINE_HOURS_MILLI, REASON_CODES
from billxl.cells import (
    BLANK,
    NOT_NUMBER,
    OK,
    TOO_LARGE,
    TOO_PRECISE,
    XlsxText,
    cell_text,
    header_text,
    parse_dates,
    scaled_numbers,
    visible_text,
)
from billxl.errors import InputError, Problem

__all__ = ["SHEET", "HEADERS", "write_prebill_workbook", "read_prebill_workbook", "line_check"]

SHEET = "Pre-bill"
_CHECK_SALT = "billxl-prebill-1"
_CELL_MAX = 32767  # characters a spreadsheet cell holds (longer text is cut when written)
#: Lines whose action bills nothing show 0 in their Bill amount cell.
NOT_BILLED = ("no_charge", "write_off")
_EDITABLE_FILL = "#FFF2CC"
_ERROR_RED = "#C00000"


@dataclass(frozen=True)
class _Column:
    key: str
    header: str
    width: float
    kind: str  # text, wrap, date, qty, money, findings
    editable: bool = False


COLUMNS = (
    _Column("work_date", "Date", 10, "date"),
    _Column("who", "Timekeeper", 17, "text"),
    _Column("code", "Code", 9, "text"),
    _Column("narrative", "Narrative", 46, "wrap"),
    _Column("worked_qty_milli", "Hours", 7, "qty"),
    _Column("standard_rate_minor", "Std rate", 9, "money"),
    _Column("worked_amount_minor", "Worked value", 11, "money"),
    _Column("bill_qty_milli", "Bill hours", 8, "qty", True),
    _Column("bill_rate_minor", "Bill rate", 9, "money", True),
    _Column("bill_amount_minor", "Bill amount", 11, "money", True),
    _Column("action", "Action", 10, "text", True),
    _Column("transfer_to", "Transfer to", 12, "text", True),
    _Column("reason_code", "Reason", 10, "text", True),
    _Column("note", "Note", 24, "wrap", True),
    _Column("findings", "Open findings", 36, "findings"),
    _Column("invoice_check", "Held at finalize for", 36, "findings"),
)
#: Hidden, locked key columns after the visible ones (their header text is their name).
KEY_COLUMNS = ("prebill_pk", "entry_kind", "entry_pk", "original", "check")
_COL = {c.key: i for i, c in enumerate(COLUMNS)} | {
    k: len(COLUMNS) + i for i, k in enumerate(KEY_COLUMNS)}
#: Where each matter's approval inputs sit (a wide text column and a date-wide column).
APPROVED_BY_AT, APPROVED_ON_AT = "narrative", "worked_amount_minor"

#: Field -> the header (or label) the user sees: problems name these.
HEADERS = {c.key: c.header for c in COLUMNS} | {"approved_by": "Approved by",
                                                 "approved_on": "Approved on"}

_TITLE_ROWS = 4  # title, partner line, how-to line, blank; then the header row
_HEADER_ROW = _TITLE_ROWS


def formula_made(qty_milli: int, rate_minor: int, amount_minor: int) -> bool:
    """Whether a bill amount is hours x rate (rounded either way), so written as the formula."""
    product = int(qty_milli) * int(rate_minor)
    return int(amount_minor) in (product // money.QTY_SCALE, -((-product) // money.QTY_SCALE))


def line_check(prebill_pk: int, entry_kind: str, entry_pk: int, original: str) -> str:
    """The digest in a row's hidden 'check' cell: any change to the keys or originals breaks it."""
    text = "\x1f".join((_CHECK_SALT, str(int(prebill_pk)), entry_kind, str(int(entry_pk)),
                        original))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _int_or_none(value):
    return None if _missing(value) else int(value)


def _text_or_none(value):
    return None if _missing(value) or not str(value).strip() else str(value)


def _code(rec: dict) -> str | None:
    if rec["entry_kind"] == "time":
        return " ".join(c for c in (rec.get("task_code"), rec.get("activity_code"))
                        if not _missing(c) and c)
    return rec.get("expense_code")


def _plain_text(value) -> str:
    """A text cell as compared: cut as a cell cuts it, line ends as one, ends stripped."""
    text = "" if _missing(value) else visible_text(str(value))  # as the cell shows it
    return text[:_CELL_MAX].replace("\r\n", "\n").replace("\r", "\n").strip()


def _digest(value) -> str:
    return hashlib.blake2b(_plain_text(value).encode("utf-8"), digest_size=4).hexdigest()


#: The locked cells of a line, as the originals keep them: (column key, name in the JSON, kind).
LOCKED = (("work_date", "date", "date"), ("who", "who", "text"), ("code", "code", "text"),
          ("narrative", "narrative", "text"), ("worked_qty_milli", "hours", "qty"),
          ("standard_rate_minor", "std", "money"), ("worked_amount_minor", "worked", "money"),
          ("findings", "findings", "text"), ("invoice_check", "held", "text"))
#: Columns a workbook written before they were added lacks (it is read without them).
_ADDED_LATER = ("invoice_check",)


def _shown(rec: dict) -> dict:
    """What a line's locked cells show, as the originals keep it (texts as digests)."""
    std = rec.get("standard_rate_minor")
    return {"date": pd.Timestamp(rec["work_date"]).date().isoformat(),
            "who": _digest(rec.get("timekeeper_name")), "code": _digest(_code(rec)),
            "narrative": _digest(rec.get("narrative")), "hours": int(rec["worked_qty_milli"]),
            "std": None if _missing(std) else int(std),
            "worked": int(rec["worked_amount_minor"]), "findings": _digest(rec.get("findings")),
            "held": _digest(rec.get("invoice_check"))}


def _original_line(rec: dict) -> str:
    return json.dumps({
        "matter": rec["matter_id"], "currency": rec["currency"],
        "qty": int(rec["bill_qty_milli"]), "rate": int(rec["bill_rate_minor"]),
        "amount": int(rec["bill_amount_minor"]), "action": rec["action"],
        "transfer_to": _text_or_none(rec["transfer_to"]),
        "reason_code": _text_or_none(rec["reason_code"]), "note": _text_or_none(rec["note"]),
        "shown": _shown(rec),
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _original_approval(rec: dict) -> str:
    approved = rec["prebill_status"] == "approved"
    on = rec.get("approved_on")
    return json.dumps({
        "matter": rec["matter_id"], "status": rec["prebill_status"],
        "approved_by": _text_or_none(rec.get("approved_by")) if approved else None,
        "approved_on": pd.Timestamp(on).date().isoformat() if approved and not _missing(on)
        else None,
    }, sort_keys=True, separators=(",", ":"))


# =================================================================================== writing
class _Formats:
    """Cell formats, made once each: (kind, currency digits, editable, severity)."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.text = XlsxText(book)  # data text: never a formula, quote prefix where needed
        self.base = {"valign": "top", "font_size": 9, "font_name": "Arial"}
        self._made: dict[tuple, object] = {}
        self.title = book.add_format({"bold": True, "font_size": 14, "font_name": "Arial"})
        self.subtitle = book.add_format({"font_size": 10, "font_name": "Arial"})
        self.hint = book.add_format({"italic": True, "font_size": 9, "font_name": "Arial",
                                     "font_color": "#595959"})
        self.header = book.add_format({**self.base, "bold": True, "bg_color": "#1F3864",
                                       "font_color": "#FFFFFF", "text_wrap": True,
                                       "valign": "vcenter"})
        self.header_edit = book.add_format({**self.base, "bold": True, "bg_color": "#7F6000",
                                            "font_color": "#FFFFFF", "text_wrap": True,
                                            "valign": "vcenter"})
        self.matter = book.add_format({**self.base, "bold": True, "font_size": 10,
                                       "bg_color": "#D9E1F2", "top": 2, "valign": "vcenter"})
        self.group = book.add_format({**self.base, "italic": True, "font_color": "#404040",
                                      "bottom": 4})
        self.label = book.add_format({**self.base, "bold": True, "align": "right"})
        self.hidden = book.add_format({**self.base, "font_color": "#808080"})
        self.percent = book.add_format({**self.base, "num_format": "0.0%", "italic": True})
        self.label_plain = book.add_format({**self.base, "align": "right"})
        self.status = book.add_format({**self.base, "bold": True, "font_size": 10,
                                       "bg_color": "#D9E1F2", "top": 2, "valign": "vcenter",
                                       "font_color": "#1F3864"})
        self.note = book.add_format({**self.base, "italic": True, "font_color": "#595959",
                                     "text_wrap": True, "valign": "vcenter"})
        self.signature = book.add_format({**self.base, "border": 1, "bottom": 2,
                                          "border_color": "#404040"})

    def cell(self, kind: str, digits: int = 2, editable: bool = False, severity: str = "",
             total: bool = False) -> object:
        key = (kind, digits, editable, severity, total)
        if key not in self._made:
            spec = dict(self.base)
            if kind in ("wrap", "findings"):
                spec["text_wrap"] = True
            if kind == "date":
                spec["num_format"] = "yyyy-mm-dd"
                spec["align"] = "left"
            elif kind == "qty":
                spec["num_format"] = "0.00#"
            elif kind == "money":
                spec["num_format"] = "#,##0" + ("." + "0" * digits if digits else "")
            if kind == "findings":
                spec["font_color"] = _ERROR_RED if severity == "error" else "#7F6000"
            if editable:
                spec["bg_color"] = _EDITABLE_FILL
                spec["locked"] = False
                spec["border"] = 1
                spec["border_color"] = "#BFBFBF"
            if total:
                spec["bold"] = True
                spec["top"] = 1
            self._made[key] = self.book.add_format(spec)
        return self._made[key]


def _rows_for_text(texts_and_widths: list[tuple[object, float]]) -> int:
    """XlsxWriter cannot autofit: lines a wrapped cell needs (9-point Arial: ~1.6 characters a
    unit of column width, as LibreOffice and Excel lay it out)."""
    lines = 1
    for text, width in texts_and_widths:
        if isinstance(text, str) and text:
            per_line = max(int(width * 1.6) - 2, 1)
            lines = max(lines, sum(1 + len(part) // per_line for part in text.split("\n")))
    return min(lines, 30)


def _number(sheet, row: int, col: int, value, fmt) -> None:
    if _missing(value):
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_number(row, col, value, fmt)


def _text(formats: _Formats, sheet, row: int, col: int, value, fmt) -> None:
    if _missing(value) or value == "":
        sheet.write_blank(row, col, None, fmt)
    else:
        formats.text.write(sheet, row, col, str(value), fmt)


def _as_float(minor_or_milli, scale_digits: int) -> float:
    # Decimal -> float: the nearest double to an exact decimal, as a spreadsheet holds it
    return float(money.D(int(minor_or_milli)).scaleb(-scale_digits))


def write_prebill_workbook(path: str | Path, frame: pd.DataFrame, *, partner_name: str,
                           month: str, transfer_matters: pd.DataFrame | None = None,
                           previews: pd.DataFrame | None = None,
                           written_at: datetime | None = None) -> Path:
    """Write one partner's pre-bill workbook from :func:`billxl.billing.prebill.prebill_frame`.

    ``transfer_matters`` (matter_id, name), if given, fills the Transfer-to drop-down (the
    read-back checks transfers against the ledger either way). ``previews`` (prebill_pk, label,
    amount_minor, kind — start, adjustment, tax, total, payor —, live, invoice_date; from
    :func:`billxl.billing.prebill.invoice_previews`) are each matter's invoice as finalize will
    make it. ``written_at`` is said under the title (the statuses shown are as of then).
    """
    frame = frame.reset_index(drop=True)
    by_prebill: dict[int, list[dict]] = {}
    if previews is not None:
        for rec in previews.to_dict("records"):
            by_prebill.setdefault(int(rec["prebill_pk"]), []).append(rec)
    written_at = written_at or datetime.now(UTC)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                              "strings_to_numbers": False,
                                              "strings_to_urls": False})
        book.set_properties({"title": f"Pre-bills {month} — {partner_name}",
                             "subject": "Pre-bill review", "author": "billxl"})
        fmt = _Formats(book)
        sheet = book.add_worksheet(SHEET)
        summary = book.add_worksheet("Summary")
        instructions = book.add_worksheet("Instructions")
        source = None
        if transfer_matters is not None and len(transfer_matters):
            source = _lists_sheet(book, fmt, transfer_matters)
        sections = _prebill_sheet(sheet, fmt, frame, partner_name, month, source, by_prebill,
                                  written_at)
        _summary_sheet(summary, fmt, sections, partner_name, month)
        _instructions_sheet(instructions, fmt, partner_name, month)
        sheet.activate()
        book.close()
    return Path(path)


def _lists_sheet(book, fmt: _Formats, matters: pd.DataFrame) -> str:
    lists = book.add_worksheet("Lists")
    lists.write_string(0, 0, "Open matters (for 'Transfer to')", fmt.header)
    lists.write_string(0, 1, "Name", fmt.header)
    ids = matters["matter_id"].astype(str).tolist()
    names = matters["name"].astype(str).tolist()
    for i, (m, n) in enumerate(zip(ids, names, strict=True), start=1):
        fmt.text.write(lists, i, 0, m)
        fmt.text.write(lists, i, 1, n)
    lists.set_column(0, 0, 30)
    lists.set_column(1, 1, 50)
    lists.protect()
    lists.hide()
    return f"=Lists!$A$2:$A${len(ids) + 1}"


@dataclass
class _Section:
    matter_id: str
    matter_name: str
    client: str
    currency: str
    status: str
    header_row: int
    total_row: int
    approval_row: int
    lines: int
    worked: int
    to_bill: int
    findings: int
    approved_by: str | None
    invoice_total: int | None


def _prebill_sheet(sheet, fmt: _Formats, frame: pd.DataFrame, partner_name: str, month: str,
                   transfer_source: str | None, previews: dict[int, list[dict]],
                   written_at: datetime) -> list[_Section]:
    last_col = len(COLUMNS) - 1
    period = pd.Timestamp(f"{month}-01").strftime("%B %Y")
    sheet.write_string(0, 0, f"Pre-bills for review — {period}", fmt.title)
    matters = frame["matter_id"].nunique()
    stamp = pd.Timestamp(written_at).tz_convert("UTC") if pd.Timestamp(written_at).tzinfo \
        else pd.Timestamp(written_at)
    sheet.write_string(1, 0, f"Billing partner: {partner_name}  ·  {matters} matter(s)  ·  "
                       f"{len(frame)} line(s)  ·  written from the ledger "
                       f"{stamp:%Y-%m-%d %H:%M} UTC (each matter's status is as of then)",
                       fmt.subtitle)
    sheet.write_string(2, 0, "Change only the yellow cells; totals recalculate as you type and "
                       "count the lines whose action is 'bill'. Under each matter: the invoice "
                       "as finalize will make it, then your approval: type your name or "
                       "initials in its 'Approved by' cell. The Instructions sheet explains the "
                       "actions and reason codes.", fmt.hint)
    for col, c in enumerate(COLUMNS):
        sheet.set_column(col, col, c.width)
        sheet.write_string(_HEADER_ROW, col, c.header, fmt.header_edit if c.editable else fmt.header)
    for i, key in enumerate(KEY_COLUMNS):
        col = len(COLUMNS) + i
        sheet.set_column(col, col, 14, fmt.hidden, {"hidden": True})
        sheet.write_string(_HEADER_ROW, col, key, fmt.hidden)
    sheet.set_row(_HEADER_ROW, 26)

    row = _HEADER_ROW + 1
    first_line_row = row
    sections: list[_Section] = []
    approval_cells: list[str] = []
    currencies: set[str] = set()
    # records once, grouped in order: pandas indexing per section costs more than the cells
    for _pk, block in itertools.groupby(frame.to_dict("records"), key=lambda r: r["prebill_pk"]):
        section, row = _matter_section(sheet, fmt, list(block), row,
                                       previews.get(int(_pk), []))
        sections.append(section)
        approval_cells.append(xl_rowcol_to_cell(section.approval_row, _COL[APPROVED_ON_AT]))
        currencies.add(section.currency)
    last_line_row = max(row - 1, first_line_row)

    # Totals over every matter, per currency: SUMIF over the hidden row-type column.
    kind_col = xl_col_to_name(_COL["entry_kind"])
    row += 1
    for currency in sorted(currencies):
        digits = money.minor_digits(currency)
        sheet.write_string(row, _COL["narrative"], f"All matters — total to bill ({currency})",
                           fmt.label)
        for key in ("worked_amount_minor", "bill_amount_minor"):
            col = xl_col_to_name(_COL[key])
            span = f"{col}${first_line_row + 1}:{col}${last_line_row + 1}"
            kinds = f"${kind_col}${first_line_row + 1}:${kind_col}${last_line_row + 1}"
            cached = sum(getattr(s, "worked" if key.startswith("worked") else "to_bill")
                         for s in sections if s.currency == currency)
            sheet.write_formula(row, _COL[key], f'=SUMIF({kinds},"total {currency}",{span})',
                                fmt.cell("money", digits, total=True),
                                _as_float(cached, digits))
        sheet.write_string(row, _COL["entry_kind"], f"grand {currency}", fmt.hidden)
        row += 1

    if last_line_row >= first_line_row:
        lines = (first_line_row, last_line_row)
        sheet.data_validation(*_span(lines, "action"), {
            "validate": "list", "source": list(ACTIONS), "ignore_blank": False,
            "input_title": "Action", "input_message": "bill, hold, no_charge, write_off or "
            "transfer (see Instructions)",
            "error_title": "Not an action",
            "error_message": "Pick one of: bill, hold, no_charge, write_off, transfer."})
        sheet.data_validation(*_span(lines, "reason_code"), {
            "validate": "list", "source": list(REASON_CODES), "ignore_blank": True,
            "input_title": "Reason code", "input_message": "Needed for a write-down or "
            "write-up: WD-INEFF, WD-JUNIOR, WD-CLIENT, WD-DUP, WD-CAP, WU-VALUE, OTHER",
            "error_title": "Not a reason code",
            "error_message": "Pick a code from the list (see the Instructions sheet)."})
        if transfer_source:
            sheet.data_validation(*_span(lines, "transfer_to"), {
                "validate": "list", "source": transfer_source, "ignore_blank": True,
                "input_title": "Transfer to", "input_message": "The open matter to move this "
                "line to (action 'transfer')",
                "error_title": "Not an open matter",
                "error_message": "Pick an open matter from the list."})
        for start in range(0, len(approval_cells), 100):  # a few cells per rule
            cells = approval_cells[start:start + 100]
            sheet.data_validation(cells[0], {
                "validate": "date", "criteria": "between",
                "minimum": date(2000, 1, 1), "maximum": date(2100, 12, 31),
                "multi_range": " ".join(cells), "ignore_blank": True,
                "error_title": "Not a date",
                "error_message": "Type the date you approve, e.g. 2026-11-03."})

    sheet.freeze_panes(_HEADER_ROW + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4; fit to one page wide whatever the paper
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(_HEADER_ROW)
    sheet.print_area(0, 0, max(row, _HEADER_ROW + 1), last_col)
    # printed, each matter starts a page: a pre-bill is read, signed and filed matter by matter
    sheet.set_h_pagebreaks([s.header_row for s in sections[1:]][:1023])
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header(f"&L&8Pre-bills {month}&C&8{header_text(partner_name)}&R&8billxl")
    sheet.set_footer("&L&8Yellow cells are the partner's&R&8Page &P of &N")
    sheet.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                       "format_columns": True, "format_rows": True})
    return sections


def _span(lines: tuple[int, int], key: str) -> tuple[int, int, int, int]:
    return lines[0], _COL[key], lines[1], _COL[key]


def _matter_section(sheet, fmt: _Formats, block: list[dict], row: int,
                    preview: list[dict]) -> tuple[_Section, int]:
    first = block[0]
    currency = str(first["currency"])
    digits = money.minor_digits(currency)
    status = str(first["prebill_status"])
    approved = status == "approved"
    pk = int(first["prebill_pk"])
    client = f"{first['client_name']} ({first['client_id']})"
    title = (f"{first['matter_id']} — {first['matter_name']}   ·   Client: {client}   ·   "
             f"{currency}   ·   pre-bill {pk}")
    header_row = row
    sheet.merge_range(row, 0, row, _COL["findings"] - 1, title, fmt.matter)
    sheet.write_string(row, _COL["findings"], f"Status: {_status_text(first)}", fmt.status)
    sheet.set_row(row, 18)
    _kind(sheet, fmt, row, "matter", pk)
    fmt.text.write(sheet, row, _COL["original"], str(first["matter_id"]), fmt.hidden)
    row += 1

    ranges: dict[str, tuple[int, int]] = {}
    for kind, label in (("time", "Fees"),
                        ("expense", "Expenses — quantity in the hours columns, unit cost in "
                                    "the rate columns")):
        part = [r for r in block if r["entry_kind"] == kind]
        if not part:
            continue
        sheet.merge_range(row, 0, row, len(COLUMNS) - 1, label, fmt.group)
        _kind(sheet, fmt, row, "group", pk)
        row += 1
        start = row
        for rec in part:
            _line_row(sheet, fmt, rec, row, digits)
            row += 1
        ranges[kind] = (start, row - 1)

    # Subtotals: formulas over this section, so the spreadsheet recalculates them.
    worked = {k: sum(int(r["worked_amount_minor"]) for r in block if r["entry_kind"] == k)
              for k in ("time", "expense")}
    to_bill = {k: sum(int(r["bill_amount_minor"]) for r in block
                      if r["entry_kind"] == k and r["action"] == "bill")
               for k in ("time", "expense")}
    money_fmt = fmt.cell("money", digits)
    sub_rows = []
    for kind, label in (("time", "Fees"), ("expense", "Expenses")):
        sheet.write_string(row, _COL["narrative"], label, fmt.label)
        if kind in ranges:
            a, b = ranges[kind]
            sheet.write_formula(row, _COL["worked_amount_minor"],
                                f"=SUM({_range(a, b, 'worked_amount_minor')})", money_fmt,
                                _as_float(worked[kind], digits))
            sheet.write_formula(row, _COL["bill_amount_minor"],
                                f'=SUMIF({_range(a, b, "action")},"bill",'
                                f'{_range(a, b, "bill_amount_minor")})', money_fmt,
                                _as_float(to_bill[kind], digits))
        else:
            sheet.write_number(row, _COL["worked_amount_minor"], 0, money_fmt)
            sheet.write_number(row, _COL["bill_amount_minor"], 0, money_fmt)
        _kind(sheet, fmt, row, "subtotal", pk)
        sub_rows.append(row)
        row += 1
    total_row = row
    total_fmt = fmt.cell("money", digits, total=True)
    sheet.write_string(row, _COL["narrative"], f"Total to bill ({currency})", fmt.label)
    for key, cached in (("worked_amount_minor", sum(worked.values())),
                        ("bill_amount_minor", sum(to_bill.values()))):
        cells = "+".join(xl_rowcol_to_cell(r, _COL[key]) for r in sub_rows)
        sheet.write_formula(row, _COL[key], f"={cells}", total_fmt, _as_float(cached, digits))
    _kind(sheet, fmt, row, f"total {currency}", pk)
    row += 1
    # Realization: what is billed now as a share of the worked value.
    sheet.write_string(row, _COL["narrative"], "Realization (to bill ÷ worked value)", fmt.label)
    g, j = (xl_rowcol_to_cell(total_row, _COL[k]) for k in ("worked_amount_minor",
                                                            "bill_amount_minor"))
    worked_total, billed_total = sum(worked.values()), sum(to_bill.values())
    sheet.write_formula(row, _COL["bill_amount_minor"], f'=IF({g}=0,"",{j}/{g})',
                        fmt.percent, billed_total / worked_total if worked_total else "")
    _kind(sheet, fmt, row, "realization", pk)
    row += 1

    row, invoice_total = _invoice_rows(sheet, fmt, preview, row, pk, currency, total_row,
                                       billed_total)
    approval_row = row
    row = _approval_row(sheet, fmt, first, row, pk, approved)
    row += 1  # a blank row between matters

    findings = sum(not _missing(r.get("findings")) for r in block)
    section = _Section(
        matter_id=str(first["matter_id"]), matter_name=str(first["matter_name"]), client=client,
        currency=currency, status=_status_text(first), header_row=header_row,
        total_row=total_row, approval_row=approval_row, lines=len(block),
        worked=sum(worked.values()), to_bill=sum(to_bill.values()), findings=findings,
        approved_by=_text_or_none(first.get("approved_by")) if approved else None,
        invoice_total=invoice_total)
    return section, row


def _status_text(rec: dict) -> str:
    """The pre-bill's status in the ledger as the workbook is written ('approved by R.R. on
    2026-11-03')."""
    status = str(rec["prebill_status"])
    if status != "approved":
        return status
    by, on = _text_or_none(rec.get("approved_by")), rec.get("approved_on")
    return "approved" + (f" by {by}" if by else "") + (
        "" if _missing(on) else f" on {pd.Timestamp(on).date().isoformat()}")


def _kind(sheet, fmt: _Formats, row: int, kind: str, prebill_pk: int) -> None:
    """Mark a row billxl wrote: its kind and pre-bill in the hidden columns."""
    sheet.write_number(row, _COL["prebill_pk"], prebill_pk, fmt.hidden)
    sheet.write_string(row, _COL["entry_kind"], kind, fmt.hidden)


#: What the hint beside an invoice total says, by whether it follows the partner's edits.
LIVE_NOTE = ("Follows your edits: this matter is billed by the hour, without tax or discounts. "
             "billxl recomputes it when it applies the workbook.")
AS_WRITTEN_NOTE = ("Computed by billxl as finalize computes it, from the lines as written. "
                   "billxl recomputes it when it applies the workbook.")
CHANGED_NOTE = ("Your edits change the lines: billxl recomputes this invoice (fee arrangement, "
                "discounts, tax) when it applies the workbook, and again at finalize.")


def _invoice_rows(sheet, fmt: _Formats, preview: list[dict], row: int, pk: int, currency: str,
                  total_row: int, billed_total: int) -> tuple[int, int | None]:
    """The invoice finalize will make from this pre-bill, under its lines: what is billed, the
    fee arrangement's effect, tax, the total and each payor's share (``preview``: label,
    amount_minor, kind, live). Returns the next row and the invoice total."""
    if not preview:
        return row, None
    digits = money.minor_digits(currency)
    live_total = xl_rowcol_to_cell(total_row, _COL["bill_amount_minor"])
    on = preview[0].get("invoice_date")
    heading = "The invoice, as finalize will make it" + (
        f" (invoice date {pd.Timestamp(on).date().isoformat()})" if not _missing(on) else "")
    sheet.merge_range(row, 0, row, len(COLUMNS) - 1, heading, fmt.group)
    _kind(sheet, fmt, row, "invoice head", pk)
    row += 1
    total = None
    for item in preview:
        kind, amount = item["kind"], int(item["amount_minor"])
        if kind == "problem":  # what would hold this invoice at finalize, in words
            sheet.merge_range(row, _COL["narrative"], row, len(COLUMNS) - 1, "",
                              fmt.cell("findings", severity="error"))
            fmt.text.write(sheet, row, _COL["narrative"], str(item["label"]),
                           fmt.cell("findings", severity="error"))
            sheet.set_row(row, 11 * _rows_for_text([(item["label"], 150)]) + 2)
            _kind(sheet, fmt, row, "invoice problem", pk)
            row += 1
            continue
        label_fmt = fmt.label if kind in ("total", "start") else fmt.label_plain
        fmt.text.write(sheet, row, _COL["narrative"], str(item["label"]), label_fmt)
        cell_fmt = fmt.cell("money", digits, total=True) if kind == "total" else \
            fmt.cell("money", digits)
        if item.get("live") and kind in ("start", "total"):
            sheet.write_formula(row, _COL["bill_amount_minor"], f"={live_total}", cell_fmt,
                                _as_float(amount, digits))
        else:
            sheet.write_number(row, _COL["bill_amount_minor"], _as_float(amount, digits),
                               cell_fmt)
        if kind == "total":
            total = amount
            note = xl_rowcol_to_cell(row, _COL["action"])
            sheet.merge_range(row, _COL["action"], row, len(COLUMNS) - 1, "", fmt.note)
            if item.get("live"):
                sheet.write_string(note, LIVE_NOTE, fmt.note)
            else:
                sheet.write_formula(
                    note, f'=IF(ROUND({live_total}-{_as_float(billed_total, digits)!r},'
                          f'{digits})=0,"{AS_WRITTEN_NOTE}","{CHANGED_NOTE}")', fmt.note,
                    AS_WRITTEN_NOTE)
            sheet.set_row(row, 24)
        _kind(sheet, fmt, row, f"invoice {kind}", pk)
        row += 1
    return row, total


def _approval_row(sheet, fmt: _Formats, rec: dict, row: int, pk: int, approved: bool) -> int:
    """The partner's approval of one matter: Approved by and Approved on (read back), and a
    box to sign on a printed copy (locked: billxl does not read it)."""
    sheet.merge_range(row, 0, row, _COL["narrative"] - 1, "Approved by ▸", fmt.label)
    _text(fmt, sheet, row, _COL[APPROVED_BY_AT], rec.get("approved_by") if approved else None,
          fmt.cell("text", editable=True))
    sheet.merge_range(row, _COL["worked_qty_milli"], row, _COL["standard_rate_minor"],
                      "Approved on ▸", fmt.label)
    on = rec.get("approved_on")
    date_fmt = fmt.cell("date", editable=True)
    if approved and not _missing(on):
        sheet.write_datetime(row, _COL[APPROVED_ON_AT], pd.Timestamp(on).to_pydatetime(), date_fmt)
    else:
        sheet.write_blank(row, _COL[APPROVED_ON_AT], None, date_fmt)
    sheet.merge_range(row, _COL["bill_qty_milli"], row, _COL["bill_rate_minor"], "Signature ▸",
                      fmt.label)
    sheet.merge_range(row, _COL["bill_amount_minor"], row, _COL["transfer_to"], "",
                      fmt.signature)
    sheet.merge_range(row, _COL["reason_code"], row, len(COLUMNS) - 1,
                      "To approve this matter, type your name or initials and the date in the "
                      "yellow cells (leave them blank to keep it a draft). Sign the box on a "
                      "printed copy; billxl reads the typed name.", fmt.note)
    sheet.set_row(row, 30)
    original = _original_approval(rec)
    _kind(sheet, fmt, row, "approval", pk)
    sheet.write_number(row, _COL["entry_pk"], 0, fmt.hidden)
    sheet.write_string(row, _COL["original"], original, fmt.hidden)
    sheet.write_string(row, _COL["check"], line_check(pk, "approval", 0, original), fmt.hidden)
    return row + 1


def _range(a: int, b: int, key: str) -> str:
    col = xl_col_to_name(_COL[key])
    return f"{col}{a + 1}:{col}{b + 1}"


def _line_row(sheet, fmt: _Formats, rec: dict, row: int, digits: int) -> None:
    code = _code(rec)
    sheet.write_datetime(row, _COL["work_date"], pd.Timestamp(rec["work_date"]).to_pydatetime(),
                         fmt.cell("date"))
    _text(fmt, sheet, row, _COL["who"], rec.get("timekeeper_name"), fmt.cell("text"))
    _text(fmt, sheet, row, _COL["code"], code, fmt.cell("text"))
    _text(fmt, sheet, row, _COL["narrative"], rec.get("narrative"), fmt.cell("wrap"))
    qty_fmt, money_fmt = fmt.cell("qty"), fmt.cell("money", digits)
    _number(sheet, row, _COL["worked_qty_milli"], _as_float(rec["worked_qty_milli"], 3), qty_fmt)
    std = rec.get("standard_rate_minor")
    _number(sheet, row, _COL["standard_rate_minor"],
            None if _missing(std) else _as_float(std, digits), money_fmt)
    _number(sheet, row, _COL["worked_amount_minor"], _as_float(rec["worked_amount_minor"], digits),
            money_fmt)

    qty, rate, amount = (int(rec["bill_qty_milli"]), int(rec["bill_rate_minor"]),
                         int(rec["bill_amount_minor"]))
    edit_qty, edit_money = fmt.cell("qty", editable=True), fmt.cell("money", digits, True)
    sheet.write_number(row, _COL["bill_qty_milli"], _as_float(qty, 3), edit_qty)
    sheet.write_number(row, _COL["bill_rate_minor"], _as_float(rate, digits), edit_money)
    shown = 0 if rec["action"] in NOT_BILLED else _as_float(amount, digits)
    action = xl_rowcol_to_cell(row, _COL["action"], col_abs=True)
    zero_if = f"IF(OR({action}=\"no_charge\",{action}=\"write_off\"),0,"
    if formula_made(qty, rate, amount):
        q, r = (xl_rowcol_to_cell(row, _COL[k]) for k in ("bill_qty_milli", "bill_rate_minor"))
        sheet.write_formula(row, _COL["bill_amount_minor"],
                            f"={zero_if}ROUND({q}*{r},{digits}))", edit_money, shown)
    elif rec["action"] in NOT_BILLED:  # an amount typed before, on a line billed at nothing
        sheet.write_formula(row, _COL["bill_amount_minor"],
                            f"={zero_if}{money.from_minor(amount, rec['currency']):f})",
                            edit_money, shown)
    else:  # an amount typed over the formula before stays a number
        sheet.write_number(row, _COL["bill_amount_minor"], _as_float(amount, digits), edit_money)
    edit_text, edit_wrap = fmt.cell("text", editable=True), fmt.cell("wrap", editable=True)
    _text(fmt, sheet, row, _COL["action"], rec["action"], edit_text)
    _text(fmt, sheet, row, _COL["transfer_to"], rec.get("transfer_to"), edit_text)
    _text(fmt, sheet, row, _COL["reason_code"], rec.get("reason_code"), edit_text)
    _text(fmt, sheet, row, _COL["note"], rec.get("note"), edit_wrap)
    severity = rec.get("finding_severity") if isinstance(rec.get("finding_severity"), str) else ""
    _text(fmt, sheet, row, _COL["findings"], rec.get("findings"), fmt.cell("findings",
                                                                     severity=severity))
    _text(fmt, sheet, row, _COL["invoice_check"], rec.get("invoice_check"),
          fmt.cell("findings", severity="error"))
    height = _rows_for_text([(rec.get("narrative"), COLUMNS[_COL["narrative"]].width),
                             (rec.get("findings"), COLUMNS[_COL["findings"]].width),
                             (rec.get("invoice_check"), COLUMNS[_COL["invoice_check"]].width),
                             (rec.get("note"), COLUMNS[_COL["note"]].width)])
    if height > 1:
        sheet.set_row(row, 11 * height + 2)

    original = _original_line(rec)
    pk, entry_pk = int(rec["prebill_pk"]), int(rec["entry_pk"])
    sheet.write_number(row, _COL["prebill_pk"], pk, fmt.hidden)
    sheet.write_string(row, _COL["entry_kind"], rec["entry_kind"], fmt.hidden)
    sheet.write_number(row, _COL["entry_pk"], entry_pk, fmt.hidden)
    sheet.write_string(row, _COL["original"], original, fmt.hidden)
    sheet.write_string(row, _COL["check"], line_check(pk, rec["entry_kind"], entry_pk, original),
                       fmt.hidden)


def _summary_sheet(sheet, fmt: _Formats, sections: list[_Section], partner_name: str,
                   month: str) -> None:
    period = pd.Timestamp(f"{month}-01").strftime("%B %Y")
    sheet.write_string(0, 0, f"Summary — pre-bills {period}, {partner_name}", fmt.title)
    sheet.write_string(1, 0, "Worked value and To bill follow the Pre-bill sheet as you edit it; "
                       "the invoice total is billxl's, from the lines as written (billxl "
                       "recomputes it when it applies your edits). Click a matter to go to its "
                       "section.", fmt.hint)
    headers = [("Matter", 14), ("Matter name", 36), ("Client", 30), ("Cur.", 5), ("Lines", 6),
               ("Worked value", 13), ("To bill", 13), ("Invoice total (as written)", 13),
               ("Lines with findings", 10), ("Status when written", 24), ("Approved by", 18)]
    top = 3
    for col, (h, w) in enumerate(headers):
        sheet.set_column(col, col, w)
        sheet.write_string(top, col, h, fmt.header)
    sheet.set_row(top, 26)
    ref = f"'{SHEET}'!"
    for i, s in enumerate(sections, start=top + 1):
        digits = money.minor_digits(s.currency)
        money_fmt = fmt.cell("money", digits)
        sheet.write_url(i, 0, f"internal:{ref}A{s.header_row + 1}", fmt.cell("text"),
                        string=s.matter_id)
        fmt.text.write(sheet, i, 1, s.matter_name, fmt.cell("text"))
        fmt.text.write(sheet, i, 2, s.client, fmt.cell("text"))
        sheet.write_string(i, 3, s.currency, fmt.cell("text"))
        sheet.write_number(i, 4, s.lines, fmt.cell("text"))
        for col, key, cached in ((5, "worked_amount_minor", s.worked),
                                 (6, "bill_amount_minor", s.to_bill)):
            cell = xl_rowcol_to_cell(s.total_row, _COL[key])
            sheet.write_formula(i, col, f"={ref}{cell}", money_fmt, _as_float(cached, digits))
        _number(sheet, i, 7, None if s.invoice_total is None
                else _as_float(s.invoice_total, digits), money_fmt)
        sheet.write_number(i, 8, s.findings, fmt.cell("text"))
        sheet.write_string(i, 9, s.status, fmt.cell("text"))
        sign = xl_rowcol_to_cell(s.approval_row, _COL[APPROVED_BY_AT])
        sheet.write_formula(i, 10, f'=IF({ref}{sign}="","not yet",{ref}{sign})',
                            fmt.cell("text"), s.approved_by or "not yet")
    # One total per currency (amounts in different currencies are never added together).
    row = top + len(sections) + 1
    first, last = top + 2, top + len(sections) + 1
    for currency in sorted({s.currency for s in sections}):
        digits = money.minor_digits(currency)
        sheet.write_string(row, 2, f"Total {currency}", fmt.label)
        sheet.write_string(row, 3, currency, fmt.cell("text", total=True))
        for col, attr in ((5, "worked"), (6, "to_bill"), (7, "invoice_total")):
            letter = xl_col_to_name(col)
            cached = sum(getattr(s, attr) or 0 for s in sections if s.currency == currency)
            sheet.write_formula(row, col, f'=SUMIF($D${first}:$D${last},"{currency}",'
                                f'{letter}${first}:{letter}${last})',
                                fmt.cell("money", digits, total=True), _as_float(cached, digits))
        row += 1
    sheet.freeze_panes(top + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(top)
    sheet.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                       "format_columns": True})


_INSTRUCTIONS = [
    ("title", "How to review these pre-bills"),
    ("text", "Each matter has its own section on the Pre-bill sheet: its fee lines, its expense "
             "lines, subtotals, the invoice as it will be, and your approval cells. Change only "
             "the yellow cells; everything else is locked. Save the file and send it back: billxl reads it, checks every edit "
             "and applies them all, or none if anything needs fixing (it lists every problem "
             "with its row)."),
    ("head", "The yellow columns"),
    ("pair", "Bill hours", "Hours to bill (for an expense: the quantity). At most 24 per line, "
             "never negative. For a client with billing guidelines or an e-billing portal, "
             "hours you type land on the client's increment (0.1 hour unless its guidelines "
             "say otherwise), rounded down: type 1.875 and 1.8 is billed (billxl says so, and "
             "the audit log keeps what you typed). Where the client's guidelines take "
             "write-downs as amounts, the hours stay and the amount is written down instead; "
             "to write down by an amount for any client, type the Bill amount."),
    ("pair", "Bill rate", "Rate per hour (for an expense: the unit cost). Never negative."),
    ("pair", "Bill amount", "Calculated as hours x rate, and 0 on a line whose action is "
             "no_charge or write_off. You may type an amount over it; a typed amount needs a "
             "reason code."),
    ("pair", "Action", "What to do with the line; pick from the list (below)."),
    ("pair", "Transfer to", "For the action 'transfer' only: the number of the open matter the "
             "line moves to (same currency). A matter of another client also needs a reason "
             "code (OTHER if none fits) and a note saying why."),
    ("pair", "Reason", "Needed whenever the billed value goes down (write-down) or up "
             "(write-up), or the amount is typed over the formula; pick from the list (below)."),
    ("pair", "Note", "Anything the billing team should know; required with the reason OTHER."),
    ("pair", "Approved by / on", "At the foot of each matter: type your name or initials, and "
             "the date, to approve that matter. Leave blank and it stays a draft (your edits "
             "are still applied). Clear a name to withdraw an approval. The Signature box is "
             "for a printed copy; billxl reads the typed name."),
    ("head", "The invoice as it will be"),
    ("text", "Under each matter's lines billxl shows the invoice that finalizing this pre-bill "
             "will make, computed by the same code as finalize from the lines as written: what "
             "is billed, the fee arrangement (a fixed fee, a fee cap, discounts), tax, the "
             "total and, for a matter billed to several payors, each one's share. On a matter "
             "billed by the hour without tax or discounts the total follows your edits; on the "
             "others a note says when your edits change the lines, and billxl recomputes the "
             "invoice when it applies the workbook and again at finalize. Each matter's "
             "header shows its status in the ledger when the workbook was written."),
    ("head", "Actions"),
    *[("pair", k, v) for k, v in ACTIONS.items()],
    ("head", "Reason codes"),
    *[("pair", k, v) for k, v in REASON_CODES.items()],
    ("head", "What billxl checks when you send the workbook back"),
    ("text", "Each action is one of the list; a transfer goes to an existing matter that is "
             "open and bills in the same currency, and not to the line's own matter; every "
             "write-down and write-up has a reason code of the right kind; hours and rates are "
             "not negative and hours are at most 24 per line; lines already billed cannot be "
             "changed; the hidden key cells of each row are intact, and the locked cells are "
             "as billxl wrote them. Totals are recalculated by "
             "billxl from the lines, never taken from the workbook."),
    ("head", "Please do not"),
    ("text", "Insert, delete or copy rows, move a row to another matter, or edit the hidden "
             "columns: billxl uses them to match each row to its entry, and refuses a workbook "
             "whose rows do not match, naming the rows. Nor change a line's white cells (date, "
             "timekeeper, code, narrative, hours worked, standard rate, worked value, "
             "findings): they are the time entry's, and billxl refuses a workbook in which "
             "they were changed, naming each row (a narrative is corrected in the time entry). "
             "The sheet is protected without a password only to prevent slips; there is no "
             "need to unprotect it."),
    ("head", "Held at finalize for"),
    ("text", "For clients with billing guidelines or an e-billing portal, billxl checks each "
             "invoice as finalize will make it against the client's guideline rules (hours on "
             "the increment, daily maximum, approved rates and rate caps, UTBMS codes, "
             "narratives) and against the LEDES file its portal would receive. Each problem "
             "is shown on its line in this column, with its rule and what to do; a problem of "
             "the whole invoice (a missing client matter id, say) under the invoice's total. "
             "An invoice with a problem is held at finalize (it stays a pre-bill) until the "
             "line is fixed, written off or held, or finalize is told to override it with a "
             "reason. billxl checks again when it applies your edits."),
    ("head", "Colours"),
    ("text", "Yellow: yours to change. Red text in 'Open findings': an error the billing "
             "guidelines found on that entry (for example a rate over the approved rate, or a "
             "vague narrative); brown text: a warning. Resolve them by editing the line, writing "
             "it down or off, or noting why it stands."),
]


def _instructions_sheet(sheet, fmt: _Formats, partner_name: str, month: str) -> None:
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 100)
    wrap = fmt.book.add_format({"text_wrap": True, "valign": "top", "font_size": 10,
                                "font_name": "Arial"})
    key = fmt.book.add_format({"bold": True, "valign": "top", "font_size": 10,
                               "font_name": "Arial", "bg_color": _EDITABLE_FILL})
    head = fmt.book.add_format({"bold": True, "font_size": 11, "font_name": "Arial",
                                "bottom": 1})
    row = 0
    for item in _INSTRUCTIONS:
        if item[0] == "title":
            sheet.write_string(row, 0, f"{item[1]} — {month}, {partner_name}", fmt.title)
            row += 2
        elif item[0] == "head":
            row += 1
            sheet.merge_range(row, 0, row, 1, item[1], head)
            row += 1
        elif item[0] == "pair":
            sheet.write_string(row, 0, item[1], key)
            sheet.write_string(row, 1, item[2], wrap)
            lines = _rows_for_text([(item[2], 100)])
            if lines > 1:
                sheet.set_row(row, 14 * lines)
            row += 1
        else:
            sheet.merge_range(row, 0, row, 1, item[1], wrap)
            sheet.set_row(row, 14 * _rows_for_text([(item[1], 118)]))
            row += 1
    sheet.set_portrait()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


# =================================================================================== reading
def _grid(path: str | Path) -> tuple[np.ndarray, str]:
    shown = str(path)
    try:
        with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
            if SHEET not in book.sheet_names:
                raise InputError(
                    f"{shown} is not a pre-bill workbook: it has no sheet named {SHEET!r} "
                    f"(its sheets: {', '.join(book.sheet_names)}).",
                    [Problem(shown, None, None, None, f"there is no sheet named {SHEET!r}")])
            rows = book.get_sheet_by_name(SHEET).to_python(skip_empty_area=False)
    except FileNotFoundError:
        raise InputError(f"{shown} does not exist.") from None
    except python_calamine.PasswordError:
        raise InputError(f"{shown} is protected by a password; save a copy without one.") from None
    except python_calamine.CalamineError as exc:
        raise InputError(f"{shown} is damaged or is not a spreadsheet ({exc}).") from None
    width = max((len(r) for r in rows), default=0)
    block = np.empty((len(rows), width), dtype=object)
    block[:] = ""
    for i, r in enumerate(rows):
        block[i, :len(r)] = r
    return block, shown


def _header(block: np.ndarray, shown: str) -> tuple[int, dict[str, int]]:
    """The header row (the one holding the hidden 'check' header) and each column's position."""
    for i in range(min(len(block), 50)):
        texts = [cell_text(v).strip() for v in block[i]]
        if "check" in texts and "prebill_pk" in texts:
            wanted = {c.key: c.header for c in COLUMNS} | {k: k for k in KEY_COLUMNS}
            where = {key: texts.index(h) for key, h in wanted.items() if h in texts}
            missing = [wanted[k] for k in wanted if k not in where and k not in _ADDED_LATER]
            if missing:
                raise InputError(f"{shown}: the {SHEET!r} sheet lacks the column(s) "
                                 f"{', '.join(map(repr, missing))}; write a fresh workbook.",
                                 [Problem(shown, i + 1, m, None, "this column is missing",
                                          SHEET) for m in missing])
            return i, where
    raise InputError(f"{shown} is not a pre-bill workbook written by billxl: the {SHEET!r} "
                     "sheet has no header row with its hidden key columns.",
                     [Problem(shown, None, None, None, "no pre-bill header row found", SHEET)])


def _texts(cells: np.ndarray) -> np.ndarray:
    return np.array([cell_text(v).strip() for v in cells], dtype=object)


def _layout_rows(kinds: np.ndarray) -> np.ndarray:
    """Rows billxl writes around the lines (headers, totals, the invoice), by their kind."""
    text = kinds.astype(str)
    return np.isin(kinds, ["matter", "group", "subtotal", "realization"]) | \
        np.char.startswith(text, "total ") | np.char.startswith(text, "grand ") | \
        np.char.startswith(text, "invoice ")


def _sections(body: np.ndarray, col: dict[str, int], kinds: np.ndarray) -> np.ndarray:
    """For every row, the (prebill_pk, matter) of the matter section it sits in (None before
    the first)."""
    heads = np.flatnonzero(kinds == "matter")
    pks, status = scaled_numbers(body[heads, col["prebill_pk"]], 0)
    out = np.empty(len(kinds), dtype=object)
    out[:] = None
    for at, (i, pk, ok) in enumerate(zip(heads, pks, status == OK, strict=True)):
        end = heads[at + 1] if at + 1 < len(heads) else len(kinds)
        if ok:
            matter = cell_text(body[i, col["original"]]).strip() or f"pre-bill {int(pk)}"
            out[i:end] = [(int(pk), matter)] * (end - i)
    return out


def _check_sections(add, mask: np.ndarray, pk_val: np.ndarray, sections: np.ndarray,
                    body: np.ndarray, col: dict[str, int]) -> None:
    """A line or approval whose row sits under another matter's header was moved there."""
    moved = np.array([bool(m) and sections[i] is not None and sections[i][0] != pk_val[i]
                      for i, m in enumerate(mask)], dtype=bool)

    def why(i: int) -> str:
        try:
            matter = json.loads(cell_text(body[i, col["original"]]))["matter"]
        except (ValueError, KeyError, TypeError):
            matter = "its own matter"
        return (f"this line belongs to pre-bill {int(pk_val[i])} ({matter}), but its row now "
                f"sits in the section of {sections[i][1]}; rows cannot be moved between "
                "matters: put it back, and to bill the line on another matter choose the "
                "action 'transfer'")

    add(moved, None, None, why)


def _shortened(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


#: What a problem says of a locked cell that was changed, by its column key.
_LOCKED_REASONS = {
    "work_date": "the date was changed, but the date worked is the time entry's and is "
                 "corrected there, not here",
    "who": "the timekeeper was changed, but who did the work is the time entry's and is "
           "corrected there, not here",
    "code": "the code was changed, but task, activity and expense codes are the entry's and "
            "are corrected there, not here",
    "narrative": "the narrative was changed, but narratives are edited in the time entry, not "
                 "here",
    "worked_qty_milli": "the hours worked were changed, but they are the time entry's; to "
                        "bill other hours, change 'Bill hours' instead",
    "standard_rate_minor": "the standard rate was changed, but it comes from the rate table; "
                           "to bill at another rate, change 'Bill rate' instead",
    "worked_amount_minor": "the worked value was changed, but it is hours worked x standard "
                           "rate; to bill another amount, change 'Bill amount' instead",
    "findings": "the findings were changed, but findings are answered in billxl (waive, query "
                "or resolve them) and are not edited here; write your comment in the Note",
    "invoice_check": "what would hold the invoice at finalize was changed, but billxl works it "
                     "out from the lines (again when it applies the workbook, and at finalize); "
                     "fix the line instead",
}


def _check_locked(add, is_line: np.ndarray, originals: list[dict], body: np.ndarray,
                  col: dict[str, int], digits: np.ndarray) -> None:
    """An edit typed into a locked cell of a line (the sheet's protection was taken off) is
    refused, per row and column, never dropped: the originals say what the cell showed."""
    kept = is_line & np.array(["shown" in o for o in originals], dtype=bool)
    if not kept.any():
        return
    shown = [o.get("shown") or {} for o in originals]
    for key, name, kind in LOCKED:
        if key not in col:  # a column added since this workbook was written
            continue
        cells = body[:, col[key]]
        was = [s.get(name) for s in shown]
        if kind == "text":
            now = np.array([_digest(cell_text(v)) for v in cells], dtype=object)
            differs = now != np.array(was, dtype=object)
        elif kind == "date":
            days, _bad, _far, _blank = parse_dates(cells, ("%Y-%m-%d",))
            now = np.datetime_as_string(days.astype("datetime64[D]"), unit="D")
            differs = now.astype(object) != np.array(was, dtype=object)
        else:
            scale = 3 if kind == "qty" else digits
            milli, status = scaled_numbers(cells, 3)
            step = 10 ** (3 - scale)
            value = np.where((status == OK) & (milli % step == 0), milli // step, -1)
            expected = np.array([-2 if w is None else w for w in was], dtype=np.int64)
            differs = np.where(np.array([w is None for w in was]), status != BLANK,
                               value != expected)
        reason = _LOCKED_REASONS[key]
        if kind in ("qty", "money", "date"):
            def why(i: int, reason=reason, kind=kind, was=was) -> str:
                if kind == "date" or was[i] is None:
                    before = "the blank cell" if was[i] is None else was[i]
                else:
                    before = f"{money.milli_to_qty(was[i]).normalize():f}" if kind == "qty" \
                        else money.D(int(was[i])).scaleb(-int(digits[i]))
                return f"{reason}; put back {before} (nothing on this row, or in this " \
                       "workbook, was applied)"
        else:
            why = f"{reason}; put back the text billxl wrote (nothing on this row, or in this " \
                  "workbook, was applied)"
        add(kept & differs, HEADERS[key], np.array([_shortened(cell_text(v).strip())
                                                    for v in cells], dtype=object), why)


def read_prebill_workbook(path: str | Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Read an edited pre-bill workbook: its lines and approvals, and every problem in them.

    Returns one row per line (entry_kind 'time' or 'expense') and per matter approval
    (entry_kind 'approval'), with ``row`` (as the user sees it), the hidden keys, the values
    as the file holds them now (bill_qty_milli, bill_rate_minor, bill_amount_minor — NA when
    blank —, action, transfer_to, reason_code, note; approved_by, approved_on) and as they
    were written (``orig_*``), ``currency``, ``matter_id`` and ``tampered`` (the row's hidden
    keys fail their check). Problems are what the file alone shows to be wrong; the ledger's
    checks are :func:`billxl.billing.prebill.apply_prebill`'s. Raises InputError for a file that
    is not a pre-bill workbook at all.
    """
    block, shown = _grid(path)
    top, col = _header(block, shown)
    body = block[top + 1:]
    rows = np.arange(top + 2, top + 2 + len(body), dtype=np.int64)
    problems: list[Problem] = []

    def add(mask, column: str | None, cells, reason) -> None:
        for i in np.flatnonzero(mask):
            value = None if cells is None else cell_text(cells[i]).strip() or None
            why = reason if isinstance(reason, str) else reason(int(i))
            problems.append(Problem(shown, int(rows[i]), column, value, why, SHEET))

    every_kind = _texts(body[:, col["entry_kind"]])
    keyed = np.logical_or.reduce([_texts(body[:, col[k]]) != "" for k in KEY_COLUMNS
                                  if k != "entry_kind"])
    layout = _layout_rows(every_kind)
    # a line's row whose kind was cleared or changed is a line with broken keys
    wanted = np.isin(every_kind, ["time", "expense", "approval"]) | (keyed & ~layout)
    strays = ~wanted & ~layout & (every_kind == "")
    sections = _sections(body, col, every_kind)
    stray_rows, stray_body = rows[strays], body[strays]
    body, rows, kinds, sections = body[wanted], rows[wanted], every_kind[wanted], sections[wanted]
    n = len(body)

    # -- the hidden keys: numbers, originals as written, and the check over them
    pk_val, pk_status = scaled_numbers(body[:, col["prebill_pk"]], 0)
    entry_val, entry_status = scaled_numbers(body[:, col["entry_pk"]], 0)
    original_text = _texts(body[:, col["original"]])
    check_text = _texts(body[:, col["check"]])
    originals: list[dict] = []
    tampered = np.zeros(n, dtype=bool)
    for i in range(n):
        ok = pk_status[i] == OK and entry_status[i] == OK
        try:
            orig = json.loads(original_text[i]) if ok else {}
        except ValueError:
            orig, ok = {}, False
        ok = ok and isinstance(orig, dict) and check_text[i] == line_check(
            int(pk_val[i]), kinds[i], int(entry_val[i]), original_text[i])
        tampered[i] = not ok
        originals.append(orig if ok else {})
    add(tampered, None, None,
        "the hidden key cells of this row were changed, so billxl cannot tell which entry it "
        "is; use the workbook as billxl wrote it (or write a fresh one)")
    sound = ~tampered
    keys = pd.Series(list(zip(pk_val.tolist(), kinds.tolist(), entry_val.tolist(),
                              strict=True)), dtype=object)
    repeated = np.zeros(n, dtype=bool)
    repeated[sound] = keys[sound].duplicated(keep=False).to_numpy()
    seen_at: dict[tuple, list[int]] = {}
    for i in np.flatnonzero(repeated):
        seen_at.setdefault(keys[i], []).append(int(rows[i]))
    add(repeated, None, None, lambda i: "this row appears more than once (rows "
        f"{', '.join(map(str, seen_at[keys[i]]))}); rows must not be copied: delete the copy "
        "and keep the row with your edits")
    _check_sections(add, sound & ~repeated, pk_val, sections, body, col)
    if any("shown" in o for o in originals):  # a workbook that marks every row it writes
        for i, r in enumerate(stray_rows):
            filled = [c for c in range(len(COLUMNS)) if cell_text(stray_body[i, c]).strip()]
            if filled:
                problems.append(Problem(
                    shown, int(r), COLUMNS[filled[0]].header,
                    _shortened(cell_text(stray_body[i, filled[0]]).strip()),
                    "this row is not one billxl wrote, so billxl does not read it; write notes "
                    "in a line's Note cell, and delete this row", SHEET))

    def orig(name: str) -> list:
        return [o.get(name) for o in originals]

    currency = np.array([o.get("currency") or "USD" for o in originals], dtype=object)
    digits = np.array([money.minor_digits(c) for c in currency], dtype=np.int64)
    is_line = np.isin(kinds, ["time", "expense"]) & ~tampered
    is_sign = (kinds == "approval") & ~tampered
    _check_locked(add, is_line, originals, body, col, digits)

    # -- numbers: hours to the thousandth, money to the currency's minor unit
    qty_cells = body[:, col["bill_qty_milli"]]
    qty, qty_status = scaled_numbers(qty_cells, 3)
    header = HEADERS["bill_qty_milli"]
    add(is_line & (qty_status == BLANK), header, None, "the bill hours are missing")
    add(is_line & (qty_status == NOT_NUMBER), header, qty_cells, "is not a number")
    add(is_line & (qty_status == TOO_PRECISE), header, qty_cells,
        "has more than 3 decimal places")
    add(is_line & (qty_status == TOO_LARGE), header, qty_cells, "is too large")
    good_qty = is_line & (qty_status == OK)
    add(good_qty & (qty < 0), header, qty_cells, "the hours cannot be negative")
    add(good_qty & (kinds == "time") & (qty > MAX_LINE_HOURS_MILLI), header, qty_cells,
        "is more than 24 hours on one line")

    def amounts(key: str, label: str, blank_ok: bool) -> tuple[np.ndarray, np.ndarray]:
        cells = body[:, col[key]]
        milli, status = scaled_numbers(cells, 3)
        step = 10 ** (3 - digits)
        status = np.where((status == OK) & (milli % step != 0), TOO_PRECISE, status)
        head = HEADERS[key]
        if not blank_ok:
            add(is_line & (status == BLANK), head, None, f"the {label} is missing")
        add(is_line & (status == NOT_NUMBER), head, cells, "is not an amount")
        add(is_line & (status == TOO_PRECISE), head, cells,
            lambda i: f"has more decimal places than {currency[i]} has "
                      f"({digits[i]})")
        add(is_line & (status == TOO_LARGE), head, cells, "is too large")
        add(is_line & (status == OK) & (milli < 0), head, cells,
            f"the {label} cannot be negative")
        return np.where(status == OK, milli // step, 0), status

    rate, rate_status = amounts("bill_rate_minor", "bill rate", False)
    amount, amount_status = amounts("bill_amount_minor", "bill amount", True)

    # -- the chosen action, transfer and reason
    action_cells = body[:, col["action"]]
    action = np.array([a.lower().replace("-", "_").replace(" ", "_")
                       for a in _texts(action_cells)], dtype=object)
    head = HEADERS["action"]
    add(is_line & (action == ""), head, None,
        f"the action is missing; pick one of: {', '.join(ACTIONS)}")
    bad_action = is_line & (action != "") & ~np.isin(action, list(ACTIONS))
    add(bad_action, head, action_cells, f"is not an action; pick one of: {', '.join(ACTIONS)}")
    transfer_cells = body[:, col["transfer_to"]]
    transfer = _texts(transfer_cells)
    head = HEADERS["transfer_to"]
    add(is_line & (action == "transfer") & (transfer == ""), head, None,
        "a transfer needs the number of the matter to move the line to")
    add(is_line & (transfer != "") & (action != "transfer") & ~bad_action, head, transfer_cells,
        "is filled in, but the action is not 'transfer'; clear it or choose 'transfer'")
    reason_cells = body[:, col["reason_code"]]
    reason = np.array([r.upper().replace("_", "-").replace(" ", "-")
                       for r in _texts(reason_cells)], dtype=object)
    add(is_line & (reason != "") & ~np.isin(reason, list(REASON_CODES)), HEADERS["reason_code"],
        reason_cells, f"is not a reason code; pick one of: {', '.join(REASON_CODES)}")
    note = np.array([cell_text(v).strip() for v in body[:, col["note"]]], dtype=object)

    # -- approvals: a name (or initials) and a date
    by_cells = body[:, col[APPROVED_BY_AT]]
    by = _texts(by_cells)
    on_cells = body[:, col[APPROVED_ON_AT]]
    on_days, on_bad, on_far, _on_blank = parse_dates(on_cells, ("%Y-%m-%d",))
    add(is_sign & (on_bad | on_far), "Approved on", on_cells,
        "is not a date; type it as YYYY-MM-DD (e.g. 2026-11-03)")
    # (a date left from an approval whose name was cleared is a withdrawal, not a mistake)
    signed_on = pd.to_datetime(pd.Series(orig("approved_on"), dtype=object)).to_numpy()
    add(is_sign & (by == "") & ~np.isnat(on_days) & (on_days != signed_on), "Approved by", None,
        "a date is given but no name; type your name or initials to approve")
    add(is_sign & (np.char.str_len(by.astype(str)) > 100), "Approved by", by_cells,
        "is too long (at most 100 characters)")

    def number_or_na(values: np.ndarray, status: np.ndarray) -> pd.Series:
        return pd.Series(values, dtype="Int64").where(status == OK, pd.NA)

    def none_if_blank(values: np.ndarray) -> np.ndarray:
        return np.where(values == "", None, values).astype(object)

    frame = pd.DataFrame({
        "row": rows,
        "entry_kind": kinds.astype(object),
        "prebill_pk": pk_val.astype(np.int64),
        "entry_pk": entry_val.astype(np.int64),
        "tampered": tampered,
        "matter_id": orig("matter"),
        "currency": currency,
        "bill_qty_milli": number_or_na(qty, qty_status),
        "bill_rate_minor": number_or_na(rate, rate_status),
        "bill_amount_minor": number_or_na(amount, amount_status),
        "action": none_if_blank(action),
        "transfer_to": none_if_blank(transfer),
        "reason_code": none_if_blank(reason),
        "note": none_if_blank(note),
        "approved_by": none_if_blank(by),
        "approved_on": pd.Series(on_days).astype("datetime64[ns]"),
        "orig_bill_qty_milli": pd.Series(orig("qty"), dtype="Int64"),
        "orig_bill_rate_minor": pd.Series(orig("rate"), dtype="Int64"),
        "orig_bill_amount_minor": pd.Series(orig("amount"), dtype="Int64"),
        "orig_action": orig("action"),
        "orig_transfer_to": orig("transfer_to"),
        "orig_reason_code": orig("reason_code"),
        "orig_note": orig("note"),
        "orig_status": orig("status"),
        "orig_approved_by": orig("approved_by"),
        "orig_approved_on": pd.to_datetime(pd.Series(orig("approved_on"), dtype=object))
        .astype("datetime64[ns]"),
    })
    for name in ("matter_id", "orig_action", "orig_transfer_to", "orig_reason_code",
                 "orig_note", "orig_status", "orig_approved_by"):
        frame[name] = frame[name].astype(object)
    # approval rows carry no line values, line rows no approval
    sign_rows = frame["entry_kind"] == "approval"
    for name in ("action", "transfer_to", "reason_code", "note"):
        frame.loc[sign_rows, name] = None
    frame.loc[~sign_rows, ["approved_by"]] = None
    frame.loc[~sign_rows, "approved_on"] = pd.NaT
    return frame, problems
