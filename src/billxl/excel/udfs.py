"""billxl's worksheet functions: the ledger's figures in a secretary's own formulas.

Each function is an xlwings UDF (``@xw.func(category="billxl")``, help for every argument
through ``@xw.arg(doc=...)``) answering from the read-only :class:`billxl.LedgerView`:

=====================================================  ==========================================
``BILLXL_RATE(timekeeper, matter, [date], [kind])``    hourly rate, in the matter's currency
``BILLXL_WIP(matter_or_client, [as_of], [measure],``   billable WIP of a matter, client or
``[currency])``                                        billing partner (money, or hours)
``BILLXL_BALANCE(invoice_or_client, [as_of],``         what is owed on an invoice or by a client
``[currency])``
``BILLXL_CREDIT(client, [as_of], [currency])``         cash received and not applied
``BILLXL_TRUST(matter_or_client, [as_of], [currency])``  money held in trust
``BILLXL_AGING(client, [as_of], [currency])``          spills a header row and one row per client
``BILLXL_CHECK(entries_range, [guidelines])``          spills one row of findings per entry
``BILLXL_SCHEDULE(total, start, count, [frequency],``  spills an invoice schedule: a header
``[rounding], [matter], [in_currency])``               naming the currency, then date (a date),
                                                       description, amount and tax per item
``BILLXL_UTBMS(code)``                                 the code's name
=====================================================  ==========================================

**Shapes.** Every argument may be one cell or a range; the result has the range's shape (a
single cell goes with any range, a row with a block as wide, a column with one as tall). A
whole range is one call: its distinct keys are looked up together in the view's indexes.

**Values** are taken as Excel sends them (:mod:`billxl.excel.arguments`): blanks as None (a
blank key gives a blank cell), ids typed as numbers (``1001`` is ``"1001"``), dates as dates,
serial numbers or ``YYYY-MM-DD`` text, hours and money in :func:`BILLXL_CHECK`'s range exactly
on their grid (0.1 + 0.2 hours is 0.3).

**Errors.** A bad argument gives a short text in its own cell, ``#BILLXL! no matter
C0001-9999``, and never stops the other cells; nothing raises into Excel.

**Money** comes back as a number in major units (what Excel shows): the double nearest the
ledger's integer minor units, so exact to the cent. It is in the key's currency; a figure is
never summed across currencies: where a key has amounts in several, the cell asks for the
``currency`` argument.

**Schedules.** :func:`BILLXL_SCHEDULE`'s header row names the currency of its amounts: the
matter's, else the ``in_currency`` argument, else the firm's (its settings in the ledger; with no
ledger to read, the argument is needed). Without a matter its tax header says ``Tax: none (no
matter)`` and each item's tax is 0: tax is the matter's client's, so name the matter to see it.
Either way the dates move off weekends, the firm's public holidays and closure dates by its
weekend rule (:mod:`billxl.billing.closures`), and come back as dates, which xlwings hands
Excel as date values (not serial numbers).

**The ledger** is the one named on the calling workbook's Settings sheet (the cell right of
``Ledger``; a relative SQLite path is taken from the workbook's folder), else
``$BILLXL_LEDGER``, else ``./billxl.db``; each is opened once per process
(:meth:`billxl.LedgerView.open`) and notices the ledger's changes by itself. The functions are
not volatile: Excel recalculates them when their arguments change (Ctrl+Alt+F9 recalculates
all after the ledger has changed).

:data:`FUNCTIONS` lists the functions; the workbook build generates the VBA wrapper module and
the argument help from it (``f.arg_docs``: xlwings' decorators are no-ops off Windows).
"""

from __future__ import annotations

import dataclasses
import gc
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import xlwings as xw

from billxl import (
    AGING_BUCKET_LABELS,
    AGING_BUCKETS,
    BillxlError,
    LedgerView,
    ScheduleTerms,
    load_guidelines,
)
from billxl.billing import schedules
from billxl.cells import norm
from billxl.check import INVALID_VALUE, ROW_UNREADABLE
from billxl.excel import arguments as cellargs
from billxl.excel import layout
from billxl.intake import (
    HOURS_MISSING,
    RULE_OF_PROBLEM,
    VALUE_PROBLEMS,
    Profile,
    RawTable,
    load_profile,
)
from billxl.intake import check_entries as read_entries
from billxl.money import Rounding, currency_codes, minor_digits
from billxl.reconcile import guidelines_for
from billxl.rules import SEVERITIES, check_entries
from billxl.schema import CANONICAL_TIME_COLUMNS
from billxl.store.db import DEFAULT_FILE, ENV_VAR
from billxl.store.view import utbms_names

