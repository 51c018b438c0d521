"""Frames in the shape the rules read, from a canonical export held in memory.

The demo firm and notebooks hold exports as frames of Python values (hours and money as
Decimal). Files go through :mod:`billxl.intake`, which checks every cell; this is the short
path for frames that are already clean: Decimal hours to thousandths, Decimal money to minor
units, 'date' to ``work_date``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from billxl import money
from billxl.rules.engine import Context

__all__ = ["entries_from_export", "expenses_from_export", "client_currency", "Inputs",
           "inputs_from_demo"]


def _scaled(values: pd.Series, digits: int) -> pd.Series:
    """Exact Decimal (or text, or int) values times 10**digits as Int64, converting each
    distinct value once; blanks stay blank."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    scaled = [int(money.D(u).scaleb(digits).to_integral_value()) for u in uniques]
    out = np.asarray(scaled, dtype=np.int64)[codes] if len(uniques) else np.zeros(len(codes), np.int64)
    return pd.Series(out, index=values.index, dtype="Int64").mask(codes < 0)


def _money(values: pd.Series, currency: pd.Series) -> pd.Series:
    digits = currency.fillna("USD").map(money.minor_digits)
    out = pd.Series(pd.NA, index=values.index, dtype="Int64")
    for d in digits.unique():
        rows = digits == d
        out[rows] = _scaled(values[rows], int(d))
    return out


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().replace("", pd.NA)


def _common(export: pd.DataFrame, currency: str | pd.Series | None) -> dict[str, pd.Series]:
    cur = (currency if isinstance(currency, pd.Series)
           else pd.Series(currency if currency is not None else pd.NA,
                          index=export.index)).astype("string")
    cols = {
        "entry_id": export["entry_id"].astype("string"),
        "timekeeper_id": _text(export["timekeeper_id"]) if "timekeeper_id" in export else
        pd.Series(pd.NA, index=export.index, dtype="string"),
        "matter_id": _text(export["matter_id"]),
        "client_id": _text(export["client_id"]) if "client_id" in export else
        pd.Series(pd.NA, index=export.index, dtype="string"),
        "work_date": pd.to_datetime(export["date"]).astype("datetime64[ns]"),
        "currency": cur,
        "narrative": export["narrative"].astype("string").fillna(""),
    }
    if "billable" in export:
        cols["billable"] = export["billable"].astype("boolean").fillna(True).astype(bool)
    return cols


def entries_from_export(export: pd.DataFrame,
                        currency: str | pd.Series | None = None) -> pd.DataFrame:
    """Time entries (canonical export columns, Decimal hours/rate/amount) as the rules read them.

    ``currency`` is one code for all rows, a Series (e.g. each client's currency), or None to
    leave it to the checks (which take the client's currency from the ledger, else USD).
    """
    cols = _common(export, currency)
    cols["hours_milli"] = _scaled(export["hours"], 3)
    cols["rate_minor"] = _money(export["rate"], cols["currency"]) if "rate" in export else pd.NA
    cols["amount_minor"] = _money(export["amount"], cols["currency"]) if "amount" in export else pd.NA
    for code in ("task_code", "activity_code"):
        cols[code] = _text(export[code]) if code in export else pd.NA
    cols["entered_on"] = (pd.to_datetime(export["entered_on"]).astype("datetime64[ns]")
                          if "entered_on" in export else pd.NaT)
    if "timekeeper_class" in export:
        cols["timekeeper_class"] = _text(export["timekeeper_class"])
    return pd.DataFrame(cols, index=export.index).reset_index(drop=True)


def expenses_from_export(export: pd.DataFrame,
                         currency: str | pd.Series | None = None) -> pd.DataFrame:
    """Expenses (canonical export columns, Decimal quantity/unit cost/amount) as the rules read them."""
    cols = _common(export, currency)
    cols["expense_code"] = _text(export["expense_code"])
    cols["amount_minor"] = _money(export["amount"], cols["currency"])
    if "quantity" in export:
        cols["quantity_milli"] = _scaled(export["quantity"], 3)
    if "unit_cost" in export:
        cols["unit_cost_minor"] = _money(export["unit_cost"], cols["currency"])
    cols["receipt_ref"] = (_text(export["receipt_ref"]) if "receipt_ref" in export
                           else pd.Series(pd.NA, index=export.index, dtype="string"))
    return pd.DataFrame(cols, index=export.index).reset_index(drop=True)




def client_currency(export: pd.DataFrame, clients: pd.DataFrame) -> pd.Series:
    """Each row's currency: its client's (clients frame with client_id, currency), else USD."""
    by_client = clients.drop_duplicates("client_id").set_index("client_id")["currency"]
    found = by_client.reindex(export["client_id"].to_numpy()).to_numpy()
    return pd.Series(found, index=export.index, dtype="string").fillna("USD")


@dataclass(frozen=True)
class Inputs:
    """Everything a check of one month needs: entries, expenses, ledger context, period."""

    entries: pd.DataFrame
    expenses: pd.DataFrame
    context: Context
    period: tuple[pd.Timestamp, pd.Timestamp]


def inputs_from_demo(demo) -> Inputs:
    """The demo firm's month (``billxl.demo.DemoFirm``) in the shapes the rules read."""
    clients = demo.reference["clients"]
    start = pd.Timestamp(f"{demo.month}-01")
    return Inputs(
        entries=entries_from_export(demo.time_export, client_currency(demo.time_export, clients)),
        expenses=expenses_from_export(demo.expense_export,
                                      client_currency(demo.expense_export, clients)),
        context=Context.from_frames(demo.reference),
        period=(start, start + pd.offsets.MonthEnd(0)),
    )
