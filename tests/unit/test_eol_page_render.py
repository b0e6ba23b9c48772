"""The planner's page as HTML, without a browser: language, summary, chart, escaping, filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sobriety.config.load import load_config
from sobriety.reports.eolpage import filtered, render_page
from sobriety.reports.exports import Stored, build_eol_report

CONFIG = """
sites:
  ecole: {name: "École élémentaire Jean Jaurès"}
  dsi: {name: "DSI <régionale>"}
disposals:
  L1: {date: 2026-10-01, recipient: "Asso"}
targets:
  - {id: vp1, kind: host, site: ecole, class: projector_classroom, purchased: 2015-01-01,
     asset: {model: "<script>alert(1)</script>"}}
  - {id: srv, kind: host, site: dsi, class: server_rack_2s, purchased: 2012-01-01,
     asset: {faults: [{part: alimentation}]}}
  - {id: pc, kind: host, site: ecole, class: desktop_pc, purchased: 2013-01-01,
     disposed: {batch: L1}}
"""
NOW = datetime(2026, 12, 1, tzinfo=UTC).timestamp()


def report(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return build_eol_report(load_config(path), Stored({}, []), (None, None), NOW)


def test_the_page_is_french_escaped_and_summarised(tmp_path: Path) -> None:
    page = render_page(report(tmp_path), {})
    assert page.startswith('<!doctype html><html lang="fr">')
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "DSI &lt;régionale&gt;" in page and "École élémentaire Jean Jaurès" in page
    assert 'id="summary-actions"' in page and 'id="summary-sites"' in page
    assert page.count('<circle class="device"') == 2  # in service with a known age
    assert "Fin de vie du parc" in page and "3 appareils sur 3" in page
    # the server never answered but its register records a fault: a repair, and it says so
    row = re.search(r"<tr><td class=\"target\">srv</td>(.*?)</tr>", page, re.S)
    assert row is not None
    assert 'class="repair"' in row.group(1) and "panne enregistrée : alimentation" in row.group(1)
    assert "n&#x27;a jamais répondu" in row.group(1)


def test_english_on_request_and_downloads_with_the_same_filters(tmp_path: Path) -> None:
    page = render_page(report(tmp_path), {"lang": "en", "site": "ecole"})
    assert '<html lang="en">' in page and "End of life of the fleet" in page
    assert 'href="/reports/end-of-life.csv?lang=en&amp;site=ecole"' in page
    assert "2 of 3 devices" in page
    assert render_page(report(tmp_path), {"lang": "xx"}).startswith(
        '<!doctype html><html lang="fr">'
    )


def test_filters_and_sorting_leave_unknowns_last(tmp_path: Path) -> None:
    full = report(tmp_path)
    kept = filtered(full, {"recommendation": "disposed"})
    assert [r["target"] for r in kept.rows] == ["pc"]
    by_age = filtered(full, {"sort": "age_years", "desc": "1"})
    assert [r["target"] for r in by_age.rows] == ["srv", "pc", "vp1"]
    by_model = filtered(full, {"sort": "model"})
    assert by_model.rows[0]["target"] == "vp1"  # the only one with a model; the rest after
