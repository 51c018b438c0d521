"""The last step of a build: the OOXML package (a zip) finished and written reproducibly.

* the workbook part's content type: a macro-enabled workbook, or an add-in;
* the ribbon part (``customUI/customUI14.xml``) and its relationship in ``_rels/.rels``;
* each sheet's column definitions one column each (see :func:`_one_col_each`);
* every part written in a fixed order (``[Content_Types].xml`` first, then ``_rels/.rels``, then
  the rest by name), with one fixed timestamp, compression, permissions and host system, so that
  the same inputs give the same bytes on any machine with the same zlib.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from billxl.excel.workbook_build.ribbon import PART, UI_RELATIONSHIP

__all__ = ["WORKBOOK_TYPE", "ADDIN_TYPE", "CONTENT_TYPES", "RELS", "finish_package"]

WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ADDIN_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CONTENT_TYPES = "[Content_Types].xml"
RELS = "_rels/.rels"
_WORKBOOK_PART = "/xl/workbook.xml"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FIRST = (CONTENT_TYPES, RELS)


def _set_main_type(types: str, content_type: str) -> str:
    pattern = re.compile(r'(<Override PartName="' + re.escape(_WORKBOOK_PART)
                         + r'" ContentType=")[^"]*(")')
    changed, n = pattern.subn(lambda m: m.group(1) + content_type + m.group(2), types)
    if n != 1:
        raise ValueError(f"{CONTENT_TYPES} has no Override for {_WORKBOOK_PART}")
    return changed


def _with_ribbon(rels: str) -> str:
    if UI_RELATIONSHIP in rels:
        return rels
    taken = {int(n) for n in re.findall(r'Id="rId(\d+)"', rels)}
    free = next(n for n in range(1, len(taken) + 2) if n not in taken)
    relationship = (f'<Relationship Id="rId{free}" Type="{UI_RELATIONSHIP}" '
                    f'Target="{PART}"/>')
    return rels.replace("</Relationships>", relationship + "</Relationships>", 1)


_SHEET = re.compile(r"xl/worksheets/sheet\d+\.xml")
_COLUMN_SPAN = re.compile(r'<col min="(\d+)" max="(\d+)"([^>]*)/>')


def _one_col_each(sheet: str) -> str:
    """A sheet's column definitions one column each: XlsxWriter writes alike neighbours as a
    span, and a reader that looks a column's style up by its letter (openpyxl, the file
    adapter) would miss all but the first."""
    def split(m: re.Match) -> str:
        first, last, rest = int(m.group(1)), int(m.group(2)), m.group(3)
        return "".join(f'<col min="{i}" max="{i}"{rest}/>' for i in range(first, last + 1))

    return _COLUMN_SPAN.sub(split, sheet)


def finish_package(source: Path, target: Path, *, addin: bool, ribbon: bytes) -> None:
    """Write ``source``'s package to ``target`` with the main content type, the ribbon and the
    fixed zip layout."""
    with zipfile.ZipFile(source) as z:
        parts = {info.filename: z.read(info) for info in z.infolist()}
    parts[CONTENT_TYPES] = _set_main_type(parts[CONTENT_TYPES].decode("utf-8"),
                                          ADDIN_TYPE if addin else WORKBOOK_TYPE).encode("utf-8")
    parts[RELS] = _with_ribbon(parts[RELS].decode("utf-8")).encode("utf-8")
    parts[PART] = ribbon
    for name in [n for n in parts if _SHEET.fullmatch(n)]:
        parts[name] = _one_col_each(parts[name].decode("utf-8")).encode("utf-8")
    order = [*_FIRST, *sorted(set(parts) - set(_FIRST))]
    with zipfile.ZipFile(target, "w") as out:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            out.writestr(info, parts[name], compresslevel=6)
