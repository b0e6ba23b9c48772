"""Grafana dashboards as code (grafana-foundation-sdk): fleet energy, lifetime, alerts and
waste, radio.

`python dashboards/generate.py` writes `dashboards/*.json`; a test regenerates them and fails
on a difference, and queries every panel against a real Prometheus scraping `sobriety demo`.
Variables: datasource, organisation, site, class, target ("all" by default). Device series
carry only `target`: organisation, site and class come from `sobriety_device_info` with
`group_left`; site series carry their site's owner as `organisation`, share series the
organisation that pays.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders.common import StackingConfig
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import StackingMode
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

HERE = Path(__file__).resolve().parent
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
INFO = (
    'sobriety_device_info{organisation=~"$organisation", site=~"$site", class=~"$class", '
    'target=~"$target"}'
)
SHARE = 'sobriety_site_share_{}{{organisation=~"$organisation", site=~"$site"}}'
YEAR = 31_557_600
EMBODIED = "sobriety_device_embodied_carbon_amortised_grams"
WASTE = "sobriety_site_waste_energy_joules_total"


def sited(metric: str) -> str:
    """A site-level series with the organisation, site and class filters."""
    return f'{metric}{{organisation=~"$organisation", site=~"$site", class=~"$class"}}'


def by_device(expr: str, labels: str = "site, class") -> str:
    """A per-target expression joined with the device's site and class, filtered."""
    return f"({expr}) * on(target) group_left({labels}) {INFO}"


def query(expr: str, legend: str = "", instant: bool = False, fmt: str | None = None
          ) -> prometheus.Dataquery:  # fmt: skip
    q = prometheus.Dataquery().expr(expr).datasource(DS).legend_format(legend or "__auto")
    if instant:
        q = q.instant()
    if fmt:
        q = q.format(PromQueryFormat.TABLE)
    return q


def variables(board: dashboard.Dashboard) -> dashboard.Dashboard:
    board = board.with_variable(
        dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
    )
    where = 'organisation=~"$organisation", site=~"$site"'
    for name, source in (
        ("organisation", "label_values(sobriety_device_info, organisation)"),
        ("site", 'label_values(sobriety_device_info{organisation=~"$organisation"}, site)'),
        ("class", f"label_values(sobriety_device_info{{{where}}}, class)"),
        ("target", f'label_values(sobriety_device_info{{{where}, class=~"$class"}}, target)'),
    ):
        board = board.with_variable(
            dashboard.QueryVariable(name)
            .label(name)
            .query(source)
            .datasource(DS)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        )
    return board


def ts(title: str, description: str, unit: str, *queries: prometheus.Dataquery,
       stacked: bool = False) -> timeseries.Panel:  # fmt: skip
    panel = timeseries.Panel().title(title).description(description).unit(unit).datasource(DS)
    for q in queries:
        panel = panel.with_target(q)
    if stacked:
        panel = panel.stacking(StackingConfig().mode(StackingMode.NORMAL))
    return panel.height(8).span(12)


def st(title: str, description: str, unit: str, expr: str, none: str | None = None
       ) -> stat.Panel:  # fmt: skip
    """A single figure; `none` is what it shows when the query has no series (a count of
    nothing is 0), which Grafana does itself instead of `or vector(0)` in the query: a query
    that always returns a series could not show a missing metric."""
    panel = (
        stat.Panel().title(title).description(description).unit(unit).datasource(DS)
        .with_target(query(expr, instant=True)).height(4).span(6)
    )  # fmt: skip
    return panel.no_value(none) if none is not None else panel


def tab(title: str, description: str, expr: str) -> table.Panel:
    return (
        table.Panel().title(title).description(description).datasource(DS)
        .with_target(query(expr, instant=True, fmt="table")).height(8).span(12)
    )  # fmt: skip


def bars(title: str, description: str, unit: str, expr: str, legend: str) -> bargauge.Panel:
    return (
        bargauge.Panel().title(title).description(description).unit(unit).datasource(DS)
        .with_target(query(expr, legend, instant=True)).height(8).span(12)
    )  # fmt: skip


