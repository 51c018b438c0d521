"""AR aging: what is owed, by how long it has been owed, with the credits beside it.

Buckets, by the days since the basis date (the due date, or the invoice date) on ``as_of``:
``current`` (0 days or not yet reached), ``1_30``, ``31_60``, ``61_90``, ``91_120``,
``over_120``. Only balances owed count in the buckets (``total``). ``credits`` are what the firm
owes or holds for the client: negative invoice balances (an invoice credited after it was paid)
and cash on account (``billxl.figures.credit``); ``net = total - credits``.

Every credit is placed in every grouping, so that the firm's total, credits and net are the same
whether the aging is by client, matter, billing partner or office: a negative balance sits with
its invoice; cash on account sits with the client's latest invoice dated by ``as_of`` (its
matter, that matter's billing partner, the invoice's office), or, for a client never invoiced,
with the client alone (its office; no matter or partner). Amounts never add across currencies.
Pure: frames in, frames out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from billxl.errors import BillxlError
from billxl.figures.dates import cutoff

BUCKETS = ("current", "1_30", "31_60", "61_90", "91_120", "over_120")
BUCKET_LABELS = {"current": "Current", "1_30": "1-30", "31_60": "31-60", "61_90": "61-90",
                 "91_120": "91-120", "over_120": "Over 120"}
EDGES = np.array([0, 30, 60, 90, 120])  # upper bounds of current, 1-30, ... (inclusive)
BASES = ("due", "invoice")
GROUPINGS = {
    "client": ["client_id", "client"],
    "matter": ["matter_id", "matter", "client_id"],
    "partner": ["partner_id", "partner"],
    "office": ["office_id", "office"],
}


def bucket_of(days: np.ndarray) -> np.ndarray:
    """The bucket of each age in days (0 or less is ``current``)."""
    return np.array(BUCKETS)[np.searchsorted(EDGES, np.asarray(days), side="left")]


def age_items(balances: pd.DataFrame, as_of: Any, basis: str = "due") -> pd.DataFrame:
    """The invoices with something owed on ``as_of``, each with its ``days`` and ``bucket``.

    ``balances`` is :func:`billxl.figures.balances.invoice_balances` as of the same date.
    """
    if basis not in BASES:
        raise BillxlError(f"Age by what? {basis!r} is not one of: {', '.join(BASES)}.")
    limit = cutoff(as_of)
    items = balances[(balances["invoice_date"] <= limit) & (balances["balance_minor"] > 0)].copy()
    since = items["due_date" if basis == "due" else "invoice_date"]
    items["days"] = (limit - since).dt.days.astype("int64")
    items["bucket"] = bucket_of(items["days"].to_numpy())
    return items.reset_index(drop=True)


def credits(balances: pd.DataFrame, unapplied_cash: pd.DataFrame | None = None) -> pd.DataFrame:
    """The credits to show beside the aging: ``client_id, matter_id, office_id, currency,
    credits_minor`` (positive), placed as the module docstring says."""
    columns = ["client_id", "matter_id", "office_id", "currency", "credits_minor"]
    owed_back = balances[balances["balance_minor"] < 0]
    parts = [owed_back.assign(credits_minor=-owed_back["balance_minor"])[columns]]
    if unapplied_cash is not None and len(unapplied_cash):
        cash = unapplied_cash[unapplied_cash["client_id"].notna()]
        latest = (balances.sort_values(["invoice_date", "invoice_pk"])
                  .drop_duplicates(["client_id", "currency"], keep="last")
                  [["client_id", "currency", "matter_id", "office_id"]])
        placed = (cash.rename(columns={"unapplied_minor": "credits_minor"})
                  .merge(latest, on=["client_id", "currency"], how="left"))
        parts.append(placed[columns])
    out = pd.concat(parts, ignore_index=True)
    out["credits_minor"] = out["credits_minor"].astype("int64")
    return out


def describe(frame: pd.DataFrame, clients: pd.DataFrame, matters: pd.DataFrame,
             partners: pd.Series, offices: pd.DataFrame) -> pd.DataFrame:
    """Add the names aging groups by: ``client``, ``matter``, ``partner_id``/``partner``,
    ``office_id``/``office`` (an invoice's office, else its matter's, else its client's).

    ``partners``: display name per timekeeper id. Missing names and ids become "".
    """
    out = frame.merge(clients[["client_id", "name", "office_id"]].rename(
        columns={"name": "client", "office_id": "client_office"}), on="client_id", how="left")
    out = out.merge(matters[["matter_id", "name", "billing_partner_id", "office_id"]].rename(
        columns={"name": "matter", "billing_partner_id": "partner_id",
                 "office_id": "matter_office"}), on="matter_id", how="left")
    out["partner"] = out["partner_id"].map(partners)
    office = out["office_id"] if "office_id" in out else pd.Series(None, index=out.index)
    out["office_id"] = office.fillna(out["matter_office"]).fillna(out["client_office"])
    out = out.merge(offices[["office_id", "name"]].rename(columns={"name": "office"}),
                    on="office_id", how="left")
    for col in ("client_id", "client", "matter_id", "matter", "office_id", "office",
                "partner_id", "partner"):
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    return out.drop(columns=["matter_office", "client_office"])


def aging_table(items: pd.DataFrame, by: str = "client",
                credits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Buckets per group and currency (minor units), largest total first.

    ``items``: :func:`age_items` with the group's columns (see ``GROUPINGS``, from
    :func:`describe`). ``credits``: :func:`credits`, described the same way.
    """
    if by not in GROUPINGS:
        raise BillxlError(f"Age by what? {by!r} is not one of: {', '.join(GROUPINGS)}.")
    keys = [*GROUPINGS[by], "currency"]
    if items.empty:
        table = pd.DataFrame(columns=keys)
    else:
        table = (items.pivot_table(index=keys, columns="bucket", values="balance_minor",
                                   aggfunc="sum", fill_value=0, observed=True)
                 .reset_index())
        table.columns.name = None
    for b in BUCKETS:
        table[b] = table[b].astype("int64") if b in table else 0
    table["total"] = table[list(BUCKETS)].sum(axis=1).astype("int64")
    if credits is not None and len(credits):
        table = table.merge(credits.groupby(keys, as_index=False)["credits_minor"].sum(),
                            on=keys, how="outer")
    table["credits"] = (table["credits_minor"] if "credits_minor" in table else
                        pd.Series(0, index=table.index)).fillna(0).astype("int64")
    for col in (*BUCKETS, "total"):
        table[col] = table[col].fillna(0).astype("int64")
    table["net"] = table["total"] - table["credits"]
    table = table.sort_values(["currency", "total", keys[0]], ascending=[True, False, True],
                              ignore_index=True)
    return table[[*keys, *BUCKETS, "total", "credits", "net"]]


def client_buckets(items: pd.DataFrame, client: str, currency: str | None = None) -> dict:
    """One client's buckets (minor units) from :func:`age_items`, every bucket present."""
    mine = items[items["client_id"] == client]
    if currency is not None:
        mine = mine[mine["currency"] == currency]
    sums = mine.groupby("bucket")["balance_minor"].sum()
    return {b: int(sums.get(b, 0)) for b in BUCKETS}


WORKLIST_COLUMNS = ("client_id", "client", "currency", "open_minor", "overdue_minor",
                    "oldest_days", "oldest_invoice", "invoices", "amount_days", "last_contact",
                    "last_note", "promised_on", "promised_minor", "promise")


def worklist(items: pd.DataFrame, as_of: Any, clients: pd.DataFrame, notes: pd.DataFrame, *,
             include_current: bool = False) -> pd.DataFrame:
    """Who to chase, largest and oldest first, with the last contact and any promise
    (``WORKLIST_COLUMNS``; the collections worklist of ``billxl.ar.worklist``).

    One row per client and currency with money overdue on ``as_of`` (or anything open, with
    ``include_current``): ``open_minor``, ``overdue_minor``, ``oldest_days`` (past due),
    ``oldest_invoice``, ``invoices``; ``amount_days`` (overdue money x days overdue, the order
    of the list: a large debt and an old one both rise); from the collections ``notes``
    (newest first), ``last_contact``, ``last_note``, ``promised_on``, ``promised_minor`` and
    ``promise`` (``due``; ``broken``: the date passed and money is still overdue; ``kept``).
    ``items``: :func:`age_items` by due date on ``as_of`` (any subset of it: a partner's
    matters); ``clients``: ``client_id, name``.
    """
    limit = cutoff(as_of)
    if items.empty:
        return pd.DataFrame(columns=list(WORKLIST_COLUMNS))
    overdue = items["days"].clip(lower=0)
    items = items.assign(overdue_minor=np.where(overdue > 0, items["balance_minor"], 0),
                         amount_days=items["balance_minor"].astype(object) * overdue.astype(object))
    oldest = items.sort_values(["days", "invoice_date", "number"], ascending=[False, True, True]) \
        .drop_duplicates(["client_id", "currency"])[["client_id", "currency", "number"]]
    table = (items.groupby(["client_id", "currency"], as_index=False)
             .agg(open_minor=("balance_minor", "sum"), overdue_minor=("overdue_minor", "sum"),
                  oldest_days=("days", "max"), invoices=("invoice_pk", "size"),
                  amount_days=("amount_days", "sum"))
             .merge(oldest.rename(columns={"number": "oldest_invoice"}),
                    on=["client_id", "currency"]))
    table["oldest_days"] = table["oldest_days"].clip(lower=0)
    if not include_current:
        table = table[table["overdue_minor"] > 0]
    names = clients[["client_id", "name"]].rename(columns={"name": "client"})
    table = table.merge(names, on="client_id", how="left")
    notes = notes[notes["contacted_on"] <= limit]
    latest = notes.drop_duplicates("client_id")[["client_id", "contacted_on", "note"]]
    promises = notes[notes["promised_on"].notna()].drop_duplicates("client_id")[
        ["client_id", "promised_on", "promised_minor"]]
    latest = latest.rename(columns={"contacted_on": "last_contact", "note": "last_note"})
    table = (table.merge(latest, on="client_id", how="left")
             .merge(promises, on="client_id", how="left"))
    table["promise"] = np.where(table["promised_on"].isna(), None,
                                np.where(table["promised_on"] >= limit, "due",
                                         np.where(table["overdue_minor"] > 0, "broken", "kept")))
    table["amount_days"] = table["amount_days"].map(int)
    table = table.sort_values(["amount_days", "overdue_minor", "client_id"],
                              ascending=[False, False, True], ignore_index=True)
    return table[list(WORKLIST_COLUMNS)]


__all__ = ["BASES", "BUCKETS", "BUCKET_LABELS", "GROUPINGS", "WORKLIST_COLUMNS", "age_items",
           "aging_table", "bucket_of", "client_buckets", "credits", "describe", "worklist"]
