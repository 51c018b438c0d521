"""LEDES files from final invoices: ledger -> canonical lines -> 1998B, 98BI V2 or XML 2.1.

How an invoice's figures become LEDES fields:

* every ledger line keeps its units and unit cost; ``LINE_ITEM_ADJUSTMENT_AMOUNT`` is what makes
  ``units x unit cost + adjustment`` equal the line's amount: the line's discount, and for a
  split-billed invoice (where each payor's line carries its share of the full extension) the
  other payors' share too. The identity a portal checks therefore holds on every line;
* invoice-level lines (``IF``/``IE``: fixed fees, fee-cap write-downs, agreed discounts) are one
  unit at the amount, or an adjustment with no unit cost, as the client's portal wants;
* 1998B has no tax: an invoice that carries tax is written as 98BI V2 (or XML), never with its
  tax dropped. In 98BI line totals include their tax, ``INVOICE_TAX_TOTAL`` is the sum of the
  lines' tax and ``INVOICE_NET_TOTAL`` the total before tax; the tax rate is a fraction;
* timekeeper names are "Last, First"; dates YYYYMMDD; amounts with the currency's decimals.

Pipe files are written in cp1252 ("ANSI") unless asked otherwise (UTF-8, or ASCII, which some
portals want). A character the file's encoding cannot hold stops the export with every such
character named (invoice, line, field, character), or is transliterated on request (``é``
stays in cp1252 and becomes ``e`` in ASCII, ``ł`` becomes ``l``, ``→`` becomes ``->``, anything
else ``?``). Text that would break the format is changed, each change counted in the export's
notes (:attr:`~billxl.ledes.formats.Rendered.notes`, printed by ``billxl ledes export``):

* ``|`` (the field separator) is written as ``/``;
* ``[`` and ``]`` as ``(`` and ``)``: ``[]`` ends a record, and a lone bracket next to the
  end of a field could make one with its neighbour;
* a line break (CR, LF, CRLF, U+2028, U+2029) or a tab as a space;
* characters that do not show (:data:`billxl.cells.HIDDEN`: bidirectional overrides, control
  characters, zero-width spaces) are left out, as everywhere billxl writes text.

Nothing else is changed: a description that starts with ``=`` is written as it is (a LEDES
file is not a spreadsheet; the invoice's text is what the client's portal must show).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from billxl import money
from billxl.cells import HIDDEN, visible_text
from billxl.errors import InputError, LedgerError, Problem
from billxl.ledes.formats import FORMATS, LINE_COLUMNS, PipeFormat, Rendered, format_named
from billxl.ledes.values import format_dates, format_scaled
from billxl.periods import month_range
from billxl.reference import display_name
from billxl.store import ledes as store
from billxl.store.ledger import Ledger

__all__ = ["LedgerInvoices", "load_invoices", "ledes_lines", "render", "render_pipe",
           "CP1252_OUTSIDE", "transliterate"]

_CP1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") for b in range(256))
#: Characters cp1252 cannot hold.
CP1252_OUTSIDE = re.compile("[^" + re.escape(_CP1252) + "]")
_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029]")
# letters that do not decompose into a base letter, and symbols with a usual spelling
_SPECIAL = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "ı": "i", "ŀ": "l",
            "→": "->", "←": "<-", "≤": "<=", "≥": ">=", "≠": "!=", "✓": "v", "∙": "·",
            "‐": "-", "‑": "-", "−": "-", "′": "'", "″": '"', "⁄": "/"}


@dataclass
class LedgerInvoices:
    """Final invoices as read from the ledger, with what their LEDES files need."""

    invoices: pd.DataFrame  # invoices table + client and matter fields, one row per invoice
    lines: pd.DataFrame  # invoice_lines of those invoices
    firm: dict
    timekeepers: pd.DataFrame
    tax_rates: pd.DataFrame

    def __len__(self) -> int:
        return len(self.invoices)


def load_invoices(ledger: Ledger, *, numbers: list[str] | None = None, month: str | None = None,
                  kinds: tuple[str, ...] = ("invoice", "credit_note")) -> LedgerInvoices:
    """The invoices to export (by number, or dated in a month), read in one connection."""
    start, end = month_range(month) if month is not None else (None, None)
    with ledger.engine.connect() as conn:
        invoices = store.export_invoices(ledger, conn, numbers=numbers, start=start, end=end,
                                         kinds=kinds)
        if numbers is not None:
            missing = sorted(set(numbers) - set(invoices["number"]))
            if missing:
                raise LedgerError(f"There is no final invoice {', '.join(missing)} in the ledger.")
        lines = store.export_lines(ledger, conn, invoices["invoice_pk"].astype(int).tolist())
        timekeepers = store.ledes_timekeepers(ledger, conn)
        tax_rates = store.tax_rates(ledger, conn)
    return LedgerInvoices(invoices, lines, ledger.firm(), timekeepers, tax_rates)


def _text(values, default: str = "") -> np.ndarray:
    """A column as an object array of str ('' for missing)."""
    s = pd.Series(values, dtype=object)
    return s.where(s.notna(), default).astype(str).to_numpy(dtype=object)


def ledes_lines(data: LedgerInvoices, flat_fee_as: str | dict[str, str] = "unit_cost"
                ) -> pd.DataFrame:
    """The canonical LEDES line frame of the invoices (:data:`~.formats.LINE_COLUMNS`).

    ``flat_fee_as`` ('unit_cost' or 'adjustment', or a map invoice number -> style) says how
    IF/IE lines carry their amount. ``line_total_minor`` includes the line's tax and
    ``invoice_total_minor`` is the invoice's total with tax (1998B files carry no tax).
    """
    inv = data.invoices.set_index("invoice_pk")
    lines = data.lines.copy()
    n = len(lines)
    head = inv.loc[lines["invoice_pk"].to_numpy()].reset_index()
    number = _text(head["number"])
    line_type = _text(lines["line_type"])
    qty = lines["quantity_milli"].to_numpy(dtype=np.int64)
    unit = lines["unit_minor"].to_numpy(dtype=np.int64)
    amount = lines["amount_minor"].to_numpy(dtype=np.int64)
    tax = lines["tax_minor"].to_numpy(dtype=np.int64)

    # units x unit cost, rounded once by the invoice's rule; the adjustment closes the gap
    extension = money.extend_by_rule(qty, unit, _text(head["rounding"], "half_up"))
    adjustment = amount - extension
    invoice_level = np.isin(line_type, ["IF", "IE"])
    style = (np.array([flat_fee_as.get(x, "unit_cost") for x in number], dtype=object)
             if isinstance(flat_fee_as, dict) else np.full(n, flat_fee_as, dtype=object))
    as_cost = invoice_level & (style != "adjustment")
    as_adjustment = invoice_level & (style == "adjustment")
    qty = np.where(invoice_level, 1000, qty)
    unit = np.where(as_cost, amount, np.where(as_adjustment, 0, unit))
    adjustment = np.where(as_cost, 0, np.where(as_adjustment, amount, adjustment))

    # timekeepers: "Last, First" from the line, the parts from the timekeepers table
    people = data.timekeepers.set_index("timekeeper_id")
    tk = _text(lines["timekeeper_id"])
    known = pd.Index(people.index).get_indexer(tk) >= 0  # hashed: np.isin on text is O(n*m)
    last = np.where(known, people["last_name"].reindex(tk).to_numpy(dtype=object), "")
    first = np.where(known, people["first_name"].reindex(tk).to_numpy(dtype=object), "")
    name = _text(lines["timekeeper_name"])
    name = np.where((name == "") & known, display_name(last, first), name).astype(object)

    start = head["period_start"].to_numpy(dtype="datetime64[ns]")
    end = head["period_end"].to_numpy(dtype="datetime64[ns]")
    work = lines["work_date"].to_numpy(dtype="datetime64[ns]")
    if np.isnat(start).any() or np.isnat(end).any():  # no period: the span of the lines
        span = pd.DataFrame({"pk": lines["invoice_pk"].to_numpy(), "d": work}).groupby("pk")["d"]
        lo = span.transform("min").to_numpy(dtype="datetime64[ns]")
        hi = span.transform("max").to_numpy(dtype="datetime64[ns]")
        start, end = np.where(np.isnat(start), lo, start), np.where(np.isnat(end), hi, end)

    percent = _text(lines["tax_percent"], "0")
    percent = np.array([_normal(p) for p in percent], dtype=object) if n else percent
    tax_type = _tax_types(head, percent, data.tax_rates)
    client_id = np.where(_text(head["ledes_client_id"]) != "", _text(head["ledes_client_id"]),
                         _text(head["client_id"])).astype(object)
    firm = data.firm
    total = head["total_minor"].to_numpy(dtype=np.int64)
    invoice_tax = head["tax_minor"].to_numpy(dtype=np.int64)
    out = {
        "line": np.zeros(n, dtype=np.int64),
        "invoice_number": number, "client_id": client_id,
        "law_firm_matter_id": _text(head["matter_id"]),
        "client_matter_id": _text(head["client_matter_id"]),
        "law_firm_id": np.full(n, str(firm["law_firm_id"]), dtype=object),
        "invoice_description": _text(head["description"]),
        "line_item_number": _text(lines["line_no"]), "line_type": line_type,
        "task_code": _text(lines["task_code"]), "expense_code": _text(lines["expense_code"]),
        "activity_code": _text(lines["activity_code"]), "timekeeper_id": tk,
        "timekeeper_name": name, "timekeeper_classification": _text(lines["classification"]),
        "line_item_description": _text(lines["narrative"]), "currency": _text(head["currency"]),
        "tax_percent": percent, "tax_type": tax_type,
        "po_number": np.full(n, "", dtype=object), "client_tax_id": _text(head["client_tax_id"]),
        "matter_name": _text(head["matter_name"]),
        "timekeeper_last_name": last.astype(object), "timekeeper_first_name": first.astype(object),
        "account_type": np.full(n, "O", dtype=object),  # operating, not trust
        "law_firm_name": np.full(n, str(firm.get("name") or ""), dtype=object),
        "law_firm_address_1": _same(firm.get("address_1"), n),
        "law_firm_address_2": _same(firm.get("address_2"), n),
        "law_firm_city": _same(firm.get("city"), n),
        "law_firm_region": _same(firm.get("region"), n),
        "law_firm_postcode": _same(firm.get("postcode"), n),
        "law_firm_country": _same(firm.get("country"), n),
        "client_name": _text(head["client_name"]),
        "client_address_1": _text(head["client_address_1"]),
        "client_address_2": _text(head["client_address_2"]),
        "client_city": _text(head["client_city"]), "client_region": _text(head["client_region"]),
        "client_postcode": _text(head["client_postcode"]),
        "client_country": _text(head["client_country"]), "tax_currency": _text(head["currency"]),
        "invoice_date": head["invoice_date"].to_numpy(dtype="datetime64[ns]"),
        "billing_start_date": start, "billing_end_date": end, "line_item_date": work,
        "quantity_milli": qty, "unit_minor": unit, "adjustment_minor": adjustment,
        "amount_minor": amount, "tax_minor": tax, "line_total_minor": amount + tax,
        "invoice_total_minor": total, "invoice_tax_minor": invoice_tax,
        "invoice_net_minor": total - invoice_tax, "reported_tax_minor": invoice_tax,
    }
    return pd.DataFrame({c: pd.Series(out[c], copy=False,
                                      dtype=object if out[c].dtype == object else None)
                         for c in LINE_COLUMNS}, copy=False)


def _same(value, n: int) -> np.ndarray:
    return np.full(n, "" if value is None else str(value), dtype=object)


def _normal(percent: str) -> str:
    """Exact decimal text without trailing zeros ('20.00' -> '20', '0' -> '0')."""
    value = money.D(percent or "0")
    return "0" if value == 0 else f"{value.normalize():f}"


def _tax_types(head: pd.DataFrame, percent: np.ndarray, rates: pd.DataFrame) -> np.ndarray:
    """VAT, GST, ... for taxed lines: the type of the client's jurisdiction's rate."""
    out = np.full(len(percent), "", dtype=object)
    if rates.empty or not len(percent):
        return out
    kind_of = rates.drop_duplicates("jurisdiction").set_index("jurisdiction")["tax_type"]
    juris = _text(head["tax_jurisdiction"])
    found_type = kind_of.reindex(juris).to_numpy(dtype=object)
    taxed = (percent != "0") & pd.notna(found_type)
    out[taxed] = found_type[taxed]
    return out


# =================================================================================== rendering
def render(lines: pd.DataFrame, fmt: str, *, encoding: str = "cp1252",
           transliterate_text: bool = False, name: str = "LEDES file") -> Rendered:
    """Write canonical lines as a LEDES file (1998B, 98BI or XML21)."""
    fmt = format_named(fmt)
    if fmt == "XML21":
        from billxl.ledes import xml21

        return xml21.render(lines, name=name)
    return render_pipe(lines, FORMATS[fmt], encoding=encoding,
                       transliterate_text=transliterate_text, name=name)


def render_pipe(lines: pd.DataFrame, fmt: PipeFormat, *, encoding: str = "cp1252",
                transliterate_text: bool = False, name: str = "LEDES file") -> Rendered:
    notes: list[str] = []
    if fmt.name == "1998B":
        taxed = lines.loc[lines["tax_minor"] != 0, "invoice_number"].unique()
        if len(taxed):
            raise InputError(
                f"Invoice {', '.join(map(str, taxed))} carries tax, and LEDES 1998B has no tax "
                "fields: export it as 98BI (or XML21) so that its tax is not dropped.")
    columns = _field_texts(lines, fmt, notes)
    body = ["|".join(row) + "[]" for row in zip(*columns, strict=True)]
    text = "\r\n".join([fmt.header + "[]", fmt.field_names_line + "[]", *body])
    encoding, outside = _encoding(encoding)
    if outside is not None and outside.search(text):
        if not transliterate_text:
            raise _unencodable(lines, fmt, columns, name, encoding, outside)
        count = len(outside.findall(text))
        text = transliterate(text, outside)
        notes.append(f"{count} character(s) {encoding} cannot hold were transliterated.")
    return Rendered(text.encode(encoding), fmt.name, encoding, notes)


_ASCII_OUTSIDE = re.compile(r"[^\x00-\x7f]")


def _encoding(encoding: str) -> tuple[str, re.Pattern | None]:
    """The encoding's name as written, and the characters it cannot hold (None: all fit)."""
    name = encoding.lower().replace("_", "-")
    if name in ("cp1252", "ansi", "windows-1252"):
        return "cp1252", CP1252_OUTSIDE
    if name in ("ascii", "us-ascii"):
        return "ascii", _ASCII_OUTSIDE
    if name in ("utf-8", "utf8"):
        return "utf-8", None
    raise InputError(f"LEDES pipe files are written in cp1252 (ANSI), UTF-8 or ASCII, not "
                     f"{encoding!r}.")


