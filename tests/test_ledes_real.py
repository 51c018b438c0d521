"""LEDES files written by other software, judged as ``../shared/data/real/SOURCES.md`` says.

One test per file in ``../shared/data/real/ledes/`` (the table below: what SOURCES.md expects,
as the findings billxl must give, no more and no fewer), then the gaps issue 10 found, closed
under every portal profile: the law-firm matter id is an invoice-level value, a fee line names
its timekeeper, an expense line has a unit cost, UTF-16 and UTF-32 are errors that name the
encoding, and a damaged first line is an error after which the rest of the file is still read.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billxl.cli.ledes import ledes_app
from billxl.ledes import CHECKS, FORMATS, parse, shipped_portals, validate
from tests.conftest import SHARED, shared_or_skip
from tests.test_ledes import SAMPLE, SAMPLE_TEXT, edited

REAL = SHARED / "data" / "real"
LEDES_DIR = REAL / "ledes"

TOTAL, L, T = "INVOICE_TOTAL", "LINE_ITEM_NUMBER", "LINE_ITEM_TAX_TOTAL"

#: file -> the findings SOURCES.md's "Expected" column calls for, as (line, field, rule).
EXPECTED: dict[str, list[tuple[int, str, str]]] = {
    # valid
    "ledes98b_spec_sample_ascii.txt": [],
    "ledes98b_spec_sample_utf8_nofinalnl.txt": [],  # its U+2019: see the portal test below
    # "INVOICE_TOTAL of 96543 (1250) != its lines (2500); line 6 repeated; invoice-level
    # fields vary inside invoice 96543 (lines 8-9)": the client and the matter both do
    "ledes98b_parser_data_conflicting_invoice_96543.txt": [
        (8, TOTAL, "INVOICE_TOTAL"), (9, L, "LINE_NUMBER_REPEATED"),
        (9, "CLIENT_ID", "INVOICE_VALUE_VARIES"),
        (9, "LAW_FIRM_MATTER_ID", "INVOICE_VALUE_VARIES")],
    # "LINE_ITEM_NUMBER 5 repeated (line 8); 96542 total 1684.45 != lines 1973.95"
    "ledes98b_notebook_semicolons_dup_line5.txt": [
        (3, TOTAL, "INVOICE_TOTAL"), (8, L, "LINE_NUMBER_REPEATED")],
    # "its tax arithmetic does not add up": lines 3, 4, 5 and 8, the tax total and the net
    "ledes98bi_v2_spec_sample.txt": [
        (3, "INVOICE_TAX_TOTAL", "TAX_TOTAL"), (3, "INVOICE_NET_TOTAL", "NET_TOTAL"),
        (3, T, "LINE_TAX"), (4, T, "LINE_TAX"), (5, T, "LINE_TAX"), (8, T, "LINE_TAX")],
    # "totals, client and matter vary inside one invoice; line 1 repeated; total != lines"
    # (the file starts with a blank line, so its line items are lines 4 to 10)
    "ledes98b_inline_parser_valid_data.txt": [
        (4, TOTAL, "INVOICE_TOTAL"), (4, TOTAL, "INVOICE_TOTAL_VARIES"),
        (4, "CLIENT_ID", "INVOICE_VALUE_VARIES"),
        (4, "LAW_FIRM_MATTER_ID", "INVOICE_VALUE_VARIES"),
        (5, L, "LINE_NUMBER_REPEATED"), (5, TOTAL, "INVOICE_TOTAL_VARIES"),
        *[(n, L, "LINE_NUMBER_REPEATED") for n in range(6, 11)]],
    # "invalid: wrong format line"; the rest read as 1998B: its one line is not its total
    "ledes98b_inline_not_the_spec_header.txt": [(2, "", "HEADER"), (4, TOTAL, "INVOICE_TOTAL")],
    # Lexitree (eager): "Line 3 : At field 21 : Invalid LINE_ITEM_UNIT_COST"
    "lexitree_ledes1998b_eager_bad.txt": [(3, "LINE_ITEM_UNIT_COST", "UNIT_COST_REQUIRED")],
    # "no errors" for Lexitree (fields only); in meaning 1869.97 != 1555.52, and the
    # example's tax mismatches are inherited
    "lexitree_ledes98bi_good.txt": [
        (3, TOTAL, "INVOICE_TOTAL"), (3, "INVOICE_TAX_TOTAL", "TAX_TOTAL"),
        (3, "INVOICE_NET_TOTAL", "NET_TOTAL"), (3, T, "LINE_TAX"), (4, T, "LINE_TAX"),
        (5, T, "LINE_TAX")],
    # Lexitree (eager): "Line 3 : At field 31 : Invalid TIMEKEEPER_LAST_NAME". Eager stops at
    # the first bad field; billxl names all three blank names of the fee line (22, 31, 32).
    # The totals are those of the whole example invoice, of which this is one line.
    "lexitree_ledes98bi_eager_bad.txt": [
        (3, "TIMEKEEPER_NAME", "TIMEKEEPER_REQUIRED"),
        (3, "TIMEKEEPER_LAST_NAME", "TIMEKEEPER_REQUIRED"),
        (3, "TIMEKEEPER_FIRST_NAME", "TIMEKEEPER_REQUIRED"),
        (3, TOTAL, "INVOICE_TOTAL"), (3, "INVOICE_TAX_TOTAL", "TAX_TOTAL"),
        (3, "INVOICE_NET_TOTAL", "NET_TOTAL"), (3, T, "LINE_TAX")],
}

#: Lexitree's greedy validator: the fields (numbered from 1) it reports on lines 3 and 4.
LEXITREE_GREEDY = {
    # "fields 1-7, 9, 10, 12-18 and 20-24 are each invalid (21 per line)"
    "lexitree_ledes1998b_greedy_bad.txt": ("1998B", {*range(1, 8), 9, 10, *range(12, 19),
                                                     *range(20, 25)}, 21),
    # "every field except 8, 11, 19 and 21 is invalid"
    "lexitree_ledes98bi_greedy_bad.txt": ("98BI", set(range(1, 53)) - {8, 11, 19, 21}, 48),
}
#: Where billxl differs, and why. Lexitree requires TIMEKEEPER_LAST_NAME and _FIRST_NAME
#: (fields 31, 32) on every line, even an expense line (its rule would refuse the spec's own
#: example, whose expense lines have no timekeeper); billxl requires them on fee lines, and
#: these lines' type is 'A' (itself an error), not F. Every other field Lexitree reports,
#: billxl reports too; TIMEKEEPER_CLASSIFICATION 'ABCDE' (field 23) as a warning only.
NOT_REPORTED = {"lexitree_ledes98bi_greedy_bad.txt": {31, 32}}

FIELD_RULES = {rule for rule, check in CHECKS.items() if check.group == "format"}


def _real(name: str) -> Path:
    return shared_or_skip(LEDES_DIR / name)


def _sources_sha256() -> dict[str, str]:
    sources = REAL / "SOURCES.md"
    if not sources.exists():
        return {}
    return dict(re.findall(r"^- `ledes/([^`]+)` ([0-9a-f]{64})$", sources.read_text(),
                           flags=re.M))


def _found(result) -> list[tuple[int, str, str]]:
    return [(r.line, r.field, r.rule) for r in result.findings.itertuples()]


def test_every_file_in_the_folder_has_an_expectation():
    shared_or_skip(LEDES_DIR)
    on_disk = {p.name for p in LEDES_DIR.iterdir()}
    assert on_disk == set(EXPECTED) | set(LEXITREE_GREEDY)
    digests = _sources_sha256()
    for name in on_disk:  # the files are the ones SOURCES.md describes
        assert hashlib.sha256((LEDES_DIR / name).read_bytes()).hexdigest() == digests[name], name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_file_is_judged_as_sources_md_says(name):
    result = validate(_real(name))
    assert _found(result) == EXPECTED[name]
    assert result.has_errors == bool(EXPECTED[name])  # SOURCES.md: "valid" or "invalid"


def test_the_messages_name_the_figures_and_the_lines():
    def messages(name):
        return {(r.line, r.rule, r.field): (r.message, r.suggestion)
                for r in validate(_real(name)).findings.itertuples()}

    conflicting = messages("ledes98b_parser_data_conflicting_invoice_96543.txt")
    assert conflicting[(9, "INVOICE_VALUE_VARIES", "LAW_FIRM_MATTER_ID")][0] == (
        "LAW_FIRM_MATTER_ID is 500.900 here but 1326 on line 8 of invoice 96543.")
    assert conflicting[(9, "INVOICE_VALUE_VARIES", "CLIENT_ID")][0] == (
        "CLIENT_ID is 500 here but 00711 on line 8 of invoice 96543.")
    assert conflicting[(8, "INVOICE_TOTAL", TOTAL)][0] == (
        "INVOICE_TOTAL of invoice 96543 is 1250.00 but its 2 lines add up to 2500.00.")

    # the published 98BI example: flagged, rightly, with both figures, saying it is the example
    example = messages("ledes98bi_v2_spec_sample.txt")
    line_tax, fix = example[(3, "LINE_TAX", T)]
    assert line_tax.startswith("LINE_ITEM_TAX_TOTAL is 87.63 but 630.00 x 0.061245 = 38.58435.")
    assert fix == "Write LINE_ITEM_TAX_TOTAL as 38.58 (38.58435 rounded), or correct the rate."
    tax_total = example[(3, "TAX_TOTAL", "INVOICE_TAX_TOTAL")][0]
    assert tax_total.startswith("INVOICE_TAX_TOTAL of invoice 96542 is 182.52 but its lines' "
                                "tax adds up to 185.52.")
    net = example[(3, "NET_TOTAL", "INVOICE_NET_TOTAL")][0]
    assert net.startswith("INVOICE_NET_TOTAL of invoice 96542 is 1781.16 but INVOICE_TOTAL - "
                          "INVOICE_TAX_TOTAL = 1687.45.")
    for text in (line_tax, tax_total, net):
        assert "example invoice published with the LEDES 98BI V2 specification" in text
        assert "do not add up" in text

    eager = messages("lexitree_ledes1998b_eager_bad.txt")
    assert eager[(3, "UNIT_COST_REQUIRED", "LINE_ITEM_UNIT_COST")][0] == (
        "LINE_ITEM_UNIT_COST is blank on an expense line: only invoice-level adjustments (IF, "
        "IE) may leave it blank.")


@pytest.mark.parametrize("name", sorted(LEXITREE_GREEDY))
def test_a_greedy_lexitree_file_has_every_bad_field_reported(name):
    fmt_name, lexitree, stated = LEXITREE_GREEDY[name]
    assert len(lexitree) == stated  # as SOURCES.md counts them
    result = validate(_real(name))
    fmt = FORMATS[fmt_name]
    assert result.file.format == fmt_name  # read in the format its lines have
    found = _found(result)
    # lines 1 and 2, as Lexitree: "Invalid or missing ... header", "... column definition"
    assert [f for f in found if f[0] <= 2] == [(1, "", "HEADER"),
                                               (2, "INVOICE_DATE", "FIELD_NAMES")]
    header = result.findings.iloc[0]["message"]
    assert f"checked as {fmt.title}" in header and f"'{fmt.header}[]'" in header
    expected = lexitree - NOT_REPORTED.get(name, set())
    for line in (3, 4):
        fields = {fmt.names.index(field) + 1 for at, field, rule in found
                  if at == line and rule in FIELD_RULES}
        assert fields == expected, (line, sorted(fields ^ expected))
    assert result.has_errors


def test_the_utf8_sample_warns_only_under_a_portal_that_reads_ansi():
    path = _real("ledes98b_spec_sample_utf8_nofinalnl.txt")
    assert validate(path).findings.empty
    warned = validate(path, portal="counsellink").findings
    assert [(r.line, r.rule, r.severity) for r in warned.itertuples()] == [
        (3, "PORTAL_ENCODING", "warning")]  # the U+2019 on line 3


def test_the_command_reports_a_damaged_file_instead_of_refusing_it():
    path = _real("lexitree_ledes98bi_greedy_bad.txt")
    run = CliRunner().invoke(ledes_app, ["validate", str(path), "--portal", "generic",
                                         "--format", "csv"], env={"COLUMNS": "200"})
    assert run.exit_code == 1, run.output  # errors in the file, not "not a LEDES file" (2)
    assert "LEDES98BI V32[]" in run.output and "ACCOUNT_TYPE" in run.output


# ------------------------------------------------------------------------- the gaps, closed
@pytest.mark.parametrize("portal", shipped_portals())
def test_a_fee_line_names_its_timekeeper_under_every_portal(portal):
    data = edited(SAMPLE_TEXT, 5, "|45875|Telephone", "||Telephone")
    data = edited(data.decode(), 5, "|Beaster, John|ASSOC|", "|||")
    findings = validate(data, portal=portal).findings
    at = findings[findings["line"] == 5]
    for field in ("TIMEKEEPER_ID", "TIMEKEEPER_NAME", "TIMEKEEPER_CLASSIFICATION"):
        mine = at[at["field"] == field]
        assert len(mine) == 1, (field, mine["rule"].tolist())  # one reason, not two
        assert mine.iloc[0]["severity"] == "error"
        assert mine.iloc[0]["rule"] in ("TIMEKEEPER_REQUIRED", "PORTAL_REQUIRED")


@pytest.mark.parametrize("portal", shipped_portals())
def test_an_expense_line_has_a_unit_cost_under_every_portal(portal):
    data = edited(SAMPLE_TEXT, 6, "|24-6437381|24.95|", "|24-6437381||")
    findings = validate(data, portal=portal).findings
    mine = findings[(findings["line"] == 6) & (findings["field"] == "LINE_ITEM_UNIT_COST")]
    assert mine[["rule", "severity"]].values.tolist() == [["UNIT_COST_REQUIRED", "error"]]
    # the IF line (8) has none, rightly: it is an invoice-level adjustment
    assert validate(SAMPLE, portal=portal).findings.query("rule == 'UNIT_COST_REQUIRED'").empty


@pytest.mark.parametrize("portal", shipped_portals())
def test_the_law_firm_matter_id_is_one_per_invoice_under_every_portal(portal):
    data = edited(SAMPLE_TEXT, 5, "|00711|0528|", "|00711|0529|")
    findings = validate(data, portal=portal).findings
    mine = findings[findings["rule"] == "INVOICE_VALUE_VARIES"]
    assert mine[["line", "field", "severity", "invoice"]].values.tolist() == [
        [5, "LAW_FIRM_MATTER_ID", "error", "96542"]]
    assert mine.iloc[0]["message"] == ("LAW_FIRM_MATTER_ID is 0529 here but 0528 on lines 3, "
                                       "4, 6 and 7 of invoice 96542.")


def test_a_98bi_invoice_holds_one_set_of_invoice_fields():
    data = _real("ledes98bi_v2_spec_sample.txt").read_text()
    data = data.replace("|Merten Merger|", "|Merten Merger (2)|", 1)  # line 3 only
    found = [f for f in _found(validate(data.encode())) if f[2] == "INVOICE_VALUE_VARIES"]
    assert found == [(3, "MATTER_NAME", "INVOICE_VALUE_VARIES")]


def _wide(text: str, codec: str, bom: bool) -> bytes:
    boms = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
            "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}
    return (boms[codec] if bom else b"") + text.encode(codec)


@pytest.mark.parametrize("codec, shown", [("utf-16-le", "UTF-16 (little-endian)"),
                                          ("utf-16-be", "UTF-16 (big-endian)"),
                                          ("utf-32-le", "UTF-32 (little-endian)"),
                                          ("utf-32-be", "UTF-32 (big-endian)")])
@pytest.mark.parametrize("bom", [True, False], ids=["with a BOM", "without"])
def test_utf16_and_utf32_are_errors_naming_the_encoding(codec, shown, bom):
    data = _wide(SAMPLE_TEXT.replace("\n", "\r\n"), codec, bom)
    file = parse(data)
    assert file.encoding == codec
    assert file.lines.drop(columns="line").equals(parse(SAMPLE).lines.drop(columns="line"))
    for portal in shipped_portals():  # an error under every profile, and nothing else
        findings = validate(data, portal=portal).findings
        findings = findings[~findings["rule"].str.startswith("PORTAL_FLAT_FEE")]
        assert findings[["line", "rule", "severity"]].values.tolist() == [
            [1, "ENCODING", "error"]], portal
        assert f"saved as {shown}" in findings.iloc[0]["message"]


def test_a_wide_file_is_still_checked_after_its_encoding_error():
    data = edited(SAMPLE_TEXT, 7, "|19990117|", "|19990231|").decode()
    assert _found(validate(_wide(data, "utf-16-le", bom=True))) == [
        (1, "", "ENCODING"), (7, "LINE_ITEM_DATE", "DATE")]


def test_a_damaged_first_line_is_an_error_and_the_rest_is_still_checked():
    rows = SAMPLE_TEXT.split("\n")
    broken = "\n".join(["LEDES1998BB[]", *rows[1:]])
    broken = edited(broken, 7, "|19990117|", "|19990231|")  # and a bad date further down
    result = validate(broken)
    assert _found(result) == [(1, "", "HEADER"), (7, "LINE_ITEM_DATE", "DATE")]
    assert len(result.file.lines) == 6
    assert result.findings.iloc[0]["message"] == (
        "The first line is 'LEDES1998BB[]', which is not a LEDES header: a LEDES 1998B file "
        "starts with exactly 'LEDES1998B[]'. The rest of the file was checked as LEDES 1998B "
        "(its lines have 24 fields, as LEDES 1998B lines do).")
    # the field names misspelt as well: each misnamed field is named
    names = rows[1].replace("INVOICE_DATE|", "INVOIC_DATE|").replace("|TIMEKEEPER_ID|",
                                                                     "|TIMEKEEPER|")
    found = _found(validate("\n".join(["LEDES98B[]", names, *rows[2:]]).encode()))
    assert found == [(1, "", "HEADER"), (2, "INVOICE_DATE", "FIELD_NAMES"),
                     (2, "TIMEKEEPER_ID", "FIELD_NAMES")]


def test_a_first_line_that_is_not_ledes_and_lines_that_say_nothing_is_refused():
    from billxl.ledes import NotLedesError

    # with lines of no LEDES width, only a near miss of a LEDES name makes it a LEDES file
    with pytest.raises(NotLedesError, match="its first line is 'MY_INVOICE'"):
        validate(b"MY_INVOICE\nsome|text\nmore|text\n")
    near = validate(b"LEDES1998BB[]\nsome|text[]\n")
    assert _found(near)[:2] == [(1, "", "HEADER"), (2, "", "FIELD_NAMES")]
    assert "comes closest to 'LEDES1998B[]'" in near.findings.iloc[0]["message"]


def test_a_file_that_starts_with_a_line_item_keeps_it():
    rows = SAMPLE_TEXT.split("\n")
    result = validate("\n".join(rows[2:]).encode())  # no header, no field names
    assert _found(result) == [(1, "", "HEADER"), (1, "", "FIELD_NAMES")]
    assert "starts with a line item" in result.findings.iloc[0]["message"]
    assert result.file.lines["line"].tolist() == [1, 2, 3, 4, 5, 6]