def fleet_energy() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("sobriety — Fleet energy").uid("sobriety-fleet-energy")
        .tags(["sobriety", "energy"]).refresh("1m").time("now-6h", "now")
    )  # fmt: skip
    power = by_device("sobriety_device_power_watts")
    panels = [
        st("Targets up", "Targets whose last poll succeeded (sobriety_target_up).", "none",
           f"sum(sobriety_target_up * on(target) group_left() {INFO})"),
        st("Targets down", "Targets whose last poll failed; see the alerts dashboard for why.",
           "none", f"count(sobriety_target_up * on(target) group_left() {INFO} == 0)", none="0"),
        st("Energy over the range", "kWh used by the selected sites and classes over the time "
           "range, measured and estimated together (sobriety_site_energy_joules_total).",
           "kwatth", f"sum(increase({sited('sobriety_site_energy_joules_total')}[$__range]))"
           " / 3600000"),
        st("Cost over the range", "Electricity cost over the range: energy × each site's price "
           "per kWh (sobriety_site_cost_euros_total).", "currencyEUR",
           f"sum(increase({sited('sobriety_site_cost_euros_total')}[$__range]))"),
        ts("Site power by source", "Each site's power now (sobriety_site_power_watts): the "
           "reading of each of its devices plus what its feeders (PDU inlets, UPS outputs) "
           "measure beyond the devices declared on them, measured and estimated apart.", "watt",
           query('sum by (site, source) (sobriety_site_power_watts{organisation=~"$organisation", '
                 'site=~"$site"})', "{{site}} {{source}}"),
           stacked=True),
        ts("Power paid for, by organisation", "What each organisation is re-invoiced, as power: "
           "its sites' energy and its shares of shared sites (the declared keys), per second "
           "(sobriety_site_share_energy_joules_total; the organisation variable picks who "
           "pays).", "watt",
           query(f"sum by (organisation) (rate({SHARE.format('energy_joules_total')}"
                 "[$__rate_interval]))", "{{organisation}}"),
           stacked=True),
        tab("Re-invoicing over the range", "Each organisation's share of each site's "
            "electricity cost over the time range, by the declared keys (a site's own "
            "organisation has the key 1; the keys of a shared site sum to 1).",
            f"sum by (organisation, site) (increase({SHARE.format('cost_euros_total')}"
            "[$__range]))"),
        ts("Power by site, class and source", "Power now, stacked: measured readings (PDU "
           "outlet, PoE port, supply sensors, meters) and estimates from each class's model on "
           "observed state are shown apart by `source`.", "watt",
           query(f"sum by (site, class, source) ({power})", "{{site}} {{class}} {{source}}"),
           stacked=True),
        bars("Top consumers", "The ten devices drawing most now; the legend says if the "
             "figure is measured or estimated.", "watt",
             f"topk(10, {power})", "{{target}} ({{source}})"),
        ts("PoE budget used", "Share of each PSE group's PoE budget delivered now "
           "(pethMainPseConsumptionPower / pethMainPsePower), measured.", "percentunit",
           query(by_device("sobriety_poe_used_ratio", "site"), "{{target}} group {{group}}")),
        ts("UPS runtime left", "Battery runtime the UPS estimates (UPS-MIB, APC PowerNet).",
           "s", query(by_device("sobriety_ups_battery_runtime_seconds", "site"), "{{target}}")),
        ts("PDU load", "Power each PDU inlet draws, measured (APC rPDU2, Raritan, Eaton).",
           "watt", query(by_device("sobriety_pdu_input_power_watts", "site"),
                         "{{target}} inlet {{inlet}}")),
        ts("What monitoring costs", "The daemon's own CPU (cores busy), its estimated power "
           "(sobriety_self_energy_joules_total) and the SNMP requests it sends, beside the "
           "fleet it watches.", "short",
           query("rate(sobriety_process_cpu_seconds_total[$__rate_interval])", "CPU cores"),
           query("rate(sobriety_self_energy_joules_total[$__rate_interval])", "watts (est.)"),
           query("sum(rate(sobriety_snmp_requests_total[$__rate_interval]))", "requests/s")),
    ]  # fmt: skip
    for panel in panels:
        board = board.with_panel(panel)
    return board


