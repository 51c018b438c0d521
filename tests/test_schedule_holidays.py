"""Due dates move off the firm's public holidays and closure dates as well as weekends
(billxl.billing.closures over the holidays package), hand-computed: Christmas 2026 in the US,
Boxing Day's substitute in England, Good Friday 2027 in Great Britain."""

from __future__ import annotations

from datetime import date

import pytest

from billxl.billing.closures import (
    Closures,
    calendar_setting,
    closure_dates_setting,
    closures_of,
)
from billxl.billing.schedule_builder import Terms, build, move_off_weekend
from billxl.errors import InputError

US = Closures("US")
ENGLAND = closures_of({"country": "GB", "region": "England"})
SCOTLAND = closures_of({"country": "gb", "region": "SCT"})


def moved(day: date, rule: str, closures: Closures) -> date:
    return move_off_weekend([day], rule, closures.days)[0]


def test_christmas_2026_in_the_us_moves_to_monday_the_28th():
    christmas = date(2026, 12, 25)  # a Friday
    assert moved(christmas, "following", US) == date(2026, 12, 28)  # past Sat 26, Sun 27
    assert moved(christmas, "modified_following", US) == date(2026, 12, 28)
    assert moved(christmas, "preceding", US) == date(2026, 12, 24)
    assert moved(christmas, "none", US) == christmas
    assert move_off_weekend([christmas], "following") == [christmas]  # no holidays: it stays


def test_boxing_days_substitute_in_england_moves_as_the_rule_says():
    assert ENGLAND.calendar == "GB-ENG"
    substitute = date(2026, 12, 28)  # Monday: Boxing Day (Saturday the 26th) observed
    assert substitute in ENGLAND.days([2026])
    assert moved(substitute, "following", ENGLAND) == date(2026, 12, 29)
    assert moved(substitute, "modified_following", ENGLAND) == date(2026, 12, 29)
    # the Friday 25th is Christmas Day, the 26th and 27th a weekend: back to Thursday the 24th
    assert moved(substitute, "preceding", ENGLAND) == date(2026, 12, 24)
    assert moved(substitute, "following", US) == substitute  # a working day in the US


def test_good_friday_2027_in_great_britain():
    good_friday = date(2027, 3, 26)
    # England: Easter Monday (29 March) is a bank holiday too, so the Tuesday
    assert moved(good_friday, "following", ENGLAND) == date(2027, 3, 30)
    assert moved(good_friday, "modified_following", ENGLAND) == date(2027, 3, 30)
    assert moved(good_friday, "preceding", ENGLAND) == date(2027, 3, 25)
    # Scotland has Good Friday but not Easter Monday
    assert SCOTLAND.calendar == "GB-SCT"
    assert moved(good_friday, "following", SCOTLAND) == date(2027, 3, 29)
    assert moved(good_friday, "following", US) == good_friday


def test_a_schedule_built_with_the_firms_closures():
    terms = Terms("installment", total="3000.00", count=3, start=date(2026, 12, 25))
    items = build(terms, weekend_rule="following", holidays=US.days)
    # 25 Dec (Christmas, Friday): Monday 28; 25 Jan 2027 (Monday); 25 Feb 2027 (Thursday)
    assert [i.due_on for i in items] == [date(2026, 12, 28), date(2027, 1, 25),
                                         date(2027, 2, 25)]
    assert [i.amount_minor for i in items] == [100_000] * 3
    # a closure on New Year's Eve rolls into the next year's holiday: 1 Jan 2027 is New
    # Year's Day, then a weekend, so Monday 4 January
    closed = Closures("US", extra=(date(2026, 12, 31),))
    assert moved(date(2026, 12, 31), "following", closed) == date(2027, 1, 4)


