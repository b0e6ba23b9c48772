"""Device classes as data: the power, life, embodied carbon and mass of each kind of device.

Loaded from `collectors/classes.yaml` (figures carried over from the shared reference with
their sources). A site may override any figure of a class, and a target its own power
figures (datasheet or measured once), so estimates use the best numbers known.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sobriety.config.types import read_section
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.lifetime.classfigures import EndOfLifeFigures

Model = Literal[
    "constant", "cpu_linear", "printer_state", "power_state", "switch", "ups_loss", "vcpu_share"
]


class PowerFigures(BaseModel):
    """Watts of a device: idle (or sleep), typical, maximum. None is unknown, never zero."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    idle_watts: float | None = Field(default=None, ge=0)
    typical_watts: float | None = Field(default=None, ge=0)
    max_watts: float | None = Field(default=None, ge=0)


class ClassOverride(PowerFigures):
    """What a site changes in a class: any figure, with where it comes from."""

    embodied_kgco2e: float | None = Field(default=None, ge=0)
    lifetime_years: float | None = Field(default=None, gt=0)
    mass_kg: float | None = Field(default=None, ge=0)
    source: str = "site"


class DeviceClass(ClassOverride):
    """One class of `collectors/classes.yaml`."""

    description: str
    model: Model = "constant"
    can_be_off: bool = False
    source: str = Field(min_length=1)
    end_of_life: EndOfLifeFigures | None = None  # service life, wear, WEEE hand-over facts

    def with_override(self, override: ClassOverride | PowerFigures | None) -> DeviceClass:
        """This class with the figures `override` sets (a site's or a target's)."""
        if override is None:
            return self
        changes = override.model_dump(exclude_none=True, exclude={"source"})
        if not changes:
            return self
        note = getattr(override, "source", "target")
        return self.model_copy(
            update={**changes, "source": f"{self.source}; overridden by {note}: {sorted(changes)}"}
        )


def builtin_classes_path() -> Path:
    """`classes.yaml` shipped with sobriety."""
    from sobriety.resources import data_dir

    return data_dir("collectors") / "classes.yaml"


def load_classes(path: Path | None = None) -> Mapping[str, DeviceClass]:
    """Every class by name; ConfigError naming the file, the class and the field."""
    path = path or builtin_classes_path()
    entries = read_section(path, "classes")
    if not isinstance(entries, dict):
        raise ConfigError([ConfigProblem(str(path), "-", "classes", "a mapping of classes")])
    out: dict[str, DeviceClass] = {}
    problems: list[ConfigProblem] = []
    for name, body in entries.items():
        try:
            out[str(name)] = DeviceClass.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "-"
                problems.append(ConfigProblem(str(path), f"class {name}", field, err["msg"]))
    if problems:
        raise ConfigError(problems)
    return out
