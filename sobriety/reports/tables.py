"""Reports from the stored state: energy over a date range, the end-of-life list, open data.

Rows come from the daily energy bookings (`StateStore.energy_days`), summed over the range,
so a report over all days equals the counters the daemon exposes. Formats: CSV (UTF-8, one
header line), JSON (an object with the columns and rows) and ODS (OpenDocument spreadsheet,
what public bodies' office suites open), written with odfpy.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sobriety.config.load import TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.lifetime.tracker import warranty_end
from sobriety.store import EnergyDay, EnergyRow

JOULES_PER_KWH = 3.6e6
ENERGY_UNITS = {"kwh": "kWh", "gco2e": "gCO2e", "cost": "the site's currency (EUR)"}
ENERGY_COLUMNS = (
    "level",  # device, class or site
    "site",
    "class",
    "target",
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

    def row(self, level: str, site: str, cls: str, target: str) -> list[object]:
        total = self.measured + self.estimated
        return [
            level,
            site,
            cls,
            target,
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


def energy_rows(days: Iterable[EnergyDay]) -> list[list[object]]:
    """One row per device, then per (site, class), then per site."""
    devices: dict[tuple[str, str, str], _Sum] = {}
    classes: dict[tuple[str, str], _Sum] = {}
    sites: dict[str, _Sum] = {}
    for day in days:
        devices.setdefault((day.site, day.device_class, day.target), _Sum()).add(day)
        classes.setdefault((day.site, day.device_class), _Sum()).add(day)
        sites.setdefault(day.site, _Sum()).add(day)
    rows = [s.row("device", *key) for key, s in sorted(devices.items())]
    rows += [s.row("class", site, cls, "") for (site, cls), s in sorted(classes.items())]
    rows += [s.row("site", site, "", "") for site, s in sorted(sites.items())]
    return rows


def write_table(path: Path, fmt: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
                meta: dict[str, object]) -> None:  # fmt: skip
    """Write a report table as csv, json or ods."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    elif fmt == "json":
        body = {
            **meta,
            "columns": list(columns),
            "rows": [dict(zip(columns, r, strict=True)) for r in rows],
        }
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    elif fmt == "ods":
        _write_ods(path, columns, rows, str(meta.get("title", "report")))
    else:
        raise ValueError(f"unknown format {fmt!r} (csv, json, ods)")


def ods_bytes(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str) -> bytes:
    """The table as an ODS document, in memory (for downloads)."""
    buffer = io.BytesIO()
    _ods(columns, rows, title).write(buffer)
    return buffer.getvalue()


def _write_ods(
    path: Path, columns: Sequence[str], rows: Sequence[Sequence[object]], title: str
) -> None:
    _ods(columns, rows, title).save(str(path))


def _ods(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str) -> Any:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name=title[:31])
    for values in (list(columns), *rows):
        tr = TableRow()
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    return doc


# --- end of life ------------------------------------------------------------------------------

EOL_COLUMNS = (
    "site",
    "class",
    "target",
    "vendor",
    "model",
    "serial",
    "age_years",
    "age_source",
    "warranty_end",
    "warranty_expired",
    "boots",
    "power_on_days",
    "wear",
    "use_kwh",
    "embodied_kgco2e",
    "recommendation",
    "reasons",
    "mass_kg",
    "disposed",
    "recycler",
    "certificate",
)


def eol_rows(
    targets: Sequence[TargetConfig],
    classes: Mapping[str, DeviceClass],
    facts: Mapping[str, tuple[float, Mapping[str, object]]],
    energy: Iterable[EnergyRow],
) -> list[list[object]]:
    """One row per configured device (disposed ones too), what a recycling planner needs."""
    use: dict[str, float] = {}
    for row in energy:
        use[row.target] = use.get(row.target, 0.0) + row.joules
    rows: list[list[object]] = []
    for t in sorted(targets, key=lambda t: (t.site, t.device_class or "", t.id)):
        cls = classes.get(t.device_class or "")
        known = facts.get(t.id, (0.0, {}))[1]
        end = warranty_end(t)
        age = known.get("age_years")
        power_on = known.get("power_on_seconds")
        disposed = t.disposed
        if disposed is not None:
            action, reasons = "disposed", f"handed to {disposed.recycler} on {disposed.date}"
        elif known:
            action = str(known.get("action", ""))
            reasons = "; ".join(str(r) for r in known.get("reasons", []) or [])  # type: ignore[attr-defined]
        else:
            action, reasons = "", "not polled yet"
        mass = disposed.mass_kg if disposed is not None and disposed.mass_kg else None
        rows.append(
            [
                t.site,
                t.device_class or "",
                t.id,
                known.get("vendor", ""),
                known.get("model", ""),
                known.get("serial", ""),
                round(float(age), 2) if isinstance(age, int | float) else "",
                known.get("age_source") or "",
                datetime.fromtimestamp(end, UTC).date().isoformat() if end is not None else "",
                ""
                if known.get("warranty_expired") is None
                else bool(known.get("warranty_expired")),
                known.get("boots", ""),
                round(float(power_on) / 86_400, 1) if isinstance(power_on, int | float) else "",
                known.get("wear", ""),
                round(use.get(t.id, 0.0) / JOULES_PER_KWH, 3),
                cls.embodied_kgco2e if cls is not None and cls.embodied_kgco2e is not None else "",
                action,
                reasons,
                mass
                if mass is not None
                else (cls.mass_kg if cls and cls.mass_kg is not None else ""),
                disposed.date.isoformat() if disposed is not None else "",
                disposed.recycler if disposed is not None else "",
                disposed.certificate if disposed is not None else "",
            ]
        )
    return rows


