"""Trust money: deposits, applications with authorisation, refunds, evergreen retainers, and a
balance that the store itself never lets go below zero (on SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from billxl import payments, trust
from billxl.errors import LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.test_payments import billxl, firm


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
