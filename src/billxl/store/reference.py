"""The read of the firm's reference data: one query per table, in one connection.

Frames come back with the columns of their tables; dates as datetime64, nullable whole numbers
(amounts in minor units) as Int64, never float.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from billxl.errors import LedgerError
from billxl.store import tables as t

#: The reference tables, read whole.
TABLES = ("offices", "timekeepers", "clients", "matters", "rates", "matter_terms", "tax_rates",
          "matter_payors", "fixed_fees")

__all__ = ["TABLES", "read_firm", "read_reference"]


def _frame(ledger, conn: sa.Connection, table: sa.Table) -> pd.DataFrame:
    dates = [c.name for c in table.c if isinstance(c.type, sa.Date)]
    frame = ledger.read_frame(table, conn, dates=dates)
    for c in table.c:
        if c.nullable and isinstance(c.type, sa.Integer) and frame[c.name].dtype != "int64":
            frame[c.name] = frame[c.name].astype("Int64")
    return frame


def read_firm(conn: sa.Connection) -> dict:
    """The firm's row; refused when the ledger has none."""
    row = conn.execute(sa.select(t.firm)).mappings().first()
    if row is None:
        raise LedgerError("The ledger has no firm; run 'billxl init'.")
    return dict(row)


def read_reference(ledger, conn: sa.Connection | None = None) -> dict:
    """The firm row (``firm``) and every reference table as a frame, by table name (what
    :meth:`billxl.reference.Reference.from_frames` takes)."""
    if conn is None:
        with ledger.engine.connect() as c:
            return read_reference(ledger, c)
    out: dict = {"firm": read_firm(conn)}
    for table in TABLES:
        out[table] = _frame(ledger, conn, t.metadata.tables[table])
    return out
