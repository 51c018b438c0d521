"""A pack's charts: static matplotlib images (PNG), so they survive HTML, PDF and e-mail alike.

One chart per currency, never two currencies on one axis. An aging chart is a horizontal bar
per client (or matter, partner: the table's first named column), the largest first, stacked by
age bucket from current (light) to the oldest (dark red), with the row's total printed at the
end of its bar; the groups after the largest ten are one bar, "Other (n)". Amounts become
floats only as bar lengths; every printed figure comes from the exact minor units.

Figures are made with :class:`matplotlib.figure.Figure` on the Agg canvas, not ``pyplot``:
no global figure list to leak in a kernel that builds forty packs, and no display backend.
"""

from __future__ import annotations

import io

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from billxl import money
from billxl.packs.printed import cell_text, total_rows
from billxl.packs.tables import Column, Table

#: Money columns that are sums of the buckets or beside them, not buckets.
NOT_BUCKETS = frozenset({"total", "credits", "net", "total_minor", "credits_minor", "net_minor"})
#: current (light blue) to the oldest bucket (dark red), for up to seven buckets.
COLOURS = ("#a9c1e2", "#5b84c4", "#f0c36d", "#e8924a", "#d05c3a", "#9e2a2b", "#5c1a1b")
TOP = 10
DPI = 150
WIDTH_IN = 8.0
#: The report's own sans-serif (templates/packs/report.css), DejaVu where it is not installed.
STYLE = {"font.family": "sans-serif",
         "font.sans-serif": ["Liberation Sans", "Arial", "DejaVu Sans"]}
_NAME_COLUMNS = ("client", "matter", "partner", "office", "timekeeper", "name")


def png(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (what a notebook shows and the report embeds)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def alt_text(figure: Figure) -> str:
    """What the chart shows, in words (its title), for the image's ``alt`` text."""
    return " ".join(ax.get_title(loc="left") for ax in figure.axes).strip() or "Chart"


def buckets(table: Table) -> list[Column]:
    """The table's age buckets: its money columns other than totals, credits and net."""
    return [c for c in table.columns if c.kind == "money" and c.name not in NOT_BUCKETS]


def group_column(table: Table) -> Column | None:
    """The column a bar is named by: a client, matter or partner name, else the first text."""
    text = [c for c in table.columns if c.kind == "text" and c.name != "currency"]
    for name in _NAME_COLUMNS:
        for c in text:
            if c.name == name:
                return c
    return text[0] if text else None


def aging_chart(table: Table, *, title: str = "AR aging") -> list[Figure]:
    """The AR aging as one stacked bar chart per currency (see the module's note)."""
    return _stacked_by_currency(table, title, "owed")


def wip_aging_chart(table: Table, *, title: str = "WIP aging") -> list[Figure]:
    """Unbilled work by age, one stacked bar chart per currency."""
    return _stacked_by_currency(table, title, "unbilled")


def _stacked_by_currency(table: Table, title: str, what: str) -> list[Figure]:
    stacks = buckets(table)
    if table.empty or not stacks:
        return []
    rows = table.frame[[not t for t in total_rows(table)]]
    figures = []
    with matplotlib.rc_context(STYLE):
        for currency, part in rows.groupby("currency", sort=True):
            figures.append(_chart(part, str(currency), stacks, group_column(table), title, what))
    return figures


def _bars(part: pd.DataFrame, stacks: list[Column], group: Column | None) -> pd.DataFrame:
    """One row per bar: the largest ``TOP`` groups, then the rest summed as "Other (n)"."""
    names = [c.name for c in stacks]
    label = (part[group.name].fillna("").astype(str) if group is not None
             else pd.Series(["All"] * len(part), index=part.index))
    bars = part[names].astype("int64").groupby(label.to_numpy(), sort=False).sum()
    bars = bars.assign(_sum=bars.sum(axis=1)).sort_values("_sum", ascending=False, kind="stable")
    if len(bars) > TOP + 1:
        rest = bars.iloc[TOP:]
        other = rest.sum().to_frame(f"Other ({len(rest)})").T
        bars = pd.concat([bars.iloc[:TOP], other])
    return bars


def _chart(part: pd.DataFrame, currency: str, stacks: list[Column], group: Column | None,
           title: str, what: str) -> Figure:
    bars = _bars(part, stacks, group)
    height = 1.35 + 0.3 * len(bars)
    figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    ax = figure.add_subplot()
    y = list(range(len(bars)))[::-1]  # the largest at the top
    left = [0.0] * len(bars)
    for i, column in enumerate(stacks):
        lengths = [float(money.from_minor(int(v), currency)) for v in bars[column.name]]
        ax.barh(y, lengths, left=left, height=0.62, label=column.label,
                color=COLOURS[min(i, len(COLOURS) - 1)], edgecolor="white", linewidth=0.6)
        left = [a + b for a, b in zip(left, lengths, strict=True)]
    for yy, end, total in zip(y, left, bars["_sum"], strict=True):
        ax.text(end, yy, "  " + cell_text("money", int(total), currency=currency),
                va="center", ha="left", fontsize=8, color="#1a1a1a")
    ax.set_yticks(y, [_short(str(n)) for n in bars.index], fontsize=8.5)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.tick_params(axis="x", labelsize=8, colors="#3a3a3a")
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(f"{currency} {what}", fontsize=8.5, color="#3a3a3a")
    ax.margins(x=0.14)  # room for the totals printed after the bars
    ax.grid(axis="x", color="#e1e6ef", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#9aa5b8")
    grand = cell_text("money", int(bars["_sum"].sum()), currency=currency)
    ax.set_title(f"{title}, {currency}: {grand} in total", loc="left", fontsize=10.5,
                 fontweight="bold", color="#1f3864")
    figure.legend(loc="outside lower center", ncols=len(stacks), frameon=False, fontsize=8,
                  handlelength=1.2, columnspacing=1.4)
    return figure


def _short(name: str, limit: int = 34) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "\u2026"


__all__ = ["aging_chart", "alt_text", "buckets", "group_column", "png", "wip_aging_chart"]
