"""billxl: a billing toolkit for law firms.

The public API is the names in ``__all__``; the CLI, the Excel surface and the notebooks use
only these. They load on first use (PEP 562), so ``import billxl`` stays cheap for a worksheet
function or a command that needs one of them.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    # money and errors
    "D": "billxl.money", "Rounding": "billxl.money", "to_minor": "billxl.money",
    "from_minor": "billxl.money", "extend": "billxl.money", "extend_array": "billxl.money",
    "BillxlError": "billxl.errors", "InputError": "billxl.errors",
    "LedgerError": "billxl.errors", "Problem": "billxl.errors",
    "format_amount": "billxl.money", "month_range": "billxl.periods",
    "atomic_write_csv": "billxl.atomic", "write_csv": "billxl.atomic",
    # the ledger and the firm's reference data
    "Ledger": "billxl.store.ledger", "Reference": "billxl.reference",
    "import_master": "billxl.firm", "save_master_record": ("billxl.firm", "save_record"),
    "close_master_record": ("billxl.firm", "close_record"), "firm_settings": "billxl.firm",
    "set_firm_settings": "billxl.firm",
    # the read model: the figures a worksheet, a notebook or a pack asks for
    "LedgerView": "billxl.store.view",
    # intake and review
    "upgrade_ledger": "billxl.store.db", "ledger_configured": "billxl.store.db",
    "import_file": "billxl.intake", "read_entries": "billxl.intake",
    "check_entries": "billxl.rules", "check_expenses": "billxl.rules",
    "check_file": "billxl.check",
    "load_guidelines": "billxl.rules", "reconcile_month": "billxl.reconcile",
    "compare_sources": "billxl.sources",
    "list_findings": "billxl.reconcile",
    "set_finding_status": ("billxl.store.findings", "set_status"),
    "write_exceptions_workbook": "billxl.excel.exceptions_workbook",
    "build_workbooks": "billxl.excel.workbook_build",
    # rates
    "resolve_rates": "billxl.rates", "RateBook": "billxl.rates",
    # billing
    "create_prebills": "billxl.billing.prebill", "apply_prebill": "billxl.billing.prebill",
    "finalize": "billxl.billing.invoicing", "issue_credit_note": "billxl.billing.credit_notes",
    "list_invoices": "billxl.billing.credit_notes", "render_invoices": "billxl.documents",
    "write_prebill_workbooks": "billxl.billing.prebill", "prebill_frame": "billxl.billing.prebill",
    "describe_prebill": ("billxl.billing.prebill", "describe"),
    "unapplied_prebill_workbooks": ("billxl.billing.prebill", "unapplied_workbooks"),
    "add_scheduled_invoice": ("billxl.billing.schedules", "add_item"),
    "list_scheduled_invoices": ("billxl.billing.schedules", "list_items"),
    "update_scheduled_invoice": ("billxl.billing.schedules", "update_item"),
    "trigger_scheduled_invoice": ("billxl.billing.schedules", "trigger"),
    # invoice schedules built from the agreed terms, and billing cycles (issue 16)
    "ScheduleTerms": ("billxl.billing.schedule_builder", "Terms"),
    "Milestone": "billxl.billing.schedule_builder",
    "ScheduledItem": ("billxl.billing.schedule_builder", "Item"),
    "build_schedule": ("billxl.billing.schedule_builder", "build"),
    "plan_schedule": ("billxl.billing.schedules", "plan"),
    "preview_schedule": ("billxl.billing.schedules", "preview"),
    "save_schedule": ("billxl.billing.schedules", "save_plans"),
    "schedule_of": ("billxl.billing.schedules", "list_plan"),
    "set_billing_cycle": ("billxl.billing.schedules", "set_cycle"),
    "bills_due": ("billxl.billing.schedules", "due"),
    "schedule_fee_left": ("billxl.billing.schedules", "fee_left"),
    # e-billing
    "export_invoices": "billxl.ledes", "validate_ledes": ("billxl.ledes", "validate"),
    "export_for_portals": "billxl.ledes",
    "parse_ledes": ("billxl.ledes", "parse"),
    "record_submission": "billxl.ledes.submissions",
    "set_submission_status": ("billxl.ledes.submissions", "set_status"),
    "submission_history": ("billxl.ledes.submissions", "history"),
    "list_submissions": "billxl.ledes.submissions",
    "submissions_pending_by_age": ("billxl.ledes.submissions", "pending_by_age"),
    "rejections_by_reason": "billxl.ledes.submissions",
    "rejections_by_client": "billxl.ledes.submissions",
    # cash
    "post_receipts": "billxl.payments", "invoice_balances": "billxl.payments",
    "aging": "billxl.ar",
    "reverse_receipt": "billxl.payments", "refund_credit": "billxl.payments",
    "unapplied_cash": "billxl.payments", "apply_receipt": "billxl.payments",
    "write_off": "billxl.payments", "set_cash_terms": "billxl.payments",
    "AGING_BUCKETS": ("billxl.ar", "BUCKETS"), "AGING_BUCKET_LABELS": ("billxl.ar", "BUCKET_LABELS"),
    "write_aging": "billxl.ar", "dso": "billxl.ar", "worklist": "billxl.ar",
    "add_collection_note": ("billxl.ar", "add_note"), "write_statement": "billxl.ar",
    # trust money
    "deposit_trust": ("billxl.trust", "deposit"),
    "apply_trust_to_invoice": ("billxl.trust", "apply_to_invoice"),
    "refund_trust": ("billxl.trust", "refund"), "set_retainer": "billxl.trust",
    "trust_balances": ("billxl.trust", "balances"),
    # the demo firm and the month end
    "build_firm": "billxl.demo", "run_demo": "billxl.monthend",
    "run_month_end": "billxl.packs.batch", "CloseRefused": "billxl.packs.batch",
    "monthly_pack": "billxl.packs.monthly", "reconciliation_pack": "billxl.packs.reconciliation",
    "collections_pack": "billxl.packs.collections", "pack_scopes": "billxl.packs.source",
    # the ledger busy (another writer held it longer than the busy timeout)
    "ledger_busy": ("billxl.store.db", "is_busy"),
    "busy_timeout_seconds": "billxl.store.db",
    # a big month's narrative scans in several processes (for a program safe to import again)
    "allow_parallel_scans": "billxl.scan",
    # billxl's own templates, notebooks, workbook and add-in, copied for a firm to edit
    "copy_defaults": "billxl.shipped",
    # the billing workbook's ribbon commands, run on a workbook file
    "run_workbook_command": ("billxl.excel.commands", "run_file"),
    "WORKBOOK_COMMANDS": ("billxl.excel.commands", "COMMANDS"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'billxl' has no attribute {name!r}")
    module, attribute = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
