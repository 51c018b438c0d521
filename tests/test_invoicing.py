"""Finalize approved pre-bills into invoices; credit notes; gapless numbers under concurrency."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from billxl import money
from billxl.billing.credit_notes import issue_credit_note, list_invoices
from billxl.billing.invoicing import finalize, percent_of_array, split_amounts
from billxl.errors import LedgerError
from billxl.money import Rounding
from billxl.store import tables as t

D = Decimal


def ts(text):
    return pd.Timestamp(text)


def reference():
    offices = pd.DataFrame([{"office_id": "NYC", "name": "New York", "currency": "USD"},
                            {"office_id": "LDN", "name": "London", "currency": "GBP"}])
    tks = pd.DataFrame([
        {"timekeeper_id": "TK1", "first_name": "Jane", "last_name": "Smith",
         "classification": "PARTNR", "office_id": "NYC", "active_from": ts("2020-01-01")},
        {"timekeeper_id": "TK2", "first_name": "Raj", "last_name": "Patel",
         "classification": "ASSOC", "office_id": "LDN", "active_from": ts("2020-01-01")}])
    clients = pd.DataFrame([
        {"client_id": "C1", "name": "Acme Corp", "currency": "USD", "tax_jurisdiction": "US-NY",
         "payment_terms_days": 30},
        {"client_id": "C2", "name": "Brit Ltd", "currency": "GBP", "tax_jurisdiction": "GB",
         "payment_terms_days": 45},
        {"client_id": "C3", "name": "Acme Insurance", "currency": "USD",
         "tax_jurisdiction": "US-NY", "payment_terms_days": 60}])
    matter = {"billing_partner_id": "TK1", "opened_on": ts("2026-01-01"), "office_id": "NYC",
              "fee_arrangement": "hourly", "fixed_fee_minor": None}
    matters = pd.DataFrame([
        {**matter, "matter_id": "M1", "client_id": "C1", "name": "Hourly"},
        {**matter, "matter_id": "M2", "client_id": "C2", "name": "Discounted, VAT",
         "office_id": "LDN"},
        {**matter, "matter_id": "M3", "client_id": "C1", "name": "Fixed fee",
         "fee_arrangement": "fixed", "fixed_fee_minor": 500000},
        {**matter, "matter_id": "M4", "client_id": "C1", "name": "Capped",
         "fee_arrangement": "capped", "fixed_fee_minor": 100000},
        {**matter, "matter_id": "M5", "client_id": "C1", "name": "Split 60/40"},
        {**matter, "matter_id": "M6", "client_id": "C1", "name": "Transfer target"},
    ])
    return {"offices": offices, "timekeepers": tks, "clients": clients, "matters": matters}


# (matter, timekeeper, hours milli, rate minor, bill amount minor, action, transfer_to, kind)
LINES = [
    ("M1", "TK1", 1500, 50000, 75000, "bill", None, "time"),
    ("M1", "TK1", 1000, 50000, 50000, "write_off", None, "time"),
    ("M1", "TK1", 500, 50000, 25000, "hold", None, "time"),
    ("M1", "TK1", 200, 50000, 10000, "transfer", "M6", "time"),
    ("M1", None, 1000, 2495, 2495, "bill", None, "expense"),
    ("M2", "TK2", 1250, 33333, 41666, "bill", None, "time"),   # 1.25 x 333.33 = 416.6625
    ("M2", "TK2", 700, 33333, 23333, "bill", None, "time"),    # 0.7 x 333.33 = 233.331
    ("M2", None, 1000, 1999, 1999, "bill", None, "expense"),
    ("M3", "TK1", 3000, 50000, 150000, "bill", None, "time"),
    ("M4", "TK1", 3000, 50000, 150000, "bill", None, "time"),
    ("M5", "TK1", 1000, 33333, 33333, "bill", None, "time"),
    ("M5", "TK1", 100, 33333, 3333, "bill", None, "time"),
]


def load(ledger):
    ledger.load_reference(reference(), actor="test")
    now = datetime.now(UTC)
    with ledger.transaction() as conn:
        conn.execute(t.tax_rates.insert(), [
            {"jurisdiction": "GB", "tax_type": "VAT", "applies_to": "both", "percent": "20",
             "effective_from": date(2011, 1, 4)}])
        conn.execute(t.matter_terms.insert(), [{"matter_id": "M2", "discount_percent": "10", "cap_period": None},
                                               {"matter_id": "M4", "discount_percent": None, "cap_period": "month"}])
        conn.execute(t.matter_payors.insert(), [{"matter_id": "M5", "client_id": "C1", "percent": "60"},
                                                {"matter_id": "M5", "client_id": "C3", "percent": "40"}])
        prebill_of = {}
        for matter_id in dict.fromkeys(m for m, *_ in LINES):
            prebill_of[matter_id] = conn.execute(t.prebills.insert().returning(t.prebills.c.prebill_pk), {
                "month": "2026-10", "matter_id": matter_id, "billing_partner_id": "TK1",
                "status": "approved", "created_at": now, "created_by": "test",
                "approved_by": "JS", "approved_at": now}).scalar_one()
        for i, (matter_id, tk, qty, rate, amount, action, to, kind) in enumerate(LINES, start=1):
            if kind == "time":
                pk = conn.execute(t.time_entries.insert().returning(t.time_entries.c.entry_pk), {
                    "source": "test", "source_key": f"T{i}", "entry_id": f"T{i}",
                    "timekeeper_id": tk, "matter_id": matter_id, "work_date": date(2026, 10, i),
                    "hours_milli": qty, "rate_minor": rate, "amount_minor": amount,
                    "currency": "GBP" if matter_id == "M2" else "USD", "task_code": "L110",
                    "narrative": f"=Work item {i}", "row_hash": "x"}).scalar_one()
            else:
                pk = conn.execute(t.expenses.insert().returning(t.expenses.c.expense_pk), {
                    "source": "test", "source_key": f"X{i}", "entry_id": f"X{i}",
                    "matter_id": matter_id, "work_date": date(2026, 10, i), "expense_code": "E101",
                    "quantity_milli": qty, "unit_cost_minor": rate, "amount_minor": amount,
                    "currency": "GBP" if matter_id == "M2" else "USD", "narrative": "Copying",
                    "row_hash": "x"}).scalar_one()
            conn.execute(t.prebill_lines.insert(), {
                "prebill_pk": prebill_of[matter_id], "entry_kind": kind, "entry_pk": pk,
                "worked_qty_milli": qty, "standard_rate_minor": rate, "worked_amount_minor": amount,
                "bill_qty_milli": qty, "bill_rate_minor": rate, "bill_amount_minor": amount,
                "action": action, "transfer_to": to,
                "reason_code": "WD-INEFF" if action == "write_off" else None})


@pytest.fixture
def ledger(empty_ledger):
    load(empty_ledger)
    return empty_ledger


def lines_of(ledger, number):
    inv = ledger.read_frame(sa.select(t.invoices).where(t.invoices.c.number == number)).iloc[0]
    lines = ledger.read_frame(sa.select(t.invoice_lines).where(
        t.invoice_lines.c.invoice_pk == int(inv["invoice_pk"])).order_by(t.invoice_lines.c.line_no))
    return inv, lines


def test_pure_helpers_round_once_and_split_to_the_cent():
    assert percent_of_array([41666, 23333, 5], D("20"), Rounding.HALF_UP).tolist() == [8333, 4667, 1]
    assert percent_of_array([100], D("7.25"), Rounding.HALF_UP).tolist() == [7]
    parts = split_amounts([33333, 3333, 1], [D("60"), D("40")], Rounding.HALF_UP)
    assert [p.tolist() for p in parts] == [[20000, 2000, 1], [13333, 1333, 0]]
    assert (parts[0] + parts[1]).tolist() == [33333, 3333, 1]


@pytest.mark.parametrize(("percents", "rounding"), [
    (["50", "50"], Rounding.HALF_UP), (["50", "50"], Rounding.HALF_EVEN),
    (["33.3333", "33.3333", "33.3334"], Rounding.HALF_UP), (["25", "25", "25", "25"], Rounding.HALF_UP),
])
def test_split_ties_and_thirds_leave_the_remainder_with_the_last_payor(percents, rounding):
    # ties (odd cents split in two) and thirds are where a payor's own rounded share and the
    # remainder differ: every split adds back to the amount, and only the last payor differs from
    # its own rounded share
    amounts = np.array([1, 3, 5, 33333, 100001, 7], dtype=np.int64)
    parts = split_amounts(amounts, [D(p) for p in percents], rounding)
    assert sum(parts).tolist() == amounts.tolist()
    for part, percent in zip(parts[:-1], percents[:-1], strict=True):
        assert part.tolist() == percent_of_array(amounts, D(percent), rounding).tolist()
    assert parts[-1].tolist() == (amounts - sum(parts[:-1])).tolist()
    if percents == ["50", "50"]:
        first = [1, 2, 3, 16667, 50001, 4] if rounding is Rounding.HALF_UP else [0, 2, 2, 16666, 50000, 4]
        assert parts[0].tolist() == first


def test_finalize_makes_invoices_that_tie_out(ledger):
    result = finalize(ledger, month="2026-10", actor="billing.sec")
    register = list_invoices(ledger).set_index("matter_id")
    assert len(result.invoices) == 6  # M1, M2, M3, M4 and two payors of M5
    assert sorted(result.invoices["number"]) == [f"{n:06d}" for n in range(1, 7)]
    assert (result.entries_billed, result.entries_written_off, result.entries_transferred) == (9, 1, 1)

    inv, lines = lines_of(ledger, register.loc["M1", "number"])
    assert (inv["fees_minor"], inv["expenses_minor"], inv["tax_minor"], inv["total_minor"]) == \
        (75000, 2495, 0, 77495)
    assert inv["due_date"] == date(2026, 11, 30) and inv["invoice_date"] == date(2026, 10, 31)
    assert lines["narrative"].tolist() == ["=Work item 1", "Copying"]  # formula text kept

    # 10% line discount, then 20% VAT per line, each rounded half-up once
    inv, lines = lines_of(ledger, register.loc["M2", "number"])
    assert lines["adjustment_minor"].tolist() == [-4167, -2333, 0]
    assert lines["amount_minor"].tolist() == [37499, 21000, 1999]
    assert lines["tax_minor"].tolist() == [7500, 4200, 400]
    assert (inv["fees_minor"], inv["discount_minor"], inv["expenses_minor"], inv["tax_minor"],
            inv["total_minor"]) == (64999, 6500, 1999, 12100, 72598)
    assert inv["currency"] == "GBP" and inv["due_date"] == date(2026, 12, 15)
    assert int(lines["amount_minor"].sum() + lines["tax_minor"].sum()) == inv["total_minor"]

    inv, lines = lines_of(ledger, register.loc["M3", "number"])  # fixed fee: time shown at zero
    assert lines["line_type"].tolist() == ["F", "IF"]
    assert lines["amount_minor"].tolist() == [0, 500000]
    assert (inv["fees_minor"], inv["discount_minor"], inv["total_minor"]) == (650000, 150000, 500000)

    inv, lines = lines_of(ledger, register.loc["M4", "number"])  # cap 1,000.00 a month
    assert lines["amount_minor"].tolist() == [150000, -50000]
    assert inv["total_minor"] == 100000

    split = list_invoices(ledger)
    split = split[split["matter_id"] == "M5"].set_index("client_id")
    assert split["total_minor"].to_dict() == {"C1": 22000, "C3": 14666}
    assert split["payor_percent"].to_dict() == {"C1": "60", "C3": "40"}
    # the worked value is shared between the payors as the billed value is: once in all
    worked = ledger.read_frame(sa.select(t.prebill_lines.c.worked_amount_minor).join(
        t.prebills, t.prebills.c.prebill_pk == t.prebill_lines.c.prebill_pk)
        .where(t.prebills.c.matter_id == "M5", t.prebill_lines.c.action == "bill"))
    parts = {c: int(lines_of(ledger, n)[1]["standard_amount_minor"].sum())
             for c, n in split["number"].items()}
    assert sum(parts.values()) == int(worked["worked_amount_minor"].sum()) > 0
    assert parts["C1"] > parts["C3"] > 0

    statuses = ledger.time_entries().set_index("entry_id")["status"]
    assert statuses[["T1", "T2", "T3"]].tolist() == ["billed", "written_off", "WIP"]
    assert ledger.time_entries().set_index("entry_id").loc["T4", "matter_id"] == "M6"
    prebills = ledger.read_frame(t.prebills)
    assert set(prebills["status"]) == {"finalized"}
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "finalize"))
    assert len(audit) == 6 and set(audit["actor"]) == {"billing.sec"}

    # nothing left: a second run makes nothing, numbers do not move
    assert finalize(ledger, month="2026-10").count == 0


def test_a_clients_own_rounding_rule_and_the_firms_side_by_side(ledger):
    """One client rounds down, the others keep the firm's rule (half-up): discounts and tax of
    each invoice are rounded by its own client's rule."""
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.clients).where(t.clients.c.client_id == "C2")
                     .values(rounding="down"))
    finalize(ledger, month="2026-10")
    register = list_invoices(ledger).set_index("matter_id")
    inv, lines = lines_of(ledger, register.loc["M2", "number"])
    assert inv["rounding"] == "down"
    assert lines["adjustment_minor"].tolist() == [-4166, -2333, 0]  # 10% of 416.66, 233.33
    assert lines["tax_minor"].tolist() == [7500, 4200, 399]  # 20% of 19.99 = 3.998
    assert lines_of(ledger, register.loc["M1", "number"])[0]["rounding"] == "half_up"


