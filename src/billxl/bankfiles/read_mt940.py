"""SWIFT MT940 customer statements, through the ``mt-940`` library (``import mt940``).

The library reads the tags (``:20:``, ``:25:``, ``:60F:``, ``:61:``, ``:86:``, ``:62F:`` …)
and the structured ``:86:`` details banks write (the payer's name, the purpose). Around it:

* **One statement at a time.** A file may hold several statements (each from ``:20:``); each
  is parsed on its own, so each keeps its own balances.
* **Dates are never repaired.** The library's default moves a 30 February to the 29th; here a
  date that does not exist refuses the file, naming the line and the date.
* **Balances checked.** The opening balance (``:60F:``/``:60M:``) plus the statement lines
  must give the closing balance (``:62F:``/``:62M:``), and ``:90D:``/``:90C:`` (number and
  sum of debit and credit lines), when the bank writes them, must agree with the lines.
* **Lines named.** The library reports no positions; every tag it takes is counted through
  its pre- and post-processors, so a tag it refuses is found on its line.

A ``:61:`` line with mark ``C`` is a credit; ``D`` a debit; ``RC``/``RD`` (reversal of a
credit / of a debit) and a transaction type ``…RTI`` (returned item) are reversals and
returns, reported and never posted. The ``:86:`` text is the remittance.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

import mt940
from mt940.models import Transactions

from billxl import money
from billxl.bankfiles.model import NO_REFERENCE, Line, one_line, problem, refuse, show

_TAG = re.compile(r":(?P<tag>[0-9]{2}|NS)(?P<sub>[A-Z])?:")
_BLOCK = re.compile(r"(?m)^(?=:20:)")
_OPTIONS = mt940.Options(reversal_sign=True, merge_keeps_values=True, strip_bom=True)
_METHODS = {"TRF": "transfer", "CHK": "check", "DDT": "direct debit", "BOE": "bill",
            "CMI": "transfer", "MSC": "transfer", "COL": "collection"}


class _Refused(Exception):
    """A tag the library took but billxl refuses (a date that does not exist)."""

    def __init__(self, value: str, reason: str):
        super().__init__(reason)
        self.value, self.reason = value, reason


@dataclass
class _Tally:
    """Which tag of the block the library is on: counted by its pre and post processors."""

    started: int = 0
    finished: int = 0
    statements: int = 0  # :61: lines seen

    def failing(self) -> int:
        """The index of the tag that failed: the one started, else the next one."""
        return self.started - 1 if self.started > self.finished else self.finished


@dataclass
class _Block:
    first_line: int
    text: str
    tags: list[tuple[int, str]] = field(default_factory=list)  # (line, tag as written)


def read(text: str, file: str) -> tuple[list[Line], int, list[str], list[str]]:
    """The transactions of an MT940 file, its statements, checks and notes; InputError if bad."""
    blocks = _blocks(text)
    if not blocks:
        raise refuse(file, [problem(file, 1, ":20:", None, "there is no statement (no :20: "
                                                            "tag) in the file")], "MT940")
    lines: list[Line] = []
    problems = []
    checked = 0
    for block in blocks:
        tally = _Tally()
        try:
            statement = Transactions(processors=_processors(tally), options=_OPTIONS)
            statement.parse(block.text)
        except Exception as exc:  # the library raises bare RuntimeError/ValueError/KeyError
            problems.append(_lib_problem(file, block, tally, exc))
            continue
        found, bad = _statement(statement, block, file)
        lines += found
        problems += bad
        checked += not bad
    if problems:
        raise refuse(file, problems, "MT940")
    return lines, len(blocks), [f"the opening and closing balances of {checked} statement(s) "
                                "against their lines"], []


def _blocks(text: str) -> list[_Block]:
    """The statements of the file (each from ``:20:``), with the line of every tag in them."""
    blocks = []
    line_no = 1
    for chunk in _BLOCK.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        start = line_no
        line_no += chunk.count("\n")
        if not chunk.strip().startswith(":20:"):
            continue  # a header before the first statement (e.g. ABNANL2A / 940)
        block = _Block(start, chunk)
        for offset, physical in enumerate(chunk.split("\n")):
            match = _TAG.match(physical.rstrip())
            if match and _known(match.group("tag")):
                block.tags.append((start + offset, match.group(0)))
        blocks.append(block)
    return blocks


def _known(tag: str) -> bool:
    return Transactions.normalize_tag_id(tag) in Transactions.default_tags()


def _processors(tally: _Tally) -> dict:
    """The library's own processors, the date repair replaced by a check, and the tally."""
    def start(transactions, tag, tag_dict, *args):
        tally.started += 1
        return tag_dict

    def finish(transactions, tag, tag_dict, result, *args):
        tally.finished += 1
        return result

    processors = {}
    for tag in Transactions.default_tags().values():
        pre = [p for p in Transactions.DEFAULT_PROCESSORS.get(f"pre_{tag.slug}", [])
               if p is not mt940.processors.date_fixup_pre_processor]
        post = list(Transactions.DEFAULT_PROCESSORS.get(f"post_{tag.slug}", []))
        if tag.slug == "statement":
            pre.append(_real_dates)
        processors[f"pre_{tag.slug}"] = [start, *pre]
        processors[f"post_{tag.slug}"] = [*post, finish]
    return processors


