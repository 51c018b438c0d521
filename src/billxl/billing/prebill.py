"""Pre-bills: a month's WIP as draft invoices for the billing partner, and the partner's edits back.

Three steps, each one function:

* :func:`build_prebill_lines` (pure) turns WIP time and expenses into pre-bill lines: the worked
  value (hours x standard rate) beside the value to bill (hours x billing rate, rounded once by
  the client's rule), the action (``bill``; ``no_charge`` for non-billable entries; ``hold`` for
  every line of a matter whose billable WIP is under its minimum bill amount).
* :func:`create_prebills` writes one draft pre-bill per matter with WIP up to the month's end.
* :func:`apply_prebill` reads a pre-bill workbook the partner edited (``excel.prebill_workbook``)
  and applies it all or nothing: every problem is reported at once, and nothing changes while
  any is left. Every changed field goes to the audit log with its old and new value.

:func:`write_prebill_workbooks` shows under each matter the invoice finalize will make of it
(:func:`invoice_previews`, by finalize's own code), and never writes over a partner's workbook
that holds edits the ledger does not have yet (:func:`unapplied_workbooks`: call it before
:func:`create_prebills` too, since a rebuilt pre-bill leaves such edits nowhere to go).

The re-run rule (what :func:`create_prebills` does when pre-bills already exist)
---------------------------------------------------------------------------------
An entry is on at most one open (draft or approved) pre-bill.

* An **approved** pre-bill is left alone until it is finalized; its entries stay on it. A matter
  with a pre-bill approved for the same month gets nothing new that month: WIP that arrived
  after the approval waits for the next cycle.
* A **draft** pre-bill of the same month whose entries are still exactly the matter's WIP (same
  entries, same worked hours and values) is kept as it is: re-running changes nothing.
* Any other draft (new WIP arrived, an entry changed or left WIP, or the draft is from an
  earlier month) is marked ``superseded`` and rebuilt from the WIP as it is now. Edits the
  partner already applied to lines of entries whose worked values did not change are carried
  over to the new pre-bill (the audit log says from which line), so a refreshed pre-bill does
  not lose the partner's work.

Write-downs and write-ups
-------------------------
A line's *billed value* is its bill amount, or 0 when its action is ``no_charge`` or
``write_off``. An edit that lowers it is a write-down, one that raises it a write-up; both need a
reason code (:data:`REASON_CODES`), and so does an amount typed over the ``hours x rate``
formula. Holding a line or transferring it to another matter is neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from billxl import money, rules
from billxl.billing import cycles, invoice_check, invoicing
from billxl.billing.vocabulary import ACTIONS, REASON_CODES
from billxl.errors import InputError, Problem
from billxl.figures import wip as wip_figure
from billxl.periods import month_range
from billxl.rates import resolve_rates
from billxl.reference import Reference
from billxl.store import billing as store
from billxl.store import tables as t
from billxl.store.ledger import Ledger, current_actor

__all__ = [
    "ACTIONS",
    "REASON_CODES",
    "MIN_BILL_NOTE",
    "ApplyResult",
    "build_prebill_lines",
    "create_prebills",
    "prebill_frame",
    "write_prebill_workbooks",
    "apply_prebill",
    "describe",
    "invoice_previews",
    "prebill_problems",
    "unapplied_workbooks",
]

assert tuple(ACTIONS) == t.PREBILL_ACTIONS  # one list of actions: the table's CHECK constraint

MIN_BILL_NOTE = "below the minimum bill amount; held to the next cycle"
NO_RATE_NOTE = "no rate found in the rate table or on the entry; rate set to 0"
OPEN_STATUSES = ("draft", "approved")

LINE_COLUMNS = ("matter_id", "client_id", "currency", "rounding", "work_date", "entry_kind",
                "entry_pk", "worked_qty_milli", "standard_rate_minor", "worked_amount_minor",
                "bill_qty_milli", "bill_rate_minor", "bill_amount_minor", "action",
                "transfer_to", "reason_code", "note")
#: The fields of a line the partner edits (in the workbook) and apply_prebill writes.
EDITABLE = ("bill_qty_milli", "bill_rate_minor", "bill_amount_minor", "action", "transfer_to",
            "reason_code", "note")
_WORKED = ("worked_qty_milli", "standard_rate_minor", "worked_amount_minor")
_KEY = ["prebill_pk", "entry_kind", "entry_pk"]
_NOT_BILLED = ("no_charge", "write_off")


# =================================================================================== lines
def build_prebill_lines(entries: pd.DataFrame, expenses: pd.DataFrame,
                        rates_resolved: pd.DataFrame, reference: Reference, *,
                        through: date | None = None) -> pd.DataFrame:
    """Pre-bill lines (columns :data:`LINE_COLUMNS`) for WIP time entries and expenses.

    ``entries``/``expenses`` are ledger frames (``entry_pk``/``expense_pk``, ``matter_id``,
    ``work_date``, hours or quantity, ``currency``, ``billable``; ``status`` if present must be
    WIP to count). ``rates_resolved`` is :func:`billxl.rates.resolve_rates` on ``entries`` (same
    index). ``reference`` gives each matter's client, its rounding rule
    (:meth:`~billxl.reference.Reference.rounding_of`) and its terms (``min_bill_minor``);
    ``through`` drops work after that day.

    Time: worked = hours x standard rate; billed = hours x billing rate (agreed, else standard);
    where no rate row applies the entry's own recorded rate stands in. Expenses: worked and
    billed are the recorded amount. Pure: no I/O.
    """
    def wip(frame: pd.DataFrame) -> pd.Series:
        return wip_figure.unbilled_through(frame, through)

    time = entries[wip(entries)]
    rated = rates_resolved.loc[time.index]
    clients = time["matter_id"].map(reference.matters.set_index("matter_id")["client_id"])
    valued = wip_figure.value_time(time["hours_milli"].to_numpy(dtype=np.int64),
                                   rated["standard_rate_minor"], rated["billing_rate_minor"],
                                   time["rate_minor"], reference.roundings(clients).to_numpy())
    standard, billing = valued["standard_rate"], valued["billing_rate"]
    unrated = billing.isna()
    hours = time["hours_milli"].to_numpy(dtype=np.int64)
    time_lines = pd.DataFrame({
        "matter_id": time["matter_id"].to_numpy(dtype=object),
        "currency": time["currency"].to_numpy(dtype=object),
        "work_date": pd.to_datetime(time["work_date"]).to_numpy(),
        "entry_kind": "time",
        "entry_pk": time["entry_pk"].to_numpy(dtype=np.int64),
        "worked_qty_milli": hours,
        "standard_rate_minor": standard.to_numpy(dtype=object, na_value=None),
        "bill_qty_milli": hours,
        "bill_rate_minor": billing.fillna(0).to_numpy(dtype=np.int64),
        "worked_amount_minor": valued["standard_minor"],
        "bill_amount_minor": valued["billing_minor"],
        "billable": time["billable"].to_numpy(dtype=bool),
        "note": np.where(unrated.to_numpy(), NO_RATE_NOTE, None),
    })
    cost = expenses[wip(expenses)]
    cost_lines = pd.DataFrame({
        "matter_id": cost["matter_id"].to_numpy(dtype=object),
        "currency": cost["currency"].to_numpy(dtype=object),
        "work_date": pd.to_datetime(cost["work_date"]).to_numpy(),
        "entry_kind": "expense",
        "entry_pk": cost["expense_pk"].to_numpy(dtype=np.int64),
        "worked_qty_milli": cost["quantity_milli"].to_numpy(dtype=np.int64),
        "standard_rate_minor": cost["unit_cost_minor"].to_numpy(dtype=np.int64).astype(object),
        "worked_amount_minor": cost["amount_minor"].to_numpy(dtype=np.int64),
        "bill_qty_milli": cost["quantity_milli"].to_numpy(dtype=np.int64),
        "bill_rate_minor": cost["unit_cost_minor"].to_numpy(dtype=np.int64),
        "bill_amount_minor": cost["amount_minor"].to_numpy(dtype=np.int64),
        "billable": cost["billable"].to_numpy(dtype=bool),
        "note": None,
    })
    lines = pd.concat([time_lines, cost_lines], ignore_index=True)
    lines["client_id"] = lines["matter_id"].map(
        reference.matters.set_index("matter_id")["client_id"])
    lines["rounding"] = reference.roundings(lines["client_id"])
    # time is valued as WIP is (billxl.figures.wip.value_time); expenses at their amounts
    lines["worked_amount_minor"] = lines["worked_amount_minor"].astype("int64")
    lines["bill_amount_minor"] = lines["bill_amount_minor"].astype("int64")
    lines["standard_rate_minor"] = lines["standard_rate_minor"].astype("Int64")
    lines["action"] = np.where(lines["billable"].to_numpy(), "bill", "no_charge").astype(object)
    lines["transfer_to"] = None
    lines["reason_code"] = None

    # Minimum bill: a matter whose billable WIP (fees + expenses) is under it waits a cycle.
    terms = reference.terms
    if terms is not None and len(terms) and "min_bill_minor" in terms:
        minimum = lines["matter_id"].map(
            terms.dropna(subset=["min_bill_minor"]).set_index("matter_id")["min_bill_minor"]
        ).astype("Int64")
        to_bill = lines["bill_amount_minor"].where(lines["action"] == "bill", 0)
        total = to_bill.groupby(lines["matter_id"]).transform("sum").astype("Int64")
        held = (total < minimum).fillna(False).to_numpy(dtype=bool)
        lines.loc[held, "action"] = "hold"
        lines.loc[held, "note"] = MIN_BILL_NOTE

    lines = lines.sort_values(["matter_id", "entry_kind", "work_date", "entry_pk"],
                              key=lambda s: s.map({"time": 0, "expense": 1})
                              if s.name == "entry_kind" else s, kind="stable")
    return lines[list(LINE_COLUMNS)].reset_index(drop=True)


# =================================================================================== create
def _changed_matters(fresh: pd.DataFrame, drafts: pd.DataFrame) -> set:
    """Matters whose draft lines no longer match their WIP (entries or worked values differ)."""
    cols = ["matter_id", "entry_kind", "entry_pk", *_WORKED]
    a = fresh[cols].astype({"entry_pk": "int64", "standard_rate_minor": "Int64"})
    b = drafts[cols].astype({"entry_pk": "int64", "standard_rate_minor": "Int64"})
    for frame in (a, b):
        frame["entry_kind"] = frame["entry_kind"].astype(object)
        frame["matter_id"] = frame["matter_id"].astype(object)
        for c in ("worked_qty_milli", "worked_amount_minor"):
            frame[c] = frame[c].astype("int64")
    both = a.merge(b, on=cols, how="outer", indicator=True)
    return set(both.loc[both["_merge"] != "both", "matter_id"])


def _edited_keys(ledger: Ledger, conn, pks: list[int], since: datetime | None) -> pd.DataFrame:
    """(prebill_pk, entry_kind, entry_pk) of the lines of ``pks`` that an edit has changed."""
    empty = pd.DataFrame({"prebill_pk": pd.Series(dtype="int64"),
                          "entry_kind": pd.Series(dtype=object),
                          "entry_pk": pd.Series(dtype="int64")})
    if not pks:
        return empty
    keys = store.read_edited_line_keys(ledger, conn, since)
    parts = keys.str.split("/", expand=True)
    if parts.empty or parts.shape[1] != 3:
        return empty
    found = pd.DataFrame({"prebill_pk": pd.to_numeric(parts[0], errors="coerce"),
                          "entry_kind": parts[1].astype(object),
                          "entry_pk": pd.to_numeric(parts[2], errors="coerce")}).dropna()
    found = found.astype({"prebill_pk": "int64", "entry_pk": "int64"})
    return found[found["prebill_pk"].isin(pks)]


def line_key(prebill_pk, entry_kind, entry_pk) -> str:
    """A pre-bill line's key in the audit log: 'prebill_pk/entry_kind/entry_pk'."""
    return f"{int(prebill_pk)}/{entry_kind}/{int(entry_pk)}"


