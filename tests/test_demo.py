"""The demo firm: deterministic, the size asked for, realistic, and honest about its problems.

The ground truth is checked against the data both ways: every planted row really has its
problem, and (for the problems a mechanical test can see) no unplanted row has it. Clean
entries are checked against every rule's threshold, so a rule measured on the demo firm gets
clean recall and precision figures.
"""

from __future__ import annotations

import csv
import difflib
import re
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import python_calamine
import sqlalchemy as sa

from billxl import demo, intake, money
from billxl.rates import resolve_rates
from billxl.store import tables as t

CODE = re.compile(r"^[A-Z]\d{3}$")
#: Words no clean narrative uses: the planted problems are made of them.
PLANTED_WORDS = re.compile(
    r"\bfile\b|filing|schedul|calendar|\bcop(?:y|ies)\b|organi[sz]e|\bscan\b|invoice|billing|"
    r"prebill|courier|bates|proofread|\bbook\b|conference|\bconfer\b|internal|team meeting|"
    r"with associate|with partner|with paralegal|supervising partner|attention to|work on",
    re.IGNORECASE)


@pytest.fixture(scope="module")
def firm() -> demo.DemoFirm:
    return demo.build_firm()


@pytest.fixture(scope="module")
def checked(firm) -> pd.DataFrame:
    """The time export with what the rules compare against, one row per entry."""
    return _facts(firm)


def _facts(firm: demo.DemoFirm) -> pd.DataFrame:
    ref = firm.reference
    e = firm.time_export.copy()
    e["milli"] = [money.qty_to_milli(h) for h in e["hours"]]
    e["rate_minor"] = [money.to_minor(r) for r in e["rate"]]
    e["amount_minor"] = [money.to_minor(a) for a in e["amount"]]
    e["work_date"] = pd.to_datetime(e["date"])
    e["entered"] = pd.to_datetime(e["entered_on"])
    clients = ref["clients"].set_index("client_id")
    e["currency"] = e["client_id"].map(clients["currency"])
    resolved = resolve_rates(e, ref["rates"], ref["timekeepers"], ref["matters"])
    e["in_force"] = resolved["billing_rate_minor"].astype("int64")
    e["expected_amount"] = money.extend_array(e["milli"].to_numpy(), e["rate_minor"].to_numpy())
    matters = ref["matters"].set_index("matter_id")
    e["opened_on"] = e["matter_id"].map(matters["opened_on"])
    e["closed_on"] = e["matter_id"].map(matters["closed_on"])
    e["utbms_required"] = e["matter_id"].map(matters["utbms_required"]).astype(bool)
    tks = ref["timekeepers"].set_index("timekeeper_id")
    e["active_from"] = e["timekeeper_id"].map(tks["active_from"])
    e["active_to"] = e["timekeeper_id"].map(tks["active_to"])
    truth = firm.ground_truth[firm.ground_truth["kind"] == "time"]
    e["problems"] = e["entry_id"].map(truth.groupby("entry_id")["problem"].agg(frozenset))
    e["problems"] = e["problems"].apply(lambda p: p if isinstance(p, frozenset) else frozenset())
    e["day_total"] = e.groupby(["timekeeper_id", "date"])["milli"].transform("sum")
    return e


def _has(e: pd.DataFrame, problem: str) -> pd.Series:
    return e["problems"].apply(lambda p: problem in p)


def _ebilled_matters(firm: demo.DemoFirm) -> set[str]:
    """The matters billed, all or a payor's share, to a client with an e-billing portal."""
    clients = firm.reference["clients"].set_index("client_id")
    matters = firm.reference["matters"]
    payors = demo.billing_terms(firm)["matter_payors"]
    billed_to = pd.concat([matters[["matter_id", "client_id"]],
                           payors[["matter_id", "client_id"]]])
    return set(billed_to.loc[billed_to["client_id"].map(clients["ebilling_portal"]).notna(),
                             "matter_id"])


def _tasks_and_activities() -> tuple[set[str], set[str]]:
    """The billable task and activity codes of the firm's default code sets (the rules' and
    the LEDES checks'): litigation and counseling tasks, and the activities."""
    from billxl.rules.guidelines import default_guidelines

    g = default_guidelines()
    return set(g.codes("task").billable), set(g.codes("activity").billable)


