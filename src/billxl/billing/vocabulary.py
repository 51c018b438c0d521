"""What a partner can say on a pre-bill: the actions on a line, the reason codes for a change,
and the most hours one line may carry.

Shared by the pre-bill engine (:mod:`billxl.billing.prebill`, which re-exports them) and its
workbook (:mod:`billxl.excel.prebill_workbook`, whose drop-downs and checks list them).
"""

from __future__ import annotations

from billxl import money

__all__ = ["ACTIONS", "REASON_CODES", "MAX_LINE_HOURS_MILLI"]

#: What the partner may do with a line, and what it means (the workbook's Instructions say it).
ACTIONS = {
    "bill": "bill it on this pre-bill's invoice",
    "hold": "keep it in WIP and bill it in a later cycle",
    "no_charge": "show it on the invoice at no charge",
    "write_off": "do not bill it, now or later (a write-down of its whole value)",
    "transfer": "move it to another open matter (fill in 'Transfer to')",
}

#: Reason codes for write-downs (WD-), write-ups (WU-) and anything else (OTHER, with a note).
REASON_CODES = {
    "WD-INEFF": "write-down: more time than the task warranted (inefficiency)",
    "WD-JUNIOR": "write-down: work done by a junior (training, learning the file)",
    "WD-CLIENT": "write-down: client relationship",
    "WD-DUP": "write-down: duplicated work or a duplicate entry",
    "WD-CAP": "write-down: fee cap or estimate reached",
    "WU-VALUE": "write-up: value premium for the result achieved",
    "OTHER": "any other reason: say which in the Note",
}

#: A line of more hours than a day has is a typo.
MAX_LINE_HOURS_MILLI = 24 * money.QTY_SCALE
