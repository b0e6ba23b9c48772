"""When a site is open: weekly opening hours, its own closures (an .ics) and public holidays.

After-hours waste and the slower off-hours cadence both ask the same question, so it is
answered here once. A closure is a whole local day: an all-day event of the site's iCalendar
file (school holidays, `DTEND` exclusive as RFC 5545 says), or a public holiday of the
site's country (the `holidays` package).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import holidays
import icalendar

from sobriety.config.load import SiteConfig
from sobriety.errors import ConfigError, ConfigProblem

MAX_CLOSURE_DAYS = 400  # one event longer than this is a mistake in the file, not a holiday


def read_closures(path: Path) -> frozenset[date]:
    """Days covered by the events of an iCalendar file; ConfigError if it cannot be read."""
    try:
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            [ConfigProblem(str(path), "-", "-", f"not a readable .ics: {exc}")]
        ) from None
    days: set[date] = set()
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is None:
            continue
        first = _day(start.dt)
        end = event.get("DTEND")
        last = _day(end.dt) if end is not None else first + timedelta(days=1)
        if isinstance(start.dt, datetime) and end is not None and isinstance(end.dt, datetime):
            last = _day(end.dt) + timedelta(days=1)  # a timed closure closes the whole day
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


@lru_cache(maxsize=64)
def _public(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


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
        """A closure of the site's own calendar, or a public holiday of its country."""
        if day in self.closures:
            return True
        country = self.site.country
        return bool(self.site.public_holidays and country and day in _public(country, day.year))

    def state(self, at: datetime) -> str:
        """`open`, `after_hours` (outside the weekly hours) or `holiday` at an aware time."""
        local = at.astimezone(self.site.zone)
        if self.holiday(local.date()):
            return "holiday"
        return "open" if self.site.is_open(at) else "after_hours"

    def is_open(self, at: datetime) -> bool:
        return self.state(at) == "open"