__all__ = ["FUNCTIONS", "CATEGORY", "CHECK_COLUMNS", "SCHEDULE_COLUMNS", "BILLXL_RATE",
           "BILLXL_WIP", "BILLXL_BALANCE", "BILLXL_CREDIT", "BILLXL_TRUST", "BILLXL_AGING",
           "BILLXL_CHECK", "BILLXL_SCHEDULE", "BILLXL_UTBMS", "ledger_url", "ledger_view",
           "settings_ledger", "book_ledger"]

#: The category the functions are listed under in Excel's Insert Function dialog.
CATEGORY = "billxl"
#: The worksheet functions, in the order Excel lists them.
FUNCTIONS: list[Callable[..., Any]] = []
#: The header row :func:`BILLXL_CHECK` spills above its one row per entry.
CHECK_COLUMNS = ["Entry id", "Severity", "Rules", "Findings", "Message"]
CLEAN = "ok"  # the severity shown for an entry without findings
#: The header row :func:`BILLXL_SCHEDULE` spills above its one row per item.
SCHEDULE_COLUMNS = ["Date", "Description", "Amount", "Tax"]

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


# =================================================================================== the ledger
_RECHECK = 2.0  # seconds a workbook's Settings, and a ledger that would not open, are trusted
_books: dict[str, tuple[float, str | None]] = {}
_failed: dict[tuple, tuple[float, str]] = {}
_opened: set[tuple] = set()  # (Settings URL, $BILLXL_LEDGER) that opened: no file check again
_lock = threading.Lock()


def settings_ledger(cells: Any, folder: Path | None = None) -> str | None:
    """The ledger a Settings sheet names: the cell right of the one that says ``Ledger``
    (the layout's label, or ``ledger_url``), from the sheet's cells. A SQLite path that is
    not absolute is taken from ``folder`` (the workbook's). None when the sheet names none."""
    labels = {norm(layout.setting("ledger_url").label), "ledger_url"}
    table, _rank = cellargs.grid(cells)
    for row in table.tolist():
        for label, value in zip(row, row[1:], strict=False):
            if isinstance(label, str) and norm(label) in labels:
                url = cellargs.ids(np.array([value], dtype=object))[0]
                if url and "://" not in url and folder is not None:
                    path = Path(url).expanduser()
                    url = str(path if path.is_absolute() else folder / path)
                return url
    return None


def book_ledger(caller: Any) -> str | None:
    """Live Excel: the ledger on the Settings sheet of the workbook of ``caller`` (the calling
    cell, as xlwings passes it), or None (a workbook without one uses the add-in's default)."""
    book = caller.sheet.book
    try:
        cells = book.sheets["Settings"].used_range.options(ndim=2).value
    except Exception:  # no Settings sheet: any workbook may call the add-in's functions
        return None
    full = Path(book.fullname)
    return settings_ledger(cells, full.parent if full.parent != Path(".") else None)


def ledger_url(caller: Any = None) -> str | None:
    """The ledger a call answers from: its workbook's Settings sheet (read again after a few
    seconds, so an edited Settings cell is seen), else None (``$BILLXL_LEDGER``, else
    ``./billxl.db``)."""
    if caller is None:
        return None
    key = caller.sheet.book.fullname
    seen = _books.get(key)
    if seen is None or time.monotonic() - seen[0] > _RECHECK:
        seen = _books[key] = (time.monotonic(), book_ledger(caller))
    return seen[1]


