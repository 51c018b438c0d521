"""Mutation-testing figures: what mutmut made of money, billing, payments, trust and numbering.

mutmut (the ``bench`` extra) is configured in ``pyproject.toml`` under ``[tool.mutmut]``: the
modules it mutates and a fast test selection. A full run is hours on a small machine, so run it
by module or function (names are ``billxl.<module>.x_<function>__mutmut_<n>``, globs allowed),
from the repository root, then tally::

    mutmut run --max-children 1 "billxl.money*" "billxl.trust*" "billxl.store.numbering*"
    mutmut run --max-children 1 "billxl.billing.credit_notes*" "billxl.billing.invoicing*"
    mutmut run --max-children 1 "billxl.payments.x__pay_*" "billxl.payments.x__pro_rata*"
    python benchmarks/mutation_tally.py                    # per module
    python benchmarks/mutation_tally.py --by-function      # per function
    python benchmarks/mutation_tally.py --survivors        # the names left alive
    mutmut show billxl.money.x_extend__mutmut_13           # what one of them changed

A module too big to run whole (``billing.prebill``: 4,470 mutants, about 13 s of tests each for a
survivor) is sampled: ``--sample N --of GLOB`` prints N of its names drawn with a fixed seed
(``--seed``, 13 by default; a larger N keeps the smaller one's names), to run by name::

    mutmut run --max-children 1 $(python benchmarks/mutation_tally.py --sample 120 --of "billxl.billing.prebill.*")

mutmut keeps its verdicts in ``mutants/`` (not in git) and re-tests only functions whose code
changed; a new test does not reopen a verdict, so re-run the survivors by name after adding
one (``mutmut run $(python benchmarks/mutation_tally.py --survivors | cut -d: -f1)``). A change
to ``[tool.mutmut]``'s test selection or pytest arguments throws every verdict away, unless
``mutants/mutmut-stats.json`` is deleted first (mutmut then gathers the map afresh and keeps
the verdicts: a selection widened by more test files can only kill more, so a killed mutant
stays killed; re-run the survivors and the "no tests"). mutmut
maps each function to the tests that reach it once, in ``mutants/mutmut-stats.json`` (new tests
are added to it, old ones are not re-traced): a function added since reads "no tests" until that
file is deleted and gathered again (the verdicts stay). mutmut copies ``src/`` as it is when it
starts, so run it from a checkout no one is editing (a clone of the commit).

Per module the tally prints the mutants generated, how many were run, and the verdicts of
those: killed, survived, equivalent (a survivor listed in ``mutation_equivalents.txt``, beside
this script, with the reason no test can tell it from the code), timeout, suspicious, no tests
(no selected test reaches the function).

``--before`` prints the first run's figures (2 December 2026, before any survivor was worked
on; :data:`FIRST_RUN`) above today's, so that the two can be quoted side by side. ``score`` is
killed out of the mutants run less the equivalent ones (a "no tests" counts as not killed);
a sampled module's figures are its sample's.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.txt")
VERDICTS = ("killed", "survived", "equivalent", "timeout", "suspicious", "no tests")
#: The first run, before any survivor was worked on: {module: (generated, run, killed, survived)}
#: (nothing was listed as equivalent yet; no timeout, suspicious or untested mutant).
FIRST_RUN = {
    "billxl.billing.credit_notes": (435, 435, 336, 99),
    "billxl.billing.invoicing": (1432, 231, 163, 68),
    "billxl.billing.prebill": (3859, 0, 0, 0),
    "billxl.billing.schedules": (151, 0, 0, 0),
    "billxl.money": (206, 206, 161, 45),
    "billxl.payments": (4808, 454, 350, 104),
    "billxl.store.numbering": (39, 39, 36, 3),
    "billxl.trust": (572, 572, 420, 152),
}


def equivalents(path: Path) -> dict[str, str]:
    """{mutant name: why it is equivalent} from ``path`` (a name and a reason a line; # notes)."""
    if not path.exists():
        return {}
    lines = (line.split(maxsplit=1) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in lines}


def verdicts(mutants: Path, equivalent: dict[str, str]) -> dict[str, dict[str, str]]:
    """{module: {mutant name: status}} from mutmut's ``*.meta`` files; unrun mutants are
    'not checked', survivors listed in ``equivalent`` 'equivalent'."""
    try:
        from mutmut.stats import status_by_exit_code
    except ImportError:
        sys.exit("mutmut is not installed: pip install -e '.[bench]'")
    out: dict[str, dict[str, str]] = {}
    for meta in sorted(mutants.glob("src/**/*.py.meta")):
        module = meta.relative_to(mutants / "src").as_posix().removesuffix(".py.meta")
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        out[module.replace("/", ".")] = {
            k: "equivalent" if status_by_exit_code[v] == "survived" and k in equivalent
            else status_by_exit_code[v] for k, v in codes.items()}
    return out


def function_of(name: str) -> str:
    """billxl.payments.x__pro_rata__mutmut_7 -> billxl.payments._pro_rata (a method keeps
    its class: xǁ_Bookǁitems -> _Book.items)."""
    module, _, mangled = name.rpartition("__mutmut_")[0].rpartition(".")
    func = mangled.removeprefix("x_").replace("xǁ", "").replace("ǁ", ".")
    return f"{module}.{func}"


def tally(by_key: dict[str, dict[str, str]], key=lambda module, name: module) -> list[dict]:
    rows: dict[str, collections.Counter] = {}
    for module, statuses in by_key.items():
        for name, status in statuses.items():
            rows.setdefault(key(module, name), collections.Counter())[status] += 1
    out = []
    for label, c in rows.items():
        run = sum(n for s, n in c.items() if s != "not checked")
        other = run - sum(c[v] for v in VERDICTS)
        out.append({"": label, "generated": sum(c.values()), "run": run,
                    **{v: c[v] for v in VERDICTS}, "other": other})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants",
                        help="mutmut's folder (default: mutants/ at the repository root)")
    parser.add_argument("--by-function", action="store_true", help="a row per function")
    parser.add_argument("--survivors", action="store_true",
                        help="list the mutants run, not killed and not known equivalent")
    parser.add_argument("--equivalents", type=Path, default=EQUIVALENTS,
                        help="survivors read and found equivalent (default: %(default)s)")
    parser.add_argument("--all", action="store_true", help="list modules with nothing run too")
    parser.add_argument("--before", action="store_true",
                        help="print the first run's figures too (FIRST_RUN), above today's")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="print N mutant names drawn at random (see --of, --seed) to run by "
                             "name; a larger N keeps the names of a smaller one")
    parser.add_argument("--of", default="*", metavar="GLOB",
                        help="the mutants --sample draws from (default: all), e.g. "
                             "'billxl.billing.prebill.*'")
    parser.add_argument("--seed", type=int, default=13,
                        help="--sample's seed (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.mutants.is_dir():
        print(f"No {args.mutants}: run mutmut first (see this script's docstring).")
        return 1
    found = verdicts(args.mutants, equivalents(args.equivalents))
    if args.sample is not None:
        names = sorted(n for statuses in found.values() for n in statuses
                       if fnmatch.fnmatchcase(n, args.of))
        random.Random(args.seed).shuffle(names)  # a larger N keeps a smaller N's names
        print("\n".join(sorted(names[:args.sample])))
        return 0
    if args.survivors:
        for statuses in found.values():
            for name, status in statuses.items():
                if status not in ("killed", "equivalent", "not checked"):
                    print(f"{name}: {status}")
        return 0
    key = (lambda module, name: function_of(name)) if args.by_function else (lambda m, n: m)
    rows = [r for r in tally(found, key) if args.all or r["run"]]
    if args.before:
        first = [{"": m, **dict(zip(("generated", "run", "killed", "survived"), f, strict=True))}
                 for m, f in FIRST_RUN.items()]
        print("The first run (2 December 2026):")
        print_table(first)
        print("Now:")
    print_table(rows)
    return 0


def score(row: dict) -> str:
    """Killed out of the mutants run that are not equivalent (a 'no tests' counts against)."""
    tested = row.get("run", 0) - row.get("equivalent", 0)
    return f"{100 * row.get('killed', 0) / tested:.1f}%" if tested else "-"


def print_table(rows: list[dict]) -> None:
    width = max([len(r[""]) for r in rows] + [6])
    columns = ["generated", "run", *VERDICTS, "other"]
    print(f"{'':{width}}  " + "  ".join(f"{c:>9}" for c in [*columns, "score"]))
    total = {"": "total", **{c: sum(r.get(c, 0) for r in rows) for c in columns}}
    for r in [*rows, total]:
        print(f"{r['']:{width}}  " + "  ".join(f"{r.get(c, 0):>9}" for c in columns)
              + f"  {score(r):>9}")


if __name__ == "__main__":
    sys.exit(main())
