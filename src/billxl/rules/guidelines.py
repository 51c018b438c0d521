"""Billing guidelines: the settings the rules follow, from YAML files laid over firm defaults.

``defaults.yaml`` (beside this module) holds the firm's defaults and names every setting. A
client's guideline file names only what differs; :func:`load_guidelines` lays it over the
defaults (or over another :class:`Guidelines`, e.g. the firm's own file) and checks it with a
pydantic schema. A file with mistakes is refused with an :class:`~billxl.errors.InputError`
listing every mistake with its line, as a text editor counts them::

    strict.yaml: line 7: 'dailly_max_hours' is not a known setting (did you mean 'daily_max_hours'?)
    strict.yaml: line 3: increment_hours must be a number, got 'tenth'

Numbers are read exactly: ``100.00`` in a file becomes ``Decimal('100.00')``, never a float.
UTBMS code sets are data (CSV files with a ``code`` column); a guideline names the files it uses
and they are looked for beside the guideline file first, then among the sets shipped with
billxl.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from billxl.errors import InputError, Problem
from billxl.money import QTY_SCALE, Rounding
from billxl.rules.registry import RULES  # filled when billxl.rules is imported

__all__ = ["Guidelines", "CodeSet", "load_guidelines", "load_client_guidelines", "default_guidelines"]

Severity = Literal["error", "warning", "info"]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9]{3}$")]
CodeKind = Literal["task", "activity", "expense"]

#: Settings that are mappings: a file's entries are merged into the base's, key by key.
MERGED_SETTINGS = ("code_sets", "expense_caps", "rate_caps", "severity")
_SHIPPED_CODE_SETS = ("data", "utbms")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeSetFiles(_Strict):
    task: tuple[str, ...]
    activity: tuple[str, ...]
    expense: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CodeSet:
    """The codes of one kind a client accepts; ``phases`` are headings, not billable codes."""

    codes: frozenset[str]
    phases: frozenset[str]
    names: Mapping[str, str]  # code -> its name in the file ('E111' -> 'Meals')

    @property
    def billable(self) -> frozenset[str]:
        return self.codes - self.phases


class Guidelines(_Strict):
    """The settings every rule reads, for one client (or the firm). See ``defaults.yaml``."""

    increment_hours: Decimal = Field(gt=0, le=24)
    daily_max_hours: Decimal = Field(gt=0, le=24)
    late_days: int = Field(ge=0)
    narrative_max_chars: int = Field(gt=0)
    min_narrative_words: int = Field(ge=0)
    require_utbms: bool
    code_sets: CodeSetFiles
    rounding: Rounding | None
    duplicate_similarity: float = Field(ge=50, le=100)
    receipt_threshold: Decimal = Field(ge=0)
    expense_caps: dict[Code, Annotated[Decimal, Field(ge=0)]]
    non_billable_expense_codes: tuple[Code, ...]
    rate_caps: dict[str, Annotated[Decimal, Field(gt=0)]]
    disabled_rules: tuple[str, ...]
    severity: dict[str, Severity]
    #: How a partner's write-down on the pre-bill is billed: as fewer hours, rounded down to
    #: ``increment_hours`` (``hours``), or as a lower amount with the hours worked shown
    #: (``amount``), for clients whose guidelines say so.
    write_downs: Literal["hours", "amount"] = "hours"

    # the files this was layered from (for notes), and where its code-set files were found
    _sources: tuple[str, ...] = PrivateAttr(default=())
    _code_paths: dict[str, tuple[Traversable, ...]] = PrivateAttr(default_factory=dict)

    @field_validator("increment_hours", "daily_max_hours")
    @classmethod
    def _on_the_milli_grid(cls, value: Decimal) -> Decimal:
        if (value * QTY_SCALE) % 1:
            raise ValueError("must have at most 3 decimal places")
        return value

    @property
    def sources(self) -> tuple[str, ...]:
        return self._sources

    @property
    def increment_milli(self) -> int:
        return int(self.increment_hours * QTY_SCALE)

    @property
    def daily_max_milli(self) -> int:
        return int(self.daily_max_hours * QTY_SCALE)

    def running_only(self, rule_ids) -> Guidelines:
        """These guidelines with every rule but ``rule_ids`` turned off: for a check that asks
        some rules only (a portal's, the invoice check at finalize), each with this client's
        settings and severities."""
        keep = set(rule_ids)
        off = tuple(dict.fromkeys((*self.disabled_rules, *(r for r in RULES if r not in keep))))
        return self.model_copy(update={"disabled_rules": off})

    def codes(self, kind: CodeKind) -> CodeSet:
        """The union of this guideline's code-set files of one kind (task, activity, expense)."""
        paths = self._code_paths.get(kind) or tuple(
            _find_code_set(name, None) for name in getattr(self.code_sets, kind))
        sets = [_read_code_set(p) for p in paths if p is not None]
        names: dict[str, str] = {}
        for s in sets:
            names.update(s.names)
        return CodeSet(frozenset().union(*(s.codes for s in sets)),
                       frozenset().union(*(s.phases for s in sets)), names)


# =================================================================================== loading
def default_guidelines() -> Guidelines:
    """The firm defaults shipped in ``defaults.yaml``."""
    return _defaults()


@functools.cache
def _defaults() -> Guidelines:
    text = (resources.files("billxl.rules") / "defaults.yaml").read_text(encoding="utf-8")
    return _layer(Guidelines.model_construct(), text, "defaults.yaml", None, base_is_empty=True)


def load_guidelines(path: str | Path | None = None, *, base: Guidelines | None = None) -> Guidelines:
    """The firm defaults (or ``base``) with the guideline file at ``path`` laid over them."""
    base = base or _defaults()
    if path is None:
        return base
    shown = str(path)
    file = Path(path)
    if not file.is_file():
        raise InputError(f"There is no guideline file {shown}.")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"The guideline file {shown} cannot be read: {exc}") from None
    return _layer(base, text, shown, file.parent)


