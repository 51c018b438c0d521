"""Time-entry and expense intake: read an export, map its columns, check every cell, import.

Three steps, each usable on its own (the CLI, the Excel ribbon and notebooks call the same ones):

* :func:`read_table` reads a CSV, XLSX, XLSM, XLSB, XLS or ODS file into a :class:`RawTable`:
  the header, the cells as the file holds them (text for CSV, typed cells for workbooks) and, for
  every data row, the row number the user sees in Excel or the editor (the header is row 1).
* :func:`check_entries` maps the columns through a :class:`Profile` (a YAML file, see
  ``profiles/``) and checks every cell against the firm's :class:`Reference` data. It returns
  the checked frame (``schema.TIME_FRAME`` / ``schema.EXPENSE_FRAME``) and a list of
  :class:`~billxl.errors.Problem` -- every bad cell, not just the first. It does no I/O.
* :func:`import_file` does both and writes to the ledger in one transaction, **all or
  nothing**: one problem and nothing is imported (an :class:`~billxl.errors.InputError`
  carries every problem). Imports are idempotent on ``(source, entry_id)``: the same file twice
  adds nothing, a later overlapping export adds only its new rows, and a row whose content
  changed updates the stored WIP entry (with an audit row holding before and after).

A profile maps each field to a header, or builds it from several by a template
(``"{First name} {Last name}"``, ``"{Client}-{Matter}"``) and takes part of it by a pattern
(:func:`field_columns`); it says how numbers, durations and dates are written and how
timekeepers are named (id, user name, e-mail or full name, :func:`timekeeper_keys`). A layout
without an entry id is keyed by a fingerprint of the entry's content and its occurrence in the
file (:func:`fingerprint_keys`): an entry edited at the source afterwards is a new entry (the
old one shows as "extra" in ``billxl reconcile-sources export ledger``).

Numbers are exact: workbook cells (IEEE doubles) are snapped to integer thousandths (hours) or
minor units (money) only when they sit on that grid; text is parsed digit by digit. No float
touches an amount after that. A narrative is stored exactly as it was read: one that starts
with ``=`` stays text and is never evaluated.

Speed: every check is vectorised over the whole column (NumPy/pandas), and lookups work on the
column's distinct values (``pd.factorize``); ``benchmarks/bench_intake.py`` times a 300,000-row
month against a bare python-calamine read of the same file.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import gc
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import python_calamine
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from billxl import money, schema
from billxl.cells import (
    BLANK,
    FAR_DATE,
    NOT_NUMBER,
    OK,
    TOO_LARGE,
    TOO_PRECISE,
    blank_cells,
    blanks,
    by_uniques,
    cell_text,
    cell_texts,
    describe_characters,
    format_words,
    from_csv_cells,
    norm,
    parse_dates,
    scaled_durations,
    scaled_numbers,
    scaled_text,
    strip_all,
    stripped_text,
    too_precise_money,
    visible_cells,
    visible_text,
)
from billxl.errors import InputError, Problem
from billxl.reference import Reference
from billxl.store import intake as store

__all__ = [
    "Kind",
    "Profile",
    "RawTable",
    "Reference",
    "KindResult",
    "ImportResult",
    "load_profile",
    "profile_names",
    "read_table",
    "ProblemCollector",
    "FieldColumn",
    "field_columns",
    "template_headers",
    "timekeeper_keys",
    "fingerprint_keys",
    "DEFAULT_FINGERPRINT",
    "RULE_OF_PROBLEM",
    "VALUE_PROBLEMS",
    "HIDDEN_REMOVED",
    "refusal",
    "row_kinds",
    "check_entries",
    "import_file",
]

Kind = Literal["time", "expenses"]
Progress = Callable[[str, int, int], None]

#: File types read through python-calamine (the rest are read as delimited text).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_ZIP_MAGIC = b"PK\x03\x04"  # xlsx, xlsm, xlsb, ods
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # xls
_CODE = re.compile(r"^[A-Z]\d{3}$")  # UTBMS task, activity, expense codes: L110, A101, E101
_WRITE_CHUNK = 50_000  # rows per bulk insert, so that progress moves on big files


# =================================================================================== profiles
class _Strict(BaseModel):
    # extra="forbid": a misspelt key in a profile is an error naming the key, not a silent no-op
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeColumns(_Strict):
    """Which column of the file holds each field of a time entry: a header as in the file, or
    a template of headers (``"{First name} {Last name}"``). ``entry_id`` may be left out: the
    key is then a fingerprint of the entry's content (see :attr:`_KindSpec.fingerprint`)."""

    entry_id: str | None = None
    date: str
    timekeeper: str
    matter: str
    hours: str
    client_id: str | None = None
    timekeeper_name: str | None = None  # informational; not checked
    timekeeper_class: str | None = None  # informational; not checked
    rate: str | None = None
    amount: str | None = None
    task_code: str | None = None
    activity_code: str | None = None
    narrative: str | None = None
    entered_on: str | None = None
    billable: str | None = None
    non_billable: str | None = None  # the inverse flag some systems export ("Non-billable")


class ExpenseColumns(_Strict):
    """Which column of the file holds each field of an expense (as :class:`TimeColumns`)."""

    entry_id: str | None = None
    date: str
    matter: str
    timekeeper: str | None = None
    client_id: str | None = None
    expense_code: str | None = None
    quantity: str | None = None
    unit_cost: str | None = None
    amount: str | None = None
    narrative: str | None = None
    receipt_ref: str | None = None
    billable: str | None = None
    non_billable: str | None = None


#: The fields whose values make an entry's key when the layout has no entry-id column.
DEFAULT_FINGERPRINT = {"time": ("date", "timekeeper", "matter", "hours", "narrative"),
                       "expenses": ("date", "timekeeper", "matter", "quantity", "unit_cost",
                                    "amount", "narrative")}
_TEMPLATE_REF = re.compile(r"\{([^{}]+)\}")  # '{First name} {Last name}' names two headers


def template_headers(value: str) -> list[str] | None:
    """The headers a column template names (``'{Client}-{Matter}'`` -> Client, Matter); None
    when ``value`` is a plain header."""
    names = _TEMPLATE_REF.findall(value)
    return [n.strip() for n in names] if names else None


class _KindSpec(_Strict):
    #: values of the profile's ``type_column`` that mean this kind (mixed files only); ``""``
    #: means a blank type cell (Clio writes no type for time entries)
    types: tuple[str, ...] = ()
    #: fields whose column may be absent from a file (their values are then blank)
    optional: tuple[str, ...] = ()
    #: for a layout without an entry-id column: the fields (and ``{Header}``s of other
    #: columns) whose values, with the occurrence of those values in the file, are the key
    fingerprint: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _check_fields(self):
        columns = self.columns  # type: ignore[attr-defined]
        fields = type(columns).model_fields
        for name in self.optional:
            if name not in fields:
                raise ValueError(f"optional names {name!r}, which is not a field; "
                                 f"the fields are: {', '.join(fields)}")
            if name in self.required_fields or name == "entry_id":
                raise ValueError(f"{name!r} cannot be optional: every entry needs it")
            if getattr(columns, name) is None:
                raise ValueError(f"optional names {name!r}, but no column is given for it")
        if columns.billable and columns.non_billable:
            raise ValueError("give either billable or non_billable, not both")
        if columns.entry_id and self.fingerprint:
            raise ValueError("give either an entry_id column or a fingerprint, not both: the "
                             "fingerprint is the key of layouts that have no entry id")
        for name in self.fingerprint or ():
            if template_headers(name) is None and name not in fields:
                raise ValueError(f"fingerprint names {name!r}, which is not a field (write "
                                 f"another column of the file as {{{name}}})")
            if template_headers(name) is None and getattr(columns, name) is None:
                raise ValueError(f"fingerprint names {name!r}, but no column is given for it")
        for name, value in self.mapped().items():
            if template_headers(value) is None and "{" in value:
                raise ValueError(f"the column of {name!r}, {value!r}, is neither a header nor "
                                 "a template such as '{Client}-{Matter}'")
        return self

    @property
    def required_fields(self) -> tuple[str, ...]:
        fields = type(self.columns).model_fields  # type: ignore[attr-defined]
        return tuple(f for f, info in fields.items() if info.is_required())

    def mapped(self) -> dict[str, str]:
        """field -> header (or template), for the fields this profile reads."""
        return {k: v for k, v in self.columns.model_dump().items() if v is not None}  # type: ignore[attr-defined]

    def key_fields(self, kind: Kind) -> tuple[str, ...] | None:
        """What the key is made of: None when the file has an entry-id column, else the
        fingerprint's fields (by default those of :data:`DEFAULT_FINGERPRINT` it maps)."""
        if self.columns.entry_id:  # type: ignore[attr-defined]
            return None
        if self.fingerprint:
            return self.fingerprint
        mapped = self.mapped()
        return tuple(f for f in DEFAULT_FINGERPRINT[kind] if f in mapped)

    def headers(self, *, required_only: bool = False) -> list[str]:
        """The file's headers this spec reads (each header a template names counts)."""
        out = []
        for name, value in self.mapped().items():
            if required_only and name in self.optional:
                continue
            out += template_headers(value) or [value]
        for name in self.fingerprint or ():
            out += template_headers(name) or []
        return list(dict.fromkeys(out))