def create_prebills(ledger: Ledger, month: str, *, partner: str | None = None,
                    matter: str | None = None, actor: str | None = None) -> pd.DataFrame:
    """Draft pre-bills for the WIP up to the end of ``month`` (one per matter), in one transaction.

    Only the matters whose billing cycle falls in the month are pre-billed
    (:func:`billxl.billing.cycles.billed_in_month`: a quarterly matter in the quarter's last
    month; a monthly one, the default, every month). ``partner`` limits the run to that
    billing partner's matters, ``matter`` to that matter, whatever its cycle. Pre-bills that
    already exist are treated by the re-run rule in this module's docstring; a draft of a
    matter whose cycle does not fall in the month is superseded. Returns the pre-bills created:
    prebill_pk, month, matter_id, billing_partner_id, currency, lines, to_bill_minor (fees and
    expenses with action 'bill'), held (every line on hold) and replaces (the superseded
    pre-bill, if any).
    """
    start, end = month_range(month)
    actor = actor or current_actor()
    now = datetime.now(UTC)
    with ledger.transaction() as conn:
        store.lock_prebill_writers(conn)
        reference = Reference.from_ledger(ledger, conn)
        matters = reference.matters
        entries, expenses = store.read_wip(ledger, conn, end)
        open_bills, open_lines = store.read_open_prebills(ledger, conn, OPEN_STATUSES)

        # Entries on an approved pre-bill stay there until it is finalized.
        approved_lines = open_lines[open_lines["status"] == "approved"]
        taken = {k: set(approved_lines.loc[approved_lines["entry_kind"] == k, "entry_pk"]
                        .astype("int64")) for k in ("time", "expense")}
        entries = entries[~entries["entry_pk"].isin(taken["time"])]
        expenses = expenses[~expenses["expense_pk"].isin(taken["expense"])]

        in_scope = set(matters["matter_id"] if partner is None else
                       matters.loc[matters["billing_partner_id"] == partner, "matter_id"])
        if matter is not None:
            in_scope &= {matter}
        # (a fresh 0..n-1 index: resolve_rates mis-aligns a filtered frame's index)
        entries = entries[entries["matter_id"].isin(in_scope)].reset_index(drop=True)
        expenses = expenses[expenses["matter_id"].isin(in_scope)].reset_index(drop=True)
        resolved = resolve_rates(entries, reference.rates, reference.timekeepers, matters)
        fresh = build_prebill_lines(entries, expenses, resolved, reference, through=end)
        on_cycle = cycles.billed_in_month(
            cycles.cycles_of(reference), end,
            triggered=store.matters_triggered_between(conn, start, end),
            named=set() if matter is None else {matter})
        fresh = fresh[fresh["matter_id"].isin(on_cycle)]
        approved_now = set(open_bills.loc[(open_bills["status"] == "approved")
                                          & (open_bills["month"] == month), "matter_id"])
        fresh = fresh[~fresh["matter_id"].isin(approved_now)]

        drafts = open_bills[(open_bills["status"] == "draft")
                            & open_bills["matter_id"].isin(in_scope)]
        draft_lines = open_lines[open_lines["prebill_pk"].isin(drafts["prebill_pk"])]
        changed = _changed_matters(fresh, draft_lines)
        earlier = set(drafts.loc[drafts["month"] != month, "matter_id"])
        kept = set(drafts["matter_id"]) - changed - earlier
        superseded = drafts[~drafts["matter_id"].isin(kept)]
        fresh = fresh[~fresh["matter_id"].isin(kept)].reset_index(drop=True)

        fresh, carried = _carry_edits(ledger, conn, fresh, draft_lines, superseded)
        created = _insert_prebills(ledger, conn, fresh, matters, superseded, month, now, actor)
        _supersede(ledger, conn, superseded, created, actor)
        if carried is not None and len(carried):
            carried = carried.merge(created[["matter_id", "prebill_pk"]], on="matter_id")
            ledger.audit_many(conn, "update", "prebill_lines", [
                (line_key(r["prebill_pk"], r["entry_kind"], r["entry_pk"]),
                 r["before"], {**r["after"], "carried_from": r["carried_from"]})
                for r in carried.to_dict("records")], actor=actor)
    return created


def _carry_edits(ledger: Ledger, conn, fresh: pd.DataFrame,
                 draft_lines: pd.DataFrame, superseded: pd.DataFrame):
    """Put the partner's applied edits of superseded drafts onto the rebuilt lines."""
    pks = superseded["prebill_pk"].astype("int64").tolist()
    since = pd.to_datetime(superseded["created_at"], utc=True).min() if pks else None
    edited = _edited_keys(ledger, conn, pks, None if since is None or pd.isna(since)
                          else since.to_pydatetime())
    if edited.empty:
        return fresh, None
    old = draft_lines.astype({"prebill_pk": "int64", "entry_pk": "int64"})
    old = old.assign(entry_kind=old["entry_kind"].astype(object)).merge(
        edited, on=_KEY)
    cols = ["matter_id", "entry_kind", "entry_pk", *_WORKED]
    old = old[[*cols, "prebill_pk", *EDITABLE]].rename(
        columns={c: f"old_{c}" for c in ("prebill_pk", *EDITABLE)})
    probe = fresh.reset_index(names="_row").astype({"standard_rate_minor": "Int64"})
    old = old.astype({"standard_rate_minor": "Int64", "worked_qty_milli": "int64",
                      "worked_amount_minor": "int64"})
    probe = probe.astype({"worked_qty_milli": "int64", "worked_amount_minor": "int64"})
    match = probe[["_row", *cols, *EDITABLE]].merge(old, on=cols, how="inner")
    if match.empty:
        return fresh, None
    rows = match["_row"].to_numpy()
    before = fresh.loc[rows, list(EDITABLE)].to_dict("records")
    for c in EDITABLE:
        fresh.loc[rows, c] = match[f"old_{c}"].to_numpy()
    after = fresh.loc[rows, list(EDITABLE)].to_dict("records")
    carried = pd.DataFrame({
        "matter_id": match["matter_id"].to_numpy(),
        "entry_kind": match["entry_kind"].to_numpy(),
        "entry_pk": match["entry_pk"].to_numpy(),
        "carried_from": [line_key(p, k, e) for p, k, e in
                         zip(match["old_prebill_pk"], match["entry_kind"], match["entry_pk"],
                             strict=True)],
        "before": [_changed_only(b, a)[0] for b, a in zip(before, after, strict=True)],
        "after": [_changed_only(b, a)[1] for b, a in zip(before, after, strict=True)],
    })
    return fresh, carried


