"""The billing-guideline rules: each rule on hand-made entries (what it flags and what it does not),
guideline files and their mistakes, per-client guidelines, and rules skipped without a ledger."""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billxl.errors import InputError
from billxl.money import qty_to_milli, to_minor
from billxl.rules import (
    FINDING_COLUMNS,
    RULES,
    Context,
    check_entries,
    check_expenses,
    load_client_guidelines,
    load_guidelines,
)

DAY = "2026-10-05"
SPECIFIC = "Draft motion to compel production of documents from defendant"


def entry(entry_id: str, **given) -> dict:
    """A clean time entry (1.0 h at 300.00 on matter M1 of client C1) with ``given`` changes."""
    row = {"timekeeper_id": "TK1", "matter_id": "M1", "client_id": "C1", "work_date": DAY,
           "hours": "1.0", "rate": "300.00", "amount": None, "currency": "USD",
           "narrative": f"{SPECIFIC} ({entry_id})", "task_code": "L310", "activity_code": "A103",
           "billable": True, "entered_on": DAY}
    row.update(given)
    return {"entry_id": entry_id, **row}


def entries(*rows: dict) -> pd.DataFrame:
    """Rows in the engine's types (schema.TIME_FRAME): hours in thousandths, money in cents."""
    out = []
    for r in rows:
        hours = qty_to_milli(r["hours"]) if r["hours"] is not None else None
        rate = to_minor(r["rate"]) if r["rate"] is not None else None
        amount = (to_minor(r["amount"]) if r["amount"] is not None
                  else (hours * rate + 500) // 1000 if hours is not None and rate is not None
                  else None)
        out.append({**r, "hours_milli": hours, "rate_minor": rate, "amount_minor": amount})
    frame = pd.DataFrame(out).drop(columns=["hours", "rate", "amount"])
    frame["work_date"] = pd.to_datetime(frame["work_date"])
    frame["entered_on"] = pd.to_datetime(frame["entered_on"])
    for col in ("rate_minor", "amount_minor", "hours_milli"):
        frame[col] = frame[col].astype("Int64")
    for col in ("entry_id", "timekeeper_id", "matter_id", "client_id", "currency", "narrative",
                "task_code", "activity_code"):
        frame[col] = frame[col].astype("string")
    return frame


def expense(entry_id: str, **given) -> dict:
    row = {"timekeeper_id": "TK1", "matter_id": "M1", "client_id": "C1", "work_date": DAY,
           "expense_code": "E107", "amount": "40.00", "currency": "USD",
           "narrative": f"Courier to court ({entry_id})", "receipt_ref": "R-1", "billable": True}
    row.update(given)
    return {"entry_id": entry_id, **row}