# =================================================================================== shape
def test_same_seed_same_firm_other_seed_another():
    a = demo.build_firm(seed=11, entries=1500)
    b = demo.build_firm(seed=11, entries=1500)
    for name in a.reference:
        pd.testing.assert_frame_equal(a.reference[name], b.reference[name])
    pd.testing.assert_frame_equal(a.time_export, b.time_export)
    pd.testing.assert_frame_equal(a.expense_export, b.expense_export)
    pd.testing.assert_frame_equal(a.ground_truth, b.ground_truth)
    c = demo.build_firm(seed=12, entries=1500)
    assert len(c.time_export) == 1500
    assert not a.time_export["narrative"].equals(c.time_export["narrative"])
    assert not a.time_export["hours"].equals(c.time_export["hours"])
    assert not a.reference["timekeepers"]["last_name"].equals(c.reference["timekeepers"]["last_name"])


def test_problem_rates_change_the_plants_not_the_firm():
    base = demo.build_firm(seed=5, entries=3000)
    other = demo.build_firm(seed=5, entries=3000, problem_rates={"VAGUE": 0.05, "LATE_TIME": 0})
    for name in base.reference:
        pd.testing.assert_frame_equal(base.reference[name], other.reference[name])
    counts = other.ground_truth["problem"].value_counts()
    assert counts["VAGUE"] == 150
    assert "LATE_TIME" not in counts
    late = (pd.to_datetime(other.time_export["entered_on"])
            - pd.to_datetime(other.time_export["date"])).dt.days
    assert late.max() <= demo.LATE_AFTER_DAYS
    with pytest.raises(ValueError, match="unknown problem"):
        demo.build_firm(problem_rates={"TYPO": 0.01})
    with pytest.raises(ValueError, match="YYYY-MM"):
        demo.build_firm(month="2026-13")
    with pytest.raises(ValueError, match="add up to"):
        demo.build_firm(problem_rates={p: 0.1 for p in demo.TIME_PROBLEMS})
    heavy = demo.build_firm(entries=3000, problem_rates={"DUPLICATE": 0.1, "DAILY_MAX": 0.1,
                                                         "INACTIVE_TIMEKEEPER": 0.1})
    assert len(heavy.time_export) == 3000
    assert (heavy.ground_truth["problem"] == "DUPLICATE").sum() == 300


def test_the_smallest_demo_still_has_every_problem():
    tiny = demo.build_firm(seed=4, entries=100)  # the CLI's minimum
    assert len(tiny.time_export) == 100 and len(tiny.reference["timekeepers"]) >= 8
    assert set(tiny.ground_truth["problem"]) == set(demo.TIME_PROBLEMS + demo.EXPENSE_PROBLEMS)
    facts = _facts(tiny)
    clean = facts[facts["problems"].apply(len) == 0]
    assert (clean["rate_minor"] == clean["in_force"]).all()
    assert (clean["day_total"] <= demo.DAILY_MAX_MILLI).all()


def test_default_size_columns_and_types(firm):
    ref = firm.reference
    assert (len(ref["timekeepers"]), len(ref["clients"]), len(ref["matters"])) == (40, 60, 250)
    assert len(firm.time_export) == 6000
    assert 200 <= len(firm.expense_export) <= 500
    assert tuple(firm.time_export.columns) == (
        "entry_id", "date", "timekeeper_id", "timekeeper_name", "timekeeper_class", "matter_id",
        "client_id", "hours", "rate", "amount", "task_code", "activity_code", "narrative",
        "entered_on", "billable")
    assert tuple(firm.expense_export.columns) == (
        "entry_id", "date", "timekeeper_id", "matter_id", "client_id", "expense_code",
        "quantity", "unit_cost", "amount", "narrative", "receipt_ref", "billable")
    assert tuple(firm.ground_truth.columns) == ("entry_id", "kind", "problem", "detail")
    # the reference frames carry exactly the ledger's columns (rates: all but the serial id)
    for name, frame in ref.items():
        table = t.metadata.tables[name]
        wanted = [c.name for c in table.columns if c.name != "rate_id"]
        assert list(frame.columns) == wanted, name
        for col in table.columns:
            if isinstance(col.type, sa.Date):
                assert frame[col.name].dtype == "datetime64[ns]", (name, col.name)
            if isinstance(col.type, sa.String) and col.name in frame:
                longest = frame[col.name].dropna().astype(str).str.len().max()
                assert pd.isna(longest) or longest <= col.type.length, (name, col.name)

    time = firm.time_export
    row = time.iloc[0]
    assert all(isinstance(row[c], Decimal) for c in ("hours", "rate", "amount"))
    assert isinstance(row["date"], date) and isinstance(row["entered_on"], date)
    assert time["billable"].dtype == bool and not time["billable"].all()
    assert time["rate"].map(lambda d: d.as_tuple().exponent == -2).all()
    assert time["amount"].map(lambda d: d.as_tuple().exponent == -2).all()
    assert time["hours"].map(lambda d: -3 <= d.as_tuple().exponent <= -1).all()
    assert time["entry_id"].str.fullmatch(r"T202610\d{7}").all() and time["entry_id"].is_unique
    assert firm.expense_export["entry_id"].str.fullmatch(r"X202610\d{7}").all()
    assert time["timekeeper_id"].str.fullmatch(r"TK\d{3}").all()
    assert ref["matters"]["matter_id"].str.fullmatch(r"C\d{4}-\d{4}").all()
    assert (ref["matters"]["matter_id"].str[:5] == ref["matters"]["client_id"]).all()
    names = ref["timekeepers"].set_index("timekeeper_id")
    shown = names["last_name"] + ", " + names["first_name"]
    assert (time["timekeeper_name"] == time["timekeeper_id"].map(shown)).all()
    assert (time["timekeeper_class"] == time["timekeeper_id"].map(names["classification"])).all()
    assert firm.firm["name"] and firm.firm["currency"] == "USD"


