"""The public API changes only on purpose: this list is its contract."""

import billxl

PUBLIC = [
    "BillxlError", "D", "InputError", "Ledger", "LedgerError", "LedgerView", "Problem", "RateBook", "Reference",
    "Rounding",
    "aging", "apply_prebill", "build_firm", "check_entries", "check_expenses", "check_file",
    "compare_sources",
    "create_prebills", "export_invoices", "extend", "extend_array", "finalize", "from_minor",
    "import_file", "invoice_balances", "issue_credit_note", "list_invoices", "load_guidelines",
    "parse_ledes", "post_receipts", "read_entries", "reconcile_month", "render_invoices",
    "resolve_rates", "run_demo", "to_minor", "validate_ledes",
    # the firm's master data and settings
    "import_master", "save_master_record", "close_master_record", "firm_settings",
    "set_firm_settings",
    # what the command line calls (it imports nothing else of billxl: tests/test_architecture.py)
    "AGING_BUCKETS", "AGING_BUCKET_LABELS", "add_collection_note", "add_scheduled_invoice",
    "apply_receipt", "apply_trust_to_invoice", "atomic_write_csv", "write_csv", "deposit_trust",
    "describe_prebill", "dso", "format_amount", "ledger_configured", "list_findings",
    "list_scheduled_invoices", "list_submissions", "month_range", "record_submission",
    "refund_credit", "refund_trust", "rejections_by_client", "rejections_by_reason",
    "reverse_receipt", "set_cash_terms", "set_finding_status", "set_retainer",
    "set_submission_status", "submission_history", "submissions_pending_by_age",
    "trigger_scheduled_invoice", "trust_balances", "unapplied_cash",
    "unapplied_prebill_workbooks", "update_scheduled_invoice",
    "upgrade_ledger", "worklist", "write_aging", "write_exceptions_workbook", "write_off",
    "write_prebill_workbooks", "write_statement",
    # the billing workbook's ribbon commands (billxl.excel.commands) and what they call
    "WORKBOOK_COMMANDS", "export_for_portals", "prebill_frame", "run_workbook_command",
    # the billing workbook and the add-in, built (billxl.excel.workbook_build)
    "build_workbooks",
    # the month-end packs (billxl.packs) and the batch
    "CloseRefused", "collections_pack", "monthly_pack", "pack_scopes", "reconciliation_pack",
    "run_month_end",
    # billxl's own templates, notebooks, workbook and add-in, copied for a firm (billxl.shipped)
    "copy_defaults",
    # invoice schedules from the agreed terms, and billing cycles (billxl.billing.schedules)
    "Milestone", "ScheduleTerms", "ScheduledItem", "bills_due", "build_schedule",
    "plan_schedule", "preview_schedule", "save_schedule", "schedule_fee_left", "schedule_of",
    "set_billing_cycle",
    # a ledger another program holds too long
    "busy_timeout_seconds", "ledger_busy",
    # a big month's narrative scans in several processes (billxl.scan)
    "allow_parallel_scans",
]


CONSTANTS = {"AGING_BUCKETS", "AGING_BUCKET_LABELS", "WORKBOOK_COMMANDS"}


def test_public_names_are_pinned_and_all_resolve():
    assert billxl.__all__ == sorted(PUBLIC)
    for name in PUBLIC:
        value = getattr(billxl, name)
        assert (value is not None) if name in CONSTANTS else callable(value), name