def lifetime() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("sobriety — Lifetime and end of life").uid("sobriety-lifetime")
        .tags(["sobriety", "lifetime"]).refresh("5m").time("now-24h", "now")
        .links([dashboard.DashboardLink("End-of-life list (daemon)")
                .type(DashboardLinkType.LINK).url("/reports/end-of-life").target_blank(True)])
    )  # fmt: skip
    panels = [
        bars("Average age per class", "Mean age in years of the selected devices, per class "
             "(inventory date, ENTITY manufacture date, vendor date, else first seen).", "none",
             f"avg by (class) ({by_device('sobriety_device_age_seconds', 'site, class')}) / {YEAR}",
             "{{class}}"),
        bars("Recommendations by action and site", "Devices per end-of-life recommendation "
             "(collectors/eol-policy.yaml): keep, reuse, repair, recycle.", "none",
             f"sum by (site, action) ({by_device('sobriety_device_eol_recommendation', 'site')})",
             "{{site}} {{action}}"),
        tab("Why: the reasons per device", "Every reason behind each device's recommendation; "
            "the full list with serials and masses is the daemon's /reports/end-of-life page.",
            by_device("sobriety_device_eol_reason_info")),
        tab("Warranties ending within a year", "Days of warranty left, for devices whose "
            "warranty ends in the next 365 days (90/180/365: sort by the value).",
            f"({by_device('sobriety_device_warranty_left_seconds', 'site, class')}) / 86400 < 365"
            " >= 0"),
        ts("Reboots over the range", "Reboots per device over the time range (uptime wraps at "
           "497 days are not counted).", "none",
           query(f"increase(sobriety_device_boots_total[$__range])"
                 f" * on(target) group_left() {INFO}", "{{target}}")),
        bars("Embodied and use-phase carbon per class", "Embodied carbon amortised over the "
             "observed life so far (class figures, estimates) beside use-phase carbon from the "
             "energy used (grid intensity per site), gCO2e.", "massg",
             f"sum by (class) ({by_device(EMBODIED, 'class')}) or label_replace(sum by (class) "
             f"({sited('sobriety_site_carbon_grams_total')}), \"class\", \"$1 (use)\", \"class\","
             ' "(.*)")', "{{class}}"),
    ]  # fmt: skip
    for panel in panels:
        board = board.with_panel(panel)
    return board


def alerts_and_waste() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("sobriety — Alerts and waste").uid("sobriety-alerts-waste")
        .tags(["sobriety", "alerts"]).refresh("1m").time("now-24h", "now")
    )  # fmt: skip
    panels = [
        tab("Alerts firing and pending", "What the daemon's alert engine holds now "
            "(sobriety_alert_active): rules from collectors/alerts.yaml and the site's own.",
            'sobriety_alert_active{site=~"$site|"}'),
        ts("After-hours and holiday energy", "Energy used outside opening hours and on closed "
           "days by classes that could be off (PCs, printers, projectors, displays, APs), kWh "
           "per hour, by what it rests on: measured, estimated from an observed state, or "
           "assumed (no state known).", "kwatth",
           query(f"sum by (site, class, period, source) (rate({sited(WASTE)}[$__rate_interval]))"
                 " * 3600 / 3600000",
                 "{{site}} {{class}} {{period}} ({{source}})")),
        st("Waste cost over the range", "Euros spent on after-hours and holiday energy over "
           "the time range.", "currencyEUR",
           f"sum(increase({sited('sobriety_site_waste_cost_euros_total')}[$__range]))",
           none="0"),
        ts("UPS on battery", "Seconds each UPS has been on battery (0 on mains).", "s",
           query(by_device("sobriety_ups_on_battery_seconds", "site"), "{{target}}")),
        ts("PoE budget margin", "Share of each PSE group's budget still free.", "percentunit",
           query(f"1 - ({by_device('sobriety_poe_used_ratio', 'site')})",
                 "{{target}} group {{group}}")),
        tab("Targets down, with reason", "Targets whose last poll failed and why (timeout, "
            "auth_failed, unreachable...); zero rows when everything answers.",
            f"sobriety_target_down_info * on(target) group_left() {INFO}"),
    ]  # fmt: skip
    for panel in panels:
        board = board.with_panel(panel)
    return board