def _real_dates(transactions, tag, tag_dict, *args):
    """Refuse a :61: value or entry date that does not exist (30 February ...)."""
    year, month, day = (tag_dict.get(k) or "" for k in ("year", "month", "day"))
    written = f"{year}{month}{day}"
    full = 2000 + int(year) if year.isdigit() else None
    if full is None or not _exists(full, month, day):
        raise _Refused(written, f"the value date {written} (YYMMDD) does not exist"
                                + _which(full, month, day))
    entry_month, entry_day = (tag_dict.get(k) or "" for k in ("entry_month", "entry_day"))
    if entry_month.strip() and entry_day.strip() and not any(
            _exists(y, entry_month, entry_day) for y in (full - 1, full, full + 1)):
        raise _Refused(f"{entry_month}{entry_day}",
                       f"the entry date {entry_month}{entry_day} (MMDD) does not exist"
                       + _which(full, entry_month, entry_day))
    return tag_dict


def _exists(year: int, month: str, day: str) -> bool:
    if not (month.isdigit() and day.isdigit()) or not 1 <= int(month) <= 12:
        return False
    return 1 <= int(day) <= calendar.monthrange(year, int(month))[1]


def _which(year: int | None, month: str, day: str) -> str:
    if year and month.isdigit() and day.isdigit() and 1 <= int(month) <= 12:
        return f" ({int(day)} {calendar.month_name[int(month)]} {year})"
    return ""


def _lib_problem(file: str, block: _Block, tally: _Tally, exc: Exception):
    index = tally.failing()
    line, tag = block.tags[index] if index < len(block.tags) else (block.first_line, None)
    if isinstance(exc, _Refused):
        return problem(file, line, tag, exc.value, exc.reason)
    message = str(exc.args[0] if exc.args else exc)
    if isinstance(exc, RuntimeError) and message.startswith("Unable to parse"):
        value = exc.args[2] if len(exc.args) > 2 else None
        return problem(file, line, tag, one_line(str(value))[:60] if value else None,
                       f"the {tag} tag is not written as MT940 defines it")
    return problem(file, line, tag, None, f"cannot be read as MT940 ({message})")


# =================================================================================== statement
def _balance(statement: Transactions, *names: str):
    for name in names:
        found = statement.data.get(name)
        if found is not None:
            return name, found
    return None, None


_TAG_OF = {"final_opening_balance": ":60F:", "intermediate_opening_balance": ":60M:",
           "opening_balance": ":60:", "final_closing_balance": ":62F:",
           "intermediate_closing_balance": ":62M:", "closing_balance": ":62:"}


