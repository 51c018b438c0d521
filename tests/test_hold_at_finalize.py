"""An invoice its client's guidelines or portal would reject never becomes final (issue 15).

The ledger is the invoicing test's (approved pre-bills for October 2026: hourly, discounted
with VAT, fixed fee, capped, split 60/40), with e-billing portals and client matter ids as
tests/test_ledes_export.py sets them, on SQLite and PostgreSQL. Each test breaks one thing a
client rejects and finalizes: the pre-bill is held with the rule's id, the others are
finalized; ``override`` finalizes it anyway with an audit row.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from billxl.billing import prebill
from billxl.billing.invoicing import finalize
from billxl.ledes.export import export_invoices
from billxl.store import tables as t
from tests.test_ledes_export import PORTALS, e_billed
from tests.test_month_end import month  # noqa: F401 - the demo month, run once

MONTH = "2026-10"


def prebill_of(ledger, matter_id: str) -> int:
    pb = t.prebills
    return int(ledger.read_frame(sa.select(pb.c.prebill_pk).where(pb.c.matter_id == matter_id))
               .iloc[0, 0])


def set_line(ledger, matter_id: str, values: dict, *, nth: int = 0) -> int:
    """Change the ``nth`` time line of a matter's pre-bill (as an edit applied before); its
    entry_pk."""
    pl = t.prebill_lines
    pk = prebill_of(ledger, matter_id)
    lines = ledger.read_frame(sa.select(pl).where(pl.c.prebill_pk == pk, pl.c.entry_kind == "time")
                              .order_by(pl.c.entry_pk))
    entry = int(lines["entry_pk"].iloc[nth])
    with ledger.transaction() as conn:
        conn.execute(sa.update(pl).where(pl.c.prebill_pk == pk, pl.c.entry_kind == "time",
                                         pl.c.entry_pk == entry).values(**values))
    return entry


def invoiced_matters(ledger) -> set[str]:
    return set(ledger.read_frame(sa.select(t.invoices.c.matter_id))["matter_id"])


def status_of(ledger, matter_id: str) -> str:
    pb = t.prebills
    return str(ledger.read_frame(sa.select(pb.c.status).where(pb.c.matter_id == matter_id))
               .iloc[0, 0])


@pytest.fixture
def ledger(empty_ledger):
    e_billed(empty_ledger)
    return empty_ledger


def test_a_clean_month_is_finalized_whole(ledger):
    result = finalize(ledger, month=MONTH, actor="test")
    assert result.held.empty and result.count == 6
    assert invoiced_matters(ledger) == {"M1", "M2", "M3", "M4", "M5"}


def test_an_edit_that_breaks_the_increment_holds_the_invoice(ledger):
    # 1.5 hours cut to 1.375 (the partner's 'by a fifth', say): Legal Tracker's client bills
    # by the tenth of an hour
    entry = set_line(ledger, "M1", {"bill_qty_milli": 1375, "bill_amount_minor": 68750,
                                    "reason_code": "WD-INEFF"})
    result = finalize(ledger, month=MONTH, actor="test")
    held = result.held
    assert result.held_prebills == [prebill_of(ledger, "M1")]
    assert set(held["rule"]) == {"INCREMENT"}
    row = held.iloc[0]
    assert (row["matter_id"], row["client_id"], row["entry_kind"], int(row["entry_pk"])) == \
        ("M1", "C1", "time", entry)
    assert row["message"] == "Hours 1.375 are not a multiple of the client's 0.1-hour increment"
    # both checks found it (the guidelines, and the portal's own use of the same rule): once
    assert len(held) == 1 and row["check"] == "guidelines"
    # the pre-bill stays approved, its entries WIP; the other matters are invoiced
    assert status_of(ledger, "M1") == "approved"
    assert invoiced_matters(ledger) == {"M2", "M3", "M4", "M5"}
    te = t.time_entries
    assert ledger.read_frame(sa.select(te.c.status).where(te.c.entry_pk == entry)).iloc[0, 0] \
        == "WIP"


def test_a_missing_code_on_a_portal_clients_line_holds_the_invoice(ledger):
    # TyMetrix (C2, matter M2) requires task and activity codes on every fee line
    te = t.time_entries
    with ledger.transaction() as conn:
        conn.execute(sa.update(te).where(te.c.matter_id == "M2", te.c.entry_id == "T6")
                     .values(activity_code=None))
    result = finalize(ledger, month=MONTH, actor="test")
    assert result.held_prebills == [prebill_of(ledger, "M2")]
    held = result.held
    assert held["rule"].tolist() == ["PORTAL_UTBMS_REQUIRED"]
    assert held["check"].tolist() == ["tymetrix"]
    assert held["message"].tolist() == [
        "TyMetrix 360 requires LINE_ITEM_ACTIVITY_CODE on every fee line."]
    assert held["line_no"].tolist() == [1] and held["entry_kind"].tolist() == ["time"]
    assert "M2" not in invoiced_matters(ledger)


def test_a_missing_code_the_matter_requires_holds_by_the_guideline_rule(ledger):
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.matters).where(t.matters.c.matter_id == "M1")
                     .values(utbms_required=True))
        conn.execute(sa.update(t.time_entries).where(t.time_entries.c.entry_id == "T1")
                     .values(task_code=None))
    held = finalize(ledger, month=MONTH, actor="test").held
    assert held[["matter_id", "rule", "field"]].values.tolist() == [
        ["M1", "UTBMS_MISSING", "task_code"]]


def test_a_rate_over_the_approved_rate_holds_the_invoice(ledger):
    # the client approved 450.00 an hour for its partner; M1 bills her at 500.00
    with ledger.transaction() as conn:
        conn.execute(t.rates.insert(), [{
            "kind": "approved", "timekeeper_id": "TK1", "client_id": "C1", "currency": "USD",
            "rate_minor": 45000, "effective_from": date(2026, 1, 1)}])
    held = finalize(ledger, month=MONTH, actor="test").held
    over = held[held["matter_id"] == "M1"]
    assert set(over["rule"]) == {"RATE_CAP"}
    assert over["message"].iloc[0] == "Rate 500.00 is above the client's approved rate 450.00"
    assert over["fix"].iloc[0].startswith("Bill at 450.00")
    # every C1 matter that bills her at 500.00 is held; C2's (another client) is invoiced
    assert "M2" in invoiced_matters(ledger) and "M1" not in invoiced_matters(ledger)


def test_override_finalizes_it_with_an_audit_row(ledger):
    set_line(ledger, "M1", {"bill_qty_milli": 1375, "bill_amount_minor": 68750,
                            "reason_code": "WD-INEFF"})
    result = finalize(ledger, month=MONTH, actor="j.smith",
                      override="the client agreed the quarter hours by email")
    assert result.held.empty and result.count == 6
    assert result.overridden["rule"].tolist() == ["INCREMENT"]
    number = result.invoices.set_index("matter_id").loc["M1", "number"]
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "override"))
    assert len(audit) == 1
    row = audit.iloc[0]
    assert (row["table_name"], row["row_key"], row["actor"]) == ("invoices", number, "j.smith")
    after = row["after"]
    assert after["override"] == "the client agreed the quarter hours by email"
    assert after["by"] == "j.smith" and after["matter_id"] == "M1"
    assert after["problems"] == [
        "INCREMENT: Hours 1.375 are not a multiple of the client's 0.1-hour increment. "
        "Fix: Type 1.3 in Bill hours (the client's 0.1-hour increment, rounded down), or "
        "correct the time entry."]
    with pytest.raises(Exception, match="Say why"):
        finalize(ledger, month=MONTH, override="  ")


def test_an_override_audits_the_held_invoice_after_a_clean_one_in_full(ledger):
    # M2's line lacks its activity code (TyMetrix refuses it); M1, invoiced first, is clean
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.time_entries).where(t.time_entries.c.entry_id == "T6")
                     .values(activity_code=None))
    result = finalize(ledger, month=MONTH, actor="j.smith",
                      override="  the client takes this one by hand  ")
    numbers = result.invoices.set_index("matter_id")["number"]
    assert result.count == 6 and numbers["M1"] < numbers["M2"]
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "override"))
    assert audit[["row_key", "actor"]].values.tolist() == [[numbers["M2"], "j.smith"]]
    assert audit["after"].iloc[0] == {
        "override": "the client takes this one by hand", "by": "j.smith",
        "prebill_pk": prebill_of(ledger, "M2"), "client_id": "C2", "matter_id": "M2",
        "problems": ["PORTAL_UTBMS_REQUIRED: TyMetrix 360 requires LINE_ITEM_ACTIVITY_CODE on "
                     "every fee line. Fix: Code the entry with a UTBMS code (the codes are the "
                     "entry's), or hold the line until it is coded."]}


def test_a_client_without_a_portal_or_guidelines_is_never_held(empty_ledger):
    # only C2 bills through a portal: C1's broken increment and missing code are not held
    e_billed(empty_ledger, portals={"C2": "tymetrix"})
    set_line(empty_ledger, "M1", {"bill_qty_milli": 1375, "bill_amount_minor": 68750,
                                  "reason_code": "WD-INEFF"})
    with empty_ledger.transaction() as conn:
        conn.execute(sa.update(t.time_entries).where(t.time_entries.c.entry_id == "T9")
                     .values(activity_code=None, task_code=None))
    result = finalize(empty_ledger, month=MONTH, actor="test")
    assert result.held.empty and "M1" in invoiced_matters(empty_ledger)


def test_a_split_matter_is_held_for_its_payors_portal(ledger):
    # M5 is billed 60% to C1 (Legal Tracker) and 40% to C3 (CounselLink): no client matter id
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.matters).where(t.matters.c.matter_id == "M5")
                     .values(client_matter_id=None))
    held = finalize(ledger, month=MONTH, actor="test").held
    assert set(held["client_id"]) == {"C1", "C3"} and set(held["rule"]) == {"PORTAL_REQUIRED"}
    assert set(held["matter_id"]) == {"M5"}
    # the whole invoice's problem, once for each payor's invoice, fixed on the matter
    assert len(held) == 2 and held["line_no"].isna().all()
    assert held["fix"].iloc[0].startswith("Fill in CLIENT_MATTER_ID on the matter")
    assert "M5" not in invoiced_matters(ledger)


def test_the_workbook_shows_each_problem_on_its_line_and_apply_rounds_to_the_increment(
        ledger, tmp_path):
    entry = set_line(ledger, "M1", {"bill_qty_milli": 1375, "bill_amount_minor": 68750,
                                    "reason_code": "WD-INEFF"})
    books = prebill.write_prebill_workbooks(ledger, MONTH, tmp_path)
    book = load_workbook(books["TK1"])
    sheet = book["Pre-bill"]
    header = next(r for r in sheet.iter_rows(max_row=20) if r[0].value == "Date")
    col = {c.value: c.column for c in header if c.value}
    row = next(r for r in range(header[0].row + 1, sheet.max_row + 1)
               if sheet.cell(r, col["entry_pk"]).value == entry
               and sheet.cell(r, col["entry_kind"]).value == "time")
    assert sheet.cell(row, col["Held at finalize for"]).value == (
        "INCREMENT: Hours 1.375 are not a multiple of the client's 0.1-hour increment. "
        "Fix: Type 1.3 in Bill hours (the client's 0.1-hour increment, rounded down), or "
        "correct the time entry.")
    # the partner types 1.26 hours: billed 1.2 (rounded down), the typed value audited
    sheet.cell(row, col["Bill hours"]).value = 1.26
    sheet.cell(row, col["Bill amount"]).value = None  # saved without recalculating
    book.save(tmp_path / "edited.xlsx")
    applied = prebill.apply_prebill(ledger, tmp_path / "edited.xlsx", actor="partner")
    assert applied.rounded == [(row, 1260, 1200)]
    assert applied.problems.empty
    said = prebill.describe(applied)
    assert f"Row {row}: Bill hours 1.26 typed, 1.2 billed (the client's increment, rounded " \
           "down: 0.06 less)" in said
    pl = t.prebill_lines
    stored = ledger.read_frame(sa.select(pl).where(pl.c.entry_pk == entry,
                                                   pl.c.entry_kind == "time")).iloc[0]
    assert (stored["bill_qty_milli"], stored["bill_amount_minor"]) == (1200, 60000)
    audit = ledger.read_frame(sa.select(t.audit_log).where(
        t.audit_log.c.table_name == "prebill_lines", t.audit_log.c.actor == "partner"))
    after = audit.iloc[-1]["after"]
    assert after["bill_qty_milli"] == 1200 and after["typed_bill_qty_milli"] == 1260
    assert after["rounded_off_milli"] == 60
    assert finalize(ledger, month=MONTH, actor="test").held.empty


def test_apply_says_what_would_still_be_held(ledger, tmp_path):
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.matters).where(t.matters.c.matter_id == "M1")
                     .values(client_matter_id=None))
    books = prebill.write_prebill_workbooks(ledger, MONTH, tmp_path)
    applied = prebill.apply_prebill(ledger, books["TK1"], actor="partner")
    held = applied.problems
    assert set(held["matter_id"]) == {"M1"} and set(held["rule"]) == {"PORTAL_REQUIRED"}
    assert "1 pre-bill(s) would be held at finalize" in prebill.describe(applied)
    assert "the invoice: PORTAL_REQUIRED: Legal Tracker requires CLIENT_MATTER_ID" in \
        prebill.describe(applied)


def test_write_downs_as_amounts_keep_the_hours(ledger, tmp_path):
    # C2's guidelines take write-downs as amounts: the hours stay, the amount goes down
    folder = tmp_path / "guidelines"
    folder.mkdir()
    (folder / "amounts.yaml").write_text("increment_hours: 0.05\nwrite_downs: amount\n")
    with ledger.transaction() as conn:
        conn.execute(sa.update(t.firm).values(guidelines_dir=str(folder)))
        conn.execute(sa.update(t.clients).where(t.clients.c.client_id == "C2")
                     .values(guideline_set="amounts"))
    books = prebill.write_prebill_workbooks(ledger, MONTH, tmp_path / "out")
    book = load_workbook(books["TK1"])
    sheet = book["Pre-bill"]
    header = next(r for r in sheet.iter_rows(max_row=20) if r[0].value == "Date")
    col = {c.value: c.column for c in header if c.value}
    row = next(r for r in range(header[0].row + 1, sheet.max_row + 1)
               if sheet.cell(r, col["Bill hours"]).value == 1.25)  # M2's 1.25 x 333.33
    sheet.cell(row, col["Bill hours"]).value = 1.0
    sheet.cell(row, col["Bill amount"]).value = None
    sheet.cell(row, col["Reason"]).value = "WD-INEFF"
    book.save(tmp_path / "edited.xlsx")
    applied = prebill.apply_prebill(ledger, tmp_path / "edited.xlsx", actor="partner")
    assert applied.rounded == [(row, 1000, 1250)]
    assert "the hours stay, the amount is written down" in prebill.describe(applied)
    pl = t.prebill_lines
    lines = ledger.read_frame(sa.select(pl).where(pl.c.prebill_pk == prebill_of(ledger, "M2")))
    line = lines[lines["worked_qty_milli"] == 1250].iloc[0]
    assert (line["bill_qty_milli"], line["bill_amount_minor"]) == (1250, 33333)  # 1 x 333.33
    result = finalize(ledger, month=MONTH, actor="test")
    assert result.held.empty
    # the invoice shows 1.25 hours at 333.33 less a line adjustment, and its portal takes it
    exported = export_invoices(ledger, tmp_path / "ledes", month=MONTH)
    assert exported.refused == []


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_the_command_lists_the_held_invoices_and_exits_1(ledger, tmp_path):
    set_line(ledger, "M1", {"bill_qty_milli": 1375, "bill_amount_minor": 68750,
                            "reason_code": "WD-INEFF"})
    url = ledger.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "BILLXL_LEDGER": url, "COLUMNS": "200", "BILLXL_USER": "t.sec"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "billxl.cli", "invoice", "finalize", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True)

    held = run("--month", MONTH)
    assert held.returncode == 1, held.stderr
    assert "5 invoice(s) finalized" in held.stdout
    assert "Held: 1 pre-bill(s) whose invoices their clients would reject" in held.stderr
    assert "INCREMENT" in held.stderr and "held_2026-10.csv" in held.stderr
    listed = pd.read_csv(tmp_path / "held_2026-10.csv")
    assert listed[["matter_id", "rule", "line_no"]].values.tolist() == [["M1", "INCREMENT", 1]]
    assert run("--month", MONTH, "--override", "").returncode == 3
    done = run("--month", MONTH, "--override", "client agreed", "--by", "j.smith")
    assert done.returncode == 0, done.stderr
    assert "1 invoice(s) finalized" in done.stdout and "Overridden: 1 pre-bill(s)" in done.stdout
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "override"))
    assert audit["actor"].tolist() == ["j.smith"]


def test_portals_run_the_guideline_rules_with_the_clients_settings():
    from billxl.ledes.portals import load_portal

    for name in PORTALS.values():
        assert {"INCREMENT", "DAILY_MAX", "RATE_CAP"} <= set(load_portal(name).guideline_rules)
    assert load_portal("generic").guideline_rules == ()


def test_holding_a_line_at_no_charge_needs_no_reason(ledger, tmp_path):
    """A line held to a later cycle (the fix for an entry whose codes must be corrected) is
    neither a write-down nor a write-up, whatever it billed before."""
    entry = set_line(ledger, "M1", {"action": "no_charge"})
    books = prebill.write_prebill_workbooks(ledger, MONTH, tmp_path)
    book = load_workbook(books["TK1"])
    sheet = book["Pre-bill"]
    header = next(r for r in sheet.iter_rows(max_row=20) if r[0].value == "Date")
    col = {c.value: c.column for c in header if c.value}
    row = next(r for r in range(header[0].row + 1, sheet.max_row + 1)
               if sheet.cell(r, col["entry_pk"]).value == entry
               and sheet.cell(r, col["entry_kind"]).value == "time")
    sheet.cell(row, col["Action"]).value = "hold"
    book.save(tmp_path / "held.xlsx")
    applied = prebill.apply_prebill(ledger, tmp_path / "held.xlsx", actor="partner")
    assert applied.lines_changed == 1 and applied.write_ups == {} and applied.write_downs == {}


def test_the_demo_month_is_billed_as_its_clients_portals_accept(month, tmp_path):  # noqa: F811
    """The month-end test's demo month (600 entries, seed 7)."""
    result, ledger, _ = month
    steps = {s.name: s.figure for s in result.steps}
    # the partners fixed (or held in WIP) what the clients would reject: finalize held nothing
    assert steps["Invoices held at finalize"].startswith("0 ")
    assert "put on the client's increment" in steps["Partner edits applied"]
    # ... so the LEDES export refuses no invoice for its content
    assert "held back" not in steps["LEDES files submitted"]
    exported = export_invoices(ledger, tmp_path / "again", month=MONTH)
    assert exported.written and exported.refused == []
    # every billed fee line of a client with guidelines or a portal is on its 0.1 increment
    inv, il, cl = t.invoices, t.invoice_lines, t.clients
    fees = ledger.read_frame(sa.select(il.c.quantity_milli, cl.c.guideline_set,
                                       cl.c.ebilling_portal)
                             .join(inv, inv.c.invoice_pk == il.c.invoice_pk)
                             .join(cl, cl.c.client_id == inv.c.client_id)
                             .where(il.c.line_type == "F"))
    checked = fees["guideline_set"].notna() | fees["ebilling_portal"].notna()
    assert checked.sum() > 100 and (fees.loc[checked, "quantity_milli"] % 100 == 0).all()
    # the typed hours the increment changed are in the audit log
    audit = ledger.read_frame(sa.select(t.audit_log.c.after).where(
        t.audit_log.c.table_name == "prebill_lines", t.audit_log.c.actor == "demo"))
    typed = [a for a in audit["after"] if a and "typed_bill_qty_milli" in a]
    assert typed and all(a["typed_bill_qty_milli"] - a["rounded_off_milli"]
                         == a["bill_qty_milli"] for a in typed)


