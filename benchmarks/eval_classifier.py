"""Would a trained text classifier judge narratives better than billxl's patterns? Figures of both.

    .venv/bin/pip install -e '.[bench]'        # scikit-learn, for this script only
    .venv/bin/python benchmarks/eval_classifier.py

Issue 10 asks for narrative rules that hold on real narratives, and for a library that does it
better than patterns to be used if there is one, with the figures of both. spaCy's English
models are not on the package index (only unofficial re-uploads), so a model that "installs with
the library" means one trained here, from the labelled sets in ``tests/data/narratives_eval``:
scikit-learn's TF-IDF over words (1 and 2 grams) and characters (2 to 5, inside words), the
timekeeper's class and the UTBMS activity code, and a class-balanced logistic regression per
rule (C = 10, not tuned).

Trained on **development data only**: every development part of the labelled sets
(:data:`billxl.rules.evaluation.LABELLED_SETS`: the development half of ``narratives.csv``, the
development batches 2 to 4, and the development halves of the later sets). Scored on each
held-out half (:data:`~billxl.rules.evaluation.HELD_OUT_HALVES`), which no rule and no model was
fitted to: ``held-out`` (``narratives.csv``, the first author's voice, which the development
batches share) and ``held-out-2`` to ``held-out-5``, each from a set written blind by another
author (the patterns scored far lower on each when it was measured once whole).
``eval_embeddings.py`` does the same with a pretrained sentence model.

For each of VAGUE, ADMIN_TASK, BLOCK_BILLING and INTERNAL_CONFERENCE it prints precision and
recall of the patterns (billxl's rules, as ``check_entries`` runs them), of the classifier, and
of either (flagged when the patterns or the classifier flag: the classifier adding recall to
the patterns), beside 5-fold cross-validation of the classifier on the training rows; and the
time each takes per 10,000 narratives. The goal is issue 10's: precision >= 0.95 and recall >=
0.90 on each held-out half.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
except ImportError:
    sys.exit("scikit-learn is not installed: .venv/bin/pip install -e '.[bench]'")

from billxl.rules import check_entries
from billxl.rules.evaluation import (
    HELD_OUT_HALVES,
    MAIN_NARRATIVE_RULES,
    NARRATIVE_PRECISION_GOAL,
    NARRATIVE_RECALL_GOAL,
    labelled_entries,
    labelled_parts,
    score_labelled,
)

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "narratives_eval"


def sets() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The training rows (every development part) and the held-out halves."""
    parts = labelled_parts(DATA)
    train = pd.concat([rows for name, rows in parts.items() if name not in HELD_OUT_HALVES],
                      ignore_index=True)
    return train, {name: rows for name, rows in parts.items() if name in HELD_OUT_HALVES}


def labels(rows: pd.DataFrame, rule: str) -> np.ndarray:
    return rows["labels"].str.split(";").map(lambda found: rule in found).to_numpy(dtype=bool)


def patterns(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """What billxl's rules flag on each row, per rule."""
    findings = check_entries(labelled_entries(rows)).findings
    return {rule: rows["id"].isin(set(findings.loc[findings["rule"] == rule, "entry_id"]
                                      .astype(str))).to_numpy() for rule in MAIN_NARRATIVE_RULES}


class Features:
    """Words, characters, timekeeper class and activity code, fitted on the training rows."""

    def __init__(self, train: pd.DataFrame):
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                     sublinear_tf=True)
        self.words.fit(train["narrative"])
        self.chars.fit(train["narrative"])
        self.meta_columns = self._meta(train).columns

    @staticmethod
    def _meta(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.get_dummies(rows[["timekeeper_class", "activity_code"]].replace("", "none"))

    def __call__(self, rows: pd.DataFrame):
        meta = self._meta(rows).reindex(columns=self.meta_columns, fill_value=0).astype(float)
        return sp.hstack([self.words.transform(rows["narrative"]),
                          self.chars.transform(rows["narrative"]),
                          sp.csr_matrix(meta.to_numpy())]).tocsr()


def model(c: float = 10.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")


def scores(rows: pd.DataFrame, rule: str, flagged: np.ndarray) -> tuple[float, float]:
    """Precision and recall of ``rule`` flagged on ``rows`` (as eval_rules scores the patterns)."""
    found = pd.DataFrame({"entry_id": rows["id"][flagged].astype(str), "rule": rule})
    table = score_labelled(found, rows).set_index("rule")
    return table.loc[rule, "precision"], table.loc[rule, "recall"]


def main() -> int:
    train, held = sets()
    features = Features(train)
    x_train = features(train)
    print(f"trained on {len(train):,} development rows; "
          + ", ".join(f"{name} {len(rows)} rows" for name, rows in held.items()))
    timing = pd.concat([train, *held.values()], ignore_index=True)
    started = time.perf_counter()
    found = {name: patterns(rows) for name, rows in held.items()}
    patterns(timing)
    pattern_s = time.perf_counter() - started
    started = time.perf_counter()
    x_held = {name: features(rows) for name, rows in held.items()}
    classifier_s = time.perf_counter() - started  # the features once, then each rule's model
    rows_out = []
    for rule in MAIN_NARRATIVE_RULES:
        y = labels(train, rule)
        fitted = model().fit(x_train, y)
        cv = cross_val_predict(model(), x_train, y, cv=5).astype(bool)
        rows_out.append((rule, "classifier", "cross-validated", *scores(train, rule, cv)))
        for name, rows in held.items():
            started = time.perf_counter()
            guess = fitted.predict(x_held[name]).astype(bool)
            classifier_s += time.perf_counter() - started
            for method, flagged in (("patterns", found[name][rule]), ("classifier", guess),
                                    ("either", found[name][rule] | guess)):
                rows_out.append((rule, method, name, *scores(rows, rule, flagged)))
    table = pd.DataFrame(rows_out, columns=["rule", "method", "set", "precision", "recall"])
    table["goal"] = np.where((table["set"] != "cross-validated")
                             & (table["precision"] >= NARRATIVE_PRECISION_GOAL)
                             & (table["recall"] >= NARRATIVE_RECALL_GOAL), "met", "")
    wide = table.assign(score=table["precision"].map("{:.3f}".format) + " / "
                        + table["recall"].map("{:.3f}".format) + table["goal"].map(
                            lambda g: " met" if g else ""))
    print("\nprecision / recall (goal: precision >= "
          f"{NARRATIVE_PRECISION_GOAL}, recall >= {NARRATIVE_RECALL_GOAL} on each held-out half)")
    print(wide.pivot_table(index=["rule", "method"], columns="set", values="score",
                           aggfunc="first", sort=False).fillna("").to_string())
    n_held = sum(len(rows) for rows in held.values())
    print(f"\ntime per 10,000 narratives: patterns (every time rule) "
          f"{10_000 * pattern_s / (len(timing) + n_held):.2f} s, classifier (the features once "
          f"and the four rules' models) {10_000 * classifier_s / n_held:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
