"""The billing workbook's layout: its sheets, its Excel tables and the Billing ribbon's buttons.

One description, read by everything that touches the workbook: ``billxl workbook build`` builds
the file from it (tables, number formats, widths, frozen headers, drop-down lists), the ribbon
commands (:mod:`billxl.excel.commands`) read and write its tables by name through a book
(:mod:`billxl.excel.book`), and the worksheet functions find the ledger on its Settings sheet.

Every data sheet holds **one Excel table** whose header row is :data:`HEADER_ROW` (rows above it
are a title and a one-line hint). A table is addressed by its name; its columns by their header
text, so a secretary may reorder columns or add her own to the right without breaking a command.
Each column has a *kind* that fixes how a cell is written and shown:

==========  ================================================================================
kind        cell
==========  ================================================================================
text        text; a value that starts with ``= + - @`` is written with a quote prefix
wrap        long text, wrapped (narratives, findings)
code        an identifier kept as text (``@`` format), so ``1001`` stays ``1001``
money       a number with two decimals, from integer minor units (exact to the cent)
hours       a number with up to three decimals (thousandths of an hour)
int         a whole number
date        a date (``yyyy-mm-dd``)
severity    text (error / warning / info) coloured by its value
==========  ================================================================================

Drop-down lists (data validation) take their values from the tables of the hidden **Lists**
sheet through the defined names in :data:`LISTS` (``=list_clients`` and so on): a defined name
that refers to a table column grows with the table, so a command that rewrites a list table
(:func:`billxl.excel.commands.import_time` refreshes clients and matters from the ledger)
updates every drop-down. The build applies each validation from the first data row down
:data:`VALIDATION_ROWS` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from billxl.billing.schedule_builder import FREQUENCIES as _STEPS
from billxl.billing.schedule_builder import KINDS as _SCHEDULE_KINDS
from billxl.billing.vocabulary import ACTIONS, REASON_CODES
from billxl.cells import quote_prefixed

#: The Schedules sheet's kinds and frequencies (the builder's), with what each means.
SCHEDULE_KINDS = dict(zip(_SCHEDULE_KINDS, (
    "a share of a total, on a date (Count and Frequency: the total split)",
    "an amount each period (Count and Frequency: that many periods)",
    "a share of the fixed fee (Percent) or an amount, when its Trigger happens"), strict=True))
FREQUENCIES = dict(zip(_STEPS, ("every month", "every three months", "every year"),
                       strict=True))

__all__ = [
    "KINDS", "NUMBER_FORMATS", "SEVERITY_FILLS", "STATUS_CELL", "HEADER_ROW", "VALIDATION_ROWS", "Column",
    "Table", "Sheet", "Setting", "Command", "ListSource", "SHEETS", "TABLES", "SETTINGS",
    "XLWINGS_CONF", "LISTS", "COMMANDS", "INSTRUCTIONS", "RIBBON_TAB", "DISPATCHER",
    "table", "sheet_of", "setting", "command", "formula_like",
]

KINDS = ("text", "wrap", "code", "money", "hours", "int", "date", "severity")
#: Excel number format per kind (``General`` where Excel's own display is right).
NUMBER_FORMATS = {
    "text": "General", "wrap": "General", "severity": "General", "code": "@",
    "money": "#,##0.00", "hours": "0.00#", "int": "#,##0", "date": "yyyy-mm-dd",
}
#: Fill colour of a severity cell (the exceptions workbook uses the same).
SEVERITY_FILLS = {"error": "F8CBAD", "warning": "FFE699", "info": "DDEBF7"}
HEADER_FILL = "1F3864"
HEADER_FONT = "FFFFFF"
INPUT_FILL = "FFF2CC"  # a column the secretary types into

#: Where every command says what it did (or why it did nothing): the Instructions sheet's A2.
STATUS_CELL = ("Instructions", "A2")
HEADER_ROW = 3  # title in row 1, hint in row 2, headers in row 3, data from row 4
VALIDATION_ROWS = 10_000

#: True for text that must carry a quote prefix to stay text when the cell is edited (the one
#: rule, :func:`billxl.cells.quote_prefixed`).
formula_like = quote_prefixed


@dataclass(frozen=True)
class Column:
    header: str  # as shown in the header row; commands find columns by it
    field: str  # the engine's name for the value (canonical column, frame column)
    kind: str = "text"
    width: float = 12
    validation: str | None = None  # a key of LISTS: the drop-down for this column
    input: bool = False  # the secretary types here (shaded like the pre-bill's edit columns)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.header!r}: unknown kind {self.kind!r}")

    @property
    def number_format(self) -> str:
        return NUMBER_FORMATS[self.kind]


@dataclass(frozen=True)
class Table:
    name: str  # the Excel table (ListObject) name
    sheet: str
    columns: tuple[Column, ...]
    hint: str = ""  # row 2 of the sheet

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, header_or_field: str) -> Column:
        for c in self.columns:
            if header_or_field in (c.header, c.field):
                return c
        raise KeyError(f"table {self.name} has no column {header_or_field!r}")

    def header_of(self, field_: str) -> str:
        return self.column(field_).header


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    tables: tuple[str, ...] = ()  # the tables on the sheet (one, except on Lists: side by side)
    hidden: bool = False
    tab_colour: str | None = None


@dataclass(frozen=True)
class Setting:
    key: str  # the name commands and worksheet functions use
    label: str  # what the Settings sheet shows in its Setting column
    default: str = ""
    meaning: str = ""


@dataclass(frozen=True)
class Command:
    id: str  # the ribbon button's id, passed to Python by the VBA dispatcher
    label: str
    screentip: str
    image: str  # an Office built-in imageMso for the button
    reads: tuple[str, ...] = ()  # tables (and settings) it reads
    writes: tuple[str, ...] = ()  # tables it writes
    group: str = "Cycle"


@dataclass(frozen=True)
class ListSource:
    name: str  # the defined name a validation refers to (=list_clients)
    table: str  # the table on the Lists sheet that holds the values
    column: str  # its column header
    values: tuple[str, ...] = ()  # fixed values written by the build (empty: from the ledger)


def _c(header, field_, kind="text", width=12, validation=None, input=False) -> Column:  # noqa: A002
    return Column(header, field_, kind, width, validation, input)


# ------------------------------------------------------------------------------------ tables
_TIME = (
    _c("Entry id", "entry_id", "code", 16, input=True),
    _c("Date", "date", "date", 11, input=True),
    _c("Timekeeper", "timekeeper_id", "code", 11, input=True),
    _c("Timekeeper name", "timekeeper_name", "text", 20, input=True),
    _c("Class", "timekeeper_class", "code", 8, input=True),
    _c("Matter", "matter_id", "code", 13, "matters", input=True),
    _c("Client", "client_id", "code", 9, "clients", input=True),
    _c("Hours", "hours", "hours", 7, input=True),
    _c("Rate", "rate", "money", 10, input=True),
    _c("Amount", "amount", "money", 11, input=True),
    _c("Task", "task_code", "code", 7, "utbms_tasks", input=True),
    _c("Activity", "activity_code", "code", 8, "utbms_activities", input=True),
    _c("Narrative", "narrative", "wrap", 60, input=True),
    _c("Status", "status", "code", 9),
)

_FINDINGS = (
    _c("Severity", "severity", "severity", 9),
    _c("Rule", "rule", "code", 20),
    _c("Row", "row", "int", 6),
    _c("Status", "status", "code", 9),
    _c("Finding", "message", "wrap", 50),
    _c("Suggestion", "suggestion", "wrap", 36),
    _c("Entry id", "entry_id", "code", 16),
    _c("Date", "work_date", "date", 11),
    _c("Timekeeper", "timekeeper_name", "text", 20),
    _c("Matter", "matter_id", "code", 13),
    _c("Client", "client_id", "code", 9),
    _c("Hours", "hours", "hours", 7),
    _c("Amount", "amount", "money", 11),
    _c("Currency", "currency", "code", 8),
    _c("Narrative", "narrative", "wrap", 60),
    _c("Finding id", "finding_id", "int", 9),
)

_PROBLEMS = (
    _c("Command", "command", "text", 18),
    _c("File", "file", "text", 34),
    _c("Sheet", "sheet", "text", 14),
    _c("Row", "row", "int", 6),
    _c("Column", "column", "text", 16),
    _c("Value", "value", "text", 20),
    _c("Why", "reason", "wrap", 70),
)

_PREBILLS = (
    _c("Pre-bill", "prebill_pk", "int", 8),
    _c("Matter", "matter_id", "code", 13, "matters"),
    _c("Matter name", "matter_name", "text", 30),
    _c("Client", "client_id", "code", 9, "clients"),
    _c("Client name", "client_name", "text", 26),
    _c("Partner", "partner_name", "text", 20),
    _c("Status", "prebill_status", "code", 10),
    _c("Lines", "lines", "int", 6),
    _c("Hours", "hours", "hours", 8),
    _c("Worked value", "worked", "money", 12),
    _c("To bill", "to_bill", "money", 12),
    _c("Currency", "currency", "code", 8),
    _c("Findings", "findings", "int", 8),
    _c("Workbook", "workbook", "text", 44),
)

_INVOICES = (
    _c("Invoice", "number", "code", 10),
    _c("Kind", "kind", "code", 11),
    _c("Date", "invoice_date", "date", 11),
    _c("Due", "due_date", "date", 11),
    _c("Client", "client_id", "code", 9, "clients"),
    _c("Matter", "matter_id", "code", 13, "matters"),
    _c("Currency", "currency", "code", 8),
    _c("Fees", "fees", "money", 12),
    _c("Expenses", "expenses", "money", 11),
    _c("Discount", "discount", "money", 10),
    _c("Tax", "tax", "money", 10),
    _c("Total", "total", "money", 12),
    _c("Balance", "balance", "money", 12),
    _c("Document", "document", "text", 44),
)

_PAYMENTS = (
    _c("Receipt id", "receipt_id", "code", 14, input=True),
    _c("Date", "date", "date", 11, input=True),
    _c("Client", "client_id", "code", 9, "clients", input=True),
    _c("Payer", "payer", "text", 24, input=True),
    _c("Amount", "amount", "money", 12, input=True),
    _c("Currency", "currency", "code", 8, input=True),
    _c("Method", "method", "code", 8, input=True),
    _c("Reference", "reference", "text", 16, input=True),
    _c("Remittance", "remittance", "wrap", 34, input=True),
    _c("Status", "status", "code", 10),
    _c("Applied", "applied", "money", 12),
    _c("Unapplied", "unapplied", "money", 12),
    _c("Invoices", "invoices", "text", 24),
)

_AGING = (
    _c("Client", "client_id", "code", 9, "clients"),
    _c("Client name", "client_name", "text", 30),
    _c("Currency", "currency", "code", 8),
    _c("Current", "current", "money", 12),
    _c("1-30", "1_30", "money", 12),
    _c("31-60", "31_60", "money", 12),
    _c("61-90", "61_90", "money", 12),
    _c("91-120", "91_120", "money", 12),
    _c("Over 120", "over_120", "money", 12),
    _c("Total", "total", "money", 13),
    _c("Credits", "credits", "money", 12),
    _c("Net due", "net", "money", 13),
)

_SUBMISSIONS = (
    _c("Invoice", "invoice", "code", 10),
    _c("Client", "client_id", "code", 9, "clients"),
    _c("Portal", "portal", "code", 14),
    _c("Format", "format", "code", 10),
    _c("Status", "status", "code", 10),
    _c("Why", "reason", "wrap", 50),
    _c("File", "file", "text", 44),
)

_MONTH_END = (
    _c("Figure", "figure", "text", 36),
    _c("Currency", "currency", "code", 8),
    _c("Amount", "amount", "money", 16),
    _c("Days or count", "number", "int", 12),
    _c("File", "file", "text", 50),
)

_SCHEDULES = (
    _c("Matter", "matter_id", "code", 13, "matters", input=True),
    _c("Item", "schedule_id", "int", 7),
    _c("Kind", "kind", "code", 11, "schedule_kinds", input=True),
    _c("Due", "due_on", "date", 11, input=True),
    _c("Trigger", "trigger", "text", 20, input=True),
    _c("Percent", "percent", "text", 8, input=True),
    _c("Count", "count", "int", 7, input=True),
    _c("Frequency", "frequency", "code", 10, "frequencies", input=True),
    _c("Amount", "amount", "money", 13, input=True),
    _c("Description", "description", "text", 36, input=True),
    _c("Tax", "tax", "money", 11),
    _c("Currency", "currency", "code", 8),
    _c("Status", "status", "text", 16),
    _c("Invoice", "invoice_number", "code", 10),
)

_BILLS_DUE = (
    _c("What", "what", "code", 10),
    _c("Matter", "matter_id", "code", 13, "matters"),
    _c("Client", "client_id", "code", 9, "clients"),
    _c("Cycle", "billing_cycle", "code", 11),
    _c("Falls on", "falls_on", "date", 11),
    _c("Description", "description", "text", 36),
    _c("Amount", "amount", "money", 13),
    _c("Currency", "currency", "code", 8),
    _c("Entries", "entries", "int", 8),
    _c("Item", "schedule_id", "int", 7),
)

_SETTINGS = (
    _c("Setting", "setting", "text", 22),
    _c("Value", "value", "code", 50, input=True),
    _c("Meaning", "meaning", "wrap", 70),
)

_LIST_TABLES = {
    "ListClients": (_c("Client", "client_id", "code", 10), _c("Name", "name", "text", 30)),
    "ListMatters": (_c("Matter", "matter_id", "code", 13), _c("Name", "name", "text", 30)),
    "ListTasks": (_c("Task", "code", "code", 8), _c("Name", "name", "text", 40)),
    "ListActivities": (_c("Activity", "code", "code", 8), _c("Name", "name", "text", 40)),
    "ListActions": (_c("Action", "code", "code", 10), _c("Meaning", "name", "text", 50)),
    "ListReasons": (_c("Reason", "code", "code", 10), _c("Meaning", "name", "text", 50)),
    "ListScheduleKinds": (_c("Kind", "code", "code", 11), _c("Meaning", "name", "text", 50)),
    "ListFrequencies": (_c("Frequency", "code", "code", 10), _c("Meaning", "name", "text", 40)),
}

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("TimeEntries", "Time entries", _TIME,
          "Type or paste entries here (or name a file in Settings › Time file), then Import time."),
    Table("Exceptions", "Exceptions", _FINDINGS,
          "What Check and Reconcile found: put errors right before building pre-bills."),
    Table("Problems", "Problems", _PROBLEMS,
          "Why the last command could not run: each row names the file, row and column."),
    Table("Prebills", "Pre-bill", _PREBILLS,
          "One row per matter; each partner reviews the workbook named in the last column."),
    Table("Invoices", "Invoices", _INVOICES, "The month's final invoices and their documents."),
    Table("Payments", "Payments", _PAYMENTS,
          "Type receipts here (or name a bank file in Settings › Bank file), then Post payments."),
    Table("Aging", "AR", _AGING, "What clients owe, by age of the debt (Refresh AR)."),
    Table("Submissions", "Submissions", _SUBMISSIONS,
          "LEDES files for e-billing clients; an invoice the portal would reject is held back."),
    Table("MonthEnd", "Month end", _MONTH_END, "The month-end pack: figures and files."),
    Table("Schedules", "Schedules", _SCHEDULES,
          "A matter's terms (a total with a count, a retainer's amount, milestones' percents) or "
          "its items, then Save schedule; a row with only a matter shows its schedule."),
    Table("BillsDue", "Bills due", _BILLS_DUE,
          "What is due to bill on Settings › Bills due on: matters on their cycle, scheduled "
          "invoices (Bills due)."),
    Table("Settings", "Settings", _SETTINGS, "Where the ledger is and what the commands work on."),
    *[Table(name, "Lists", cols) for name, cols in _LIST_TABLES.items()],
)}

# ------------------------------------------------------------------------------------ lists
LISTS: dict[str, ListSource] = {s.name.removeprefix("list_"): s for s in (
    ListSource("list_clients", "ListClients", "Client"),
    ListSource("list_matters", "ListMatters", "Matter"),
    ListSource("list_utbms_tasks", "ListTasks", "Task"),
    ListSource("list_utbms_activities", "ListActivities", "Activity"),
    ListSource("list_actions", "ListActions", "Action", tuple(ACTIONS)),
    ListSource("list_reason_codes", "ListReasons", "Reason", tuple(REASON_CODES)),
    ListSource("list_schedule_kinds", "ListScheduleKinds", "Kind", tuple(SCHEDULE_KINDS)),
    ListSource("list_frequencies", "ListFrequencies", "Frequency", tuple(FREQUENCIES)),
)}
#: Meanings shown beside the fixed lists' codes.
LIST_MEANINGS = {"ListActions": ACTIONS, "ListReasons": REASON_CODES,
                 "ListScheduleKinds": SCHEDULE_KINDS, "ListFrequencies": FREQUENCIES}

# ------------------------------------------------------------------------------------ settings
SETTINGS: tuple[Setting, ...] = (
    Setting("ledger_url", "Ledger", "billxl.db",
            "The ledger: a SQLite file (beside this workbook unless a full path) or a "
            "postgresql:// URL. The worksheet functions and every button use it."),
    Setting("user", "User", "", "Your name, recorded in the ledger's audit log."),
    Setting("month", "Month", "", "The billing month, YYYY-MM (blank: last month)."),
    Setting("invoice_date", "Invoice date", "", "Date of the invoices Finalize makes "
            "(blank: the month's last day)."),
    Setting("as_of", "AR as of", "", "Date of the aging (blank: today)."),
    Setting("due_on", "Bills due on", "", "The day Bills due lists what is due to bill "
            "(blank: the month's last day)."),
    Setting("time_file", "Time file", "", "A time export to import (blank: the rows of the Time "
            "entries sheet are imported)."),
    Setting("time_profile", "Time profile", "canonical", "The export's layout: canonical, "
            "clio-activities, harvest-import, toggl-detailed, juris-time … or a profile file."),
    Setting("bank_file", "Bank file", "", "A bank or lockbox file to post (blank: the rows of "
            "the Payments sheet are posted)."),
    Setting("bank_profile", "Bank profile", "canonical", "The receipts file's layout "
            "(BAI2, camt, MT940 and OFX files are recognised without one)."),
    Setting("output_folder", "Output folder", "billxl-output", "Where pre-bill workbooks, "
            "invoices, LEDES files and the month-end pack are written (beside this workbook "
            "unless a full path)."),
)

#: The ``xlwings.conf`` sheet: xlwings reads keys from column A and values from column B,
#: starting in A1, without a header. These make the workbook find billxl's functions.
XLWINGS_CONF: tuple[tuple[str, str], ...] = (
    ("Interpreter_Win", ""),
    ("PYTHONPATH", ""),
    ("UDF Modules", "billxl.excel.udfs"),
    ("Debug UDFs", "False"),
    ("Use UDF Server", "False"),
    ("Show Console", "False"),
)

# ------------------------------------------------------------------------------------ ribbon
RIBBON_TAB = ("billxlTab", "Billing")
#: The one VBA macro every button's onAction names; it passes control.Id to Python.
DISPATCHER = "BillxlRibbonButton"

COMMANDS: tuple[Command, ...] = (
    Command("import_time", "Import time", "Import the time file named in Settings, or the rows "
            "of the Time entries sheet, into the ledger.", "ImportExcel",
            ("TimeEntries", "Settings"), ("TimeEntries", "ListClients", "ListMatters")),
    Command("check", "Check", "Check the Time entries rows against the billing guidelines, "
            "without importing them.", "ReviewAcceptChange", ("TimeEntries",), ("Exceptions",),
            "Review"),
    Command("reconcile", "Reconcile", "Check the month's unbilled time and expenses in the "
            "ledger against each client's guidelines.", "TableTestValidation", ("Settings",),
            ("Exceptions",), "Review"),
    Command("build_prebills", "Build pre-bills", "Make the month's pre-bills and one review "
            "workbook per billing partner.", "FileNew", ("Settings",), ("Prebills",), "Bill"),
    Command("apply_prebill_edits", "Apply pre-bill edits", "Take back each partner's edits and "
            "approval from the pre-bill workbooks listed.", "FileSaveAs", ("Prebills",),
            ("Prebills",), "Bill"),
    Command("finalize", "Finalize", "Turn approved pre-bills into numbered final invoices.",
            "AcceptInvitation", ("Settings",), ("Invoices",), "Bill"),
    Command("save_schedule", "Save schedule", "Write the Schedules rows to the ledger, all or "
            "nothing: rows with a Count or a Percent are built from the terms; items already "
            "invoiced are locked.", "DateAndTimeInsert", ("Schedules", "Settings"),
            ("Schedules",), "Bill"),
    Command("bills_due", "Bills due", "List what is due to bill on Settings › Bills due on: "
            "matters on their billing cycle and scheduled invoices.", "CalculateNow",
            ("Settings",), ("BillsDue",), "Bill"),
    Command("render_documents", "Render documents", "Write each invoice as PDF and XLSX.",
            "FilePrint", ("Invoices",), ("Invoices",), "Bill"),
    Command("export_ledes", "Export LEDES", "Write LEDES files for e-billing clients and record "
            "each submission.", "ExportTextFile", ("Settings",), ("Submissions",), "Bill"),
    Command("post_payments", "Post payments", "Post the bank file named in Settings, or the rows "
            "of the Payments sheet, against open invoices.", "AccountingFormat",
            ("Payments", "Settings"), ("Payments",), "Cash"),
    Command("refresh_ar", "Refresh AR", "What each client owes, by age.", "Refresh",
            ("Settings",), ("Aging",), "Cash"),
    Command("month_end_pack", "Month-end pack", "WIP, billing, cash and aging figures for the "
            "month, with the pack's files.", "ChartInsert", ("Settings",), ("MonthEnd",),
            "Month end"),
)
RIBBON_GROUPS = ("Cycle", "Review", "Bill", "Cash", "Month end")

# ------------------------------------------------------------------------------------ sheets
SHEETS: tuple[Sheet, ...] = (
    Sheet("Instructions", "billxl billing workbook", tab_colour="1F3864"),
    Sheet("Time entries", "Time entries", ("TimeEntries",)),
    Sheet("Exceptions", "Exceptions", ("Exceptions",)),
    Sheet("Pre-bill", "Pre-bills", ("Prebills",)),
    Sheet("Schedules", "Invoice schedules", ("Schedules",)),
    Sheet("Bills due", "Bills due", ("BillsDue",)),
    Sheet("Invoices", "Invoices", ("Invoices",)),
    Sheet("Payments", "Payments", ("Payments",)),
    Sheet("AR", "Accounts receivable", ("Aging",)),
    Sheet("Submissions", "E-billing submissions", ("Submissions",)),
    Sheet("Month end", "Month-end pack", ("MonthEnd",)),
    Sheet("Problems", "Problems", ("Problems",), tab_colour="C00000"),
    Sheet("Settings", "Settings", ("Settings",)),
    Sheet("Lists", "Lists for the drop-downs", tuple(_LIST_TABLES), hidden=True),
    Sheet("xlwings.conf", "", hidden=True),
)

#: The Instructions sheet, a line each (the build writes them from A3 down).
INSTRUCTIONS: tuple[str, ...] = (
    "1. Settings: name the ledger (a file or a postgresql:// URL), your name and the month.",
    "2. Billing tab › Import time: the Time file named in Settings, or the rows typed on "
    "Time entries.",
    "3. Check (the typed rows) or Reconcile (the month in the ledger): findings on Exceptions.",
    "4. Build pre-bills, send each partner the workbook listed on Pre-bill; when they come back, "
    "Apply pre-bill edits.",
    "Schedules: type a matter's terms or its items and Save schedule (invoiced items are "
    "locked); Bills due lists the matters on their cycle and the scheduled invoices due.",
    "5. Finalize, Render documents, Export LEDES: Invoices and Submissions list the results.",
    "6. Post payments (the Bank file in Settings, or the rows typed on Payments), Refresh AR, "
    "Month-end pack.",
    "When a button cannot do its work, nothing is changed and the Problems sheet says why "
    "(file, row, column, reason); the line under this sheet's title says what the last button did.",
)


def table(name: str) -> Table:
    return TABLES[name]


def sheet_of(table_name: str) -> str:
    return TABLES[table_name].sheet


def setting(key: str) -> Setting:
    for s in SETTINGS:
        if s.key == key:
            return s
    raise KeyError(key)


def command(command_id: str) -> Command:
    for c in COMMANDS:
        if c.id == command_id:
            return c
    raise KeyError(command_id)


def _validate() -> None:
    """The layout's own invariants (checked on import: a typo here breaks every surface)."""
    sheets = {s.name for s in SHEETS}
    for t in TABLES.values():
        if t.sheet not in sheets:
            raise ValueError(f"table {t.name}: no sheet {t.sheet!r}")
        headers = t.headers
        if len(set(headers)) != len(headers):
            raise ValueError(f"table {t.name}: repeated header")
        for c in t.columns:
            if c.validation is not None and c.validation not in LISTS:
                raise ValueError(f"{t.name}.{c.header}: unknown list {c.validation!r}")
    for s in LISTS.values():
        TABLES[s.table].column(s.column)
    for c in COMMANDS:
        if c.group not in RIBBON_GROUPS:
            raise ValueError(f"command {c.id}: unknown group {c.group!r}")
        for name in (*c.reads, *c.writes):
            if name not in TABLES:
                raise ValueError(f"command {c.id}: unknown table {name!r}")


_validate()