def test_a_fixed_fee_is_billed_once(ledger):
    finalize(ledger, matter="M3")
    with ledger.transaction() as conn:  # another month's work on the fixed-fee matter
        now = datetime.now(UTC)
        pb = conn.execute(t.prebills.insert().returning(t.prebills.c.prebill_pk), {
            "month": "2026-11", "matter_id": "M3", "billing_partner_id": "TK1",
            "status": "approved", "created_at": now, "created_by": "t"}).scalar_one()
        pk = conn.execute(t.time_entries.insert().returning(t.time_entries.c.entry_pk), {
            "source": "test", "source_key": "N1", "entry_id": "N1", "timekeeper_id": "TK1",
            "matter_id": "M3", "work_date": date(2026, 11, 3), "hours_milli": 1000,
            "currency": "USD", "narrative": "Closing", "row_hash": "x"}).scalar_one()
        conn.execute(t.prebill_lines.insert(), {
            "prebill_pk": pb, "entry_kind": "time", "entry_pk": pk, "worked_qty_milli": 1000,
            "worked_amount_minor": 50000, "bill_qty_milli": 1000, "bill_rate_minor": 50000,
            "bill_amount_minor": 50000})
    second = finalize(ledger, month="2026-11")
    assert second.invoices["total_minor"].tolist() == [0]


