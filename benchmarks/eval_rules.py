"""Recall and precision of every rule against the demo firm's planted problems.

    .venv/bin/python benchmarks/eval_rules.py [--entries 6000] [--seed 2026] [--month 2026-10]

Builds the demo firm, runs the time and expense rules with the ledger context and the billing
period, and prints, per rule, what was planted, what was flagged and how much of it was right.
Goal (issue 3): recall >= 0.98 and precision >= 0.95 for every rule with planted cases.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from billxl.demo import build_firm
from billxl.rules import check_entries, check_expenses
from billxl.rules.evaluation import SCORE_COLUMNS, score
from billxl.rules.frames import inputs_from_demo

RECALL_GOAL, PRECISION_GOAL = 0.98, 0.95


def evaluate(entries: int = 6000, seed: int = 2026, month: str = "2026-10") -> pd.DataFrame:
    demo = build_firm(seed=seed, month=month, entries=entries)
    inputs = inputs_from_demo(demo)
    time_result = check_entries(inputs.entries, context=inputs.context, period=inputs.period)
    expense_result = check_expenses(inputs.expenses, context=inputs.context, period=inputs.period)
    truth = demo.ground_truth
    return pd.concat([score(time_result.findings, truth[truth["kind"] == "time"]).assign(kind="time"),
                      score(expense_result.findings, truth[truth["kind"] == "expense"])
                      .assign(kind="expense")], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    table = evaluate(args.entries, args.seed, args.month)
    took = time.perf_counter() - started
    planted = table[table["planted"] > 0]
    met = (planted["recall"] >= RECALL_GOAL) & (planted["precision"] >= PRECISION_GOAL)
    ok = met.reindex(table.index, fill_value=False)
    goal = ["" if p == 0 else ("met" if good else "MISSED")
            for p, good in zip(table["planted"], ok, strict=True)]
    shown = table[["kind", *SCORE_COLUMNS]].assign(goal=goal)
    print(f"demo firm: seed {args.seed}, {args.month}, {args.entries:,} time entries "
          f"({took:.1f} s to build and check)")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"))
    print(f"goal recall >= {RECALL_GOAL} and precision >= {PRECISION_GOAL}: "
          f"{int(met.sum())} of {len(planted)} planted rules meet it")
    return 0 if met.all() else 1


if __name__ == "__main__":
    sys.exit(main())
