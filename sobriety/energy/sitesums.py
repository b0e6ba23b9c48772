"""Each site's energy, carbon, cost and waste by class, kept as bookings are made.

The site series were sums over every key's totals, made again for each scrape and each
evaluation of the site alert rules: O(fleet) several times a minute (6 ms at 1,000 devices,
about a third of a scrape). They are now added to as each booking is made (O(1) a poll) and
summed over the totals only when the totals or the classes are (re)loaded.

Waste (energy after hours or on holidays, for classes that can be switched off) carries the
carbon and cost of the bookings made in that period. Summed from totals (at start), it is a
total's carbon times the period's share of its energy: the same figure while a site's grid
intensity and price do not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from sobriety.energy.classes import DeviceClass
from sobriety.store import EnergyKey

WASTE_PERIODS = ("after_hours", "holiday")
# How waste is labelled by what its energy rests on.
WASTE_SOURCE = {"measured": "measured", "state": "estimated", "assumed": "assumed"}

Amounts = tuple[float, float, float]  # joules, grams of CO2e, euros


class Booked(Protocol):
    """What one key has used so far (`accounting.Totals`)."""

    joules: float
    by_period: dict[str, float]
    gco2e: float
    cost: float


class SiteSums:
    """Per (site, class): joules by source, carbon, cost, and waste by period and source.

    Read from a scrape's worker thread while the event loop books: every value is replaced
    whole (a float, a tuple), never changed in place, and readers take copies.
    """

    def __init__(self) -> None:
        self.energy: dict[tuple[str, str, str], float] = {}  # (site, class, source)
        self.carbon: dict[tuple[str, str], float] = {}
        self.cost: dict[tuple[str, str], float] = {}
        self.waste: dict[tuple[str, str, str, str], Amounts] = {}  # (site, class, period, source)

    def book(
        self,
        key: EnergyKey,
        period: str,
        amounts: Amounts,
        classes: Mapping[str, DeviceClass],
    ) -> None:
        """Add one booking (positive joules) made in `period`."""
        self._add(key, amounts)
        if _can_be_off(classes, key.device_class):
            self._add_waste(key, {period: amounts})

    def rebuild(
        self,
        totals: Mapping[EnergyKey, Booked],
        classes: Mapping[str, DeviceClass],
    ) -> None:
        """Sum again from every key's totals: at start and at each reload (the classes may
        have changed). A series there before and after never goes down (rounding must not
        look like a counter reset)."""
        fresh = SiteSums()
        for key, t in totals.items():
            fresh._add(key, (t.joules, t.gco2e, t.cost))
            if t.joules > 0 and _can_be_off(classes, key.device_class):
                shares = {p: t.by_period[p] / t.joules for p in WASTE_PERIODS}
                fresh._add_waste(key, {p: (t.by_period[p], t.gco2e * share, t.cost * share)
                                       for p, share in shares.items()})  # fmt: skip
        self.energy = _not_below(fresh.energy, self.energy)
        self.carbon = _not_below(fresh.carbon, self.carbon)
        self.cost = _not_below(fresh.cost, self.cost)
        waste: dict[tuple[str, str, str, str], Amounts] = {}
        for k, (j, g, c) in fresh.waste.items():
            oj, og, oc = self.waste.get(k, (j, g, c))
            waste[k] = (max(j, oj), max(g, og), max(c, oc))
        self.waste = waste

    def _add(self, key: EnergyKey, amounts: Amounts) -> None:
        joules, grams, euros = amounts
        energy_key, pair = (key.site, key.device_class, key.source), (key.site, key.device_class)
        self.energy[energy_key] = self.energy.get(energy_key, 0.0) + joules
        self.carbon[pair] = self.carbon.get(pair, 0.0) + grams
        self.cost[pair] = self.cost.get(pair, 0.0) + euros

    def _add_waste(self, key: EnergyKey, by_period: Mapping[str, Amounts]) -> None:
        source = WASTE_SOURCE.get(key.basis, "assumed")
        for period in WASTE_PERIODS:  # both periods shown once a class has energy at a site
            waste_key = (key.site, key.device_class, period, source)
            j, g, c = self.waste.get(waste_key, (0.0, 0.0, 0.0))
            dj, dg, dc = by_period.get(period, (0.0, 0.0, 0.0))
            self.waste[waste_key] = (j + dj, g + dg, c + dc)


def _can_be_off(classes: Mapping[str, DeviceClass], name: str) -> bool:
    known = classes.get(name)
    return known is not None and known.can_be_off


K = TypeVar("K")


def _not_below(fresh: dict[K, float], old: Mapping[K, float]) -> dict[K, float]:
    return {k: max(v, old.get(k, v)) for k, v in fresh.items()}
