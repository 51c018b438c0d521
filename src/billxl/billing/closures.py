"""The days the firm is closed, which a scheduled invoice's due date moves off (pure).

Besides Saturdays and Sundays, the firm is closed on

* the **public holidays** of its calendar: its country (the firm's ``country``, as on its
  address) and, where the firm's ``region`` names one of the country's subdivisions (``NY``,
  ``New York``; ``ENG``, ``England``), that subdivision's too, with the substitute days, by the
  `holidays <https://pypi.org/project/holidays/>`_ package: US-NY is the federal holidays and
  New York's, GB-ENG England's bank holidays (28 December 2026 is Boxing Day's substitute);
  a region that is not a subdivision (``Greater London``) leaves the country's own holidays;
* its own **closure dates** (the firm's ``closure_dates``: 24 December, say).

The firm's ``holidays`` setting overrides the calendar: ``none`` (no public holidays: weekends
and closure dates only), or a calendar of its own, a country or a country and a subdivision
(``GB-SCT``, ``US``). A firm without a country has no public holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from billxl.errors import InputError

__all__ = ["NONE", "Closures", "closures_of", "calendar_setting", "closure_dates_setting"]

#: The ``holidays`` setting of a firm that keeps no public holidays.
NONE = "none"


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, years: tuple[int, ...]):
    import holidays

    return tuple(sorted(holidays.country_holidays(country, subdiv=subdivision, years=years)))


def _subdivision(country: str, region: str | None) -> str | None:
    """The subdivision of ``country`` that ``region`` names (its code or its name), if any."""
    import holidays

    if not region or not region.strip():
        return None
    calendar = holidays.country_holidays(country)
    wanted = region.strip().casefold()
    codes = {c.casefold(): c for c in calendar.subdivisions}
    names = {n.casefold(): c for n, c in getattr(calendar, "subdivisions_aliases", {}).items()}
    return codes.get(wanted) or names.get(wanted)


def _calendar(text: str, what: str) -> tuple[str, str | None]:
    """``GB-ENG`` / ``US`` as (country, subdivision), checked against the holidays package."""
    import holidays

    country, _, sub = text.strip().partition("-")
    country = country.strip().upper()
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise InputError(f"{what}: {text!r} is not a country whose public holidays billxl "
                         "knows: give its two-letter code (US, GB ...), a code and a "
                         f"subdivision (GB-ENG, US-NY) or {NONE!r}.")
    if not sub.strip():
        return country, None
    code = _subdivision(country, sub)
    if code is None:
        raise InputError(f"{what}: {country} has no subdivision {sub.strip()!r}; its "
                         f"subdivisions are {', '.join(supported[country])}.")
    return country, code


@dataclass(frozen=True)
class Closures:
    """A firm's calendar of closed days besides weekends."""

    country: str | None = None
    subdivision: str | None = None
    extra: tuple[date, ...] = ()

    @property
    def calendar(self) -> str:
        """``US-NY``, ``GB``, or ``none``."""
        if self.country is None:
            return NONE
        return self.country + (f"-{self.subdivision}" if self.subdivision else "")

    def days(self, years: Iterable[int]) -> list[date]:
        """The closed days (public holidays and closure dates) of ``years``."""
        years = tuple(sorted(set(years)))
        public = (_public_holidays(self.country, self.subdivision, years)
                  if self.country else ())
        return sorted({*public, *(d for d in self.extra if d.year in years)})


def calendar_setting(value: Any) -> str | None:
    """The firm's ``holidays`` setting checked: blank (the country's and region's), ``none``,
    or a calendar such as ``GB-ENG`` (upper-cased)."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if text.casefold() == NONE:
        return NONE
    country, sub = _calendar(text, "holidays")
    return country + (f"-{sub}" if sub else "")


def closure_dates_setting(values: Iterable[Any]) -> list[str]:
    """The firm's ``closure_dates`` checked: ISO dates (text or dates), sorted, each once."""
    out = set()
    for value in values:
        if isinstance(value, date):
            out.add(value)
            continue
        try:
            out.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise InputError(f"closure dates: {value!r} is not a date; write it as YYYY-MM-DD."
                             ) from None
    return [d.isoformat() for d in sorted(out)]


def closures_of(firm: Mapping[str, Any] | None) -> Closures:
    """The closed days of a firm (its settings row: ``country``, ``region``, ``holidays``,
    ``closure_dates``)."""
    firm = firm or {}
    extra = tuple(date.fromisoformat(d) for d in closure_dates_setting(
        firm.get("closure_dates") or ()))
    setting = calendar_setting(firm.get("holidays"))
    if setting == NONE:
        return Closures(None, None, extra)
    if setting is not None:
        return Closures(*_calendar(setting, "holidays"), extra)
    country = str(firm.get("country") or "").strip().upper()
    if not country:
        return Closures(None, None, extra)
    import holidays

    if country not in holidays.list_supported_countries():
        return Closures(None, None, extra)  # an address's country billxl has no calendar of
    return Closures(country, _subdivision(country, firm.get("region")), extra)
