"""The facts the end-of-life rules test: unknown stays unknown, wear against ratings,
scheduled service, vendor support, the free-OS threshold, the energy payback bound."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sobriety.config.load import SiteConfig, TargetConfig
from sobriety.energy.classes import load_classes
from sobriety.lifetime.classfigures import EndOfLifeFigures, ServiceItem
from sobriety.lifetime.facts import (
    FACTS,
    FactInputs,
    FreeOsThreshold,
    _ratio,
    device_facts,
    identity,
)
from sobriety.lifetime.policy import evaluate, load_policy
from sobriety.lifetime.support import SupportTable
from sobriety.model import Sample
from sobriety.store import LifetimeState

CLASSES = load_classes()
POLICY = load_policy()
NOW = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
YEAR = 365.25 * 86_400
STATE = LifetimeState("t", 100.0, NOW, 0, 1000.0, None, 0)


def target(**fields: object) -> TargetConfig:
    return TargetConfig.model_validate({"id": "t", "address": "127.0.0.1", "auth": "a", **fields})


def facts_of(
    t: TargetConfig,
    cls: str | None,
    samples: list[Sample],
    first_seen: float | None = NOW - 86_400 * 10,
    site: SiteConfig | None = None,
) -> dict[str, object]:
    inputs = FactInputs(t, CLASSES.get(cls or ""), samples, STATE, NOW, first_seen, site)
    return device_facts(inputs, POLICY.support, POLICY.free_os)  # type: ignore[return-value]


def s(name: str, value: float, **labels: str) -> Sample:
    return Sample(name, {"target": "t", **labels}, value)


def test_every_fact_is_catalogued() -> None:
    facts = facts_of(target(), "desktop_pc", [])
    assert set(facts) == set(FACTS)


def test_an_age_from_first_seen_is_not_an_age() -> None:
    facts = facts_of(target(), "switch_core", [], first_seen=NOW - 0.5 * YEAR)
    assert facts["age_years"] is None and facts["age_source"] is None
    assert facts["seen_years"] == pytest.approx(0.5)
    inputs = FactInputs(target(), CLASSES["switch_core"], [], STATE, NOW, NOW - 0.5 * YEAR)
    _, recommendation = evaluate(POLICY, inputs)
    assert recommendation.action == "keep"
    assert "age_unknown" in [r.rule for r in recommendation.reasons]
    bought = facts_of(target(purchased="2015-06-01"), "switch_core", [])
    assert bought["age_source"] == "inventory" and bought["life_start"] == "2015-06-01"
    assert bought["age_years"] == pytest.approx(11.5, abs=0.01)


def test_service_life_is_the_sourced_one_not_the_accounting_period() -> None:
    assert facts_of(target(purchased="2015-01-01"), "switch_core", [])["service_life_years"] is None
    desktop = facts_of(target(purchased="2014-12-01"), "desktop_pc", [])
    assert desktop["service_life_years"] == 6 and "ICO2" in str(desktop["service_life_source"])
    assert desktop["age_over_service_life"] == pytest.approx(2.0, abs=0.01)


def test_lamp_wear_against_the_class_rating_or_the_model_s_own() -> None:
    lamp = [s("sobriety_projector_lamp_seconds", 79 * 3600)]
    facts = facts_of(target(purchased="2015-09-01"), "projector_classroom", lamp)
    assert facts["lamp_hours"] == pytest.approx(79)
    assert facts["lamp_rated_hours"] == 2500
    assert facts["lamp_wear"] == pytest.approx(79 / 2500)
    assert facts["lamp_hours_per_year"] == pytest.approx(79 / 11.25, rel=0.01)
    own = target(asset={"rated": {"lamp_hours": 4000, "source": "datasheet"}})
    assert facts_of(own, "projector_classroom", lamp)["lamp_rated_hours"] == 4000


def test_printed_pages_count_sheets_and_impressions_only() -> None:
    samples = [
        s("sobriety_printer_marker_lifetime_count_total", 271871, marker="1", unit="sheets"),
        s("sobriety_printer_marker_lifetime_count_total", 99, marker="2", unit="hours"),
    ]
    rated = target(asset={"rated": {"pages": 250000, "source": "datasheet"}})
    facts = facts_of(rated, "mfp_a3_office", samples)
    assert facts["pages"] == 271871 and facts["pages_wear"] == pytest.approx(271871 / 250000)
    assert facts_of(target(), "mfp_a3_office", samples)["pages_wear"] is None  # no rating known


def test_a_large_ups_is_due_for_batteries_fans_and_capacitors() -> None:
    rating = [s("sobriety_ups_rated_power_watts", 72090)]
    facts = facts_of(target(commissioned="2016-09-01"), "ups", rating)
    assert facts["service_due_parts"] == ["battery", "fans", "capacitors"]
    assert facts["service_since"] == ["no replacement recorded since commissioning"]
    records = {"serviced": {"battery": "2024-03-01", "fans": "2024-03-01"}}
    serviced = target(commissioned="2016-09-01", asset=records)
    assert facts_of(serviced, "ups", rating)["service_due_parts"] == ["capacitors"]


def test_a_small_ups_s_own_battery_test_beats_the_schedule() -> None:
    ok = [s("sobriety_ups_battery_replace_needed", 0)]
    facts = facts_of(target(purchased="2019-01-01"), "ups", ok)
    assert facts["service_due_parts"] == []  # fans and capacitors: large units only
    assert facts["service_planned_parts"] == ["battery"]
    assert facts_of(target(purchased="2019-01-01"), "ups", [])["service_due_parts"] == ["battery"]
    replaced = [*ok, s("sobriety_ups_battery_replaced_timestamp_seconds", NOW - YEAR)]
    assert facts_of(target(purchased="2019-01-01"), "ups", replaced)["service_planned"] == 0
    # no age known (only first seen): no interval can be counted, nothing is claimed
    assert facts_of(target(), "ups", [])["service_due"] == 0


def test_vendor_support_from_the_register_or_the_table() -> None:
    xp = facts_of(target(asset={"software": "Windows XP Professional"}), "desktop_pc", [])
    assert xp["support_end"] == "2014-04-08" and xp["support_ended"] is True
    assert "Microsoft" in str(xp["support_source"])
    own = facts_of(target(asset={"support_end": "2027-06-30", "software": "EOS"}), None, [])
    assert own["support_ended"] is False and own["support_source"] == "inventory"
    assert own["support_days_left"] == pytest.approx(211, abs=1)
    nothing = facts_of(target(), "desktop_pc", [])
    assert nothing["support_end"] is None and nothing["support_ended"] is None
    table = SupportTable(POLICY.support.entries)
    assert table.lookup({"vendor": "Cisco"}) is None


def test_the_free_os_threshold_from_host_resources_or_the_register() -> None:
    xp_box = [s("sobriety_host_processors", 1), s("sobriety_host_memory_bytes", 1_038_925_824),
              s("sobriety_host_storage_bytes", 119_250_886_656)]  # fmt: skip
    short = facts_of(target(), "desktop_pc", xp_box)
    assert short["meets_free_os"] is False
    assert short["free_os_shortfall"] == ["processors", "memory"]
    enough = target(asset={"hardware": {"processors": 4, "memory_gib": 8, "storage_gb": 256}})
    assert facts_of(enough, "desktop_pc", [])["meets_free_os"] is True
    partial = target(asset={"hardware": {"processors": 4}})
    assert facts_of(partial, "desktop_pc", [])["meets_free_os"] is None  # unknown, not false
    assert facts_of(enough, "server_rack_2s", [])["meets_free_os"] is None  # not a PC


def test_energy_payback_is_a_lower_bound_on_the_site_s_grid() -> None:
    power = [s("sobriety_device_power_watts", 175, source="estimated", origin="class")]
    facts = facts_of(target(), "server_rack_2s", power, site=SiteConfig(grid_gco2e_per_kwh=46.1))
    # 900 kgCO2e / (175 W x 8766 h x 46.1 g/kWh) = 12.7 years
    assert facts["replacement_payback_years"] == pytest.approx(12.73, abs=0.01)
    assert facts["power_measured"] is False
    coal = facts_of(target(), "server_rack_2s", power, site=SiteConfig(grid_gco2e_per_kwh=820))
    assert coal["replacement_payback_years"] == pytest.approx(0.72, abs=0.01)
    assert (
        facts_of(target(), "switch_core", power, site=SiteConfig())["replacement_payback_years"]
        is None
    )  # no embodied figure for the class


def test_faults_and_a_repairer_s_verdict_come_from_the_register() -> None:
    t = target(asset={"faults": [{"part": "power supply 2", "note": "FAILED"},
                                 {"part": "fan", "fixed": "2026-01-10"}],
                      "repairable": True})  # fmt: skip
    facts = facts_of(t, "server_rack_2s", [])
    assert facts["open_faults"] == 1 and facts["fault_list"] == "power supply 2 (FAILED)"
    assert facts_of(target(), "server_rack_2s", [])["open_faults"] is None


def test_a_device_that_never_answered_gets_facts_from_the_inventory_only() -> None:
    t = target(purchased="2012-01-01", warranty_months=36,
               asset={"faults": [{"part": "lamp housing"}]})  # fmt: skip
    facts, recommendation = evaluate(
        POLICY, FactInputs(t, CLASSES["projector_classroom"], (), None, NOW, None)
    )
    assert facts["observed"] is False and facts["warranty_expired"] is True
    assert facts["age_years"] == pytest.approx(14.9, abs=0.05)
    assert recommendation.action == "repair"
    assert recommendation.reasons[-1].rule == "not_observed"


def test_boots_per_month_needs_a_day_watched_before_it_sends_anything_to_repair() -> None:
    """One boot in the hour a device has been watched is not 720 boots a month: below a day of
    watching there is no rate (unknown), so the reboots rule cannot fire; from a day on it is
    boots over the months watched."""
    booted = LifetimeState("t", 100.0, NOW, 1, 3600.0, None, 0)
    hour = FactInputs(target(), CLASSES["desktop_pc"], [], booted, NOW, NOW - 3600)
    facts, recommendation = evaluate(POLICY, hour)
    assert facts["boots_per_month"] is None
    assert "reboots" not in [r.rule for r in recommendation.reasons]
    assert recommendation.action != "repair"
    day = FactInputs(target(), CLASSES["desktop_pc"], [], booted, NOW, NOW - 86_400)
    assert evaluate(POLICY, day)[0]["boots_per_month"] == pytest.approx(30.0)
    often = LifetimeState("t", 100.0, NOW, 5, 3600.0, None, 0)
    month = FactInputs(target(), CLASSES["desktop_pc"], [], often, NOW, NOW - 30 * 86_400)
    facts, recommendation = evaluate(POLICY, month)
    assert facts["boots_per_month"] == pytest.approx(5.0)
    assert "reboots" in [r.rule for r in recommendation.reasons]
    assert recommendation.action == "repair"


def test_service_since_says_whether_the_device_a_record_or_the_commissioning_dates_it() -> None:
    rating = [s("sobriety_ups_rated_power_watts", 3000)]
    reported = [*rating, s("sobriety_ups_battery_replaced_timestamp_seconds", NOW - 6 * YEAR)]
    facts = facts_of(target(commissioned="2016-09-01"), "ups", reported)
    assert facts["service_due_parts"] == ["battery"]
    assert facts["service_since"] == ["replacement reported by the device"]
    recorded = target(commissioned="2016-09-01", asset={"serviced": {"battery": "2020-01-01"}})
    facts = facts_of(recorded, "ups", rating)
    assert facts["service_due_parts"] == ["battery"]
    assert facts["service_since"] == ["recorded replacement"]
    # only first seen: no commissioning known, so nothing is due since it
    facts = facts_of(target(), "ups", rating, first_seen=NOW - 9 * YEAR)
    assert (facts["service_due_parts"], facts["service_since"]) == ([], None)


@pytest.mark.usefixtures("east_of_utc")
def test_a_recorded_service_day_is_a_utc_day_whatever_the_server_s_zone() -> None:
    """A battery every 5 years (1826.25 days): serviced on 1 December 2021, it is not due on
    1 December 2026 at 00:00 UTC (1826 days), even on a server 14 hours east of UTC."""
    serviced = target(commissioned="2016-09-01", asset={"serviced": {"battery": "2021-12-01"}})
    facts = facts_of(serviced, "ups", [s("sobriety_ups_rated_power_watts", 3000)])
    assert facts["service_due_parts"] == []


@pytest.mark.usefixtures("west_of_utc")
def test_a_purchase_date_is_a_utc_day_whatever_the_server_s_zone() -> None:
    """An inventory date is midnight UTC, and is read back as that day: a server keeping
    local time must not shift a device's life start (nor its age) by a day."""
    bought = facts_of(target(purchased="2015-06-01"), "switch_core", [])
    assert bought["life_start"] == "2015-06-01"
    start = datetime(2015, 6, 1, tzinfo=UTC).timestamp()
    assert bought["age_years"] == pytest.approx((NOW - start) / YEAR, abs=1e-9)


