"""Exporting final invoices as LEDES files, checked against each client's portal first.

For each invoice: its client's portal profile (``clients.ebilling_portal``; ``generic`` when
none) picks the format (unless one is asked for) and how invoice-level lines are written; the
file is rendered, read back and validated exactly as a user's file would be, and an invoice the
portal would reject is refused with its findings, unless forced. Files are written atomically
(a reader never sees half a file). :func:`export_for_portals` does a month's e-billing clients
and records a submission for each file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from billxl.atomic import atomic_path
from billxl.errors import InputError
from billxl.ledes.findings import no_findings
from billxl.ledes.formats import format_named
from billxl.ledes.parser import parse
from billxl.ledes.portals import GENERIC, PortalProfile, load_portal
from billxl.ledes.validate import check_lines
from billxl.ledes.writer import LedgerInvoices, ledes_lines, load_invoices, render
from billxl.store.ledger import Ledger

__all__ = ["ExportedFile", "ExportResult", "export_invoices", "export_for_portals",
           "PortalExports", "file_name", "check_portal_files", "clients_guidelines"]

_SUFFIX = {"1998B": "txt", "98BI": "txt", "XML21": "xml"}


@dataclass
class ExportedFile:
    """One invoice's LEDES file: where it was written, or why it was refused."""

    invoice: str
    client_id: str
    portal: str
    format: str
    path: Path | None  # None when refused
    findings: pd.DataFrame  # the file's validation findings, every severity
    reasons: list[str] = field(default_factory=list)  # why it was refused, in words
    notes: list[str] = field(default_factory=list)
    data: bytes = b""
    #: the LINE_ITEM_NUMBER on each of the file's lines, by line number, as the check read it
    line_items: dict[int, str] | None = None

    @property
    def refused(self) -> bool:
        return self.path is None

    @property
    def errors(self) -> pd.DataFrame:
        return self.findings[self.findings["severity"] == "error"]


@dataclass
class ExportResult:
    files: list[ExportedFile]
    #: invoices of the month left out because their clients are not e-billed (no portal)
    not_ebilled: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[ExportedFile]:
        return [f for f in self.files if not f.refused]

    @property
    def refused(self) -> list[ExportedFile]:
        return [f for f in self.files if f.refused]


class PortalExports(list):
    """The paths :func:`export_for_portals` wrote (a list), with what it refused and recorded."""

    def __init__(self, paths, refused: list[ExportedFile], submissions: list[dict]):
        super().__init__(paths)
        self.refused = refused
        self.submissions = submissions


def file_name(invoice: str, fmt: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in invoice)
    return f"{safe}_LEDES{fmt}.{_SUFFIX[fmt]}"


def export_invoices(ledger: Ledger, out: str | Path, *, numbers: list[str] | None = None,
                    month: str | None = None, fmt: str | None = None,
                    portal: str | PortalProfile | None = None, force: bool = False,
                    transliterate: bool = False, encoding: str | None = None,
                    kinds: tuple[str, ...] = ("invoice", "credit_note")) -> ExportResult:
    """Write a LEDES file per invoice (by number, or the month's), after its portal's checks.

    ``out`` is the file to write when one invoice is exported to a path with a suffix, else a
    folder (files named ``<number>_LEDES<format>.txt|xml``). ``fmt`` overrides the portal's
    format, ``portal`` the client's portal, ``encoding`` the portal's encoding of pipe files.
    """
    if not numbers and not month:
        raise InputError("Say which invoices to export: invoice numbers or a month (YYYY-MM).")
    data = load_invoices(ledger, numbers=numbers, month=month, kinds=kinds)
    left_out: list[str] = []
    if not numbers and portal is None:  # a month: only the clients who bill through a portal
        data, left_out = _portal_clients_only(data)
    result = _export(data, Path(out), fmt=fmt, portal=portal, force=force,
                     transliterate=transliterate, encoding=encoding,
                     single=bool(numbers) and len(data) == 1,
                     guidelines=clients_guidelines(ledger.clients(), data.firm))
    result.not_ebilled = left_out
    return result


def _portal_clients_only(data: LedgerInvoices) -> tuple[LedgerInvoices, list[str]]:
    """The invoices of clients with an e-billing portal, and the numbers of the others."""
    portals = data.invoices["ebilling_portal"]
    named = portals.notna() & (portals.astype(str).str.strip() != "")
    keep = data.invoices[named]
    kept = LedgerInvoices(keep, data.lines[data.lines["invoice_pk"].isin(keep["invoice_pk"])],
                          data.firm, data.timekeepers, data.tax_rates)
    return kept, sorted(data.invoices.loc[~named, "number"].astype(str))


