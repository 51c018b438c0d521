"""Exact money and hours: the one place numbers are made and rounded.

The rounding policy, stated once
--------------------------------
* Amounts live as **integer minor units** (cents for USD/EUR/GBP, yen for JPY) in every frame
  and in the ledger. Hours and other quantities live as **integer thousandths** (``milli``):
  1.25 hours is 1250. No float ever holds an amount or an hour count.
* A value is rounded exactly once, when it is *extended*: ``quantity x unit price`` (hours x
  rate, units x unit cost) and percentage adjustments (tax, discounts) are computed exactly in
  integers and rounded to the currency's minor unit at that line. Totals are sums of rounded
  lines and are never rounded again.
* The default rule is **half-up** (ties away from zero: 0.005 -> 0.01, -0.005 -> -0.01), the rule
  of commercial invoicing. A client (or a portal) may choose another rule from
  :class:`Rounding`; the choice is carried as data, never as a different code path.

Decimal is the boundary type: ``D()`` makes one from text or an int (never from a float),
``to_minor``/``from_minor`` cross between Decimal and minor units, and the ``*_array`` functions do
the same arithmetic vectorised over NumPy int64 arrays for frames of hundreds of thousands of
rows, with results identical to the Decimal path (property-tested).
"""

from __future__ import annotations

import decimal
import enum
import functools
from decimal import Decimal
from typing import Any

import numpy as np

__all__ = [
    "D",
    "QTY_SCALE",
    "Rounding",
    "DEFAULT_ROUNDING",
    "minor_digits",
    "to_minor",
    "from_minor",
    "qty_to_milli",
    "extend_by_rule",
    "milli_to_qty",
    "extend",
    "extend_array",
    "percent_of",
    "div_round_array",
    "format_amount",
]

#: Quantities (hours, units) are stored as integer multiples of 1/QTY_SCALE.
QTY_SCALE = 1000
_QTY_EXP = Decimal(1) / QTY_SCALE

# ISO 4217 minor-unit digits for currencies that differ from the usual 2.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3,
                 "JOD": 3, "TND": 3}


class Rounding(enum.StrEnum):
    """How a value that falls between two minor units is rounded."""

    HALF_UP = "half_up"  # ties away from zero (default; commercial invoicing)
    HALF_EVEN = "half_even"  # ties to the even digit (banker's rounding; some portals)
    HALF_DOWN = "half_down"  # ties toward zero
    DOWN = "down"  # truncate toward zero
    UP = "up"  # away from zero

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self]


_DECIMAL_MODES = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}

DEFAULT_ROUNDING = Rounding.HALF_UP


def D(value: Any) -> Decimal:
    """Make a Decimal from text, an int or a Decimal. Floats are refused: they are not exact.

    Text may carry thousands separators and surrounding blanks (``" 1,250.00 "``).
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            result = Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not result.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return result
    if isinstance(value, float):
        raise TypeError("floats are not exact; pass the amount as text or Decimal")
    raise TypeError(f"cannot make a Decimal from {type(value).__name__}")


@functools.cache
def currency_codes() -> frozenset[str]:
    """The ISO 4217 codes a currency field may hold: every code some territory has used as its
    currency on or after 2020-01-01 (so invoices still in HRK or SLL read), from the Unicode
    CLDR's territory currencies through babel, not a list kept by hand."""
    from babel.core import get_global

    return frozenset(code for periods in get_global("territory_currencies").values()
                     for code, _start, end, _tender in periods
                     if end is None or end >= (2020, 1, 1))


