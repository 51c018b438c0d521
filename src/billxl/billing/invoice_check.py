"""The invoice as it will be, checked before it becomes final: what the client would reject.

A final invoice never changes; a correction is a credit note and a new invoice. So the invoices
that finalizing pre-bills would make (:func:`billxl.billing.invoicing.preview_invoices`, the
same code as finalize: the partner's edits, the fee arrangement, discounts and tax applied) are
checked as the client will check them, by the two checks billxl already has, never restated:

* the client's **billing-guideline rules** (:mod:`billxl.rules`: increment, daily maximum, rate
  caps and approved rates, UTBMS codes and code sets, narrative length and wording, period),
  run over the invoice's fee and expense lines as entries, under the client's guidelines;
* the client's **e-billing portal** (:mod:`billxl.ledes.export`): the LEDES file the export
  would write from the invoice, rendered, read back and validated as the export does.

Only errors count (what the client rejects, as the client's guidelines and portal rate it), and
only for clients that name a portal or a guideline set: the others are never held. Each problem
names its pre-bill line (entry), its rule id, what is wrong and a plain-words fix
(:data:`PROBLEM_COLUMNS`). :func:`billxl.billing.invoicing.finalize` holds the pre-bills that
have any; the pre-bill workbook and ``prebill apply`` show them on their lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from billxl import money, rules
from billxl.ledes.export import check_portal_files, clients_guidelines
from billxl.ledes.portals import load_portal
from billxl.ledes.writer import LedgerInvoices
from billxl.reference import Reference

__all__ = ["INVOICE_RULES", "PROBLEM_COLUMNS", "DETAIL_COLUMNS", "InvoiceCheck",
           "check_invoices", "checked_clients", "guidelines_of", "problem_text",
           "with_line_details"]

#: The guideline rules run on an invoice's lines (the rules about what an invoice shows; those
#: about how time was recorded — duplicates, late entry, closed matters — ran on the WIP).
INVOICE_RULES = ("INCREMENT", "DAILY_MAX", "RATE_CAP", "RATE_INCREASE_UNAPPROVED",
                 "UTBMS_MISSING", "UTBMS_INVALID", "NARRATIVE_LENGTH", "BLOCK_BILLING", "VAGUE",
                 "ADMIN_TASK", "INTERNAL_CONFERENCE", "OUTSIDE_PERIOD", "EXPENSE_CAP",
                 "NON_BILLABLE_EXPENSE")
#: Rules whose findings may be errors whatever their default severity (over 24 hours a day).
_MAY_BE_ERRORS = ("DAILY_MAX",)

#: One row per problem: the pre-bill and matter, the payor's invoice (its position among the
#: previewed invoices) and line, the entry, which check found it (``guidelines`` or the
#: portal's name), the rule id, severity, field, message and the fix, in words.
PROBLEM_COLUMNS = ["prebill_pk", "matter_id", "client_id", "invoice", "line_no", "entry_kind",
                   "entry_pk", "check", "rule", "severity", "field", "message", "fix"]

#: Rules about paying for work, which a line at no charge (billed at nothing) does not break.
_PAYING_RULES = ("BLOCK_BILLING", "VAGUE", "ADMIN_TASK", "INTERNAL_CONFERENCE")

#: Fixes in a partner's words where the rule's own suggestion speaks of recording time.
_FIXES = {
    "UTBMS_MISSING": "Code the time entry with the task and activity codes the client requires "
                     "(the codes are the entry's), or hold the line until it is coded",
    "UTBMS_INVALID": "Correct the entry's code to one of the client's code set, or hold the "
                     "line until it is corrected",
    "PORTAL_UTBMS_REQUIRED": "Code the entry with a UTBMS code (the codes are the entry's), or "
                             "hold the line until it is coded",
    "BLOCK_BILLING": "Have the timekeeper split the entry into one entry per task (the "
                     "narrative is the entry's), or hold the line",
    "VAGUE": "Have the timekeeper say what was done (the narrative is the entry's), or hold "
             "the line",
    "ADMIN_TASK": "Put the line at no charge or write it off: the client does not pay for "
                  "clerical work",
    "INTERNAL_CONFERENCE": "Put the line at no charge or write it off: the client does not pay "
                           "for internal conferences",
    "NARRATIVE_LENGTH": "Shorten the entry's narrative (it is the entry's), or hold the line",
}


@dataclass
class InvoiceCheck:
    """The problems of invoices as they will be (:data:`PROBLEM_COLUMNS`, errors only)."""

    problems: pd.DataFrame

    @property
    def held(self) -> list[int]:
        """The pre-bills whose invoice would be refused (each has at least one problem)."""
        return sorted({int(p) for p in self.problems["prebill_pk"]})

    def __bool__(self) -> bool:
        return bool(len(self.problems))


def problem_text(problems: pd.DataFrame) -> pd.Series:
    """Each problem as one line a partner reads: 'RULE: what is wrong. Fix: what to do'."""
    if problems.empty:
        return pd.Series([], dtype=object)
    fix = problems["fix"].fillna("").astype(str)
    return (problems["rule"].astype(str) + ": " + problems["message"].astype(str).str.rstrip(".")
            + np.where(fix != "", ". Fix: " + fix.str.rstrip(".") + ".", "."))


#: What :func:`with_line_details` adds to each problem: its line as the invoice shows it.
DETAIL_COLUMNS = ["work_date", "timekeeper_name", "narrative"]


def with_line_details(problems: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """``problems`` with each line's date, timekeeper and narrative (from the previewed
    ``lines``; blank for a problem of the whole invoice)."""
    if problems.empty:
        return problems.assign(**{c: pd.Series(dtype=object) for c in DETAIL_COLUMNS})
    shown = lines[["invoice", "line_no", *DETAIL_COLUMNS]].astype(
        {"invoice": "int64", "line_no": "Int64"})
    return problems.astype({"invoice": "int64", "line_no": "Int64"}).merge(
        shown, on=["invoice", "line_no"], how="left")


def checked_clients(reference: Reference) -> set[str]:
    """The clients whose invoices are checked: those who bill through an e-billing portal or
    name a billing-guideline set. The others are never held."""
    clients = reference.clients
    if clients is None or clients.empty:
        return set()

    def named(column: str) -> pd.Series:
        values = clients[column] if column in clients else pd.Series(None, index=clients.index)
        return values.notna() & (values.astype(str).str.strip() != "")

    return set(clients.loc[named("ebilling_portal") | named("guideline_set"), "client_id"])


def guidelines_of(reference: Reference) -> dict:
    """Each client's guidelines from the firm's folder of guideline files (the WIP check's;
    a file the folder lacks is an error naming it). A firm that has set no folder bills every
    client by the firm defaults (``billxl firm edit --guidelines-dir`` sets it)."""
    if reference.clients is None or not (reference.firm or {}).get("guidelines_dir"):
        return {}
    return clients_guidelines(reference.clients, reference.firm)


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})


def check_invoices(reference: Reference, invoices: pd.DataFrame, lines: pd.DataFrame, *,
                   period: tuple[date, date] | None,
                   guidelines: dict | None = None) -> InvoiceCheck:
    """Check previewed invoices (headers and lines as :func:`~billxl.billing.invoicing.
    preview_invoices` returns them, ``lines["invoice"]`` the header's position; headers carry
    ``prebill_pk``) against each payor's guideline rules and portal. ``period`` is the billing
    period (the month), ``guidelines`` each client's :class:`~billxl.rules.Guidelines` (default:
    read from the firm's folder). Pure but for reading the guideline files."""
    if invoices.empty or lines.empty:
        return InvoiceCheck(_no_problems())
    guidelines = guidelines_of(reference) if guidelines is None else guidelines
    heads = invoices.reset_index(drop=True)
    checked = (heads["client_id"].isin(checked_clients(reference))
               & heads["prebill_pk"].notna()).to_numpy()
    if not checked.any():
        return InvoiceCheck(_no_problems())
    mine = lines[checked[lines["invoice"].to_numpy(dtype=np.int64)]]
    parts = [_guideline_problems(reference, heads, mine, period, guidelines),
             _portal_problems(reference, heads, mine, checked, guidelines)]
    found = pd.concat([p for p in parts if len(p)] or [_no_problems()], ignore_index=True)
    # a rule the portal enforces too (its guideline_rules) is the same finding: once
    found = found.drop_duplicates(["invoice", "line_no", "rule"]).sort_values(
        ["invoice", "line_no"], kind="stable", na_position="first")
    found = found.astype({"line_no": "Int64", "entry_pk": "Int64", "invoice": "int64"})
    return InvoiceCheck(found[PROBLEM_COLUMNS].reset_index(drop=True))


