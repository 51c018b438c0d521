"""Master data in the ledger: what it already holds, and new and changed records written.

All or nothing, in one transaction, every insert and update in the audit log with the values
before and after; a record missing from a file is never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from billxl import masterdata as md
from billxl.errors import InputError, LedgerError, Problem
from billxl.store import tables as t
from billxl.store.ledger import jsonable_row

__all__ = ["known", "existing_rows", "apply_master", "firm_settings", "set_firm_settings"]

_TABLE = {"timekeepers": t.timekeepers, "clients": t.clients, "matters": t.matters,
          "rates": t.rates}


def known(conn: sa.Connection, portals: frozenset[str] = frozenset()) -> md.Known:
    """The ids master data may refer to, as the ledger holds them now."""
    tk = conn.execute(sa.select(t.timekeepers.c.timekeeper_id, t.timekeepers.c.classification,
                                t.timekeepers.c.user_name, t.timekeepers.c.email)).all()
    clients = conn.execute(sa.select(t.clients.c.client_id, t.clients.c.currency)).all()
    matters = conn.execute(sa.select(t.matters.c.matter_id, t.matters.c.client_id)).all()
    offices = conn.execute(sa.select(t.offices.c.office_id)).scalars().all()
    return md.Known(
        timekeepers={r.timekeeper_id: r.classification for r in tk},
        clients={r.client_id: r.currency for r in clients},
        matters={r.matter_id: r.client_id for r in matters},
        offices=frozenset(offices), portals=portals,
        user_names={r.user_name: r.timekeeper_id for r in tk if r.user_name},
        emails={r.email.casefold(): r.timekeeper_id for r in tk if r.email})


def existing_rows(conn: sa.Connection, kind: str) -> dict[tuple, dict[str, Any]]:
    """The ledger's rows of a kind, by natural key."""
    table = _TABLE[kind]
    out = {}
    for row in conn.execute(sa.select(table)).mappings():
        record = dict(row)
        out[md.key_of(kind, record)] = record
    return out


def _office_for(conn: sa.Connection, ledger, row: dict, actor: str | None) -> None:
    """A timekeeper's office: the one named (added if new, named after its id, in the firm's
    currency), or the firm's only office, or a first office called MAIN."""
    wanted = row.get("office_id")
    offices = conn.execute(sa.select(t.offices.c.office_id)).scalars().all()
    if wanted is None:
        if len(offices) > 1:
            raise InputError(f"Timekeeper {row['timekeeper_id']}: the firm has several offices "
                             f"({', '.join(offices)}); give the office_id.")
        wanted = offices[0] if offices else "MAIN"
        row["office_id"] = wanted
    if wanted not in offices:
        currency = conn.execute(sa.select(t.firm.c.currency)).scalar_one()
        office = {"office_id": wanted, "name": wanted, "currency": currency}
        conn.execute(t.offices.insert(), office)
        ledger.audit(conn, "insert", "offices", wanted, None, office, actor=actor)


def apply_master(ledger, checked: md.Checked, *, file: str, dry_run: bool = False,
                 actor: str | None = None) -> md.Plan:
    """Write a checked file's records: new ones inserted, changed ones updated, each audited.
    Refused whole (nothing written) when the file had any problem."""
    if checked.problems:
        raise InputError(f"{file}: {len(checked.problems)} problem(s).", checked.problems)
    kind = checked.kind
    table = _TABLE[kind]
    with ledger.transaction() as conn:
        plan = md.plan_changes(kind, checked.rows, checked.present, existing_rows(conn, kind))
        if dry_run:
            conn.rollback()
            return plan
        _check_closing(conn, kind, plan, file)
        for change in plan.new:
            row = dict(change.after)
            if kind == "timekeepers":
                _office_for(conn, ledger, row, actor)
            result = conn.execute(table.insert(), row)
            if kind == "rates":
                row["rate_id"] = result.inserted_primary_key[0]
            ledger.audit(conn, "insert", table.name, _shown_key(kind, row), None,
                         jsonable_row(row), actor=actor)
        for change in plan.changed:
            if kind == "timekeepers" and change.after.get("office_id"):
                _office_for(conn, ledger, dict(change.after, timekeeper_id=change.key[0]), actor)
            where = _where(table, kind, change.key)
            conn.execute(table.update().where(where).values(**change.after))
            ledger.audit(conn, "update", table.name, _shown_key(kind, dict(zip(
                md.KEYS[kind], change.key, strict=True))), jsonable_row(change.before),
                jsonable_row(change.after), actor=actor)
        if kind == "clients":
            _close_matters_of_closed_clients(conn, ledger, plan, actor)
    return plan


