"""The daemon's alert engine: for, hysteresis, keep_firing_for, no data, schedules, restarts."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from sobriety.alerts.engine import (
    AlertEngine,
    AlertRule,
    AlertState,
    Scope,
    Transition,
    alert_key,
    builtin_rules_path,
    load_rules,
)
from sobriety.alerts.engine import render as render_template
from sobriety.alerts.promrules import render
from sobriety.errors import ConfigError
from sobriety.model import Sample
from tests.problems import problems_of

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def rule(**fields: object) -> AlertRule:
    base = {
        "name": "PoeBudgetHigh",
        "metric": "sobriety_poe_used_ratio",
        "op": ">",
        "raise": 0.8,
        "clear": 0.7,
        "for": "2m",
        "summary": "{{ $labels.target }} {{ $value }}",
    }
    return AlertRule.model_validate({**base, **fields})


def poe(value: float, target: str = "sw") -> list[Sample]:
    return [
        Sample("sobriety_target_up", {"target": target}, 1.0),
        Sample("sobriety_poe_used_ratio", {"target": target, "group": "1"}, value),
    ]


def run(engine: AlertEngine, values: list[float]) -> list[tuple[int, str]]:
    out = []
    for minute, value in enumerate(values):
        for t in engine.evaluate(poe(value), T0 + timedelta(minutes=minute)):
            out.append((minute, t.status))
    return out


def test_oscillating_around_the_threshold_fires_once_and_resolves_once() -> None:
    values = [0.5, 0.85, 0.85, 0.85] + [0.75, 0.85] * 10 + [0.6, 0.6]
    assert run(AlertEngine((rule(),)), values) == [(3, "firing"), (24, "resolved")]
    # without hysteresis (clear = raise) the same series flaps
    flappy = run(AlertEngine((rule(clear=None, **{"for": 0}),)), values)
    assert len(flappy) > 10


def test_pending_that_drops_is_inactive_and_keep_firing_for_delays_resolution() -> None:
    assert run(AlertEngine((rule(),)), [0.9, 0.9, 0.5, 0.9, 0.9]) == []  # never 2 min above
    slow = AlertEngine((rule(keep_firing_for="3m"),))
    assert run(slow, [0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5]) == [(2, "firing"), (6, "resolved")]


def test_keep_firing_for_counts_from_the_last_time_the_value_went_below_clear() -> None:
    """A value that dips below clear, goes back over it, then dips again has held below clear
    only since the second dip: keep_firing_for starts again there (a wobbling alert does not
    resolve early)."""
    slow = AlertEngine((rule(keep_firing_for="3m"),))
    values = [0.9, 0.9, 0.9, 0.5, 0.5, 0.75, 0.5, 0.5, 0.5, 0.5]
    assert run(slow, values) == [(2, "firing"), (9, "resolved")]  # 3 min after minute 6, not 3
    assert run(AlertEngine((rule(keep_firing_for="3m"),)), [*values[:5], 0.5, 0.5]) == [
        (2, "firing"), (6, "resolved"),
    ]  # fmt: skip


def test_a_down_device_keeps_firing_but_fires_no_new_value_alert() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    assert [t.status for t in engine.evaluate(poe(0.9), T0)] == ["firing"]
    down = [Sample("sobriety_target_up", {"target": "sw"}, 0.0)]
    assert engine.evaluate(down, T0 + timedelta(minutes=1)) == []
    assert len(engine.firing()) == 1  # no data: still firing, not resolved
    other = AlertEngine((rule(**{"for": 0}),))
    dead = [*down, Sample("sobriety_poe_used_ratio", {"target": "sw", "group": "1"}, 0.95)]
    assert other.evaluate(dead, T0) == []  # its values do not fire while it is down


def test_a_restart_does_not_renotify_a_firing_alert() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    (fired,) = engine.evaluate(poe(0.9), T0)
    saved = {k: v for k, v in engine.take_changes().items() if v is not None}
    assert [AlertState.from_json(v).state for v in saved.values()] == ["firing"]
    again = AlertEngine((rule(**{"for": 0}),))
    again.restore(saved)
    assert not again.dirty  # what was restored needs no saving
    assert again.evaluate(poe(0.9), T0 + timedelta(minutes=1)) == []  # no duplicate firing
    (resolved,) = again.evaluate(poe(0.5), T0 + timedelta(minutes=2))
    assert resolved.status == "resolved" and resolved.starts_at == fired.starts_at


def test_a_targets_evaluation_ends_only_its_own_pending_alerts() -> None:
    """No data ends a pending alert of the scope evaluated, not another target's, nor an
    untargeted one; evaluating every alert does."""
    engine = AlertEngine((rule(), rule(name="SiteHigh", metric="sobriety_poe_used_ratio")))
    site = [Sample("sobriety_poe_used_ratio", {"site": "s1"}, 0.9)]
    engine.evaluate([*poe(0.9, "a"), *poe(0.9, "b"), *site], T0)
    assert len(engine.states) == 6  # two rules on a, b and the site
    engine.evaluate([Sample("sobriety_target_up", {"target": "a"}, 1.0)], T0, scope="a")
    assert sorted(s.labels.get("target", "-") for s in engine.states.values()) == [
        "-", "-", "b", "b"
    ]  # fmt: skip
    engine.evaluate([], T0, scope=Scope.UNTARGETED)
    assert sorted(s.labels.get("target", "-") for s in engine.states.values()) == ["b", "b"]
    engine.evaluate([], T0)
    assert engine.states == {}


def test_only_changed_alerts_are_handed_to_the_store() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    engine.evaluate([*poe(0.9, "a"), *poe(0.9, "b")], T0)
    assert len(engine.take_changes()) == 2
    engine.evaluate(poe(0.9, "a"), T0 + timedelta(minutes=1), scope="a")
    assert engine.take_changes() == {}  # still firing: nothing to write
    engine.evaluate(poe(0.5, "a"), T0 + timedelta(minutes=2), scope="a")
    (key,) = engine.take_changes()  # resolved: a's alert is deleted, b's is not rewritten
    assert '"a"' in key and engine.take_changes() == {}


def test_schedule_and_counter_increase() -> None:
    waste = AlertRule.model_validate(
        {"name": "Waste", "metric": "sobriety_site_waste_energy_joules_total",
         "matchers": {"period": "after_hours"}, "increase_over": "1h", "raise": 100,
         "clear": 50, "schedule": "closed", "summary": "{{ $labels.site }} {{ $value }}"}
    )  # fmt: skip
    is_open = {"value": False}
    engine = AlertEngine((waste,), is_open=lambda labels, now: is_open["value"])
    labels = {"site": "s", "class": "desktop_pc", "period": "after_hours"}
    changes = []
    for minute in range(0, 61, 10):
        sample = Sample("sobriety_site_waste_energy_joules_total", labels, minute * 5.0)
        changes += engine.evaluate([sample], T0 + timedelta(minutes=minute))
    # 50 J every 10 min: with half an hour of history (the least it judges on), 150 J > 100
    assert [t.status for t in changes] == ["firing"]
    assert changes[0].annotations()["summary"] == "s 150"
    is_open["value"] = True  # the site opens: out of schedule, the alert resolves
    sample = Sample("sobriety_site_waste_energy_joules_total", labels, 310.0)
    assert [t.status for t in engine.evaluate([sample], T0 + timedelta(minutes=70))] == ["resolved"]


def increase(points: list[tuple[float, float]], over: str = "10m") -> list[float | None]:
    """What an increase_over rule sees at each point (seconds from T0, counter value)."""
    counter = rule(metric="sobriety_energy_gaps_total", increase_over=over)
    engine = AlertEngine((counter,))
    key = alert_key(counter.name, {"target": "t"})
    return [engine._value(counter, key, v, T0.timestamp() + t) for t, v in points]


def test_an_increase_needs_half_its_window_of_history_and_two_points() -> None:
    assert increase([(0, 5.0)]) == [None]
    assert increase([(0, 5.0), (60, 9.0)]) == [None, None]  # 1 of 10 minutes seen
    assert increase([(0, 5.0), (300, 9.0)]) == [None, 4.0]  # two points, half the window


def test_an_increase_counts_over_its_window_from_its_first_point_inclusive() -> None:
    # at 600 s, the point of 0 s is exactly 10 minutes old: still in the window
    assert increase([(0, 0.0), (300, 3.0), (600, 10.0)])[-1] == 10.0
    assert increase([(0, 0.0), (300, 3.0), (601, 10.0)])[-1] == 7.0  # now it is out


def test_a_gap_longer_than_the_window_starts_the_history_afresh() -> None:
    # at 1,500 s both earlier points are out of the 10-minute window: one point, no figure
    assert increase([(0, 0.0), (300, 3.0), (1500, 10.0)]) == [None, 3.0, None]
    assert increase([(0, 0.0), (300, 3.0), (1500, 10.0), (1800, 12.0)])[-1] == 2.0


def test_a_flat_counter_increases_by_nothing_and_a_reset_counts_from_zero() -> None:
    assert increase([(0, 7.0), (300, 7.0), (600, 7.0)])[-1] == 0.0
    assert increase([(0, 7.0), (300, 9.0), (600, 2.0)])[-1] == 2.0 + 2.0


def test_an_up_rule_fires_for_a_device_that_is_down() -> None:
    down = rule(name="TargetDown", metric="sobriety_target_up", op="<", **{"raise": 1, "for": 0},
                clear=None)  # fmt: skip
    engine = AlertEngine((down,))
    (fired,) = engine.evaluate([Sample("sobriety_target_up", {"target": "sw"}, 0.0)], T0)
    assert (fired.rule.name, fired.status) == ("TargetDown", "firing")


def test_a_rule_judges_every_sample_it_selects_past_those_it_does_not() -> None:
    engine = AlertEngine((rule(matchers={"group": "2"}, **{"for": 0}),))
    samples = [Sample("sobriety_poe_used_ratio", {"target": "sw", "group": g}, 0.9) for g in "12"]
    assert [t.labels["group"] for t in engine.evaluate(samples, T0)] == ["2"]


def test_a_series_without_history_yet_does_not_hold_back_the_others() -> None:
    counter = rule(
        metric="sobriety_energy_gaps_total", increase_over="10m", **{"raise": 1, "for": 0}
    )
    engine = AlertEngine((counter,))
    old = Sample("sobriety_energy_gaps_total", {"target": "old"}, 0.0)
    engine.evaluate([old], T0)
    new = Sample("sobriety_energy_gaps_total", {"target": "new"}, 0.0)
    later = T0 + timedelta(minutes=5)
    fired = engine.evaluate(
        [new, Sample("sobriety_energy_gaps_total", {"target": "old"}, 5.0)], later
    )
    assert [t.labels["target"] for t in fired] == ["old"]


def test_an_always_rule_ignores_whether_the_site_is_open() -> None:
    engine = AlertEngine((rule(**{"for": 0}),), is_open=lambda labels, now: True)
    assert [t.status for t in engine.evaluate(poe(0.9), T0)] == ["firing"]


def test_a_value_back_under_clear_resolves_at_that_time() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    (fired,) = engine.evaluate(poe(0.9), T0)
    (resolved,) = engine.evaluate(poe(0.5), T0 + timedelta(minutes=3))
    assert (resolved.status, resolved.starts_at, resolved.ends_at) == (
        "resolved", fired.starts_at, (T0 + timedelta(minutes=3)).timestamp(),
    )  # fmt: skip


def test_every_rule_file_s_problems_are_reported_together(tmp_path: Path) -> None:
    not_a_list = tmp_path / "scalar.yaml"
    not_a_list.write_text("rules: 3\n")
    unreadable = tmp_path / "broken.yaml"
    unreadable.write_text("rules: [unclosed\n")
    first = tmp_path / "first.yaml"
    first.write_text("rules:\n  - {name: Up, metric: sobriety_target_up, raise: 1, summary: x}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n"
        "  - {name: lower, metric: sobriety_target_up, raise: 1, summary: x}\n"
        "  - just a string\n"
        "  - {name: Up, metric: sobriety_target_up, raise: 1, summary: x}\n"
        "  - {name: Nested, metric: sobriety_target_up, raise: 1, summary: x, matchers: {a: [1]}}\n"
        "  - {name: Elsewhere, metric: sobriety_no_such_metric, raise: 1, summary: x}\n"
    )
    found = problems_of(load_rules, [not_a_list, unreadable, first, bad])
    where = [(p.file, p.entry, p.field) for p in found]
    assert where == [
        (str(not_a_list), "-", "rules"),
        *[(p.file, p.entry, p.field) for p in found if p.file == str(unreadable)],
        (str(bad), "rules[0] (lower)", "name"),
        (str(bad), "rules[1]", "-"),
        (str(bad), "rules[2] (Up)", "name"),
        (str(bad), "rules[3] (Nested)", "matchers.a"),
        (str(bad), "rules[4] (Elsewhere)", "-"),
    ]
    assert any(p.file == str(unreadable) for p in found)
    assert found[0].message == "a list of rules"
    assert [p.message for p in found if p.entry == "rules[2] (Up)"] == [
        f"duplicate (first in {first})"
    ]


def test_rules_are_checked_with_file_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {"name": "A", "metric": "sobriety_nope", "raise": 1, "summary": "x"},
                    {
                        "name": "B",
                        "metric": "sobriety_poe_used_ratio",
                        "raise": 0.5,
                        "clear": 0.9,
                        "summary": "x",
                    },
                    {
                        "name": "C",
                        "metric": "sobriety_target_up",
                        "matchers": {"site": "x"},
                        "raise": 1,
                        "summary": "x",
                    },
                ]
            }
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_rules([path])
    messages = [f"{p.entry}: {p.message}" for p in caught.value.problems]
    assert len(messages) == 3
    assert "not in the catalogue" in messages[0]
    assert "clear must not be above raise" in messages[1]
    assert "does not have" in messages[2]


def test_committed_prometheus_rules_match_the_shipped_ones() -> None:
    expected = render(load_rules([builtin_rules_path()]))
    committed = (ROOT / "rules" / "sobriety-alerts.yml").read_text(encoding="utf-8")
    assert committed == expected, "regenerate: python -m sobriety.alerts.promrules"


def test_a_floor_keeps_an_ended_warranty_from_ending_soon() -> None:
    (warranty,) = [r for r in load_rules([builtin_rules_path()]) if r.name == "WarrantyEndingSoon"]
    engine = AlertEngine((warranty,))

    def left(target: str, days: float) -> list[Sample]:
        return [
            Sample("sobriety_target_up", {"target": target}, 1.0),
            Sample("sobriety_device_warranty_left_seconds", {"target": target}, days * 86_400),
        ]

    fired = engine.evaluate([*left("new", 45), *left("old", -900)], T0)
    assert [t.labels["target"] for t in fired] == ["new"]
    later = engine.evaluate([*left("new", -1), *left("old", -901)], T0 + timedelta(days=46))
    assert [(t.labels["target"], t.status) for t in later] == [("new", "resolved")]


def test_a_state_survives_its_json_round_trip_whole() -> None:
    state = AlertState("PoeBudgetHigh", {"target": "sw", "group": "1"}, "firing", 10.5, 0.9,
                       clear_since=20.0, sent_at=30.0)  # fmt: skip
    text = state.as_json()
    assert json.loads(text) == {
        "rule": "PoeBudgetHigh", "labels": {"target": "sw", "group": "1"}, "state": "firing",
        "since": 10.5, "value": 0.9, "clear_since": 20.0, "sent_at": 30.0,
    }  # fmt: skip
    again = AlertState.from_json(text)
    assert again == state and again.key == state.key
    old = '{"rule": "R", "labels": {}, "state": "pending", "since": 1.0, "value": 2.0}'
    assert AlertState.from_json(old) == AlertState("R", {}, "pending", 1.0, 2.0, None, None)


@pytest.mark.parametrize(
    ("op", "raise_", "clear", "value", "raised", "cleared"),
    [
        (">", 0.8, 0.7, 0.8, False, False),
        (">", 0.8, 0.7, 0.81, True, False),
        (">", 0.8, 0.7, 0.7, False, True),
        (">=", 0.8, 0.7, 0.8, True, False),
        (">=", 0.8, 0.7, 0.7, False, False),
        (">=", 0.8, 0.7, 0.69, False, True),
        ("<", 10, 20, 10, False, False),
        ("<", 10, 20, 20, False, True),
        ("<=", 10, 20, 10, True, False),
        ("<=", 10, 20, 20, False, False),
        ("<=", 10, 20, 20.5, False, True),
    ],
)
def test_raise_and_clear_are_on_either_side_of_the_hysteresis_band(
    op: str, raise_: float, clear: float, value: float, raised: bool, cleared: bool
) -> None:
    r = rule(op=op, **{"raise": raise_, "clear": clear})
    assert (r.raised(value), r.cleared(value)) == (raised, cleared)


def test_a_floor_never_raises_and_always_clears() -> None:
    r = rule(op="<", **{"raise": 30, "clear": 40, "floor": 0})
    assert (r.raised(-1), r.cleared(-1)) == (False, True)
    assert (r.raised(0), r.cleared(0)) == (True, False)


def test_a_transition_says_its_labels_and_annotations() -> None:
    r = rule(summary="{{ $labels.target }} at {{ $value }}", description="group {{$labels.group}}")
    engine = AlertEngine((r.model_copy(update={"for_": 0.0}),))
    (t,) = engine.evaluate(poe(0.875), T0)
    assert t.all_labels() == {
        "alertname": "PoeBudgetHigh", "severity": "warning", "target": "sw", "group": "1",
    }  # fmt: skip
    assert t.annotations() == {"summary": "sw at 0.875", "description": "group 1"}
    plain = Transition(rule(), {"target": "sw"}, 1.0, "firing", 0.0, None)
    assert plain.annotations() == {"summary": "sw 1"}
    assert render_template("{{ $labels.missing }}|{{$value}}", {}, 2.5e-7) == "|2.5e-07"


def test_firing_lists_only_firing_alerts_of_rules_still_loaded() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    engine.evaluate(poe(0.9, "a") + poe(0.9, "b"), T0)
    engine.restore({"x": AlertState("Gone", {"target": "c"}, "firing", 0.0, 1.0).as_json()})
    pending = AlertEngine((rule(),))
    pending.evaluate(poe(0.9, "d"), T0)
    engine.restore({k: v.as_json() for k, v in pending.states.items()})
    fired = engine.firing()
    assert sorted(t.labels["target"] for t in fired) == ["a", "b"]
    assert all(t.status == "firing" and t.ends_at is None and t.starts_at == T0.timestamp()
               for t in fired)  # fmt: skip


def test_outside_its_schedule_a_firing_alert_resolves_and_a_pending_one_ends() -> None:
    is_open = {"now": True}
    engine = AlertEngine(
        (rule(schedule="open", **{"for": "1m"}),), is_open=lambda labels, at: is_open["now"]
    )
    assert engine.evaluate(poe(0.9), T0) == []  # pending
    (fired,) = engine.evaluate(poe(0.9), T0 + timedelta(minutes=1))
    assert fired.status == "firing"
    engine.take_changes()
    is_open["now"] = False  # the site closes: the rule no longer applies
    (resolved,) = engine.evaluate(poe(0.9), T0 + timedelta(minutes=2))
    assert (resolved.status, resolved.starts_at, resolved.ends_at) == (
        "resolved", fired.starts_at, (T0 + timedelta(minutes=2)).timestamp(),
    )  # fmt: skip
    assert engine.states == {} and engine.dirty
    engine.take_changes()
    assert engine.evaluate(poe(0.9), T0 + timedelta(minutes=3)) == []  # nothing, still closed
    assert not engine.dirty
    is_open["now"] = True
    assert engine.evaluate(poe(0.9), T0 + timedelta(minutes=4)) == []  # pending again
    is_open["now"] = False
    assert engine.evaluate(poe(0.9), T0 + timedelta(minutes=5)) == []  # pending just ends
    assert engine.states == {}


def test_every_pending_and_firing_alert_is_a_sample_of_its_state() -> None:
    engine = AlertEngine((rule(**{"for": "1m"}),), routing=lambda labels: {"site": "school"})
    engine.evaluate(poe(0.9, "a"), T0)
    engine.evaluate(poe(0.9, "a") + poe(0.9, "b"), T0 + timedelta(minutes=1))  # a fires
    own_site = Sample("sobriety_poe_used_ratio", {"target": "c", "group": "1", "site": "lab"}, 0.9)
    engine.evaluate([own_site], T0 + timedelta(minutes=1), scope="c")
    gone = AlertState("NoLongerLoaded", {"target": "d"}, "firing", 0.0, 1.0)
    engine.restore({"x": gone.as_json()})
    found = sorted(engine.samples(), key=lambda s: s.labels["target"])
    assert all(s.name == "sobriety_alert_active" and s.value == 1.0 for s in found)
    base = {"alertname": "PoeBudgetHigh", "severity": "warning"}
    assert [s.labels for s in found] == [
        {**base, "alertstate": "firing", "target": "a", "site": "school"},
        {**base, "alertstate": "pending", "target": "b", "site": "school"},
        {**base, "alertstate": "pending", "target": "c", "site": "lab"},  # its own site wins
    ]  # the rule no longer loaded has no sample


def test_the_same_state_is_the_same_json_whatever_the_order_of_its_labels() -> None:
    one = AlertState("PoeBudgetHigh", {"target": "sw", "group": "1"}, "firing", 0.0, 0.9)
    other = AlertState("PoeBudgetHigh", {"group": "1", "target": "sw"}, "firing", 0.0, 0.9)
    assert one.as_json() == other.as_json()


def test_a_state_of_a_rule_no_longer_loaded_hides_none_of_the_others() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    gone = AlertState("NoLongerLoaded", {"target": "d"}, "firing", 0.0, 1.0)
    engine.restore({"gone": gone.as_json()})  # first in the engine's states
    engine.evaluate(poe(0.9, "a"), T0)
    site_wide = AlertState("PoeBudgetHigh", {"site": "lab"}, "firing", 0.0, 1.0)
    engine.restore({"site": site_wide.as_json()})
    found = sorted(engine.samples(), key=lambda s: s.labels["target"])
    assert [(s.labels["target"], s.labels["site"]) for s in found] == [("", "lab"), ("a", "")]


def test_notifications_carry_the_routing_labels_and_the_series_own_win() -> None:
    engine = AlertEngine(
        (rule(**{"for": 0}),), routing=lambda labels: {"site": "school", "group": "routed"}
    )
    (fired,) = engine.evaluate(poe(0.9), T0)
    assert fired.labels == {"target": "sw", "group": "1", "site": "school"}
    (again,) = engine.firing()
    assert again.labels == fired.labels
    plain = AlertEngine((rule(**{"for": 0}),))
    (bare,) = plain.evaluate(poe(0.9), T0)
    assert bare.labels == {"target": "sw", "group": "1"}


def test_an_ended_alert_leaves_its_target_index_and_the_others_stay() -> None:
    """Scoped evaluation finds a target's alerts by an index: one that ended is gone from it,
    and the target's other alerts are still in it (their pending state still ends)."""
    engine = AlertEngine((rule(),))
    two = [*poe(0.9), Sample("sobriety_poe_used_ratio", {"target": "sw", "group": "2"}, 0.9)]
    engine.evaluate(two, T0, scope="sw")
    assert len(engine.states) == 2
    two[1] = poe(0.5)[1]
    engine.evaluate(two, T0 + timedelta(minutes=1), scope="sw")  # group 1 drops
    assert [s.labels["group"] for s in engine.states.values()] == ["2"]
    engine.evaluate([], T0 + timedelta(minutes=2), scope="sw")  # no data: group 2 ends too
    assert engine.states == {}
    engine.evaluate([], T0 + timedelta(minutes=3), scope="sw")  # an empty index, no error


