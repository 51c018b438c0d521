"""Writing files so that nobody ever sees half of one.

Every output billxl writes (workbooks, CSV reports, LEDES files, PDFs) is written to a temporary
file in the destination folder and moved into place with ``os.replace``, which is atomic on the
same file system: a reader sees the old file or the new one, and a crash leaves no torn file.

A file written so gets the mode a new file gets under the user's umask (so a partner can open
the pre-bills in a shared folder when the umask says the group may), but never write for
others: a billing file is never world-writable, whatever the umask.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


def umask() -> int:
    """The process's umask (read without changing it where the system allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it back at once
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode of a new output file: what the umask allows, less write for others."""
    return 0o666 & ~umask() & ~0o002


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:  # make the bytes durable before the rename
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())  # mkstemp made it 0600
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a frame as UTF-8 CSV (with BOM, so Excel reads accents right), atomically.

    Text is written as :func:`billxl.cells.csv_frame` says (a cell a spreadsheet would
    evaluate gets a leading ``'``; characters nobody sees are removed) and between double
    quotes; numbers stay numbers (see :func:`write_csv`)."""
    with atomic_path(path) as tmp:
        write_csv(frame, tmp, encoding="utf-8-sig")
    return Path(path)


def write_csv(frame: pd.DataFrame, target, *, encoding: str = "utf-8") -> None:
    """A frame as CSV to a path or an open text stream: the one way billxl writes CSV.

    Every text cell is quoted (``QUOTE_NONNUMERIC``), so a separator of another locale inside
    it (``;``) cannot start a new cell, as OWASP advises; numbers are written bare."""
    import csv

    from billxl.cells import csv_frame

    csv_frame(frame).to_csv(target, index=False, encoding=encoding, quoting=csv.QUOTE_NONNUMERIC)
