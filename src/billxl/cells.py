"""Parsing spreadsheet cells: the one module that turns what a CSV or workbook cell holds into
exact values, used by intake, receipts and the workbooks read back (the pre-bill).

Cells arrive as a NumPy object array per column: text for CSV files, typed values (str, float,
int, bool, date, datetime, None) for workbook cells. Every function here is vectorised over the
column and works on its distinct values where that pays (:func:`by_uniques`).

* Text: :func:`cell_text` (a cell as the user reads it), :func:`cell_texts`,
  :func:`stripped_text`, :func:`strip_all`, :func:`blanks`, :func:`blank_cells`, and
  :func:`norm` / :func:`norm_all` (case and repeated blanks ignored, for look-ups).
* Numbers: :func:`scaled_numbers` gives exact integers in units of ``10**-digits`` (thousandths
  of an hour, minor units of money) and a status per cell, one of :data:`OK`, :data:`BLANK`,
  :data:`NOT_NUMBER`, :data:`TOO_PRECISE`, :data:`TOO_LARGE`. Workbook doubles count only when
  they sit on that grid (:func:`scaled_floats`); text is parsed digit by digit
  (:func:`scaled_text`, with a decimal comma or another thousands separator if asked).
  No float touches an amount after that. :func:`scaled_durations` reads ``h:mm(:ss)`` hours.
* Dates: :func:`parse_dates` (date cells, text in the given formats, Excel serials), with
  :data:`FAR_DATE` and :func:`format_words` for the problems it leads to.
* Messages: :func:`too_precise_money`.
* Writing text (every CSV and XLSX writer, and the readers that undo it), see below:
  :func:`formula_like`, :func:`csv_text` / :func:`csv_frame` and their inverse
  :func:`from_csv_text` / :func:`from_csv_cells`, :func:`quote_prefixed`, :class:`XlsxText`
  and :func:`openpyxl_text`; the characters nobody sees, :data:`HIDDEN`,
  :func:`visible_text`, :func:`visible_cells` and :func:`describe_characters`.

**Text that a spreadsheet would evaluate.** A cell whose text starts with ``=``, ``+``, ``-``,
``@``, a tab, a carriage return or a line feed (OWASP's list, "CSV Injection") or a NUL (ASVS
5.0, 1.2.10) is read by Excel, LibreOffice or Google Sheets as a formula. billxl also counts
such a character after leading blanks (``"  =1+2"``): OWASP does not say, and Google Sheets
trims blanks before it decides, so the cautious reading costs only a quote. Where billxl
writes text:

* **CSV**: such a cell gets a leading ``'`` (OWASP's remedy; Excel shows the quote, the cell is
  text), and every text cell is written between double quotes, so that a ``;`` or ``,``
  inside it cannot start a cell in a spreadsheet that splits on another separator. Text that
  is a plain number (``-12.50``, ``+3``, ``-1,250.00``) is left as it is: it evaluates to
  itself (written exactly so: ``" -5"`` gets the quote). The same holds for the text after a
  ``;``, a tab or a line break inside a cell: Excel where the list separator is ``;`` (a
  decimal-comma locale) splits a comma file there, and a quote that does not open its cell
  is text to it, so ``x;=1+2`` is written ``x;'=1+2``; the text after one also gets the quote
  where it starts with ``"`` or is empty at the end of the cell (a quote there would open a
  cell that takes in the next lines). A text that starts with ``'`` and would need the quote without it (``'=1+2``) gets
  one more, so that billxl's readers (:func:`from_csv_text`, used by
  :func:`billxl.intake.read_table`) give back exactly the text written. Numbers in numeric
  columns stay numbers (a negative amount is ``-12.5``, never quoted).
* **XLSX**: the text is a string cell (never a formula) with Excel's quote prefix, so that
  editing the cell does not turn it into one (:func:`quote_prefixed`: the formula starts,
  numbers included, and a leading ``'``, which Excel would otherwise swallow on editing). The
  cell's value is the text itself, line ends written as Excel's own line feed
  (:func:`xlsx_text`): nothing to undo when it is read back.

**Characters nobody sees** (:data:`HIDDEN`): bidirectional embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069: they reorder what a reader sees, "Trojan Source"), control
characters (C0 other than tab, line feed and carriage return; DEL; C1), zero-width space,
word joiner, invisible operators, the byte-order mark inside text, soft hyphen, tag
characters, interlinear annotations, deprecated format characters, lone surrogates and the
non-characters U+FFFE/U+FFFF. They are **removed**: at intake (:func:`billxl.intake.read_table`
removes them from every cell it reads and says so, a ``HIDDEN_CHARACTERS`` finding in
``billxl check`` and a line in the import's summary), and again by every writer, so text
from anywhere else (master data, bank files) cannot carry them into a file. Kept, because
scripts need them and they reorder nothing: zero-width joiner and non-joiner (Persian,
Indic scripts, emoji), the left-to-right, right-to-left and Arabic letter marks, tab and line
breaks (formats without line breaks replace them, as the LEDES writer does).

Nothing here reads a file or knows a profile: reading is :func:`billxl.intake.read_table`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "OK", "BLANK", "NOT_NUMBER", "TOO_PRECISE", "TOO_LARGE", "BIGGEST", "FAR_DATE",
    "cell_text", "cell_texts", "by_uniques", "stripped_text", "strip_all", "blanks",
    "blank_cells", "norm", "norm_all", "scaled_numbers", "scaled_floats", "scaled_text",
    "scaled_durations",
    "parse_dates", "format_words", "too_precise_money",
    "FORMULA_STARTS", "HIDDEN", "formula_like", "formula_like_texts", "quote_prefixed", "csv_text", "csv_frame",
    "from_csv_text", "from_csv_cells", "visible_text", "visible_cells", "describe_characters",
    "XlsxText", "openpyxl_text", "xlsx_text", "header_text",
]

BIGGEST = 10**12  # currency units or hours: anything larger is a typo, and int64-safe


def norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def norm_all(values) -> list[str]:
    return [norm(str(v)) for v in values]


def cell_text(value: Any) -> str:
    """A cell as the user would read it: 12.0 -> '12', a date -> '2026-10-05', None -> ''."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def by_uniques(cells: np.ndarray, convert: Callable[[np.ndarray], tuple]) -> tuple:
    """Apply ``convert`` to the distinct cells only, then spread the results back to every row.

    Exports repeat the same timekeeper, matter, date and code thousands of times; working on
    the distinct values makes the lookups cost almost nothing.
    """
    codes, uniques = pd.factorize(cells)  # (the NA-sentinel path is the faster one)
    uniques = np.asarray(uniques, dtype=object)
    if len(codes) and codes.min() < 0:  # None/NaN cells (not from calamine or our CSV reader)
        uniques = np.append(uniques, None)
        codes = np.where(codes < 0, len(uniques) - 1, codes)
    results = convert(uniques)
    return tuple(np.asarray(r)[codes] for r in results)


