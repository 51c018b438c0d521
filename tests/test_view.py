"""The read-only ledger view: the same figures as the engine, from memory, and fresh after a write.

Every answer is compared with the batch path (pre-bill lines, ``invoice_balances``, the aging),
on both backends, so that the view cannot drift from the one definition of each figure.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from billxl import ar, demo, intake, payments
from billxl.billing import prebill
from billxl.billing.invoicing import finalize
from billxl.errors import BillxlError
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from billxl.store.view import LedgerView

MONTH = "2026-10"
MONTH_END = date(2026, 10, 31)

EVERY_PREBILL = "the test bills every pre-bill of the demo month"


@pytest.fixture(scope="module")
def firm(tmp_path_factory):
    demo_firm = demo.build_firm(entries=400, seed=11)
    return demo_firm, demo.write_exports(demo_firm, tmp_path_factory.mktemp("exports"))


def _prebill_wip(ledger) -> dict[str, int]:
    """Billable WIP per matter as the pre-bill values it (lines to bill or held)."""
    lines = ledger.read_frame(
        sa.select(t.prebills.c.matter_id, t.prebill_lines.c.bill_amount_minor,
                  t.prebill_lines.c.action)
        .join(t.prebills, t.prebills.c.prebill_pk == t.prebill_lines.c.prebill_pk))
    billable = lines[lines["action"].isin(["bill", "hold"])]
    return billable.groupby("matter_id")["bill_amount_minor"].sum().astype(int).to_dict()


@pytest.fixture
def billed(ledger_url, firm, tmp_path):
    """The demo month imported; WIP as the view saw it before billing; then billed and paid."""
    demo_firm, paths = firm
    ledger = Ledger.create(ledger_url, firm=demo_firm.firm, actor="test")
    demo.load_into(ledger, demo_firm)
    intake.import_file(ledger, paths["time"], "time", actor="test")
    intake.import_file(ledger, paths["expenses"], "expenses", actor="test")
    view = LedgerView(ledger)
    before = {m: view.wip(m) for m in ledger.matters()["matter_id"]}
    prebill.create_prebills(ledger, MONTH, actor="test")
    priced = _prebill_wip(ledger)
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.prebills).values(status="approved", approved_by="test",
                                                  approved_at=datetime.now(UTC)))
    # the demo's pre-bills as drafted (no partner's edits): some would be held for what their
    # clients' portals reject; these figures are of the month billed whole
    finalize(ledger, month=MONTH, invoice_date=date(2026, 11, 5), actor="test",
             override=EVERY_PREBILL)
    frame, _bounced = payments.demo_receipts(payments.invoice_balances(ledger), "2026-11",
                                            seed=3, clients=ledger.clients())
    path = tmp_path / "receipts.csv"
    frame.to_csv(path, index=False)
    payments.post_receipts(ledger, path, actor="test")
    yield ledger, before, priced
    ledger.dispose()


def test_wip_is_the_pre_bill_value_to_the_cent_and_survives_billing_as_of_a_date(billed):
    ledger, before, priced = billed
    assert sum(before.values()) > 0
    # every matter pre-billed in October is priced at its WIP; a quarterly client's matters
    # are not pre-billed until December and keep theirs
    prebilled = {m for m, v in priced.items() if v}
    assert prebilled and set(priced) <= set(before)
    assert {m: before[m] for m in prebilled} == {m: priced[m] for m in prebilled}
    view = LedgerView(ledger)
    matters = list(before)
    # billed now: nothing left in WIP; as of the month end, the same WIP as before billing
    assert sum(view.wip(m) for m in prebilled) == 0
    assert {m: view.wip(m) for m in matters if m not in prebilled} == {
        m: v for m, v in before.items() if m not in prebilled}
    assert {m: view.wip(m, MONTH_END) for m in matters} == before
    assert view.wips_of(matters, MONTH_END).tolist() == [before[m] for m in matters]
    client = ledger.matters().set_index("matter_id")["client_id"]
    per_client = pd.Series(before).groupby(client).sum()
    for c, v in per_client.items():
        assert view.wip(c, MONTH_END) == v
    with pytest.raises(BillxlError, match="not a matter, client or billing partner"):
        view.wip("NOPE")
    with pytest.raises(BillxlError, match="measured how"):
        view.wip(matters[0], measure="colour")


def test_balances_credit_and_aging_match_the_engine(billed):
    ledger, _before, _priced = billed
    view = LedgerView(ledger)
    today = date(2026, 11, 30)
    batch = payments.invoice_balances(ledger, as_of=today)
    numbers = batch["number"].tolist()
    assert view.balances_of(numbers, today).tolist() == batch["balance_minor"].tolist()
    assert all(view.balance(n, today) == b for n, b in
               zip(numbers[:25], batch["balance_minor"], strict=False))
    aging = ar.aging(ledger, today).set_index("client_id")
    for client, row in aging.iterrows():
        assert view.balance(client, today) == row["total"] - (
            batch[(batch["client_id"] == client) & (batch["balance_minor"] < 0)]
            ["balance_minor"].abs().sum())
        buckets = view.aging(client, today)
        assert sum(buckets.values()) == row["total"]
        held = view.credit(client, today)
        assert row["credits"] >= held  # credits also count negative balances
    assert view.balances_of(["no such invoice"]).tolist() == [0]
    with pytest.raises(BillxlError, match="neither an invoice number nor a client"):
        view.balance("no such invoice")


def test_rates_and_codes_answer_from_memory(billed):
    ledger, _before, _priced = billed
    view = LedgerView(ledger)
    entries = ledger.time_entries().head(50)
    book = view.reference.rate_book
    currency = view._matter_currency
    expected = [book.billing(e.timekeeper_id, e.matter_id, e.work_date.date(),
                             currency(e.matter_id)) for e in entries.itertuples()]
    got = [view.rate(e.timekeeper_id, e.matter_id, e.work_date) for e in entries.itertuples()]
    assert got == expected and any(r is not None for r in got)
    many = view.rates_of(entries["timekeeper_id"], entries["matter_id"], entries["work_date"])
    assert many.tolist() == [-1 if r is None else r for r in expected]
    assert view.utbms_name("L110") == "Fact Investigation/Development"
    assert view.utbms_name("e101") == "Copying"
    assert view.utbms_name("X999") is None


def test_a_write_in_this_process_is_seen_by_the_next_answer(billed, tmp_path):
    ledger, _before, _priced = billed
    view = LedgerView(ledger, max_staleness=3600)  # only the commit counter can refresh it
    open_ = payments.invoice_balances(ledger)
    target = open_[open_["balance_minor"] > 0].iloc[0]
    was = view.balance(target["number"])
    payments.write_off(ledger, target["number"], "1.00", reason="rounding",
                       on=date(2026, 11, 30))
    assert view.balance(target["number"]) == was - 100


def test_a_write_by_another_process_is_seen_after_the_staleness_window(billed):
    ledger, _before, _priced = billed
    view = LedgerView(ledger, max_staleness=0)
    open_ = payments.invoice_balances(ledger)
    target = open_[open_["balance_minor"] > 0].iloc[0]
    was = view.balance(target["number"])
    url = ledger.engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(f"""
        from datetime import date
        from billxl import payments
        from billxl.store.ledger import Ledger
        ledger = Ledger(__import__("billxl.store.db", fromlist=["x"]).make_engine({url!r}))
        payments.write_off(ledger, {target['number']!r}, "2.50", reason="other process",
                           on=date(2026, 11, 30))
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    assert view.balance(target["number"]) == was - 250
    assert view.refresh() is False  # nothing new since