def _insert_prebills(ledger: Ledger, conn, fresh: pd.DataFrame,
                     matters: pd.DataFrame, superseded: pd.DataFrame, month: str,
                     now: datetime, actor: str) -> pd.DataFrame:
    columns = ["prebill_pk", "month", "matter_id", "billing_partner_id", "currency", "lines",
               "to_bill_minor", "held", "replaces"]
    if fresh.empty:
        return pd.DataFrame({c: [] for c in columns})
    to_bill = fresh["bill_amount_minor"].where(fresh["action"] == "bill", 0)
    per_matter = (fresh.assign(to_bill=to_bill, held=fresh["action"] == "hold")
                  .groupby("matter_id", sort=True)
                  .agg(currency=("currency", "first"), lines=("entry_pk", "size"),
                       to_bill_minor=("to_bill", "sum"), held=("held", "all"))
                  .reset_index())
    partner_of = matters.set_index("matter_id")["billing_partner_id"]
    replaces = superseded.set_index("matter_id")["prebill_pk"]
    per_matter["billing_partner_id"] = per_matter["matter_id"].map(partner_of)
    per_matter["replaces"] = per_matter["matter_id"].map(replaces).astype("Int64")
    rows = [{"month": month, "matter_id": m, "billing_partner_id": p, "status": "draft",
             "created_at": now, "created_by": actor,
             "note": None if pd.isna(r) else f"replaces pre-bill {int(r)}"}
            for m, p, r in zip(per_matter["matter_id"], per_matter["billing_partner_id"],
                               per_matter["replaces"], strict=True)]
    audits = [{"month": month, "matter_id": r["matter_id"], "status": "draft",
               "billing_partner_id": r["billing_partner_id"], "lines": int(r["lines"]),
               "to_bill_minor": int(r["to_bill_minor"]), "currency": r["currency"],
               "replaces": None if pd.isna(r["replaces"]) else int(r["replaces"])}
              for r in per_matter.to_dict("records")]
    position = pd.Series(np.arange(len(per_matter)), index=per_matter["matter_id"])
    lines = fresh[["entry_kind", "entry_pk", *_WORKED, *EDITABLE]].assign(
        prebill=fresh["matter_id"].map(position).to_numpy())
    per_matter["prebill_pk"] = store.insert_prebills(ledger, conn, rows, lines, audits,
                                                     actor=actor)
    per_matter["month"] = month
    return per_matter[columns]


def _supersede(ledger: Ledger, conn, superseded: pd.DataFrame, created: pd.DataFrame,
               actor: str) -> None:
    if superseded.empty:
        return
    pks = superseded["prebill_pk"].astype("int64").tolist()
    by = created.set_index("matter_id")["prebill_pk"] if len(created) else pd.Series(dtype=object)
    store.supersede_prebills(ledger, conn, pks, [None if m not in by.index else int(by[m])
                                                 for m in superseded["matter_id"]], actor=actor)


# =================================================================================== view
def prebill_frame(ledger: Ledger, month: str, partner: str | None = None) -> pd.DataFrame:
    """Every line of the month's open pre-bills with what the pre-bill workbook shows.

    Per line: prebill_pk, prebill_status, month, matter_id, matter_name, client_id,
    client_name, billing_partner_id, partner_name, currency, rounding, approved_by,
    approved_on, entry_kind, entry_pk, entry_id, entry_status, work_date, timekeeper_id,
    timekeeper_name, narrative, task_code, activity_code, expense_code, the worked and bill
    values, action, transfer_to, reason_code, note, findings (open and queried findings of the
    entry, one 'RULE: message' per line of text) and finding_severity (the worst of them).
    """
    month_range(month)  # refuses anything that is not YYYY-MM
    time, cost, found = store.read_prebill_view(ledger, month, partner, OPEN_STATUSES)
    reference = Reference.from_ledger(ledger)

    frame = pd.concat([time.assign(expense_code=None), cost.assign(task_code=None,
                                                                   activity_code=None)],
                      ignore_index=True)
    frame["entry_kind"] = frame["entry_kind"].astype(object)
    frame["timekeeper_name"] = reference.display_names(frame["timekeeper_id"])
    frame["partner_name"] = reference.display_names(frame["billing_partner_id"])
    m = reference.matters.set_index("matter_id")
    frame["matter_name"] = frame["matter_id"].map(m["name"])
    frame["client_id"] = frame["matter_id"].map(m["client_id"])
    c = reference.clients.set_index("client_id")
    frame["client_name"] = frame["client_id"].map(c["name"])
    frame["currency"] = frame["client_id"].map(c["currency"])
    frame["rounding"] = reference.roundings(frame["client_id"])
    frame["approved_on"] = _utc_dates(frame["approved_at"])

    if len(found):
        found = found.assign(entry_kind=found["entry_kind"].astype(object),
                             text=found["rule"].astype(str) + ": " + found["message"].astype(str),
                             worst=found["severity"].map({"error": 0, "warning": 1, "info": 2})
                             .fillna(3))
        per_entry = found.groupby(["entry_kind", "entry_pk"]).agg(
            findings=("text", "\n".join), worst=("worst", "min")).reset_index()
        per_entry["finding_severity"] = per_entry["worst"].map(
            {0: "error", 1: "warning", 2: "info"}).fillna("info")
        frame = frame.merge(per_entry.drop(columns="worst"), on=["entry_kind", "entry_pk"],
                            how="left")
    else:
        frame["findings"] = None
        frame["finding_severity"] = None
    order = {"time": 0, "expense": 1}
    frame = frame.sort_values(
        ["partner_name", "client_name", "matter_id", "entry_kind", "work_date", "entry_pk"],
        key=lambda s: s.map(order) if s.name == "entry_kind" else s, kind="stable")
    return frame[list(PREBILL_FRAME_COLUMNS)].reset_index(drop=True)


PREBILL_FRAME_COLUMNS = (
    "prebill_pk", "prebill_status", "month", "matter_id", "matter_name", "client_id",
    "client_name", "billing_partner_id", "partner_name", "currency", "rounding", "approved_by",
    "approved_on", "entry_kind", "entry_pk", "entry_id", "entry_status", "work_date",
    "timekeeper_id", "timekeeper_name", "narrative", "task_code", "activity_code",
    "expense_code", *_WORKED, *EDITABLE, "findings", "finding_severity")


def _utc_dates(values: pd.Series) -> pd.Series:
    """Timestamps (aware or naive UTC, as each backend returns them) as dates at midnight."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")


def write_prebill_workbooks(ledger: Ledger, month: str, folder: str | Path, *,
                            partner: str | None = None, replace: bool = False) -> dict[str, Path]:
    """One pre-bill workbook per billing partner (``prebill_<month>_<partner>.xlsx``).

    Returns {partner id: path}. The Transfer-to list offers the matters open at the month's end;
    under each matter's lines, the invoice as finalize will make it (:func:`invoice_previews`).
    A workbook already in ``folder`` that holds edits the ledger does not have yet is never
    overwritten: the call is refused (InputError naming the files and rows, before anything is
    written), unless ``replace``, which first moves each such file to ``folder/replaced/``.
    """
    from billxl.excel.prebill_workbook import write_prebill_workbook

    pending = unapplied_workbooks(ledger, month, folder, partner=partner, refuse=not replace)
    _start, end = month_range(month)
    written_at = datetime.now(UTC)
    frame = prebill_frame(ledger, month, partner)
    previews = None
    if len(frame):
        bills = frame[["prebill_pk", "matter_id"]].drop_duplicates("prebill_pk")
        previewed = invoicing.preview_invoices(ledger, bills, month)
        previews = invoice_previews(ledger, month, frame, previewed=previewed)
        frame, previews = _with_problems(frame, previews,
                                         _problems_of(ledger, month, *previewed))
    matters = ledger.matters()
    still_open = matters[matters["closed_on"].isna() | (matters["closed_on"] > pd.Timestamp(end))]
    for path in pending:
        _keep_aside(path, written_at)
    written = {}
    for partner_id, lines in frame.groupby("billing_partner_id", sort=True):
        path = Path(folder) / f"prebill_{month}_{partner_id}.xlsx"
        mine = None if previews is None else previews[previews["prebill_pk"].isin(
            lines["prebill_pk"])]
        write_prebill_workbook(path, lines, partner_name=str(lines["partner_name"].iloc[0]),
                               month=month, transfer_matters=still_open[["matter_id", "name"]],
                               previews=mine, written_at=written_at)
        written[str(partner_id)] = path
    return written


def _with_problems(frame: pd.DataFrame, previews: pd.DataFrame,
                   problems: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each line with what would hold its invoice at finalize (``invoice_check``: one
    'RULE: what. Fix: what to do' per line of text), and each invoice's own problems (a
    missing client matter id, say) as ``problem`` rows under its total."""
    problems = problems.assign(text=invoice_check.problem_text(problems))
    on_line = problems[problems["entry_pk"].notna()]
    per_line = on_line.assign(entry_pk=on_line["entry_pk"].astype("int64")).groupby(
        ["prebill_pk", "entry_kind", "entry_pk"])["text"].agg(
        lambda texts: "\n".join(dict.fromkeys(texts))).rename("invoice_check")
    frame = frame.merge(per_line.reset_index().astype({"prebill_pk": "int64"}),
                        on=["prebill_pk", "entry_kind", "entry_pk"], how="left")
    whole = problems[problems["entry_pk"].isna()].drop_duplicates(["prebill_pk", "text"])
    if len(whole):
        first = previews.drop_duplicates("prebill_pk").set_index("prebill_pk")
        rows = pd.DataFrame({"prebill_pk": whole["prebill_pk"].astype("int64").to_numpy(),
                             "kind": "problem",
                             "label": ("Held at finalize: " + whole["text"]).to_numpy(),
                             "amount_minor": 0, "live": False})
        rows["currency"] = rows["prebill_pk"].map(first["currency"])
        rows["invoice_date"] = rows["prebill_pk"].map(first["invoice_date"])
        previews = pd.concat([previews, rows], ignore_index=True)
        order = {pk: i for i, pk in enumerate(dict.fromkeys(previews["prebill_pk"]))}
        previews = previews.sort_values("prebill_pk", key=lambda s: s.map(order),
                                        kind="stable").reset_index(drop=True)
    return frame, previews


