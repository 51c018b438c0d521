"""Text from a time entry can never run as a formula, break a file, or change what a reader sees
(issue 17).

Hostile text (:func:`hostile`) goes through every writer billxl has, and each file is read back
with a reader that is not billxl's writer: the csv module, openpyxl, python-calamine (billxl's
own reader), lxml and lxml.html, pypdf, billxl's LEDES parser. What must hold:

* no cell evaluates: an openpyxl cell is never a formula (``data_type != 'f'``), Excel's quote
  prefix is on every text cell that editing would turn into one, and a CSV cell never starts
  with a formula character unless it is a number;
* no record splits or merges: as many rows, lines or line items come back as went in;
* the text survives, or is changed exactly as documented: :mod:`billxl.cells` (characters that
  do not show are left out everywhere; a CSV cell's leading quote is undone by billxl's reader),
  :mod:`billxl.ledes.writer` (``|``, ``[``, ``]``, tabs and line breaks in pipe files).

Examples per writer (moderate, for two CI cores; the whole file runs in about a minute here):
the CSV cell rule 300 (no file), CSV files 150, XLSX by XlsxWriter and by openpyxl 120 each,
LEDES 1998B and 98BI 60 each, LEDES XML 60, the pack's HTML 80 and XLSX 40, the invoice HTML
25, the pre-bill workbook 15, the billing workbook (openpyxl, its macro file) 12, PDF by Typst
10 and by WeasyPrint 5 (these two without shrinking: an example takes a second), and the
problems file opened in LibreOffice once (a fixed example). The third-party LEDES parser is
skipped, with its reason, where it cannot be imported beside billxl.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date
from pathlib import Path

import lxml.etree
import lxml.html
import numpy as np
import openpyxl
import pandas as pd
import pytest
import python_calamine
import xlsxwriter
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from billxl import cells
from billxl.atomic import atomic_write_csv
from billxl.cells import (
    HIDDEN,
    XlsxText,
    csv_text,
    formula_like,
    from_csv_text,
    openpyxl_text,
    quote_prefixed,
    visible_text,
)
from billxl.intake import read_table
from tests import test_prebill

#: A print header or footer XlsxWriter would drop (longer than Excel's 255 characters) fails.
pytestmark = pytest.mark.filterwarnings("error:Header string:UserWarning",
                                        "error:Footer string:UserWarning")


def slow(examples: int, *, shrink: bool = True) -> settings:
    """``examples`` examples, no deadline (files are written and read back); ``shrink=False``
    where one example takes seconds (a failure is then reported as found)."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=examples, deadline=None, phases=phases,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


# ----------------------------------------------------------------------------- strategies
#: What a spreadsheet evaluates when it starts a cell, and payloads seen in the wild.
PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\n", "\0", " =", "  +", "\u00a0-", "'=", "''@",
            "'", '=HYPERLINK("http://evil.example","click")', "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "=1+2\";=1+2", "+1", "-12.50", "-1,250.00"]
#: Each format's delimiters and markup.
DELIMITERS = ["|", "[", "]", "[]", ",", ";", '"', "'", "\r\n", "\n", "\r", "\t", "\u2028",
              "\u2029", "<", ">", "&", "&amp;", "<script>alert(1)</script>", "]]>", "<!--",
              "#set page(width: 2cm)", "*bold*", "$x$", "\\", "{{ x }}", "{% raw %}"]
#: Bidirectional controls and other characters nobody sees.
INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
             "\u2069", "\u200b", "\u2060", "\ufeff", "\u00ad", "\x00", "\x01", "\x07", "\x0b",
             "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\U000e0041", "\ufffe",
             # kept: scripts need them
             "\u200c", "\u200d", "\u200e", "\u200f", "\u061c"]
WHITESPACE = ["", " ", "   ", "\t", "\u00a0", "\u3000", " \n "]

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
non_bmp = st.text(st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF,
                                exclude_categories=("Cs", "Cn", "Co")), min_size=1, max_size=4)
