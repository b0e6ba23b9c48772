"""What end of life needs to know of a device class: service life, wear ratings, service
intervals, and the hand-over facts a DEEE operator asks for (WEEE category, mass, parts to
remove, data-bearing media). Every figure carries its source; a missing one is unknown.

These figures sit under `end_of_life:` in `collectors/classes.yaml`; `DeviceClass` holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Directive 2012/19/EU Annex III: the six categories of electrical and electronic equipment.
WeeeCategory = Literal[1, 2, 3, 4, 5, 6]
WEEE_CATEGORIES: dict[int, str] = {
    1: "Temperature exchange equipment",
    2: "Screens, monitors, and equipment containing screens having a surface greater than 100 cm²",
    3: "Lamps",
    4: "Large equipment (any external dimension more than 50 cm)",
    5: "Small equipment (no external dimension more than 50 cm)",
    6: "Small IT and telecommunication equipment (no external dimension more than 50 cm)",
}

# Directive 2012/19/EU Annex VII: components to remove from separately collected WEEE, as
# the parts a device of these classes holds.
HazardousPart = Literal[
    "lead_acid_battery",
    "lithium_battery",
    "coin_cell_battery",
    "mercury_lamp",
    "toner",
    "lcd_panel",
    "circuit_boards",
    "electrolytic_capacitors",
    "external_cables",
]
HAZARDOUS_PARTS: dict[str, str] = {
    "lead_acid_battery": "lead-acid battery (batteries)",
    "lithium_battery": "lithium-ion battery (batteries)",
    "coin_cell_battery": "coin cell on the main board (batteries)",
    "mercury_lamp": "high-pressure mercury lamp (mercury-containing components, gas discharge "
    "lamps)",
    "toner": "toner cartridges and colour toner",
    "lcd_panel": "liquid crystal display over 100 cm²",
    "circuit_boards": "printed circuit boards over 10 cm²",
    "electrolytic_capacitors": "electrolyte capacitors over 25 mm",
    "external_cables": "external electric cables",
}

# What a device keeps that must not leave with it: `storage` (disks, SSD, flash with user
# data: certified erasure), `config` (flash or NVRAM holding configuration and credentials:
# reset to factory settings), `none`.
DataMedia = Literal["storage", "config", "none"]


class ServiceItem(BaseModel):
    """A part replaced on a schedule (UPS batteries, fans, capacitors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every_years: float = Field(gt=0)
    min_rated_watts: float | None = Field(
        default=None,
        gt=0,
        description="applies only to devices whose rating is known and at least this",
    )
    source: str = Field(min_length=1)


class EndOfLifeFigures(BaseModel):
    """A class's end-of-life figures. None is unknown, never zero."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_life_years: float | None = Field(default=None, gt=0)
    service_life_source: str = ""
    weee_category: WeeeCategory | None = None
    weee_source: str = Field(min_length=1)
    mass_kg_min: float | None = Field(default=None, ge=0)
    mass_kg_max: float | None = Field(default=None, gt=0)
    mass_source: str = ""
    hazardous_parts: tuple[HazardousPart, ...] = ()
    hazardous_source: str = ""
    data_media: DataMedia | None = None
    data_media_source: str = ""
    lamp_rated_hours: float | None = Field(default=None, gt=0)
    rated_pages: float | None = Field(default=None, gt=0)
    wear_source: str = ""
    service_items: Mapping[str, ServiceItem] = Field(default_factory=dict)
    free_os_candidate: bool = Field(
        default=False, description="a PC that may take a lighter free OS when its own ends"
    )

    @model_validator(mode="after")
    def _sourced(self) -> Self:
        pairs = (
            (self.service_life_years, self.service_life_source, "service_life_source"),
            (self.mass_kg_min or self.mass_kg_max, self.mass_source, "mass_source"),
            (self.hazardous_parts or None, self.hazardous_source, "hazardous_source"),
            (self.data_media, self.data_media_source, "data_media_source"),
            (self.lamp_rated_hours or self.rated_pages, self.wear_source, "wear_source"),
        )
        missing = [name for value, source, name in pairs if value is not None and not source]
        if missing:
            raise ValueError(f"a figure needs its source: {', '.join(missing)}")
        if (
            self.mass_kg_min is not None
            and self.mass_kg_max is not None
            and self.mass_kg_min > self.mass_kg_max
        ):
            raise ValueError("mass_kg_min is above mass_kg_max")
        return self
