"""The errors billxl raises, and nothing else.

::

    BillxlError                  anything billxl refuses to do, said in words a secretary reads
     +-- InputError              a file or sheet that cannot be taken as it is; carries every
     |                           problem found (file, sheet, row as the user sees it, column,
     |                           value, reason), never just the first
     +-- LedgerError             the ledger refused: a broken invariant, an unknown key, a
                                 schema that is not at the expected version

Problems in *entries* (a vague narrative, a wrong rate) are not errors: they are findings,
returned as data by the rules. Exceptions are for input that cannot be read at all and for
invariants that must never break.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cell (or row, or file) of an input."""

    file: str
    row: int | None  # row number as the user sees it in the spreadsheet or editor (1 = header)
    column: str | None
    value: str | None
    reason: str
    sheet: str | None = None

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.where()}: {self.reason}{shown}"

    def as_dict(self) -> dict:
        return asdict(self)


class BillxlError(Exception):
    """Base of every error billxl raises on purpose."""


class InputError(BillxlError):
    """An input file that cannot be imported; ``problems`` lists everything wrong with it."""

    def __init__(self, summary: str, problems: list[Problem] | None = None):
        self.summary = summary
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.problems:
            return self.summary
        shown = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return f"{self.summary}\n{shown}{tail}"


class LedgerError(BillxlError):
    """The ledger refused a change, or is not in a state billxl can work with."""