def minor_digits(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return _MINOR_DIGITS.get(currency.upper(), 2)


def to_minor(amount: Any, currency: str = "USD", rounding: Rounding = DEFAULT_ROUNDING) -> int:
    """Round an amount to the currency's minor unit and return it as an integer count."""
    digits = minor_digits(currency)
    scaled = D(amount).scaleb(digits)
    return int(scaled.quantize(Decimal(1), rounding=Rounding(rounding).decimal_mode))


def from_minor(minor: int, currency: str = "USD") -> Decimal:
    """Integer minor units back to a Decimal with the currency's exponent (1250 -> 12.50)."""
    digits = minor_digits(currency)
    return Decimal(int(minor)).scaleb(-digits)


def qty_to_milli(qty: Any) -> int:
    """An exact quantity (hours, units) as integer thousandths. More precision is an error."""
    value = D(qty)
    milli = value * QTY_SCALE
    if milli != milli.to_integral_value():
        raise ValueError(f"{value} has more than 3 decimal places")
    return int(milli)


def milli_to_qty(milli: int) -> Decimal:
    return (Decimal(int(milli)) * _QTY_EXP).quantize(_QTY_EXP)


def extend(qty_milli: int, unit_minor: int, rounding: Rounding = DEFAULT_ROUNDING) -> int:
    """quantity x unit price, in minor units, rounded once. 1.25 h x 350.00 = 437.50."""
    exact = Decimal(int(qty_milli) * int(unit_minor)) / QTY_SCALE
    return int(exact.quantize(Decimal(1), rounding=Rounding(rounding).decimal_mode))


def percent_of(amount_minor: int, percent: Any, rounding: Rounding = DEFAULT_ROUNDING) -> int:
    """``percent`` % of an amount in minor units (tax, discount), rounded once."""
    exact = Decimal(int(amount_minor)) * D(percent) / 100
    return int(exact.quantize(Decimal(1), rounding=Rounding(rounding).decimal_mode))


def div_round_array(numerator: np.ndarray, denominator: int,
                    rounding: Rounding = DEFAULT_ROUNDING) -> np.ndarray:
    """Integer division ``numerator / denominator`` rounded by ``rounding``, vectorised.

    Exact for int64 numerators (no float on the way); ``denominator`` must be positive.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    n = np.asarray(numerator, dtype=np.int64)
    sign = np.where(n < 0, -1, 1)
    a = np.abs(n)
    q, r = np.divmod(a, denominator)
    twice = 2 * r
    rounding = Rounding(rounding)
    if rounding is Rounding.HALF_UP:
        up = twice >= denominator
    elif rounding is Rounding.HALF_DOWN:
        up = twice > denominator
    elif rounding is Rounding.HALF_EVEN:
        up = (twice > denominator) | ((twice == denominator) & (q % 2 == 1))
    elif rounding is Rounding.DOWN:
        up = np.zeros_like(r, dtype=bool)
    else:  # UP
        up = r > 0
    return sign * (q + up.astype(np.int64))


def extend_array(qty_milli: np.ndarray, unit_minor: np.ndarray,
                 rounding: Rounding = DEFAULT_ROUNDING) -> np.ndarray:
    """Vectorised :func:`extend`: hours (milli) x rates (minor) -> amounts (minor).

    int64 holds 24 h (24,000) x a rate of 10 million currency units with room to spare.
    """
    product = np.asarray(qty_milli, dtype=np.int64) * np.asarray(unit_minor, dtype=np.int64)
    return div_round_array(product, QTY_SCALE, rounding)


def extend_by_rule(qty_milli: np.ndarray, unit_minor: np.ndarray,
                   rounding: np.ndarray) -> np.ndarray:
    """:func:`extend_array` where each line carries its own rule (``rounding``: rule names),
    one vectorised pass per distinct rule."""
    qty = np.asarray(qty_milli, dtype=np.int64)
    unit = np.asarray(unit_minor, dtype=np.int64)
    rules = np.asarray(rounding, dtype=object)
    out = np.zeros(len(qty), dtype=np.int64)
    for rule in dict.fromkeys(rules.tolist()):  # distinct rules, in first-seen order
        rows = rules == rule
        out[rows] = extend_array(qty[rows], unit[rows], Rounding(rule))
    return out


def format_amount(minor: int, currency: str = "USD") -> str:
    """Minor units as a plain decimal string with the currency's digits ("1234.50")."""
    return f"{from_minor(minor, currency):f}"
