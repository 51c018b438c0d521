"""Exact money: the Decimal path and the vectorised path agree, and rounding follows the policy."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billxl import money
from billxl.money import D, Rounding

hours_milli = st.integers(min_value=-24_000, max_value=24_000)
rates_minor = st.integers(min_value=0, max_value=10_000_000_00)  # up to 10 million a unit
roundings = st.sampled_from(list(Rounding))


def test_D_refuses_floats_and_reads_text():
    with pytest.raises(TypeError):
        D(0.1)
    assert D(" 1,250.00 ") == Decimal("1250.00")
    assert D(7) == Decimal(7)
    with pytest.raises(ValueError, match="not a number"):
        D("twelve")
    with pytest.raises(ValueError, match="not a finite"):
        D("NaN")


@pytest.mark.parametrize(
    ("amount", "rounding", "expected"),
    [
        ("0.005", Rounding.HALF_UP, 1),
        ("-0.005", Rounding.HALF_UP, -1),  # ties away from zero
        ("0.015", Rounding.HALF_EVEN, 2),
        ("0.025", Rounding.HALF_EVEN, 2),
        ("0.025", Rounding.HALF_DOWN, 2),
        ("0.029", Rounding.DOWN, 2),
        ("0.021", Rounding.UP, 3),
        ("1234.5", Rounding.HALF_UP, 123450),
    ],
)
def test_to_minor_rounds_by_policy(amount, rounding, expected):
    assert money.to_minor(amount, "USD", rounding) == expected


def test_currencies_have_their_own_minor_units():
    assert money.to_minor("1234.5", "JPY") == 1235
    assert money.from_minor(1235, "JPY") == Decimal("1235")
    assert money.to_minor("1.2345", "KWD") == 1235
    assert str(money.from_minor(123450, "USD")) == "1234.50"
    assert money.format_amount(-5, "USD") == "-0.05"


def test_default_policy_is_half_up():
    assert money.DEFAULT_ROUNDING is Rounding.HALF_UP
    # 0.125 h x 100.00 = 12.50; 0.005 h x 1.00 = 0.005 -> 0.01 under half-up
    assert money.extend(5, 100) == 1


def test_hours_are_exact_thousandths():
    assert money.qty_to_milli("1.25") == 1250
    assert money.qty_to_milli(Decimal("0.200")) == 200
    assert money.milli_to_qty(1250) == Decimal("1.250")
    with pytest.raises(ValueError, match="more than 3 decimal places"):
        money.qty_to_milli("0.3333")


@given(qty=hours_milli, rate=rates_minor, rounding=roundings)
def test_extend_matches_decimal_arithmetic(qty, rate, rounding):
    exact = Decimal(qty) / 1000 * Decimal(rate)
    expected = int(exact.quantize(Decimal(1), rounding=rounding.decimal_mode))
    assert money.extend(qty, rate, rounding) == expected


@given(qty=st.lists(hours_milli, min_size=1, max_size=50), rate=rates_minor, rounding=roundings)
def test_vectorised_extend_equals_scalar_extend(qty, rate, rounding):
    rates = np.full(len(qty), rate, dtype=np.int64)
    vector = money.extend_array(np.array(qty, dtype=np.int64), rates, rounding)
    assert vector.tolist() == [money.extend(q, rate, rounding) for q in qty]


@given(n=st.integers(min_value=-(10**15), max_value=10**15),
       d=st.integers(min_value=1, max_value=10**6), rounding=roundings)
def test_div_round_matches_decimal(n, d, rounding):
    expected = int((Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=rounding.decimal_mode))
    assert money.div_round_array(np.array([n]), d, rounding)[0] == expected


@given(amount=st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False,
                          allow_infinity=False), rounding=roundings)
def test_to_minor_round_trip_is_within_half_a_cent(amount, rounding):
    minor = money.to_minor(amount, "USD", rounding)
    back = money.from_minor(minor, "USD")
    assert abs(back - amount) < Decimal("0.01")
    if rounding in (Rounding.HALF_UP, Rounding.HALF_EVEN, Rounding.HALF_DOWN):
        assert abs(back - amount) <= Decimal("0.005")


@given(amount=st.integers(min_value=-10**12, max_value=10**12),
       pct=st.decimals(min_value=0, max_value=100, places=3))
def test_percent_of_rounds_once_half_up(amount, pct):
    exact = Decimal(amount) * pct / 100
    assert money.percent_of(amount, pct) == int(exact.quantize(Decimal(1), ROUND_HALF_UP))


def _oracle(qty_milli: int, rate_minor: int, rounding: Rounding) -> int:
    """One line's extension worked out in Decimal, independently of billxl.money."""
    exact = Decimal(qty_milli) / 1000 * Decimal(rate_minor)
    return int(exact.quantize(Decimal(1), rounding=rounding.decimal_mode))


