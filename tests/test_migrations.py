"""Upgrading a ledger that holds a firm's data: every migration after the master-data schema
(0006) keeps the rows and leaves a ledger this billxl opens (a firm upgrades, it does not start
again)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from billxl.store import db
from billxl.store.ledger import Ledger

ROWS = [
    ("firm", "INSERT INTO firm (firm_id, name, law_firm_id, currency, rounding, "
             "invoice_numbering, created_at) VALUES (1, 'Old & Co', '12-3', 'USD', 'half_up', "
             "'firm', '2026-01-01 00:00:00')"),
    ("offices", "INSERT INTO offices (office_id, name, currency) VALUES ('NY', 'New York', 'USD')"),
    ("timekeepers", "INSERT INTO timekeepers (timekeeper_id, first_name, last_name, "
                    "classification, office_id, active_from) VALUES ('TK1', 'Ann', 'Lee', "
                    "'PT', 'NY', '2020-01-01')"),
    ("clients", "INSERT INTO clients (client_id, name, currency, payment_terms_days, office_id)"
                " VALUES ('C1', 'Acme Corp', 'USD', 30, 'NY')"),
    ("matters", "INSERT INTO matters (matter_id, client_id, name, opened_on, billing_partner_id,"
                " fee_arrangement, utbms_required) VALUES ('C1-1', 'C1', 'Acme v. Zed', "
                "'2025-01-01', 'TK1', 'hourly', false)"),
]


def test_a_ledger_with_data_upgrades_to_the_newest_schema(ledger_url):
    engine = db.make_engine(ledger_url)
    command.upgrade(db.alembic_config(engine), "0006")
    with engine.begin() as conn:
        for _table, sql in ROWS:
            conn.exec_driver_sql(sql)
    url, revision = db.upgrade_ledger(ledger_url)
    assert revision == db.head_revision()
    ledger = Ledger.open(ledger_url)  # the schema check passes
    with ledger.engine.connect() as conn:
        for table, _sql in ROWS:
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 1
        matter = conn.execute(sa.text("SELECT client_id, billing_partner_id FROM matters")).one()
    assert tuple(matter) == ("C1", "TK1")
    ledger.dispose()
    engine.dispose()


def test_the_firms_folders_arrive_empty_and_a_downgrade_keeps_the_firm(ledger_url, tmp_path):
    """0008: the firm's templates and notebooks folders, added to a ledger that holds a firm
    (its weekend rule and guideline folder kept), set, and taken off again."""
    engine = db.make_engine(ledger_url)
    config = db.alembic_config(engine)
    command.upgrade(config, "0007")
    with engine.begin() as conn:
        conn.exec_driver_sql(ROWS[0][1])
        conn.exec_driver_sql("UPDATE firm SET weekend_rule = 'following', "
                             "guidelines_dir = '/firm/guidelines'")
    command.upgrade(config, "0008")
    folders = "SELECT name, weekend_rule, guidelines_dir, templates_dir, notebooks_dir FROM firm"
    with engine.begin() as conn:
        assert tuple(conn.execute(sa.text(folders)).one()) == (
            "Old & Co", "following", "/firm/guidelines", None, None)
        conn.exec_driver_sql(f"UPDATE firm SET templates_dir = '{tmp_path}'")
    command.downgrade(config, "0007")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("firm")}
        assert tuple(conn.execute(sa.text("SELECT name, weekend_rule FROM firm")).one()) == (
            "Old & Co", "following")
    assert not {"templates_dir", "notebooks_dir"} & columns
    engine.dispose()
