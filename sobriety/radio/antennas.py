"""Per-model antenna figures from `collectors/radio-antennas.yaml`: the gain of an integrated
antenna for devices that do not report theirs, and whether it is a dish."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sobriety.config.radio import BandGroup
from sobriety.config.types import read_section
from sobriety.errors import ConfigError, ConfigProblem

AntennaKind = Literal["omni", "panel", "sector", "dish"]


class ModelAntenna(BaseModel):
    """One model's integrated antenna."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str = Field(min_length=1)
    model: str = Field(min_length=1, description="regular expression, whole model, any case")
    gain_dbi: float | dict[BandGroup, float]
    kind: AntennaKind = "omni"
    source: str = Field(min_length=1)

    @field_validator("model")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return pattern

    @cached_property
    def model_re(self) -> re.Pattern[str]:
        return re.compile(self.model, re.IGNORECASE)

    def gain(self, group: str | None) -> float | None:
        if isinstance(self.gain_dbi, dict):
            return self.gain_dbi.get(group) if group else None  # type: ignore[call-overload]
        return self.gain_dbi


@dataclass(frozen=True, slots=True)
class TableGain:
    """A gain found in the table, and the entry it came from."""

    gain_dbi: float
    kind: AntennaKind
    source: str


class AntennaTable:
    def __init__(self, entries: tuple[ModelAntenna, ...], sources: dict[str, str]) -> None:
        self.entries = entries
        self.sources = sources

    def lookup(self, vendor: str, model: str, group: str | None) -> TableGain | None:
        """The entry for a device's vendor and model, in the radio's band group."""
        if not model:
            return None
        for entry in self.entries:
            if entry.vendor.lower() != vendor.lower() or not entry.model_re.fullmatch(model):
                continue
            gain = entry.gain(group)
            if gain is not None:
                return TableGain(gain, entry.kind, entry.source)
        return None


def builtin_antennas_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "radio-antennas.yaml"


@cache
def load_antennas(path: Path | None = None) -> AntennaTable:
    """The model table; ConfigError naming the file, entry and field."""
    path = path or builtin_antennas_path()
    entries = read_section(path, "antennas")
    sources = read_section(path, "sources")
    if not isinstance(entries, list) or not isinstance(sources, dict):
        raise ConfigError([ConfigProblem(str(path), "-", "antennas", "a list, with `sources`")])
    out: list[ModelAntenna] = []
    problems: list[ConfigProblem] = []
    for i, entry in enumerate(entries):
        try:
            out.append(ModelAntenna.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "-"
                problems.append(ConfigProblem(str(path), f"antennas[{i}]", where, err["msg"]))
    if problems:
        raise ConfigError(problems)
    return AntennaTable(tuple(out), {str(k): str(v) for k, v in sources.items()})
