"""Where every pack's figures come from: the firm's frames for a month, computed once per
process, and the scopes (firm, billing partner, client, office) that filter them.

:func:`month_frames` reads the ledger through its read model (:class:`LedgerView`, which
reads each journal once) and the named reads of :mod:`billxl.store.packs`, and computes the
month's firm-wide figures with their one definition in :mod:`billxl.figures`: the stocks at
the month's end and at the previous month's end (invoice balances, aging items and credits,
WIP, trust), and the flows of the month, the previous month and the year to date (billed,
collected, written off, written down, worked, utilisation). The result is kept per (ledger,
month, change stamp): a warm kernel building forty partners' packs reads and computes once,
and each further pack only filters. A write to the ledger moves its change stamp
(:meth:`LedgerView.stamp`), so the next pack computes afresh.

A :class:`Scope` is a set of matters: the billing partner's matters, the client's, the office's
(a matter's office, else its client's), or all of them. Every figure of a pack is taken over its
scope's matters only, so a partner's pack holds nothing of another partner's matters, even for
a client they share. Credits held for a client that was never invoiced belong to no matter:
they are in the client's, its office's and the firm's packs, never in a partner's.

Also here: :func:`pack_scopes` (who gets a pack this month) and :func:`pack_digest` (a hash of
a pack's values: the batch's test that a pack's inputs have not changed).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from billxl.errors import BillxlError
from billxl.figures import aging, credit, performance, period, wip
from billxl.figures.dates import as_date
from billxl.packs.tables import Column, Pack, Table
from billxl.periods import month_range
from billxl.reference import Reference
from billxl.store import db
from billxl.store import packs as pack_reads
from billxl.store.view import LedgerView

#: Whose pack: the scopes a pack can be for.
SCOPES = ("firm", "partner", "client", "office")
#: What :func:`pack_scopes` lists.
SCOPE_LISTS = ("partner", "client", "office")
#: Findings still to be dealt with.
OPEN_STATUSES = ("open", "queried")
#: Submissions still to be dealt with.
PENDING = ("submitted", "appealed", "rejected")
#: How many months' frames a process keeps.
KEEP = 6

_KEYS = ["client_id", "matter_id", "office_id"]


# ====================================================================================== periods
@dataclass(frozen=True)
class Window:
    """A period, both ends inclusive."""

    start: date
    end: date


# ====================================================================================== the firm
class Stocks:
    """The firm's balances on one day: invoices with their balances, the aging items and the
    credits (described with client, matter, partner and office), billable WIP and trust."""

    def __init__(self, view: LedgerView, day: date, describe):
        self.day = day
        found = view.receivables(day)
        self.balances = found.balances
        self.items = describe(found.items)
        held = aging.credits(found.balances, found.unapplied)
        self.credits = describe(held) if len(held) else None
        self.cash_on_account = credit.credit_on_account(found.unapplied)
        rows = view.wip_rows(day)
        self.wip_rows = rows[rows["billable"]].reset_index(drop=True)
        self.trust = view.trust_balances(day)


class Flows:
    """What happened in one period, firm-wide, by client, matter, office and currency."""

    def __init__(self, frames: MonthFrames, window: Window):
        j, r = frames.journals, frames.reads
        s, e = window.start, window.end
        self.window = window
        self.billed = period.billed(j.invoices, s, e, _KEYS)
        self.collected = period.collected(j.allocations, j.invoices, s, e, _KEYS)
        self.written_off = period.written_off(j.write_offs, j.invoices, s, e, _KEYS)
        self.worked_billed = period.worked_and_billed(r.fee_lines, j.invoices,
                                                      r.prebill_write_offs, s, e, _KEYS)
        time, _expenses, rated = frames.view.work_history()
        ref = frames.reference
        self.worked = wip.worked(time, rated, frames.client_of, ref.roundings, s, e)
        # available hours from the ledger's first month of time at the earliest: a firm whose
        # time starts in October is not measured against nine months it never recorded
        first = pd.to_datetime(time["work_date"]).min()
        since = s if pd.isna(first) else max(as_date(s), first.date().replace(day=1))
        self.utilisation = performance.utilisation(time, ref.timekeepers, since, e)


class MonthFrames:
    """The firm's frames for one month of one ledger, each computed on first use.

    ``this`` and ``last`` are the :class:`Stocks` at the month's end and the previous month's
    end; ``month``, ``last_month`` and ``ytd`` the :class:`Flows` of the month, the month
    before and the year to the month's end.
    """

    def __init__(self, view: LedgerView, month: str, stamp: int):
        start, end = month_range(month)
        self.view, self.month, self.stamp = view, month, stamp
        self.start, self.end = start, end
        self.prev_end = start - timedelta(days=1)
        self.windows = {"month": Window(start, end),
                        "last_month": Window(self.prev_end.replace(day=1), self.prev_end),
                        "ytd": Window(start.replace(month=1), end)}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ reference
    @cached_property
    def reference(self) -> Reference:
        return self.view.reference

    @cached_property
    def firm_name(self) -> str:
        return str((self.reference.firm or {}).get("name") or "")

    @cached_property
    def partner_names(self) -> pd.Series:
        tks = self.reference.timekeepers
        return pd.Series(self.reference.display_names(tks["timekeeper_id"]).to_numpy(),
                         index=tks["timekeeper_id"].to_numpy())

    @cached_property
    def matters(self) -> pd.DataFrame:
        """Every matter with its names: ``matter_id, matter, client_id, client, partner_id,
        partner, office_id`` (the matter's office, else its client's), ``office``."""
        ref = self.reference
        m = ref.matters[["matter_id", "name", "client_id", "billing_partner_id", "office_id"]]
        out = m.rename(columns={"name": "matter", "billing_partner_id": "partner_id"}).merge(
            ref.clients[["client_id", "name", "office_id"]].rename(
                columns={"name": "client", "office_id": "client_office"}),
            on="client_id", how="left")
        out["office_id"] = out["office_id"].fillna(out["client_office"])
        out["partner"] = out["partner_id"].map(self.partner_names)
        out = out.merge(ref.offices[["office_id", "name"]].rename(columns={"name": "office"}),
                        on="office_id", how="left")
        out = out.drop(columns=["client_office"])
        for col in out.columns:
            out[col] = out[col].astype(object).where(out[col].notna(), "")
        return out.sort_values("matter_id", ignore_index=True)

    @cached_property
    def names(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Per name column of :func:`named`: the id column it is looked up by, and the names."""
        ref, m = self.reference, self.matters
        people = {k: v for k, v in self.partner_names.items() if isinstance(v, str)}
        return {"client": ("client_id", dict(zip(ref.clients["client_id"], ref.clients["name"],
                                                 strict=True))),
                "matter": ("matter_id", dict(zip(m["matter_id"], m["matter"], strict=True))),
                "partner": ("partner_id", people), "timekeeper": ("timekeeper_id", people)}

    @cached_property
    def client_of(self) -> pd.Series:
        return self.reference.matters.set_index("matter_id")["client_id"]

    def describe(self, frame: pd.DataFrame) -> pd.DataFrame:
        """:func:`billxl.figures.aging.describe` with this ledger's names."""
        ref = self.reference
        return aging.describe(frame, ref.clients, ref.matters, self.partner_names, ref.offices)

    # ------------------------------------------------------------------ journals and reads
    @cached_property
    def journals(self):
        return self.view.journals()

    @cached_property
    def reads(self) -> pack_reads.PackReads:
        return pack_reads.pack_reads(self.view.ledger)

    # ------------------------------------------------------------------ stocks and flows
    @cached_property
    def this(self) -> Stocks:
        return Stocks(self.view, self.end, self.describe)

    @cached_property
    def last(self) -> Stocks:
        return Stocks(self.view, self.prev_end, self.describe)

    def flows(self, name: str) -> Flows:
        with self._lock:
            found = self.__dict__.setdefault("_flows", {})
            if name not in found:
                found[name] = Flows(self, self.windows[name])
            return found[name]

    @cached_property
    def findings(self) -> pd.DataFrame:
        """Every finding with its entry's matter (``store.packs.FINDING_FRAME``)."""
        return self.reads.findings

    def active_matters(self) -> set[str]:
        """The matters with anything to show in the month: WIP, AR or credits at its end,
        anything billed, collected, written down or off or worked in it, findings still open,
        submissions pending or rejected."""
        month, this = self.flows("month"), self.this
        found: set[str] = set()
        for frame in (this.wip_rows, this.items, month.billed, month.collected,
                      month.written_off, month.worked_billed, month.worked):
            found |= set(frame["matter_id"].dropna())
        if this.credits is not None:
            found |= set(this.credits["matter_id"])
        f = self.findings
        found |= set(f.loc[f["status"].isin(OPEN_STATUSES)
                           & (f["work_date"] <= pd.Timestamp(self.end)), "matter_id"])
        found |= set(self.submissions_pending()["matter_id"])
        return {m for m in found if m}

    def submissions_pending(self) -> pd.DataFrame:
        """Portal submissions waiting for an answer (submitted, appealed) or rejected now, of
        invoices dated by the month's end."""
        s = self.reads.submissions
        invoices = self.journals.invoices
        dated = dict(zip(invoices["number"], invoices["invoice_date"], strict=True))
        # (a dict, not a Series: mapping through an empty datetime Series fails)
        on = pd.to_datetime(s["invoice"].map(dated))
        keep = s["status"].isin(PENDING) & (on <= pd.Timestamp(self.end)).fillna(False)
        return s[keep.to_numpy(dtype=bool)]


