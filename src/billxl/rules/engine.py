"""The rule engine: entries in, findings out, nothing else.

A rule is a function registered under a stable id (``INCREMENT``, ``DUPLICATE`` ...) that looks
at a whole :class:`Batch` of entries at once and returns the rows it objects to, each with a
message a secretary understands. :func:`check_entries` and :func:`check_expenses` run every rule
of that kind and return a :class:`CheckResult`: a findings frame with :data:`FINDING_COLUMNS`
and a list of notes (rules skipped because the ledger context or the billing period is
missing, or turned off by the guidelines).

Guidelines are per client: each row follows its client's :class:`Guidelines` (or the default
ones), so one run can check every client's entries, each against its own rules. A guideline
can turn a rule off or change its severity; that is applied here, once, for every rule.

The engine does no I/O: guideline files and code sets are read by :mod:`billxl.rules.guidelines`
before a run; the ledger context arrives as frames. Rules never raise on a bad entry (a blank
hour, a missing date, a nonsense rate): such an entry gets findings or is passed over.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from billxl import money
from billxl.errors import InputError, Problem
from billxl.reference import Reference
from billxl.rules.guidelines import Guidelines, default_guidelines
from billxl.rules.registry import RULES

__all__ = [
    "FINDING_COLUMNS",
    "SEVERITIES",
    "RULES",
    "Rule",
    "Context",
    "CheckResult",
    "Batch",
    "Skip",
    "rule",
    "check_entries",
    "check_expenses",
]

FINDING_COLUMNS = ["rule", "severity", "entry_id", "field", "message", "suggestion"]
SEVERITIES = ("error", "warning", "info")
Kind = Literal["time", "expense"]

#: The ledger frames a rule may need; without them it is skipped with a note.
CONTEXT_FRAMES = ("timekeepers", "matters", "clients", "rates")

# Input columns. Required ones must be present (a frame without them is a broken input, not a
# bad entry); optional ones are filled with blanks when absent.
_TIME_REQUIRED = ("entry_id", "timekeeper_id", "matter_id", "work_date", "hours_milli", "narrative")
_EXPENSE_REQUIRED = ("entry_id", "matter_id", "work_date", "expense_code", "amount_minor")
_TEXT = ("entry_id", "timekeeper_id", "matter_id", "client_id", "currency", "narrative",
         "task_code", "activity_code", "expense_code", "receipt_ref")
_CODES = ("task_code", "activity_code", "expense_code")
_DATES = ("work_date", "entered_on")
#: ``day_other_milli`` (time, optional): the hours the timekeeper has that day outside these
#: entries (other matters' time, checked another time), which DAILY_MAX adds to the day
_INTS = ("hours_milli", "rate_minor", "amount_minor", "quantity_milli", "unit_cost_minor",
         "day_other_milli")


# =================================================================================== results
#: What the ledger knows (timekeepers, matters, clients, rates, the firm): the one Reference.
Context = Reference


@dataclass
class CheckResult:
    """The findings of one run (columns :data:`FINDING_COLUMNS`) and what was not checked."""

    findings: pd.DataFrame
    notes: list[str]
    rules_run: list[str]
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # time each rule took

    @property
    def has_errors(self) -> bool:
        return bool((self.findings["severity"] == "error").any())

    def counts(self) -> pd.DataFrame:
        """Findings by rule and severity (rules that ran and found nothing show 0)."""
        table = pd.crosstab(self.findings["rule"], self.findings["severity"])
        table = table.reindex(index=self.rules_run, columns=list(SEVERITIES), fill_value=0)
        return table.rename_axis(index="rule", columns=None)


@dataclass(frozen=True)
class Skip:
    """What a rule returns when it cannot run on this batch (said in the notes)."""

    reason: str


@dataclass(frozen=True)
class Rule:
    """A registered rule. ``needs`` names the context frames, ``period`` or input columns it
    cannot run without; ``kinds`` says whether it checks time entries, expenses or both."""

    id: str
    check: Callable[[Batch], pd.DataFrame | Skip | None]
    severity: str
    description: str
    needs: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ("time",)
    unknown: str = ""  # what is unknown when it is skipped, e.g. "matter dates unknown"

    @property
    def needs_context(self) -> bool:
        return any(n in CONTEXT_FRAMES for n in self.needs)


def rule(rule_id: str, *, severity: str, description: str, needs: Sequence[str] = (),
         kinds: Sequence[Kind] = ("time",), unknown: str = "") -> Callable:
    """Register a rule function under ``rule_id`` (a decorator)."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")

    def register(check: Callable) -> Callable:
        RULES[rule_id] = Rule(rule_id, check, severity, description, tuple(needs), tuple(kinds),
                              unknown)
        return check

    return register


