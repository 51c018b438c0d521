"""LEDES XML E-Billing 2.1: write from canonical lines, read back into them, check the schema.

The file nests segments: ``firm > client > invoice > matter > tksum / fee / expense /
matter_disc_cred``. billxl maps its lines so: ``F`` lines are ``fee`` items, ``E`` lines
``expense`` items, and invoice-level ``IF``/``IE`` lines (fixed fees, cap write-downs, agreed
discounts) ``matter_disc_cred`` items for fees or expenses, with a signed amount. A fee's
``base_amount`` is units x rate, ``discount_amount`` what brings it to ``total_amount`` (the
line's adjustment with its sign turned); tax sits in each item's ``tax`` segment as a percentage.
The file is UTF-8. Text is escaped by lxml (``<``, ``&`` and quotes are never markup); the
characters that do not show (:data:`billxl.cells.HIDDEN`: bidirectional overrides, control
characters XML 1.0 cannot hold, zero-width spaces) are left out, each column's count in the
export's notes. Line breaks and tabs stay: XML holds them.

**The schema is not the official LEDES XSD.** No package registry carries it, so
``ledes_xml_2_1.xsd`` beside this module was written for billxl from the published 2.1 segment
structure and field names (its header says what it covers). Files are validated against it with
lxml; schema errors are findings (``SCHEMA``) with the line of the element at fault. Swap in the
official XSD (same root element) to check against it instead.
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd

from billxl import __version__ as _version
from billxl import money
from billxl.cells import visible_cells
from billxl.errors import InputError
from billxl.ledes.findings import NotLedesError, combine, found, no_findings
from billxl.ledes.formats import Field, Rendered
from billxl.ledes.lines import SCALE, LedesFile, typed_lines
from billxl.ledes.values import format_dates, format_scaled, parse_decimals

__all__ = ["render", "read", "ROOT", "schema_path"]

ROOT = "ledesxmlebilling21"
_OTHER_ROOTS = {"ledesxmlebilling2.0": "LEDES XML 2.0", "ledesxmlebilling20": "LEDES XML 2.0",
                "ledesxmlebilling22": "LEDES XML 2.2", "ledesxmlebilling2.2": "LEDES XML 2.2",
                "ledesxml2000": "LEDES 2000 XML"}

#: The elements billxl reads, as fields of the canonical frame (for the shared value checks).
XML_FIELDS = (
    Field("inv_date", "invoice_date", "date", True),
    Field("inv_id", "invoice_number", "text", True, 20),
    Field("cl_id", "client_id", "text", True, 20),
    Field("lf_matter_id", "law_firm_matter_id", "text", True, 20),
    Field("inv_total_net_due", "invoice_total_minor", "amount", True),
    Field("inv_start_date", "billing_start_date", "date"),
    Field("inv_end_date", "billing_end_date", "date"),
    Field("inv_desc", "invoice_description", "text", False, 15000),
    Field("item number in the invoice", "line_item_number", "text"),
    Field("item", "line_type", "type", True, 2),
    Field("units", "quantity_milli", "units", True),
    Field("discount_amount", "adjustment_minor", "amount"),
    Field("total_amount + tax_total", "line_total_minor", "amount", True),
    Field("charge_date", "line_item_date", "date", True),
    Field("task_code", "task_code", "text", False, 20),
    Field("expense_code", "expense_code", "text", False, 20),
    Field("activity_code", "activity_code", "text", False, 20),
    Field("tk_id", "timekeeper_id", "text", False, 20),
    Field("charge_desc", "line_item_description", "text", True, 15000),
    Field("lf_vendor_id", "law_firm_id", "text", True, 25),
    Field("rate", "unit_minor", "amount"),
    Field("tk_lname, tk_fname", "timekeeper_name", "text", False, 62),
    Field("tk_level", "timekeeper_classification", "text", False, 10),
    Field("cl_matter_id", "client_matter_id", "text", False, 20),
    Field("cl_tax_id", "client_tax_id", "text", False, 25),
    Field("matter_name", "matter_name", "text", False, 255),
    Field("inv_tax_total", "invoice_tax_minor", "amount", True),
    Field("inv_total_net_due - inv_tax_total", "invoice_net_minor", "amount"),
    Field("inv_currency", "currency", "text", True, 3),
    Field("tk_lname", "timekeeper_last_name", "text", False, 30),
    Field("tk_fname", "timekeeper_first_name", "text", False, 30),
    Field("lf_name", "law_firm_name", "text", True, 120),
    Field("cl_name", "client_name", "text", True, 120),
    Field("tax_rate_percent", "tax_percent", "percent"),
    Field("tax_total", "tax_minor", "amount"),
    Field("tax_type", "tax_type", "text", False, 20),
)
_ITEM = {"fee": "F", "expense": "E"}


def schema_path():
    """The XSD files are checked against (billxl's own; see the module docstring)."""
    return resources.files("billxl.ledes") / "ledes_xml_2_1.xsd"


def _etree():
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - lxml is a dependency of the LEDES XML support
        raise InputError("LEDES XML needs the lxml package: pip install lxml") from None
    return etree


# =================================================================================== writing
def _groups(keys: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """``rows`` split by their key, groups in order of first appearance, rows in order."""
    codes, _ = pd.factorize(keys[rows])
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(rows[order], cuts)


def render(lines: pd.DataFrame, *, name: str = "LEDES file"):
    """Canonical lines as a LEDES XML 2.1 document (UTF-8 bytes)."""
    etree = _etree()
    frame, notes = lines.reset_index(drop=True), []
    for column in frame.columns:  # lxml escapes markup; these it could not write at all
        if frame[column].dtype.kind not in "biufcmM":
            fixed, changed = visible_cells(frame[column].to_numpy(dtype=object))
            if changed.any():
                frame[column] = fixed
                notes.append(f"{column}: characters that do not show left out in "
                             f"{int(changed.sum())} line(s).")
    texts = _texts(frame)
    tksums = _tksums(frame)
    root = etree.Element(ROOT)
    counter = iter(range(1, 10 ** 9))

    def sub(parent, tag, text=None, *, optional=False):
        if optional and (text is None or text == ""):
            return None
        node = etree.SubElement(parent, tag)
        if text is not None:
            node.text = str(text)
        return node

    def address(parent, tag, prefix, row):
        values = [texts[f"{prefix}_{k}"][row] for k in
                  ("address_1", "address_2", "city", "region", "postcode", "country")]
        if any(values):
            node = sub(parent, tag)
            for value, element in zip(values, ("address_1", "address_2", "city",
                                               "state_province", "zip_postal_code", "country"),
                                      strict=True):
                sub(node, element, value, optional=True)

    everything = np.arange(len(frame))
    for firm_rows in _groups(texts["law_firm_id"], everything):
        r = firm_rows[0]
        firm = sub(root, "firm")
        sub(firm, "lf_vendor_id", texts["law_firm_id"][r])
        sub(firm, "lf_name", texts["law_firm_name"][r])
        address(firm, "lf_address", "law_firm", r)
        sub(firm, "source_app", "billxl")
        sub(firm, "app_version", _version)
        sub(firm, "file_item_nbr", next(counter))
        for client_rows in _groups(texts["client_id"], firm_rows):
            r = client_rows[0]
            client = sub(firm, "client")
            sub(client, "cl_id", texts["client_id"][r])
            sub(client, "cl_name", texts["client_name"][r])
            address(client, "cl_address", "client", r)
            sub(client, "cl_tax_id", texts["client_tax_id"][r], optional=True)
            sub(client, "file_item_nbr", next(counter))
            for invoice_rows in _groups(texts["invoice_number"], client_rows):
                r = invoice_rows[0]
                invoice = sub(client, "invoice")
                sub(invoice, "inv_id", texts["invoice_number"][r])
                sub(invoice, "inv_date", texts["invoice_date"][r])
                sub(invoice, "inv_currency", texts["currency"][r])
                sub(invoice, "inv_desc", texts["invoice_description"][r], optional=True)
                sub(invoice, "inv_start_date", texts["billing_start_date"][r], optional=True)
                sub(invoice, "inv_end_date", texts["billing_end_date"][r], optional=True)
                sub(invoice, "inv_tax_total", texts["invoice_tax_minor"][r])
                sub(invoice, "inv_total_net_due", texts["invoice_total_minor"][r])
                sub(invoice, "file_item_nbr", next(counter))
                for matter_rows in _groups(texts["law_firm_matter_id"], invoice_rows):
                    _matter(sub, invoice, matter_rows, texts, tksums, counter)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Rendered(data, "XML21", "utf-8", notes)


def _tksums(frame: pd.DataFrame) -> dict[tuple[str, str], list[tuple]]:
    """Hours and fees per timekeeper, rate and level, for each (invoice, matter)."""
    fees = frame[(frame["line_type"] == "F") & (frame["timekeeper_id"] != "")]
    if fees.empty:
        return {}
    keys = ["invoice_number", "law_firm_matter_id", "timekeeper_id", "unit_minor",
            "timekeeper_classification"]
    summary = (fees.assign(row=fees.index).groupby(keys, sort=False)
               .agg(row=("row", "first"), hours=("quantity_milli", "sum"),
                    fee=("amount_minor", "sum")).reset_index())
    digits = np.array([money.minor_digits(c) for c in frame["currency"].to_numpy()[
        summary["row"].to_numpy()]], dtype=np.int64)
    rate = _money(summary["unit_minor"].to_numpy(dtype=np.int64), digits)
    fee = _money(summary["fee"].to_numpy(dtype=np.int64), digits)
    hours = format_scaled(summary["hours"].to_numpy(), 3, min_decimals=2)
    out: dict[tuple[str, str], list[tuple]] = {}
    for i, row in enumerate(summary.itertuples(index=False)):
        out.setdefault((row.invoice_number, row.law_firm_matter_id), []).append(
            (row.timekeeper_id, int(row.row), row.timekeeper_classification, rate[i], hours[i],
             fee[i]))
    return out


def _matter(sub, invoice, rows: np.ndarray, texts: dict, tksums: dict, counter) -> None:
    r = rows[0]
    matter = sub(invoice, "matter")
    sub(matter, "lf_matter_id", texts["law_firm_matter_id"][r])
    sub(matter, "cl_matter_id", texts["client_matter_id"][r], optional=True)
    sub(matter, "matter_name", texts["matter_name"][r], optional=True)
    sub(matter, "file_item_nbr", next(counter))
    for tk, i, level, rate, hours, fee in tksums.get(
            (texts["invoice_number"][r], texts["law_firm_matter_id"][r]), []):
        last, first = texts["timekeeper_last_name"][i], texts["timekeeper_first_name"][i]
        if not (last or first):
            last, first = _split_name(texts["timekeeper_name"][i])
        tksum = sub(matter, "tksum")
        for tag, value in (("tk_id", tk), ("tk_lname", last), ("tk_fname", first),
                           ("tk_level", level), ("tk_rate", rate), ("tk_hours", hours),
                           ("tk_fee", fee), ("file_item_nbr", next(counter))):
            sub(tksum, tag, value)
    kinds = texts["line_type"][rows]
    for kind in ("F", "E"):
        for i in rows[kinds == kind]:
            item = sub(matter, "fee" if kind == "F" else "expense")
            sub(item, "charge_date", texts["line_item_date"][i])
            sub(item, "tk_id", texts["timekeeper_id"][i], optional=True)
            if kind == "F":
                sub(item, "tk_level", texts["timekeeper_classification"][i], optional=True)
                sub(item, "task_code", texts["task_code"][i], optional=True)
                sub(item, "activity_code", texts["activity_code"][i], optional=True)
            else:
                sub(item, "expense_code", texts["expense_code"][i], optional=True)
            sub(item, "charge_desc", texts["line_item_description"][i])
            sub(item, "units", texts["quantity_milli"][i])
            sub(item, "rate", texts["unit_minor"][i])
            sub(item, "base_amount", texts["base_amount"][i])
            sub(item, "discount_amount", texts["discount_amount"][i])
            sub(item, "total_amount", texts["amount_minor"][i])
            _tax(sub, item, texts, i)
            sub(item, "file_item_nbr", next(counter))
    for i in rows[np.isin(kinds, ["IF", "IE"])]:
        item = sub(matter, "matter_disc_cred")
        sub(item, "disc_cred_date", texts["line_item_date"][i], optional=True)
        sub(item, "disc_cred_fees_exp", "F" if texts["line_type"][i] == "IF" else "E")
        sub(item, "disc_cred_desc", texts["line_item_description"][i])
        if texts["adjustment_raw"][i] == 0 or texts["unit_raw"][i] != 0:  # unit-cost style
            sub(item, "units", texts["quantity_milli"][i])
            sub(item, "rate", texts["unit_minor"][i])
        sub(item, "disc_cred_amount", texts["amount_minor"][i])
        _tax(sub, item, texts, i)
        sub(item, "file_item_nbr", next(counter))


def _tax(sub, item, texts: dict, i: int) -> None:
    if texts["tax_percent"][i] not in ("", "0") or texts["tax_minor_raw"][i] != 0:
        tax = sub(item, "tax")
        sub(tax, "tax_type", texts["tax_type"][i] or "TAX")
        sub(tax, "tax_rate_percent", texts["tax_percent"][i] or "0")
        sub(tax, "tax_total", texts["tax_minor"][i])


def _split_name(name: str) -> tuple[str, str]:
    last, _, first = name.partition(",")
    return last.strip(), first.strip()


def _texts(lines: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every value the document needs, as text, computed column by column."""
    n = len(lines)
    digits = np.array([money.minor_digits(c) for c in lines["currency"]], dtype=np.int64) \
        if n else np.zeros(0, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for column in lines.columns:
        values = lines[column]
        if column in ("invoice_date", "billing_start_date", "billing_end_date", "line_item_date"):
            out[column] = format_dates(values.to_numpy())
        elif column == "quantity_milli":
            out[column] = format_scaled(values.to_numpy(), 3, min_decimals=2)
        elif column.endswith("_minor"):
            out[column] = _money(values.to_numpy(dtype=np.int64), digits)
        else:
            out[column] = values.to_numpy(dtype=object)
    amount = lines["amount_minor"].to_numpy(dtype=np.int64)
    adjustment = lines["adjustment_minor"].to_numpy(dtype=np.int64)
    out["base_amount"] = _money(amount - adjustment, digits)
    out["discount_amount"] = _money(-adjustment, digits)
    out["tax_minor_raw"] = lines["tax_minor"].to_numpy(dtype=np.int64)
    out["adjustment_raw"] = adjustment
    out["unit_raw"] = lines["unit_minor"].to_numpy(dtype=np.int64)
    return out


def _money(values: np.ndarray, digits: np.ndarray) -> np.ndarray:
    texts = np.empty(len(values), dtype=object)
    for d in np.unique(digits):
        rows = digits == d
        texts[rows] = format_scaled(values[rows], int(d), decimals=int(d))
    return texts


# =================================================================================== reading
def read(data: bytes, *, name: str = "<bytes>", encoding: str = "utf-8") -> LedesFile:
    """A LEDES XML 2.1 document as a :class:`LedesFile` (schema errors are findings)."""
    etree = _etree()
    head = data[:2000].decode("utf-8", errors="replace")
    root_tag = re.search(r"<\s*([A-Za-z_][\w.\-]*)[\s>/]", re.sub(r"<\?.*?\?>|<!--.*?-->", "",
                                                                  head, flags=re.S))
    tag = root_tag.group(1) if root_tag else ""
    if tag.lower() in _OTHER_ROOTS:
        raise NotLedesError(f"{name} is a {_OTHER_ROOTS[tag.lower()]} file; billxl reads LEDES "
                            "XML 2.1 (and the 1998B and 98BI V2 pipe formats).")
    if tag != ROOT:
        raise NotLedesError(f"{name} is not a LEDES file: it is XML whose root element is "
                            f"<{tag or '?'}>, where LEDES XML 2.1 has <{ROOT}>.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    try:
        doc = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.lineno or 1
        # an error on the last line means the document stops short of its closing tags
        truncated = line >= data.rstrip().count(b"\n") + 1 or "premature" in str(error).lower()
        findings = found("TRUNCATED" if truncated else "SCHEMA", [line], "",
                         f"The file stops before the end of the XML document ({error.msg})."
                         if truncated else f"The XML cannot be read: {error.msg}.",
                         "Export or download the file again." if truncated else
                         "Correct the XML at that line.")
        return _empty(name, findings, line)
    schema = etree.XMLSchema(etree.parse(str(schema_path())))
    schema_findings = []
    if not schema.validate(doc):
        rows = [(e.line, e.path.rsplit("/", 1)[-1].split("[")[0] if e.path else "",
                 e.message) for e in schema.error_log]
        schema_findings.append(found("SCHEMA", [r[0] for r in rows], [r[1] for r in rows],
                                     [m.rstrip(".") + "." for _, _, m in rows],
                                     "Correct the element as the LEDES XML 2.1 schema has it."))
    raw, line_numbers = _items(doc)
    labels = {f.column: f.name for f in XML_FIELDS}
    lines, exact, digits, value_findings, unreadable = typed_lines(
        raw, list(XML_FIELDS), line_numbers, labels, has_currency=True, has_tax=True)
    base_findings = _base_amounts(raw, exact, lines, digits)
    file = LedesFile(format="XML21", encoding="utf-8" if encoding == "ascii" else encoding,
                     name=name, lines=lines, raw=raw, exact=exact, digits=digits, labels=labels,
                     findings=combine([*schema_findings, value_findings, base_findings]),
                     unreadable=unreadable, last_line=int(data.count(b"\n")) + 1,
                     extra={"first_non_ascii_line": None})
    if file.lines.empty and not len(schema_findings):
        file.findings = combine([file.findings, found("NO_LINES", [1], "", "The file has no "
                                                      "fee, expense or discount items.",
                                                      "Export the invoice again.")])
    return file


def _empty(name: str, findings: pd.DataFrame, line: int) -> LedesFile:
    raw = pd.DataFrame({f.column: pd.Series(dtype=object) for f in XML_FIELDS})
    lines, exact, digits, _, unreadable = typed_lines(raw, list(XML_FIELDS), np.zeros(0),
                                                      {f.column: f.name for f in XML_FIELDS})
    return LedesFile("XML21", "utf-8", name, lines, raw, exact, digits,
                     {f.column: f.name for f in XML_FIELDS}, findings, unreadable=unreadable,
                     last_line=line)


def _text(node, tag: str) -> str:
    child = node.find(tag)
    return "" if child is None or child.text is None else child.text.strip()


def _items(doc) -> tuple[pd.DataFrame, np.ndarray]:
    """One row of canonical text columns per fee, expense and discount/credit item."""
    rows, line_numbers = [], []
    for firm in doc.iterfind("firm"):
        firm_values = {"law_firm_id": _text(firm, "lf_vendor_id"),
                       "law_firm_name": _text(firm, "lf_name")}
        for client in firm.iterfind("client"):
            client_values = {"client_id": _text(client, "cl_id"),
                             "client_name": _text(client, "cl_name"),
                             "client_tax_id": _text(client, "cl_tax_id")}
            for invoice in client.iterfind("invoice"):
                tax_total = _text(invoice, "inv_tax_total")
                total = _text(invoice, "inv_total_net_due")
                invoice_values = {
                    "invoice_number": _text(invoice, "inv_id"),
                    "invoice_date": _text(invoice, "inv_date"),
                    "currency": _text(invoice, "inv_currency"),
                    "invoice_description": _text(invoice, "inv_desc"),
                    "billing_start_date": _text(invoice, "inv_start_date"),
                    "billing_end_date": _text(invoice, "inv_end_date"),
                    "invoice_tax_minor": tax_total, "invoice_total_minor": total}
                number = 0
                for matter in invoice.iterfind("matter"):
                    people = {_text(s, "tk_id"): (_text(s, "tk_lname"), _text(s, "tk_fname"))
                              for s in matter.iterfind("tksum")}
                    matter_values = {"law_firm_matter_id": _text(matter, "lf_matter_id"),
                                     "client_matter_id": _text(matter, "cl_matter_id"),
                                     "matter_name": _text(matter, "matter_name")}
                    for item in matter:
                        if item.tag not in ("fee", "expense", "matter_disc_cred"):
                            continue
                        number += 1
                        values = {**firm_values, **client_values, **invoice_values,
                                  **matter_values, "line_item_number": str(number)}
                        values.update(_item(item, people))
                        rows.append(values)
                        line_numbers.append(item.sourceline or 0)
    columns = [f.column for f in XML_FIELDS] + ["base_amount", "total_amount"]
    raw = pd.DataFrame(rows, columns=columns, dtype=object).fillna("")
    # the canonical line total includes the item's tax; the net total is the total less tax
    raw["line_total_minor"] = _combined(raw["total_amount"], raw["tax_minor"], +1)
    raw["invoice_net_minor"] = _combined(raw["invoice_total_minor"], raw["invoice_tax_minor"], -1)
    return raw, np.asarray(line_numbers, dtype=np.int64)


def _children(node) -> dict[str, str]:
    """A segment's simple fields by tag (read once: cheaper than a find per field)."""
    return {child.tag: (child.text or "").strip() for child in node}


def _item(item, people: dict) -> dict:
    f = _children(item)
    tax = item.find("tax")
    t = _children(tax) if tax is not None else {}
    tax_values = {"tax_percent": t.get("tax_rate_percent", ""),
                  "tax_minor": t.get("tax_total", ""), "tax_type": t.get("tax_type", "")}
    if item.tag == "matter_disc_cred":
        rate, amount = f.get("rate", ""), f.get("disc_cred_amount", "")
        return {"line_type": "IE" if f.get("disc_cred_fees_exp") == "E" else "IF",
                "line_item_date": f.get("disc_cred_date", ""),
                "line_item_description": f.get("disc_cred_desc", ""),
                "quantity_milli": f.get("units") or "1", "unit_minor": rate,
                "adjustment_minor": "" if rate else amount, "total_amount": amount,
                **tax_values}
    tk = f.get("tk_id", "")
    last, first = people.get(tk, ("", ""))
    return {"line_type": _ITEM[item.tag], "line_item_date": f.get("charge_date", ""),
            "timekeeper_id": tk, "timekeeper_classification": f.get("tk_level", ""),
            "timekeeper_name": f"{last}, {first}" if last or first else "",
            "timekeeper_last_name": last, "timekeeper_first_name": first,
            "task_code": f.get("task_code", ""), "activity_code": f.get("activity_code", ""),
            "expense_code": f.get("expense_code", ""),
            "line_item_description": f.get("charge_desc", ""),
            "quantity_milli": f.get("units", ""), "unit_minor": f.get("rate", ""),
            "adjustment_minor": _negated(f.get("discount_amount", "")),
            "base_amount": f.get("base_amount", ""), "total_amount": f.get("total_amount", ""),
            **tax_values}


def _combined(a: pd.Series, b: pd.Series, sign: int) -> np.ndarray:
    """``a + sign * b`` as decimal text, exactly; ``a`` as written where either does not read
    (the value checks report it)."""
    left = parse_decimals(a.to_numpy(dtype=object), SCALE)
    right = parse_decimals(b.to_numpy(dtype=object), SCALE)
    ok = (left.valid | left.blank) & (right.valid | right.blank) & ~left.blank
    text = format_scaled(left.value + sign * right.value, SCALE)
    return np.where(ok, text, a.to_numpy(dtype=object)).astype(object)


def _negated(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    return text[1:] if text.startswith("-") else f"-{text.lstrip('+')}"


def _base_amounts(raw: pd.DataFrame, exact: dict, lines: pd.DataFrame,
                  digits: np.ndarray) -> pd.DataFrame:
    """A fee's or expense's base_amount is its total_amount plus its discount_amount."""
    if "base_amount" not in raw or lines.empty:
        return no_findings()
    has_base = (raw["base_amount"] != "").to_numpy()
    base = parse_decimals(raw["base_amount"].to_numpy(dtype=object), SCALE)
    total = parse_decimals(raw["total_amount"].fillna("").to_numpy(dtype=object), SCALE)
    bad = has_base & base.valid & total.valid & (
        base.value != total.value - exact["adjustment_minor"])
    rows = np.flatnonzero(bad)
    if not len(rows):
        return no_findings()
    return found("LINE_TOTAL", lines["line"].to_numpy()[rows], "base_amount",
                 [f"base_amount is {b} but total_amount {t} + discount_amount {d} = "
                  f"{format_scaled([tv - a], SCALE, min_decimals=int(g))[0]}."
                  for b, t, d, tv, a, g in zip(
                      raw["base_amount"].to_numpy()[rows], raw["total_amount"].to_numpy()[rows],
                      raw["discount_amount"].to_numpy()[rows] if "discount_amount" in raw
                      else [""] * len(rows), total.value[rows],
                      exact["adjustment_minor"][rows], digits[rows], strict=True)],
                 "Write base_amount as units x rate, and total_amount as base_amount less "
                 "discount_amount.", lines["invoice_number"].to_numpy()[rows])
