"""What a poll says of a device's radios, gathered per transmitter.

Profiles give radio series by `radio` label (a radio, a virtual AP, an AP's slot on a
controller); `sobriety_radio_transmitter_info` says which series share one transmitter (the
VAPs of a UniFi band), and those are merged: one conducted power (the highest its VAPs say),
on if any of them is up. A radio of an AP a controller manages (`<ap mac>/<slot>`) is tied to
that AP (its name, vendor and model, from `sobriety_managed_device_info`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sobriety.model import Sample

RADIO_METRICS = {
    "sobriety_radio_tx_power_dbm": "tx_dbm",
    "sobriety_radio_antenna_gain_dbi": "gain_dbi",
    "sobriety_radio_frequency_hertz": "frequency_hz",
    "sobriety_radio_channel": "channel",
    "sobriety_radio_oper_up": "oper_up",
    "sobriety_radio_admin_up": "admin_up",
    "sobriety_radio_clients": "clients",
}


@dataclass(slots=True)
class RadioInput:
    """One transmitter as the poll describes it (None: the device did not say)."""

    radio: str
    members: list[str] = field(default_factory=list)
    tx_dbm: float | None = None
    gain_dbi: float | None = None
    frequency_hz: float | None = None
    channel: int | None = None
    band_word: str = ""
    oper_up: bool | None = None
    admin_up: bool | None = None
    clients: float | None = None
    ap: str = ""  # the managed AP (MAC) it belongs to, on a controller
    ap_name: str = ""
    vendor: str = ""
    model: str = ""

    def take(self, metric: str, labels: Mapping[str, str], value: float) -> None:
        """Merge one series of one of its members."""
        name = RADIO_METRICS[metric]
        if name in ("oper_up", "admin_up"):
            known = getattr(self, name)
            setattr(self, name, bool(value >= 1) or bool(known))
        elif name == "channel":
            self.channel = self.channel if self.channel is not None else int(value)
            self.band_word = self.band_word or labels.get("band", "")
        elif name == "clients":
            self.clients = (self.clients or 0.0) + value
        elif name == "tx_dbm":
            self.tx_dbm = value if self.tx_dbm is None else max(self.tx_dbm, value)
        elif getattr(self, name) is None:
            setattr(self, name, value)


def radio_inputs(samples: Iterable[Sample]) -> dict[str, RadioInput]:
    """The transmitters of one poll, by id (the transmitter's, or the radio label's)."""
    listed = list(samples)
    transmitter = {
        s.labels.get("radio", ""): s.labels.get("transmitter", "")
        for s in listed
        if s.name == "sobriety_radio_transmitter_info"
    }
    device = next((s.labels for s in listed if s.name == "sobriety_device_info"), {})
    managed = {
        s.labels.get("device", ""): s.labels
        for s in listed
        if s.name == "sobriety_managed_device_info"
    }
    out: dict[str, RadioInput] = {}
    for sample in listed:
        if sample.name not in RADIO_METRICS:
            continue
        label = sample.labels.get("radio", "")
        rid = transmitter.get(label) or label
        radio = out.get(rid)
        if radio is None:
            radio = out[rid] = _new(rid, device, managed)
        if label not in radio.members:
            radio.members.append(label)
        radio.take(sample.name, sample.labels, sample.value)
    return out


def _new(
    rid: str, device: Mapping[str, str], managed: Mapping[str, Mapping[str, str]]
) -> RadioInput:
    ap = rid.rsplit("/", 1)[0] if "/" in rid else ""
    info = managed.get(ap)
    if info is None:
        return RadioInput(rid, vendor=device.get("vendor", ""), model=device.get("model", ""))
    return RadioInput(
        rid,
        ap=ap,
        ap_name=info.get("name", ""),
        vendor=info.get("vendor", "") or device.get("vendor", ""),
        model=info.get("model", ""),
    )
