"""Issue 17's cases on the demo fleet (real recordings served by snmpsim, the daemon polling
them): the least destructive action the facts allow, with its reasons, device by device."""

from __future__ import annotations

import pytest

from sobriety.reports.eol import DISPOSED, EolReport, Row, reason_lines
from sobriety.reports.i18n import Lang
from tests.integration.demo import INVENTORY, EolDemo
from tests.integration.test_daemon import scrape

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
EN = Lang("en")


def case(report: EolReport, target: str) -> tuple[Row, list[str], list[str]]:
    """The device's row, its fired rules and its reasons in English."""
    row = next(r for r in report.rows if r["target"] == target)
    rules = [r.rule for r in report.reasons[target]]
    return row, rules, reason_lines(EN, report, row)


async def recommended(eol_demo: EolDemo, target: str) -> str:
    metrics = await scrape(eol_demo.server.url)
    series = metrics["sobriety_device_eol_recommendation"]
    (action,) = [k.split('action="')[1].split('"')[0] for k, v in series.items()
                 if f'target="{target}"' in k and v == 1]  # fmt: skip
    return action


async def test_the_working_11_year_old_core_switch_is_kept(eol_demo: EolDemo) -> None:
    row, rules, reasons = case(eol_demo.daemon.eol_report(), "arista_eos")
    assert row["recommendation"] == "keep"
    assert row["age_years"] == pytest.approx(11.6, abs=0.05)  # age alone decides nothing
    assert rules == ["default_keep"]
    assert reasons == ["no fault, no wear past its rating and no end of support known"]
    assert await recommended(eol_demo, "arista_eos") == "keep"


async def test_the_2010_server_with_a_failed_power_supply_is_repaired(eol_demo: EolDemo) -> None:
    row, rules, reasons = case(eol_demo.daemon.eol_report(), "linux_powermon")
    assert row["recommendation"] == "repair"
    assert rules[0] == "fault"
    assert reasons[0] == "fault recorded: power supply 2 (condition FAILED (powermon script))"
    # replacing it for its energy: the note appears exactly when the payback bound passes 10 y
    payback = eol_demo.daemon.store.device_facts()["linux_powermon"][1]["replacement_payback_years"]
    assert isinstance(payback, float)
    assert ("no_energy_payback" in rules) == (payback > 10)
    assert row["age_years"] == pytest.approx(14.9, abs=0.05)
    assert await recommended(eol_demo, "linux_powermon") == "repair"


async def test_the_80_kva_ups_is_serviced(eol_demo: EolDemo) -> None:
    row, rules, reasons = case(eol_demo.daemon.eol_report(), "eaton-93e-80")
    assert row["recommendation"] == "service"
    assert rules == ["service_due"]
    assert reasons == [
        "battery, fans, capacitors past their rated interval "
        "(no replacement recorded since commissioning): service it"
    ]
    assert row["weee_category"] == 4 and "lead_acid_battery" in row["hazardous_parts"]  # type: ignore[operator]
    # the small APC passes its own battery test: kept, with a replacement to plan
    apc, apc_rules, _ = case(eol_demo.daemon.eol_report(), "apc_smx750i")
    assert apc["recommendation"] == "keep" and "battery_planned" in apc_rules
    assert await recommended(eol_demo, "eaton-93e-80") == "service"


async def test_the_barely_used_projector_is_kept(eol_demo: EolDemo) -> None:
    row, rules, reasons = case(eol_demo.daemon.eol_report(), "epson-projector_eb-4770w")
    assert row["recommendation"] == "keep"
    assert "lamp_worn" not in rules
    assert "lamp at 79 h of 2,500 h rated: barely used" in reasons
    assert any(r.startswith("about 7 lamp hours a year") for r in reasons)
    assert row["wear"] == {"lamp_hours": pytest.approx(79.0)}
    assert await recommended(eol_demo, "epson-projector_eb-4770w") == "keep"


async def test_the_windows_xp_pc_is_offered_for_reuse_not_recycled(eol_demo: EolDemo) -> None:
    row, rules, reasons = case(eol_demo.daemon.eol_report(), "winxp-full-walk")
    assert row["recommendation"] == "reuse"
    assert rules[0] == "free_os_short"
    assert reasons[0] == (
        "Windows XP has had no security update since 2014-04-08; its processors, memory fall "
        "short of Xubuntu (Xfce): upgrade them, or offer it to a reuse operator"
    )


async def test_no_device_with_a_route_is_recycled_and_each_says_why(eol_demo: EolDemo) -> None:
    report = eol_demo.daemon.eol_report()
    assert len(report.rows) == INVENTORY
    for row in report.rows:
        rules = [r.rule for r in report.reasons[str(row["target"])]]
        if row["recommendation"] == "recycle":  # only when a fired rule closed every route
            assert "not_repairable" in rules, row["target"]
        assert reason_lines(EN, report, row), row["target"]  # every recommendation says why
        if row["recommendation"] != DISPOSED:
            assert row["recommendation"] in {"keep", "reuse", "service", "repair"}, row
    disposed = [r for r in report.rows if r["recommendation"] == DISPOSED]
    assert {r["batch"] for r in disposed} == {"LOT-DEMO-01"}
