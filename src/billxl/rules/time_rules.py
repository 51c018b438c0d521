"""The rules over time entries (and the date and narrative rules shared with expenses).

Each rule is one vectorised pass over the batch: a mask of the rows it objects to, then the
message built column-wise on those rows only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from billxl import money
from billxl.cells import formula_like_texts
from billxl.rules import narratives
from billxl.rules.engine import (
    Batch,
    Skip,
    date_text,
    found,
    group_codes,
    group_sum,
    hours_text,
    lookup,
    money_text,
    rule,
    text_of,
)

_DAY = np.timedelta64(1, "D")
IMPOSSIBLE_DAY_MILLI = 24 * money.QTY_SCALE


# =================================================================================== hours
@rule("INCREMENT", severity="error",
      description="Hours are not a multiple of the client's billing increment (default 0.1 hour).")
def increment(b: Batch):
    inc = b.setting("increment_milli").astype(np.int64)
    bad = b.hours_known & (b.hours > 0) & (b.hours % inc != 0)
    if not bad.any():
        return None
    sub = b.frame[bad]
    inc_sub = pd.Series(inc[bad], index=sub.index)
    rounded_up = pd.Series(-(-b.hours[bad] // inc[bad]) * inc[bad], index=sub.index)
    step = hours_text(inc_sub)
    message = ("Hours " + hours_text(sub["hours_milli"]) + " are not a multiple of the client's "
               + step + "-hour increment")
    suggestion = ("Record " + hours_text(rounded_up) + " hours (rounded up to the next " + step
                  + " hour) or correct the time")
    return found(bad, message, field="hours", suggestion=suggestion)


@rule("DAILY_MAX", severity="warning",
      description="A timekeeper's hours on one day are over the daily limit (default 10); "
                  "over 24 is always an error. Every entry of that day is flagged. The day "
                  "counts the entries checked and, where given (``day_other_milli``), the "
                  "timekeeper's other time that day.")
def daily_max(b: Batch):
    day_key = group_codes(b.frame["timekeeper_id"], b.day)
    total = group_sum(day_key, b.hours)
    if b.has("day_other_milli"):  # the timekeeper's time that day outside these entries
        total = total + b.frame["day_other_milli"].fillna(0).to_numpy(dtype=np.int64)
    limit = b.setting("daily_max_milli").astype(np.int64)
    over = b.frame["work_date"].notna().to_numpy() & (total > limit)
    if not over.any():
        return None
    sub = b.frame[over]
    total_sub = pd.Series(total[over], index=sub.index)
    impossible = total_sub > IMPOSSIBLE_DAY_MILLI
    who_when = (text_of(sub["timekeeper_id"]) + " recorded " + hours_text(total_sub)
                + " hours on " + date_text(sub["work_date"]))
    message = who_when.where(
        impossible, who_when + ", over the " + hours_text(pd.Series(limit[over], index=sub.index))
        + "-hour daily limit")
    message = message.where(~impossible, who_when + ": more than 24 hours in one day is impossible")
    suggestion = ("Check that day's entries for a wrong date, a duplicate or a typo in the hours")
    severity = pd.Series(np.where(impossible, "error", None), index=sub.index, dtype=object)
    return found(over, message, field="hours", suggestion=suggestion, severity=severity)


@rule("NEGATIVE_HOURS", severity="error", description="Hours are zero, negative or missing.")
def negative_hours(b: Batch):
    bad = ~b.hours_known | (b.hours <= 0)
    if not bad.any():
        return None
    sub = b.frame[bad]
    message = ("Hours " + hours_text(sub["hours_milli"]) + " are zero or negative").where(
        sub["hours_milli"].notna(), "Hours are missing")
    return found(bad, message, field="hours",
                 suggestion="Enter the hours worked (more than 0); a correction belongs in a "
                            "write-down, not in negative time")


@rule("AMOUNT_MISMATCH", severity="error", needs=("rate_minor", "amount_minor"),
      description="The amount is not hours x rate, rounded by the client's rounding rule.")
def amount_mismatch(b: Batch):
    f = b.frame
    known = b.hours_known & f["rate_minor"].notna().to_numpy() & f["amount_minor"].notna().to_numpy()
    expected = np.zeros(len(b), dtype=np.int64)
    rate = f["rate_minor"].fillna(0).to_numpy(dtype=np.int64)
    for rounding in b.rounding.cat.categories:
        rows = known & (b.rounding == rounding).to_numpy()
        expected[rows] = money.extend_array(b.hours[rows], rate[rows], money.Rounding(rounding))
    amount = f["amount_minor"].fillna(0).to_numpy(dtype=np.int64)
    no_charge = ~f["billable"].to_numpy() & (amount == 0)  # non-billable time shown at 0.00
    bad = known & (amount != expected) & ~no_charge
    if not bad.any():
        return None
    sub = f[bad]
    right = money_text(pd.Series(expected[bad], index=sub.index), sub["currency"])
    message = ("Amount " + money_text(sub["amount_minor"], sub["currency"]) + " is not hours "
               + hours_text(sub["hours_milli"]) + " x rate "
               + money_text(sub["rate_minor"], sub["currency"]) + " = " + right)
    return found(bad, message, field="amount", suggestion="Set the amount to " + right
                 + ", or correct the hours or the rate")


# =================================================================================== narratives
@rule("BLOCK_BILLING", severity="warning",
      description="Several distinct tasks in one entry (block billing): the client cannot see "
                  "the time of each.")
def block_billing(b: Batch):
    return narratives.block_billing_findings(b)


@rule("VAGUE", severity="warning",
      description="A narrative that does not say what was done ('review file', 'attention to "
                  "matter', 'emails with client') or is too short to.")
def vague(b: Batch):
    return narratives.vague_findings(b)


@rule("ADMIN_TASK", severity="warning",
      description="Clerical work (filing, scheduling, copying, billing questions) that clients "
                  "expect in the firm's overhead.")
def admin_task(b: Batch):
    return narratives.admin_findings(b)


@rule("INTERNAL_CONFERENCE", severity="warning",
      description="A conference or meeting inside the firm, which many clients do not pay for.")
def internal_conference(b: Batch):
    return narratives.internal_findings(b)


@rule("NARRATIVE_LENGTH", severity="error", kinds=("time", "expense"),
      description="A narrative longer than the portal accepts (default 1,024 characters).")
def narrative_length(b: Batch):
    length = b.per_row(narratives.lengths(b.distinct_text))
    limit = b.setting("narrative_max_chars").astype(np.int64)
    bad = length > limit
    if not bad.any():
        return None
    index = b.frame.index[bad]
    limit_text = pd.Series(limit[bad], index=index).map("{:,}".format)
    message = ("The narrative has " + pd.Series(length[bad], index=index).map("{:,}".format)
               + " characters, over the limit of " + limit_text)
    return found(bad, message, field="narrative", suggestion="Shorten it to " + limit_text
                 + " characters or split the work into separate entries")


@rule("FORMULA_TEXT", severity="warning", kinds=("time", "expense"),
      description="A narrative a spreadsheet would read as a formula: it starts with =, +, - "
                  "or @ (after spaces too), a tab or a line break.")
def formula_text(b: Batch):
    bad = b.per_row(formula_like_texts(b.distinct_text))
    if not bad.any():
        return None
    first = b.text[bad].map(_formula_start)
    message = "The narrative starts with " + first + ", so a spreadsheet would read it as a formula"
    return found(bad, message, field="narrative",
                 suggestion="Start the narrative with a word; billxl keeps it as text, but the "
                            "client's systems may not")


#: How the message names a starting character that does not show.
_STARTS_NAMED = {"\t": "a tab", "\r": "a line break", "\n": "a line break",
                 "\0": "a NULL character"}


def _formula_start(text: str) -> str:
    """What makes a :func:`billxl.cells.formula_like` narrative a formula, named."""
    c = text[0] if text[0] in _STARTS_NAMED else text.lstrip()[0]
    return _STARTS_NAMED.get(c, f"'{c}'")


# =================================================================================== dates
@rule("OUTSIDE_PERIOD", severity="warning", needs=("period",), kinds=("time", "expense"),
      description="The work date is outside the billing period.")
def outside_period(b: Batch):
    start, end = b.period
    day = b.day
    bad = (day.notna() & ((day < start) | (day > end))).to_numpy()
    if not bad.any():
        return None
    message = ("Work date " + date_text(b.frame["work_date"][bad]) + " is outside the billing "
               f"period {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    return found(bad, message, field="date",
                 suggestion="Bill it in its own period, or correct the date")


@rule("LATE_TIME", severity="warning", needs=("entered_on",),
      description="Time entered more than N days (default 30) after the work was done.")
def late_time(b: Batch):
    f = b.frame
    lag = ((f["entered_on"].dt.normalize() - b.day) / _DAY).to_numpy(dtype=float, na_value=np.nan)
    late_days = b.setting("late_days").astype(float)
    bad = np.nan_to_num(lag, nan=-1) > late_days
    if not bad.any():
        return None
    sub = f[bad]
    message = ("Entered on " + date_text(sub["entered_on"]) + ", "
               + pd.Series(lag[bad].astype(np.int64), index=sub.index).astype(str)
               + " days after the work on " + date_text(sub["work_date"]) + " (limit "
               + pd.Series(late_days[bad].astype(np.int64), index=sub.index).astype(str) + " days)")
    return found(bad, message, field="entered_on",
                 suggestion="Confirm the entry with the timekeeper; some clients refuse late time")


@rule("CLOSED_MATTER", severity="error", needs=("matters",), kinds=("time", "expense"),
      unknown="matter dates unknown",
      description="Work dated before the matter opened or after it closed.")
def closed_matter(b: Batch):
    opened, closed, late, bad = _outside_window(b, b.context.matters, "matter_id",
                                                "opened_on", "closed_on")
    if not bad.any():
        return None
    sub = b.frame[bad]
    work = "Work on " + date_text(sub["work_date"]) + " is "
    message = (work + "after matter " + text_of(sub["matter_id"]) + " closed on "
               + date_text(closed[bad])).where(
        pd.Series(late[bad], index=sub.index),
        work + "before matter " + text_of(sub["matter_id"]) + " opened on " + date_text(opened[bad]))
    return found(bad, message, field="matter_id",
                 suggestion="Check the matter and the date; reopen the matter if the work was "
                            "really done on it")


@rule("INACTIVE_TIMEKEEPER", severity="error", needs=("timekeepers",),
      kinds=("time", "expense"), unknown="timekeepers' active dates unknown",
      description="Work dated when the timekeeper was not active (before joining or after leaving).")
def inactive_timekeeper(b: Batch):
    start, end, late, bad = _outside_window(b, b.context.timekeepers, "timekeeper_id",
                                            "active_from", "active_to")
    if not bad.any():
        return None
    sub = b.frame[bad]
    who = "Timekeeper " + text_of(sub["timekeeper_id"])
    message = (who + " left on " + date_text(end[bad]) + " but recorded work on "
               + date_text(sub["work_date"])).where(
        pd.Series(late[bad], index=sub.index),
        who + " started on " + date_text(start[bad]) + " but recorded work on "
        + date_text(sub["work_date"]))
    return found(bad, message, field="timekeeper_id",
                 suggestion="Check who did the work and the date; the entry may belong to "
                            "another timekeeper")


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")


def _outside_window(b: Batch, table: pd.DataFrame, key: str, first: str, last: str):
    """Each entry's work date against the window [first, last] of its row in ``table``
    (a matter's open period, a timekeeper's active dates; a blank end means still open).
    Returns the window's start and end, which entries are after the end, and which are out."""
    start = _dates(lookup(b.frame[key], table, key, first))
    end = _dates(lookup(b.frame[key], table, key, last))
    early = (b.day < start).fillna(False).to_numpy()
    late = (b.day > end).fillna(False).to_numpy()
    return start, end, late, early | late


