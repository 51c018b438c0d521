"""The registry of rules: every rule by its stable id, in the order findings are listed.

Filled by :func:`billxl.rules.engine.rule` as the rule modules are imported (importing
:mod:`billxl.rules` imports them all); read by the engine, to run them, and by
:mod:`billxl.rules.guidelines`, to refuse a guideline file that names a rule nobody has.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RULES"]

RULES: dict[str, Any] = {}  # id -> billxl.rules.engine.Rule
