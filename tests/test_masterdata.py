"""A firm's own master data: timekeepers, clients, matters and rates from files and one at a
time, with the firm's guideline folder in the ledger's settings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from billxl import (
    InputError,
    RateBook,
    Reference,
    close_master_record,
    firm_settings,
    import_master,
    reconcile_month,
    save_master_record,
    set_firm_settings,
)
from billxl.store import tables as t

TIMEKEEPERS = """timekeeper_id,first_name,last_name,classification,office_id,user_name,email,active_from,active_to
TK1,Ada,Lovelace,PARTNR,NY,Ada Lovelace,Ada@Firm.example,2020-01-01,
TK2,Grace,Hopper,ASSOC,NY,ghopper,grace@firm.example,2021-03-01,
TK3,Alan,Turing,PARLGL,LDN,,,2022-05-01,
"""
CLIENTS = """client_id,name,currency,address,payment_terms_days,tax_jurisdiction,portal,guideline_set
C1,Acme Corp,usd,"1 Main St
Springfield IL 62701",30,US-IL,legaltracker,acme
C2,Widgets Ltd,GBP,,45,GB,,
"""
MATTERS = """matter_id,client_id,name,opened_on,closed_on,billing_partner_id,arrangement,client_matter_ref,utbms_required
C1-001,C1,Acme v. Roadrunner,2026-01-05,,TK1,hourly,LIT-77,yes
C2-001,C2,Supply agreement,2026-02-01,,TK1,fixed,,no
"""
RATES = """timekeeper_id,classification,client_id,matter_id,rate,currency,effective_from,effective_to,approved
TK1,,,,950.00,USD,2026-01-01,,
,ASSOC,,,550,USD,2026-01-01,,
TK1,,C1,,900,USD,2026-01-01,,yes
,PARLGL,,,250.00,GBP,2026-01-01,,
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_all(ledger, folder: Path) -> dict[str, str]:
    out = {}
    for kind, text in (("timekeepers", TIMEKEEPERS), ("clients", CLIENTS), ("matters", MATTERS),
                       ("rates", RATES)):
        out[kind] = import_master(ledger, kind, write(folder, f"{kind}.csv", text)).summary()
    return out


def count(ledger, table) -> int:
    return ledger.count(table)


def audits(ledger, table: str) -> list[tuple]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.row_key,
                                      t.audit_log.c.before, t.audit_log.c.after)
                            .where(t.audit_log.c.table_name == table)
                            .order_by(t.audit_log.c.audit_id)).all()
    return [(a, k, b if not isinstance(b, str) else json.loads(b),
             x if not isinstance(x, str) else json.loads(x)) for a, k, b, x in rows]


def test_import_all_four_then_again_changes_nothing(empty_ledger, tmp_path):
    first = load_all(empty_ledger, tmp_path)
    assert first == {"timekeepers": "Timekeepers: 3 new, 0 changed, 0 unchanged.",
                     "clients": "Clients: 2 new, 0 changed, 0 unchanged.",
                     "matters": "Matters: 2 new, 0 changed, 0 unchanged.",
                     "rates": "Rates: 4 new, 0 changed, 0 unchanged."}
    ref = Reference.from_ledger(empty_ledger)
    acme = ref.client("C1")
    assert (acme["currency"], acme["address_1"], acme["address_2"]) == (
        "USD", "1 Main St", "Springfield IL 62701")
    assert acme["ebilling_portal"] == "legaltracker" and acme["payment_terms_days"] == 30
    matter = ref.matter("C1-001")
    assert matter["client_matter_id"] == "LIT-77" and bool(matter["utbms_required"]) is True
    tk = ref.timekeepers.set_index("timekeeper_id")
    assert tk.loc["TK1", "email"] == "Ada@firm.example"  # the domain is case-free
    assert set(ref.offices["office_id"]) == {"NY", "LDN"}  # offices named by timekeepers
    kinds = dict(zip(ref.rates["rate_minor"], ref.rates["kind"], strict=True))
    assert kinds == {95000: "standard", 55000: "standard", 90000: "approved", 25000: "standard"}
    audited = len(audits(empty_ledger, "rates"))

    again = load_all(empty_ledger, tmp_path)
    assert again["timekeepers"] == "Timekeepers: 0 new, 0 changed, 3 unchanged."
    assert again["clients"] == "Clients: 0 new, 0 changed, 2 unchanged."
    assert again["rates"] == "Rates: 0 new, 0 changed, 4 unchanged."
    assert count(empty_ledger, t.rates) == 4 and len(audits(empty_ledger, "rates")) == audited