# =================================================================================== rates
_RATE_CONTEXT = ("rates", "timekeepers", "matters", "rate_minor")


@rule("RATE_MISMATCH", severity="warning", needs=_RATE_CONTEXT, unknown="rates unknown",
      description="The rate differs from the effective rate: the rate agreed for the client or "
                  "matter if any, else the timekeeper's standard rate (effective-dated).")
def rate_mismatch(b: Batch):
    rates = b.rates
    rate = b.frame["rate_minor"]
    billing = rates["billing_rate_minor"]
    bad = (rate.notna() & billing.notna() & (rate != billing)).fillna(False).to_numpy()
    if not bad.any():
        return None
    sub = b.frame[bad]
    which = rates["rate_source"][bad].str.split(":").str[0].map(
        {"override": "agreed", "standard": "standard"}).fillna("effective")
    expected = money_text(billing[bad], sub["currency"])
    message = ("Rate " + money_text(sub["rate_minor"], sub["currency"]) + " differs from the "
               + which + " rate " + expected + " on " + date_text(sub["work_date"]))
    return found(bad, message, field="rate", suggestion="Bill at " + expected
                 + ", or record why this entry has a different rate")


def _over_approved(b: Batch) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Rows whose rate is above the client's approved rate; of those, the ones that bill the
    firm's new standard rate where the client approved the standard rate before the increase;
    and, for those, the standard rate before the increase and the date of the increase."""
    rates = b.rates
    rate = b.frame["rate_minor"]
    approved = rates["approved_rate_minor"]
    over = (rate.notna() & approved.notna() & (rate > approved)).fillna(False).to_numpy()
    on_standard = over & (rate == rates["standard_rate_minor"]).fillna(False).to_numpy()
    before = _standard_before_increase(b, np.flatnonzero(on_standard))
    covered = (before["rate_minor"] <= approved.reindex(before.index)).fillna(False)
    increase = np.zeros(len(b), dtype=bool)
    increase[before.index[covered.to_numpy()]] = True
    return over, increase, before[covered.to_numpy()]


def _standard_before_increase(b: Batch, rows: np.ndarray) -> pd.DataFrame:
    """For ``rows``, the standard rate of the period before the one in force on the work date
    (``rate_minor``) and the day the current one began (``since``), by timekeeper where the
    timekeeper has standard rates, else by classification."""
    table = b.context.rates
    standard = table[(table["kind"] == "standard") & table["client_id"].isna()
                     & table["matter_id"].isna()]
    entries = b.frame.loc[rows, ["timekeeper_id", "currency", "work_date"]].astype(
        {"timekeeper_id": object, "currency": object})
    entries["classification"] = lookup(b.frame["timekeeper_id"], b.context.timekeepers,
                                       "timekeeper_id", "classification")[rows].astype(object)
    periods = []
    for who in ("timekeeper_id", "classification"):
        level = standard[standard[who].notna() & standard[
            "classification" if who == "timekeeper_id" else "timekeeper_id"].isna()]
        level = level[[who, "currency", "rate_minor", "effective_from"]].astype(
            {who: object, "currency": object})
        joined = entries.reset_index(names="row").merge(level, on=[who, "currency"])
        joined = joined[pd.to_datetime(joined["effective_from"]) <= joined["work_date"]]
        periods.append(joined.assign(level=0 if who == "timekeeper_id" else 1))
    found_periods = pd.concat(periods, ignore_index=True)
    if found_periods.empty:
        return pd.DataFrame({"rate_minor": pd.Series(dtype="Int64"),
                             "since": pd.Series(dtype="datetime64[ns]")})
    # the most specific level that has rates for the row, then its periods newest first
    found_periods = found_periods[found_periods["level"] == found_periods.groupby("row")[
        "level"].transform("min")]
    found_periods = found_periods.sort_values(["row", "effective_from"], ascending=[True, False])
    newest = found_periods.groupby("row").nth(0).set_index("row")
    previous = found_periods.groupby("row").nth(1).set_index("row")
    return pd.DataFrame({"rate_minor": previous["rate_minor"].astype("Int64"),
                         "since": pd.to_datetime(newest["effective_from"].reindex(previous.index))})


@rule("RATE_CAP", severity="error", needs=("rate_minor",),
      description="The rate is above the rate the client approved (its cap, from the ledger), "
                  "or above the guideline's cap for the timekeeper's classification.")
def rate_cap(b: Batch):
    with_ledger = all(b.has(need) for need in _RATE_CONTEXT)
    has_class_caps = any(g.rate_caps for g in b.guides)
    if not with_ledger and not has_class_caps:
        return Skip(("no ledger" if b.context is None else "no rates in the ledger context")
                    + ", approved rates unknown")
    if with_ledger:
        over, increase, _ = _over_approved(b)
        over_approved = over & ~increase
        approved = b.rates["approved_rate_minor"]
    else:
        b.note("approved rates not checked: no ledger; classification caps checked")
        over = over_approved = np.zeros(len(b), dtype=bool)
        approved = pd.Series(pd.NA, index=b.frame.index, dtype="Int64")
    caps = _class_caps(b)
    over_class = (b.frame["rate_minor"] > caps).fillna(False).to_numpy() & ~over
    bad = over_approved | over_class
    if not bad.any():
        return None
    sub = b.frame[bad]
    cap = approved.where(pd.Series(over_approved), caps)[bad]
    cap_text = money_text(cap, sub["currency"])
    whose = pd.Series(np.where(over_approved[bad], "the client's approved rate ",
                               "the guideline's cap for the classification "), index=sub.index)
    message = ("Rate " + money_text(sub["rate_minor"], sub["currency"]) + " is above " + whose
               + cap_text)
    return found(bad, message, field="rate", suggestion="Bill at " + cap_text
                 + " (the cap) or get the client's approval for the higher rate")


@rule("RATE_INCREASE_UNAPPROVED", severity="error", needs=_RATE_CONTEXT,
      unknown="approved rates unknown",
      description="The firm's standard rate went up but the client approved only the old rate "
                  "(e.g. the mid-year increase not approved).")
def rate_increase_unapproved(b: Batch):
    _, increase, before = _over_approved(b)
    if not increase.any():
        return None
    sub = b.frame[increase]
    approved = money_text(b.rates["approved_rate_minor"][increase], sub["currency"])
    message = ("Rate " + money_text(sub["rate_minor"], sub["currency"]) + " is the standard rate "
               "since " + date_text(before["since"].reindex(sub.index)) + ", up from "
               + money_text(before["rate_minor"].reindex(sub.index), sub["currency"])
               + "; the client approved only " + approved)
    return found(increase, message, field="rate", suggestion="Bill at " + approved
                 + " until the client approves the increase")


def _class_caps(b: Batch) -> pd.Series:
    """Each row's guideline cap for its timekeeper's classification (minor units), if any."""
    caps = pd.Series(pd.NA, index=b.frame.index, dtype="Int64")
    if not any(g.rate_caps for g in b.guides):
        return caps
    classification = _classification(b)
    if classification is None:
        b.note("classification caps not checked: timekeepers' classifications unknown")
        return caps
    digits = b.frame["currency"].fillna("USD").map(money.minor_digits)
    for g, rows in b.by_guide():
        for cls, cap in g.rate_caps.items():
            hit = rows & (classification == cls).fillna(False).to_numpy()
            for d in np.unique(digits[hit]):
                at = hit & (digits == d).to_numpy()
                caps[at] = int(cap.scaleb(int(d)).to_integral_value())
    return caps


def _classification(b: Batch) -> pd.Series | None:
    """Each row's classification: the ledger's, else the file's ``timekeeper_class`` column."""
    ctx = b.context
    from_file = b.frame.get("timekeeper_class")
    if ctx is None or ctx.timekeepers is None:
        return from_file
    known = lookup(b.frame["timekeeper_id"], ctx.timekeepers, "timekeeper_id", "classification")
    return known if from_file is None else known.fillna(from_file.astype(object))


