"""The month end, step by step: the demo firm's run and (later) the batch that builds every pack.

Each step reports progress through a plain callable ``progress(stage, done, total)`` so the CLI
can draw bars, a notebook can print, and a test can record; nothing here knows about terminals.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from billxl import demo as demo_firm
from billxl import intake, money, reports
from billxl.atomic import atomic_write_csv
from billxl.excel.exceptions_workbook import write_exceptions_workbook
from billxl.firm import set_firm_settings
from billxl.reconcile import reconcile_month
from billxl.rules.evaluation import score
from billxl.store import documents as documents_store
from billxl.store.ledger import Ledger
from billxl.store.view import LedgerView

EXAMPLE_GUIDELINES = Path(__file__).with_name("rules") / "examples"

Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class Step:
    name: str
    figure: str
    where: str = ""


@dataclass
class DemoResult:
    month: str
    firm_name: str
    ledger_url: str
    steps: list[Step] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)
    evaluation: pd.DataFrame | None = None  # recall and precision per rule vs the ground truth


def _bill_the_month(ledger: Ledger, directory: Path, month: str, result: DemoResult,
                    progress: Progress, packs: bool = True) -> None:
    """Pre-bills -> the partners' edits and approval -> final invoices -> documents."""
    from billxl.billing import prebill
    from billxl.billing.invoicing import finalize
    from billxl.documents import render_invoices
    from billxl.excel.demo_files import review_prebill
    from billxl.periods import month_range

    start, end = month_range(month)
    progress("Pre-bills for each partner", 0, 1)
    created = prebill.create_prebills(ledger, month, actor="demo")
    books = prebill.write_prebill_workbooks(ledger, month, directory / "prebills")
    progress("Pre-bills for each partner", 1, 1)
    result.steps.append(Step("Pre-bills (one workbook per partner)",
                             f"{len(created):,} matters, {len(books)} partners",
                             str(directory / "prebills")))
    signed_on = min(end + timedelta(days=3), date.today())
    written_down, rounded = 0, 0
    for i, (_partner, path) in enumerate(sorted(books.items())):
        progress("Partners' edits and approval", i, len(books))
        review_prebill(path, signed_on)
        applied = prebill.apply_prebill(ledger, path, actor="demo")
        written_down += applied.lines_changed
        rounded += len(applied.rounded)
    progress("Partners' edits and approval", len(books), len(books))
    result.steps.append(Step("Partner edits applied", f"{written_down:,} lines changed "
                             f"({rounded:,} hours put on the client's increment)",
                             "audit log"))

    progress("Finalizing invoices", 0, 1)
    final = finalize(ledger, month=month, invoice_date=end, actor="demo")
    progress("Finalizing invoices", 1, 1)
    _say_held(final.held, directory, result)
    if final.count:
        numbers = sorted(final.invoices["number"])
        result.steps.append(Step("Invoices finalized", f"{final.count:,} ({numbers[0]} to "
                                 f"{numbers[-1]})", ledger.display_url))
        for currency, block in final.invoices.groupby("currency"):
            total = money.from_minor(int(block["total_minor"].sum()), str(currency))
            result.steps.append(Step(f"Invoiced {currency}", f"{total:,.2f}",
                                     "with tax, and fixed fees and retainers at their agreed "
                                     "amounts (not their WIP), so it can exceed the WIP"))
        docs = directory / "invoices"
        render_invoices(ledger, [], docs)  # creates the folder even for an empty month
        with ledger.engine.connect() as conn:
            pks = documents_store.invoice_keys(ledger, conn, numbers)
        paths = render_invoices(ledger, pks, docs, workers=2,
                                progress=lambda done, total: progress(
                                    "Rendering invoice documents", done, total))
        result.steps.append(Step("Invoice documents (PDF and XLSX)", f"{len(paths):,} files",
                                 str(docs)))
        result.paths["invoices"] = docs
        _submit_to_portals(ledger, directory, month, result, progress)
        _collect_cash(ledger, directory, end, result, progress)
        if packs:
            _month_end_packs(ledger, directory, month, result, progress)


def _say_held(held: pd.DataFrame, directory: Path, result: DemoResult) -> None:
    """How many invoices finalize held (their clients' guidelines or portals would reject
    them: they stay pre-bills) and why, by rule; each problem in held_at_finalize.csv."""
    if held.empty:
        result.steps.append(Step("Invoices held at finalize", "0 (every invoice passes its "
                                 "client's guidelines and portal)", ""))
        return
    path = atomic_write_csv(held, directory / "held_at_finalize.csv")
    why = held.groupby("rule")["prebill_pk"].nunique().sort_values(ascending=False)
    result.steps.append(Step("Invoices held at finalize (still pre-bills)",
                             f"{held['prebill_pk'].nunique():,}: " + ", ".join(
                                 f"{rule} ({n})" for rule, n in why.items()), str(path)))


