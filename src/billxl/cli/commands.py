"""The main ``billxl`` app: init, import, demo, checks, findings, pre-bills, invoices and
schedules, with the LEDES (:mod:`billxl.cli.ledes`) and cash (:mod:`billxl.cli.cash`) sub-apps
mounted. Thin commands over the public API (:mod:`billxl`); the output, errors and progress
they share are :mod:`billxl.cli.output`.

Exit codes: 0 done; 1 done, but something needs attention (e.g. error findings); 2 the input
could not be taken (nothing was changed); 3 the ledger refused; 4 an unexpected error.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from billxl import InputError
from billxl.cli.cash import ar_app, payments_app, trust_app
from billxl.cli.files import copy_workbook, notebooks_app, show_version, templates_app
from billxl.cli.firm import client_app, firm_app, matter_app, timekeeper_app
from billxl.cli.ledes import ledes_app
from billxl.cli.monthend import month_end
from billxl.cli.output import (
    OutputFormat,
    console,
    emit,
    emit_findings,
    err_console,
    handle_errors,
    open_ledger,
    parse_day,
    print_notes,
    show_progress,
    state,
    write_problems,
)
from billxl.cli.schedules import register as register_schedule_commands
from billxl.cli.workbook import workbook_app

app = typer.Typer(
    name="billxl",
    help="Law-firm billing: ledger, time-entry checks, invoices, LEDES, payments, month-end packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
LedgerOption = Annotated[
    str | None,
    typer.Option("--ledger", envvar="BILLXL_LEDGER", show_envvar=True,
                 help="Ledger database: a SQLite file path or a URL such as "
                      "postgresql://user:pass@host/db. Default: ./billxl.db"),
]


@app.callback()
def _main(
    ledger: LedgerOption = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=show_version, is_eager=True,
                                          help="Print billxl's version and stop.")] = False,
) -> None:
    state.ledger_url = ledger
    state.debug = debug


# --------------------------------------------------------------------------- init
@app.command()
def init(
    name: Annotated[str, typer.Option(help="The firm's name, as printed on invoices.")] = "My Law Firm LLP",
    law_firm_id: Annotated[str, typer.Option(help="The firm's tax id (LEDES LAW_FIRM_ID).")] = "00-0000000",
    currency: Annotated[str, typer.Option(help="Base currency (ISO 4217).")] = "USD",
    upgrade: Annotated[bool, typer.Option("--upgrade", help="Migrate an existing ledger to this version's schema.")] = False,
) -> None:
    """Create a new, empty ledger (or migrate an existing one with --upgrade)."""
    from billxl import Ledger, upgrade_ledger

    with handle_errors():
        if upgrade:
            shown, revision = upgrade_ledger(state.ledger_url)
            console.print(f"Ledger at {shown} is at schema revision {revision}.")
            return
        ledger = Ledger.create(state.ledger_url, firm={"name": name, "law_firm_id": law_firm_id,
                                                       "currency": currency.upper()})
        console.print(f"Created a new ledger for {name} at {ledger.display_url}.")


# --------------------------------------------------------------------------- import
class ImportKind(enum.StrEnum):
    time = "time"
    expenses = "expenses"
    all = "all"
    timekeepers = "timekeepers"
    clients = "clients"
    matters = "matters"
    rates = "rates"


_MASTER_KINDS = ("timekeepers", "clients", "matters", "rates")


@app.command("import")
def import_(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds: time, expenses, or all (a mixed export); or master data: timekeepers, clients, matters, rates (import them in that order).")],
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, XLSM, XLS or ODS export.", exists=False)],
    profile: Annotated[str | None, typer.Option(help="Column-mapping profile: a shipped name (canonical, pm_activities, clio-activities, …) or a YAML file.")] = None,
    problems: Annotated[Path | None, typer.Option("--problems", help="Write every problem found to this CSV file.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Master data: show what would change, write nothing.")] = False,
) -> None:
    """Import time entries, expenses or master data. All or nothing: one bad row and nothing is
    imported; importing the same file again changes nothing."""
    from billxl import import_file, import_master

    with handle_errors():
        ledger = open_ledger()
        try:
            with show_progress() as update:
                if kind.value in _MASTER_KINDS:
                    result = import_master(ledger, kind.value, file, profile=profile,
                                           dry_run=dry_run)
                else:
                    result = import_file(ledger, file, kind.value, profile or "canonical",
                                         progress=update)
        except InputError as error:
            if problems is not None and error.problems:
                write_problems(error.problems, problems)
                error.problems_file = problems  # said once, with the problems shown
            raise
        console.print(result.summary())


# --------------------------------------------------------------------------- demo
@app.command()
def demo(
    dir: Annotated[Path, typer.Option("--dir", help="Folder for the demo's ledger and files (replaced).")] = Path("demo"),
    month: Annotated[str, typer.Option(help="The month to close, YYYY-MM.")] = "2026-10",
    entries: Annotated[int, typer.Option(help="Time entries in the month (6,000 ≈ a 40-lawyer firm).", min=100)] = 6000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same firm.")] = 2026,
    evaluate: Annotated[bool, typer.Option("--evaluate", help="Print recall and precision of every rule against the planted problems.")] = False,
) -> None:
    """Build a demo firm and run its month end, end to end, with every step billxl has so far."""
    from billxl import run_demo

    with handle_errors(), show_progress() as update:
        result = run_demo(dir, month=month, entries=entries, seed=seed,
                          ledger_url=state.ledger_url, progress=update)
    console.print(_demo_report(result))
    index = result.paths.get("month_end")
    if index is not None:
        console.print(f"Month-end packs: open {index}")
    if evaluate and result.evaluation is not None:
        table = result.evaluation
        shown = table.assign(
            recall=table["recall"].map(lambda v: "-" if v != v else f"{v:.3f}"),
            precision=[("-" if p == 0 or v != v else f"{v:.3f}")  # not planted: not scored
                       for p, v in zip(table["planted"], table["precision"], strict=True)])
        emit(shown, OutputFormat.table, ["kind", "rule", "planted", "flagged", "right",
                                         "recall", "precision"],
             title="Rules against the planted problems")
        planted = table[table["planted"] > 0]
        missed = planted[(planted["recall"] < 0.98) | (planted["precision"] < 0.95)]
        console.print(f"{len(planted) - len(missed)} of {len(planted)} planted rules meet "
                      "recall >= 0.98 and precision >= 0.95.")
        if len(missed):
            raise typer.Exit(1)


def _demo_report(result) -> Table:
    table = Table(title=f"Demo month end {result.month}: {result.firm_name}", show_header=True,
                  header_style="bold")
    table.add_column("Step")
    table.add_column("Result", justify="right")
    table.add_column("Where", overflow="fold")
    for step in result.steps:
        table.add_row(step.name, step.figure, step.where)
    return table


# --------------------------------------------------------------------------- checks
FINDING_OUTPUT = ["row", "severity", "rule", "entry_id", "field", "message", "suggestion"]


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="A file of time entries (and/or expenses): CSV, XLSX, XLS or ODS.")],
    guidelines: Annotated[Path | None, typer.Option(help="The client's billing-guideline file (YAML), layered over the firm defaults.")] = None,
    period: Annotated[str | None, typer.Option(help="The billing period, YYYY-MM (work outside it is flagged).")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    profile: Annotated[str, typer.Option(help="Column-mapping profile for other layouts.")] = "canonical",
    currency: Annotated[str, typer.Option(help="Currency of the file's amounts.")] = "USD",
) -> None:
    """Check a file of entries against the billing guidelines, without touching the ledger.

    Every problem of a row is a finding with the row's number (a row that cannot be read is
    ROW_UNREADABLE, and the rules leave it alone). Exit code 0 when no finding is an error, 1
    when some are, 2 when the file cannot be read as entries at all.
    """
    from billxl import check_file, load_guidelines, month_range

    with handle_errors():
        result = check_file(file, profile, guidelines=load_guidelines(guidelines),
                            period=month_range(period) if period else None,
                            currency=currency.upper())
    findings = result.findings
    print_notes(result.notes)
    emit_findings(findings, format, FINDING_OUTPUT, f"Findings in {file.name}",
                  every=f"billxl check {file}")
    if format is OutputFormat.table:
        unread = f"; {result.unreadable} row(s) could not be read" if result.unreadable else ""
        err_console.print(f"{len(findings):,} finding(s), {result.errors:,} error(s) a portal "
                          f"would reject, in {result.rows:,} entries{unread}.")
    raise typer.Exit(1 if result.errors else 0)


@app.command()
def reconcile(
    month: Annotated[str, typer.Option(help="The billing month, YYYY-MM.")],
    client: Annotated[str | None, typer.Option(help="Only this client's matters.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the exceptions workbook here (.xlsx).")] = None,
    guidelines_dir: Annotated[Path | None, typer.Option(help="Folder of client guideline files, named by each client's guideline set (default: the folder in the firm's settings, see 'billxl firm edit').")] = None,
) -> None:
    """Check the ledger's WIP for the month, record findings, and write the exceptions workbook.

    Exits 1 when an open finding is an error (waived ones do not count), 0 otherwise."""
    from billxl import reconcile_month, write_exceptions_workbook

    with handle_errors():
        ledger = open_ledger()
        with show_progress() as update:
            update("Checking WIP against the rules", 0, 1)
            result = reconcile_month(ledger, month, client=client, guidelines_dir=guidelines_dir)
            update("Checking WIP against the rules", 1, 1)
            if out is not None:
                update("Writing the exceptions workbook", 0, 1)
                write_exceptions_workbook(out, result.findings,
                                          title=f"Exceptions — {month}" + (f" — {client}" if client else ""))
                update("Writing the exceptions workbook", 1, 1)
    print_notes(result.notes)
    s = result.sync
    console.print(
        f"Checked {result.entries_checked:,} time entries and {result.expenses_checked:,} expenses "
        f"for {month}: {len(result.findings):,} findings to review ({result.errors:,} errors); "
        f"{s.new:,} new, {s.reopened:,} reopened, {s.still_waived:,} still waived, "
        f"{s.auto_resolved:,} resolved since the last run."
        + (f" Workbook: {out}" if out else ""))
    raise typer.Exit(1 if result.errors else 0)  # exit 1: errors to put right before billing


@app.command("reconcile-sources")
def reconcile_sources(
    a: Annotated[Path, typer.Argument(help="A timekeeping export (the source of truth).")],
    b: Annotated[str, typer.Argument(help="Another export, or 'ledger' for the ledger's entries.")],
    profile_a: Annotated[str, typer.Option(help="Mapping profile for A.")] = "canonical",
    profile_b: Annotated[str, typer.Option(help="Mapping profile for B.")] = "canonical",
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    out: Annotated[Path | None, typer.Option(help="Also write the differences to this CSV file.")] = None,
) -> None:
    """List entries missing from B, extra in B, and changed (hours, matter, date, narrative)."""
    from billxl import Reference, atomic_write_csv, compare_sources, read_entries

    with handle_errors():
        ledger = open_ledger() if b == "ledger" else None
        # against the ledger, A names the ledger's timekeepers and matters (ids, not user names)
        known = Reference.from_ledger(ledger) if ledger is not None else None
        left = read_entries(a, "time", profile_a, reference=known).frames["time"]
        if ledger is not None:
            lo, hi = left["work_date"].min(), left["work_date"].max()
            right = ledger.time_entries(start=lo.date(), end=hi.date()) if len(left) else \
                ledger.time_entries()
        else:
            right = read_entries(Path(b), "time", profile_b).frames["time"]
    diff = compare_sources(left, right)
    if out is not None:
        atomic_write_csv(diff, out)
    emit(diff, format, ["status", "field", "entry_id_a", "entry_id_b", "timekeeper_id",
                        "work_date", "matter_id", "value_a", "value_b", "matched_by"],
         title=f"{a.name} vs {b}")
    if format is OutputFormat.table:
        counts = diff["status"].value_counts()
        err_console.print(f"{counts.get('missing', 0)} missing from B, {counts.get('extra', 0)} "
                          f"extra in B, {counts.get('changed', 0)} changed field(s).")
    raise typer.Exit(1 if len(diff) else 0)


# --------------------------------------------------------------------------- findings
findings_app = typer.Typer(help="Review findings kept in the ledger: list, query, resolve, waive.",
                           no_args_is_help=True)
app.add_typer(findings_app, name="findings")


@findings_app.command("list")
def findings_list(
    status: Annotated[str | None, typer.Option(help="open, queried, resolved or waived.")] = None,
    rule: Annotated[str | None, typer.Option(help="A rule id, e.g. VAGUE.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """List findings with their status."""
    from billxl import list_findings

    with handle_errors():
        frame = list_findings(open_ledger(), status=status, rule=rule)
    asked = "".join(f" --{name} {value}" for name, value in (("status", status), ("rule", rule))
                    if value)
    emit_findings(frame, format, ["finding_id", "status", "severity", "rule", "entry_id",
                                  "message", "status_reason", "status_by"], "Findings",
                  every=f"billxl findings list{asked}", by=("rule", "status", "severity"))


def _set_status(ids: list[int], status: str, reason: str | None) -> None:
    from billxl import set_finding_status

    with handle_errors():
        n = set_finding_status(open_ledger(), ids, status, reason=reason)
    console.print(f"{n} finding{'s' if n != 1 else ''} marked {status}.")


@findings_app.command("waive")
def findings_waive(
    ids: Annotated[list[int], typer.Argument(help="Finding ids (see 'billxl findings list').")],
    reason: Annotated[str, typer.Option(help="Why the finding is accepted (kept in the ledger).")],
) -> None:
    """Accept findings as they are; they stay quiet until their entry changes."""
    _set_status(ids, "waived", reason)


@findings_app.command("query")
def findings_query(
    ids: Annotated[list[int], typer.Argument()],
    note: Annotated[str | None, typer.Option(help="What was asked, of whom.")] = None,
) -> None:
    """Mark findings as asked of the lawyer (awaiting an answer)."""
    _set_status(ids, "queried", note)


@findings_app.command("resolve")
def findings_resolve(
    ids: Annotated[list[int], typer.Argument()],
    note: Annotated[str | None, typer.Option(help="How it was resolved.")] = None,
) -> None:
    """Mark findings resolved (the next check reopens any that still apply)."""
    _set_status(ids, "resolved", note)


# --------------------------------------------------------------------------- pre-bills
prebill_app = typer.Typer(help="Pre-bills: review workbooks for the billing partners, and their edits.")
app.add_typer(prebill_app, name="prebill")


@prebill_app.callback(invoke_without_command=True)
def prebill_make(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="The billing month, YYYY-MM.")] = None,
    partner: Annotated[str | None, typer.Option(help="Only this billing partner's matters.")] = None,
    matter: Annotated[str | None, typer.Option(help="Only this matter, whatever its billing cycle (how an on-request matter is billed).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the workbooks (one per partner).")] = Path("prebills"),
    replace: Annotated[bool, typer.Option("--replace", help="Write over workbooks that hold edits not applied yet (each is kept in OUT/replaced/ first).")] = False,
) -> None:
    """Draft the month's pre-bills and write one review workbook per billing partner.

    Only matters whose billing cycle falls in the month (billxl schedule cycle): monthly ones
    every month, quarterly ones in March, June, September and December.

    A partner's workbook in OUT with edits not applied yet is never overwritten: apply it first
    (billxl prebill apply FILE), or give --replace.
    """
    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise typer.BadParameter("say which month: --month YYYY-MM", param_hint="--month")
    from billxl import create_prebills, unapplied_prebill_workbooks, write_prebill_workbooks

    with handle_errors():
        ledger = open_ledger()
        # before drafting: a rebuilt pre-bill would leave the partner's edits nowhere to go
        pending = unapplied_prebill_workbooks(ledger, month, out, partner=partner,
                                              refuse=not replace)
        with show_progress() as update:
            update("Drafting pre-bills", 0, 1)
            created = create_prebills(ledger, month, partner=partner, matter=matter)
            update("Drafting pre-bills", 1, 1)
            update("Writing the partners' workbooks", 0, 1)
            books = write_prebill_workbooks(ledger, month, out, partner=partner, replace=replace)
            update("Writing the partners' workbooks", 1, 1)
    console.print(f"{len(created)} pre-bill(s) drafted; {len(books)} workbook(s) in {out}:")
    for who, path in sorted(books.items()):
        console.print(f"  {who}: {path}")
    for path in pending:
        console.print(f"  kept (it held edits not applied): {out / 'replaced'} ← {path.name}")


@prebill_app.command("apply")
def prebill_apply(
    file: Annotated[Path, typer.Argument(help="A pre-bill workbook the partner edited.")],
    problems: Annotated[Path | None, typer.Option("--problems", help="Write every problem found to this CSV file.")] = None,
) -> None:
    """Apply a partner's edits and approvals. Checked strictly: nothing is applied if anything is wrong."""
    from billxl import apply_prebill, describe_prebill

    with handle_errors():
        try:
            result = apply_prebill(open_ledger(), file)
        except InputError as error:
            if problems is not None and error.problems:
                write_problems(error.problems, problems)
            raise
    console.print(describe_prebill(result))
    if len(result.problems):  # applied, but finalize would hold these invoices
        raise typer.Exit(1)


