"""Bands, reference levels and legal EIRP maxima, from `collectors/radio-bands.yaml`.

A radio's band comes from its frequency, else from its Wi-Fi channel and the band the device
names (`ng`, `dot11a`...). A channel number alone may fit several bands (channel 1 is 2.4 GHz
or 6 GHz): then the candidates are kept, and only what they agree on is used. The décret's
reference level is read at the frequency; the legal maximum needs one band and the site's
country in a known group. Unknown stays unknown, with a bounded reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sobriety.config.radio import BandGroup
from sobriety.config.types import read_section
from sobriety.errors import ConfigError, ConfigProblem

MHZ = 1e6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelRange(_Strict):
    """The décret's level over a frequency range: a constant, or a factor times √f (MHz)."""

    from_mhz: float = Field(gt=0)
    to_mhz: float = Field(gt=0)
    volts_per_metre: float | None = Field(default=None, gt=0)
    sqrt_mhz_factor: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_rule(self) -> LevelRange:
        if (self.volts_per_metre is None) == (self.sqrt_mhz_factor is None):
            raise ValueError("give volts_per_metre or sqrt_mhz_factor")
        return self

    def level(self, mhz: float) -> float:
        if self.volts_per_metre is not None:
            return self.volts_per_metre
        return float(self.sqrt_mhz_factor or 0.0) * math.sqrt(mhz)


class ReferenceLevels(_Strict):
    source: str
    ranges: tuple[LevelRange, ...]


class Above(_Strict):
    """A higher maximum where the antenna gain reaches `gain_dbi` (fixed high-gain links)."""

    gain_dbi: float
    eirp_dbm: float


class Limit(_Strict):
    """A legal EIRP maximum, with its source key and what it covers."""

    eirp_dbm: float
    source: str
    note: str = ""
    above: Above | None = None

    def for_gain(self, gain_dbi: float | None) -> float:
        """The maximum that applies to an antenna of this gain (unknown gain: the base one)."""
        if self.above is not None and gain_dbi is not None and gain_dbi >= self.above.gain_dbi:
            return self.above.eirp_dbm
        return self.eirp_dbm


class Band(_Strict):
    id: str
    group: BandGroup
    wifi: bool
    from_mhz: float = Field(gt=0)
    to_mhz: float = Field(gt=0)
    limits: Mapping[str, Limit] = Field(default_factory=dict)

    def holds(self, hz: float) -> bool:
        return self.from_mhz * MHZ <= hz <= self.to_mhz * MHZ


class CountryGroup(_Strict):
    source: str
    countries: tuple[str, ...]


class ChannelPlan(_Strict):
    start_mhz: float
    valid: tuple[tuple[int, int, int], ...]
    extra: Mapping[int, float] = Field(default_factory=dict)

    def frequency_hz(self, channel: int) -> float | None:
        """The centre frequency of a valid 20 MHz channel number, else None."""
        if channel in self.extra:
            return self.extra[channel] * MHZ
        for first, last, step in self.valid:
            if first <= channel <= last and (channel - first) % step == 0:
                return (self.start_mhz + 5 * channel) * MHZ
        return None


class Channels(_Strict):
    source: str
    plans: Mapping[BandGroup, ChannelPlan]


class BandFile(_Strict):
    sources: Mapping[str, str]
    reference_levels: ReferenceLevels
    country_groups: Mapping[str, CountryGroup]
    bands: tuple[Band, ...]
    channels: Channels
    device_band_words: Mapping[str, BandGroup]

    @model_validator(mode="after")
    def _sources_resolve(self) -> BandFile:
        keys = [self.reference_levels.source, self.channels.source]
        keys += [g.source for g in self.country_groups.values()]
        keys += [lim.source for b in self.bands for lim in b.limits.values()]
        unknown = sorted(set(keys) - set(self.sources))
        if unknown:
            raise ValueError(f"sources not listed under `sources`: {unknown}")
        groups = {g for b in self.bands for g in b.limits}
        if groups - set(self.country_groups):
            raise ValueError(f"limits for unknown country groups {sorted(groups)}")
        return self


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a radio sits in the spectrum: its band (when one is known) and the frequencies
    it may be on (one, or the candidates a bare channel number leaves)."""

    band: Band | None
    frequencies_hz: tuple[float, ...]
    reason: str = ""  # why no band: frequency_unknown, band_ambiguous, not_in_table

    @property
    def wifi(self) -> bool | None:
        return self.band.wifi if self.band is not None else None


class BandTable:
    """The loaded band file and its lookups."""

    def __init__(self, data: BandFile, path: Path) -> None:
        self.data = data
        self.path = path
        self.country_group = {
            country: name for name, g in data.country_groups.items() for country in g.countries
        }

    def source(self, key: str) -> str:
        return self.data.sources.get(key, key)

    def band_at(self, hz: float) -> Band | None:
        return next((b for b in self.data.bands if b.holds(hz)), None)

    def place(self, hz: float | None, channel: int | None, word: str | None) -> Placement:
        """The band of a radio from its frequency, else from its channel (and band word)."""
        if hz is not None and hz > 0:
            band = self.band_at(hz)
            return Placement(band, (hz,), "" if band else "not_in_table")
        if channel is None:
            return Placement(None, (), "frequency_unknown")
        group = self.data.device_band_words.get(word or "")
        plans = self.data.channels.plans
        chosen = {group: plans[group]} if group is not None and group in plans else plans
        found = [f for plan in chosen.values() if (f := plan.frequency_hz(channel)) is not None]
        if not found:
            return Placement(None, (), "frequency_unknown")
        bands = {b.id: b for f in found if (b := self.band_at(f)) is not None}
        if len(found) == 1:
            only = next(iter(bands.values()), None)
            return Placement(only, tuple(found), "" if only else "not_in_table")
        return Placement(None, tuple(found), "band_ambiguous")

    def reference_level(self, frequencies_hz: Sequence[float]) -> float | None:
        """The décret's level at the radio's frequency; with several candidates, the lowest
        (the bound holds for any of them); None outside the table."""
        levels = []
        for hz in frequencies_hz:
            mhz = hz / MHZ
            found = next(
                (r for r in self.data.reference_levels.ranges if r.from_mhz <= mhz <= r.to_mhz),
                None,
            )
            if found is None:
                return None
            levels.append(found.level(mhz))
        return min(levels) if levels else None

    def limit(self, band: Band | None, country: str | None) -> tuple[Limit | None, str]:
        """The band's legal maximum in `country`, or None and why (a bounded reason)."""
        if band is None:
            return None, "band_unknown"
        if not country:
            return None, "country_unknown"
        group = self.country_group.get(country)
        if group is None:
            return None, "country_not_in_table"
        found = band.limits.get(group)
        return (found, "") if found is not None else (None, "no_limit_in_table")


def builtin_bands_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "radio-bands.yaml"


@cache
def load_bands(path: Path | None = None) -> BandTable:
    """The band table; ConfigError naming the file and field when it does not validate."""
    path = path or builtin_bands_path()
    raw = {
        key: read_section(path, key)
        for key in ("sources", "reference_levels", "country_groups", "bands", "channels",
                    "device_band_words")
    }  # fmt: skip
    try:
        return BandTable(BandFile.model_validate(raw), path)
    except ValidationError as exc:
        raise ConfigError(
            [
                ConfigProblem(str(path), "-", ".".join(map(str, e["loc"])) or "-", e["msg"])
                for e in exc.errors()
            ]
        ) from None
