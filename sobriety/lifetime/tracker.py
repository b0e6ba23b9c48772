"""Device lifetime: reboots that are not fooled by uptime wraps, power-on time, age, warranty,
expected end of life and embodied carbon.

Reboots. sysUpTime and hrSystemUptime are TimeTicks (1/100 s) and wrap at 2^32 cs, about
497.1 days. A new uptime below the last one is a **wrap** when the last uptime plus the wall
time elapsed comes back to 2^32 cs (within a tolerance of the poll's own slack), else a
**reboot**. snmpEngineBoots going up is a reboot whatever the uptime says. A poll that saw
no uptime (a timeout, an agent without sysUpTime) is never a reboot.

Age, first source that exists: the inventory's purchase or commissioning date, the chassis's
ENTITY-MIB entPhysicalMfgDate, a vendor's manufacture date (APC UPS), else the day sobriety
first saw the device answer; the source is a label. That last one is a lower bound, not an
age: no expected end of life or amortised embodied carbon is derived from it. The expected
end of life uses the class's sourced service life, never its accounting period.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sobriety.config.load import TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.energy.readings import values
from sobriety.model import CollectResult, Sample
from sobriety.store import LifetimeState, StateStore

WRAP_SECONDS = 2**32 / 100  # TimeTicks wrap: 42,949,672.96 s
SECONDS_PER_YEAR = 365.25 * 86_400


@dataclass(frozen=True, slots=True)
class Age:
    """When the device's life started, and which source said so."""

    start: float  # POSIX seconds
    source: str  # inventory | entity_mfg_date | manufacturer | first_seen


def is_wrap(old: float, new: float, elapsed: float, tolerance: float) -> bool:
    """Whether `old` → `new` uptime (seconds) over `elapsed` wall seconds is a 2^32 cs wrap."""
    return new < old and abs(old + elapsed - WRAP_SECONDS - new) <= tolerance


def step(
    state: LifetimeState, uptime: float | None, engine_boots: float | None, at: float,
    tolerance: float,
) -> LifetimeState:  # fmt: skip
    """The lifetime state after one poll that saw `uptime` (or none) and `engine_boots`."""
    boots, power_on = state.boots, state.power_on_seconds
    rebooted = False
    if engine_boots is not None and state.engine_boots is not None:
        rebooted = engine_boots > state.engine_boots
    if uptime is None:  # nothing seen: nothing concluded, the last uptime is kept
        return LifetimeState(
            state.target, state.uptime, state.at, boots, power_on,
            engine_boots if engine_boots is not None else state.engine_boots, state.wraps,
        )  # fmt: skip
    wraps = state.wraps
    if state.uptime is not None and state.at is not None:
        elapsed = max(at - state.at, 0.0)
        if is_wrap(state.uptime, uptime, elapsed, tolerance) and not rebooted:
            wraps += 1
            power_on += min(uptime + WRAP_SECONDS - state.uptime, elapsed + tolerance)
        elif uptime < state.uptime or rebooted:
            rebooted = True
            power_on += min(uptime, elapsed)  # up since the reboot
        else:
            power_on += min(uptime - state.uptime, elapsed + tolerance)
    if rebooted:
        boots += 1
    engine = engine_boots if engine_boots is not None else state.engine_boots
    return LifetimeState(state.target, uptime, at, boots, power_on, engine, wraps)


def chassis_mfg_date(samples: Sequence[Sample]) -> float | None:
    """entPhysicalMfgDate of the (first) chassis or stack entity, if the device gives one."""
    chassis = [
        s.labels.get("entity", "")
        for s in samples
        if s.name == "sobriety_entity_info" and s.labels.get("class") in ("chassis", "stack")
    ]
    for entity in chassis:
        found = values(samples, "sobriety_entity_manufacture_timestamp_seconds", entity=entity)
        if found:
            return found[0]
    return None


def _midnight(day: date) -> float:
    return datetime.combine(day, time(), UTC).timestamp()