# --------------------------------------------------------------------------- invoices
invoice_app = typer.Typer(help="Final invoices and credit notes.", no_args_is_help=True)
app.add_typer(invoice_app, name="invoice")

INVOICE_AMOUNTS = ("fees", "expenses", "discount", "tax", "total", "balance")


def _register_view(frame):
    """The invoice register as users read it: amounts as decimal strings in their currency."""
    from billxl import format_amount

    view = frame.rename(columns={"invoice_date": "date"}).copy()
    for name in INVOICE_AMOUNTS:
        view[name] = [format_amount(int(v), c) for v, c in
                      zip(view[f"{name}_minor"], view["currency"], strict=True)]
    view["date"] = view["date"].dt.date
    view["due_date"] = view["due_date"].dt.date
    return view


@invoice_app.command("finalize")
def invoice_finalize(
    month: Annotated[str | None, typer.Option(help="Finalize the month's approved pre-bills, YYYY-MM.")] = None,
    matter: Annotated[str | None, typer.Option(help="Finalize one matter's approved pre-bill.")] = None,
    date_: Annotated[str | None, typer.Option("--date", help="Invoice date, YYYY-MM-DD (default: the month's last day, or today).")] = None,
    override: Annotated[str | None, typer.Option("--override", metavar="REASON", help="Finalize the invoices their clients' guidelines or portals would reject too, for this reason (kept in the audit log with who and what was found).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who finalizes (default: the operating system's user).")] = None,
    held_file: Annotated[Path | None, typer.Option("--held-file", help="Where to list the held invoices' problems (CSV). Default: held_<month or matter>.csv here.")] = None,
) -> None:
    """Turn approved pre-bills into final, numbered invoices (they never change afterwards).

    An invoice its client's billing guidelines or e-billing portal would reject is held: its
    pre-bill stays approved and unbilled, its problems are listed (rule, line, what to do) here
    and in a CSV file, and the command exits 1. Fix the lines (billxl prebill apply) and
    finalize again, or finalize them anyway with --override "REASON".
    """
    from billxl import atomic_write_csv, finalize

    with handle_errors():
        on = parse_day(date_)
        result = finalize(open_ledger(), month=month, matter=matter, invoice_date=on,
                          actor=by, override=override)
    if result.count:
        numbers = sorted(result.invoices["number"])
        console.print(f"{result.count} invoice(s) finalized, numbers {numbers[0]} to "
                      f"{numbers[-1]}; {result.entries_billed:,} entries billed, "
                      f"{result.entries_written_off:,} written off, "
                      f"{result.entries_transferred:,} transferred.")
    elif not len(result.held):
        console.print("No approved pre-bills to finalize.")
    if len(result.overridden):
        console.print(f"[bold]Overridden:[/] {result.overridden['prebill_pk'].nunique()} "
                      f"pre-bill(s) finalized although their clients would reject them "
                      f"({len(result.overridden)} problem(s)); the audit log keeps the reason.")
    if not len(result.held):
        return
    held = result.held
    path = held_file or Path(f"held_{month or matter}.csv".replace("/", "_"))
    columns = ["matter_id", "prebill_pk", "client_id", "line_no", "work_date",
               "timekeeper_name", "entry_kind", "entry_pk", "check", "rule", "message", "fix"]
    atomic_write_csv(held[columns], path)
    table = Table("Matter", "Pre-bill", "Line", "Date", "Timekeeper", "Rule", "What is wrong",
                  "What to do", title=f"Held: {held['prebill_pk'].nunique()} pre-bill(s) whose "
                  "invoices their clients would reject (still pre-bills)", header_style="bold")
    import pandas as pd

    def shown(value) -> str:
        if value is None or pd.isna(value):
            return ""
        return f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else str(value)

    for r in held.head(50).itertuples(index=False):
        table.add_row(*[shown(v) for v in (r.matter_id, r.prebill_pk, r.line_no, r.work_date,
                                          r.timekeeper_name, r.rule, r.message, r.fix)])
    err_console.print(table)
    more = f" ({len(held) - 50} more there)" if len(held) > 50 else ""
    err_console.print(f"Every problem ({len(held)}) is listed in {path}{more}. Fix the lines "
                      "(billxl prebill apply) and finalize again, or finalize them anyway with "
                      "--override \"REASON\".")
    raise typer.Exit(1)


