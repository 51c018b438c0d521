"""Speed of the billing-guideline rules: every rule over 100,000, 300,000 and 1,000,000 entries.

    .venv/bin/python benchmarks/bench_rules.py [--sizes 100000,300000,1000000] [--repeat 2]

The demo firm is built once, at the largest size, and the smaller months are nested subsets of
it (all the entries of a random set of timekeepers, with the ledger context they touch), so
every size has the same mix of work and of planted problems. Each size is checked twice:

* with the narratives as the demo writes them (drawn from phrase pools: few distinct texts), and
* with every narrative made distinct (a short tag appended), as in a real firm where the
  narrative rules cannot share work between entries.

A run is ``check_entries`` (all time rules, ledger context and billing period, near-duplicate
search included) plus ``check_expenses`` on the month's expenses; the best of ``--repeat`` runs
is shown. Printed per size: seconds, time entries per second, and the growth from the previous
size beside n log n's; and the CPU seconds of billxl's and the baseline's best runs, a steadier
ratio than the wall clock's when other work shares the machine.

Baseline, in the same run on the same months: the same ``check_entries`` with the narrative
rules' regular expressions applied narrative by narrative (each distinct narrative in the same
lower-cased form, scanned by itself, as a straightforward ``Series.apply`` of the same compiled
patterns would) instead of once over all of them joined (``narratives.Corpus``). The four
narrative rules are most of the cost, and the joined scan is their design; every other rule
runs the same code in both, so the ratio is the joined scan's gain on the whole check. The two
are run alternately, best of ``--repeat`` each, and their findings are checked identical.
At 300,000 entries the check is also run with the narrative scans in several processes
(``billxl.scan``, as the ``billxl`` command runs a big month), beside the in-process figure.
Goal (issue 3): 300,000 entries in under 5 s on this 2-core machine, and cost growing no faster
than n log n.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import pandas as pd

from billxl.demo import build_firm
from billxl.rules import Context, check_entries, check_expenses, narratives
from billxl.rules.frames import Inputs, inputs_from_demo

GOAL_SIZE, GOAL_SECONDS = 300_000, 5.0


def nested_months(full: Inputs, sizes: list[int], seed: int) -> dict[int, Inputs]:
    """For each size, the entries of a prefix of a random order of timekeepers (cut to exactly
    ``size`` rows), their expenses, and the ledger context they touch. Smaller months are
    subsets of larger ones."""
    entries = full.entries
    order = np.random.default_rng(seed).permutation(entries["timekeeper_id"].unique())
    rank = pd.Series(np.arange(len(order)), index=order)
    entries = entries.assign(_rank=entries["timekeeper_id"].map(rank).to_numpy())
    entries = entries.sort_values(["_rank", "work_date"], kind="stable").drop(columns="_rank")
    months = {}
    for size in sizes:
        part = entries.iloc[:size].sort_index().reset_index(drop=True)
        months[size] = Inputs(part, _expenses_of(full.expenses, part, size / len(entries)),
                              _context_of(full.context, part), full.period)
    return months


def _expenses_of(expenses: pd.DataFrame, part: pd.DataFrame, share: float) -> pd.DataFrame:
    """The expenses of the month's timekeepers, and the same share of the vendors' expenses
    (which carry no timekeeper)."""
    vendor = expenses["timekeeper_id"].isna()
    mine = expenses["timekeeper_id"].isin(part["timekeeper_id"].unique())
    vendor_rows = np.flatnonzero(vendor.to_numpy())
    keep = mine.to_numpy().copy()
    keep[vendor_rows[: round(share * len(vendor_rows))]] = True
    return expenses[keep].reset_index(drop=True)


def _context_of(ctx: Context, part: pd.DataFrame) -> Context:
    tks = set(part["timekeeper_id"].unique())
    matters = ctx.matters[ctx.matters["matter_id"].isin(part["matter_id"].unique())]
    clients = ctx.clients[ctx.clients["client_id"].isin(matters["client_id"].unique())]
    rates = ctx.rates
    keep = ((rates["timekeeper_id"].isna() | rates["timekeeper_id"].isin(tks))
            & (rates["client_id"].isna() | rates["client_id"].isin(clients["client_id"]))
            & (rates["matter_id"].isna() | rates["matter_id"].isin(matters["matter_id"])))
    return Context(timekeepers=ctx.timekeepers[ctx.timekeepers["timekeeper_id"].isin(tks)],
                   matters=matters, clients=clients, rates=rates[keep])


def distinct_narratives(month: Inputs) -> Inputs:
    """The same month with every time narrative made unique (its entry number appended)."""
    entries = month.entries.copy()
    entries["narrative"] = entries["narrative"] + " [" + entries["entry_id"].str[-7:] + "]"
    return Inputs(entries, month.expenses, month.context, month.period)


class NarrativeByNarrative:
    """:class:`narratives.Corpus`'s answers, each narrative scanned by itself (the baseline).

    The narratives are held joined as the corpus holds them (the rules read matches' places in
    that text), but every pattern is run once per narrative, over that narrative's span only,
    as a ``Series.apply`` of the same compiled pattern would, and nothing scanned is kept for
    the next rule."""

    def __init__(self, texts: pd.Series):
        joined = narratives.Corpus(texts)
        self.lengths, self.text = joined.lengths, joined.text
        self.starts, self.ends = joined.starts, joined.ends

    def __len__(self) -> int:
        return len(self.starts)

    def _matches(self, pattern) -> tuple[np.ndarray, list]:
        rows, found = [], []
        text = self.text
        for row, (start, end) in enumerate(zip(self.starts.tolist(), self.ends.tolist(),
                                               strict=True)):
            for match in pattern.finditer(text, start, end):
                rows.append(row)
                found.append(match)
        return np.asarray(rows, dtype=np.int64), found

    texts = narratives.Corpus.texts

    hits = narratives.Corpus.hits
    counts = narratives.Corpus.counts
    first = narratives.Corpus.first
    named_hits = narratives.Corpus.named_hits


def by_narrative(texts: pd.Series, _made: dict = {}) -> NarrativeByNarrative:  # noqa: B006
    """The baseline's :func:`narratives.corpus`: made once per batch, shared by the rules."""
    if _made.get("of") is not texts:
        _made.update(of=texts, made=NarrativeByNarrative(texts))
    return _made["made"]


