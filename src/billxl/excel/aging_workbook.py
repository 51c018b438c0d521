"""The AR aging as a file: CSV (decimal strings) or a formatted XLSX workbook.

The aging itself is :mod:`billxl.figures.aging` (``billxl.ar.aging`` reads and computes it);
this module only writes it. Amounts never add across currencies: one total row per currency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from billxl import cells, money
from billxl.atomic import atomic_path, atomic_write_csv
from billxl.errors import BillxlError
from billxl.excel import fitting
from billxl.figures.aging import BUCKET_LABELS, BUCKETS


def write_aging(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """The aging as CSV (decimal strings) or XLSX (numbers with the currency's decimals)."""
    path = Path(path)
    money_cols = [*BUCKETS, "total", "credits", "net"]
    keys = [c for c in table.columns if c not in money_cols]
    if path.suffix.lower() == ".csv":
        view = table.copy()
        for col in money_cols:
            view[col] = [money.format_amount(int(v), c) for v, c in
                         zip(view[col], view["currency"], strict=True)]
        return atomic_write_csv(view.rename(columns=BUCKET_LABELS), path)
    if path.suffix.lower() != ".xlsx":
        raise BillxlError(f"Write the aging as .xlsx or .csv, not {path.suffix or 'no suffix'}.")
    with atomic_path(path) as tmp:
        _write_xlsx(table, tmp, title or "Accounts receivable aging", keys, money_cols)
    return path


def _write_xlsx(table: pd.DataFrame, path: Path, title: str, keys: list[str],
                money_cols: list[str]) -> None:
    """One sheet: the groups, then a total per currency; columns as wide as what they show
    (a name too long for its column wraps), printed landscape with the header on every page."""
    book = fitting.new_workbook(path)
    ws = book.add_worksheet("Aging")
    texts = cells.XlsxText(book)  # names: visible, never a formula, quoted if need be
    heading = book.add_format({"bold": True, "font_size": 12})
    head = book.add_format({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF",
                            "border": 1, "text_wrap": True, "valign": "top"})
    head_right = book.add_format({"bold": True, "bg_color": "#1F3864",
                                  "font_color": "#FFFFFF", "border": 1, "align": "right",
                                  "valign": "top", "text_wrap": True})
    text = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    strong = book.add_format({"bold": True, "top": 2, "border": 1, "valign": "top"})
    formats: dict[tuple[int, bool], Any] = {}

    def amount_format(digits: int, total: bool = False):
        if (digits, total) not in formats:
            spec = {"border": 1, "valign": "top",
                    "num_format": "#,##0" + ("." + "0" * digits if digits else "")}
            formats[digits, total] = book.add_format({**spec, "bold": True, "top": 2} if total
                                                     else spec)
        return formats[digits, total]

    columns = [*keys, *money_cols]
    labels = [BUCKET_LABELS.get(col, col.replace("_", " ").title()) for col in columns]
    records = table.to_dict("records")
    totals = {cur: part[money_cols].sum() for cur, part in table.groupby("currency", sort=True)}
    shown = {col: [_text(rec[col]) for rec in records] for col in keys}
    in_bold = {col: [*totals] if col == "currency" else [] for col in keys}  # the total rows
    if keys:
        in_bold[keys[0]] = [f"Total {cur}" for cur in totals]
    for col in money_cols:
        shown[col] = [f"{money.from_minor(int(rec[col]), rec['currency']):,}" for rec in records]
        in_bold[col] = [f"{money.from_minor(int(t[col]), cur):,}" for cur, t in totals.items()]
    widths = [fitting.column_width(shown[col], label, bold=in_bold[col], minimum=6,
                                   maximum=20 if col in money_cols else 40)
              for col, label in zip(columns, labels, strict=True)]
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)

    ws.write_string(0, 0, title, heading)
    for j, (col, label) in enumerate(zip(columns, labels, strict=True)):
        ws.write_string(2, j, label, head_right if col in money_cols else head)
    key_widths = widths[:len(keys)]
    for i, rec in enumerate(records, start=3):
        digits = money.minor_digits(rec["currency"])
        for j, col in enumerate(keys):
            texts.write(ws, i, j, _text(rec[col]), text)
        for j, col in enumerate(money_cols, start=len(keys)):
            # Excel holds numbers as doubles: exact to the cent here
            ws.write_number(i, j, float(money.from_minor(int(rec[col]), rec["currency"])),
                            amount_format(digits))
        lines = max((fitting.lines(_text(rec[c]), w) for c, w in zip(keys, key_widths,
                                                                     strict=True)), default=1)
        if lines > 1:
            ws.set_row(i, fitting.row_height(lines))
    # a total per currency under the groups (amounts never add across currencies)
    for row, (cur, total) in enumerate(totals.items(), start=3 + len(records)):
        digits = money.minor_digits(cur)
        ws.write_string(row, 0, f"Total {cur}", strong)
        for j in range(1, len(keys)):
            ws.write_string(row, j, cur if keys[j] == "currency" else "", strong)
        for j, col in enumerate(money_cols, start=len(keys)):
            ws.write_number(row, j, float(money.from_minor(int(total[col]), cur)),
                            amount_format(digits, total=True))
    ws.freeze_panes(3, len(keys))
    fitting.print_setup(ws, widths, header_row=2, header=title)
    book.close()


def _text(value) -> str:
    return "" if value is None or value != value else str(value)


__all__ = ["write_aging"]