# =================================================================================== codes
_CODE_FIELDS = {"time": (("task_code", "task", "Task code"), ("activity_code", "activity", "Activity code")),
                "expense": (("expense_code", "expense", "Expense code"),)}


@rule("UTBMS_MISSING", severity="error", kinds=("time", "expense"),
      description="A task, activity or expense code is blank where the matter requires UTBMS "
                  "codes or the guidelines do.")
def utbms_missing(b: Batch):
    required = b.setting("require_utbms").astype(bool)
    matters = b.context.matters if b.context is not None else None
    if matters is not None and "utbms_required" in matters:
        flags = lookup(b.frame["matter_id"], matters, "matter_id", "utbms_required")
        required = required | flags.astype("boolean").fillna(False).to_numpy()
    else:
        b.note("matters' UTBMS requirement unknown without the ledger; codes checked only where "
               "the guidelines require them")
    parts = []
    for column, _, label in _CODE_FIELDS[b.kind]:
        blank = required & b.frame[column].isna().to_numpy()
        if blank.any():
            parts.append(found(blank, f"{label} is blank, but this matter needs UTBMS codes",
                               field=column, suggestion=f"Add the {label.lower()}"))
    return pd.concat(parts, ignore_index=True) if parts else None


@rule("UTBMS_INVALID", severity="error", kinds=("time", "expense"),
      description="A task, activity or expense code that is not in the code sets the client uses.")
def utbms_invalid(b: Batch):
    parts = []
    for column, kind, label in _CODE_FIELDS[b.kind]:
        # a code column has a few dozen distinct values: judge each once
        codes, uniques = pd.factorize(b.frame[column])
        if len(uniques) == 0:
            continue
        uniques = pd.Series(uniques, dtype=object)
        bad = np.zeros(len(b), dtype=bool)
        phase = np.zeros(len(b), dtype=bool)
        for g, rows in b.by_guide():
            code_set = g.codes(kind)
            bad_u = np.r_[~uniques.isin(code_set.billable).to_numpy(), False]  # -1: blank
            phase_u = np.r_[uniques.isin(code_set.phases).to_numpy(), False]
            bad |= rows & bad_u[codes]
            phase |= rows & phase_u[codes]
        if not bad.any():
            continue
        sub = b.frame[column][bad].astype(object)
        message = (label + " " + sub + " is not in the client's " + kind + " codes").where(
            pd.Series(~phase[bad], index=sub.index),
            label + " " + sub + " is a phase heading, not a task code")
        parts.append(found(bad, message, field=column,
                           suggestion=f"Use a {kind} code from the client's UTBMS code set"))
    return pd.concat(parts, ignore_index=True) if parts else None