@invoice_app.command("list")
def invoice_list(
    month: Annotated[str | None, typer.Option(help="Invoices dated in this month, YYYY-MM.")] = None,
    client: Annotated[str | None, typer.Option(help="One client's invoices.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The invoice register: every invoice and credit note, with its balance and status."""
    from billxl import list_invoices

    with handle_errors():
        frame = list_invoices(open_ledger(), month=month, client=client)
    emit(_register_view(frame), format,
         ["number", "kind", "client_id", "matter_id", "date", "due_date", "currency", "fees",
          "expenses", "discount", "tax", "total", "balance", "status"], title="Invoices")


class DocumentFormat(enum.StrEnum):
    pdf = "pdf"
    xlsx = "xlsx"


@invoice_app.command("render")
def invoice_render(
    numbers: Annotated[list[str] | None, typer.Argument(help="Invoice or credit note numbers.", show_default=False)] = None,
    month: Annotated[str | None, typer.Option(help="Every invoice and credit note dated in this month, YYYY-MM.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the documents (made if missing).")] = Path("invoices"),
    format_: Annotated[list[DocumentFormat] | None, typer.Option("--format", help="pdf or xlsx (repeat for both; default both).", show_default=False)] = None,
    templates: Annotated[Path | None, typer.Option("--templates", help="The firm's template folder (default: $BILLXL_TEMPLATES, else the ledger's setting templates_dir, else billxl's own).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes rendering at once.")] = 2,
) -> None:
    """Render final invoices' documents (PDF and XLSX) from the ledger, as they were finalized."""
    from billxl import list_invoices, render_invoices

    formats = tuple(dict.fromkeys(f.value for f in format_)) if format_ else ("pdf", "xlsx")
    with handle_errors():
        if bool(numbers) == bool(month):
            raise InputError("Name the invoices to render, or give --month YYYY-MM (not both).")
        ledger = open_ledger()
        register = list_invoices(ledger, month=month)
        if numbers:
            by_number = dict(zip(register["number"].astype(str), register["invoice_pk"], strict=True))
            missing = [n for n in numbers if n not in by_number]
            if missing:
                raise InputError(f"No invoice numbered {', '.join(missing)} in the ledger "
                                  "(see `billxl invoice list`).")
            pks = [int(by_number[n]) for n in dict.fromkeys(numbers)]
        else:
            pks = [int(pk) for pk in register.sort_values("number")["invoice_pk"]]
            if not pks:
                console.print(f"No invoices are dated in {month}.")
                return
        with show_progress() as update:
            paths = render_invoices(ledger, pks, out, workers=workers, formats=formats,
                                    templates=templates,
                                    progress=lambda done, total: update("Rendering", done, total))
    console.print(f"{len(pks)} invoice(s) rendered: {len(paths)} file(s) in {out}.")


@invoice_app.command("credit")
def invoice_credit(
    number: Annotated[str, typer.Argument(help="The invoice to correct.")],
    reason: Annotated[str, typer.Option(help="Why (printed on the credit note).")],
    amount: Annotated[str | None, typer.Option(help="Credit this amount before tax.")] = None,
    line: Annotated[list[int] | None, typer.Option("--line", help="Credit this line (repeat for several).")] = None,
    return_wip: Annotated[bool, typer.Option("--return-wip", help="Put the credited lines' entries back in WIP to bill again.")] = False,
) -> None:
    """Issue a credit note: the whole invoice, chosen lines, or an amount."""
    from billxl import format_amount, issue_credit_note

    with handle_errors():
        note = issue_credit_note(open_ledger(), number, reason=reason,
                                 lines=line, amount=amount, return_wip=return_wip)
    console.print(f"Credit note {note['number']} for invoice {number}: "
                  f"{format_amount(note['total_minor'], note['currency'])} {note['currency']}.")


# --------------------------------------------------------------------------- schedules
schedule_app = typer.Typer(help="Invoice schedules: planned retainer, installment and milestone invoices.",
                           no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@schedule_app.command("add")
def schedule_add(
    matter: Annotated[str, typer.Argument(help="The matter.")],
    kind: Annotated[str, typer.Option(help="installment, retainer or milestone.")],
    amount: Annotated[str, typer.Option(help="Amount before tax, e.g. 2500.00.")],
    description: Annotated[str, typer.Option(help="The invoice's line, e.g. 'Installment 1 of 3'.")],
    due: Annotated[str | None, typer.Option(help="Date it falls due, YYYY-MM-DD (installments, retainers).")] = None,
    trigger: Annotated[str | None, typer.Option(help="The event that triggers a milestone.")] = None,
) -> None:
    """Plan a future invoice (on a fixed-fee matter: refused over the fee, and what is left)."""
    from billxl import add_scheduled_invoice, schedule_fee_left

    with handle_errors():
        ledger = open_ledger()
        pk = add_scheduled_invoice(ledger, matter, kind=kind, amount=amount,
                                   description=description, due_on=parse_day(due),
                                   trigger=trigger)
        left = schedule_fee_left(ledger, matter)
    console.print(f"Scheduled invoice {pk} planned for {matter}.")
    if left is not None:
        console.print(str(left))


@schedule_app.command("list")
def schedule_list(
    matter: Annotated[str | None, typer.Option(help="One matter's plan.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The plan: every scheduled invoice, planned or invoiced."""
    from billxl import list_scheduled_invoices

    with handle_errors():
        frame = list_scheduled_invoices(open_ledger(), matter)
    emit(frame, format, ["schedule_id", "matter_id", "kind", "due_on", "trigger", "triggered_on",
                         "amount_minor", "description", "status", "invoice_number"],
         title="Invoice schedule")


@schedule_app.command("edit")
def schedule_edit(
    schedule_id: Annotated[int, typer.Argument()],
    amount: Annotated[str | None, typer.Option()] = None,
    due: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    description: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change a planned invoice (not one already invoiced)."""
    from billxl import update_scheduled_invoice

    changes = {k: v for k, v in {"amount": amount, "due_on": parse_day(due),
                                 "description": description}.items() if v is not None}
    with handle_errors():
        update_scheduled_invoice(open_ledger(), schedule_id, **changes)
    console.print(f"Scheduled invoice {schedule_id} changed.")


@schedule_app.command("trigger")
def schedule_trigger(
    schedule_id: Annotated[int, typer.Argument()],
    on: Annotated[str, typer.Option(help="When the milestone happened, YYYY-MM-DD.")],
) -> None:
    """Record that a milestone happened; the next finalize invoices it."""
    from billxl import trigger_scheduled_invoice

    with handle_errors():
        trigger_scheduled_invoice(open_ledger(), schedule_id, parse_day(on))
    console.print(f"Milestone {schedule_id} triggered on {on}.")


register_schedule_commands(schedule_app)  # build, show, due, cycle


# --------------------------------------------------------------------------- e-billing, cash
app.add_typer(ledes_app, name="ledes")

app.add_typer(payments_app, name="payments")
app.add_typer(ar_app, name="ar")
app.add_typer(trust_app, name="trust")
app.add_typer(firm_app, name="firm")
app.add_typer(client_app, name="client")
app.add_typer(matter_app, name="matter")
app.add_typer(timekeeper_app, name="timekeeper")
app.add_typer(workbook_app, name="workbook")
workbook_app.command("copy")(copy_workbook)
app.add_typer(templates_app, name="templates")
app.add_typer(notebooks_app, name="notebooks")
app.command("month-end")(month_end)


def main() -> None:
    """Console-script entry point."""
    from billxl import allow_parallel_scans

    allow_parallel_scans()  # the console script's main is guarded: a big month may use processes
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("Interrupted. Work in progress was rolled back; nothing half-written was kept.")
        sys.exit(130)
    except Exception as error:  # a bug or an environment problem: still one paragraph
        if state.debug:
            raise
        from billxl import busy_timeout_seconds, ledger_busy

        if ledger_busy(error):
            err_console.print(
                "[bold red]The ledger is busy:[/] another program has been writing to it for "
                f"more than {busy_timeout_seconds():g} seconds (another billxl command, the "
                "billing workbook's ribbon, a notebook, or a database tool with it open). "
                "Nothing was changed. Run the command again when that has finished.")
            sys.exit(3)
        err_console.print(
            f"[bold red]Unexpected error:[/] {type(error).__name__}: {error}\n"
            "Nothing was changed by the step that failed. Run the same command with --debug "
            "for the details, and report it if it looks like a billxl bug."
        )
        sys.exit(4)