SCHOOLS = 'organisation=~"$organisation", site=~"$site", site_type=~"ecole_primaire|college|lycee"'


def radio() -> dashboard.Dashboard:
    board = variables(
        dashboard.Dashboard("sobriety — Radio").uid("sobriety-radio")
        .tags(["sobriety", "radio"]).refresh("1m").time("now-7d", "now")
        .links([dashboard.DashboardLink("Radio report (daemon)")
                .type(DashboardLinkType.LINK).url("/reports/radio").target_blank(True)])
    )  # fmt: skip
    panels = [
        bars("EIRP per radio", "Equivalent isotropic radiated power each transmitter declares "
             "(conducted power + antenna gain - cable loss, sobriety_radio_eirp_dbm): an "
             "estimate from declared figures, not a measurement. Radios whose gain is unknown "
             "have none (see the table below).", "dBm",
             by_device("sobriety_radio_eirp_dbm", "site"), "{{site}} {{target}} {{radio}}"),
        bars("Distance to the ANFR level per radio", "Beyond this distance the far-field upper "
             "bound (E = √(30·EIRP)/d, 100 % duty cycle, no wall) is below the site's ANFR "
             "atypical-point level (9 V/m by default): an upper bound, not a measured "
             "exposure; absent in an antenna's near field.", "lengthm",
             by_device('sobriety_radio_threshold_distance_metres{level="anfr"}', "site"),
             "{{site}} {{target}} {{radio}}"),
        bars("Wi-Fi on outside teaching per school", "Radio-hours of Wi-Fi on outside the "
             "site's teaching hours over the time range, per school (increase of "
             "sobriety_site_wifi_on_seconds_total, period outside); loi n° 2015-136 art. 7 asks "
             "écoles primaires to switch Wi-Fi off when it is not used for teaching.", "h",
             f"sum by (site) (increase(sobriety_site_wifi_on_seconds_total{{{SCHOOLS}, "
             'period="outside"}[$__range])) / 3600', "{{site}}"),
        ts("Wi-Fi radios on now per site", "Wi-Fi access-point radios on at each moment "
           "(sobriety_site_wifi_radios, state on): what the WifiOnOutsideTeaching alert "
           "reads outside teaching hours.", "none",
           query('sum by (site) (sobriety_site_wifi_radios{organisation=~"$organisation", '
                 'site=~"$site", state="on"})', "{{site}}")),
        tab("Radios above their band's legal EIRP", "EIRP over the legal maximum of the band "
            "in the site's country (collectors/radio-bands.yaml), above 1: check the country "
            "code, the antenna figures and the power setting.",
            f"{by_device('sobriety_radio_eirp_limit_ratio', 'site')} > 1"),
        tab("What is unknown, and why", "Radios whose EIRP, band or legal maximum could not be "
            "worked out, with the reason (sobriety_radio_unknown_info): an unknown is said, "
            "never replaced by 0.", by_device("sobriety_radio_unknown_info", "site")),
    ]  # fmt: skip
    for panel in panels:
        board = board.with_panel(panel)
    return board


BOARDS = {
    "fleet-energy.json": fleet_energy,
    "lifetime.json": lifetime,
    "alerts-waste.json": alerts_and_waste,
    "radio.json": radio,
}


def render(name: str) -> str:
    built = BOARDS[name]().build()
    text = JSONEncoder(sort_keys=True, indent=2).encode(built)
    return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def panel_queries(board: dict[str, object]) -> list[tuple[str, str]]:
    """(panel title, expression) of every panel query of a dashboard's JSON."""
    out = []
    for panel in board.get("panels", []):  # type: ignore[union-attr]
        for target in panel.get("targets", []):
            out.append((panel["title"], target["expr"]))
    return out


def main(argv: Sequence[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else HERE
    for name in BOARDS:
        (folder / name).write_text(render(name), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
