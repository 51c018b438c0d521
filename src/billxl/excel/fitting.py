"""Fitting text into columns and columns onto a printed page, for sheets XlsxWriter writes.

XlsxWriter's own ``autofit`` measures Calibri 11 and neither wraps nor sizes rows; these sheets
use Arial, whose metrics LibreOffice has everywhere (Liberation Sans), wrap long text in a
column of bounded width, and size each row for its wrapped lines.

Widths are in Excel's unit, the digit width of the workbook's default font: a column ``w``
wide is ``7 w + 5`` pixels at 96 dpi. Text is measured in Arial from its character widths. A
workbook from :func:`new_workbook` has Arial 10 as its default font, so its unit is an Arial
digit, in Excel and in LibreOffice alike (Liberation Sans has Arial's metrics; a default
Calibri becomes another, wider font where Calibri is not installed, and LibreOffice then sizes
every column by that font's digits). Sheets sized here write their cells in :data:`FONT`.

Printed, a sheet fits one page wide only when its text stays readable (:data:`MIN_PRINTED_PT`);
wider, it prints at that size across pages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import xlsxwriter

FONT = "Arial"

_PX_PER_UNIT = 7  # pixels a unit of column width, at 96 dpi
_COLUMN_PAD_PX = 5
_GAP_PX = 9  # the cell's inner padding both sides and a visible gap to the next column
_BOLD = 1.08  # Arial Bold runs about this much wider than Arial
MAX_ROW_PT = 409  # the tallest row Excel has

# Arial's advance widths in thousandths of an em: the published metrics of Helvetica (Adobe's
# core-14 AFM, which Arial and Liberation Sans match width for width); a character not listed
# counts as a digit's width.
_ARIAL = {width: chars for width, chars in (
    (191, "'"), (222, "ijl"), (260, "|"), (278, " !,./:;I[\\]ft"), (333, "()-`r\u2013"),
    (334, "{}"), (350, "\u2022"), (355, '"'), (389, "*"), (469, "^"), (500, "Jcksvxyz"),
    (584, "+<=>~"), (611, "FTZ"), (667, "&ABEKPSVXY"), (722, "CDHNRUw"), (778, "GOQ"),
    (833, "Mm"), (889, "%"), (944, "W"), (1000, "\u2014\u2026"), (1015, "@"),
)}
_EM = {ch: width / 1000 for width, chars in _ARIAL.items() for ch in chars}
_DIGIT_EM = 0.556

#: Paper the printed scale is worked out for: Letter landscape, narrower than A4 landscape, so a
#: sheet that fits a Letter page fits A4 too (the printer's own paper is used).
PAGE_WIDTH_IN = 11.0
SIDE_MARGIN_IN = 0.3
MIN_PRINTED_PT = 7.5


@lru_cache(maxsize=65536)
def _word_em(word: str) -> float:
    return sum(_EM.get(ch, _DIGIT_EM) for ch in word)


def text_px(text: str, size: float = 10, *, bold: bool = False) -> float:
    """Pixels (96 dpi) the longest line of ``text`` takes in Arial of ``size`` points."""
    px_per_em = size * 96 / 72 * (_BOLD if bold else 1)
    space = _EM[" "]
    return max((sum(_word_em(w) for w in line.split(" ")) + space * line.count(" "))
               for line in str(text).split("\n")) * px_per_em


def units_for(px: float) -> float:
    """The column width (Excel units, to a tenth) that shows ``px`` of text with a gap."""
    return math.ceil((px + _GAP_PX - _COLUMN_PAD_PX) / _PX_PER_UNIT * 10) / 10


def column_width(texts: Iterable[object], header: str = "", *, bold: Iterable[object] = (),
                 size: float = 10, minimum: float = 4, maximum: float = 60) -> float:
    """A column's width: its longest text, and its header and ``bold`` texts in bold, shown
    whole, within limits.

    A text longer than ``maximum`` must wrap (give the column a wrapping format) and its row
    the height :func:`lines` says."""
    plain = {t for t in texts if isinstance(t, str) and t}
    strong = {t for t in (header, *bold) if isinstance(t, str) and t}
    longest = max([*(text_px(t, size) for t in plain),
                   *(text_px(t, size, bold=True) for t in strong)], default=0.0)
    return min(max(units_for(longest), minimum), maximum)


def lines(text: object, width: float, size: float = 10) -> int:
    """Lines a wrapped cell ``width`` units wide needs for ``text`` (words kept whole where they
    fit a line, as Excel and LibreOffice wrap)."""
    if not isinstance(text, str) or not text:
        return 1
    room = _PX_PER_UNIT * width + _COLUMN_PAD_PX - _GAP_PX
    px_per_em = size * 96 / 72
    space = _EM[" "] * px_per_em
    count = 0
    for paragraph in text.split("\n"):
        count += 1
        used = 0.0
        for word in paragraph.split(" "):
            px = _word_em(word) * px_per_em
            if used and used + space + px > room:
                count += 1
                used = 0.0
            elif used:
                used += space
            if px > room:  # a word longer than the line breaks where the line ends
                count += int(px // room)
                px %= room
            used += px
    return count


def row_height(line_count: int, size: float = 10) -> float:
    """Points a row of ``line_count`` lines of Arial ``size`` needs: whole pixels a line (15 for
    10 points, Arial's ascent and descent) and two of padding, as Excel's 12.75 for one line."""
    line_px = math.ceil(size * 96 / 72 * 1.12)
    return min((line_count * line_px + 2) * 0.75, MAX_ROW_PT)


def printed_scale(widths: Sequence[float], *, page_width_in: float = PAGE_WIDTH_IN,
                  margin_in: float = SIDE_MARGIN_IN) -> float:
    """The scale that prints ``widths`` one page wide (1.0 when they fit at full size)."""
    room = (page_width_in - 2 * margin_in) * 96
    used = sum(_PX_PER_UNIT * w + _COLUMN_PAD_PX for w in widths)
    return min(1.0, room / used) if used else 1.0


def print_setup(sheet, widths: Sequence[float], *, size: float = 10,
                header_row: int | None = None, header: str = "", footer: str = "") -> float:
    """Landscape, header row repeated, ``header`` and the sheet's name above each page and the
    page number below, and one page wide if the text stays at least :data:`MIN_PRINTED_PT`
    (else printed at that size across pages). The scale used."""
    sheet.set_landscape()
    sheet.set_margins(left=SIDE_MARGIN_IN, right=SIDE_MARGIN_IN, top=0.6, bottom=0.6)
    scale = printed_scale(widths)
    if scale * size >= MIN_PRINTED_PT:
        sheet.fit_to_pages(1, 0)
    else:
        scale = MIN_PRINTED_PT / size
        sheet.set_print_scale(math.ceil(scale * 100))
    if header_row is not None:
        sheet.repeat_rows(header_row)
    sheet.set_header(f"&L&8{escape(header)}&C&8&A&R&8billxl")  # &A: the sheet's name
    sheet.set_footer(f"&L&8{escape(footer)}&R&8Page &P of &N")
    return scale


def new_workbook(path: str | Path) -> xlsxwriter.Workbook:
    """A workbook whose default font is :data:`FONT` 10 and whose text is never read as a
    formula, a number or a link."""
    return xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        "default_format_properties": {"font_name": FONT, "font_size": 10}})


def escape(text: str) -> str:
    """Text for a print header or footer (see :func:`billxl.cells.header_text`)."""
    from billxl.cells import header_text

    return header_text(text)


__all__ = ["FONT", "MAX_ROW_PT", "MIN_PRINTED_PT", "PAGE_WIDTH_IN", "SIDE_MARGIN_IN",
           "column_width", "escape", "lines", "new_workbook", "print_setup", "printed_scale",
           "row_height", "text_px", "units_for"]