@pytest.mark.parametrize(
    "labels",
    [{}, {"target": "sw1"}, {"z": 'é"\\\n\t', "a": "€ x", "m": "", "ü": "\u2028"}],
)
def test_an_alert_key_is_the_rule_and_its_sorted_labels_as_json_writes_them(
    labels: dict[str, str],
) -> None:
    """States saved by earlier versions are found again: the key's form never changes."""
    from sobriety.alerts.engine import alert_key

    assert alert_key("HighTemp", labels) == "HighTemp" + json.dumps(sorted(labels.items()))


def test_rules_loaded_anew_read_their_own_metrics() -> None:
    """The engine reads only the metrics its rules name, and the rules loaded now: a reload
    that brings a rule on another metric has it evaluated at the next poll."""
    engine = AlertEngine((rule(),))
    assert run(engine, [0.9] * 4) == [(2, "firing")]
    engine.rules = (rule(name="UpsHot", metric="sobriety_sensor_temperature_celsius", **{
        "raise": 40, "clear": 35, "for": "0s"}),)  # fmt: skip
    hot = [Sample("sobriety_target_up", {"target": "ups"}, 1.0),
           Sample("sobriety_sensor_temperature_celsius", {"target": "ups"}, 45.0)]  # fmt: skip
    changes = engine.evaluate(hot, T0 + timedelta(minutes=10))
    assert [(t.rule.name, t.status) for t in changes] == [("UpsHot", "firing")]


