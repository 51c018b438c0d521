"""How fast do billxl's worksheet functions answer, Python side? One command.

    python benchmarks/bench_udfs.py                       # 50,000 entries, SQLite
    python benchmarks/bench_udfs.py --entries 5000        # a quick run
    python benchmarks/bench_udfs.py --ledger postgresql://user:pw@host/empty_db

Builds the demo firm's month in a fresh ledger (imported through intake, billed, receipts
posted), names it in ``BILLXL_LEDGER`` as a workbook without a Settings sheet would find it,
and calls the functions in :mod:`billxl.excel.udfs` the way xlwings calls them from Excel: every
argument a list of lists, blanks None, numbers floats, dates as datetimes. Each figure is warm
(the view loaded by a first call) and the median of several runs (the best run beside it; the
verdict is on the median), set beside a baseline measured in the same run on the same work:

- ``BILLXL_CHECK`` over the month's entries in one range, against the same entries checked one
  per call (a formula per row; timed on a sample of rows and scaled to all of them), and
  against the same entries saved as a CSV file, read and checked through intake (the file
  path); the rules' own share is shown too;
- ``BILLXL_BALANCE`` over a 50,000-cell column of invoice numbers, against the same cells
  asked one per call (what 50,000 single-cell formulas cost);
- every function from a single cell.

Goals (issue 11): the check over 50,000 rows under 1 s; 50,000 balances under 0.2 s; a
single-cell call under 1 ms. Only the Python side is measured: no Excel runs here, and a live
call adds xlwings' COM round trip.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from billxl import (
    LedgerView,
    Reference,
    check_entries,
    demo,
    intake,
    payments,
    read_entries,
    set_firm_settings,
)
from billxl.excel import udfs
from billxl.excel.arguments import PREFIX
from billxl.monthend import EXAMPLE_GUIDELINES
from billxl.reconcile import guidelines_for
from billxl.store.ledger import Ledger
from demo_month import bill_and_collect

GOALS = {"BILLXL_CHECK, all entries": 1.0, "BILLXL_BALANCE, 50,000 cells": 0.2,
         "single cell": 1e-3}
MONTH_END = date(2026, 10, 31)


def timed(fn, *, repeat: int) -> tuple[tuple[float, float], object]:
    """The median and the best seconds of ``repeat`` calls of ``fn``, and its last result (on
    a busy machine the best run is the better estimate of the work itself)."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return (statistics.median(times), min(times)), result