def test_identity_is_what_the_device_says_else_what_the_register_says_else_empty() -> None:
    registered = target(asset={"vendor": "Cisco", "model": "WS-C2960", "serial": "FOC1",
                               "software": "IOS"})  # fmt: skip
    said = [s("sobriety_device_info", 1, model="C2960X", firmware="15.2(7)E")]
    assert identity(said, registered) == {
        "vendor": "Cisco", "model": "C2960X", "serial": "FOC1", "firmware": "15.2(7)E",
    }  # fmt: skip
    assert identity([], target()) == {"vendor": "", "model": "", "serial": "", "firmware": ""}


def test_a_ratio_of_a_flag_or_over_zero_is_unknown() -> None:
    assert _ratio(3.0, 2.0) == 1.5
    assert _ratio(True, 2.0) is None and _ratio(2.0, True) is None
    assert _ratio(2.0, 0.0) is None and _ratio(None, 2.0) is None


def test_a_warranty_ends_on_its_day_and_its_days_left_count_down_to_it() -> None:
    today = facts_of(target(warranty_end="2026-12-01"), "switch_core", [])
    assert today["warranty_expired"] is True and today["warranty_days_left"] == 0.0
    later = facts_of(target(warranty_end="2026-12-31"), "switch_core", [])
    assert later["warranty_expired"] is False and later["warranty_days_left"] == 30.0
    assert facts_of(target(), "switch_core", [])["warranty_days_left"] is None