def test_credit_notes_full_partial_and_by_amount(ledger):
    finalize(ledger, month="2026-10")
    register = list_invoices(ledger).set_index("matter_id")
    m1, m2 = register.loc["M1", "number"], register.loc["M2", "number"]

    with pytest.raises(sa.exc.DatabaseError, match="credit note"), ledger.transaction() as conn:
        conn.execute(sa.update(t.invoices).where(t.invoices.c.number == m1).values(total_minor=0))

    note = issue_credit_note(ledger, m1, reason="time billed to the wrong matter", lines=[1],
                             return_wip=True, on=date(2026, 11, 5))
    assert note["number"] == "CN-000001" and note["total_minor"] == -75000
    assert ledger.time_entries().set_index("entry_id").loc["T1", "status"] == "WIP"
    with pytest.raises(LedgerError, match="credited already"):
        issue_credit_note(ledger, m1, reason="again", lines=[1])
    with pytest.raises(LedgerError, match="already partly credited"):
        issue_credit_note(ledger, m1, reason="all of it")
    with pytest.raises(LedgerError, match="more than what remains"):
        issue_credit_note(ledger, m1, reason="too much", amount="25.00")

    by_amount = issue_credit_note(ledger, m2, reason="courtesy discount", amount="100.00")
    assert (by_amount["fees_minor"], by_amount["discount_minor"], by_amount["tax_minor"],
            by_amount["total_minor"]) == (0, 10000, -2000, -12000)
    full = issue_credit_note(ledger, register.loc["M4", "number"], reason="billed in error")
    assert full["total_minor"] == -100000

    after = list_invoices(ledger).set_index("number")
    assert after.loc[m1, "balance_minor"] == 2495 and after.loc[m1, "status"] == "part credited"
    assert after.loc[m2, "balance_minor"] == 72598 - 12000
    assert after.loc[register.loc["M4", "number"], "status"] == "credited"
    assert after.loc["CN-000003", "status"] == "credit note"