part = st.one_of(st.sampled_from(PREFIXES), st.sampled_from(DELIMITERS),
                 st.sampled_from(INVISIBLE), st.sampled_from(WHITESPACE), words, non_bmp,
                 st.sampled_from(["Reviewed the lease", "Ünïcødé", "שלום", "مرحبا", "日本語",
                                  "👩‍⚖️", "ACME LTD"]))


def _long(text: str, times: int) -> str:
    return ((text or "x") * times)[:20_000]  # well within a spreadsheet cell's 32,767


#: Hostile text: formula starts, delimiters, invisible characters, blanks, text outside the
#: Basic Multilingual Plane, right-to-left scripts, each alone or mixed; now and then very long.
hostile = st.one_of(
    st.lists(part, min_size=1, max_size=6).map("".join),
    st.builds(_long, st.lists(part, min_size=1, max_size=3).map("".join),
              st.integers(200, 1200)),
    st.sampled_from(WHITESPACE),
)
#: Text a PDF's text layer gives back word for word (pypdf cannot read back right-to-left,
#: joined or combining scripts in visual order): printable ASCII, the formula starts, the
#: delimiters and markup, and invisible characters (which must be gone).
printable = st.lists(st.one_of(
    st.sampled_from([p for p in PREFIXES if p.strip()] + [d for d in DELIMITERS if d.strip()]),
    st.sampled_from(INVISIBLE[:25]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=1, max_size=8)),
    min_size=1, max_size=5).map(" ".join)


def shown(text: str) -> str:
    """What every writer keeps of ``text``: all but the characters nobody sees."""
    return visible_text(text)


def in_xlsx(text: str) -> str:
    """What an XLSX cell holds of ``text``: line ends as Excel's own line feed."""
    return shown(text).replace("\r\n", "\n").replace("\r", "\n")


def in_pipe_file(text: str) -> str:
    """What a LEDES 1998B/98BI field holds of ``text`` (the writer's documented changes)."""
    one_line = re.sub(r"\r\n|[\r\n\u2028\u2029]", " ", shown(text))
    return one_line.translate(str.maketrans({"|": "/", "[": "(", "]": ")", "\t": " "}))