@pytest.mark.slow
def test_a_big_month_scales_the_firm_and_keeps_days_plausible():
    import time as clock

    started = clock.perf_counter()
    big = demo.build_firm(entries=300_000)
    elapsed = clock.perf_counter() - started
    assert elapsed < 30  # about 1.5 s on a laptop; the bound only catches a per-row loop
    assert len(big.time_export) == 300_000
    assert len(big.reference["timekeepers"]) == 2000
    e = big.time_export
    milli = np.array([money.qty_to_milli(h) for h in e["hours"]])
    long_days = set(big.ground_truth.loc[big.ground_truth["problem"] == "DAILY_MAX", "entry_id"])
    clean_day = ~e["entry_id"].isin(long_days).to_numpy()
    totals = pd.Series(milli[clean_day]).groupby(
        [e["timekeeper_id"].to_numpy()[clean_day], e["date"].to_numpy()[clean_day]]).sum()
    assert totals.max() <= demo.DAILY_MAX_MILLI
    per_day = e.groupby(["timekeeper_id", "date"]).size()
    assert per_day.median() <= 10
    counts = big.ground_truth["problem"].value_counts()
    assert counts["INCREMENT"] == 4500 and counts["DUPLICATE"] == 4500


# =================================================================================== validity
def test_every_entry_is_valid_for_intake(firm, tmp_path):
    """Each entry on its own passes intake: the planted problems are for the rules to find."""
    time, ref = firm.time_export, firm.reference
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    assert time["date"].between(first, last).all()
    assert time["hours"].map(lambda h: Decimal(0) < h <= 24).all()
    assert time["timekeeper_id"].isin(ref["timekeepers"]["timekeeper_id"]).all()
    assert time["matter_id"].isin(ref["matters"]["matter_id"]).all()
    for col in ("task_code", "activity_code"):
        codes = time[col]
        assert ((codes == "") | codes.str.fullmatch(CODE.pattern)).all()
    assert (time["amount"] >= 0).all()

    paths = demo.write_exports(firm, tmp_path)
    reference = intake.Reference.from_frames(ref)
    profile = intake.load_profile("canonical")
    for kind in ("time", "expenses"):
        raw = intake.read_table(paths[kind])
        frame, problems = intake.check_entries(raw, profile, reference, kind)
        assert problems == [], problems[:5]
        assert len(frame) == len(firm.time_export if kind == "time" else firm.expense_export)
    frame, _ = intake.check_entries(intake.read_table(paths["time"]), profile, reference, "time")
    assert frame["hours_milli"].tolist() == [money.qty_to_milli(h) for h in time["hours"]]
    assert frame["amount_minor"].tolist() == [money.to_minor(a) for a in time["amount"]]
    assert frame["narrative"].tolist() == time["narrative"].tolist()


