"""``billxl check``: a file of entries against the billing rules, without a ledger.

Where an import refuses a file with one bad row (all or nothing), a check reports: every
problem of a readable file is a finding with its row number, beside the rules' findings on the
rows that can be read. Only a file that cannot be read as entries at all is refused (not a
table; a column the profile needs is missing or twice there).

* A problem that a billing rule reports too is left to that rule, in its words: hours of zero
  or less or missing are ``NEGATIVE_HOURS``, more than 24 hours ``DAILY_MAX``, a code that is not
  a UTBMS code ``UTBMS_INVALID`` (:data:`billxl.intake.RULE_OF_PROBLEM`). The row is checked.
* A value that was read but is not allowed (a negative rate or amount, a quantity of 0) is an
  :data:`INVALID_VALUE` finding, severity error; the row is checked by the rules too.
* Any other problem (a date that is not a date, hours that are not a number, an unknown type,
  an entry id twice) is a :data:`ROW_UNREADABLE` finding, severity error, on the file's column;
  the rules leave that row alone, since its values cannot be trusted.
* A cell that held characters that do not show (a right-to-left override, a control character,
  a zero-width space: :data:`billxl.cells.HIDDEN`) is read without them and is a
  :data:`HIDDEN_CHARACTERS` finding, severity warning, naming them; the row is checked.

Neither is a rule of :mod:`billxl.rules` (guidelines cannot turn them off): they are what an
import of the file would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from billxl.errors import Problem
from billxl.intake import HOURS_MISSING, RULE_OF_PROBLEM, VALUE_PROBLEMS, Profile, read_entries
from billxl.rules import FINDING_COLUMNS, Guidelines, check_entries, check_expenses

__all__ = ["ROW_UNREADABLE", "INVALID_VALUE", "HIDDEN_CHARACTERS", "CHECK_COLUMNS", "FileCheck", "check_file"]

#: The finding of a cell that cannot be read (the rules do not check its row).
ROW_UNREADABLE = "ROW_UNREADABLE"
#: The finding of a value that was read but is not allowed (its row is checked).
INVALID_VALUE = "INVALID_VALUE"
#: The finding of a cell read without characters that do not show (bidirectional overrides,
#: control characters, zero-width spaces: :data:`billxl.cells.HIDDEN`); a warning, the row is
#: checked and an import takes the text without them.
HIDDEN_CHARACTERS = "HIDDEN_CHARACTERS"
_FIX_SUGGESTION = ("Correct this row in the file (or the profile's settings) and check again; "
                   "an import refuses the file until then")
_HIDDEN_SUGGESTION = ("Nothing to do unless the text reads wrong: billxl keeps it without "
                      "these characters; remove them at the source to stop this warning")
#: The columns of a check's findings: the row of the file, then those of every finding.
CHECK_COLUMNS = ["row", *FINDING_COLUMNS]
_RUNS = {"time": check_entries, "expenses": check_expenses}
_VERBS = ("is ", "has ", "should ", "must ")  # a reason that reads after the value


@dataclass
class FileCheck:
    """What :func:`check_file` found: findings in row order (:data:`CHECK_COLUMNS`) and notes
    (rules skipped, and why)."""

    file: str
    findings: pd.DataFrame
    notes: list[str]
    rows: int  # entries read, of every kind
    unreadable: int  # rows the rules did not check (each has a ROW_UNREADABLE finding)

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())


def check_file(path: str | Path, profile: str | Path | Profile = "canonical", *,
               guidelines: Guidelines | None = None, period: tuple[date, date] | None = None,
               currency: str = "USD", sheet: str | None = None) -> FileCheck:
    """Check every entry of a time or expense file (any layout a profile reads) against the
    billing rules and report the problems of its rows as findings (see the module's text).

    Raises InputError only for a file that cannot be read as entries at all.
    """
    checked = read_entries(path, "all", profile, currency=currency, sheet=sheet, refuse=False)
    covered = [p for p in checked.problems if p.reason in RULE_OF_PROBLEM]
    invalid = [p for p in checked.problems if p.reason in VALUE_PROBLEMS]
    unreadable = [p for p in checked.problems
                  if p.reason not in RULE_OF_PROBLEM and p.reason not in VALUE_PROBLEMS]
    skip = {p.row for p in unreadable}
    blank_hours = {p.row for p in covered if p.reason == HOURS_MISSING}
    parts, notes, ran, entry_of_row = [], [], set(), {}
    for kind, frame in checked.frames.items():
        entry_of_row.update(zip(frame["row"], frame["entry_id"], strict=True))
        readable = frame[~frame["row"].isin(skip)]
        if blank_hours:  # missing, not zero: NEGATIVE_HOURS says so
            readable = readable.assign(hours_milli=readable["hours_milli"].astype("Int64").mask(
                readable["row"].isin(blank_hours)))
        result = _RUNS[kind](readable, guidelines=guidelines, period=period)
        row_of = dict(zip(readable["entry_id"], readable["row"], strict=True))
        parts.append(result.findings.assign(row=result.findings["entry_id"].map(row_of)))
        notes += result.notes
        ran.update(result.rules_run)
    # a problem whose rule was turned off is still what an import refuses
    invalid += [p for p in covered if RULE_OF_PROBLEM[p.reason] not in ran]
    parts += [_row_findings(ROW_UNREADABLE, unreadable, entry_of_row),
              _row_findings(INVALID_VALUE, invalid, entry_of_row),
              _row_findings(HIDDEN_CHARACTERS, list(checked.raw.hidden), entry_of_row,
                            severity="warning", suggestion=_HIDDEN_SUGGESTION)]
    findings = pd.concat([p for p in parts if len(p)] or parts[-1:], ignore_index=True)
    findings["row"] = findings["row"].astype("Int64")
    findings = findings.sort_values("row", kind="stable").reset_index(drop=True)[CHECK_COLUMNS]
    unread = {p.row for p in unreadable}
    return FileCheck(file=str(path), findings=findings, notes=list(dict.fromkeys(notes)),
                     rows=sum(len(f) for f in checked.frames.values()),
                     unreadable=len(unread))


def _row_findings(rule: str, problems: list[Problem], entry_of_row: dict, *,
                  severity: str = "error", suggestion: str = _FIX_SUGGESTION) -> pd.DataFrame:
    return pd.DataFrame({
        "row": pd.array([p.row for p in problems], dtype="Int64"),
        "rule": rule,
        "severity": severity,
        "entry_id": [entry_of_row.get(p.row) or "" for p in problems],
        "field": [p.column or "" for p in problems],
        "message": [_message(p) for p in problems],
        "suggestion": suggestion,
    }, columns=CHECK_COLUMNS).astype({c: "string" for c in FINDING_COLUMNS})


def _message(p: Problem) -> str:
    if p.value is not None and p.reason.startswith(_VERBS):
        return f"{p.value!r} {p.reason}"
    said = p.reason[:1].upper() + p.reason[1:]
    return said if p.value is None else f"{said} ({p.value!r})"
