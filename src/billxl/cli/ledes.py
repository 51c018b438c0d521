"""``billxl ledes ...``: validate, export and track LEDES files (a typer sub-app).

Mounted on the main app (:mod:`billxl.cli.commands`) with ``app.add_typer(ledes_app,
name="ledes")``. The helpers every command shares (errors, output formats, consoles, the
--ledger option) are :mod:`billxl.cli.output`; the engine is reached through the public API
(:mod:`billxl`).

Exit codes as everywhere in billxl: 0 done; 1 done, but something needs attention (errors in
the file, invoices refused); 2 the input could not be taken (for ``validate``: not a LEDES file
at all); 3 the ledger refused.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from billxl.cli.output import (
    OutputFormat,
    console,
    emit,
    err_console,
    handle_errors,
    open_ledger,
    state,
)

ledes_app = typer.Typer(
    help="LEDES e-billing files: validate any file, export final invoices for each client's "
         "portal, and track submissions until paid.",
    no_args_is_help=True,
)

FINDING_COLUMNS = ["line", "invoice", "field", "rule", "severity", "message", "suggestion"]


class LedesFormat(enum.StrEnum):
    b1998 = "1998B"
    bi98 = "98BI"
    xml21 = "XML21"


class Report(enum.StrEnum):
    pending = "pending"
    reasons = "reasons"
    clients = "clients"


def _portals_fromopen_ledger() -> dict[str, str | None] | None:
    """CLIENT_ID (the client's LEDES id, or its billxl id) -> its portal, when a ledger is
    there to ask; None when there is none (the file is then checked by the formats' rules)."""
    from billxl import BillxlError, ledger_configured

    if not ledger_configured(state.ledger_url):
        return None
    try:
        clients = open_ledger().clients()
    except BillxlError:
        return None
    portal_of = {}
    for row in clients.itertuples(index=False):
        portal = row.ebilling_portal if isinstance(row.ebilling_portal, str) else None
        portal_of[row.client_id] = portal
        if isinstance(row.ledes_client_id, str) and row.ledes_client_id:
            portal_of[row.ledes_client_id] = portal
    return portal_of


@ledes_app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="A LEDES 1998B, 98BI V2 or XML 2.1 file.")],
    portal: Annotated[str | None, typer.Option(help="Check against this portal's rules "
                                               "(legaltracker, tymetrix, counsellink, generic, "
                                               "or a YAML profile). Default: each client's "
                                               "portal in the ledger, if there is one.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Check a LEDES file (1998B, 98BI V2 or XML 2.1) and list what is wrong with it.

    Structure, formats, arithmetic, consistency, UTBMS codes, dates and the portal's rules.
    Exit code 0 when no finding is an error, 1 when some are, 2 when the file is not a LEDES
    file at all.
    """
    from billxl import validate_ledes

    output = format
    with handle_errors():
        portal_of = None if portal else _portals_fromopen_ledger()
        result = validate_ledes(file, portal=portal, portal_of_client=portal_of)
    emit(result.findings, output, FINDING_COLUMNS, title=f"Findings in {file.name}")
    if output is OutputFormat.table:
        err_console.print(result.summary())
    raise typer.Exit(1 if result.has_errors else 0)


@ledes_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="The file to write (one invoice), or a "
                                      "folder (one file per invoice).")],
    invoice: Annotated[list[str] | None, typer.Option("--invoice", help="An invoice number "
                                                      "(repeat for several).")] = None,
    month: Annotated[str | None, typer.Option(help="Every invoice dated in this month, "
                                              "YYYY-MM.")] = None,
    format: Annotated[LedesFormat | None, typer.Option("--format", help="1998B, 98BI or XML21. "
                                                       "Default: the client's portal's.")] = None,
    portal: Annotated[str | None, typer.Option(help="Check against this portal instead of the "
                                               "client's.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write files the portal would reject "
                                        "(their findings are still listed).")] = False,
    transliterate: Annotated[bool, typer.Option("--transliterate", help="Replace characters "
                                                "cp1252 (ANSI) cannot hold instead of "
                                                "refusing.")] = False,
    encoding: Annotated[str | None, typer.Option(help="cp1252 or utf-8 for 1998B/98BI. "
                                                 "Default: the portal's (cp1252).")] = None,
    submit: Annotated[bool, typer.Option("--submit", help="Record each file written as "
                                         "submitted to the client's portal.")] = False,
) -> None:
    """Write LEDES files for final invoices, each checked against its client's portal first.

    An invoice the portal would reject is refused, with the reasons (exit code 1), unless
    --force.
    """
    from billxl import InputError, export_invoices, record_submission

    with handle_errors():
        if bool(invoice) == bool(month):
            raise InputError("Give either --invoice NUMBER (one or more) or --month YYYY-MM.")
        ledger = open_ledger()
        result = export_invoices(ledger, out, numbers=invoice or None, month=month,
                                 fmt=format.value if format else None, portal=portal,
                                 force=force, transliterate=transliterate, encoding=encoding)
        recorded = [record_submission(ledger, f.invoice, f.path, portal=f.portal,
                                      fmt=f.format) for f in result.written] if submit else []
    left_out = getattr(result, "not_ebilled", [])
    if left_out:
        err_console.print(f"{len(left_out):,} invoice(s) of the month are for clients who are not "
                          "e-billed (no portal in their settings) and were left out; "
                          "--invoice NUMBER or --portal NAME writes them.")
    if not result.files:
        console.print("No invoices to export.")
        return
    from rich.table import Table

    table = Table("Invoice", "Client", "Portal", "Format", "File", "Warnings",
                  title="LEDES export", header_style="bold")
    for f in result.written:
        warnings = int((f.findings["severity"] == "warning").sum())
        table.add_row(f.invoice, f.client_id, f.portal, f.format, str(f.path), str(warnings))
    console.print(table)
    for f in result.written:
        for note in f.notes:
            err_console.print(f"[dim]Note: invoice {f.invoice}: {note}[/]")
    for f in result.refused:
        err_console.print(f"[bold red]Refused[/] invoice {f.invoice} ({f.client_id}, "
                          f"{f.portal}, {f.format or 'no format'}):")
        for reason in f.reasons[:20]:
            err_console.print(f"  - {reason}")
        if len(f.reasons) > 20:
            err_console.print(f"  ... and {len(f.reasons) - 20} more")
    summary = f"{len(result.written)} file(s) written, {len(result.refused)} refused"
    if recorded:
        summary += f", {len(recorded)} recorded as submitted"
    err_console.print(summary + "." + (" Fix the refused invoices (credit and re-bill), or use "
                                       "--force." if result.refused else ""))
    raise typer.Exit(1 if result.refused else 0)


@ledes_app.command("submit")
def submit_command(
    file: Annotated[Path, typer.Argument(help="The LEDES file sent to the portal.")],
    invoice: Annotated[str, typer.Option("--invoice", help="The invoice it carries.")],
    portal: Annotated[str | None, typer.Option(help="Default: the client's portal.")] = None,
    format: Annotated[LedesFormat | None, typer.Option("--format", help="Default: what the "
                                                       "file's header says.")] = None,
) -> None:
    """Record that a LEDES file was submitted to the client's portal.

    A corrected file after a rejection is the next version; the same file twice is recorded
    once.
    """
    from billxl import record_submission

    with handle_errors():
        row = record_submission(open_ledger(), invoice, file, portal=portal,
                                fmt=format.value if format else None)
    console.print(f"Submission {row['submission_id']}: invoice {invoice} to {row['portal']}, "
                  f"version {row['version']} ({row['format']}, {row['status']}).")


@ledes_app.command("status")
def status_command(
    submission: Annotated[int, typer.Argument(help="The submission id (see 'billxl ledes "
                                              "submissions').")],
    status: Annotated[str, typer.Argument(help="accepted, rejected, appealed or paid.")],
    reason: Annotated[list[str] | None, typer.Option("--reason", help="The portal's reason "
                                                     "(repeat for several); needed for "
                                                     "'rejected'.")] = None,
) -> None:
    """Record what the portal said (or that the invoice was appealed, or paid)."""
    from billxl import set_submission_status

    with handle_errors():
        row = set_submission_status(open_ledger(), submission, status.strip().lower(),
                                    reason="; ".join(reason) if reason else None)
    console.print(f"Submission {submission} is now {row['status']}.")


@ledes_app.command("submissions")
def submissions_command(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    portal: Annotated[str | None, typer.Option(help="Only this portal.")] = None,
    client: Annotated[str | None, typer.Option(help="Only this client.")] = None,
    report: Annotated[Report | None, typer.Option(help="pending (by age), reasons (rejections "
                                                  "by reason) or clients (rejections by "
                                                  "client) instead of the list.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """List submissions and their status, or a report on them."""
    from billxl import (
        format_amount,
        list_submissions,
        rejections_by_client,
        rejections_by_reason,
        submissions_pending_by_age,
    )

    output = format
    with handle_errors():
        ledger = open_ledger()
        if report is Report.pending:
            frame = submissions_pending_by_age(ledger)
            frame["total"] = [format_amount(int(v), c) for v, c in
                              zip(frame["total_minor"], frame["currency"], strict=True)]
            emit(frame, output, ["age", "status", "currency", "submissions", "total"],
                 title="Submissions not yet paid, by age")
        elif report is Report.reasons:
            emit(rejections_by_reason(ledger), output,
                 ["reason", "rejections", "invoices", "clients", "portals", "last_at"],
                 title="Rejections by reason")
        elif report is Report.clients:
            emit(rejections_by_client(ledger), output,
                 ["client_id", "client_name", "submissions", "rejections", "rejected_share",
                  "top_reason"], title="Rejections by client")
        else:
            frame = list_submissions(ledger, status=status, portal=portal, client=client)
            frame["total"] = [format_amount(int(v), c) for v, c in
                              zip(frame["total_minor"], frame["currency"], strict=True)]
            frame["submitted_at"] = frame["submitted_at"].dt.strftime("%Y-%m-%d %H:%M")
            emit(frame, output, ["submission_id", "invoice", "client_id", "portal", "format",
                                 "version", "status", "submitted_at", "age_days", "currency",
                                 "total", "rejection_reason"], title="LEDES submissions")


@ledes_app.command("history")
def history_command(
    submission: Annotated[int, typer.Argument(help="The submission id.")],
    format: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Every status a submission went through: when, who, and why."""
    from billxl import submission_history

    with handle_errors():
        frame = submission_history(open_ledger(), submission)
    emit(frame, format, ["at", "status", "reason", "actor"],
         title=f"Submission {submission}")
