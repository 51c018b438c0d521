"""The schedule builder (pure): the issue's hand-computed schedules, to the cent, and its rules
for dates, remainders, tax and refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billxl.billing.schedule_builder import (
    Milestone,
    Terms,
    build,
    check_adds_up,
    move_off_weekend,
    period_dates,
)
from billxl.errors import InputError

D = Decimal


def amounts(items):
    return [i.amount_minor for i in items]


def test_100000_in_three_is_two_thirds_rounded_and_the_cent_left_over_on_the_last():
    items = build(Terms("installment", total="100000.00", count=3, start=date(2026, 11, 30)))
    assert amounts(items) == [3_333_333, 3_333_333, 3_333_334]
    assert [i.description for i in items] == ["Installment 1 of 3", "Installment 2 of 3",
                                              "Installment 3 of 3"]
    # 30 Nov (Mon), 31 Dec (Thu), 31 Jan 2027 (Sun: the Friday before, staying in January)
    assert [i.due_on for i in items] == [date(2026, 11, 30), date(2026, 12, 31),
                                         date(2027, 1, 29)]
    first = build(Terms("installment", total="100000.00", count=3, start=date(2026, 11, 30),
                        remainder="first"))
    assert amounts(first) == [3_333_334, 3_333_333, 3_333_333]


def test_30000_over_twelve_months_is_2500_a_month_on_month_ends():
    items = build(Terms("installment", total="30,000.00", count=12, start=date(2026, 1, 31)),
                  weekend_rule="none")
    assert amounts(items) == [250_000] * 12 and sum(amounts(items)) == 3_000_000
    assert [i.due_on.day for i in items] == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    retainer = build(Terms("retainer", amount="2500", count=12, start=date(2026, 1, 31)),
                     weekend_rule="none")
    assert amounts(retainer) == [250_000] * 12
    assert retainer[0].description == "Retainer for January 2026"
    assert retainer[-1].description == "Retainer for December 2026"


def test_30_40_30_of_85000():
    terms = Terms("milestone", total="85000.00", milestones=(
        Milestone("on signing", "30"), Milestone("on filing", "40"),
        Milestone("on completion", "30")))
    items = build(terms)
    assert amounts(items) == [2_550_000, 3_400_000, 2_550_000]
    assert [i.trigger for i in items] == ["on signing", "on filing", "on completion"]
    assert all(i.due_on is None for i in items)
    assert items[0].description == "30% of the fixed fee, on signing"


def test_a_half_even_client_rounds_a_tie_to_the_even_cent():
    # 1,000.05 in two: 500.025 each; half up makes 500.03 + 500.02, half even 500.02 + 500.03
    terms = Terms("installment", total="1000.05", count=2, start=date(2026, 11, 2))
    assert amounts(build(terms, rounding="half_up")) == [50_003, 50_002]
    assert amounts(build(terms, rounding="half_even")) == [50_002, 50_003]
    # a milestone's share too: 50% of 1,000.05 is 500.025
    halves = Terms("milestone", total="1000.05", milestones=(Milestone("a", "50"),
                                                             Milestone("b", "50")))
    assert amounts(build(halves, rounding="half_up")) == [50_003, 50_002]
    assert amounts(build(halves, rounding="half_even")) == [50_002, 50_003]


def test_percentages_under_100_and_amounts_beside_them():
    terms = Terms("milestone", total="1000.00", milestones=(
        Milestone("on signing", "33.333"), Milestone("on closing", amount="250.00")))
    assert amounts(build(terms)) == [33_333, 25_000]  # 333.33: no remainder to add
    thirds = Terms("milestone", total="100.00", milestones=tuple(
        Milestone(f"step {i}", D(100) / 3) for i in range(3)))
    assert sum(amounts(build(thirds))) == 10_000


def test_given_dates_and_quarters_and_years():
    days = (date(2026, 12, 15), date(2026, 11, 16))
    items = build(Terms("installment", total="10.00", dates=days))
    assert [i.due_on for i in items] == [date(2026, 11, 16), date(2026, 12, 15)]
    assert amounts(items) == [500, 500]
    assert period_dates(date(2026, 1, 15), 4, "quarterly") == [
        date(2026, 1, 15), date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15)]
    assert period_dates(date(2024, 2, 29), 2, "yearly") == [date(2024, 2, 29), date(2025, 2, 28)]
    assert period_dates(date(2026, 1, 30), 2, "monthly") == [date(2026, 1, 30), date(2026, 2, 28)]
    quarters = build(Terms("retainer", amount="1", count=2, start=date(2026, 9, 30),
                           frequency="quarterly"))
    assert [q.description for q in quarters] == ["Retainer for Q3 2026", "Retainer for Q4 2026"]


def test_weekend_rules():
    saturday, first_saturday = date(2026, 10, 31), date(2026, 8, 1)
    days = [saturday, first_saturday, date(2026, 10, 28)]
    assert move_off_weekend(days, "modified_following") == [
        date(2026, 10, 30), date(2026, 8, 3), date(2026, 10, 28)]
    assert move_off_weekend(days, "following") == [date(2026, 11, 2), date(2026, 8, 3),
                                                   date(2026, 10, 28)]
    assert move_off_weekend(days, "preceding") == [date(2026, 10, 30), date(2026, 7, 31),
                                                   date(2026, 10, 28)]
    assert move_off_weekend(days, "none") == days
    assert move_off_weekend([date(2026, 12, 25)], "following",
                            holidays=[date(2026, 12, 25)]) == [date(2026, 12, 28)]


def test_each_item_carries_its_tax_at_the_rate_on_its_date():
    def rate(on):
        return D("20") if on >= date(2026, 12, 1) else D("0")

    items = build(Terms("installment", total="100000.00", count=3, start=date(2026, 11, 30)),
                  tax_percent=rate)
    assert [i.tax_percent for i in items] == [0, 20, 20]
    # 20% of 33,333.33 is 6,666.666: 6,666.67; of 33,333.34, 6,666.668: 6,666.67
    assert [i.tax_minor for i in items] == [0, 666_667, 666_667]
    even = build(Terms("installment", total="0.25", count=1, start=date(2026, 11, 30)),
                 tax_percent="10", rounding="half_even")
    assert even[0].tax_minor == 2  # 2.5 cents, to the even cent


def test_a_fixed_fee_schedule_must_add_up_to_the_fee_naming_both_figures():
    check_adds_up(10_000_000, 10_000_000, "USD")
    check_adds_up(3_333_334, 10_000_000, "USD", invoiced_minor=6_666_666)
    with pytest.raises(InputError) as refused:
        check_adds_up(9_000_000, 10_000_000, "USD", matter="M3")
    text = str(refused.value)
    assert "90,000.00 USD" in text and "100,000.00 USD" in text and "10,000.00 short" in text
    with pytest.raises(InputError, match="66,666.66 already invoiced and 34,333.34 planned.*1,000.00 over"):
        check_adds_up(3_433_334, 10_000_000, "USD", invoiced_minor=6_666_666)


@pytest.mark.parametrize(("terms", "reason"), [
    (Terms("installment", total="100", count=0, start=date(2026, 1, 1)), "at least 1"),
    (Terms("installment", total="100", count=3), "date of the first"),
    (Terms("installment", total="100.001", count=3, start=date(2026, 1, 1)), "more decimals"),
    (Terms("installment", total="-5", count=3, start=date(2026, 1, 1)), "more than zero"),
    (Terms("installment", total="ten", count=3, start=date(2026, 1, 1)), "not an amount"),
    (Terms("installment", total="100", count=3, start=date(2026, 1, 1), frequency="weekly"),
     "not a frequency"),
    (Terms("installment", total="100", count=2, dates=(date(2026, 1, 1),)), "1 dates given"),
    (Terms("retainer", count=3, start=date(2026, 1, 1)), "each period's amount"),
    (Terms("milestone", total="100", milestones=(Milestone("a", "60"), Milestone("b", "50"))),
     "110%"),
    (Terms("milestone", milestones=(Milestone("a", "60"),)), "needs the fee"),
    (Terms("milestone", total="100", milestones=(Milestone("", "60"),)), "needs its trigger"),
    (Terms("milestone", total="100", milestones=(Milestone("a", "60", "10"),)), "one of them"),
    (Terms("fortnightly", total="100", count=2), "not a kind"),
])
def test_terms_that_cannot_be_built_are_refused_in_words(terms, reason):
    with pytest.raises(InputError, match=reason):
        build(terms)


def test_floats_are_refused_as_amounts():
    with pytest.raises(InputError, match="not an amount"):
        build(Terms("installment", total=100.0, count=2, start=date(2026, 1, 1)))
