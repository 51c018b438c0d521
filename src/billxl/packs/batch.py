"""The month-end batch: every pack of a month, in parallel, resumable, with a manifest.

:func:`run_month_end`

1. checks the close (:func:`close_problems`): no open error findings from the reconciliation,
   every pre-bill of the month finalized, no receipt of the month left in suspense. Anything
   not closed refuses the batch (:class:`CloseRefused`, listing it all) unless ``force=True``,
   which the manifest records with what was not closed;
2. plans the packs (:func:`plan_month_end`): for each scope of ``by`` (billing partners with
   something to show that month, or clients, or offices) its monthly pack and collections pack,
   and for the whole firm the monthly pack, the reconciliation review and the collections pack;
3. hashes each pack's inputs: the notebook's bytes, its parameters, billxl's version and the
   digest of the pack's figures, built here in the parent (``billxl.packs.pack_digest``; for a
   notebook that is not one of billxl's, the ledger's change stamp). A pack whose hash equals
   the manifest's finished entry is skipped, so a batch killed half way (even by SIGKILL) runs
   again from where it was;
4. runs the rest in a pool of ``workers`` processes, each keeping one warm kernel
   (:mod:`billxl.packs.kernels`), or on a Dask cluster (``scheduler=ADDRESS``); a failed pack is
   retried once and never stops the others;
5. after each pack writes ``manifest.json`` (atomically) and ``index.html`` (every pack with its
   status, its links and its error), and reports ``progress``.

The folder of a run is ``<out_dir>/<month>/``: the manifest, the index and a folder per pack.
One batch at a time works in it (a lock file; a killed batch's lock goes with its process).
The ledger reaches the kernels through their environment (``BILLXL_LEDGER``), never as a
parameter, so no password is written into a notebook or the manifest; so does the firm's
templates folder (``BILLXL_TEMPLATES``, else the ledger's ``templates_dir``), whose
``packs/`` styles the reports. The notebooks are the firm's where ``--notebooks``,
``$BILLXL_NOTEBOOKS`` or the ledger's ``notebooks_dir`` names a folder, file by file.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock

from billxl import shipped
from billxl.errors import BillxlError, InputError
from billxl.packs.params import check_parameters
from billxl.packs.runner import PackResult, clear_partials, settle_modes

BY = ("partner", "client", "office")
#: The notebooks of a month end, by name, and the pack function each one shows.
NOTEBOOKS = {"monthly_pack": "monthly_pack", "reconciliation_review": "reconciliation_pack",
             "collections": "collections_pack"}
SCOPE_NOTEBOOKS = ("monthly_pack", "collections")
FIRM_NOTEBOOKS = ("monthly_pack", "reconciliation_review", "collections")
ATTEMPTS = 2  # a failed pack is tried once more
MANIFEST, INDEX = "manifest.json", "index.html"


class CloseRefused(BillxlError):
    """The month is not closed; ``problems`` says what is open (``force=True`` runs anyway)."""

    def __init__(self, month: str, problems: list[str]):
        self.month = month
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"The month {month} is not closed, so its packs were not run:\n{listed}\n"
                         "Close these first, or run with --force (the manifest records it).")


@dataclass
class PlannedPack:
    """One pack to run: its notebook, the parameters it gets, and where it goes."""

    key: str  # its folder's name in the month's folder; unique in the run
    name: str  # which pack: monthly_pack, reconciliation_review or collections
    notebook: Path
    parameters: dict[str, Any]
    scope: str
    scope_id: str
    scope_name: str

    @property
    def title(self) -> str:
        what = self.name.replace("_", " ").capitalize()
        who = self.scope_name if self.scope == "firm" else f"{self.scope_name} ({self.scope_id})"
        return f"{what} — {who} — {self.parameters.get('month', '')}"


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch is: packs done (finished or skipped), failed, still to run, and time."""

    done: int
    failed: int
    remaining: int
    skipped: int
    elapsed: float  # seconds since the packs started
    eta: float | None  # seconds still to go, from the pace so far (None before the first)
    last: str = ""  # the pack that just ended

    @property
    def total(self) -> int:
        return self.done + self.failed + self.remaining


Progress = Callable[[BatchProgress], None]


