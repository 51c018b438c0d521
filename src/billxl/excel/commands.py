"""The Billing ribbon's commands: one function per button, each over a *book*.

Every command reads what it needs from the workbook's tables (:mod:`billxl.excel.book`), lets
billxl's engine do the work through its public API, and only then writes its result tables: a
command that fails has written nothing but the Problems table. :data:`COMMANDS` maps each
ribbon button's id (:data:`billxl.excel.layout.COMMANDS`) to its function; :func:`dispatch`
runs one over any book, :func:`run_from_excel` is what the ribbon's VBA dispatcher calls
through ``RunPython`` and :func:`run_file` what ``billxl workbook run COMMAND FILE`` calls.

What each reads and writes (Settings are read by every command: the ledger, the user, the
month, the dates and the output folder, relative paths starting from the workbook's folder):

=====================  ==========================================  ===========================
command                reads                                       writes
=====================  ==========================================  ===========================
import_time            Settings › Time file (any profile, time     TimeEntries (Status), the
                       and expenses), else the Time entries rows   client and matter lists
check                  the same source, not imported; the rules    Exceptions (Row = the row
                       at the firm's defaults                      on Time entries or file)
reconcile              the month's WIP in the ledger               Exceptions
build_prebills         the month's WIP                             Pre-bill (and one review
                                                                   workbook per partner)
apply_prebill_edits    the workbooks named on Pre-bill             Pre-bill (statuses)
finalize               approved pre-bills of the month             Invoices
save_schedule          the Schedules rows (terms or items)         Schedules (each matter's
                                                                   plan, invoiced ones locked)
bills_due              Settings › Bills due on (else the month's   Bills due
                       last day): cycles and scheduled invoices
render_documents       the invoices on Invoices (else the month)   Invoices (Document)
export_ledes           the month's invoices of portal clients      Submissions
post_payments          Settings › Bank file, else the Payments     Payments (Status, Applied,
                       rows whose Status is blank                  Unapplied, Invoices)
refresh_ar             the ledger, as of Settings › AR as of       AR
month_end_pack         the month                                   Month end (and the pack's
                                                                   files)
=====================  ==========================================  ===========================

Errors: an :class:`~billxl.errors.InputError` (a bad row, a missing file) or a
:class:`~billxl.errors.LedgerError` is written to the **Problems** table, one row per problem
(file, sheet, row and column as the user sees them, value, why), and the status line says that
nothing was changed; rows typed into the workbook are named by their sheet and row, not by the
scratch file they travelled in. Nothing raises out of :func:`run_from_excel`.
"""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from billxl import (
    BillxlError,
    InputError,
    Ledger,
    LedgerView,
    Problem,
    aging,
    apply_prebill,
    atomic_write_csv,
    bills_due,
    check_file,
    create_prebills,
    dso,
    export_for_portals,
    finalize,
    from_minor,
    import_file,
    list_invoices,
    list_submissions,
    month_range,
    post_receipts,
    prebill_frame,
    reconcile_month,
    render_invoices,
    save_schedule,
    schedule_of,
    unapplied_prebill_workbooks,
    write_aging,
    write_exceptions_workbook,
    write_prebill_workbooks,
)
from billxl.cells import cell_text
from billxl.excel import layout, schedule_sheet
from billxl.excel.book import Book, FileBook, XlwingsBook, scratch_workbook

__all__ = ["COMMANDS", "Done", "Context", "dispatch", "run_from_excel", "run_file",
           "import_time", "check", "reconcile", "build_prebills", "apply_prebill_edits",
           "finalize_invoices", "save_schedules", "list_bills_due", "render_documents",
           "export_ledes", "post_payments", "refresh_ar", "month_end_pack"]


@dataclass
class Done:
    """What a command did: the status line, problems to show, and whether something needs
    attention (error findings, a refused workbook) although the command ran."""

    message: str
    problems: list[Problem] = field(default_factory=list)
    attention: bool = False
    refused: str | None = None  # "input" or "ledger" when the command could not run

    @property
    def ok(self) -> bool:
        return self.refused is None


