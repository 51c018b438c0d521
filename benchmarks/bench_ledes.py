"""Speed of reading and validating LEDES 1998B, beside the ``ledes-parser`` package from PyPI.

    .venv/bin/python benchmarks/bench_ledes.py [--lines 100000] [--repeat 3] [--portal legaltracker]

A month of invoices (about 50 lines each: fees with UTBMS codes and distinct narratives,
expenses, now and then an invoice-level fee) is written as one LEDES 1998B file by billxl's own
writer, in cp1252 with CRLF line ends. Then, in the same run:

* billxl reads it into exact frames and validates it fully (structure, formats, arithmetic,
  consistency, UTBMS codes, dates; with ``--portal`` also that portal's rules): best of
  ``--repeat`` runs, each from the file on disk;
* ``ledes-parser`` (a public LEDES 1998B parser on PyPI, which checks no arithmetic) parses the
  same text once. It is not a billxl dependency: install it by hand to compare
  (``.venv/bin/pip install ledes-parser``); without it the baseline is skipped with a note.

Printed: seconds and lines per second for each, and the ratio. Goal (issue 5): 100,000 lines
parsed and validated in under 1 s on this 2-core machine, and at least 15 times faster than
ledes-parser.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from billxl.ledes import validate
from billxl.ledes.formats import LINE_COLUMNS
from billxl.ledes.writer import render

GOAL_SECONDS, GOAL_RATIO = 1.0, 15.0

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


def month_of_lines(n: int, seed: int = 2026) -> pd.DataFrame:
    """A month of invoice lines in billxl's canonical frame (exact integers throughout)."""
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


def best_of(repeat: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--portal", default=None, help="also apply this portal's rules")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench_ledes_"))
    path = folder / "month.txt"
    start = time.perf_counter()
    path.write_bytes(render(month_of_lines(args.lines), "1998B").data)
    size = path.stat().st_size
    print(f"LEDES 1998B file: {args.lines:,} lines, {size / 1e6:.1f} MB (cp1252, CRLF), "
          f"written by billxl in {time.perf_counter() - start:.2f} s")

    validate(path)  # imports, code sets and caches loaded once, before timing
    seconds, result = best_of(args.repeat, lambda: validate(path, portal=args.portal))
    findings = result.findings
    errors = int((findings["severity"] == "error").sum())
    under = args.portal or "the formats' rules"
    print(f"billxl parse + full validation ({under}): {seconds:.3f} s, "
          f"{args.lines / seconds:,.0f} lines/s; {len(findings):,} findings, {errors:,} errors "
          f"(best of {args.repeat})")
    assert len(result.file.lines) == args.lines and errors == 0

    try:
        from ledes_parser import get_parser
    except ImportError:
        print("ledes-parser: not installed, baseline skipped (.venv/bin/pip install "
              "ledes-parser to compare; it is not a billxl dependency)")
        return
    text = path.read_bytes().decode("cp1252").replace("\r\n", "\n")
    start = time.perf_counter()
    parsed = get_parser("LEDES98B").parse(text)
    baseline = time.perf_counter() - start
    items = len(parsed["line_items"])
    print(f"ledes-parser parse only (no arithmetic checks): {baseline:.3f} s, "
          f"{items / baseline:,.0f} lines/s ({items:,} line items)")
    ratio = baseline / seconds
    met = seconds < GOAL_SECONDS and ratio >= GOAL_RATIO
    print(f"ratio: billxl is {ratio:.1f}x faster with full validation; goal under "
          f"{GOAL_SECONDS:.0f} s and at least {GOAL_RATIO:.0f}x: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
