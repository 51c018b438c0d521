"""Billing cycles: which matters ``prebill --month`` bills, and ``schedule due`` on a day (WIP
through the cycle's day over the minimum bill, scheduled items due or triggered); the CLI's
schedule commands. On both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl.billing import cycles, schedules
from billxl.billing.prebill import create_prebills
from billxl.billing.schedule_builder import Milestone, Terms
from billxl.errors import InputError, LedgerError
from billxl.reference import Reference
from billxl.store import tables as t


def reference():
    tks = pd.DataFrame([{"timekeeper_id": "TK1", "first_name": "Jane", "last_name": "Smith",
                         "classification": "PARTNR", "office_id": "NYC",
                         "active_from": pd.Timestamp("2020-01-01")}])
    clients = pd.DataFrame([
        {"client_id": "C1", "name": "Acme Corp", "currency": "USD", "payment_terms_days": 30},
        {"client_id": "C2", "name": "Quarterly Inc", "currency": "USD",
         "payment_terms_days": 30}])
    matter = {"billing_partner_id": "TK1", "opened_on": pd.Timestamp("2026-01-01"),
              "office_id": "NYC", "client_id": "C1", "fee_arrangement": "hourly"}
    matters = pd.DataFrame([
        {**matter, "matter_id": "MON", "name": "Monthly"},
        {**matter, "matter_id": "MIN", "name": "Monthly, a minimum bill"},
        {**matter, "matter_id": "QTR", "name": "Quarterly (its client's)", "client_id": "C2"},
        {**matter, "matter_id": "ASK", "name": "On request"},
        {**matter, "matter_id": "END", "name": "At completion",
         "closed_on": pd.Timestamp("2026-10-20")},
        {**matter, "matter_id": "MS", "name": "On milestones", "fee_arrangement": "milestone",
         "fixed_fee_minor": 1_000_000},
        {**matter, "matter_id": "MID", "name": "Monthly on the 15th"}])
    offices = pd.DataFrame([{"office_id": "NYC", "name": "New York", "currency": "USD"}])
    terms = pd.DataFrame([{"matter_id": "MIN", "min_bill_minor": 1_000_000}])  # 10,000.00
    return {"offices": offices, "timekeepers": tks, "clients": clients, "matters": matters,
            "matter_terms": terms}


#: (matter, work date, hours milli, rate minor): 2 h at 250.00 = 500.00 each
WORK = [(m, date(2026, 10, d), 2000, 25_000) for m in ("MON", "MIN", "QTR", "ASK", "END", "MS")
        for d in (5, 19)] + [("MID", date(2026, 10, 10), 2000, 25_000),
                             ("MID", date(2026, 10, 20), 2000, 25_000)]


@pytest.fixture
def ledger(empty_ledger):
    empty_ledger.load_reference(reference(), actor="test")
    with empty_ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), [
            {"source": "test", "source_key": f"T{i}", "entry_id": f"T{i}", "timekeeper_id": "TK1",
             "matter_id": m, "work_date": day, "hours_milli": qty, "rate_minor": rate,
             "amount_minor": qty * rate // 1000, "currency": "USD", "narrative": "Drafting",
             "row_hash": "x"} for i, (m, day, qty, rate) in enumerate(WORK, start=1)])
    schedules.set_cycle(empty_ledger, "C2", "quarterly")
    schedules.set_cycle(empty_ledger, "ASK", "on_request")
    schedules.set_cycle(empty_ledger, "END", "completion")
    schedules.set_cycle(empty_ledger, "MS", "milestones")
    schedules.set_cycle(empty_ledger, "MID", "monthly", 15)
    return empty_ledger


def test_a_matters_cycle_is_its_own_else_its_clients_else_monthly(ledger):
    found = cycles.cycles_of(Reference.from_ledger(ledger)).set_index("matter_id")
    assert found["billing_cycle"].to_dict() == {
        "MON": "monthly", "MIN": "monthly", "QTR": "quarterly", "ASK": "on_request",
        "END": "completion", "MS": "milestones", "MID": "monthly"}
    assert found.loc["MID", "billing_day"] == 15 and pd.isna(found.loc["MON", "billing_day"])
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.row_key == "C2"))
    assert audit["after"].iloc[-1] == {"billing_cycle": "quarterly", "billing_day": None}
    with pytest.raises(InputError, match="not a billing cycle"):
        schedules.set_cycle(ledger, "MON", "fortnightly")
    with pytest.raises(InputError, match="1 to 31"):
        schedules.set_cycle(ledger, "MON", "monthly", 32)
    with pytest.raises(LedgerError, match="no matter or client NOPE"):
        schedules.set_cycle(ledger, "NOPE", "monthly")


@pytest.mark.parametrize(("cycle", "day", "on", "falls"), [
    ("monthly", None, date(2026, 10, 31), date(2026, 10, 31)),
    ("monthly", None, date(2026, 10, 30), date(2026, 9, 30)),
    ("monthly", 15, date(2026, 10, 31), date(2026, 10, 15)),
    ("monthly", 15, date(2026, 10, 14), date(2026, 9, 15)),
    ("monthly", 31, date(2026, 3, 1), date(2026, 2, 28)),
    ("monthly", 15, date(2026, 1, 10), date(2025, 12, 15)),
    ("quarterly", None, date(2026, 10, 31), date(2026, 9, 30)),
    ("quarterly", None, date(2026, 12, 31), date(2026, 12, 31)),
    ("quarterly", 15, date(2026, 12, 14), date(2026, 9, 15)),
    ("quarterly", None, date(2026, 2, 1), date(2025, 12, 31)),
    ("completion", None, date(2026, 10, 31), None),
])
def test_the_day_a_cycle_last_fell(cycle, day, on, falls):
    assert cycles.last_cycle_day(cycle, day, on) == falls


def test_prebill_month_follows_the_cycles(ledger):
    october = create_prebills(ledger, "2026-10")
    # not QTR (quarterly: December), ASK (on request), MS (no milestone triggered)
    assert sorted(october["matter_id"]) == ["END", "MID", "MIN", "MON"]
    assert bool(october.set_index("matter_id").loc["MIN", "held"])  # under its minimum
    asked = create_prebills(ledger, "2026-10", matter="ASK")
    assert asked["matter_id"].tolist() == ["ASK"]
    # December: October's drafts are rebuilt for December where the cycle falls, and ASK's,
    # from an earlier month and off its cycle, is superseded (the re-run rule)
    december = create_prebills(ledger, "2026-12")
    assert sorted(december["matter_id"]) == ["END", "MID", "MIN", "MON", "QTR"]
    open_ = ledger.read_frame(sa.select(t.prebills).where(t.prebills.c.status == "draft"))
    assert sorted(open_["matter_id"]) == ["END", "MID", "MIN", "MON", "QTR"]


def test_a_draft_of_a_matter_off_its_cycle_is_superseded(ledger):
    create_prebills(ledger, "2026-10")
    schedules.set_cycle(ledger, "MON", "quarterly")
    create_prebills(ledger, "2026-10")
    drafts = ledger.read_frame(sa.select(t.prebills).where(t.prebills.c.status == "draft"))
    assert "MON" not in set(drafts["matter_id"])


def test_a_milestone_triggered_in_the_month_bills_a_milestones_matter(ledger):
    plan = schedules.plan(ledger, "MS", Terms("milestone", milestones=(
        Milestone("on signing", "50"), Milestone("on completion", "50"))))
    schedules.trigger(ledger, int(plan["schedule_id"].iloc[0]), date(2026, 10, 21))
    assert "MS" in set(create_prebills(ledger, "2026-10")["matter_id"])


def test_what_is_due_on_a_day(ledger):
    plan = schedules.plan(ledger, "MS", Terms("milestone", milestones=(
        Milestone("on signing", "50"), Milestone("on completion", "50"))))
    schedules.add_item(ledger, "MON", kind="retainer", amount="1000.00",
                       description="Retainer for October", due_on=date(2026, 10, 30))
    schedules.add_item(ledger, "MON", kind="retainer", amount="1000.00",
                       description="Retainer for November", due_on=date(2026, 11, 30))

    mid = schedules.due(ledger, date(2026, 10, 16))
    # MID's cycle fell on the 15th: its WIP through then (the entry of the 10th); monthly
    # matters' cycle last fell on 30 September, before any of this work
    assert mid[["what", "matter_id", "amount_minor"]].values.tolist() == [["cycle", "MID", 50_000]]

    end = schedules.due(ledger, date(2026, 10, 31))
    cycle = end[end["what"] == "cycle"].set_index("matter_id")
    assert sorted(cycle.index) == ["END", "MID", "MON"]  # not MIN (under its minimum), QTR, ASK
    assert cycle["amount_minor"].to_dict() == {"END": 100_000, "MID": 50_000, "MON": 100_000}
    assert cycle.loc["END", "falls_on"] == date(2026, 10, 20)
    assert end.loc[end["what"] == "scheduled", "description"].tolist() == ["Retainer for October"]

    schedules.trigger(ledger, int(plan["schedule_id"].iloc[0]), date(2026, 12, 2))
    december = schedules.due(ledger, date(2026, 12, 31))
    cycle = december[december["what"] == "cycle"]
    assert sorted(cycle["matter_id"]) == ["END", "MID", "MON", "MS", "QTR"]
    assert sorted(december.loc[december["what"] == "scheduled", "description"]) == [
        "50% of the fixed fee, on signing", "Retainer for November", "Retainer for October"]


def test_the_schedule_commands(tmp_path):
    from billxl.store.ledger import Ledger
    from tests.conftest import FIRM

    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"  # the engine is tested on both backends
    ledger = Ledger.create(ledger_url, firm=FIRM)
    ledger.load_reference(reference(), actor="test")
    ledger.dispose()

    def billxl(*args, ok=0):
        done = subprocess.run([sys.executable, "-m", "billxl.cli", "--ledger", ledger_url, *args],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
        assert done.returncode == ok, done.stderr
        return done

    out = billxl("schedule", "build", "MS", "--kind", "milestone", "--milestone",
                 "on signing=30%", "--milestone", "on filing=40%", "--milestone",
                 "on completion=30%", "--format", "json").stdout
    assert [r["amount"] for r in json.loads(out)] == ["3000.00", "4000.00", "3000.00"]
    wrong = billxl("schedule", "build", "MS", "--kind", "milestone", "--milestone",
                   "on signing=30%", ok=2)
    assert "3,000.00 USD" in wrong.stderr and "10,000.00 USD" in wrong.stderr
    shown = billxl("schedule", "build", "MON", "--total", "100000", "--count", "3", "--start",
                   "2026-11-30", "--dry-run").stdout
    assert "33,333.34" in shown and "not written" in shown
    assert "Installment" not in billxl("schedule", "show", "MON").stdout
    assert "quarterly" in billxl("schedule", "cycle", "C2", "--cycle", "quarterly").stdout
    due = json.loads(billxl("schedule", "due", "--on", "2026-10-31", "--format", "json").stdout)
    assert due == []  # no WIP in this ledger, nothing scheduled is due or triggered
    bad = billxl("schedule", "build", "MS", "--kind", "milestone", "--milestone", "signing",
                 ok=2)
    assert "TRIGGER=PERCENT%" in bad.stderr


def test_work_on_an_approved_pre_bill_is_not_due_again(ledger):
    from datetime import UTC, datetime

    create_prebills(ledger, "2026-10")
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.prebills).where(t.prebills.c.matter_id == "MON")
                     .values(status="approved", approved_by="JS", approved_at=datetime.now(UTC)))
    due = schedules.due(ledger, date(2026, 10, 31))
    assert sorted(due.loc[due["what"] == "cycle", "matter_id"]) == ["END", "MID"]


def test_each_row_of_what_is_due_in_full(ledger):
    item = schedules.add_item(ledger, "MID", kind="retainer", amount="1000.00",
                              description="Retainer for October", due_on=date(2026, 10, 30))
    with ledger.transaction() as conn:
        # MIN's WIP (1,000.00) now is its minimum exactly; MON worked on its cycle's own day
        conn.execute(sa.update(t.matter_terms).where(t.matter_terms.c.matter_id == "MIN")
                     .values(min_bill_minor=100_000))
        conn.execute(t.time_entries.insert(), [
            {"source": "test", "source_key": "T99", "entry_id": "T99", "timekeeper_id": "TK1",
             "matter_id": "MON", "work_date": date(2026, 10, 31), "hours_milli": 1000,
             "rate_minor": 25_000, "amount_minor": 25_000, "currency": "USD",
             "narrative": "Call", "row_hash": "x"}])
    due = schedules.due(ledger, date(2026, 10, 31))
    assert list(due.columns) == schedules.DUE_COLUMNS and due.index.tolist() == list(range(5))

    def cycle(m, client, kind, day, amount, entries):
        return {"what": "cycle", "matter_id": m, "client_id": client, "billing_cycle": kind,
                "falls_on": day, "description": f"WIP through {day:%d %b %Y}",
                "amount_minor": amount, "currency": "USD", "entries": entries,
                "schedule_id": None}

    assert due.to_dict("records") == [
        cycle("END", "C1", "completion", date(2026, 10, 20), 100_000, 2),
        cycle("MID", "C1", "monthly", date(2026, 10, 15), 50_000, 1),
        {"what": "scheduled", "matter_id": "MID", "client_id": "C1", "billing_cycle": "monthly",
         "falls_on": date(2026, 10, 30), "description": "Retainer for October",
         "amount_minor": 100_000, "currency": "USD", "entries": 0, "schedule_id": item},
        cycle("MIN", "C1", "monthly", date(2026, 10, 31), 100_000, 2),
        cycle("MON", "C1", "monthly", date(2026, 10, 31), 125_000, 3)]


def test_nothing_due_is_an_empty_table_and_without_terms_no_minimum_holds_wip_back(ledger):
    nothing = schedules.due(ledger, date(2026, 9, 1))  # before any of the work
    assert nothing.empty and list(nothing.columns) == schedules.DUE_COLUMNS
    with ledger.transaction() as conn:
        conn.execute(sa.delete(t.matter_terms))
    due = schedules.due(ledger, date(2026, 10, 31))
    assert due.loc[due["matter_id"] == "MIN", "amount_minor"].tolist() == [100_000]


def test_a_matters_scheduled_invoices_are_its_own(ledger):
    for matter in ("MON", "MID"):
        schedules.add_item(ledger, matter, kind="retainer", amount="1000.00",
                           description=f"Retainer of {matter}", due_on=date(2026, 10, 30))
    mine = schedules.list_items(ledger, "MON")
    assert (mine["description"].tolist(), mine["status"].tolist()) == (
        ["Retainer of MON"], ["planned"])
    assert len(schedules.list_items(ledger)) == 2


def test_a_matter_billed_at_completion_is_due_on_the_day_it_closes(ledger):
    due = schedules.due(ledger, date(2026, 10, 20))  # END closed that day
    end = due[(due["what"] == "cycle") & (due["matter_id"] == "END")]
    assert end[["falls_on", "amount_minor"]].values.tolist() == [[date(2026, 10, 20), 100_000]]


def test_wip_worth_a_cent_is_due_and_wip_worth_nothing_is_not(ledger):
    # September: MON worked an hour at no rate (nothing to bill), MID an hour at 0.01
    with ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), [
            {"source": "test", "source_key": key, "entry_id": key, "timekeeper_id": "TK1",
             "matter_id": m, "work_date": date(2026, 9, 10), "hours_milli": 1000,
             "rate_minor": rate, "amount_minor": rate, "currency": "USD",
             "narrative": "Call", "row_hash": "x"}
            for key, m, rate in (("S1", "MON", 0), ("S2", "MID", 1))])
    due = schedules.due(ledger, date(2026, 9, 30))  # MON's cycle fell that day, MID's on the 15th
    assert due[["what", "matter_id", "falls_on", "amount_minor", "entries"]].values.tolist() == [
        ["cycle", "MID", date(2026, 9, 15), 1, 1]]


def test_a_cycle_is_set_on_the_matter_or_the_client_named_and_its_day_checked(ledger):
    assert schedules.set_cycle(ledger, "MON", "quarterly", 1, actor="hal") == "matter"
    assert schedules.set_cycle(ledger, "C1", "quarterly", 31) == "client"
    found = cycles.cycles_of(Reference.from_ledger(ledger)).set_index("matter_id")
    assert (found.loc["MON", "billing_cycle"], found.loc["MON", "billing_day"]) == ("quarterly", 1)
    # MIN has no cycle of its own: it follows its client's, day and all
    assert (found.loc["MIN", "billing_cycle"], found.loc["MIN", "billing_day"]) == ("quarterly", 31)
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.row_key == "MON"))
    assert (audit["actor"].iloc[-1], audit["after"].iloc[-1]) == (
        "hal", {"billing_cycle": "quarterly", "billing_day": 1})
    assert schedules.set_cycle(ledger, "MON", None) == "matter"  # back to its client's
    found = cycles.cycles_of(Reference.from_ledger(ledger)).set_index("matter_id")
    assert (found.loc["MON", "billing_cycle"], found.loc["MON", "billing_day"]) == ("quarterly", 31)
    for day in (0, 32, "15"):
        with pytest.raises(InputError) as refused:
            schedules.set_cycle(ledger, "MON", "monthly", day)
        assert str(refused.value) == (
            f"The cycle's day is a day of the month, 1 to 31, not {day!r}.")
    with pytest.raises(InputError) as refused:
        schedules.set_cycle(ledger, "MON", "weekly")
    assert str(refused.value) == (
        f"'weekly' is not a billing cycle: use {', '.join(cycles.CYCLES)}.")
    with pytest.raises(LedgerError) as refused:
        schedules.set_cycle(ledger, "NOPE", "monthly")
    assert str(refused.value) == "There is no matter or client NOPE in the ledger."


def test_what_is_due_is_read_while_a_finalize_holds_the_due_items(ledger):
    """finalize locks the items due (FOR UPDATE on PostgreSQL) until it commits; a look at what
    is due reads them as they are and does not wait for it."""
    import threading

    from billxl.store import billing as store

    item = schedules.add_item(ledger, "MID", kind="retainer", amount="1000.00",
                              description="Retainer for October", due_on=date(2026, 10, 30))
    locked, done, seen = threading.Event(), threading.Event(), {}

    def finalizing():
        with ledger.transaction() as conn:
            store.lock_due_schedule_items(ledger, conn, date(2026, 10, 31), None)
            locked.set()
            done.wait(30)

    holder = threading.Thread(target=finalizing)
    holder.start()
    try:
        assert locked.wait(30)
        looker = threading.Thread(
            target=lambda: seen.update(due=schedules.due(ledger, date(2026, 10, 31))))
        looker.start()
        looker.join(10)
        waited = looker.is_alive()
    finally:
        done.set()
        holder.join(30)
    looker.join(30)
    assert not waited, "what is due waited for the finalize's lock"
    due = seen["due"]
    assert due.loc[due["what"] == "scheduled", ["schedule_id", "amount_minor"]].values.tolist() \
        == [[item, 100_000]]