def _keep_aside(path: Path, now: datetime) -> Path:
    """Move a workbook about to be replaced to ``replaced/<name>_<UTC time>.xlsx`` beside it."""
    aside = path.parent / "replaced" / f"{path.stem}_{now:%Y%m%dT%H%M%S}{path.suffix}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    path.replace(aside)
    return aside


def unapplied_workbooks(ledger: Ledger, month: str, folder: str | Path, *,
                        partner: str | None = None,
                        refuse: bool = True) -> dict[Path, list[Problem]]:
    """The month's pre-bill workbooks in ``folder`` (of one partner, or all) that hold edits the
    ledger does not have: {path: one Problem per row edited in the file (or refused as it is)
    and not applied}. With ``refuse``, any such workbook raises InputError naming the files and
    rows, and saying what to do; call it before creating pre-bills again, since a rebuilt
    pre-bill leaves the partner's edits nowhere to go.

    A row counts when the file's editable cells differ both from what billxl wrote and from the
    ledger now (an applied edit is the ledger's, so it does not count). A file that cannot be
    read as a pre-bill workbook counts too: billxl cannot tell what it holds.
    """
    from billxl.excel import prebill_workbook as wb

    month_range(month)
    found: dict[Path, list[Problem]] = {}
    pattern = f"prebill_{month}_{partner if partner else '*'}.xlsx"
    for path in sorted(Path(folder).glob(pattern)):
        try:
            frame, problems = wb.read_prebill_workbook(path)
        except InputError as error:
            found[path] = [Problem(str(path), None, None, None,
                                   f"cannot be read as a pre-bill workbook ({error})")]
            continue
        rows = _edited_rows(ledger, frame) | {p.row for p in problems if p.row is not None}
        if rows or problems:
            found[path] = [Problem(str(path), row, None, None,
                                   "this row holds an edit that is not applied yet", wb.SHEET)
                           for row in sorted(rows)] or problems
    if found and refuse:
        raise _unapplied_error(found, folder)
    return found


def _edited_rows(ledger: Ledger, frame: pd.DataFrame) -> set[int]:
    """Rows of a read workbook whose edits (lines or approvals) the ledger does not have."""
    frame = frame[~frame["tampered"]]
    lines = frame[frame["entry_kind"].isin(["time", "expense"])].reset_index(drop=True)
    signs = frame[frame["entry_kind"] == "approval"].reset_index(drop=True)
    pks = sorted({int(p) for p in frame["prebill_pk"]})
    if not pks:
        return set()
    with ledger.transaction() as conn:
        bills, stored = store.lock_prebills(ledger, conn, pks)
        reference = Reference.from_ledger(ledger, conn)
    reference.guidelines = invoice_check.guidelines_of(reference)
    bills = bills.set_index("prebill_pk")
    lines, new, cur, orig = _beside_ledger(lines, bills, stored, reference)
    pending = ~_all_same(new, orig) & ~_all_same(new, cur)
    approvals = _approvals(signs, bills, datetime.now(UTC).date(), _Problems("", ""))
    signed = ~(_same(signs["approved_by"], signs["orig_approved_by"])
               & _same(signs["approved_on"], signs["orig_approved_on"])).to_numpy()
    moved = signed & approvals.changed
    return {int(r) for r in lines.loc[pending, "row"]} | \
        {int(r) for r in signs.loc[moved, "row"]}


def _unapplied_error(pending: dict[Path, list[Problem]], folder: str | Path) -> InputError:
    """The refusal to write pre-bill workbooks over edits not applied yet, and what to do."""
    def rows(problems: list[Problem]) -> str:
        numbers = [str(p.row) for p in problems if p.row is not None]
        return f" (row{'s' if len(numbers) > 1 else ''} {', '.join(numbers)})" if numbers else ""

    files = "; ".join(f"{path}{rows(problems)}" for path, problems in pending.items())
    first = next(iter(pending))
    return InputError(
        f"{len(pending)} pre-bill workbook(s) hold edits that are not applied yet: {files}. "
        "Writing the pre-bills again would lose them. Apply the edits first "
        f"(billxl prebill apply {first}), or write fresh workbooks with --replace (each edited "
        f"workbook is then kept in {Path(folder) / 'replaced'}).",
        [p for problems in pending.values() for p in problems])


def invoice_previews(ledger: Ledger, month: str, lines: pd.DataFrame, *,
                     previewed: tuple[pd.DataFrame, pd.DataFrame] | None = None
                     ) -> pd.DataFrame:
    """What each pre-bill's invoice will be, as rows to show under its lines, computed by
    finalize's own code (:func:`billxl.billing.invoicing.preview_invoices`) from the pre-bills
    as the ledger holds them, dated the month's last day as ``finalize --month`` dates them.

    ``lines``: the pre-bills (prebill_pk, matter_id; a :func:`prebill_frame`). One row per
    figure, in order: ``kind`` start (fees and expenses to bill), adjustment (the fee
    arrangement and discounts: time replaced by an agreed fee, a discount percentage, a fixed
    fee, a fee-cap write-down, a fixed discount), tax (per rate), total, payor (each payor's
    invoice, when the matter is split); ``label``, ``amount_minor`` (start + adjustments + tax =
    total), ``live`` (the total is the lines' own total whatever the partner edits: an hourly
    matter without discounts, tax or split), ``currency`` and ``invoice_date``.
    """
    bills = lines[["prebill_pk", "matter_id"]].drop_duplicates("prebill_pk")
    invoices, inv_lines = previewed or invoicing.preview_invoices(ledger, bills, month)
    reference = Reference.from_ledger(ledger)
    on = month_range(month)[1]
    prebill_of = invoices["prebill_pk"].to_numpy(dtype=np.int64) if len(invoices) else \
        np.zeros(0, dtype=np.int64)
    pk = prebill_of[inv_lines["invoice"].to_numpy(dtype=np.int64)]
    kind = inv_lines["line_type"].to_numpy(dtype=object)
    amount = inv_lines["amount_minor"].to_numpy(dtype=np.int64)
    adjustment = inv_lines["adjustment_minor"].to_numpy(dtype=np.int64)
    entry = np.isin(kind, ["F", "E"])
    # each figure summed per pre-bill once (a month has thousands of matters)
    gross = pd.Series(np.where(entry, amount - adjustment, 0)).groupby(pk).sum()
    on_fees = pd.Series(np.where(kind == "F", adjustment, 0)).groupby(pk).sum()
    level = pd.DataFrame({"pk": pk[~entry], "label": inv_lines["narrative"].to_numpy(
        dtype=object)[~entry], "amount": amount[~entry]})
    level = level.groupby(["pk", "label"], sort=False)["amount"].sum()
    taxes = pd.DataFrame({"pk": pk, "percent": inv_lines["tax_percent"].astype(str).to_numpy(),
                          "tax": inv_lines["tax_minor"].to_numpy(dtype=np.int64)})
    taxes = taxes[taxes["percent"].map(money.D) != 0].groupby(["pk", "percent"])["tax"].sum()
    heads: dict[int, list[dict]] = {}
    for head in invoices.to_dict("records"):
        heads.setdefault(int(head["prebill_pk"]), []).append(head)
    level_of = {p: list(block.droplevel(0).items()) for p, block in level.groupby(level=0)}
    tax_of = {p: list(block.droplevel(0).items()) for p, block in taxes.groupby(level=0)}

    rows = []
    for prebill_pk, matter_id in zip(bills["prebill_pk"].astype(int), bills["matter_id"],
                                     strict=True):
        matter = reference.matter(str(matter_id))
        terms = reference.terms_of(str(matter_id))
        mine = heads.get(prebill_pk, [])
        out = [("start", "Fees and expenses to bill", int(gross.get(prebill_pk, 0)))]
        if on_fees.get(prebill_pk, 0):
            out.append(("adjustment", "Time at no charge: the agreed fee applies instead"
                        if matter["fee_arrangement"] in invoicing.AGREED_FEE else
                        f"Discount {terms.get('discount_percent')}% on fees",
                        int(on_fees[prebill_pk])))
        out += [("adjustment", str(label), int(value))
                for label, value in level_of.get(prebill_pk, [])]
        out += [("tax", f"Tax at {percent}%", int(value))
                for percent, value in tax_of.get(prebill_pk, [])] or \
            [("tax", "Tax: none for this client", 0)]
        out.append(("total", "Invoice total" if mine else
                    "Invoice total (nothing to invoice: no line is billed)",
                    sum(int(h["total_minor"]) for h in mine)))
        if len(mine) > 1:
            out += [("payor", f"of which invoiced to {reference.client(h['client_id'])['name']} "
                              f"({h['client_id']}, {h['payor_percent']}%)",
                     int(h["total_minor"])) for h in mine]
        live = (matter["fee_arrangement"] not in (*invoicing.AGREED_FEE, "capped")
                and len(mine) <= 1 and not terms.get("discount_percent")
                and not terms.get("discount_minor") and prebill_pk not in tax_of
                and all(k != "adjustment" for k, _, _ in out))
        currency = reference.client(matter["client_id"])["currency"]
        rows += [{"prebill_pk": prebill_pk, "kind": k, "label": label, "amount_minor": value,
                  "live": live, "currency": currency, "invoice_date": on}
                 for k, label, value in out]
    return pd.DataFrame(rows, columns=["prebill_pk", "kind", "label", "amount_minor", "live",
                                       "currency", "invoice_date"])


