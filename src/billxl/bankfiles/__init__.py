"""Bank files: BAI2, ISO 20022 camt.052/053/054, MT940 and OFX statements, read as receipts.

``billxl payments post FILE`` reads a bank file when its *content* is one of these formats
(the file's name and extension do not matter; anything else is read as a table)::

    sniff(first bytes) ─▶ read_bai2 · read_camt · read_mt940 · read_ofx ─▶ BankFile
                                      (one library per format)            │
                             credits ─▶ receipt table ─▶ payments.check_receipts ─▶ matching
                             debits, returns, reversals ─▶ reported, never posted

Each reader uses the parsing library made for its format (``bai2``, ``lxml`` with the ISO
namespaces, ``mt-940``, ``ofxparse``), checks the file's own control totals, and names the
line (or, for camt, the element) of every problem. A credit becomes a row of the same
receipt table the table path reads, keyed on the bank's own reference qualified by the
account (:func:`billxl.bankfiles.model.natural_keys`), so matching, posting and idempotency
are one code path for tables and bank files alike.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from billxl.bankfiles.model import KINDS, LINE_COLUMNS, RECEIPT_COLUMNS, BankFile, frame_of
from billxl.errors import InputError, Problem

__all__ = ["BankFile", "KINDS", "LINE_COLUMNS", "RECEIPT_COLUMNS", "FORMATS", "sniff",
           "read_bank_file", "parse_bank_file"]

#: format -> the receipts' source in the ledger (the first part of their natural key)
FORMATS = {"BAI2": "bai2", "camt": "camt", "MT940": "mt940", "OFX": "ofx"}

_SNIFF_BYTES = 1 << 16
_BAI2_FIRST = re.compile(r"\d\d,[^\r\n]*/\s*$|01,[^\r\n]*$")
_MT940_TAGS = re.compile(r"(?m)^:20:")
_MT940_BALANCE = re.compile(r"(?m)^:(25|28C?|60[FM]|61|62[FM]):")


def _text(data: bytes) -> str:
    """Bytes as text: UTF-8 (a byte-order mark dropped), else Latin-1 (which never fails)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def sniff(head: bytes) -> str | None:
    """The bank format the first bytes of a file are written in (a ``FORMATS`` key), or None.

    Decided by the content alone: an OFX header or ``<OFX>`` element; an ISO 20022 namespace;
    SWIFT MT940 tags (``:20:`` and a balance or account tag); a first line that is a BAI2
    record (``01,…`` or two digits, a comma and a closing ``/``).
    """
    text = _text(head).lstrip("\ufeff \t\r\n")
    upper = text[:4096].upper()
    if upper.startswith("OFXHEADER") or "<OFX>" in upper or "<?OFX" in upper:
        return "OFX"
    if text.startswith("<") and "urn:iso:std:iso:20022:tech:xsd:" in text[:4096]:
        return "camt"
    if _MT940_TAGS.search(text) and _MT940_BALANCE.search(text):
        return "MT940"
    first = text.split("\n", 1)[0].strip()
    if _BAI2_FIRST.fullmatch(first):
        return "BAI2"
    return None


def read_bank_file(path: str | Path) -> BankFile | None:
    """The bank file at ``path``, read and checked; None when its content is no bank format.

    Raises InputError (every problem, each naming its line or element) for a bank file that
    cannot be posted: damaged, unreadable, or whose control totals do not agree.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return None  # the table path says what is wrong with the path
    kind = sniff(head)
    if kind is None:
        return None
    return parse_bank_file(Path(path).read_bytes(), str(path), kind)


def parse_bank_file(data: bytes, file: str, kind: str | None = None) -> BankFile:
    """A bank file's bytes read as ``kind`` (sniffed when None); ``file`` names it in problems."""
    kind = kind or sniff(data[:_SNIFF_BYTES])
    if kind is None:
        raise InputError(f"{file} is not a BAI2, camt, MT940 or OFX file.",
                         [Problem(file, None, None, None, "the content is no bank format")])
    digest = hashlib.sha256(data).hexdigest()
    if kind == "camt":
        from billxl.bankfiles import read_camt

        fmt, (lines, statements, checked, notes) = read_camt.read(data, file)
    else:
        text = _text(data)
        if kind == "BAI2":
            from billxl.bankfiles import read_bai2

            fmt, (lines, statements, checked, notes) = "BAI2", read_bai2.read(text, file)
        elif kind == "MT940":
            from billxl.bankfiles import read_mt940

            fmt, (lines, statements, checked, notes) = "MT940", read_mt940.read(text, file)
        else:
            from billxl.bankfiles import read_ofx

            fmt, (lines, statements, checked, notes) = read_ofx.read(data, file)
    return BankFile(file=file, format=fmt, source=FORMATS[kind], sha256=digest,
                    statements=statements, lines=frame_of(lines), checked=checked, notes=notes)
