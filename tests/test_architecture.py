"""The architecture, pinned: what may import what inside billxl.

Every module under ``src/billxl`` is parsed with :mod:`ast`; nothing is imported. What counts as
an import is **every** ``import`` and ``from ... import`` statement anywhere in a module: at the
top, inside a function, under ``if TYPE_CHECKING:``. A lazy import inside a function still ties
the two modules together, and a cycle closed by one is the design smell these rules are for.

An import of a billxl module is an edge to that module: ``import billxl.a.b``, ``from billxl.a
import b`` (``b`` a module) and ``from billxl.a.b import name`` are edges to ``billxl.a.b``.
The packages above it are not edges (Python runs their ``__init__`` first, but a package that
re-exports its own submodules would otherwise be a cycle with each of them).

The rules:

a. **No import cycles** between billxl modules.
b. **No module uses another module's private name**: no ``from billxl.x import _name``, no
   ``x._name`` or ``billxl.x._name`` on an imported billxl module. Dunders (``__version__``)
   are public.
c. **Adapter libraries only in the packages that own them**: ``sqlalchemy`` and ``alembic`` in
   ``billxl.store``; ``openpyxl``, ``xlsxwriter`` and ``xlwings`` in ``billxl.excel`` and
   ``billxl.documents`` (and ``xlsxwriter`` in the XLSX pack, ``billxl.packs.xlsx``);
   ``python_calamine`` there and in ``billxl.intake`` (intake's reader
   of timekeeping exports is the one adapter outside those packages: reading a file is its
   job, parsing the cells is :mod:`billxl.cells`); ``papermill`` in ``billxl.packs``;
   ``weasyprint`` in ``billxl.documents`` and the pack report, ``billxl.packs.report``; ``bai2``, ``mt940`` and ``ofxparse`` each in its
   reader in ``billxl.bankfiles``, ``lxml`` in the camt reader and the LEDES XML module,
   ``pyopenvba`` in the workbook build's VBA module. SQL is still being moved into ``billxl.store``:
   the modules that have not moved yet are listed in ``PENDING_SQL_MOVE``, and that list can
   only shrink (an entry a module no longer needs fails the test too).
d. **The command line uses only the public API**: ``billxl.cli`` and its modules import, of
   billxl, only each other and the names in ``billxl.__all__`` (``from billxl import name``).
"""

from __future__ import annotations

import ast
import itertools
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import billxl

SRC = Path(billxl.__file__).resolve().parent.parent
PACKAGE = "billxl"

STORE = ("billxl.store",)
WORKBOOKS = ("billxl.excel", "billxl.documents")
#: library (top-level import name) -> the billxl packages or modules that may import it
OWNERS: dict[str, tuple[str, ...]] = {
    "sqlalchemy": STORE,
    "alembic": STORE,
    "openpyxl": WORKBOOKS,
    "xlsxwriter": (*WORKBOOKS, "billxl.packs.xlsx"),
    "xlwings": WORKBOOKS,
    "python_calamine": (*WORKBOOKS, "billxl.intake"),
    "papermill": ("billxl.packs",),
    "weasyprint": ("billxl.documents", "billxl.packs.report"),
    # bank files: one reader module per format, each the only user of its library
    "bai2": ("billxl.bankfiles.read_bai2",),
    "mt940": ("billxl.bankfiles.read_mt940",),
    "ofxparse": ("billxl.bankfiles.read_ofx",),
    "lxml": ("billxl.bankfiles.read_camt", "billxl.ledes.xml21"),
    # the workbook build's VBA project
    "pyopenvba": ("billxl.excel.workbook_build.vba",),
}
SQL = {"sqlalchemy", "alembic"}

#: Modules that still run SQL themselves while it moves into billxl.store (issue 9, "Seams").
#: Remove a module's line when it no longer imports sqlalchemy; never add one.
PENDING_SQL_MOVE: set[str] = set()
#: The same ratchet for other adapter libraries: module -> libraries it may still import.
PENDING_ADAPTER_MOVE: dict[str, set[str]] = {
}

