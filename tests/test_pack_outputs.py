"""How packs look: the HTML tables, charts, XLSX pack, report HTML and PDF, and the notebooks.

The first part builds tables by hand (every kind: text, date, money in currencies of 0, 2 and 3
minor digits with total rows, hours, ratios with None, days, counts, by_row) and reads each
output back: the HTML's data attributes and text, the XLSX's cell values and formats
(openpyxl), the PDF's text (pypdf). The second part runs ``notebooks/monthly_pack.ipynb`` with
papermill on the demo ledger for one billing partner, once for the module, and ties every money
figure in its HTML, XLSX and PDF out to the pack and the pack's totals to the ledger.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pypdf
import pytest

from billxl import atomic, money
from billxl.packs import charts, printed, render, report, xlsx
from billxl.packs.tables import Column, Pack, Table

# ============================================================================ hand-made tables


def _pack() -> Pack:
    pack = Pack(kind="monthly", title="Monthly billing pack", firm="Harlow & Finch LLP",
                month="2026-10", as_of=date(2026, 10, 31), scope="partner", scope_id="TK001",
                scope_name="Margaret Okafor")
    headline = pd.DataFrame([
        {"figure": "Billed", "_kind": "money", "currency": "USD", "month": 12345678,
         "last": -987654, "ytd": 112233445},
        {"figure": "Billed", "_kind": "money", "currency": "JPY", "month": 1500000, "last": 0,
         "ytd": 9000000},
        {"figure": "Hours worked", "_kind": "hours", "currency": None, "month": 412250,
         "last": 398000, "ytd": 4012500},
        {"figure": "Billing realization", "_kind": "ratio", "currency": None,
         "month": Decimal("0.8750"), "last": Decimal("0.9012"), "ytd": None},
        {"figure": "Debtor days (DSO)", "_kind": "days", "currency": None,
         "month": Decimal("45.5"), "last": Decimal("50.1"), "ytd": None},
        {"figure": "Invoices", "_kind": "count", "currency": None, "month": 23, "last": 1234,
         "ytd": 210},
    ]).astype(object)
    pack.add(Table("headline", "Headline figures",
                   (Column("figure", "Figure"), Column("currency", "Currency"),
                    Column("month", "October 2026", "by_row"),
                    Column("last", "September 2026", "by_row"),
                    Column("ytd", "Year to date", "by_row")),
                   headline, note="Worked by activity date, billed by invoice date."))
    aging = pd.DataFrame([
        {"client": "=HYPERLINK(\"http://x\")Acme", "currency": "USD", "current": 100000,
         "1_30": 50050, "over_120": 12345, "total": 162395, "_total": False},
        {"client": "Bellweather Holdings plc", "currency": "USD", "current": 2500000,
         "1_30": 0, "over_120": 99999, "total": 2599999, "_total": False},
        {"client": "Total USD", "currency": "USD", "current": 2600000, "1_30": 50050,
         "over_120": 112344, "total": 2762394, "_total": True},
        {"client": "Kaito Trading KK", "currency": "JPY", "current": 1200000, "1_30": 300000,
         "over_120": 0, "total": 1500000, "_total": False},
        {"client": "Total JPY", "currency": "JPY", "current": 1200000, "1_30": 300000,
         "over_120": 0, "total": 1500000, "_total": True},
        {"client": "Al Noor <Trading>", "currency": "KWD", "current": 1234, "1_30": -5,
         "over_120": 0, "total": 1229, "_total": False},
        {"client": "Total KWD", "currency": "KWD", "current": 1234, "1_30": -5,
         "over_120": 0, "total": 1229, "_total": True},
    ])
    pack.add(Table("ar_aging", "AR aging by client",
                   (Column("client", "Client"), Column("currency", "Currency"),
                    Column("current", "Current", "money"), Column("1_30", "1-30", "money"),
                    Column("over_120", "Over 120", "money"), Column("total", "Total", "money")),
                   aging, note="Open balances by days past due."))
    pack.add(Table("write_offs", "Write-offs",
                   (Column("matter", "Matter"), Column("currency", "Currency"),
                    Column("amount", "Amount", "money"), Column("reason", "Reason")),
                   pd.DataFrame(columns=["matter", "currency", "amount", "reason"]),
                   note="Post-bill write-offs by the date written off."))
    invoices = pd.DataFrame([
        {"number": "INV-0001", "client": "+Bellweather", "date": pd.Timestamp("2026-10-05"),
         "currency": "USD", "amount": -12550, "hours": 12200, "days": Decimal("12"),
         "rate": None, "n": 3},
        {"number": "INV-0002", "client": "@Kaito", "date": date(2026, 10, 7), "currency": "JPY",
         "amount": 150000, "hours": 1125, "days": None, "rate": Decimal("0.5"), "n": 1},
    ]).astype(object)
    pack.add(Table("top_overdue", "Top overdue invoices held against the trust balances",
                   (Column("number", "Invoice"), Column("client", "Client"),
                    Column("date", "Date", "date"), Column("amount", "Amount", "money"),
                    Column("hours", "Hours", "hours"), Column("days", "Days overdue", "days"),
                    Column("rate", "Collected", "ratio"), Column("n", "Reminders", "count")),
                   invoices))
    return pack


class _Cells(HTMLParser):
    """Every <td> of every table: its attributes, its text and whether its row is a total."""

    def __init__(self):
        super().__init__()
        self.cells: list[dict] = []
        self.table = None
        self.row = -1
        self.total = False
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table, self.row = attrs.get("data-table"), -1
        elif tag == "tr":
            self.total = "bx-total" in (attrs.get("class") or "")
            self.row += 1
        elif tag == "td":
            self._cell = {**attrs, "table": self.table, "row": self.row, "total": self.total,
                          "text": ""}

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append(self._cell)
            self._cell = None


def cells_of(text: str) -> list[dict]:
    parser = _Cells()
    parser.feed(text)
    return parser.cells


def money_of_table(table: Table) -> Counter:
    """(column, currency, minor units) of every money value of a table, whatever its layout."""
    frame = table.frame
    currencies = frame["currency"].tolist() if "currency" in frame else [None] * len(frame)
    found: Counter = Counter()
    for column in table.columns:
        for kind, value, cur in zip(printed.row_kinds(table, column), table.frame[column.name],
                                    currencies, strict=True):
            if kind == "money" and not printed.is_missing(value):
                found[(column.name, cur, int(value))] += 1
    return found


def money_in_html(cells: list[dict], key: str) -> Counter:
    """The same, read from the HTML's data attributes."""
    return Counter((c["data-col"], c["data-currency"], int(c["data-minor"])) for c in cells
                   if c["table"] == key and c.get("data-kind") == "money" and "data-minor" in c)


