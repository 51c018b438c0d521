"""Bank files in ``billxl payments post``: BAI2, camt.053/054, MT940 and OFX.

One test per file in ``../shared/data/real/bank/`` (the table ``REAL``: what the file holds,
to the cent, and what posting it does on a ledger whose invoices some remittances name, or
the line and reason it is refused for); then small files written here, one per format, with
credits that name invoices, debits, returns and reversals, posted through ``payments post``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from billxl import bankfiles, payments
from billxl.errors import InputError
from tests import test_payments as tp
from tests.conftest import SHARED, shared_or_skip

BANK = SHARED / "data" / "real" / "bank"


def real(name: str) -> Path:
    return shared_or_skip(BANK / name)


# =================================================================================== the firm
#: invoices the real files' remittances name: number, matter, currency, date, total (minor)
NAMED = [("4654654654654654", "M5", "EUR", "2014-12-01", 2000),  # camt SCOR reference
         ("A1234BC", "M3", "GBP", "2015-07-01", 10000),  # Citi BAI2 88 text
         ("YRC065321", "M1", "USD", "2004-06-01", 20000000)]  # moov sample2 customer ref


def bank_firm(ledger, monkeypatch, named=NAMED):
    """The payments tests' firm, a client in EUR (Name Name), and invoices bank files name."""
    tp.firm(ledger)
    ledger.load_reference({
        "clients": pd.DataFrame([{"client_id": "C4", "name": "Name Name", "currency": "EUR",
                                  "payment_terms_days": 30, "office_id": "LDN"}]),
        "matters": pd.DataFrame([{"matter_id": "M5", "client_id": "C4", "name": "Name advice",
                                  "opened_on": pd.Timestamp("2010-01-01"),
                                  "billing_partner_id": "TK2", "office_id": "LDN"}])},
        actor="test")
    monkeypatch.setitem(tp.MATTER_CLIENT, "M5", "C4")
    for number, matter, currency, day, total in named:
        tp.add_invoices(ledger, [(number, matter, day, total, 0, 0)],
                        currency_of={matter: currency})
    return ledger


@pytest.fixture
def ledger(empty_ledger, monkeypatch):
    return bank_firm(empty_ledger, monkeypatch)


# =================================================================================== real files
@dataclass(frozen=True)
class Read:
    """A file that is read: what it holds, and what posting it on the bank firm does."""

    format: str
    statements: int
    credits: int = 0
    credit_total: int = 0  # minor units
    currency: str = ""
    debits: int = 0
    debit_total: int = 0
    zero: int = 0
    key: str | None = None  # the first credit's natural key (None: keyed on content)
    text: str = ""  # in the first credit's payer or remittance
    paid: str | None = None  # the invoice the first credit pays (else it is unmatched)
    unmatched: int = 0
    note: str = ""  # in a note of what could not be checked


@dataclass(frozen=True)
class Refused:
    line: int
    where: str
    reason: str
    value: str | None = None
    problems: int = 1


