"""The month end: the demo firm's, end to end, and the month-end batch (``billxl month-end``).

One small demo month (600 time entries) is run once for the module through ``run_demo``: import,
reconciliation, pre-bills edited and approved in their workbooks, finalize, documents; every
figure ties out across ledger, PDF and XLSX. The batch's tests are in the second half.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pypdf
import pytest
import sqlalchemy as sa

from billxl import money
from billxl.billing.cycles import billed_in_month, cycles_of
from billxl.monthend import run_demo
from billxl.packs import batch, kernels
from billxl.packs.runner import run_pack
from billxl.reference import Reference
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.office import convert, soffice_or_skip

MONTH = "2026-10"


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    folder = tmp_path_factory.mktemp("month")
    result = run_demo(folder / "demo", month=MONTH, entries=600, seed=7, packs=False)
    ledger = Ledger.open(folder / "demo" / "billxl.db")
    yield result, ledger, folder
    ledger.dispose()


def frame(ledger, table):
    return ledger.read_frame(sa.select(table))


def test_every_billable_matter_has_an_invoice_or_a_reason(month):
    _, ledger, _ = month
    entries = frame(ledger, t.time_entries)
    invoiced = set(frame(ledger, t.invoices)["matter_id"])
    lines = frame(ledger, t.prebill_lines).merge(frame(ledger, t.prebills), on="prebill_pk")
    worked = entries[entries["billable"]].groupby("matter_id").size()
    without = [m for m in worked.index if m not in invoiced]
    assert len(invoiced) > 20
    on_cycle = billed_in_month(cycles_of(Reference.from_ledger(ledger)), date(2026, 10, 31))
    for matter in without:
        if matter not in on_cycle:  # its billing cycle does not fall in October (quarterly)
            continue
        mine = lines[lines["matter_id"] == matter]
        # no invoice: all its time was held (minimum bill), written off or moved on
        assert len(mine) and mine["action"].isin(["hold", "write_off", "transfer"]).all(), matter
        held = mine[mine["action"] == "hold"]
        assert held["note"].str.contains("minimum bill").all() or held.empty


def test_invoices_tie_out_to_the_billed_wip_to_the_cent(month):
    _, ledger, _ = month
    invoices = frame(ledger, t.invoices)
    lines = frame(ledger, t.invoice_lines)
    prebill = frame(ledger, t.prebill_lines)
    # each invoice: fees + expenses - discount + tax = total = its lines plus their tax
    assert (invoices["fees_minor"] + invoices["expenses_minor"] - invoices["discount_minor"]
            + invoices["tax_minor"] == invoices["total_minor"]).all()
    by_invoice = lines.groupby("invoice_pk")[["amount_minor", "tax_minor"]].sum().sum(axis=1)
    assert by_invoice.reindex(invoices["invoice_pk"]).tolist() == invoices["total_minor"].tolist()
    # the billed WIP (bill values of the lines the partners left as 'bill') is on the invoices,
    # split between payors to the cent; expenses recorded reach the invoices unchanged
    entry_lines = lines[lines["line_type"].isin(["F", "E"])]
    billed = prebill[prebill["action"] == "bill"]
    assert int((entry_lines["amount_minor"] - entry_lines["adjustment_minor"]).sum()) == \
        int(billed["bill_amount_minor"].sum())
    assert int(lines.loc[lines["line_type"] == "E", "amount_minor"].sum()) == \
        int(billed.loc[billed["entry_kind"] == "expense", "bill_amount_minor"].sum())
    entries = frame(ledger, t.time_entries)
    on_invoices = set(entry_lines.loc[entry_lines["entry_kind"] == "time", "entry_pk"])
    assert set(entries.loc[entries["status"] == "billed", "entry_pk"]) == on_invoices


def _printed_total(pdf) -> Decimal:
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    found = re.search(r"Total due\s*(-?)\D?([\d,]+\.\d\d)", text)
    assert found, f"no 'Total due' in {pdf.name}"
    return money.D(found.group(1) + found.group(2))


def test_pdf_xlsx_and_ledger_agree_for_every_invoice(month, tmp_path):
    result, ledger, _ = month
    soffice_or_skip()
    folder = result.paths["invoices"]
    invoices = frame(ledger, t.invoices)
    recalculated = tmp_path / "lo"
    recalculated.mkdir()
    for number, total, currency in zip(invoices["number"], invoices["total_minor"],
                                       invoices["currency"], strict=True):
        assert _printed_total(folder / f"{number}.pdf") == money.from_minor(total, currency)
    for number, total in zip(invoices["number"], invoices["total_minor"], strict=True):
        book = openpyxl.load_workbook(convert(folder / f"{number}.xlsx", "xlsx", recalculated),
                                      data_only=True)
        (sheet, ref), = book.defined_names["Total"].destinations
        value = book[sheet][ref.replace("$", "")].value
        assert money.to_minor(str(round(value, 2))) == total, number


def test_the_ledes_export_holds_back_no_invoice_for_its_codes_or_lengths(month, tmp_path):
    """The demo's e-billing clients' entries carry the UTBMS codes and lengths their portals
    require, so the month's LEDES export refuses none of their invoices for either."""
    from billxl.ledes import CHECKS, export_invoices

    _, ledger, _ = month
    result = export_invoices(ledger, tmp_path, month=MONTH)
    found = pd.concat([f.findings for f in result.files], ignore_index=True)
    about = found["rule"].map(lambda r: CHECKS[r].group == "utbms") | found["rule"].isin(
        ["PORTAL_UTBMS_REQUIRED", "PORTAL_DESCRIPTION_LENGTH"])
    assert found[about].empty, found[about].head().to_string()
    assert len(result.written) >= 3
    lines = ledger.read_frame(
        sa.select(t.invoice_lines.c.line_type, t.invoice_lines.c.task_code)
        .join(t.invoices, t.invoices.c.invoice_pk == t.invoice_lines.c.invoice_pk)
        .join(t.clients, t.clients.c.client_id == t.invoices.c.client_id)
        .where(t.clients.c.ebilling_portal.is_not(None)))
    fees = lines[lines["line_type"] == "F"]
    assert len(fees) > 50 and fees["task_code"].fillna("").str.fullmatch(r"[LC]\d{3}").all()


