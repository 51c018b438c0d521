"""The firm's own master data and settings, from files and one record at a time.

* :func:`import_master` reads a file of timekeepers, clients, matters or rates (CSV, XLSX, ODS;
  canonical columns or a profile, see :mod:`billxl.masterdata`), checks every row and writes it
  all or nothing: new records added, changed ones updated, each in the audit log; a record the
  file leaves out is kept. Importing the same file again changes nothing.
* :func:`save_record` adds or edits one record, with the same checks; :func:`close_record`
  closes a timekeeper (``active_to``), a matter (``closed_on``) or a client (its matters too).
* :func:`firm_settings` / :func:`set_firm_settings`: the ledger's settings, such as the folder
  of the clients' guideline files (``guidelines_dir``) and the firm's own templates and
  notebooks over billxl's (``templates_dir``, ``notebooks_dir``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from billxl import intake, shipped
from billxl import masterdata as md
from billxl.billing import closures
from billxl.billing.schedule_builder import WEEKEND_RULES
from billxl.errors import InputError, Problem
from billxl.ledes.portals import shipped_portals
from billxl.store import masterdata as store

__all__ = ["import_master", "save_record", "close_record", "firm_settings", "set_firm_settings",
           "MasterResult"]


class MasterResult:
    """What an import or a single change did."""

    def __init__(self, kind: str, plan: md.Plan, file: str, dry_run: bool):
        self.kind, self.plan, self.file, self.dry_run = kind, plan, file, dry_run

    @property
    def new(self) -> int:
        return len(self.plan.new)

    @property
    def changed(self) -> int:
        return len(self.plan.changed)

    def summary(self) -> str:
        text = self.plan.summary(self.kind)
        return f"{text} (dry run: nothing was written)" if self.dry_run else text


def _known(ledger) -> md.Known:
    with ledger.engine.connect() as conn:
        known = store.known(conn, frozenset(shipped_portals()))
        folder = store.firm_settings(conn).get("guidelines_dir")
    if folder and Path(folder).is_dir():
        sets = frozenset(p.stem for p in Path(folder).glob("*.y*ml"))
        known = dataclasses.replace(known, guidelines_dir=folder, guideline_sets=sets)
    return known


def import_master(ledger, kind: md.MasterKind, path: str | Path, *,
                  profile: str | Path | None = None, dry_run: bool = False,
                  actor: str | None = None) -> MasterResult:
    """Import a master-data file; refused whole (InputError listing every problem) if any row
    is wrong."""
    if kind not in md.KINDS:
        raise InputError(f"billxl imports {', '.join(md.KINDS)} as master data, not {kind!r}.")
    prof = md.load_master_profile(profile, kind)
    raw = intake.read_table(path, sheet=prof.sheet, header_row=prof.header_row)
    checked = md.check_master(raw, kind, _known(ledger), prof)
    plan = store.apply_master(ledger, checked, file=raw.file, dry_run=dry_run, actor=actor)
    return MasterResult(kind, plan, raw.file, dry_run)


def _record_table(kind: str, record: Mapping[str, Any], shown: str) -> intake.RawTable:
    """One record as a one-row table, so that it is checked exactly as a file's row is."""
    names = list(record)
    return intake.RawTable(file=shown, sheet=None, columns=tuple(names),
                           cells=tuple(np.array([record[n]], dtype=object) for n in names),
                           rows=np.array([1], dtype=np.int64), header_row=0, sha256="",
                           from_text=False)