def ledger_view(caller: Any = None) -> LedgerView:
    """The process's view of the caller's ledger (opened once; a ledger that would not open is
    not tried again for a few seconds, so a range of cells does not wait on it cell by cell)."""
    url = ledger_url(caller)
    key = (url, os.environ.get(ENV_VAR))
    if key in _opened:
        return LedgerView.open(url)
    failed = _failed.get(key)
    if failed is not None and time.monotonic() - failed[0] < _RECHECK:
        raise BillxlError(failed[1])
    try:
        missing = _missing_file(url)
        if missing:  # opening would leave an empty file behind, wherever Excel runs
            raise BillxlError(f"there is no ledger file {missing}: name the ledger on the "
                              f"Settings sheet or in {ENV_VAR}")
        view = LedgerView.open(url)
        _opened.add(key)
        return view
    except Exception as error:
        reason = str(error) if isinstance(error, BillxlError) else f"the ledger cannot be opened: {error}"
        with _lock:
            _failed[key] = (time.monotonic(), reason)
        raise BillxlError(reason) from None


def _missing_file(url: str | None) -> str | None:
    """The SQLite file a ledger URL names, if it does not exist."""
    raw = url or os.environ.get(ENV_VAR) or DEFAULT_FILE
    if ("://" in raw and not raw.startswith("sqlite:///")) or ":memory:" in raw:
        return None
    path = Path(raw.removeprefix("sqlite:///")).expanduser()
    return None if path.exists() else str(path)