def test_faults_are_listed_with_their_note_if_any_and_a_repairer_s_no_is_kept() -> None:
    t = target(asset={"faults": [{"part": "fan"}, {"part": "disk", "note": "SMART"}],
                      "repairable": False})  # fmt: skip
    facts = facts_of(t, "server_rack_2s", [])
    assert facts["fault_list"] == "fan; disk (SMART)" and facts["repairable"] is False
    clean = facts_of(target(asset={"vendor": "HP"}), "server_rack_2s", [])
    assert clean["open_faults"] == 0 and clean["fault_list"] is None


def test_a_printer_that_counts_no_pages_has_no_page_count_and_the_class_rating_counts() -> None:
    figures = EndOfLifeFigures(weee_source="x", rated_pages=100_000.0, wear_source="x")
    printer = CLASSES["printer_laser_a4"].model_copy(update={"end_of_life": figures})
    inputs = FactInputs(target(), printer, [], STATE, NOW, NOW - 86_400)
    facts = device_facts(inputs, POLICY.support, POLICY.free_os)
    assert facts["pages"] is None and facts["rated_pages"] == 100_000.0
    counted = [s("sobriety_printer_marker_lifetime_count_total", 25_000, unit="sheets")]
    inputs = FactInputs(target(), printer, counted, STATE, NOW, NOW - 86_400)
    assert device_facts(inputs, POLICY.support, POLICY.free_os)["pages_wear"] == 0.25


