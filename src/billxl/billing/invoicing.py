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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from billxl import money
from billxl.errors import LedgerError
from billxl.money import Rounding
from billxl.periods import month_range
from billxl.store import tables as t
from billxl.store.ledger import Ledger, current_actor
from billxl.store.numbering import take_numbers

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

    @property
    def count(self) -> int:
        return len(self.invoices)


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
def _ready_prebills(conn: sa.Connection, month: str | None, matter: str | None) -> pd.DataFrame:
    """Approved pre-bills, locked (PostgreSQL) so a concurrent run cannot take them too."""
    q = sa.select(t.prebills).where(t.prebills.c.status == "approved")
    if month:
        q = q.where(t.prebills.c.month == month)
    if matter:
        q = q.where(t.prebills.c.matter_id == matter)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    rows = conn.execute(q.order_by(t.prebills.c.prebill_pk)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=list(t.prebills.c.keys()))


def _lines_of(ledger: Ledger, conn: sa.Connection, prebill_pks: list[int]) -> pd.DataFrame:
    pl, te, ex = t.prebill_lines, t.time_entries, t.expenses
    lines = ledger.read_frame(sa.select(pl).where(pl.c.prebill_pk.in_(prebill_pks)), conn)
    time = ledger.read_frame(
        sa.select(te.c.entry_pk, te.c.work_date, te.c.timekeeper_id, te.c.narrative,
                  te.c.task_code, te.c.activity_code, te.c.status)
        .where(te.c.entry_pk.in_(
            sa.select(pl.c.entry_pk).where(pl.c.prebill_pk.in_(prebill_pks),
                                           pl.c.entry_kind == "time"))), conn, dates=["work_date"])
    cost = ledger.read_frame(
        sa.select(ex.c.expense_pk.label("entry_pk"), ex.c.work_date, ex.c.timekeeper_id,
                  ex.c.narrative, ex.c.expense_code, ex.c.status)
        .where(ex.c.expense_pk.in_(
            sa.select(pl.c.entry_pk).where(pl.c.prebill_pk.in_(prebill_pks),
                                           pl.c.entry_kind == "expense"))), conn,
        dates=["work_date"])
    details = pd.concat([time.assign(entry_kind="time"), cost.assign(entry_kind="expense")],
                        ignore_index=True)
    merged = lines.merge(details, on=["entry_kind", "entry_pk"], how="left")
    not_wip = merged[merged["status"] != "WIP"]
    if len(not_wip):
        raise LedgerError(
            f"{len(not_wip)} entries on the approved pre-bills are no longer WIP (first: "
            f"{not_wip.iloc[0]['entry_kind']} {not_wip.iloc[0]['entry_pk']}); rebuild the "
            "pre-bills before finalizing.")
    return merged


