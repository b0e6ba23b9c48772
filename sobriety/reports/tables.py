"""Reports from the stored state: energy over a date range and open data (the end-of-life list
is `eol.py`).

Rows come from the daily energy bookings (`StateStore.energy_days`), summed over the range,
so a report over all days equals the counters the daemon exposes. They are written by
`writers.py` (CSV, JSON, ODS, in French by default). The open-data package is a machine
format: fixed English field names, plain UTF-8 CSV, a Frictionless descriptor.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sobriety.config.load import Config, TargetConfig
from sobriety.lifetime.tracker import SECONDS_PER_YEAR, age_of
from sobriety.reports.i18n import N_, Lang
from sobriety.reports.writers import Column, Table, Value
from sobriety.store import EnergyDay

JOULES_PER_KWH = 3.6e6
ENERGY_UNITS = {"kwh": "kWh", "gco2e": "gCO2e", "cost": "the site's currency (EUR)"}
ENERGY_COLUMNS = (
    "level",  # device, class, site, share (of a shared site) or organisation
    "organisation",  # the site's owner; on share and organisation rows, who pays
    "site",
    "class",
    "target",
    "share",  # the key of a share row (0 to 1)
    "kwh",
    "measured_kwh",
    "estimated_kwh",
    "measured_share",
    "open_kwh",
    "after_hours_kwh",
    "holiday_kwh",
    "gco2e",
    "cost",
)


@dataclass
class _Sum:
    measured: float = 0.0
    estimated: float = 0.0
    open: float = 0.0
    after_hours: float = 0.0
    holiday: float = 0.0
    gco2e: float = 0.0
    cost: float = 0.0

    def add(self, day: EnergyDay) -> None:
        if day.source == "measured":
            self.measured += day.joules
        else:
            self.estimated += day.joules
        self.open += day.periods[0]
        self.after_hours += day.periods[1]
        self.holiday += day.periods[2]
        self.gco2e += day.gco2e
        self.cost += day.cost

    def scaled(self, key: float) -> _Sum:
        """This sum times a key (a share of a shared site)."""
        return _Sum(*(key * getattr(self, f) for f in _SUM_FIELDS))

    def plus(self, other: _Sum) -> None:
        for name in _SUM_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(
        self, level: str, where: tuple[str, str], cls: str, target: str, key: float | None = None
    ) -> list[object]:
        total = self.measured + self.estimated
        return [
            level,
            where[0],
            where[1],
            cls,
            target,
            key,
            round(total / JOULES_PER_KWH, 6),
            round(self.measured / JOULES_PER_KWH, 6),
            round(self.estimated / JOULES_PER_KWH, 6),
            round(self.measured / total, 4) if total else 0.0,
            round(self.open / JOULES_PER_KWH, 6),
            round(self.after_hours / JOULES_PER_KWH, 6),
            round(self.holiday / JOULES_PER_KWH, 6),
            round(self.gco2e, 3),
            round(self.cost, 4),
        ]


_SUM_FIELDS = ("measured", "estimated", "open", "after_hours", "holiday", "gco2e", "cost")


@dataclass(frozen=True, slots=True)
class Owners:
    """Who owns each site and who pays for the shared ones, as the configuration says."""

    owner: Mapping[str, str] = field(default_factory=dict)  # site -> organisation
    shares: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # declared keys

    @classmethod
    def of(cls, config: Config) -> Owners:
        owner = {sid: site.organisation for sid, site in config.sites.items() if site.organisation}
        shares = {sid: dict(site.shares) for sid, site in config.sites.items() if site.shares}
        return cls(owner, shares)

    def keys(self, site: str) -> Mapping[str, float]:
        """Who pays for a site: its declared shares, else all to its owner."""
        if site in self.shares:
            return self.shares[site]
        return {self.owner[site]: 1.0} if site in self.owner else {}


def energy_rows(
    days: Iterable[EnergyDay], owners: Owners | None = None, organisation: str | None = None
) -> list[list[object]]:
    """One row per device, then per (site, class), per site, per share of a shared site
    (the site's figures times each organisation's key: the shares of a site sum to it), and
    per organisation (its sites' figures times its keys: what it is re-invoiced). With
    `organisation`, the rows of its own sites, its shares and its total only."""
    owners = owners or Owners()
    devices: dict[tuple[str, str, str], _Sum] = {}
    classes: dict[tuple[str, str], _Sum] = {}
    sites: dict[str, _Sum] = {}
    for day in days:
        devices.setdefault((day.site, day.device_class, day.target), _Sum()).add(day)
        classes.setdefault((day.site, day.device_class), _Sum()).add(day)
        sites.setdefault(day.site, _Sum()).add(day)

    def mine(site: str) -> bool:
        return organisation is None or owners.owner.get(site) == organisation

    def at(site: str) -> tuple[str, str]:
        return owners.owner.get(site, ""), site

    rows = [s.row("device", at(k[0]), k[1], k[2]) for k, s in sorted(devices.items())
            if mine(k[0])]  # fmt: skip
    rows += [s.row("class", at(site), cls, "") for (site, cls), s in sorted(classes.items())
             if mine(site)]  # fmt: skip
    rows += [s.row("site", at(site), "", "") for site, s in sorted(sites.items()) if mine(site)]
    totals: dict[str, _Sum] = {}
    for site, s in sorted(sites.items()):
        for org, key in sorted(owners.keys(site).items()):
            if organisation is not None and org != organisation:
                continue
            part = s.scaled(key)
            if site in owners.shares:
                rows.append(part.row("share", (org, site), "", "", key))
            totals.setdefault(org, _Sum()).plus(part)
    rows += [s.row("organisation", (org, ""), "", "") for org, s in sorted(totals.items())]
    return rows


ENERGY_LEVEL_WORDS = {
    "device": N_("device"), "class": N_("class"), "site": N_("site"), "share": N_("share"),
    "organisation": N_("organisation"),
}  # fmt: skip
ENERGY_TABLE: tuple[Column, ...] = (
    Column("level", N_("Level"), width_cm=2),
    Column("organisation", N_("Organisation"), width_cm=3),
    Column("site", N_("Site"), width_cm=2.5),
    Column("class", N_("Class"), width_cm=3.5),
    Column("target", N_("Device"), width_cm=4.5),
    Column("share", N_("Share key"), "number", N_("0 to 1"), 4, 2.2),
    Column("kwh", N_("Energy"), "number", N_("kWh"), 6, 2.6),
    Column("measured_kwh", N_("Measured energy"), "number", N_("kWh"), 6, 2.6),
    Column("estimated_kwh", N_("Estimated energy"), "number", N_("kWh"), 6, 2.6),
    Column("measured_share", N_("Measured share"), "number", N_("0 to 1"), 4, 2.4),
    Column("open_kwh", N_("Energy while open"), "number", N_("kWh"), 6, 2.6),
    Column("after_hours_kwh", N_("Energy after hours"), "number", N_("kWh"), 6, 2.6),
    Column("holiday_kwh", N_("Energy on closed days"), "number", N_("kWh"), 6, 2.6),
    Column("gco2e", N_("Carbon"), "number", N_("gCO2e"), 3, 2.4),
    Column("cost", N_("Cost"), "number", N_("the site's currency"), 4, 2.4),
)


def energy_table(rows: Sequence[Sequence[object]], lang: Lang, meta: dict[str, object]) -> Table:
    """The energy rows as a table to write, in `lang`."""
    worded: list[list[Value]] = []
    for row in rows:
        level = str(row[0])
        line = [lang(ENERGY_LEVEL_WORDS.get(level, level)), *row[1:]]
        worded.append(line)  # type: ignore[arg-type]
    return Table(ENERGY_TABLE, worded, N_("Energy"), meta)


# --- open data --------------------------------------------------------------------------------

AGE_BUCKETS = ((0, 2), (2, 4), (4, 6), (6, 8), (8, None))


def _bucket(lo: int, hi: int | None) -> str:
    return f"age_{lo}_{hi}" if hi is not None else f"age_{lo}_plus"


def _bucket_text(lo: int, hi: int | None) -> str:
    return f"Devices aged {lo} to {hi} years" if hi is not None else f"Devices aged {lo}+ years"


OPENDATA_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("organisation", "string", "Organisation owning the site, as the publisher names it"),
    ("site", "string", "Site identifier as the publisher names it"),
    ("class", "string", "Device class (sobriety collectors/classes.yaml)"),
    ("devices", "integer", "Devices in service (disposed ones excluded)"),
    ("disposed", "integer", "Devices handed over for reuse or recycling"),
    *((_bucket(lo, hi), "integer", _bucket_text(lo, hi)) for lo, hi in AGE_BUCKETS),
    ("age_unknown", "integer", "Devices of unknown age"),
    ("mean_age_years", "number", "Mean age of the devices of known age, years"),
    ("kwh", "number", "Electricity used, kWh (measured and estimated)"),
    ("measured_share", "number", "Share of that energy that was measured, 0 to 1"),
    ("gco2e", "number", "Use-phase carbon, grams CO2e"),
    ("cost_eur", "number", "Electricity cost, euros"),
    ("keep", "integer", "Devices recommended: keep"),
    ("reuse", "integer", "Devices recommended: reuse"),
    ("service", "integer", "Devices recommended: service"),
    ("repair", "integer", "Devices recommended: repair"),
    ("recycle", "integer", "Devices recommended: recycle"),
)  # fmt: skip
RECOMMENDATIONS = ("keep", "reuse", "service", "repair", "recycle")


def opendata_rows(
    targets: Sequence[TargetConfig],
    facts: Mapping[str, tuple[float, Mapping[str, object]]],
    energy: Iterable[EnergyDay],
    at: float,
    owners: Owners | None = None,
) -> list[list[object]]:
    """Per site and class aggregates only: no serial, address, name or per-person data.
    Unknown stays unknown: a mean age of no known age, a measured share of no energy, are
    empty cells, never 0. A device that never answered counts with its inventory age."""
    groups: dict[tuple[str, str], dict[str, float]] = {}
    owner = owners.owner if owners is not None else {}

    def group(site: str, cls: str) -> dict[str, float]:
        return groups.setdefault((site, cls), {name: 0.0 for name, _, _ in OPENDATA_FIELDS[3:]})

    ages: dict[tuple[str, str], list[float]] = {}
    for t in targets:
        g = group(t.site, t.device_class or "")
        if t.disposed is not None:
            g["disposed"] += 1
            continue
        g["devices"] += 1
        known = facts.get(t.id, (0.0, {}))[1]
        age = known.get("age_years") if known else _inventory_age(t, at)
        if isinstance(age, int | float):
            ages.setdefault((t.site, t.device_class or ""), []).append(float(age))
            for lo, hi in AGE_BUCKETS:
                if age >= lo and (hi is None or age < hi):
                    g[_bucket(lo, hi)] += 1
        else:
            g["age_unknown"] += 1
        action = known.get("action")
        if action in RECOMMENDATIONS:
            g[str(action)] += 1
    measured: dict[tuple[str, str], float] = {}
    for row in energy:
        g = group(row.site, row.device_class)
        g["kwh"] += row.joules / JOULES_PER_KWH
        g["gco2e"] += row.gco2e
        g["cost_eur"] += row.cost
        if row.source == "measured":
            key = (row.site, row.device_class)
            measured[key] = measured.get(key, 0.0) + row.joules
    table: list[list[object]] = []
    for (site, cls), g in sorted(groups.items()):
        known_ages = ages.get((site, cls), [])
        total = g["kwh"] * JOULES_PER_KWH
        computed: dict[str, float | None] = {
            **g,
            "mean_age_years": sum(known_ages) / len(known_ages) if known_ages else None,
            "measured_share": measured.get((site, cls), 0.0) / total if total else None,
        }
        line: list[object] = [owner.get(site, ""), site, cls]
        for name, kind, _ in OPENDATA_FIELDS[3:]:
            value = computed[name]
            if value is None:
                line.append(None)
            else:
                line.append(int(value) if kind == "integer" else round(value, 4))
        table.append(line)
    return table


def _inventory_age(target: TargetConfig, at: float) -> float | None:
    age = age_of(target, (), None)
    return (at - age.start) / SECONDS_PER_YEAR if age is not None else None


SHARE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("site", "string", "Shared site (a server room several organisations use)"),
    ("organisation", "string", "Organisation paying a share of it"),
    ("share", "number", "Its key, 0 to 1 (the keys of a site sum to 1)"),
    ("kwh", "number", "Its share of the site's electricity, kWh"),
    ("gco2e", "number", "Its share of the site's use-phase carbon, grams CO2e"),
    ("cost_eur", "number", "Its share of the site's electricity cost, euros"),
)


def share_rows(energy_table_rows: Iterable[Sequence[object]]) -> list[list[object]]:
    """The `share` rows of `energy_rows`, as the open-data resource lists them."""
    index = {name: i for i, name in enumerate(ENERGY_COLUMNS)}
    return [
        [row[index["site"]], row[index["organisation"]], row[index["share"]],
         row[index["kwh"]], row[index["gco2e"]], row[index["cost"]]]
        for row in energy_table_rows if row[0] == "share"
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who publishes an open-data package: a name, and the SIREN of a French public body."""

    name: str
    siren: str | None = None


def _csv(folder: Path, name: str, fields: Sequence[tuple[str, str, str]],
         rows: Iterable[Sequence[object]]) -> None:  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f for f, _, _ in fields])
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    (folder / name).write_text(buffer.getvalue(), encoding="utf-8")