def _field_texts(lines: pd.DataFrame, fmt: PipeFormat, notes: list[str]) -> list[np.ndarray]:
    """Each field of the format as texts, in order."""
    digits = np.array([money.minor_digits(c) for c in lines["currency"]], dtype=np.int64) \
        if len(lines) else np.zeros(0, dtype=np.int64)
    out = []
    with_tax = fmt.name != "1998B"
    for f in fmt.fields:
        values = lines[f.column]
        if f.kind == "date":
            out.append(format_dates(values.to_numpy()))
        elif f.kind == "units":
            out.append(format_scaled(values.to_numpy(), 3, min_decimals=2))
        elif f.kind == "rate":
            out.append(np.array([_fraction(p) for p in values], dtype=object))
        elif f.kind == "amount":
            column = values.to_numpy(dtype=np.int64)
            if f.column == "line_total_minor" and not with_tax:
                column = lines["amount_minor"].to_numpy(dtype=np.int64)
            if f.column == "invoice_total_minor" and not with_tax:
                column = lines["invoice_net_minor"].to_numpy(dtype=np.int64)
            texts = np.empty(len(column), dtype=object)
            for d in np.unique(digits):
                rows = digits == d
                texts[rows] = format_scaled(column[rows], int(d), decimals=int(d))
            if f.column == "unit_minor":  # an adjustment-style IF/IE line has no unit cost
                blank = (np.isin(lines["line_type"], ["IF", "IE"]) & (column == 0)
                         & (lines["adjustment_minor"].to_numpy() != 0))
                texts[blank] = ""
            out.append(texts)
        else:
            out.append(_one_line(values.to_numpy(dtype=object), f.name, notes))
    return out