def load_client_guidelines(clients: pd.DataFrame, folder: str | Path, *,
                           base: Guidelines | None = None) -> dict[str, Guidelines]:
    """Each client's guidelines, by client_id, from ``folder/<guideline_set>.yaml``.

    Clients without a ``guideline_set`` are left out (they follow ``base`` / the defaults).
    Each file is read once however many clients share it; every missing file is named at once.
    """
    folder = Path(folder)
    named = clients.dropna(subset=["guideline_set"])
    named = named[named["guideline_set"].astype(str).str.strip() != ""]
    loaded: dict[str, Guidelines] = {}
    missing: list[Problem] = []
    for name in dict.fromkeys(named["guideline_set"].astype(str).str.strip()):
        path = folder / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
        if not path.is_file():
            missing.append(Problem(file=str(path), row=None, column=None, value=None,
                                   reason=f"no guideline file for guideline set {name!r}"))
            continue
        loaded[name] = load_guidelines(path, base=base)
    if missing:
        raise InputError(f"{len(missing)} guideline file(s) named by clients are missing.", missing)
    sets = named["guideline_set"].astype(str).str.strip()
    return {cid: loaded[name] for cid, name in zip(named["client_id"], sets, strict=True)}


# =================================================================================== layering
def _layer(base: Guidelines, text: str, shown: str, folder: Path | None, *,
           base_is_empty: bool = False) -> Guidelines:
    raw, lines = _parse(text, shown)
    merged = {} if base_is_empty else base.model_dump()
    for key, value in raw.items():
        if key in MERGED_SETTINGS and isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    problems: list[Problem] = []
    result: Guidelines | None = None
    try:
        result = Guidelines.model_validate(merged)
    except ValidationError as exc:
        problems += [_problem(shown, lines, err) for err in exc.errors()]
    problems += _unknown_rule_ids(raw, shown, lines)
    code_paths = dict(base._code_paths) if not base_is_empty else {}
    code_sets = raw.get("code_sets") if isinstance(raw.get("code_sets"), Mapping) else {}
    for kind, names in code_sets.items():
        if kind not in CodeSetFiles.model_fields or not isinstance(names, list | tuple):
            continue  # the schema has said what is wrong with it
        found = []
        for i, name in enumerate(names):
            path = _find_code_set(str(name), folder)
            if path is None:
                problems.append(_at(shown, lines, ("code_sets", kind, i),
                                    f"there is no code-set file {name!r} beside the guideline "
                                    f"file or among the UTBMS sets shipped with billxl"))
            else:
                found.append(path)
        code_paths[kind] = tuple(found)
    if problems:
        problems.sort(key=lambda p: _line_of(p))
        raise InputError(f"The guideline file {shown} has {len(problems)} mistake(s).", problems)
    assert result is not None
    result._sources = (*base._sources, shown) if not base_is_empty else (shown,)
    result._code_paths = code_paths
    for kind in ("task", "activity", "expense"):
        try:
            result.codes(kind)
        except InputError as exc:  # a code-set file that is not a usable CSV
            raise InputError(f"The guideline file {shown} names a code set billxl cannot read: "
                             f"{exc}") from None
    return result


