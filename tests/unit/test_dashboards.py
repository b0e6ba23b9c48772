"""The dashboards are generated, reference only catalogue metrics, and describe every panel."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from sobriety.metrics import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
BOARDS = sorted((ROOT / "dashboards").glob("*.json"))
NAME = re.compile(r"\bsobriety_[a-z0-9_]+\b")


def test_dashboards_are_what_the_generator_writes() -> None:
    sys.path.insert(0, str(ROOT / "dashboards"))
    import generate  # dashboards/generate.py

    assert sorted(generate.BOARDS) == [p.name for p in BOARDS]
    for path in BOARDS:
        assert path.read_text(encoding="utf-8") == generate.render(path.name), (
            f"{path.name} drifted: python dashboards/generate.py"
        )


def test_every_metric_referenced_exists_and_every_panel_says_what_it_shows() -> None:
    rules = (ROOT / "rules" / "sobriety-alerts.yml").read_text(encoding="utf-8")
    used: set[str] = set(NAME.findall(rules))
    for path in BOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        for var in board["templating"]["list"]:
            used |= set(NAME.findall(json.dumps(var.get("query", ""))))
        for panel in board["panels"]:
            assert len(panel.get("description", "")) > 20, (path.name, panel["title"])
            for target in panel["targets"]:
                used |= set(NAME.findall(target["expr"]))
    unknown = sorted(n for n in used if n not in BY_NAME)
    assert not unknown, unknown
    # every panel names a unit Grafana knows, where the panel shows a quantity
    units = {
        p["fieldConfig"]["defaults"].get("unit")
        for path in BOARDS
        for p in json.loads(path.read_text())["panels"]
    }
    assert {"watt", "kwatth", "currencyEUR", "s", "massg"} <= units


def test_provisioning_points_at_the_dashboards_folder() -> None:
    import yaml

    provider = yaml.safe_load((ROOT / "dashboards" / "provisioning" / "dashboards.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = (ROOT / "docker-compose.yml").read_text()
    assert f"./dashboards:{path}" in compose
