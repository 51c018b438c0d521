"""BAI2 (cash management balance reporting) files, through the ``bai2`` library.

The library (ministryofjustice/bai2) parses records into headers, accounts, transactions and
trailers and knows every BAI type code (credit or debit, and what it means). Two things it
does not do are done here, before and after it:

* **Records as written.** Banks put several records on one physical line (``…2/   02,…``),
  continue a 16 record's text on a line without ``88,``, write ``88:`` for ``88,`` and split
  an 03 record's summaries across 88 continuations at any field. Each record is first cut out
  with its line number; an 03 record's continuations are joined field by field (a
  continuation starts a new field, and the comma some banks write before the final ``/`` is
  not a field), then the library gets one clean line per record.
* **Control totals, with the line that is wrong.** Every trailer is checked: 49 (the
  account's 03 and 16 amounts, and its records), 98 (its accounts' totals, count and records)
  and 99 (the groups'). A blank control total (``49,,2/``, seen in real files) counts as 0,
  as the library reads it.

A 16 record becomes one transaction: its type code says credit or debit; the return and
reversal codes (``RETURNS``) are reported as such and never posted. The 16 record's text and
its 88 continuations are the remittance; BAI2 has no payer field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bai2.constants import FundsType, RecordCode, TypeCodeTransaction
from bai2.exceptions import NotSupportedYetException, ParsingException
from bai2.helpers import IteratorHelper
from bai2.parsers import Bai2FileParser

from billxl.bankfiles.model import Line, problem, refuse, show

NAMES = {"01": "01 file header", "02": "02 group header", "03": "03 account identifier",
         "16": "16 transaction detail", "49": "49 account trailer", "88": "88 continuation",
         "98": "98 group trailer", "99": "99 file trailer"}

#: Type codes of returned, rejected or reversed items: reported, never posted as receipts.
RETURNS = {
    # credits: money back from a payment that failed or was undone
    "123": "return", "252": "reversal", "254": "reversal", "255": "return", "257": "return",
    "258": "reversal", "261": "return", "266": "return", "268": "return", "395": "reversal",
    # debits: a deposit or receipt that came back
    "423": "return", "552": "reversal", "554": "reversal", "555": "return", "557": "return",
    "558": "reversal", "561": "return", "566": "return", "568": "return", "694": "reversal",
    "695": "reversal",
}

_RECORD = re.compile(r"(\d\d)[,:]")
_SEVERAL = re.compile(r"(?<=/)\s+(?=\d\d,)")  # a record that ends with '/' and another after


@dataclass
class _Record:
    code: str
    line: int
    rows: list[str] = field(default_factory=list)  # each row's text after "NN,"
    counted: int = 1  # physical records (a text line without '88,' is not one)

    @property
    def name(self) -> str:
        return NAMES[self.code]


def read(text: str, file: str) -> tuple[list[Line], int, list[str], list[str]]:
    """The transactions of a BAI2 file, its accounts, checks and notes; InputError if bad."""
    records = _records(text, file)
    fed = _Fed(records, file)
    try:
        parsed = Bai2FileParser(IteratorHelper(fed), check_integrity=False).parse()
    except (ParsingException, NotSupportedYetException, ValueError, IndexError,
            StopIteration) as exc:
        raise refuse(file, [_lib_problem(file, fed.current(), exc)], "BAI2") from None
    return _walk(parsed, records, file)


# =================================================================================== records
def _records(text: str, file: str) -> list[_Record]:
    records: list[_Record] = []
    problems = []
    for number, physical in enumerate(text.splitlines(), 1):
        for part in _SEVERAL.split(physical.strip()):
            if not part:
                continue
            match = _RECORD.match(part)
            if match is None:
                if records and records[-1].code in ("16", "88"):
                    records[-1].rows.append(part)  # a 16 record's text, wrapped without '88,'
                    continue
                problems.append(problem(file, number, "record type", part[:20],
                                        "does not start with a BAI2 record type (two digits "
                                        "and a comma, e.g. '16,')"))
                continue
            code = match.group(1)
            if code not in NAMES:
                problems.append(problem(file, number, "record type", code,
                                        f"unsupported record type {code}: a BAI2 file has only "
                                        f"{', '.join(NAMES.values())} records"))
            elif code == "88":
                if not records:
                    problems.append(problem(file, number, "record type", code,
                                            "a continuation (88) with no record before it"))
                else:
                    records[-1].rows.append(part[3:])
                    records[-1].counted += 1
            else:
                records.append(_Record(code, number, [part[3:]]))
        if problems:
            break  # the first unreadable line: what follows it cannot be placed
    if not problems and (not records or records[0].code != "01"):
        problems.append(problem(file, records[0].line if records else 1, "record type",
                                records[0].code if records else None,
                                "a BAI2 file starts with its 01 file header"))
    if problems:
        raise refuse(file, problems, "BAI2")
    return records


class _Fed:
    """The library's input: one line per record (an 03 record's continuations joined first),
    counting what the library has read, so that its complaints can be placed on a line."""

    def __init__(self, records: list[_Record], file: str):
        self.lines: list[str] = []
        self.owner: list[_Record] = []
        for rec in records:
            if rec.code == "03":
                rows = ["03," + _account_fields(rec, file)]
            else:
                first = _detail_fields(rec.rows[0]) if rec.code == "16" else rec.rows[0]
                rows = [f"{rec.code},{first}", *(f"88,{row}" for row in rec.rows[1:])]
            self.lines += rows
            self.owner += [rec] * len(rows)
        self.read = 0
        self.done = False

    def __iter__(self):
        for line in self.lines:
            self.read += 1
            yield line
        self.done = True

    def current(self) -> _Record:
        """The record the library is on: it reads one line past it, except at the end."""
        if self.done or self.read < 2:
            return self.owner[-1] if self.done else self.owner[0]
        return self.owner[self.read - 2]


_AVAILABILITY = {"S": 3, "V": 2}


def _detail_fields(row: str) -> str:
    """A 16 record's first row with blank availability amounts written as 0.

    A funds type S (immediate, one-day, more than one day) or D (distributions) may leave an
    amount blank (the BAI2 default, 0); the library reads only digits there.
    """
    parts = row.split(",")
    if len(parts) < 3:
        return row
    funds = parts[2].strip().upper()
    if funds == "S":
        span = range(3, min(6, len(parts)))
    elif funds == "D" and len(parts) > 3 and parts[3].strip().isdigit():
        span = range(4, min(4 + 2 * int(parts[3]), len(parts)), 2)
        span = [i + 1 for i in span]
    else:
        return row
    for i in span:
        if not parts[i].strip():
            parts[i] = "0"
    return ",".join(parts)


def _account_fields(rec: _Record, file: str) -> str:
    """An 03 record's fields as one text, its summaries whole across continuation rows."""
    flat: list[tuple[str, bool]] = []
    for row in rec.rows:
        body = row.rstrip()
        body = body[:-1] if body.endswith("/") else body
        parts = body.split(",")
        flat += [(value.strip(), i == len(parts) - 1) for i, value in enumerate(parts)]
    fields = [v for v, _ in flat[:2]]
    pos = 2
    while pos < len(flat):
        value, last_in_row = flat[pos]
        if value == "" and last_in_row:  # the comma some banks write before '/'
            pos += 1
            continue
        summary = [v for v, _ in flat[pos:pos + 4]]
        if len(summary) < 4:
            raise refuse(file, [problem(file, rec.line, rec.name, ",".join(summary),
                                        "the record ends in the middle of a balance or summary "
                                        "(a type code, an amount, an item count and a funds "
                                        "type are needed)")], "BAI2")
        funds = summary[3].upper()
        extra = _AVAILABILITY.get(funds, 0)
        if funds == "D":
            count = flat[pos + 4][0] if pos + 4 < len(flat) else ""
            extra = 1 + 2 * int(count) if count.isdigit() else 1
        fields += summary + [v for v, _ in flat[pos + 4:pos + 4 + extra]]
        pos += 4 + extra
    return ",".join(fields)


