"""A firm's master data from its own files: timekeepers, clients, matters and rates.

Canonical columns (``billxl import timekeepers|clients|matters|rates FILE``; a profile renames
them, see :class:`MasterProfile`)::

    timekeepers  timekeeper_id, first_name, last_name, classification, office_id, user_name,
                 email, active_from, active_to
    clients      client_id, name, currency, address, payment_terms_days, tax_jurisdiction,
                 portal, guideline_set
    matters      matter_id, client_id, name, opened_on, closed_on, billing_partner_id,
                 arrangement, client_matter_ref, utbms_required
    rates        timekeeper_id, classification, client_id, matter_id, rate, currency,
                 effective_from, effective_to, approved

Each kind also takes a few optional columns (:data:`FIELDS` lists them all). Checking is pure:
:func:`check_master` turns a read table into rows of the ledger's table and every problem,
against what the ledger already holds (:class:`Known`); :func:`plan_changes` compares them
with the ledger's rows. Writing (all or nothing, audited, never deleting) is
:func:`billxl.store.masterdata.apply_master`.

A column the file does not have leaves the ledger's value alone; a blank cell in a column it has
clears an optional value. Rates have no id of their own: a rate row is known by what it prices
(its timekeeper or classification, client or matter, currency, kind) and the day it takes
effect, so a changed rate on the same day is an update and a new effective date a new row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, ValidationError

from billxl.cells import cell_text, format_words, parse_dates
from billxl.errors import InputError, Problem
from billxl.money import currency_codes, minor_digits

__all__ = ["KINDS", "FIELDS", "CLASSIFICATIONS", "ARRANGEMENTS", "MasterKind", "MasterProfile",
           "Known", "Checked", "Change", "Plan", "check_master", "check_record", "plan_changes",
           "load_master_profile", "key_of", "rate_kind"]

MasterKind = Literal["timekeepers", "clients", "matters", "rates"]
KINDS: tuple[MasterKind, ...] = ("timekeepers", "clients", "matters", "rates")
CLASSIFICATIONS = ("PARTNR", "OFCOUN", "ASSOC", "PARLGL", "LGLAST", "OTHER")
ARRANGEMENTS = ("hourly", "fixed", "capped", "retainer", "milestone", "contingency")
ROUNDINGS = ("half_up", "half_even", "half_down", "down", "up")
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class Field:
    """One column of a master-data file and the ledger column it fills."""

    name: str
    kind: Literal["text", "date", "int", "money", "bool", "choice", "currency", "email"]
    required: bool = False
    column: str | None = None  # the ledger column (default: the same name)
    size: int | None = None  # longest text the ledger holds
    choices: tuple[str, ...] = ()
    canonical: bool = True  # listed in the README's canonical columns

    @property
    def to(self) -> str:
        return self.column or self.name


def _t(name, size, required=False, column=None, canonical=True):
    return Field(name, "text", required, column, size, canonical=canonical)


FIELDS: dict[str, tuple[Field, ...]] = {
    "timekeepers": (
        _t("timekeeper_id", 20, True), _t("first_name", 100, True), _t("last_name", 100, True),
        Field("classification", "choice", True, choices=CLASSIFICATIONS),
        _t("office_id", 20), _t("user_name", 100), Field("email", "email", size=200),
        Field("active_from", "date", True), Field("active_to", "date"),
    ),
    "clients": (
        _t("client_id", 20, True), _t("name", 200, True), Field("currency", "currency", True),
        _t("address", 400, column="address_1"), Field("payment_terms_days", "int"),
        _t("tax_jurisdiction", 10), _t("portal", 40, column="ebilling_portal"),
        _t("guideline_set", 60),
        _t("billing_contact", 200, canonical=False), _t("city", 100, canonical=False),
        _t("region", 100, canonical=False), _t("postcode", 20, canonical=False),
        _t("country", 2, canonical=False), _t("tax_id", 40, canonical=False),
        _t("ledes_client_id", 40, canonical=False), _t("office_id", 20, canonical=False),
        Field("rounding", "choice", choices=ROUNDINGS, canonical=False),
        Field("closed_on", "date", canonical=False),
    ),
    "matters": (
        _t("matter_id", 30, True), _t("client_id", 20, True), _t("name", 200, True),
        Field("opened_on", "date", True), Field("closed_on", "date"),
        _t("billing_partner_id", 20, True),
        Field("arrangement", "choice", column="fee_arrangement", choices=ARRANGEMENTS),
        _t("client_matter_ref", 60, column="client_matter_id"),
        Field("utbms_required", "bool"),
        _t("practice_area", 40, canonical=False), _t("office_id", 20, canonical=False),
        _t("responsible_secretary", 100, canonical=False),
        Field("fixed_fee", "money", column="fixed_fee_minor", canonical=False),
    ),
    "rates": (
        _t("timekeeper_id", 20), Field("classification", "choice", choices=CLASSIFICATIONS),
        _t("client_id", 20), _t("matter_id", 30),
        Field("rate", "money", True, column="rate_minor"), Field("currency", "currency", True),
        Field("effective_from", "date", True), Field("effective_to", "date"),
        Field("approved", "bool"),
    ),
}

#: The natural key of each kind, as ledger columns.
KEYS: dict[str, tuple[str, ...]] = {
    "timekeepers": ("timekeeper_id",), "clients": ("client_id",), "matters": ("matter_id",),
    "rates": ("kind", "timekeeper_id", "classification", "client_id", "matter_id", "currency",
              "effective_from"),
}
#: Values a new row gets when the file leaves the column out.
DEFAULTS: dict[str, dict[str, Any]] = {
    "timekeepers": {}, "clients": {"payment_terms_days": 30},
    "matters": {"fee_arrangement": "hourly", "utbms_required": False}, "rates": {},
}
_LABEL = {"timekeepers": "timekeeper", "clients": "client", "matters": "matter", "rates": "rate"}


class MasterProfile(BaseModel):
    """How a firm's own file names the canonical columns (YAML): ``kind``, ``columns``
    (canonical name -> the file's header), ``date_formats``, ``sheet`` and ``header_row``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "canonical"
    kind: MasterKind | None = None
    columns: dict[str, str] = {}
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    sheet: str | None = None
    header_row: int = 1

    def header(self, name: str) -> str:
        return self.columns.get(name, name)


def load_master_profile(path: str | Path | None, kind: MasterKind) -> MasterProfile:
    """The canonical layout, or a profile file; refused when it names unknown columns."""
    if path is None:
        return MasterProfile(kind=kind)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"There is no profile file {p}.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        profile = MasterProfile(name=p.stem, **data)
    except (yaml.YAMLError, TypeError) as exc:
        raise InputError(f"The profile {p} cannot be read: {exc}") from None
    except ValidationError as exc:
        raise InputError(f"The profile {p} is not a valid master-data profile.", [
            Problem(file=str(p), row=None, column=".".join(map(str, e["loc"])), value=None,
                    reason=e["msg"]) for e in exc.errors()]) from None
    if profile.kind not in (None, kind):
        raise InputError(f"The profile {p} is for {profile.kind}, not {kind}.")
    known = {f.name for f in FIELDS[kind]}
    unknown = sorted(set(profile.columns) - known)
    if unknown:
        raise InputError(f"The profile {p} maps columns that {kind} do not have: "
                         f"{', '.join(unknown)}. The columns are: {', '.join(sorted(known))}.")
    return profile


@dataclass(frozen=True)
class Known:
    """What the ledger already holds that master data refers to (ids, by kind)."""

    timekeepers: Mapping[str, str] = field(default_factory=dict)  # id -> classification
    clients: Mapping[str, str] = field(default_factory=dict)  # id -> currency
    matters: Mapping[str, str] = field(default_factory=dict)  # id -> client id
    offices: frozenset[str] = frozenset()
    portals: frozenset[str] = frozenset()
    user_names: Mapping[str, str] = field(default_factory=dict)  # user name -> timekeeper id
    emails: Mapping[str, str] = field(default_factory=dict)  # e-mail (case-folded) -> id
    guidelines_dir: str | None = None  # the firm's folder of guideline files, if set
    guideline_sets: frozenset[str] = frozenset()  # the sets (file names) found in it


@dataclass
class Checked:
    kind: MasterKind
    rows: list[dict[str, Any]]  # ledger columns, only those the file has (plus the key)
    present: tuple[str, ...]  # ledger columns the file provides
    problems: list[Problem]
    source_rows: list[int]  # the row each record came from, as the user sees it


# ----------------------------------------------------------------------------- one value
class _Bad(ValueError):
    """A cell that cannot be taken; the message says why, in the user's words."""


def _value(f: Field, raw: Any, *, formats: tuple[str, ...], currency: str | None) -> Any:
    text = cell_text(raw).strip() if not isinstance(raw, date) else raw
    if text == "" or text is None:
        if f.required:
            raise _Bad(f"the {f.name.replace('_', ' ')} is missing")
        return None
    if f.kind == "text":
        if f.size and len(text) > f.size:
            raise _Bad(f"is longer than {f.size} characters")
        return text
    if f.kind == "choice":
        wanted = {c.casefold(): c for c in f.choices}
        if text.casefold() not in wanted:
            raise _Bad(f"is not one of {', '.join(f.choices)}")
        return wanted[text.casefold()]
    if f.kind == "currency":
        if text.upper() not in currency_codes():
            raise _Bad("is not an ISO 4217 currency code (such as USD, GBP, EUR)")
        return text.upper()
    if f.kind == "email":
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise _Bad(f"is not an e-mail address ({exc})") from None
    if f.kind == "bool":
        if text.casefold() in _YES:
            return True
        if text.casefold() in _NO:
            return False
        raise _Bad("is not yes or no")
    if f.kind == "int":
        if not re.fullmatch(r"\d{1,5}", text):
            raise _Bad("is not a whole number of days")
        return int(text)
    if f.kind == "date":
        if isinstance(raw, date):
            return raw if type(raw) is date else raw.date()
        days, bad, far, _ = parse_dates(np.array([raw], dtype=object), formats)
        if bad[0] or far[0]:
            shown = " or ".join(format_words(f) for f in formats)
            raise _Bad(f"is not a date (expected {shown})")
        return days[0].astype("datetime64[D]").item()
    if f.kind == "money":
        try:
            amount = Decimal(text.replace(",", "").lstrip("$€£").strip())
        except InvalidOperation:
            raise _Bad("is not an amount") from None
        if not amount.is_finite() or amount < 0:
            raise _Bad("is not an amount of zero or more")
        digits = minor_digits(currency or "USD")
        scaled = amount.scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise _Bad(f"has more than {digits} decimal places for {currency or 'USD'}")
        return int(scaled)
    raise AssertionError(f.kind)


# ----------------------------------------------------------------------------- records
def check_record(kind: MasterKind, record: Mapping[str, Any], known: Known, *,
                 formats: tuple[str, ...] = ("%Y-%m-%d",)) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """One record (canonical names -> cell values) as a ledger row, and its problems as
    ``(column, value, reason)``. Only the names present in ``record`` are filled."""
    fields = {f.name: f for f in FIELDS[kind]}
    row: dict[str, Any] = {}
    problems: list[tuple[str, str, str]] = []
    currency = cell_text(record.get("currency", "")).strip().upper() or None
    if kind == "matters":
        currency = known.clients.get(cell_text(record.get("client_id", "")).strip(), currency)
    for name, raw in record.items():
        f = fields[name]
        try:
            value = _value(f, raw, formats=formats, currency=currency)
        except _Bad as bad:
            problems.append((name, cell_text(raw), str(bad)))
            continue
        if name == "address":  # the first line, then the rest on the second
            first, _, rest = (value or "").replace("\r", "").partition("\n")
            row["address_1"] = first.strip() or None
            row["address_2"] = rest.replace("\n", ", ").strip() or None
            continue
        row[f.to] = value
    if kind == "rates" and not problems:
        row["kind"] = rate_kind(row)
        row.pop("approved", None)
    problems += _consistency(kind, row, record, known)
    return row, problems


def rate_kind(row: Mapping[str, Any]) -> str:
    """approved (a client's approved rate, a cap), override (agreed for a client or matter) or
    standard (the firm's list)."""
    if row.get("approved"):
        return "approved"
    return "override" if row.get("client_id") or row.get("matter_id") else "standard"


def _consistency(kind: str, row: dict, record: Mapping[str, Any], known: Known) -> list[tuple]:
    out: list[tuple[str, str, str]] = []

    def bad(name, reason):
        out.append((name, cell_text(record.get(name, "")), reason))

    def order(first: str, last: str, first_col: str, last_col: str):
        a, b = row.get(first_col), row.get(last_col)
        if a is not None and b is not None and b < a:
            bad(last, f"is before {first.replace('_', ' ')} ({a.isoformat()})")

    if kind == "timekeepers":
        order("active_from", "active_to", "active_from", "active_to")
        tk = row.get("timekeeper_id")
        for name, taken in (("user_name", known.user_names), ("email", known.emails)):
            value = row.get(name)
            other = taken.get(value.casefold() if name == "email" else value) if value else None
            if other and other != tk:
                bad(name, f"is already timekeeper {other}'s")
    elif kind == "clients":
        wanted = row.get("guideline_set")
        if wanted and known.guidelines_dir and wanted.removesuffix(".yaml") not in known.guideline_sets:
            bad("guideline_set", f"there is no guideline file {wanted.removesuffix('.yaml')}.yaml "
                                 f"in the firm's guideline folder {known.guidelines_dir}")
        portal = row.get("ebilling_portal")
        if portal and known.portals and portal not in known.portals:
            bad("portal", "is not a portal billxl knows (" + ", ".join(sorted(known.portals)) + ")")
    elif kind == "matters":
        order("opened_on", "closed_on", "opened_on", "closed_on")
        client = row.get("client_id")
        if client and client not in known.clients:
            bad("client_id", "no client with this id (import clients first)")
        partner = row.get("billing_partner_id")
        if partner:
            cls = known.timekeepers.get(partner)
            if cls is None:
                bad("billing_partner_id", "no timekeeper with this id (import timekeepers first)")
            elif cls != "PARTNR":
                bad("billing_partner_id", f"is not a partner (classification {cls})")
    elif kind == "rates":
        order("effective_from", "effective_to", "effective_from", "effective_to")
        if not row.get("timekeeper_id") and not row.get("classification"):
            bad("timekeeper_id", "a rate needs a timekeeper id or a classification")
        tk, client, matter = row.get("timekeeper_id"), row.get("client_id"), row.get("matter_id")
        if tk and tk not in known.timekeepers:
            bad("timekeeper_id", "no timekeeper with this id")
        if client and client not in known.clients:
            bad("client_id", "no client with this id")
        if matter and matter not in known.matters:
            bad("matter_id", "no matter with this id")
        elif matter and client and known.matters[matter] != client:
            bad("matter_id", f"belongs to client {known.matters[matter]}, not {client}")
        if row.get("kind") == "approved" and not (client or matter):
            bad("approved", "an approved rate is a client's: give the client or the matter")
        owner = client or known.matters.get(matter or "")
        cur = row.get("currency")
        if owner and cur and known.clients.get(owner, cur) != cur:
            bad("currency", f"client {owner} is billed in {known.clients[owner]}")
    return out


# ----------------------------------------------------------------------------- a file
def check_master(raw, kind: MasterKind, known: Known,
                 profile: MasterProfile | None = None) -> Checked:
    """Every row of a read table (:class:`billxl.intake.RawTable`) as ledger rows, and every
    problem: missing or repeated columns, bad cells, references to unknown records, a record
    given twice. Pure."""
    profile = profile or MasterProfile(kind=kind)
    problems = list(raw.problems)
    fields = FIELDS[kind]
    where: dict[str, int] = {}
    for f in fields:
        found = raw.find(profile.header(f.name))
        if len(found) > 1:
            problems.append(raw.problem(raw.header_row, profile.header(f.name), None,
                                        f"there are {len(found)} columns headed "
                                        f"{profile.header(f.name)!r}; keep one"))
        elif found:
            where[f.name] = found[0]
    missing = [f for f in fields if f.required and f.name not in where]
    if missing:
        shown = ", ".join(repr(c) for c in raw.columns if c) or "none"
        for f in missing:
            problems.append(raw.problem(raw.header_row, profile.header(f.name), None,
                                        f"the column {profile.header(f.name)!r} is missing "
                                        f"({kind} need it); the columns found are: {shown}"))
    if problems:
        return Checked(kind, [], (), problems, [])
    present = tuple(dict.fromkeys(
        c for name in where for c in (("address_1", "address_2") if name == "address"
                                       else (_field(kind, name).to,))))
    if kind == "rates":
        present = tuple(c for c in present if c != "approved") + ("kind",)
    rows, source_rows, seen = [], [], {}
    for i, row_no in enumerate(raw.rows.tolist()):
        record = {name: raw.cells[pos][i] for name, pos in where.items()}
        if all(cell_text(v).strip() == "" for v in record.values()):
            continue  # a blank row at the end of a sheet
        row, found = check_record(kind, record, known, formats=profile.date_formats)
        for name, value, reason in found:
            problems.append(raw.problem(int(row_no), profile.header(name), value or None, reason))
        if found:
            continue
        key = key_of(kind, row)
        if key in seen:
            first = FIELDS[kind][0].name  # the cell under the column named, as written
            problems.append(raw.problem(int(row_no), profile.header(first),
                                        cell_text(record.get(first, "")).strip() or None,
                                        f"the same {_LABEL[kind]} as row {seen[key]}"))
            continue
        seen[key] = int(row_no)
        rows.append(row)
        source_rows.append(int(row_no))
    problems += _unique_across(kind, rows, source_rows, raw, profile)
    return Checked(kind, rows, present, problems, source_rows)


def _field(kind: str, name: str) -> Field:
    return next(f for f in FIELDS[kind] if f.name == name)


def _unique_across(kind, rows, source_rows, raw, profile) -> list[Problem]:
    """A user name or e-mail given to two timekeepers in one file."""
    if kind != "timekeepers":
        return []
    out = []
    for name in ("user_name", "email"):
        first: dict[str, int] = {}
        for row, row_no in zip(rows, source_rows, strict=True):
            value = row.get(name)
            if not value:
                continue
            k = value.casefold()
            if k in first:
                out.append(raw.problem(row_no, profile.header(name), value,
                                       f"is also given on row {first[k]}; each timekeeper's "
                                       f"{name.replace('_', ' ')} must be their own"))
            else:
                first[k] = row_no
    return out


def key_of(kind: str, row: Mapping[str, Any]) -> tuple:
    return tuple(row.get(c) for c in KEYS[kind])


# ----------------------------------------------------------------------------- changes
@dataclass(frozen=True)
class Change:
    key: tuple
    before: dict[str, Any] | None  # None: a new record
    after: dict[str, Any]


@dataclass
class Plan:
    new: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    kept: int = 0  # in the ledger, not in the file: never deleted

    def summary(self, kind: str) -> str:
        label = _LABEL[kind] + "s" if kind != "rates" else "rates"
        parts = [f"{len(self.new)} new", f"{len(self.changed)} changed",
                 f"{self.unchanged} unchanged"]
        text = f"{label.capitalize()}: " + ", ".join(parts)
        if self.kept:
            text += f"; {self.kept} in the ledger but not in the file, kept"
        return text + "."


def plan_changes(kind: str, rows: Sequence[dict], present: Sequence[str],
                 existing: Mapping[tuple, dict]) -> Plan:
    """Which rows are new, which change which of the present columns, and how many are the
    same; ``existing`` is the ledger's rows by key. Pure."""
    plan = Plan()
    keys = set()
    for row in rows:
        key = key_of(kind, row)
        keys.add(key)
        old = existing.get(key)
        if old is None:
            plan.new.append(Change(key, None, {**DEFAULTS[kind], **row}))
            continue
        diff = {c: row.get(c) for c in present if _differs(old.get(c), row.get(c))}
        if diff:
            plan.changed.append(Change(key, {c: old.get(c) for c in diff}, diff))
        else:
            plan.unchanged += 1
    plan.kept = len(set(existing) - keys)
    return plan


def _differs(old: Any, new: Any) -> bool:
    if hasattr(old, "date") and not isinstance(old, date):
        old = old.date()
    if old is not None and not isinstance(old, (str, bool, int, date)) and pd.isna(old):
        old = None
    return old != new