# ============================================================================== settings
class Context:
    """A command's view of the Settings table, the ledger it names and the output folder."""

    def __init__(self, book: Book, ledger_url: str | None = None,
                 default_ledger: str | None = None):
        self.book = book
        labels = {s.label.casefold(): s.key for s in layout.SETTINGS}
        frame = book.read_table("Settings")
        spec = layout.table("Settings")
        key_col, value_col = spec.header_of("setting"), spec.header_of("value")
        self.values: dict[str, Any] = {s.key: s.default for s in layout.SETTINGS}
        if key_col in frame and value_col in frame:
            for label, value in zip(frame[key_col], frame[value_col], strict=True):
                key = labels.get(cell_text(label).strip().casefold())
                if key is not None:
                    self.values[key] = value
        if ledger_url:
            self.values["ledger_url"] = ledger_url
        elif default_ledger and not self.text("ledger_url"):
            self.values["ledger_url"] = default_ledger

    def text(self, key: str) -> str:
        value = self.values.get(key)
        if isinstance(value, datetime):  # Excel turns a typed 2026-10 into a date
            return f"{value:%Y-%m}" if key == "month" else value.date().isoformat()
        return cell_text(value).strip()

    def _problem(self, key: str, value: str, reason: str) -> InputError:
        s = layout.setting(key)
        return InputError(f"Settings › {s.label}: {reason}", [Problem(
            self.book.name, None, s.label, value, reason, sheet=layout.sheet_of("Settings"))])

    @property
    def month(self) -> str:
        text = self.text("month")
        if not text:
            first = date.today().replace(day=1)
            return f"{first - timedelta(days=1):%Y-%m}"
        try:
            month_range(text)
        except BillxlError:
            raise self._problem("month", text, "is not a month: write it as YYYY-MM "
                                "(for example 2026-10)") from None
        return text

    def day(self, key: str) -> date | None:
        value = self.values.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = self.text(key)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self._problem(key, text, "is not a date: write it as YYYY-MM-DD") from None

    @property
    def actor(self) -> str | None:
        return self.text("user") or None

    def path(self, key: str) -> Path | None:
        """A file named in Settings (relative to the workbook's folder); it must exist."""
        text = self.text(key)
        if not text:
            return None
        found = self.resolve(text)
        if not found.is_file():
            raise self._problem(key, text, f"there is no file {found}")
        return found

    def resolve(self, text: str) -> Path:
        p = Path(text).expanduser()
        return p if p.is_absolute() or self.book.folder is None else self.book.folder / p

    def output(self, *parts: str) -> Path:
        return self.resolve(self.text("output_folder") or "billxl-output").joinpath(*parts)

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        url = self.text("ledger_url")
        if not url:
            raise self._problem("ledger_url", url, "name the ledger: a file such as billxl.db "
                                "or a postgresql:// URL")
        if "://" not in url:
            url = str(self.resolve(url))
            if not Path(url).is_file():
                raise self._problem("ledger_url", self.text("ledger_url"),
                                    f"there is no ledger file {url}")
        ledger = Ledger.open(url)
        try:
            yield ledger
        finally:
            ledger.dispose()


# ============================================================================== frames
def _table(name: str, data: dict[str, Any], index: Any = None) -> pd.DataFrame:
    """A frame for table ``name`` from values keyed by the layout's field names."""
    spec = layout.table(name)
    return pd.DataFrame({spec.header_of(k): (v.to_numpy() if isinstance(v, pd.Series) else v)
                         for k, v in data.items()}, index=index)


def _money(minor: pd.Series, currency: pd.Series) -> list[Decimal | None]:
    return [None if pd.isna(m) else from_minor(int(m), str(c))
            for m, c in zip(minor, currency, strict=True)]


def _hours(milli: pd.Series) -> list[Decimal | None]:
    return [None if pd.isna(m) else Decimal(int(m)).scaleb(-3) for m in milli]


def _typed_rows(book: Book, name: str, *, what: str) -> pd.DataFrame:
    rows = book.read_table(name)
    if rows.empty:
        spec = layout.table(name)
        raise InputError(f"Nothing to {what}: the {spec.sheet} sheet has no rows.", [Problem(
            book.name, None, None, None, f"type or paste rows into the {spec.sheet} table, or "
            "name a file in Settings", sheet=spec.sheet)])
    return rows


@contextmanager
def _as_file(book: Book, name: str, rows: pd.DataFrame) -> Iterator[Path]:
    """The typed rows of table ``name`` as a scratch workbook under their canonical headers;
    problems found in it are told as the workbook's own sheet, rows and columns."""
    spec = layout.table(name)
    columns = [c for c in spec.columns if c.input and c.header in rows]
    cells = [[_plain_cell(v) for v in row]
             for row in rows[[c.header for c in columns]].itertuples(index=False)]
    with tempfile.TemporaryDirectory(prefix="billxl-") as folder:
        path = scratch_workbook(Path(folder) / f"{spec.sheet}.xlsx", spec.sheet,
                                [c.field for c in columns], cells)
        try:
            yield path
        except InputError as error:
            raise _located(error, book, spec, rows, path) from None


