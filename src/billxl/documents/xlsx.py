"""Invoices and statements as spreadsheets (XlsxWriter), laid out as the PDF is.

Text, labels and bank details come from the firm's ``documents.yaml``, column widths, paper and
colours from its ``xlsx`` section. Every text cell is written through
:class:`billxl.cells.XlsxText` (a narrative that starts with ``=`` stays text, with Excel's quote
prefix; characters that do not show are left out). Amounts are numbers; the totals are live formulas over
them (fees and expenses are ``SUM``s of their lines, the subtotal, tax, total and total due add
those up, statement aging buckets are ``SUMIFS`` over the open items), each with its computed
value cached, so a spreadsheet program shows and recalculates the same figures. The cells that
hold the totals carry workbook names (``Fees``, ``Expenses``, ``Subtotal``, ``Tax``, ``Total``,
``TotalDue``; ``Outstanding`` on a statement) for formulas elsewhere that refer to them.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from billxl import money
from billxl.atomic import atomic_path
from billxl.cells import XlsxText, header_text
from billxl.documents.formatting import Amount

_COLS = "ABCDEFGHIJ"


def _money_format(currency: str, symbol: str = "") -> str:
    digits = money.minor_digits(currency)
    body = "#,##0" + ("." + "0" * digits if digits else "")
    if symbol:
        quoted = '"' + symbol.replace('"', '""') + '"'
        return f"{quoted}{body};-{quoted}{body}"
    return f"{body};-{body}"


class _Sheet:
    """A worksheet with the house formats and typed writers (strings stay strings)."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, context: dict, currency: str,
                 symbol: str):
        self.book, self.ws = book, book.add_worksheet(name)
        self.texts = XlsxText(book)  # never a formula; quote prefix where editing would make one
        conf = context.get("xlsx") or {}
        accent, band = conf.get("accent", "#1F3864"), conf.get("band", "#D9E1F2")
        base = {"font_name": conf.get("font", "Arial"), "font_size": conf.get("font_size", 10),
                "valign": "top"}
        money_fmt, total_fmt = _money_format(currency), _money_format(currency, symbol)
        date_fmt = context.get("date_format_xlsx", "d mmm yyyy")
        add = book.add_format
        self.f = {
            "text": add(base),
            "wrap": add({**base, "text_wrap": True}),
            "muted": add({**base, "font_color": "#6B6B6B"}),
            "muted_small": add({**base, "font_color": "#6B6B6B", "font_size": 8, "text_wrap": True}),
            "bold": add({**base, "bold": True}),
            "right": add({**base, "align": "right"}),
            "right_bottom": add({**base, "align": "right", "valign": "bottom"}),
            "right_bold": add({**base, "align": "right", "bold": True}),
            "right_muted": add({**base, "align": "right", "font_color": "#6B6B6B"}),
            "firm": add({**base, "font_size": 18, "font_color": accent,
                         "font_name": conf.get("title_font", "Times New Roman")}),
            "tagline": add({**base, "font_size": 8, "font_color": "#6B6B6B"}),
            "title": add({**base, "font_size": 18, "bold": True, "font_color": accent,
                          "align": "right"}),
            "title_credit": add({**base, "font_size": 18, "bold": True, "font_color": "#9C1C1C",
                                 "align": "right"}),
            "caption": add({**base, "font_size": 8, "font_color": "#6B6B6B", "bold": True}),
            "section": add({**base, "font_size": 12, "bold": True, "font_color": accent,
                            "bottom": 1, "bottom_color": "#B7C3D9"}),
            "head": add({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": accent,
                         "text_wrap": True}),
            "head_num": add({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": accent,
                             "align": "right", "text_wrap": True}),
            "date": add({**base, "num_format": date_fmt, "align": "left"}),
            "date_right": add({**base, "num_format": date_fmt, "align": "right"}),
            "hours": add({**base, "num_format": "#,##0.00#"}),
            "qty": add({**base, "num_format": "#,##0.###"}),
            "int": add({**base, "num_format": "#,##0"}),
            "days": add({**base, "num_format": '#,##0;-#,##0;""', "align": "center"}),
            "wrap_indent": add({**base, "text_wrap": True, "indent": 1}),
            "money": add({**base, "num_format": money_fmt}),
            "money_bold": add({**base, "num_format": money_fmt, "bold": True}),
            "money_bold_left": add({**base, "num_format": total_fmt, "bold": True,
                                    "align": "left"}),
            "total_label": add({**base, "bold": True, "bg_color": band, "top": 1,
                                "top_color": accent}),
            "total_label_right": add({**base, "bold": True, "bg_color": band, "top": 1,
                                      "top_color": accent, "align": "right"}),
            "total_hours": add({**base, "bold": True, "bg_color": band, "top": 1,
                                "top_color": accent, "num_format": "#,##0.00#"}),
            "total_int": add({**base, "bold": True, "bg_color": band, "top": 1,
                              "top_color": accent, "num_format": "#,##0"}),
            "total_money": add({**base, "bold": True, "bg_color": band, "top": 1,
                                "top_color": accent, "num_format": money_fmt}),
            "sum_label": add({**base, "top": 1, "top_color": "#B7C3D9"}),
            "sum_money": add({**base, "top": 1, "top_color": "#B7C3D9", "num_format": money_fmt}),
            "grand_label": add({**base, "bold": True, "font_size": 12, "bg_color": band,
                                "top": 2, "bottom": 2, "top_color": accent,
                                "bottom_color": accent}),
            "grand_money": add({**base, "bold": True, "font_size": 12, "bg_color": band,
                                "top": 2, "bottom": 2, "top_color": accent,
                                "bottom_color": accent, "num_format": total_fmt}),
            "strong_money": add({**base, "bold": True, "top": 1, "top_color": accent,
                                 "num_format": total_fmt}),
            "strong_label": add({**base, "bold": True, "top": 1, "top_color": accent}),
            "box": add({**base, "bg_color": "#FAFBFD"}),
            "box_muted": add({**base, "bg_color": "#FAFBFD", "font_color": "#6B6B6B"}),
            "box_bold": add({**base, "bg_color": "#FAFBFD", "bold": True}),
        }
        self.ws.hide_gridlines(2)

    # -------------------------------------------------------------- typed writers
    def text(self, row: int, col: int, value, fmt: str = "text") -> None:
        self.texts.write(self.ws, row, col, "" if value is None else str(value), self.f[fmt])

    def merged_text(self, row: int, first: int, last: int, value, fmt: str = "text") -> None:
        self.ws.merge_range(row, first, row, last, "", self.f[fmt])
        self.texts.write(self.ws, row, first, "" if value is None else str(value), self.f[fmt])

    def blank(self, row: int, col: int, fmt: str = "text") -> None:
        self.ws.write_blank(row, col, None, self.f[fmt])

    def amount(self, row: int, col: int, value: Amount | None, fmt: str = "money") -> None:
        if value is None:
            self.blank(row, col, fmt)
        else:
            self.ws.write_number(row, col, float(value.value), self.f[fmt])

    def number(self, row: int, col: int, value, fmt: str) -> None:
        if value is None:
            self.blank(row, col, fmt)
        else:
            self.ws.write_number(row, col, float(value), self.f[fmt])

    def date(self, row: int, col: int, value: date | None, fmt: str = "date") -> None:
        if value is None:
            self.blank(row, col, fmt)
        else:
            self.ws.write_datetime(row, col, datetime(value.year, value.month, value.day),
                                   self.f[fmt])

    def formula(self, row: int, col: int, formula: str, value, fmt: str) -> None:
        self.ws.write_formula(row, col, formula, self.f[fmt], float(value))

    def name(self, name: str, row: int, col: int) -> None:
        sheet = self.ws.get_name().replace("'", "''")
        self.book.define_name(name, f"='{sheet}'!{xl_rowcol_to_cell(row, col, True, True)}")

    def height(self, row: int, text: str, width: int) -> None:
        """XlsxWriter cannot autofit; size a wrapped row for its text (about 13 pt a line)."""
        per_line = max(int(width * 1.2) - 2, 1)  # Arial's average letter is narrower than '0'
        lines = sum(1 + len(part) // per_line for part in str(text).split("\n"))
        if lines > 1:
            self.ws.set_row(row, 13 * min(lines, 40))


def _cell(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col)


def _range(first: int, last: int, col: int, absolute: bool = False) -> str:
    return (f"{xl_rowcol_to_cell(first, col, absolute, absolute)}:"
            f"{xl_rowcol_to_cell(last, col, absolute, absolute)}")


def _letterhead(s: _Sheet, context: dict, right_col: int) -> int:
    head = context["letterhead"]
    s.ws.set_row(0, 26)
    s.text(0, 0, head["name"], "firm")
    first_right = "right_bottom"
    if head["tagline"]:
        s.text(1, 0, head["tagline"].upper(), "tagline")
    lines = list(head["address"])
    if head["contact"]:
        lines.append("  ·  ".join(head["contact"]))
    if head["tax_id"]:
        lines.append(f"{head['tax_id_label']} {head['tax_id']}".strip())
    for i, line in enumerate(lines):  # right-aligned text runs left over the empty cells
        s.text(i, right_col, line, first_right if i == 0 else
               "right_muted" if i >= len(head["address"]) else "right")
    return max(len(lines), 2) + 1


def _print_setup(s: _Sheet, context: dict, reference: str, landscape: bool = False) -> None:
    conf = context.get("xlsx") or {}
    s.ws.set_paper(1 if str(conf.get("paper", "a4")).lower() == "letter" else 9)
    if landscape:
        s.ws.set_landscape()
    else:
        s.ws.set_portrait()
    s.ws.fit_to_pages(1, 0)
    s.ws.set_margins(left=0.6, right=0.6, top=0.7, bottom=0.8)
    firm = header_text(context["letterhead"]["name"])
    ref = header_text(reference)
    s.ws.set_footer(f"&L&8{firm}&R&8{ref}  ·  &P / &N")


def _remittance(s: _Sheet, row: int, context: dict, label_col: int, value_col: int,
                last_col: int, amount: Amount) -> int:
    labels, pay = context["labels"], context["payment"]
    s.merged_text(row, 0, last_col, labels["payment"], "section")
    row += 1
    if pay.get("terms"):
        s.merged_text(row, 0, last_col, pay["terms"], "wrap")
        s.height(row, pay["terms"], 110)
        row += 1
    row += 1
    s.text(row, 0, labels["remittance"].upper(), "caption")
    row += 1
    if pay.get("intro"):
        s.text(row, 0, pay["intro"])
        row += 1
    for label, value in pay["details"]:
        s.text(row, label_col, label, "muted")
        s.text(row, value_col, value)
        row += 1
    s.text(row, label_col, labels["reference"], "bold")
    s.text(row, value_col, pay["reference"], "bold")
    row += 1
    s.text(row, label_col, labels["amount_due"], "bold")
    s.amount(row, value_col, amount, "money_bold_left")
    return row + 2


# ===================================================================================== invoice
def _invoice_sheet(book: xlsxwriter.Workbook, c: dict) -> None:
    labels, inv, totals = c["labels"], c["invoice"], c["totals"]
    cur = inv["currency"]
    s = _Sheet(book, "Credit note" if c["is_credit_note"] else "Invoice", c, cur,
               c["invoice"]["currency_symbol"])
    widths = {"date": 11, "timekeeper": 18, "narrative": 46, "hours": 7, "rate": 10,
              "amount": 13, **((c.get("xlsx") or {}).get("invoice_columns") or {})}
    order = ["date", "timekeeper", "narrative", "hours", "rate", "amount"]
    for col, key in enumerate(order):
        s.ws.set_column(col, col, widths[key])
    adj = c["show_line_adjustments"]
    if adj:
        s.ws.set_column(6, 6, widths["rate"])
    A, B, C, D, E, F = range(6)
    last = 6 if adj else F

    row = _letterhead(s, c, F)
    # ---- title, bill-to (A:B) and reference block (labels C, values D:F)
    s.ws.set_row(row, 28)
    s.merged_text(row, D, F, c["title"], "title_credit" if c["is_credit_note"] else "title")
    row += 1
    left = [(labels["bill_to"].upper(), "caption"), (c["client"]["name"], "bold")]
    if c["client"]["contact"]:
        left.append((f"{labels['attention']} {c['client']['contact']}", "text"))
    left += [(line, "text") for line in c["client"]["address"]]
    if c["client"]["tax_id"]:
        left.append((f"{labels['client_tax_id']} {c['client']['tax_id']}", "muted"))
    right: list[tuple[str, object, str]] = [(inv["number_label"], inv["number"], "right_bold"),
                                            (labels["invoice_date"], inv["date"], "date")]
    if c["is_credit_note"]:
        right.append((labels["credits_invoice"], inv["credits_invoice_number"], "right_bold"))
    else:
        right.append((labels["due_date"], inv["due_date"], "date"))
    right += [(labels["client_number"], c["client"]["id"], "right"),
              (labels["matter_number"], c["matter"]["id"], "right")]
    if c["matter"]["client_matter_id"]:
        right.append((labels["your_reference"], c["matter"]["client_matter_id"], "right"))
    if inv["period_text"]:
        right.append((labels["period"], inv["period_text"], "right"))
    right.append((labels["currency"], cur, "right"))
    for i in range(max(len(left), len(right))):
        if i < len(left):
            s.merged_text(row + i, A, B, left[i][0], left[i][1])
        if i < len(right):
            label, value, fmt = right[i]
            s.text(row + i, C, label, "right_muted")
            if fmt == "date":
                s.ws.merge_range(row + i, D, row + i, F, "", s.f["date_right"])
                s.date(row + i, D, value, "date_right")
            else:
                s.merged_text(row + i, D, F, value, fmt)
    row += max(len(left), len(right)) + 1

    regarding = f"{labels['regarding']} {c['matter']['name'] or inv['description']}"
    s.merged_text(row, A, F, regarding, "bold")
    row += 1
    if c["is_credit_note"] and c["texts"]["credit_note"]:
        s.merged_text(row, A, F, c["texts"]["credit_note"], "wrap")
        s.height(row, c["texts"]["credit_note"], 110)
        row += 1
    s.merged_text(row, A, F, c["texts"]["services"], "wrap")
    s.height(row, c["texts"]["services"], 110)
    row += 2

    fees, expenses = c["fees"], c["expenses"]

    # ---- summary of totals
    s.merged_text(row, A, F, labels["summary"], "section")
    row += 1
    # Fees and expenses refer to the detail tables' totals, written further down: their
    # cells are filled in once those rows are known.
    s.merged_text(row, C, E, labels["fees"])
    s.amount(row, F, totals["fees"])
    s.name("Fees", row, F)
    fees_row = row
    row += 1
    s.merged_text(row, C, E, labels["expenses"])
    s.amount(row, F, totals["expenses"])
    s.name("Expenses", row, F)
    exp_row = row
    row += 1
    disc_first = row
    for d in c["discounts"]:
        s.merged_text(row, C, E, d["label"])
        s.amount(row, F, d["amount"])
        row += 1
    disc_last = row - 1
    subtotal_formula = f"={_cell(fees_row, F)}+{_cell(exp_row, F)}"
    if c["discounts"]:
        subtotal_formula += f"+SUM({_range(disc_first, disc_last, F)})"
    subtotal_row = None
    if c["discounts"] or c["taxes"]:
        s.merged_text(row, C, E, labels["subtotal"], "sum_label")
        s.formula(row, F, subtotal_formula, totals["subtotal"].value, "sum_money")
        subtotal_row = row
        row += 1
    tax_first = row
    for t in c["taxes"]:
        s.merged_text(row, C, E, f"{t['label']} {labels['tax_on']} {t['base'].plain}")
        s.amount(row, F, t["amount"])
        row += 1
    tax_last = row - 1
    base_ref = _cell(subtotal_row, F) if subtotal_row is not None else subtotal_formula[1:]
    total_formula = f"={base_ref}"
    if c["taxes"]:
        total_formula += f"+SUM({_range(tax_first, tax_last, F)})"
        if len(c["taxes"]) == 1:
            s.name("Tax", tax_first, F)
    if subtotal_row is not None:
        s.name("Subtotal", subtotal_row, F)
    total_label = labels["total_credit_note"] if c["is_credit_note"] else labels["total"]
    s.merged_text(row, C, E, total_label, "strong_label")
    s.formula(row, F, total_formula, totals["total"].value, "strong_money")
    s.name("Total", row, F)
    total_row = row
    row += 1
    due_formula = f"={_cell(total_row, F)}"
    if not totals["balance_brought_forward"].is_zero:
        s.merged_text(row, C, E, labels["balance_brought_forward"])
        s.amount(row, F, totals["balance_brought_forward"])
        due_formula += f"+{_cell(row, F)}"
        row += 1
    due_label = (labels["total_credited"] if c["is_credit_note"]
                 and totals["total_due"].is_negative else labels["total_due"])
    s.ws.set_row(row, 20)
    s.merged_text(row, C, E, due_label, "grand_label")
    s.formula(row, F, due_formula, totals["total_due"].value, "grand_money")
    s.name("TotalDue", row, F)
    row += 2

    if c["payment"]["due"]:
        row = _remittance(s, row, c, A, C, F, totals["total_due"])
    s.ws.set_h_pagebreaks([row])

    # ---- fee detail
    if fees:
        s.merged_text(row, A, last, labels["fee_detail"], "section")
        row += 1
        fee_first, fee_last = row + 1, row + len(fees)
        heads = [(labels["date"], "head"), (labels["timekeeper"], "head"),
                 (labels["narrative"], "head"), (labels["hours"], "head_num"),
                 (labels["rate"], "head_num"), (f"{labels['amount']} ({cur})", "head_num")]
        if adj:
            heads.append((labels["adjustment"], "head_num"))
        for col, (text, fmt) in enumerate(heads):
            s.text(row, col, text, fmt)
        s.ws.repeat_rows(row)
        for f in fees:
            row += 1
            s.date(row, A, f["date"])
            s.text(row, B, f["timekeeper"], "wrap")
            s.text(row, C, f["narrative"], "wrap")
            s.height(row, f["narrative"], widths["narrative"])
            s.number(row, D, f["hours"], "hours")
            s.amount(row, E, f["rate"])
            s.amount(row, F, f["amount"])
            if adj:
                s.amount(row, 6, None if f["adjustment"].is_zero else f["adjustment"])
        row += 1
        s.formula(fees_row, F, f"={_cell(row, F)}", totals["fees"].value, "money")
        s.merged_text(row, A, C, labels["total_fees"], "total_label_right")
        s.formula(row, D, f"=SUM({_range(fee_first, fee_last, D)})",
                  c["timekeepers_total"]["hours"] or 0, "total_hours")
        s.blank(row, E, "total_label")
        s.formula(row, F, f"=SUM({_range(fee_first, fee_last, F)})", totals["fees"].value,
                  "total_money")
        if adj:
            s.blank(row, 6, "total_label")
        row += 2

    # ---- timekeeper summary
    if c["timekeepers"]:
        s.merged_text(row, A, F, labels["timekeeper_summary"], "section")
        row += 1
        s.merged_text(row, A, B, labels["timekeeper"], "head")
        for col, text in ((C, labels["classification"]), (D, labels["hours"]),
                          (E, labels["rate"]), (F, f"{labels['amount']} ({cur})")):
            s.text(row, col, text, "head" if col == C else "head_num")
        first = row + 1
        for k in c["timekeepers"]:
            row += 1
            s.merged_text(row, A, B, k["name"])
            s.text(row, C, k["class_label"])
            s.number(row, D, k["hours"], "hours")
            s.amount(row, E, k["rate"])
            s.amount(row, F, k["amount"])
        row += 1
        s.merged_text(row, A, C, labels["total_time"], "total_label_right")
        s.formula(row, D, f"=SUM({_range(first, row - 1, D)})",
                  c["timekeepers_total"]["hours"] or 0, "total_hours")
        s.blank(row, E, "total_label")
        s.formula(row, F, f"=SUM({_range(first, row - 1, F)})",
                  c["timekeepers_total"]["amount"].value, "total_money")
        row += 2

    # ---- expenses, and expenses by code
    if expenses:
        s.merged_text(row, A, F, labels["expense_detail"], "section")
        row += 1
        exp_first, exp_last = row + 1, row + len(expenses)
        for col, (text, fmt) in enumerate([
                (labels["date"], "head"), (labels["code"], "head"), (labels["narrative"], "head"),
                (labels["quantity"], "head_num"), (labels["unit_cost"], "head_num"),
                (f"{labels['amount']} ({cur})", "head_num")]):
            s.text(row, col, text, fmt)
        for e in expenses:
            row += 1
            s.date(row, A, e["date"])
            s.text(row, B, e["code"])
            s.text(row, C, e["narrative"], "wrap")
            s.height(row, e["narrative"], widths["narrative"])
            s.number(row, D, e["quantity"], "qty")
            s.amount(row, E, e["unit"])
            s.amount(row, F, e["amount"])
        row += 1
        s.formula(exp_row, F, f"={_cell(row, F)}", totals["expenses"].value, "money")
        s.merged_text(row, A, E, labels["total_expenses"], "total_label_right")
        s.formula(row, F, f"=SUM({_range(exp_first, exp_last, F)})", totals["expenses"].value,
                  "total_money")
        row += 2

        s.merged_text(row, A, F, labels["expenses_by_code"], "section")
        row += 1
        for col, (text, fmt) in enumerate([(labels["code"], "head"), (labels["category"], "head"),
                                           ("", "head"), (labels["count"], "head_num"),
                                           ("", "head"), (f"{labels['amount']} ({cur})",
                                                          "head_num")]):
            s.text(row, col, text, fmt)
        codes, amounts = _range(exp_first, exp_last, B, True), _range(exp_first, exp_last, F, True)
        first = row + 1
        for g in c["expenses_by_code"]:
            row += 1
            s.text(row, A, g["code"])
            s.text(row, B, g["name"])
            s.formula(row, D, f"=COUNTIF({codes},{_cell(row, A)})", g["count"], "int")
            s.formula(row, F, f"=SUMIF({codes},{_cell(row, A)},{amounts})", g["amount"].value,
                      "money")
        row += 1
        s.merged_text(row, A, C, labels["total_expenses"], "total_label_right")
        s.formula(row, D, f"=SUM({_range(first, row - 1, D)})", len(expenses), "total_int")
        s.blank(row, E, "total_label")
        s.formula(row, F, f"=SUM({_range(first, row - 1, F)})", totals["expenses"].value,
                  "total_money")

    s.ws.print_area(0, 0, row, last)
    _print_setup(s, c, f"{inv['number_label']} {inv['number']}")
    s.ws.activate()


def render_invoice_xlsx(context: dict, path: str | os.PathLike) -> Path:
    """Write the invoice (or credit note) of :func:`invoice_context` as XLSX, atomically."""
    with atomic_path(path) as tmp:
        book = _workbook(tmp, context)
        _invoice_sheet(book, context)
        book.close()
    return Path(path)


# =================================================================================== statement
def _statement_sheet(book: xlsxwriter.Workbook, c: dict) -> None:
    labels, totals, cur = c["labels"], c["totals"], c["currency"]
    s = _Sheet(book, "Statement", c, cur, c["currency_symbol"])
    widths = {"invoice": 14, "date": 12, "due_date": 12, "days_overdue": 13, "matter": 34,
              "original": 13, "paid": 13, "credited": 13, "balance": 14,
              **((c.get("xlsx") or {}).get("statement_columns") or {})}
    keys = ["invoice", "date", "due_date", "days_overdue", "matter", "original", "paid",
            "credited", "balance"]
    for col, key in enumerate(keys):
        s.ws.set_column(col, col, widths[key])
    NUM, DATE, DUE, DAYS, MATTER, ORIG, PAID, CRED, BAL = range(9)
    row = _letterhead(s, c, BAL)

    s.ws.set_row(row, 28)
    s.merged_text(row, MATTER, BAL, c["title"], "title")
    row += 1
    client = c["client"]
    left = [(client["name"], "bold")]
    if client["contact"]:
        left.append((f"{labels['attention']} {client['contact']}", "text"))
    left += [(line, "text") for line in client["address"]]
    right = [(labels["statement_date"], c["as_of"], "date"),
             (labels["client_number"], client["id"], "right"),
             (labels["account_currency"], cur, "right")]
    for i in range(max(len(left), len(right))):
        if i < len(left):
            s.merged_text(row + i, NUM, MATTER - 1, left[i][0], left[i][1])
        if i < len(right):
            label, value, fmt = right[i]
            s.merged_text(row + i, MATTER, PAID, label, "right_muted")
            if fmt == "date":
                s.ws.merge_range(row + i, CRED, row + i, BAL, "", s.f["date_right"])
                s.date(row + i, CRED, value, "date_right")
            else:
                s.merged_text(row + i, CRED, BAL, value, fmt)
    row += max(len(left), len(right)) + 1
    s.merged_text(row, NUM, BAL, c["texts"]["intro"], "wrap")
    s.height(row, c["texts"]["intro"], 120)
    row += 2

    s.merged_text(row, NUM, BAL, labels["open_items"], "section")
    row += 1
    heads = [labels["invoice_no_short"], labels["invoice_date"], labels["due_date"],
             labels["days_overdue"], labels["matter"], labels["original"], labels["paid"],
             labels["credited"], f"{labels['balance']} ({cur})"]
    for col, text in enumerate(heads):
        s.text(row, col, text, "head" if col in (NUM, DATE, DUE, MATTER) else "head_num")
    s.ws.set_row(row, 28)
    s.ws.repeat_rows(row)
    first = row + 1
    for item in c["items"]:
        row += 1
        s.text(row, NUM, item["number"])
        s.date(row, DATE, item["invoice_date"])
        s.date(row, DUE, item["due_date"])
        s.number(row, DAYS, max(item["days_overdue"], 0), "days")
        s.text(row, MATTER, item["matter"], "wrap_indent")
        s.height(row, item["matter"], widths["matter"])
        s.amount(row, ORIG, item["original"])
        s.amount(row, PAID, item["paid"])
        s.amount(row, CRED, item["credited"])
        s.formula(row, BAL, f"={_cell(row, ORIG)}-{_cell(row, PAID)}-{_cell(row, CRED)}",
                  item["balance"].value, "money")
    last = max(row, first - 1)
    row = last + 1
    s.merged_text(row, NUM, MATTER, labels["total_open"], "total_label_right")
    for col, key in ((ORIG, "original"), (PAID, "paid"), (CRED, "credited"), (BAL, "balance")):
        if c["items"]:
            s.formula(row, col, f"=SUM({_range(first, last, col)})", totals[key].value,
                      "total_money")
        else:
            s.amount(row, col, totals[key], "total_money")
    s.name("Outstanding", row, BAL)
    outstanding = row
    if c.get("has_credit"):
        row += 1
        s.merged_text(row, NUM, MATTER, labels.get("credit_on_account", "Credit on account"),
                      "total_label_right")
        s.amount(row, BAL, totals["on_account"], "money")
        row += 1
        s.merged_text(row, NUM, MATTER, labels.get("net_due", "Net amount due"),
                      "total_label_right")
        s.formula(row, BAL, f"={_cell(outstanding, BAL)}-{_cell(row - 1, BAL)}",
                  totals["net_due"].value, "total_money")
    s.name("NetDue", row, BAL)
    row += 2

    s.merged_text(row, NUM, BAL, labels["aging"], "section")
    row += 1
    days, bal = _range(first, last, DAYS, True), _range(first, last, BAL, True)
    bounds = {"current": ("<=0", None), "1_30": (">=1", "<=30"), "31_60": (">=31", "<=60"),
              "61_90": (">=61", "<=90"), "91_120": (">=91", "<=120"), "over_120": (">120", None)}
    aging_first = row
    for bucket in c["aging"]:
        s.merged_text(row, NUM, DATE, bucket["label"])
        lo, hi = bounds[bucket["key"]]
        if c["items"]:
            crit = f'{days},"{lo}"' + (f',{days},"{hi}"' if hi else "")
            s.formula(row, DUE, f"=SUMIFS({bal},{crit})", bucket["amount"].value, "money")
        else:
            s.amount(row, DUE, bucket["amount"])
        row += 1
    s.merged_text(row, NUM, DATE, labels["total_open"], "total_label")
    s.formula(row, DUE, f"=SUM({_range(aging_first, row - 1, DUE)})", totals["balance"].value,
              "total_money")
    s.name("AgingTotal", row, DUE)
    row += 2

    if c["payment"]["due"]:
        row = _remittance(s, row, c, NUM, DUE, BAL, totals["net_due"])
    if c["texts"]["footer"]:
        s.merged_text(row, NUM, BAL, c["texts"]["footer"], "muted")
    s.ws.print_area(0, 0, row, BAL)
    _print_setup(s, c, f"{labels['statement_short']} {client['id']}", landscape=True)
    s.ws.activate()


def render_statement_xlsx(context: dict, path: str | os.PathLike) -> Path:
    """Write the statement of account of :func:`statement_context` as XLSX, atomically."""
    with atomic_path(path) as tmp:
        book = _workbook(tmp, context)
        _statement_sheet(book, context)
        book.close()
    return Path(path)


def _workbook(path: Path, context: dict) -> xlsxwriter.Workbook:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_numbers": False,
                                           "strings_to_urls": False})
    book.set_properties({"title": context.get("title", ""),
                         "company": context["letterhead"]["name"]})
    return book
