"""LEDES files from final invoices: round trips, portal checks before export, encodings.

The ledger is the one tests/test_invoicing.py builds (hourly, discounted with VAT, fixed fee,
capped, split 60/40 between two payors), on SQLite and PostgreSQL, with e-billing portals,
LEDES client ids and client matter ids set for its clients.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from billxl.billing.credit_notes import issue_credit_note, list_invoices
from billxl.billing.invoicing import finalize
from billxl.errors import InputError, LedgerError
from billxl.ledes import parse, validate
from billxl.ledes.export import export_invoices
from billxl.ledes.writer import ledes_lines, load_invoices, render
from billxl.rules import load_guidelines
from billxl.store import tables as t
from tests.test_invoicing import load

PORTALS = {"C1": "legaltracker", "C2": "tymetrix", "C3": "counsellink"}
#: C2 bills 1.25 hours: its guidelines bill it by the twentieth of an hour (its portal follows)
GUIDELINES = Path(__file__).parent / "data" / "guidelines"


def set_up(ledger, *, portals=PORTALS, activity="A103", narrative=None,
           partner_class: str | None = None, override: str | None = None) -> None:
    """The invoicing test's ledger, with what e-billing clients have, finalized for 2026-10
    (``override``: finalized even where a portal would refuse an invoice, as these tests want
    final invoices that a portal refuses)."""
    e_billed(ledger, portals=portals, activity=activity, narrative=narrative,
             partner_class=partner_class)
    finalize(ledger, month="2026-10", override=override)


def e_billed(ledger, *, portals=PORTALS, activity="A103", narrative=None,
             partner_class: str | None = None) -> None:
    """The invoicing test's ledger (approved pre-bills for 2026-10) with what e-billing
    clients have: portals, LEDES client ids, client matter ids, activity codes."""
    load(ledger)
    with ledger.transaction() as conn:
        for client, portal in portals.items():
            conn.execute(sa.update(t.clients).where(t.clients.c.client_id == client)
                         .values(ebilling_portal=portal, ledes_client_id=f"LF-{client}"))
        conn.execute(sa.update(t.matters).values(client_matter_id="CLM-" + t.matters.c.matter_id))
        conn.execute(sa.update(t.time_entries).values(activity_code=activity))
        if narrative:
            conn.execute(sa.update(t.time_entries).where(t.time_entries.c.entry_id == "T1")
                         .values(narrative=narrative))
        if partner_class:
            conn.execute(sa.update(t.timekeepers).where(t.timekeepers.c.timekeeper_id == "TK1")
                         .values(classification=partner_class))
        conn.execute(sa.update(t.firm).values(address_1="1 Main Street", city="New York",
                                              region="NY", postcode="10001", country="US",
                                              guidelines_dir=str(GUIDELINES)))
        conn.execute(sa.update(t.clients).where(t.clients.c.client_id == "C2")
                     .values(guideline_set="twentieth-hour"))


def client_guidelines() -> dict:
    """The clients' guidelines by the LEDES client ids their files carry."""
    return {"LF-C2": load_guidelines(GUIDELINES / "twentieth-hour.yaml")}


@pytest.fixture
def ledger(empty_ledger):
    set_up(empty_ledger)
    return empty_ledger


def ledger_lines(ledger) -> pd.DataFrame:
    inv, il = t.invoices, t.invoice_lines
    return ledger.read_frame(
        sa.select(inv.c.number, inv.c.total_minor.label("invoice_total"),
                  inv.c.tax_minor.label("invoice_tax"), inv.c.currency, il)
        .join(il, il.c.invoice_pk == inv.c.invoice_pk).order_by(inv.c.number, il.c.line_no),
        dates=["work_date"])


