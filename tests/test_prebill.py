"""Pre-bills: the line builder, creating and re-creating them in the ledger, and a partner's
workbook edited in a spreadsheet program, saved by LibreOffice, and applied back."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from billxl import demo, intake, money
from billxl.billing import prebill
from billxl.errors import InputError
from billxl.excel import prebill_workbook as wb
from billxl.monthend import EXAMPLE_GUIDELINES
from billxl.rates import resolve_rates
from billxl.reconcile import reconcile_month
from billxl.reference import Reference
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.office import convert, recalculated

MONTH = "2026-10"
TODAY = date(2026, 11, 5)


# =================================================================================== the builder
def _d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_lines_bill_at_the_agreed_rate_keep_the_worked_value_and_hold_small_matters():
    timekeepers = pd.DataFrame({"timekeeper_id": ["TK1", "TK2", "TK3"],
                                "classification": ["PARTNR", "ASSOC", "PARLGL"]})
    matters = pd.DataFrame({"matter_id": ["M1", "M2", "M3"], "client_id": ["C1", "C2", "C1"]})
    clients = pd.DataFrame({"client_id": ["C1", "C2"], "currency": ["USD", "USD"],
                            "rounding": [None, "half_even"]})
    rates = pd.DataFrame([
        # kind, tk, class, client, matter, rate, from, to
        ("standard", "TK1", None, None, None, 65000, "2026-01-01", None),
        ("standard", None, "ASSOC", None, None, 40020, "2026-01-01", None),
        ("override", "TK1", None, None, "M1", 60000, "2026-10-15", None),
    ], columns=["kind", "timekeeper_id", "classification", "client_id", "matter_id",
                "rate_minor", "effective_from", "effective_to"]).assign(currency="USD")
    entries = pd.DataFrame([
        # pk, tk, matter, date, hours (milli), recorded rate, billable, status
        (1, "TK1", "M1", "2026-10-10", 1250, 65000, True, "WIP"),   # before the agreed rate
        (2, "TK1", "M1", "2026-10-20", 1250, 65000, True, "WIP"),   # at the agreed 600.00
        (3, "TK2", "M2", "2026-10-20", 125, 40020, True, "WIP"),    # a tie: 50.025
        (4, "TK3", "M1", "2026-10-21", 2000, 15000, False, "WIP"),  # no rate row; non-billable
        (5, "TK1", "M3", "2026-10-22", 500, 65000, True, "WIP"),    # under M3's minimum bill
        (6, "TK1", "M1", "2026-11-02", 1000, 65000, True, "WIP"),   # after the month
        (7, "TK1", "M1", "2026-10-05", 1000, 65000, True, "billed"),
    ], columns=["entry_pk", "timekeeper_id", "matter_id", "work_date", "hours_milli",
                "rate_minor", "billable", "status"]).assign(currency="USD")
    entries["work_date"] = pd.to_datetime(entries["work_date"])
    entries["rate_minor"] = entries["rate_minor"].astype("Int64")
    expenses = pd.DataFrame([
        (11, "M1", "2026-10-03", 2000, 50, 100, True, "WIP"),
        (12, "M3", "2026-10-04", 1000, 10000, 10000, True, "WIP"),
    ], columns=["expense_pk", "matter_id", "work_date", "quantity_milli", "unit_cost_minor",
                "amount_minor", "billable", "status"]).assign(currency="USD")
    expenses["work_date"] = pd.to_datetime(expenses["work_date"])
    terms = pd.DataFrame({"matter_id": ["M3", "M1"], "min_bill_minor": [100000, None]})

    resolved = resolve_rates(entries, rates, timekeepers, matters)
    reference = Reference(matters=matters, clients=clients, terms=terms)
    lines = prebill.build_prebill_lines(entries, expenses, resolved, reference,
                                        through=date(2026, 10, 31))
    got = [(r["matter_id"], r["entry_kind"], r["entry_pk"], r["worked_qty_milli"],
            None if pd.isna(r["standard_rate_minor"]) else r["standard_rate_minor"],
            r["worked_amount_minor"], r["bill_qty_milli"], r["bill_rate_minor"],
            r["bill_amount_minor"], r["action"], r["note"]) for r in lines.to_dict("records")]
    held = prebill.MIN_BILL_NOTE
    assert got == [
        ("M1", "time", 1, 1250, 65000, 81250, 1250, 65000, 81250, "bill", None),
        ("M1", "time", 2, 1250, 65000, 81250, 1250, 60000, 75000, "bill", None),
        ("M1", "time", 4, 2000, 15000, 30000, 2000, 15000, 30000, "no_charge", None),
        ("M1", "expense", 11, 2000, 50, 100, 2000, 50, 100, "bill", None),
        ("M2", "time", 3, 125, 40020, 5002, 125, 40020, 5002, "bill", None),  # half-even
        ("M3", "time", 5, 500, 65000, 32500, 500, 65000, 32500, "hold", held),
        ("M3", "expense", 12, 1000, 10000, 10000, 1000, 10000, 10000, "hold", held),
    ]
    assert lines["reason_code"].isna().all() and lines["transfer_to"].isna().all()
    # the same tie under the library's default rule rounds half up (no firm rule given) ...
    clients.loc[1, "rounding"] = None
    reference = Reference(matters=matters, clients=clients, terms=terms)
    again = prebill.build_prebill_lines(entries, expenses, resolved, reference,
                                        through=date(2026, 10, 31))
    assert again.loc[again["entry_pk"] == 3, "bill_amount_minor"].item() == 5003
    # ... and by the firm's rule when the firm has one and the client none
    reference = Reference(firm={"rounding": "half_even"}, matters=matters, clients=clients,
                          terms=terms)
    firm_rule = prebill.build_prebill_lines(entries, expenses, resolved, reference,
                                            through=date(2026, 10, 31))
    assert firm_rule.loc[firm_rule["entry_pk"] == 3, "bill_amount_minor"].item() == 5002


# =================================================================================== a demo ledger
@pytest.fixture(scope="module")
def firm(tmp_path_factory):
    demo_firm = demo.build_firm(entries=300)
    paths = demo.write_exports(demo_firm, tmp_path_factory.mktemp("exports"))
    return demo_firm, paths


@pytest.fixture
def ledger(ledger_url, firm):
    """The demo month imported and reconciled (findings open), before any pre-bill."""
    demo_firm, paths = firm
    ledger = Ledger.create(ledger_url, firm=demo_firm.firm, actor="test")
    demo.load_into(ledger, demo_firm)
    intake.import_file(ledger, paths["time"], "time", actor="test")
    intake.import_file(ledger, paths["expenses"], "expenses", actor="test")
    reconcile_month(ledger, MONTH, guidelines_dir=EXAMPLE_GUIDELINES, actor="test")
    yield ledger
    ledger.dispose()


def _lines(ledger: Ledger) -> pd.DataFrame:
    pl, pb = t.prebill_lines, t.prebills
    frame = ledger.read_frame(sa.select(pl, pb.c.matter_id, pb.c.status)
                              .join(pb, pb.c.prebill_pk == pl.c.prebill_pk))
    return frame.sort_values(["prebill_pk", "entry_kind", "entry_pk"]).reset_index(drop=True)


def _audit(ledger: Ledger, table: str) -> pd.DataFrame:
    al = t.audit_log
    return ledger.read_frame(sa.select(al).where(al.c.table_name == table)
                             .order_by(al.c.audit_id))


def _import_time(ledger: Ledger, folder: Path, rows: list[dict]) -> None:
    """New time entries arriving, the way an export brings them."""
    frame = pd.DataFrame(rows)
    frame = frame.reindex(columns=[*demo.TIME_EXPORT_COLUMNS])
    path = folder / f"late_{len(list(folder.glob('late_*')))}.csv"
    frame.fillna("").to_csv(path, index=False)
    intake.import_file(ledger, path, "time", actor="test")


def _late_entry(ledger: Ledger, matter_id: str, entry_id: str) -> dict:
    matter = ledger.matters().set_index("matter_id").loc[matter_id]
    return {"entry_id": entry_id, "date": "2026-10-30", "timekeeper_id": "TK001",
            "timekeeper_name": "", "timekeeper_class": "PARTNR", "matter_id": matter_id,
            "client_id": matter["client_id"], "hours": "1.0", "rate": "", "amount": "",
            "task_code": "", "activity_code": "", "narrative": "Late call with client",
            "entered_on": "2026-11-01", "billable": "Yes"}


def _on_cycle(ledger: Ledger) -> set[str]:
    """The matters whose billing cycle falls in the month (the demo's quarterly client's and
    its matters billed by a schedule at completion are not pre-billed in October)."""
    from billxl.billing.cycles import billed_in_month, cycles_of

    return billed_in_month(cycles_of(Reference.from_ledger(ledger)), date(2026, 10, 31))


def test_create_puts_each_wip_entry_on_one_draft_per_matter(ledger):
    created = prebill.create_prebills(ledger, MONTH, actor="test")
    on_cycle = _on_cycle(ledger)
    wip = ledger.time_entries(status="WIP", end=date(2026, 10, 31))
    costs = ledger.expenses(status="WIP")
    assert set(wip["matter_id"]) - on_cycle  # some WIP waits for its cycle
    wip = wip[wip["matter_id"].isin(on_cycle)]
    costs = costs[costs["matter_id"].isin(on_cycle)]
    lines = _lines(ledger)
    assert sorted(lines.loc[lines["entry_kind"] == "time", "entry_pk"]) == \
        sorted(wip["entry_pk"])
    assert sorted(lines.loc[lines["entry_kind"] == "expense", "entry_pk"]) == \
        sorted(costs.loc[costs["work_date"] <= "2026-10-31", "expense_pk"])
    assert not lines.duplicated(["entry_kind", "entry_pk"]).any()
    with_wip = set(wip["matter_id"]) | set(costs["matter_id"])
    assert sorted(created["matter_id"]) == sorted(with_wip)
    assert (lines["status"] == "draft").all()
    # each pre-bill's figures, as returned, are its lines'
    billed = lines[lines["action"] == "bill"].groupby("prebill_pk")["bill_amount_minor"].sum()
    assert created.set_index("prebill_pk")["to_bill_minor"].astype(int).to_dict() == \
        billed.astype(int).to_dict()
    assert len(_audit(ledger, "prebills")) == len(created)
    # non-billable entries come as no-charge lines
    non_billable = set(wip.loc[~wip["billable"].astype(bool), "entry_pk"])
    assert set(lines.loc[lines["action"] == "no_charge", "entry_pk"]) == non_billable

    # running it again changes nothing: every draft still matches its matter's WIP
    assert prebill.create_prebills(ledger, MONTH, actor="test").empty
    assert ledger.count(t.prebills) == len(created)
    # one partner's run touches only that partner's matters
    assert prebill.create_prebills(ledger, MONTH, partner="TK001", actor="test").empty


def test_a_matter_under_its_minimum_bill_is_held(ledger):
    matters = ledger.matters()
    target = sorted(ledger.time_entries(status="WIP")["matter_id"])[0]
    with ledger.transaction() as conn:
        conn.execute(t.matter_terms.insert(), [{"matter_id": target,
                                                "min_bill_minor": 10**12}])
    prebill.create_prebills(ledger, MONTH, actor="test")
    lines = _lines(ledger)
    mine = lines[lines["matter_id"] == target]
    assert len(mine) and (mine["action"] == "hold").all()
    assert (mine["note"] == prebill.MIN_BILL_NOTE).all()
    others = lines[lines["matter_id"] != target]
    assert not (others["action"] == "hold").any()
    assert target in set(matters["matter_id"])


def test_prebill_frame_shows_each_entry_with_its_open_findings(ledger):
    prebill.create_prebills(ledger, MONTH, actor="test")
    frame = prebill.prebill_frame(ledger, MONTH)
    assert len(frame) == len(_lines(ledger))
    findings = ledger.read_frame(sa.select(t.findings).where(t.findings.c.status == "open"))
    on_cycle = _on_cycle(ledger)
    for kind, table, key in (("time", t.time_entries, "entry_pk"),
                             ("expense", t.expenses, "expense_pk")):
        rows = ledger.read_frame(sa.select(table.c[key], table.c.matter_id))
        off = set(rows.loc[~rows["matter_id"].isin(on_cycle), key])
        findings = findings[~((findings["entry_kind"] == kind) & findings["entry_pk"].isin(off))]
    flagged = frame[frame["findings"].notna()]
    assert len(flagged) == findings.drop_duplicates(["entry_kind", "entry_pk"]).shape[0]
    one = findings.iloc[0]
    row = frame[(frame["entry_kind"] == one["entry_kind"])
                & (frame["entry_pk"] == one["entry_pk"])].iloc[0]
    assert f"{one['rule']}: {one['message']}" in row["findings"].split("\n")
    assert set(frame["finding_severity"].dropna()) <= {"error", "warning", "info"}
    tks = ledger.timekeepers().set_index("timekeeper_id")
    first = frame.iloc[0]
    assert first["partner_name"] == (f"{tks.loc[first['billing_partner_id'], 'last_name']}, "
                                     f"{tks.loc[first['billing_partner_id'], 'first_name']}")
    only = prebill.prebill_frame(ledger, MONTH, partner="TK001")
    assert len(only) and (only["billing_partner_id"] == "TK001").all()


# =================================================================================== the workbook
class Edit:
    """A pre-bill workbook opened as a person's spreadsheet program would (openpyxl here)."""

    def __init__(self, path: Path):
        self.book = openpyxl.load_workbook(path)
        self.ws = self.book[wb.SHEET]
        header = next(r for r in self.ws.iter_rows(max_row=20) if r[0].value == "Date")
        self.col = {c.value: c.column for c in header if c.value}
        rows = range(header[0].row + 1, self.ws.max_row + 1)
        kind = self.col["entry_kind"]
        self.lines = [r for r in rows if self.ws.cell(r, kind).value in ("time", "expense")]
        self.signs = [r for r in rows if self.ws.cell(r, kind).value == "approval"]

    def get(self, row: int, header: str):
        return self.ws.cell(row, self.col[header]).value

    def set(self, row: int, header: str, value) -> None:
        self.ws.cell(row, self.col[header]).value = value

    def key(self, row: int) -> tuple[int, str, int]:
        return (int(self.get(row, "prebill_pk")), self.get(row, "entry_kind"),
                int(self.get(row, "entry_pk")))

    def matter_rows(self, prebill_pk: int) -> list[int]:
        return [r for r in self.lines if int(self.get(r, "prebill_pk")) == prebill_pk]

    def sign_row(self, prebill_pk: int) -> int:
        return next(r for r in self.signs if int(self.get(r, "prebill_pk")) == prebill_pk)

    def save(self, path: Path) -> Path:
        self.book.save(path)
        return path


