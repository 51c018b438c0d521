"""The Schedules sheet read as matters' plans, and the plans written back as its rows.

A row of the Schedules table is one of:

* a **terms row** (a Count or a Frequency): installments split a total (Amount; blank on a
  fixed-fee matter: what is left of the fee) or a retainer's Amount each period, from Due, by
  :func:`billxl.build_schedule`;
* a **milestone share** (a Percent): that share of the matter's fixed fee, invoiced when its
  Trigger happens (a matter's shares together, what rounding leaves on the last);
* an **item**: Kind, Due (installments, retainers) or Trigger (milestones), Amount, Description;
* an **invoiced item** (Status ``invoiced``): locked; it must be as the ledger has it;
* a row with **only a matter**: that matter's schedule is shown, not changed.

:func:`read_plans` turns the rows into each matter's new items, with every problem found
(sheet, row, column, why), and changes nothing; the command saves them all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billxl import (
    InputError,
    Milestone,
    Problem,
    ScheduledItem,
    ScheduleTerms,
    from_minor,
    to_minor,
)
from billxl.billing import schedules
from billxl.billing.schedule_builder import check_adds_up
from billxl.excel import arguments as cellargs
from billxl.excel import layout
from billxl.money import minor_digits

__all__ = ["INPUTS", "LOCKED", "SheetPlans", "read_plans", "matters_named", "plan_rows"]

#: The columns a secretary types (all blank but Matter: the row asks to see the schedule).
INPUTS = ("kind", "due_on", "trigger", "percent", "count", "frequency", "amount", "description")
#: The Status an invoiced item is shown with.
LOCKED = "invoiced: locked"


@dataclass
class SheetPlans:
    """What the rows ask for: each matter's new items (in sheet order), the matters only to
    show, the invoiced items left as they are, and the problems found."""

    plans: dict[str, list] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)  # every matter named, in sheet order
    locked: int = 0
    problems: list[Problem] = field(default_factory=list)


class _Rows:
    """Cell conversions of one table, and its problems told by sheet, row and column."""

    def __init__(self, book: str, frame: pd.DataFrame):
        self.book, self.frame = book, frame
        self.spec = layout.table("Schedules")
        self.problems: list[Problem] = []

    def header(self, name: str) -> str:
        return self.spec.header_of(name)

    def cell(self, row: Any, name: str) -> Any:
        header = self.header(name)
        return self.frame.at[row, header] if header in self.frame else None

    def bad(self, row: Any, name: str | None, reason: str, value: Any = None) -> None:
        self.problems.append(Problem(self.book, int(row), None if name is None else
                                     self.header(name), None if value is None else
                                     str(value), reason, sheet=self.spec.sheet))

    def text(self, row: Any, name: str, *, lower: bool = False) -> str | None:
        found = cellargs.ids(np.array([self.cell(row, name)], dtype=object))[0]
        return found.lower() if found and lower else found

    def day(self, row: Any, name: str):
        found = cellargs.days(np.array([self.cell(row, name)], dtype=object))[0]
        if isinstance(found, str):
            self.bad(row, name, found, self.cell(row, name))
            return None
        return found

    def number(self, row: Any, name: str, digits: int) -> Decimal | None:
        found = cellargs.exact(np.array([self.cell(row, name)], dtype=object), digits)[0]
        if isinstance(found, str):
            self.bad(row, name, found, self.cell(row, name))
            return None
        return found


def read_plans(book: str, frame: pd.DataFrame, reference, current: dict[str, pd.DataFrame]
               ) -> SheetPlans:
    """The Schedules rows (``frame``, indexed by sheet row) as each matter's new items.
    ``current``: each named matter's plan in the ledger now (``schedules.list_plan``), found
    by the caller for the matters :func:`matters_named` lists."""
    rows = _Rows(book, frame)
    out = SheetPlans()
    shares: dict[str, list[tuple[Any, Milestone]]] = {}
    for row in frame.index:
        matter = rows.text(row, "matter_id")
        if matter is None:
            rows.bad(row, "matter_id", "which matter? Every row needs its matter")
            continue
        if matter not in current:
            rows.bad(row, "matter_id", f"there is no matter {matter} in the ledger", matter)
            continue
        if matter not in out.shown:
            out.shown.append(matter)
        context = schedules.matter_terms(reference, matter)
        plan = current[matter]
        if _is_invoiced(rows, row, plan):
            out.locked += _check_locked(rows, row, plan, context)
            continue
        if all(_blank(rows.cell(row, name)) for name in INPUTS):
            continue  # only the matter: show its schedule
        items = out.plans.setdefault(matter, [])
        made = _row_items(rows, row, matter, context, plan, items, shares)
        items.extend(made)
    for matter, milestones in shares.items():
        _add_shares(rows, matter, milestones, out.plans[matter], reference)
    for matter, items in out.plans.items():
        _check_fee(rows, frame, matter, items, current[matter], reference)
    out.problems = rows.problems
    return out


def matters_named(frame: pd.DataFrame) -> list[str]:
    """The matters the rows name, in sheet order."""
    header = layout.table("Schedules").header_of("matter_id")
    if header not in frame:
        return []
    return list(dict.fromkeys(m for m in cellargs.ids(frame[header].to_numpy(dtype=object))
                              if m is not None))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (
        isinstance(value, str) and not value.strip())


def _is_invoiced(rows: _Rows, row, plan: pd.DataFrame) -> bool:
    """A row of an item the ledger has invoiced (by its Item number), or one shown so."""
    status = (rows.text(row, "status", lower=True) or "")
    item = rows.number(row, "schedule_id", 0)
    invoiced = set(plan.loc[plan["status"] == "invoiced", "schedule_id"].astype(int))
    return status.startswith("invoiced") or (item is not None and int(item) in invoiced)


def _check_locked(rows: _Rows, row, plan: pd.DataFrame, context) -> int:
    """An invoiced item's row must be as the ledger has it; 1 when it is."""
    item = rows.number(row, "schedule_id", 0)
    mine = plan[plan["schedule_id"] == (None if item is None else int(item))]
    if mine.empty or mine["status"].iloc[0] != "invoiced":
        rows.bad(row, "schedule_id", "this row says invoiced, but the matter has no invoiced "
                 "item with this number: clear the Status to plan it as a new item", item)
        return 0
    stored = mine.iloc[0]
    typed = {"due_on": rows.day(row, "due_on"), "trigger": rows.text(row, "trigger"),
             "amount": rows.number(row, "amount", minor_digits(context.currency)),
             "description": rows.text(row, "description"),
             "kind": rows.text(row, "kind", lower=True)}
    ledger = {"due_on": stored["due_on"], "trigger": stored["trigger"],
              "amount": from_minor(int(stored["amount_minor"]), context.currency),
              "description": stored["description"], "kind": stored["kind"]}
    changed = [k for k in typed if typed[k] != ledger[k] and not (
        _blank(typed[k]) and _blank(ledger[k]))]
    for name in changed:
        rows.bad(row, name, f"item {int(stored['schedule_id'])} was invoiced (invoice "
                 f"{stored['invoice_number']}) and is locked: it cannot change "
                 f"(the ledger has {ledger[name]!s}); correct the invoice with a credit note",
                 typed[name])
    return 0 if changed else 1