# =================================================================================== errors
def _safely(compute: Callable[..., Any], *values: Any, caller: Any = None, spills: bool = False,
            **options: Any) -> Any:
    """``compute(*values, caller=caller, **options)``, or, if it fails as a whole (no ledger,
    ranges that do not fit), its reason in every cell of the result (one cell for a spill).

    The cyclic garbage collector waits meanwhile: a range makes many small objects, none in a
    cycle, and a full collection would walk every object the process holds (the workbook's
    other ranges too), a tenfold slower call now and then."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return compute(*values, caller=caller, **options)
    except Exception as error:  # a worksheet gets a text, never a traceback
        text = cellargs.error_text(str(error) if isinstance(error, (BillxlError, ValueError))
                                   else f"{type(error).__name__}: {error}")
        if spills:
            return [[text]]
        try:
            _grids, shape, rank = cellargs.fit(*values)
        except ValueError:
            return text
        return cellargs.shaped([text] * (shape[0] * shape[1]), shape, rank)
    finally:
        if paused:
            gc.enable()


def _groups(options: list[list], grids: list[np.ndarray], shape: tuple[int, int]
            ) -> list[tuple[tuple, range | list[int]]]:
    """Cell positions by their combination of option values (the options converted from
    ``grids``): one group, without a look at each cell, when every option is a single cell."""
    n = shape[0] * shape[1]
    if all(g.size == 1 for g in grids):
        return [(tuple(o[0] for o in options), range(n))]
    out: dict[tuple, list[int]] = {}
    spread = [cellargs.spread(o, g, shape) for o, g in zip(options, grids, strict=True)]
    for i, combination in enumerate(zip(*spread, strict=True)):
        out.setdefault(combination, []).append(i)
    return list(out.items())


# =================================================================================== money figures
_UNKNOWN = {"balance": "no invoice or client {key}", "credit": "no client {key}",
            "trust": "no matter or client {key}",
            "wip": "no matter, client or billing partner {key}"}
_MISSING = object()


def _figures(keys, as_of, currency, measure, *, caller, figure: str):
    grids, shape, rank = cellargs.fit(keys, as_of, currency, measure)
    names = cellargs.spread(cellargs.ids(grids[0]), grids[0], shape)
    view = ledger_view(caller)
    options = [cellargs.days(grids[1]), cellargs.words(grids[2], upper=True),
               cellargs.words(grids[3])]
    out: list = [None] * len(names)
    for (day, cur, how), rows in _groups(options, grids[1:], shape):
        try:
            if isinstance(day, str):
                raise BillxlError(day)
            index = view.amounts(figure, day, how or "billing")
        except BillxlError as error:
            for i in rows:
                out[i] = cellargs.error_text(str(error))
            continue
        shown = _shown(index, cur, how == "hours")
        unknown = _UNKNOWN[figure] + ("" if day is None else f" on {day:%Y-%m-%d}")
        for i in rows:
            key = names[i]
            if key is not None:
                value = shown.get(key, _MISSING)
                out[i] = cellargs.error_text(unknown.format(key=key)) if value is _MISSING else value
    return cellargs.shaped(out, shape, rank)


_shown_cache: dict[tuple, tuple[dict, dict]] = {}


def _shown(index: dict[str, dict[str, int]], currency: str | None, hours: bool
           ) -> dict[str, float | str]:
    """Every key of a view index as Excel shows its figure: the number in major units, or why
    there is none (amounts in several currencies and none named). Made once per index."""
    key = (id(index), currency, hours)
    held = _shown_cache.get(key)
    if held is not None and held[0] is index:
        return held[1]
    shown: dict[str, float | str] = {}
    keys, numbers, scales = [], [], []
    for k, found in index.items():
        if hours:  # hours are hours in any currency
            amount, digits = (found.get(currency, 0) if currency else sum(found.values())), 3
        elif currency:
            amount, digits = found.get(currency, 0), minor_digits(currency)
        elif len(found) <= 1:
            cur, amount = next(iter(found.items()), ("", 0))
            digits = minor_digits(cur) if cur else 2
        else:
            shown[k] = cellargs.error_text(f"{k} has amounts in {', '.join(sorted(found))}: "
                                           "name the currency")
            continue
        keys.append(k)
        numbers.append(amount)
        scales.append(digits)
    shown.update(zip(keys, cellargs.major_units(np.array(numbers, dtype=np.int64),
                                                np.array(scales)).tolist(), strict=True))
    with _lock:
        if len(_shown_cache) > 64:
            _shown_cache.clear()
        _shown_cache[key] = (index, shown)
    return shown


# =================================================================================== rates
_RATE_KINDS = ("billing", "standard", "approved")
_POINT_CALLS = 32  # up to this many distinct questions, the view's point look-ups are quicker


def _rates(timekeeper, matter, day, kind, *, caller):
    grids, shape, rank = cellargs.fit(timekeeper, matter, day, kind)
    tks, matters, when, kinds = (cellargs.spread(convert(g), g, shape) for convert, g in zip(
        (cellargs.ids, cellargs.ids, cellargs.days, cellargs.words), grids, strict=True))
    out: list = [None] * len(tks)
    view = ledger_view(caller)
    people, known, currency_of = view.ids("timekeeper"), view.ids("matter"), view.matter_currencies()
    today = date.today()
    asked: dict[tuple, list[int]] = {}
    for i, (tk, mt, dy, kd) in enumerate(zip(tks, matters, when, kinds, strict=True)):
        if tk is None and mt is None:
            continue
        kd = kd or "billing"
        reason = ("the timekeeper is missing" if tk is None else
                  f"no timekeeper {tk}" if tk not in people else
                  "the matter is missing" if mt is None else
                  f"no matter {mt}" if mt not in known else
                  dy if isinstance(dy, str) else
                  f"{kd!r} is not a rate: billing, standard or approved"
                  if kd not in _RATE_KINDS else None)
        if reason:
            out[i] = cellargs.error_text(reason)
        else:
            asked.setdefault((tk, mt, dy or today, kd), []).append(i)
    questions = list(asked)
    if len(questions) <= _POINT_CALLS:
        found = [view.rate(tk, mt, dy, kd) for tk, mt, dy, kd in questions]
    else:
        found = [None] * len(questions)
        for kd in _RATE_KINDS:
            mine = [j for j, q in enumerate(questions) if q[3] == kd]
            if mine:
                rates = view.rates_of([questions[j][0] for j in mine],
                                      [questions[j][1] for j in mine],
                                      [questions[j][2] for j in mine], kd).tolist()
                for j, r in zip(mine, rates, strict=True):
                    found[j] = None if r < 0 else r
    for (tk, mt, dy, kd), rate in zip(questions, found, strict=True):
        value = (cellargs.error_text(f"no {kd} rate for {tk} on {mt} on {dy:%Y-%m-%d}")
                 if rate is None else
                 float(cellargs.major_units(rate, minor_digits(currency_of[mt]))))
        for i in asked[(tk, mt, dy, kd)]:
            out[i] = value
    return cellargs.shaped(out, shape, rank)


# =================================================================================== aging
def _aging(clients, as_of, currency, *, caller):
    grids, shape, _rank = cellargs.fit(clients, as_of, currency)
    names = cellargs.spread(cellargs.ids(grids[0]), grids[0], shape)
    header = ["Client", "Currency", *[AGING_BUCKET_LABELS[b] for b in AGING_BUCKETS], "Total"]
    blank = [None] * len(header)
    rows: list[list] = [blank] * len(names)
    view = ledger_view(caller)
    options = [cellargs.days(grids[1]), cellargs.words(grids[2], upper=True)]
    for (day, cur), where in _groups(options, grids[1:], shape):
        try:
            if isinstance(day, str):
                raise BillxlError(day)
            index = view.agings(day)
        except BillxlError as error:
            for i in where:
                rows[i] = [cellargs.error_text(str(error)), *blank[1:]]
            continue
        for i in where:
            rows[i] = _aging_row(names[i], index, cur, view, blank)
    return [header, *rows]


def _aging_row(client: str | None, index: dict, currency: str | None, view: LedgerView,
               blank: list) -> list:
    if client is None:
        return blank
    by_currency = index.get(client)
    if by_currency is None:
        return [cellargs.error_text(f"no client {client}"), *blank[1:]]
    if currency is None and len(by_currency) > 1:
        return [cellargs.error_text(f"{client} owes in {', '.join(sorted(by_currency))}: name "
                                    "the currency"), *blank[1:]]
    cur = currency or next(iter(by_currency), None) or view.reference.client(client)["currency"]
    buckets = by_currency.get(cur) or dict.fromkeys(AGING_BUCKETS, 0)
    minor = np.array([*(buckets[b] for b in AGING_BUCKETS), sum(buckets.values())], dtype=np.int64)
    return [client, cur, *cellargs.major_units(minor, minor_digits(cur)).tolist()]


# =================================================================================== check
def _check(entries_range, guidelines, *, caller):
    table, _rank = cellargs.grid(entries_range)
    if table.shape[0] < 1 or all(v is None for v in table[0]):
        raise BillxlError("the range's first row must name the columns (entry_id, date, "
                          "timekeeper_id, matter_id, hours, narrative ...)")
    view = ledger_view(caller)
    reference = view.reference
    which = _guidelines(view, guidelines)
    body = table[1:].copy()
    body[np.equal(body, None)] = ""  # blank cells as the intake readers give them
    n = len(body)
    raw = RawTable(file="the range", sheet=None, columns=tuple(_field_of(h) for h in table[0]),
                   cells=tuple(np.ascontiguousarray(body[:, j]) for j in range(body.shape[1])),
                   rows=np.arange(2, n + 2, dtype=np.int64), header_row=1, sha256="",
                   from_text=False)
    frame, problems = read_entries(raw, _profile(), reference, "time")
    whole = [p for p in problems if p.row is None or p.row <= raw.header_row]
    if whole:
        raise BillxlError(f"{whole[0].reason}; the range's first row must name the columns")
    covered = [p for p in problems if p.reason in RULE_OF_PROBLEM]
    unreadable = [p for p in problems if p.reason not in RULE_OF_PROBLEM
                  and p.reason not in VALUE_PROBLEMS]
    skip = {p.row for p in unreadable}
    missing_hours = {p.row for p in covered if p.reason == HOURS_MISSING}
    readable = frame[~frame["row"].isin(skip)]
    if missing_hours:  # missing, not zero: NEGATIVE_HOURS says so
        readable = readable.assign(hours_milli=readable["hours_milli"].astype("Int64").mask(
            readable["row"].isin(missing_hours)))
    result = check_entries(readable, context=reference, **which)
    row_of = dict(zip(readable["entry_id"].tolist(), readable["row"].tolist(), strict=True))
    ran = set(result.rules_run)
    own = [(p, ROW_UNREADABLE) for p in unreadable]
    own += [(p, INVALID_VALUE) for p in problems if p.reason in VALUE_PROBLEMS
            or (p.reason in RULE_OF_PROBLEM and RULE_OF_PROBLEM[p.reason] not in ran)]
    findings = result.findings
    rows = [*findings["entry_id"].map(row_of).tolist(), *(p.row for p, _r in own)]
    rules = [*findings["rule"].tolist(), *(r for _p, r in own)]
    severities = [*findings["severity"].tolist(), *("error" for _ in own)]
    messages = [*findings["message"].tolist(), *(_problem_text(p) for p, _r in own)]
    entry_of = dict(zip(frame["row"].tolist(), frame["entry_id"].tolist(), strict=True))
    return [CHECK_COLUMNS, *_entry_rows(rows, rules, severities, messages, entry_of, n)]


_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # 0 is the worst


def _entry_rows(rows: list[int], rules: list[str], severities: list[str], messages: list[str],
                entry_of: dict[int, str], n: int) -> list[list]:
    """One row per entry of the range: id, worst severity, the rules, how many findings, the
    message of the first finding of the worst severity (a blank row for a blank row)."""
    worst: dict[int, tuple[int, str, str]] = {}
    fired: dict[int, dict[str, None]] = {}
    for row, rule, severity, message in zip(rows, rules, severities, messages, strict=True):
        rank = _RANK.get(severity, len(_RANK))
        if row not in worst or rank < worst[row][0]:
            worst[row] = (rank, severity, message)
        fired.setdefault(row, {})[rule] = None
    counts = dict(zip(*np.unique(np.asarray(rows, dtype=np.int64), return_counts=True),
                      strict=True)) if rows else {}
    out: list[list] = []
    for row in range(2, n + 2):
        entry = entry_of.get(row)
        if entry is None:
            out.append([None] * len(CHECK_COLUMNS))
        elif row in worst:
            _rank, severity, message = worst[row]
            out.append([entry, severity, ", ".join(fired[row]), int(counts[row]),
                        cellargs.error_text(message)[len(cellargs.PREFIX):]])
        else:
            out.append([entry, CLEAN, "", 0, ""])
    return out


def _problem_text(problem) -> str:
    where = f"{problem.column}: " if problem.column else ""
    value = "" if problem.value in (None, "") else f"{problem.value!r} "
    return f"{where}{value}{problem.reason}"


@lru_cache(maxsize=1)
def _fields() -> dict[str, str]:
    """A header as the billing workbook's Time entries table has it, or a canonical column
    name, -> the canonical column name (case and repeated blanks ignored)."""
    out = {norm(c.header): c.field for c in layout.table("TimeEntries").columns}
    out.update({norm(name): name for name in CANONICAL_TIME_COLUMNS})
    out.update({norm(name): name for name in ("entered_on", "billable")})
    return out


def _field_of(header: Any) -> str:
    text = cellargs.ids(np.array([header], dtype=object))[0] or ""
    return _fields().get(norm(text), text)


@lru_cache(maxsize=1)
def _profile() -> Profile:
    """The canonical profile with every column optional but the ones every entry needs."""
    base = load_profile("canonical")
    spec = base.spec("time")
    needed = {*spec.required_fields, "entry_id"}
    data = base.model_dump()
    data["time"]["optional"] = [f for f in spec.mapped() if f not in needed]
    return Profile.model_validate(data)


_guideline_cache: dict[tuple, tuple[Any, Any]] = {}


def _guidelines(view: LedgerView, value: Any) -> dict[str, Any]:
    """What to check against: the guideline set or file named, else each client's own set
    (from the firm's guideline folder, as ``billxl reconcile`` does); loaded once per change."""
    values, _rank = cellargs.grid(value)
    if values.size != 1:
        raise BillxlError("guidelines: name one guideline set or file, not a range")
    name = cellargs.ids(values)[0]
    reference = view.reference
    folder = (reference.firm or {}).get("guidelines_dir")
    if name is None:
        stamp = _folder_stamp(folder)
        key = ("clients", folder, stamp)
        held = _guideline_cache.get(key)
        if held is None or held[0] is not reference:
            held = _guideline_cache[key] = (reference, guidelines_for(reference.clients, None,
                                                                      setting=folder))
        return {"guidelines_by_client": held[1]}
    path = Path(name).expanduser()
    if folder and not path.is_absolute() and not path.is_file():
        path = Path(folder) / (name if path.suffix in (".yaml", ".yml") else f"{name}.yaml")
    if not path.is_file():
        raise BillxlError(f"no guideline set or file {name}"
                          + (f" in {folder}" if folder else " (the firm names no guideline folder)"))
    key = ("file", str(path.resolve()), path.stat().st_mtime_ns)
    held = _guideline_cache.get(key)
    if held is None:
        held = _guideline_cache[key] = (None, load_guidelines(path))
    return {"guidelines": held[1]}


def _folder_stamp(folder: str | None) -> tuple:
    if not folder or not os.path.isdir(folder):
        return ()
    return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder)
                        if e.name.endswith((".yaml", ".yml"))))


