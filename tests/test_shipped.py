"""billxl's own templates, notebooks and workbooks (billxl.shipped), and a firm's folder over
them file by file: the Typst and HTML engines, documents.yaml, the packs' report folder, the
month-end notebooks, the copy commands, and what an installed billxl does without a checkout."""

from __future__ import annotations

import os
import shutil

import pypdf
import pytest

from billxl import shipped
from billxl.documents import render_invoice_pdf
from billxl.documents.pdf import html
from billxl.documents.settings import settings, template_dir
from billxl.errors import InputError
from billxl.excel import workbook_build
from billxl.packs import batch, render
from tests.test_cli import copy_ledger, demo_dir, run  # noqa: F401  (demo_dir: a fixture)
from tests.test_documents import FIRM, pdf_text, sample_lines
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


# ---------------------------------------------------------------- the ledger's folders
def _marked(folder, mark: str):
    """A firm folder whose statement.typ prints ``mark`` under the introduction."""
    _edited("statement.typ", folder, "#par(ctx.texts.intro)\n",
            f"#par(ctx.texts.intro)\n#par[{mark}.]\n")
    return folder


def _statement_text(ledger, path, **kw) -> str:
    from billxl import write_statement

    return "\n".join(pdf_text(write_statement(ledger, "C1", "2026-10-31", path, **kw)))


def test_the_ledgers_templates_folder_comes_after_the_option_and_the_environment(
        empty_ledger, tmp_path, monkeypatch):
    from billxl import firm_settings, save_master_record, set_firm_settings

    monkeypatch.delenv("BILLXL_TEMPLATES", raising=False)
    save_master_record(empty_ledger, "clients", {"client_id": "C1", "name": "Acme Corp",
                                                 "currency": "USD"})
    plain = _statement_text(empty_ledger, tmp_path / "plain.pdf")
    assert "STATEMENT OF ACCOUNT" in plain and "Printed from" not in plain  # billxl's own
    ledgers = _marked(tmp_path / "ledger's", "Printed from the ledger folder")
    set_firm_settings(empty_ledger, templates_dir=ledgers, actor="test")
    assert firm_settings(empty_ledger)["templates_dir"] == str(ledgers.resolve())
    assert "Printed from the ledger folder" in _statement_text(empty_ledger, tmp_path / "l.pdf")

    monkeypatch.setenv("BILLXL_TEMPLATES", str(_marked(tmp_path / "env", "Printed from env")))
    text = _statement_text(empty_ledger, tmp_path / "e.pdf")
    assert "Printed from env" in text and "ledger folder" not in text
    option = _marked(tmp_path / "option", "Printed from the option")
    text = _statement_text(empty_ledger, tmp_path / "o.pdf", templates=option)
    assert "Printed from the option" in text and "Printed from env" not in text


def test_the_order_of_the_firms_folders_for_invoices(tmp_path, monkeypatch):
    monkeypatch.delenv("BILLXL_TEMPLATES", raising=False)
    monkeypatch.chdir(tmp_path)  # no templates/ folder here
    given, env, ledgers = (tmp_path / n for n in ("given", "env", "ledger"))
    for folder in (given, env, ledgers):
        folder.mkdir()
    firm = {"templates_dir": str(ledgers)}
    assert template_dir() == shipped.default_dir("templates").resolve()
    assert template_dir(None, {"templates_dir": None}) == shipped.default_dir("templates").resolve()
    assert template_dir(None, firm) == ledgers.resolve()
    monkeypatch.setenv("BILLXL_TEMPLATES", str(env))
    assert template_dir(None, firm) == env.resolve()
    assert template_dir(given, firm) == given.resolve()
    _edited("invoice.typ", ledgers, "#par(ctx.texts.services)\n",
            f"#par(ctx.texts.services)\n#par[{OWN}.]\n")
    monkeypatch.delenv("BILLXL_TEMPLATES")
    ctx = context_in(None, sample_lines(), firm={**FIRM, **firm})
    assert OWN in "\n".join(pdf_text(render_invoice_pdf(ctx, tmp_path / "own.pdf")))


def test_a_ledger_setting_naming_a_missing_folder_is_an_error_naming_both(empty_ledger,
                                                                            tmp_path, monkeypatch):
    from billxl import firm_settings, save_master_record, set_firm_settings

    monkeypatch.delenv("BILLXL_TEMPLATES", raising=False)
    with pytest.raises(InputError, match=r"no folder .*nowhere for the firm's own templates "
                                         r"\(templates_dir\)"):
        set_firm_settings(empty_ledger, templates_dir=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty holds none of billxl's templates files.*"
                                         r"billxl templates copy"):
        set_firm_settings(empty_ledger, templates_dir=tmp_path / "empty")
    assert firm_settings(empty_ledger)["templates_dir"] is None  # nothing was written
    folder = _marked(tmp_path / "gone", "Printed from a folder since deleted")
    set_firm_settings(empty_ledger, templates_dir=folder)
    save_master_record(empty_ledger, "clients", {"client_id": "C1", "name": "Acme Corp",
                                                 "currency": "USD"})
    shutil.rmtree(folder)
    with pytest.raises(InputError, match=r"no templates folder .*gone \(named by the ledger's "
                                         r"setting templates_dir\).*billxl firm edit "
                                         r"--templates-dir FOLDER"):
        _statement_text(empty_ledger, tmp_path / "s.pdf")
    assert not (tmp_path / "s.pdf").exists()
    set_firm_settings(empty_ledger, templates_dir="")  # cleared: billxl's own again
    assert firm_settings(empty_ledger)["templates_dir"] is None
    assert "STATEMENT OF ACCOUNT" in _statement_text(empty_ledger, tmp_path / "s.pdf")