def cell_texts(uniques: np.ndarray) -> np.ndarray:
    return np.array([cell_text(v) for v in uniques], dtype=object)


def stripped_text(cells: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """Cells as stripped text, '' for blank (object array).

    ``distinct``: the column's values are (nearly) all different, as entry ids are; then the
    whole column is stripped at once instead of going through its distinct values.
    """
    if distinct and pd.api.types.infer_dtype(cells, skipna=False) == "string":
        return np.strings.strip(cells.astype(np.dtypes.StringDType())).astype(object)
    return by_uniques(cells, lambda u: (np.array([s.strip() for s in cell_texts(u)], dtype=object),))[0]


def strip_all(uniques: np.ndarray) -> list[str]:
    return [s.strip() for s in cell_texts(uniques)]


def blanks(texts: list[str]) -> np.ndarray:
    return np.array([not s for s in texts], dtype=bool)


def blank_cells(cells: np.ndarray) -> np.ndarray:
    # calamine gives '' for an empty cell, and pandas reads CSV with keep_default_na=False
    return cells == ""


# Number parsing. Status codes, one per cell:
OK, BLANK, NOT_NUMBER, TOO_PRECISE, TOO_LARGE = range(5)


def scaled_numbers(cells: np.ndarray, digits: int, *, decimal: str = ".",
                   thousands: str = ",") -> tuple[np.ndarray, np.ndarray]:
    """Cells as exact integers in units of 10**-digits, and a status per cell.

    Workbook numbers (doubles) count only if they sit on the grid (within 1e-9 relative: the
    double nearest to 1.25 is 1.25000000000000000 and passes; 1.2345 for 3 digits does not);
    text is parsed exactly, digit by digit, with ``decimal`` as the decimal mark and
    ``thousands`` as the separator of groups of three digits (see :func:`scaled_text`).
    """
    n = len(cells)
    values = np.zeros(n, dtype=np.int64)
    status = np.full(n, OK, dtype=np.int8)
    inferred = pd.api.types.infer_dtype(cells, skipna=False)
    if inferred in ("floating", "integer", "mixed-integer-float"):  # the usual workbook column
        return scaled_floats(np.asarray(cells, dtype=np.float64), digits)

    def text(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return scaled_text(u.astype(str), digits, decimal=decimal, thousands=thousands)

    if inferred == "string":
        return by_uniques(cells, text)  # type: ignore[return-value]
    # Mixed: numbers with blank (or text) cells among them. Split by type, then vectorise.
    is_number = np.fromiter((type(v) in (float, int) for v in cells), dtype=bool, count=n)
    is_text = np.fromiter((isinstance(v, str) for v in cells), dtype=bool, count=n)
    if is_number.any():
        values[is_number], status[is_number] = scaled_floats(
            np.asarray(cells[is_number], dtype=np.float64), digits)
    if is_text.any():
        values[is_text], status[is_text] = by_uniques(cells[is_text], text)
    other = ~(is_number | is_text)
    status[other] = np.where(pd.isna(cells[other]), BLANK, NOT_NUMBER)
    return values, status


def scaled_floats(numbers: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    scaled = numbers * 10**digits
    grid = np.rint(scaled)
    status = np.full(len(numbers), OK, dtype=np.int8)
    off_grid = np.abs(scaled - grid) > 1e-9 * np.maximum(np.abs(grid), 1.0)
    status[off_grid] = TOO_PRECISE
    status[~np.isfinite(numbers) | (np.abs(numbers) >= BIGGEST)] = TOO_LARGE
    values = np.where(status == OK, grid, 0).astype(np.int64)
    return values, status


def scaled_text(text: np.ndarray, digits: int, *, decimal: str = ".",
                thousands: str = ",") -> tuple[np.ndarray, np.ndarray]:
    """Exact parse of numbers written as text ('1,250.50', '-3', '.5', '$12'), vectorised.

    ``decimal`` ('.' or ',') is the decimal mark and ``thousands`` (',', '.', ' ' or "'") the
    separator of groups of three digits: with ``decimal=','`` and ``thousands='.'``,
    '1.250,50' is 1250.5 and '1.5' is not a number.
    """
    s = np.strings.strip(text)
    if (decimal, thousands) != (".", ","):  # rewritten as '1,250.50' (an unused mark: invalid)
        table = _number_marks(decimal, thousands)
        s = np.array([v.translate(table) for v in s.tolist()], dtype=str)
    blank = s == ""
    negative = np.strings.startswith(s, "-")
    signed = negative | np.strings.startswith(s, "+")
    s = np.where(signed, np.strings.slice(s, 1, None), s)
    s = np.strings.lstrip(np.strings.lstrip(s, "$€£"), " ")
    # thousands separators only in groups of three ('1,250.50'); '1,25' is not a number here
    comma = np.strings.find(s, ",") >= 0
    grouped = np.ones(len(s), dtype=bool)
    if comma.any():
        grouped[comma] = pd.Series(s[comma], dtype=object).str.fullmatch(
            r"\d{1,3}(?:,\d{3})+(?:\.\d*)?").to_numpy(dtype=bool)
        s = np.strings.replace(s, ",", "")
    whole, _, fraction = np.strings.partition(s, ".")
    ascii_digits = "0123456789"
    is_number = (grouped & ~blank & ((whole != "") | (fraction != ""))
                 & (np.strings.strip(whole, ascii_digits) == "")
                 & (np.strings.strip(fraction, ascii_digits) == ""))
    fraction = np.strings.rstrip(fraction, "0")  # '1.2500' is 1.25
    too_precise = is_number & (np.strings.str_len(fraction) > digits)
    too_large = is_number & (np.strings.str_len(np.strings.lstrip(whole, "0")) > 12)
    ok = is_number & ~too_precise & ~too_large
    whole_int = np.where(ok & (whole != ""), whole, "0").astype(np.int64)
    frac_int = (np.where(ok & (fraction != ""), np.strings.ljust(fraction, digits, "0"), "0")
                .astype(np.int64)) if digits else np.zeros(len(s), dtype=np.int64)
    values = (whole_int * 10**digits + frac_int) * np.where(negative, -1, 1)
    status = np.select([blank, ~is_number, too_precise, too_large],
                       [BLANK, NOT_NUMBER, TOO_PRECISE, TOO_LARGE], OK).astype(np.int8)
    return np.where(ok, values, 0).astype(np.int64), status


def _number_marks(decimal: str, thousands: str) -> dict[int, str]:
    table = {ord(c): "?" for c in ",.' \u00a0\u202f" if c not in (decimal, thousands)}
    table[ord(decimal)] = "."
    table[ord(thousands)] = ","
    if thousands == " ":  # no-break and narrow no-break spaces, as spreadsheets write them
        table[0xA0] = table[0x202F] = ","
    return table


_DURATION = re.compile(r"^\s*(\d{1,5}):([0-5]\d)(?::([0-5]\d))?\s*$")


def scaled_durations(cells: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Durations as exact integers in units of 10**-digits hours, and which cells are ones.

    A duration is text ``h:mm`` or ``h:mm:ss`` ('1:30', '01:30:00', '27:05:10') or a workbook
    time or duration cell. Seconds are rounded half up to the grid (at 3 digits, a thousandth
    of an hour is 3.6 seconds), in integer arithmetic.
    """
    def convert(u: np.ndarray):
        seconds = np.array([_seconds(v) for v in u], dtype=object)
        found = np.array([s is not None for s in seconds], dtype=bool)
        whole = np.array([s or 0 for s in seconds], dtype=np.int64)
        return (2 * whole * 10**digits + 3600) // 7200, found

    return by_uniques(cells, convert)


def _seconds(value: Any) -> int | None:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            return None
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    if isinstance(value, timedelta):
        return round(value.total_seconds())
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second
    return None


def format_words(fmt: str) -> str:
    return (fmt.replace("%Y", "YYYY").replace("%y", "YY").replace("%m", "MM")
            .replace("%d", "DD").replace("%b", "Mon").replace("%B", "Month"))


_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")  # serial 1 = 1900-01-01 (with Excel's leap bug)
#: Dates outside these years are typos (and would not fit pandas' nanosecond timestamps).
_FIRST_DAY, _LAST_DAY = np.datetime64("1900-01-01", "D"), np.datetime64("2199-12-31", "D")
_NAT = np.datetime64("NaT", "D")
FAR_DATE = "is not a plausible date (before 1900 or after 2199)"


_MIDNIGHT = re.compile(r"[ T]00:00(:00(\.0+)?)?$")


def parse_dates(cells: np.ndarray, formats: tuple[str, ...]):
    """Dates as datetime64[ns] at midnight, and masks of bad, implausible and blank cells.

    Workbook date cells arrive as date/datetime objects, text cells as text (parsed with the
    profile's formats, tried in order); a bare number is taken as an Excel date serial. The
    work happens on the column's distinct values: a month has about thirty.
    """
    days, bad, far, blank = by_uniques(cells, lambda u: _dates_of(u, formats))
    return days.astype("datetime64[ns]"), bad, far, blank


def _dates_of(uniques: np.ndarray, formats: tuple[str, ...]):
    out = np.full(len(uniques), _NAT, dtype="datetime64[D]")
    is_date = np.array([isinstance(v, date) for v in uniques], dtype=bool)
    is_text = np.array([isinstance(v, str) and bool(v.strip()) for v in uniques], dtype=bool)
    is_number = np.array([type(v) in (int, float) for v in uniques], dtype=bool)
    blank = np.array([v is None or (isinstance(v, str) and not v.strip()) for v in uniques],
                     dtype=bool)
    if is_date.any():  # datetime is a date too; its time of day is dropped
        out[is_date] = [np.datetime64(v.date() if isinstance(v, datetime) else v, "D")
                        for v in uniques[is_date]]
    if is_text.any():
        # a date saved with a midnight time ("2026-10-05 00:00:00", as spreadsheets and
        # databases often export dates) is that date; any other time of day is not a date
        text = pd.Series([_MIDNIGHT.sub("", v.strip()) for v in uniques[is_text]], dtype=object)
        parsed = np.full(len(text), _NAT, dtype="datetime64[D]")
        for fmt in formats:
            todo = np.isnat(parsed)
            if not todo.any():
                break
            found = pd.to_datetime(text[todo], format=fmt, errors="coerce")
            parsed[todo] = found.to_numpy().astype("datetime64[D]")
        out[is_text] = parsed
    if is_number.any():  # an Excel date serial in a cell without a date format
        serial = np.asarray(uniques[is_number], dtype=np.float64)
        plausible = (serial >= 1) & (serial < 110_000)  # up to the year 2201
        days = _EXCEL_EPOCH + np.floor(np.where(plausible, serial, 0)).astype("timedelta64[D]")
        out[is_number] = np.where(plausible, days, _NAT)
    far = ~np.isnat(out) & ((out < _FIRST_DAY) | (out > _LAST_DAY))
    out[far] = _NAT
    bad = np.isnat(out) & ~blank & ~far
    return out, bad, far, blank


def too_precise_money(digits: int, currency: Any) -> str:
    cur = currency if isinstance(currency, str) else "money"
    if digits == 0:
        return f"must be a whole number ({cur} has no smaller unit)"
    return f"has more than {digits} decimal places ({cur} amounts go to {10 ** -digits:.{digits}f})"


# =================================================================================== writing text
#: The characters that make a spreadsheet read a cell as a formula when they start it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# a number written as text: it evaluates to itself, so a CSV cell leaves it alone
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")

#: Characters removed from text, at intake and by every writer (see the module's text).
HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u180e\u200b\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\ufffe\uffff\U000e0000-\U000e007f\ud800-\udfff]")


#: What makes text a formula, as one pattern (``\s`` is the whitespace :meth:`str.lstrip` strips)
_FORMULA_LIKE = re.compile(r"[\t\r\n\x00]|\s*[=+\-@]")


def formula_like(value: object) -> bool:
    """True for text a spreadsheet would read as a formula (numbers written as text too): it
    starts with a tab, a line break or NUL, or with =, +, - or @ after any blanks."""
    return isinstance(value, str) and _FORMULA_LIKE.match(value) is not None


def formula_like_texts(texts: pd.Series) -> np.ndarray:
    """:func:`formula_like` of every value of ``texts``, as a boolean array (one regex match
    per text instead of a Python call per text: the FORMULA_TEXT rule runs over a month)."""
    match = _FORMULA_LIKE.match
    return np.fromiter((isinstance(v, str) and match(v) is not None for v in texts.tolist()),
                       dtype=bool, count=len(texts))


def quote_prefixed(value: object) -> bool:
    """True for an XLSX text cell that needs Excel's quote prefix to stay itself when edited."""
    return isinstance(value, str) and (value.startswith("'") or formula_like(value))


def _csv_quoted(text: str) -> bool:
    # a leading quote counts when what follows it needs one: the written form stays unique
    rest = text.lstrip("'")
    return formula_like(rest) and _PLAIN_NUMBER.fullmatch(rest) is None


def _part_quoted(part: str, last: bool) -> bool:
    """Whether the text after a ``;``, tab or line break needs a ``'``: where a spreadsheet
    splitting there would evaluate it, or would open a quoted cell (a ``"``, or the cell's
    own closing quote right after the separator) that takes in what follows."""
    rest = part.lstrip("'")
    return ((last and not rest) or rest.lstrip()[:1] == '"'
            or _csv_quoted(rest.lstrip('"')))


def _after_quoted(parts: list[str], i: int) -> bool:
    """Whether ``parts[i]`` (the text after a separator, in :data:`_OTHER_SEPARATORS`' split,
    the parts after it as written) needs a ``'``: as a cell of its own, or as the start of the
    cell a spreadsheet splitting only at the line break before it reads ("\\r\\t=x": the cell
    after the line break starts with a tab). :func:`csv_text` quotes from the last part back and
    :func:`from_csv_text` unquotes from the first on, so both judge the same written text."""
    last = i == len(parts) - 1
    return _part_quoted(parts[i], last) or (not last and _csv_quoted("".join(parts[i:])))


#: Where a spreadsheet that splits on another separator (``;`` where the decimal mark is a
#: comma, a tab) or at every line break starts a cell inside the text.
_OTHER_SEPARATORS = re.compile(r"([;\t\r\n])")


def csv_text(value: str) -> str:
    """Text as a CSV cell holds it: visible characters only, and a ``'`` where a spreadsheet
    would otherwise evaluate it: in front, and after a ``;``, a tab or a line break inside the
    text (where a spreadsheet that splits on those starts a cell). :func:`from_csv_text`
    undoes it."""
    text = visible_text(value)
    lead = "'" if _csv_quoted(text) else ""
    if not _OTHER_SEPARATORS.search(text):
        return lead + text
    parts = _OTHER_SEPARATORS.split(text)
    for i in range(len(parts) - 1, 1, -2):  # the text after each separator, from the end
        if _after_quoted(parts, i):
            parts[i] = "'" + parts[i]
    return lead + "".join(parts)


def from_csv_text(text: str) -> str:
    """The text :func:`csv_text` was given (the quotes it added taken off; nothing else)."""
    if _OTHER_SEPARATORS.search(text):
        parts = _OTHER_SEPARATORS.split(text)
        for i in range(2, len(parts), 2):  # each judged before what follows it is undone
            if parts[i].startswith("'") and _after_quoted([*parts[:i], parts[i][1:],
                                                           *parts[i + 1:]], i):
                parts[i] = parts[i][1:]
        text = "".join(parts)
    return text[1:] if text.startswith("'") and _csv_quoted(text[1:]) else text


_ANY_ADDED_QUOTE = re.compile(r"(?:\A|[;\t\r\n])'")


def from_csv_cells(cells: np.ndarray) -> np.ndarray:
    """:func:`from_csv_text` over a column of CSV cells (object array). One search over the
    whole column first: most columns have no quote that :func:`csv_text` could have added."""
    texts = [v for v in cells if type(v) is str]
    if not texts or not _ANY_ADDED_QUOTE.search("\n".join(texts)):
        return cells
    out = cells.copy()
    for i, v in enumerate(cells):
        if type(v) is str and _ANY_ADDED_QUOTE.search(v):
            out[i] = from_csv_text(v)
    return out


def visible_text(value: str) -> str:
    """The text without the characters of :data:`HIDDEN`."""
    return HIDDEN.sub("", value)


#: :data:`HIDDEN`'s ASCII characters, as a table that deletes them: in ASCII text (most columns)
#: a :meth:`str.translate` with it tells whether there are any, twice as fast as the search
_ASCII_HIDDEN_GONE = dict.fromkeys(c for c in range(128) if HIDDEN.match(chr(c)))
#: What :func:`pandas.api.types.infer_dtype` says of a column that holds no text at all
_NO_TEXT = frozenset(("empty", "floating", "integer", "mixed-integer-float", "decimal", "complex",
                      "boolean", "datetime64", "datetime", "date", "timedelta64", "timedelta",
                      "time", "period"))


def visible_cells(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column without :data:`HIDDEN` characters, and which cells lost some (bool mask).

    One search over the column's text joined: a column of numbers or dates is told apart
    without looking at each cell, and ASCII text is looked at for ASCII characters only
    (a month's import reads some fifteen columns of 300,000 cells)."""
    changed = np.zeros(len(cells), dtype=bool)
    try:
        joined = "".join(cells)  # a column of text (the usual case): one pass
    except TypeError:  # numbers, dates or blanks, with or without text among them
        if pd.api.types.infer_dtype(cells, skipna=False) in _NO_TEXT:
            return cells, changed
        joined = "".join([v for v in cells.tolist() if type(v) is str])
    if (len(joined.translate(_ASCII_HIDDEN_GONE)) == len(joined) if joined.isascii()
            else HIDDEN.search(joined) is None):
        return cells, changed
    out = cells.copy()
    for i, v in enumerate(cells):
        if type(v) is str and HIDDEN.search(v):
            out[i] = HIDDEN.sub("", v)
            changed[i] = True
    return out, changed


def describe_characters(text: str) -> str:
    """The :data:`HIDDEN` characters of ``text``, each once, by code point and name."""
    import unicodedata

    found = dict.fromkeys(HIDDEN.findall(text))
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, _CONTROL_NAMES.get(c, 'control character'))}"
                     for c in found)


_CONTROL_NAMES = {"\x00": "NULL", "\x7f": "DELETE", "\x0b": "LINE TABULATION",
                  "\x0c": "FORM FEED"}


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell as :func:`csv_text` writes it (other cells untouched)."""
    out = frame.copy(deep=False)
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if column.dtype.kind in "biufcmM":  # numbers, booleans and dates stay as they are
            continue
        values = column.to_numpy(dtype=object)
        codes, uniques = pd.factorize(values)
        uniques = np.asarray(uniques, dtype=object)
        todo = _needs_csv_change(uniques)
        if not todo.any():
            continue
        fixed = uniques.copy()
        fixed[todo] = [csv_text(u) for u in uniques[todo]]
        result = values.copy()
        mask = np.isin(codes, np.flatnonzero(todo))
        result[mask] = fixed[codes[mask]]
        out.isetitem(j, pd.Series(result, index=frame.index, dtype=object))
    return out


def _needs_csv_change(uniques: np.ndarray) -> np.ndarray:
    """Which distinct cells :func:`csv_text` may change (a superset: it decides exactly)."""
    todo = np.fromiter(map(quote_prefixed, uniques), dtype=bool, count=len(uniques))
    texts = [u for u in uniques if type(u) is str]
    joined = "".join(texts)
    if texts and (HIDDEN.search(joined) or _OTHER_SEPARATORS.search(joined)):
        todo |= np.fromiter((type(u) is str and (HIDDEN.search(u) is not None
                                                 or _OTHER_SEPARATORS.search(u) is not None)
                             for u in uniques), dtype=bool, count=len(uniques))
    return todo


def xlsx_text(value: str) -> str:
    """Text as an XLSX cell holds it: visible characters only, line ends as Excel's own (a
    line feed; a carriage return would be stored as ``_x000D_``)."""
    return visible_text(value).replace("\r\n", "\n").replace("\r", "\n")


def header_text(value: str, limit: int = 80) -> str:
    """Text for an XLSX page header or footer: visible characters on one line, cut to ``limit``
    characters (Excel holds 255 for a whole header; XlsxWriter drops a longer one), and ``&``
    doubled (it starts a code there: ``&P`` would print the page number)."""
    text = " ".join(visible_text(value).split())
    return (text[:limit - 1] + "…" if len(text) > limit else text).replace("&", "&&")


class XlsxText:
    """Text cells of an XlsxWriter workbook: visible characters only, always a string (never a
    formula, a number or a link), with Excel's quote prefix where :func:`quote_prefixed` says.

    ``write(sheet, row, col, value, fmt)`` replaces ``sheet.write_string``; the quoted twin of
    each format is made once, as a copy of its properties with the quote prefix set.
    """

    def __init__(self, book):
        self.book = book
        self._twins: dict[int, tuple[Any, Any]] = {}

    def write(self, sheet, row: int, col: int, value: Any, fmt=None):
        text = xlsx_text(value if isinstance(value, str) else cell_text(value))
        if quote_prefixed(text):
            fmt = self.quoted(fmt)
        return sheet.write_string(row, col, text, fmt)

    def quoted(self, fmt):
        """The format ``fmt`` with the quote prefix (``fmt`` None: the default format)."""
        twin = self._twins.get(id(fmt))
        if twin is None:
            made = self.book.add_format()
            if fmt is not None:
                made.__dict__.update({k: v for k, v in vars(fmt).items()
                                      if k not in ("xf_index", "dxf_index")})
            made.set_quote_prefix()
            twin = self._twins[id(fmt)] = (fmt, made)  # fmt kept alive: its id stays its own
        return twin[1]


def openpyxl_text(cell, value: str) -> None:
    """Put text in an openpyxl cell: visible characters, a string (openpyxl would make text
    that starts with ``=`` a formula), quote prefix where :func:`quote_prefixed` says."""
    text = xlsx_text(value)
    cell.value = text
    cell.data_type = "s"
    if quote_prefixed(text):
        cell.quotePrefix = True
