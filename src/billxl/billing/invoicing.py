"""Final invoices from approved pre-bills, and credit notes that correct them.

How an invoice's figures are made (the tie-out holds by construction and is checked by the
store: ``total = fees + expenses - discount + tax``):

* every billed entry becomes a line: ``F`` (fee) or ``E`` (expense), ``amount = quantity x unit``
  rounded once (the pre-bill's bill amount) ``+ adjustment`` (a line discount, negative);
* invoice-level lines are ``IF``/``IE``: a fixed fee (positive), a fee-cap write-down or a fixed
  discount (negative);
* ``fees`` = gross F lines + positive IF lines; ``expenses`` = E + IE lines;
  ``discount`` = minus (line adjustments + negative IF lines);
* tax is computed per line (``percent_of(line amount)``, rounded once per line, by the client's
  rounding rule) at the rate in force on the invoice date for the client's jurisdiction;
  the invoice's tax is the sum of its lines' tax.

Split billing gives one invoice per payor; each line is split by percentage, and the last payor
takes the remainder of every line, so the payors' invoices add up to the cent.

Numbers are gapless per firm or per office (``store.numbering``); the invoices, their lines, the
entries' new status and the pre-bill's status are written in one transaction, and a second
finalize run at the same time waits for the first and then finds nothing left to do.

Before anything is written, each pre-bill's invoices as they will be are checked against their
clients' guideline rules and e-billing portals (:mod:`billxl.billing.invoice_check`): a pre-bill
whose invoice the client would reject is **held** (it stays an approved pre-bill, its entries
WIP, listed with its problems in :attr:`FinalizeResult.held`), unless finalize is told to
``override`` with a reason, which the audit log keeps beside who overrode and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from billxl import money
from billxl.billing import invoice_check
from billxl.errors import LedgerError
from billxl.money import Rounding
from billxl.periods import month_range
from billxl.reference import Reference
from billxl.store import billing as store
from billxl.store.ledger import Ledger, current_actor

LINE_COLUMNS = ["line_no", "line_type", "entry_kind", "entry_pk", "work_date", "timekeeper_id",
                "timekeeper_name", "classification", "narrative", "task_code", "activity_code",
                "expense_code", "quantity_milli", "unit_minor", "standard_amount_minor",
                "adjustment_minor", "amount_minor", "tax_percent", "tax_minor"]


@dataclass
class FinalizeResult:
    invoices: pd.DataFrame  # number, client_id, matter_id, currency, totals (minor units)
    entries_billed: int
    entries_written_off: int
    entries_transferred: int
    #: The problems of the pre-bills held back (:data:`~billxl.billing.invoice_check.
    #: PROBLEM_COLUMNS`, with each line's date, timekeeper and narrative): still pre-bills.
    held: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=invoice_check.PROBLEM_COLUMNS))
    #: The problems finalized anyway, by ``override`` (the audit log has them and the reason).
    overridden: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=invoice_check.PROBLEM_COLUMNS))

    @property
    def count(self) -> int:
        return len(self.invoices)

    @property
    def held_prebills(self) -> list[int]:
        return sorted({int(p) for p in self.held["prebill_pk"]})


# --------------------------------------------------------------------------- pure parts
def tax_percent_for(tax_rates: pd.DataFrame, jurisdiction: str | None, on: date,
                    kind: str) -> Decimal:
    """The tax percentage on fees or expenses for a jurisdiction on a date (0 if none)."""
    if not jurisdiction or tax_rates.empty:
        return Decimal(0)
    on_ts = pd.Timestamp(on)
    rows = tax_rates[(tax_rates["jurisdiction"] == jurisdiction)
                     & tax_rates["applies_to"].isin([kind, "both"])
                     & (pd.to_datetime(tax_rates["effective_from"]) <= on_ts)
                     & (pd.to_datetime(tax_rates["effective_to"]).isna()
                        | (pd.to_datetime(tax_rates["effective_to"]) >= on_ts))]
    return sum((money.D(p) for p in rows["percent"]), Decimal(0))


def percent_of_array(amounts: np.ndarray, percent: Decimal, rounding: Rounding) -> np.ndarray:
    """``percent`` % of each amount, rounded once per amount (exact integer arithmetic)."""
    if percent == 0:
        return np.zeros(len(amounts), dtype=np.int64)
    numerator, denominator = percent.as_integer_ratio()
    return money.div_round_array(np.asarray(amounts, dtype=np.int64) * numerator,
                                 100 * denominator, rounding)


def split_amounts(amounts: np.ndarray, percents: list[Decimal],
                  rounding: Rounding) -> list[np.ndarray]:
    """Split each amount by the payors' percentages; the last payor takes the remainder."""
    parts = [percent_of_array(amounts, p, rounding) for p in percents[:-1]]
    last = np.asarray(amounts, dtype=np.int64) - (sum(parts) if parts else 0)
    return [*parts, last]


