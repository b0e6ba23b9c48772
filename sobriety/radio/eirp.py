"""A transmitter's EIRP, its band and legal maximum, and the field bound that follows.

EIRP (dBm) = conducted power + antenna gain - cable loss. Conducted power is what the device
reports (a level converted through its own table, in the profiles), else what the inventory
declares. The gain is the device's own figure (MIB), else the model table's, else the
inventory's; with no gain there is no EIRP, and a reason says so (never 0 dBi). Cable loss is
the inventory's, 0 for an integrated antenna.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sobriety.config.radio import AntennaFigures, Distance
from sobriety.radio.antennas import AntennaTable
from sobriety.radio.bands import BandTable, Limit, Placement
from sobriety.radio.exposure import Exposure, bound, near_field_metres
from sobriety.radio.inputs import RadioInput

GainOrigin = Literal["mib", "model", "inventory"]


def dbm_to_watts(dbm: float) -> float:
    return float(10.0 ** (dbm / 10.0) / 1000.0)


@dataclass(frozen=True, slots=True)
class Gain:
    dbi: float
    origin: GainOrigin
    source: str


@dataclass(frozen=True, slots=True)
class Where:
    """What the exposure figures need from the site and the device's inventory."""

    country: str | None
    distances: tuple[Distance, ...]
    anfr_level: float
    figures: AntennaFigures
    inventory_source: str = ""


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the indicator says of one transmitter at one poll."""

    placement: Placement
    tx_dbm: float | None
    tx_origin: str  # device | inventory | ""
    gain: Gain | None
    cable_loss_db: float
    eirp_dbm: float | None
    limit: Limit | None
    limit_dbm: float | None
    exposure: Exposure | None
    unknown: tuple[tuple[str, str], ...] = field(default=())  # (fact, reason)

    @property
    def eirp_watts(self) -> float | None:
        return dbm_to_watts(self.eirp_dbm) if self.eirp_dbm is not None else None

    @property
    def ratio(self) -> float | None:
        """EIRP over the legal maximum, in watts (computed in dB: 20 dBm at 20 dBm is 1)."""
        if self.eirp_dbm is None or self.limit_dbm is None:
            return None
        return float(10.0 ** ((self.eirp_dbm - self.limit_dbm) / 10.0))


def antenna_gain(
    radio: RadioInput, group: str | None, table: AntennaTable, figures: AntennaFigures,
    inventory_source: str = "",
) -> Gain | None:  # fmt: skip
    """The gain in the order MIB, model table, inventory; None when none says it."""
    if radio.gain_dbi is not None:
        return Gain(radio.gain_dbi, "mib", "reported by the device")
    found = table.lookup(radio.vendor, radio.model, group)
    if found is not None:
        return Gain(found.gain_dbi, "model", found.source)
    declared = figures.antenna_gain_dbi
    if isinstance(declared, dict):
        value = declared.get(group) if group else None  # type: ignore[call-overload]
        if value is None and len(set(declared.values())) == 1:
            value = next(iter(declared.values()))  # one figure for every band it lists
        declared = value
    if declared is None:
        return None
    return Gain(float(declared), "inventory", inventory_source or "inventory")


def assess(radio: RadioInput, where: Where, bands: BandTable, antennas: AntennaTable) -> Assessment:
    """EIRP, legal maximum and field bound of one transmitter, or what is missing and why."""
    placement = bands.place(radio.frequency_hz, radio.channel, radio.band_word)
    group = placement.band.group if placement.band is not None else _group(bands, placement)
    unknown: list[tuple[str, str]] = []
    if placement.band is None:
        unknown.append(("band", placement.reason))
    figures = where.figures
    tx, tx_origin = radio.tx_dbm, "device"
    if tx is None and figures.tx_power_dbm is not None:
        tx, tx_origin = figures.tx_power_dbm, "inventory"
    gain = antenna_gain(radio, group, antennas, figures, where.inventory_source)
    loss = figures.cable_loss_db or 0.0
    eirp = None
    if tx is None:
        unknown.append(("eirp", "tx_power_unknown"))
        tx_origin = ""
    elif gain is None:
        unknown.append(("eirp", "antenna_gain_unknown"))
    else:
        eirp = tx + gain.dbi - loss
    limit, reason = bands.limit(placement.band, where.country)
    if limit is None:
        unknown.append(("limit", placement.reason if placement.band is None else reason))
    limit_dbm = limit.for_gain(gain.dbi if gain else None) if limit is not None else None
    exposure = None
    if eirp is not None:
        near = near_field_metres(figures.antenna_size_m, placement.frequencies_hz)
        decret = bands.reference_level(placement.frequencies_hz)
        exposure = bound(dbm_to_watts(eirp), where.distances, where.anfr_level, decret, near)
    return Assessment(
        placement, tx, tx_origin, gain, loss, eirp, limit, limit_dbm, exposure, tuple(unknown)
    )


def _group(bands: BandTable, placement: Placement) -> str | None:
    """The band group all candidate frequencies share, if they share one."""
    groups = {b.group for hz in placement.frequencies_hz if (b := bands.band_at(hz))}
    return next(iter(groups)) if len(groups) == 1 else None


# Classes of radio equipment that is not a Wi-Fi access point whatever its band.
NOT_WIFI_CLASSES = frozenset({"radio_link", "small_cell_indoor"})


def is_wifi(radio: RadioInput, placement: Placement, bands: BandTable, device_class: str) -> bool:
    """A Wi-Fi access point's radio: one that reports an 802.11 channel, one of an AP a
    controller manages, one of a device of a Wi-Fi AP class; else one in an RLAN band (every
    candidate band, when the channel leaves several), unless its class says otherwise."""
    if radio.ap or radio.channel is not None or device_class.startswith("wifi_ap"):
        return True
    if device_class in NOT_WIFI_CLASSES:
        return False
    if placement.band is not None:
        return placement.band.wifi
    found = [bands.band_at(hz) for hz in placement.frequencies_hz]
    return bool(found) and all(b is not None and b.wifi for b in found)
