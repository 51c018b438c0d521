"""Invoice schedules: a plan of future invoices for retainers, installments and milestones.

Each item is an amount with a date (installments, retainers) or a trigger (a milestone such as
"signing"). ``billxl invoice finalize`` invoices every item that is due — dated on or before the
invoice date, or triggered — once; an item already invoiced can no longer be edited.

A plan is built from the terms agreed with the client (:func:`plan`, by
:func:`billxl.billing.schedule_builder.build` with the client's currency, rounding rule and
tax, and the firm's weekend rule, public holidays and closure dates) or given item by item (:func:`save_items`, what the
workbook's Schedules sheet saves). Either way only the items not yet invoiced change: the new
plan replaces them whole, in one transaction, audited with the old and the new plan; on a
matter with a fixed fee, what is invoiced and what is planned must add up to the fee.

Without a total, installments split what is left of the fixed fee (the fee less what is
invoiced), so changing the terms after two of three installments were invoiced spreads the
rest over the new items; milestones' percentages are of the whole fee.

:func:`due` lists what is due to bill on a day: the matters whose billing cycle
(:mod:`billxl.billing.cycles`) has fallen, with their WIP through the cycle's day when it comes
to their minimum bill, and the scheduled items due or triggered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date

import pandas as pd

from billxl import money
from billxl.billing import closures as billing_closures
from billxl.billing import cycles as billing_cycles
from billxl.billing import schedule_builder as builder
from billxl.billing.invoicing import tax_percent_for
from billxl.errors import InputError, LedgerError
from billxl.reference import Reference
from billxl.store import billing as store
from billxl.store.ledger import Ledger, current_actor

KINDS = builder.KINDS
#: The arrangements whose fee is agreed in advance: a schedule must add up to it.
AGREED_FEES = ("fixed", "milestone")
#: The columns of :func:`plan` / :func:`preview` frames.
PLAN_COLUMNS = ["schedule_id", "matter_id", "kind", "due_on", "trigger", "description",
                "amount_minor", "tax_percent", "tax_minor", "currency", "status",
                "invoice_number"]
DUE_COLUMNS = ["what", "matter_id", "client_id", "billing_cycle", "falls_on", "description",
               "amount_minor", "currency", "entries", "schedule_id"]


def needs_due_date(kind: str) -> str:
    """What an installment or a retainer without a date is told: "an installment needs the date
    it falls due" (one wording for the API, the command line and the schedule sheet)."""
    return f"{'an' if kind[:1] in tuple('aeiou') else 'a'} {kind} needs the date it falls due"


def add_item(ledger: Ledger, matter_id: str, *, kind: str, amount: str, description: str,
             due_on: date | None = None, trigger: str | None = None,
             actor: str | None = None) -> int:
    """Plan an invoice. Installments and retainers need a date; milestones a trigger. On a
    matter with a fixed fee, refused (nothing written) when its items would come to more
    than the fee; :func:`fee_left` says how far they are from it."""
    if kind not in KINDS:
        raise LedgerError(f"{kind!r} is not a kind of scheduled invoice; use one of {KINDS}.")
    if kind == "milestone" and not trigger:
        raise LedgerError("A milestone needs its trigger, e.g. 'on signing'.")
    if kind != "milestone" and due_on is None:
        raise LedgerError(needs_due_date(kind).capitalize() + ".")
    with ledger.transaction() as conn:
        currency = store.matter_currency(conn, matter_id)
        if currency is None:
            raise LedgerError(f"There is no matter {matter_id} in the ledger.")
        row = {"matter_id": matter_id, "kind": kind, "due_on": due_on, "trigger": trigger,
               "amount_minor": money.to_minor(amount, currency), "description": description}
        _refuse_over_fee(ledger, conn, matter_id, row["amount_minor"])
        return store.insert_schedule_item(ledger, conn, row, actor=actor)


@dataclasses.dataclass(frozen=True)
class FeeLeft:
    """How far a fixed-fee matter's scheduled items (invoiced and planned) are from its fee."""

    matter_id: str
    currency: str
    fee_minor: int
    invoiced_minor: int
    planned_minor: int

    @property
    def left_minor(self) -> int:
        return self.fee_minor - self.invoiced_minor - self.planned_minor

    def __str__(self) -> str:
        scheduled = _shown(self.invoiced_minor + self.planned_minor, self.currency)
        head = (f"The items of {self.matter_id} come to {scheduled} of its fixed fee of "
                f"{_shown(self.fee_minor, self.currency)}")
        if self.left_minor == 0:
            return head + ": the whole fee is scheduled."
        return head + f": {_shown(self.left_minor, self.currency)} is left to schedule."