class _ExactLoader(yaml.SafeLoader):
    """YAML with numbers that have a fraction read as Decimal (exact), not float."""


def _exact_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    try:
        return Decimal(str(text).replace("_", ""))
    except InvalidOperation:
        return loader.construct_yaml_float(node)  # .inf / .nan: the schema will refuse them


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _exact_float)


def _parse(text: str, shown: str) -> tuple[dict, dict[tuple, int]]:
    """The file's settings, and the line (1-based) of every key and list item in it."""
    try:
        data = yaml.load(text, Loader=_ExactLoader)  # noqa: S506 - a SafeLoader subclass
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"The guideline file {shown} is not valid YAML.",
                         [Problem(file=shown, row=None, column=None, value=None,
                                  reason=f"{where}{what}")]) from None
    if data is None:
        return {}, {}
    data = _text_keys(data)
    if not isinstance(data, dict):
        raise InputError(f"The guideline file {shown} should hold settings as 'name: value' "
                         f"lines, not a {type(data).__name__}.")
    lines: dict[tuple, int] = {}
    duplicates: list[Problem] = []
    for path, key_node in _walk(node, ()):
        if path in lines:
            duplicates.append(_at(shown, {path: key_node.start_mark.line + 1}, path,
                                  f"{_name(path)} is set twice (first on line {lines[path]})"))
        lines[path] = key_node.start_mark.line + 1
    if duplicates:
        raise InputError(f"The guideline file {shown} has {len(duplicates)} mistake(s).", duplicates)
    return data, lines


