"""The README's "Your own firm" section, run as written: a blank ledger, the firm's master data,
practice-management exports, a check, a reconciled month and a bank statement, with the CLI only."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from billxl.store import tables as t
from billxl.store.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your own firm", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_own_firm_section_runs_as_written(tmp_path, ledger_url):
    for name in ("own_firm", "pm_exports"):
        shutil.copytree(DATA / name, tmp_path, dirs_exist_ok=True)
    env = {**os.environ, "COLUMNS": "200", "BILLXL_USER": "new.secretary",
           "BILLXL_LEDGER": ledger_url}
    outputs = []
    for command in readme_commands():
        words = shlex.split(command)
        assert words[0] == "billxl", command
        done = subprocess.run([sys.executable, "-m", "billxl.cli", *words[1:]], cwd=tmp_path,
                              capture_output=True, text=True, env=env, timeout=300)
        expected = 1 if words[1] in ("reconcile", "check") else 0  # both find errors here
        assert done.returncode == expected, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs.append((command, " ".join(done.stdout.split())))
    said = dict(outputs)
    assert "Timekeepers: 4 new" in said["billxl import timekeepers timekeepers.csv"]
    assert "Rates: 6 new" in said["billxl import rates rates.csv"]
    toggl = [o for c, o in outputs if "toggl_detailed_a" in c]
    assert "5 new" in toggl[0] and "0 new, 0 changed, 5 already in the ledger" in toggl[1]
    assert "2 credit(s) as receipts (6500.00 USD); 1 debit(s) (812.50 USD)" in said[
        "billxl payments post bank-2026-11.xml --dry-run"]
    assert "0 unmatched, 1 row that is not a receipt skipped." in said[
        "billxl payments post bank-2026-11.xml --dry-run"]
    assert "Posted 2 receipt(s) from bank-2026-11.xml (6500.00 USD); 0 already in the ledger, " \
           "0 unmatched" in said["billxl payments post bank-2026-11.xml"]

    ledger = Ledger.open(ledger_url)
    try:
        entries = ledger.time_entries()
        assert len(entries) == 6 + 2 + 5  # Clio a, Clio b's two new ones, Toggl a once
        assert entries.groupby(["source", "source_key"]).size().max() == 1
        findings = ledger.read_frame(sa.select(t.findings.c.rule, t.findings.c.severity))
        # Acme requires UTBMS codes; neither Clio's template nor Toggl carries them
        assert (findings["rule"] == "UTBMS_MISSING").any()
        receipts = ledger.read_frame(sa.select(t.receipts.c.amount_minor, t.receipts.c.client_id)
                                     .order_by(t.receipts.c.amount_minor))
        # the debit is not a receipt; 'Northwind Traders Inc' is the client Northwind Traders
        assert receipts.values.tolist() == [[200000, "C0002"], [450000, "C0001"]]
        audit = ledger.read_frame(sa.select(t.audit_log.c.actor).distinct())
        assert set(audit["actor"]) == {"new.secretary"}
    finally:
        ledger.dispose()
    assert (tmp_path / "exceptions.xlsx").exists()
    assert not pd.read_excel(tmp_path / "exceptions.xlsx", engine="calamine").empty
