"""Portal profiles: what an e-billing portal rejects, as data (one YAML file per portal).

A profile mimics the checks a portal is known to make (from its public help pages) so that a
file is refused here, with a clear reason, instead of there, weeks later. It also says which
format the portal takes from billxl and how it wants flat fees written. Profiles shipped with
billxl live beside this module (``portals/*.yaml``): ``generic`` (the formats' own rules only),
``legaltracker``, ``tymetrix`` and ``counsellink``. A client's portal is named in
``clients.ebilling_portal``; a firm tunes a profile by copying its YAML file and passing the
path instead of the name. Unknown keys are errors, reported with the file and line.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from billxl.errors import InputError, Problem
from billxl.ledes.findings import CHECKS
from billxl.ledes.formats import FORMAT_NAMES, LEDES_98BI

__all__ = ["PortalProfile", "load_portal", "shipped_portals", "GENERIC"]

GENERIC = "generic"
_FIELD_NAMES = set(LEDES_98BI.names)
Severity = Literal["error", "warning", "info"]
Format = Literal["1998B", "98BI", "XML21"]


class PortalProfile(BaseModel):
    """The rules of one portal. Every setting defaults to 'not checked'."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str = ""
    format: Format = "1998B"  # what billxl writes for this portal
    taxed_format: Format = "98BI"  # what it writes when the invoice carries tax
    formats: tuple[Format, ...] = FORMAT_NAMES  # what the portal takes at all
    encoding: Literal["cp1252", "utf-8", "any"] = "any"  # of the pipe formats (XML: UTF-8)
    required_fields: tuple[str, ...] = ()  # on every line
    required_on_fees: tuple[str, ...] = ()  # on F lines
    timekeeper_name_last_first: bool = False
    same_invoice_description: bool = False
    max_description_length: int | None = None
    negative_units: bool = True  # allowed?
    max_if_lines: int | None = None  # per invoice
    flat_fees_as_if_lines: bool = False
    flat_fee_as: Literal["unit_cost", "adjustment", "either"] = "either"
    require_utbms: bool = False
    classifications: tuple[str, ...] | None = None
    #: Billing-guideline rules (ids of :data:`billxl.rules.RULES`) the portal enforces on a
    #: file's lines, with each client's own guideline settings (its increment, daily maximum,
    #: rate caps; the firm defaults for a file checked on its own): the rules themselves run,
    #: not a copy of them, so a file is judged as the entries it came from.
    guideline_rules: tuple[str, ...] = ()
    severity: dict[str, Severity] = {}
    disabled_rules: tuple[str, ...] = ()

    @field_validator("required_fields", "required_on_fees")
    @classmethod
    def _known_fields(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [n for n in names if n not in _FIELD_NAMES]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not LEDES field names")
        return names

    @field_validator("guideline_rules")
    @classmethod
    def _known_guideline_rules(cls, rules: tuple[str, ...]) -> tuple[str, ...]:
        from billxl.rules import RULES

        unknown = [r for r in rules if r not in RULES]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not billing-guideline rule ids")
        return rules

    @field_validator("disabled_rules")
    @classmethod
    def _known_rules(cls, rules: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in rules if r not in CHECKS]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not check ids")
        return rules

    @field_validator("severity")
    @classmethod
    def _known_severity_rules(cls, levels: dict[str, str]) -> dict[str, str]:
        unknown = [r for r in levels if r not in CHECKS]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not check ids")
        return levels

    def format_for(self, taxed: bool) -> str:
        """The format billxl writes for an invoice (with or without tax) for this portal."""
        return self.taxed_format if taxed and self.format == "1998B" else self.format

    @property
    def display(self) -> str:
        return self.title or self.name


def shipped_portals() -> list[str]:
    """The names of the profiles shipped with billxl."""
    folder = resources.files("billxl.ledes") / "portals"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def load_portal(name_or_path: str | Path | PortalProfile | None) -> PortalProfile:
    """A shipped profile by name (``legaltracker``), or a YAML file; None is ``generic``."""
    if isinstance(name_or_path, PortalProfile):
        return name_or_path
    if name_or_path is None or str(name_or_path).strip() == "":
        return _shipped(GENERIC)
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        path = Path(text)
        if not path.is_file():
            raise InputError(f"There is no portal profile file {path}.")
        return _from_yaml(path.read_text(encoding="utf-8"), str(path))
    key = text.strip().lower()
    if key not in shipped_portals():
        raise InputError(f"{text!r} is not a portal profile billxl knows: use one of "
                         f"{', '.join(shipped_portals())}, or the path of a YAML profile.")
    return _shipped(key)


@functools.lru_cache(maxsize=16)
def _shipped(name: str) -> PortalProfile:
    source = resources.files("billxl.ledes") / "portals" / f"{name}.yaml"
    return _from_yaml(source.read_text(encoding="utf-8"), f"portals/{name}.yaml")


def _from_yaml(text: str, shown: str) -> PortalProfile:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(f"{shown} is not valid YAML", [Problem(
            shown, None if mark is None else mark.line + 1, None, None,
            str(getattr(error, "problem", error)))]) from None
    if not isinstance(raw, dict):
        raise InputError(f"{shown} must be a mapping of settings (name: ..., format: ...).")
    try:
        return PortalProfile(**raw)
    except ValidationError as error:
        lines = text.splitlines()
        problems = []
        for e in error.errors():
            key = str(e["loc"][0]) if e["loc"] else ""
            row = next((i + 1 for i, line in enumerate(lines) if line.startswith(f"{key}:")),
                       None)
            problems.append(Problem(shown, row, key or None, None, e["msg"]))
        raise InputError(f"{shown} is not a valid portal profile", problems) from None
