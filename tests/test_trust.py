"""Trust money: deposits, applications with authorisation, refunds, evergreen retainers, and a
balance that the store itself never lets go below zero (on SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl import payments, trust
from billxl.errors import LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.test_payments import add_invoices, billxl, firm, refused, yen_firm


@pytest.fixture
def ledger(empty_ledger):
    return firm(empty_ledger)


def balance(ledger, matter: str) -> int:
    frame = trust.balances(ledger, matter=matter)
    return int(frame["balance_minor"].sum())


def test_deposit_apply_refund(ledger):
    trust.deposit(ledger, "M4", "2500.00", reference="wire 1", on=date(2026, 10, 1))
    done = trust.apply_to_invoice(ledger, "M4", "000005", "2000.00", authorisation="email 2 Oct",
                                  on=date(2026, 10, 2))
    assert (done["amount_minor"], done["balance_minor"], done["invoice_balance_minor"]) == (
        200000, 50000, 0)
    invoices = payments.invoice_balances(ledger).set_index("number")
    assert invoices.loc["000005", "balance_minor"] == 0
    assert invoices.loc["000005", "paid_minor"] == 200000
    applied = ledger.read_frame(sa.select(t.allocations))
    assert applied[["rule", "amount_minor"]].values.tolist() == [["trust", 200000]]
    assert applied["receipt_pk"].isna().all() and applied["trust_entry_pk"].notna().all()
    trust.refund(ledger, "M4", "500.00", reference="CHK 9", reason="matter closed")
    entries = trust.trust_ledger(ledger, "M4")
    assert entries[["kind", "amount_minor", "balance_minor"]].values.tolist() == [
        ["deposit", 250000, 250000], ["application", -200000, 50000], ["refund", -50000, 0]]
    assert entries.loc[1, "authorisation"] == "email 2 Oct"


def test_trust_never_goes_negative_in_billxl_or_in_the_store(ledger):
    trust.deposit(ledger, "M1", "100.00", reference="wire")
    with pytest.raises(LedgerError, match="below zero"):
        trust.refund(ledger, "M1", "100.01", reference="x", reason="y")
    with pytest.raises(LedgerError, match="below zero"):
        trust.apply_to_invoice(ledger, "M1", "000002", "150.00", authorisation="ok")
    # past billxl's checks, straight into the store: refused by its trigger
    row = {"client_id": "C1", "matter_id": "M1", "currency": "USD", "kind": "refund",
           "entry_date": date(2026, 10, 5), "amount_minor": -10001, "reference": "raw",
           "created_at": datetime.now(UTC), "created_by": "raw"}
    with pytest.raises(sa.exc.IntegrityError, match="cannot go negative"), \
            ledger.transaction() as conn:
        conn.execute(t.trust_entries.insert(), row)
    with ledger.transaction() as conn:  # exactly to zero is allowed
        conn.execute(t.trust_entries.insert(), {**row, "amount_minor": -10000})
    # the journal is append-only: no edit can make the history say otherwise
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.trust_entries.update().values(amount_minor=1))
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.trust_entries.delete())
    assert balance(ledger, "M1") == 0


def test_an_application_needs_authority_the_right_client_and_currency(ledger):
    trust.deposit(ledger, "M1", "5000.00", reference="retainer")
    with pytest.raises(LedgerError, match="authorisation"):
        trust.apply_to_invoice(ledger, "M1", "000001", authorisation=" ")
    with pytest.raises(LedgerError, match="client C3's"):
        trust.apply_to_invoice(ledger, "M1", "000005", authorisation="ok")
    with pytest.raises(LedgerError, match="owes 500.00 USD"):
        trust.apply_to_invoice(ledger, "M1", "000002", "600.00", authorisation="ok")
    done = trust.apply_to_invoice(ledger, "M1", "000002", authorisation="ok")  # as much as owed
    assert done["amount_minor"] == 50000
    trust.deposit(ledger, "M3", "100.00", reference="GBP retainer")
    assert trust.balances(ledger, matter="M3")["currency"].tolist() == ["GBP"]


def test_an_evergreen_retainer_asks_for_a_top_up_when_below_its_minimum(ledger):
    set_ = trust.set_retainer(ledger, "M4", minimum="1000.00", target="2000.00")
    assert set_["top_up_minor"] == 200000  # nothing held yet
    trust.deposit(ledger, "M4", "2500.00", reference="wire")
    assert trust.top_up_requests(ledger).empty
    done = trust.apply_to_invoice(ledger, "M4", "000005", "2000.00", authorisation="standing")
    assert (done["balance_minor"], done["top_up_minor"]) == (50000, 150000)
    asked = trust.top_up_requests(ledger)
    assert asked[["matter_id", "balance_minor", "minimum_minor", "top_up_minor"]].values.tolist() \
        == [["M4", 50000, 100000, 150000]]
    trust.deposit(ledger, "M4", "1500.00", reference="top-up")
    assert trust.top_up_requests(ledger).empty
    with pytest.raises(LedgerError, match="target at least"):
        trust.set_retainer(ledger, "M4", minimum="10.00", target="5.00")


DRAW = """
import sys, time
from pathlib import Path
from billxl import trust
from billxl.errors import LedgerError
from billxl.store.ledger import Ledger
ledger = Ledger.open(sys.argv[1])
Path(sys.argv[2]).write_text("ready")
while not Path(sys.argv[3]).exists():
    time.sleep(0.005)
