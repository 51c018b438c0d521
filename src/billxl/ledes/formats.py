"""The LEDES formats billxl reads and writes, as data: header lines, fields, types and limits.

* **LEDES 1998B** — header ``LEDES1998B[]``, then the 24 field names, then one line per invoice
  line item; fields separated by ``|``, each line ended by ``[]``. Dates are ``YYYYMMDD``;
  ``LINE_ITEM_TOTAL = LINE_ITEM_NUMBER_OF_UNITS x LINE_ITEM_UNIT_COST +
  LINE_ITEM_ADJUSTMENT_AMOUNT``; ``INVOICE_TOTAL`` is repeated on every line and is the sum of
  the invoice's line totals. No tax and no currency.
* **LEDES 98BI V2** — header ``LEDES98BI V2[]``: the same 24 fields and 28 more for tax,
  currency, names and addresses. Line totals *include* tax
  (``units x cost + adjustment + LINE_ITEM_TAX_TOTAL``); ``INVOICE_NET_TOTAL = INVOICE_TOTAL -
  INVOICE_TAX_TOTAL``; ``LINE_ITEM_TAX_RATE`` is a fraction (0.2 for 20%).
* **LEDES XML 2.1** — nested segments, see :mod:`billxl.ledes.xml21`.

Field lengths and number sizes (``14.2``: up to 14 digits before the point and 2 after, as the
published field tables write it; ``10.4`` for units and unit costs) are what the formats allow;
portals often allow less, and say so in their profiles (:mod:`billxl.ledes.portals`).

Every parsed or written file goes through one *canonical* frame of line items (``LINE_COLUMNS``):
text columns in snake case, dates as ``datetime64``, amounts as int64 minor units of the
invoice's currency, quantities as int64 thousandths, and the line's own amount before tax in
``amount_minor`` (as in the ledger's ``invoice_lines``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Field", "PipeFormat", "FORMATS", "FORMAT_NAMES", "FormatName", "LINE_TYPES",
           "TEXT_COLUMNS", "DATE_COLUMNS", "INT_COLUMNS", "LINE_COLUMNS", "column_of",
           "format_named", "Rendered", "CLASSIFICATIONS", "ACCOUNT_TYPES"]

FormatName = Literal["1998B", "98BI", "XML21"]
FORMAT_NAMES: tuple[str, ...] = ("1998B", "98BI", "XML21")
LINE_TYPES = ("F", "E", "IF", "IE")

Kind = Literal["text", "date", "amount", "units", "rate", "percent", "type"]


@dataclass(frozen=True)
class Field:
    """One pipe-format field: its name in the file, the canonical column it fills, its kind,
    whether a blank is an error, and its size (characters for text, digits for numbers)."""

    name: str
    column: str
    kind: Kind = "text"
    required: bool = False
    length: int | None = None  # text: characters
    int_digits: int = 14  # numbers: digits before the point
    decimals: int = 4  # numbers: digits after the point the format allows
    invoice_level: bool = False  # the same on every line of an invoice


@dataclass(frozen=True)
class PipeFormat:
    """A pipe-delimited LEDES format: its header line and its fields, in order."""

    name: str
    header: str  # first line, without the [] terminator
    fields: tuple[Field, ...]
    title: str

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def field_names_line(self) -> str:
        return "|".join(self.names)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def _text(name: str, column: str, length: int, required: bool = False,
          invoice_level: bool = False) -> Field:
    return Field(name, column, "text", required, length, invoice_level=invoice_level)


_1998B_FIELDS = (
    Field("INVOICE_DATE", "invoice_date", "date", True, invoice_level=True),
    _text("INVOICE_NUMBER", "invoice_number", 20, True, True),
    _text("CLIENT_ID", "client_id", 20, True, True),
    _text("LAW_FIRM_MATTER_ID", "law_firm_matter_id", 20, True, True),  # one matter an invoice
    Field("INVOICE_TOTAL", "invoice_total_minor", "amount", True, int_digits=14, decimals=2,
          invoice_level=True),
    Field("BILLING_START_DATE", "billing_start_date", "date", invoice_level=True),
    Field("BILLING_END_DATE", "billing_end_date", "date", invoice_level=True),
    _text("INVOICE_DESCRIPTION", "invoice_description", 15000),
    _text("LINE_ITEM_NUMBER", "line_item_number", 20, True),
    Field("EXP/FEE/INV_ADJ_TYPE", "line_type", "type", True, 2),
    Field("LINE_ITEM_NUMBER_OF_UNITS", "quantity_milli", "units", True, int_digits=10),
    Field("LINE_ITEM_ADJUSTMENT_AMOUNT", "adjustment_minor", "amount", int_digits=10),
    Field("LINE_ITEM_TOTAL", "line_total_minor", "amount", True, int_digits=14, decimals=2),
    Field("LINE_ITEM_DATE", "line_item_date", "date", True),
    _text("LINE_ITEM_TASK_CODE", "task_code", 20),
    _text("LINE_ITEM_EXPENSE_CODE", "expense_code", 20),
    _text("LINE_ITEM_ACTIVITY_CODE", "activity_code", 20),
    _text("TIMEKEEPER_ID", "timekeeper_id", 20),
    _text("LINE_ITEM_DESCRIPTION", "line_item_description", 15000, True),
    _text("LAW_FIRM_ID", "law_firm_id", 20, True, True),
    Field("LINE_ITEM_UNIT_COST", "unit_minor", "amount", int_digits=10),
    _text("TIMEKEEPER_NAME", "timekeeper_name", 30),
    _text("TIMEKEEPER_CLASSIFICATION", "timekeeper_classification", 10),
    _text("CLIENT_MATTER_ID", "client_matter_id", 20, invoice_level=True),
)

def _name_and_address(who: str, column: str) -> tuple[Field, ...]:
    """The law firm's or the client's name and address, as 98BI repeats them on every line."""
    return tuple(_text(f"{who}_{name}", f"{column}_{part}", length, name == "NAME", True)
                 for name, part, length in (
                     ("NAME", "name", 60), ("ADDRESS_1", "address_1", 60),
                     ("ADDRESS_2", "address_2", 60), ("CITY", "city", 30),
                     ("STATEorREGION", "region", 20), ("POSTCODE", "postcode", 20),
                     ("COUNTRY", "country", 3)))


_98BI_EXTRA = (
    _text("PO_NUMBER", "po_number", 100, invoice_level=True),
    _text("CLIENT_TAX_ID", "client_tax_id", 20, invoice_level=True),
    _text("MATTER_NAME", "matter_name", 255, invoice_level=True),
    Field("INVOICE_TAX_TOTAL", "invoice_tax_minor", "amount", True, int_digits=14, decimals=2,
          invoice_level=True),
    Field("INVOICE_NET_TOTAL", "invoice_net_minor", "amount", True, int_digits=14, decimals=2,
          invoice_level=True),
    _text("INVOICE_CURRENCY", "currency", 3, True, True),
    _text("TIMEKEEPER_LAST_NAME", "timekeeper_last_name", 30),
    _text("TIMEKEEPER_FIRST_NAME", "timekeeper_first_name", 20),
    _text("ACCOUNT_TYPE", "account_type", 1),
    *_name_and_address("LAW_FIRM", "law_firm"),
    *_name_and_address("CLIENT", "client"),
    Field("LINE_ITEM_TAX_RATE", "tax_percent", "rate", decimals=6, int_digits=3),
    Field("LINE_ITEM_TAX_TOTAL", "tax_minor", "amount", int_digits=14, decimals=2),
    _text("LINE_ITEM_TAX_TYPE", "tax_type", 20),
    Field("INVOICE_REPORTED_TAX_TOTAL", "reported_tax_minor", "amount", int_digits=14,
          decimals=2, invoice_level=True),
    _text("INVOICE_TAX_CURRENCY", "tax_currency", 3, invoice_level=True),
)

LEDES_1998B = PipeFormat("1998B", "LEDES1998B", _1998B_FIELDS, "LEDES 1998B")
LEDES_98BI = PipeFormat("98BI", "LEDES98BI V2", _1998B_FIELDS + _98BI_EXTRA, "LEDES 98BI V2")

#: The pipe formats by name.
FORMATS: dict[str, PipeFormat] = {"1998B": LEDES_1998B, "98BI": LEDES_98BI}

_ALIASES = {"1998B": "1998B", "LEDES1998B": "1998B", "98B": "1998B", "98BI": "98BI",
            "98BIV2": "98BI", "LEDES98BI": "98BI", "LEDES98BIV2": "98BI", "XML21": "XML21",
            "XML2.1": "XML21", "LEDESXML21": "XML21"}


def format_named(name: str) -> str:
    """A format's canonical name from what a user typed ('1998b', '98BI V2', 'xml2.1')."""
    key = "".join(str(name).split()).upper().replace("_", "")
    if key not in _ALIASES:
        raise ValueError(f"{name!r} is not a LEDES format billxl writes: use 1998B, 98BI or XML21")
    return _ALIASES[key]


