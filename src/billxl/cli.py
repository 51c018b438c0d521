"""`billxl` on the command line: thin commands over the engine, with progress and plain errors.

Exit codes: 0 done; 1 done, but something needs attention (e.g. error findings); 2 the input
could not be taken (nothing was changed); 3 the ledger refused.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from billxl.errors import BillxlError, InputError

app = typer.Typer(
    name="billxl",
    help="Law-firm billing: ledger, time-entry checks, invoices, LEDES, payments, month-end packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class _State:
    ledger_url: str | None = None
    debug: bool = False


state = _State()

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
) -> None:
    state.ledger_url = ledger
    state.debug = debug


# --------------------------------------------------------------------------- helpers
def _fail(error: BillxlError) -> typer.Exit:
    if isinstance(error, InputError) and error.problems:
        err_console.print(f"[bold red]Nothing was changed.[/] {error.summary}")
        table = Table("File", "Sheet", "Row", "Column", "Value", "Why", show_lines=False,
                      header_style="bold")
        shown = error.problems[:50]
        for p in shown:
            table.add_row(Path(p.file).name, p.sheet or "", "" if p.row is None else str(p.row),
                          p.column or "", "" if p.value is None else p.value, p.reason)
        err_console.print(table)
        if len(error.problems) > len(shown):
            err_console.print(f"... and {len(error.problems) - len(shown)} more problems "
                              "(use --problems FILE.csv to get every one).")
    else:
        err_console.print(f"[bold red]Error:[/] {error}")
    return typer.Exit(2 if isinstance(error, InputError) else 3)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn billxl's own errors into one clear paragraph and an exit code (no traceback)."""
    try:
        yield
    except BillxlError as error:
        if state.debug:
            raise
        raise _fail(error) from None


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress display; yields ``update(stage, done, total)`` for the engine to call."""
    with Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total or 1)
            progress.update(tasks[stage], completed=done, total=total or 1)

        yield update


def _write_problems(problems, path: Path) -> None:
    import pandas as pd

    from billxl.atomic import atomic_write_csv

    atomic_write_csv(pd.DataFrame([p.as_dict() for p in problems]), path)


# --------------------------------------------------------------------------- init
@app.command()
def init(
    name: Annotated[str, typer.Option(help="The firm's name, as printed on invoices.")] = "My Law Firm LLP",
    law_firm_id: Annotated[str, typer.Option(help="The firm's tax id (LEDES LAW_FIRM_ID).")] = "00-0000000",
    currency: Annotated[str, typer.Option(help="Base currency (ISO 4217).")] = "USD",
    upgrade: Annotated[bool, typer.Option("--upgrade", help="Migrate an existing ledger to this version's schema.")] = False,
) -> None:
    """Create a new, empty ledger (or migrate an existing one with --upgrade)."""
    from billxl.store import db
    from billxl.store.ledger import Ledger

    with _errors():
        if upgrade:
            engine = db.make_engine(state.ledger_url)
            db.upgrade(engine)
            console.print(f"Ledger at {engine.url.render_as_string(hide_password=True)} is at "
                          f"schema revision {db.current_revision(engine)}.")
            return
        ledger = Ledger.create(state.ledger_url, firm={"name": name, "law_firm_id": law_firm_id,
                                                       "currency": currency.upper()})
        console.print(f"Created a new ledger for {name} at {ledger.display_url}.")


# --------------------------------------------------------------------------- import
class ImportKind(enum.StrEnum):
    time = "time"
    expenses = "expenses"
    all = "all"


@app.command("import")
def import_(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds: time, expenses, or all (a mixed export).")],
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, XLSM, XLS or ODS export.", exists=False)],
    profile: Annotated[str, typer.Option(help="Column-mapping profile: a shipped name (canonical, pm_activities) or a YAML file.")] = "canonical",
    problems: Annotated[Path | None, typer.Option("--problems", help="Write every problem found to this CSV file.")] = None,
) -> None:
    """Import time entries or expenses. All or nothing: one bad row and nothing is imported."""
    from billxl import intake
    from billxl.store.ledger import Ledger

    with _errors():
        ledger = Ledger.open(state.ledger_url)
        try:
            with _progress() as update:
                result = intake.import_file(ledger, file, kind.value, profile, progress=update)
        except InputError as error:
            if problems is not None and error.problems:
                _write_problems(error.problems, problems)
                err_console.print(f"Every problem is listed in {problems}.")
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
    from billxl.monthend import run_demo

    with _errors(), _progress() as update:
        result = run_demo(dir, month=month, entries=entries, seed=seed,
                          ledger_url=state.ledger_url, progress=update)
    console.print(_demo_report(result))
    if evaluate and result.evaluation is not None:
        table = result.evaluation
        shown = table.assign(
            recall=table["recall"].map(lambda v: "-" if v != v else f"{v:.3f}"),
            precision=[("-" if p == 0 or v != v else f"{v:.3f}")  # not planted: not scored
                       for p, v in zip(table["planted"], table["precision"], strict=True)])
        _emit(shown, OutputFormat.table, ["kind", "rule", "planted", "flagged", "right",
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


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


# --------------------------------------------------------------------------- checks
def _print_notes(notes: list[str]) -> None:
    for note in dict.fromkeys(notes):
        err_console.print(f"[dim]Note: {note}[/]")


FINDING_OUTPUT = ["severity", "rule", "entry_id", "field", "message", "suggestion"]


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

    Exit code 0 when no finding is an error, 1 when some are, 2 when the file cannot be read.
    """
    from billxl import intake, rules
    from billxl.periods import month_range

    with _errors():
        rules_for = rules.load_guidelines(guidelines)
        window = month_range(period) if period else None
        checked = intake.read_entries(file, "all", profile, currency=currency.upper())
        results = []
        if "time" in checked.frames:
            results.append(rules.check_entries(checked.frames["time"], guidelines=rules_for,
                                               period=window))
        if "expenses" in checked.frames:
            results.append(rules.check_expenses(checked.frames["expenses"], guidelines=rules_for,
                                                period=window))
    import pandas as pd

    findings = pd.concat([r.findings for r in results], ignore_index=True)
    _print_notes([n for r in results for n in r.notes])
    _emit(findings, format, FINDING_OUTPUT, title=f"Findings in {file.name}")
    errors = int((findings["severity"] == "error").sum())
    if format is OutputFormat.table:
        err_console.print(f"{len(findings)} finding(s), {errors} error(s) a portal would reject.")
    raise typer.Exit(1 if errors else 0)


