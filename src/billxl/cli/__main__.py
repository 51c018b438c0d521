"""``python -m billxl.cli``: the ``billxl`` command."""

import os

from billxl.cli import main

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("COLUMNS", "120")
    main()
