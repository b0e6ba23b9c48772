"""A UPS's own losses: measured where it reports input and output power, else from the load
it carries, its rating, its topology and its mode (`collectors/ups-efficiency.yaml`).

What a UPS delivers at its output is not its own: that is what its loads use. Its own use is
the difference between what it draws and what it delivers. Most UPS cards report only the
output (UPS-MIB upsInputTruePower reads 0 on every line of many of them: "not implemented",
never "0 W"); then the losses come from the three-term curve of the file above, with a band.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sobriety.config.types import read_section
from sobriety.energy.readings import PowerReading, states, values
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.model import Sample

Topology = Literal["double_conversion", "line_interactive", "standby", "eco", "unknown"]
TOPOLOGIES: tuple[Topology, ...] = ("double_conversion", "line_interactive", "standby", "eco")


class LossTerms(BaseModel):
    """fixed + no_load × rating + proportional × load + square_law × load² / rating (watts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fixed_watts: float = Field(ge=0)
    no_load: float = Field(ge=0, lt=1)
    proportional: float = Field(ge=0, lt=1)
    square_law: float = Field(ge=0, lt=1)

    def loss(self, load: float, rating: float) -> float:
        return (
            self.fixed_watts
            + self.no_load * rating
            + self.proportional * load
            + (self.square_law * load * load / rating if rating > 0 else 0.0)
        )


class Curve(BaseModel):
    """The booked (`typical`) losses of one topology and its band."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: LossTerms
    typical: LossTerms
    high: LossTerms


class ModelRule(BaseModel):
    """A model-string pattern and what it says: a topology, or a rating in watts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str
    source: str = Field(min_length=1)
    topology: Topology | None = None
    watts: float | None = Field(default=None, gt=0)

    def matches(self, model: str) -> bool:
        return re.search(self.match, model) is not None


class UpsEfficiency(BaseModel):
    """The whole file: curves per topology, topology and rating rules by model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    curves: Mapping[Topology, Curve]
    topologies: tuple[ModelRule, ...] = ()
    ratings: tuple[ModelRule, ...] = ()

    def topology_of(self, model: str) -> Topology:
        return next((r.topology for r in self.topologies if r.topology and r.matches(model)),
                    "unknown")  # fmt: skip

    def rating_of(self, model: str) -> float | None:
        return next((r.watts for r in self.ratings if r.watts and r.matches(model)), None)

    def band(self, topology: Topology, load: float, rating: float) -> tuple[float, float, float]:
        """(low, typical, high) losses in watts; an unknown topology spans every curve."""
        if topology == "unknown":
            lows = [c.low.loss(load, rating) for c in self.curves.values()]
            highs = [c.high.loss(load, rating) for c in self.curves.values()]
            typical = self.curves["double_conversion"].typical.loss(load, rating)
            return min(lows), typical, max(highs)
        curve = self.curves[topology]
        return (curve.low.loss(load, rating), curve.typical.loss(load, rating),
                curve.high.loss(load, rating))  # fmt: skip


def builtin_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "ups-efficiency.yaml"


def load_efficiency(path: Path | None = None) -> UpsEfficiency:
    """The curves in `path` (default: the shipped file); ConfigError names file and field."""
    path = path or builtin_path()
    raw = {key: read_section(path, key) for key in ("curves", "topologies", "ratings")}
    try:
        found = UpsEfficiency.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    str(path),
                    ".".join(map(str, e["loc"][:-1])) or "-",
                    str(e["loc"][-1]) if e["loc"] else "-",
                    e["msg"],
                )
                for e in exc.errors()
            ]
        ) from None
    missing = [t for t in TOPOLOGIES if t not in found.curves]
    if missing:
        raise ConfigError([ConfigProblem(str(path), "curves", m, "missing") for m in missing])
    return found


@lru_cache(maxsize=1)
def shipped_efficiency() -> UpsEfficiency:
    return load_efficiency()


@dataclass(frozen=True, slots=True)
class UpsOutput:
    """What the UPS delivers now, and how that is known."""

    watts: float
    origin: str  # ups-output (measured watts) | ups-load-x-rating (load ratio × rating)
    rating: float | None


# Output source states (UPS-MIB upsOutputSource; APC upsBasicOutputStatus is folded into the
# same states by its profile) that mean the mains pass through with no conversion.
PASS_THROUGH = {"bypass", "eco"}
ON_BATTERY = {"battery"}  # the inverter carries the load whatever the topology


def output(samples: Sequence[Sample], model: str, table: UpsEfficiency) -> UpsOutput | None:
    """The output watts: measured per line, else the load ratio times the rating."""
    rated = values(samples, "sobriety_ups_rated_power_watts")
    rating = rated[0] if rated and rated[0] > 0 else table.rating_of(model)
    watts = values(samples, "sobriety_ups_output_power_watts")
    if watts and all(w >= 0 for w in watts):
        return UpsOutput(sum(watts), "ups-output", rating)
    load = values(samples, "sobriety_ups_output_load_ratio")
    if load and rating is not None:  # per-line loads of a 3-phase UPS: their mean
        return UpsOutput(sum(load) / len(load) * rating, "ups-load-x-rating", rating)
    return None


def losses(
    samples: Sequence[Sample],
    model: str,
    declared: Topology | None,
    table: UpsEfficiency | None = None,
) -> PowerReading | None:
    """The UPS's own power now: measured input − output, else the curve; None if unknown."""
    table = table or shipped_efficiency()
    out = output(samples, model, table)
    inputs = values(samples, "sobriety_ups_input_power_watts")
    # a real input reading (0 W in on a loaded UPS is "not implemented", not 0 W)
    total_in = sum(inputs)
    if out is not None and out.origin == "ups-output" and total_in > 0 and total_in >= out.watts:
        return PowerReading.measured(total_in - out.watts, "ups-input-minus-output")
    if out is None or out.rating is None:
        return None
    mode = states(samples, "sobriety_ups_output_source")
    topology: Topology = declared or table.topology_of(model)
    if mode & PASS_THROUGH and topology in ("double_conversion", "unknown"):
        topology, how = "eco", "bypass"
    elif mode & ON_BATTERY:
        topology, how = "double_conversion", "on-battery"
    else:
        how = topology
    low, typical, high = table.band(topology, out.watts, out.rating)
    return PowerReading(typical, "estimated", f"ups-curve:{how}", low, high, basis="state")
