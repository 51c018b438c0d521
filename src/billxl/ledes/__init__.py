"""LEDES e-billing: write 1998B, 98BI V2 and XML 2.1 from final invoices, read and validate any
LEDES file against the formats and the client's portal, and track each submission until paid.

::

    from billxl import ledes

    checked = ledes.validate("invoice.txt", portal="legaltracker")  # findings as data
    checked.findings        # line, invoice, field, rule, severity, message, suggestion
    parsed = ledes.parse("invoice.txt")                              # exact frames
    parsed.lines            # one row per line item: minor units, thousandths, dates
    result = ledes.export_invoices(ledger, "out/", month="2026-10")  # refuses what a portal
    paths = ledes.export_for_portals(ledger, "2026-10", "out/", actor="me")  # would reject

Modules: :mod:`.formats` (the formats as data), :mod:`.parser`, :mod:`.xml21` (XML and its
schema), :mod:`.validate` (the checks; ids in :data:`CHECKS`), :mod:`.portals` (portal profiles,
YAML files in ``portals/``), :mod:`.writer` (ledger to LEDES), :mod:`.export` (files checked
before they are written), :mod:`.submissions` (tracking), :mod:`.cli` (``billxl ledes``).
"""

from billxl.ledes.export import ExportResult, export_for_portals, export_invoices
from billxl.ledes.findings import CHECKS, FINDING_COLUMNS, NotLedesError
from billxl.ledes.formats import FORMAT_NAMES, FORMATS, LINE_COLUMNS
from billxl.ledes.parser import LedesFile, parse
from billxl.ledes.portals import PortalProfile, load_portal, shipped_portals
from billxl.ledes.validate import Validation, validate
from billxl.ledes.writer import ledes_lines, load_invoices, render

__all__ = [
    "CHECKS",
    "FINDING_COLUMNS",
    "FORMATS",
    "FORMAT_NAMES",
    "LINE_COLUMNS",
    "ExportResult",
    "LedesFile",
    "NotLedesError",
    "PortalProfile",
    "Validation",
    "export_for_portals",
    "export_invoices",
    "ledes_lines",
    "load_invoices",
    "load_portal",
    "parse",
    "render",
    "shipped_portals",
    "validate",
]
