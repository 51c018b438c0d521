"""Findings about LEDES files: the catalogue of checks, and how one finding looks.

A finding says where (``line`` as numbered in the file, the ``invoice`` and the ``field`` as
the file names it), what (``rule``, a stable id from :data:`CHECKS`, and its ``severity``) and
why, in words (``message``), with a ``suggestion`` for the fix. Checks never raise on a bad
value: they return findings. Only a file that is not LEDES at all is an error
(:class:`NotLedesError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from billxl.errors import InputError

__all__ = ["FINDING_COLUMNS", "SEVERITIES", "Check", "CHECKS", "NotLedesError", "found",
           "no_findings", "combine"]

FINDING_COLUMNS = ["line", "invoice", "field", "rule", "severity", "message", "suggestion"]
SEVERITIES = ("error", "warning", "info")


class NotLedesError(InputError):
    """The file is not a LEDES file billxl can read (says what it looks like instead)."""


@dataclass(frozen=True)
class Check:
    id: str
    severity: str
    group: str  # structure, format, arithmetic, consistency, utbms, dates, portal, schema
    description: str


def _checks(*rows: tuple[str, str, str, str]) -> dict[str, Check]:
    return {r[0]: Check(*r) for r in rows}


#: Every check, by its stable id, in the order findings of one line are listed.
CHECKS: dict[str, Check] = _checks(
    ("HEADER", "error", "structure", "the first line names the format (LEDES1998B[])"),
    ("FIELD_NAMES", "error", "structure", "the second line lists the format's fields in order"),
    ("FIELD_COUNT", "error", "structure", "every line has the format's number of fields"),
    ("TERMINATOR", "error", "structure", "every line ends with []"),
    ("TRUNCATED", "error", "structure", "the file does not stop in the middle of a line"),
    ("BLANK_LINE", "warning", "structure", "no blank lines between line items"),
    ("NO_LINES", "error", "structure", "the file has at least one line item"),
    ("ENCODING", "error", "structure", "the bytes are valid in the file's encoding"),
    ("SCHEMA", "error", "structure", "an XML file is valid against the LEDES XML 2.1 schema"),
    ("REQUIRED", "error", "format", "required fields are not blank"),
    ("TIMEKEEPER_REQUIRED", "error", "format",
     "fee lines name their timekeeper: id, name and classification"),
    ("UNIT_COST_REQUIRED", "error", "format",
     "every line but an invoice-level adjustment (IF, IE) has a unit cost"),
    ("ACCOUNT_TYPE", "error", "format", "ACCOUNT_TYPE is O (operating) or T (trust)"),
    ("CLASSIFICATION_UNKNOWN", "warning", "format",
     "timekeeper classifications are LEDES codes billxl knows"),
    ("DATE", "error", "format", "dates are real dates written YYYYMMDD"),
    ("NUMBER", "error", "format", "numbers are plain decimals within the field's size"),
    ("PRECISION", "error", "format", "amounts have no more decimals than the currency"),
    ("LENGTH", "error", "format", "text fits the field's length"),
    ("LINE_TYPE", "error", "format", "line types are F, E, IF or IE"),
    ("CURRENCY", "error", "format", "currencies are ISO 4217 codes"),
    ("LINE_NUMBER_REPEATED", "error", "consistency", "line item numbers are unique per invoice"),
    ("LINE_TOTAL", "error", "arithmetic",
     "LINE_ITEM_TOTAL = UNITS x UNIT_COST + ADJUSTMENT (+ line tax in 98BI)"),
    ("INVOICE_TOTAL", "error", "arithmetic", "INVOICE_TOTAL is the sum of the invoice's lines"),
    ("INVOICE_TOTAL_VARIES", "error", "arithmetic", "INVOICE_TOTAL is the same on every line"),
    ("TAX_TOTAL", "error", "arithmetic", "INVOICE_TAX_TOTAL is the sum of the lines' tax"),
    ("NET_TOTAL", "error", "arithmetic", "INVOICE_NET_TOTAL = INVOICE_TOTAL - INVOICE_TAX_TOTAL"),
    ("LINE_TAX", "error", "arithmetic", "line tax = (line total before tax) x tax rate"),
    ("TAX_RATE", "error", "format", "tax rates are fractions between 0 and 1 (0.2 for 20%)"),
    ("INVOICE_VALUE_VARIES", "error", "consistency",
     "one invoice date, client, matter, billing period and firm per invoice"),
    ("MATTER_CLIENT_VARIES", "warning", "consistency",
     "one client per matter (several only when the matter is split-billed)"),
    ("TIMEKEEPER_VARIES", "warning", "consistency", "one name and classification per timekeeper"),
    ("UTBMS_CODE", "error", "utbms", "UTBMS codes are codes of the set (and not phase headings)"),
    ("UTBMS_UNKNOWN_SET", "warning", "utbms", "codes from a set billxl does not know"),
    ("UTBMS_LINE_TYPE", "warning", "utbms", "task codes on fee lines, expense codes on expenses"),
    ("BILLING_PERIOD", "error", "dates", "the billing period starts before it ends"),
    ("LINE_DATE_OUTSIDE_PERIOD", "error", "dates", "line dates fall inside the billing period"),
    ("LINE_DATE_AFTER_INVOICE", "warning", "dates", "no line is dated after its invoice"),
    ("PORTAL_FORMAT", "error", "portal", "the portal takes this format"),
    ("PORTAL_ENCODING", "warning", "portal", "the file is in the encoding the portal reads"),
    ("PORTAL_REQUIRED", "error", "portal", "fields the portal requires are filled in"),
    ("PORTAL_TIMEKEEPER_NAME", "error", "portal", "timekeeper names are written 'Last, First'"),
    ("PORTAL_INVOICE_DESCRIPTION", "error", "portal",
     "the same INVOICE_DESCRIPTION on every line of an invoice"),
    ("PORTAL_DESCRIPTION_LENGTH", "error", "portal", "descriptions within the portal's limit"),
    ("PORTAL_NEGATIVE_UNITS", "error", "portal", "no negative units"),
    ("PORTAL_IF_LINES", "error", "portal", "at most the portal's number of IF lines"),
    ("PORTAL_FLAT_FEE_AS_IF", "error", "portal", "flat fees are IF lines, not fee lines"),
    ("PORTAL_FLAT_FEE_STYLE", "error", "portal",
     "IF/IE lines carry their amount as the portal wants (unit cost or adjustment)"),
    ("PORTAL_UTBMS_REQUIRED", "error", "portal", "fee lines carry task and activity codes, "
                                                 "expense lines expense codes"),
    ("PORTAL_CLASSIFICATION", "error", "portal", "timekeeper classifications the portal knows"),
)

_ORDER = {rule: i for i, rule in enumerate(CHECKS)}


_EMPTY = pd.DataFrame({"line": pd.Series(dtype=np.int64),
                       **{c: pd.Series(dtype=object) for c in FINDING_COLUMNS[1:]}})


def no_findings() -> pd.DataFrame:
    """An empty findings frame (a shallow copy: cheap, and safe to assign to)."""
    return _EMPTY.copy(deep=False)


def found(rule: str, lines, field: str, message, suggestion="", invoice="") -> pd.DataFrame:
    """Findings of one check: ``lines`` (an array) with a message each (or one for all)."""
    lines = np.asarray(lines, dtype=np.int64).reshape(-1)
    n = len(lines)
    if n == 0:
        return no_findings()

    def column(value) -> np.ndarray:
        if isinstance(value, str):
            return np.full(n, value, dtype=object)
        return np.asarray(value, dtype=object).reshape(-1)

    return pd.DataFrame({"line": lines, "invoice": column(invoice), "field": column(field),
                         "rule": rule, "severity": CHECKS[rule].severity,
                         "message": column(message), "suggestion": column(suggestion)})


def combine(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Findings in file order: by line, then by the order of the checks."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return no_findings()
    out = pd.concat(parts, ignore_index=True)
    order = out["rule"].map(_ORDER).fillna(len(_ORDER))
    out = out.assign(_order=order).sort_values(["line", "_order"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)
