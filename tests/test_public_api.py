"""The public API changes only on purpose: this list is its contract."""

import billxl

PUBLIC = [
    "BillxlError", "D", "InputError", "Ledger", "LedgerError", "Problem", "RateBook", "Rounding",
    "aging", "apply_prebill", "build_firm", "check_entries", "check_expenses", "compare_sources",
    "create_prebills", "export_invoices", "extend", "extend_array", "finalize", "from_minor",
    "import_file", "invoice_balances", "issue_credit_note", "list_invoices", "load_guidelines",
    "parse_ledes", "post_receipts", "read_entries", "reconcile_month", "render_invoices",
    "resolve_rates", "run_demo", "to_minor", "validate_ledes",
]


def test_public_names_are_pinned_and_all_resolve():
    assert billxl.__all__ == sorted(PUBLIC)
    for name in PUBLIC:
        assert callable(getattr(billxl, name)), name