def _workbook(ledger: Ledger, folder: Path, partner: str = "TK002") -> Path:
    prebill.create_prebills(ledger, MONTH, actor="test")
    return prebill.write_prebill_workbooks(ledger, MONTH, folder, partner=partner)[partner]


def _time_rows(edit: Edit, prebill_pk: int) -> list[int]:
    return [r for r in edit.matter_rows(prebill_pk)
            if edit.get(r, "entry_kind") == "time" and edit.get(r, "Action") == "bill"]


def _open_matter_like(ledger: Ledger, matter_id: str) -> str:
    """Another matter of the same currency, open at the month's end."""
    matters = ledger.matters()
    currency = ledger.clients().set_index("client_id")["currency"]
    matters["currency"] = matters["client_id"].map(currency)
    mine = matters.set_index("matter_id").loc[matter_id, "currency"]
    open_ = matters[(matters["currency"] == mine) & (matters["matter_id"] != matter_id)
                    & (matters["closed_on"].isna() | (matters["closed_on"] > "2026-10-31"))]
    return str(open_["matter_id"].iloc[0])


def _python_totals(ledger: Ledger) -> dict[int, int]:
    lines = _lines(ledger)
    billed = lines[lines["action"] == "bill"]
    totals = billed.groupby("prebill_pk")["bill_amount_minor"].sum().astype(int).to_dict()
    return {int(pk): totals.get(pk, 0) for pk in lines["prebill_pk"].unique()}


