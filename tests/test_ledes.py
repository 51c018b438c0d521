"""Reading and validating LEDES files: the spec's sample, what real systems emit, bad files.

Every bad file here is the spec sample with one thing broken by hand, and the test asserts the
exact findings (line as numbered in the file, field, rule, message).
"""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pytest

from billxl.ledes import NotLedesError, parse, validate
from billxl.ledes.formats import LEDES_1998B, LINE_COLUMNS
from billxl.ledes.values import format_scaled, parse_dates, parse_decimals
from billxl.ledes.writer import render
from tests.conftest import SHARED, shared_or_skip

SHARED_SAMPLE = SHARED / "data" / "ledes" / \
    "ledes1998b_spec_sample.txt"

#: The sample file published with the LEDES 1998B specification (as in ../shared/data/ledes),
#: byte for byte: LF line ends, no newline after the last line, UTF-8 with a U+2019.
SAMPLE_TEXT = "\n".join([
    "LEDES1998B[]",
    LEDES_1998B.field_names_line + "[]",
    "19990225|96542|00711|0528|1684.45|19990101|19990131|For services rendered|1|F|2.00|"
    "-70|630|19990115|L510||A102|22547|Research Attorney\u2019s fees, Set off claim|"
    "24-6437381|350|Arnsley, Robert|PARTNR|423-987[]",
    "19990225|96542|00711|0528|1684.45|19990101|19990131|For services rendered|2|F|2.00|0|"
    "700|19990115|L510||A102|22547|Research attorney's fees, Trial pleading|24-6437381|350|"
    "Arnsley, Robert|PARTNR|423-987[]",
    "19990225|96542|00711|0528|1684.45|19990101|19990131|For services rendered|3|F|0.200|0|"
    "40|19990116|L510||A107|45875|Telephone conference with John Doe|24-6437381|200|"
    "Beaster, John|ASSOC|423-987[]",
    "19990225|96542|00711|0528|1684.45|19990101|19990131|For services rendered|4|E|1|0|"
    "24.95|19990117||E111|||Meals|24-6437381|24.95|||423-987[]",
    "19990225|96542|00711|0528|1684.45|19990101|19990131|For services rendered|5|E|1|0|"
    "289.5|19990117||E110|||Out-of_town travel|24-6437381|289.5|||423-987[]",
    "19990225|96543|00711|1326|1250|19990101|19990131|Monthly Retainer|6|IF|1|1250.|1250|"
    "19990131|||||Monthly Retainer Fee|24-6437381||||425-936[]",
])
SAMPLE = SAMPLE_TEXT.encode("utf-8")


@pytest.fixture
def sample_text() -> str:
    return SAMPLE_TEXT


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def edited(text: str, line: int, old: str, new: str) -> bytes:
    """The sample with ``old`` replaced by ``new`` on one line (numbered from 1)."""
    rows = lines_of(text)
    assert old in rows[line - 1], (old, rows[line - 1])
    rows[line - 1] = rows[line - 1].replace(old, new, 1)
    return "\n".join(rows).encode("utf-8")


def findings_of(data: bytes, **kw) -> list[tuple]:
    result = validate(data, **kw)
    return [(r.line, r.field, r.rule, r.message) for r in result.findings.itertuples()]


# ------------------------------------------------------------------------- the spec sample
def test_the_shared_spec_sample_is_the_one_tested():
    shared_or_skip(SHARED_SAMPLE)
    assert SHARED_SAMPLE.read_bytes() == SAMPLE
    assert parse(SHARED_SAMPLE).invoices.set_index("invoice_number").loc[
        "96542", "total_minor"] == 168445