def test_the_firms_settings_choose_the_calendar():
    assert closures_of({"country": "US", "region": "NY"}).calendar == "US-NY"
    assert closures_of({"country": "US", "region": "New York"}).calendar == "US-NY"
    # a region that is not a subdivision: the country's own holidays
    assert closures_of({"country": "GB", "region": "Greater London"}).calendar == "GB"
    assert closures_of({"country": None}).calendar == "none"
    assert closures_of(None).days([2026]) == []
    # the holidays setting overrides the address; 'none' keeps weekends and closure dates
    assert closures_of({"country": "US", "region": "NY", "holidays": "gb-sct"}).calendar == (
        "GB-SCT")
    none = closures_of({"country": "US", "holidays": "None",
                        "closure_dates": ["2026-12-24", "2026-12-31"]})
    assert none.calendar == "none"
    assert none.days([2026]) == [date(2026, 12, 24), date(2026, 12, 31)]
    assert moved(date(2026, 12, 25), "following", none) == date(2026, 12, 25)
    assert moved(date(2026, 12, 24), "following", none) == date(2026, 12, 25)
    # New York's Lincoln's Birthday (12 February 2026) is not a federal holiday
    assert date(2026, 2, 12) in closures_of({"country": "US", "region": "NY"}).days([2026])
    assert date(2026, 2, 12) not in US.days([2026])


def test_bad_settings_are_refused_in_words():
    assert calendar_setting(" ") is None
    assert calendar_setting("us-ny") == "US-NY"
    with pytest.raises(InputError, match="'XX' is not a country"):
        calendar_setting("XX")
    with pytest.raises(InputError, match="GB has no subdivision 'London'.*ENG"):
        calendar_setting("GB-London")
    assert closure_dates_setting(["2026-12-31", date(2026, 12, 24), "2026-12-31"]) == [
        "2026-12-24", "2026-12-31"]
    with pytest.raises(InputError, match="'24/12/2026' is not a date; write it as YYYY-MM-DD"):
        closure_dates_setting(["24/12/2026"])


# =================================================================================== the ledger
def test_the_firms_settings_in_the_ledger_move_a_matters_due_dates(empty_ledger):
    from billxl import firm_settings, set_firm_settings
    from billxl.billing import schedules
    from tests.test_schedule_plans import reference

    ledger = empty_ledger
    ledger.load_reference(reference(), actor="test")
    retainer = Terms("retainer", amount="1000.00", count=2, start=date(2026, 12, 28))

    def due():
        return schedules.preview(ledger, "RET", retainer)["due_on"].tolist()

    assert due() == [date(2026, 12, 28), date(2027, 1, 28)]  # a firm without a country
    set_firm_settings(ledger, country="GB", region="England")
    # Boxing Day's substitute: the next working day, still in December
    assert due() == [date(2026, 12, 29), date(2027, 1, 28)]
    set_firm_settings(ledger, holidays="none", closure_dates=["2027-01-28", "2026-12-28",
                                                              "2026-12-29"])
    settings = firm_settings(ledger)
    assert (settings["holidays"], settings["closure_dates"]) == (
        "none", ["2026-12-28", "2026-12-29", "2027-01-28"])
    assert due() == [date(2026, 12, 30), date(2027, 1, 29)]
    set_firm_settings(ledger, holidays="us-ny", closure_dates="")
    assert firm_settings(ledger)["holidays"] == "US-NY"
    assert firm_settings(ledger)["closure_dates"] is None
    assert due() == [date(2026, 12, 28), date(2027, 1, 28)]
    set_firm_settings(ledger, holidays="")  # back to the country's and region's
    assert firm_settings(ledger)["holidays"] is None
    assert due()[0] == date(2026, 12, 29)
    with pytest.raises(InputError, match="GB has no subdivision 'Kent'"):
        set_firm_settings(ledger, holidays="GB-Kent")
    with pytest.raises(InputError, match="'next Friday' is not a date"):
        set_firm_settings(ledger, closure_dates=["next Friday"])
    assert firm_settings(ledger)["holidays"] is None  # nothing changed


def test_firm_edit_on_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from billxl.cli.commands import app
    from billxl.store.ledger import Ledger
    from tests.conftest import FIRM

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger.create(url, firm=FIRM, actor="test").dispose()
    monkeypatch.setenv("BILLXL_LEDGER", url)
    runner = CliRunner()
    done = runner.invoke(app, ["firm", "edit", "--holidays", "gb-sct",
                               "--closure-dates", "2026-12-31, 2026-12-24"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["firm", "show"]).output
    assert "holidays: GB-SCT" in shown and "closure_dates: 2026-12-24, 2026-12-31" in shown
    bad = runner.invoke(app, ["firm", "edit", "--holidays", "Atlantis"])
    assert bad.exit_code != 0 and "'Atlantis' is not a country" in " ".join(bad.output.split())
