"""One power reading per device and poll, in a documented order of preference.

First that exists (docs/energy.md):
1. what feeds the device and measures it: the PoE port it hangs from (`targets[].poe`; a
   port that reports its class allocation instead of a measurement is an estimate capped by
   the device's class maximum), or every metered PDU outlet it is plugged into
   (`targets[].outlet` / `outlets`: A and B feeds summed, all of them or none);
2. a virtual machine or container (the host says so, or HOST-RESOURCES names a hypervisor):
   its share of a physical host, never the figure of a physical class;
3. the device's own measured power (ENTITY-SENSOR supplies, or their volts × amps; ENERGY-
   OBJECT-MIB, a declared meter, RAPL), less what it passes on to monitored powered devices;
4. a UPS's own losses: input − output where both are measured, else its efficiency curve
   on its own load, rating, topology and mode (`energy/ups.py`);
5. the class model on observed state (`energy/models.py`), labelled estimated, with its band.
A device that does not answer and has no feed reading gets no reading: it is never assumed on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sobriety.config.load import TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.energy.models import PoeRemainder, estimate, vcpu_share
from sobriety.energy.readings import (
    Feeds,
    Fleet,
    PowerReading,
    delivered_to_monitored,
    from_feed,
    own_measured,
    port_is_allocation,
    values,
)
from sobriety.energy.ups import losses
from sobriety.model import Sample

VIRTUAL_CLASS = "virtual_machine"


@dataclass(frozen=True)
class Context:
    """What a reading may look at beyond the device's own poll."""

    fleet: Fleet
    feeds: Feeds  # a feeder's latest samples, if fresh
    booked: Callable[[str], float | None]  # another device's current reading, if fresh
    class_named: Callable[[str], DeviceClass | None]


def choose(
    target: TargetConfig,
    cls: DeviceClass | None,
    up: bool,
    samples: Sequence[Sample],
    ctx: Context,
) -> PowerReading | None:
    """The best reading for one device now (module docstring: the order)."""
    fed = from_feed(target, cls, ctx.feeds)
    if fed is not None:
        return fed
    if not up:
        return None
    virtual = virtualization(samples)
    if virtual is not None:
        return _virtual(target, virtual, samples, ctx)
    powered = ctx.fleet.powered.get(target.id, ())
    mine = own_measured(samples, delivered_to_monitored(samples, powered, ctx.booked))
    if mine is not None:
        return mine
    if is_ups(samples, cls):
        loss = losses(samples, device_model(samples), target.ups_topology)
        if loss is not None:
            return loss
    if cls is None:
        return None
    return estimate(cls, target.device_class or "", samples, poe_remainder(samples, powered))


def virtualization(samples: Sequence[Sample]) -> str | None:
    """`vm` or `container` when the poll shows a virtual machine; None for a physical one."""
    for s in samples:
        if s.name == "sobriety_device_virtualization_info":
            return s.labels.get("kind", "vm")
    hints = values(samples, "sobriety_host_virtual_devices")
    return "vm" if hints and hints[0] > 0 else None


def _virtual(
    target: TargetConfig, kind: str, samples: Sequence[Sample], ctx: Context
) -> PowerReading | None:
    """A share of a host per virtual CPU; nothing when the host is counted on its own."""
    if target.virtual == "not_counted":
        return None
    cls = ctx.class_named(VIRTUAL_CLASS)
    share = vcpu_share(cls, VIRTUAL_CLASS, samples) if cls is not None else None
    if share is None:
        return None
    return replace(share, origin=f"virtual:{kind}:vcpu-share")


def is_ups(samples: Sequence[Sample], cls: DeviceClass | None) -> bool:
    """A UPS: its class says so, or it reports a UPS output."""
    if cls is not None and cls.model == "ups_loss":
        return True
    return any(
        s.name in ("sobriety_ups_output_power_watts", "sobriety_ups_output_load_ratio")
        for s in samples
    )


def device_model(samples: Sequence[Sample]) -> str:
    """The model string the device gives (`sobriety_device_info`), or ""."""
    for s in samples:
        if s.name == "sobriety_device_info":
            return s.labels.get("model", "")
    return ""


def poe_remainder(
    samples: Sequence[Sample], powered: Sequence[TargetConfig]
) -> PoeRemainder | None:
    """PoE this switch delivers to devices nobody monitors (PSE total − monitored ports)."""
    pse = sum(values(samples, "sobriety_poe_consumption_watts"))
    if pse <= 0:
        return None
    monitored = 0.0
    for pd in powered:
        if pd.poe is None:
            continue
        watts = values(samples, "sobriety_poe_port_power_watts", group=pd.poe.group,
                       port=pd.poe.port)  # fmt: skip
        monitored += watts[0] if watts else 0.0
    ports = {
        (s.labels.get("group", ""), s.labels.get("port", ""))
        for s in samples
        if s.name == "sobriety_poe_port_power_watts" and s.value > 0
    }
    allocated = any(port_is_allocation(samples, g, p) for g, p in ports)
    return PoeRemainder(max(pse - monitored, 0.0), allocated)