def cap_writedown(fees_this_invoice: int, billed_in_period: int, cap: int | None) -> int:
    """How much of this invoice's fees is over a fee cap (0 when under, or no cap)."""
    if cap is None:
        return 0
    room = max(cap - billed_in_period, 0)
    return max(fees_this_invoice - room, 0)


def cap_period_start(period: str | None, on: date, opened_on: date) -> date:
    if period == "month":
        return on.replace(day=1)
    if period == "quarter":
        return date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    if period == "year":
        return date(on.year, 1, 1)
    return opened_on  # the whole matter


# --------------------------------------------------------------------------- finalize
# How finalize goes about it: the lines of every pre-bill are worked out together, a column at a
# time (amounts, discounts, order, tax, totals); only invoice-level lines and split billing are
# decided matter by matter, and few matters have them. A 'unit' is what one invoice per payor is
# made from: an approved pre-bill, or a scheduled invoice that is due.

AGREED_FEE = ("fixed", "retainer", "milestone")  # time is shown, the fee is the agreed amount
FEE_LIKE = ("F", "IF")  # lines taxed at the fees rate; the others at the expenses rate
TOTAL_COLUMNS = ["fees_minor", "expenses_minor", "discount_minor", "tax_minor", "total_minor"]


def _rounding(reference: Reference, matter_id: str) -> Rounding:
    """The rounding rule of the matter's client (the client's, else the firm's)."""
    return reference.rounding_of(reference.matter(matter_id)["client_id"])


@dataclass
class _Unit:
    """What one invoice per payor is made from: an approved pre-bill or a due scheduled item."""

    matter_id: str
    rounding: Rounding
    base: dict  # header fields it sets: prebill_pk or schedule_id, period, description


def _refuse_not_wip(lines: pd.DataFrame) -> None:
    """Refused if an entry on an approved pre-bill is no longer WIP (billed since, say)."""
    not_wip = lines[lines["status"] != "WIP"] if len(lines) else lines
    if len(not_wip):
        raise LedgerError(
            f"{len(not_wip)} entries on the approved pre-bills are no longer WIP (first: "
            f"{not_wip.iloc[0]['entry_kind']} {not_wip.iloc[0]['entry_pk']}); rebuild the "
            "pre-bills before finalizing.")


def _prebill_units(ready: pd.DataFrame, all_lines: pd.DataFrame, reference: Reference,
                   period: tuple[date, date] | None) -> list[_Unit]:
    """One unit per approved pre-bill, in pre-bill order; without a month, an invoice's period
    runs from its pre-bill's first to its last work date."""
    spans = (all_lines.groupby("prebill_pk")["work_date"].agg(["min", "max"])
             if not period and len(all_lines) else pd.DataFrame(columns=["min", "max"]))
    units = []
    for prebill_pk, matter_id in zip(ready["prebill_pk"].astype(int), ready["matter_id"],
                                     strict=True):
        if period:
            start, end = period
        else:
            first, last = (spans.loc[prebill_pk] if prebill_pk in spans.index
                           else (pd.NaT, pd.NaT))
            start, end = first.date(), last.date()
        units.append(_Unit(matter_id, _rounding(reference, matter_id), {
            "prebill_pk": prebill_pk, "schedule_id": None, "period_start": start,
            "period_end": end, "description": "For professional services rendered "
                                              f"{start:%d %b %Y} to {end:%d %b %Y}"}))
    return units


