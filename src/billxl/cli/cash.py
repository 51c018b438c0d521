"""`billxl payments`, `billxl ar` and `billxl trust`: thin commands over payments, ar and trust.

Mounted on the main app (:mod:`billxl.cli.commands`) with one line each::

    app.add_typer(payments_app, name="payments")
    app.add_typer(ar_app, name="ar")
    app.add_typer(trust_app, name="trust")

The shared helpers (errors, output, progress, the --ledger option's state) are
:mod:`billxl.cli.output`; the engine is reached through the public API (:mod:`billxl`).
"""

from __future__ import annotations

import enum
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from billxl.cli.output import (
    OutputFormat,
    console,
    emit,
    err_console,
    handle_errors,
    open_ledger,
    parse_day,
    show_progress,
    write_problems,
)

payments_app = typer.Typer(help="Receipts: post a bank or payments file, reverse, refund, "
                                "apply by hand, list unmatched cash.", no_args_is_help=True)
ar_app = typer.Typer(help="Accounts receivable: aging, DSO and lockup, the collections worklist "
                          "and notes, statements.", no_args_is_help=True)
trust_app = typer.Typer(help="Trust money per client and matter: deposits, applications to "
                             "invoices, refunds, balances and evergreen retainers.",
                        no_args_is_help=True)


class By(enum.StrEnum):
    client = "client"
    partner = "partner"
    matter = "matter"
    office = "office"


class Basis(enum.StrEnum):
    invoice = "invoice"
    due = "due"


class Policy(enum.StrEnum):
    oldest = "oldest"
    pro_rata = "pro_rata"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
DateOption = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")]


def _amounts(frame, columns: list[str], currency: str = "currency"):
    """Minor-unit columns ``x_minor`` shown as decimal strings ``x`` in each row's currency."""
    import pandas as pd

    from billxl import format_amount

    view = frame.copy()
    for name in columns:
        view[name] = [None if pd.isna(v) else format_amount(int(v), c)
                      for v, c in zip(view[f"{name}_minor"], view[currency], strict=True)]
    return view


def _show(frame, fmt: OutputFormat, columns: list[str], title: str) -> None:
    view = frame.copy()
    for col in columns:
        if col in view and str(view[col].dtype).startswith("datetime64"):
            view[col] = view[col].dt.date
    emit(view, fmt, columns, title=title)


def _json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False, default=str) + "\n")


# =================================================================================== payments
PROPOSAL_COLUMNS = ["receipt_id", "received_on", "payer", "client_id", "action", "invoice", "rule",
                    "currency", "amount", "note"]


@payments_app.command("post")
def payments_post(
    file: Annotated[Path, typer.Argument(help="Receipts: CSV, XLSX, XLS or ODS (a bank export, "
                                              "or the billing workbook with --sheet Payments), or "
                                              "a bank file: BAI2, camt.052/053/054, MT940 or OFX "
                                              "(recognised from its content; no profile needed).")],
    profile: Annotated[str, typer.Option(help="Receipt layout: canonical, bank, or a YAML file.")] = "canonical",
    sheet: Annotated[str | None, typer.Option(help="The workbook sheet to read (default: the profile's, else the first).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show every proposed allocation and unmatched receipt; write nothing.")] = False,
    format: FormatOption = OutputFormat.table,
    problems: Annotated[Path | None, typer.Option("--problems", help="Write every problem found in the file to this CSV.")] = None,
) -> None:
    """Post receipts: match each to the invoices it pays and allocate, in one transaction.

    Receipts already in the ledger (same id from the same source) are not posted again. In a
    bank file only credits are receipts (keyed on the bank's reference); debits, returns and
    reversals are reported and never posted; the file's control totals must agree.
    Exit code 1 when some receipts could not be matched (see 'billxl payments unmatched').
    """
    from billxl import InputError, post_receipts

    with handle_errors():
        ledger = open_ledger()
        try:
            with show_progress() as update:
                result = post_receipts(ledger, file, profile, dry_run=dry_run,
                                       sheet=sheet, progress=update)
        except InputError as error:
            if problems is not None and error.problems:
                write_problems(error.problems, problems)
                error.problems_file = problems  # said once, with the problems shown
            raise
    proposals = result.proposals()
    bank = result.bank
    if format is OutputFormat.json:
        summary = result.summary_dict()
        if dry_run:
            summary["proposals"] = json.loads(proposals.to_json(orient="records", date_format="iso"))
        if bank is not None:
            summary["bank"] = bank.summary_dict()
            summary["bank"]["not_posted"] = json.loads(
                bank.not_posted_view().to_json(orient="records", date_format="iso"))
        _json(summary)
    elif format is OutputFormat.csv:
        _show(proposals, format, PROPOSAL_COLUMNS, "")
    else:
        if dry_run:
            _show(proposals, format, PROPOSAL_COLUMNS, f"Proposed for {file.name} (nothing written)")
        else:
            unmatched = proposals[proposals["action"] == "unmatched"]
            if len(unmatched):
                _show(unmatched, format, PROPOSAL_COLUMNS, "Unmatched receipts")
        if bank is not None:
            _bank_report(bank, format, every=dry_run)
        console.print(result.summary())
    raise typer.Exit(1 if result.unmatched else 0)


