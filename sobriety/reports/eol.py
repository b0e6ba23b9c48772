"""The end-of-life list: one row per device of the inventory, disposed ones too, with what a
recycling planner and a DEEE operator need (recommendation and reasons, age, wear, WEEE
category, mass and where it comes from, parts to remove, data-bearing media and erasure
certificate, batch and route), and its summary per action and per site.

Rows hold raw values (action ids, dates, numbers, None for unknown); `eol_table` words them
in a report language. A device that never answered still gets its row: its facts come from
the inventory alone and the policy says what it can of them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sobriety.config.inventory import DisposalBatch
from sobriety.config.load import Config, TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.lifetime.classfigures import HAZARDOUS_PARTS, WEEE_CATEGORIES
from sobriety.lifetime.facts import FactInputs, fact_kinds
from sobriety.lifetime.policy import ACTIONS, Policy, Reason, evaluate
from sobriety.lifetime.tracker import warranty_end
from sobriety.reports.i18n import N_, Lang, render_template
from sobriety.reports.writers import Column, Table

Row = dict[str, object]
DISPOSED = "disposed"
ROW_ACTIONS = (*ACTIONS, DISPOSED)

ACTION_WORDS = {
    "keep": N_("keep"), "reuse": N_("reuse"), "service": N_("service"), "repair": N_("repair"),
    "recycle": N_("recycle"), DISPOSED: N_("handed over"),
}  # fmt: skip
AGE_SOURCE_WORDS = {
    "inventory": N_("inventory"),
    "entity_mfg_date": N_("manufacturing date (ENTITY-MIB)"),
    "manufacturer": N_("manufacturer's date"),
}
MEDIA_WORDS = {
    "storage": N_("storage: erase and certify"),
    "config": N_("configuration: reset to factory settings"),
    "none": N_("none"),
}
ROUTE_WORDS = {"reuse": N_("for reuse"), "recycle": N_("for recycling")}

EOL_COLUMNS: tuple[Column, ...] = (
    Column("organisation", N_("Organisation"), width_cm=3),
    Column("site", N_("Site"), width_cm=2.5),
    Column("site_name", N_("Site name"), width_cm=5),
    Column("building", N_("Building"), width_cm=3),
    Column("room", N_("Room"), width_cm=3),
    Column("class", N_("Class"), width_cm=3.5),
    Column("target", N_("Device"), width_cm=4.5),
    Column("asset_number", N_("Asset number"), width_cm=3),
    Column("vendor", N_("Vendor"), width_cm=3),
    Column("model", N_("Model"), width_cm=4),
    Column("serial", N_("Serial number"), width_cm=3.5),
    Column("recommendation", N_("Recommendation"), width_cm=3),
    Column("reasons", N_("Reasons"), width_cm=12),
    Column("age_years", N_("Age"), "number", N_("years"), 1, 2),
    Column("age_source", N_("Age source"), width_cm=3.5),
    Column("life_start", N_("In service since"), "date", width_cm=2.8),
    Column("service_life_years", N_("Service life"), "number", N_("years"), 0, 2.2),
    Column("warranty_end", N_("Warranty end"), "date", width_cm=2.8),
    Column("warranty_expired", N_("Warranty expired"), "flag", width_cm=2.2),
    Column("boots", N_("Reboots"), "integer", width_cm=2),
    Column("power_on_days", N_("Powered on"), "number", N_("days"), 1, 2.2),
    Column("wear", N_("Wear"), width_cm=5),
    Column("use_kwh", N_("Energy used"), "number", N_("kWh"), 3, 2.5),
    Column("embodied_kgco2e", N_("Embodied carbon"), "number", N_("kgCO2e"), 1, 2.5),
    Column("weee_category", N_("WEEE category"), "integer", width_cm=2),
    Column("weee_label", N_("WEEE category name"), width_cm=6),
    Column("mass_kg", N_("Mass"), "number", N_("kg"), 1, 2),
    Column("mass_source", N_("Mass source"), width_cm=5),
    Column("hazardous_parts", N_("Parts to remove"), width_cm=7),
    Column("data_media", N_("Data-bearing media"), width_cm=5),
    Column("erasure_certificate", N_("Erasure certificate"), width_cm=3.5),
    Column("route", N_("Route"), width_cm=2.5),
    Column("batch", N_("Batch"), width_cm=3),
    Column("disposed", N_("Handed over on"), "date", width_cm=2.8),
    Column("operator", N_("DEEE operator"), width_cm=4),
    Column("recipient", N_("Reuse recipient"), width_cm=4),
    Column("tracking", N_("Tracking form"), width_cm=3.5),
    Column("certificate", N_("Certificate"), width_cm=3.5),
)


@dataclass(frozen=True, slots=True)
class EolInputs:
    """What the list is made from."""

    config: Config
    classes: Mapping[str, DeviceClass]
    facts: Mapping[str, tuple[float, Mapping[str, object]]]
    use_kwh: Mapping[str, float]
    policy: Policy
    at: float


@dataclass(frozen=True, slots=True)
class EolReport:
    """The rows, the site and organisation names, and the period the energy column covers."""

    rows: list[Row]
    site_names: Mapping[str, str]
    period: tuple[str | None, str | None] = (None, None)
    reasons: Mapping[str, list[Reason]] = field(default_factory=dict)
    organisation_names: Mapping[str, str] = field(default_factory=dict)
    site_owners: Mapping[str, str] = field(default_factory=dict)  # site -> organisation

    def of_organisations(self, organisations: Collection[str]) -> EolReport:
        """Only the devices, sites and names of these organisations."""
        rows = [r for r in self.rows if r.get("organisation") in organisations]
        kept = {r["target"] for r in rows}
        sites = {s for s, o in self.site_owners.items() if o in organisations}
        return replace(
            self,
            rows=rows,
            site_names={s: n for s, n in self.site_names.items() if s in sites},
            organisation_names={
                o: n for o, n in self.organisation_names.items() if o in organisations
            },
            reasons={t: r for t, r in self.reasons.items() if t in kept},
            site_owners={s: o for s, o in self.site_owners.items() if s in sites},
        )


def use_by_target(bookings: Iterable[tuple[str, float]]) -> dict[str, float]:
    """kWh per target from (target, joules) bookings."""
    out: dict[str, float] = {}
    for target, joules in bookings:
        out[target] = out.get(target, 0.0) + joules / 3.6e6
    return out


def eol_report(
    inputs: EolInputs, period: tuple[str | None, str | None] = (None, None)
) -> EolReport:
    """One row per configured device, sorted by site, class and id."""
    config = inputs.config
    rows: list[Row] = []
    reasons: dict[str, list[Reason]] = {}
    for t in sorted(config.targets, key=lambda t: (t.site, t.device_class or "", t.id)):
        cls = inputs.classes.get(t.device_class or "")
        stored = inputs.facts.get(t.id, (0.0, {}))[1]
        row, why = _row(inputs, t, cls, stored)
        rows.append(row)
        reasons[t.id] = why
    names = {sid: site.name or sid for sid, site in config.sites.items()}
    orgs = {oid: org.name for oid, org in config.organisations.items()}
    owners = {sid: site.organisation for sid, site in config.sites.items() if site.organisation}
    return EolReport(rows, names, period, reasons, orgs, owners)


def _row(
    inputs: EolInputs, t: TargetConfig, cls: DeviceClass | None, stored: Mapping[str, object]
) -> tuple[Row, list[Reason]]:
    site = inputs.config.sites.get(t.site)
    known: Mapping[str, object] = stored
    if not stored:  # never answered: the inventory's facts, and what the policy makes of them
        facts, recommendation = evaluate(
            inputs.policy, FactInputs(t, cls, (), None, inputs.at, None, site)
        )
        known = {**facts, "action": recommendation.action,
                 "reasons": [r.as_json() for r in recommendation.reasons]}  # fmt: skip
    why = _reasons(known.get("reasons"))
    action = known.get("action")
    batch = inputs.config.disposals.get(t.disposed.batch or "") if t.disposed else None
    if t.disposed is not None:
        action = DISPOSED
    asset = t.asset
    power_on = known.get("power_on_seconds")
    end = warranty_end(t)
    row: Row = {
        "organisation": inputs.config.organisation_of(t) or None,
        "site": t.site,
        "site_name": (site.name if site is not None else "") or t.site,
        "building": t.building,
        "room": t.room,
        "class": t.device_class or "",
        "target": t.id,
        "asset_number": (asset.number if asset else None) or "",
        "vendor": _text(known.get("vendor")) or (asset.vendor if asset else None) or "",
        "model": _text(known.get("model")) or (asset.model if asset else None) or "",
        "serial": _text(known.get("serial")) or (asset.serial if asset else None) or "",
        "recommendation": action if action in ROW_ACTIONS else None,
        "age_years": _number(known.get("age_years")),
        "age_source": known.get("age_source"),
        "life_start": _date(known.get("life_start")),
        "service_life_years": _number(known.get("service_life_years")),
        "warranty_end": datetime.fromtimestamp(end, UTC).date() if end is not None else None,
        "warranty_expired": known.get("warranty_expired"),
        "boots": known.get("boots"),
        "power_on_days": float(power_on) / 86_400 if isinstance(power_on, int | float) else None,
        "wear": dict(_wear_facts(known)),
        "use_kwh": inputs.use_kwh.get(t.id, 0.0) if stored or t.id in inputs.use_kwh else None,
        "embodied_kgco2e": cls.embodied_kgco2e if cls is not None else None,
        **_handover(t, cls, batch),
    }
    return row, why


def _text(value: object) -> str:
    return value if isinstance(value, str) and value != "<private>" else ""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _reasons(raw: object) -> list[Reason]:
    """Stored reasons: structured ones, or the plain strings an older version stored."""
    out: list[Reason] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            values = item.get("values")
            out.append(Reason(str(item.get("rule", "")), str(item.get("text", "")),
                              values if isinstance(values, dict) else {}))  # fmt: skip
        elif isinstance(item, str):
            out.append(Reason("", item))
    return out


def _wear_facts(known: Mapping[str, object]) -> Iterable[tuple[str, object]]:
    for name in ("pages", "lamp_hours", "ups_battery_replace", "battery_replaced"):
        value = known.get(name)
        if value is not None:
            yield name, value


_MASS_IN_SOURCE = re.compile(r"(?:^|;\s*)([^;]*mass=[^;]*)")


def _handover(t: TargetConfig, cls: DeviceClass | None, batch: DisposalBatch | None) -> Row:
    """WEEE category, mass and its source, parts to remove, data media, batch columns."""
    figures = cls.end_of_life if cls is not None else None
    asset = t.asset
    disposed = t.disposed
    category = (asset.weee_category if asset else None) or (
        figures.weee_category if figures else None
    )
    parts = asset.hazardous_parts if asset and asset.hazardous_parts is not None else None
    if parts is None:
        parts = figures.hazardous_parts if figures else ()
    media = (asset.data_media if asset else None) or (figures.data_media if figures else None)
    route = disposed.route if disposed else None
    if disposed is not None and route is None:
        route = batch.default_route() if batch is not None else "recycle"
    return {
        "weee_category": category,
        "weee_label": WEEE_CATEGORIES.get(category) if category else None,
        **_mass(t, cls),
        "hazardous_parts": list(parts),
        "data_media": media,
        "erasure_certificate": (disposed.erasure_certificate if disposed else "") or None,
        "route": route,
        "batch": disposed.batch if disposed else None,
        "disposed": (disposed.date or (batch.date if batch else None)) if disposed else None,
        "operator": (disposed.recycler if disposed else None)
        or (batch.operator if batch else None),
        "recipient": batch.recipient if batch else None,
        "tracking": (batch.tracking if batch else "") or None,
        "certificate": (disposed.certificate if disposed else "")
        or (batch.certificate if batch else "")
        or None,
    }


def _mass(t: TargetConfig, cls: DeviceClass | None) -> Row:
    """The best mass known and where it comes from: weighed, the register, the class."""
    if t.disposed is not None and t.disposed.mass_kg is not None:
        return {"mass_kg": t.disposed.mass_kg, "mass_source": (N_("weighed at hand-over"), None)}
    if t.asset is not None and t.asset.mass_kg is not None:
        return {"mass_kg": t.asset.mass_kg, "mass_source": (t.asset.mass_source, None)}
    if cls is not None and cls.mass_kg is not None:
        found = _MASS_IN_SOURCE.search(cls.source)
        return {
            "mass_kg": cls.mass_kg,
            "mass_source": (found.group(1).strip() if found else "classes.yaml", None),
        }
    figures = cls.end_of_life if cls is not None else None
    if figures is not None and (figures.mass_kg_min or figures.mass_kg_max):
        return {"mass_kg": None,
                "mass_source": (figures.mass_source,
                                (figures.mass_kg_min or 0.0, figures.mass_kg_max))}  # fmt: skip
    note = figures.mass_source if figures is not None and figures.mass_source else None
    return {"mass_kg": None, "mass_source": (note, None) if note else None}


# --- words ----------------------------------------------------------------------------------


def reason_text(lang: Lang, reasons: Sequence[Reason]) -> str:
    """Every reason in `lang`, one after the other."""
    return " · ".join(reason_lines_of(lang, reasons))


def reason_lines_of(lang: Lang, reasons: Sequence[Reason]) -> list[str]:
    kinds = fact_kinds()
    return [render_template(lang, r.text, dict(r.values), kinds) for r in reasons if r.text]


def wear_text(lang: Lang, wear: Mapping[str, object]) -> str:
    parts: list[str] = []
    pages, lamp = wear.get("pages"), wear.get("lamp_hours")
    if isinstance(pages, int | float):
        parts.append(lang("{pages} pages").format(pages=lang.number(float(pages), 0, True)))
    if isinstance(lamp, int | float):
        parts.append(lang("lamp {hours} h").format(hours=lang.number(float(lamp), 0, True)))
    if wear.get("ups_battery_replace") is True:
        parts.append(lang("battery to replace (UPS test)"))
    replaced = wear.get("battery_replaced")
    if isinstance(replaced, int | float):
        day = datetime.fromtimestamp(float(replaced), UTC).date()
        parts.append(lang("battery replaced {day}").format(day=lang.date(day)))
    return "; ".join(parts)


def mass_source_text(lang: Lang, value: object) -> str | None:
    if not isinstance(value, tuple):
        return None
    note, band = value
    text = lang(str(note)) if note else ""
    if band is not None:
        low, high = band
        top = lang.number(high, 0)
        if low:
            span = lang("{low} to {high} kg").format(low=lang.number(low, 0), high=top)
        else:
            span = lang("under {high} kg").format(high=top)
        return f"{span} ({text})" if text else span
    return text or None


def action_text(lang: Lang, action: object) -> str | None:
    return lang(ACTION_WORDS[str(action)]) if action in ACTION_WORDS else None


def worded(lang: Lang, report: EolReport, row: Row) -> list[object]:
    """A row's values in column order, in `lang`."""
    out: list[object] = []
    for column in EOL_COLUMNS:
        value = row.get(column.id)
        out.append(_word(lang, report, row, column.id, value))
    return out


