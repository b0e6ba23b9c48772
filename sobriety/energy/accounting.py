"""Energy accounting: readings integrated to joules, then to carbon and cost, per device,
class and site, with what was used outside opening hours.

Each poll gives a device at most one `PowerReading` (`sobriety.energy.choose`). Between two
readings of a chain (a device, a device a controller manages, the unattributed load behind a
feeder) the energy is the trapezoid (w1 + w2) / 2 × dt, booked to the newer reading's source
and basis, to the site and class, and to the site's state at the middle of the interval
(open, after hours, holiday). Readings further apart than `max_gap` are a gap: nothing is
made up, the gap is counted. Totals are kept in SQLite, so restarts and device reboots lose
nothing, and a restart shorter than `max_gap` is integrated across.

Feeders (a PDU inlet, a UPS output) measure what their loads use. The loads declared on a
feeder (`outlet`/`outlets` on it, `fed_by` it) are counted at themselves; what the feeder
measures beyond them is booked once, at the feeder, as its `unattributed` load: site totals
then equal what the site's feeders measure plus the devices no feeder sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sobriety.config.load import Config, TargetConfig
from sobriety.energy.choose import Context, choose, device_model
from sobriety.energy.classes import DeviceClass
from sobriety.energy.models import estimate
from sobriety.energy.readings import MEASURED, Fleet, PowerReading, values
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.energy.sitesums import SiteSums
from sobriety.energy.ups import output as ups_output
from sobriety.energy.ups import shipped_efficiency
from sobriety.model import CollectResult, Sample
from sobriety.store import EnergyAmount, EnergyDay, EnergyKey, EnergyLast, EnergyRow, StateStore

JOULES_PER_KWH = 3.6e6
PERIODS = ("open", "after_hours", "holiday")
UNATTRIBUTED = "unattributed"  # the device part and the class of a feeder's remainder
# The class a managed device of each kind is booked in, unless its controller says otherwise.
MANAGED_CLASSES = {"ap": "wifi_ap_enterprise"}


@dataclass(slots=True)
class Totals:
    """What one key has used so far."""

    joules: float = 0.0
    by_period: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PERIODS, 0.0))
    gco2e: float = 0.0
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class Current:
    """A chain's reading now, for the site's power and for other devices to look at."""

    at: float
    reading: PowerReading
    site: str
    target: str  # the chain's target (a chain id is the target's, or target/device)


@dataclass(frozen=True, slots=True)
class Chain:
    """What is integrated: a target, or a part of one (`device`), in a site and class."""

    target: str
    device: str
    site: str
    device_class: str

    @property
    def id(self) -> str:
        return f"{self.target}/{self.device}" if self.device else self.target


class EnergyTracker:
    """Turns each poll into readings, integrates them and keeps every total."""

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
        self.totals: dict[EnergyKey, Totals] = {}
        self.by_target: dict[str, dict[EnergyKey, Totals]] = {}  # the same, indexed
        self.last: dict[str, EnergyLast] = dict(store.energy_last())
        self.gaps: dict[str, int] = {t: last.gaps for t, last in self.last.items()}
        self.counters: dict[str, float] = {}  # last outlet energy counter per fed device
        self.current: dict[str, Current] = {}  # chain id -> its reading now
        self.delivered: dict[str, tuple[float, float]] = {}  # feeder -> (at, watts delivered)
        self.polled: set[str] = set()  # targets observed since start
        self.managed_of: dict[str, set[str]] = {}  # controller -> devices it manages
        self.started = now().timestamp()
        self.sums = SiteSums()  # site series, kept as bookings are made
        for row in store.energy_rows():
            t = self._totals(row.key)
            t.joules, t.gco2e, t.cost = row.joules, row.gco2e, row.cost
            t.by_period = dict(zip(PERIODS, row.periods, strict=True))
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
        self.fleet = Fleet.of(config.targets)
        self.targets = self.fleet.targets
        loads: dict[str, list[TargetConfig]] = {}
        for target in config.targets:
            if target.disabled or target.disposed:
                continue
            for feeder in target.feeders:
                loads.setdefault(feeder, []).append(target)
        self.loads = {k: tuple(v) for k, v in loads.items()}
        self.context = Context(self.fleet, self.feeder, self.booked, self.class_named)
        self.max_gaps = {tid: self.max_gap(t) for tid, t in self.targets.items()}
        self._class_of: dict[str, tuple[TargetConfig, DeviceClass | None]] = {}
        self.sums.rebuild(self.totals, classes)

    def class_of(self, target: TargetConfig) -> DeviceClass | None:
        """The target's class with its site's and its own figures applied (worked out once
        per configuration and target)."""
        known = self._class_of.get(target.id)
        if known is not None and known[0] is target:
            return known[1]
        cls = self.class_named(target.device_class or "", target.site)
        found = cls.with_override(target.power) if cls is not None else None
        self._class_of[target.id] = (target, found)
        return found

    def class_named(self, name: str, site: str | None = None) -> DeviceClass | None:
        """A class by name, with a site's figures applied when a site is given."""
        if name not in self.classes:
            return None
        known = self.config.sites.get(site) if site is not None else None
        overrides = known.classes if known is not None else {}
        return self.classes[name].with_override(overrides.get(name))

    def max_gap(self, target: TargetConfig) -> float:
        return self.config.interval_for(target) * self.config.settings.energy_max_gap_intervals

    def booked(self, chain: str) -> float | None:
        """The watts a chain is booked at now, if its reading is fresh."""
        current = self.current.get(chain)
        return (
            current.reading.watts
            if current is not None and self._fresh(chain, current.at)
            else None
        )

    def _fresh(self, chain: str, at: float, now: float | None = None) -> bool:
        """Whether something seen at `at` of a chain's target is recent enough to count
        (at `now`, POSIX seconds; the clock's time if not given)."""
        gap = self.max_gaps.get(chain.split("/", 1)[0])
        if gap is None:
            return False
        return (self.now().timestamp() if now is None else now) - at <= gap

    # --- each poll -----------------------------------------------------------------------

    def observe(self, result: CollectResult, now: datetime) -> list[Sample]:
        """The poll's samples with the chosen power readings and the energy they make."""
        target = self.targets.get(result.target)
        kept = [s for s in result.samples if s.name != "sobriety_device_power_watts"]
        if target is None:
            return kept
        cls = self.class_of(target)
        reading = choose(target, cls, result.up, result.samples, self.context)
        chain = Chain(target.id, "", target.site, target.device_class or "")
        self._integrate(chain, target, reading, now, self._outlet_counter(target))
        out = kept + self._device_samples(target, reading)
        self.polled.add(target.id)
        if result.up:
            out += self._feeder(target, reading, result.samples, now)
            out += self._managed(target, result.samples, now)
        else:  # what it measured or managed is unknown now: those chains break too
            self._integrate(Chain(target.id, UNATTRIBUTED, target.site, UNATTRIBUTED), target,
                            None, now)  # fmt: skip
            for device in self.managed_of.get(target.id, ()):
                self._integrate(Chain(target.id, device, target.site, ""), target, None, now)
        return out

    def _outlet_counter(self, target: TargetConfig) -> float | None:
        """The energy counter of the one outlet that feeds `target`, where the PDU has one."""
        outlets = target.all_outlets
        if len(outlets) != 1:
            return None
        samples = self.feeder(outlets[0].pdu)
        found = values(
            samples or (), "sobriety_pdu_outlet_energy_joules_total", outlet=outlets[0].outlet
        )
        return found[0] if found else None

    def _integrate(
        self,
        chain: Chain,
        target: TargetConfig,
        reading: PowerReading | None,
        now: datetime,
        counter: float | None = None,
    ) -> None:
        at = now.timestamp()
        cid = chain.id
        last = self.last.get(cid)
        gaps = self.gaps.get(cid, 0)
        previous = self.counters.pop(cid, None)
        if reading is None:
            self.current.pop(cid, None)
            if last is not None and last.at is not None:  # the chain breaks: nothing assumed
                self.last[cid] = EnergyLast(cid, None, None, "", "", gaps)
                self.store.record_energy_last(self.last[cid])
            return
        self.current[cid] = Current(at, reading, chain.site, chain.target)
        if counter is not None:
            self.counters[cid] = counter
        if last is not None and last.at is not None and last.watts is not None:
            dt = at - last.at
            if 0 < dt <= self.max_gap(target):
                joules = (last.watts + reading.watts) / 2 * dt
                # the device's own meter, used directly; a counter that went down was reset
                # (PDU Wh can be): the trapezoid for that step
                if counter is not None and previous is not None and counter >= previous:
                    joules = counter - previous
                middle = datetime.fromtimestamp((last.at + at) / 2, now.tzinfo)
                self._book(chain, reading, joules, middle)
            elif dt > self.max_gap(target):
                gaps += 1
        self.gaps[cid] = gaps
        self.last[cid] = EnergyLast(
            cid, at, reading.watts, reading.source, reading.origin, gaps, reading.basis
        )
        self.store.record_energy_last(self.last[cid])

    def _totals(self, key: EnergyKey) -> Totals:
        found = self.totals.get(key)
        if found is None:
            found = self.totals[key] = Totals()
            self.by_target.setdefault(key.target, {})[key] = found
        return found

    def _book(self, chain: Chain, reading: PowerReading, joules: float, at: datetime) -> None:
        if joules <= 0:
            return
        site = self.config.sites[chain.site]
        calendar = self.calendars.get(chain.site) or SiteCalendar(site)
        period = calendar.state(at)
        key = EnergyKey(chain.target, chain.device, chain.site, chain.device_class,
                        reading.source, reading.basis)  # fmt: skip
        totals = self._totals(key)
        kwh = joules / JOULES_PER_KWH
        grams, euros = kwh * site.grid_gco2e_per_kwh, kwh * site.price_per_kwh
        totals.joules += joules
        totals.by_period[period] += joules
        totals.gco2e += grams
        totals.cost += euros
        self.sums.book(key, period, (joules, grams, euros), self.classes)
        day = at.astimezone(site.zone).date().isoformat()
        shares = tuple(joules if p == period else 0.0 for p in PERIODS)
        booked = EnergyAmount(joules, (shares[0], shares[1], shares[2]), grams, euros)
        self.store.add_energy_day(EnergyDay(day, key, booked))
        by = totals.by_period
        self.store.record_energy(
            EnergyRow(
                key,
                EnergyAmount(
                    totals.joules,
                    (by["open"], by["after_hours"], by["holiday"]),
                    totals.gco2e,
                    totals.cost,
                ),
            )
        )

    def _device_samples(self, target: TargetConfig, reading: PowerReading | None) -> list[Sample]:
        tid = {"target": target.id}
        energy: dict[tuple[str, str], float] = {}
        for key, t in self.by_target.get(target.id, {}).items():
            if not key.device:
                pair = (key.source, key.basis)
                energy[pair] = energy.get(pair, 0.0) + t.joules
        out = [
            Sample("sobriety_device_energy_joules_total", {**tid, "source": s, "basis": b}, j)
            for (s, b), j in sorted(energy.items())
        ]
        out.append(Sample("sobriety_energy_gaps_total", tid, float(self.gaps.get(target.id, 0))))
        if reading is None:
            return out
        labels = {**tid, "source": reading.source, "origin": reading.origin,
                  "basis": reading.basis}  # fmt: skip
        out.append(Sample("sobriety_device_power_watts", labels, reading.watts))
        out.append(Sample("sobriety_device_power_band_watts", {**tid, "bound": "low"}, reading.low))
        out.append(
            Sample("sobriety_device_power_band_watts", {**tid, "bound": "high"}, reading.high)
        )
        return out

    # --- feeders -------------------------------------------------------------------------

    def _feeder(
        self,
        target: TargetConfig,
        own: PowerReading | None,
        samples: Sequence[Sample],
        now: datetime,
    ) -> list[Sample]:
        """A feeder's unattributed load: what it delivers less the loads declared on it."""
        delivered = delivered_power(samples, own)
        if delivered is None:
            return []
        watts, source, basis = delivered
        at = now.timestamp()
        self.delivered[target.id] = (at, watts)
        loads = self.loads.get(target.id, ())
        waiting = [load.id for load in loads if load.id not in self.polled]
        if waiting and at - self.started <= self.max_gap(target):
            return []  # loads not polled yet since start: their share is not known yet
        low = high = watts
        for load in loads:
            lo, hi = self._contribution(load, target, samples)
            low, high = low - hi, high - lo
        middle = (low + high) / 2
        over = middle < 0
        reading = PowerReading(max(middle, 0.0), source, "feeder-unattributed", max(low, 0.0),
                               max(high, 0.0), basis)  # fmt: skip
        chain = Chain(target.id, UNATTRIBUTED, target.site, UNATTRIBUTED)
        self._integrate(chain, target, reading, now)
        tid = {"target": target.id}
        energy: dict[str, float] = {}
        for key, t in self.by_target.get(target.id, {}).items():
            if key.device == UNATTRIBUTED:
                energy[key.source] = energy.get(key.source, 0.0) + t.joules
        return [
            Sample(
                "sobriety_feeder_unattributed_power_watts", {**tid, "source": source}, reading.watts
            ),
            Sample(
                "sobriety_feeder_unattributed_power_band_watts",
                {**tid, "bound": "low"},
                reading.low,
            ),
            Sample(
                "sobriety_feeder_unattributed_power_band_watts",
                {**tid, "bound": "high"},
                reading.high,
            ),
            Sample("sobriety_feeder_overcommitted", tid, 1.0 if over else 0.0),
            *(
                Sample("sobriety_feeder_unattributed_energy_joules_total", {**tid, "source": s}, j)
                for s, j in sorted(energy.items())
            ),
        ]

    def _contribution(
        self, load: TargetConfig, feeder: TargetConfig, samples: Sequence[Sample]
    ) -> tuple[float, float]:
        """What a load takes from this feeder now, as (low, high) watts.

        Through outlets of this PDU: what those outlets measure. Else its own reading plus
        what it delivers if it feeds others itself (a PDU behind a UPS: its inlet), shared
        equally among its feeders. A load with no fresh reading takes nothing here: its
        draw stays in the feeder's remainder, which measured it.
        """
        mine = [o for o in load.all_outlets if o.pdu == feeder.id]
        if mine:
            watts = sum(
                sum(values(samples, "sobriety_pdu_outlet_power_watts", outlet=o.outlet))
                for o in mine
            )
            return watts, watts
        current = self.current.get(load.id)
        if current is None or not self._fresh(load.id, current.at):
            return 0.0, 0.0
        share = 1 / max(len(load.fed_by), 1)
        passed = self.delivered.get(load.id)
        through = passed[1] if passed is not None and self._fresh(load.id, passed[0]) else 0.0
        r = current.reading
        return (r.low + through) * share, (r.high + through) * share

    # --- managed devices -----------------------------------------------------------------

    def _managed(
        self, target: TargetConfig, samples: Sequence[Sample], now: datetime
    ) -> list[Sample]:
        """Devices a controller manages (Wi-Fi APs), each booked as its own device."""
        infos = [s for s in samples if s.name == "sobriety_managed_device_info"]
        if not infos:
            return []
        me = next((s.labels for s in samples if s.name == "sobriety_device_info"), {})
        itself = controller_itself(infos, me)
        up = {
            s.labels.get("device", ""): s.value
            for s in samples
            if s.name == "sobriety_managed_device_up"
        }
        out: list[Sample] = []
        seen = self.managed_of.setdefault(target.id, set())
        for info in infos:
            device = info.labels.get("device", "")
            if not device or device == itself:
                continue
            seen.add(device)
            name = MANAGED_CLASSES.get(info.labels.get("kind", ""), "")
            cls = self.class_named(name, target.site)
            reading = None
            if cls is not None and up.get(device, 1.0) == 1.0:
                reading = estimate(cls, name, ())
            chain = Chain(target.id, device, target.site, name)
            self._integrate(chain, target, reading, now)
            out += self._managed_samples(target.id, device, reading)
        return out

    def _managed_samples(
        self, target: str, device: str, reading: PowerReading | None
    ) -> list[Sample]:
        labels = {"target": target, "device": device}
        energy: dict[tuple[str, str], float] = {}
        for key, t in self.by_target.get(target, {}).items():
            if key.device == device:
                pair = (key.source, key.basis)
                energy[pair] = energy.get(pair, 0.0) + t.joules
        out = [
            Sample(
                "sobriety_managed_device_energy_joules_total",
                {**labels, "source": s, "basis": b},
                j,
            )
            for (s, b), j in sorted(energy.items())
        ]
        if reading is not None:
            out.append(
                Sample(
                    "sobriety_managed_device_power_watts",
                    {
                        **labels,
                        "source": reading.source,
                        "origin": reading.origin,
                        "basis": reading.basis,
                    },
                    reading.watts,
                )
            )
        return out

    # --- site totals ---------------------------------------------------------------------

    def site_samples(self) -> list[Sample]:
        """Per site and class: energy by source, carbon, cost, waste; each site's power now."""
        sums = self.sums  # copies: scrapes run in a worker thread
        energy, carbon, cost, waste = (dict(sums.energy), dict(sums.carbon), dict(sums.cost),
                                       dict(sums.waste))  # fmt: skip
        now = self.now()
        at = self.site_labels
        out = [
            Sample("sobriety_site_open", at(name), 1.0 if cal.is_open(now) else 0.0)
            for name, cal in sorted(self.calendars.items())
        ]
        out += [
            Sample("sobriety_site_energy_joules_total", {**at(s), "class": c, "source": src}, j)
            for (s, c, src), j in sorted(energy.items())
        ]
        out += [
            Sample("sobriety_site_carbon_grams_total", {**at(s), "class": c}, g)
            for (s, c), g in sorted(carbon.items())
        ]
        out += [
            Sample("sobriety_site_cost_euros_total", {**at(s), "class": c}, e)
            for (s, c), e in sorted(cost.items())
        ]
        for (site_id, cls_name, period, source), (j, g, e) in sorted(waste.items()):
            labels = {**at(site_id), "class": cls_name, "period": period, "source": source}
            out.append(Sample("sobriety_site_waste_energy_joules_total", labels, j))
            out.append(Sample("sobriety_site_waste_carbon_grams_total", labels, g))
            out.append(Sample("sobriety_site_waste_cost_euros_total", labels, e))
        out += self._site_power()
        out += self._shares(energy, carbon, cost)
        return out

    def site_labels(self, site: str) -> dict[str, str]:
        """A site series' place labels: the site, and its owner when one is configured."""
        known = self.config.sites.get(site)
        owner = known.organisation if known is not None else None
        return {"site": site, "organisation": owner} if owner else {"site": site}

    def _shares(
        self,
        energy: Mapping[tuple[str, str, str], float],
        carbon: Mapping[tuple[str, str], float],
        cost: Mapping[tuple[str, str], float],
    ) -> list[Sample]:
        """Each site's totals split by its keys (a shared room's, or all to its owner)."""
        by_source: dict[tuple[str, str], float] = {}
        for (site, _, source), joules in energy.items():
            by_source[(site, source)] = by_source.get((site, source), 0.0) + joules
        grams: dict[str, float] = {}
        euros: dict[str, float] = {}
        for (site, _), g in carbon.items():
            grams[site] = grams.get(site, 0.0) + g
        for (site, _), e in cost.items():
            euros[site] = euros.get(site, 0.0) + e
        out: list[Sample] = []
        for site_id, place in sorted(self.config.sites.items()):
            for org, key in sorted(place.keys().items()):
                who = {"site": site_id, "organisation": org}
                out.append(Sample("sobriety_site_share_ratio", who, key))
                out += [
                    Sample("sobriety_site_share_energy_joules_total", {**who, "source": src},
                           joules * key)
                    for (s, src), joules in sorted(by_source.items()) if s == site_id
                ]  # fmt: skip
                if site_id in grams:
                    out.append(
                        Sample("sobriety_site_share_carbon_grams_total", who, grams[site_id] * key)
                    )
                if site_id in euros:
                    out.append(
                        Sample("sobriety_site_share_cost_euros_total", who, euros[site_id] * key)
                    )
        return out

    def _site_power(self) -> list[Sample]:
        """Each site's power now, from the fresh reading of every chain in it."""
        power: dict[tuple[str, str], float] = {}
        now = self.now().timestamp()  # once for every chain
        for current in list(self.current.values()):
            if not self._fresh(current.target, current.at, now):
                continue
            key = (current.site, current.reading.source)
            power[key] = power.get(key, 0.0) + current.reading.watts
        return [
            Sample("sobriety_site_power_watts", {**self.site_labels(site), "source": source}, watts)
            for (site, source), watts in sorted(power.items())
        ]


