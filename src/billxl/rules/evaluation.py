"""How well the rules find what was planted: recall and precision per rule against a ground truth.

The ground truth (e.g. the demo firm's) lists one row per planted problem and entry:
``entry_id, kind, problem, detail`` with ``problem`` a rule id. A finding is right when the
truth lists its rule on its entry; a planted problem is found when a finding of its rule is on
its entry.

Duplicates are scored by *pair*: a planted copy and its original (named in the detail, "copy of
T...") are the same work twice, and when both carry the same date and text nothing in the data
says which was keyed second. A DUPLICATE finding on either entry of a planted pair finds that
pair; a finding outside every planted pair is wrong.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["SCORE_COLUMNS", "score"]

SCORE_COLUMNS = ["rule", "planted", "flagged", "right", "recall", "precision"]
_COPY_OF = r"copy of (\S+)"


def score(findings: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Recall and precision per rule (rules that were planted or that flagged something).

    ``recall`` is NaN for a rule with nothing planted, ``precision`` NaN for one that flagged
    nothing.
    """
    flagged = findings[["rule", "entry_id"]].astype(str).drop_duplicates()
    planted = (truth.rename(columns={"problem": "rule"})[["rule", "entry_id", "detail"]]
               .astype(str).drop_duplicates(["rule", "entry_id"]))
    rows = []
    for rule in sorted(set(flagged["rule"]) | set(planted["rule"])):
        mine = set(flagged.loc[flagged["rule"] == rule, "entry_id"])
        truth_rows = planted[planted["rule"] == rule]
        if rule == "DUPLICATE":
            n_planted, n_right, n_found = _pairs_scored(mine, truth_rows)
        else:
            wanted = set(truth_rows["entry_id"])
            n_planted, n_right, n_found = len(wanted), len(mine & wanted), len(mine & wanted)
        rows.append({"rule": rule, "planted": n_planted, "flagged": len(mine), "right": n_right,
                     "recall": n_found / n_planted if n_planted else float("nan"),
                     "precision": n_right / len(mine) if mine else float("nan")})
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _pairs_scored(flagged: set[str], truth_rows: pd.DataFrame) -> tuple[int, int, int]:
    """(pairs planted, flags inside a planted pair (one per pair), pairs found)."""
    originals = truth_rows["detail"].str.extract(_COPY_OF, expand=False)
    pair_of: dict[str, int] = {}
    for i, (copy, original) in enumerate(zip(truth_rows["entry_id"], originals, strict=True)):
        pair_of[copy] = i
        if isinstance(original, str):
            pair_of[original] = i
    found_pairs = {pair_of[e] for e in flagged if e in pair_of}
    return len(truth_rows), len(found_pairs), len(found_pairs)
