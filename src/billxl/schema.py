"""The frames the engine passes around: their columns, in order, and how a row is fingerprinted.

Dates are ``datetime64[ns]`` at midnight; amounts are int64 minor units (``*_minor``), hours and
quantities int64 thousandths (``*_milli``); optional integers use pandas' nullable ``Int64``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The canonical columns of a time-entry export (the default intake profile reads these).
CANONICAL_TIME_COLUMNS = (
    "entry_id", "date", "timekeeper_id", "timekeeper_name", "timekeeper_class", "matter_id",
    "client_id", "hours", "rate", "amount", "task_code", "activity_code", "narrative",
)

#: The canonical columns of an expense export.
CANONICAL_EXPENSE_COLUMNS = (
    "entry_id", "date", "timekeeper_id", "matter_id", "client_id", "expense_code", "quantity",
    "unit_cost", "amount", "narrative", "receipt_ref", "billable",
)

#: A checked time-entry frame, as intake returns it and the ledger stores it.
TIME_FRAME = {
    "entry_id": "string",
    "source": "string",
    "source_key": "string",
    "timekeeper_id": "string",
    "matter_id": "string",
    "client_id": "string",
    "work_date": "datetime64[ns]",
    "hours_milli": "int64",
    "rate_minor": "Int64",
    "amount_minor": "Int64",
    "currency": "string",
    "narrative": "string",
    "task_code": "string",
    "activity_code": "string",
    "billable": "bool",
    "entered_on": "datetime64[ns]",
    "row": "int64",  # row number in the source file, as the user sees it
}

#: A checked expense frame.
EXPENSE_FRAME = {
    "entry_id": "string",
    "source": "string",
    "source_key": "string",
    "timekeeper_id": "string",
    "matter_id": "string",
    "client_id": "string",
    "work_date": "datetime64[ns]",
    "expense_code": "string",
    "quantity_milli": "int64",
    "unit_cost_minor": "int64",
    "amount_minor": "int64",
    "currency": "string",
    "narrative": "string",
    "receipt_ref": "string",
    "billable": "bool",
    "row": "int64",
}

#: Columns whose content decides whether a re-imported entry has changed.
TIME_CONTENT = ("timekeeper_id", "matter_id", "work_date", "hours_milli", "rate_minor",
                "amount_minor", "narrative", "task_code", "activity_code", "billable")
EXPENSE_CONTENT = ("timekeeper_id", "matter_id", "work_date", "expense_code", "quantity_milli",
                   "unit_cost_minor", "amount_minor", "narrative", "receipt_ref", "billable")


def empty_frame(spec: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in spec.items()})


def row_hash(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """A stable 16-hex-digit fingerprint of each row's content (same content, same hash).

    The row's text is its columns joined by U+001F: each value as pandas renders it as a string
    (dates as YYYY-MM-DD, missing as NUL), each column rendered once per distinct value; the
    hash is pandas' stable 64-bit ``hash_pandas_object`` of that text.
    """
    if frame.empty:
        return pd.Series([], dtype="string", index=frame.index)
    parts = [_hash_text(frame[name]) for name in columns]
    text = pd.Series(["\x1f".join(row) for row in zip(*parts, strict=True)], dtype=object)
    hashed = pd.util.hash_pandas_object(text, index=False).to_numpy()
    hexes = np.array([hashed.astype(">u8").tobytes().hex()]).view("<U16")  # 16 digits per row
    return pd.Series(hexes.astype(object), index=frame.index, dtype="string")


def _hash_text(values: pd.Series) -> np.ndarray:
    """A column as schema.row_hash writes it, as an object array of str."""
    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy(dtype=object, na_value="\x00")
    codes, uniques = pd.factorize(values)  # missing values get code -1
    if pd.api.types.is_datetime64_any_dtype(values):
        shown = pd.Series(uniques).dt.strftime("%Y-%m-%d")
    else:
        shown = pd.Series(uniques).astype("string")
    rendered = np.empty(len(shown) + 1, dtype=object)  # (np.append would drop the NUL)
    rendered[:-1] = shown.to_numpy(dtype=object, na_value="\x00")
    rendered[-1] = "\x00"
    return rendered[codes]  # code -1 picks the trailing NUL


def as_dates(values) -> pd.Series:
    """Dates as ``datetime64[ns]`` whatever came in (text, date objects, other resolutions)."""
    return pd.to_datetime(pd.Series(values)).astype("datetime64[ns]")


# ----------------------------------------------------------------------------- journals
# The frames ``store/reads.py`` returns and ``billxl.figures`` computes from.

#: Invoices and credit notes (a credit note's totals are negative).
INVOICE_FRAME = {
    "invoice_pk": "int64",
    "number": "string",
    "kind": "string",  # invoice or credit_note
    "credits_invoice_pk": "Int64",  # the invoice a credit note corrects
    "client_id": "string",
    "matter_id": "string",
    "office_id": "string",
    "currency": "string",
    "invoice_date": "datetime64[ns]",
    "due_date": "datetime64[ns]",
    "fees_minor": "int64",
    "expenses_minor": "int64",
    "discount_minor": "int64",
    "tax_minor": "int64",
    "total_minor": "int64",
}

#: Money applied to an invoice: from a receipt or from trust; a reversal is negative.
ALLOCATION_FRAME = {
    "invoice_pk": "int64",
    "receipt_pk": "Int64",
    "trust_entry_pk": "Int64",
    "applied_on": "datetime64[ns]",
    "amount_minor": "int64",
    "expenses_minor": "int64",
}

#: Post-bill write-offs of an invoice's balance; a reversal is negative.
WRITE_OFF_FRAME = {
    "invoice_pk": "int64",
    "written_on": "datetime64[ns]",
    "amount_minor": "int64",
    "reason": "string",
}

#: Per invoice or credit note: the amount of its expense lines with their tax.
EXPENSE_PART_FRAME = {"invoice_pk": "int64", "expense_part_minor": "int64"}

#: Cash received.
RECEIPT_FRAME = {
    "receipt_pk": "int64",
    "receipt_id": "string",
    "client_id": "string",  # missing while the payer is not identified
    "currency": "string",
    "received_on": "datetime64[ns]",
    "amount_minor": "int64",
    "status": "string",  # posted, unmatched or reversed
    "reversed_on": "datetime64[ns]",
}

#: Unapplied cash paid back.
REFUND_FRAME = {
    "receipt_pk": "int64",
    "client_id": "string",
    "currency": "string",
    "refunded_on": "datetime64[ns]",
    "amount_minor": "int64",
}

#: Trust money per matter: + deposit, - application or refund.
TRUST_FRAME = {
    "trust_entry_pk": "int64",
    "client_id": "string",
    "matter_id": "string",
    "currency": "string",
    "kind": "string",
    "entry_date": "datetime64[ns]",
    "amount_minor": "int64",
    "invoice_pk": "Int64",
}

#: Evergreen retainer levels.
RETAINER_FRAME = {
    "matter_id": "string",
    "client_id": "string",
    "currency": "string",
    "minimum_minor": "int64",
    "target_minor": "int64",
}

#: Recorded work, time: with ``closed_on``, the day it was billed or written off.
WORK_TIME_FRAME = {
    "entry_pk": "int64",
    "entry_id": "string",
    "timekeeper_id": "string",
    "matter_id": "string",
    "work_date": "datetime64[ns]",
    "hours_milli": "int64",
    "rate_minor": "Int64",
    "amount_minor": "Int64",
    "currency": "string",
    "billable": "bool",
    "status": "string",
    "closed_on": "datetime64[ns]",
}

#: Recorded work, expenses.
WORK_EXPENSE_FRAME = {
    "entry_pk": "int64",  # the expense's expense_pk
    "entry_id": "string",
    "timekeeper_id": "string",
    "matter_id": "string",
    "work_date": "datetime64[ns]",
    "quantity_milli": "int64",
    "unit_cost_minor": "int64",
    "amount_minor": "int64",
    "currency": "string",
    "billable": "bool",
    "status": "string",
    "closed_on": "datetime64[ns]",
}


#: Fee lines of invoices and credit notes: worked value at standard rates beside the billed.
FEE_LINE_FRAME = {
    "invoice_pk": "int64",
    "line_type": "string",
    "entry_pk": "Int64",
    "work_date": "datetime64[ns]",
    "timekeeper_id": "string",
    "quantity_milli": "int64",
    "standard_amount_minor": "int64",
    "amount_minor": "int64",
}

#: Time written off on a pre-bill: its worked value, dated when the pre-bill was billed.
PREBILL_WRITE_OFF_FRAME = {
    "entry_pk": "int64",
    "timekeeper_id": "string",
    "matter_id": "string",
    "client_id": "string",
    "office_id": "string",
    "currency": "string",
    "closed_on": "datetime64[ns]",
    "worked_amount_minor": "int64",
}


def typed(columns: dict[str, object], spec: dict[str, str]) -> pd.DataFrame:
    """A frame with exactly the columns of ``spec``, in order, each of its declared dtype.

    ``columns`` maps names to sequences of values as a database driver returns them (dates as
    ``date`` objects or ISO text, booleans as bool or 0/1, missing as None). A name of ``spec``
    absent from ``columns`` comes back empty (all missing) so that a frame always has its layout.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    out = {}
    for name, dtype in spec.items():
        values = columns.get(name)
        if values is None:
            values = [None] * n
        if dtype.startswith("datetime64"):  # date objects, ISO text or datetimes
            raw = pd.Series(values, dtype=object)
            if isinstance(next((v for v in raw if v is not None), None), str):
                raw = raw.str.slice(0, 10)  # a DATE read back as text (SQLite)
            out[name] = pd.to_datetime(raw).astype(dtype)
        elif dtype == "bool":  # bool, or 0/1 as SQLite stores it
            out[name] = pd.Series(values, dtype=object).fillna(False).astype(bool)
        else:
            out[name] = pd.Series(values, dtype=object if dtype != "string" else None).astype(dtype)
    return pd.DataFrame(out, columns=list(spec))
