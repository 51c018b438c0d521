"""How fast does billxl post receipts? One command, figures and baseline from one run.

    python benchmarks/bench_payments.py                          # 100,000 receipts, SQLite
    python benchmarks/bench_payments.py --pg postgresql://...    # and PostgreSQL
    python benchmarks/bench_payments.py --receipts 20000         # a quick run

(PostgreSQL is also measured when BILLXL_TEST_PG_URL is set; its database is emptied first.)

Builds a firm of 5,000 clients with 50,000 open invoices (fees and expenses lines) straight into
a fresh ledger, and a bank-style receipt file of realistic mix: receipts naming their invoices
in the remittance (in full, partly, overpaid, ``Inv 123`` without zeros), receipts equal to an
invoice's balance, receipts on account of a client (by id or by the payer's name), and
unidentified payers. Then, on each backend, for 10,000 and for the full count, it times
``payments.post_receipts`` end to end -- read, check, match against every open invoice,
allocate, write in one transaction -- on a fresh copy of the ledger, and prints receipts per
second, the time per stage and the scaling from the small file to the big one. Posting the
same file again (every receipt a duplicate) is timed too.

Baseline, from the same run: pandas.read_csv of the file plus a bare bulk insert of the same
rows into the receipts table (no checking, no matching, no allocations): the floor for the
I/O billxl cannot avoid. Goal: the full post under 10 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

GOAL_SECONDS = 10.0
FIRM = {"name": "Bench & Co LLP", "law_firm_id": "00-0000000", "currency": "USD"}


# --------------------------------------------------------------------------- data
def reference(clients: int) -> dict[str, pd.DataFrame]:
    ids = [f"C{i:05d}" for i in range(clients)]
    return {
        "offices": pd.DataFrame([{"office_id": "NYC", "name": "New York", "currency": "USD"}]),
        "timekeepers": pd.DataFrame([{"timekeeper_id": f"P{i}", "first_name": "Pat",
                                      "last_name": f"Partner {i}", "classification": "PARTNR",
                                      "office_id": "NYC", "active_from": pd.Timestamp("2020-01-01")}
                                     for i in range(20)]),
        "clients": pd.DataFrame({"client_id": ids, "name": [f"Client {i} Holdings Inc" for i in
                                                            range(clients)],
                                 "currency": "USD", "payment_terms_days": 30}),
        "matters": pd.DataFrame({"matter_id": [f"{c}-1" for c in ids], "client_id": ids,
                                 "name": "General", "opened_on": pd.Timestamp("2025-01-01"),
                                 "billing_partner_id": [f"P{i % 20}" for i in range(clients)],
                                 "office_id": "NYC"}),
    }


def invoices(count: int, clients: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    client = rng.integers(0, clients, count)
    day = pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 210, count), unit="D")
    fees = rng.integers(500, 50_000, count) * 100 + rng.integers(0, 100, count)
    expenses = np.where(rng.random(count) < 0.4, rng.integers(10, 5_000, count) * 100, 0)
    pk = np.arange(1, count + 1)
    head = pd.DataFrame({
        "invoice_pk": pk, "number": [f"{n:06d}" for n in pk], "kind": "invoice",
        "client_id": [f"C{c:05d}" for c in client], "matter_id": [f"C{c:05d}-1" for c in client],
        "office_id": "NYC", "currency": "USD", "invoice_date": day,
        "due_date": day + pd.Timedelta(days=30), "description": "Professional services",
        "payor_percent": "100", "fees_minor": fees, "expenses_minor": expenses,
        "discount_minor": 0, "tax_minor": 0, "total_minor": fees + expenses, "rounding": "half_up",
        "finalized_at": None, "finalized_by": "bench"})
    has_expenses = expenses > 0
    lines = pd.concat([
        pd.DataFrame({"invoice_pk": pk, "line_no": 1, "line_type": "F", "work_date": day,
                      "narrative": "Fees", "quantity_milli": 1000, "unit_minor": fees,
                      "standard_amount_minor": fees, "amount_minor": fees}),
        pd.DataFrame({"invoice_pk": pk[has_expenses], "line_no": 2, "line_type": "E",
                      "work_date": day[has_expenses], "narrative": "Disbursements",
                      "quantity_milli": 1000, "unit_minor": expenses[has_expenses],
                      "standard_amount_minor": expenses[has_expenses],
                      "amount_minor": expenses[has_expenses]})], ignore_index=True)
    return head, lines


def receipt_file(count: int, head: pd.DataFrame, clients: int, rng: np.random.Generator,
                 path: Path) -> Path:
    """A receipt CSV (canonical layout) with the mix described in the module's text."""
    pick = rng.integers(0, len(head), count)
    total = head["total_minor"].to_numpy()[pick]
    number = head["number"].to_numpy()[pick]
    owner = head["client_id"].to_numpy()[pick]
    kind = rng.choice(["named", "exact", "account", "payer_name", "unknown"], count,
                      p=[0.35, 0.20, 0.25, 0.12, 0.08])
    share = np.where(rng.random(count) < 0.7, 1.0, rng.uniform(0.3, 1.3, count))
    amount = np.where(kind == "named", np.maximum((total * share).astype(np.int64), 100),
                      np.where(kind == "exact", total,
                               rng.integers(100, 30_000, count) * 100))
    loose = rng.random(count) < 0.2
    remittance = np.where(kind == "named",
                          np.where(loose, ["INV " + n.lstrip("0") for n in number],
                                   ["Payment of invoice " + n for n in number]),
                          np.where(kind == "unknown", "Payment", ""))
    client = np.where(np.isin(kind, ["named", "exact", "account"]), owner, "")
    payer = np.where(kind == "payer_name",
                     [f"CLIENT {int(c[1:])} HOLDINGS, INC." for c in owner],
                     np.where(kind == "unknown",
                              [f"Unknown Payer {i}" for i in range(count)], ""))
    day = pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(0, 31, count), unit="D")
    frame = pd.DataFrame({"receipt_id": [f"BNK{i:08d}" for i in range(count)],
                          "date": day.strftime("%Y-%m-%d"), "client_id": client, "payer": payer,
                          "amount": [f"{a // 100}.{a % 100:02d}" for a in amount],
                          "currency": "USD", "method": "wire", "reference": "",
                          "remittance": remittance})
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- measuring
def fresh_ledger(url: str, ref: dict, head: pd.DataFrame, lines: pd.DataFrame):
    from billxl.store import tables as t
    from billxl.store.ledger import Ledger

    if url.startswith("sqlite:///"):
        for old in Path(url[len("sqlite:///"):]).parent.glob("bench.db*"):
            old.unlink()
    if url.startswith("postgresql"):
        import sqlalchemy as sa

        from billxl.store.db import resolve_url

        engine = sa.create_engine(resolve_url(url))
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    ledger = Ledger.create(url, firm=FIRM, actor="bench")
    ledger.load_reference(ref, actor="bench")
    with ledger.transaction() as conn:
        # the bulk writer passes text: SQLAlchemy's SQLite layout, or ISO with an offset
        now = datetime.now(UTC)
        head = head.assign(finalized_at=now.strftime("%Y-%m-%d %H:%M:%S.%f")
                           if ledger.dialect == "sqlite" else now.isoformat())
        ledger.bulk_insert(conn, t.invoices, head)
        ledger.bulk_insert(conn, t.invoice_lines, lines)
        # some clients' own terms: a short-payment tolerance, pro rata, invoice by invoice
        ids = ref["clients"]["client_id"]
        n = np.arange(len(ids))
        ledger.bulk_insert(conn, t.cash_terms, pd.DataFrame({
            "client_id": ids, "allocation_policy": np.where(n % 20 == 7, "pro_rata", "oldest"),
            "expenses_first": n % 5 != 3,
            "short_pay_tolerance_minor": np.where(n % 10 == 1, 2500, 0)})[n % 5 != 0])
        if ledger.dialect == "postgresql":  # explicit keys were written: move the sequence on
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('invoices', 'invoice_pk'), "
                                 "(SELECT max(invoice_pk) FROM invoices))")
            conn.exec_driver_sql("ANALYZE")
    return ledger