def _row_groups(*keys: np.ndarray) -> dict[tuple, np.ndarray]:
    """Row positions by the distinct values of ``keys`` (a handful: percentages, roundings)."""
    frame = pd.DataFrame({i: key for i, key in enumerate(keys)})
    return frame.groupby(list(frame.columns), sort=False).indices


def _entry_lines(all_lines: pd.DataFrame, ready: pd.DataFrame, units: list[_Unit],
                 reference: Reference) -> pd.DataFrame:
    """Every billed entry of every pre-bill as an invoice line, before tax and payor split.

    ``amount = bill amount`` (nothing for no charge) ``+ adjustment``: the agreed fee takes the
    place of the time on fixed, retainer and milestone matters; otherwise the matter's
    ``discount_percent`` comes off each fee line. Lines are numbered within their pre-bill: fees
    before expenses, then by date, timekeeper and entry.
    """
    billed = all_lines[all_lines["action"].isin(["bill", "no_charge"])]
    unit_of = pd.Series(np.arange(len(ready)), index=ready["prebill_pk"].astype("int64"))
    unit = unit_of.reindex(billed["prebill_pk"].astype("int64")).to_numpy()
    # per-unit facts, then one value per line by indexing with the line's unit
    arrangement = np.array([reference.matter(u.matter_id)["fee_arrangement"] for u in units],
                           dtype=object)[unit]
    discount = np.array([reference.terms_of(u.matter_id).get("discount_percent") or None
                         for u in units], dtype=object)[unit]
    rule = np.array([u.rounding.value for u in units], dtype=object)[unit]

    is_fee = (billed["entry_kind"] == "time").to_numpy()
    extended = np.where((billed["action"] == "no_charge").to_numpy(), 0,
                        billed["bill_amount_minor"].to_numpy(dtype=np.int64))
    adjustment = np.zeros(len(billed), dtype=np.int64)
    agreed = is_fee & np.isin(arrangement, AGREED_FEE)
    adjustment[agreed] = -extended[agreed]
    discounted = np.flatnonzero(is_fee & ~agreed & pd.notna(discount))
    for (percent, rounding), rows in _row_groups(discount[discounted],
                                                 rule[discounted]).items():
        at = discounted[rows]
        adjustment[at] = -percent_of_array(extended[at], money.D(percent), Rounding(rounding))

    classification = reference.timekeepers.set_index("timekeeper_id")["classification"]
    lines = pd.DataFrame({
        "unit": unit, "line_type": np.where(is_fee, "F", "E"),
        "entry_kind": billed["entry_kind"].to_numpy(),
        "entry_pk": billed["entry_pk"].astype("Int64").to_numpy(),
        "work_date": billed["work_date"].to_numpy(),
        "timekeeper_id": billed["timekeeper_id"].to_numpy(),
        "timekeeper_name": reference.display_names(billed["timekeeper_id"]).to_numpy(),
        "classification": billed["timekeeper_id"].map(classification).to_numpy(),
        **{c: billed[c].to_numpy() for c in ("narrative", "task_code", "activity_code",
                                              "expense_code")},
        "quantity_milli": billed["bill_qty_milli"].to_numpy(dtype=np.int64),
        "unit_minor": billed["bill_rate_minor"].to_numpy(dtype=np.int64),
        "standard_amount_minor": billed["worked_amount_minor"].to_numpy(dtype=np.int64),
        "adjustment_minor": adjustment, "amount_minor": extended + adjustment,
        "fees_first": np.where(is_fee, 0, 1)})
    lines = lines.sort_values(["unit", "fees_first", "work_date", "timekeeper_name",
                               "entry_pk"], ignore_index=True).drop(columns="fees_first")
    lines["line_no"] = lines.groupby("unit").cumcount().to_numpy() + 1
    return lines


