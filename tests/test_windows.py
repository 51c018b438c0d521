"""billxl on Windows, where it can be simulated on Linux: no POSIX-only module is needed to
import any of billxl, the month-end lock is the platform's own, and the code that differs by
platform takes its Windows path."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap

import pytest

from billxl.errors import BillxlError

#: standard modules Windows' Python does not have
POSIX_ONLY = ("fcntl", "resource", "pwd", "grp", "termios")

IMPORT_ALL = textwrap.dedent(f"""
    import importlib, pkgutil, sys
    for name in {POSIX_ONLY!r}:
        sys.modules[name] = None  # as on Windows: 'import fcntl' fails
    import billxl
    failed = []
    for found in pkgutil.walk_packages(billxl.__path__, "billxl."):
        if ".migrations." in found.name:  # alembic's scripts, loaded by alembic only
            continue
        try:
            importlib.import_module(found.name)
        except Exception as error:
            failed.append(f"{{found.name}}: {{error!r}}")
    print("\\n".join(failed))
""")


def test_every_billxl_module_imports_without_posix_only_modules():
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout


def test_a_second_month_end_in_the_same_folder_is_refused_until_the_first_ends(tmp_path):
    from billxl.packs.batch import _locked

    with _locked(tmp_path / "2026-10"):
        with pytest.raises(BillxlError, match="Another month-end batch is running in"), \
                _locked(tmp_path / "2026-10"):
            pass
        with _locked(tmp_path / "2026-11"):  # another month's folder is free
            pass
    with _locked(tmp_path / "2026-10"):  # the first has ended
        pass


def test_a_lock_held_by_another_process_refuses_the_batch(tmp_path):
    from billxl.packs.batch import _locked

    folder = tmp_path / "2026-10"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from billxl.packs.batch import _locked
            with _locked(Path({str(folder)!r})):
                print("held", flush=True)
                sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BillxlError, match="Another month-end batch"), _locked(folder):
            pass
    finally:
        holder.communicate("\n", timeout=60)
    with _locked(folder):  # freed when the other process let go
        pass


def test_invoice_workers_are_spawned_where_there_is_no_fork_server(monkeypatch):
    from billxl.documents import batch

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert batch._warm_up(("pdf",), None) is None  # the platform's own start: spawn


def test_a_pack_worker_on_windows_does_not_ask_linux_to_kill_it_with_the_batch(monkeypatch):
    import ctypes

    from billxl.packs import batch

    def no_libc(*args, **kwargs):
        raise AssertionError("prctl is Linux's")

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    batch._die_with_parent()


def test_the_overlay_cache_folder_is_made_where_there_are_no_user_ids(monkeypatch, tmp_path):
    from billxl import shipped

    monkeypatch.delattr(os, "getuid")
    monkeypatch.setattr(shipped.tempfile, "gettempdir", lambda: str(tmp_path))
    shipped._cache_root.cache_clear()
    try:
        root = shipped._cache_root()
    finally:
        shipped._cache_root.cache_clear()
    assert root.parent == tmp_path and root.name.startswith("billxl-") and root.is_dir()
