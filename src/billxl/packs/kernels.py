"""A papermill engine that runs notebook after notebook in one warm kernel per process.

papermill's own engine starts a kernel for every notebook and stops it at the end: seconds of
start-up and imports (pandas, billxl) before a pack's first cell, and then the ledger is read
again. A month end runs dozens of packs, so this engine keeps one kernel per worker process
(and thread) and, before each notebook,

- checks the kernel is alive, and starts a new one if it is not (a kernel that died, or one
  whose run ended in anything but a failing cell, e.g. a cell timeout, is thrown away);
- resets the kernel's user namespace (``InteractiveShell.reset``, a new history session, the
  working directory set, matplotlib's figures closed), so that nothing one pack defined is
  seen by the next, while the imported modules, and with them billxl's per-process caches
  such as the ledger view, stay loaded.

Kernels start over the IPC transport (Unix sockets), each with its own connection file in a
private folder: many kernels starting at once cannot collide on TCP ports (papermill issue
511, "Address already in use"). ``start_timeout`` is generous because start-up under load on a
small machine is slow.

The engine is registered in papermill's engine registry as ``billxl``
(``papermill.execute_notebook(..., engine_name="billxl")``); the executed notebook is still an
ordinary papermill output (``metadata.papermill``, the ``injected-parameters`` cell, errors).
"""

from __future__ import annotations

