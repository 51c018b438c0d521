"""What every ``billxl`` command shares: the consoles, the output formats, plain errors with an
exit code, progress, the problems file, and the --ledger option's state.

The main commands (:mod:`billxl.cli.commands`), the cash commands (:mod:`billxl.cli.cash`)
and the LEDES commands (:mod:`billxl.cli.ledes`) all use this module and nothing of each other.

Exit codes: 0 done; 1 done, but something needs attention (e.g. error findings); 2 the input
could not be taken (nothing was changed); 3 the ledger refused.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from billxl import BillxlError, InputError

__all__ = ["console", "err_console", "state", "State", "OutputFormat", "handle_errors",
           "show_progress", "write_problems", "emit", "print_notes", "parse_day", "open_ledger"]

console = Console()
err_console = Console(stderr=True)


class State:
    """The main app's options, set by its callback before any command runs."""

    ledger_url: str | None = None
    debug: bool = False


state = State()


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def open_ledger():
    """The ledger named by --ledger (else $BILLXL_LEDGER, else ./billxl.db)."""
    from billxl import Ledger

    return Ledger.open(state.ledger_url)


def parse_day(text: str | None) -> date | None:
    """A --date style option: YYYY-MM-DD, or None when it was not given."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None


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
        listed = getattr(error, "problems_file", None)  # set where --problems was written
        more = len(error.problems) - len(shown)
        if listed is not None:
            err_console.print(f"{'... and ' + str(more) + ' more. ' if more > 0 else ''}"
                              f"Every problem ({len(error.problems)}) is listed in {listed}.")
        elif more > 0:
            err_console.print(f"... and {more} more problems "
                              "(use --problems FILE.csv to get every one).")
    else:
        err_console.print(f"[bold red]Error:[/] {error}")
    return typer.Exit(2 if isinstance(error, InputError) else 3)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn billxl's own errors into one clear paragraph and an exit code (no traceback)."""
    try:
        yield
    except BillxlError as error:
        if state.debug:
            raise
        raise _fail(error) from None


@contextmanager
def show_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress display; yields ``update(stage, done, total)`` for the engine to call."""
    with Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total or 1)
            progress.update(tasks[stage], completed=done, total=total or 1)

        yield update


def write_problems(problems, path: Path) -> None:
    """Every problem of a refused input, one CSV row each (the --problems option)."""
    import pandas as pd

    from billxl import atomic_write_csv

    atomic_write_csv(pd.DataFrame([p.as_dict() for p in problems]), path)


def print_notes(notes: list[str]) -> None:
    """Notes of the engine's (e.g. a guideline it could not apply), each once, on stderr."""
    for note in dict.fromkeys(notes):
        err_console.print(f"[dim]Note: {note}[/]")


def emit(frame, fmt: OutputFormat, columns: list[str], title: str = "") -> None:
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
        from billxl import write_csv

        write_csv(frame, sys.stdout)
    else:
        table = Table(*columns, title=title or None, header_style="bold")
        for rec in frame.itertuples(index=False):
            table.add_row(*["" if v is None or (not isinstance(v, str) and v != v) else str(v)
                            for v in rec])
        console.print(table)


#: The most findings a command shows as a table (more: a count per kind and the first ones)
TABLE_ROWS = 100


def emit_findings(frame, fmt: OutputFormat, columns: list[str], title: str, every: str,
                  by: tuple[str, ...] = ("rule", "severity")) -> None:
    """:func:`emit` for findings: as a table, more than :data:`TABLE_ROWS` of them are shown as
    a count per ``by`` and the first ones, with ``every`` (the command that lists them all as
    CSV) on standard error; a month's tens of thousands would scroll for minutes."""
    if fmt is not OutputFormat.table or len(frame) <= TABLE_ROWS:
        emit(frame, fmt, columns, title=title)
        return
    counts = (frame.groupby(list(by), sort=False).size().reset_index(name="findings")
              .sort_values("findings", ascending=False, kind="stable"))
    counts["findings"] = counts["findings"].map("{:,}".format)
    named = ", ".join(by[:-1]) + " and " + by[-1] if len(by) > 1 else by[0]
    emit(counts, fmt, [*by, "findings"], title=f"{title}, by {named}")
    emit(frame.head(TABLE_ROWS), fmt, columns,
         title=f"The first {TABLE_ROWS} of {len(frame):,} findings")
    err_console.print(f"Every finding, for a spreadsheet: {every} --format csv > findings.csv")
