"""billxl's worksheet functions: the ledger's figures in a secretary's own formulas.

Each function is an xlwings UDF (``@xw.func(category="billxl")``, help for every argument
through ``@xw.arg(doc=...)``) answering from the read-only :class:`billxl.LedgerView`. Every
argument may be one cell or a range; the result has the range's shape (a 2-D range gives a
2-D result). A bad argument gives a short text in its own cell (``#BILLXL! no matter
C0001-9999``) and never stops the other cells. Money comes back as a number in major units
(what Excel shows), exact to the cent: the double nearest the ledger's integer minor units.

:data:`FUNCTIONS` lists the functions; the workbook build generates the VBA wrapper module and
the argument help from it (``f.arg_docs``: xlwings' decorators are no-ops off Windows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw

__all__ = ["FUNCTIONS", "CATEGORY", "BILLXL_RATE", "BILLXL_WIP", "BILLXL_BALANCE",
           "BILLXL_CREDIT", "BILLXL_TRUST", "BILLXL_AGING", "BILLXL_CHECK", "BILLXL_UTBMS"]

#: The category the functions are listed under in Excel's Insert Function dialog.
CATEGORY = "billxl"
#: The worksheet functions, in the order Excel lists them.
FUNCTIONS: list[Callable[..., Any]] = []

_AS_OF = ("The day of the figure: a date, a date serial or YYYY-MM-DD text; blank: the "
          "ledger as it stands today.")
_CURRENCY = ("The currency to show (USD, EUR ...). Needed only where the figure is in more "
             "than one currency; blank: the only one.")


def _udf(**docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@xw.func(category=CATEGORY)`` with ``@xw.arg(name, ndim=2, doc=...)`` for every
    argument (ranges always arrive as lists of lists, so a column stays a column), the help
    also kept as ``f.arg_docs`` for the build, and the function added to :data:`FUNCTIONS`.
    ``caller`` is xlwings' reserved argument (the calling cell), hidden from Excel."""
    def register(f: Callable[..., Any]) -> Callable[..., Any]:
        names = [n for n in f.__code__.co_varnames[:f.__code__.co_argcount] if n != "caller"]
        if list(docs) != names:
            raise TypeError(f"{f.__name__}: help for {names}, in order, not {list(docs)}")
        for name, doc in reversed(docs.items()):
            f = xw.arg(name, ndim=2, doc=doc)(f)
        f = xw.func(category=CATEGORY)(f)
        f.arg_docs = dict(docs)  # type: ignore[attr-defined]
        FUNCTIONS.append(f)
        return f
    return register


@_udf(timekeeper="The timekeeper's ID (TK001).",
      matter="The matter number (C0001-0001).",
      date="The day the work was done; blank: today.",
      kind="Which rate: billing (agreed for the matter or client, else standard; the "
           "default), standard or approved.")
def BILLXL_RATE(timekeeper, matter, date=None, kind=None, caller=None):
    """A timekeeper's hourly rate on a matter on a day, in the matter's currency."""
    raise NotImplementedError


@_udf(matter_or_client="A matter number, a client ID or a billing partner's ID.",
      as_of=_AS_OF,
      measure="billing (the default: at the rates billed), standard (at standard rates), "
              "recorded (as recorded) or hours.",
      currency=_CURRENCY)
def BILLXL_WIP(matter_or_client, as_of=None, measure=None, currency=None, caller=None):
    """Billable work in progress (unbilled time and expenses) of a matter, client or partner."""
    raise NotImplementedError


@_udf(invoice_or_client="An invoice number, or a client ID (the balance of all its invoices).",
      as_of=_AS_OF,
      currency=_CURRENCY)
def BILLXL_BALANCE(invoice_or_client, as_of=None, currency=None, caller=None):
    """What is still owed on an invoice, or by a client on all its invoices."""
    raise NotImplementedError


@_udf(client="A client ID.",
      as_of=_AS_OF,
      currency=_CURRENCY)
def BILLXL_CREDIT(client, as_of=None, currency=None, caller=None):
    """A client's credit on account: money received and not yet applied to an invoice."""
    raise NotImplementedError


@_udf(matter_or_client="A matter number, or a client ID (all its matters).",
      as_of=_AS_OF,
      currency=_CURRENCY)
def BILLXL_TRUST(matter_or_client, as_of=None, currency=None, caller=None):
    """Money held in trust for a matter or a client."""
    raise NotImplementedError


@_udf(client="A client ID, or a range of them (one row each).",
      as_of=_AS_OF,
      currency=_CURRENCY)
def BILLXL_AGING(client, as_of=None, currency=None, caller=None):
    """What a client owes by age since the due date: a header row, then one row per client."""
    raise NotImplementedError


@_udf(entries_range="Time entries with a header row of billxl's column names (entry_id, date, "
                    "timekeeper_id, matter_id, hours, narrative; rate, amount, task_code ... "
                    "if there).",
      guidelines="A guideline set's name (looked up in the firm's guideline folder) or a "
                 "guideline file; blank: each client's own guidelines.")
def BILLXL_CHECK(entries_range, guidelines=None, caller=None):
    """The billing rules over a range of time entries: a header row, then one row per entry."""
    raise NotImplementedError


@_udf(code="A UTBMS task, activity or expense code (L110, A101, E101).")
def BILLXL_UTBMS(code):
    """The name of a UTBMS task, activity or expense code."""
    raise NotImplementedError