def test_a_ups_that_asks_for_a_battery_says_so() -> None:
    asks = facts_of(target(), "ups", [s("sobriety_ups_battery_replace_needed", 1)])
    assert asks["ups_battery_replace"] is True
    fine = facts_of(target(), "ups", [s("sobriety_ups_battery_replace_needed", 2)])
    assert fine["ups_battery_replace"] is False


def test_a_part_is_due_once_its_interval_is_past_not_on_its_last_day() -> None:
    """A battery every 5 years replaced exactly 5 years ago is not due yet; a large-unit part
    applies from the rating it names (10 kW) on."""
    on_the_day = [s("sobriety_ups_rated_power_watts", 10_000),
                  s("sobriety_ups_battery_replaced_timestamp_seconds", NOW - 5 * YEAR)]  # fmt: skip
    facts = facts_of(target(commissioned="2016-09-01"), "ups", on_the_day)
    assert facts["service_due_parts"] == ["fans", "capacitors"]


def test_a_part_that_does_not_apply_or_has_no_date_leaves_the_next_ones_checked() -> None:
    figures = EndOfLifeFigures(weee_source="x", service_items={
        "fans": ServiceItem(every_years=5, min_rated_watts=10_000, source="x"),
        "battery": ServiceItem(every_years=5, source="x"),
        "filters": ServiceItem(every_years=1, source="x"),
    })  # fmt: skip
    ups = CLASSES["ups"].model_copy(update={"end_of_life": figures})
    small = target(asset={"serviced": {"filters": "2024-01-01"}})
    inputs = FactInputs(small, ups, [s("sobriety_ups_rated_power_watts", 1500)], STATE, NOW, None)
    facts = device_facts(inputs, POLICY.support, POLICY.free_os)
    # fans: a large-unit part; battery: no date known (first seen is no commissioning)
    assert facts["service_due_parts"] == ["filters"]


