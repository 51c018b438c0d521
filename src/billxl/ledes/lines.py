"""A LEDES file once read, whatever its format: :class:`LedesFile`, and :func:`typed_lines`,
which turns the text of its fields into the canonical frame of line items.

Shared by the pipe formats' reader (:mod:`.parser`) and the XML 2.1 reader (:mod:`.xml21`),
which describe their fields with the same :class:`~billxl.ledes.formats.Field` records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from billxl import money
from billxl.ledes.findings import combine, found, no_findings
from billxl.ledes.formats import (
    DATE_COLUMNS,
    INT_COLUMNS,
    LINE_COLUMNS,
    LINE_TYPES,
    TEXT_COLUMNS,
    Field,
)
from billxl.ledes.values import POW10, format_scaled, parse_dates, parse_decimals

__all__ = ["SCALE", "LedesFile", "typed_lines"]

SCALE = 4  # numbers are compared at 10**-4 (LEDES allows 4 decimals on units and unit costs)


@dataclass
class LedesFile:
    """A LEDES file as read: its line items in the canonical frame, and what reading found.

    ``lines`` has :data:`~billxl.ledes.formats.LINE_COLUMNS` (amounts in minor units of each
    line's currency, quantities in thousandths, ``amount_minor`` the line before tax);
    ``raw`` the same text columns exactly as written (for messages); ``exact`` the numbers at
    10**-4 (units, costs and tax percentages may carry more precision than minor units);
    ``labels`` the name each column has in this file (``LINE_ITEM_TOTAL``, ``fee/total_amount``).
    """

    format: str
    encoding: str
    name: str
    lines: pd.DataFrame
    raw: pd.DataFrame
    exact: dict[str, np.ndarray]
    digits: np.ndarray
    labels: dict[str, str]
    findings: pd.DataFrame
    unreadable: dict[str, np.ndarray] = field(default_factory=dict)  # column -> bad values
    unchecked_invoices: frozenset[str] = frozenset()
    last_line: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def invoices(self) -> pd.DataFrame:
        """One row per invoice: number, client, date, currency and its totals (minor units)."""
        lines = self.lines
        if lines.empty:
            return pd.DataFrame(columns=["invoice_number", "client_id", "invoice_date",
                                         "currency", "lines", "total_minor", "tax_minor"])
        grouped = lines.groupby("invoice_number", sort=False)
        return pd.DataFrame({
            "client_id": grouped["client_id"].first(),
            "invoice_date": grouped["invoice_date"].first(),
            "currency": grouped["currency"].first(),
            "lines": grouped.size(),
            "total_minor": grouped["invoice_total_minor"].first(),
            "tax_minor": grouped["tax_minor"].sum(),
        }).reset_index()


# =================================================================================== typing
def typed_lines(raw: pd.DataFrame, fields: list[Field], line_numbers: np.ndarray,
                labels: dict[str, str], *, currency: str = "USD",
                widths: np.ndarray | None = None, has_currency: bool = True,
                has_tax: bool = True) -> tuple[pd.DataFrame, dict, np.ndarray, pd.DataFrame,
                                               dict]:
    """Text columns to the canonical frame, with findings for values that do not read.

    Shared by the pipe formats and XML (whose elements are described by the same
    :class:`Field` records). ``widths`` (bytes per field, from the pipe layout) saves
    measuring every text for the length checks.
    """
    n = len(raw)
    findings = []
    line_no = np.asarray(line_numbers, dtype=np.int64)
    out: dict[str, np.ndarray] = {"line": line_no}
    invoice = raw["invoice_number"].to_numpy(dtype=object) if "invoice_number" in raw else \
        np.full(n, "", dtype=object)

    # the currency first: it decides the minor units of every amount on the line
    if has_currency and "currency" in raw:
        written = raw["currency"].to_numpy(dtype=object)
        codes, uniques = pd.factorize(written)
        upper = np.array([u.strip().upper() for u in uniques], dtype=object)
        well_formed = np.array([bool(re.fullmatch(r"[A-Z]{3}", u)) for u in upper], dtype=bool)
        currency_of = upper[codes] if n else np.zeros(0, dtype=object)
        ok_of = well_formed[codes] if n else np.zeros(0, dtype=bool)
    else:
        uniques = np.array([currency.upper()], dtype=object)
        upper, well_formed = uniques, np.array([True])
        codes = np.zeros(n, dtype=np.int64)
        currency_of, ok_of = np.full(n, currency.upper(), dtype=object), np.ones(n, dtype=bool)
    digits = np.array([money.minor_digits(u) if ok else 2 for u, ok in
                       zip(upper, well_formed, strict=True)], dtype=np.int64)[codes] \
        if n else np.zeros(0, dtype=np.int64)
    out["currency"] = currency_of

    def add(rule, mask, field_name, message, suggestion="", values=None):
        """Findings where ``mask``; ``message`` may name the {value} and the {currency}."""
        if not mask.any():
            return
        rows = np.flatnonzero(mask)
        if "{" in message:
            shown = values[rows].tolist() if values is not None else [""] * len(rows)
            message = [message.format(value=repr(v), currency=c) for v, c in
                       zip(shown, currency_of[rows].tolist(), strict=True)]
        findings.append(found(rule, line_no[rows], field_name, message, suggestion,
                              invoice[rows]))

    if has_currency and "currency" in raw:
        add("CURRENCY", ~ok_of & (currency_of != ""), labels.get("currency", "currency"),
            "The currency {value} is not an ISO 4217 code.",
            "Write a three-letter code such as USD, EUR or GBP.", raw["currency"].to_numpy())

    exact: dict[str, np.ndarray] = {}
    unreadable: dict[str, np.ndarray] = {}
    for position, f in enumerate(fields):
        if f.column not in raw or f.column == "currency":
            continue
        label = labels.get(f.column, f.name)
        text = raw[f.column].to_numpy(dtype=object)
        blank = text == "" if n else np.zeros(0, dtype=bool)
        if f.required:
            add("REQUIRED", blank, label, f"{label} is blank; the format requires it.",
                f"Fill in {label}.")
        if f.kind == "date":
            dates, ok, is_blank = parse_dates(text)
            add("DATE", ~ok & ~is_blank, label, label + " {value} is not a date written "
                "YYYYMMDD.", "Write the date as YYYYMMDD, e.g. 20261031.", text)
            out[f.column] = dates.astype("datetime64[ns]")
            unreadable[f.column] = ~ok & ~is_blank
        elif f.kind in ("amount", "units", "rate", "percent"):
            scale = 6 if f.kind == "rate" else SCALE  # a fraction at 10**-6 = a percent at 10**-4
            parsed = parse_decimals(text, digits=scale)
            add("NUMBER", ~parsed.valid & ~parsed.blank & ~parsed.oversized, label, label +
                " {value} is not a number.", "Write a plain decimal number such as 1250.00 (no "
                "thousands separators).", text)
            add("NUMBER", (parsed.valid | parsed.oversized) & (parsed.int_digits > f.int_digits),
                label,
                label + " {value} has more than " f"{f.int_digits} digits before the point.",
                "Check the amount.", text)
            value = np.where(parsed.valid, parsed.value, 0)
            exact[f.column] = value
            unreadable[f.column] = ~parsed.valid & ~parsed.blank
            if f.kind in ("rate", "percent"):
                add("PRECISION", parsed.valid & ~parsed.exact, label,
                    label + f" {{value}} has more than {scale} decimals.", "Round the rate.",
                    text)
                out[f.column] = value  # percent at 10**-4 either way
                continue
            add("PRECISION", parsed.valid & ~parsed.exact, label,
                label + " {value} has more than 4 decimals.", "Round it to at most 4 decimals.",
                text)
            if f.kind == "units":
                out[f.column] = _round_half_up(value, 10)  # thousandths
                continue
            step = POW10[SCALE - np.minimum(digits, SCALE)]
            if f.column != "unit_minor":  # unit costs may have 4 decimals; amounts may not
                add("PRECISION", parsed.valid & parsed.exact & (value % step != 0), label,
                    label + " {value} has more decimals than the currency ({currency}) has.",
                    "Round the amount to the currency's minor unit (cents).", text)
            out[f.column] = _round_half_up(value, step)
        elif f.kind == "type":
            codes_t, uniques_t = pd.factorize(text)
            clean = np.array([u.strip() for u in uniques_t], dtype=object)
            stripped = clean[codes_t] if n else np.zeros(0, dtype=object)
            add("LINE_TYPE", ~np.isin(stripped, LINE_TYPES) & ~blank, label,
                label + " {value} is not F, E, IF or IE.",
                "Use F (fee), E (expense), IF (invoice-level fee) or IE (invoice-level expense).",
                text)
            out[f.column] = stripped
        else:
            if f.length is not None and n:
                width = widths[:, position] if widths is not None else \
                    np.fromiter(map(len, text), dtype=np.int64, count=n)
                maybe = np.flatnonzero(width > f.length)
                if len(maybe):  # bytes over the limit: count the characters
                    chars = np.fromiter(map(len, text[maybe]), dtype=np.int64, count=len(maybe))
                    counted = np.zeros(n, dtype=object)
                    counted[maybe] = chars
                    mask = np.zeros(n, dtype=bool)
                    mask[maybe[chars > f.length]] = True
                    add("LENGTH", mask, label, label + " has {value} characters; the format "
                        f"allows {f.length}.", f"Shorten {label} to {f.length} characters.",
                        counted)
            out[f.column] = text

    blank_text = np.full(n, "", dtype=object)
    for column in TEXT_COLUMNS:
        out.setdefault(column, blank_text)
    if "tax_percent" in raw:
        out["tax_percent"] = format_scaled(out["tax_percent"], SCALE)
    else:
        out["tax_percent"] = np.full(n, "0", dtype=object)
        exact["tax_percent"] = np.zeros(n, dtype=np.int64)
    no_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    for column in DATE_COLUMNS:
        out.setdefault(column, no_date)
    zeros = np.zeros(n, dtype=np.int64)
    for column in INT_COLUMNS:
        out.setdefault(column, zeros)
        exact.setdefault(column, zeros)
    # the line's own amount before tax, as the ledger keeps it
    if has_tax:
        out["amount_minor"] = out["line_total_minor"] - out["tax_minor"]
        exact["amount_minor"] = exact["line_total_minor"] - exact["tax_minor"]
    else:
        out["amount_minor"] = out["line_total_minor"]
        exact["amount_minor"] = exact["line_total_minor"]
        out["invoice_net_minor"] = out["invoice_total_minor"]
        exact["invoice_net_minor"] = exact["invoice_total_minor"]
    lines = pd.DataFrame({c: pd.Series(out[c], copy=False,
                                       dtype=object if out[c].dtype == object else None)
                          for c in LINE_COLUMNS}, copy=False)
    return lines, exact, digits, combine(findings) if findings else no_findings(), unreadable


def _round_half_up(value: np.ndarray, step) -> np.ndarray:
    """``value / step`` rounded half up (exact integer arithmetic)."""
    step = np.asarray(step, dtype=np.int64)
    q, r = np.divmod(np.abs(value), step)
    return np.sign(value) * (q + (2 * r >= step))