def test_the_spec_sample_parses_with_its_totals(sample_text):
    f = parse(SAMPLE)
    assert (f.format, f.encoding) == ("1998B", "utf-8")
    assert list(f.lines.columns) == LINE_COLUMNS
    invoices = f.invoices.set_index("invoice_number")
    assert invoices.loc["96542", "total_minor"] == 168445  # 630 + 700 + 40 + 24.95 + 289.5
    assert invoices.loc["96542", "lines"] == 5
    assert invoices.loc["96543", "total_minor"] == 125000
    lines = f.lines
    assert lines["line"].tolist() == [3, 4, 5, 6, 7, 8]
    assert lines["quantity_milli"].tolist() == [2000, 2000, 200, 1000, 1000, 1000]  # 2.00, 0.200
    assert lines["unit_minor"].tolist() == [35000, 35000, 20000, 2495, 28950, 0]  # blank cost
    assert lines["adjustment_minor"].tolist() == [-7000, 0, 0, 0, 0, 125000]  # -70, 1250.
    assert lines["line_total_minor"].tolist() == [63000, 70000, 4000, 2495, 28950, 125000]
    assert lines["amount_minor"].sum() == 168445 + 125000
    assert lines["line_type"].tolist() == ["F", "F", "F", "E", "E", "IF"]
    assert lines.loc[0, "line_item_description"] == "Research Attorney\u2019s fees, Set off claim"
    assert lines.loc[5, "task_code"] == "" and lines.loc[5, "timekeeper_name"] == ""
    assert lines.loc[0, "timekeeper_name"] == "Arnsley, Robert"
    assert lines["invoice_date"].iloc[0] == pd.Timestamp("1999-02-25")
    assert lines["client_matter_id"].tolist()[-1] == "425-936"  # the terminator is not kept
    assert validate(SAMPLE).findings.empty


def _variants(text: str) -> dict[str, bytes]:
    crlf = text.replace("\n", "\r\n")
    return {
        "LF, no final newline": text.encode("utf-8"),
        "CRLF": crlf.encode("utf-8"),
        "CRLF and a final newline": (crlf + "\r\n").encode("utf-8"),
        "LF and a final newline": (text + "\n").encode("utf-8"),
        "cp1252 (ANSI)": crlf.encode("cp1252"),
        "UTF-8 with a BOM": codecs.BOM_UTF8 + crlf.encode("utf-8"),
        "UTF-16 with a BOM": crlf.encode("utf-16"),
        "old Mac CR": text.replace("\n", "\r").encode("utf-8"),
    }


def test_what_real_systems_emit_parses_to_the_same_lines(sample_text):
    expected = parse(SAMPLE).lines
    for name, data in _variants(sample_text).items():
        f = parse(data)
        pd.testing.assert_frame_equal(f.lines, expected, obj=name)
        # UTF-16 is read, but LEDES does not allow it: an error naming it (issue 10)
        assert f.findings["rule"].tolist() == (["ENCODING"] if "UTF-16" in name else []), name
    assert parse(_variants(sample_text)["cp1252 (ANSI)"]).encoding == "cp1252"


def test_numbers_are_read_exactly_and_bad_ones_are_flagged():
    parsed = parse_decimals(["2.00", "0.200", "1250.", "-70", "", ".5", "+3", "24.95",
                             "1,250.00", "1e3", "12 5", "-", "0.12345"], digits=4)
    assert parsed.value.tolist()[:8] == [20000, 2000, 12500000, -700000, 0, 5000, 30000,
                                         249500]
    assert parsed.valid.tolist() == [True] * 4 + [False] + [True] * 3 + [False] * 4 + [True]
    assert parsed.blank.tolist() == [False] * 4 + [True] + [False] * 8
    assert parsed.exact.tolist()[-1] is False  # a fifth decimal cannot be kept
    dates, ok, blank = parse_dates(["19990225", "19990231", "", "1999-02-25", "2024022"])
    assert ok.tolist() == [True, False, False, False, False]
    assert blank.tolist() == [False, False, True, False, False]
    assert dates[0] == np.datetime64("1999-02-25")
    assert format_scaled([63000, -7000, 5], 2, decimals=2).tolist() == ["630.00", "-70.00",
                                                                         "0.05"]
    assert format_scaled([2000, 200, 125], 3, min_decimals=2).tolist() == ["2.00", "0.20",
                                                                           "0.125"]