# =================================================================================== apply
@dataclass
class ApplyResult:
    """What applying a pre-bill workbook changed. Amounts in minor units per currency."""

    file: str
    approved: list[int] = field(default_factory=list)  # approved (or re-approved) by this file
    reopened: list[int] = field(default_factory=list)  # approval withdrawn: back to draft
    lines_changed: int = 0
    write_downs: dict[str, int] = field(default_factory=dict)  # positive amounts
    write_ups: dict[str, int] = field(default_factory=dict)
    #: Each approved pre-bill's invoice as finalize will make it, recomputed from the ledger once
    #: the edits are in: {prebill_pk: (matter_id, currency, total in minor units)}.
    invoice_totals: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    #: Bill hours the client's terms changed: (row, hours typed, hours billed), in thousandths
    #: (on the increment, rounded down; or the hours kept where write-downs are amounts).
    rounded: list[tuple[int, int, int]] = field(default_factory=list)
    #: What the invoices of the workbook's open pre-bills would be held for at finalize,
    #: after the edits (:data:`billxl.billing.invoice_check.PROBLEM_COLUMNS`, with ``row``).
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=[*invoice_check.PROBLEM_COLUMNS, "row"]))

    @property
    def changed(self) -> bool:
        return bool(self.lines_changed or self.approved or self.reopened)


def _blank_to_none(values: pd.Series) -> pd.Series:
    """Text as object with None for missing or blank (one spelling of 'nothing')."""
    out = values.astype(object)
    missing = out.isna() | (out.map(lambda v: isinstance(v, str) and not v.strip()))
    return out.where(~missing, None)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise equality where two missing values are equal."""
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    equal = np.zeros(len(a), dtype=bool)
    both = ~a_na & ~b_na
    equal[both] = (a[both].astype(object).to_numpy() == b[both].astype(object).to_numpy())
    return pd.Series(equal | (a_na & b_na))


def _value(action: pd.Series, amount: pd.Series) -> np.ndarray:
    """A line's billed value: its amount, or 0 when it is not billed at all."""
    amounts = amount.astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    return np.where(action.isin(_NOT_BILLED).to_numpy(), 0, amounts)


def _changed_only(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if not _equal(before.get(k), after.get(k))]
    return ({k: _plain(before.get(k)) for k in keys}, {k: _plain(after.get(k)) for k in keys})


def _equal(a, b) -> bool:
    a_na = a is None or (not isinstance(a, str) and pd.isna(a))
    b_na = b is None or (not isinstance(b, str) and pd.isna(b))
    return (a_na and b_na) or (not a_na and not b_na and a == b)


def _plain(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


class _Problems:
    """Problems of one workbook, vectorised over its rows (a Problem per flagged row)."""

    def __init__(self, file: str, sheet: str):
        self.file, self.sheet, self.items = file, sheet, []

    def add(self, mask, rows: pd.Series, column: str | None, values: pd.Series | None,
            reason) -> None:
        mask = np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask):
            value = None if values is None else values.iloc[i]
            shown = None if value is None or (not isinstance(value, str) and pd.isna(value)) \
                else str(value)
            why = reason if isinstance(reason, str) else reason(int(i))
            row = rows.iloc[i]
            self.items.append(Problem(self.file, None if pd.isna(row) else int(row), column,
                                      shown, why, self.sheet))


def apply_prebill(ledger: Ledger, path: str | Path, *, actor: str | None = None,
                  today: date | None = None) -> ApplyResult:
    """Apply a pre-bill workbook the partner edited: checked strictly, all or nothing.

    Raises InputError listing every problem (file, sheet, row, column, value, reason) when
    anything is wrong; the ledger is then unchanged. Applying the same workbook twice changes
    nothing the second time. ``today`` (default: the UTC date) stamps approvals signed without
    a date.
    """
    from billxl.excel import prebill_workbook as wb

    actor = actor or current_actor()
    today = today or datetime.now(UTC).date()
    now = datetime.now(UTC)
    frame, read_problems = wb.read_prebill_workbook(path)
    shown = str(path)
    found = _Problems(shown, wb.SHEET)
    found.items.extend(read_problems)
    lines = frame[frame["entry_kind"].isin(["time", "expense"])].reset_index(drop=True)
    signs = frame[frame["entry_kind"] == "approval"].reset_index(drop=True)
    tampered = bool(frame["tampered"].any())
    lines = lines[~lines["tampered"]].reset_index(drop=True)
    signs = signs[~signs["tampered"]].reset_index(drop=True)
    heading = wb.HEADERS

    with ledger.transaction() as conn:
        store.lock_prebill_writers(conn)
        pks = sorted({int(p) for p in pd.concat([lines["prebill_pk"], signs["prebill_pk"]])})
        bills, stored = store.lock_prebills(ledger, conn, pks)
        status = store.read_line_entries(ledger, conn, stored["prebill_pk"].unique().tolist())
        reference = Reference.from_ledger(ledger, conn)
        reference.guidelines = invoice_check.guidelines_of(reference)
        bills = bills.set_index("prebill_pk")
        plan = _plan_application(lines, signs, tampered, found, read_problems, heading, bills,
                                 stored, status, reference, today)
        lines, cur, todo, delta = plan.lines, plan.cur, plan.todo, plan.delta
        changes = lines[todo].copy()
        result = ApplyResult(file=shown, lines_changed=int(todo.sum()))
        moved_hours = changes[changes["rounded_milli"] != 0]
        result.rounded = [(int(r), int(t_q), int(q)) for r, t_q, q in zip(
            moved_hours["row"], moved_hours["typed_qty_milli"], moved_hours["bill_qty_milli"],
            strict=True)]
        if len(changes):
            _write_lines(ledger, conn, changes, cur, todo, actor)
            currency = changes["currency"].to_numpy(dtype=object)
            moved = delta[todo]
            for cur_code in pd.unique(currency):
                mine = moved[currency == cur_code]
                if (mine < 0).any():
                    result.write_downs[cur_code] = int(-mine[mine < 0].sum())
                if (mine > 0).any():
                    result.write_ups[cur_code] = int(mine[mine > 0].sum())
        result.approved, result.reopened = _write_approvals(ledger, conn, plan.approvals, now,
                                                            actor)
    approved = bills.loc[result.approved, ["matter_id", "month"]].reset_index()
    for month, block in approved.groupby("month"):
        totals = invoice_previews(ledger, str(month), block)
        for r in totals[totals["kind"] == "total"].to_dict("records"):
            result.invoice_totals[int(r["prebill_pk"])] = (
                str(block.set_index("prebill_pk").loc[r["prebill_pk"], "matter_id"]),
                r["currency"], int(r["amount_minor"]))
    # every open pre-bill of the workbook, as it is now: what finalize would still hold
    open_ones = bills.loc[[p for p in pks if p in bills.index]].reset_index()
    open_ones = open_ones[open_ones["status"].isin(OPEN_STATUSES)]
    found = [prebill_problems(ledger, str(month), block)
             for month, block in open_ones.groupby("month")]
    if found:
        rows = lines.drop_duplicates(_KEY).set_index(_KEY)["row"]
        problems = pd.concat(found, ignore_index=True)
        keys = pd.MultiIndex.from_arrays([problems["prebill_pk"].astype("int64"),
                                          problems["entry_kind"].astype(object),
                                          problems["entry_pk"].astype("Int64")])
        result.problems = problems.assign(row=pd.array(rows.reindex(keys).to_numpy(),
                                                       dtype="Int64"))
    return result


