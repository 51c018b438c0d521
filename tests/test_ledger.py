"""The ledger on both backends: schema from migrations, constraints, bulk writes, audit."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from billxl.errors import LedgerError
from billxl.store import db
from billxl.store import tables as t
from billxl.store.ledger import Ledger

OFFICES = pd.DataFrame([{"office_id": "NYC", "name": "New York", "city": "New York",
                         "country": "US", "currency": "USD"}])
TIMEKEEPERS = pd.DataFrame([
    {"timekeeper_id": "TK1", "first_name": "Jane", "last_name": "Smith", "user_name": "Jane Smith",
     "classification": "PARTNR", "office_id": "NYC", "active_from": pd.Timestamp("2020-01-01"),
     "active_to": pd.NaT},
    {"timekeeper_id": "TK2", "first_name": "Raj", "last_name": "Patel", "user_name": "Raj Patel",
     "classification": "ASSOC", "office_id": "NYC", "active_from": pd.Timestamp("2022-09-01"),
     "active_to": pd.Timestamp("2026-10-15")},
])
CLIENTS = pd.DataFrame([{"client_id": "C1", "name": "Acme Corp", "currency": "USD",
                         "payment_terms_days": 30, "ebilling_portal": None}])
MATTERS = pd.DataFrame([{"matter_id": "C1-1", "client_id": "C1", "name": "Acme v. Beta",
                         "opened_on": pd.Timestamp("2025-03-01"), "closed_on": pd.NaT,
                         "billing_partner_id": "TK1", "fee_arrangement": "hourly",
                         "utbms_required": True}])
RATES = pd.DataFrame([{"kind": "standard", "timekeeper_id": "TK1", "classification": None,
                       "client_id": None, "matter_id": None, "currency": "USD",
                       "rate_minor": 95000, "effective_from": pd.Timestamp("2026-01-01"),
                       "effective_to": pd.NaT}])


def _entry(**over):
    row = {"source": "test", "source_key": "E1", "entry_id": "E1", "timekeeper_id": "TK1",
           "matter_id": "C1-1", "work_date": date(2026, 10, 5), "hours_milli": 1500,
           "rate_minor": 95000, "amount_minor": 142500, "currency": "USD",
           "narrative": "=SUM(A1) is text", "billable": True, "row_hash": "0" * 16}
    row.update(over)
    return row


@pytest.fixture
def ledger(empty_ledger):
    empty_ledger.load_reference({"offices": OFFICES, "timekeepers": TIMEKEEPERS,
                                 "clients": CLIENTS, "matters": MATTERS, "rates": RATES},
                                actor="test")
    return empty_ledger


def test_migrations_build_exactly_the_declared_schema(empty_ledger):
    with empty_ledger.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, t.metadata)
    assert diff == []
    assert db.current_revision(empty_ledger.engine) == db.head_revision()


def test_open_refuses_a_database_without_a_ledger(tmp_path):
    with pytest.raises(LedgerError, match="has not been set up"):
        Ledger.open(tmp_path / "nothing.db")


def test_create_refuses_a_second_firm(ledger_url):
    Ledger.create(ledger_url, firm={"name": "A", "law_firm_id": "1"}).dispose()
    with pytest.raises(LedgerError, match="already holds a firm"):
        Ledger.create(ledger_url, firm={"name": "B", "law_firm_id": "2"})


def test_reference_data_round_trips_with_dates(ledger):
    tks = ledger.timekeepers().set_index("timekeeper_id")
    assert tks.loc["TK2", "active_to"] == pd.Timestamp("2026-10-15")
    assert pd.isna(tks.loc["TK1", "active_to"])
    assert ledger.matters().loc[0, "utbms_required"]
    assert ledger.rates().loc[0, "rate_minor"] == 95000
    assert ledger.firm()["rounding"] == "half_up"


def test_bulk_insert_keeps_formula_text_and_exact_numbers(ledger):
    frame = pd.DataFrame([_entry(), _entry(source_key="E2", entry_id="E2", hours_milli=1,
                                           narrative="@mention", billable=False)])
    with ledger.transaction() as conn:
        assert ledger.bulk_insert(conn, t.time_entries, frame) == 2
    got = ledger.time_entries().set_index("entry_id")
    assert got.loc["E1", "narrative"] == "=SUM(A1) is text"
    assert got.loc["E2", "narrative"] == "@mention"
    assert got.loc["E2", "hours_milli"] == 1
    assert got.loc["E1", "status"] == "WIP"
    assert not got.loc["E2", "billable"]
    assert got.loc["E1", "work_date"] == pd.Timestamp("2026-10-05")


def test_the_store_refuses_what_the_invariants_forbid(ledger):
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), _entry(status="invoiced"))
    with ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), _entry())
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), _entry(entry_id="again"))  # same source key
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.time_entries.insert(), _entry(source_key="E9", matter_id="NOPE"))
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.rates.insert(), {"kind": "override", "timekeeper_id": "TK1",
                                        "currency": "USD", "rate_minor": 1,
                                        "effective_from": date(2026, 1, 1)})  # no client/matter
    assert ledger.count(t.time_entries) == 1


def test_a_failed_transaction_leaves_nothing_behind(ledger):
    before = ledger.count(t.time_entries), ledger.count(t.audit_log)
    frame = pd.DataFrame([_entry(source_key=f"K{i}", entry_id=f"K{i}") for i in range(50)])
    with pytest.raises(RuntimeError), ledger.transaction() as conn:
        ledger.bulk_insert(conn, t.time_entries, frame)
        ledger.audit(conn, "import", "time_entries", "batch", None, {"rows": 50})
        raise RuntimeError("power cut")
    assert (ledger.count(t.time_entries), ledger.count(t.audit_log)) == before


def test_audit_log_records_who_what_before_and_after(ledger):
    with ledger.transaction() as conn:
        ledger.audit(conn, "update", "time_entries", "test/E1", {"hours_milli": 1500},
                     {"hours_milli": 1200}, actor="secretary.jones")
    log = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "update"))
    assert log.loc[0, "actor"] == "secretary.jones"
    assert log.loc[0, "before"] == {"hours_milli": 1500}
    assert log.loc[0, "after"] == {"hours_milli": 1200}
    loads = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "import"))
    assert set(loads["table_name"]) == {"offices", "timekeepers", "clients", "matters", "rates"}


def test_resolve_url(monkeypatch, tmp_path):
    monkeypatch.delenv("BILLXL_LEDGER", raising=False)
    assert db.resolve_url(None) == "sqlite:///billxl.db"
    assert db.resolve_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"
    assert db.resolve_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    monkeypatch.setenv("BILLXL_LEDGER", "sqlite:///elsewhere.db")
    assert db.resolve_url(None) == "sqlite:///elsewhere.db"


def test_a_final_invoice_cannot_change_in_the_store_itself(ledger):
    from datetime import UTC, datetime

    invoice = {"number": "2026-00001", "client_id": "C1", "matter_id": "C1-1", "currency": "USD",
               "invoice_date": date(2026, 11, 1), "due_date": date(2026, 12, 1),
               "description": "For services rendered", "fees_minor": 100000,
               "expenses_minor": 2500, "discount_minor": 0, "tax_minor": 0,
               "total_minor": 102500, "rounding": "half_up",
               "finalized_at": datetime.now(UTC), "finalized_by": "test"}
    with ledger.transaction() as conn:
        pk = conn.execute(t.invoices.insert().returning(t.invoices.c.invoice_pk), invoice).scalar_one()
        conn.execute(t.invoice_lines.insert(), {
            "invoice_pk": pk, "line_no": 1, "line_type": "F", "work_date": date(2026, 10, 5),
            "narrative": "Draft motion", "quantity_milli": 1000, "unit_minor": 100000,
            "standard_amount_minor": 100000, "amount_minor": 100000})
    for statement in (sa.update(t.invoices).values(total_minor=1),
                      sa.delete(t.invoices),
                      sa.update(t.invoice_lines).values(narrative="changed"),
                      sa.delete(t.invoice_lines)):
        with pytest.raises(sa.exc.DatabaseError, match="credit note"), ledger.transaction() as conn:
            conn.execute(statement)
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.invoices.insert(), {**invoice, "number": "2026-00002", "total_minor": 5})
    got = ledger.read_frame(sa.select(t.invoices))
    assert got["total_minor"].tolist() == [102500]
