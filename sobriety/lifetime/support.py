"""Vendor software support ends, as data: `collectors/support.yaml` plus a site's entries.

An entry matches a device by the software its asset register names or by what the device
reports (vendor, model, firmware); every pattern an entry gives must match. The device's own
`asset.support_end` wins. No match: the support end is unknown, never assumed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sobriety.config.types import IsoDate, read_section
from sobriety.errors import ConfigError, ConfigProblem

MATCHED_FIELDS = ("software", "vendor", "model", "firmware")


class SupportEntry(BaseModel):
    """One product's support end, with where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: str = Field(min_length=1, max_length=128)
    software: str | None = None
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    ends: IsoDate
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _patterns(self) -> Self:
        given = [getattr(self, f) for f in MATCHED_FIELDS if getattr(self, f) is not None]
        if not given:
            raise ValueError(f"give at least one of {', '.join(MATCHED_FIELDS)}")
        for pattern in given:
            re.compile(pattern)  # re.error is a ValueError: reported at the entry
        return self

    def matches(self, known: Mapping[str, str]) -> bool:
        """Whether every pattern this entry gives finds the device's value (case-insensitive)."""
        for name in MATCHED_FIELDS:
            pattern = getattr(self, name)
            if pattern is None:
                continue
            value = known.get(name, "")
            if not value or re.search(pattern, value, re.IGNORECASE) is None:
                return False
        return True


@dataclass(frozen=True, slots=True)
class SupportEnd:
    """When a device's software support ends, for which product, and who says so."""

    ends: date
    product: str
    source: str


@dataclass(frozen=True, slots=True)
class SupportTable:
    """Entries in order; the first that matches wins."""

    entries: tuple[SupportEntry, ...] = ()

    def lookup(self, known: Mapping[str, str]) -> SupportEnd | None:
        for entry in self.entries:
            if entry.matches(known):
                return SupportEnd(entry.ends, entry.product, entry.source)
        return None


def builtin_support_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "support.yaml"


def validation_problems(path: Path, entry: str, exc: ValidationError) -> list[ConfigProblem]:
    """One problem per error of a data file's entry: file, entry, field, message."""
    return [
        ConfigProblem(
            str(path),
            entry,
            ".".join(map(str, e["loc"])) or "-",
            str(e["msg"]).removeprefix("Value error, "),
        )
        for e in exc.errors()
    ]


def parse_entries(
    path: Path, raw: object, section: str
) -> tuple[list[SupportEntry], list[ConfigProblem]]:
    """Validate a list of support entries; problems name the file, the entry and the field."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [ConfigProblem(str(path), "-", section, "a list of support entries")]
    entries: list[SupportEntry] = []
    problems: list[ConfigProblem] = []
    for i, item in enumerate(raw):
        try:
            entries.append(SupportEntry.model_validate(item))
        except ValidationError as exc:
            problems += validation_problems(path, f"{section}[{i}]", exc)
    return entries, problems


def load_support(path: Path | None = None, extra: Sequence[SupportEntry] = ()) -> SupportTable:
    """The shipped table (or `path`), after a site's own entries (which win)."""
    path = path or builtin_support_path()
    entries, problems = parse_entries(path, read_section(path, "entries"), "entries")
    if problems:
        raise ConfigError(problems)
    return SupportTable((*extra, *entries))
