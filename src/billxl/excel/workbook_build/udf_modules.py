"""The VBA modules generated from the worksheet functions (:data:`billxl.excel.udfs.FUNCTIONS`).

* ``xlwings_udfs``: one VBA wrapper per function, calling Python through xlwings' ``XLPy.CallUDF``.
  The text is what xlwings' own generator (``xlwings.udfs.generate_vba_wrapper``, run by its
  "Import Functions" button on Windows) writes for the same functions; that generator needs
  pywin32 and real decorators, so it cannot run here, and the same plain string building is
  done below (``tests/test_workbook_build.py`` runs xlwings' generator with the Windows modules
  stubbed and compares). A workbook's wrappers pass ``ThisWorkbook``, an add-in's
  ``ActiveWorkbook``, as xlwings does.
* ``billxl_functions``: ``BillxlDescribeFunctions``, run when the file opens, gives each function
  its description, category and argument help in Excel's Insert Function dialog through
  ``Application.MacroOptions`` — what "Import Functions" does from Python, done here by the
  file itself, since no Python runs when the file is built.

An argument whose name VBA reserves (``Date``, ``Currency``, ``String`` ...) cannot be a VBA
parameter; such a parameter gets a trailing underscore (``date_``). The wrapper passes its
arguments to Python by position, so the name is only what Insert Function shows.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["UDF_MODULE", "HELP_MODULE", "HELP_MACRO", "PYTHON_MODULE", "vba_parameters",
           "wrapper_module", "help_module", "VBA_RESERVED"]

UDF_MODULE = "xlwings_udfs"
HELP_MODULE = "billxl_functions"
HELP_MACRO = "BillxlDescribeFunctions"
#: The Python module the wrappers name (xlwings imports it to answer a call).
PYTHON_MODULE = "billxl.excel.udfs"
#: xlwings' reserved argument: the calling cell, passed by xlwings, never shown to Excel.
CALLER = "caller"

#: Identifiers VBA reserves ([MS-VBAL] 3.3.5.2: statement and marker keywords, operators, special
#: forms, type names, reserved names, literals, Rem, names kept for the implementation and the
#: future), plus the names the wrapper itself uses.
_RESERVED_WORDS = """
    Call Case Close Const Declare DefBool DefByte DefCur DefDate DefDbl DefInt DefLng DefLngLng
    DefLngPtr DefObj DefSng DefStr DefVar Dim Do Else ElseIf End EndIf Enum Erase Event Exit For
    Friend Function Get Global GoSub GoTo If Implements Input Let Lock Loop LSet Next On Open
    Option Print Private Public Put RaiseEvent ReDim Resume Return RSet Seek Select Set Static
    Stop Sub Type Unlock Wend While With Write
    Any As ByRef ByVal Each In New Shared Until WithEvents Optional ParamArray Preserve Spc Tab
    Then To
    AddressOf And Eqv Imp Is Like Mod Not Or TypeOf Xor
    Array Circle InputB LBound Scale UBound
    Boolean Byte Currency Date Double Integer Long LongLong LongPtr Single String Variant Object
    Abs CBool CByte CCur CDate CDbl CDec CInt CLng CLngLng CLngPtr CSng CStr CVar CVErr Debug
    DoEvents Fix Int Len LenB Me PSet Sgn
    True False Nothing Empty Null Rem
    Attribute LineInput CDecl Decimal DefDec
    Application Err Range XLPy k argsArray failed