# =================================================================================== guidelines
def _errors_only(g: rules.Guidelines) -> rules.Guidelines:
    """The client's guidelines running only the invoice rules that are errors for it."""
    wanted = [r for r in INVOICE_RULES if r in _MAY_BE_ERRORS
              or g.severity.get(r, rules.RULES[r].severity) == "error"]
    return g.running_only(wanted)


def _guideline_problems(reference: Reference, heads: pd.DataFrame, lines: pd.DataFrame,
                        period, guidelines: dict) -> pd.DataFrame:
    """The guideline rules over the lines, once per entry: a split matter's lines are on each
    payor's invoice, so each payor's share is checked in a batch of its own (under its own
    guidelines), and no timekeeper's day counts an entry twice."""
    made: dict[int, rules.Guidelines] = {}

    def limited(g: rules.Guidelines) -> rules.Guidelines:
        if id(g) not in made:
            made[id(g)] = _errors_only(g)
        return made[id(g)]

    by_client = {c: limited(g) for c, g in guidelines.items()}
    default = limited(rules.default_guidelines())
    unit = heads["prebill_pk"].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    rank = pd.Series(unit).groupby(unit).cumcount().to_numpy()  # payor's place on its matter
    out = []
    first_day: pd.Series | None = None  # each timekeeper-day's hours on the first payors' lines
    for r in np.unique(rank):
        part = lines[rank[lines["invoice"].to_numpy(dtype=np.int64)] == r]
        for kind, line_type, run in (("time", "F", rules.check_entries),
                                     ("expense", "E", rules.check_expenses)):
            rows = part[(part["line_type"] == line_type) & (part["entry_kind"] == kind)]
            if rows.empty:
                continue
            frame = _as_entries(rows, heads, kind)
            if kind == "time" and "day_other_milli" in rows:
                first_day = _day_hours(rows) if first_day is None else first_day
                frame["day_other_milli"] = _day_other(rows, first_day)
            result = run(frame, guidelines=default, guidelines_by_client=by_client,
                         context=reference, period=period)
            found = result.findings[result.findings["severity"] == "error"]
            at = found["entry_id"].astype(int).to_numpy()
            free = ((rows["amount_minor"] == 0) & (rows["adjustment_minor"] == 0)).to_numpy()
            keep = ~(free[at] & found["rule"].isin(_PAYING_RULES).to_numpy())
            found, at = found[keep], at[keep]
            if found.empty:
                continue
            hit = rows.iloc[at]
            fix = np.array([_FIXES.get(rule, s) for rule, s in
                            zip(found["rule"], found["suggestion"], strict=True)], dtype=object)
            payor = heads["client_id"].to_numpy(dtype=object)[hit["invoice"].to_numpy()]
            for i in np.flatnonzero(found["rule"].to_numpy() == "INCREMENT"):
                fix[i] = _increment_fix(int(hit["quantity_milli"].iloc[i]),
                                        (guidelines.get(payor[i]) or default).increment_milli)
            out.append(pd.DataFrame({
                "prebill_pk": heads["prebill_pk"].to_numpy()[hit["invoice"].to_numpy()],
                "matter_id": heads["matter_id"].to_numpy()[hit["invoice"].to_numpy()],
                "client_id": heads["client_id"].to_numpy()[hit["invoice"].to_numpy()],
                "invoice": hit["invoice"].to_numpy(), "line_no": hit["line_no"].to_numpy(),
                "entry_kind": kind, "entry_pk": hit["entry_pk"].to_numpy(),
                "check": "guidelines", "rule": found["rule"].astype(object).to_numpy(),
                "severity": "error", "field": found["field"].astype(object).to_numpy(),
                "message": found["message"].astype(object).to_numpy(), "fix": fix}))
    return pd.concat(out, ignore_index=True) if out else _no_problems()


