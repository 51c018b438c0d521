"""OFX bank and credit-card statements (OFX 1.x SGML and 2.x XML), through ``ofxparse``.

``ofxparse`` reads the files banks really write: SGML without closing tags, private tags
(``<INTU.BID>``), a missing OFX header, fields longer than the specification allows (a
10-digit BANKID). It is run with ``fail_fast=False``, so every transaction it cannot read is
kept with its element, and the file is refused listing each of them on its line (a
transaction amount written ``$120``, a date that is no date).

A transaction with a positive TRNAMT is a credit, a negative one a debit. OFX carries no
opening balance, so the ledger balance cannot be checked against the transactions; what is
checked is that each FITID (the bank's id of a transaction, the natural key) appears once per
account, and that amounts fit the statement's currency. NAME is the payer, MEMO the
remittance. Dates are as ``ofxparse`` gives them (converted to UTC when the file states a
time zone).
"""

from __future__ import annotations

import io
import re
import warnings
from decimal import Decimal

import ofxparse

from billxl import money
from billxl.bankfiles.model import Line, one_line, problem, refuse

_OFX_TAG = re.compile(r"(?i)<OFX>")
_FITID = re.compile(r"(?i)<FITID>\s*([^<\r\n]*)")
#: the element an ofxparse complaint is about
_ELEMENT = (("amount", "trnamt"), ("user date", "dtuser"), ("date", "dtposted"),
            ("fit id", "fitid"), ("type", "trntype"), ("name", "name"), ("check", "checknum"))
_METHODS = {"check": "check", "directdep": "ach", "dep": "deposit", "xfer": "transfer",
            "cash": "cash", "pos": "card", "atm": "cash", "credit": "transfer"}


def read(data: bytes, file: str):
    """(format, (transactions, statements, checks, notes)) of an OFX file; InputError if bad."""
    text = data.decode("latin-1")
    try:
        with warnings.catch_warnings():  # ofxparse calls BeautifulSoup's old findAll names
            warnings.simplefilter("ignore", DeprecationWarning)
            parsed = ofxparse.OfxParser.parse(io.BytesIO(data), fail_fast=False)
    except Exception as exc:  # header, encoding or structure: ofxparse raises many kinds
        raise refuse(file, [problem(file, _line_of(text, exc), "OFX", None,
                                    f"cannot be read as OFX ({one_line(str(exc)) or type(exc).__name__})")],
                     "OFX") from None
    version = (parsed.headers or {}).get("VERSION") or ""
    fitid_lines = _fitid_lines(text)
    lines: list[Line] = []
    problems = []
    accounts = getattr(parsed, "accounts", None) or []
    if not accounts:
        raise refuse(file, [problem(file, _first(text), "OFX", None,
                                    "the file has no bank or credit-card statement")], "OFX")
    for account in accounts:
        statement = account.statement
        for bad in getattr(statement, "discarded_entries", []):
            problems.append(_discarded(file, bad))
        currency = (getattr(statement, "currency", "") or "").upper()
        number = one_line(str(account.account_id or ""))
        seen: dict[str, int] = {}
        for txn in getattr(statement, "transactions", []):
            fitid = one_line(txn.id)
            places = fitid_lines.get(fitid) or [None]
            ln = places.pop(0) if len(places) > 1 else places[0]
            if fitid in seen:
                problems.append(problem(file, ln, "FITID", fitid,
                                        f"this transaction id is also on line {seen[fitid]} of "
                                        f"account {number}: each transaction needs its own"))
                continue
            seen[fitid] = ln
            minor = _minor(txn.amount, currency)
            if minor is None:
                problems.append(problem(file, ln, "TRNAMT", txn.amount,
                                        f"has more decimals than {currency or 'the currency'} "
                                        "has"))
                continue
            lines.append(_line(txn, ln or 0, number, currency, minor))
    if problems:
        raise refuse(file, problems, "OFX")
    notes = ["OFX has no opening balance: the ledger balance cannot be checked against the "
             "transactions"]
    checked = [f"each transaction id (FITID) appears once in each of {len(accounts)} "
               "account(s)"]
    return f"OFX {version}".strip(), (lines, len(accounts), checked, notes)


def _first(text: str) -> int:
    found = _OFX_TAG.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _line_of(text: str, exc: Exception) -> int | None:
    """The line of a value the complaint quotes, else of the <OFX> element."""
    quoted = re.search(r"'([^']+)'", str(exc))
    if quoted and quoted.group(1) in text:
        return text.count("\n", 0, text.index(quoted.group(1))) + 1
    return _first(text)


def _fitid_lines(text: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for match in _FITID.finditer(text):
        found.setdefault(match.group(1).strip(), []).append(text.count("\n", 0, match.start()) + 1)
    return found


def _discarded(file: str, bad: dict):
    """A transaction ofxparse could not read: its element's line and the reason."""
    reason = one_line(bad.get("error", ""))
    content = bad.get("content")
    element, value = "STMTTRN", None
    for words, tag in _ELEMENT:
        if words in reason.lower():
            element = tag.upper()
            break
    ln = getattr(content, "sourceline", None)
    if content is not None:
        found = content.find(element.lower()) if element != "STMTTRN" else None
        if found is not None:
            ln = getattr(found, "sourceline", ln)
            value = one_line(found.get_text())
    words = {"TRNAMT": "the transaction amount is not a number",
             "DTPOSTED": "the transaction date is not a date (OFX dates are YYYYMMDD...)",
             "DTUSER": "the user date is not a date (OFX dates are YYYYMMDD...)",
             "FITID": "the transaction has no id (FITID)"}.get(element)
    return problem(file, ln, element, value,
                   f"{words} ({reason})" if words else reason or "cannot be read")


def _minor(amount, currency: str) -> int | None:
    value = Decimal(amount)
    scaled = value.scaleb(money.minor_digits(currency or "USD"))
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _line(txn, ln: int, account: str, currency: str, minor: int) -> Line:
    kind = "credit" if minor > 0 else "debit" if minor < 0 else "zero"
    trntype = (txn.type or "").lower()
    day = txn.date.date() if txn.date is not None else None
    return Line(line=ln, where="STMTTRN", statement=account, account=account,
                currency=currency, amount_minor=abs(minor), kind=kind, booked_on=day,
                value_on=day, reference=one_line(txn.id), party=one_line(txn.payee),
                remittance=" ".join(filter(None, [one_line(txn.memo), one_line(txn.checknum)])),
                code=trntype.upper(), description=trntype,
                method=_METHODS.get(trntype, "transfer"))