def delivered_power(
    samples: Sequence[Sample], own: PowerReading | None
) -> tuple[float, str, str] | None:
    """What a feeder delivers to its loads now, with its source and basis; None if it is
    not a feeder. A UPS's measured output, a PDU's inlet less the PDU's own draw, else a
    UPS's load ratio × rating (an estimate)."""
    measured = values(samples, "sobriety_ups_output_power_watts")
    if measured and all(w >= 0 for w in measured):
        return sum(measured), MEASURED, "measured"
    inlets = values(samples, "sobriety_pdu_input_power_watts")
    if inlets:
        mine = own.watts if own is not None else 0.0
        return max(sum(inlets) - mine, 0.0), MEASURED, "measured"
    derived = ups_output(samples, device_model(samples), shipped_efficiency())
    if derived is not None:
        return derived.watts, "estimated", "state"
    return None


def controller_itself(infos: Sequence[Sample], me: Mapping[str, str]) -> str | None:
    """The managed device that is the controller (an Aruba Instant conductor is one of its
    own APs): same serial, else same name, else the only one of the controller's model."""
    for key in ("serial", "name"):
        mine = me.get(key, "")
        if mine:
            same = [i.labels.get("device") for i in infos if i.labels.get(key) == mine]
            if len(same) == 1:
                return same[0]
    model = me.get("model", "")
    same = [i.labels.get("device") for i in infos if model and i.labels.get("model") == model]
    return same[0] if len(same) == 1 else None
