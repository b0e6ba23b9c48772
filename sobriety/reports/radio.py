"""The radio report: each transmitter's EIRP and field bound as the daemon last worked them
out, per site and room, with the hours its radio was on during and outside teaching this
month (the site's local month), a per-room summary for a school's council, and the
per-site aggregates published as open data (no room, no device, no position).

Figures come from `RadioTracker.facts()` (the last poll's assessment, also kept in the
store) and the store's daily on-time; nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sobriety.config.load import Config
from sobriety.store import RadioDay

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class SiteRadioInfo:
    """What the page says of a site: its name, type, level and declared distances."""

    id: str
    name: str
    type: str
    country: str
    anfr_level: float
    distances: tuple[tuple[float, str], ...]
    month: str  # YYYY-MM, the site's local month the hours cover
    organisation: str = ""  # who owns the site


@dataclass(frozen=True, slots=True)
class RadioLine:
    """One transmitter: the facts of its last assessment and its hours on this month."""

    target: str
    radio: str
    site: str
    facts: Mapping[str, object]
    teaching_h: float
    outside_h: float
    organisation: str = ""  # who owns the device's site

    def get(self, name: str) -> object:
        return self.facts.get(name)

    def number(self, name: str) -> float | None:
        value = self.facts.get(name)
        return (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )

    @property
    def room(self) -> str:
        return str(self.facts.get("room") or "")

    @property
    def device(self) -> str:
        """The access point's name on a controller, else the target."""
        return str(self.facts.get("ap_name") or self.facts.get("ap") or self.target)

    @property
    def wifi(self) -> bool:
        return self.facts.get("wifi") is True


@dataclass(slots=True)
class RadioReport:
    sites: dict[str, SiteRadioInfo]
    lines: list[RadioLine] = field(default_factory=list)
    at: float = 0.0

    def of_site(self, site: str) -> list[RadioLine]:
        return [line for line in self.lines if line.site == site]

    def of_organisations(self, organisations: Collection[str]) -> RadioReport:
        """Only the sites and transmitters of these organisations."""
        sites = {k: v for k, v in self.sites.items() if v.organisation in organisations}
        lines = [line for line in self.lines if line.organisation in organisations]
        return RadioReport(sites, lines, self.at)


def month_of(now: datetime, zone: str) -> tuple[date, date]:
    """The first day of `now`'s local month and `now`'s local day."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return today.replace(day=1), today


def radio_report(
    config: Config,
    facts: Mapping[tuple[str, str], Mapping[str, object]],
    days: Iterable[RadioDay],
    now: datetime,
) -> RadioReport:
    """Every transmitter known, by site then room, with this month's hours."""
    sites: dict[str, SiteRadioInfo] = {}
    for site_id, site in config.sites.items():
        first, _ = month_of(now, site.timezone)
        sites[site_id] = SiteRadioInfo(
            site_id, site.name or site_id, site.type or "", site.country or "",
            site.radio.anfr_level_v_per_m,
            tuple((d.metres, d.what) for d in site.radio.distances_m), first.isoformat()[:7],
            site.organisation or "",
        )  # fmt: skip
    hours: dict[tuple[str, str], list[float]] = {}
    for day in days:
        info = sites.get(day.site)
        if info is None or not day.day.startswith(info.month):
            continue
        booked = hours.setdefault((day.target, day.radio), [0.0, 0.0])
        booked[0] += day.teaching_s / HOUR
        booked[1] += day.outside_s / HOUR
    targets = {t.id: t for t in config.targets}
    report = RadioReport(sites, at=now.timestamp())
    for (tid, rid), known in sorted(facts.items()):
        target = targets.get(tid)
        if target is None or target.site not in sites:
            continue  # removed from the configuration: not reported
        teaching, outside = hours.get((tid, rid), [0.0, 0.0])
        owner = config.organisation_of(target)
        report.lines.append(RadioLine(tid, rid, target.site, known, teaching, outside, owner))
    report.lines.sort(key=lambda line: (line.site, line.room, line.device, line.radio))
    return report


