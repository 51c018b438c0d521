"""A pack's tables: typed frames with a column spec, the one thing every pack output reads.

A :class:`Table` holds exact values — money as integer minor units beside a currency column,
hours as integer thousandths, ratios and days as Decimals (``None`` where undefined) — and a
:class:`Column` per shown column saying what kind of value it is. The notebook's HTML, the PDF
made from it and the XLSX pack are all written from the same :class:`Table`, each formatting
the same numbers its own way, so that they cannot disagree with each other or with the ledger.

Money is never summed across currencies: a table with money has a ``currency`` column and its
total rows (``_total`` true) are one per currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

#: What a column may hold (and so how each output formats it).
KINDS = ("text", "date", "money", "hours", "ratio", "days", "count", "by_row")


@dataclass(frozen=True)
class Column:
    """One shown column: ``name`` in the frame, its ``label`` and its ``kind`` (:data:`KINDS`).

    ``by_row``: each row says its own kind in the frame's ``_kind`` column (a headline table
    whose rows are money, hours, ratios and days under the same "This month" heading).
    """

    name: str
    label: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: kind {self.kind!r} is not one of {KINDS}")


@dataclass
class Table:
    """A titled table of a pack.

    ``frame`` holds the values (see the module's note); a bool column ``_total`` marks total
    rows. ``note`` says what the figures are and which date drives them.
    """

    key: str  # short and unique in its pack; the XLSX sheet and the HTML anchor
    title: str
    columns: tuple[Column, ...]
    frame: pd.DataFrame
    note: str = ""

    def __post_init__(self) -> None:
        missing = [c.name for c in self.columns if c.name not in self.frame.columns]
        if missing:
            raise ValueError(f"table {self.key!r}: no column {', '.join(missing)} in its frame")
        if any(c.kind == "by_row" for c in self.columns) and "_kind" not in self.frame:
            raise ValueError(f"table {self.key!r} has by_row columns but no _kind column")
        if any(c.kind == "money" for c in self.columns) and "currency" not in self.frame:
            raise ValueError(f"table {self.key!r} has money but no currency column")

    @property
    def empty(self) -> bool:
        return self.frame.empty


@dataclass
class Pack:
    """One pack: who it is for, the period it covers, and its tables in reading order."""

    kind: str  # monthly, reconciliation, collections
    title: str
    firm: str
    month: str  # YYYY-MM
    as_of: date  # the month's last day: balances and ages are on it
    scope: str  # firm, partner, client or office
    scope_id: str  # blank for the firm
    scope_name: str
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, table: Table) -> Table:
        if table.key in self.tables:
            raise ValueError(f"pack already has a table {table.key!r}")
        self.tables[table.key] = table
        return table


__all__ = ["KINDS", "Column", "Pack", "Table"]
