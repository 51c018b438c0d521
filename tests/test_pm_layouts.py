"""Practice-management layouts: the five shipped profiles on sample exports of each layout
(``tests/data/pm_exports/``), imported with the CLI into a real ledger on each backend, and the
profile settings they rest on (fingerprint keys, templates, patterns, number and date formats,
durations, timekeepers matched by user name, e-mail or full name).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from billxl import intake
from billxl.errors import InputError
from billxl.store import tables as t

DATA = Path(__file__).parent / "data" / "pm_exports"
BILLXL = [sys.executable, "-m", "billxl.cli"]
START = dt.date(2020, 1, 1)
PEOPLE = [("TK01", "Jane", "Smith", "PARTNR", "jane.smith@smithlee.example"),
          ("TK02", "Bob", "Lee", "ASSOC", "bob.lee@smithlee.example"),
          ("TK03", "Ana", "Ruiz", "PARLGL", "ana.ruiz@smithlee.example"),
          ("TK04", "María José", "O'Neill", "ASSOC", "mj.oneill@smithlee.example")]


def firm_frames(people=PEOPLE) -> dict[str, pd.DataFrame]:
    """The sample firm: four timekeepers, three clients (one with Juris-style codes)."""
    offices = pd.DataFrame([{"office_id": "NY", "name": "New York", "currency": "USD"}])
    timekeepers = pd.DataFrame([{"timekeeper_id": i, "first_name": f, "last_name": last,
                                 "user_name": f"{f} {last}", "email": email,
                                 "classification": c, "office_id": "NY", "active_from": START}
                                for i, f, last, c, email in people])
    clients = pd.DataFrame([{"client_id": c, "name": name, "currency": "USD"} for c, name in
                            (("C0001", "Acme Corp"), ("C0002", "Northwind Traders"),
                             ("0100", "Fabrikam Inc"))])
    matters = pd.DataFrame([{"matter_id": m, "client_id": m.split("-")[0], "name": name,
                             "opened_on": START, "billing_partner_id": "TK01"}
                            for m, name in (("C0001-0003", "Acme v. Beta Industries"),
                                            ("C0001-0004", "Acme lease renewal"),
                                            ("C0002-0001", "Northwind acquisition of Contoso"),
                                            ("0100-00001", "Fabrikam product liability"),
                                            ("0100-00002", "Fabrikam warranty claims"))])
    return {"offices": offices, "timekeepers": timekeepers, "clients": clients,
            "matters": matters}


@pytest.fixture
def ledger(empty_ledger):
    empty_ledger.load_reference(firm_frames(), actor="test")
    return empty_ledger


@pytest.fixture
def reference() -> intake.Reference:
    return intake.Reference.from_frames(firm_frames())


def billxl(ledger_url: str, *args, cwd: Path, ok: int | None = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "BILLXL_USER": "test.secretary"}
    env.pop("BILLXL_LEDGER", None)
    done = subprocess.run([*BILLXL, "--ledger", ledger_url, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)
    if ok is not None:
        assert done.returncode == ok, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def import_time(ledger_url: str, path: Path, profile: str, cwd: Path) -> str:
    """``billxl import time PATH --profile PROFILE``; what it printed."""
    return billxl(ledger_url, "import", "time", path, "--profile", profile, cwd=cwd).stdout


def time_of(ledger) -> pd.DataFrame:
    return ledger.time_entries().sort_values(["work_date", "timekeeper_id", "narrative"],
                                             kind="stable").reset_index(drop=True)


def reordered(source: Path, target: Path) -> Path:
    """The same export with its data rows in reverse order (the header stays first)."""
    lines = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    target.write_text(lines[0] + "".join(reversed(lines[1:])), encoding="utf-8")
    return target


# --------------------------------------------------------------------------- the five layouts
#: profile -> (sample stem, what to import, time entries in a, new time entries in b)
LAYOUTS = {
    "clio-activities": ("clio_activities", "time", 6, 2),
    "harvest-import": ("harvest_import", "time", 6, 2),
    "harvest-detailed": ("harvest_detailed", "time", 6, 2),
    "toggl-detailed": ("toggl_detailed", "time", 5, 2),
    "juris-time": ("juris_time", "time", 6, 2),
}


@pytest.mark.parametrize("profile", list(LAYOUTS))
def test_layout_imports_once_and_then_only_what_is_new(profile, ledger, ledger_url, tmp_path):
    stem, kind, first, added = LAYOUTS[profile]
    a, b = DATA / f"{stem}_a.csv", DATA / f"{stem}_b.csv"

    done = billxl(ledger_url, "import", kind, a, "--profile", profile, cwd=tmp_path)
    assert f"{first} read, {first} new, 0 changed" in done.stdout
    stored = time_of(ledger)
    assert len(stored) == first
    assert stored["source"].unique().tolist() == [intake.load_profile(profile).source]
    assert stored["entry_id"].str.fullmatch(r"[0-9a-f]{20}-\d+").all()
    assert (stored["entry_id"] == stored["source_key"]).all()

    again = billxl(ledger_url, "import", kind, a, "--profile", profile, cwd=tmp_path)
    assert f"{first} read, 0 new, 0 changed, {first} already in the ledger" in again.stdout
    shuffled = billxl(ledger_url, "import", kind, reordered(a, tmp_path / "reordered.csv"),
                      "--profile", profile, cwd=tmp_path)
    assert f"{first} read, 0 new, 0 changed" in shuffled.stdout

    later = billxl(ledger_url, "import", kind, b, "--profile", profile, cwd=tmp_path)
    in_b = len(intake.read_entries(b, "time", profile, reference=intake.Reference.from_frames(
        firm_frames())).frames["time"])
    assert f"{in_b} read, {added} new, 0 changed, {in_b - added} already in the ledger" in later.stdout
    after = time_of(ledger)
    assert len(after) == first + added
    assert set(stored["entry_id"]) < set(after["entry_id"])  # nothing rewritten
    assert ledger.count(t.import_batches) == 4


def test_clio_mixes_time_and_expenses_and_blank_type_is_time(ledger, ledger_url, tmp_path):
    a = DATA / "clio_activities_a.csv"
    done = import_time(ledger_url, a, "clio-activities", tmp_path)
    assert "2 expenses in the file were not imported" in done
    done = billxl(ledger_url, "import", "all", a, "--profile", "clio-activities", cwd=tmp_path)
    assert "time entries: 6 read, 0 new" in done.stdout and "expenses: 2 read, 2 new" in done.stdout
    done = billxl(ledger_url, "import", "all", DATA / "clio_activities_b.csv", "--profile",
                  "clio-activities", cwd=tmp_path)
    assert "time entries: 5 read, 2 new" in done.stdout and "expenses: 2 read, 1 new" in done.stdout

    entries = time_of(ledger).set_index("narrative")
    research = entries.loc["Research case law on implied warranty of merchantability for motion in limine"]
    assert (research["timekeeper_id"], research["matter_id"], research["hours_milli"],
            research["rate_minor"], research["work_date"]) == \
        ("TK01", "C0001-0003", 2500, 45000, pd.Timestamp("2026-10-01"))
    assert not entries.loc["Firm training on new document management system", "billable"]
    assert entries["billable"].sum() == len(entries) - 1
    expenses = ledger.expenses().set_index("narrative")
    copies = expenses.loc["Copies of deposition exhibits (320 pages)"]
    assert (copies["quantity_milli"], copies["unit_cost_minor"], copies["amount_minor"],
            copies["timekeeper_id"]) == (320_000, 15, 4800, "TK03")
    assert len(expenses) == 3


def test_clio_day_first_variant_is_three_lines(reference, tmp_path):
    variant = tmp_path / "clio_uk.yaml"
    variant.write_text("extends: clio-activities\nname: clio-uk\nday_first: true\n", encoding="utf-8")
    profile = intake.load_profile(variant)
    assert (profile.name, profile.source, profile.dates) == ("clio-uk", "clio", ("%d/%m/%Y",))
    assert profile.time.columns.timekeeper == "activity_user"  # the rest as the shipped one
    text = (DATA / "clio_activities_a.csv").read_text(encoding="utf-8")
    day_first = tmp_path / "clio_uk.csv"
    day_first.write_text(text.replace("10/01/2026", "01/10/2026").replace("10/02/2026", "02/10/2026")
                         .replace("10/05/2026", "05/10/2026").replace("10/06/2026", "06/10/2026"),
                         encoding="utf-8")
    frame = intake.read_entries(day_first, "time", profile, reference=reference).frames["time"]
    us = intake.read_entries(DATA / "clio_activities_a.csv", "time", "clio-activities",
                             reference=reference).frames["time"]
    assert frame["work_date"].tolist() == us["work_date"].tolist()
    assert frame["entry_id"].tolist() == us["entry_id"].tolist()  # the same entries, the same keys


def test_harvest_detailed_as_xlsx_is_the_csv_entries(ledger, ledger_url, tmp_path):
    """The detailed report saved as XLSX (typed cells: dates, numbers) gives the same entries
    and keys as its CSV."""
    with (DATA / "harvest_detailed_a.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    path = tmp_path / "harvest_detailed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Detailed Time")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, rows[0])
    numeric = {rows[0].index(h) for h in ("Hours", "Hours Rounded", "Billable Rate",
                                          "Billable Amount", "Cost Rate", "Cost Amount")}
    for r, row in enumerate(rows[1:], start=1):
        for c, value in enumerate(row):
            if c == 0:
                sheet.write_datetime(r, c, dt.datetime.fromisoformat(value), date_format)
            elif c in numeric:
                sheet.write_number(r, c, float(value))
            elif value:
                sheet.write_string(r, c, value)
    book.close()
    assert "6 read, 6 new" in import_time(ledger_url, path, "harvest-detailed", tmp_path)
    assert "6 read, 0 new, 0 changed, 6 already in the ledger" in import_time(
        ledger_url, DATA / "harvest_detailed_a.csv", "harvest-detailed", tmp_path)
    entries = time_of(ledger)
    admin = entries.set_index("narrative").loc["Update matter budget tracker"]
    assert (admin["timekeeper_id"], admin["matter_id"], admin["hours_milli"], admin["billable"]) == \
        ("TK03", "C0002-0001", 300, False)
    assert entries.set_index("narrative").loc["Draft interrogatories to defendant", "amount_minor"] == 61875


def test_harvest_names_match_whatever_their_case_and_blanks(reference):
    frame = intake.read_entries(DATA / "harvest_import_a.csv", "time", "harvest-import",
                                reference=reference).frames["time"]
    by_text = frame.set_index("narrative")
    assert by_text.loc["Review landlord's proposed lease amendment", "timekeeper_id"] == "TK01"  # jane SMITH
    assert by_text.loc["Review and code defendant's document production (batch 4)",
                       "timekeeper_id"] == "TK03"  # 'Ana ' ' Ruiz'
    assert by_text.loc["Prepare due diligence request list for target's IP portfolio",
                       ["timekeeper_id", "matter_id"]].tolist() == ["TK04", "C0002-0001"]
    assert by_text.loc["Review landlord's proposed lease amendment", "work_date"] == pd.Timestamp("2026-10-02")


def test_two_timekeepers_of_one_name_are_an_error_naming_both(tmp_path):
    people = [*PEOPLE, ("TK09", "Jane", "Smith", "ASSOC", "jane.smith2@smithlee.example")]
    reference = intake.Reference.from_frames(firm_frames(people))
    with pytest.raises(InputError) as caught:
        intake.read_entries(DATA / "harvest_import_a.csv", "time", "harvest-import", reference=reference)
    rows = {(p.row, p.column, p.value): p.reason for p in caught.value.problems}
    assert set(rows) == {(2, "{First name} {Last name}", "Jane Smith"),
                         (4, "{First name} {Last name}", "jane SMITH"),
                         (6, "{First name} {Last name}", "Jane Smith")}
    assert rows[(2, "{First name} {Last name}", "Jane Smith")].startswith(
        "more than one timekeeper has this name (first and last name) (TK01, TK09)")
    # matched by e-mail, the same two people are told apart
    toggl = intake.read_entries(DATA / "toggl_detailed_a.csv", "time", "toggl-detailed",
                                reference=reference).frames["time"]
    assert "TK09" not in set(toggl["timekeeper_id"])


def test_toggl_durations_email_and_identical_entries(ledger, ledger_url, tmp_path):
    toggl = DATA / "toggl_detailed_a.csv"
    assert "5 read, 5 new" in import_time(ledger_url, toggl, "toggl-detailed", tmp_path)
    entries = time_of(ledger)
    calls = entries[entries["narrative"] == "Telephone call with client re: status of discovery"]
    # two identical entries (12 minutes each, the same day): two entries, told apart by occurrence
    assert len(calls) == 2 and calls["timekeeper_id"].tolist() == ["TK02", "TK02"]  # e-mail case ignored
    assert calls["hours_milli"].tolist() == [200, 200]
    assert sorted(k.rsplit("-", 1)[1] for k in calls["entry_id"]) == ["1", "2"]
    assert len({k.rsplit("-", 1)[0] for k in calls["entry_id"]}) == 1
    by_text = entries.set_index("narrative")
    assert by_text.loc["Prepare for and attend deposition of plant manager", "hours_milli"] == 3500
    # 00:37:23 is 2,243 seconds: 0.62305... hours, to the nearest thousandth
    assert by_text.loc["Negotiate rent escalation clause with landlord's counsel", "hours_milli"] == 623
    assert not by_text.loc["Assemble closing binders", "billable"]
    assert by_text.loc["Assemble closing binders", "matter_id"] == "C0002-0001"
    assert "5 read, 0 new" in import_time(ledger_url, toggl, "toggl-detailed", tmp_path)
    assert len(time_of(ledger)) == 5


def test_juris_client_and_matter_codes_dates_and_identical_rows(ledger, ledger_url, tmp_path):
    juris = DATA / "juris_time_a.csv"
    assert "6 read, 6 new" in import_time(ledger_url, juris, "juris-time", tmp_path)
    entries = time_of(ledger)
    hold = entries[entries["narrative"] == "Telephone conference with client re: litigation hold"]
    assert len(hold) == 2 and set(hold["matter_id"]) == {"0100-00002"}  # two identical rows
    assert set(hold["work_date"]) == {pd.Timestamp("2026-10-02")}  # 10/02/26
    by_text = entries.set_index("narrative")
    organise = by_text.loc["Organize correspondence file"]
    assert (organise["work_date"], organise["billable"], organise["hours_milli"],
            organise["task_code"], organise["activity_code"]) == \
        (pd.Timestamp("2026-10-05"), False, 1000, "L140", "A110")  # 20261005; HoursWork, not HoursBill
    assert by_text.loc["Research statute of limitations for breach of warranty claim",
                       "hours_milli"] == 1200
    assert "6 read, 0 new" in import_time(ledger_url, juris, "juris-time", tmp_path)
    assert len(time_of(ledger)) == 6


def test_juris_headers_in_any_case_and_order_and_only_the_required_ones(reference, tmp_path):
    path = tmp_path / "juris_min.csv"
    path.write_text("NARRATIVE,hourswork,matter,client,timekeeper,date\n"
                    "Meeting with client,5.0,00001,0100,tk01,01/15/2026\n", encoding="utf-8")
    frame = intake.read_entries(path, "time", "juris-time", reference=reference).frames["time"]
    assert frame[["timekeeper_id", "matter_id", "hours_milli"]].iloc[0].tolist() == \
        ["TK01", "0100-00001", 5000]
    assert frame["billable"].tolist() == [True]


def test_an_edited_narrative_is_a_new_entry_and_reconcile_sources_shows_the_old_one(
        ledger, ledger_url, tmp_path):
    a = DATA / "harvest_import_a.csv"
    import_time(ledger_url, a, "harvest-import", tmp_path)
    edited = tmp_path / "edited.csv"
    edited.write_text(a.read_text(encoding="utf-8").replace(
        "Draft interrogatories to defendant", "Draft first set of interrogatories to defendant"),
        encoding="utf-8")
    done = import_time(ledger_url, edited, "harvest-import", tmp_path)
    assert "6 read, 1 new, 0 changed, 5 already in the ledger" in done
    compared = billxl(ledger_url, "reconcile-sources", edited, "ledger", "--profile-a",
                      "harvest-import", "--format", "csv", cwd=tmp_path, ok=1)
    diff = pd.read_csv(io.StringIO(compared.stdout))
    assert diff[["status", "timekeeper_id"]].values.tolist() == [["extra", "TK02"]]


# --------------------------------------------------------------------------- the settings
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def profile_file(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "mine.yaml", text)


JURIS_HEAD = "Date,Timekeeper,Client,Matter,HoursWork,Rate,Narrative\n"


def reasons(error: InputError) -> dict[tuple, str]:
    return {(p.row, p.column, p.value): p.reason for p in error.problems}


def test_a_value_that_needs_a_setting_says_which(reference, tmp_path):
    path = write(tmp_path / "j.csv", JURIS_HEAD
                 + "10/01/2026,TK01,0100,00001,\"1,5\",450,Review file\n"
                 + "13/10/2026,TK01,0100,00001,1.5,450,Review file\n"
                 + "10/02/2026,TK01,0100,00001,1:30,450,Review file\n"
                 + "10/02/2026,TK01,0100,00001,2.0,1 250.00,Review file\n"
                 + "10/02/2026,TK01,0100,00001,2.0,\"1.250,00\",Review file\n")
    with pytest.raises(InputError) as caught:
        intake.read_entries(path, "time", "juris-time", reference=reference)
    assert reasons(caught.value) == {
        (2, "HoursWork", "1,5"): "is not a number; if this export writes decimal commas, set "
                                 "`decimal_comma: true` in the profile",
        (3, "Date", "13/10/2026"): "is not a date (expected MM/DD/YYYY or MM/DD/YY or YYYYMMDD); "
                                   "if the export writes day-first dates, set `day_first: true` "
                                   "in the profile",
        (4, "HoursWork", "1:30"): "is not a number; if this export writes hours as durations "
                                  "(h:mm or h:mm:ss), set `durations: true` in the profile",
        (5, "Rate", "1 250.00"): "is not an amount; if this export separates thousands with "
                                 "spaces, set `thousands_separator: \" \"` in the profile",
        (6, "Rate", "1.250,00"): "is not an amount; if this export writes decimal commas, set "
                                 "`decimal_comma: true` in the profile",
    }


def test_the_settings_read_what_they_say(reference, tmp_path):
    variant = profile_file(tmp_path, "extends: juris-time\nname: juris-eu\ndecimal_comma: true\n"
                                     "day_first: true\ndurations: true\n")
    path = write(tmp_path / "j.csv", JURIS_HEAD
                 + "01/10/2026,TK01,0100,00001,\"1,5\",\"1.250,50\",Review file\n"
                 + "13/10/26,TK01,0100,00001,1:30,450,Review file again\n"
                 + "14/10/2026,TK01,0100,00001,01:06:00,\"450,00\",Review file once more\n")
    frame = intake.read_entries(path, "time", variant, reference=reference).frames["time"]
    assert frame["hours_milli"].tolist() == [1500, 1500, 1100]
    assert frame["rate_minor"].tolist() == [125050, 45000, 45000]
    assert [d.date().isoformat() for d in frame["work_date"]] == ["2026-10-01", "2026-10-13", "2026-10-14"]
    # and in a decimal-comma profile a decimal point is the error, with the way back
    bad = write(tmp_path / "k.csv", JURIS_HEAD + "01/10/2026,TK01,0100,00001,1.5,450,Review\n"
                + "10/13/2026,TK01,0100,00001,\"1,5\",450,Review\n")
    with pytest.raises(InputError) as caught:
        intake.read_entries(bad, "time", variant, reference=reference)
    assert reasons(caught.value) == {
        (2, "HoursWork", "1.5"): "is not a number; if this export writes decimal points, set "
                                 "`decimal_comma: false` in the profile",
        (3, "Date", "10/13/2026"): "is not a date (expected DD/MM/YYYY or DD/MM/YY or YYYYMMDD); "
                                   "if the export writes the month first, set `day_first: false` "
                                   "in the profile",
    }
    spaced = profile_file(tmp_path, "extends: juris-time\nname: juris-ch\nthousands_separator: \"'\"\n")
    ch = write(tmp_path / "ch.csv", JURIS_HEAD + "10/01/2026,TK01,0100,00001,1.5,\"1'250.50\",Review\n")
    assert intake.read_entries(ch, "time", spaced, reference=reference).frames["time"][
        "rate_minor"].tolist() == [125050]


def test_templates_and_patterns(reference, tmp_path):
    mine = profile_file(tmp_path, """
