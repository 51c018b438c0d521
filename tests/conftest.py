"""Shared fixtures: a ledger on each backend, and the demo firm.

The ledger tests run on SQLite (a file in a temporary folder) and on a real PostgreSQL server
named by ``BILLXL_TEST_PG_URL`` (``.ci/start-postgres`` starts one and prints the URL). Without
that variable the PostgreSQL cases are skipped locally, and fail under CI (``CI=true``), where
a skipped backend would hide a broken one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("BILLXL_TEST_PG_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"

#: ``../shared`` beside the repository: the LEDES specification's sample and the real files
#: from other software. CI has it beside its clone (``.ci/run`` links it there).
SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_or_skip(path: Path) -> Path:
    """``path`` in the shared folder; skipped where that folder is absent, a failure under CI."""
    if not path.exists():
        why = f"the shared data folder is not beside the repository ({path})"
        if IN_CI:
            pytest.fail(f"CI=true but {why}: CI has ../shared beside its clone")
        pytest.skip(why)
    return path


FIRM = {"name": "Test & Partners LLP", "law_firm_id": "12-3456789", "currency": "USD"}


def _reset_postgres(url: str) -> str:
    from billxl.store.db import resolve_url

    resolved = resolve_url(url)
    engine = sa.create_engine(resolved)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return resolved


def postgres_url_or_skip() -> str:
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but BILLXL_TEST_PG_URL is not set: the PostgreSQL tests must run in CI")
        pytest.skip("PostgreSQL not configured: set BILLXL_TEST_PG_URL (see .ci/start-postgres)")
    return _reset_postgres(PG_URL)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path) -> str:
    """A URL for an empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return postgres_url_or_skip()


@pytest.fixture
def empty_ledger(ledger_url):
    from billxl.store.ledger import Ledger

    ledger = Ledger.create(ledger_url, firm=FIRM, actor="test")
    yield ledger
    ledger.dispose()