def _cell(cells, col, row=None, table=None):
    found = [c for c in cells if c["data-col"] == col and (row is None or c["row"] - 1 == row)
             and (table is None or c["table"] == table)]
    assert len(found) == 1, (col, row, found)
    return found[0]


def test_money_cells_carry_their_exact_value_and_print_the_currencys_digits():
    pack = _pack()
    table = pack.tables["ar_aging"]
    cells = cells_of(render.table_html(table))
    money_cells = [c for c in cells if c.get("data-kind") == "money"]
    assert len(money_cells) == 4 * len(table.frame)
    for c in money_cells:
        row = table.frame.iloc[c["row"] - 1]
        assert int(c["data-minor"]) == row[c["data-col"]]
        assert c["data-currency"] == row["currency"]
    # the currency's own minor digits, thousands separated, the firm's minus sign
    assert _cell(cells, "current", 1)["text"] == "25,000.00"
    assert _cell(cells, "current", 3)["text"] == "1,200,000"  # JPY: no minor unit
    assert _cell(cells, "current", 5)["text"] == "1.234"  # KWD: three digits
    assert _cell(cells, "1_30", 5)["text"] == "-0.005"
    assert "bx-neg" in _cell(cells, "1_30", 5)["class"]
    # a table that shows its currency column prints plain amounts; one that does not, symbols
    inv = cells_of(render.table_html(pack.tables["top_overdue"]))
    assert [c["text"] for c in inv if c["data-col"] == "amount"] == ["-$125.50", "¥150,000"]