NOT_IDENTIFIED = "the payer is not identified"
REAL = {
    "bai2/moj_account_trailer_amount_blank_example.bai2": Read("BAI2", 2),
    "bai2/moj_citi_example.bai2": Read("BAI2", 1, 1, 1, "GBP", key="77777777:1234567890",
                                       text="PY:RP1231231231231200", paid="A1234BC"),
    "bai2/moj_nwb_example.bai2": Read("BAI2", 1, 1, 89, "GBP", 4, 2765,
                                      text="INTERNATIONAL-5373 CLIE NT SECCY", unmatched=1),
    "bai2/moj_svb_us_example.bai2": Read("BAI2", 2, 2, 1395996, "USD", key="1234567890:172629",
                                         text="SOME PAYMENT ACH OFFSET", unmatched=2),
    "bai2/moov_error_sample-parseError.bai2": Refused(1, "record type",
                                                      "unsupported record type 00", "00"),
    "bai2/moov_sample1.bai2": Read("BAI2", 2, 5, 320000, "CAD", 12, 320000,
                                   text="TFR 1020 0345678", unmatched=5),
    "bai2/moov_sample2.bai2": Read("BAI2", 5, 4, 30950000, "USD", text="", unmatched=3),
    "bai2/moov_sample3.bai2": Read("BAI2", 15, 13, 39713, "USD", 13, 59418,
                                   text="TRANSFER PAYPAL PPD", unmatched=13),
    "bai2/moov_sample4-continuations-newline-delimited.bai2": Refused(
        22, "49 account trailer", "the account control total is -1,260,161,341,762, but the "
        "account's 03 and 16 amounts add up to 7,999,960", problems=8),
    "bai2/moov_sample5-issue113.bai2": Refused(
        22, "49 account trailer", "the account control total is -1,260,161,341,762", problems=8),
    "bai2/moov_spec-section3.bai2": Read("BAI2", 1, 1, 1500000, "USD", key="0975312468:DD1620",
                                         text="DEALER PAYMENTS", unmatched=1),
    "camt/genkgo_camt053.v2.minimal.xml": Read(
        "camt.053.001.02", 1, 1, 885, "EUR", text="4654654654654654", paid="4654654654654654",
        note="the closing balance is in SEK, not the account's EUR"),
    "camt/genkgo_camt053.v2.multi.statement.xml": Read(
        "camt.053.001.02", 2, 1, 885, "EUR", 1, 700, key="NL26VAYB8060476890:000000001",
        text="Transaction Description 1", unmatched=1),
    "camt/genkgo_camt053.v2.with-party-ids.xml": Read(
        "camt.053.001.02", 1, 1, 885, "EUR", text="NAME NAME", paid="4654654654654654",
        note="not the account's EUR"),
    "camt/genkgo_camt053.v2.wrong.xml": Refused(3, "BkToCstmrStmt",
                                                "the message has no statement (Stmt)"),
    "camt/genkgo_camt053.v4.xml": Read(
        "camt.053.001.04", 1, 1, 885, "EUR", key="NL26VAYB8060476890:AAAASESS-FP-CN_98765/01",
        text="NAME NAME", paid="4654654654654654", note="not the account's EUR"),
    "camt/genkgo_camt053.v8.xml": Read(
        "camt.053.001.08", 1, 1, 885, "EUR", key="NL26VAYB8060476890:AAAASESS-FP-CN_98765/01",
        text="4654654654654654", paid="4654654654654654", note="not the account's EUR"),
    "camt/genkgo_camt054.v2.xml": Read("camt.054.001.02", 1, debits=1, debit_total=20000000,
                                       note="no opening and closing booked balances"),
    "camt/genkgo_camt054.v8.xml": Read("camt.054.001.08", 1, debits=1, debit_total=20000000,
                                       note="no opening and closing booked balances"),
    "mt940/wolph_citi_mt940.sta": Read("MT940", 1, debits=3, debit_total=114275, zero=2),
    "mt940/wolph_jejik_abnamro.sta": Refused(
        27, ":62F:", "the closing balance is 876.84 EUR, but the opening balance (:60F:, line 7) "
        "of 3236.28 EUR and the 8 statement line(s) (-321.44 EUR) give 2914.84 EUR",
        "876.84", problems=2),
    "mt940/wolph_self_february_30.sta": Refused(
        6, ":61:", "the value date 160230 (YYMMDD) does not exist (30 February 2016)", "160230"),
    "ofx/ofxparse_bank_medium.ofx": Read("OFX 102", 1, debits=3, debit_total=34527,
                                         note="OFX has no opening balance"),
    "ofx/ofxparse_checking.ofx": Read("OFX 102", 1, 1, 1, "USD", 2, 5951,
                                      key="1452687~7:0000486", text="DIVIDEND EARNED",
                                      unmatched=1, note="OFX has no opening balance"),
    "ofx/ofxparse_fail_nice_decimal_error.ofx": Refused(
        37, "TRNAMT", "the transaction amount is not a number (Invalid Transaction Amount: "
        "'$120')", "$120"),
}