def test_partner_edits_are_in_the_audit_log_with_their_originals(month):
    _, ledger, _ = month
    log = ledger.read_frame(sa.select(t.audit_log).where(t.audit_log.c.table_name == "prebill_lines"))
    assert len(log) > 0
    before, after = log.iloc[0]["before"], log.iloc[0]["after"]
    assert set(before) == set(after) and before != after
    write_offs = frame(ledger, t.prebill_lines)
    assert (write_offs.loc[write_offs["action"] == "write_off", "reason_code"] == "WD-DUP").all()
    assert pd.Series(frame(ledger, t.prebills)["status"]).isin(["finalized"]).all()


def test_findings_on_billed_entries_leave_the_review_list(month):
    _, ledger, _ = month
    findings = frame(ledger, t.findings)
    entries = frame(ledger, t.time_entries).set_index("entry_pk")["status"]
    on_time = findings[findings["entry_kind"] == "time"]
    settled = on_time["entry_pk"].map(entries).isin(["billed", "written_off"])
    assert settled.any()
    assert (on_time.loc[settled, "status"] == "resolved").all()


# =========================================================================== the month-end batch
# ``billxl month-end``: the close checks, the warm kernels, every pack's outputs, the manifest
# and the index, a pack that fails, a batch killed half way, a Dask cluster, the files' modes.
# The packs here are tests/data/notebooks/stub_pack.ipynb: the month-end notebooks'
# parameters and a little work (the ledger view, an XLSX file, the JSON sidecar); it fails on
# purpose for the scope named by $BILLXL_TEST_FAIL_SCOPE.

STUB = Path(__file__).parent / "data" / "notebooks" / "stub_pack.ipynb"
STUBS = {"monthly_pack": STUB, "reconciliation_review": STUB, "collections": STUB}
TWO_PARTNERS = pd.DataFrame({"scope_id": ["TK001", "TK002"],
                             "name": ["Hudson, Jason", "Tran, Charlotte"]})
OUTPUTS = {"stub_pack.ipynb", "stub_pack.html", "stub_pack.pdf", "stub_pack.xlsx",
           "stub_pack.json"}


def _post_receipts(ledger, folder: Path) -> None:
    from billxl import payments

    path = folder / "receipts.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["receipt_id", "date", "payer", "amount", "currency", "method"])
        writer.writerow(["RX1", "2026-10-20", "Nobody We Know Inc", "125.00", "USD", "wire"])
        writer.writerow(["RX2", "2026-11-03", "Nobody We Know Inc", "99.00", "USD", "wire"])
    payments.post_receipts(ledger, path, actor="test")


