"""``billxl workbook build``: the billing workbook and the add-in, read back as other programs
read them (no Excel runs here).

* the same bytes on every build, and the files committed in ``workbooks/`` are what the code
  builds now;
* oletools' olevba lists every module and the one ``RunPython`` call, which names a Python
  function that exists; xlwings' modules are the installed, pinned version's, byte for byte;
* the ribbon part, its namespace and its package relationship; the add-in's content type;
* the function wrappers are what xlwings' own generator writes (run here with the Windows
  modules stubbed), and every function and argument is in both files with its call;
* LibreOffice, through UNO, opens both files and lists the VBA modules with their source; the
  drop-down lists' names resolve; a workbook filled from the demo ledger by the ribbon commands
  recalculates to the ledger's figures; text that looks like a formula stays text.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import re
import shutil
import subprocess
import sys
import types
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest
from oletools.olevba import VBA_Parser
from pyopenvba import ExcelFile
from typer.testing import CliRunner

import billxl
from billxl.errors import BillxlError
from billxl.excel import layout, udfs
from billxl.excel.workbook_build import (
    ADDIN,
    WORKBOOK,
    build_workbooks,
    list_rows,
    settings_rows,
    sheets,
    udf_modules,
    vba,
)
from billxl.excel.workbook_build.package import ADDIN_TYPE, CONTENT_TYPES, RELS, WORKBOOK_TYPE
from billxl.excel.workbook_build.ribbon import NAMESPACE, PART, TAB_VISIBLE, UI_RELATIONSHIP
from tests.conftest import IN_CI, postgres_url_or_skip
from tests.office import soffice_or_skip

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "workbooks"
PROBE = Path(__file__).with_name("uno_probe.py")
XLWINGS_DIR = Path(importlib.util.find_spec("xlwings").origin).parent
OUR_MODULES = {"xlwings", "Dictionary", "xlwings_udfs", "billxl_functions", "billxl_dispatch",
               "billxl_ribbon", "ThisWorkbook"}
MONTH, AS_OF = "2026-10", "2026-11-30"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_workbooks(tmp_path_factory.mktemp("built"))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def sheet_modules(path: Path) -> set[str]:
    """The document modules Excel makes for the workbook's sheets (Sheet1 ... in sheet order)."""
    with zipfile.ZipFile(path) as z:
        count = sum(1 for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return {f"Sheet{i}" for i in range(1, count + 1)}


def code_lines(source: str) -> list[str]:
    """A module's code as a list of lines, without VBA attribute lines (LibreOffice drops a
    member's, ``Attribute Item.VB_UserMemId = 0``) and line-end style."""
    return [line for line in source.replace("\r\n", "\n").split("\n")
            if not line.startswith("Attribute ")]


def ends_with(container: str, source: str) -> bool:
    """Whether ``container`` (a module as another program shows it, with lines of its own
    first) ends with the code of ``source``, blank lines aside."""
    ours = [line for line in code_lines(source) if line.strip()]
    theirs = [line for line in code_lines(container) if line.strip()]
    return bool(ours) and theirs[-len(ours):] == ours


# ------------------------------------------------------------------------- reproducible, committed
def test_building_twice_gives_the_same_bytes(built, tmp_path):
    again = build_workbooks(tmp_path)
    for first, second in ((built.workbook, again.workbook), (built.addin, again.addin),
                          *zip(built.generated, again.generated, strict=True)):
        assert first.read_bytes() == second.read_bytes(), first.name
    with zipfile.ZipFile(built.workbook) as z:
        infos = z.infolist()
    assert [i.filename for i in infos[:2]] == [CONTENT_TYPES, RELS]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    core = parts(built.workbook)["docProps/core.xml"].decode()
    assert "2026-01-01T00:00:00Z" in core and "<dc:creator>billxl</dc:creator>" in core


def test_the_committed_files_are_what_the_code_builds(built):
    stale = "workbooks/ is not what the code builds: run `billxl workbook build` and commit it"
    for fresh in (built.workbook, built.addin):
        committed = COMMITTED / fresh.name
        assert committed.is_file(), f"{committed} is missing: {stale}"
        assert parts(committed) == parts(fresh), f"{fresh.name}: {stale}"
    for fresh in built.generated:
        committed = COMMITTED / fresh.relative_to(fresh.parents[2])
        assert committed.read_text() == fresh.read_text(), f"{fresh.name}: {stale}"


# ------------------------------------------------------------------------- the VBA, as olevba reads it
def olevba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        assert parser.detect_vba_macros(), f"olevba finds no VBA in {path.name}"
        return {vba_name.rsplit(".", 1)[0]: code
                for _, _, vba_name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.mark.parametrize("which", ["workbook", "addin"])
def test_olevba_lists_every_module_and_the_one_runpython_call(built, which):
    path = getattr(built, which)
    found = olevba_modules(path)
    assert set(found) == OUR_MODULES | sheet_modules(path)
    calls = {name: re.findall(r"^\s*RunPython\s+(.+?)\r?$", code, re.M)
             for name, code in found.items() if name != "xlwings"}
    assert {n: c for n, c in calls.items() if c} == {"billxl_dispatch": [
        '''"import billxl.excel.commands as commands; commands.run_from_excel('" & commandId '''
        '''& "')"''']}
    # the call names a Python function that exists and takes the command id
    from billxl.excel import commands

    assert "command_id" in inspect.signature(commands.run_from_excel).parameters
    assert set(layout.DISPATCHER.split()) <= set(re.findall(r"Public Sub (\w+)", found["billxl_ribbon"]))
    assert "BillxlRun control.ID" in found["billxl_ribbon"]
    # what olevba reads is the repository's text
    for name, file in vba.REPOSITORY_FILES.items():
        assert ends_with(found[name], (COMMITTED / "vba" / file).read_text()), name


@pytest.mark.parametrize("which", ["workbook", "addin"])
def test_the_xlwings_modules_are_the_pinned_versions_own(built, which):
    path = getattr(built, which)
    modules = vba.read_modules(path)
    installed = (XLWINGS_DIR / ("xlwings_custom_addin.bas" if which == "addin" else "xlwings.bas")
                 ).read_text()
    if which == "addin":  # the one line the build changes: whose xlwings.conf it reads
        installed = installed.replace('PROJECT_NAME As String = "myaddin"',
                                      'PROJECT_NAME As String = "xlwings"')
    assert code_lines(modules["xlwings"]) == code_lines(installed)
    assert ("Set wb = ActiveWorkbook" in modules["xlwings"]) == (which == "addin")
    assert f'"xlwings64-{vba.XLWINGS_VERSION}.dll"' in modules["xlwings"]
    assert code_lines(modules["Dictionary"])[-5:] == code_lines(
        (XLWINGS_DIR / "addin" / "Dictionary.cls").read_text())[-5:]
    import xlwings

    assert xlwings.__version__ == vba.XLWINGS_VERSION
    assert f'"xlwings=={vba.XLWINGS_VERSION}"' in (REPO / "pyproject.toml").read_text()
    with ExcelFile(path) as book:
        office = [r for r in book.references() if r.name == "Office"]
    assert office and vba.OFFICE_REFERENCE["guid"] in office[0].libid


def test_the_build_names_the_xlwings_version_it_needs(monkeypatch, tmp_path):
    monkeypatch.setattr(vba.importlib.metadata, "version", lambda name: "0.36.0")
    with pytest.raises(BillxlError, match=r"xlwings 0\.36\.0 is installed.*xlwings==0\.37\.8"):
        build_workbooks(tmp_path)
    assert not (tmp_path / WORKBOOK).exists()


# ------------------------------------------------------------------------- the ribbon
@pytest.mark.parametrize("which", ["workbook", "addin"])
def test_the_ribbon_part_its_namespace_and_its_relationship(built, which):
    path = getattr(built, which)
    files = parts(path)
    types_ = ElementTree.fromstring(files[CONTENT_TYPES])
    main = {o.get("PartName"): o.get("ContentType") for o in types_ if o.tag.endswith("Override")}
    assert main["/xl/workbook.xml"] == (ADDIN_TYPE if which == "addin" else WORKBOOK_TYPE)
    rels = [r for r in ElementTree.fromstring(files[RELS]) if r.get("Type") == UI_RELATIONSHIP]
    assert [r.get("Target") for r in rels] == [PART]
    assert len({r.get("Id") for r in ElementTree.fromstring(files[RELS])}) == len(
        ElementTree.fromstring(files[RELS]))
    ui = ElementTree.fromstring(files[PART])
    ns = {"ui": NAMESPACE}
    assert ui.tag == f"{{{NAMESPACE}}}customUI"
    tabs = ui.findall("ui:ribbon/ui:tabs/ui:tab", ns)
    assert [(t.get("id"), t.get("label")) for t in tabs] == [layout.RIBBON_TAB]
    assert tabs[0].get("getVisible") == (TAB_VISIBLE if which == "workbook" else None)
    buttons = ui.findall(".//ui:button", ns)
    assert [b.get("id") for b in buttons] == [c.id for c in layout.COMMANDS]
    ids = [e.get("id") for e in ui.iter() if e.get("id")]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[A-Za-z_][\w.-]*", i) for i in ids)
    for b, command in zip(buttons, layout.COMMANDS, strict=True):
        assert (b.get("label"), b.get("onAction"), b.get("imageMso")) == (
            command.label, layout.DISPATCHER, command.image)
        assert b.get("supertip") == command.screentip and len(command.screentip) <= 1024
    groups = [g.get("label") for g in ui.findall(".//ui:group", ns)]
    assert groups == [g for g in layout.RIBBON_GROUPS if any(c.group == g for c in layout.COMMANDS)]
    # every callback the part names is a macro of the file's project, with a ribbon signature
    ribbon_vba = vba.read_modules(path)["billxl_ribbon"]
    for callback, signature in ((layout.DISPATCHER, r"\(control As IRibbonControl\)"),
                                (TAB_VISIBLE, r"\(control As IRibbonControl, ByRef visible\)")):
        assert re.search(rf"Public Sub {callback}{signature}", ribbon_vba), callback


# ------------------------------------------------------------------------- the generated modules
def xlwings_generator(monkeypatch):
    """xlwings' own udfs module (its VBA wrapper generator), loaded with the Windows-only
    modules it imports stubbed out."""
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["pywintypes"].com_error = Exception
    sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
    sys.modules["win32com"].client = sys.modules["win32com.client"]
    spec = importlib.util.spec_from_file_location("xlwings._udfs_generator",
                                                  XLWINGS_DIR / "udfs.py")
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "xlwings"
    spec.loader.exec_module(module)
    return module


def as_xlwings_sees_it(generator, f):
    """A copy of ``f`` under xlwings' real decorators, its arguments named as the wrapper names
    them (VBA-reserved names with their underscore)."""
    renamed = dict(udf_modules.vba_parameters(f))
    code = f.__code__
    names = tuple(renamed.get(n, n) if i < code.co_argcount else n
                  for i, n in enumerate(code.co_varnames))
    copy = types.FunctionType(code.replace(co_varnames=names), f.__globals__, f.__name__,
                              f.__defaults__)
    copy.__doc__ = f.__doc__
    copy = generator.xlfunc(category=udfs.CATEGORY)(copy)
    for python, vba_name in renamed.items():
        copy = generator.xlarg(vba_name, doc=f.arg_docs[python])(copy)
    return copy


@pytest.mark.parametrize("addin", [False, True])
def test_the_wrappers_are_what_xlwings_own_generator_writes(monkeypatch, addin):
    generator = xlwings_generator(monkeypatch)
    namespace = types.SimpleNamespace(**{f.__name__: as_xlwings_sees_it(generator, f)
                                         for f in udfs.FUNCTIONS})
    out = io.StringIO()
    generator.generate_vba_wrapper(udf_modules.PYTHON_MODULE, namespace, out,
                                   types.SimpleNamespace(Name=ADDIN if addin else WORKBOOK))
    header = ('Attribute VB_Name = "xlwings_udfs"\n'
              "'Autogenerated code by xlwings - changes will be lost with next import!\n"
              """#Const App = "Microsoft Excel" 'Adjust when using outside of Excel\n""")
    ours = udf_modules.wrapper_module(udfs.FUNCTIONS, addin=addin)
    assert ours.replace("\r\n", "\n") == header + out.getvalue()
    assert len(udfs.FUNCTIONS) >= 8


@pytest.mark.parametrize("which", ["workbook", "addin"])
def test_every_function_and_argument_is_in_the_file_with_its_call(built, which):
    modules = vba.read_modules(getattr(built, which))
    wrappers, help_ = modules["xlwings_udfs"], modules["billxl_functions"]
    book = "ActiveWorkbook" if which == "addin" else "ThisWorkbook"
    for f in udfs.FUNCTIONS:
        params = udf_modules.vba_parameters(f)
        signature = inspect.signature(f).parameters
        shown = ", ".join(("Optional " if signature[py].default is not inspect.Parameter.empty
                           else "") + v for py, v in params)
        assert f"Function {f.__name__}({shown})\r\n" in wrappers
        passed = ", ".join([v for _, v in params] + (["Nothing"] if "caller" in signature else []))
        assert (f'{f.__name__} = XLPy.CallUDF("billxl.excel.udfs", "{f.__name__}", '
                f"Array({passed}), {book}, Application.Caller)") in wrappers
        block = help_.split(f"'!{f.__name__}\", _")[1].split("Application.MacroOptions")[0]
        assert f'Category:="{udfs.CATEGORY}"' in block
        for python, _ in params:
            assert '"' + " ".join(f.arg_docs[python].split())[:200] in block
    assert "Private Sub Workbook_Open()\r\n    BillxlDescribeFunctions" in modules["ThisWorkbook"]


def test_an_argument_vba_reserves_gets_an_underscore_and_a_bad_name_is_refused():
    def BILLXL_DEMO(date, currency, string=None, caller=None):  # noqa: N802
        """A demo."""

    BILLXL_DEMO.arg_docs = {"date": "A day.", "currency": "A currency.", "string": 'Say "hi".'}
    text = udf_modules.wrapper_module([BILLXL_DEMO], addin=False)
    assert "Function BILLXL_DEMO(date_, currency_, Optional string_)\r\n" in text
    assert "Array(date_, currency_, string_, Nothing)" in text
    assert 'Say ""hi"".' in udf_modules.help_module([BILLXL_DEMO], "billxl")

    def Date(x):  # noqa: N802
        """Not a name VBA allows."""

    with pytest.raises(ValueError, match="cannot be the name of a VBA function"):
        udf_modules.wrapper_module([Date], addin=False)


# ------------------------------------------------------------------------- the sheets
def test_the_sheets_tables_lists_and_settings_follow_the_layout(built):
    book = openpyxl.load_workbook(built.workbook, keep_vba=True)
    assert book.sheetnames == [s.name for s in layout.SHEETS]
    assert {s.name for s in layout.SHEETS if s.hidden} == {
        ws.title for ws in book.worksheets if ws.sheet_state == "hidden"} == {"Lists", "xlwings.conf"}
    for spec in layout.SHEETS:
        ws = book[spec.name]
        assert sorted(ws.tables) == sorted(spec.tables), spec.name
        for name in spec.tables:
            table = layout.table(name)
            ref = ws.tables[name].ref
            top_left = ref.split(":")[0]
            assert int(re.sub(r"\D", "", top_left)) == layout.HEADER_ROW
            first_col = openpyxl.utils.column_index_from_string(re.sub(r"\d", "", top_left))
            headers = [ws.cell(layout.HEADER_ROW, first_col + j).value
                       for j in range(len(table.columns))]
            assert headers == table.headers
            for j, column in enumerate(table.columns):
                cell = ws.cell(layout.HEADER_ROW + 1, first_col + j)
                assert cell.number_format == column.number_format, (name, column.header)
        if spec.tables and not spec.hidden:
            assert ws.freeze_panes == f"A{layout.HEADER_ROW + 1}", spec.name
    # drop-downs: each validated column refers to its list's defined name
    names = {n: book.defined_names[n].attr_text for n in book.defined_names}
    for source in layout.LISTS.values():
        assert names[source.name] == f"{source.table}[{source.column}]"
    time = book["Time entries"]
    validations = {str(v.sqref): v.formula1 for v in time.data_validations.dataValidation}
    for j, column in enumerate(layout.table("TimeEntries").columns):
        if column.validation:
            letter = openpyxl.utils.get_column_letter(j + 1)
            first = layout.HEADER_ROW + 1
            assert validations[f"{letter}{first}:{letter}{first + layout.VALIDATION_ROWS - 1}"] \
                == layout.LISTS[column.validation].name
    # the fixed lists: UTBMS task codes (no phase headings), activities, actions, reasons
    rows = list_rows()
    assert [r[0] for r in rows["ListActions"]] == list(layout.LISTS["actions"].values)
    assert "L100" not in {r[0] for r in rows["ListTasks"]} and "L110" in {r[0] for r in rows["ListTasks"]}
    assert "ListClients" not in rows and "ListMatters" not in rows
    settings = {r[0]: r[1] for r in settings_rows()}
    assert settings[layout.setting("ledger_url").label] == layout.setting("ledger_url").default
    conf = book["xlwings.conf"]
    written = {conf.cell(i, 1).value: conf.cell(i, 2).value for i in range(1, 10) if conf.cell(i, 1).value}
    assert written == {k: v for k, v in layout.XLWINGS_CONF if v}
    assert written["UDF Modules"] == "billxl.excel.udfs"


def test_a_ledger_password_is_left_out_of_the_settings_sheet():
    shown = {r[0]: r[1] for r in settings_rows("postgresql://billing:s3cret@db.firm:5433/firm")}
    assert shown[layout.setting("ledger_url").label] == "postgresql://billing@db.firm:5433/firm"


def test_formula_like_text_is_written_as_text_with_a_quote_prefix(tmp_path):
    risky = ["=HYPERLINK(\"http://x\")", "+44 20 7946 0000", "-5 hours", "@SUM(A1)"]
    path = tmp_path / "book.xlsm"
    sheets.write_billing_sheets(path, functions=[], rows={
        "ListClients": [[f"C{i}", text] for i, text in enumerate(risky)],
        "Settings": [["User", "=cmd|' /C calc'!A0", "who"]]})
    book = openpyxl.load_workbook(path)
    lists = book["Lists"]
    cells = [lists.cell(layout.HEADER_ROW + 1 + i, 2) for i in range(len(risky))]
    assert [c.value for c in cells] == risky
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    plain = lists.cell(layout.HEADER_ROW + 1, 1)
    assert plain.value == "C0" and not plain.quotePrefix
    user = book["Settings"].cell(layout.HEADER_ROW + 1, 2)
    assert user.data_type == "s" and user.quotePrefix
    # LibreOffice reads them as the text typed, not as formulas
    shown = probe(path, f"Lists!B{layout.HEADER_ROW + 1}:B{layout.HEADER_ROW + len(risky)}",
                  f"Settings!B{layout.HEADER_ROW + 1}")
    assert [r[0] for r in shown["cells"][f"Lists!B{layout.HEADER_ROW + 1}:"
                                         f"B{layout.HEADER_ROW + len(risky)}"]] == risky
    assert shown["cells"][f"Settings!B{layout.HEADER_ROW + 1}"] == [["=cmd|' /C calc'!A0"]]


# ------------------------------------------------------------------------- LibreOffice, through UNO
def uno_python() -> str:
    """A Python that has LibreOffice's UNO bridge (Debian's python3-uno: the system Python)."""
    soffice_or_skip()
    for exe in dict.fromkeys(["/usr/bin/python3", shutil.which("python3") or ""]):
        if exe and subprocess.run([exe, "-c", "import uno"], capture_output=True).returncode == 0:
            return exe
    if IN_CI:
        pytest.fail("CI=true but no Python with UNO (apt install python3-uno)")
    pytest.skip("LibreOffice's Python UNO bridge is not installed (apt install python3-uno)")


#: LibreOffice has no add-in type: it opens an .xlam (Excel's own too) only when told it is an
#: Excel 2007+ macro workbook, which it is but for the content type.
MACRO_WORKBOOK_FILTER = "Calc MS Excel 2007 VBA XML"


def probe(path: Path, *specs: str) -> dict:
    chosen = ["--filter", MACRO_WORKBOOK_FILTER] if path.suffix == ".xlam" else []
    done = subprocess.run([uno_python(), str(PROBE), *chosen, str(path), *specs],
                          capture_output=True, text=True, timeout=240)
    out = json.loads(done.stdout or "{}")
    assert done.returncode == 0 and "error" not in out, (done.stdout, done.stderr[-2000:])
    return out


@pytest.mark.parametrize("which", ["workbook", "addin"])
def test_libreoffice_opens_the_file_and_lists_its_vba_modules_with_their_source(built, which):
    path = getattr(built, which)
    names = [s.name for s in layout.SHEETS] if which == "workbook" else [sheets.ADDIN_SHEET]
    shown = probe(path, *(["list_utbms_tasks", "list_actions", "list_reason_codes",
                           "list_clients"] if which == "workbook" else []))
    assert [s["name"] for s in shown["sheets"]] == names
    library = shown["libraries"]["VBAProject"]
    assert set(library) == OUR_MODULES | sheet_modules(path)
    for name, source in vba.read_modules(path).items():
        if code_lines(source) != [""] * len(code_lines(source)):  # a sheet's empty module
            assert ends_with(library[name], source), name  # LibreOffice adds Option lines
    if which == "workbook":
        tasks = shown["names"]["list_utbms_tasks"]
        assert (tasks["count"], tasks["first"]) == (len(list_rows()["ListTasks"]), "L110")
        assert shown["names"]["list_actions"]["count"] == len(layout.LISTS["actions"].values)
        assert shown["names"]["list_reason_codes"]["count"] == len(
            layout.LISTS["reason_codes"].values)
        assert shown["names"]["list_clients"]["count"] == 0  # no ledger given: empty


# ------------------------------------------------------------------------- filled from the demo ledger
def status_figures(shown_cells: list[list]) -> dict[str, float]:
    labels = {label for label, _, _ in sheets.STATUS_ROWS}
    return {row[0]: row[1] for row in shown_cells if row and row[0] in labels}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                                 marks=pytest.mark.postgres)])