# --------------------------------------------------------------------------- close checks
def _some(values, n: int = 5) -> str:
    """The first ``n`` of ``values`` (a Series), and an ellipsis when there are more."""
    shown = ", ".join(values.astype(str).head(n))
    return shown + (" …" if len(values) > n else "")


def _counted(values) -> str:
    """``A (3), B (1)``: how often each value stands in ``values`` (a Series)."""
    return ", ".join(f"{value} ({n})" for value, n in values.value_counts().sort_index().items())


def close_problems(ledger, month: str) -> list[str]:
    """What keeps ``month`` from being closed, in words (an empty list: it is closed)."""
    from billxl import money
    from billxl.periods import month_range
    from billxl.store import close

    _, end = month_range(month)
    problems: list[str] = []
    findings = close.open_error_findings(ledger, end)
    if len(findings):
        problems.append(f"{len(findings)} open error finding(s) from the reconciliation: "
                        f"{_counted(findings['rule'])}; entries {_some(findings['entry_id'])} "
                        "(billxl findings list --status open)")
    prebills = close.unfinished_prebills(ledger, month)
    if len(prebills):
        problems.append(f"{len(prebills)} pre-bill(s) of {month} not finalized "
                        f"({_counted(prebills['status'])}): matters {_some(prebills['matter_id'])}")
    suspense = close.receipts_in_suspense(ledger, end)
    if len(suspense):
        amounts = ", ".join(
            f"{money.format_amount(int(block['amount_minor'].sum()), str(cur))} {cur}"
            for cur, block in suspense.groupby("currency"))
        problems.append(f"{len(suspense)} receipt(s) up to {end} unmatched in suspense "
                        f"({amounts}): {_some(suspense['receipt_id'])}")
    return problems


# --------------------------------------------------------------------------- the plan
def default_notebooks() -> Path:
    """billxl's own notebooks folder (:mod:`billxl.shipped`)."""
    return shipped.default_dir("notebooks")


def _notebook_paths(notebooks: str | os.PathLike | Mapping[str, Any] | None) -> dict[str, Path]:
    if isinstance(notebooks, Mapping):
        return {name: Path(path) for name, path in notebooks.items()}
    # the firm's notebook where its folder has one, else billxl's own
    return {name: shipped.find("notebooks", f"{name}.ipynb", notebooks) for name in NOTEBOOKS}


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._") or "_"


def plan_month_end(month: str, scopes, *, by: str = "partner", firm_name: str = "The firm",
                   notebooks: str | os.PathLike | Mapping[str, Any] | None = None
                   ) -> list[PlannedPack]:
    """The month's packs, the firm's first (its packs are the largest), then each scope's.

    ``scopes`` is a frame (or rows) with ``scope_id`` and ``name``; ``notebooks`` a folder
    holding ``monthly_pack.ipynb``, ``reconciliation_review.ipynb`` and ``collections.ipynb``,
    or a mapping from those names to notebook files.
    """
    if by not in BY:
        raise InputError(f"--by must be one of {', '.join(BY)}, not {by!r}.")
    paths = _notebook_paths(notebooks)
    missing = [str(paths.get(n, n)) for n in FIRM_NOTEBOOKS if n not in paths
               or not paths[n].is_file()]
    if missing:
        raise InputError(f"The month-end notebooks are missing: {', '.join(missing)}.")
    rows = scopes.to_dict("records") if hasattr(scopes, "to_dict") else list(scopes)

    def planned(name: str, scope: str, scope_id: str, scope_name: str) -> PlannedPack:
        key = f"{scope}-{_safe(scope_id)}-{name}" if scope_id else f"{scope}-{name}"
        params = {"month": month, "scope": scope, "scope_id": scope_id, "ledger_url": ""}
        return PlannedPack(key=key, name=name, notebook=paths[name], parameters=params,
                           scope=scope, scope_id=scope_id, scope_name=scope_name)

    plan = [planned(name, "firm", "", firm_name) for name in FIRM_NOTEBOOKS]
    for row in rows:
        scope_id = str(row["scope_id"])
        name = str(row.get("name") or scope_id)
        plan.extend(planned(nb, by, scope_id, name) for nb in SCOPE_NOTEBOOKS)
    keys = [p.key for p in plan]
    if len(set(keys)) != len(keys):
        raise InputError("Two scopes have ids that name the same folder: "
                         f"{sorted({k for k in keys if keys.count(k) > 1})}.")
    return plan