def _fee_left(ledger: Ledger, conn, matter_id: str) -> FeeLeft | None:
    """The fee and the items of a matter (its schedule locked), None without a fixed fee."""
    context = matter_terms(Reference.from_ledger(ledger, conn), matter_id)
    if context.fee_minor is None:
        return None
    items = store.lock_matter_schedule(ledger, conn, matter_id)
    done = _invoiced(items)
    invoiced = int(done["amount_minor"].sum()) if len(done) else 0
    total = int(items["amount_minor"].sum()) if len(items) else 0
    return FeeLeft(matter_id, context.currency, context.fee_minor, invoiced, total - invoiced)


def fee_left(ledger: Ledger, matter_id: str) -> FeeLeft | None:
    """How far a matter's scheduled items are from its fixed fee (None: it has none)."""
    with ledger.engine.connect() as conn:
        return _fee_left(ledger, conn, matter_id)


def _refuse_over_fee(ledger: Ledger, conn, matter_id: str, change_minor: int) -> None:
    """Refuse a change of ``change_minor`` to a matter's items that takes them over its fee."""
    now = _fee_left(ledger, conn, matter_id)
    if now is not None and change_minor > now.left_minor:
        try:
            builder.check_adds_up(now.planned_minor + change_minor, now.fee_minor, now.currency,
                                  invoiced_minor=now.invoiced_minor, matter=matter_id)
        except InputError as error:
            raise InputError(f"{error} Nothing was written.") from None


def _open_item(conn, schedule_id: int) -> dict:
    row = store.read_schedule_item(conn, schedule_id)
    if row is None:
        raise LedgerError(f"There is no scheduled invoice {schedule_id}.")
    if row["invoice_pk"] is not None:
        raise LedgerError(f"Scheduled invoice {schedule_id} has been invoiced; it cannot change "
                          "(correct the invoice with a credit note).")
    return row


