"""``billxl schedule build | show | due | cycle``: invoice schedules from the agreed terms, what
is due to bill on a day, and each client's or matter's billing cycle.

The commands are added to the ``schedule`` app of :mod:`billxl.cli.commands` (where ``add``,
``list``, ``edit`` and ``trigger`` are) by :func:`register`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from billxl import InputError
from billxl.cli.output import OutputFormat, console, emit, handle_errors, open_ledger, parse_day

__all__ = ["register", "parse_milestone"]

_PLAN = ["schedule_id", "kind", "due_on", "trigger", "description", "amount", "tax", "currency",
         "status", "invoice_number"]
_DUE = ["what", "matter_id", "client_id", "billing_cycle", "falls_on", "description", "amount",
        "currency", "entries", "schedule_id"]


def parse_milestone(text: str):
    """``"on signing=30%"`` (a share of the fee) or ``"on signing=25000.00"`` (an amount)."""
    from billxl import Milestone

    trigger, sep, value = text.rpartition("=")
    if not sep or not trigger.strip() or not value.strip():
        raise InputError(f"--milestone {text!r}: write it as TRIGGER=PERCENT% or TRIGGER=AMOUNT, "
                         "e.g. 'on signing=30%'.")
    value = value.strip()
    if value.endswith("%"):
        return Milestone(trigger.strip(), percent=value[:-1].strip())
    return Milestone(trigger.strip(), amount=value)


def _shown(frame, fmt: OutputFormat):
    """Amounts and tax in the currency's units: with thousands separators in a table, plain
    decimals ("33333.34") in JSON and CSV."""
    from billxl import format_amount, from_minor

    def text(minor: int, currency: str) -> str:
        if fmt is OutputFormat.table:
            return f"{from_minor(minor, currency):,}"
        return format_amount(minor, currency)

    frame = frame.copy()
    for minor, shown in (("amount_minor", "amount"), ("tax_minor", "tax")):
        if minor in frame:
            frame[shown] = [text(int(v), c)
                            for v, c in zip(frame[minor], frame["currency"], strict=True)]
    return frame


def register(schedule_app: typer.Typer) -> None:
    """Add build, show, due and cycle to the ``schedule`` app."""

    @schedule_app.command("build")
    def schedule_build(
        matter: Annotated[str, typer.Argument(help="The matter.")],
        kind: Annotated[str, typer.Option(help="installment (a total split), retainer (an amount each period) or milestone.")] = "installment",
        count: Annotated[int | None, typer.Option(help="How many installments or retainer periods.")] = None,
        total: Annotated[str | None, typer.Option(help="The total to split (installments) or the fee the milestones' percentages are of; blank on a fixed-fee matter: what is left of its fee.")] = None,
        amount: Annotated[str | None, typer.Option(help="A retainer's amount each period.")] = None,
        start: Annotated[str | None, typer.Option(help="The first item's date, YYYY-MM-DD.")] = None,
        frequency: Annotated[str, typer.Option(help="monthly, quarterly or yearly.")] = "monthly",
        date: Annotated[list[str] | None, typer.Option("--date", help="A given date (repeat it; instead of --start and --frequency).")] = None,
        milestone: Annotated[list[str] | None, typer.Option("--milestone", help="TRIGGER=PERCENT% or TRIGGER=AMOUNT, e.g. 'on signing=30%' (repeat it).")] = None,
        remainder: Annotated[str, typer.Option(help="Which item takes the cents rounding leaves: last or first.")] = "last",
        description: Annotated[str | None, typer.Option(help="The items' label (default Installment, Retainer).")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing.")] = False,
        format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    ) -> None:
        """Build a matter's schedule from the agreed terms, in place of the items not yet invoiced.

        Exact to the cent by the client's rounding rule (what rounding leaves goes on the last
        item); dates on a weekend, a public holiday of the firm (its country's and region's, or
        its holidays setting) or one of its closure dates move by the firm's weekend rule; on a
        fixed-fee matter the items, with those already invoiced, must add up to the fee.
        """
        from billxl import ScheduleTerms, plan_schedule, preview_schedule

        with handle_errors():
            terms = ScheduleTerms(
                kind=kind, total=total, count=count, start=parse_day(start), frequency=frequency,
                dates=tuple(parse_day(d) for d in date or ()), amount=amount,
                milestones=tuple(parse_milestone(m) for m in milestone or ()),
                remainder=remainder, description=description)
            ledger = open_ledger()
            frame = (preview_schedule if dry_run else plan_schedule)(ledger, matter, terms)
        shown = _shown(frame, format)
        emit(shown, format, _PLAN, title=f"Invoice schedule of {matter}"
             + (" (dry run: nothing was written)" if dry_run else ""))
        if format is OutputFormat.table:
            planned = frame[frame["status"] != "invoiced"]
            console.print(f"{len(planned)} item(s) planned for {matter}"
                          + (" (not written)." if dry_run else ".")
                          + " A date on a weekend, a public holiday or a closure date of the firm"
                            " moves by its weekend rule ('billxl firm show').")

    @schedule_app.command("show")
    def schedule_show(
        matter: Annotated[str, typer.Argument(help="The matter.")],
        format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    ) -> None:
        """A matter's schedule: each item, the tax it will carry, planned or invoiced."""
        from billxl import schedule_of

        with handle_errors():
            frame = schedule_of(open_ledger(), matter)
        emit(_shown(frame, format), format, _PLAN, title=f"Invoice schedule of {matter}")

    @schedule_app.command("due")
    def schedule_due(
        on: Annotated[str, typer.Option(help="The day, YYYY-MM-DD.")],
        format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    ) -> None:
        """What is due to bill on a day: matters on their cycle, and scheduled invoices.

        A matter is due when its billing cycle has fallen: its WIP worked through the cycle's
        day, when it comes to its minimum bill; a scheduled invoice when its date has come or
        its milestone was triggered.
        """
        from billxl import bills_due

        with handle_errors():
            day = parse_day(on)
            frame = bills_due(open_ledger(), day)
        emit(_shown(frame, format), format, _DUE, title=f"Due to bill on {day}")
        if format is OutputFormat.table:
            cycles = frame[frame["what"] == "cycle"]
            console.print(f"{len(cycles)} matter(s) due on their cycle, "
                          f"{len(frame) - len(cycles)} scheduled invoice(s).")

    @schedule_app.command("cycle")
    def schedule_cycle(
        client_or_matter: Annotated[str, typer.Argument(help="A matter or a client (its matters without a cycle of their own follow it).")],
        cycle: Annotated[str | None, typer.Option(help="monthly, quarterly, milestones, completion or on_request; leave out to go back to the client's (a matter) or monthly (a client).")] = None,
        day: Annotated[int | None, typer.Option(help="The day of the month the cycle falls (blank: the month's last day).")] = None,
    ) -> None:
        """Set the billing cycle of a client or a matter (audited)."""
        from billxl import set_billing_cycle

        with handle_errors():
            what = set_billing_cycle(open_ledger(), client_or_matter, cycle, day)
        when = "" if cycle is None else (f" on day {day}" if day else " on the month's last day")
        console.print(f"The {what} {client_or_matter} is billed "
                      f"{(cycle or 'by default').replace('_', ' ')}{when}.")