@given(lines=st.lists(st.tuples(hours_milli, rates_minor, roundings), min_size=1, max_size=30))
def test_total_is_the_sum_of_rounded_lines(lines):
    """Totals are sums of lines rounded once each — never the rounded extension of the
    summed hours, never re-rounded — checked against Decimal arithmetic line by line, with a
    different rate and rounding rule on each line."""
    qty = np.array([q for q, _, _ in lines], dtype=np.int64)
    rate = np.array([r for _, r, _ in lines], dtype=np.int64)
    rules = np.array([str(r) for _, _, r in lines], dtype=object)
    expected = [_oracle(q, r, rule) for q, r, rule in lines]
    assert money.extend_by_rule(qty, rate, rules).tolist() == expected
    assert int(money.extend_by_rule(qty, rate, rules).sum()) == sum(expected)
    for rounding in Rounding:
        same = [_oracle(q, r, rounding) for q, r, _ in lines]
        assert money.extend_array(qty, rate, rounding).tolist() == same


def test_a_total_of_lines_is_not_the_extension_of_the_total():
    # three lines of 0.1 h at 0.05 (half a cent each) round to 1 cent each: 3 cents, where
    # 0.3 h x 0.05 = 1.5 cents would round to 2
    qty, rate = np.array([100, 100, 100]), np.array([5, 5, 5])
    assert int(money.extend_array(qty, rate).sum()) == 3
    assert money.extend(300, 5) == 2


def test_half_even_differs_from_half_up_on_ties():
    ties = np.array([5, 15, 25, -5, -15], dtype=np.int64)
    assert money.div_round_array(ties, 10, Rounding.HALF_UP).tolist() == [1, 2, 3, -1, -2]
    assert money.div_round_array(ties, 10, Rounding.HALF_EVEN).tolist() == [0, 2, 2, 0, -2]
    assert Decimal("0.5").quantize(Decimal(1), ROUND_HALF_EVEN) == 0


def test_each_line_is_extended_by_its_own_rounding_rule():
    from billxl.money import extend_by_rule

    # 0.5 h x 0.01 = 0.005: half-up gives 0.01, half-even 0.00, down 0.00
    got = extend_by_rule(np.array([500, 500, 500, 1500]), np.array([1, 1, 1, 1]),
                         np.array(["half_up", "half_even", "down", "half_up"], dtype=object))
    assert got.tolist() == [1, 0, 0, 2]


def test_currency_codes_are_those_in_use_since_2020():
    from billxl.money import currency_codes

    codes = currency_codes()
    assert {"USD", "EUR", "GBP", "JPY", "KWD", "HRK", "SLL"} <= codes  # HRK, SLL: withdrawn 2023
    assert not {"ATS", "DEM", "FRF", "ABC", "XYZ"} & codes  # long gone, or never a currency


@pytest.mark.parametrize(("amount", "pct", "rounding", "expected"), [
    (5, "10", Rounding.HALF_UP, 1),  # 0.5 of a cent: a tie
    (5, "10", Rounding.HALF_EVEN, 0),
    (15, "10", Rounding.HALF_EVEN, 2),
    (-5, "10", Rounding.HALF_UP, -1),
    (19, "10", Rounding.DOWN, 1),
    (11, "10", Rounding.UP, 2),
])
def test_percent_of_rounds_by_the_rule_it_is_given(amount, pct, rounding, expected):
    assert money.percent_of(amount, pct, rounding) == expected


def test_division_by_zero_or_less_is_refused():
    for denominator in (0, -10):
        with pytest.raises(ValueError, match="^denominator must be positive$"):
            money.div_round_array(np.array([5]), denominator)


def test_vector_results_are_int64_whatever_integers_come_in():
    """Frames hand over object columns of Python ints too; amounts come back as int64."""
    ints = np.array([5, 15, -25], dtype=object)
    assert money.div_round_array(ints, 10).dtype == np.int64
    got = money.extend_by_rule(ints, np.array([100, 100, 100], dtype=object),
                               np.array(["half_up", "half_even", "down"], dtype=object))
    assert got.dtype == np.int64 and got.tolist() == [1, 2, -2]


def test_amounts_are_formatted_with_their_currencys_digits():
    assert money.format_amount(1235, "JPY") == "1235"
    assert money.format_amount(1235, "KWD") == "1.235"
    assert money.format_amount(123450, "GBP") == "1234.50"


def test_what_cannot_be_an_amount_is_refused_with_the_reason():
    with pytest.raises(TypeError, match="^a boolean is not an amount$"):
        D(True)
    with pytest.raises(TypeError, match="^floats are not exact; pass the amount as text or Decimal$"):
        D(0.1)
    with pytest.raises(TypeError, match="cannot make a Decimal from list"):
        D([1])
