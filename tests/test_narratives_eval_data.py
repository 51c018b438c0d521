"""Integrity of the independent narrative evaluation set, its second, third and fourth
development batches and the second to fifth held-out sets
(tests/data/narratives_eval/).

The sets are labelled by hand, apart from billxl's rules, to measure them on phrasing they were not
tuned on. These tests check only that the files are well formed and large enough to measure with;
they say nothing about how the rules score on them. The second to fifth held-out sets
(narratives_heldout2.csv to narratives_heldout5.csv) are held-out data:
each must repeat no narrative of the files before it.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "narratives_eval"
#: each file: its id pattern and the least it must hold (rows, rows per main rule, clean rows)
SETS = {"narratives.csv": (r"N\d{4}", 600, 80, 250),
        "narratives_dev2.csv": (r"D\d{4}", 400, 60, 200),
        "narratives_dev3.csv": (r"E\d{4}", 400, 45, 150),
        "narratives_dev4.csv": (r"F\d{4}", 400, 45, 150),
        "narratives_heldout2.csv": (r"H\d{4}", 400, 55, 150),
        "narratives_heldout3.csv": (r"J\d{4}", 600, 80, 250),
        "narratives_heldout4.csv": (r"K\d{4}", 600, 80, 250),
        "narratives_heldout5.csv": (r"L\d{4}", 600, 80, 250)}
COLUMNS = ["id", "practice_area", "timekeeper_class", "hours", "task_code", "activity_code",
           "narrative", "labels", "why"]
MAIN_RULES = ("VAGUE", "ADMIN_TASK", "BLOCK_BILLING", "INTERNAL_CONFERENCE")
RULES = {*MAIN_RULES, "TRAVEL", "TRAINING", "OVERHEAD_RESEARCH"}
AREAS = {"litigation", "transactions", "real_estate", "employment", "ip", "insolvency", "tax",
         "regulatory"}
TIMEKEEPER_CLASSES = {"PARTNR", "ASSOC", "OFCOUN", "PARLGL", "LGLAST", "OTHER"}
TASK_CODE = re.compile(r"[LB]\d{3}")
ACTIVITY_CODE = re.compile(r"A1(0[1-9]|1[01])")


def _labels(row: dict[str, str]) -> list[str]:
    return [label for label in row["labels"].split(";") if label]


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module", params=sorted(SETS))
def name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def header_and_rows(name) -> tuple[list[str], list[dict[str, str]]]:
    return _read(name)


@pytest.fixture(scope="module")
def rows(header_and_rows) -> list[dict[str, str]]:
    return header_and_rows[1]


def _wrong(rows, bad) -> list[str]:
    return [f"{row['id']}: {row['narrative']!r}" for row in rows if bad(row)]


def test_columns(header_and_rows):
    assert header_and_rows[0] == COLUMNS


def test_ids_are_unique_and_numbered(rows, name):
    ids = [row["id"] for row in rows]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not re.fullmatch(SETS[name][0], i)] == []


def test_labels_are_known_rule_ids_without_repeats(rows):
    assert _wrong(rows, lambda r: not set(_labels(r)) <= RULES) == []
    assert _wrong(rows, lambda r: len(set(_labels(r))) != len(_labels(r))) == []


def test_codes_and_classes_are_from_their_lists(rows):
    assert _wrong(rows, lambda r: r["practice_area"] not in AREAS) == []
    assert _wrong(rows, lambda r: r["timekeeper_class"] not in TIMEKEEPER_CLASSES) == []
    assert _wrong(rows, lambda r: r["task_code"] and not TASK_CODE.fullmatch(r["task_code"])) == []
    assert _wrong(rows, lambda r: r["activity_code"]
                  and not ACTIVITY_CODE.fullmatch(r["activity_code"])) == []


def _hours(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def test_hours_are_positive_decimals(rows):
    assert _wrong(rows, lambda r: (h := _hours(r["hours"])) is None or not h.is_finite() or h <= 0) == []


def test_enough_rows_positives_and_clean_entries(rows, name):
    _, least_rows, least_positives, least_clean = SETS[name]
    assert len(rows) >= least_rows
    counts = Counter(label for row in rows for label in _labels(row))
    assert {rule: counts[rule] for rule in MAIN_RULES if counts[rule] < least_positives} == {}
    assert sum(1 for row in rows if not _labels(row)) >= least_clean


def _normal(row: dict[str, str]) -> str:
    return " ".join(row["narrative"].lower().split())


def test_no_duplicate_or_empty_narratives(rows):
    normal = Counter(map(_normal, rows))
    assert [text for text, n in normal.items() if n > 1] == []
    assert "" not in normal


def test_every_label_has_its_reason(rows):
    """A labelled row's ``why`` gives a reason per label, written ``LABEL: reason``."""
    assert _wrong(rows, lambda r: any(f"{label}:" not in r["why"] for label in _labels(r))) == []


#: each set after the first, with the sets written before it (SETS lists them in that order)
LATER_SETS = [(name, tuple(SETS)[:i]) for i, name in enumerate(SETS) if i]


@pytest.mark.parametrize(("batch", "earlier"), LATER_SETS, ids=[name for name, _ in LATER_SETS])
def test_a_development_batch_repeats_no_narrative_of_the_earlier_sets(batch, earlier):
    """A development batch is development data through and through: a row of narratives.csv
    repeated in it could be one of the held-out half's (and a later batch adds new texts only).
    The later held-out sets repeat none either, so that their figures are on new text alone."""
    seen = {_normal(row) for name in earlier for row in _read(name)[1]}
    assert [row["id"] for row in _read(batch)[1] if _normal(row) in seen] == []