# =================================================================================== functions
@_udf(timekeeper="The timekeeper's ID (TK001).",
      matter="The matter number (C0001-0001).",
      on_date="The day the work was done; blank: today.",
      kind="Which rate: billing (agreed for the matter or client, else standard; the "
           "default), standard or approved.")
def BILLXL_RATE(timekeeper, matter, on_date=None, kind=None, caller=None):
    """A timekeeper's hourly rate on a matter on a day, in the matter's currency."""
    return _safely(_rates, timekeeper, matter, on_date, kind, caller=caller)


@_udf(matter_or_client="A matter number, a client ID or a billing partner's ID.",
      as_of=_AS_OF,
      measure="billing (the default: at the rates billed), standard (at standard rates), "
              "recorded (as recorded) or hours.",
      in_currency=_CURRENCY)
def BILLXL_WIP(matter_or_client, as_of=None, measure=None, in_currency=None, caller=None):
    """Billable work in progress (unbilled time and expenses) of a matter, client or partner."""
    return _safely(_figures, matter_or_client, as_of, in_currency, measure, caller=caller,
                   figure="wip")


@_udf(invoice_or_client="An invoice number, or a client ID (the balance of all its invoices).",
      as_of=_AS_OF,
      in_currency=_CURRENCY)
def BILLXL_BALANCE(invoice_or_client, as_of=None, in_currency=None, caller=None):
    """What is still owed on an invoice, or by a client on all its invoices."""
    return _safely(_figures, invoice_or_client, as_of, in_currency, None, caller=caller,
                   figure="balance")