CLI = "billxl.cli"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    target: str  # the module imported from (absolute, resolved)
    name: str | None  # the name imported from it (None for ``import x``)


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every billxl module: dotted name -> (file, is a package)."""
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
         for name, (path, _) in MODULES.items()}


def _where(module: str, line: int) -> str:
    return f"{MODULES[module][0].relative_to(SRC).as_posix()}:{line}"


def _source(module: str, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` takes from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if MODULES[module][1] else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: str) -> list[Import]:
    """Every import statement of a module, anywhere in it."""
    found = []
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _source(module, node)
            found += [Import(module, node.lineno, source, alias.name) for alias in node.names]
    return found


IMPORTS = {name: _imports(name) for name in MODULES}


def _is_billxl(target: str) -> bool:
    return target == PACKAGE or target.startswith(PACKAGE + ".")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _edge(imp: Import) -> str | None:
    """The billxl module an import depends on (None for other packages)."""
    if not _is_billxl(imp.target):
        return None
    if imp.name is not None and f"{imp.target}.{imp.name}" in MODULES:
        return f"{imp.target}.{imp.name}"
    target = imp.target
    while target not in MODULES and "." in target:  # a name of a module that is not here
        target = target.rsplit(".", 1)[0]
    return target


def _graph() -> dict[str, dict[str, int]]:
    """module -> {module it imports: line of the first such import}."""
    graph: dict[str, dict[str, int]] = {name: {} for name in MODULES}
    for name, imports in IMPORTS.items():
        for imp in imports:
            target = _edge(imp)
            if target is not None and target != name:
                graph[name].setdefault(target, imp.line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest cycle through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(v: str) -> None:  # iterative: no recursion limit on a long chain
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        group.add(w)
                        if w == node:
                            break
                    if len(group) > 1:
                        groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for group in groups:
        start = min(group)
        previous: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:  # breadth first from start, inside the group, until it comes back
            node = queue.popleft()
            if start in graph[node]:
                path = [node]
                while (before := previous[path[-1]]) is not None:
                    path.append(before)
                cycles.append([*reversed(path), start])
                break
            for child in sorted(graph[node]):
                if child in group and child not in previous:
                    previous[child] = node
                    queue.append(child)
    return cycles


def _describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} -> {b} ({_where(a, graph[a][b])})" for a, b in itertools.pairwise(cycle)]
    return " -> ".join(cycle) + "\n      " + "\n      ".join(steps)


def _module_bindings(module: str) -> dict[str, str]:
    """Names in a module bound to billxl modules by its imports: local name -> module."""
    bound = {}
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_billxl(alias.name):
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = _source(module, node)
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:
                    bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    return bound


def _dotted(node: ast.expr) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _private_uses(module: str) -> list[str]:
    """Another module's private names this module imports or reaches through a module."""
    found = []
    for imp in IMPORTS[module]:
        if not _is_billxl(imp.target):
            continue
        target = _edge(imp)
        parts = imp.target.split(".")[1:] + ([imp.name] if imp.name else [])
        if target != module and any(_private(p) for p in parts):
            shown = f"from {imp.target} import {imp.name}" if imp.name else f"import {imp.target}"
            found.append(f"{_where(module, imp.line)}: {shown}")
    bound = _module_bindings(module)
    seen = set()
    for node in ast.walk(TREES[module]):
        if not isinstance(node, ast.Attribute):
            continue
        chain = _dotted(node)
        if not chain or chain[0] not in bound:
            continue
        target = bound[chain[0]]
        for attr in chain[1:]:
            if f"{target}.{attr}" in MODULES:
                target = f"{target}.{attr}"
                continue
            if _private(attr) and target != module and (node.lineno, attr) not in seen:
                seen.add((node.lineno, attr))
                found.append(f"{_where(module, node.lineno)}: {'.'.join(chain)} "
                             f"({target}.{attr})")
            break
    return found


def _owned_by(module: str, owners: tuple[str, ...]) -> bool:
    return any(module == o or module.startswith(o + ".") for o in owners)


