"""End-of-life policy as data, following the waste hierarchy: keep, reuse (in place or
elsewhere), service, repair, recycle, the least destructive first.

Rules (`collectors/eol-policy.yaml`, or a site's file) test the facts of `facts.py`. A rule
either says what a fact *needs* (a failed power supply needs at least a repair) or *rules out*
routes (a device a repairer gave up on cannot be repaired). The recommendation is the least
destructive action at or above the strongest need that no fired rule rules out; recycling is
what is left when every route above the need is closed, never a need by age alone. Every
fired rule is a reason. An unknown fact fires no rule (unless the rule asks for `unknown`);
a device with no need is kept if it was seen working, and has no recommendation if it never
answered. Disposed devices (inventory `disposed:`) are out of the active fleet.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sobriety.config.load import SiteConfig, TargetConfig
from sobriety.config.types import read_section
from sobriety.energy.classes import DeviceClass
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.lifetime.facts import (
    FACTS,
    FactInputs,
    FactValue,
    FreeOsThreshold,
    device_facts,
    identity,
)
from sobriety.lifetime.support import (
    SupportTable,
    load_support,
    parse_entries,
    validation_problems,
)
from sobriety.model import Sample
from sobriety.store import LifetimeState, StateStore

Action = Literal["keep", "reuse", "service", "repair", "recycle"]
ACTIONS: tuple[Action, ...] = ("keep", "reuse", "service", "repair", "recycle")  # gentlest first
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_KEEP = "no fault, no wear past its rating and no end of support known"
NOT_OBSERVED = "never answered a poll: only what the inventory says is known"


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


def _condition(value: object) -> object:
    if isinstance(value, bool | dict | Test) or value == "unknown":
        return value
    raise ValueError("a test: {gt: 1} (numbers), true or false (flags), or unknown")


Condition = Annotated[Test | bool | Literal["unknown"], BeforeValidator(_condition)]


class Rule(BaseModel):
    """When every condition holds: this fact `need`s at least that action, or `rule_out`s
    those routes; `reason` says why, with facts in braces ({lamp_hours:.0f})."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_RULE_ID.pattern, max_length=48)
    need: Action | None = None
    rule_out: tuple[Action, ...] = ()
    reason: str = Field(min_length=1, max_length=400)
    when: Mapping[str, Condition] = Field(min_length=1)

    @field_validator("rule_out")
    @classmethod
    def _not_recycling(cls, value: tuple[Action, ...]) -> tuple[Action, ...]:
        if "recycle" in value:
            raise ValueError("recycling cannot be ruled out: it is what is left")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.need is None) == (not self.rule_out):
            raise ValueError("give either need (an action) or rule_out (a list of actions)")
        return self

    def fires(self, facts: Mapping[str, FactValue]) -> bool:
        for name, test in self.when.items():
            value = facts.get(name)
            if test == "unknown":
                if value is not None:
                    return False
                continue
            if value is None:
                return False  # an unknown fact never fires a rule
            if isinstance(test, bool):
                if not isinstance(value, bool) or value is not test:
                    return False
            elif isinstance(test, Test) and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not test.holds(float(value))
            ):
                return False
        return True

    def placeholders(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.reason) if name]


