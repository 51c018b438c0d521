"""Gapless invoice numbers, safe when two finalize runs happen at once.

Numbers come from one row per scope in ``invoice_sequences`` ('firm', or an office id when
the firm numbers per office). Taking numbers is an ``UPDATE ... RETURNING`` inside the same
transaction that writes the invoices: PostgreSQL locks the row until commit and SQLite's write
transactions are serialised (``BEGIN IMMEDIATE``), so a second run waits for the first and a
rolled-back run gives its numbers back — no duplicate and no gap.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from billxl.store import tables as t


def take_numbers(conn: sa.Connection, scope: str, count: int, *, prefix: str = "") -> list[str]:
    """Reserve ``count`` consecutive numbers in ``scope``; returns them formatted."""
    if count <= 0:
        return []
    seq = t.invoice_sequences
    # Create the scope's row if it is new; two runs racing here both succeed (one inserts).
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}[conn.dialect.name]
    conn.execute(insert(seq).values(scope=scope, prefix=prefix, next_number=1)
                 .on_conflict_do_nothing(index_elements=["scope"]))
    row = conn.execute(
        seq.update().where(seq.c.scope == scope)
        .values(next_number=seq.c.next_number + count)
        .returning(seq.c.next_number, seq.c.prefix)
    ).one()
    first = int(row.next_number) - count
    return [f"{row.prefix}{n:06d}" for n in range(first, first + count)]
