"""What `sobriety export` and `sobriety disposal` write, from a configuration and the stored
state: the tables are built here, the command line only parses and reports.

A daemon's reports cover the targets of its shard. A central report covers every configured
target from the merged snapshots of every daemon's state (`sobriety export state` on each,
`--state FILE` repeated at the centre): facts come from the newest snapshot that has them,
energy bookings are added up (a device moved from one daemon to another has both parts).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sobriety.config.load import Config, TargetConfig
from sobriety.config.shards import owned
from sobriety.energy.classes import load_classes
from sobriety.lifetime.policy import load_policy
from sobriety.reports.eol import EolInputs, EolReport, eol_report, use_by_target
from sobriety.store import EnergyDay, RadioDay, StateStore


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store holds for a report: facts per device and the energy of a period;
    `overlaps` are the (target, day) bookings more than one merged snapshot holds; the
    radios' last facts and their on-time over the period."""

    facts: dict[str, tuple[float, dict[str, object]]]
    days: list[EnergyDay]
    overlaps: list[tuple[str, str]] = field(default_factory=list)
    radios: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    radio_days: list[RadioDay] = field(default_factory=list)

    @classmethod
    def read(
        cls, store: StateStore | None, first: str | None, last: str | None, site: str | None
    ) -> Stored:
        if store is None:
            return cls({}, [])
        return cls(
            store.device_facts(), store.energy_days(first, last, site), [],
            _radio_facts([store]), store.radio_days(first, last, site),
        )  # fmt: skip

    @classmethod
    def merge(
        cls, stores: Sequence[StateStore], first: str | None, last: str | None, site: str | None
    ) -> Stored:
        """Several daemons' snapshots as one store. ValueError if one is given twice."""
        seen: dict[str, str] = {}
        for store in stores:
            if store.instance in seen:
                raise ValueError(
                    f"{store.path} and {seen[store.instance]} are snapshots of the same daemon: "
                    "give each daemon's newest once"
                )
            seen[store.instance] = str(store.path)
        facts: dict[str, tuple[float, dict[str, object]]] = {}
        days: list[EnergyDay] = []
        booked: dict[tuple[str, str], str] = {}
        overlaps: set[tuple[str, str]] = set()
        radio_days: list[RadioDay] = []
        for store in stores:
            for target, (at, known) in store.device_facts().items():
                if target not in facts or at > facts[target][0]:
                    facts[target] = (at, known)
            mine = store.energy_days(first, last, site)
            for day in mine:
                who = booked.setdefault((day.target, day.day), store.instance)
                if who != store.instance:
                    overlaps.add((day.target, day.day))
            days += mine
            radio_days += store.radio_days(first, last, site)
        return cls(facts, days, sorted(overlaps), _radio_facts(stores), radio_days)


def _radio_facts(stores: Sequence[StateStore]) -> dict[tuple[str, str], dict[str, object]]:
    """Each radio's last facts, the newest observation across the stores."""
    newest: dict[tuple[str, str], tuple[float, str | None]] = {}
    for store in stores:
        for row in store.radio_rows():
            key, at = (row.target, row.radio), row.at if row.at is not None else 0.0
            if key not in newest or at > newest[key][0]:
                newest[key] = (at, row.facts)
    return {key: json.loads(text or "{}") for key, (_, text) in newest.items()}


def scoped(
    config: Config,
    *,
    site: str | None = None,
    organisations: Collection[str] | None = None,
    everything: bool = False,
) -> Config:
    """The configuration with the targets a report covers: this daemon's shard (every
    target with `everything`, for a central report), of one site, of some organisations."""
    mine = None if everything else owned(config)

    def kept(t: TargetConfig) -> bool:
        return (
            (mine is None or t.id in mine)
            and (site is None or t.site == site)
            and (organisations is None or config.organisation_of(t) in organisations)
        )

    return config.model_copy(update={"targets": tuple(t for t in config.targets if kept(t))})


def build_eol_report(
    config: Config, stored: Stored, period: tuple[str | None, str | None], at: float | None = None
) -> EolReport:
    """The end-of-life list; energy over `period`, devices never polled from the inventory."""
    policy = load_policy(config.settings.eol_policy)
    use = use_by_target((day.target, day.joules) for day in stored.days)
    when = at if at is not None else datetime.now(UTC).timestamp()
    inputs = EolInputs(config, load_classes(), stored.facts, use, policy, when)
    return eol_report(inputs, period)
