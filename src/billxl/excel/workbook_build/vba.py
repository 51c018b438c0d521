"""The VBA project of the billing workbook and of the add-in, made with pyOpenVBA.

Why pyOpenVBA: it writes a project the way Excel makes one for a workbook's first macro (a
document module for the workbook and each sheet, named as Excel names them, and the code names in
the workbook's parts), starting from a project captured from an Excel-authored file rather than
built from nothing, and it adds type-library references. What it writes was read back here by
oletools' olevba and by LibreOffice (every module and its source); whether Excel compiles it can
only be seen in Excel (workbooks/README.md, "Check once in Excel"). XlsxWriter can only embed a
project someone else made; ms-ovba garbles longer modules.

The modules (:func:`modules`):

* ``xlwings`` and ``Dictionary``: xlwings' standalone VBA, copied from the installed xlwings
  package (BSD 3-clause, its licence is at the top of the module; ``Dictionary`` is Tim Hall's
  VBA-Dictionary, MIT). The workbook takes ``xlwings.bas`` (``ThisWorkbook``); the add-in takes
  ``xlwings_custom_addin.bas`` (``ActiveWorkbook``) with ``PROJECT_NAME`` set to ``xlwings``,
  so it reads the active workbook's ``xlwings.conf`` sheet and the user's ``xlwings.conf``.
  The module declares ``xlwings64-<version>.dll``: the xlwings Python package must be that
  exact version (:data:`XLWINGS_VERSION`, pinned in pyproject.toml).
* ``xlwings_udfs`` and ``billxl_functions``: generated from the worksheet functions
  (:mod:`billxl.excel.workbook_build.udf_modules`).
* ``billxl_dispatch``, ``billxl_ribbon`` and the ``ThisWorkbook`` code: text in the
  repository's ``workbooks/vba/`` folder.

The project references the Microsoft Office Object Library (the ribbon callbacks'
``IRibbonControl``), as xlwings' own add-in does.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pyopenvba import ExcelFile
from pyopenvba.vba import VBAModuleKind

from billxl.errors import BillxlError

__all__ = ["XLWINGS_VERSION", "Module", "crlf", "xlwings_modules", "repository_modules",
           "add_project", "read_modules", "OFFICE_REFERENCE"]

#: The xlwings version the embedded VBA is for (its DLL's name carries it).
XLWINGS_VERSION = "0.37.8"
#: The Office library as Excel's own files reference it (xlwings' quickstart add-in).
OFFICE_REFERENCE = {
    "name": "Office", "guid": "{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}", "major": 2, "minor": 0,
    "path": "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL",
    "description": "Microsoft Office 16.0 Object Library",
}
_ADDIN_PROJECT_NAME = ('Public Const PROJECT_NAME As String = "myaddin"',
                       'Public Const PROJECT_NAME As String = "xlwings"')
#: The repository's VBA text, by module name (document modules' code is a body only).
REPOSITORY_FILES = {"billxl_dispatch": "billxl_dispatch.bas",
                    "billxl_ribbon": "billxl_ribbon.bas",
                    "ThisWorkbook": "ThisWorkbook.cls"}
DOCUMENT = "document"
STANDARD = "standard"
CLASS = "class"


@dataclass(frozen=True)
class Module:
    name: str
    source: str  # CRLF line ends, as VBA keeps them
    kind: str = STANDARD  # standard, class, or document (code for an existing document module)


def crlf(text: str) -> str:
    """VBA's line ends (CRLF), whatever the file had."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _xlwings_file(*parts: str) -> str:
    version = importlib.metadata.version("xlwings")
    if version != XLWINGS_VERSION:
        raise BillxlError(
            f"xlwings {version} is installed, but billxl's workbooks embed the VBA of xlwings "
            f"{XLWINGS_VERSION}, whose DLL name the VBA declares: install xlwings=="
            f"{XLWINGS_VERSION} (pip install -e .) and build again.")
    return resources.files("xlwings").joinpath(*parts).read_text(encoding="utf-8")


def xlwings_modules(*, addin: bool) -> list[Module]:
    """xlwings' standalone modules for a workbook, or for a custom add-in."""
    main = _xlwings_file("xlwings_custom_addin.bas" if addin else "xlwings.bas")
    if addin:
        old, new = _ADDIN_PROJECT_NAME
        if main.count(old) != 1:
            raise BillxlError(f"xlwings {XLWINGS_VERSION}'s add-in module no longer sets "
                              "PROJECT_NAME as billxl expects; the build needs updating.")
        main = main.replace(old, new)
    return [Module("xlwings", crlf(main)),
            Module("Dictionary", crlf(_xlwings_file("addin", "Dictionary.cls")), CLASS)]


def repository_modules(folder: Path) -> list[Module]:
    """The VBA kept as text in the repository (``workbooks/vba``)."""
    found = []
    for name, file in REPOSITORY_FILES.items():
        path = folder / file
        if not path.is_file():
            raise BillxlError(f"The VBA source {path} is missing: billxl workbook build reads "
                              "workbooks/vba/ of a billxl checkout (or --vba DIR).")
        kind = DOCUMENT if file.endswith(".cls") else STANDARD
        found.append(Module(name, crlf(path.read_text(encoding="utf-8")), kind))
    return found


def add_project(path: Path, modules: Sequence[Module]) -> None:
    """Give the workbook at ``path`` (an .xlsm without macros) its VBA project, in place."""
    book = ExcelFile(path)
    try:
        project = book.add_vba_project()
        for module in modules:
            if module.kind == DOCUMENT:
                continue
            kind = VBAModuleKind.other if module.kind == CLASS else VBAModuleKind.standard
            project.add_module(module.name, module.source, kind=kind)
        for module in modules:
            if module.kind == DOCUMENT:
                book.set_module(module.name, module.source)
        book.add_reference(**OFFICE_REFERENCE)
        book.save(path)
    finally:
        book.close()


def read_modules(path: Path) -> dict[str, str]:
    """Every module of the file's VBA project and its source, as the project holds them."""
    with ExcelFile(path) as book:
        return book.vba_modules()
