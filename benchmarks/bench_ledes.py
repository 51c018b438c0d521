"""Speed of reading and validating LEDES 1998B, beside the ``ledes-parser`` package from PyPI.

    .venv/bin/python benchmarks/bench_ledes.py [--lines 100000] [--repeat 2] [--portal legaltracker]

A month of invoices (about 50 lines each: fees with UTBMS codes and distinct narratives,
expenses, now and then an invoice-level fee) is written as one LEDES 1998B file by billxl's own
writer, in cp1252 with CRLF line ends. Then, in the same run, each side in a fresh Python
process of its own, one after the other:

* billxl reads it into exact frames and validates it fully (structure, formats, arithmetic,
  consistency, UTBMS codes, dates; with ``--portal`` also that portal's rules);
* ``ledes-parser`` (a public LEDES 1998B parser, which checks no arithmetic) parses the same
  file (decoded, with LF line ends, as its grammar wants).

**Cold** is a process's first run: from before its imports to its result, file read included
(imports, grammar, code sets and caches loaded on the way). **Warm** is the best of
``--repeat`` more runs in the same process, the file read again each time (billxl's caches and
ledes-parser's grammar kept). Printed: seconds and lines per second of each, cold against cold
and warm against warm, and the ratios.

ledes-parser is not a billxl dependency and cannot share billxl's environment: 1.5.1 pins
``lark==1.1.9`` and ``lark-parser==0.12.0`` (two distributions of one ``lark`` package) where
Jupyter's ``rfc3987-syntax`` needs ``lark>=1.2.2``. So the baseline runs in a small virtual
environment of its own, made on the first run in ``~/.cache/billxl/bench-ledes-parser`` (or
``$XDG_CACHE_HOME``) with ``pip install ledes-parser==1.5.1``, or in ``--baseline-python`` if
given. Goal (issue 5): 100,000 lines parsed and validated in under 1 s (warm) on this 2-core
machine, and at least 15 times faster than ledes-parser, warm against warm.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS, GOAL_RATIO = 1.0, 15.0
BASELINE = "ledes-parser==1.5.1"
# pkg_resources, which ledes-parser imports, left setuptools in 81
BASELINE_PINS = (BASELINE, "setuptools<81")
HERE = Path(__file__).resolve()

_TASKS = ["L110", "L120", "L130", "L160", "L210", "L230", "L250", "L310", "L320", "L330",
          "L340", "L350", "L430", "L510", "L520"]
_ACTIVITIES = ["A101", "A102", "A103", "A104", "A105", "A106", "A107", "A108"]
_EXPENSES = ["E101", "E105", "E106", "E107", "E108", "E110", "E111", "E112", "E115"]
_CLASSES = [("PARTNR", 65000), ("ASSOC", 42500), ("OFCOUN", 55000), ("PARLGL", 19500)]
# ASCII names: ledes-parser's grammar takes no accented letter in TIMEKEEPER_NAME
_LAST = ["Arnsley", "Beaster", "Okafor", "Nakamura", "Schmidt", "Oliveira", "Kowalski", "Dubois",
         "Murphy", "Haddad", "Lindqvist", "Chen", "O'Neill", "Rossi", "Patel", "Svensson"]
_FIRST = ["Robert", "John", "Ada", "Ken", "Maria", "Lukas", "Chloe", "Omar", "Ines", "Wei"]
_VERBS = ["Draft", "Revise", "Review", "Analyze", "Prepare", "Research", "Attend",
          "Correspond with client re", "Telephone conference with opposing counsel re",
          "Strategize re"]
_OBJECTS = ["motion to dismiss", "deposition outline", "expert report", "discovery responses",
            "privilege log", "settlement agreement", "summary judgment brief", "trial exhibits",
            "witness statement", "client\u2019s document production"]


def month_of_lines(n: int, seed: int = 2026):
    """A month of invoice lines in billxl's canonical frame (exact integers throughout)."""
    import numpy as np
    import pandas as pd

    from billxl.ledes.formats import LINE_COLUMNS

    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 80, n // 20 + 1)
    invoice = np.repeat(np.arange(len(sizes)), sizes)[:n]
    line_no = np.concatenate([np.arange(1, s + 1) for s in sizes])[:n]
    kind = rng.random(n)
    is_fee = kind < 0.88
    is_if = (line_no == 2) & (rng.random(n) < 0.1)  # now and then one agreed fixed fee
    line_type = np.where(is_if, "IF", np.where(is_fee, "F", "E")).astype(object)
    tk = rng.integers(0, 400, n)
    klass = tk % len(_CLASSES)
    rate = np.array([c[1] for c in _CLASSES])[klass] + (tk % 7) * 2500
    hours = rng.integers(1, 60, n) * 100  # 0.1 h steps
    expense_units = rng.integers(1, 5, n) * 1000
    expense_cost = rng.integers(500, 90000, n)
    fee_units = np.where(line_type == "F", hours, np.where(line_type == "E", expense_units, 1000))
    unit = np.where(line_type == "F", rate, np.where(line_type == "E", expense_cost,
                                                     rng.integers(1, 40, n) * 25000))
    extension = fee_units * unit // 1000  # whole cents here: units are 0.1 h, rates cents
    adjustment = np.where((line_type == "F") & (rng.random(n) < 0.1), -(extension // 10), 0)
    amount = extension + adjustment
    totals = pd.Series(amount).groupby(invoice).transform("sum").to_numpy()
    day = rng.integers(1, 32, n)
    dates = np.datetime64("2026-10-01") + (day - 1).astype("timedelta64[D]")
    narrative = (np.array(_VERBS, dtype=object)[rng.integers(0, len(_VERBS), n)] + " "
                 + np.array(_OBJECTS, dtype=object)[rng.integers(0, len(_OBJECTS), n)]
                 + "; item " + np.arange(n).astype(str).astype(object))
    fee = line_type == "F"
    blank = np.full(n, "", dtype=object)
    numbers = np.char.add("INV", np.char.zfill(invoice.astype(str), 6)).astype(object)
    frame = {
        "line": np.zeros(n, dtype=np.int64), "invoice_number": numbers,
        "client_id": np.char.add("C", np.char.zfill((invoice % 300).astype(str), 4))
        .astype(object),
        "law_firm_matter_id": np.char.add("M", np.char.zfill(invoice.astype(str), 6))
        .astype(object),
        "client_matter_id": np.char.add("CLM-", invoice.astype(str)).astype(object),
        "law_firm_id": np.full(n, "12-3456789", dtype=object),
        "invoice_description": np.full(n, "For professional services rendered in October 2026",
                                       dtype=object),
        "line_item_number": line_no.astype(str).astype(object), "line_type": line_type,
        "task_code": np.where(fee, np.array(_TASKS, dtype=object)[tk % len(_TASKS)], ""),
        "expense_code": np.where(line_type == "E", np.array(_EXPENSES, dtype=object)[
            tk % len(_EXPENSES)], ""),
        "activity_code": np.where(fee, np.array(_ACTIVITIES, dtype=object)[
            day % len(_ACTIVITIES)], ""),
        "timekeeper_id": np.where(fee, np.char.add("TK", tk.astype(str)).astype(object), ""),
        "timekeeper_name": np.where(fee, np.array(_LAST, dtype=object)[tk % len(_LAST)] + ", "
                                    + np.array(_FIRST, dtype=object)[tk // 40 % len(_FIRST)], ""),
        "timekeeper_classification": np.where(fee, np.array([c[0] for c in _CLASSES],
                                                            dtype=object)[klass], ""),
        "line_item_description": np.where(line_type == "IF", "Agreed fixed fee", narrative),
        "currency": np.full(n, "USD", dtype=object), "tax_percent": np.full(n, "0", dtype=object),
        "invoice_date": np.full(n, np.datetime64("2026-10-31"), dtype="datetime64[ns]"),
        "billing_start_date": np.full(n, np.datetime64("2026-10-01"), dtype="datetime64[ns]"),
        "billing_end_date": np.full(n, np.datetime64("2026-10-31"), dtype="datetime64[ns]"),
        "line_item_date": dates.astype("datetime64[ns]"),
        "quantity_milli": fee_units, "unit_minor": unit, "adjustment_minor": adjustment,
        "amount_minor": amount, "tax_minor": np.zeros(n, dtype=np.int64),
        "line_total_minor": amount, "invoice_total_minor": totals,
        "invoice_tax_minor": np.zeros(n, dtype=np.int64), "invoice_net_minor": totals,
        "reported_tax_minor": np.zeros(n, dtype=np.int64),
    }
    for column in LINE_COLUMNS:
        frame.setdefault(column, blank)
    return pd.DataFrame({c: frame[c] for c in LINE_COLUMNS})


def child(tool: str, path: str, repeat: int, portal: str | None) -> None:
    """In a fresh process: one cold run, then ``repeat`` warm runs; prints JSON."""
    started = time.perf_counter()
    if tool == "billxl":
        from billxl.ledes import validate

        def run():
            result = validate(path, portal=portal)
            findings = result.findings
            return (len(result.file.lines), len(findings),
                    int((findings["severity"] == "error").sum()))
    else:
        from ledes_parser import get_parser

        parser = get_parser("LEDES98B")

        def run():
            text = Path(path).read_bytes().decode("cp1252").replace("\r\n", "\n")
            return (len(parser.parse(text)["line_items"]), 0, 0)
    counts = run()
    cold = time.perf_counter() - started
    warm = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        warm = min(warm, time.perf_counter() - began)
    print(json.dumps({"cold": cold, "warm": warm, "counts": counts}))


def measure(python: str, tool: str, path: Path, repeat: int, portal: str | None) -> dict:
    command = [python, str(HERE), "--child", tool, "--file", str(path), "--repeat", str(repeat)]
    if portal:
        command += ["--portal", portal]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def baseline_python(given: str | None) -> str | None:
    """The interpreter that has ledes-parser: ``given``, else the benchmark's own environment
    (made on first use); None, with a note, if it cannot be made."""
    if given:
        return given
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "billxl" / "bench-ledes-parser"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    ready = venv / "ready"
    if not ready.exists() or ready.read_text() != "\n".join(BASELINE_PINS):
        print(f"making the baseline's environment in {venv} (pip install {BASELINE}) ...",
              flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", *BASELINE_PINS], check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"ledes-parser: its environment could not be made ({error}); baseline "
                  "skipped (give --baseline-python with ledes-parser installed)")
            return None
        ready.write_text("\n".join(BASELINE_PINS))
    return str(python)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="warm runs after the cold one")
    parser.add_argument("--portal", default=None, help="also apply this portal's rules")
    parser.add_argument("--baseline-python", default=None,
                        help="an interpreter with ledes-parser installed (default: the "
                             "benchmark's own environment, made on first use)")
    parser.add_argument("--child", choices=("billxl", "ledes-parser"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.repeat, args.portal)
        return 0

    from billxl.ledes.writer import render

    folder = Path(tempfile.mkdtemp(prefix="bench_ledes_"))
    path = folder / "month.txt"
    start = time.perf_counter()
    path.write_bytes(render(month_of_lines(args.lines), "1998B").data)
    print(f"LEDES 1998B file: {args.lines:,} lines, {path.stat().st_size / 1e6:.1f} MB (cp1252, "
          f"CRLF), written by billxl in {time.perf_counter() - start:.2f} s")
    other = baseline_python(args.baseline_python)

    ours = measure(sys.executable, "billxl", path, args.repeat, args.portal)
    lines, findings, errors = ours["counts"]
    assert lines == args.lines and errors == 0, ours
    theirs = measure(other, "ledes-parser", path, args.repeat, None) if other else None
    under = args.portal or "the formats' rules"
    print(f"\n{'':52} {'cold s':>8} {'lines/s':>10} {'warm s':>8} {'lines/s':>10}")

    def row(label: str, m: dict, n: int) -> None:
        print(f"{label:52} {m['cold']:8.3f} {n / m['cold']:10,.0f} {m['warm']:8.3f} "
              f"{n / m['warm']:10,.0f}")
    row(f"billxl parse + full validation ({under})", ours, lines)
    print(f"   {findings:,} findings, {errors:,} errors; warm: best of {args.repeat}")
    met = ours["warm"] < GOAL_SECONDS
    if theirs is None:
        print(f"\ngoal under {GOAL_SECONDS:.0f} s (warm): {'met' if met else 'MISSED'}; "
              "the ratio not measured")
        return 0 if met else 1
    items = theirs["counts"][0]
    assert items == args.lines, theirs
    row("ledes-parser parse only (no arithmetic checks)", theirs, items)
    cold, warm = theirs["cold"] / ours["cold"], theirs["warm"] / ours["warm"]
    met &= warm >= GOAL_RATIO
    print(f"ratio: billxl is {cold:.1f}x faster cold, {warm:.1f}x faster warm, with full "
          f"validation; goal under {GOAL_SECONDS:.0f} s and at least {GOAL_RATIO:.0f}x (warm): "
          f"{'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
