"""Open a workbook in a real spreadsheet program (LibreOffice headless), recalculate, read back.

LibreOffice is the Debian package ``libreoffice-calc-nogui`` (``.ci/run`` installs it). Without
it these checks skip locally and fail under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

# Always recalculate formulas when loading OOXML files (default would trust cached values).
_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice_or_skip() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        if IN_CI:
            pytest.fail("CI=true but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice is not installed (apt install libreoffice-calc-nogui)")
    return exe


def convert(path: Path, fmt: str, outdir: Path, *, attempts: int = 3) -> Path:
    """Convert with LibreOffice (recalculating on load); returns the converted file.

    LibreOffice's first start in a new profile sometimes exits without converting (or times
    out while it sets the profile up): each attempt that leaves no file is tried again, up to
    ``attempts`` times, and the last one's output is shown if all fail.
    """
    exe = soffice_or_skip()
    out = outdir / f"{path.stem}.{fmt.split(':')[0]}"
    out.unlink(missing_ok=True)  # never mistake an earlier conversion for this one
    tried: list[str] = []
    for attempt in range(1, attempts + 1):
        profile = outdir / f"lo-profile-{attempt}"
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE)
        try:
            done = subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless",
                                   "--convert-to", fmt, "--outdir", str(outdir), str(path)],
                                  capture_output=True, text=True, timeout=180)
            tried.append(f"attempt {attempt}: exit {done.returncode}: {done.stderr.strip()}")
        except subprocess.TimeoutExpired:
            tried.append(f"attempt {attempt}: no answer in 180 s")
        if out.exists():
            return out
    raise AssertionError(f"LibreOffice did not convert {path.name} to {fmt}:\n"
                         + "\n".join(tried))


def recalculated(path: Path, outdir: Path) -> openpyxl.Workbook:
    """The workbook as LibreOffice computes it: formulas replaced by their values."""
    outdir.mkdir(parents=True, exist_ok=True)
    return openpyxl.load_workbook(convert(path, "xlsx", outdir), data_only=True)
