"""Do two checkouts' narrative rules find exactly the same? (VAGUE, ADMIN_TASK, BLOCK_BILLING,
INTERNAL_CONFERENCE: rule, entry, severity, message, field and suggestion of every finding.)

    .venv/bin/python benchmarks/same_narrative_findings.py --before OTHER_SRC [--size 300000]

``OTHER_SRC`` is the ``src`` folder of another checkout (e.g. a ``git worktree`` of the commit
before a speed-up). Compared on bench_rules' demo month (the narratives as the demo writes them,
and each made distinct) and on the labelled set ``tests/data/narratives_eval/narratives.csv``.
Each checkout runs in its own process; exits 1 on any difference. A difference on the labelled
set's held-out half is counted, never shown (its rows and errors stay unread).
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = ("VAGUE", "ADMIN_TASK", "BLOCK_BILLING", "INTERNAL_CONFERENCE")
COLUMNS = ["rule", "entry_id", "severity", "message", "field", "suggestion"]
NARRATIVES = HERE.parent / "tests" / "data" / "narratives_eval" / "narratives.csv"


def build(size: int, seed: int, path: Path) -> None:
    sys.path.insert(0, str(HERE))
    from bench_rules import distinct_narratives, nested_months
    from billxl.demo import build_firm
    from billxl.rules.frames import inputs_from_demo

    full = inputs_from_demo(build_firm(seed=seed, month="2026-10", entries=size))
    month = nested_months(full, [size], seed)[size]
    ctx = month.context
    with path.open("wb") as f:
        pickle.dump({"demo month": month.entries,
                     "demo month, narratives distinct": distinct_narratives(month).entries,
                     "period": month.period,
                     "context": {k: getattr(ctx, k) for k in ("timekeepers", "matters",
                                                              "clients", "rates")}}, f)


def findings(data: Path, out: Path) -> None:
    """Run in the checkout under test: every data set's narrative findings, pickled."""
    import pandas as pd

    from billxl.rules import Context, check_entries
    from billxl.rules.evaluation import labelled_entries

    with data.open("rb") as f:
        months = pickle.load(f)
    context = Context(**months["context"])
    got = {}
    for name in ("demo month", "demo month, narratives distinct"):
        found = check_entries(months[name], context=context, period=months["period"]).findings
        got[name] = found
    labelled = pd.read_csv(NARRATIVES, dtype=str, keep_default_na=False)
    got["narratives_eval"] = check_entries(labelled_entries(labelled)).findings
    with out.open("wb") as f:
        pickle.dump({k: _narrative(v) for k, v in got.items()}, f)


def _narrative(found):
    rows = found[found["rule"].isin(RULES)][COLUMNS].astype(str)
    return rows.sort_values(COLUMNS).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=False)
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--findings", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.findings:
        findings(*args.findings)
        return 0
    tmp = Path(tempfile.gettempdir())
    data = tmp / f"billxl-same-narratives-{args.size}-{args.seed}.pickle"
    if not data.exists():
        build(args.size, args.seed, data)
    results = {}
    for side, src in (("before", args.before.resolve()), ("this", HERE.parent / "src")):
        out = tmp / f"billxl-same-narratives-{side}-{os.getpid()}.pickle"
        subprocess.run([sys.executable, __file__, "--findings", str(data), str(out)], check=True,
                       env={**os.environ, "PYTHONPATH": str(src)})
        with out.open("rb") as f:
            results[side] = pickle.load(f)
        out.unlink()
    same = True
    for name, before in results["before"].items():
        now = results["this"][name]
        equal = before.equals(now)
        same &= equal
        counts = before["rule"].value_counts().to_dict()
        print(f"{name}: {len(before):,} findings before, {len(now):,} now "
              f"({', '.join(f'{r} {counts.get(r, 0):,}' for r in RULES)}): "
              + ("identical" if equal else "DIFFERENT"))
        if not equal:
            diff = before.merge(now, how="outer", indicator=True)
            diff = diff[diff["_merge"] != "both"]
            if name == "narratives_eval":  # the held-out half's findings stay unread
                held = diff["entry_id"].isin(_held_out_ids())
                print(f"  {int(held.sum())} of the differences are on the held-out half (not shown)")
                diff = diff[~held]
            print(diff.head(20).to_string())
    return 0 if same else 1


def _held_out_ids() -> set[str]:
    """The ids of the labelled set's held-out half (whose findings are never shown)."""
    import pandas as pd

    from billxl.rules.evaluation import HELD_OUT, split_halves

    labelled = pd.read_csv(NARRATIVES, dtype=str, keep_default_na=False)
    return set(labelled.loc[split_halves(labelled) == HELD_OUT, "id"])


if __name__ == "__main__":
    sys.exit(main())