def _invoice_lines(lines: pd.DataFrame, matter: dict, terms: dict, people: pd.DataFrame,
                   rounding: Rounding, fixed: pd.DataFrame, billed_before: int,
                   on: date, fixed_already: set[str]) -> pd.DataFrame:
    """The lines of one matter's invoice (before tax and payor split)."""
    billed = lines[lines["action"].isin(["bill", "no_charge"])].copy()
    billed["line_type"] = np.where(billed["entry_kind"] == "time", "F", "E")
    billed["quantity_milli"] = billed["bill_qty_milli"]
    billed["unit_minor"] = billed["bill_rate_minor"]
    extended = billed["bill_amount_minor"].astype("int64").to_numpy()
    extended = np.where(billed["action"] == "no_charge", 0, extended)
    billed["standard_amount_minor"] = billed["worked_amount_minor"]
    adjustment = np.zeros(len(billed), dtype=np.int64)
    is_fee = (billed["line_type"] == "F").to_numpy()
    arrangement = matter["fee_arrangement"]
    if arrangement in ("fixed", "retainer", "milestone"):
        adjustment[is_fee] = -extended[is_fee]  # time is shown, the fee is the agreed amount
    elif terms.get("discount_percent"):
        pct = money.D(terms["discount_percent"])
        adjustment[is_fee] = -percent_of_array(extended[is_fee], pct, rounding)
    billed["adjustment_minor"] = adjustment
    billed["amount_minor"] = extended + adjustment
    billed = billed.merge(people, on="timekeeper_id", how="left")
    billed = billed.sort_values(["line_type", "work_date", "timekeeper_name", "entry_pk"],
                                key=lambda s: s.map({"F": 0, "E": 1}) if s.name == "line_type" else s)

    extra = []
    # A fixed fee is billed once: for the matter, or for each phase/task once work on it starts.
    if arrangement == "fixed" and len(fixed):
        worked_codes = set(billed["task_code"].dropna())
        for fee in fixed.to_dict("records"):
            code = fee.get("code")
            due = _missing(code) or code in worked_codes
            if due and fee["description"] not in fixed_already:
                extra.append(("IF", fee["description"], int(fee["amount_minor"])))
    elif (arrangement == "fixed" and not _missing(matter.get("fixed_fee_minor"))
          and "Fixed fee as agreed" not in fixed_already):
        extra.append(("IF", "Fixed fee as agreed", int(matter["fixed_fee_minor"])))
    if arrangement == "capped" and not _missing(matter.get("fixed_fee_minor")):
        over = cap_writedown(int(billed.loc[billed["line_type"] == "F", "amount_minor"].sum()),
                             billed_before, int(matter["fixed_fee_minor"]))
        if over:
            extra.append(("IF", "Fee cap adjustment (fees over the agreed cap)", -over))
    if terms.get("discount_minor"):
        extra.append(("IF", "Discount as agreed", -int(terms["discount_minor"])))
    if extra:
        last_day = on
        billed = pd.concat([billed, pd.DataFrame([{
            "line_type": kind, "narrative": text, "quantity_milli": 1000, "unit_minor": amount,
            "standard_amount_minor": 0, "adjustment_minor": 0, "amount_minor": amount,
            "work_date": pd.Timestamp(last_day)} for kind, text, amount in extra])],
            ignore_index=True)
    billed["line_no"] = np.arange(1, len(billed) + 1)
    return billed


def _totals(lines: pd.DataFrame) -> dict[str, int]:
    amount = lines["amount_minor"].astype("int64")
    fee_like = lines["line_type"].isin(["F", "IF"])
    gross_fees = (np.where(lines["line_type"] == "F", amount - lines["adjustment_minor"], 0).sum()
                  + amount[(lines["line_type"] == "IF") & (amount > 0)].sum())
    discounts = (-lines.loc[lines["line_type"] == "F", "adjustment_minor"].sum()
                 - amount[(lines["line_type"] == "IF") & (amount < 0)].sum())
    expenses = amount[~fee_like].sum()
    tax = lines["tax_minor"].astype("int64").sum()
    return {"fees_minor": int(gross_fees), "expenses_minor": int(expenses),
            "discount_minor": int(discounts), "tax_minor": int(tax),
            "total_minor": int(gross_fees + expenses - discounts + tax)}