@_udf(client="A client ID.",
      as_of=_AS_OF,
      in_currency=_CURRENCY)
def BILLXL_CREDIT(client, as_of=None, in_currency=None, caller=None):
    """A client's credit on account: money received and not yet applied to an invoice."""
    return _safely(_figures, client, as_of, in_currency, None, caller=caller, figure="credit")


@_udf(matter_or_client="A matter number, or a client ID (all its matters).",
      as_of=_AS_OF,
      in_currency=_CURRENCY)
def BILLXL_TRUST(matter_or_client, as_of=None, in_currency=None, caller=None):
    """Money held in trust for a matter or a client."""
    return _safely(_figures, matter_or_client, as_of, in_currency, None, caller=caller,
                   figure="trust")


@_udf(client="A client ID, or a range of them (one row each).",
      as_of=_AS_OF,
      in_currency=_CURRENCY)
def BILLXL_AGING(client, as_of=None, in_currency=None, caller=None):
    """What a client owes by age since the due date: a header row, then one row per client."""
    return _safely(_aging, client, as_of, in_currency, caller=caller, spills=True)


@_udf(entries_range="Time entries with a header row of billxl's column names (entry_id, date, "
                    "timekeeper_id, matter_id, hours, narrative; rate, amount, task_code ... "
                    "if there).",
      guidelines="A guideline set's name (looked up in the firm's guideline folder) or a "
                 "guideline file; blank: each client's own guidelines.")