def _level_lines(rows: list[tuple[int, int, str, int]], on: date) -> pd.DataFrame:
    """Invoice-level ``IF`` lines, one per (unit, line_no, narrative, amount), dated ``on``."""
    unit, line_no, narrative, amount = list(zip(*rows, strict=True)) or [(), (), (), ()]
    amount = np.asarray(amount, dtype=np.int64)
    return pd.DataFrame({
        "unit": np.asarray(unit, dtype=np.int64), "line_type": "IF",
        "work_date": np.full(len(rows), np.datetime64(on, "ns")),
        "narrative": np.asarray(narrative, dtype=object),
        "quantity_milli": np.full(len(rows), 1000, dtype=np.int64), "unit_minor": amount,
        "standard_amount_minor": np.zeros(len(rows), dtype=np.int64),
        "adjustment_minor": np.zeros(len(rows), dtype=np.int64), "amount_minor": amount,
        "line_no": np.asarray(line_no, dtype=np.int64)})


def _fee_history_wanted(units: list[_Unit], reference: Reference,
                        on: date) -> tuple[set[str], dict[str, date]]:
    """What the fee arrangements need to know of earlier invoices: the fixed-fee matters
    (which fixed fees they billed already) and, for each capped matter, the day its cap
    period starts (the fees billed since then)."""
    fixed, since = set(), {}
    for u in units:
        matter = reference.matter(u.matter_id)
        if matter["fee_arrangement"] == "fixed":
            fixed.add(u.matter_id)
        elif matter["fee_arrangement"] == "capped" and not _missing(matter["fixed_fee_minor"]):
            since[u.matter_id] = cap_period_start(reference.terms_of(u.matter_id).get(
                "cap_period"), on, matter["opened_on"])
    return fixed, since


def _invoice_level_lines(entries: pd.DataFrame, units: list[_Unit], reference: Reference,
                         on: date, already: dict[str, set[str]],
                         billed_before: dict[str, int]) -> pd.DataFrame:
    """What a pre-bill's invoice has beyond its entries: a fixed fee (billed once: for the
    matter, or for each phase or task once work on it starts; ``already`` holds the fixed-fee
    lines each matter was invoiced), a fee-cap write-down (``billed_before``: fees invoiced on
    the matter in its cap period), a fixed discount. After the entry lines, in that order."""
    def arrangement(u: int) -> str:
        return reference.matter(units[u].matter_id)["fee_arrangement"]

    def amount(u: int) -> int | None:
        value = reference.matter(units[u].matter_id)["fixed_fee_minor"]
        return None if _missing(value) else int(value)

    def terms(u: int) -> dict:
        return reference.terms_of(units[u].matter_id)

    chosen = [u for u in range(len(units))
              if arrangement(u) in ("fixed", "capped") or terms(u).get("discount_minor")]
    fixed = {u for u in chosen if arrangement(u) == "fixed"}
    entry_count = entries.groupby("unit").size()
    fees = entries[entries["line_type"] == "F"].groupby("unit")["amount_minor"].sum()
    by_phase = [u for u in fixed if reference.fixed_fees_of(units[u].matter_id)]
    worked = (entries[entries["unit"].isin(by_phase)].groupby("unit")["task_code"]
              .agg(lambda codes: set(codes.dropna())))

    rows = []
    for u in chosen:
        matter_id = units[u].matter_id
        extra = []
        if u in fixed and reference.fixed_fees_of(matter_id):
            worked_codes = worked.get(u, set())
            for fee in reference.fixed_fees_of(matter_id):
                code = fee["code"]
                due = _missing(code) or code in worked_codes
                if due and fee["description"] not in already.get(matter_id, set()):
                    extra.append((fee["description"], int(fee["amount_minor"])))
        elif (u in fixed and amount(u) is not None
              and "Fixed fee as agreed" not in already.get(matter_id, set())):
            extra.append(("Fixed fee as agreed", amount(u)))
        if arrangement(u) == "capped" and amount(u) is not None:
            over = cap_writedown(int(fees.get(u, 0)), billed_before[matter_id], amount(u))
            if over:
                extra.append(("Fee cap adjustment (fees over the agreed cap)", -over))
        if terms(u).get("discount_minor"):
            # a fixed discount comes off the fees this invoice bills, and never takes it below
            # nothing (a month of expenses only, or of time all held back, has none to take off)
            billed = int(fees.get(u, 0)) + sum(value for _, value in extra)
            off = min(int(terms(u)["discount_minor"]), max(billed, 0))
            if off > 0:
                extra.append(("Discount as agreed", -off))
        after = int(entry_count.get(u, 0))
        rows += [(u, after + i, text, value) for i, (text, value) in enumerate(extra, start=1)]
    return _level_lines(rows, on)