_CACHE: OrderedDict[tuple[str, str, int], MonthFrames] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def month_frames(month: str, ledger_url: Any = None) -> MonthFrames:
    """The firm's frames for ``month`` (YYYY-MM) of the ledger at ``ledger_url`` (blank:
    $BILLXL_LEDGER, else ./billxl.db), computed once per process while the ledger is unchanged.
    """
    month_range(month)  # a clear error for a bad month, before the ledger is opened
    url = db.resolve_url(ledger_url or None)
    view = LedgerView.open(url)
    stamp = view.stamp()
    key = (url, month.strip(), stamp)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    view.refresh()  # the view forgets what it read before the change, too
    found = MonthFrames(view, month.strip(), stamp)
    with _CACHE_LOCK:
        for old in [k for k in _CACHE if k[:2] == key[:2]]:
            del _CACHE[old]  # an older state of the same month
        _CACHE[key] = found
        while len(_CACHE) > KEEP:
            _CACHE.popitem(last=False)
    return found


def forget() -> None:
    """Drop every month's frames (tests; a process that is done with a ledger)."""
    with _CACHE_LOCK:
        _CACHE.clear()


# ====================================================================================== scopes
@dataclass(frozen=True)
class Scope:
    """Whose pack: ``kind`` (:data:`SCOPES`), ``id`` and ``name``, and the matters it covers.

    ``matters`` is None for the firm (everything); ``clients`` the clients of its matters;
    ``credit_clients`` the clients whose credits held apart from any matter it shows (None:
    all of them).
    """

    kind: str
    id: str
    name: str
    matters: frozenset[str] | None
    clients: frozenset[str] | None
    credit_clients: frozenset[str] | None
    timekeepers: frozenset[str] | None = None  # whose utilisation (None: by the work)

    def keep(self, frame: pd.DataFrame | None, column: str = "matter_id") -> pd.DataFrame:
        """The rows of ``frame`` about this scope's matters."""
        if frame is None:
            return pd.DataFrame()
        if self.matters is None:
            return frame
        return frame[frame[column].isin(self.matters).to_numpy(dtype=bool)]

    def keep_clients(self, frame: pd.DataFrame, column: str = "client_id") -> pd.DataFrame:
        if self.clients is None:
            return frame
        return frame[frame[column].isin(self.clients).to_numpy(dtype=bool)]

    def keep_credits(self, credits: pd.DataFrame | None) -> pd.DataFrame | None:
        """Credits of this scope: those placed with its matters, and those held for a client
        apart from any matter (see the module's note)."""
        if credits is None or self.matters is None and self.credit_clients is None:
            return credits
        matter = credits["matter_id"].astype(object)
        mine = matter.isin(self.matters)
        loose = matter.isna() | (matter == "")
        if self.credit_clients is None:
            mine |= loose
        else:
            mine |= loose & credits["client_id"].isin(self.credit_clients)
        kept = credits[mine.to_numpy(dtype=bool)]
        return kept if len(kept) else None