# =================================================================================== batch
class Batch:
    """A frame of entries as every rule sees it: clean types, positions 0..n-1, each row's
    guidelines, the context and the billing period, and derived columns computed once."""

    def __init__(self, kind: Kind, frame: pd.DataFrame, guides: list[Guidelines],
                 guide_of_row: np.ndarray, context: Context | None,
                 period: tuple[pd.Timestamp, pd.Timestamp] | None):
        self.kind = kind
        self.frame = frame
        self.guides = guides
        self.guide_of_row = guide_of_row
        self.context = context
        self.period = period
        self.notes: list[str] = []

    def __len__(self) -> int:
        return len(self.frame)

    # ---- what is there
    def has(self, need: str) -> bool:
        if need in CONTEXT_FRAMES:
            return self.context is not None and getattr(self.context, need) is not None
        if need == "period":
            return self.period is not None
        return need in self.frame and bool(self.frame[need].notna().any())

    def note(self, text: str) -> None:
        self.notes.append(text)

    # ---- guidelines, row by row
    def setting(self, name: str) -> np.ndarray:
        """A guideline setting for every row (its client's value)."""
        values = np.asarray([getattr(g, name) for g in self.guides])
        return values[self.guide_of_row]

    def by_guide(self) -> Iterator[tuple[Guidelines, np.ndarray]]:
        """Each distinct guideline set and the mask of the rows that follow it."""
        for i, g in enumerate(self.guides):
            mask = self.guide_of_row == i
            if mask.any():
                yield g, mask

    # ---- derived columns, computed once and shared by the rules
    @functools.cached_property
    def hours(self) -> np.ndarray:
        """Hours in thousandths, 0 where unknown (see :attr:`hours_known`)."""
        return self.frame["hours_milli"].fillna(0).to_numpy(dtype=np.int64)

    @functools.cached_property
    def hours_known(self) -> np.ndarray:
        return self.frame["hours_milli"].notna().to_numpy()

    @functools.cached_property
    def text(self) -> pd.Series:
        """The narrative as written ('' when blank)."""
        return self.frame["narrative"].fillna("").astype(object)

    @functools.cached_property
    def _distinct(self) -> tuple[np.ndarray, pd.Series]:
        codes, uniques = pd.factorize(self.text.to_numpy())
        return codes, pd.Series(uniques, dtype=object)

    @property
    def distinct_text(self) -> pd.Series:
        """Each distinct narrative once (narrative rules work on these, then :meth:`per_row`)."""
        return self._distinct[1]

    @functools.cached_property
    def distinct_lower(self) -> pd.Series:
        """:attr:`distinct_text` lower-cased (shared by the narrative rules)."""
        return self.distinct_text.str.lower()

    def per_row(self, distinct_values) -> np.ndarray:
        """Values computed on :attr:`distinct_text`, spread back to every row."""
        return np.asarray(distinct_values)[self._distinct[0]]

    @functools.cached_property
    def day(self) -> pd.Series:
        return self.frame["work_date"].dt.normalize()

    @functools.cached_property
    def rounding(self) -> pd.Series:
        """Each row's rounding rule: its guideline's, else the reference's rule for its client
        (the client's, else the firm's), else the library default when there is no reference
        (as a categorical: a handful of values over many rows)."""
        if self.context is None:
            rule_of = pd.Series(money.DEFAULT_ROUNDING.value, index=self.frame.index, dtype=object)
        else:
            rule_of = self.context.roundings(self.frame["client_id"].astype(object))
        for g, rows in self.by_guide():
            if g.rounding is not None:
                rule_of[rows] = g.rounding.value
        return rule_of.astype("category")

    @functools.cached_property
    def rates(self) -> pd.DataFrame:
        """Standard, agreed, approved and billing rates of each row (see billxl.rates)."""
        from billxl.rates import resolve_rates

        ctx = self.context
        assert ctx is not None and ctx.rates is not None
        entries = self.frame[["timekeeper_id", "matter_id", "work_date", "currency"]]
        return resolve_rates(entries, ctx.rates, ctx.timekeepers, ctx.matters)