def column_of(field_name: str) -> str:
    """The canonical column a pipe-format field fills."""
    return LEDES_98BI.field(field_name).column


#: Timekeeper classifications billxl knows: the six it uses itself (PARTNR, ASSOC, OFCOUN,
#: PARLGL, LGLAST, OTHER) and the LEDES timekeeper classification codes as the Lexitree LEDES
#: validator (MIT) lists them. A firm's own codes are a warning, not an error: portals differ.
CLASSIFICATIONS: frozenset[str] = frozenset((
    "PARTNR", "ASSOC", "OFCOUN", "PARLGL", "LGLAST", "OTHER", "ADJSTR", "ADJSMT", "ANALST",
    "ARBITR", "TRANEE", "AUDITR", "CLKSEC", "CONSLT", "TEMPAT", "TEMPOS", "CSTCNS", "CTRPTR",
    "DSCATT", "DSCPMG", "DSCANJ", "DSCANS", "DOCCDR", "DOCRAT", "DOCRNA", "EVDEVL", "EXPERT",
    "FLTFEE", "FORANL", "HLNLPF", "INVSTG", "IPSVPV", "IPAGNT", "LGLINT", "LGPRMG", "LIBRRN",
    "MEDITR", "MDRCRV", "NBOTHR", "PARALG", "RSRCHR", "RSPROF", "SECNDE", "SPAGNT", "SOLDSG",
    "STFATT", "STFCNS", "TPADMN", "TRAINR", "TRNDEV", "TRNFAG", "TRANSL", "VIDOGR",
))