def update_item(ledger: Ledger, schedule_id: int, *, actor: str | None = None, **changes) -> None:
    """Change the amount (text), date, trigger or description of an item not yet invoiced."""
    allowed = {"amount", "due_on", "trigger", "description", "triggered_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise LedgerError(f"A scheduled invoice has no {', '.join(sorted(unknown))} to change.")
    with ledger.transaction() as conn:
        before = _open_item(conn, schedule_id)
        values = {k: v for k, v in changes.items() if k != "amount"}
        if "amount" in changes:
            values["amount_minor"] = money.to_minor(
                changes["amount"], store.matter_currency(conn, before["matter_id"]))
            _refuse_over_fee(ledger, conn, before["matter_id"],
                             values["amount_minor"] - int(before["amount_minor"]))
        store.update_schedule_item(ledger, conn, schedule_id, before, values, actor=actor)


def trigger(ledger: Ledger, schedule_id: int, on: date, *, actor: str | None = None) -> None:
    """Record that a milestone happened: it is invoiced at the next finalize."""
    update_item(ledger, schedule_id, triggered_on=on, actor=actor)


def list_items(ledger: Ledger, matter_id: str | None = None) -> pd.DataFrame:
    """Scheduled invoices (of a matter, or all), each 'planned' or 'invoiced'."""
    frame = store.read_schedule_items(ledger, matter_id)
    frame["status"] = frame["invoice_number"].map(lambda n: "planned" if _blank(n) else "invoiced")
    return frame


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


# =================================================================================== plans
@dataclasses.dataclass(frozen=True)
class MatterTerms:
    """What a schedule of a matter is built with, read from the ledger."""

    matter_id: str
    client_id: str
    currency: str
    rounding: money.Rounding
    weekend_rule: str
    jurisdiction: str | None
    fee_minor: int | None  # the agreed fee (fixed and milestone arrangements), else None
    tax_rates: pd.DataFrame
    closures: billing_closures.Closures = billing_closures.Closures()

    def tax_percent(self, on: date):
        return tax_percent_for(self.tax_rates, self.jurisdiction, on, "fees")

    def build(self, terms: builder.Terms) -> list[builder.Item]:
        return builder.build(terms, currency=self.currency, rounding=self.rounding,
                             weekend_rule=self.weekend_rule, tax_percent=self.tax_percent,
                             holidays=self.closures.days)


def matter_terms(reference: Reference, matter_id: str) -> MatterTerms:
    """The currency, rounding rule, tax and agreed fee a matter's schedule is built with."""
    try:
        matter = reference.matter(matter_id)
    except KeyError:
        raise LedgerError(f"There is no matter {matter_id} in the ledger.") from None
    client = reference.client(matter["client_id"])
    fee = matter.get("fixed_fee_minor")
    agreed = matter["fee_arrangement"] in AGREED_FEES and fee is not None
    return dataclasses.replace(
        firm_terms(reference, client["currency"]), matter_id=matter_id,
        client_id=matter["client_id"], rounding=reference.rounding_of(matter["client_id"]),
        jurisdiction=client.get("tax_jurisdiction"), fee_minor=int(fee) if agreed else None,
        tax_rates=reference.tax_rates if reference.tax_rates is not None else pd.DataFrame())


def firm_terms(reference: Reference | None, currency: str | None = None) -> MatterTerms:
    """What a schedule of no matter is built with: ``currency`` (blank: the firm's), the
    firm's rounding rule, weekend rule, holidays and closure dates, and no tax (tax is a
    client's). Without a ledger (``reference`` None): the library's defaults, weekends only."""
    firm = (reference.firm if reference is not None else None) or {}
    rounding = reference.firm_rounding if reference is not None else money.DEFAULT_ROUNDING
    return MatterTerms("", "", currency or firm.get("currency") or "USD", rounding,
                       firm.get("weekend_rule") or "modified_following", None, None,
                       pd.DataFrame(), billing_closures.closures_of(firm))


def _invoiced(items: pd.DataFrame) -> pd.DataFrame:
    return items[items["invoice_pk"].notna()] if len(items) else items


def _resolved(terms: builder.Terms, context: MatterTerms, invoiced_minor: int) -> builder.Terms:
    """The terms with the fixed fee filled in where they leave it out: installments split what
    is left of it, milestones' percentages are of the whole of it."""
    if terms.total is not None or context.fee_minor is None:
        return terms
    if terms.kind == "installment":
        left = context.fee_minor - invoiced_minor
        if left <= 0:
            raise InputError(f"Nothing is left of the fixed fee of {context.matter_id} to plan: "
                             f"{_shown(invoiced_minor, context.currency)} of "
                             f"{_shown(context.fee_minor, context.currency)} is invoiced.")
        return dataclasses.replace(terms, total=money.from_minor(left, context.currency))
    if terms.kind == "milestone":
        return dataclasses.replace(terms, total=money.from_minor(context.fee_minor,
                                                                 context.currency))
    return terms


def _shown(minor: int, currency: str) -> str:
    return f"{money.from_minor(minor, currency):,} {currency}"


def _item_rows(matter_id: str, items: Iterable[builder.Item]) -> list[dict]:
    return [{"matter_id": matter_id, "kind": i.kind, "due_on": i.due_on, "trigger": i.trigger,
             "amount_minor": int(i.amount_minor), "description": i.description}
            for i in items]


def _check_items(items: list[builder.Item], context: MatterTerms, invoiced_minor: int) -> None:
    for i, item in enumerate(items, start=1):
        if item.kind not in KINDS:
            raise InputError(f"Item {i}: {item.kind!r} is not a kind of scheduled invoice; use "
                             f"one of {', '.join(KINDS)}.")
        if item.kind == "milestone" and not (item.trigger or "").strip():
            raise InputError(f"Item {i}: a milestone needs its trigger, e.g. 'on signing'.")
        if item.kind != "milestone" and item.due_on is None:
            raise InputError(f"Item {i}: {needs_due_date(item.kind)}.")
        if item.amount_minor <= 0:
            raise InputError(f"Item {i}: the amount must be more than zero.")
    if context.fee_minor is not None:
        builder.check_adds_up(sum(i.amount_minor for i in items), context.fee_minor,
                              context.currency, invoiced_minor=invoiced_minor,
                              matter=context.matter_id)


def preview(ledger: Ledger, matter_id: str, terms: builder.Terms) -> pd.DataFrame:
    """The plan :func:`plan` would make of ``terms`` (the invoiced items, then the new ones),
    checked, without writing it."""
    reference = Reference.from_ledger(ledger)
    context = matter_terms(reference, matter_id)
    with ledger.engine.connect() as conn:
        current = store.read_schedule_items(ledger, matter_id, conn)
    done = _invoiced(current)
    invoiced_minor = int(done["amount_minor"].sum()) if len(done) else 0
    items = context.build(_resolved(terms, context, invoiced_minor))
    _check_items(items, context, invoiced_minor)
    return _plan_frame(done, items, context)


def plan(ledger: Ledger, matter_id: str, terms: builder.Terms, *,
         actor: str | None = None) -> pd.DataFrame:
    """Build a matter's schedule from ``terms`` and put it in place of the items not yet
    invoiced (audited with the old and new plan). Returns the whole plan."""
    def make(matter: str, context: MatterTerms, done: pd.DataFrame, invoiced_minor: int):
        resolved = _resolved(terms, context, invoiced_minor)
        return context.build(resolved), _terms_record(resolved)

    return _replace_plans(ledger, [matter_id], make, actor)[matter_id]


def save_items(ledger: Ledger, matter_id: str, items: list[builder.Item], *,
               invoiced: Iterable[int] | None = None, actor: str | None = None) -> pd.DataFrame:
    """Put ``items`` in place of a matter's items not yet invoiced (checked, audited); see
    :func:`save_plans`. Returns the whole plan."""
    return save_plans(ledger, {matter_id: items},
                      invoiced=None if invoiced is None else {matter_id: invoiced},
                      actor=actor)[matter_id]


def save_plans(ledger: Ledger, plans: Mapping[str, list[builder.Item]], *,
               invoiced: Mapping[str, Iterable[int]] | None = None,
               actor: str | None = None) -> dict[str, pd.DataFrame]:
    """Put each matter's ``plans[matter]`` in place of its items not yet invoiced, all the
    matters in one transaction (all or nothing; checked, each audited with its old and new
    plan). ``invoiced[matter]``, when given, names the items the caller saw invoiced: refused
    if the ledger's differ (one was invoiced since, say). Returns each matter's whole plan."""
    def make(matter: str, context: MatterTerms, done: pd.DataFrame, invoiced_minor: int):
        if invoiced is not None and matter in invoiced:
            seen = {int(i) for i in invoiced[matter]}
            held = set(done["schedule_id"].astype(int)) if len(done) else set()
            if seen != held:
                def listed(ids: set[int]) -> str:
                    return ", ".join(map(str, sorted(ids))) or "none"

                raise LedgerError(
                    f"The schedule of {matter} has changed in the ledger since it was read: "
                    f"the items invoiced are {listed(held)}, not {listed(seen)}; load it again.")
        return list(plans[matter]), {"given": "item by item"}

    return _replace_plans(ledger, list(plans), make, actor)


def _replace_plans(ledger: Ledger, matters: list[str], make,
                   actor: str | None) -> dict[str, pd.DataFrame]:
    """In one transaction, for each matter: its schedule locked, ``make(matter, context,
    invoiced items, their total)`` -> (new items, the terms to audit), checked, written in
    place of the open items and audited with the old plan. Returns each matter's plan."""
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        reference = Reference.from_ledger(ledger, conn)
        for matter_id in matters:
            context = matter_terms(reference, matter_id)
            current = store.lock_matter_schedule(ledger, conn, matter_id)
            done = _invoiced(current)
            invoiced_minor = int(done["amount_minor"].sum()) if len(done) else 0
            items, terms = make(matter_id, context, done, invoiced_minor)
            _check_items(items, context, invoiced_minor)
            before = current[current["invoice_pk"].isna()] if len(current) else current
            old = [{k: r[k] for k in ("schedule_id", "kind", "due_on", "trigger",
                                      "amount_minor", "description")}
                   for r in _records(before)]
            store.replace_open_schedule_items(
                ledger, conn, matter_id, _item_rows(matter_id, items), old,
                {"terms": terms, "invoiced_minor": invoiced_minor}, actor=actor)
    return {m: list_plan(ledger, m) for m in matters}


def _terms_record(terms: builder.Terms) -> dict:
    record = dataclasses.asdict(terms)
    record["milestones"] = [{k: (None if v is None else str(v)) for k, v in m.items()}
                            for m in record["milestones"]]
    for key in ("total", "amount"):
        record[key] = None if record[key] is None else str(record[key])
    record["dates"] = [d.isoformat() for d in record["dates"]]
    record["start"] = None if terms.start is None else terms.start.isoformat()
    return record


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows of a schedule frame as plain values: None for missing, dates as dates."""
    out = frame.astype(object).where(frame.notna(), None)
    for column in ("due_on", "triggered_on"):
        if column in out:
            out[column] = [None if v is None else pd.Timestamp(v).date() for v in out[column]]
    return out.to_dict("records")


def list_plan(ledger: Ledger, matter_id: str) -> pd.DataFrame:
    """A matter's schedule as :data:`PLAN_COLUMNS`: each item with the tax it will carry and
    whether it is planned or invoiced."""
    reference = Reference.from_ledger(ledger)
    context = matter_terms(reference, matter_id)
    current = store.read_schedule_items(ledger, matter_id)
    return _plan_frame(current, [], context)


def _plan_frame(stored: pd.DataFrame, new: list[builder.Item],
                context: MatterTerms) -> pd.DataFrame:
    rows = []
    for r in _records(stored):
        day = r["due_on"]
        amount = int(r["amount_minor"])
        percent = context.tax_percent(day or date.today())
        rows.append({"schedule_id": int(r["schedule_id"]), "matter_id": r["matter_id"],
                     "kind": r["kind"], "due_on": day, "trigger": r["trigger"],
                     "description": r["description"], "amount_minor": amount,
                     "tax_percent": percent,
                     "tax_minor": money.percent_of(amount, percent, context.rounding),
                     "status": "planned" if r["invoice_pk"] is None else "invoiced",
                     "invoice_number": r.get("invoice_number")})
    rows += [{"schedule_id": None, "matter_id": context.matter_id, "kind": i.kind,
              "due_on": i.due_on, "trigger": i.trigger, "description": i.description,
              "amount_minor": i.amount_minor, "tax_percent": i.tax_percent,
              "tax_minor": i.tax_minor, "status": "new", "invoice_number": None} for i in new]
    frame = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    frame["currency"] = context.currency
    frame["schedule_id"] = _ids(frame["schedule_id"])
    return frame


# =================================================================================== cycles
def set_cycle(ledger: Ledger, client_or_matter: str, cycle: str | None, day: int | None = None,
              *, actor: str | None = None) -> str:
    """Set the billing cycle (and the day of the month it falls; None: the last day) of a
    matter or of a client (its matters without their own follow it); ``cycle`` None goes
    back to the client's (a matter) or to monthly (a client). Returns 'matter' or 'client'."""
    if cycle is not None and cycle not in billing_cycles.CYCLES:
        raise InputError(f"{cycle!r} is not a billing cycle: use "
                         f"{', '.join(billing_cycles.CYCLES)}.")
    if day is not None and not (isinstance(day, int) and 1 <= day <= 31):
        raise InputError(f"The cycle's day is a day of the month, 1 to 31, not {day!r}.")
    values = {"billing_cycle": cycle, "billing_day": day}
    with ledger.transaction() as conn:
        for table in ("matters", "clients"):
            if store.set_billing_cycle(ledger, conn, table, client_or_matter, values,
                                       actor=actor):
                return table[:-1]
    raise LedgerError(f"There is no matter or client {client_or_matter} in the ledger.")


def due(ledger: Ledger, on: date) -> pd.DataFrame:
    """What is due to bill on ``on`` (:data:`DUE_COLUMNS`), by matter: its cycle's WIP
    (``what`` 'cycle': the billable WIP worked through the cycle's last day and not on an
    approved pre-bill already, when it comes to the matter's minimum bill), then its scheduled
    items due or triggered ('scheduled')."""
    from billxl.store.view import LedgerView

    view = LedgerView(ledger)
    reference = view.reference
    cycles = billing_cycles.cycles_of(reference)
    with ledger.engine.connect() as conn:
        items = store.lock_due_schedule_items(ledger, conn, on, None, lock=False)
        _bills, approved = store.read_open_prebills(ledger, conn, ["approved"])
    triggered = items[items["triggered_on"].notna()] if len(items) else items
    falls = _falls_on(cycles, on, triggered)
    wip = view.wip_rows()
    # billable, and not on an approved pre-bill already (finalize takes those as they are)
    waiting = pd.MultiIndex.from_arrays([approved["entry_kind"].astype(object),
                                         approved["entry_pk"].astype("int64")])
    mine = pd.MultiIndex.from_arrays([wip["entry_kind"].astype(object),
                                      wip["entry_pk"].astype("int64")])
    wip = wip[wip["billable"].to_numpy(dtype=bool) & ~mine.isin(waiting)]
    limit = pd.to_datetime(wip["matter_id"].map(falls))
    mine = wip[(pd.to_datetime(wip["work_date"]) <= limit).to_numpy(dtype=bool)]
    sums = mine.groupby("matter_id").agg(amount_minor=("billing_minor", "sum"),
                                         entries=("entry_pk", "size"),
                                         currency=("currency", "first"))
    terms = reference.terms
    minimum = (terms.dropna(subset=["min_bill_minor"]).set_index("matter_id")["min_bill_minor"]
               if terms is not None and len(terms) and "min_bill_minor" in terms
               else pd.Series(dtype="Int64"))
    sums = sums[(sums["amount_minor"] > 0)
                & (sums["amount_minor"] >= sums.index.map(minimum).fillna(0).astype("int64"))]
    by_matter = cycles.set_index("matter_id")
    rows = [{"what": "cycle", "matter_id": m, "client_id": by_matter.at[m, "client_id"],
             "billing_cycle": by_matter.at[m, "billing_cycle"], "falls_on": falls[m],
             "description": f"WIP through {falls[m]:%d %b %Y}",
             "amount_minor": int(r["amount_minor"]), "currency": r["currency"],
             "entries": int(r["entries"]), "schedule_id": None}
            for m, r in sums.iterrows()]
    currency = {c: reference.client(c)["currency"] for c in set(cycles["client_id"])}
    for r in _records(items):
        m = r["matter_id"]
        rows.append({"what": "scheduled", "matter_id": m, "client_id": by_matter.at[m, "client_id"],
                     "billing_cycle": by_matter.at[m, "billing_cycle"],
                     "falls_on": r["due_on"] or r["triggered_on"],
                     "description": r["description"], "amount_minor": int(r["amount_minor"]),
                     "currency": currency[by_matter.at[m, "client_id"]], "entries": 0,
                     "schedule_id": int(r["schedule_id"])})
    frame = pd.DataFrame(rows, columns=DUE_COLUMNS).sort_values(
        ["matter_id", "what", "falls_on"], kind="stable", ignore_index=True)
    frame["schedule_id"] = _ids(frame["schedule_id"])
    return frame


def _ids(values: pd.Series) -> pd.Series:
    """Ids as whole numbers, None where there is none (not floats: 1.0)."""
    return pd.Series([None if pd.isna(v) else int(v) for v in values], index=values.index,
                     dtype=object)


def _falls_on(cycles: pd.DataFrame, on: date, triggered: pd.DataFrame) -> dict[str, date]:
    """The day each matter's cycle last fell on or before ``on`` (matters whose has not:
    left out)."""
    out: dict[str, date] = {}
    fired = (pd.to_datetime(triggered["triggered_on"]).groupby(triggered["matter_id"]).max()
             if len(triggered) else pd.Series(dtype="datetime64[ns]"))
    for m, cycle, day, closed in zip(cycles["matter_id"], cycles["billing_cycle"],
                                     cycles["billing_day"], cycles["closed_on"], strict=True):
        if cycle in ("monthly", "quarterly"):
            out[m] = billing_cycles.last_cycle_day(cycle, None if pd.isna(day) else int(day), on)
        elif cycle == "completion" and not pd.isna(closed) and pd.Timestamp(closed).date() <= on:
            out[m] = pd.Timestamp(closed).date()
        elif cycle == "milestones" and m in fired.index:
            out[m] = fired[m].date()
    return out
