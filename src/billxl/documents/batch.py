"""Invoice documents straight from the ledger, one at a time or a month's worth in parallel.

:func:`load_invoice` reads what one document needs; :func:`render_invoices` renders many, in
worker processes when asked (each opens its own connection to the ledger from its URL, loads
the templates and fonts once, and renders its share of the invoices).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from billxl.documents.invoice import invoice_context
from billxl.documents.pdf import render_invoice_pdf
from billxl.documents.settings import environment, pdf_settings, settings, template_dir
from billxl.documents.xlsx import render_invoice_xlsx
from billxl.errors import BillxlError, LedgerError
from billxl.reference import display_name
from billxl.store import documents as store
from billxl.store.ledger import Ledger

FORMATS = ("pdf", "xlsx")
_RENDERERS = {"pdf": render_invoice_pdf, "xlsx": render_invoice_xlsx}


def _rows(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts, missing values as None."""
    return [{k: (None if not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)
                 else v) for k, v in rec.items()} for rec in frame.to_dict("records")]


def load_invoices(ledger: Ledger, invoice_pks: Sequence[int]
                  ) -> list[tuple[dict, pd.DataFrame, dict, dict, dict]]:
    """What the documents of many invoices need, read in a few queries: for each key, in order,
    the invoice, its lines, and the firm, client and matter rows (see :func:`load_invoice`)."""
    pks = [int(pk) for pk in invoice_pks]
    if not pks:
        return []
    with ledger.engine.connect() as conn:
        heads = {row["invoice_pk"]: row for row in _rows(store.document_invoices(ledger, conn, pks))}
        missing = [pk for pk in pks if pk not in heads]
        if missing:
            raise LedgerError(f"There is no invoice with key {missing[0]} in the ledger at "
                              f"{ledger.display_url}.")
        lines = store.document_lines(ledger, conn, pks)
        firm = (_rows(store.firm_rows(ledger, conn)) or [{}])[0]
        clients = {r["client_id"]: r for r in _rows(store.client_rows(
            ledger, conn, sorted({heads[pk]["client_id"] for pk in pks})))}
        matters = {r["matter_id"]: r for r in _rows(store.matter_rows(
            ledger, conn, sorted({heads[pk]["matter_id"] for pk in pks})))}
        taxes: dict[tuple, str | None] = {}
        for pk in pks:
            head = heads[pk]
            jurisdiction = (clients.get(head["client_id"]) or {}).get("tax_jurisdiction")
            key = (jurisdiction, head["invoice_date"])
            if jurisdiction and key not in taxes:
                taxes[key] = store.tax_type_on(conn, jurisdiction, head["invoice_date"])
    # the name the line was billed under, else the timekeeper's display name
    named = display_name(lines.pop("last_name"), lines.pop("first_name"))
    named = lines["timekeeper_name"].where(lines["timekeeper_name"].notna(), named)
    lines["timekeeper_name"] = named.astype(object).where(named.notna(), None)
    by_invoice = {int(pk): part.reset_index(drop=True)
                  for pk, part in lines.groupby("invoice_pk", sort=False)}
    out = []
    for pk in pks:
        head = heads[pk]
        client = dict(clients.get(head["client_id"]) or {})
        found = taxes.get((client.get("tax_jurisdiction"), head["invoice_date"]))
        if found:
            client["tax_type"] = found
        out.append((dict(head), by_invoice.get(pk, lines.iloc[:0]), dict(firm), client,
                    dict(matters.get(head["matter_id"]) or {})))
    return out


def load_invoice(ledger: Ledger, invoice_pk: int) -> tuple[dict, pd.DataFrame, dict, dict, dict]:
    """The invoice, its lines, and the firm, client and matter rows, read from the ledger.

    A credit note's dict also carries the original's ``credits_invoice_number`` and
    ``credits_invoice_date``; the client's dict carries ``tax_type`` (VAT, GST, ...) when the
    ledger's tax rates name one for the client's jurisdiction on the invoice date.
    """
    return load_invoices(ledger, [invoice_pk])[0]


def file_stem(number: str) -> str:
    """An invoice number as a file name on any system ("2026/0001" -> "2026-0001")."""
    stem = re.sub(r'[\\/:*?"<>|\s]+', "-", str(number)).strip(".-")
    return stem or "invoice"


# ------------------------------------------------------------------ one worker's state
_worker: dict[str, Any] = {}

# A batch allocates millions of short-lived layout objects; Python's default (collect the
# youngest generation every 700 allocations) then spends a fifth of the time in the garbage
# collector. A batch raises the threshold for its duration.
_BATCH_GC_THRESHOLD = (50_000, 20, 20)
_READ_CHUNK = 50  # invoices read from the ledger at once by one process


