"""Regex scans of one big text split across processes (the narrative rules' joined corpus).

Python's regex engine holds the interpreter lock, so a month of 300,000 distinct narratives
(some 36 million characters, scanned once per pattern) runs on one core however many the machine
has. :func:`match_starts` hands the text to a small pool of worker processes once, through shared
memory, and has each find the matches of a pattern in its share of the narratives; the caller
gets back where each match starts, in order, exactly as one ``pattern.finditer`` over the whole
text would find them (a worker searches the whole text between its bounds, so look-behinds see
what stands before them, and no pattern matches across a narrative's start mark: see
:class:`billxl.rules.narratives.Corpus`).

The pool starts on first use (``spawn``, safe in a process with threads of its own, such as
Typst's), lives as long as the process and is used only for texts of at least
:data:`MIN_CHARS`: a worksheet function's few narratives never pay for it. ``spawn`` starts each
worker by importing the program's main script, so the pool is used only where that is known to
be safe: the ``billxl`` command turns it on (:func:`allow_parallel_scans`), and ``BILLXL_SCAN_WORKERS`` sets how
many processes anywhere (``1`` turns it off; a script of one's own that sets it needs the usual
``if __name__ == "__main__":`` guard). This module imports nothing of billxl, so that a worker
starts in a fraction of a second.
"""

from __future__ import annotations

import atexit
import os
import re
import weakref
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context, shared_memory

import numpy as np

#: Texts shorter than this are scanned in-process (the hand-off costs tens of milliseconds).
MIN_CHARS = 4_000_000
#: Shares of the text per worker (a little more than one, so that a slow share is not waited for)
PIECES_PER_WORKER = 2
_state: dict = {"pool": None, "broken": False, "default": 1}


def parallel_workers() -> int:
    """How many processes scan when scanning in several is allowed: one per CPU, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def allow_parallel_scans() -> None:
    """Scan in several processes by default (:func:`parallel_workers`): for a program whose
    main script is safe to import again, as the ``billxl`` command's is."""
    _state["default"] = parallel_workers()


def workers() -> int:
    """How many processes scan (1: none, the scan stays in this process)."""
    setting = os.environ.get("BILLXL_SCAN_WORKERS", "").strip()
    if setting:
        try:
            return max(1, int(setting))
        except ValueError:
            return 1
    return _state["default"]


def _pool(n: int) -> ProcessPoolExecutor | None:
    if _state["broken"]:
        return None
    if _state["pool"] is None:
        try:
            _state["pool"] = ProcessPoolExecutor(max_workers=n, mp_context=get_context("spawn"))
        except (OSError, RuntimeError, ValueError):
            _state["broken"] = True
            return None
        atexit.register(_shutdown)
    return _state["pool"]


def _shutdown() -> None:
    pool, _state["pool"] = _state["pool"], None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


class Shared:
    """A text in shared memory, one byte per character when it is ASCII (else UTF-32), freed
    when this object goes."""

    def __init__(self, text: str):
        self.wide = not text.isascii()
        data = text.encode("utf-32-le") if self.wide else text.encode("ascii")
        self.memory = shared_memory.SharedMemory(create=True, size=max(1, len(data)))
        self.memory.buf[:len(data)] = data
        self.size = len(data)
        self._done = weakref.finalize(self, _free, self.memory)

    @property
    def name(self) -> str:
        return self.memory.name

    @property
    def chars(self) -> int:
        """The text's length in characters."""
        return self.size // 4 if self.wide else self.size


def _free(memory: shared_memory.SharedMemory) -> None:
    try:
        memory.close()
        memory.unlink()
    except (FileNotFoundError, OSError):
        pass


def _results(calls: list[tuple]) -> list | None:
    """Each ``(function, *arguments)`` of ``calls`` run in the pool, their results in order; None
    when there is no pool (one worker, or none can be had) or it breaks (a killed worker, no
    /dev/shm): it is then not used again, and the caller does the work itself."""
    n = workers()
    pool = _pool(n) if n > 1 else None
    if pool is None:
        return None
    try:
        return [f.result() for f in [pool.submit(*call) for call in calls]]
    except Exception:  # noqa: BLE001 -- whatever broke it, the work can be done here
        _state["broken"] = True
        _shutdown()
        return None


def start() -> bool:
    """Start the pool's processes now, each of them (a benchmark times its work without their
    start); False when there is no pool (one worker, or none can be had)."""
    return _results([(os.getpid,)] * (4 * workers())) is not None


# ------------------------------------------------------------------ in the worker processes
_text: dict = {}  # the last text attached: {"name": ..., "text": ...}


def _attached(name: str, size: int, wide: bool) -> str:
    if _text.get("name") != name:
        _text.clear()
        memory = shared_memory.SharedMemory(name=name)
        try:
            data = bytes(memory.buf[:size])
        finally:
            memory.close()
        _text.update(name=name, text=data.decode("utf-32-le" if wide else "ascii"))
    return _text["text"]


def _scan(name: str, size: int, wide: bool, pattern: str, flags: int, begin: int,
          end: int) -> bytes:
    text = _attached(name, size, wide)
    compiled = re.compile(pattern, flags)
    found = [m.start() for m in compiled.finditer(text, begin, end)]
    return np.asarray(found, dtype=np.int64).tobytes()


# ------------------------------------------------------------------ in the caller
def match_starts(shared: Shared, pattern: re.Pattern, bounds: np.ndarray) -> np.ndarray | None:
    """Where each match of ``pattern`` in the shared text starts (ascending), the scan split at
    the positions ``bounds`` (where narratives start: no match runs across one), or None when
    the pool cannot be had (the caller then scans itself)."""
    cuts = np.unique(np.r_[0, bounds, shared.chars])
    parts = _results([(_scan, shared.name, shared.size, shared.wide, pattern.pattern,
                       pattern.flags, int(a), int(z))
                      for a, z in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)])
    if parts is None:
        return None
    return (np.concatenate([np.frombuffer(p, dtype=np.int64) for p in parts]) if parts
            else np.zeros(0, dtype=np.int64))
