"""The command line as a user runs it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger

BILLXL = [sys.executable, "-m", "billxl.cli"]


def run(*args, cwd: Path, ok: int | None = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "BILLXL_USER": "test.secretary"}
    env.pop("BILLXL_LEDGER", None)
    done = subprocess.run([*BILLXL, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)
    if ok is not None:
        assert done.returncode == ok, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """A small demo firm built by the CLI once for this module (ledger demo/billxl.db)."""
    root = tmp_path_factory.mktemp("cli")
    done = run("demo", "--entries", "600", "--dir", "demo", "--evaluate", cwd=root)
    assert "Time entries imported" in done.stdout
    assert "planted rules meet recall" in done.stdout
    (root / "demo.out").write_text(done.stdout)
    return root


def wip_ledger(demo_dir: Path, tmp_path: Path) -> Path:
    """A ledger holding the demo month's entries as WIP (before anything is billed)."""
    from billxl import demo, intake

    target = tmp_path / "wip.db"
    firm = demo.build_firm(entries=600)
    ledger = Ledger.create(target, firm=firm.firm)
    demo.load_into(ledger, firm)
    exports = demo_dir / "demo" / "exports"
    intake.import_file(ledger, exports / "time_entries.xlsx", "time")
    intake.import_file(ledger, exports / "expenses.csv", "expenses")
    ledger.dispose()
    return target


