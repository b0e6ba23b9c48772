"""Power readings and what measures them: PoE ports, PDU outlets, the device's own sensors.

`energy/choose.py` says in which order they are preferred; `energy/models.py` holds the
estimates on observed state; `energy/ups.py` a UPS's own losses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sobriety.config.load import TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.model import Sample

MEASURED, ESTIMATED = "measured", "estimated"
# What a reading rests on: a measurement, an estimate from a state the device reported, or
# an estimate with no observed state at all (a class figure taken on trust).
BASES = ("measured", "state", "assumed")

Feeds = Callable[[str], Sequence[Sample] | None]  # a feeder's latest samples, if fresh


@dataclass(frozen=True, slots=True)
class PowerReading:
    """Watts of one device now, where they come from, and how sure we are (low..high)."""

    watts: float
    source: str  # measured | estimated
    origin: str  # the MIB object, feed or model
    low: float
    high: float
    basis: str = "assumed"  # measured | state | assumed

    @classmethod
    def measured(
        cls, watts: float, origin: str, low: float | None = None, high: float | None = None
    ) -> PowerReading:
        """A measurement; a band only where it is derived (volts × amps without a power factor)."""
        return cls(watts, MEASURED, origin, watts if low is None else low,
                   watts if high is None else high, "measured")  # fmt: skip


def values(samples: Iterable[Sample], name: str, **labels: str) -> list[float]:
    """Values of the samples called `name` whose labels include `labels`."""
    return [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def states(samples: Iterable[Sample], name: str, **labels: str) -> set[str]:
    """Current `state` labels of an enum metric."""
    return {
        s.labels.get("state", "")
        for s in samples
        if s.name == name and s.value == 1 and all(s.labels.get(k) == v for k, v in labels.items())
    }


@dataclass(frozen=True)
class Fleet:
    """What energy needs to know of the configured fleet, indexed once per configuration."""

    targets: Mapping[str, TargetConfig]
    powered: Mapping[str, tuple[TargetConfig, ...]] = field(default_factory=dict)  # by switch

    @classmethod
    def of(cls, targets: Iterable[TargetConfig]) -> Fleet:
        by_id = {t.id: t for t in targets}
        powered: dict[str, list[TargetConfig]] = {}
        for t in by_id.values():
            if t.poe is not None:
                powered.setdefault(t.poe.switch, []).append(t)
        return cls(by_id, {k: tuple(v) for k, v in powered.items()})


# PoE class maxima at the PSE (IEEE 802.3af/at/bt): what a port reports when it gives its
# allocation instead of a measurement (Cisco's first-generation Catalyst: consumption =
# allocated, max drawn 0).
POE_CLASS_MAXIMA_W = (4.0, 7.0, 15.4, 30.0, 45.0, 60.0, 75.0, 90.0)


def port_is_allocation(samples: Sequence[Sample], group: str, port: str) -> bool:
    """Whether a PoE port's "consumption" is its class allocation rather than a measurement."""
    where = {"group": group, "port": port}
    watts = values(samples, "sobriety_poe_port_power_watts", **where)
    if not watts or watts[0] <= 0:
        return False
    allocated = values(samples, "sobriety_poe_port_allocated_watts", **where)
    drawn = values(samples, "sobriety_poe_port_max_drawn_watts", **where)
    if allocated and drawn:
        return abs(watts[0] - allocated[0]) < 1e-6 and drawn[0] == 0
    return any(abs(watts[0] - m) < 1e-6 for m in POE_CLASS_MAXIMA_W) and _all_at_maxima(samples)


def _all_at_maxima(samples: Sequence[Sample]) -> bool:
    """Every delivering port of the switch sits exactly on a class maximum (no measurement
    ever lands on 4.0, 7.0, 15.4 or 30.0 W on every port)."""
    delivering = [
        s.value for s in samples if s.name == "sobriety_poe_port_power_watts" and s.value > 0
    ]
    return bool(delivering) and all(
        any(abs(w - m) < 1e-6 for m in POE_CLASS_MAXIMA_W) for w in delivering
    )


def from_poe(target: TargetConfig, cls: DeviceClass | None, feeds: Feeds) -> PowerReading | None:
    """The reading of the PoE port that powers `target`, if its switch was polled recently."""
    if target.poe is None:
        return None
    samples = feeds(target.poe.switch)
    if samples is None:
        return None
    where = {"group": target.poe.group, "port": target.poe.port}
    watts = values(samples, "sobriety_poe_port_power_watts", **where)
    if watts and port_is_allocation(samples, target.poe.group, target.poe.port):
        return allocation_estimate(watts[0], cls, target.device_class or "")
    if watts:
        return PowerReading.measured(watts[0], "poe-port")
    status = states(samples, "sobriety_poe_port_detection_status", **where)
    if status and "deliveringPower" not in status:
        return PowerReading.measured(0.0, "poe-port-off")
    return None


