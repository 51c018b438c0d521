"""``billxl firm``, ``client``, ``matter`` and ``timekeeper``: the firm's settings and its master
data one record at a time (files of them go through ``billxl import clients|matters|…``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from billxl.cli.output import OutputFormat, console, emit, handle_errors, open_ledger, parse_day

__all__ = ["firm_app", "client_app", "matter_app", "timekeeper_app"]

firm_app = typer.Typer(help="The firm's settings: name, ids, currency, the folders of its guideline files, templates and notebooks.",
                       no_args_is_help=True)
client_app = typer.Typer(help="Clients, one at a time: add, edit, close, list.", no_args_is_help=True)
matter_app = typer.Typer(help="Matters, one at a time: add, edit, close, list.", no_args_is_help=True)
timekeeper_app = typer.Typer(help="Timekeepers, one at a time: add, edit, close, list.",
                             no_args_is_help=True)

Text = Annotated[str | None, typer.Option()]


def _save(kind: str, record: dict[str, Any], *, edit: bool) -> None:
    from billxl import save_master_record

    with handle_errors():
        result = save_master_record(open_ledger(), kind, record, edit=edit)
    console.print(result.summary())


def _close(kind: str, ident: str, on: str | None) -> None:
    from billxl import close_master_record

    day = parse_day(on) or date.today()
    with handle_errors():
        result = close_master_record(open_ledger(), kind, ident, day)
    console.print(f"Closed {kind[:-1]} {ident} on {day.isoformat()}. {result.summary()}")


def _list(kind: str, columns: list[str], fmt: OutputFormat) -> None:
    from billxl import Reference

    with handle_errors():
        frame = getattr(Reference.from_ledger(open_ledger()), kind).copy()
    for column in frame.columns:
        if str(frame[column].dtype).startswith("datetime64"):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d").fillna("")
    emit(frame, fmt, [c for c in columns if c in frame.columns], title=kind.capitalize())


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


# --------------------------------------------------------------------------- firm
@firm_app.command("show")
def firm_show() -> None:
    """The firm's settings."""
    from billxl import firm_settings

    with handle_errors():
        settings = firm_settings(open_ledger())
    for name, value in settings.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        console.print(f"{name:>18}: {'' if value is None else shown}")


@firm_app.command("edit")
def firm_edit(
    name: Text = None,
    law_firm_id: Annotated[str | None, typer.Option(help="The firm's tax id (LEDES LAW_FIRM_ID).")] = None,
    guidelines_dir: Annotated[Path | None, typer.Option(help="Folder of the clients' guideline files (<guideline_set>.yaml).")] = None,
    templates_dir: Annotated[str | None, typer.Option(help="Folder of the firm's own document templates, used over billxl's file by file unless --templates or BILLXL_TEMPLATES names another ('billxl templates copy FOLDER' makes one; '' clears it).")] = None,
    notebooks_dir: Annotated[str | None, typer.Option(help="Folder of the firm's own month-end notebooks, used over billxl's file by file unless --notebooks or BILLXL_NOTEBOOKS names another ('billxl notebooks copy FOLDER' makes one; '' clears it).")] = None,
    rounding: Annotated[str | None, typer.Option(help="half_up, half_even, half_down, down or up.")] = None,
    weekend_rule: Annotated[str | None, typer.Option(help="How a scheduled invoice dated on a weekend moves: modified_following (the next working day, or the one before at a month's end; the default), following, preceding or none.")] = None,
    holidays: Annotated[str | None, typer.Option(help="The public holidays a scheduled invoice's date moves off, as weekends: a calendar such as GB-ENG, US-NY or US; 'none' for none; '' for the firm's country's (and its region's, where that is a subdivision).")] = None,
    closure_dates: Annotated[str | None, typer.Option(help="Days the firm is closed besides, YYYY-MM-DD separated by commas (replaces the list; '' clears it).")] = None,
) -> None:
    """Change the firm's settings (audited)."""
    from billxl import set_firm_settings

    values = {k: v for k, v in {"name": name, "law_firm_id": law_firm_id, "rounding": rounding,
                                "guidelines_dir": guidelines_dir,
                                "templates_dir": templates_dir, "notebooks_dir": notebooks_dir,
                                "weekend_rule": weekend_rule, "holidays": holidays,
                                "closure_dates": None if closure_dates is None else [
                                    d for d in closure_dates.split(",") if d.strip()],
                                }.items() if v is not None}
    with handle_errors():
        settings = set_firm_settings(open_ledger(), **values)
    folders = [f"{what} in {settings[key]}" for key, what in (
        ("guidelines_dir", "guideline files"), ("templates_dir", "the firm's templates"),
        ("notebooks_dir", "the firm's notebooks")) if settings.get(key)]
    console.print("Firm settings saved" + "".join(f"; {f}" for f in folders) + ".",
                  soft_wrap=True)