class TimeSpec(_KindSpec):
    columns: TimeColumns


class ExpenseSpec(_KindSpec):
    columns: ExpenseColumns

    @model_validator(mode="after")
    def _needs_money(self):
        if self.columns.amount is None and self.columns.unit_cost is None:
            raise ValueError("an expense profile needs an amount or a unit_cost column")
        return self


def _swap_day_month(fmt: str) -> str:
    # a year-first format (YYYY-MM-DD, YYYYMMDD) is never day-first
    if fmt.startswith(("%Y", "%y")) or "%d" not in fmt or "%m" not in fmt:
        return fmt
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


class Profile(_Strict):
    """How one export layout maps onto billxl's fields. Loaded from YAML by :func:`load_profile`."""

    name: str
    #: the system the entries come from; (source, entry_id) is the natural key in the ledger
    source: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    description: str = ""
    sheet: str | None = None  # default sheet of a workbook (None: the first)
    header_row: int = Field(1, ge=1)
    #: a shipped profile (or a YAML file beside this one) whose settings this one starts from
    extends: str | None = None
    #: strptime formats for dates written as text, tried in order
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    #: the export writes the day before the month: each of date_formats is read with its day
    #: and month swapped (MM/DD/YYYY is read as DD/MM/YYYY; year-first formats stay as they are)
    day_first: bool = False
    #: numbers are written with a decimal comma ('1,5'; '1.234,50')
    decimal_comma: bool = False
    #: the thousands separator of numbers written as text (default ',' with a decimal point,
    #: '.' with a decimal comma); groups of three digits only
    thousands_separator: Literal[",", ".", " ", "'"] | None = None
    #: hours may be written as durations, h:mm or h:mm:ss ('1:30', '01:30:00'); seconds are
    #: rounded to the nearest thousandth of an hour (3.6 seconds)
    durations: bool = False
    #: what the timekeeper column holds: the ledger's timekeeper_id, user_name, email, or
    #: full_name ('First Last', matched against first_name and last_name)
    timekeeper_lookup: Literal["timekeeper_id", "user_name", "email", "full_name"] = "timekeeper_id"
    #: per field, a regular expression that takes part of the column's text (its group
    #: ``value``, else group 1, else the whole match); ``matter_pattern`` is ``patterns.matter``
    patterns: dict[str, str] = Field(default_factory=dict)
    #: the column that says whether a row is time or expense (files mixing both)
    type_column: str | None = None
    yes_values: tuple[str, ...] = ("yes", "y", "true", "1", "x")
    no_values: tuple[str, ...] = ("no", "n", "false", "0")
    time: TimeSpec | None = None
    expenses: ExpenseSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _matter_pattern(cls, data: Any) -> Any:
        # the older spelling of patterns.matter
        if isinstance(data, dict) and "matter_pattern" in data:
            data = dict(data)
            pattern = data.pop("matter_pattern")
            if pattern is not None:
                data["patterns"] = {**(data.get("patterns") or {}), "matter": pattern}
        return data

    @field_validator("date_formats", mode="before")
    @classmethod
    def _one_format(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"the pattern for {name!r} is not a valid regular expression: "
                                 f"{exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self):
        specs = {k: s for k, s in (("time", self.time), ("expenses", self.expenses)) if s}
        if not specs:
            raise ValueError("a profile needs a 'time' or an 'expenses' section (or both)")
        for kind, spec in specs.items():
            if self.type_column and not spec.types:
                raise ValueError(f"type_column is set, so {kind}.types must list the values "
                                 f"of {self.type_column!r} that mean {kind}")
            if spec.types and not self.type_column:
                raise ValueError(f"{kind}.types is set but type_column is not")
        fields = {f for s in specs.values() for f in s.mapped()}
        for name in self.patterns:
            if name not in fields:
                raise ValueError(f"patterns names {name!r}, which this profile does not read; "
                                 f"it reads: {', '.join(sorted(fields))}")
        if self.thousands_separator == self.decimal_mark:
            raise ValueError(f"the thousands separator cannot be the decimal mark "
                             f"({self.decimal_mark!r})")
        return self

    @property
    def decimal_mark(self) -> str:
        return "," if self.decimal_comma else "."

    @property
    def thousands(self) -> str:
        """The thousands separator in force (the stated one, else the usual one)."""
        return self.thousands_separator or ("." if self.decimal_comma else ",")

    @property
    def dates(self) -> tuple[str, ...]:
        """The date formats in force: ``date_formats``, day and month swapped if ``day_first``."""
        return tuple(_swap_day_month(f) for f in self.date_formats) if self.day_first \
            else self.date_formats

    def spec(self, kind: Kind) -> TimeSpec | ExpenseSpec:
        spec = self.time if kind == "time" else self.expenses
        if spec is None:
            word = "time entries" if kind == "time" else "expenses"
            raise InputError(f"The profile {self.name!r} does not read {word}.")
        return spec

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return tuple(k for k in ("time", "expenses") if getattr(self, k) is not None)


def profile_names() -> list[str]:
    """The time and expense profiles shipped with billxl (receipt profiles are payments')."""
    folder = resources.files("billxl") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith("receipts_"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``canonical``, ``clio-activities`` ...) or a profile YAML file.

    A profile that ``extends`` another starts from that one's settings: its own settings
    replace them, and its ``time``/``expenses`` sections (and their ``columns``) are merged
    key by key, so a firm's variant can be three lines (``extends: clio-activities``,
    ``name: ...``, ``day_first: true``).
    """
    data, shown = _profile_data(name_or_path, ())
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = [_profile_problem(shown, err) for err in exc.errors()]
        raise InputError(f"The profile {shown} has {len(problems)} mistake(s).", problems) from None


def _profile_data(name_or_path: str | Path, seen: tuple[str, ...],
                  folder: Path | None = None) -> tuple[dict, str]:
    """A profile's settings as a mapping, with those of the profile it extends under them."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if folder is not None and not path.is_absolute() and (folder / path).is_file():
        path = folder / path
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise InputError(f"There is no profile file {text_name}.")
        text, shown, here = path.read_text(encoding="utf-8"), text_name, path.parent
    else:
        shipped = resources.files("billxl") / "profiles" / f"{text_name}.yaml"
        if not shipped.is_file():
            raise InputError(f"There is no profile named {text_name!r}. Profiles shipped with "
                             f"billxl: {', '.join(profile_names())}; or give a .yaml file.")
        text, shown, here = shipped.read_text(encoding="utf-8"), f"{text_name}.yaml", None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"The profile {shown} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"The profile {shown} should be a YAML mapping of settings.")
    base = data.get("extends")
    if base is not None:
        if not isinstance(base, str):
            raise InputError(f"The profile {shown}: 'extends' should name one profile.")
        if shown in seen or str(base) in seen:
            raise InputError(f"The profile {shown} extends itself (through "
                             f"{' -> '.join((*seen, shown, str(base)))}).")
        under, _ = _profile_data(base, (*seen, shown), here)
        data = _merged(under, data)
    return data, shown


def _merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merged(out[key], value) if both else value
    return out


def _profile_problem(file: str, err: Mapping[str, Any]) -> Problem:
    loc = tuple(str(p) for p in err["loc"])
    key = ".".join(loc) or "(top level)"
    value = err.get("input")
    shown = value if isinstance(value, str) else None
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        reason = f"{loc[-1]!r} is not a setting billxl knows; check the spelling"
        if allowed:
            reason += f" (allowed here: {', '.join(allowed)})"
    elif err["type"] == "missing":
        reason = f"{loc[-1]!r} is required but missing"
    else:
        reason = err["msg"].removeprefix("Value error, ")
    return Problem(file=file, row=None, column=key, value=shown, reason=reason)


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    """The keys a profile allows at ``loc`` (walks the pydantic models), for error messages."""
    model: type[BaseModel] | None = Profile
    for part in loc:
        info = model.model_fields.get(part) if model else None
        if info is None:
            return []
        args = getattr(info.annotation, "__args__", ()) or (info.annotation,)
        model = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return list(model.model_fields) if model else []


# =================================================================================== reference
# Intake checks entries against a billxl.reference.Reference (its ``lookup`` tables).