def _lib_problem(file: str, rec: _Record, exc: Exception):
    """The library's complaint in words, named by the record it was reading."""
    message = str(exc)
    if isinstance(exc, ParsingException) and message.startswith("Expected"):
        wanted = re.findall(r"RecordCode\.(\w+)|(\d\d)", message)
        codes = [b or {m.name: m.value for m in RecordCode}.get(a, a) for a, b in wanted]
        expected = NAMES.get(codes[0], codes[0]) if codes else "another record"
        return problem(file, rec.line, rec.name, rec.code,
                       f"a {rec.name} record cannot come here: the file needs a {expected} "
                       "record at this point")
    if isinstance(exc, NotSupportedYetException) and "Type code" in message:
        code = re.search(r"'([^']*)'", message)
        shown = code.group(1) if code else None
        return problem(file, rec.line, rec.name, shown,
                       f"type code {shown} is not a BAI2 type code billxl knows (a bank's own "
                       "code needs the bank's definition)")
    if isinstance(exc, NotSupportedYetException):
        return problem(file, rec.line, rec.name, None, f"only BAI version 2 files can be read "
                                                         f"({message})")
    if "does not match format '%y%m%d'" in message:
        value = re.search(r"time data '([^']*)'", message)
        return problem(file, rec.line, rec.name, value.group(1) if value else None,
                       "is not a date (BAI2 dates are YYMMDD)")
    if "does not match format" in message:
        value = re.search(r"time data '([^']*)'", message)
        return problem(file, rec.line, rec.name, value.group(1) if value else None,
                       "is not a time (BAI2 times are HHMM)")
    if "is not a valid FundsType" in message:
        value = re.search(r"'([^']*)'", message)
        return problem(file, rec.line, rec.name, value.group(1) if value else None,
                       "is not a funds type (0, 1, 2, S, V, D or Z)")
    if "invalid literal for int()" in message:
        value = re.search(r": '([^']*)'", message)
        return problem(file, rec.line, rec.name, value.group(1) if value else None,
                       "is not a whole number (BAI2 amounts are written in cents, without a "
                       "decimal point)")
    return problem(file, rec.line, rec.name, None,
                   f"cannot be read as BAI2 ({type(exc).__name__}: {message or 'incomplete'})")