def _row_items(rows: _Rows, row, matter: str, context, plan: pd.DataFrame, items: list,
               shares: dict) -> list:
    """The items one row makes (none when it is a milestone share, kept for its matter)."""
    kind = rows.text(row, "kind", lower=True)
    percent = rows.number(row, "percent", 6)
    count = rows.number(row, "count", 0)
    frequency = rows.text(row, "frequency", lower=True)
    amount = rows.number(row, "amount", minor_digits(context.currency))
    due = rows.day(row, "due_on")
    trigger = rows.text(row, "trigger")
    description = rows.text(row, "description")
    if kind is None:
        kind = "milestone" if percent is not None or trigger else "installment"
    if kind not in schedules.KINDS:
        rows.bad(row, "kind", f"not a kind of scheduled invoice: use "
                 f"{', '.join(schedules.KINDS)}", kind)
        return []
    if percent is not None:
        if kind != "milestone":
            rows.bad(row, "percent", "a percentage of the fee is a milestone's: set Kind to "
                     "milestone, or give the Amount", percent)
        elif context.fee_minor is None:
            rows.bad(row, "percent", f"{matter} has no fixed fee to take a percentage of: give "
                     "the Amount", percent)
        elif not trigger:
            rows.bad(row, "trigger", "a milestone needs its trigger, e.g. 'on signing'")
        else:
            shares.setdefault(matter, []).append((row, Milestone(trigger, percent=percent,
                                                                 description=description)))
        return []
    if count is not None or frequency is not None:
        return _terms_items(rows, row, kind, count, frequency, amount, due, description,
                            context, plan, items)
    problems = len(rows.problems)
    if amount is None:
        rows.bad(row, "amount", "the item's amount is missing")
    if kind == "milestone" and not trigger:
        rows.bad(row, "trigger", "a milestone needs its trigger, e.g. 'on signing'")
    if kind != "milestone" and due is None:
        rows.bad(row, "due_on", schedules.needs_due_date(kind))
    if len(rows.problems) > problems:
        return []
    minor = to_minor(amount, context.currency)
    if minor <= 0:
        rows.bad(row, "amount", "the amount must be more than zero", amount)
        return []
    return [ScheduledItem(kind, description or _label(kind, trigger), minor,
                          due_on=None if kind == "milestone" else due,
                          trigger=trigger if kind == "milestone" else None)]


