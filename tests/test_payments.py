"""Receipts: reading through profiles, matching, allocation, posting, reversal, refunds.

Most tests run on SQLite and PostgreSQL. The firm here is small and its invoices are written
straight into the ledger (``add_invoices``), so every expected figure can be worked out by hand.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from billxl import payments
from billxl.errors import InputError, LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger

CANONICAL = ["receipt_id", "date", "client_id", "payer", "amount", "currency", "method",
             "reference", "remittance"]


# =================================================================================== the firm
def reference() -> dict[str, pd.DataFrame]:
    ts = pd.Timestamp
    return {
        "offices": pd.DataFrame([{"office_id": "NYC", "name": "New York", "currency": "USD"},
                                 {"office_id": "LDN", "name": "London", "currency": "GBP"}]),
        "timekeepers": pd.DataFrame([
            {"timekeeper_id": "TK1", "first_name": "Jane", "last_name": "Smith",
             "classification": "PARTNR", "office_id": "NYC", "active_from": ts("2020-01-01")},
            {"timekeeper_id": "TK2", "first_name": "Raj", "last_name": "Patel",
             "classification": "PARTNR", "office_id": "LDN", "active_from": ts("2020-01-01")}]),
        "clients": pd.DataFrame([
            {"client_id": "C1", "name": "Acme Corp", "currency": "USD", "payment_terms_days": 30,
             "office_id": "NYC"},
            {"client_id": "C2", "name": "Brit Ltd", "currency": "GBP", "payment_terms_days": 30,
             "office_id": "LDN"},
            {"client_id": "C3", "name": "Beta LLC", "currency": "USD", "payment_terms_days": 30,
             "office_id": "NYC"}]),
        "matters": pd.DataFrame([
            {"matter_id": "M1", "client_id": "C1", "name": "Acme v. Roe", "opened_on": ts("2026-01-01"),
             "billing_partner_id": "TK1", "office_id": "NYC"},
            {"matter_id": "M2", "client_id": "C1", "name": "Acme lease", "opened_on": ts("2026-01-01"),
             "billing_partner_id": "TK2", "office_id": "NYC"},
            {"matter_id": "M3", "client_id": "C2", "name": "Brit audit", "opened_on": ts("2026-01-01"),
             "billing_partner_id": "TK2", "office_id": "LDN"},
            {"matter_id": "M4", "client_id": "C3", "name": "Beta merger", "opened_on": ts("2026-01-01"),
             "billing_partner_id": "TK1", "office_id": "NYC"}]),
    }


MATTER_CLIENT = {"M1": "C1", "M2": "C1", "M3": "C2", "M4": "C3"}

# number, matter, invoice date, fees, expenses, tax (minor units); due 30 days later
INVOICES = [
    ("000001", "M1", "2026-07-01", 100000, 20000, 0),
    ("000002", "M1", "2026-08-01", 50000, 0, 0),
    ("000003", "M2", "2026-09-01", 80000, 5000, 0),
    ("000004", "M3", "2026-08-15", 30000, 0, 6000),
    ("000005", "M4", "2026-09-10", 200000, 0, 0),
    ("000006", "M4", "2026-10-01", 75000, 0, 0),
]


def add_invoices(ledger, invoices=INVOICES, *, currency_of=None) -> dict[str, int]:
    """Write final invoices (an F line, an E line when there are expenses) straight in."""
    currency_of = currency_of or {"M3": "GBP"}
    now = datetime.now(UTC)
    made = {}
    with ledger.transaction() as conn:
        for number, matter, day, fees, expenses, tax in invoices:
            on = date.fromisoformat(day)
            pk = conn.execute(t.invoices.insert().returning(t.invoices.c.invoice_pk), {
                "number": number, "client_id": MATTER_CLIENT[matter], "matter_id": matter,
                "office_id": None, "currency": currency_of.get(matter, "USD"), "invoice_date": on,
                "due_date": on + pd.Timedelta(days=30), "description": "Services",
                "fees_minor": fees, "expenses_minor": expenses, "tax_minor": tax,
                "total_minor": fees + expenses + tax, "rounding": "half_up", "finalized_at": now,
                "finalized_by": "test"}).scalar_one()
            lines = [{"invoice_pk": pk, "line_no": 1, "line_type": "F", "work_date": on,
                      "narrative": "Fees", "quantity_milli": 1000, "unit_minor": fees,
                      "standard_amount_minor": fees, "amount_minor": fees, "tax_minor": tax}]
            if expenses:
                lines.append({"invoice_pk": pk, "line_no": 2, "line_type": "E", "work_date": on,
                              "narrative": "Copies", "quantity_milli": 1000, "unit_minor": expenses,
                              "standard_amount_minor": expenses, "amount_minor": expenses,
                              "tax_minor": 0})
            conn.execute(t.invoice_lines.insert(), lines)
            made[number] = pk
    return made


def firm(ledger) -> Ledger:
    ledger.load_reference(reference(), actor="test")
    add_invoices(ledger)
    return ledger


@pytest.fixture
def ledger(empty_ledger):
    return firm(empty_ledger)


def write_csv(path: Path, rows: list[dict], columns=CANONICAL) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def receipt(rid, day, amount, **over) -> dict:
    return {"receipt_id": rid, "date": day, "amount": amount, "method": "wire", **over}


def balances(ledger) -> dict[str, int]:
    frame = payments.invoice_balances(ledger)
    return dict(zip(frame["number"], frame["balance_minor"].astype(int), strict=True))


def allocations(ledger) -> pd.DataFrame:
    al, rc, inv = t.allocations, t.receipts, t.invoices
    return ledger.read_frame(
        sa.select(rc.c.receipt_id, inv.c.number, al.c.rule, al.c.kind, al.c.amount_minor,
                  al.c.expenses_minor)
        .join(rc, rc.c.receipt_pk == al.c.receipt_pk).join(inv, inv.c.invoice_pk == al.c.invoice_pk)
        .order_by(rc.c.receipt_id, inv.c.number, al.c.allocation_pk))


def snapshot(ledger) -> dict[str, list]:
    """Every cash table's rows, in key order: to show that something changed nothing."""
    out = {}
    with ledger.engine.connect() as conn:
        for table in (t.receipts, t.allocations, t.write_offs, t.refunds, t.trust_entries,
                      t.import_batches, t.audit_log):
            key = next(iter(table.primary_key.columns))
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(key))]
    return out