# =================================================================================== the file
def _walk(parsed, records: list[_Record], file: str):
    """Every 16 record as a transaction, every trailer checked; the records in file order."""
    order = iter(records)
    problems = []
    lines: list[Line] = []
    checked: list[str] = []

    def take(code: str) -> _Record:
        rec = next(order)
        assert rec.code == code, (rec.code, code)  # the library read the records in order
        return rec

    file_header = take("01")
    file_records = file_header.counted
    group_totals = 0
    accounts_seen = 0
    for group in parsed.children:
        group_header = take("02")
        group_records = group_header.counted
        account_totals = 0
        as_of = group.header.as_of_date
        group_currency = group.header.currency or "USD"
        for account in group.children:
            accounts_seen += 1
            head = take("03")
            number = (account.header.customer_account_number or "").strip()
            currency = (account.header.currency or group_currency).upper()
            account_records = head.counted
            total = sum(s.amount or 0 for s in account.header.summary_items)
            for detail in account.children:
                rec = take("16")
                account_records += rec.counted
                amount = detail.amount or 0
                total += amount
                lines.append(_transaction(detail, rec, number, currency, as_of,
                                          f"{number} ({as_of})"))
            trailer = take("49")
            account_records += trailer.counted
            stated = trailer_total(account.trailer.account_control_total)
            _check(problems, file, trailer, "account control total", stated, total,
                   f"the account's 03 and 16 amounts add up to {total:,}", currency)
            _check(problems, file, trailer, "number of records", account.trailer.number_of_records,
                   account_records, f"account {number} has {account_records} records (03 to 49)")
            account_totals += stated
            group_records += account_records
        trailer = take("98")
        group_records += trailer.counted
        group_totals += _close(problems, file, trailer, "group", "account", account_totals,
                               len(group.children), group_records, "02 to 98",
                               group.trailer.group_control_total,
                               group.trailer.number_of_accounts, group.trailer.number_of_records)
        file_records += group_records
    trailer = take("99")
    file_records += trailer.counted
    _close(problems, file, trailer, "file", "group", group_totals, len(parsed.children),
           file_records, "01 to 99", parsed.trailer.file_control_total,
           parsed.trailer.number_of_groups, parsed.trailer.number_of_records)
    if problems:
        raise refuse(file, problems, "BAI2")
    checked.append(f"the control totals and record counts of {accounts_seen} account(s), "
                   f"{len(parsed.children)} group(s) and the file trailer")
    return lines, accounts_seen, checked, []