def age_of(target: TargetConfig, samples: Sequence[Sample], first_seen: float | None) -> Age | None:
    """The device's age source (module docstring: the order)."""
    known = target.commissioned or target.purchased
    if known is not None:
        return Age(_midnight(known), "inventory")
    made = chassis_mfg_date(samples)
    if made is not None:
        return Age(made, "entity_mfg_date")
    vendor = values(samples, "sobriety_ups_manufacture_timestamp_seconds")
    if vendor:
        return Age(vendor[0], "manufacturer")
    if first_seen is not None:
        return Age(first_seen, "first_seen")
    return None


def warranty_end(target: TargetConfig) -> float | None:
    """The warranty's end from the inventory: a date, or months from purchase."""
    if target.warranty_end is not None:
        return _midnight(target.warranty_end)
    start = target.purchased or target.commissioned
    if target.warranty_months is not None and start is not None:
        months = start.month - 1 + target.warranty_months
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, monthrange(year, month)[1])  # 31 Jan + 1 month: 28/29 Feb
        return _midnight(date(year, month, day))
    return None


def life_samples(
    tid: dict[str, str], cls: DeviceClass | None, age: Age | None, at: float
) -> list[Sample]:
    """Expected end of life (sourced service life) and embodied carbon, amortised over the
    class's accounting period; nothing that needs an age when the age is unknown."""
    out: list[Sample] = []
    if cls is None:
        return out
    if cls.embodied_kgco2e is not None:
        out.append(Sample("sobriety_device_embodied_carbon_grams", tid, cls.embodied_kgco2e * 1000))
    if age is None:
        return out
    service_life = cls.end_of_life.service_life_years if cls.end_of_life is not None else None
    if service_life is not None:
        expected = age.start + service_life * SECONDS_PER_YEAR
        out.append(Sample("sobriety_device_expected_end_of_life_timestamp_seconds", tid, expected))
    if cls.embodied_kgco2e is not None and cls.lifetime_years is not None:
        lived = min(max(at - age.start, 0.0) / (cls.lifetime_years * SECONDS_PER_YEAR), 1.0)
        amortised = cls.embodied_kgco2e * 1000 * lived
        out.append(Sample("sobriety_device_embodied_carbon_amortised_grams", tid, amortised))
    return out


class LifetimeTracker:
    """Keeps each target's reboots and power-on time, and says its age and life figures."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.states: dict[str, LifetimeState] = dict(store.lifetime_states())

    def observe(
        self,
        target: TargetConfig,
        cls: DeviceClass | None,
        result: CollectResult,
        now: datetime,
        first_seen: float | None,
        tolerance: float,
    ) -> list[Sample]:
        """Lifetime samples of one poll (the uptime and boots come from its samples)."""
        at = now.timestamp()
        state = self.states.get(target.id) or LifetimeState(target.id, None, None, 0, 0.0, None, 0)
        if result.up:
            uptime = values(result.samples, "sobriety_device_uptime_seconds")
            boots = values(result.samples, "sobriety_device_snmp_engine_boots")
            state = step(state, uptime[0] if uptime else None, boots[0] if boots else None, at,
                         tolerance)  # fmt: skip
            self.states[target.id] = state
            self.store.record_lifetime(state)
        return self.samples(target, cls, result.samples, state, at, first_seen)

    def samples(
        self,
        target: TargetConfig,
        cls: DeviceClass | None,
        samples: Sequence[Sample],
        state: LifetimeState,
        at: float,
        first_seen: float | None,
    ) -> list[Sample]:
        tid = {"target": target.id}
        out = [
            Sample("sobriety_device_boots_total", tid, float(state.boots)),
            Sample("sobriety_device_power_on_seconds_total", tid, state.power_on_seconds),
            Sample("sobriety_device_uptime_wraps_total", tid, float(state.wraps)),
        ]
        age = age_of(target, samples, first_seen)
        if age is not None:
            labels = {**tid, "source": age.source}
            out.append(Sample("sobriety_device_age_seconds", labels, max(at - age.start, 0.0)))
            out.append(Sample("sobriety_device_life_start_timestamp_seconds", labels, age.start))
        end = warranty_end(target)
        if end is not None:
            out.append(Sample("sobriety_device_warranty_end_timestamp_seconds", tid, end))
            out.append(Sample("sobriety_device_warranty_left_seconds", tid, end - at))
        known_age = age if age is not None and age.source != "first_seen" else None
        return out + life_samples(tid, cls, known_age, at)
