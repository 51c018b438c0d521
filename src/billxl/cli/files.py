"""The files billxl ships, for a firm to make its own: ``billxl templates copy``, ``billxl
notebooks copy`` and ``billxl workbook copy``; and ``billxl --version``.

A firm's folder overrides billxl's files one by one (:mod:`billxl.shipped`), so a copy may be
cut down to the files the firm changes: the rest still come from billxl, and from its newer
version after an upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billxl import __version__
from billxl.cli.output import console, handle_errors

templates_app = typer.Typer(help="The document templates (invoices, statements, the packs' "
                                 "report): copy billxl's own to edit.", no_args_is_help=True)
notebooks_app = typer.Typer(help="The month-end pack notebooks: copy billxl's own to edit.",
                            no_args_is_help=True)

Folder = Annotated[Path, typer.Argument(help="The folder to copy into (made if missing).")]
Force = Annotated[bool, typer.Option("--force", help="Replace files already in FOLDER.")]


def show_version(value: bool) -> None:
    """``billxl --version``: the installed version, then stop."""
    if value:
        typer.echo(f"billxl {__version__}")
        raise typer.Exit()


def _copy(kind: str, folder: Path, force: bool, use: str) -> None:
    from billxl import copy_defaults

    with handle_errors():
        copied = copy_defaults(kind, folder, force=force)
    console.print(f"Copied billxl's {kind} into {folder}: "
                  f"{', '.join(p.relative_to(folder).as_posix() for p in copied)}.", soft_wrap=True)
    console.print(use, soft_wrap=True)


@templates_app.command("copy")
def copy_templates(folder: Folder, force: Force = False) -> None:
    """Copy billxl's document templates into FOLDER, for the firm to edit.

    The Typst and HTML templates, print.css, documents.yaml (letterhead, labels, bank details)
    and packs/ (the month-end report). Nothing is copied if a file is already there, unless
    --force.
    """
    _copy("templates", folder, force,
          f"Edit them, then name the folder in the ledger ('billxl firm edit --templates-dir "
          f"{folder}'), or give --templates {folder} or set BILLXL_TEMPLATES={folder} (these "
          "two come first). A file you delete from the folder is taken from billxl's own "
          "again.")


@notebooks_app.command("copy")
def copy_notebooks(folder: Folder, force: Force = False) -> None:
    """Copy billxl's month-end notebooks into FOLDER, for the firm to edit.

    monthly_pack, reconciliation_review and collections. Nothing is copied if a file is already
    there, unless --force.
    """
    _copy("notebooks", folder, force,
          f"Edit them, then name the folder in the ledger ('billxl firm edit --notebooks-dir "
          f"{folder}'), or give 'billxl month-end --notebooks {folder}' or set "
          f"BILLXL_NOTEBOOKS={folder} (these two come first). A notebook you delete from the "
          "folder is taken from billxl's own again.")


def copy_workbook(folder: Folder, force: Force = False) -> None:
    """Copy the billing workbook and the add-in into FOLDER, to open in Excel.

    billxl-billing.xlsm and billxl.xlam, as built for this version. Nothing is copied if a file
    is already there, unless --force.
    """
    _copy("workbooks", folder, force,
          "Open billxl-billing.xlsm and enable macros, or add billxl.xlam (File > Options > "
          "Add-ins > Excel Add-ins > Browse); name the ledger on the Settings sheet.")


__all__ = ["copy_notebooks", "copy_templates", "copy_workbook", "notebooks_app",
           "show_version", "templates_app"]
