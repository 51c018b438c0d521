"""The ledger's reads and writes, as frames in and frames out.

Everything that changes the ledger happens inside one transaction and leaves an audit row
(who, when, table, key, before, after). Bulk writes go through the driver's fastest path
(``executemany`` on SQLite, ``COPY`` on PostgreSQL), never a statement per row from Python.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from billxl.errors import LedgerError
from billxl.schema import as_dates
from billxl.store import db
from billxl.store import tables as t


@contextmanager
def _reachable(engine: sa.Engine):
    """Say in words when the ledger's database cannot be reached at all."""
    try:
        yield
    except sa.exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise LedgerError(
            f"Cannot open the ledger at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}. Check the --ledger URL (or BILLXL_LEDGER), that the server is running, "
            "and that the folder exists and is writable."
        ) from None


def current_actor() -> str:
    """Who is making a change: $BILLXL_USER, else the login name."""
    try:
        return os.environ.get("BILLXL_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):  # pd.isna of a list is an array, not a truth value
        return [_jsonable(v) for v in value]
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, datetime) and value.time() == datetime.min.time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def jsonable_row(row: dict) -> dict:
    return {k: _jsonable(v) for k, v in row.items()}


class Ledger:
    """A handle on one ledger database."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, url: str | os.PathLike | None = None) -> Ledger:
        """Open an existing ledger; refuses one that is missing or at another schema version."""
        engine = db.make_engine(url)
        with _reachable(engine):
            db.check_schema(engine)
        return cls(engine)

    @classmethod
    def create(cls, url: str | os.PathLike | None = None, *, firm: dict,
               actor: str | None = None) -> Ledger:
        """Create the schema (or bring it up to date) and record the firm's settings."""
        engine = db.make_engine(url)
        with _reachable(engine):
            db.upgrade(engine)
        ledger = cls(engine)
        with ledger.transaction() as conn:
            existing = conn.execute(sa.select(t.firm.c.firm_id)).first()
            if existing is not None:
                raise LedgerError(
                    f"The ledger at {ledger.display_url} already holds a firm. "
                    "Use another --ledger, or remove the file to start again."
                )
            row = {"firm_id": 1, "created_at": _now(), **firm}
            conn.execute(t.firm.insert(), row)
            ledger.audit(conn, "insert", "firm", "1", None, jsonable_row(row), actor=actor)
        return ledger

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def transaction(self):
        """A write transaction: commits at the end of the ``with`` block, rolls back on error."""
        return self.engine.execution_options(billxl_write=True).begin()

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ audit
    def audit(self, conn: sa.Connection, action: str, table: str, key: str,
              before: dict | None, after: dict | None, *, actor: str | None = None) -> None:
        conn.execute(t.audit_log.insert(), {
            "at": _now(), "actor": actor or current_actor(), "action": action,
            "table_name": table, "row_key": key, "before": before, "after": after,
        })

    def audit_many(self, conn: sa.Connection, action: str, table: str,
                   rows: Iterable[tuple[str, dict | None, dict | None]], *,
                   actor: str | None = None) -> None:
        at, who = _now(), actor or current_actor()
        records = [{"at": at, "actor": who, "action": action, "table_name": table,
                    "row_key": key, "before": before, "after": after}
                   for key, before, after in rows]
        if records:
            conn.execute(t.audit_log.insert(), records)

    # ------------------------------------------------------------------ reads
    def read_frame(self, query: sa.Select | sa.Table, conn: sa.Connection | None = None,
                   dates: Iterable[str] = ()) -> pd.DataFrame:
        """Run a query and return a frame; ``dates`` columns come back as datetime64."""
        if isinstance(query, sa.Table):
            query = sa.select(query)
        if conn is None:
            with self.engine.connect() as c:
                return self.read_frame(query, c, dates)
        result = conn.execute(query)
        columns = list(result.keys())
        rows = result.fetchall()
        # Build columns from the row tuples: pandas probes each Row object when handed a list
        # of them, which costs seconds on a few hundred thousand rows.
        values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
        frame = pd.DataFrame({c: list(v) for c, v in zip(columns, values, strict=True)},
                             columns=columns)
        for col in dates:
            frame[col] = as_dates(frame[col]).to_numpy()
        return frame

    def firm(self) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.firm)).mappings().first()
        if row is None:
            raise LedgerError(f"The ledger at {self.display_url} has no firm; run 'billxl init'.")
        return dict(row)

    def timekeepers(self) -> pd.DataFrame:
        return self.read_frame(t.timekeepers, dates=("active_from", "active_to"))

    def clients(self) -> pd.DataFrame:
        return self.read_frame(t.clients)

    def matters(self) -> pd.DataFrame:
        return self.read_frame(t.matters, dates=("opened_on", "closed_on"))

    def rates(self) -> pd.DataFrame:
        return self.read_frame(t.rates, dates=("effective_from", "effective_to"))

    def time_entries(self, *, status: str | None = None, start: date | None = None,
                     end: date | None = None) -> pd.DataFrame:
        """Time entries, optionally by status and work-date range (inclusive)."""
        q = sa.select(t.time_entries)
        if status:
            q = q.where(t.time_entries.c.status == status)
        if start:
            q = q.where(t.time_entries.c.work_date >= start)
        if end:
            q = q.where(t.time_entries.c.work_date <= end)
        return self.read_frame(q.order_by(t.time_entries.c.entry_pk),
                               dates=("work_date", "entered_on"))

    def expenses(self, *, status: str | None = None) -> pd.DataFrame:
        q = sa.select(t.expenses)
        if status:
            q = q.where(t.expenses.c.status == status)
        return self.read_frame(q.order_by(t.expenses.c.expense_pk), dates=("work_date",))

    def count(self, table: sa.Table) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    # ------------------------------------------------------------------ writes
    def bulk_insert(self, conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> int:
        """Insert every row of ``frame`` (columns named as the table's) in one driver call."""
        if frame.empty:
            return 0
        columns = [c for c in frame.columns if c in table.c]
        rows = _driver_rows(frame[columns], table, self.dialect)
        if self.dialect == "postgresql":
            _copy_postgres(conn, table, columns, rows)
        else:
            placeholders = ", ".join("?" for _ in columns)
            sql = f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({placeholders})'
            conn.exec_driver_sql(sql, rows)
        return len(frame)

    def load_reference(self, frames: dict[str, pd.DataFrame], *, actor: str | None = None) -> None:
        """Add reference data (offices, people, clients, matters, rates, terms) in one transaction.

        ``frames`` maps table names to frames whose columns are the table's. The tables are
        written in dependency order; the audit log records one row per table loaded.
        """
        order = ["offices", "timekeepers", "clients", "matters", "rates", "tax_rates",
                 "matter_terms", "matter_payors", "fixed_fees"]
        unknown = set(frames) - set(order)
        if unknown:
            raise LedgerError(f"load_reference does not load {sorted(unknown)}")
        with self.transaction() as conn:
            for name in order:
                if name in frames and not frames[name].empty:
                    n = self.bulk_insert(conn, t.metadata.tables[name], frames[name])
                    self.audit(conn, "import", name, f"{n} rows", None, {"rows": n}, actor=actor)


def _driver_values(values: pd.Series, column: sa.Column, dialect: str) -> list:
    """One column as the DBAPI driver takes it: ISO date text, ints, None for missing."""
    missing = values.isna().to_numpy()
    if isinstance(column.type, sa.Date):
        days = as_dates(values).to_numpy().astype("datetime64[D]")
        out = np.datetime_as_string(days).astype(object)
    elif isinstance(column.type, sa.DateTime):
        out = values.astype(object).to_numpy()
    elif isinstance(column.type, sa.Boolean):
        flags = values.astype("boolean").fillna(False).to_numpy(dtype=bool)
        out = (np.where(flags, "t", "f") if dialect == "postgresql"
               else flags.astype(np.int64)).astype(object)
    elif isinstance(column.type, sa.Integer):  # BigInteger and Integer
        out = values.astype("Int64").fillna(0).to_numpy(dtype=np.int64).astype(object)
    else:
        out = values.to_numpy(dtype=object)
    if missing.any():
        out = out.copy()
        out[missing] = None
    return out.tolist()


def _driver_rows(frame: pd.DataFrame, table: sa.Table, dialect: str) -> list[tuple]:
    columns = [_driver_values(frame[name], table.c[name], dialect) for name in frame.columns]
    return list(zip(*columns, strict=True))


def _copy_postgres(conn: sa.Connection, table: sa.Table, columns: list[str],
                   rows: list[tuple]) -> None:
    raw = conn.connection.driver_connection  # psycopg 3 connection, inside our transaction
    cols = ", ".join(columns)
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
        for record in rows:
            copy.write_row(record)


__all__ = ["Ledger", "current_actor", "jsonable_row"]