def _statement(statement: Transactions, block: _Block, file: str):
    """A parsed statement's lines, and the problems its balances show."""
    account = one_line(str(statement.data.get("account_identification") or ""))
    number = one_line(str(statement.data.get("statement_number") or ""))
    currency = (statement.currency or "").upper()
    label = f"{account} statement {number}".strip()
    line_of = [ln for ln, tag in block.tags if tag.startswith(":61:")]
    tag_lines = {tag: ln for ln, tag in reversed(block.tags)}
    problems = []
    if len(line_of) != len(statement.transactions):
        return [], [problem(file, block.first_line, ":61:", None,
                            f"{len(line_of)} statement lines (:61:) are written but "
                            f"{len(statement.transactions)} could be read; every :61: line "
                            "needs its transaction type (e.g. NTRF)")]
    lines = []
    net = 0
    sums = {"C": [0, 0], "D": [0, 0]}
    for ln, transaction in zip(line_of, statement.transactions, strict=True):
        data = transaction.data
        signed = data["amount"].amount
        minor = _minor(signed, currency)
        if minor is None:
            problems.append(problem(file, ln, ":61:", signed, f"has more decimals than "
                                                              f"{currency} has"))
            continue
        net += minor
        mark = (data.get("status") or "").upper()
        sums["D" if mark in ("D", "RC") else "C"][0] += 1
        sums["D" if mark in ("D", "RC") else "C"][1] += abs(minor)
        lines.append(_line(data, ln, label, account, currency, abs(minor), mark))
    problems += _check_balances(statement, file, tag_lines, currency, net, len(lines), label)
    for mark, name, tag in (("D", "sum_debit_entries", ":90D:"),
                            ("C", "sum_credit_entries", ":90C:")):
        stated = statement.data.get(name)
        if stated is None:
            continue
        count, total = int(getattr(stated, "number", 0) or 0), _minor(stated.amount, currency)
        if (count, abs(total or 0)) != tuple(sums[mark]):
            problems.append(problem(
                file, tag_lines.get(tag, block.first_line), tag, stated,
                f"says {count} {'debit' if mark == 'D' else 'credit'} line(s) of "
                f"{show(abs(total or 0), currency)}, but the statement has {sums[mark][0]} of "
                f"{show(sums[mark][1], currency)}"))
    return lines, problems


def _check_balances(statement, file, tag_lines, currency, net, count, label):
    opening_name, opening = _balance(statement, "final_opening_balance",
                                     "intermediate_opening_balance", "opening_balance")
    closing_name, closing = _balance(statement, "final_closing_balance",
                                     "intermediate_closing_balance", "closing_balance")
    missing = [t for n, t in ((opening_name, ":60F:"), (closing_name, ":62F:")) if n is None]
    if missing:
        return [problem(file, None, " ".join(missing), None,
                        f"statement {label} has no {' or '.join(missing)} balance: it cannot be "
                        "checked")]
    start, end = _minor(opening.amount.amount, currency), _minor(closing.amount.amount, currency)
    if start is None or end is None:
        return [problem(file, tag_lines.get(_TAG_OF[closing_name]), _TAG_OF[closing_name], None,
                        f"a balance has more decimals than {currency} has")]
    if start + net != end:
        tag = _TAG_OF[closing_name]
        return [problem(file, tag_lines.get(tag), tag, closing.amount.amount,
                        f"the closing balance is {show(end, currency)}, but the opening balance "
                        f"({_TAG_OF[opening_name]}, line {tag_lines.get(_TAG_OF[opening_name])}) "
                        f"of {show(start, currency)} and the {count} statement line(s) "
                        f"({show(net, currency)}) give {show(start + net, currency)}")]
    return []


def _minor(amount, currency: str) -> int | None:
    scaled = amount.scaleb(money.minor_digits(currency or "EUR"))
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _line(data: dict, ln: int, label: str, account: str, currency: str, minor: int,
          mark: str) -> Line:
    type_code = str(data.get("id") or "").strip().upper()
    if mark in ("RC", "RD"):
        kind = "reversal"
    elif type_code.endswith("RTI"):
        kind = "return"
    else:
        kind = "credit" if mark == "C" else "debit"
    if minor == 0:
        kind = "zero"
    bank_ref = one_line(data.get("bank_reference"))
    customer_ref = one_line(data.get("customer_reference"))
    references = [r for r in (bank_ref, customer_ref) if r.upper() not in NO_REFERENCE]
    remittance = " ".join(filter(None, [
        one_line(data.get("transaction_details")), one_line(data.get("purpose")),
        one_line(data.get("extra_details")), *references[1:]]))
    booked = data.get("entry_date") or data.get("date")
    return Line(line=ln, where=":61:", statement=label, account=account, currency=currency,
                amount_minor=minor, kind=kind, booked_on=_day(booked),
                value_on=_day(data.get("date")), reference=references[0] if references else "",
                party=one_line(data.get("applicant_name")), remittance=remittance,
                code=type_code, description=f"mark {mark}",
                method=_METHODS.get(type_code[1:], "transfer"))


def _day(value) -> date | None:
    return date(value.year, value.month, value.day) if value is not None else None
