"""The collections pack: who to chase (the worklist), the promises to pay and whether they were
kept, and the aged debt by billing partner — all on the month's last day.

The worklist is :func:`billxl.figures.aging.worklist` (what ``billxl.ar.worklist`` shows) over
the scope's invoices; its promise is the client's latest. A collections note that names an
invoice belongs to that invoice's matter; one that names only the client is in the pack of
every scope holding the client. A promise is **kept** when the money collected on the scope's
invoices of that client (or on the invoice it names), in its currency, from the day of the
contact to the promised day reached the amount promised; **broken** when the promised day
passed (by the month's end) short of it; **due** while the day is still to come.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from billxl.figures import aging, period
from billxl.packs import source
from billxl.packs.monthly import BUCKETS, OWED
from billxl.packs.source import MonthFrames, Scope, named, with_totals
from billxl.packs.tables import Pack


def _notes(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    """The collections notes of the scope made by the month's end (newest first), each with
    its currency (its invoice's, else its client's)."""
    notes = frames.reads.notes
    notes = notes[(notes["contacted_on"] <= pd.Timestamp(frames.end)).to_numpy(dtype=bool)]
    invoices = frames.journals.invoices.set_index("invoice_pk")
    pk = notes["invoice_pk"].astype("Int64")
    matter = pk.map(invoices["matter_id"])
    currency = pk.map(invoices["currency"]).astype(object)
    client_currency = frames.reference.clients.set_index("client_id")["currency"]
    currency = currency.where(currency.notna(), notes["client_id"].map(client_currency))
    named_invoice = pk.notna().to_numpy(dtype=bool)
    if scope.matters is None:
        mine = np.ones(len(notes), dtype=bool)
    else:
        mine = np.where(named_invoice, matter.isin(scope.matters).to_numpy(dtype=bool),
                        notes["client_id"].isin(scope.clients).to_numpy(dtype=bool))
    return notes.assign(invoice_pk=pk, currency=currency.astype(object))[mine]


def worklist(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    items = scope.keep(frames.this.items)
    out = aging.worklist(items, frames.end, frames.reference.clients, _notes(frames, scope))
    out = out.rename(columns={"open_minor": "open", "overdue_minor": "overdue",
                              "promised_minor": "promised"})
    out["promised"] = pd.Series([None if pd.isna(v) else int(v) for v in out["promised"]],
                                index=out.index, dtype=object)
    out = out.astype({"open": "int64", "overdue": "int64", "invoices": "int64",
                      "oldest_days": "int64"})
    out = source.plain_text(out, ["client", "oldest_invoice", "last_note", "promise"])
    return with_totals(out, "client", ["open", "overdue", "invoices"])


def promises(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    notes = _notes(frames, scope)
    notes = notes[notes["promised_on"].notna()].copy()
    columns = ["client_id", "client", "invoice", "contacted_on", "promised_on", "currency",
               "promised", "collected", "status", "note"]
    if notes.empty:
        return pd.DataFrame(columns=columns)
    end = pd.Timestamp(frames.end)
    notes["through"] = notes["promised_on"].where(notes["promised_on"] <= end, end)
    j = frames.journals
    daily = scope.keep(period.collected(j.allocations, j.invoices, None, frames.end,
                                        ["client_id", "matter_id", "invoice_pk", "applied_on"]))
    paid = notes[["note_pk", "client_id", "invoice_pk", "currency", "contacted_on",
                  "through"]].merge(daily, on=["client_id", "currency"], how="inner",
                                    suffixes=("", "_paid"))
    paid = paid[(paid["applied_on"] >= paid["contacted_on"])
                & (paid["applied_on"] <= paid["through"])
                & (paid["invoice_pk"].isna() | (paid["invoice_pk"] == paid["invoice_pk_paid"]))
                .fillna(False).to_numpy(dtype=bool)]
    collected = paid.groupby("note_pk")["collected_minor"].sum()
    notes["collected"] = notes["note_pk"].map(collected).fillna(0).astype("int64")
    notes["promised"] = notes["promised_minor"].astype("int64")
    notes["status"] = np.where(notes["collected"] >= notes["promised"], "kept",
                               np.where(notes["promised_on"] <= end, "broken", "due"))
    out = named(notes, frames, columns=("client",))
    out = source.plain_text(out, ["client_id", "invoice", "note", "status"])
    out = out.sort_values(["currency", "promised_on", "client_id"], ignore_index=True)[columns]
    return with_totals(out, "client", ["promised", "collected"])


def aged_by_partner(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    this = frames.this
    aged = aging.aging_table(scope.keep(this.items), "partner", scope.keep_credits(this.credits))
    return with_totals(aged, "partner", [*aging.BUCKETS, "total", "credits", "net"])


TABLES = (
    ("worklist", "Collections worklist", worklist,
     [("client", "Client", "text"), ("open", "Open", "money"), ("overdue", "Overdue", "money"),
      ("oldest_days", "Oldest (days overdue)", "count"),
      ("oldest_invoice", "Oldest invoice", "text"), ("invoices", "Invoices", "count"),
      ("last_contact", "Last contact", "date"), ("last_note", "Last note", "text"),
      ("promised_on", "Promised for", "date"), ("promised", "Promised", "money"),
      ("promise", "Promise", "text")],
     "Clients with money past due on the month's last day, largest and oldest first "
     "(overdue money x days overdue), with the latest collections note and promise."),
    ("promises", "Promises to pay", promises,
     [("client", "Client", "text"), ("invoice", "Invoice", "text"),
      ("contacted_on", "Contacted", "date"), ("promised_on", "Promised for", "date"),
      ("promised", "Promised", "money"), ("collected", "Collected since", "money"),
      ("status", "Kept?", "text"), ("note", "Note", "text")],
     "Promises made by the month's end; collected: money applied (payment date) from the "
     "contact to the promised day (or the month's end, if sooner) on the promise's invoice, "
     "else on the client's invoices in this pack."),
    ("aged_by_partner", "Aged debt by billing partner", aged_by_partner,
     [("partner", "Billing partner", "text"), *BUCKETS, *OWED],
     "What is owed on the month's last day by days past the due date, by the billing partner "
     "of the invoice's matter."),
)


def collections_pack(month: str, *, scope: str = "firm", scope_id: str = "",
                     ledger_url: Any = None) -> Pack:
    """The collections pack of ``month`` (YYYY-MM) for the firm, a billing partner, a client
    or an office; ``ledger_url`` blank: $BILLXL_LEDGER, else ./billxl.db."""
    return source.build_pack("collections", "Collections", TABLES, month, scope, scope_id,
                             ledger_url)


__all__ = ["TABLES", "collections_pack"]
