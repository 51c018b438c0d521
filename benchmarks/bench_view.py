"""How fast does the read-only ledger view answer a worksheet's questions? One command.

    python benchmarks/bench_view.py                       # 300,000 entries, SQLite
    python benchmarks/bench_view.py --entries 30000       # a quick run
    python benchmarks/bench_view.py --ledger postgresql://user:pw@host/empty_db

Builds the demo firm's month in a fresh ledger (import through intake), then measures, in the
same run and on the same ledger, the view (``billxl.store.view.LedgerView``) against what a
worksheet function had to do per call before it existed:

- WIP of a matter (the month unbilled): the view, cold (first open and answer) and warm, against
  reading the whole WIP table and filtering it, per call;
- after billing the month and posting receipts: an invoice's balance, cold and warm, against
  computing every invoice's balance per call; 50,000 balances in one vectorised call;
- a timekeeper's rate on a matter: the view warm, against opening the ledger for each call;
- the change check (one query), and the first answer after a write (the view reloads).

Goals (issue 9): first open under 3 s; a warm point look-up under 50 us; 50,000 balance
look-ups in one call under 0.1 s; the change check under 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from billxl import demo, intake, payments
from billxl.rates import RateBook
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from billxl.store.view import LedgerView
from demo_month import bill_and_collect

GOALS = {"first open": 3.0, "warm point look-up": 50e-6, "50,000 balances": 0.1,
         "change check": 5e-3}


def timed(fn, *, repeat: int = 1) -> tuple[float, object]:
    """The median seconds of ``repeat`` calls of ``fn`` and its last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def per_call(fn, keys: list, *, rounds: int = 3) -> float:
    """Seconds per call of ``fn(key)`` over ``keys`` (best of ``rounds`` passes)."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for key in keys:
            fn(key)
        best = min(best, (time.perf_counter() - began) / len(keys))
    return best


def show(name: str, seconds: float, baseline: float | None = None, what: str = "") -> None:
    goal = GOALS.get(name)
    verdict = "" if goal is None else (f"  (goal < {fmt(goal)}: "
                                       f"{'meets' if seconds < goal else 'MISSES'} it)")
    versus = "" if baseline is None else (f"   baseline {fmt(baseline)} ({what}): "
                                          f"{ratio(baseline / seconds)}")
    print(f"{name:28} {fmt(seconds):>10}{versus}{verdict}", flush=True)


def ratio(times: float) -> str:
    if times >= 1:
        return f"{times:,.0f}x faster" if times >= 10 else f"{times:.1f}x faster"
    return f"{1 / times:.1f}x slower"


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} us"


def build(url: str, entries: int, folder: Path):
    firm = demo.build_firm(entries=entries)
    paths = demo.write_exports(firm, folder / "exports")
    ledger = Ledger.create(url, firm=firm.firm, actor="bench")
    demo.load_into(ledger, firm)
    intake.import_file(ledger, paths["time"], "time", actor="bench")
    intake.import_file(ledger, paths["expenses"], "expenses", actor="bench")
    return firm, ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--ledger", help="an empty database URL (default: a SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = args.ledger or str(folder / "bench.db")
        began = time.perf_counter()
        firm, ledger = build(url, args.entries, folder)
        print(f"{ledger.dialect}: {args.entries:,} entries built and imported "
              f"({time.perf_counter() - began:.0f} s)\n", flush=True)
        matters = ledger.matters()["matter_id"].tolist()
        sample = matters[:: max(1, len(matters) // 20)][:20]

        # ---------------------------------------------------------------- WIP, month unbilled
        def wip_today(matter: str) -> int:  # before the view: read the WIP table, filter it
            entries = ledger.time_entries(status="WIP")
            costs = ledger.expenses(status="WIP")
            mine = entries[(entries["matter_id"] == matter) & entries["billable"]]
            spent = costs[(costs["matter_id"] == matter) & costs["billable"]]
            return int(mine["amount_minor"].fillna(0).sum() + spent["amount_minor"].sum())

        baseline = per_call(wip_today, sample[:3], rounds=1)
        cold, _ = timed(lambda: LedgerView(ledger).wip(sample[0]))
        show("first open", cold, baseline, "a matter's WIP per call, today")
        view = LedgerView(ledger, max_staleness=3600)
        view.wip(sample[0])
        warm = per_call(view.wip, sample * 500)
        show("warm point look-up", warm, baseline, "WIP per call, today")

        # ---------------------------------------------------------------- bill and collect
        began = time.perf_counter()
        bill_and_collect(ledger, firm.month, folder)
        numbers = ledger.read_frame(sa.select(t.invoices.c.number)
                                    .where(t.invoices.c.kind == "invoice"))["number"].tolist()
        print(f"\nbilled and collected: {len(numbers):,} invoices "
              f"({time.perf_counter() - began:.0f} s)\n", flush=True)

        def balance_today(number: str) -> int:  # before the view: every balance, per call
            frame = payments.invoice_balances(ledger)
            return int(frame.loc[frame["number"] == number, "balance_minor"].iloc[0])

        baseline = per_call(balance_today, numbers[:5], rounds=1)
        cold, _ = timed(lambda: LedgerView(ledger).balance(numbers[0]))
        show("first open", cold, baseline, "an invoice's balance per call, today")
        view = LedgerView(ledger, max_staleness=3600)
        view.balance(numbers[0])
        picks = [numbers[i] for i in np.random.default_rng(1).integers(0, len(numbers), 20_000)]
        warm = per_call(view.balance, picks)
        show("warm point look-up", warm, baseline, "a balance per call, today")
        many = (picks * 3)[:50_000]
        seconds, got = timed(lambda: view.balances_of(many), repeat=5)
        show("50,000 balances", seconds, baseline * 50_000, "50,000 calls, today")
        assert got.tolist()[:5] == [view.balance(n) for n in many[:5]]

        # ---------------------------------------------------------------- rates
        entries = ledger.time_entries().head(2_000)
        asks = list(zip(entries["timekeeper_id"], entries["matter_id"],
                        entries["work_date"].dt.date, strict=True))

        def rate_today(ask) -> int | None:  # before the view: open the ledger each call
            each = Ledger.open(url)
            try:
                book = RateBook(each.rates(), each.timekeepers(), each.matters())
                return book.billing(ask[0], ask[1], ask[2], "USD")
            finally:
                each.dispose()

        baseline = per_call(rate_today, asks[:3], rounds=1)
        view.rate(*asks[0])
        warm = per_call(lambda a: view.rate(*a), asks)
        show("warm point look-up", warm, baseline, "a rate per call, opening the ledger")

        # ---------------------------------------------------------------- changes
        seconds, _ = timed(view.stamp, repeat=50)
        show("change check", seconds)
        owing = next(n for n in numbers if view.balance(n) > 0)
        payments.write_off(ledger, owing, "0.01", reason="bench", on=date(2026, 11, 30))
        seconds, _ = timed(lambda: view.balance(owing))
        show("answer after a write", seconds, None)
        ledger.dispose()


if __name__ == "__main__":
    main()
