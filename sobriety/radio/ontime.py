"""How long each radio was on, during teaching and outside it, by the site's calendar.

Between two observations of a radio, the interval is booked as on when both say on, half of
it when one says on and the other off (the change happened somewhere in between), and not
at all when either is unknown or when they are further apart than `max_gap` (a gap is not
filled). The booked time is split exactly where the site's calendar changes (teaching:
the calendar says open; outside: after hours and closed days), to the minute: opening hours
and days change on whole local minutes. Totals and per-day amounts are kept in the store,
so a restart loses nothing and a restart shorter than `max_gap` is integrated across.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.store import RadioDay, RadioRow, StateStore

PERIODS = ("teaching", "outside")
MINUTE = 60.0


@dataclass(slots=True)
class OnTime:
    """One radio's totals and last observation."""

    site: str
    teaching_s: float = 0.0
    outside_s: float = 0.0
    at: float | None = None
    state: bool | None = None

    def by_period(self) -> dict[str, float]:
        return {"teaching": self.teaching_s, "outside": self.outside_s}


def weight(before: bool | None, after: bool | None) -> float:
    """The share of an interval booked as on, from its two ends."""
    if before is None or after is None:
        return 0.0
    return (float(before) + float(after)) / 2.0


def segments(calendar: SiteCalendar, start: float, end: float) -> list[tuple[float, str, str]]:
    """`(seconds, period, local day)` pieces of [start, end], split where the calendar's
    period or the local day changes (checked at every whole minute in between)."""
    zone = calendar.site.zone
    out: list[tuple[float, str, str]] = []
    at = start
    while at < end:
        nxt = min(end, math.floor(at / MINUTE) * MINUTE + MINUTE)
        moment = datetime.fromtimestamp(at, UTC)
        period = "teaching" if calendar.state(moment) == "open" else "outside"
        day = moment.astimezone(zone).date().isoformat()
        if out and out[-1][1] == period and out[-1][2] == day:
            seconds, _, _ = out[-1]
            out[-1] = (seconds + nxt - at, period, day)
        else:
            out.append((nxt - at, period, day))
        at = nxt
    return out


class OnTimeTracker:
    """Every radio's on-time, loaded from and written to the store."""

    def __init__(self, store: StateStore, calendars: Callable[[str], SiteCalendar]) -> None:
        self.store = store
        self.calendar = calendars
        self.radios: dict[tuple[str, str], OnTime] = {}
        self._cached: tuple[tuple[str, float, float], list[tuple[float, str, str]]] | None = None
        for row in store.radio_rows():
            self.radios[(row.target, row.radio)] = OnTime(
                row.site, row.teaching_s, row.outside_s, row.at, row.state
            )

    def observe(
        self, target: str, radio: str, site: str, state: bool | None, at: float, max_gap: float
    ) -> OnTime:
        """Book the interval since the radio's last observation; remember this one."""
        known = self.radios.get((target, radio))
        if known is None:
            known = self.radios[(target, radio)] = OnTime(site)
        known.site = site
        if known.at is not None and 0 < at - known.at <= max_gap:
            share = weight(known.state, state)
            if share > 0:
                self._book(target, radio, known, known.at, at, share)
        known.at, known.state = at, state
        return known

    def _book(self, target: str, radio: str, known: OnTime, start: float, end: float,
              share: float) -> None:  # fmt: skip
        key = (known.site, start, end)
        if self._cached is None or self._cached[0] != key:  # the radios of one poll share it
            self._cached = (key, segments(self.calendar(known.site), start, end))
        for seconds, period, day in self._cached[1]:
            booked = seconds * share
            teaching = booked if period == "teaching" else 0.0
            outside = booked - teaching
            known.teaching_s += teaching
            known.outside_s += outside
            self.store.add_radio_day(RadioDay(day, target, radio, known.site, teaching, outside))

    def save(self, target: str, radio: str, facts: str | None) -> None:
        """Queue the radio's row (totals, last state, the indicator's facts; None: the
        facts saved before still hold)."""
        known = self.radios[(target, radio)]
        self.store.record_radio(
            RadioRow(target, radio, known.site, known.teaching_s, known.outside_s, known.at,
                     known.state, facts)
        )  # fmt: skip