def test_a_changed_record_is_updated_and_audited_and_a_missing_one_kept(empty_ledger, tmp_path):
    load_all(empty_ledger, tmp_path)
    changed = CLIENTS.replace("Widgets Ltd,GBP,,45", "Widgets Limited,GBP,,60")
    only_c2 = "\n".join(changed.splitlines()[:1] + changed.splitlines()[-1:]) + "\n"
    result = import_master(empty_ledger, "clients", write(tmp_path, "c2.csv", only_c2))
    assert result.summary() == ("Clients: 0 new, 1 changed, 0 unchanged; 1 in the ledger but "
                                "not in the file, kept.")
    assert count(empty_ledger, t.clients) == 2
    update = [a for a in audits(empty_ledger, "clients") if a[0] == "update"]
    assert update == [("update", "C2", {"name": "Widgets Ltd", "payment_terms_days": 45},
                       {"name": "Widgets Limited", "payment_terms_days": 60})]


def test_one_bad_row_imports_nothing_and_every_problem_is_named(empty_ledger, tmp_path):
    import_master(empty_ledger, "timekeepers", write(tmp_path, "tk.csv", TIMEKEEPERS))
    bad = TIMEKEEPERS + ("TK4,Bob,Boss,BOSS,NY,,bob@,2023-01-01,2022-01-01\n"
                         "TK5,Ann,Other,ASSOC,NY,ghopper,,2023-13-01,\n"
                         "TK1,Ada,Again,PARTNR,NY,,,2020-01-01,\n")
    with pytest.raises(InputError) as caught:
        import_master(empty_ledger, "timekeepers", write(tmp_path, "bad.csv", bad))
    found = {(p.row, p.column): p.reason for p in caught.value.problems}
    assert found[(5, "classification")].startswith("is not one of PARTNR")
    assert found[(5, "email")].startswith("is not an e-mail address")
    assert found[(5, "active_to")] == "is before active from (2023-01-01)"
    assert found[(6, "user_name")] == "is already timekeeper TK2's"
    assert found[(6, "active_from")] == "is not a date (expected YYYY-MM-DD)"
    assert found[(7, "timekeeper_id")] == "the same timekeeper as row 2"
    values = {(p.row, p.column): p.value for p in caught.value.problems}
    assert values[(7, "timekeeper_id")] == "TK1"  # the repeated id is shown, not a blank
    assert count(empty_ledger, t.timekeepers) == 3  # nothing of the bad file


def test_references_and_partners_are_checked(empty_ledger, tmp_path):
    load_all(empty_ledger, tmp_path)
    matters = MATTERS + ("C9-001,C9,Nobody's,2026-01-01,,TK1,hourly,,no\n"
                         "C1-002,C1,By an associate,2026-01-01,,TK2,hourly,,no\n"
                         "C1-003,C1,Backwards,2026-05-01,2026-04-01,TK1,barter,,maybe\n")
    with pytest.raises(InputError) as caught:
        import_master(empty_ledger, "matters", write(tmp_path, "m.csv", matters))
    found = {(p.row, p.column): p.reason for p in caught.value.problems}
    assert found == {
        (4, "client_id"): "no client with this id (import clients first)",
        (5, "billing_partner_id"): "is not a partner (classification ASSOC)",
        (6, "closed_on"): "is before opened on (2026-05-01)",
        (6, "arrangement"): "is not one of hourly, fixed, capped, retainer, milestone, contingency",
        (6, "utbms_required"): "is not yes or no",
    }
    rates = RATES + (",,C1,,100,USD,2026-01-01,,\n"
                     "TK2,,C2,C1-001,100,USD,2026-01-01,,\n"
                     "TK2,,,,100,USD,2026-01-01,,yes\n"
                     "TK2,,C2,,100.005,GBP,2026-01-01,,\n"
                     "TK2,,C2,,100,USD,2026-01-01,,\n"
                     "TK2,,,,100,XYZ,2026-01-01,,\n")
    with pytest.raises(InputError) as caught:
        import_master(empty_ledger, "rates", write(tmp_path, "r.csv", rates))
    found = {(p.row, p.column): p.reason for p in caught.value.problems}
    assert found == {
        (6, "timekeeper_id"): "a rate needs a timekeeper id or a classification",
        (7, "matter_id"): "belongs to client C1, not C2",
        (7, "currency"): "client C2 is billed in GBP",
        (8, "approved"): "an approved rate is a client's: give the client or the matter",
        (9, "rate"): "has more than 2 decimal places for GBP",
        (10, "currency"): "client C2 is billed in GBP",
        (11, "currency"): "is not an ISO 4217 currency code (such as USD, GBP, EUR)",
    }