def _word(lang: Lang, report: EolReport, row: Row, name: str, value: object) -> object:
    match name:
        case "recommendation":
            return action_text(lang, value)
        case "reasons":
            return _reasons_for(lang, report, row)
        case "age_source":
            return lang(AGE_SOURCE_WORDS[str(value)]) if value in AGE_SOURCE_WORDS else None
        case "wear":
            return wear_text(lang, value if isinstance(value, dict) else {}) or None
        case "weee_label":
            return lang(str(value)) if value else None
        case "mass_source":
            return mass_source_text(lang, value)
        case "hazardous_parts":
            parts = value if isinstance(value, list) else []
            return (
                "; ".join(lang(HAZARDOUS_PARTS[p]) for p in parts if p in HAZARDOUS_PARTS) or None
            )
        case "data_media":
            return lang(MEDIA_WORDS[str(value)]) if value in MEDIA_WORDS else None
        case "route":
            return lang(ROUTE_WORDS[str(value)]) if value in ROUTE_WORDS else None
    return value


def _reasons_for(lang: Lang, report: EolReport, row: Row) -> str:
    return " · ".join(reason_lines(lang, report, row))


def reason_lines(lang: Lang, report: EolReport, row: Row) -> list[str]:
    """A row's reasons in `lang`, one a line."""
    if row.get("recommendation") == DISPOSED:
        who = row.get("recipient") if row.get("route") == "reuse" else row.get("operator")
        day = row.get("disposed")
        when = lang.date(day) if isinstance(day, date) else lang("unknown")
        text = lang("handed over to {who} on {day}")
        return [text.format(who=who or lang("unknown"), day=when)]
    return reason_lines_of(lang, report.reasons.get(str(row["target"]), []))


