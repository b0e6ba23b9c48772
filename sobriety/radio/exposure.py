"""An upper bound of the electric field around a transmitter, from its EIRP.

Far field, free space, every watt the transmitter declares radiated all the time (duty cycle
100 %), no reflection: S = EIRP / (4π d²), E = √(377·S) = √(30·EIRP) / d (shared
reference-data.md §5). Real exposure is lower: transmitters rarely send continuously and
walls absorb. The formula does not hold in an antenna's near field, closer than 2D²/λ (D its
largest dimension): there no figure is given. Where D is not declared the figure is given
with validity `unchecked`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sobriety.config.radio import Distance

SPEED_OF_LIGHT = 299_792_458.0  # m/s
Validity = Literal["far_field", "unchecked", "near_field"]


def field_at(eirp_watts: float, metres: float) -> float:
    """E in V/m at `metres` from an isotropic source of `eirp_watts` (far field)."""
    return math.sqrt(30.0 * eirp_watts) / metres


def distance_for(eirp_watts: float, volts_per_metre: float) -> float:
    """The distance in metres beyond which the far-field bound is below `volts_per_metre`."""
    return math.sqrt(30.0 * eirp_watts) / volts_per_metre


def near_field_metres(size_m: float | None, frequencies_hz: Sequence[float]) -> float | None:
    """2D²/λ for an antenna of largest dimension `size_m` (the widest of the candidate
    frequencies' boundaries); None when the size or the frequency is unknown."""
    if size_m is None or not frequencies_hz:
        return None
    return max(2.0 * size_m**2 * hz / SPEED_OF_LIGHT for hz in frequencies_hz)


def validity(metres: float, near_m: float | None) -> Validity:
    if near_m is None:
        return "unchecked"
    return "near_field" if metres < near_m else "far_field"


@dataclass(frozen=True, slots=True)
class FieldAt:
    """The bound at one declared distance; no value in the near field."""

    distance: Distance
    volts_per_metre: float | None
    validity: Validity


@dataclass(frozen=True, slots=True)
class Threshold:
    """How far the bound stays above a level (`anfr` or `decret`)."""

    level: Literal["anfr", "decret"]
    volts_per_metre: float
    metres: float
    validity: Validity


@dataclass(frozen=True, slots=True)
class Exposure:
    fields: tuple[FieldAt, ...]
    thresholds: tuple[Threshold, ...]
    near_field_m: float | None


def bound(
    eirp_watts: float,
    distances: Sequence[Distance],
    anfr_level: float,
    decret_level: float | None,
    near_m: float | None,
) -> Exposure:
    """The bound at each distance and the distances to the ANFR and décret levels."""
    fields = []
    for distance in distances:
        valid = validity(distance.metres, near_m)
        value = None if valid == "near_field" else field_at(eirp_watts, distance.metres)
        fields.append(FieldAt(distance, value, valid))
    levels: list[tuple[Literal["anfr", "decret"], float]] = [("anfr", anfr_level)]
    if decret_level is not None:
        levels.append(("decret", decret_level))
    thresholds = []
    for name, level in levels:
        metres = distance_for(eirp_watts, level)
        thresholds.append(Threshold(name, level, metres, validity(metres, near_m)))
    return Exposure(tuple(fields), tuple(thresholds), near_m)
