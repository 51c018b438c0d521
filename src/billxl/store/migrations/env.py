"""Alembic environment: billxl passes its engine in ``config.attributes['engine']``."""

from alembic import context

from billxl.store.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: use sqlalchemy.url from the ini
    import sqlalchemy as sa

    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.dbapi_connection if sqlite else None
    if sqlite:
        # A batch migration copies a table and drops the old one, which fails while other
        # tables' foreign keys point at it. SQLite heeds this only outside a transaction (none
        # has begun yet); what the keys protect is checked before the migration commits.
        raw.execute("PRAGMA foreign_keys = OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows whose keys point nowhere: "
                                       f"{broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            raw.execute("PRAGMA foreign_keys = ON")