def test_rates_are_effective_dated(empty_ledger, tmp_path):
    load_all(empty_ledger, tmp_path)
    later = RATES + "TK1,,,,1000.00,USD,2027-01-01,,\n"
    result = import_master(empty_ledger, "rates", write(tmp_path, "r2.csv", later))
    assert (result.new, result.changed) == (1, 0)
    ref = Reference.from_ledger(empty_ledger)
    book = RateBook(ref.rates, ref.timekeepers, ref.matters)
    assert book.standard("TK1", date(2026, 12, 31)) == 95000
    assert book.standard("TK1", date(2027, 1, 1)) == 100000
    assert book.approved("TK1", "C1-001", date(2026, 6, 1)) == 90000
    corrected = later.replace("1000.00,USD,2027-01-01", "1010.00,USD,2027-01-01")
    result = import_master(empty_ledger, "rates", write(tmp_path, "r3.csv", corrected))
    assert (result.new, result.changed) == (0, 1)


def test_an_xlsx_file_with_a_profile(empty_ledger, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Emp No", "Given", "Surname", "Level", "Start"])
    ws.append(["TK7", "Sam", "Vimes", "PARTNR", date(2019, 4, 1)])
    wb.save(tmp_path / "people.xlsx")
    profile = write(tmp_path, "hr.yaml", "columns: {timekeeper_id: Emp No, first_name: Given, "
                    "last_name: Surname, classification: Level, active_from: Start}\n")
    result = import_master(empty_ledger, "timekeepers", tmp_path / "people.xlsx", profile=profile)
    assert result.new == 1
    tk = Reference.from_ledger(empty_ledger).timekeepers.iloc[0]
    assert (tk["timekeeper_id"], tk["office_id"], str(tk["active_from"].date())) == (
        "TK7", "MAIN", "2019-04-01")
    wrong = write(tmp_path, "wrong.yaml", "columns: {salary: Pay}\n")
    with pytest.raises(InputError, match="maps columns that timekeepers do not have: salary"):
        import_master(empty_ledger, "timekeepers", tmp_path / "people.xlsx", profile=wrong)


def test_missing_columns_are_named(empty_ledger, tmp_path):
    with pytest.raises(InputError) as caught:
        import_master(empty_ledger, "clients", write(tmp_path, "c.csv", "client_id,title\nC1,x\n"))
    reasons = [p.reason for p in caught.value.problems]
    assert reasons[0].startswith("the column 'name' is missing (clients need it)")
    assert len(reasons) == 2 and "'currency' is missing" in reasons[1]


def test_single_records_add_edit_close(empty_ledger, tmp_path):
    load_all(empty_ledger, tmp_path)
    save_master_record(empty_ledger, "clients", {"client_id": "C3", "name": "Globex",
                                                 "currency": "EUR"})
    with pytest.raises(InputError, match="Client C3 already exists"):
        save_master_record(empty_ledger, "clients", {"client_id": "C3", "name": "G",
                                                     "currency": "EUR"})
    with pytest.raises(InputError, match="no client 'C4' to edit"):
        save_master_record(empty_ledger, "clients", {"client_id": "C4", "name": "G"}, edit=True)
    save_master_record(empty_ledger, "clients", {"client_id": "C3", "payment_terms_days": "60"},
                       edit=True)
    assert Reference.from_ledger(empty_ledger).client("C3")["payment_terms_days"] == 60
    save_master_record(empty_ledger, "matters", {"matter_id": "C3-001", "client_id": "C3",
                                                 "name": "Merger", "opened_on": "2026-03-01",
                                                 "billing_partner_id": "TK1"})
    close_master_record(empty_ledger, "clients", "C3", date(2026, 11, 30))
    ref = Reference.from_ledger(empty_ledger)
    assert ref.client("C3")["closed_on"] == date(2026, 11, 30)
    assert ref.matter("C3-001")["closed_on"] == date(2026, 11, 30)  # with the client
    assert ref.matter("C1-001")["closed_on"] is None  # another client's matter stays open


def test_closing_before_recorded_time_is_refused(empty_ledger, tmp_path):
    from billxl import import_file

    load_all(empty_ledger, tmp_path)
    entries = write(tmp_path, "time.csv",
                    "entry_id,date,timekeeper_id,timekeeper_name,timekeeper_class,matter_id,"
                    "client_id,hours,rate,amount,task_code,activity_code,narrative\n"
                    "E1,2026-10-15,TK2,Grace Hopper,ASSOC,C1-001,C1,1.5,550,825,L210,A103,"
                    "Draft reply brief on the motion to dismiss\n")
    import_file(empty_ledger, entries, "time")
    with pytest.raises(InputError) as caught:
        close_master_record(empty_ledger, "timekeepers", "TK2", date(2026, 9, 30))
    assert caught.value.problems[0].reason == ("timekeeper TK2 has 1 time entry after this day "
                                               "(the last on 2026-10-15)")
    with empty_ledger.engine.connect() as conn:
        assert conn.execute(sa.select(t.timekeepers.c.active_to)
                            .where(t.timekeepers.c.timekeeper_id == "TK2")).scalar() is None
    close_master_record(empty_ledger, "timekeepers", "TK2", date(2026, 10, 31))


def test_guideline_sets_are_found_through_the_firm_settings(empty_ledger, tmp_path, monkeypatch):
    load_all(empty_ledger, tmp_path)  # C1 names the guideline set 'acme'
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guidelines").mkdir()
    write(tmp_path / "guidelines", "acme.yaml", "increment_hours: 0.1\n")
    with pytest.raises(InputError) as caught:  # a ./guidelines folder is not looked in by itself
        reconcile_month(empty_ledger, "2026-10")
    assert "client C1 (Acme Corp) names the guideline set 'acme'" in str(caught.value)
    assert "billxl firm edit --guidelines-dir" in str(caught.value)

    elsewhere = tmp_path / "firm-guidelines"
    elsewhere.mkdir()
    set_firm_settings(empty_ledger, guidelines_dir=elsewhere)
    assert firm_settings(empty_ledger)["guidelines_dir"] == str(elsewhere.resolve())
    with pytest.raises(InputError) as caught:
        reconcile_month(empty_ledger, "2026-10")
    assert str(elsewhere.resolve()) in caught.value.summary
    assert caught.value.problems[0].reason == ("no guideline file for guideline set 'acme' "
                                               "(named by client C1)")
    write(elsewhere, "acme.yaml", "increment_hours: 0.1\n")
    monkeypatch.chdir(tmp_path / "guidelines")  # any folder: the ledger says where
    assert reconcile_month(empty_ledger, "2026-10").errors == 0
    with pytest.raises(InputError, match="There is no folder"):
        set_firm_settings(empty_ledger, guidelines_dir=tmp_path / "nowhere")
    # with the folder set, a client naming a set that is not there is refused at import
    with pytest.raises(InputError) as caught:
        save_master_record(empty_ledger, "clients", {"client_id": "C2", "guideline_set": "bank"},
                           edit=True)
    assert caught.value.problems[0].reason == (
        f"there is no guideline file bank.yaml in the firm's guideline folder {elsewhere.resolve()}")
    save_master_record(empty_ledger, "clients", {"client_id": "C2", "guideline_set": "acme"},
                       edit=True)