def _month_end_packs(ledger: Ledger, directory: Path, month: str, result: DemoResult,
                     progress: Progress) -> None:
    """The month-end batch for the demo firm: every partner's pack and the firm's."""
    from billxl.packs.batch import CloseRefused, run_month_end

    def shown(state) -> None:
        progress("Month-end packs", state.done + state.failed, state.total)

    url = ledger.engine.url.render_as_string(hide_password=False)
    forced = ""
    try:
        manifest = run_month_end(month, ledger_url=url, out_dir=directory / "month-end",
                                 workers=2, progress=shown)
    except CloseRefused as refused:  # the demo still shows its packs, marked as forced
        result.steps.append(Step("Month not closed", "; ".join(refused.problems), ""))
        manifest = run_month_end(month, ledger_url=url, out_dir=directory / "month-end",
                                 workers=2, progress=shown, force=True)
        forced = " (forced: the month is not closed)"
    result.paths["month_end"] = manifest.index
    failed = f", {manifest.failed} failed{forced}" if manifest.failed else forced
    result.steps.append(Step("Month-end packs (HTML, PDF, XLSX)",
                             f"{manifest.finished:,} packs{failed}", str(manifest.index)))


def _submit_to_portals(ledger: Ledger, directory: Path, month: str, result: DemoResult,
                       progress: Progress) -> None:
    """LEDES files for the clients who bill through e-billing portals, each recorded as a
    submission; an invoice the portal would reject is refused, with its reasons."""
    from billxl.ledes import export_for_portals

    progress("LEDES for e-billing clients", 0, 1)
    files = export_for_portals(ledger, month, directory / "ledes", actor="demo")
    progress("LEDES for e-billing clients", 1, 1)
    refused = getattr(files, "refused", [])
    held = ""
    if refused:
        rows = [{"invoice": f.invoice, "client_id": f.client_id, "portal": f.portal,
                 "format": f.format, "reason": reason} for f in refused for reason in f.reasons]
        held_file = atomic_write_csv(pd.DataFrame(rows), directory / "ledes" / "held_back.csv")
        held = f" ({len(refused):,} held back: the portal would reject them; why: {held_file})"
    result.steps.append(Step("LEDES files submitted", f"{len(files):,}{held}",
                             str(directory / "ledes")))


def _collect_cash(ledger: Ledger, directory: Path, billed_to: date, result: DemoResult,
                  progress: Progress) -> None:
    """The next month's receipts (full, partial, over, unmatched), one bounced, and the aging."""
    import calendar

    from billxl import ar, payments

    first = billed_to + timedelta(days=1)
    as_of = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    progress("Posting the next month's receipts", 0, 1)
    receipts, bounced = payments.demo_receipts(payments.invoice_balances(ledger),
                                               f"{first:%Y-%m}", seed=first.year * 100 + first.month)
    path = atomic_write_csv(receipts, directory / "exports" / f"receipts_{first:%Y-%m}.csv")
    posted = payments.post_receipts(ledger, path, actor="demo")
    payments.reverse_receipt(ledger, bounced, reason="returned unpaid by the bank (NSF)",
                             on=as_of, actor="demo")
    progress("Posting the next month's receipts", 1, 1)
    summary = posted.summary_dict()
    result.steps.append(Step("Receipts posted (one then bounced)",
                             f"{summary['posted']:,} ({summary['unmatched']:,} unmatched)", str(path)))
    table = ar.aging(ledger, as_of)
    aging = ar.write_aging(table, directory / f"aging_{as_of}.xlsx", title=f"AR aging at {as_of}")
    result.paths["aging"] = aging
    for currency, block in table.groupby("currency"):
        owed = money.from_minor(int(block["total"].sum()), str(currency))
        result.steps.append(Step(f"Owed at {as_of} ({currency})", f"{owed:,.2f}", str(aging)))
    biggest = table.sort_values("total", ascending=False).iloc[0]["client_id"]
    statement = ar.write_statement(ledger, biggest, as_of,
                                   directory / f"statement_{biggest}_{as_of}.pdf")
    result.steps.append(Step("Statement of account (largest debtor)", str(biggest),
                             str(statement)))