def finalize(ledger: Ledger, *, month: str | None = None, matter: str | None = None,
             invoice_date: date | None = None, actor: str | None = None) -> FinalizeResult:
    """Turn approved pre-bills (of a month, or of one matter) into final invoices."""
    if not month and not matter:
        raise LedgerError("Say which pre-bills to finalize: a month (YYYY-MM) or a matter.")
    actor = actor or current_actor()
    period = month_range(month) if month else None
    on = invoice_date or (period[1] if period else date.today())
    now = datetime.now(UTC)
    firm = ledger.firm()
    matters = ledger.matters().set_index("matter_id")
    clients = ledger.clients().set_index("client_id")
    tks = ledger.timekeepers()
    people = pd.DataFrame({"timekeeper_id": tks["timekeeper_id"],
                           "timekeeper_name": tks["last_name"] + ", " + tks["first_name"],
                           "classification": tks["classification"]})
    terms = ledger.read_frame(t.matter_terms).set_index("matter_id")
    payors = ledger.read_frame(t.matter_payors)
    fixed_fees = ledger.read_frame(t.fixed_fees)
    tax_rates = ledger.read_frame(t.tax_rates)

    made: list[dict] = []
    counts = {"billed": 0, "written_off": 0, "transferred": 0}
    with ledger.transaction() as conn:
        ready = _ready_prebills(conn, month, matter)
        all_lines = (_lines_of(ledger, conn, ready["prebill_pk"].astype(int).tolist())
                     if len(ready) else pd.DataFrame(columns=list(t.prebill_lines.c.keys())))
        invoices, line_frames = [], []
        for prebill in ready.to_dict("records"):
            m = matters.loc[prebill["matter_id"]].to_dict() | {"matter_id": prebill["matter_id"]}
            client = clients.loc[m["client_id"]].to_dict()
            rounding = Rounding(client.get("rounding") or firm["rounding"])
            lines = all_lines[all_lines["prebill_pk"] == prebill["prebill_pk"]]
            matter_terms = terms.loc[m["matter_id"]].to_dict() if m["matter_id"] in terms.index else {}
            matter_terms = {k: v for k, v in matter_terms.items() if not _missing(v)}
            billed_before = _fees_billed_since(
                conn, m["matter_id"],
                cap_period_start(matter_terms.get("cap_period"), on, m["opened_on"].date()))
            inv_lines = _invoice_lines(lines, m, matter_terms, people, rounding,
                                       fixed_fees[fixed_fees["matter_id"] == m["matter_id"]],
                                       billed_before, on, _fixed_fees_billed(conn, m["matter_id"]))
            if inv_lines.empty:
                continue
            start = (period[0] if period else lines["work_date"].min().date())
            end = (period[1] if period else lines["work_date"].max().date())
            for header, part in _payor_invoices(
                    inv_lines, m, clients, payors, tax_rates, rounding, on,
                    {"prebill_pk": int(prebill["prebill_pk"]), "schedule_id": None,
                     "period_start": start,
                     "period_end": end,
                     "description": "For professional services rendered "
                                    f"{start:%d %b %Y} to {end:%d %b %Y}"}):
                invoices.append(header | {"finalized_at": now, "finalized_by": actor})
                line_frames.append(part)

        for item in _due_schedule_items(ledger, conn, on, matter).to_dict("records"):
            m = matters.loc[item["matter_id"]].to_dict() | {"matter_id": item["matter_id"]}
            client = clients.loc[m["client_id"]].to_dict()
            rounding = Rounding(client.get("rounding") or firm["rounding"])
            line = pd.DataFrame([{
                "line_type": "IF", "narrative": item["description"], "quantity_milli": 1000,
                "unit_minor": int(item["amount_minor"]), "standard_amount_minor": 0,
                "adjustment_minor": 0, "amount_minor": int(item["amount_minor"]),
                "work_date": pd.Timestamp(on), "line_no": 1}])
            for header, part in _payor_invoices(
                    line, m, clients, payors, tax_rates, rounding, on,
                    {"schedule_id": int(item["schedule_id"]), "prebill_pk": None,
                     "period_start": on,
                     "period_end": on, "description": item["description"]}):
                invoices.append(header | {"finalized_at": now, "finalized_by": actor})
                line_frames.append(part)

        scopes = [("firm" if firm["invoice_numbering"] == "firm" else (h["office_id"] or "firm"))
                  for h in invoices]
        numbers: dict[str, list[str]] = {}
        for scope in dict.fromkeys(scopes):
            prefix = "" if scope == "firm" else f"{scope}-"
            numbers[scope] = take_numbers(conn, scope, scopes.count(scope), prefix=prefix)
        for header, scope in zip(invoices, scopes, strict=True):
            header["number"] = numbers[scope].pop(0)
        if invoices:
            conn.execute(t.invoices.insert(), invoices)
        pks = dict(conn.execute(sa.select(t.invoices.c.number, t.invoices.c.invoice_pk)
                                .where(t.invoices.c.number.in_([h["number"] for h in invoices])))
                   .all())
        for header, part in zip(invoices, line_frames, strict=True):
            part["invoice_pk"] = pks[header["number"]]
        if line_frames:
            every_line = pd.concat(line_frames, ignore_index=True)
            every_line["narrative"] = every_line["narrative"].fillna("")
            ledger.bulk_insert(conn, t.invoice_lines,
                               every_line[["invoice_pk", *LINE_COLUMNS]])

        counts = _settle_entries(conn, all_lines)
        for header in invoices:
            if header.get("schedule_id"):
                conn.execute(sa.update(t.invoice_schedules)
                             .where(t.invoice_schedules.c.schedule_id == header["schedule_id"])
                             .values(invoice_pk=pks[header["number"]]))
        conn.execute(sa.update(t.prebills)
                     .where(t.prebills.c.prebill_pk.in_(ready["prebill_pk"].astype(int).tolist()))
                     .values(status="finalized"))
        ledger.audit_many(conn, "finalize", "invoices", [
            (h["number"], None, {k: (v.isoformat() if isinstance(v, date | datetime) else v)
                                 for k, v in h.items()}) for h in invoices], actor=actor)
        made = invoices
    frame = pd.DataFrame(made)
    return FinalizeResult(frame, counts["billed"], counts["written_off"], counts["transferred"])


