"""Findings kept in the ledger, and their review status: open, queried, resolved, waived.

A run of the rules gives the findings that fire *now*; :func:`sync_findings` folds them into
what the ledger already knows, so that a secretary's decisions survive the next run:

* a new finding is recorded as ``open``;
* one still firing keeps its status; a ``resolved`` one that fires again is reopened;
* a ``waived`` one stays waived while its entry is unchanged (same ``row_hash``) and is reopened
  when the entry changes, because the waiver was given for the entry as it was;
* an ``open`` or ``queried`` one that no longer fires on an entry that was checked is resolved
  by the run ("no longer found").

Every status change is in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from billxl.errors import InputError, LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger, current_actor

KEY = ["rule", "entry_kind", "entry_pk", "field"]
FINDING_COLUMNS = KEY + ["severity", "entry_id", "message", "suggestion", "entry_hash"]


@dataclass
class SyncResult:
    new: int
    still_open: int
    reopened: int
    still_waived: int
    auto_resolved: int
    current: pd.DataFrame  # every finding now firing, with finding_id and status


def _update(conn: sa.Connection, rows: pd.DataFrame, values: Iterable[str]) -> None:
    if rows.empty:
        return
    cols = list(values)
    stmt = (sa.update(t.findings).where(t.findings.c.finding_id == sa.bindparam("b_id"))
            .values({c: sa.bindparam(f"b_{c}") for c in cols}))
    params = [{"b_id": int(r["finding_id"]), **{f"b_{c}": _py(r[c]) for c in cols}}
              for r in rows.to_dict("records")]
    conn.execute(stmt, params)


def _typed_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Key columns with one type whatever the backend returned (and even when empty)."""
    frame = frame.copy()
    for col in ("rule", "entry_kind", "field"):
        frame[col] = frame[col].astype(object).astype(str)
    frame["entry_pk"] = frame["entry_pk"].astype("int64")
    return frame


