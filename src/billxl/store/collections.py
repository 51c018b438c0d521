"""The collections notes' reads and writes (the AR worklist's memory of who was called)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t


def client_currency(conn: sa.Connection, client: str) -> str | None:
    """A client's currency, None when there is no such client."""
    return conn.execute(sa.select(t.clients.c.currency)
                        .where(t.clients.c.client_id == client)).scalar()


def invoice_of(conn: sa.Connection, number: str) -> dict | None:
    """An invoice's key, client and currency by its number (None if there is none)."""
    found = conn.execute(sa.select(t.invoices.c.invoice_pk, t.invoices.c.client_id,
                                   t.invoices.c.currency)
                         .where(t.invoices.c.number == number)).mappings().first()
    return None if found is None else dict(found)


def insert_note(ledger, conn: sa.Connection, row: dict, actor: str) -> int:
    """Insert one note (with its audit row) and return its key."""
    pk = conn.execute(t.collection_notes.insert().returning(t.collection_notes.c.note_pk),
                      row).scalar_one()
    shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    ledger.audit(conn, "insert", "collection_notes", str(pk), None, shown, actor=actor)
    return int(pk)


def notes(conn: sa.Connection, client: str | None = None) -> pd.DataFrame:
    """Collections notes, newest first, with the invoice number when a note names one."""
    cn = t.collection_notes.c
    query = (sa.select(t.collection_notes, t.invoices.c.number.label("invoice"))
             .select_from(t.collection_notes.outerjoin(
                 t.invoices, t.invoices.c.invoice_pk == cn.invoice_pk))
             .order_by(cn.contacted_on.desc(), cn.note_pk.desc()))
    if client:
        query = query.where(cn.client_id == client)
    result = conn.execute(query)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in ("contacted_on", "promised_on"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


__all__ = ["client_currency", "insert_note", "invoice_of", "notes"]