@pytest.mark.usefixtures("west_of_utc")
def test_vendor_support_ends_at_midnight_utc_on_its_day_and_says_what_for() -> None:
    t = target(asset={"software": "Windows 10", "support_end": "2026-12-01"})
    today = facts_of(t, "desktop_pc", [])
    assert today["support_ended"] is True and today["support_days_left"] == 0.0
    assert today["software"] == "Windows 10" and today["support_product"] == "Windows 10"
    later = facts_of(target(asset={"support_end": "2026-12-31"}), "desktop_pc", [])
    assert later["support_ended"] is False and later["support_days_left"] == 30.0


def test_host_resources_figures_are_converted_to_gib_and_gb() -> None:
    box = [s("sobriety_host_processors", 2), s("sobriety_host_memory_bytes", 3 * 2**30),
           s("sobriety_host_storage_bytes", 119_250_886_656)]  # fmt: skip
    facts = facts_of(target(), "desktop_pc", box)
    assert facts["memory_gib"] == 3.0
    assert facts["storage_gb"] == pytest.approx(119.250886656, rel=1e-12)
    assert facts["free_os_name"] == "Xubuntu (Xfce)"


def test_meeting_the_free_os_threshold_exactly_meets_it_and_a_reported_zero_falls_short() -> None:
    exact = [s("sobriety_host_processors", 2), s("sobriety_host_memory_bytes", 2 * 2**30),
             s("sobriety_host_storage_bytes", 20e9)]  # fmt: skip
    facts = facts_of(target(), "desktop_pc", exact)
    assert facts["meets_free_os"] is True and facts["free_os_shortfall"] == []
    small = FreeOsThreshold(name="tiny", processors=1, memory_gib=0.5, storage_gb=1, source="x")
    zero = [s("sobriety_host_processors", 1), s("sobriety_host_memory_bytes", 0),
            s("sobriety_host_storage_bytes", 20e9)]  # fmt: skip
    inputs = FactInputs(target(), CLASSES["desktop_pc"], zero, STATE, NOW, NOW - 86_400)
    short = device_facts(inputs, POLICY.support, small)
    assert short["free_os_shortfall"] == ["memory"] and short["meets_free_os"] is False


def test_power_facts_compare_with_the_class_and_say_whether_measured() -> None:
    power = [s("sobriety_device_power_watts", 87.5, source="measured", origin="meter")]
    facts = facts_of(target(), "desktop_pc", power, site=SiteConfig(grid_gco2e_per_kwh=46.1))
    assert facts["power_measured"] is True
    assert facts["power_ratio"] == 0.5  # 87.5 W of the class's typical 175 W
    use_kg_a_year = 87.5 * 8766 / 1000 * 46.1 / 1000
    assert facts["replacement_payback_years"] == pytest.approx(204 / use_kg_a_year, rel=1e-12)


def test_evaluate_applies_the_policy_s_free_os_threshold() -> None:
    inputs = FactInputs(target(), CLASSES["desktop_pc"], [], STATE, NOW, NOW - 86_400)
    facts, _ = evaluate(POLICY, inputs)
    assert facts["free_os_name"] == "Xubuntu (Xfce)"
