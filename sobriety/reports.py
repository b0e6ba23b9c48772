"""Reports from the stored state: energy per device, class and site over a date range.

Rows come from the daily energy bookings (`StateStore.energy_days`), summed over the range,
so a report over all days equals the counters the daemon exposes. Formats: CSV (UTF-8, one
header line), JSON (an object with the columns and rows) and ODS (OpenDocument spreadsheet,
what public bodies' office suites open), written with odfpy.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sobriety.store import EnergyDay

JOULES_PER_KWH = 3.6e6
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


def _write_ods(
    path: Path, columns: Sequence[str], rows: Sequence[Sequence[object]], title: str
) -> None:
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
    doc.save(str(path))