def lookup(keys: pd.Series, table: pd.DataFrame, key: str, column: str) -> pd.Series:
    """``table[column]`` for each of ``keys`` (matched on ``table[key]``; NA where absent)."""
    values = table.drop_duplicates(key).set_index(key)[column]
    found_values = values.reindex(keys.astype(object).where(keys.notna(), None).to_numpy())
    return pd.Series(found_values.to_numpy(), index=keys.index)


def group_codes(*columns: pd.Series) -> np.ndarray:
    """Dense integer codes of the row groups formed by ``columns`` (blanks form a group too)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(col, use_na_sentinel=False)
        combined = combined * (len(uniques) + 1) + codes
        combined, _ = pd.factorize(combined)  # keep the numbers small
    return combined.astype(np.int64)


def group_sum(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the sum of ``values`` over its group (exact int64, no float)."""
    if len(codes) == 0:
        return values.astype(np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sums = np.add.reduceat(values[order].astype(np.int64), starts)
    per_group = np.empty(codes.max() + 1, dtype=np.int64)
    per_group[sorted_codes[starts]] = sums
    return per_group[codes]


def found(where: np.ndarray | pd.Series, message, *, field: str = "", suggestion="",
          severity=None) -> pd.DataFrame:
    """Findings on the rows ``where`` (a boolean mask over the batch, or positions).

    ``message``, ``suggestion`` and ``severity`` are one value for all, or Series indexed by
    position (as a rule gets them by building text on ``frame[mask]``).
    """
    where = np.asarray(where)
    pos = np.flatnonzero(where) if where.dtype == bool else where.astype(np.int64)

    def column(value):
        if isinstance(value, pd.Series):
            return value.reindex(pos).to_numpy(dtype=object)
        return np.full(len(pos), value, dtype=object)

    return pd.DataFrame({"pos": pos, "field": field, "message": column(message),
                         "suggestion": column(suggestion), "severity": column(severity)})


# =================================================================================== words
def _format_uniques(values: pd.Series, fmt: Callable) -> pd.Series:
    """Format a column by formatting each distinct value once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    shown = np.asarray([fmt(u) for u in uniques], dtype=object)
    return pd.Series(shown[codes] if len(codes) else [], index=values.index, dtype=object)


def hours_text(milli: pd.Series) -> pd.Series:
    """1250 -> '1.25', 2000 -> '2', 100 -> '0.1'."""
    return _format_uniques(milli, lambda m: "?" if pd.isna(m) else
                           f"{money.milli_to_qty(int(m)).normalize():f}")


def money_text(minor: pd.Series, currency: pd.Series) -> pd.Series:
    """Minor units with the currency's digits: 43750 USD -> '437.50'."""
    pairs = pd.Series(list(zip(minor.to_numpy(), currency.fillna("USD").to_numpy(), strict=True)),
                      index=minor.index, dtype=object)
    return _format_uniques(pairs, lambda p: "?" if pd.isna(p[0]) else
                           f"{money.format_amount(int(p[0]), str(p[1]))}")


def date_text(dates: pd.Series) -> pd.Series:
    return _format_uniques(dates, lambda d: "?" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d"))


def text_of(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "?").astype(str)


# =================================================================================== running
def check_entries(entries: pd.DataFrame, *, guidelines: Guidelines | None = None,
                  guidelines_by_client: Mapping[str, Guidelines] | None = None,
                  context: Context | None = None,
                  period: tuple[date, date] | None = None) -> CheckResult:
    """Run every time-entry rule over ``entries`` (columns as ``schema.TIME_FRAME``).

    ``guidelines`` applies to clients not in ``guidelines_by_client`` (default: the firm
    defaults). ``context`` is the ledger's reference frames; rules that need what it lacks
    are skipped with a note. ``period`` is the billing period (first and last day).
    """
    return _run("time", entries, guidelines, guidelines_by_client, context, period)


def check_expenses(expenses: pd.DataFrame, *, guidelines: Guidelines | None = None,
                   guidelines_by_client: Mapping[str, Guidelines] | None = None,
                   context: Context | None = None,
                   period: tuple[date, date] | None = None) -> CheckResult:
    """Run every expense rule over ``expenses`` (columns as ``schema.EXPENSE_FRAME``)."""
    return _run("expense", expenses, guidelines, guidelines_by_client, context, period)


def _run(kind: Kind, entries: pd.DataFrame, guidelines, guidelines_by_client, context,
         period) -> CheckResult:
    frame = _prepared(kind, entries, context)
    guides, guide_of_row = _guides_of_rows(frame, guidelines, guidelines_by_client)
    batch = Batch(kind, frame, guides, guide_of_row, context, _period(period))
    parts: list[pd.DataFrame] = []
    notes: list[str] = []
    ran: list[str] = []
    seconds: dict[str, float] = {}
    for order, r in enumerate(RULES.values()):
        if kind not in r.kinds:
            continue
        enabled = np.asarray([r.id not in g.disabled_rules for g in guides])
        if not enabled.any():
            notes.append(f"{r.id} not run: turned off by the guidelines")
            continue
        missing = [need for need in r.needs if not batch.has(need)]
        if missing:
            notes.append(_skip_note(r, missing[0], context))
            continue
        batch.notes = []
        started = time.perf_counter()
        out = r.check(batch)
        seconds[r.id] = time.perf_counter() - started
        notes += [f"{r.id}: {text}" for text in batch.notes]
        if isinstance(out, Skip):
            notes.append(f"{r.id} skipped: {out.reason}")
            continue
        ran.append(r.id)
        if out is None or out.empty:
            continue
        out = out[enabled[guide_of_row[out["pos"].to_numpy()]]]
        by_guide = np.asarray([g.severity.get(r.id, r.severity) for g in guides], dtype=object)
        default = by_guide[guide_of_row[out["pos"].to_numpy()]]
        given = out["severity"].to_numpy(dtype=object)
        parts.append(out.assign(rule=r.id, order=order,
                                severity=np.where(pd.isna(given), default, given)))
    return CheckResult(_findings(frame, parts), notes, ran, seconds)


def _findings(frame: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in FINDING_COLUMNS})
    all_found = pd.concat(parts, ignore_index=True)
    all_found = all_found.sort_values(["pos", "order"], kind="stable")
    pos = all_found["pos"].to_numpy()
    out = pd.DataFrame({
        "rule": all_found["rule"].to_numpy(),
        "severity": all_found["severity"].to_numpy(),
        "entry_id": frame["entry_id"].to_numpy(dtype=object)[pos],
        "field": all_found["field"].to_numpy(),
        "message": all_found["message"].to_numpy(),
        "suggestion": all_found["suggestion"].fillna("").to_numpy(),
    })
    return out.astype("string").reset_index(drop=True)


_NEED_WORDS = {
    "period": "no billing period given",
    "entered_on": "the entries carry no entry dates (entered_on)",
    "rate_minor": "the entries carry no rates",
    "amount_minor": "the entries carry no amounts",
    "receipt_ref": "the expenses carry no receipt column",
}


def _skip_note(r: Rule, need: str, context: Context | None) -> str:
    if need in CONTEXT_FRAMES:
        why = "no ledger" if context is None else f"no {need} in the ledger context"
    else:
        why = _NEED_WORDS.get(need, f"no {need} column")
    return f"{r.id} skipped: {why}" + (f", {r.unknown}" if r.unknown else "")


def _period(period) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if period is None:
        return None
    start, end = (pd.Timestamp(p).normalize() for p in period)
    if end < start:
        raise ValueError(f"the billing period ends ({end:%Y-%m-%d}) before it starts "
                         f"({start:%Y-%m-%d})")
    return start, end


def _guides_of_rows(frame: pd.DataFrame, guidelines: Guidelines | None,
                    by_client: Mapping[str, Guidelines] | None) -> tuple[list[Guidelines], np.ndarray]:
    guides = [guidelines or default_guidelines()]
    index_of: dict[int, int] = {}
    client_guide: dict[str, int] = {}
    for client_id, g in (by_client or {}).items():
        if id(g) not in index_of:
            index_of[id(g)] = len(guides)
            guides.append(g)
        client_guide[client_id] = index_of[id(g)]
    rows = frame["client_id"].map(client_guide).fillna(0).to_numpy(dtype=np.int64)
    return guides, rows


# =================================================================================== input
def _prepared(kind: Kind, entries: pd.DataFrame, context: Context | None) -> pd.DataFrame:
    """The columns the rules read, in clean types, on positions 0..n-1."""
    required = _TIME_REQUIRED if kind == "time" else _EXPENSE_REQUIRED
    missing = [c for c in required if c not in entries.columns]
    if missing:
        what = "time entries" if kind == "time" else "expenses"
        raise InputError(f"The {what} to check lack column(s) {', '.join(missing)}.",
                         [Problem(file="(entries)", row=None, column=c, value=None,
                                  reason="required column is missing") for c in missing])
    frame = entries.reset_index(drop=True)
    n = len(frame)
    out: dict[str, pd.Series] = {}
    for name in _TEXT:
        col = frame[name] if name in frame else pd.Series(pd.NA, index=frame.index)
        if name in _CODES:
            col = _codes(col)
        elif col.dtype != "string":
            col = col.astype("string")
        out[name] = col
    for name in _DATES:
        col = frame[name] if name in frame else pd.Series(pd.NaT, index=frame.index)
        if not pd.api.types.is_datetime64_dtype(col) or col.dt.tz is not None:
            col = pd.to_datetime(col, errors="coerce")
            col = col.dt.tz_localize(None) if col.dt.tz is not None else col
        out[name] = col.astype("datetime64[ns]")
    for name in _INTS:
        col = frame[name] if name in frame else pd.Series(pd.NA, index=frame.index)
        out[name] = _ints(col)
    billable = frame["billable"] if "billable" in frame else pd.Series(True, index=frame.index)
    out["billable"] = billable.astype("boolean").fillna(True).astype(bool)
    prepared = pd.DataFrame(out, index=pd.RangeIndex(n))
    if context is not None and context.matters is not None:
        blank = prepared["client_id"].isna()
        if blank.any():
            prepared.loc[blank, "client_id"] = lookup(prepared.loc[blank, "matter_id"],
                                                      context.matters, "matter_id",
                                                      "client_id").astype("string")
    if prepared["currency"].isna().any():
        prepared["currency"] = prepared["currency"].fillna(_client_currency(prepared, context))
    # a few extra columns ride along for rules that can use them (e.g. timekeeper_class)
    for extra in ("timekeeper_class",):
        if extra in frame:
            prepared[extra] = frame[extra].astype("string")
    return prepared


def _codes(col: pd.Series) -> pd.Series:
    """UTBMS codes trimmed and upper-cased, blanks as NA (each distinct value cleaned once)."""
    codes, uniques = pd.factorize(col)
    cleaned = pd.Series(uniques, dtype=object).astype("string").str.strip().str.upper()
    cleaned = cleaned.mask(cleaned == "").to_numpy(dtype=object)
    values = np.where(codes >= 0, cleaned[np.maximum(codes, 0)] if len(cleaned) else None, None)
    return pd.Series(values, index=col.index, dtype="string")


def _client_currency(frame: pd.DataFrame, context: Context | None) -> pd.Series:
    fallback = pd.Series("USD", index=frame.index, dtype="string")
    clients = context.clients if context is not None else None
    if clients is None or "currency" not in clients:
        return fallback
    currency = lookup(frame["client_id"], clients, "client_id", "currency").astype("string")
    return currency.fillna(fallback)


def _ints(col: pd.Series) -> pd.Series:
    """Whole numbers as nullable Int64; anything else (text, fractions) becomes blank."""
    if pd.api.types.is_integer_dtype(col):
        return col.astype("Int64")
    numbers = pd.to_numeric(col, errors="coerce")
    if pd.api.types.is_integer_dtype(numbers):
        return numbers.astype("Int64")
    whole = numbers.where(numbers.notna() & (numbers == numbers.round()) & (numbers.abs() < 2**62))
    return whole.astype("Float64").astype("Int64")