@pytest.mark.parametrize("fmt", ["1998B", "98BI", "XML21"])
def test_every_invoice_round_trips_through_each_format(ledger, fmt):
    stored = ledger_lines(ledger)
    data = load_invoices(ledger)
    if fmt == "1998B":  # 1998B has no tax: the VAT invoice is refused, never written without it
        taxed = data.invoices.loc[data.invoices["tax_minor"] != 0, "number"].tolist()
        with pytest.raises(InputError, match=f"Invoice {taxed[0]} carries tax"):
            render(ledes_lines(data), fmt)
        stored = stored[~stored["number"].isin(taxed)]
        keep = data.invoices[~data.invoices["number"].isin(taxed)]
        data.invoices = keep
        data.lines = data.lines[data.lines["invoice_pk"].isin(keep["invoice_pk"])]
    parsed = parse(render(ledes_lines(data), fmt).data)
    back = parsed.lines.sort_values(["invoice_number", "line"], kind="stable") \
        .reset_index(drop=True)
    stored = stored.reset_index(drop=True)
    assert back["invoice_number"].tolist() == stored["number"].tolist()
    assert back["line_type"].tolist() == stored["line_type"].tolist()
    assert back["amount_minor"].tolist() == stored["amount_minor"].tolist()
    assert back["tax_minor"].tolist() == stored["tax_minor"].tolist()
    assert back["currency"].tolist() == stored["currency"].tolist()
    entry = stored["line_type"].isin(["F", "E"]).to_numpy()
    assert back["quantity_milli"][entry].tolist() == stored["quantity_milli"][entry].tolist()
    assert back["unit_minor"][entry].tolist() == stored["unit_minor"][entry].tolist()
    assert back["line_item_description"].tolist() == stored["narrative"].tolist()
    assert back["line_item_date"].tolist() == stored["work_date"].tolist()
    assert back["task_code"].tolist() == stored["task_code"].fillna("").tolist()
    if fmt != "1998B":
        assert [float(p) for p in back["tax_percent"]] == \
            [float(p) for p in stored["tax_percent"]]
    totals = parsed.invoices.set_index("invoice_number")
    expected = stored.drop_duplicates("number").set_index("number")
    assert totals["total_minor"].to_dict() == expected["invoice_total"].to_dict()
    assert totals["tax_minor"].to_dict() == expected["invoice_tax"].to_dict()
    # units x unit cost + adjustment = line total on every line, split billing included
    assert validate(parsed).findings.query("severity == 'error'").empty


def test_split_billing_shows_the_payors_share_as_an_adjustment(ledger):
    lines = ledes_lines(load_invoices(ledger))
    split = lines[lines["law_firm_matter_id"] == "M5"]
    # 1.0 h and 0.1 h at 333.33, split 60/40: each payor's line is the full extension
    assert split["quantity_milli"].tolist() == [1000, 100, 1000, 100]
    assert split["unit_minor"].tolist() == [33333] * 4
    assert split["amount_minor"].tolist() == [20000, 2000, 13333, 1333]
    assert split["adjustment_minor"].tolist() == [-13333, -1333, -20000, -2000]
    assert split["client_id"].tolist() == ["LF-C1", "LF-C1", "LF-C3", "LF-C3"]
    fixed = lines[lines["law_firm_matter_id"] == "M3"]  # time shown at zero, the fee as IF
    assert fixed["line_type"].tolist() == ["F", "IF"]
    assert fixed["adjustment_minor"].tolist() == [-150000, 0]
    assert fixed["unit_minor"].tolist() == [50000, 500000]