def _adapter_imports(module: str) -> dict[str, list[int]]:
    """Adapter libraries a module imports outside their owners: library -> lines."""
    found: dict[str, list[int]] = {}
    for imp in IMPORTS[module]:
        library = imp.target.split(".")[0]
        if library in OWNERS and not _owned_by(module, OWNERS[library]):
            found.setdefault(library, []).append(imp.line)
    return found


# =================================================================================== the rules
def test_the_rules_see_every_module():
    assert len(MODULES) > 50 and "billxl.cli.output" in MODULES and "billxl.cells" in MODULES


def test_no_import_cycles():
    graph = _graph()
    cycles = _cycles(graph)
    assert not cycles, ("billxl modules import each other in a cycle (imports inside functions "
                        "count too); move what both need to the module that owns it:\n  "
                        + "\n  ".join(_describe(c, graph) for c in cycles))


def test_no_module_uses_another_modules_private_names():
    found = [use for name in MODULES for use in _private_uses(name)]
    assert not found, ("a module uses another module's private (_underscored) name; make it "
                       "public where it is shared API, or move it to the one module that "
                       "uses it:\n  " + "\n  ".join(found))


def test_adapter_libraries_are_imported_only_by_their_owners():
    wrong, stale = [], []
    for name in MODULES:
        found = _adapter_imports(name)
        allowed = PENDING_ADAPTER_MOVE.get(name, set()) | (SQL if name in PENDING_SQL_MOVE else set())
        for library, lines in sorted(found.items()):
            if library not in allowed:
                owners = ", ".join(OWNERS[library])
                wrong.append(f"{name} imports {library} (line {', '.join(map(str, lines))}); "
                             f"only {owners} may")
    for name in sorted(PENDING_SQL_MOVE):
        if name not in MODULES or not SQL & set(_adapter_imports(name)):
            stale.append(f"{name} is in PENDING_SQL_MOVE but no longer imports sqlalchemy or "
                         "alembic: remove its line")
    for name, libraries in sorted(PENDING_ADAPTER_MOVE.items()):
        for library in sorted(libraries):
            if name not in MODULES or library not in _adapter_imports(name):
                stale.append(f"{name} is allowed {library} in PENDING_ADAPTER_MOVE but no "
                             "longer imports it: remove the entry")
    assert not wrong and not stale, "\n  ".join(["adapter libraries out of place:", *wrong, *stale])


def test_the_cli_imports_only_the_public_api():
    public = set(billxl.__all__) | {"__version__"}
    wrong = []
    for name in MODULES:
        if not _owned_by(name, (CLI,)):
            continue
        for imp in IMPORTS[name]:
            if not _is_billxl(imp.target) or _owned_by(imp.target, (CLI,)):
                continue
            if imp.target == PACKAGE and imp.name in public:
                continue
            shown = f"from {imp.target} import {imp.name}" if imp.name else f"import {imp.target}"
            wrong.append(f"{_where(name, imp.line)}: {shown}")
    assert not wrong, ("the CLI imports billxl only through its public API ('from billxl import "
                       "name', name in billxl.__all__; add what it needs to billxl._EXPORTS and "
                       "tests/test_public_api.py):\n  " + "\n  ".join(wrong))


def test_the_figures_are_a_pure_core():
    """Each figure is computed from frames and values: ``billxl.figures`` reads nothing itself,
    so it imports nothing of the store, the surfaces or the adapters."""
    allowed = ("billxl.figures", "billxl.money", "billxl.errors", "billxl.schema")
    def named(imp: Import) -> str:  # ``from billxl import money`` names billxl.money
        return f"{PACKAGE}.{imp.name}" if imp.target == PACKAGE and imp.name else imp.target

    found = [f"{_where(imp.module, imp.line)}: imports {named(imp)}"
             for module in _modules() if module.startswith("billxl.figures")
             for imp in _imports(module)
             if _is_billxl(imp.target) and not _owned_by(named(imp), allowed)]
    assert not found, "\n".join(found)
