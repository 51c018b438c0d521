"""`billxl` on the command line: thin commands over the engine, with progress and plain errors.

* :mod:`billxl.cli.output`: what every command shares (consoles, output formats, errors and
  exit codes, progress, the problems file, the --ledger option).
* :mod:`billxl.cli.commands`: the main app and its commands; :mod:`billxl.cli.cash` (payments,
  ar, trust) and :mod:`billxl.cli.ledes` (ledes) are mounted on it.

The console script ``billxl`` is :func:`main`; ``python -m billxl.cli`` runs it too.
"""

from billxl.cli.commands import app, main

__all__ = ["app", "main"]
