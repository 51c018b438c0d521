"""Field values of LEDES files: exact decimals and YYYYMMDD dates, from and to text, vectorised.

Numbers are read without ever becoming floats: each distinct text is laid out as a row of bytes
and its digits are weighed by their place in NumPy, giving an exact integer at a fixed scale
(``digits`` decimals: ``"24.95"`` at 4 digits is 249500). What LEDES writers emit is accepted:
``2.00``, ``0.200``, ``1250.``, ``.5``, ``-70``, ``+3``. What is not a plain decimal (``1,250.00``,
``1e3``, ``12 50``) is reported as invalid, never guessed.

Columns of a LEDES file repeat a handful of values (dates, rates, units, the invoice total on
every line), so each column is factorised first and only its distinct values are parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ParsedNumbers", "parse_decimals", "parse_dates", "format_scaled", "format_dates",
           "POW10"]

#: 10**0 .. 10**18 as int64 (the largest power that fits).
POW10 = 10 ** np.arange(19, dtype=np.int64)

_MAX_WIDTH = 40  # longer texts are not numbers any LEDES field allows


@dataclass(frozen=True)
class ParsedNumbers:
    """Numbers read from text: ``value`` is exact at ``10**-digits`` where ``valid``.

    ``blank`` marks empty texts (value 0, not valid); ``exact`` is False where the text has a
    non-zero digit beyond ``digits`` decimals (the value is then truncated); ``int_digits``
    counts the digits before the point (for length limits such as LEDES' 14.2); ``oversized``
    marks plain decimals with too many digits to hold exactly (not valid, but not "not a
    number" either: say how many digits the field allows).
    """

    value: np.ndarray
    valid: np.ndarray
    blank: np.ndarray
    exact: np.ndarray
    int_digits: np.ndarray
    decimals: np.ndarray  # digits written after the point
    oversized: np.ndarray


def _distinct(texts) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _spread(codes: np.ndarray, values: np.ndarray, missing) -> np.ndarray:
    """Per-distinct values back to every row (factorize gives -1 for missing texts)."""
    out = values[np.maximum(codes, 0)] if len(values) else np.full(len(codes), missing)
    if (codes < 0).any():
        out = out.copy()
        out[codes < 0] = missing
    return out


def _byte_rows(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Texts as a (n, width) uint8 matrix, their lengths, and which were usable (ASCII, short)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    usable = lengths <= _MAX_WIDTH
    ascii_ok = np.fromiter((s.isascii() for s in texts), dtype=bool, count=len(texts))
    usable &= ascii_ok
    safe = np.where(usable, texts, "")
    width = max(int(lengths[usable].max(initial=0)), 1)
    matrix = np.array(safe.tolist(), dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
    return matrix, np.where(usable, lengths, 0), usable


def _parse_distinct(texts: np.ndarray, digits: int) -> tuple[np.ndarray, ...]:
    stripped = np.array([s.strip() for s in texts], dtype=object) if len(texts) else texts
    m, lengths, usable = _byte_rows(stripped)
    n, width = m.shape
    is_digit = (m >= 48) & (m <= 57)
    is_dot = m == 46
    is_sign = (m == 45) | (m == 43)
    in_text = np.arange(width)[None, :] < lengths[:, None]
    sign_ok = ~(is_sign[:, 1:] & in_text[:, 1:]).any(axis=1)
    allowed = (is_digit | is_dot | (is_sign & (np.arange(width) == 0)[None, :]) | ~in_text)
    blank = lengths == 0
    valid = (usable & ~blank & allowed.all(axis=1) & sign_ok & (is_dot.sum(axis=1) <= 1)
             & is_digit.any(axis=1))

    has_dot = is_dot.any(axis=1)
    dot_at = np.where(has_dot, is_dot.argmax(axis=1), lengths)
    col = np.arange(width)[None, :]
    # place value of each digit: 10**(dot-col-1) before the point, 10**(dot-col) after it
    place = np.where(col < dot_at[:, None], dot_at[:, None] - col - 1, dot_at[:, None] - col)
    scaled = place + digits
    digit = np.where(is_digit, m.astype(np.int64) - 48, 0)
    whole = is_digit & (place >= 0)
    # leading zeros do not count towards the integer digits
    significant = whole & (np.cumsum(digit * whole, axis=1) > 0)
    int_digits = significant.sum(axis=1)
    decimals = (is_digit & (place < 0)).sum(axis=1)
    oversized = valid & (int_digits > 18 - digits)
    valid &= ~oversized  # beyond int64: not a LEDES number anyway
    kept = is_digit & (scaled >= 0) & valid[:, None]
    value = (digit * POW10[np.clip(scaled, 0, 18)] * kept).sum(axis=1)
    negative = m[:, 0] == 45
    value = np.where(negative, -value, value)
    exact = ~((is_digit & (scaled < 0) & (digit != 0)).any(axis=1))
    return value, valid, blank, exact | ~valid, int_digits, decimals, oversized


def parse_decimals(texts, digits: int = 4) -> ParsedNumbers:
    """Exact integers at ``10**-digits`` from decimal texts (blank texts are 0 and flagged)."""
    codes, uniques = _distinct(texts)
    value, valid, blank, exact, int_digits, decimals, oversized = _parse_distinct(uniques,
                                                                                 digits)
    return ParsedNumbers(
        value=_spread(codes, value, 0).astype(np.int64),
        valid=_spread(codes, valid, False).astype(bool),
        blank=_spread(codes, blank, True).astype(bool),
        exact=_spread(codes, exact, True).astype(bool),
        int_digits=_spread(codes, int_digits, 0).astype(np.int64),
        decimals=_spread(codes, decimals, 0).astype(np.int64),
        oversized=_spread(codes, oversized, False).astype(bool),
    )


def parse_dates(texts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``YYYYMMDD`` texts as ``datetime64[D]`` (NaT where blank or invalid); returns
    (dates, valid, blank). A real calendar date is required: 20260231 is not valid."""
    codes, uniques = _distinct(texts)
    stripped = np.array([s.strip() for s in uniques], dtype=object) if len(uniques) else uniques
    m, lengths, usable = _byte_rows(stripped)
    blank = lengths == 0
    eight = usable & (lengths == 8) & (m.shape[1] >= 8)
    if m.shape[1] < 8:
        m = np.pad(m, ((0, 0), (0, 8 - m.shape[1])))
    d = m[:, :8].astype(np.int64) - 48
    all_digits = ((d >= 0) & (d <= 9)).all(axis=1)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    ok = eight & all_digits & (year >= 1900) & (year <= 2999) & (month >= 1) & (month <= 12)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days_in_month = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
                     ).astype(np.int64)
    ok &= (day >= 1) & (day <= days_in_month)
    dates = np.where(ok, months.astype("datetime64[D]") + np.where(ok, day - 1, 0),
                     np.datetime64("NaT", "D"))
    return (_spread(codes, dates, np.datetime64("NaT", "D")).astype("datetime64[D]"),
            _spread(codes, ok, False).astype(bool), _spread(codes, blank, True).astype(bool))


def format_scaled(values, scale: int, decimals: int | None = None,
                  min_decimals: int = 0) -> np.ndarray:
    """Integers at ``10**-scale`` as decimal texts (each distinct value formatted once).

    ``decimals`` fixes the digits after the point (money: ``"630.00"``); otherwise trailing
    zeros are dropped down to ``min_decimals`` (units: ``"2.00"``, ``"1.25"``, ``"0.125"``).
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=np.int64))
    texts = np.array([_decimal_text(int(v), scale, decimals, min_decimals) for v in uniques],
                     dtype=object)
    return _spread(codes, texts, "")


def _decimal_text(value: int, scale: int, decimals: int | None, min_decimals: int) -> str:
    whole, frac = divmod(abs(value), 10 ** scale)
    digits = f"{frac:0{scale}d}" if scale else ""
    if decimals is not None:
        digits = digits[:decimals].ljust(decimals, "0")
    else:
        digits = digits.rstrip("0").ljust(min_decimals, "0")
    return ("-" if value < 0 else "") + str(whole) + ("." + digits if digits else "")


def format_dates(dates) -> np.ndarray:
    """``datetime64`` values as ``YYYYMMDD`` texts ('' for NaT), each distinct date once."""
    days = np.asarray(dates).astype("datetime64[D]")
    codes, uniques = pd.factorize(days)
    texts = np.array([str(d).replace("-", "") if not np.isnat(d) else "" for d in
                      np.asarray(uniques, dtype="datetime64[D]")], dtype=object)
    return _spread(codes, texts, "")