def scope_of(frames: MonthFrames, scope: str, scope_id: str = "") -> Scope:
    """The :class:`Scope` named; a :class:`BillxlError` naming a scope or an id that is not
    there."""
    kind = str(scope or "").strip().lower()
    key = str(scope_id or "").strip()
    if kind not in SCOPES:
        raise BillxlError(f"Whose pack? {scope!r} is not one of: {', '.join(SCOPES)}.")
    firm = frames.firm_name or "the ledger"
    m = frames.matters
    if kind == "firm":
        if key:
            raise BillxlError(f"The firm's pack takes no scope id (got {key!r}): leave it blank, "
                              "or name the scope (partner, client or office).")
        return Scope("firm", "", frames.firm_name, None, None, None)
    if not key:
        raise BillxlError(f"A {kind}'s pack needs the {kind}'s id (scope_id).")
    ref = frames.reference
    if kind == "partner":
        mine = m[m["partner_id"] == key]
        if mine.empty:
            known = key in set(ref.timekeepers["timekeeper_id"])
            raise BillxlError(f"{key!r} is not the billing partner of any matter in {firm}"
                              if known else f"There is no timekeeper {key!r} in {firm}.")
        name = frames.partner_names.get(key, key)
        credit_clients: frozenset[str] = frozenset()
    elif kind == "client":
        if key not in set(ref.clients["client_id"]):
            raise BillxlError(f"There is no client {key!r} in {firm}.")
        mine = m[m["client_id"] == key]
        name = str(ref.clients.set_index("client_id").loc[key, "name"])
        credit_clients = frozenset([key])
    else:
        if key not in set(ref.offices["office_id"]):
            raise BillxlError(f"There is no office {key!r} in {firm}.")
        mine = m[m["office_id"] == key]
        name = str(ref.offices.set_index("office_id").loc[key, "name"])
        clients = ref.clients
        credit_clients = frozenset(clients.loc[clients["office_id"] == key, "client_id"])
    people = None
    if kind == "office":
        tks = ref.timekeepers
        people = frozenset(tks.loc[tks["office_id"] == key, "timekeeper_id"])
    return Scope(kind, key, str(name), frozenset(mine["matter_id"]),
                 frozenset(mine["client_id"]) | credit_clients, credit_clients, people)


