"""Estimates from a device class and what the poll observed (`collectors/classes.yaml` `model`).

Each estimate says what it rests on (`basis`): `state` when an observed state drove it (a
CPU load, a printer printing, a projector's power state), `assumed` when nothing observed
says what the device is doing: then the figure is the middle of a band from its standby to
its working draw, never "on" around the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sobriety.energy.classes import DeviceClass
from sobriety.energy.readings import ESTIMATED, PowerReading, states, values
from sobriety.model import Sample

# Power states a device reports (sobriety_device_power_state, ENERGY-OBJECT-MIB eoPowerOperState)
# read as on (working) or standby/off. Anything else is not a state we can use.
ON_STATES = {"on", "warming", "cooling", "ieee1621On", "dmtfOn", "emanHigh", "emanHighMinus",
             "emanMedium", "emanMediumMinus", "emanLow", "emanLowMinus", "emanReady"}  # fmt: skip
STANDBY_STATES = {"standby", "off", "sleep", "ieee1621Off", "ieee1621Sleep", "dmtfSleepLight",
                  "dmtfSleepDeep", "dmtfOffHard", "dmtfOffSoft", "dmtfHibernate", "emanMechOff",
                  "emanSoftOff", "emanHibernate", "emanSleep", "emanStandby"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PoeRemainder:
    """PoE a switch delivers to devices nobody monitors: measured, or only allocated."""

    watts: float
    allocated: bool  # the ports report their class allocation: an upper bound


def estimate(
    cls: DeviceClass, name: str, samples: Sequence[Sample], poe: PoeRemainder | None = None
) -> PowerReading | None:
    """The class model on what the poll observed; None when the class gives no figure."""
    typical = cls.typical_watts if cls.typical_watts is not None else cls.idle_watts
    if typical is None:
        return None
    low = cls.idle_watts if cls.idle_watts is not None else typical * 0.5
    high = cls.max_watts if cls.max_watts is not None else typical * 1.5
    base = PowerReading(typical, ESTIMATED, f"class:{name}", min(low, typical),
                        max(high, typical), "assumed")  # fmt: skip
    if cls.model == "cpu_linear":
        return _cpu_linear(cls, name, samples, base)
    if cls.model == "printer_state":
        return _printer(name, samples, base, typical)
    if cls.model == "power_state":
        return _power_state(name, samples, base, typical)
    if cls.model == "switch":
        return _switch(name, base, poe)
    if cls.model == "vcpu_share":
        return vcpu_share(cls, name, samples) or base
    return base


def _cpu_linear(
    cls: DeviceClass, name: str, samples: Sequence[Sample], base: PowerReading
) -> PowerReading:
    """idle + (max − idle) × CPU load, where the class knows both and the device its load."""
    load = values(samples, "sobriety_host_cpu_load_ratio")
    if not load or cls.idle_watts is None or cls.max_watts is None:
        return base
    ratio = min(max(load[0], 0.0), 1.0)
    watts = cls.idle_watts + (cls.max_watts - cls.idle_watts) * ratio
    return PowerReading(watts, ESTIMATED, f"class:{name}:cpu", cls.idle_watts, cls.max_watts,
                        "state")  # fmt: skip


def _printer(
    name: str, samples: Sequence[Sample], base: PowerReading, ready: float
) -> PowerReading:
    """Printing or warming up: the class maximum; idle (ready): typical; else unknown."""
    status = states(samples, "sobriety_printer_status")
    if status & {"printing", "warmup"}:
        return PowerReading(base.high, ESTIMATED, f"class:{name}:printing", base.low, base.high,
                            "state")  # fmt: skip
    if "idle" in status:
        return PowerReading(ready, ESTIMATED, f"class:{name}:idle", base.low, base.high, "state")
    return _unknown_state(name, base, ready)


def _power_state(
    name: str, samples: Sequence[Sample], base: PowerReading, on: float
) -> PowerReading:
    """A projector or display: on → its working figure, standby → its standby figure."""
    seen = states(samples, "sobriety_device_power_state") | states(
        samples, "sobriety_eo_power_state"
    )
    if seen & ON_STATES:
        return PowerReading(on, ESTIMATED, f"class:{name}:on", base.low, base.high, "state")
    if seen & STANDBY_STATES:
        return PowerReading(base.low, ESTIMATED, f"class:{name}:standby", base.low, base.low,
                            "state")  # fmt: skip
    return _unknown_state(name, base, on)


def _unknown_state(name: str, base: PowerReading, on: float) -> PowerReading:
    """Nothing says whether the device works or sleeps: the middle of standby..working."""
    middle = (base.low + on) / 2
    return PowerReading(middle, ESTIMATED, f"class:{name}:state-unknown", base.low, on, "assumed")


def _switch(name: str, base: PowerReading, poe: PoeRemainder | None) -> PowerReading:
    """The class figure excludes PoE; what the switch delivers to unmonitored devices stays on
    it: measured (pethMainPseConsumptionPower), or, where the ports only report allocations,
    anywhere between 0 and the allocation (its middle is booked)."""
    if poe is None or poe.watts <= 0:
        return base
    if poe.allocated:
        extra = poe.watts / 2
        return PowerReading(base.watts + extra, ESTIMATED, f"class:{name}+poe-allocation",
                            base.low, base.high + poe.watts, "assumed")  # fmt: skip
    return PowerReading(base.watts + poe.watts, ESTIMATED, f"class:{name}+poe",
                        base.low + poe.watts, base.high + poe.watts, base.basis)  # fmt: skip


def vcpu_share(cls: DeviceClass, name: str, samples: Sequence[Sample]) -> PowerReading | None:
    """A virtual machine or container: its share of a physical host, per virtual CPU.

    `idle_watts` and `max_watts` of this class are per hardware thread of a typical host;
    the share is processors × (idle + (max − idle) × load). Without a processor count the
    class has nothing to say.
    """
    processors = values(samples, "sobriety_host_processors")
    if not processors or cls.idle_watts is None or cls.max_watts is None:
        return None
    n = max(processors[0], 1.0)
    load = values(samples, "sobriety_host_cpu_load_ratio")
    ratio = min(max(load[0], 0.0), 1.0) if load else None
    low, high = n * cls.idle_watts, n * cls.max_watts
    if ratio is None:
        return PowerReading((low + high) / 2, ESTIMATED, f"class:{name}:vcpu-share", low, high,
                            "assumed")  # fmt: skip
    watts = low + (high - low) * ratio
    return PowerReading(watts, ESTIMATED, f"class:{name}:vcpu-share", low, high, "state")
