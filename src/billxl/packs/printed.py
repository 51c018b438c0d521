"""How a pack prints each value: one printed form per kind, the same in every output.

The HTML tables (:mod:`billxl.packs.render`), the XLSX pack's column widths
(:mod:`billxl.packs.xlsx`) and the charts' labels (:mod:`billxl.packs.charts`) all print
through :func:`cell_text`, from the :class:`~billxl.packs.tables.Table`'s exact values:

* **money**: the currency's own minor digits (JPY none, KWD three), thousands separated, as the
  firm's ``documents.yaml`` ``numbers`` section says (the invoices' style). Negative amounts
  carry a leading minus sign (``numbers.minus``), never parentheses: one style in every pack
  and every document. A table that shows its ``currency`` column prints plain amounts
  ("1,234.50"); one that does not prints the currency's symbol ("£1,234.50").
* **hours**: one decimal place, or two in a column that holds a value not in tenths (rounded
  half up for print only).
* **ratio**: a percentage to one place (0.8750 is "87.5%"); **days**: whole days;
  **count**: whole numbers; **date**: the firm's short date ("05 Oct 2026").
* A missing number (``None``: a ratio over nothing) is an en dash; missing text is blank.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from billxl import money
from billxl.documents.formatting import Formats
from billxl.documents.settings import settings, template_dir
from billxl.packs.tables import Column, Pack, Table

DASH = "\u2013"  # en dash: a number that is not defined (a ratio over nothing)
NUMERIC = ("money", "hours", "ratio", "days", "count")

_TENTH = Decimal("0.1")
_HUNDREDTH = Decimal("0.01")


@functools.cache
def _formats(folder: Path) -> Formats:
    return Formats(settings(folder))


def formats() -> Formats:
    """The firm's printing conventions (``documents.yaml``), as invoices use them."""
    return _formats(template_dir())


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or other container is a value
        return False


def _number(value: Decimal, places: int) -> str:
    f = formats()
    text = f"{abs(value):,.{places}f}"
    if f.thousands != "," or f.decimal != ".":
        text = text.replace(",", "\0").replace(".", f.decimal).replace("\0", f.thousands)
    return (f.minus if value < 0 else "") + text


def hours_places(milli: list) -> int:
    """Places a column of hours (integer thousandths) needs: 1 when every value is in tenths,
    else 2."""
    return 1 if all(int(v) % 100 == 0 for v in milli if not is_missing(v)) else 2


def cell_text(kind: str, value: Any, *, currency: str | None = None, symbol: bool = False,
              places: int | None = None) -> str:
    """A value of a column ``kind`` as a pack prints it (see the module's note)."""
    if is_missing(value):
        return DASH if kind in NUMERIC else ""
    if kind == "money":
        amount = formats().amount(int(value), str(currency))
        return amount.text if symbol else amount.plain
    if kind == "hours":
        places = hours_places([value]) if places is None else places
        exact = money.milli_to_qty(int(value))
        return _number(exact.quantize(_TENTH if places == 1 else _HUNDREDTH, ROUND_HALF_UP),
                       places)
    if kind == "ratio":
        pct = (money.D(value) * 100).quantize(_TENTH, ROUND_HALF_UP)
        return _number(pct, 1) + "%"
    if kind == "days":
        return _number(money.D(value).quantize(Decimal(1), ROUND_HALF_UP), 0)
    if kind == "count":
        return _number(Decimal(int(value)), 0)
    if kind == "date":
        return formats().date(value, short=True)
    return str(value)


def row_kinds(table: Table, column: Column) -> list[str]:
    """The kind of each of a column's cells (a ``by_row`` column's come from ``_kind``)."""
    if column.kind == "by_row":
        return [str(k) for k in table.frame["_kind"]]
    return [column.kind] * len(table.frame)


def column_places(table: Table, column: Column) -> list[int | None]:
    """Per cell, the places of an hours value (one per column, or per row for ``by_row``)."""
    kinds = row_kinds(table, column)
    values = table.frame[column.name].tolist()
    if column.kind == "hours":
        return [hours_places(values)] * len(values)
    return [hours_places([v]) if k == "hours" and not is_missing(v) else None
            for k, v in zip(kinds, values, strict=True)]


def shows_currency(table: Table) -> bool:
    """Whether the table shows its currency column (then amounts are printed without symbol)."""
    return any(c.name == "currency" for c in table.columns)


def total_rows(table: Table) -> list[bool]:
    if "_total" not in table.frame:
        return [False] * len(table.frame)
    return [bool(v) and not is_missing(v) for v in table.frame["_total"]]


def empty_sentence(table: Table) -> str:
    """What an empty table says, from its title: "No write-offs this month." ("None this
    month." when the title names the month already; "Largest" and "Top" are dropped)."""
    title = table.title.strip()
    if "month" in title.lower():
        return "None this month."
    for word in ("Largest ", "Top "):
        title = title.removeprefix(word)
    if len(title) > 1 and title[1].islower():
        title = title[0].lower() + title[1:]
    return f"No {title} this month."


def _month_name(month: str) -> str:
    year, number = month.split("-")
    return formats().date(f"{year}-{number}-01").split(" ", 1)[1]  # "October 2026"


def running_title(pack: Pack) -> str:
    """The line every printed page's footer repeats: the pack, whose it is, the month (what
    the pack's title does not already say)."""
    parts = [pack.title]
    for part in (pack.scope_name or pack.firm, _month_name(pack.month)):
        if part not in pack.title:
            parts.append(part)
    return " \u00b7 ".join(parts)


SCOPES = {"firm": "Whole firm", "partner": "Billing partner", "client": "Client",
          "office": "Office"}


def scope_line(pack: Pack) -> tuple[str, str]:
    """Whose pack it is: the kind of scope ("Billing partner") and the name with its id."""
    who = pack.scope_name or pack.firm
    ident = f" ({pack.scope_id})" if pack.scope_id else ""
    return SCOPES.get(pack.scope, pack.scope.title()), who + ident


def period_line(pack: Pack) -> str:
    """The month and the date balances and ages are on."""
    return (f"{_month_name(pack.month)} \u00b7 balances and ages as of "
            f"{formats().date(pack.as_of)}")


def cover_lines(pack: Pack) -> list[str]:
    """The cover as plain lines (the XLSX pack's Contents sheet): firm, whose, the period."""
    kind, who = scope_line(pack)
    return [pack.firm, f"{kind}: {who}", period_line(pack)]


__all__ = ["DASH", "NUMERIC", "SCOPES", "cell_text", "column_places", "cover_lines",
           "empty_sentence", "formats", "hours_places", "is_missing", "period_line",
           "row_kinds", "running_title", "scope_line", "shows_currency", "total_rows"]