def pack_scopes(by: str, month: str, *, ledger_url: Any = None) -> pd.DataFrame:
    """Who gets a pack for ``month``: ``scope_id, name`` of every billing partner (``by``
    partner), client or office with a matter that has anything to show in the month (see
    :meth:`MonthFrames.active_matters`), in id order."""
    kind = str(by or "").strip().lower()
    if kind not in SCOPE_LISTS:
        raise BillxlError(f"Packs by what? {by!r} is not one of: {', '.join(SCOPE_LISTS)}.")
    frames = month_frames(month, ledger_url)
    m = frames.matters
    active = m[m["matter_id"].isin(frames.active_matters())]
    column, name = {"partner": ("partner_id", "partner"), "client": ("client_id", "client"),
                    "office": ("office_id", "office")}[kind]
    ids = set(active[column])
    if kind != "partner" and frames.this.credits is not None:  # credits apart from any matter
        loose = frames.this.credits
        loose = loose[loose["matter_id"] == ""]
        ids |= set(loose[column])
    names = m.drop_duplicates(column).set_index(column)[name]
    if kind == "office":
        names = frames.reference.offices.set_index("office_id")["name"]
    if kind == "client":
        names = frames.reference.clients.set_index("client_id")["name"]
    ids.discard("")
    out = pd.DataFrame({"scope_id": sorted(ids)})
    out["name"] = out["scope_id"].map(names).fillna("").astype(str)
    return out


# ====================================================================================== tables
def named(frame: pd.DataFrame, frames: MonthFrames, *, columns=("client", "matter")
          ) -> pd.DataFrame:
    """Add the names of a frame's ids: ``client`` (by client_id), ``matter`` (by matter_id),
    ``partner`` (by partner_id), ``timekeeper`` (by timekeeper_id)."""
    out = frame.copy()
    for name in columns:
        key, values = frames.names[name]
        found = [values.get(k, "") for k in out[key].astype(object).tolist()]
        out[name] = pd.Series(found, index=out.index, dtype=object)
    return out


def _text_columns(frame: pd.DataFrame) -> set[str]:
    return {c for c in frame.columns
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)}