def _evaluates(cell: str) -> bool:
    return formula_like(cell) and re.fullmatch(
        r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+", cell) is None


def evaluates_in_csv(cell: str) -> bool:
    """Would a spreadsheet read this CSV cell as a formula (a number reads as a number), or
    the part of it after a ``;`` or a tab, where a spreadsheet splitting on those starts one?"""
    return _evaluates(cell) or any(_evaluates(part) for part in re.split(r"[;\t\r\n]", cell)[1:])


# ----------------------------------------------------------------------------- cells: the rules
@pytest.mark.parametrize(("text", "written"), [
    ("=1+2", "'=1+2"), ("+1 call", "'+1 call"), ("-- reviewed", "'-- reviewed"),
    ("@partner", "'@partner"), ("\tindent", "'\tindent"), ("\rx", "'\rx"), ("\nx", "'\nx"),
    ("  =1+2", "'  =1+2"), ("'=1+2", "''=1+2"), ("'plain", "'plain"), ("plain", "plain"),
    ("-12.50", "-12.50"), ("+3", "+3"), ("-1,250.00", "-1,250.00"), ("-1+2", "'-1+2"),
    (" -5", "' -5"), ("a\n=b", "a\n'=b"), ("a;", "a;'"), ('a;"=b', "a;'\"=b"),
    ("", ""), ("ACME \u202eDTL", "ACME DTL"), ("a\u200db", "a\u200db"), ("a\x00b", "ab"),
    ("x;=1+2", "x;'=1+2"), ("a\t@b", "a\t'@b"), ("a;-5", "a;-5"), ("=a;+b", "'=a;'+b"),
    ("\r\t", "'\r'\t'"), ("a\r\n\t=b", "a\r'\n'\t'=b"),  # a line break, then a tab
])
def test_a_csv_cell_is_quoted_only_where_a_spreadsheet_would_evaluate_it(text, written):
    assert csv_text(text) == written
    assert from_csv_text(written) == visible_text(text)


@pytest.mark.parametrize(("text", "quoted"), [
    ("=x", True), ("-5", True), ("'x", True), (" @x", True), ("\tx", True), ("x=", False),
    ("", False), ("plain", False)])
def test_an_xlsx_cell_carries_the_quote_prefix_where_editing_would_change_it(text, quoted):
    assert quote_prefixed(text) is quoted


@given(hostile)
@settings(max_examples=300)
def test_reading_a_csv_cell_gives_back_what_was_written(text):
    written = csv_text(text)
    assert from_csv_text(written) == shown(text)
    assert not evaluates_in_csv(written)
    assert not HIDDEN.search(written)


def test_numbers_stay_numbers_and_text_columns_are_neutralised_as_a_whole():
    frame = pd.DataFrame({"amount": [-12.5, 3.0], "count": [-1, 2],
                          "text": ["=SUM(A1)", "x;=1"], "mixed": pd.Series([-5, "-5+1"], dtype=object)})
    out = cells.csv_frame(frame)
    assert out["amount"].tolist() == [-12.5, 3.0] and out["count"].tolist() == [-1, 2]
    assert out["text"].tolist() == ["'=SUM(A1)", "x;'=1"]
    assert out["mixed"].tolist() == [-5, "'-5+1"]  # a number in a text column stays a number
    assert frame["text"].tolist() == ["=SUM(A1)", "x;=1"]  # the caller's frame is untouched


# ----------------------------------------------------------------------------- CSV
@given(st.lists(hostile, min_size=1, max_size=8))
@slow(150)
def test_csv_cells_never_evaluate_rows_never_split_and_billxl_reads_the_text_back(tmp_path, texts):
    frame = pd.DataFrame({"entry": [f"E{i}" for i in range(len(texts))],
                          "amount": -np.arange(len(texts)) - 0.5, "narrative": texts})
    path = atomic_write_csv(frame, tmp_path / "out.csv")
    raw = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert len(rows) == len(texts) + 1 and all(len(r) == 3 for r in rows)
    for row, text in zip(rows[1:], texts, strict=True):
        assert not evaluates_in_csv(row[2]) and not HIDDEN.search(row[2])
        assert from_csv_text(row[2]) == shown(text)
        assert float(row[1]) < 0  # a negative amount is a number, written bare
    # read as a spreadsheet that splits on ';' (or tabs) reads it, where a quote that does not
    # open a cell is text: no cell evaluates
    for delimiter in ";\t":
        for row in csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter):
            assert not any(_evaluates(cell.rstrip('"')) for cell in row), row
    table = read_table(path)  # billxl's reader undoes the quote: the round trip is exact
    assert len(table) == len(texts)
    narrative = table.cells[table.columns.index("narrative")]
    assert list(narrative) == [shown(t) for t in texts]


# ----------------------------------------------------------------------------- XLSX
def _read_back(path: Path, sheet: str = "S"):
    book = openpyxl.load_workbook(path)
    return book[sheet]


@given(st.lists(hostile, min_size=1, max_size=8))
@slow(120)
def test_xlsxwriter_text_is_a_string_with_the_quote_prefix_where_needed(tmp_path, texts):
    path = tmp_path / "x.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    sheet = book.add_worksheet("S")
    bold = book.add_format({"bold": True})
    writer = XlsxText(book)
    for i, text in enumerate(texts):
        writer.write(sheet, i, 0, text, bold if i % 2 else None)
    book.close()
    ws = _read_back(path)
    assert ws.max_row <= len(texts)
    for i, text in enumerate(texts):
        cell = ws.cell(i + 1, 1)
        expected = in_xlsx(text)
        assert cell.data_type != "f"
        assert (cell.value or "") == expected
        assert bool(cell.quotePrefix) == quote_prefixed(expected)
        assert bool(cell.font.b) == bool(i % 2)  # the quoted twin keeps the format
    with python_calamine.CalamineWorkbook.from_path(str(path)) as calamine:
        grid = calamine.get_sheet_by_name("S").to_python(skip_empty_area=False)
    assert [r[0] if r else "" for r in grid] == [
        (ws.cell(i + 1, 1).value or "") for i in range(len(grid))]


