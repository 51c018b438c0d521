"""The Billing ribbon: a ``customUI/customUI14.xml`` part (Office 2010+ namespace) made from the
layout's commands (:data:`billxl.excel.layout.COMMANDS`).

A tab (``layout.RIBBON_TAB``) with one group per ``layout.RIBBON_GROUPS`` entry; each button's
``id`` is the command id and its ``onAction`` the one dispatcher macro (``layout.DISPATCHER``,
in ``workbooks/vba/billxl_ribbon.bas``), which hands ``control.ID`` to Python. The workbook's
tab also names ``getVisible`` (``BillxlTabVisible``), so that it stands aside while the add-in,
which shows the same tab, is open.

The package relationship that points at the part (type :data:`UI_RELATIONSHIP`, the 2007
``ui/extensibility`` type, which Office uses for the 2009/07 part too) is added by
:mod:`billxl.excel.workbook_build.package`.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from billxl.excel import layout

__all__ = ["NAMESPACE", "PART", "UI_RELATIONSHIP", "TAB_VISIBLE", "ribbon_xml"]

NAMESPACE = "http://schemas.microsoft.com/office/2009/07/customui"
PART = "customUI/customUI14.xml"
UI_RELATIONSHIP = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
#: The workbook tab's getVisible callback (billxl_ribbon.bas).
TAB_VISIBLE = "BillxlTabVisible"


def _attrs(**values: str) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in values.items())


def _group_id(group: str) -> str:
    return "billxl" + "".join(word.capitalize() for word in group.split())


def ribbon_xml(*, workbook: bool) -> bytes:
    """The customUI14 part: the workbook's (``workbook=True``: its tab hides while the add-in is
    open) or the add-in's."""
    tab_id, tab_label = layout.RIBBON_TAB
    tab = {"id": tab_id, "label": tab_label, "insertAfterMso": "TabHome"}
    if workbook:
        tab["getVisible"] = TAB_VISIBLE
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             f'<customUI xmlns="{NAMESPACE}">',
             "  <ribbon>",
             "    <tabs>",
             f"      <tab{_attrs(**tab)}>"]
    for group in layout.RIBBON_GROUPS:
        commands = [c for c in layout.COMMANDS if c.group == group]
        if not commands:
            continue
        lines.append(f"        <group{_attrs(id=_group_id(group), label=group)}>")
        for c in commands:
            lines.append("          <button" + _attrs(
                id=c.id, label=c.label, size="large", imageMso=c.image, screentip=c.label,
                supertip=c.screentip, onAction=layout.DISPATCHER) + "/>")
        lines.append("        </group>")
    lines += ["      </tab>", "    </tabs>", "  </ribbon>", "</customUI>", ""]
    return "\r\n".join(lines).encode("utf-8")