def bare_reference(raw: RawTable, profile: Profile, *, currency: str = "USD") -> Reference:
    """A reference that knows every timekeeper and matter the file itself names.

    For checking a file without a ledger (``billxl check``): the file's timekeepers and
    matters are taken as they are (a timekeeper's id is the value the file names it by), a
    matter belongs to the client named on its row (if the file has a client column), and money
    is in ``currency``. Checks of the file's own form (dates, hours, codes) still apply.
    """
    tk_ids: dict[str, str] = {}  # norm -> the first spelling: 'jane SMITH' is 'Jane Smith'
    matters: dict[str, str | None] = {}
    for kind in profile.kinds:
        columns = field_columns(raw, profile, profile.spec(kind))

        def texts(name: str) -> list[str]:
            return strip_all(columns[name].cells) if name in columns else []  # noqa: B023

        for v in dict.fromkeys(texts("timekeeper")):
            if v:
                tk_ids.setdefault(norm(v), v)
        numbers = texts("matter")
        owners = texts("client_id") or [None] * len(numbers)
        for number, owner in zip(numbers, owners, strict=True):
            if number:
                matters.setdefault(number, owner or None)
    ids = sorted(tk_ids.values())
    clients = sorted({c or "?" for c in matters.values()})
    # every way of naming a timekeeper finds the value itself ('First Last' as first_name)
    return Reference(
        timekeepers=pd.DataFrame({"timekeeper_id": ids, "user_name": ids, "email": ids,
                                  "first_name": ids, "last_name": ""}),
        matters=pd.DataFrame({"matter_id": list(matters),
                              "client_id": [c or "?" for c in matters.values()]}),
        clients=pd.DataFrame({"client_id": clients, "currency": currency}),
    )


# =================================================================================== reading
@dataclass(frozen=True, eq=False)
class RawTable:
    """A sheet or CSV file as read: header text, cells, and the row numbers the user sees."""

    file: str  # the path as given (problems name it)
    sheet: str | None  # None for CSV
    columns: tuple[str, ...]  # header cells as text, stripped
    cells: tuple[np.ndarray, ...]  # one object array per column; workbook cells keep their type
    rows: np.ndarray  # int64, row number of each data row (header_row + 1, ...)
    header_row: int
    sha256: str
    from_text: bool  # True for CSV: every cell is text
    problems: tuple[Problem, ...] = ()  # found while reading (e.g. a last line cut short)
    #: cells whose characters nobody sees were removed (:data:`billxl.cells.HIDDEN`), one
    #: notice each: not a problem (the text is read without them), but said to the user
    hidden: tuple[Problem, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)

    def problem(self, row: int | None, column: str | None, value: Any, reason: str) -> Problem:
        shown = None if value is None else cell_text(value)
        return Problem(file=self.file, row=row, column=column, value=shown, reason=reason,
                       sheet=self.sheet)

    def find(self, header: str) -> list[int]:
        """Positions of the columns whose header is ``header`` (case and blanks ignored)."""
        wanted = norm(header)
        return [i for i, c in enumerate(self.columns) if norm(c) == wanted]


def read_table(path: str | Path, *, sheet: str | None = None, header_row: int = 1) -> RawTable:
    """Read a CSV or workbook sheet (the first sheet unless ``sheet`` is named).

    Raises InputError for a file that cannot be read as a table at all: missing, empty,
    damaged, not a spreadsheet, or a sheet that is not there.
    """
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{shown} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{shown} is a folder, not a file.") from None
    except OSError as exc:
        raise InputError(f"{shown} cannot be read: {exc.strerror or exc}.") from None
    if not data.strip():
        raise InputError(f"{shown} is empty.", [Problem(shown, None, None, None, "the file is empty")])
    digest = hashlib.sha256(data).hexdigest()
    suffix = Path(path).suffix.lower()
    if data[:4] in (_ZIP_MAGIC, _OLE_MAGIC) or suffix in WORKBOOK_SUFFIXES:
        return visible_table(_read_workbook(data, shown, digest, sheet, header_row))
    return visible_table(_read_csv(data, shown, digest, header_row))


#: The reason of a cell read without the characters nobody sees (see :func:`_visible`).
HIDDEN_REMOVED = "has characters that do not show, and is read without them"


def visible_table(raw: RawTable) -> RawTable:
    """The table without the characters of :data:`billxl.cells.HIDDEN` (bidirectional
    overrides, control characters, zero-width spaces ...), a notice for each cell that had
    some, naming them: text that reads differently from what it holds is never passed on."""
    columns, cells, notices = [], [], []
    for j, column in enumerate(raw.cells):
        fixed, changed = visible_cells(column)
        cells.append(fixed)
        header = raw.columns[j] if j < len(raw.columns) else None
        for i in np.flatnonzero(changed):
            notices.append(Problem(raw.file, int(raw.rows[i]), header, fixed[i],
                                   f"{HIDDEN_REMOVED} ({describe_characters(column[i])})",
                                   raw.sheet))
    for name in raw.columns:
        clean = visible_text(name)
        if clean != name:
            notices.append(Problem(raw.file, raw.header_row, clean, clean,
                                   f"{HIDDEN_REMOVED} ({describe_characters(name)})", raw.sheet))
        columns.append(clean.strip())
    if not notices:
        return raw
    notices.sort(key=lambda p: (p.row or 0))
    return dataclasses.replace(raw, columns=tuple(columns), cells=tuple(cells),
                               hidden=tuple(notices))


def _damaged(shown: str, detail: str) -> InputError:
    reason = "the file is damaged or is not a spreadsheet"
    return InputError(f"{shown} is damaged or is not a spreadsheet ({detail}). Export it again "
                      "or open it in Excel and save a copy.",
                      [Problem(shown, None, None, None, f"{reason} ({detail})")])


def _read_workbook(data: bytes, shown: str, digest: str, sheet: str | None,
                   header_row: int) -> RawTable:
    try:
        with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as book:
            names = list(book.sheet_names)
            if sheet is None:
                if not names:
                    raise _damaged(shown, "it has no sheets")
                target = book.get_sheet_by_index(0)
            else:
                if sheet not in names:
                    raise InputError(f"{shown} has no sheet named {sheet!r}; its sheets are: "
                                     f"{', '.join(names)}.",
                                     [Problem(shown, None, None, sheet, "there is no sheet of this name")])
                target = book.get_sheet_by_name(sheet)
            # skip_empty_area=False keeps row 1 at index 0, so row numbers match Excel's
            grid = target.to_python(skip_empty_area=False)
            sheet_name = target.name
    except python_calamine.PasswordError:
        raise InputError(f"{shown} is protected by a password; save a copy without one.") from None
    except python_calamine.CalamineError as exc:
        raise _damaged(shown, str(exc) or type(exc).__name__) from None
    if len(grid) < header_row:
        raise InputError(f"{shown}, sheet {sheet_name!r} is empty (no header in row {header_row}).",
                         [Problem(shown, header_row, None, None, "the sheet has no header row", sheet_name)])
    try:
        block = np.array(grid, dtype=object)
    except ValueError:  # ragged rows: pad them (calamine normally returns a rectangle)
        width = max(len(r) for r in grid)
        block = np.array([list(r) + [""] * (width - len(r)) for r in grid], dtype=object)
    if block.ndim != 2:
        block = block.reshape(len(grid), -1)
    header = tuple(cell_text(c).strip() for c in block[header_row - 1])
    body = block[header_row:]
    rows = np.arange(header_row + 1, header_row + 1 + len(body), dtype=np.int64)
    return RawTable(file=shown, sheet=sheet_name, columns=header,
                    cells=tuple(body[:, j] for j in range(body.shape[1])), rows=rows,
                    header_row=header_row, sha256=digest, from_text=False)


def _decode(data: bytes, shown: str) -> str:
    if b"\x00" in data[:65536]:  # text exports never hold NUL bytes; binaries do
        raise _damaged(shown, "it is not a text (CSV) file")
    for encoding in ("utf-8-sig", "cp1252"):  # Excel's "CSV UTF-8", else Windows' own
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{shown} is not text in UTF-8 or Windows-1252; save it as CSV UTF-8.")


def _separator(first_line: str) -> str:
    # The header line decides: the candidate that occurs most often (',' on ties).
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: (counts[s], s == ","))
    return best if counts[best] else ","