# --------------------------------------------------------------------------- clients
def _client(client_id, name, currency, address, payment_terms_days, tax_jurisdiction, portal,
            guideline_set) -> dict:
    return {"client_id": client_id, "name": name, "currency": currency, "address": address,
            "payment_terms_days": payment_terms_days, "tax_jurisdiction": tax_jurisdiction,
            "portal": portal, "guideline_set": guideline_set}


@client_app.command("add")
def client_add(
    client_id: Annotated[str, typer.Argument(help="The firm's id for the client, e.g. C0101.")],
    name: Annotated[str, typer.Option(help="The client's name, as on invoices.")],
    currency: Annotated[str, typer.Option(help="Billing currency (ISO 4217).")] = "USD",
    address: Text = None,
    payment_terms_days: Annotated[int | None, typer.Option(help="Days to pay (default 30).")] = None,
    tax_jurisdiction: Text = None,
    portal: Annotated[str | None, typer.Option(help="E-billing portal profile (legaltracker, tymetrix, counsellink, generic).")] = None,
    guideline_set: Annotated[str | None, typer.Option(help="The client's guideline file, without .yaml.")] = None,
) -> None:
    """Add a client."""
    _save("clients", _client(client_id, name, currency, address, payment_terms_days,
                             tax_jurisdiction, portal, guideline_set), edit=False)


@client_app.command("edit")
def client_edit(
    client_id: Annotated[str, typer.Argument()],
    name: Text = None, currency: Text = None, address: Text = None,
    payment_terms_days: Annotated[int | None, typer.Option()] = None,
    tax_jurisdiction: Text = None, portal: Text = None, guideline_set: Text = None,
) -> None:
    """Change a client's details (only those given; an empty text clears an optional one)."""
    _save("clients", _client(client_id, name, currency, address, payment_terms_days,
                             tax_jurisdiction, portal, guideline_set), edit=True)


@client_app.command("close")
def client_close(client_id: Annotated[str, typer.Argument()],
                 on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None) -> None:
    """Close a client and every open matter of theirs."""
    _close("clients", client_id, on)


@client_app.command("list")
def client_list(format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table) -> None:
    _list("clients", ["client_id", "name", "currency", "payment_terms_days", "ebilling_portal",
                      "guideline_set", "closed_on"], format)


# --------------------------------------------------------------------------- matters
def _matter(matter_id, client_id, name, opened_on, billing_partner_id, arrangement,
            client_matter_ref, utbms_required) -> dict:
    return {"matter_id": matter_id, "client_id": client_id, "name": name,
            "opened_on": opened_on, "billing_partner_id": billing_partner_id,
            "arrangement": arrangement, "client_matter_ref": client_matter_ref,
            "utbms_required": _yes_no(utbms_required)}