try:
    trust.refund(ledger, "M1", "60.00", reference=sys.argv[2], reason="both at once")
    print("refunded")
except LedgerError:
    print("refused")
"""


def test_two_refunds_at_once_cannot_overdraw(ledger, ledger_url, tmp_path):
    """Each sees 100.00 held and wants 60.00: one is paid, the other refused, never -20.00."""
    trust.deposit(ledger, "M1", "100.00", reference="wire")
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", DRAW, ledger_url, str(tmp_path / f"r{i}"),
                               str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"r{i}").exists() for i in range(2)):
        assert all(p.poll() is None for p in procs) and time.monotonic() < deadline
        time.sleep(0.01)
    go.write_text("go")
    said = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        said.append(out.strip())
    assert sorted(said) == ["refunded", "refused"]
    assert balance(Ledger.open(ledger_url), "M1") == 4000


def test_trust_commands(tmp_path):
    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    firm(Ledger.create(url, firm=FIRM)).dispose()
    assert "holds 3000.00 USD in trust" in billxl(url, "trust", "deposit", "M4", "--amount",
                                                  "3000", "--reference", "wire").stdout
    assert "evergreen retainer" in billxl(url, "trust", "retainer", "M4", "--minimum", "1500",
                                          "--target", "3000").stdout
    applied = billxl(url, "trust", "apply", "M4", "--invoice", "000005", "--authorisation",
                     "letter", "--amount", "2000").stdout
    assert "ask the client for 2000.00 USD" in applied and "owes 0.00 USD" in applied
    refused = billxl(url, "trust", "refund", "M4", "--amount", "1000.01", "--reference", "x",
                     "--reason", "y", ok=3)
    assert "below zero" in refused.stderr
    import json

    shown = json.loads(billxl(url, "trust", "balance", "--format", "json").stdout)
    assert [(r["matter_id"], r["balance"], r["top_up"]) for r in shown] == [
        ("M4", "1000.00", "2000.00")]


def test_a_retainer_without_a_target_tops_up_to_its_minimum_and_may_be_zero(ledger):
    kept = trust.set_retainer(ledger, "M4", minimum="1000.00")
    assert (kept["minimum_minor"], kept["target_minor"], kept["top_up_minor"]) == (
        100000, 100000, 100000)
    none = trust.set_retainer(ledger, "M4", minimum="0")  # a retainer that asks for nothing
    assert (none["minimum_minor"], none["target_minor"], none["top_up_minor"]) == (0, 0, 0)
    with pytest.raises(LedgerError, match="minimum must be 0 or more"):
        trust.set_retainer(ledger, "M4", minimum="-0.01")


def test_a_trust_ledger_has_whole_running_balances_even_before_its_first_entry(ledger):
    empty = trust.trust_ledger(ledger, "M4")
    assert empty.empty and str(empty["balance_minor"].dtype) == "int64"
    trust.deposit(ledger, "M4", "10.00", reference="wire")
    trust.deposit(ledger, "M4", "0.05", reference="wire")
    entries = trust.trust_ledger(ledger, "M4")
    assert str(entries["balance_minor"].dtype) == "int64"
    assert entries["balance_minor"].tolist() == [1000, 1005]


def test_each_operation_returns_and_records_what_it_did(ledger):
    deposited = trust.deposit(ledger, "M4", "2500.00", reference=" wire 1 ", on=date(2026, 10, 1))
    applied = trust.apply_to_invoice(ledger, "M4", "000005", "2000.00", authorisation="email",
                                     on=date(2026, 10, 2))
    refunded = trust.refund(ledger, "M4", "100.00", reference="CHK 9", reason=" closed ",
                            on=date(2026, 10, 3))
    entries = trust.trust_ledger(ledger, "M4")
    common = {"matter_id": "M4", "client_id": "C3", "currency": "USD", "top_up_minor": 0}
    assert deposited == {**common, "trust_entry_pk": int(entries.loc[0, "trust_entry_pk"]),
                         "kind": "deposit", "amount_minor": 250000, "balance_minor": 250000}
    assert applied == {**common, "trust_entry_pk": int(entries.loc[1, "trust_entry_pk"]),
                       "kind": "application", "amount_minor": 200000, "balance_minor": 50000,
                       "invoice": "000005", "invoice_balance_minor": 0}
    assert refunded == {**common, "trust_entry_pk": int(entries.loc[2, "trust_entry_pk"]),
                        "kind": "refund", "amount_minor": 10000, "balance_minor": 40000}
    assert entries[["entry_date", "reference"]].values.tolist() == [
        [pd.Timestamp("2026-10-01"), "wire 1"], [pd.Timestamp("2026-10-02"), "000005"],
        [pd.Timestamp("2026-10-03"), "CHK 9"]]
    assert entries["reason"].fillna("").tolist() == ["", "", "closed"]
    # references are cut to the column's 100 characters; a deposit may have none
    long = "r" * 150
    trust.deposit(ledger, "M1", "10.00", reference=long)
    trust.deposit(ledger, "M1", "10.00", reference=None)
    trust.apply_to_invoice(ledger, "M1", "000001", "5.00", authorisation=long)
    trust.refund(ledger, "M1", "1.00", reference=long, reason="r")
    rows = trust.trust_ledger(ledger, "M1")
    assert rows["reference"].tolist() == ["r" * 100, "", "000001", "r" * 100]
    assert rows.loc[2, "authorisation"] == "r" * 100


def test_an_application_to_an_invoice_with_expenses_pays_its_expenses_first(ledger):
    trust.deposit(ledger, "M1", "500.00", reference="wire")
    trust.apply_to_invoice(ledger, "M1", "000001", "300.00", authorisation="ok")  # 200.00 expenses
    applied = ledger.read_frame(sa.select(t.allocations))
    assert applied[["amount_minor", "expenses_minor"]].values.tolist() == [[30000, 20000]]


def test_each_matter_draws_only_on_its_own_trust_money(ledger):
    """Two matters in the same currency: one's balance, limits and top-up are its own."""
    trust.set_retainer(ledger, "M4", minimum="1000.00")
    trust.deposit(ledger, "M4", "100.00", reference="wire")
    first = trust.deposit(ledger, "M1", "100.00", reference="wire")
    assert (first["balance_minor"], first["top_up_minor"]) == (10000, 0)
    with pytest.raises(LedgerError, match="below zero"):
        trust.refund(ledger, "M1", "150.00", reference="x", reason="y")
    with pytest.raises(LedgerError, match="below zero"):
        trust.apply_to_invoice(ledger, "M1", "000001", "150.00", authorisation="ok")
    mine = trust.set_retainer(ledger, "M1", minimum="50.00", target="80.00")
    assert (mine["balance_minor"], mine["top_up_minor"]) == (10000, 0)
    paid = trust.apply_to_invoice(ledger, "M1", "000002", authorisation="ok")  # all it holds
    assert (paid["amount_minor"], paid["balance_minor"], paid["top_up_minor"]) == (10000, 0, 8000)


