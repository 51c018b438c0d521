"""The two PDF engines (Typst, the default; HTML laid out by WeasyPrint) and what the documents
say: the same words and figures from either, text from the data never read as markup, the paper
of the firm's country, an expenses-only invoice's own wording, and `billxl invoice render`."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date

import pandas as pd
import pypdf
import pytest

from billxl.documents import invoice_context, render_invoice_pdf, render_statement_pdf
from billxl.documents.settings import template_dir
from billxl.errors import BillxlError
from tests.test_cli import copy_ledger, demo_dir, run  # noqa: F401  (demo_dir: a fixture)
from tests.test_documents import (
    CLIENT,
    FIRM,
    MATTER,
    context_for,
    expense,
    invoice_header,
    pdf_text,
    sample_lines,
    statement_invoices,
    statement_payments,
)

AMOUNT = re.compile(r"-?£?\d{1,3}(?:,\d{3})*\.\d\d")


def folder_with(tmp_path, old: str, new: str, name: str = "templates"):
    """A copy of billxl's templates with one line of documents.yaml changed."""
    folder = tmp_path / name
    shutil.copytree(template_dir(), folder)
    conf = folder / "documents.yaml"
    text = conf.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in documents.yaml"
    conf.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def context_in(folder, lines, firm=FIRM, **header):
    inv = invoice_header(lines, **header)
    return invoice_context(inv, pd.DataFrame(lines), firm=firm, client=CLIENT, matter=MATTER,
                           templates=folder)


def test_typst_and_html_print_the_same_words_and_figures(tmp_path):
    html = folder_with(tmp_path, "  engine: typst", "  engine: html")
    lines = sample_lines(fees=40)
    fast = context_for(lines)[1]
    slow = context_in(html, lines)
    assert (fast["pdf"]["engine"], slow["pdf"]["engine"]) == ("typst", "html")
    a = "\n".join(pdf_text(render_invoice_pdf(fast, tmp_path / "typst.pdf")))
    b = "\n".join(pdf_text(render_invoice_pdf(slow, tmp_path / "html.pdf")))
    figures = sorted(AMOUNT.findall(a))
    assert len(figures) > 100 and figures == sorted(AMOUNT.findall(b))
    for words in ("INVOICE", "INV-2026-0001", "Acme Holdings Ltd", "Fee detail",
                  "Timekeeper summary", "Expenses by code", "Remittance details", "VAT 20%"):
        assert words.lower() in a.lower() and words.lower() in b.lower()  # captions upper
    # the same statement from either engine
    from billxl.documents import statement_context

    sa = statement_context(CLIENT, FIRM, statement_invoices(), date(2026, 12, 31),
                           statement_payments())
    sb = statement_context(CLIENT, FIRM, statement_invoices(), date(2026, 12, 31),
                           statement_payments(), templates=html)
    ta = "\n".join(pdf_text(render_statement_pdf(sa, tmp_path / "s-typst.pdf")))
    tb = "\n".join(pdf_text(render_statement_pdf(sb, tmp_path / "s-html.pdf")))
    assert sorted(AMOUNT.findall(ta)) == sorted(AMOUNT.findall(tb)) != []
    for words in ("STATEMENT OF ACCOUNT", "INV-3", "Total outstanding", "Over 120 days"):
        assert words in ta and words in tb


HOSTILE = ['#set page(width: 2cm) *bold* _em_ $x^2$ @ref <label> // not a comment',
           'Closing ] bracket [ and \\ backslash "quote" `raw` = heading',
           '#{ panic("from a narrative") } and #import "x.typ": *']


def test_text_from_the_data_is_printed_as_written_never_read_as_markup(tmp_path):
    lines = sample_lines()
    for i, narrative in enumerate(HOSTILE):
        lines[i] = {**lines[i], "narrative": narrative}
    ctx = context_for(lines)[1]
    ctx["client"]["name"] = "#text(size: 40pt)[Acme] *Holdings*"
    pages = pdf_text(render_invoice_pdf(ctx, tmp_path / "hostile.pdf"))
    text = " ".join(" ".join(pages).split())
    for narrative in HOSTILE:
        assert " ".join(narrative.split()) in text
    assert "#text(size: 40pt)[Acme] *Holdings*" in text
    reader = pypdf.PdfReader(tmp_path / "hostile.pdf")
    assert {round(float(p.mediabox.width)) for p in reader.pages} == {595}  # no page set to 2 cm


