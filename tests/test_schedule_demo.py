"""The demo firm's billing cycles and schedules (issue 16, 5): ``schedule due`` on two days of
its month, and its month end (``run_demo``: pre-bills, the partners' edits, finalize) billing
exactly what was due; the next months bill what falls due in them, the quarterly client's
matters in December.

What was due is asked of a second ledger of the same firm (same seed), loaded up to the month
end: the run's own ledger has billed it by then."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from billxl import demo, intake
from billxl.billing import schedules
from billxl.billing.cycles import cycles_of
from billxl.billing.invoicing import finalize
from billxl.billing.prebill import create_prebills
from billxl.monthend import run_demo
from billxl.reference import Reference
from billxl.store import tables as t
from billxl.store.ledger import Ledger

MONTH, SEED, ENTRIES = "2026-10", 7, 600


@pytest.fixture(scope="module")
def demo_month(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schedule_demo")
    run_demo(folder / "run", month=MONTH, entries=ENTRIES, seed=SEED, packs=False)
    firm = demo.build_firm(seed=SEED, month=MONTH, entries=ENTRIES)
    paths = demo.write_exports(firm, folder / "exports")
    before = Ledger.create(f"sqlite:///{folder / 'before.db'}", firm=firm.firm, actor="demo")
    demo.load_into(before, firm)
    intake.import_file(before, paths["time"], "time", "canonical", actor="demo")
    intake.import_file(before, paths["expenses"], "expenses", "canonical", actor="demo")
    billed = Ledger.open(folder / "run" / "billxl.db")
    yield firm, before, billed, folder
    before.dispose()
    billed.dispose()


def invoices(ledger, month_end: date):
    return ledger.read_frame(sa.select(t.invoices).where(t.invoices.c.invoice_date == month_end))


def held_back(ledger, month: str) -> set[str]:
    """Matters whose approved pre-bill of the month finalize held back (its invoice would be
    rejected by the client's guidelines or portal): due, but not billed until put right."""
    bills = ledger.read_frame(sa.select(t.prebills).where(t.prebills.c.month == month,
                                                          t.prebills.c.status == "approved"))
    return set(bills["matter_id"])


def test_the_demo_has_its_cycles_and_schedules(demo_month):
    firm, before, _billed, _ = demo_month
    plans = demo.billing_plans(firm)
    cycles = cycles_of(Reference.from_ledger(before)).set_index("matter_id")
    quarterly = cycles[cycles["client_id"] == plans.quarterly_client]
    assert len(quarterly) and set(quarterly["billing_cycle"]) == {"quarterly"}
    assert (cycles["billing_cycle"] == "monthly").sum() > len(cycles) // 2
    fixed = schedules.list_plan(before, plans.installments)
    assert fixed["amount_minor"].tolist() == [3_333_333, 3_333_333, 3_333_334]
    milestones = schedules.list_plan(before, plans.milestones)
    assert milestones["amount_minor"].tolist() == [2_550_000, 3_400_000, 2_550_000]
    retainer = schedules.list_plan(before, plans.retainer)
    assert retainer["amount_minor"].tolist() == [500_000] * 12


def test_schedule_due_on_two_days_and_the_month_end_bills_exactly_those(demo_month):
    firm, before, billed, _ = demo_month
    plans = demo.billing_plans(firm)
    mid = schedules.due(before, date(2026, 10, 15))
    # mid-month: the monthly cycles last fell on 30 September, before the month's work; only
    # the milestone triggered on the 15th is due
    assert mid[["what", "matter_id", "description"]].values.tolist() == [
        ["scheduled", plans.milestones, "30% of the fixed fee, on signing"]]

    due = schedules.due(before, date(2026, 10, 31))
    on_cycle = set(due.loc[due["what"] == "cycle", "matter_id"])
    scheduled = due[due["what"] == "scheduled"]
    assert sorted(scheduled["matter_id"]) == sorted([plans.installments, plans.milestones,
                                                     plans.retainer])
    matters = firm.reference["matters"]
    quarterly = set(matters.loc[matters["client_id"] == plans.quarterly_client, "matter_id"])
    assert not on_cycle & quarterly and len(on_cycle) > 10

    made = invoices(billed, date(2026, 10, 31))
    assert set(made.loc[made["schedule_id"].isna(), "matter_id"]) == \
        on_cycle - held_back(billed, MONTH)
    assert sorted(made["schedule_id"].dropna().astype(int)) == sorted(scheduled["schedule_id"])
    from_schedule = made[made["schedule_id"].notna()].set_index("schedule_id")
    expected = scheduled.set_index("schedule_id")["amount_minor"]
    assert (from_schedule.loc[expected.index, "fees_minor"] == expected).all()
    # the quarterly client's WIP waits for December: no pre-bill was made of it
    prebilled = set(billed.read_frame(sa.select(t.prebills))["matter_id"])
    assert not prebilled & quarterly


def test_the_next_months_bill_what_falls_due_in_them(demo_month):
    firm, _before, _billed, folder = demo_month
    plans = demo.billing_plans(firm)
    shutil.copyfile(folder / "run" / "billxl.db", folder / "later.db")
    ledger = Ledger.open(folder / "later.db")
    matters = firm.reference["matters"]
    quarterly = set(matters.loc[matters["client_id"] == plans.quarterly_client, "matter_id"])
    try:
        for month, end in (("2026-11", date(2026, 11, 30)), ("2026-12", date(2026, 12, 31))):
            due = schedules.due(ledger, end)
            create_prebills(ledger, month, actor="test")
            with ledger.transaction() as conn:
                conn.execute(sa.update(t.prebills).where(t.prebills.c.status == "draft")
                             .values(status="approved", approved_by="test",
                                     approved_at=datetime.now(UTC)))
            made = finalize(ledger, month=month, invoice_date=end, actor="test").invoices
            cycle = set(due.loc[due["what"] == "cycle", "matter_id"])
            prebilled = set(ledger.read_frame(sa.select(t.prebills).where(
                t.prebills.c.month == month))["matter_id"])
            assert prebilled == cycle, month
            assert set(made.loc[made["schedule_id"].isna(), "matter_id"]) == \
                cycle - held_back(ledger, month), month
            assert sorted(made["schedule_id"].dropna().astype(int)) == sorted(
                due.loc[due["what"] == "scheduled", "schedule_id"].astype(int)), month
            if month == "2026-11":
                assert sorted(due.loc[due["what"] == "scheduled", "description"]) == [
                    "Installment 2 of 3", "Retainer for November 2026"]
                # no work was recorded after October: what October left (lines the partners
                # held) is all that is due on the monthly cycle
                assert not cycle & quarterly
            else:
                assert cycle & quarterly  # the quarter's work, at last
    finally:
        ledger.dispose()


def test_a_small_demo_firm_has_the_plans_it_has_room_for(tmp_path):
    """A firm too small to lend a client or matter to every plan loads with fewer plans, each
    missing one None, instead of refusing to load (the month-end tests' 300-entry firm)."""
    firm = demo.build_firm(entries=300, seed=3, month=MONTH)
    plans = demo.billing_plans(firm)
    chosen = [p for p in (plans.installments, plans.milestones, plans.retainer) if p]
    assert plans.quarterly_client is not None and len(chosen) < 3
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'small.db'}", firm=firm.firm, actor="test")
    demo.load_into(ledger, firm)
    scheduled = ledger.read_frame(sa.select(t.invoice_schedules.c.matter_id).distinct())
    assert sorted(scheduled["matter_id"]) == sorted(chosen)
    cycles = cycles_of(Reference.from_ledger(ledger))
    quarterly = cycles[cycles["billing_cycle"] == "quarterly"]
    assert set(quarterly["client_id"]) == {plans.quarterly_client}
    ledger.dispose()