def test_the_table_has_every_real_bank_file():
    found = {p.relative_to(shared_or_skip(BANK)).as_posix() for p in BANK.rglob("*")
             if p.is_file()}
    assert found == set(REAL)


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_bank_file(name, ledger):
    path, expected = real(name), REAL[name]
    if isinstance(expected, Refused):
        with pytest.raises(InputError) as caught:
            payments.post_receipts(ledger, path)
        problems = caught.value.problems
        assert len(problems) == expected.problems
        first = problems[0]
        assert (first.row, first.column) == (expected.line, expected.where)
        assert expected.reason in first.reason
        if expected.value is not None:
            assert first.value == expected.value
        assert payments.receipts(ledger).empty
        return

    bank = bankfiles.read_bank_file(path)
    assert (bank.format, bank.statements) == (expected.format, expected.statements)
    credits, debits = bank.credits, bank.lines[bank.lines["kind"] == "debit"]
    assert (len(credits), int(credits["amount_minor"].sum())) == (expected.credits,
                                                                  expected.credit_total)
    assert (len(debits), int(debits["amount_minor"].sum())) == (expected.debits,
                                                                expected.debit_total)
    assert bank.count("zero") == expected.zero
    assert bank.count("return") == bank.count("reversal") == 0
    assert set(credits["currency"]) <= {expected.currency}
    if expected.note:
        assert any(expected.note in n for n in bank.notes), bank.notes
    else:
        assert bank.checked and not bank.notes

    result = payments.post_receipts(ledger, path)
    assert (result.posted, result.skipped) == (expected.credits, len(bank.not_posted))
    stored = payments.receipts(ledger)
    assert len(stored) == expected.credits  # debits and zero entries are never receipts
    assert result.unmatched == expected.unmatched
    if expected.credits:
        first = result.receipts.iloc[0]
        assert expected.text in f"{first['payer']} {first['remittance']}"
        if expected.key is not None:
            assert first["source_key"] == expected.key
        else:  # no usable reference: keyed on the content and its occurrence
            account = bank.credits["account"].iloc[0].replace(" ", "")
            assert first["source_key"].startswith(f"{account}:")
            assert first["source_key"].endswith("-1")
        assert set(stored["source"]) == {bankfiles.FORMATS[expected.format.split(".")[0]
                                                           .split()[0]]}
        paid = result.matching.allocations
        if expected.paid:
            assert first["status"] == "posted" and first["matched_by"] == "named"
            assert list(paid.loc[paid["receipt"] == 0, "number"]) == [expected.paid]
        unmatched = result.receipts[result.receipts["status"] == "unmatched"]
        assert all(NOT_IDENTIFIED in why for why in unmatched["unmatched_reason"])
    again = payments.post_receipts(ledger, path)
    assert (again.posted, again.duplicates) == (0, expected.credits)
    assert len(payments.receipts(ledger)) == expected.credits


def test_moov_sample2_pays_the_invoice_its_customer_reference_names(ledger):
    result = payments.post_receipts(ledger, real("bai2/moov_sample2.bai2"))
    paid = result.matching.allocations
    assert list(zip(paid["number"], paid["amount_minor"], strict=True)) == [("YRC065321",
                                                                             20000000)]
    assert tp.balances(ledger)["YRC065321"] == 0


