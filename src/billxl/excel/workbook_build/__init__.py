"""``billxl workbook build``: the billing workbook (``billxl-billing.xlsm``) and the add-in
(``billxl.xlam``), built from code and the repository's VBA text, the same bytes every time.

For each file::

    sheets (XlsxWriter, from billxl.excel.layout)           -> book.xlsm without macros
    VBA project (pyOpenVBA): xlwings' standalone modules,
        the generated function wrappers and help, the
        repository's dispatcher, ribbon callbacks and
        ThisWorkbook code, the Office library reference     -> the same file with its project
    package: main content type (workbook or add-in), the
        ribbon part (customUI14.xml from layout.COMMANDS)
        and its relationship, fixed zip layout              -> workbooks/<file>, atomically

The workbook's drop-down lists carry the UTBMS litigation tasks and activities, the pre-bill
actions and reason codes; its client and matter lists, and its Settings' ledger, come from a
ledger only when one is given (``--ledger``; the file committed for download has none, and
Import time refreshes them). The generated VBA (``xlwings_udfs``, ``billxl_functions``) is also
written as text to ``vba/generated/`` beside the files, so that a change to the worksheet
functions shows in a diff.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from billxl import shipped
from billxl.atomic import atomic_path
from billxl.errors import InputError
from billxl.excel import layout, udfs
from billxl.excel.workbook_build import package, ribbon, sheets, udf_modules, vba

__all__ = ["WORKBOOK", "ADDIN", "CHECKOUT", "Built", "build_workbooks", "workbook_modules",
           "addin_modules", "list_rows", "settings_rows", "generated_modules"]

WORKBOOK = "billxl-billing.xlsm"
ADDIN = "billxl.xlam"
#: The repository's workbooks/ folder (VBA text in vba/, the built files beside it), where
#: billxl runs from a checkout; None where it is installed from a wheel.
CHECKOUT = shipped.checkout_dir("workbooks")
GENERATED = Path("vba") / "generated"
_READABLE = 0o644  # files to hand round, not the private temporary file atomic_path makes


@dataclass(frozen=True)
class Built:
    workbook: Path
    addin: Path
    generated: list[Path]
    modules: dict[str, list[str]]  # file name -> its VBA modules
    lists: dict[str, int] = field(default_factory=dict)  # list table -> rows written


def _functions() -> list[Callable[..., Any]]:
    return list(udfs.FUNCTIONS)


def generated_modules(functions: Sequence[Callable[..., Any]] | None = None, *,
                      addin: bool = False) -> list[vba.Module]:
    """The modules made from the worksheet functions: wrappers and their help."""
    functions = _functions() if functions is None else list(functions)
    return [vba.Module(udf_modules.UDF_MODULE, udf_modules.wrapper_module(functions, addin=addin)),
            vba.Module(udf_modules.HELP_MODULE, udf_modules.help_module(functions, udfs.CATEGORY))]


def _modules(vba_dir: Path, *, addin: bool) -> list[vba.Module]:
    return [*vba.xlwings_modules(addin=addin), *generated_modules(addin=addin),
            *vba.repository_modules(vba_dir)]


def _vba_text() -> Path:
    """The VBA text the files are built from: the checkout's, else the copy billxl ships."""
    return shipped.default_dir("workbooks") / "vba"


def workbook_modules(vba_dir: Path | None = None) -> list[vba.Module]:
    return _modules(vba_dir or _vba_text(), addin=False)


def addin_modules(vba_dir: Path | None = None) -> list[vba.Module]:
    return _modules(vba_dir or _vba_text(), addin=True)


#: the UTBMS task sets billxl ships (data/utbms), as the Lists sheet offers them
TASK_SETS = ("litigation_tasks.csv", "counseling_tasks.csv", "bankruptcy_tasks.csv")


def _utbms(file: str, *, headings: bool) -> list[list[str]]:
    text = (resources.files("billxl") / "data" / "utbms" / file).read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    phased = "phase" in (rows.fieldnames or ())
    # a task set's phase headings (L100 ...) are not codes an entry may carry
    return [[r["code"], r["name"]] for r in rows if headings or not phased or r.get("phase")]


