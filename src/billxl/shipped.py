"""The files billxl ships beside its code: document templates, pack notebooks, the billing
workbook and the add-in, and where a firm's own copies override them.

The top-level ``templates/``, ``notebooks/`` and ``workbooks/`` folders of the repository are
their source of truth. A checkout (or an editable install) reads them where they are; a wheel
carries a copy as package data, ``billxl/_shipped/<folder>/`` (``setup.py`` copies them at
build time), found through :mod:`importlib.resources`.

A firm's folder overrides billxl's files one by one. It is named, first first, by the
command's option (``--templates``, ``--notebooks``), the environment (``$BILLXL_TEMPLATES``,
``$BILLXL_NOTEBOOKS``) or the ledger's settings (``templates_dir``, ``notebooks_dir``: ``billxl
firm edit``), :func:`firm_dir`. It it may hold only ``invoice.typ``, and every other file still comes from
billxl. Where a tool needs one folder holding everything (Typst resolves ``billxl.typ``
relatively, nbconvert a template folder, WeasyPrint ``print.css``), :func:`overlay` gives a
merged copy, made once per state of the files and kept in a private cache folder.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from billxl.errors import BillxlError, InputError

KINDS = ("templates", "notebooks", "workbooks")
PACKAGED = "_shipped"  # billxl/_shipped/<kind>/ in a wheel
#: what a firm's copy never needs (editor and Excel leftovers, caches)
_SKIPPED = ("__pycache__", ".ipynb_checkpoints", ".DS_Store", "~$")
#: what ``copy_defaults`` gives a firm of each kind (default: every file): of the workbooks,
#: the built files a secretary opens, not the VBA text they are built from
_COPIED = {"workbooks": lambda name: "/" not in name and name.endswith((".xlsm", ".xlam"))}


#: how a firm names its own folder of a kind, in this order: the command's option, the
#: environment variable, the ledger's setting (the ``firm`` table's column)
FIRM_FOLDERS = {"templates": ("--templates", "BILLXL_TEMPLATES", "templates_dir"),
                "notebooks": ("--notebooks", "BILLXL_NOTEBOOKS", "notebooks_dir")}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"billxl ships no {kind!r}; it ships {', '.join(KINDS)}")
    return kind


def checkout_dir(kind: str) -> Path | None:
    """The folder in the repository when billxl runs from a checkout (or an editable install),
    else None."""
    folder = Path(__file__).resolve().parents[2] / _kind(kind)
    installed = (resources.files("billxl") / PACKAGED / kind).is_dir()
    return folder if folder.is_dir() and not installed else None


def _files(kind: str) -> Traversable:
    packaged = resources.files("billxl") / PACKAGED / _kind(kind)
    if packaged.is_dir():
        return packaged
    folder = checkout_dir(kind)
    if folder is None:
        raise BillxlError(f"billxl's own {kind} are missing from this installation (neither "
                          f"billxl/{PACKAGED}/{kind} nor a checkout's {kind}/ folder). "
                          "Reinstall billxl.")
    return folder


def _skipped(name: str) -> bool:
    return any(name == s or name.startswith(s) for s in _SKIPPED)


def _entries(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """Every file under ``root`` as (relative path with '/', the file), sorted."""
    found = []
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        if _skipped(child.name):
            continue
        if child.is_dir():
            found.extend(_entries(child, f"{prefix}{child.name}/"))
        else:
            found.append((f"{prefix}{child.name}", child))
    return found


def default_dir(kind: str) -> Path:
    """billxl's own folder of ``kind`` as a real folder (what papermill, Typst or a copy
    need): the installed one where it is one, else an extracted copy."""
    files = _files(kind)
    return files if isinstance(files, Path) else overlay(kind, None)


def default_names(kind: str) -> list[str]:
    """The relative paths of billxl's own files of ``kind`` ('packs/pack.css', ...)."""
    return [name for name, _ in _entries(_files(kind))]


def firm_dir(kind: str, given: str | os.PathLike | None = None,
             firm: Mapping[str, Any] | None = None) -> Path | None:
    """The firm's own folder of ``kind`` (templates or notebooks): the first named of
    ``given`` (the command's option), the environment variable and the ledger's setting
    (``firm``: the firm's row or settings), as an absolute path; None when none names one.

    A folder named but missing is an error that says who named it: a setting is never passed
    over for billxl's own files without a word.
    """
    option, variable, setting = FIRM_FOLDERS[kind]
    for named, by in ((given, option), (os.environ.get(variable), variable),
                      ((firm or {}).get(setting), f"the ledger's setting {setting}")):
        if named is None or not str(named).strip():
            continue
        folder = Path(named).expanduser()
        if not folder.is_dir():
            fix = (f" 'billxl firm edit --{setting.replace('_', '-')} FOLDER' names another, "
                   f"--{setting.replace('_', '-')} '' clears it." if by.startswith("the") else "")
            raise InputError(f"There is no {kind} folder {named} (named by {by}). 'billxl "
                             f"{kind} copy FOLDER' makes one to edit.{fix}")
        return folder.resolve()
    return None


