"""How fast are bank files read as receipts, beside the table path? One command, one run.

    python benchmarks/bench_bankfiles.py                # 50,000 credits
    python benchmarks/bench_bankfiles.py --rows 5000    # a quick run

Writes the same receipts (a credit each, a payer, an invoice number in the remittance, a bank
reference) three ways into a temporary folder -- a canonical CSV, a camt.053.001.08 statement
(one Ntry per credit, balances that agree) and a BAI2 file (one 16 record per credit and 88
continuations, trailers that agree) -- and times ``payments.read_receipts`` on each: read,
parse, check the control totals, build and check the receipt frame. No ledger is written, so
the figure is the reading alone. Prints seconds and receipts per second of each, and each bank
format's time as a ratio of the CSV's, from the same run (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))


def receipts(n: int) -> list[tuple[str, int, str, str]]:
    """(reference, amount in cents, payer, remittance) for n credits."""
    return [(f"REF{i:08d}", 10000 + (i * 37) % 500000, f"Client {i % 200:03d} Ltd",
             f"Invoice {100000 + i % 5000:06d}") for i in range(n)]


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["receipt_id", "date", "payer", "amount", "currency", "method",
                      "reference", "remittance"])
        for ref, cents, payer, text in rows:
            out.writerow([ref, "2026-10-10", payer, f"{cents // 100}.{cents % 100:02d}", "USD",
                          "wire", ref, text])
    return path


def write_camt(path: Path, rows) -> Path:
    total = sum(r[1] for r in rows)

    def amount(cents: int) -> str:
        return f"{cents // 100}.{cents % 100:02d}"

    bal = ('<Bal><Tp><CdOrPrtry><Cd>{}</Cd></CdOrPrtry></Tp><Amt Ccy="USD">{}</Amt>'
           "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-10-10</Dt></Dt></Bal>\n")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:'
                 '20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>B</MsgId>'
                 "<CreDtTm>2026-10-10T18:00:00</CreDtTm></GrpHdr>\n<Stmt><Id>S</Id><Acct><Id>"
                 "<IBAN>US00BENCH</IBAN></Id><Ccy>USD</Ccy></Acct>\n")
        fh.write(bal.format("OPBD", "0.00") + bal.format("CLBD", amount(total)))
        for ref, cents, payer, text in rows:
            fh.write(f'<Ntry><Amt Ccy="USD">{amount(cents)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
                     "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-10</Dt></BookgDt>"
                     f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr>"
                     f"<Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>{text}"
                     "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
        fh.write("</Stmt></BkToCstmrStmt></Document>\n")
    return path


def write_bai2(path: Path, rows) -> Path:
    total = sum(r[1] for r in rows)
    records = ["03,000111222,USD,010,0,,,/"]
    for ref, cents, payer, text in rows:
        records += [f"16,195,{cents},0,{ref},,{payer}", f"88,{text}"]
    records.append(f"49,{total},{len(records) + 1}/")
    with open(path, "w", encoding="ascii") as fh:
        fh.write("\n".join(["01,BANK,FIRM,261010,0800,1,,,2/", "02,FIRM,BANK,1,261010,2400,USD,2/",
                            *records, f"98,{total},1,{len(records) + 2}/",
                            f"99,{total},1,{len(records) + 4}/"]) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import pandas as pd

    from billxl import payments
    from billxl.reference import Reference

    reference = Reference(firm={"currency": "USD"}, clients=pd.DataFrame({
        "client_id": [f"C{i:03d}" for i in range(200)],
        "name": [f"Client {i:03d} Ltd" for i in range(200)], "currency": "USD"}))
    rows = receipts(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        files = {"csv (table path)": write_csv(Path(folder) / "r.csv", rows),
                 "camt.053": write_camt(Path(folder) / "r.xml", rows),
                 "BAI2": write_bai2(Path(folder) / "r.bai2", rows)}
        seconds = {}
        for name, path in files.items():
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                checked = payments.read_receipts(path, reference=reference)
                best = min(best, time.perf_counter() - start)
            assert len(checked.frame) == args.rows, (name, len(checked.frame))
            if name != "BAI2":  # BAI2 has no payer field: its payer is in the text
                assert checked.frame["client_id"].notna().all(), name
            seconds[name] = best
    base = seconds["csv (table path)"]
    print(f"read_receipts of {args.rows:,} receipts (best of {args.repeat}):")
    for name, s in seconds.items():
        print(f"  {name:<18} {s:8.2f} s  {args.rows / s:>10,.0f} receipts/s  "
              f"{s / base:5.1f} x the table path")


if __name__ == "__main__":
    main()
