"""The facts the end-of-life rules test, for one device now, from what it reported, what the
asset register holds and what its class is rated for. A fact nobody knows is None.

Truth over tidiness: an age counted from the day sobriety first saw a device is not its age
(`age_years` stays unknown, `seen_years` says how long it has been watched); a battery with no
recorded replacement is counted from the device's commissioning, and said so; the payback of
replacing a device for its energy is a lower bound (a replacement drawing nothing, this device
drawing what it draws now all year round).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sobriety.config.load import SiteConfig, TargetConfig
from sobriety.energy.classes import DeviceClass
from sobriety.energy.readings import values
from sobriety.lifetime.classfigures import EndOfLifeFigures
from sobriety.lifetime.support import SupportTable
from sobriety.lifetime.tracker import SECONDS_PER_YEAR, age_of, warranty_end
from sobriety.model import Sample
from sobriety.store import LifetimeState

FactValue = float | bool | str | list[str] | None
FactKind = Literal["number", "flag", "text", "date", "list"]
HOURS_PER_YEAR = 8766.0
# Words facts carry into reasons (reports translate them through the catalogue).
SINCE_WORDS = (
    "replacement reported by the device",
    "recorded replacement",
    "no replacement recorded since commissioning",
)
PAGE_UNITS = ("sheets", "impressions")

# name -> (kind, what it is). Rules may test number and flag facts; any fact may appear in
# a reason's text as {name}.
FACTS: dict[str, tuple[FactKind, str]] = {
    "observed": ("flag", "the device answered at least one poll"),
    "age_years": (
        "number",
        "years since purchase, commissioning or manufacture (never first seen)",
    ),
    "age_source": ("text", "inventory, entity_mfg_date or manufacturer"),
    "life_start": ("date", "the day its life started, by that source"),
    "seen_years": ("number", "years since sobriety first saw it answer (a lower bound of its age)"),
    "service_life_years": ("number", "the class's sourced service life"),
    "service_life_source": ("text", "where that service life comes from"),
    "age_over_service_life": ("number", "age_years / service_life_years"),
    "warranty_expired": ("flag", "its warranty has ended"),
    "warranty_days_left": ("number", "days until the warranty ends (negative once ended)"),
    "boots_per_month": ("number", "reboots a month since first seen (at least a day watched)"),
    "open_faults": ("number", "faults the asset register records and that are not fixed"),
    "fault_list": ("text", "those faults, as the register words them"),
    "repairable": ("flag", "false when a repairer has said it cannot be repaired"),
    "lamp_hours": ("number", "projector lamp hours, as the projector counts them"),
    "lamp_rated_hours": ("number", "the lamp's rated hours (model, else class)"),
    "lamp_wear": ("number", "lamp_hours / lamp_rated_hours"),
    "lamp_hours_per_year": ("number", "lamp hours a year of the projector's age"),
    "pages": ("number", "sheets or impressions over the printer's life"),
    "rated_pages": ("number", "the printer's rated lifetime pages (model, else class)"),
    "pages_wear": ("number", "pages / rated_pages"),
    "ups_battery_replace": ("flag", "the UPS's own battery test asks for a new battery"),
    "service_due": ("number", "scheduled parts past their interval with no replacement recorded"),
    "service_due_parts": ("list", "those parts"),
    "service_planned": ("number", "parts past their interval that the device's own test passes"),
    "service_planned_parts": ("list", "those parts"),
    "service_since": (
        "list",
        "what the intervals are counted from: a replacement or commissioning",
    ),
    "software": ("text", "its operating system or firmware as the asset register names it"),
    "support_end": ("date", "when its vendor's software support ends or ended"),
    "support_product": ("text", "the product that support date is for"),
    "support_source": ("text", "where that date comes from"),
    "support_ended": ("flag", "vendor support has ended"),
    "support_days_left": ("number", "days until vendor support ends (negative once ended)"),
    "free_os_candidate": ("flag", "a PC that could take a lighter free OS"),
    "processors": ("number", "processors (HOST-RESOURCES, else inventory)"),
    "memory_gib": ("number", "memory, GiB (HOST-RESOURCES, else inventory)"),
    "storage_gb": ("number", "storage, GB (HOST-RESOURCES, else inventory)"),
    "meets_free_os": ("flag", "processors, memory and storage all meet the free-OS threshold"),
    "free_os_shortfall": ("list", "what falls short of that threshold"),
    "free_os_name": ("text", "the free OS the threshold is declared for"),
    "power_watts": ("number", "its power now"),
    "power_measured": ("flag", "that power is measured, not estimated"),
    "power_ratio": ("number", "power now / the class's typical power"),
    "embodied_kgco2e": ("number", "the class's embodied carbon (manufacture)"),
    "grid_gco2e_per_kwh": ("number", "the carbon intensity of its site's electricity"),
    "replacement_payback_years": (
        "number",
        "years before a replacement drawing nothing repays its manufacture in avoided use-phase "
        "carbon, this device drawing its present power all year (a lower bound)",
    ),
}


class FreeOsThreshold(BaseModel):
    """What a PC needs to run a lighter free OS, as declared in the policy (with its source)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    processors: int = Field(ge=1)
    memory_gib: float = Field(gt=0)
    storage_gb: float = Field(gt=0)
    source: str = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class FactInputs:
    """Everything known of one device when its facts are worked out."""

    target: TargetConfig
    cls: DeviceClass | None
    samples: Sequence[Sample]
    state: LifetimeState | None
    at: float
    first_seen: float | None
    site: SiteConfig | None = None


