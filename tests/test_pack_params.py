"""Parameters are checked against the notebook's ``parameters`` cell before anything runs.

papermill itself only warns about an unknown name and passes a string for a number through;
billxl refuses both, naming the parameter, the notebook and what it takes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from billxl import BillxlError, InputError
from billxl.packs.params import check_parameters, notebook_parameters

STUB = Path(__file__).parent / "data" / "notebooks" / "stub_pack.ipynb"
CONTRACT = {"month", "scope", "scope_id", "ledger_url", "output_dir"}


def _notebook(tmp_path: Path, source: str, *, tagged: bool = True, name: str = "typed") -> Path:
    cell = new_code_cell(source, metadata={"tags": ["parameters"]} if tagged else {})
    nb = new_notebook(cells=[cell, new_code_cell("print(count)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def typed(tmp_path):
    return _notebook(tmp_path, 'label = "x"  # a label\ncount = 3  # how many\n'
                               'share = 0.5\nstrict = True\nanything = None\n'
                               "limit: float = 10\n")


def test_the_stub_notebook_has_the_contract_parameters_with_help():
    specs = notebook_parameters(STUB)
    assert set(specs) == CONTRACT
    assert all(spec["help"] for spec in specs.values())
    assert all(spec["type"] is str for spec in specs.values())


def test_parameters_that_fit_are_returned(typed):
    given = {"label": "y", "count": 4, "share": 1, "strict": False, "anything": [1, 2],
             "limit": 2.5}
    assert check_parameters(typed, given) == given  # an int for a float is taken


def test_an_unknown_name_is_refused_with_the_names_the_notebook_takes():
    with pytest.raises(InputError) as refused:
        check_parameters(STUB, {"month": "2026-10", "partner": "TK001"})
    text = str(refused.value)
    assert "'partner'" in text and "stub_pack.ipynb" in text
    assert "month, scope, scope_id, ledger_url, output_dir" in text
    assert "'month'" not in text  # the good one is not blamed
    assert isinstance(refused.value, BillxlError)


@pytest.mark.parametrize(("name", "value", "wanted"), [
    ("count", "4", "takes an int"),
    ("count", 4.0, "takes an int"),
    ("count", True, "takes an int"),  # a bool is not a count
    ("share", "0.5", "takes a float or int"),
    ("strict", 1, "takes a bool"),
    ("label", 7, "takes a str"),
    ("limit", "10", "takes a float or int"),  # the annotation says float
])
def test_a_value_of_the_wrong_type_is_refused_naming_the_type(typed, name, value, wanted):
    with pytest.raises(InputError) as refused:
        check_parameters(typed, {name: value})
    text = str(refused.value)
    assert f"parameter {name!r} {wanted}" in text
    assert f"not the {type(value).__name__} {value!r}" in text
    assert "typed.ipynb" in text


def test_every_problem_is_said_at_once(typed):
    with pytest.raises(InputError) as refused:
        check_parameters(typed, {"count": "x", "label": 1, "colour": "red"})
    lines = [line for line in str(refused.value).splitlines() if line.startswith("  - ")]
    assert len(lines) == 3


def test_a_notebook_without_a_parameters_cell_takes_none(tmp_path):
    plain = _notebook(tmp_path, "count = 3\n", tagged=False, name="plain")
    with pytest.raises(InputError, match="no cell tagged 'parameters'"):
        check_parameters(plain, {"count": 4})
    assert check_parameters(plain, {}) == {}


def test_a_missing_notebook_is_named(tmp_path):
    with pytest.raises(InputError, match="No notebook .*nowhere.ipynb"):
        check_parameters(tmp_path / "nowhere.ipynb", {})


def test_an_edited_notebook_is_read_again(tmp_path):
    path = _notebook(tmp_path, "count = 3\n")
    check_parameters(path, {"count": 1})
    path.write_text(path.read_text().replace("count = 3", "count = 'three'  "), "utf-8")
    with pytest.raises(InputError, match="takes a str"):
        check_parameters(path, {"count": 1})


def test_run_pack_refuses_before_it_runs(tmp_path):
    from billxl.packs.runner import run_pack

    with pytest.raises(InputError, match="'scope_id' takes a str"):
        run_pack(STUB, {"month": "2026-10", "scope_id": 17}, tmp_path / "pack")
    assert list(tmp_path.iterdir()) == []  # no kernel ran, no folder was made


def test_papermill_runs_a_notebook_on_the_warm_engine_from_its_own_command_line(tmp_path):
    # `papermill --engine billxl ...` finds the engine through its entry point, in a process
    # that has not imported billxl
    import subprocess
    import sys

    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("import sys; answer = 6 * 7; print(answer)")]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.write(book, tmp_path / "in.ipynb")
    done = subprocess.run([sys.executable, "-m", "papermill", "--engine", "billxl",
                           str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ran = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert ran.cells[0].outputs[0]["text"].strip() == "42"
    assert not ran.metadata["papermill"]["exception"]