# =================================================================================== checks
def tampered(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = real(name).read_bytes().decode("latin-1")
    assert old in text
    path = tmp_path / Path(name).name
    path.write_bytes(text.replace(old, new, 1).encode("latin-1"))
    return path


def refused(path: Path):
    with pytest.raises(InputError) as caught:
        bankfiles.read_bank_file(path)
    return caught.value.problems


def test_control_totals_that_disagree_refuse_the_file_naming_the_line(tmp_path):
    bai2 = refused(tampered(tmp_path, "bai2/moj_svb_us_example.bai2", "16,142,490196,",
                            "16,142,490197,"))
    assert [(p.row, p.column) for p in bai2] == [(9, "49 account trailer")]
    assert "the account control total is 138,884,258, but" in bai2[0].reason
    records = refused(tampered(tmp_path, "bai2/moj_citi_example.bai2", "49,20001,10/",
                               "49,20001,11/"))
    assert [(p.row, p.value) for p in records] == [(12, "11")]
    assert "account 77777777 has 10 records" in records[0].reason
    mt940 = refused(tampered(tmp_path, "mt940/wolph_citi_mt940.sta", ":62F:C240312USD16233,92",
                             ":62F:C240312USD16233,93"))
    assert [(p.row, p.column) for p in mt940] == [(21, ":62F:")]
    camt = refused(tampered(tmp_path, "camt/genkgo_camt053.v2.multi.statement.xml",
                            '<Amt Ccy="EUR">20.00</Amt>', '<Amt Ccy="EUR">20.01</Amt>'))
    assert [(p.row, p.column, p.value) for p in camt] == [
        (139, "BkToCstmrStmt/Stmt[2]/Bal[2]/Amt", "20.01")]
    assert "give 20.00 EUR" in camt[0].reason
    ofx = refused(tampered(tmp_path, "ofx/ofxparse_checking.ofx", "<FITID>0000487",
                           "<FITID>0000486"))
    assert [(p.row, p.column, p.value) for p in ofx] == [(58, "FITID", "0000486")]


def test_a_camt_transaction_summary_and_mt940_sums_must_agree_with_the_entries(tmp_path):
    summary = ("<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries><Sum>512.34</Sum></TtlNtries>"
               "<TtlCdtNtries><NbOfNtries>2</NbOfNtries><Sum>512.34</Sum></TtlCdtNtries>"
               "</TxsSummry>")
    entries = [summary, camt_entry("500.00", ref="R1"), camt_entry("12.34", ref="R2")]
    good = camt_file(tmp_path / "good.xml", entries, "0.00", "512.34")
    bank = bankfiles.read_bank_file(good)
    assert "BkToCstmrStmt/Stmt[1]: the transaction summary (TxsSummry)" in bank.checked
    wrong = summary.replace("<TtlCdtNtries><NbOfNtries>2<", "<TtlCdtNtries><NbOfNtries>3<")
    bad = refused(camt_file(tmp_path / "bad.xml", [wrong, *entries[1:]], "0.00", "512.34"))
    assert [(p.row, p.column, p.value) for p in bad] == [
        (7, "BkToCstmrStmt/Stmt[1]/TxsSummry/TtlCdtNtries/NbOfNtries", "3")]
    assert bad[0].reason == "says 3 credit entries, but the statement has 2"
    lines = [("C500,00", "NONREF//B1", "X"), ("D12,34", "NONREF//B2", "Y")]
    sums = mt940_file(tmp_path / "sums.sta", lines, "0,00", "487,66")
    sums.write_text(sums.read_text().replace(":62F:", ":90C:1USD500,00\r\n:62F:"))
    assert bankfiles.read_bank_file(sums).count("credit") == 1
    sums.write_text(sums.read_text().replace(":90C:1USD500,00", ":90C:2USD500,00"))
    problems = refused(sums)
    assert [(p.row, p.column) for p in problems] == [(9, ":90C:")]
    assert "says 2 credit line(s) of 500.00 USD, but the statement has 1" in problems[0].reason


def test_a_blank_account_trailer_amount_is_read_as_the_bank_wrote_it():
    bank = bankfiles.read_bank_file(real("bai2/moj_account_trailer_amount_blank_example.bai2"))
    assert bank.lines.empty and bank.statements == 2 and "2 account(s)" in bank.checked[0]


# =================================================================================== small files
def bai2_file(path: Path, details: list[tuple[str, int, str, str, str]]) -> Path:
    """A BAI2 file: one group, one USD account, 16 records (type, amount, bank ref, customer
    ref, text) and trailers that add up."""
    records = ["03,000111222,USD,010,500000,,,/"]
    for code, amount, bank_ref, customer_ref, text in details:
        records += [f"16,{code},{amount},0,{bank_ref},{customer_ref},{text}"]
    total = 500000 + sum(d[1] for d in details)
    records.append(f"49,{total},{len(records) + 1}/")
    body = ["01,BANK,FIRM,261010,0800,1,,,2/", "02,FIRM,BANK,1,261009,2400,USD,2/", *records,
            f"98,{total},1,{len(records) + 2}/", f"99,{total},1,{len(records) + 4}/"]
    path.write_text("\n".join(body) + "\n")
    return path


def camt_file(path: Path, entries: list[str], opening: str | None = None,
              closing: str | None = None, version: str = "053.001.08") -> Path:
    """A camt.053 statement (or camt.054 notification) of one USD account, one entry a line
    from line 7 (line 5 and 6 are the balances, when given)."""
    root, part = (("BkToCstmrStmt", "Stmt") if version.startswith("053") else
                  ("BkToCstmrDbtCdtNtfctn", "Ntfctn"))
    bal = ('<Bal><Tp><CdOrPrtry><Cd>{}</Cd></CdOrPrtry></Tp><Amt Ccy="USD">{}</Amt>'
           '<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-10-10</Dt></Dt></Bal>')
    balances = ([bal.format("OPBD", opening), bal.format("CLBD", closing)]
                if opening is not None else ["", ""])
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{version}">\n<{root}>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-10-10T18:00:00</CreDtTm></GrpHdr>\n"
        f"<{part}><Id>S1</Id><Acct><Id><IBAN>US00FIRM0001</IBAN></Id><Ccy>USD</Ccy></Acct>\n"
        + "\n".join([*balances, *entries]) + f"\n</{part}></{root}></Document>\n")
    return path