def test_clean_entries_trigger_no_rule(checked):
    e = checked
    clean = e["problems"].apply(len) == 0
    c = e[clean]
    assert len(c) > 0.7 * len(e)
    assert (c["milli"] % 100 == 0).all() and (c["milli"] > 0).all()
    assert (c["rate_minor"] == c["in_force"]).all()
    assert (c["amount_minor"] == c["expected_amount"]).all()
    assert (c["work_date"] >= c["opened_on"]).all()
    assert (c["closed_on"].isna() | (c["work_date"] <= c["closed_on"])).all()
    assert (c["work_date"] >= c["active_from"]).all()
    assert (c["active_to"].isna() | (c["work_date"] <= c["active_to"])).all()
    assert ((c["entered"] - c["work_date"]).dt.days.between(0, demo.LATE_AFTER_DAYS)).all()
    text = c["narrative"]
    assert (text.str.split().str.len() >= 6).all()
    assert (text.str.len() <= demo.NARRATIVE_MAX_CHARS).all()
    assert not text.str.contains(";", regex=False).any()
    assert not text.str[0].isin(list("=+-@")).any()
    assert not text.str.contains(PLANTED_WORDS).any(), text[text.str.contains(PLANTED_WORDS)].head()
    tasks, activities = _tasks_and_activities()
    coded = c[c["utbms_required"]]
    assert len(coded) > 1000
    assert coded["task_code"].isin(tasks).all() and coded["activity_code"].isin(activities).all()
    assert (c.loc[~c["utbms_required"], ["task_code", "activity_code"]] == "").all().all()
    # a timekeeper-day with no DAILY_MAX plant stays within 10 hours, duplicates included
    not_long = ~_has(e, "DAILY_MAX")
    assert (e.loc[not_long, "day_total"] <= demo.DAILY_MAX_MILLI).all()
    # one entry per timekeeper, matter and day, except the planted copies
    originals = e[~_has(e, "DUPLICATE")]
    assert not originals.duplicated(["timekeeper_id", "matter_id", "date"]).any()
    # the narratives vary: a handful of templates would make every duplicate test trivial
    assert c["narrative"].nunique() > 0.4 * len(c)


def test_rates_in_force_follow_the_rate_card(checked, firm):
    rates = firm.reference["rates"]
    standard = rates[rates["kind"] == "standard"]
    usd = standard[(standard["currency"] == "USD") & standard["timekeeper_id"].notna()]
    tks = firm.reference["timekeepers"].set_index("timekeeper_id")["classification"]
    july = usd[usd["effective_from"] == pd.Timestamp("2026-07-01")]
    january = usd[usd["effective_from"] == pd.Timestamp("2026-01-01")]
    assert (january["effective_to"] == pd.Timestamp("2026-06-30")).all()
    pairs = january.merge(july, on="timekeeper_id", suffixes=("_jan", "_jul"))
    assert (pairs["rate_minor_jul"] > pairs["rate_minor_jan"]).all()  # the mid-year increase
    july = july.assign(klass=july["timekeeper_id"].map(tks))
    for klass, (low, high) in {"PARTNR": (650, 1200), "ASSOC": (350, 700)}.items():
        units = july.loc[july["klass"] == klass, "rate_minor"] / 100
        assert units.between(low, high).all() and len(units) >= 2
    para = standard[(standard["classification"] == "PARLGL") & (standard["currency"] == "USD")]
    assert (para["rate_minor"] / 100).between(190, 300).all()
    kinds = set(rates["kind"])
    assert kinds == {"standard", "override", "approved"}
    assert rates.loc[rates["kind"] == "override", "matter_id"].notna().any()
    assert rates.loc[rates["kind"] == "override", "client_id"].notna().any()
    # entries bill at the rate in force: agreed (override) where there is one, else standard
    e = checked[~_has(checked, "RATE_MISMATCH")]
    resolved = resolve_rates(e, firm.reference["rates"], firm.reference["timekeepers"],
                             firm.reference["matters"])
    source = resolved["rate_source"].str.split(":").str[0].value_counts()
    # no entry, clean or planted, bills above a rate its client approved
    approved = resolve_rates(checked, firm.reference["rates"], firm.reference["timekeepers"],
                             firm.reference["matters"])["approved_rate_minor"]
    capped = approved.notna()
    assert capped.sum() > 500
    assert (checked.loc[capped, "rate_minor"] <= approved[capped]).all()
    assert source["override"] > 300 and source["standard"] > 3000
    # in October the July rates apply; a March month uses the January ones
    march = demo.build_firm(seed=3, month="2027-03", entries=600)
    m = _facts(march)
    assert m["date"].map(lambda d: (d.year, d.month) == (2027, 3)).all()
    assert m["entry_id"].str.startswith("T202703").all()
    ok = m[~_has(m, "RATE_MISMATCH")]
    assert (ok["rate_minor"] == ok["in_force"]).all()
    std = march.reference["rates"]
    jan = std[(std["kind"] == "standard") & (std["effective_from"] == pd.Timestamp("2027-01-01"))]
    assert set(ok["rate_minor"]) & set(jan["rate_minor"])