@given(st.lists(hostile, min_size=1, max_size=8))
@slow(120)
def test_openpyxl_text_is_a_string_never_a_formula(tmp_path, texts):
    path = tmp_path / "o.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "S"
    for i, text in enumerate(texts):
        openpyxl_text(ws.cell(i + 1, 1), text)
    book.save(path)
    back = _read_back(path)
    for i, text in enumerate(texts):
        cell = back.cell(i + 1, 1)
        assert cell.data_type != "f"
        assert (cell.value or "") == in_xlsx(text)
        assert bool(cell.quotePrefix) == quote_prefixed(in_xlsx(text))


# ----------------------------------------------------------------------------- LEDES
def _ledes_lines():
    from billxl.ledes.parser import parse
    from tests.test_ledes import SAMPLE

    return parse(SAMPLE).lines


#: The text fields a hostile narrative or name reaches, in the canonical line frame.
LEDES_TEXT = ("line_item_description", "matter_name", "client_name", "law_firm_name",
              "timekeeper_name")


@pytest.mark.parametrize("fmt", ["1998B", "98BI"])
@given(data=st.data())
@slow(60)
def test_pipe_ledes_records_never_split_and_text_changes_only_as_documented(fmt, data):
    from billxl.ledes.parser import parse
    from billxl.ledes.writer import render

    lines = _ledes_lines().copy()
    n = len(lines)
    texts = data.draw(st.lists(hostile, min_size=n, max_size=n), label="descriptions")
    lines["line_item_description"] = texts
    name = data.draw(hostile, label="matter name")
    lines["matter_name"] = name
    rendered = render(lines, fmt, encoding="utf-8")
    raw = rendered.data.decode("utf-8")
    records = raw.split("[]")
    assert records[-1] == "" and len(records) == n + 3  # header, field names, n lines
    assert all(r.count("|") == records[2].count("|") for r in records[2:-1])
    back = parse(rendered.data)
    assert len(back.lines) == n
    assert back.lines["line_item_description"].tolist() == [in_pipe_file(t)
                                                            for t in texts]
    if fmt == "98BI":
        assert set(back.lines["matter_name"]) == {in_pipe_file(name)}
    changed = [t for t in texts if in_pipe_file(t) != t]
    assert bool(changed) == any(note.startswith("LINE_ITEM_DESCRIPTION") for note in rendered.notes)


@given(st.lists(hostile, min_size=1, max_size=3), hostile)
@slow(60)
def test_ledes_xml_is_escaped_by_lxml_and_keeps_the_text_but_what_does_not_show(texts, name):
    from billxl.ledes import xml21
    from billxl.ledes.writer import render

    lines = _ledes_lines().copy()
    lines["line_item_description"] = [texts[i % len(texts)] for i in range(len(lines))]
    lines["client_name"] = name
    rendered = render(lines, "XML21")
    doc = lxml.etree.fromstring(rendered.data)  # well-formed, or this raises
    assert len(doc.findall(".//fee")) + len(doc.findall(".//expense")) \
        + len(doc.findall(".//matter_disc_cred")) == len(lines)
    descriptions = [(e.text or "") for e in doc.iter("charge_desc", "disc_cred_desc")]
    assert sorted(descriptions) == sorted(shown(texts[i % len(texts)])
                                          for i in range(len(lines)))  # one each, as written
    assert [(e.text or "") for e in doc.iter("cl_name")] == [shown(name)]  # CR kept: &#13;
    assert len(xml21.read(rendered.data).lines) == len(lines)


def test_the_third_party_ledes_parser_reads_what_billxl_writes():
    ledes_parser = pytest.importorskip(
        "ledes_parser", reason="ledes-parser (the bench extra) does not import in this "
        "environment: it needs pkg_resources and pins lark==1.1.9, which billxl's own lark "
        "cannot share; benchmarks/bench_ledes.py runs it in an environment of its own")
    from billxl.ledes.writer import render

    lines = _ledes_lines().copy()
    lines["line_item_description"] = "Call re =HYPERLINK(x) | [sic] \u202eDTL"
    parsed = ledes_parser.get_parser("LEDES1998B").parse(render(lines, "1998B").data.decode())
    assert parsed is not None


# ----------------------------------------------------------------------------- HTML
def _words(text: str) -> str:
    return " ".join(text.split())