def _day_hours(rows: pd.DataFrame) -> pd.Series:
    """Billed hours per timekeeper and day of time lines."""
    return rows.groupby([rows["timekeeper_id"], pd.to_datetime(rows["work_date"])])[
        "quantity_milli"].sum()


def _day_other(rows: pd.DataFrame, first_day: pd.Series) -> np.ndarray:
    """For each time line of one payor batch, its timekeeper's hours that day outside the batch:
    the time outside the run (``day_other_milli``) and the run's lines on other matters (counted
    once, on the first payor's invoices: a split matter's lines are on each payor's)."""
    key = pd.MultiIndex.from_arrays([rows["timekeeper_id"], pd.to_datetime(rows["work_date"])])
    run = first_day.reindex(key).fillna(0).to_numpy(dtype=np.int64)
    mine = _day_hours(rows).reindex(key).fillna(0).to_numpy(dtype=np.int64)
    return rows["day_other_milli"].fillna(0).to_numpy(dtype=np.int64) + run - mine


def _increment_fix(hours_milli: int, step_milli: int) -> str:
    """On a pre-bill, hours off the increment are written down to it (rounded down)."""
    down, step = hours_milli // step_milli * step_milli, money.milli_to_qty(step_milli)
    if not down:
        return (f"Write the line off or put it at no charge (under the client's "
                f"{step.normalize():f}-hour increment), or correct the time entry")
    return (f"Type {money.milli_to_qty(down).normalize():f} in Bill hours (the client's "
            f"{step.normalize():f}-hour increment, rounded down), or correct the time entry")