@contextmanager
def _batch_gc():
    before = gc.get_threshold()
    gc.set_threshold(*_BATCH_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _warm_up(formats: Sequence[str], templates: str | None):
    """Load what every document needs once, so that forked workers inherit it, and return the
    way to start the workers (None: the platform's own, fork on Linux).

    For the HTML engine, the templates, WeasyPrint and the fonts are loaded here and inherited.
    Typst's compiler keeps a pool of threads once it has compiled a document, and a process
    forked from one that has compiled hangs in its first compile (the copy has the pool but not
    its threads). So Typst workers are forked (at once, with billxl already imported: on Linux,
    where fork is the platform's own way) only from a process that has compiled nothing; else
    they start from a fresh fork server (billxl imported once there: a second or more before the
    first worker starts), or are spawned where there is neither (Windows).
    """
    folder = template_dir(templates)
    if "pdf" not in formats:
        return None
    if pdf_settings(settings(folder), {})["engine"] == "html":
        from billxl.documents.pdf import font_configuration

        environment(folder).get_template("invoice.html")
        font_configuration()
        return None
    from billxl.documents.typeset import compiled_here

    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and not compiled_here():
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return None  # Windows: workers are spawned afresh anyway
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["billxl.documents.batch"])
    return context


def _init_worker(url: str, templates: str | None) -> None:
    gc.set_threshold(*_BATCH_GC_THRESHOLD)  # this process only renders
    _worker["ledger"] = Ledger.open(url)
    _worker["templates"] = templates


def _render_loaded(loaded: tuple, out_dir: str, formats: Sequence[str]) -> list[str]:
    invoice, lines, firm, client, matter = loaded
    context = invoice_context(invoice, lines, firm=firm, client=client, matter=matter,
                              templates=_worker.get("templates"))
    stem = file_stem(invoice["number"])
    return [str(_RENDERERS[fmt](context, Path(out_dir) / f"{stem}.{fmt}")) for fmt in formats]


def _render_chunk(pks: list[int], out_dir: str, formats: Sequence[str]) -> list[list[str]]:
    return [_render_loaded(loaded, out_dir, formats)
            for loaded in load_invoices(_worker["ledger"], pks)]


def render_invoices(ledger: Ledger, invoice_pks: Iterable[int], out_dir: str | os.PathLike, *,
                    workers: int = 1, formats: Sequence[str] = FORMATS,
                    progress: Callable[[int, int], None] | None = None,
                    templates: str | os.PathLike | None = None) -> list[Path]:
    """Render the invoices' documents into ``out_dir`` (``<number>.pdf``, ``<number>.xlsx``).

    Returns the paths in the order of ``invoice_pks`` (for each invoice, one per format).
    ``workers > 1`` renders in that many processes; ``progress(done, total)`` is called in this
    process as invoices complete. Each file appears atomically.
    """
    pks = [int(pk) for pk in invoice_pks]
    formats = tuple(formats)
    unknown = [f for f in formats if f not in _RENDERERS]
    if unknown:
        raise BillxlError(f"Unknown document format(s) {unknown}; choose from {list(FORMATS)}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = str(templates) if templates else None
    total, done = len(pks), 0
    results: dict[int, list[str]] = {}
    if workers <= 1 or total <= 1:
        _worker.update(ledger=ledger, templates=folder)
        try:
            with _batch_gc():
                for first in range(0, total, _READ_CHUNK):
                    chunk = pks[first:first + _READ_CHUNK]
                    for pk, loaded in zip(chunk, load_invoices(ledger, chunk), strict=True):
                        results[pk] = _render_loaded(loaded, str(out), formats)
                        done += 1
                        if progress:
                            progress(done, total)
        finally:
            _worker.clear()
    else:
        url = ledger.engine.url.render_as_string(hide_password=False)
        # Small chunks keep both workers busy to the end; a chunk of 8, read from the ledger
        # in one go, still costs the pool far less than rendering it.
        size = max(1, min(8, total // (workers * 4)))
        chunks = [pks[i:i + size] for i in range(0, total, size)]
        # The platform's way of starting processes (fork on Linux: workers start at once).
        # A forked worker must not touch this process's pooled connections, so the pool is
        # emptied first; this process reconnects when it next needs the ledger.
        ledger.engine.dispose()
        start = _warm_up(formats, folder)
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                 initargs=(url, folder), mp_context=start) as pool:
            futures = {pool.submit(_render_chunk, chunk, str(out), formats): chunk
                       for chunk in chunks}
            for future in as_completed(futures):
                chunk = futures[future]
                for pk, paths in zip(chunk, future.result(), strict=True):
                    results[pk] = paths
                done += len(chunk)
                if progress:
                    progress(done, total)
    return [Path(p) for pk in pks for p in results[pk]]