FINALIZE_ONE = """
import sys
from billxl.billing.invoicing import finalize
from billxl.store.ledger import Ledger
ledger = Ledger.open(sys.argv[1])
for matter in sys.argv[2:]:
    finalize(ledger, matter=matter, actor="proc")
"""


def test_two_finalize_runs_at_once_make_no_duplicate_and_no_gap(ledger, ledger_url):
    """Two processes finalize interleaved matters at the same time on the same ledger."""
    procs = [subprocess.Popen([sys.executable, "-c", FINALIZE_ONE, ledger_url, *matters],
                              stderr=subprocess.PIPE, text=True)
             for matters in (["M1", "M3", "M5"], ["M2", "M4", "M5", "M1"])]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    numbers = sorted(list_invoices(ledger)["number"])
    assert numbers == [f"{n:06d}" for n in range(1, 7)]  # 6 invoices, none twice, no gap


def _wait_for_a_lock_waiter(ledger, timeout: float = 20.0) -> None:
    """Until another transaction waits on a lock (PostgreSQL), or a moment has passed (SQLite,
    whose second writer waits in BEGIN IMMEDIATE before it can read anything)."""
    import time
    if ledger.dialect != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + timeout
    with ledger.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar()
            if waiting:
                return
            conn.rollback()  # pg_stat_activity is read once per transaction: look again
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first")


@pytest.mark.parametrize("round_", range(3))
def test_numbers_taken_while_another_run_holds_them_are_the_next_ones(ledger, round_):
    """One transaction has taken numbers and not committed; a second asks for numbers while it
    is open. The second must wait and get the numbers after them — a read-then-write without
    the row lock would hand both the same numbers."""
    import threading

    from billxl.store.numbering import take_numbers

    with ledger.transaction() as conn:  # the sequence exists already, as after a first month
        assert take_numbers(conn, "firm", 1) == ["000001"]
    taken: dict[str, list[str]] = {}
    first_has_taken, errors = threading.Event(), []

    def first():
        with ledger.transaction() as conn:
            taken["first"] = take_numbers(conn, "firm", 3)
            first_has_taken.set()
            _wait_for_a_lock_waiter(ledger)

    def second():
        first_has_taken.wait(30)
        try:
            with ledger.transaction() as conn:
                taken["second"] = take_numbers(conn, "firm", 2)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert taken["first"] == ["000002", "000003", "000004"]
    assert taken["second"] == ["000005", "000006"]