def test_an_application_takes_what_is_held_or_owed_and_never_nothing(ledger):
    with pytest.raises(LedgerError, match="Nothing to apply: matter M1 holds 0.00 USD in trust "
                                          "and invoice 000002 owes 500.00"):
        trust.apply_to_invoice(ledger, "M1", "000002", authorisation="ok")
    trust.deposit(ledger, "M1", "100.00", reference="wire")
    with pytest.raises(LedgerError, match="more than 0"):
        trust.apply_to_invoice(ledger, "M1", "000002", "0", authorisation="ok")
    cent = trust.apply_to_invoice(ledger, "M1", "000002", "0.01", authorisation="ok")
    assert cent["amount_minor"] == 1
    with pytest.raises(LedgerError, match=r"The date applied \(2026-06-30\) cannot be before"):
        trust.apply_to_invoice(ledger, "M1", "000001", authorisation="ok", on=date(2026, 6, 30))
    rest = trust.apply_to_invoice(ledger, "M1", "000002", "99.99", authorisation="ok")  # all held
    assert rest["balance_minor"] == 0 and rest["invoice_balance_minor"] == 40000
    with pytest.raises(LedgerError, match="no invoice 999999"):
        trust.apply_to_invoice(ledger, "M1", "999999", authorisation="ok")
    with pytest.raises(LedgerError, match="no matter M9"):
        trust.deposit(ledger, "M9", "1.00", reference="x")
    add_invoices(ledger, [("000007", "M2", "2026-10-01", 1000, 0, 0)], currency_of={"M2": "GBP"})
    with pytest.raises(LedgerError, match="000007 is in GBP; the trust money of matter M1 is in USD"):
        trust.apply_to_invoice(ledger, "M1", "000007", authorisation="ok")