def _move_entry(ledger, entry_pk: int, *, to_entry: int, hours_milli: int) -> None:
    """Give time entry ``entry_pk`` the timekeeper and day of ``to_entry``, and ``hours_milli``
    both recorded and on its pre-bill line."""
    te, pl = t.time_entries, t.prebill_lines
    target = ledger.read_frame(sa.select(te.c.timekeeper_id, te.c.work_date)
                               .where(te.c.entry_pk == to_entry), dates=["work_date"]).iloc[0]
    with ledger.transaction() as conn:
        conn.execute(sa.update(te).where(te.c.entry_pk == entry_pk).values(
            timekeeper_id=target["timekeeper_id"], work_date=target["work_date"].date(),
            hours_milli=hours_milli))
        conn.execute(sa.update(pl).where(pl.c.entry_kind == "time", pl.c.entry_pk == entry_pk)
                     .values(bill_qty_milli=hours_milli))


def _first_time_entry(ledger, matter_id: str) -> int:
    pl = t.prebill_lines
    return int(ledger.read_frame(sa.select(pl.c.entry_pk).where(
        pl.c.prebill_pk == prebill_of(ledger, matter_id), pl.c.entry_kind == "time")
        .order_by(pl.c.entry_pk)).iloc[0, 0])


@pytest.mark.parametrize("scope", ["month", "matter"])
def test_an_impossible_day_holds_the_invoice_whatever_else_is_finalized_with_it(ledger, scope):
    # M1's first entry's timekeeper also has 23.5 hours on M2 that day: over 24 in all. The
    # day is the timekeeper's, whichever pre-bills are finalized in the same run.
    m1 = _first_time_entry(ledger, "M1")
    _move_entry(ledger, _first_time_entry(ledger, "M2"), to_entry=m1, hours_milli=23_500)
    result = finalize(ledger, actor="test", **({"month": MONTH} if scope == "month"
                                               else {"month": MONTH, "matter": "M1"}))
    held = result.held
    assert "M1" in set(held["matter_id"]) and "DAILY_MAX" in set(held["rule"])
    assert held.loc[held["rule"] == "DAILY_MAX", "message"].str.contains(
        "more than 24 hours in one day is impossible").all()
    assert "M1" not in invoiced_matters(ledger)


def test_time_not_yet_on_a_prebill_counts_in_the_day(ledger):
    # a late entry for the same timekeeper and day, on no pre-bill: still the timekeeper's day
    m1 = _first_time_entry(ledger, "M1")
    te = t.time_entries
    row = ledger.read_frame(sa.select(te).where(te.c.entry_pk == m1)).iloc[0].to_dict()
    row = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in row.items()
           if k != "entry_pk"}
    row.update(source_key="late-1", entry_id="late-1", matter_id="M2", hours_milli=23_500,
               row_hash="late-1", work_date=pd.Timestamp(row["work_date"]).date())
    with ledger.transaction() as conn:
        conn.execute(sa.insert(te).values(**row))
    held = finalize(ledger, month=MONTH, matter="M1", actor="test").held
    assert set(held.loc[held["rule"] == "DAILY_MAX", "matter_id"]) == {"M1"}