@dataclass(frozen=True, slots=True)
class Reason:
    """A fired rule's reason: its template and the fact values it shows."""

    rule: str
    text: str
    values: Mapping[str, FactValue] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"rule": self.rule, "text": self.text, "values": dict(self.values)}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The action (None: unknown, the device was never observed) and every reason."""

    action: Action | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """Ordered rules, the free-OS threshold they may test, and the support table."""

    rules: tuple[Rule, ...]
    free_os: FreeOsThreshold | None = None
    support: SupportTable = field(default_factory=SupportTable)

    def recommend(self, facts: Mapping[str, FactValue]) -> Recommendation:
        fired = [rule for rule in self.rules if rule.fires(facts)]
        needs = [rule for rule in fired if rule.need is not None]
        closed = {action for rule in fired for action in rule.rule_out}
        level = max((ACTIONS.index(r.need) for r in needs if r.need is not None), default=0)
        observed = facts.get("observed") is True
        action: Action | None = None
        if needs or observed:
            index = level
            while ACTIONS[index] in closed:  # recycle is never closed: the walk ends there
                index += 1
            action = ACTIONS[index]
        strongest = [r for r in needs if r.need is not None and ACTIONS.index(r.need) == level]
        outs = [r for r in fired if r.rule_out]
        rest = [r for r in fired if r not in strongest and r not in outs]
        reasons = [self._reason(r, facts) for r in (*strongest, *outs, *rest)]
        if level == 0 and observed and action == "keep":
            reasons.insert(0, Reason("default_keep", DEFAULT_KEEP))
        if not observed:
            reasons.append(Reason("not_observed", NOT_OBSERVED))
        return Recommendation(action, tuple(reasons))

    @staticmethod
    def _reason(rule: Rule, facts: Mapping[str, FactValue]) -> Reason:
        return Reason(rule.id, rule.reason, {name: facts.get(name) for name in rule.placeholders()})


def builtin_policy_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "eol-policy.yaml"


def _rule_problems(path: Path, index: int, rule: Rule) -> list[ConfigProblem]:
    """Facts a rule names that do not exist, or tests that do not fit the fact's kind."""
    where = f"rules[{index}] (id={rule.id})"
    out: list[ConfigProblem] = []
    known = ", ".join(FACTS)
    for name, test in rule.when.items():
        if name not in FACTS:
            out.append(
                ConfigProblem(str(path), where, f"when.{name}", f"unknown fact (known: {known})")
            )
            continue
        kind = FACTS[name][0]
        if isinstance(test, bool) and kind != "flag":
            out.append(
                ConfigProblem(
                    str(path),
                    where,
                    f"when.{name}",
                    f"a {kind} fact: test it with gt, ge, lt, le, eq or unknown",
                )
            )
        if isinstance(test, Test) and kind != "number":
            out.append(
                ConfigProblem(
                    str(path),
                    where,
                    f"when.{name}",
                    f"a {kind} fact: test it with true, false or unknown",
                )
            )
    for name in rule.placeholders():
        if name not in FACTS:
            out.append(ConfigProblem(str(path), where, "reason", f"{{{name}}} is not a fact"))
    return out  # fmt: skip


def _parse_rules(path: Path, entries: object) -> tuple[list[Rule], list[ConfigProblem]]:
    if not isinstance(entries, list) or not entries:
        return [], [ConfigProblem(str(path), "-", "rules", "a list of rules")]
    rules: list[Rule] = []
    problems: list[ConfigProblem] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        try:
            rule = Rule.model_validate(entry)
        except ValidationError as exc:
            problems += validation_problems(path, f"rules[{i}]", exc)
            continue
        if rule.id in seen:
            problems.append(
                ConfigProblem(str(path), f"rules[{i}]", "id", f"duplicate rule id {rule.id!r}")
            )
        seen.add(rule.id)
        problems += _rule_problems(path, i, rule)
        rules.append(rule)
    return rules, problems  # fmt: skip


def load_policy(path: Path | None = None, support_path: Path | None = None) -> Policy:
    """The policy in `path` (default: the shipped one) with the support table; ConfigError
    naming the file, the rule and the field of every problem at once."""
    path = path or builtin_policy_path()
    rules, problems = _parse_rules(path, read_section(path, "rules"))
    free_os: FreeOsThreshold | None = None
    raw_free_os = read_section(path, "free_os")
    if raw_free_os is not None:
        try:
            free_os = FreeOsThreshold.model_validate(raw_free_os)
        except ValidationError as exc:
            problems += validation_problems(path, "free_os", exc)
    extra, support_problems = parse_entries(path, read_section(path, "support"), "support")
    problems += support_problems
    try:
        support = load_support(support_path, extra)
    except ConfigError as exc:
        problems += exc.problems
        support = SupportTable()
    if problems:
        raise ConfigError(problems)
    return Policy(rules=tuple(rules), free_os=free_os, support=support)


