"""A pack's tables as HTML, for the notebook and for the report and PDF made from it.

Values print as :mod:`billxl.packs.printed` says. Each money cell carries its exact value
(``data-minor``, ``data-currency``), each hours cell its ``data-milli`` and each ratio, days or
count cell its ``data-value``, so a test ties the HTML out to the ledger without reading the
printed text. Numbers are right-aligned; total rows (``_total``) are ``<tr class="bx-total">``
(bold). An empty table is a sentence ("No write-offs this month."), and a table's note is
printed under it. A headline table in several currencies is laid out with a column per
currency under each period (:func:`by_currency`), so that every figure is one row. In the
first column, a name that repeats the row above (the headline's
figure over its currencies, a client over its matters) is printed once, on its group's first
row; the XLSX pack keeps every row's name, for filters. The styles are ``templates/packs/pack.css``, the file the report's template
inlines too; :func:`show` puts them beside every table it displays in a notebook.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any

from billxl import money, shipped
from billxl.cells import visible_text
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


def _escape(text: str, quote: bool = True) -> str:
    """Text as HTML: escaped, and without the characters that do not show
    (:data:`billxl.cells.HIDDEN`)."""
    return html.escape(visible_text(text), quote=quote)


def packs_template_dir() -> Path:
    """``templates/packs/`` (the report template and the pack styles): the firm's templates
    folder's (:func:`billxl.documents.settings.template_dir`) over billxl's own, file by file."""
    return shipped.overlay("templates", template_dir()) / "packs"


@functools.cache
def _css(folder: Path) -> str:
    return (folder / "pack.css").read_text(encoding="utf-8")


def css() -> str:
    """The pack styles (``templates/packs/pack.css``)."""
    return _css(packs_template_dir())


def _attrs(values: dict[str, Any]) -> str:
    return "".join(f' {k}="{_escape(str(v), quote=True)}"' for k, v in values.items()
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
    return f"<td{_attrs(data)}>{_escape(text)}</td>"


def table_html(table: Table, *, title: bool = False) -> str:
    """The table as semantic HTML (``thead``/``tbody``), its note under it.

    ``title``: print the table's title as an ``h2`` above it (the notebooks put a markdown
    heading there instead).
    """
    parts = [f'<section class="bx-pack-table" id="bx-{_escape(table.key)}"'
             f' data-table="{_escape(table.key)}">']
    if title:
        parts.append(f"<h2>{_escape(table.title)}</h2>")
    if table.empty:
        parts.append(f'<p class="bx-empty">{_escape(empty_sentence(table))}</p>')
    elif by_currency(table):
        parts.append(_pivot_body(table))
    else:
        parts.append(_table_body(table))
    if table.note:
        parts.append(f'<p class="bx-note">{_escape(table.note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _table_body(table: Table) -> str:
    frame = table.frame
    symbol = not shows_currency(table)
    currencies = frame["currency"].tolist() if "currency" in frame else [None] * len(frame)
    head = "".join(
        f'<th scope="col"{_attrs({"class": "bx-num" if c.kind in (*NUMERIC, "by_row") else None})}>'
        f"{_escape(c.label)}</th>" for c in table.columns)
    columns = [(c, row_kinds(table, c), frame[c.name].tolist(), column_places(table, c))
               for c in table.columns]
    rows = []
    totals = total_rows(table)
    for i, total in enumerate(totals):
        cells = [_cell(kinds[i], values[i], currencies[i], symbol, places[i], c.name)
                 for c, kinds, values, places in columns]
        if _repeats(columns[0], i, totals):  # a group's name only on its first row
            cells[0] = f'<td data-col="{_escape(columns[0][0].name)}" class="bx-repeat"></td>'
        cells = "".join(cells)
        rows.append(f'<tr class="bx-total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
    return (f'<table class="bx-table" data-table="{_escape(table.key)}">\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody>\n</table>")


def by_currency(table: Table) -> list[str]:
    """The currencies a headline table is laid out by, one column each under every period
    (none for other tables): a table of ``by_row`` columns after a figure name and a shown
    ``currency`` column, in more than one currency, without total rows."""
    names = [c.name for c in table.columns]
    if (len(names) < 3 or names[1] != "currency" or table.columns[0].kind != "text"
            or any(c.kind != "by_row" for c in table.columns[2:]) or any(total_rows(table))):
        return []
    currencies = sorted({str(c) for c in table.frame["currency"] if not is_missing(c)})
    return currencies if len(currencies) > 1 else []


def _pivot_body(table: Table) -> str:
    """A headline table with a column per currency under each period: every figure on one
    row; a figure in no currency (hours, utilisation) spans its period's columns."""
    currencies = by_currency(table)
    label, periods = table.columns[0], table.columns[2:]
    frame = table.frame
    group = f' colspan="{len(currencies)}"'
    head = (f'<tr><th scope="col" rowspan="2">{_escape(label.label)}</th>'
            + "".join(f'<th scope="colgroup"{group} class="bx-num bx-group">'
                      f"{_escape(c.label)}</th>" for c in periods) + "</tr>\n<tr>"
            + "".join(f'<th scope="col" class="bx-num{" bx-first" if i == 0 else ""}">{cur}</th>'
                      for _ in periods for i, cur in enumerate(currencies)) + "</tr>")
    figures: dict[str, dict[str, int]] = {}
    for i, (name, cur) in enumerate(zip(frame[label.name], frame["currency"], strict=True)):
        figures.setdefault(str(name), {})["" if is_missing(cur) else str(cur)] = i
    rows = []
    for name, at in figures.items():
        cells = [f'<td data-col="{_escape(label.name)}">{_escape(name)}</td>']
        for column in periods:
            values = frame[column.name]
            if "" in at:  # no currency: one cell across the period's columns
                i = at[""]
                cells.append(_first(_cell(str(frame["_kind"].iat[i]), values.iat[i], None, False,
                                          None, column.name)).replace("<td", f"<td{group}", 1))
                continue
            for n, cur in enumerate(currencies):
                if cur not in at:
                    cell = '<td class="bx-num"></td>'
                else:
                    i = at[cur]
                    cell = _cell(str(frame["_kind"].iat[i]), values.iat[i], cur, False, None,
                                 column.name)
                cells.append(_first(cell) if n == 0 else cell)
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="bx-table bx-pivot" data-table="{_escape(table.key)}">\n'
            f"<thead>{head}</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")