def test_firm_edit_names_and_clears_the_firms_folders(tmp_path):
    from billxl.store.ledger import Ledger

    Ledger.create(f"sqlite:///{tmp_path / 'billxl.db'}", firm={"name": "A", "law_firm_id": "1"},
                  actor="test").dispose()
    run("templates", "copy", "tpl", cwd=tmp_path)
    run("notebooks", "copy", "nb", cwd=tmp_path)
    done = run("firm", "edit", "--templates-dir", "tpl", "--notebooks-dir", "nb", cwd=tmp_path)
    assert f"the firm's templates in {tmp_path / 'tpl'}" in done.stdout
    assert f"the firm's notebooks in {tmp_path / 'nb'}" in done.stdout
    shown = run("firm", "show", cwd=tmp_path).stdout
    assert f"templates_dir: {tmp_path / 'tpl'}" in shown
    assert f"notebooks_dir: {tmp_path / 'nb'}" in shown
    refused = run("firm", "edit", "--notebooks-dir", "tpl", cwd=tmp_path, ok=2)
    assert "holds none of billxl's notebooks files" in refused.stderr
    run("firm", "edit", "--templates-dir", "", cwd=tmp_path)
    shown = run("firm", "show", cwd=tmp_path).stdout
    assert str(tmp_path / "tpl") not in shown and f"notebooks_dir: {tmp_path / 'nb'}" in shown


def test_month_end_takes_the_ledgers_notebooks_and_templates(empty_ledger, tmp_path,
                                                            monkeypatch):
    from billxl import set_firm_settings

    for name in ("BILLXL_TEMPLATES", "BILLXL_NOTEBOOKS"):
        monkeypatch.delenv(name, raising=False)
    ledgers, env, option = (tmp_path / n for n in ("ledger", "env", "option"))
    for folder in (ledgers, env, option):
        folder.mkdir()
        (folder / "monthly_pack.ipynb").write_bytes(
            shipped.find("notebooks", "monthly_pack.ipynb").read_bytes())
    templates = tmp_path / "tpl"
    _edited("packs/pack.css", templates, ".bx-scope {", "/* the firm's */ .bx-scope {")
    set_firm_settings(empty_ledger, notebooks_dir=ledgers, templates_dir=templates)
    url = empty_ledger.engine.url.render_as_string(hide_password=False)
    planned = []
    monkeypatch.setattr(batch, "run_plan", lambda plan, *a, **kw: planned.append(plan))

    def monthly(**kw) -> str:
        batch.run_month_end("2026-10", ledger_url=url, force=True, scopes=[], **kw)
        return {p.name: p.notebook for p in planned.pop()}["monthly_pack"]

    assert monthly() == ledgers.resolve() / "monthly_pack.ipynb"
    monkeypatch.setenv("BILLXL_NOTEBOOKS", str(env))
    assert monthly() == env.resolve() / "monthly_pack.ipynb"
    assert monthly(notebooks=option) == option.resolve() / "monthly_pack.ipynb"

    # the kernels and the workers (which make the reports) are told the ledger's templates
    monkeypatch.undo()
    plan = batch.plan_month_end("2026-10", [])
    seen = {}
    monkeypatch.setattr(batch, "_run_plan", lambda plan, month_dir, **kw: seen.update(kw["env"]))
    batch.run_plan(plan, tmp_path / "out", month="2026-10", ledger_url=url)
    assert seen["BILLXL_TEMPLATES"] == str(templates.resolve()) and seen["BILLXL_LEDGER"]

    def reported(notebook, parameters, folder, *, title, env):
        assert "/* the firm's */" in render.css()  # what the report in this worker styles with
        return batch.PackResult(notebook=notebook, parameters=parameters, status="finished",
                                duration=0.0)

    monkeypatch.setattr("billxl.packs.runner.run_pack", reported)
    monkeypatch.delenv("BILLXL_TEMPLATES", raising=False)
    done = batch._run_planned("nb.ipynb", {}, str(tmp_path / "p"), "T", dict(seen))
    assert done["status"] == "finished", done
    assert "BILLXL_TEMPLATES" not in os.environ  # the worker's own environment again


def test_invoice_render_names_the_environment_when_its_folder_is_missing(demo_dir, tmp_path,  # noqa: F811
                                                                         monkeypatch):
    """BILLXL_TEMPLATES naming a folder that is not there is told as the environment's, not as
    the --templates option's (the command reads the variable through the one order of
    shipped.firm_dir)."""
    ledger = copy_ledger(demo_dir, tmp_path)
    monkeypatch.setenv("BILLXL_TEMPLATES", str(tmp_path / "nowhere"))
    done = run("--ledger", ledger, "invoice", "render", "000001", "--out", "x", cwd=tmp_path,
               ok=2)
    assert "nowhere (named by BILLXL_TEMPLATES)" in done.stderr + done.stdout
    given = run("--ledger", ledger, "invoice", "render", "000001", "--out", "x",
                "--templates", tmp_path / "elsewhere", cwd=tmp_path, ok=2)
    assert "elsewhere (named by --templates)" in given.stderr + given.stdout
