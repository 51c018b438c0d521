"""The month-end packs' figures: tied out to the ledger, confidential per partner, cached.

The demo firm (600 time entries, two billing partners, every client shared between them) is run
once for the module through ``run_demo`` (October billed on 31 October, November's receipts
with one bounced), then given what the demo does not make: November time still in WIP, trust
money applied to an invoice, a post-bill write-off, collections notes with promises to pay, a
portal rejection, and findings reopened, queried and waived. Each pack figure is compared with
an independent computation straight from the ledger's tables (SQL through SQLAlchemy here, in
the test) or with another billxl path (``ar.aging``, ``ar.worklist``), to the cent.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl import ar, intake, payments, trust
from billxl.errors import BillxlError
from billxl.ledes import submissions as ledes_submissions
from billxl.monthend import run_demo
from billxl.packs import source
from billxl.packs.collections import collections_pack
from billxl.packs.monthly import monthly_pack
from billxl.packs.reconciliation import reconciliation_pack
from billxl.packs.source import pack_digest, pack_scopes
from billxl.store import findings as findings_store
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from billxl.store.view import LedgerView
from tests.conftest import postgres_url_or_skip

MONTH = "2026-10"
PACKS = (monthly_pack, reconciliation_pack, collections_pack)
MONTHS = ("2026-10", "2026-11", "2026-12")


# ================================================================================== the ledger
def _november_time(ledger: Ledger, exports, folder) -> None:
    """Eight of October's entries again, worked in November: WIP at November's end."""
    rows = pd.read_excel(exports / "time_entries.xlsx", engine="openpyxl", dtype=str)
    rows = rows[rows["task_code"].notna()].head(8).copy()
    rows["entry_id"] = [f"T20261199{i:04d}" for i in range(len(rows))]
    rows["date"] = [f"2026-11-{10 + i:02d}" for i in range(len(rows))]
    rows["entered_on"] = rows["date"]
    path = folder / "november_time.csv"
    rows.to_csv(path, index=False)
    intake.import_file(ledger, path, "time", "canonical", actor="test")


def _enrich(ledger: Ledger, exports, folder) -> None:
    """What a real month has and the demo does not (see the module's note)."""
    _november_time(ledger, exports, folder)
    inv = ledger.read_frame(sa.select(t.invoices.c.number, t.invoices.c.client_id,
                                      t.invoices.c.matter_id, t.invoices.c.currency))
    # trust: a deposit for the matter of invoice 000005, part of it applied to that invoice
    five = inv.set_index("number").loc["000005"]
    trust.deposit(ledger, five["matter_id"], "1500.00", reference="DEP-1", on=date(2026, 11, 5),
                  actor="test")
    trust.apply_to_invoice(ledger, five["matter_id"], "000005", "400.00",
                           authorisation="email 2026-11-19", on=date(2026, 11, 20), actor="test")
    # a post-bill write-off of part of invoice 000001, on 25 November
    payments.write_off(ledger, "000001", "120.50", reason="goodwill: disputed travel time",
                       on=date(2026, 11, 25), actor="test")
    # promises: one kept or broken in November, one still due in December
    client = five["client_id"]
    ar.add_note(ledger, client, "AP will pay invoice 000005 by the 10th", invoice="000005",
                contacted_on=date(2026, 11, 26), promised_on=date(2026, 12, 10),
                promised_amount="500.00", actor="test")
    ar.add_note(ledger, client, "Finance director promised a payment", contacted_on=date(
        2026, 11, 2), promised_on=date(2026, 11, 15), promised_amount="100.00", actor="test")
    # a portal rejection
    first = ledger.read_frame(sa.select(t.submissions.c.submission_id)).iloc[0, 0]
    ledes_submissions.set_status(ledger, int(first), "rejected",
                                 reason="task code missing on line 3", actor="test")
    # findings: some reopened, one queried, two waived
    f = ledger.read_frame(sa.select(t.findings.c.finding_id).order_by(t.findings.c.finding_id))
    ids = f["finding_id"].astype(int).tolist()
    findings_store.set_status(ledger, ids[0:6], "open", actor="test")
    findings_store.set_status(ledger, ids[6:8], "queried", actor="test")
    findings_store.set_status(ledger, ids[8:10], "waived",
                              reason="client agreed the rate in writing", actor="test")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's ledger after the month end, enriched; its SQLite URL."""
    folder = tmp_path_factory.mktemp("packs")
    run_demo(folder / "demo", month=MONTH, entries=600, seed=7, packs=False)
    url = f"sqlite:///{folder / 'demo' / 'billxl.db'}"
    ledger = Ledger.open(url)
    _enrich(ledger, folder / "demo" / "exports", folder)
    ledger.dispose()
    source.forget()
    LedgerView.close_all()
    yield url
    source.forget()
    LedgerView.close_all()


@pytest.fixture(scope="module")
def ledger(demo):
    ledger = Ledger.open(demo)
    yield ledger
    ledger.dispose()


def sql(ledger: Ledger, text: str, **params) -> pd.DataFrame:
    with ledger.engine.connect() as conn:
        result = conn.execute(sa.text(text), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def per_currency(frame: pd.DataFrame, value: str) -> dict[str, int]:
    rows = frame[~frame["_total"]] if "_total" in frame else frame
    return {c: int(v) for c, v in rows.groupby("currency")[value].sum().items() if v}


def totals(frame: pd.DataFrame, value: str) -> dict[str, int]:
    rows = frame[frame["_total"]]
    return {c: int(v) for c, v in zip(rows["currency"], rows[value], strict=True) if v}


def headline(pack, figure: str, column: str = "this_month") -> dict[str, object]:
    h = pack.tables["headline"].frame
    rows = h[h["figure"] == figure]
    return dict(zip(rows["currency"], rows[column], strict=True))


def nonzero(values: dict) -> dict:
    return {k: v for k, v in values.items() if v}


def partners(ledger: Ledger) -> dict[str, set[str]]:
    m = sql(ledger, "SELECT matter_id, billing_partner_id FROM matters")
    return {p: set(g["matter_id"]) for p, g in m.groupby("billing_partner_id")}


# ================================================================================== tie-outs
def test_billed_collected_and_written_off_tie_out_to_the_journals(demo, ledger):
    october, november = monthly_pack("2026-10", ledger_url=demo), monthly_pack(
        "2026-11", ledger_url=demo)
    billed = sql(ledger, "SELECT currency, SUM(total_minor) AS v FROM invoices WHERE "
                 "invoice_date BETWEEN '2026-10-01' AND '2026-10-31' GROUP BY currency")
    expected = dict(zip(billed["currency"], billed["v"].astype(int), strict=True))
    assert len(expected) == 3
    assert nonzero(headline(october, "Billed")) == expected
    assert totals(october.tables["billing"].frame, "total") == expected
    assert per_currency(october.tables["billing"].frame, "total") == expected
    assert headline(november, "Billed", "last_month") == headline(october, "Billed")
    fees = sql(ledger, "SELECT currency, SUM(fees_minor - discount_minor) AS v FROM invoices "
               "WHERE invoice_date BETWEEN '2026-10-01' AND '2026-10-31' GROUP BY currency")
    assert totals(october.tables["billing"].frame, "fees") == dict(
        zip(fees["currency"], fees["v"].astype(int), strict=True))

    paid = sql(ledger, "SELECT i.currency, SUM(a.amount_minor) AS v, SUM(CASE WHEN "
               "a.trust_entry_pk IS NULL THEN 0 ELSE a.amount_minor END) AS trust FROM "
               "allocations a JOIN invoices i ON i.invoice_pk = a.invoice_pk WHERE a.applied_on "
               "BETWEEN '2026-11-01' AND '2026-11-30' GROUP BY i.currency")
    expected = dict(zip(paid["currency"], paid["v"].astype(int), strict=True))
    assert nonzero(headline(november, "Collected")) == expected
    got = november.tables["collections"].frame
    assert totals(got, "collected") == expected
    assert totals(got, "from_trust") == {"GBP": 40000} == nonzero(
        dict(zip(paid["currency"], paid["trust"].astype(int), strict=True)))
    # the year to date is October and November together
    assert nonzero(headline(november, "Collected", "ytd")) == expected
    assert headline(november, "Billed", "ytd") == headline(october, "Billed")

    off = november.tables["write_offs"].frame
    assert off.loc[~off["_total"], ["number", "amount", "reason"]].values.tolist() == [
        ["000001", 12050, "goodwill: disputed travel time"]]
    assert totals(off, "amount") == {"GBP": 12050}
    assert totals(october.tables["write_offs"].frame, "amount") == {}


def test_ar_and_credits_are_the_aging_of_ar_on_the_month_end(demo, ledger):
    for month, as_of in (("2026-11", date(2026, 11, 30)), ("2026-12", date(2026, 12, 31))):
        pack = monthly_pack(month, ledger_url=demo)
        table = ar.aging(ledger, as_of)  # the aging command's own path
        got = pack.tables["ar_aging"].frame
        for col in ("total", "credits", "net", "1_30", "31_60"):
            assert per_currency(got, col) == nonzero(
                table.groupby("currency")[col].sum().astype(int).to_dict()), (month, col)
            assert totals(got, col) == per_currency(got, col)
        assert nonzero(headline(pack, "AR at month end")) == per_currency(got, "total")
        assert nonzero(headline(pack, "Credits held (on account, owed back)")) == \
            per_currency(got, "credits")
    owed = sql(ledger, "SELECT i.currency, SUM(i.total_minor) AS v FROM invoices i WHERE "
               "i.invoice_date <= '2026-10-31' AND i.kind = 'invoice' GROUP BY i.currency")
    october = monthly_pack("2026-10", ledger_url=demo)  # nothing paid by 31 October
    assert nonzero(headline(october, "AR at month end")) == dict(
        zip(owed["currency"], owed["v"].astype(int), strict=True))
    # a stock's last month is the previous month's end, and it has no year to date
    december = monthly_pack("2026-12", ledger_url=demo)
    november = monthly_pack("2026-11", ledger_url=demo)
    assert headline(december, "AR at month end", "last_month") == headline(
        november, "AR at month end")
    assert set(headline(december, "AR at month end", "ytd").values()) == {None}
    assert set(headline(december, "DSO (debtor days)", "ytd").values()) == {None}


def test_wip_and_hours_tie_out_to_the_time_entries(demo, ledger):
    pack = monthly_pack("2026-11", ledger_url=demo)
    hours = sql(ledger, "SELECT SUM(hours_milli) AS v FROM time_entries WHERE billable "
                "AND work_date BETWEEN '2026-11-01' AND '2026-11-30'")["v"].iloc[0]
    assert headline(pack, "Hours worked (billable)") == {"": int(hours)} and hours > 0
    october = sql(ledger, "SELECT SUM(hours_milli) AS v FROM time_entries WHERE billable AND "
                  "work_date BETWEEN '2026-10-01' AND '2026-10-31'")["v"].iloc[0]
    assert headline(pack, "Hours worked (billable)", "last_month") == {"": int(october)}
    assert headline(pack, "Hours worked (billable)", "ytd") == {"": int(hours + october)}
    # November's time is all WIP now: the view's WIP now (open work only) is the WIP on 30 Nov
    view = LedgerView(ledger)
    matters = sql(ledger, "SELECT DISTINCT matter_id FROM time_entries WHERE status = 'WIP' "
                  "AND billable")["matter_id"]
    now = {m: view.wip(m) for m in matters}
    aged = pack.tables["wip_aging"].frame
    rows = aged[~aged["_total"]]
    assert dict(zip(rows["matter_id"], rows["total"], strict=True)) == {
        m: v for m, v in now.items() if v}
    # aged by work date on 30 November: November's time 1-30 days old, and the October time of
    # the matters billed quarterly (not billed in October) 30 days old or more
    open_now = view.wip_rows()
    open_now = open_now[open_now["billable"]]
    days = (pd.Timestamp("2026-11-30") - pd.to_datetime(open_now["work_date"])).dt.days
    for bucket, (low, high) in {"1_30": (1, 30), "31_60": (31, 60)}.items():
        inside = open_now[(days >= low) & (days <= high)]
        assert per_currency(aged, bucket) == nonzero(
            inside.groupby("currency")["billing_minor"].sum().astype(int).to_dict()), bucket
    assert (days.between(1, 60)).all() and (days > 30).any()
    assert nonzero(headline(pack, "WIP at month end (billing rates)")) == totals(aged, "total")
    # October's month end: its WIP is the October time nobody billed, all of it still open now
    october_left = open_now[pd.to_datetime(open_now["work_date"]) <= pd.Timestamp("2026-10-31")]
    assert nonzero(headline(monthly_pack("2026-10", ledger_url=demo),
                            "WIP at month end (billing rates)")) == nonzero(
        october_left.groupby("currency")["billing_minor"].sum().astype(int).to_dict()) != {}


def test_worked_value_realization_utilisation_and_lockup_from_the_ledger(demo, ledger):
    october = monthly_pack("2026-10", ledger_url=demo)
    # the billable October entries billed or written off on a pre-bill carry their standard value
    # there; the rest (held over by the partners, or on the matters billed quarterly) are still
    # WIP, valued at standard rates by the view
    worked = sql(ledger, """
        SELECT te.currency, SUM(pl.worked_amount_minor) AS v FROM prebill_lines pl
        JOIN time_entries te ON te.entry_pk = pl.entry_pk
        WHERE pl.entry_kind = 'time' AND te.billable AND te.status <> 'WIP'
          AND te.work_date BETWEEN '2026-10-01' AND '2026-10-31' GROUP BY te.currency""")
    expected = dict(zip(worked["currency"], worked["v"].astype(int), strict=True))
    left = LedgerView(ledger).wip_rows(date(2026, 10, 31))
    left = left[left["billable"] & (left["entry_kind"] == "time")]
    assert len(left) > 0
    for cur, v in left.groupby("currency")["standard_minor"].sum().items():
        expected[cur] = expected.get(cur, 0) + int(v)
    assert nonzero(headline(october, "Worked value at standard rates")) == nonzero(expected)
    lines = sql(ledger, """
        SELECT i.currency, SUM(il.standard_amount_minor) AS std, SUM(il.amount_minor) AS fees
        FROM invoice_lines il JOIN invoices i ON i.invoice_pk = il.invoice_pk
        WHERE il.line_type IN ('F', 'IF') GROUP BY i.currency""").set_index("currency")
    off = sql(ledger, """
        SELECT te.currency, SUM(pl.worked_amount_minor) AS v FROM prebill_lines pl
        JOIN time_entries te ON te.entry_pk = pl.entry_pk
        WHERE pl.action = 'write_off' AND pl.entry_kind = 'time' GROUP BY te.currency
        """).set_index("currency")["v"]
    realization = headline(october, "Billing realization")
    for cur in lines.index:
        std = int(lines.loc[cur, "std"]) + int(off.get(cur, 0))
        assert realization[cur] == (Decimal(int(lines.loc[cur, "fees"])) / std).quantize(
            Decimal("0.0001")), cur
    november = monthly_pack("2026-11", ledger_url=demo)
    billed = dict(zip(*sql(ledger, "SELECT currency, SUM(total_minor) AS v FROM invoices "
                           "GROUP BY currency").T.values, strict=True))
    collected = headline(november, "Collected", "ytd")
    for cur, rate in headline(november, "Collection rate", "ytd").items():
        assert rate == (Decimal(collected[cur]) / int(billed[cur])).quantize(Decimal("0.0001"))
    assert set(headline(november, "Collection rate").values()) == {None}  # nothing billed
    # utilisation: billable hours over 8 hours a working day of every timekeeper active then
    tks = sql(ledger, "SELECT active_from, active_to FROM timekeepers")
    days = 0
    for first, last in zip(tks["active_from"], tks["active_to"], strict=True):
        start = max(date.fromisoformat(str(first)[:10]), date(2026, 10, 1))
        end = date(2026, 10, 31)
        if pd.notna(last):
            end = min(date.fromisoformat(str(last)[:10]), end)
        days += sum(1 for n in range((end - start).days + 1)
                    if (start + pd.Timedelta(days=n)).weekday() < 5)
    hours = headline(october, "Hours worked (billable)")[""]
    assert headline(october, "Utilisation") == {"": (Decimal(hours) / (days * 8000)).quantize(
        Decimal("0.0001"))}
    # the ledger's time starts in October: the year to date is measured from there, not from
    # 1 January (nine months nobody recorded would read as idle)
    assert headline(october, "Utilisation", "ytd") == headline(october, "Utilisation")
    # debtor days: AR on 30 November over the daily billing of the ledger's history to then
    # (its first invoices are October's: 1 October to 30 November, 61 days, not a year)
    owed = ar.aging(ledger, date(2026, 11, 30)).groupby("currency")["total"].sum()
    dso = headline(november, "DSO (debtor days)")
    for cur in owed.index:
        assert dso[cur] == (Decimal(int(owed[cur])) * 61 / int(billed[cur])).quantize(
            Decimal("0.1"))
    lockup = headline(november, "Lock-up (days)")
    wip_days = headline(november, "WIP days")
    assert all(lockup[c] == dso[c] + wip_days[c] for c in lockup)
    assert wip_days["GBP"] > 0


def test_write_downs_hold_the_partners_reasons_and_tie_to_the_written_down_value(demo, ledger):
    pack = monthly_pack("2026-10", ledger_url=demo)
    got = pack.tables["write_downs"].frame
    lines = sql(ledger, """
        SELECT pb.matter_id, COALESCE(pl.reason_code, '') AS code, te.currency,
               COUNT(*) AS n, SUM(CASE WHEN pl.action = 'bill'
                   THEN pl.worked_amount_minor - pl.bill_amount_minor
                   ELSE pl.worked_amount_minor END) AS down
        FROM prebill_lines pl JOIN prebills pb ON pb.prebill_pk = pl.prebill_pk
        JOIN time_entries te ON te.entry_pk = pl.entry_pk
        WHERE pl.entry_kind = 'time' AND pl.action IN ('bill', 'no_charge', 'write_off')
          AND (pl.action <> 'bill' OR pl.reason_code IS NOT NULL
               OR pl.bill_amount_minor <> pl.worked_amount_minor)
        GROUP BY pb.matter_id, COALESCE(pl.reason_code, ''), te.currency""")
    reasons = got[~got["_total"] & (got["lines"] > 0)]
    expected = {(r.matter_id, r.code): (int(r.n), int(r.down)) for r in lines.itertuples()}
    shown = {(m, (r.split(":")[0] if r != "No reason given" else "")): (n, d) for m, r, n, d in
             zip(reasons["matter_id"], reasons["reason"], reasons["lines"],
                 reasons["written_down"], strict=True)}
    assert shown == expected and any(code == "WD-DUP" for _m, code in shown)
    assert "WD-INEFF: write-down: more time than the task warranted (inefficiency)" in set(
        reasons["reason"])
    # the total is the month's written-down value: standard value of the billed fee lines less
    # their billed value, plus the standard value of the time written off on the pre-bills
    billed = sql(ledger, """
        SELECT i.currency, SUM(il.standard_amount_minor - il.amount_minor) AS v
        FROM invoice_lines il JOIN invoices i ON i.invoice_pk = il.invoice_pk
        WHERE il.line_type IN ('F', 'IF') AND i.invoice_date BETWEEN '2026-10-01' AND '2026-10-31'
        GROUP BY i.currency""")
    off = sql(ledger, """
        SELECT te.currency, SUM(pl.worked_amount_minor) AS v FROM prebill_lines pl
        JOIN time_entries te ON te.entry_pk = pl.entry_pk
        WHERE pl.action = 'write_off' AND pl.entry_kind = 'time' GROUP BY te.currency""")
    expected = dict(zip(billed["currency"], billed["v"].astype(int), strict=True))
    for cur, v in zip(off["currency"], off["v"].astype(int), strict=True):
        expected[cur] = expected.get(cur, 0) + v
    assert totals(got, "written_down") == nonzero(expected)
    assert per_currency(got, "written_down") == totals(got, "written_down")


def test_top_overdue_shows_the_trust_held_for_the_matter(demo, ledger):
    shown = monthly_pack("2026-12", ledger_url=demo).tables["top_overdue"].frame
    got = shown[~shown["_total"]]
    assert len(got) and (got["days_overdue"] > 0).all()
    assert totals(shown, "trust_held") == {"GBP": 110000}
    assert totals(shown, "balance") == per_currency(shown, "balance")
    five = got.set_index("number").loc["000005"]
    # deposited 1,500.00, 400.00 of it applied to the invoice itself
    assert five["trust_held"] == 110000 and five["currency"] == "GBP"
    assert five["balance"] == ar.aging(ledger, date(2026, 12, 31), by="matter").set_index(
        "matter_id").loc[five["matter_id"], "total"]
    per = got.groupby("currency")["balance"].apply(list)
    assert all(v == sorted(v, reverse=True) and len(v) <= 10 for v in per)
    days = sql(ledger, "SELECT number, due_date FROM invoices").set_index("number")["due_date"]
    for number, shown in zip(got["number"], got["days_overdue"], strict=True):
        assert shown == (date(2026, 12, 31) - date.fromisoformat(str(days[number]))).days


def test_exceptions_and_submissions_still_to_deal_with(demo, ledger):
    pack = monthly_pack("2026-10", ledger_url=demo)
    got = pack.tables["exceptions"].frame
    counts = sql(ledger, "SELECT rule, severity, status, COUNT(*) AS n FROM findings WHERE "
                 "status IN ('open', 'queried') GROUP BY rule, severity, status")
    expected = counts.groupby(["rule", "severity"])["n"].sum().astype(int).to_dict()
    assert dict(zip(zip(got["rule"], got["severity"], strict=True), got["findings"],
                    strict=True)) == expected
    # open: the findings of the entries the partners held in WIP until they are corrected
    # (codes, narratives: what the clients would reject at finalize), and the unbilled ones
    assert got["queried"].sum() == 2 and got["open"].sum() == 70
    subs = pack.tables["submissions"].frame
    assert totals(subs, "total") == per_currency(subs, "total")
    subs = subs[~subs["_total"]]
    # every e-billed invoice is submitted (none held back: the split matter has its client
    # matter id, and finalize would have held what a portal rejects)
    assert subs[["invoice", "status", "reason"]].values.tolist() == [
        ["000003", "rejected", "task code missing on line 3"], ["000006", "submitted", ""],
        ["000007", "submitted", ""], ["000008", "submitted", ""], ["000009", "submitted", ""]]


def test_the_reconciliation_review_counts_every_status(demo, ledger):
    pack = reconciliation_pack("2026-10", ledger_url=demo)
    counts = sql(ledger, "SELECT rule, status, COUNT(*) AS n FROM findings GROUP BY rule, status")
    by_rule = pack.tables["by_rule"].frame.groupby("rule")[
        ["open", "queried", "waived", "resolved"]].sum()
    for r in counts.itertuples():
        assert by_rule.loc[r.rule, r.status] == r.n
    assert pack.tables["by_rule"].frame["findings"].sum() == len(sql(
        ledger, "SELECT finding_id FROM findings"))
    for key in ("by_timekeeper", "by_client"):
        frame = pack.tables[key].frame
        assert frame["findings"].sum() == pack.tables["by_rule"].frame["findings"].sum()
        assert frame[["open", "queried", "waived", "resolved"]].sum(axis=1).tolist() == \
            frame["findings"].tolist()
    waived = pack.tables["waivers"].frame
    assert len(waived) == 2 and set(waived["status_reason"]) == {
        "client agreed the rate in writing"} and set(waived["status_by"]) == {"test"}
    still = pack.tables["open_findings"].frame
    # open or queried now: the six reopened and two queried by the test, and the findings on the
    # time of the matters billed quarterly, which October did not bill (still WIP, still open)
    unsettled = len(sql(ledger, "SELECT finding_id FROM findings "
                                "WHERE status IN ('open', 'queried')"))
    assert len(still) == unsettled > 8 and set(still["status"]) == {"open", "queried"}
    assert list(still["severity"]) == sorted(still["severity"])  # errors first
    # the month after: nothing worked in it, but what is still open stays listed
    later = reconciliation_pack("2026-11", ledger_url=demo)
    assert later.tables["by_rule"].frame.empty
    assert len(later.tables["open_findings"].frame) == unsettled


def test_the_worklist_is_the_ar_worklist_and_promises_are_judged_by_collections(demo, ledger):
    pack = collections_pack("2026-12", ledger_url=demo)
    mine = pack.tables["worklist"].frame
    mine = mine[~mine["_total"]].reset_index(drop=True)
    theirs = ar.worklist(ledger, date(2026, 12, 31))  # in its order, within each currency
    theirs = theirs.sort_values("currency", kind="stable", ignore_index=True)
    assert len(theirs) >= 4
    assert mine["client"].tolist() == theirs["client"].tolist()
    assert mine["overdue"].tolist() == theirs["overdue_minor"].tolist()
    assert mine["oldest_invoice"].tolist() == theirs["oldest_invoice"].tolist()
    assert mine["promise"].tolist() == theirs["promise"].fillna("").tolist()
    promises = pack.tables["promises"].frame.set_index("note")
    kept = promises.loc["Finance director promised a payment"]
    client = sql(ledger, "SELECT client_id FROM invoices WHERE number = '000005'").iloc[0, 0]
    assert kept["client"] == sql(ledger, "SELECT name FROM clients WHERE client_id = :c",
                                 c=client).iloc[0, 0]
    paid = sql(ledger, "SELECT SUM(a.amount_minor) AS v FROM allocations a JOIN invoices i ON "
               "i.invoice_pk = a.invoice_pk WHERE i.client_id = :c AND a.applied_on BETWEEN "
               "'2026-11-02' AND '2026-11-15'", c=client)["v"].iloc[0]
    assert kept["collected"] == int(paid or 0) and kept["promised"] == 10000
    assert kept["status"] == ("kept" if (paid or 0) >= 10000 else "broken")
    later = promises.loc["AP will pay invoice 000005 by the 10th"]
    assert (later["invoice"], later["collected"], later["status"]) == ("000005", 0, "broken")
    november = collections_pack("2026-11", ledger_url=demo).tables["promises"].frame
    assert november.set_index("note").loc["AP will pay invoice 000005 by the 10th",
                                          "status"] == "due"
    by_partner = pack.tables["aged_by_partner"].frame
    assert totals(by_partner, "total") == totals(monthly_pack(
        "2026-12", ledger_url=demo).tables["ar_aging"].frame, "total")


# ================================================================================== scopes
def _all_text(pack) -> set[str]:
    found = {pack.title, pack.scope_name}
    for tab in pack.tables.values():
        for col in tab.frame.columns:
            found |= {str(v) for v in tab.frame[col].tolist()}
        for token in list(found):
            found |= {part.strip() for part in token.replace(";", ",").split(",")}
    return found


@pytest.mark.parametrize("month", MONTHS)
def test_a_partners_packs_hold_only_the_partners_matters(demo, ledger, month):
    by_partner = partners(ledger)
    assert sorted(pack_scopes("partner", month, ledger_url=demo)["scope_id"]) == sorted(
        by_partner) == ["TK001", "TK002"]
    m = sql(ledger, "SELECT matter_id, name, client_id FROM matters")
    names = dict(zip(m["matter_id"], m["name"], strict=True))
    inv = sql(ledger, "SELECT number, matter_id FROM invoices")
    for partner, mine in by_partner.items():
        theirs = set().union(*(v for k, v in by_partner.items() if k != partner))
        their_clients = set(m.loc[m["matter_id"].isin(theirs), "client_id"]) - set(
            m.loc[m["matter_id"].isin(mine), "client_id"])
        their_names = {names[x] for x in theirs} - {names[x] for x in mine}  # not unique
        forbidden = (theirs | their_names | their_clients
                     | set(inv.loc[inv["matter_id"].isin(theirs), "number"]))
        for build in PACKS:
            pack = build(month, scope="partner", scope_id=partner, ledger_url=demo)
            seen = _all_text(pack)
            assert not seen & forbidden, (build.__name__, partner, seen & forbidden)
            shown = set()
            for tab in pack.tables.values():
                if "matter_id" in tab.frame:
                    shown |= set(tab.frame["matter_id"]) - {""}
            assert shown <= mine


def _money_totals(pack) -> dict[tuple[str, str, str], int]:
    out = {}
    for key, tab in pack.tables.items():
        frame = tab.frame
        for col in (c.name for c in tab.columns if c.kind == "money"):
            for cur, v in totals(frame, col).items():
                out[(key, col, cur)] = v
    h = pack.tables.get("headline")
    if h is not None:
        money = h.frame[h.frame["_kind"] == "money"]
        for r in money.itertuples():
            for col in ("this_month", "last_month", "ytd"):
                v = getattr(r, col)
                if v:
                    out[("headline", f"{r.figure} {col}", r.currency)] = v
    return out


@pytest.mark.parametrize("by", ["partner", "client", "office"])
@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_the_firms_totals_are_the_sum_of_its_scopes(demo, by, month):
    scopes = pack_scopes(by, month, ledger_url=demo)["scope_id"].tolist()
    assert len(scopes) >= 2
    for build in (monthly_pack, collections_pack):
        firm = _money_totals(build(month, ledger_url=demo))
        summed: dict = {}
        for scope_id in scopes:
            for k, v in _money_totals(build(month, scope=by, scope_id=scope_id,
                                            ledger_url=demo)).items():
                summed[k] = summed.get(k, 0) + v
        # not sums by matter: the ten largest of each pack, and a client's promises (the
        # latest, in the worklist), which are in every pack holding the client
        apart = {"top_overdue", "promises"}
        firm = {k: v for k, v in firm.items() if k[0] not in apart and k[1] != "promised"}
        summed = {k: v for k, v in summed.items() if k[0] not in apart and k[1] != "promised"}
        assert len(firm) > 5 and summed == firm, build.__name__


def test_a_client_and_an_office_pack_hold_only_theirs(demo, ledger):
    m = sql(ledger, "SELECT m.matter_id, m.client_id, COALESCE(m.office_id, c.office_id) AS "
            "office_id FROM matters m JOIN clients c ON c.client_id = m.client_id")
    pack = monthly_pack("2026-11", scope="client", scope_id="C0001", ledger_url=demo)
    assert pack.scope_name == "Cypress Analytics plc" and "Client Cypress" in pack.title
    for tab in pack.tables.values():
        if "matter_id" in tab.frame:
            assert set(tab.frame["matter_id"]) - {""} <= set(
                m.loc[m["client_id"] == "C0001", "matter_id"])
    office = monthly_pack("2026-11", scope="office", scope_id="NYC", ledger_url=demo)
    billed = office.tables["collections"].frame
    assert set(billed["matter_id"]) - {""} <= set(m.loc[m["office_id"] == "NYC", "matter_id"])
    assert set(totals(billed, "collected")) == {"USD"}


@pytest.mark.parametrize(("scope", "scope_id", "message"), [
    ("team", "", "'team' is not one of: firm, partner, client, office"),
    ("partner", "TK999", "no timekeeper 'TK999'"),
    ("partner", "TK005", "'TK005' is not the billing partner of any matter"),
    ("partner", "", "needs the partner's id"),
    ("client", "C9999", "no client 'C9999'"),
    ("office", "PAR", "no office 'PAR'"),
    ("firm", "TK001", "takes no scope id"),
])
def test_an_unknown_scope_or_id_is_refused_by_name(demo, scope, scope_id, message):
    for build in PACKS:
        with pytest.raises(BillxlError, match=message):
            build("2026-11", scope=scope, scope_id=scope_id, ledger_url=demo)


def test_a_bad_month_or_grouping_is_refused(demo):
    with pytest.raises(BillxlError, match="'2026-13' is not a month"):
        monthly_pack("2026-13", ledger_url=demo)
    with pytest.raises(BillxlError, match="'team' is not one of: partner, client, office"):
        pack_scopes("team", "2026-11", ledger_url=demo)


def test_pack_scopes_name_who_has_something_to_show(demo):
    assert pack_scopes("office", "2026-11", ledger_url=demo).values.tolist() == [
        ["CHI", "Chicago"], ["LDN", "London"], ["NYC", "New York"]]
    partners_ = pack_scopes("partner", "2026-11", ledger_url=demo)
    assert list(partners_.columns) == ["scope_id", "name"]
    assert all(", " in n for n in partners_["name"])  # "Last, First"
    assert pack_scopes("partner", "2025-06", ledger_url=demo).empty  # nothing then


# ================================================================================== the cache
def test_the_firms_frames_are_computed_once_and_again_after_a_write(demo, tmp_path,
                                                                     monkeypatch):
    # on a copy of the demo's ledger: the write below must not change what other tests read
    shutil.copyfile(demo.removeprefix("sqlite:///"), tmp_path / "copy.db")
    demo = f"sqlite:///{tmp_path / 'copy.db'}"
    ledger = Ledger.open(demo)
    source.forget()
    LedgerView.close_all()
    reads_made = []
    real = source.pack_reads.pack_reads
    monkeypatch.setattr(source.pack_reads, "pack_reads",
                        lambda led: reads_made.append(1) or real(led))
    first = monthly_pack("2026-12", scope="partner", scope_id="TK001", ledger_url=demo)
    frames = source.month_frames("2026-12", demo)
    assert reads_made == [1]
    second = collections_pack("2026-12", scope="partner", scope_id="TK002", ledger_url=demo)
    again = monthly_pack("2026-12", scope="partner", scope_id="TK001", ledger_url=demo)
    assert source.month_frames("2026-12", demo) is frames and reads_made == [1]
    assert pack_digest(again) == pack_digest(first) != pack_digest(second)
    # a write moves the ledger's change stamp: the next pack reads and computes again
    ar.add_note(ledger, "C0003", "Promised the rest by Christmas",
                contacted_on=date(2026, 12, 1), promised_on=date(2026, 12, 24),
                promised_amount="75.00", actor="test")
    after = collections_pack("2026-12", scope="partner", scope_id="TK002", ledger_url=demo)
    assert source.month_frames("2026-12", demo) is not frames and reads_made == [1, 1]
    assert "Promised the rest by Christmas" in set(after.tables["promises"].frame["note"])
    assert pack_digest(after) != pack_digest(second)
    assert pack_digest(monthly_pack("2026-12", scope="partner", scope_id="TK001",
                                    ledger_url=demo)) == pack_digest(first)
    ledger.dispose()
    source.forget()
    LedgerView.close_all()


def test_the_digest_changes_with_any_value(demo):
    pack = monthly_pack("2026-11", ledger_url=demo)
    digest = pack_digest(pack)
    assert len(digest) == 64 and digest == pack_digest(monthly_pack("2026-11", ledger_url=demo))
    frame = pack.tables["collections"].frame
    assert len(frame)
    pack.tables["collections"].frame = frame.assign(
        collected=frame["collected"] + (frame.index == 0))  # one cent more on one row
    assert pack_digest(pack) != digest
    ratio = pack.tables["headline"].frame
    pack.tables["collections"].frame = frame
    assert pack_digest(pack) == digest
    changed = ratio.copy()
    changed.loc[changed["_kind"] == "ratio", "ytd"] = Decimal("0.1234")
    pack.tables["headline"].frame = changed
    assert pack_digest(pack) != digest


def test_every_table_says_what_it_holds(demo):
    for build in PACKS:
        pack = build("2026-11", scope="partner", scope_id="TK002", ledger_url=demo)
        assert pack.as_of == date(2026, 11, 30) and pack.month == "2026-11"
        assert pack.firm and pack.scope == "partner" and pack.scope_id == "TK002"
        for tab in pack.tables.values():
            assert tab.note and tab.title
            frame = tab.frame
            assert frame["_total"].dtype == bool
            for col in tab.columns:
                values = [v for v in frame[col.name].tolist() if v is not None and v == v]
                if col.kind in ("money", "hours", "count"):
                    assert all(isinstance(v, int) for v in values), (tab.key, col.name)
                if col.kind in ("ratio", "days"):
                    assert all(isinstance(v, Decimal) for v in values), (tab.key, col.name)
            if any(c.kind == "money" for c in tab.columns) and len(frame):
                assert frame["currency"].str.len().eq(3).all()
                for cur, rows in frame.groupby("currency"):
                    assert rows["_total"].sum() == 1 and rows["_total"].iloc[-1], (tab.key, cur)
    head = monthly_pack("2026-11", ledger_url=demo).tables["headline"].frame
    for r in head.to_dict("records"):
        for v in (r["this_month"], r["last_month"], r["ytd"]):
            if v is not None:
                assert isinstance(v, int if r["_kind"] in ("money", "hours") else Decimal)


# ================================================================================== PostgreSQL
@pytest.mark.postgres
def test_a_pack_on_postgresql_is_the_pack_on_sqlite(demo, tmp_path):
    url = postgres_url_or_skip()
    run_demo(tmp_path / "demo", month=MONTH, entries=600, seed=7, ledger_url=url, packs=False)
    pg = Ledger.open(url)
    try:
        _enrich(pg, tmp_path / "demo" / "exports", tmp_path)
    finally:
        pg.dispose()
    for month in ("2026-10", "2026-12"):
        for build in PACKS:
            here = build(month, scope="partner", scope_id="TK002", ledger_url=demo)
            there = build(month, scope="partner", scope_id="TK002", ledger_url=url)
            for key, tab in here.tables.items():
                pd.testing.assert_frame_equal(tab.frame, there.tables[key].frame,
                                              check_dtype=False, obj=f"{month} {key}")
            assert pack_digest(here) == pack_digest(there)
    shutil.rmtree(tmp_path / "demo", ignore_errors=True)
    LedgerView.close_all()


def test_a_blank_ledger_url_is_billxl_ledger(demo, monkeypatch):
    monkeypatch.setenv("BILLXL_LEDGER", demo)
    named = pack_digest(reconciliation_pack("2026-10", ledger_url=demo))
    assert pack_digest(reconciliation_pack("2026-10", ledger_url="")) == named
    assert pack_digest(reconciliation_pack("2026-10")) == named
