"""When a site is open: weekly opening hours, its own closures (an .ics), school holidays and
public holidays.

After-hours waste and the slower off-hours cadence both ask the same question, so it is
answered here once. A closure is a whole local day: an event of the site's iCalendar file
(`DTEND` exclusive as RFC 5545 says; recurring events (RRULE, RDATE, EXDATE) expanded by
`recurring-ical-events`), a school holiday of the site's French school zone, or a public
holiday of the site's country and subdivision (both from the `holidays` package). A site
open round the clock (`always_open`, a server room) is never closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import holidays

from sobriety.config.load import SiteConfig
from sobriety.errors import ConfigError, ConfigProblem

MAX_CLOSURE_DAYS = 400  # one event longer than this is a mistake in the file, not a holiday


# How far recurring closures are expanded: a school year either side of now is plenty, and
# an endless RRULE (no UNTIL, no COUNT) stays bounded.
EXPAND_FROM, EXPAND_TO = date(2000, 1, 1), date(2100, 1, 1)


def read_closures(path: Path) -> frozenset[date]:
    """Days covered by the events of an iCalendar file; ConfigError if it cannot be read."""
    # imported here: with their own imports they weigh 3.4 MiB of RSS (the daemon at start,
    # 84.8 -> 81.4 MiB), which a daemon whose sites name no iCalendar file need not carry
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        events = recurring_ical_events.of(calendar).between(EXPAND_FROM, EXPAND_TO)
    except KeyError as exc:  # recurring-ical-events on an event without DTSTART
        raise ConfigError(
            [ConfigProblem(str(path), "-", str(exc.args[0]), "an event has none")]
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            [ConfigProblem(str(path), "-", "-", f"not a readable .ics: {exc}")]
        ) from None
    days: set[date] = set()
    for event in events:
        # recurring-ical-events gives each occurrence a DTSTART and a DTEND of one type (from
        # DURATION, or RFC 5545's default: one day for a date), so both are always there
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        first, last = _day(start), _day(end)
        if isinstance(end, datetime) and (end.time() != time(0) or last == first):
            last += timedelta(days=1)  # a timed closure closes each whole day it touches
        span = (last - first).days
        if span <= 0 or span > MAX_CLOSURE_DAYS:
            where = str(event.get("SUMMARY", first))
            raise ConfigError(
                [ConfigProblem(str(path), f"event {where}", "DTEND", f"spans {span} days")]
            )
        days.update(first + timedelta(days=i) for i in range(span))
    return frozenset(days)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@lru_cache(maxsize=256)
def _public(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
    except NotImplementedError:
        return frozenset()


@lru_cache(maxsize=64)
def _school(zone: str, year: int) -> frozenset[date]:
    """French school holidays of a zone (A, B or C) in a year, from the holidays package."""
    days = holidays.country_holidays(
        "FR", subdiv=f"Zone {zone}", years=year, categories=("school",)
    )
    return frozenset(days)


class SiteCalendar:
    """Opening hours and closures of one site."""

    def __init__(self, site: SiteConfig, closures: Iterable[date] = ()) -> None:
        self.site = site
        self.closures = frozenset(closures)

    @classmethod
    def load(cls, site: SiteConfig) -> SiteCalendar:
        """The site's calendar, its .ics read now (ConfigError names the file)."""
        closures = read_closures(site.holidays_ics) if site.holidays_ics else frozenset()
        return cls(site, closures)

    def holiday(self, day: date) -> bool:
        """A closure of the site's own calendar, a school holiday of its zone, or a public
        holiday of its country (and subdivision)."""
        site = self.site
        if day in self.closures:
            return True
        if site.school_zone is not None and day in _school(site.school_zone, day.year):
            return True
        country = site.country
        return bool(
            site.public_holidays and country and day in _public(country, site.subdivision, day.year)
        )

    def state(self, at: datetime) -> str:
        """`open`, `after_hours` (outside the weekly hours) or `holiday` at an aware time."""
        if self.site.always_open:
            return "open"
        local = at.astimezone(self.site.zone)
        if self.holiday(local.date()):
            return "holiday"
        return "open" if self.site.is_open(at) else "after_hours"

    def is_open(self, at: datetime) -> bool:
        return self.state(at) == "open"