@pytest.fixture(scope="module")
def open_month(tmp_path_factory):
    """A small firm's month that is not closed: drafted pre-bills, open error findings from
    the reconciliation, and a receipt of the month in suspense (and one of the next month)."""
    from billxl import demo, intake
    from billxl.billing import prebill
    from billxl.monthend import EXAMPLE_GUIDELINES

    folder = tmp_path_factory.mktemp("open_month")
    firm = demo.build_firm(entries=300, seed=3, month=MONTH)
    paths = demo.write_exports(firm, folder / "exports")
    ledger = Ledger.create(folder / "ledger.db", firm=firm.firm, actor="test")
    demo.load_into(ledger, firm)
    intake.import_file(ledger, paths["time"], "time", actor="test")
    intake.import_file(ledger, paths["expenses"], "expenses", actor="test")
    prebill.create_prebills(ledger, MONTH, actor="test")
    first = ledger.read_frame(sa.select(t.prebills).order_by(t.prebills.c.prebill_pk)).iloc[0]
    with ledger.transaction() as conn:  # one pre-bill approved and billed, the rest still drafts
        conn.execute(sa.update(t.prebills).where(t.prebills.c.prebill_pk == int(first["prebill_pk"]))
                     .values(status="approved", approved_by="test",
                             approved_at=pd.Timestamp("2026-11-02", tz="UTC").to_pydatetime()))
    from billxl.billing.invoicing import finalize

    finalize(ledger, matter=str(first["matter_id"]), invoice_date=date(2026, 10, 31),
             actor="test")
    from billxl.reconcile import reconcile_month

    reconcile_month(ledger, MONTH, guidelines_dir=EXAMPLE_GUIDELINES, actor="test")
    _post_receipts(ledger, folder)
    ledger.dispose()
    return str(folder / "ledger.db")


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
            for p in [folder, *folder.rglob("*")]}


def _cell_text(ipynb: Path, needle: str) -> str:
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if needle in text:
                return text
    raise AssertionError(f"no output with {needle!r} in {ipynb}")


def test_the_close_lists_what_is_open_and_refuses(open_month, tmp_path):
    with pytest.raises(batch.CloseRefused) as refused:
        batch.run_month_end(MONTH, out_dir=tmp_path, ledger_url=open_month, notebooks=STUBS,
                            scopes=TWO_PARTNERS)
    problems = refused.value.problems
    assert len(problems) == 3
    findings, prebills, suspense = problems
    assert "open error finding(s) from the reconciliation" in findings and "UTBMS" in findings
    assert "pre-bill(s) of 2026-10 not finalized" in prebills and "draft" in prebills
    assert suspense == "1 receipt(s) up to 2026-10-31 unmatched in suspense (125.00 USD): RX1"
    assert not (tmp_path / MONTH).exists()  # nothing ran


def test_the_plan_is_the_firms_packs_then_each_scopes():
    plan = batch.plan_month_end(MONTH, TWO_PARTNERS, by="partner", firm_name="Firm LLP",
                                notebooks=STUBS)
    assert [p.key for p in plan] == [
        "firm-monthly_pack", "firm-reconciliation_review", "firm-collections",
        "partner-TK001-monthly_pack", "partner-TK001-collections",
        "partner-TK002-monthly_pack", "partner-TK002-collections"]
    assert plan[3].parameters == {"month": MONTH, "scope": "partner", "scope_id": "TK001",
                                  "ledger_url": ""}  # the ledger goes by the environment
    assert plan[0].title == "Monthly pack — Firm LLP — 2026-10"
    with pytest.raises(batch.InputError, match="--by must be one of"):
        batch.plan_month_end(MONTH, TWO_PARTNERS, by="group", notebooks=STUBS)


def test_the_warm_kernel_forgets_each_pack_and_keeps_its_modules(open_month, tmp_path):
    env = {"BILLXL_LEDGER": open_month}
    runs = [run_pack(STUB, {"month": MONTH, "scope": "partner", "scope_id": who}, tmp_path / who,
                     env=env, report=False) for who in ("TK001", "TK002")]
    assert [r.status for r in runs] == ["finished", "finished"]
    first, second = (tmp_path / who / "stub_pack.ipynb" for who in ("TK001", "TK002"))
    # the second pack ran in the kernel the first one used ...
    assert [r.kernel_notebooks for r in runs] == [1, 2]
    assert _cell_text(second, "warm:").startswith("warm: True")
    # ... and sees nothing the first one defined
    assert "leaked: []" in _cell_text(first, "leaked:")
    assert "leaked: []" in _cell_text(second, "leaked:")
    nb = nbformat.read(second, as_version=4)  # still an ordinary papermill output
    assert nb.metadata.papermill["parameters"]["scope_id"] == "TK002"
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"][:2] == [1, 2]
    assert nb.metadata.papermill["output_path"] == str(second)
    kernels.shutdown_all()