def test_every_html_template_that_prints_data_is_autoescaped():
    from billxl.documents.settings import environment, template_dir

    env = environment(template_dir())
    names = [p.name for p in template_dir().glob("*.html")]
    assert {"invoice.html", "statement.html", "base.html"} <= set(names)
    assert all(env.autoescape(name) for name in names)
    assert env.from_string("{{ x }}").render(x="<b>\u202e=1</b>") == "&lt;b&gt;=1&lt;/b&gt;"


@given(st.lists(hostile, min_size=2, max_size=2), hostile)
@slow(25)
def test_invoice_html_escapes_every_text_and_keeps_its_rows(texts, client):
    from billxl.documents.pdf import html
    from tests.test_documents import context_for, sample_lines

    lines = sample_lines()
    baseline = lxml.html.document_fromstring(html(context_for(lines)[1], "invoice.html"))
    lines[0] = {**lines[0], "narrative": texts[0]}
    lines[-2] = {**lines[-2], "narrative": texts[1]}  # an expense
    ctx = context_for(lines)[1]
    ctx["client"]["name"] = client
    doc = lxml.html.document_fromstring(html(ctx, "invoice.html"))
    for tag in ("tr", "td", "script", "style", "img", "a", "b"):  # nothing added, nothing lost
        assert len(doc.findall(f".//{tag}")) == len(baseline.findall(f".//{tag}")), tag
    shown_text = _words(doc.text_content())
    for text in (*texts, client):
        assert _words(shown(text)) in shown_text
    assert not HIDDEN.search(doc.text_content())


def _pack_with(texts: list[str], title: str):
    from billxl.packs.tables import Column, Pack, Table

    pack = Pack(kind="monthly", title="Monthly billing pack", firm="Harlow & Finch LLP",
                month="2026-10", as_of=date(2026, 10, 31), scope="client", scope_id="C1",
                scope_name=title)
    frame = pd.DataFrame({"id": [f"C{i}" for i in range(len(texts))], "name": texts,
                          "amount": [-1250 * (i + 1) for i in range(len(texts))],
                          "currency": "USD"})
    pack.add(Table("clients", "Clients", (Column("id", "Client"), Column("name", "Name"),
                                          Column("amount", "Owed", "money")), frame,
                   note="Open balances."))
    return pack


@given(st.lists(hostile, min_size=1, max_size=6), hostile)
@slow(80)
def test_pack_html_escapes_every_cell_and_keeps_one_row_per_record(texts, title):
    from billxl.packs import render

    pack = _pack_with(texts, title)
    table = lxml.html.fragment_fromstring(render.table_html(pack.tables["clients"]),
                                          create_parent="div")
    rows = table.findall(".//tbody/tr") or table.findall(".//tr")[1:]
    assert len(rows) == len(texts)
    for row, text in zip(rows, texts, strict=True):
        cells_ = row.findall("td")
        assert len(cells_) == 3
        assert _words(cells_[1].text_content()) == _words(shown(text))
    cover = lxml.html.fragment_fromstring(render.cover_html(pack), create_parent="div")
    assert _words(shown(title)) in _words(cover.text_content())
    assert not table.findall(".//script") and not cover.findall(".//script")