def test_total_rows_are_marked_and_bold_and_numbers_right_aligned():
    pack = _pack()
    cells = cells_of(render.table_html(pack.tables["ar_aging"]))
    totals = {c["row"] - 1 for c in cells if c["total"]}
    assert totals == {2, 4, 6}
    assert all("bx-num" in c["class"] for c in cells if c.get("data-kind") == "money")
    style = render.css()
    assert re.search(r"tr\.bx-total td \{[^}]*font-weight: bold", style)
    assert re.search(r"\.bx-num \{[^}]*text-align: right", style)
    text = render.table_html(pack.tables["ar_aging"])
    assert "<thead>" in text and "<tbody>" in text and 'scope="col"' in text


def test_every_kind_prints_as_the_module_says():
    pack = _pack()
    inv = cells_of(render.table_html(pack.tables["top_overdue"]))
    # a column with a value not in tenths prints two places (rounded for print only)
    assert [c["text"] for c in inv if c["data-col"] == "hours"] == ["12.20", "1.13"]
    assert [c["data-milli"] for c in inv if c["data-col"] == "hours"] == ["12200", "1125"]
    assert [c["text"] for c in inv if c["data-col"] == "rate"] == [printed.DASH, "50.0%"]
    assert [c["text"] for c in inv if c["data-col"] == "days"] == ["12", printed.DASH]
    assert [c["text"] for c in inv if c["data-col"] == "date"] == ["05 Oct 2026", "07 Oct 2026"]
    assert [c["text"] for c in inv if c["data-col"] == "n"] == ["3", "1"]
    # by_row: each row its own kind under the same heading; in two currencies, a column each
    headline = pack.tables["headline"]
    assert render.by_currency(headline) == ["JPY", "USD"]
    text = render.table_html(headline)
    assert re.findall(r'<th scope="col" class="bx-num[^"]*">(\w+)</th>', text) == ["JPY", "USD"] * 3
    head = cells_of(text)
    month = [(c.get("data-currency"), c["text"]) for c in head if c["data-col"] == "month"]
    assert month == [("JPY", "1,500,000"), ("USD", "123,456.78"), (None, "412.25"),
                     (None, "87.5%"), (None, "46"), (None, "23")]
    last = [(c.get("data-currency"), c["text"]) for c in head if c["data-col"] == "last"]
    assert last == [("JPY", "0"), ("USD", "-9,876.54"), (None, "398.0"), (None, "90.1%"),
                    (None, "50"), (None, "1,234")]
    assert [c["text"] for c in head if c["data-col"] == "ytd"][3:5] == [printed.DASH] * 2
    assert [c.get("colspan") for c in head if c["data-col"] == "month"] == [None, None] + ["2"] * 4
    assert [c["text"] for c in head if c["data-col"] == "figure"] == [
        "Billed", "Hours worked", "Billing realization", "Debtor days (DSO)", "Invoices"]
    # in one currency, a row per figure and currency
    one = Table("one", "One", headline.columns, headline.frame[headline.frame["currency"] != "JPY"])
    assert render.by_currency(one) == []
    cells = cells_of(render.table_html(one))
    assert [c.get("data-kind") for c in cells if c["data-col"] == "month"] == [
        "money", "hours", "ratio", "days", "count"]
    assert money_in_html(cells, "one") == money_of_table(one)


