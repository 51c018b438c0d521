"""The narrative patterns written for speed find exactly what their plain forms find.

Each fast form (a quick look-ahead before costly look-behinds, one branch per first letter,
twin patterns tried as one) must give the same matches -- same spans, same named group -- as
the plain regex it replaces, over the demo firm's narratives and the labelled set, joined as
the rules read them (:class:`narratives.Corpus`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from billxl.rules import narratives as n

EVAL_SET = Path(__file__).parent / "data" / "narratives_eval" / "narratives.csv"


@pytest.fixture(scope="module")
def text() -> str:
    from billxl.demo import build_firm

    demo = build_firm(seed=7, entries=20000).time_export["narrative"]
    labelled = pd.read_csv(EVAL_SET, dtype=str, keep_default_na=False)["narrative"]
    extra = ["Scan documents; file same", "Call with RMK re indemnity cap", "and then file motion",
             "Draft, revise and finalize brief; serve same", "Debrief partner w/ JS", "Review docs."]
    return n.Corpus(pd.Series([*demo.unique(), *labelled, *extra])).text


def _matches(pattern, text):
    return [(m.span(), m.lastgroup) for m in pattern.finditer(text)]


PLAIN = {
    "ADMIN": lambda: " (?:(?:" + n.CLERICAL_CLAUSE_START + "|" + n.AND + r"(?:then[^\w\x02]+)?)(?:"
    + n._tree(n.ADMIN_VERBS) + ")|" + n._tree(n.ADMIN_PATTERNS) + r")\b",
    "INTERNAL": lambda: n.phrase_regex([*n.INTERNAL_PATTERNS, *n.CHECKED_PARTY_PATTERNS]).pattern,
    "TASK_START": lambda: n.TASK_START.pattern.replace(f"(?={n._TASK_VERB})", "", 1),
    "VAGUE_PART": lambda: n.VAGUE_PART.pattern.replace(n._CLAUSE_HEAD, "", 1),
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_the_fast_form_finds_what_the_plain_form_finds(name, text):
    import re

    fast, plain = getattr(n, name), re.compile(PLAIN[name]())
    assert fast.pattern != plain.pattern
    found = _matches(fast, text)
    assert len(found) > 50
    assert found == _matches(plain, text)
