"""billxl installed as a package works as a checkout does (issue 14): the wheel and the sdist,
built from this tree, installed into a fresh virtual environment outside it, run ``billxl demo``
from an empty folder with no BILLXL_* variable set; the firm's own invoice template and pack
notebook are used by ``billxl invoice render`` (given by --templates, then named in the ledger's
settings) and ``billxl month-end`` there.

The fresh environment is made without pip and without this one's packages; one ``.pth`` file in
its site-packages adds, as a site folder, a folder of links to this environment's installed
packages less billxl itself, and its ``share/jupyter`` is linked to this one's (nbconvert's
templates and the kernel specs, where a pip install of them would put them). So billxl comes
only from the wheel (or the sdist), its dependencies are the ones the tests run with, and
nothing is downloaded. Building needs ``build`` and setuptools (the test extra).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pypdf
import pytest

import billxl

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("templates", "notebooks", "workbooks")
ENTRIES = "300"  # a small demo firm: the point is that every step runs installed
THANKS = "With thanks, from the firm template of Whitmore Ashby"  # no quote: Typst curls it
OWN_HEADING = "Headline figures, as the firm's own notebook shows them"


def _source_tree(target: Path) -> Path:
    """A copy of the files the repository holds (tracked, or new and not ignored): no build
    folder, egg-info or virtual environment of the checkout's goes into the build."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=ROOT, capture_output=True,
                                check=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            if (ROOT / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, target / name)
    else:  # an unpacked sdist
        shutil.copytree(ROOT, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
    return target


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BILLXL_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "COLUMNS": "200"}


def _run(args, *, cwd: Path, ok: int = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=_clean_env(), timeout=600)
    assert done.returncode == ok, f"exit {done.returncode}: {args}\n{done.stdout}\n{done.stderr}"
    return done


