"""Reconciliation of a month's WIP: run the rules over the ledger, keep the findings, report them.

The rules themselves are pure (``billxl.rules``); this module feeds them the ledger's WIP and
reference data, folds their findings into the ledger's finding workflow (statuses survive
runs; waivers hold until the entry changes) and gives back what a secretary should look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from billxl import rules
from billxl.errors import InputError, Problem
from billxl.figures import wip as wip_figure
from billxl.periods import month_range
from billxl.reference import Reference
from billxl.store.findings import SyncResult, sync_findings
from billxl.store.ledger import Ledger


@dataclass
class ReconcileResult:
    month: str
    entries_checked: int
    expenses_checked: int
    findings: pd.DataFrame  # open and queried findings beside the entry's details
    sync: SyncResult
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())


def guidelines_for(clients: pd.DataFrame, folder: str | Path | None, *,
                   setting: str | None = None) -> dict[str, rules.Guidelines]:
    """Each client's guidelines from ``<folder>/<guideline_set>.yaml``: the folder given, else
    the one the firm's settings name (``guidelines_dir``). A client that names a guideline set
    that cannot be found is an error naming the client and the place looked in, never a quiet
    fall-back to the firm's defaults."""
    named = clients[clients["guideline_set"].fillna("").astype(str).str.strip() != ""]
    if named.empty:
        return {}
    where = folder if folder is not None else setting
    first = named.iloc[0]
    who = (f"client {first['client_id']} ({first['name']}) names the guideline set "
           f"{str(first['guideline_set']).strip()!r}"
           + (f", as do {len(named) - 1} other client(s)" if len(named) > 1 else ""))
    if where is None:
        raise InputError(f"The clients' guideline files cannot be found: {who}, but the firm's "
                         "settings name no folder for guideline files. Set it with 'billxl firm "
                         "edit --guidelines-dir FOLDER' (or give --guidelines-dir).")
    if not Path(where).is_dir():
        raise InputError(f"The folder of guideline files {where} does not exist ({who}).")
    try:
        return rules.load_client_guidelines(clients, where)
    except InputError as error:
        by_set = named.groupby(named["guideline_set"].astype(str).str.strip())["client_id"]
        clients_of = {name: ", ".join(ids) for name, ids in by_set}
        problems = [Problem(file=p.file, row=p.row, column=p.column, value=p.value,
                            reason=p.reason + _clients_note(p.reason, clients_of))
                    for p in error.problems]
        raise InputError(f"{error.summary} Looked in {where}.", problems) from None


def _clients_note(reason: str, clients_of: dict[str, str]) -> str:
    for name, ids in clients_of.items():
        if repr(name) in reason:
            return f" (named by client {ids})"
    return ""


def _display_ids(frame: pd.DataFrame) -> pd.Series:
    """The id users know; ``source:id`` where two sources use the same id."""
    ids = frame["entry_id"].astype(str)
    clash = ids.duplicated(keep=False)
    return ids.where(~clash, frame["source"].astype(str) + ":" + ids)


def _wip(ledger: Ledger, end: date, client: str | None, matters: pd.DataFrame):
    entries = ledger.time_entries(status="WIP", end=end)
    expenses = ledger.expenses(status="WIP")  # the WIP figure's selection, through the month
    expenses = expenses[wip_figure.unbilled_through(expenses, end)]
    owner = matters.set_index("matter_id")["client_id"]
    entries["client_id"] = entries["matter_id"].map(owner)
    expenses["client_id"] = expenses["matter_id"].map(owner)
    if client:
        entries = entries[entries["client_id"] == client]
        expenses = expenses[expenses["client_id"] == client]
    entries = entries.reset_index(drop=True)
    expenses = expenses.reset_index(drop=True)
    entries["entry_id"] = _display_ids(entries)
    expenses["entry_id"] = _display_ids(expenses)
    return entries, expenses


def reconcile_month(ledger: Ledger, month: str, *, client: str | None = None,
                    guidelines_dir: Path | None = None, actor: str | None = None) -> ReconcileResult:
    """Check the WIP up to the month's end against every rule and record the findings."""
    start, end = month_range(month)
    reference = Reference.from_ledger(ledger)
    reference.guidelines = guidelines_for(reference.clients, guidelines_dir,
                                          setting=(reference.firm or {}).get("guidelines_dir"))
    by_client = reference.guidelines
    entries, expenses = _wip(ledger, end, client, reference.matters)

    time_result = rules.check_entries(entries, guidelines_by_client=by_client, context=reference,
                                      period=(start, end))
    cost_result = rules.check_expenses(expenses, guidelines_by_client=by_client,
                                       context=reference, period=(start, end))

    def keyed(result, frame: pd.DataFrame, kind: str, pk: str) -> pd.DataFrame:
        f = result.findings.merge(frame[["entry_id", pk, "row_hash"]], on="entry_id", how="left")
        return f.rename(columns={pk: "entry_pk", "row_hash": "entry_hash"}).assign(entry_kind=kind)

    current = pd.concat([keyed(time_result, entries, "time", "entry_pk"),
                         keyed(cost_result, expenses, "expense", "expense_pk")],
                        ignore_index=True)
    sync = sync_findings(ledger, current, {"time": entries["entry_pk"].tolist(),
                                           "expense": expenses["expense_pk"].tolist()},
                         actor=actor)
    shown = sync.current[sync.current["status"].isin(["open", "queried"])]
    details = _details(entries, expenses, reference)
    if shown.empty:  # nothing found (or nothing to check): type the keys as the details'
        shown = shown.astype({k: details[k].dtype for k in ("entry_kind", "entry_pk")})
    findings = shown.merge(details, on=["entry_kind", "entry_pk"], how="left",
                           suffixes=("", "_entry"))
    return ReconcileResult(month=month, entries_checked=len(entries),
                           expenses_checked=len(expenses), findings=findings, sync=sync,
                           notes=time_result.notes + cost_result.notes)


def _details(entries: pd.DataFrame, expenses: pd.DataFrame,
             reference: Reference) -> pd.DataFrame:
    """Each entry's details as the exceptions workbook shows them."""
    time = entries.assign(entry_kind="time").rename(columns={"entry_pk": "key"})
    cost = expenses.assign(entry_kind="expense", hours_milli=expenses["quantity_milli"],
                           rate_minor=expenses["unit_cost_minor"], task_code=None,
                           activity_code=expenses["expense_code"]).rename(
                               columns={"expense_pk": "key"})
    cols = ["entry_kind", "key", "work_date", "timekeeper_id", "matter_id", "client_id",
            "hours_milli", "rate_minor", "amount_minor", "currency", "task_code",
            "activity_code", "narrative"]
    both = pd.concat([time[cols], cost[cols]], ignore_index=True).rename(columns={"key": "entry_pk"})
    both["timekeeper_name"] = reference.display_names(both["timekeeper_id"]).fillna(
        "(no timekeeper)")
    return both


def list_findings(ledger: Ledger, *, status: str | None = None,
                  rule: str | None = None) -> pd.DataFrame:
    """The findings the ledger holds, newest first, by status and rule. A rule id that is
    neither one of billxl's rules nor found in the ledger is an error naming the valid ones
    (a typo must not look like "no findings")."""
    from billxl.store import findings as store

    if rule:
        known = set(rules.RULES) | store.rules_found(ledger)
        if rule.upper() not in known:
            raise InputError(f"'{rule}' is not a rule id: use one of {', '.join(sorted(known))}.")
    return store.list_findings(ledger, status=status, rule=rule)
