"""Two sources of the same time: what one has that the other lacks, and what differs.

A timekeeping export and the ledger (or two exports) should agree. :func:`compare_sources`
pairs their entries — by key where both carry the same entry id, else fuzzily within the same
timekeeper and day (same matter and hours help; the narratives must read alike) — and lists
entries missing from B, extra in B, and changed fields (hours, matter, date, narrative).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from billxl import money

COMPARED = ("hours_milli", "matter_id", "work_date", "narrative")
RESULT_COLUMNS = ["status", "field", "entry_id_a", "entry_id_b", "timekeeper_id", "work_date",
                  "matter_id", "value_a", "value_b", "matched_by", "score"]
#: A fuzzy pair needs at least this narrative similarity (0-100, rapidfuzz token_set_ratio).
FUZZY_THRESHOLD = 80.0


def _norm_text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.split().str.join(" ")


def _pair_by_key(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    keyed_a = a[a["entry_id"].fillna("") != ""]
    keyed_b = b[b["entry_id"].fillna("") != ""]
    pairs = keyed_a[["_ia", "entry_id"]].merge(keyed_b[["_ib", "entry_id"]], on="entry_id")
    return pairs.assign(matched_by="key", score=100.0)[["_ia", "_ib", "matched_by", "score"]]


def _pair_fuzzily(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Greedy best pairs within each (timekeeper, day) block; each row pairs at most once."""
    if a.empty or b.empty:
        return pd.DataFrame(columns=["_ia", "_ib", "matched_by", "score"])
    found = []
    b_blocks = {k: g for k, g in b.groupby(["timekeeper_id", "work_date"], sort=False)}
    for key, ga in a.groupby(["timekeeper_id", "work_date"], sort=False):
        gb = b_blocks.get(key)
        if gb is None:
            continue
        text = process.cdist(ga["_text"].tolist(), gb["_text"].tolist(),
                             scorer=fuzz.token_set_ratio, dtype=np.float32)
        same_matter = ga["matter_id"].to_numpy()[:, None] == gb["matter_id"].to_numpy()[None, :]
        same_hours = ga["hours_milli"].to_numpy()[:, None] == gb["hours_milli"].to_numpy()[None, :]
        # narrative decides; matter and hours break ties between similar narratives
        score = np.where(text >= FUZZY_THRESHOLD, text + 5 * same_matter + 5 * same_hours, -1)
        ia, ib = ga["_ia"].to_numpy(), gb["_ib"].to_numpy()
        while score.size and score.max() >= 0:
            i, j = np.unravel_index(np.argmax(score), score.shape)
            found.append((ia[i], ib[j], float(text[i, j])))
            score[i, :] = -1
            score[:, j] = -1
    frame = pd.DataFrame(found, columns=["_ia", "_ib", "score"])
    return frame.assign(matched_by="fuzzy")[["_ia", "_ib", "matched_by", "score"]]


def _display(field: str, value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if field == "hours_milli":
        return str(money.milli_to_qty(int(value)))
    if field == "work_date":
        return pd.Timestamp(value).date().isoformat()
    return str(value)


def compare_sources(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Differences between two time-entry frames (columns entry_id, timekeeper_id, matter_id,
    work_date, hours_milli, narrative). One row per missing entry, extra entry or changed field;
    ``status`` is 'missing' (in A, not in B), 'extra' (in B, not in A) or 'changed'.
    """
    a = a.reset_index(drop=True).assign(_ia=lambda f: np.arange(len(f)))
    b = b.reset_index(drop=True).assign(_ib=lambda f: np.arange(len(f)))
    a["_text"] = _norm_text(a["narrative"])
    b["_text"] = _norm_text(b["narrative"])

    by_key = _pair_by_key(a, b)
    rest_a = a[~a["_ia"].isin(by_key["_ia"])]
    rest_b = b[~b["_ib"].isin(by_key["_ib"])]
    pairs = pd.concat([by_key, _pair_fuzzily(rest_a, rest_b)], ignore_index=True)

    out = []
    missing = a[~a["_ia"].isin(pairs["_ia"])]
    extra = b[~b["_ib"].isin(pairs["_ib"])]
    for frame, status, id_col in ((missing, "missing", "entry_id_a"), (extra, "extra", "entry_id_b")):
        if not frame.empty:
            out.append(pd.DataFrame({
                "status": status, "field": "", id_col: frame["entry_id"].to_numpy(),
                "timekeeper_id": frame["timekeeper_id"].to_numpy(),
                "work_date": frame["work_date"].to_numpy(),
                "matter_id": frame["matter_id"].to_numpy(),
                "value_a" if status == "missing" else "value_b":
                    frame["hours_milli"].map(lambda v: _display("hours_milli", v)).to_numpy(),
                "matched_by": "", "score": np.nan,
            }))

    joined = (pairs.merge(a, on="_ia").merge(b, on="_ib", suffixes=("_a", "_b")))
    for field in COMPARED:
        left, right = joined[f"{field}_a"], joined[f"{field}_b"]
        if field == "narrative":
            differs = joined["_text_a"] != joined["_text_b"]
        else:
            differs = ~((left == right) | (left.isna() & right.isna()))
        diff = joined[differs.fillna(True).astype(bool)]
        if diff.empty:
            continue
        out.append(pd.DataFrame({
            "status": "changed", "field": field.replace("_milli", ""),
            "entry_id_a": diff["entry_id_a"].to_numpy(), "entry_id_b": diff["entry_id_b"].to_numpy(),
            "timekeeper_id": diff["timekeeper_id_a"].to_numpy(),
            "work_date": diff["work_date_a"].to_numpy(), "matter_id": diff["matter_id_a"].to_numpy(),
            "value_a": [_display(field, v) for v in diff[f"{field}_a"]],
            "value_b": [_display(field, v) for v in diff[f"{field}_b"]],
            "matched_by": diff["matched_by"].to_numpy(), "score": diff["score"].to_numpy(),
        }))
    if not out:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    result = pd.concat(out, ignore_index=True).reindex(columns=RESULT_COLUMNS)
    for col in ("entry_id_a", "entry_id_b", "value_a", "value_b"):
        result[col] = result[col].astype(object).where(result[col].notna(), None)
    order = result["status"].map({"missing": 0, "extra": 1, "changed": 2})
    return (result.assign(_o=order).sort_values(["_o", "timekeeper_id", "work_date", "field"],
                                                kind="stable")
            .drop(columns="_o").reset_index(drop=True))
