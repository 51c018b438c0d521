"""Which rate applies to an entry: effective-dated rate tables, and the order they win in.

Rate rows (the ``rates`` table) are of three kinds: ``standard`` (the firm's list, by
timekeeper or by classification), ``override`` (a rate agreed with a client or for a matter) and
``approved`` (the rate a client has approved — a cap its e-billing portal enforces). Each row is
effective from a date, optionally to a date, in one currency.

Precedence, most specific first — the same for agreed (override) and approved rates:

    1. matter + timekeeper   2. matter + classification
    3. client + timekeeper   4. client + classification

and for the standard rate: timekeeper, then classification. The **billing rate** of an entry is
the agreed rate if there is one, else the standard rate; the **standard rate** is kept beside it
so that worked value (hours x standard) and billed value can both be reported.

Two ways in, one answer: :func:`resolve_rates` works on a whole frame (vectorised as-of joins,
for the engine, ribbon commands and notebooks); :class:`RateBook` answers one question at a time
in microseconds (for a worksheet function called thousands of times). A test holds them equal.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from billxl.schema import as_dates

# (name, kind, scope column or None, who column)
_LEVELS = {
    "override": [("matter+timekeeper", "matter_id", "timekeeper_id"),
                 ("matter+class", "matter_id", "classification"),
                 ("client+timekeeper", "client_id", "timekeeper_id"),
                 ("client+class", "client_id", "classification")],
    "approved": [("matter+timekeeper", "matter_id", "timekeeper_id"),
                 ("matter+class", "matter_id", "classification"),
                 ("client+timekeeper", "client_id", "timekeeper_id"),
                 ("client+class", "client_id", "classification")],
    "standard": [("timekeeper", None, "timekeeper_id"), ("class", None, "classification")],
}
_ALL_SCOPES = ("matter_id", "client_id")
_ALL_WHO = ("timekeeper_id", "classification")


def _rows_for(rates: pd.DataFrame, kind: str, scope: str | None, who: str) -> pd.DataFrame:
    """The rate rows of one precedence level: exactly this scope and this 'who' filled in."""
    mask = (rates["kind"] == kind) & rates[who].notna()
    for other in _ALL_WHO:
        if other != who:
            mask &= rates[other].isna()
    for s in _ALL_SCOPES:
        mask &= rates[s].notna() if s == scope else rates[s].isna()
    return rates[mask]


def _asof(entries: pd.DataFrame, rows: pd.DataFrame, by: list[str]) -> pd.Series:
    """For each entry, the rate of the row in force on its work date (NaN if none)."""
    if rows.empty:
        return pd.Series(np.nan, index=entries.index)
    # (the entries come sorted by work date: a stable sort of sorted dates is one pass)
    left = entries[["work_date", *by]].dropna().sort_values("work_date", kind="stable")
    right = rows[[*by, "effective_from", "effective_to", "rate_minor"]].sort_values("effective_from")
    for col in by:  # merge_asof insists on identical key dtypes: integer codes, no missing
        left[col] = left[col].astype("int64")
        right[col] = right[col].astype("int64")
    left = left.reset_index(names="_i")
    m = pd.merge_asof(left, right, left_on="work_date", right_on="effective_from", by=by,
                      direction="backward", allow_exact_matches=True)
    in_force = m["effective_to"].isna() | (m["work_date"] <= m["effective_to"])
    return m.set_index("_i")["rate_minor"].where(in_force.to_numpy()).reindex(entries.index)


def _first_level(entries: pd.DataFrame, rates: pd.DataFrame, kind: str) -> tuple[pd.Series, pd.Series]:
    rate = pd.Series(np.nan, index=entries.index)
    source = pd.Series(pd.NA, index=entries.index, dtype="string")
    for name, scope, who in _LEVELS[kind]:
        by = [c for c in (scope, who, "currency") if c]
        pending = rate.isna().to_numpy()  # a level is looked up only where none above applied
        if not pending.any():
            break
        found = _asof(entries[pending], _rows_for(rates, kind, scope, who), by)
        take = found.notna()
        at = found.index[take.to_numpy()]
        rate.loc[at] = found[take]
        source.loc[at] = f"{kind}:{name}"
    return rate.astype("Int64"), source


def resolve_rates(entries: pd.DataFrame, rates: pd.DataFrame, timekeepers: pd.DataFrame,
                  matters: pd.DataFrame) -> pd.DataFrame:
    """Standard, agreed, approved and billing rate (minor units) for each entry.

    ``entries`` needs timekeeper_id, matter_id, work_date and currency. Returns a frame on the
    same index with ``standard_rate_minor``, ``agreed_rate_minor``, ``approved_rate_minor``,
    ``billing_rate_minor`` (agreed, else standard) and ``rate_source`` (which level won).
    """
    work = entries[["timekeeper_id", "matter_id", "work_date", "currency"]].copy()
    work["work_date"] = as_dates(work["work_date"])
    # by work date once, for every level's as-of join (the answer is put back in entry order)
    work = work.sort_values("work_date", kind="stable")
    work = work.join(timekeepers.set_index("timekeeper_id")["classification"], on="timekeeper_id")
    work = work.join(matters.set_index("matter_id")["client_id"], on="matter_id")
    table = rates.copy()
    table["effective_from"] = as_dates(table["effective_from"])
    table["effective_to"] = as_dates(table["effective_to"])
    for col in (*_ALL_SCOPES, *_ALL_WHO, "currency"):  # ids as integer codes shared by both
        both = pd.concat([work[col], table[col]], ignore_index=True).astype(object)
        codes = pd.Series(pd.factorize(both)[0], dtype="Int64")
        codes = codes.mask(codes < 0)  # a missing id stays missing (a level's "any")
        work[col] = codes.iloc[:len(work)].to_numpy()
        table[col] = codes.iloc[len(work):].to_numpy()

    standard, standard_src = _first_level(work, table, "standard")
    agreed, agreed_src = _first_level(work, table, "override")
    approved, _ = _first_level(work, table, "approved")
    billing = agreed.where(agreed.notna(), standard)
    return pd.DataFrame({
        "standard_rate_minor": standard,
        "agreed_rate_minor": agreed,
        "approved_rate_minor": approved,
        "billing_rate_minor": billing,
        "rate_source": agreed_src.where(agreed.notna(), standard_src),
    }, index=work.index).reindex(entries.index)


@dataclass(frozen=True, slots=True)
class _Period:
    start: date
    end: date | None
    rate_minor: int


class RateBook:
    """Single-entry rate look-ups for worksheet functions: built once, then microseconds each."""

    def __init__(self, rates: pd.DataFrame, timekeepers: pd.DataFrame, matters: pd.DataFrame):
        self._class = dict(zip(timekeepers["timekeeper_id"], timekeepers["classification"],
                               strict=True))
        self._client = dict(zip(matters["matter_id"], matters["client_id"], strict=True))
        self._index: dict[tuple, list[_Period]] = defaultdict(list)
        for kind, levels in _LEVELS.items():
            for name, scope, who in levels:
                rows = _rows_for(rates, kind, scope, who)
                for r in rows.to_dict("records"):
                    key = (kind, name, r[scope] if scope else None, r[who], r["currency"])
                    end = r["effective_to"]
                    self._index[key].append(_Period(
                        pd.Timestamp(r["effective_from"]).date(),
                        None if pd.isna(end) else pd.Timestamp(end).date(), int(r["rate_minor"])))
        self._starts = {}
        for key, periods in self._index.items():
            periods.sort(key=lambda p: p.start)
            self._starts[key] = [p.start for p in periods]

    def _in_force(self, key: tuple, on: date) -> int | None:
        starts = self._starts.get(key)
        if not starts:
            return None
        i = bisect.bisect_right(starts, on) - 1
        if i < 0:
            return None
        period = self._index[key][i]
        return period.rate_minor if period.end is None or on <= period.end else None

    def _first(self, kind: str, timekeeper_id: str, matter_id: str | None, currency: str,
               on: date) -> int | None:
        ids = {"timekeeper_id": timekeeper_id, "classification": self._class.get(timekeeper_id),
               "matter_id": matter_id, "client_id": self._client.get(matter_id)}
        for name, scope, who in _LEVELS[kind]:
            if scope and ids[scope] is None:
                continue
            found = self._in_force((kind, name, ids[scope] if scope else None, ids[who], currency),
                                   on)
            if found is not None:
                return found
        return None

    def standard(self, timekeeper_id: str, on: date, currency: str = "USD") -> int | None:
        return self._first("standard", timekeeper_id, None, currency, on)

    def approved(self, timekeeper_id: str, matter_id: str, on: date,
                 currency: str = "USD") -> int | None:
        return self._first("approved", timekeeper_id, matter_id, currency, on)

    def billing(self, timekeeper_id: str, matter_id: str, on: date,
                currency: str = "USD") -> int | None:
        """The rate to bill: agreed for the matter or client if any, else standard."""
        agreed = self._first("override", timekeeper_id, matter_id, currency, on)
        return agreed if agreed is not None else self.standard(timekeeper_id, on, currency)
