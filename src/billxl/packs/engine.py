"""papermill's entry point for billxl's warm-kernel engine (``papermill --engine billxl``).

papermill loads its engines' entry points while :mod:`papermill.engines` is being imported, and
:mod:`billxl.packs.kernels` imports that module: pointing the entry point at the engine itself
would import it half-made. This class stands in for it until a notebook is run, and then hands
the run to :class:`billxl.packs.kernels.WarmKernelEngine` (which, once imported, registers itself
under the same name).
"""

from __future__ import annotations

from papermill.engines import Engine


class WarmEngineEntry(Engine):
    """The ``billxl`` engine as papermill's registry first sees it."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        from billxl.packs.kernels import WarmKernelEngine

        return WarmKernelEngine.execute_managed_notebook(nb_man, kernel_name, **kwargs)


__all__ = ["WarmEngineEntry"]
