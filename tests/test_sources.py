"""Two-source reconciliation: key pairs, fuzzy pairs, and what is missing, extra or changed."""

from __future__ import annotations

import pandas as pd

from billxl.sources import compare_sources


def frame(rows):
    return pd.DataFrame([{"entry_id": e, "timekeeper_id": tk, "matter_id": m,
                          "work_date": pd.Timestamp(d), "hours_milli": h, "narrative": n}
                         for e, tk, m, d, h, n in rows])


A = frame([
    ("1", "TK1", "M1", "2026-10-01", 1500, "Draft motion to compel production"),
    ("2", "TK1", "M1", "2026-10-02", 800, "Review deposition transcript of J. Doe"),
    ("3", "TK2", "M2", "2026-10-02", 300, "Call with client re settlement terms"),
    ("4", "TK2", "M2", "2026-10-03", 1000, "Prepare exhibits for hearing"),
])


def test_identical_sources_have_no_differences():
    assert compare_sources(A, A.copy()).empty


def test_missing_extra_and_changed_by_key():
    b = frame([
        ("1", "TK1", "M1", "2026-10-01", 1200, "Draft motion to compel production"),  # hours
        ("2", "TK1", "M9", "2026-10-02", 800, "Review  deposition transcript of J. Doe"),  # matter
        ("4", "TK2", "M2", "2026-10-03", 1000, "Prepare exhibits and witness list for hearing"),
        ("5", "TK3", "M3", "2026-10-04", 200, "Email opposing counsel re schedule"),
    ])
    diff = compare_sources(A, b)
    got = {(r.status, r.field, r.entry_id_a if r.status != "extra" else r.entry_id_b,
            r.value_a, r.value_b) for r in diff.itertuples()}
    assert got == {
        ("missing", "", "3", "0.300", None),
        ("extra", "", "5", None, "0.200"),
        ("changed", "hours", "1", "1.500", "1.200"),
        ("changed", "matter_id", "2", "M1", "M9"),
        ("changed", "narrative", "4", "Prepare exhibits for hearing",
         "Prepare exhibits and witness list for hearing"),
    }  # whitespace alone (entry 2's narrative) is not a change


def test_entries_without_shared_keys_pair_fuzzily_within_timekeeper_and_day():
    b = frame([
        ("X9", "TK1", "M1", "2026-10-01", 1500, "Drafted motion to compel production."),
        ("X8", "TK1", "M1", "2026-10-02", 900, "Review deposition transcript of J. Doe"),
        ("X7", "TK2", "M2", "2026-10-02", 300, "Prepare exhibits for hearing"),  # other day
    ])
    diff = compare_sources(A.assign(entry_id=""), b)
    changed = diff[diff["status"] == "changed"]
    assert set(changed["entry_id_b"]) == {"X9", "X8"}
    assert (changed["matched_by"] == "fuzzy").all()
    assert set(changed["field"]) == {"narrative", "hours"}
    assert sorted(diff.loc[diff["status"] == "missing", "value_a"]) == ["0.300", "1.000"]
    assert list(diff.loc[diff["status"] == "extra", "entry_id_b"]) == ["X7"]
