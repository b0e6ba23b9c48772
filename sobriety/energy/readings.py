"""Power per device: measured where something reports it, estimated from observed state where not.

Order of preference (docs/energy.md), first that exists:
1. the PoE port that powers the device (`targets[].poe`): the switch's per-port watts, or 0 W
   when the switch says the port delivers nothing;
2. the metered PDU outlet it is plugged into (`targets[].outlet`);
3. the device's own measured power (ENTITY-SENSOR supplies, ENERGY-OBJECT-MIB, a declared
   meter, RAPL), less what it passes on to monitored powered devices (a switch's PoE);
4. a UPS's own losses: input true power − output power, both measured;
5. the class model driven by observed state, labelled estimated, with its band.
A device that does not answer and has no feed reading gets no reading: it is never assumed on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sobriety.config.load import TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.model import Sample

MEASURED, ESTIMATED = "measured", "estimated"


@dataclass(frozen=True, slots=True)
class PowerReading:
    """Watts of one device now, where they come from, and how sure we are (low..high)."""

    watts: float
    source: str  # measured | estimated
    origin: str  # the MIB object, feed or model
    low: float
    high: float

    @classmethod
    def measured(cls, watts: float, origin: str) -> PowerReading:
        return cls(watts, MEASURED, origin, watts, watts)


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


def from_feed(
    target: TargetConfig, feeder: Callable[[str], Sequence[Sample] | None]
) -> PowerReading | None:
    """The reading of the switch port or PDU outlet that powers `target`, if fresh."""
    if target.poe is not None:
        samples = feeder(target.poe.switch)
        if samples is not None:
            where = {"group": target.poe.group, "port": target.poe.port}
            watts = values(samples, "sobriety_poe_port_power_watts", **where)
            if watts:
                return PowerReading.measured(watts[0], "poe-port")
            status = states(samples, "sobriety_poe_port_detection_status", **where)
            if status and "deliveringPower" not in status:
                return PowerReading.measured(0.0, "poe-port-off")
    if target.outlet is not None:
        samples = feeder(target.outlet.pdu)
        if samples is not None:
            watts = values(samples, "sobriety_pdu_outlet_power_watts", outlet=target.outlet.outlet)
            if watts:
                return PowerReading.measured(watts[0], "pdu-outlet")
    return None


def delivered_to_monitored(
    samples: Sequence[Sample], powered: Iterable[TargetConfig], switch: str
) -> float:
    """PoE watts this switch delivers to devices that count them as their own."""
    total = 0.0
    for pd in powered:
        if pd.poe is not None and pd.poe.switch == switch:
            where = {"group": pd.poe.group, "port": pd.poe.port}
            total += sum(values(samples, "sobriety_poe_port_power_watts", **where))
    return total


def own_measured(samples: Sequence[Sample], passed_on: float) -> PowerReading | None:
    """The device's own measured power, less what it passes on; or a UPS's losses."""
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
    inputs = values(samples, "sobriety_ups_input_power_watts")
    outputs = values(samples, "sobriety_ups_output_power_watts")
    if inputs and outputs and sum(inputs) > 0 and sum(inputs) >= sum(outputs):
        return PowerReading.measured(sum(inputs) - sum(outputs), "ups-input-minus-output")
    return None


def estimate(cls: DeviceClass, name: str, samples: Sequence[Sample], unattributed_poe: float
             ) -> PowerReading | None:  # fmt: skip
    """The class model on what the poll observed; None when the class gives no figure."""
    typical = cls.typical_watts if cls.typical_watts is not None else cls.idle_watts
    if typical is None:
        return None
    low = cls.idle_watts if cls.idle_watts is not None else typical * 0.5
    high = cls.max_watts if cls.max_watts is not None else typical * 1.5
    origin, watts = f"class:{name}", typical
    if cls.model == "cpu_linear":
        load = values(samples, "sobriety_host_cpu_load_ratio")
        if load and cls.idle_watts is not None and cls.max_watts is not None:
            ratio = min(max(load[0], 0.0), 1.0)
            watts = cls.idle_watts + (cls.max_watts - cls.idle_watts) * ratio
            origin = f"class:{name}:cpu"
    elif cls.model == "printer_state":
        status = states(samples, "sobriety_printer_status")
        if status & {"printing", "warmup"}:
            watts, origin = high, f"class:{name}:printing"
        elif "idle" in status:
            watts, origin = typical, f"class:{name}:idle"
    elif cls.model == "switch" and unattributed_poe > 0:
        # the class figure excludes PoE; what the switch delivers to devices nobody counts
        # is measured (pethMainPseConsumptionPower) and stays on the switch
        watts, origin = typical + unattributed_poe, f"class:{name}+poe"
        low, high = low + unattributed_poe, high + unattributed_poe
    return PowerReading(watts, ESTIMATED, origin, min(low, watts), max(high, watts))


def choose(
    target: TargetConfig,
    cls: DeviceClass | None,
    up: bool,
    samples: Sequence[Sample],
    feeder: Callable[[str], Sequence[Sample] | None],
    powered: Mapping[str, TargetConfig],
) -> PowerReading | None:
    """The best reading for one device now (module docstring: the order)."""
    fed = from_feed(target, feeder)
    if fed is not None:
        return fed
    if not up:
        return None
    passed_on = delivered_to_monitored(samples, powered.values(), target.id)
    mine = own_measured(samples, passed_on)
    if mine is not None:
        return mine
    if cls is None:
        return None
    pse = sum(values(samples, "sobriety_poe_consumption_watts"))
    return estimate(cls, target.device_class or "", samples, max(pse - passed_on, 0.0))
