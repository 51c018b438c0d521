"""Where the firm's document templates live, what they say, and the Jinja environment.

The firm edits ``templates/`` (Typst, HTML, CSS and ``documents.yaml``), never code. The folder is
the first of: the ``templates`` argument (``--templates``), ``$BILLXL_TEMPLATES``, the ledger's
setting ``templates_dir`` (``billxl firm edit --templates-dir``), a ``templates/`` folder holding
``documents.yaml`` in the working directory, and billxl's own templates (:mod:`billxl.shipped`).
A firm's folder overrides billxl's files one by one (it may hold only ``invoice.typ``), and its
``documents.yaml`` overrides billxl's setting by setting. Everything read from it is cached per
folder and process (a batch renders thousands of documents).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from billxl import shipped
from billxl.cells import visible_text
from billxl.errors import BillxlError

KIND = "templates"  # billxl's own, in billxl.shipped
ENV_VAR = shipped.FIRM_FOLDERS[KIND][1]  # BILLXL_TEMPLATES
SETTINGS_FILE = "documents.yaml"


def template_dir(templates: str | os.PathLike | None = None,
                 firm: Mapping[str, Any] | None = None) -> Path:
    """The folder of document templates to use (see the module's docstring for the order);
    ``firm`` is the firm's row (its ``templates_dir``), where the caller has it."""
    named = shipped.firm_dir(KIND, templates, firm)
    if named is not None:
        return named
    here = Path.cwd() / "templates"
    if (here / SETTINGS_FILE).is_file():
        return here.resolve()
    return shipped.default_dir(KIND).resolve()


@lru_cache(maxsize=8)
def _load_settings(folder: str) -> dict[str, Any]:
    path = Path(folder) / SETTINGS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise BillxlError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise BillxlError(f"{path} must hold a mapping of settings at the top level")
    return data


def _merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "remittance":
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


@lru_cache(maxsize=8)
def _settings(folder: str) -> dict[str, Any]:
    own = shipped.default_dir(KIND).resolve()
    defaults = _load_settings(str(own))
    if Path(folder) == own or not (Path(folder) / SETTINGS_FILE).is_file():
        return defaults
    # a firm's copy made before a label was added still gets that label
    return _merged(defaults, _load_settings(folder))


def settings(folder: Path) -> dict[str, Any]:
    """The firm's ``documents.yaml`` (letterhead, labels, texts, bank details, layout), over
    billxl's own for anything the firm's copy does not set."""
    return _settings(str(folder))


def css_string(value: Any) -> Markup:
    """A value as a quoted CSS string (for ``content:`` in page margin boxes), safe in <style>."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    text = text.replace("<", "\\3c ").replace(">", "\\3e ")
    return Markup(f'"{text}"')


def _shown(value: Any) -> Any:
    """Every value a template prints, less the characters that do not show
    (:data:`billxl.cells.HIDDEN`); then escaped (autoescape), unless it is markup already."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_text(value)
    return value


@lru_cache(maxsize=8)
def _environment(folder: str) -> jinja2.Environment:
    own = str(shipped.default_dir(KIND).resolve())
    env = jinja2.Environment(
        # the firm's file where it has one, else billxl's (a firm may change only invoice.html)
        loader=jinja2.FileSystemLoader([folder] if folder == own else [folder, own]),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        undefined=jinja2.StrictUndefined,  # a misspelt field in a template fails loudly
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    env.filters["css_string"] = css_string
    return env


def environment(folder: Path) -> jinja2.Environment:
    """The Jinja environment of a template folder, over billxl's own templates for the files it
    does not have (HTML autoescaped, undefined names fail)."""
    return _environment(str(folder))


@lru_cache(maxsize=256)
def _text_template(text: str) -> jinja2.Template:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return env.from_string(text)


def render_text(template: str | None, **values: Any) -> str:
    """A short text from ``documents.yaml`` (it may use ``{{ name }}`` fields) filled in."""
    if not template:
        return ""
    if "{" not in str(template):
        return str(template).strip()
    try:
        return _text_template(str(template)).render(**values).strip()
    except jinja2.TemplateError as error:
        raise BillxlError(f"The text {template!r} in {SETTINGS_FILE} cannot be filled in: "
                          f"{error}") from None


#: the countries whose paper is US letter (elsewhere A4)
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "PR"})
PDF_ENGINES = ("typst", "html")


def pdf_settings(conf: dict[str, Any], firm: dict[str, Any]) -> dict[str, str]:
    """How PDFs are made (``pdf:`` in documents.yaml): the engine, the paper and the language.

    ``engine``: ``typst`` (the ``.typ`` templates; the default) or ``html`` (the ``.html``
    templates and ``print.css``, laid out by WeasyPrint; its paper is set in print.css).
    ``paper``: ``a4``, ``letter`` or ``auto`` (letter for a firm in the US, Canada and the
    other countries that use it; else A4).
    """
    pdf = conf.get("pdf") or {}
    engine = str(pdf.get("engine") or "typst").strip().lower()
    if engine not in PDF_ENGINES:
        raise BillxlError(f"{SETTINGS_FILE}: pdf: engine: {engine!r} is not one billxl knows; "
                          f"choose {' or '.join(PDF_ENGINES)}.")
    paper = str(pdf.get("paper") or "auto").strip().lower()
    if paper == "auto":
        country = str(firm.get("country") or "").strip().upper()[:2]
        paper = "letter" if country in LETTER_COUNTRIES else "a4"
    if paper not in ("a4", "letter"):
        raise BillxlError(f"{SETTINGS_FILE}: pdf: paper: {paper!r} is not a paper billxl knows; "
                          "choose a4, letter or auto.")
    return {"engine": engine, "paper": "us-letter" if paper == "letter" else "a4",
            "lang": str(pdf.get("language") or "en")}


@lru_cache(maxsize=1)
def expense_codes() -> dict[str, str]:
    """UTBMS expense codes and their names (``data/utbms/expenses.csv``)."""
    text = (resources.files("billxl") / "data" / "utbms" / "expenses.csv").read_text("utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}
