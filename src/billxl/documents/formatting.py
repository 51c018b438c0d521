"""How numbers, dates and percentages are printed on documents, per the firm's settings.

An amount reaches a template as an :class:`Amount`: the exact ``value`` (Decimal), the integer
``minor`` units, and two printed forms, ``plain`` ("1,234.50", for table columns headed by the
currency) and ``text`` ("£1,234.50", for totals); ``{{ amount }}`` prints ``text``. Nothing is
rounded here: the ledger's minor units are printed with the currency's own digits.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from billxl import money

DEFAULT_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "AUD": "A$", "CAD": "C$",
                   "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "INR": "₹"}


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount as a template needs it: exact and printed."""

    minor: int
    currency: str
    value: Decimal
    plain: str
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_negative(self) -> bool:
        return self.minor < 0


class Formats:
    """The firm's printing conventions (``numbers``, ``dates`` and ``currency_symbols``)."""

    def __init__(self, settings: dict[str, Any]):
        numbers = settings.get("numbers") or {}
        self.thousands = str(numbers.get("thousands", ","))
        self.decimal = str(numbers.get("decimal", "."))
        self.minus = str(numbers.get("minus", "-"))
        dates = settings.get("dates") or {}
        self.date_pattern = str(dates.get("format", "{day} {month_name} {year}"))
        self.short_pattern = str(dates.get("short", "{dd} {month_abbr} {year}"))
        self.symbols = {**DEFAULT_SYMBOLS, **(settings.get("currency_symbols") or {})}

    # ------------------------------------------------------------------ numbers
    def _number(self, value: Decimal, places: int) -> str:
        text = f"{abs(value):,.{places}f}"
        if self.thousands != "," or self.decimal != ".":
            text = text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.thousands)
        return text

    def symbol(self, currency: str) -> str:
        return self.symbols.get(currency.upper(), currency.upper() + " ")

    def amount(self, minor: int, currency: str) -> Amount:
        minor = int(minor)
        value = money.from_minor(minor, currency)
        digits = money.minor_digits(currency)
        body = self._number(value, digits)
        sign = self.minus if minor < 0 else ""
        return Amount(minor=minor, currency=currency, value=value, plain=f"{sign}{body}",
                      text=f"{sign}{self.symbol(currency)}{body}")

    def hours(self, milli: int) -> str:
        """Hours with two decimals, three when the third is used (1.25, 0.10, 1.125)."""
        value = money.milli_to_qty(int(milli))
        places = 3 if int(milli) % 10 else 2
        sign = self.minus if value < 0 else ""
        return f"{sign}{self._number(value, places)}"

    def quantity(self, milli: int) -> str:
        """A unit count: whole numbers without decimals (3), others as exact as stored (2.5)."""
        value = money.milli_to_qty(int(milli)).normalize()
        places = max(0, -value.as_tuple().exponent)
        sign = self.minus if value < 0 else ""
        return f"{sign}{self._number(value, places)}"

    @staticmethod
    def percent(text: Any) -> str:
        """A percentage as written in the ledger ("20", "20.00", "7.5") printed as 20% / 7.5%."""
        value = money.D(str(text)).normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
        return f"{value:f}%"

    # ------------------------------------------------------------------ dates
    def date(self, value: Any, short: bool = False) -> str:
        d = to_date(value)
        if d is None:
            return ""
        return (self.short_pattern if short else self.date_pattern).format(
            day=d.day, dd=f"{d.day:02d}", month=f"{d.month:02d}", month_name=calendar.month_name[d.month],
            month_abbr=calendar.month_abbr[d.month], year=d.year)

    def period(self, start: Any, end: Any, joiner: str = " to ") -> str:
        s, e = to_date(start), to_date(end)
        if s and e:
            return f"{self.date(s)}{joiner}{self.date(e)}"
        return self.date(s or e)


def to_date(value: Any) -> date | None:
    """A date from a date, datetime, Timestamp or ISO text; None for missing values."""
    if value is None or (not isinstance(value, str | date) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