def test_reference_data_is_realistic(firm):
    ref = firm.reference
    assert set(ref["offices"]["currency"]) == {"USD", "GBP"}
    assert set(ref["timekeepers"]["classification"]) == set(demo.CLASSES)
    clients = ref["clients"]
    assert {"USD", "GBP", "EUR"} <= set(clients["currency"])
    assert (clients.loc[clients["currency"] == "GBP", "tax_jurisdiction"] == "GB").all()
    assert clients["tax_jurisdiction"].str.startswith("US-").any()
    assert set(clients["payment_terms_days"]) <= {30, 45, 60}
    portal = clients["ebilling_portal"].notna()
    assert portal.sum() >= 5
    assert set(clients.loc[portal, "ebilling_portal"]) <= set(demo.PORTALS)
    assert clients.loc[portal, "ledes_client_id"].notna().all()
    assert {"standard", "strict-insurer"} <= set(clients["guideline_set"])
    assert clients[["address_1", "city", "postcode", "country"]].notna().all().all()
    matters = ref["matters"]
    on_portal = matters["matter_id"].isin(_ebilled_matters(firm))
    # litigation is coded for every client; a matter billed to an e-billing client, all of it
    assert (matters["utbms_required"]
            == ((matters["practice_area"] == "litigation") | on_portal)).all()
    assert (matters.loc[on_portal, "practice_area"] != "litigation").any()
    assert set(matters["practice_area"]) == set(demo.AREAS)
    fixed = matters["fee_arrangement"].isin(["fixed", "capped"])
    assert (matters["fee_arrangement"] == "hourly").mean() > 0.7
    assert fixed.any() and matters.loc[fixed, "fixed_fee_minor"].notna().all()
    assert matters.loc[~fixed, "fixed_fee_minor"].isna().all()
    partners = set(ref["timekeepers"].loc[ref["timekeepers"]["classification"] == "PARTNR",
                                          "timekeeper_id"])
    assert matters["billing_partner_id"].isin(partners).all()
    assert matters["responsible_secretary"].notna().all()
    month_start, month_end = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31")
    closed = matters["closed_on"]
    assert (closed < month_start).sum() >= 2 and closed.between(month_start, month_end).sum() >= 2
    assert matters["opened_on"].between(month_start, month_end).any()
    left = ref["timekeepers"]["active_to"]
    assert left.notna().sum() >= 2 and ref["timekeepers"]["user_name"].is_unique


# =================================================================================== plants
def test_each_problem_is_planted_at_about_its_rate(firm):
    counts = firm.ground_truth.groupby(["kind", "problem"]).size()
    for problem in demo.TIME_PROBLEMS:
        expected = demo.DEFAULT_PROBLEM_RATES[problem] * len(firm.time_export)
        assert 0.8 * expected <= counts[("time", problem)] <= 1.1 * expected, problem
    for problem in demo.EXPENSE_PROBLEMS:
        expected = demo.DEFAULT_PROBLEM_RATES[problem] * len(firm.expense_export)
        assert 0.7 * expected <= counts[("expense", problem)] <= 1.3 * expected, problem
    assert set(firm.ground_truth["problem"]) == set(demo.TIME_PROBLEMS + demo.EXPENSE_PROBLEMS)
    # plants are independent: no entry carries two problems
    assert not firm.ground_truth.duplicated(["kind", "entry_id"]).any()
    assert firm.ground_truth["detail"].str.len().gt(0).all()