def test_text_is_escaped_an_empty_table_is_a_sentence_and_the_note_follows():
    pack = _pack()
    aging = render.table_html(pack.tables["ar_aging"])
    assert "Al Noor &lt;Trading&gt;" in aging and "<Trading>" not in aging
    assert '<p class="bx-note">Open balances by days past due.</p>' in aging
    empty = render.table_html(pack.tables["write_offs"])
    assert "<table" not in empty
    assert '<p class="bx-empty">No write-offs this month.</p>' in empty
    assert empty.index("No write-offs") < empty.index("Post-bill write-offs")
    assert printed.empty_sentence(Table("x", "AR aging", (), pd.DataFrame())) == \
        "No AR aging this month."


def test_the_pack_html_has_a_cover_and_every_table_under_its_title():
    pack = _pack()
    text = render.pack_html(pack)
    assert "Margaret Okafor (TK001)" in text and "31 October 2026" in text
    for table in pack.tables.values():
        assert f"<h2>{table.title}</h2>" in text
    assert printed.running_title(pack) == "Monthly billing pack · Margaret Okafor · October 2026"


# ============================================================================ charts
def test_aging_charts_are_one_per_currency_and_never_mix_currencies():
    pack = _pack()
    figures = charts.aging_chart(pack.tables["ar_aging"])
    assert len(figures) == 3
    for figure, (currency, total) in zip(
            figures, [("JPY", 1500000), ("KWD", 1229), ("USD", 2762394)], strict=True):
        ax = figure.axes[0]
        assert currency in ax.get_title(loc="left")
        bars = sum(p.get_width() for p in ax.patches)
        assert bars == pytest.approx(float(money.from_minor(total, currency)))
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert not any(label.startswith("Total") for label in labels)  # totals are not bars
        assert charts.png(figure).startswith(b"\x89PNG")
    assert charts.aging_chart(pack.tables["write_offs"]) == []


def test_a_chart_shows_the_largest_groups_and_the_rest_as_one_bar():
    rows = pd.DataFrame({"client": [f"Client {i:02d}" for i in range(15)], "currency": "USD",
                         "current": [100 * (i + 1) for i in range(15)], "_total": False})
    table = Table("aging", "Aging", (Column("client", "Client"), Column("currency", "Currency"),
                                     Column("current", "Current", "money")), rows)
    (figure,) = charts.wip_aging_chart(table)
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == "Client 14" and labels[-1] == "Other (5)"  # the largest at the top
    assert len(labels) == charts.TOP + 1


# ============================================================================ XLSX
@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "pack.xlsx"
    xlsx.write_pack(_pack(), path)
    return path, openpyxl.load_workbook(path)


def _rows(ws, table: Table) -> list[list]:
    first = xlsx.HEADER_ROW + 2  # openpyxl counts from 1
    return [[ws.cell(first + i, j + 1) for j in range(len(table.columns))]
            for i in range(len(table.frame))]


def test_xlsx_has_contents_first_then_a_sheet_per_table(workbook):
    path, book = workbook
    pack = _pack()
    names = xlsx.sheet_names(pack)
    assert book.sheetnames == ["Contents", *names.values()]
    assert names["top_overdue"] == "Top overdue invoices held again"  # 31 characters
    assert all(len(n) <= 31 for n in book.sheetnames)
    contents = book["Contents"]
    assert contents["A1"].value == pack.title
    assert [contents.cell(r, 1).value for r in range(2, 5)] == printed.cover_lines(pack)
    links = [c.hyperlink.location for row in contents.iter_rows() for c in row if c.hyperlink]
    assert links == [f"'{n}'!A1" for n in names.values()]


