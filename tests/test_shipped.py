"""billxl's own templates, notebooks and workbooks (billxl.shipped), and a firm's folder over
them file by file: the Typst and HTML engines, documents.yaml, the packs' report folder, the
month-end notebooks, the copy commands, and what an installed billxl does without a checkout."""

from __future__ import annotations

import pypdf
import pytest

from billxl import shipped
from billxl.documents import render_invoice_pdf
from billxl.documents.pdf import html
from billxl.documents.settings import settings, template_dir
from billxl.errors import InputError
from billxl.excel import workbook_build
from billxl.packs import batch, render
from tests.test_cli import run
from tests.test_documents import pdf_text, sample_lines
from tests.test_documents_engines import context_in

OWN = "Printed from the firm template of Harcourt and Vale"


def _edited(name: str, folder, old: str, new: str) -> None:
    """billxl's file ``name`` with one change, into the firm's ``folder``."""
    text = shipped.find("templates", name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in billxl's {name}"
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")


def _fonts(pdf) -> set[str]:
    found = set()
    for page in pypdf.PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            found.add(str(font.get_object()["/BaseFont"]))
    return found


def test_a_folder_with_only_invoice_typ_takes_the_rest_from_billxl(tmp_path):
    firm = tmp_path / "firm"
    _edited("invoice.typ", firm, "#par(ctx.texts.services)\n",
            f"#par(ctx.texts.services)\n#par[{OWN}.]\n")
    assert sorted(p.name for p in firm.iterdir()) == ["invoice.typ"]  # no billxl.typ, no yaml
    ctx = context_in(firm, sample_lines())
    assert ctx["labels"]["total_due"] == "Total due"  # billxl's documents.yaml
    text = "\n".join(pdf_text(render_invoice_pdf(ctx, tmp_path / "own.pdf")))
    assert OWN in text and "Total due" in text
    # billxl's invoice.typ is untouched: without the firm's folder the line is not there
    plain = "\n".join(pdf_text(render_invoice_pdf(context_in(None, sample_lines()),
                                                  tmp_path / "plain.pdf")))
    assert OWN not in plain and "Total due" in plain


def test_a_firms_documents_yaml_overrides_billxls_setting_by_setting(tmp_path):
    firm = tmp_path / "firm"
    firm.mkdir()
    (firm / "documents.yaml").write_text('labels:\n  total_due: "Amount payable"\n',
                                         encoding="utf-8")
    conf = settings(template_dir(firm))
    assert conf["labels"]["total_due"] == "Amount payable"
    assert conf["labels"]["invoice_date"] == settings(template_dir())["labels"]["invoice_date"]
    text = "\n".join(pdf_text(render_invoice_pdf(context_in(firm, sample_lines()),
                                                 tmp_path / "x.pdf")))
    assert "Amount payable" in text and "Total due" not in text


def test_the_html_engine_finds_base_html_and_print_css_beside_the_firms_file(tmp_path):
    firm = tmp_path / "firm"
    firm.mkdir()
    (firm / "documents.yaml").write_text("pdf:\n  engine: html\n", encoding="utf-8")
    _edited("invoice.html", firm, "{% block content %}", "{% block content %}<p>" + OWN + "</p>")
    ctx = context_in(firm, sample_lines())
    assert ctx["pdf"]["engine"] == "html"
    assert OWN in html(ctx, "invoice.html") and "<html" in html(ctx, "invoice.html")  # base.html
    pdf = render_invoice_pdf(ctx, tmp_path / "a4.pdf")
    assert OWN in "\n".join(pdf_text(pdf))
    assert any("Liberation-Sans" in f for f in _fonts(pdf))  # billxl's print.css was applied
    assert round(float(pypdf.PdfReader(pdf).pages[0].mediabox.width)) == 595  # A4
    _edited("print.css", firm, "size: A4;", "size: letter;")  # the firm's own print.css wins
    letter = render_invoice_pdf(context_in(firm, sample_lines()), tmp_path / "letter.pdf")
    assert round(float(pypdf.PdfReader(letter).pages[0].mediabox.width)) == 612


def test_an_overlay_follows_the_firms_edits_and_is_billxls_folder_without_one(tmp_path):
    firm = tmp_path / "firm"
    firm.mkdir()
    (firm / "invoice.typ").write_text("first", encoding="utf-8")
    assert shipped.overlay("templates", None) == shipped.default_dir("templates")
    assert shipped.overlay("templates", shipped.default_dir("templates")) == (
        shipped.default_dir("templates"))
    first = shipped.overlay("templates", firm)
    assert (first / "invoice.typ").read_text(encoding="utf-8") == "first"
    assert (first / "billxl.typ").read_bytes() == shipped.find("templates", "billxl.typ").read_bytes()
    assert shipped.overlay("templates", firm) == first  # made once for the same files
    (firm / "invoice.typ").write_text("second, longer", encoding="utf-8")
    again = shipped.overlay("templates", firm)
    assert again != first and (again / "invoice.typ").read_text(encoding="utf-8") == (
        "second, longer")
    assert shipped.find("templates", "invoice.typ", firm) == firm.resolve() / "invoice.typ"
    assert shipped.find("templates", "statement.typ", firm) == (
        shipped.default_dir("templates") / "statement.typ")


def test_the_packs_report_folder_is_the_firms_over_billxls(tmp_path, monkeypatch):
    firm = tmp_path / "firm"
    _edited("packs/pack.css", firm, ".bx-scope {", "/* the firm's */ .bx-scope {")
    monkeypatch.setenv("BILLXL_TEMPLATES", str(firm))
    folder = render.packs_template_dir()
    assert "/* the firm's */" in render.css()
    assert (folder / "conf.json").is_file() and (folder / "index.html.j2").is_file()
    assert (folder / "report.css").read_bytes() == (
        shipped.find("templates", "packs/report.css").read_bytes())


def test_month_end_notebooks_are_the_firms_where_it_has_them(tmp_path):
    own = tmp_path / "nb"
    own.mkdir()
    (own / "monthly_pack.ipynb").write_text("{}", encoding="utf-8")
    plan = batch.plan_month_end("2026-10", [], notebooks=own)
    used = {p.name: p.notebook for p in plan}
    assert used["monthly_pack"] == own.resolve() / "monthly_pack.ipynb"
    assert used["collections"] == batch.default_notebooks() / "collections.ipynb"
    with pytest.raises(InputError, match=r"no folder .*missing.* for the firm's notebooks"):
        batch.plan_month_end("2026-10", [], notebooks=tmp_path / "missing")


def test_a_templates_folder_that_is_not_there_is_named(tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"no templates folder .*nowhere \(named by --templates\)"):
        template_dir(tmp_path / "nowhere")
    monkeypatch.setenv("BILLXL_TEMPLATES", str(tmp_path / "gone"))
    with pytest.raises(InputError, match=r"gone \(named by BILLXL_TEMPLATES\)"):
        template_dir()


def test_copy_refuses_to_overwrite_unless_forced_and_copies_nothing_then(tmp_path):
    done = run("templates", "copy", "firm", cwd=tmp_path)
    copied = sorted(p.relative_to(tmp_path / "firm").as_posix()
                    for p in (tmp_path / "firm").rglob("*") if p.is_file())
    assert copied == shipped.default_names("templates") and "packs/pack.css" in copied
    assert "--templates firm" in done.stdout
    (tmp_path / "firm" / "invoice.typ").write_text("the firm's", encoding="utf-8")
    (tmp_path / "firm" / "print.css").unlink()
    refused = run("templates", "copy", "firm", cwd=tmp_path, ok=2)
    assert "already has" in refused.stderr and "--force" in refused.stderr
    assert not (tmp_path / "firm" / "print.css").exists()  # nothing was copied
    assert (tmp_path / "firm" / "invoice.typ").read_text(encoding="utf-8") == "the firm's"
    run("templates", "copy", "firm", "--force", cwd=tmp_path)
    assert (tmp_path / "firm" / "invoice.typ").read_bytes() == (
        shipped.find("templates", "invoice.typ").read_bytes())
    run("workbook", "copy", "wb", cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "wb").iterdir()) == [
        "billxl-billing.xlsm", "billxl.xlam"]
    run("notebooks", "copy", "nb", cwd=tmp_path)
    assert {"monthly_pack.ipynb", "collections.ipynb", "reconciliation_review.ipynb"} <= {
        p.name for p in (tmp_path / "nb").iterdir()}


def test_an_installed_billxl_builds_workbooks_only_where_told(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook_build, "CHECKOUT", None)
    with pytest.raises(InputError, match=r"--out FOLDER.*workbook copy"):
        workbook_build.build_workbooks()
    assert not list(tmp_path.iterdir())
