"""How fast does billxl finalize a month, beside finalizing it invoice by invoice? One run.

    .venv/bin/python benchmarks/bench_finalize.py                  # 300,000 entries
    .venv/bin/python benchmarks/bench_finalize.py --entries 30000  # a quick run

Builds the demo firm's month in a fresh SQLite ledger (import through intake), drafts the
pre-bills and approves them all (as partners would, without edits), and copies the ledger file,
so that both ways below start from the same month:

* **batch** (the figure): ``finalize(month=...)`` on the first copy -- numbering, fee
  arrangements, discounts, tax, split billing, the invoice and line writes and the entries' new
  status, in one transaction;
* **baseline**: the same pre-bills finalized one matter at a time through the same public call,
  ``finalize(month=..., matter=...)``, one transaction each, on the second copy -- what a firm
  does without the batch. Each call costs the same whatever the month's size (it reads the
  reference data and one matter's pre-bill), so it is run on the first ``--baseline`` pre-bills
  (all with ``--baseline 0``) and compared as invoices per second; their invoices are checked
  equal, total for total, to the batch's.

Then the documents of a sample of invoices (``--render``, 300 by default: enough that the
work, not the start-up, is what is measured) are rendered with 1 and with 2 worker processes,
each run in a fresh Python process (imports, fonts and templates loaded cold in both),
alternating 1, 2, 1, 2 (``--render-repeat``), best shown. The speed-up is that of
``render_invoices`` (starting the workers included); the process's own start-up (importing
billxl, opening the ledger, exiting), the same whatever the number of workers, is shown
beside it, with the CPU seconds of all the run's processes.

Goals (issue 4): finalize under 20 s at 300,000 entries; rendering scales to 2 workers at
1.7x or better.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

GOAL_FINALIZE_S, GOAL_SPEEDUP = 20.0, 1.7
HERE = Path(__file__).resolve()


def build(folder: Path, entries: int) -> tuple[Path, str]:
    """The month imported, drafted and approved, in ``folder/month.db``; returns it and the
    month."""
    from billxl import Ledger, create_prebills, demo, import_file
    from billxl.store import tables as t

    firm = demo.build_firm(entries=entries)
    paths = demo.write_exports(firm, folder / "exports")
    path = folder / "month.db"
    ledger = Ledger.create(path, firm=firm.firm, actor="bench")
    demo.load_into(ledger, firm)
    import_file(ledger, paths["time"], "time", actor="bench")
    import_file(ledger, paths["expenses"], "expenses", actor="bench")
    create_prebills(ledger, firm.month, actor="bench")
    with ledger.transaction() as conn:  # every partner approves as drafted
        conn.execute(sa.update(t.prebills).where(t.prebills.c.status == "draft")
                     .values(status="approved", approved_by="bench",
                             approved_at=datetime.now(UTC)))
    ledger.dispose()  # the last connection closed: the write-ahead log is in the file
    return path, firm.month


def copy_of(path: Path, name: str) -> Path:
    target = path.with_name(name)
    shutil.copyfile(path, target)
    return target


def invoices_of(ledger, matters: list[str] | None = None) -> list[tuple]:
    """Each invoice's matter, payor, currency and figures (not its number), sorted."""
    from billxl.store import tables as t

    inv = t.invoices
    q = sa.select(inv.c.matter_id, inv.c.client_id, inv.c.currency, inv.c.fees_minor,
                  inv.c.expenses_minor, inv.c.discount_minor, inv.c.tax_minor, inv.c.total_minor)
    rows = ledger.read_frame(q if matters is None else q.where(inv.c.matter_id.in_(matters)))
    return sorted(rows.itertuples(index=False, name=None))


def finalize_batch(path: Path, month: str) -> tuple[float, int, int, list]:
    from billxl import Ledger, finalize
    from billxl.store import tables as t

    ledger = Ledger.open(path)
    started = time.perf_counter()
    result = finalize(ledger, month=month, actor="bench")
    seconds = time.perf_counter() - started
    lines = ledger.count(t.invoice_lines)
    done = invoices_of(ledger)
    ledger.dispose()
    return seconds, result.count, lines, done


def finalize_one_by_one(path: Path, month: str, most: int) -> tuple[float, int, list[str], list]:
    """Finalize the month's pre-bills matter by matter (the first ``most``; 0: all)."""
    from billxl import Ledger, finalize
    from billxl.store import tables as t

    ledger = Ledger.open(path)
    pb = t.prebills
    matters = ledger.read_frame(sa.select(pb.c.matter_id).where(
        pb.c.status == "approved", pb.c.month == month).order_by(pb.c.prebill_pk))["matter_id"]
    matters = list(dict.fromkeys(matters))[:most or None]
    count = 0
    started = time.perf_counter()
    for matter in matters:
        count += finalize(ledger, month=month, matter=matter, actor="bench").count
    seconds = time.perf_counter() - started
    done = invoices_of(ledger, matters)
    ledger.dispose()
    return seconds, count, matters, done


