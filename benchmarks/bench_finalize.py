"""How fast does billxl finalize a month? One command, figures from one run.

    python benchmarks/bench_finalize.py                 # 300,000 entries (about 5,000 invoices)
    python benchmarks/bench_finalize.py --entries 30000 # a quick run

Builds the demo firm's month in a fresh SQLite ledger (import through intake), drafts the
pre-bills and approves them all (as partners would, without edits), then times
``finalize`` — numbering, fee arrangements, discounts, tax, split billing, the invoice and line
writes and the entries' new status, in one transaction. Then renders a sample of the invoices'
documents with 1 and 2 worker processes and prints invoices/second for each and the speed-up.
Goals (issue 4): finalize under 20 s at 300,000 entries; rendering scales to 2 workers at
1.7x or better.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from billxl import demo, intake
from billxl.billing import prebill
from billxl.billing.invoicing import finalize
from billxl.documents import render_invoices
from billxl.store import tables as t
from billxl.store.ledger import Ledger

GOAL_FINALIZE_S, GOAL_SPEEDUP = 20.0, 1.7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--render", type=int, default=60,
                        help="invoices rendered for the 1- and 2-worker figures (default 60)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        firm = demo.build_firm(entries=args.entries)
        paths = demo.write_exports(firm, folder / "exports")
        ledger = Ledger.create(folder / "bench.db", firm=firm.firm, actor="bench")
        demo.load_into(ledger, firm)
        intake.import_file(ledger, paths["time"], "time", actor="bench")
        intake.import_file(ledger, paths["expenses"], "expenses", actor="bench")
        print(f"month built and imported: {args.entries:,} entries "
              f"({time.perf_counter() - started:.0f} s)", flush=True)

        started = time.perf_counter()
        created = prebill.create_prebills(ledger, firm.month, actor="bench")
        with ledger.transaction() as conn:  # every partner approves as drafted
            conn.execute(sa.update(t.prebills).where(t.prebills.c.status == "draft")
                         .values(status="approved", approved_by="bench",
                                 approved_at=datetime.now(UTC)))
        print(f"pre-bills drafted and approved: {len(created):,} "
              f"({time.perf_counter() - started:.1f} s)", flush=True)

        started = time.perf_counter()
        result = finalize(ledger, month=firm.month, actor="bench")
        seconds = time.perf_counter() - started
        lines = ledger.count(t.invoice_lines)
        verdict = "meets" if seconds < GOAL_FINALIZE_S else "MISSES"
        print(f"\nfinalize: {result.count:,} invoices, {lines:,} lines, "
              f"{result.entries_billed:,} entries billed in {seconds:.2f} s = "
              f"{result.count / seconds:,.0f} invoices/s "
              f"(goal under {GOAL_FINALIZE_S:.0f} s: {verdict} it)")

        pks = ledger.read_frame(sa.select(t.invoices.c.invoice_pk)
                                .order_by(t.invoices.c.invoice_pk).limit(args.render))
        pks = pks["invoice_pk"].tolist()
        rates = {}
        for workers in (1, 2):
            for fmt in ("pdf", "xlsx"):
                began = time.perf_counter()
                render_invoices(ledger, pks, folder / f"docs{workers}{fmt}", workers=workers,
                                formats=(fmt,))
                rates[workers, fmt] = len(pks) / (time.perf_counter() - began)
        for fmt in ("pdf", "xlsx"):
            speedup = rates[2, fmt] / rates[1, fmt]
            verdict = "meets" if speedup >= GOAL_SPEEDUP else "MISSES"
            print(f"render {fmt.upper():4}: 1 worker {rates[1, fmt]:6.1f} invoices/s, "
                  f"2 workers {rates[2, fmt]:6.1f} invoices/s, speed-up {speedup:.2f}x "
                  f"(goal >= {GOAL_SPEEDUP}: {verdict} it)")
        ledger.dispose()


if __name__ == "__main__":
    main()