# ------------------------------------------------------------------------- bad files
def test_a_wrong_line_total(sample_text):
    # line 4: 2.00 x 350 + 0 is 700, not 700.01; the invoice total is right, so it no longer adds
    data = edited(sample_text, 4, "|0|700|", "|0|700.01|")
    assert findings_of(data) == [
        (3, "INVOICE_TOTAL", "INVOICE_TOTAL",
         "INVOICE_TOTAL of invoice 96542 is 1684.45 but its 5 lines add up to 1684.46."),
        (4, "LINE_ITEM_TOTAL", "LINE_TOTAL",
         "LINE_ITEM_TOTAL is 700.01 but 2.00 x 350 + 0 = 700.00."),
    ]
    # the same mistake carried into the invoice total on every line: only the line is wrong
    text = sample_text.replace("|1684.45|", "|1684.46|")
    assert findings_of(edited(text, 4, "|0|700|", "|0|700.01|")) == [
        (4, "LINE_ITEM_TOTAL", "LINE_TOTAL",
         "LINE_ITEM_TOTAL is 700.01 but 2.00 x 350 + 0 = 700.00.")]


def test_a_rounding_is_not_a_wrong_total(sample_text):
    # 0.7 x 333.33 = 233.331, written 233.33: within one cent of the exact product
    data = edited(sample_text, 5, "|0.200|0|40|", "|0.700|0|233.33|")
    data = edited(data.decode(), 5, "|200|", "|333.33|")
    text = data.decode().replace("1684.45", "1877.78")
    assert findings_of(text.encode()) == []


def test_an_invoice_total_that_differs_between_lines(sample_text):
    data = edited(sample_text, 6, "|1684.45|", "|1684.54|")
    assert findings_of(data) == [
        (6, "INVOICE_TOTAL", "INVOICE_TOTAL_VARIES",
         "INVOICE_TOTAL is 1684.54 on this line but 1684.45 on lines 3, 4, 5 and 7 of invoice "
         "96542."),
    ]


def test_a_missing_field(sample_text):
    data = edited(sample_text, 5, "|L510||A107|", "|L510|A107|")  # the blank expense code
    assert findings_of(data) == [
        (5, "", "FIELD_COUNT", "The line has 23 fields; LEDES 1998B has 24 (1 missing)."),
    ]
    result = validate(data)
    assert result.file.unchecked_invoices == {"96542"}  # its total is not summed without it
    assert result.findings.loc[0, "invoice"] == "96542"


def test_a_bad_date(sample_text):
    data = edited(sample_text, 7, "|19990117|", "|19990231|")
    assert findings_of(data) == [
        (7, "LINE_ITEM_DATE", "DATE", "LINE_ITEM_DATE '19990231' is not a date written "
                                      "YYYYMMDD."),
    ]


@pytest.mark.parametrize("content, says", [
    (b"date,timekeeper,hours\n2026-10-01,TK1,1.5\n", "its first line is 'date,timekeeper,"),
    (b"", "it is empty"),
    (b"%PDF-1.4\n\x00\x01\x02binary", "binary data"),
    (b"<?xml version='1.0'?><invoice><total>3</total></invoice>", "root element is <invoice>"),
    (b"LEDES2000[]\n@FIRM\n", "is a LEDES 2000 file"),
])
def test_a_file_that_is_not_ledes(content, says):
    with pytest.raises(NotLedesError, match="not a LEDES file|is a LEDES 2000") as error:
        validate(content)
    assert says in str(error.value)


def test_a_truncated_file(sample_text):
    cut = sample_text.encode("utf-8")
    cut = cut[:cut.index(b"|E111|")]  # stops in the middle of line 6
    assert findings_of(cut) == [
        (6, "LINE_ITEM_TASK_CODE", "TRUNCATED",
         "The file stops in the middle of this line: 15 of 24 fields and no '[]' (the last "
         "field read is LINE_ITEM_TASK_CODE)."),
    ]
    headers_only = "\n".join(lines_of(sample_text)[:2]).encode()
    assert findings_of(headers_only) == [
        (2, "", "NO_LINES", "The file has no line items after its header: is it cut short?")]