#: What each change of :func:`_one_line` is called in the export's notes.
_CHANGES = (("'|' written as '/'", re.compile(r"\|")),
            ("'[' and ']' written as '(' and ')'", re.compile(r"[\[\]]")),
            ("line breaks and tabs written as spaces", re.compile(r"[\r\n\t\u2028\u2029]")),
            ("characters that do not show left out", HIDDEN))
_DELIMITERS = str.maketrans({"|": "/", "[": "(", "]": ")", "\t": " "})


def _one_line(text: np.ndarray, field_name: str, notes: list[str]) -> np.ndarray:
    """Text that cannot break the format (see the module's text), each change noted."""
    codes, uniques = pd.factorize(text)
    if not len(uniques) or not _RISKY.search(" ".join(uniques)):  # the usual field
        return text
    fixed = np.asarray(uniques, dtype=object).copy()
    risky = [i for i, u in enumerate(uniques) if _RISKY.search(u)]
    for label, pattern in _CHANGES:
        hit = [i for i in risky if pattern.search(uniques[i])]
        if hit:
            notes.append(f"{field_name}: {label} in {int(np.isin(codes, hit).sum())} line(s).")
    for i in risky:
        fixed[i] = _BREAKS.sub(" ", visible_text(fixed[i])).translate(_DELIMITERS)
    return fixed[codes]