def _totals_by(lines: pd.DataFrame, invoice: np.ndarray) -> pd.DataFrame:
    """Each invoice's figures from its lines (the sums in the module docstring), one row per
    distinct ``invoice`` value, sorted; exact int64 sums."""
    kind = lines["line_type"].to_numpy(dtype=object)
    amount = lines["amount_minor"].to_numpy(dtype=np.int64)
    adjustment = lines["adjustment_minor"].to_numpy(dtype=np.int64)
    fee, level = kind == "F", kind == "IF"
    sums = pd.DataFrame({
        "fees_minor": np.where(fee, amount - adjustment, np.where(level & (amount > 0), amount, 0)),
        "expenses_minor": np.where(fee | level, 0, amount),
        "discount_minor": np.where(fee, -adjustment, np.where(level & (amount < 0), -amount, 0)),
        "tax_minor": lines["tax_minor"].to_numpy(dtype=np.int64)}).groupby(invoice).sum()
    sums["total_minor"] = (sums["fees_minor"] + sums["expenses_minor"] - sums["discount_minor"]
                           + sums["tax_minor"])
    return sums[TOTAL_COLUMNS]


def invoice_totals(lines: pd.DataFrame) -> dict[str, int]:
    """One invoice's figures from its lines: fees, expenses, discount, tax, total."""
    sums = _totals_by(lines, np.zeros(len(lines), dtype=np.int64))
    return {c: int(sums[c].iloc[0]) if len(sums) else 0 for c in TOTAL_COLUMNS}


