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


