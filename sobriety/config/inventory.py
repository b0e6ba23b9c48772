"""The asset register's part of the configuration: what an inventory (GLPI, a spreadsheet)
knows of a device that it does not say itself, and the disposal batches handed to DEEE
operators and reuse recipients. Strict models; the loader reports their problems with file,
entry and field like every other section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sobriety.config.types import FieldProblems, IsoDate, Problems
from sobriety.lifetime.classfigures import DataMedia, HazardousPart, WeeeCategory

Route = Literal["reuse", "recycle"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Fault(_Strict):
    """A fault the asset register records (a failed power supply, a printer jam that stays)."""

    part: str = Field(min_length=1, max_length=64, description="what failed: 'power supply 2'")
    noted: IsoDate | None = None
    note: str = Field(default="", max_length=256)
    fixed: IsoDate | None = Field(default=None, description="when it was repaired: not open")


class Hardware(_Strict):
    """What the device has, when it cannot say it itself (no HOST-RESOURCES agent)."""

    processors: int | None = Field(default=None, ge=1, le=4096)
    memory_gib: float | None = Field(default=None, gt=0)
    storage_gb: float | None = Field(default=None, gt=0)


class RatedWear(_Strict):
    """This model's own rated wear figures (its datasheet), over the class's."""

    lamp_hours: float | None = Field(default=None, gt=0)
    pages: float | None = Field(default=None, gt=0)
    source: str = Field(min_length=1, max_length=256)


class AssetRecord(_Strict):
    """A device's entry in the asset register."""

    number: str | None = Field(default=None, min_length=1, max_length=64, description="asset tag")
    vendor: str | None = Field(default=None, max_length=128)
    model: str | None = Field(default=None, max_length=128)
    serial: str | None = Field(default=None, max_length=128)
    software: str | None = Field(
        default=None, max_length=128, description="its operating system or firmware by name"
    )
    support_end: IsoDate | None = Field(
        default=None, description="when its vendor's software support ends (or ended)"
    )
    mass_kg: float | None = Field(default=None, gt=0)
    mass_source: str = Field(default="inventory", min_length=1, max_length=256)
    weee_category: WeeeCategory | None = None
    data_media: DataMedia | None = None
    hazardous_parts: tuple[HazardousPart, ...] | None = Field(
        default=None, description="replaces the class's list"
    )
    hardware: Hardware | None = None
    rated: RatedWear | None = None
    serviced: Mapping[str, IsoDate] = Field(
        default_factory=dict, description="part -> when it was last replaced (battery, fans)"
    )
    faults: tuple[Fault, ...] = ()
    repairable: bool | None = Field(
        default=None, description="false when a repairer has said it cannot be repaired"
    )

    @property
    def open_faults(self) -> tuple[Fault, ...]:
        """Faults not yet repaired."""
        return tuple(f for f in self.faults if f.fixed is None)


class DisposalBatch(_Strict):
    """A batch handed over on one day: to a DEEE operator (recycling) and/or a reuse recipient."""

    date: IsoDate
    operator: str | None = Field(default=None, min_length=1, max_length=128)
    operator_id: str = Field(default="", max_length=32, description="SIRET of the operator")
    recipient: str | None = Field(
        default=None, min_length=1, max_length=128, description="who takes devices for reuse"
    )
    tracking: str = Field(default="", max_length=128, description="bordereau de suivi reference")
    certificate: str = Field(default="", max_length=128, description="treatment certificate")
    note: str = Field(default="", max_length=256)

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.operator is None and self.recipient is None:
            raise FieldProblems([(("operator",), "give an operator, a recipient or both")])
        return self

    def default_route(self) -> Route | None:
        """The route of a device of this batch that does not say its own; None if both fit."""
        if self.recipient is not None and self.operator is None:
            return "reuse"
        if self.operator is not None and self.recipient is None:
            return "recycle"
        return None


class DisposalRecord(_Strict):
    """A device handed over for reuse or recycling: it leaves the active fleet, its history
    stays. Either part of a batch (`batch`), or on its own (`date` and `recycler`)."""

    batch: str | None = Field(default=None, min_length=1, max_length=64)
    route: Route | None = None
    date: IsoDate | None = None
    recycler: str | None = Field(default=None, min_length=1, max_length=128)
    certificate: str = Field(default="", max_length=128)
    erasure_certificate: str = Field(
        default="", max_length=128, description="the data-erasure certificate of this device"
    )
    mass_kg: float | None = Field(default=None, gt=0, description="as weighed at hand-over")

    @model_validator(mode="after")
    def _batch_or_own(self) -> Self:
        problems: Problems = []
        if self.batch is None:
            problems += [((name,), "required without a batch") for name in ("date", "recycler")
                         if getattr(self, name) is None]  # fmt: skip
        if problems:
            raise FieldProblems(problems)
        return self


def batch_problems(
    disposed: DisposalRecord, batches: Mapping[str, DisposalBatch]
) -> list[tuple[str, str]]:
    """(field, message) for a disposal record whose batch is unknown or whose route is unclear."""
    if disposed.batch is None:
        return []
    batch = batches.get(disposed.batch)
    if batch is None:
        known = ", ".join(sorted(batches)) or "none defined"
        return [("batch", f"unknown disposal batch {disposed.batch!r} (known: {known})")]
    if disposed.route is None and batch.default_route() is None:
        return [("route", "the batch has both an operator and a recipient: say reuse or recycle")]
    if disposed.route == "reuse" and batch.recipient is None:
        return [("route", "reuse, but the batch names no recipient")]
    if disposed.route == "recycle" and batch.operator is None:
        return [("route", "recycle, but the batch names no operator")]
    return []