def device_facts(
    inputs: FactInputs, support: SupportTable, free_os: FreeOsThreshold | None
) -> dict[str, FactValue]:
    """Every fact of FACTS for one device (None where unknown)."""
    figures = inputs.cls.end_of_life if inputs.cls is not None else None
    out: dict[str, FactValue] = {"observed": inputs.first_seen is not None}
    out |= _age_facts(inputs, figures)
    out |= _reboot_and_fault_facts(inputs)
    out |= _wear_facts(inputs, figures, out.get("age_years"))
    out |= _service_facts(inputs, figures)
    out |= _support_facts(inputs, support)
    out |= _free_os_facts(inputs, figures, free_os)
    out |= _power_facts(inputs)
    return out


def identity(samples: Sequence[Sample], target: TargetConfig) -> dict[str, str]:
    """vendor, model, serial, firmware: what the device says, else what the register says."""
    info = next((s.labels for s in samples if s.name == "sobriety_device_info"), {})
    asset = target.asset
    out: dict[str, str] = {}
    for name in ("vendor", "model", "serial", "firmware"):
        said = info.get(name, "")
        registered = getattr(asset, name, None) if asset is not None else None
        out[name] = said or registered or ""
    return out


def _years(seconds: float) -> float:
    return seconds / SECONDS_PER_YEAR


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def _ratio(num: FactValue, den: FactValue) -> float | None:
    if (
        isinstance(num, int | float)
        and isinstance(den, int | float)
        and den
        and not (isinstance(num, bool) or isinstance(den, bool))
    ):
        return float(num) / float(den)
    return None


def _age_facts(inputs: FactInputs, figures: EndOfLifeFigures | None) -> dict[str, FactValue]:
    at, target = inputs.at, inputs.target
    age = age_of(target, inputs.samples, inputs.first_seen)
    known = age is not None and age.source != "first_seen"
    age_years = _years(at - age.start) if known and age is not None else None
    life = figures.service_life_years if figures is not None else None
    end = warranty_end(target)
    return {
        "age_years": age_years,
        "age_source": age.source if known and age is not None else None,
        "life_start": _day(age.start) if known and age is not None else None,
        "seen_years": _years(at - inputs.first_seen) if inputs.first_seen is not None else None,
        "service_life_years": life,
        "service_life_source": figures.service_life_source
        if life is not None and figures
        else None,
        "age_over_service_life": _ratio(age_years, life),
        "warranty_expired": (at >= end) if end is not None else None,
        "warranty_days_left": (end - at) / 86_400 if end is not None else None,
    }


