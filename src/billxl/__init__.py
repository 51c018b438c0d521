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
    # the ledger
    "Ledger": "billxl.store.ledger",
    # intake and review
    "import_file": "billxl.intake", "read_entries": "billxl.intake",
    "check_entries": "billxl.rules", "check_expenses": "billxl.rules",
    "load_guidelines": "billxl.rules", "reconcile_month": "billxl.reconcile",
    "compare_sources": "billxl.sources",
    # rates
    "resolve_rates": "billxl.rates", "RateBook": "billxl.rates",
    # billing
    "create_prebills": "billxl.billing.prebill", "apply_prebill": "billxl.billing.prebill",
    "finalize": "billxl.billing.invoicing", "issue_credit_note": "billxl.billing.credit_notes",
    "list_invoices": "billxl.billing.credit_notes", "render_invoices": "billxl.documents",
    # e-billing
    "export_invoices": "billxl.ledes", "validate_ledes": ("billxl.ledes", "validate"),
    "parse_ledes": ("billxl.ledes", "parse"),
    # cash
    "post_receipts": "billxl.payments", "invoice_balances": "billxl.payments",
    "aging": "billxl.ar",
    # the demo firm and the month end
    "build_firm": "billxl.demo", "run_demo": "billxl.monthend",
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
