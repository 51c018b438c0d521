"""Invoice schedules built from the terms agreed with the client (pure: values in, items out).

Three kinds of terms (:class:`Terms`):

* **installment**: a ``total`` split into ``count`` items, one per period (``monthly``,
  ``quarterly``, ``yearly``) from ``start``, or one on each of the given ``dates``;
* **retainer**: a fixed ``amount`` per period for ``count`` periods from ``start`` (a monthly
  retainer, an evergreen top-up for a term);
* **milestone**: :class:`Milestone` s, each a ``percent`` of the fixed fee (``total``) or an
  ``amount``, with the event that triggers its invoice (``"on signing"``).

Exact cents, by the client's rounding rule
------------------------------------------
An installment is ``total / count`` rounded once by the client's rule
(:func:`billxl.money.div_round_array`); a milestone's share is
:func:`billxl.money.percent_of` the fee by the same rule. What rounding leaves over goes to the
last item (``remainder="first"``: the first), so the items add up to the total to the cent:
100,000.00 in 3 is 33,333.33, 33,333.33 and 33,333.34. Percentages that add up to 100 make
items that add up to the fee.

Dates
-----
Each period steps from ``start`` (31 January, monthly: 28 February, 31 March; a start on a
month's last day keeps to month ends), then a date on a weekend moves by the firm's
``weekend_rule``: ``modified_following`` (the next working day, unless that is in the next
month: then the working day before), ``following``, ``preceding`` or ``none``; NumPy's
business-day calendar does the moving. ``holidays`` are days it also skips: a matter's schedule
skips the firm's public holidays and closure dates (:mod:`billxl.billing.closures`).

Tax
---
Each item carries the tax finalize will put on it: the fees rate in force on its date
(``tax_percent``: a percentage, or a function of the date; a milestone, which has no date, at
the rate on ``start`` or, without one, today) times its amount, rounded once by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billxl import money
from billxl.errors import InputError
from billxl.money import DEFAULT_ROUNDING, Rounding

__all__ = ["KINDS", "FREQUENCIES", "WEEKEND_RULES", "REMAINDERS", "Milestone", "Terms", "Item",
           "Holidays", "build", "period_dates", "move_off_weekend", "check_adds_up"]

KINDS = ("installment", "retainer", "milestone")
#: Months between two items of each frequency.
FREQUENCIES = {"monthly": 1, "quarterly": 3, "yearly": 12}
#: The firm's ways of moving a date off a weekend, and NumPy's name for each.
WEEKEND_RULES = {"modified_following": "modifiedfollowing", "following": "following",
                 "preceding": "preceding", "none": None}
REMAINDERS = ("last", "first")


@dataclass(frozen=True)
class Milestone:
    """One milestone: a percentage of the fee or an amount, invoiced when ``trigger`` happens."""

    trigger: str
    percent: Any = None  # text or Decimal: 30 is 30 %
    amount: Any = None  # text or Decimal, in the matter's currency
    description: str | None = None


@dataclass(frozen=True)
class Terms:
    """What was agreed with the client (amounts as text or Decimal, never float)."""

    kind: str
    total: Any = None  # installments: the amount to split; milestones: the fee percents are of
    count: int | None = None
    start: date | None = None
    frequency: str = "monthly"
    dates: tuple[date, ...] = ()
    amount: Any = None  # retainer: each period's amount
    milestones: tuple[Milestone, ...] = ()
    remainder: str = "last"
    description: str | None = None  # the items' label: "Installment", "Retainer" by default


@dataclass(frozen=True)
class Item:
    """One planned invoice: its amount and tax in minor units, its date or its trigger."""

    kind: str
    description: str
    amount_minor: int
    due_on: date | None = None
    trigger: str | None = None
    tax_percent: Decimal = Decimal(0)
    tax_minor: int = 0


# =================================================================================== dates
def period_dates(start: date, count: int, frequency: str) -> list[date]:
    """``count`` dates a period apart from ``start`` (month ends kept when it is one)."""
    if frequency not in FREQUENCIES:
        raise InputError(f"{frequency!r} is not a frequency: use {', '.join(FREQUENCIES)} "
                         "(or give the dates).")
    step = FREQUENCIES[frequency]
    first = pd.Timestamp(start)
    if first.is_month_end:
        stamps = [first + pd.offsets.MonthEnd(step * k) for k in range(count)]
    else:
        stamps = [first + pd.DateOffset(months=step * k) for k in range(count)]
    return [s.date() for s in stamps]


#: The days a firm is closed besides weekends: dates, or a function of the years concerned
#: (:meth:`billxl.billing.closures.Closures.days`).
Holidays = Iterable[date] | Callable[[Iterable[int]], Iterable[date]]


def move_off_weekend(days: Sequence[date], rule: str, holidays: Holidays = ()) -> list[date]:
    """Each day moved off a weekend (and off ``holidays``) by the firm's ``rule``."""
    if rule not in WEEKEND_RULES:
        raise InputError(f"{rule!r} is not a weekend rule: use {', '.join(WEEKEND_RULES)}.")
    roll = WEEKEND_RULES[rule]
    if roll is None or not days:
        return list(days)
    if callable(holidays):  # a move may cross into the year before or after
        holidays = holidays(range(min(days).year - 1, max(days).year + 2))
    moved = np.busday_offset(np.array(days, dtype="datetime64[D]"), 0, roll=roll,
                             holidays=np.array(list(holidays), dtype="datetime64[D]"))
    return [d.item() for d in moved]


