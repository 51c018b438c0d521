"""ISO 20022 camt.052 / camt.053 / camt.054 bank-to-customer messages, read with ``lxml``.

The message type and version come from the document's namespace
(``urn:iso:std:iso:20022:tech:xsd:camt.053.001.08``); every element is looked up in that
namespace, and the few places where versions differ are read both ways (a party's name is
``Dbtr/Nm`` up to version 6 and ``Dbtr/Pty/Nm`` after; an entry's status is ``Sts`` or
``Sts/Cd``; a date is ``Dt`` or ``DtTm``). The XML parser resolves no entities and reaches no
network. Problems name the element by its path (``BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt``) and
the line it is on.

What becomes what:

* Each booked entry (``Ntry``, status BOOK) is a transaction. A credit (``CdtDbtInd`` CRDT)
  is a receipt; when the entry carries several transactions (``NtryDtls/TxDtls``), each with
  its own amount in the entry's currency (a lockbox or batch credit), each is a receipt of
  its own, and their amounts must add up to the entry's.
* ``RvslInd`` true is a reversal; a bank transaction code of a return or reversal
  (``RETURN_CODES``) or return information (``RtrInf``) is a return; entries not booked
  (PDNG, INFO) are pending. None of them is posted.
* The payer is ``RltdPties/Dbtr`` (or ``UltmtDbtr``; of a debit, the creditor); the remittance is every ``RmtInf``
  text (``Ustrd``, creditor references, referred document numbers, additional
  information); the bank's reference is ``AcctSvcrRef`` (the entry's or the transaction's),
  else ``NtryRef``, else the payer's ``EndToEndId``.

Checked: ``TxsSummry`` (number and sum of entries, of credits and of debits, the net
amount) against the entries, and the opening balance (OPBD or PRCD) plus booked credits less
booked debits against the closing balance (CLBD), for balances in the account's currency (a
balance in another currency is noted, not compared).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from billxl.bankfiles.model import NO_REFERENCE, Line, minor_units, one_line, problem, refuse, show

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(?P<type>[a-z]{4}\.\d{3})\.\d{3}\.(?P<v>\d{2})$")
#: message type -> (its root element, the statement element in it, what a statement is called)
MESSAGES = {"camt.053": ("BkToCstmrStmt", "Stmt", "statement"),
            "camt.052": ("BkToCstmrAcctRpt", "Rpt", "account report"),
            "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "notification")}
#: bank transaction sub-family codes of returns and reversals (ISO external code list)
RETURN_CODES = {"RRTN": "return", "UPDD": "return", "UPCQ": "return", "ARET": "return",
                "RPCR": "reversal", "PRDD": "reversal", "CQRV": "reversal", "RCOV": "reversal"}
_METHODS = {"RCDT": "transfer", "ICDT": "transfer", "RDDT": "direct debit",
            "IDDT": "direct debit", "RCHQ": "check", "ICHQ": "check", "LBOX": "lockbox",
            "CCRD": "card", "DCRD": "card", "CASH": "cash"}


@dataclass
class _Doc:
    """Lookups by paths of local names in the document's namespace (``Ntry/Amt``).

    An entry or a transaction in it (asked a dozen questions each) is indexed once: each of
    its descendants under its path, in document order, in one pass over its subtree, which
    costs less than two ``find`` calls. Other elements are asked with ``find``.
    """

    file: str
    ns: str
    paths: dict[str, str] = field(default_factory=dict)
    indexes: dict = field(default_factory=dict)

    def q(self, path: str) -> str:
        """``Ntry/Amt`` -> ``{ns}Ntry/{ns}Amt``."""
        found = self.paths.get(path)
        if found is None:
            found = self.paths[path] = "/".join(f"{{{self.ns}}}{p}" for p in path.split("/"))
        return found

    def _index(self, el) -> dict[str, list] | None:
        found = self.indexes.get(el)
        if found is None and el.tag[len(self.ns) + 2:] in _INDEXED:
            cut = len(self.ns) + 2  # "{ns}"
            found = self.indexes[el] = {}
            prefix = {el: ""}
            for node in el.iterdescendants():
                if isinstance(node.tag, str):
                    path = prefix[node.getparent()] + node.tag[cut:]
                    found.setdefault(path, []).append(node)
                    prefix[node] = path + "/"
        return found

    def find(self, el, *paths: str):
        index = self._index(el)
        for path in paths:
            if index is None:
                found = el.find(self.q(path))
                if found is not None:
                    return found
            elif path in index:
                return index[path][0]
        return None

    def text(self, el, *paths: str) -> str:
        found = self.find(el, *paths)
        return one_line(found.text) if found is not None and found.text else ""

    def all(self, el, path: str) -> list:
        index = self._index(el)
        return el.findall(self.q(path)) if index is None else index.get(path, [])


_INDEXED = {"Ntry", "TxDtls"}


def read(data: bytes, file: str):
    """(format, (transactions, statements, checks, notes)) of a camt file; InputError if bad."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise refuse(file, [problem(file, exc.lineno, None, None,
                                    f"the XML is not well formed ({exc.msg})")], "camt") from None
    ns = etree.QName(root).namespace or ""
    match = _NAMESPACE.match(ns)
    if match is None or match.group("type") not in MESSAGES:
        shown = match.group("type") if match else (ns or "no namespace")
        raise refuse(file, [problem(file, root.sourceline, etree.QName(root).localname, shown,
                                    "this is not an ISO 20022 bank-to-customer statement, report "
                                    "or notification (camt.052, camt.053 or camt.054)")], "camt")
    message = match.group("type")
    fmt = f"{message}.001.{match.group('v')}"
    doc = _Doc(file, ns)
    container_name, statement_name, called = MESSAGES[message]
    container = doc.find(root, container_name)
    if container is None:
        raise refuse(file, [problem(file, root.sourceline, "Document", None,
                                    f"a {message} message needs a {container_name} element")],
                     "camt")
    statements = doc.all(container, statement_name)
    if not statements:
        raise refuse(file, [problem(file, container.sourceline, container_name, None,
                                    f"the message has no {called} ({statement_name}): there is "
                                    "nothing to read")], "camt")
    lines: list[Line] = []
    problems = []
    checked, notes = [], []
    for s, stmt in enumerate(statements, 1):
        where = f"{container_name}/{statement_name}[{s}]"
        found, bad, ok, note = _statement(doc, stmt, where)
        lines += found
        problems += bad
        checked += ok
        notes += note
    if problems:
        raise refuse(file, problems, "camt")
    return fmt, (lines, len(statements), checked, notes)


