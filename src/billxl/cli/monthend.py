"""``billxl month-end``: every pack of a month, in parallel, with a progress display.

A thin command over :func:`billxl.packs.batch.run_month_end`. Exit codes as every command's
(:mod:`billxl.cli.output`): 0 every pack finished; 1 the batch ran but some pack failed (the
index shows which, with its error); 2 the month is not closed (nothing ran: the list of what
is open is printed; --force runs anyway) or the options cannot be taken; 3 the ledger refused.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from billxl.cli.output import console, err_console, handle_errors, state


class By(enum.StrEnum):
    partner = "partner"
    client = "client"
    office = "office"


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def month_end(
    month: Annotated[str, typer.Option(help="The month to close, YYYY-MM.")],
    by: Annotated[By, typer.Option(help="A pack for each billing partner, client or office (and the firm's).")] = By.partner,
    workers: Annotated[int, typer.Option(help="Worker processes, each with its own warm kernel.", min=1)] = 2,
    scheduler: Annotated[str | None, typer.Option(help="Run on a Dask distributed cluster: the scheduler's address, e.g. tcp://host:8786 (OUT must be a folder every worker sees).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run although the month is not closed (the manifest and the index say so).")] = False,
    out: Annotated[Path, typer.Option(help="Folder for the packs: OUT/MONTH/ holds manifest.json, index.html and a folder per pack.")] = Path("month-end"),
    notebooks: Annotated[Path | None, typer.Option(help="A folder with the firm's own monthly_pack, reconciliation_review and collections notebooks.")] = None,
) -> None:
    """Build every month-end pack: the close is checked first, finished packs whose inputs are
    unchanged are skipped (a killed run resumes), a failed pack is retried once."""
    from billxl import CloseRefused, run_month_end

    columns = (TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("[red]{task.fields[failed]} failed[/] · {task.fields[remaining]} to go"
                          " · {task.fields[elapsed]} elapsed · ETA {task.fields[eta]}"))
    bar = Progress(*columns, console=err_console, transient=False)
    task = None

    def update(p) -> None:  # the bar appears once the close is checked and the packs planned
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("Month-end packs", total=p.total, failed=0, remaining="",
                                elapsed="", eta="")
        bar.update(task, total=p.total, completed=p.done + p.failed, failed=p.failed,
                   remaining=p.remaining, elapsed=_clock(p.elapsed), eta=_clock(p.eta))

    with handle_errors():
        try:
            manifest = run_month_end(month, by=by.value, workers=workers, scheduler=scheduler,
                                     force=force, out_dir=out, ledger_url=state.ledger_url,
                                     notebooks=notebooks, progress=update)
        except CloseRefused as refused:
            err_console.print(f"[bold red]Not closed:[/] {month} — nothing was run.")
            for problem in refused.problems:
                err_console.print(f"  - {problem}")
            err_console.print("Close these first, or give --force (the manifest records it).")
            raise typer.Exit(2) from None
        finally:
            bar.stop()
    skipped = sum(1 for p in manifest.packs.values() if p.get("skipped"))
    console.print(f"{manifest.finished} of {len(manifest.packs)} packs finished"
                  + (f" ({skipped} unchanged since the last run, skipped)" if skipped else "")
                  + (f", [bold red]{manifest.failed} failed[/]" if manifest.failed else "")
                  + (" — [bold]run with --force: the month was not closed[/]"
                     if manifest.forced else "") + ".", soft_wrap=True)
    console.print(f"Index: {manifest.index}", soft_wrap=True)  # one line, to copy whole
    raise typer.Exit(1 if manifest.failed else 0)


__all__ = ["month_end"]