# =================================================================================== pure parts
def _waterfall_by_hand(claims, items):
    """Pay one claim at a time, each item in turn: the slow, obvious way."""
    made = []
    left = [list(x) for x in items]  # [group, cap]
    for ci, (group, amount) in enumerate(claims):
        for ii, item in enumerate(left):
            if item[0] != group or amount == 0:
                continue
            paid = min(amount, item[1])
            if paid:
                made.append((ci, ii, paid))
                item[1] -= paid
                amount -= paid
    return made


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 500)), max_size=12),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 500)), max_size=12))
def test_the_waterfall_pays_as_one_receipt_at_a_time_would(claims, items):
    claims, items = sorted(claims, key=lambda x: x[0]), sorted(items, key=lambda x: x[0])
    ci, ii, amount = payments._waterfall(
        np.array([g for g, _ in claims], dtype=np.int64), np.array([a for _, a in claims], dtype=np.int64),
        np.array([g for g, _ in items], dtype=np.int64), np.array([c for _, c in items], dtype=np.int64))
    got: dict[tuple, int] = {}
    for c, i, a in zip(ci, ii, amount, strict=True):
        got[(int(c), int(i))] = got.get((int(c), int(i)), 0) + int(a)
    assert got == {(c, i): a for c, i, a in _waterfall_by_hand(claims, items)}


def test_invoice_numbers_are_found_in_full_or_after_the_word_invoice():
    numbers = pd.Series(["000001", "000002", "000123", "NYC-000045", "CN-000001"])
    texts = pd.Series([
        "Payment of invoices 000001 and 000123.",  # in full
        "Inv 2, INV-123",  # after INV, without the zeros
        "PO 2 and order 123",  # bare numbers without the word: not invoice numbers
        "ref nyc-000045/000002-",  # any case, separators
        "Invoice No. 45",  # zeros dropped, but the office prefix missing: no
        "",
    ])
    pairs = payments._named_pairs(texts, numbers)
    found = {(int(r), numbers[i]) for r, i in zip(pairs["receipt"], pairs["invoice"], strict=True)}
    assert found == {(0, "000001"), (0, "000123"), (1, "000002"), (1, "000123"),
                     (3, "NYC-000045"), (3, "000002")}


def test_receipt_profiles_are_shipped_and_checked(tmp_path):
    assert payments.receipt_profile_names() == ["bank", "canonical"]
    assert payments.load_receipt_profile("bank").credits_only
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource: x\ncolumns: {date: D, amount: A}\noptional: [colour]\n")
    with pytest.raises(InputError) as caught:
        payments.load_receipt_profile(bad)
    assert "colour" in str(caught.value)


# =================================================================================== matching
def test_a_payer_is_known_by_its_name_without_the_legal_form(ledger, tmp_path):
    """Banks write the payer as its own bank knows it: upper case, 'Limited' for 'Ltd', an
    'L.L.C.' for an 'LLC'."""
    path = write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "360.00", payer="BRIT LIMITED", currency="GBP"),
        receipt("R2", "2026-10-10", "750.00", payer="Beta, L.L.C."),
        receipt("R3", "2026-10-10", "5.00", payer="Gamma Inc")])  # no such client
    payments.post_receipts(ledger, path)
    stored = payments.receipts(ledger).set_index("receipt_id")
    assert stored.loc["R1", "client_id"] == "C2" and stored.loc["R2", "client_id"] == "C3"
    assert pd.isna(stored.loc["R3", "client_id"]) and stored.loc["R3", "status"] == "unmatched"
    assert balances(ledger)["000004"] == 0 and balances(ledger)["000006"] == 0  # exact amounts


def test_named_exact_oldest_and_unmatched(ledger, tmp_path):
    path = write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "500.00", payer="ACME CORP.", remittance="Inv 2"),  # name, named
        receipt("R2", "2026-10-10", "750.00", client_id="C3"),  # exact: 000006, not the oldest
        receipt("R3", "2026-10-11", "1,300.00", client_id="C1"),  # oldest first, expenses first
        receipt("R4", "2026-10-11", "99.00", payer="Nobody Inc"),  # not identified
        receipt("R5", "2026-10-12", "10.00", client_id="C2", currency="USD"),  # C2 is billed in GBP
        receipt("R6", "2026-10-12", "360.00", currency="GBP", remittance="invoice 000004"),
    ])
    result = payments.post_receipts(ledger, path)
    summary = result.summary_dict()
    assert {k: summary[k] for k in ("posted", "duplicates", "unmatched", "allocations")} == {
        "posted": 6, "duplicates": 0, "unmatched": 2, "allocations": 5}
    assert summary["amount_posted_by_currency"] == {"GBP": "360.00", "USD": "2659.00"}
    assert summary["amount_posted"] is None  # two currencies: no single figure

    got = allocations(ledger)
    assert list(got.itertuples(index=False, name=None)) == [
        ("R1", "000002", "named", "apply", 50000, 0),
        ("R2", "000006", "exact", "apply", 75000, 0),
        ("R3", "000001", "oldest", "apply", 120000, 20000),
        ("R3", "000003", "oldest", "apply", 10000, 5000),  # its expenses before fees
        ("R6", "000004", "named", "apply", 36000, 0)]
    assert balances(ledger) == {"000001": 0, "000002": 0, "000003": 75000, "000004": 0,
                                "000005": 200000, "000006": 0}
    stored = payments.receipts(ledger).set_index("receipt_id")
    assert stored.loc["R6", "client_id"] == "C2"  # found through the invoice it names
    assert stored.loc["R1", "client_id"] == "C1"  # found by the payer's name
    assert stored.loc["R4", "status"] == "unmatched" and pd.isna(stored.loc["R4", "client_id"])
    assert "not identified" in stored.loc["R4", "unmatched_reason"]
    assert stored.loc["R5", "status"] == "unmatched" and "USD" in stored.loc["R5", "unmatched_reason"]
    assert (stored["unapplied_minor"] == stored["amount_minor"] - stored.index.map(
        got.groupby("receipt_id")["amount_minor"].sum()).fillna(0)).all()
    listed = payments.unapplied_cash(ledger, unmatched_only=True)
    assert sorted(listed["receipt_id"]) == ["R4", "R5"]


def test_overpayment_partial_payment_and_credit_on_account(ledger, tmp_path):
    path = write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "3000.00", client_id="C3"),  # owes 2,750.00
        receipt("R2", "2026-10-10", "200.00", client_id="C1", remittance="for 000002"),  # part
        receipt("R3", "2026-10-11", "40.00", client_id="C1", remittance="000001 000002 000003",
                reference="second part"),
    ])
    payments.post_receipts(ledger, path)
    stored = payments.receipts(ledger).set_index("receipt_id")
    assert stored.loc["R1", "unapplied_minor"] == 25000 and stored.loc["R1", "matched_by"] == "oldest"
    assert balances(ledger)["000005"] == 0 and balances(ledger)["000006"] == 0
    assert balances(ledger)["000002"] == 30000
    # R3 names three invoices: oldest first, every named invoice's expenses before fees
    got = allocations(ledger)
    r3 = got[got["receipt_id"] == "R3"]
    assert list(zip(r3["number"], r3["amount_minor"], r3["expenses_minor"], strict=True)) == [
        ("000001", 4000, 4000)]
    # a second post of a receipt from C3, whose invoices are all paid: credit on account
    more = write_csv(tmp_path / "more.csv", [receipt("R9", "2026-10-20", "10.00", client_id="C3")])
    payments.post_receipts(ledger, more)
    credit = payments.unapplied_cash(ledger, client="C3")
    assert credit.set_index("receipt_id")["unapplied_minor"].to_dict() == {"R1": 25000, "R9": 1000}
    assert payments.receipts(ledger).set_index("receipt_id").loc["R9", "matched_by"] == "account"