def _read_csv(data: bytes, shown: str, digest: str, header_row: int) -> RawTable:
    text = _decode(data, shown)
    first_lines = text.split("\n", header_row)[:header_row]
    if len(first_lines) < header_row or not first_lines[-1].strip():
        raise InputError(f"{shown} has no header in line {header_row}.",
                         [Problem(shown, header_row, None, None, "the header line is empty")])
    sep = _separator(first_lines[-1])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=header_row - 1,
                            dtype=str, keep_default_na=False, skip_blank_lines=False,
                            engine="c")
    except pd.errors.EmptyDataError:
        raise InputError(f"{shown} is empty.", [Problem(shown, None, None, None, "the file is empty")]) from None
    except pd.errors.ParserError as exc:
        raise _csv_error(shown, str(exc), header_row) from None
    header = tuple(str(c).strip() for c in frame.iloc[0])
    body = frame.iloc[1:]
    rows = np.arange(header_row + 1, header_row + 1 + len(body), dtype=np.int64)
    problems = []
    # A file cut short mid-line (an interrupted copy or download) ends without a newline and
    # its last line has fewer fields than the header; pandas would silently pad it with blanks.
    if len(body) and not text.endswith(("\n", "\r")):
        last_line = text[text.rfind("\n") + 1:]
        last = next(csv.reader([last_line], delimiter=sep), [])
        if len(last) < len(header):
            problems.append(Problem(shown, int(rows[-1]), None, last_line[:80],
                                    f"this line is cut short: it has {len(last)} of the "
                                    f"{len(header)} columns. The file may not have been saved "
                                    "or copied completely; export it again"))
    # a cell billxl wrote with a leading ' (so that no spreadsheet evaluates it) is read as
    # the text it was: export -> edit -> import gives back the original
    return RawTable(file=shown, sheet=None, columns=header,
                    cells=tuple(from_csv_cells(body[j].to_numpy(dtype=object))
                                for j in body.columns),
                    rows=rows, header_row=header_row, sha256=digest, from_text=True,
                    problems=tuple(problems))


def _csv_error(shown: str, message: str, header_row: int) -> InputError:
    line = re.search(r"(?:line|row) (\d+)", message)
    if "EOF inside string" in message:
        reason = ("a quoted value is never closed: the file may be cut short, or a \" is "
                  "missing")
        row = int(line.group(1)) + header_row if line else None
    else:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
        if found:
            reason = (f"this line has {found.group(3)} values but the header has "
                      f"{found.group(1)} columns (an unquoted separator in a value?)")
            row = int(found.group(2)) + header_row - 1
        else:
            reason, row = f"cannot be read as CSV: {message}", None
    return InputError(f"{shown} cannot be read as a table.", [Problem(shown, row, None, None, reason)])


# =================================================================================== checking
class ProblemCollector:
    """Collects problems for one check of one file, vectorised over the rows."""

    def __init__(self, raw: RawTable, rows: np.ndarray):
        self.raw, self.rows, self.items = raw, rows, []
        #: header -> the cells to show in its problems, where they differ from the values
        #: checked (a pattern took part of the text: the problem shows the whole cell)
        self.shown: dict[str, np.ndarray] = {}

    def add(self, mask: np.ndarray, header: str, cells: np.ndarray | None,
            reason: str | Callable[[int], str]) -> None:
        cells = self.shown.get(header, cells) if cells is not None else None
        for i in np.flatnonzero(mask):
            why = reason if isinstance(reason, str) else reason(int(i))
            value = None if cells is None else cells[i]
            self.items.append(self.raw.problem(int(self.rows[i]), header, value, why))


def row_kinds(raw: RawTable, profile: Profile) -> tuple[np.ndarray, list[Problem]]:
    """What each data row is: 'time', 'expenses', '' (blank row) or '?' (unknown type).

    Files without a type column hold one kind only: the profile's single kind, or, when the
    profile reads both, whichever kind the caller asks for ('*'). A type listed as ``""``
    makes a row with a blank type cell that kind (a row blank in every column is still blank).
    """
    n = len(raw)
    mapped: list[str] = []
    for kind in profile.kinds:
        mapped += profile.spec(kind).headers()
    if profile.type_column:
        mapped.append(profile.type_column)
    positions = list(dict.fromkeys(i for h in mapped for i in raw.find(h)))
    # A row is blank when every mapped cell is; look at the other columns only for the rows
    # whose first mapped cell is blank (a handful of trailing rows, usually).
    candidates = np.flatnonzero(blank_cells(raw.cells[positions[0]])) if positions else np.arange(n)
    for i in positions[1:]:
        candidates = candidates[blank_cells(raw.cells[i][candidates])]
    blank = np.zeros(n, dtype=bool)
    blank[candidates] = True
    labels = np.full(n, "*", dtype="<U8")
    problems: list[Problem] = []
    if profile.type_column:
        where = raw.find(profile.type_column)
        if not where:
            return labels, problems  # reported as a missing column by check_entries
        cells = raw.cells[where[0]]
        kind_of = {v.strip().casefold(): k for k in profile.kinds for v in profile.spec(k).types}
        labels = by_uniques(cells, lambda u: (np.array(
            [kind_of.get(s.casefold(), "?") for s in strip_all(u)], dtype="<U8"),))[0]
        unknown = (labels == "?") & ~blank
        known = [v or "(blank)" for k in profile.kinds for v in profile.spec(k).types]
        found = ProblemCollector(raw, raw.rows)
        found.add(unknown, raw.columns[where[0]], cells,
                  f"is not a type this profile knows; expected one of: {', '.join(known)}")
        problems = found.items
    labels[blank] = ""
    return labels, problems


def _missing_columns(raw: RawTable, profile: Profile, spec: TimeSpec | ExpenseSpec) -> list[Problem]:
    needed = spec.headers(required_only=True)
    if profile.type_column:
        needed.append(profile.type_column)
    missing = [h for h in dict.fromkeys(needed) if not raw.find(h)]
    twice = [h for h in spec.headers() if len(raw.find(h)) > 1]
    found = ", ".join(repr(c) for c in raw.columns if c) or "none"
    problems = [raw.problem(raw.header_row, h, None,
                            f"the column {h!r} is missing (profile {profile.name!r} needs it); "
                            f"the columns found are: {found}") for h in missing]
    problems += [raw.problem(raw.header_row, h, None,
                             f"there are {len(raw.find(h))} columns headed {h!r}; keep one")
                 for h in twice]
    return problems


@dataclass(frozen=True, eq=False)
class FieldColumn:
    """One field's cells as a profile reads them, for every data row of the file.

    ``header`` is what problems name: the file's header, or the template when the field is
    built from several columns. When the profile takes part of the text by a pattern,
    ``unmatched`` marks the rows where it found nothing and ``source`` holds the text it was
    applied to.
    """

    header: str
    cells: np.ndarray
    unmatched: np.ndarray | None = None
    source: np.ndarray | None = None


def field_columns(raw: RawTable, profile: Profile,
                  spec: TimeSpec | ExpenseSpec) -> dict[str, FieldColumn]:
    """The fields of ``spec`` whose columns the file has: templates filled, patterns applied."""
    out = {}
    for name, value in spec.mapped().items():
        refs = template_headers(value)
        if refs is None:
            where = raw.find(value)
            if not where:
                continue
            header, cells = raw.columns[where[0]], raw.cells[where[0]]
        else:
            if not all(raw.find(h) for h in refs):
                continue
            header, cells = value, _filled(raw, value)
        pattern = profile.patterns.get(name)
        if pattern is None:
            out[name] = FieldColumn(header, cells)
        else:
            taken, unmatched = by_uniques(cells, functools.partial(
                _taken, pattern=re.compile(pattern), name=name))
            out[name] = FieldColumn(header, taken, unmatched, cells)
    return out


def _filled(raw: RawTable, template: str) -> np.ndarray:
    """A template of headers filled in, row by row, from the columns' stripped text; blank
    where every column it names is blank."""
    text_dtype = np.dtypes.StringDType()
    pieces = _TEMPLATE_REF.split(template)  # literal, header, literal, header, ..., literal
    columns = [stripped_text(raw.cells[raw.find(h.strip())[0]]) for h in pieces[1::2]]
    filled = np.full(len(raw), pieces[0], dtype=text_dtype)
    for column, literal in zip(columns, pieces[2::2], strict=True):
        filled = np.strings.add(np.strings.add(filled, column.astype(text_dtype)), literal)
    blank = np.logical_and.reduce([c == "" for c in columns])
    return np.where(blank, "", np.strings.strip(filled)).astype(object)


def _taken(uniques: np.ndarray, *, pattern: re.Pattern, name: str):
    taken, unmatched = [], []
    for text in strip_all(uniques):
        match = pattern.search(text) if text else None
        unmatched.append(bool(text) and match is None)
        if match is None:
            taken.append(text)
            continue
        groups = match.groupdict()
        group = next((g for g in ("value", name, f"{name}_id") if g in groups), None)
        taken.append((match.group(group) if group else
                      match.group(1) if pattern.groups else match.group(0)).strip())
    return np.array(taken, dtype=object), np.array(unmatched, dtype=bool)


#: How each way of matching timekeepers is named in problems.
_TK_WORDS = {"timekeeper_id": "ID", "user_name": "user name", "email": "e-mail address",
             "full_name": "name (first and last name)"}