def _where(table: sa.Table, kind: str, key: tuple):
    parts = []
    for name, value in zip(md.KEYS[kind], key, strict=True):
        column = table.c[name]
        parts.append(column.is_(None) if value is None else column == value)
    return sa.and_(*parts)


def _shown_key(kind: str, row: Mapping[str, Any]) -> str:
    if kind != "rates":
        return str(row[md.KEYS[kind][0]])
    who = row.get("timekeeper_id") or row.get("classification")
    scope = row.get("matter_id") or row.get("client_id") or "firm"
    return f"{row.get('kind')}:{who}:{scope}:{row.get('currency')}:{row.get('effective_from')}"


def _check_closing(conn: sa.Connection, kind: str, plan: md.Plan, file: str) -> None:
    """A timekeeper leaving, or a matter closing, before time already recorded for them is
    refused: the entries would fall outside the dates."""
    column = {"timekeepers": ("active_to", t.time_entries.c.timekeeper_id),
              "matters": ("closed_on", t.time_entries.c.matter_id)}.get(kind)
    if column is None:
        return
    name, owner = column
    problems = []
    for change in plan.changed:
        ends = change.after.get(name)
        if ends is None:
            continue
        later = conn.execute(sa.select(sa.func.count(), sa.func.max(t.time_entries.c.work_date))
                             .where(owner == change.key[0], t.time_entries.c.work_date > ends)
                             ).one()
        if later[0]:
            problems.append(Problem(file=file, row=None, column=name, value=str(ends),
                                    reason=f"{kind[:-1]} {change.key[0]} has {later[0]} time "
                                           f"entr{'y' if later[0] == 1 else 'ies'} after this "
                                           f"day (the last on {later[1]})"))
    if problems:
        raise InputError(f"{len(problems)} closing date(s) fall before time already recorded; "
                         "nothing was changed.", problems)


def _close_matters_of_closed_clients(conn, ledger, plan: md.Plan, actor) -> None:
    for change in [*plan.new, *plan.changed]:
        closed = change.after.get("closed_on")
        if closed is None:
            continue
        client = change.key[0]
        open_matters = conn.execute(sa.select(t.matters.c.matter_id).where(
            t.matters.c.client_id == client, t.matters.c.closed_on.is_(None))).scalars().all()
        for matter in open_matters:
            conn.execute(t.matters.update().where(t.matters.c.matter_id == matter)
                         .values(closed_on=closed))
            ledger.audit(conn, "update", "matters", matter, {"closed_on": None},
                         {"closed_on": closed.isoformat(), "why": f"client {client} closed"},
                         actor=actor)


# ----------------------------------------------------------------------------- firm settings
_SETTINGS = ("name", "law_firm_id", "currency", "rounding", "invoice_numbering", "guidelines_dir",
             "templates_dir", "notebooks_dir", "address_1", "address_2", "city", "region",
             "postcode", "country", "weekend_rule", "holidays", "closure_dates")


def firm_settings(conn: sa.Connection) -> dict[str, Any]:
    row = conn.execute(sa.select(*[t.firm.c[c] for c in _SETTINGS])).mappings().first()
    if row is None:
        raise LedgerError("The ledger has no firm; run 'billxl init'.")
    return dict(row)


def set_firm_settings(ledger, values: Mapping[str, Any], *, actor: str | None = None) -> dict:
    """Change the firm's settings (audited with the values before and after)."""
    unknown = set(values) - set(_SETTINGS)
    if unknown:
        raise InputError(f"The firm has no setting {', '.join(sorted(unknown))}.")
    with ledger.transaction() as conn:
        before = firm_settings(conn)
        changed = {k: v for k, v in values.items() if before.get(k) != v}
        if changed:
            conn.execute(t.firm.update().where(t.firm.c.firm_id == 1).values(**changed))
            ledger.audit(conn, "update", "firm", "1", {k: before[k] for k in changed},
                         jsonable_row(changed), actor=actor)
        return {**before, **changed}


def frame_of(conn: sa.Connection, kind: str) -> pd.DataFrame:
    """A kind's rows as a frame (for listing)."""
    return pd.DataFrame(list(existing_rows(conn, kind).values()))