BANK_COLUMNS = ["line", "kind", "booked_on", "account", "currency", "amount", "code",
                "description", "reference", "text"]


def _bank_report(bank, format: OutputFormat, *, every: bool) -> None:
    """What a bank file held besides receipts: returns and reversals always listed (they may
    need 'billxl payments reverse'), debits too in a dry run; the file's checks and notes."""
    view = bank.not_posted_view()
    if not every:
        view = view[view["kind"].isin(["return", "reversal", "pending"])]
    if len(view):
        _show(view, format, BANK_COLUMNS, "Not posted: " + ("debits, returns, reversals and other "
                                                             "entries" if every else
                                                             "returns, reversals and pending entries"))
    console.print(bank.summary())


@payments_app.command("reverse")
def payments_reverse(
    receipt: Annotated[str, typer.Argument(help="The receipt id.")],
    reason: Annotated[str, typer.Option(help="Why: returned, NSF, recalled ...")],
    date_: DateOption = None,
    source: Annotated[str | None, typer.Option(help="The receipt's source, when ids repeat across sources.")] = None,
) -> None:
    """Reverse a receipt (returned, NSF): every invoice it paid is owed again."""
    from billxl import format_amount, reverse_receipt

    with handle_errors():
        done = reverse_receipt(open_ledger(), receipt, reason=reason, on=parse_day(date_),
                               source=source)
    cur = done["currency"]
    console.print(f"Receipt {receipt} reversed on {done['reversed_on']}: "
                  f"{format_amount(done['allocations_reversed_minor'], cur)} {cur} is owed "
                  f"again on {done['invoices']} invoice(s)"
                  + (f"; write-offs of {format_amount(done['write_offs_reversed_minor'], cur)}"
                     " undone" if done["write_offs_reversed_minor"] else "") + ".")


@payments_app.command("refund")
def payments_refund(
    amount: Annotated[str, typer.Option(help="The amount paid back.")],
    reference: Annotated[str, typer.Option(help="The payment out (cheque or transfer reference).")],
    reason: Annotated[str, typer.Option(help="Why the credit is refunded.")],
    client: Annotated[str | None, typer.Option(help="Refund this client's credit on account (oldest receipts first).")] = None,
    receipt: Annotated[str | None, typer.Option(help="Refund from this receipt's unapplied cash.")] = None,
    source: Annotated[str | None, typer.Option(help="The receipt's source, when ids repeat.")] = None,
    date_: DateOption = None,
) -> None:
    """Pay back unapplied cash: a client's credit on account, or one receipt's."""
    from billxl import format_amount, refund_credit

    with handle_errors():
        done = refund_credit(open_ledger(), amount, reference=reference, reason=reason,
                             client=client, receipt_id=receipt, source=source,
                             on=parse_day(date_))
    cur = done["currency"].iloc[0]
    console.print(f"Refunded {format_amount(int(done['amount_minor'].sum()), cur)} {cur} "
                  f"from receipt(s) {', '.join(done['receipt_id'])}.")