@matter_app.command("add")
def matter_add(
    matter_id: Annotated[str, typer.Argument(help="The matter number, e.g. C0101-0001.")],
    client_id: Annotated[str, typer.Option(help="The client the matter is for.")],
    name: Annotated[str, typer.Option(help="The matter's name.")],
    billing_partner_id: Annotated[str, typer.Option(help="The billing partner's timekeeper id.")],
    opened_on: Annotated[str, typer.Option(help="YYYY-MM-DD.")] = date.today().isoformat(),
    arrangement: Annotated[str | None, typer.Option(help="hourly, fixed, capped, retainer, milestone or contingency.")] = None,
    client_matter_ref: Text = None,
    utbms_required: Annotated[bool | None, typer.Option("--utbms-required/--no-utbms")] = None,
) -> None:
    """Open a matter."""
    _save("matters", _matter(matter_id, client_id, name, opened_on, billing_partner_id,
                             arrangement, client_matter_ref, utbms_required), edit=False)


@matter_app.command("edit")
def matter_edit(
    matter_id: Annotated[str, typer.Argument()],
    name: Text = None, billing_partner_id: Text = None, opened_on: Text = None,
    arrangement: Text = None, client_matter_ref: Text = None,
    utbms_required: Annotated[bool | None, typer.Option("--utbms-required/--no-utbms")] = None,
) -> None:
    """Change a matter's details (only those given)."""
    _save("matters", _matter(matter_id, None, name, opened_on, billing_partner_id, arrangement,
                             client_matter_ref, utbms_required), edit=True)


@matter_app.command("close")
def matter_close(matter_id: Annotated[str, typer.Argument()],
                 on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None) -> None:
    """Close a matter (refused if time is recorded after that day)."""
    _close("matters", matter_id, on)


@matter_app.command("list")
def matter_list(format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table) -> None:
    _list("matters", ["matter_id", "client_id", "name", "opened_on", "closed_on",
                      "billing_partner_id", "fee_arrangement", "utbms_required"], format)


# --------------------------------------------------------------------------- timekeepers
def _timekeeper(timekeeper_id, first_name, last_name, classification, office_id, user_name,
                email, active_from) -> dict:
    return {"timekeeper_id": timekeeper_id, "first_name": first_name, "last_name": last_name,
            "classification": classification, "office_id": office_id, "user_name": user_name,
            "email": email, "active_from": active_from}


@timekeeper_app.command("add")
def timekeeper_add(
    timekeeper_id: Annotated[str, typer.Argument(help="The firm's id, e.g. TK041.")],
    first_name: Annotated[str, typer.Option()],
    last_name: Annotated[str, typer.Option()],
    classification: Annotated[str, typer.Option(help="PARTNR, OFCOUN, ASSOC, PARLGL, LGLAST or OTHER.")],
    active_from: Annotated[str, typer.Option(help="YYYY-MM-DD.")] = date.today().isoformat(),
    office_id: Text = None, user_name: Text = None, email: Text = None,
) -> None:
    """Add a timekeeper."""
    _save("timekeepers", _timekeeper(timekeeper_id, first_name, last_name, classification,
                                     office_id, user_name, email, active_from), edit=False)


@timekeeper_app.command("edit")
def timekeeper_edit(
    timekeeper_id: Annotated[str, typer.Argument()],
    first_name: Text = None, last_name: Text = None, classification: Text = None,
    office_id: Text = None, user_name: Text = None, email: Text = None, active_from: Text = None,
) -> None:
    """Change a timekeeper's details (only those given)."""
    _save("timekeepers", _timekeeper(timekeeper_id, first_name, last_name, classification,
                                     office_id, user_name, email, active_from), edit=True)


@timekeeper_app.command("close")
def timekeeper_close(timekeeper_id: Annotated[str, typer.Argument()],
                     on: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default today).")] = None) -> None:
    """A timekeeper leaves (refused if time is recorded after that day)."""
    _close("timekeepers", timekeeper_id, on)


@timekeeper_app.command("list")
def timekeeper_list(format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table) -> None:
    _list("timekeepers", ["timekeeper_id", "first_name", "last_name", "classification",
                          "office_id", "user_name", "email", "active_from", "active_to"], format)
