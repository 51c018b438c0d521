"""How much faster is the month-end batch than a plain papermill loop? One command, one run.

    python benchmarks/bench_month_end.py                  # 40 partner packs, 2 workers
    python benchmarks/bench_month_end.py --packs 8        # a quick run

Builds the demo firm's month in a fresh SQLite ledger (import, then billed and collected as in
``demo_month.bill_and_collect``), then makes the same partner monthly packs twice, each with
the same outputs (the executed notebook, its HTML report without code, the PDF of it, and the
XLSX and JSON the notebook writes):

- the baseline: a plain sequential loop of ``papermill.execute_notebook`` (papermill's own
  engine: a new kernel, imports and ledger load for every pack), then ``report.notebook_html``
  and ``report.html_pdf``;
- the batch: ``billxl.packs.batch.run_plan`` with 2 worker processes (a warm kernel each, the
  pack digests built in the parent, the manifest and index written after each pack).

The demo firm has fewer billing partners than 40 (a 6,000-entry month has a handful), so the
partners with something to show are repeated in turn until there are ``--packs`` packs, each
under its own key; the script prints how many distinct partners there were.

The per-pack overhead is what a pack costs beyond its notebook's own work: the time a worker
spends on it (baseline: wall / packs; batch: wall x workers / packs) less the sum of its cells'
run times (``metadata.papermill`` of each cell), averaged; and beyond that, less the HTML and
PDF rendering (the same work in both), what is left for kernels, papermill and the batch.
Goal (issue 12): the batch at least 3x faster than the loop on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from billxl import demo, intake
from billxl.packs import batch
from billxl.store.ledger import Ledger
from demo_month import bill_and_collect

GOAL = 3.0
ROOT = Path(__file__).resolve().parents[1]


def cells_seconds(ipynb: Path) -> float:
    """The notebook's own work: its cells' run times, as papermill recorded them."""
    nb = nbformat.read(ipynb, as_version=4)
    return sum(float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells)


def partner_plan(notebook: Path, month: str, scopes, packs: int) -> list[batch.PlannedPack]:
    rows = scopes.to_dict("records")
    plan = []
    for n, row in zip(range(packs), itertools.cycle(rows)):
        plan.append(batch.PlannedPack(
            key=f"partner-{row['scope_id']}-{n:02d}", name="monthly_pack", notebook=notebook,
            parameters={"month": month, "scope": "partner", "scope_id": str(row["scope_id"]),
                        "ledger_url": ""}, scope="partner", scope_id=str(row["scope_id"]),
            scope_name=str(row["name"])))
    return plan


def baseline(plan: list[batch.PlannedPack], folder: Path,
             ledger_url: str) -> tuple[float, list, float]:
    """The plain loop: papermill's engine, a new kernel per pack, then the HTML and the PDF."""
    import papermill

    from billxl.packs import report

    started = time.perf_counter()
    executed, rendering = [], 0.0
    for pack in plan:
        out = folder / pack.key
        out.mkdir(parents=True)
        ipynb = out / f"{pack.notebook.stem}.ipynb"
        papermill.execute_notebook(
            str(pack.notebook), str(ipynb), progress_bar=False, kernel_name="python3",
            parameters={**pack.parameters, "ledger_url": ledger_url, "output_dir": str(out)})
        rendered = time.perf_counter()
        html = report.notebook_html(ipynb, out / f"{pack.notebook.stem}.html", title=pack.title)
        report.html_pdf(html, out / f"{pack.notebook.stem}.pdf")
        rendering += time.perf_counter() - rendered
        executed.append(ipynb)
    return time.perf_counter() - started, executed, rendering / len(plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=6000)
    parser.add_argument("--packs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--notebook", type=Path, default=ROOT / "notebooks" / "monthly_pack.ipynb")
    args = parser.parse_args()
    notebook = args.notebook.resolve()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        firm = demo.build_firm(entries=args.entries)
        paths = demo.write_exports(firm, folder / "exports")
        ledger_url = str(folder / "bench.db")
        ledger = Ledger.create(ledger_url, firm=firm.firm, actor="bench")
        demo.load_into(ledger, firm)
        intake.import_file(ledger, paths["time"], "time", actor="bench")
        intake.import_file(ledger, paths["expenses"], "expenses", actor="bench")
        bill_and_collect(ledger, firm.month, folder)
        ledger.dispose()
        import billxl.packs as packs

        scopes = packs.pack_scopes("partner", firm.month, ledger_url=ledger_url)
        plan = partner_plan(notebook, firm.month, scopes, args.packs)
        print(f"month built, billed and collected: {args.entries:,} entries, "
              f"{len(scopes)} billing partners with something to show, repeated in turn to "
              f"{len(plan)} packs of {notebook.name} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)

        loop_s, executed, loop_render = baseline(plan, folder / "loop", ledger_url)
        loop_own = statistics.mean(cells_seconds(p) for p in executed)
        print(f"plain papermill loop:  {loop_s:7.1f} s  ({loop_s / len(plan):.2f} s a pack)",
              flush=True)

        started = time.perf_counter()
        manifest = batch.run_plan(plan, folder / "batch", month=firm.month,
                                  workers=args.workers, ledger_url=ledger_url)
        batch_s = time.perf_counter() - started
        if manifest.failed:
            failed = next(p for p in manifest.packs.values() if p["status"] == "failed")
            raise SystemExit(f"{manifest.failed} packs failed, e.g. {failed['key']}: "
                             f"{failed['error']}")
        month_dir = folder / "batch" / firm.month
        batch_own = statistics.mean(
            cells_seconds(month_dir / p["key"] / f"{notebook.stem}.ipynb")
            for p in manifest.packs.values())
        batch_render = statistics.mean(p["report_seconds"] for p in manifest.packs.values())
        print(f"batch, {args.workers} workers:     {batch_s:7.1f} s  "
              f"({batch_s / len(plan):.2f} s a pack)")
        speedup = loop_s / batch_s
        print(f"speed-up: {speedup:.1f}x (goal {GOAL:.0f}x) "
              f"{'OK' if speedup >= GOAL else 'BELOW GOAL'}")
        loop_over = loop_s / len(plan) - loop_own
        batch_over = batch_s * args.workers / len(plan) - batch_own
        print("per-pack overhead beyond the notebook's own work (its cells' run time), and "
              "beyond the HTML and PDF too:")
        print(f"  plain loop: {loop_over:5.2f} s a pack, {loop_over - loop_render:5.2f} s "
              f"(cells {loop_own:.2f} s, HTML+PDF {loop_render:.2f} s)")
        print(f"  batch:      {batch_over:5.2f} s of a worker a pack, "
              f"{batch_over - batch_render:5.2f} s (cells {batch_own:.2f} s, "
              f"HTML+PDF {batch_render:.2f} s)")


if __name__ == "__main__":
    main()