def test_an_excluded_label_value_keeps_a_series_out_of_a_rule_and_only_that_value() -> None:
    excluding = rule(excludes={"group": "2"})
    assert excluding.selects(Sample("sobriety_poe_used_ratio", {"target": "sw", "group": "1"}, 1))
    assert not excluding.selects(
        Sample("sobriety_poe_used_ratio", {"target": "sw", "group": "2"}, 1)
    )


def test_a_dead_device_s_values_fire_nothing_and_do_not_stop_a_live_device_s() -> None:
    engine = AlertEngine((rule(**{"for": 0}),))
    dead = [Sample("sobriety_target_up", {"target": "dead"}, 0.0),
            Sample("sobriety_poe_used_ratio", {"target": "dead", "group": "1"}, 0.9)]  # fmt: skip
    changes = engine.evaluate([*dead, *poe(0.9, "live")], T0)
    assert [(t.labels["target"], t.status) for t in changes] == [("live", "firing")]


def test_an_hour_of_one_minute_points_is_held_in_little_memory() -> None:
    counter = rule(metric="sobriety_device_boots_total", increase_over="1h")
    engine = AlertEngine((counter,))
    for minute in range(61):
        sample = Sample("sobriety_device_boots_total", {"target": "sw"}, float(minute // 20))
        engine.evaluate([sample], T0 + timedelta(minutes=minute))
    (window,) = engine.history.values()
    assert len(window.times) == len(window.values) == 61
    assert window.increase(3660.0 + T0.timestamp(), 3.0, 3600.0) == 3.0 - 0.0
    # 16 bytes a point, not a deque of tuples (about 7 KB for these 61)
    held = sys.getsizeof(window) + sys.getsizeof(window.times) + sys.getsizeof(window.values)
    assert held < 61 * 16 * 1.5 + 300
