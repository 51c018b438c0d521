"""The ledger as the surfaces see it: a read-only, cached, change-aware view of the figures.

A worksheet function is called thousands of times in one recalculation; a notebook asks for a
few large frames. Both ask :class:`LedgerView`, which

- is opened once per process (:meth:`LedgerView.open` keeps one per ledger URL);
- loads lazily only what a question needs (reference data; receivables; WIP now; the whole
  work history only for WIP on a past date), each part read once in one connection and
  computed with the one definition in :mod:`billxl.figures`;
- answers point look-ups from in-memory indexes (a dict per figure and key), and the same
  questions over arrays of arguments in one vectorised call;
- notices when the ledger has changed and starts again: a write made through billxl in this
  process is seen at once (the store counts its own commits), a write by another process within
  ``max_staleness`` seconds (one cheap query: the newest audit id). :meth:`refresh` checks now.

Amounts come back as integer minor units, in the figure's currency; a key whose figure exists in
several currencies needs the currency named. Nothing here writes.
"""

from __future__ import annotations

import csv
import threading
import time as _time
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from billxl.errors import BillxlError
from billxl.figures import aging, balances, credit, trust, wip
from billxl.figures.dates import as_date
from billxl.rates import resolve_rates
from billxl.reference import Reference
from billxl.store import db, reads
from billxl.store.ledger import Ledger

#: What a WIP key may name.
WIP_SCOPES = ("matter", "client", "partner")


@lru_cache(maxsize=1)
def utbms_names() -> dict[str, str]:
    """Every UTBMS task, activity and expense code billxl ships, with its name."""
    out: dict[str, str] = {}
    folder = resources.files("billxl") / "data" / "utbms"
    for name in ("litigation_tasks.csv", "counseling_tasks.csv", "bankruptcy_tasks.csv",
                 "activities.csv", "expenses.csv"):
        text = (folder / name).read_text("utf-8")
        out.update({row["code"]: row["name"] for row in csv.DictReader(text.splitlines())})
    return out


def _by_key(frame: pd.DataFrame, key: str, value: str) -> dict[str, dict[str, int]]:
    """``{key: {currency: sum of value}}`` from a frame with ``key``, ``currency``, ``value``."""
    if frame.empty:
        return {}
    sums = frame.groupby([key, "currency"], sort=False)[value].sum()
    out: dict[str, dict[str, int]] = {}
    for (k, cur), v in zip(sums.index.tolist(), sums.to_numpy(dtype=np.int64).tolist(),
                           strict=True):
        out.setdefault(k, {})[cur] = v
    return out


def _one(found: dict[str, int] | None, what: str, currency: str | None) -> int:
    """The amount of one currency: the only one, or the one named; 0 where there is none."""
    if not found:
        return 0
    if currency is not None:
        return int(found.get(currency.upper(), 0))
    if len(found) == 1:
        return int(next(iter(found.values())))
    raise BillxlError(f"{what} is in {', '.join(sorted(found))}: name the currency to show.")


class _Receivables:
    """Invoice balances, credit on account and aging items, for one ``as_of`` (None: today)."""

    def __init__(self, journals: reads.CashJournals, as_of: Any):
        self.as_of = as_of
        self.balances = balances.invoice_balances(
            journals.invoices, journals.allocations, journals.write_offs, journals.expense_parts,
            as_of=as_of)
        self.unapplied = credit.unapplied(journals.receipts, journals.allocations,
                                          journals.refunds, as_of=as_of)
        b = self.balances
        self.by_number = dict(zip(b["number"].tolist(), b["balance_minor"].tolist(), strict=True))
        self.by_client = _by_key(b, "client_id", "balance_minor")
        self.credit_by_client = _by_key(self.unapplied[self.unapplied["client_id"].notna()],
                                        "client_id", "unapplied_minor")
        self.items = aging.age_items(b, as_of if as_of is not None else date.today(), "due")
        self._buckets: dict[tuple[str, str | None], dict[str, int]] = {}

    def buckets(self, client: str, currency: str | None) -> dict[str, int]:
        key = (client, currency)
        if key not in self._buckets:
            self._buckets[key] = aging.client_buckets(self.items, client, currency)
        return self._buckets[key]


