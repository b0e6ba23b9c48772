"""The hand-over of a disposal batch: the list a DEEE operator or a reuse recipient receives
(ODS with a cover sheet, or CSV), and the checks to pass before it leaves: every device with
storage has an erasure certificate; every device has a route the batch allows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from sobriety.config.inventory import DisposalBatch
from sobriety.reports.eol import DISPOSED, EOL_COLUMNS, EolReport, Row, worded
from sobriety.reports.i18n import N_, Lang
from sobriety.reports.writers import Column, Table, Value
from sobriety.store import Handover

ERASURE_TODO = N_("to do before hand-over")
HANDOVER_IDS = (
    "batch", "disposed", "route", "asset_number", "target", "site_name", "class", "vendor",
    "model", "serial", "weee_category", "weee_label", "mass_kg", "mass_source",
    "hazardous_parts", "data_media", "erasure_certificate", "age_years", "life_start",
)  # fmt: skip
_BY_ID = {c.id: c for c in EOL_COLUMNS}
HANDOVER_COLUMNS: tuple[Column, ...] = tuple(_BY_ID[i] for i in HANDOVER_IDS)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something to settle before a batch leaves."""

    target: str
    message: str


def batch_rows(report: EolReport, batch_id: str) -> list[Row]:
    """The rows of the devices handed over in `batch_id`."""
    return [
        r for r in report.rows if r.get("recommendation") == DISPOSED and r.get("batch") == batch_id
    ]


def handover_problems(rows: list[Row]) -> list[Problem]:
    """Devices with storage and no erasure certificate."""
    return [
        Problem(str(r["target"]), N_("holds storage and has no erasure certificate"))
        for r in rows
        if r.get("data_media") == "storage" and not r.get("erasure_certificate")
    ]


def handover_table(report: EolReport, batch_id: str, batch: DisposalBatch, lang: Lang) -> Table:
    """The batch's list, and its cover sheet (batch data and totals)."""
    rows = batch_rows(report, batch_id)
    index = [c.id for c in EOL_COLUMNS]
    out: list[list[Value]] = []
    for row in rows:
        full = worded(lang, report, row)
        line: list[Value] = [full[index.index(i)] for i in HANDOVER_IDS]  # type: ignore[misc]
        at = HANDOVER_IDS.index("erasure_certificate")
        if row.get("data_media") == "storage" and not row.get("erasure_certificate"):
            line[at] = lang(ERASURE_TODO)
        out.append(line)
    masses = [r["mass_kg"] for r in rows if isinstance(r.get("mass_kg"), int | float)]
    cover: list[tuple[str, Value]] = [
        (N_("Batch"), batch_id),
        (N_("Handed over on"), batch.date),
        (N_("DEEE operator"), batch.operator),
        (N_("Operator SIRET"), batch.operator_id or None),
        (N_("Reuse recipient"), batch.recipient),
        (N_("Tracking form"), batch.tracking or None),
        (N_("Certificate"), batch.certificate or None),
        (N_("Note"), batch.note or None),
        (N_("Devices"), len(rows)),
        (N_("Devices for reuse"), sum(1 for r in rows if r.get("route") == "reuse")),
        (N_("Devices for recycling"), sum(1 for r in rows if r.get("route") == "recycle")),
        (N_("Known mass (kg)"), round(float(sum(masses)), 3)),  # type: ignore[arg-type]
        (N_("Devices of unknown mass"), len(rows) - len(masses)),
        (N_("Erasure certificates missing"), len(handover_problems(rows))),
    ]
    meta = {"title": "disposal", "batch": batch_id}
    return Table(HANDOVER_COLUMNS, out, N_("Batch"), meta, cover)


MOVING = ("age_years",)  # grows by the second: not part of what a list says


def issued(report: EolReport, batch_id: str, batch: DisposalBatch, at: float) -> Handover:
    """What a hand-over list says, language and the passing of time aside (its stable form,
    to keep and compare)."""
    table = handover_table(report, batch_id, batch, Lang("en"))

    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, date) else value

    kept = [i for i, c in enumerate(table.columns) if c.id not in MOVING]
    body = json.dumps(
        {
            "cover": [[key, plain(value)] for key, value in table.cover],
            "columns": [table.columns[i].id for i in kept],
            "rows": [[plain(row[i]) for i in kept] for row in table.rows],
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return Handover(batch_id, at, digest, len(table.rows), body)
