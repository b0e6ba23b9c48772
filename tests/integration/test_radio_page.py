"""`/reports/radio` in headless Chromium on the demo fleet (snmpsim serving the bundled
recordings, on loopback): French by default, the statement that figures are upper bounds
and not measurements above the tables, the airMAX M5's EIRP and field bound, the UniFi
nanoHD's unknown gain said, the college's rooms; the same figures in /metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.browser import browser
from tests.integration.demo import EolDemo
from tests.integration.test_daemon import scrape, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tests" / "artefacts"
ROW = "[...document.querySelectorAll('#radios-college tr[data-target=\"{t}\"]')]"


def cells(target: str) -> str:
    return ROW.format(t=target) + ".map(r => [...r.children].map(c => c.textContent))"


async def test_the_radio_page_says_upper_bound_and_shows_the_m5_figures(eol_demo: EolDemo) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    url = f"{eol_demo.server.url}/reports/radio"
    await wait_for(  # the AP's radios are on by its PoE port once the switch is read in full
        eol_demo.server.url,
        lambda m: any(
            'target="unifi_nanohd"' in k and 'basis="poe"' in k
            for k in m.get("sobriety_radio_on", {})
        ),
        timeout=60,
    )
    async with browser(eol_demo.tmp / "radio1") as page:
        await page.open(url, 1400, 900)
        lang = await page.evaluate("document.documentElement.lang")
        notice = await page.evaluate("document.getElementById('upper-bound').innerText")
        order = await page.evaluate(
            "['upper-bound', 'rooms-college', 'radios-college'].map(id => "
            "document.getElementById(id).getBoundingClientRect().top)"
        )
        heads = await page.evaluate(
            "[...document.querySelectorAll('#radios-college thead th')].map(c => c.textContent)"
        )
        m5 = await page.evaluate(cells("ubiquiti-m5"))
        nano = await page.evaluate(cells("unifi_nanohd"))
        notes = await page.evaluate(
            "[...document.querySelectorAll('#site-college p.note')].map(p => p.textContent)"
        )
        rooms = await page.evaluate(
            "[...document.querySelectorAll('#rooms-college tbody tr')]"
            ".map(r => [...r.children].map(c => c.textContent))"
        )
        await page.screenshot(ARTEFACTS / "radio-page-1400.png", full_page=True)
        await page.open(f"{url}?lang=en", 1400, 900)
        english = await page.evaluate("document.getElementById('upper-bound').innerText")
    assert lang == "fr"
    assert "borne supérieure" in notice and "ce n'est pas une mesure" in notice
    assert "ne peut pas mesurer l'exposition" in notice and "100 %" in notice
    assert "9 V/m" in notice and "pas une limite" in notice
    assert "upper bound" in english and "it is not a measurement" in english
    assert order == sorted(order)  # what the figures are, before any figure
    column = {h.split(" – ")[0]: i for i, h in enumerate(heads)}
    (row,) = m5
    assert row[column["PIRE (dBm)"]] == "43,0"  # 27 dBm conducted + 16 dBi (ubntRadioAntenna)
    assert row[column["Gain d'antenne (dBi)"]] == "16,0 (donné par l'appareil)"
    assert row[column["Borne du champ à 1 m (V/m)"]] == "≤ 24,5"
    assert row[column["Distance à 9 V/m (m)"]] == "2,72"
    assert row[column["Maximum réglementaire (dBm)"]] == "14"  # 5860 MHz: 25 mW in France
    assert {r[column["Radio"]] for r in nano} == {"ng", "na"}
    for r in nano:
        assert r[column["PIRE (dBm)"]] == "inconnu : gain d'antenne inconnu"
        assert r[column["Borne du champ à 1 m (V/m)"]].startswith("inconnu")
        assert r[column["État"]] == "allumé (port PoE)"
    assert any("0 dBi n'est jamais supposé" in n for n in notes)
    by_room = {r[0]: r for r in rooms}
    assert {"CDI", "salle 12"} <= set(by_room)
    assert by_room["salle 12"][2] == "2"  # the nanoHD's two radios, PoE-fed: on
    assert (ARTEFACTS / "radio-page-1400.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_metrics_give_the_m5_bound_labelled_estimate(eol_demo: EolDemo) -> None:
    metrics = await scrape(eol_demo.server.url)
    eirp = {k: v for k, v in metrics["sobriety_radio_eirp_dbm"].items() if "ubiquiti-m5" in k}
    assert list(eirp.values()) == [43.0]
    assert 'source="estimated"' in next(iter(eirp)) and 'gain_origin="mib"' in next(iter(eirp))
    fields = metrics["sobriety_radio_field_bound_volts_per_metre"]
    (at_1m,) = [v for k, v in fields.items() if "ubiquiti-m5" in k and 'distance="1"' in k]
    assert at_1m == pytest.approx(24.47, abs=0.01)
    unknown = metrics["sobriety_radio_unknown_info"]
    assert any("unifi_nanohd" in k and 'reason="antenna_gain_unknown"' in k for k in unknown)
    assert not any("unifi_nanohd" in k for k in metrics["sobriety_radio_eirp_dbm"])


async def test_open_data_has_per_site_radio_aggregates_and_no_room(eol_demo: EolDemo) -> None:
    import csv
    import io

    from frictionless import validate

    from sobriety.cli import main

    eol_demo.daemon.store.flush()
    folder = eol_demo.tmp / "opendata-radio"
    assert main(["export", "opendata", "--config", str(eol_demo.config), "--out", str(folder)]) == 0
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    text = (folder / "radio-by-site.csv").read_text(encoding="utf-8")
    private = {"CDI", "salle 12", "toiture", "ubiquiti-m5", "unifi_nanohd", "aruba-instant",
               "ECA-Ultimo", "68:28:cf", "127.0.0.1"}  # fmt: skip
    assert not [p for p in private if p in text]
    rows = {r["site"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"college"}
    college = rows["college"]
    # Aruba Instant 8 radios, UniFi 2 (one per band), airMAX 1; only the airMAX's gain known
    assert (college["site_type"], college["radios"], college["wifi_radios"]) == (
        "college",
        "11",
        "10",
    )
    assert (college["eirp_known"], college["eirp_min_dbm"], college["eirp_max_dbm"]) == (
        "1", "43.0", "43.0",
    )  # fmt: skip
    assert float(college["on_hours_teaching"]) + float(college["on_hours_outside"]) > 0