def test_ground_truth_matches_the_data(checked):
    e = checked
    tasks, activities = _tasks_and_activities()
    on_grid = e["milli"] % 100 == 0
    assert (~on_grid == _has(e, "INCREMENT")).all()
    after_close = e["closed_on"].notna() & (e["work_date"] > e["closed_on"])
    assert (after_close == _has(e, "CLOSED_MATTER")).all()
    after_leaving = e["active_to"].notna() & (e["work_date"] > e["active_to"])
    assert (after_leaving == _has(e, "INACTIVE_TIMEKEEPER")).all()
    off_rate = e["rate_minor"] != e["in_force"]
    assert (off_rate == _has(e, "RATE_MISMATCH")).all()
    off_amount = e["amount_minor"] != e["expected_amount"]
    assert (off_amount == _has(e, "AMOUNT_MISMATCH")).all()
    late = (e["entered"] - e["work_date"]).dt.days > demo.LATE_AFTER_DAYS
    assert (late == _has(e, "LATE_TIME")).all()
    formula = e["narrative"].str[0].isin(list("=+-@"))
    assert (formula == _has(e, "FORMULA_TEXT")).all()
    long = e["narrative"].str.len() > demo.NARRATIVE_MAX_CHARS
    assert (long == _has(e, "NARRATIVE_LENGTH")).all()
    blank = e["utbms_required"] & ((e["task_code"] == "") | (e["activity_code"] == ""))
    assert (blank == _has(e, "UTBMS_MISSING")).all()
    unknown = e["utbms_required"] & ~blank & (~e["task_code"].isin(tasks)
                                              | ~e["activity_code"].isin(activities))
    assert (unknown == _has(e, "UTBMS_INVALID")).all()
    over = e["day_total"] > demo.DAILY_MAX_MILLI
    assert (over == _has(e, "DAILY_MAX")).all()
    assert (e.loc[over, "day_total"] > 24_000).any()
    assert (e["milli"] <= 24_000).all()

    # the narrative problems read as they should, and only they use their words
    wordy = _has(e, "VAGUE") | _has(e, "ADMIN_TASK") | _has(e, "INTERNAL_CONFERENCE")
    assert not e.loc[~wordy, "narrative"].str.contains(PLANTED_WORDS).any()
    assert (e.loc[~_has(e, "VAGUE"), "narrative"].str.split().str.len() >= 6).all()
    block = e[_has(e, "BLOCK_BILLING")]["narrative"].str.split("; ")
    assert block.map(lambda parts: len(parts) >= 2 and all(len(p.split()) >= 5
                                                            for p in parts)).all()
    assert not e[~_has(e, "BLOCK_BILLING")]["narrative"].str.contains(";", regex=False).any()
    vague = e[_has(e, "VAGUE")]["narrative"]
    assert (vague.str.split().str.len() <= 3).all()
    admin = e[_has(e, "ADMIN_TASK")]["narrative"]
    assert admin.str.contains(PLANTED_WORDS).all()
    internal = e[_has(e, "INTERNAL_CONFERENCE")]["narrative"]
    assert internal.str.contains(r"conference|confer|internal|meet|discuss", case=False).all()
    assert internal.str.contains(r"associate|partner|paralegal|team|[A-Z]\. [A-Z]").all()

    # RATE_MISMATCH keeps the amount consistent with its (wrong) rate, and vice versa
    assert (e.loc[_has(e, "RATE_MISMATCH"), "amount_minor"]
            == e.loc[_has(e, "RATE_MISMATCH"), "expected_amount"]).all()
    assert (e.loc[_has(e, "AMOUNT_MISMATCH"), "rate_minor"]
            == e.loc[_has(e, "AMOUNT_MISMATCH"), "in_force"]).all()


def test_duplicates_name_their_original(checked, firm):
    e = checked.set_index("entry_id")
    truth = firm.ground_truth[firm.ground_truth["problem"] == "DUPLICATE"]
    exact = near = 0
    for copy_id, detail in zip(truth["entry_id"], truth["detail"], strict=True):
        original_id = re.search(r"T\d{13}", detail).group(0)
        copy, original = e.loc[copy_id], e.loc[original_id]
        assert not original["problems"], original_id
        for col in ("timekeeper_id", "matter_id", "date", "hours", "rate", "amount", "billable"):
            assert copy[col] == original[col], (copy_id, col)
        if copy["narrative"] == original["narrative"]:
            exact += 1
            assert "exact" in detail
        else:
            near += 1
            assert "near" in detail
            ratio = difflib.SequenceMatcher(None, copy["narrative"], original["narrative"]).ratio()
            assert ratio > 0.9, (copy["narrative"], original["narrative"])
    assert exact > 10 and near > 10


