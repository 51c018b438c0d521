"""What every bank-file reader gives back: the file's transactions as one frame, and its checks.

A reader turns a BAI2, camt, MT940 or OFX file into :class:`BankFile`: one row per transaction
(``LINE_COLUMNS``), in file order, each with the line (or XML element) it came from, and the
control totals it checked. Only ``kind == "credit"`` rows become receipts; the others (debits,
returns, reversals, pending or zero-amount entries) are reported and never posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from billxl import intake, money, schema
from billxl.errors import InputError, Problem

#: What a transaction is to billxl. Only credits are posted as receipts.
KINDS = {
    "credit": "money in: posted as a receipt",
    "debit": "money out",
    "return": "a returned or rejected payment",
    "reversal": "a reversal of an earlier entry",
    "pending": "not booked yet (pending or for information)",
    "zero": "an entry of 0 (information only)",
    "other": "neither a credit nor a debit (information only)",
}

#: The columns of a bank file's transaction frame.
LINE_COLUMNS = {
    "line": "int64",  # the line of the file it starts on (for camt, the element's line)
    "where": "string",  # the record, tag or element it is (BAI2 '16', MT940 ':61:', camt path)
    "statement": "string",  # the statement or account section it belongs to
    "account": "string",
    "currency": "string",
    "amount_minor": "int64",  # never negative: the kind says which way the money went
    "kind": "string",  # one of KINDS
    "booked_on": "datetime64[ns]",
    "value_on": "datetime64[ns]",
    "reference": "string",  # the bank's own reference ('' if none)
    "party": "string",  # who paid (a credit) or was paid (a debit)
    "remittance": "string",
    "code": "string",  # the bank's transaction code (BAI2 type code, BkTxCd, :61: type, TRNTYPE)
    "description": "string",  # what the code means, as the format defines it
    "method": "string",  # wire, ach, check, card, transfer ... (a receipt's method)
}

#: The receipt table a bank file becomes (header -> what the column holds); the receipt
#: profile of a bank file maps each receipt field to the column of the same name.
RECEIPT_COLUMNS = ("receipt_id", "date", "payer", "amount", "currency", "method", "reference",
                   "remittance")

#: References that say "no reference"
NO_REFERENCE = {"", "NONREF", "NOTPROVIDED", "NONE", "N/A"}

_KEY_LIMIT = 100  # receipts.source_key


@dataclass
class Line:
    """One transaction as a reader collects it (a row of the frame)."""

    line: int
    where: str
    statement: str
    account: str
    currency: str
    amount_minor: int
    kind: str
    booked_on: date | None
    value_on: date | None = None
    reference: str = ""
    party: str = ""
    remittance: str = ""
    code: str = ""
    description: str = ""
    method: str = ""


@dataclass
class BankFile:
    """A bank file as read: its transactions, and what was checked."""

    file: str  # the path as given (problems name it)
    format: str  # 'BAI2', 'camt.053.001.02', 'MT940', 'OFX 102' ...
    source: str  # the receipts' source in the ledger: bai2, camt, mt940 or ofx
    sha256: str
    statements: int  # statements (camt, MT940, OFX) or accounts (BAI2) in the file
    lines: pd.DataFrame  # LINE_COLUMNS, file order
    checked: list[str] = field(default_factory=list)  # control totals that agreed
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why

    @property
    def credits(self) -> pd.DataFrame:
        return self.lines[self.lines["kind"] == "credit"]

    @property
    def not_posted(self) -> pd.DataFrame:
        """Every transaction that is not a receipt (debits, returns, reversals ...)."""
        return self.lines[self.lines["kind"] != "credit"]

    def counts(self) -> pd.DataFrame:
        """Per kind and currency: how many, and their total (minor units)."""
        frame = self.lines
        if frame.empty:
            return pd.DataFrame({"kind": pd.Series(dtype="string"),
                                 "currency": pd.Series(dtype="string"),
                                 "count": pd.Series(dtype="int64"),
                                 "amount_minor": pd.Series(dtype="int64")})
        return (frame.groupby(["kind", "currency"], as_index=False, sort=False)
                .agg(count=("amount_minor", "size"), amount_minor=("amount_minor", "sum")))

    def count(self, kind: str) -> int:
        return int((self.lines["kind"] == kind).sum())

    def summary_dict(self) -> dict[str, Any]:
        """Counts and totals per kind (amounts as decimal strings), checks and notes."""
        by_kind: dict[str, dict[str, Any]] = {}
        for row in self.counts().itertuples(index=False):
            entry = by_kind.setdefault(str(row.kind), {"count": 0, "amount_by_currency": {}})
            entry["count"] += int(row.count)
            entry["amount_by_currency"][str(row.currency)] = money.format_amount(
                int(row.amount_minor), str(row.currency))
        return {"format": self.format, "statements": self.statements,
                "transactions": len(self.lines), "kinds": by_kind,
                "checked": list(self.checked), "notes": list(self.notes)}

    def summary(self) -> str:
        """A few lines for the terminal: what the file held and what was checked."""
        parts = []
        for kind in KINDS:
            mine = self.counts()
            mine = mine[mine["kind"] == kind]
            if mine.empty:
                continue
            amounts = ", ".join(f"{money.format_amount(int(a), str(c))} {c}"
                                for c, a in zip(mine["currency"], mine["amount_minor"],
                                                strict=True))
            label = {"credit": "credit(s) as receipts", "debit": "debit(s)",
                     "return": "return(s)", "reversal": "reversal(s)",
                     "pending": "pending entr(ies)", "zero": "entr(ies) of 0",
                     "other": "other entr(ies)"}[kind]
            parts.append(f"{int(mine['count'].sum()):,} {label} ({amounts})")
        held = "; ".join(parts) or "no transactions"
        lines = [f"{self.format} file, {self.statements} statement(s)/account(s): {held}."]
        kept = self.not_posted
        if len(kept):
            lines.append(f"  {len(kept):,} transaction(s) that are not receipts were not posted.")
        lines += [f"  Checked: {c}" for c in self.checked]
        lines += [f"  Not checked: {n}" for n in self.notes]
        return "\n".join(lines)

    def not_posted_view(self) -> pd.DataFrame:
        """The transactions not posted, as users read them (amounts as decimal strings)."""
        kept = self.not_posted
        return pd.DataFrame({
            "line": kept["line"].to_numpy(), "kind": kept["kind"].to_numpy(dtype=object),
            "booked_on": kept["booked_on"].dt.date.to_numpy(),
            "account": kept["account"].to_numpy(dtype=object),
            "currency": kept["currency"].to_numpy(dtype=object),
            "amount": [money.format_amount(int(a), str(c)) for a, c in
                       zip(kept["amount_minor"], kept["currency"], strict=True)],
            "code": kept["code"].to_numpy(dtype=object),
            "description": kept["description"].to_numpy(dtype=object),
            "reference": kept["reference"].to_numpy(dtype=object),
            "text": (kept["party"].fillna("") + " " + kept["remittance"].fillna(""))
            .str.strip().str.slice(0, 80).to_numpy(dtype=object)})

    def receipt_table(self) -> intake.RawTable:
        """The credits as a receipt table (``RECEIPT_COLUMNS``), one row per credit.

        A row's number is the line of the file it came from, so a problem found when the
        receipts are checked names that line. Text is read as every table is
        (:func:`billxl.intake.visible_table`): a payer's name or remittance holding characters
        that do not show (a right-to-left override) is kept without them, and said. Each receipt's id is its natural key (see
        :func:`natural_keys`).
        """
        credits = self.credits.reset_index(drop=True)
        keys = natural_keys(credits)
        texts = {
            "receipt_id": keys.to_numpy(dtype=object),
            "date": credits["booked_on"].dt.strftime("%Y-%m-%d").fillna("")
            .to_numpy(dtype=object),
            "payer": credits["party"].fillna("").to_numpy(dtype=object),
            "amount": np.array([str(money.from_minor(int(a), str(c))) for a, c in
                                zip(credits["amount_minor"], credits["currency"], strict=True)],
                               dtype=object),
            "currency": credits["currency"].fillna("").to_numpy(dtype=object),
            "method": credits["method"].fillna("").to_numpy(dtype=object),
            "reference": credits["reference"].fillna("").to_numpy(dtype=object),
            "remittance": credits["remittance"].fillna("").to_numpy(dtype=object),
        }
        return intake.visible_table(intake.RawTable(
            file=self.file, sheet=None, columns=RECEIPT_COLUMNS,
            cells=tuple(texts[c] for c in RECEIPT_COLUMNS),
            rows=credits["line"].to_numpy(dtype=np.int64), header_row=0, sha256=self.sha256,
            from_text=True))


def frame_of(lines: list[Line]) -> pd.DataFrame:
    """The transaction frame (``LINE_COLUMNS``) of the lines a reader collected."""
    if not lines:
        return schema.empty_frame(LINE_COLUMNS)
    frame = pd.DataFrame([vars(x) for x in lines], columns=list(LINE_COLUMNS))
    for name in ("booked_on", "value_on"):
        frame[name] = pd.to_datetime(frame[name])
    return frame.astype(LINE_COLUMNS)


def natural_keys(credits: pd.DataFrame) -> pd.Series:
    """Each credit's natural key: ``account:reference``, the bank's own reference.

    A credit without a reference, or whose reference another credit of the same account in
    the file also carries (``NONREF`` is no reference), is keyed on its content instead:
    ``account:YYYYMMDD-fingerprint-occurrence``, as the table path keys a layout without ids,
    so the same file posted again, or a later file that overlaps it, gives the same keys.
    """
    if credits.empty:
        return pd.Series([], dtype=object)
    account = credits["account"].fillna("").astype(str).str.replace(r"\s+", "", regex=True)
    ref = credits["reference"].fillna("").astype(str).str.strip()
    usable = ~ref.str.upper().isin(NO_REFERENCE)
    repeated = pd.Series(list(zip(account, ref, strict=True))).duplicated(keep=False).to_numpy()
    by_ref = account + ":" + ref
    fingerprint = schema.row_hash(credits.assign(account=account), (
        "account", "booked_on", "amount_minor", "currency", "reference", "party", "remittance"))
    occurrence = fingerprint.groupby(fingerprint).cumcount() + 1
    day = credits["booked_on"].dt.strftime("%Y%m%d").fillna("00000000")
    by_content = (account.str.slice(0, 60) + ":" + day + "-" + fingerprint.str[:12] + "-"
                  + occurrence.astype(str))
    use_ref = usable.to_numpy() & ~repeated & (by_ref.str.len() <= _KEY_LIMIT).to_numpy()
    return pd.Series(np.where(use_ref, by_ref, by_content), index=credits.index, dtype=object)


# =================================================================================== helpers
def problem(file: str, line: int | None, where: str | None, value: Any, reason: str) -> Problem:
    """A problem of a bank file: the line, the record/tag/element, the value, the reason."""
    return Problem(file=file, row=line, column=where,
                   value=None if value is None else str(value), reason=reason)


def refuse(file: str, problems: list[Problem], what: str) -> InputError:
    """The error that refuses a bank file: nothing is posted."""
    return InputError(f"{file}: nothing was posted; this {what} file has {len(problems)} "
                      "problem(s) to fix first (or ask the bank for a new file).", problems)


def minor_units(text: str, currency: str) -> int | None:
    """An amount written as a decimal number (``1234.56``, ``1234,56``) in minor units.

    None when it is not a number or has more decimals than the currency has.
    """
    cleaned = text.strip().replace(",", ".")
    if not re.fullmatch(r"[+-]?\d*(\.\d*)?", cleaned) or not re.search(r"\d", cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    scaled = value.scaleb(money.minor_digits(currency))
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def show(minor: int, currency: str) -> str:
    """Minor units as the file's reader writes the amount: ``1,234.56 EUR``."""
    return f"{money.format_amount(int(minor), currency)} {currency}"


def one_line(text: str | None) -> str:
    """Free text of several lines as one (blanks collapsed)."""
    return " ".join((text or "").split())
