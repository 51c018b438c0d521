"""DUPLICATE: the same work recorded twice, exactly or nearly.

Two time entries are duplicates when the same timekeeper recorded them on the same matter and
day and their narratives read alike (rapidfuzz ratio on the normalised text at or above the
guideline's ``duplicate_similarity``, default 90). Two expenses are duplicates when they are on
the same matter and day with the same code and amount and read alike.

To stay near-linear the entries are *blocked*: sorted by (timekeeper, matter, day) so each block
is a run of rows, and only pairs inside a block are compared -- all of them at once, in one
batch call (``rapidfuzz.process.cpdist`` over the pair lists, on every core). A block is a
handful of rows, so the pairs number a small multiple of the entries.

The earlier entry (by entry date where known, then by position in the input) is taken as the
original; each later copy is flagged once, naming the original's entry id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

from billxl.rules.engine import Batch, found, group_codes, rule

#: Pairs are compared only within this many places of each other in a block, so one huge
#: block (a timekeeper with hundreds of entries on one matter and day) cannot go quadratic.
MAX_GAP = 64


@rule("DUPLICATE", severity="warning", kinds=("time", "expense"),
      description="The same work recorded twice: same timekeeper, matter and day with a very "
                  "similar narrative (expenses: same matter, day, code and amount).")
def duplicate(b: Batch):
    f = b.frame
    if b.kind == "time":
        block = group_codes(f["timekeeper_id"], f["matter_id"], b.day)
    else:
        block = group_codes(f["matter_id"], b.day, f["expense_code"], f["amount_minor"])
    known = f["work_date"].notna().to_numpy()
    first, later, crowded = _pairs(block, _earliness(f), known)
    if crowded:
        b.note(f"{crowded} very large group(s) of entries (same timekeeper, matter and day): each "
               f"entry there was compared with the {MAX_GAP} recorded nearest to it, not all")
    if len(first) == 0:
        return None
    codes = b.per_row(np.arange(len(b.distinct_text)))  # same code, same narrative
    score = _similarity(codes[first], codes[later], b.distinct_text.to_numpy(dtype=object))
    threshold = b.setting("duplicate_similarity").astype(float)[later]
    alike = score >= threshold
    if b.kind == "time":
        hours = b.hours
        same_hours = hours[first] == hours[later]
    else:
        same_hours = np.ones(len(first), dtype=bool)
    pairs = pd.DataFrame({"first": first[alike], "later": later[alike], "score": score[alike],
                          "same_hours": same_hours[alike]})
    if pairs.empty:
        return None
    # one finding per copy, naming the earliest entry it repeats
    pairs = pairs.sort_values(["later", "first"]).drop_duplicates("later")
    later_pos = pairs["later"].to_numpy()
    original = f["entry_id"].to_numpy(dtype=object)[pairs["first"].to_numpy()]
    exact = pairs["score"].to_numpy() >= 100
    index = pd.Index(later_pos)
    original = pd.Series(original, index=index).astype(str)
    if b.kind == "time":
        alike_words = pd.Series(np.where(
            exact, np.where(pairs["same_hours"], "the same narrative and hours",
                            "the same narrative"),
            pairs["score"].round().astype(int).astype(str).to_numpy() + "% alike narrative"),
            index=index)
        message = ("Looks like a copy of entry " + original + ": same timekeeper, matter and "
                   "day, " + alike_words)
    else:
        message = ("Looks like a copy of expense " + original + ": same matter, day, code and "
                   "amount")
    suggestion = ("Delete this entry if it repeats " + original
                  + ", or make the narrative say what was different")
    return found(later_pos, message, field="", suggestion=suggestion)


def _earliness(f: pd.DataFrame) -> np.ndarray:
    """A sort key: earlier entry date first (unknown dates last), then input position."""
    entered = f["entered_on"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    entered = np.where(f["entered_on"].isna().to_numpy(), np.iinfo(np.int64).max, entered)
    rank = np.lexsort((np.arange(len(f)), entered))
    earliness = np.empty(len(f), dtype=np.int64)
    earliness[rank] = np.arange(len(f))
    return earliness


def _pairs(block: np.ndarray, earliness: np.ndarray,
           known: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Every (earlier, later) pair of rows within a block, as two position arrays (up to
    :data:`MAX_GAP` apart in a block's order), and how many blocks were too big for all pairs."""
    rows = np.flatnonzero(known)
    order = rows[np.lexsort((earliness[rows], block[rows]))]
    sorted_block = block[order]
    n = len(order)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0
    starts = np.r_[True, sorted_block[1:] != sorted_block[:-1]]
    block_no = np.cumsum(starts) - 1
    ends = np.r_[np.flatnonzero(starts)[1:], n]  # one past the last row of each block
    room = ends[block_no] - np.arange(n) - 1  # rows after this one in its block
    crowded = int(np.count_nonzero(np.diff(np.r_[np.flatnonzero(starts), n]) > MAX_GAP + 1))
    firsts, laters = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    candidates = np.flatnonzero(room > 0)
    gap = 1
    while len(candidates) and gap <= MAX_GAP:
        firsts.append(order[candidates])
        laters.append(order[candidates + gap])
        gap += 1
        candidates = candidates[room[candidates] >= gap]
    return np.concatenate(firsts), np.concatenate(laters), crowded


def _similarity(a: np.ndarray, b: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Narrative likeness (0-100) of each pair of distinct-narrative codes: rapidfuzz ratio
    after lower-casing and turning punctuation into blanks; the same narrative scores 100."""
    score = np.zeros(len(a), dtype=np.float64)
    same = a == b
    score[same] = 100.0
    rest = np.flatnonzero(~same)
    if len(rest):
        score[rest] = process.cpdist(list(texts[a[rest]]), list(texts[b[rest]]),
                                     scorer=fuzz.ratio, processor=utils.default_process,
                                     dtype=np.float64, workers=-1)
    return score