def test_invoice_commands(tmp_path):
    import json
    import os

    from billxl.store.ledger import Ledger
    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    load(Ledger.create(url, firm=FIRM))

    def billxl(*args, ok=0):
        done = subprocess.run([sys.executable, "-m", "billxl.cli", "--ledger", url, *args],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
        assert done.returncode == ok, done.stderr
        return done

    assert "6 invoice(s) finalized, numbers 000001 to 000006" in billxl(
        "invoice", "finalize", "--month", "2026-10").stdout
    register = json.loads(billxl("invoice", "list", "--format", "json").stdout)
    m2 = next(r for r in register if r["matter_id"] == "M2")
    assert {k: m2[k] for k in ("currency", "fees", "discount", "expenses", "tax", "total",
                               "balance", "status", "date", "due_date")} == {
        "currency": "GBP", "fees": "649.99", "discount": "65.00", "expenses": "19.99",
        "tax": "121.00", "total": "725.98", "balance": "725.98", "status": "open",
        "date": "2026-10-31", "due_date": "2026-12-15"}
    assert "Credit note CN-000001" in billxl("invoice", "credit", m2["number"], "--reason",
                                             "goodwill", "--amount", "50").stdout
    bad = billxl("invoice", "credit", "999999", "--reason", "x", ok=3)
    assert "no invoice 999999" in bad.stderr
    after = json.loads(billxl("invoice", "list", "--format", "json").stdout)
    assert next(r for r in after if r["number"] == m2["number"])["balance"] == "665.98"


def test_invoice_schedules_are_invoiced_once_when_due(ledger):
    from billxl.billing.schedules import add_item, list_items, trigger, update_item

    first = add_item(ledger, "M1", kind="installment", amount="2500.00",
                     description="Installment 1 of 3", due_on=date(2026, 10, 15))
    later = add_item(ledger, "M1", kind="installment", amount="2500.00",
                     description="Installment 2 of 3", due_on=date(2026, 11, 15))
    signing = add_item(ledger, "M2", kind="milestone", amount="1000.00",
                       description="Milestone: signing", trigger="on signing")
    with pytest.raises(LedgerError, match="needs its trigger"):
        add_item(ledger, "M1", kind="milestone", amount="1", description="x")
    update_item(ledger, later, amount="2600.00")
    trigger(ledger, signing, date(2026, 10, 20))

    result = finalize(ledger, month="2026-10")
    scheduled = result.invoices[result.invoices["schedule_id"].notna()]
    assert sorted(scheduled["total_minor"]) == [120000, 250000]  # GBP 1,000 + 20% VAT
    plan = list_items(ledger).set_index("schedule_id")
    assert plan.loc[[first, signing], "status"].tolist() == ["invoiced", "invoiced"]
    assert plan.loc[later, "status"] == "planned" and plan.loc[later, "amount_minor"] == 260000
    with pytest.raises(LedgerError, match="has been invoiced"):
        update_item(ledger, first, amount="1.00")
    assert finalize(ledger, month="2026-10").count == 0  # nothing is invoiced twice


CREDIT_COLUMNS = ["line_no", "line_type", "quantity_milli", "unit_minor",
                  "standard_amount_minor", "adjustment_minor", "amount_minor", "tax_percent",
                  "tax_minor"]


def test_a_credit_notes_lines_mirror_the_lines_they_credit(ledger):
    """Each credited entry line credits its hours (negative quantity at the same rate), an
    invoice-level line its amount; a credit by amount is one fee line taxed at the invoice's
    fee rate; on every line quantity x unit + adjustment = amount."""
    finalize(ledger, month="2026-10")
    register = list_invoices(ledger).set_index("matter_id")

    def credited(note):
        lines = lines_of(ledger, note["number"])[1]
        extended = [money.extend(q, u) for q, u in zip(lines["quantity_milli"],
                                                        lines["unit_minor"], strict=True)]
        assert (np.array(extended) + lines["adjustment_minor"]).tolist() == \
            lines["amount_minor"].tolist()
        return lines[CREDIT_COLUMNS].values.tolist()

    full = issue_credit_note(ledger, register.loc["M4", "number"], reason="billed in error")
    assert credited(full) == [[1, "F", -3000, 50000, -150000, 0, -150000, "0", 0],
                              [2, "IF", 1000, 50000, 0, 0, 50000, "0", 0]]
    two = issue_credit_note(ledger, register.loc["M2", "number"], reason="wrong matter",
                            lines=[2, 3])
    assert credited(two) == [[1, "F", -700, 33333, -23333, 2333, -21000, "20", -4200],
                             [2, "E", -1000, 1999, -1999, 0, -1999, "20", -400]]
    by_amount = issue_credit_note(ledger, register.loc["M1", "number"], reason="courtesy",
                                  amount="10.00")
    assert credited(by_amount) == [[1, "IF", 1000, -1000, 0, 0, -1000, "0", 0]]


def test_what_remains_of_an_invoice_bounds_its_credit_notes(ledger):
    """What remains is the total less the credit notes' amounts and their tax; a credit may
    take it exactly to zero and no further."""
    finalize(ledger, month="2026-10")
    register = list_invoices(ledger).set_index("matter_id")
    m1, m2, m4 = (register.loc[m, "number"] for m in ("M1", "M2", "M4"))

    issue_credit_note(ledger, m2, reason="wrong matter", lines=[2, 3])  # 229.99 + 46.00 VAT
    with pytest.raises(LedgerError, match=r"Line\(s\) 2, 3 of invoice"):
        issue_credit_note(ledger, m2, reason="again", lines=[2, 3])
    # 449.99 remains: 375.00 + 75.00 VAT is more, 374.99 + 75.00 fits
    with pytest.raises(LedgerError, match=r"more than what remains .*\(449\.99\)"):
        issue_credit_note(ledger, m2, reason="too much", amount="375.00")
    last = issue_credit_note(ledger, m2, reason="the rest", amount="374.99")
    assert (last["total_minor"], last["tax_minor"]) == (-44999, -7500)
    with pytest.raises(LedgerError, match="already fully credited"):
        issue_credit_note(ledger, m2, reason="more", amount="0.01")

    issue_credit_note(ledger, m1, reason="most of it", amount="774.94")
    final_cent = issue_credit_note(ledger, m1, reason="the last cent", amount="0.01")
    assert final_cent["total_minor"] == -1
    assert list_invoices(ledger).set_index("number").loc[m1, "balance_minor"] == 0

    with pytest.raises(LedgerError, match="more than what remains"):
        issue_credit_note(ledger, m4, reason="nothing", amount="0")
    with pytest.raises(LedgerError, match="has no line 8, 9"):
        issue_credit_note(ledger, m4, reason="no such lines", lines=[1, 8, 9])


def test_a_credit_note_needs_a_reason_and_one_way_of_crediting(ledger):
    finalize(ledger, month="2026-10")
    number = list_invoices(ledger).set_index("matter_id").loc["M1", "number"]
    with pytest.raises(LedgerError, match="needs a reason"):
        issue_credit_note(ledger, number, reason="  ")
    with pytest.raises(LedgerError, match="lines or an amount, not both"):
        issue_credit_note(ledger, number, reason="x", lines=[1], amount="1.00")
    with pytest.raises(LedgerError, match="return their entries to WIP, not an amount"):
        issue_credit_note(ledger, number, reason="x", amount="1.00", return_wip=True)
    with pytest.raises(LedgerError, match="no invoice 999999"):
        issue_credit_note(ledger, "999999", reason="x")
    note = issue_credit_note(ledger, number, reason="x", amount="1.00")
    with pytest.raises(LedgerError, match="is a credit note; only invoices"):
        issue_credit_note(ledger, note["number"], reason="x", amount="0.50")


def test_a_credit_by_amount_of_an_invoice_of_agreed_fees_only_is_taxed_at_its_fee_rate(ledger):
    from billxl.billing.schedules import add_item, trigger

    signing = add_item(ledger, "M2", kind="milestone", amount="1000.00",
                       description="Milestone: signing", trigger="on signing")
    trigger(ledger, signing, date(2026, 10, 20))
    result = finalize(ledger, month="2026-10")
    number = result.invoices.loc[result.invoices["schedule_id"].notna(), "number"].iloc[0]
    assert lines_of(ledger, number)[1]["line_type"].tolist() == ["IF"]  # no entry lines
    note = issue_credit_note(ledger, number, reason="discount", amount="100.00")
    assert (note["tax_minor"], note["total_minor"]) == (-2000, -12000)


def test_a_credit_note_is_audited_with_what_remained_and_why(ledger):
    finalize(ledger, month="2026-10")
    number = list_invoices(ledger).set_index("matter_id").loc["M1", "number"]
    note = issue_credit_note(ledger, number, reason="courtesy", amount="10.00", actor="clerk")
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "credit"))
    assert audit[["actor", "row_key"]].values.tolist() == [["clerk", note["number"]]]
    assert audit.loc[0, "before"] == {"invoice": number, "remaining_minor": 77495}
    assert audit.loc[0, "after"]["reason"] == "courtesy"


