"""The firm's reference data: one rounding rule per client, one display name per timekeeper."""

from __future__ import annotations

import numpy as np
import pandas as pd

from billxl.money import DEFAULT_ROUNDING, Rounding
from billxl.reference import Reference, display_name

CLIENTS = pd.DataFrame({"client_id": ["C1", "C2"], "currency": ["USD", "EUR"],
                        "rounding": ["down", None]})
TIMEKEEPERS = pd.DataFrame({"timekeeper_id": ["TK1", "TK2"], "first_name": ["Jane", "Li"],
                            "last_name": ["Smith", "Wei"]})


def test_rounding_of_is_the_clients_else_the_firms_else_the_default():
    with_firm = Reference(firm={"rounding": "half_even"}, clients=CLIENTS)
    assert with_firm.rounding_of("C1") is Rounding.DOWN  # the client's own rule
    assert with_firm.rounding_of("C2") is Rounding.HALF_EVEN  # client unset: the firm's
    assert with_firm.rounding_of("C9") is Rounding.HALF_EVEN  # unknown client: the firm's
    no_firm = Reference(clients=CLIENTS)
    assert no_firm.rounding_of("C1") is Rounding.DOWN
    assert no_firm.rounding_of("C2") is DEFAULT_ROUNDING  # neither: the library default
    assert Reference().rounding_of("C1") is DEFAULT_ROUNDING


def test_roundings_is_rounding_of_over_a_series_or_an_array():
    reference = Reference(firm={"rounding": "half_even"}, clients=CLIENTS)
    ids = pd.Series(["C2", "C1", None], index=[7, 3, 5])
    got = reference.roundings(ids)
    assert got.index.tolist() == [7, 3, 5]
    assert got.tolist() == ["half_even", "down", "half_even"]
    assert reference.roundings(np.array(["C1", "C2"], dtype=object)).tolist() == [
        "down", "half_even"]
    assert got.tolist() == [reference.rounding_of(c).value for c in ids]


def test_display_name_is_last_comma_first():
    assert display_name("Smith", "Jane") == "Smith, Jane"
    assert display_name(TIMEKEEPERS["last_name"], TIMEKEEPERS["first_name"]).tolist() == [
        "Smith, Jane", "Wei, Li"]
    reference = Reference(timekeepers=TIMEKEEPERS)
    assert reference.display_name("TK2") == "Wei, Li"
    assert reference.display_name("TK9") is None
    names = reference.display_names(pd.Series(["TK1", "TK9"], index=[4, 2]))
    assert names.index.tolist() == [4, 2]
    assert names.iloc[0] == "Smith, Jane" and pd.isna(names.iloc[1])


def test_from_frames_takes_table_names_and_firm():
    terms = pd.DataFrame({"matter_id": ["M1"], "discount_percent": ["10"],
                          "min_bill_minor": pd.array([None], dtype="Int64")})
    payors = pd.DataFrame({"matter_id": ["M1", "M1"], "client_id": ["C1", "C2"],
                           "percent": ["60", "40"]})
    reference = Reference.from_frames({"clients": CLIENTS, "matter_terms": terms,
                                       "matter_payors": payors, "firm": {"currency": "GBP"}})
    assert reference.firm_currency == "GBP" and reference.firm_rounding is DEFAULT_ROUNDING
    assert reference.terms_of("M1") == {"matter_id": "M1", "discount_percent": "10"}
    assert [(c, str(p)) for c, p in reference.payors_of("M1")] == [("C1", "60"), ("C2", "40")]
    assert reference.payors_of("M2") == [] and reference.terms_of("M2") == {}
    assert reference.lookup("client")["c1"] == "C1"