def with_totals(frame: pd.DataFrame, label: str, sums: list[str], *,
                totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` with a ``_total`` column and one total row per currency after its rows:
    ``label`` says "Total", the ``sums`` columns are summed within the currency (or taken
    from ``totals``, per currency, where the total has a definition of its own)."""
    rows = frame.assign(_total=False)
    if totals is None:
        totals = frame.groupby("currency", as_index=False)[sums].sum()
    if totals.empty:
        return rows
    text = _text_columns(frame)
    extra = {c: ("" if c in text else 0 if c in sums else
                 pd.NaT if frame[c].dtype.kind == "M" else None)
             for c in frame.columns if c not in totals}
    total_rows = totals.assign(**extra, _total=True)
    total_rows[label] = "Total"
    blank = [c for c, v in extra.items() if v is None]
    rows = rows.astype({c: object for c in blank})  # ints stay ints beside a blank total
    parts = []
    for cur in sorted(set(rows["currency"]) | set(total_rows["currency"])):
        parts.append(rows[rows["currency"] == cur])
        parts.append(total_rows.loc[total_rows["currency"] == cur, list(rows.columns)])
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for col in sums:
        out[col] = out[col].fillna(0).astype("int64")
    for col in blank:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["_total"] = out["_total"].astype(bool)
    return out


def plain_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Text columns as plain ``str`` (missing as "")."""
    out = frame.copy()
    for col in columns:
        values = out[col].astype(object)
        out[col] = values.where(values.notna(), "").map(str)
    return out


def table(key: str, title: str, columns: list[tuple[str, str, str]], frame: pd.DataFrame,
          note: str) -> Table:
    """A :class:`Table` of ``frame``'s columns named in ``columns`` (name, label, kind) plus
    the bookkeeping ones it has (``currency``, ``_total``, ``_kind``), rows renumbered."""
    shown = [c[0] for c in columns]
    keep = shown + [c for c in ("currency", "_total", "_kind") if c in frame and c not in shown]
    out = frame.reindex(columns=keep).reset_index(drop=True)
    if "_total" not in out:
        out["_total"] = False
    return Table(key, title, tuple(Column(*c) for c in columns), out, note)


def build_pack(kind: str, title: str, tables, month: str, scope: str, scope_id: str,
               ledger_url: Any) -> Pack:
    """A pack of ``kind`` for the scope named: each of ``tables`` — (key, title, a builder
    over (:class:`MonthFrames`, :class:`Scope`), columns, note) — built in order."""
    frames = month_frames(month, ledger_url)
    who = scope_of(frames, scope, scope_id)
    first = date.fromisoformat(f"{frames.month}-01")
    named_as = {"firm": "", "partner": "Partner ", "client": "Client ", "office": "Office "}
    pack = Pack(kind=kind, title=f"{title} — {named_as[who.kind]}{who.name} — {first:%B %Y}",
                firm=frames.firm_name, month=frames.month, as_of=frames.end, scope=who.kind,
                scope_id=who.id, scope_name=who.name)
    for key, heading, build, columns, note in tables:
        pack.add(table(key, heading, columns, build(frames, who), note))
    return pack


# ====================================================================================== digest
def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, (bool, int, str)):
        return value
    return str(value)


def pack_digest(pack: Pack) -> str:
    """A sha256 (hex) of a pack: who and when it is for, and every table's columns and values
    in order. Two packs with the same digest show the same figures."""
    digest = hashlib.sha256()
    head = [pack.kind, pack.month, str(pack.as_of), pack.scope, pack.scope_id, pack.scope_name]
    digest.update(json.dumps(head).encode())
    for key, tab in pack.tables.items():
        frame = tab.frame
        cols = list(frame.columns)
        digest.update(json.dumps([key, [(c.name, c.kind) for c in tab.columns], cols]).encode())
        for row in zip(*(frame[c].tolist() for c in cols), strict=True):
            digest.update(json.dumps([_plain(v) for v in row]).encode())
            digest.update(b"\n")
    return digest.hexdigest()


__all__ = ["KEEP", "OPEN_STATUSES", "PENDING", "SCOPES", "SCOPE_LISTS", "Flows", "MonthFrames",
           "Scope", "Stocks", "Window", "build_pack", "forget", "month_frames", "named",
           "pack_digest", "pack_scopes", "plain_text", "scope_of", "table", "with_totals"]