def test_structure_problems_are_reported_and_the_rest_still_checked(sample_text):
    rows = lines_of(sample_text)
    no_header = "\n".join(rows[1:]).encode()
    assert [f[:3] for f in findings_of(no_header)] == [(1, "", "HEADER")]
    unterminated = edited(sample_text, 3, "|423-987[]", "|423-987")
    assert findings_of(unterminated) == [(3, "", "TERMINATOR",
                                          "The line does not end with '[]'.")]
    blank_inside = "\n".join(rows[:4] + [""] + rows[4:]).encode()
    assert [f[:3] for f in findings_of(blank_inside)] == [(5, "", "BLANK_LINE")]
    misnamed = edited(sample_text, 2, "LINE_ITEM_TOTAL|", "LINE_TOTAL|")
    assert findings_of(misnamed) == [(2, "LINE_ITEM_TOTAL", "FIELD_NAMES",
                                      "Field 13 is named 'LINE_TOTAL'; LEDES 1998B has "
                                      "'LINE_ITEM_TOTAL' there.")]


def test_values_that_do_not_read(sample_text):
    data = edited(sample_text, 3, "|2.00|-70|630|", "|2,00|-70|630|")
    data = edited(data.decode(), 6, "|E|1|", "|X|1|")
    data = edited(data.decode(), 7, "|289.5|", "|289.505|")
    found = findings_of(data)
    assert found == [
        (3, "LINE_ITEM_NUMBER_OF_UNITS", "NUMBER",
         "LINE_ITEM_NUMBER_OF_UNITS '2,00' is not a number."),
        (3, "INVOICE_TOTAL", "INVOICE_TOTAL",  # the half cent on line 7 does not add up
         "INVOICE_TOTAL of invoice 96542 is 1684.45 but its 5 lines add up to 1684.455."),
        (6, "EXP/FEE/INV_ADJ_TYPE", "LINE_TYPE", "EXP/FEE/INV_ADJ_TYPE 'X' is not F, E, IF or "
                                                 "IE."),
        (7, "LINE_ITEM_TOTAL", "PRECISION",  # (1 x 289.5 is within half a cent: no LINE_TOTAL)
         "LINE_ITEM_TOTAL '289.505' has more decimals than the currency (USD) has."),
    ]


def test_consistency_dates_and_utbms(sample_text):
    data = edited(sample_text, 4, "19990225|", "19990226|")  # a second invoice date
    data = edited(data.decode(), 5, "|00711|", "|00712|")  # a second client
    data = edited(data.decode(), 3, "|L510||A102|", "|L999||A102|")  # not a litigation code
    data = edited(data.decode(), 4, "|L510||A102|", "|L500||A102|")  # a phase heading
    data = edited(data.decode(), 7, "|E110|", "|X110|")  # a set billxl does not know
    data = edited(data.decode(), 6, "|19990117||E111|", "|19990205|E111|E111|")
    found = findings_of(data)
    assert found == [
        (3, "LINE_ITEM_TASK_CODE", "UTBMS_CODE", "L999 is not a UTBMS task code."),
        (4, "INVOICE_DATE", "INVOICE_VALUE_VARIES",
         "INVOICE_DATE is 19990226 here but 19990225 on lines 3, 5, 6 and 7 of invoice 96542."),
        (4, "LINE_ITEM_TASK_CODE", "UTBMS_CODE", "L500 is a UTBMS phase, not a task code."),
        (5, "CLIENT_ID", "INVOICE_VALUE_VARIES",
         "CLIENT_ID is 00712 here but 00711 on lines 3, 4, 6 and 7 of invoice 96542."),
        (5, "CLIENT_ID", "MATTER_CLIENT_VARIES",
         "CLIENT_ID is 00712 here but 00711 on lines 3, 4, 6 and 7 billed for matter 0528 "
         "(right only if it is split-billed)."),
        (6, "LINE_ITEM_TASK_CODE", "UTBMS_CODE", "E111 is a UTBMS expense code, not a task code."),
        (6, "LINE_ITEM_TASK_CODE", "UTBMS_LINE_TYPE", "A task code on an expense line."),
        (6, "LINE_ITEM_DATE", "LINE_DATE_OUTSIDE_PERIOD",
         "LINE_ITEM_DATE 19990205 is outside the billing period 19990101 to 19990131."),
        (7, "LINE_ITEM_EXPENSE_CODE", "UTBMS_UNKNOWN_SET",
         "X110 is not in the UTBMS expense sets billxl knows."),
    ]


