"""A pack's tables as HTML, for the notebook and for the report and PDF made from it.

Values print as :mod:`billxl.packs.printed` says. Each money cell carries its exact value
(``data-minor``, ``data-currency``), each hours cell its ``data-milli`` and each ratio, days or
count cell its ``data-value``, so a test ties the HTML out to the ledger without reading the
printed text. Numbers are right-aligned; total rows (``_total``) are ``<tr class="bx-total">``
(bold). An empty table is a sentence ("No write-offs this month."), and a table's note is
printed under it. The styles are ``templates/packs/pack.css``, the file the report's template
inlines too; :func:`show` puts them beside every table it displays in a notebook.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any

from billxl import money
from billxl.documents.settings import template_dir
from billxl.packs.printed import (
    NUMERIC,
    cell_text,
    column_places,
    empty_sentence,
    is_missing,
    period_line,
    row_kinds,
    running_title,
    scope_line,
    shows_currency,
    total_rows,
)
from billxl.packs.tables import Pack, Table


def packs_template_dir() -> Path:
    """``templates/packs/`` (the report template and the pack styles): in the firm's templates
    folder (:func:`billxl.documents.settings.template_dir`) when it has one, else billxl's own."""
    own = template_dir() / "packs"
    if own.is_dir():
        return own
    shipped = Path(__file__).resolve().parents[3] / "templates" / "packs"
    return shipped if shipped.is_dir() else own


@functools.cache
def _css(folder: Path) -> str:
    return (folder / "pack.css").read_text(encoding="utf-8")


def css() -> str:
    """The pack styles (``templates/packs/pack.css``)."""
    return _css(packs_template_dir())


def _attrs(values: dict[str, Any]) -> str:
    return "".join(f' {k}="{html.escape(str(v), quote=True)}"' for k, v in values.items()
                   if v is not None)


def _cell(kind: str, value: Any, currency: Any, symbol: bool, places: int | None,
          column: str) -> str:
    data: dict[str, Any] = {"data-col": column}
    missing = is_missing(value)
    if kind in NUMERIC:
        data["data-kind"] = kind
        classes = ["bx-num"]
        if not missing:
            if kind == "money":
                data["data-minor"] = int(value)
                data["data-currency"] = currency
                if int(value) < 0:
                    classes.append("bx-neg")
            elif kind == "hours":
                data["data-milli"] = int(value)
            elif kind in ("ratio", "days"):
                data["data-value"] = money.D(value)
            else:
                data["data-value"] = int(value)
        else:
            classes.append("bx-none")
        data = {"class": " ".join(classes), **data}
    elif kind == "date":
        data = {"class": "bx-date", **data}
    text = cell_text(kind, value, currency=None if is_missing(currency) else currency,
                     symbol=symbol, places=places)
    return f"<td{_attrs(data)}>{html.escape(text)}</td>"


def table_html(table: Table, *, title: bool = False) -> str:
    """The table as semantic HTML (``thead``/``tbody``), its note under it.

    ``title``: print the table's title as an ``h2`` above it (the notebooks put a markdown
    heading there instead).
    """
    parts = [f'<section class="bx-pack-table" id="bx-{html.escape(table.key)}"'
             f' data-table="{html.escape(table.key)}">']
    if title:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
    if table.empty:
        parts.append(f'<p class="bx-empty">{html.escape(empty_sentence(table))}</p>')
    else:
        parts.append(_table_body(table))
    if table.note:
        parts.append(f'<p class="bx-note">{html.escape(table.note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _table_body(table: Table) -> str:
    frame = table.frame
    symbol = not shows_currency(table)
    currencies = frame["currency"].tolist() if "currency" in frame else [None] * len(frame)
    head = "".join(
        f'<th scope="col"{_attrs({"class": "bx-num" if c.kind in (*NUMERIC, "by_row") else None})}>'
        f"{html.escape(c.label)}</th>" for c in table.columns)
    columns = [(c, row_kinds(table, c), frame[c.name].tolist(), column_places(table, c))
               for c in table.columns]
    rows = []
    for i, total in enumerate(total_rows(table)):
        cells = "".join(_cell(kinds[i], values[i], currencies[i], symbol, places[i], c.name)
                        for c, kinds, values, places in columns)
        rows.append(f'<tr class="bx-total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
    return (f'<table class="bx-table" data-table="{html.escape(table.key)}">\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody>\n</table>")


def cover_html(pack: Pack) -> str:
    """The pack's first lines: whose pack it is, the month, the date balances are on."""
    kind, who = scope_line(pack)
    return (f'<header class="bx-cover">'
            f'<p class="bx-running">{html.escape(running_title(pack))}</p>'
            f'<p class="bx-firm">{html.escape(pack.firm)}</p>'
            f'<p class="bx-scope"><span class="bx-scope-kind">{html.escape(kind)}</span> '
            f'<span class="bx-scope-name">{html.escape(who)}</span></p>'
            f'<p class="bx-period">{html.escape(period_line(pack))}</p></header>')


def pack_html(pack: Pack) -> str:
    """The whole pack: cover, then every table under its title."""
    return "\n".join([cover_html(pack), *(table_html(t, title=True)
                                          for t in pack.tables.values())])


def _style() -> str:
    return f"<style>{css()}</style>"


def show(item: Any) -> None:
    """Display a table, a pack, a chart (a matplotlib figure) or a list of them in a notebook.

    A pack shows its cover and every table; its cover's output carries the pack's title in
    its metadata (``billxl``), which the report reads for the HTML title.
    """
    from IPython.display import HTML, Image, display

    if isinstance(item, list | tuple):
        for part in item:
            show(part)
        return
    if isinstance(item, Table):
        display(HTML(_style() + table_html(item)))
    elif isinstance(item, Pack):
        display(HTML(_style() + pack_html(item)), metadata=_pack_metadata(item))
    elif hasattr(item, "savefig"):
        from billxl.packs.charts import alt_text, png

        display(Image(data=png(item), format="png"),
                metadata={"image/png": {"alt": alt_text(item)}})
    else:
        raise TypeError(f"render.show cannot show a {type(item).__name__}")


def show_cover(pack: Pack) -> None:
    """Display the pack's cover (:func:`cover_html`) with the pack's title in its metadata."""
    from IPython.display import HTML, display

    display(HTML(_style() + cover_html(pack)), metadata=_pack_metadata(pack))


def _pack_metadata(pack: Pack) -> dict:
    return {"billxl": {"title": running_title(pack), "kind": pack.kind, "scope": pack.scope,
                       "scope_id": pack.scope_id, "month": pack.month}}


__all__ = ["cover_html", "css", "pack_html", "packs_template_dir", "show", "show_cover",
           "table_html"]
