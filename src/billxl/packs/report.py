"""A pack notebook as a report: HTML without code (nbconvert), PDF of it (WeasyPrint).

The HTML is made with billxl's nbconvert template, ``templates/packs/`` (found as the invoice
templates are, :func:`billxl.packs.render.packs_template_dir`): the outputs only — no code, no
prompts, no warnings printed on stderr, no scripts — with the pack styles inlined, so that the
file stands alone (e-mail it, open it anywhere) and WeasyPrint fetches nothing. The PDF is that
HTML laid out by WeasyPrint with ``templates/packs/report.css``: A4 landscape, the pack's title
and whose it is in every page's footer with "Page x of y", table headers repeated on each page,
no row split across pages.

Files are written atomically and given the mode a new file gets under the umask (the
temporary file they are written to is private), never world-writable.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from billxl.atomic import atomic_path
from billxl.documents.settings import css_string
from billxl.packs.tables import Pack

TEMPLATE = "packs"  # the folder name under templates/, nbconvert's template name


def _write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def pack_title(notebook: Any) -> str | None:
    """The title the pack's cover cell recorded (:func:`billxl.packs.render.show_cover`)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            found = (output.get("metadata") or {}).get("billxl")
            if isinstance(found, dict) and found.get("title"):
                return str(found["title"])
    return None


@functools.cache
def _exporter(folder: Path):
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(folder.parent)],
                        exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


def notebook_html(ipynb_path: str | os.PathLike, html_path: str | os.PathLike, *,
                  title: str | None = None) -> Path:
    """The executed notebook as an HTML report without code (see the module's note).

    ``title``: the page's title and footer; by default the pack's own (its cover cell's), else
    the notebook's name.
    """
    import nbformat

    from billxl.packs.render import css, packs_template_dir

    folder = packs_template_dir()
    notebook = nbformat.read(str(ipynb_path), as_version=4)
    title = title or pack_title(notebook) or Path(ipynb_path).stem.replace("_", " ")
    resources = {"metadata": {"name": title},
                 "billxl": {"title": title, "footer": css_string(title), "pack_css": css(),
                            "report_css": (folder / "report.css").read_text(encoding="utf-8")}}
    body, _ = _exporter(folder).from_notebook_node(notebook, resources=resources)
    return _write_text(html_path, body)


def html_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike) -> Path:
    """The report's HTML as a PDF (WeasyPrint; the fonts set up once per process)."""
    import weasyprint

    from billxl.documents.pdf import font_configuration

    document = weasyprint.HTML(filename=str(html_path))
    with atomic_path(pdf_path) as tmp:
        document.write_pdf(tmp, font_config=font_configuration())
    return Path(pdf_path)


def sidecar(pack: Pack) -> dict:
    """What a run records beside the pack: the digest of its inputs, whose pack, its tables."""
    from billxl.packs.source import pack_digest

    return {"digest": pack_digest(pack), "kind": pack.kind, "scope": pack.scope,
            "scope_id": pack.scope_id, "month": pack.month, "tables": list(pack.tables)}


def write_sidecar(pack: Pack, path: str | os.PathLike) -> Path:
    """Write :func:`sidecar` as JSON (the batch reads it to skip packs whose inputs are
    unchanged)."""
    return _write_text(path, json.dumps(sidecar(pack), indent=2) + "\n")


__all__ = ["html_pdf", "notebook_html", "pack_title", "sidecar",
           "write_sidecar"]