def _label(kind: str, trigger: str | None) -> str:
    return f"Milestone: {trigger}" if kind == "milestone" else kind.capitalize()


def _terms_items(rows: _Rows, row, kind, count, frequency, amount, due, description, context,
                 plan: pd.DataFrame, items: list) -> list:
    """A terms row built into its items (a blank total on a fixed-fee matter: what is left of
    the fee after what is invoiced and the matter's rows above)."""
    if kind == "milestone":
        rows.bad(row, "count", "milestones are one row each, with a Percent or an Amount")
        return []
    total = amount if kind == "installment" else None
    if kind == "installment" and total is None:
        if context.fee_minor is None:
            rows.bad(row, "amount", "the total to split is missing (the matter has no fixed "
                     "fee to split)")
            return []
        invoiced = int(plan.loc[plan["status"] == "invoiced", "amount_minor"].sum())
        left = context.fee_minor - invoiced - sum(i.amount_minor for i in items)
        total = from_minor(left, context.currency)
    terms = ScheduleTerms(kind, total=total, count=None if count is None else int(count),
                          start=due, frequency=frequency or "monthly",
                          amount=amount if kind == "retainer" else None,
                          description=description)
    try:
        return context.build(terms)
    except InputError as error:
        rows.bad(row, None, error.summary)
        return []


def _add_shares(rows: _Rows, matter: str, shares: list, items: list, reference) -> None:
    """The matter's milestone shares, built together (the last takes what rounding leaves)."""
    context = schedules.matter_terms(reference, matter)
    terms = ScheduleTerms("milestone", total=from_minor(context.fee_minor, context.currency),
                          milestones=tuple(m for _row, m in shares))
    try:
        items.extend(context.build(terms))
    except InputError as error:
        rows.bad(shares[0][0], "percent", error.summary)


def _check_fee(rows: _Rows, frame: pd.DataFrame, matter: str, items: list,
               plan: pd.DataFrame, reference) -> None:
    """A fixed-fee matter's items and its invoiced ones must add up to the fee."""
    context = schedules.matter_terms(reference, matter)
    if context.fee_minor is None:
        return
    invoiced = int(plan.loc[plan["status"] == "invoiced", "amount_minor"].sum())
    try:
        check_adds_up(sum(i.amount_minor for i in items), context.fee_minor, context.currency,
                      invoiced_minor=invoiced, matter=matter)
    except InputError as error:
        first = next(r for r in frame.index if rows.text(r, "matter_id") == matter)
        rows.bad(first, "amount", error.summary)


def plan_rows(plans: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The matters' plans (``schedules.list_plan``) as the Schedules table, matter by matter."""
    frames = [p for p in plans.values() if len(p)]
    spec = layout.table("Schedules")
    if not frames:
        return pd.DataFrame(columns=spec.headers)
    plan = pd.concat(frames, ignore_index=True)
    money = [[None if pd.isna(v) else from_minor(int(v), c) for v, c in
              zip(plan[col], plan["currency"], strict=True)] for col in ("amount_minor",
                                                                          "tax_minor")]
    values = {
        "matter_id": plan["matter_id"], "schedule_id": plan["schedule_id"],
        "kind": plan["kind"], "due_on": plan["due_on"], "trigger": plan["trigger"],
        "amount": money[0], "description": plan["description"], "tax": money[1],
        "currency": plan["currency"],
        "status": plan["status"].map({"invoiced": LOCKED}).fillna(plan["status"]),
        "invoice_number": plan["invoice_number"]}
    return pd.DataFrame({spec.header_of(k): (v.to_numpy() if isinstance(v, pd.Series) else v)
                         for k, v in values.items()})
