"""Invoices and statements as PDF with Typst: the firm's ``.typ`` templates, compiled in-process.

Typst (the ``typst`` wheel: the compiler, with nothing to install beside it) lays out a
document in a few tens of milliseconds where the HTML path takes half a second, so a month of
invoices renders in seconds (``benchmarks/bench_documents.py`` measures both in one run).

A document's context (:func:`~billxl.documents.invoice_context`,
:func:`~billxl.documents.statement_context`) goes to the template as JSON in
``sys.inputs.context``: an :class:`~billxl.documents.formatting.Amount` becomes ``{minor,
plain, text, zero, negative, currency}``, a date its ISO text, a Decimal its digits. The
template reads it with ``json(bytes(sys.inputs.context))``; text from the data is printed as
written (Typst does not read a string as markup), so a narrative can never change the layout,
less the characters that do not show (:data:`billxl.cells.HIDDEN`: a right-to-left override
would reorder what the reader sees).

One compiler per template and process: fonts are found once, and Typst's own caches make the
second and later documents of a batch cheaper than the first.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from billxl import shipped
from billxl.atomic import atomic_path
from billxl.cells import visible_text
from billxl.documents.formatting import Amount
from billxl.errors import BillxlError

TEMPLATES = {"invoice": "invoice.typ", "statement": "statement.typ"}


def _plain(value: Any) -> Any:
    if isinstance(value, Amount):
        return {"minor": value.minor, "plain": value.plain, "text": value.text,
                "zero": value.is_zero, "negative": value.is_negative,
                "currency": value.currency}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return visible_text(value)  # what the reader sees is what the text holds
    if value is None or isinstance(value, bool | int | float):
        return value
    return visible_text(str(value))


def context_json(context: dict) -> str:
    """The document's context as the JSON its Typst template reads."""
    return json.dumps(_plain(context), ensure_ascii=False, separators=(",", ":"))


_process = {"compiled": False}  # once a document is compiled here, Typst's thread pool runs


def compiled_here() -> bool:
    """True once this process has compiled a document: Typst's threads then run, and a process
    forked from this one would hang in its first compile (see :mod:`billxl.documents.batch`)."""
    return _process["compiled"]


@lru_cache(maxsize=8)
def _compiler(template: str, root: str):
    import typst  # imported here: XLSX-only runs need not load the compiler

    fonts = Path(root) / "fonts"  # a firm's own fonts, beside its templates
    return typst.Compiler(template, root=root,
                          font_paths=[str(fonts)] if fonts.is_dir() else [])


def pdf_bytes(context: dict, template: str) -> bytes:
    """Compile the context with ``template`` (a file name in the context's template folder,
    else billxl's own: the firm's folder overrides billxl's templates file by file)."""
    import typst

    folder = Path(context["template_dir"])
    root = shipped.overlay("templates", folder)  # billxl.typ and the rest beside it
    if not (root / template).is_file():
        shipped.find("templates", template, folder)  # says which file is missing, and where
    compiler = _compiler(str(root / template), str(root))
    _process["compiled"] = True
    try:
        return compiler.compile(format="pdf", sys_inputs={"context": context_json(context)})
    except typst.TypstError as error:
        hints = "; ".join(getattr(error, "hints", None) or [])
        path = shipped.find("templates", template, folder)  # the file the firm edits
        raise BillxlError(f"The template {path} cannot be laid out: "
                          f"{getattr(error, 'message', error)}"
                          + (f" ({hints})" if hints else "")) from None


def write_pdf(context: dict, kind: str, path: str | os.PathLike) -> Path:
    """Write the document (``kind`` "invoice" or "statement") as a PDF, atomically."""
    data = pdf_bytes(context, TEMPLATES[kind])
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)
