"""The finding workflow in the ledger: statuses survive runs; waivers hold until the entry changes."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from billxl.errors import InputError, LedgerError
from billxl.store import tables as t
from billxl.store.findings import set_status, sync_findings


def run(rows):
    return pd.DataFrame([{"rule": r, "entry_kind": "time", "entry_pk": pk, "field": f,
                          "severity": "warning", "entry_id": f"E{pk}", "message": f"{r} on {pk}",
                          "suggestion": None, "entry_hash": h} for r, pk, f, h in rows])


def statuses(ledger):
    frame = ledger.read_frame(sa.select(t.findings))
    return {(r.rule, r.entry_pk): r.status for r in frame.itertuples()}


def test_statuses_survive_runs_and_waivers_hold_until_the_entry_changes(empty_ledger):
    ledger = empty_ledger
    first = sync_findings(ledger, run([("VAGUE", 1, "narrative", "h1"),
                                       ("INCREMENT", 2, "hours", "h2"),
                                       ("DUPLICATE", 3, "", "h3")]),
                          {"time": [1, 2, 3]}, actor="sec")
    assert (first.new, first.still_open) == (3, 0)
    ids = first.current.set_index("rule")["finding_id"]

    set_status(ledger, [ids["VAGUE"]], "waived", reason="client accepts this wording", actor="sec")
    set_status(ledger, [ids["INCREMENT"]], "queried", actor="sec")

    # Same entries, same content: the waiver holds, the query stays, nothing is new.
    second = sync_findings(ledger, run([("VAGUE", 1, "narrative", "h1"),
                                        ("INCREMENT", 2, "hours", "h2")]),
                           {"time": [1, 2, 3]}, actor="sec")
    assert (second.new, second.still_waived, second.still_open, second.auto_resolved) == (0, 1, 1, 1)
    assert statuses(ledger) == {("VAGUE", 1): "waived", ("INCREMENT", 2): "queried",
                                ("DUPLICATE", 3): "resolved"}

    # Entry 1 changed: the waiver no longer holds. Entry 3's duplicate is back: reopened.
    third = sync_findings(ledger, run([("VAGUE", 1, "narrative", "h1-edited"),
                                       ("INCREMENT", 2, "hours", "h2"),
                                       ("DUPLICATE", 3, "", "h3")]),
                          {"time": [1, 2, 3]}, actor="sec")
    assert third.reopened == 2
    assert statuses(ledger) == {("VAGUE", 1): "open", ("INCREMENT", 2): "queried",
                                ("DUPLICATE", 3): "open"}
    log = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.table_name == "findings"))
    assert len(log) == 2 + 1 + 2  # two decisions, one auto-resolve, two reopenings
    assert {"status": "waived"} in list(log["before"])


def test_entries_outside_the_run_keep_their_findings(empty_ledger):
    sync_findings(empty_ledger, run([("VAGUE", 7, "narrative", "h")]), {"time": [7]})
    sync_findings(empty_ledger, run([]).reindex(columns=run([("X", 1, "", "")]).columns),
                  {"time": [8]})
    assert statuses(empty_ledger) == {("VAGUE", 7): "open"}


def test_a_waiver_needs_a_reason_and_a_known_finding(empty_ledger):
    res = sync_findings(empty_ledger, run([("VAGUE", 1, "narrative", "h")]), {"time": [1]})
    fid = int(res.current["finding_id"].iloc[0])
    with pytest.raises(InputError, match="needs a reason"):  # input to correct: exit 2
        set_status(empty_ledger, [fid], "waived", reason="  ")
    with pytest.raises(InputError, match="'opne' is not a finding status"):
        set_status(empty_ledger, [fid], "opne")
    with pytest.raises(LedgerError, match="No finding with id 999"):
        set_status(empty_ledger, [999], "resolved")
    with pytest.raises(sa.exc.IntegrityError), empty_ledger.transaction() as conn:
        conn.execute(sa.update(t.findings).values(status="waived"))  # the store insists too