def _reboot_and_fault_facts(inputs: FactInputs) -> dict[str, FactValue]:
    tracked = inputs.at - inputs.first_seen if inputs.first_seen is not None else None
    boots = inputs.state.boots if inputs.state is not None else None
    asset = inputs.target.asset
    faults = asset.open_faults if asset is not None else ()
    words = [f"{f.part} ({f.note})" if f.note else f.part for f in faults]
    return {
        "boots_per_month": (
            boots / (tracked / (30 * 86_400))
            if boots is not None and tracked and tracked >= 86_400
            else None
        ),
        "open_faults": float(len(faults)) if asset is not None else None,
        "fault_list": "; ".join(words) if words else None,
        "repairable": asset.repairable if asset is not None else None,
    }


def _wear_facts(
    inputs: FactInputs, figures: EndOfLifeFigures | None, age_years: FactValue
) -> dict[str, FactValue]:
    samples = inputs.samples
    rated = inputs.target.asset.rated if inputs.target.asset is not None else None
    lamp = values(samples, "sobriety_projector_lamp_seconds")
    lamp_hours = lamp[0] / 3600 if lamp else None
    lamp_rated = (rated.lamp_hours if rated is not None else None) or (
        figures.lamp_rated_hours if figures is not None else None
    )
    page_counts = [
        s.value
        for s in samples
        if s.name == "sobriety_printer_marker_lifetime_count_total"
        and s.labels.get("unit") in PAGE_UNITS
    ]
    pages = float(sum(page_counts)) if page_counts else None
    rated_pages = (rated.pages if rated is not None else None) or (
        figures.rated_pages if figures is not None else None
    )
    return {
        "lamp_hours": lamp_hours,
        "lamp_rated_hours": lamp_rated,
        "lamp_wear": _ratio(lamp_hours, lamp_rated),
        "lamp_hours_per_year": _ratio(lamp_hours, age_years),
        "pages": pages,
        "rated_pages": rated_pages,
        "pages_wear": _ratio(pages, rated_pages),
    }


def _service_facts(inputs: FactInputs, figures: EndOfLifeFigures | None) -> dict[str, FactValue]:
    """Scheduled parts (UPS battery, fans, capacitors) against their intervals."""
    replace = values(inputs.samples, "sobriety_ups_battery_replace_needed")
    battery_test = (replace[0] == 1) if replace else None
    out: dict[str, FactValue] = {"ups_battery_replace": battery_test}
    if figures is None or not figures.service_items:
        return out | {"service_due": None, "service_due_parts": None, "service_planned": None,
                      "service_planned_parts": None, "service_since": None}  # fmt: skip
    rating = values(inputs.samples, "sobriety_ups_rated_power_watts")
    due: list[str] = []
    planned: list[str] = []
    since_kinds: set[str] = set()
    for part, item in figures.service_items.items():
        if item.min_rated_watts is not None and not (rating and rating[0] >= item.min_rated_watts):
            continue  # applies to large units only, and this one's rating is unknown or small
        replaced = _last_replacement(inputs, part)
        if replaced is None:
            continue
        last, kind = replaced
        if _years(inputs.at - last) <= item.every_years:
            continue
        since_kinds.add(kind)
        if part == "battery" and battery_test is False:
            planned.append(part)  # the device's own test beats the schedule
        else:
            due.append(part)
    return out | {
        "service_due": float(len(due)),
        "service_due_parts": due,
        "service_planned": float(len(planned)),
        "service_planned_parts": planned,
        "service_since": sorted(since_kinds) or None,
    }


def _last_replacement(inputs: FactInputs, part: str) -> tuple[float, str] | None:
    """When `part` was last replaced, and whether that is a record or the commissioning;
    None when neither is known (first seen is no commissioning: it is not passed on)."""
    if part == "battery":
        said = values(inputs.samples, "sobriety_ups_battery_replaced_timestamp_seconds")
        if said:
            return said[0], SINCE_WORDS[0]
    asset = inputs.target.asset
    if asset is not None and part in asset.serviced:
        day = asset.serviced[part]
        return datetime.combine(day, datetime.min.time(), UTC).timestamp(), SINCE_WORDS[1]
    age = age_of(inputs.target, inputs.samples, None)
    return (age.start, SINCE_WORDS[2]) if age is not None else None