def _payor_invoices(inv_lines: pd.DataFrame, m: dict, clients: pd.DataFrame,
                    payors: pd.DataFrame, tax_rates: pd.DataFrame, rounding: Rounding, on: date,
                    base: dict) -> list[tuple[dict, pd.DataFrame]]:
    """One invoice per payor of the matter (usually one): lines split, taxed, totalled."""
    client = clients.loc[m["client_id"]].to_dict()
    shares = payors[payors["matter_id"] == m["matter_id"]]
    split = ([(r["client_id"], money.D(r["percent"])) for r in shares.to_dict("records")]
             or [(m["client_id"], Decimal(100))])
    amounts = split_amounts(inv_lines["amount_minor"].to_numpy(dtype=np.int64),
                            [p for _, p in split], rounding)
    adjustments = split_amounts(inv_lines["adjustment_minor"].to_numpy(dtype=np.int64),
                                [p for _, p in split], rounding)
    out = []
    for (payor, pct), amount, adjustment in zip(split, amounts, adjustments, strict=True):
        payor_client = clients.loc[payor].to_dict()
        part = inv_lines.copy()
        part["amount_minor"] = amount
        part["adjustment_minor"] = adjustment
        if len(split) > 1:  # an invoice-level line is the payor's share outright
            part["unit_minor"] = np.where(part["line_type"].isin(["IF", "IE"]), amount,
                                          part["unit_minor"])
        jurisdiction = payor_client.get("tax_jurisdiction")
        fee_pct = tax_percent_for(tax_rates, jurisdiction, on, "fees")
        cost_pct = tax_percent_for(tax_rates, jurisdiction, on, "expenses")
        is_fee = part["line_type"].isin(["F", "IF"]).to_numpy()
        part["tax_percent"] = np.where(is_fee, str(fee_pct), str(cost_pct))
        part["tax_minor"] = np.where(
            is_fee, percent_of_array(part["amount_minor"].to_numpy(), fee_pct, rounding),
            percent_of_array(part["amount_minor"].to_numpy(), cost_pct, rounding))
        header = {
            "kind": "invoice", "client_id": payor, "matter_id": m["matter_id"],
            "office_id": None if _missing(m.get("office_id")) else m["office_id"],
            "currency": client["currency"], "invoice_date": on,
            "due_date": on + timedelta(days=int(payor_client["payment_terms_days"])),
            "payor_percent": str(pct), "rounding": rounding.value, **base, **_totals(part)}
        out.append((header, part))
    return out