def test_daily_max_lists_every_entry_of_the_day(checked):
    e = checked
    flagged = e[_has(e, "DAILY_MAX")]
    days = flagged.groupby(["timekeeper_id", "date"]).size()
    whole = e.groupby(["timekeeper_id", "date"]).size().loc[days.index]
    assert (days == whole).all()
    assert (flagged.groupby(["timekeeper_id", "date"])["milli"].sum() > 10_000).all()


def test_ebilling_clients_entries_carry_the_codes_and_lengths_their_portals_require(checked,
                                                                                     firm):
    """A careful firm codes every entry of an e-billing client, from what the entry says
    (litigation tasks on litigation matters, counseling tasks on the others), and keeps each
    line within the portal's length; the code and length plants are on other clients'."""
    from billxl.ledes.portals import load_portal

    clients = firm.reference["clients"].set_index("client_id")
    matters = firm.reference["matters"].set_index("matter_id")
    portal = checked["client_id"].map(clients["ebilling_portal"])
    e = checked[checked["matter_id"].isin(_ebilled_matters(firm))]
    assert portal.notna().sum() == len(e)  # no split matter with an e-billed payor here
    litigation = e["matter_id"].map(matters["practice_area"]) == "litigation"
    assert set(portal.dropna()) == set(demo.PORTALS) and (~litigation).sum() > 100
    assert e["utbms_required"].all()
    tasks, activities = _tasks_and_activities()
    assert e["task_code"].isin(tasks).all() and e["activity_code"].isin(activities).all()
    assert e.loc[litigation, "task_code"].str.fullmatch(r"L\d{3}").all()
    assert e.loc[~litigation, "task_code"].isin(["C100", "C200", "C300", "C400"]).all()
    limit = portal[e.index].map(lambda p: load_portal(p).max_description_length)
    assert (e["narrative"].str.len() <= limit).all()
    assert not e["problems"].map(
        {"UTBMS_MISSING", "UTBMS_INVALID", "NARRATIVE_LENGTH"}.intersection).any()
    # the codes are the ones of the action the narrative names, not drawn at random
    coded = {text: (task, activity) for pool in demo._POOLS for text, task, activity in pool}
    assert len(coded) == sum(len(pool) for pool in demo._POOLS)
    actions = sorted(coded, key=len, reverse=True)
    said = e["narrative"].map(lambda n: next((a for a in actions if n.startswith(a)), None))
    plain = e[said.notna()]
    assert len(plain) > 0.8 * len(e) and (~litigation[plain.index]).sum() > 100
    assert list(zip(plain["task_code"], plain["activity_code"], strict=True)) == \
        [coded[a] for a in said.dropna()]


def test_a_matter_split_with_an_ebilling_payor_is_coded_for_it():
    small = demo.build_firm(seed=7, entries=600)
    payors = demo.billing_terms(small)["matter_payors"]
    clients = small.reference["clients"].set_index("client_id")
    assert payors["client_id"].map(clients["ebilling_portal"]).isna().tolist() == [True, False]
    split = payors["matter_id"].iloc[0]
    matters = small.reference["matters"].set_index("matter_id")
    assert matters.loc[split, "utbms_required"]
    e = _facts(small)
    e = e[e["matter_id"] == split]
    tasks, activities = _tasks_and_activities()
    assert len(e) > 5 and e["task_code"].isin(tasks).all()
    assert e["activity_code"].isin(activities).all()
    assert not e["problems"].map(
        {"UTBMS_MISSING", "UTBMS_INVALID", "NARRATIVE_LENGTH"}.intersection).any()


def test_expense_problems_match_the_data(firm):
    x = firm.expense_export
    amount = x["amount"].map(money.to_minor)
    truth = firm.ground_truth[firm.ground_truth["kind"] == "expense"]
    planted = truth.groupby("problem")["entry_id"].agg(set)
    no_receipt = (amount > demo.RECEIPT_OVER_MINOR) & (x["receipt_ref"] == "")
    assert set(x.loc[no_receipt, "entry_id"]) == planted["RECEIPT_REQUIRED"]
    over_cap = (x["expense_code"] == "E111") & (amount > demo.MEAL_CAP_MINOR)
    assert set(x.loc[over_cap, "entry_id"]) == planted["EXPENSE_CAP"]
    extended = [money.extend(money.qty_to_milli(q), money.to_minor(u))
                for q, u in zip(x["quantity"], x["unit_cost"], strict=True)]
    assert (amount == extended).all()
    assert x["expense_code"].str.fullmatch(r"E1\d\d").all()
    assert x["date"].between(date(2026, 10, 1), date(2026, 10, 31)).all()
    ref = firm.reference["matters"].set_index("matter_id")
    closed = pd.to_datetime(x["matter_id"].map(ref["closed_on"]))
    assert (closed.isna() | (pd.to_datetime(x["date"]) <= closed)).all()


