"""A batch of invoice documents in worker processes, however the platform starts them: forked
from a process that has not started Typst's threads, from a fork server once it has (a fork
then would hang), and spawned afresh as on Windows. Each run is a fresh Python process, so that
the way its workers start is the one under test, not whatever this test process did before.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.test_documents import _insert_invoice, insert_client_matter, pdf_text, sample_lines

TIMEOUT = 180  # a fork after Typst's threads started hangs: the run is stopped and fails


def _two_invoices(ledger) -> None:
    with ledger.transaction() as conn:
        insert_client_matter(conn)
        _insert_invoice(conn, 1, "INV/2026/0001", sample_lines())
        _insert_invoice(conn, 2, "INV/2026/0002", sample_lines(fees=8))


def _run(script: str) -> list:
    """Run ``script`` in a fresh Python; it prints one JSON value per line."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="forking a single-threaded process is Linux's path (/proc)")
def test_typst_workers_fork_until_this_process_has_compiled_then_start_from_a_fork_server(
        empty_ledger, tmp_path):
    _two_invoices(empty_ledger)
    url = empty_ledger.engine.url.render_as_string(hide_password=False)
    seen = _run(f"""
        import json
        from billxl.documents import batch, render_invoices
        from billxl.store.ledger import Ledger
        ledger = Ledger.open({url!r})
        def batch_of(folder, workers):
            start = batch._warm_up(("pdf",), None)
            paths = render_invoices(ledger, [1, 2], {str(tmp_path)!r} + "/" + folder,
                                    workers=workers, formats=("pdf",))
            print(json.dumps([start.get_start_method() if start else None,
                              [str(p) for p in paths]]), flush=True)
        batch_of("forked", 2)   # nothing compiled here yet: the workers are forked
        batch_of("here", 1)     # Typst compiles in this process: its threads start
        batch_of("served", 2)   # a fork now would hang: a fork server starts the workers
    """)
    assert [start for start, _paths in seen] == ["fork", "fork", "forkserver"]
    texts = [[pdf_text(path) for path in paths] for _start, paths in seen]
    assert texts[0] == texts[1] == texts[2]  # the same documents whichever way
    assert "INV/2026/0002" in texts[0][1][0]


def test_typst_workers_are_spawned_where_the_platform_can_only_spawn(empty_ledger, tmp_path):
    _two_invoices(empty_ledger)
    url = empty_ledger.engine.url.render_as_string(hide_password=False)
    (start, names, text), = _run(f"""
        import json, multiprocessing
        multiprocessing.set_start_method("spawn")
        multiprocessing.get_all_start_methods = lambda: ["spawn"]  # as on Windows
        from billxl.documents import batch, render_invoices
        from billxl.store.ledger import Ledger
        start = batch._warm_up(("pdf",), None)
        paths = render_invoices(Ledger.open({url!r}), [1, 2], {str(tmp_path / "spawned")!r},
                                workers=2)
        import pypdf
        print(json.dumps([start, [p.name for p in paths],
                          pypdf.PdfReader(paths[2]).pages[0].extract_text()]))
    """)
    assert start is None  # the platform's own way: spawn
    assert names == ["INV-2026-0001.pdf", "INV-2026-0001.xlsx",
                     "INV-2026-0002.pdf", "INV-2026-0002.xlsx"]
    assert "INV/2026/0002" in text and "Acme Holdings Ltd" in text