def _text_keys(value: Any) -> Any:
    """Mapping keys as text, as the file shows them (a key written 111 is the code '111')."""
    if isinstance(value, dict):
        return {str(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def _walk(node: yaml.Node, path: tuple) -> Iterator[tuple[tuple, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, key_node.value)
            yield key, key_node
            yield from _walk(value_node, key)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield (*path, i), item
            yield from _walk(item, (*path, i))


# =================================================================================== messages
def _name(path: tuple) -> str:
    """A setting's name as a user would write it: 'expense_caps.E111', 'disabled_rules item 2'."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f" item {part + 1}"
        else:
            name += f".{part}" if name else str(part)
    return name or "(the file)"


def _at(shown: str, lines: Mapping[tuple, int], path: tuple, reason: str) -> Problem:
    line = None
    for end in range(len(path), 0, -1):  # the nearest enclosing key the file names
        line = lines.get(tuple(path[:end]))
        if line is not None:
            break
    prefix = f"line {line}: " if line is not None else ""
    return Problem(file=shown, row=None, column=None, value=None, reason=prefix + reason)


def _line_of(problem: Problem) -> int:
    head = problem.reason.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


def _allowed(path: tuple) -> list[str]:
    if not path:
        return list(Guidelines.model_fields)
    if path == ("code_sets",):
        return list(CodeSetFiles.model_fields)
    return []


_TYPE_WORDS = {
    "decimal_parsing": "must be a number", "decimal_type": "must be a number",
    "float_parsing": "must be a number", "float_type": "must be a number",
    "int_parsing": "must be a whole number", "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false", "bool_type": "must be true or false",
    "string_type": "must be text",
    "string_pattern_mismatch": "must be a UTBMS-style code such as E111",
    "list_type": "must be a list in square brackets, e.g. [E101, E106]",
    "tuple_type": "must be a list in square brackets, e.g. [E101, E106]",
    "dict_type": "must be a mapping of 'key: value' lines",
    "model_type": "must be a mapping of 'key: value' lines",
    "finite_number": "must be a finite number",
    "decimal_max_places": "has too many decimal places",
}


def _problem(shown: str, lines: Mapping[tuple, int], err: Mapping[str, Any]) -> Problem:
    loc = tuple(err["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"
    path = loc[:-1] if is_key else loc
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    name = _name(path)
    if kind == "extra_forbidden":
        allowed = _allowed(path[:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
        where = "setting" if len(path) == 1 else f"{_name(path[:-1])} entry"
        reason = f"{path[-1]!r} is not a known {where}"
        if close:
            reason += f" (did you mean {close[0]!r}?)"
        elif allowed:
            reason += f"; the known ones are {', '.join(allowed)}"
    elif kind == "missing":
        reason = f"{name} is missing"
    elif is_key:
        reason = f"{path[-1]!r} in {_name(path[:-1])} {_TYPE_WORDS.get(kind, err['msg'])}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        bound = next(iter(ctx.values()), "")
        reason = f"{name} must be {words} {bound}, got {_shown(value)}"
    elif kind in ("enum", "literal_error"):
        reason = f"{name} must be one of {ctx.get('expected', '')}, got {_shown(value)}"
    elif kind in _TYPE_WORDS:
        reason = f"{name} {_TYPE_WORDS[kind]}, got {_shown(value)}"
    else:
        reason = f"{name} {err['msg'].removeprefix('Value error, ')}, got {_shown(value)}"
    return _at(shown, lines, path, reason)


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list | tuple):
        return "a " + ("mapping" if isinstance(value, dict) else "list")
    return repr(value)


def _unknown_rule_ids(raw: Mapping, shown: str, lines: Mapping[tuple, int]) -> list[Problem]:
    """Rule ids in disabled_rules and severity that no rule has (a typo would silently do nothing)."""
    known = list(RULES)
    found: list[tuple[tuple, str]] = []
    disabled = raw.get("disabled_rules")
    if isinstance(disabled, list):
        found += [(("disabled_rules", i), str(v)) for i, v in enumerate(disabled)]
    severity = raw.get("severity")
    if isinstance(severity, Mapping):
        found += [(("severity", k), str(k)) for k in severity]
    problems = []
    for path, rule_id in found:
        if rule_id in RULES:
            continue
        close = difflib.get_close_matches(rule_id.upper(), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(_at(shown, lines, path, f"{rule_id!r} is not a rule id{hint}"))
    return problems


# =================================================================================== code sets
def _find_code_set(name: str, folder: Path | None) -> Traversable | None:
    if folder is not None and (folder / name).is_file():
        return folder / name
    shipped = resources.files("billxl").joinpath(*_SHIPPED_CODE_SETS, name)
    return shipped if shipped.is_file() else None


@functools.lru_cache(maxsize=64)
def _read_code_set(path: Traversable) -> CodeSet:
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path.name}: {exc}") from None
    if rows and "code" not in rows[0]:
        raise InputError(f"{path.name} has no 'code' column")
    codes = frozenset(r["code"].strip().upper() for r in rows if (r.get("code") or "").strip())
    # in a set with a 'phase' column, a code without a phase is a phase heading (L100)
    has_phase = bool(rows) and "phase" in rows[0]
    phases = frozenset(r["code"].strip().upper() for r in rows
                       if has_phase and (r.get("code") or "").strip()
                       and not (r.get("phase") or "").strip())
    names = {r["code"].strip().upper(): (r.get("name") or "").strip() for r in rows
             if (r.get("code") or "").strip()}
    return CodeSet(codes, phases, names)
