"""The month end, step by step: the demo firm's run and (later) the batch that builds every pack.

Each step reports progress through a plain callable ``progress(stage, done, total)`` so the CLI
can draw bars, a notebook can print, and a test can record; nothing here knows about terminals.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from billxl import demo as demo_firm
from billxl import intake, money, reports
from billxl.atomic import atomic_write_csv
from billxl.excel.exceptions_workbook import write_exceptions_workbook
from billxl.reconcile import reconcile_month
from billxl.rules.evaluation import score
from billxl.store.ledger import Ledger

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


def _remove_sqlite_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(directory: Path, *, month: str = "2026-10", entries: int = 6000, seed: int = 2026,
             ledger_url: str | None = None, progress: Progress | None = None) -> DemoResult:
    """Build the demo firm in ``directory`` and run every month-end step billxl has.

    The demo's ledger is ``directory/billxl.db``, replaced on each run, unless ``ledger_url``
    names another (empty) database.
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
        wip = reports.wip_by_partner(ledger.time_entries(), ledger.expenses(), ledger.matters(),
                                     ledger.timekeepers())
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
    finally:
        ledger.dispose()
    return result