def filled(request, tmp_path_factory):
    """A workbook built with --ledger from the demo firm, then the ribbon's commands run on it
    headless: typed time rows imported, the month's export imported, reconciled, pre-billed,
    reviewed, finalized, AR refreshed. Returns the workbook and the ledger's figures."""
    from billxl import demo
    from billxl.excel.book import FileBook
    from billxl.excel.demo_files import review_prebill
    from billxl.monthend import EXAMPLE_GUIDELINES

    folder = tmp_path_factory.mktemp(f"filled-{request.param}")
    url = str(folder / "billxl.db") if request.param == "sqlite" else postgres_url_or_skip()
    firm = demo.build_firm(entries=400)
    ledger = billxl.Ledger.create(url, firm=firm.firm, actor="test")
    demo.load_into(ledger, firm)
    billxl.set_firm_settings(ledger, guidelines_dir=EXAMPLE_GUIDELINES, actor="test")
    clients, matters = ledger.clients(), ledger.matters()
    ledger.dispose()
    exports = demo.write_exports(firm, folder / "exports")
    built = build_workbooks(folder / "book", ledger=url)
    as_built = Path(shutil.copyfile(built.workbook, folder / "as-built.xlsm"))

    book = FileBook(built.workbook)
    settings = book.read_table("Settings")
    label = settings.columns[0]
    named = settings.loc[settings[label] == layout.setting("ledger_url").label].iloc[0, 1]
    if request.param == "sqlite":
        assert named == str(Path(url).resolve())
    else:  # the password is left out (a user's .pgpass has it); the test puts it back
        password = url.split("//", 1)[1].split("@")[0].partition(":")[2]
        assert named == url.replace(f":{password}@", "@") and password
    for key, value in {"ledger_url": url, "user": "test.secretary", "month": MONTH,
                       "as_of": AS_OF}.items():
        settings.loc[settings[label] == layout.setting(key).label, settings.columns[1]] = value
    book.write_table("Settings", settings)
    typed = pd.read_excel(exports["time"], engine="calamine", dtype=object).head(40)
    time = layout.table("TimeEntries")
    typed_rows = pd.DataFrame({c.header: typed[c.field] for c in time.columns if c.field in typed})
    typed_rows.loc[typed_rows.index[0], time.header_of("narrative")] = "=SUM(1,2) call with client"
    book.write_table("TimeEntries", typed_rows)
    book.save()

    def run(command: str) -> None:
        done = billxl.run_workbook_command(command, built.workbook)
        assert done.ok, (command, done.message, done.problems[:5])

    run("import_time")
    book = FileBook(built.workbook)
    settings = book.read_table("Settings")
    settings.loc[settings[label] == layout.setting("time_file").label, settings.columns[1]] = \
        str(exports["time"])
    book.write_table("Settings", settings)
    book.save()
    run("import_time")
    run("reconcile")
    ledger = billxl.Ledger.open(url)
    findings = billxl.list_findings(ledger, status="open")
    ledger.dispose()
    run("build_prebills")
    for name in sorted(set(FileBook(built.workbook).read_table("Prebills")["Workbook"])):
        review_prebill(Path(name), pd.Timestamp("2026-11-03").date())
    run("apply_prebill_edits")
    run("finalize")
    run("refresh_ar")
    ledger = billxl.Ledger.open(url)
    try:
        entries = ledger.time_entries()
        figures = {
            "typed": typed_rows, "entries": entries, "findings": findings,
            "prebills": len(FileBook(built.workbook).read_table("Prebills")),
            "invoices": billxl.list_invoices(ledger, month=MONTH),
            "aging": billxl.aging(ledger, AS_OF), "clients": clients, "matters": matters,
            "as_built": as_built,
        }
    finally:
        ledger.dispose()
    return built, figures