def test_98bi_tax_and_net_totals(sample_text):
    """A 98BI file made from the sample with 20% VAT on every line, then broken by hand."""
    lines = parse(SAMPLE).lines
    lines = lines[lines["invoice_number"] == "96542"].copy()
    lines["tax_percent"] = "20"
    lines["tax_minor"] = lines["amount_minor"] // 5
    lines["line_total_minor"] = lines["amount_minor"] + lines["tax_minor"]
    lines["invoice_tax_minor"] = lines["tax_minor"].sum()
    lines["invoice_total_minor"] = lines["line_total_minor"].sum()
    lines["invoice_net_minor"] = lines["invoice_total_minor"] - lines["invoice_tax_minor"]
    lines["reported_tax_minor"] = lines["invoice_tax_minor"]
    lines["tax_type"] = "VAT"
    lines["law_firm_name"], lines["client_name"] = "Arnsley & Beaster", "Doe Industries"
    names = lines["timekeeper_name"].str.split(", ", expand=True).fillna("")  # 98BI fee lines
    lines["timekeeper_last_name"], lines["timekeeper_first_name"] = names[0], names[1]  # need them
    good = render(lines, "98BI").data.decode("cp1252")
    assert validate(good.encode("cp1252")).findings.empty
    first = lines_of(good)[2].split("|")
    assert first[4] == "2021.34" and first[27] == "336.89" and first[28] == "1684.45"
    assert first[47:50] == ["0.2", "126.00", "VAT"]  # a fraction, the line's tax, its type

    # line 3: tax of 126.01 on 630.00 at 20%, and its total carrying it
    bad = good.replace("|0.2|126.00|VAT|", "|0.2|126.01|VAT|", 1).replace("|756.00|", "|756.01|")
    assert findings_of(bad.encode("cp1252")) == [
        (3, "INVOICE_TOTAL", "INVOICE_TOTAL",
         "INVOICE_TOTAL of invoice 96542 is 2021.34 but its 5 lines (with tax) add up to "
         "2021.35."),
        (3, "INVOICE_TAX_TOTAL", "TAX_TOTAL",
         "INVOICE_TAX_TOTAL of invoice 96542 is 336.89 but its lines' tax adds up to 336.90."),
        (3, "LINE_ITEM_TAX_TOTAL", "LINE_TAX",
         "LINE_ITEM_TAX_TOTAL is 126.01 but 630.00 x 0.2 = 126.00."),
    ]
    net = good.replace("|336.89|1684.45|", "|336.89|1684.54|")
    assert findings_of(net.encode("cp1252")) == [
        (3, "INVOICE_NET_TOTAL", "NET_TOTAL",
         "INVOICE_NET_TOTAL of invoice 96542 is 1684.54 but INVOICE_TOTAL - INVOICE_TAX_TOTAL "
         "= 1684.45."),
    ]


# ------------------------------------------------------------------------- portal profiles
def test_the_sample_under_each_portal(sample_text):
    rules = {portal: [(r.line, r.rule) for r in validate(SAMPLE, portal=portal)
                      .findings.itertuples()]
             for portal in ("generic", "legaltracker", "tymetrix", "counsellink")}
    assert rules["generic"] == []
    # UTF-8 (its U+2019) where the portal reads ANSI; the retainer as an adjustment
    assert rules["legaltracker"] == [(3, "PORTAL_ENCODING"), (8, "PORTAL_FLAT_FEE_STYLE")]
    assert rules["counsellink"] == [(3, "PORTAL_ENCODING")]  # it wants the adjustment style
    # TyMetrix also wants UTBMS codes on every fee and expense line (the IF line has none)
    assert rules["tymetrix"] == [(3, "PORTAL_ENCODING"), (8, "PORTAL_FLAT_FEE_STYLE")]
    assert validate(sample_text.encode("cp1252"), portal="counsellink").findings.empty