def interleaved(work: dict[str, object], repeat: int) -> dict[str, tuple[float, float]]:
    """The median and best seconds of each of ``work``'s functions, run in turn ``repeat``
    times."""
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(repeat):
        for name, fn in work.items():
            began = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - began)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def per_call(fn, args: list, *, rounds: int = 3) -> float:
    """Seconds per call of ``fn(*a)`` over ``args`` (best of ``rounds`` passes)."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for a in args:
            fn(*a)
        best = min(best, (time.perf_counter() - began) / len(args))
    return best


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def show(name: str, seconds: float | tuple[float, float], baseline: float | None = None,
         what: str = "", goal: str | None = None) -> None:
    """One figure (seconds, or the median and best of :func:`timed`) against its goal and a
    baseline."""
    seconds, best = seconds if isinstance(seconds, tuple) else (seconds, None)
    limit = GOALS.get(goal or name)
    verdict = "" if limit is None else (f"  (goal < {fmt(limit)}: "
                                        f"{'meets' if seconds < limit else 'MISSES'} it)")
    versus = "" if baseline is None else (f"   baseline {fmt(baseline)} ({what}): "
                                          f"{baseline / seconds:,.0f}x faster")
    shown = "" if best is None else f" (best {fmt(best)})"
    print(f"{name:34} {fmt(seconds):>9}{shown}{versus}{verdict}", flush=True)


def build(url: str, entries: int, folder: Path):
    """The demo month imported, billed and paid; the example guideline sets named."""
    firm = demo.build_firm(entries=entries)
    paths = demo.write_exports(firm, folder / "exports")
    ledger = Ledger.create(url, firm=firm.firm, actor="bench")
    demo.load_into(ledger, firm)
    set_firm_settings(ledger, guidelines_dir=EXAMPLE_GUIDELINES, actor="bench")
    intake.import_file(ledger, paths["time"], "time", actor="bench")
    intake.import_file(ledger, paths["expenses"], "expenses", actor="bench")
    bill_and_collect(ledger, firm.month, folder)
    return firm, ledger


def as_excel_sends(export: pd.DataFrame) -> list[list]:
    """A canonical export as xlwings hands a range to a UDF: a header row, then the cells
    (numbers as floats, dates as datetimes, blanks None)."""
    def cell(v):
        if v is None or v == "" or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, pd.Timestamp):
            return v.to_pydatetime()
        if isinstance(v, date) and not isinstance(v, datetime):
            return datetime(v.year, v.month, v.day)
        if hasattr(v, "as_tuple"):  # Decimal: Excel holds a double
            return float(v)
        return v
    return [list(export.columns)] + [[cell(v) for v in row]
                                     for row in export.itertuples(index=False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--ledger", help="an empty database URL (default: a SQLite file)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = args.ledger or str(folder / "bench.db")
        began = time.perf_counter()
        firm, ledger = build(url, args.entries, folder)
        os.environ["BILLXL_LEDGER"] = url
        numbers = payments.invoice_balances(ledger)["number"].tolist()
        print(f"{ledger.dialect}: {args.entries:,} entries imported, {len(numbers):,} invoices, "
              f"receipts posted ({time.perf_counter() - began:.0f} s); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n", flush=True)

        # ------------------------------------------------------------ the check over a range
        rows = as_excel_sends(firm.time_export)
        began = time.perf_counter()
        out = udfs.BILLXL_CHECK(rows)
        print(f"{'BILLXL_CHECK, first call':34} {fmt(time.perf_counter() - began):>9} "
              "(opens the ledger, reads the reference and the guideline sets)")
        assert len(out) == len(rows) and not str(out[0][0]).startswith(PREFIX)
        reference = Reference.from_ledger(ledger)
        by_client = guidelines_for(reference.clients, None, setting=str(EXAMPLE_GUIDELINES))
        path = folder / "entries.csv"
        firm.time_export.to_csv(path, index=False)
        frame = read_entries(path, "time", reference=reference).frames["time"]

        def from_file():  # the same entries saved from the sheet, read and checked by intake
            read = read_entries(path, "time", reference=reference, refuse=False).frames["time"]
            return check_entries(read, context=reference, guidelines_by_client=by_client)

        # the three in turn, round after round, so that a busy machine slows each alike
        figures = interleaved({
            "range": lambda: udfs.BILLXL_CHECK(rows), "file": from_file,
            "rules": lambda: check_entries(frame, context=reference,
                                           guidelines_by_client=by_client)}, args.repeat)
        out = udfs.BILLXL_CHECK(rows)
        flagged = sum(1 for r in out[1:] if r[1] not in (udfs.CLEAN, None))
        sample = rows[1:: max(1, (len(rows) - 1) // 200)][:200]
        one_by_one = per_call(lambda r: udfs.BILLXL_CHECK([rows[0], r]),
                              [(r,) for r in sample], rounds=1) * (len(rows) - 1)
        show("BILLXL_CHECK, all entries", figures["range"], one_by_one,
             f"{len(rows) - 1:,} one-entry calls, from {len(sample)}")
        print(f"{'':34} {len(rows) - 1:,} entries, {flagged:,} with findings")
        (baseline, best), (rules, rules_best) = figures["file"], figures["rules"]
        print(f"{'':34} baseline {fmt(baseline)} (best {fmt(best)}; the same entries as a CSV "
              f"file, read and checked through intake): "
              f"{baseline / figures['range'][0]:.1f}x as fast")
        print(f"{'':34} the rules themselves: {fmt(rules)} (best {fmt(rules_best)}; "
              "check_entries on the entries already read)")

        # ------------------------------------------------------------ 50,000 balances
        rng = np.random.default_rng(1)
        cells = [[numbers[i]] for i in rng.integers(0, len(numbers), 50_000)]
        udfs.BILLXL_BALANCE(cells[:1])
        seconds, got = timed(lambda: udfs.BILLXL_BALANCE(cells), repeat=args.repeat)
        singles = per_call(lambda c: udfs.BILLXL_BALANCE([c]), [(c,) for c in cells], rounds=1)
        show("BILLXL_BALANCE, 50,000 cells", seconds, singles * len(cells),
             "50,000 single-cell calls")
        assert got[:20] == [udfs.BILLXL_BALANCE([c])[0] for c in cells[:20]]

        # ------------------------------------------------------------ single cells
        view = LedgerView.open(url)
        entry = ledger.time_entries().iloc[0]
        client = ledger.clients()["client_id"].iloc[1]
        matter = entry["matter_id"]
        owing = next(n for n in numbers if view.balance(n) > 0)
        day = datetime.combine(entry["work_date"].date(), datetime.min.time())
        calls = {
            "BILLXL_RATE": (udfs.BILLXL_RATE, [[entry["timekeeper_id"]]], [[matter]], [[day]]),
            "BILLXL_WIP": (udfs.BILLXL_WIP, [[matter]], [[datetime(2026, 10, 31)]]),
            "BILLXL_BALANCE": (udfs.BILLXL_BALANCE, [[owing]]),
            "BILLXL_CREDIT": (udfs.BILLXL_CREDIT, [[client]]),
            "BILLXL_TRUST": (udfs.BILLXL_TRUST, [[matter]]),
            "BILLXL_AGING": (udfs.BILLXL_AGING, [[client]], [[datetime(2026, 11, 30)]]),
            "BILLXL_UTBMS": (udfs.BILLXL_UTBMS, [["L110"]]),
        }
        for name, (function, *values) in calls.items():
            result = function(*values)
            assert not str(result[0][0]).startswith(PREFIX), (name, result)
            seconds = per_call(function, [values] * 2_000)
            show(f"{name}, one cell", seconds, goal="single cell")
        seconds = per_call(lambda r: udfs.BILLXL_CHECK([rows[0], r]), [(r,) for r in sample[:50]])
        show("BILLXL_CHECK, one entry", seconds, goal=None)
        print(f"{'':34} (runs every rule on one entry: not a figure look-up, no 1 ms goal)")
        ledger.dispose()


if __name__ == "__main__":
    main()
