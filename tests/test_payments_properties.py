"""The cash invariants, over random sequences of what happens to a ledger (hypothesis).

A state machine issues invoices, posts receipt files (named invoices, exact amounts, payers by
id or by name, strangers, other currencies), posts them again, reverses receipts, applies
unmatched ones by hand, issues credit notes, writes off, refunds credit, and moves trust money
(including attempts to overdraw it, through billxl and straight into the store). After every
step it checks, from the raw journals:

* every invoice's balance = total - allocations - credit notes - write-offs, and it is never
  below zero or above what was invoiced (no allocation exceeds an invoice's balance);
* every receipt: allocated + unapplied + refunded = amount (reversed: nothing allocated or
  unapplied), and no receipt ever allocated more than it brought in;
* every trust ledger's running balance is never negative;
* posting the same file again changes nothing.

SQLite only: the invariants are the engine's and the store's, and each example needs a fresh
ledger (copied from a template, in milliseconds).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from billxl import payments, trust
from billxl.billing.credit_notes import issue_credit_note
from billxl.errors import LedgerError
from billxl.store import tables as t
from billxl.store.ledger import Ledger
from tests.test_payments import add_invoices, firm, snapshot, write_csv

_TEMPLATE: dict[str, Path] = {}


def template() -> Path:
    """A ledger with the test firm and its invoices, made once and copied for each example."""
    if "path" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="billxl_cash_template_"))
        ledger = firm(Ledger.create(f"sqlite:///{folder / 'template.db'}",
                                    firm={"name": "Prop LLP", "law_firm_id": "1"}))
        ledger.dispose()
        _TEMPLATE["path"] = folder / "template.db"
    return _TEMPLATE["path"]


PAYERS = {"C1": "Acme Corp", "C2": "Brit Ltd", "C3": "Beta LLC"}
CURRENCY = {"C1": "USD", "C2": "GBP", "C3": "USD"}
MATTERS = {"M1": "C1", "M2": "C1", "M3": "C2", "M4": "C3"}

receipt_rows = st.lists(st.fixed_dictionaries({
    "who": st.sampled_from(["id", "name", "stranger", "named", "named_loose"]),
    "client": st.sampled_from(["C1", "C2", "C3"]),
    "amount": st.integers(1, 300_000),
    "exact": st.booleans(),
    "foreign": st.integers(0, 9),  # 0: a currency the client is not billed in
    "day": st.integers(1, 28),
}), min_size=1, max_size=6)


class CashLedger(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="billxl_cash_prop_"))
        self.next_receipt = 0
        self.next_invoice = 7
        self.files: list[Path] = []

    @initialize()
    def open_ledger(self):
        shutil.copyfile(template(), self.folder / "ledger.db")
        self.ledger = Ledger.open(f"sqlite:///{self.folder / 'ledger.db'}")

    def teardown(self):
        if hasattr(self, "ledger"):
            self.ledger.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------ helpers
    def balances(self) -> pd.DataFrame:
        return payments.invoice_balances(self.ledger)

    def open_invoices(self, currency: str | None = None) -> pd.DataFrame:
        b = self.balances()
        b = b[b["balance_minor"] > 0]
        return b if currency is None else b[b["currency"] == currency]

    # ------------------------------------------------------------------ rules
    @rule(matter=st.sampled_from(sorted(MATTERS)), fees=st.integers(1, 500_000),
          expenses=st.integers(0, 50_000), day=st.integers(1, 28))
    def issue_invoice(self, matter, fees, expenses, day):
        number = f"{self.next_invoice:06d}"
        self.next_invoice += 1
        add_invoices(self.ledger, [(number, matter, f"2026-09-{day:02d}", fees, expenses, 0)],
                     currency_of={"M3": "GBP"})

    @rule(rows=receipt_rows, data=st.data())
    def post_receipts(self, rows, data):
        open_now = self.balances()
        out = []
        for r in rows:
            self.next_receipt += 1
            client = r["client"]
            mine = open_now[(open_now["client_id"] == client) & (open_now["balance_minor"] > 0)]
            amount = r["amount"]
            if r["exact"] and len(mine):
                amount = int(mine["balance_minor"].iloc[0])
            row = {"receipt_id": f"R{self.next_receipt:05d}", "date": f"2026-10-{r['day']:02d}",
                   "amount": f"{amount // 100}.{amount % 100:02d}",
                   "currency": CURRENCY[client] if r["foreign"] else
                   ("EUR" if CURRENCY[client] != "EUR" else "USD")}
            if r["who"] == "id":
                row["client_id"] = client
            elif r["who"] == "name":
                row["payer"] = PAYERS[client].upper()
            elif r["who"] == "stranger":
                row["payer"] = f"Stranger {self.next_receipt}"
            elif len(mine):
                numbers = data.draw(st.lists(st.sampled_from(sorted(mine["number"])), min_size=1,
                                             max_size=3, unique=True))
                if r["who"] == "named_loose":
                    row["remittance"] = " ".join(f"Inv {n.lstrip('0')}" for n in numbers)
                else:
                    row["remittance"] = "Payment of " + ", ".join(numbers)
            else:
                row["client_id"] = client
            out.append(row)
        path = write_csv(self.folder / f"file{len(self.files)}.csv", out)
        self.files.append(path)
        payments.post_receipts(self.ledger, path)

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def repost_a_file(self, data):
        path = data.draw(st.sampled_from(self.files))
        before = snapshot(self.ledger)
        result = payments.post_receipts(self.ledger, path)
        assert result.posted == 0
        assert snapshot(self.ledger) == before

    @rule(data=st.data())
    def reverse_a_receipt(self, data):
        live = payments.receipts(self.ledger)
        refunded = set(self.ledger.read_frame(sa.select(t.refunds.c.receipt_pk))["receipt_pk"])
        live = live[(live["status"] != "reversed") & ~live["receipt_pk"].isin(refunded)]
        if live.empty:
            return
        rid = data.draw(st.sampled_from(sorted(live["receipt_id"])))
        touched = payments.invoice_balances(self.ledger)
        payments.reverse_receipt(self.ledger, rid, reason="NSF", on=date(2026, 11, 1))
        after = payments.invoice_balances(self.ledger)
        assert (after["balance_minor"] >= touched["balance_minor"]).all()

    @rule(data=st.data())
    def apply_an_unmatched_receipt(self, data):
        lost = payments.unapplied_cash(self.ledger, unmatched_only=True)
        if lost.empty:
            return
        one = lost.iloc[data.draw(st.integers(0, len(lost) - 1))]
        targets = self.open_invoices(one["currency"])
        if targets.empty:
            return
        pick = targets.iloc[data.draw(st.integers(0, len(targets) - 1))]
        payments.apply_receipt(self.ledger, one["receipt_id"], [pick["number"]],
                               client=pick["client_id"], on=date(2026, 11, 2))

    @rule(data=st.data(), share=st.integers(1, 100))
    def credit_note(self, data, share):
        targets = self.open_invoices()
        if targets.empty:
            return
        pick = targets.iloc[data.draw(st.integers(0, len(targets) - 1))]
        minor = max(1, int(pick["balance_minor"]) * share // 100)
        issue_credit_note(self.ledger, pick["number"], reason="goodwill",
                          amount=f"{minor // 100}.{minor % 100:02d}",
                          on=date(2026, 10, 31))

    @rule(data=st.data(), share=st.integers(1, 100))
    def write_off(self, data, share):
        targets = self.open_invoices()
        if targets.empty:
            return
        pick = targets.iloc[data.draw(st.integers(0, len(targets) - 1))]
        minor = max(1, int(pick["balance_minor"]) * share // 100)
        payments.write_off(self.ledger, pick["number"], f"{minor // 100}.{minor % 100:02d}",
                           reason="uncollectable", on=date(2026, 11, 3))

    @rule(client=st.sampled_from(["C1", "C2", "C3"]), share=st.integers(1, 120))
    def refund_credit(self, client, share):
        cash = payments.unapplied_cash(self.ledger, client=client)
        mine = (cash["status"] == "posted") & (cash["currency"] == CURRENCY[client])
        credit = int(cash.loc[mine, "unapplied_minor"].sum())
        minor = max(1, credit * share // 100)
        amount = f"{minor // 100}.{minor % 100:02d}"
        if minor > credit:
            with pytest.raises(LedgerError):
                payments.refund_credit(self.ledger, amount, client=client, reference="x",
                                       reason="too much")
        else:
            payments.refund_credit(self.ledger, amount, client=client, reference="CHK",
                                   reason="credit balance")

    @rule(matter=st.sampled_from(sorted(MATTERS)), kind=st.sampled_from(["deposit", "apply", "refund"]),
          amount=st.integers(1, 200_000), data=st.data())
    def trust_money(self, matter, kind, amount, data):
        text = f"{amount // 100}.{amount % 100:02d}"
        held = trust.balances(self.ledger, matter=matter)
        held = int(held["balance_minor"].sum()) if len(held) else 0
        if kind == "deposit":
            trust.deposit(self.ledger, matter, text, reference="wire")
        elif kind == "refund":
            if amount > held:
                with pytest.raises(LedgerError):
                    trust.refund(self.ledger, matter, text, reference="x", reason="y")
            else:
                trust.refund(self.ledger, matter, text, reference="CHK", reason="closing")
        else:
            mine = self.open_invoices()
            mine = mine[mine["matter_id"] == matter]
            if mine.empty:
                return
            pick = mine.iloc[data.draw(st.integers(0, len(mine) - 1))]
            if amount > min(held, int(pick["balance_minor"])):
                with pytest.raises(LedgerError):
                    trust.apply_to_invoice(self.ledger, matter, pick["number"], text,
                                           authorisation="email")
            else:
                trust.apply_to_invoice(self.ledger, matter, pick["number"], text,
                                       authorisation="email of 1 Oct")

    @rule(matter=st.sampled_from(sorted(MATTERS)), extra=st.integers(1, 10_000))
    def overdraw_trust_in_the_store(self, matter, extra):
        """Straight SQL, past billxl's own checks: the store itself must refuse."""
        held = trust.balances(self.ledger, matter=matter)
        held = int(held["balance_minor"].sum()) if len(held) else 0
        with pytest.raises(sa.exc.IntegrityError), self.ledger.transaction() as conn:
            conn.execute(t.trust_entries.insert(), {
                "client_id": MATTERS[matter], "matter_id": matter,
                "currency": "GBP" if matter == "M3" else "USD", "kind": "refund",
                "entry_date": date(2026, 11, 5), "amount_minor": -(held + extra),
                "reference": "raw", "created_at": pd.Timestamp.now(tz="UTC").to_pydatetime(),
                "created_by": "raw"})

    # ------------------------------------------------------------------ invariants
    @invariant()
    def invoices_balance(self):
        if not hasattr(self, "ledger"):
            return
        inv = self.ledger.read_frame(sa.select(t.invoices))
        alloc = self.ledger.read_frame(sa.select(t.allocations))
        offs = self.ledger.read_frame(sa.select(t.write_offs))
        notes = inv[inv["kind"] == "credit_note"].groupby("credits_invoice_pk")["total_minor"].sum()
        paid = alloc.groupby("invoice_pk")["amount_minor"].sum()
        written = offs.groupby("invoice_pk")["amount_minor"].sum()
        bills = inv[inv["kind"] == "invoice"].set_index("invoice_pk")
        expected = (bills["total_minor"] + bills.index.map(notes).fillna(0)
                    - bills.index.map(paid).fillna(0) - bills.index.map(written).fillna(0))
        shown = self.balances().set_index("invoice_pk")["balance_minor"]
        assert (shown.reindex(bills.index) == expected.astype("int64")).all()
        assert (expected >= 0).all(), "an allocation or write-off exceeded an invoice's balance"
        assert (expected <= bills["total_minor"]).all()
        # no receipt ever took back more from an invoice than it had paid it
        per_pair = alloc.dropna(subset=["receipt_pk"]).groupby(["receipt_pk", "invoice_pk"])[
            "amount_minor"].sum()
        assert (per_pair >= 0).all()

    @invariant()
    def cash_adds_up(self):
        if not hasattr(self, "ledger"):
            return
        rec = payments.receipts(self.ledger).set_index("receipt_pk")
        alloc = self.ledger.read_frame(sa.select(t.allocations)).dropna(subset=["receipt_pk"])
        refunds = self.ledger.read_frame(sa.select(t.refunds))
        allocated = rec.index.map(alloc.groupby("receipt_pk")["amount_minor"].sum()).fillna(0)
        refunded = rec.index.map(refunds.groupby("receipt_pk")["amount_minor"].sum()).fillna(0)
        live = (rec["status"] != "reversed").to_numpy()
        cash_in = rec["amount_minor"].to_numpy()
        unapplied = rec["unapplied_minor"].to_numpy()
        assert (cash_in[live] == (allocated + unapplied + refunded).to_numpy()[live]).all()
        assert (allocated.to_numpy()[~live] == 0).all() and (unapplied[~live] == 0).all()
        assert (allocated >= 0).all() and (allocated + refunded <= rec["amount_minor"]).all()
        # the stored unapplied amount is the credit figure computed from the journals
        figure = payments.unapplied_cash(self.ledger).set_index("receipt_pk")["unapplied_minor"]
        stored = rec.loc[live & (rec["unapplied_minor"] > 0).to_numpy(), "unapplied_minor"]
        assert figure.sort_index().to_dict() == stored.sort_index().to_dict()
        assert not rec.duplicated(["source", "source_key"]).any()

    @invariant()
    def trust_never_negative(self):
        if not hasattr(self, "ledger"):
            return
        entries = self.ledger.read_frame(sa.select(t.trust_entries)
                                         .order_by(t.trust_entries.c.trust_entry_pk))
        if len(entries):
            running = entries.groupby(["matter_id", "currency"])["amount_minor"].cumsum()
            assert (running >= 0).all()
            applied = self.ledger.read_frame(sa.select(t.allocations)
                                             .where(t.allocations.c.trust_entry_pk.is_not(None)))
            applications = entries[entries["kind"] == "application"]
            assert applied["amount_minor"].sum() == -applications["amount_minor"].sum()


CashLedger.TestCase.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_cash_invariants = CashLedger.TestCase
