"""The end-of-life policy: rules as data, the waste hierarchy (the least destructive action
the facts allow wins), every reason kept, unknown facts firing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.errors import ConfigError, ConfigProblem
from sobriety.lifetime.facts import FACTS
from sobriety.lifetime.policy import (
    ACTIONS,
    Policy,
    Reason,
    Recommendation,
    Rule,
    load_policy,
    recommendation_samples,
)
from sobriety.lifetime.policy import Test as NumericTest
from sobriety.lifetime.support import load_support
from sobriety.model import Sample
from tests.problems import problems_of

POLICY = load_policy()
SEEN = {"observed": True}


def rules_of(facts: dict[str, object]) -> list[str]:
    return [r.rule for r in POLICY.recommend(facts).reasons]  # type: ignore[arg-type]


def test_a_device_never_seen_has_no_invented_recommendation() -> None:
    recommendation = POLICY.recommend({})
    assert recommendation.action is None
    assert [r.rule for r in recommendation.reasons] == ["not_observed"]


def test_a_working_device_with_nothing_against_it_is_kept_and_says_why() -> None:
    recommendation = POLICY.recommend(SEEN)
    assert recommendation.action == "keep"
    assert recommendation.reasons[0].rule == "default_keep"


def test_repair_wins_over_recycling_when_a_repair_route_is_known() -> None:
    facts = {**SEEN, "open_faults": 1.0, "fault_list": "power supply 2",
             "age_over_service_life": 2.6, "service_life_years": 4.0,
             "service_life_source": "x", "warranty_expired": True}  # fmt: skip
    recommendation = POLICY.recommend(facts)
    assert recommendation.action == "repair"
    assert [r.rule for r in recommendation.reasons] == ["fault", "past_service_life"]
    assert recommendation.reasons[0].values == {"fault_list": "power supply 2"}


def test_recycling_is_what_is_left_when_every_route_above_the_need_is_closed() -> None:
    facts = {**SEEN, "open_faults": 1.0, "fault_list": "board", "repairable": False}
    recommendation = POLICY.recommend(facts)
    assert recommendation.action == "recycle"
    assert [r.rule for r in recommendation.reasons] == ["fault", "not_repairable"]
    # a closed repair route does not close reuse when only reuse is needed
    unsupported = {**SEEN, "support_ended": True, "free_os_candidate": False,
                   "support_product": "X", "support_end": "2014-04-08",
                   "repairable": False}  # fmt: skip
    assert POLICY.recommend(unsupported).action == "reuse"


def test_the_strongest_need_is_met_and_the_others_are_said() -> None:
    facts = {**SEEN, "ups_battery_replace": True, "support_ended": True,
             "free_os_candidate": False, "support_product": "X",
             "support_end": "2014-04-08", "warranty_days_left": 30.0}  # fmt: skip
    recommendation = POLICY.recommend(facts)
    assert recommendation.action == "service"  # service > reuse > keep
    assert [r.rule for r in recommendation.reasons] == [
        "ups_battery_test", "support_ended", "warranty_ending",
    ]  # fmt: skip


def test_an_unknown_fact_fires_nothing_and_unknown_can_be_asked_for() -> None:
    assert POLICY.recommend({**SEEN, "support_ended": None}).action == "keep"
    assert "age_unknown" in rules_of({**SEEN, "age_years": None, "seen_years": 0.4})
    assert "age_unknown" not in rules_of({**SEEN, "age_years": 3.0, "seen_years": 0.4})
    assert "age_unknown" not in rules_of({**SEEN, "age_years": None})  # never seen answering


def test_wear_against_the_rating_not_age() -> None:
    barely = {**SEEN, "lamp_hours": 79.0, "lamp_rated_hours": 2500.0, "lamp_wear": 79 / 2500,
              "lamp_hours_per_year": 7.0, "age_over_service_life": 1.6,
              "service_life_years": 7.0, "service_life_source": "x"}  # fmt: skip
    recommendation = POLICY.recommend(barely)
    assert recommendation.action == "keep"
    assert {"lamp_barely_used", "rarely_used", "past_service_life"} <= {
        r.rule for r in recommendation.reasons
    }
    worn = {**SEEN, "lamp_hours": 2600.0, "lamp_rated_hours": 2500.0, "lamp_wear": 1.04}
    assert POLICY.recommend(worn).action == "service"


def test_free_os_reuse_for_a_pc_whose_os_is_unsupported() -> None:
    base = {**SEEN, "support_ended": True, "free_os_candidate": True, "software": "Windows XP",
            "support_end": "2014-04-08", "free_os_name": "Xubuntu"}  # fmt: skip
    assert rules_of({**base, "meets_free_os": True})[0] == "free_os"
    assert rules_of({**base, "meets_free_os": False, "free_os_shortfall": ["memory"]})[0] == (
        "free_os_short"
    )
    assert rules_of({**base, "meets_free_os": None})[0] == "free_os_unknown"
    assert POLICY.recommend({**base, "meets_free_os": False}).action == "reuse"


def test_metrics_carry_every_action_and_the_fired_rules() -> None:
    recommendation = POLICY.recommend({**SEEN, "open_faults": 2.0, "fault_list": "x"})
    samples = recommendation_samples("t", recommendation)
    actions = {s.labels["action"]: s.value for s in samples if "action" in s.labels}
    assert actions == {a: float(a == "repair") for a in ACTIONS}
    reasons = [s.labels["reason"] for s in samples if "reason" in s.labels]
    assert reasons == ["fault"]


def test_a_bad_policy_names_file_rule_and_field_for_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "free_os: {name: x, processors: 0, memory_gib: 2, storage_gb: 20, source: s}\n"
        "support:\n"
        "  - {product: X, ends: 2020-01-01, source: s}\n"
        "rules:\n"
        "  - {id: a, need: scrap, reason: x, when: {age_years: {gt: 1}}}\n"
        "  - {id: b, need: keep, reason: y, when: {age_yaers: {gt: 1}}}\n"
        "  - {id: c, need: keep, reason: 'z {nothing}', when: {support_ended: {gt: 1}}}\n"
        "  - {id: c, need: keep, rule_out: [repair], reason: w, when: {repairable: true}}\n"
        "  - {id: e, rule_out: [recycle], reason: v, when: {age_years: 3}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    problems = {(p.entry, p.field) for p in caught.value.problems}
    assert problems == {
        ("rules[0]", "need"),
        ("rules[1] (id=b)", "when.age_yaers"),
        ("rules[2] (id=c)", "when.support_ended"),
        ("rules[2] (id=c)", "reason"),
        ("rules[3]", "-"),
        ("rules[4]", "rule_out"),
        ("rules[4]", "when.age_years"),
        ("free_os", "processors"),
        ("support[0]", "-"),
    }, problems
    messages = {p.message for p in caught.value.problems}
    assert any("unknown fact" in m for m in messages)
    assert any("{nothing} is not a fact" in m for m in messages)
    assert any("recycling cannot be ruled out" in m for m in messages)
    assert all(p.file == str(path) for p in caught.value.problems)


def test_a_site_policy_adds_support_entries_before_the_shipped_ones(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "support:\n"
        "  - {product: IOS 12.2, firmware: '^12\\.2', vendor: cisco, ends: 2018-07-31,\n"
        "     source: the site's support contract}\n"
        "rules:\n"
        "  - {id: only, need: keep, reason: x, when: {support_ended: true}}\n"
    )
    policy = load_policy(path)
    found = policy.support.lookup({"vendor": "Cisco", "firmware": "12.2(55)SE10"})
    assert found is not None and found.product == "IOS 12.2"
    assert policy.support.lookup({"software": "Windows XP SP3"}) is not None  # shipped
    assert policy.support.lookup({"vendor": "Cisco", "firmware": "15.2"}) is None


def test_a_bad_support_entry_is_a_problem_per_field_with_pydantic_s_own_words(
    tmp_path: Path,
) -> None:
    path = tmp_path / "support.yaml"
    path.write_text(
        "entries:\n"
        "  - {product: IOS, vendor: cisco, ends: 2018-07-31, source: contract}\n"
        "  - {product: '', vendor: cisco, ends: 2018-07-31, source: contract}\n"
        "  - {product: IOS, ends: 2018-07-31, source: contract}\n"
    )
    assert problems_of(load_support, path) == [
        ConfigProblem(
            str(path), "entries[1]", "product", "String should have at least 1 character"
        ),
        ConfigProblem(
            str(path), "entries[2]", "-", "give at least one of software, vendor, model, firmware"
        ),
    ]


@pytest.mark.parametrize(
    ("test", "passing", "failing"),
    [
        ({"gt": 2}, [2.5], [2.0, 1.0]),
        ({"ge": 2}, [2.0, 3.0], [1.9]),
        ({"lt": 2}, [1.5], [2.0, 3.0]),
        ({"le": 2}, [2.0, 1.0], [2.1]),
        ({"eq": 2}, [2.0], [2.5, 1.5]),
        ({"gt": 1, "lt": 3}, [2.0], [1.0, 3.0]),
    ],
)
def test_a_numeric_test_holds_on_its_side_of_the_bound_only(
    test: dict[str, float], passing: list[float], failing: list[float]
) -> None:
    check = NumericTest.model_validate(test)
    assert all(check.holds(v) for v in passing)
    assert not any(check.holds(v) for v in failing)


def test_a_rule_fires_only_when_every_condition_holds_on_a_fact_of_its_kind() -> None:
    rule = Rule.model_validate(
        {"id": "r", "need": "repair", "reason": "x",
         "when": {"open_faults": {"ge": 1}, "support_ended": True, "age_years": "unknown"}}
    )  # fmt: skip
    facts = {"open_faults": 2.0, "support_ended": True, "age_years": None}
    assert rule.fires(facts)
    assert not rule.fires({**facts, "support_ended": False})
    assert not rule.fires({**facts, "support_ended": 1})  # a number is not a flag
    assert not rule.fires({**facts, "open_faults": True})  # nor a flag a number
    assert not rule.fires({**facts, "open_faults": "2"})
    assert not rule.fires({**facts, "open_faults": 0.0})
    assert not rule.fires({**facts, "age_years": 3.0})  # known, not unknown
    assert not rule.fires({"support_ended": True, "age_years": None})  # open_faults unknown


def test_a_rule_names_only_facts_and_tests_each_by_its_kind(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n"
        "  - {id: a, need: repair, reason: '{nope} {open_faults}', when: {open_faults: true}}\n"
        "  - {id: b, need: repair, reason: x, when: {support_ended: {gt: 1}, no_such: true}}\n"
        "  - {id: a, need: keep, reason: x, when: {observed: true}}\n"
    )
    found = problems_of(load_policy, path)
    problems = [(p.entry, p.field, p.message.split(" (")[0]) for p in found]
    assert problems == [
        ("rules[0] (id=a)", "when.open_faults",
         "a number fact: test it with gt, ge, lt, le, eq or unknown"),
        ("rules[0] (id=a)", "reason", "{nope} is not a fact"),
        ("rules[1] (id=b)", "when.support_ended",
         "a flag fact: test it with true, false or unknown"),
        ("rules[1] (id=b)", "when.no_such", "unknown fact"),
        ("rules[2]", "id", "duplicate rule id 'a'"),
    ]  # fmt: skip
    assert all(p.file == str(path) for p in found)


def test_support_entries_that_are_not_a_list_are_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "support.yaml"
    path.write_text("entries: 3\n")
    assert problems_of(load_support, path) == [
        ConfigProblem(str(path), "-", "entries", "a list of support entries")
    ]


def _rule(rule_id: str, when: dict[str, object], **kind: object) -> Rule:
    return Rule.model_validate({"id": rule_id, "reason": rule_id, "when": when, **kind})


def test_reasons_are_the_strongest_need_then_what_is_ruled_out_then_the_weaker_needs() -> None:
    policy = Policy(rules=(
        _rule("weak", {"support_ended": True}, need="reuse"),
        _rule("strong", {"open_faults": {"ge": 1}}, need="repair"),
        _rule("closed", {"repairable": False}, rule_out=["repair"]),
    ))  # fmt: skip
    facts = {**SEEN, "support_ended": True, "open_faults": 1.0, "repairable": False}
    recommendation = policy.recommend(facts)
    assert recommendation.action == "recycle"
    assert [r.rule for r in recommendation.reasons] == ["strong", "closed", "weak"]


def test_the_default_keep_reason_comes_first_and_only_for_a_device_seen_working() -> None:
    policy = Policy(rules=(
        _rule("old", {"age_years": {"gt": 1}}, need="keep"),
        _rule("closed", {"repairable": False}, rule_out=["repair"]),
    ))  # fmt: skip
    seen = policy.recommend({**SEEN, "repairable": False})
    assert seen.action == "keep"
    assert [r.rule for r in seen.reasons] == ["default_keep", "closed"]
    unseen = policy.recommend({"age_years": 3.0})
    assert unseen.action == "keep"  # a need, from the inventory alone
    assert [r.rule for r in unseen.reasons] == ["old", "not_observed"]


def test_a_reason_as_json_is_its_rule_its_text_and_the_values_it_shows() -> None:
    reason = Reason("fault", "{fault_list}", {"fault_list": "fan"})
    assert reason.as_json() == {"rule": "fault", "text": "{fault_list}",
                                "values": {"fault_list": "fan"}}  # fmt: skip


def test_the_metrics_are_one_per_action_and_one_per_reason_labelled_by_target() -> None:
    recommendation = Recommendation("repair", (Reason("fault", "x"), Reason("old", "y")))
    assert recommendation_samples("t", recommendation) == [
        *(Sample("sobriety_device_eol_recommendation", {"target": "t", "action": a},
                 float(a == "repair")) for a in ACTIONS),
        Sample("sobriety_device_eol_reason_info", {"target": "t", "reason": "fault"}, 1.0),
        Sample("sobriety_device_eol_reason_info", {"target": "t", "reason": "old"}, 1.0),
    ]  # fmt: skip


def test_an_unknown_fact_is_named_with_every_known_one_and_the_rule_s_other_tests_checked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n  - {id: a, need: repair, reason: x, when: {no_such: true, open_faults: true}}\n"
    )
    found = problems_of(load_policy, path)
    assert [(p.field, p.message) for p in found] == [
        ("when.no_such", f"unknown fact (known: {', '.join(FACTS)})"),
        ("when.open_faults", "a number fact: test it with gt, ge, lt, le, eq or unknown"),
    ]


def test_rules_that_are_not_a_list_are_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("rules: 3\n")
    assert problems_of(load_policy, path) == [
        ConfigProblem(str(path), "-", "rules", "a list of rules")
    ]


def test_a_policy_reads_its_free_os_threshold_and_the_support_file_it_is_given(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "free_os: {name: Lite, processors: 1, memory_gib: 1, storage_gb: 8, source: s}\n"
        "rules:\n"
        "  - {id: only, need: keep, reason: x, when: {support_ended: true}}\n"
    )
    support = tmp_path / "support.yaml"
    support.write_text(
        "entries:\n  - {product: Box OS, vendor: acme, ends: 2020-01-01, source: s}\n"
    )
    policy = load_policy(path, support)
    assert policy.free_os is not None and policy.free_os.name == "Lite"
    found = policy.support.lookup({"vendor": "ACME"})
    assert found is not None and found.product == "Box OS"
    # a bad rule and a bad support file: both problems, neither hides the other
    path.write_text("rules:\n  - {id: b, need: scrap, reason: x, when: {observed: true}}\n")
    support.write_text("entries:\n  - {product: '', vendor: acme, ends: 2020-01-01, source: s}\n")
    assert [(p.file, p.entry) for p in problems_of(lambda p: load_policy(p, support), path)] == [
        (str(path), "rules[0]"),
        (str(support), "entries[0]"),
    ]


def test_a_condition_that_is_no_test_says_what_a_test_is(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("rules:\n  - {id: a, need: repair, reason: x, when: {repairable: maybe}}\n")
    (problem,) = problems_of(load_policy, path)
    assert problem.message == "a test: {gt: 1} (numbers), true or false (flags), or unknown"
