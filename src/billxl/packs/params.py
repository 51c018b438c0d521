"""A notebook's parameters, checked before it runs.

papermill does not validate parameters: an unknown name is only logged ("Passed unknown
parameter") and injected anyway, and a string given for a number arrives as a string, so a
pack would run on its defaults or fail deep inside a cell. :func:`check_parameters` reads the
notebook's ``parameters`` cell (``papermill.inspect_notebook``) and refuses, before any kernel
starts, a name the cell does not define or a value whose type is not the default's.

A parameter's type is its annotation when it has one of ``str``, ``int``, ``float`` or ``bool``
(``month: str = ...``), else the type of its default as written (``"2026-10"`` is a str). An
int is accepted for a float; a bool is not an int here (``True`` for a count is a mistake). A
default of ``None`` or one that is not a plain literal says nothing about the type, so any value
is taken for it.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from billxl.errors import InputError

_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _declared_type(spec: Mapping[str, Any]) -> type | None:
    annotated = _TYPES.get(str(spec.get("inferred_type_name") or ""))
    if annotated is not None:
        return annotated
    try:
        default = ast.literal_eval(str(spec.get("default", "")))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return type(default) if type(default) in _TYPES.values() else None


def _fits(value: Any, wanted: type) -> bool:
    if wanted is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if wanted is float:
        return isinstance(value, int | float)
    return isinstance(value, wanted)


@lru_cache(maxsize=64)
def _inspect(path: str, mtime_ns: int, size: int) -> dict[str, dict]:
    import papermill

    return papermill.inspect_notebook(path)


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, dict]:
    """``{name: {name, inferred_type_name, default, help, type}}`` of the parameters cell."""
    path = Path(notebook)
    if not path.is_file():
        raise InputError(f"No notebook {path}.")
    stat = path.stat()
    specs = _inspect(str(path), stat.st_mtime_ns, stat.st_size)
    return {name: {**spec, "type": _declared_type(spec)} for name, spec in specs.items()}


def check_parameters(notebook: str | os.PathLike, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse parameters ``notebook`` does not define or whose type is not the default's.

    Returns the parameters as given. Every problem is in one :class:`~billxl.InputError`, each
    naming the parameter, the notebook, and what it takes (the names, or the type).
    """
    path = Path(notebook)
    specs = notebook_parameters(path)
    problems: list[str] = []
    if not specs and parameters:
        problems.append("it has no cell tagged 'parameters', so it takes no parameters")
    allowed = ", ".join(specs) or "none"
    for name, value in parameters.items():
        spec = specs.get(name)
        if spec is None:
            if specs:
                problems.append(f"it has no parameter {name!r} (its parameters: {allowed})")
            continue
        wanted = spec["type"]
        if wanted is not None and not _fits(value, wanted):
            also = " or int" if wanted is float else ""
            article = "an" if wanted is int else "a"
            problems.append(f"parameter {name!r} takes {article} {wanted.__name__}{also} (default "
                            f"{spec['default']}), not the {type(value).__name__} {value!r}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise InputError(f"The notebook {path.name} ({path}) cannot run with these "
                         f"parameters:\n{lines}")
    return dict(parameters)


__all__ = ["check_parameters", "notebook_parameters"]
