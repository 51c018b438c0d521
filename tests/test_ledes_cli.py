"""``billxl ledes ...`` commands: exit codes, JSON findings, export, submission tracking.

The sub-app is run directly with typer's CliRunner (the main ``billxl`` app mounts it); the
ledger is named by BILLXL_LEDGER, as a user's shell would.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from billxl.cli.ledes import ledes_app
from billxl.cli.output import state
from billxl.store.ledger import Ledger
from tests.conftest import FIRM
from tests.test_ledes import SAMPLE, SAMPLE_TEXT, edited
from tests.test_ledes_export import set_up


@pytest.fixture
def ledger_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.create(url, firm=FIRM)
    set_up(ledger)
    ledger.dispose()
    return url


def run(*args, url: str | None = None, ok: int = 0, cwd=None):
    env = {"COLUMNS": "200", "BILLXL_USER": "test.secretary"}
    env["BILLXL_LEDGER"] = url or ""
    # the sub-app runs without the main app's callback, which is what sets --ledger: forget
    # a ledger an earlier test's main-app run left there (the environment names this one)
    state.ledger_url = None
    result = CliRunner().invoke(ledes_app, [str(a) for a in args], env=env)
    assert result.exit_code == ok, (result.exit_code, result.output, result.exception)
    return result


def test_validate_exit_codes_and_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./billxl.db: the file is checked by the formats' rules
    sample = tmp_path / "sample.txt"
    sample.write_bytes(SAMPLE)
    assert json.loads(run("validate", sample, "--format", "json").output) == []
    bad = tmp_path / "bad.txt"
    bad.write_bytes(edited(SAMPLE_TEXT, 4, "|0|700|", "|0|700.01|"))
    findings = json.loads(run("validate", bad, "--format", "json", ok=1).output)
    assert [(f["line"], f["field"], f["rule"], f["severity"]) for f in findings] == [
        (3, "INVOICE_TOTAL", "INVOICE_TOTAL", "error"),
        (4, "LINE_ITEM_TOTAL", "LINE_TOTAL", "error")]
    assert findings[1]["message"] == "LINE_ITEM_TOTAL is 700.01 but 2.00 x 350 + 0 = 700.00."
    assert set(findings[0]) >= {"line", "field", "rule", "severity", "message", "suggestion"}
    warned = run("validate", sample, "--portal", "counsellink")  # a warning is not an error
    assert "PORTAL_ENCODING" in warned.output
    portal = run("validate", sample, "--portal", "legaltracker", ok=1)
    assert "PORTAL_FLAT_FEE_STYLE" in portal.output
    notes = tmp_path / "notes.csv"
    notes.write_text("date,hours\n2026-10-01,1.5\n")
    refused = run("validate", notes, ok=2)
    assert "is not a LEDES file" in refused.output
    assert "there is no such file" in run("validate", tmp_path / "missing.txt", ok=2).output
    assert "not a portal profile billxl knows" in run("validate", sample, "--portal", "nope",
                                                      ok=2).output


def test_validate_takes_each_clients_portal_from_the_ledger(ledger_url, tmp_path):
    run("export", "--month", "2026-10", "--out", tmp_path / "out", "--force", url=ledger_url)
    one = next((tmp_path / "out").glob("*_LEDES1998B.txt"))
    text = one.read_text(encoding="cp1252").replace("Smith, Jane", "Jane Smith")
    one.write_text(text, encoding="cp1252", newline="")
    # the file's CLIENT_ID (LF-C1) is the ledger's client C1, whose portal is Legal Tracker
    found = json.loads(run("validate", one, "--format", "json", url=ledger_url, ok=1).output)
    assert {f["rule"] for f in found} == {"PORTAL_TIMEKEEPER_NAME"}


def test_export_and_track_submissions(ledger_url, tmp_path):
    done = run("export", "--month", "2026-10", "--out", tmp_path / "out", "--submit",
               url=ledger_url)
    assert "6 file(s) written, 0 refused, 6 recorded as submitted." in done.output
    assert len(list((tmp_path / "out").iterdir())) == 6
    listed = json.loads(run("submissions", "--format", "json", url=ledger_url).output)
    assert [s["status"] for s in listed] == ["submitted"] * 6
    first = listed[0]["submission_id"]
    assert run("status", first, "rejected", "--reason", "Block billing", "--reason",
               "Missing task code", url=ledger_url).output.strip() == \
        f"Submission {first} is now rejected."
    wrong = run("status", first, "paid", url=ledger_url, ok=3)
    assert "it can become appealed, resubmitted, not paid" in wrong.output
    reasons = json.loads(run("submissions", "--report", "reasons", "--format", "json",
                             url=ledger_url).output)
    assert [(r["reason"], r["rejections"]) for r in reasons] == [("Block billing", 1),
                                                                 ("Missing task code", 1)]
    pending = json.loads(run("submissions", "--report", "pending", "--format", "json",
                             url=ledger_url).output)
    assert {(p["age"], p["status"]) for p in pending} == {("0-30 days", "rejected"),
                                                           ("0-30 days", "submitted")}
    history = json.loads(run("history", first, "--format", "json", url=ledger_url).output)
    assert [h["status"] for h in history] == ["submitted", "rejected"]
    assert history[1]["reason"] == "Block billing; Missing task code"
    # a corrected file is the next version
    path = tmp_path / "out" / f"{listed[0]['invoice']}_LEDES1998B.txt"
    corrected = tmp_path / "v2.txt"
    corrected.write_bytes(path.read_bytes() + b"\r\n")
    again = run("submit", corrected, "--invoice", listed[0]["invoice"], url=ledger_url)
    assert "version 2 (1998B, submitted)" in again.output
    clients = json.loads(run("submissions", "--report", "clients", "--format", "json",
                             url=ledger_url).output)
    assert clients[0]["client_id"] == "C1" and clients[0]["rejections"] == 1


def test_export_refuses_what_the_portal_would_reject(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.create(url, firm=FIRM)
    set_up(ledger, activity=None, override="a test of what the export refuses")
    ledger.dispose()
    refused = run("export", "--month", "2026-10", "--out", tmp_path / "out", url=url, ok=1)
    assert "Refused invoice 000002 (C2, tymetrix, 98BI):" in refused.output
    assert "PORTAL_UTBMS_REQUIRED: TyMetrix 360 requires LINE_ITEM_ACTIVITY_CODE" in \
        refused.output
    assert "5 file(s) written, 1 refused." in refused.output
    assert not (tmp_path / "out" / "000002_LEDES98BI.txt").exists()
    forced = run("export", "--invoice", "000002", "--out", tmp_path / "one.txt", "--force",
                 url=url)
    assert (tmp_path / "one.txt").exists() and "1 file(s) written" in forced.output
    both = run("export", "--invoice", "000001", "--month", "2026-10", "--out", tmp_path,
               url=url, ok=2)
    assert "either --invoice" in both.output
    missing = run("export", "--invoice", "999999", "--out", tmp_path, url=url, ok=3)
    assert "no final invoice 999999" in missing.output
