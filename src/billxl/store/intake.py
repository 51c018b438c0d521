"""The import's reads and writes: the stored keys a file's rows match, the import batch, and the
new and changed entries (each change audited with before and after).

``billxl.intake`` reads and checks the file and plans the import over what these return; its
``import_file`` runs plan -> write inside one ``ledger.transaction()``. Entries are written
through the driver's fastest path (``Ledger.bulk_insert``), never a statement per row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger, jsonable_row

__all__ = ["big_page_cache", "stored_keys", "insert_batch", "insert_entries", "update_entries",
           "audit_batch"]

Kind = Literal["time", "expenses"]
#: kind -> (its table, that table's key column)
_TABLES = {"time": (t.time_entries, "entry_pk"), "expenses": (t.expenses, "expense_pk")}
_SQLITE_CACHE_KIB = 512 * 1024  # page cache for an import on SQLite (used only as needed)
_BEFORE_CHUNK = 500  # keys per read of the changed entries' stored values


@contextlib.contextmanager
def big_page_cache(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, a page cache big enough for the indexes a large import touches.

    SQLite's default cache (2 MB) is far smaller than the indexes of a month of entries; each
    insert then evicts pages it needs again soon (about a fifth of the write time at 300,000
    rows). The memory is taken only as pages are used, and the setting is put back after.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-_SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def stored_keys(ledger: Ledger, conn: sa.Connection, kind: Kind, source: str,
                keys: pd.Series) -> pd.DataFrame:
    """The stored ``pk, source_key, row_hash, status`` of the entries of ``source`` whose
    ``source_key`` is one of ``keys`` (``pk`` is the table's key).

    The file's keys go into a temporary table and one join finds them, so that a ledger
    holding years of entries is not read whole for each import.
    """
    table, pk = _TABLES[kind]
    names = ["pk", "source_key", "row_hash", "status"]
    first = conn.execute(sa.select(table.c.source).where(table.c.source == source).limit(1)).first()
    if first is None or keys.empty:  # a new source: nothing to compare against
        return pd.DataFrame(columns=names)
    scratch = sa.Table("billxl_import_keys", sa.MetaData(), sa.Column("source_key", sa.String(100)),
                       prefixes=["TEMPORARY"])
    scratch.create(conn)
    ledger.bulk_insert(conn, scratch, pd.DataFrame({"source_key": keys.to_numpy(dtype=object)}))
    query = (sa.select(*(table.c[c] for c in (pk, *names[1:])))
             .select_from(scratch.join(table, sa.and_(table.c.source == source,
                                                      table.c.source_key == scratch.c.source_key))))
    result = conn.execute(query)
    # columns straight from the rows' tuples: pandas' DataFrame(list of Row) probes each Row
    # object's attributes, which costs seconds on a few hundred thousand rows
    values = list(zip(*result.fetchall(), strict=True)) or [()] * len(names)
    stored = pd.DataFrame(dict(zip(names, map(list, values), strict=True)), columns=names)
    scratch.drop(conn)
    return stored


def insert_batch(conn: sa.Connection, batch: dict) -> int:
    """Insert an ``import_batches`` row; its id (audited by :func:`audit_batch` once written)."""
    return int(conn.execute(t.import_batches.insert(), batch).inserted_primary_key[0])


def insert_entries(ledger: Ledger, conn: sa.Connection, kind: Kind, frame: pd.DataFrame) -> int:
    """Insert new entries (the columns of ``frame`` that the kind's table has) in one call."""
    return ledger.bulk_insert(conn, _TABLES[kind][0], frame)


def update_entries(ledger: Ledger, conn: sa.Connection, kind: Kind, changed: pd.DataFrame,
                   columns: tuple[str, ...], actor: str) -> None:
    """Update changed entries in place: ``changed`` holds each one's key as ``pk`` and its new
    values; of ``columns``, those the table and the frame both have are written. One audit row
    each with before and after."""
    table, pk = _TABLES[kind]
    columns = [c for c in columns if c in table.c and c in changed]
    pks = changed["pk"].tolist()
    before: dict[int, dict] = {}
    for start in range(0, len(pks), _BEFORE_CHUNK):
        chunk = pks[start:start + _BEFORE_CHUNK]
        query = sa.select(table.c[pk], *(table.c[c] for c in columns)).where(table.c[pk].in_(chunk))
        for row in conn.execute(query).mappings():
            before[int(row[pk])] = jsonable_row({c: row[c] for c in columns})
    params, audits = [], []
    for record in changed.to_dict("records"):
        values = {c: _db_value(record[c], table.c[c].type) for c in columns}
        params.append({"b_pk": int(record["pk"]), **{f"b_{c}": v for c, v in values.items()}})
        audits.append((str(int(record["pk"])), before.get(int(record["pk"])), jsonable_row(values)))
    stmt = (table.update().where(table.c[pk] == sa.bindparam("b_pk"))
            .values({c: sa.bindparam(f"b_{c}") for c in columns}))
    conn.execute(stmt, params)
    ledger.audit_many(conn, "update", table.name, audits, actor=actor)


def audit_batch(ledger: Ledger, conn: sa.Connection, batch_id: int, batch: dict,
                actor: str) -> None:
    """The import batch's audit row (written after its entries)."""
    ledger.audit(conn, "import", "import_batches", str(batch_id), None,
                 jsonable_row({"batch_id": batch_id, **batch}), actor=actor)


def _db_value(value: Any, column_type: sa.types.TypeEngine) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if value is pd.NaT:
        return None
    if isinstance(column_type, sa.Boolean):
        return bool(value)
    if isinstance(column_type, sa.Integer):
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
