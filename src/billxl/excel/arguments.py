"""What Excel sends a worksheet function, as exact values.

xlwings hands a UDF what the cells hold: one cell as a scalar, a row or column as a list, a
block as a list of lists (billxl's functions ask for lists of lists always, so that a column
stays a column); blanks as None, numbers as floats, dates as datetimes, or as serial numbers
when a formula computed them or the cell has no date format. This module turns them into the
values billxl works with, cell by cell and without a traceback:

* :func:`grid` and :func:`fit`: arguments as 2-D object arrays and the shape they make
  together (a single cell goes with any range); :func:`spread` matches each argument's
  converted cells to that shape, :func:`shaped` puts results back in the caller's shape;
* :func:`ids`: ids as text (an id typed as a number, ``1001.0``, is ``"1001"``; blanks None);
* :func:`words`: option words (``Billing`` is ``billing``; a currency is upper case);
* :func:`days`: dates, date serials or ISO text as dates (:func:`billxl.cells.parse_dates`);
* :func:`exact`: numbers as exact Decimals on a grid of ``digits`` decimals (0.1 + 0.2 is 0.3
  hours), through :func:`billxl.cells.scaled_numbers`: no binary noise, and a float off the
  grid is refused rather than rounded;
* :func:`major_units`: integer minor units back to the number Excel shows (the double nearest
  the exact amount: exact to the cent);
* :func:`error_text`: the short text of a bad cell, ``#BILLXL! <reason>``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from billxl import cells

__all__ = ["PREFIX", "error_text", "grid", "fit", "spread", "shaped", "ids", "words",
           "days", "exact", "major_units"]

#: How a cell's error text starts (Excel shows it as text in that cell).
PREFIX = "#BILLXL! "
_LIMIT = 255  # Excel's reported limit for a UDF's text result
_DATES = ("%Y-%m-%d",)  # dates typed as text: ISO, as billxl writes them


def error_text(reason: str) -> str:
    """``#BILLXL! reason``, on one line and short enough for a cell."""
    text = PREFIX + " ".join(str(reason).split())
    return text if len(text) <= _LIMIT else text[:_LIMIT - 1] + "…"


def grid(value: Any) -> tuple[np.ndarray, int]:
    """``value`` as a 2-D object array, and its rank: 0 a single value, 1 a list (a row),
    2 a list of lists. Ragged lists (not from Excel) are padded with blanks."""
    if isinstance(value, (list, tuple)):
        rows = value and set(map(type, value)) <= {list, tuple}
        if rows and len(widths := set(map(len, value))) == 1:
            out = np.empty((len(value), widths.pop()), dtype=object)
            out[:] = value  # a range as Excel sends it: rows of one width, in one call
            return out, 2
        if rows:
            out = np.full((len(value), max(map(len, value))), None, dtype=object)
            for i, row in enumerate(value):
                out[i, :len(row)] = list(row)
            return out, 2
        out = np.empty((1, len(value)), dtype=object)
        out[0, :] = list(value)
        return out, 1
    out = np.empty((1, 1), dtype=object)
    out[0, 0] = value
    return out, 0


def fit(*values: Any) -> tuple[list[np.ndarray], tuple[int, int], int]:
    """Every argument as its own 2-D grid, the shape of the result, and its rank.

    A single cell (or a 1x1 range) goes with any range; a row goes with a block as wide, a
    column with a block as tall (as numpy broadcasts). Other shapes raise ValueError, with
    the shapes in words. Convert each grid on its own cells, then :func:`spread` it.
    """
    grids = [grid(v) for v in values]
    shapes = [g.shape for g, _rank in grids]
    try:
        shape = shapes[0] if len(set(shapes)) == 1 else np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " and ".join(f"{r}x{c}" for r, c in shapes if r * c > 1)
        raise ValueError(f"the ranges do not fit together ({shown} cells)") from None
    rank = max(rank for _g, rank in grids)
    if rank == 1 and shape[0] > 1:
        rank = 2
    return [g for g, _rank in grids], shape, rank


