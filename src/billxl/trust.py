"""Trust (client) money: a ledger per client and matter, and evergreen retainers.

Deposits, applications to invoices (each with the client's authorisation reference) and
refunds are rows of ``trust_entries``; none is ever edited or deleted (the store refuses). A
matter's trust balance, in its currency, is the sum of its entries, taken in the order they
were recorded, and it can never go below zero: the store itself refuses an entry that would
take it there (a trigger on SQLite and PostgreSQL, which on PostgreSQL also serialises two
transactions drawing on the same matter), and the functions here say so in words first.

An application to an invoice is also an allocation (``rule = 'trust'``) written in the same
transaction, so the invoice's balance falls by exactly what left trust.

An evergreen retainer (``retainers``) keeps a matter's trust balance at or above a minimum:
when it falls below, :func:`top_up_requests` asks the client for enough to bring it back to
the target.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from billxl import money
from billxl.errors import LedgerError
from billxl.figures import trust as trust_figure
from billxl.payments import exact_amount, invoice_balances, operation_date
from billxl.store import cash, reads

__all__ = ["deposit", "apply_to_invoice", "refund", "set_retainer", "balances",
           "top_up_requests", "trust_ledger"]


def _matter(conn: Any, matter: str) -> dict:
    found = cash.matter_account(conn, matter)
    if found is None:
        raise LedgerError(f"There is no matter {matter} in the ledger.")
    return found


def _held(conn: Any, matter: str, currency: str) -> tuple[int, int]:
    """The matter's trust balance in ``currency`` and the top-up its retainer asks for now:
    :func:`billxl.figures.trust.trust_balances` over the matter's entries and retainer."""
    figure = trust_figure.trust_balances(reads.trust_entries(conn, matter=matter),
                                         reads.retainers(conn, matter=matter))
    row = figure[figure["currency"] == currency]
    if row.empty:
        return 0, 0
    return int(row["balance_minor"].iloc[0]), int(row["top_up_minor"].iloc[0])


def _result(conn: Any, matter: dict, pk: int, kind: str, minor: int) -> dict:
    cur = matter["currency"]
    balance, wanted = _held(conn, matter["matter_id"], cur)
    return {"trust_entry_pk": pk, "kind": kind, "matter_id": matter["matter_id"],
            "client_id": matter["client_id"], "currency": cur, "amount_minor": minor,
            "balance_minor": balance, "top_up_minor": wanted}


def deposit(ledger, matter: str, amount: Any, *, reference: str, on: date | None = None,
            actor: str | None = None) -> dict:
    """Money received into trust for a matter (a retainer, a top-up, funds held)."""
    from billxl.store.ledger import current_actor

    actor = actor or current_actor()
    with ledger.transaction() as conn:
        m = _matter(conn, matter)
        minor = exact_amount(amount, m["currency"], "The deposit")
        row = {"client_id": m["client_id"], "matter_id": matter, "currency": m["currency"],
               "kind": "deposit", "entry_date": operation_date(on, None, "The deposit date"),
               "amount_minor": minor, "reference": (reference or "").strip()[:100]}
        pk = cash.insert_trust_entry(ledger, conn, row, actor)
        return _result(conn, m, pk, "deposit", minor)


def apply_to_invoice(ledger, matter: str, invoice: str, amount: Any = None, *,
                     authorisation: str, on: date | None = None,
                     actor: str | None = None) -> dict:
    """Pay an invoice from the matter's trust money, on the client's authorisation.

    Without an amount, pays as much of the invoice as the trust balance allows. The invoice
    must be the same client's and in the same currency.
    """
    from billxl.store.ledger import current_actor

    if not (authorisation and authorisation.strip()):
        raise LedgerError("Applying trust money needs the client's authorisation reference.")
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        cash.lock_cash(conn)
        m = _matter(conn, matter)
        cur = m["currency"]
        found = invoice_balances(ledger, conn, client=None)
        found = found[found["number"] == invoice]
        if found.empty:
            raise LedgerError(f"There is no invoice {invoice} in the ledger.")
        inv = found.iloc[0]
        if inv["client_id"] != m["client_id"]:
            raise LedgerError(f"Invoice {invoice} is client {inv['client_id']}'s; the trust money "
                              f"of matter {matter} is client {m['client_id']}'s.")
        if inv["currency"] != cur:
            raise LedgerError(f"Invoice {invoice} is in {inv['currency']}; the trust money of "
                              f"matter {matter} is in {cur}.")
        held, owed = _held(conn, matter, cur)[0], int(inv["balance_minor"])
        minor = min(held, owed) if amount is None else exact_amount(amount, cur, "The amount")
        if minor <= 0:
            raise LedgerError(f"Nothing to apply: matter {matter} holds "
                              f"{money.format_amount(held, cur)} {cur} in trust and invoice "
                              f"{invoice} owes {money.format_amount(owed, cur)}.")
        if minor > owed:
            raise LedgerError(f"Invoice {invoice} owes {money.format_amount(owed, cur)} {cur}; "
                              f"{money.format_amount(minor, cur)} is more than that.")
        if minor > held:
            raise LedgerError(f"Matter {matter} holds {money.format_amount(held, cur)} {cur} in "
                              f"trust; {money.format_amount(minor, cur)} would take it below zero.")
        on = operation_date(on, inv["invoice_date"].date(), "The date applied")
        pk = cash.insert_trust_entry(ledger, conn, {
            "client_id": m["client_id"], "matter_id": matter, "currency": cur,
            "kind": "application", "entry_date": on, "amount_minor": -minor,
            "reference": invoice, "authorisation": authorisation.strip()[:100],
            "invoice_pk": int(inv["invoice_pk"])}, actor)
        cash.insert_allocations(conn, [{
            "trust_entry_pk": pk, "invoice_pk": int(inv["invoice_pk"]), "applied_on": on,
            "kind": "apply", "rule": "trust", "amount_minor": minor,
            "expenses_minor": min(minor, int(inv["expenses_open_minor"])),
            "created_at": datetime.now(UTC), "created_by": actor}])
        out = _result(conn, m, pk, "application", minor)
    return out | {"invoice": invoice, "invoice_balance_minor": owed - minor}