def camt_entry(amount: str, mark: str = "CRDT", *, ref: str = "", payer: str = "",
               text: str = "", extra: str = "", details: str | None = None) -> str:
    if details is None:
        details = (f"<TxDtls><RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>"
                   f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>")
    return (f'<Ntry><Amt Ccy="USD">{amount}</Amt><CdtDbtInd>{mark}</CdtDbtInd>{extra}'
            "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-10</Dt></BookgDt>"
            f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls>{details}</NtryDtls></Ntry>")


def mt940_file(path: Path, lines: list[tuple[str, str, str]], opening: str, closing: str) -> Path:
    body = [":20:STMT1", ":25:FIRM/0001", ":28C:1/1", f":60F:C261009USD{opening}"]
    for mark_amount, ref, details in lines:
        body += [f":61:2610101010{mark_amount}NTRF{ref}", f":86:{details}"]
    body += [f":62F:C261010USD{closing}", "-"]
    path.write_text("\r\n".join(body) + "\r\n")
    return path


def ofx_file(path: Path, transactions: list[tuple[str, str, str, str]]) -> Path:
    rows = "".join(f"<STMTTRN><TRNTYPE>{'CREDIT' if not amt.startswith('-') else 'DEBIT'}"
                   f"<DTPOSTED>20261010<TRNAMT>{amt}<FITID>{fitid}<NAME>{name}<MEMO>{memo}"
                   "</STMTTRN>\n" for amt, fitid, name, memo in transactions)
    path.write_text(
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
        "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<DTSERVER>20261010</SONRS></SIGNONMSGSRSV1>\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
        "<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1"
        "<ACCTID>0001<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261001"
        f"<DTEND>20261031\n{rows}</BANKTRANLIST><LEDGERBAL><BALAMT>1.00<DTASOF>20261031"
        "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n")
    return path


def small_files(tmp_path: Path) -> dict[str, Path]:
    """One file per format: a credit naming invoice 000002 (500.00), a credit from a payer
    nobody knows, a debit, and a return or a reversal that comes in as money."""
    return {
        "bai2": bai2_file(tmp_path / "october.bai2", [
            ("142", 50000, "B1", "C1", "ACME CORP INV 000002"),
            ("195", 1234, "B2", "", "SOMEONE ELSE"),
            ("451", 9999, "B3", "", "RENT"),
            ("258", 7000, "B4", "", "ACH REVERSAL"),
            ("555", 100, "B5", "", "DEPOSITED ITEM RETURNED")]),
        "camt": camt_file(tmp_path / "october.xml", [
            camt_entry("500.00", ref="R1", payer="Acme Corp", text="Invoice 000002"),
            camt_entry("12.34", ref="R2", payer="Someone Else", text="Thanks"),
            camt_entry("99.99", "DBIT", ref="R3", text="Rent"),
            camt_entry("70.00", ref="R4", extra="<RvslInd>true</RvslInd>", text="Reversal"),
            camt_entry("1.00", ref="R5", text="Returned",
                       details="<TxDtls><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd>"
                               "<SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>"
                               "</TxDtls>")],
            "1000.00", "1483.35"),
        "mt940": mt940_file(tmp_path / "october.sta", [
            ("C500,00", "NONREF//B1", "/INV/000002 ACME CORP"),
            ("C12,34", "NONREF//B2", "SOMEONE ELSE"),
            ("D99,99", "NONREF//B3", "RENT"),
            ("RD70,00", "NONREF//B4", "REVERSAL OF A DEBIT")], "1000,00", "1482,35"),
        "ofx": ofx_file(tmp_path / "october.ofx", [
            ("500.00", "F1", "Acme Corp", "Invoice 000002"),
            ("12.34", "F2", "Someone Else", "Thanks"),
            ("-99.99", "F3", "Landlord", "Rent")]),
    }


@pytest.mark.parametrize("kind", ["bai2", "camt", "mt940", "ofx"])
def test_a_bank_file_posts_its_credits_once_and_never_its_debits(kind, ledger, tmp_path):
    path = small_files(tmp_path)[kind]
    before = tp.balances(ledger)
    result = payments.post_receipts(ledger, path)
    receipts = result.receipts.set_index("amount_minor")
    assert sorted(receipts.index) == [1234, 50000]
    assert receipts.loc[50000, "client_id"] == "C1" and receipts.loc[50000, "matched_by"] == "named"
    assert receipts.loc[1234, "status"] == "unmatched"
    assert NOT_IDENTIFIED in receipts.loc[1234, "unmatched_reason"]
    assert (before["000002"], tp.balances(ledger)["000002"]) == (50000, 0)
    kinds = result.bank.lines.groupby("kind")["amount_minor"].agg(list).to_dict()
    assert kinds.pop("debit") == [9999]
    assert kinds.pop("credit") == [50000, 1234]
    expected = {"bai2": {"reversal": [7000], "return": [100]}, "ofx": {},
                "camt": {"reversal": [7000], "return": [100]}, "mt940": {"reversal": [7000]}}
    assert kinds == expected[kind]
    assert result.skipped == len(result.bank.not_posted) == 1 + sum(map(len, kinds.values()))
    stored = payments.receipts(ledger)
    assert sorted(stored["amount_minor"]) == [1234, 50000]  # nothing else became a receipt
    assert stored["source_key"].str.startswith(
        {"bai2": "000111222:", "camt": "US00FIRM0001:", "mt940": "FIRM/0001:",
         "ofx": "0001:"}[kind]).all()
    again = payments.post_receipts(ledger, path)
    assert (again.posted, again.duplicates, again.skipped) == (0, 2, result.skipped)
    assert len(payments.receipts(ledger)) == 2


def test_a_lockbox_credit_splits_into_its_transactions(ledger, tmp_path):
    def tx(ref, amount, number):
        return (f"<TxDtls><Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs>"
                f'<Amt Ccy="USD">{amount}</Amt><RmtInf><Strd><RfrdDocInf><Nb>{number}</Nb>'
                "</RfrdDocInf></Strd></RmtInf></TxDtls>")

    path = camt_file(tmp_path / "lockbox.xml", [camt_entry(
        "1350.00", ref="BOX1", details=tx("T1", "500.00", "000002") + tx("T2", "850.00",
                                                                          "000003"))],
        version="054.001.08")
    result = payments.post_receipts(ledger, path)
    assert list(result.receipts["source_key"]) == ["US00FIRM0001:T1", "US00FIRM0001:T2"]
    assert list(result.matching.allocations["number"]) == ["000002", "000003"]
    bad = camt_file(tmp_path / "bad.xml", [camt_entry(
        "1350.00", ref="BOX1", details=tx("T1", "500.00", "000002") + tx("T2", "800.00",
                                                                          "000003"))],
        "0.00", "1350.00")
    problems = refused(bad)
    assert [(p.row, p.column) for p in problems] == [(7, "BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt")]
    assert "add up to 1300.00 USD, not to the entry's amount" in problems[0].reason


def test_a_receipt_in_a_currency_the_client_does_not_bill_in_is_left_unmatched(
        empty_ledger, monkeypatch):
    ledger = bank_firm(empty_ledger, monkeypatch, named=[("4654654654654654", "M5", "USD",
                                                          "2014-12-01", 2000)])
    result = payments.post_receipts(ledger, real("camt/genkgo_camt053.v4.xml"))
    first = result.receipts.iloc[0]
    assert (first["status"], first["currency"]) == ("unmatched", "EUR")
    assert first["unmatched_reason"] == "is in EUR; the invoices it names are in USD"
    assert result.matching.allocations.empty


def test_a_payer_known_by_name_pays_in_a_currency_it_has_no_invoices_in(ledger, tmp_path):
    path = ofx_file(tmp_path / "gbp.ofx", [("10.00", "F9", "Beta LLC", "no invoice named")])
    path.write_text(path.read_text().replace("<CURDEF>USD", "<CURDEF>GBP"))
    first = payments.post_receipts(ledger, path).receipts.iloc[0]
    assert (first["client_id"], first["status"]) == ("C3", "unmatched")
    assert first["unmatched_reason"] == "is in GBP; client C3 has no invoices in GBP"


# =================================================================================== dispatch
def test_the_content_decides_not_the_name(ledger, tmp_path):
    camt_as_csv = tmp_path / "statement.csv"
    camt_as_csv.write_bytes(real("camt/genkgo_camt053.v8.xml").read_bytes())
    checked = payments.read_receipts(camt_as_csv, reference=payments.CashReference.from_ledger(
        ledger))
    assert checked.bank is not None and checked.profile.source == "camt"
    assert list(checked.frame["amount_minor"]) == [885]  # not a one-column CSV
    table = tp.write_csv(tmp_path / "receipts.xml", [
        tp.receipt("R1", "2026-10-10", "500.00", client_id="C1", remittance="Invoice 000002")])
    as_table = payments.read_receipts(table, reference=payments.CashReference.from_ledger(ledger))
    assert as_table.bank is None and as_table.profile.name == "canonical"
    assert list(as_table.frame["receipt_id"]) == ["R1"]
    for name, fmt in (("bai2/moj_citi_example.bai2", "BAI2"),
                      ("mt940/wolph_citi_mt940.sta", "MT940"),
                      ("ofx/ofxparse_fail_nice_decimal_error.ofx", "OFX"),  # no OFX header
                      ("bai2/moov_error_sample-parseError.bai2", "BAI2")):
        assert bankfiles.sniff(real(name).read_bytes()) == fmt
    assert bankfiles.sniff(table.read_bytes()) is None


# =================================================================================== the CLI
def cli(url: str, *args: str):
    from billxl.cli import app

    return CliRunner().invoke(app, ["--ledger", url, "payments", "post", *args],
                              env={"COLUMNS": "200"})


def test_the_cli_reports_what_a_bank_file_holds(tmp_path, monkeypatch):
    from billxl.store.ledger import Ledger
    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    bank_firm(Ledger.create(url, firm=FIRM), monkeypatch).dispose()
    path = small_files(tmp_path)["bai2"]
    dry = cli(url, str(path), "--dry-run")
    assert dry.exit_code == 1, dry.output  # one receipt is unmatched
    assert "Not posted: debits, returns, reversals" in dry.output
    assert "Deposited Item Returned" in dry.output and "ACH Reversal Credit" in dry.output
    assert "RENT" in dry.output  # debits are listed in a dry run
    assert "BAI2 file, 1 statement(s)/account(s): 2 credit(s) as receipts (512.34 USD)" \
        in dry.output
    assert "Would post 2 receipt(s)" in dry.output
    posted = cli(url, str(path), "--format", "json")
    summary = json.loads(posted.stdout)
    assert (summary["posted"], summary["skipped"]) == (2, 3)
    assert summary["bank"]["kinds"]["return"] == {"count": 1,
                                                 "amount_by_currency": {"USD": "1.00"}}
    assert [r["kind"] for r in summary["bank"]["not_posted"]] == ["debit", "reversal", "return"]
    table = cli(url, str(path))
    assert "Posted 0 receipt(s)" in table.output and "2 already in the ledger" in table.output
    assert "RENT" not in table.output and "ACH REVERSAL" in table.output
    wrong = cli(url, str(real("mt940/wolph_self_february_30.sta")))
    assert wrong.exit_code == 2
    assert "30 February 2016" in wrong.output


@pytest.mark.parametrize("kind", ["camt", "ofx"])
def test_a_payer_name_with_characters_that_do_not_show_is_posted_without_them(
        kind, ledger, tmp_path):
    """A right-to-left override in the payer's name (it would read 'proC emcA' reversed on
    screen) and a zero-width space in the remittance are removed when the bank file is read,
    as in every table billxl reads, and the summary names the line."""
    path = small_files(tmp_path)[kind]
    text = path.read_text(encoding="utf-8").replace(  # an OFX file in UTF-8 says so
        "ENCODING:USASCII\nCHARSET:1252", "ENCODING:UTF-8\nCHARSET:NONE")
    path.write_text(text.replace("Acme Corp", "Acme \u202eCorp", 1)
                    .replace("Invoice 000002", "Invoice\u200b 000002", 1), encoding="utf-8")
    result = payments.post_receipts(ledger, path)
    stored = payments.receipts(ledger).set_index("amount_minor")
    assert stored.loc[50000, "payer"] == "Acme Corp"
    assert "\u200b" not in stored.loc[50000, "remittance"]
    assert result.receipts.set_index("amount_minor").loc[50000, "client_id"] == "C1"
    assert [p.column for p in result.hidden] == ["payer", "remittance"]
    assert result.summary_dict()["hidden_characters"] == 2
    line = result.hidden[0].row
    assert (f"2 cell(s) held characters that do not show (such as a right-to-left override), "
            f"read without them: line {line} payer, line {line} remittance.") in result.summary()