def _py(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def sync_findings(ledger: Ledger, current: pd.DataFrame, checked: dict[str, Iterable[int]], *,
                  actor: str | None = None) -> SyncResult:
    """Record the findings of a run. ``checked`` maps 'time'/'expense' to the entry keys checked.

    ``current`` has the columns of :data:`FINDING_COLUMNS` (``field`` '' when a finding is about
    the whole entry). Runs in one transaction.
    """
    missing = [c for c in FINDING_COLUMNS if c not in current.columns]
    if missing:
        raise LedgerError(f"findings frame lacks columns {missing}")
    actor = actor or current_actor()
    now = datetime.now(UTC)
    current = current[FINDING_COLUMNS].copy()
    current["field"] = current["field"].fillna("")
    current = _typed_key(current)
    current = current.drop_duplicates(KEY)

    with ledger.transaction() as conn:
        stored = ledger.read_frame(sa.select(t.findings), conn)
        in_scope = pd.Series(False, index=stored.index)
        for kind, pks in checked.items():
            in_scope |= (stored["entry_kind"] == kind) & stored["entry_pk"].isin(list(pks))
        stored = _typed_key(stored[in_scope])
        merged = current.merge(stored[KEY + ["finding_id", "status", "entry_hash"]], on=KEY,
                               how="outer", suffixes=("", "_stored"), indicator=True)

        new = merged[merged["_merge"] == "left_only"].copy()
        both = merged[merged["_merge"] == "both"].copy()
        gone = merged[merged["_merge"] == "right_only"].copy()

        if not new.empty:
            new["status"] = "open"
            new["first_seen_at"] = now
            new["last_seen_at"] = now
            conn.execute(t.findings.insert(), [
                {k: _py(v) for k, v in r.items()} for r in
                new[FINDING_COLUMNS + ["status", "first_seen_at", "last_seen_at"]].to_dict("records")
            ])

        waived = both["status"] == "waived"
        changed = both["entry_hash"] != both["entry_hash_stored"]
        reopen = both[(waived & changed) | (both["status"] == "resolved")].copy()
        keep_waived = both[waived & ~changed].copy()
        keep = both[both["status"].isin(["open", "queried"])].copy()

        for frame in (keep, keep_waived):
            frame["last_seen_at"] = now
        _update(conn, keep, ["severity", "message", "suggestion", "entry_hash", "last_seen_at"])
        _update(conn, keep_waived, ["last_seen_at"])
        if not reopen.empty:
            reopen["previous"] = reopen["status"]
            reopen["status"] = "open"
            reopen["status_reason"] = reopen["previous"].map({
                "waived": "reopened: the entry changed after the finding was waived",
                "resolved": "reopened: the finding was marked resolved but still applies",
            })
            reopen["status_by"] = actor
            reopen["status_at"] = now
            reopen["last_seen_at"] = now
            _update(conn, reopen, ["status", "status_reason", "status_by", "status_at", "severity",
                                   "message", "suggestion", "entry_hash", "last_seen_at"])
            ledger.audit_many(conn, "update", "findings", [
                (str(r["finding_id"]), {"status": r["previous"]},
                 {"status": "open", "reason": r["status_reason"]})
                for r in reopen.to_dict("records")], actor=actor)

        resolve = gone[gone["status"].isin(["open", "queried"])].copy()
        if not resolve.empty:
            resolve["status"] = "resolved"
            resolve["status_reason"] = "no longer found when the entries were checked again"
            resolve["status_by"] = actor
            resolve["status_at"] = now
            _update(conn, resolve, ["status", "status_reason", "status_by", "status_at"])
            ledger.audit_many(conn, "update", "findings", [
                (str(int(r["finding_id"])), {"status": "open"}, {"status": "resolved"})
                for r in resolve.to_dict("records")], actor=actor)

        ids = ledger.read_frame(sa.select(t.findings.c.finding_id, t.findings.c.status,
                                          *[t.findings.c[k] for k in KEY]), conn)
    if current.empty:  # a month with nothing to check: no columns to type the keys by
        current = current.astype({k: ids[k].dtype for k in KEY})
    shown = current.merge(ids, on=KEY, how="left")
    return SyncResult(new=len(new), still_open=len(keep), reopened=len(reopen),
                      still_waived=len(keep_waived), auto_resolved=len(resolve), current=shown)


def set_status(ledger: Ledger, finding_ids: Iterable[int], status: str, *,
               reason: str | None = None, actor: str | None = None) -> int:
    """Mark findings queried, resolved or waived (a waiver needs a reason). Returns how many."""
    _check_status(status)
    if status == "waived" and not (reason and reason.strip()):
        raise InputError("A waiver needs a reason (e.g. 'client agreed to this rate in writing').")
    ids = [int(i) for i in finding_ids]
    actor = actor or current_actor()
    now = datetime.now(UTC)
    with ledger.transaction() as conn:
        before = ledger.read_frame(sa.select(t.findings.c.finding_id, t.findings.c.status)
                                   .where(t.findings.c.finding_id.in_(ids)), conn)
        unknown = sorted(set(ids) - set(before["finding_id"].astype(int)))
        if unknown:
            raise LedgerError(f"No finding with id {', '.join(map(str, unknown))} in the ledger.")
        conn.execute(sa.update(t.findings).where(t.findings.c.finding_id.in_(ids)).values(
            status=status, status_reason=reason, status_by=actor, status_at=now))
        ledger.audit_many(conn, "update", "findings", [
            (str(int(r["finding_id"])), {"status": r["status"]},
             {"status": status, "reason": reason}) for r in before.to_dict("records")],
            actor=actor)
    return len(ids)


def _check_status(status: str) -> None:
    if status not in t.FINDING_STATUSES:
        raise InputError(f"'{status}' is not a finding status: use one of "
                         f"{', '.join(t.FINDING_STATUSES)}.")


def rules_found(ledger: Ledger) -> set[str]:
    """The rule ids of the findings the ledger holds."""
    with ledger.engine.connect() as conn:
        return set(conn.execute(sa.select(t.findings.c.rule).distinct()).scalars())


def list_findings(ledger: Ledger, *, status: str | None = None,
                  rule: str | None = None) -> pd.DataFrame:
    """Findings in the ledger, newest first, optionally by status and rule (a status that is
    not one is an error; for a rule id, see :func:`billxl.reconcile.list_findings`)."""
    q = sa.select(t.findings)
    if status:
        _check_status(status)
        q = q.where(t.findings.c.status == status)
    if rule:
        q = q.where(t.findings.c.rule == rule.upper())
    return ledger.read_frame(q.order_by(t.findings.c.finding_id.desc()))
