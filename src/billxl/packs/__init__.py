"""Month-end packs: the figures of a month for a partner, client, office or the firm, as
parameterized notebooks (papermill), HTML and PDF reports and XLSX packs, and the batch that
builds every pack of a month (``billxl month-end``).

- ``tables``: the typed tables every output is written from (:class:`~billxl.packs.tables.Pack`);
- ``monthly``, ``reconciliation``, ``collections``: the packs' figures, from the read model;
- ``render``, ``charts``, ``xlsx``, ``report``: how a pack looks in a notebook, HTML, PDF and XLSX;
- ``params``, ``kernels``, ``runner``, ``batch``: checking parameters, warm kernels, one pack's run,
  and the month's batch with its manifest and index.

The public names are imported lazily, so that ``import billxl.packs`` in a kernel costs nothing
until a pack is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

from billxl.packs.tables import Column, Pack, Table

_LAZY = {
    "monthly_pack": "billxl.packs.monthly",
    "reconciliation_pack": "billxl.packs.reconciliation",
    "collections_pack": "billxl.packs.collections",
    "pack_scopes": "billxl.packs.source",
    "pack_digest": "billxl.packs.source",
    "run_month_end": "billxl.packs.batch",
    "run_pack": "billxl.packs.runner",
    "check_parameters": "billxl.packs.params",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'billxl.packs' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["Column", "Pack", "Table", *_LAZY]