def test_a_short_payment_within_the_tolerance_is_written_off(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C1", tolerance="5.00")
    payments.set_cash_terms(ledger, "C3", tolerance="1.00")
    path = write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "497.50", client_id="C1", remittance="Invoice 000002"),
        receipt("R2", "2026-10-10", "840.00", client_id="C1", remittance="Invoice 000003"),  # 10 short
        receipt("R3", "2026-10-10", "2749.50", client_id="C3"),  # the whole account, 0.50 short
    ])
    result = payments.post_receipts(ledger, path)
    assert result.summary_dict()["amount_written_off"] == "3.00"
    offs = ledger.read_frame(sa.select(t.write_offs.c.invoice_pk, t.write_offs.c.amount_minor,
                                       t.write_offs.c.reason).order_by(t.write_offs.c.invoice_pk))
    assert offs["amount_minor"].tolist() == [250, 50]
    assert offs["reason"].iloc[0] == "short payment within the client's tolerance (receipt R1)"
    assert balances(ledger) | {} == {"000001": 120000, "000002": 0, "000003": 1000,
                                     "000004": 36000, "000005": 0, "000006": 0}


def test_expenses_first_or_invoice_by_invoice(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "a.csv", [
        receipt("R1", "2026-10-10", "300.00", client_id="C1")]))
    got = allocations(ledger)
    assert list(zip(got["number"], got["amount_minor"], got["expenses_minor"], strict=True)) == [
        ("000001", 25000, 20000), ("000003", 5000, 5000)]  # every invoice's expenses first
    payments.set_cash_terms(ledger, "C1", expenses_first=False)
    payments.post_receipts(ledger, write_csv(tmp_path / "b.csv", [
        receipt("R2", "2026-10-11", "1000.00", client_id="C1")]))
    got = allocations(ledger)
    r2 = got[got["receipt_id"] == "R2"]
    assert list(zip(r2["number"], r2["amount_minor"], r2["expenses_minor"], strict=True)) == [
        ("000001", 95000, 0), ("000002", 5000, 0)]  # the oldest invoice is settled first


def test_pro_rata_shares_add_up_to_the_receipt(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C3", policy="pro_rata")
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "1000.00", client_id="C3"),
        receipt("R2", "2026-10-11", "500.00", client_id="C3"),
    ]))
    got = allocations(ledger)
    r1 = got[got["receipt_id"] == "R1"].set_index("number")["amount_minor"].to_dict()
    assert r1 == {"000005": 72727, "000006": 27273}  # 2,000 : 750, the odd cent to the larger remainder
    r2 = got[got["receipt_id"] == "R2"].set_index("number")["amount_minor"]
    assert r2.sum() == 50000
    assert r2["000005"] == 36364 and r2["000006"] == 13636
    assert balances(ledger)["000005"] + balances(ledger)["000006"] == 275000 - 150000


# =================================================================================== idempotence
def test_posting_again_posts_nothing_and_an_overlapping_export_only_the_new(ledger, tmp_path):
    rows = [receipt(f"R{i}", f"2026-10-{i:02d}", "100.00", client_id="C1") for i in range(1, 6)]
    first = write_csv(tmp_path / "first.csv", rows[:4])
    payments.post_receipts(ledger, first)
    before = snapshot(ledger)
    again = payments.post_receipts(ledger, first)
    assert (again.posted, again.duplicates) == (0, 4)
    assert again.summary_dict()["amount_posted"] == "0"
    assert snapshot(ledger) == before  # not a row, not an audit entry
    overlap = payments.post_receipts(ledger, write_csv(tmp_path / "second.csv", rows[2:]))
    assert (overlap.posted, overlap.duplicates) == (1, 2)
    assert sorted(payments.receipts(ledger)["receipt_id"]) == ["R1", "R2", "R3", "R4", "R5"]


def test_a_receipt_posted_again_with_other_details_is_refused(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "a.csv", [
        receipt("R1", "2026-10-01", "100.00", client_id="C1")]))
    before = snapshot(ledger)
    with pytest.raises(InputError) as caught:
        payments.post_receipts(ledger, write_csv(tmp_path / "b.csv", [
            receipt("R1", "2026-10-01", "110.00", client_id="C1"),
            receipt("R2", "2026-10-01", "5.00", client_id="C1")]))
    assert caught.value.problems[0].row == 2
    assert "different details" in caught.value.problems[0].reason
    assert snapshot(ledger) == before  # all or nothing: R2 was not posted either


def test_the_store_refuses_the_same_receipt_twice(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "a.csv", [
        receipt("R1", "2026-10-01", "100.00", client_id="C1")]))
    row = ledger.read_frame(sa.select(t.receipts)).iloc[0].to_dict()
    row.pop("receipt_pk")
    row = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in row.items()}
    row["received_on"], row["posted_at"] = date(2026, 10, 1), datetime.now(UTC)
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:
        conn.execute(t.receipts.insert(), row)
    with pytest.raises(sa.exc.IntegrityError), ledger.transaction() as conn:  # never unapplied > amount
        conn.execute(t.receipts.update().values(unapplied_minor=t.receipts.c.amount_minor + 1))


def test_a_dry_run_shows_every_proposal_and_writes_nothing(ledger, tmp_path):
    path = write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "1300.00", client_id="C1"),
        receipt("R2", "2026-10-10", "99.00", payer="Nobody")])
    before = snapshot(ledger)
    result = payments.post_receipts(ledger, path, dry_run=True)
    assert snapshot(ledger) == before
    shown = result.proposals()
    assert shown[["receipt_id", "action", "invoice", "amount"]].values.tolist() == [
        ["R1", "allocation", "000001", "1200.00"], ["R1", "allocation", "000002", "50.00"],
        ["R1", "allocation", "000003", "50.00"], ["R2", "unmatched", None, "99.00"]]
    posted = payments.post_receipts(ledger, path)
    assert posted.summary_dict() | {"dry_run": True, "batch_id": None} == result.summary_dict()