def _sheet_totals(book: openpyxl.Workbook) -> dict[int, tuple[float, str]]:
    """Each matter's 'Total' bill amount as the spreadsheet computed it, by prebill_pk."""
    ws = book[wb.SHEET]
    header = next(r for r in ws.iter_rows(max_row=20) if r[0].value == "Date")
    col = {c.value: c.column for c in header if c.value}
    totals, current = {}, None
    for r in range(header[0].row + 1, ws.max_row + 1):
        kind = ws.cell(r, col["entry_kind"]).value
        if kind == "matter":
            current = int(ws.cell(r, col["prebill_pk"]).value)
        elif isinstance(kind, str) and kind.startswith("total "):
            totals[current] = (ws.cell(r, col["Bill amount"]).value, kind.split()[1])
    return totals


def test_the_workbook_as_written(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    frame = prebill.prebill_frame(ledger, MONTH, partner="TK002")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Pre-bill", "Summary", "Instructions", "Lists"]
    assert book["Lists"].sheet_state == "hidden"
    edit = Edit(path)
    ws = edit.ws
    assert len(edit.lines) == len(frame)
    assert len(edit.signs) == frame["prebill_pk"].nunique()
    assert ws.protection.sheet and not ws.protection.password
    assert ws.freeze_panes == "A6" and ws.print_title_rows == "$5:$5"
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage  # one page wide (the default width 1)
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    hidden = {i for d in ws.column_dimensions.values() if d.hidden
              for i in range(d.min, d.max + 1)}
    assert hidden == {edit.col[name] for name in wb.KEY_COLUMNS}
    row = edit.lines[0]
    for header in ("Bill hours", "Bill rate", "Bill amount", "Action", "Transfer to", "Reason",
                   "Note"):
        cell = ws.cell(row, edit.col[header])
        assert cell.protection.locked is False and cell.fill.fgColor.rgb.endswith("FFF2CC"), header
    for header in ("Date", "Narrative", "Worked value", "entry_pk", "check"):
        assert ws.cell(row, edit.col[header]).protection.locked is not False, header
    sign = edit.signs[0]
    assert ws.cell(sign, edit.col["Narrative"]).protection.locked is False  # Approved by
    assert ws.cell(sign, edit.col["Worked value"]).protection.locked is False  # Approved on
    formula = str(edit.get(row, "Bill amount"))  # hours x rate, 0 on a line not billed
    assert formula.startswith("=IF(") and f"ROUND(H{row}*I{row}," in formula
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"bill,hold,no_charge,write_off,transfer"' in lists
    assert '"WD-INEFF,WD-JUNIOR,WD-CLIENT,WD-DUP,WD-CAP,WU-VALUE,OTHER"' in lists
    # every text cell is text: a narrative that looks like a formula stays as typed
    narratives = {edit.key(r): ws.cell(r, edit.col["Narrative"]) for r in edit.lines}
    for rec in frame.to_dict("records"):
        cell = narratives[(rec["prebill_pk"], rec["entry_kind"], rec["entry_pk"])]
        if rec["narrative"]:
            assert cell.data_type == "s" and cell.value == rec["narrative"]
    # an unedited workbook reads back clean, with the ledger's values (a line that bills
    # nothing shows 0 as its amount)
    read, problems = wb.read_prebill_workbook(path)
    assert problems == []
    lines = read[read["entry_kind"] != "approval"].merge(
        frame, on=["prebill_pk", "entry_kind", "entry_pk"], suffixes=("", "_ledger"))
    assert len(lines) == len(frame)
    billed_nothing = lines["action"].isin(["no_charge", "write_off"])
    assert billed_nothing.any()
    lines.loc[billed_nothing, "bill_amount_minor_ledger"] = 0
    for name in ("bill_qty_milli", "bill_rate_minor", "bill_amount_minor"):
        assert (lines[name].astype(int) == lines[f"{name}_ledger"].astype(int)).all(), name
    assert not prebill.apply_prebill(ledger, path, actor="partner", today=TODAY).changed


def test_libreoffice_recalculates_the_subtotals_to_the_python_totals(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    sheet_totals = _sheet_totals(recalculated(path, tmp_path / "lo"))
    expected = _python_totals(ledger)
    assert sheet_totals
    for pk, (value, currency) in sheet_totals.items():
        assert money.to_minor(repr(float(value)), currency) == expected[pk], pk


def test_partner_edits_saved_by_libreoffice_are_applied_and_audited(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    stored = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    pk = edit.key(edit.lines[0])[0]
    down, off, moved = _time_rows(edit, pk)[:3]
    matter = stored.loc[edit.key(down), "matter_id"]
    target = _open_matter_like(ledger, matter)
    old = {r: stored.loc[edit.key(r)] for r in (down, off, moved)}

    # a write-down with a reason, a write-off, a transfer, and the partner's signature
    new_hours = old[down]["bill_qty_milli"] - 200
    edit.set(down, "Bill hours", float(money.milli_to_qty(new_hours)))
    edit.set(down, "Reason", "wd-ineff")  # typed in lower case
    edit.set(off, "Action", "write off")
    edit.set(off, "Reason", "WD-CLIENT")
    edit.set(off, "Note", "client relationship: first matter for the new GC")
    edit.set(moved, "Action", "transfer")
    edit.set(moved, "Transfer to", target.lower())
    edit.set(edit.sign_row(pk), "Narrative", "R.R.")
    edit.set(edit.sign_row(pk), "Worked value", datetime(2026, 11, 3))
    saved = edit.save(tmp_path / "edited.xlsx")
    by_libreoffice = convert(saved, "xlsx", tmp_path / "lo")  # what the read-back sees

    audit_before = len(_audit(ledger, "prebill_lines"))
    result = prebill.apply_prebill(ledger, by_libreoffice, actor="partner", today=TODAY)

    currency = ledger.clients().set_index("client_id")["currency"][
        ledger.matters().set_index("matter_id").loc[matter, "client_id"]]
    new_amount = money.extend(new_hours, int(old[down]["bill_rate_minor"]))
    written_down = (int(old[down]["bill_amount_minor"]) - new_amount
                    + int(old[off]["bill_amount_minor"]))
    assert result.lines_changed == 3 and result.approved == [pk] and result.reopened == []
    assert result.write_downs == {currency: written_down} and result.write_ups == {}

    now = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    a, b, c = (now.loc[edit.key(r)] for r in (down, off, moved))
    assert (a["bill_qty_milli"], a["bill_amount_minor"], a["action"], a["reason_code"]) == \
        (new_hours, new_amount, "bill", "WD-INEFF")
    assert (b["action"], b["reason_code"], b["note"]) == \
        ("write_off", "WD-CLIENT", "client relationship: first matter for the new GC")
    assert (c["action"], c["transfer_to"]) == ("transfer", target) and pd.isna(c["reason_code"])
    untouched = now.drop(index=[edit.key(r) for r in (down, off, moved)])
    assert untouched[list(prebill.EDITABLE)].astype(str).equals(
        stored.drop(index=[edit.key(r) for r in (down, off, moved)])[list(prebill.EDITABLE)]
        .astype(str))

    bill = ledger.read_frame(sa.select(t.prebills).where(t.prebills.c.prebill_pk == pk)).iloc[0]
    assert bill["status"] == "approved" and bill["approved_by"] == "R.R."
    assert pd.Timestamp(bill["approved_at"]).date() == date(2026, 11, 3)

    audit = _audit(ledger, "prebill_lines").iloc[audit_before:]
    trail = {r["row_key"]: (r["before"], r["after"], r["actor"]) for r in audit.to_dict("records")}
    key = prebill.line_key
    assert trail == {
        key(*edit.key(down)): ({"bill_qty_milli": int(old[down]["bill_qty_milli"]),
                                "bill_amount_minor": int(old[down]["bill_amount_minor"]),
                                "reason_code": None},
                               {"bill_qty_milli": int(new_hours), "bill_amount_minor": new_amount,
                                "reason_code": "WD-INEFF"}, "partner"),
        key(*edit.key(off)): ({"action": "bill", "reason_code": None, "note": None},
                              {"action": "write_off", "reason_code": "WD-CLIENT",
                               "note": "client relationship: first matter for the new GC"},
                              "partner"),
        key(*edit.key(moved)): ({"action": "bill", "transfer_to": None},
                                {"action": "transfer", "transfer_to": target}, "partner"),
    }
    signed = _audit(ledger, "prebills").iloc[-1]
    assert signed["row_key"] == str(pk)
    assert signed["before"] == {"status": "draft", "approved_by": None, "approved_on": None}
    assert signed["after"] == {"status": "approved", "approved_by": "R.R.",
                               "approved_on": "2026-11-03"}

    # the same file again: nothing changes, nothing more in the audit log
    count = ledger.count(t.audit_log)
    again = prebill.apply_prebill(ledger, by_libreoffice, actor="partner", today=TODAY)
    assert not again.changed and again.write_downs == {} and again.approved == []
    assert ledger.count(t.audit_log) == count

    # LibreOffice's recalculated subtotals of the edited file equal billxl's, to the cent
    sheet_totals = _sheet_totals(openpyxl.load_workbook(by_libreoffice, data_only=True))
    expected = _python_totals(ledger)
    for prebill_pk, (value, cur) in sheet_totals.items():
        assert money.to_minor(repr(float(value)), cur) == expected[prebill_pk], prebill_pk


def test_bad_edits_are_each_refused_and_nothing_is_applied(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pks = list(dict.fromkeys(edit.key(r)[0] for r in edit.lines))
    rows = [r for pk in pks for r in _time_rows(edit, pk)]
    no_reason, closed_to, unknown_to, negative, bad_action, tampered, billed, signed = rows[:8]
    matters = ledger.matters()
    closed = matters.loc[matters["closed_on"] <= "2026-10-31", "matter_id"].iloc[0]

    edit.set(no_reason, "Bill hours", 0)  # a write-down, but no reason given
    edit.set(closed_to, "Action", "transfer")
    edit.set(closed_to, "Transfer to", closed)
    edit.set(unknown_to, "Action", "transfer")
    edit.set(unknown_to, "Transfer to", "C9999-0001")
    edit.set(negative, "Bill hours", -1.5)
    edit.set(bad_action, "Action", "invoice it")
    edit.set(tampered, "entry_pk", int(edit.get(tampered, "entry_pk")) + 1)
    edit.set(billed, "Note", "checked with the associate")
    sign_pk = edit.key(signed)[0]
    edit.set(edit.sign_row(sign_pk), "Narrative", "R.R.")  # a signature that must not stick
    saved = edit.save(tmp_path / "bad.xlsx")  # saved without recalculation: amounts blank
    with ledger.transaction() as conn:  # the entry was billed meanwhile
        conn.execute(sa.update(t.time_entries)
                     .where(t.time_entries.c.entry_pk == edit.key(billed)[2])
                     .values(status="billed"))

    lines_before, audit_before = _lines(ledger), ledger.count(t.audit_log)
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, saved, actor="partner", today=TODAY)
    got = {(p.row, p.column, p.reason) for p in refused.value.problems}
    closed_on = matters.set_index("matter_id").loc[closed, "closed_on"]
    assert got == {
        (no_reason, "Reason", "this line is written down, which needs a reason code: pick one "
                              "of WD-INEFF, WD-JUNIOR, WD-CLIENT, WD-DUP, WD-CAP or OTHER"),
        (closed_to, "Transfer to", f"this matter was closed on {closed_on:%Y-%m-%d}; transfer "
                                   "only to an open matter"),
        (unknown_to, "Transfer to", "there is no matter with this number in the ledger"),
        (negative, "Bill hours", "the hours cannot be negative"),
        (bad_action, "Action", "is not an action; pick one of: bill, hold, no_charge, "
                               "write_off, transfer"),
        (tampered, None, "the hidden key cells of this row were changed, so billxl cannot "
                         "tell which entry it is; use the workbook as billxl wrote it (or "
                         "write a fresh one)"),
        (billed, "Action", "this entry is already billed; its pre-bill line cannot be changed"),
    }
    problems = {p.row: p for p in refused.value.problems}
    assert problems[negative].value == "-1.5" and problems[unknown_to].value == "C9999-0001"
    assert problems[bad_action].value == "invoice it"
    assert all(p.sheet == "Pre-bill" and p.file == str(saved) for p in problems.values())
    assert "nothing was applied; 7 problem(s)" in str(refused.value)
    # nothing applied: lines, statuses and the audit log as they were
    assert _lines(ledger).astype(str).equals(lines_before.astype(str))
    assert ledger.count(t.audit_log) == audit_before
    status = ledger.read_frame(sa.select(t.prebills.c.status)
                               .where(t.prebills.c.prebill_pk == sign_pk))
    assert status["status"].tolist() == ["draft"]


def test_a_second_copy_edited_after_the_first_was_applied_is_refused(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    first, second = Edit(path), Edit(path)
    row = first.lines[0]
    first.set(row, "Reason", "OTHER")
    first.set(row, "Note", "agreed with the client")
    first.set(row, "Bill rate", 100)
    prebill.apply_prebill(ledger, first.save(tmp_path / "first.xlsx"), actor="a", today=TODAY)
    second.set(row, "Note", "something else")
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, second.save(tmp_path / "second.xlsx"), actor="b",
                              today=TODAY)
    assert [(p.row, p.reason) for p in refused.value.problems] == [
        (row, "this line was changed in the ledger after the workbook was written (another "
              "copy of the workbook applied?); write a fresh workbook and edit that")]


def test_an_approval_can_be_withdrawn_and_a_finalized_prebill_not_touched(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    edit.set(edit.sign_row(pk), "Narrative", "Ralph Romero")
    result = prebill.apply_prebill(ledger, edit.save(tmp_path / "signed.xlsx"), today=TODAY)
    assert result.approved == [pk]
    bill = ledger.read_frame(sa.select(t.prebills).where(t.prebills.c.prebill_pk == pk)).iloc[0]
    assert pd.Timestamp(bill["approved_at"]).date() == TODAY  # signed without a date: today

    fresh = Edit(prebill.write_prebill_workbooks(ledger, MONTH, tmp_path / "2",
                                                 partner="TK002")["TK002"])
    assert fresh.get(fresh.sign_row(pk), "Narrative") == "Ralph Romero"  # shown as signed
    fresh.set(fresh.sign_row(pk), "Narrative", None)
    withdrawn = prebill.apply_prebill(ledger, fresh.save(tmp_path / "unsigned.xlsx"),
                                      today=TODAY)
    assert withdrawn.reopened == [pk] and withdrawn.approved == []
    status = ledger.read_frame(sa.select(t.prebills.c.status, t.prebills.c.approved_by)
                               .where(t.prebills.c.prebill_pk == pk)).iloc[0]
    assert (status["status"], status["approved_by"]) == ("draft", None)

    with ledger.transaction() as conn:  # as finalize leaves it
        conn.execute(sa.update(t.prebills).where(t.prebills.c.prebill_pk == pk)
                     .values(status="finalized"))
    late = Edit(tmp_path / "unsigned.xlsx")
    row = late.matter_rows(pk)[0]
    late.set(row, "Action", "hold")
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, late.save(tmp_path / "late.xlsx"), today=TODAY)
    assert [(p.row, p.reason) for p in refused.value.problems] == [
        (row, "this pre-bill has been finalized into an invoice and cannot be changed; correct "
              "the invoice with a credit note")]


def test_rerun_rebuilds_a_changed_draft_with_its_edits_and_leaves_approved_alone(ledger,
                                                                                  tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pks = list(dict.fromkeys(edit.key(r)[0] for r in edit.lines))
    draft_pk, approved_pk = pks[0], pks[1]
    row = _time_rows(edit, draft_pk)[0]
    kept_key = edit.key(row)
    edit.set(row, "Bill hours", 0.1)
    edit.set(row, "Reason", "WD-DUP")
    edit.set(edit.sign_row(approved_pk), "Narrative", "R.R.")
    prebill.apply_prebill(ledger, edit.save(tmp_path / "edited.xlsx"), today=TODAY)
    bills = ledger.read_frame(sa.select(t.prebills)).set_index("prebill_pk")
    draft_matter, approved_matter = (bills.loc[p, "matter_id"] for p in (draft_pk, approved_pk))

    _import_time(ledger, tmp_path, [_late_entry(ledger, draft_matter, "LATE-1"),
                                    _late_entry(ledger, approved_matter, "LATE-2")])
    created = prebill.create_prebills(ledger, MONTH, actor="test")

    # only the changed draft is rebuilt; it replaces the old one and holds the new entry
    assert created["matter_id"].tolist() == [draft_matter]
    new_pk = int(created["prebill_pk"].iloc[0])
    assert int(created["replaces"].iloc[0]) == draft_pk
    bills = ledger.read_frame(sa.select(t.prebills)).set_index("prebill_pk")
    assert bills.loc[draft_pk, "status"] == "superseded"
    assert bills.loc[approved_pk, "status"] == "approved"
    lines = _lines(ledger)
    late = ledger.time_entries().set_index("entry_id").loc[["LATE-1", "LATE-2"], "entry_pk"]
    on_new = lines[lines["prebill_pk"] == new_pk]
    assert int(late["LATE-1"]) in set(on_new["entry_pk"])
    assert int(late["LATE-2"]) not in set(lines["entry_pk"])  # waits for the next cycle
    # the partner's edit came along, and the audit log says from where
    carried = on_new.set_index(["entry_kind", "entry_pk"]).loc[(kept_key[1], kept_key[2])]
    assert (carried["bill_qty_milli"], carried["reason_code"]) == (100, "WD-DUP")
    trail = _audit(ledger, "prebill_lines")
    last = trail[trail["row_key"] == prebill.line_key(new_pk, *kept_key[1:])].iloc[-1]
    assert last["after"]["carried_from"] == prebill.line_key(*kept_key)
    assert last["after"]["bill_qty_milli"] == 100 and last["after"]["reason_code"] == "WD-DUP"
    # an entry is on one open pre-bill only
    open_lines = lines[lines["status"].isin(["draft", "approved"])]
    assert not open_lines.duplicated(["entry_kind", "entry_pk"]).any()
    # and the rebuilt draft is stable
    assert prebill.create_prebills(ledger, MONTH, actor="test").empty


def test_write_ups_typed_amounts_and_reason_codes_must_agree(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    up, other, typed, premium = _time_rows(edit, pk)[:4]
    stored = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    edit.set(up, "Bill rate", float(edit.get(up, "Bill rate")) + 50)
    edit.set(up, "Reason", "WD-INEFF")  # a write-down code on a write-up
    edit.set(other, "Action", "no_charge")
    edit.set(other, "Reason", "OTHER")  # without the note it needs
    edit.set(typed, "Bill amount", 1.0)  # typed over the formula, no reason
    edit.set(edit.sign_row(pk), "Worked value", datetime(2030, 1, 1))  # a date, no name
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, edit.save(tmp_path / "bad.xlsx"), today=TODAY)
    sign = edit.sign_row(pk)
    assert {(p.row, p.column, p.reason) for p in refused.value.problems} == {
        (up, "Reason", "is a write-down reason, but this line is written up"),
        (other, "Note", "the reason OTHER needs a note saying why"),
        (typed, "Reason", "this line is written down, which needs a reason code: pick one of "
                          "WD-INEFF, WD-JUNIOR, WD-CLIENT, WD-DUP, WD-CAP or OTHER"),
        (sign, "Approved by", "a date is given but no name; type your name or initials to "
                              "approve"),
    }

    # put right: a premium with its reason, an amount typed over the formula with one
    fixed = Edit(path)
    rate = int(stored.loc[fixed.key(premium), "bill_rate_minor"])
    fixed.set(premium, "Bill rate", float(money.from_minor(rate + 5000)))
    fixed.set(premium, "Reason", "WU-VALUE")
    fixed.set(typed, "Bill amount", 1.0)
    fixed.set(typed, "Reason", "WD-CLIENT")
    result = prebill.apply_prebill(ledger, fixed.save(tmp_path / "good.xlsx"), today=TODAY)
    now = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    hours = int(stored.loc[fixed.key(premium), "bill_qty_milli"])
    assert now.loc[fixed.key(premium), "bill_amount_minor"] == money.extend(hours, rate + 5000)
    assert now.loc[fixed.key(typed), "bill_amount_minor"] == 100  # kept as typed
    currency = next(iter(result.write_ups))
    assert result.write_ups == {currency: money.extend(hours, rate + 5000)
                                - int(stored.loc[fixed.key(premium), "bill_amount_minor"])}
    assert result.write_downs == {currency: int(stored.loc[fixed.key(typed),
                                                           "bill_amount_minor"]) - 100}
    # a typed amount is written back as a number, not as the formula, next time
    again = Edit(prebill.write_prebill_workbooks(ledger, MONTH, tmp_path / "2",
                                                 partner="TK002")["TK002"])
    assert again.get(typed, "Bill amount") == 1.0
    assert f"ROUND(H{premium}*I{premium}," in str(again.get(premium, "Bill amount"))


# =================================================================================== the audit trail
def test_each_edit_is_audited_with_only_the_fields_it_changed_and_a_withdrawal_with_its_date(
        ledger, tmp_path):
    """Saved by openpyxl (no recalculation: the amounts blank, meaning hours x rate)."""
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    noted, held, up, free = _time_rows(edit, pk)[:4]
    stored = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    old = {r: stored.loc[edit.key(r)] for r in (noted, held, up, free)}
    edit.set(noted, "Note", "checked with the associate")
    edit.set(held, "Action", "hold")
    rate = int(old[up]["bill_rate_minor"]) + 2500
    edit.set(up, "Bill rate", float(money.from_minor(rate)))
    edit.set(up, "Reason", "WU-VALUE")
    edit.set(free, "Action", "no_charge")
    edit.set(free, "Reason", "WD-CLIENT")
    edit.set(edit.sign_row(pk), "Narrative", "R.R.")
    edit.set(edit.sign_row(pk), "Worked value", datetime(2026, 11, 3))
    audit_before = len(_audit(ledger, "prebill_lines"))
    result = prebill.apply_prebill(ledger, edit.save(tmp_path / "edited.xlsx"), actor="partner",
                                   today=TODAY)

    hours = int(old[up]["bill_qty_milli"])
    currency = next(iter(result.write_ups))
    assert result.lines_changed == 4 and result.approved == [pk]
    assert result.write_ups == {currency: money.extend(hours, rate)
                                - int(old[up]["bill_amount_minor"])}
    assert result.write_downs == {currency: int(old[free]["bill_amount_minor"])}
    matter_id, _currency, total = result.invoice_totals[pk]
    said = prebill.describe(result).split("\n")

    def amount(minor: int) -> str:
        return f"{money.format_amount(minor, currency)} {currency}"

    assert said[:5] == [
        f"{result.file}: 4 line(s) changed, 1 pre-bill(s) approved.",
        f"  Written down: {amount(result.write_downs[currency])}",
        f"  Written up: {amount(result.write_ups[currency])}",
        "  Approved; the invoice finalize will make of each:",
        f"    {matter_id}: {amount(total)}"]
    audit = _audit(ledger, "prebill_lines").iloc[audit_before:]
    trail = {r["row_key"]: (r["before"], r["after"], r["actor"])
             for r in audit.to_dict("records")}
    key = prebill.line_key
    assert trail == {
        key(*edit.key(noted)): ({"note": None}, {"note": "checked with the associate"},
                                "partner"),
        key(*edit.key(held)): ({"action": "bill"}, {"action": "hold"}, "partner"),
        key(*edit.key(up)): ({"bill_rate_minor": int(old[up]["bill_rate_minor"]),
                              "bill_amount_minor": int(old[up]["bill_amount_minor"]),
                              "reason_code": None},
                             {"bill_rate_minor": rate,
                              "bill_amount_minor": money.extend(hours, rate),
                              "reason_code": "WU-VALUE"}, "partner"),
        key(*edit.key(free)): ({"action": "bill", "reason_code": None},
                               {"action": "no_charge", "reason_code": "WD-CLIENT"}, "partner"),
    }
    now = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])
    assert now.loc[edit.key(up), "bill_amount_minor"] == money.extend(hours, rate)
    assert now.loc[edit.key(held), "action"] == "hold" and pd.isna(now.loc[edit.key(held),
                                                                           "reason_code"])

    # the approval withdrawn from a fresh workbook: the audit says who had signed, and when
    fresh = Edit(prebill.write_prebill_workbooks(ledger, MONTH, tmp_path / "2",
                                                 partner="TK002")["TK002"])
    fresh.set(fresh.sign_row(pk), "Narrative", None)
    withdrawn = prebill.apply_prebill(ledger, fresh.save(tmp_path / "unsigned.xlsx"),
                                      actor="partner", today=TODAY)
    assert withdrawn.reopened == [pk] and withdrawn.lines_changed == 0
    assert prebill.describe(withdrawn).split("\n")[0] == \
        f"{withdrawn.file}: 0 line(s) changed, 1 approval(s) withdrawn."
    signed, unsigned = (r for r in _audit(ledger, "prebills").iloc[-2:].to_dict("records"))
    assert (signed["row_key"], signed["before"], signed["after"], signed["actor"]) == (
        str(pk), {"status": "draft", "approved_by": None, "approved_on": None},
        {"status": "approved", "approved_by": "R.R.", "approved_on": "2026-11-03"}, "partner")
    assert (unsigned["row_key"], unsigned["before"], unsigned["after"], unsigned["actor"]) == (
        str(pk), {"status": "approved", "approved_by": "R.R.", "approved_on": "2026-11-03"},
        {"status": "draft", "approved_by": None, "approved_on": None}, "partner")


# =================================================================================== the preview
def test_the_invoice_preview_adds_up_to_the_invoices_finalize_would_make(ledger):
    from billxl.billing import invoicing

    prebill.create_prebills(ledger, MONTH, actor="test")
    frame = prebill.prebill_frame(ledger, MONTH)
    previews = prebill.invoice_previews(ledger, MONTH, frame)
    bills = frame[["prebill_pk", "matter_id"]].drop_duplicates("prebill_pk")
    invoices, _lines_made = invoicing.preview_invoices(ledger, bills, MONTH)
    clients = ledger.clients().set_index("client_id")
    matters = ledger.matters().set_index("matter_id")
    order = {"start": 0, "adjustment": 1, "tax": 2, "total": 3, "payor": 4}
    assert list(previews["prebill_pk"].drop_duplicates()) == list(bills["prebill_pk"])
    seen = set()
    for pk, block in previews.groupby("prebill_pk", sort=False):
        matter = matters.loc[bills.set_index("prebill_pk").loc[pk, "matter_id"]]
        mine = invoices[invoices["prebill_pk"] == pk]
        kinds = block["kind"].tolist()
        assert kinds == sorted(kinds, key=order.get) and kinds.count("start") == 1, pk
        amount = dict(zip(block["label"], block["amount_minor"], strict=True))
        billed = frame[(frame["prebill_pk"] == pk) & (frame["action"] == "bill")]
        assert amount["Fees and expenses to bill"] == billed["bill_amount_minor"].sum(), pk
        total = block.loc[block["kind"] == "total", "amount_minor"].tolist()
        assert total == [int(mine["total_minor"].sum())], pk
        assert block.loc[block["kind"] == "total", "label"].tolist() == [
            "Invoice total" if len(mine) else
            "Invoice total (nothing to invoice: no line is billed)"], pk
        assert block.loc[block["kind"].isin(["start", "adjustment", "tax"]),
                         "amount_minor"].sum() == total[0], pk
        tax = block[block["kind"] == "tax"]
        assert tax["amount_minor"].sum() == mine["tax_minor"].sum(), pk
        if mine["tax_minor"].sum():
            assert tax["label"].str.fullmatch(r"Tax at \d+(\.\d+)?%").all(), pk
            seen.add("tax")
        else:
            assert tax["label"].tolist() == ["Tax: none for this client"], pk
        payors = block[block["kind"] == "payor"]
        if len(mine) > 1:
            assert sorted(payors["amount_minor"]) == sorted(mine["total_minor"].astype(int))
            for h in mine.to_dict("records"):
                assert (f"of which invoiced to {clients.loc[h['client_id'], 'name']} "
                        f"({h['client_id']}, {h['payor_percent']}%)") in set(payors["label"])
            seen.add("split")
        else:
            assert payors.empty, pk
        adjusted = (block["kind"] == "adjustment").any()
        seen |= {"adjusted" if adjusted else "plain"}
        # the sheet's own total stands only for an hourly invoice with nothing taken off or added
        assert block["live"].tolist() == [not adjusted and len(mine) <= 1
                                          and not mine["tax_minor"].sum()
                                          and matter["fee_arrangement"] == "hourly"] * len(block)
        assert set(block["currency"]) == {clients.loc[matter["client_id"], "currency"]}
        assert set(block["invoice_date"]) == {date(2026, 10, 31)}
    assert seen == {"tax", "split", "adjusted", "plain"}


def test_a_transfer_to_a_matter_closed_at_the_months_end_or_to_its_own_is_refused_by_row(
        ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    pk = edit.key(edit.lines[0])[0]
    own, closing, negative = _time_rows(edit, pk)[:3]
    matter = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"]).loc[
        edit.key(own), "matter_id"]
    target = _open_matter_like(ledger, matter)
    with ledger.transaction() as conn:  # closed on the month's last day: not open at its end
        conn.execute(sa.update(t.matters).where(t.matters.c.matter_id == target)
                     .values(closed_on=date(2026, 10, 31)))
    edit.set(own, "Action", "transfer")
    edit.set(own, "Transfer to", matter)
    edit.set(closing, "Action", "transfer")
    edit.set(closing, "Transfer to", target)
    edit.set(negative, "Bill hours", -1)  # found on reading the file, before the ledger's checks
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, edit.save(tmp_path / "moved.xlsx"), today=TODAY)
    assert [(p.row, p.column, p.reason) for p in refused.value.problems] == [
        (own, "Transfer to", "this is the line's own matter; to keep the line here, choose the "
                             "action 'bill'"),
        (closing, "Transfer to", "this matter was closed on 2026-10-31; transfer only to an "
                                 "open matter"),
        (negative, "Bill hours", "the hours cannot be negative"),
    ]


def test_each_matter_of_the_workbook_shows_its_invoice_preview_in_order(ledger, tmp_path):
    path = _workbook(ledger, tmp_path)
    previews = prebill.invoice_previews(ledger, MONTH,
                                        prebill.prebill_frame(ledger, MONTH, partner="TK002"))
    edit = Edit(path)
    shown: dict[int, list] = {}
    for r in range(edit.lines[0], edit.ws.max_row + 1):
        kind = edit.get(r, "entry_kind")
        if isinstance(kind, str) and kind.startswith("invoice ") and \
                kind not in ("invoice head", "invoice problem"):
            shown.setdefault(int(edit.get(r, "prebill_pk")), []).append(
                (kind.removeprefix("invoice "), edit.get(r, "Narrative")))
    assert shown and shown == {int(pk): list(zip(block["kind"], block["label"], strict=True))
                               for pk, block in previews.groupby("prebill_pk")}


def test_a_row_whose_line_is_no_longer_in_the_ledger_is_refused_naming_its_prebill(ledger,
                                                                                    tmp_path):
    path = _workbook(ledger, tmp_path)
    edit = Edit(path)
    row = edit.lines[0]
    pk, kind, entry = edit.key(row)
    pl = t.prebill_lines
    with ledger.transaction() as conn:
        conn.execute(sa.delete(pl).where((pl.c.prebill_pk == pk) & (pl.c.entry_kind == kind)
                                         & (pl.c.entry_pk == entry)))
    edit.set(row, "Note", "checked")
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, edit.save(tmp_path / "gone.xlsx"), today=TODAY)
    assert [(p.row, p.value, p.reason) for p in refused.value.problems] == [
        (row, str(entry), f"pre-bill {pk} has no line for this entry in the ledger; write a "
                          "fresh workbook")]


