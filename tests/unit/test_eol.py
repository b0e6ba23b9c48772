"""The end-of-life policy: rules as data, the strongest action wins, every reason is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.errors import ConfigError
from sobriety.lifetime.policy import load_policy


def test_the_shipped_policy_recommends_with_reasons() -> None:
    policy = load_policy()
    assert policy.recommend({}) == ("keep", ["no rule fired"])
    old = {"life_left_years": -3.0, "age_over_life": 1.5, "warranty_expired": True}
    assert policy.recommend(old) == (
        "reuse",
        ["past its class's expected life and out of warranty: offer it for reuse"],
    )
    ancient = {**old, "age_over_life": 2.5, "ups_battery_replace": True}
    action, reasons = policy.recommend(ancient)
    assert action == "recycle"  # recycle > repair > reuse
    assert len(reasons) == 3
    ending = {"warranty_days_left": 45.0, "boots_per_month": 9.0}
    assert policy.recommend(ending) == (
        "repair",
        ["reboots more than 4 times a month", "warranty ends within 90 days"],
    )
    # an unknown fact never fires a rule: no invented recommendation
    assert policy.recommend({"warranty_expired": True, "life_left_years": None})[0] == "keep"


def test_a_bad_policy_names_file_rule_and_field_for_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n"
        "  - {action: scrap, reason: x, when: {age_years: {gt: 1}}}\n"
        "  - {action: keep, reason: y, when: {age_yaers: {gt: 1}}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    problems = [(p.entry, p.field) for p in caught.value.problems]
    assert problems == [("rules[0]", "action"), ("rules[1]", "when.age_yaers")]
    assert "unknown fact" in caught.value.problems[1].message