def clients_guidelines(clients: pd.DataFrame, firm: dict | None) -> dict:
    """Each client's billing guidelines (client_id -> Guidelines), from the firm's folder of
    guideline files, as the WIP check reads them: what a portal's ``guideline_rules`` follow."""
    from billxl.reconcile import guidelines_for

    return guidelines_for(clients, None, setting=(firm or {}).get("guidelines_dir"))


def check_portal_files(data: LedgerInvoices, guidelines: dict | None = None
                       ) -> dict[str, ExportedFile]:
    """What :func:`export_invoices` would find in each invoice's file for its client's portal,
    by the same code (render, read back, validate), writing nothing: {invoice number:
    ExportedFile with its findings; ``refused`` when the portal would reject it}. Used to check
    invoices before they are final (``data`` may hold pre-bills' invoices as they will be)."""
    result = _export(data, Path("."), fmt=None, portal=None, force=False, transliterate=False,
                     encoding=None, single=False, guidelines=guidelines, write=False)
    return {f.invoice: f for f in result.files}


def _export(data: LedgerInvoices, out: Path, *, fmt, portal, force, transliterate, encoding,
            single: bool, guidelines: dict | None = None, write: bool = True) -> ExportResult:
    invoices = data.invoices
    if invoices.empty:
        return ExportResult([])
    profiles, unknown = {}, {}
    for row in invoices.itertuples(index=False):
        named = row.ebilling_portal if isinstance(row.ebilling_portal, str) else None
        name = portal if portal is not None else (named or None)
        try:
            profiles[row.number] = load_portal(name)
        except InputError as error:  # a portal billxl has no profile for: say so, per invoice
            unknown[row.number] = error.summary
            profiles[row.number] = load_portal(GENERIC)
    styles = {n: (p.flat_fee_as if p.flat_fee_as != "either" else "unit_cost")
              for n, p in profiles.items()}
    lines = ledes_lines(data, styles)
    to_file = single and out.suffix != "" and not out.is_dir()
    planned: dict[str, tuple] = {}
    results: dict[str, ExportedFile] = {}
    for row in invoices.itertuples(index=False):
        if row.number in unknown:
            results[row.number] = ExportedFile(row.number, row.client_id,
                                               str(row.ebilling_portal), fmt or "", None,
                                               no_findings(), [unknown[row.number]])
            continue
        profile = profiles[row.number]
        chosen = format_named(fmt) if fmt else profile.format_for(int(row.tax_minor) != 0)
        path = out if to_file else out / file_name(row.number, chosen)
        planned[row.number] = (row, profile, chosen, path, encoding or _encoding_for(profile))
    # each LEDES client id's guidelines (the id the file names the client by)
    by_id = {}
    for row in invoices.itertuples(index=False):
        known = (guidelines or {}).get(row.client_id)
        ledes_id = row.ledes_client_id if isinstance(row.ledes_client_id, str) and \
            row.ledes_client_id else row.client_id
        if known is not None:
            by_id[ledes_id] = known
    # invoices for the same portal, format and encoding are checked together, in one pass
    groups: dict[tuple, list[str]] = {}
    for number, (_, profile, chosen, _, enc) in planned.items():
        groups.setdefault((profile.name, chosen, enc), []).append(number)
    for numbers in groups.values():
        results.update(_group(numbers, planned, lines, force=force,
                              transliterate=transliterate, guidelines=by_id, write=write))
    return ExportResult([results[n] for n in invoices["number"]])