def prebill_problems(ledger: Ledger, month: str, prebills: pd.DataFrame) -> pd.DataFrame:
    """What each of ``prebills`` (prebill_pk, matter_id) would be held for at finalize, as the
    ledger holds them now: its invoices as finalize will make them
    (:func:`billxl.billing.invoicing.preview_invoices`) checked against the clients' guidelines
    and portals (:func:`billxl.billing.invoice_check.check_invoices`), with each line's date,
    timekeeper and narrative. Empty for clients without a portal or guidelines."""
    invoices, lines = invoicing.preview_invoices(ledger, prebills, month)
    return _problems_of(ledger, month, invoices, lines)


def _problems_of(ledger: Ledger, month: str, invoices: pd.DataFrame,
                 lines: pd.DataFrame) -> pd.DataFrame:
    checked = invoice_check.check_invoices(Reference.from_ledger(ledger), invoices, lines,
                                           period=month_range(month))
    return invoice_check.with_line_details(checked.problems, lines)


@dataclass
class _Plan:
    """What an application of a pre-bill workbook changes, once every check has passed."""

    lines: pd.DataFrame  # the workbook's lines beside the ledger's (cur_*) and the entries'
    cur: dict  # the editable fields as the ledger has them now
    todo: np.ndarray  # the lines to write
    delta: np.ndarray  # each line's change of billed value (negative: a write-down)
    approvals: _Approvals


def _plan_application(lines: pd.DataFrame, signs: pd.DataFrame, tampered: bool,
                      found: _Problems, read_problems: list[Problem], heading: dict,
                      bills: pd.DataFrame, stored: pd.DataFrame, status: pd.DataFrame,
                      reference: Reference, today: date) -> _Plan:
    """Check a workbook's lines and approvals against the ledger (pre-bills ``bills`` by key,
    their ``stored`` lines, their entries' ``status``); raises InputError listing every
    problem, else says what to write. Pure."""
    matters, clients = reference.matters, reference.clients
    lines, new, cur, orig = _beside_ledger(lines, bills, stored, reference)
    lines = lines.merge(status, on=["entry_kind", "entry_pk"], how="left")
    rows = lines["row"]

    unknown = (lines["_stored"] == "left_only").to_numpy()
    found.add(unknown, rows, None, lines["entry_pk"],
              lambda i: f"pre-bill {int(lines['prebill_pk'].iloc[i])} has no line for this "
                        "entry in the ledger; write a fresh workbook")
    known = ~unknown
    same_nc = _all_same(new, cur)
    same_co = _all_same(cur, orig)
    edited = known & ~same_nc
    stale = edited & ~same_co
    found.add(stale, rows, None, None,
              "this line was changed in the ledger after the workbook was written "
              "(another copy of the workbook applied?); write a fresh workbook and edit that")
    todo = edited & ~stale

    _check_lines(found, lines, todo, matters, clients, heading)
    delta = _value(lines["action"], lines["bill_amount_minor"]) - \
        _value(cur["action"], cur["bill_amount_minor"])
    # holding a line (to a later cycle) or moving it is neither a write-down nor a write-up
    delta = np.where(lines["action"].isin(["hold", "transfer"]).to_numpy(), 0, delta)
    # A row whose numbers are already refused cannot be judged a write-down or not.
    numbers = {heading[k] for k in ("bill_qty_milli", "bill_rate_minor", "bill_amount_minor")}
    unreadable = lines["row"].isin({p.row for p in read_problems if p.column in numbers})
    _check_reasons(found, lines, todo & ~unreadable.to_numpy(), delta, cur, heading)

    approvals = _approvals(signs, bills, today, found)
    _check_prebills(found, lines, todo, approvals, bills, stored, tampered, heading)
    found.items = _ordered(found.items, heading)
    if found.items:
        rows_hit = len({p.row for p in found.items if p.row is not None})
        raise InputError(f"{found.file}: nothing was applied; {len(found.items)} problem(s) in "
                         f"{rows_hit} row(s) to fix first.", found.items)
    return _Plan(lines, cur, todo, delta, approvals)



def _beside_ledger(lines: pd.DataFrame, bills: pd.DataFrame, stored: pd.DataFrame,
                   reference: Reference) -> tuple[pd.DataFrame, dict, dict, dict]:
    """A workbook's lines beside the ledger's (``stored``; ``bills`` by prebill_pk), with their
    bill amounts as the formula means them, and the editable fields three ways: N (the workbook
    now), C (the ledger now) and O (the workbook as written)."""
    matters = reference.matters
    lines = lines.merge(stored.rename(columns={c: f"cur_{c}" for c in EDITABLE}),
                        on=_KEY, how="left", indicator="_stored")
    lines["prebill_status"] = lines["prebill_pk"].map(bills["status"])
    lines["pb_matter"] = lines["prebill_pk"].map(bills["matter_id"])
    lines["pb_month"] = lines["prebill_pk"].map(bills["month"])
    client_of = matters.set_index("matter_id")["client_id"]
    lines["rounding"] = reference.roundings(lines["pb_matter"].map(client_of))
    lines["transfer_typed"] = lines["transfer_to"]
    lines["transfer_to"] = _ledger_spelling(lines["transfer_to"], matters["matter_id"])
    lines = _on_the_clients_terms(_amounts_from_formula(lines), reference)
    new = {c: lines[c] for c in EDITABLE}
    cur = {c: lines[f"cur_{c}"] for c in EDITABLE}
    orig = {c: lines[f"orig_{c}"] for c in EDITABLE}
    cur = {c: (_blank_to_none(v) if c in ("action", "transfer_to", "reason_code", "note")
               else v.astype("Int64")) for c, v in cur.items()}
    return lines, new, cur, orig


def _all_same(a: dict, b: dict) -> np.ndarray:
    """Lines whose editable fields are the same in ``a`` and ``b`` (two of N, C, O)."""
    return np.logical_and.reduce([_same(a[c], b[c]).to_numpy() for c in EDITABLE])