# =================================================================================== files
def test_a_bank_export_through_its_profile(ledger, tmp_path):
    import openpyxl

    def export(path, rows):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Date", "Transaction ID", "Counterparty", "Details", "Reference", "Debit",
                      "Credit", "Currency"])
        for r in rows:
            sheet.append(r)
        book.save(path)
        return path

    first = export(tmp_path / "oct1.xlsx", [
        ["10/10/2026", "TX1", "ACME CORP", "INV000002", "", None, 500, "USD"],
        ["11/10/2026", "TX2", "Office rent", "Rent October", "", 4000, None, "USD"],  # money out
        ["12/10/2026", "TX3", "Beta L.L.C.", "Payment", "", None, 2750.0, "USD"],  # by name
    ])
    result = payments.post_receipts(ledger, first, "bank")
    assert (result.posted, result.skipped, result.unmatched) == (2, 1, 0)
    assert result.skipped_rows == (3,)  # as the user sees it in Excel: the rent, row 3
    assert "Not receipts (money out, or an amount of 0 or less): row(s) 3" in result.summary()
    stored = payments.receipts(ledger).set_index("receipt_id")
    assert stored.loc["TX1", "method"] == "wire" and stored.loc["TX1", "source"] == "bank"
    assert stored.loc["TX3", "client_id"] == "C3"
    assert balances(ledger)["000002"] == 0 and balances(ledger)["000005"] == 0
    second = export(tmp_path / "oct2.xlsx", [
        ["12/10/2026", "TX3", "Beta L.L.C.", "Payment", "", None, 2750, "USD"],  # overlap
        ["15/10/2026", "TX4", "Acme Corp", "000003", "", None, 850, "USD"]])
    again = payments.post_receipts(ledger, second, "bank")
    assert (again.posted, again.duplicates) == (1, 1)
    assert balances(ledger)["000003"] == 0


def test_what_a_secretary_meets_posting_odd_receipts(ledger, tmp_path):
    from datetime import date, timedelta

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with pytest.raises(InputError) as caught:
        payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
            receipt("R1", tomorrow, "10.00", client_id="C1")]))
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (2, "date") and "is after today" in problem.reason
    # a remittance naming an invoice that does not exist says so
    posted = payments.post_receipts(ledger, write_csv(tmp_path / "s.csv", [
        receipt("R2", "2026-10-12", "99.00", payer="Nobody Ltd", remittance="Inv 009999"),
        receipt("R3", "2026-10-12", "98.00", payer="Nobody Ltd", remittance="paying 009998"),
        receipt("R4", "2026-10-12", "97.00", payer="Nobody Ltd", remittance="cheque 77")]))
    why = payments.receipts(ledger).set_index("receipt_id")["unmatched_reason"]
    assert why["R2"].startswith("the remittance names invoice 009999, which is not in the ledger")
    assert why["R3"].startswith("the remittance names invoice 009998, which is not in the ledger")
    assert "no invoice number in the remittance" in why["R4"]
    assert posted.unmatched == 3
    # ... and a known client's receipt naming one is paid by the client's rule, and the
    # summary says which receipts to check with the payer
    paid = payments.post_receipts(ledger, write_csv(tmp_path / "t.csv", [
        receipt("R5", "2026-10-13", "100.00", client_id="C1", remittance="Payment of inv 009997"),
        receipt("R6", "2026-10-13", "100.00", client_id="C1", remittance="Inv 000003")]))
    assert paid.paid_instead_of_named() == ["R5"]
    assert ("  1 receipt(s) name an invoice that is not in the ledger and were paid by the "
            "client's rule instead (R5): check the number with the payer") in paid.summary()
    # nothing new: no amount without its currency
    again = payments.post_receipts(ledger, write_csv(tmp_path / "s.csv", [
        receipt("R2", "2026-10-12", "99.00", payer="Nobody Ltd", remittance="Inv 009999")]))
    assert again.summary().startswith("Posted 0 receipt(s) from s.csv; 1 already in the ledger")


def test_a_known_payer_naming_an_invoice_that_does_not_exist_is_paid_by_rule_and_says_so(
        ledger, tmp_path):
    result = payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "13.00", client_id="C1", remittance="Inv 009999"),
        receipt("R2", "2026-10-10", "14.00", client_id="C1", remittance="Inv 000002")]),
        dry_run=True)
    shown = result.proposals().set_index("receipt_id")
    assert shown.loc["R1", ["action", "invoice", "rule"]].tolist() == [
        "allocation", "000001", "oldest"]
    assert shown.loc["R1", "note"] == ("the remittance names invoice 009999, which is not in the "
                                       "ledger; paid to the oldest open invoices instead")
    assert shown.loc["R2", ["invoice", "rule", "note"]].tolist() == ["000002", "named", ""]


def test_a_layout_without_receipt_ids_keys_on_content_and_occurrence(ledger, tmp_path):
    profile = tmp_path / "lockbox.yaml"
    profile.write_text("name: lockbox\nsource: lockbox\ndate_formats: ['%m/%d/%Y']\n"
                       "columns: {date: Deposit Date, amount: Amount, client_id: Client,"
                       " reference: Check No}\n")
    rows = [{"Deposit Date": "10/01/2026", "Amount": "10.00", "Client": "C1", "Check No": "77"}] * 2
    columns = ["Deposit Date", "Amount", "Client", "Check No"]
    first = payments.post_receipts(ledger, write_csv(tmp_path / "a.csv", rows, columns), profile)
    assert first.posted == 2  # two equal cheques on one day are two receipts
    assert payments.post_receipts(ledger, write_csv(tmp_path / "a.csv", rows, columns),
                                  profile).posted == 0
    third = payments.post_receipts(ledger, write_csv(tmp_path / "b.csv", rows + rows[:1],
                                                     columns), profile)
    assert (third.posted, third.duplicates) == (1, 2)
    keys = sorted(payments.receipts(ledger)["source_key"])
    assert [k.rsplit("-", 1)[1] for k in keys] == ["1", "2", "3"]


def test_receipts_without_ids_are_known_by_content_not_by_their_row(ledger, tmp_path):
    # the bank's next file repeats A and B below a new C: only C is new
    profile = tmp_path / "lockbox.yaml"
    profile.write_text("name: lockbox\nsource: lockbox\ndate_formats: ['%m/%d/%Y']\n"
                       "columns: {date: Deposit Date, amount: Amount, client_id: Client,"
                       " reference: Check No}\n")
    columns = ["Deposit Date", "Amount", "Client", "Check No"]
    a, b, c = ({"Deposit Date": "10/01/2026", "Amount": amount, "Client": "C1", "Check No": no}
               for amount, no in (("10.00", "71"), ("20.00", "72"), ("30.00", "73")))
    assert payments.post_receipts(ledger, write_csv(tmp_path / "a.csv", [a, b], columns),
                                  profile).posted == 2
    later = payments.post_receipts(ledger, write_csv(tmp_path / "b.csv", [c, a, b], columns),
                                   profile)
    assert (later.posted, later.duplicates) == (1, 2)
    posted = payments.receipts(ledger).sort_values("amount_minor")
    assert posted["amount_minor"].tolist() == [1000, 2000, 3000]