# =================================================================================== amounts
def _minor(value: Any, currency: str, what: str) -> int:
    """An exact amount in minor units; more decimals than the currency has is refused."""
    try:
        amount = money.D(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"{what}: {value!r} is not an amount ({error}).") from None
    minor = money.to_minor(amount, currency)
    if money.from_minor(minor, currency) != amount:
        raise InputError(f"{what}: {amount} has more decimals than {currency} has "
                         f"({money.minor_digits(currency)}).")
    return minor


def _percent(value: Any, what: str) -> Decimal:
    try:
        percent = money.D(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"{what}: {value!r} is not a percentage ({error}).") from None
    if not 0 < percent <= 100:
        raise InputError(f"{what}: {percent}% is not a share of the fee (more than 0, at most "
                         "100).")
    return percent


def _with_remainder(shares: list[int], target: int, remainder: str) -> list[int]:
    """The shares with what rounding left over (``target`` - their sum) on the last or first."""
    if remainder not in REMAINDERS:
        raise InputError(f"{remainder!r}: the remainder goes on the 'last' or the 'first' item.")
    at = -1 if remainder == "last" else 0
    out = list(shares)
    out[at] += target - sum(shares)
    return out


def _equal_shares(total: int, count: int, rounding: Rounding, remainder: str) -> list[int]:
    share = int(money.div_round_array(np.array([total], dtype=np.int64), count, rounding)[0])
    return _with_remainder([share] * count, total, remainder)


# =================================================================================== build
def _period_name(day: date, frequency: str) -> str:
    if frequency == "quarterly":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    if frequency == "yearly":
        return str(day.year)
    return f"{day:%B %Y}"


def _count(terms: Terms) -> int:
    count = len(terms.dates) if terms.dates else terms.count
    if terms.dates and terms.count not in (None, len(terms.dates)):
        raise InputError(f"{terms.count} items asked for, but {len(terms.dates)} dates given.")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise InputError(f"How many {terms.kind}s: a whole number of at least 1, not "
                         f"{count!r}.")
    return count


def _dates(terms: Terms, count: int) -> list[date]:
    if terms.dates:
        return sorted(terms.dates)
    if terms.start is None:
        raise InputError(f"A schedule of {terms.kind}s needs the date of the first one.")
    return period_dates(terms.start, count, terms.frequency)