def test_xlsx_money_is_numbers_with_the_currencys_digits(workbook):
    _, book = workbook
    pack = _pack()
    table = pack.tables["ar_aging"]
    ws = book[xlsx.sheet_names(pack)["ar_aging"]]
    money_cols = [j for j, c in enumerate(table.columns) if c.kind == "money"]
    for (_, row), cells in zip(table.frame.iterrows(), _rows(ws, table), strict=True):
        for j in money_cols:
            cell = cells[j]
            value = Decimal(repr(cell.value)).quantize(
                Decimal(1).scaleb(-money.minor_digits(row["currency"])))
            assert value == money.from_minor(row[table.columns[j].name], row["currency"])
            assert cell.number_format == xlsx.money_format(row["currency"])
            assert cell.font.b == bool(row["_total"])
    assert xlsx.money_format("JPY") == "#,##0;-#,##0"
    assert xlsx.money_format("KWD") == "#,##0.000;-#,##0.000"
    top = book[xlsx.sheet_names(pack)["top_overdue"]]  # no currency column: the symbol
    amounts = [r[3].number_format for r in _rows(top, pack.tables["top_overdue"])]
    assert amounts == ['"$"#,##0.00;-"$"#,##0.00', '"¥"#,##0;-"¥"#,##0']
    assert ws.freeze_panes == f"A{xlsx.HEADER_ROW + 2}"
    assert [c.value for c in ws[xlsx.HEADER_ROW + 1]][:3] == ["Client", "Currency", "Current"]


def test_xlsx_kinds_have_number_formats_dates_and_blanks(workbook):
    _, book = workbook
    pack = _pack()
    table = pack.tables["top_overdue"]
    ws = book[xlsx.sheet_names(pack)["top_overdue"]]
    first, second = _rows(ws, table)
    assert first[2].value == datetime(2026, 10, 5) and first[2].is_date
    assert (first[4].value, first[4].number_format) == (12.2, "#,##0.00")
    assert first[5].value == 12 and first[5].number_format == "#,##0"
    assert first[6].value is None  # no ratio: an empty cell
    assert (second[6].value, second[6].number_format) == (0.5, "0.0%")
    assert first[7].value == 3
    head = book[xlsx.sheet_names(pack)["headline"]]
    ratio = _rows(head, pack.tables["headline"])[3][2]
    assert (ratio.value, ratio.number_format) == (0.875, "0.0%")
    hours = _rows(head, pack.tables["headline"])[2][2]
    assert hours.value == 412.25


def test_xlsx_text_that_looks_like_a_formula_stays_text(workbook):
    path, book = workbook
    pack = _pack()
    aging = book[xlsx.sheet_names(pack)["ar_aging"]]
    top = book[xlsx.sheet_names(pack)["top_overdue"]]
    for cell, text in [(_rows(aging, pack.tables["ar_aging"])[0][0], '=HYPERLINK("http://x")Acme'),
                       (_rows(top, pack.tables["top_overdue"])[0][1], "+Bellweather"),
                       (_rows(top, pack.tables["top_overdue"])[1][1], "@Kaito")]:
        assert (cell.value, cell.data_type) == (text, "s")
        assert cell.quotePrefix
    formulas = openpyxl.load_workbook(path, data_only=False)
    assert not any(c.data_type == "f" for ws in formulas for row in ws.iter_rows() for c in row)


def test_xlsx_an_empty_table_says_so_and_the_file_is_not_world_writable(workbook):
    path, book = workbook
    ws = book[xlsx.sheet_names(_pack())["write_offs"]]
    assert ws.cell(xlsx.HEADER_ROW + 2, 1).value == "No write-offs this month."
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o666 & ~atomic.umask() & ~0o002
    assert not mode & stat.S_IWOTH