def post(ledger, path: Path) -> dict:
    from billxl import payments

    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, time.perf_counter())

    started = time.perf_counter()
    result = payments.post_receipts(ledger, path, "canonical", actor="bench", progress=progress)
    finished = time.perf_counter()
    marks = sorted(stages.items(), key=lambda kv: kv[1]) + [("(commit)", finished)]
    steps = {name: marks[i + 1][1] - at for i, (name, at) in enumerate(marks[:-1])}
    steps = {("Reading and checking" if k.startswith("Reading") else k): v for k, v in steps.items()}
    again = time.perf_counter()
    repost = payments.post_receipts(ledger, path, "canonical", actor="bench")
    return {"seconds": finished - started, "stages": steps, "summary": result.summary_dict(),
            "repost_seconds": time.perf_counter() - again, "repost_posted": repost.posted}


def floor(ledger, path: Path) -> float:
    """pandas.read_csv + a bare bulk insert of the rows into receipts: the I/O floor."""
    from billxl.store import tables as t

    started = time.perf_counter()
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = pd.DataFrame({"source": "floor", "source_key": raw["receipt_id"],
                         "receipt_id": raw["receipt_id"], "received_on": raw["date"],
                         "client_id": None, "payer": raw["payer"],
                         "amount_minor": (raw["amount"].str.replace(".", "", regex=False)
                                          .astype("int64")),
                         "currency": raw["currency"], "method": raw["method"],
                         "reference": raw["reference"], "remittance": raw["remittance"],
                         "status": "unmatched", "unapplied_minor": 0, "row_hash": "",
                         "posted_at": "2026-11-01 00:00:00.000000", "posted_by": "floor"})
    rows["unapplied_minor"] = rows["amount_minor"]
    with ledger.transaction() as conn:
        ledger.bulk_insert(conn, t.receipts, rows)
        conn.rollback()
    return time.perf_counter() - started