def _as_entries(rows: pd.DataFrame, heads: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Invoice lines in the shape the rules read; ``entry_id`` is the row's position."""
    invoice = rows["invoice"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({
        "entry_id": np.arange(len(rows)).astype(str),
        "timekeeper_id": rows["timekeeper_id"].to_numpy(dtype=object),
        "matter_id": heads["matter_id"].to_numpy(dtype=object)[invoice],
        "client_id": heads["client_id"].to_numpy(dtype=object)[invoice],
        "currency": heads["currency"].to_numpy(dtype=object)[invoice],
        "work_date": pd.to_datetime(rows["work_date"]).to_numpy(),
        "narrative": rows["narrative"].to_numpy(dtype=object),
        "billable": True})
    if kind == "time":
        # the hours and rate the invoice bills (amounts are the invoice's own arithmetic)
        frame["hours_milli"] = rows["quantity_milli"].to_numpy(dtype=np.int64)
        frame["rate_minor"] = rows["unit_minor"].to_numpy(dtype=np.int64)
        frame["task_code"] = rows["task_code"].to_numpy(dtype=object)
        frame["activity_code"] = rows["activity_code"].to_numpy(dtype=object)
    else:
        frame["expense_code"] = rows["expense_code"].to_numpy(dtype=object)
        frame["amount_minor"] = rows["amount_minor"].to_numpy(dtype=np.int64)
        frame["quantity_milli"] = rows["quantity_milli"].to_numpy(dtype=np.int64)
        frame["unit_cost_minor"] = rows["unit_minor"].to_numpy(dtype=np.int64)
    return frame


# =================================================================================== portals
def _portal_problems(reference: Reference, heads: pd.DataFrame, lines: pd.DataFrame,
                     checked: np.ndarray, guidelines: dict) -> pd.DataFrame:
    """The LEDES file the export would write of each portal client's invoice, checked by the
    export's own code (:func:`billxl.ledes.export.check_portal_files`)."""
    clients = reference.clients.set_index("client_id")
    portal = heads["client_id"].map(clients["ebilling_portal"])
    on_portal = checked & (portal.notna() & (portal.astype(str).str.strip() != "")).to_numpy()
    if not on_portal.any():
        return _no_problems()
    positions = np.flatnonzero(on_portal)
    numbers = {int(i): f"PB{int(heads.at[i, 'prebill_pk'])}-{k}"
               for k, i in enumerate(positions, start=1)}
    data = _as_ledger_invoices(reference, heads.iloc[positions], lines, numbers, clients)
    files = check_portal_files(data, guidelines)
    position_of = {n: i for i, n in numbers.items()}
    out = []
    for number, exported in files.items():
        if not exported.refused:
            continue
        i = position_of[number]
        errors = exported.errors
        if errors.empty:  # not even rendered (a character its encoding lacks, ...)
            errors = pd.DataFrame({"line": [0] * len(exported.reasons), "field": "",
                                   "rule": "LEDES_EXPORT", "message": exported.reasons,
                                   "suggestion": ""})
        line_no = _line_numbers(exported, errors["line"].to_numpy(dtype=np.int64))
        # a field of the whole invoice (a client matter id) is the invoice's problem, not a
        # line's: it is fixed on the matter, once
        whole = ((errors["rule"] == "PORTAL_REQUIRED")
                 & errors["field"].isin(load_portal(exported.portal).required_fields)).to_numpy()
        line_no = [None if w else n for n, w in zip(line_no, whole, strict=True)]
        mine = lines[lines["invoice"] == i].set_index("line_no")
        kind = [None if n is None or n not in mine.index else mine.at[n, "entry_kind"]
                for n in line_no]
        entry = [None if n is None or n not in mine.index else mine.at[n, "entry_pk"]
                 for n in line_no]
        out.append(pd.DataFrame({
            "prebill_pk": heads.at[i, "prebill_pk"], "matter_id": heads.at[i, "matter_id"],
            "client_id": heads.at[i, "client_id"], "invoice": i,
            "line_no": pd.array(line_no, dtype="Int64"), "entry_kind": kind,
            "entry_pk": pd.array([None if pd.isna(e) else int(e) for e in entry],
                                 dtype="Int64"),
            "check": exported.portal, "rule": errors["rule"].to_numpy(dtype=object),
            "severity": "error", "field": errors["field"].to_numpy(dtype=object),
            "message": errors["message"].to_numpy(dtype=object),
            "fix": [f"Fill in {f} on the matter or its client (billxl matter edit, billxl "
                    "client edit); the invoice is checked again at finalize" if w else
                    _FIXES.get(r, s) or "" for r, s, f, w in
                    zip(errors["rule"], errors["suggestion"], errors["field"], whole,
                        strict=True)]}))
    return pd.concat(out, ignore_index=True) if out else _no_problems()


def _line_numbers(exported, file_lines: np.ndarray) -> list[int | None]:
    """The invoice line number (LINE_ITEM_NUMBER) of each line of an exported LEDES file; None
    for the file's own lines (header, field names) and lines it cannot name."""
    if not exported.data or not len(file_lines):
        return [None] * len(file_lines)
    number = exported.line_items or {}  # as the check read them (every rendered file has them)
    out = []
    for line in file_lines.tolist():
        text = str(number.get(int(line), "")).strip()
        out.append(int(text) if text.isdigit() else None)
    return out


def _as_ledger_invoices(reference: Reference, heads: pd.DataFrame, lines: pd.DataFrame,
                        numbers: dict[int, str], clients: pd.DataFrame) -> LedgerInvoices:
    """Previewed invoices as the LEDES export reads final ones from the ledger (the same
    fields, from the same reference rows), numbered ``numbers`` (position -> a stand-in)."""
    matters = reference.matters.set_index("matter_id")
    client = heads["client_id"]
    invoices = pd.DataFrame({
        "invoice_pk": heads.index.to_numpy(dtype=np.int64),
        "number": [numbers[int(i)] for i in heads.index], "kind": "invoice",
        "client_id": client.to_numpy(dtype=object),
        "matter_id": heads["matter_id"].to_numpy(dtype=object),
        "currency": heads["currency"].to_numpy(dtype=object),
        "invoice_date": pd.to_datetime(heads["invoice_date"]).to_numpy(),
        "period_start": pd.to_datetime(heads["period_start"]).to_numpy(),
        "period_end": pd.to_datetime(heads["period_end"]).to_numpy(),
        "description": heads["description"].to_numpy(dtype=object),
        "rounding": heads["rounding"].to_numpy(dtype=object),
        "total_minor": heads["total_minor"].to_numpy(dtype=np.int64),
        "tax_minor": heads["tax_minor"].to_numpy(dtype=np.int64),
        "client_name": client.map(clients["name"]).to_numpy(dtype=object),
        "matter_name": heads["matter_id"].map(matters["name"]).to_numpy(dtype=object),
        "client_matter_id": heads["matter_id"].map(matters["client_matter_id"])
        .to_numpy(dtype=object),
        **{name: client.map(clients[column]).to_numpy(dtype=object) for name, column in (
            ("ledes_client_id", "ledes_client_id"), ("ebilling_portal", "ebilling_portal"),
            ("client_tax_id", "tax_id"), ("tax_jurisdiction", "tax_jurisdiction"),
            ("client_address_1", "address_1"), ("client_address_2", "address_2"),
            ("client_city", "city"), ("client_region", "region"),
            ("client_postcode", "postcode"), ("client_country", "country"))}})
    mine = lines[lines["invoice"].isin(heads.index)]
    mine = mine.assign(invoice_pk=mine["invoice"].to_numpy(dtype=np.int64))
    tk = reference.timekeepers[["timekeeper_id", "first_name", "last_name"]]
    tax = reference.tax_rates if reference.tax_rates is not None else pd.DataFrame()
    return LedgerInvoices(invoices, mine.reset_index(drop=True), dict(reference.firm or {}),
                          tk, tax)