@given(st.lists(hostile, min_size=1, max_size=6))
@slow(40)
def test_pack_xlsx_text_is_a_string_with_the_quote_prefix_and_amounts_stay_numbers(tmp_path, texts):
    from billxl.packs import xlsx

    path = xlsx.write_pack(_pack_with(texts, "Acme"), tmp_path / "pack.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[xlsx.sheet_names(_pack_with(texts, "Acme"))["clients"]]
    first = xlsx.HEADER_ROW + 2  # 1-based: the row under the header
    for i, text in enumerate(texts):
        name, amount = ws.cell(first + i, 2), ws.cell(first + i, 3)
        assert name.data_type != "f" and (name.value or "") == in_xlsx(text)
        assert bool(name.quotePrefix) == quote_prefixed(in_xlsx(text))
        assert amount.data_type == "n" and amount.value == -12.5 * (i + 1)


# ----------------------------------------------------------------------------- workbooks
@given(st.lists(hostile, min_size=1, max_size=5))
@slow(12)
def test_the_billing_workbook_writes_text_as_strings_with_the_quote_prefix(tmp_path, texts):
    from billxl.excel import layout
    from billxl.excel.book import FileBook

    source = Path(__file__).resolve().parents[1] / "workbooks" / "billxl-billing.xlsm"
    copy = tmp_path / "book.xlsm"
    shutil.copyfile(source, copy)
    spec = layout.table("Problems")
    text_column = next(c.header for c in spec.columns if c.kind in ("text", "wrap"))
    book = FileBook(copy)
    book.write_table("Problems", pd.DataFrame({text_column: texts}))
    book.save()
    ws = openpyxl.load_workbook(copy, keep_vba=True)[layout.sheet_of("Problems")]
    found = [c for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.column == 1 + [col.header for col in spec.columns]
             .index(text_column) and c.row > layout.HEADER_ROW]
    written = [in_xlsx(t) for t in texts if in_xlsx(t)]
    assert [c.value for c in found] == written
    for cell in found:
        assert cell.data_type != "f" and bool(cell.quotePrefix) == quote_prefixed(cell.value)


# ----------------------------------------------------------------------------- PDF
def _pdf_words(path: Path) -> str:
    import pypdf

    return _words(" ".join(page.extract_text() for page in pypdf.PdfReader(path).pages))


def _printed(text: str, pdf_words: str) -> bool:
    """Whether a PDF's text (:func:`_pdf_words`) holds ``text`` as shown, every character in
    order: where the page wrapped a long word (a URL breaks after a '/'), the extraction reads
    the line break as a space, so spaces are left out of the comparison."""
    return "".join(shown(text).split()) in pdf_words.replace(" ", "")


def _pdf_case(tmp_path, texts: list[str], client: str, folder=None) -> str:
    from billxl.documents import render_invoice_pdf
    from tests.test_documents import context_for, sample_lines
    from tests.test_documents_engines import context_in

    lines = sample_lines()
    lines[0] = {**lines[0], "narrative": texts[0]}
    lines[-2] = {**lines[-2], "narrative": texts[1]}
    ctx = context_for(lines)[1] if folder is None else context_in(folder, lines)
    ctx["client"]["name"] = client
    return _pdf_words(render_invoice_pdf(ctx, tmp_path / "invoice.pdf"))


@given(st.lists(printable, min_size=2, max_size=2), printable)
@slow(10, shrink=False)
def test_typst_pdf_prints_the_text_as_written_less_what_does_not_show(tmp_path, texts, client):
    words = _pdf_case(tmp_path, texts, client)
    for text in (*texts, client):
        assert _printed(text, words)
    assert not HIDDEN.search(words)


@pytest.fixture(scope="module")
def html_engine(tmp_path_factory):
    from tests.test_documents_engines import folder_with

    return folder_with(tmp_path_factory.mktemp("html"), "  engine: typst", "  engine: html")


@given(st.lists(printable, min_size=2, max_size=2), printable)
@slow(5, shrink=False)
def test_weasyprint_pdf_prints_the_text_as_written_less_what_does_not_show(tmp_path, html_engine,
                                                                           texts, client):
    words = _pdf_case(tmp_path, texts, client, folder=html_engine)
    for text in (*texts, client):
        assert _printed(text, words)
    assert not HIDDEN.search(words)


# ----------------------------------------------------------------------------- intake and the problems file
HEADER = ["entry_id", "date", "timekeeper_id", "timekeeper_name", "timekeeper_class", "matter_id",
          "client_id", "hours", "rate", "amount", "task_code", "activity_code", "narrative"]
LINK = '=HYPERLINK("http://evil.example","click")'


def _entries(path: Path, rows: list[dict]) -> Path:
    base = dict(timekeeper_id="TK1", timekeeper_name="Ann Lee", timekeeper_class="PARTNR",
                matter_id="M1", client_id="C1", hours="1.5", rate="300", amount="450.00",
                task_code="L110", activity_code="A101", narrative="Drafted motion",
                date="2026-10-05")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, HEADER)
        writer.writeheader()
        writer.writerows({**base, "entry_id": f"E{i}", **row} for i, row in enumerate(rows))
    return path