def test_portal_rules(sample_text):
    data = edited(sample_text, 3, "|Arnsley, Robert|", "|Robert Arnsley|")
    data = edited(data.decode(), 4, "|2.00|0|700|", "|-2.00|0|-700|")
    data = edited(data.decode(), 5, "|For services rendered|", "|For services|")
    data = edited(data.decode(), 5, "|Telephone conference with John Doe|",
                  "|" + "Telephone conference " * 60 + "|")
    data = edited(data.decode(), 5, "|ASSOC|", "|JUNIOR|")
    data = edited(data.decode(), 5, "|45875|", "||")
    text = data.decode().replace("1684.45", "284.45")
    rows = lines_of(text)
    rows[-1] = rows[-1].replace("|IF|1|1250.|1250|", "|IF|1|0|1250|").replace("||||425-936",
                                                                           "|1250|||425-936")
    rows.append(rows[-1].replace("|6|IF|", "|7|IF|"))
    text = "\n".join(rows).replace("|1250|19990101", "|2500|19990101")
    result = validate(text.encode("cp1252"), portal="legaltracker")
    found = [(r.line, r.rule) for r in result.findings.itertuples()]
    assert found == [
        (3, "PORTAL_TIMEKEEPER_NAME"),
        (4, "TIMEKEEPER_VARIES"),  # 22547 is 'Robert Arnsley' on line 3: a warning anywhere
        (4, "PORTAL_NEGATIVE_UNITS"),
        (5, "PORTAL_REQUIRED"),  # TIMEKEEPER_ID on a fee line
        (5, "PORTAL_INVOICE_DESCRIPTION"),
        (5, "PORTAL_DESCRIPTION_LENGTH"),
        (5, "PORTAL_FLAT_FEE_AS_IF"),  # a fee with no timekeeper
        (5, "PORTAL_CLASSIFICATION"),
        (9, "PORTAL_IF_LINES"),
    ]
    by_rule = result.findings.set_index("rule")
    assert by_rule.loc["PORTAL_TIMEKEEPER_NAME", "suggestion"] == "Write it as 'Arnsley, Robert'."
    assert by_rule.loc["PORTAL_DESCRIPTION_LENGTH", "message"] == \
        "LINE_ITEM_DESCRIPTION has 1,260 characters; Legal Tracker takes 1,024."
    # the same file under the generic rules: nothing a portal adds
    assert not validate(text.encode("cp1252")).findings["rule"].str.startswith("PORTAL").any()


def test_a_portal_profile_can_change_a_severity(tmp_path, sample_text):
    profile = tmp_path / "strict.yaml"
    profile.write_text("name: strict\nencoding: cp1252\nseverity:\n  PORTAL_ENCODING: error\n"
                       "disabled_rules: [UTBMS_CODE]\n")
    data = edited(sample_text, 3, "|L510||A102|", "|L999||A102|")
    result = validate(data, portal=str(profile))
    assert [(r.rule, r.severity) for r in result.findings.itertuples()] == [
        ("PORTAL_ENCODING", "error")]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmax_if_line: 1\n")
    from billxl.errors import InputError

    with pytest.raises(InputError, match="not a valid portal profile") as error:
        validate(data, portal=str(bad))
    assert error.value.problems[0].row == 2


# ------------------------------------------------------------------------- XML
def test_xml_schema_errors_and_broken_xml(sample_text):
    lines = parse(SAMPLE).lines.assign(law_firm_name="Arnsley & Beaster",
                                       client_name="Doe Industries")
    xml = render(lines, "XML21").data
    result = validate(xml)
    assert result.file.format == "XML21" and result.findings.empty
    assert result.file.invoices.set_index("invoice_number").loc["96542", "total_minor"] == 168445
    broken = xml.replace(b"<charge_desc>Meals</charge_desc>", b"", 1)
    at = xml[:xml.index(b"<charge_desc>Meals")].count(b"\n") + 1  # its line; units' is next
    found = [(r.line, r.field, r.rule, r.message) for r in validate(broken).findings.itertuples()]
    assert found == [
        (at - 3, "charge_desc", "REQUIRED", "charge_desc is blank; the format requires it."),
        (at + 1, "units", "SCHEMA", "Element 'units': This element is not expected. Expected is "
                                "( charge_desc )."),
    ]
    cut = validate(xml[: len(xml) // 2]).findings
    assert cut["rule"].tolist() == ["TRUNCATED"]
    assert cut.loc[0, "message"].startswith("The file stops before the end of the XML document")
