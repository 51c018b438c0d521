"""Opening the ledger: which database, how to connect, and bringing its schema up to date.

The ledger is a SQLite file by default (``billxl.db`` in the working directory: no set-up) or
any database SQLAlchemy reaches by URL, PostgreSQL for a firm-wide install. The URL comes from
``--ledger``, else ``BILLXL_LEDGER``, else the default file.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from billxl.errors import LedgerError

DEFAULT_FILE = "billxl.db"
ENV_VAR = "BILLXL_LEDGER"
_MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(url: str | os.PathLike | None = None) -> str:
    """The ledger URL to use: the argument, else $BILLXL_LEDGER, else ./billxl.db.

    A bare path is taken as a SQLite file; ``postgresql://`` gets the psycopg 3 driver.
    """
    raw = str(url) if url else os.environ.get(ENV_VAR) or DEFAULT_FILE
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser()}"
    if raw.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def ledger_configured(url: str | os.PathLike | None = None) -> bool:
    """Whether a ledger is named (the argument or $BILLXL_LEDGER) or the default file is here."""
    return bool(url or os.environ.get(ENV_VAR) or Path(DEFAULT_FILE).exists())


#: How long a SQLite writer waits for another to finish before giving up (milliseconds);
#: ``BILLXL_BUSY_TIMEOUT`` (seconds) changes it.
BUSY_TIMEOUT_ENV = "BILLXL_BUSY_TIMEOUT"


def busy_timeout_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(BUSY_TIMEOUT_ENV, "30")))
    except ValueError:
        return 30.0


def is_busy(error: BaseException) -> bool:
    """Whether a database error means another process held the ledger too long."""
    text = str(getattr(error, "orig", error)).lower()
    return isinstance(error, sa.exc.OperationalError) and any(
        words in text for words in ("database is locked", "database table is locked",
                                    "lock timeout", "could not obtain lock"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")  # readers never block the one writer
    cur.execute("PRAGMA synchronous = NORMAL")  # durable at each commit under WAL
    # 64 MiB of pages per connection (the default is 2 MiB): a month's finalize updates and
    # inserts some 300,000 rows, and with the small cache it rereads the same pages again
    cur.execute("PRAGMA cache_size = -65536")
    # a second writer waits instead of failing
    cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_seconds() * 1000)}")
    cur.close()


_COMMITS = [0]  # commits made by this process, on any ledger (a read-only view watches it)


def commits() -> int:
    """How many transactions this process has committed to any ledger so far."""
    return _COMMITS[0]


def _counted(_conn) -> None:
    _COMMITS[0] += 1


def make_engine(url: str | os.PathLike | None = None) -> sa.Engine:
    resolved = resolve_url(url)
    engine = sa.create_engine(resolved, future=True)
    sa.event.listen(engine, "commit", _counted)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take control so that a
        # transaction really starts (and locks) when SQLAlchemy begins one.
        @sa.event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            # A write transaction takes SQLite's write lock at once, so that two writers queue
            # (busy_timeout) instead of one failing when it upgrades a read lock.
            write = conn.get_execution_options().get("billxl_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
    return engine


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(_MIGRATIONS))
    return script.get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Bring the ledger's schema to the newest revision (creates it in an empty database)."""
    command.upgrade(alembic_config(engine), "head")


def upgrade_ledger(url: str | os.PathLike | None = None) -> tuple[str, str | None]:
    """Migrate the ledger at ``url`` to the newest schema: its URL as shown (no password) and
    the revision it is at afterwards."""
    engine = make_engine(url)
    upgrade(engine)
    return engine.url.render_as_string(hide_password=True), current_revision(engine)


def check_schema(engine: sa.Engine) -> None:
    """Refuse to work on a ledger whose schema is not the one this billxl expects."""
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise LedgerError(
            f"The ledger at {engine.url.render_as_string(hide_password=True)} has not been set up. "
            "Run 'billxl init' first (or 'billxl demo' for a demo firm)."
        )
    if current != head:
        raise LedgerError(
            f"The ledger's schema is at revision {current} but this billxl expects {head}. "
            "Run 'billxl init --upgrade' to migrate it (back the database up first)."
        )