def test_a_dead_kernel_is_replaced(open_month, tmp_path):
    env = {"BILLXL_LEDGER": open_month}
    params = {"month": MONTH, "scope": "firm"}
    run_pack(STUB, params, tmp_path / "one", env=env, report=False)
    (kernel,) = kernels.kernels_kept()
    os.kill(kernel.pid, signal.SIGKILL)
    again = run_pack(STUB, params, tmp_path / "two", env=env, report=False)
    assert again.status == "finished" and again.kernel_notebooks == 1
    (fresh,) = kernels.kernels_kept()
    assert fresh.pid != kernel.pid
    kernels.shutdown_all()


def test_kernels_started_at_once_do_not_collide():
    """Over IPC, each with its own connection file in a private folder: no TCP port to race
    for (papermill issue 511, 'Address already in use')."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as starting:  # a kernel per thread, all starting together
        started = list(starting.map(lambda _: kernels.warm_kernel("python3"), range(4)))
    try:
        assert len({k.pid for k in started}) == 4 and all(k.alive() for k in started)
        files = [Path(k.km.connection_file) for k in started]
        assert len({f.parent for f in files}) == 4
        for kernel, file in zip(started, files, strict=True):
            assert kernel.km.transport == "ipc"
            assert file.parent.stat().st_mode & 0o777 == 0o700  # nobody else's to read
            assert json.loads(file.read_text("utf-8"))["transport"] == "ipc"
    finally:
        kernels.shutdown_all()
    assert not any(f.parent.exists() for f in files)  # nothing left behind


@pytest.fixture
def umask_zero():
    """The loosest umask: what the batch writes must still not be writable by others."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_a_batch_writes_every_pack_and_reports_the_one_that_fails(open_month, tmp_path,
                                                                  monkeypatch, umask_zero):
    monkeypatch.setenv("BILLXL_TEST_FAIL_SCOPE", "TK002")  # the workers' kernels inherit it
    seen = []
    manifest = batch.run_month_end(MONTH, out_dir=tmp_path, ledger_url=open_month,
                                   notebooks=STUBS, scopes=TWO_PARTNERS, force=True,
                                   workers=2, progress=seen.append)
    month_dir = tmp_path / MONTH
    on_disk = json.loads((month_dir / "manifest.json").read_text("utf-8"))
    assert on_disk == json.loads(json.dumps(manifest.as_dict()))
    packs = {p["key"]: p for p in on_disk["packs"]}
    assert len(packs) == 7 and manifest.failed == 2 and manifest.finished == 5
    assert on_disk["forced"] is True and len(on_disk["close_problems"]) == 3
    for key, entry in packs.items():
        folder = month_dir / key
        if "TK002" in key:  # failed twice; only the executed notebook, with the error, is kept
            assert entry["status"] == "failed" and entry["attempts"] == 2
            assert entry["error"]["ename"] == "RuntimeError"
            assert "fails for TK002 on purpose" in entry["error"]["evalue"]
            assert entry["error"]["cell"] is not None
            assert {p.name for p in folder.iterdir()} == {"stub_pack.ipynb"}
            nb = nbformat.read(folder / "stub_pack.ipynb", as_version=4)
            assert nb.metadata.papermill["exception"] is True
            continue
        assert entry["status"] == "finished" and entry["attempts"] == 1
        assert {p.name for p in folder.iterdir()} == OUTPUTS
        assert sorted(entry["outputs"]) == sorted(f"{key}/{name}" for name in OUTPUTS)
        assert (folder / "stub_pack.pdf").read_bytes().startswith(b"%PDF")
        assert openpyxl.load_workbook(folder / "stub_pack.xlsx").active.max_row > 1
        sidecar = json.loads((folder / "stub_pack.json").read_text("utf-8"))
        assert sidecar["scope_id"] == entry["scope_id"] and entry["input_hash"]
        shown = (folder / "stub_pack.html").read_text("utf-8")
        assert "WIP rows" in shown and "left_by_a_pack =" not in shown  # outputs, no code
    index = (month_dir / "index.html").read_text("utf-8")
    for key in packs:
        assert f'href="{key}/stub_pack.ipynb"' in index
    assert 'href="partner-TK001-monthly_pack/stub_pack.pdf"' in index
    assert "fails for TK002 on purpose" in index
    assert "<b>RuntimeError</b> at In [3]: this test notebook fails" in index  # its cell
    assert "--force" in index and "5 finished, 2 failed" in index
    # progress: every pack reported, ending with nothing left; the ETA never negative
    last = seen[-1]
    assert (last.done, last.failed, last.remaining) == (5, 2, 0)
    assert all(p.eta is None or p.eta >= 0 for p in seen)
    assert [p.elapsed for p in seen] == sorted(p.elapsed for p in seen)
    # nothing half-written left; files as the umask says (here: 0), but never world-writable
    assert not list(month_dir.glob(".*partial*"))
    modes = _modes(month_dir)
    assert modes["."] == 0o775
    assert modes.pop(".lock") == 0o600  # the batch's lock: its own
    assert {m for name, m in modes.items() if (month_dir / name).is_file()} == {0o664}
    assert {m for name, m in modes.items() if (month_dir / name).is_dir()} == {0o775}