def refund(ledger, matter: str, amount: Any, *, reference: str, reason: str,
           on: date | None = None, actor: str | None = None) -> dict:
    """Pay trust money back to the client."""
    from billxl.store.ledger import current_actor

    if not (reference and reference.strip()) or not (reason and reason.strip()):
        raise LedgerError("A trust refund needs a reference (the payment out) and a reason.")
    actor = actor or current_actor()
    with ledger.transaction() as conn:
        m = _matter(conn, matter)
        cur = m["currency"]
        minor = exact_amount(amount, cur, "The refund")
        held = _held(conn, matter, cur)[0]
        if minor > held:
            raise LedgerError(f"Matter {matter} holds {money.format_amount(held, cur)} {cur} in "
                              f"trust; a refund of {money.format_amount(minor, cur)} would take it "
                              "below zero.")
        pk = cash.insert_trust_entry(ledger, conn, {
            "client_id": m["client_id"], "matter_id": matter, "currency": cur, "kind": "refund",
            "entry_date": operation_date(on, None, "The refund date"), "amount_minor": -minor,
            "reference": reference.strip()[:100], "reason": reason.strip()}, actor)
        return _result(conn, m, pk, "refund", minor)


def set_retainer(ledger, matter: str, *, minimum: Any, target: Any = None,
                 actor: str | None = None) -> dict:
    """Make a matter's retainer evergreen: keep at least ``minimum``, top up to ``target``."""
    from billxl.store.ledger import current_actor

    actor = actor or current_actor()
    with ledger.transaction() as conn:
        m = _matter(conn, matter)
        cur = m["currency"]
        low = money.to_minor(money.D(minimum), cur)
        high = low if target is None else money.to_minor(money.D(target), cur)
        if low < 0 or high < low:
            raise LedgerError("A retainer's minimum must be 0 or more, and its target at least "
                              "the minimum.")
        before = cash.retainer_of(conn, matter)
        row = {"matter_id": matter, "currency": cur, "minimum_minor": low, "target_minor": high,
               "set_at": datetime.now(UTC), "set_by": actor}
        cash.save_retainer(ledger, conn, row, before, actor)
        balance, wanted = _held(conn, matter, cur)
        return {**row, "balance_minor": balance, "top_up_minor": wanted}


def balances(ledger, *, client: str | None = None, matter: str | None = None,
             as_of: date | None = None) -> pd.DataFrame:
    """Trust balance per client, matter and currency, with the retainer and any top-up due.

    :func:`billxl.figures.trust.trust_balances` defines it; matters with a retainer but no
    entries yet are listed too (balance 0).
    """
    with ledger.engine.connect() as conn:
        entries, retainers = reads.trust_entries(conn, as_of=as_of), reads.retainers(conn)
    frame = trust_figure.trust_balances(entries, retainers, as_of=as_of)
    if client:
        frame = frame[frame["client_id"] == client]
    if matter:
        frame = frame[frame["matter_id"] == matter]
    return frame.reset_index(drop=True)


def top_up_requests(ledger) -> pd.DataFrame:
    """Evergreen retainers below their minimum: what to ask each client for."""
    frame = balances(ledger)
    return frame[frame["below_minimum"]].reset_index(drop=True)


def trust_ledger(ledger, matter: str) -> pd.DataFrame:
    """A matter's trust entries in the order recorded, with the running balance."""
    frame = cash.trust_ledger_rows(ledger, matter)
    frame["balance_minor"] = frame.groupby("currency")["amount_minor"].cumsum().astype("int64") \
        if len(frame) else pd.Series(dtype="int64")
    return frame
