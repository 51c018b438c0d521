"""Speed of the four narrative rules (VAGUE, ADMIN_TASK, BLOCK_BILLING, INTERNAL_CONFERENCE)
beside another checkout's, on the same month.

    .venv/bin/python benchmarks/bench_narratives.py [--base BASE_SRC] [--also OTHER_SRC ...]
                                                    [--size 300000] [--repeat 5]

The month is bench_rules' demo month with every narrative made distinct (the narrative rules
cannot share work between entries), built once and kept in a temporary pickle. Each run is a
fresh process calling ``check_entries``; runs of this checkout and of ``BASE_SRC`` (the ``src``
folder of another checkout, e.g. a ``git worktree`` of an older commit) alternate, so that the
machine's noise falls on both; the best of ``--repeat`` runs is shown, with the ratio. ``cpu``
is the CPU seconds of the whole check (process time), steadier than the wall clock's when other
work shares the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

NARRATIVE_RULES = ("VAGUE", "ADMIN_TASK", "BLOCK_BILLING", "INTERNAL_CONFERENCE")
HERE = Path(__file__).resolve().parent


def build(size: int, seed: int, path: Path) -> None:
    """Pickle the month (plain frames, so any checkout can read it)."""
    sys.path.insert(0, str(HERE))
    from bench_rules import distinct_narratives, nested_months
    from billxl.demo import build_firm
    from billxl.rules.frames import inputs_from_demo

    full = inputs_from_demo(build_firm(seed=seed, month="2026-10", entries=size))
    month = distinct_narratives(nested_months(full, [size], seed)[size])
    ctx = month.context
    with path.open("wb") as f:
        pickle.dump({"entries": month.entries, "period": month.period,
                     "context": {k: getattr(ctx, k) for k in ("timekeepers", "matters",
                                                              "clients", "rates")}}, f)


def run(path: Path) -> None:
    """One timed check of the pickled month; prints the rules' seconds as JSON."""
    import time

    from billxl.rules import Context, check_entries

    with path.open("rb") as f:
        data = pickle.load(f)
    started, cpu = time.perf_counter(), time.process_time()
    result = check_entries(data["entries"], context=Context(**data["context"]),
                           period=data["period"])
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"narrative": sum(result.seconds.get(r, 0.0) for r in NARRATIVE_RULES),
                      "total": total, "cpu": cpu,
                      **{r: result.seconds.get(r, 0.0) for r in NARRATIVE_RULES}}))


def timed(src: Path, path: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, __file__, "--run", str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="the src folder of the checkout to compare with")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="the src folder of a further checkout to time (shown as also1, ...)")
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        run(args.run)
        return 0
    path = Path(tempfile.gettempdir()) / f"billxl-bench-narratives-{args.size}-{args.seed}.pickle"
    if not path.exists():
        build(args.size, args.seed, path)
    sides = {"this": HERE.parent / "src"}
    if args.base:
        sides["base"] = args.base.resolve()
    for i, src in enumerate(args.also, 1):
        sides[f"also{i}"] = src.resolve()
    best: dict[str, dict[str, float]] = {}
    for i in range(args.repeat):
        for side, src in sides.items():
            got = timed(src, path)
            print(f"run {i + 1} {side:>5}: four narrative rules {got['narrative']:.2f} s, "
                  f"check_entries {got['total']:.2f} s ({got['cpu']:.2f} s CPU)", flush=True)
            for key, sec in got.items():
                best.setdefault(side, {})[key] = min(sec, best.get(side, {}).get(key, sec))
    print(f"\nbest of {args.repeat}, {args.size:,} distinct narratives:")
    keys = ("narrative", *NARRATIVE_RULES, "total", "cpu")
    print(f"{'':>6} " + " ".join(f"{k:>19}" for k in keys))
    for side, secs in best.items():
        print(f"{side:>6} " + " ".join(f"{secs[k]:>19.3f}" for k in keys))
    if "base" in best:
        for side in best:
            if side != "base":
                print(f"{side + '/b':>6} " + " ".join(f"{best[side][k] / best['base'][k]:>19.3f}"
                                                      for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