def _payor_invoices(lines: pd.DataFrame, units: list[_Unit], reference: Reference,
                    on: date) -> tuple[list[dict], pd.DataFrame]:
    """One invoice per payor of each unit that has lines (usually one payor): lines split,
    taxed, totalled.

    ``lines`` are sorted by unit. Returns the invoice headers (without numbers) and all their
    lines, in header order, with ``invoice`` the header's position.
    """
    unit = lines["unit"].to_numpy()
    present = np.unique(unit)  # a unit without a line makes no invoice
    starts = np.searchsorted(unit, present, side="left")
    ends = np.searchsorted(unit, present, side="right")
    payees: list[tuple[int, str, Decimal]] = []  # (unit, payor, percent) of each invoice
    invoice_of_unit = np.full(len(units), -1, dtype=np.int64)
    split_parts = []
    for u, start, end in zip(present.tolist(), starts, ends, strict=True):
        matter_id = units[u].matter_id
        split = reference.payors_of(matter_id)
        if not split:
            invoice_of_unit[u] = len(payees)
            payees.append((u, reference.matter(matter_id)["client_id"], Decimal(100)))
            continue
        block = lines.iloc[start:end]
        percents = [p for _, p in split]
        amounts = split_amounts(block["amount_minor"].to_numpy(dtype=np.int64), percents,
                                units[u].rounding)
        adjustments = split_amounts(block["adjustment_minor"].to_numpy(dtype=np.int64),
                                    percents, units[u].rounding)
        # the worked value is shared as the billed value is: the payors' parts add up to it
        # once (each payor's line would otherwise carry the whole, counted twice in a period)
        standards = split_amounts(block["standard_amount_minor"].to_numpy(dtype=np.int64),
                                  percents, units[u].rounding)
        for (payor, percent), amount, adjustment, standard in zip(split, amounts, adjustments,
                                                                  standards, strict=True):
            part = block.assign(amount_minor=amount, adjustment_minor=adjustment,
                                standard_amount_minor=standard, invoice=len(payees))
            if len(split) > 1:  # an invoice-level line is the payor's share outright
                part["unit_minor"] = np.where(part["line_type"].isin(["IF", "IE"]), amount,
                                              part["unit_minor"])
            split_parts.append(part)
            payees.append((u, payor, percent))
    single = lines[invoice_of_unit[unit] >= 0]
    single = single.assign(invoice=invoice_of_unit[single["unit"].to_numpy()])
    lines = pd.concat([single, *split_parts], ignore_index=True)
    lines = lines.iloc[np.argsort(lines["invoice"].to_numpy(), kind="stable")]
    lines = lines.reset_index(drop=True)

    # tax: the payor's jurisdiction's rates on the invoice date, looked up once per jurisdiction
    rates: dict[str | None, tuple[Decimal, Decimal]] = {}
    for _, payor, _ in payees:
        jurisdiction = reference.client(payor)["tax_jurisdiction"]
        if jurisdiction not in rates:
            rates[jurisdiction] = (tax_percent_for(reference.tax_rates, jurisdiction, on, "fees"),
                                   tax_percent_for(reference.tax_rates, jurisdiction, on,
                                                   "expenses"))
    percent_of_text = {str(p): p for pair in rates.values() for p in pair}
    taxed_at = [rates[reference.client(payor)["tax_jurisdiction"]] for _, payor, _ in payees]
    fee_text = np.array([str(fees) for fees, _ in taxed_at], dtype=object)
    cost_text = np.array([str(costs) for _, costs in taxed_at], dtype=object)
    rule = np.array([units[u].rounding.value for u, _, _ in payees], dtype=object)
    invoice = lines["invoice"].to_numpy()
    percent = np.where(lines["line_type"].isin(FEE_LIKE).to_numpy(), fee_text[invoice],
                       cost_text[invoice])
    amount = lines["amount_minor"].to_numpy(dtype=np.int64)
    tax = np.zeros(len(lines), dtype=np.int64)
    for (text, rounding), rows in _row_groups(percent, rule[invoice]).items():
        tax[rows] = percent_of_array(amount[rows], percent_of_text[text], Rounding(rounding))
    lines["tax_percent"] = percent
    lines["tax_minor"] = tax

    totals = _totals_by(lines, invoice).to_dict("records")
    headers = []
    for (u, payor, share), sums in zip(payees, totals, strict=True):
        matter = reference.matter(units[u].matter_id)
        headers.append({
            "kind": "invoice", "client_id": payor, "matter_id": units[u].matter_id,
            "office_id": None if _missing(matter["office_id"]) else matter["office_id"],
            "currency": reference.client(matter["client_id"])["currency"], "invoice_date": on,
            "due_date": on + timedelta(days=int(reference.client(payor)["payment_terms_days"])),
            "payor_percent": str(share), "rounding": units[u].rounding.value,
            **units[u].base, **{k: int(v) for k, v in sums.items()}})
    return headers, lines


def _prebill_parts(conn, ready: pd.DataFrame, all_lines: pd.DataFrame, reference: Reference,
                   period: tuple[date, date] | None,
                   on: date) -> tuple[list[_Unit], list[pd.DataFrame]]:
    """The units of pre-bills ``ready`` and their lines: entry lines, then invoice-level lines
    (fixed fees, caps and fixed discounts, which look at the invoices already in the ledger)."""
    units = _prebill_units(ready, all_lines, reference, period)
    parts = []
    if len(ready):
        entries = _entry_lines(all_lines, ready, units, reference)
        fixed, since = _fee_history_wanted(units, reference, on)
        already = store.fixed_fees_billed(conn, fixed)
        for matter_id in store.scheduled_matters(conn, fixed):  # its schedule bills the fee
            already.setdefault(matter_id, set()).add("Fixed fee as agreed")
        parts += [entries, _invoice_level_lines(
            entries, units, reference, on, already, store.fees_billed_since(conn, since))]
    return units, parts


def _invoices_of(parts: list[pd.DataFrame], units: list[_Unit], reference: Reference,
                 on: date) -> tuple[list[dict], pd.DataFrame]:
    lines = pd.concat(parts, ignore_index=True)
    for column in set(LINE_COLUMNS) - set(lines.columns):  # scheduled invoices alone: no entries
        lines[column] = None
    lines = lines.iloc[np.lexsort((lines["line_no"].to_numpy(),
                                   lines["unit"].to_numpy()))].reset_index(drop=True)
    return _payor_invoices(lines, units, reference, on)