def test_amounts_are_checked_and_named_in_what_is_refused(ledger):
    with pytest.raises(LedgerError, match="The deposit must be more than 0"):
        trust.deposit(ledger, "M1", "-5", reference="x")
    trust.deposit(ledger, "M1", "100.00", reference="x")
    with pytest.raises(LedgerError, match="The amount 1.001 has more decimals"):
        trust.apply_to_invoice(ledger, "M1", "000001", "1.001", authorisation="ok")
    with pytest.raises(LedgerError, match="The refund must be more than 0"):
        trust.refund(ledger, "M1", "0", reference="x", reason="y")
    for reference, reason in ((" ", "closed"), ("CHK 1", " "), (None, "closed")):
        with pytest.raises(LedgerError, match="needs a reference .* and a reason"):
            trust.refund(ledger, "M1", "1.00", reference=reference, reason=reason)
    assert balance(ledger, "M1") == 10000


def test_balances_by_client_and_as_of_a_date(ledger):
    trust.deposit(ledger, "M1", "100.00", reference="x", on=date(2026, 10, 1))
    trust.deposit(ledger, "M4", "40.00", reference="x", on=date(2026, 10, 1))
    trust.deposit(ledger, "M1", "25.00", reference="x", on=date(2026, 10, 20))
    assert trust.balances(ledger, client="C3")[["matter_id", "balance_minor"]].values.tolist() \
        == [["M4", 4000]]
    before = trust.balances(ledger, as_of=date(2026, 10, 10))
    assert dict(zip(before["matter_id"], before["balance_minor"], strict=True)) == {
        "M1": 10000, "M4": 4000}
    assert "index" not in trust.balances(ledger, client="C1").columns


def test_trust_money_may_pay_an_invoice_on_its_own_date(ledger):
    trust.deposit(ledger, "M1", "10.00", reference="wire", on=date(2026, 7, 1))
    paid = trust.apply_to_invoice(ledger, "M1", "000001", authorisation="ok", on=date(2026, 7, 1))
    assert paid["amount_minor"] == 1000