# --- open data --------------------------------------------------------------------------------

AGE_BUCKETS = ((0, 2), (2, 4), (4, 6), (6, 8), (8, None))


def _bucket(lo: int, hi: int | None) -> str:
    return f"age_{lo}_{hi}" if hi is not None else f"age_{lo}_plus"


def _bucket_text(lo: int, hi: int | None) -> str:
    return f"Devices aged {lo} to {hi} years" if hi is not None else f"Devices aged {lo}+ years"


OPENDATA_FIELDS: tuple[tuple[str, str, str], ...] = (
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
    ("repair", "integer", "Devices recommended: repair"),
    ("recycle", "integer", "Devices recommended: recycle"),
)  # fmt: skip


def opendata_rows(
    targets: Sequence[TargetConfig],
    facts: Mapping[str, tuple[float, Mapping[str, object]]],
    energy: Iterable[EnergyRow],
) -> list[list[object]]:
    """Per site and class aggregates only: no serial, address, name or per-person data."""
    groups: dict[tuple[str, str], dict[str, float]] = {}

    def group(site: str, cls: str) -> dict[str, float]:
        return groups.setdefault((site, cls), {name: 0.0 for name, _, _ in OPENDATA_FIELDS[2:]})

    ages: dict[tuple[str, str], list[float]] = {}
    for t in targets:
        g = group(t.site, t.device_class or "")
        if t.disposed is not None:
            g["disposed"] += 1
            continue
        g["devices"] += 1
        known = facts.get(t.id, (0.0, {}))[1]
        age = known.get("age_years")
        if isinstance(age, int | float):
            ages.setdefault((t.site, t.device_class or ""), []).append(float(age))
            for lo, hi in AGE_BUCKETS:
                if age >= lo and (hi is None or age < hi):
                    g[_bucket(lo, hi)] += 1
        else:
            g["age_unknown"] += 1
        action = known.get("action")
        if action in ("keep", "reuse", "repair", "recycle"):
            g[str(action)] += 1
    measured: dict[tuple[str, str], float] = {}
    for row in energy:
        g = group(row.site, row.device_class)
        g["kwh"] += row.joules / JOULES_PER_KWH
        g["gco2e"] += row.gco2e
        g["cost_eur"] += row.cost
        if row.source == "measured":
            measured[(row.site, row.device_class)] = (
                measured.get((row.site, row.device_class), 0.0) + row.joules
            )
    table: list[list[object]] = []
    for (site, cls), g in sorted(groups.items()):
        known_ages = ages.get((site, cls), [])
        g["mean_age_years"] = sum(known_ages) / len(known_ages) if known_ages else 0.0
        total = g["kwh"] * JOULES_PER_KWH
        g["measured_share"] = measured.get((site, cls), 0.0) / total if total else 0.0
        line: list[object] = [site, cls]
        for name, kind, _ in OPENDATA_FIELDS[2:]:
            value = g[name]
            line.append(int(value) if kind == "integer" else round(value, 4))
        table.append(line)
    return table


def write_opendata(folder: Path, rows: Sequence[Sequence[object]], publisher: str) -> Path:
    """`fleet-by-site.csv` and its Frictionless Data Package descriptor, Licence Ouverte 2.0."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = [name for name, _, _ in OPENDATA_FIELDS]
    write_table(folder / "fleet-by-site.csv", "csv", columns, rows, {})
    package = {
        "profile": "tabular-data-package",
        "name": "sobriety-fleet-by-site",
        "title": "Energy and lifetime of a public IT fleet, per site and device class",
        "description": "Aggregates published by sobriety: no serial numbers, addresses, device "
        "names or per-person data.",
        "publisher": publisher,
        "licenses": [
            {
                "name": "etalab-2.0",
                "title": "Licence Ouverte / Open Licence version 2.0",
                "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
            }
        ],
        "resources": [
            {
                "name": "fleet-by-site",
                "path": "fleet-by-site.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {"name": n, "type": k, "description": d} for n, k, d in OPENDATA_FIELDS
                    ],
                    "primaryKey": ["site", "class"],
                },
            }
        ],
    }
    path = folder / "datapackage.json"
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