def copy_ledger(demo_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ledger.db"
    shutil.copyfile(demo_dir / "demo" / "billxl.db", target)
    return target


def test_demo_writes_every_output(demo_dir):
    out = demo_dir / "demo"
    for name in ("billxl.db", "exports/time_entries.xlsx", "exports/expenses.csv",
                 "exports/ground_truth.csv", "exceptions_2026-10.xlsx",
                 "wip_by_partner_2026-10.csv", "guidelines/strict-insurer.yaml"):
        assert (out / name).exists(), name
    ledger = Ledger.open(out / "billxl.db")
    assert ledger.count(t.time_entries) == 600
    assert ledger.count(t.findings) > 0
    # the demo ends with the month-end batch: every pack finished, and it says where they are
    index = out / "month-end" / "2026-10" / "index.html"
    said = " ".join((demo_dir / "demo.out").read_text().split())
    assert "Month-end packs: open" in said and "index.html" in said
    manifest = json.loads((index.parent / "manifest.json").read_text())
    packs = manifest["packs"]
    assert len(packs) >= 5 and {p["status"] for p in packs} == {"finished"}
    assert {"monthly_pack", "collections", "reconciliation_review"} == {p["pack"] for p in packs}
    for pack in packs:
        assert all((index.parent / name).stat().st_size > 0 for name in pack["outputs"])
    assert index.read_text().count("finished") >= len(packs)
    # invoices held back from the portals are listed with why, and were not submitted
    held = out / "ledes" / "held_back.csv"
    if held.exists():
        reasons = pd.read_csv(held, dtype=str, encoding="utf-8-sig")
        assert len(reasons) and reasons["reason"].str.len().min() > 10
        submitted = ledger.read_frame(sa.select(t.invoices.c.number).join(
            t.submissions, t.submissions.c.invoice_pk == t.invoices.c.invoice_pk))
        assert not set(reasons["invoice"]) & set(submitted["number"])
        assert "held back" in said and "held_back.csv" in said
    else:
        assert "held back" not in said


def test_init_then_init_again_says_the_ledger_exists(tmp_path):
    done = run("init", "--name", "Smith & Jones LLP", cwd=tmp_path)
    assert "Created a new ledger for Smith & Jones LLP" in done.stdout
    again = run("init", cwd=tmp_path, ok=3)
    assert "already holds a firm" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_command_on_a_missing_ledger_explains_what_to_do(tmp_path):
    done = run("findings", "list", cwd=tmp_path, ok=3)
    assert "has not been set up" in done.stderr and "billxl init" in done.stderr


def test_bad_import_imports_nothing_and_names_every_bad_row(demo_dir, tmp_path):
    ledger_file = copy_ledger(demo_dir, tmp_path)
    good = pd.read_excel(demo_dir / "demo" / "exports" / "time_entries.xlsx", dtype=str,
                         engine="calamine").head(5)
    bad = good.copy()
    bad["entry_id"] = [f"NEW{i}" for i in range(5)]
    bad.loc[0, "date"] = "2026-02-30"
    bad.loc[1, "hours"] = "-1.5"
    bad.loc[2, "matter_id"] = "C9999-0001"
    bad.loc[3, "narrative"] = "=HYPERLINK(\"http://x\") call with client"  # fine: stays text
    path = tmp_path / "october.csv"
    bad.to_csv(path, index=False)
    before = Ledger.open(ledger_file).count(t.time_entries)

    done = run("--ledger", ledger_file, "import", "time", path, "--problems", "bad.csv",
               cwd=tmp_path, ok=2)
    assert "Nothing was changed" in done.stderr
    said = " ".join(done.stderr.split())
    assert "Every problem (3) is listed in bad.csv" in said and "use --problems" not in said
    problems = pd.read_csv(tmp_path / "bad.csv", encoding="utf-8-sig")
    assert list(zip(problems["row"], problems["column"], strict=True)) == [
        (2, "date"), (3, "hours"), (4, "matter_id")]
    assert "not a date" in problems.loc[0, "reason"]
    assert "no matter with this number" in problems.loc[2, "reason"]
    assert Ledger.open(ledger_file).count(t.time_entries) == before

    fixed = good.copy()
    fixed["entry_id"] = [f"NEW{i}" for i in range(5)]
    fixed.loc[3, "narrative"] = "=HYPERLINK(\"http://x\") call with client"
    fixed.to_csv(path, index=False)
    run("--ledger", ledger_file, "import", "time", path, cwd=tmp_path)
    run("--ledger", ledger_file, "import", "time", path, cwd=tmp_path)  # again: nothing new
    ledger = Ledger.open(ledger_file)
    assert ledger.count(t.time_entries) == before + 5
    stored = ledger.time_entries().set_index("entry_id")
    assert stored.loc["NEW3", "narrative"] == "=HYPERLINK(\"http://x\") call with client"


def test_check_a_bare_file_as_json_with_exit_codes(demo_dir, tmp_path):
    export = demo_dir / "demo" / "exports" / "time_entries.xlsx"
    done = run("check", export, "--period", "2026-10", "--format", "json", cwd=tmp_path, ok=1)
    findings = json.loads(done.stdout)
    assert {"rule", "severity", "entry_id", "message"} <= set(findings[0])
    rules = {f["rule"] for f in findings}
    assert {"FORMULA_TEXT", "INCREMENT", "VAGUE"} <= rules
    assert "CLOSED_MATTER" not in rules  # needs the ledger: skipped, with a note
    assert "CLOSED_MATTER skipped" in done.stderr

    clean = tmp_path / "clean.csv"
    pd.DataFrame([{"entry_id": "A1", "date": "2026-10-05", "timekeeper_id": "TK1",
                   "timekeeper_name": "Smith, Jane", "timekeeper_class": "PARTNR",
                   "matter_id": "M1", "client_id": "C1", "hours": "1.5", "rate": "500.00",
                   "amount": "750.00", "task_code": "L110", "activity_code": "A101",
                   "narrative": "Draft motion to compel production of the defendant's emails"}]
                 ).to_csv(clean, index=False)
    ok = run("check", clean, "--format", "json", cwd=tmp_path, ok=0)
    assert all(f["severity"] != "error" for f in json.loads(ok.stdout))

    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(export.read_bytes()[:5000])
    broken = run("check", cut, cwd=tmp_path, ok=2)
    assert "damaged" in broken.stderr or "not a spreadsheet" in broken.stderr


def test_a_guideline_file_with_a_typo_names_the_line(tmp_path):
    (tmp_path / "strict.yaml").write_text("increment_hours: 0.25\ndailly_max_hours: 8\n")
    (tmp_path / "e.csv").write_text(
        "entry_id,date,timekeeper_id,timekeeper_name,timekeeper_class,matter_id,client_id,"
        "hours,rate,amount,task_code,activity_code,narrative\n"
        "A1,2026-10-05,TK1,\"Smith, Jane\",PARTNR,M1,C1,1.5,500,750,,,Draft a long motion\n")
    done = run("check", "e.csv", "--guidelines", "strict.yaml", cwd=tmp_path, ok=2)
    assert "line 2" in done.stderr and "daily_max_hours" in done.stderr


def test_reconcile_waive_and_reconcile_again(demo_dir, tmp_path):
    ledger_file = wip_ledger(demo_dir, tmp_path)
    shutil.copytree(demo_dir / "demo" / "guidelines", tmp_path / "guidelines")
    refused = run("--ledger", ledger_file, "reconcile", "--month", "2026-10", cwd=tmp_path, ok=2)
    assert "names the guideline set" in refused.stderr  # ./guidelines is not guessed
    run("--ledger", ledger_file, "firm", "edit", "--guidelines-dir", "guidelines", cwd=tmp_path)
    first = run("--ledger", ledger_file, "reconcile", "--month", "2026-10", "--out", "x.xlsx",
                cwd=tmp_path, ok=1)  # the demo's planted problems include errors
    assert "errors)" in first.stdout and " (0 errors)" not in first.stdout
    assert (tmp_path / "x.xlsx").exists() and "findings to review" in first.stdout
    every = json.loads(run("--ledger", ledger_file, "findings", "list", "--format", "json",
                           cwd=tmp_path).stdout)
    table = run("--ledger", ledger_file, "findings", "list", cwd=tmp_path)
    assert len(every) > 100  # a month's findings: counted by kind, the first 100 shown
    assert "Findings, by rule, status and severity" in table.stdout
    assert f"The first 100 of {len(every):,} findings" in table.stdout
    assert "billxl findings list --format csv > findings.csv" in " ".join(table.stderr.split())
    listed = json.loads(run("--ledger", ledger_file, "findings", "list", "--rule", "VAGUE",
                            "--format", "json", cwd=tmp_path).stdout)
    ids = [str(f["finding_id"]) for f in listed if f["status"] == "open"][:3]
    run("--ledger", ledger_file, "findings", "waive", *ids, cwd=tmp_path, ok=2)  # no reason
    empty = run("--ledger", ledger_file, "findings", "waive", *ids, "--reason", " ",
                cwd=tmp_path, ok=2)  # a blank reason is input to correct, as a missing one
    assert "A waiver needs a reason" in empty.stderr
    typo = run("--ledger", ledger_file, "findings", "list", "--status", "opne", cwd=tmp_path, ok=2)
    assert "'opne' is not a finding status" in typo.stderr and "waived" in typo.stderr
    nope = run("--ledger", ledger_file, "findings", "list", "--rule", "NOPE", cwd=tmp_path, ok=2)
    assert "'NOPE' is not a rule id" in nope.stderr and "VAGUE" in nope.stderr
    run("--ledger", ledger_file, "findings", "waive", *ids, "--reason",
        "client accepts these descriptions", cwd=tmp_path)
    again = run("--ledger", ledger_file, "reconcile", "--month", "2026-10", cwd=tmp_path, ok=1)
    assert "0 new, 0 reopened, 3 still waived" in " ".join(again.stdout.split())
    ledger = Ledger.open(ledger_file)
    waived = ledger.read_frame(sa.select(t.findings).where(t.findings.c.status == "waived"))
    assert sorted(waived["finding_id"].astype(str)) == sorted(ids)
    assert set(waived["status_by"]) == {"test.secretary"}


def test_reconcile_sources_against_the_ledger(demo_dir, tmp_path):
    ledger_file = copy_ledger(demo_dir, tmp_path)
    export = pd.read_excel(demo_dir / "demo" / "exports" / "time_entries.xlsx", dtype=str,
                           engine="calamine")
    export = export.drop(index=[0])  # the ledger has it, the export does not
    export.loc[1, "hours"] = "9.9"
    path = tmp_path / "a.csv"
    export.to_csv(path, index=False)
    done = run("--ledger", ledger_file, "reconcile-sources", path, "ledger", "--format", "json",
               cwd=tmp_path, ok=1)
    diff = json.loads(done.stdout)
    assert {(d["status"], d["field"]) for d in diff} == {("extra", ""), ("changed", "hours")}


def test_prebill_workbooks_and_apply(demo_dir, tmp_path):
    import openpyxl

    ledger_file = wip_ledger(demo_dir, tmp_path)
    made = run("--ledger", ledger_file, "prebill", "--month", "2026-10", "--out", "pb",
               cwd=tmp_path)
    assert "workbook(s) in pb" in made.stdout
    book_path = sorted((tmp_path / "pb").glob("prebill_2026-10_*.xlsx"))[0]
    # nothing to change, but the demo's pre-bills hold what their clients would reject: exit 1
    unchanged = run("--ledger", ledger_file, "prebill", "apply", book_path, cwd=tmp_path, ok=1)
    assert "nothing to change" in unchanged.stdout
    assert "would be held at finalize" in unchanged.stdout

    book = openpyxl.load_workbook(book_path)
    sheet = book["Pre-bill"]
    header = next(r for r in sheet.iter_rows(max_row=20) if r[0].value == "Date")
    col = {c.value: c.column for c in header if c.value}
    line = next(r for r in range(header[0].row + 1, sheet.max_row + 1)
                if sheet.cell(r, col["entry_kind"]).value == "time")
    sheet.cell(line, col["Bill hours"]).value = 0.1  # a write-down with no reason
    sheet.cell(line, col["Action"]).value = "frobnicate"
    book.save(tmp_path / "edited.xlsx")
    refused = run("--ledger", ledger_file, "prebill", "apply", "edited.xlsx", "--problems",
                  "p.csv", cwd=tmp_path, ok=2)
    assert "Action" in refused.stderr
    problems = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig")
    assert set(problems["row"]) == {line}
    assert {"Action"} <= set(problems["column"])


def test_help_shows_flags_as_flags(tmp_path):
    # a flag takes no value: the help must not show one beside it ("--debug <bool>")
    for args in ([], ["demo"], ["month-end"], ["findings", "list"]):
        shown = run(*args, "--help", cwd=tmp_path).stdout
        assert "--help" in shown and "<bool>" not in shown and "BOOLEAN" not in shown, args


def test_a_ledger_held_by_another_writer_is_busy_not_an_unexpected_error(tmp_path, monkeypatch):
    import sqlite3

    from tests.conftest import FIRM

    ledger_file = tmp_path / "ledger.db"
    Ledger.create(f"sqlite:///{ledger_file}", firm=FIRM, actor="test").dispose()
    holder = sqlite3.connect(ledger_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program writing, and not finishing
    try:
        monkeypatch.setenv("BILLXL_BUSY_TIMEOUT", "0.5")
        done = run("--ledger", ledger_file, "firm", "edit", "--name", "Renamed LLP",
                   cwd=tmp_path, ok=3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    said = " ".join(done.stderr.split())
    assert "The ledger is busy" in said and "more than 0.5 seconds" in said
    assert "Unexpected error" not in said and "Nothing was changed" in said
    assert Ledger.open(ledger_file).firm()["name"] == FIRM["name"]
