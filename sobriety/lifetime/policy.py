"""End-of-life policy as data: keep, reuse, repair or recycle each device, with reasons.

The rules (`collectors/eol-policy.yaml`, or a site's file) test facts the daemon observed
and the inventory holds (`facts()`); every rule that holds fires; the recommendation is the
strongest fired action (recycle > repair > reuse > keep), `keep` with "no rule fired" when
none does. Disposed devices (inventory `disposed:`) are out of the active fleet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sobriety.config.load import TargetConfig
from sobriety.config.types import read_section
from sobriety.energy.classes import DeviceClass
from sobriety.energy.readings import values
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.lifetime.tracker import SECONDS_PER_YEAR, age_of, warranty_end
from sobriety.model import Sample
from sobriety.store import LifetimeState, StateStore

Action = Literal["keep", "reuse", "repair", "recycle"]
ACTIONS: tuple[Action, ...] = ("keep", "reuse", "repair", "recycle")  # weakest first
FACTS = (
    "age_years",
    "age_over_life",
    "life_left_years",
    "lifetime_years",
    "warranty_expired",
    "warranty_days_left",
    "boots_per_month",
    "power_ratio",
    "ups_battery_replace",
    "measured",
)


class Test(BaseModel):
    """Numeric comparisons, all of which must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    eq: float | None = None

    def holds(self, value: float) -> bool:
        return (
            (self.gt is None or value > self.gt)
            and (self.ge is None or value >= self.ge)
            and (self.lt is None or value < self.lt)
            and (self.le is None or value <= self.le)
            and (self.eq is None or value == self.eq)
        )


class Rule(BaseModel):
    """One rule: when every condition holds, recommend `action` because of `reason`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    reason: str = Field(min_length=1, max_length=120)
    when: Mapping[str, Test | bool] = Field(min_length=1)

    def fires(self, facts: Mapping[str, float | bool | None]) -> bool:
        for name, test in self.when.items():
            value = facts.get(name)
            if value is None:
                return False  # an unknown fact never fires a rule
            if isinstance(test, bool):
                if bool(value) is not test:
                    return False
            elif isinstance(value, bool) or not test.holds(float(value)):
                return False
        return True


class Policy(BaseModel):
    """An ordered list of rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]

    def recommend(self, facts: Mapping[str, float | bool | None]) -> tuple[Action, list[str]]:
        fired = [rule for rule in self.rules if rule.fires(facts)]
        if not fired:
            return "keep", ["no rule fired"]
        action = max((r.action for r in fired), key=ACTIONS.index)
        return action, [r.reason for r in fired]


