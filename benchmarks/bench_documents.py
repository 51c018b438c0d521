"""How fast does billxl render invoice documents: Typst beside the HTML path, 1 and 2 processes.

    python benchmarks/bench_documents.py              # 200 invoices
    python benchmarks/bench_documents.py --n 40       # a quick run

Builds a SQLite ledger with ``n`` generated invoices (a mix of small and long ones: 2 to 60 fee
lines, up to 6 expenses, some with a discount, VAT on the GBP and EUR clients), then renders
them all with :func:`billxl.documents.render_invoices`:

* PDF with billxl's Typst templates (``pdf: engine: typst``, the default), and PDF with the HTML
  templates laid out by WeasyPrint (``pdf: engine: html``, billxl's first renderer: the
  baseline), each with 1 and with 2 worker processes, on the same invoices;
* XLSX, with 1 and 2 workers.

Each run is a fresh subprocess (cold against cold: nothing warm carries over from one to the
next); its clock starts once billxl is imported and the ledger opened, and includes starting
the workers, loading the engine and the fonts, reading every invoice from the ledger and
writing every file. Prints seconds and invoices per second for each, with the CPU seconds of
all the run's processes beside them (on a busy machine the wall clock says more about the
neighbours than about billxl; CPU seconds much above 2 x the wall clock cannot happen on two
cores), Typst's speed over the HTML path at the same number of workers (goal: 10x or better),
and the speed-up of 2 workers over 1 (goal: 1.7x or better; it needs both cores idle).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

GOAL_SPEEDUP, GOAL_TYPST = 1.7, 10.0

NARRATIVES = [
    "Review and revise draft share purchase agreement; comments to client on warranties",
    "Telephone conference with opposing counsel regarding disclosure timetable",
    "Draft witness statement of the finance director and circulate for comment",
    "Research case law on limitation of liability clauses in supply contracts",
    "Prepare for and attend case management conference; report to client",
    "Review data room documents (commercial contracts folder) and update report",
    "Analyse expert accountant's report on quantum and prepare list of questions",
    "Draft board minutes approving the refinancing and ancillary documents",
]
EXPENSES = [("E101", 10, "Photocopying"), ("E106", 4500, "Online research (Westlaw)"),
            ("E107", 2800, "Courier to client"), ("E110", 18640, "Rail travel"),
            ("E112", 25500, "Court fee"), ("E115", 61000, "Deposition transcript")]
CLIENT_SETUP = [("GBP", "GB", "20"), ("USD", "US-NY", "0"), ("EUR", "DE", "19")]


def build_ledger(url: str, n: int, seed: int) -> dict:
    """A ledger holding ``n`` invoices; returns a few facts about them."""
    import numpy as np

    from billxl import money
    from billxl.store import tables as t
    from billxl.store.ledger import Ledger

    rng = np.random.default_rng(seed)
    ledger = Ledger.create(url, firm={"name": "Harcourt & Vale LLP", "law_firm_id": "GB 123 4567 89",
                                      "currency": "GBP", "address_1": "1 Example Street",
                                      "city": "London", "postcode": "EC2A 1AA", "country": "GB"},
                           actor="bench")
    first = ["Jane", "Raj", "Ngozi", "Tom", "Aiko", "Lena", "Marco", "Priya", "Sam", "Ines"]
    last = ["Smith", "Patel", "Okafor", "Brown", "Sato", "Berg", "Rossi", "Shah", "Cole", "Vidal"]
    classes = [("PARTNR", 65000), ("ASSOC", 38000), ("ASSOC", 32000), ("PARLGL", 15000)]
    tks = [{"timekeeper_id": f"TK{i:03d}", "first_name": first[i % 10],
            "last_name": last[(i * 3) % 10], "classification": classes[i % 4][0],
            "office_id": "LON", "active_from": date(2020, 1, 1)} for i in range(24)]
    rates = {tk["timekeeper_id"]: classes[i % 4][1] for i, tk in enumerate(tks)}
    clients = [{"client_id": f"C{i:04d}", "name": f"Client {i} Holdings Limited",
                "currency": CLIENT_SETUP[i % 3][0], "tax_jurisdiction": CLIENT_SETUP[i % 3][1],
                "payment_terms_days": 30, "billing_contact": "Accounts Payable",
                "address_1": f"{10 + i} High Street", "city": "Manchester", "postcode": "M1 1AA",
                "country": "GB"} for i in range(30)]
    matters = [{"matter_id": f"C{i % 30:04d}-{i // 30 + 1:04d}", "client_id": f"C{i % 30:04d}",
                "name": f"Matter {i}: commercial dispute and advice", "client_matter_id": f"REF-{i}",
                "opened_on": date(2025, 1, 1), "billing_partner_id": "TK000"} for i in range(60)]
    invoices, lines = [], []
    for pk in range(1, n + 1):
        matter = matters[pk % len(matters)]
        client = clients[int(matter["client_id"][1:])]
        cur, _jur, vat = CLIENT_SETUP[int(matter["client_id"][1:]) % 3]
        n_fees = int(rng.choice([2, 5, 8, 12, 18, 25, 40, 60], p=[.1, .2, .2, .2, .12, .1, .05, .03]))
        rows = []
        for j in range(n_fees):
            tk = tks[int(rng.integers(len(tks)))]
            qty = int(rng.integers(1, 40)) * 100
            rate = rates[tk["timekeeper_id"]]
            amount = money.extend(qty, rate)
            rows.append({"line_type": "F", "work_date": date(2026, 10, 1 + j % 28),
                         "timekeeper_id": tk["timekeeper_id"],
                         "timekeeper_name": f"{tk['last_name']}, {tk['first_name']}",
                         "classification": tk["classification"], "expense_code": None,
                         "narrative": NARRATIVES[int(rng.integers(len(NARRATIVES)))],
                         "quantity_milli": qty, "unit_minor": rate,
                         "standard_amount_minor": amount, "amount_minor": amount})
        for _ in range(int(rng.integers(0, 7))):
            code, unit, text = EXPENSES[int(rng.integers(len(EXPENSES)))]
            qty = int(rng.integers(1, 200)) * 1000 if code == "E101" else 1000
            amount = money.extend(qty, unit)
            rows.append({"line_type": "E", "work_date": date(2026, 10, int(rng.integers(1, 29))),
                         "timekeeper_id": None, "timekeeper_name": None, "classification": None,
                         "expense_code": code, "narrative": text, "quantity_milli": qty,
                         "unit_minor": unit, "standard_amount_minor": amount,
                         "amount_minor": amount})
        fees = sum(r["amount_minor"] for r in rows if r["line_type"] == "F")
        expenses = sum(r["amount_minor"] for r in rows if r["line_type"] == "E")
        discount = money.percent_of(fees, "10") if pk % 4 == 0 else 0
        if discount:
            rows.append({"line_type": "IF", "work_date": date(2026, 10, 31), "timekeeper_id": None,
                         "timekeeper_name": None, "classification": None, "expense_code": None,
                         "narrative": "Agreed discount: 10% of fees", "quantity_milli": 0,
                         "unit_minor": 0, "standard_amount_minor": 0, "amount_minor": -discount})
        for line_no, r in enumerate(rows, start=1):
            r.update(invoice_pk=pk, line_no=line_no, adjustment_minor=0, tax_percent=vat,
                     tax_minor=money.percent_of(r["amount_minor"], vat))
        tax = sum(r["tax_minor"] for r in rows)
        lines += rows
        invoices.append({
            "invoice_pk": pk, "number": f"INV-2026-{pk:05d}", "kind": "invoice",
            "client_id": client["client_id"], "matter_id": matter["matter_id"], "currency": cur,
            "invoice_date": date(2026, 10, 31), "due_date": date(2026, 10, 31) + timedelta(30),
            "period_start": date(2026, 10, 1), "period_end": date(2026, 10, 31),
            "description": "Professional services, October 2026", "payor_percent": "100",
            "fees_minor": fees, "expenses_minor": expenses, "discount_minor": discount,
            "tax_minor": tax, "total_minor": fees + expenses - discount + tax,
            "rounding": "half_up", "finalized_at": datetime(2026, 10, 31, tzinfo=UTC),
            "finalized_by": "bench"})
    with ledger.transaction() as conn:
        conn.execute(t.offices.insert(), {"office_id": "LON", "name": "London", "city": "London",
                                          "country": "GB", "currency": "GBP"})
        conn.execute(t.timekeepers.insert(), tks)
        conn.execute(t.clients.insert(), clients)
        conn.execute(t.matters.insert(), matters)
        conn.execute(t.invoices.insert(), invoices)
        conn.execute(t.invoice_lines.insert(), lines)
    ledger.dispose()
    n_fee_lines = sum(1 for r in lines if r["line_type"] == "F")
    return {"invoices": n, "fee_lines": n_fee_lines, "lines": len(lines)}


def cpu_seconds() -> float:
    """CPU seconds used so far by this process, by its children that have ended, and by its
    children still running with what they have reaped (a fork server and its workers): every
    process of a render however its workers start. Linux (/proc) for the running children;
    elsewhere this process and its ended children only."""
    import resource

    total = sum(getattr(resource.getrusage(who), field)
                for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                for field in ("ru_utime", "ru_stime"))
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == os.getpid():  # parent, then utime, stime, cutime, cstime
            total += sum(int(f) for f in fields[11:15]) / tick
    return total


def child(url: str, fmt: str, workers: int, out: str, templates: str) -> None:
    """One measured run (in its own process): render every invoice in one format."""
    from billxl.documents import render_invoices
    from billxl.store.ledger import Ledger

    ledger = Ledger.open(url)
    pks = list(range(1, int(os.environ["BENCH_N"]) + 1))
    cpu = cpu_seconds()
    start = time.perf_counter()  # from here: workers, the engine, fonts, reading, rendering
    paths = render_invoices(ledger, pks, out, workers=workers, formats=(fmt,),
                            templates=templates)
    seconds = time.perf_counter() - start
    time.sleep(0.3)  # a fork server reaps its ended workers: their CPU time is then its own
    cpu = cpu_seconds() - cpu
    pages = None
    try:
        import pypdf  # a test dependency: the page count is a nicety
    except ImportError:
        pypdf = None
    if fmt == "pdf" and pypdf is not None:
        pages = sum(len(pypdf.PdfReader(p).pages) for p in paths)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "files": len(paths), "pages": pages}))


def template_folders(tmp: Path) -> dict[str, Path]:
    """billxl's templates twice: as shipped (Typst) and set to the HTML engine."""
    from billxl.documents.settings import template_dir

    shipped = template_dir()
    html = tmp / "templates-html"
    shutil.copytree(shipped, html)
    conf = html / "documents.yaml"
    text = conf.read_text(encoding="utf-8")
    if "  engine: typst" not in text:
        raise SystemExit(f"{conf}: no 'engine: typst' line to switch to the HTML engine")
    conf.write_text(text.replace("  engine: typst", "  engine: html"), encoding="utf-8")
    return {"typst": shipped, "html": html}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="invoices to render (default 200)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", nargs=5, metavar=("URL", "FORMAT", "WORKERS", "OUT", "TPL"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, fmt, workers, out, templates = args.child
        child(url, fmt, int(workers), out, templates)
        return

    with tempfile.TemporaryDirectory(prefix="bench-documents-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'ledger.db'}"
        t0 = time.perf_counter()
        facts = build_ledger(url, args.n, args.seed)
        print(f"ledger: {facts['invoices']} invoices, {facts['fee_lines']} fee lines, "
              f"{facts['lines']} lines in all (built in {time.perf_counter() - t0:.1f} s); "
              f"{os.cpu_count()} CPUs")
        folders = template_folders(Path(tmp))
        results = {}
        env = {**os.environ, "BENCH_N": str(args.n)}
        runs = [("pdf", "html"), ("pdf", "typst"), ("xlsx", "typst")]
        for workers in (1, 2):
            for fmt, engine in runs:
                out = Path(tmp) / f"{fmt}-{engine}-{workers}"
                proc = subprocess.run([sys.executable, __file__, "--child", url, fmt,
                                       str(workers), str(out), str(folders[engine])], env=env,
                                      capture_output=True, text=True)
                if proc.returncode:
                    raise SystemExit(f"The {fmt} ({engine}) run with {workers} worker(s) "
                                     f"failed:\n{proc.stderr}")
                results[fmt, engine, workers] = r = json.loads(proc.stdout.strip().splitlines()[-1])
                pages = f", {r['pages']} pages" if r["pages"] else ""
                label = f"{fmt} ({engine})" if fmt == "pdf" else fmt
                print(f"  {label:12}  {workers} worker{'s' if workers > 1 else ' '}  "
                      f"{r['seconds']:7.2f} s  {args.n / r['seconds']:7.1f} invoices/s  "
                      f"CPU {r['cpu']:6.1f} s = {1000 * r['cpu'] / args.n:5.1f} ms/invoice"
                      f"  ({r['files']} files{pages})", flush=True)
        print()
        for workers in (1, 2):
            html = results["pdf", "html", workers]["seconds"]
            fast = results["pdf", "typst", workers]["seconds"]
            verdict = "met" if html / fast >= GOAL_TYPST else "NOT met"
            cpu = (results["pdf", "html", workers]["cpu"] / results["pdf", "typst", workers]["cpu"])
            print(f"PDF with {workers} worker{'s' if workers > 1 else ''}: Typst "
                  f"{args.n / fast:6.1f} invoices/s, HTML (WeasyPrint, baseline) "
                  f"{args.n / html:6.1f}: {html / fast:.1f}x (goal {GOAL_TYPST:.0f}x: {verdict}); "
                  f"CPU seconds {cpu:.1f}x")
        for fmt, engine in runs:
            one, two = (results[fmt, engine, w]["seconds"] for w in (1, 2))
            verdict = "met" if one / two >= GOAL_SPEEDUP else "NOT met"
            label = f"{fmt.upper()} ({engine})" if fmt == "pdf" else fmt.upper()
            print(f"{label:12} 2 workers over 1: {one / two:.2f}x (goal {GOAL_SPEEDUP}x: {verdict})")


if __name__ == "__main__":
    main()