# ============================================================================ report HTML, PDF
def _executed_notebook(pack: Pack) -> nbformat.NotebookNode:
    """A notebook as papermill leaves it, its outputs made by render and charts (no kernel)."""
    def out(html: str, metadata=None):
        return nbformat.v4.new_output("display_data", data={"text/html": html},
                                      metadata=metadata or {})

    cover = nbformat.v4.new_code_cell("render.show_cover(pack)  # SECRET_SOURCE", outputs=[
        out(render.cover_html(pack), {"billxl": {"title": printed.running_title(pack)}}),
        nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: SECRET_WARNING")])
    cells = [nbformat.v4.new_markdown_cell("# Monthly billing pack"), cover]
    for table in pack.tables.values():
        cells.append(nbformat.v4.new_markdown_cell(f"## {table.title}"))
        outputs = [out(render.table_html(table))]
        if table.key == "ar_aging":
            for figure in charts.aging_chart(table):
                png = base64.b64encode(charts.png(figure)).decode()
                outputs.append(nbformat.v4.new_output(
                    "display_data", data={"image/png": png},
                    metadata={"image/png": {"alt": charts.alt_text(figure)}}))
        cells.append(nbformat.v4.new_code_cell(f"render.show({table.key!r})", outputs=outputs))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


@pytest.fixture(scope="module")
def report_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    nbformat.write(_executed_notebook(_pack()), folder / "pack.ipynb")
    html = report.notebook_html(folder / "pack.ipynb", folder / "pack.html")
    pdf = report.html_pdf(html, folder / "pack.pdf")
    return html, pdf


def test_report_html_has_the_outputs_without_code_prompts_warnings_or_scripts(report_files):
    html, _ = report_files
    text = html.read_text(encoding="utf-8")
    assert "SECRET_SOURCE" not in text and "SECRET_WARNING" not in text
    assert "In&nbsp;[" not in text and "Out[" not in text and "<script" not in text
    assert "<title>Monthly billing pack · Margaret Okafor · October 2026</title>" in text
    assert "@page" in text and "tr.bx-total" in text  # the styles are inlined
    assert "http://" not in text.replace('"http://x"', "")  # nothing to fetch
    cells = cells_of(text)
    pack = _pack()
    for key, table in pack.tables.items():
        assert money_in_html(cells, key) == money_of_table(table), key
    assert text.count('src="data:image/png;base64,') == 3
    assert 'alt="AR aging, USD: 27,623.94 in total"' in text


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def test_report_pdf_prints_every_figure_with_the_pack_in_the_footer(report_files):
    _, pdf = report_files
    pages = _pdf_text(pdf)
    text = "\n".join(pages)
    pack = _pack()
    found = Counter(re.findall(r"-?[$¥]?\d[\d,]*(?:\.\d+)?%?", text))
    wanted: Counter = Counter()
    for table in pack.tables.values():
        symbol = not printed.shows_currency(table)
        for column in table.columns:
            for kind, value, cur in zip(printed.row_kinds(table, column), table.frame[column.name],
                                        table.frame.get("currency", [None] * len(table.frame)),
                                        strict=True):
                if kind == "money":
                    wanted[printed.cell_text(kind, value, currency=cur, symbol=symbol)] += 1
    assert wanted and not wanted - found, wanted - found
    for number, page in enumerate(pages, start=1):
        assert "Monthly billing pack · Margaret Okafor · October 2026" in page
        assert f"Page {number} of {len(pages)}" in page


# ============================================================================ the demo ledger
MONTH = "2026-10"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


PARAMETERS = """\
month = "2026-10"  # the month of the pack (YYYY-MM)
scope = "firm"  # whose pack: firm, partner, client or office
scope_id = ""  # the partner's, client's or office's id (blank for the whole firm)
ledger_url = ""  # the ledger: a SQLite file or postgresql:// URL (blank: $BILLXL_LEDGER, else ./billxl.db)
output_dir = "."  # where the XLSX pack is written"""


@pytest.mark.parametrize("stem", ["monthly_pack", "reconciliation_review", "collections"])
def test_the_notebooks_are_clean_and_take_the_contracts_parameters(stem):
    import papermill

    notebook = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)  # nothing stored
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].source == PARAMETERS
    found = papermill.inspect_notebook(str(NOTEBOOKS / f"{stem}.ipynb"))
    assert {n: p["default"] for n, p in found.items()} == {
        "month": '"2026-10"', "scope": '"firm"', "scope_id": '""', "ledger_url": '""',
        "output_dir": '"."'}
    assert all(p["help"] for p in found.values())
    # the last cell writes the XLSX pack and the sidecar, named for the notebook
    assert f'"{stem}.xlsx"' in code[-1].source and f'"{stem}.json"' in code[-1].source
    # every other code cell after the pack's only shows (no billing logic in a notebook)
    for cell in code[2:-1]:
        assert all(line.startswith("render.show(") for line in cell.source.splitlines()), cell.source


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory):
    """One partner's monthly pack of the demo month: run by papermill, then HTML and PDF."""
    import papermill

    from billxl.monthend import run_demo
    from billxl.packs import monthly_pack, pack_scopes

    folder = tmp_path_factory.mktemp("demo_pack")
    run_demo(folder / "demo", month=MONTH, entries=600, seed=7, packs=False)
    url = f"sqlite:///{folder / 'demo' / 'billxl.db'}"
    partners = pack_scopes("partner", MONTH, ledger_url=url)
    assert len(partners) >= 2  # the confidentiality test needs another partner's clients
    partner = str(partners["scope_id"].iloc[0])
    out = folder / "pack"
    out.mkdir()
    papermill.execute_notebook(
        str(NOTEBOOKS / "monthly_pack.ipynb"), str(out / "monthly_pack.ipynb"),
        parameters={"month": MONTH, "scope": "partner", "scope_id": partner, "ledger_url": url,
                    "output_dir": str(out)},
        kernel_name="python3", progress_bar=False, start_timeout=120)
    html = report.notebook_html(out / "monthly_pack.ipynb", out / "monthly_pack.html")
    pdf = report.html_pdf(html, out / "monthly_pack.pdf")
    pack = monthly_pack(MONTH, scope="partner", scope_id=partner, ledger_url=url)
    return {"pack": pack, "partner": partner, "url": url, "out": out, "html": html, "pdf": pdf,
            "xlsx": out / "monthly_pack.xlsx", "json": out / "monthly_pack.json"}