def _cli(*args: str, ledger: str, **kw) -> subprocess.Popen:
    command = [sys.executable, "-m", "billxl.cli", "--ledger", ledger, "month-end", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kw)


def _finished(manifest: Path) -> int:
    try:
        packs = json.loads(manifest.read_text("utf-8"))["packs"]
    except (OSError, ValueError):
        return 0
    return sum(p["status"] == "finished" for p in packs)


def test_a_batch_killed_half_way_resumes_where_it_was(open_month, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in STUBS:  # the stand-in under the month-end notebooks' names
        (notebooks / f"{name}.ipynb").write_bytes(STUB.read_bytes())
    out = tmp_path / "out"
    args = ("--month", MONTH, "--force", "--workers", "1", "--out", str(out),
            "--notebooks", str(notebooks))
    manifest = out / MONTH / "manifest.json"
    first = _cli(*args, ledger=open_month)
    deadline = time.monotonic() + 240
    while _finished(manifest) < 2 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, first.communicate()
    first.send_signal(signal.SIGKILL)
    first.communicate()
    before = json.loads(manifest.read_text("utf-8"))  # whole: written atomically
    done_before = {p["key"] for p in before["packs"] if p["status"] == "finished"}
    assert 2 <= len(done_before) < len(before["packs"])

    second = _cli(*args, ledger=open_month)
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr
    after = json.loads(manifest.read_text("utf-8"))
    assert all(p["status"] == "finished" for p in after["packs"])
    skipped = {p["key"] for p in after["packs"] if p["skipped"]}
    assert skipped == done_before  # finished packs were not run again
    assert f"({len(done_before)} unchanged since the last run, skipped)" in stdout
    assert "Index:" in stdout and "index.html" in stdout
    assert not list((out / MONTH).glob(".*partial*"))
    for entry in after["packs"]:
        assert all((out / MONTH / f).is_file() for f in entry["outputs"])


def test_the_cli_exits_2_when_the_month_is_not_closed_and_1_when_a_pack_failed(open_month,
                                                                               tmp_path):
    refused = _cli("--month", MONTH, "--out", str(tmp_path), ledger=open_month)
    _, stderr = refused.communicate(timeout=300)
    assert refused.returncode == 2
    assert "Not closed" in stderr and "unmatched in suspense" in stderr
    assert not (tmp_path / MONTH).exists()

    broken = nbformat.read(STUB, as_version=4)  # fails in its first cell after the parameters
    broken.cells.insert(2, nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"))
    notebooks = tmp_path / "broken"
    notebooks.mkdir()
    for name in STUBS:
        nbformat.write(broken, notebooks / f"{name}.ipynb")
    failed = _cli("--month", MONTH, "--force", "--out", str(tmp_path), "--notebooks",
                  str(notebooks), ledger=open_month)
    stdout, stderr = failed.communicate(timeout=600)
    assert failed.returncode == 1, stderr
    assert "failed" in stdout and "Index:" in stdout
    manifest = json.loads((tmp_path / MONTH / "manifest.json").read_text("utf-8"))
    assert {p["status"] for p in manifest["packs"]} == {"failed"}
    assert {p["error"]["evalue"] for p in manifest["packs"]} == {"broken on purpose"}


def _gone(pid: int, within: float = 30.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_packs_run_on_a_dask_cluster(open_month, tmp_path):
    import distributed  # in the test extra (and the 'dask' one)

    one = TWO_PARTNERS.head(1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  resources={"KERNEL": 1}, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            workers = {info["id"]: info for info in client.scheduler_info()["workers"].values()}
            pids = set(client.run(os.getpid).values())
        manifest = batch.run_month_end(MONTH, out_dir=tmp_path, ledger_url=open_month,
                                       notebooks=STUBS, scopes=one, force=True,
                                       scheduler=cluster.scheduler_address)
        assert len(workers) == 2
        assert manifest.finished == 5 and manifest.failed == 0
        ran_on = {int(p["worker"].rsplit(":", 1)[1]) for p in manifest.packs.values()}
        assert ran_on <= pids and os.getpid() not in ran_on  # on the cluster's workers
        for entry in manifest.packs.values():
            assert {Path(f).name for f in entry["outputs"]} == OUTPUTS

        def kept() -> list[int]:  # run on each worker
            from billxl.packs import kernels as on_worker

            return [k.pid for k in on_worker.kernels_kept()]

        with distributed.Client(cluster) as client:
            kernel_pids = [pid for found in client.run(kept).values() for pid in found]
        assert kernel_pids  # each worker kept its warm kernel for the next batch ...
    assert all(_gone(pid) for pid in kernel_pids)  # ... and no kernel outlives the cluster


def test_the_month_end_notebooks_take_the_parameters_the_batch_gives():
    plan = batch.plan_month_end(MONTH, TWO_PARTNERS)  # billxl's own notebooks (notebooks/)
    assert {p.notebook.name for p in plan} == {"monthly_pack.ipynb", "reconciliation_review.ipynb",
                                               "collections.ipynb"}
    for pack in plan:
        batch.check_parameters(pack.notebook, {**pack.parameters, "output_dir": "."})


@pytest.mark.postgres
def test_a_postgres_ledgers_password_is_written_nowhere(tmp_path):
    from billxl import demo, intake
    from tests.conftest import postgres_url_or_skip

    url = postgres_url_or_skip()
    secret = f":{sa.engine.make_url(url).password}@"  # as it stands in a URL
    assert secret != ":None@", "the test needs a URL with a password"
    firm = demo.build_firm(entries=150, seed=5, month=MONTH)
    paths = demo.write_exports(firm, tmp_path / "exports")
    ledger = Ledger.create(url, firm=firm.firm, actor="test")
    demo.load_into(ledger, firm)
    intake.import_file(ledger, paths["time"], "time", actor="test")
    ledger.dispose()
    plan = batch.plan_month_end(MONTH, TWO_PARTNERS.head(0), notebooks=STUBS)[:1]
    manifest = batch.run_plan(plan, tmp_path / "out", month=MONTH, workers=1, ledger_url=url)
    assert manifest.finished == 1, manifest.packs
    assert ":***@" in manifest.ledger and secret not in manifest.ledger
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(written) > 5
    for path in written:  # the kernels had the ledger from their environment
        assert secret.encode() not in path.read_bytes(), path


def test_the_demo_shows_its_packs_even_when_the_month_is_not_closed(tmp_path, monkeypatch):
    """The demo's month end runs the batch; if the close check refuses, the demo says what is
    open and runs the packs forced, rather than stopping."""
    import types

    from billxl import monthend
    from billxl.packs import batch

    calls = []

    def fake_run(month, *, force=False, **kwargs):
        calls.append(force)
        if not force:
            raise batch.CloseRefused(month, ["2 pre-bill(s) of 2026-10 not finalized"])
        return types.SimpleNamespace(index=tmp_path / "index.html", finished=3, failed=0)

    monkeypatch.setattr(batch, "run_month_end", fake_run)
    ledger = types.SimpleNamespace(engine=sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    result = monthend.DemoResult(month=MONTH, firm_name="F", ledger_url="")
    monthend._month_end_packs(ledger, tmp_path, MONTH, result, lambda *a: None)
    assert calls == [False, True]
    steps = {s.name: s for s in result.steps}
    assert "pre-bill(s) of 2026-10 not finalized" in steps["Month not closed"].figure
    assert steps["Month-end packs (HTML, PDF, XLSX)"].figure == \
        "3 packs (forced: the month is not closed)"
    assert result.paths["month_end"] == tmp_path / "index.html"