def measure(url: str, label: str, sizes: list[int], files: dict[int, Path], ref, head, lines,
            with_floor: bool) -> dict[int, dict]:
    out = {}
    for size in sizes:
        print(f"{label}: a fresh ledger with {len(head):,} open invoices; posting {size:,} "
              "receipts ...", flush=True)
        ledger = fresh_ledger(url, ref, head, lines)
        out[size] = post(ledger, files[size])
        if with_floor and size == sizes[-1]:
            out[size]["floor_seconds"] = floor(ledger, files[size])
        ledger.dispose()
    return out


def report(label: str, figures: dict[int, dict]) -> None:
    sizes = sorted(figures)
    print(f"\n{label}")
    print(f"  {'receipts':>9} {'seconds':>8} {'receipts/s':>11} {'repost s':>9}   "
          "posted / unmatched / allocations / write-offs")
    for size in sizes:
        f, s = figures[size], figures[size]["summary"]
        print(f"  {size:9,} {f['seconds']:8.2f} {size / f['seconds']:11,.0f} "
              f"{f['repost_seconds']:9.2f}   {s['posted']:,} / {s['unmatched']:,} / "
              f"{s['allocations']:,} / {s['write_offs']:,}   (reposted: {f['repost_posted']} new)")
    big = figures[sizes[-1]]
    print("  stages of the biggest run: " + ", ".join(f"{k.lower()} {v:.2f} s"
                                                      for k, v in big["stages"].items()))
    if len(sizes) > 1:
        small = figures[sizes[0]]
        ratio = big["seconds"] / small["seconds"]
        print(f"  scaling {sizes[0]:,} -> {sizes[-1]:,}: {sizes[-1] / sizes[0]:.0f}x the "
              f"receipts took {ratio:.1f}x the time")
    if "floor_seconds" in big:
        print(f"  baseline (read_csv + bare bulk insert, no checks, no matching): "
              f"{big['floor_seconds']:.2f} s; billxl / baseline = "
              f"{big['seconds'] / big['floor_seconds']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=5_000)
    parser.add_argument("--small", type=int, default=10_000, help="the smaller run (scaling)")
    parser.add_argument("--pg", help="also measure on this PostgreSQL database (emptied first)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    ref = reference(args.clients)
    head, lines = invoices(args.invoices, args.clients, rng)
    sizes = sorted({min(args.small, args.receipts), args.receipts})
    scratch = Path(tempfile.mkdtemp(prefix="bench_payments_"))
    try:
        files = {n: receipt_file(n, head, args.clients, np.random.default_rng(args.seed + n),
                                 scratch / f"receipts_{n}.csv") for n in sizes}
        results = {"SQLite": measure(f"sqlite:///{scratch / 'bench.db'}", "SQLite", sizes, files,
                                     ref, head, lines, True)}
        for stale in scratch.glob("bench.db*"):
            stale.unlink()
        pg = args.pg or os.environ.get("BILLXL_TEST_PG_URL")
        if pg:
            results["PostgreSQL"] = measure(pg, "PostgreSQL", sizes, files, ref, head, lines,
                                            True)
        print(f"\n{args.receipts:,} receipts against {args.invoices:,} open invoices of "
              f"{args.clients:,} clients ({date.today()})")
        for label, figures in results.items():
            report(label, figures)
        sqlite_big = results["SQLite"][args.receipts]["seconds"]
        verdict = "meets" if sqlite_big < GOAL_SECONDS else "misses"
        print(f"\nGoal: {args.receipts:,} receipts in under {GOAL_SECONDS:.0f} s on SQLite: "
              f"{sqlite_big:.2f} s, {verdict} it.")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