def _first(cell: str) -> str:
    """Mark a cell as the first of its period's columns (a rule on its left)."""
    return cell.replace('class="bx-num', 'class="bx-num bx-first', 1)


def _repeats(first: tuple, i: int, totals: list[bool]) -> bool:
    """Whether row ``i`` of the first column repeats the row above (both not totals): the
    headline's figure over its currencies, billing's client over its matters."""
    column, kinds, values, _ = first
    if i == 0 or column.kind != "text" or totals[i] or totals[i - 1] or is_missing(values[i]):
        return False
    return values[i] == values[i - 1]


def cover_html(pack: Pack) -> str:
    """The pack's first lines: whose pack it is, the month, the date balances are on."""
    kind, who = scope_line(pack)
    return (f'<header class="bx-cover">'
            f'<p class="bx-running">{_escape(running_title(pack))}</p>'
            f'<p class="bx-firm">{_escape(pack.firm)}</p>'
            f'<p class="bx-scope"><span class="bx-scope-kind">{_escape(kind)}</span> '
            f'<span class="bx-scope-name">{_escape(who)}</span></p>'
            f'<p class="bx-period">{_escape(period_line(pack))}</p></header>')


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


__all__ = ["by_currency", "cover_html", "css", "pack_html", "packs_template_dir", "show", "show_cover",
           "table_html"]