def _plain_cell(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def _located(error: InputError, book: Book, spec: layout.Table, rows: pd.DataFrame,
             scratch: Path) -> InputError:
    sheet_rows = list(rows.index)
    header = {c.field: c.header for c in spec.columns}
    problems = []
    for p in error.problems:
        row = p.row
        if row is not None and 2 <= row < 2 + len(sheet_rows):
            row = int(sheet_rows[row - 2])
        elif row == 1:
            row = layout.HEADER_ROW
        problems.append(Problem(book.name, row, header.get(p.column or "", p.column), p.value,
                                p.reason, sheet=spec.sheet))
    summary = error.summary.replace(str(scratch), f"{book.name} › {spec.sheet}").replace(
        scratch.name, f"{book.name} › {spec.sheet}")
    return InputError(summary, problems)


def _lists(ledger: Ledger) -> dict[str, pd.DataFrame]:
    ref = LedgerView(ledger).reference
    clients = ref.clients.sort_values("client_id")
    matters = ref.matters.sort_values("matter_id")
    return {"ListClients": _table("ListClients", {"client_id": clients["client_id"],
                                                  "name": clients["name"]}),
            "ListMatters": _table("ListMatters", {"matter_id": matters["matter_id"],
                                                  "name": matters["name"]})}


def _write(book: Book, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        book.write_table(name, frame)


def _counts(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 or word.endswith("s") else f"{n:,} {word}s"


# ============================================================================== intake
def _time_source(book: Book, ctx: Context) -> tuple[Path | None, pd.DataFrame | None]:
    path = ctx.path("time_file")
    if path is not None:
        return path, None
    return None, _typed_rows(book, "TimeEntries", what="import")


def import_time(book: Book, ctx: Context | None = None) -> Done:
    """Import the time file named in Settings (time and expenses, through its profile), or the
    rows of the Time entries table (canonical columns); all or nothing, and again adds nothing."""
    ctx = ctx or Context(book)
    path, rows = _time_source(book, ctx)
    with ctx.ledger() as ledger:
        if path is not None:
            result = import_file(ledger, path, "all", ctx.text("time_profile") or "canonical",
                                 actor=ctx.actor, progress=book.progress)
        else:
            with _as_file(book, "TimeEntries", rows) as scratch:
                result = import_file(ledger, scratch, "time", "canonical", actor=ctx.actor,
                                     progress=book.progress)
        tables = _lists(ledger)
    if rows is not None:
        status = layout.table("TimeEntries").header_of("status")
        tables["TimeEntries"] = rows.assign(**{status: "imported"})
    _write(book, tables)
    source = path.name if path is not None else "the Time entries sheet"
    return Done(f"Imported {result.rows_read:,} row(s) from {source}: {result.new:,} new, "
                f"{result.changed:,} changed, {result.unchanged:,} already in the ledger.")


def _findings_table(found: pd.DataFrame, rows: pd.Series | None = None) -> pd.DataFrame:
    """Findings (a reconcile's, with entry details; or a check's, with rows) for Exceptions."""
    order = found["severity"].map({"error": 0, "warning": 1, "info": 2}).fillna(3)
    found = found.assign(_order=order).sort_values(["_order", "rule", "entry_id"], kind="stable")

    col = found.get
    currency = col("currency")
    return _table("Exceptions", {
        "severity": found["severity"], "rule": found["rule"],
        "row": rows.loc[found.index] if rows is not None else None,
        "status": col("status", "open"),
        "message": found["message"], "suggestion": found["suggestion"],
        "entry_id": found["entry_id"], "work_date": col("work_date"),
        "timekeeper_name": col("timekeeper_name"), "matter_id": col("matter_id"),
        "client_id": col("client_id"),
        "hours": _hours(found["hours_milli"]) if "hours_milli" in found else None,
        "amount": _money(found["amount_minor"], currency) if currency is not None else None,
        "currency": currency, "narrative": col("narrative"), "finding_id": col("finding_id"),
    })


def check(book: Book, ctx: Context | None = None) -> Done:
    """The billing rules (the firm's defaults) over the Time entries rows, or the Time file,
    without importing anything: one row on Exceptions per finding, with the row it is about."""
    ctx = ctx or Context(book)
    path, rows = _time_source(book, ctx)
    period = month_range(ctx.month) if ctx.text("month") else None
    profile = ctx.text("time_profile") or "canonical"
    if path is not None:
        result = check_file(path, profile, period=period)
        found = result.findings
        table = _findings_table(found, found["row"])
    else:
        with _as_file(book, "TimeEntries", rows) as scratch:
            result = check_file(scratch, "canonical", period=period)
        found = result.findings
        sheet_rows = pd.Series(list(rows.index), index=range(2, 2 + len(rows)))
        at = found["row"].map(sheet_rows)
        typed = rows.rename(columns={c.header: c.field for c in layout.table("TimeEntries")
                                     .columns}).set_index(pd.Index(rows.index))
        details = {k: at.map(typed[k]) if k in typed else None
                   for k in ("date", "timekeeper_name", "matter_id", "client_id", "narrative")}
        table = _findings_table(found.assign(work_date=details["date"],
                                             timekeeper_name=details["timekeeper_name"],
                                             matter_id=details["matter_id"],
                                             client_id=details["client_id"],
                                             narrative=details["narrative"]), at)
    _write(book, {"Exceptions": table})
    errors = result.errors
    return Done(f"Checked {result.rows:,} entr{'y' if result.rows == 1 else 'ies'}: "
                f"{len(found):,} finding(s), {errors:,} error(s) (see Exceptions).",
                attention=errors > 0)


def reconcile(book: Book, ctx: Context | None = None) -> Done:
    """The month's WIP in the ledger against each client's guidelines; findings recorded."""
    ctx = ctx or Context(book)
    month = ctx.month
    with ctx.ledger() as ledger:
        result = reconcile_month(ledger, month, actor=ctx.actor)
    _write(book, {"Exceptions": _findings_table(result.findings)})
    return Done(f"Reconciled {month}: {result.entries_checked:,} entries and "
                f"{result.expenses_checked:,} expenses checked; {len(result.findings):,} "
                f"open finding(s), {result.errors:,} error(s) (see Exceptions).",
                attention=result.errors > 0)


# ============================================================================== pre-bills
def _prebills_table(lines: pd.DataFrame, workbooks: dict[str, str]) -> pd.DataFrame:
    if lines.empty:
        return _table("Prebills", {"prebill_pk": []})
    is_time = lines["entry_kind"] == "time"
    lines = lines.assign(
        hours_milli=lines["worked_qty_milli"].where(is_time, 0),
        to_bill_minor=lines["bill_amount_minor"].where(lines["action"] == "bill", 0),
        has_finding=lines["findings"].fillna("").astype(str).str.len() > 0)
    per = lines.groupby("prebill_pk", sort=False).agg(
        matter_id=("matter_id", "first"), matter_name=("matter_name", "first"),
        client_id=("client_id", "first"), client_name=("client_name", "first"),
        partner_id=("billing_partner_id", "first"), partner_name=("partner_name", "first"),
        status=("prebill_status", "first"), currency=("currency", "first"),
        lines=("entry_pk", "size"), hours=("hours_milli", "sum"),
        worked=("worked_amount_minor", "sum"), to_bill=("to_bill_minor", "sum"),
        findings=("has_finding", "sum")).reset_index()
    return _table("Prebills", {
        "prebill_pk": per["prebill_pk"], "matter_id": per["matter_id"],
        "matter_name": per["matter_name"], "client_id": per["client_id"],
        "client_name": per["client_name"], "partner_name": per["partner_name"],
        "prebill_status": per["status"], "lines": per["lines"], "hours": _hours(per["hours"]),
        "worked": _money(per["worked"], per["currency"]),
        "to_bill": _money(per["to_bill"], per["currency"]), "currency": per["currency"],
        "findings": per["findings"], "workbook": per["partner_id"].map(workbooks),
    })


def build_prebills(book: Book, ctx: Context | None = None) -> Done:
    """The month's pre-bills (one per matter with WIP) and one review workbook per partner."""
    ctx = ctx or Context(book)
    month = ctx.month
    with ctx.ledger() as ledger:
        # before drafting: a rebuilt pre-bill would leave a partner's unapplied edits nowhere
        unapplied_prebill_workbooks(ledger, month, ctx.output("prebills"), refuse=True)
        created = create_prebills(ledger, month, actor=ctx.actor)
        books = write_prebill_workbooks(ledger, month, ctx.output("prebills"))
        lines = prebill_frame(ledger, month)
    table = _prebills_table(lines, {k: str(v) for k, v in books.items()})
    _write(book, {"Prebills": table})
    return Done(f"Pre-bills for {month}: {len(table):,} open ({len(created):,} new or rebuilt), "
                f"{len(books):,} partner workbook(s) in {ctx.output('prebills')}.")


def apply_prebill_edits(book: Book, ctx: Context | None = None) -> Done:
    """Each partner workbook named on Pre-bill, applied all or nothing on its own: a workbook
    with problems changes nothing and its problems are listed; the others are applied."""
    ctx = ctx or Context(book)
    month = ctx.month
    spec = layout.table("Prebills")
    listed = book.read_table("Prebills")
    column = spec.header_of("workbook")
    names = [cell_text(v).strip() for v in listed[column]] if column in listed else []
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise InputError("No pre-bill workbooks to apply: build the pre-bills first.", [Problem(
            book.name, None, column, None, "the Pre-bill table names no workbook",
            sheet=spec.sheet)])
    pk_column = spec.header_of("prebill_pk")
    listed_at = {cell_text(pk): cell_text(wb).strip() for pk, wb in
                 zip(listed.get(pk_column, []), listed[column], strict=False)}
    problems: list[Problem] = []
    applied, approved, changed = 0, 0, 0
    with ctx.ledger() as ledger:
        for i, name in enumerate(names):
            book.progress("Applying pre-bill edits", i, len(names))
            path = ctx.resolve(name)
            if not path.is_file():
                problems.append(Problem(book.name, None, column, name,
                                        f"there is no workbook {path}", sheet=spec.sheet))
                continue
            try:
                result = apply_prebill(ledger, path, actor=ctx.actor)
            except InputError as error:
                problems += error.problems or [Problem(str(path), None, None, None, str(error))]
                continue
            applied += 1
            approved += len(result.approved)
            changed += result.lines_changed
        book.progress("Applying pre-bill edits", len(names), len(names))
        lines = prebill_frame(ledger, month)
    partner_of = lines.groupby("prebill_pk")["billing_partner_id"].first()
    workbooks = {str(partner_of[int(pk)]): wb for pk, wb in listed_at.items()
                 if wb and pk.isdigit() and int(pk) in partner_of.index}
    _write(book, {"Prebills": _prebills_table(lines, workbooks)})
    refused = len(names) - applied
    text = (f"Applied {applied:,} of {len(names):,} pre-bill workbook(s): {changed:,} line(s) "
            f"changed, {approved:,} pre-bill(s) approved.")
    if refused:
        text += f" {refused:,} refused, nothing taken from them (see Problems)."
    return Done(text, problems, attention=bool(refused))


# ============================================================================== invoices
def _invoices_table(invoices: pd.DataFrame, documents: dict[str, str]) -> pd.DataFrame:
    cur = invoices["currency"]
    return _table("Invoices", {
        "number": invoices["number"], "kind": invoices["kind"],
        "invoice_date": invoices["invoice_date"], "due_date": invoices["due_date"],
        "client_id": invoices["client_id"], "matter_id": invoices["matter_id"], "currency": cur,
        "fees": _money(invoices["fees_minor"], cur),
        "expenses": _money(invoices["expenses_minor"], cur),
        "discount": _money(invoices["discount_minor"], cur),
        "tax": _money(invoices["tax_minor"], cur), "total": _money(invoices["total_minor"], cur),
        "balance": _money(invoices["balance_minor"], cur),
        "document": [documents.get(str(n), "") for n in invoices["number"]],
    })


def _listed_documents(book: Book) -> dict[str, str]:
    spec = layout.table("Invoices")
    frame = book.read_table("Invoices")
    number, document = spec.header_of("number"), spec.header_of("document")
    if frame.empty or number not in frame or document not in frame:
        return {}
    return {cell_text(n): cell_text(d) for n, d in zip(frame[number], frame[document],
                                                       strict=True) if cell_text(d)}


def finalize_invoices(book: Book, ctx: Context | None = None) -> Done:
    """Approved pre-bills of the month become numbered final invoices, dated Settings ›
    Invoice date (else the month's last day)."""
    ctx = ctx or Context(book)
    month = ctx.month
    with ctx.ledger() as ledger:
        result = finalize(ledger, month=month, invoice_date=ctx.day("invoice_date"),
                          actor=ctx.actor)
        invoices = list_invoices(ledger, month=month)
    _write(book, {"Invoices": _invoices_table(invoices, _listed_documents(book))})
    totals = ", ".join(f"{from_minor(int(v), str(c)):,.2f} {c}" for c, v in
                       result.invoices.groupby("currency")["total_minor"].sum().items())
    return Done(f"Finalized {_counts(result.count, 'invoice')} for {month}"
                + (f" ({totals})" if totals else "") + f"; {len(invoices):,} listed.")


def render_documents(book: Book, ctx: Context | None = None) -> Done:
    """Each invoice listed on Invoices (else every invoice of the month) as PDF and XLSX; the
    table then lists the month's invoices again, each with its document."""
    ctx = ctx or Context(book)
    month = ctx.month
    spec = layout.table("Invoices")
    listed = book.read_table("Invoices")
    number = spec.header_of("number")
    wanted = {cell_text(v) for v in listed[number]} if number in listed else set()
    folder = ctx.output("invoices")
    with ctx.ledger() as ledger:
        invoices = list_invoices(ledger, month=month)
        chosen = invoices[invoices["number"].isin(wanted)] if wanted else invoices
        paths = render_invoices(ledger, chosen["invoice_pk"].tolist(), folder,
                                progress=lambda done, total: book.progress(
                                    "Rendering invoice documents", done, total))
    per = len(paths) // max(len(chosen), 1)  # the formats of each invoice, PDF first
    documents = _listed_documents(book) | {
        str(n): str(paths[i * per]) for i, n in enumerate(chosen["number"])}
    _write(book, {"Invoices": _invoices_table(invoices, documents)})
    return Done(f"Rendered {_counts(len(chosen), 'invoice')} ({len(paths):,} files) in "
                f"{folder}.")


def export_ledes(book: Book, ctx: Context | None = None) -> Done:
    """LEDES files for the month's invoices of clients who bill through a portal, each checked
    against the portal and recorded as submitted; one the portal would reject is held back."""
    ctx = ctx or Context(book)
    month = ctx.month
    folder = ctx.output("ledes")
    with ctx.ledger() as ledger:
        written = export_for_portals(ledger, month, folder, actor=ctx.actor)
        numbers = set(list_invoices(ledger, month=month)["number"])
        subs = list_submissions(ledger)
    subs = subs[subs["invoice"].isin(numbers)]
    held = pd.DataFrame([{"invoice": f.invoice, "client_id": f.client_id, "portal": f.portal,
                          "format": f.format, "status": "held back",
                          "reason": "\n".join(f.reasons), "file": ""} for f in written.refused],
                        columns=["invoice", "client_id", "portal", "format", "status", "reason",
                                 "file"])
    shown = pd.concat([pd.DataFrame({
        "invoice": subs["invoice"], "client_id": subs["client_id"], "portal": subs["portal"],
        "format": subs["format"], "status": subs["status"],
        "reason": subs["rejection_reason"].fillna(""),
        "file": [str(folder / n) for n in subs["file_name"]]}), held], ignore_index=True)
    _write(book, {"Submissions": _table("Submissions", {k: shown[k] for k in shown})})
    return Done(f"LEDES for {month}: {len(written):,} file(s) written and recorded as "
                f"submitted, {len(written.refused):,} held back (the portal would reject "
                "them: see Submissions).", attention=bool(written.refused))


# ============================================================================== schedules
def save_schedules(book: Book, ctx: Context | None = None) -> Done:
    """The Schedules rows written to the ledger, all the matters in one transaction: terms rows
    built into items, items saved as typed; invoiced items locked (a change to one is refused);
    a fixed fee's items must add up to it. The table is then each matter's schedule as the
    ledger has it (a row with only a matter just shows that matter's)."""
    ctx = ctx or Context(book)
    rows = _typed_rows(book, "Schedules", what="save")
    with ctx.ledger() as ledger:
        reference = LedgerView(ledger).reference
        named = schedule_sheet.matters_named(rows)
        known = set(reference.matters["matter_id"])
        current = {m: schedule_of(ledger, m) for m in named if m in known}
        found = schedule_sheet.read_plans(book.name, rows, reference, current)
        if found.problems:
            raise InputError(f"The schedules were not saved: {len(found.problems):,} "
                             "row(s) to put right.", found.problems)
        saved = save_schedule(ledger, found.plans, actor=ctx.actor) if found.plans else {}
        shown = {m: saved[m] if m in saved else current[m] for m in found.shown}
    _write(book, {"Schedules": schedule_sheet.plan_rows(shown)})
    planned = sum(int((p["status"] == "planned").sum()) for p in shown.values())
    invoiced = sum(int((p["status"] == "invoiced").sum()) for p in shown.values())
    return Done(f"Saved the schedules of {_counts(len(found.plans), 'matter')} "
                f"({_counts(len(found.shown), 'matter')} shown): {planned:,} item(s) planned, "
                f"{invoiced:,} invoiced (locked, unchanged).")


def list_bills_due(book: Book, ctx: Context | None = None) -> Done:
    """What is due to bill on Settings › Bills due on (else the month's last day): the matters
    whose billing cycle has fallen, with their WIP, and the scheduled invoices due."""
    ctx = ctx or Context(book)
    on = ctx.day("due_on") or month_range(ctx.month)[1]
    with ctx.ledger() as ledger:
        due = bills_due(ledger, on)
    _write(book, {"BillsDue": _table("BillsDue", {
        "what": due["what"], "matter_id": due["matter_id"], "client_id": due["client_id"],
        "billing_cycle": due["billing_cycle"], "falls_on": due["falls_on"],
        "description": due["description"], "amount": _money(due["amount_minor"], due["currency"]),
        "currency": due["currency"], "entries": due["entries"],
        "schedule_id": due["schedule_id"]})})
    cycles = int((due["what"] == "cycle").sum())
    return Done(f"Due to bill on {on}: {_counts(cycles, 'matter')} on their cycle and "
                f"{len(due) - cycles:,} scheduled invoice(s), before tax: "
                + (_per_currency(due.assign(total=due["amount_minor"]), "total") or "nothing")
                + ".")


# ============================================================================== cash
def post_payments(book: Book, ctx: Context | None = None) -> Done:
    """Post the bank file named in Settings (BAI2, camt, MT940, OFX or a CSV profile), or the
    Payments rows whose Status is blank; each receipt's result is shown on Payments."""
    ctx = ctx or Context(book)
    spec = layout.table("Payments")
    typed = book.read_table("Payments")
    status = spec.header_of("status")
    path = ctx.path("bank_file")
    with ctx.ledger() as ledger:
        if path is not None:
            result = post_receipts(ledger, path, ctx.text("bank_profile") or "canonical",
                                   actor=ctx.actor)
            todo = None
        else:
            if typed.empty:
                _typed_rows(book, "Payments", what="post")
            blank = typed[status].map(lambda v: not cell_text(v).strip()) if status in typed \
                else pd.Series(True, index=typed.index)
            todo = typed[blank]
            if todo.empty:
                raise InputError("Nothing to post: every row on Payments has a Status already.",
                                 [Problem(book.name, None, status, None, "clear the Status of "
                                          "a row to post it again", sheet=spec.sheet)])
            with _as_file(book, "Payments", todo) as scratch:
                result = post_receipts(ledger, scratch, "canonical", actor=ctx.actor)
    r = result.receipts
    proposals = result.proposals()
    paid = (proposals[proposals["action"] == "allocation"].groupby("receipt_id")["invoice"]
            .agg(lambda s: ", ".join(dict.fromkeys(map(str, s)))))
    outcome = _table("Payments", {
        "receipt_id": r["receipt_id"], "date": r["received_on"], "client_id": r["client_id"],
        "payer": r["payer"], "amount": _money(r["amount_minor"], r["currency"]),
        "currency": r["currency"], "method": r["method"], "reference": r["reference"],
        "remittance": r["remittance"],
        "status": r["status"].where(r["status"] != "unmatched",
                                    "unmatched: " + r["unmatched_reason"].fillna("").astype(str)),
        "applied": _money(r["allocated_minor"], r["currency"]),
        "unapplied": _money(r["unapplied_minor"], r["currency"]),
        "invoices": r["receipt_id"].map(paid).fillna(""),
    })
    if todo is not None:  # the typed rows, in place, with their results
        sheet_row = pd.Series(list(todo.index), index=range(2, 2 + len(todo)))
        outcome.index = r["row"].map(sheet_row).to_numpy()
        rest = typed.drop(index=outcome.index, errors="ignore")
        if len(rest) and result.duplicates:
            rest = rest.copy()
            was_blank = rest.index.isin(todo.index)
            rest.loc[was_blank, status] = "already posted"
        table = pd.concat([rest, outcome]).sort_index()
    else:  # a bank file: its receipts added below the rows already there
        table = pd.concat([typed, outcome], ignore_index=True)
    _write(book, {"Payments": table})
    s = result.summary_dict()
    source = path.name if path is not None else "the Payments sheet"
    return Done(f"Posted {s['posted']:,} receipt(s) from {source}: {s['allocations']:,} "
                f"allocation(s), {s['unmatched']:,} unmatched, {s['duplicates']:,} already in "
                "the ledger.", attention=s["unmatched"] > 0)


def refresh_ar(book: Book, ctx: Context | None = None) -> Done:
    """What each client owes, by age, as of Settings › AR as of (else today)."""
    ctx = ctx or Context(book)
    as_of = ctx.day("as_of") or date.today()
    with ctx.ledger() as ledger:
        table = aging(ledger, as_of)
    _write(book, {"Aging": _aging_table(table)})
    return Done(f"AR as of {as_of}: {len(table):,} client(s) owing "
                + (_per_currency(table, "total") or "nothing") + ".")


def _aging_table(table: pd.DataFrame) -> pd.DataFrame:
    cur = table["currency"]
    amounts = {k: _money(table[k], cur) for k in ("current", "1_30", "31_60", "61_90",
                                                   "91_120", "over_120", "total", "credits",
                                                   "net")}
    return _table("Aging", {"client_id": table["client_id"], "client_name": table["client"],
                            "currency": cur, **amounts})


def _per_currency(frame: pd.DataFrame, column: str) -> str:
    sums = frame.groupby("currency")[column].sum()
    return ", ".join(f"{from_minor(int(v), str(c)):,.2f} {c}" for c, v in sums.items())


# ============================================================================== month end
def month_end_pack(book: Book, ctx: Context | None = None) -> Done:
    """The month's figures per currency (WIP, billed, owed, credits, debtor and WIP days,
    lock-up) on Month end, and the pack's files: the aging and exceptions workbooks, the
    invoice register and the lock-up figures."""
    ctx = ctx or Context(book)
    month = ctx.month
    _start, end = month_range(month)
    as_of = ctx.day("as_of") or end
    folder = ctx.output(f"pack_{month}")
    with ctx.ledger() as ledger:
        book.progress("Month-end pack", 0, 4)
        wip = LedgerView(ledger).wip_rows(end)
        invoices = list_invoices(ledger, month=month)
        owed = aging(ledger, as_of)
        lock = dso(ledger, as_of)
        book.progress("Month-end pack", 1, 4)
        found = reconcile_month(ledger, month, actor=ctx.actor).findings
    book.progress("Month-end pack", 2, 4)
    files = {
        "aging": write_aging(owed, folder / f"aging_{as_of}.xlsx", title=f"AR aging at {as_of}"),
        "exceptions": write_exceptions_workbook(folder / f"exceptions_{month}.xlsx", found,
                                                title=f"Exceptions — {month}"),
    }
    register = atomic_write_csv(invoices.drop(columns=["finalized_at"], errors="ignore"),
                                folder / f"invoices_{month}.csv")
    files["register"] = register
    lockup_file = atomic_write_csv(lock, folder / f"lockup_{as_of}.csv")
    book.progress("Month-end pack", 3, 4)
    rows = []

    def add(figure: str, frame: pd.DataFrame, column: str, file: Path | None = None) -> None:
        for currency, value in frame.groupby("currency")[column].sum().items():
            rows.append({"figure": figure, "currency": currency,
                         "amount": from_minor(int(value), str(currency)), "number": None,
                         "file": "" if file is None else str(file)})

    add(f"WIP at {end} (billing rates)", wip, "billing_minor")
    add(f"Invoiced in {month}", invoices[invoices["kind"] == "invoice"], "total_minor", register)
    add(f"Owed at {as_of}", owed, "total", files["aging"])
    add(f"Credits at {as_of}", owed, "credits", files["aging"])
    for _, r in lock.iterrows():
        for label, column in (("Debtor days", "debtor_days"), ("WIP days", "wip_days"),
                              ("Lock-up days", "lockup_days")):
            days = r[column]  # none where nothing was billed in the currency's window
            rows.append({"figure": f"{label} at {as_of}", "currency": r["currency"],
                         "amount": None, "number": None if pd.isna(days) else round(float(days)),
                         "file": str(lockup_file)})
    errors = int((found["severity"] == "error").sum())
    rows.append({"figure": f"Open findings ({errors:,} errors)", "currency": "",
                 "amount": None, "number": len(found), "file": str(files["exceptions"])})
    shown = pd.DataFrame(rows, columns=["figure", "currency", "amount", "number", "file"])
    _write(book, {"MonthEnd": _table("MonthEnd", {k: shown[k] for k in shown})})
    book.progress("Month-end pack", 4, 4)
    return Done(f"Month-end pack for {month} in {folder}: {len(shown):,} figures, "
                f"{len(files) + 1} files.")


# ============================================================================== dispatch
COMMANDS: dict[str, Callable[..., Done]] = {
    "import_time": import_time,
    "check": check,
    "reconcile": reconcile,
    "build_prebills": build_prebills,
    "apply_prebill_edits": apply_prebill_edits,
    "finalize": finalize_invoices,
    "save_schedule": save_schedules,
    "bills_due": list_bills_due,
    "render_documents": render_documents,
    "export_ledes": export_ledes,
    "post_payments": post_payments,
    "refresh_ar": refresh_ar,
    "month_end_pack": month_end_pack,
}
assert set(COMMANDS) == {c.id for c in layout.COMMANDS}, "layout.COMMANDS and COMMANDS differ"


def _problems_table(label: str, problems: list[Problem]) -> pd.DataFrame:
    return _table("Problems", {
        "command": [label] * len(problems),
        "file": [p.file for p in problems], "sheet": [p.sheet for p in problems],
        "row": [p.row for p in problems], "column": [p.column for p in problems],
        "value": [p.value for p in problems], "reason": [p.reason for p in problems]})


def dispatch(command_id: str, book: Book, *, ledger_url: str | None = None,
             default_ledger: str | None = None) -> Done:
    """Run one ribbon command over ``book``. billxl's own errors never escape: they are written
    to the Problems table and the status line, and the result says the command did not run.

    The ledger is ``ledger_url`` if given, else the one Settings names, else ``default_ledger``.
    """
    if command_id not in COMMANDS:
        raise KeyError(f"{command_id!r} is not a billxl command; the commands are: "
                       f"{', '.join(COMMANDS)}")
    label = layout.command(command_id).label
    try:
        done = COMMANDS[command_id](book, Context(book, ledger_url, default_ledger))
    except BillxlError as error:
        problems = (error.problems if isinstance(error, InputError) and error.problems else
                    [Problem(book.name, None, None, None, str(error))])
        summary = error.summary if isinstance(error, InputError) else str(error)
        done = Done(f"{label}: nothing was changed. {summary} ({len(problems):,} problem(s) "
                    "on the Problems sheet.)", problems, attention=True,
                    refused="input" if isinstance(error, InputError) else "ledger")
        book.write_table("Problems", _problems_table(label, problems))
        book.message(done.message, problem=True)
        return done
    book.write_table("Problems", _problems_table(label, done.problems))
    book.message(f"{label}: {done.message}", problem=bool(done.problems))
    return done


def run_file(command_id: str, path: str | Path, *, ledger_url: str | None = None,
             default_ledger: str | None = None,
             progress: Callable[[str, int, int], None] | None = None,
             out: str | Path | None = None) -> Done:
    """Run a command on a workbook file and save it atomically (VBA project and ribbon kept),
    to ``out`` if given. The ledger: as :func:`dispatch` says."""
    if command_id not in COMMANDS:
        raise InputError(f"{command_id!r} is not a workbook command; the commands are: "
                         f"{', '.join(COMMANDS)}.")
    if not Path(path).is_file():
        raise InputError(f"There is no workbook {path}.")
    book = FileBook(path)
    book.on_progress = progress
    done = dispatch(command_id, book, ledger_url=ledger_url, default_ledger=default_ledger)
    book.save(out)
    return done


def run_from_excel(command_id: str, book: Any = None) -> None:
    """What the ribbon's VBA dispatcher calls through RunPython (``book``: the xlwings book,
    by default ``xw.Book.caller()``). Nothing raises out of it: an unexpected error is shown
    on the status line and the Problems sheet with its traceback's last lines."""
    live = XlwingsBook(book) if book is not None else XlwingsBook.caller()
    try:
        dispatch(command_id, live)
    except Exception as error:  # the one catch-all: Excel must never see a Python traceback
        where = traceback.format_exc(limit=-3).strip().splitlines()
        problems = [Problem(live.name, None, None, None,
                            f"billxl failed unexpectedly: {type(error).__name__}: {error}"),
                    *[Problem(live.name, None, None, None, line) for line in where[-6:]]]
        try:
            label = layout.command(command_id).label if command_id in COMMANDS else command_id
            live.write_table("Problems", _problems_table(label, problems))
        finally:
            live.message(f"billxl could not run {command_id}: {type(error).__name__}: {error}",
                         problem=True)
