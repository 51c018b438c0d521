"""The wheel carries billxl's templates, notebooks, billing workbook and add-in as package data.

They live at the top of the repository (``templates/``, ``notebooks/``, ``workbooks/``: their
source of truth, which users and tests edit); this build step copies them to
``billxl/_shipped/<folder>/`` in the build, where :mod:`billxl.shipped` finds them through
importlib.resources. An editable install copies nothing: it reads the top-level folders where
they are. Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("templates", "notebooks", "workbooks")
SKIPPED = ("__pycache__", ".ipynb_checkpoints", ".DS_Store", "~$")  # as billxl.shipped skips


class BuildWithShippedFiles(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "billxl" / "_shipped"
        shutil.rmtree(target, ignore_errors=True)  # a file removed since the last build goes too
        for folder in SHIPPED:
            if not (HERE / folder).is_dir():
                raise SystemExit(f"billxl's {folder}/ folder is missing from {HERE}: the wheel "
                                 "needs it (an sdist carries it by MANIFEST.in).")
            for source in sorted((HERE / folder).rglob("*")):
                parts = source.relative_to(HERE).parts
                if source.is_file() and not any(p.startswith(SKIPPED) for p in parts):
                    copy = target.joinpath(*parts)
                    self.mkpath(str(copy.parent))
                    self.copy_file(str(source), str(copy))


setup(cmdclass={"build_py": BuildWithShippedFiles})
