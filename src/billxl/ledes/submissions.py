"""Tracking LEDES submissions to e-billing portals, from upload until the invoice is paid.

A submission is one file sent for one invoice to one portal (its format, the file's SHA-256,
when and by whom). Its status moves along::

    submitted --> accepted --> paid
        |  \\          |
        |   '--> paid  '--> rejected
        v
    rejected --> appealed --> accepted | rejected
        |
        '--> resubmitted   (a new version of the invoice's submission is recorded)

Every change is a row in ``submission_events`` (append-only: the history) and in the audit log;
``submissions.status`` holds the latest. Recording the same file again for the same invoice and
portal changes nothing (idempotent); a different file after a rejection is the next version.

Reports: :func:`pending_by_age` (what the portals have not paid, by how long ago it was sent),
:func:`rejections_by_reason` and :func:`rejections_by_client`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from billxl.errors import LedgerError
from billxl.store import ledes as store
from billxl.store.ledger import Ledger, current_actor

__all__ = ["STATUSES", "NEXT", "record_submission", "set_status", "list_submissions",
           "history", "pending_by_age", "rejections_by_reason", "rejections_by_client",
           "file_sha256", "AGE_BUCKETS"]

STATUSES = store.SUBMISSION_STATUSES
#: The statuses a submission can move to from each status.
NEXT: dict[str, tuple[str, ...]] = {
    "submitted": ("accepted", "rejected", "paid"),
    "accepted": ("paid", "rejected"),
    "rejected": ("appealed", "resubmitted"),
    "appealed": ("accepted", "rejected"),
    "resubmitted": (),
    "paid": (),
}
#: Statuses still waiting on the portal or the client's payment.
PENDING = ("submitted", "appealed", "accepted", "rejected")
AGE_BUCKETS = ((0, 30, "0-30 days"), (31, 60, "31-60 days"), (61, 90, "61-90 days"),
               (91, 10 ** 6, "over 90 days"))


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _invoice(conn, number: str) -> dict:
    row = store.invoice_to_submit(conn, number)
    if row is None:
        raise LedgerError(f"There is no final invoice {number} in the ledger.")
    return row


def record_submission(ledger: Ledger, invoice: str, path: str | Path, *,
                      portal: str | None = None, fmt: str | None = None,
                      actor: str | None = None, at: datetime | None = None) -> dict:
    """Record that ``path`` was submitted for invoice ``invoice`` (its number) to a portal.

    ``portal`` defaults to the client's; ``fmt`` to what the file's header says. Returns the
    submission (a dict) — the existing one when the same file was already recorded.
    """
    from billxl.ledes.formats import format_named

    path = Path(path)
    if not path.is_file():
        raise LedgerError(f"There is no file {path} to record as submitted.")
    digest = file_sha256(path)
    fmt = format_named(fmt) if fmt else _format_of(path)
    actor = actor or current_actor()
    at = at or _now()
    with ledger.transaction() as conn:
        inv = _invoice(conn, invoice)
        portal = portal or inv["ebilling_portal"]
        if not portal:
            raise LedgerError(f"Invoice {invoice}'s client {inv['client_id']} has no e-billing "
                              "portal in the ledger; name the portal the file was sent to.")
        previous = store.latest_submission(conn, inv["invoice_pk"], portal)
        version = 1
        if previous is not None:
            if previous["file_sha256"] == digest and previous["status"] != "rejected":
                return previous  # the same file again: already recorded
            if previous["status"] != "rejected":
                raise LedgerError(
                    f"Invoice {invoice} is already submitted to {portal} (version "
                    f"{previous['version']}, {previous['status']}); a new version can only "
                    "follow a rejection. Record the rejection first.")
            store.change_submission_status(ledger, conn, previous, "resubmitted", None,
                                           actor, at)
            version = previous["version"] + 1
        row = {"invoice_pk": inv["invoice_pk"], "portal": portal, "format": fmt,
               "version": version, "file_name": path.name, "file_sha256": digest,
               "status": "submitted", "submitted_at": at, "submitted_by": actor,
               "status_at": at}
        row["submission_id"] = store.insert_submission(ledger, conn, row, invoice, actor)
    return row


def _format_of(path: Path) -> str:
    from billxl.ledes.parser import detect_format

    with open(path, "rb") as fh:
        head = fh.read(400).lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return "XML21"
    first = head.split(b"\n", 1)[0].decode("ascii", errors="replace")
    fmt = detect_format(first)
    if fmt is None:
        raise LedgerError(f"{path.name} does not start with a LEDES header; say its format.")
    return fmt


def set_status(ledger: Ledger, submission_id: int, status: str, *, reason: str | None = None,
               actor: str | None = None, at: datetime | None = None) -> dict:
    """Record a portal's answer (accepted, rejected with its reasons, paid) or an appeal."""
    if status not in STATUSES:
        raise LedgerError(f"{status!r} is not a submission status: use one of "
                          f"{', '.join(STATUSES)}.")
    if status == "resubmitted":
        raise LedgerError("A resubmission is recorded by submitting the corrected file for the "
                          "invoice; its rejected version is then marked resubmitted.")
    if status == "rejected" and not (reason and reason.strip()):
        raise LedgerError("A rejection needs the portal's reason(s).")
    actor = actor or current_actor()
    at = at or _now()
    with ledger.transaction() as conn:
        row = store.submission(conn, submission_id)
        if row is None:
            raise LedgerError(f"There is no submission {submission_id}.")
        if status not in NEXT[row["status"]]:
            allowed = ", ".join(NEXT[row["status"]]) or "nothing (it is final)"
            raise LedgerError(f"Submission {submission_id} is {row['status']}; it can become "
                              f"{allowed}, not {status}.")
        store.change_submission_status(ledger, conn, row, status,
                                       reason.strip() if reason else None, actor, at)
        row.update(status=status, status_at=at)
    return row