def test_the_invoice_register_by_month_and_client(ledger):
    finalize(ledger, month="2026-10")
    number = list_invoices(ledger).set_index("matter_id").loc["M2", "number"]
    issue_credit_note(ledger, number, reason="courtesy", amount="10.00", on=date(2026, 11, 5))
    october = list_invoices(ledger, month="2026-10")
    assert len(october) == 6 and set(october["kind"]) == {"invoice"}
    november = list_invoices(ledger, month="2026-11")
    assert november[["kind", "client_id"]].values.tolist() == [["credit_note", "C2"]]
    assert list_invoices(ledger, month="2026-09").empty
    brit = list_invoices(ledger, client="C2")
    assert brit["kind"].tolist() == ["invoice", "credit_note"]
    assert brit.loc[0, "credited"] == -1200  # 10.00 + 20% VAT
    # a credit note has no figures of its own: whole zeros, not blanks
    note = brit.iloc[1]
    assert [note[c] for c in ("credited", "paid_minor", "written_off_minor", "balance_minor")] \
        == [0, 0, 0, 0]
    assert all(str(brit[c].dtype) == "int64"
               for c in ("credited", "paid_minor", "written_off_minor", "balance_minor"))


def test_a_fee_cap_writes_down_only_what_is_over_it():
    from billxl.billing.invoicing import cap_writedown

    assert cap_writedown(5000, 0, None) == 0  # no cap
    assert cap_writedown(100, 0, 1000) == 0  # under the cap
    assert cap_writedown(700, 500, 1000) == 200  # 500 of room left
    assert cap_writedown(500, 1000, 1000) == 500  # the cap is used up
    assert cap_writedown(500, 1200, 1000) == 500  # billed over it before: no negative room


def test_a_cap_period_starts_on_its_month_quarter_year_or_the_matters_opening():
    from billxl.billing.invoicing import cap_period_start

    on, opened = date(2026, 5, 17), date(2024, 3, 9)
    assert cap_period_start("month", on, opened) == date(2026, 5, 1)
    assert cap_period_start("quarter", on, opened) == date(2026, 4, 1)
    assert cap_period_start("quarter", date(2026, 12, 31), opened) == date(2026, 10, 1)
    assert cap_period_start("year", on, opened) == date(2026, 1, 1)
    assert cap_period_start(None, on, opened) == opened


def test_an_invoice_without_lines_totals_zero():
    from billxl.billing.invoicing import TOTAL_COLUMNS, invoice_totals

    empty = pd.DataFrame({c: pd.Series(dtype="int64") for c in
                          ("amount_minor", "adjustment_minor", "tax_minor")}
                         | {"line_type": pd.Series(dtype=object)})
    assert invoice_totals(empty) == dict.fromkeys(TOTAL_COLUMNS, 0)


def test_a_single_payor_takes_every_amount_whole():
    (whole,) = split_amounts(np.array([100, 7, 0]), [D("100")], Rounding.HALF_UP)
    assert whole.tolist() == [100, 7, 0]


def test_the_tax_rate_is_the_jurisdictions_in_force_on_the_day_both_ends_included():
    from billxl.billing.invoicing import tax_percent_for

    rates = pd.DataFrame([
        {"jurisdiction": "US-NY", "applies_to": "fees", "percent": "4",
         "effective_from": date(2026, 1, 1), "effective_to": date(2026, 6, 30)},
        {"jurisdiction": "US-NY", "applies_to": "both", "percent": "4.5",
         "effective_from": date(2026, 1, 1), "effective_to": None},
        {"jurisdiction": "GB", "applies_to": "both", "percent": "20",
         "effective_from": date(2011, 1, 4), "effective_to": None}])
    assert tax_percent_for(rates, "US-NY", date(2026, 1, 1), "fees") == D("8.5")
    assert tax_percent_for(rates, "US-NY", date(2026, 6, 30), "fees") == D("8.5")
    assert tax_percent_for(rates, "US-NY", date(2026, 7, 1), "fees") == D("4.5")
    assert tax_percent_for(rates, "US-NY", date(2026, 3, 1), "expenses") == D("4.5")
    assert tax_percent_for(rates, "US-NY", date(2025, 12, 31), "fees") == 0
    assert tax_percent_for(rates, None, date(2026, 3, 1), "fees") == 0
    assert tax_percent_for(pd.DataFrame(), "GB", date(2026, 3, 1), "fees") == 0


def test_an_invoice_level_fee_of_a_cent_is_a_fee():
    from billxl.billing.invoicing import invoice_totals

    lines = pd.DataFrame({"line_type": ["IF", "IF"], "amount_minor": [1, -1],
                          "adjustment_minor": [0, 0], "tax_minor": [0, 0]})
    assert invoice_totals(lines) == {"fees_minor": 1, "expenses_minor": 0, "discount_minor": 1,
                                     "tax_minor": 0, "total_minor": 0}


# ======================================================= mutation survivors (issue 13 section 2)
def test_taking_no_numbers_leaves_the_sequence_as_it_was(ledger):
    from billxl.store.numbering import take_numbers

    with ledger.transaction() as conn:
        assert take_numbers(conn, "firm", 0, prefix="X-") == []
        assert take_numbers(conn, "firm", 1) == ["000001"]  # no X- taken over from nothing


