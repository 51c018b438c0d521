"""The firm's reference data, read once: firm, offices, clients, matters, timekeepers, rates,
matter terms, tax rates, payors, fixed fees, portals and guideline sets.

A :class:`Reference` is built from frames (named like the ledger's tables; the reads are
:func:`billxl.store.reference.read_reference`, reached through :meth:`Reference.from_ledger`)
and does no I/O itself. Intake, the rules, billing and
cash all take one, so what they know about the firm is the same:

* **one rounding rule** per client, :meth:`Reference.rounding_of`: the client's rule, else the
  firm's, else :data:`billxl.money.DEFAULT_ROUNDING` (and :meth:`Reference.roundings`, the same
  over a Series or array of client ids);
* **one display name** per timekeeper, :func:`display_name`: ``"Last, First"``
  (:meth:`Reference.display_name` / :meth:`Reference.display_names` by timekeeper id).

Any frame may be missing (None): intake's check without a ledger knows only the file's own
ids, and a rule that needs a missing frame is skipped with a note.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from billxl import money
from billxl.cells import norm_all
from billxl.money import DEFAULT_ROUNDING, Rounding

__all__ = ["FRAMES", "Reference", "display_name"]

#: The frames of a Reference, and the ledger table each is read from.
FRAMES = {"offices": "offices", "timekeepers": "timekeepers", "clients": "clients",
          "matters": "matters", "rates": "rates", "terms": "matter_terms",
          "tax_rates": "tax_rates", "payors": "matter_payors", "fixed_fees": "fixed_fees"}


def display_name(last_name, first_name):
    """A timekeeper's name as every document, workbook and report shows it: ``"Last, First"``.

    Works on single values and, element-wise, on Series or object arrays of names (an empty
    Series of a firm with no timekeepers yet gives an empty Series).
    """
    if isinstance(last_name, pd.Series) and last_name.empty:
        return pd.Series([], index=last_name.index, dtype=object)
    return last_name + ", " + first_name


def _plain(value: Any) -> Any:
    """A frame cell as a plain Python value: None for missing, a date for a day, int for ints."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    columns = list(frame.columns)
    values = [[_plain(v) for v in frame[c].tolist()] for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


@dataclass(kw_only=True, eq=False)
class Reference:
    """The firm's reference data, as frames named like the ledger's tables (any may be None)."""

    firm: Mapping[str, Any] | None = None  # the firm row: name, currency, rounding, numbering
    offices: pd.DataFrame | None = None
    timekeepers: pd.DataFrame | None = None  # timekeeper_id, names, classification, dates
    clients: pd.DataFrame | None = None  # client_id, name, currency, rounding, portal, ...
    matters: pd.DataFrame | None = None  # matter_id, client_id, dates, partner, arrangement
    rates: pd.DataFrame | None = None  # rate rows (see billxl.rates); rate_book answers one
    terms: pd.DataFrame | None = None  # matter_terms: discounts, caps, minimum bills
    tax_rates: pd.DataFrame | None = None
    payors: pd.DataFrame | None = None  # matter_payors, in table order (split billing)
    fixed_fees: pd.DataFrame | None = None
    #: e-billing portal profiles by name and guideline sets by client id: files, not tables,
    #: so the caller loads them (billxl.ledes.portals, billxl.rules.load_client_guidelines).
    portals: Mapping[str, Any] | None = None
    guidelines: Mapping[str, Any] | None = None

    @classmethod
    def from_frames(cls, frames: Mapping[str, Any], *, firm: Mapping[str, Any] | None = None,
                    **more: Any) -> Reference:
        """From frames named like the ledger's tables (``matter_terms``, ``matter_payors``) or
        like this class's fields (e.g. the demo firm's ``reference``); others are ignored."""
        given = {}
        for name, table in FRAMES.items():
            if name in frames or table in frames:
                given[name] = frames[name] if name in frames else frames[table]
        return cls(firm=firm if firm is not None else frames.get("firm"), **given, **more)

    @classmethod
    def from_ledger(cls, ledger, conn=None) -> Reference:
        """Everything a ledger knows, read by :func:`billxl.store.reference.read_reference`
        (inside ``conn``'s transaction when given)."""
        from billxl.store.reference import read_reference

        return cls.from_frames(read_reference(ledger, conn))

    # ------------------------------------------------------------------ the firm
    @property
    def firm_currency(self) -> str:
        return (self.firm or {}).get("currency") or "USD"

    @property
    def firm_rounding(self) -> Rounding:
        """The firm's rounding rule, else the library default."""
        rule = (self.firm or {}).get("rounding")
        return Rounding(rule) if rule else DEFAULT_ROUNDING

    # ------------------------------------------------------------------ rounding
    @functools.cached_property
    def _client_rounding(self) -> dict[str, str]:
        clients = self.clients
        if clients is None or "rounding" not in clients:
            return {}
        stated = clients.dropna(subset=["rounding"])
        stated = stated[stated["rounding"].astype(str).str.strip() != ""]
        return {c: str(Rounding(r)) for c, r in zip(stated["client_id"], stated["rounding"],
                                                    strict=True)}

    def rounding_of(self, client_id: str | None) -> Rounding:
        """The rounding rule of a client: its own, else the firm's, else the default."""
        rule = self._client_rounding.get(client_id) if client_id is not None else None
        return Rounding(rule) if rule else self.firm_rounding

    def roundings(self, client_ids):
        """:meth:`rounding_of` for each of ``client_ids`` (rule values as text): a Series on
        the same index for a Series, else an object array."""
        ids = client_ids if isinstance(client_ids, pd.Series) else pd.Series(
            np.asarray(client_ids, dtype=object))
        rules = ids.map(self._client_rounding).astype(object)
        rules = rules.where(rules.notna(), self.firm_rounding.value)
        return rules if isinstance(client_ids, pd.Series) else rules.to_numpy(dtype=object)

    # ------------------------------------------------------------------ timekeepers
    @functools.cached_property
    def _names(self) -> pd.Series:
        tks = self.timekeepers
        if tks is None:
            return pd.Series(dtype=object)
        return display_name(tks["last_name"], tks["first_name"]).set_axis(tks["timekeeper_id"])

    def display_name(self, timekeeper_id: str | None) -> str | None:
        """A timekeeper's display name (``"Last, First"``), None if unknown."""
        name = self._names.get(timekeeper_id) if timekeeper_id is not None else None
        return None if name is None or pd.isna(name) else name

    def display_names(self, timekeeper_ids: pd.Series) -> pd.Series:
        """:meth:`display_name` for each id (NaN where unknown), on the same index."""
        return timekeeper_ids.map(self._names)

    @functools.cached_property
    def rate_book(self):
        """A :class:`billxl.rates.RateBook` over the rates, for one look-up at a time."""
        from billxl.rates import RateBook

        return RateBook(self.rates, self.timekeepers, self.matters)

    # ------------------------------------------------------------------ rows by key
    @functools.cached_property
    def _matter_rows(self) -> dict[str, dict]:
        return {r["matter_id"]: r for r in _records(self.matters)}

    @functools.cached_property
    def _client_rows(self) -> dict[str, dict]:
        return {r["client_id"]: r for r in _records(self.clients)}

    def matter(self, matter_id: str) -> dict:
        """A matter's row as plain values (None for missing, dates as dates); KeyError if none."""
        return self._matter_rows[matter_id]

    def client(self, client_id: str) -> dict:
        """A client's row as plain values; KeyError if there is none."""
        return self._client_rows[client_id]

    @functools.cached_property
    def _terms(self) -> dict[str, dict]:
        return {r["matter_id"]: {k: v for k, v in r.items() if v is not None}
                for r in _records(self.terms)}

    def terms_of(self, matter_id: str) -> dict:
        """The terms a matter states (missing ones left out; {} for none)."""
        return self._terms.get(matter_id, {})

    @functools.cached_property
    def _payors(self) -> dict[str, list[tuple[str, Decimal]]]:
        out: dict[str, list[tuple[str, Decimal]]] = {}
        for r in _records(self.payors):  # in table order: the last payor takes remainders
            out.setdefault(r["matter_id"], []).append((r["client_id"], money.D(r["percent"])))
        return out

    def payors_of(self, matter_id: str) -> list[tuple[str, Decimal]]:
        """A split-billed matter's payors and their percentages, in order ([] if not split)."""
        return self._payors.get(matter_id, [])

    @functools.cached_property
    def _fixed_fees(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in _records(self.fixed_fees):
            out.setdefault(r["matter_id"], []).append(r)
        return out

    def fixed_fees_of(self, matter_id: str) -> list[dict]:
        """A matter's fixed fees (by phase or task code, or for the matter), [] if none."""
        return self._fixed_fees.get(matter_id, [])

    # ------------------------------------------------------------------ intake's look-ups
    @functools.cached_property
    def _lookups(self) -> dict[str, dict]:
        tk = self.timekeepers if self.timekeepers is not None else pd.DataFrame(
            {"timekeeper_id": []})
        mt = self.matters if self.matters is not None else pd.DataFrame(
            {"matter_id": [], "client_id": []})
        cl = self.clients if self.clients is not None else pd.DataFrame(
            {"client_id": [], "currency": []})
        users = tk.dropna(subset=["user_name"]) if "user_name" in tk else tk.iloc[:0]

        def keyed(values: pd.Series, to: pd.Series) -> dict:
            return dict(zip(norm_all(values), to, strict=True))

        return {
            "timekeeper_id": keyed(tk["timekeeper_id"], tk["timekeeper_id"]),
            "user_name": keyed(users["user_name"], users["timekeeper_id"]) if len(users) else {},
            "matter": keyed(mt["matter_id"], mt["matter_id"]),
            "client": keyed(cl["client_id"], cl["client_id"]),
            "matter_client": dict(zip(mt["matter_id"], mt["client_id"], strict=True)),
            "client_currency": dict(zip(cl["client_id"], cl["currency"], strict=True)),
        }

    def lookup(self, what: str) -> dict:
        """A look-up table for intake: ``timekeeper_id``, ``user_name``, ``matter`` and
        ``client`` map :func:`billxl.cells.norm` of a typed id (or user name) to the ledger's id;
        ``matter_client`` and ``client_currency`` map ids to a matter's client and a client's
        currency."""
        return self._lookups[what]