@app.command()
def reconcile(
    month: Annotated[str, typer.Option(help="The billing month, YYYY-MM.")],
    client: Annotated[str | None, typer.Option(help="Only this client's matters.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the exceptions workbook here (.xlsx).")] = None,
    guidelines_dir: Annotated[Path, typer.Option(help="Folder of client guideline files, named by each client's guideline set.")] = Path("guidelines"),
) -> None:
    """Check the ledger's WIP for the month, record findings, and write the exceptions workbook."""
    from billxl.excel.exceptions_workbook import write_exceptions_workbook
    from billxl.reconcile import reconcile_month
    from billxl.store.ledger import Ledger

    with _errors():
        ledger = Ledger.open(state.ledger_url)
        with _progress() as update:
            update("Checking WIP against the rules", 0, 1)
            result = reconcile_month(ledger, month, client=client, guidelines_dir=guidelines_dir)
            update("Checking WIP against the rules", 1, 1)
            if out is not None:
                update("Writing the exceptions workbook", 0, 1)
                write_exceptions_workbook(out, result.findings,
                                          title=f"Exceptions — {month}" + (f" — {client}" if client else ""))
                update("Writing the exceptions workbook", 1, 1)
    _print_notes(result.notes)
    s = result.sync
    console.print(
        f"Checked {result.entries_checked:,} time entries and {result.expenses_checked:,} expenses "
        f"for {month}: {len(result.findings):,} findings to review ({result.errors:,} errors); "
        f"{s.new:,} new, {s.reopened:,} reopened, {s.still_waived:,} still waived, "
        f"{s.auto_resolved:,} resolved since the last run."
        + (f" Workbook: {out}" if out else ""))


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
    from billxl import intake
    from billxl.atomic import atomic_write_csv
    from billxl.sources import compare_sources
    from billxl.store.ledger import Ledger

    with _errors():
        left = intake.read_entries(a, "time", profile_a).frames["time"]
        if b == "ledger":
            ledger = Ledger.open(state.ledger_url)
            lo, hi = left["work_date"].min(), left["work_date"].max()
            right = ledger.time_entries(start=lo.date(), end=hi.date()) if len(left) else \
                ledger.time_entries()
        else:
            right = intake.read_entries(Path(b), "time", profile_b).frames["time"]
    diff = compare_sources(left, right)
    if out is not None:
        atomic_write_csv(diff, out)
    _emit(diff, format, ["status", "field", "entry_id_a", "entry_id_b", "timekeeper_id",
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


def _emit(frame, fmt: OutputFormat, columns: list[str], title: str = "") -> None:
    """Print a frame as a rich table, JSON records or CSV, on standard output."""
    import json

    frame = frame[columns]
    if fmt is OutputFormat.json:
        records = [{k: (None if v is None or (not isinstance(v, str) and v != v) else
                        (v.isoformat() if hasattr(v, "isoformat") else
                         v.item() if hasattr(v, "item") else v))
                    for k, v in rec.items()} for rec in frame.to_dict("records")]
        sys.stdout.write(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    elif fmt is OutputFormat.csv:
        frame.to_csv(sys.stdout, index=False)
    else:
        table = Table(*columns, title=title or None, header_style="bold")
        for rec in frame.itertuples(index=False):
            table.add_row(*["" if v is None or (not isinstance(v, str) and v != v) else str(v)
                            for v in rec])
        console.print(table)


@findings_app.command("list")
def findings_list(
    status: Annotated[str | None, typer.Option(help="open, queried, resolved or waived.")] = None,
    rule: Annotated[str | None, typer.Option(help="A rule id, e.g. VAGUE.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """List findings with their status."""
    from billxl.store.findings import list_findings
    from billxl.store.ledger import Ledger

    with _errors():
        frame = list_findings(Ledger.open(state.ledger_url), status=status, rule=rule)
    _emit(frame, format, ["finding_id", "status", "severity", "rule", "entry_id", "message",
                          "status_reason", "status_by"], title="Findings")


def _set_status(ids: list[int], status: str, reason: str | None) -> None:
    from billxl.store.findings import set_status
    from billxl.store.ledger import Ledger

    with _errors():
        n = set_status(Ledger.open(state.ledger_url), ids, status, reason=reason)
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
    out: Annotated[Path, typer.Option(help="Folder for the workbooks (one per partner).")] = Path("prebills"),
) -> None:
    """Draft the month's pre-bills and write one review workbook per billing partner."""
    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise typer.BadParameter("say which month: --month YYYY-MM", param_hint="--month")
    from billxl.billing import prebill
    from billxl.store.ledger import Ledger

    with _errors():
        ledger = Ledger.open(state.ledger_url)
        with _progress() as update:
            update("Drafting pre-bills", 0, 1)
            created = prebill.create_prebills(ledger, month, partner=partner)
            update("Drafting pre-bills", 1, 1)
            update("Writing the partners' workbooks", 0, 1)
            books = prebill.write_prebill_workbooks(ledger, month, out, partner=partner)
            update("Writing the partners' workbooks", 1, 1)
    console.print(f"{len(created)} pre-bill(s) drafted; {len(books)} workbook(s) in {out}:")
    for who, path in sorted(books.items()):
        console.print(f"  {who}: {path}")


@prebill_app.command("apply")
def prebill_apply(
    file: Annotated[Path, typer.Argument(help="A pre-bill workbook the partner edited.")],
    problems: Annotated[Path | None, typer.Option("--problems", help="Write every problem found to this CSV file.")] = None,
) -> None:
    """Apply a partner's edits and approvals. Checked strictly: nothing is applied if anything is wrong."""
    from billxl.billing import prebill
    from billxl.store.ledger import Ledger

    with _errors():
        try:
            result = prebill.apply_prebill(Ledger.open(state.ledger_url), file)
        except InputError as error:
            if problems is not None and error.problems:
                _write_problems(error.problems, problems)
            raise
    console.print(prebill.describe(result))


# --------------------------------------------------------------------------- invoices
invoice_app = typer.Typer(help="Final invoices and credit notes.", no_args_is_help=True)
app.add_typer(invoice_app, name="invoice")

INVOICE_AMOUNTS = ("fees", "expenses", "discount", "tax", "total", "balance")


def _register_view(frame):
    """The invoice register as users read it: amounts as decimal strings in their currency."""
    from billxl import money

    view = frame.rename(columns={"invoice_date": "date"}).copy()
    for name in INVOICE_AMOUNTS:
        view[name] = [money.format_amount(int(v), c) for v, c in
                      zip(view[f"{name}_minor"], view["currency"], strict=True)]
    view["date"] = view["date"].dt.date
    view["due_date"] = view["due_date"].dt.date
    return view


@invoice_app.command("finalize")
def invoice_finalize(
    month: Annotated[str | None, typer.Option(help="Finalize the month's approved pre-bills, YYYY-MM.")] = None,
    matter: Annotated[str | None, typer.Option(help="Finalize one matter's approved pre-bill.")] = None,
    date_: Annotated[str | None, typer.Option("--date", help="Invoice date, YYYY-MM-DD (default: the month's last day, or today).")] = None,
) -> None:
    """Turn approved pre-bills into final, numbered invoices (they never change afterwards)."""
    from datetime import date as _date

    from billxl.billing.invoicing import finalize
    from billxl.store.ledger import Ledger

    with _errors():
        on = None
        if date_:
            try:
                on = _date.fromisoformat(date_)
            except ValueError:
                raise InputError(f"{date_!r} is not a date: write it as YYYY-MM-DD.") from None
        result = finalize(Ledger.open(state.ledger_url), month=month, matter=matter,
                          invoice_date=on)
    if not result.count:
        console.print("No approved pre-bills to finalize.")
        return
    numbers = sorted(result.invoices["number"])
    console.print(f"{result.count} invoice(s) finalized, numbers {numbers[0]} to {numbers[-1]}; "
                  f"{result.entries_billed:,} entries billed, {result.entries_written_off:,} "
                  f"written off, {result.entries_transferred:,} transferred.")


@invoice_app.command("list")
def invoice_list(
    month: Annotated[str | None, typer.Option(help="Invoices dated in this month, YYYY-MM.")] = None,
    client: Annotated[str | None, typer.Option(help="One client's invoices.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The invoice register: every invoice and credit note, with its balance and status."""
    from billxl.billing.credit_notes import list_invoices
    from billxl.store.ledger import Ledger

    with _errors():
        frame = list_invoices(Ledger.open(state.ledger_url), month=month, client=client)
    _emit(_register_view(frame), format,
          ["number", "kind", "client_id", "matter_id", "date", "due_date", "currency", "fees",
           "expenses", "discount", "tax", "total", "balance", "status"], title="Invoices")


@invoice_app.command("credit")
def invoice_credit(
    number: Annotated[str, typer.Argument(help="The invoice to correct.")],
    reason: Annotated[str, typer.Option(help="Why (printed on the credit note).")],
    amount: Annotated[str | None, typer.Option(help="Credit this amount before tax.")] = None,
    line: Annotated[list[int] | None, typer.Option("--line", help="Credit this line (repeat for several).")] = None,
    return_wip: Annotated[bool, typer.Option("--return-wip", help="Put the credited lines' entries back in WIP to bill again.")] = False,
) -> None:
    """Issue a credit note: the whole invoice, chosen lines, or an amount."""
    from billxl import money
    from billxl.billing.credit_notes import issue_credit_note
    from billxl.store.ledger import Ledger

    with _errors():
        note = issue_credit_note(Ledger.open(state.ledger_url), number, reason=reason,
                                 lines=line, amount=amount, return_wip=return_wip)
    console.print(f"Credit note {note['number']} for invoice {number}: "
                  f"{money.format_amount(note['total_minor'], note['currency'])} {note['currency']}.")


# --------------------------------------------------------------------------- schedules
schedule_app = typer.Typer(help="Invoice schedules: planned retainer, installment and milestone invoices.",
                           no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


def _day(text: str | None):
    from datetime import date as _date

    if text is None:
        return None
    try:
        return _date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None


@schedule_app.command("add")
def schedule_add(
    matter: Annotated[str, typer.Argument(help="The matter.")],
    kind: Annotated[str, typer.Option(help="installment, retainer or milestone.")],
    amount: Annotated[str, typer.Option(help="Amount before tax, e.g. 2500.00.")],
    description: Annotated[str, typer.Option(help="The invoice's line, e.g. 'Installment 1 of 3'.")],
    due: Annotated[str | None, typer.Option(help="Date it falls due, YYYY-MM-DD (installments, retainers).")] = None,
    trigger: Annotated[str | None, typer.Option(help="The event that triggers a milestone.")] = None,
) -> None:
    """Plan a future invoice."""
    from billxl.billing.schedules import add_item
    from billxl.store.ledger import Ledger

    with _errors():
        pk = add_item(Ledger.open(state.ledger_url), matter, kind=kind, amount=amount,
                      description=description, due_on=_day(due), trigger=trigger)
    console.print(f"Scheduled invoice {pk} planned for {matter}.")


@schedule_app.command("list")
def schedule_list(
    matter: Annotated[str | None, typer.Option(help="One matter's plan.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The plan: every scheduled invoice, planned or invoiced."""
    from billxl.billing.schedules import list_items
    from billxl.store.ledger import Ledger

    with _errors():
        frame = list_items(Ledger.open(state.ledger_url), matter)
    _emit(frame, format, ["schedule_id", "matter_id", "kind", "due_on", "trigger", "triggered_on",
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
    from billxl.billing.schedules import update_item
    from billxl.store.ledger import Ledger

    changes = {k: v for k, v in {"amount": amount, "due_on": _day(due),
                                 "description": description}.items() if v is not None}
    with _errors():
        update_item(Ledger.open(state.ledger_url), schedule_id, **changes)
    console.print(f"Scheduled invoice {schedule_id} changed.")


@schedule_app.command("trigger")
def schedule_trigger(
    schedule_id: Annotated[int, typer.Argument()],
    on: Annotated[str, typer.Option(help="When the milestone happened, YYYY-MM-DD.")],
) -> None:
    """Record that a milestone happened; the next finalize invoices it."""
    from billxl.billing.schedules import trigger
    from billxl.store.ledger import Ledger

    with _errors():
        trigger(Ledger.open(state.ledger_url), schedule_id, _day(on))
    console.print(f"Milestone {schedule_id} triggered on {on}.")


# --------------------------------------------------------------------------- cash
from billxl.cash_cli import ar_app, payments_app, trust_app  # noqa: E402  (sub-apps, no cycle)
from billxl.ledes.cli import ledes_app  # noqa: E402

app.add_typer(ledes_app, name="ledes")

app.add_typer(payments_app, name="payments")
app.add_typer(ar_app, name="ar")
app.add_typer(trust_app, name="trust")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("Interrupted. Work in progress was rolled back; nothing half-written was kept.")
        sys.exit(130)
    except Exception as error:  # a bug or an environment problem: still one paragraph
        if state.debug:
            raise
        err_console.print(
            f"[bold red]Unexpected error:[/] {type(error).__name__}: {error}\n"
            "Nothing was changed by the step that failed. Run the same command with --debug "
            "for the details, and report it if it looks like a billxl bug."
        )
        sys.exit(4)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("COLUMNS", "120")
    main()
