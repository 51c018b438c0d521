"""``billxl check FILE``: every problem of a readable file is a finding on its row, beside the
rules' findings; only a file that cannot be read as entries is refused. ``billxl import`` of the
same file still refuses it whole. Real processes, real files, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from billxl import schema
from tests.test_cli import run

HEADER = list(schema.CANONICAL_TIME_COLUMNS)
DATA = Path(__file__).parent / "data" / "pm_exports"


def entry(entry_id, *, date="2026-10-05", hours="1.5", rate="500", amount="750", task="L110",
          narrative="Draft motion to compel production of the defendant's emails") -> list:
    return [entry_id, date, "TK1", "Smith, Jane", "PARTNR", "M1", "C1", hours, rate, amount,
            task, "A101", narrative]


def write(path: Path, rows: list[list], header=HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


ROWS = [
    entry("A1"),                                                            # row 2: clean
    entry("A2", hours="-1.0", amount="-500",
          narrative="Correct time recorded on the motion to compel"),       # row 3
    entry("A3", hours="0", amount="0",
          narrative="Review the defendant's responses to interrogatories"),  # row 4
    entry("A4", task="L1100", narrative="Review the defendant's document production log"),
    entry("A5", date="2026-13-05", narrative="Prepare deposition outline for plant manager"),
    entry("A6", hours="", amount="", narrative="Analyze the plaintiff's expert report on damages"),
    entry("A7", hours="abc", narrative="Work on case"),                     # row 8
    entry("A8", narrative="Work on case"),                                  # row 9: VAGUE
    entry("A9", date="2026-10-09", hours="25", amount="12500",
          narrative="Attend trial and prepare witnesses for cross-examination"),  # row 10
]


def findings_of(done: subprocess.CompletedProcess) -> list[tuple]:
    return [(f["row"], f["rule"], f["severity"], f["entry_id"], f["field"])
            for f in json.loads(done.stdout)]


def test_row_problems_are_findings_beside_the_rules(tmp_path):
    path = write(tmp_path / "october.csv", ROWS)
    done = run("check", path, "--format", "json", cwd=tmp_path, ok=1)
    found = findings_of(done)
    assert (3, "NEGATIVE_HOURS", "error", "A2", "hours") in found
    assert (3, "INVALID_VALUE", "error", "A2", "amount") in found  # the row is still checked
    assert (4, "NEGATIVE_HOURS", "error", "A3", "hours") in found
    assert (5, "UTBMS_INVALID", "error", "A4", "task_code") in found
    assert (6, "ROW_UNREADABLE", "error", "A5", "date") in found
    assert (7, "NEGATIVE_HOURS", "error", "A6", "hours") in found
    assert (8, "ROW_UNREADABLE", "error", "A7", "hours") in found
    assert (9, "VAGUE", "warning", "A8", "narrative") in found
    assert (10, "DAILY_MAX", "error", "A9", "hours") in found
    # a row that cannot be read is not judged by the rules: its one finding is the cell
    assert [f for f in found if f[0] in (6, 8)] == [(6, "ROW_UNREADABLE", "error", "A5", "date"),
                                                    (8, "ROW_UNREADABLE", "error", "A7", "hours")]
    assert not [f for f in found if f[0] == 2 and f[2] == "error"]
    assert [f[0] for f in found] == sorted(f[0] for f in found)  # in row order
    by_row = {(f["row"], f["rule"]): f for f in json.loads(done.stdout)}
    assert by_row[(6, "ROW_UNREADABLE")]["message"] == "'2026-13-05' is not a date (expected YYYY-MM-DD)"
    assert by_row[(7, "NEGATIVE_HOURS")]["message"] == "Hours are missing"
    assert by_row[(3, "INVALID_VALUE")]["message"] == "The amount cannot be negative ('-500')"
    assert "2 row(s) could not be read" in run("check", path, cwd=tmp_path, ok=1).stderr

    # the import of the same file is still all or nothing
    run("init", cwd=tmp_path)
    refused = run("import", "time", path, cwd=tmp_path, ok=2)
    assert "nothing was imported" in refused.stderr


def test_a_clean_file_exits_0(tmp_path):
    done = run("check", write(tmp_path / "clean.csv", [ROWS[0]]), "--format", "json",
               cwd=tmp_path, ok=0)
    assert all(f["severity"] != "error" for f in json.loads(done.stdout))


@pytest.mark.parametrize(("content", "said"), [
    (None, "the column 'hours' is missing"),
    (b"PK\x03\x04 not really a workbook", "damaged or is not a spreadsheet"),
])
def test_only_a_file_that_is_not_entries_is_refused(tmp_path, content, said):
    path = tmp_path / "bad.csv"
    if content is None:  # no hours column at all
        write(path, [[v for i, v in enumerate(ROWS[0]) if i != 7]],
              header=[h for h in HEADER if h != "hours"])
    else:
        path = tmp_path / "bad.xlsx"
        path.write_bytes(content)
    done = run("check", path, cwd=tmp_path, ok=2)
    assert said in done.stderr


def test_a_rule_turned_off_leaves_its_problem_as_an_invalid_value(tmp_path):
    (tmp_path / "lax.yaml").write_text("disabled_rules: [NEGATIVE_HOURS]\n", encoding="utf-8")
    path = write(tmp_path / "october.csv", ROWS[:3])
    done = run("check", path, "--guidelines", "lax.yaml", "--format", "json", cwd=tmp_path, ok=1)
    found = findings_of(done)
    assert (3, "INVALID_VALUE", "error", "A2", "hours") in found
    assert (4, "INVALID_VALUE", "error", "A3", "hours") in found
    assert not [f for f in found if f[1] == "NEGATIVE_HOURS"]


def test_a_practice_management_export_with_bad_rows(tmp_path):
    lines = (DATA / "toggl_detailed_a.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(",03:30:00,", ",3.5 h,")
    lines[4] = lines[4].replace(",2026-10-02,", ",02/10/2026,", 1)
    path = tmp_path / "toggl.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run("check", path, "--profile", "toggl-detailed", "--format", "json", cwd=tmp_path, ok=1)
    findings = json.loads(done.stdout)
    unreadable = {(f["row"], f["field"]): f["message"] for f in findings
                  if f["rule"] == "ROW_UNREADABLE"}
    assert unreadable == {(2, "Duration"): "'3.5 h' is not a number",
                          (5, "Start date"): "'02/10/2026' is not a date (expected YYYY-MM-DD)"}
    # the readable rows are checked and keyed by their fingerprints
    others = [f for f in findings if f["rule"] != "ROW_UNREADABLE"]
    assert {f["row"] for f in others} <= {3, 4, 6}
    assert all(len(f["entry_id"]) > 20 for f in findings)


def test_a_months_findings_are_counted_by_rule_with_the_first_ones_shown(tmp_path):
    """Hundreds of findings: a table of each rule's count, the first 100 findings, and the
    command that lists every one (CSV, which is complete)."""
    rows = [entry(f"B{i}", narrative="Work on case") for i in range(130)]  # VAGUE, each
    rows += [entry(f"C{i}", hours="-1.0", amount="-500") for i in range(5)]  # NEGATIVE_HOURS
    path = write(tmp_path / "month.csv", rows)
    done = run("check", path, cwd=tmp_path, ok=1)
    out = done.stdout
    assert "Findings in month.csv, by rule" in out
    by_rule = [line for line in out.splitlines() if "VAGUE" in line and "warning" in line
               and "130" in line]
    assert by_rule, out[:2000]
    assert "The first 100 of " in out
    import re
    listed = re.findall(r"│ ([BC]\d+) +│", out)
    assert len(listed) == 100  # only the first findings, in row order
    assert listed == sorted(listed, key=lambda e: (e[0], int(e[1:])))
    assert f"billxl check {path} --format csv > findings.csv" in done.stderr.replace("\n", " ")
    every = run("check", path, "--format", "csv", cwd=tmp_path, ok=1).stdout.splitlines()
    counted = json.loads(run("check", path, "--format", "json", cwd=tmp_path, ok=1).stdout)
    assert len(every) == 1 + len(counted) > 1 + 130  # the CSV has them all
    assert f"{len(counted):,} findings" in out