@dataclass(slots=True)
class RoomSummary:
    """A room of a site for its school council: access points, radios, highest EIRP, hours
    on outside teaching this month (the sum over its radios)."""

    room: str
    devices: set[str] = field(default_factory=set)
    radios: int = 0
    eirp_max_dbm: float | None = None
    eirp_unknown: int = 0
    teaching_h: float = 0.0
    outside_h: float = 0.0
    on_now: int = 0


def rooms(lines: Sequence[RadioLine]) -> list[RoomSummary]:
    """The Wi-Fi radios of one site's lines, summed per room."""
    out: dict[str, RoomSummary] = {}
    for line in lines:
        if not line.wifi:
            continue
        room = out.setdefault(line.room, RoomSummary(line.room))
        room.devices.add(line.device)
        room.radios += 1
        eirp = line.number("eirp_dbm")
        if eirp is None:
            room.eirp_unknown += 1
        elif room.eirp_max_dbm is None or eirp > room.eirp_max_dbm:
            room.eirp_max_dbm = eirp
        room.teaching_h += line.teaching_h
        room.outside_h += line.outside_h
        room.on_now += line.get("on") is True
    return [out[k] for k in sorted(out)]


# --- open data: per site, no room, no device --------------------------------------------

OPENDATA_RADIO_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("site", "string", "Site identifier as the publisher names it"),
    ("site_type", "string", "Kind of site: ecole_primaire, college, lycee, office..."),
    ("radios", "integer", "Transmitters the site's devices report"),
    ("wifi_radios", "integer", "Of which Wi-Fi access-point radios"),
    ("eirp_known", "integer", "Transmitters whose EIRP could be worked out"),
    ("eirp_min_dbm", "number", "Lowest EIRP among them, dBm (an estimate from declared figures)"),
    ("eirp_max_dbm", "number", "Highest EIRP among them, dBm (an estimate from declared figures)"),
    ("on_hours_teaching", "number", "Radio-hours of Wi-Fi on during teaching over the period"),
    ("on_hours_outside", "number", "Radio-hours of Wi-Fi on outside teaching over the period"),
)  # fmt: skip


def radio_opendata_rows(
    config: Config,
    facts: Mapping[tuple[str, str], Mapping[str, object]],
    days: Iterable[RadioDay],
) -> list[list[object]]:
    """One row per site with radios: counts, the EIRP range (empty when none is known, never
    0) and Wi-Fi on-time by period over the days given."""
    targets = {t.id: t for t in config.targets}
    groups: dict[str, dict[str, float]] = {}
    ranges: dict[str, list[float]] = {}
    wifi: set[tuple[str, str]] = set()
    for (tid, rid), known in facts.items():
        target = targets.get(tid)
        if target is None or target.site not in config.sites:
            continue
        g = groups.setdefault(
            target.site, dict.fromkeys(("radios", "wifi_radios", "teaching", "outside"), 0.0)
        )
        g["radios"] += 1
        if known.get("wifi") is True:
            g["wifi_radios"] += 1
            wifi.add((tid, rid))
        eirp = known.get("eirp_dbm")
        if isinstance(eirp, int | float) and not isinstance(eirp, bool):
            ranges.setdefault(target.site, []).append(float(eirp))
    for day in days:
        booked = groups.get(day.site)
        if booked is None or (day.target, day.radio) not in wifi:
            continue
        g = booked
        g["teaching"] += day.teaching_s / HOUR
        g["outside"] += day.outside_s / HOUR
    out: list[list[object]] = []
    for site, g in sorted(groups.items()):
        known_eirp = ranges.get(site, [])
        out.append([
            site, config.sites[site].type or "", int(g["radios"]), int(g["wifi_radios"]),
            len(known_eirp), round(min(known_eirp), 2) if known_eirp else None,
            round(max(known_eirp), 2) if known_eirp else None,
            round(g["teaching"], 3), round(g["outside"], 3),
        ])  # fmt: skip
    return out