def test_what_a_credit_note_refuses_is_said_in_full(ledger):
    from tests.test_payments import refused

    finalize(ledger, month="2026-10")
    number = list_invoices(ledger).set_index("matter_id").loc["M2", "number"]
    refused("A credit note needs a reason (it is printed on the credit note).",
            issue_credit_note, ledger, number, reason=" ")
    refused("Credit either chosen lines or an amount, not both.",
            issue_credit_note, ledger, number, reason="x", lines=[1], amount="1.00")
    refused("Only credited lines can return their entries to WIP, not an amount.",
            issue_credit_note, ledger, number, reason="x", amount="1.00", return_wip=True)
    issue_credit_note(ledger, number, reason="wrong matter", lines=[2])
    refused(f"Invoice {number} is already partly credited; credit the remaining lines or an "
            "amount instead of the whole invoice.", issue_credit_note, ledger, number, reason="x")


def test_a_credit_by_amount_carries_the_fee_rate_on_its_line_and_a_utc_stamp(ledger):
    finalize(ledger, month="2026-10")
    number = list_invoices(ledger).set_index("matter_id").loc["M2", "number"]  # VAT 20%
    note = issue_credit_note(ledger, number, reason="courtesy", amount="10.00")
    line = lines_of(ledger, note["number"])[1].iloc[0]
    assert (line["tax_percent"], line["tax_minor"], line["amount_minor"]) == ("20", -200, -1000)
    assert note["finalized_at"].utcoffset() == pd.Timedelta(0)


def test_a_credit_by_amount_of_an_invoice_of_expenses_only_carries_no_tax(empty_ledger,
                                                                           monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "LINES",
                        [("M1", None, 1000, 2495, 2495, "bill", None, "expense")])
    load(empty_ledger)
    finalize(empty_ledger, month="2026-10")
    number = list_invoices(empty_ledger)["number"].iloc[0]
    assert lines_of(empty_ledger, number)[1]["line_type"].tolist() == ["E"]
    note = issue_credit_note(empty_ledger, number, reason="courtesy", amount="5.00")
    line = lines_of(empty_ledger, note["number"])[1].iloc[0]
    assert (note["tax_minor"], note["total_minor"], line["tax_percent"]) == (0, -500, "0")


def test_a_credit_note_of_a_yen_invoice_reads_and_names_yen(empty_ledger):
    from tests.test_payments import refused, yen_firm

    ledger = yen_firm(empty_ledger)
    refused("A credit of 300000 plus tax is more than what remains of invoice 000005 (200000).",
            issue_credit_note, ledger, "000005", reason="too much", amount="300000")
    note = issue_credit_note(ledger, "000005", reason="courtesy", amount="1000")
    assert (note["currency"], note["total_minor"]) == ("JPY", -1000)


def test_one_percent_is_a_rate_and_none_is_whole_zeros():
    assert percent_of_array(np.array([10000, 50]), D("1"), Rounding.HALF_UP).tolist() == [100, 1]
    nothing = percent_of_array(np.array([10000, 50]), D("0"), Rounding.HALF_UP)
    assert nothing.dtype == np.int64 and nothing.tolist() == [0, 0]


def test_a_quarter_starts_on_its_first_day_from_its_first_day():
    from billxl.billing.invoicing import cap_period_start

    for month in (1, 4, 7, 10):
        first = date(2026, month, 1)
        assert cap_period_start("quarter", first, date(2024, 3, 9)) == first


def test_no_tax_in_force_is_a_decimal_zero():
    from billxl.billing.invoicing import tax_percent_for

    rates = pd.DataFrame([{"jurisdiction": "GB", "applies_to": "both", "percent": "20",
                           "effective_from": date(2011, 1, 4), "effective_to": None}])
    none = tax_percent_for(rates, "GB", date(2010, 1, 1), "fees")
    assert isinstance(none, Decimal) and none == 0


def test_invoice_figures_from_lines_are_whole_numbers_per_invoice():
    from billxl.billing.invoicing import _totals_by

    lines = pd.DataFrame({"line_type": ["F", "E", "IF", "IF", "E"],
                          "amount_minor": [9000, 500, 2000, -300, 700],
                          "adjustment_minor": [-1000, 0, 0, 0, 0],
                          "tax_minor": [900, 50, 200, -30, 0]})
    sums = _totals_by(lines, np.array([0, 0, 0, 0, 1]))
    assert sums.to_dict("index") == {
        0: {"fees_minor": 12000, "expenses_minor": 500, "discount_minor": 1300,
            "tax_minor": 1120, "total_minor": 12320},
        1: {"fees_minor": 0, "expenses_minor": 700, "discount_minor": 0, "tax_minor": 0,
            "total_minor": 700}}
    assert set(map(str, sums.dtypes)) == {"int64"}


def test_an_entry_at_no_charge_is_shown_with_its_hours_and_nothing_to_pay(empty_ledger,
                                                                           monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "LINES", [
        ("M1", "TK1", 1500, 50000, 75000, "bill", None, "time"),
        ("M1", "TK1", 300, 50000, 15000, "no_charge", None, "time")])
    load(empty_ledger)
    finalize(empty_ledger, month="2026-10")
    invoice, lines = lines_of(empty_ledger, list_invoices(empty_ledger)["number"].iloc[0])
    assert lines[CREDIT_COLUMNS].values.tolist() == [
        [1, "F", 1500, 50000, 75000, 0, 75000, "0", 0], [2, "F", 300, 50000, 15000, 0, 0, "0", 0]]
    assert (invoice["fees_minor"], invoice["total_minor"]) == (75000, 75000)
    assert lines["timekeeper_id"].tolist() == ["TK1", "TK1"]


