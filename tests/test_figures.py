"""The figures, each on a hand-made journal whose answer is worked out in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from billxl import schema
from billxl.figures import aging, balances, credit, lockup, performance, period, trust, wip


def frame(spec: dict, rows: list[dict]) -> pd.DataFrame:
    columns = {name: [r.get(name) for r in rows] for name in spec}
    return schema.typed(columns, spec)


def invoices() -> pd.DataFrame:
    return frame(schema.INVOICE_FRAME, [
        # 1: 1,000.00 fees + 100.00 expenses, dated 1 Sep, due 1 Oct
        {"invoice_pk": 1, "number": "1", "kind": "invoice", "client_id": "A", "matter_id": "A-1",
         "currency": "USD", "invoice_date": "2026-09-01", "due_date": "2026-10-01",
         "fees_minor": 100000, "expenses_minor": 10000, "discount_minor": 0, "tax_minor": 0,
         "total_minor": 110000},
        # 2: 500.00 fees dated 1 Oct, due 31 Oct
        {"invoice_pk": 2, "number": "2", "kind": "invoice", "client_id": "A", "matter_id": "A-2",
         "currency": "USD", "invoice_date": "2026-10-01", "due_date": "2026-10-31",
         "fees_minor": 50000, "expenses_minor": 0, "discount_minor": 0, "tax_minor": 0,
         "total_minor": 50000},
        # credit note against 2 for 200.00 on 10 Oct
        {"invoice_pk": 3, "number": "CN3", "kind": "credit_note", "credits_invoice_pk": 2,
         "client_id": "A", "matter_id": "A-2", "currency": "USD", "invoice_date": "2026-10-10",
         "due_date": "2026-10-10", "fees_minor": -20000, "expenses_minor": 0,
         "discount_minor": 0, "tax_minor": 0, "total_minor": -20000},
    ])


def allocations() -> pd.DataFrame:
    return frame(schema.ALLOCATION_FRAME, [
        {"invoice_pk": 1, "receipt_pk": 1, "applied_on": "2026-09-20", "amount_minor": 60000,
         "expenses_minor": 10000},
        {"invoice_pk": 2, "receipt_pk": 2, "applied_on": "2026-10-20", "amount_minor": 30000,
         "expenses_minor": 0},
        {"invoice_pk": 2, "receipt_pk": 2, "applied_on": "2026-11-02", "amount_minor": -30000,
         "expenses_minor": 0},  # the payment bounced
    ])


def write_offs() -> pd.DataFrame:
    return frame(schema.WRITE_OFF_FRAME, [
        {"invoice_pk": 1, "written_on": "2026-10-15", "amount_minor": 5000, "reason": "goodwill"}])


def test_an_invoice_balance_is_total_plus_credits_less_paid_and_written_off():
    parts = frame(schema.EXPENSE_PART_FRAME, [{"invoice_pk": 1, "expense_part_minor": 10000}])
    got = balances.invoice_balances(invoices(), allocations(), write_offs(), parts,
                                    as_of="2026-10-31").set_index("number")
    # 1: 1100 - 600 paid - 50 written off = 450, its expenses paid first
    assert got.loc["1", "balance_minor"] == 45000 and got.loc["1", "expenses_open_minor"] == 0
    # 2: 500 - 200 credited - 300 paid = 0 on 31 Oct ...
    assert got.loc["2", "balance_minor"] == 0 and got.loc["2", "credited_minor"] == -20000
    assert list(got.index) == ["1", "2"]  # credit notes carry no balance of their own
    later = balances.invoice_balances(invoices(), allocations(), write_offs(), parts,
                                      as_of="2026-11-30").set_index("number")
    assert later.loc["2", "balance_minor"] == 30000  # ... and owed again after the bounce
    early = balances.invoice_balances(invoices(), allocations(), write_offs(), parts,
                                      as_of="2026-09-30").set_index("number")
    assert list(early.index) == ["1"] and early.loc["1", "balance_minor"] == 50000
    assert balances.invoice_status(later.reset_index()).tolist() == ["part paid", "part credited"]


def test_credit_on_account_is_cash_not_applied_or_refunded():
    receipts = frame(schema.RECEIPT_FRAME, [
        {"receipt_pk": 1, "receipt_id": "R1", "client_id": "A", "currency": "USD",
         "received_on": "2026-09-20", "amount_minor": 70000, "status": "posted"},
        {"receipt_pk": 2, "receipt_id": "R2", "client_id": "A", "currency": "USD",
         "received_on": "2026-10-20", "amount_minor": 30000, "status": "reversed",
         "reversed_on": "2026-11-02"},
        {"receipt_pk": 3, "receipt_id": "R3", "currency": "USD", "received_on": "2026-10-21",
         "amount_minor": 999, "status": "unmatched"}])
    refunds = frame(schema.REFUND_FRAME, [{"receipt_pk": 1, "client_id": "A", "currency": "USD",
                                           "refunded_on": "2026-10-30", "amount_minor": 4000}])
    cash = credit.unapplied(receipts, allocations(), refunds, as_of="2026-10-31")
    # R1: 700 - 600 applied - 40 refunded = 60; R2 fully applied; R3 unidentified
    assert dict(zip(cash["receipt_id"], cash["unapplied_minor"], strict=True)) == {
        "R1": 6000, "R3": 999}
    assert credit.credit_on_account(cash)["credit_minor"].tolist() == [6000]
    assert credit.unidentified(cash)["unidentified_minor"].tolist() == [999]
    november = credit.unapplied(receipts, allocations(), refunds, as_of="2026-11-30")
    assert "R2" not in set(november["receipt_id"])  # reversed by then


def test_aging_places_every_credit_in_every_grouping():
    owed = balances.invoice_balances(invoices(), allocations().iloc[:1], write_offs().iloc[0:0],
                                     as_of="2026-10-31")
    cash = pd.DataFrame({"receipt_pk": [9], "receipt_id": ["R9"], "client_id": ["A"],
                         "currency": ["USD"], "received_on": [pd.Timestamp("2026-10-30")],
                         "amount_minor": [1234], "unapplied_minor": [1234]})
    held = aging.credits(owed, cash)
    # cash on account sits with the client's latest invoice (2, of matter A-2)
    assert held.to_dict("records") == [{"client_id": "A", "matter_id": "A-2", "office_id": None,
                                        "currency": "USD", "credits_minor": 1234}]
    items = aging.age_items(owed, "2026-10-31")
    # 1: due 1 Oct, 30 days on 31 Oct -> 1-30; 2: due 31 Oct -> current
    assert dict(zip(items["number"], items["bucket"], strict=True)) == {"1": "1_30",
                                                                       "2": "current"}
    assert aging.bucket_of([0, 1, 30, 31, 120, 121]).tolist() == [
        "current", "1_30", "1_30", "31_60", "91_120", "over_120"]


def work_time(rows: list[dict]) -> pd.DataFrame:
    base = {"entry_id": "x", "timekeeper_id": "T1", "matter_id": "A-1", "currency": "USD",
            "billable": True, "status": "WIP", "rate_minor": None, "amount_minor": None}
    return frame(schema.WORK_TIME_FRAME, [{**base, **r} for r in rows])


def test_wip_on_a_date_is_worked_by_then_and_not_yet_billed():
    time = work_time([
        {"entry_pk": 1, "work_date": "2026-10-05", "hours_milli": 1500},  # open
        {"entry_pk": 2, "work_date": "2026-10-06", "hours_milli": 1000, "status": "billed",
         "closed_on": "2026-11-05"},  # billed on 5 Nov
        {"entry_pk": 3, "work_date": "2026-11-01", "hours_milli": 500}])  # worked later
    assert wip.is_open(time, "2026-10-31").tolist() == [True, True, False]
    assert wip.is_open(time, "2026-11-05").tolist() == [True, False, True]  # billed that day
    assert wip.is_open(time, "2026-11-04").tolist() == [True, True, True]
    assert wip.is_open(time).tolist() == [True, False, True]  # now: by status
    expenses = frame(schema.WORK_EXPENSE_FRAME, [])
    rated = pd.DataFrame({"standard_rate_minor": [40000, 40000, 40000],
                          "billing_rate_minor": [33333, 33333, 33333]}, index=time.index)
    rows = wip.wip(time, expenses, rated, pd.Series({"A-1": "A"}),
                   lambda ids: ["half_even"] * len(ids), as_of="2026-10-31")
    # 1.5 h x 333.33 = 499.995 -> half-even 500.00 (x 400.00 = 600.00); 1.0 h -> 333.33
    assert rows["billing_minor"].tolist() == [50000, 33333]
    assert rows["standard_minor"].tolist() == [60000, 40000]
    summary = wip.summarise(rows, ["matter_id"])
    assert summary[["fees_billing_minor", "total_standard_minor"]].values.tolist() == [
        [83333, 100000]]
    aged = wip.wip_aging(rows, "2026-10-31", ["matter_id"])
    assert aged[["1_30", "total"]].values.tolist() == [[83333, 83333]]  # 26 and 25 days old


def test_period_figures_by_their_own_dates():
    inv, al, wo = invoices(), allocations(), write_offs()
    october = ("2026-10-01", "2026-10-31")
    billed = period.billed(inv, *october, ["client_id"])
    assert billed["billed_minor"].tolist() == [30000]  # 500 billed less 200 credited
    got = period.collected(al, inv, *october, ["matter_id"])
    assert dict(zip(got["matter_id"], got["collected_minor"], strict=True)) == {"A-2": 30000}
    november = period.collected(al, inv, "2026-11-01", "2026-11-30", ["client_id"])
    assert november["collected_minor"].tolist() == [-30000]  # the bounce
    assert period.written_off(wo, inv, *october, [])["written_off_minor"].tolist() == [5000]
    lines = frame(schema.FEE_LINE_FRAME, [
        {"invoice_pk": 2, "line_type": "F", "quantity_milli": 2000,
         "standard_amount_minor": 80000, "amount_minor": 50000}])
    offs = frame(schema.PREBILL_WRITE_OFF_FRAME, [
        {"entry_pk": 7, "matter_id": "A-2", "client_id": "A", "currency": "USD",
         "closed_on": "2026-10-01", "worked_amount_minor": 20000}])
    down = period.worked_and_billed(lines, inv, offs, *october, ["client_id"])
    # worked 800 + 200 written off on the pre-bill; billed 500: 500 written down
    assert down[["standard_minor", "fees_line_minor", "written_down_minor"]].values.tolist() == [
        [100000, 50000, 50000]]
    assert performance.ratio(50000, 100000) == Decimal("0.5000")
    assert performance.ratio(1, 0) is None
    assert performance.effective_rate(50000, 2000) == 25000  # 250.00 an hour


def test_utilisation_counts_working_days_while_active():
    people = pd.DataFrame({"timekeeper_id": ["T1", "T2"],
                           "active_from": pd.to_datetime(["2020-01-01", "2026-10-19"]),
                           "active_to": pd.to_datetime([None, None])})
    worked = work_time([{"entry_pk": 1, "work_date": "2026-10-05", "hours_milli": 88000}])
    got = performance.utilisation(worked, people, "2026-10-01", "2026-10-31").set_index(
        "timekeeper_id")
    # October 2026 has 22 working days: 176 hours; T2 joined on Monday 19th: 10 days, 80 hours
    assert got.loc["T1", "available_milli"] == 176000 and got.loc["T2", "available_milli"] == 80000
    assert got.loc["T1", "utilisation"] == Decimal("0.5000")
    assert got.loc["T2", "utilisation"] == Decimal("0")


def test_lockup_is_wip_days_plus_debtor_days():
    owed = balances.invoice_balances(invoices(), allocations().iloc[:1], write_offs().iloc[0:0],
                                     as_of="2026-10-31")
    rows = pd.DataFrame({"billable": [True], "currency": ["USD"], "billing_minor": [36500]})
    got = lockup.lockup(owed, invoices(), rows, "2026-10-31", days=365).iloc[0]
    # billed in the year: 1100 + 500 - 200 = 1400 (3.8356/day); AR 500 + 300 = 800; WIP 365
    assert got["billed_minor"] == 140000 and got["ar_minor"] == 80000
    assert got["debtor_days"] == Decimal("208.6") and got["wip_days"] == Decimal("95.2")
    assert got["lockup_days"] == Decimal("303.8")


def test_lockup_over_a_history_shorter_than_its_window():
    # the ledger's billing starts with September's invoice: the window is 1 Sep..31 Oct (61 days)
    owed = balances.invoice_balances(invoices(), allocations().iloc[:1], write_offs().iloc[0:0],
                                     as_of="2026-10-31")
    rows = pd.DataFrame({"billable": [True], "currency": ["USD"], "billing_minor": [36500]})
    since = lockup.history_start(invoices())
    assert since == date(2026, 9, 1)
    got = lockup.lockup(owed, invoices(), rows, "2026-10-31", since=since).iloc[0]
    assert got["window_days"] == 61 and got["billed_minor"] == 140000
    assert got["debtor_days"] == Decimal("34.9")  # 800 / (1,400 / 61), not 208.6 over a year
    assert got["wip_days"] == Decimal("15.9")  # 365 / (1,400 / 61)
    assert lockup.history_start(invoices().iloc[0:0]) is None


def test_trust_balance_is_the_sum_of_the_matters_entries():
    entries = frame(schema.TRUST_FRAME, [
        {"trust_entry_pk": 1, "client_id": "A", "matter_id": "A-1", "currency": "USD",
         "kind": "deposit", "entry_date": "2026-10-01", "amount_minor": 100000},
        {"trust_entry_pk": 2, "client_id": "A", "matter_id": "A-1", "currency": "USD",
         "kind": "application", "entry_date": "2026-10-20", "amount_minor": -70000}])
    levels = frame(schema.RETAINER_FRAME, [{"matter_id": "A-1", "client_id": "A",
                                            "currency": "USD", "minimum_minor": 50000,
                                            "target_minor": 100000}])
    got = trust.trust_balances(entries, levels, as_of="2026-10-31").iloc[0]
    assert got["balance_minor"] == 30000 and got["top_up_minor"] == 70000
    assert trust.trust_balances(entries, levels, as_of="2026-10-10").iloc[0]["top_up_minor"] == 0


@pytest.mark.parametrize("bad", ["31/10/2026", "yesterday"])
def test_a_bad_date_is_refused_in_words(bad):
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        balances.invoice_balances(invoices(), allocations(), write_offs(), as_of=bad)


def test_the_pre_bill_and_reconciliation_take_wip_now_through_a_day():
    time = work_time([
        {"entry_pk": 1, "work_date": "2026-10-05", "hours_milli": 1000},
        {"entry_pk": 2, "work_date": "2026-10-06", "hours_milli": 1000, "status": "billed"},
        {"entry_pk": 3, "work_date": "2026-11-01", "hours_milli": 1000}])
    assert wip.unbilled_through(time, "2026-10-31").tolist() == [True, False, False]
    assert wip.unbilled_through(time).tolist() == [True, False, True]