# --------------------------------------------------------------------------- input hashes
def data_digest(pack: PlannedPack, *, stamp: str, ledger_url: str | None = None) -> str:
    """The digest of the figures ``pack`` will show, built here (the notebook builds the same).

    A notebook that is not one of billxl's month-end notebooks has no pack function: its
    digest is the ledger's change stamp, so it runs again whenever the ledger changed.
    """
    function = NOTEBOOKS.get(pack.notebook.stem)
    if function is None:
        return f"ledger-stamp:{stamp}"
    import billxl.packs as packs

    build = getattr(packs, function)
    p = pack.parameters
    figures = build(p["month"], scope=p["scope"], scope_id=p["scope_id"],
                    ledger_url=p.get("ledger_url") or ledger_url)
    return packs.pack_digest(figures)


def input_hash(pack: PlannedPack, digest: str) -> str:
    """sha256 over the notebook's bytes, the parameters, billxl's version and the data digest."""
    from billxl import __version__

    h = hashlib.sha256()
    h.update(pack.notebook.read_bytes())
    h.update(json.dumps(pack.parameters, sort_keys=True, default=str).encode())
    h.update(f"\0billxl {__version__}\0{digest}".encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- the manifest
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_atomic(path: Path, text: str) -> None:
    from billxl.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        settle_modes(tmp)


@dataclass
class Manifest:
    """What a month's batch did: the run's facts and one entry per pack (by key, plan order).

    A pack's ``status``: ``planned``; ``submitted`` (given to the workers, running or waiting
    for one); ``finished``; ``failed`` (after its retry). A batch killed half way leaves its
    submitted packs so, and the next run does them again.
    """

    month: str
    by: str
    ledger: str = ""
    forced: bool = False
    close_problems: list[str] = field(default_factory=list)
    billxl_version: str = ""
    started_at: str = ""
    finished_at: str | None = None
    packs: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def failed(self) -> int:
        return sum(1 for p in self.packs.values() if p.get("status") == "failed")

    @property
    def finished(self) -> int:
        return sum(1 for p in self.packs.values() if p.get("status") == "finished")

    @property
    def index(self) -> Path | None:
        return None if self.path is None else self.path.with_name(INDEX)

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "by": self.by, "ledger": self.ledger, "forced": self.forced,
                "close_problems": self.close_problems, "billxl_version": self.billxl_version,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "packs": list(self.packs.values())}

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``; None when there is none (or it cannot be read)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        packs = {p["key"]: p for p in data.get("packs", []) if isinstance(p, dict) and "key" in p}
        return cls(month=data.get("month", ""), by=data.get("by", ""),
                   ledger=data.get("ledger", ""), forced=bool(data.get("forced")),
                   close_problems=list(data.get("close_problems") or []),
                   billxl_version=data.get("billxl_version", ""),
                   started_at=data.get("started_at", ""), finished_at=data.get("finished_at"),
                   packs=packs, path=Path(path))

    def save(self) -> None:
        assert self.path is not None
        _write_atomic(self.path, json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n")
        _write_atomic(self.path.with_name(INDEX), index_html(self))


_STATUS_STYLE = {"finished": "#1b7f3b", "failed": "#b00020", "submitted": "#8a6d00",
                 "planned": "#555"}
_LINK_ORDER = (".html", ".pdf", ".xlsx", ".ipynb", ".json")


def index_html(manifest: Manifest) -> str:
    """The run's index: every pack with its status, links to its files, and its error."""
    esc = html.escape
    rows = []
    for entry in manifest.packs.values():
        status = entry.get("status", "planned")
        files = sorted(entry.get("outputs") or [],
                       key=lambda f: (_LINK_ORDER.index(Path(f).suffix)
                                      if Path(f).suffix in _LINK_ORDER else 9, f))
        links = " · ".join(f'<a href="{esc(f)}">{esc(Path(f).suffix.lstrip(".").upper())}</a>'
                           for f in files)
        error = entry.get("error") or {}
        why = ""
        if error:
            cell = ""  # as papermill's banner in the notebook says it: In [n]
            if error.get("exec_count") is not None:
                cell = f" at In [{error['exec_count']}]"
            elif error.get("cell") is not None:
                cell = f" in cell {int(error['cell']) + 1}"
            why = (f'<div class="error"><b>{esc(str(error.get("ename", "")))}</b>{esc(cell)}: '
                   f'{esc(str(error.get("evalue", "")))}</div>')
        who = esc(entry.get("scope_name") or "")
        if entry.get("scope_id"):
            who += f' <span class="id">{esc(entry["scope_id"])}</span>'
        seconds = entry.get("duration")
        rows.append(
            f'<tr class="{esc(status)}"><td>{who}</td>'
            f'<td>{esc(str(entry.get("pack", "")).replace("_", " ").capitalize())}</td>'
            f'<td><span class="status" style="color:{_STATUS_STYLE.get(status, "#555")}">'
            f'{esc(status)}</span>{why}</td>'
            f'<td class="num">{entry.get("attempts", 0)}</td>'
            f'<td class="num">{"" if seconds is None else f"{seconds:.1f} s"}</td>'
            f"<td>{links}</td></tr>")
    forced = ""
    if manifest.forced:
        items = "".join(f"<li>{esc(p)}</li>" for p in manifest.close_problems)
        forced = (f'<div class="forced"><b>Run with --force:</b> the month was not closed.'
                  f"<ul>{items}</ul></div>")
    counts = (f"{manifest.finished} finished, {manifest.failed} failed, "
              f"{len(manifest.packs) - manifest.finished - manifest.failed} not done, "
              f"of {len(manifest.packs)} packs")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Month-end packs {esc(manifest.month)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd;
          vertical-align: top; }}
