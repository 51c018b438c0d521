"""The monthly billing pack: a month's headline figures against last month and the year to
date, then WIP aging, billing, collections, AR aging, write-downs and write-offs with their
reasons, open exceptions, e-billing submissions and the largest overdue invoices.

Every figure is its one definition in :mod:`billxl.figures`, taken over the firm's frames of
:mod:`billxl.packs.source` filtered to the pack's scope. Money is integer minor units beside a
``currency`` column, never summed across currencies; each money table ends its currency's rows
with a total row (``_total``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from billxl.billing.vocabulary import REASON_CODES
from billxl.figures import aging, lockup, performance, wip
from billxl.packs import source
from billxl.packs.source import MonthFrames, Scope, named, with_totals
from billxl.packs.tables import Pack

BUCKETS = [(b, aging.BUCKET_LABELS[b], "money") for b in aging.BUCKETS]
#: An aging's columns after its buckets: what is owed, the credits beside it, and the net.
OWED = [("total", "Owed", "money"), ("credits", "Credits", "money"), ("net", "Net", "money")]
CLIENT_MATTER = [("client", "Client", "text"), ("matter_id", "Matter", "text"),
                 ("matter", "Matter name", "text")]
#: The headline's periods: (column, flows, stocks) -- year to date has no stocks.
PERIODS = (("this_month", "month", "this"), ("last_month", "last_month", "last"),
           ("ytd", "ytd", None))
OTHER_DIFFERENCE = "Other differences: agreed rates, fee arrangements, line adjustments"
TOP_OVERDUE = 10


# ====================================================================================== headline
def _by_currency(frame: pd.DataFrame, value: str) -> dict[str, int]:
    if frame.empty:
        return {}
    sums = frame.groupby("currency")[value].sum()
    return {str(k): int(v) for k, v in sums.items()}


def _period_values(frames: MonthFrames, scope: Scope, name: str) -> dict[str, Any]:
    """The flows' figures of one period for the scope: money per currency, ratios per currency,
    hours and utilisation as single values."""
    f = frames.flows(name)
    worked = scope.keep(f.worked)
    billable = worked[worked["billable"]]
    billed = _by_currency(scope.keep(f.billed), "billed_minor")
    collected = _by_currency(scope.keep(f.collected), "collected_minor")
    wb = scope.keep(f.worked_billed)
    standard = _by_currency(wb, "standard_minor")
    fees_line = _by_currency(wb, "fees_line_minor")
    ratios: dict[str, dict[str, Any]] = {}
    for cur in set(standard) | set(billed) | set(collected):
        ratios[cur] = performance.realizations(standard.get(cur, 0), fees_line.get(cur, 0),
                                               billed.get(cur, 0), collected.get(cur, 0))
    people = scope.timekeepers
    if people is None and scope.kind != "firm":  # who worked on the scope's matters
        people = frozenset(worked["timekeeper_id"].dropna())
    use = f.utilisation if people is None else f.utilisation[
        f.utilisation["timekeeper_id"].isin(people)]
    return {
        "hours": int(billable["hours_milli"].sum()),
        "worked": _by_currency(billable, "standard_minor"),
        "billed": billed, "collected": collected,
        "billing_realization": {c: r["billing_realization"] for c, r in ratios.items()},
        "collection_realization": {c: r["collection_realization"] for c, r in ratios.items()},
        "collection_rate": {c: r["collection_rate"] for c, r in ratios.items()},
        "utilisation": performance.ratio(int(use["billable_milli"].sum()),
                                         int(use["available_milli"].sum())),
    }


def _stock_values(frames: MonthFrames, scope: Scope, stocks: source.Stocks) -> dict[str, Any]:
    """The stocks' figures on one day for the scope, per currency."""
    held = scope.keep_credits(stocks.credits)
    days = lockup.lockup(scope.keep(stocks.balances), scope.keep(frames.journals.invoices),
                         scope.keep(stocks.wip_rows), stocks.day,
                         since=lockup.history_start(frames.journals.invoices))
    by_cur = days.set_index("currency")
    return {
        "wip": _by_currency(scope.keep(stocks.wip_rows), "billing_minor"),
        "ar": _by_currency(scope.keep(stocks.items), "balance_minor"),
        "credits": {} if held is None else _by_currency(held, "credits_minor"),
        "debtor_days": by_cur["debtor_days"].to_dict(),
        "wip_days": by_cur["wip_days"].to_dict(),
        "lockup_days": by_cur["lockup_days"].to_dict(),
    }