class LedgerView:
    """A read-only view of one ledger for worksheet functions, ribbon commands and notebooks."""

    _open: dict[str, LedgerView] = {}
    _open_lock = threading.Lock()

    def __init__(self, ledger: Ledger, *, max_staleness: float = 1.0):
        self.ledger = ledger
        self.max_staleness = max_staleness
        self._lock = threading.RLock()
        self._reset()

    # ------------------------------------------------------------------ opening, freshness
    @classmethod
    def open(cls, url: Any = None, *, max_staleness: float = 1.0) -> LedgerView:
        """The process's view of the ledger at ``url`` (opened on first use, then shared)."""
        key = db.resolve_url(url)
        with cls._open_lock:
            view = cls._open.get(key)
            if view is None:
                view = cls._open[key] = cls(Ledger.open(url), max_staleness=max_staleness)
            return view

    @classmethod
    def close_all(cls) -> None:
        """Forget every shared view (tests; a process that switches ledgers)."""
        with cls._open_lock:
            for view in cls._open.values():
                view.ledger.dispose()
            cls._open.clear()

    def _reset(self) -> None:
        self._parts: dict[str, Any] = {}
        self._receivables: dict[Any, _Receivables] = {}
        self._wip: dict[Any, pd.DataFrame] = {}
        self._wip_index: dict[tuple, dict] = {}
        self._amounts: dict[tuple, dict[str, dict[str, int]]] = {}
        self._agings: dict[Any, dict[str, dict[str, dict[str, int]]]] = {}
        self._stamp: int | None = None
        self._writes = db.commits()
        self._checked = _time.monotonic()

    def stamp(self) -> int:
        """The ledger's change stamp now (the newest audit id): one indexed query."""
        with self.ledger.engine.connect() as conn:
            return reads.newest_change(conn)

    def refresh(self) -> bool:
        """Check the ledger now; if it changed since it was read, forget every cached figure.

        Returns whether it had changed.
        """
        with self._lock:
            now = self.stamp()
            changed = self._stamp is not None and now != self._stamp
            if changed or self._writes != db.commits():
                self._reset()
                changed = True
            self._stamp = now
            self._checked = _time.monotonic()
            return changed

    def _fresh(self) -> None:
        """Cheap: a commit in this process, or ``max_staleness`` passed, triggers a check."""
        if self._writes != db.commits() or _time.monotonic() - self._checked > self.max_staleness:
            self.refresh()

    def _part(self, name: str, load: Callable[[], Any]) -> Any:
        self._fresh()
        found = self._parts.get(name)
        if found is None:
            with self._lock:
                found = self._parts.get(name)
                if found is None:
                    if self._stamp is None:
                        self._stamp = self.stamp()
                    found = self._parts[name] = load()
        return found

    # ------------------------------------------------------------------ what is loaded
    @property
    def reference(self) -> Reference:
        """The firm's reference data (read once)."""
        return self._part("reference", lambda: Reference.from_ledger(self.ledger))

    def _journals(self) -> reads.CashJournals:
        def load():
            with self.ledger.engine.connect() as conn:
                return reads.cash_journals(conn)
        return self._part("journals", load)

    def receivables(self, as_of: Any = None) -> _Receivables:
        """Balances, credit and aging items as of a date (None: as the ledger stands)."""
        journals = self._journals()
        key = None if as_of is None else as_date(as_of)
        found = self._receivables.get(key)
        if found is None:
            found = self._receivables[key] = _Receivables(journals, key)
        return found

    def _work(self, history: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Time and expenses (open now, or all with their closing dates) and the time's rates."""
        def load():
            with self.ledger.engine.connect() as conn:
                time, expenses = reads.work(conn, open_only=not history)
            ref = self.reference
            rated = resolve_rates(time, ref.rates, ref.timekeepers, ref.matters)
            return time, expenses, rated
        return self._part("history" if history else "open_work", load)

    def wip_rows(self, as_of: Any = None) -> pd.DataFrame:
        """WIP entry by entry, valued (:func:`billxl.figures.wip.wip`), now or on a past date."""
        key = None if as_of is None else as_date(as_of)
        self._fresh()
        found = self._wip.get(key)
        if found is None:
            time, expenses, rated = self._work(history=key is not None)
            ref = self.reference
            clients_of = ref.matters.set_index("matter_id")["client_id"]
            found = wip.wip(time, expenses, rated, clients_of, ref.roundings, as_of=key)
            partner = found["matter_id"].map(ref.matters.set_index("matter_id")
                                             ["billing_partner_id"])
            found = found.assign(partner_id=partner.to_numpy())
            self._wip[key] = found
        return found

    def _wip_by(self, scope: str, measure: str, as_of: Any) -> dict[str, dict[str, int]]:
        if scope not in WIP_SCOPES:
            raise BillxlError(f"WIP of what? {scope!r} is not one of: {', '.join(WIP_SCOPES)}.")
        if measure not in wip.MEASURES:
            raise BillxlError(f"WIP measured how? {measure!r} is not one of: "
                              f"{', '.join(wip.MEASURES)}.")
        key = (scope, measure, None if as_of is None else as_date(as_of))
        rows = self.wip_rows(key[2])
        found = self._wip_index.get(key)
        if found is None:
            billable = rows[rows["billable"]]
            column = "hours_milli" if measure == "hours" else f"{measure}_minor"
            name = {"matter": "matter_id", "client": "client_id", "partner": "partner_id"}[scope]
            found = self._wip_index[key] = _by_key(billable, name, column)
        return found

    # ------------------------------------------------------------------ point look-ups
    def scope_of(self, key: str) -> str:
        """Whether an id names a matter, a client or a billing partner (an error if none)."""
        ref = self.reference
        for scope, ids in (("matter", "_matter_ids"), ("client", "_client_ids"),
                           ("partner", "_partner_ids")):
            if key in self._ids(ids):
                return scope
        raise BillxlError(f"{key!r} is not a matter, client or billing partner in "
                          f"{ref.firm.get('name', 'the ledger') if ref.firm else 'the ledger'}.")

    def _ids(self, name: str) -> frozenset[str]:
        def load():
            ref = self.reference
            return {"_matter_ids": frozenset(ref.matters["matter_id"]),
                    "_client_ids": frozenset(ref.clients["client_id"]),
                    "_partner_ids": frozenset(ref.matters["billing_partner_id"].dropna())}
        return self._part("ids", load)[name]

    def wip(self, key: str, as_of: Any = None, measure: str = "billing", *,
            currency: str | None = None) -> int:
        """Billable WIP of a matter, client or billing partner (minor units, or thousandths of
        an hour for ``measure='hours'``)."""
        scope = self.scope_of(key)
        return _one(self._wip_by(scope, measure, as_of).get(key), f"The WIP of {key}", currency)

    def balance(self, key: str, as_of: Any = None, *, currency: str | None = None) -> int:
        """What is owed on an invoice (by number) or by a client (its invoices' balances)."""
        found = self.receivables(as_of)
        if key in found.by_number:
            return int(found.by_number[key])
        if key in self._ids("_client_ids"):
            return _one(found.by_client.get(key), f"The balance of {key}", currency)
        raise BillxlError(f"{key!r} is neither an invoice number nor a client in the ledger.")

    def credit(self, client: str, as_of: Any = None, *, currency: str | None = None) -> int:
        """A client's credit on account: cash received and not applied."""
        self._client(client)
        return _one(self.receivables(as_of).credit_by_client.get(client),
                    f"The credit on account of {client}", currency)

    def trust(self, key: str, as_of: Any = None, *, currency: str | None = None) -> int:
        """The trust balance of a matter or of a client (all its matters)."""
        table = self._trust(as_of)
        scope = self.scope_of(key)
        if scope == "partner":
            raise BillxlError(f"Trust money is held per matter and client, not per partner ({key}).")
        return _one(table["matter" if scope == "matter" else "client"].get(key),
                    f"The trust balance of {key}", currency)

    def _trust(self, as_of: Any) -> dict[str, dict]:
        def load():
            with self.ledger.engine.connect() as conn:
                return reads.trust_entries(conn), reads.retainers(conn)
        entries, retainers = self._part("trust", load)
        key = f"trust:{None if as_of is None else as_date(as_of)}"
        found = self._parts.get(key)
        if found is None:
            table = trust.trust_balances(entries, retainers, as_of=as_of)
            found = self._parts[key] = {"matter": _by_key(table, "matter_id", "balance_minor"),
                                        "client": _by_key(table, "client_id", "balance_minor"),
                                        "table": table}
        return found

    def aging(self, client: str, as_of: Any = None, *, currency: str | None = None
              ) -> dict[str, int]:
        """A client's aging buckets (by due date), every bucket present."""
        self._client(client)
        return self.receivables(as_of).buckets(client, currency)

    def rate(self, timekeeper: str, matter: str, on: Any = None, kind: str = "billing"
             ) -> int | None:
        """A timekeeper's rate on a matter on a day: ``billing`` (agreed, else standard),
        ``standard`` or ``approved``; None where no rate applies."""
        ref = self.reference
        day = as_date(on) if on is not None else date.today()
        book = ref.rate_book
        currency = self._matter_currency(matter)
        if kind == "billing":
            return book.billing(timekeeper, matter, day, currency)
        if kind == "standard":
            return book.standard(timekeeper, day, currency)
        if kind == "approved":
            return book.approved(timekeeper, matter, day, currency)
        raise BillxlError(f"Which rate? {kind!r} is not one of: billing, standard, approved.")

    def utbms_name(self, code: str) -> str | None:
        """The name of a UTBMS task, activity or expense code (None if unknown)."""
        return utbms_names().get(str(code).strip().upper())

    def _client(self, client: str) -> None:
        if client not in self._ids("_client_ids"):
            raise BillxlError(f"There is no client {client!r} in the ledger.")

    def _currencies(self) -> dict[str, str]:
        """Each matter's currency (its client's)."""
        def load():
            ref = self.reference
            currency = ref.matters["client_id"].map(ref.clients.set_index("client_id")["currency"])
            return dict(zip(ref.matters["matter_id"], currency, strict=True))
        return self._part("matter_currency", load)

    def _matter_currency(self, matter: str) -> str:
        found = self._currencies().get(matter)
        if found is None:
            raise BillxlError(f"There is no matter {matter!r} in the ledger.")
        return found

    # ------------------------------------------------------------------ vectorised
    def balances_of(self, keys: Sequence[str], as_of: Any = None) -> np.ndarray:
        """:meth:`balance` of every invoice number in ``keys`` at once (0 for an unknown one)."""
        found = self.receivables(as_of).by_number
        return pd.Series(keys, dtype=object).map(found).fillna(0).to_numpy(dtype=np.int64)

    def wips_of(self, keys: Sequence[str], as_of: Any = None, measure: str = "billing"
                ) -> np.ndarray:
        """:meth:`wip` of every matter in ``keys`` at once (single-currency matters)."""
        index = self._wip_by("matter", measure, as_of)
        flat = {k: sum(v.values()) for k, v in index.items() if len(v) == 1}
        return pd.Series(keys, dtype=object).map(flat).fillna(0).to_numpy(dtype=np.int64)

    def credits_of(self, clients: Sequence[str], as_of: Any = None) -> np.ndarray:
        """:meth:`credit` of every client in ``clients`` at once (single-currency clients)."""
        found = self.receivables(as_of).credit_by_client
        flat = {k: sum(v.values()) for k, v in found.items() if len(v) == 1}
        return pd.Series(clients, dtype=object).map(flat).fillna(0).to_numpy(dtype=np.int64)

    def trusts_of(self, matters: Sequence[str], as_of: Any = None) -> np.ndarray:
        """:meth:`trust` of every matter in ``matters`` at once (0 where none is held)."""
        found = self._trust(as_of)["matter"]
        flat = {k: sum(v.values()) for k, v in found.items() if len(v) == 1}
        return pd.Series(matters, dtype=object).map(flat).fillna(0).to_numpy(dtype=np.int64)

    def rates_of(self, timekeepers: Sequence[str], matters: Sequence[str],
                 on: Sequence[Any], kind: str = "billing") -> np.ndarray:
        """Rates (``billing``, ``standard`` or ``approved``, as :meth:`rate`) for many
        (timekeeper, matter, day) at once (-1 where none applies)."""
        if kind not in ("billing", "standard", "approved"):
            raise BillxlError(f"Which rate? {kind!r} is not one of: billing, standard, approved.")
        ref = self.reference
        frame = pd.DataFrame({"timekeeper_id": list(timekeepers), "matter_id": list(matters),
                              "work_date": pd.to_datetime(pd.Series(list(on)))})
        frame["currency"] = frame["matter_id"].map(self._currencies())
        rated = resolve_rates(frame, ref.rates, ref.timekeepers, ref.matters)
        return rated[f"{kind}_rate_minor"].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)

    def ids(self, kind: str) -> frozenset[str]:
        """Every id of one kind in the ledger: ``matter``, ``client``, ``partner`` (billing
        partners) or ``timekeeper``."""
        if kind == "timekeeper":
            return self._part("timekeeper_ids",
                              lambda: frozenset(self.reference.timekeepers["timekeeper_id"]))
        if kind not in ("matter", "client", "partner"):
            raise BillxlError(f"Ids of what? {kind!r} is not one of: matter, client, partner, "
                              "timekeeper.")
        return self._ids(f"_{kind}_ids")

    def matter_currencies(self) -> dict[str, str]:
        """Each matter's currency (its client's): what its rates and WIP are in."""
        return self._currencies()

    def amounts(self, figure: str, as_of: Any = None, measure: str = "billing"
                ) -> dict[str, dict[str, int]]:
        """Every key that ``figure`` answers for, with its amount per currency: the figures of
        the point look-ups as one mapping, for a whole range of keys at once.

        ``balance``: invoice numbers, then clients; ``credit``: clients; ``trust``: matters and
        clients; ``wip`` (with ``measure``): matters, clients and billing partners, a key
        meaning what :meth:`scope_of` says. A key with nothing to show maps to ``{}`` (0); a
        key that is not there is not a key of the figure. Read-only: do not change it.
        """
        day = None if as_of is None else as_date(as_of)
        if figure == "wip":
            for scope in WIP_SCOPES:  # checks the measure, and loads (or refreshes) first
                self._wip_by(scope, measure, day)
        else:
            self._fresh()
        key = (figure, day, measure if figure == "wip" else None)
        found = self._amounts.get(key)
        if found is None:
            found = self._amounts[key] = self._amounts_of(figure, day, measure)
        return found

    def _amounts_of(self, figure: str, day: Any, measure: str) -> dict[str, dict[str, int]]:
        def keyed(ids: frozenset[str], index: dict[str, dict[str, int]]) -> dict:
            return {k: index.get(k, {}) for k in ids}

        if figure == "balance":
            found = self.receivables(day)
            b = found.balances
            numbers = {n: {c: int(v)} for n, c, v in zip(
                b["number"].tolist(), b["currency"].tolist(), b["balance_minor"].tolist(),
                strict=True)}
            return {**keyed(self.ids("client"), found.by_client), **numbers}
        if figure == "credit":
            return keyed(self.ids("client"), self.receivables(day).credit_by_client)
        if figure == "trust":
            table = self._trust(day)
            return {**keyed(self.ids("client"), table["client"]),
                    **keyed(self.ids("matter"), table["matter"])}
        if figure == "wip":
            out: dict[str, dict[str, int]] = {}
            for scope in reversed(WIP_SCOPES):  # a matter number wins over a client id ...
                out.update(keyed(self.ids(scope), self._wip_by(scope, measure, day)))
            return out
        raise BillxlError(f"Which figure? {figure!r} is not one of: balance, credit, trust, wip.")

    def agings(self, as_of: Any = None) -> dict[str, dict[str, dict[str, int]]]:
        """Every client's aging buckets (by due date) per currency: ``{client: {currency:
        {bucket: minor}}}`` (:meth:`aging` for all clients at once); ``{}`` where nothing is
        owed. Read-only: do not change it."""
        found = self.receivables(as_of)
        key = found.as_of
        out = self._agings.get(key)
        if out is None:
            out = {c: {} for c in self.ids("client")}
            items = found.items
            if len(items):
                sums = items.groupby(["client_id", "currency", "bucket"])["balance_minor"].sum()
                for (client, cur, bucket), v in zip(sums.index.tolist(), sums.tolist(),
                                                    strict=True):
                    by_bucket = out.setdefault(client, {}).setdefault(
                        cur, dict.fromkeys(aging.BUCKETS, 0))
                    by_bucket[bucket] = int(v)
            self._agings[key] = out
        return out

    # ------------------------------------------------------------------ frames for notebooks
    def invoices(self, as_of: Any = None) -> pd.DataFrame:
        """Every invoice with its balance (:func:`billxl.figures.balances.invoice_balances`)."""
        return self.receivables(as_of).balances.copy()

    def unapplied_cash(self, as_of: Any = None) -> pd.DataFrame:
        """Receipts with cash not applied (:func:`billxl.figures.credit.unapplied`)."""
        return self.receivables(as_of).unapplied.copy()

    def journals(self) -> reads.CashJournals:
        """The receivables journals as read (invoices, allocations, write-offs, receipts …)."""
        return self._journals()

    def work_history(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Every time entry and expense, each with the day it left WIP
        (:func:`billxl.store.reads.work`), and the time's resolved rates (same index as the
        time). Read-only: do not change them."""
        return self._work(history=True)

    def time_by_timekeeper(self, start: Any, end: Any) -> pd.DataFrame:
        """Hours recorded per timekeeper and month in ``start``..``end`` (billable and not)."""
        time, _expenses, _rated = self._work(history=True)
        first, last = pd.Timestamp(as_date(start)), pd.Timestamp(as_date(end))
        rows = time[(time["work_date"] >= first) & (time["work_date"] <= last)]
        rows = rows.assign(month=rows["work_date"].dt.strftime("%Y-%m"),
                           billable_milli=np.where(rows["billable"], rows["hours_milli"], 0))
        return (rows.groupby(["timekeeper_id", "month"], as_index=False)
                .agg(hours_milli=("hours_milli", "sum"), billable_milli=("billable_milli", "sum"),
                     entries=("entry_pk", "size")))

    def trust_balances(self, as_of: Any = None) -> pd.DataFrame:
        """Trust balance per client, matter and currency (:mod:`billxl.figures.trust`)."""
        return self._trust(as_of)["table"].copy()


__all__ = ["LedgerView", "WIP_SCOPES", "utbms_names"]