def _group(numbers: list[str], planned: dict, lines: pd.DataFrame, *, force: bool,
           transliterate: bool, guidelines: dict, write: bool) -> dict[str, ExportedFile]:
    """Render and check a group of invoices as one file, then write each as its own file.

    The group's findings are split by invoice and their lines renumbered as in the invoice's
    own file (same header, its lines only); matters and timekeepers are compared within each
    invoice, so every invoice gets exactly the findings its own file would. XML, and a group
    where rendering had to change or refuse something, are done invoice by invoice.
    """
    _, profile, fmt, _, encoding = planned[numbers[0]]
    mine = lines[lines["invoice_number"].isin(numbers)]
    one_by_one = fmt == "XML21" or len(numbers) == 1
    if not one_by_one:
        try:
            rendered = render(mine, fmt, encoding=encoding, name="batch")
        except InputError:
            one_by_one = True
        else:
            one_by_one = bool(rendered.notes)
    if one_by_one:
        return {n: _one(planned[n][0], mine[mine["invoice_number"] == n].reset_index(drop=True),
                        profile, fmt, planned[n][3], force=force, transliterate=transliterate,
                        encoding=encoding, guidelines=guidelines, write=write)
                for n in numbers}
    parsed = parse(rendered.data)
    checked = check_lines(parsed, portal=profile, within_invoices=True,
                          guidelines_of_client=guidelines)
    items = _line_items(parsed)
    rows = rendered.data.split(b"\r\n")
    header, body = rows[:2], rows[2:]
    invoice_of_row = mine["invoice_number"].to_numpy(dtype=object)
    findings = checked.findings
    file_level = findings["line"] <= 2
    out = {}
    for number in numbers:
        at = np.flatnonzero(invoice_of_row == number)
        offset = int(at[0])  # lines before the invoice's own, in the batch file
        data = b"\r\n".join(header + body[at[0]:at[-1] + 1])
        own = findings[(findings["invoice"] == number) | file_level].copy()
        own.loc[own["line"] > 2, "line"] -= offset
        out[number] = _finish(planned[number][0], profile, fmt, planned[number][3], data,
                              own.reset_index(drop=True), [], force=force, write=write,
                              line_items={k - offset: items[k] for k in
                                          range(at[0] + 3, at[-1] + 4) if k in items})
    return out


def _line_items(parsed) -> dict[int, str]:
    """The LINE_ITEM_NUMBER of each line of a parsed file, by its line number."""
    lines = parsed.lines
    if "line" not in lines or "line_item_number" not in lines:
        return {}
    return dict(zip(lines["line"].astype(int).tolist(),
                    lines["line_item_number"].astype(str).tolist(), strict=True))


def _encoding_for(profile: PortalProfile) -> str:
    return "utf-8" if profile.encoding == "utf-8" else "cp1252"


def _one(row, lines: pd.DataFrame, profile: PortalProfile, fmt: str, path: Path, *,
         force: bool, transliterate: bool, encoding: str, guidelines: dict,
         write: bool) -> ExportedFile:
    """Render and check one invoice's file."""
    try:
        rendered = render(lines, fmt, encoding=encoding, transliterate_text=transliterate,
                          name=path.name)
    except InputError as error:  # 1998B for a taxed invoice, a character cp1252 lacks, ...
        reasons = [error.summary] + [str(p) for p in error.problems]
        return ExportedFile(row.number, row.client_id, profile.name, fmt, None, no_findings(),
                            reasons=reasons)
    parsed = parse(rendered.data, name=path.name)
    checked = check_lines(parsed, portal=profile, guidelines_of_client=guidelines)
    return _finish(row, profile, fmt, path, rendered.data, checked.findings, rendered.notes,
                   force=force, write=write, line_items=_line_items(parsed))


def _finish(row, profile: PortalProfile, fmt: str, path: Path, data: bytes,
            findings: pd.DataFrame, notes: list[str], *, force: bool,
            write: bool = True, line_items: dict[int, str] | None = None) -> ExportedFile:
    """Refuse the file if the portal would, else write it (atomically; not when ``write`` is
    False, a check only)."""
    base = dict(invoice=row.number, client_id=row.client_id, portal=profile.name, format=fmt,
                line_items=line_items)
    errors = findings[findings["severity"] == "error"]
    if len(errors) and not force:
        reasons = [f"line {r.line}: {r.rule}: {r.message}" for r in errors.itertuples()]
        return ExportedFile(**base, path=None, findings=findings, reasons=reasons,
                            notes=list(notes), data=data)
    if write:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    notes = list(notes)
    if len(errors):
        notes.append(f"written although {profile.display} would reject it ({len(errors)} "
                     "error(s)): forced.")
    return ExportedFile(**base, path=path, findings=findings, notes=notes, data=data)


def export_for_portals(ledger: Ledger, month: str, out_dir: str | Path, *,
                       actor: str | None = None, force: bool = False) -> PortalExports:
    """LEDES files for every invoice of ``month`` whose client bills through a portal, in the
    portal's format, each recorded as a submission. Returns the paths written; invoices the
    portal would reject are left out (``result.refused`` says why) unless ``force``."""
    from billxl.ledes.submissions import record_submission

    data, _ = _portal_clients_only(load_invoices(ledger, month=month, kinds=("invoice",)))
    result = _export(data, Path(out_dir), fmt=None, portal=None, force=force,
                     transliterate=False, encoding=None, single=False,
                     guidelines=clients_guidelines(ledger.clients(), data.firm))
    recorded = [record_submission(ledger, f.invoice, f.path, portal=f.portal, fmt=f.format,
                                  actor=actor) for f in result.written]
    return PortalExports([f.path for f in result.written], result.refused, recorded)

