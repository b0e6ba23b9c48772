"""What follows a poll for its radios: EIRP, legal maximum, field bound, state and on-time.

`RadioTracker.observe` turns one poll into the radio samples (per transmitter: EIRP in dBm
and W with the gain's origin, the legal maximum and the ratio to it, the field bound at the
site's distances, the distances to the ANFR and décret levels, on or off) and books its
on-time; `site_samples` gives each site's Wi-Fi radios by state and their on-time by period.
A radio's state is the device's own (oper state, admin state), else, for a PoE-fed AP, its
switch port: delivering power means its radios are taken as on (an upper bound), a port that
delivers nothing means off. Otherwise the state is unknown and no on-time is booked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sobriety.config.load import Config, TargetConfig
from sobriety.config.radio import AntennaFigures, SiteRadio
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.model import CollectResult, Sample
from sobriety.radio.antennas import AntennaTable, load_antennas
from sobriety.radio.bands import BandTable, load_bands
from sobriety.radio.eirp import Assessment, Where, assess, is_wifi
from sobriety.radio.inputs import RadioInput, radio_inputs
from sobriety.radio.ontime import PERIODS, OnTimeTracker
from sobriety.store import StateStore

Feeds = Callable[[str], Sequence[Sample] | None]
ESTIMATED = {"source": "estimated"}


@dataclass(slots=True)
class Known:
    """A transmitter as last seen: its facts (JSON-able) and whether it is Wi-Fi."""

    facts: dict[str, object]
    wifi: bool
    # the facts as last saved: a poll that finds them unchanged (most polls) neither writes
    # their JSON again nor saves it (json.dumps was 2 % of the daemon's CPU); no text is
    # kept between polls (a radio's facts are 1-2 KB of JSON)
    saved: dict[str, object] | None = None


class RadioTracker:
    """The radio indicator of every target, kept between polls."""

    def __init__(
        self,
        config: Config,
        calendars: Mapping[str, SiteCalendar],
        store: StateStore,
        feeds: Feeds,
        now: Callable[[], datetime],
        bands: BandTable | None = None,
        antennas: AntennaTable | None = None,
    ) -> None:
        self.bands = bands or load_bands()
        self.antennas = antennas or load_antennas()
        self.feeds = feeds
        self.now = now
        self.ontime = OnTimeTracker(store, self._calendar)
        self.known: dict[str, dict[str, Known]] = {}  # target -> transmitter -> last facts
        for row in store.radio_rows():
            facts = json.loads(row.facts) if row.facts else {}
            self.known.setdefault(row.target, {})[row.radio] = Known(
                facts, facts.get("wifi") is True
            )
        self.configure(config, calendars)

    def configure(self, config: Config, calendars: Mapping[str, SiteCalendar]) -> None:
        """Take a (re)loaded configuration; on-time and last facts are kept."""
        self.config = config
        self.calendars = calendars
        self.targets = {t.id: t for t in config.targets}

    def _calendar(self, site: str) -> SiteCalendar:
        found = self.calendars.get(site)
        if found is not None:
            return found
        return SiteCalendar(self.config.sites[site])

    def max_gap(self, target: TargetConfig) -> float:
        return self.config.interval_for(target) * self.config.settings.energy_max_gap_intervals

    # --- each poll ---------------------------------------------------------------------

    def observe(self, target: TargetConfig, result: CollectResult, now: datetime) -> list[Sample]:
        """The poll's radio samples; its on-time booked."""
        inputs = radio_inputs(result.samples) if result.up else {}
        if not inputs and target.id not in self.known:
            return []  # no radio, none known: nothing to say (most of a fleet)
        poe = self._poe(target)
        at = now.timestamp()
        out: list[Sample] = []
        known = self.known.setdefault(target.id, {})
        if not inputs:  # down, or no radio this poll: what is known of its radios stays
            for rid in list(known):
                if poe is False:  # a port that delivers nothing: its radios are off
                    out.append(
                        Sample(
                            "sobriety_radio_on",
                            {"target": target.id, "radio": rid, "basis": "poe"},
                            0.0,
                        )
                    )
                state, basis = (False, "poe") if poe is False else (None, "")
                out += self._book(target, rid, state, basis, at)
            return out
        site = self.config.sites[target.site]
        for rid, radio in sorted(inputs.items()):
            assessment = assess(radio, self._where(target, site.radio, site.country, rid),
                                self.bands, self.antennas)  # fmt: skip
            state, basis = radio_state(radio, None if radio.ap else poe)
            facts = self._facts(target, radio, assessment, state, basis)
            wifi = is_wifi(radio, assessment.placement, self.bands, target.device_class or "")
            facts["wifi"] = wifi
            previous = known.get(rid)
            known[rid] = Known(facts, wifi, previous.saved if previous is not None else None)
            out += radio_samples(target.id, rid, assessment, state, basis, site.country)
            out += self._book(target, rid, state, basis, at)
        for rid in [r for r in known if r not in inputs]:
            del known[rid]  # gone from the device (a VAP removed, an AP moved away)
        return out

    def _where(
        self, target: TargetConfig, site_radio: SiteRadio, country: str | None, radio: str
    ) -> Where:
        inventory = target.radio
        figures = inventory.figures(radio) if inventory is not None else AntennaFigures()
        distances = site_radio.distances_m
        if inventory is not None and inventory.distances_m is not None:
            distances = inventory.distances_m
        source = inventory.source if inventory is not None else ""
        return Where(country, distances, site_radio.anfr_level_v_per_m, figures, source)

    def _facts(self, target: TargetConfig, radio: RadioInput, a: Assessment,
               state: bool | None, basis: str) -> dict[str, object]:  # fmt: skip
        band = a.placement.band
        exposure = a.exposure
        return {
            "site": target.site,
            "room": target.room or "",
            "building": target.building or "",
            "ap": radio.ap,
            "ap_name": radio.ap_name,
            "vendor": radio.vendor,
            "model": radio.model,
            "members": list(radio.members),
            "band": band.id if band is not None else "",
            "frequencies_mhz": [round(hz / 1e6, 3) for hz in a.placement.frequencies_hz],
            "channel": radio.channel,
            "tx_dbm": a.tx_dbm,
            "tx_origin": a.tx_origin,
            "gain_dbi": a.gain.dbi if a.gain else None,
            "gain_origin": a.gain.origin if a.gain else "",
            "gain_source": a.gain.source if a.gain else "",
            "cable_loss_db": a.cable_loss_db,
            "eirp_dbm": a.eirp_dbm,
            "eirp_w": a.eirp_watts,
            "limit_dbm": a.limit_dbm,
            "limit_source": self.bands.source(a.limit.source) if a.limit else "",
            "limit_note": a.limit.note if a.limit else "",
            "ratio": a.ratio,
            "near_field_m": exposure.near_field_m if exposure else None,
            "fields": [
                {"metres": f.distance.metres, "what": f.distance.what,
                 "volts_per_metre": f.volts_per_metre, "validity": f.validity}
                for f in (exposure.fields if exposure else ())
            ],
            "thresholds": [
                {"level": t.level, "volts_per_metre": t.volts_per_metre, "metres": t.metres,
                 "validity": t.validity}
                for t in (exposure.thresholds if exposure else ())
            ],
            "unknown": [list(u) for u in a.unknown],
            "on": state,
            "basis": basis,
            "clients": radio.clients,
        }  # fmt: skip

    def _book(self, target: TargetConfig, rid: str, state: bool | None, basis: str,
              at: float) -> list[Sample]:  # fmt: skip
        """Book the radio's on-time and queue its row; its counters (and, known, its state)."""
        totals = self.ontime.observe(target.id, rid, target.site, state, at, self.max_gap(target))
        known = self.known[target.id][rid]
        facts = known.facts
        facts["on"], facts["basis"] = state, basis
        saved = known.saved  # the same dict may have changed since it was saved: written again
        if saved is not None and saved is not facts and saved == facts:
            known.facts = saved  # equal: one dict kept, not two
            self.ontime.save(target.id, rid, None)
        else:
            known.saved = facts
            self.ontime.save(target.id, rid, json.dumps(facts, sort_keys=True))
        labels = {"target": target.id, "radio": rid}
        return [
            Sample("sobriety_radio_on_seconds_total", {**labels, "period": p}, seconds)
            for p, seconds in totals.by_period().items()
        ]

    def _poe(self, target: TargetConfig) -> bool | None:
        """Whether the switch port that feeds the target delivers power (None: not known)."""
        if target.poe is None:
            return None
        samples = self.feeds(target.poe.switch) or ()
        where = {"group": target.poe.group, "port": target.poe.port}
        states = [
            s.labels.get("state", "")
            for s in samples
            if s.name == "sobriety_poe_port_detection_status" and s.value == 1
            and all(s.labels.get(k) == v for k, v in where.items())
        ]  # fmt: skip
        if states:
            return "deliveringPower" in states
        watts = [
            s.value
            for s in samples
            if s.name == "sobriety_poe_port_power_watts"
            and all(s.labels.get(k) == v for k, v in where.items())
        ]
        return watts[0] > 0 if watts else None

    # --- per site ----------------------------------------------------------------------

    def site_samples(self) -> list[Sample]:
        """Each site's Wi-Fi radios by state now, and their on-time by period."""
        now = self.now().timestamp()
        counts: dict[str, dict[str, float]] = {}
        seconds: dict[str, dict[str, float]] = {}
        for tid, radios in list(self.known.items()):  # copies: scrapes run in a worker thread
            target = self.targets.get(tid)
            if target is None or target.site not in self.config.sites:
                continue
            for rid, known in list(radios.items()):
                if not known.wifi:
                    continue
                totals = self.ontime.radios.get((tid, rid))
                fresh = (
                    totals is not None
                    and totals.at is not None
                    and (now - totals.at <= self.max_gap(target))
                )
                state = totals.state if fresh and totals is not None else None
                word = "unknown" if state is None else "on" if state else "off"
                by_state = counts.setdefault(
                    target.site, dict.fromkeys(("on", "off", "unknown"), 0)
                )
                by_state[word] += 1
                by_period = seconds.setdefault(target.site, dict.fromkeys(PERIODS, 0.0))
                if totals is not None:
                    by_period["teaching"] += totals.teaching_s
                    by_period["outside"] += totals.outside_s
        out: list[Sample] = []
        for site_id, by_state in sorted(counts.items()):
            site = self.config.sites[site_id]
            labels = {"site": site_id, "site_type": site.type or ""}
            if site.organisation:  # as the energy series: no empty organisation label
                labels["organisation"] = site.organisation
            out += [
                Sample("sobriety_site_wifi_radios", {**labels, "state": s}, float(n))
                for s, n in by_state.items()
            ]
            out += [
                Sample("sobriety_site_wifi_on_seconds_total", {**labels, "period": p}, v)
                for p, v in seconds[site_id].items()
            ]
        return out

    def facts(self) -> dict[tuple[str, str], dict[str, object]]:
        """Every transmitter's last facts, by (target, radio)."""
        return {
            (tid, rid): dict(known.facts)
            for tid, radios in list(self.known.items())
            for rid, known in list(radios.items())
        }