# ======================================================= mutation survivors (issue 13 section 2)
@pytest.fixture
def new_york_clock(monkeypatch):
    """The process's clock five hours behind UTC (a POSIX TZ, no time-zone data needed): a
    time taken without a zone would be hours off the UTC ones around it."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset (a process's time zone) is POSIX only")
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    assert datetime.now(UTC).replace(tzinfo=None) - datetime.now() > pd.Timedelta(hours=4)
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_matter_after_another_in_the_book_sees_only_its_own_money_and_retainer(ledger):
    """M1 comes first in key order and holds more, with a retainer; M4's figures are M4's."""
    trust.set_retainer(ledger, "M1", minimum="1000.00")  # a retainer, no money yet
    mine = trust.deposit(ledger, "M4", "40.00", reference="wire")
    assert (mine["balance_minor"], mine["top_up_minor"]) == (4000, 0)
    trust.deposit(ledger, "M1", "300.00", reference="wire")
    refused("Matter M4 holds 40.00 USD in trust; a refund of 50.00 would take it below zero.",
            trust.refund, ledger, "M4", "50.00", reference="x", reason="y")
    kept = trust.set_retainer(ledger, "M4", minimum="50.00")
    assert (kept["balance_minor"], kept["top_up_minor"]) == (4000, 1000)
    paid = trust.apply_to_invoice(ledger, "M4", "000005", authorisation="ok")  # all it holds
    assert (paid["amount_minor"], paid["balance_minor"], paid["top_up_minor"]) == (4000, 0, 5000)


def test_a_yen_matters_amounts_are_read_and_named_in_yen(empty_ledger):
    ledger = yen_firm(empty_ledger)
    refused("Nothing to apply: matter M4 holds 0 JPY in trust and invoice 000005 owes 200000.",
            trust.apply_to_invoice, ledger, "M4", "000005", authorisation="ok")
    assert trust.deposit(ledger, "M4", "60000", reference="wire")["amount_minor"] == 60000
    refused("Invoice 000005 owes 200000 JPY; 200001 is more than that.",
            trust.apply_to_invoice, ledger, "M4", "000005", "200001", authorisation="ok")
    refused("Matter M4 holds 60000 JPY in trust; 70000 would take it below zero.",
            trust.apply_to_invoice, ledger, "M4", "000005", "70000", authorisation="ok")
    refused("Matter M4 holds 60000 JPY in trust; a refund of 60001 would take it below zero.",
            trust.refund, ledger, "M4", "60001", reference="x", reason="y")
    kept = trust.set_retainer(ledger, "M4", minimum="100000", target="150000")
    assert (kept["minimum_minor"], kept["target_minor"], kept["top_up_minor"]) == (
        100000, 150000, 90000)


def test_what_is_refused_before_any_figure_is_said_in_full(ledger):
    refused("Applying trust money needs the client's authorisation reference.",
            trust.apply_to_invoice, ledger, "M1", "000001", "1.00", authorisation=" ")
    refused("A trust refund needs a reference (the payment out) and a reason.",
            trust.refund, ledger, "M1", "1.00", reference="", reason="closed")
    for minimum, target in (("-1.00", None), ("100.00", "99.99")):
        refused("A retainer's minimum must be 0 or more, and its target at least the minimum.",
                trust.set_retainer, ledger, "M1", minimum=minimum, target=target)


def test_a_retainer_is_stamped_in_utc_and_audited_as_its_actor(ledger):
    row = trust.set_retainer(ledger, "M4", minimum="50.00", actor="clerk")
    assert row["set_at"].utcoffset() == pd.Timedelta(0)
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.table_name == "retainers"))
    assert audit[["actor", "action", "row_key"]].values.tolist() == [["clerk", "insert", "M4"]]


def test_trust_money_applied_is_allocated_at_a_utc_time_whatever_the_clock(ledger,
                                                                           new_york_clock):
    trust.deposit(ledger, "M1", "10.00", reference="wire")
    trust.apply_to_invoice(ledger, "M1", "000001", authorisation="ok")
    entry = ledger.read_frame(sa.select(t.trust_entries.c.created_at)
                              .where(t.trust_entries.c.kind == "application"))
    applied = ledger.read_frame(sa.select(t.allocations.c.created_at))
    gap = abs(pd.Timestamp(applied.loc[0, "created_at"]) - pd.Timestamp(entry.loc[0, "created_at"]))
    assert gap < pd.Timedelta(minutes=30)  # the same transaction; a local time is 5 hours off


def test_top_up_requests_are_rows_of_the_balances_table(ledger):
    trust.set_retainer(ledger, "M1", minimum="10.00")
    trust.set_retainer(ledger, "M4", minimum="100.00", target="150.00")
    trust.deposit(ledger, "M1", "20.00", reference="wire")
    asks = trust.top_up_requests(ledger)
    assert list(asks.columns) == list(trust.balances(ledger).columns)
    assert asks[["matter_id", "top_up_minor"]].values.tolist() == [["M4", 15000]]
    assert asks.index.tolist() == [0]