def build(terms: Terms, *, currency: str = "USD", rounding: Rounding | str = DEFAULT_ROUNDING,
          weekend_rule: str = "modified_following",
          tax_percent: Decimal | str | int | Callable[[date], Decimal] = 0,
          holidays: Holidays = ()) -> list[Item]:
    """The items the terms make, in date order (milestones in the order given). Pure."""
    rounding = Rounding(rounding)
    if terms.kind not in KINDS:
        raise InputError(f"{terms.kind!r} is not a kind of schedule: use {', '.join(KINDS)}.")
    if terms.kind == "milestone":
        items = _milestones(terms, currency, rounding)
        on = terms.start or date.today()
        return [_taxed(i, _rate(tax_percent, on), rounding) for i in items]

    count = _count(terms)
    raw_days = _dates(terms, count)
    days = move_off_weekend(raw_days, weekend_rule, holidays)
    if terms.kind == "installment":
        if terms.total is None:
            raise InputError("Installments need the total to split.")
        total = _minor(terms.total, currency, "total")
        if total <= 0:
            raise InputError(f"The total to split must be more than zero, not {terms.total}.")
        amounts = _equal_shares(total, count, rounding, terms.remainder)
        label = terms.description or "Installment"
        texts = [f"{label} {i} of {count}" for i in range(1, count + 1)]
    else:  # retainer
        if terms.amount is None:
            raise InputError("A retainer needs each period's amount.")
        each = _minor(terms.amount, currency, "amount")
        if each <= 0:
            raise InputError(f"A retainer's amount must be more than zero, not {terms.amount}.")
        amounts = [each] * count
        label = terms.description or "Retainer"
        texts = ([f"{label} {i} of {count}" for i in range(1, count + 1)] if terms.dates else
                 [f"{label} for {_period_name(d, terms.frequency)}" for d in raw_days])
    items = [Item(terms.kind, text, amount, due_on=day)
             for text, amount, day in zip(texts, amounts, days, strict=True)]
    return [_taxed(i, _rate(tax_percent, i.due_on), rounding) for i in items]


def _milestones(terms: Terms, currency: str, rounding: Rounding) -> list[Item]:
    if not terms.milestones:
        raise InputError("A milestone schedule needs its milestones.")
    fee = None if terms.total is None else _minor(terms.total, currency, "fee")
    amounts: list[int] = []
    percents: list[tuple[int, Decimal]] = []  # (position, percent)
    for i, m in enumerate(terms.milestones, start=1):
        what = f"milestone {i} ({m.trigger})"
        if not (m.trigger or "").strip():
            raise InputError(f"Milestone {i} needs its trigger, e.g. 'on signing'.")
        if (m.percent is None) == (m.amount is None):
            raise InputError(f"{what}: give a percentage of the fee or an amount (one of them).")
        if m.percent is not None:
            if fee is None:
                raise InputError(f"{what}: a percentage needs the fee it is a share of.")
            p = _percent(m.percent, what)
            percents.append((i - 1, p))
            amounts.append(money.percent_of(fee, p, rounding))
        else:
            amounts.append(_minor(m.amount, currency, what))
            if amounts[-1] <= 0:
                raise InputError(f"{what}: the amount must be more than zero.")
    if percents:  # the last (or first) of the shares takes what rounding left over
        share = sum(p for _, p in percents)
        if share > 100:
            raise InputError(f"The milestones' percentages add up to {share}%, more than the "
                             "whole fee.")
        target = money.percent_of(fee, share, rounding)
        positions = [pos for pos, _ in percents]
        fixed = _with_remainder([amounts[pos] for pos in positions], target, terms.remainder)
        for pos, value in zip(positions, fixed, strict=True):
            amounts[pos] = value
    items = []
    for m, amount in zip(terms.milestones, amounts, strict=True):
        text = m.description or (f"{money.D(m.percent).normalize():f}% of the fixed fee, "
                                 f"{m.trigger}" if m.percent is not None
                                 else f"Milestone: {m.trigger}")
        items.append(Item("milestone", text, amount, trigger=m.trigger.strip()))
    return items


def _rate(tax_percent, on: date) -> Decimal:
    value = tax_percent(on) if callable(tax_percent) else tax_percent
    return money.D(value)


def _taxed(item: Item, percent: Decimal, rounding: Rounding) -> Item:
    return Item(item.kind, item.description, item.amount_minor, item.due_on, item.trigger,
                percent, money.percent_of(item.amount_minor, percent, rounding))


# =================================================================================== checks
def check_adds_up(planned_minor: int, fee_minor: int, currency: str, *,
                  invoiced_minor: int = 0, matter: str = "the matter") -> None:
    """Refuse a fixed-fee schedule whose items (``invoiced`` and ``planned``) do not add up to
    the fee, naming both figures."""
    total = planned_minor + invoiced_minor
    if total == fee_minor:
        return
    def shown(minor: int, cur: str) -> str:
        return f"{money.from_minor(minor, cur):,}"

    gap = fee_minor - total
    already = (f" ({shown(invoiced_minor, currency)} already invoiced and "
               f"{shown(planned_minor, currency)} planned)" if invoiced_minor else "")
    raise InputError(
        f"The schedule of {matter} adds up to {shown(total, currency)} {currency}{already}, but "
        f"its fixed fee is {shown(fee_minor, currency)} {currency}: "
        f"{shown(abs(gap), currency)} {'short' if gap > 0 else 'over'}.")