def test_expense_lines_carry_their_work_date_and_come_in_date_order():
    matters = pd.DataFrame({"matter_id": ["M1"], "client_id": ["C1"]})
    reference = Reference(matters=matters, clients=pd.DataFrame(
        {"client_id": ["C1"], "currency": ["USD"], "rounding": [None]}))
    entries = pd.DataFrame({"entry_pk": [1], "timekeeper_id": ["TK1"], "matter_id": ["M1"],
                            "work_date": pd.to_datetime(["2026-10-02"]), "hours_milli": [1000],
                            "rate_minor": pd.array([20000], dtype="Int64"), "billable": [True],
                            "currency": ["USD"]})
    expenses = pd.DataFrame({"expense_pk": [21, 22], "matter_id": ["M1", "M1"],
                             "work_date": pd.to_datetime(["2026-10-20", "2026-10-06"]),
                             "quantity_milli": [1000, 1000], "unit_cost_minor": [700, 900],
                             "amount_minor": [700, 900], "billable": [True, True],
                             "currency": ["USD", "USD"]})
    rates = pd.DataFrame(columns=["kind", "timekeeper_id", "classification", "client_id",
                                  "matter_id", "rate_minor", "effective_from", "effective_to",
                                  "currency"])
    timekeepers = pd.DataFrame({"timekeeper_id": ["TK1"], "classification": ["PARTNR"]})
    lines = prebill.build_prebill_lines(entries, expenses,
                                        resolve_rates(entries, rates, timekeepers, matters),
                                        reference, through=date(2026, 10, 31))
    cost = lines[lines["entry_kind"] == "expense"]
    assert cost["entry_pk"].tolist() == [22, 21]  # the later key was spent first
    assert cost["work_date"].tolist() == [_d("2026-10-06"), _d("2026-10-20")]