def _resource(name: str, fields: Sequence[tuple[str, str, str]], key: list[str]
              ) -> dict[str, object]:  # fmt: skip
    return {
        "name": name,
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {
            "fields": [{"name": n, "type": k, "description": d} for n, k, d in fields],
            "primaryKey": key,
        },
    }


def write_opendata(
    folder: Path,
    rows: Sequence[Sequence[object]],
    publisher: Publisher,
    period: tuple[str | None, str | None] = (None, None),
    shares: Sequence[Sequence[object]] = (),
    radio_rows: Sequence[Sequence[object]] = (),
) -> Path:
    """`fleet-by-site.csv`, `radio-by-site.csv` (reports/radio.py) and their Frictionless
    Data Package descriptor, Licence Ouverte 2.0; `energy-shares.csv` too when shared sites'
    keys are given. The energy and on-time figures cover `period` (ISO days, inclusive) when
    one is given."""
    from sobriety.reports.radio import OPENDATA_RADIO_FIELDS

    folder.mkdir(parents=True, exist_ok=True)
    _csv(folder, "fleet-by-site.csv", OPENDATA_FIELDS, rows)
    _csv(folder, "radio-by-site.csv", OPENDATA_RADIO_FIELDS, radio_rows)
    resources = [
        _resource("fleet-by-site", OPENDATA_FIELDS, ["site", "class"]),
        _resource("radio-by-site", OPENDATA_RADIO_FIELDS, ["site"]),
    ]
    if shares:
        _csv(folder, "energy-shares.csv", SHARE_FIELDS, shares)
        resources.append(_resource("energy-shares", SHARE_FIELDS, ["site", "organisation"]))
    package: dict[str, object] = {
        "profile": "tabular-data-package",
        "name": "sobriety-fleet-by-site",
        "title": "Energy and lifetime of a public IT fleet, per site and device class; its "
        "radio transmitters per site",
        "description": "Aggregates published by sobriety: no serial numbers, addresses, device "
        "names, rooms, positions or per-person data. EIRP figures are estimates from what the "
        "transmitters declare, not measurements of exposure.",
        "publisher": publisher.name,
        "licenses": [
            {
                "name": "etalab-2.0",
                "title": "Licence Ouverte / Open Licence version 2.0",
                "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
            }
        ],
        "resources": resources,
    }
    if publisher.name:  # Frictionless' own way of naming who publishes
        contributor: dict[str, object] = {"title": publisher.name, "role": "publisher"}
        if publisher.siren:
            contributor["siren"] = publisher.siren
            package["siren"] = publisher.siren
        package["contributors"] = [contributor]
    if period != (None, None):
        package["temporal"] = {"start": period[0], "end": period[1]}  # of the energy figures
    path = folder / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