def _with_day_other(ledger: Ledger, conn, lines: pd.DataFrame, all_lines: pd.DataFrame,
                    prebill_pks: list[int]) -> pd.DataFrame:
    """``lines`` with ``day_other_milli`` on each time line: the hours its timekeeper has that
    day outside this run's invoice lines (time on no pre-bill of the run, at the hours
    recorded, and the run's entries its invoices do not bill: written off or moved). The
    invoice check adds them to the day (DAILY_MAX), so that an invoice is held for an
    impossible day whichever other matters are finalized with it."""
    time = (lines["entry_kind"] == "time").to_numpy() & lines["entry_pk"].notna().to_numpy()
    if not time.any():
        return lines
    days = pd.DataFrame({"timekeeper_id": lines["timekeeper_id"].to_numpy(dtype=object)[time],
                         "work_date": pd.to_datetime(lines["work_date"]).to_numpy()[time]})
    outside = store.time_outside(ledger, conn, days["timekeeper_id"].dropna(),
                                 days["work_date"].min().date(), days["work_date"].max().date(),
                                 prebill_pks)
    billed = set(lines["entry_pk"].to_numpy()[time].astype(np.int64).tolist())
    run_time = all_lines[all_lines["entry_kind"] == "time"]
    unbilled = run_time[~run_time["entry_pk"].astype(np.int64).isin(billed)]
    unbilled = unbilled.assign(work_date=pd.to_datetime(unbilled["work_date"]),
                               hours_milli=unbilled["recorded_milli"].astype(np.int64))
    other = (pd.concat([outside, unbilled[["timekeeper_id", "work_date", "hours_milli"]]],
                       ignore_index=True)
             .groupby(["timekeeper_id", "work_date"])["hours_milli"].sum())
    found = other.reindex(pd.MultiIndex.from_frame(days)).fillna(0).to_numpy(dtype=np.int64)
    day_other = np.zeros(len(lines), dtype=np.int64)
    day_other[time] = found
    return lines.assign(day_other_milli=day_other)


