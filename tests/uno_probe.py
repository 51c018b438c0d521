"""Open a workbook in LibreOffice through UNO and print what it holds, as JSON.

Run by the system Python that has Debian's ``python3-uno`` (not the project's venv):
``python3 tests/uno_probe.py [--filter FILTER] FILE [NAME ...]``. It starts a private headless LibreOffice, loads
FILE hidden (macros never run), recalculates it and prints:

* ``sheets``: each sheet's name and whether it is visible;
* ``libraries``: every Basic library of the document (LibreOffice imports a file's VBA project
  as the library ``VBAProject``) with each module's source;
* ``names``: for each defined name given on the command line, its definition and what
  LibreOffice computes from it (how many values, the first), ``null`` if it is undefined;
* ``cells``: for each ``Sheet!A1:B9`` given, the values LibreOffice computed.

Anything that goes wrong is printed as ``{"error": ...}`` with exit code 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(pipe: str):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 60
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _cells(doc, spec: str):
    sheet_name, _, address = spec.rpartition("!")
    sheet = doc.Sheets.getByName(sheet_name)
    block = sheet.getCellRangeByName(address)
    return [list(row) for row in block.getDataArray()]


def _name(doc, name: str):
    """What a defined name holds, as LibreOffice computes it: its definition, how many values
    (COUNTA) and the first (INDEX), from formulas in a scratch sheet; None if it is undefined."""
    if not doc.NamedRanges.hasByName(name):
        return None
    if not doc.Sheets.hasByName("_probe"):
        doc.Sheets.insertNewByName("_probe", doc.Sheets.Count)
    scratch = doc.Sheets.getByName("_probe")
    count, first = scratch.getCellByPosition(0, 0), scratch.getCellByPosition(1, 0)
    count.setFormula(f"=COUNTA({name})")
    first.setFormula(f"=INDEX({name};1)")
    doc.calculateAll()
    return {"content": doc.NamedRanges.getByName(name).Content, "count": count.getValue(),
            "first": first.getString()}


def probe(path: str, specs: list[str], filter_name: str | None = None) -> dict:
    profile = tempfile.mkdtemp(prefix="billxl-uno-")
    pipe = f"billxl_uno_{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--nologo", "--norestore", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        context = _connect(pipe)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context)
        # MacroExecutionMode 0: never run a macro (LibreOffice cannot run xlwings' anyway)
        options = [_prop("Hidden", True), _prop("MacroExecutionMode", 0)]
        if filter_name:
            options.append(_prop("FilterName", filter_name))
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0, tuple(options))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {path}")
        doc.calculateAll()
        out: dict = {"sheets": [], "libraries": {}, "names": {}, "cells": {}}
        for i in range(doc.Sheets.Count):
            sheet = doc.Sheets.getByIndex(i)
            out["sheets"].append({"name": sheet.Name, "visible": bool(sheet.IsVisible)})
        libraries = doc.BasicLibraries
        for name in libraries.ElementNames:
            libraries.loadLibrary(name)
            library = libraries.getByName(name)
            out["libraries"][name] = {m: library.getByName(m) for m in library.ElementNames}
        for spec in specs:
            if "!" in spec:
                out["cells"][spec] = _cells(doc, spec)
                continue
            out["names"][spec] = _name(doc, spec)
        doc.close(True)
        with contextlib.suppress(Exception):  # the bridge goes down as LibreOffice quits
            desktop.terminate()
        return out
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            office.wait(timeout=30)
        # soffice is a script that starts soffice.bin: end the whole group it started, so that
        # no LibreOffice outlives the probe
        with contextlib.suppress(ProcessLookupError):
            os.killpg(office.pid, signal.SIGKILL)
        office.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = None
    if args[:1] == ["--filter"]:  # LibreOffice's import filter, for a type it does not detect
        chosen, args = args[1], args[2:]
    try:
        print(json.dumps(probe(args[0], args[1:], chosen), default=str))
    except Exception as error:  # reported to the test, which shows it
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
