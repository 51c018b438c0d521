"""Billing-guideline rules over time entries and expenses: findings as data.

::

    from billxl.rules import Context, check_entries, load_guidelines

    result = check_entries(entries, guidelines=load_guidelines("strict.yaml"),
                           context=Context.from_frames(reference), period=(start, end))
    result.findings   # rule, severity, entry_id, field, message, suggestion
    result.notes      # rules skipped and why ("CLOSED_MATTER skipped: no ledger, ...")

``RULES`` lists every rule by its stable id, with its default severity, what context it needs
and what it checks. Guideline files (YAML) are described in ``defaults.yaml``.
"""

# importing the rule modules registers their rules, in this order (the order of findings)
from billxl.rules import time_rules  # noqa: F401

# isort: split
from billxl.rules import duplicates  # noqa: F401

# isort: split
from billxl.rules import expense_rules  # noqa: F401

# isort: split
from billxl.rules.engine import (
    FINDING_COLUMNS,
    RULES,
    SEVERITIES,
    CheckResult,
    Context,
    Rule,
    check_entries,
    check_expenses,
)
from billxl.rules.frames import entries_from_export, expenses_from_export
from billxl.rules.guidelines import (
    Guidelines,
    default_guidelines,
    load_client_guidelines,
    load_guidelines,
)

__all__ = [
    "FINDING_COLUMNS",
    "RULES",
    "SEVERITIES",
    "CheckResult",
    "Context",
    "Guidelines",
    "Rule",
    "check_entries",
    "check_expenses",
    "default_guidelines",
    "entries_from_export",
    "expenses_from_export",
    "load_client_guidelines",
    "load_guidelines",
]