# =================================================================================== outputs
def test_reference_loads_into_a_ledger(empty_ledger, firm):
    demo.load_into(empty_ledger, firm)
    for name, frame in firm.reference.items():
        assert empty_ledger.count(t.metadata.tables[name]) == len(frame), name
    stored = empty_ledger.matters().set_index("matter_id").sort_index()
    built = firm.reference["matters"].set_index("matter_id").sort_index()
    assert stored["utbms_required"].astype(bool).tolist() == built["utbms_required"].tolist()
    assert (stored["closed_on"].isna() == built["closed_on"].isna()).all()
    rates = empty_ledger.rates()
    assert sorted(rates["rate_minor"]) == sorted(firm.reference["rates"]["rate_minor"])
    assert rates["effective_to"].isna().sum() == firm.reference["rates"]["effective_to"].isna().sum()


def test_exports_round_trip_exactly(firm, tmp_path):
    paths = demo.write_exports(firm, tmp_path)
    assert set(paths) == {"time", "expenses", "ground_truth"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "expenses.csv", "ground_truth.csv", "time_entries.xlsx"]  # no temporary files left

    with python_calamine.CalamineWorkbook.from_path(str(paths["time"])) as book:
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    header, body = rows[0], rows[1:]
    assert header == list(demo.TIME_EXPORT_COLUMNS)
    time = firm.time_export
    assert len(body) == len(time)
    col = {name: j for j, name in enumerate(header)}

    def column(name):
        return [r[col[name]] for r in body]

    assert column("entry_id") == time["entry_id"].tolist()
    assert column("narrative") == time["narrative"].tolist()  # '=SUM(...)' stays text
    formulas = [n for n in column("narrative") if n.startswith("=")]
    assert formulas and all(isinstance(n, str) for n in formulas)
    assert column("date") == time["date"].tolist()
    assert column("entered_on") == time["entered_on"].tolist()
    assert column("billable") == time["billable"].tolist()
    for name, places in (("hours", 3), ("rate", 2), ("amount", 2)):
        read = [Decimal(repr(v)).quantize(Decimal(1).scaleb(-places)) for v in column(name)]
        assert read == [v.quantize(Decimal(1).scaleb(-places)) for v in time[name]], name
    assert column("task_code") == time["task_code"].tolist()

    from openpyxl import load_workbook

    sheet = load_workbook(paths["time"], read_only=False).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.cell(1, 1).font.b
    assert sheet.cell(2, col["date"] + 1).number_format == "yyyy-mm-dd"
    formula_row = next(i for i, n in enumerate(column("narrative"), start=2) if n.startswith("="))
    cell = sheet.cell(formula_row, col["narrative"] + 1)
    assert cell.data_type == "s" and cell.value.startswith("=")

    with open(paths["expenses"], encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    x = firm.expense_export
    assert [r["entry_id"] for r in lines] == x["entry_id"].tolist()
    assert [r["amount"] for r in lines] == [str(a) for a in x["amount"]]
    assert [r["date"] for r in lines] == [d.isoformat() for d in x["date"]]
    assert all(re.fullmatch(r"\d+\.\d\d", r["amount"]) for r in lines)

    truth = pd.read_csv(paths["ground_truth"], dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(truth, firm.ground_truth.astype(str), check_dtype=False)


def test_write_exports_replaces_files_whole(firm, tmp_path):
    small = demo.build_firm(seed=9, entries=200)
    demo.write_exports(firm, tmp_path)
    paths = demo.write_exports(small, tmp_path)
    with python_calamine.CalamineWorkbook.from_path(str(paths["time"])) as book:
        rows = book.get_sheet_by_index(0).to_python()
    assert len(rows) == 201
    assert len(pd.read_csv(paths["ground_truth"])) == len(small.ground_truth)