_RISKY = re.compile(r"[|\[\]\r\n\t\u2028\u2029]|" + HIDDEN.pattern)


def _fraction(percent: str) -> str:
    value = money.D(percent or "0") / 100
    return "0" if value == 0 else f"{value.normalize():f}"


def _describe(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')})"


def _unencodable(lines: pd.DataFrame, fmt: PipeFormat, columns: list[np.ndarray],
                 name: str, encoding: str = "cp1252",
                 outside: re.Pattern = CP1252_OUTSIDE) -> InputError:
    problems, invoices = [], set()
    said = "cp1252 (ANSI)" if encoding == "cp1252" else encoding
    numbers = lines["invoice_number"].to_numpy(dtype=object)
    line_numbers = lines["line_item_number"].to_numpy(dtype=object)
    for f, texts in zip(fmt.fields, columns, strict=True):
        if f.kind != "text":
            continue
        codes, uniques = pd.factorize(texts)
        bad = [i for i, u in enumerate(uniques) if outside.search(u)]
        for i in bad:
            chars = "".join(dict.fromkeys(outside.findall(uniques[i])))
            for row in np.flatnonzero(codes == i):
                invoices.add(str(numbers[row]))
                problems.append(Problem(
                    name, int(row) + 3, f.name, chars,
                    f"invoice {numbers[row]} line {line_numbers[row]}: "
                    + ", ".join(_describe(c) for c in chars) + f" cannot be written in {said}"))
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return InputError(
        f"LEDES {fmt.name} for invoice {', '.join(sorted(invoices))} cannot be written in {said}"
        f": {len(problems)} field(s) hold characters it has no code for. Correct the "
        "text in the ledger's source, export with transliteration, or as UTF-8 if the portal "
        "reads it.", problems)


def transliterate(text: str, outside: re.Pattern = CP1252_OUTSIDE) -> str:
    """The nearest text an encoding holds (cp1252 by default; ``outside``: the characters it
    cannot hold): accents kept where it has them, others dropped or spelt, else ``?``."""
    return outside.sub(lambda m: _nearest(m.group(), outside), text)


def _nearest(char: str, outside: re.Pattern) -> str:
    if char in _SPECIAL and not outside.search(_SPECIAL[char]):
        return _SPECIAL[char]
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    if kept and not outside.search(kept):
        return kept
    return "?"

