"""The demo firm's month end, end to end: every figure ties out across ledger, PDF and XLSX.

One small demo month (600 time entries) is run once for the module through ``run_demo``: import,
reconciliation, pre-bills edited and approved in their workbooks, finalize, documents.
"""

from __future__ import annotations

import re
from decimal import Decimal

import openpyxl
import pandas as pd
import pypdf
import pytest
import sqlalchemy as sa

from billxl import money
from billxl.monthend import run_demo
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.office import convert, soffice_or_skip

MONTH = "2026-10"


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    folder = tmp_path_factory.mktemp("month")
    result = run_demo(folder / "demo", month=MONTH, entries=600, seed=7)
    ledger = Ledger.open(folder / "demo" / "billxl.db")
    yield result, ledger, folder
    ledger.dispose()


def frame(ledger, table):
    return ledger.read_frame(sa.select(table))


def test_every_billable_matter_has_an_invoice_or_a_reason(month):
    _, ledger, _ = month
    entries = frame(ledger, t.time_entries)
    invoiced = set(frame(ledger, t.invoices)["matter_id"])
    lines = frame(ledger, t.prebill_lines).merge(frame(ledger, t.prebills), on="prebill_pk")
    worked = entries[entries["billable"]].groupby("matter_id").size()
    without = [m for m in worked.index if m not in invoiced]
    assert len(invoiced) > 20
    for matter in without:
        mine = lines[lines["matter_id"] == matter]
        # no invoice: all its time was held (minimum bill), written off or moved on
        assert len(mine) and mine["action"].isin(["hold", "write_off", "transfer"]).all(), matter
        held = mine[mine["action"] == "hold"]
        assert held["note"].str.contains("minimum bill").all() or held.empty


def test_invoices_tie_out_to_the_billed_wip_to_the_cent(month):
    _, ledger, _ = month
    invoices = frame(ledger, t.invoices)
    lines = frame(ledger, t.invoice_lines)
    prebill = frame(ledger, t.prebill_lines)
    # each invoice: fees + expenses - discount + tax = total = its lines plus their tax
    assert (invoices["fees_minor"] + invoices["expenses_minor"] - invoices["discount_minor"]
            + invoices["tax_minor"] == invoices["total_minor"]).all()
    by_invoice = lines.groupby("invoice_pk")[["amount_minor", "tax_minor"]].sum().sum(axis=1)
    assert by_invoice.reindex(invoices["invoice_pk"]).tolist() == invoices["total_minor"].tolist()
    # the billed WIP (bill values of the lines the partners left as 'bill') is on the invoices,
    # split between payors to the cent; expenses recorded reach the invoices unchanged
    entry_lines = lines[lines["line_type"].isin(["F", "E"])]
    billed = prebill[prebill["action"] == "bill"]
    assert int((entry_lines["amount_minor"] - entry_lines["adjustment_minor"]).sum()) == \
        int(billed["bill_amount_minor"].sum())
    assert int(lines.loc[lines["line_type"] == "E", "amount_minor"].sum()) == \
        int(billed.loc[billed["entry_kind"] == "expense", "bill_amount_minor"].sum())
    entries = frame(ledger, t.time_entries)
    on_invoices = set(entry_lines.loc[entry_lines["entry_kind"] == "time", "entry_pk"])
    assert set(entries.loc[entries["status"] == "billed", "entry_pk"]) == on_invoices


def _printed_total(pdf) -> Decimal:
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    found = re.search(r"Total due\s*(-?)\D?([\d,]+\.\d\d)", text)
    assert found, f"no 'Total due' in {pdf.name}"
    return money.D(found.group(1) + found.group(2))


def test_pdf_xlsx_and_ledger_agree_for_every_invoice(month, tmp_path):
    result, ledger, _ = month
    soffice_or_skip()
    folder = result.paths["invoices"]
    invoices = frame(ledger, t.invoices)
    recalculated = tmp_path / "lo"
    recalculated.mkdir()
    for number, total, currency in zip(invoices["number"], invoices["total_minor"],
                                       invoices["currency"], strict=True):
        assert _printed_total(folder / f"{number}.pdf") == money.from_minor(total, currency)
    for number, total in zip(invoices["number"], invoices["total_minor"], strict=True):
        book = openpyxl.load_workbook(convert(folder / f"{number}.xlsx", "xlsx", recalculated),
                                      data_only=True)
        (sheet, ref), = book.defined_names["Total"].destinations
        value = book[sheet][ref.replace("$", "")].value
        assert money.to_minor(str(round(value, 2))) == total, number


def test_partner_edits_are_in_the_audit_log_with_their_originals(month):
    _, ledger, _ = month
    log = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.table_name == "prebill_lines"))
    assert len(log) > 0
    before, after = log.iloc[0]["before"], log.iloc[0]["after"]
    assert set(before) == set(after) and before != after
    write_offs = frame(ledger, t.prebill_lines)
    assert (write_offs.loc[write_offs["action"] == "write_off", "reason_code"] == "WD-DUP").all()
    assert pd.Series(frame(ledger, t.prebills)["status"]).isin(["finalized"]).all()


def test_findings_on_billed_entries_leave_the_review_list(month):
    _, ledger, _ = month
    findings = frame(ledger, t.findings)
    entries = frame(ledger, t.time_entries).set_index("entry_pk")["status"]
    on_time = findings[findings["entry_kind"] == "time"]
    settled = on_time["entry_pk"].map(entries).isin(["billed", "written_off"])
    assert settled.any()
    assert (on_time.loc[settled, "status"] == "resolved").all()