def list_rows(ledger: str | None = None) -> dict[str, list[list[str]]]:
    """The rows of the Lists sheet's tables: fixed lists always, the ledger's clients and
    matters when ``ledger`` is given (all of them, as Import time refreshes them)."""
    rows: dict[str, list[list[str]]] = {
        "ListTasks": [row for name in TASK_SETS for row in _utbms(name, headings=False)],
        "ListActivities": _utbms("activities.csv", headings=True),
    }
    for source in layout.LISTS.values():
        if source.values:
            meanings = layout.LIST_MEANINGS.get(source.table, {})
            rows[source.table] = [[v, meanings.get(v, "")] for v in source.values]
    if ledger is not None:
        from billxl import Ledger

        book = Ledger.open(ledger)
        try:
            for table, frame, key in (("ListClients", book.clients(), "client_id"),
                                      ("ListMatters", book.matters(), "matter_id")):
                frame = frame.sort_values(key)
                rows[table] = [[str(k), str(n)] for k, n in zip(frame[key], frame["name"],
                                                                 strict=True)]
        finally:
            book.dispose()
    return rows


def _shown_ledger(ledger: str) -> str:
    """The ledger as the Settings sheet names it: a URL without its password (a workbook is
    passed around; PostgreSQL then takes the password from the user's .pgpass), a file path
    made absolute."""
    if "://" in ledger:
        parts = urlsplit(ledger)
        if parts.password is not None:
            host = parts.hostname or ""
            host += f":{parts.port}" if parts.port else ""
            netloc = (f"{parts.username}@" if parts.username else "") + host
            return urlunsplit(parts._replace(netloc=netloc))
        return ledger
    return str(Path(ledger).resolve())


def settings_rows(ledger: str | None = None) -> list[list[str]]:
    rows = []
    for s in layout.SETTINGS:
        value = _shown_ledger(ledger) if s.key == "ledger_url" and ledger else s.default
        rows.append([s.label, value, s.meaning])
    return rows


def _build_one(target: Path, *, addin: bool, modules: list[vba.Module],
               rows: dict[str, list[list[str]]], functions: list) -> None:
    with tempfile.TemporaryDirectory(prefix="billxl-build-") as tmp:
        plain = Path(tmp) / "book.xlsm"
        if addin:
            sheets.write_addin_sheet(plain, functions)
        else:
            sheets.write_billing_sheets(plain, rows=rows, functions=functions)
        vba.add_project(plain, modules)
        with atomic_path(target) as part:
            package.finish_package(plain, part, addin=addin,
                                   ribbon=ribbon.ribbon_xml(workbook=not addin))
            part.chmod(_READABLE)


def build_workbooks(out_dir: str | os.PathLike | None = None, *, ledger: str | None = None,
                    vba_dir: str | os.PathLike | None = None) -> Built:
    """Build ``billxl-billing.xlsm`` and ``billxl.xlam`` into ``out_dir`` (default: the
    checkout's ``workbooks/``), with the generated VBA as text in ``out_dir/vba/generated``."""
    if out_dir is None and CHECKOUT is None:
        raise InputError("billxl is installed, not run from a checkout: name the folder to build "
                         "into (--out FOLDER), or take the built files with 'billxl workbook "
                         "copy FOLDER'.")
    out = Path(out_dir) if out_dir is not None else CHECKOUT
    source = Path(vba_dir) if vba_dir is not None else _vba_text()
    functions = _functions()
    rows = {**list_rows(ledger), "Settings": settings_rows(ledger)}
    book_modules, addin_mods = workbook_modules(source), addin_modules(source)
    out.mkdir(parents=True, exist_ok=True)
    workbook, addin = out / WORKBOOK, out / ADDIN
    _build_one(workbook, addin=False, modules=book_modules, rows=rows, functions=functions)
    _build_one(addin, addin=True, modules=addin_mods, rows=rows, functions=functions)
    generated = []
    for module in generated_modules(functions):
        path = out / GENERATED / f"{module.name}.bas"
        with atomic_path(path) as part:
            part.write_text(module.source.replace("\r\n", "\n"), encoding="utf-8")
            part.chmod(_READABLE)
        generated.append(path)
    lists = {name: len(r) for name, r in rows.items() if name.startswith("List")}
    return Built(workbook, addin, generated,
                 {WORKBOOK: [m.name for m in book_modules], ADDIN: [m.name for m in addin_mods]},
                 lists)
