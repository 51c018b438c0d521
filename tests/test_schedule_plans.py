"""Schedules built from terms into the ledger: fixed fees that add up, a half-even client,
rebuilding after items were invoiced (only the open items change, audited with both plans),
and schedules given item by item (what the workbook saves). On both backends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl.billing import schedules
from billxl.billing.invoicing import finalize
from billxl.billing.schedule_builder import Item, Milestone, Terms
from billxl.errors import InputError, LedgerError
from billxl.store import tables as t


def reference():
    tks = pd.DataFrame([{"timekeeper_id": "TK1", "first_name": "Jane", "last_name": "Smith",
                         "classification": "PARTNR", "office_id": "NYC",
                         "active_from": pd.Timestamp("2020-01-01")}])
    clients = pd.DataFrame([
        {"client_id": "C1", "name": "Acme Corp", "currency": "USD", "payment_terms_days": 30},
        {"client_id": "C2", "name": "Brit Ltd", "currency": "GBP", "tax_jurisdiction": "GB",
         "payment_terms_days": 30, "rounding": "half_even"},
        {"client_id": "C3", "name": "Nippon KK", "currency": "JPY", "payment_terms_days": 30},
        {"client_id": "C4", "name": "Oz Pty", "currency": "AUD", "tax_jurisdiction": "AU",
         "payment_terms_days": 30, "rounding": "half_even"}])
    matter = {"billing_partner_id": "TK1", "opened_on": pd.Timestamp("2026-01-01"),
              "office_id": "NYC", "client_id": "C1"}
    matters = pd.DataFrame([
        {**matter, "matter_id": "FIX", "name": "Fixed fee", "fee_arrangement": "fixed",
         "fixed_fee_minor": 10_000_000},
        {**matter, "matter_id": "MS", "name": "Milestones", "fee_arrangement": "milestone",
         "fixed_fee_minor": 8_500_000},
        {**matter, "matter_id": "RET", "name": "Retainer", "fee_arrangement": "retainer",
         "fixed_fee_minor": None},
        {**matter, "matter_id": "GBX", "name": "Fixed fee, half even", "client_id": "C2",
         "fee_arrangement": "fixed", "fixed_fee_minor": 100_005},
        {**matter, "matter_id": "YEN", "name": "Fixed fee in yen", "client_id": "C3",
         "fee_arrangement": "fixed", "fixed_fee_minor": 1_000_000},
        {**matter, "matter_id": "CAP", "name": "Capped", "fee_arrangement": "capped",
         "fixed_fee_minor": 500_000},
        {**matter, "matter_id": "AUR", "name": "Retainer, GST", "client_id": "C4",
         "fee_arrangement": "retainer", "fixed_fee_minor": None}])
    offices = pd.DataFrame([{"office_id": "NYC", "name": "New York", "currency": "USD"}])
    tax = pd.DataFrame([{"jurisdiction": "GB", "tax_type": "VAT", "applies_to": "both",
                         "percent": "20", "effective_from": pd.Timestamp("2011-01-04")},
                        {"jurisdiction": "AU", "tax_type": "GST", "applies_to": "fees",
                         "percent": "10", "effective_from": pd.Timestamp("2000-07-01")},
                        {"jurisdiction": "AU", "tax_type": "GST", "applies_to": "expenses",
                         "percent": "5", "effective_from": pd.Timestamp("2000-07-01")}])
    return {"offices": offices, "timekeepers": tks, "clients": clients, "matters": matters,
            "tax_rates": tax}


@pytest.fixture
def ledger(empty_ledger):
    empty_ledger.load_reference(reference(), actor="test")
    return empty_ledger


def amounts(frame):
    return frame["amount_minor"].astype(int).tolist()


def test_a_fixed_fee_in_three_then_rebuilt_after_two_were_invoiced(ledger):
    first = schedules.plan(ledger, "FIX", Terms("installment", count=3, start=date(2026, 10, 30)),
                           actor="ann")
    assert amounts(first) == [3_333_333, 3_333_333, 3_333_334]  # the fee, 100,000.00, in 3
    assert first["status"].tolist() == ["planned"] * 3
    invoiced = finalize(ledger, month="2026-11")  # the items of 30 Oct and 30 Nov
    assert sorted(invoiced.invoices["total_minor"]) == [3_333_333, 3_333_333]

    # new terms: what is left (33,333.34) in two, quarterly from the end of January
    rebuilt = schedules.plan(ledger, "FIX", Terms("installment", count=2, start=date(2027, 1, 29),
                                                  frequency="quarterly"), actor="bob")
    assert rebuilt["status"].tolist() == ["invoiced", "invoiced", "planned", "planned"]
    assert amounts(rebuilt) == [3_333_333, 3_333_333, 1_666_667, 1_666_667]
    assert sum(amounts(rebuilt)) == 10_000_000
    assert rebuilt["due_on"].tolist()[2:] == [date(2027, 1, 29), date(2027, 4, 29)]
    kept = rebuilt.loc[rebuilt["status"] == "invoiced", "schedule_id"].tolist()
    assert kept == first["schedule_id"].tolist()[:2]  # the invoiced items are the same rows
    # a preview: the invoiced items' ids whole numbers beside the new items' none (not 1.0)
    shown = schedules.preview(ledger, "FIX", Terms("installment", count=1,
                                                   start=date(2027, 1, 29)))["schedule_id"]
    assert [type(v) for v in shown] == [int, int, type(None)]

    audit = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.action == "rebuild").order_by(t.audit_log.c.audit_id))
    assert audit["actor"].tolist() == ["ann", "bob"]
    last = audit.iloc[-1]
    assert last["row_key"] == "FIX"
    assert [i["amount_minor"] for i in last["before"]["items"]] == [3_333_334]
    assert [i["amount_minor"] for i in last["after"]["items"]] == [1_666_667, 1_666_667]
    assert last["after"]["invoiced_minor"] == 6_666_666
    assert last["after"]["terms"]["total"] == "33333.34"


def test_a_schedule_that_does_not_add_up_to_the_fee_is_refused_and_nothing_changes(ledger):
    schedules.plan(ledger, "FIX", Terms("installment", count=3, start=date(2026, 10, 30)))
    before = schedules.list_plan(ledger, "FIX")
    with pytest.raises(InputError) as refused:
        schedules.plan(ledger, "FIX", Terms("installment", total="90000.00", count=3,
                                            start=date(2026, 10, 30)))
    assert "90,000.00 USD" in str(refused.value) and "100,000.00 USD" in str(refused.value)
    pd.testing.assert_frame_equal(schedules.list_plan(ledger, "FIX"), before)
    with pytest.raises(InputError, match="35,000.00 USD"):
        schedules.preview(ledger, "FIX", Terms("milestone", milestones=(
            Milestone("on signing", "35"),)))


def test_30_40_30_of_the_fee_and_a_milestone_invoiced_when_triggered(ledger):
    plan = schedules.plan(ledger, "MS", Terms("milestone", milestones=(
        Milestone("on signing", "30"), Milestone("on filing", "40"),
        Milestone("on completion", "30"))))
    assert amounts(plan) == [2_550_000, 3_400_000, 2_550_000]
    assert plan["trigger"].tolist() == ["on signing", "on filing", "on completion"]
    schedules.trigger(ledger, int(plan["schedule_id"].iloc[0]), date(2026, 10, 12))
    assert finalize(ledger, month="2026-10").invoices["total_minor"].tolist() == [2_550_000]
    # the rest re-planned as two halves of what is left: the percentages are of the whole fee
    again = schedules.plan(ledger, "MS", Terms("milestone", milestones=(
        Milestone("on filing", "35"), Milestone("on completion", "35"))))
    assert amounts(again) == [2_550_000, 2_975_000, 2_975_000]


def test_a_half_even_client_and_the_tax_each_item_will_carry(ledger):
    plan = schedules.plan(ledger, "GBX", Terms("installment", count=2, start=date(2026, 11, 30)))
    assert amounts(plan) == [50_002, 50_003]  # 1,000.05 in two, the tie to the even penny
    assert plan["currency"].tolist() == ["GBP", "GBP"]
    # 20% VAT: 100.004 and 100.006, each rounded once
    assert plan["tax_minor"].tolist() == [10_000, 10_001]
    done = finalize(ledger, month="2026-11")
    assert done.invoices["tax_minor"].tolist() == [10_000]  # finalize taxes it the same


def test_a_retainer_is_not_held_to_a_fee_and_weekends_follow_the_firms_rule(ledger):
    plan = schedules.plan(ledger, "RET", Terms("retainer", amount="5000.00", count=3,
                                               start=date(2026, 10, 31)))
    assert amounts(plan) == [500_000] * 3
    assert plan["due_on"].tolist() == [date(2026, 10, 30), date(2026, 11, 30),
                                       date(2026, 12, 31)]
    with ledger.transaction() as conn:
        conn.execute(t.firm.update().values(weekend_rule="following"))
    plan = schedules.plan(ledger, "RET", Terms("retainer", amount="5000.00", count=1,
                                               start=date(2026, 10, 31)))
    assert plan["due_on"].tolist() == [date(2026, 11, 2)]


def test_items_given_one_by_one_replace_the_open_ones_and_invoiced_ones_are_kept(ledger):
    schedules.plan(ledger, "FIX", Terms("installment", count=2, start=date(2026, 10, 30)))
    finalize(ledger, month="2026-10")
    current = schedules.list_plan(ledger, "FIX")
    done = current.loc[current["status"] == "invoiced", "schedule_id"].tolist()
    items = [Item("installment", "Second half, part 1", 2_000_000, due_on=date(2026, 12, 15)),
             Item("installment", "Second half, part 2", 3_000_000, due_on=date(2027, 1, 15))]
    saved = schedules.save_items(ledger, "FIX", items, invoiced=done)
    assert amounts(saved) == [5_000_000, 2_000_000, 3_000_000]
    with pytest.raises(LedgerError, match="changed in the ledger since it was read"):
        schedules.save_items(ledger, "FIX", items, invoiced=[done[0] + 99])
    with pytest.raises(InputError, match="110,000.00 USD"):
        schedules.save_items(ledger, "FIX", [*items, Item("installment", "More", 1_000_000,
                                                          due_on=date(2027, 2, 1))])
    with pytest.raises(InputError, match="needs its trigger"):
        schedules.save_items(ledger, "RET", [Item("milestone", "x", 100)])
    with pytest.raises(LedgerError, match="no matter NOPE"):
        schedules.plan(ledger, "NOPE", Terms("installment", count=2, total="1",
                                             start=date(2026, 1, 1)))


def test_items_added_one_by_one_say_what_is_left_of_the_fee_and_never_go_over(ledger):
    def add(amount, day):
        return schedules.add_item(ledger, "FIX", kind="installment", amount=amount,
                                  description="Installment", due_on=day)

    add("40000.00", date(2026, 11, 30))
    left = schedules.fee_left(ledger, "FIX")
    assert (left.fee_minor, left.invoiced_minor, left.planned_minor, left.left_minor) == (
        10_000_000, 0, 4_000_000, 6_000_000)
    assert str(left) == ("The items of FIX come to 40,000.00 USD of its fixed fee of "
                         "100,000.00 USD: 60,000.00 USD is left to schedule.")
    add("35000.00", date(2026, 12, 31))
    with pytest.raises(InputError) as over:  # 40,000 + 35,000 + 30,000 = 105,000
        add("30000.00", date(2027, 1, 29))
    assert str(over.value) == (
        "The schedule of FIX adds up to 105,000.00 USD, but its fixed fee is 100,000.00 USD: "
        "5,000.00 over. Nothing was written.")
    assert amounts(schedules.list_items(ledger, "FIX")) == [4_000_000, 3_500_000]
    first = int(schedules.list_items(ledger, "FIX")["schedule_id"].iloc[0])
    with pytest.raises(InputError, match="adds up to 100,000.01 USD.*0.01 over"):
        schedules.update_item(ledger, first, amount="65000.01")  # 65,000.01 + 35,000
    add("25000.00", date(2027, 1, 29))
    assert str(schedules.fee_left(ledger, "FIX")).endswith(": the whole fee is scheduled.")
    with pytest.raises(InputError, match="0.01 over"):
        add("0.01", date(2027, 2, 26))
    # an invoiced item counts as scheduled; a retainer matter has no fee to keep to
    finalize(ledger, month="2026-11")
    left = schedules.fee_left(ledger, "FIX")
    assert (left.invoiced_minor, left.planned_minor, left.left_minor) == (
        4_000_000, 6_000_000, 0)
    assert "40,000.00 already invoiced and 60,000.01 planned" in str(
        pytest.raises(InputError, add, "0.01", date(2027, 2, 26)).value)
    assert schedules.fee_left(ledger, "RET") is None
    schedules.add_item(ledger, "RET", kind="retainer", amount="999999.00",
                       description="Retainer", due_on=date(2026, 12, 1))


def test_schedule_add_on_the_command_line_says_what_is_left(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from billxl.cli.commands import app
    from billxl.store.ledger import Ledger
    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger.create(url, firm=FIRM, actor="test").load_reference(reference(), actor="test")
    monkeypatch.setenv("BILLXL_LEDGER", url)

    def add(amount, due):
        return CliRunner().invoke(app, ["schedule", "add", "FIX", "--kind", "installment",
                                        "--amount", amount, "--due", due,
                                        "--description", "Installment"],
                                  env={"COLUMNS": "200"})

    done = add("33333.33", "2026-11-30")
    assert done.exit_code == 0, done.output
    assert "The items of FIX come to 33,333.33 USD of its fixed fee of 100,000.00 USD: " \
           "66,666.67 USD is left to schedule." in " ".join(done.output.split())
    refused = add("70000.00", "2026-12-31")
    assert refused.exit_code != 0
    said = " ".join(refused.output.split())
    assert "adds up to 103,333.33 USD" in said and "fixed fee is 100,000.00 USD" in said
    assert "Nothing was written" in said
    assert "66,566.67 USD is left to schedule" in " ".join(add("100.00", "2026-12-31")
                                                          .output.split())


def test_a_preview_after_two_were_invoiced_plans_what_is_left_of_the_matters_own_fee(ledger):
    schedules.plan(ledger, "FIX", Terms("installment", count=3, start=date(2026, 10, 30)))
    schedules.plan(ledger, "GBX", Terms("installment", count=2, start=date(2026, 10, 30)))
    finalize(ledger, month="2026-11")  # FIX's items of 30 Oct and 30 Nov, and both of GBX's
    shown = schedules.preview(ledger, "FIX", Terms("installment", count=1,
                                                   start=date(2027, 1, 29)))
    assert amounts(shown) == [3_333_333, 3_333_333, 3_333_334]
    assert shown["status"].tolist() == ["invoiced", "invoiced", "new"]


def test_items_saved_are_audited_as_given_by_their_actor_and_a_stale_list_names_the_ids(ledger):
    schedules.plan(ledger, "FIX", Terms("installment", count=2, start=date(2026, 10, 30)))
    finalize(ledger, month="2026-11")  # both invoiced
    done = sorted(schedules.list_plan(ledger, "FIX")["schedule_id"].astype(int))
    with pytest.raises(LedgerError) as stale:
        schedules.save_items(ledger, "FIX", [], invoiced=[])
    assert str(stale.value) == (
        f"The schedule of FIX has changed in the ledger since it was read: the items invoiced "
        f"are {done[0]}, {done[1]}, not none; load it again.")
    schedules.save_items(ledger, "FIX", [], invoiced=done, actor="cy")
    last = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.action == "rebuild").order_by(t.audit_log.c.audit_id)).iloc[-1]
    assert (last["actor"], last["after"]["terms"]) == ("cy", {"given": "item by item"})


def test_a_fixed_fee_matter_with_nothing_scheduled_has_its_whole_fee_left(ledger):
    left = schedules.fee_left(ledger, "FIX")
    assert (left.invoiced_minor, left.planned_minor, left.left_minor) == (0, 0, 10_000_000)
    assert str(left) == ("The items of FIX come to 0.00 USD of its fixed fee of 100,000.00 USD: "
                         "100,000.00 USD is left to schedule.")


def test_an_item_added_is_audited_as_its_actor_and_bad_ones_are_refused_in_words(ledger):
    pk = schedules.add_item(ledger, "RET", kind="retainer", amount="500.00",
                            description="Retainer", due_on=date(2026, 12, 1), actor="dee")
    audit = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.table_name == "invoice_schedules")).iloc[-1]
    assert (audit["action"], audit["row_key"], audit["actor"]) == ("insert", str(pk), "dee")
    assert audit["after"]["amount_minor"] == 50_000

    def refused(**given) -> str:
        with pytest.raises(LedgerError) as error:
            schedules.add_item(ledger, **{"matter_id": "RET", "kind": "retainer",
                                          "amount": "1.00", "description": "x", **given})
        return str(error.value)

    assert refused(kind="bonus", due_on=date(2026, 12, 1)) == (
        f"'bonus' is not a kind of scheduled invoice; use one of {schedules.KINDS}.")
    assert refused(kind="milestone") == "A milestone needs its trigger, e.g. 'on signing'."
    assert refused() == "A retainer needs the date it falls due."
    assert refused(kind="installment") == "An installment needs the date it falls due."
    assert refused(matter_id="NOPE", due_on=date(2026, 12, 1)) == \
        "There is no matter NOPE in the ledger."


def test_what_is_left_of_a_fee_in_yen_is_said_in_whole_yen(ledger):
    # yen have no minor unit: 1,000,000 minor units are 1,000,000 JPY, not 10,000.00
    schedules.add_item(ledger, "YEN", kind="installment", amount="300000",
                       description="Installment", due_on=date(2026, 11, 30))
    assert str(schedules.fee_left(ledger, "YEN")) == (
        "The items of YEN come to 300,000 JPY of its fixed fee of 1,000,000 JPY: "
        "700,000 JPY is left to schedule.")
    second = schedules.add_item(ledger, "YEN", kind="installment", amount="600000",
                                description="Installment", due_on=date(2026, 12, 31))
    schedules.update_item(ledger, second, amount="700000")  # the rest of the fee, in yen
    assert amounts(schedules.list_items(ledger, "YEN")) == [300_000, 700_000]
    finalize(ledger, month="2026-12")  # both invoiced: nothing left to plan
    with pytest.raises(InputError) as nothing_left:
        schedules.preview(ledger, "YEN", Terms("installment", count=2, start=date(2027, 1, 29)))
    assert str(nothing_left.value) == (
        "Nothing is left of the fixed fee of YEN to plan: 1,000,000 JPY of 1,000,000 JPY "
        "is invoiced.")


def test_what_is_left_of_a_fee_counts_the_matters_own_items_only(ledger):
    schedules.add_item(ledger, "GBX", kind="installment", amount="500.00",
                       description="Installment", due_on=date(2026, 11, 30))
    schedules.add_item(ledger, "FIX", kind="installment", amount="40000.00",
                       description="Installment", due_on=date(2026, 11, 30))
    left = schedules.fee_left(ledger, "FIX")
    assert (left.invoiced_minor, left.planned_minor, left.left_minor) == (0, 4_000_000, 6_000_000)
    # the rest of FIX's fee exactly is not over it, whatever GBX has planned
    schedules.add_item(ledger, "FIX", kind="installment", amount="60000.00",
                       description="Installment", due_on=date(2026, 12, 31))
    assert schedules.fee_left(ledger, "FIX").left_minor == 0
    assert schedules.fee_left(ledger, "GBX").planned_minor == 50_000


def test_a_milestone_triggered_is_audited_as_who_said_it_happened(ledger):
    plan = schedules.plan(ledger, "MS", Terms("milestone", milestones=(
        Milestone("on signing", "50"), Milestone("on completion", "50"))))
    signing = int(plan["schedule_id"].iloc[0])
    schedules.trigger(ledger, signing, date(2026, 10, 12), actor="fay")
    audit = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.table_name == "invoice_schedules",
        t.audit_log.c.action == "update")).iloc[-1]
    assert (audit["row_key"], audit["actor"]) == (str(signing), "fay")
    assert audit["before"] == {"triggered_on": None}
    assert audit["after"] == {"triggered_on": "2026-10-12"}


def test_an_item_that_cannot_change_is_refused_in_words_and_left_as_it_was(ledger):
    schedules.plan(ledger, "FIX", Terms("installment", count=2, start=date(2026, 10, 30)))
    finalize(ledger, month="2026-10")  # the first invoiced
    invoiced, planned = schedules.list_items(ledger, "FIX")["schedule_id"].astype(int).tolist()

    def refused(schedule_id, **changes) -> str:
        with pytest.raises(LedgerError) as error:
            schedules.update_item(ledger, schedule_id, **changes)
        return str(error.value)

    assert refused(invoiced, amount="1.00") == (
        f"Scheduled invoice {invoiced} has been invoiced; it cannot change (correct the invoice "
        "with a credit note).")
    assert refused(invoiced + planned + 99, description="x") == (
        f"There is no scheduled invoice {invoiced + planned + 99}.")
    assert refused(planned, kind="retainer", currency="EUR") == (
        "A scheduled invoice has no currency, kind to change.")
    assert amounts(schedules.list_items(ledger, "FIX")) == [5_000_000, 5_000_000]


def test_a_planned_items_date_trigger_description_and_amount_can_change(ledger):
    retainer = schedules.add_item(ledger, "RET", kind="retainer", amount="500.00",
                                  description="Retainer", due_on=date(2026, 12, 1))
    signing = schedules.add_item(ledger, "RET", kind="milestone", amount="250.00",
                                 description="Signing", trigger="on signing")
    schedules.update_item(ledger, retainer, due_on=date(2027, 1, 4),
                          description="Retainer for January", amount="750.25", actor="gus")
    schedules.update_item(ledger, signing, trigger="on exchange")
    items = schedules.list_items(ledger, "RET").set_index("schedule_id")
    assert items.loc[retainer, ["due_on", "description", "amount_minor"]].tolist() == [
        pd.Timestamp(2027, 1, 4), "Retainer for January", 75_025]
    assert items.loc[signing, ["trigger", "description"]].tolist() == ["on exchange", "Signing"]
    audit = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.table_name == "invoice_schedules", t.audit_log.c.action == "update",
        t.audit_log.c.row_key == str(retainer))).iloc[-1]
    assert audit["actor"] == "gus"
    assert audit["before"] == {"due_on": "2026-12-01", "description": "Retainer",
                               "amount_minor": 50_000}
    assert audit["after"] == {"due_on": "2027-01-04", "description": "Retainer for January",
                              "amount_minor": 75_025}


def test_items_given_one_by_one_are_refused_by_their_place_in_the_list_and_why(ledger):
    ok = Item("retainer", "Retainer", 50_000, due_on=date(2026, 12, 1))

    def refused(item) -> str:
        with pytest.raises(InputError) as error:
            schedules.save_items(ledger, "RET", [ok, item])
        return str(error.value)

    assert refused(Item("bonus", "x", 100, due_on=date(2026, 12, 1))) == (
        "Item 2: 'bonus' is not a kind of scheduled invoice; use one of "
        f"{', '.join(schedules.KINDS)}.")
    assert refused(Item("milestone", "x", 100, trigger="  ")) == (
        "Item 2: a milestone needs its trigger, e.g. 'on signing'.")
    assert refused(Item("retainer", "x", 100)) == (
        "Item 2: a retainer needs the date it falls due.")
    assert refused(Item("installment", "x", 100)) == (
        "Item 2: an installment needs the date it falls due.")
    assert refused(Item("retainer", "x", 0, due_on=date(2026, 12, 1))) == (
        "Item 2: the amount must be more than zero.")
    assert len(schedules.list_items(ledger, "RET")) == 0  # nothing written
    # a milestone with a trigger needs no date, and an amount of a cent is an amount
    saved = schedules.save_items(ledger, "RET", [ok, Item("milestone", "Signing", 1,
                                                          trigger="on signing")])
    assert amounts(saved) == [50_000, 1]


def test_a_fee_cap_is_no_fee_to_schedule_up_to(ledger):
    # a capped matter's fixed_fee_minor is its cap, not an agreed fee: no schedule adds up to it
    assert schedules.fee_left(ledger, "CAP") is None
    schedules.add_item(ledger, "CAP", kind="retainer", amount="9000.00",
                       description="Retainer", due_on=date(2026, 12, 1))
    plan = schedules.plan(ledger, "CAP", Terms("installment", total="12000.00", count=2,
                                               start=date(2026, 11, 30)))
    assert amounts(plan) == [600_000, 600_000]


def test_a_plan_splits_its_own_matters_fee_whatever_another_matter_has_invoiced(ledger):
    schedules.plan(ledger, "GBX", Terms("installment", count=2, start=date(2026, 10, 30)))
    schedules.add_item(ledger, "RET", kind="retainer", amount="500.00",
                       description="Retainer", due_on=date(2027, 3, 1))
    finalize(ledger, month="2026-11")  # both of GBX's items invoiced; RET's still planned
    plan = schedules.plan(ledger, "FIX", Terms("installment", count=2, start=date(2026, 12, 31)))
    assert amounts(plan) == [5_000_000, 5_000_000]
    assert plan["status"].tolist() == ["planned", "planned"]
    last = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.action == "rebuild").order_by(t.audit_log.c.audit_id)).iloc[-1]
    assert (last["row_key"], last["before"]["items"], last["after"]["invoiced_minor"]) == (
        "FIX", [], 0)
    assert amounts(schedules.list_items(ledger, "RET")) == [50_000]  # untouched


def test_the_terms_a_plan_was_built_from_are_audited_as_text(ledger):
    schedules.plan(ledger, "MS", Terms("milestone", milestones=(
        Milestone("on signing", "40", description="Signing"),
        Milestone("on completion", amount="51000.00"))), actor="ivy")
    schedules.plan(ledger, "RET", Terms("retainer", amount="5000.00", dates=(
        date(2026, 11, 30), date(2027, 2, 26))), actor="ivy")
    audit = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.action == "rebuild").order_by(t.audit_log.c.audit_id))
    milestones, retainer = (a["terms"] for a in audit["after"])
    fields = ["amount", "count", "dates", "description", "frequency", "kind", "milestones",
              "remainder", "start", "total"]
    assert sorted(milestones) == sorted(retainer) == fields  # the terms as agreed, no more
    assert milestones["milestones"] == [
        {"trigger": "on signing", "percent": "40", "amount": None, "description": "Signing"},
        {"trigger": "on completion", "percent": None, "amount": "51000.00",
         "description": None}]
    assert (milestones["total"], milestones["amount"], milestones["start"]) == (
        "85000.00", None, None)
    assert (retainer["amount"], retainer["total"], retainer["dates"]) == (
        "5000.00", None, ["2026-11-30", "2027-02-26"])
    assert audit["after"].iloc[0]["items"][0]["amount_minor"] == 3_400_000
    schedules.plan(ledger, "FIX", Terms("installment", count=2, start=date(2026, 10, 30)))
    last = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.action == "rebuild").order_by(t.audit_log.c.audit_id)).iloc[-1]
    assert (last["after"]["terms"]["start"], last["after"]["terms"]["count"]) == (
        "2026-10-30", 2)


def test_a_fee_in_yen_is_planned_in_whole_yen(ledger):
    plan = schedules.plan(ledger, "YEN", Terms("installment", count=3, start=date(2026, 10, 30)))
    assert amounts(plan) == [333_333, 333_333, 333_334]  # 1,000,000 JPY in three
    assert plan["currency"].tolist() == ["JPY"] * 3
    plan = schedules.plan(ledger, "YEN", Terms("milestone", milestones=(
        Milestone("on signing", "25"), Milestone("on completion", "75"))))
    assert amounts(plan) == [250_000, 750_000]  # percentages of the fee, in yen


def test_the_last_cent_of_a_fee_can_still_be_planned(ledger):
    schedules.add_item(ledger, "FIX", kind="installment", amount="99999.99",
                       description="Installment", due_on=date(2026, 10, 30))
    finalize(ledger, month="2026-10")
    plan = schedules.plan(ledger, "FIX", Terms("installment", count=1, start=date(2026, 11, 30)))
    assert amounts(plan) == [9_999_999, 1]
    assert plan["status"].tolist() == ["invoiced", "planned"]


def test_a_preview_shows_the_tax_each_new_item_will_carry(ledger):
    shown = schedules.preview(ledger, "GBX", Terms("installment", count=2,
                                                   start=date(2026, 11, 30)))
    assert amounts(shown) == [50_002, 50_003]
    assert shown["tax_percent"].tolist() == [Decimal(20), Decimal(20)]
    assert shown["tax_minor"].tolist() == [10_000, 10_001]  # 20% VAT, each rounded once


def test_a_scheduled_invoice_is_a_fee_and_carries_the_fees_rate_not_the_expenses(ledger):
    plan = schedules.plan(ledger, "AUR", Terms("retainer", amount="1000.00", count=1,
                                               start=date(2026, 11, 30)))
    assert (plan["tax_percent"].tolist(), plan["tax_minor"].tolist()) == ([Decimal(10)], [10_000])


def test_a_milestone_carries_the_tax_in_force_today_and_a_plan_over_the_fee_names_it(ledger):
    plan = schedules.plan(ledger, "GBX", Terms("milestone", milestones=(
        Milestone("on signing", "50"), Milestone("on completion", "50"))))
    assert amounts(plan) == [50_002, 50_003]
    # no date yet: the VAT in force today (20% since 2011), each rounded half even
    assert plan["tax_percent"].tolist() == [Decimal(20), Decimal(20)]
    assert plan["tax_minor"].tolist() == [10_000, 10_001]
    with pytest.raises(InputError) as over:
        schedules.save_items(ledger, "FIX", [Item("installment", "All of it and more",
                                                  11_000_000, due_on=date(2026, 12, 15))])
    assert str(over.value) == ("The schedule of FIX adds up to 110,000.00 USD, but its fixed "
                               "fee is 100,000.00 USD: 10,000.00 over.")


def test_each_row_of_a_plan_in_full(ledger):
    retainer = schedules.add_item(ledger, "RET", kind="retainer", amount="500.00",
                                  description="Retainer for October", due_on=date(2026, 10, 30))
    signing = schedules.add_item(ledger, "RET", kind="milestone", amount="250.00",
                                 description="On signing", trigger="on signing")
    number = finalize(ledger, month="2026-10").invoices["number"].tolist()
    assert len(number) == 1
    row = {"matter_id": "RET", "tax_percent": Decimal(0), "tax_minor": 0, "currency": "USD"}
    plan = schedules.list_plan(ledger, "RET")
    assert pd.isna(plan["trigger"].iloc[0]) and plan["trigger"].iloc[1] == "on signing"
    assert plan["invoice_number"].iloc[0] == number[0] and pd.isna(plan["invoice_number"].iloc[1])
    assert plan.drop(columns=["trigger", "invoice_number"]).to_dict("records") == [
        {**row, "schedule_id": retainer, "kind": "retainer", "due_on": date(2026, 10, 30),
         "description": "Retainer for October", "amount_minor": 50_000,
         "status": "invoiced"},
        {**row, "schedule_id": signing, "kind": "milestone", "due_on": None,
         "description": "On signing", "amount_minor": 25_000,
         "status": "planned"}]
    assert list(schedules.list_plan(ledger, "RET").columns) == schedules.PLAN_COLUMNS


def test_the_tax_of_a_stored_item_is_rounded_by_its_clients_rule(ledger):
    # 10% GST of 1,000.05 is 100.005: half even to 100.00 (half up would make it 100.01)
    plan = schedules.plan(ledger, "AUR", Terms("retainer", amount="1000.05", count=1,
                                               start=date(2026, 11, 30)))
    assert plan["tax_minor"].tolist() == [10_000]


def test_an_item_changed_in_yen_is_changed_in_whole_yen(ledger):
    item = schedules.add_item(ledger, "YEN", kind="installment", amount="600000",
                              description="Installment", due_on=date(2026, 12, 31))
    schedules.update_item(ledger, item, amount="1000000")  # the whole fee, in yen
    assert amounts(schedules.list_items(ledger, "YEN")) == [1_000_000]


def test_each_new_row_of_a_preview_in_full(ledger):
    shown = schedules.preview(ledger, "GBX", Terms("installment", count=1,
                                                   start=date(2026, 11, 30)))
    assert shown.to_dict("records") == [
        {"schedule_id": None, "matter_id": "GBX", "kind": "installment",
         "due_on": date(2026, 11, 30), "trigger": None, "description": "Installment 1 of 1",
         "amount_minor": 100_005, "tax_percent": Decimal(20), "tax_minor": 20_001,
         "currency": "GBP", "status": "new", "invoice_number": None}]
