"""Validating LEDES files: findings as data, never the first problem only.

::

    from billxl.ledes import validate

    result = validate("invoice.txt", portal="legaltracker")
    result.findings   # line, invoice, field, rule, severity, message, suggestion
    result.has_errors

Checks, in groups (ids and descriptions in :data:`~billxl.ledes.findings.CHECKS`):

* **structure and formats** come from reading the file (:mod:`.parser`, :mod:`.xml21`);
* **arithmetic**: each line's total is units x unit cost + adjustment (+ tax in 98BI), the
  invoice total is the sum of its lines and the same on every line, tax and net totals agree,
  and each line's tax is its amount x its rate. Numbers are compared exactly at 10**-4 and
  differences under one minor unit (a rounding, whichever way) are accepted;
* **fields** the format leaves to the line type: a fee line names its timekeeper (id, name and
  classification; in 98BI also the last and first names), every line but an invoice-level
  adjustment has a unit cost; 98BI account types and currency codes are real ones; a
  classification billxl does not know is a warning;
* **consistency**: the invoice-level fields of the formats (invoice date, client, law-firm
  matter id, billing period, firm; in 98BI also the names, addresses and tax totals) are the
  same on every line of an invoice, and a finding names the lines that differ and the lines
  with the invoice's value; one client per matter; one name per timekeeper; unique line
  numbers;
* **UTBMS** codes against the code sets in ``billxl/data/utbms`` (or a client's own);
* **dates**: line dates inside the billing period and not after the invoice;
* **portal** rules from a :class:`~billxl.ledes.portals.PortalProfile`, per client.

Everything is computed on whole columns; Python runs per finding (to word its message), never
per line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from billxl import money
from billxl.ledes.findings import combine, found, no_findings
from billxl.ledes.formats import (
    ACCOUNT_TYPES,
    CLASSIFICATIONS,
    FORMATS,
    column_of,
)
from billxl.ledes.lines import SCALE, LedesFile
from billxl.ledes.parser import parse
from billxl.ledes.portals import PortalProfile, load_portal
from billxl.ledes.values import POW10, format_scaled

__all__ = ["Validation", "validate", "check_lines"]

_SAFE = 2 ** 31  # |a|, |b| below this: a * b fits in int64
_FLAT_FEE = re.compile(r"\b(flat|fixed)[ -]?fees?\b", re.IGNORECASE)
_LAST_FIRST = re.compile(r"^[^,]*\S, \S[^,]*$")
#: The fields that name a fee line's timekeeper, per format.
_TIMEKEEPER_FIELDS = {
    "1998B": ("timekeeper_id", "timekeeper_name", "timekeeper_classification"),
    "98BI": ("timekeeper_id", "timekeeper_name", "timekeeper_classification",
             "timekeeper_last_name", "timekeeper_first_name"),
    "XML21": ("timekeeper_id", "timekeeper_last_name", "timekeeper_first_name",
              "timekeeper_classification"),
}
#: XML 2.1 puts several matters in one invoice: only these are the same on all its lines.
_XML_INVOICE_LEVEL = ("invoice_date", "client_id", "billing_start_date", "billing_end_date",
                      "law_firm_id", "currency", "invoice_tax_minor", "invoice_net_minor",
                      "reported_tax_minor", "tax_currency")
#: A portal's finding on a line and field replaces the formats' own one there (one reason is
#: enough, and the portal's names who asks for it).
_SUPERSEDED = {"PORTAL_REQUIRED": ("REQUIRED", "TIMEKEEPER_REQUIRED", "UNIT_COST_REQUIRED"),
               "PORTAL_CLASSIFICATION": ("CLASSIFICATION_UNKNOWN",)}
#: The example invoice published with the LEDES 98BI V2 specification (its law firm id and
#: name): its tax figures do not add up, and a finding on them says that it is that example.
_SPEC_EXAMPLE = ("24-6437381", "Law Offices of John Smith")


@dataclass
class Validation:
    """A file and its findings (columns :data:`~billxl.ledes.findings.FINDING_COLUMNS`)."""

    file: LedesFile
    findings: pd.DataFrame
    portals: tuple[str, ...]

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        return int((self.findings["severity"] == "warning").sum())

    @property
    def has_errors(self) -> bool:
        return self.errors > 0

    def summary(self) -> str:
        inv = self.file.lines["invoice_number"].nunique()
        return (f"{self.file.name}: LEDES {self.file.format}, {len(self.file.lines):,} line(s) "
                f"in {inv:,} invoice(s); {self.errors:,} error(s), {self.warnings:,} "
                f"warning(s) under {', '.join(self.portals)}.")


def validate(source, *, portal: str | PortalProfile | None = None,
             portal_of_client: Mapping[str, str | None] | None = None,
             code_sets: Mapping[str, object] | None = None,
             guidelines_of_client: Mapping[str, object] | None = None,
             currency: str = "USD") -> Validation:
    """Read (unless given a :class:`LedesFile`) and check a LEDES file.

    ``portal`` applies one profile to every invoice; otherwise ``portal_of_client`` maps each
    CLIENT_ID to its portal (as ``clients.ebilling_portal`` does), and invoices of other
    clients are checked against the formats' rules only. ``code_sets`` maps 'task',
    'activity', 'expense' to :class:`~billxl.rules.guidelines.CodeSet` (default: the UTBMS
    sets shipped with billxl). ``guidelines_of_client`` maps a CLIENT_ID to its
    :class:`~billxl.rules.Guidelines`, whose settings the portal's ``guideline_rules`` follow
    (default: the firm defaults).
    """
    file = source if isinstance(source, LedesFile) else parse(source, currency=currency)
    return check_lines(file, portal=portal, portal_of_client=portal_of_client,
                       code_sets=code_sets, guidelines_of_client=guidelines_of_client)


def check_lines(file: LedesFile, *, portal=None, portal_of_client=None,
                code_sets=None, within_invoices: bool = False,
                guidelines_of_client: Mapping[str, object] | None = None) -> Validation:
    """The checks of :func:`validate` on a file already read.

    ``within_invoices`` compares matters and timekeepers only inside each invoice, so that a
    file of several invoices gets exactly the findings each invoice would get in a file of its
    own (the export checks a batch of invoices so, in one pass).
    """
    checker = _Checker(file, within_invoices)
    parts = [file.findings, checker.fields(), checker.arithmetic(), checker.consistency(),
             checker.utbms(code_sets or _shipped_code_sets()), checker.dates()]
    portals_used = []
    for profile, mask in _portal_groups(file, portal, portal_of_client):
        portals_used.append(profile.name)
        portal_findings = checker.portal(profile, mask)
        parts += [portal_findings, checker.guidelines(profile, mask, guidelines_of_client)]
    findings = _drop_superseded(combine(parts))
    if portals_used:  # each invoice's portal may change a check's severity or turn it off
        findings = _apply_overrides(findings, file, portal, portal_of_client)
    return Validation(file, findings, tuple(portals_used) or ("generic",))


def _shipped_code_sets() -> dict[str, object]:
    from billxl.rules.guidelines import default_guidelines

    g = default_guidelines()
    return {kind: g.codes(kind) for kind in ("task", "activity", "expense")}


def _portal_groups(file: LedesFile, portal, portal_of_client):
    n = len(file.lines)
    if portal is not None or not portal_of_client:
        yield load_portal(portal), np.ones(n, dtype=bool)
        return
    clients = file.lines["client_id"].to_numpy(dtype=object)
    names = np.array([(portal_of_client.get(c) or "generic") for c in clients], dtype=object) \
        if n else np.zeros(0, dtype=object)
    for name in dict.fromkeys(names.tolist()) or ["generic"]:
        yield load_portal(name), names == name


def _drop_superseded(findings: pd.DataFrame) -> pd.DataFrame:
    if findings.empty:
        return findings
    where = findings["line"].astype(str) + "|" + findings["field"].astype(str)
    drop = np.zeros(len(findings), dtype=bool)
    for portal_rule, generic in _SUPERSEDED.items():
        taken = where[findings["rule"] == portal_rule]
        if len(taken):
            drop |= (findings["rule"].isin(generic) & where.isin(set(taken))).to_numpy()
    return findings[~drop].reset_index(drop=True) if drop.any() else findings


def _apply_overrides(findings: pd.DataFrame, file: LedesFile, portal, portal_of_client):
    if findings.empty:
        return findings
    if portal is not None or not portal_of_client:
        profiles = {None: load_portal(portal)}
        profile_of = np.full(len(findings), None, dtype=object)
    else:
        client_of_invoice = dict(zip(file.lines["invoice_number"], file.lines["client_id"],
                                     strict=True))
        profile_of = np.array([portal_of_client.get(client_of_invoice.get(i, ""))
                               for i in findings["invoice"]], dtype=object)
        profiles = {name: load_portal(name) for name in set(profile_of.tolist())}
    keep = np.ones(len(findings), dtype=bool)
    severity = findings["severity"].to_numpy(dtype=object).copy()
    rules = findings["rule"].to_numpy(dtype=object)
    for name, profile in profiles.items():
        mine = profile_of == name
        keep &= ~(mine & np.isin(rules, list(profile.disabled_rules)))
        for rule, level in profile.severity.items():
            severity[mine & (rules == rule)] = level
    findings = findings.assign(severity=severity)[keep]
    return findings.reset_index(drop=True)


# =================================================================================== checks
@dataclass
class _Variation:
    """Where a value that should be the same on every line of a group is not."""

    differs: np.ndarray  # lines whose value is not their group's common one
    common: np.ndarray  # per line: the code of its group's common value
    values: np.ndarray  # the distinct values (the codes index them)
    groups: np.ndarray  # each line's group

    def common_value(self, rows: np.ndarray) -> np.ndarray:
        return self.values[self.common[rows]]

    def where_common(self, rows: np.ndarray, line_no: np.ndarray, shown: int = 5) -> list[str]:
        """For each row, the lines of its group that carry the group's common value, in words
        ('line 8', 'lines 3, 4, 6 and 7', 'lines 3, 4, 5, 6, 7 and 295 others'): found
        by sorting once, so a large invoice costs no Python per line."""
        carrying = np.flatnonzero(~self.differs)
        order = np.argsort(self.groups[carrying], kind="stable")
        carrying = carrying[order]
        by_group = self.groups[carrying]
        wanted = self.groups[rows]
        start = np.searchsorted(by_group, wanted, side="left")
        end = np.searchsorted(by_group, wanted, side="right")
        return [_lines_in_words(line_no[carrying[a:min(b, a + shown)]].tolist(), b - a)
                for a, b in zip(start.tolist(), end.tolist(), strict=True)]


def _lines_in_words(lines: list[int], count: int) -> str:
    if count == 1:
        return f"line {lines[0]}"
    if count == len(lines):
        return f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]}"
    rest = count - len(lines)
    return f"lines {', '.join(map(str, lines))} and {rest:,} other" + ("s" if rest > 1 else "")


class _Checker:
    """The checks over one file's columns, sharing the grouping by invoice."""

    def __init__(self, file: LedesFile, within_invoices: bool = False):
        self.file = file
        self.within_invoices = within_invoices
        self.lines = file.lines
        self.n = len(file.lines)
        self.line_no = file.lines["line"].to_numpy(dtype=np.int64)
        self.invoice = file.lines["invoice_number"].to_numpy(dtype=object)
        self.inv_code, self.inv_names = pd.factorize(self.invoice)
        self.n_inv = len(self.inv_names)
        # factorize numbers groups in order of appearance: a group's first line is where its
        # code exceeds every earlier one
        running = np.maximum.accumulate(np.concatenate([[-1], self.inv_code[:-1]])) \
            if self.n else np.zeros(0, dtype=np.int64)
        self.first_line_of = np.flatnonzero(self.inv_code > running)
        self.checked_invoice = ~np.isin(self.inv_names, list(file.unchecked_invoices)) \
            if file.unchecked_invoices else np.ones(self.n_inv, dtype=bool)
        self.line_type = file.lines["line_type"].to_numpy(dtype=object)
        self.digits = file.digits

    # ---------------------------------------------------------------- helpers
    def label(self, column: str) -> str:
        return self.file.labels.get(column, column)

    def raw(self, column: str) -> np.ndarray:
        raw = self.file.raw
        if column in raw:
            return raw[column].to_numpy(dtype=object)
        return self.lines[column].astype(str).to_numpy(dtype=object)

    def unreadable(self, *columns: str) -> np.ndarray:
        bad = np.zeros(self.n, dtype=bool)
        for c in columns:
            if c in self.file.unreadable:
                bad |= self.file.unreadable[c]
        return bad

    def show(self, values_e4: np.ndarray, rows: np.ndarray, scale: int = SCALE) -> list[str]:
        """Exact values at ``10**-scale`` as text, with at least the currency's decimals."""
        out = []
        for v, d in zip(values_e4.tolist(), self.digits[rows].tolist(), strict=True):
            whole, frac = divmod(abs(int(v)), 10 ** scale)
            digits = f"{frac:0{scale}d}".rstrip("0").ljust(d, "0") if scale else ""
            out.append(("-" if v < 0 else "") + str(whole) + ("." + digits if digits else ""))
        return out

    def group_sum(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_inv, dtype=object if values.dtype == object else np.int64)
        np.add.at(out, self.inv_code, values)
        return out

    def varying(self, values, groups: np.ndarray | None = None, n_groups: int | None = None,
                first: np.ndarray | None = None) -> _Variation | None:
        """Lines whose value differs from the most common value of their group (by default
        their invoice); None when every group has one value (the usual case, checked first
        with one comparison). Ties go to the value seen first."""
        groups = self.inv_code if groups is None else groups
        n_groups = self.n_inv if n_groups is None else n_groups
        first = self.first_line_of if first is None else first
        values = np.asarray(values)
        if not self.n or not (values != values[first][groups]).any():
            return None
        codes, uniques = pd.factorize(values)
        width = len(uniques) + 1
        pairs, first_at, counts = np.unique(groups.astype(np.int64) * width + codes + 1,
                                            return_index=True, return_counts=True)
        group_of, value_of = pairs // width, pairs % width - 1
        order = np.lexsort((first_at, -counts, group_of))
        leader = order[np.concatenate([[True], group_of[order][1:] != group_of[order][:-1]])]
        common = np.full(n_groups, -1, dtype=np.int64)
        common[group_of[leader]] = value_of[leader]
        return _Variation(codes != common[groups], common[groups], np.asarray(uniques), groups)

    # ---------------------------------------------------------------- arithmetic
    def arithmetic(self) -> pd.DataFrame:
        if not self.n:
            return no_findings()
        f, ex = self.file, self.file.exact
        out = []
        units, cost = ex["quantity_milli"], ex["unit_minor"]
        adjustment, total, tax = ex["adjustment_minor"], ex["line_total_minor"], ex["tax_minor"]
        with_tax = f.format != "1998B"
        one_minor = POW10[SCALE - np.minimum(self.digits, SCALE)]  # at 10**-4

        # line total: units x cost (10**-8) + (adjustment + tax) (10**-4), to one minor unit
        skip = self.unreadable("quantity_milli", "unit_minor", "adjustment_minor",
                               "line_total_minor", "tax_minor")
        small = ((np.abs(units) < _SAFE) & (np.abs(cost) < _SAFE)
                 & (np.abs(total) < 2 ** 49) & (np.abs(adjustment) < 2 ** 49)
                 & (np.abs(tax) < 2 ** 49))
        extension = _exact_product(units, cost, small)  # 10**-8
        rest = (adjustment + tax) if with_tax else adjustment
        diff = _exact_combine(total, rest, extension, small)
        bad = ~skip & (np.abs(diff) >= one_minor * POW10[SCALE])
        if bad.any():
            rows = np.flatnonzero(bad)
            expected = (_as_python(extension[rows]) + _as_python(rest[rows]) * 10 ** SCALE)
            shown = self.show(np.asarray(expected, dtype=object), rows, 2 * SCALE)
            r_units, r_cost = self.raw("quantity_milli")[rows], self.raw("unit_minor")[rows]
            r_adj, r_total = self.raw("adjustment_minor")[rows], self.raw("line_total_minor")[rows]
            r_tax = self.raw("tax_minor")[rows] if with_tax else None
            messages, suggestions = [], []
            for i in range(len(rows)):
                formula = (f"{r_units[i] or '0'} x {r_cost[i] or '0'} "
                           f"{_signed(r_adj[i] or '0')}")
                if with_tax:
                    formula += f" {_signed(r_tax[i] or '0')} tax"
                messages.append(f"{self.label('line_total_minor')} is {r_total[i] or 'blank'} "
                                f"but {formula} = {shown[i]}.")
                suggestions.append(f"Write {self.label('line_total_minor')} as {shown[i]}, or "
                                   "correct the units, unit cost or adjustment.")
            out.append(found("LINE_TOTAL", self.line_no[rows], self.label("line_total_minor"),
                             messages, suggestions, self.invoice[rows]))

        out.append(self._invoice_totals(total, with_tax))
        if with_tax:
            out.append(self._tax(ex, one_minor))
        return combine(out)

    def _invoice_totals(self, line_total: np.ndarray, with_tax: bool) -> pd.DataFrame:
        ex = self.file.exact
        out = []
        stated = ex["invoice_total_minor"]
        skip_lines = self.unreadable("invoice_total_minor")
        varies = self.varying(np.where(skip_lines, np.iinfo(np.int64).min, stated))
        common_total = stated[self.first_line_of].astype(np.int64).copy()
        if varies is not None:
            rows = np.flatnonzero(varies.differs & ~skip_lines)
            if len(rows):
                others = varies.where_common(rows, self.line_no)
                shown = self.show(varies.common_value(rows), rows)
                raw = self.raw("invoice_total_minor")[rows]
                label = self.label("invoice_total_minor")
                out.append(found(
                    "INVOICE_TOTAL_VARIES", self.line_no[rows], label,
                    [f"{label} is {r} on this line but {s} on {k} of invoice {i}."
                     for r, s, k, i in zip(raw, shown, others, self.invoice[rows], strict=True)],
                    [f"Write {label} as the invoice's total on every line ({s})." for s in shown],
                    self.invoice[rows]))
            common_total = varies.values[varies.common][self.first_line_of].astype(np.int64)
        sums = self.group_sum(line_total)
        readable = ~np.isin(np.arange(self.n_inv), self.inv_code[
            self.unreadable("line_total_minor", "invoice_total_minor")])
        bad = (sums != common_total) & self.checked_invoice & readable
        if bad.any():
            groups = np.flatnonzero(bad)
            rows = self.first_line_of[groups]
            label = self.label("invoice_total_minor")
            counts = np.bincount(self.inv_code, minlength=self.n_inv)[groups]
            stated_text = self.show(common_total[groups], rows)
            sum_text = self.show(sums[groups], rows)
            tax = " (with tax)" if with_tax else ""
            out.append(found(
                "INVOICE_TOTAL", self.line_no[rows], label,
                [f"{label} of invoice {i} is {s} but its "
                 + (f"one line{tax} comes to {t}." if k == 1 else f"{k} lines{tax} add up to {t}.")
                 for i, s, k, t in zip(self.inv_names[groups], stated_text, counts, sum_text,
                                       strict=True)],
                [f"Write {label} as {t} on every line, or correct the line totals."
                 for t in sum_text], self.inv_names[groups]))
        return combine(out)

    def _tax(self, ex: dict, one_minor: np.ndarray) -> pd.DataFrame:
        out = []
        base, rate, tax = ex["amount_minor"], ex["tax_percent"], ex["tax_minor"]
        skip = self.unreadable("line_total_minor", "tax_minor", "tax_percent")
        too_high = ~skip & (rate > 100 * 10 ** SCALE)  # over 100%: a percent written as a rate
        if too_high.any():
            rows = np.flatnonzero(too_high)
            label = self.label("tax_percent")
            as_percent = self.file.format == "XML21"
            out.append(found("TAX_RATE", self.line_no[rows], label,
                             [f"{label} is {r}: more than 100%." for r in
                              self.raw("tax_percent")[rows]],
                             f"Write the rate as a percentage ({label} 20 for 20%)." if
                             as_percent else f"Write the rate as a fraction ({label} 0.2 for "
                             "20%).", self.invoice[rows]))
        small = (np.abs(base) < 2 ** 40) & (np.abs(rate) < 2 ** 22) & (np.abs(tax) < 2 ** 40)
        expected = _exact_product(base, rate, small)  # tax at 10**-4 times 10**6
        diff = _exact_combine(tax, np.zeros_like(tax), expected, small, scale=10 ** 6)
        bad = ~skip & ~too_high & (np.abs(diff) >= one_minor * 10 ** 6)
        example = self._spec_example()
        if bad.any():
            rows = np.flatnonzero(bad)
            exact_tax = _as_python(expected[rows])
            shown = self.show(exact_tax, rows, SCALE + 6)
            rounded = self.show(np.array([  # to the currency's minor unit, the firm's way
                money.to_minor(Decimal(int(e)).scaleb(-SCALE - 6), c) * 10 ** (SCALE - int(d))
                for e, c, d in zip(exact_tax, self.lines["currency"].to_numpy()[rows],
                                   self.digits[rows], strict=True)], dtype=object), rows)
            base_text = self.show(base[rows], rows)
            label = self.label("tax_minor")
            r_tax, r_rate = self.raw("tax_minor")[rows], self.raw("tax_percent")[rows]
            out.append(found("LINE_TAX", self.line_no[rows], label,
                             [f"{label} is {t or '0'} but {b} x {r or '0'} = {s}." + example
                              for t, b, r, s in zip(r_tax, base_text, r_rate, shown,
                                                    strict=True)],
                             [f"Write {label} as {r}" + (f" ({s} rounded)" if r != s else "")
                              + ", or correct the rate." for r, s in
                              zip(rounded, shown, strict=True)], self.invoice[rows]))
        # invoice tax total and net total
        first = self.first_line_of
        stated_tax, stated_net = ex["invoice_tax_minor"][first], ex["invoice_net_minor"][first]
        stated_total = ex["invoice_total_minor"][first]
        tax_sum = self.group_sum(tax)
        readable = self.checked_invoice & ~np.isin(
            np.arange(self.n_inv), self.inv_code[self.unreadable(
                "tax_minor", "invoice_tax_minor", "invoice_net_minor", "invoice_total_minor")])
        rows = first
        bad = readable & (tax_sum != stated_tax)
        if bad.any():
            g = np.flatnonzero(bad)
            label = self.label("invoice_tax_minor")
            out.append(found("TAX_TOTAL", self.line_no[rows[g]], label,
                             [f"{label} of invoice {i} is {s} but its lines' tax adds up to {t}."
                              + example for i, s, t in zip(self.inv_names[g], self.show(
                                  stated_tax[g], rows[g]), self.show(tax_sum[g], rows[g]),
                                  strict=True)],
                             "Write the sum of LINE_ITEM_TAX_TOTAL on every line.",
                             self.inv_names[g]))
        bad = readable & (stated_net != stated_total - stated_tax)
        if bad.any():
            g = np.flatnonzero(bad)
            label = self.label("invoice_net_minor")
            expected_net = self.show(stated_total[g] - stated_tax[g], rows[g])
            minus = f"{self.label('invoice_total_minor')} - {self.label('invoice_tax_minor')}"
            out.append(found("NET_TOTAL", self.line_no[rows[g]], label,
                             [f"{label} of invoice {i} is {s} but {minus} = {e}." + example
                              for i, s, e in zip(self.inv_names[g], self.show(stated_net[g],
                                                 rows[g]), expected_net, strict=True)],
                             [f"Write {label} as {e}." for e in expected_net], self.inv_names[g]))
        return combine(out)

    def _spec_example(self) -> str:
        """A note for the tax findings of the LEDES 98BI V2 specification's own example."""
        if "law_firm_name" not in self.file.labels or not self.n:
            return ""
        firm = (self.raw("law_firm_id")[0], self.raw("law_firm_name")[0])
        if firm != _SPEC_EXAMPLE:
            return ""
        return (" This looks like the example invoice published with the LEDES 98BI V2 "
                "specification (the Law Offices of John Smith), whose tax figures do not add up "
                "either: the check is right, and a portal that checks tax would refuse it.")

    # ---------------------------------------------------------------- fields
    def fields(self) -> pd.DataFrame:
        """What the format asks of a field depending on the line, and codes from a list."""
        if not self.n:
            return no_findings()
        out = []
        labels = self.file.labels
        is_fee = self.line_type == "F"
        for column in _TIMEKEEPER_FIELDS.get(self.file.format, ()):
            if column not in labels:
                continue
            rows = np.flatnonzero(is_fee & (self.raw(column) == ""))
            if len(rows):
                label = self.label(column)
                out.append(found("TIMEKEEPER_REQUIRED", self.line_no[rows], label,
                                 f"{label} is blank on a fee line: a fee line names the "
                                 "timekeeper who did the work (id, name and classification).",
                                 f"Fill in {label}; bill a fee that no timekeeper did (a flat "
                                 "fee) as an IF line.", self.invoice[rows]))
        if "unit_minor" in labels:
            rows = np.flatnonzero((self.raw("unit_minor") == "")
                                  & ~np.isin(self.line_type, ["IF", "IE"]))
            if len(rows):
                label = self.label("unit_minor")
                kind = {"F": "a fee line", "E": "an expense line"}
                out.append(found("UNIT_COST_REQUIRED", self.line_no[rows], label,
                                 [f"{label} is blank on {kind.get(t, 'this line')}: only "
                                  "invoice-level adjustments (IF, IE) may leave it blank."
                                  for t in self.line_type[rows]],
                                 f"Write the rate or the cost of one unit as {label} (the "
                                 "amount itself, for one unit).", self.invoice[rows]))
        out.append(self._listed("account_type", ACCOUNT_TYPES, "ACCOUNT_TYPE",
                                "{label} is {value!r}: it is O (the firm's operating account) "
                                "or T (its trust account).", "Write O or T."))
        for column in ("currency", "tax_currency"):
            if self.file.format != "1998B":
                out.append(self._listed(
                    column, money.currency_codes(), "CURRENCY", "{label} {value!r} is not a currency "
                    "code (ISO 4217).", "Write a three-letter code such as USD, EUR or GBP.",
                    longest=3))
        out.append(self._listed(
            "timekeeper_classification", CLASSIFICATIONS, "CLASSIFICATION_UNKNOWN",
            "{label} {value!r} is not a timekeeper classification billxl knows (PARTNR, ASSOC, "
            "OFCOUN, PARLGL, LGLAST, OTHER, or another LEDES code).", "Check the "
            "classification: a client's portal may refuse a code it does not know."))
        return combine(out)

    def _listed(self, column: str, known, rule: str, message: str, suggestion: str,
                longest: int | None = None) -> pd.DataFrame:
        """Lines whose ``column`` is filled in but not one of ``known`` (upper case; values
        longer than ``longest`` are left to the length check)."""
        if column not in self.file.labels:
            return no_findings()
        codes, uniques = pd.factorize(self.raw(column))
        clean = [u.strip().upper() for u in uniques]
        bad = np.array([c != "" and c not in known and (longest is None or len(c) <= longest)
                        for c in clean], dtype=bool)
        rows = np.flatnonzero(bad[codes]) if len(clean) else []
        if not len(rows):
            return no_findings()
        label = self.label(column)
        return found(rule, self.line_no[rows], label,
                     [message.format(label=label, value=v) for v in self.raw(column)[rows]],
                     suggestion, self.invoice[rows])

    # ---------------------------------------------------------------- consistency
    def consistency(self) -> pd.DataFrame:
        if not self.n:
            return no_findings()
        out = []
        for column in self._invoice_level():
            values = self.raw(column)
            if column in self.file.exact:  # amounts: 1053. is 1053.00 (unreadable ones stay)
                values = np.where(self.unreadable(column), values,
                                  format_scaled(self.file.exact[column], SCALE))
            out.append(self._varies("INVOICE_VALUE_VARIES", column, values,
                                    "of invoice {group}"))
        out.append(self._matter_client())
        out.append(self._timekeepers())
        out.append(self._line_numbers())
        return combine(out)

    def _invoice_level(self) -> list[str]:
        """The fields that are the same on every line of an invoice (the invoice number is the
        key, and INVOICE_TOTAL has its own check)."""
        fmt = FORMATS.get(self.file.format)
        columns = _XML_INVOICE_LEVEL if fmt is None else [
            f.column for f in fmt.fields if f.invoice_level
            and f.column not in ("invoice_number", "invoice_total_minor")]
        return [c for c in columns if c in self.file.labels]

    def _varies(self, rule: str, column: str, values: np.ndarray, where: str,
                groups=None, n_groups=None, first=None, group_names=None,
                rows_mask=None) -> pd.DataFrame:
        varies = self.varying(values, groups, n_groups, first)
        if varies is None:
            return no_findings()
        mask = varies.differs if rows_mask is None else varies.differs & rows_mask
        rows = np.flatnonzero(mask)
        if not len(rows):
            return no_findings()
        groups = varies.groups
        names = self.inv_names if group_names is None else group_names
        label = self.label(column)
        common_values = varies.common_value(rows).astype(object)
        here = np.asarray(values, dtype=object)[rows]
        messages = [
            f"{label} is {h or 'blank'!s} here but {c or 'blank'!s} on {k} "
            + where.format(group=names[g]) + "."
            for h, c, g, k in zip(here, common_values, groups[rows],
                                  varies.where_common(rows, self.line_no), strict=True)]
        return found(rule, self.line_no[rows], label, messages,
                     [f"Use one {label} ({c}) on every line " + where.format(group=names[g]) + "."
                      for c, g in zip(common_values, groups[rows], strict=True)],
                     self.invoice[rows])

    def _grouping(self, column: str):
        """Lines grouped by a column (within each invoice, if asked): codes in order of first
        appearance, how many groups, each group's first line, and its value."""
        values = self.lines[column].to_numpy(dtype=object)
        codes, names = pd.factorize(values)
        names = np.asarray(names, dtype=object)
        if self.within_invoices and self.n:
            width = len(names) + 1
            codes, pairs = pd.factorize(self.inv_code.astype(np.int64) * width + codes)
            names = names[np.asarray(pairs) % width]
        running = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]])) if self.n else codes
        return codes, len(names), np.flatnonzero(codes > running), names

    def _matter_client(self) -> pd.DataFrame:
        codes, n, first, names = self._grouping("law_firm_matter_id")
        filled = self.lines["law_firm_matter_id"].to_numpy(dtype=object) != ""
        return self._varies("MATTER_CLIENT_VARIES", "client_id", self.raw("client_id"),
                            "billed for matter {group} (right only if it is split-billed)",
                            codes, n, first, names, filled)

    def _timekeepers(self) -> pd.DataFrame:
        codes, n, first, names = self._grouping("timekeeper_id")
        filled = self.lines["timekeeper_id"].to_numpy(dtype=object) != ""
        out = []
        for column in ("timekeeper_name", "timekeeper_classification"):
            if column in self.file.labels:
                out.append(self._varies("TIMEKEEPER_VARIES", column, self.raw(column),
                                        "of timekeeper {group}", codes, n, first, names, filled))
        return combine(out)

    def _line_numbers(self) -> pd.DataFrame:
        if "line_item_number" not in self.file.labels:
            return no_findings()
        numbers = self.lines["line_item_number"].to_numpy(dtype=object)
        number_code, distinct = pd.factorize(numbers)
        key = self.inv_code.astype(np.int64) * (len(distinct) + 1) + number_code
        repeated = pd.Series(key).duplicated().to_numpy() & (numbers != "")
        rows = np.flatnonzero(repeated)
        if not len(rows):
            return no_findings()
        label = self.label("line_item_number")
        numbers = self.lines["line_item_number"].to_numpy(dtype=object)[rows]
        return found("LINE_NUMBER_REPEATED", self.line_no[rows], label,
                     [f"{label} {k} is used twice in invoice {i}." for k, i in
                      zip(numbers, self.invoice[rows], strict=True)],
                     "Number the lines of each invoice 1, 2, 3, ...", self.invoice[rows])

    # ---------------------------------------------------------------- UTBMS
    def utbms(self, code_sets: Mapping[str, object]) -> pd.DataFrame:
        if not self.n:
            return no_findings()
        out = []
        families = {kind: {c[:1] for c in getattr(s, "codes", ())} for kind, s in
                    code_sets.items()}
        is_fee = np.isin(self.line_type, ["F", "IF"])
        is_cost = np.isin(self.line_type, ["E", "IE"])
        for column, kind, wrong_lines, wrong_word in (
                ("task_code", "task", is_cost, "an expense"),
                ("activity_code", "activity", is_cost, "an expense"),
                ("expense_code", "expense", is_fee, "a fee")):
            if column not in self.file.labels or kind not in code_sets:
                continue
            codes_set = code_sets[kind]
            values = self.lines[column].to_numpy(dtype=object)
            codes, uniques = pd.factorize(values)
            if not len(uniques):
                continue
            clean = np.array([u.strip().upper() for u in uniques], dtype=object)
            known = np.isin(clean, list(codes_set.billable))
            phase = np.isin(clean, list(codes_set.phases))
            in_family = np.array([c[:1] in families[kind] for c in clean], dtype=bool)
            blank = clean == ""
            # a code of another kind in this field (an expense code as a task code)
            other_kind = np.full(len(clean), "", dtype=object)
            for other, other_set in code_sets.items():
                if other != kind:
                    other_kind[np.isin(clean, list(other_set.billable)) & ~known] = other
            label = self.label(column)
            for rule, per_code, message, suggestion in (
                    ("UTBMS_CODE", phase & ~blank, "{c} is a UTBMS phase, not a {k} code.",
                     "Use a task code under the phase, e.g. {c0}10."),
                    ("UTBMS_CODE", (other_kind != "") & ~blank,
                     "{c} is a UTBMS {o} code, not a {k} code.",
                     "Move the code to its own field, or use a {k} code."),
                    ("UTBMS_CODE", ~known & ~phase & in_family & ~blank & (other_kind == ""),
                     "{c} is not a UTBMS {k} code.", "Use a code of the UTBMS {k} set."),
                    ("UTBMS_UNKNOWN_SET", ~in_family & ~blank & (other_kind == ""),
                     "{c} is not in the UTBMS {k} sets billxl knows.",
                     "Check the code against the client's code set.")):
                mask = per_code[codes] & (codes >= 0)
                rows = np.flatnonzero(mask)
                if len(rows):
                    shown = clean[codes[rows]]
                    kinds_of = other_kind[codes[rows]]
                    out.append(found(rule, self.line_no[rows], label,
                                     [message.format(c=c, k=kind, o=o) for c, o in
                                      zip(shown, kinds_of, strict=True)],
                                     [suggestion.format(c0=c[:3], k=kind) for c in shown],
                                     self.invoice[rows]))
            rows = np.flatnonzero(wrong_lines & ~blank[codes] & (codes >= 0))
            if len(rows):
                out.append(found("UTBMS_LINE_TYPE", self.line_no[rows], label,
                                 f"A {kind} code on {wrong_word} line.",
                                 f"Remove {label} from this line, or check its line type.",
                                 self.invoice[rows]))
        return combine(out)

    # ---------------------------------------------------------------- dates
    def dates(self) -> pd.DataFrame:
        if not self.n:
            return no_findings()
        out = []
        lines = self.lines
        start = lines["billing_start_date"].to_numpy()
        end = lines["billing_end_date"].to_numpy()
        day = lines["line_item_date"].to_numpy()
        invoice_day = lines["invoice_date"].to_numpy()
        first = self.first_line_of
        backwards = ~np.isnat(start[first]) & ~np.isnat(end[first]) & (start[first] > end[first])
        if backwards.any():
            g = np.flatnonzero(backwards)
            rows = first[g]
            out.append(found("BILLING_PERIOD", self.line_no[rows],
                             self.label("billing_start_date"),
                             [f"The billing period of invoice {i} starts after it ends." for i in
                              self.inv_names[g]], "Swap or correct the billing dates.",
                             self.inv_names[g]))
        before = ~np.isnat(day) & ~np.isnat(start) & (day < start)
        after = ~np.isnat(day) & ~np.isnat(end) & (day > end)
        rows = np.flatnonzero(before | after)
        if len(rows):
            label = self.label("line_item_date")
            raw_day = self.raw("line_item_date")[rows]
            raw_start, raw_end = self.raw("billing_start_date")[rows], \
                self.raw("billing_end_date")[rows]
            out.append(found("LINE_DATE_OUTSIDE_PERIOD", self.line_no[rows], label,
                             [f"{label} {d} is outside the billing period {s} to {e}." for d, s, e
                              in zip(raw_day, raw_start, raw_end, strict=True)],
                             "Bill the work in its own period, or widen the billing period.",
                             self.invoice[rows]))
        late = ~np.isnat(day) & ~np.isnat(invoice_day) & (day > invoice_day)
        rows = np.flatnonzero(late)
        if len(rows):
            label = self.label("line_item_date")
            out.append(found("LINE_DATE_AFTER_INVOICE", self.line_no[rows], label,
                             [f"{label} {d} is after the invoice date {i}." for d, i in zip(
                                 self.raw("line_item_date")[rows],
                                 self.raw("invoice_date")[rows], strict=True)],
                             "Check the line's date.", self.invoice[rows]))
        return combine(out)

    # ---------------------------------------------------------------- portal
    def portal(self, profile: PortalProfile, mask: np.ndarray) -> pd.DataFrame:
        out = []
        if not mask.any():
            return no_findings()
        file = self.file
        title = profile.display
        first_row = int(np.flatnonzero(mask)[0])
        if file.format not in profile.formats:
            out.append(found("PORTAL_FORMAT", [1], "", f"{title} does not take LEDES "
                             f"{file.format} files.", f"Export as {profile.format} for {title}.",
                             self.invoice[first_row]))
        if (profile.encoding == "cp1252" and file.format != "XML21"
                and file.encoding in ("utf-8", "utf-8-sig")):
            where = int(file.extra.get("first_non_ascii_line") or 1)
            out.append(found("PORTAL_ENCODING", [where], "", f"The file is {file.encoding}; "
                             f"{title} reads LEDES {file.format} as ANSI (cp1252), so "
                             "characters outside ASCII would come out garbled.",
                             "Save the file as ANSI (cp1252).", self.invoice[first_row]))
        is_fee = (self.line_type == "F") & mask
        for names, on, where in ((profile.required_fields, mask, ""),
                                 (profile.required_on_fees, is_fee, " on a fee line")):
            for name in names:
                column = column_of(name)
                if column not in file.labels:
                    continue
                label = self.label(column)
                blank = on & (self.raw(column) == "")
                rows = np.flatnonzero(blank)
                if len(rows):
                    out.append(found("PORTAL_REQUIRED", self.line_no[rows], label,
                                     f"{title} requires {label}{where}.", f"Fill in {label}.",
                                     self.invoice[rows]))
        if profile.timekeeper_name_last_first and "timekeeper_name" in file.labels:
            out.append(self._last_first(profile, is_fee))
        if profile.same_invoice_description and "invoice_description" in file.labels:
            portal_rows = mask
            found_rows = self._varies("PORTAL_INVOICE_DESCRIPTION", "invoice_description",
                                      self.raw("invoice_description"), "of invoice {group}",
                                      rows_mask=portal_rows)
            out.append(found_rows)
        if profile.max_description_length is not None:
            limit = profile.max_description_length
            for column in ("line_item_description", "invoice_description"):
                if column not in file.labels:
                    continue
                text = self.raw(column)
                lengths = np.fromiter(map(len, text), dtype=np.int64, count=self.n)
                rows = np.flatnonzero(mask & (lengths > limit))
                if len(rows):
                    label = self.label(column)
                    out.append(found("PORTAL_DESCRIPTION_LENGTH", self.line_no[rows], label,
                                     [f"{label} has {k:,} characters; {title} takes {limit:,}."
                                      for k in lengths[rows]],
                                     f"Shorten {label} to {limit:,} characters.",
                                     self.invoice[rows]))
        if not profile.negative_units:
            rows = np.flatnonzero(mask & (file.exact["quantity_milli"] < 0))
            if len(rows):
                label = self.label("quantity_milli")
                out.append(found("PORTAL_NEGATIVE_UNITS", self.line_no[rows], label,
                                 [f"{label} is {u}; {title} takes no negative units." for u in
                                  self.raw("quantity_milli")[rows]],
                                 "Bill a reduction as a negative adjustment or unit cost, "
                                 "or issue a credit note.", self.invoice[rows]))
        is_if = mask & (self.line_type == "IF")
        if profile.max_if_lines is not None and is_if.any():
            rank = np.zeros(self.n, dtype=np.int64)
            rank[is_if] = pd.Series(self.inv_code[is_if]).groupby(
                self.inv_code[is_if]).cumcount().to_numpy() + 1
            rows = np.flatnonzero(rank > profile.max_if_lines)
            if len(rows):
                out.append(found("PORTAL_IF_LINES", self.line_no[rows], self.label("line_type"),
                                 f"{title} takes at most {profile.max_if_lines} IF line(s) per "
                                 "invoice; this is one more.",
                                 "Combine the invoice-level fee lines into one.",
                                 self.invoice[rows]))
        if profile.flat_fees_as_if_lines:
            out.append(self._flat_fee_lines(profile, is_fee))
        if profile.flat_fee_as != "either":
            out.append(self._flat_fee_style(profile, mask))
        if profile.require_utbms:
            for column, on, what in (("task_code", is_fee, "fee"), ("activity_code", is_fee, "fee"),
                                     ("expense_code", mask & (self.line_type == "E"), "expense")):
                rows = np.flatnonzero(on & (self.raw(column) == "")) if column in file.labels \
                    else []
                if len(rows):
                    label = self.label(column)
                    out.append(found("PORTAL_UTBMS_REQUIRED", self.line_no[rows], label,
                                     f"{title} requires {label} on every {what} line.",
                                     f"Code the line with a UTBMS {column.split('_')[0]} code.",
                                     self.invoice[rows]))
        if profile.classifications is not None and "timekeeper_classification" in file.labels:
            value = self.raw("timekeeper_classification")
            rows = np.flatnonzero(is_fee & (value != "") & ~np.isin(value, profile.classifications))
            if len(rows):
                label = self.label("timekeeper_classification")
                out.append(found("PORTAL_CLASSIFICATION", self.line_no[rows], label,
                                 [f"{label} {v!r} is not one {title} knows." for v in value[rows]],
                                 f"Use one of {', '.join(profile.classifications)}.",
                                 self.invoice[rows]))
        return combine(out)

    #: The column of a LEDES line each field a billing-guideline finding names is read from.
    _GUIDELINE_FIELDS = {"hours": "quantity_milli", "rate": "unit_minor",
                         "amount": "line_total_minor", "narrative": "line_item_description",
                         "date": "line_item_date", "timekeeper_id": "timekeeper_id",
                         "matter_id": "law_firm_matter_id", "task_code": "task_code",
                         "activity_code": "activity_code", "expense_code": "expense_code"}

    def guidelines(self, profile: PortalProfile, mask: np.ndarray,
                   guidelines_of_client: Mapping[str, object] | None) -> pd.DataFrame:
        """The billing-guideline rules the portal enforces (``profile.guideline_rules``), run
        by :func:`billxl.rules.check_entries` itself over the file's fee lines as time entries,
        each under its client's guidelines (the firm defaults where none is given); the
        findings keep the rule's id, severity and words, on the file's line and field."""
        from billxl.rules import check_entries, default_guidelines

        rows = np.flatnonzero(mask & (self.line_type == "F"))
        if not profile.guideline_rules or not len(rows):
            return no_findings()
        lines = self.lines.iloc[rows]
        entries = pd.DataFrame({
            "entry_id": self.line_no[rows].astype(str), "timekeeper_id": lines["timekeeper_id"],
            "matter_id": lines["law_firm_matter_id"], "client_id": lines["client_id"],
            "work_date": lines["line_item_date"], "hours_milli": lines["quantity_milli"],
            "rate_minor": lines["unit_minor"], "narrative": lines["line_item_description"],
            "task_code": lines["task_code"], "activity_code": lines["activity_code"],
            "currency": lines["currency"],
            "timekeeper_class": lines["timekeeper_classification"]}).reset_index(drop=True)
        by_client = {c: g.running_only(profile.guideline_rules)
                     for c, g in (guidelines_of_client or {}).items()}
        result = check_entries(entries, context=None, guidelines_by_client=by_client,
                               guidelines=default_guidelines().running_only(
                                   profile.guideline_rules))
        f = result.findings
        if f.empty:
            return no_findings()
        line = f["entry_id"].astype(int).to_numpy()
        field = [self.label(self._GUIDELINE_FIELDS.get(x, "")) if x else "" for x in f["field"]]
        invoice = self.invoice[np.searchsorted(self.line_no, line)] if _sorted(self.line_no) \
            else pd.Series(self.invoice, index=self.line_no).loc[line].to_numpy()
        return pd.DataFrame({"line": line, "invoice": invoice, "field": field,
                             "rule": f["rule"].astype(object).to_numpy(),
                             "severity": f["severity"].astype(object).to_numpy(),
                             "message": f["message"].astype(object).to_numpy(),
                             "suggestion": f["suggestion"].astype(object).to_numpy()})

    def _flat_fee_lines(self, profile: PortalProfile, is_fee: np.ndarray) -> pd.DataFrame:
        """Fee lines that are flat fees: no timekeeper, or one unit described as a flat fee
        (the narrative is read only on one-unit lines: few, and where flat fees are)."""
        no_timekeeper = is_fee & (self.raw("timekeeper_id") == "") \
            if "timekeeper_id" in self.file.labels else np.zeros(self.n, dtype=bool)
        one_unit = np.flatnonzero(is_fee & (self.file.exact["quantity_milli"] == 10 ** SCALE))
        described = np.zeros(self.n, dtype=bool)
        if len(one_unit):
            text = self.raw("line_item_description")[one_unit]
            described[one_unit] = [bool(_FLAT_FEE.search(t)) for t in text]
        rows = np.flatnonzero(no_timekeeper | described)
        if not len(rows):
            return no_findings()
        return found("PORTAL_FLAT_FEE_AS_IF", self.line_no[rows], self.label("line_type"),
                     f"A flat fee (a fee line with no timekeeper, or described as a flat fee) "
                     f"on an F line; {profile.display} wants flat fees as IF lines.",
                     "Bill the flat fee as an IF line with units 1.", self.invoice[rows])

    def _last_first(self, profile: PortalProfile, is_fee: np.ndarray) -> pd.DataFrame:
        names = self.raw("timekeeper_name")
        codes, uniques = pd.factorize(names)
        ok = np.array([u == "" or bool(_LAST_FIRST.match(u)) for u in uniques], dtype=bool)
        rows = np.flatnonzero(is_fee & ~ok[codes]) if len(uniques) else []
        if not len(rows):
            return no_findings()
        label = self.label("timekeeper_name")

        def last_first(name: str) -> str:
            parts = name.replace(",", " ").split()
            return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name

        return found("PORTAL_TIMEKEEPER_NAME", self.line_no[rows], label,
                     [f"{label} {v!r} is not written 'Last, First'." for v in names[rows]],
                     [f"Write it as {last_first(v)!r}." for v in names[rows]],
                     self.invoice[rows])

    def _flat_fee_style(self, profile: PortalProfile, mask: np.ndarray) -> pd.DataFrame:
        ex = self.file.exact
        invoice_level = mask & np.isin(self.line_type, ["IF", "IE"])
        if profile.flat_fee_as == "unit_cost":
            bad = invoice_level & ((ex["adjustment_minor"] != 0)
                                   | (ex["quantity_milli"] != 10 ** SCALE))
            message = ("{title} wants an IF/IE line as units 1 with the amount as "
                       "LINE_ITEM_UNIT_COST and no adjustment.")
        else:
            bad = invoice_level & (ex["unit_minor"] != 0)
            message = ("{title} wants an IF/IE line's amount as LINE_ITEM_ADJUSTMENT_AMOUNT "
                       "with no unit cost.")
        rows = np.flatnonzero(bad)
        if not len(rows):
            return no_findings()
        return found("PORTAL_FLAT_FEE_STYLE", self.line_no[rows], self.label("line_type"),
                     message.format(title=profile.display),
                     "Export the invoice again with this portal's profile.", self.invoice[rows])