def test_the_lists_come_from_the_ledger_it_was_built_with(filled):
    built, figures = filled
    # as built (before any command refreshed the lists)
    shown = probe(figures["as_built"], "list_clients", "list_matters")
    for table, name, frame, key in (
            ("ListClients", "list_clients", figures["clients"], "client_id"),
            ("ListMatters", "list_matters", figures["matters"], "matter_id")):
        assert built.lists[table] == len(frame) > 0, table
        assert shown["names"][name]["count"] == len(frame)
        assert shown["names"][name]["first"] == sorted(frame[key])[0]


def test_the_filled_workbook_recalculates_to_the_ledgers_figures(filled):
    built, figures = filled
    rows = len(layout.INSTRUCTIONS) + len(sheets.STATUS_ROWS) + 6
    aging = figures["aging"]
    shown = probe(built.workbook, f"Instructions!A1:B{rows}",
                  f"AR!A{layout.HEADER_ROW + 1}:L{layout.HEADER_ROW + len(aging)}",
                  f"Time entries!M{layout.HEADER_ROW + 1}:N{layout.HEADER_ROW + 1}")
    status = status_figures(shown["cells"][f"Instructions!A1:B{rows}"])
    typed = figures["typed"]
    ids = set(typed[layout.table("TimeEntries").header_of("entry_id")].astype(str))
    entries = figures["entries"]
    ledger_hours = entries[entries["entry_id"].astype(str).isin(ids)]["hours_milli"].sum()
    by_severity = figures["findings"]["severity"].value_counts()
    expected = {
        "Time entries on the Time entries sheet": len(typed),
        "Their hours": Decimal(int(ledger_hours)) / 1000,
        "Errors on Exceptions": int(by_severity.get("error", 0)),
        "Warnings on Exceptions": int(by_severity.get("warning", 0)),
        "Pre-bills listed": figures["prebills"],
        "Invoices listed": len(figures["invoices"]),
        "Clients who owe money (AR)": int((aging["net"] > 0).sum()),
    }
    got = {k: (Decimal(repr(v)).quantize(Decimal("0.001")) if k == "Their hours" else int(v))
           for k, v in status.items() if k in expected}
    assert got == expected
    assert expected["Invoices listed"] > 0 and expected["Errors on Exceptions"] > 0
    # the AR table as LibreOffice holds it, to the cent
    net = layout.table("Aging").headers.index(layout.table("Aging").header_of("net"))
    ar = shown["cells"][f"AR!A{layout.HEADER_ROW + 1}:L{layout.HEADER_ROW + len(aging)}"]
    assert sorted((r[0], Decimal(repr(r[net])).quantize(Decimal("0.01"))) for r in ar) == sorted(
        (c, billxl.from_minor(int(v), cur)) for c, v, cur in
        zip(aging["client_id"], aging["net"], aging["currency"], strict=True))
    # a narrative typed as =SUM(1,2) ... is still that text after the import and LibreOffice
    narrative = shown["cells"][f"Time entries!M{layout.HEADER_ROW + 1}:N{layout.HEADER_ROW + 1}"]
    assert narrative[0][0] == "=SUM(1,2) call with client"


def test_billxl_workbook_build_writes_both_files_and_says_what_they_hold(tmp_path):
    from billxl.cli import app

    result = CliRunner().invoke(app, ["workbook", "build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / WORKBOOK).is_file() and (tmp_path / ADDIN).is_file()
    assert "xlwings_udfs" in result.output and "tasks 54" in result.output  # 29 L, 4 C, 21 B
    result = CliRunner().invoke(app, ["workbook", "build", "--out", str(tmp_path / "x"),
                                      "--vba", str(tmp_path / "nowhere")])
    said = " ".join(result.output.split())
    assert result.exit_code != 0 and "is missing" in said and "(or --vba DIR)" in said