# =================================================================================== statement
def _account(doc: _Doc, stmt) -> tuple[str, str]:
    number = doc.text(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    return number.replace(" ", ""), doc.text(stmt, "Acct/Ccy").upper()


def _amount(doc: _Doc, el, path: str, where: str, problems: list) -> tuple[int, str] | None:
    """(minor units, currency) of an ``Amt``-like element; a problem when it is not one."""
    found = doc.find(el, path)
    if found is None:
        problems.append(problem(doc.file, el.sourceline, f"{where}/{path}", None,
                                "the amount is missing"))
        return None
    currency = (found.get("Ccy") or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        problems.append(problem(doc.file, found.sourceline, f"{where}/{path}", currency or None,
                                "the amount has no currency (Ccy)"))
        return None
    text = (found.text or "").strip()
    minor = minor_units(text, currency) if re.fullmatch(r"\d+(\.\d+)?", text) else None
    if minor is None:
        problems.append(problem(doc.file, found.sourceline, f"{where}/{path}", text,
                                f"is not an amount in {currency} (digits, a point and at most "
                                "the currency's decimals)"))
        return None
    return minor, currency


def _direction(doc: _Doc, el, where: str, problems: list) -> int | None:
    mark = doc.text(el, "CdtDbtInd")
    if mark not in ("CRDT", "DBIT"):
        problems.append(problem(doc.file, el.sourceline, f"{where}/CdtDbtInd", mark or None,
                                "must be CRDT (credit) or DBIT (debit)"))
        return None
    return 1 if mark == "CRDT" else -1


def _day(doc: _Doc, el, path: str, where: str, problems: list) -> date | None:
    found = doc.find(el, f"{path}/Dt", f"{path}/DtTm")
    if found is None:
        return None
    text = (found.text or "").strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(problem(doc.file, found.sourceline,
                                f"{where}/{path}/{etree.QName(found).localname}", text,
                                "is not a date (YYYY-MM-DD)"))
        return None


def _statement(doc: _Doc, stmt, where: str):
    problems: list = []
    account, account_currency = _account(doc, stmt)
    label = doc.text(stmt, "Id") or where
    lines: list[Line] = []
    booked_net: dict[str, int] = {}
    counted = {"all": [0, 0], "CRDT": [0, 0], "DBIT": [0, 0], "net": 0}
    entries = doc.all(stmt, "Ntry")
    for n, entry in enumerate(entries, 1):
        here = f"{where}/Ntry[{n}]"
        amount = _amount(doc, entry, "Amt", here, problems)
        sign = _direction(doc, entry, here, problems)
        if amount is None or sign is None:
            continue
        minor, currency = amount
        counted["all"][0] += 1
        counted["all"][1] += minor
        counted["CRDT" if sign > 0 else "DBIT"][0] += 1
        counted["CRDT" if sign > 0 else "DBIT"][1] += minor
        counted["net"] += sign * minor
        status = doc.text(entry, "Sts/Cd", "Sts") or "BOOK"
        if status == "BOOK":
            booked_net[currency] = booked_net.get(currency, 0) + sign * minor
        lines += _entry_lines(doc, entry, here, label, account or label, minor,
                              currency, sign, status, problems)
        doc.indexes.clear()  # an entry's index is done with: keep few objects alive
    checked, notes = [], []
    if not problems:
        problems += _summary(doc, stmt, where, counted, account_currency, checked)
        problems += _balances(doc, stmt, where, booked_net, account_currency, checked, notes,
                              label)
    return lines, problems, checked, notes


def _summary(doc: _Doc, stmt, where: str, counted: dict, currency: str,
             checked: list) -> list:
    """TxsSummry (when the bank writes it) against the entries."""
    summary = doc.find(stmt, "TxsSummry")
    if summary is None:
        return []
    problems = []
    for path, key, called in (("TtlNtries", "all", "entries"),
                              ("TtlCdtNtries", "CRDT", "credit entries"),
                              ("TtlDbtNtries", "DBIT", "debit entries")):
        part = doc.find(summary, path)
        if part is None:
            continue
        count, total = counted[key]
        stated_count = doc.text(part, "NbOfNtries")
        if stated_count and stated_count != str(count):
            problems.append(problem(doc.file, part.sourceline,
                                    f"{where}/TxsSummry/{path}/NbOfNtries", stated_count,
                                    f"says {stated_count} {called}, but the statement has {count}"))
        stated_sum = doc.text(part, "Sum")
        use = currency or "EUR"
        if stated_sum and minor_units(stated_sum, use) != total:
            problems.append(problem(doc.file, part.sourceline, f"{where}/TxsSummry/{path}/Sum",
                                    stated_sum, f"says {called} of {stated_sum}, but the "
                                                f"statement's add up to {show(total, use)}"))
    net = doc.find(summary, "TtlNtries/TtlNetNtry")
    if net is not None:
        stated = minor_units(doc.text(net, "Amt"), currency or "EUR")
        sign = -1 if doc.text(net, "CdtDbtInd") == "DBIT" else 1
        if stated is not None and sign * stated != counted["net"]:
            problems.append(problem(doc.file, net.sourceline,
                                    f"{where}/TxsSummry/TtlNtries/TtlNetNtry",
                                    doc.text(net, "Amt"),
                                    f"says a net of {'-' if sign < 0 else ''}{doc.text(net, 'Amt')}"
                                    f", but the entries net to {show(counted['net'], currency or 'EUR')}"))
    if not problems:
        checked.append(f"{where}: the transaction summary (TxsSummry)")
    return problems


def _balances(doc: _Doc, stmt, where: str, booked_net: dict, account_currency: str,
              checked: list, notes: list, label: str) -> list:
    """Opening (OPBD/PRCD) plus the booked entries against the closing balance (CLBD)."""
    found: dict[str, tuple] = {}
    for b, bal in enumerate(doc.all(stmt, "Bal"), 1):
        code = doc.text(bal, "Tp/CdOrPrtry/Cd")
        problems: list = []
        amount = _amount(doc, bal, "Amt", f"{where}/Bal[{b}]", problems)
        sign = _direction(doc, bal, f"{where}/Bal[{b}]", problems)
        if problems:
            return problems
        if code in ("OPBD", "PRCD", "CLBD") and code not in found:
            found[code] = (sign * amount[0], amount[1], doc.find(bal, "Amt"), b)
    opening = found.get("OPBD") or found.get("PRCD")
    closing = found.get("CLBD")
    if opening is None or closing is None:
        if booked_net:
            notes.append(f"{label}: no opening and closing booked balances (OPBD, CLBD) to "
                         "check the entries against")
        return []
    currency = account_currency or opening[1]
    other = [(name, bal) for name, bal in (("opening", opening), ("closing", closing))
             if bal[1] != currency]
    if other:
        notes.append(f"{label}: the {' and '.join(n for n, _ in other)} balance is in "
                     f"{', '.join(b[1] for _, b in other)}, not the account's {currency}: the "
                     "balances were not compared")
        return []
    moved = booked_net.get(currency, 0)
    if opening[0] + moved != closing[0]:
        amt = closing[2]
        return [problem(doc.file, amt.sourceline, f"{where}/Bal[{closing[3]}]/Amt",
                        one_line(amt.text),
                        f"the closing balance (CLBD) is {show(closing[0], currency)}, but the "
                        f"opening balance ({show(opening[0], currency)}) and the booked entries "
                        f"({show(moved, currency)}) give {show(opening[0] + moved, currency)}")]
    checked.append(f"{where}: opening balance + credits - debits = closing balance")
    return []


# =================================================================================== entries
def _kind(doc: _Doc, el, sign: int, status: str) -> tuple[str, str]:
    """(kind, code) of an entry or a transaction in it."""
    domain = doc.text(el, "BkTxCd/Domn/Cd")
    family = doc.text(el, "BkTxCd/Domn/Fmly/Cd")
    sub = doc.text(el, "BkTxCd/Domn/Fmly/SubFmlyCd")
    code = "/".join(filter(None, [domain, family, sub])) or doc.text(el, "BkTxCd/Prtry/Cd")
    if status != "BOOK":
        return "pending", code
    if doc.text(el, "RvslInd").lower() in ("true", "1"):
        return "reversal", code
    if sub in RETURN_CODES:
        return RETURN_CODES[sub], code
    if doc.find(el, "RtrInf") is not None:
        return "return", code
    return ("credit" if sign > 0 else "debit"), code


def _remittance(doc: _Doc, tx) -> str:
    parts = [doc.text(tx, "AddtlTxInf")]
    for info in doc.all(tx, "RmtInf"):
        parts += [one_line(u.text) for u in doc.all(info, "Ustrd")]
        for strd in doc.all(info, "Strd"):
            parts += [one_line(x.text) for x in doc.all(strd, "RfrdDocInf/Nb")]
            parts += [one_line(x.text) for x in doc.all(strd, "CdtrRefInf/Ref")]
            parts += [one_line(x.text) for x in doc.all(strd, "AddtlRmtInf")]
    return " ".join(p for p in parts if p)


def _party(doc: _Doc, tx, sign: int) -> str:
    """Who paid (a credit: the debtor) or was paid (a debit: the creditor)."""
    who = "Dbtr" if sign > 0 else "Cdtr"
    return doc.text(tx, f"RltdPties/{who}/Nm", f"RltdPties/{who}/Pty/Nm",
                    f"RltdPties/Ultmt{who}/Nm", f"RltdPties/Ultmt{who}/Pty/Nm")


def _reference(doc: _Doc, el, *paths: str) -> str:
    """The first of ``paths`` under ``el`` that holds a reference ('NOTPROVIDED' is none)."""
    for path in paths:
        ref = doc.text(el, path)
        if ref.upper() not in NO_REFERENCE:
            return ref
    return ""


def _tx_amount(doc: _Doc, tx, where: str) -> tuple[int, str] | None:
    path = next((p for p in ("Amt", "AmtDtls/TxAmt/Amt") if doc.find(tx, p) is not None), None)
    return _amount(doc, tx, path, where, []) if path else None


def _entry_lines(doc: _Doc, entry, here: str, label: str, account: str, minor: int,
                 currency: str, sign: int, status: str, problems: list) -> list[Line]:
    """An entry as transactions: one, or one per TxDtls of a credit that splits into them."""
    kind, code = _kind(doc, entry, sign, status)
    booked = _day(doc, entry, "BookgDt", here, problems)
    valued = _day(doc, entry, "ValDt", here, problems)
    details = doc.all(entry, "NtryDtls/TxDtls")
    amounts = [_tx_amount(doc, tx, f"{here}/NtryDtls/TxDtls[{t}]")
               for t, tx in enumerate(details, 1)]
    split = (kind == "credit" and len(details) > 1
             and all(a is not None and a[1] == currency for a in amounts))
    if split and sum(a[0] for a in amounts) != minor:
        problems.append(problem(doc.file, entry.sourceline, f"{here}/Amt", show(minor, currency),
                                f"the entry's {len(details)} transactions (TxDtls) add up to "
                                f"{show(sum(a[0] for a in amounts), currency)}, not to the "
                                "entry's amount"))
        return []
    entry_ref = _reference(doc, entry, "AcctSvcrRef", "NtryRef")
    family = doc.text(entry, "BkTxCd/Domn/Fmly/Cd")
    proprietary = doc.text(entry, "BkTxCd/Prtry/Cd")
    description = proprietary if proprietary != code else ""  # the bank's own code, if both

    def line(el, where: str, amount: int, tx_kind: str, tx_code: str, txs: list,
             reference: str) -> Line:
        return Line(
            line=el.sourceline or 0, where=where, statement=label, account=account,
            currency=currency, amount_minor=amount, kind="zero" if amount == 0 else tx_kind,
            booked_on=booked or valued, value_on=valued, reference=reference,
            party=next((p for p in (_party(doc, tx, sign) for tx in txs) if p), ""),
            remittance=" ".join(filter(None, [*(_remittance(doc, tx) for tx in txs),
                                              doc.text(entry, "AddtlNtryInf")])),
            code=tx_code, description=description,
            method=_METHODS.get(family, "transfer"))

    if not split:
        if kind in ("credit", "debit"):  # a transaction in it may say it is a return
            kind, code = next(((k, c) for k, c in (_kind(doc, tx, sign, status)
                                                   for tx in details)
                               if k in ("return", "reversal")), (kind, code))
        first = details[0] if details else entry
        reference = entry_ref or _reference(doc, first, "Refs/AcctSvcrRef", "Refs/TxId",
                                            "Refs/EndToEndId")
        return [line(entry, here, minor, kind, code, details, reference)]
    out = []
    for t, (tx, amount) in enumerate(zip(details, amounts, strict=True), 1):
        tx_kind, tx_code = (_kind(doc, tx, sign, status) if doc.find(tx, "BkTxCd") is not None
                            else (kind, code))
        reference = (_reference(doc, tx, "Refs/AcctSvcrRef", "Refs/TxId")
                     or (f"{entry_ref}/{t}" if entry_ref else "")
                     or _reference(doc, tx, "Refs/EndToEndId"))
        out.append(line(tx, f"{here}/NtryDtls/TxDtls[{t}]", amount[0], tx_kind, tx_code, [tx],
                        reference))
    return out
