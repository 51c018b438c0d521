"""Submissions to e-billing portals: recorded, answered, resubmitted, paid; reports; audit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from billxl.errors import LedgerError
from billxl.ledes.export import export_for_portals
from billxl.ledes.submissions import (
    file_sha256,
    history,
    list_submissions,
    pending_by_age,
    record_submission,
    rejections_by_client,
    rejections_by_reason,
    set_status,
)
from billxl.store import tables as t
from tests.test_ledes_export import set_up


@pytest.fixture
def ledger(empty_ledger):
    set_up(empty_ledger, portals={"C1": "legaltracker", "C2": "tymetrix"})  # C3: no portal
    return empty_ledger


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 9, 0, tzinfo=UTC)


def test_export_for_portals_records_a_submission_per_file(ledger, tmp_path):
    paths = export_for_portals(ledger, "2026-10", tmp_path, actor="billing.sec")
    subs = list_submissions(ledger)
    assert len(paths) == 5 == len(subs)  # the C3 payor's invoice has no portal
    assert paths.refused == []
    assert set(subs["client_id"]) == {"C1", "C2"}
    assert set(subs["status"]) == {"submitted"} and set(subs["version"]) == {1}
    assert set(subs["submitted_by"]) == {"billing.sec"}
    for row in subs.itertuples():
        assert (tmp_path / row.file_name).exists()
        assert row.file_sha256 == file_sha256(tmp_path / row.file_name)
    assert dict(zip(subs["client_id"], subs["portal"], strict=True)) == {
        "C1": "legaltracker", "C2": "tymetrix"}
    # the same month again: the same files, nothing new recorded
    again = export_for_portals(ledger, "2026-10", tmp_path, actor="billing.sec")
    assert sorted(again) == sorted(paths) and len(list_submissions(ledger)) == 5
    audit = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "submit"))
    assert len(audit) == 5 and set(audit["table_name"]) == {"submissions"}


def test_a_submission_from_rejection_to_payment(ledger, tmp_path):
    paths = export_for_portals(ledger, "2026-10", tmp_path, actor="sec")
    subs = list_submissions(ledger).set_index("invoice")
    first = subs.index[0]
    sid = int(subs.loc[first, "submission_id"])
    with pytest.raises(LedgerError, match="needs the portal's reason"):
        set_status(ledger, sid, "rejected")
    set_status(ledger, sid, "rejected", reason="Rate above approved rate; Block billing",
               actor="sec", at=at(10))
    with pytest.raises(LedgerError, match="is rejected; it can become appealed, resubmitted, "
                                          "not paid"):
        set_status(ledger, sid, "paid")
    # a corrected file for the same invoice is version 2; version 1 becomes 'resubmitted'
    corrected = tmp_path / "corrected.txt"
    corrected.write_bytes(next(p for p in paths if p.name.startswith(first)).read_bytes()
                          + b"\r\n")
    second = record_submission(ledger, first, corrected, actor="sec", at=at(12))
    assert (second["version"], second["status"], second["format"]) == (2, "submitted", "1998B")
    assert record_submission(ledger, first, corrected)["submission_id"] == \
        second["submission_id"]  # the same file again changes nothing
    with pytest.raises(LedgerError, match="already submitted to legaltracker .version 2, "
                                          "submitted.; a new version can only follow a "
                                          "rejection"):
        record_submission(ledger, first, paths[-1])
    set_status(ledger, second["submission_id"], "rejected", reason="Block billing", at=at(14))
    set_status(ledger, second["submission_id"], "appealed", reason="entries are itemised",
               at=at(15))
    set_status(ledger, second["submission_id"], "accepted", at=at(20))
    set_status(ledger, second["submission_id"], "paid", at=at(28))
    with pytest.raises(LedgerError, match="is paid; it can become nothing .it is final."):
        set_status(ledger, second["submission_id"], "accepted")
    assert history(ledger, sid)["status"].tolist() == ["submitted", "rejected", "resubmitted"]
    assert history(ledger, second["submission_id"])["status"].tolist() == [
        "submitted", "rejected", "appealed", "accepted", "paid"]
    mine = list_submissions(ledger, invoice=first)
    assert mine[["version", "status"]].values.tolist() == [[1, "resubmitted"], [2, "paid"]]
    assert mine["rejection_reason"].tolist() == ["Rate above approved rate; Block billing",
                                                 "Block billing"]
    statuses = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.action == "status")
                                 .order_by(t.audit_log.c.audit_id))
    assert [a["status"] for a in statuses["after"]] == [
        "rejected", "resubmitted", "rejected", "appealed", "accepted", "paid"]
    assert set(statuses["row_key"]) == {str(sid), str(second["submission_id"])}

    reasons = rejections_by_reason(ledger)
    assert reasons[["reason", "rejections", "invoices"]].values.tolist() == [
        ["Block billing", 2, 1], ["Rate above approved rate", 1, 1]]
    clients = rejections_by_client(ledger).set_index("client_id")
    assert clients.loc["C1", ["submissions", "rejections", "top_reason"]].tolist() == [
        5, 2, "Block billing"]
    assert clients.loc["C2", "rejections"] == 0


def test_pending_by_age(ledger, tmp_path):
    export_for_portals(ledger, "2026-10", tmp_path, actor="sec")
    subs = list_submissions(ledger)
    with ledger.transaction() as conn:  # submitted on different days
        for sid, day in zip(subs["submission_id"], [date(2026, 11, 1), date(2026, 9, 15),
                                                     date(2026, 8, 1), date(2026, 11, 20),
                                                     date(2026, 6, 1)], strict=True):
            when = datetime(day.year, day.month, day.day, tzinfo=UTC)
            conn.execute(sa.update(t.submissions).where(t.submissions.c.submission_id == sid)
                         .values(submitted_at=when))
    set_status(ledger, int(subs["submission_id"].iloc[4]), "paid")
    table = pending_by_age(ledger, on=date(2026, 11, 30))
    assert table[["age", "status", "submissions"]].values.tolist() == [
        ["0-30 days", "submitted", 2], ["61-90 days", "submitted", 1],
        ["over 90 days", "submitted", 1]]
    assert table["currency"].tolist() == ["USD", "GBP", "USD"]  # the VAT invoice is in pounds
    assert table.loc[0, "total_minor"] == subs["total_minor"].iloc[[0, 3]].sum()


def test_a_submission_needs_a_portal_and_a_file(ledger, tmp_path):
    paths = export_for_portals(ledger, "2026-10", tmp_path, actor="sec")
    no_portal = ledger.read_frame(sa.select(t.invoices.c.number)
                                  .where(t.invoices.c.client_id == "C3"))["number"].iloc[0]
    with pytest.raises(LedgerError, match="has no e-billing portal"):
        record_submission(ledger, no_portal, paths[0])
    done = record_submission(ledger, no_portal, paths[0], portal="ebillinghub", fmt="1998B")
    assert done["portal"] == "ebillinghub"
    with pytest.raises(LedgerError, match="no file"):
        record_submission(ledger, no_portal, tmp_path / "nope.txt")
    with pytest.raises(LedgerError, match="no final invoice 42"):
        record_submission(ledger, "42", paths[0])
    with pytest.raises(LedgerError, match="no submission 999"):
        set_status(ledger, 999, "accepted")
    with pytest.raises(LedgerError, match="is recorded by submitting the corrected file"):
        set_status(ledger, int(done["submission_id"]), "resubmitted")