_CELL_TEXT = st.text(alphabet=st.sampled_from(list("ab =\t\n\r\x00\x07\x0b\x1f\x7f\x85\u00e9"
                                                  "\u200b\u202e\ufeff\U000e0041")),
                     max_size=5)


@given(st.lists(st.one_of(_CELL_TEXT, st.none(), st.floats(allow_nan=True), st.integers(),
                          st.booleans(), st.dates()), max_size=12),
       st.sampled_from(["as drawn", "text only", "no text"]))
def test_a_column_loses_exactly_the_characters_that_do_not_show_cell_by_cell(values, kind):
    """The column-wide check (one pass over the column's text joined, ASCII text looked at
    for ASCII characters only, columns of numbers or dates passed over) changes exactly the
    cells that :func:`visible_text` would, and nothing else."""
    if kind == "text only":
        values = [v for v in values if isinstance(v, str)]
    elif kind == "no text":
        values = [v for v in values if not isinstance(v, str)]
    column = np.array(values + [None], dtype=object)[:-1]  # an object array whatever the values
    fixed, changed = cells.visible_cells(column)
    expect = [visible_text(v) if isinstance(v, str) else v for v in values]
    assert [type(v) for v in fixed] == [type(v) for v in values]
    assert [v for v in fixed if isinstance(v, str)] == [v for v in expect if isinstance(v, str)]
    assert changed.tolist() == [isinstance(v, str) and bool(HIDDEN.search(v)) for v in values]


def test_intake_removes_what_does_not_show_and_says_so_in_a_check(tmp_path):
    from billxl.check import HIDDEN_CHARACTERS, check_file

    path = _entries(tmp_path / "t.csv", [{"narrative": "Paid ACME \u202eDTL\u200b"},
                                         {"narrative": "Plain"}])
    raw = read_table(path)
    narrative = raw.cells[raw.columns.index("narrative")]
    assert list(narrative) == ["Paid ACME DTL", "Plain"]
    assert [(p.row, p.column) for p in raw.hidden] == [(2, "narrative")]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in raw.hidden[0].reason
    assert "U+200B ZERO WIDTH SPACE" in raw.hidden[0].reason
    findings = check_file(path).findings
    hidden = findings[findings["rule"] == HIDDEN_CHARACTERS]
    assert hidden[["row", "severity", "field"]].values.tolist() == [[2, "warning", "narrative"]]
    assert "'Paid ACME DTL' has characters that do not show" in hidden["message"].iloc[0]


def test_the_problems_file_shows_the_formula_as_text_in_libreoffice(tmp_path):
    """The closing note's picture, as a test: the --problems file of a time-entry file whose
    date cell holds a HYPERLINK formula, opened by LibreOffice: the cell is text, not a link."""
    from billxl.cli.output import write_problems
    from billxl.errors import InputError
    from billxl.intake import read_entries
    from tests.office import convert

    path = _entries(tmp_path / "t.csv", [{"date": LINK}])
    with pytest.raises(InputError) as refused:
        read_entries(path)
    problems = tmp_path / "problems.csv"
    write_problems(refused.value.problems, problems)
    row = next(r for r in csv.DictReader(io.StringIO(problems.read_text("utf-8-sig")))
               if r["column"] == "date")
    assert row["value"] == "'" + LINK  # the leading quote: text to any spreadsheet
    book = openpyxl.load_workbook(convert(problems, "xlsx", tmp_path))
    cells_ = [c for r in book.active.iter_rows() for c in r if "HYPERLINK" in str(c.value)]
    assert cells_ and all(c.data_type == "s" and c.hyperlink is None for c in cells_)
    assert [c.value for c in cells_] == ["'" + LINK]