def test_invoice_level_lines_phase_fees_as_worked_a_fixed_discount_and_the_cap_named(ledger):
    with ledger.transaction() as conn:
        conn.execute(t.fixed_fees.insert(), [  # M3's time is task L110
            {"matter_id": "M3", "code": "L110", "amount_minor": 200000,
             "description": "Phase: pleadings"},
            {"matter_id": "M3", "code": "L200", "amount_minor": 100000,
             "description": "Phase: discovery"},  # no work on it yet
            {"matter_id": "M3", "code": None, "amount_minor": 50000,
             "description": "Case assessment"}])
        conn.execute(t.matter_terms.insert(), [{"matter_id": "M1", "discount_minor": 5000}])
    finalize(ledger, month="2026-10")
    register = list_invoices(ledger).set_index("matter_id")

    def level_lines(matter):
        lines = lines_of(ledger, register.loc[matter, "number"])[1]
        return lines.loc[lines["line_type"] == "IF", ["line_no", "narrative",
                                                       "amount_minor"]].values.tolist()

    assert level_lines("M3") == [[2, "Phase: pleadings", 200000], [3, "Case assessment", 50000]]
    assert level_lines("M1") == [[3, "Discount as agreed", -5000]]
    assert level_lines("M4") == [[2, "Fee cap adjustment (fees over the agreed cap)", -50000]]
    assert register.loc["M1", "total_minor"] == 75000 + 2495 - 5000


def test_a_capped_matter_billing_expenses_only_has_no_cap_line(empty_ledger, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "LINES",
                        [("M4", None, 1000, 2495, 2495, "bill", None, "expense")])
    load(empty_ledger)
    finalize(empty_ledger, month="2026-10")
    _, lines = lines_of(empty_ledger, list_invoices(empty_ledger)["number"].iloc[0])
    assert lines[["line_type", "amount_minor"]].values.tolist() == [["E", 2495]]


@pytest.mark.parametrize(("lines", "expected"), [
    ([("M1", "TK1", 600, 5000, 3000, "bill", None, "time")], [["F", 3000], ["IF", -3000]]),
    ([("M1", None, 1000, 2495, 2495, "bill", None, "expense")], [["E", 2495]]),
    ([("M1", "TK1", 1500, 50000, 75000, "bill", None, "time")], [["F", 75000], ["IF", -5000]]),
])
def test_a_fixed_discount_never_takes_an_invoice_below_nothing(empty_ledger, monkeypatch, lines,
                                                              expected):
    """50.00 off as agreed: all of it from 750.00 of fees, only the 30.00 billed, none from
    expenses alone (the invoice never goes negative)."""
    monkeypatch.setattr(sys.modules[__name__], "LINES", lines)
    load(empty_ledger)
    with empty_ledger.transaction() as conn:
        conn.execute(t.matter_terms.insert(), [{"matter_id": "M1", "discount_minor": 5000}])
    finalize(empty_ledger, month="2026-10")
    invoice, billed = lines_of(empty_ledger, list_invoices(empty_ledger)["number"].iloc[0])
    assert billed[["line_type", "amount_minor"]].values.tolist() == expected
    assert invoice["total_minor"] == sum(amount for _, amount in expected) >= 0


def test_a_split_invoice_level_line_is_each_payors_share_and_expenses_have_their_own_rate(
        ledger):
    with ledger.transaction() as conn:
        conn.execute(t.matter_terms.insert(), [{"matter_id": "M5", "discount_minor": 1000}])
        conn.execute(t.tax_rates.insert(), [
            {"jurisdiction": "US-NY", "tax_type": "SALES", "applies_to": "expenses",
             "percent": "8", "effective_from": date(2020, 1, 1)}])
    finalize(ledger, month="2026-10")
    register = list_invoices(ledger)
    split = register[register["matter_id"] == "M5"].sort_values("client_id")
    shares = []
    for number in split["number"]:
        lines = lines_of(ledger, number)[1]
        level = lines[lines["line_type"] == "IF"].iloc[0]
        shares.append((level["quantity_milli"], level["unit_minor"], level["amount_minor"]))
    assert shares == [(1000, -600, -600), (1000, -400, -400)]  # 60% and 40% of 10.00 off
    m1 = lines_of(ledger, register.set_index("matter_id").loc["M1", "number"])[1]
    assert m1[["line_type", "tax_percent", "tax_minor"]].values.tolist() == [
        ["F", "0", 0], ["E", "8", 200]]  # 8% of 24.95, fees untaxed


def test_finalize_is_refused_in_words_and_writes_nothing(ledger):
    with pytest.raises(LedgerError) as refused:
        finalize(ledger, month="2026-10", override="   ")
    assert str(refused.value) == (
        "Say why the held invoices are finalized anyway: --override REASON.")
    with pytest.raises(LedgerError) as refused:
        finalize(ledger)
    assert str(refused.value) == (
        "Say which pre-bills to finalize: a month (YYYY-MM) or a matter.")
    # an entry of an approved pre-bill billed since (by hand, say): nothing is finalized
    pk = int(ledger.time_entries().set_index("entry_id").loc["T6", "entry_pk"])
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.time_entries).where(t.time_entries.c.entry_pk == pk)
                     .values(status="billed"))
    with pytest.raises(LedgerError) as refused:
        finalize(ledger, month="2026-10")
    assert str(refused.value) == (
        f"1 entries on the approved pre-bills are no longer WIP (first: time {pk}); rebuild "
        "the pre-bills before finalizing.")
    assert len(ledger.read_frame(t.invoices)) == 0
    assert set(ledger.read_frame(t.prebills)["status"]) == {"approved"}
