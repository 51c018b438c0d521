"""Rate resolution: precedence, effective dates, and the frame and single look-up agreeing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from billxl.rates import RateBook, resolve_rates

TIMEKEEPERS = pd.DataFrame({"timekeeper_id": ["TK1", "TK2", "TK3"],
                            "classification": ["PARTNR", "ASSOC", "ASSOC"]})
MATTERS = pd.DataFrame({"matter_id": ["M1", "M2", "M3"], "client_id": ["C1", "C1", "C2"]})


def rate(kind, minor, start, end=None, **who):
    return {"kind": kind, "timekeeper_id": who.get("tk"), "classification": who.get("cls"),
            "client_id": who.get("client"), "matter_id": who.get("matter"), "currency": "USD",
            "rate_minor": minor, "effective_from": pd.Timestamp(start),
            "effective_to": pd.Timestamp(end) if end else pd.NaT}


RATES = pd.DataFrame([
    rate("standard", 90000, "2026-01-01", "2026-06-30", tk="TK1"),
    rate("standard", 95000, "2026-07-01", tk="TK1"),               # the mid-year increase
    rate("standard", 50000, "2026-01-01", cls="ASSOC"),
    rate("standard", 52500, "2026-07-01", cls="ASSOC"),
    rate("override", 45000, "2026-01-01", client="C1", cls="ASSOC"),
    rate("override", 80000, "2026-01-01", matter="M2", tk="TK1"),
    rate("approved", 90000, "2026-01-01", client="C1", tk="TK1"),
])


def entries(rows):
    return pd.DataFrame([{"timekeeper_id": tk, "matter_id": m, "work_date": pd.Timestamp(d),
                          "currency": "USD"} for tk, m, d in rows])


def test_precedence_and_effective_dates():
    e = entries([("TK1", "M1", "2026-03-02"), ("TK1", "M1", "2026-10-05"),
                 ("TK1", "M2", "2026-10-05"), ("TK2", "M1", "2026-10-05"),
                 ("TK3", "M3", "2026-03-02"), ("TK3", "M3", "2026-10-05"),
                 ("TK1", "M3", "2025-12-31")])
    got = resolve_rates(e, RATES, TIMEKEEPERS, MATTERS)
    assert got["standard_rate_minor"].tolist() == [90000, 95000, 95000, 52500, 50000, 52500, pd.NA]
    assert got["billing_rate_minor"].tolist() == [90000, 95000, 80000, 45000, 50000, 52500, pd.NA]
    assert got["approved_rate_minor"].tolist()[:3] == [90000, 90000, 90000]
    assert got["rate_source"].tolist()[:4] == ["standard:timekeeper", "standard:timekeeper",
                                               "override:matter+timekeeper", "override:client+class"]


def test_single_lookups_equal_the_frame_on_every_combination():
    book = RateBook(RATES, TIMEKEEPERS, MATTERS)
    days = [date(2025, 12, 30) + timedelta(days=int(d)) for d in
            np.random.default_rng(7).integers(0, 400, 40)]
    rows = [(tk, m, d) for tk in TIMEKEEPERS["timekeeper_id"] for m in MATTERS["matter_id"]
            for d in days]
    frame = resolve_rates(entries(rows), RATES, TIMEKEEPERS, MATTERS)
    for (tk, m, d), rec in zip(rows, frame.to_dict("records"), strict=True):
        expect = lambda v: None if pd.isna(v) else int(v)  # noqa: E731
        assert book.billing(tk, m, d) == expect(rec["billing_rate_minor"])
        assert book.standard(tk, d) == expect(rec["standard_rate_minor"])
        assert book.approved(tk, m, d) == expect(rec["approved_rate_minor"])


def test_rates_in_another_currency_do_not_apply():
    e = entries([("TK1", "M1", "2026-10-05")]).assign(currency="GBP")
    got = resolve_rates(e, RATES, TIMEKEEPERS, MATTERS)
    assert got["billing_rate_minor"].isna().all()


def test_any_index_gets_its_rates():
    """Entries selected out of a bigger frame keep their index; their rates must still apply."""
    e = entries([("TK1", "M1", "2026-03-02"), ("TK2", "M1", "2026-10-05")])
    e.index = [40, 7]
    got = resolve_rates(e, RATES, TIMEKEEPERS, MATTERS)
    assert got.loc[40, "billing_rate_minor"] == 90000
    assert got.loc[7, "billing_rate_minor"] == 45000
