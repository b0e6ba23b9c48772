"""Prometheus' own linter accepts what sobriety exposes: the goldens and a live scrape."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sobriety.daemon.selfcost import self_samples
from sobriety.exposition import new_registry, render
from sobriety.model import Sample
from tests.cases.regenerate import CASES
from tests.conftest import require_tool

pytestmark = pytest.mark.integration


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("path", sorted(CASES.glob("*/expected.prom")), ids=lambda p: p.parent.name)
def test_golden_exposition_passes_promtool(path: Path) -> None:
    result = promtool_check(path.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""  # no naming or type warnings either


def test_self_metrics_pass_promtool() -> None:
    samples = [*self_samples(), Sample("sobriety_targets", {"kind": "snmp"}, 3.0)]
    body, _ = render(new_registry(lambda: samples))
    result = promtool_check(body.decode())
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_catches_a_bad_exposition() -> None:
    """The check above can fail: promtool rejects a counter without the _total suffix."""
    bad = "# HELP x_bytes a counter\n# TYPE x_bytes counter\nx_bytes 1\n"
    result = promtool_check(bad)
    assert result.returncode != 0 or result.stdout.strip()


ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "sobriety-alerts.yml"


def test_generated_prometheus_rules_pass_promtool_check() -> None:
    result = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_shipped_rule_has_a_promtool_unit_test_and_they_pass() -> None:
    import yaml

    from sobriety.alerts.engine import builtin_rules_path, load_rules

    tests = ROOT / "tests" / "promtool" / "alerts_test.yml"
    tested = {
        case["alertname"]
        for group in yaml.safe_load(tests.read_text())["tests"]
        for case in group["alert_rule_test"]
    }
    assert {r.name for r in load_rules([builtin_rules_path()])} <= tested
    result = subprocess.run(
        [require_tool("promtool"), "test", "rules", str(tests)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tests.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