def evaluate(policy: Policy, inputs: FactInputs) -> tuple[dict[str, FactValue], Recommendation]:
    """The facts of one device and what the policy makes of them."""
    facts = device_facts(inputs, policy.support, policy.free_os)
    return facts, policy.recommend(facts)


def recommendation_samples(target: str, recommendation: Recommendation) -> list[Sample]:
    """`sobriety_device_eol_recommendation{action}` (1 for the recommended action, 0 else) and
    one `sobriety_device_eol_reason_info{reason}` per fired rule (its id)."""
    out = [
        Sample(
            "sobriety_device_eol_recommendation",
            {"target": target, "action": a},
            float(a == recommendation.action),
        )
        for a in ACTIONS
    ]
    out += [
        Sample("sobriety_device_eol_reason_info", {"target": target, "reason": r.rule}, 1.0)
        for r in recommendation.reasons
    ]
    return out


@dataclass(frozen=True, slots=True)
class _Advice:
    """A device's last recommendation and what it was worked out from."""

    at: float
    target: TargetConfig
    boots: int
    reported: int  # hash of the set of metrics the device reported then (32 bytes, not 2 KB)
    recommendation: Recommendation  # its samples are made again (less held per device)


class Advisor:
    """Applies the policy to one device after its polls and keeps its facts for the exports.

    The facts move slowly (age, wear, boots), so a device is advised again only every
    `every` seconds, or at once when it rebooted, reports a metric it did not (or no longer
    reports one: a page count a cut poll left out), its configuration changed (a reload) or
    the policy did; between, its last recommendation is repeated (and its facts' `at` says when
    they were worked out). `every=0` advises at every poll.

    Facts flow one way: the tracker's figures (age, boots, power-on) come in as samples and
    state; nothing here feeds back into the tracker.
    """

    def __init__(self, store: StateStore, policy: Policy, every: float = 0.0) -> None:
        self.store = store
        self.policy = policy
        self.every = every
        self.evaluations = 0  # devices advised (not repeated) so far
        self._last: dict[str, _Advice] = {}

    def configure(self, policy: Policy, every: float) -> None:
        """A (re)loaded policy and cadence: every device is advised again at its next poll."""
        self.policy, self.every = policy, every
        self._last.clear()

    def advise(
        self,
        target: TargetConfig,
        cls: DeviceClass | None,
        samples: Sequence[Sample],
        state: LifetimeState,
        at: float,
        first_seen: float | None,
        site: SiteConfig | None = None,
    ) -> list[Sample]:
        """The end-of-life recommendation of one device; its facts are written to the store."""
        last = self._last.get(target.id)
        reported = hash(frozenset(s.name for s in samples))
        if (
            last is not None
            and at - last.at < self.every
            and last.target is target
            and last.boots == state.boots
            and last.reported == reported
        ):
            return recommendation_samples(target.id, last.recommendation)
        self.evaluations += 1
        inputs = FactInputs(target, cls, samples, state, at, first_seen, site)
        facts, recommendation = evaluate(self.policy, inputs)
        power = next((s for s in samples if s.name == "sobriety_device_power_watts"), None)
        self.store.record_device_facts(
            target.id,
            at,
            {
                **facts,
                **identity(samples, target),
                "boots": state.boots,
                "power_on_seconds": state.power_on_seconds,
                "power_source": power.labels.get("source") if power is not None else None,
                "battery_replaced": _battery_replaced(samples),
                "action": recommendation.action,
                "reasons": [r.as_json() for r in recommendation.reasons],
            },
        )
        self._last[target.id] = _Advice(at, target, state.boots, reported, recommendation)
        return recommendation_samples(target.id, recommendation)


def _battery_replaced(samples: Sequence[Sample]) -> float | None:
    said = [s.value for s in samples if s.name == "sobriety_ups_battery_replaced_timestamp_seconds"]
    return said[0] if said else None