def BILLXL_CHECK(entries_range, guidelines=None, caller=None):
    """The billing rules over a range of time entries: a header row, then one row per entry."""
    return _safely(_check, entries_range, guidelines, caller=caller, spills=True)


# =================================================================================== schedules
def _one(value: Any, what: str) -> np.ndarray:
    cells, _rank = cellargs.grid(value)
    if cells.size != 1:
        raise BillxlError(f"{what}: one cell, not a range")
    return cells


def _schedule(total, start, count, frequency, rounding, matter, currency, *, caller):
    """The items :func:`billxl.build_schedule` makes of the arguments, as rows to spill."""
    matter_id = cellargs.ids(_one(matter, "matter"))[0]
    rule = cellargs.words(_one(rounding, "rounding"))[0]
    if rule is not None and rule not in {r.value for r in Rounding}:
        raise BillxlError(f"{rule!r} is not a rounding rule: "
                          f"{', '.join(r.value for r in Rounding)}")
    named = cellargs.ids(_one(currency, "in_currency"))[0]
    named = named.upper() if named else None
    if named is not None and named not in currency_codes():
        raise BillxlError(f"in_currency: {named!r} is not a currency code (USD, EUR, GBP ...)")
    # a matter: its currency, tax and client's rounding; else the firm's currency and
    # rounding, no tax; either way the firm's weekend rule, holidays and closure dates
    if matter_id is not None:
        context = schedules.matter_terms(ledger_view(caller).reference, matter_id)
        if named is not None and named != context.currency:
            raise BillxlError(f"in_currency: {matter_id} bills in {context.currency}, not "
                              f"{named}")
    else:
        try:
            reference = ledger_view(caller).reference
        except BillxlError as error:
            if named is None:
                raise BillxlError(f"in_currency: give it (USD, EUR ...), or name the ledger whose "
                                  f"firm's currency to use ({error})") from None
            reference = None  # no ledger: the currency given, weekends only
        context = schedules.firm_terms(reference, named)
    if rule is not None:
        context = dataclasses.replace(context, rounding=Rounding(rule))
    amount = cellargs.exact(_one(total, "total"), minor_digits(context.currency))[0]
    if amount is None:
        raise BillxlError("total: the amount to split is missing")
    if isinstance(amount, str):
        raise BillxlError(f"total: {amount}")
    days = [d for d in cellargs.days(cellargs.grid(start)[0]) if d is not None]
    bad = [d for d in days if isinstance(d, str)]
    if bad:
        raise BillxlError(f"start: {bad[0]}")
    number = cellargs.exact(_one(count, "count"), 0)[0]
    if isinstance(number, str):
        raise BillxlError(f"count: a whole number of items ({number})")
    given = len(days) > 1
    terms = ScheduleTerms("installment", total=amount,
                          count=None if number is None else int(number),
                          start=None if given or not days else days[0],
                          dates=tuple(days) if given else (),
                          frequency=cellargs.words(_one(frequency, "frequency"))[0] or "monthly")
    items = context.build(terms)
    minor = np.array([[i.amount_minor, i.tax_minor] for i in items], dtype=np.int64)
    shown = cellargs.major_units(minor, minor_digits(context.currency)).tolist()
    return [schedule_header(context.currency, matter_id is not None),
            *[[i.due_on, i.description, *money] for i, money in zip(items, shown, strict=True)]]