def _due_schedule_items(ledger: Ledger, conn: sa.Connection, on: date,
                        matter: str | None) -> pd.DataFrame:
    """Scheduled invoices now due: dated on or before ``on``, or triggered (milestones)."""
    s = t.invoice_schedules
    q = sa.select(s).where(s.c.invoice_pk.is_(None),
                           sa.or_(s.c.due_on <= on, s.c.triggered_on <= on))
    if matter:
        q = q.where(s.c.matter_id == matter)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return ledger.read_frame(q.order_by(s.c.schedule_id), conn)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _fixed_fees_billed(conn: sa.Connection, matter_id: str) -> set[str]:
    """Descriptions of fixed-fee lines already invoiced on the matter (each is billed once)."""
    il, inv = t.invoice_lines, t.invoices
    rows = conn.execute(sa.select(il.c.narrative).join(inv, inv.c.invoice_pk == il.c.invoice_pk)
                        .where(inv.c.matter_id == matter_id, inv.c.kind == "invoice",
                               il.c.line_type == "IF", il.c.amount_minor > 0)).scalars()
    return set(rows)


def _fees_billed_since(conn: sa.Connection, matter_id: str, since: date) -> int:
    inv = t.invoices
    total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(inv.c.fees_minor - inv.c.discount_minor), 0))
                         .where(inv.c.matter_id == matter_id, inv.c.invoice_date >= since)).scalar()
    return int(total or 0)


def _close_findings(conn: sa.Connection, kind: str, entry_pks: list[int]) -> None:
    """Findings on entries now billed or written off leave the review list: the partner
    decided on them when approving the pre-bill."""
    f = t.findings
    for start in range(0, len(entry_pks), 30_000):
        conn.execute(sa.update(f).where(f.c.entry_kind == kind,
                                        f.c.entry_pk.in_(entry_pks[start:start + 30_000]),
                                        f.c.status.in_(["open", "queried"]))
                     .values(status="resolved", status_by="finalize",
                             status_reason="the entry was billed or written off on finalize",
                             status_at=datetime.now(UTC)))


def _settle_entries(conn: sa.Connection, lines: pd.DataFrame) -> dict[str, int]:
    """Entries' new status after finalizing: billed, written off, or moved to another matter."""
    counts = {"billed": 0, "written_off": 0, "transferred": 0}
    for kind, table, pk in (("time", t.time_entries, "entry_pk"),
                            ("expense", t.expenses, "expense_pk")):
        mine = lines[lines["entry_kind"] == kind]
        for action, status in (("bill", "billed"), ("no_charge", "billed"),
                               ("write_off", "written_off")):
            keys = mine.loc[mine["action"] == action, "entry_pk"].astype(int).tolist()
            for start in range(0, len(keys), 30_000):  # bound the IN list
                conn.execute(sa.update(table).where(table.c[pk].in_(keys[start:start + 30_000]))
                             .values(status=status))
            counts["written_off" if status == "written_off" else "billed"] += len(keys)
        settled = mine.loc[mine["action"].isin(["bill", "no_charge", "write_off"]), "entry_pk"]
        _close_findings(conn, kind, settled.astype(int).tolist())
        moves = mine[mine["action"] == "transfer"]
        if len(moves):
            conn.execute(sa.update(table).where(table.c[pk] == sa.bindparam("b_pk"))
                         .values(matter_id=sa.bindparam("b_to")),
                         [{"b_pk": int(k), "b_to": to} for k, to in
                          zip(moves["entry_pk"], moves["transfer_to"], strict=True)])
            counts["transferred"] += len(moves)
    return counts