def preview_invoices(ledger: Ledger, prebills: pd.DataFrame, month: str, *,
                     invoice_date: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The invoices that finalizing ``prebills`` (prebill_pk, matter_id; any status) for
    ``month`` would make today, by the code finalize runs, without writing anything.

    Returns the invoice headers (one per payor: prebill_pk, client_id, payor_percent and the
    totals in minor units, as :func:`finalize` computes them; no numbers) and their lines
    (``invoice`` is the header's position). Entries are not checked for being WIP. The invoice
    date is the month's last day, as ``finalize --month`` has it, unless ``invoice_date``.
    """
    period = month_range(month)
    on = invoice_date or period[1]
    reference = Reference.from_ledger(ledger)
    ready = prebills[["prebill_pk", "matter_id"]].drop_duplicates("prebill_pk")
    ready = ready.sort_values("prebill_pk").reset_index(drop=True)
    with ledger.transaction() as conn:
        all_lines = store.read_prebill_entries(ledger, conn,
                                               ready["prebill_pk"].astype(int).tolist())
        units, parts = _prebill_parts(conn, ready, all_lines, reference, period, on)
        if not parts:
            return pd.DataFrame(columns=["prebill_pk", "client_id", "payor_percent",
                                         *TOTAL_COLUMNS]), \
                pd.DataFrame(columns=[*LINE_COLUMNS, "invoice"])
        invoices, lines = _invoices_of(parts, units, reference, on)
        lines = _with_day_other(ledger, conn, lines, all_lines,
                                ready["prebill_pk"].astype(int).tolist())
    return pd.DataFrame(invoices), lines


def finalize(ledger: Ledger, *, month: str | None = None, matter: str | None = None,
             invoice_date: date | None = None, actor: str | None = None,
             override: str | None = None) -> FinalizeResult:
    """Turn approved pre-bills (of a month, or of one matter) into final invoices.

    A pre-bill whose invoice its client's guidelines or portal would reject is held (left an
    approved pre-bill; ``result.held`` says why), unless ``override`` gives the reason to
    finalize it anyway: then it is finalized and each of its invoices gets an audit row with
    the reason, who (``actor``) and the problems overridden."""
    if override is not None and not override.strip():
        raise LedgerError("Say why the held invoices are finalized anyway: --override REASON.")
    if not month and not matter:
        raise LedgerError("Say which pre-bills to finalize: a month (YYYY-MM) or a matter.")
    actor = actor or current_actor()
    period = month_range(month) if month else None
    on = invoice_date or (period[1] if period else date.today())
    now = datetime.now(UTC)
    reference = Reference.from_ledger(ledger)
    firm = reference.firm

    with ledger.transaction() as conn:
        ready = store.lock_approved_prebills(conn, month, matter)
        prebill_pks = ready["prebill_pk"].astype(int).tolist()
        all_lines = store.read_prebill_entries(ledger, conn, prebill_pks)
        _refuse_not_wip(all_lines)
        units, parts = _prebill_parts(conn, ready, all_lines, reference, period, on)
        scheduled = []
        for item in store.lock_due_schedule_items(ledger, conn, on, matter).to_dict("records"):
            scheduled.append((len(units), 1, item["description"], int(item["amount_minor"])))
            units.append(_Unit(item["matter_id"], _rounding(reference, item["matter_id"]), {
                "schedule_id": int(item["schedule_id"]), "prebill_pk": None,
                "period_start": on, "period_end": on, "description": item["description"]}))
        parts.append(_level_lines(scheduled, on))
        invoices, lines = _invoices_of(parts, units, reference, on)
        lines = _with_day_other(ledger, conn, lines, all_lines, prebill_pks)
        checked = invoice_check.check_invoices(reference, pd.DataFrame(invoices), lines,
                                               period=period)
        problems = invoice_check.with_line_details(checked.problems, lines)
        held = set(checked.held) if override is None else set()
        if held:
            invoices, lines = _without(invoices, lines, held)
            all_lines = all_lines[~all_lines["prebill_pk"].astype(int).isin(held)]
            prebill_pks = [p for p in prebill_pks if p not in held]
        for header in invoices:
            header.update(finalized_at=now, finalized_by=actor)

        scopes = [("firm" if firm["invoice_numbering"] == "firm" else (h["office_id"] or "firm"))
                  for h in invoices]
        counts = store.write_invoices(ledger, conn, invoices, scopes, lines, LINE_COLUMNS,
                                      all_lines, prebill_pks, actor=actor)
        if override is not None and len(problems):
            _audit_override(ledger, conn, invoices, problems, override, actor)
    result = FinalizeResult(pd.DataFrame(invoices), counts["billed"], counts["written_off"],
                            counts["transferred"])
    if held:
        result.held = problems.reset_index(drop=True)
    elif override is not None:
        result.overridden = problems.reset_index(drop=True)
    return result


def _without(invoices: list[dict], lines: pd.DataFrame,
             held: set[int]) -> tuple[list[dict], pd.DataFrame]:
    """The invoices and lines of a run less those of the ``held`` pre-bills (positions
    renumbered)."""
    keep = [i for i, h in enumerate(invoices) if h.get("prebill_pk") not in held]
    position = np.full(len(invoices), -1, dtype=np.int64)
    position[keep] = np.arange(len(keep))
    new = position[lines["invoice"].to_numpy(dtype=np.int64)]
    lines = lines[new >= 0].assign(invoice=new[new >= 0]).reset_index(drop=True)
    return [invoices[i] for i in keep], lines


def _audit_override(ledger: Ledger, conn, invoices: list[dict], problems: pd.DataFrame,
                    reason: str, actor: str) -> None:
    """One audit row per invoice finalized over its problems: the reason, who, and what."""
    rows = []
    for h in invoices:
        mine = problems[problems["prebill_pk"] == h.get("prebill_pk")]
        if h.get("prebill_pk") is None or mine.empty:
            continue
        rows.append((h["number"], None, {
            "override": reason.strip(), "by": actor, "prebill_pk": int(h["prebill_pk"]),
            "client_id": h["client_id"], "matter_id": h["matter_id"],
            "problems": invoice_check.problem_text(mine).tolist()}))
    ledger.audit_many(conn, "override", "invoices", rows, actor=actor)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))