def test_every_exported_file_passes_its_clients_portal(ledger, tmp_path):
    result = export_invoices(ledger, tmp_path / "ledes", month="2026-10")
    assert result.refused == []
    written = {f.invoice: f for f in result.written}
    assert len(written) == 6
    by_matter = load_invoices(ledger).invoices.set_index("matter_id")
    vat = written[by_matter.loc["M2", "number"]]
    assert (vat.portal, vat.format) == ("tymetrix", "98BI")  # taxed: 98BI, not 1998B
    assert {f.format for n, f in written.items() if n != vat.invoice} == {"1998B"}
    # a file checked on its own follows the firm defaults, unless told the client's guidelines
    twentieth = client_guidelines()
    assert validate(vat.path, portal="tymetrix").findings.query(
        "severity == 'error'")["rule"].tolist() == ["INCREMENT"]
    for f in result.written:
        assert f.path.name == f"{f.invoice}_LEDES{f.format}.txt"
        checked = validate(f.path, portal=f.portal, guidelines_of_client=twentieth)
        assert checked.findings.query("severity == 'error'").empty, checked.findings
        assert f.path.read_bytes().decode("cp1252").startswith(f"LEDES{f.format}"[:10])
    # CounselLink wants invoice-level lines as an adjustment; Legal Tracker as a unit cost
    capped = parse(written[by_matter.loc["M4", "number"]].path).lines
    assert capped.loc[1, ["line_type", "quantity_milli", "unit_minor", "adjustment_minor"]] \
        .tolist() == ["IF", 1000, -50000, 0]


def test_an_invoice_the_portal_would_reject_is_refused_unless_forced(empty_ledger, tmp_path):
    set_up(empty_ledger, activity=None,  # no activity codes: TyMetrix wants them
           override="a test of what the export refuses")
    numbers = load_invoices(empty_ledger).invoices.set_index("matter_id")["number"]
    out = tmp_path / "m2.txt"
    result = export_invoices(empty_ledger, out, numbers=[numbers["M2"]])
    assert [f.path for f in result.files] == [None] and not out.exists()
    refused = result.refused[0]
    assert refused.reasons == [
        f"line {n}: PORTAL_UTBMS_REQUIRED: TyMetrix 360 requires LINE_ITEM_ACTIVITY_CODE on "
        "every fee line." for n in (3, 4)]
    forced = export_invoices(empty_ledger, out, numbers=[numbers["M2"]], force=True)
    assert forced.written[0].path == out and out.exists()
    assert "forced" in forced.written[0].notes[-1]
    # another format on request, for another portal
    xml = export_invoices(empty_ledger, tmp_path, numbers=[numbers["M1"]], fmt="XML21")
    assert xml.written[0].path.name == f"{numbers['M1']}_LEDESXML21.xml"
    assert validate(xml.written[0].path).findings.query("severity == 'error'").empty


def test_a_character_cp1252_cannot_hold_is_named(empty_ledger, tmp_path):
    set_up(empty_ledger, narrative="Call re Łódź filing → court",
           override="a test of what the export refuses")
    data = load_invoices(empty_ledger)
    number = data.invoices.set_index("matter_id").loc["M1", "number"]
    with pytest.raises(InputError) as error:
        render(ledes_lines(data), "98BI", name="out.txt")
    assert str(error.value).startswith(f"LEDES 98BI for invoice {number} cannot be written in "
                                       "cp1252 (ANSI): 1 field(s) hold characters")
    problem = error.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (3, "LINE_ITEM_DESCRIPTION", "Łź→")
    assert problem.reason == (f"invoice {number} line 1: 'Ł' (U+0141 LATIN CAPITAL LETTER L "
                              "WITH STROKE), 'ź' (U+017A LATIN SMALL LETTER Z WITH ACUTE), '→' "
                              "(U+2192 RIGHTWARDS ARROW) cannot be written in cp1252 (ANSI)")
    refused = export_invoices(empty_ledger, tmp_path, numbers=[number]).refused
    assert "U+2192 RIGHTWARDS ARROW" in refused[0].reasons[1]
    result = export_invoices(empty_ledger, tmp_path, numbers=[number], transliterate=True)
    text = result.written[0].path.read_bytes().decode("cp1252")
    assert "Call re Lódz filing -> court" in text  # ó is in cp1252 and stays
    assert result.written[0].notes == ["3 character(s) cp1252 cannot hold were transliterated."]
    utf8 = export_invoices(empty_ledger, tmp_path / "utf8", numbers=[number], encoding="utf-8",
                           portal="generic")
    assert "Łódź filing → court" in utf8.written[0].path.read_text(encoding="utf-8")