def _remove_sqlite_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(directory: Path, *, month: str = "2026-10", entries: int = 6000, seed: int = 2026,
             ledger_url: str | None = None, progress: Progress | None = None,
             packs: bool = True) -> DemoResult:
    """Build the demo firm in ``directory`` and run every month-end step billxl has.

    The demo's ledger is ``directory/billxl.db``, replaced on each run, unless ``ledger_url``
    names another (empty) database. ``packs``: end with the month-end batch (every partner's
    and the firm's packs in ``directory/month-end``).
    """
    progress = progress or _quiet
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    progress("Building the demo firm", 0, 1)
    firm = demo_firm.build_firm(seed=seed, month=month, entries=entries)
    progress("Building the demo firm", 1, 1)

    progress("Writing the month's exports", 0, 1)
    paths = demo_firm.write_exports(firm, directory / "exports")
    progress("Writing the month's exports", 1, 1)

    progress("Creating the ledger", 0, 2)
    if ledger_url is None:
        db_file = directory / "billxl.db"
        _remove_sqlite_file(db_file)
        ledger_url = str(db_file)
    ledger = Ledger.create(ledger_url, firm=firm.firm, actor="demo")
    progress("Creating the ledger", 1, 2)
    demo_firm.load_into(ledger, firm)
    progress("Creating the ledger", 2, 2)
    result = DemoResult(month=month, firm_name=firm.firm["name"], ledger_url=ledger.display_url,
                        paths=dict(paths))
    ref = firm.reference
    result.steps.append(Step("Firm set up", f"{len(ref['timekeepers'])} timekeepers, "
                             f"{len(ref['clients'])} clients, {len(ref['matters'])} matters",
                             ledger.display_url))

    try:
        imported = intake.import_file(ledger, paths["time"], "time", "canonical", actor="demo",
                                      progress=progress)
        result.steps.append(Step("Time entries imported", f"{imported.new:,}", str(paths["time"])))
        imported = intake.import_file(ledger, paths["expenses"], "expenses", "canonical",
                                      actor="demo", progress=progress)
        result.steps.append(Step("Expenses imported", f"{imported.new:,}",
                                 str(paths["expenses"])))

        progress("Summarising WIP", 0, 1)
        view = LedgerView(ledger)
        wip = reports.wip_by_partner(view.wip_rows(), view.reference)
        wip_path = atomic_write_csv(wip.drop(columns=["fees_minor", "expenses_minor",
                                                      "total_minor"]),
                                    directory / f"wip_by_partner_{month}.csv")
        result.paths["wip"] = wip_path
        progress("Summarising WIP", 1, 1)
        for currency, block in wip.groupby("currency"):
            total = money.from_minor(int(block["total_minor"].sum()), str(currency))
            result.steps.append(Step(f"WIP {currency}", f"{total:,.2f}", str(wip_path)))
        guidelines = directory / "guidelines"
        guidelines.mkdir(exist_ok=True)
        for example in EXAMPLE_GUIDELINES.glob("*.yaml"):
            shutil.copyfile(example, guidelines / example.name)
        set_firm_settings(ledger, guidelines_dir=guidelines, actor="demo")

        progress("Reconciling WIP against the rules", 0, 2)
        checked = reconcile_month(ledger, month, guidelines_dir=guidelines, actor="demo")
        progress("Reconciling WIP against the rules", 1, 2)
        exceptions = write_exceptions_workbook(directory / f"exceptions_{month}.xlsx",
                                               checked.findings, title=f"Exceptions — {month}")
        progress("Reconciling WIP against the rules", 2, 2)
        result.paths["exceptions"] = exceptions
        result.steps.append(Step("Findings to review", f"{len(checked.findings):,} "
                                 f"({checked.errors:,} errors)", str(exceptions)))
        truth = firm.ground_truth
        result.evaluation = pd.concat([
            score(checked.findings[checked.findings["entry_kind"] == kind], truth[truth["kind"] == kind])
            .assign(kind=kind) for kind in ("time", "expense")], ignore_index=True)
        planted = result.evaluation[result.evaluation["planted"] > 0]
        result.steps.append(Step("Planted problems found (recall)",
                                 f"{planted['right'].sum():,} of {planted['planted'].sum():,}",
                                 str(paths["ground_truth"])))
        _bill_the_month(ledger, directory, month, result, progress, packs=packs)
    finally:
        ledger.dispose()
    return result