# =================================================================================== reading
def list_submissions(ledger: Ledger, *, status: str | None = None, portal: str | None = None,
                     client: str | None = None, invoice: str | None = None,
                     on: date | None = None) -> pd.DataFrame:
    """Submissions with their invoice, client, amount, latest status and age in days."""
    with ledger.engine.connect() as conn:
        frame = store.submissions(ledger, conn, status=status, portal=portal, client=client,
                                  invoice=invoice)
    for column in ("submitted_at", "status_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    today = pd.Timestamp(on or datetime.now(UTC).date(), tz="UTC")
    frame["age_days"] = ((today - frame["submitted_at"].dt.normalize()).dt.days
                         .astype("int64") if len(frame) else pd.Series(dtype="int64"))
    return frame


def history(ledger: Ledger, submission_id: int) -> pd.DataFrame:
    with ledger.engine.connect() as conn:
        return store.submission_events(ledger, conn, submission_id)


def pending_by_age(ledger: Ledger, *, on: date | None = None) -> pd.DataFrame:
    """Submissions not yet paid (nor replaced by a new version), by age and status.

    One row per age bucket, status and currency: how many, and their invoices' total.
    """
    frame = list_submissions(ledger, on=on)
    frame = frame[frame["status"].isin(PENDING)]
    columns = ["age", "status", "currency", "submissions", "total_minor"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    lows = np.array([b[0] for b in AGE_BUCKETS])
    names = np.array([b[2] for b in AGE_BUCKETS], dtype=object)
    bucket = np.searchsorted(lows, frame["age_days"].to_numpy(), side="right") - 1
    frame = frame.assign(age=names[np.maximum(bucket, 0)], bucket=np.maximum(bucket, 0))
    out = (frame.groupby(["bucket", "age", "status", "currency"], sort=True)
           .agg(submissions=("submission_id", "size"), total_minor=("total_minor", "sum"))
           .reset_index())
    return out[columns]


def _rejections(ledger: Ledger) -> pd.DataFrame:
    with ledger.engine.connect() as conn:
        frame = store.rejections(ledger, conn)
    # one rejection may give several reasons, separated by '; '
    frame["reason"] = frame["reason"].fillna("").astype(str).str.split(r";\s*", regex=True)
    frame = frame.explode("reason")
    frame["reason"] = frame["reason"].str.strip()
    return frame[frame["reason"] != ""]


def rejections_by_reason(ledger: Ledger) -> pd.DataFrame:
    """How often each rejection reason came back, on how many invoices and clients."""
    frame = _rejections(ledger)
    columns = ["reason", "rejections", "invoices", "clients", "portals", "last_at"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = frame.groupby("reason").agg(
        rejections=("submission_id", "size"), invoices=("invoice", "nunique"),
        clients=("client_id", "nunique"),
        portals=("portal", lambda p: ", ".join(sorted(set(p)))), last_at=("at", "max"))
    return out.reset_index().sort_values(["rejections", "reason"], ascending=[False, True])[
        columns].reset_index(drop=True)


def rejections_by_client(ledger: Ledger) -> pd.DataFrame:
    """Per client: submissions, rejections, the share rejected and the commonest reason."""
    subs = list_submissions(ledger)
    frame = _rejections(ledger)
    columns = ["client_id", "client_name", "submissions", "rejections", "rejected_share",
               "top_reason"]
    if subs.empty:
        return pd.DataFrame(columns=columns)
    with ledger.engine.connect() as conn:
        names = store.client_names(ledger, conn)
    per_client = subs.groupby("client_id").agg(submissions=("submission_id", "size"))
    rejected = frame.drop_duplicates(["submission_id"]).groupby("client_id").agg(
        rejections=("submission_id", "size"))
    top = (frame.groupby(["client_id", "reason"]).size().rename("n").reset_index()
           .sort_values(["client_id", "n", "reason"], ascending=[True, False, True])
           .drop_duplicates("client_id").set_index("client_id")["reason"].rename("top_reason"))
    out = per_client.join(rejected, how="left").join(top, how="left").reset_index()
    out["rejections"] = out["rejections"].fillna(0).astype("int64")
    out["rejected_share"] = (out["rejections"] / out["submissions"]).round(3)
    out["top_reason"] = out["top_reason"].fillna("")
    out = out.merge(names.rename(columns={"name": "client_name"}), on="client_id", how="left")
    return out.sort_values(["rejections", "client_id"], ascending=[False, True])[columns] \
        .reset_index(drop=True)