def run_once(month: Inputs, baseline: bool = False) -> tuple[float, float, dict[str, float],
                                                             pd.DataFrame, float]:
    """Wall seconds of the time and the expense checks, the rules' seconds, the findings, and
    the CPU seconds of both checks (steadier than the wall clock on a shared machine)."""
    joined = narratives.corpus
    narratives.corpus = by_narrative if baseline else joined
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        result = check_entries(month.entries, context=month.context, period=month.period)
        middle = time.perf_counter()
        check_expenses(month.expenses, context=month.context, period=month.period)
        ended = time.perf_counter()
        cpu = time.process_time() - cpu
    finally:
        narratives.corpus = joined
    return middle - started, ended - middle, result.seconds, result.findings, cpu


def split_scans(month: Inputs, findings: pd.DataFrame, one_process: float, repeat: int) -> bool:
    """The same check with the narrative scans in several processes (billxl.scan, as the billxl
    command runs a big month), best of ``repeat``, beside the in-process figure of the same
    run; the pool is started (and its start timed) before, as a long-running command pays it
    once. Returns whether the findings are the same."""
    from billxl import scan

    n = scan.parallel_workers()
    if n < 2:
        print("   scans in several processes: one CPU here, not measured")
        return True
    before = os.environ.get("BILLXL_SCAN_WORKERS")
    os.environ["BILLXL_SCAN_WORKERS"] = str(n)
    try:
        started = time.perf_counter()
        scan.start()
        pool_s = time.perf_counter() - started
        runs = [run_once(month) for _ in range(max(1, repeat))]
    finally:
        if before is None:
            os.environ.pop("BILLXL_SCAN_WORKERS", None)
        else:
            os.environ["BILLXL_SCAN_WORKERS"] = before
    time_s, exp_s, _, split_findings, cpu = min(runs, key=lambda r: r[0] + r[1])
    same = split_findings.equals(findings)
    last = narratives._CORPUS.get("corpus")  # the last check's corpus: did it go to the pool?
    in_processes = last is not None and last._shared is not None
    print(f"   narrative scans in {n} processes: {time_s + exp_s:.2f} s against "
          f"{one_process:.2f} s in one ({one_process / (time_s + exp_s):.2f}x; pool started in "
          f"{pool_s:.2f} s, once per process; this process's CPU {cpu:.2f} s)"
          + ("" if in_processes else "; the corpus is under the size that uses the pool")
          + ("" if same else "; THE FINDINGS DIFFER"))
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    started = time.perf_counter()
    full = inputs_from_demo(build_firm(seed=args.seed, month="2026-10", entries=sizes[-1]))
    months = nested_months(full, sizes, args.seed)
    print(f"demo firm of {sizes[-1]:,} time entries built and converted in "
          f"{time.perf_counter() - started:.1f} s (not timed below); {os.cpu_count()} CPUs")

    met = True
    for label, variant in (("narratives as the demo writes them", lambda m: m),
                           ("every narrative distinct", distinct_narratives)):
        print(f"\n== {label}")
        print(f"{'entries':>10} {'distinct':>9} {'expenses':>9} {'time s':>8} {'exp. s':>7} "
              f"{'entries/s':>10} {'growth':>7} {'n log n':>8} {'baseline s':>11} {'ratio':>6} "
              f"{'cpu s':>6} {'base cpu':>8} {'ratio':>6}")
        previous = None
        slowest: dict[str, float] = {}
        for size in sizes:
            month = variant(months[size])
            runs, base_runs = [], []
            for _ in range(max(1, args.repeat)):  # alternately, so noise falls on both
                runs.append(run_once(month))
                base_runs.append(run_once(month, baseline=True))
            time_s, exp_s, per_rule, findings, _ = min(runs, key=lambda r: r[0] + r[1])
            base_time, base_exp, _, base_findings, _ = min(base_runs, key=lambda r: r[0] + r[1])
            cpu, base_cpu = min(r[4] for r in runs), min(r[4] for r in base_runs)
            if not findings.equals(base_findings):
                print(f"   the baseline's findings differ at {size:,} entries")
                met = False
            total, base_total = time_s + exp_s, base_time + base_exp
            growth = nlogn = ""
            if previous is not None:
                prev_size, prev_total = previous
                growth = f"{total / prev_total:.2f}x"
                nlogn = f"{size * math.log(size) / (prev_size * math.log(prev_size)):.2f}x"
            print(f"{size:>10,} {month.entries['narrative'].nunique():>9,} "
                  f"{len(month.expenses):>9,} {time_s:>8.2f} {exp_s:>7.2f} "
                  f"{size / total:>10,.0f} {growth:>7} {nlogn:>8} {base_total:>11.2f} "
                  f"{base_total / total:>5.2f}x {cpu:>6.2f} {base_cpu:>8.2f} {base_cpu / cpu:>5.2f}x")
            previous = (size, total)
            if size == GOAL_SIZE:
                met &= total < GOAL_SECONDS
                slowest = per_rule
                met &= split_scans(month, findings, total, args.repeat)
        if slowest:
            top = sorted(slowest.items(), key=lambda kv: -kv[1])[:6]
            print(f"   slowest rules at {GOAL_SIZE:,}: "
                  + ", ".join(f"{rule} {sec:.2f} s" for rule, sec in top))
    if GOAL_SIZE in sizes:
        print(f"\ngoal: {GOAL_SIZE:,} entries (time and expenses) in under {GOAL_SECONDS:.0f} s: "
              + ("met" if met else "MISSED") + " (wall clock); ratio = baseline s / billxl's s (best "
              "of each), by the wall clock and by CPU time")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