#: 98BI ACCOUNT_TYPE: the firm's operating account or its trust account.
ACCOUNT_TYPES = {"O": "operating account", "T": "trust account"}


#: The canonical frame of line items every reader returns and every writer takes.
TEXT_COLUMNS = [
    "invoice_number", "client_id", "law_firm_matter_id", "client_matter_id", "law_firm_id",
    "invoice_description", "line_item_number", "line_type", "task_code", "expense_code",
    "activity_code", "timekeeper_id", "timekeeper_name", "timekeeper_classification",
    "line_item_description", "currency", "tax_percent", "tax_type", "po_number",
    "client_tax_id", "matter_name", "timekeeper_last_name", "timekeeper_first_name",
    "account_type", "law_firm_name", "law_firm_address_1", "law_firm_address_2",
    "law_firm_city", "law_firm_region", "law_firm_postcode", "law_firm_country", "client_name",
    "client_address_1", "client_address_2", "client_city", "client_region", "client_postcode",
    "client_country", "tax_currency",
]
DATE_COLUMNS = ["invoice_date", "billing_start_date", "billing_end_date", "line_item_date"]
INT_COLUMNS = [
    "quantity_milli", "unit_minor", "adjustment_minor", "amount_minor", "tax_minor",
    "line_total_minor", "invoice_total_minor", "invoice_tax_minor", "invoice_net_minor",
    "reported_tax_minor",
]
LINE_COLUMNS = ["line", *TEXT_COLUMNS, *DATE_COLUMNS, *INT_COLUMNS]


@dataclass
class Rendered:
    """A LEDES file in bytes, and what was changed to make it fit the format."""

    data: bytes
    format: str
    encoding: str
    notes: list[str] = field(default_factory=list)