def _support_facts(inputs: FactInputs, support: SupportTable) -> dict[str, FactValue]:
    asset = inputs.target.asset
    software = asset.software if asset is not None else None
    end_day: date | None = asset.support_end if asset is not None else None
    product, source = software, "inventory"
    if end_day is None:
        known = identity(inputs.samples, inputs.target) | {"software": software or ""}
        found = support.lookup(known)
        if found is not None:
            end_day, product, source = found.ends, found.product, found.source
    if end_day is None:
        return {"software": software, "support_end": None, "support_product": None,
                "support_source": None, "support_ended": None,
                "support_days_left": None}  # fmt: skip
    end = datetime.combine(end_day, datetime.min.time(), UTC).timestamp()
    return {
        "software": software,
        "support_end": end_day.isoformat(),
        "support_product": product,
        "support_source": source,
        "support_ended": inputs.at >= end,
        "support_days_left": (end - inputs.at) / 86_400,
    }


def _free_os_facts(
    inputs: FactInputs, figures: EndOfLifeFigures | None, threshold: FreeOsThreshold | None
) -> dict[str, FactValue]:
    candidate = figures.free_os_candidate if figures is not None else None
    samples = inputs.samples
    hardware = inputs.target.asset.hardware if inputs.target.asset is not None else None
    cpu = values(samples, "sobriety_host_processors")
    memory = values(samples, "sobriety_host_memory_bytes")
    storage = values(samples, "sobriety_host_storage_bytes")
    have: dict[str, float | None] = {
        "processors": cpu[0] if cpu else (hardware.processors if hardware else None),
        "memory_gib": memory[0] / 2**30 if memory else (hardware.memory_gib if hardware else None),
        "storage_gb": storage[0] / 1e9 if storage else (hardware.storage_gb if hardware else None),
    }
    out: dict[str, FactValue] = {"free_os_candidate": candidate, **have,
                                 "meets_free_os": None, "free_os_shortfall": None,
                                 "free_os_name": threshold.name if threshold else None}  # fmt: skip
    if not candidate or threshold is None:
        return out
    needed = {"processors": float(threshold.processors), "memory_gib": threshold.memory_gib,
              "storage_gb": threshold.storage_gb}  # fmt: skip
    short = [name for name, need in needed.items()
             if have[name] is not None and float(have[name] or 0) < need]  # fmt: skip
    out["free_os_shortfall"] = [SHORTFALL_WORDS[name] for name in short]
    if short:
        out["meets_free_os"] = False
    elif all(have[name] is not None for name in needed):
        out["meets_free_os"] = True
    return out


SHORTFALL_WORDS = {"processors": "processors", "memory_gib": "memory", "storage_gb": "storage"}


def _power_facts(inputs: FactInputs) -> dict[str, FactValue]:
    power = [s for s in inputs.samples if s.name == "sobriety_device_power_watts"]
    cls = inputs.cls
    watts = power[0].value if power else None
    typical = cls.typical_watts if cls is not None else None
    embodied = cls.embodied_kgco2e if cls is not None else None
    grid = inputs.site.grid_gco2e_per_kwh if inputs.site is not None else None
    payback = None
    if watts and embodied is not None and grid:
        use_kg_a_year = watts * HOURS_PER_YEAR / 1000 * grid / 1000
        payback = embodied / use_kg_a_year
    return {
        "power_watts": watts,
        "power_measured": (power[0].labels.get("source") == "measured") if power else None,
        "power_ratio": _ratio(watts, typical),
        "embodied_kgco2e": embodied,
        "grid_gco2e_per_kwh": grid,
        "replacement_payback_years": payback,
    }


def fact_kinds() -> Mapping[str, FactKind]:
    """Each fact's kind, for validating rules and formatting reasons."""
    return {name: kind for name, (kind, _) in FACTS.items()}