import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import uuid
from multiprocessing import util as mp_util

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed (jupyter-events asks
# for jsonschema[format-nongpl]), and that module builds an Earley parser for IRIs as it is
# imported: 3 s of CPU in every process that reads a notebook -- the batch, each worker, and
# each run of the plain loop. Notebook schemas check no IRI formats; jsonschema goes without.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from jupyter_core.utils import run_sync  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402
from papermill.clientwrap import PapermillNotebookClient  # noqa: E402
from papermill.engines import Engine, papermill_engines  # noqa: E402
from papermill.utils import merge_kwargs, remove_args  # noqa: E402

ENGINE_NAME = "billxl"
START_TIMEOUT = 180  # seconds: two cores starting kernels while others run packs
RESET_TIMEOUT = 60
#: Modules a new kernel imports at once, before its first notebook (those that exist).
PRELOAD = ("pandas", "matplotlib", "billxl.store.view", "billxl.packs.source",
           "billxl.packs.monthly", "billxl.packs.collections", "billxl.packs.reconciliation",
           "billxl.packs.render", "billxl.packs.charts", "billxl.packs.xlsx")
_PRELOAD = """\
import importlib as _billxl_importlib
for _billxl_module in {modules!r}:
    try:
        _billxl_importlib.import_module(_billxl_module)
    except Exception:
        pass
"""

# Run before each notebook, silently and outside the history. The kernel's own name for the
# shell is all it needs; the working directory is the pack's.
_RESET = """\
import sys as _billxl_sys
if 'matplotlib.pyplot' in _billxl_sys.modules:
    _billxl_sys.modules['matplotlib.pyplot'].close('all')
del _billxl_sys
get_ipython().reset(new_session=True)
import os as _billxl_os
_billxl_os.chdir({cwd!r})
_billxl_os.environ.update({env!r})
del _billxl_os
"""


class KernelDied(RuntimeError):
    """The warm kernel could not be reset (it died or stopped answering)."""


class WarmKernel:
    """One running kernel and its client, kept for many notebooks."""

    def __init__(self, kernel_name: str, *, start_timeout: float = START_TIMEOUT,
                 cwd: str | None = None):
        self.kernel_name = kernel_name
        self.folder = tempfile.mkdtemp(prefix="billxl-kernel-")  # private: 0700
        self.km = AsyncKernelManager(
            kernel_name=kernel_name, transport="ipc",
            connection_file=os.path.join(self.folder, f"kernel-{uuid.uuid4().hex}.json"))
        self.notebooks = 0  # notebooks run in this kernel
        self.kc = None
        try:
            run_sync(self.km.start_kernel)(cwd=cwd or os.getcwd())
            self.kc = self.km.client()
            self.kc.start_channels()
            run_sync(self.kc.wait_for_ready)(timeout=start_timeout)
        except BaseException:
            self.shutdown()
            raise
        self.kc.allow_stdin = False

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def alive(self) -> bool:
        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:
            return False

    def preload(self, modules: tuple[str, ...] = PRELOAD) -> None:
        """Have the kernel import ``modules`` now, without waiting: the first notebook's
        reset waits for it (the kernel runs one request at a time)."""
        self.kc.execute(_PRELOAD.format(modules=tuple(modules)), silent=True,
                        store_history=False, allow_stdin=False)

    def reset(self, cwd: str, env: dict[str, str] | None = None) -> None:
        """Forget everything the last notebook defined; keep the imported modules. The
        working directory becomes ``cwd`` and ``env`` is set in the kernel's environment.

        Waits for the reply a second at a time, looking between whether the kernel is still
        alive: a kernel killed since the last notebook is noticed at once, not at the timeout.
        """
        code = _RESET.format(cwd=str(cwd), env={str(k): str(v) for k, v in (env or {}).items()})
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        first = self.notebooks == 0  # after the preload: imports on a busy machine
        deadline = time.monotonic() + RESET_TIMEOUT + (START_TIMEOUT if first else 0)
        while True:
            try:
                reply = run_sync(self.kc.get_shell_msg)(timeout=1)
            except queue.Empty:
                if not self.alive():
                    raise KernelDied("the kernel died since the last notebook") from None
                if time.monotonic() > deadline:
                    raise KernelDied(f"the kernel did not answer in {RESET_TIMEOUT} s") from None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelDied(f"the kernel's reset failed: {content.get('ename')}: "
                             f"{content.get('evalue')}")

    def shutdown(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
            run_sync(self.km.cleanup_resources)()
        except Exception:  # already gone: nothing more to stop
            pass
        finally:
            self.kc = None
            shutil.rmtree(self.folder, ignore_errors=True)


_kernels: dict[tuple[str, int], WarmKernel] = {}
_kernels_lock = threading.Lock()


def warm_kernel(kernel_name: str, *, start_timeout: float = START_TIMEOUT) -> WarmKernel:
    """This process's (and thread's) kernel for ``kernel_name``: the live one, else a new one."""
    key = (kernel_name, threading.get_ident())
    with _kernels_lock:
        kernel = _kernels.get(key)
    if kernel is not None and kernel.alive():
        return kernel
    if kernel is not None:
        kernel.shutdown()
    kernel = WarmKernel(kernel_name, start_timeout=start_timeout)
    with _kernels_lock:
        _kernels[key] = kernel
    return kernel


def discard_kernel(kernel: WarmKernel) -> None:
    """Stop ``kernel`` and forget it: the next notebook starts a new one."""
    with _kernels_lock:
        for key, known in list(_kernels.items()):
            if known is kernel:
                del _kernels[key]
    kernel.shutdown()


def shutdown_all() -> None:
    """Stop every kernel this process keeps (at exit, and in tests)."""
    with _kernels_lock:
        kernels = list(_kernels.values())
        _kernels.clear()
    for kernel in kernels:
        kernel.shutdown()


def kernels_kept() -> list[WarmKernel]:
    with _kernels_lock:
        return list(_kernels.values())


class WarmKernelEngine(Engine):
    """papermill's nbclient engine, over this process's warm kernel instead of a new one."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                 stderr_file=None, start_timeout=START_TIMEOUT,
                                 execution_timeout=None, kernel_cwd=None, kernel_env=None,
                                 **kwargs):
        cwd = kernel_cwd or os.getcwd()
        kernel = warm_kernel(kernel_name, start_timeout=start_timeout)
        try:
            kernel.reset(cwd, kernel_env)
        except KernelDied:  # replace it once; a new kernel that cannot reset is an error
            discard_kernel(kernel)
            kernel = warm_kernel(kernel_name, start_timeout=start_timeout)
            kernel.reset(cwd, kernel_env)
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                             kernel_name=kernel_name, log=_log(), log_output=log_output,
                             stdout_file=stdout_file, stderr_file=stderr_file)
        client = PapermillNotebookClient(nb_man, km=kernel.km, **final)
        client.kc = kernel.kc  # the warm client: no new channels, no shutdown at the end
        kernel.notebooks += 1
        try:
            return client.execute()
        except CellExecutionError:
            raise
        except BaseException:
            # a cell timeout, a dead kernel, an interrupt: its state is unknown, start afresh
            discard_kernel(kernel)
            raise


def _log():
    from papermill.log import logger

    return logger


papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
# Worker processes of a pool leave through multiprocessing's exit functions, not atexit.
mp_util.Finalize(None, shutdown_all, exitpriority=10)

__all__ = ["ENGINE_NAME", "WarmKernel", "WarmKernelEngine", "discard_kernel", "kernels_kept",
           "shutdown_all", "warm_kernel"]