def expenses(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame([{**r, "amount_minor": to_minor(r["amount"])} for r in rows])
    frame = frame.drop(columns=["amount"])
    frame["work_date"] = pd.to_datetime(frame["work_date"])
    return frame


def found(result, rule: str) -> list[tuple[str, str]]:
    """(entry_id, message) of one rule's findings, in order."""
    rows = result.findings[result.findings["rule"] == rule]
    return list(zip(rows["entry_id"], rows["message"], strict=True))


def ids(result, rule: str) -> list[str]:
    return [entry_id for entry_id, _ in found(result, rule)]


# ================================================================================= context
def _ts(text):
    return pd.Timestamp(text) if text else pd.NaT


TIMEKEEPERS = pd.DataFrame({
    "timekeeper_id": ["TK1", "TK2", "TK3"],
    "classification": ["PARTNR", "ASSOC", "ASSOC"],
    "active_from": [_ts("2020-01-01"), _ts("2026-01-01"), _ts("2026-10-10")],
    "active_to": [pd.NaT, _ts("2026-09-30"), pd.NaT],
})
MATTERS = pd.DataFrame({
    "matter_id": ["M1", "M2", "M3"],
    "client_id": ["C1", "C1", "C2"],
    "opened_on": [_ts("2026-01-01"), _ts("2026-01-01"), _ts("2026-10-10")],
    "closed_on": [pd.NaT, _ts("2026-08-31"), pd.NaT],
    "utbms_required": [True, False, False],
})
CLIENTS = pd.DataFrame({"client_id": ["C1", "C2"], "guideline_set": [None, "strict"],
                        "ebilling_portal": [None, "portalx"], "rounding": ["half_up", "half_even"],
                        "currency": ["USD", "USD"]})


def _rate(kind, minor, start, end=None, **who):
    return {"kind": kind, "timekeeper_id": who.get("tk"), "classification": who.get("cls"),
            "client_id": who.get("client"), "matter_id": who.get("matter"), "currency": "USD",
            "rate_minor": minor, "effective_from": _ts(start), "effective_to": _ts(end)}


RATES = pd.DataFrame([
    _rate("standard", 90000, "2026-01-01", "2026-06-30", tk="TK1"),
    _rate("standard", 95000, "2026-07-01", tk="TK1"),  # the mid-year increase
    _rate("standard", 50000, "2026-01-01", cls="ASSOC"),
    _rate("override", 45000, "2026-01-01", matter="M2", cls="ASSOC"),
    _rate("approved", 90000, "2026-01-01", client="C1", tk="TK1"),  # C1 approved only 900.00
    _rate("approved", 48000, "2026-01-01", client="C2", cls="ASSOC"),  # below the standard 500.00
])
CONTEXT = Context(timekeepers=TIMEKEEPERS, matters=MATTERS, clients=CLIENTS, rates=RATES)


# ================================================================================= shape
def test_findings_have_the_documented_columns_and_rules_their_registry_entries():
    result = check_entries(entries(entry("T1", hours="0.35")))
    assert list(result.findings.columns) == FINDING_COLUMNS
    assert result.findings.iloc[0].to_dict() == {
        "rule": "INCREMENT", "severity": "error", "entry_id": "T1", "field": "hours",
        "message": "Hours 0.35 are not a multiple of the client's 0.1-hour increment",
        "suggestion": "Record 0.4 hours (rounded up to the next 0.1 hour) or correct the time"}
    assert {"INCREMENT", "DAILY_MAX", "DUPLICATE", "RATE_CAP", "EXPENSE_CAP"} <= set(RULES)
    closed = RULES["CLOSED_MATTER"]
    assert (closed.severity, closed.needs_context, closed.kinds) == ("error", True, ("time", "expense"))
    assert not RULES["INCREMENT"].needs_context and RULES["INCREMENT"].description


def test_a_clean_entry_has_no_findings():
    clean = {"timekeeper_id": "TK3", "rate": "500.00", "entered_on": "2026-10-14"}
    result = check_entries(entries(entry("T1", work_date="2026-10-12", **clean),
                                   entry("T2", work_date="2026-10-13", **clean)),
                           context=CONTEXT, period=(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31")))
    assert result.findings.empty, result.findings.to_dict("records")
    assert result.notes == []


# ================================================================================= hours
def test_increment_flags_hours_off_the_clients_grid():
    result = check_entries(entries(entry("T1", hours="0.35"), entry("T2", hours="0.3"),
                                   entry("T3", hours="2"), entry("T4", hours="1.05")))
    assert found(result, "INCREMENT") == [
        ("T1", "Hours 0.35 are not a multiple of the client's 0.1-hour increment"),
        ("T4", "Hours 1.05 are not a multiple of the client's 0.1-hour increment")]


def test_daily_max_flags_every_entry_of_the_day_and_over_24_is_an_error():
    result = check_entries(entries(
        entry("A1", hours="6"), entry("A2", hours="5"),  # TK1: 11 h on the 5th
        entry("B1", timekeeper_id="TK2", hours="10"),  # TK2: exactly 10 h is fine
        entry("C1", timekeeper_id="TK3", hours="20"), entry("C2", timekeeper_id="TK3", hours="5"),
        entry("A3", hours="9", work_date="2026-10-06")))  # TK1 another day: fine
    assert found(result, "DAILY_MAX") == [
        ("A1", "TK1 recorded 11 hours on 2026-10-05, over the 10-hour daily limit"),
        ("A2", "TK1 recorded 11 hours on 2026-10-05, over the 10-hour daily limit"),
        ("C1", "TK3 recorded 25 hours on 2026-10-05: more than 24 hours in one day is impossible"),
        ("C2", "TK3 recorded 25 hours on 2026-10-05: more than 24 hours in one day is impossible")]
    severity = result.findings.set_index(["rule", "entry_id"])["severity"]
    assert severity[("DAILY_MAX", "A1")] == "warning"
    assert severity[("DAILY_MAX", "C1")] == "error"


def test_negative_hours_flags_zero_negative_and_missing_hours():
    result = check_entries(entries(entry("T1", hours="0"), entry("T2", hours="-1.5"),
                                   entry("T3", hours=None, amount="0"), entry("T4", hours="0.1")))
    assert found(result, "NEGATIVE_HOURS") == [
        ("T1", "Hours 0 are zero or negative"), ("T2", "Hours -1.5 are zero or negative"),
        ("T3", "Hours are missing")]


def test_amount_mismatch_uses_the_clients_rounding_rule():
    # 0.125 h x 300.02 = 37.5025 -> 37.50 either way; 0.5 h x 300.01 = 150.005: 150.01 half-up
    # (C1) but 150.00 half-even (C2)
    rows = entries(entry("T1", hours="0.5", rate="300.01", amount="150.01"),
                   entry("T2", hours="0.5", rate="300.01", amount="150.01", client_id="C2",
                         matter_id="M3", work_date="2026-10-12"),
                   entry("T3", hours="2", rate="300.00", amount="500.00"),
                   entry("T4", hours="1", rate=None, amount="123.00"),
                   entry("T5", hours="1", amount="0.00", billable=False))  # no charge
    result = check_entries(rows, context=CONTEXT)
    assert found(result, "AMOUNT_MISMATCH") == [
        ("T2", "Amount 150.01 is not hours 0.5 x rate 300.01 = 150.00"),
        ("T3", "Amount 500.00 is not hours 2 x rate 300.00 = 600.00")]
    without_ledger = check_entries(rows)  # firm default, half-up, for everyone
    assert ids(without_ledger, "AMOUNT_MISMATCH") == ["T3"]


def test_amount_mismatch_uses_the_firms_rounding_rule_when_the_client_has_none():
    # 0.5 h x 300.01 = 150.005: the firm rounds half-even (150.00); C1 states no rule of its own
    clients = CLIENTS.assign(rounding=[None, "half_even"])
    reference = Context(firm={"rounding": "half_even"}, timekeepers=TIMEKEEPERS,
                        matters=MATTERS, clients=clients, rates=RATES)
    rows = entries(entry("T1", hours="0.5", rate="300.01", amount="150.00"),
                   entry("T2", hours="0.5", rate="300.01", amount="150.01"))
    result = check_entries(rows, context=reference)
    assert found(result, "AMOUNT_MISMATCH") == [
        ("T2", "Amount 150.01 is not hours 0.5 x rate 300.01 = 150.00")]


# ================================================================================= narratives
def test_block_billing_flags_several_tasks_in_one_entry():
    result = check_entries(entries(
        entry("B1", narrative="Draft motion to compel; review correspondence from opposing counsel; "
                              "telephone conference with client regarding same"),
        entry("B2", narrative="Reviewed deposition transcript, drafted summary and prepared "
                              "outline for cross-examination"),
        entry("B3", narrative="Motion to compel; letter to opposing counsel on deposition dates"),
        entry("N1", narrative="Review and revise motion to compel production of documents"),
        entry("N2", narrative="Draft reply brief in support of motion for summary judgment"),
        entry("N3", narrative="Draft motion in limine and revise per comments from J. Smith"),
        entry("N4", narrative="Review letter from counsel; ok")))
    assert found(result, "BLOCK_BILLING") == [
        ("B1", "The narrative lists 3 separate tasks in one entry (block billing)"),
        ("B2", "The narrative lists 2 separate tasks in one entry (block billing)"),
        ("B3", "The narrative lists 2 separate tasks in one entry (block billing)")]


def test_vague_flags_generic_and_too_short_narratives():
    result = check_entries(entries(
        entry("V1", narrative="Review file."), entry("V2", narrative="Attention to matter"),
        entry("V3", narrative="work on file"), entry("V4", narrative="Call"),
        entry("V5", narrative=""),
        entry("N1", narrative="Review file of medical records for causation opinion")))
    assert found(result, "VAGUE") == [
        ("V1", "The narrative 'Review file.' does not say what was done"),
        ("V2", "The narrative 'Attention to matter' does not say what was done"),
        ("V3", "The narrative 'work on file' does not say what was done"),
        ("V4", "The narrative 'Call' does not say what was done"),
        ("V5", "The narrative is blank")]


def test_vague_minimum_words_comes_from_the_guidelines(tmp_path):
    rows = entries(entry("T1", narrative="Draft prospectus"))
    assert ids(check_entries(rows), "VAGUE") == ["T1"]
    relaxed = _guideline(tmp_path, "relaxed.yaml", "min_narrative_words: 2\n")
    assert ids(check_entries(rows, guidelines=relaxed), "VAGUE") == []


def test_admin_task_flags_clerical_work():
    result = check_entries(entries(
        entry("A1", narrative="Organize files and update index of pleadings"),
        entry("A2", narrative="Schedule deposition of plaintiff's treating physician"),
        entry("A3", narrative="Answer client's billing question about the September invoice"),
        entry("A4", narrative="Photocopying exhibits for hearing binder"),
        entry("N1", narrative="Draft response to defendant's interrogatories on damages")))
    assert ids(result, "ADMIN_TASK") == ["A1", "A2", "A3", "A4"]
    assert found(result, "ADMIN_TASK")[1][1] == (
        "The narrative describes clerical work ('schedule'), which clients do not pay for")


def test_internal_conference_by_narrative_or_activity_code():
    result = check_entries(entries(
        entry("I1", narrative="Conference with associate regarding discovery plan"),
        entry("I2", narrative="Internal meeting to discuss trial strategy"),
        entry("I3", narrative="Update on expert schedule", activity_code="A105"),
        entry("N1", narrative="Conference with opposing counsel regarding discovery dispute"),
        entry("N2", narrative="Telephone call with client regarding settlement offer"),
        entry("N3", narrative="Conference with associate regarding discovery plan",
              billable=False),  # already written down to no charge: nothing to flag
        entry("N4", narrative="Internal meeting on staffing", activity_code="A105",
              billable=False)))
    assert ids(result, "INTERNAL_CONFERENCE") == ["I1", "I2", "I3"]


def test_narrative_length_and_formula_text():
    long_text = "Review " + "and analyze the production " * 50
    result = check_entries(entries(
        entry("L1", narrative=long_text), entry("F1", narrative="=HYPERLINK(\"x\") review brief"),
        entry("F2", narrative="+ call with client re settlement"),
        entry("F3", narrative="-draft reply brief"), entry("F4", narrative="@court hearing prep"),
        entry("N1", narrative="Draft reply = short"), entry("F5", narrative=" =after a space"),
        entry("F6", narrative="\tcall with client")))
    assert found(result, "NARRATIVE_LENGTH") == [
        ("L1", f"The narrative has {len(long_text):,} characters, over the limit of 1,024")]
    # a spreadsheet reads '=' after spaces as a formula too (billxl.cells.formula_like)
    assert ids(result, "FORMULA_TEXT") == ["F1", "F2", "F3", "F4", "F5", "F6"]
    messages = dict(found(result, "FORMULA_TEXT"))
    assert messages["F1"] == messages["F5"] == (
        "The narrative starts with '=', so a spreadsheet would read it as a formula")
    assert messages["F6"].startswith("The narrative starts with a tab,")


FORMULA_CASES = ["=1+1", "+1", "-1", "@SUM(A1)", " =x", "  +x", "\tx", "\rx", "\nx", "\0x",
                 " \t=x", "x=1", "1-2", "'=x", "", " ", "Draft", "\u00a0=x", "\u3000-x"]


@pytest.mark.parametrize("text", FORMULA_CASES)
def test_formula_text_flags_exactly_what_cells_says_a_spreadsheet_evaluates(text):
    from billxl.cells import FORMULA_STARTS, formula_like

    result = check_entries(entries(entry("E1", narrative=text)))
    assert (ids(result, "FORMULA_TEXT") == ["E1"]) is formula_like(text)
    assert formula_like(text) is (text[:1] in FORMULA_STARTS
                                  or text.lstrip()[:1] in FORMULA_STARTS[:4])


_FORMULA_TEXTS = st.text(alphabet=st.sampled_from(list("=+-@'x1 \t\r\n\0\u00a0\u3000\u2028\x1c\x85")),
                         max_size=6)


@given(st.lists(st.one_of(_FORMULA_TEXTS, st.none()), max_size=20))
def test_formula_like_of_many_texts_is_formula_like_of_each(texts):
    """The rule's vector form answers as :func:`formula_like` does, text by text (Unicode
    blanks, control characters and missing values included)."""
    from billxl.cells import formula_like, formula_like_texts

    got = formula_like_texts(pd.Series(texts, dtype=object))
    assert got.dtype == bool
    assert got.tolist() == [formula_like(t) for t in texts]


# ================================================================================= duplicates
def test_duplicate_flags_the_later_copy_and_names_the_original():
    text = "Draft motion to compel production of documents from defendant"
    result = check_entries(entries(
        entry("D1", narrative=text, entered_on="2026-10-05"),
        entry("D2", narrative=text, entered_on="2026-10-07"),  # exact copy
        entry("D3", narrative="Drafted motion to compel production of documents from defendant.",
              hours="1.5", entered_on="2026-10-08"),  # near copy
        entry("N1", narrative=text, timekeeper_id="TK2"),  # another timekeeper
        entry("N2", narrative=text, matter_id="M2"),  # another matter
        entry("N3", narrative=text, work_date="2026-10-06"),  # another day
        entry("N4", narrative="Review defendant's responses to second set of interrogatories")))
    assert found(result, "DUPLICATE") == [
        ("D2", "Looks like a copy of entry D1: same timekeeper, matter and day, the same "
               "narrative and hours"),
        ("D3", "Looks like a copy of entry D1: same timekeeper, matter and day, 98% alike narrative")]


def test_duplicate_takes_the_earlier_entered_as_the_original_whatever_the_file_order():
    text = "Prepare witness outline for deposition of plant manager"
    result = check_entries(entries(entry("LATE", narrative=text, entered_on="2026-10-09"),
                                   entry("EARLY", narrative=text, entered_on="2026-10-05")))
    assert ids(result, "DUPLICATE") == ["LATE"]
    assert "copy of entry EARLY" in found(result, "DUPLICATE")[0][1]


def test_duplicate_threshold_comes_from_the_guidelines(tmp_path):
    rows = entries(entry("D1", narrative="Review plaintiff's expert report on damages"),
                   entry("D2", narrative="Review defendant's expert report on damages"))
    assert ids(check_entries(rows), "DUPLICATE") == []
    loose = _guideline(tmp_path, "loose.yaml", "duplicate_similarity: 75\n")
    assert ids(check_entries(rows, guidelines=loose), "DUPLICATE") == ["D2"]


# ================================================================================= codes
def test_utbms_invalid_checks_task_and_activity_codes_against_the_code_sets():
    result = check_entries(entries(entry("T1", task_code="L999"), entry("T2", activity_code="A199"),
                                   entry("T3", task_code="L100"), entry("T4", task_code="l310"),
                                   entry("T5", task_code=None, activity_code=None)))
    assert [(i, m) for i, m in found(result, "UTBMS_INVALID")] == [
        ("T1", "Task code L999 is not in the client's task codes"),
        ("T2", "Activity code A199 is not in the client's activity codes"),
        ("T3", "Task code L100 is a phase heading, not a task code")]
    fields = result.findings[result.findings["rule"] == "UTBMS_INVALID"]["field"].tolist()
    assert fields == ["task_code", "activity_code", "task_code"]


def test_the_firm_defaults_accept_the_shipped_task_sets_bankruptcy_included():
    """The UTBMS bankruptcy set (B110-B420, billxl/data/utbms/bankruptcy_tasks.csv) beside the
    litigation and counseling sets: its tasks are codes, its phase headings (B100 ...) are not."""
    coded = ["B110", "B160", "B185", "B195", "B260", "B320", "B420", "C300", "L120"]
    result = check_entries(entries(*(entry(f"T{i}", task_code=code)
                                     for i, code in enumerate(coded)),
                                   entry("H1", task_code="B300"), entry("X1", task_code="B999"),
                                   entry("X2", task_code="B430")))
    assert found(result, "UTBMS_INVALID") == [
        ("H1", "Task code B300 is a phase heading, not a task code"),
        ("X1", "Task code B999 is not in the client's task codes"),
        ("X2", "Task code B430 is not in the client's task codes")]


def test_utbms_missing_where_the_matter_or_the_guidelines_require_codes(tmp_path):
    rows = entries(entry("T1", task_code=None),  # M1 requires UTBMS in the ledger
                   entry("T2", task_code=None, activity_code=None, matter_id="M2"),  # M2 does not
                   entry("T3", activity_code=""))
    with_ledger = check_entries(rows, context=CONTEXT)
    assert found(with_ledger, "UTBMS_MISSING") == [
        ("T1", "Task code is blank, but this matter needs UTBMS codes"),
        ("T3", "Activity code is blank, but this matter needs UTBMS codes")]
    bare = check_entries(rows)
    assert ids(bare, "UTBMS_MISSING") == []
    strict = _guideline(tmp_path, "strict.yaml", "require_utbms: true\n")
    assert ids(check_entries(rows, guidelines=strict), "UTBMS_MISSING") == ["T1", "T2", "T2", "T3"]


def test_a_guideline_can_name_its_own_code_set(tmp_path):
    (tmp_path / "bankruptcy_tasks.csv").write_text("code,name\nB110,Case Administration\n")
    g = _guideline(tmp_path, "bk.yaml", "code_sets:\n  task: [bankruptcy_tasks.csv]\n")
    result = check_entries(entries(entry("T1", task_code="B110"), entry("T2", task_code="L310")),
                           guidelines=g)
    assert ids(result, "UTBMS_INVALID") == ["T2"]
    assert g.codes("activity").codes == load_guidelines().codes("activity").codes  # inherited


# ================================================================================= ledger rules
def test_closed_matter_and_inactive_timekeeper():
    result = check_entries(entries(
        entry("M2LATE", matter_id="M2"),  # M2 closed 2026-08-31
        entry("M3EARLY", matter_id="M3", client_id="C2"),  # M3 opens 2026-10-10
        entry("TK2LEFT", timekeeper_id="TK2"),  # TK2 left 2026-09-30
        entry("TK3EARLY", timekeeper_id="TK3"),  # TK3 starts 2026-10-10
        entry("OK", matter_id="M2", work_date="2026-08-31", hours="0.5")), context=CONTEXT)
    assert found(result, "CLOSED_MATTER") == [
        ("M2LATE", "Work on 2026-10-05 is after matter M2 closed on 2026-08-31"),
        ("M3EARLY", "Work on 2026-10-05 is before matter M3 opened on 2026-10-10")]
    assert found(result, "INACTIVE_TIMEKEEPER") == [
        ("TK2LEFT", "Timekeeper TK2 left on 2026-09-30 but recorded work on 2026-10-05"),
        ("TK3EARLY", "Timekeeper TK3 started on 2026-10-10 but recorded work on 2026-10-05")]


def test_rates_against_the_effective_standard_agreed_and_approved_rates():
    result = check_entries(entries(
        entry("UNAPPROVED", rate="950.00"),  # TK1's standard since July; C1 approved 900.00
        entry("CAPPED", rate="1000.00"),  # above everything
        entry("OK_OLD", rate="900.00", work_date="2026-06-15"),  # standard before the increase
        entry("WRONG_ASSOC", timekeeper_id="TK3", rate="520.00", work_date="2026-10-12"),
        entry("AGREED", timekeeper_id="TK3", matter_id="M2", rate="450.00", work_date="2026-08-03"),
        entry("NOT_AGREED", timekeeper_id="TK3", matter_id="M2", rate="500.00",
              work_date="2026-08-03"),
        # the standard rate, but never increased: over the approved rate, not an increase
        entry("OVER_C2", timekeeper_id="TK3", matter_id="M3", client_id="C2", rate="500.00",
              work_date="2026-10-12")), context=CONTEXT)
    assert found(result, "RATE_INCREASE_UNAPPROVED") == [
        ("UNAPPROVED", "Rate 950.00 is the standard rate since 2026-07-01, up from 900.00; the "
                       "client approved only 900.00")]
    assert found(result, "RATE_CAP") == [
        ("CAPPED", "Rate 1000.00 is above the client's approved rate 900.00"),
        ("OVER_C2", "Rate 500.00 is above the client's approved rate 480.00")]
    assert found(result, "RATE_MISMATCH") == [
        ("CAPPED", "Rate 1000.00 differs from the standard rate 950.00 on 2026-10-05"),
        ("WRONG_ASSOC", "Rate 520.00 differs from the standard rate 500.00 on 2026-10-12"),
        ("NOT_AGREED", "Rate 500.00 differs from the agreed rate 450.00 on 2026-08-03")]


def test_rate_caps_by_classification_work_on_a_bare_file_with_timekeeper_class(tmp_path):
    g = _guideline(tmp_path, "caps.yaml", "rate_caps:\n  PARTNR: 800.00\n")
    rows = entries(entry("HIGH", rate="850.00"), entry("LOW", rate="750.00"),
                   entry("ASSOC", rate="850.00", timekeeper_id="TK9"))
    rows["timekeeper_class"] = ["PARTNR", "PARTNR", "ASSOC"]
    result = check_entries(rows, guidelines=g)
    assert found(result, "RATE_CAP") == [
        ("HIGH", "Rate 850.00 is above the guideline's cap for the classification 800.00")]
    assert "RATE_CAP: approved rates not checked: no ledger; classification caps checked" \
        in result.notes
    assert "RATE_CAP skipped: no ledger, approved rates unknown" in check_entries(rows).notes


def test_outside_period_and_late_time():
    rows = entries(entry("SEPT", work_date="2026-09-30", entered_on="2026-10-01"),
                   entry("LATE", work_date="2026-10-01", entered_on="2026-11-15"),
                   entry("ON_TIME", work_date="2026-10-01", entered_on="2026-10-31"),
                   entry("UNKNOWN", work_date="2026-10-02", entered_on=None))
    result = check_entries(rows, period=(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31")))
    assert found(result, "OUTSIDE_PERIOD") == [
        ("SEPT", "Work date 2026-09-30 is outside the billing period 2026-10-01 to 2026-10-31")]
    assert found(result, "LATE_TIME") == [
        ("LATE", "Entered on 2026-11-15, 45 days after the work on 2026-10-01 (limit 30 days)")]


def test_rules_that_need_the_ledger_are_skipped_with_a_note():
    result = check_entries(entries(entry("T1", matter_id="M2")))
    assert "CLOSED_MATTER skipped: no ledger, matter dates unknown" in result.notes
    assert "INACTIVE_TIMEKEEPER skipped: no ledger, timekeepers' active dates unknown" in result.notes
    assert "RATE_MISMATCH skipped: no ledger, rates unknown" in result.notes
    assert "OUTSIDE_PERIOD skipped: no billing period given" in result.notes
    assert not {"CLOSED_MATTER", "RATE_MISMATCH", "OUTSIDE_PERIOD"} & set(result.rules_run)
    partial = check_entries(entries(entry("T1", matter_id="M2")), context=Context(matters=MATTERS))
    assert ids(partial, "CLOSED_MATTER") == ["T1"]
    assert "INACTIVE_TIMEKEEPER skipped: no timekeepers in the ledger context, timekeepers' " \
           "active dates unknown" in partial.notes
    no_entry_dates = check_entries(entries(entry("T1", entered_on=None)))
    assert "LATE_TIME skipped: the entries carry no entry dates (entered_on)" in no_entry_dates.notes


def test_bad_entries_give_findings_never_exceptions():
    rows = pd.DataFrame({
        "entry_id": ["X1", "X2", "X3", None],
        "timekeeper_id": [None, "TK1", "", "TK1"],
        "matter_id": ["M1", None, "M9", "M1"],
        "client_id": [None, None, None, None],
        "work_date": ["2026-10-05", "not a date", None, "2026-10-05"],
        "hours_milli": [None, "abc", 1.5, 99_000],
        "rate_minor": [None, -5, "x", 10**15],
        "amount_minor": [1, None, None, 3],
        "narrative": [None, 12, "", "=" * 3000],
        "task_code": [12, None, "zz", "L310"],
        "activity_code": [None, "", " a103 ", None],
        "entered_on": [None, "2026-01-01", "garbage", None],
    })
    result = check_entries(rows, context=CONTEXT, period=(pd.Timestamp("2026-10-01"),
                                                          pd.Timestamp("2026-10-31")))
    rules = set(result.findings["rule"])
    assert {"NEGATIVE_HOURS", "DAILY_MAX", "VAGUE", "FORMULA_TEXT", "NARRATIVE_LENGTH"} <= rules
    x3 = result.findings[result.findings["entry_id"] == "X3"]
    assert "Hours are missing" in x3["message"].tolist()  # 1.5 thousandths is not an hour count


def test_missing_required_columns_are_named():
    with pytest.raises(InputError) as caught:
        check_entries(pd.DataFrame({"entry_id": ["T1"], "narrative": ["x"]}))
    assert "timekeeper_id, matter_id, work_date, hours_milli" in str(caught.value)


# ================================================================================= expenses
def test_expense_rules(tmp_path):
    guide = _guideline(tmp_path, "expenses.yaml",
                       "expense_caps: {E111: 100.00}\nnon_billable_expense_codes: [E101, E106]\n")
    result = check_expenses(expenses(
        expense("MEAL", expense_code="E111", amount="142.50", receipt_ref="R-9"),
        expense("MEAL_OK", expense_code="E111", amount="100.00", receipt_ref="R-8"),
        expense("NO_RECEIPT", expense_code="E110", amount="420.00", receipt_ref=None),
        expense("SMALL", expense_code="E107", amount="75.00", receipt_ref=""),
        expense("COPIES", expense_code="E101", amount="12.40"),
        expense("COPIES_NB", expense_code="E101", amount="3.10", billable=False),
        expense("BAD_CODE", expense_code="E999")),
        guidelines=guide)
    assert found(result, "EXPENSE_CAP") == [
        ("MEAL", "Meals (E111) of 142.50 is over the client's cap of 100.00")]
    assert found(result, "RECEIPT_REQUIRED") == [
        ("NO_RECEIPT", "Expense of 420.00 is over 75.00 and has no receipt reference")]
    assert found(result, "NON_BILLABLE_EXPENSE") == [
        ("COPIES", "The client does not pay for Copying (E101)")]
    assert found(result, "UTBMS_INVALID") == [
        ("BAD_CODE", "Expense code E999 is not in the client's expense codes")]


def test_duplicate_expenses():
    result = check_expenses(expenses(
        expense("E1", expense_code="E110", amount="420.00", narrative="Flight to Chicago for deposition"),
        expense("E2", expense_code="E110", amount="420.00", narrative="Flight to Chicago for deposition"),
        expense("E3", expense_code="E110", amount="380.00", narrative="Flight to Chicago for deposition")))
    assert found(result, "DUPLICATE") == [
        ("E2", "Looks like a copy of expense E1: same matter, day, code and amount")]


# ================================================================================= guidelines
def _guideline(folder, name: str, text: str):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return load_guidelines(path)


def _mistakes(folder, text: str, name: str = "strict.yaml") -> list[str]:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as caught:
        load_guidelines(path)
    assert str(path) in caught.value.summary
    return [p.reason for p in caught.value.problems]


def test_defaults_are_the_firm_defaults():
    g = load_guidelines()
    assert (g.increment_hours, g.daily_max_hours, g.late_days, g.narrative_max_chars) == (
        Decimal("0.1"), 10, 30, 1024)
    assert str(g.increment_hours) == "0.1" and str(g.receipt_threshold) == "75.00"  # exact
    assert g.sources == ("defaults.yaml",)
    assert "L310" in g.codes("task").billable and "L300" in g.codes("task").phases


def test_a_typo_in_a_setting_names_the_line_and_the_likely_setting(tmp_path):
    reasons = _mistakes(tmp_path, """\
        # Strict Corp's billing guidelines
        increment_hours: 0.1

        late_days: 20
        # the portal's limit
        narrative_max_chars: 500
        dailly_max_hours: 8
        """)
    assert reasons == ["line 7: 'dailly_max_hours' is not a known setting "
                       "(did you mean 'daily_max_hours'?)"]


def test_a_wrong_type_names_the_line_and_what_was_expected(tmp_path):
    reasons = _mistakes(tmp_path, """\
        # Strict Corp
        late_days: 20
        increment_hours: tenth
        require_utbms: sometimes
        expense_caps:
          E111: lots
          meals: 50
        """)
    assert reasons == [
        "line 3: increment_hours must be a number, got 'tenth'",
        "line 4: require_utbms must be true or false, got 'sometimes'",
        "line 6: expense_caps.E111 must be a number, got 'lots'",
        "line 7: 'meals' in expense_caps must be a UTBMS-style code such as E111"]


def test_unknown_rule_ids_bad_values_and_missing_code_sets_are_named_by_line(tmp_path):
    reasons = _mistakes(tmp_path, """\
        disabled_rules:
          - LATE_TIME
          - DAILY_MAXX
        severity:
          VAGUE: error
          INCREMNT: warning
          BLOCK_BILLING: fatal
        increment_hours: -0.1
        code_sets:
          task: [nowhere.csv]
          tasks: [x.csv]
        """)
    assert reasons == [
        "line 3: 'DAILY_MAXX' is not a rule id (did you mean 'DAILY_MAX'?)",
        "line 6: 'INCREMNT' is not a rule id (did you mean 'INCREMENT'?)",
        "line 7: severity.BLOCK_BILLING must be one of 'error', 'warning' or 'info', got 'fatal'",
        "line 8: increment_hours must be more than 0, got -0.1",
        "line 10: there is no code-set file 'nowhere.csv' beside the guideline file or among "
        "the UTBMS sets shipped with billxl",
        "line 11: 'tasks' is not a known code_sets entry (did you mean 'task'?)"]


def test_broken_yaml_and_repeated_keys_are_named_by_line(tmp_path):
    assert _mistakes(tmp_path, "late_days: 20\nincrement_hours: [0.1\n")[0].startswith("line 3:")
    assert _mistakes(tmp_path, "late_days: 20\nlate_days: 25\n") == [
        "line 2: late_days is set twice (first on line 1)"]
    with pytest.raises(InputError, match="There is no guideline file"):
        load_guidelines(tmp_path / "absent.yaml")


def test_a_client_file_is_laid_over_the_defaults_or_a_firm_file(tmp_path):
    firm = _guideline(tmp_path, "firm.yaml", """\
        expense_caps: {E111: 100.00}
        severity: {VAGUE: info}
        """)
    client = tmp_path / "strict.yaml"
    client.write_text("increment_hours: 0.25\nexpense_caps: {E110: 500}\n"
                      "severity: {DAILY_MAX: error}\ndisabled_rules: [LATE_TIME]\n")
    g = load_guidelines(client, base=firm)
    assert g.increment_milli == 250 and g.daily_max_milli == 10_000  # default kept
    assert g.expense_caps == {"E111": 100, "E110": 500}  # mappings merge
    assert g.severity == {"VAGUE": "info", "DAILY_MAX": "error"}
    assert g.sources == ("defaults.yaml", str(tmp_path / "firm.yaml"), str(client))


def test_each_client_is_checked_against_its_own_guidelines(tmp_path):
    (tmp_path / "strict.yaml").write_text(
        "increment_hours: 0.25\nseverity: {VAGUE: error}\ndisabled_rules: [FORMULA_TEXT]\n")
    by_client = load_client_guidelines(CLIENTS, tmp_path)
    assert list(by_client) == ["C2"]  # C1 has no guideline set: it follows the defaults
    rows = entries(entry("C1_TENTH", hours="0.3"), entry("C1_QUARTER", hours="0.25"),
                   entry("C2_TENTH", hours="0.3", client_id="C2", matter_id="M3"),
                   entry("C2_QUARTER", hours="0.75", client_id="C2", matter_id="M3"),
                   entry("C1_VAGUE", narrative="=review file"),
                   entry("C2_VAGUE", narrative="=review file", client_id="C2", matter_id="M3"))
    result = check_entries(rows, guidelines_by_client=by_client)
    assert found(result, "INCREMENT") == [
        ("C1_QUARTER", "Hours 0.25 are not a multiple of the client's 0.1-hour increment"),
        ("C2_TENTH", "Hours 0.3 are not a multiple of the client's 0.25-hour increment")]
    severity = result.findings.set_index(["rule", "entry_id"])["severity"]
    assert severity[("VAGUE", "C1_VAGUE")] == "warning"
    assert severity[("VAGUE", "C2_VAGUE")] == "error"
    assert ids(result, "FORMULA_TEXT") == ["C1_VAGUE"]  # turned off for C2 only


def test_a_rule_turned_off_for_everyone_is_noted(tmp_path):
    g = _guideline(tmp_path, "quiet.yaml", "disabled_rules: [INCREMENT]\n")
    result = check_entries(entries(entry("T1", hours="0.35")), guidelines=g)
    assert ids(result, "INCREMENT") == []
    assert "INCREMENT not run: turned off by the guidelines" in result.notes


def test_missing_client_guideline_files_are_all_named(tmp_path):
    clients = pd.DataFrame({"client_id": ["C1", "C2", "C3"],
                            "guideline_set": ["alpha", "beta", None]})
    with pytest.raises(InputError) as caught:
        load_client_guidelines(clients, tmp_path)
    assert [p.reason for p in caught.value.problems] == [
        "no guideline file for guideline set 'alpha'", "no guideline file for guideline set 'beta'"]


def test_rules_run_on_every_row_at_once():
    # a frame of 20,000 entries: the same answers as on a few (no row is skipped or reordered)
    rng = np.random.default_rng(3)
    n = 20_000
    rows = entries(*[entry(f"T{i}", timekeeper_id=f"TK{i % 500}", work_date=f"2026-10-{1 + i % 28:02d}",
                           hours=str(rng.choice(["0.5", "1.25", "2", "0.35"])),
                           narrative=f"Draft section {i} of the brief on causation")
                     for i in range(n)])
    result = check_entries(rows)
    expected = rows.loc[rows["hours_milli"] % 100 != 0, "entry_id"].tolist()
    assert ids(result, "INCREMENT") == expected


def test_severity_overrides_keep_impossible_days_errors(tmp_path):
    quiet = _guideline(tmp_path, "quiet.yaml", "severity: {DAILY_MAX: info}\n")
    result = check_entries(entries(entry("A", hours="12"), entry("B", timekeeper_id="TK2", hours="25")),
                           guidelines=quiet)
    severity = result.findings.set_index(["rule", "entry_id"])["severity"]
    assert severity[("DAILY_MAX", "A")] == "info"
    assert severity[("DAILY_MAX", "B")] == "error"  # over 24 hours is always an error


# ================================================================================= patterns
def test_prefix_tree_matches_exactly_what_the_plain_alternation_matches():
    from billxl.demo import build_firm
    from billxl.rules import narratives

    texts = pd.Series([*build_firm(seed=5, entries=3000).time_export["narrative"].unique(),
                       *narratives.VAGUE_PHRASES, "Copy and organize exhibits", "pre-bill review",
                       "Bates-stamp production", "scheduling order review", "e-filing of brief",
                       "Office conference with associate", "discussed status with the partner",
                       "Photocopies", "re: invoice", "", "file"], dtype=object)
    spaced = " " + texts.str.lower()
    for patterns in (narratives.ADMIN_PATTERNS, narratives.INTERNAL_PATTERNS):
        plain = re.compile(" (?:" + "|".join(p.replace(" ", r"[\W_]+") for p in patterns) + r")\b")
        tree = narratives.phrase_regex(patterns)
        assert tree.pattern != plain.pattern
        assert spaced.str.contains(tree).tolist() == spaced.str.contains(plain).tolist()
    assert narratives.prefix_tree(["copying", "copy and organi[sz]e", "calendar"]) == \
        "c(?:opy(?:ing| and organi[sz]e)|alendar)"


# ================================================================================= demo firm
def test_planted_problems_are_found_on_the_demo_firm():
    from billxl.demo import build_firm
    from billxl.rules.evaluation import score
    from billxl.rules.frames import inputs_from_demo

    for seed, size in ((2026, 6000), (11, 12000)):
        demo = build_firm(seed=seed, month="2026-10", entries=size)
        month = inputs_from_demo(demo)
        truth = demo.ground_truth
        time_scores = score(check_entries(month.entries, context=month.context,
                                          period=month.period).findings,
                            truth[truth["kind"] == "time"])
        expense_scores = score(check_expenses(month.expenses, context=month.context,
                                              period=month.period).findings,
                               truth[truth["kind"] == "expense"])
        scores = pd.concat([time_scores, expense_scores], ignore_index=True)
        planted = scores[scores["planted"] > 0].set_index("rule")
        assert set(planted.index) >= {"DUPLICATE", "BLOCK_BILLING", "VAGUE", "ADMIN_TASK",
                                      "INTERNAL_CONFERENCE", "DAILY_MAX", "INCREMENT",
                                      "UTBMS_MISSING", "UTBMS_INVALID", "CLOSED_MATTER",
                                      "INACTIVE_TIMEKEEPER", "RATE_MISMATCH", "AMOUNT_MISMATCH",
                                      "FORMULA_TEXT", "NARRATIVE_LENGTH", "LATE_TIME",
                                      "EXPENSE_CAP", "RECEIPT_REQUIRED"}
        weak = planted[(planted["recall"] < 0.98) | (planted["precision"] < 0.95)]
        assert weak.empty, f"seed {seed}:\n{weak}"


def test_scores_count_duplicate_pairs_once_whichever_entry_is_flagged():
    from billxl.rules.evaluation import score

    truth = pd.DataFrame({"entry_id": ["B", "D", "V1", "V2"], "kind": "time",
                          "problem": ["DUPLICATE", "DUPLICATE", "VAGUE", "VAGUE"],
                          "detail": ["copy of A (exact)", "copy of C (near)", "", ""]})
    findings = pd.DataFrame({"rule": ["DUPLICATE", "DUPLICATE", "DUPLICATE", "VAGUE", "VAGUE",
                                      "VAGUE"],
                             "entry_id": ["A", "E", "E", "V1", "X", "Y"]})
    table = score(findings, truth).set_index("rule")
    assert table.loc["DUPLICATE", ["planted", "flagged", "right"]].tolist() == [2, 2, 1]
    assert table.loc["DUPLICATE", "recall"] == 0.5 and table.loc["DUPLICATE", "precision"] == 0.5
    # three flagged, two planted, one right: precision is over what was flagged
    assert table.loc["VAGUE", ["planted", "flagged", "right"]].tolist() == [2, 3, 1]
    assert table.loc["VAGUE", "recall"] == 0.5 and table.loc["VAGUE", "precision"] == 1 / 3


def test_an_export_in_decimals_converts_exactly():
    from decimal import Decimal as Dec

    from billxl.rules import entries_from_export

    export = pd.DataFrame({
        "entry_id": ["T1", "T2"], "date": [pd.Timestamp("2026-10-05").date()] * 2,
        "timekeeper_id": ["TK1", "TK1"], "matter_id": ["M1", "M1"], "client_id": ["C1", "C1"],
        "hours": [Dec("1.25"), Dec("0.1")], "rate": [Dec("350.00"), None],
        "amount": [Dec("437.50"), Dec("35.00")], "task_code": ["l310", ""],
        "activity_code": ["A103", None], "narrative": ["Draft brief", "=x"],
        "entered_on": [pd.Timestamp("2026-10-06").date()] * 2, "billable": [True, False]})
    frame = entries_from_export(export, "USD")
    assert frame["hours_milli"].tolist() == [1250, 100]
    assert frame["rate_minor"].tolist() == [35000, pd.NA]
    assert frame["amount_minor"].tolist() == [43750, 3500]
    assert frame["task_code"].tolist() == ["l310", pd.NA]  # the checks upper-case codes
    assert ids(check_entries(frame), "UTBMS_INVALID") == []
    assert ids(check_entries(frame), "FORMULA_TEXT") == ["T2"]


def test_a_huge_block_is_compared_near_linearly_with_a_note():
    # 300 entries of one timekeeper on one matter and day: neighbours are compared, not all pairs
    rows = entries(*[entry(f"T{i}", hours="0.1", narrative=f"Draft clause {i} of the lease")
                     for i in range(300)], entry("COPY", hours="0.1", narrative="Draft clause 299 of the lease"))
    result = check_entries(rows)
    assert "COPY" in ids(result, "DUPLICATE")
    assert any(n.startswith("DUPLICATE: 1 very large group") for n in result.notes)


def test_empty_input_gives_an_empty_findings_frame():
    from billxl import schema

    result = check_entries(schema.empty_frame(schema.TIME_FRAME), context=CONTEXT)
    assert result.findings.empty and list(result.findings.columns) == FINDING_COLUMNS
    assert result.counts().loc["INCREMENT"].tolist() == [0, 0, 0]
    assert check_expenses(schema.empty_frame(schema.EXPENSE_FRAME)).findings.empty


def test_the_public_api_is_pinned():
    import billxl.rules

    assert billxl.rules.__all__ == [
        "FINDING_COLUMNS", "RULES", "SEVERITIES", "CheckResult", "Context", "Guidelines", "Rule",
        "check_entries", "check_expenses", "default_guidelines", "entries_from_export",
        "expenses_from_export", "load_client_guidelines", "load_guidelines"]
    assert list(RULES) == [
        "INCREMENT", "DAILY_MAX", "NEGATIVE_HOURS", "AMOUNT_MISMATCH", "BLOCK_BILLING", "VAGUE",
        "ADMIN_TASK", "INTERNAL_CONFERENCE", "NARRATIVE_LENGTH", "FORMULA_TEXT", "OUTSIDE_PERIOD",
        "LATE_TIME", "CLOSED_MATTER", "INACTIVE_TIMEKEEPER", "RATE_MISMATCH", "RATE_CAP",
        "RATE_INCREASE_UNAPPROVED", "UTBMS_MISSING", "UTBMS_INVALID", "DUPLICATE", "EXPENSE_CAP",
        "RECEIPT_REQUIRED", "NON_BILLABLE_EXPENSE"]