@payments_app.command("unmatched")
def payments_unmatched(
    all_: Annotated[bool, typer.Option("--all", help="Also credits on account (identified cash not applied).")] = False,
    client: Annotated[str | None, typer.Option(help="One client's.")] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Receipts not matched to any client or invoice: cash to identify (never guessed)."""
    from billxl import unapplied_cash

    with handle_errors():
        frame = unapplied_cash(open_ledger(), client=client, unmatched_only=not all_)
    view = _amounts(frame, ["amount", "unapplied"])
    _show(view, format, ["receipt_id", "received_on", "payer", "client_id", "status", "currency",
                         "amount", "unapplied", "reference", "remittance", "unmatched_reason"],
          "Unapplied cash" if all_ else "Unmatched receipts")
    if format is OutputFormat.table:
        err_console.print(f"{len(frame)} receipt(s). Apply one with 'billxl payments apply "
                          "RECEIPT --client C [--invoice N]'.")


@payments_app.command("apply")
def payments_apply(
    receipt: Annotated[str, typer.Argument(help="The receipt id.")],
    invoice: Annotated[list[str] | None, typer.Option("--invoice", help="An invoice it pays (repeat for several; oldest paid first).")] = None,
    client: Annotated[str | None, typer.Option(help="Whose receipt it is (for an unmatched one).")] = None,
    amount: Annotated[str | None, typer.Option(help="Apply this much (default: all that is unapplied).")] = None,
    source: Annotated[str | None, typer.Option(help="The receipt's source, when ids repeat.")] = None,
    date_: DateOption = None,
) -> None:
    """Apply a receipt's unapplied cash by hand (resolves an unmatched receipt)."""
    from billxl import apply_receipt, format_amount

    with handle_errors():
        made = apply_receipt(open_ledger(), receipt, invoice or [], client=client,
                             amount=amount, on=parse_day(date_), source=source)
    if made.empty:
        console.print(f"Receipt {receipt} is now a credit on account of the client.")
        return
    cur = made["currency"].iloc[0]
    console.print(f"Receipt {receipt} applied: " + ", ".join(
        f"{n} {format_amount(int(a), cur)}" for n, a in
        zip(made["number"], made["amount_minor"], strict=True)) + f" {cur}.")


@payments_app.command("write-off")
def payments_write_off(
    invoice: Annotated[str, typer.Argument(help="The invoice number.")],
    reason: Annotated[str, typer.Option(help="Why it will not be collected.")],
    amount: Annotated[str | None, typer.Option(help="Write off this much (default: the whole balance).")] = None,
    date_: DateOption = None,
) -> None:
    """Write off (part of) an invoice's balance."""
    from billxl import format_amount, write_off

    with handle_errors():
        done = write_off(open_ledger(), invoice, amount, reason=reason, on=parse_day(date_))
    cur = done["currency"]
    console.print(f"Wrote off {format_amount(done['amount_minor'], cur)} {cur} of invoice "
                  f"{invoice}; {format_amount(done['balance_minor'], cur)} is still owed.")


@payments_app.command("terms")
def payments_terms(
    client: Annotated[str, typer.Argument(help="The client id.")],
    policy: Annotated[Policy | None, typer.Option(help="Receipts that name no invoice pay the oldest first, or all pro rata.")] = None,
    expenses_first: Annotated[bool | None, typer.Option("--expenses-first/--invoice-by-invoice", help="Pay every open invoice's expenses before any fees, or invoice by invoice.")] = None,
    tolerance: Annotated[str | None, typer.Option(help="A payment short by up to this much settles in full (the rest written off).")] = None,
) -> None:
    """Set how a client's receipts are allocated."""
    from billxl import format_amount, set_cash_terms

    with handle_errors():
        ledger = open_ledger()
        row = set_cash_terms(ledger, client, policy=policy.value if policy else None,
                             expenses_first=expenses_first, tolerance=tolerance)
        currency = ledger.clients().set_index("client_id").loc[client, "currency"]
    console.print(f"Client {client}: {row['allocation_policy'].replace('_', ' ')}, "
                  f"{'expenses first' if row['expenses_first'] else 'invoice by invoice'}, "
                  f"tolerance {format_amount(row['short_pay_tolerance_minor'], currency)} "
                  f"{currency}.")


# =================================================================================== ar
AGING_COLUMNS = {"client": ["client_id", "client"], "matter": ["matter_id", "matter", "client_id"],
                 "partner": ["partner_id", "partner"], "office": ["office_id", "office"]}


@ar_app.command("aging")
def ar_aging(
    as_of: Annotated[str, typer.Option("--as-of", help="The date of the aging, YYYY-MM-DD.")],
    by: Annotated[By, typer.Option(help="Group by client, partner (billing partner), matter or office.")] = By.client,
    basis: Annotated[Basis, typer.Option(help="Age from the due date or the invoice date.")] = Basis.due,
    out: Annotated[Path | None, typer.Option(help="Also write the aging to this .xlsx or .csv file.")] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """AR aging: current, 1-30, 31-60, 61-90, 91-120 and over 120 days, per currency."""
    from billxl import AGING_BUCKET_LABELS, AGING_BUCKETS, aging, write_aging

    with handle_errors():
        day = parse_day(as_of)
        table = aging(open_ledger(), day, by=by.value, basis=basis.value)
        title = f"AR aging as of {day} by {by.value} ({basis.value} date)"
        if out is not None:
            write_aging(table, out, title=title)
    money_cols = [*AGING_BUCKETS, "total", "credits", "net"]
    view = _amounts(table.rename(columns={c: f"{c}_minor" for c in money_cols}), money_cols)
    labels = AGING_BUCKET_LABELS if format is OutputFormat.table else {}  # JSON and CSV keep the ids
    _show(view.rename(columns=labels), format,
          [*AGING_COLUMNS[by.value], "currency", *[labels.get(c, c) for c in money_cols]], title)
    if out is not None and format is OutputFormat.table:
        console.print(f"Written to {out}.")


@ar_app.command("dso")
def ar_dso(
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD.")],
    days: Annotated[int, typer.Option(help="Days of billing the average is taken over.", min=1)] = 365,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Debtor days (DSO), WIP days and lockup, per currency."""
    from billxl import dso

    with handle_errors():
        frame = dso(open_ledger(), parse_day(as_of), days=days)
    view = _amounts(frame, ["ar", "billed", "wip"])
    for col in ("debtor_days", "wip_days", "lockup_days"):  # exact decimals, as text
        view[col] = [None if v is None else str(v) for v in view[col]]
    _show(view, format, ["currency", "ar", "billed", "window_days", "debtor_days", "wip",
                         "wip_days", "lockup_days"], f"DSO and lockup as of {as_of}")


@ar_app.command("worklist")
def ar_worklist(
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also clients with nothing overdue yet.")] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N clients.")] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Who to chase: overdue money, largest and oldest first, with the last contact and promise."""
    from billxl import worklist

    with handle_errors():
        day = parse_day(as_of) or date.today()
        frame = worklist(open_ledger(), day, include_current=all_)
    if limit is not None:
        frame = frame.head(limit)
    view = _amounts(frame, ["open", "overdue", "promised"])
    _show(view, format, ["client_id", "client", "currency", "overdue", "open", "oldest_days",
                         "oldest_invoice", "invoices", "last_contact", "last_note", "promised_on",
                         "promised", "promise"], f"Collections worklist as of {day}")


@ar_app.command("note")
def ar_note(
    client: Annotated[str, typer.Argument(help="The client id.")],
    text: Annotated[str, typer.Option("--text", help="What was said (kept in the ledger).")],
    invoice: Annotated[str | None, typer.Option(help="The invoice it is about.")] = None,
    contacted_on: Annotated[str | None, typer.Option(help="When (default today), YYYY-MM-DD.")] = None,
    promised_on: Annotated[str | None, typer.Option(help="The date the client promised to pay.")] = None,
    promised_amount: Annotated[str | None, typer.Option(help="The amount promised.")] = None,
) -> None:
    """Record a collections contact and any promise to pay."""
    from billxl import add_collection_note

    with handle_errors():
        done = add_collection_note(open_ledger(), client, text, invoice=invoice,
                                   contacted_on=parse_day(contacted_on),
                                   promised_on=parse_day(promised_on),
                                   promised_amount=promised_amount)
    console.print(f"Note {done['note_pk']} recorded for client {client}.")


@ar_app.command("statement")
def ar_statement(
    client: Annotated[str, typer.Argument(help="The client id.")],
    out: Annotated[Path, typer.Option(help="The statement file: .pdf or .xlsx.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today).")] = None,
    templates: Annotated[Path | None, typer.Option(help="The firm's templates folder.")] = None,
) -> None:
    """A client's statement of account (open items and their aging) as PDF or XLSX."""
    from billxl import write_statement

    with handle_errors():
        path = write_statement(open_ledger(), client, parse_day(as_of) or date.today(), out,
                               templates=templates)
    console.print(f"Statement for {client} written to {path}.")


# =================================================================================== trust
def _trust_said(done: dict, what: str) -> str:
    from billxl import format_amount

    cur = done["currency"]
    text = (f"{what} {format_amount(done['amount_minor'], cur)} {cur}; matter "
            f"{done['matter_id']} holds {format_amount(done['balance_minor'], cur)} {cur} "
            "in trust.")
    if done.get("top_up_minor"):
        text += (f" Below the retainer's minimum: ask the client for "
                 f"{format_amount(done['top_up_minor'], cur)} {cur}.")
    return text


@trust_app.command("deposit")
def trust_deposit(
    matter: Annotated[str, typer.Argument(help="The matter the money is held for.")],
    amount: Annotated[str, typer.Option(help="The amount received into trust.")],
    reference: Annotated[str, typer.Option(help="The payment's reference.")] = "",
    date_: DateOption = None,
) -> None:
    """Record money received into trust for a matter."""
    from billxl import deposit_trust

    with handle_errors():
        done = deposit_trust(open_ledger(), matter, amount, reference=reference, on=parse_day(date_))
    console.print(_trust_said(done, "Deposited"))


@trust_app.command("apply")
def trust_apply(
    matter: Annotated[str, typer.Argument(help="The matter whose trust money pays.")],
    invoice: Annotated[str, typer.Option(help="The invoice paid.")],
    authorisation: Annotated[str, typer.Option(help="The client's authority to apply the money.")],
    amount: Annotated[str | None, typer.Option(help="How much (default: as much as trust and the invoice allow).")] = None,
    date_: DateOption = None,
) -> None:
    """Pay an invoice from trust, on the client's authorisation."""
    from billxl import apply_trust_to_invoice, format_amount

    with handle_errors():
        done = apply_trust_to_invoice(open_ledger(), matter, invoice, amount,
                                      authorisation=authorisation, on=parse_day(date_))
    cur = done["currency"]
    console.print(_trust_said(done, f"Applied to invoice {invoice}:")
                  + f" The invoice owes {format_amount(done['invoice_balance_minor'], cur)}"
                  f" {cur}.")


@trust_app.command("refund")
def trust_refund(
    matter: Annotated[str, typer.Argument(help="The matter whose trust money is paid back.")],
    amount: Annotated[str, typer.Option(help="The amount paid back.")],
    reference: Annotated[str, typer.Option(help="The payment out.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    date_: DateOption = None,
) -> None:
    """Pay trust money back to the client."""
    from billxl import refund_trust

    with handle_errors():
        done = refund_trust(open_ledger(), matter, amount, reference=reference, reason=reason,
                            on=parse_day(date_))
    console.print(_trust_said(done, "Refunded"))


@trust_app.command("retainer")
def trust_retainer(
    matter: Annotated[str, typer.Argument(help="The matter.")],
    minimum: Annotated[str, typer.Option(help="Keep at least this much in trust.")],
    target: Annotated[str | None, typer.Option(help="Top up to this much (default: the minimum).")] = None,
) -> None:
    """Make a matter's retainer evergreen: a minimum balance, topped up when it falls below."""
    from billxl import format_amount, set_retainer

    with handle_errors():
        done = set_retainer(open_ledger(), matter, minimum=minimum, target=target)
    cur = done["currency"]
    console.print(f"Matter {matter}: evergreen retainer, minimum "
                  f"{format_amount(done['minimum_minor'], cur)}, target "
                  f"{format_amount(done['target_minor'], cur)} {cur}; it holds "
                  f"{format_amount(done['balance_minor'], cur)}"
                  + (f" (ask for {format_amount(done['top_up_minor'], cur)})"
                     if done["top_up_minor"] else "") + ".")


@trust_app.command("balance")
def trust_balance(
    client: Annotated[str | None, typer.Option(help="One client's matters.")] = None,
    matter: Annotated[str | None, typer.Option(help="One matter.")] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Trust balances per client and matter, with the top-ups evergreen retainers need."""
    from billxl import trust_balances

    with handle_errors():
        frame = trust_balances(open_ledger(), client=client, matter=matter)
    view = _amounts(frame, ["balance", "minimum", "target", "top_up"])
    _show(view, format, ["client_id", "matter_id", "currency", "balance", "minimum", "target",
                         "top_up", "last_entry"], "Trust balances")
