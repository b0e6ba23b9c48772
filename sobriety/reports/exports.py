"""What `sobriety export` and `sobriety disposal` write, from a configuration and the stored
state: the tables are built here, the command line only parses and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sobriety.config.load import Config
from sobriety.energy.classes import load_classes
from sobriety.lifetime.policy import load_policy
from sobriety.reports.eol import EolInputs, EolReport, eol_report, use_by_target
from sobriety.store import EnergyDay, RadioDay, StateStore


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store holds for a report: facts per device and the energy of a period; the
    radios' last facts and their on-time over the period."""

    facts: dict[str, tuple[float, dict[str, object]]]
    days: list[EnergyDay]
    radios: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    radio_days: list[RadioDay] = field(default_factory=list)

    @classmethod
    def read(
        cls, store: StateStore | None, first: str | None, last: str | None, site: str | None
    ) -> Stored:
        if store is None:
            return cls({}, [])
        radios = {(r.target, r.radio): json.loads(r.facts or "{}") for r in store.radio_rows()}
        return cls(
            store.device_facts(), store.energy_days(first, last, site), radios,
            store.radio_days(first, last, site),
        )  # fmt: skip


def only_site(config: Config, site: str | None) -> Config:
    """The configuration with the targets of one site (all when `site` is None)."""
    if site is None:
        return config
    return config.model_copy(update={"targets": tuple(t for t in config.targets if t.site == site)})


def build_eol_report(
    config: Config, stored: Stored, period: tuple[str | None, str | None], at: float | None = None
) -> EolReport:
    """The end-of-life list; energy over `period`, devices never polled from the inventory."""
    policy = load_policy(config.settings.eol_policy)
    use = use_by_target((day.target, day.joules) for day in stored.days)
    when = at if at is not None else datetime.now(UTC).timestamp()
    inputs = EolInputs(config, load_classes(), stored.facts, use, policy, when)
    return eol_report(inputs, period)