def test_a_bad_file_lists_every_problem_and_posts_nothing(ledger, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        receipt("R1", "2026-13-01", "10.00", client_id="C1"),
        receipt("R2", "2026-10-01", "ten", client_id="C1"),
        receipt("R3", "2026-10-01", "-5.00", client_id="C1"),
        receipt("R4", "2026-10-01", "5.00", client_id="C99"),
        receipt("R1", "2026-10-01", "5.00", client_id="C1"),
        receipt("R6", "2026-10-01", "5.001", client_id="C1"),
        receipt("R7", "2026-10-01", "5", client_id="C1", currency="dollars"),
        receipt("R8", "2026-10-01", "5", client_id="C1", currency="JPY"),
        receipt("R9", "2026-10-01", "5.5", client_id="C1", currency="JPY"),
    ])
    before = snapshot(ledger)
    with pytest.raises(InputError) as caught:
        payments.post_receipts(ledger, path)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(2, "date"), (3, "amount"), (4, "amount"), (5, "client_id"),
                     (2, "receipt_id"), (6, "receipt_id"), (7, "amount"), (8, "currency"),
                     (10, "amount")}
    assert snapshot(ledger) == before


# =================================================================================== corrections
def test_a_reversal_restores_every_balance_it_touched(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C1", tolerance="5.00")
    start = balances(ledger)
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "1697.50", client_id="C1", remittance="000001, 000002"),
        receipt("R2", "2026-10-10", "100.00", client_id="C1")]))
    assert balances(ledger)["000001"] == 0 and balances(ledger)["000002"] == 0
    done = payments.reverse_receipt(ledger, "R1", reason="NSF", on=date(2026, 10, 20))
    assert done["allocations_reversed_minor"] == 169750 and done["write_offs_reversed_minor"] == 250
    after = balances(ledger)
    assert after["000001"] == start["000001"] and after["000002"] == start["000002"]
    assert after["000003"] == start["000003"] - 10000  # R2 still stands
    stored = payments.receipts(ledger).set_index("receipt_id")
    assert stored.loc["R1", "status"] == "reversed" and stored.loc["R1", "unapplied_minor"] == 0
    net = allocations(ledger).groupby("receipt_id")["amount_minor"].sum()
    assert net["R1"] == 0
    with pytest.raises(LedgerError, match="reversed already"):
        payments.reverse_receipt(ledger, "R1", reason="again")
    # the aging as of a day before the reversal still shows the invoices paid
    before_reversal = payments.invoice_balances(ledger, as_of=date(2026, 10, 15))
    assert before_reversal.set_index("number").loc["000001", "balance_minor"] == 0


def test_refunds_draw_on_credit_and_never_more(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "2800.00", client_id="C3"),  # 50.00 over
        receipt("R2", "2026-10-11", "30.00", client_id="C3"),  # all credit
        receipt("R3", "2026-10-11", "7.00", payer="Stranger")]))  # unmatched
    refunded = payments.refund_credit(ledger, "60.00", client="C3", reference="CHK 501",
                                      reason="overpaid")
    assert refunded.set_index("receipt_id")["amount_minor"].to_dict() == {"R1": 5000, "R2": 1000}
    credit = payments.unapplied_cash(ledger, client="C3")
    assert credit.set_index("receipt_id")["unapplied_minor"].to_dict() == {"R2": 2000}
    with pytest.raises(LedgerError, match="more than that"):
        payments.refund_credit(ledger, "20.01", client="C3", reference="x", reason="y")
    payments.refund_credit(ledger, "7.00", receipt_id="R3", reference="back", reason="not ours")
    assert payments.unapplied_cash(ledger, unmatched_only=True).empty
    with pytest.raises(LedgerError, match="refunded"):
        payments.reverse_receipt(ledger, "R1", reason="NSF")


def test_an_unmatched_receipt_is_applied_by_hand(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "600.00", payer="A. Person", reference="for Acme")]))
    with pytest.raises(LedgerError, match="not client C1's"):
        payments.apply_receipt(ledger, "R1", ["000005"], client="C1")
    made = payments.apply_receipt(ledger, "R1", ["000002"], client="C1")
    assert made[["number", "amount_minor"]].values.tolist() == [["000002", 50000]]
    stored = payments.receipts(ledger).set_index("receipt_id")
    assert (stored.loc["R1", "status"], stored.loc["R1", "client_id"],
            stored.loc["R1", "unapplied_minor"]) == ("posted", "C1", 10000)
    payments.write_off(ledger, "000003", "50.00", reason="goodwill")
    assert balances(ledger)["000003"] == 80000
    with pytest.raises(LedgerError, match="cannot be written off"):
        payments.write_off(ledger, "000003", "900.00", reason="too much")


# =================================================================================== processes
POST_ONE = """
import sys, time
from pathlib import Path
from billxl.payments import post_receipts
from billxl.store.ledger import Ledger
ledger = Ledger.open(sys.argv[1])
Path(sys.argv[3]).write_text("ready")
while not Path(sys.argv[4]).exists():  # start together: both post at the same moment
    time.sleep(0.005)
post_receipts(ledger, sys.argv[2], actor="proc")
"""


def _many(prefix_range, clients=("C1", "C3")):
    rows = []
    for i in prefix_range:
        client = clients[i % len(clients)]
        named = {1: "000002", 4: "000005"}.get(i % 7, "")
        rows.append(receipt(f"R{i:05d}", f"2026-10-{1 + i % 28:02d}", f"{(i % 50) + 1}.{i % 100:02d}",
                            client_id=client, remittance=f"inv {named}" if named else ""))
    return rows


def _outcome(ledger) -> dict:
    got = allocations(ledger)
    stored = payments.receipts(ledger)
    return {"receipts": sorted(stored["receipt_id"]),
            "allocations": sorted(map(tuple, got[["receipt_id", "number", "amount_minor"]].values.tolist())),
            "unapplied": dict(zip(stored["receipt_id"], stored["unapplied_minor"].astype(int), strict=True))}