def test_pipes_and_line_breaks_in_narratives_cannot_break_the_file(empty_ledger, tmp_path):
    set_up(empty_ledger, narrative="Drafted A|B\nand revised")
    number = load_invoices(empty_ledger).invoices.set_index("matter_id").loc["M1", "number"]
    result = export_invoices(empty_ledger, tmp_path, numbers=[number])
    f = result.written[0]
    assert parse(f.path).lines.loc[0, "line_item_description"] == "Drafted A/B and revised"
    assert f.notes == ["LINE_ITEM_DESCRIPTION: '|' written as '/' in 1 line(s).",
                       "LINE_ITEM_DESCRIPTION: line breaks and tabs written as spaces in 1 line(s)."]


def test_credit_notes_export_and_unknown_invoices_are_refused(ledger, tmp_path):
    number = load_invoices(ledger).invoices.set_index("matter_id").loc["M1", "number"]
    note = issue_credit_note(ledger, number, reason="wrong matter", lines=[1],
                             on=date(2026, 10, 31))
    result = export_invoices(ledger, tmp_path, numbers=[note["number"]], portal="generic")
    credit = parse(result.written[0].path).lines
    assert credit[["quantity_milli", "unit_minor", "line_total_minor"]].values.tolist() == [
        [-1500, 50000, -75000]]
    # a portal that takes no negative units refuses the same credit note
    strict = export_invoices(ledger, tmp_path / "lt", numbers=[note["number"]])
    assert [r.split(": ")[1] for r in strict.refused[0].reasons] == ["PORTAL_NEGATIVE_UNITS"]
    with pytest.raises(LedgerError, match="no final invoice 999999"):
        export_invoices(ledger, tmp_path, numbers=["999999"])
    assert np.all([p.suffix != ".part" for p in tmp_path.rglob("*")])  # nothing half-written


def test_a_batch_gets_the_findings_each_file_would_get(empty_ledger, tmp_path):
    """Invoices for one portal are checked together; each still gets its own file's findings,
    with its own file's line numbers."""
    # a classification Legal Tracker does not know, on every line of the partner (TK1)
    set_up(empty_ledger, portals={"C1": "legaltracker", "C2": "legaltracker",
                                  "C3": "legaltracker"}, partner_class="SENIOR",
           override="a test of what the export refuses")
    result = export_invoices(empty_ledger, tmp_path, month="2026-10")
    assert len(result.refused) == 5 and [f.format for f in result.written] == ["98BI"]
    for f in result.files:
        alone = validate(f.data, portal="legaltracker",
                         guidelines_of_client=client_guidelines()).findings
        columns = ["line", "field", "rule", "severity", "message"]
        pd.testing.assert_frame_equal(f.findings[columns].reset_index(drop=True),
                                      alone[columns].reset_index(drop=True), obj=f.invoice)
    m5 = next(f for f in result.refused if f.client_id == "C1" and f.invoice == "000005")
    assert m5.reasons == [f"line {n}: PORTAL_CLASSIFICATION: TIMEKEEPER_CLASSIFICATION "
                          "'SENIOR' is not one Legal Tracker knows." for n in (3, 4)]


def test_a_month_exports_the_e_billed_clients_and_says_which_were_left_out(empty_ledger,
                                                                            tmp_path):
    set_up(empty_ledger, portals={"C1": "legaltracker"})  # the other clients have no portal
    result = export_invoices(empty_ledger, tmp_path / "ledes", month="2026-10")
    assert result.refused == []
    assert {f.client_id for f in result.written} == {"C1"}
    assert {f.portal for f in result.written} == {"legaltracker"}
    register = list_invoices(empty_ledger).set_index("number")
    others = sorted(n for n, c in register["client_id"].items() if c != "C1")
    assert others and result.not_ebilled == others
    # asked for by number, an invoice of a client without a portal is written under the
    # generic profile
    one = export_invoices(empty_ledger, tmp_path / "one", numbers=[others[0]])
    assert [f.portal for f in one.written] == ["generic"] and one.not_ebilled == []
