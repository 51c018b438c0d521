"""The AR aging as a file: CSV (decimal strings) or a formatted XLSX workbook.

The aging itself is :mod:`billxl.figures.aging` (``billxl.ar.aging`` reads and computes it);
this module only writes it. Amounts never add across currencies: one total row per currency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from billxl import money
from billxl.atomic import atomic_path, atomic_write_csv
from billxl.errors import BillxlError
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
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                              "strings_to_numbers": False,
                                              "strings_to_urls": False})
        ws = book.add_worksheet("Aging")
        bold = book.add_format({"bold": True, "font_size": 12})
        head = book.add_format({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF",
                                "border": 1, "text_wrap": True, "valign": "top"})
        head_right = book.add_format({"bold": True, "bg_color": "#1F3864",
                                      "font_color": "#FFFFFF", "border": 1, "align": "right"})
        text = book.add_format({"border": 1})
        formats: dict[int, Any] = {}
        ws.write_string(0, 0, title or "Accounts receivable aging", bold)
        columns = [*keys, *money_cols]
        for j, col in enumerate(columns):
            label = BUCKET_LABELS.get(col, col.replace("_", " ").title())
            ws.write_string(2, j, label, head_right if col in money_cols else head)
        for i, rec in enumerate(table.to_dict("records"), start=3):
            digits = money.minor_digits(rec["currency"])
            if digits not in formats:
                formats[digits] = book.add_format({"num_format": "#,##0" + (
                    "." + "0" * digits if digits else ""), "border": 1})
            for j, col in enumerate(columns):
                value = rec[col]
                if col in money_cols:  # Excel holds numbers as doubles: exact to the cent here
                    ws.write_number(i, j, float(money.from_minor(int(value), rec["currency"])),
                                    formats[digits])
                else:
                    ws.write_string(i, j, "" if value is None or value != value else str(value),
                                    text)
        # a total per currency under the groups (amounts never add across currencies)
        strong = book.add_format({"bold": True, "top": 2, "border": 1})
        last = 3 + len(table)
        for n, (cur, part) in enumerate(table.groupby("currency", sort=True)):
            row = last + n
            digits = money.minor_digits(cur)
            total_fmt = book.add_format({"bold": True, "top": 2, "border": 1, "num_format": "#,##0"
                                         + ("." + "0" * digits if digits else "")})
            ws.write_string(row, 0, f"Total {cur}", strong)
            for j in range(1, len(keys)):
                ws.write_string(row, j, cur if keys[j] == "currency" else "", strong)
            for j, col in enumerate(money_cols, start=len(keys)):
                ws.write_number(row, j, float(money.from_minor(int(part[col].sum()), cur)),
                                total_fmt)
        # wide enough for the longest name or id shown (client names were cut off)
        widths = [max(len(str(c)), 10, *(table[c].astype(str).str.len().tolist()
                                         if c in keys and len(table) else []))
                  for c in columns]
        for j, width in enumerate(widths):
            ws.set_column(j, j, min(width + 4, 40))
        ws.freeze_panes(3, len(keys))
        ws.set_landscape()  # printed: one page wide, the header on every page
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
        book.close()
    return path


__all__ = ["write_aging"]