def test_two_processes_posting_overlapping_files_at_once(ledger, ledger_url, tmp_path):
    """Both post at the same time: every receipt once, and the result of one after the other."""
    a = write_csv(tmp_path / "a.csv", _many(range(0, 1500)))
    b = write_csv(tmp_path / "b.csv", _many(range(700, 2200)))
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", POST_ONE, ledger_url, str(path),
                               str(tmp_path / f"ready-{path.stem}"), str(go)],
                              stderr=subprocess.PIPE, text=True) for path in (a, b)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{x}").exists() for x in ("a", "b")):
        assert all(p.poll() is None for p in procs) and time.monotonic() < deadline
        time.sleep(0.01)
    go.write_text("go")
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    got = _outcome(ledger)
    assert got["receipts"] == sorted(f"R{i:05d}" for i in range(2200))  # none twice, none lost
    # the same as posting one file and then the other, in whichever order they ran
    orders = []
    for first, second in ((a, b), (b, a)):
        alone = firm(Ledger.create(f"sqlite:///{tmp_path / f'{first.stem}.db'}",
                                   firm={"name": "x", "law_firm_id": "1"}))
        payments.post_receipts(alone, first)
        payments.post_receipts(alone, second)
        orders.append(_outcome(alone))
        alone.dispose()
    assert got in orders
    for row in payments.invoice_balances(ledger).itertuples():
        assert 0 <= row.balance_minor <= row.total_minor


KILLED = """
import os, sys, time
from pathlib import Path
from billxl.payments import post_receipts
from billxl.store.ledger import Ledger

def progress(stage, done, total):
    if stage == "Writing allocations" and done == 0:  # receipts written, nothing committed
        Path(sys.argv[3]).write_text("inside")
        time.sleep(600)

post_receipts(Ledger.open(sys.argv[1]), sys.argv[2], actor="proc", progress=progress)
"""


def test_a_post_killed_midway_leaves_the_ledger_as_it_was(ledger, ledger_url, tmp_path):
    path = write_csv(tmp_path / "r.csv", _many(range(3000)))
    before, start = snapshot(ledger), balances(ledger)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, ledger_url, str(path), str(marker)],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    fresh = Ledger.open(ledger_url)
    assert snapshot(fresh) == before and balances(fresh) == start
    proposed = payments.post_receipts(fresh, path, dry_run=True).summary_dict()
    done = payments.post_receipts(fresh, path).summary_dict()
    assert done["posted"] == 3000 and done | {"dry_run": True, "batch_id": None} == proposed
    fresh.dispose()


# =================================================================================== the CLI
MOUNTED = """
import sys
from billxl.cli import app, main
from billxl.cli.cash import ar_app, payments_app, trust_app
app.add_typer(payments_app, name="payments")
app.add_typer(ar_app, name="ar")
app.add_typer(trust_app, name="trust")
sys.argv[0] = "billxl"
main()
"""


def billxl(url, *args, ok=0):
    done = subprocess.run([sys.executable, "-c", MOUNTED, "--ledger", url, *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == ok, done.stdout + done.stderr
    return done


def test_payment_commands(tmp_path):
    import json

    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    firm(Ledger.create(url, firm=FIRM)).dispose()
    path = write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "500.00", client_id="C1", remittance="Invoice 000002"),
        receipt("R2", "2026-10-11", "99.00", payer="Nobody")])
    dry = billxl(url, "payments", "post", str(path), "--dry-run", "--format", "json", ok=1)
    summary = json.loads(dry.stdout)
    assert {k: summary[k] for k in ("posted", "duplicates", "unmatched", "amount_posted")} == {
        "posted": 2, "duplicates": 0, "unmatched": 1, "amount_posted": "599.00"}
    assert [p["action"] for p in summary["proposals"]] == ["allocation", "unmatched"]
    table = billxl(url, "payments", "post", str(path), ok=1)
    assert "Unmatched receipts" in table.stdout and "Posted 2 receipt(s)" in table.stdout
    again = json.loads(billxl(url, "payments", "post", str(path), "--format", "json").stdout)
    assert (again["posted"], again["duplicates"], again["amount_posted"]) == (0, 2, "0")
    listed = json.loads(billxl(url, "payments", "unmatched", "--format", "json").stdout)
    assert [(r["receipt_id"], r["unapplied"]) for r in listed] == [("R2", "99.00")]
    assert "applied: 000001 99.00 USD" in billxl(url, "payments", "apply", "R2", "--client", "C1",
                                                 "--invoice", "000001").stdout
    assert "owed again on 1 invoice(s)" in billxl(url, "payments", "reverse", "R1", "--reason",
                                                  "NSF").stdout
    bad = billxl(url, "payments", "reverse", "R404", "--reason", "x", ok=3)
    assert "no receipt R404" in bad.stderr
    broken = write_csv(tmp_path / "broken.csv", [receipt("R3", "someday", "1", client_id="C1")])
    refused = billxl(url, "payments", "post", str(broken), ok=2)
    assert "is not a date" in refused.stderr