name: mine
source: mine
date_formats: ["%Y-%m-%d"]
timekeeper_lookup: full_name
patterns:
  task_code: '^(?P<value>[A-Z]\\d{3})\\b'
  matter: '^(C\\d{4}-\\d{4})$'
time:
  columns:
    date: Day
    timekeeper: "{Given} {Surname}"
    matter: "{Client}-{Matter}"
    hours: Hours
    task_code: Task
  optional: [task_code]
""")
    path = write(tmp_path / "t.csv", "Day,Given,Surname,Client,Matter,Hours,Task\n"
                 "2026-10-01,Jane,Smith,C0001,0003,1.0,L110 Case assessment\n"
                 "2026-10-01,Jane,Smith,C0001,0003,1.0,Case assessment\n"
                 "2026-10-01,,,C0001,0003,1.0,\n"
                 "2026-10-01,Jane,Smith,C0001,x3,1.0,\n")
    with pytest.raises(InputError) as caught:
        intake.read_entries(path, "time", mine, reference=reference)
    assert reasons(caught.value) == {
        (3, "Task", "Case assessment"): "the profile's pattern for task_code finds nothing in this cell",
        (4, "{Given} {Surname}", None): "the timekeeper is missing",
        (5, "{Client}-{Matter}", "C0001-x3"): "no matter number found in this cell",
    }
    path = write(tmp_path / "t.csv", "Day,Given,Surname,Client,Matter,Hours,Task\n"
                 "2026-10-01,Jane,Smith,C0001,0003,1.0,L110 Case assessment\n")
    frame = intake.read_entries(path, "time", mine, reference=reference).frames["time"]
    assert frame[["timekeeper_id", "matter_id", "task_code"]].iloc[0].tolist() == \
        ["TK01", "C0001-0003", "L110"]
    # a column a template names is missing: the header is named
    gone = write(tmp_path / "g.csv", "Day,Given,Surname,Client,Hours\n2026-10-01,Jane,Smith,C0001,1\n")
    with pytest.raises(InputError) as caught:
        intake.read_entries(gone, "time", mine, reference=reference)
    assert [(p.column, p.reason.split(";")[0]) for p in caught.value.problems] == \
        [("Matter", "the column 'Matter' is missing (profile 'mine' needs it)")]
    # a template whose braces do not close is neither
    with pytest.raises(InputError, match="is neither a header nor a template"):
        intake.load_profile(profile_file(tmp_path, mine.read_text(encoding="utf-8").replace(
            '"{Client}-{Matter}"', '"{Client-Matter"')))


def test_a_matter_found_by_pattern_shows_the_whole_cell(reference, tmp_path):
    path = write(tmp_path / "t.csv", "User,Email,Client,Project,Task,Description,Billable,"
                 "Start date,Start time,End date,End time,Duration,Tags,Amount (USD)\n"
                 "Jane Smith,jane.smith@smithlee.example,Acme,   ,,Call,Yes,2026-10-01,09:00:00,"
                 "2026-10-01,09:06:00,00:06:00,,\n"
                 "Jane Smith,jane.smith@smithlee.example,Acme,Acme general,,Call,Yes,2026-10-01,"
                 "09:00:00,2026-10-01,09:06:00,00:06:00,,\n")
    with pytest.raises(InputError) as caught:
        intake.read_entries(path, "time", "toggl-detailed", reference=reference)
    assert reasons(caught.value) == {
        (2, "Project", None): "the matter is missing",
        (3, "Project", "Acme general"): "no matter with this number in the ledger",
    }


def test_fingerprint_settings(reference, tmp_path):
    base = "name: x\nsource: x\ntime:\n  columns:\n    date: d\n    timekeeper: t\n    matter: m\n    hours: h\n"
    with pytest.raises(InputError, match="either an entry_id column or a fingerprint"):
        intake.load_profile(profile_file(tmp_path, base + "    entry_id: id\n  fingerprint: [date]\n"))
    with pytest.raises(InputError, match="fingerprint names 'narrative', but no column is given"):
        intake.load_profile(profile_file(tmp_path, base + "  fingerprint: [date, narrative]\n"))
    with pytest.raises(InputError, match="fingerprint names 'Start', which is not a field"):
        intake.load_profile(profile_file(tmp_path, base + "  fingerprint: [date, Start]\n"))
    with pytest.raises(InputError, match="'entry_id' cannot be optional"):
        intake.load_profile(profile_file(tmp_path, base + "    entry_id: id\n  optional: [entry_id]\n"))
    # a column of the file in the fingerprint: required, and it tells identical entries apart
    prof = intake.load_profile(profile_file(
        tmp_path, base + "  fingerprint: [date, timekeeper, matter, hours, '{Start}']\n"))
    path = write(tmp_path / "s.csv", "d,t,m,h,Start\n2026-10-01,TK01,C0001-0003,1,09:00\n"
                 "2026-10-01,TK01,C0001-0003,1,14:00\n")
    keys = intake.read_entries(path, "time", prof, reference=reference).frames["time"]["entry_id"]
    assert [k.rsplit("-", 1)[1] for k in keys] == ["1", "1"] and keys.nunique() == 2
    no_start = write(tmp_path / "n.csv", "d,t,m,h\n2026-10-01,TK01,C0001-0003,1\n")
    with pytest.raises(InputError, match="the column 'Start' is missing"):
        intake.read_entries(no_start, "time", prof, reference=reference)


def test_fingerprint_keys_ignore_order_format_and_blanks_but_not_content(reference, tmp_path):
    head = "Date,Timekeeper,Client,Matter,HoursWork,Rate,Narrative\n"
    rows = ["10/01/2026,TK01,0100,00001,1.5,450,Review file",
            "10/01/2026,TK01,0100,00001,1.5,500,Review file",  # same fingerprint, other rate
            "10/02/2026,TK02,0100,00002,0.3,275,Call with client"]

    def keys(lines: list[str]) -> list[str]:
        path = write(tmp_path / "k.csv", head + "\n".join(lines) + "\n")
        frame = intake.read_entries(path, "time", "juris-time", reference=reference).frames["time"]
        return sorted(zip(frame["entry_id"], frame["rate_minor"], strict=True))

    first = keys(rows)
    assert len({k for k, _ in first}) == 3
    assert keys(list(reversed(rows))) == first  # each key keeps its rate, in any order
    assert keys(["20261001,tk01,0100,00001,1.50,450,Review file",  # the formats of values
                 "10/01/26,TK01,0100,00001,1.500,500,Review file",
                 "10/02/2026,TK02,0100,00002,0.3,275,call  with CLIENT "]) == first  # case, blanks
    edited = keys([rows[0], rows[1], "10/02/2026,TK02,0100,00002,0.4,275,Call with client"])
    assert edited[:2] == first[:2] and edited[2] != first[2]


def test_fingerprint_definition_is_stable():
    """The key is a documented function of the values: pinned, since a change would make every
    entry of every earlier export new again."""
    frame = pd.DataFrame({"work_date": pd.to_datetime(["2026-10-01"]), "timekeeper_id": ["TK01"],
                          "matter_id": ["C0001-0003"], "hours_milli": np.array([1500]),
                          "narrative": ["Review  File"]})
    keys = intake.fingerprint_keys(frame, "time", ("date", "timekeeper", "matter", "hours",
                                                   "narrative"), lambda name: None)
    import hashlib

    text = "date,timekeeper,matter,hours,narrative\x1e2026-10-01\x1fTK01\x1fC0001-0003\x1f1500\x1freview file"
    assert keys.tolist() == [hashlib.blake2b(text.encode(), digest_size=10).hexdigest() + "-1"]


def test_blank_type_is_listed_as_blank_in_problems(reference, tmp_path):
    text = (DATA / "clio_activities_a.csv").read_text(encoding="utf-8")
    path = write(tmp_path / "c.csv", text.replace(",ExpenseEntry,Ana Ruiz", ",Expense,Ana Ruiz", 1))
    with pytest.raises(InputError) as caught:
        intake.read_entries(path, "all", "clio-activities", reference=reference)
    assert reasons(caught.value) == {
        (5, "type", "Expense"): "is not a type this profile knows; expected one of: (blank), ExpenseEntry"}


def test_check_without_a_ledger_reads_every_layout(tmp_path):
    for profile, (stem, _kind, first, _added) in LAYOUTS.items():
        checked = intake.read_entries(DATA / f"{stem}_a.csv", "time", profile)
        assert len(checked.frames["time"]) == first, profile