def save_record(ledger, kind: md.MasterKind, record: Mapping[str, Any], *, edit: bool = False,
                actor: str | None = None) -> MasterResult:
    """Add one record (``edit=False``: refused if it exists) or change the given fields of an
    existing one (``edit=True``: refused if it does not)."""
    record = {k: v for k, v in record.items() if v is not None}
    key_field = md.FIELDS[kind][0].name
    shown = f"{kind[:-1]} {record.get(key_field, '')}".strip()
    if kind != "rates":
        ident = str(record.get(key_field, "")).strip()
        with ledger.engine.connect() as conn:
            current = store.existing_rows(conn, kind).get((ident,))
        if edit and current is None:
            raise InputError(f"There is no {kind[:-1]} {ident!r} to edit.")
        if not edit and current is not None:
            raise InputError(f"{kind[:-1].capitalize()} {ident} already exists; use edit to "
                             "change it.")
        if edit:  # the other required fields as the ledger holds them
            for f in md.FIELDS[kind]:
                if f.required and f.name not in record:
                    value = current.get(f.to)
                    record[f.name] = value if value is not None else ""
    raw = _record_table(kind, record, shown)
    checked = md.check_master(raw, kind, _known(ledger))
    checked.problems = [Problem(file=shown, row=None, column=p.column, value=p.value,
                                reason=p.reason) for p in checked.problems]
    plan = store.apply_master(ledger, checked, file=shown, actor=actor)
    plan.kept = 0  # one record: the others are not "left out"
    return MasterResult(kind, plan, shown, False)


_CLOSES = {"timekeepers": "active_to", "matters": "closed_on", "clients": "closed_on"}


def close_record(ledger, kind: md.MasterKind, ident: str, on: date, *,
                 actor: str | None = None) -> MasterResult:
    """Close a timekeeper, a matter or a client (and the client's open matters) on a day."""
    if kind not in _CLOSES:
        raise InputError(f"Only timekeepers, matters and clients are closed, not {kind}.")
    return save_record(ledger, kind, {md.FIELDS[kind][0].name: ident,
                                      _CLOSES[kind]: on}, edit=True, actor=actor)


def firm_settings(ledger) -> dict[str, Any]:
    with ledger.engine.connect() as conn:
        return store.firm_settings(conn)


#: the settings that name a folder, and what the folder holds
_FOLDERS = {"guidelines_dir": "the guideline files",
            **{setting: f"the firm's own {kind}"
               for kind, (_, _, setting) in shipped.FIRM_FOLDERS.items()}}


def _folder_setting(setting: str, folder: Any) -> str | None:
    """A folder setting as the ledger keeps it: an absolute path (the same ledger finds the
    same files from any folder), or None for an empty text (the setting cleared)."""
    if not str(folder).strip():
        return None
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise InputError(f"There is no folder {folder} for {_FOLDERS[setting]} ({setting}).")
    kind = next((k for k, (_, _, s) in shipped.FIRM_FOLDERS.items() if s == setting), None)
    used = [name for name in shipped.default_names(kind) if not name.startswith("README")] \
        if kind is not None else []
    if used and not any((path / name).is_file() for name in used):
        raise InputError(f"The folder {folder} holds none of billxl's {kind} files, so nothing "
                         f"in it would be used ({setting}). 'billxl {kind} copy {folder}' puts "
                         "billxl's own there to edit.")
    return str(path)


def set_firm_settings(ledger, *, actor: str | None = None, **values: Any) -> dict[str, Any]:
    """Change the firm's settings; ``guidelines_dir``, ``templates_dir`` and ``notebooks_dir``
    must be folders (kept as absolute paths; an empty text clears one), the last two holding
    some of billxl's own files of their kind (:mod:`billxl.shipped`); ``weekend_rule`` one
    of :data:`billxl.billing.schedule_builder.WEEKEND_RULES`; ``holidays`` and
    ``closure_dates`` as :mod:`billxl.billing.closures` says (an empty text clears one)."""
    rule = values.get("weekend_rule")
    if rule is not None and rule not in WEEKEND_RULES:
        raise InputError(f"{rule!r} is not a weekend rule: use {', '.join(WEEKEND_RULES)} (how a "
                         "scheduled invoice dated on a Saturday or Sunday moves).")
    if "holidays" in values:
        values["holidays"] = closures.calendar_setting(values["holidays"])
    if "closure_dates" in values:
        values["closure_dates"] = closures.closure_dates_setting(values["closure_dates"] or ()
                                                                 ) or None
    for setting in _FOLDERS:
        if values.get(setting) is not None:
            values[setting] = _folder_setting(setting, values[setting])
    return store.set_firm_settings(ledger, values, actor=actor)