def timekeeper_keys(reference: Reference, by: str) -> dict[str, tuple[str, ...]]:
    """The ledger's timekeepers by the value a file names them with (:func:`norm` of the id,
    user name, e-mail or 'First Last'), each with every timekeeper id it could mean."""
    tks = reference.timekeepers
    if tks is None or tks.empty:
        return {}
    if by == "full_name":
        names = tks["first_name"].fillna("").astype(str) + " " + tks["last_name"].fillna("").astype(str)
    elif by in tks:
        names = tks[by]
    else:
        return {}
    keys: dict[str, tuple[str, ...]] = {}
    for value, tk_id in zip(names, tks["timekeeper_id"], strict=True):
        if isinstance(value, str) and value.strip():
            keys[norm(value)] = (*keys.get(norm(value), ()), tk_id)
    return keys


def _find_timekeepers(texts: list[str], keys: Mapping[str, tuple[str, ...]]):
    found = [keys.get(norm(s), ()) if s else () for s in texts]
    return (blanks(texts), np.array([f[0] if len(f) == 1 else None for f in found], dtype=object),
            np.array([len(f) == 1 for f in found], dtype=bool),
            np.array([", ".join(sorted(f)) if len(f) > 1 else "" for f in found], dtype=object))


def _number_hint(text: str, profile: Profile, *, hours: bool) -> str:
    """For a cell that is not a number: the profile setting it would be read with, if any."""
    if hours and not profile.durations and scaled_durations(np.array([text], dtype=object), 3)[1][0]:
        return ("; if this export writes hours as durations (h:mm or h:mm:ss), set "
                "`durations: true` in the profile")

    def reads(decimal: str, thousands: str) -> bool:
        status = scaled_text(np.array([text]), 3, decimal=decimal, thousands=thousands)[1][0]
        return status in (OK, TOO_PRECISE)

    if profile.decimal_comma and reads(".", ","):
        return "; if this export writes decimal points, set `decimal_comma: false` in the profile"
    if not profile.decimal_comma and reads(",", "."):
        return "; if this export writes decimal commas, set `decimal_comma: true` in the profile"
    names = {",": "commas", ".": "points", " ": "spaces", "'": "apostrophes"}
    for sep, word in names.items():
        if sep not in (profile.thousands, profile.decimal_mark) and reads(profile.decimal_mark, sep):
            return (f"; if this export separates thousands with {word}, set "
                    f"`thousands_separator: \"{sep}\"` in the profile")
    return ""


def _date_reason(cells: np.ndarray, bad: np.ndarray, profile: Profile) -> Callable[[int], str]:
    """'is not a date (expected ...)', with a hint when ``day_first`` would read the cell."""
    formats = profile.dates
    reason = f"is not a date (expected {' or '.join(format_words(f) for f in formats)})"
    swapped = tuple(_swap_day_month(f) for f in formats)
    if swapped == formats or not bad.any():
        return lambda i: reason
    readable = np.zeros(len(cells), dtype=bool)
    _, still_bad, far, _ = parse_dates(cells[bad], swapped)
    readable[bad] = ~still_bad & ~far
    hint = ("; if the export writes the month first, set `day_first: false` in the profile"
            if profile.day_first else
            "; if the export writes day-first dates, set `day_first: true` in the profile")
    return lambda i: reason + hint if readable[i] else reason


#: a fingerprint's field -> the checked frame's column holding its value
_FRAME_COLUMN = {"date": "work_date", "timekeeper": "timekeeper_id", "matter": "matter_id",
                 "hours": "hours_milli", "rate": "rate_minor", "amount": "amount_minor",
                 "quantity": "quantity_milli", "unit_cost": "unit_cost_minor",
                 "non_billable": "billable"}


def fingerprint_keys(frame: pd.DataFrame, kind: Kind, fields: tuple[str, ...],
                     texts: Callable[[str], np.ndarray]) -> np.ndarray:
    """The natural keys of entries that carry no id: ``<fingerprint>-<occurrence>``.

    The fingerprint is a hash (BLAKE2b, 80 bits, as 20 hex digits) of a text: the field names
    joined by ',', U+001E, then the checked values of ``fields`` joined by U+001F -- dates as
    YYYY-MM-DD, hours and money as integers (thousandths, minor units), ids as the ledger
    spells them, and the narrative (like a ``{Header}`` of another column, ``texts(header)``)
    stripped, lower-cased, with each run of blanks as one space. The occurrence counts the
    rows with the same fingerprint in this file, 1, 2, ...: two identical rows are two
    entries. Rows sharing a fingerprint are numbered in the order of their whole content (then
    of the file), so the same rows in any order get the same keys, and a later export that
    overlaps this one matches the entries it shares.
    """
    n = len(frame)
    if n == 0:
        return np.array([], dtype=object)
    parts = []
    for name in fields:
        column = _FRAME_COLUMN.get(name, name)
        if template_headers(name) is not None or column not in frame:
            parts.append(_plain_words(texts(name)))
        elif pd.api.types.is_datetime64_any_dtype(values := frame[column]):
            parts.append(np.datetime_as_string(values.to_numpy().astype("datetime64[D]")).tolist())
        elif name == "narrative":
            parts.append(_plain_words(values.to_numpy(dtype=object, na_value="")))
        elif values.dtype == np.int64:
            parts.append(values.to_numpy().astype(str).tolist())
        else:
            parts.append(values.astype("string").to_numpy(dtype=object, na_value="").tolist())
    head = ",".join(fields) + "\x1e"
    blake2b = hashlib.blake2b
    digests = [blake2b((head + "\x1f".join(row)).encode("utf-8"), digest_size=10).hexdigest()
               for row in zip(*parts, strict=True)]
    keys = np.array([d + "-1" for d in digests], dtype=object)
    shared = np.flatnonzero(pd.Series(digests).duplicated(keep=False).to_numpy())
    if len(shared):  # the second, third ... row of a fingerprint
        content = schema.row_hash(frame.iloc[shared], _CONTENT[kind]).to_numpy(dtype=object)
        order = pd.DataFrame({"fp": np.asarray(digests, dtype=object)[shared], "content": content,
                              "at": shared}).sort_values(["fp", "content", "at"], kind="stable")
        occurrence = order.groupby("fp", sort=False).cumcount().to_numpy() + 1
        keys[order["at"].to_numpy()] = [f"{d}-{o}" for d, o in zip(order["fp"], occurrence,
                                                                   strict=True)]
    return keys


def _plain_words(values) -> list[str]:
    """Text stripped and lower-cased, each run of blanks one space."""
    return [" ".join(str(t).split()).lower() for t in values]


HOURS_NOT_POSITIVE = "the hours must be more than 0"
HOURS_MISSING = "the hours are missing"
HOURS_OVER_A_DAY = "is more than 24 hours in one entry"
_CODE_FIELDS = {"time": ("task_code", "activity_code"), "expenses": ("expense_code",)}
_BAD_CODE = {name: f"is not a UTBMS {name.split('_')[0]} code (one letter and three digits, "
                   f"e.g. {example})"
             for name, example in (("task_code", "L110"), ("activity_code", "A101"),
                                   ("expense_code", "E101"))}
QUANTITY_NOT_POSITIVE = "the quantity must be more than 0"


def _negative(label: str) -> str:
    return f"the {label} cannot be negative"


#: The problems of a row that one of billxl's billing rules also reports (by their reason):
#: ``billxl check`` leaves such a row to that rule, which says the same in its own words.
RULE_OF_PROBLEM: dict[str, str] = {HOURS_NOT_POSITIVE: "NEGATIVE_HOURS",
                                   HOURS_MISSING: "NEGATIVE_HOURS",
                                   HOURS_OVER_A_DAY: "DAILY_MAX",
                                   **{reason: "UTBMS_INVALID" for reason in _BAD_CODE.values()}}
#: The problems of a value that was read but is not allowed (the rest of the row can be
#: trusted): ``billxl check`` reports them and still checks the row.
VALUE_PROBLEMS = frozenset({_negative("rate"), _negative("amount"), QUANTITY_NOT_POSITIVE})


