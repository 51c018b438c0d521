"""The narrative scans split across processes find exactly what one scan in-process finds.

billxl.scan hands a big corpus to worker processes (the ``billxl`` command allows it); here the
size threshold is lowered so that the labelled narrative sets (some 3,000 narratives in many
voices, with the odd non-ASCII character) go through the pool, and every pattern the rules scan
with is compared match by match, then the findings of the whole check.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from billxl import scan as _scan
from billxl.rules import check_entries, narratives
from billxl.rules.evaluation import labelled_entries

DATA = Path(__file__).parent / "data" / "narratives_eval"
PATTERNS = ["ADMIN", "TASK_START", "VAGUE_PART", "VAGUE_WHOLE", "INTERNAL"]


@pytest.fixture(scope="module", params=["unicode", "ascii"])
def texts(request) -> pd.Series:
    rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                      for p in sorted(DATA.glob("narratives*.csv"))], ignore_index=True)
    if request.param == "ascii":  # the shared copy is then one byte per character
        return pd.Series([t for t in rows["narrative"].tolist() if t.isascii()], dtype=object)
    # a non-ASCII text too (the shared copy is then UTF-32), and a blank one
    extra = ["Réunion avec l'avocat du client – revue du contrat", ""]
    return pd.Series([*rows["narrative"].tolist(), *extra], dtype=object)


@pytest.fixture
def in_processes(monkeypatch):
    monkeypatch.setattr(_scan, "MIN_CHARS", 0)
    monkeypatch.setattr(_scan, "PIECES_PER_WORKER", 60)  # many cuts between narratives
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "2")
    yield
    assert not _scan._state["broken"], "the pool broke: the scans fell back to this process"


@pytest.mark.parametrize("name", PATTERNS)
def test_each_pattern_finds_the_same_matches_in_processes(texts, in_processes, name,
                                                          monkeypatch):
    pattern = getattr(narratives, name)
    split = narratives.Corpus(texts)
    split_rows, split_found = split._matches(pattern)
    assert split._shared is not None  # it went through the pool
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "1")
    here = narratives.Corpus(texts)
    rows, found = here._matches(pattern)
    assert here._shared is None
    assert len(found) > 0
    assert split_rows.tolist() == rows.tolist()
    assert [(m.start(), m.end(), m.group(0), m.lastgroup) for m in split_found] == \
        [(m.start(), m.end(), m.group(0), m.lastgroup) for m in found]


def test_the_whole_check_finds_the_same_in_processes(texts, in_processes, monkeypatch):
    rows = pd.DataFrame({"id": [f"S{i}" for i in range(len(texts))], "narrative": texts,
                         "timekeeper_class": "ASSOC", "hours": "1.0", "task_code": "",
                         "activity_code": "", "labels": ""})
    entries = labelled_entries(rows)
    split = check_entries(entries).findings
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "1")
    narratives._CORPUS.clear()
    here = check_entries(entries).findings
    assert len(here) > 1000
    pd.testing.assert_frame_equal(split, here)


def test_off_unless_allowed_or_asked(monkeypatch):
    monkeypatch.delenv("BILLXL_SCAN_WORKERS", raising=False)
    monkeypatch.setitem(_scan._state, "default", 1)
    assert _scan.workers() == 1
    _scan.allow_parallel_scans()
    assert _scan.workers() >= 1
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "3")
    assert _scan.workers() == 3
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "none")
    assert _scan.workers() == 1


def test_the_pool_starts_on_request_and_scans_stay_here_without_it(monkeypatch):
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "1")
    assert _scan.start() is False  # one worker: no pool
    monkeypatch.setattr(_scan, "MIN_CHARS", 0)
    assert narratives.Corpus(pd.Series(["call w/ partner re fees"]))._found_in_parallel(
        narratives.INTERNAL) is None
    monkeypatch.setenv("BILLXL_SCAN_WORKERS", "2")
    assert _scan.start() is True
