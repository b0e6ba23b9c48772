"""Energy accounting: readings integrated to joules, then to carbon and cost, per device,
class and site, with what was used outside opening hours.

Each poll gives a device at most one `PowerReading` (`sobriety.energy.readings`). Between two
readings the energy is the trapezoid (w1 + w2) / 2 × dt, booked to the newer reading's source,
to the site and class the device has, and to the site's state at the middle of the interval
(open, after hours, holiday). Readings further apart than `max_gap` are a gap: nothing is made up,
the gap is counted. Totals are kept in SQLite, so restarts and device reboots lose nothing,
and a restart shorter than `max_gap` is integrated across.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sobriety.config.load import Config, TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.energy.readings import PowerReading, choose, values
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.model import CollectResult, Sample
from sobriety.store import EnergyDay, EnergyLast, EnergyRow, StateStore

JOULES_PER_KWH = 3.6e6
PERIODS = ("open", "after_hours", "holiday")


@dataclass(slots=True)
class Totals:
    """What one (target, site, class, source) has used so far."""

    joules: float = 0.0
    by_period: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PERIODS, 0.0))
    gco2e: float = 0.0
    cost: float = 0.0


class EnergyTracker:
    """Turns each poll into a reading, integrates it and keeps every total."""

    def __init__(
        self,
        config: Config,
        classes: Mapping[str, DeviceClass],
        calendars: Mapping[str, SiteCalendar],
        store: StateStore,
        feeder: Callable[[str], Sequence[Sample] | None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.now = now
        self.feeder = feeder
        self.totals: dict[tuple[str, str, str, str], Totals] = {}
        self.last: dict[str, EnergyLast] = dict(store.energy_last())
        self.gaps: dict[str, int] = {t: last.gaps for t, last in self.last.items()}
        self.counters: dict[str, float] = {}  # last outlet energy counter per fed device
        for row in store.energy_rows():
            self.totals[(row.target, row.site, row.device_class, row.source)] = Totals(
                row.joules, dict(zip(PERIODS, row.periods, strict=True)), row.gco2e, row.cost
            )
        self.configure(config, classes, calendars)

    def configure(
        self,
        config: Config,
        classes: Mapping[str, DeviceClass],
        calendars: Mapping[str, SiteCalendar],
    ) -> None:
        """Take a (re)loaded configuration; totals and last readings are kept."""
        self.config = config
        self.classes = classes
        self.calendars = calendars
        self.targets = {t.id: t for t in config.targets}
        self.powered = {t.id: t for t in config.targets if t.poe is not None}

    def class_of(self, target: TargetConfig) -> DeviceClass | None:
        """The target's class with its site's and its own figures applied."""
        name = target.device_class
        if name is None or name not in self.classes:
            return None
        site = self.config.sites[target.site]
        cls = self.classes[name].with_override(site.classes.get(name))
        return cls.with_override(target.power)

    def max_gap(self, target: TargetConfig) -> float:
        return self.config.interval_for(target) * self.config.settings.energy_max_gap_intervals

    # --- each poll -----------------------------------------------------------------------

    def observe(self, result: CollectResult, now: datetime) -> list[Sample]:
        """The poll's samples with the chosen power reading and the device's energy."""
        target = self.targets.get(result.target)
        kept = [s for s in result.samples if s.name != "sobriety_device_power_watts"]
        if target is None:
            return kept
        reading = choose(
            target, self.class_of(target), result.up, result.samples, self.feeder, self.powered
        )
        self._integrate(target, reading, now, self._outlet_counter(target))
        return kept + self._device_samples(target, reading)

    def _outlet_counter(self, target: TargetConfig) -> float | None:
        """The energy counter of the outlet that feeds `target`, where the PDU has one."""
        if target.outlet is None:
            return None
        samples = self.feeder(target.outlet.pdu)
        found = values(
            samples or (), "sobriety_pdu_outlet_energy_joules_total", outlet=target.outlet.outlet
        )
        return found[0] if found else None

    def _integrate(
        self,
        target: TargetConfig,
        reading: PowerReading | None,
        now: datetime,
        counter: float | None = None,
    ) -> None:
        at = now.timestamp()
        last = self.last.get(target.id)
        gaps = self.gaps.get(target.id, 0)
        previous = self.counters.pop(target.id, None)
        if reading is None:
            if last is not None:  # the chain breaks; nothing is assumed for the silence
                self.last[target.id] = EnergyLast(target.id, None, None, "", "", gaps)
                self.store.record_energy_last(self.last[target.id])
            return
        if counter is not None:
            self.counters[target.id] = counter
        if last is not None and last.at is not None and last.watts is not None:
            dt = at - last.at
            if 0 < dt <= self.max_gap(target):
                joules = (last.watts + reading.watts) / 2 * dt
                if counter is not None and previous is not None and counter >= previous:
                    joules = counter - previous  # the device's own meter, used directly
                # a counter that went down was reset (PDU Wh can be): trapezoid for that step
                middle = datetime.fromtimestamp((last.at + at) / 2, now.tzinfo)
                self._book(target, reading.source, joules, middle)
            elif dt > self.max_gap(target):
                gaps += 1
        self.gaps[target.id] = gaps
        self.last[target.id] = EnergyLast(
            target.id, at, reading.watts, reading.source, reading.origin, gaps
        )
        self.store.record_energy_last(self.last[target.id])

    def _book(self, target: TargetConfig, source: str, joules: float, at: datetime) -> None:
        if joules <= 0:
            return
        site = self.config.sites[target.site]
        calendar = self.calendars.get(target.site) or SiteCalendar(site)
        period = calendar.state(at)
        key = (target.id, target.site, target.device_class or "", source)
        totals = self.totals.setdefault(key, Totals())
        kwh = joules / JOULES_PER_KWH
        totals.joules += joules
        totals.by_period[period] += joules
        totals.gco2e += kwh * site.grid_gco2e_per_kwh
        totals.cost += kwh * site.price_per_kwh
        day = at.astimezone(site.zone).date().isoformat()
        periods = tuple(joules if p == period else 0.0 for p in PERIODS)
        self.store.add_energy_day(
            EnergyDay(
                day,
                *key,
                joules,
                (periods[0], periods[1], periods[2]),
                kwh * site.grid_gco2e_per_kwh,
                kwh * site.price_per_kwh,
            )
        )
        self.store.record_energy(
            EnergyRow(
                key[0],
                key[1],
                key[2],
                key[3],
                totals.joules,
                (
                    totals.by_period["open"],
                    totals.by_period["after_hours"],
                    totals.by_period["holiday"],
                ),
                totals.gco2e,
                totals.cost,
            )
        )

    def _device_samples(self, target: TargetConfig, reading: PowerReading | None) -> list[Sample]:
        tid = {"target": target.id}
        out = [
            Sample("sobriety_device_energy_joules_total", {**tid, "source": source}, t.joules)
            for (tgt, _site, _cls, source), t in sorted(self.totals.items())
            if tgt == target.id
        ]
        out.append(Sample("sobriety_energy_gaps_total", tid, float(self.gaps.get(target.id, 0))))
        if reading is None:
            return out
        labels = {**tid, "source": reading.source, "origin": reading.origin}
        out.append(Sample("sobriety_device_power_watts", labels, reading.watts))
        out.append(Sample("sobriety_device_power_band_watts", {**tid, "bound": "low"}, reading.low))
        out.append(
            Sample("sobriety_device_power_band_watts", {**tid, "bound": "high"}, reading.high)
        )
        return out

    # --- site totals ---------------------------------------------------------------------

    def site_samples(self) -> list[Sample]:
        """Per site and class: energy by source, carbon, cost, and after-hours waste."""
        energy: dict[tuple[str, str, str], float] = {}
        carbon: dict[tuple[str, str], float] = {}
        cost: dict[tuple[str, str], float] = {}
        waste: dict[tuple[str, str, str], tuple[float, float, float]] = {}
        for (_target, site, cls, source), t in self.totals.items():
            energy[(site, cls, source)] = energy.get((site, cls, source), 0.0) + t.joules
            carbon[(site, cls)] = carbon.get((site, cls), 0.0) + t.gco2e
            cost[(site, cls)] = cost.get((site, cls), 0.0) + t.cost
            known = self.classes.get(cls)
            if known is None or not known.can_be_off or t.joules <= 0:
                continue
            for period in ("after_hours", "holiday"):
                share = t.by_period[period] / t.joules
                j, g, c = waste.get((site, cls, period), (0.0, 0.0, 0.0))
                waste[(site, cls, period)] = (
                    j + t.by_period[period],
                    g + t.gco2e * share,
                    c + t.cost * share,
                )
        now = self.now()
        out = [
            Sample("sobriety_site_open", {"site": name}, 1.0 if cal.is_open(now) else 0.0)
            for name, cal in sorted(self.calendars.items())
        ]
        out += [
            Sample("sobriety_site_energy_joules_total", {"site": s, "class": c, "source": src}, j)
            for (s, c, src), j in sorted(energy.items())
        ]
        out += [
            Sample("sobriety_site_carbon_grams_total", {"site": s, "class": c}, g)
            for (s, c), g in sorted(carbon.items())
        ]
        out += [
            Sample("sobriety_site_cost_euros_total", {"site": s, "class": c}, e)
            for (s, c), e in sorted(cost.items())
        ]
        for (site_id, cls_name, period), (j, g, e) in sorted(waste.items()):
            labels = {"site": site_id, "class": cls_name, "period": period}
            out.append(Sample("sobriety_site_waste_energy_joules_total", labels, j))
            out.append(Sample("sobriety_site_waste_carbon_grams_total", labels, g))
            out.append(Sample("sobriety_site_waste_cost_euros_total", labels, e))
        return out