def test_the_billing_workbooks_payments_sheet(ledger, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Invoices"
    sheet = book.create_sheet("Payments")
    sheet.append(CANONICAL)
    sheet.append(["P1", "2026-10-10", "C1", "", 500, "USD", "check", "CHK 1", "x"])
    sheet["I2"].value, sheet["I2"].data_type = "=inv 000002", "s"  # text that looks like a formula
    book.save(tmp_path / "billing.xlsx")
    result = payments.post_receipts(ledger, tmp_path / "billing.xlsx", sheet="Payments")
    assert (result.posted, result.unmatched) == (1, 0)
    stored = payments.receipts(ledger).iloc[0]
    assert stored["remittance"] == "=inv 000002"  # text, never a formula
    assert balances(ledger)["000002"] == 0


def test_a_demo_month_of_receipts(ledger, tmp_path):
    from billxl import ar

    add_invoices(ledger, [(f"{n:06d}", "M1M2M4"[2 * (n % 3):2 * (n % 3) + 2], "2026-09-15",
                           10000 * n, 1000 * (n % 4), 0) for n in range(7, 60)])
    frame, bounced = payments.demo_receipts(payments.invoice_balances(ledger), "2026-10", seed=7)
    path = tmp_path / "receipts.csv"
    frame.to_csv(path, index=False)
    result = payments.post_receipts(ledger, path)
    matched = result.receipts["matched_by"].value_counts().to_dict()
    assert matched.get("named", 0) > 20 and matched.get("exact", 0) >= 1
    assert result.unmatched >= 1  # the strangers
    assert (result.receipts["unapplied_minor"] > 0).sum() > result.unmatched  # overpayments
    open_after = payments.invoice_balances(ledger)
    assert ((open_after["balance_minor"] > 0) & (open_after["paid_minor"] > 0)).any()  # partial
    payments.reverse_receipt(ledger, bounced, reason="returned unpaid", on=date(2026, 10, 31))
    table = ar.aging(ledger, date(2026, 10, 31))
    assert (table["total"] >= 0).all() and table["credits"].sum() > 0


def _book(balances: list[int], expenses: list[int] | None = None) -> payments._Book:
    n = len(balances)
    return payments._Book(pd.DataFrame({
        "balance_minor": balances, "expenses_open_minor": expenses or [0] * n,
        "invoice_date": pd.to_datetime(["2026-09-01"] * n),
        "number": [f"{i + 1:06d}" for i in range(n)]}))


def _spread(balances: list[int], receipt: int, expenses: list[int] | None = None):
    book = _book(balances, expenses)
    invoices = pd.DataFrame({"invoice": np.arange(len(balances)), "group": 0})
    rows = payments._pro_rata(pd.DataFrame({"receipt": [0], "group": [0]}), invoices,
                              np.array([receipt], dtype=np.int64), book)
    return rows.sort_values("invoice"), book


def test_pro_rata_gives_the_left_over_cents_to_the_largest_remainders_then_the_oldest():
    rows, _ = _spread([100, 100, 100], 100)  # three equal remainders: the oldest takes the cent
    assert rows[["invoice", "amount_minor"]].values.tolist() == [[0, 34], [1, 33], [2, 33]]
    assert set(rows["rule"]) == {"pro_rata"}
    rows, _ = _spread([0, 1, 299], 300)  # nothing for what is not open; a cent open is open
    assert rows[["invoice", "amount_minor"]].values.tolist() == [[1, 1], [2, 299]]


def test_pro_rata_pays_each_invoices_expenses_before_its_fees():
    rows, book = _spread([100, 100], 100, expenses=[30, 0])
    assert rows[["amount_minor", "expenses_minor"]].values.tolist() == [[50, 30], [50, 0]]
    assert (book.expenses.tolist(), book.fees.tolist()) == ([0, 0], [50, 50])  # 70 - 20, 100 - 50


def test_pro_rata_of_amounts_whose_products_overflow_int64_is_exact():
    # 10,000,001 x 2,000,000,000,000 is past int64: the shares are worked out in Python ints
    rows, _ = _spread([10**12, 2 * 10**12], 10_000_001)
    assert rows["amount_minor"].tolist() == [3_333_334, 6_666_667]


def test_an_exact_amount_is_named_and_whole_in_its_currency():
    assert payments.exact_amount("0.01", "USD", "The amount") == 1
    assert payments.exact_amount("15", "JPY", "The amount") == 15
    with pytest.raises(LedgerError, match="The amount 1.5 has more decimals than JPY has"):
        payments.exact_amount("1.5", "JPY", "The amount")
    with pytest.raises(LedgerError, match="The amount: 'ten' is not a number"):
        payments.exact_amount("ten", "USD", "The amount")
    for zero_or_less in ("0", "-0.01"):
        with pytest.raises(LedgerError, match="The amount must be more than 0"):
            payments.exact_amount(zero_or_less, "USD", "The amount")


def test_names_compare_without_case_blanks_punctuation_or_legal_form():
    keys = payments._name_key(pd.Series(["Acme, Corp.", "ACME corp", "Acme_Corp"]))
    assert keys.tolist() == ["acmecorp"] * 3
    bases = payments._base_key(pd.Series(["Northwind Traders Inc", "NORTHWIND TRADERS", None]))
    assert bases.tolist() == ["northwindtraders", "northwindtraders", ""]


def test_the_book_opens_nothing_below_zero_and_allocation_rows_are_whole():
    book = _book([-500, 300, 100], expenses=[0, -5, 400])  # overpaid; odd expense figures
    assert (book.expenses.tolist(), book.fees.tolist()) == ([0, 0, 100], [0, 300, 0])
    items = book.items(np.array([0, 0]), np.array([1, 2]), np.array([True, True]))
    rows = payments._allocation_rows(np.array([0, 0]), items, np.array([0, 1]),
                                     np.array([100, 50]), "oldest")
    assert rows[["invoice", "amount_minor", "expenses_minor"]].values.tolist() == [
        [2, 100, 100], [1, 50, 0]]
    assert str(rows["expenses_minor"].dtype) == "int64"
    nothing = payments._waterfall(np.array([], dtype=np.int64), np.array([], dtype=np.int64),
                                  np.array([0]), np.array([100]))
    assert [part.dtype for part in nothing] == [np.int64] * 3  # indices, even when empty


def test_the_waterfall_allocates_whole_amounts_and_refuses_sums_past_its_range():
    ci, ii, paid = payments._waterfall(np.array([0, 0, 1]), np.array([70, 50, 30]),
                                       np.array([0, 0, 1]), np.array([100, 100, 10]))
    assert list(zip(ci.tolist(), ii.tolist(), paid.tolist(), strict=True)) == [
        (0, 0, 70), (1, 0, 30), (1, 1, 20), (2, 2, 10)]
    assert paid.dtype == np.int64
    with pytest.raises(LedgerError, match="too large to allocate in one run"):
        payments._waterfall(np.array([0, 1]), np.array([2**61, 2**61]), np.array([0, 1]),
                            np.array([1, 1]))


# ======================================================= mutation survivors (issue 13 section 2)
def yen_firm(ledger) -> Ledger:
    """The firm with client C3 (matter M4, invoices 000005 and 000006) billed in yen, a
    currency without minor digits: an amount of 1000 is 1000 yen, not 10.00."""
    ref = reference()
    clients = ref["clients"]
    ref["clients"] = clients.assign(currency=clients["currency"].mask(
        clients["client_id"] == "C3", "JPY"))
    ledger.load_reference(ref, actor="test")
    add_invoices(ledger, currency_of={"M3": "GBP", "M4": "JPY"})
    return ledger


def refused(message: str, call, *args, **kwargs) -> None:
    """``call(*args, **kwargs)`` raises a LedgerError saying exactly ``message``."""
    with pytest.raises(LedgerError, match=f"^{re.escape(message)}$"):
        call(*args, **kwargs)


def test_an_invoices_last_cent_is_an_item_to_pay():
    book = _book([1, 100], expenses=[1, 0])  # one cent of expenses open, then fees
    items = book.items(np.array([0, 0]), np.array([0, 1]), np.array([True, True]))
    assert items[["invoice", "part", "cap"]].values.tolist() == [[0, 0, 1], [1, 1, 100]]


def test_pro_rata_past_int64_gives_the_left_over_cent_to_the_largest_remainder():
    # 10,000,001 x 2/3 leaves a third of a cent on the older invoice, x 1/3 two thirds on the
    # newer one: the newer takes the cent although the older comes first
    rows, _ = _spread([2 * 10**12, 10**12], 10_000_001)
    assert rows["amount_minor"].tolist() == [6_666_667, 3_333_334]


def test_a_waterfall_past_its_range_is_refused_in_words():
    refused("The amounts in this file are too large to allocate in one run.",
            payments._waterfall, np.array([0, 1]), np.array([2**61, 2**61]), np.array([0, 1]),
            np.array([1, 1]))


def test_receipts_naming_one_invoice_pay_it_one_after_the_other(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "300.00", client_id="C1", remittance="000002"),
        receipt("R2", "2026-10-11", "300.00", client_id="C1", remittance="000002")]))
    paid = allocations(ledger)
    assert paid.loc[paid["number"] == "000002", ["receipt_id", "amount_minor"]].values.tolist() \
        == [["R1", 30000], ["R2", 20000]]  # 500.00 owed: R2 pays what R1 left
    assert balances(ledger)["000002"] == 0