MACHINE_VALUES = ("recommendation", "age_source", "data_media", "route")


def eol_table(
    report: EolReport, lang: Lang, title: str = N_("End of life"), machine: bool = False
) -> Table:
    """The list as a table to write; `machine` keeps stable ids for the enumerations and the
    parts list (JSON), the texts then being English."""
    rows = [worded(lang, report, row) for row in report.rows]
    if machine:
        index = {c.id: i for i, c in enumerate(EOL_COLUMNS)}
        for line, row in zip(rows, report.rows, strict=True):
            for name in MACHINE_VALUES:
                line[index[name]] = row.get(name)
            parts = row.get("hazardous_parts")
            line[index["hazardous_parts"]] = ", ".join(parts) if isinstance(parts, list) else None
    meta = {"title": "eol", "from": report.period[0], "to": report.period[1]}
    return Table(EOL_COLUMNS, rows, title, meta)  # type: ignore[arg-type]


# --- summary ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Devices, their known mass and embodied carbon, and how many of each are unknown."""

    devices: int = 0
    mass_kg: float = 0.0
    mass_unknown: int = 0
    embodied_kgco2e: float = 0.0
    embodied_unknown: int = 0

    def add(self, row: Row) -> None:
        self.devices += 1
        mass, embodied = row.get("mass_kg"), row.get("embodied_kgco2e")
        if isinstance(mass, int | float):
            self.mass_kg += float(mass)
        else:
            self.mass_unknown += 1
        if isinstance(embodied, int | float):
            self.embodied_kgco2e += float(embodied)
        else:
            self.embodied_unknown += 1


def summary(rows: Iterable[Row]) -> tuple[dict[str, Tally], dict[str, dict[str, Tally]]]:
    """Per action (None: no recommendation), and per site then action."""
    by_action: dict[str, Tally] = {}
    by_site: dict[str, dict[str, Tally]] = {}
    for row in rows:
        action = str(row.get("recommendation") or "")
        by_action.setdefault(action, Tally()).add(row)
        by_site.setdefault(str(row["site"]), {}).setdefault(action, Tally()).add(row)
    return by_action, by_site