# ----------------------------------------------------------------------------- the pre-bill workbook
firm, ledger = test_prebill.firm, test_prebill.ledger  # the demo month, as fixtures here too


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)  # writing reads no ledger
def test_the_prebill_workbook_keeps_hostile_text_as_text_and_reads_it_back_unchanged(
        ledger, tmp_path):
    from billxl.billing import prebill
    from billxl.excel import prebill_workbook as wb

    prebill.create_prebills(ledger, "2026-10", actor="test")
    frame = prebill.prebill_frame(ledger, "2026-10")
    frame = frame[frame["billing_partner_id"] == frame["billing_partner_id"].iloc[0]]
    frame = frame[frame["prebill_pk"] == frame["prebill_pk"].iloc[0]].reset_index(drop=True)

    @given(st.lists(hostile, min_size=1, max_size=4), hostile)
    @slow(15)
    def check(texts, name):
        edited = frame.copy()
        rows = min(len(texts), len(edited))
        edited.loc[: rows - 1, "narrative"] = texts[:rows]
        edited["matter_name"] = name
        path = wb.write_prebill_workbook(tmp_path / "p.xlsx", edited, partner_name=name,
                                         month="2026-10")
        sheet = openpyxl.load_workbook(path)[wb.SHEET]
        head = next(c for row in sheet.iter_rows(max_row=10) for c in row
                    if c.value == wb.HEADERS["narrative"])
        column = [sheet.cell(r, head.column) for r in range(head.row + 1, sheet.max_row + 1)]
        for text in texts[:rows]:
            if in_xlsx(text):  # each hostile narrative is in its cell, a string, quoted if needed
                cell = next(c for c in column if c.value == in_xlsx(text))
                assert cell.data_type == "s"
                assert bool(cell.quotePrefix) == quote_prefixed(cell.value)
        assert not any(c.data_type == "f" for c in column if c.value in set(texts))
        lines, problems = wb.read_prebill_workbook(path)
        assert not problems  # the text reads back as written: no edit, no tampering
        assert len(lines[lines["entry_kind"] != "approval"]) == len(edited)

    check()


def test_the_command_lines_csv_output_is_neutralised_too(capsys):
    from billxl.cli.output import OutputFormat, emit

    emit(pd.DataFrame({"row": [2], "message": [LINK], "hours": [-1.5]}), OutputFormat.csv,
         ["row", "message", "hours"])
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[1] == ["2", "'" + LINK, "-1.5"]


def test_the_import_summary_says_which_cells_lost_characters_that_do_not_show():
    from billxl.errors import Problem
    from billxl.intake import HIDDEN_REMOVED, ImportResult

    notices = tuple(Problem("t.csv", row, "narrative", "x", HIDDEN_REMOVED) for row in range(2, 9))
    summary = ImportResult("t.csv", "canonical", "canonical", "0" * 64, {},
                           hidden=notices).summary()
    assert ("7 cell(s) held characters that do not show (such as a right-to-left override), "
            "imported without them: row 2 narrative, row 3 narrative, row 4 narrative, row 5 "
            "narrative, row 6 narrative and 2 more") in summary


# ----------------------------------------------------------------------------- exceptions and aging


def _exceptions_book(tmp_path, texts: list[str]):
    from billxl.excel.exceptions_workbook import write_exceptions_workbook
    from tests.test_exceptions_workbook import ENTRY

    frame = pd.DataFrame([{**ENTRY, "entry_id": f"T{i}", "narrative": text, "rule": "VAGUE",
                           "severity": "warning", "message": "The narrative is too vague."}
                          for i, text in enumerate(texts)])
    book = openpyxl.load_workbook(write_exceptions_workbook(tmp_path / "e.xlsx", frame,
                                                            title="October 2026"))
    sheet = book["Exceptions"]
    column = [c.value for c in sheet[3]].index("Narrative") + 1
    return [sheet.cell(4 + i, column) for i in range(len(texts))]


@given(st.lists(hostile, min_size=1, max_size=4))
@slow(15)
def test_the_exceptions_workbook_never_writes_a_formula(tmp_path, texts):
    assert all(c.data_type != "f" for c in _exceptions_book(tmp_path, texts))


def test_the_exceptions_workbook_quotes_and_cleans_text_as_every_writer_does(tmp_path):
    texts = ["=1+2", "ACME \u202eDTL", "a\r\nb"]
    found = _exceptions_book(tmp_path, texts)
    assert [c.value for c in found] == [in_xlsx(t) for t in texts]
    assert [bool(c.quotePrefix) for c in found] == [True, False, False]