def render_cold(path: Path, pks: list[int], workers: int, fmt: str, out: Path) -> dict:
    """A fresh Python process renders ``pks``: the seconds inside ``render_invoices`` and their
    CPU seconds (all processes), and the process's start-up and exit around them."""
    started = time.perf_counter()
    child = subprocess.run([sys.executable, str(HERE), "--render-child", json.dumps(
        {"ledger": str(path), "pks": pks, "workers": workers, "format": fmt, "out": str(out)})],
        capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(f"rendering {fmt} with {workers} worker(s) failed:\n{child.stderr}")
    seconds = time.perf_counter() - started
    run = json.loads(child.stdout.splitlines()[-1])
    return {**run, "startup": seconds - run["render"]}


def render_child(spec: str) -> None:
    """In the fresh process: render and exit."""
    from bench_documents import cpu_seconds
    from billxl import Ledger, render_invoices

    job = json.loads(spec)
    ledger = Ledger.open(job["ledger"])
    cpu = cpu_seconds()
    started = time.perf_counter()
    render_invoices(ledger, job["pks"], job["out"], workers=job["workers"],
                    formats=(job["format"],))
    seconds = time.perf_counter() - started
    time.sleep(0.3)  # a fork server reaps its ended workers: their CPU time is then its own
    print(json.dumps({"render": seconds, "cpu": cpu_seconds() - cpu}))
    ledger.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--baseline", type=int, default=200,
                        help="pre-bills finalized one by one for the baseline (0: all)")
    parser.add_argument("--render", type=int, default=300,
                        help="invoices rendered for the 1- and 2-worker figures (0: none)")
    parser.add_argument("--render-repeat", type=int, default=2)
    parser.add_argument("--render-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_child:
        render_child(args.render_child)
        return 0

    met = True
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        month_db, month = build(folder, args.entries)
        print(f"month built, imported, drafted and approved: {args.entries:,} entries "
              f"({time.perf_counter() - started:.0f} s, not timed below)", flush=True)
        batch_db, single_db = copy_of(month_db, "batch.db"), copy_of(month_db, "single.db")

        seconds, count, lines, batch_invoices = finalize_batch(batch_db, month)
        verdict = "meets" if seconds < GOAL_FINALIZE_S else "MISSES"
        met &= seconds < GOAL_FINALIZE_S
        print(f"\nbatch finalize:   {count:,} invoices ({lines:,} lines) in {seconds:7.2f} s = "
              f"{count / seconds:8,.1f} invoices/s (goal under {GOAL_FINALIZE_S:.0f} s: "
              f"{verdict} it)", flush=True)
        one_s, one_count, matters, one_invoices = finalize_one_by_one(single_db, month,
                                                                      args.baseline)
        same = one_invoices == [i for i in batch_invoices if i[0] in set(matters)]
        print(f"one by one:       {one_count:,} invoices of {len(matters):,} pre-bills in "
              f"{one_s:7.2f} s = {one_count / one_s:8,.1f} invoices/s; the whole month at that "
              f"rate: {count * one_s / max(one_count, 1):,.0f} s")
        print(f"ratio: the batch finalizes {count / seconds / (one_count / one_s):,.0f}x as many "
              f"invoices a second; the {one_count:,} invoices are "
              + ("the same as the batch's" if same else "NOT the same as the batch's"))
        met &= same

        if args.render:
            from billxl import Ledger
            from billxl.store import tables as t

            ledger = Ledger.open(batch_db)
            pks = ledger.read_frame(sa.select(t.invoices.c.invoice_pk)
                                    .order_by(t.invoices.c.invoice_pk).limit(args.render))
            ledger.dispose()
            pks = [int(pk) for pk in pks["invoice_pk"]]
            print(f"\nrendering {len(pks)} invoices, each run a fresh process (best of "
                  f"{args.render_repeat}, alternating 1 and 2 workers):")
            for fmt in ("pdf", "xlsx"):
                runs: dict[int, list[dict]] = {1: [], 2: []}
                for run in range(args.render_repeat):
                    for workers in (1, 2):
                        out = folder / f"docs-{fmt}-{workers}-{run}"
                        runs[workers].append(render_cold(batch_db, pks, workers, fmt, out))
                        r = runs[workers][-1]
                        print(f"  {fmt.upper():4} {workers} worker{'s' if workers > 1 else ' '}: "
                              f"{r['render']:6.2f} s in render_invoices "
                              f"({len(pks) / r['render']:5.1f} invoices/s, CPU {r['cpu']:5.1f} s)"
                              f", start-up and exit {r['startup']:4.1f} s", flush=True)
                one, two = (min(runs[w], key=lambda r: r["render"]) for w in (1, 2))
                speedup = one["render"] / two["render"]
                verdict = "meets" if speedup >= GOAL_SPEEDUP else "MISSES"
                print(f"render {fmt.upper():4}: 1 worker {len(pks) / one['render']:6.1f} "
                      f"invoices/s, 2 workers {len(pks) / two['render']:6.1f}: speed-up "
                      f"{speedup:.2f}x (goal >= {GOAL_SPEEDUP}: {verdict} it); CPU seconds "
                      f"{one['cpu']:.1f} and {two['cpu']:.1f}; with the process start-up "
                      f"({one['startup']:.1f} and {two['startup']:.1f} s) "
                      f"{(one['render'] + one['startup']) / (two['render'] + two['startup']):.2f}x")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