def _fresh_venv(where: Path) -> Path:
    """A virtual environment without pip or packages, seeing this one's packages (not billxl)."""
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(where)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path("
                                "'purelib'))"], capture_output=True, text=True,
                               check=True).stdout.strip())
    deps = where.parent / f"{where.name}-deps"
    deps.mkdir()
    for folder in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}:
        for entry in Path(folder).iterdir():
            if "billxl" not in entry.name.lower() and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (site / "_billxl_test_deps.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    jupyter = Path(sys.prefix) / "share" / "jupyter"
    if jupyter.is_dir():
        (where / "share").mkdir(exist_ok=True)
        (where / "share" / "jupyter").symlink_to(jupyter, target_is_directory=True)
    return python


def _script(python: Path) -> Path:
    return python.with_name("billxl.exe" if os.name == "nt" else "billxl")


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built from a copy of this tree without fetching anything."""
    root = tmp_path_factory.mktemp("dists")
    source = _source_tree(root / "source")
    _run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
          "--outdir", root / "dist", source], cwd=root)
    built = {p.suffix: p for p in (root / "dist").iterdir()}
    return {"wheel": built[".whl"], "sdist": built[".gz"], "source": source}


def _shipped_in_source(source: Path) -> list[str]:
    return sorted(p.relative_to(source).as_posix() for folder in SHIPPED
                  for p in (source / folder).rglob("*") if p.is_file())


def test_the_wheel_carries_the_templates_notebooks_workbook_and_addin(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"billxl-{billxl.__version__}.dist-info/METADATA").decode()
    shipped = sorted(n.removeprefix("billxl/_shipped/") for n in names
                     if n.startswith("billxl/_shipped/"))
    print(f"package data in {dists['wheel'].name} (billxl/_shipped/):")
    print("\n".join(f"  {name}" for name in shipped))
    assert shipped == _shipped_in_source(dists["source"])
    for needed in ("templates/documents.yaml", "templates/invoice.typ", "templates/billxl.typ",
                   "templates/packs/conf.json", "notebooks/monthly_pack.ipynb",
                   "workbooks/billxl-billing.xlsm", "workbooks/billxl.xlam",
                   "workbooks/vba/billxl_dispatch.bas"):
        assert needed in shipped
    info = f"billxl-{billxl.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    assert f"\nVersion: {billxl.__version__}\n" in metadata
    assert "License-Expression: BSD-3-Clause" in metadata
    assert "Provides-Extra: jupyter" in metadata and "Requires-Dist: jupyterlab" in metadata
    assert not any(line.startswith("Requires-Dist: jupyterlab") and "extra ==" not in line
                   for line in metadata.splitlines())


def test_the_sdist_holds_what_the_wheel_is_built_from(dists):
    top = f"billxl-{billxl.__version__}/"
    with tarfile.open(dists["sdist"]) as sdist:
        names = {n.removeprefix(top) for n in sdist.getnames()}
    for needed in ("setup.py", "pyproject.toml", "MANIFEST.in", "LICENSE", "CHANGELOG.md",
                   "README.md", "src/billxl/shipped.py", "tests/test_wheel_install.py"):
        assert needed in names
    assert set(_shipped_in_source(dists["source"])) <= names
    assert not any("__pycache__" in n for n in names)


def _installed(python: Path, where: Path) -> None:
    """billxl runs from the fresh environment, its files from its own package data."""
    shown = _run([python, "-c", "import billxl, billxl.shipped as s; print(billxl.__file__); "
                  "print(s.default_dir('templates')); print(s.checkout_dir('templates'))"],
                 cwd=where).stdout.split("\n")
    site = python.parent.parent
    assert Path(shown[0]).is_relative_to(site) and Path(shown[1]).is_relative_to(site)
    assert Path(shown[1]).parts[-2:] == ("_shipped", "templates") and shown[2] == "None"
    assert _run([_script(python), "--version"], cwd=where).stdout.strip() == (
        f"billxl {billxl.__version__}")


def _demo(python: Path, where: Path) -> Path:
    """``billxl demo`` in an empty folder: every step to the month-end packs."""
    where.mkdir()
    done = _run([_script(python), "demo", "--dir", "d", "--entries", ENTRIES], cwd=where)
    index = where / "d" / "month-end" / "2026-10" / "index.html"
    assert f"Month-end packs: open {index}" in done.stdout.replace("\n", "")
    manifest = json.loads((index.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["packs"] and all(p["status"] == "finished" for p in manifest["packs"])
    assert all(Path(p["notebook"]).is_relative_to(python.parent.parent)
               for p in manifest["packs"])
    assert list((where / "d" / "invoices").glob("*.pdf"))
    return where / "d" / "billxl.db"


def test_the_wheel_installed_elsewhere_runs_the_demo_and_the_firms_own_files(dists, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", dists["wheel"]],
         cwd=tmp_path)
    _installed(python, tmp_path)
    ledger = _demo(python, tmp_path / "empty")
    billxl_ = [_script(python), "--ledger", ledger]

    # the firm's templates: a copy, its invoice.typ edited, an invoice rendered with it
    _run([_script(python), "templates", "copy", "firm"], cwd=tmp_path)
    typ = tmp_path / "firm" / "invoice.typ"
    typ.write_text(typ.read_text(encoding="utf-8").replace(
        "#par(ctx.texts.services)\n", f"#par(ctx.texts.services)\n#par[{THANKS}.]\n"),
        encoding="utf-8")
    number = _run([*billxl_, "invoice", "list", "--format", "csv"], cwd=tmp_path
                  ).stdout.splitlines()[1].split(",")[0].strip('"')
    _run([*billxl_, "invoice", "render", number, "--format", "pdf", "--out", "own",
          "--templates", "firm"], cwd=tmp_path)
    (pdf,) = (tmp_path / "own").glob("*.pdf")
    assert THANKS in pypdf.PdfReader(pdf).pages[0].extract_text()
    # the same folder named once in the ledger's settings: no option needed any more
    _run([*billxl_, "firm", "edit", "--templates-dir", "firm"], cwd=tmp_path)
    _run([*billxl_, "invoice", "render", number, "--format", "pdf", "--out", "set"],
         cwd=tmp_path)
    (pdf,) = (tmp_path / "set").glob("*.pdf")
    assert THANKS in pypdf.PdfReader(pdf).pages[0].extract_text()

    # the firm's notebooks: only monthly_pack of its own, the others billxl's
    _run([_script(python), "notebooks", "copy", "nb"], cwd=tmp_path)
    for other in ("collections.ipynb", "reconciliation_review.ipynb"):
        (tmp_path / "nb" / other).unlink()
    own = tmp_path / "nb" / "monthly_pack.ipynb"
    own.write_text(own.read_text(encoding="utf-8").replace("## Headline figures",
                                                           f"## {OWN_HEADING}"), encoding="utf-8")
    # --force: the small demo month may hold findings still open (the demo forces it then too)
    _run([*billxl_, "month-end", "--month", "2026-10", "--out", "me", "--notebooks", "nb",
          "--force"], cwd=tmp_path)
    manifest = json.loads((tmp_path / "me" / "2026-10" / "manifest.json").read_text("utf-8"))
    used = {Path(p["notebook"]).name: Path(p["notebook"]).parent for p in manifest["packs"]}
    assert used["monthly_pack.ipynb"] == tmp_path / "nb"
    assert used["collections.ipynb"].parts[-2:] == ("_shipped", "notebooks")
    assert OWN_HEADING in (tmp_path / "me" / "2026-10" / "firm-monthly_pack" /
                           "monthly_pack.html").read_text(encoding="utf-8")


def test_the_sdist_installed_elsewhere_runs_the_demo(dists, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
          dists["sdist"]], cwd=tmp_path)
    _installed(python, tmp_path)
    _demo(python, tmp_path / "empty")