th {{ background: #f3f3f3; }} td.num {{ text-align: right; white-space: nowrap; }}
.id {{ color: #777; font-size: 90%; }} .status {{ font-weight: 600; }}
.error {{ color: #b00020; font-size: 90%; white-space: pre-wrap; }}
.forced {{ border: 2px solid #b00020; padding: .5em 1em; margin: 1em 0; }}
</style></head><body>
<h1>Month-end packs — {esc(manifest.month)}</h1>
<p>By {esc(manifest.by)} · ledger {esc(manifest.ledger)} · billxl {esc(manifest.billxl_version)}
· started {esc(manifest.started_at)}{" · finished " + esc(manifest.finished_at)
                                     if manifest.finished_at else " · not finished"}</p>
<p><b>{esc(counts)}</b></p>{forced}
<table><thead><tr><th>For</th><th>Pack</th><th>Status</th><th>Attempts</th><th>Time</th>
<th>Files</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""


# --------------------------------------------------------------------------- running
@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """The batch's variables in this worker too, for one pack (its report is made here, with
    the firm's templates as the kernel has them); then the worker's own again."""
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_planned(notebook: str, parameters: dict, folder: str, title: str,
                 env: dict) -> dict[str, Any]:
    """One pack in a worker (a pool process or a Dask worker): never raises."""
    from billxl.packs.runner import run_pack

    started = time.perf_counter()
    try:
        with _environment(env):
            return run_pack(notebook, parameters, folder, title=title, env=env).as_dict()
    except Exception as error:  # noqa: BLE001 -- reported as the pack's failure
        return PackResult(notebook=notebook, parameters=parameters, status="failed",
                          duration=time.perf_counter() - started,
                          error={"ename": type(error).__name__, "evalue": str(error),
                                 "cell": None, "exec_count": None, "source": ""}).as_dict()


def _die_with_parent() -> None:
    """Linux: this worker is killed when the batch is (even by SIGKILL), and its kernel,
    which watches its parent, follows; an orphan would finish its pack under a new batch."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _warm_outputs() -> None:
    """Import nbconvert and WeasyPrint and have WeasyPrint load its fonts (a second or two,
    once per process): a page of nothing made into a PDF."""
    import tempfile

    with contextlib.suppress(Exception), tempfile.TemporaryDirectory() as scratch:
        report = importlib.import_module("billxl.packs.report")
        page = Path(scratch) / "warm.html"
        page.write_text("<!DOCTYPE html><html><body><p>.</p></body></html>", encoding="utf-8")
        report.html_pdf(page, Path(scratch) / "warm.pdf")


def _warm_worker(kernel_name: str) -> None:
    """A pool process's start: it dies with the batch, and warms up (:func:`_warm_up`)."""
    _die_with_parent()
    _warm_up(kernel_name)


def _warm_up(kernel_name: str) -> None:
    """While the parent plans: the worker's kernel starts and imports what the packs use, and
    the worker imports nbconvert and WeasyPrint (for the HTML and the PDF)."""
    import threading

    from billxl.packs import kernels

    loader = threading.Thread(target=_warm_outputs, daemon=True)
    loader.start()
    with contextlib.suppress(Exception):  # the first pack starts it again, and says why not
        kernels.warm_kernel(kernel_name).preload()
    loader.join()


class _LocalPool:
    """A pool of spawned processes (not forked: the parent may hold threads and connections)."""

    def __init__(self, workers: int, kernel_name: str):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._make = lambda: ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_worker, initargs=(kernel_name,))
        self.pool = self._make()

    def submit(self, *args):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self.pool.submit(_run_planned, *args)
        except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._make()
            return self.pool.submit(_run_planned, *args)

    @staticmethod
    def wait_any(futures):
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        return done

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskPool:
    """Packs as tasks on a Dask distributed cluster; a worker with a ``KERNEL`` resource runs
    one pack at a time, and a cluster that declares none runs them on any worker."""

    def __init__(self, address: str, kernel_name: str):
        from distributed import Client

        self.client = Client(address)
        workers = self.client.scheduler_info().get("workers", {}).values()
        declared = any("KERNEL" in (w.get("resources") or {}) for w in workers)
        self.resources = {"KERNEL": 1} if declared else None
        # a warm-up task on each worker, ahead of the packs (tasks, not client.run: a kernel
        # belongs to the thread that runs the worker's tasks); kept, or Dask would forget them
        self.warming = [self.client.submit(_warm_up, kernel_name, pure=False, workers=[worker],
                                           allow_other_workers=False, resources=self.resources)
                        for worker in self.client.scheduler_info().get("workers", {})]

    def submit(self, *args):
        return self.client.submit(_run_planned, *args, pure=False, resources=self.resources)

    @staticmethod
    def wait_any(futures):
        from distributed import wait

        return wait(list(futures), return_when="FIRST_COMPLETED").done

    def close(self) -> None:
        self.client.close()


def _result_of(future) -> dict[str, Any]:
    try:
        return future.result()
    except BaseException as error:  # the worker itself died: the pack failed with it
        return {"status": "failed", "duration": None, "outputs": [],
                "error": {"ename": type(error).__name__, "evalue": str(error), "cell": None,
                          "exec_count": None, "source": ""}}


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One batch at a time in a month's folder (an OS lock on ``.lock``, on Windows too; the
    system frees it when a batch dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(folder / ".lock", mode=0o600)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise BillxlError(f"Another month-end batch is running in {folder}.") from None
    try:
        yield
    finally:
        lock.release()


def _sidecar_digest(folder: Path, outputs: list[str]) -> str | None:
    for name in outputs:
        if name.endswith(".json"):
            try:
                return json.loads((folder / name).read_text(encoding="utf-8")).get("digest")
            except (OSError, ValueError, AttributeError):
                return None
    return None


def _entry(pack: PlannedPack, old: dict[str, Any] | None) -> dict[str, Any]:
    entry = {"key": pack.key, "pack": pack.name, "notebook": str(pack.notebook),
             "scope": pack.scope, "scope_id": pack.scope_id, "scope_name": pack.scope_name,
             "parameters": pack.parameters, "status": "planned", "attempts": 0,
             "duration": None, "notebook_seconds": None, "report_seconds": None, "outputs": [],
             "error": None,
             "input_hash": None, "data_digest": None, "finished_at": None}
    if old:
        entry.update({k: old[k] for k in ("status", "attempts", "duration", "notebook_seconds",
                                          "report_seconds", "outputs", "error", "input_hash", "data_digest",
                                          "finished_at", "worker") if k in old})
    return entry


def _outputs_exist(month_dir: Path, entry: dict[str, Any]) -> bool:
    return bool(entry.get("outputs")) and all((month_dir / f).is_file()
                                              for f in entry["outputs"])


def run_month_end(month: str, *, by: str = "partner", workers: int = 2,
                  scheduler: str | None = None, force: bool = False,
                  out_dir: str | os.PathLike = "month-end", ledger_url: str | None = None,
                  notebooks: str | os.PathLike | Mapping[str, Any] | None = None,
                  progress: Progress | None = None, kernel_name: str = "python3",
                  scopes=None) -> Manifest:
    """Run every pack of ``month`` into ``out_dir/<month>/``; see the module's note.

    Returns the manifest (``manifest.failed`` packs failed: the CLI exits 1). Raises
    :class:`CloseRefused` when the month is not closed and ``force`` is false. ``scopes``
    (a frame of ``scope_id``, ``name``) replaces ``billxl.packs.pack_scopes(by, month)``.
    """
    from billxl.periods import month_range
    from billxl.store.db import resolve_url
    from billxl.store.ledger import Ledger

    month_range(month)  # a month it can read, or a clear error
    if by not in BY:
        raise InputError(f"--by must be one of {', '.join(BY)}, not {by!r}.")
    url = resolve_url(ledger_url)
    ledger = Ledger.open(url)
    try:
        problems = close_problems(ledger, month)
        if problems and not force:
            raise CloseRefused(month, problems)
        firm = ledger.firm()
        firm_name = str(firm.get("name") or "The firm")
    finally:
        ledger.dispose()
    if not isinstance(notebooks, Mapping):  # --notebooks, $BILLXL_NOTEBOOKS, the ledger's
        notebooks = shipped.firm_dir("notebooks", notebooks, firm)
    if scopes is None:
        import billxl.packs as packs

        scopes = packs.pack_scopes(by, month, ledger_url=url)
    plan = plan_month_end(month, scopes, by=by, firm_name=firm_name, notebooks=notebooks)
    return run_plan(plan, out_dir, month=month, by=by, workers=workers, scheduler=scheduler,
                    ledger_url=url, progress=progress, kernel_name=kernel_name,
                    not_closed=problems)


def _absolute(url: str) -> str:
    """A SQLite URL with a relative path made absolute (other URLs as they are)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path, mark, query = url[len(prefix):].partition("?")
    if not path or path == ":memory:" or os.path.isabs(path):
        return url
    return f"{prefix}{os.path.abspath(path)}{mark}{query}"


def run_plan(plan: list[PlannedPack], out_dir: str | os.PathLike, *, month: str,
             by: str = "partner", workers: int = 2, scheduler: str | None = None,
             ledger_url: str | None = None, progress: Progress | None = None,
             kernel_name: str = "python3", not_closed: list[str] | None = None) -> Manifest:
    """Run the packs of ``plan`` into ``out_dir/<month>/`` (:func:`run_month_end`'s steps 3 to
    5, without the close checks: ``not_closed`` lists what they found, recorded as forced)."""
    from billxl import __version__
    from billxl.store.db import resolve_url
    from billxl.store.ledger import Ledger
    from billxl.store.view import LedgerView

    if workers < 1:
        raise InputError(f"--workers must be 1 or more, not {workers}.")
    for pack in plan:
        check_parameters(pack.notebook, pack.parameters)
    url = _absolute(resolve_url(ledger_url))  # the kernels work in the packs' folders
    ledger = Ledger.open(url)
    try:
        stamp = str(LedgerView(ledger).stamp())
        shown_url = ledger.display_url
        # the packs' styles and report template: $BILLXL_TEMPLATES, else the ledger's folder
        templates = shipped.firm_dir("templates", None, ledger.firm())
    finally:
        ledger.dispose()
    env = {"BILLXL_LEDGER": url, **({"BILLXL_TEMPLATES": str(templates)} if templates else {})}
    month_dir = Path(out_dir).resolve() / month
    with _locked(month_dir):
        return _run_plan(plan, month_dir, month=month, by=by, workers=workers,
                         scheduler=scheduler, problems=list(not_closed or []),
                         ledger_shown=shown_url, env=env, stamp=stamp,
                         version=__version__, progress=progress, kernel_name=kernel_name)


def _run_plan(plan: list[PlannedPack], month_dir: Path, *, month: str, by: str, workers: int,
              scheduler: str | None, problems: list[str], ledger_shown: str,
              env: dict[str, str], stamp: str, version: str, progress: Progress | None,
              kernel_name: str) -> Manifest:
    settle_modes_dir(month_dir)
    clear_partials(month_dir)
    old = Manifest.load(month_dir / MANIFEST)
    manifest = Manifest(month=month, by=by, ledger=ledger_shown, forced=bool(problems),
                        close_problems=problems, billxl_version=version,
                        started_at=_now(), path=month_dir / MANIFEST)
    for pack in plan:
        manifest.packs[pack.key] = _entry(pack, old.packs.get(pack.key) if old else None)
    manifest.save()

    started = time.perf_counter()
    counts = {"done": 0, "failed": 0, "skipped": 0, "ran": 0}

    def report(last: str = "") -> None:
        if progress is None:
            return
        remaining = len(plan) - counts["done"] - counts["failed"]
        elapsed = time.perf_counter() - started
        eta = (elapsed / counts["ran"] * remaining) if counts["ran"] else None
        progress(BatchProgress(done=counts["done"], failed=counts["failed"], remaining=remaining,
                               skipped=counts["skipped"], elapsed=elapsed, eta=eta, last=last))

    pool = _DaskPool(scheduler, kernel_name) if scheduler else _LocalPool(workers, kernel_name)
    in_flight: dict[Any, tuple[PlannedPack, str]] = {}
    try:
        report()
        for pack in plan:  # hash, then submit at once: the workers start while we go on
            digest = data_digest(pack, stamp=stamp, ledger_url=env["BILLXL_LEDGER"])
            inputs = input_hash(pack, digest)
            entry = manifest.packs[pack.key]
            if (entry["status"] == "finished" and entry.get("input_hash") == inputs
                    and _outputs_exist(month_dir, entry)):
                entry["skipped"] = True
                counts["done"] += 1
                counts["skipped"] += 1
                report(pack.key)
                continue
            entry.update(status="submitted", attempts=0, error=None, input_hash=inputs,
                         data_digest=digest, outputs=[], finished_at=None, skipped=False)
            in_flight[_submit(pool, pack, month_dir, env)] = (pack, digest)
            entry["attempts"] = 1
            manifest.save()
        while in_flight:
            for future in pool.wait_any(list(in_flight)):
                pack, digest = in_flight.pop(future)
                result = _result_of(future)
                entry = manifest.packs[pack.key]
                if result.get("status") != "finished" and entry["attempts"] < ATTEMPTS:
                    entry["attempts"] += 1
                    entry["error"] = result.get("error")
                    in_flight[_submit(pool, pack, month_dir, env)] = (pack, digest)
                    manifest.save()
                    continue
                _record(entry, result, pack, month_dir, digest)
                counts["ran"] += 1
                counts["done" if entry["status"] == "finished" else "failed"] += 1
                manifest.save()
                report(pack.key)
    finally:
        pool.close()
    manifest.finished_at = _now()
    manifest.save()
    return manifest


def _submit(pool, pack: PlannedPack, month_dir: Path, env: dict[str, str]):
    return pool.submit(str(pack.notebook), dict(pack.parameters), str(month_dir / pack.key),
                       pack.title, env)


def _record(entry: dict[str, Any], result: dict[str, Any], pack: PlannedPack, month_dir: Path,
            digest: str) -> None:
    outputs = [f"{pack.key}/{name}" for name in result.get("outputs") or []]
    entry.update(status=result.get("status", "failed"), duration=result.get("duration"),
                 notebook_seconds=result.get("notebook_seconds"),
                 report_seconds=result.get("report_seconds"), outputs=outputs,
                 error=result.get("error"), finished_at=_now(),
                 worker=result.get("worker", ""))
    if entry["status"] == "finished":
        shown = _sidecar_digest(month_dir, outputs)
        if shown is not None and shown != digest and not digest.startswith("ledger-stamp:"):
            # the ledger changed while the pack ran: hash what it shows, so the next run redoes it
            entry["data_digest"] = shown
            entry["input_hash"] = input_hash(pack, shown)


def settle_modes_dir(folder: Path) -> None:
    """The month's folder itself (not what is in it): per the umask, never world-writable."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, os.stat(folder).st_mode & 0o775)


__all__ = ["BY", "BatchProgress", "CloseRefused", "Manifest", "PlannedPack", "close_problems",
           "data_digest", "index_html", "input_hash", "plan_month_end", "run_month_end",
           "run_plan"]