def spread(converted: list, like: np.ndarray, shape: tuple[int, int]) -> list:
    """Values converted from the cells of the grid ``like``, one per cell of ``shape``
    (row by row), as :func:`fit` matched them."""
    if like.shape == shape:
        return converted
    if like.size == 1:
        return converted * (shape[0] * shape[1])
    cells = np.empty(like.shape, dtype=object)
    cells.ravel()[:] = converted
    return np.broadcast_to(cells, shape).ravel().tolist()


def shaped(results: list, shape: tuple[int, int], rank: int) -> Any:
    """Results, one per cell row by row, back in the caller's shape: a scalar, a list (a row)
    or a list of lists."""
    if rank == 0 and len(results) == 1:
        return results[0]
    width = shape[1]
    if rank == 1 and shape[0] == 1:
        return list(results)
    if width == 1:
        return [[v] for v in results]
    return [results[i:i + width] for i in range(0, len(results), width)]


@lru_cache(maxsize=65_536, typed=True)
def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, bool) or (isinstance(value, float) and value != value):
        return None
    return cells.cell_text(value).strip() or None


def ids(values: np.ndarray) -> list[str | None]:
    """Each cell as an id: stripped text, a whole number as its digits (``1001.0`` is
    ``"1001"``), a blank (or TRUE/FALSE, never an id) None."""
    return [(v.strip() or None) if type(v) is str else
            _id(v) if v.__hash__ is not None else None for v in values.ravel().tolist()]


def words(values: np.ndarray, *, upper: bool = False) -> list[str | None]:
    """Option words, as :func:`ids`, in lower case (upper case with ``upper``)."""
    return [None if w is None else (w.upper() if upper else w.lower()) for w in ids(values)]


@lru_cache(maxsize=4_096, typed=True)
def _day(value: Any) -> date | str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"{cells.cell_text(value)!r} is not a date"
    found, bad, far, _blank = cells.parse_dates(np.array([value], dtype=object), _DATES)
    if far[0]:
        return f"{cells.cell_text(value)} {cells.FAR_DATE}"
    if bad[0]:
        return f"{cells.cell_text(value)!r} is not a date (a date, a date serial or YYYY-MM-DD)"
    return found[0].astype("datetime64[D]").item()


def days(values: np.ndarray) -> list[date | str | None]:
    """Each cell as a date: a date or datetime cell, an Excel date serial (45931 is
    2025-10-01; a fraction of a day is dropped) or ISO text; None for a blank; otherwise the
    reason it is not one (a ``str``)."""
    return [_day(v) if v.__hash__ is not None else "a range is not a date"
            for v in values.ravel().tolist()]


def exact(values: np.ndarray, digits: int) -> list[Decimal | str | None]:
    """Each cell as an exact Decimal with at most ``digits`` decimals (hours: 3, cents: 2).

    A float is the decimal it stands for when it sits on that grid, within the noise of
    binary arithmetic (0.1 + 0.2 = 0.30000000000000004 is 0.3); text is read digit by digit;
    None for a blank; otherwise the reason (a ``str``).
    """
    flat = values.ravel()
    numbers, status = cells.scaled_numbers(flat, digits)
    reasons = {cells.NOT_NUMBER: "is not a number", cells.TOO_LARGE: "is too large",
               cells.TOO_PRECISE: f"has more than {digits} decimal places"}
    out: list[Decimal | str | None] = []
    for value, n, s in zip(flat.tolist(), numbers.tolist(), status.tolist(), strict=True):
        if s == cells.OK:
            out.append(Decimal(n).scaleb(-digits))
        elif s == cells.BLANK or value is None:
            out.append(None)
        else:
            out.append(f"{cells.cell_text(value)!r} {reasons[s]}")
    return out


def major_units(minor: np.ndarray, digits: np.ndarray | int) -> np.ndarray:
    """Integer minor units (or thousandths) as floats in major units: 12345 cents is 123.45.

    Both numbers are exact integers (below 2**53) and IEEE division rounds correctly, so each
    result is the double nearest the exact amount: ``float(Decimal(minor).scaleb(-digits))``,
    without a loop.
    """
    scale = np.power(10.0, np.asarray(digits, dtype=np.float64))
    return np.asarray(minor, dtype=np.int64).astype(np.float64) / scale
