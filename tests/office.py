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


def convert(path: Path, fmt: str, outdir: Path) -> Path:
    """Convert with LibreOffice (recalculating on load); returns the converted file."""
    exe = soffice_or_skip()
    profile = outdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE)
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", fmt, "--outdir", str(outdir), str(path)],
                   check=True, capture_output=True, timeout=180)
    out = outdir / f"{path.stem}.{fmt.split(':')[0]}"
    assert out.exists(), f"LibreOffice did not convert {path.name} to {fmt}"
    return out


def recalculated(path: Path, outdir: Path) -> openpyxl.Workbook:
    """The workbook as LibreOffice computes it: formulas replaced by their values."""
    outdir.mkdir(parents=True, exist_ok=True)
    return openpyxl.load_workbook(convert(path, "xlsx", outdir), data_only=True)