def schedule_header(currency: str, with_matter: bool) -> list[str]:
    """The header row :func:`BILLXL_SCHEDULE` spills: :data:`SCHEDULE_COLUMNS` with the
    currency, and without a matter, that the tax is none (it is the matter's client's)."""
    date_, text, amount, tax = SCHEDULE_COLUMNS
    return [date_, text, f"{amount} {currency}",
            f"{tax} {currency}" if with_matter else f"{tax}: none (no matter)"]


def _codes(code, *, caller=None):
    values, rank = cellargs.grid(code)
    names = utbms_names()
    out = [None if c is None else names.get(c.upper())
           or cellargs.error_text(f"{c} is not a UTBMS code") for c in cellargs.ids(values)]
    return cellargs.shaped(out, values.shape, rank)


@_udf(total="The amount to split, e.g. 100000 (exact to the cent).",
      start="The first item's date (a date, a date serial or YYYY-MM-DD), or a range of the "
            "items' dates.",
      count="How many items (blank with a range of dates: one per date).",
      frequency="monthly (the default), quarterly or yearly.",
      rounding="half_up, half_even, half_down, down or up; blank: the matter's client's rule, "
               "else the firm's.",
      matter="A matter number: its currency, its client's rounding and tax (blank: the "
             "firm's currency and rounding, and no tax).",
      in_currency="The currency of the total (USD, EUR ...); blank: the matter's, else the "
                  "firm's. The header row names it.")
def BILLXL_SCHEDULE(total, start, count=None, frequency=None, rounding=None, matter=None,
                    in_currency=None, caller=None):
    """An invoice schedule: a total split into items to the cent, spilled with each one's tax."""
    return _safely(_schedule, total, start, count, frequency, rounding, matter, in_currency,
                   caller=caller, spills=True)


@_udf(code="A UTBMS task, activity or expense code (L110, A101, E101).")
def BILLXL_UTBMS(code):
    """The name of a UTBMS task, activity or expense code."""
    return _safely(_codes, code)