def test_the_notebook_writes_the_xlsx_pack_and_its_sidecar(demo_pack):
    import json

    pack = demo_pack["pack"]
    sidecar = json.loads(demo_pack["json"].read_text())
    assert sidecar == report.sidecar(pack)  # the same figures as the pack built here
    assert sidecar["scope_id"] == demo_pack["partner"] and sidecar["tables"] == list(pack.tables)
    executed = nbformat.read(demo_pack["out"] / "monthly_pack.ipynb", as_version=4)
    assert not executed.metadata.papermill.exception
    assert report.pack_title(executed) == printed.running_title(pack)


def test_every_money_figure_in_the_html_is_the_packs(demo_pack):
    pack = demo_pack["pack"]
    cells = cells_of(demo_pack["html"].read_text(encoding="utf-8"))
    shown = 0
    for key, table in pack.tables.items():
        assert money_in_html(cells, key) == money_of_table(table), key
        shown += sum(money_of_table(table).values())
    assert shown > 100  # the demo partner's pack is not empty


def test_every_money_figure_in_the_xlsx_is_the_packs(demo_pack):
    pack = demo_pack["pack"]
    book = openpyxl.load_workbook(demo_pack["xlsx"])
    names = xlsx.sheet_names(pack)
    checked = 0
    for key, table in pack.tables.items():
        ws = book[names[key]]
        rows = _rows(ws, table)
        for j, column in enumerate(table.columns):
            kinds = printed.row_kinds(table, column)
            for i, (kind, value) in enumerate(zip(kinds, table.frame[column.name], strict=True)):
                if kind != "money" or printed.is_missing(value):
                    continue
                currency = str(table.frame["currency"].iat[i])
                exact = money.from_minor(int(value), currency)
                cell = rows[i][j].value
                assert Decimal(repr(cell)).quantize(exact) == exact, (key, column.name, i)
                checked += 1
    assert checked == sum(sum(money_of_table(t).values()) for t in pack.tables.values())