def test_paper_follows_the_firms_country_unless_documents_yaml_says(tmp_path):
    lines = sample_lines()
    us_firm = {**FIRM, "country": "US"}
    sizes = {}
    for name, firm, folder in (("gb", FIRM, None), ("us", us_firm, None),
                               ("us-a4", us_firm, folder_with(tmp_path, "  paper: auto",
                                                              "  paper: a4"))):
        ctx = context_in(folder or template_dir(), lines, firm=firm)
        page = pypdf.PdfReader(render_invoice_pdf(ctx, tmp_path / f"{name}.pdf")).pages[0]
        sizes[name] = (round(float(page.mediabox.width)), round(float(page.mediabox.height)))
    assert sizes == {"gb": (595, 842), "us": (612, 792), "us-a4": (595, 842)}


def test_an_expenses_only_invoice_does_not_speak_of_professional_services(tmp_path):
    lines = [expense(1, 3, "E101", "250", 10, "Photocopying, 250 pages"),
             expense(2, 7, "E110", "1", 18640, "Rail travel")]
    ctx = context_for(lines)[1]
    first = pdf_text(render_invoice_pdf(ctx, tmp_path / "expenses.pdf"))[0]
    assert "professional services" not in first.lower()
    assert "Professional fees" not in first
    assert "expenses and disbursements incurred on your behalf" in " ".join(first.split())
    # an invoice with fees keeps the services wording
    assert "For professional services rendered" in context_for(sample_lines())[1]["texts"][
        "services"]


def test_a_gbp_remittance_names_the_office_account_not_the_client_account():
    details = dict(context_for(sample_lines())[1]["payment"]["details"])
    assert details["Account name"] == "Harcourt & Vale LLP office account"
    assert not any("client account" in v.lower() for v in details.values())


def test_a_broken_engine_setting_or_template_is_a_clear_error(tmp_path):
    with pytest.raises(BillxlError, match="engine: 'latex'.*typst or html"):
        context_in(folder_with(tmp_path, "  engine: typst", "  engine: latex", "a"), sample_lines())
    broken = folder_with(tmp_path, "  paper: auto", "  paper: auto", "b")
    (broken / "invoice.typ").write_text("#let x = (\n", encoding="utf-8")
    with pytest.raises(BillxlError, match=r"invoice\.typ cannot be laid out"):
        render_invoice_pdf(context_in(broken, sample_lines()), tmp_path / "x.pdf")
    assert not list(tmp_path.glob("*.pdf"))
    (broken / "invoice.typ").unlink()  # the firm's folder overrides billxl's file by file
    assert render_invoice_pdf(context_in(broken, sample_lines()), tmp_path / "y.pdf").is_file()


def test_invoice_render_by_number_and_by_month(demo_dir, tmp_path):  # noqa: F811
    ledger = copy_ledger(demo_dir, tmp_path)
    listed = run("--ledger", ledger, "invoice", "list", "--format", "csv", cwd=tmp_path).stdout
    numbers = [row[0] for row in csv.reader(io.StringIO(listed))][1:]  # text cells are quoted
    assert len(numbers) >= 3
    done = run("--ledger", ledger, "invoice", "render", numbers[0], numbers[2], "--out", "one",
               "--format", "pdf", cwd=tmp_path)
    assert "2 invoice(s) rendered: 2 file(s)" in done.stdout
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == sorted(
        f"{n}.pdf" for n in (numbers[0], numbers[2]))
    assert numbers[2] in pdf_text(tmp_path / "one" / f"{numbers[2]}.pdf")[0]
    run("--ledger", ledger, "invoice", "render", "--month", "2026-10", "--out", "all",
        cwd=tmp_path)
    made = {p.name for p in (tmp_path / "all").iterdir()}
    assert made == {f"{n}.{f}" for n in numbers for f in ("pdf", "xlsx")}
    bad = run("--ledger", ledger, "invoice", "render", "NOPE-1", cwd=tmp_path, ok=2)
    assert "No invoice numbered NOPE-1" in bad.stderr + bad.stdout
    both = run("--ledger", ledger, "invoice", "render", numbers[0], "--month", "2026-10",
               cwd=tmp_path, ok=2)
    assert "not both" in both.stderr + both.stdout