#: The headline's rows: (key, label, kind, a stock?) in reading order.
HEADLINE = (
    ("hours", "Hours worked (billable)", "hours", False),
    ("worked", "Worked value at standard rates", "money", False),
    ("billed", "Billed", "money", False),
    ("collected", "Collected", "money", False),
    ("wip", "WIP at month end (billing rates)", "money", True),
    ("ar", "AR at month end", "money", True),
    ("credits", "Credits held (on account, owed back)", "money", True),
    ("billing_realization", "Billing realization", "ratio", False),
    ("collection_realization", "Collection realization", "ratio", False),
    ("collection_rate", "Collection rate", "ratio", False),
    ("utilisation", "Utilisation", "ratio", False),
    ("debtor_days", "DSO (debtor days)", "days", True),
    ("wip_days", "WIP days", "days", True),
    ("lockup_days", "Lock-up (days)", "days", True),
)
SINGLE = {"hours", "utilisation"}  # one value, in no currency


def headline(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """One row per figure (and currency, for money, ratios and days): ``figure, currency,
    _kind, this_month, last_month, ytd``."""
    values = {}
    for column, flows, stocks in PERIODS:
        got = _period_values(frames, scope, flows)
        if stocks is not None:
            got.update(_stock_values(frames, scope, getattr(frames, stocks)))
        values[column] = got
    currencies = sorted({c for got in values.values() for key, v in got.items()
                         if key not in SINGLE for c in v})
    rows = []
    for key, label, kind, stock in HEADLINE:
        for cur in ([""] if key in SINGLE else currencies):
            row = {"figure": label, "currency": cur, "_kind": kind}
            for column, _flows, _stocks in PERIODS:
                got = values[column].get(key)
                if stock and column == "ytd":
                    row[column] = None
                elif key in SINGLE:
                    row[column] = got
                else:
                    zero = 0 if kind == "money" else None
                    row[column] = got.get(cur, zero)
                    if kind != "money" and row[column] is not None and pd.isna(row[column]):
                        row[column] = None
            rows.append(row)
    out = pd.DataFrame(rows, columns=["figure", "currency", "_kind", "this_month",
                                      "last_month", "ytd"])
    for column, _f, _s in PERIODS:
        out[column] = out[column].astype(object)
        out[column] = [int(v) if isinstance(v, (int, np.integer)) else v for v in out[column]]
    return out


# ====================================================================================== tables
def wip_aging(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    rows = scope.keep(frames.this.wip_rows)
    aged = wip.wip_aging(rows, frames.end, ["client_id", "matter_id"])
    aged = named(aged, frames).sort_values(["currency", "client", "matter_id"], ignore_index=True)
    return with_totals(aged, "client", [*aging.BUCKETS, "total"])


def _by_matter(frame: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    keys = ["client_id", "matter_id", "currency"]
    if frame.empty:
        return pd.DataFrame(columns=[*keys, *values])
    return frame.groupby(keys, as_index=False)[values].sum()


def billing(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    billed = _by_matter(scope.keep(frames.flows("month").billed),
                        ["fees_billed_minor", "expenses_billed_minor", "tax_billed_minor",
                         "billed_minor"])
    billed = billed.rename(columns={"fees_billed_minor": "fees", "expenses_billed_minor":
                                    "expenses", "tax_billed_minor": "tax",
                                    "billed_minor": "total"})
    billed = named(billed, frames).sort_values(["currency", "client", "matter_id"],
                                               ignore_index=True)
    return with_totals(billed, "client", ["fees", "expenses", "tax", "total"])


def collections(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    got = _by_matter(scope.keep(frames.flows("month").collected),
                     ["collected_minor", "from_trust_minor"])
    got = got.rename(columns={"collected_minor": "collected", "from_trust_minor": "from_trust"})
    got = named(got, frames).sort_values(["currency", "client", "matter_id"], ignore_index=True)
    return with_totals(got, "client", ["collected", "from_trust"])


def ar_aging(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    this = frames.this
    aged = aging.aging_table(scope.keep(this.items), "client", scope.keep_credits(this.credits))
    return with_totals(aged, "client", [*aging.BUCKETS, "total", "credits", "net"])


def _reason(code: str) -> str:
    if not code:
        return "No reason given"
    return f"{code}: {REASON_CODES[code]}" if code in REASON_CODES else code


def write_downs(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """Per matter and reason: the pre-bill lines the partner wrote down, and what else the
    month's written-down value (:func:`billxl.figures.period.worked_and_billed`) holds."""
    month = frames.windows["month"]
    keys = ["client_id", "matter_id", "currency"]
    down = _by_matter(scope.keep(frames.flows("month").worked_billed), ["written_down_minor"])
    changes = scope.keep(frames.reads.prebill_changes)
    changes = changes[(changes["closed_on"] >= pd.Timestamp(month.start))
                      & (changes["closed_on"] <= pd.Timestamp(month.end))]
    changes = changes.assign(
        written_down=np.where(changes["action"] == "bill",
                              changes["worked_amount_minor"] - changes["bill_amount_minor"],
                              changes["worked_amount_minor"]),
        reason_code=changes["reason_code"].astype(object).where(changes["reason_code"].notna(),
                                                                 ""),
        note=changes["note"].astype(object).where(changes["note"].notna(), ""))
    changes = changes[(changes["written_down"] != 0) | (changes["reason_code"] != "")]
    if changes.empty:
        reasons = pd.DataFrame(columns=[*keys, "reason_code", "lines", "hours",
                                        "written_down", "notes"])
    else:
        reasons = (changes.groupby([*keys, "reason_code"], as_index=False)
                   .agg(lines=("entry_pk", "size"), hours=("worked_qty_milli", "sum"),
                        written_down=("written_down", "sum"),
                        notes=("note", lambda s: "; ".join(sorted({n for n in s if n})))))
    reasons["reason"] = reasons["reason_code"].map(_reason)
    given = (reasons.groupby(keys, as_index=False)["written_down"].sum()
             .rename(columns={"written_down": "given"}))
    other = down.merge(given, on=keys, how="outer").fillna({"written_down_minor": 0, "given": 0})
    other["written_down"] = (other["written_down_minor"] - other["given"]).astype("int64")
    other = other[other["written_down"] != 0].assign(reason=OTHER_DIFFERENCE, lines=0, hours=0,
                                                     notes="", reason_code="~")
    rows = pd.concat([reasons, other[reasons.columns]], ignore_index=True)
    rows = rows.astype({"lines": "int64", "hours": "int64", "written_down": "int64"})
    rows = named(rows, frames).sort_values(["currency", "client", "matter_id", "reason_code"],
                                           ignore_index=True)
    totals = (down.groupby("currency", as_index=False)["written_down_minor"].sum()
              .rename(columns={"written_down_minor": "written_down"})
              .merge(rows.groupby("currency", as_index=False)[["lines", "hours"]].sum(),
                     on="currency", how="outer")
              .fillna({"written_down": 0, "lines": 0, "hours": 0}))
    totals = totals[(totals["written_down"] != 0) | (totals["lines"] != 0)]
    return with_totals(rows, "client", ["written_down", "lines", "hours"], totals=totals)


def write_offs(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """The month's post-bill write-offs (and their reversals), each with its reason; the total
    is :func:`billxl.figures.period.written_off`."""
    month = frames.windows["month"]
    j = frames.journals
    rows = j.write_offs[(j.write_offs["written_on"] >= pd.Timestamp(month.start))
                        & (j.write_offs["written_on"] <= pd.Timestamp(month.end))]
    rows = rows.merge(j.invoices[["invoice_pk", "number", "client_id", "matter_id", "currency"]],
                      on="invoice_pk", how="left")
    rows = scope.keep(rows).rename(columns={"amount_minor": "amount"})
    rows = source.plain_text(named(rows, frames), ["reason"]).sort_values(
        ["currency", "written_on", "number"], ignore_index=True)
    totals = scope.keep(frames.flows("month").written_off)
    totals = totals.groupby("currency", as_index=False)["written_off_minor"].sum().rename(
        columns={"written_off_minor": "amount"})
    return with_totals(rows, "client", ["amount"], totals=totals)


def exceptions(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """Findings still open or queried on the scope's entries worked by the month's end, by
    rule and severity, with the matters they are on."""
    f = scope.keep(frames.findings)
    f = f[f["status"].isin(source.OPEN_STATUSES) & (f["work_date"] <= pd.Timestamp(frames.end))]
    columns = ["rule", "severity", "findings", "open", "queried", "matters"]
    if f.empty:
        return pd.DataFrame(columns=columns)
    out = (f.assign(open=f["status"] == "open", queried=f["status"] == "queried")
           .groupby(["rule", "severity"], as_index=False)
           .agg(findings=("finding_id", "size"), open=("open", "sum"), queried=("queried", "sum"),
                matters=("matter_id", lambda s: ", ".join(sorted(set(s))))))
    out = out.astype({"findings": "int64", "open": "int64", "queried": "int64"})
    out["_order"] = out["severity"].map({"error": 0, "warning": 1}).fillna(2)
    out = out.sort_values(["_order", "findings", "rule"], ascending=[True, False, True])
    return source.plain_text(out[columns], ["rule", "severity"])


def submissions(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """Portal submissions still waiting for an answer (submitted, appealed) or rejected, of
    invoices dated by the month's end; ``since`` is the day of their latest status."""
    s = scope.keep(frames.submissions_pending())
    s = s.assign(since=s["status_at"].dt.normalize(),
                 reason=s["rejection_reason"].where(s["status"] == "rejected", None),
                 total=s["total_minor"].astype("int64"))
    s = named(s, frames)
    s = source.plain_text(s, ["invoice", "portal", "status", "reason"])
    s = s.sort_values(["currency", "status", "since", "invoice"], ignore_index=True)
    return with_totals(s, "invoice", ["total"])


def top_overdue(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """The largest overdue invoices on the month's end (per currency), each with the trust
    money held for its matter in its currency."""
    items = scope.keep(frames.this.items)
    items = items[items["days"] > 0]
    items = (items.sort_values(["currency", "balance_minor", "number"],
                               ascending=[True, False, True])
             .groupby("currency").head(TOP_OVERDUE))
    trust = frames.this.trust.groupby(["matter_id", "currency"])["balance_minor"].sum()
    index = pd.MultiIndex.from_frame(items[["matter_id", "currency"]])
    out = items.assign(due=items["due_date"], days_overdue=items["days"].astype("int64"),
                       balance=items["balance_minor"].astype("int64"),
                       trust_held=index.map(trust).fillna(0).to_numpy(dtype=np.int64)
                       if len(items) else 0)
    out = source.plain_text(out, ["number"]).reset_index(drop=True)
    return with_totals(out, "number", ["balance", "trust_held"])


# ====================================================================================== the pack
TABLES: tuple[tuple[str, str, Callable, list, str], ...] = (
    ("headline", "Headline figures", headline,
     [("figure", "Figure", "text"), ("currency", "Currency", "text"),
      ("this_month", "This month", "by_row"), ("last_month", "Last month", "by_row"),
      ("ytd", "Year to date", "by_row")],
     "Flows by their own dates (worked: work date; billed: bill date; collected: payment date)"
     " for the month, the month before and the year to the month's end; stocks (WIP, AR, "
     "credits, DSO, WIP days, lock-up) on the month's last day and the previous month's, with "
     "no year-to-date value. Realization: fees billed on fee lines and collected over the "
     "worked value at standard rates of the time billed or written off; collection rate: "
     "collected over billed. Utilisation: billable hours over 8 hours a working day of the "
     "scope's timekeepers (an office's own; a partner's or client's: those who worked on its "
     "matters in the period; from the ledger's first month of time at the earliest). DSO "
     "and WIP days over the daily billing of the year to the day, or of the ledger's billing "
     "history where that is shorter."),
    ("wip_aging", "WIP aging", wip_aging,
     [*CLIENT_MATTER, *BUCKETS, ("total", "Total", "money")],
     "Billable WIP on the month's last day at billing rates, by days since the work date."),
    ("billing", "Billed in the month", billing,
     [*CLIENT_MATTER, ("fees", "Fees", "money"), ("expenses", "Expenses", "money"),
      ("tax", "Tax", "money"), ("total", "Total", "money")],
     "Invoices dated in the month, net of the credit notes dated in it; fees less discounts."),
    ("collections", "Collected in the month", collections,
     [*CLIENT_MATTER, ("collected", "Collected", "money"),
      ("from_trust", "Of which from trust", "money")],
     "Money applied to invoices in the month (payment date), net of reversals, by the "
     "invoice's client and matter."),
    ("ar_aging", "AR aging", ar_aging,
     [("client", "Client", "text"), *BUCKETS, *OWED],
     "What is owed on the month's last day by days past the due date; credits are cash on "
     "account and balances owed back."),
    ("write_downs", "Write-downs on pre-bills", write_downs,
     [*CLIENT_MATTER, ("reason", "Reason", "text"), ("notes", "Partner's notes", "text"),
      ("lines", "Lines", "count"), ("hours", "Hours", "hours"),
      ("written_down", "Written down", "money")],
     "Worked value at standard rates less the billed value of the time billed in the month "
     "(bill date) and of the time written off on its pre-bills, by the partner's reason on "
     "each pre-bill line; the rest (agreed rates below standard, fee arrangements) on its own "
     "line. Hours are the worked hours of the lines with a reason."),
    ("write_offs", "Write-offs after billing", write_offs,
     [("number", "Invoice", "text"), *CLIENT_MATTER, ("written_on", "Written off on", "date"),
      ("amount", "Amount", "money"), ("reason", "Reason", "text")],
     "Invoice balances written off in the month (write-off date), net of reversals."),
    ("exceptions", "Reconciliation exceptions still open", exceptions,
     [("rule", "Rule", "text"), ("severity", "Severity", "text"),
      ("findings", "Findings", "count"), ("open", "Open", "count"),
      ("queried", "Queried", "count"), ("matters", "Matters", "text")],
     "Findings open or queried now on the entries worked by the month's end."),
    ("submissions", "E-billing submissions pending or rejected", submissions,
     [("invoice", "Invoice", "text"), ("client", "Client", "text"),
      ("matter_id", "Matter", "text"), ("portal", "Portal", "text"),
      ("status", "Status", "text"), ("since", "Since", "date"), ("reason", "Reason", "text"),
      ("total", "Invoice total", "money")],
     "Submissions of invoices dated by the month's end, with their status now."),
    ("top_overdue", "Largest overdue invoices", top_overdue,
     [("number", "Invoice", "text"), *CLIENT_MATTER, ("due", "Due", "date"),
      ("days_overdue", "Days overdue", "count"), ("balance", "Owed", "money"),
      ("trust_held", "Trust held (matter)", "money")],
     f"The {TOP_OVERDUE} largest invoices past due on the month's last day, per currency, "
     "with the trust money held for the invoice's matter beside them (not netted)."),
)


def monthly_pack(month: str, *, scope: str = "firm", scope_id: str = "",
                 ledger_url: Any = None) -> Pack:
    """The monthly billing pack of ``month`` (YYYY-MM) for the firm, a billing partner, a
    client or an office (``scope``, ``scope_id``); ``ledger_url`` blank: $BILLXL_LEDGER, else
    ./billxl.db."""
    return source.build_pack("monthly", "Monthly billing pack", TABLES, month, scope, scope_id,
                             ledger_url)


__all__ = ["TABLES", "monthly_pack"]