def test_every_money_figure_in_the_pdf_is_printed(demo_pack):
    pack = demo_pack["pack"]
    text = "\n".join(_pdf_text(demo_pack["pdf"]))
    found = Counter(re.findall(r"-?[$¥€£]?\d[\d,]*(?:\.\d+)?%?", text))
    wanted: Counter = Counter()
    for table in pack.tables.values():
        symbol = not printed.shows_currency(table)
        for (_, currency, minor), n in money_of_table(table).items():
            wanted[printed.cell_text("money", minor, currency=currency, symbol=symbol)] += n
    assert sum(wanted.values()) > 100
    assert not wanted - found, wanted - found
    assert f"Page 1 of {len(pypdf.PdfReader(demo_pack['pdf']).pages)}" in text


def _ledger_frames(url: str):
    import sqlalchemy as sa

    from billxl.store import tables as t

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            invoices = pd.read_sql(sa.select(t.invoices), conn)
            matters = pd.read_sql(sa.select(t.matters), conn)
            clients = pd.read_sql(sa.select(t.clients), conn)
    finally:
        engine.dispose()
    return invoices, matters, clients


def _totals(table: Table, column: str) -> dict[str, int]:
    frame = table.frame[printed.total_rows(table)]
    return {str(c): int(v) for c, v in zip(frame["currency"], frame[column], strict=True)}


def test_the_packs_key_totals_are_the_ledgers(demo_pack):
    from billxl import ar
    from billxl.store.ledger import Ledger

    pack, partner = demo_pack["pack"], demo_pack["partner"]
    invoices, matters, _ = _ledger_frames(demo_pack["url"])
    partner_of = matters.set_index("matter_id")["billing_partner_id"]
    mine = invoices[(invoices["matter_id"].map(partner_of) == partner)
                    & (pd.to_datetime(invoices["invoice_date"]).dt.strftime("%Y-%m") == MONTH)]
    register = {str(c): int(v) for c, v in mine.groupby("currency")["total_minor"].sum().items()}
    assert len(register) >= 2
    # the invoice register's billed total, per currency, is the billing table's total row
    assert _totals(pack.tables["billing"], "total") == register
    headline = pack.tables["headline"].frame
    billed = headline[headline["figure"] == "Billed"]
    assert dict(zip(billed["currency"], billed["this_month"].map(int), strict=True)) == register
    # the AR aging's totals are billxl.ar.aging's for this partner on the month's last day
    ledger = Ledger.open(demo_pack["url"])
    try:
        aging = ar.aging(ledger, pack.as_of, by="partner")
    finally:
        ledger.dispose()
    aging = aging[aging["partner_id"] == partner]
    expected = {str(c): int(v) for c, v in zip(aging["currency"], aging["total"], strict=True)}
    assert _totals(pack.tables["ar_aging"], "total") == expected


def _xlsx_strings(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row
                     if isinstance(c.value, str))


def test_another_partners_matters_and_clients_appear_in_no_output(demo_pack):
    partner = demo_pack["partner"]
    _, matters, clients = _ledger_frames(demo_pack["url"])
    ours = matters[matters["billing_partner_id"] == partner]
    theirs = matters[matters["billing_partner_id"] != partner]
    names = clients.set_index("client_id")["name"]
    # what only the other partners' pack may show: their matters' ids, the names no matter of
    # ours has, and the clients none of our matters is for
    secret = {*theirs["matter_id"], *(set(theirs["name"]) - set(ours["name"])),
              *(names[c] for c in set(theirs["client_id"]) - set(ours["client_id"]))}
    public = {*ours["matter_id"], *(names[c] for c in set(ours["client_id"]))}
    assert len(theirs) >= 3 and public
    outputs = {"html": demo_pack["html"].read_text(encoding="utf-8"),
               "pdf": " ".join(" ".join(_pdf_text(demo_pack["pdf"])).split()),
               "xlsx": _xlsx_strings(demo_pack["xlsx"])}
    for kind, text in outputs.items():
        assert any(p in text for p in public), kind  # our matters are there: a search finds them
        leaked = sorted(p for p in secret if p in text)
        assert not leaked, (kind, leaked)