def test_notebook_frames_are_the_figures(billed):
    ledger, _before, _priced = billed
    view = LedgerView(ledger)
    frame = view.invoices()
    assert np.array_equal(frame["balance_minor"].to_numpy(),
                          payments.invoice_balances(ledger)["balance_minor"].to_numpy())
    hours = view.time_by_timekeeper("2026-10-01", "2026-10-31")
    assert hours["hours_milli"].sum() == ledger.time_entries()["hours_milli"].sum()
    assert set(view.wip_rows(MONTH_END)["entry_kind"]) == {"time", "expense"}


def test_lockup_and_the_partner_summary_use_the_same_wip(billed):
    from billxl import reports

    ledger, before, _priced = billed
    lock = ar.dso(ledger, MONTH_END).set_index("currency")
    currency = ledger.clients().set_index("client_id")["currency"]
    client = ledger.matters().set_index("matter_id")["client_id"]
    by_currency = pd.Series(before).groupby(client.map(currency)).sum()
    assert lock["wip_minor"].to_dict() == by_currency[by_currency != 0].to_dict()
    view = LedgerView(ledger)
    summary = reports.wip_by_partner(view.wip_rows(MONTH_END), view.reference)
    assert summary.groupby("currency")["total_minor"].sum().to_dict() == lock["wip_minor"].to_dict()


def test_credit_and_trust_one_at_a_time_and_all_at_once(billed):
    from billxl import trust

    ledger, _before, _priced = billed
    matter = ledger.matters()["matter_id"].iloc[0]
    trust.deposit(ledger, matter, "1000.00", reference="wire 1", on=date(2026, 11, 1))
    view = LedgerView(ledger)
    assert view.trust(matter) == 100000
    client = ledger.matters().set_index("matter_id").loc[matter, "client_id"]
    assert view.trust(client) == 100000
    assert view.trust(matter, date(2026, 10, 31)) == 0  # deposited later
    assert view.trusts_of([matter, "nope"]).tolist() == [100000, 0]
    clients = ledger.clients()["client_id"].tolist()
    held = payments.unapplied_cash(ledger)
    expected = held[held["status"] == "posted"].groupby("client_id")["unapplied_minor"].sum()
    assert view.credits_of(clients).tolist() == [int(expected.get(c, 0)) for c in clients]
    assert [view.credit(c) for c in clients] == view.credits_of(clients).tolist()
    with pytest.raises(BillxlError, match="not per partner"):
        view.trust(ledger.matters()["billing_partner_id"].iloc[0])
