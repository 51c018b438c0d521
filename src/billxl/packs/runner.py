"""One pack: a notebook run with its parameters, and its outputs, all or nothing.

:func:`run_pack` checks the parameters (:mod:`billxl.packs.params`), runs the notebook with
papermill in this process's warm kernel (:mod:`billxl.packs.kernels`), and makes the HTML
report without code and its PDF (:mod:`billxl.packs.report`). The notebook itself writes its
XLSX pack and JSON sidecar into its working folder (``output_dir="."``).

Everything is written in a hidden staging folder beside the pack's folder; when the run is over
the staging folder *becomes* the pack's folder (the old one, if any, is set aside first and
removed after). A run killed half way leaves only a hidden ``.NAME.partial-*`` folder, never a
pack folder with half of its files, and the next run clears it.

A cell that fails keeps the executed notebook (with papermill's error banner and the
traceback) in the pack's folder and nothing else of it: a workbook or PDF from a failed run
would look finished. The error (name, value, cell) is in the result.

Output files get the permissions the umask gives (read for the group where it says so) but
never write for others, whatever the umask; the kernel's connection files stay private.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from billxl.packs import kernels
from billxl.packs.params import check_parameters, notebook_parameters

EXECUTION_TIMEOUT = 900  # seconds per cell: a pack's biggest table on a big ledger


@dataclass
class PackResult:
    """What one run of one pack did."""

    notebook: str
    parameters: dict[str, Any]
    status: str  # finished or failed
    duration: float  # seconds, the whole run: parameters, notebook, HTML and PDF
    notebook_seconds: float | None = None  # the notebook's own run (metadata.papermill)
    report_seconds: float | None = None  # the HTML and the PDF
    outputs: list[str] = field(default_factory=list)  # file names in the pack's folder
    error: dict[str, Any] | None = None  # ename, evalue, cell (index), exec_count
    worker: str = ""  # host:pid that ran it
    kernel_notebooks: int = 0  # notebooks its kernel had run, this one included

    @property
    def ok(self) -> bool:
        return self.status == "finished"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)  # no reader of the umask elsewhere: set it back at once
    os.umask(current)
    return current


def settle_modes(path: Path) -> None:
    """Files ``0666 & ~umask``, folders ``0777 & ~umask``, never writable by others."""
    mask = _umask() | 0o002
    file_mode, dir_mode = 0o666 & ~mask, 0o777 & ~mask
    if path.is_file():
        os.chmod(path, file_mode)
        return
    os.chmod(path, dir_mode)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), dir_mode)
        for name in files:
            os.chmod(os.path.join(root, name), file_mode)


def clear_partials(folder: Path) -> None:
    """Remove what runs killed half way left in ``folder`` (hidden staging folders)."""
    if not folder.is_dir():
        return
    for stale in folder.glob(".*.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in folder.glob(".*.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _replace_folder(staging: Path, target: Path) -> None:
    """``staging`` becomes ``target``: the old ``target`` is renamed away first, then removed."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _error_of(error: BaseException) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        first = (error.source or "").strip().splitlines()
        return {"ename": error.ename, "evalue": error.evalue, "cell": error.cell_index,
                "exec_count": error.exec_count, "source": first[0][:200] if first else ""}
    return {"ename": type(error).__name__, "evalue": str(error), "cell": None,
            "exec_count": None, "source": ""}


def _fix_output_path(executed: Path, final: Path) -> float | None:
    """Say the executed notebook's final place in its metadata; return its run's seconds."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("papermill", {})
    meta["output_path"] = str(final)
    nbformat.write(nb, executed)
    duration = meta.get("duration")
    return float(duration) if duration is not None else None


def run_pack(notebook: str | os.PathLike, parameters: Mapping[str, Any],
             out_dir: str | os.PathLike, *, title: str | None = None,
             env: Mapping[str, str] | None = None, kernel_name: str | None = None,
             execution_timeout: float | None = EXECUTION_TIMEOUT,
             start_timeout: float = kernels.START_TIMEOUT, report: bool = True) -> PackResult:
    """Run ``notebook`` with ``parameters`` into the folder ``out_dir`` (replaced when done).

    ``env`` is set in the kernel before the notebook runs (the batch names the ledger there,
    so that no password is written into a notebook). ``report=False`` skips the HTML and PDF.
    Parameters that do not fit the notebook raise :class:`~billxl.InputError` before anything
    runs; every other failure is in the result (``status="failed"``, ``error``).
    """
    import papermill
    import papermill.exceptions

    started = time.perf_counter()
    notebook = Path(notebook).resolve()
    target = Path(out_dir).resolve()
    given = dict(parameters)
    specs = notebook_parameters(notebook)
    if "output_dir" in specs and "output_dir" not in given:
        given["output_dir"] = "."  # the kernel works in the staging folder
    check_parameters(notebook, given)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    executed = staging / f"{notebook.stem}.ipynb"
    result = PackResult(notebook=str(notebook), parameters=given, status="failed", duration=0.0,
                        worker=f"{socket.gethostname()}:{os.getpid()}")
    try:
        try:
            papermill.execute_notebook(
                str(notebook), str(executed), parameters=given, engine_name=kernels.ENGINE_NAME,
                kernel_name=kernel_name, progress_bar=False, log_output=False,
                start_timeout=start_timeout, execution_timeout=execution_timeout,
                kernel_cwd=str(staging), kernel_env=dict(env or {}))
            if report:
                from billxl.packs import report as pack_report

                rendering = time.perf_counter()
                html = pack_report.notebook_html(executed, staging / f"{notebook.stem}.html",
                                                 title=title)
                pack_report.html_pdf(html, staging / f"{notebook.stem}.pdf")
                result.report_seconds = time.perf_counter() - rendering
            result.status = "finished"
        except Exception as error:  # the pack failed; the batch goes on with the others
            result.error = _error_of(error)
            for path in staging.iterdir():  # keep only the executed notebook, with its error
                if path != executed:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        if executed.exists():
            result.notebook_seconds = _fix_output_path(executed, target / executed.name)
        result.outputs = sorted(p.name for p in staging.iterdir())
        settle_modes(staging)
        _replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    kernel = kernels.kernels_kept()
    result.kernel_notebooks = max((k.notebooks for k in kernel), default=0)
    result.duration = time.perf_counter() - started
    return result


__all__ = ["PackResult", "clear_partials", "run_pack", "settle_modes"]