"""
VBA_RESERVED = frozenset(word.casefold() for word in _RESERVED_WORDS.split())

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}\Z")
#: What one MacroOptions text may hold (Excel's limit).
_HELP_LIMIT = 255
#: VBA keeps module source in the project's code page (1252 here).
_CODE_PAGE = "cp1252"


def _parameters(f: Callable[..., Any]) -> list[inspect.Parameter]:
    params = list(inspect.signature(f).parameters.values())
    for p in params:
        if p.kind is p.KEYWORD_ONLY or p.kind is p.VAR_KEYWORD:
            raise ValueError(f"{f.__name__}: xlwings does not support keyword-only arguments")
    return params


def vba_parameters(f: Callable[..., Any]) -> list[tuple[str, str]]:
    """``(python name, VBA name)`` of each argument Excel passes (``caller`` left out)."""
    out = []
    for p in _parameters(f):
        if p.name == CALLER:
            continue
        if not _IDENTIFIER.match(p.name):
            raise ValueError(f"{f.__name__}: {p.name!r} is not a name VBA accepts")
        out.append((p.name, p.name + "_" if p.name.casefold() in VBA_RESERVED else p.name))
    return out


def _check_name(f: Callable[..., Any]) -> str:
    name = f.__name__
    if not _IDENTIFIER.match(name) or name.casefold() in VBA_RESERVED:
        raise ValueError(f"{name!r} cannot be the name of a VBA function")
    return name


def _wrapper(f: Callable[..., Any], workbook: str) -> list[str]:
    """The lines xlwings' generate_vba_wrapper writes for one function (``xw.func`` defaults:
    not volatile, called in the wizard)."""
    name = _check_name(f)
    renamed = dict(vba_parameters(f))
    signature, passed = [], []
    for p in _parameters(f):
        if p.name == CALLER:
            passed.append("Nothing")  # xlwings puts the calling cell here
            continue
        vba = renamed[p.name]
        passed.append(vba)
        if p.kind is p.VAR_POSITIONAL:
            raise ValueError(f"{name}: *args are not supported by billxl's wrapper")
        signature.append(("Optional " if p.default is not p.empty else "") + vba)
    args = f"Array({', '.join(passed)})"
    call = f'XLPy.CallUDF("{PYTHON_MODULE}", "{name}", {args}'
    return [
        f"Function {name}({', '.join(signature)})",
        '    #If App = "Microsoft Excel" Then',
        "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
        f"        {name} = {call}, {workbook}, Application.Caller)",
        "        Exit Function",
        "    #Else",
        f"        {name} = {call})",
        "        Exit Function",
        "    #End If",
        "failed:",
        f"    {name} = Err.Description",
        "End Function",
        "",
    ]


def _crlf(lines: Sequence[str]) -> str:
    return "".join(line + "\r\n" for line in lines)


def wrapper_module(functions: Sequence[Callable[..., Any]], *, addin: bool) -> str:
    """The ``xlwings_udfs`` module (as xlwings' Import Functions writes it), CRLF line ends.

    Functions come in name order, as xlwings lists a module's attributes (``dir``)."""
    lines = [f'Attribute VB_Name = "{UDF_MODULE}"',
             "'Autogenerated code by xlwings - changes will be lost with next import!",
             """#Const App = "Microsoft Excel" 'Adjust when using outside of Excel"""]
    workbook = "ActiveWorkbook" if addin else "ThisWorkbook"
    for f in sorted(functions, key=lambda f: f.__name__):
        lines += _wrapper(f, workbook)
    return _crlf(lines)


def _vba_text(text: str, limit: int = _HELP_LIMIT) -> str:
    """A VBA string literal of ``text``: one line, at most ``limit`` characters, quotes doubled,
    only characters the project's code page holds."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 3].rstrip() + "..."
    flat.encode(_CODE_PAGE)  # a character VBA cannot hold is the author's to replace
    return '"' + flat.replace('"', '""') + '"'


def _summary(f: Callable[..., Any]) -> str:
    doc = inspect.getdoc(f) or f.__name__
    return doc.split("\n\n", 1)[0]


def help_module(functions: Sequence[Callable[..., Any]], category: str) -> str:
    """The ``billxl_functions`` module: ``BillxlDescribeFunctions`` sets each function's help."""
    lines = [f'Attribute VB_Name = "{HELP_MODULE}"',
             "'Generated by billxl workbook build from billxl.excel.udfs - do not edit.",
             "'The help Excel's Insert Function dialog shows for billxl's worksheet functions.",
             "Option Explicit",
             "",
             f"Public Sub {HELP_MACRO}()",
             "    Dim saved As Boolean",
             "    saved = ThisWorkbook.Saved",
             "    On Error Resume Next",
             ]
    for f in functions:
        name = _check_name(f)
        docs: dict[str, str] = getattr(f, "arg_docs", {})
        arguments = [_vba_text(docs.get(py, "")) for py, _ in vba_parameters(f)]
        lines.append(f"""    Application.MacroOptions Macro:="'" & ThisWorkbook.Name & "'!{name}", _""")
        lines.append(f"        Description:={_vba_text(_summary(f))}, _")
        lines.append(f"        Category:={_vba_text(category)}, _")
        if arguments:
            lines.append("        ArgumentDescriptions:=Array( _")
            lines += [f"            {text}, _" for text in arguments[:-1]]
            lines.append(f"            {arguments[-1]})")
        else:
            lines[-1] = lines[-1].removesuffix(", _")
    lines += ["    On Error GoTo 0",
              "    ThisWorkbook.Saved = saved  ' the help is not an edit of the file",
              "End Sub",
              ""]
    return _crlf(lines)