def _close(problems: list, file: str, rec: _Record, level: str, child: str, totals: int,
           children: int, records: int, span: str, stated_total, stated_children,
           stated_records) -> int:
    """A 98 or 99 trailer against what it closes: its children's control totals, their
    number and the records; returns its own control total."""
    stated = trailer_total(stated_total)
    _check(problems, file, rec, f"{level} control total", stated, totals,
           f"its {child}s' control totals add up to {totals:,}")
    _check(problems, file, rec, f"number of {child}s", stated_children, children,
           f"the {level} has {children} {child}(s)")
    _check(problems, file, rec, "number of records", stated_records, records,
           f"the {level} has {records} records ({span})")
    return stated


def trailer_total(value: int | None) -> int:
    """A trailer's control total; a blank one (real files write ``49,,2/``) counts as 0."""
    return int(value or 0)


def _check(problems: list, file: str, rec: _Record, what: str, stated, found: int,
           because: str, currency: str | None = None) -> None:
    if stated is None or int(stated) != found:
        shown = "blank" if stated is None else f"{int(stated):,}"
        problems.append(problem(file, rec.line, rec.name, stated,
                                f"the {what} is {shown}, but {because}"
                                + (f" ({show(found, currency)})" if currency else "")))


def _method(description: str) -> str:
    text = description.lower()
    for word, method in (("ach", "ach"), ("check", "check"), ("cheque", "check"),
                         ("lockbox", "lockbox"), ("money transfer", "wire"), ("wire", "wire"),
                         ("card", "card")):
        if word in text:
            return method
    return "transfer"


def _transaction(detail, rec: _Record, account: str, currency: str, as_of: date | None,
                 statement: str) -> Line:
    code = detail.type_code
    direction = {TypeCodeTransaction.credit: "credit",
                 TypeCodeTransaction.debit: "debit"}.get(code.transaction, "other")
    amount = int(detail.amount or 0)
    kind = RETURNS.get(code.code, direction) if direction != "other" else "other"
    if amount == 0 and kind != "other":
        kind = "zero"
    value_on = None
    if detail.funds_type == FundsType.value_dated and detail.availability:
        value_on = detail.availability.get("date")
    # a text row closed with '/' and continued on an 88 row reads "text, more": one text
    text = re.sub(r"\s+,\s+", " ", (detail.text or "").strip().rstrip(",/").strip())
    customer = (detail.customer_reference or "").strip()
    return Line(line=rec.line, where=rec.name, statement=statement, account=account,
                currency=currency, amount_minor=amount, kind=kind, booked_on=as_of,
                value_on=value_on, reference=(detail.bank_reference or "").strip() or customer,
                party="", remittance=" ".join(filter(None, [customer, " ".join(text.split())])),
                code=code.code, description=code.description, method=_method(code.description))