def builtin_policy_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "eol-policy.yaml"


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path` (default: the shipped one); ConfigError names file, rule, field."""
    path = path or builtin_policy_path()
    entries = read_section(path, "rules")
    if not isinstance(entries, list) or not entries:
        raise ConfigError([ConfigProblem(str(path), "-", "rules", "a list of rules")])
    rules: list[Rule] = []
    problems: list[ConfigProblem] = []
    for i, entry in enumerate(entries):
        try:
            rule = Rule.model_validate(entry)
        except ValidationError as exc:
            problems += [
                ConfigProblem(
                    str(path), f"rules[{i}]", ".".join(map(str, e["loc"])) or "-", e["msg"]
                )
                for e in exc.errors()
            ]
            continue
        problems += [
            ConfigProblem(
                str(path),
                f"rules[{i}]",
                f"when.{name}",
                f"unknown fact (known: {', '.join(FACTS)})",
            )
            for name in rule.when
            if name not in FACTS
        ]
        rules.append(rule)
    if problems:
        raise ConfigError(problems)
    return Policy(rules=tuple(rules))


def facts(
    target: TargetConfig,
    cls: DeviceClass | None,
    samples: Sequence[Sample],
    state: LifetimeState | None,
    at: float,
    first_seen: float | None,
) -> dict[str, float | bool | None]:
    """What the rules can test, for one device now; None where it is unknown."""
    age = age_of(target, samples, first_seen)
    age_years = (at - age.start) / SECONDS_PER_YEAR if age is not None else None
    life = cls.lifetime_years if cls is not None else None
    end = warranty_end(target)
    power = [s for s in samples if s.name == "sobriety_device_power_watts"]
    typical = cls.typical_watts if cls is not None else None
    tracked = (at - first_seen) if first_seen is not None else None
    boots = state.boots if state is not None else None
    replace = values(samples, "sobriety_ups_battery_replace_needed")
    return {
        "age_years": age_years,
        "age_over_life": age_years / life if age_years is not None and life else None,
        "life_left_years": life - age_years if age_years is not None and life else None,
        "lifetime_years": life,
        "warranty_expired": (at >= end) if end is not None else None,
        "warranty_days_left": (end - at) / 86_400 if end is not None else None,
        "boots_per_month": (
            boots / (tracked / (30 * 86_400))
            if boots is not None and tracked and tracked >= 86_400
            else None
        ),
        "power_ratio": power[0].value / typical if power and typical else None,
        "ups_battery_replace": (replace[0] == 1) if replace else None,
        "measured": (power[0].labels.get("source") == "measured") if power else None,
    }


def recommendation_samples(target: str, action: Action, reasons: Sequence[str]) -> list[Sample]:
    """`sobriety_device_eol_recommendation{action}`: 1 for the recommended action, 0 else."""
    out = [
        Sample(
            "sobriety_device_eol_recommendation",
            {"target": target, "action": a},
            float(a == action),
        )
        for a in ACTIONS
    ]
    out += [
        Sample("sobriety_device_eol_reason_info", {"target": target, "reason": r}, 1.0)
        for r in reasons
    ]
    return out


class Advisor:
    """Applies the policy to one device after each poll and keeps its facts for the exports.

    Facts flow one way: the tracker's figures (age, boots, power-on) come in as samples and
    state; nothing here feeds back into the tracker.
    """

    def __init__(self, store: StateStore, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    def advise(
        self,
        target: TargetConfig,
        cls: DeviceClass | None,
        samples: Sequence[Sample],
        state: LifetimeState,
        at: float,
        first_seen: float | None,
    ) -> list[Sample]:
        """The end-of-life recommendation of one device; its facts are written to the store."""
        known = facts(target, cls, samples, state, at, first_seen)
        action, reasons = self.policy.recommend(known)
        info = next((s.labels for s in samples if s.name == "sobriety_device_info"), {})
        age = next((s for s in samples if s.name == "sobriety_device_age_seconds"), None)
        power = next((s for s in samples if s.name == "sobriety_device_power_watts"), None)
        self.store.record_device_facts(
            target.id,
            at,
            {
                **known,
                "vendor": info.get("vendor", ""),
                "model": info.get("model", ""),
                "serial": info.get("serial", ""),
                "age_source": age.labels.get("source") if age is not None else None,
                "boots": state.boots,
                "power_on_seconds": state.power_on_seconds,
                "power_watts": power.value if power is not None else None,
                "power_source": power.labels.get("source") if power is not None else None,
                "wear": wear_summary(samples),
                "action": action,
                "reasons": reasons,
            },
        )
        return recommendation_samples(target.id, action, reasons)


def wear_summary(samples: Sequence[Sample]) -> str:
    """The wear signals a device gives, as one short text for the end-of-life list."""
    parts = []
    for s in samples:
        if s.name == "sobriety_printer_marker_lifetime_count_total":
            parts.append(f"{int(s.value)} {s.labels.get('unit', '')}".strip())
        elif s.name == "sobriety_projector_lamp_seconds":
            parts.append(f"lamp {s.value / 3600:.0f} h")
        elif s.name == "sobriety_ups_battery_replace_needed" and s.value == 1:
            parts.append("battery to replace")
        elif s.name == "sobriety_ups_battery_replaced_timestamp_seconds":
            day = datetime.fromtimestamp(s.value, UTC).date().isoformat()
            parts.append(f"battery replaced {day}")
    return "; ".join(parts)