def _amounts_from_formula(lines: pd.DataFrame) -> pd.DataFrame:
    """Bill amounts the formula made are recomputed exactly; typed-over ones are kept.

    A spreadsheet's ROUND(hours*rate) works in doubles and rounds ties its own way, so any
    amount within one minor unit of the exact product counts as the formula's and is recomputed
    here with the client's rounding rule; anything else was typed over it. A blank cell (a file
    saved without recalculating) means what billxl wrote there: hours x rate where it wrote the
    formula, the amount it wrote where that was typed before (written as a plain number, a
    blank there still means hours x rate). The cell shows 0 on a line that bills nothing
    (no charge, written off): such a 0 stands for the line's amount as written, or hours x rate.
    """
    qty = lines["bill_qty_milli"].astype("Int64")
    rate = lines["bill_rate_minor"].astype("Int64")
    typed = lines["bill_amount_minor"].astype("Int64")
    ok = (qty.notna() & rate.notna()).to_numpy()
    q = qty.fillna(0).to_numpy(dtype=np.int64)
    r = rate.fillna(0).to_numpy(dtype=np.int64)
    product = q * r
    low = product // money.QTY_SCALE
    high = -((-product) // money.QTY_SCALE)
    exact = money.extend_by_rule(q, r, lines["rounding"].to_numpy(dtype=object))
    t_val = typed.fillna(0).to_numpy(dtype=np.int64)
    blank = typed.isna().to_numpy()

    # how billxl wrote the cell: the formula, or an amount typed before (a formula too when the
    # line billed nothing, so that it showed 0)
    o_q, o_r, o_a = (lines[f"orig_{c}"].astype("Int64").fillna(0).to_numpy(dtype=np.int64)
                     for c in ("bill_qty_milli", "bill_rate_minor", "bill_amount_minor"))
    o_product = o_q * o_r
    as_formula = (lines["orig_bill_amount_minor"].isna().to_numpy()
                  | (o_a == o_product // money.QTY_SCALE)
                  | (o_a == -((-o_product) // money.QTY_SCALE)))
    was_not_billed = lines["orig_action"].isin(_NOT_BILLED).to_numpy()
    shows_zero = lines["action"].isin(_NOT_BILLED).to_numpy() & (blank | (t_val == 0))
    keeps_written = ~as_formula & (shows_zero | (blank & was_not_billed))
    from_formula = ok & ~keeps_written & (blank | shows_zero | (t_val == low) | (t_val == high))

    lines = lines.copy()
    lines["overwritten"] = (ok & ~from_formula) | keeps_written
    amount = typed.copy()
    amount[from_formula] = exact[from_formula]
    amount[keeps_written] = o_a[keeps_written]
    lines["bill_amount_minor"] = amount
    return lines


def _on_the_clients_terms(lines: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Typed Bill hours of a time line, for a client that names a portal or guidelines, as
    its guidelines take write-downs (``write_downs``): on its increment, rounded down (an
    amount the formula made follows the hours), or, where write-downs are taken as amounts,
    the hours stay those the ledger has (on the increment) and the typed hours set the amount.
    ``typed_qty_milli`` keeps what the partner typed; ``rounded_milli`` what it came off."""
    lines = lines.copy()
    qty = lines["bill_qty_milli"].astype("Int64")
    lines["typed_qty_milli"] = qty
    lines["rounded_milli"] = pd.Series(0, index=lines.index, dtype="int64")
    client = lines["pb_matter"].map(reference.matters.set_index("matter_id")["client_id"])
    typed = (lines["entry_kind"] == "time").to_numpy() & qty.notna().to_numpy() & \
        ~_same(qty, lines["cur_bill_qty_milli"].astype("Int64")).to_numpy() & \
        client.isin(invoice_check.checked_clients(reference)).to_numpy()
    if not typed.any():
        return lines
    guides = reference.guidelines or {}
    default = rules.default_guidelines()
    step = np.array([(guides.get(c) or default).increment_milli for c in client], dtype=np.int64)
    as_amount = np.array([(guides.get(c) or default).write_downs == "amount" for c in client])
    q = qty.fillna(0).to_numpy(dtype=np.int64)
    cur = lines["cur_bill_qty_milli"].astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    rate = lines["bill_rate_minor"].astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    rule = lines["rounding"].to_numpy(dtype=object)
    amount = lines["bill_amount_minor"].astype("Int64")
    by_amount = typed & as_amount & (q < cur)
    shown = cur // step * step  # the hours the invoice shows: the ledger's, on the increment
    down = np.where(by_amount, shown, q // step * step)
    rounded = typed & (down != q)
    follows = rounded & ~lines["overwritten"].to_numpy(dtype=bool) & ~by_amount
    amount[follows] = money.extend_by_rule(down, rate, rule)[follows]
    # an amount write-down: the typed hours' amount, never more than the hours shown bill
    cap = money.extend_by_rule(shown, rate, rule)
    amount[by_amount] = np.minimum(amount.fillna(0).to_numpy(dtype=np.int64), cap)[by_amount]
    lines["overwritten"] = lines["overwritten"].to_numpy(dtype=bool) | by_amount
    lines["bill_qty_milli"] = qty.where(~pd.Series(rounded), pd.Series(down, dtype="Int64"))
    lines["bill_amount_minor"] = amount
    lines["rounded_milli"] = np.where(rounded, q - down, 0)
    return lines


def _check_lines(found: _Problems, lines: pd.DataFrame, todo: np.ndarray, matters: pd.DataFrame,
                 clients: pd.DataFrame, heading: dict) -> None:
    """The ledger-side checks of each edited line: its entry, its pre-bill, its transfer."""
    rows = lines["row"]
    not_wip = todo & lines["entry_status"].notna().to_numpy() & \
        ~lines["entry_status"].isin(["WIP"]).to_numpy()
    words = {"billed": "already billed", "written_off": "already written off",
             "held": "held elsewhere"}
    found.add(not_wip, rows, heading["action"], lines["entry_id"],
              lambda i: f"this entry is {words.get(lines['entry_status'].iloc[i], 'no longer WIP')}"
                        "; its pre-bill line cannot be changed")

    to = lines["transfer_typed"]
    transfer = todo & (lines["action"] == "transfer").to_numpy() & to.notna().to_numpy()
    known_ids = set(matters["matter_id"])
    target = lines["transfer_to"].where(lines["transfer_to"].isin(known_ids), None)
    info = matters.set_index("matter_id")
    currency_of = info["client_id"].map(clients.set_index("client_id")["currency"])
    unknown = transfer & target.isna().to_numpy()
    found.add(unknown, rows, heading["transfer_to"], to,
              "there is no matter with this number in the ledger")
    known = transfer & target.notna().to_numpy()
    month_end = (pd.to_datetime(lines["pb_month"] + "-01", errors="coerce")
                 + pd.offsets.MonthEnd(0))
    closed_on = target.map(info["closed_on"])
    closed = known & closed_on.notna().to_numpy() & \
        (closed_on <= month_end).fillna(False).to_numpy(dtype=bool)
    found.add(closed, rows, heading["transfer_to"], to,
              lambda i: f"this matter was closed on {closed_on.iloc[i]:%Y-%m-%d}; transfer only "
                        "to an open matter")
    itself = known & (target == lines["pb_matter"]).to_numpy()
    found.add(itself, rows, heading["transfer_to"], to,
              "this is the line's own matter; to keep the line here, choose the action 'bill'")
    other_currency = known & ~closed & ~itself & \
        (target.map(currency_of) != lines["currency"]).to_numpy()
    found.add(other_currency, rows, heading["transfer_to"], to,
              lambda i: f"this matter bills in {currency_of.get(target.iloc[i])}, but the line is "
                        f"in {lines['currency'].iloc[i]}")
    # Another client's matter: a line billed to the wrong client is the costliest slip.
    their_client = target.map(info["client_id"])
    foreign = known & ~closed & ~itself & ~other_currency & \
        (their_client != lines["pb_matter"].map(info["client_id"])).to_numpy()

    def whose(i: int) -> str:
        return f"{target.iloc[i]} is a matter of another client ({their_client.iloc[i]})"

    found.add(foreign & lines["reason_code"].isna().to_numpy(), rows, heading["reason_code"],
              None, lambda i: f"{whose(i)}: moving a line there needs a reason code (OTHER, if "
                              "no other fits) and a note saying why")
    found.add(foreign & lines["note"].isna().to_numpy()
              & (lines["reason_code"] != "OTHER").to_numpy(), rows, heading["note"], None,
              lambda i: f"{whose(i)}: say in the note why the line moves there")


def _ledger_spelling(typed: pd.Series, matter_ids: pd.Series) -> pd.Series:
    """Matter numbers as the ledger spells them ('c0002-0001' -> 'C0002-0001'), else as typed."""
    by_norm = {str(m).strip().casefold(): m for m in matter_ids}
    codes, uniques = pd.factorize(typed)
    spelled = np.array([by_norm.get(str(u).strip().casefold(), u) for u in uniques] + [None],
                       dtype=object)
    return pd.Series(spelled[codes], index=typed.index, dtype=object)


def _check_reasons(found: _Problems, lines: pd.DataFrame, todo: np.ndarray, delta: np.ndarray,
                   cur: dict, heading: dict) -> None:
    """A reason code for every write-down, write-up and typed-over amount, of the right kind."""
    rows, reason = lines["row"], lines["reason_code"]
    missing = todo & reason.isna().to_numpy()
    newly_unbilled = lines["action"].isin(_NOT_BILLED).to_numpy() & \
        ~_same(lines["action"], cur["action"]).to_numpy()
    down = missing & ((delta < 0) | newly_unbilled)
    up = missing & (delta > 0) & ~down
    typed = missing & lines["overwritten"].to_numpy() & ~down & ~up
    codes = ", ".join(c for c in REASON_CODES if c.startswith("WD-")) + " or OTHER"
    found.add(down, rows, heading["reason_code"], None,
              f"this line is written down, which needs a reason code: pick one of {codes}")
    found.add(up, rows, heading["reason_code"], None,
              "this line is written up, which needs a reason code: pick WU-VALUE or OTHER")
    found.add(typed, rows, heading["reason_code"], None,
              "the bill amount was typed over the hours x rate formula, which needs a reason "
              "code")
    given = todo & reason.notna().to_numpy()
    wrong_down = given & (delta < 0) & reason.astype(str).str.startswith("WU-").to_numpy()
    wrong_up = given & (delta > 0) & reason.astype(str).str.startswith("WD-").to_numpy()
    found.add(wrong_down, rows, heading["reason_code"], reason,
              "is a write-up reason, but this line is written down")
    found.add(wrong_up, rows, heading["reason_code"], reason,
              "is a write-down reason, but this line is written up")
    other = given & (reason == "OTHER").to_numpy() & lines["note"].isna().to_numpy()
    found.add(other, rows, heading["note"], None, "the reason OTHER needs a note saying why")


@dataclass
class _Approvals:
    frame: pd.DataFrame  # one row per approval block of the workbook, with N and C values
    approve: np.ndarray  # sign (or re-sign) the pre-bill
    reopen: np.ndarray  # the signature was cleared: back to draft
    changed: np.ndarray  # the workbook's approval is not the ledger's


def _approvals(signs: pd.DataFrame, bills: pd.DataFrame, today: date,
               found: _Problems) -> _Approvals:
    signs = signs.copy()
    signs["status"] = signs["prebill_pk"].map(bills["status"])
    signs["cur_by"] = _blank_to_none(signs["prebill_pk"].map(bills["approved_by"]))
    signs["cur_on"] = _utc_dates(signs["prebill_pk"].map(bills["approved_at"]))
    approved_now = (signs["status"] == "approved").to_numpy()
    by = signs["approved_by"]
    on = signs["approved_on"]
    same_signer = approved_now & _same(by, signs["cur_by"]).to_numpy()
    # A signature without a date keeps the date it has, or is dated today.
    on = on.where(on.notna() | ~pd.Series(same_signer), signs["cur_on"])
    on = on.where(on.notna() | by.isna(), pd.Timestamp(today))
    signs["new_on"] = on.where(by.notna(), pd.NaT)
    cur_state = pd.Series(np.where(approved_now, "approved", "draft"))
    new_state = pd.Series(np.where(by.notna().to_numpy(), "approved", "draft"))
    orig_state = pd.Series(np.where((signs["orig_status"] == "approved").to_numpy(),
                                    "approved", "draft"))
    same_nc = (_same(new_state, cur_state) & _same(by, signs["cur_by"].where(approved_now))
               & _same(signs["new_on"], signs["cur_on"].where(approved_now))).to_numpy()
    same_co = (_same(cur_state, orig_state)
               & _same(signs["cur_by"].where(approved_now), signs["orig_approved_by"])
               & _same(signs["cur_on"].where(approved_now), signs["orig_approved_on"])).to_numpy()
    unknown = signs["status"].isna().to_numpy()
    changed = ~same_nc & ~unknown
    stale = changed & ~same_co
    found.add(stale, signs["row"], None, None,
              "this pre-bill's approval was changed in the ledger after the workbook was written; "
              "write a fresh workbook")
    future = changed & (signs["new_on"] > pd.Timestamp(today)).fillna(False).to_numpy(dtype=bool)
    found.add(future, signs["row"], "Approved on", signs["approved_on"].dt.strftime("%Y-%m-%d"),
              "the approval date is after today")
    ok = changed & ~stale & ~future
    return _Approvals(signs, ok & by.notna().to_numpy(), ok & by.isna().to_numpy(), changed)


def _check_prebills(found: _Problems, lines: pd.DataFrame, todo: np.ndarray,
                    approvals: _Approvals, bills: pd.DataFrame, stored: pd.DataFrame,
                    tampered: bool, heading: dict) -> None:
    """Pre-bill-level checks: it exists and is open, it is whole, and what it holds is WIP."""
    signs = approvals.frame
    touched = approvals.approve | approvals.reopen
    for frame, mask in ((lines, todo), (signs, touched)):
        state = frame["prebill_status"] if "prebill_status" in frame else frame["status"]
        closed = mask & state.isin(["finalized", "superseded"]).to_numpy()
        found.add(closed, frame["row"], None, frame["prebill_pk"],
                  lambda i, s=state: (
                      "this pre-bill has been finalized into an invoice and cannot be changed; "
                      "correct the invoice with a credit note"
                      if s.iloc[i] == "finalized" else
                      "this pre-bill was replaced when the pre-bills were created again; "
                      "write a fresh workbook and edit that"))
    unknown = signs["status"].isna().to_numpy()
    found.add(unknown, signs["row"], None, signs["prebill_pk"],
              "there is no pre-bill with this number in the ledger; write a fresh workbook")

    # Approving needs every entry of the pre-bill still unbilled.
    approving = set(signs.loc[approvals.approve, "prebill_pk"].astype(int))
    blocked = lines["prebill_pk"].isin(approving).to_numpy() & \
        lines["entry_status"].notna().to_numpy() & (lines["entry_status"] != "WIP").to_numpy() \
        & ~todo
    found.add(blocked, lines["row"], heading["action"], lines["entry_id"],
              lambda i: f"this entry is {lines['entry_status'].iloc[i].replace('_', ' ')}; "
                        "the pre-bill holding it cannot be approved")

    # Every line of an open pre-bill must be in the workbook (rows must not be deleted).
    if not tampered:
        open_pks = [int(p) for p in bills.index[bills["status"].isin(OPEN_STATUSES)]]
        mine = stored[stored["prebill_pk"].isin(open_pks)]
        seen = lines[["prebill_pk", "entry_kind", "entry_pk"]].astype(
            {"prebill_pk": "int64", "entry_pk": "int64"})
        missing = mine.merge(seen, on=_KEY, how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"]
        for r in missing.to_dict("records"):
            found.items.append(Problem(
                found.file, None, None, line_key(r["prebill_pk"], r["entry_kind"], r["entry_pk"]),
                f"the line for {r['entry_kind']} entry {int(r['entry_pk'])} of pre-bill "
                f"{int(r['prebill_pk'])} is missing from the workbook (rows must not be "
                "deleted); write a fresh workbook", found.sheet))


def _ordered(problems: list[Problem], heading: dict) -> list[Problem]:
    order = {h: i for i, h in enumerate(heading.values())}
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.row is None, p.row or 0, order.get(p.column or "", -1)))


def _write_lines(ledger: Ledger, conn, changes: pd.DataFrame, cur: dict, todo: np.ndarray,
                 actor: str) -> None:
    before = pd.DataFrame({c: cur[c][todo].to_numpy(dtype=object) for c in EDITABLE})
    after = pd.DataFrame({c: changes[c].astype(object).to_numpy() for c in EDITABLE})
    keys, values, audits = [], [], []
    typed = changes["typed_qty_milli"].astype("Int64").to_numpy(dtype=object, na_value=None)
    off = changes["rounded_milli"].to_numpy(dtype=np.int64)
    for key, b, a, t_qty, r in zip(changes[_KEY].itertuples(index=False),
                                   before.to_dict("records"), after.to_dict("records"), typed,
                                   off, strict=True):
        a = {c: _plain(v) for c, v in a.items()}
        keys.append((int(key[0]), key[1], int(key[2])))
        values.append({c: a[c] for c in EDITABLE})
        was, now = _changed_only(b, a)
        if r:  # what the partner typed, beside what the client's terms made of it
            now = {**now, "typed_bill_qty_milli": int(t_qty), "rounded_off_milli": int(r)}
        audits.append((line_key(*key), was, now))
    store.update_prebill_lines(ledger, conn, keys, values, audits, actor=actor)


def _write_approvals(ledger: Ledger, conn, approvals: _Approvals, now: datetime,
                     actor: str) -> tuple[list[int], list[int]]:
    signs = approvals.frame
    approved, reopened, audits, changes = [], [], [], []
    for r in signs[approvals.approve].to_dict("records"):
        on = pd.Timestamp(r["new_on"]).date()
        # Signed today: the moment of applying; another day: that day (midnight UTC).
        at = now if on == now.date() else datetime(on.year, on.month, on.day, tzinfo=UTC)
        changes.append((int(r["prebill_pk"]), {"status": "approved",
                                               "approved_by": r["approved_by"],
                                               "approved_at": at}))
        audits.append((str(int(r["prebill_pk"])),
                       {"status": r["status"], "approved_by": r["cur_by"],
                        "approved_on": _iso(r["cur_on"])},
                       {"status": "approved", "approved_by": r["approved_by"],
                        "approved_on": on.isoformat()}))
        approved.append(int(r["prebill_pk"]))
    for r in signs[approvals.reopen].to_dict("records"):
        changes.append((int(r["prebill_pk"]), {"status": "draft", "approved_by": None,
                                               "approved_at": None}))
        audits.append((str(int(r["prebill_pk"])),
                       {"status": "approved", "approved_by": r["cur_by"],
                        "approved_on": _iso(r["cur_on"])},
                       {"status": "draft", "approved_by": None, "approved_on": None}))
        reopened.append(int(r["prebill_pk"]))
    store.set_prebill_approvals(ledger, conn, changes, audits, actor=actor)
    return approved, reopened


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def describe(result: ApplyResult) -> str:
    """A few lines saying what an application did, for the CLI and the ribbon."""
    if not result.changed:
        return "\n".join([f"{result.file}: nothing to change (the ledger already matches the "
                          "workbook).", *_held_lines(result.problems)])
    parts = [f"{result.file}: {result.lines_changed} line(s) changed"]
    if result.approved:
        parts.append(f"{len(result.approved)} pre-bill(s) approved")
    if result.reopened:
        parts.append(f"{len(result.reopened)} approval(s) withdrawn")
    lines = [", ".join(parts) + "."]
    for label, amounts in (("Written down", result.write_downs), ("Written up", result.write_ups)):
        for cur_code, minor in sorted(amounts.items()):
            lines.append(f"  {label}: {money.format_amount(minor, cur_code)} {cur_code}")
    if result.invoice_totals:
        lines.append("  Approved; the invoice finalize will make of each:")
        for _pk, (matter_id, cur_code, minor) in sorted(result.invoice_totals.items(),
                                                       key=lambda item: item[1][0]):
            lines.append(f"    {matter_id}: {money.format_amount(minor, cur_code)} {cur_code}")
    for row, typed, billed in result.rounded:
        lines.append(f"  Row {row}: Bill hours {_hours(typed)} typed, {_hours(billed)} billed "
                     + (f"(the client's increment, rounded down: {_hours(typed - billed)} "
                        "less)" if billed < typed else
                        "(the client's guidelines take write-downs as amounts: the hours stay, "
                        "the amount is written down)"))
    return "\n".join([*lines, *_held_lines(result.problems)])


def _held_lines(problems: pd.DataFrame) -> list[str]:
    """What finalize would hold, by matter: each problem once, with the rows it is on."""
    if problems.empty:
        return []
    out = [f"  {problems['prebill_pk'].nunique()} pre-bill(s) would be held at finalize (their "
           "clients would reject the invoice); fix these first:"]
    problems = problems.assign(text=invoice_check.problem_text(problems))
    for (matter_id, pk), block in problems.groupby(["matter_id", "prebill_pk"], sort=True):
        out.append(f"    {matter_id} (pre-bill {int(pk)}):")
        for text, same in block.groupby("text", sort=False):
            rows = [str(int(r)) for r in dict.fromkeys(same["row"]) if not pd.isna(r)]
            where = (f"row{'s' if len(rows) > 1 else ''} {', '.join(rows)}: " if rows
                     else "the invoice: ")
            out.append(f"      {where}{text}")
    return out


def _hours(milli: int) -> str:
    return f"{money.milli_to_qty(int(milli)).normalize():f}"

