"""Invoices and statements as PDF, by the engine documents.yaml names (``pdf: engine:``).

``typst`` (the default): the firm's ``.typ`` templates, compiled by Typst
(:mod:`billxl.documents.typeset`). ``html``: the firm's Jinja2 HTML templates, laid out by
WeasyPrint, as billxl did first (about ten times slower; kept for firms whose templates are
HTML, and as the documents benchmark's baseline).

WeasyPrint is a pip package; its text layout comes from Pango, HarfBuzz and fontconfig, which
are Debian packages (``libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0``), and the
templates ask for the Liberation and DejaVu fonts (``fonts-liberation2 fonts-dejavu-core``).
Page numbers ("Page x of y") and table headers repeated on each page are the print CSS's work.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from billxl import shipped
from billxl.atomic import atomic_path
from billxl.documents.settings import environment


@lru_cache(maxsize=1)
def font_configuration():
    """WeasyPrint's font set-up, made once per process (a batch warms it before forking)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()  # one per process: fontconfig's set-up is the slow part


def html(context: dict, template: str) -> str:
    """The document as HTML (what WeasyPrint lays out; handy for previewing a template)."""
    return environment(Path(context["template_dir"])).get_template(template).render(**context)


def write_pdf(context: dict, template: str, path: str | os.PathLike) -> Path:
    import weasyprint  # imported here: loading Pango costs time that XLSX-only runs need not pay

    # print.css and a logo are found beside the firm's templates, else among billxl's own
    base = shipped.overlay("templates", context["template_dir"])
    document = weasyprint.HTML(string=html(context, template), base_url=str(base) + os.sep)
    with atomic_path(path) as tmp:
        document.write_pdf(tmp, font_config=font_configuration())
    return Path(path)


def engine_of(context: dict) -> str:
    return str((context.get("pdf") or {}).get("engine") or "typst")


def _render(context: dict, kind: str, path: str | os.PathLike) -> Path:
    if engine_of(context) == "html":
        return write_pdf(context, f"{kind}.html", path)
    from billxl.documents import typeset

    return typeset.write_pdf(context, kind, path)


def render_invoice_pdf(context: dict, path: str | os.PathLike) -> Path:
    """Write the invoice (or credit note) of :func:`invoice_context` as a PDF, atomically."""
    return _render(context, "invoice", path)


def render_statement_pdf(context: dict, path: str | os.PathLike) -> Path:
    """Write the statement of account of :func:`statement_context` as a PDF, atomically."""
    return _render(context, "statement", path)