def test_an_approval_signed_again_by_another_partner_on_the_same_date_is_theirs(ledger,
                                                                                 tmp_path):
    edit = Edit(_workbook(ledger, tmp_path))
    pk = edit.key(edit.lines[0])[0]
    edit.set(edit.sign_row(pk), "Narrative", "Ralph Romero")
    edit.set(edit.sign_row(pk), "Worked value", datetime(2026, 11, 3))
    prebill.apply_prebill(ledger, edit.save(tmp_path / "signed.xlsx"), today=TODAY)

    fresh = Edit(prebill.write_prebill_workbooks(ledger, MONTH, tmp_path / "2",
                                                 partner="TK002")["TK002"])
    fresh.set(fresh.sign_row(pk), "Narrative", "Dana Ellis")  # the date left as shown
    result = prebill.apply_prebill(ledger, fresh.save(tmp_path / "resigned.xlsx"), today=TODAY)
    assert result.approved == [pk]
    bill = ledger.read_frame(sa.select(t.prebills).where(t.prebills.c.prebill_pk == pk)).iloc[0]
    assert (bill["status"], bill["approved_by"]) == ("approved", "Dana Ellis")
    assert pd.Timestamp(bill["approved_at"]).date() == date(2026, 11, 3)


def test_edits_carried_to_a_rebuilt_draft_are_audited_with_only_what_they_changed(ledger,
                                                                                   tmp_path):
    edit = Edit(_workbook(ledger, tmp_path))
    pk = edit.key(edit.lines[0])[0]
    noted, held = _time_rows(edit, pk)[:2]
    edit.set(noted, "Note", "client asked for detail")
    edit.set(held, "Action", "hold")
    prebill.apply_prebill(ledger, edit.save(tmp_path / "edited.xlsx"), today=TODAY)
    matter = ledger.read_frame(sa.select(t.prebills.c.matter_id).where(
        t.prebills.c.prebill_pk == pk)).iloc[0, 0]
    _import_time(ledger, tmp_path, [_late_entry(ledger, matter, "LATE-9")])
    new_pk = int(prebill.create_prebills(ledger, MONTH, actor="test")
                 .set_index("matter_id").loc[matter, "prebill_pk"])
    trail = _audit(ledger, "prebill_lines")

    def carried(row: int) -> tuple[dict, dict]:
        key = edit.key(row)
        last = trail[trail["row_key"] == prebill.line_key(new_pk, *key[1:])].iloc[-1]
        return last["before"], last["after"]

    came_from = {r: prebill.line_key(*edit.key(r)) for r in (noted, held)}
    assert carried(noted) == ({"note": None}, {"note": "client asked for detail",
                                               "carried_from": came_from[noted]})
    assert carried(held) == ({"action": "bill"}, {"action": "hold",
                                                  "carried_from": came_from[held]})


