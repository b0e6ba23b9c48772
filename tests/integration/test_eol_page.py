"""`/reports/end-of-life` in headless Chromium (Debian's), on the demo fleet, on loopback:
French by default, the summary and the age chart above the list, the recommendation and its
reasons visible at 1400 px, usable at a phone's width, downloads with the same filters."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import aiohttp
import pytest

from sobriety.reports.eol import EOL_COLUMNS
from sobriety.reports.i18n import Lang
from tests.integration.browser import browser
from tests.integration.demo import INVENTORY, EolDemo

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tests" / "artefacts"


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200, url
        return await resp.read()


def body_rows(dom: str) -> list[str]:
    body = dom.split('<table id="eol">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


async def test_the_page_is_french_with_the_summary_and_the_age_chart(eol_demo: EolDemo) -> None:
    async with browser(eol_demo.tmp / "p1") as page:
        await page.open(eol_demo.page, 1400, 900)
        dom = await page.evaluate("document.documentElement.outerHTML")
        assert await page.evaluate("document.documentElement.lang") == "fr"
        summary = await page.evaluate(
            "[...document.querySelectorAll('#summary-actions tbody tr')]"
            ".map(r => [...r.children].map(c => c.textContent))"
        )
        circles = await page.evaluate("document.querySelectorAll('#age-chart circle').length")
        order = await page.evaluate(
            "['summary', 'age-chart', 'eol'].map(id => document.getElementById(id)"
            ".getBoundingClientRect().top)"
        )
    assert "Fin de vie du parc" in dom and "Collège de démonstration" in dom
    assert "Salle serveurs intercommunale" in dom
    actions = {row[0]: row[1:] for row in summary}
    assert set(actions) >= {"conserver", "réemployer", "entretenir", "réparer", "remis"}
    assert sum(int(cells[0]) for cells in actions.values()) == INVENTORY
    assert actions["remis"][1] == "25"  # 5.3 + 5.7 (class medians) + 14.2 (weighed), kg
    rows = body_rows(dom)
    assert len(rows) == INVENTORY
    assert f"{INVENTORY} appareils sur {INVENTORY}" in dom
    in_service = [r for r in rows if 'class="disposed"' not in r]
    with_age = sum(1 for r in in_service if re.search(r'class="age_years num">\d', r))
    assert circles == with_age > 10  # one dot per device in service of known age
    assert order == sorted(order)  # summary, then the chart, then the list


async def test_the_recommendation_and_its_reasons_are_visible_at_1400px(eol_demo: EolDemo) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    async with browser(eol_demo.tmp / "p2") as page:
        await page.open(eol_demo.page, 1400, 900)
        boxes = await page.evaluate(
            "(() => { const box = s => { const r = document.querySelector(s)"
            ".getBoundingClientRect(); return [r.left, r.right]; };"
            "return {width: window.innerWidth, recommendation: box('#eol th.col-recommendation'),"
            " reasons: box('#eol th.col-reasons'), cell: box('#eol tbody td.reasons')}; })()"
        )
        await page.screenshot(ARTEFACTS / "end-of-life-page-1400.png", full_page=True)
        await page.open(eol_demo.page, 390, 844)
        phone = await page.evaluate(
            "({page: document.documentElement.scrollWidth, width: window.innerWidth,"
            " table: document.querySelector('#eol').getBoundingClientRect().width,"
            " recommendation: document.querySelector('#eol th.col-recommendation')"
            ".getBoundingClientRect().left})"
        )
        await page.screenshot(ARTEFACTS / "end-of-life-page-phone.png", full_page=True)
    width = boxes["width"]
    assert width == 1400
    assert boxes["recommendation"][0] >= 0 and boxes["recommendation"][1] <= width
    assert boxes["reasons"][0] < width and boxes["cell"][1] <= width  # reasons wrap, in view
    # at a phone's width the list scrolls in its own box; the page itself does not overflow
    assert phone["page"] <= phone["width"] and phone["table"] > phone["width"]
    assert phone["recommendation"] < phone["width"]  # second column, reachable at once
    for name in ("end-of-life-page-1400.png", "end-of-life-page-phone.png"):
        assert (ARTEFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_the_filter_form_and_the_sort_work_in_the_browser(eol_demo: EolDemo) -> None:
    async with browser(eol_demo.tmp / "p3") as page:
        await page.open(f"{eol_demo.page}?recommendation=keep&sort=age_years&desc=1", 1400, 900)
        dom = await page.evaluate("document.documentElement.outerHTML")
        english = await page.evaluate("document.getElementById('lang').href")
    kept = body_rows(dom)
    assert 0 < len(kept) < INVENTORY
    assert all('class="keep"' in r for r in kept)
    assert "cisco_16_switch" in kept[0]  # the oldest kept device first (15.75 years)
    assert "recommendation=keep" in english and "lang=en" in english


async def test_downloads_carry_the_filters_and_the_language(eol_demo: EolDemo) -> None:
    fr = Lang("fr")
    raw = await fetch(f"{eol_demo.page}.csv?recommendation=repair")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == [c.title(fr) for c in EOL_COLUMNS]
    index = {c.id: i for i, c in enumerate(EOL_COLUMNS)}
    assert [line[index["target"]] for line in lines[1:]] == ["linux_powermon"]
    assert lines[1][index["site_name"]] == "Salle serveurs intercommunale"
    college = await fetch(f"{eol_demo.page}.csv?site=college")
    text = college.decode("utf-8-sig")
    assert "Collège de démonstration" in text and "Salle serveurs" not in text
    english = (await fetch(f"{eol_demo.page}.csv?recommendation=repair&lang=en")).decode(
        "utf-8-sig"
    )
    header = "Organisation,Site,Site name,Building,Room,Class,Device"
    assert english.splitlines()[0].startswith(header)
    ods = await fetch(f"{eol_demo.page}.ods?recommendation=service")
    assert ods[:2] == b"PK"  # an OpenDocument zip
    path = eol_demo.tmp / "service.ods"
    path.write_bytes(ods)
    from tests.tables import ods_cells

    cells = ods_cells(path)
    assert [row[index["target"]][2] for row in cells[1:]] == ["eaton-93e-80"]
    assert cells[1][index["life_start"]][0] == "date"