def radio_state(radio: RadioInput, poe: bool | None) -> tuple[bool | None, str]:
    """On, off or unknown (None), and what says it (mib, poe, or "")."""
    if radio.admin_up is False:
        return False, "mib"
    if radio.oper_up is not None:
        return radio.oper_up, "mib"
    if poe is not None:
        return poe, "poe"
    return None, ""


def radio_samples(
    target: str, radio: str, a: Assessment, state: bool | None, basis: str, country: str | None
) -> list[Sample]:
    """The catalogue samples of one transmitter's assessment."""
    labels = {"target": target, "radio": radio}
    band = a.placement.band.id if a.placement.band is not None else ""
    out = [
        Sample("sobriety_radio_unknown_info", {**labels, "fact": fact, "reason": reason}, 1.0)
        for fact, reason in a.unknown
    ]
    if state is not None:
        out.append(Sample("sobriety_radio_on", {**labels, "basis": basis}, float(state)))
    if a.eirp_dbm is not None and a.gain is not None:
        eirp = {**labels, "band": band, "gain_origin": a.gain.origin, **ESTIMATED}
        out.append(Sample("sobriety_radio_eirp_dbm", eirp, a.eirp_dbm))
        out.append(Sample("sobriety_radio_eirp_watts", eirp, a.eirp_watts or 0.0))
    if a.limit_dbm is not None:
        limit = {**labels, "band": band, "country": country or ""}
        out.append(Sample("sobriety_radio_eirp_limit_dbm", limit, a.limit_dbm))
        if a.ratio is not None:
            out.append(Sample("sobriety_radio_eirp_limit_ratio", labels, a.ratio))
    exposure = a.exposure
    if exposure is None:
        return out
    if exposure.near_field_m is not None:
        out.append(Sample("sobriety_radio_near_field_metres", labels, exposure.near_field_m))
    for f in exposure.fields:
        if f.volts_per_metre is not None:
            where = {**labels, "distance": f"{f.distance.metres:g}", "validity": f.validity}
            out.append(Sample("sobriety_radio_field_bound_volts_per_metre",
                              {**where, **ESTIMATED}, f.volts_per_metre))  # fmt: skip
    for t in exposure.thresholds:
        out.append(Sample("sobriety_radio_reference_level_volts_per_metre",
                          {**labels, "level": t.level}, t.volts_per_metre))  # fmt: skip
        if t.validity != "near_field":
            where = {**labels, "level": t.level, "validity": t.validity, **ESTIMATED}
            out.append(Sample("sobriety_radio_threshold_distance_metres", where, t.metres))
    return out