def test_a_receipt_applied_by_hand_takes_an_amount_the_invoices_client_and_their_terms(
        ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "600.00", payer="A. Person")]))  # unmatched
    refused("Receipt R1 has 600.00 USD unapplied, less than 600.01.",
            payments.apply_receipt, ledger, "R1", ["000002"], amount="600.01")
    refused("There is no invoice 999998, 999999 in the ledger.",
            payments.apply_receipt, ledger, "R1", ["000002", "999999", "999998"])
    refused("Invoice 000005, 000006 is not client C1's.",
            payments.apply_receipt, ledger, "R1", ["000005", "000006"], client="C1")
    # no client named: the invoices' client; expenses of both invoices before any fees
    made = payments.apply_receipt(ledger, "R1", ["000001", "000003"], amount="300.00",
                                  actor="clerk")
    assert made[["number", "amount_minor", "expenses_minor"]].values.tolist() == [
        ["000001", 25000, 20000], ["000003", 5000, 5000]]
    stored = payments.receipts(ledger).set_index("receipt_id").loc["R1"]
    assert (stored["client_id"], stored["unapplied_minor"], stored["matched_by"]) == (
        "C1", 30000, "manual")
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.table_name == "receipts")
                              .where(t.audit_log.c.actor == "clerk"))
    assert audit["action"].tolist() == ["apply"]
    assert audit.loc[0, "after"]["invoices"] == ["000001", "000003"]
    # the client's own receipt again, now invoice by invoice as its terms say
    payments.set_cash_terms(ledger, "C1", expenses_first=False)
    add_invoices(ledger, [("000008", "M1", "2026-10-01", 10000, 1000, 0),
                          ("000009", "M2", "2026-10-02", 10000, 1000, 0)])
    made = payments.apply_receipt(ledger, "R1", ["000008", "000009"], amount="100.00")
    assert made[["number", "amount_minor", "expenses_minor"]].values.tolist() == [
        ["000008", 10000, 1000]]  # expenses first would be 90.00 and 10.00
    refused("Receipt R1 is client C1's, not C3's.",
            payments.apply_receipt, ledger, "R1", ["000005"], client="C3")
    payments.post_receipts(ledger, write_csv(tmp_path / "more.csv", [
        receipt("R2", "2026-10-12", "5000.00", client_id="C1")]))  # pays all of C1's, and more
    refused("Invoice 000002, 000003 has nothing left to pay.",
            payments.apply_receipt, ledger, "R2", ["000002", "000003"], amount="0.01")


def test_a_receipt_is_applied_only_to_invoices_in_its_currency_and_from_its_source(
        ledger, tmp_path):
    canonical = payments.load_receipt_profile("canonical")
    for source in ("bank-a", "bank-b"):
        payments.post_receipts(ledger, write_csv(tmp_path / f"{source}.csv", [
            receipt("R9", "2026-10-10", "10.00", client_id="C2", currency="USD")]),
            canonical.model_copy(update={"source": source}))
    refused("Receipt id R9 was posted from more than one source (bank-a, bank-b); say which "
            "with --source.", payments.apply_receipt, ledger, "R9", ["000004"])
    refused("Invoice 000004 is in GBP; receipt R9 is in USD.",
            payments.apply_receipt, ledger, "R9", ["000004"], source="bank-b")


def test_an_unmatched_receipt_given_its_client_alone_is_credit_on_account(ledger, tmp_path):
    """Applying to no invoice (or to several) audits the list of invoices: [] is a list too."""
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "600.00", payer="A. Person")]))
    assert payments.apply_receipt(ledger, "R1", client="C1").empty
    stored = payments.receipts(ledger).set_index("receipt_id").loc["R1"]
    assert (stored["client_id"], stored["status"], stored["unapplied_minor"]) == (
        "C1", "posted", 60000)
    assert payments.unapplied_cash(ledger, client="C1")["unapplied_minor"].tolist() == [60000]


def test_a_receipt_naming_invoices_pays_all_their_expenses_before_their_fees(ledger, tmp_path):
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "300.00", client_id="C1", remittance="000001 000003")]))
    got = allocations(ledger)
    assert list(zip(got["number"], got["amount_minor"], got["expenses_minor"], strict=True)) == [
        ("000001", 25000, 20000), ("000003", 5000, 5000)]


def test_a_receipt_naming_invoices_pays_them_one_by_one_when_its_terms_say_so(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C1", expenses_first=False)
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "300.00", client_id="C1", remittance="000001 000003")]))
    got = allocations(ledger)
    assert list(zip(got["number"], got["amount_minor"], got["expenses_minor"], strict=True)) == [
        ("000001", 30000, 20000)]


def test_a_cent_short_of_named_expenses_is_written_off_and_stays_paid(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C1", tolerance="0.01")
    add_invoices(ledger, [("000007", "M1", "2026-10-01", 0, 1000, 0)])  # 10.00 of expenses
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "9.99", client_id="C1", remittance="000007"),
        receipt("R2", "2026-10-11", "5000.00", client_id="C1")]))  # pays whatever is open
    got = allocations(ledger)
    assert got.loc[got["number"] == "000007", ["receipt_id", "amount_minor"]].values.tolist() \
        == [["R1", 999]]  # the cent written off is not open for R2
    assert balances(ledger)["000007"] == 0


def test_the_oldest_invoice_left_a_cent_open_is_paid_first(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C1", expenses_first=False)  # invoice by invoice
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "1199.99", client_id="C1", remittance="000001"),
        receipt("R2", "2026-10-11", "10.00", client_id="C1")]))
    got = allocations(ledger)
    assert got.loc[got["receipt_id"] == "R2", ["number", "amount_minor"]].values.tolist() == [
        ["000001", 1], ["000002", 999]]


def test_a_clients_tolerance_holds_when_another_clients_receipts_come_first(ledger, tmp_path):
    payments.set_cash_terms(ledger, "C3", tolerance="0.01")
    payments.post_receipts(ledger, write_csv(tmp_path / "r.csv", [
        receipt("R1", "2026-10-10", "10.00", client_id="C1"),
        receipt("R2", "2026-10-10", "10.00", client_id="C1"),
        receipt("R3", "2026-10-11", "2749.99", client_id="C3")]))  # 2,750.00 owed
    assert (balances(ledger)["000005"], balances(ledger)["000006"]) == (0, 0)
