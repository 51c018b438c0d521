from datetime import date

import pytest

from billxl.errors import InputError
from billxl.periods import month_range


def test_month_range():
    assert month_range("2026-10") == (date(2026, 10, 1), date(2026, 10, 31))
    assert month_range("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    for bad in ("2026-13", "Oct 2026", "2026/10", ""):
        with pytest.raises(InputError, match="YYYY-MM"):
            month_range(bad)
