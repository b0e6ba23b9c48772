"""The radio part of the configuration: what kind of place a site is, the distances at which
it wants the field bounded, and what the inventory knows of a device's antennas.

Kept apart from `config/load.py`'s site and target models, which only hold one field each
(`sites.<id>.type` and `.radio`, `targets[].radio`) of the types defined here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

SiteType = Literal[
    "ecole_primaire",  # maternelle or élémentaire: loi 2015-136 art. 7 applies
    "college",
    "lycee",
    "creche",
    "office",
    "datacentre",
    "micro_antenna_site",
    "other",
]
SITE_TYPES: tuple[SiteType, ...] = (
    "ecole_primaire", "college", "lycee", "creche", "office", "datacentre",
    "micro_antenna_site", "other",
)  # fmt: skip
SCHOOL_TYPES = frozenset({"ecole_primaire", "college", "lycee"})
BandGroup = Literal["2.4ghz", "5ghz", "6ghz", "60ghz"]
BAND_GROUPS: tuple[BandGroup, ...] = ("2.4ghz", "5ghz", "6ghz", "60ghz")
ANFR_LEVEL_V_PER_M = 9.0  # ANFR's atypical-point level from 1 January 2026 (6 V/m before)
MAX_DISTANCES = 8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distance(_Strict):
    """A distance from a transmitter at which the field is bounded, and what it stands for."""

    metres: float = Field(gt=0, le=10_000)
    what: str = Field(default="", max_length=80)


def _distances(value: object) -> object:
    """`[1, 2.2]` or `{"seated pupil": 2.2}` to a tuple of distances."""
    if isinstance(value, Mapping):
        return tuple({"metres": v, "what": str(k)} for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(v if isinstance(v, Mapping | Distance) else {"metres": v} for v in value)
    return value


Distances = Annotated[
    tuple[Distance, ...],
    BeforeValidator(_distances),
    Field(min_length=1, max_length=MAX_DISTANCES),
]


class SiteRadio(_Strict):
    """How a site wants its radios' field bounded."""

    anfr_level_v_per_m: float = Field(
        default=ANFR_LEVEL_V_PER_M,
        gt=0,
        le=61,
        description="the level the distances are computed for: ANFR's atypical-point level, "
        "9 V/m from 1 January 2026 (6 V/m before: set 6 for the strict reading)",
    )
    distances_m: Distances = Field(
        default=(Distance(metres=1.0, what="reference distance"),),
        description='where people are, from a transmitter: [1, 2.2] or {"ceiling AP to a '
        'seated pupil": 2.2}; every radio of the site unless its target says otherwise',
    )


class AntennaFigures(_Strict):
    """What the inventory knows of a transmitter's antenna and feed."""

    antenna_gain_dbi: float | dict[BandGroup, float] | None = Field(
        default=None,
        description="antenna gain in dBi: one figure, or one per band group ({2.4ghz: 2.8, "
        "5ghz: 3}); used when neither the device nor the model table gives one",
    )
    cable_loss_db: float | None = Field(
        default=None, ge=0, le=50,
        description="loss between transmitter and antenna (cable, connectors); 0 when the "
        "antenna is integrated (the default)",
    )  # fmt: skip
    antenna_size_m: float | None = Field(
        default=None, gt=0, le=20,
        description="the antenna's largest dimension (a dish's diameter): closer than "
        "2D²/λ the far-field estimate is not valid and is not given",
    )  # fmt: skip
    tx_power_dbm: float | None = Field(
        default=None, ge=-30, le=80,
        description="conducted transmit power as declared (installer, licence), used only "
        "when the device does not report one",
    )  # fmt: skip

    @field_validator("antenna_gain_dbi")
    @classmethod
    def _gain_range(cls, value: float | dict[str, float] | None) -> object:
        gains = value.values() if isinstance(value, dict) else [] if value is None else [value]
        if any(not -20 <= g <= 60 for g in gains):
            raise ValueError("an antenna gain is between -20 and 60 dBi")
        return value


class TargetRadio(AntennaFigures):
    """A device's radios as the inventory knows them; `radios` overrides per radio."""

    distances_m: Distances | None = Field(
        default=None,
        description="this device's own distances (an AP on a classroom ceiling), over the site's",
    )
    source: str = Field(default="", description="where these figures come from (datasheet...)")
    radios: Mapping[str, AntennaFigures] = Field(
        default_factory=dict,
        description="per radio (the `radio` label of its series, e.g. na/3 or 1): figures "
        "over the device-wide ones",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("radio: give at least one figure (or leave `radio` out)")
        return self

    def figures(self, radio: str) -> AntennaFigures:
        """The figures that apply to one radio: its own, else the device's."""
        own = self.radios.get(radio)
        base = {
            "antenna_gain_dbi": self.antenna_gain_dbi,
            "cable_loss_db": self.cable_loss_db,
            "antenna_size_m": self.antenna_size_m,
            "tx_power_dbm": self.tx_power_dbm,
        }
        if own is not None:
            base.update(own.model_dump(exclude_none=True))
        return AntennaFigures.model_validate(base)