def test_a_blank_rate_beside_typed_hours_for_a_checked_client_is_listed_not_a_crash(ledger,
                                                                                     tmp_path):
    from billxl.billing.invoice_check import checked_clients

    edit = Edit(_workbook(ledger, tmp_path))
    checked = checked_clients(Reference.from_ledger(ledger))
    client_of = ledger.matters().set_index("matter_id")["client_id"]
    matter_of = _lines(ledger).set_index(["prebill_pk", "entry_kind", "entry_pk"])["matter_id"]
    row = next(r for r in edit.lines if edit.get(r, "entry_kind") == "time"
               and client_of[matter_of[edit.key(r)]] in checked)
    edit.set(row, "Bill hours", 0.3)
    edit.set(row, "Bill rate", None)
    with pytest.raises(InputError) as refused:
        prebill.apply_prebill(ledger, edit.save(tmp_path / "no_rate.xlsx"), today=TODAY)
    assert (row, "Bill rate", "the bill rate is missing") in {
        (p.row, p.column, p.reason) for p in refused.value.problems}


def test_an_entry_no_rate_covers_is_prebilled_at_nothing_with_a_note_and_kept_on_a_rerun(
        ledger, tmp_path):
    matter = sorted(set(ledger.time_entries(status="WIP")["matter_id"]) & _on_cycle(ledger))[0]
    _import_time(ledger, tmp_path, [_late_entry(ledger, matter, "NO-RATE")])  # no rate typed
    with ledger.transaction() as conn:  # and none in the rate table
        conn.execute(sa.delete(t.rates))
    prebill.create_prebills(ledger, MONTH, actor="test")
    pk = int(ledger.time_entries().set_index("entry_id").loc["NO-RATE", "entry_pk"])
    line = _lines(ledger).set_index(["entry_kind", "entry_pk"]).loc[("time", pk)]
    assert (line["bill_rate_minor"], line["bill_amount_minor"], line["note"]) == (
        0, 0, prebill.NO_RATE_NOTE)
    assert pd.isna(line["standard_rate_minor"])
    assert prebill.create_prebills(ledger, MONTH, actor="test").empty
