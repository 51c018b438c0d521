"""`billxl workbook`: the billing workbook from the command line.

``billxl workbook build`` builds the billing workbook (``billxl-billing.xlsm``) and the add-in
(``billxl.xlam``) from code and the VBA text in ``workbooks/vba/``: the same bytes every time,
so the files committed in ``workbooks/`` are what the code makes (a test checks it).

``billxl workbook run COMMAND FILE`` runs one of the Billing ribbon's commands on a workbook file,
without Excel (for a colleague without it, a server, the tests), and saves the file atomically
with its VBA project and ribbon kept. The commands are the ribbon's buttons
(:data:`billxl.WORKBOOK_COMMANDS`): what they read and write is in the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billxl.cli.output import console, err_console, handle_errors, show_progress, state

workbook_app = typer.Typer(help="The billing workbook and the add-in: build them, or run a "
                                "ribbon command on a workbook file.",
                           no_args_is_help=True)


@workbook_app.command("build")
def build(
    out: Annotated[Path | None, typer.Option(help="Folder for the two files (default: the "
                                             "checkout's workbooks/ folder).")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Fill the client and matter "
                                               "lists from this ledger and name it on the "
                                               "Settings sheet (a URL's password is left "
                                               "out). Default: no ledger, empty lists.")] = None,
    vba: Annotated[Path | None, typer.Option(help="Folder of the VBA text (default: the "
                                             "checkout's workbooks/vba/).")] = None,
) -> None:
    """Build the billing workbook and the add-in (VBA project, Billing ribbon, sheets).

    Only this command's own --ledger is used (not the main --ledger or BILLXL_LEDGER), so a
    build for download never carries a firm's clients by accident.
    """
    from billxl import build_workbooks

    with handle_errors():
        built = build_workbooks(out, ledger=ledger, vba_dir=vba)
    for path in (built.workbook, built.addin):
        console.print(f"Built {path} (VBA modules: {', '.join(built.modules[path.name])}).")
    lists = ", ".join(f"{name.removeprefix('List').lower()} {n}" for name, n in built.lists.items())
    console.print(f"Drop-down lists: {lists}.")
    console.print(f"Generated VBA, as text: {', '.join(str(p) for p in built.generated)}.")


@workbook_app.command("run")
def run_command(
    command: Annotated[str, typer.Argument(help="The ribbon command: import_time, check, "
                                           "reconcile, build_prebills, apply_prebill_edits, "
                                           "finalize, render_documents, export_ledes, "
                                           "post_payments, refresh_ar or month_end_pack.")],
    file: Annotated[Path, typer.Argument(help="The billing workbook (.xlsm or .xlsx).")],
    ledger: Annotated[str | None, typer.Option("--ledger", help="The ledger to use instead of "
                                               "the one the workbook's Settings name.")] = None,
    out: Annotated[Path | None, typer.Option(help="Save the result here instead of over "
                                             "FILE.")] = None,
) -> None:
    """Run a Billing ribbon command on a workbook file and save it.

    The ledger is --ledger, else the one on the workbook's Settings sheet, else the main
    --ledger option (or BILLXL_LEDGER). What could not be done is on the workbook's Problems
    sheet, and printed here: exit 2 when the input was refused (nothing changed), 3 when the
    ledger refused, 1 when the command ran but something needs attention.
    """
    from billxl import run_workbook_command

    with handle_errors(), show_progress() as update:
        done = run_workbook_command(command.strip(), file, ledger_url=ledger,
                                    default_ledger=state.ledger_url, progress=update, out=out)
    saved = out or file
    if not done.ok:
        err_console.print(f"[bold red]{done.message}[/]")
        for p in done.problems[:20]:
            err_console.print(f"  - {p}")
        err_console.print(f"Saved {saved} (its Problems sheet lists every problem).")
        raise typer.Exit(2 if done.refused == "input" else 3)
    console.print(done.message)
    for p in done.problems[:20]:
        err_console.print(f"  - {p}")
    console.print(f"Saved {saved}.")
    if done.attention:
        raise typer.Exit(1)