def allocation_estimate(allocated: float, cls: DeviceClass | None, name: str) -> PowerReading:
    """A powered device whose port reports only its allocation: its class estimate, the
    allocation (capped by the class maximum) as the upper bound."""
    high = min(allocated, cls.max_watts) if cls is not None and cls.max_watts else allocated
    if cls is None or cls.typical_watts is None:
        return PowerReading(high / 2, ESTIMATED, "poe-allocation", 0.0, high, "assumed")
    typical = min(cls.typical_watts, high)
    low = min(cls.idle_watts if cls.idle_watts is not None else 0.0, typical)
    return PowerReading(typical, ESTIMATED, f"class:{name}:poe-allocation", low, high, "state")


def from_outlets(target: TargetConfig, feeds: Feeds) -> PowerReading | None:
    """The sum of every metered outlet the device is plugged into; all must be read."""
    outlets = target.all_outlets
    if not outlets:
        return None
    total = 0.0
    for feed in outlets:
        samples = feeds(feed.pdu)
        watts = values(samples or (), "sobriety_pdu_outlet_power_watts", outlet=feed.outlet)
        if not watts:
            return None  # one supply unread: a half-counted dual-supply server is worse
        total += watts[0]
    return PowerReading.measured(total, "pdu-outlet" if len(outlets) == 1 else "pdu-outlets")


def from_feed(target: TargetConfig, cls: DeviceClass | None, feeds: Feeds) -> PowerReading | None:
    """What feeds the device and measures (or allocates) it."""
    return from_poe(target, cls, feeds) or from_outlets(target, feeds)


def own_measured(samples: Sequence[Sample], passed_on: float) -> PowerReading | None:
    """The device's own measured power, less what it passes on to monitored devices."""
    own = [
        s
        for s in samples
        if s.name == "sobriety_device_power_watts" and s.labels.get("source") == MEASURED
    ]
    if own:
        origin = own[0].labels.get("origin", "device")
        if passed_on > 0:
            return PowerReading.measured(max(own[0].value - passed_on, 0.0), f"{origin}-minus-poe")
        return PowerReading.measured(own[0].value, origin)
    return supply_volts_amps(samples, passed_on)


def supply_volts_amps(samples: Sequence[Sample], passed_on: float) -> PowerReading | None:
    """Power supplies that report volts and amps but no watts (Arista's PSU sensors).

    Output V × A is the DC each supply delivers: a lower bound of what it draws. Input
    V × A is apparent power: an upper bound of the real power (power factor ≤ 1). The reading
    is the middle of the two, with both as its band; with one side only, that side.
    """
    sides: dict[str, float] = {}
    for direction in ("input", "output"):
        volts = _sensors(samples, "sobriety_supply_sensor_volts", direction)
        amps = _sensors(samples, "sobriety_supply_sensor_amperes", direction)
        if volts and len(volts) == len(amps):  # one of each per supply, in entity order
            sides[direction] = sum(v * a for v, a in zip(volts, amps, strict=True))
    if not sides:
        return None
    low = sides.get("output", sides.get("input", 0.0)) - passed_on
    high = sides.get("input", sides.get("output", 0.0)) - passed_on
    low, high = max(min(low, high), 0.0), max(high, low, 0.0)
    return PowerReading.measured((low + high) / 2, "supply-volts-amps", low, high)


def _sensors(samples: Sequence[Sample], name: str, direction: str) -> list[float]:
    """Sensor values of one direction (the sensor's name says it: "Input current sensor",
    "Output voltage sensor"), in entity order: a supply's sensors sit side by side."""
    found = [
        (int(s.labels.get("entity", "0") or 0), s.value)
        for s in samples
        if s.name == name and direction in s.labels.get("name", "").lower()
    ]
    return [value for _, value in sorted(found)]


def delivered_to_monitored(
    samples: Sequence[Sample],
    powered: Iterable[TargetConfig],
    booked: Callable[[str], float | None],
) -> float:
    """PoE watts this switch passes to devices that count them as their own: the port's
    measurement, or, where the port reports an allocation, what the device is booked at."""
    total = 0.0
    for pd in powered:
        if pd.poe is None:
            continue
        where = {"group": pd.poe.group, "port": pd.poe.port}
        watts = values(samples, "sobriety_poe_port_power_watts", **where)
        if not watts:
            continue
        if port_is_allocation(samples, pd.poe.group, pd.poe.port):
            mine = booked(pd.id)
            total += mine if mine is not None else 0.0
        else:
            total += watts[0]
    return total
