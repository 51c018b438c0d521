"""Receipts: read a bank or practice-management file, find what each receipt pays, post it.

Four steps, each usable on its own (the CLI, the Excel ribbon and notebooks call the same ones):

* :func:`read_receipts` reads a CSV or workbook through a receipt mapping profile
  (``profiles/receipts_*.yaml``) and checks every cell against the ledger's clients. A file with
  any bad cell raises :class:`~billxl.errors.InputError` listing every problem.
* :func:`match_receipts` is the pure engine: receipts and invoice balances in, allocations,
  short-payment write-offs and what stays unapplied out. No I/O.
* :func:`post_receipts` does both and writes receipts, allocations and write-offs to the ledger
  in **one transaction** (or, with ``dry_run``, writes nothing and returns the proposal).
* :func:`reverse_receipt`, :func:`apply_receipt`, :func:`write_off` and :func:`refund_credit`
  correct what was posted, each in its own transaction.

How a receipt is matched, in this order (the first that applies decides):

1. **Named**: invoice numbers found in the remittance text or reference (one vectorised regex
   over the file, joined to the ledger's invoice numbers; ``INV 123`` also finds ``000123``).
   The named invoices are paid oldest first; a remainder stays unapplied (credit on account);
   a shortfall within the client's tolerance is written off. Invoices of another client or in
   another currency are never paid: the receipt goes to the unmatched list instead.
2. **Exact amount**: a receipt equal to the balance of one of the payer's open invoices pays it
   (the k-th such receipt of a client pays the k-th oldest invoice of that balance).
3. **The payer's open invoices**: oldest first, or pro rata (``cash_terms`` per client);
   expenses (and their tax) before fees unless the client's terms say otherwise. Overpayment
   stays unapplied; a total shortfall within the tolerance is written off.
4. Otherwise, a receipt whose payer is not identified (no client id, a payer name that is no
   client's — names are compared without case, punctuation or legal form, so 'NORTHWIND
   TRADERS INC' is 'Northwind Traders', by cleanco — no invoice number) or whose currency is none of the client's invoices' goes to the
   **unmatched list**: recorded, unapplied, and never guessed.

Idempotency: each receipt has a natural key ``(source, source_key)`` — its receipt id, or for a
layout without one a fingerprint of the row plus its occurrence in the file — and the store has
a UNIQUE constraint on it. Posting the same file again, or a bank export that overlaps an
earlier one, posts only the receipts not yet in the ledger. A posting run takes the cash lock
(SQLite: the write lock, PostgreSQL: an advisory lock), so two runs at once queue and the second
sees the first's receipts and balances.

Balances: an invoice's balance is ``total + credit notes (negative) - allocations -
write-offs`` (:func:`invoice_balances`); a receipt's ``unapplied_minor`` is ``amount -
allocations - refunds``; a reversal adds rows of the opposite sign and never edits one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from cleanco import basename
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from billxl import bankfiles, intake, money, schema
from billxl.cells import (
    BLANK,
    FAR_DATE,
    NOT_NUMBER,
    OK,
    TOO_LARGE,
    TOO_PRECISE,
    blank_cells,
    format_words,
    norm,
    norm_all,
    parse_dates,
    scaled_numbers,
    stripped_text,
    too_precise_money,
)
from billxl.errors import InputError, LedgerError, Problem
from billxl.figures import balances, credit
from billxl.reference import Reference
from billxl.store import cash, reads
from billxl.store.cash import lock_cash
from billxl.store.tables import ALLOCATION_POLICIES

__all__ = [
    "ReceiptProfile",
    "CashReference",
    "CheckedReceipts",
    "Matching",
    "PostResult",
    "load_receipt_profile",
    "receipt_profile_names",
    "read_receipts",
    "check_receipts",
    "match_receipts",
    "post_receipts",
    "invoice_balances",
    "cash_terms",
    "set_cash_terms",
    "reverse_receipt",
    "apply_receipt",
    "write_off",
    "refund_credit",
    "receipts",
    "unapplied_cash",
    "lock_cash",
    "demo_receipts",
]

Progress = Callable[[str, int, int], None]

#: The columns of a checked receipt frame, as read_receipts returns it.
RECEIPT_FRAME = {
    "row": "int64",
    "receipt_id": "string",
    "source": "string",
    "source_key": "string",
    "received_on": "datetime64[ns]",
    "client_id": "object",  # the client, given or found by the payer's name; None if unknown
    "client_given": "string",  # the client id cell as written ('' if none)
    "payer": "string",
    "amount_minor": "int64",
    "currency": "string",
    "currency_given": "string",
    "client_currency": "object",  # the client's own currency (None while the client is unknown)
    "method": "string",
    "reference": "string",
    "remittance": "string",
    "row_hash": "string",
}
#: What decides whether a receipt posted again is the same receipt (the cells, not lookups).
RECEIPT_CONTENT = ("received_on", "client_given", "payer", "amount_minor", "currency_given",
                   "method", "reference", "remittance")

DEFAULT_POLICY = "oldest"
_SPAN_LIMIT = 2**62  # running totals of the allocation waterfall must stay inside int64
_LIMITS = {"payer": 200, "method": 20, "reference": 200, "receipt_id": 100}


# =================================================================================== profiles
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReceiptColumns(_Strict):
    """Which column of the file holds each field of a receipt (header text as in the file)."""

    date: str
    amount: str
    receipt_id: str | None = None  # without one, the row's content is the natural key
    client_id: str | None = None
    payer: str | None = None
    currency: str | None = None
    method: str | None = None
    reference: str | None = None
    remittance: str | None = None


class ReceiptProfile(_Strict):
    """How one receipt layout maps onto billxl's fields. Loaded by :func:`load_receipt_profile`."""

    name: str
    #: the system or bank account the receipts come from; (source, key) is the natural key
    source: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    description: str = ""
    sheet: str | None = None
    header_row: int = Field(1, ge=1)
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    columns: ReceiptColumns
    #: fields whose column may be absent from a file (their values are then blank)
    optional: tuple[str, ...] = ()
    #: the account's currency, for a layout without a currency column
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    #: a bank statement lists payments out too: rows without a positive amount are skipped
    credits_only: bool = False
    #: the payment method when the file does not say (wire, check, card, ach, ...)
    default_method: str = ""
    #: fields fingerprinted into the natural key when there is no receipt_id column
    key_fields: tuple[str, ...] = ("date", "amount", "currency", "payer", "reference",
                                   "remittance")

    @field_validator("date_formats", mode="before")
    @classmethod
    def _one_format(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("optional", "key_fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        fields = ReceiptColumns.model_fields
        for name in value:
            if name not in fields:
                raise ValueError(f"{name!r} is not a field; the fields are: {', '.join(fields)}")
        return value

    def mapped(self) -> dict[str, str]:
        """field -> header, for the fields this profile reads."""
        return {k: v for k, v in self.columns.model_dump().items() if v is not None}


def receipt_profile_names() -> list[str]:
    """The receipt profiles shipped with billxl (``canonical``, ``bank``, ...)."""
    folder = resources.files("billxl") / "profiles"
    return sorted(p.name[len("receipts_"):-5] for p in folder.iterdir()
                  if p.name.startswith("receipts_") and p.name.endswith(".yaml"))


def load_receipt_profile(name_or_path: str | Path) -> ReceiptProfile:
    """A shipped profile by name (``canonical``, ``bank``) or a profile YAML file."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise InputError(f"There is no profile file {text_name}.")
        text, shown = path.read_text(encoding="utf-8"), text_name
    else:
        stem = text_name if text_name.startswith("receipts_") else f"receipts_{text_name}"
        shipped = resources.files("billxl") / "profiles" / f"{stem}.yaml"
        if not shipped.is_file():
            raise InputError(f"There is no receipt profile named {text_name!r}. Profiles shipped "
                             f"with billxl: {', '.join(receipt_profile_names())}; or give a "
                             ".yaml file.")
        text, shown = shipped.read_text(encoding="utf-8"), f"{stem}.yaml"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(f"{shown} is not valid YAML.",
                         [Problem(shown, None if line is None else line + 1, None, None,
                                  str(exc).splitlines()[0])]) from None
    try:
        return ReceiptProfile.model_validate(data or {})
    except ValidationError as exc:
        problems = [Problem(shown, None, ".".join(map(str, e["loc"])) or None, None, e["msg"])
                    for e in exc.errors()]
        raise InputError(f"{shown} is not a valid receipt profile.", problems) from None


# =================================================================================== reading
#: What checking a receipt file needs (the clients, the firm's currency): the one Reference.
CashReference = Reference


def _name_key(texts: pd.Series) -> pd.Series:
    """A payer or client name as compared: case, blanks and punctuation ignored."""
    return texts.astype("string").str.casefold().str.replace(r"[\W_]+", "", regex=True)


def _base_key(texts: pd.Series) -> pd.Series:
    """The name without its legal form ('Northwind Traders Inc' and 'NORTHWIND TRADERS' are one
    name), by cleanco, then compared as :func:`_name_key` does."""
    uniques = pd.unique(texts.fillna("").astype(str))
    bases = {u: basename(u) or u for u in uniques}
    return _name_key(texts.fillna("").astype(str).map(bases))


def _client_by_name(payers: pd.Series, clients: pd.DataFrame) -> np.ndarray:
    """Each payer's client: the one client whose name is the payer's, else the one client whose
    name is the payer's but for the legal form (Inc, Ltd, GmbH …); None if none or several."""
    found = pd.Series(None, index=payers.index, dtype=object)
    for key in (_name_key, _base_key):
        names = key(clients["name"])
        unique_names = names[~names.duplicated(keep=False) & (names != "")]
        by_name = dict(zip(unique_names, clients.loc[unique_names.index, "client_id"],
                           strict=True))
        todo = found.isna() & payers.fillna("").ne("")
        if todo.any():
            found[todo] = key(payers[todo]).map(by_name).astype(object)
    return found.where(found.notna(), None).to_numpy(dtype=object)


@dataclass
class CheckedReceipts:
    raw: intake.RawTable
    profile: ReceiptProfile
    frame: pd.DataFrame  # RECEIPT_FRAME
    skipped: int  # rows that are not receipts (payments out, in a bank statement)
    bank: bankfiles.BankFile | None = None  # a bank file: every transaction, and its checks
    skipped_rows: tuple[int, ...] = ()  # a table's rows skipped (money out, 0 or less)


def read_receipts(path: str | Path, profile: str | Path | ReceiptProfile = "canonical", *,
                  reference: CashReference, sheet: str | None = None) -> CheckedReceipts:
    """Read and check a receipt file; raises InputError listing every problem in it.

    A BAI2, camt, MT940 or OFX file (recognised from its content, see :mod:`billxl.bankfiles`)
    is read as a bank file and ``profile`` and ``sheet`` are not used: its credits are the
    receipts, keyed on the bank's references; its other transactions are counted as skipped.
    """
    bank = bankfiles.read_bank_file(path)
    if bank is None:
        prof = profile if isinstance(profile, ReceiptProfile) else load_receipt_profile(profile)
        raw = intake.read_table(path, sheet=sheet or prof.sheet, header_row=prof.header_row)
    else:
        prof = ReceiptProfile(name=bank.format, source=bank.source,
                              columns=ReceiptColumns(**{c: c for c in bankfiles.RECEIPT_COLUMNS}))
        raw = bank.receipt_table()
    frame, problems, skipped_rows = check_receipts(raw, prof, reference)
    if problems:
        raise intake.refusal(raw, problems)
    skipped = len(skipped_rows) + (len(bank.not_posted) if bank is not None else 0)
    return CheckedReceipts(raw=raw, profile=prof, frame=frame, skipped=skipped, bank=bank,
                           skipped_rows=() if bank is not None else tuple(skipped_rows))


def check_receipts(raw: intake.RawTable, profile: ReceiptProfile,
                   reference: CashReference) -> tuple[pd.DataFrame, list[Problem], int]:
    """Map and check every row of a receipt file: the frame, every problem, rows skipped. Pure."""
    problems = list(raw.problems)
    mapped = profile.mapped()
    needed = [h for f, h in mapped.items() if f not in profile.optional]
    missing = [h for h in dict.fromkeys(needed) if not raw.find(h)]
    twice = [h for h in dict.fromkeys(mapped.values()) if len(raw.find(h)) > 1]
    if missing or twice:
        found = ", ".join(repr(c) for c in raw.columns if c) or "none"
        problems += [raw.problem(raw.header_row, h, None,
                                 f"the column {h!r} is missing (profile {profile.name!r} needs "
                                 f"it); the columns found are: {found}") for h in missing]
        problems += [raw.problem(raw.header_row, h, None,
                                 f"there are {len(raw.find(h))} columns headed {h!r}; keep one")
                     for h in twice]
        return schema.empty_frame(RECEIPT_FRAME), problems, 0

    positions = {f: raw.find(h)[0] for f, h in mapped.items() if raw.find(h)}
    header = {f: raw.columns[i] for f, i in positions.items()}

    def all_cells(name: str) -> np.ndarray | None:
        return raw.cells[positions[name]] if name in positions else None

    # rows whose every mapped cell is blank are not receipts (trailing rows of a sheet)
    blank = np.ones(len(raw), dtype=bool)
    for i in positions.values():
        blank &= blank_cells(raw.cells[i])
    amount_milli, amount_status = scaled_numbers(all_cells("amount"), 3)
    keep = ~blank
    if profile.credits_only:  # payments out (or blank credit cells) are not receipts
        positive = (amount_status == OK) & (amount_milli > 0)
        unreadable = (amount_status != OK) & (amount_status != BLANK)
        keep &= positive | unreadable  # an unreadable credit cell is reported, not skipped
    skipped_rows = [int(r) for r in raw.rows[~blank & ~keep]]
    rows = raw.rows[keep]
    n = len(rows)
    found = intake.ProblemCollector(raw, rows)

    def cells(name: str) -> np.ndarray | None:
        column = all_cells(name)
        return None if column is None else column[keep]

    def text(name: str) -> np.ndarray:
        column = cells(name)
        if column is None:
            return np.full(n, "", dtype=object)
        return stripped_text(column)

    out: dict[str, Any] = {"row": rows}
    for name, limit in _LIMITS.items():
        values = text(name)
        too_long = np.fromiter((len(v) > limit for v in values), dtype=bool, count=n)
        found.add(too_long, header.get(name, name), cells(name),
                  f"is longer than {limit} characters")
        out[name] = values
    out["remittance"] = text("remittance")

    # -- date
    date_cells = cells("date")
    received, bad, far, no_date = parse_dates(date_cells, profile.date_formats)
    formats = " or ".join(format_words(f) for f in profile.date_formats)
    found.add(no_date, header["date"], None, "the date is missing")
    found.add(bad, header["date"], date_cells, f"is not a date (expected {formats})")
    found.add(far, header["date"], date_cells, FAR_DATE)
    today = np.datetime64(date.today(), "D")
    future = ~(bad | far | no_date) & (pd.Series(received).to_numpy("datetime64[D]") > today)
    found.add(future, header["date"], date_cells,
              "is after today: money not yet received cannot be posted (post it when it arrives)")
    out["received_on"] = received

    # -- client: by id, else by the payer's name (exactly one client of that name, or none)
    clients = reference.clients
    known_ids = dict(zip(norm_all(clients["client_id"]), clients["client_id"], strict=True))
    given = text("client_id")
    codes, uniques = pd.factorize(given)
    client = np.array([known_ids.get(norm(v)) if v else None for v in uniques] + [None],
                      dtype=object)[codes]
    found.add((given != "") & pd.isna(client), header.get("client_id", "client_id"),
              cells("client_id"), "no client with this ID in the ledger")
    from_payer = _client_by_name(pd.Series(out["payer"], dtype="string"), clients)
    out["client_id"] = np.where(given == "", from_payer, client)
    out["client_given"] = given

    # -- currency: the cell, else the profile's, else the client's, else the firm's
    currency_given = np.char.upper(text("currency").astype(str)).astype(object)
    bad_currency = ((currency_given != "")
                    & ~pd.Series(currency_given, dtype=object).str.fullmatch(r"[A-Z]{3}")
                    .fillna(False).to_numpy(dtype=bool))
    found.add(bad_currency, header.get("currency", "currency"), cells("currency"),
              "is not a currency code (three letters, e.g. USD)")
    client_currency = dict(zip(clients["client_id"], clients["currency"], strict=True))
    own = pd.Series(out["client_id"], dtype=object).map(client_currency)
    out["client_currency"] = own.astype(object).where(own.notna(), None).to_numpy(dtype=object)
    fallback = (pd.Series(np.full(n, profile.currency, dtype=object)) if profile.currency
                else own.fillna(reference.firm_currency)).to_numpy(dtype=object)
    currency = np.where(currency_given == "", fallback, currency_given)
    out["currency"], out["currency_given"] = currency, currency_given

    # -- amount, on the currency's grid
    milli, status = amount_milli[keep], amount_status[keep]
    codes, uniques = pd.factorize(pd.Series(currency, dtype=object))
    digits = np.array([money.minor_digits(c) for c in uniques] + [2], dtype=np.int64)[codes]
    step = 10 ** (3 - digits)
    status = np.where((status == OK) & (milli % step != 0), TOO_PRECISE, status)
    amount_cells, where = cells("amount"), header["amount"]
    found.add(status == BLANK, where, None, "the amount is missing")
    found.add(status == NOT_NUMBER, where, amount_cells, "is not an amount")
    found.add(status == TOO_PRECISE, where, amount_cells,
              lambda i: too_precise_money(int(digits[i]), currency[i]))
    found.add(status == TOO_LARGE, where, amount_cells, "is too large")
    found.add((status == OK) & (milli <= 0), where, amount_cells,
              "a receipt must be more than 0 (a returned payment is a reversal)")
    out["amount_minor"] = np.where(status == OK, milli // step, 0)
    out["method"] = np.where(out["method"] == "", profile.default_method,
                             np.char.lower(out["method"].astype(str)).astype(object))

    # -- the natural key: the receipt id, else a fingerprint of the row and its occurrence
    out["source"] = np.full(n, profile.source, dtype=object)
    frame_so_far = pd.DataFrame({k: out[k] for k in ("received_on", "payer", "amount_minor",
                                                     "reference", "remittance")})
    frame_so_far["currency"] = currency
    if "receipt_id" in positions:
        ids = out["receipt_id"]
        found.add(ids == "", header["receipt_id"], None, "the receipt ID is missing")
        series = pd.Series(ids, dtype=object)
        repeated = (series.duplicated(keep=False) & (series != "")).to_numpy()
        if repeated.any():
            seen = pd.Series(rows[repeated]).groupby(ids[repeated]).agg(list).to_dict()
            found.add(repeated, header["receipt_id"], cells("receipt_id"),
                      lambda i: "this receipt ID appears more than once in the file (rows "
                                f"{', '.join(map(str, seen[ids[i]]))})")
        out["source_key"] = ids
    else:
        key_columns = {"date": "received_on", "amount": "amount_minor"}
        chosen = tuple(key_columns.get(f, f) for f in profile.key_fields
                       if f in ("date", "amount", "currency") or f in positions)
        fingerprint = schema.row_hash(frame_so_far, chosen)
        occurrence = fingerprint.groupby(fingerprint).cumcount() + 1
        day = pd.Series(received).dt.strftime("%Y%m%d").fillna("00000000")
        out["source_key"] = (day + "-" + fingerprint.str[:12] + "-"
                             + occurrence.astype(str)).to_numpy(dtype=object)
        out["receipt_id"] = out["source_key"]
    frame = pd.DataFrame({name: pd.Series(out[name]).astype(dtype) if dtype != "object"
                          else pd.Series(out[name], dtype=object)
                          for name, dtype in RECEIPT_FRAME.items() if name != "row_hash"})
    frame["client_id"] = frame["client_id"].where(frame["client_id"].notna(), None)
    frame["row_hash"] = schema.row_hash(frame, RECEIPT_CONTENT)
    return frame, problems + found.items, skipped_rows


# =================================================================================== balances
def invoice_balances(ledger, conn: Any = None, *, as_of: date | None = None,
                     client: str | None = None) -> pd.DataFrame:
    """Every invoice (not credit notes) with its balance as of a date.

    The figure is :func:`billxl.figures.balances.invoice_balances` (its docstring gives the
    formula) over the ledger's journals read in ``conn`` (or a new connection): columns
    ``invoice_pk, number, client_id, matter_id, office_id, currency, invoice_date, due_date``,
    the invoice's totals, ``credited_minor`` (negative), ``paid_minor``,
    ``written_off_minor``, ``balance_minor``, ``expenses_open_minor`` and ``fees_open_minor``.
    """
    if conn is None:
        with ledger.engine.connect() as c:
            return invoice_balances(ledger, c, as_of=as_of, client=client)
    journals = reads.cash_journals(conn, as_of=as_of, client=client, with_cash=False)
    return balances.invoice_balances(journals.invoices, journals.allocations,
                                     journals.write_offs, journals.expense_parts,
                                     as_of=as_of, client=client)


def cash_terms(ledger, conn: Any = None) -> pd.DataFrame:
    """Per client: allocation policy, expenses first, short-payment tolerance (set ones only)."""
    return cash.read_cash_terms(ledger, conn)


def set_cash_terms(ledger, client: str, *, policy: str | None = None,
                   expenses_first: bool | None = None, tolerance: Any = None,
                   actor: str | None = None) -> dict:
    """Set how a client's receipts are allocated; unset values keep theirs (or the default)."""
    if policy is not None and policy not in ALLOCATION_POLICIES:
        raise LedgerError(f"{policy!r} is not an allocation policy; use one of "
                          f"{', '.join(ALLOCATION_POLICIES)}.")
    with ledger.transaction() as conn:
        currency = cash.client_currency(conn, client)
        if currency is None:
            raise LedgerError(f"There is no client {client} in the ledger.")
        before = cash.cash_terms_of(conn, client)
        row = dict(before) if before else {"client_id": client, "allocation_policy": DEFAULT_POLICY,
                                           "expenses_first": True, "short_pay_tolerance_minor": 0}
        if policy is not None:
            row["allocation_policy"] = policy
        if expenses_first is not None:
            row["expenses_first"] = bool(expenses_first)
        if tolerance is not None:
            row["short_pay_tolerance_minor"] = money.to_minor(tolerance, currency)
            if row["short_pay_tolerance_minor"] < 0:
                raise LedgerError("A tolerance cannot be negative.")
        cash.save_cash_terms(ledger, conn, row, before, actor)
    return row


# =================================================================================== matching
@dataclass
class Matching:
    """What :func:`match_receipts` proposes.

    ``receipts``: the input rows with ``client_id`` (as resolved), ``status`` (posted or
    unmatched), ``matched_by``, ``unmatched_reason``, ``allocated_minor``, ``written_off_minor``
    and ``unapplied_minor``. ``allocations``: ``receipt`` (row position in ``receipts``),
    ``invoice_pk``, ``number``, ``rule``, ``amount_minor``, ``expenses_minor``. ``write_offs``:
    ``receipt``, ``invoice_pk``, ``number``, ``amount_minor``, ``reason``.
    """

    receipts: pd.DataFrame
    allocations: pd.DataFrame
    write_offs: pd.DataFrame


_INVOICE_REF = re.compile(
    r"\b(?P<hint>INV(?:OICE)?\.?(?:\s*(?:NO\.?|NR\.?|NUMBER))?[\s:#-]*)?"
    r"(?P<token>[A-Z]*-?\d[A-Z0-9-]*)")


def _zeroless(values: pd.Series) -> pd.Series:
    """Leading zeros of every digit run dropped: 'NYC-000045' -> 'NYC-45'."""
    return values.str.replace(r"(?<!\d)0+(?=\d)", "", regex=True)


def _named_pairs(texts: pd.Series, numbers: pd.Series) -> pd.DataFrame:
    """(receipt, invoice) for every invoice number written in a receipt's text.

    An invoice number counts when it is written in full (``000123``, ``NYC-000123``, any case),
    or, after the word INV/INVOICE, without its leading zeros (``Inv 123``, ``INV-123``). One
    regex pass over all texts, then a join against the invoice numbers: no loop per receipt.
    """
    empty = pd.DataFrame({"receipt": pd.Series(dtype="int64"), "invoice": pd.Series(dtype="int64")})
    if texts.empty or numbers.empty:
        return empty
    found = texts.str.upper().str.extractall(_INVOICE_REF)
    if found.empty:
        return empty
    tokens = pd.DataFrame({"receipt": found.index.get_level_values(0).to_numpy(dtype=np.int64),
                           "key": found["token"].str.rstrip("-").to_numpy(dtype=object),
                           "hinted": found["hint"].notna().to_numpy()})
    upper = numbers.str.upper()
    exact = tokens.merge(pd.DataFrame({"key": upper.to_numpy(dtype=object),
                                       "invoice": np.arange(len(numbers))}), on="key")
    hinted = tokens[tokens["hinted"]]
    loose = (hinted.assign(key=_zeroless(hinted["key"]))
             .merge(pd.DataFrame({"key": _zeroless(upper).to_numpy(dtype=object),
                                  "invoice": np.arange(len(numbers))}), on="key"))
    pairs = pd.concat([exact, loose])[["receipt", "invoice"]].drop_duplicates()
    return pairs.sort_values(["receipt", "invoice"], ignore_index=True)


#: How an allocation's reason starts when the remittance named an invoice the ledger does not
#: have and the receipt was paid by its client's rule instead
NAMES_MISSING_INVOICE = "the remittance names invoice "


def _unknown_invoice_refs(texts: pd.Series, numbers: pd.Series) -> pd.Series:
    """Per receipt (by position), the invoice numbers its text names that no invoice has:
    a number after INV/INVOICE, or one shaped like the ledger's numbers (same length, digits
    where theirs are digits), e.g. "009999" where the firm numbers 000001, 000002 ..."""
    out = pd.Series("", index=texts.index, dtype=object)
    if texts.empty:
        return out
    found = texts.str.upper().str.extractall(_INVOICE_REF)
    if found.empty:
        return out
    upper = set(numbers.str.upper())
    shapes = set(numbers.str.upper().str.replace(r"\d", "9", regex=True))
    token = found["token"].str.rstrip("-")
    shaped = token.str.replace(r"\d", "9", regex=True).isin(shapes)
    unknown = found[(found["hint"].notna() | shaped) & ~token.isin(upper)
                    & ~_zeroless(token).isin(set(_zeroless(numbers.str.upper())))]
    if unknown.empty:
        return out
    named = unknown["token"].str.rstrip("-").groupby(level=0).agg(
        lambda s: ", ".join(dict.fromkeys(s)))
    out.loc[named.index] = named.to_numpy(dtype=object)
    return out


def _waterfall(claim_group: np.ndarray, claim_amount: np.ndarray, item_group: np.ndarray,
               item_cap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill items from claims, in order, within each group: receipts paying invoices one by one.

    Both sides are sorted by group and, within a group, in the order they pay or are paid.
    Claim k's money covers the slice of its group's running total after claims 1..k-1, and each
    item the slice after items 1..i-1; an allocation is the overlap of a claim's slice with an
    item's. That is exactly what paying one receipt at a time gives, computed for every group
    at once with sorted searches. Returns (claim index, item index, amount) per overlap.
    """
    n_claims, n_items = len(claim_amount), len(item_cap)
    nothing = (np.zeros(0, np.int64),) * 3
    if not n_claims or not n_items:
        return nothing
    groups, codes = np.unique(np.concatenate([claim_group, item_group]), return_inverse=True)
    cg, ig = codes[:n_claims], codes[n_claims:]

    def within(group: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ends = np.cumsum(amount)
        first = np.r_[True, group[1:] != group[:-1]]
        start_of_group = np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
        ends = ends - (ends[start_of_group] - amount[start_of_group])
        totals = np.zeros(len(groups), dtype=np.int64)
        last = np.r_[group[1:] != group[:-1], True]
        totals[group[last]] = ends[last]
        return ends, totals

    claim_end, claim_total = within(cg, claim_amount.astype(np.int64))
    item_end, item_total = within(ig, item_cap.astype(np.int64))
    span = np.maximum(claim_total, item_total)
    if span.sum() >= _SPAN_LIMIT:
        raise LedgerError("The amounts in this file are too large to allocate in one run.")
    offset = np.cumsum(span) - span
    claim_end = claim_end + offset[cg]
    item_end = item_end + offset[ig]
    claim_start, item_start = claim_end - claim_amount, item_end - item_cap
    points = np.unique(np.concatenate([claim_start, claim_end, item_start, item_end]))
    a, b = points[:-1], points[1:]
    ci = np.searchsorted(claim_end, a, side="right")
    ii = np.searchsorted(item_end, a, side="right")
    ok = (ci < n_claims) & (ii < n_items)
    ci, ii, a, b = ci[ok], ii[ok], a[ok], b[ok]
    ok = (claim_start[ci] <= a) & (item_start[ii] <= a) & (cg[ci] == ig[ii])
    return ci[ok], ii[ok], (b - a)[ok]


@dataclass
class _Book:
    """Open amounts of every invoice, split into expenses and fees, as allocation goes on."""

    invoices: pd.DataFrame
    expenses: np.ndarray = field(init=False)
    fees: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        balance = self.invoices["balance_minor"].to_numpy(dtype=np.int64).clip(min=0)
        self.expenses = np.minimum(self.invoices["expenses_open_minor"].to_numpy(dtype=np.int64)
                                   .clip(min=0), balance)
        self.fees = balance - self.expenses

    @property
    def open(self) -> np.ndarray:
        return self.expenses + self.fees

    def items(self, group: np.ndarray, invoice: np.ndarray, expenses_first: np.ndarray,
              ) -> pd.DataFrame:
        """Two items per (group, invoice) -- its expenses and its fees -- in paying order.

        Oldest invoice first; with ``expenses_first`` (per row) every invoice's expenses come
        before any invoice's fees, otherwise invoice by invoice (expenses, then fees).
        """
        inv = self.invoices
        base = pd.DataFrame({"group": group, "invoice": invoice, "first": expenses_first,
                             "date": inv["invoice_date"].to_numpy()[invoice],
                             "number": inv["number"].to_numpy()[invoice]})
        parts = []
        for part, caps in ((0, self.expenses), (1, self.fees)):
            parts.append(base.assign(part=part, cap=caps[invoice],
                                     tier=np.where(base["first"], part, 0)))
        items = pd.concat(parts, ignore_index=True)
        items = items[items["cap"] > 0]
        return items.sort_values(["group", "tier", "date", "number", "part"], kind="stable",
                                 ignore_index=True)

    def take(self, items: pd.DataFrame, item_index: np.ndarray, amount: np.ndarray) -> None:
        for part, caps in ((0, self.expenses), (1, self.fees)):
            mine = items["part"].to_numpy()[item_index] == part
            np.subtract.at(caps, items["invoice"].to_numpy()[item_index][mine], amount[mine])


def _allocation_rows(receipt: np.ndarray, items: pd.DataFrame, item_index: np.ndarray,
                     amount: np.ndarray, rule: str | np.ndarray) -> pd.DataFrame:
    part = items["part"].to_numpy()[item_index]
    return pd.DataFrame({"receipt": receipt, "invoice": items["invoice"].to_numpy()[item_index],
                         "rule": rule, "amount_minor": amount,
                         "expenses_minor": np.where(part == 0, amount, 0)})


def _terms_for(clients: pd.Series, terms: pd.DataFrame | None) -> pd.DataFrame:
    """The cash terms of each row's client (the defaults where a client has none)."""
    frame = pd.DataFrame({"client_id": clients.to_numpy(dtype=object)})
    if terms is not None and len(terms):
        frame = frame.merge(terms[["client_id", "allocation_policy", "expenses_first",
                                   "short_pay_tolerance_minor"]], on="client_id", how="left")
    for name, default in (("allocation_policy", DEFAULT_POLICY), ("expenses_first", True),
                          ("short_pay_tolerance_minor", 0)):
        if name not in frame:
            frame[name] = default
        frame[name] = frame[name].where(frame[name].notna(), default)
    frame["expenses_first"] = frame["expenses_first"].astype(bool)
    frame["short_pay_tolerance_minor"] = frame["short_pay_tolerance_minor"].astype("int64")
    return frame


def match_receipts(receipts: pd.DataFrame, invoices: pd.DataFrame,
                   terms: pd.DataFrame | None = None) -> Matching:
    """Find what each receipt pays and split it; pure and vectorised (see the module's text).

    ``receipts``: a checked receipt frame (``client_id`` may be None). ``invoices``: the
    frame of :func:`invoice_balances`. ``terms``: :func:`cash_terms` (defaults for clients
    without: oldest first, expenses first, no tolerance). Receipts are taken in date order (file
    order within a day): an earlier receipt pays before a later one.
    """
    rec = receipts.reset_index(drop=True)
    n = len(rec)
    inv = invoices.reset_index(drop=True)
    book = _Book(inv)
    client = rec["client_id"].to_numpy(dtype=object).copy()
    currency = rec["currency"].to_numpy(dtype=object)
    amount = rec["amount_minor"].to_numpy(dtype=np.int64)
    order = np.lexsort((rec["row"].to_numpy(), rec["received_on"].to_numpy()))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    status = np.full(n, "posted", dtype=object)
    matched_by = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    inv_client = inv["client_id"].to_numpy(dtype=object)
    inv_currency = inv["currency"].to_numpy(dtype=object)
    numbers = inv["number"].to_numpy(dtype=object)
    allocations: list[pd.DataFrame] = []
    write_offs: list[pd.DataFrame] = []

    # ---- 1. named invoices
    texts = (rec["remittance"].fillna("").astype(str) + " " + rec["reference"].fillna("").astype(str))
    pairs = _named_pairs(texts, inv["number"].astype(str))
    if len(pairs):
        r, i = pairs["receipt"].to_numpy(), pairs["invoice"].to_numpy()
        known = pd.notna(client[r])
        same_client = ~known | (inv_client[i] == client[r])
        by_receipt = pd.DataFrame({"receipt": r, "client": inv_client[i], "number": numbers[i],
                                   "ok_client": same_client})
        # a receipt of unknown payer names one client's invoices only, or it is not a match
        clients_named = by_receipt[~known].groupby("receipt")["client"].nunique()
        several = clients_named.index[clients_named > 1].to_numpy()
        foreign = by_receipt.groupby("receipt")["ok_client"].any()
        foreign = foreign.index[~foreign].to_numpy()
        for bad, why in ((several, "names invoices of more than one client: {}"),
                         (foreign, "names invoices of another client only: {}")):
            if len(bad):
                listed = by_receipt[by_receipt["receipt"].isin(bad)].groupby("receipt")["number"] \
                    .agg(lambda s: ", ".join(s))
                status[bad], reason[bad] = "unmatched", [why.format(listed[b]) for b in bad]
        keep = same_client & (status[r] == "posted")
        r, i = r[keep], i[keep]
        single = ~pd.notna(client[r])
        client[r[single]] = inv_client[i[single]]
        in_currency = inv_currency[i] == currency[r]
        wrong = pd.Series(~in_currency).groupby(r).all()
        wrong = wrong.index[wrong].to_numpy()
        if len(wrong):
            shown = pd.Series(inv_currency[i]).groupby(r).first()
            status[wrong] = "unmatched"
            reason[wrong] = [f"is in {currency[w]}; the invoices it names are in {shown[w]}"
                             for w in wrong]
        r, i = r[in_currency], i[in_currency]
        matched_by[np.unique(r)] = "named"
        allocations_named, write_offs_named = _pay_named(r, i, rank, amount, client, book, terms,
                                                         numbers)
        allocations += allocations_named
        write_offs += write_offs_named

    # ---- the payer must be known, and pay in a currency of its invoices (or its own)
    unknown = (status == "posted") & pd.isna(client)
    status[unknown] = "unmatched"
    if unknown.any():
        named_unknown = _unknown_invoice_refs(texts[unknown], inv["number"].astype(str))
        reason[unknown] = [
            (f"the remittance names invoice {refs}, which is not in the ledger, and the payer "
             "is not identified (no client id, and a payer name that is no client's)") if refs
            else ("the payer is not identified (no client id, a payer name that is no "
                  "client's, and no invoice number in the remittance)")
            for refs in named_unknown.to_numpy(dtype=object)]
    currencies_of = set(zip(inv_client, inv_currency, strict=True))
    mismatch = np.fromiter(((c, cur) not in currencies_of for c, cur in zip(client, currency,
                                                                            strict=True)),
                           dtype=bool, count=n) & (status == "posted") & pd.isna(matched_by)
    # (the client's own currency is fine too, before its first invoice)
    own = rec["client_currency"] if "client_currency" in rec else pd.Series(None, index=rec.index)
    mismatch &= own.to_numpy(dtype=object) != currency
    status[mismatch] = "unmatched"
    reason[mismatch] = [f"is in {cur}; client {c} has no invoices in {cur}"
                        for c, cur in zip(client[mismatch], currency[mismatch], strict=True)]

    # ---- 2. exact amount: the k-th such receipt of a client pays its k-th oldest invoice
    todo = np.flatnonzero((status == "posted") & pd.isna(matched_by))
    if len(todo):
        open_now = book.open
        candidates = np.flatnonzero(open_now > 0)
        left = pd.DataFrame({"receipt": todo, "client": client[todo], "currency": currency[todo],
                             "amount": amount[todo], "rank": rank[todo]})
        left["k"] = left.sort_values("rank").groupby(["client", "currency", "amount"]).cumcount()
        right = pd.DataFrame({"invoice": candidates, "client": inv_client[candidates],
                              "currency": inv_currency[candidates], "amount": open_now[candidates],
                              "date": inv["invoice_date"].to_numpy()[candidates],
                              "number": numbers[candidates]})
        right = right.sort_values(["date", "number"], kind="stable")
        right["k"] = right.groupby(["client", "currency", "amount"]).cumcount()
        hit = left.merge(right[["invoice", "client", "currency", "amount", "k"]],
                         on=["client", "currency", "amount", "k"])
        if len(hit):
            i = hit["invoice"].to_numpy()
            exp = book.expenses[i].copy()
            allocations.append(pd.DataFrame({"receipt": hit["receipt"].to_numpy(), "invoice": i,
                                             "rule": "exact", "amount_minor": hit["amount"].to_numpy(),
                                             "expenses_minor": exp}))
            book.expenses[i] = 0
            book.fees[i] = 0
            matched_by[hit["receipt"].to_numpy()] = "exact"

    # ---- 3. the payer's open invoices, oldest first or pro rata
    todo = np.flatnonzero((status == "posted") & pd.isna(matched_by))
    if len(todo):
        got, offs = _pay_open(todo, rank, amount, client, currency, book, terms, inv_client,
                              inv_currency, numbers)
        allocations += got
        write_offs += offs

    alloc = (pd.concat(allocations, ignore_index=True) if allocations else
             pd.DataFrame({"receipt": pd.Series(dtype="int64"), "invoice": pd.Series(dtype="int64"),
                           "rule": pd.Series(dtype=object), "amount_minor": pd.Series(dtype="int64"),
                           "expenses_minor": pd.Series(dtype="int64")}))
    alloc = alloc[alloc["amount_minor"] > 0]
    alloc = (alloc.groupby(["receipt", "invoice", "rule"], as_index=False, sort=True)
             [["amount_minor", "expenses_minor"]].sum())
    # a receipt paid by a rule whose remittance names an invoice the ledger does not have:
    # say so beside each of its allocations (the secretary checks the number with the payer)
    by_rule = np.unique(alloc.loc[alloc["rule"] != "named", "receipt"].to_numpy())
    missing = _unknown_invoice_refs(texts.iloc[by_rule].reset_index(drop=True),
                                    inv["number"].astype(str))
    missing.index = by_rule
    instead = {"exact": "paid to the open invoice of the same amount instead",
               "oldest": "paid to the oldest open invoices instead",
               "pro_rata": "spread over the open invoices instead"}
    named = alloc["receipt"].map(missing).astype(object).fillna("")
    said = (NAMES_MISSING_INVOICE + named + ", which is not in the ledger; "
            + alloc["rule"].map(instead).fillna("paid by its rule instead"))
    alloc["reason"] = said.where((alloc["rule"] != "named") & (named != ""), "")
    offs = (pd.concat(write_offs, ignore_index=True) if write_offs else
            pd.DataFrame({"receipt": pd.Series(dtype="int64"), "invoice": pd.Series(dtype="int64"),
                          "amount_minor": pd.Series(dtype="int64"), "reason": pd.Series(dtype=object)}))
    offs = offs[offs["amount_minor"] > 0]
    offs = offs.groupby(["receipt", "invoice", "reason"], as_index=False, sort=True)["amount_minor"].sum()
    for frame in (alloc, offs):
        frame["invoice_pk"] = inv["invoice_pk"].to_numpy()[frame["invoice"].to_numpy()] \
            if len(frame) else pd.Series(dtype="int64")
        frame["number"] = numbers[frame["invoice"].to_numpy()] if len(frame) else \
            pd.Series(dtype=object)

    allocated = np.zeros(n, dtype=np.int64)
    np.add.at(allocated, alloc["receipt"].to_numpy(), alloc["amount_minor"].to_numpy(np.int64))
    written = np.zeros(n, dtype=np.int64)
    np.add.at(written, offs["receipt"].to_numpy(), offs["amount_minor"].to_numpy(np.int64))
    # step 3's receipts are named by their rule; one that paid nothing is a credit on account
    rule_of = alloc.groupby("receipt")["rule"].first()
    by_policy = np.flatnonzero((status == "posted") & pd.isna(matched_by))
    matched_by[by_policy] = pd.Series(by_policy).map(rule_of).to_numpy(dtype=object)
    on_account = (status == "posted") & ((allocated == 0) | pd.isna(matched_by))
    matched_by[on_account] = "account"
    out = rec.assign(client_id=client, status=status, matched_by=matched_by,
                     unmatched_reason=reason, allocated_minor=allocated, written_off_minor=written,
                     unapplied_minor=amount - allocated)
    return Matching(receipts=out, allocations=alloc.drop(columns=["invoice"]),
                    write_offs=offs.drop(columns=["invoice"]))


def _pay_named(r: np.ndarray, i: np.ndarray, rank: np.ndarray, amount: np.ndarray,
               client: np.ndarray, book: _Book, terms: pd.DataFrame | None,
               numbers: np.ndarray) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Pay each receipt's named invoices, oldest first; shortfalls within tolerance written off.

    Receipts that name the same invoice pay it one after the other (by date): each gets a
    *level*, one more than the latest earlier receipt sharing an invoice with it, and every level
    is paid at once. Levels are few: they only grow when receipts in one file name the same
    invoice.
    """
    got: list[pd.DataFrame] = []
    offs: list[pd.DataFrame] = []
    if not len(r):
        return got, offs
    pairs = pd.DataFrame({"receipt": r, "invoice": i, "rank": rank[r]})
    pairs = pairs.sort_values(["invoice", "rank"], ignore_index=True)
    previous = pairs.groupby("invoice")["receipt"].shift().to_numpy()
    level = pd.Series(0, index=np.unique(r))
    has_previous = pd.notna(previous)
    while True:
        before = np.zeros(len(pairs), dtype=np.int64) - 1
        before[has_previous] = level.loc[previous[has_previous].astype(np.int64)].to_numpy()
        new = pd.Series(before + 1, index=pairs["receipt"].to_numpy()).groupby(level=0).max()
        new = new.reindex(level.index).fillna(0).astype(np.int64)
        if (new == level).all():
            break
        level = new
    receipt_terms = _terms_for(pd.Series(client[level.index.to_numpy()]), terms)
    first = pd.Series(receipt_terms["expenses_first"].to_numpy(dtype=bool), index=level.index)
    tolerance = pd.Series(receipt_terms["short_pay_tolerance_minor"].to_numpy(np.int64),
                          index=level.index)
    pairs["level"] = level.loc[pairs["receipt"].to_numpy()].to_numpy()
    for lvl in range(int(level.max()) + 1):
        now = pairs[pairs["level"] == lvl]
        group = now["receipt"].to_numpy()
        items = book.items(group, now["invoice"].to_numpy(), first.loc[group].to_numpy())
        if items.empty:
            continue
        receipts_here = np.unique(group)
        ci, ii, paid = _waterfall(receipts_here, amount[receipts_here],
                                  items["group"].to_numpy(), items["cap"].to_numpy())
        book.take(items, ii, paid)
        got.append(_allocation_rows(receipts_here[ci], items, ii, paid, "named"))
        # what the named invoices still owe after this receipt, per receipt
        still = items.assign(left=np.where(items["part"] == 0, book.expenses[items["invoice"]],
                                           book.fees[items["invoice"]]))
        owed = still.groupby("group")["left"].sum()
        tol = tolerance.loc[owed.index].to_numpy(dtype=np.int64)
        short = owed.index[(owed.to_numpy() > 0) & (owed.to_numpy() <= tol)].to_numpy()
        if len(short):
            rest = still[still["group"].isin(short) & (still["left"] > 0)]
            offs.append(pd.DataFrame({
                "receipt": rest["group"].to_numpy(), "invoice": rest["invoice"].to_numpy(),
                "amount_minor": rest["left"].to_numpy(),
                "reason": "short payment within the client's tolerance"}))
            book.expenses[rest["invoice"].to_numpy()[rest["part"].to_numpy() == 0]] = 0
            book.fees[rest["invoice"].to_numpy()[rest["part"].to_numpy() == 1]] = 0
    return got, offs


def _pay_open(todo: np.ndarray, rank: np.ndarray, amount: np.ndarray, client: np.ndarray,
              currency: np.ndarray, book: _Book, terms: pd.DataFrame | None,
              inv_client: np.ndarray, inv_currency: np.ndarray, numbers: np.ndarray,
              ) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Receipts that name nothing pay their client's open invoices (same currency) by policy."""
    got: list[pd.DataFrame] = []
    offs: list[pd.DataFrame] = []
    claims = pd.DataFrame({"receipt": todo, "client": client[todo], "currency": currency[todo],
                           "rank": rank[todo]})
    accounts = claims[["client", "currency"]].drop_duplicates(ignore_index=True)
    accounts["group"] = np.arange(len(accounts))
    claims = claims.merge(accounts, on=["client", "currency"]).sort_values(["group", "rank"],
                                                                           ignore_index=True)
    account_terms = _terms_for(accounts["client"], terms)
    accounts = pd.concat([accounts, account_terms.drop(columns=["client_id"])], axis=1)
    open_now = np.flatnonzero(book.open > 0)
    invoices = (pd.DataFrame({"invoice": open_now, "client": inv_client[open_now],
                              "currency": inv_currency[open_now]})
                .merge(accounts, on=["client", "currency"]))
    pro_rata = set(accounts.loc[accounts["allocation_policy"] == "pro_rata", "group"])

    oldest_claims = claims[~claims["group"].isin(pro_rata)]
    oldest_invoices = invoices[~invoices["group"].isin(pro_rata)]
    if len(oldest_claims) and len(oldest_invoices):
        items = book.items(oldest_invoices["group"].to_numpy(), oldest_invoices["invoice"].to_numpy(),
                           oldest_invoices["expenses_first"].to_numpy(dtype=bool))
        receipt = oldest_claims["receipt"].to_numpy()
        ci, ii, paid = _waterfall(oldest_claims["group"].to_numpy(), amount[receipt],
                                  items["group"].to_numpy(), items["cap"].to_numpy())
        book.take(items, ii, paid)
        got.append(_allocation_rows(receipt[ci], items, ii, paid, "oldest"))
    for k in range(int(claims.groupby("group").size().max()) if pro_rata else 0):
        # pro rata: the k-th receipt of every pro-rata account, all at once, over what is open
        now = claims[claims["group"].isin(pro_rata)].groupby("group").nth(k)
        if now.empty:
            break
        got.append(_pro_rata(now, invoices[invoices["group"].isin(now["group"])], amount, book))

    # a client's total shortfall within its tolerance is written off (to its latest receipt)
    tolerant = accounts[accounts["short_pay_tolerance_minor"] > 0]
    if len(tolerant) and len(invoices):
        left = invoices.assign(left=book.open[invoices["invoice"].to_numpy()])
        owed = left.groupby("group")["left"].sum()
        tol = tolerant.set_index("group")["short_pay_tolerance_minor"]
        owed = owed[owed.index.isin(tol.index)]
        short = owed.index[(owed > 0) & (owed <= tol.reindex(owed.index))].to_numpy()
        if len(short):
            last = claims[claims["group"].isin(short)].groupby("group")["receipt"].last()
            rest = left[left["group"].isin(short) & (left["left"] > 0)]
            offs.append(pd.DataFrame({
                "receipt": last.loc[rest["group"]].to_numpy(), "invoice": rest["invoice"].to_numpy(),
                "amount_minor": rest["left"].to_numpy(),
                "reason": "short payment within the client's tolerance"}))
            book.expenses[rest["invoice"].to_numpy()] = 0
            book.fees[rest["invoice"].to_numpy()] = 0
    return got, offs


def _pro_rata(claims: pd.DataFrame, invoices: pd.DataFrame, amount: np.ndarray,
              book: _Book) -> pd.DataFrame:
    """One receipt per account spread over the account's open invoices in proportion to them.

    Shares are rounded down and the cents left over go to the largest remainders (then the
    oldest invoice), so the shares add up to the receipt exactly. Within an invoice expenses
    are paid before fees.
    """
    inv = invoices.assign(open=book.open[invoices["invoice"].to_numpy()])
    inv = inv[inv["open"] > 0].merge(claims[["group", "receipt"]], on="group")
    if inv.empty:
        return pd.DataFrame()
    total = inv.groupby("group")["open"].transform("sum").to_numpy(dtype=np.int64)
    pay = np.minimum(amount[inv["receipt"].to_numpy()], total)
    share_open = inv["open"].to_numpy(dtype=np.int64)
    if pay.max(initial=0) and share_open.max() > _SPAN_LIMIT // max(int(pay.max()), 1):
        exact = [divmod(int(p) * int(o), int(s)) for p, o, s in zip(pay, share_open, total,
                                                                     strict=True)]
        floor = np.array([q for q, _ in exact], dtype=np.int64)
        remainder = np.array([m for _, m in exact], dtype=np.int64)
    else:
        floor, remainder = np.divmod(pay * share_open, total)
    inv = inv.assign(share=floor, remainder=remainder, pay=pay)
    short = inv["pay"] - inv.groupby("group")["share"].transform("sum")
    inv = inv.assign(short=short).sort_values(["group", "remainder", "invoice"],
                                              ascending=[True, False, True])
    inv["share"] += (inv.groupby("group").cumcount() < inv["short"]).astype(np.int64)
    i = inv["invoice"].to_numpy()
    share = inv["share"].to_numpy(dtype=np.int64)
    to_expenses = np.minimum(share, book.expenses[i])
    book.expenses[i] -= to_expenses
    book.fees[i] -= share - to_expenses
    return pd.DataFrame({"receipt": inv["receipt"].to_numpy(), "invoice": i, "rule": "pro_rata",
                         "amount_minor": share, "expenses_minor": to_expenses})


# =================================================================================== posting
@dataclass
class PostResult:
    """What :func:`post_receipts` did (or, for a dry run, would do)."""

    file: str
    profile: str
    source: str
    dry_run: bool
    batch_id: int | None
    rows_read: int
    duplicates: int
    skipped: int
    matching: Matching  # of the new receipts only
    bank: bankfiles.BankFile | None = None  # a bank file's transactions (debits, returns ...)
    skipped_rows: tuple[int, ...] = ()  # a table's rows that are not receipts
    #: cells read without characters that do not show (:attr:`billxl.intake.RawTable.hidden`)
    hidden: tuple[Problem, ...] = ()

    @property
    def receipts(self) -> pd.DataFrame:
        return self.matching.receipts

    @property
    def posted(self) -> int:
        """New receipts recorded (or to be), matched or not."""
        return len(self.matching.receipts)

    @property
    def unmatched(self) -> int:
        return int((self.matching.receipts["status"] == "unmatched").sum())

    def amounts(self) -> pd.DataFrame:
        """Per currency: received, allocated, written off, unapplied (minor units)."""
        r = self.matching.receipts
        if r.empty:
            return pd.DataFrame(columns=["currency", "received_minor", "allocated_minor",
                                         "written_off_minor", "unapplied_minor"])
        return (r.groupby("currency", as_index=False)
                .agg(received_minor=("amount_minor", "sum"),
                     allocated_minor=("allocated_minor", "sum"),
                     written_off_minor=("written_off_minor", "sum"),
                     unapplied_minor=("unapplied_minor", "sum")))

    def summary_dict(self) -> dict:
        """The JSON summary: counts, and amounts as decimal strings (one currency: plain)."""
        sums = self.amounts()

        def amount(column: str) -> dict[str, str]:
            return {c: money.format_amount(int(v), c)
                    for c, v in zip(sums["currency"], sums[column], strict=True)}

        received = amount("received_minor")
        single = next(iter(received)) if len(received) == 1 else None
        out: dict[str, Any] = {
            "file": self.file, "profile": self.profile, "dry_run": self.dry_run,
            "batch_id": self.batch_id, "rows_read": self.rows_read, "posted": self.posted,
            "duplicates": self.duplicates, "unmatched": self.unmatched, "skipped": self.skipped,
            "allocations": len(self.matching.allocations),
            "write_offs": len(self.matching.write_offs),
            "hidden_characters": len(self.hidden),  # cells read without characters not shown
            "currency": single,
        }
        for key, column in (("amount_posted", "received_minor"),
                            ("amount_allocated", "allocated_minor"),
                            ("amount_written_off", "written_off_minor"),
                            ("amount_unapplied", "unapplied_minor")):
            by_currency = amount(column)
            # one currency (the usual bank account): a plain decimal string
            out[key] = (by_currency[single] if single else
                        ("0" if not by_currency else None))
            out[f"{key}_by_currency"] = by_currency
        return out

    def paid_instead_of_named(self) -> list[str]:
        """The receipts whose remittance names an invoice the ledger does not have, paid by the
        client's rule instead (each allocation of theirs says so in its reason)."""
        alloc = self.matching.allocations
        if alloc.empty or "reason" not in alloc:
            return []
        pos = pd.unique(alloc.loc[alloc["reason"].astype(str).str.startswith(
            NAMES_MISSING_INVOICE), "receipt"].to_numpy())
        return [str(v) for v in self.matching.receipts["receipt_id"].to_numpy(dtype=object)[pos]]

    def summary(self) -> str:
        s = self.summary_dict()
        verb = "Would post" if self.dry_run else "Posted"
        money_text = ", ".join(f"{v} {c}" for c, v in s["amount_posted_by_currency"].items())
        lines = [f"{verb} {s['posted']:,} receipt(s) from {Path(self.file).name}"
                 + (f" ({money_text})" if money_text else "") + "; "
                 f"{s['duplicates']:,} already in the ledger, {s['unmatched']:,} unmatched"
                 + ((", 1 row that is not a receipt skipped" if s["skipped"] == 1 else
                     f", {s['skipped']:,} rows that are not receipts skipped") if s["skipped"] else "")
                 + "."]
        if self.skipped_rows:
            shown = ", ".join(map(str, self.skipped_rows[:20]))
            more = f" and {len(self.skipped_rows) - 20:,} more" if len(self.skipped_rows) > 20 else ""
            lines.append(f"  Not receipts (money out, or an amount of 0 or less): row(s) {shown}"
                         f"{more} of the file. A returned payment is a reversal "
                         "('billxl payments reverse').")
        if s["posted"]:
            alloc = ", ".join(f"{v} {c}" for c, v in s["amount_allocated_by_currency"].items())
            unapplied = ", ".join(f"{v} {c}" for c, v in s["amount_unapplied_by_currency"].items())
            lines.append(f"  {s['allocations']:,} allocation(s) ({alloc}); unapplied {unapplied}; "
                         f"{s['write_offs']:,} short-payment write-off(s).")
        paid_instead = self.paid_instead_of_named()
        if paid_instead:
            shown = ", ".join(paid_instead[:10]) + (
                f" and {len(paid_instead) - 10:,} more" if len(paid_instead) > 10 else "")
            lines.append(f"  {len(paid_instead):,} receipt(s) name an invoice that is not in the "
                         f"ledger and were paid by the client's rule instead ({shown}): check "
                         "the number with the payer (--dry-run lists each allocation with its "
                         "note).")
        if self.hidden:
            unit = "line" if self.bank is not None else "row"
            lines.append(intake.hidden_summary(self.hidden, "read", unit) + ".")
        if self.batch_id is not None:
            lines.append(f"  Batch {self.batch_id}.")
        return "\n".join(lines)

    def proposals(self) -> pd.DataFrame:
        """Every allocation and write-off, and every unmatched receipt, as users read them."""
        r = self.matching.receipts
        cur = r["currency"].to_numpy(dtype=object)
        rows = []
        for kind, frame in (("allocation", self.matching.allocations),
                            ("write-off", self.matching.write_offs)):
            if len(frame):
                pos = frame["receipt"].to_numpy()
                rows.append(pd.DataFrame({
                    "receipt_id": r["receipt_id"].to_numpy(dtype=object)[pos],
                    "received_on": r["received_on"].dt.date.to_numpy()[pos],
                    "payer": r["payer"].to_numpy(dtype=object)[pos],
                    "client_id": r["client_id"].to_numpy(dtype=object)[pos],
                    "action": kind, "invoice": frame["number"].to_numpy(dtype=object),
                    "rule": frame["rule"].to_numpy(dtype=object) if "rule" in frame else "tolerance",
                    "currency": cur[pos],
                    "amount": [money.format_amount(int(v), c) for v, c in
                               zip(frame["amount_minor"], cur[pos], strict=True)],
                    "note": frame["reason"].to_numpy(dtype=object) if "reason" in frame else "",
                    "_rank": pos}))
        lost = r[(r["status"] == "unmatched") | (r["unapplied_minor"] > 0)]
        if len(lost):
            rows.append(pd.DataFrame({
                "receipt_id": lost["receipt_id"].to_numpy(dtype=object),
                "received_on": lost["received_on"].dt.date.to_numpy(),
                "payer": lost["payer"].to_numpy(dtype=object),
                "client_id": lost["client_id"].to_numpy(dtype=object),
                "action": np.where(lost["status"] == "unmatched", "unmatched", "unapplied"),
                "invoice": None, "rule": lost["matched_by"].to_numpy(dtype=object),
                "currency": lost["currency"].to_numpy(dtype=object),
                "amount": [money.format_amount(int(v), c) for v, c in
                           zip(lost["unapplied_minor"], lost["currency"], strict=True)],
                "note": lost["unmatched_reason"].fillna("credit on account").to_numpy(dtype=object),
                "_rank": lost.index.to_numpy()}))
        if not rows:
            return pd.DataFrame(columns=["receipt_id", "received_on", "payer", "client_id", "action",
                                         "invoice", "rule", "currency", "amount", "note"])
        out = pd.concat(rows, ignore_index=True).sort_values("_rank", kind="stable")
        return out.drop(columns="_rank").reset_index(drop=True)


def post_receipts(ledger, path: str | Path, profile: str | Path | ReceiptProfile = "canonical",
                  *, dry_run: bool = False, sheet: str | None = None, actor: str | None = None,
                  progress: Progress | None = None) -> PostResult:
    """Read, check, match and post a receipt file, all in one transaction (or a dry run).

    Raises InputError (nothing posted) for a file with bad cells, or whose receipts were posted
    before with different content. Receipts already in the ledger are counted as duplicates.
    """
    from billxl.store.ledger import current_actor

    report = progress or (lambda stage, done, total: None)
    prof = profile if isinstance(profile, ReceiptProfile) else load_receipt_profile(profile)
    who = actor or current_actor()
    name = Path(path).name
    report(f"Reading {name}"[:34], 0, 1)
    checked = read_receipts(path, prof, reference=Reference.from_ledger(ledger), sheet=sheet)
    frame, prof = checked.frame, checked.profile  # a bank file brings its own
    report(f"Reading {name}"[:34], 1, 1)

    opener = ledger.engine.connect() if dry_run else ledger.transaction()
    with opener as conn:
        if dry_run:
            conn.begin()
        else:
            lock_cash(conn)
        report("Comparing with the ledger", 0, 1)
        stored = cash.stored_receipt_keys(ledger, conn, prof.source, frame["source_key"])
        seen = frame[["source_key", "row_hash", "row"]].merge(
            stored.rename(columns={"row_hash": "stored_hash"}), on="source_key")
        changed = seen[seen["row_hash"] != seen["stored_hash"]]
        if len(changed):
            column = prof.columns.receipt_id or prof.columns.date
            raise intake.refusal(checked.raw, [
                checked.raw.problem(int(row), column, key,
                                    "this receipt was posted before with different details; "
                                    "correct it by reversing the posted one first")
                for row, key in zip(changed["row"], changed["source_key"], strict=True)])
        new = frame[~frame["source_key"].isin(stored["source_key"])].reset_index(drop=True)
        report("Comparing with the ledger", 1, 1)

        report("Matching receipts", 0, 1)
        matching = match_receipts(new, invoice_balances(ledger, conn), cash_terms(ledger, conn))
        report("Matching receipts", 1, 1)
        result = PostResult(file=str(path), profile=prof.name, source=prof.source,
                            dry_run=dry_run, batch_id=None, rows_read=len(frame),
                            duplicates=len(frame) - len(new), skipped=checked.skipped,
                            matching=matching, bank=checked.bank,
                            skipped_rows=checked.skipped_rows, hidden=checked.raw.hidden)
        if dry_run or new.empty:
            if dry_run:
                conn.rollback()
            return result
        result.batch_id = _write(ledger, conn, checked, matching, who, report)
    return result


def _write(ledger, conn: Any, checked: CheckedReceipts, matching: Matching,
           actor: str, report: Progress) -> int:
    """Receipts, then their allocations and write-offs, then one audit row: one transaction."""
    offs = matching.write_offs
    if len(offs):
        ids = matching.receipts["receipt_id"].to_numpy(dtype=object)[offs["receipt"].to_numpy()]
        offs = offs.assign(reason=[f"{why} (receipt {i})"
                                   for why, i in zip(offs["reason"], ids, strict=True)])
    return cash.write_receipt_batch(
        ledger, conn, matching.receipts, matching.allocations, offs,
        file_name=Path(checked.raw.file).name, file_sha256=checked.raw.sha256,
        profile=checked.profile.name, source=checked.profile.source, actor=actor, report=report)


# =================================================================================== corrections
def _receipt(conn: Any, receipt_id: str, source: str | None) -> dict:
    """The receipt with this id (in ``source``, when ids repeat across sources)."""
    rows = cash.receipts_with_id(conn, receipt_id, source)
    if not rows:
        raise LedgerError(f"There is no receipt {receipt_id} in the ledger"
                          + (f" from source {source}." if source else "."))
    if len(rows) > 1:
        raise LedgerError(f"Receipt id {receipt_id} was posted from more than one source "
                          f"({', '.join(r['source'] for r in rows)}); say which with --source.")
    return rows[0]


def exact_amount(value: Any, currency: str, what: str) -> int:
    """``value`` (an amount of cash) in minor units: exact in ``currency`` and more than 0."""
    try:
        minor = money.to_minor(value, currency)
    except (ValueError, TypeError) as exc:
        raise LedgerError(f"{what}: {exc}") from None
    if money.from_minor(minor, currency) != money.D(value):
        raise LedgerError(f"{what} {value} has more decimals than {currency} has.")
    if minor <= 0:
        raise LedgerError(f"{what} must be more than 0.")
    return minor


def operation_date(value: date | None, not_before: date | None, what: str) -> date:
    """The date of a cash or trust operation: ``value``, else today; never before ``not_before``."""
    day = value or date.today()
    if not_before is not None and day < not_before:
        raise LedgerError(f"{what} ({day}) cannot be before {not_before}.")
    return day


def reverse_receipt(ledger, receipt_id: str, *, reason: str, on: date | None = None,
                    source: str | None = None, actor: str | None = None) -> dict:
    """A returned (NSF, recalled) receipt: undo every allocation and write-off it made.

    Adds opposite rows to the allocations and write-offs (the history stays) and marks the
    receipt reversed; every invoice it paid is owed again. A receipt whose cash was partly
    refunded cannot be reversed (the refund went out: record its return first).
    """
    from billxl.store.ledger import current_actor

    if not (reason and reason.strip()):
        raise LedgerError("A reversal needs a reason (returned, NSF, recalled ...).")
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        lock_cash(conn)
        rec = _receipt(conn, receipt_id, source)
        if rec["status"] == "reversed":
            raise LedgerError(f"Receipt {receipt_id} was reversed already on {rec['reversed_on']}.")
        on = operation_date(on, rec["received_on"], "The reversal date")
        refunded = cash.refunded_minor(conn, rec["receipt_pk"])
        if refunded:
            raise LedgerError(f"{money.format_amount(refunded, rec['currency'])} of receipt "
                              f"{receipt_id} was refunded; it cannot be reversed.")
        net = cash.receipt_allocations(conn, rec["receipt_pk"])
        undo = [{"receipt_pk": rec["receipt_pk"], "invoice_pk": pk, "applied_on": on,
                 "kind": "reverse", "rule": "reversal", "amount_minor": -int(a),
                 "expenses_minor": -int(e), "created_at": datetime.now(UTC), "created_by": actor}
                for pk, a, e in net if a]
        cash.insert_allocations(conn, undo)
        written = cash.receipt_write_offs(conn, rec["receipt_pk"])
        restore = [{"invoice_pk": pk, "receipt_pk": rec["receipt_pk"], "written_on": on,
                    "kind": "reverse", "amount_minor": -int(a),
                    "reason": f"receipt {receipt_id} reversed: {reason}",
                    "created_at": datetime.now(UTC), "created_by": actor} for pk, a in written if a]
        cash.insert_write_offs(conn, restore)
        after = {"status": "reversed", "unapplied_minor": 0, "reversed_on": on,
                 "reversal_reason": reason.strip()[:200]}
        cash.update_receipt(
            ledger, conn, rec["receipt_pk"], after, action="reverse",
            before={k: rec[k] for k in ("receipt_id", "status", "unapplied_minor")},
            after={"receipt_id": receipt_id, **after,
                   "allocations_reversed": sum(-u["amount_minor"] for u in undo),
                   "write_offs_reversed": sum(-w["amount_minor"] for w in restore)},
            actor=actor)
    return {"receipt_id": receipt_id, "currency": rec["currency"], "reversed_on": on,
            "invoices": len(undo), "allocations_reversed_minor": sum(-u["amount_minor"] for u in undo),
            "write_offs_reversed_minor": sum(-w["amount_minor"] for w in restore)}


def apply_receipt(ledger, receipt_id: str, invoices: Sequence[str] = (), *,
                  client: str | None = None, amount: Any = None, on: date | None = None,
                  source: str | None = None, actor: str | None = None) -> pd.DataFrame:
    """Apply a receipt's unapplied cash by hand: to the invoices named, oldest first.

    This is how an unmatched receipt is resolved: name its client (and the invoices it pays,
    if any; without invoices it becomes a credit on the client's account). Returns the
    allocations made.
    """
    from billxl.store.ledger import current_actor

    actor = actor or current_actor()
    with ledger.transaction() as conn:
        lock_cash(conn)
        rec = _receipt(conn, receipt_id, source)
        if rec["status"] == "reversed":
            raise LedgerError(f"Receipt {receipt_id} was reversed; nothing of it can be applied.")
        cur = rec["currency"]
        available = int(rec["unapplied_minor"])
        want = available if amount is None else exact_amount(amount, cur, "The amount to apply")
        if want > available:
            raise LedgerError(f"Receipt {receipt_id} has {money.format_amount(available, cur)} "
                              f"{cur} unapplied, less than {money.format_amount(want, cur)}.")
        owner = client or rec["client_id"]
        balances = invoice_balances(ledger, conn)
        chosen = balances[balances["number"].isin(list(invoices))]
        missing = sorted(set(invoices) - set(chosen["number"]))
        if missing:
            raise LedgerError(f"There is no invoice {', '.join(missing)} in the ledger.")
        owners = set(chosen["client_id"])
        if owner is None and len(owners) == 1:
            owner = owners.pop()
        if owner is None:
            raise LedgerError(f"Say whose receipt {receipt_id} is (--client).")
        if rec["client_id"] and owner != rec["client_id"]:
            raise LedgerError(f"Receipt {receipt_id} is client {rec['client_id']}'s, not {owner}'s.")
        if cash.client_currency(conn, owner) is None:
            raise LedgerError(f"There is no client {owner} in the ledger.")
        others = chosen[chosen["client_id"] != owner]
        if len(others):
            raise LedgerError(f"Invoice {', '.join(others['number'])} is not client {owner}'s.")
        wrong = chosen[chosen["currency"] != cur]
        if len(wrong):
            raise LedgerError(f"Invoice {', '.join(wrong['number'])} is in "
                              f"{', '.join(sorted(set(wrong['currency'])))}; receipt "
                              f"{receipt_id} is in {cur}.")
        on = operation_date(on, rec["received_on"], "The date applied")
        book = _Book(chosen.reset_index(drop=True))
        first = _terms_for(pd.Series([owner]), cash_terms(ledger, conn))["expenses_first"].iloc[0]
        items = book.items(np.zeros(len(chosen), np.int64), np.arange(len(chosen)),
                           np.full(len(chosen), bool(first)))
        ci, ii, paid = _waterfall(np.zeros(1, np.int64), np.array([want]),
                                  items["group"].to_numpy(), items["cap"].to_numpy())
        made = _allocation_rows(np.zeros(len(ci), np.int64), items, ii, paid, "manual")
        made = made.groupby("invoice", as_index=False)[["amount_minor", "expenses_minor"]].sum()
        made = made[made["amount_minor"] > 0]
        if invoices and made.empty:
            raise LedgerError(f"Invoice {', '.join(invoices)} has nothing left to pay.")
        made["invoice_pk"] = chosen["invoice_pk"].to_numpy()[made["invoice"].to_numpy()]
        made["number"] = chosen["number"].to_numpy()[made["invoice"].to_numpy()]
        cash.insert_allocations(conn, [
            {"receipt_pk": rec["receipt_pk"], "invoice_pk": int(pk), "applied_on": on,
             "kind": "apply", "rule": "manual", "amount_minor": int(a),
             "expenses_minor": int(e), "created_at": datetime.now(UTC), "created_by": actor}
            for pk, a, e in zip(made["invoice_pk"], made["amount_minor"],
                                made["expenses_minor"], strict=True)])
        after = {"client_id": owner, "status": "posted",
                 "unapplied_minor": available - int(made["amount_minor"].sum()),
                 "unmatched_reason": None,
                 "matched_by": rec["matched_by"] if rec["status"] == "posted" else "manual"}
        cash.update_receipt(
            ledger, conn, rec["receipt_pk"], after, action="apply",
            before={k: rec[k] for k in ("receipt_id", "client_id", "status", "unapplied_minor")},
            after={"receipt_id": receipt_id, **after, "invoices": made["number"].tolist()},
            actor=actor)
    return made.drop(columns=["invoice"]).assign(currency=cur)


def write_off(ledger, invoice_number: str, amount: Any = None, *, reason: str,
              on: date | None = None, actor: str | None = None) -> dict:
    """Write off (part of) an invoice's balance; the whole balance unless ``amount`` is given."""
    from billxl.store.ledger import current_actor

    if not (reason and reason.strip()):
        raise LedgerError("A write-off needs a reason.")
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        lock_cash(conn)
        found = invoice_balances(ledger, conn)
        found = found[found["number"] == invoice_number]
        if found.empty:
            raise LedgerError(f"There is no invoice {invoice_number} in the ledger.")
        inv = found.iloc[0]
        cur, balance = inv["currency"], int(inv["balance_minor"])
        minor = balance if amount is None else exact_amount(amount, cur, "The amount to write off")
        if minor <= 0 or minor > balance:
            raise LedgerError(f"Invoice {invoice_number} has {money.format_amount(balance, cur)} "
                              f"{cur} open; {money.format_amount(minor, cur)} cannot be written off.")
        on = operation_date(on, inv["invoice_date"].date(), "The write-off date")
        row = {"invoice_pk": int(inv["invoice_pk"]), "receipt_pk": None, "written_on": on,
               "kind": "write_off", "amount_minor": minor, "reason": reason.strip(),
               "created_at": datetime.now(UTC), "created_by": actor}
        cash.write_off_invoice(ledger, conn, row, invoice_number, {"balance_minor": balance},
                               {"balance_minor": balance - minor, "written_off_minor": minor,
                                "reason": reason.strip(), "written_on": on.isoformat()}, actor)
    return {"invoice": invoice_number, "currency": cur, "amount_minor": minor,
            "balance_minor": balance - minor}


def refund_credit(ledger, amount: Any, *, reference: str, reason: str, client: str | None = None,
                  receipt_id: str | None = None, source: str | None = None,
                  currency: str | None = None, on: date | None = None,
                  actor: str | None = None) -> pd.DataFrame:
    """Pay back unapplied cash: of one receipt, or of a client's credit (oldest receipts first).

    Returns one row per receipt drawn on. Refunds more than the credit are refused.
    """
    from billxl.store.ledger import current_actor

    if not (reference and reference.strip()) or not (reason and reason.strip()):
        raise LedgerError("A refund needs a reference (the payment out) and a reason.")
    if (client is None) == (receipt_id is None):
        raise LedgerError("Refund either a client's credit (--client) or one receipt (--receipt).")
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        lock_cash(conn)
        if receipt_id is not None:
            one = _receipt(conn, receipt_id, source)
            if one["status"] == "reversed":
                raise LedgerError(f"Receipt {receipt_id} was reversed; there is nothing to refund.")
            pool = pd.DataFrame([one])
        else:
            cur_of = cash.client_currency(conn, client)
            if cur_of is None:
                raise LedgerError(f"There is no client {client} in the ledger.")
            pool = cash.client_credit_receipts(ledger, conn, client, currency or cur_of)
        cur = pool["currency"].iloc[0] if receipt_id is not None else (currency or cur_of)
        if currency and currency != cur:
            raise LedgerError(f"Receipt {receipt_id} is in {cur}, not {currency}.")
        minor = exact_amount(amount, cur, "The refund")
        available = int(pool["unapplied_minor"].sum()) if len(pool) else 0
        if minor > available:
            whose = f"receipt {receipt_id}" if receipt_id else f"client {client}"
            raise LedgerError(f"{whose} has {money.format_amount(available, cur)} {cur} of credit; "
                              f"a refund of {money.format_amount(minor, cur)} is more than that.")
        on = operation_date(on, None, "The refund date")
        ci, ii, drawn = _waterfall(np.zeros(1, np.int64), np.array([minor]),
                                   np.zeros(len(pool), np.int64),
                                   pool["unapplied_minor"].to_numpy(np.int64))
        taken = pool.iloc[ii].assign(drawn=drawn)
        now = datetime.now(UTC)
        cash.write_refunds(
            ledger, conn,
            [{"receipt_pk": int(pk), "client_id": owner if isinstance(owner, str) else None,
              "amount_minor": int(d), "currency": cur, "refunded_on": on,
              "reference": reference.strip()[:100], "reason": reason.strip(),
              "created_at": now, "created_by": actor}
             for pk, owner, d in zip(taken["receipt_pk"], taken["client_id"], taken["drawn"],
                                     strict=True)],
            list(zip(taken["receipt_pk"], taken["drawn"], strict=True)),
            key=reference.strip()[:200], before={"credit_minor": available},
            after={"credit_minor": available - minor, "refunded_minor": minor, "currency": cur,
                   "receipts": taken["receipt_id"].tolist(), "reason": reason.strip()},
            actor=actor)
    return pd.DataFrame({"receipt_id": taken["receipt_id"].to_numpy(), "currency": cur,
                         "amount_minor": taken["drawn"].to_numpy(np.int64)})


# =================================================================================== reading back
def receipts(ledger, *, status: str | None = None, client: str | None = None) -> pd.DataFrame:
    """Receipts in the ledger (optionally of one status or client), oldest first."""
    return cash.read_receipt_rows(ledger, status=status, client=client)


def unapplied_cash(ledger, *, client: str | None = None,
                   unmatched_only: bool = False) -> pd.DataFrame:
    """Receipts with cash not applied: unmatched ones, and (unless told) credits on account.

    What is unapplied is :func:`billxl.figures.credit.unapplied` over the journals (the
    receipt's stored ``unapplied_minor`` is kept equal to it by every write).
    """
    rows = receipts(ledger, client=client)
    rows = rows[rows["status"] != "reversed"]
    if unmatched_only:
        rows = rows[rows["status"] == "unmatched"]
    with ledger.engine.connect() as conn:
        j = reads.cash_journals(conn)
    held = credit.unapplied(j.receipts, j.allocations, j.refunds).set_index("receipt_pk")
    rows = rows.assign(unapplied_minor=rows["receipt_pk"].map(held["unapplied_minor"])
                       .fillna(0).astype("int64"))
    return rows[rows["unapplied_minor"] > 0].reset_index(drop=True)


def demo_receipts(invoices: pd.DataFrame, month: str, *, seed: int = 2026,
                  clients: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """A realistic month of receipts against open invoices, for the demo. Pure.

    ``invoices``: :func:`invoice_balances`. About 55% of the open invoices are paid in full
    naming the invoice (some as ``Inv 123``), 15% in part, 5% overpaid, 10% by the client's
    account without a remittance (the exact balance), the rest stay unpaid; a few strangers
    pay too (unmatched) and one receipt is meant to come back unpaid. Returns the receipts
    (canonical columns, as a file would hold them) and the id of the one to reverse.
    """
    from billxl.periods import month_range

    start, end = month_range(month)
    rng = np.random.default_rng(seed)
    open_ = invoices[invoices["balance_minor"] > 0].reset_index(drop=True)
    n = len(open_)
    fate = rng.choice(["full", "part", "over", "account", "unpaid"], n,
                      p=[0.55, 0.15, 0.05, 0.10, 0.15])
    paying = fate != "unpaid"
    balance = open_["balance_minor"].to_numpy(dtype=np.int64)
    share = np.select([fate == "part", fate == "over"],
                      [rng.integers(20, 90, n), rng.integers(101, 120, n)], 100)
    amount = np.maximum(balance * share // 100, 1)
    loose = rng.random(n) < 0.25
    numbers = open_["number"].astype(str).to_numpy(dtype=object)
    remittance = np.where(fate == "account", "",
                          np.where(loose, ["Inv " + (s.lstrip("0") or "0") for s in numbers],
                                   ["Payment of invoice " + s for s in numbers]))
    # money arrives by today at the latest (a receipt cannot be dated in the future)
    days = max(1, (min(end, date.today()) - start).days + 1)
    received = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")
    paid = pd.DataFrame({
        "receipt_id": [f"DEMO-{month}-{i + 1:05d}" for i in range(n)],
        "date": received.strftime("%Y-%m-%d"),
        "client_id": open_["client_id"].to_numpy(dtype=object), "payer": "",
        "amount": [money.format_amount(int(a), c)
                   for a, c in zip(amount, open_["currency"], strict=True)],
        "currency": open_["currency"].to_numpy(dtype=object),
        "method": rng.choice(["wire", "ach", "check"], n), "reference": "",
        "remittance": remittance})[paying]
    strangers = max(1, n // 50)
    unknown = pd.DataFrame({
        "receipt_id": [f"DEMO-{month}-X{i + 1:03d}" for i in range(strangers)],
        "date": (pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, strangers), unit="D")
                 ).strftime("%Y-%m-%d"),
        "client_id": "", "payer": [f"Unknown Remitter {i + 1}" for i in range(strangers)],
        "amount": [f"{a}.00" for a in rng.integers(50, 5000, strangers)],
        "currency": (clients["currency"].iloc[0] if clients is not None and len(clients)
                     else (open_["currency"].iloc[0] if n else "USD")),
        "method": "wire", "reference": "", "remittance": "Payment"})
    frame = pd.concat([paid, unknown], ignore_index=True).sort_values(["date", "receipt_id"],
                                                                      ignore_index=True)
    full = paid[np.asarray(fate[paying] == "full")]
    bounced = str(full["receipt_id"].iloc[0]) if len(full) else str(frame["receipt_id"].iloc[0])
    return frame, bounced
