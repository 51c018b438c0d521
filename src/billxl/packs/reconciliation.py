"""The reconciliation review: the month's findings by rule, timekeeper and client with their
review status, the waivers and their reasons, and the findings still to deal with.

A finding belongs to the month of its entry's work date. Its status is the ledger's now
(open, queried, waived, resolved): findings keep no status as of a past date. ``open_findings``
lists every finding still open or queried on the scope's entries worked by the month's end,
earlier months' included.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from billxl.packs import source
from billxl.packs.source import MonthFrames, Scope, named
from billxl.packs.tables import Pack

STATUSES = ("open", "queried", "waived", "resolved")
COUNTS = [(s, s.capitalize(), "count") for s in STATUSES] + [("findings", "Findings", "count")]


def _of_month(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    f = scope.keep(frames.findings)
    month = frames.windows["month"]
    return f[(f["work_date"] >= pd.Timestamp(month.start))
             & (f["work_date"] <= pd.Timestamp(month.end))]


def _counts(findings: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Findings per group and status (every status a column) and in all."""
    if findings.empty:
        return pd.DataFrame(columns=[*by, *STATUSES, "findings"])
    flags = findings.assign(**{s: findings["status"] == s for s in STATUSES})
    out = (flags.groupby(by, as_index=False)
           .agg(**{s: (s, "sum") for s in STATUSES}, findings=("finding_id", "size")))
    out = out.astype({c: "int64" for c in [*STATUSES, "findings"]})
    return out.sort_values(["findings", *by], ascending=[False, *[True] * len(by)],
                           ignore_index=True)


def by_rule(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    out = _counts(_of_month(frames, scope), ["rule", "severity"])
    return source.plain_text(out, ["rule", "severity"])


def by_timekeeper(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    out = _counts(_of_month(frames, scope), ["timekeeper_id"])
    return source.plain_text(named(out, frames, columns=("timekeeper",)), ["timekeeper_id"])


def by_client(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    out = _counts(_of_month(frames, scope), ["client_id"])
    return source.plain_text(named(out, frames, columns=("client",)), ["client_id"])


_FINDING_TEXT = ["rule", "severity", "status", "entry_id", "matter_id", "message",
                 "status_by", "status_reason"]


def waivers(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    f = _of_month(frames, scope)
    f = f[f["status"] == "waived"].assign(when=lambda x: x["status_at"].dt.normalize())
    f = named(f, frames).sort_values(["when", "finding_id"], ignore_index=True)
    return source.plain_text(f, _FINDING_TEXT)


def open_findings(frames: MonthFrames, scope: Scope) -> pd.DataFrame:
    f = scope.keep(frames.findings)
    f = f[f["status"].isin(source.OPEN_STATUSES) & (f["work_date"] <= pd.Timestamp(frames.end))]
    f = named(f, frames, columns=("client", "matter", "timekeeper"))
    f = f.assign(_order=f["severity"].map({"error": 0, "warning": 1}).fillna(2))
    f = f.sort_values(["_order", "rule", "work_date", "finding_id"], ignore_index=True)
    return source.plain_text(f, _FINDING_TEXT)


TABLES = (
    ("by_rule", "Findings by rule", by_rule,
     [("rule", "Rule", "text"), ("severity", "Severity", "text"), *COUNTS],
     "Findings on the entries worked in the month, by their review status now."),
    ("by_timekeeper", "Findings by timekeeper", by_timekeeper,
     [("timekeeper_id", "Timekeeper", "text"), ("timekeeper", "Name", "text"), *COUNTS],
     "Findings on the entries worked in the month, by who recorded the entry."),
    ("by_client", "Findings by client", by_client,
     [("client_id", "Client", "text"), ("client", "Name", "text"), *COUNTS],
     "Findings on the entries worked in the month, by the client of the entry's matter."),
    ("waivers", "Waivers and their reasons", waivers,
     [("finding_id", "Finding", "count"), ("rule", "Rule", "text"),
      ("entry_id", "Entry", "text"), ("matter_id", "Matter", "text"),
      ("matter", "Matter name", "text"), ("status_by", "Waived by", "text"),
      ("when", "Waived on", "date"), ("status_reason", "Reason", "text")],
     "Findings of the month waived, with who waived them, when and why."),
    ("open_findings", "Findings still open", open_findings,
     [("finding_id", "Finding", "count"), ("rule", "Rule", "text"),
      ("severity", "Severity", "text"), ("status", "Status", "text"),
      ("entry_id", "Entry", "text"), ("work_date", "Worked on", "date"),
      ("timekeeper", "Timekeeper", "text"), ("client", "Client", "text"),
      ("matter_id", "Matter", "text"), ("message", "Finding", "text")],
     "Findings open or queried now on the entries worked by the month's end (earlier months "
     "too), errors first."),
)


def reconciliation_pack(month: str, *, scope: str = "firm", scope_id: str = "",
                        ledger_url: Any = None) -> Pack:
    """The reconciliation review of ``month`` (YYYY-MM) for the firm, a billing partner, a
    client or an office; ``ledger_url`` blank: $BILLXL_LEDGER, else ./billxl.db."""
    return source.build_pack("reconciliation", "Reconciliation review", TABLES, month, scope,
                             scope_id, ledger_url)


__all__ = ["TABLES", "reconciliation_pack"]