def check_entries(raw: RawTable, profile: Profile, reference: Reference,
                  kind: Kind) -> tuple[pd.DataFrame, list[Problem]]:
    """Map and check the rows of ``kind``; return the checked frame and every problem found.

    The frame has the columns of ``schema.TIME_FRAME`` (or ``EXPENSE_FRAME``); rows of the
    other kind in a mixed file and blank rows are left out. Pure: no I/O.
    """
    spec = profile.spec(kind)
    frame_spec = schema.TIME_FRAME if kind == "time" else schema.EXPENSE_FRAME
    problems = list(raw.problems)
    missing = _missing_columns(raw, profile, spec)
    if missing:
        return schema.empty_frame(frame_spec), problems + missing
    labels, type_problems = row_kinds(raw, profile)
    problems += type_problems
    keep = (labels == kind) | (labels == "*")
    everything = bool(keep.all())
    rows = raw.rows if everything else raw.rows[keep]
    found = ProblemCollector(raw, rows)
    columns = field_columns(raw, profile, spec)
    header = {f: columns[f].header if f in columns else h for f, h in spec.mapped().items()}

    def kept(column: np.ndarray) -> np.ndarray:
        return column if everything else column[keep]

    def cells(name: str) -> np.ndarray | None:
        return kept(columns[name].cells) if name in columns else None

    # -- a pattern that finds nothing is the one problem of its cell
    patterned = ProblemCollector(raw, rows)
    for name, column in columns.items():
        if column.unmatched is not None:
            found.shown[column.header] = kept(column.source)
            patterned.add(kept(column.unmatched), column.header, kept(column.source),
                          "no matter number found in this cell" if name == "matter" else
                          f"the profile's pattern for {name} finds nothing in this cell")

    n = len(rows)
    out: dict[str, Any] = {}

    # -- entry id: present, and once only in this file (else a fingerprint, made at the end)
    key_fields = spec.key_fields(kind)
    if key_fields is None:
        ids_cells = cells("entry_id")
        ids = stripped_text(ids_cells, distinct=True)
        found.add(ids == "", header["entry_id"], None, "the entry ID is missing")
        id_series = pd.Series(ids, dtype=object)
        repeated = (id_series.duplicated(keep=False) & (id_series != "")).to_numpy()
        if repeated.any():
            where_seen = pd.Series(rows[repeated]).groupby(ids[repeated]).agg(list).to_dict()
            found.add(repeated, header["entry_id"], ids_cells,
                      lambda i: "this entry ID appears more than once in the file (rows "
                                f"{', '.join(map(str, where_seen[ids[i]]))})")
    else:
        ids = np.full(n, "", dtype=object)
    out["entry_id"] = ids
    out["source"] = np.full(n, profile.source, dtype=object)
    out["source_key"] = ids

    # -- dates
    date_cells = cells("date")
    work_date, bad, far, blank = parse_dates(date_cells, profile.dates)
    found.add(blank, header["date"], None, "the date is missing")
    found.add(bad, header["date"], date_cells, _date_reason(date_cells, bad, profile))
    found.add(far, header["date"], date_cells, FAR_DATE)
    out["work_date"] = work_date

    # -- timekeeper (by id, user name, e-mail or full name)
    tk_cells = cells("timekeeper")
    if tk_cells is None:  # expenses may have no timekeeper
        out["timekeeper_id"] = np.full(n, None, dtype=object)
    else:
        tk_keys = timekeeper_keys(reference, profile.timekeeper_lookup)
        tk_blank, tk_ids, tk_known, tk_many = by_uniques(
            tk_cells, lambda u: _find_timekeepers(strip_all(u), tk_keys))
        unknown = ~tk_known & ~tk_blank & (tk_many == "")
        if kind == "time":
            found.add(tk_blank, header["timekeeper"], None, "the timekeeper is missing")
        by = profile.timekeeper_lookup
        word = _TK_WORDS[by]
        found.add(unknown, header["timekeeper"], tk_cells,
                  "no timekeeper with this ID in the ledger" if by == "timekeeper_id"
                  else f"no timekeeper has this {word} in the ledger")
        found.add(tk_many != "", header["timekeeper"], tk_cells,
                  lambda i: f"more than one timekeeper has this {word} ({tk_many[i]}); billxl "
                            "cannot tell which one recorded the entry: give them different "
                            f"{word.split(' (')[0]}s in the ledger, or match timekeepers by ID "
                            "or e-mail")
        out["timekeeper_id"] = tk_ids

    # -- matter, and through it the client and the currency
    matter_cells = cells("matter")
    matter_map = reference.lookup("matter")
    matter_client = reference.lookup("matter_client")
    client_currency = reference.lookup("client_currency")

    def find_matters(u: np.ndarray):
        texts = strip_all(u)
        ids = [matter_map.get(norm(m)) if m else None for m in texts]
        owner = [matter_client.get(m) for m in ids]
        cur = [client_currency.get(c) for c in owner]
        return (blanks(texts), np.array([m is not None for m in ids], dtype=bool),
                np.array(ids, dtype=object), np.array(owner, dtype=object),
                np.array(cur, dtype=object),
                np.array([money.minor_digits(c) if c else 2 for c in cur], dtype=np.int64),
                np.array([norm(c) if c else "" for c in owner], dtype=object))

    (matter_blank, matter_known, matter_ids, clients, currency, digits,
     client_norm) = by_uniques(matter_cells, find_matters)
    found.add(matter_blank, header["matter"], None, "the matter is missing")
    found.add(~matter_known & ~matter_blank, header["matter"], matter_cells,
              "no matter with this number in the ledger")
    out["matter_id"], out["client_id"], out["currency"] = matter_ids, clients, currency

    client_cells = cells("client_id")
    if client_cells is not None:
        given_blank, given_norm = by_uniques(client_cells, lambda u: (
            blanks(texts := strip_all(u)), np.array([norm(s) for s in texts], dtype=object)))
        mismatch = ~given_blank & matter_known & (given_norm != client_norm)
        found.add(mismatch, header["client_id"], client_cells,
                  lambda i: f"matter {matter_ids[i]} belongs to client {clients[i]}, not to this client")

    # -- quantities and money (money per row in its currency's minor unit), written as the
    #    profile says numbers are (decimal mark, thousands separator, durations for hours)

    def numbers(name: str, qty_cells: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        values, status = scaled_numbers(qty_cells, 3, decimal=profile.decimal_mark,
                                        thousands=profile.thousands)
        hours = name == "hours"
        if hours and profile.durations:
            spans, is_span = scaled_durations(qty_cells, 3)
            values, status = np.where(is_span, spans, values), np.where(is_span, OK, status)
        bad = status == NOT_NUMBER
        hints = np.full(n, "", dtype=object)
        if bad.any():
            hints[bad] = by_uniques(qty_cells[bad], lambda u: (np.array(
                [_number_hint(t, profile, hours=hours) for t in strip_all(u)], dtype=object),))[0]
        found.add(bad, header[name], qty_cells, lambda i: f"is not {what}{hints[i]}")
        return values, status

    def quantity(name: str, missing: str | None) -> tuple[np.ndarray, np.ndarray]:
        qty_cells = cells(name)
        if qty_cells is None:
            return np.zeros(n, dtype=np.int64), np.full(n, BLANK, dtype=np.int8)
        values, status = numbers(name, qty_cells, "a number")
        col = header[name]
        if missing:  # a required quantity
            found.add(status == BLANK, col, None, missing)
        found.add(status == TOO_PRECISE, col, qty_cells, "has more than 3 decimal places")
        found.add(status == TOO_LARGE, col, qty_cells, "is too large")
        return values, status

    def amount(name: str, label: str, *, negative_ok: bool) -> tuple[np.ndarray, np.ndarray]:
        amount_cells = cells(name)
        if amount_cells is None:
            return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
        milli, status = numbers(name, amount_cells, "an amount")
        step = 10 ** (3 - digits)
        on_grid = milli % step == 0
        status = np.where((status == OK) & ~on_grid, TOO_PRECISE, status)
        col = header[name]
        found.add(status == TOO_PRECISE, col, amount_cells,
                  lambda i: too_precise_money(int(digits[i]), currency[i]))
        found.add(status == TOO_LARGE, col, amount_cells, "is too large")
        if not negative_ok:
            found.add((status == OK) & (milli < 0), col, amount_cells,
                      _negative(label))
        return np.where(status == OK, milli // step, 0), status == BLANK



    if kind == "time":
        hours, status = quantity("hours", HOURS_MISSING)
        hours_cells = cells("hours")
        parsed = status == OK
        found.add(parsed & (hours <= 0), header["hours"], hours_cells, HOURS_NOT_POSITIVE)
        found.add(parsed & (hours > 24 * money.QTY_SCALE), header["hours"], hours_cells,
                  HOURS_OVER_A_DAY)
        out["hours_milli"] = hours
        rate, rate_blank = amount("rate", "rate", negative_ok=False)
        total, total_blank = amount("amount", "amount", negative_ok=False)
        out["rate_minor"] = pd.array(np.where(rate_blank, 0, rate), dtype="Int64")
        out["rate_minor"][rate_blank] = pd.NA
        out["amount_minor"] = pd.array(np.where(total_blank, 0, total), dtype="Int64")
        out["amount_minor"][total_blank] = pd.NA
    else:
        qty, status = quantity("quantity", None)
        qty_blank = status == BLANK
        qty = np.where(qty_blank, money.QTY_SCALE, qty)  # no quantity: one item
        qty_cells = cells("quantity")
        if qty_cells is not None:
            found.add((status == OK) & (qty <= 0), header["quantity"], qty_cells,
                      QUANTITY_NOT_POSITIVE)
        unit, unit_blank = amount("unit_cost", "unit cost", negative_ok=True)
        total, total_blank = amount("amount", "amount", negative_ok=True)
        both_blank = unit_blank & total_blank
        where = header.get("amount") or header["unit_cost"]
        found.add(both_blank, where, None, "the amount is missing")
        # derive the missing one: amount = quantity x unit cost (rounded once, money.py's rule)
        total = np.where(total_blank, money.extend_array(qty, unit), total)
        unit_unknown = unit_blank & ~total_blank & (qty != money.QTY_SCALE)
        found.add(unit_unknown, header.get("unit_cost") or where, None,
                  "the unit cost is missing (needed when the quantity is not 1)")
        unit = np.where(unit_blank, total, unit)
        out["quantity_milli"], out["unit_cost_minor"], out["amount_minor"] = qty, unit, total

    # -- codes
    for name in _CODE_FIELDS[kind]:
        code_cells = cells(name)
        if code_cells is None:
            out[name] = np.full(n, None, dtype=object)
            continue
        codes, bad_code = by_uniques(code_cells, lambda u: _codes(strip_all(u)))
        found.add(bad_code, header[name], code_cells, _BAD_CODE[name])
        out[name] = codes

    # -- narrative: stored exactly as read (a leading '=' stays text, never a formula)
    narrative_cells = cells("narrative")
    if narrative_cells is None:
        out["narrative"] = np.full(n, "", dtype=object)
    elif pd.api.types.infer_dtype(narrative_cells, skipna=False) == "string":
        out["narrative"] = narrative_cells
    else:  # numbers or dates typed into the narrative column: as the cell shows them
        out["narrative"] = by_uniques(narrative_cells, lambda u: (cell_texts(u),))[0]
    if kind == "expenses":
        receipt_cells = cells("receipt_ref")
        receipts = np.full(n, "", dtype=object) if receipt_cells is None else stripped_text(receipt_cells)
        out["receipt_ref"] = np.where(receipts == "", None, receipts)

    # -- billable (or its inverse, non_billable); blank means billable
    flag = "billable" if "billable" in spec.mapped() else "non_billable"
    flag_cells = cells(flag)
    if flag_cells is None:
        out["billable"] = np.ones(n, dtype=bool)
    else:
        yes = {v.casefold() for v in profile.yes_values}
        no = {v.casefold() for v in profile.no_values}
        flag_blank, value, bad_flag = by_uniques(
            flag_cells, lambda u: (blanks(texts := strip_all(u)), *_flags(texts, yes, no)))
        found.add(bad_flag, header[flag], flag_cells,
                  f"should be {profile.yes_values[0].title()} or {profile.no_values[0].title()}")
        value = value.astype(bool)
        value = ~value if flag == "non_billable" else value
        out["billable"] = np.where(flag_blank, True, value)  # blank: billable

    if kind == "time":
        entered_cells = cells("entered_on")
        if entered_cells is None:
            out["entered_on"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        else:
            entered, bad, far, _ = parse_dates(entered_cells, profile.dates)
            found.add(bad, header["entered_on"], entered_cells,
                      _date_reason(entered_cells, bad, profile))
            found.add(far, header["entered_on"], entered_cells, FAR_DATE)
            out["entered_on"] = entered

    out["row"] = rows
    frame = _as_frame(out, frame_spec)
    if key_fields is not None:
        keys = fingerprint_keys(frame, kind, key_fields,
                                lambda name: kept(_key_texts(raw, name, columns)))
        frame["entry_id"] = frame["source_key"] = pd.array(keys, dtype="string")
    hit = {(p.row, p.column) for p in patterned.items}
    problems += patterned.items + [p for p in found.items if (p.row, p.column) not in hit]
    return frame, problems


def _key_texts(raw: RawTable, name: str, columns: Mapping[str, FieldColumn]) -> np.ndarray:
    """The text a fingerprint takes for ``name``: a ``{Header}`` of the file, or a field that
    the checked frame does not hold (e.g. timekeeper_name)."""
    refs = template_headers(name)
    cells = raw.cells[raw.find(refs[0])[0]] if refs else columns[name].cells
    return stripped_text(cells)




def _codes(texts: list[str]):
    codes = np.array([s.upper() if s else None for s in texts], dtype=object)
    bad = np.array([bool(c) and not _CODE.match(c) for c in codes], dtype=bool)
    return codes, bad


def _flags(texts: list[str], yes: set[str], no: set[str]):
    folded = [s.casefold() for s in texts]
    value = np.array([f in yes for f in folded], dtype=bool)
    bad = np.array([bool(f) and f not in yes and f not in no for f in folded], dtype=bool)
    return value, bad


def _as_frame(out: dict[str, Any], spec: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(out[name]).astype(dtype) for name, dtype in spec.items()})


# =================================================================================== importing
@dataclass(frozen=True)
class KindResult:
    """What one import did for one kind of entry."""

    kind: Kind
    batch_id: int
    rows_read: int
    new: int
    changed: int
    unchanged: int


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_file` did: per kind, the counts and the import batch it recorded."""

    file: str
    profile: str
    source: str
    file_sha256: str
    kinds: dict[str, KindResult]
    #: rows of another kind left out of this import (a mixed file imported with kind='time')
    skipped: dict[str, int] = field(default_factory=dict)
    #: cells read without characters that do not show (:attr:`RawTable.hidden`)
    hidden: tuple[Problem, ...] = ()

    @property
    def new(self) -> int:
        return sum(k.new for k in self.kinds.values())

    @property
    def changed(self) -> int:
        return sum(k.changed for k in self.kinds.values())

    @property
    def unchanged(self) -> int:
        return sum(k.unchanged for k in self.kinds.values())

    @property
    def rows_read(self) -> int:
        return sum(k.rows_read for k in self.kinds.values())

    @property
    def batch_ids(self) -> list[int]:
        return [k.batch_id for k in self.kinds.values()]

    def summary(self) -> str:
        """A few lines for the terminal."""
        words = {"time": "time entries", "expenses": "expenses"}
        lines = [f"Imported {Path(self.file).name} (profile {self.profile}):"]
        for k in self.kinds.values():
            lines.append(f"  {words[k.kind]}: {k.rows_read:,} read, {k.new:,} new, "
                         f"{k.changed:,} changed, {k.unchanged:,} already in the ledger "
                         f"(batch {k.batch_id})")
        for kind, count in self.skipped.items():
            if count:
                lines.append(f"  {count:,} {words[kind]} in the file were not imported "
                             f"(import them with kind '{kind}' or 'all')")
        if self.hidden:
            lines.append(hidden_summary(self.hidden, "imported", "row")
                         + " ('billxl check' lists each)")
        return "\n".join(lines)


def hidden_summary(hidden: Sequence[Problem], done: str, unit: str) -> str:
    """One line saying which cells lost characters that do not show (:func:`visible_table`):
    ``done`` is what happened to them (imported, posted), ``unit`` what a row is (row, line)."""
    shown = ", ".join(f"{unit} {p.row} {p.column}" for p in hidden[:5])
    more = f" and {len(hidden) - 5:,} more" if len(hidden) > 5 else ""
    return (f"  {len(hidden):,} cell(s) held characters that do not show (such as a "
            f"right-to-left override), {done} without them: {shown}{more}")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # A big workbook becomes millions of small acyclic objects; the cyclic collector would
    # re-scan them again and again (about 15% of the reading time) and find nothing to free.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class CheckedFile:
    """A file read and checked: one frame per kind, ready for the ledger or the rules."""

    raw: RawTable
    profile: Profile
    kinds: tuple[Kind, ...]
    frames: dict[str, pd.DataFrame]
    skipped: dict[str, int]  # rows of kinds not asked for, in a mixed file
    #: the problems of the file's rows, in row order (only when read with ``refuse=False``)
    problems: list[Problem] = field(default_factory=list)


def read_entries(path: str | Path, kind: Literal["time", "expenses", "all"] = "time",
                 profile: str | Path | Profile = "canonical", *,
                 reference: Reference | None = None, sheet: str | None = None,
                 currency: str = "USD", progress: Progress | None = None,
                 refuse: bool = True) -> CheckedFile:
    """Read and check a file without writing anything; raises InputError listing every problem.

    Without a ``reference`` (no ledger), the file's own timekeepers and matters are taken as
    known (see :func:`bare_reference`) and money is in ``currency``. With ``refuse=False``
    only a file that cannot be read as entries at all is refused (not a table, a column the
    profile needs is missing or twice there); the problems of its rows come back in
    ``problems``, and the frames hold every row (a bad cell's value is then meaningless).
    """
    report = progress or (lambda stage, done, total: None)
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    kinds: tuple[Kind, ...] = prof.kinds if kind == "all" else (kind,)
    name = Path(path).name
    report(f"Reading {name}"[:34], 0, 1)
    raw = read_table(path, sheet=sheet or prof.sheet, header_row=prof.header_row)
    report(f"Reading {name}"[:34], 1, 1)
    if kind == "all" and not prof.type_column and len(kinds) > 1:
        kinds = _kinds_present(raw, prof)
    if reference is None:
        reference = bare_reference(raw, prof, currency=currency)
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for i, k in enumerate(kinds):
        report("Checking the entries", i, len(kinds))
        frames[k], found = check_entries(raw, prof, reference, k)
        problems += found
    report("Checking the entries", len(kinds), len(kinds))
    skipped = {}
    if prof.type_column:  # a mixed file: count the rows of the kinds not imported
        labels, _ = row_kinds(raw, prof)
        skipped = {k: int((labels == k).sum()) for k in prof.kinds if k not in kinds}
    if problems and refuse:
        raise refusal(raw, problems)
    problems = _in_order(raw, problems)
    whole = [p for p in problems if p.row is None or p.row <= raw.header_row]
    if whole:
        raise InputError(f"{raw.file} cannot be read as entries; {len(whole)} problem(s) to "
                         "fix first.", whole)
    return CheckedFile(raw=raw, profile=prof, kinds=kinds, frames=frames, skipped=skipped,
                       problems=problems)


def import_file(ledger, path: str | Path, kind: Literal["time", "expenses", "all"] = "time",
                profile: str | Path | Profile = "canonical", *, actor: str | None = None,
                source: str | None = None, sheet: str | None = None,
                progress: Progress | None = None) -> ImportResult:
    """Read, check and import a time or expense export into the ledger, all or nothing.

    ``kind='all'`` imports every kind the profile reads (a mixed practice-management export).
    ``source`` overrides the profile's source name (the first half of the natural key).
    Raises InputError, listing every problem, when anything is wrong; the ledger is then
    unchanged.
    """
    from billxl.store.ledger import current_actor

    report = progress or (lambda stage, done, total: None)
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    if source:  # validated like the profile's own (model_copy would not check it)
        try:
            prof = Profile.model_validate({**prof.model_dump(), "source": source})
        except ValidationError:
            raise InputError(f"{source!r} cannot be a source name: use up to 60 letters, "
                             "digits, '_', '-' or '.'.") from None
    if kind not in ("time", "expenses", "all"):
        raise InputError(f"Import what? {kind!r} is not one of time, expenses, all.")
    kinds: tuple[Kind, ...] = prof.kinds if kind == "all" else (kind,)
    for k in kinds:
        prof.spec(k)  # refuses a kind the profile does not read
    who = actor or current_actor()

    with _gc_paused():
        checked = read_entries(path, kind, prof, reference=Reference.from_ledger(ledger),
                               sheet=sheet, progress=report)
        raw, frames, kinds, skipped = checked.raw, checked.frames, checked.kinds, checked.skipped
        if not len(raw):
            raise InputError(f"{raw.file}{'' if raw.sheet is None else ' (sheet ' + raw.sheet + ')'}"
                             f" has its header row ({raw.header_row}) but no entries under it: "
                             "nothing was imported. Check that the export covers the dates you "
                             "meant.")

        with ledger.transaction() as conn, store.big_page_cache(conn):
            report("Comparing with the ledger", 0, len(kinds))
            plans = {k: _plan(ledger, conn, k, frames[k], prof.source) for k in kinds}
            report("Comparing with the ledger", len(kinds), len(kinds))
            locked = [p for k in kinds for p in _locked_problems(raw, prof, k, frames[k], plans[k])]
            if locked:
                raise refusal(raw, locked)
            results = {}
            for k in kinds:
                results[k] = _write(ledger, conn, k, frames[k], plans[k], raw, prof, who, report)
    return ImportResult(file=str(path), profile=prof.name, source=prof.source,
                        file_sha256=raw.sha256, kinds=results, skipped=skipped,
                        hidden=raw.hidden)


def _in_order(raw: RawTable, problems: list[Problem]) -> list[Problem]:
    """Every problem once, in row and then column order."""
    unique = list(dict.fromkeys(problems))  # a mixed file checks shared columns twice
    order = {c: i for i, c in enumerate(raw.columns)}
    unique.sort(key=lambda p: (p.row or 0, order.get(p.column or "", -1)))
    return unique


def _kinds_present(raw: RawTable, prof: Profile) -> tuple[Kind, ...]:
    """For kind='all' on a one-kind layout (no type column): the kinds whose columns are there.

    When none fits, the kind missing the fewest columns is checked, to name what is missing.
    """
    missing = {k: len(_missing_columns(raw, prof, prof.spec(k))) for k in prof.kinds}
    present = tuple(k for k in prof.kinds if missing[k] == 0)
    return present or (min(prof.kinds, key=lambda k: missing[k]),)


def refusal(raw: RawTable, problems: list[Problem]) -> InputError:
    """The error that refuses a file: every problem once, in row and then column order."""
    unique = _in_order(raw, problems)
    rows = len({p.row for p in unique if p.row is not None})
    where = f" in {rows} row(s)" if rows else ""
    return InputError(f"{raw.file}: nothing was imported; {len(unique)} problem(s){where} "
                      "to fix first.", unique)


_CONTENT = {"time": schema.TIME_CONTENT, "expenses": schema.EXPENSE_CONTENT}
#: what an import writes over a changed entry: its content and these
_UPDATED = ("currency", "entered_on", "row_hash", "batch_id")


def _plan(ledger, conn, kind: Kind, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Per row of ``frame``: its content hash, and the stored entry with the same key (if any)."""
    content = _CONTENT[kind]
    plan = pd.DataFrame({"source_key": frame["source_key"].to_numpy(dtype=object),
                         "row_hash": schema.row_hash(frame, content).to_numpy(dtype=object)},
                        index=frame.index)
    stored = store.stored_keys(ledger, conn, kind, source, frame["source_key"])
    if stored.empty:
        plan["pk"], plan["old_hash"], plan["status"] = pd.NA, None, None
        return plan
    merged = plan.merge(stored.rename(columns={"row_hash": "old_hash"}),
                        on="source_key", how="left")
    merged.index = frame.index
    return merged


def _locked_problems(raw: RawTable, prof: Profile, kind: Kind, frame: pd.DataFrame,
                     plan: pd.DataFrame) -> list[Problem]:
    """Changed rows whose stored entry is no longer WIP: an import must not touch those."""
    changed = plan["pk"].notna() & (plan["row_hash"] != plan["old_hash"])
    locked = changed & (plan["status"] != "WIP")
    words = "time" if kind == "time" else "expenses"
    reasons = {
        "billed": f"this entry is already billed; changes to billed {words} must go through a "
                  "credit note",
        "held": "this entry is held on a pre-bill; release the hold before importing a change",
        "written_off": "this entry was written off; it cannot be changed by an import",
    }
    id_header = prof.spec(kind).columns.entry_id
    where = raw.find(id_header) if id_header else []
    column = raw.columns[where[0]] if where else id_header  # as the file spells it
    return [raw.problem(int(row), column, key,
                        reasons.get(status, f"this entry is {status}; it cannot be changed by an import"))
            for row, key, status in zip(frame.loc[locked, "row"], frame.loc[locked, "entry_id"],
                                        plan.loc[locked, "status"], strict=True)]


def _write(ledger, conn, kind: Kind, frame: pd.DataFrame, plan: pd.DataFrame,
           raw: RawTable, prof: Profile, actor: str, report: Progress) -> KindResult:
    is_new = plan["pk"].isna().to_numpy()
    is_changed = ~is_new & (plan["row_hash"] != plan["old_hash"]).to_numpy()
    batch = {"kind": kind, "file_name": Path(raw.file).name[:260], "file_sha256": raw.sha256,
             "profile": prof.name, "source": prof.source, "actor": actor, "imported_at": datetime.now(UTC),
             "rows_read": len(frame), "rows_new": int(is_new.sum()),
             "rows_changed": int(is_changed.sum()),
             "rows_unchanged": int(len(frame) - is_new.sum() - is_changed.sum())}
    batch_id = store.insert_batch(conn, batch)

    new_rows = frame.loc[is_new].assign(row_hash=plan.loc[is_new, "row_hash"].to_numpy(),
                                        batch_id=batch_id)
    stage = "Writing time entries" if kind == "time" else "Writing expenses"
    total = len(new_rows)
    report(stage, 0, total)
    for start in range(0, total, _WRITE_CHUNK):
        store.insert_entries(ledger, conn, kind, new_rows.iloc[start:start + _WRITE_CHUNK])
        report(stage, min(start + _WRITE_CHUNK, total), total)

    if is_changed.any():
        changed = frame.loc[is_changed].assign(row_hash=plan.loc[is_changed, "row_hash"].to_numpy(),
                                               batch_id=batch_id,
                                               pk=plan.loc[is_changed, "pk"].astype("int64").to_numpy())
        store.update_entries(ledger, conn, kind, changed, (*_CONTENT[kind], *_UPDATED), actor)

    store.audit_batch(ledger, conn, batch_id, batch, actor)
    return KindResult(kind=kind, batch_id=batch_id, rows_read=len(frame),
                      new=batch["rows_new"], changed=batch["rows_changed"],
                      unchanged=batch["rows_unchanged"])