def _firm_folder(folder: str | os.PathLike | None, kind: str) -> Path | None:
    if folder is None:
        return None
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise InputError(f"There is no folder {folder} for the firm's {kind}.")
    path = path.resolve()
    return None if path == default_dir(kind).resolve() else path


def find(kind: str, name: str, folder: str | os.PathLike | None = None) -> Path:
    """The file ``name`` (a relative path) of ``kind``: the firm's in ``folder`` when it has
    one, else billxl's own."""
    firm = _firm_folder(folder, kind)
    if firm is not None and (firm / name).is_file():
        return firm / name
    own = default_dir(kind) / name
    if own.is_file():
        return own
    where = f"in {firm} nor among billxl's own {kind}" if firm else f"among billxl's own {kind}"
    raise InputError(f"There is no {kind} file {name} {where}.")


def _signature(kind: str, firm: Path | None) -> str:
    """What an overlay holds: billxl's files and the firm's, with their sizes and times."""
    digest = hashlib.sha256(f"{kind}\0{Path(__file__).resolve()}\0{firm}".encode())
    for name, item in _entries(_files(kind)):
        stat = os.stat(item) if isinstance(item, Path) else None
        digest.update(f"{name}\0{stat and (stat.st_size, stat.st_mtime_ns)}\0".encode())
    for name, item in (_entries(firm) if firm else []):
        stat = os.stat(item)
        digest.update(f"firm:{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:24]


@functools.cache
def _cache_root() -> Path:
    """A folder of the user's own for overlays (never another user's /tmp folder)."""
    try:
        user = "".join(c for c in getpass.getuser() if c.isalnum()) or "user"
    except Exception:  # no user name (a container without one): a folder of this process
        return Path(tempfile.mkdtemp(prefix="billxl-"))
    root = Path(tempfile.gettempdir()) / f"billxl-{user}"
    root.mkdir(mode=0o700, exist_ok=True)
    if hasattr(os, "getuid"):
        info = root.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return Path(tempfile.mkdtemp(prefix="billxl-"))
    return root


def _write_tree(files: list[tuple[str, Traversable]], target: Path) -> None:
    for name, item in files:
        path = target.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.read_bytes())


def overlay(kind: str, folder: str | os.PathLike | None) -> Path:
    """One real folder holding billxl's files of ``kind`` with the firm's (``folder``) over
    them, file by file; billxl's own folder itself when there is no firm folder.

    Made once for each state of the files (an edited firm file makes a new one), in the user's
    cache folder under the system's temporary folder, shared by a batch's processes.
    """
    firm = _firm_folder(folder, kind)
    files = _files(kind)
    if firm is None and isinstance(files, Path):
        return files
    target = _cache_root() / f"{kind}-{_signature(kind, firm)}"
    if target.is_dir():
        return target
    part = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_tree(_entries(files), part)
        if firm is not None:
            _write_tree(_entries(firm), part)
        os.replace(part, target)
    except OSError:
        if not target.is_dir():  # another process made it first: use theirs
            raise
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return target


def copy_defaults(kind: str, folder: str | os.PathLike, *, force: bool = False) -> list[Path]:
    """Copy billxl's own ``kind`` (templates, notebooks or workbooks) into ``folder``, for a
    firm to edit. A file already there is left alone and nothing is copied, unless ``force``.
    """
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{folder} is a file, not a folder to copy billxl's {kind} into.")
    wanted = _COPIED.get(kind, lambda name: True)
    files = [(name, item) for name, item in _entries(_files(kind)) if wanted(name)]
    there = [name for name, _ in files if target.joinpath(*name.split("/")).exists()]
    if there and not force:
        shown = ", ".join(there[:5]) + (f" and {len(there) - 5} more" if len(there) > 5 else "")
        raise InputError(f"{target} already has {shown}: nothing was copied. Give --force to "
                         f"replace them with billxl's own {kind}.")
    _write_tree(files, target)
    return [target.joinpath(*name.split("/")) for name, _ in files]


__all__ = ["FIRM_FOLDERS", "KINDS", "checkout_dir", "copy_defaults", "default_dir", "default_names",
           "find", "firm_dir", "overlay"]
