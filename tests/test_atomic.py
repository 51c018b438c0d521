"""Output files: written whole or not at all, with the mode the user's umask gives (never
world-writable)."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from billxl.atomic import atomic_path, atomic_write_csv


@pytest.mark.parametrize(("mask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600),
                                            (0o000, 0o664), (0o027, 0o640)])
def test_an_output_file_has_the_mode_the_umask_gives_never_world_writable(tmp_path, mask, mode):
    before = os.umask(mask)
    try:
        path = atomic_write_csv(pd.DataFrame({"a": [1]}), tmp_path / "wip.csv")
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["wip.csv"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "aging.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the disk is full")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["aging.csv"]
