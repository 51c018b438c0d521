"""The pre-bill workbook as partners really use it: rows copied or moved, hidden keys changed,
edits typed into locked columns, the workbook written again over unapplied edits, lines moved to
another client's matter, the invoice as it will be, no-charge lines, approval cells and status."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from billxl import money
from billxl.billing import invoicing, prebill
from billxl.errors import InputError
from billxl.excel import prebill_workbook as wb
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests import test_prebill
from tests.office import convert, recalculated
from tests.test_prebill import (
    MONTH,
    TODAY,
    Edit,
    _import_time,
    _late_entry,
    _lines,
    _time_rows,
    _workbook,
)

firm, ledger = test_prebill.firm, test_prebill.ledger  # the demo month, as fixtures here too

SECTION_MOVE = ("this line belongs to pre-bill {pk} ({matter}), but its row now sits in the "
                "section of {other}; rows cannot be moved between matters: put it back, and to "
                "bill the line on another matter choose the action 'transfer'")
TAMPERED = ("the hidden key cells of this row were changed, so billxl cannot tell which entry "
            "it is; use the workbook as billxl wrote it (or write a fresh one)")


def _refused(ledger: Ledger, path: Path) -> list:
    """Apply ``path``; it must be refused with nothing changed. Returns the problems."""
    lines_before, audit_before = _lines(ledger), ledger.count(t.audit_log)
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, path, actor="partner", today=TODAY)
    assert _lines(ledger).astype(str).equals(lines_before.astype(str))
    assert ledger.count(t.audit_log) == audit_before
    assert "nothing was applied" in str(refused.value)
    return refused.value.problems


def _copy_row(edit: Edit, source: int, target: int) -> None:
    """Copy every cell of row ``source`` (hidden ones too) over row ``target``, as Excel's
    copy and paste of a whole row does."""
    for col in range(1, edit.ws.max_column + 1):
        edit.ws.cell(target, col).value = edit.ws.cell(source, col).value


def _cli(*args, cwd: Path, ok: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "BILLXL_USER": "test.secretary"}
    env.pop("BILLXL_LEDGER", None)
    done = subprocess.run([sys.executable, "-m", "billxl.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == ok, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def _matter_of(ledger: Ledger, prebill_pk: int) -> str:
    bills = ledger.read_frame(sa.select(t.prebills.c.prebill_pk, t.prebills.c.matter_id))
    return str(bills.set_index("prebill_pk").loc[prebill_pk, "matter_id"])


# ============================================================================ 1. rows and keys
def test_a_copied_row_is_refused_naming_its_rows(ledger, ledger_url, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pks = list(dict.fromkeys(edit.key(r)[0] for r in edit.lines))
    first, second = edit.matter_rows(pks[0])[:2]
    _copy_row(edit, first, second)  # pasted over the next line
    other = edit.matter_rows(pks[1])[0]
    spare = edit.sign_row(pks[1]) + 1  # the blank row after the second matter's section
    _copy_row(edit, other, spare)
    saved = edit.save(tmp_path / "copied.xlsx")

    problems = _refused(ledger, saved)
    on_rows = {(p.row, p.reason) for p in problems if p.row is not None}
    assert on_rows == {
        (first, f"this row appears more than once (rows {first}, {second}); rows must not be "
                "copied: delete the copy and keep the row with your edits"),
        (second, f"this row appears more than once (rows {first}, {second}); rows must not be "
                 "copied: delete the copy and keep the row with your edits"),
        (other, f"this row appears more than once (rows {other}, {spare}); rows must not be "
                "copied: delete the copy and keep the row with your edits"),
        (spare, f"this row appears more than once (rows {other}, {spare}); rows must not be "
                "copied: delete the copy and keep the row with your edits"),
    }
    # the line pasted over is missing, and said so by its entry
    lost = Edit(path).key(second)
    assert [p.value for p in problems if p.row is None] == [prebill.line_key(*lost)]

    # on the command line: refused (exit 2) naming the rows, never a crash (exit 4)
    done = _cli("--ledger", ledger_url, "prebill", "apply", saved, cwd=tmp_path, ok=2)
    assert "appears more than once" in done.stdout + done.stderr
    assert "KeyError" not in done.stdout + done.stderr


def test_a_row_moved_into_another_matters_section_is_refused(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pks = list(dict.fromkeys(edit.key(r)[0] for r in edit.lines))
    moved = edit.matter_rows(pks[0])[0]
    spare = edit.sign_row(pks[1]) + 1
    _copy_row(edit, moved, spare)
    for col in range(1, edit.ws.max_column + 1):  # cut: the old row is left empty
        edit.ws.cell(moved, col).value = None
    problems = _refused(ledger, edit.save(tmp_path / "moved.xlsx"))
    assert [(p.row, p.reason) for p in problems] == [
        (spare, SECTION_MOVE.format(pk=pks[0], matter=_matter_of(ledger, pks[0]),
                                    other=_matter_of(ledger, pks[1])))]


def test_a_changed_hidden_key_or_digest_is_refused_naming_the_row(ledger, ledger_url,
                                                                   tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pks = list(dict.fromkeys(edit.key(r)[0] for r in edit.lines))
    rows = edit.matter_rows(pks[0])
    entry, digest, original, kind, other_pk = rows[:5]
    # another line's entry number: the crash of the issue (KeyError, exit 4)
    edit.set(entry, "entry_pk", edit.get(rows[5], "entry_pk"))
    edit.set(digest, "check", "0123456789abcdef")
    edit.set(original, "original", str(edit.get(original, "original")).replace('"qty":',
                                                                                 '"qty":1'))
    edit.set(kind, "entry_kind", None)
    edit.set(other_pk, "prebill_pk", pks[1])
    saved = edit.save(tmp_path / "keys.xlsx")

    problems = _refused(ledger, saved)
    assert {(p.row, p.reason) for p in problems if p.row is not None} == {
        (r, TAMPERED) for r in (entry, digest, original, kind, other_pk)}
    done = _cli("--ledger", ledger_url, "prebill", "apply", saved, cwd=tmp_path, ok=2)
    assert "hidden key cells" in done.stdout + done.stderr


def test_text_typed_into_a_row_billxl_did_not_write_is_refused(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    spare = edit.sign_row(pk) + 1
    edit.set(spare, "Narrative", "call the client before this goes out")
    problems = _refused(ledger, edit.save(tmp_path / "typed.xlsx"))
    assert [(p.row, p.column, p.value, p.reason) for p in problems] == [
        (spare, "Narrative", "call the client before this goes out",
         "this row is not one billxl wrote, so billxl does not read it; write notes in a "
         "line's Note cell, and delete this row")]


# ============================================================================ 2. locked columns
def test_edits_typed_into_locked_columns_are_refused_row_by_row(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pks = list(dict.fromkeys(edit.key(r)[0] for r in edit.lines))
    narrative, hours, day, who, worked, std, good = [r for pk in pks
                                                     for r in _time_rows(edit, pk)][:7]
    edit.set(narrative, "Narrative", "Draft and revise the merger agreement")
    edit.set(hours, "Hours", 9.5)
    edit.set(day, "Date", datetime(2026, 10, 2))
    edit.set(who, "Timekeeper", "Someone Else")
    edit.set(worked, "Worked value", 1.0)
    edit.set(std, "Std rate", 1.0)
    edit.set(good, "Bill hours", 0.1)  # a proper edit: not applied either (all or nothing)
    edit.set(good, "Reason", "WD-INEFF")
    problems = _refused(ledger, edit.save(tmp_path / "locked.xlsx"))
    got = {(p.row, p.column): p.reason for p in problems}
    assert set(got) == {(narrative, "Narrative"), (hours, "Hours"), (day, "Date"),
                        (who, "Timekeeper"), (worked, "Worked value"), (std, "Std rate")}
    assert got[(narrative, "Narrative")] == (
        "the narrative was changed, but narratives are edited in the time entry, not here; "
        "put back the text billxl wrote (nothing on this row, or in this workbook, was "
        "applied)")
    assert "change 'Bill hours' instead" in got[(hours, "Hours")]
    assert "change 'Bill rate' instead" in got[(std, "Std rate")]
    assert "change 'Bill amount' instead" in got[(worked, "Worked value")]
    shown = {p.row: p.value for p in problems}
    assert shown[hours] == "9.5" and shown[day] == "2026-10-02"


def test_a_locked_cell_saved_by_libreoffice_unchanged_is_not_an_edit(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    by_libreoffice = convert(path, "xlsx", tmp_path / "lo")
    assert not prebill.apply_prebill(ledger, by_libreoffice, actor="partner",
                                     today=TODAY).changed


# ============================================================================ 3. writing again
def test_writing_again_refuses_to_overwrite_a_workbook_with_unapplied_edits(ledger, tmp_path):
    folder = tmp_path / "pb"
    path = _workbook(ledger, folder)
    # an unedited workbook is simply written again
    assert prebill.write_prebill_workbooks(ledger, MONTH, folder, partner="TK002")
    edit = Edit(path)
    row = _time_rows(edit, edit.key(edit.lines[0])[0])[0]
    edit.set(row, "Action", "hold")
    edit.save(path)  # the partner saves the workbook where it is
    saved = path.read_bytes()

    with pytest.raises(InputError) as refused:
        prebill.write_prebill_workbooks(ledger, MONTH, folder, partner="TK002")
    message = str(refused.value)
    assert str(path) in message and "billxl prebill apply" in message and "--replace" in message
    assert [(p.file, p.row) for p in refused.value.problems] == [(str(path), row)]
    assert path.read_bytes() == saved

    # --replace: written afresh, the edited one kept beside it
    prebill.write_prebill_workbooks(ledger, MONTH, folder, partner="TK002", replace=True)
    kept = sorted((folder / "replaced").glob("prebill_2026-10_TK002_*.xlsx"))
    assert len(kept) == 1 and kept[0].read_bytes() == saved
    assert Edit(path).get(row, "Action") == "bill"

    # once applied, the edits are the ledger's: writing again is fine
    edit = Edit(path)
    edit.set(row, "Action", "hold")
    edit.save(path)
    prebill.apply_prebill(ledger, path, actor="partner", today=TODAY)
    prebill.write_prebill_workbooks(ledger, MONTH, folder, partner="TK002")
    assert Edit(path).get(row, "Action") == "hold"
    assert len(list((folder / "replaced").glob("*.xlsx"))) == 1


def test_the_prebill_command_refuses_before_it_rebuilds_anything(ledger, ledger_url, tmp_path):
    folder = tmp_path / "pb"
    path = _workbook(ledger, folder)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    row = _time_rows(edit, pk)[0]
    edit.set(row, "Action", "hold")
    edit.save(path)
    # new time arrives on that matter: writing again would replace its pre-bill
    _import_time(ledger, tmp_path, [_late_entry(ledger, _matter_of(ledger, pk), "LATE-9")])
    bills = ledger.read_frame(sa.select(t.prebills)).sort_values("prebill_pk")

    done = _cli("--ledger", ledger_url, "prebill", "--month", MONTH, "--out", folder,
                "--partner", "TK002", cwd=tmp_path, ok=2)
    said = " ".join((done.stdout + done.stderr).split())
    assert path.name in said and "prebill apply" in said and "--replace" in said
    after = ledger.read_frame(sa.select(t.prebills)).sort_values("prebill_pk")
    assert after["status"].tolist() == bills["status"].tolist()  # nothing superseded
    # the partner's edits can still be applied
    assert prebill.apply_prebill(ledger, path, actor="partner", today=TODAY).lines_changed == 1

    _cli("--ledger", ledger_url, "prebill", "--month", MONTH, "--out", folder, "--partner",
         "TK002", cwd=tmp_path, ok=0)


# ============================================================================ 4. other client
def _other_clients_matter(ledger: Ledger, matter_id: str) -> str | None:
    """An open matter of another client billing in the same currency, if there is one."""
    matters = ledger.matters()
    currency = ledger.clients().set_index("client_id")["currency"]
    matters["currency"] = matters["client_id"].map(currency)
    mine = matters.set_index("matter_id").loc[matter_id]
    open_ = matters[(matters["currency"] == mine["currency"])
                    & (matters["client_id"] != mine["client_id"])
                    & (matters["closed_on"].isna() | (matters["closed_on"] > "2026-10-31"))]
    return str(open_["matter_id"].iloc[0]) if len(open_) else None


def test_a_line_moved_to_another_clients_matter_needs_a_reason_and_a_note(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk, target = next((pk, to) for pk in dict.fromkeys(edit.key(r)[0] for r in edit.lines)
                      if (to := _other_clients_matter(ledger, _matter_of(ledger, pk))))
    row = _time_rows(edit, pk)[0]
    edit.set(row, "Action", "transfer")
    edit.set(row, "Transfer to", target)
    problems = _refused(ledger, edit.save(tmp_path / "moved.xlsx"))
    client = ledger.matters().set_index("matter_id").loc[target, "client_id"]
    assert [(p.row, p.column, p.reason) for p in problems] == [
        (row, "Reason", f"{target} is a matter of another client ({client}): moving a line "
                        "there needs a reason code (OTHER, if no other fits) and a note saying "
                        "why"),
        (row, "Note", f"{target} is a matter of another client ({client}): say in the note "
                      "why the line moves there")]

    edit.set(row, "Reason", "OTHER")
    edit.set(row, "Note", "recorded on the wrong client's matter")
    result = prebill.apply_prebill(ledger, edit.save(tmp_path / "moved2.xlsx"),
                                   actor="partner", today=TODAY)
    assert result.lines_changed == 1
    line = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"]).loc[edit.key(row)]
    assert (line["action"], line["transfer_to"], line["reason_code"]) == \
        ("transfer", target, "OTHER")


# ============================================================================ 5. the invoice
def _previews(path: Path) -> dict[int, dict[str, list]]:
    """Each matter's invoice preview as the workbook shows it (the values saved with it):
    {prebill_pk: {kind: [(label, value)]}} for the rows billxl marks 'invoice …'."""
    edit = Edit(path)
    values = openpyxl.load_workbook(path, data_only=True)[wb.SHEET]
    seen: dict[int, dict[str, list]] = {}
    for r in range(edit.lines[0], edit.ws.max_row + 1):
        kind = edit.ws.cell(r, edit.col["entry_kind"]).value
        if isinstance(kind, str) and kind.startswith("invoice ") and kind != "invoice head":
            part = kind.split(" ", 1)[1]
            seen.setdefault(int(edit.get(r, "prebill_pk")), {}).setdefault(part, []).append(
                (edit.get(r, "Narrative"), values.cell(r, edit.col["Bill amount"]).value))
    return seen


def _as_minor(value, currency: str) -> int:
    return money.to_minor(repr(float(value)), currency)


def test_the_partner_sees_the_invoice_finalize_then_makes(ledger, tmp_path):
    with ledger.transaction() as conn:  # a fixed fee, a fixed discount, a cap that bites
        conn.execute(sa.update(t.matters).where(t.matters.c.matter_id == "C0002-0005")
                     .values(fee_arrangement="fixed", fixed_fee_minor=1_250_000))
        conn.execute(sa.update(t.matters).where(t.matters.c.matter_id == "C0002-0001")
                     .values(fixed_fee_minor=100_000))
        conn.execute(t.matter_terms.insert(), [{"matter_id": "C0002-0006",
                                                "discount_minor": 25_000}])
    prebill.create_prebills(ledger, MONTH, actor="test")
    books = prebill.write_prebill_workbooks(ledger, MONTH, tmp_path)
    bills = ledger.read_frame(sa.select(t.prebills)).set_index("prebill_pk")
    currency_of = ledger.clients().set_index("client_id")["currency"]
    matter_client = ledger.matters().set_index("matter_id")["client_id"]

    shown: dict[int, dict] = {}
    said: dict[int, tuple] = {}  # what applying the approvals says of each invoice
    for partner, path in books.items():
        previews = _previews(path)
        shown.update(previews)
        edit = Edit(path)
        for pk in previews:  # the partner approves every matter
            edit.set(edit.sign_row(pk), "Narrative", f"{partner} initials")
        applied = prebill.apply_prebill(ledger, edit.save(tmp_path / f"signed_{partner}.xlsx"),
                                        actor="partner", today=TODAY)
        assert sorted(applied.approved) == sorted(previews)
        said.update(applied.invoice_totals)
        assert "the invoice finalize will make" in prebill.describe(applied)
    assert set(shown) == set(bills.index)
    # every pre-bill finalized, those its client would reject too: each preview is compared
    made = invoicing.finalize(ledger, month=MONTH, actor="test",
                              override="compare every preview with its invoice").invoices

    kinds_seen = set()
    for pk, preview in shown.items():
        currency = currency_of[matter_client[bills.loc[pk, "matter_id"]]]
        mine = made[made["prebill_pk"] == pk]
        total = [_as_minor(v, currency) for _, v in preview["total"]]
        assert total == [int(mine["total_minor"].sum())], pk
        assert said[pk] == (bills.loc[pk, "matter_id"], currency, total[0]), pk
        # the rows above the total add up to it
        parts = [_as_minor(v, currency) for kind in ("start", "adjustment", "tax")
                 for _, v in preview.get(kind, [])]
        assert sum(parts) == total[0], pk
        tax = sum(_as_minor(v, currency) for _, v in preview["tax"])
        assert tax == int(mine["tax_minor"].sum()), pk
        if len(mine) > 1:  # split billing: each payor's invoice
            assert sorted(_as_minor(v, currency) for _, v in preview["payor"]) == \
                sorted(mine["total_minor"].astype(int)), pk
            kinds_seen.add("split")
        kinds_seen |= {label for label, _ in preview.get("adjustment", [])}
        kinds_seen |= {"tax" for _, v in preview["tax"] if v}
    assert {"Fixed fee as agreed", "Discount as agreed", "split", "tax",
            "Fee cap adjustment (fees over the agreed cap)"} <= kinds_seen
    assert any(label.startswith("Discount 5% on fees") for label in kinds_seen)


def test_the_invoice_preview_follows_the_partners_edits_on_an_hourly_matter(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    book = recalculated(path, tmp_path / "lo")
    previews = _previews(path)
    edit = Edit(path)
    stored = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    # an hourly matter without tax or discounts: its invoice total is the sheet's live total
    simple = next(pk for pk, p in previews.items() if not p.get("adjustment")
                  and not any(v for _, v in p["tax"]) and "payor" not in p)
    total_row = next(r for r in range(1, edit.ws.max_row + 1)
                     if edit.ws.cell(r, edit.col["entry_kind"]).value == "invoice total"
                     and int(edit.get(r, "prebill_pk")) == simple)
    assert str(edit.get(total_row, "Bill amount")).startswith("=")
    row = _time_rows(edit, simple)[0]
    edit.set(row, "Action", "no_charge")
    edit.set(row, "Reason", "WD-CLIENT")
    after = recalculated(edit.save(tmp_path / "edited.xlsx"), tmp_path / "lo2")
    before_total = book[wb.SHEET].cell(total_row, edit.col["Bill amount"]).value
    after_total = after[wb.SHEET].cell(total_row, edit.col["Bill amount"]).value
    currency = ledger.clients().set_index("client_id")["currency"][
        ledger.matters().set_index("matter_id").loc[_matter_of(ledger, simple), "client_id"]]
    dropped = int(stored.loc[edit.key(row), "bill_amount_minor"])
    assert _as_minor(before_total, currency) - _as_minor(after_total, currency) == dropped
    # and the sheet says where the authoritative figure comes from
    texts = " ".join(str(c.value) for r in edit.ws.iter_rows() for c in r if c.value)
    assert "billxl recomputes" in texts


# ============================================================================ 6. no charge
def test_a_no_charge_line_shows_zero(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    free = [r for r in edit.lines if edit.get(r, "Action") == "no_charge"]
    assert free
    book = recalculated(path, tmp_path / "lo")
    for r in free:
        assert book[wb.SHEET].cell(r, edit.col["Bill amount"]).value == 0
        assert book[wb.SHEET].cell(r, edit.col["Worked value"]).value > 0
    # a line made no charge in the sheet shows 0 once recalculated, and applies as no charge
    pk = edit.key(edit.lines[0])[0]
    row = _time_rows(edit, pk)[0]
    edit.set(row, "Action", "no_charge")
    edit.set(row, "Reason", "WD-CLIENT")
    by_libreoffice = convert(edit.save(tmp_path / "free.xlsx"), "xlsx", tmp_path / "lo2")
    assert openpyxl.load_workbook(by_libreoffice, data_only=True)[wb.SHEET].cell(
        row, edit.col["Bill amount"]).value == 0
    stored = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    result = prebill.apply_prebill(ledger, by_libreoffice, actor="partner", today=TODAY)
    assert result.lines_changed == 1
    now = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"]).loc[edit.key(row)]
    assert now["action"] == "no_charge"
    assert now["bill_amount_minor"] == stored.loc[edit.key(row), "bill_amount_minor"]


# ============================================================================ 7. approval, status
def test_approval_cells_and_the_status_the_ledger_had(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    sign = edit.sign_row(pk)
    texts = [str(edit.ws.cell(sign, c).value or "") for c in range(1, len(wb.COLUMNS) + 1)]
    assert {"Approved by", "Approved on", "Signature"} <= {s.strip(" ▸:") for s in texts}
    ws = edit.ws
    assert ws.cell(sign, edit.col["Narrative"]).protection.locked is False
    assert ws.cell(sign, edit.col["Worked value"]).protection.locked is False

    def status(e: Edit, prebill_pk: int) -> str:
        header = next(r for r in range(1, e.ws.max_row + 1)
                      if e.ws.cell(r, e.col["entry_kind"]).value == "matter"
                      and int(e.get(r, "prebill_pk")) == prebill_pk)
        return str(e.get(header, "Open findings"))

    assert status(edit, pk) == "Status: draft"
    edit.set(sign, "Narrative", "R.R.")
    edit.set(sign, "Worked value", datetime(2026, 11, 3))
    prebill.apply_prebill(ledger, edit.save(tmp_path / "signed.xlsx"), today=TODAY)
    again = Edit(prebill.write_prebill_workbooks(ledger, MONTH, tmp_path / "2",
                                                 partner="TK002")["TK002"])
    assert status(again, pk) == "Status: approved by R.R. on 2026-11-03"


def test_the_refusal_to_write_over_unapplied_edits_names_their_rows(ledger, tmp_path):
    folder = tmp_path / "pb"
    path = _workbook(ledger, folder)
    edit = Edit(path)
    first, second = _time_rows(edit, edit.key(edit.lines[0])[0])[:2]
    for row in (first, second):
        edit.set(row, "Action", "hold")
    edit.save(path)
    with pytest.raises(InputError) as refused:
        prebill.write_prebill_workbooks(ledger, MONTH, folder, partner="TK002")
    assert f"not applied yet: {path} (rows {first}, {second}). " in str(refused.value)