def _sorted(values: np.ndarray) -> bool:
    return bool(len(values) < 2 or (values[1:] > values[:-1]).all())


# =================================================================================== exact maths
def _exact_product(a: np.ndarray, b: np.ndarray, small: np.ndarray) -> np.ndarray:
    """a * b exactly: int64 where both are small, Python integers (object) elsewhere."""
    if small.all():
        return a * b
    out = (a * np.where(small, b, 0)).astype(object)
    big = np.flatnonzero(~small)
    out[big] = [int(x) * int(y) for x, y in zip(a[big], b[big], strict=True)]
    return out


def _exact_combine(total: np.ndarray, rest: np.ndarray, extension: np.ndarray,
                   small: np.ndarray, scale: int = 10 ** SCALE) -> np.ndarray:
    """``total * scale - (extension + rest * scale)``, exactly (object where large)."""
    if extension.dtype != object and small.all():
        return total * scale - (extension + rest * scale)
    return (np.asarray(total, dtype=object) * scale
            - (np.asarray(extension, dtype=object) + np.asarray(rest, dtype=object) * scale))


def _as_python(values) -> np.ndarray:
    """Values as Python integers (object array): sums and products cannot overflow."""
    return np.array([int(v) for v in np.asarray(values).tolist()], dtype=object)


def _signed(text: str) -> str:
    text = str(text).strip()
    return f"- {text[1:]}" if text.startswith("-") else f"+ {text.lstrip('+')}"

