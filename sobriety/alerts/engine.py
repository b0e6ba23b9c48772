"""Threshold alerts with `for`, hysteresis and `keep_firing_for`, evaluated in the daemon.

A rule selects the series of one catalogue metric (label matchers), compares each value with
a **raise** threshold, and, once firing, with a **clear** threshold: it resolves only when
the value has crossed back past `clear`, so a value that wobbles around `raise` fires once.

States per (rule, series): inactive → pending (raise holds; `for` not yet over) → firing →
resolved (clear held for `keep_firing_for`). A pending alert whose raise stops holding goes
back to inactive, as in Prometheus. A series that disappears (its device is down, its metric
gone) keeps a firing alert firing and makes a pending one inactive: a dead device fires its
`up` alert, not its values. `increase_over` compares the increase of a counter over a window
instead of its value. A `schedule` limits a rule to when the target's site is open, or
closed. States persist in SQLite, so a restart neither re-notifies nor loses an alert.
"""

from __future__ import annotations

import json
import operator
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sobriety.config.types import Duration, read_section
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.metrics import BY_NAME
from sobriety.model import Sample

Op = Literal[">", ">=", "<", "<="]
OPS: Mapping[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}  # fmt: skip
_TEMPLATE = re.compile(r"\{\{\s*(\$value|\$labels\.([a-z_][a-z0-9_]*))\s*\}\}")


class AlertRule(BaseModel):
    """One rule, as written in `config/alerts*.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$", description="CamelCase, as alertname")
    metric: str
    matchers: Mapping[str, str] = Field(default_factory=dict, description="label = value")
    excludes: Mapping[str, str] = Field(
        default_factory=dict, description="label != value (e.g. waste that is only assumed)"
    )
    op: Op = ">"
    raise_: float = Field(alias="raise")
    clear: float | None = Field(default=None, description="default: the raise threshold")
    floor: float | None = Field(
        default=None,
        description="values below it never raise and count as cleared (a warranty that has "
        "already ended is not 'ending soon')",
    )
    increase_over: Duration | None = Field(default=None, description="a counter's increase")
    for_: Duration = Field(default=0.0, alias="for", ge=0)
    keep_firing_for: Duration = Field(default=0.0, ge=0)
    severity: Literal["info", "warning", "critical"] = "warning"
    schedule: Literal["always", "open", "closed"] = "always"
    summary: str = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> AlertRule:
        if self.metric not in BY_NAME:
            raise ValueError(f"metric {self.metric!r} is not in the catalogue")
        labels = set(BY_NAME[self.metric].labels)
        unknown = (set(self.matchers) | set(self.excludes)) - labels
        if unknown:
            raise ValueError(f"matchers on labels {sorted(unknown)} {self.metric} does not have")
        clear = self.clearing
        if self.op in (">", ">=") and clear > self.raise_:
            raise ValueError("with > or >=, clear must not be above raise")
        if self.op in ("<", "<=") and clear < self.raise_:
            raise ValueError("with < or <=, clear must not be below raise")
        if self.increase_over is not None and BY_NAME[self.metric].kind != "counter":
            raise ValueError("increase_over works on counters")
        return self

    @property
    def clearing(self) -> float:
        return self.raise_ if self.clear is None else self.clear

    def raised(self, value: float) -> bool:
        if self.floor is not None and value < self.floor:
            return False
        return OPS[self.op](value, self.raise_)

    def cleared(self, value: float) -> bool:
        """Past the clear threshold, on the other side of it (hysteresis), or below the floor."""
        if self.floor is not None and value < self.floor:
            return True
        back = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}[self.op]
        return OPS[back](value, self.clearing)

    def selects(self, sample: Sample) -> bool:
        return (
            sample.name == self.metric
            and all(sample.labels.get(k) == v for k, v in self.matchers.items())
            and all(sample.labels.get(k) != v for k, v in self.excludes.items())
        )


def render(template: str, labels: Mapping[str, str], value: float) -> str:
    """`{{ $value }}` and `{{ $labels.NAME }}`, as in Prometheus templates."""

    def one(match: re.Match[str]) -> str:
        if match.group(1) == "$value":
            return f"{value:g}"
        return labels.get(match.group(2) or "", "")

    return _TEMPLATE.sub(one, template)


def load_rules(paths: Sequence[Path]) -> tuple[AlertRule, ...]:
    """Rules from YAML files (`rules: [...]`); ConfigError with file, rule and field for all."""
    rules: list[AlertRule] = []
    problems: list[ConfigProblem] = []
    names: dict[str, str] = {}
    for path in paths:
        try:
            entries = read_section(path, "rules")
        except ConfigError as exc:
            problems += exc.problems
            continue
        if not isinstance(entries, list):
            problems.append(ConfigProblem(str(path), "-", "rules", "a list of rules"))
            continue
        for i, entry in enumerate(entries):
            label = f"rules[{i}]" + (f" ({entry.get('name')})" if isinstance(entry, dict) else "")
            try:
                rule = AlertRule.model_validate(entry)
            except ValidationError as exc:
                problems += [
                    ConfigProblem(str(path), label, ".".join(map(str, e["loc"])) or "-", e["msg"])
                    for e in exc.errors()
                ]
                continue
            if rule.name in names:
                problems.append(
                    ConfigProblem(
                        str(path), label, "name", f"duplicate (first in {names[rule.name]})"
                    )
                )
                continue
            names[rule.name] = str(path)
            rules.append(rule)
    if problems:
        raise ConfigError(problems)
    return tuple(rules)


def builtin_rules_path() -> Path:
    from sobriety.resources import data_dir

    return data_dir("collectors") / "alerts.yaml"


# --- the engine -------------------------------------------------------------------------------


@dataclass(slots=True)
class AlertState:
    """One (rule, series) that is pending or firing."""

    rule: str
    labels: dict[str, str]
    state: Literal["pending", "firing"]
    since: float  # raise first held (pending) / fired at (firing)
    value: float
    clear_since: float | None = None  # firing, clear condition holding since
    sent_at: float | None = None  # last notification of this state

    @property
    def key(self) -> str:
        return alert_key(self.rule, self.labels)

    def as_json(self) -> str:
        return json.dumps(
            {
                "rule": self.rule, "labels": self.labels, "state": self.state,
                "since": self.since, "value": self.value, "clear_since": self.clear_since,
                "sent_at": self.sent_at,
            },
            sort_keys=True,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> AlertState:
        d = json.loads(text)
        return cls(
            d["rule"], d["labels"], d["state"], d["since"], d["value"], d.get("clear_since"),
            d.get("sent_at"),
        )  # fmt: skip


def alert_key(rule: str, labels: Mapping[str, str]) -> str:
    """An alert's identity: its rule, then its labels sorted, as `json.dumps` writes the
    list of pairs (the store keeps states under it); written here with json's own string
    encoder, half what dumps costs for each sample a rule selects at each poll."""
    pairs = ", ".join(f"[{_quoted(k)}, {_quoted(v)}]" for k, v in sorted(labels.items()))
    return f"{rule}[{pairs}]"


_quoted: Callable[[str], str] = json.encoder.encode_basestring_ascii


@dataclass(frozen=True, slots=True)
class Transition:
    """What a notifier is told: an alert now firing, or resolved."""

    rule: AlertRule
    labels: Mapping[str, str]
    value: float
    status: Literal["firing", "resolved"]
    starts_at: float
    ends_at: float | None

    def all_labels(self) -> dict[str, str]:
        return {"alertname": self.rule.name, "severity": self.rule.severity, **self.labels}

    def annotations(self) -> dict[str, str]:
        out = {"summary": render(self.rule.summary, self.labels, self.value)}
        if self.rule.description:
            out["description"] = render(self.rule.description, self.labels, self.value)
        return out


class Scope(Enum):
    """Which alerts an evaluation sees all of (besides a target's id, which names one)."""

    EVERY = "every"
    UNTARGETED = "untargeted"  # series with no `target` label: site totals, the daemon's own


class CounterWindow:
    """A counter's points over an `increase_over` window, as two arrays of doubles: 16 bytes
    a point, where a deque of (time, value) tuples took 104 and the deque itself 760 (a
    reboot-storm rule over an hour of one-minute polls holds sixty points per device)."""

    __slots__ = ("times", "values")

    def __init__(self) -> None:
        self.times = array("d")
        self.values = array("d")

    def increase(self, at: float, value: float, over: float) -> float | None:
        """Add a point; the counter's increase over the last `over` seconds (a reset counts
        from zero), or None with fewer than two points or less than half the window seen."""
        times, values = self.times, self.values
        times.append(at)
        values.append(value)
        old = 0
        while old < len(times) and times[old] < at - over:
            old += 1
        if old:
            del times[:old], values[:old]
        if len(times) < 2 or times[-1] - times[0] < over * 0.5:
            return None  # not enough history yet to say
        increase = 0.0
        for a, b in pairwise(values):
            increase += b - a if b >= a else b
        return increase


@dataclass
class AlertEngine:
    """Evaluates rules on samples; returns the transitions to notify.

    Its states are indexed by target, so one target's evaluation costs what that target has,
    whatever the fleet's size; `changed` names the states to save (None: deleted)."""

    rules: tuple[AlertRule, ...]
    is_open: Callable[[Mapping[str, str], datetime], bool | None] = lambda labels, at: None
    # labels notifications carry beside the series' own (a target's site and inventory
    # labels, for routing); they are not part of an alert's identity
    routing: Callable[[Mapping[str, str]], Mapping[str, str]] = lambda labels: {}
    history: dict[str, CounterWindow] = field(default_factory=dict)
    _states: dict[str, AlertState] = field(default_factory=dict)
    _by_target: dict[str | None, set[str]] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)
    _wanted_for: tuple[AlertRule, ...] | None = None
    _wanted_names: frozenset[str] = frozenset()

    @property
    def states(self) -> Mapping[str, AlertState]:
        """Pending and firing alerts by key (read-only: `restore` and evaluation change it)."""
        return self._states

    def restore(self, saved: Mapping[str, str]) -> None:
        """Take back the states a store kept (key -> JSON), as after a restart."""
        for key, text in saved.items():
            self._put(key, AlertState.from_json(text))
        self._changed.clear()

    def take_changes(self) -> dict[str, str | None]:
        """The states changed since the last call, as a store keeps them (None: gone)."""
        out = {k: (s.as_json() if (s := self._states.get(k)) else None) for k in self._changed}
        self._changed.clear()
        return out

    @property
    def dirty(self) -> bool:
        """Whether states changed since the owner last took the changes."""
        return bool(self._changed)

    def _put(self, key: str, state: AlertState) -> None:
        self._states[key] = state
        self._by_target.setdefault(state.labels.get("target"), set()).add(key)
        self._changed.add(key)

    def _drop(self, key: str) -> AlertState | None:
        state = self._states.pop(key, None)
        if state is not None:
            keys = self._by_target.get(state.labels.get("target"))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_target[state.labels.get("target")]
            self._changed.add(key)
        return state

    def evaluate(
        self,
        samples: Iterable[Sample],
        now: datetime,
        scope: str | Scope = Scope.EVERY,
    ) -> list[Transition]:
        """Run every rule on `samples`; return what changed. `scope` says which alerts the
        samples speak for: one target's (its id), the untargeted ones, or every one; a
        pending alert of the scope absent from `samples` has "no data" and ends."""
        at = now.timestamp()
        seen: set[str] = set()
        changes: list[Transition] = []
        by_metric: dict[str, list[Sample]] = {}
        wanted = self._wanted()
        for sample in samples:
            if sample.name in wanted:
                by_metric.setdefault(sample.name, []).append(sample)
        down = {
            s.labels.get("target") for s in by_metric.get("sobriety_target_up", []) if s.value == 0
        }
        for rule in self.rules:
            for sample in by_metric.get(rule.metric, []):
                if not rule.selects(sample):
                    continue
                target = sample.labels.get("target")
                if rule.metric != "sobriety_target_up" and target in down:
                    continue  # a dead device fires its up alert, not its values
                if (
                    rule.increase_over is None
                    and target not in self._by_target
                    and not rule.raised(sample.value)
                ):
                    continue  # nothing raised, nothing pending or firing there: no change
                labels = dict(sample.labels)
                key = alert_key(rule.name, labels)
                value = self._value(rule, key, sample.value, at)
                if value is None:
                    continue
                seen.add(key)
                open_now = self.is_open(labels, now) if rule.schedule != "always" else None
                if open_now is not None and (rule.schedule == "open") != open_now:
                    change = self._out_of_schedule(rule, key, labels, value, at)
                else:
                    change = self._step(rule, key, labels, value, at)
                if change is not None:
                    changes.append(self._routed(change))
        for key in self._in_scope(scope):
            if key not in seen and self._states[key].state == "pending":
                self._drop(key)  # pending with no data: back to inactive
        return changes

    def _wanted(self) -> frozenset[str]:
        """The metrics the rules read (and `sobriety_target_up`), for the rules loaded now."""
        if self._wanted_for is not self.rules:
            self._wanted_names = frozenset(r.metric for r in self.rules) | {"sobriety_target_up"}
            self._wanted_for = self.rules
        return self._wanted_names

    def _in_scope(self, scope: str | Scope) -> list[str]:
        if scope is Scope.EVERY:
            return list(self._states)
        return list(self._by_target.get(None if scope is Scope.UNTARGETED else scope, ()))

    def _value(self, rule: AlertRule, key: str, value: float, at: float) -> float | None:
        if rule.increase_over is None:
            return value
        window = self.history.get(key)
        if window is None:
            window = self.history[key] = CounterWindow()
        return window.increase(at, value, rule.increase_over)

    def _out_of_schedule(self, rule: AlertRule, key: str, labels: dict[str, str], value: float,
                         at: float) -> Transition | None:  # fmt: skip
        """Outside its schedule a rule's condition is false: pending ends, firing resolves."""
        state = self._drop(key)
        if state is None or state.state != "firing":
            return None
        return Transition(rule, labels, value, "resolved", state.since, at)

    def _step(self, rule: AlertRule, key: str, labels: dict[str, str], value: float, at: float
              ) -> Transition | None:  # fmt: skip
        state = self._states.get(key)
        if state is None:
            if not rule.raised(value):
                return None
            state = AlertState(rule.name, labels, "pending", at, value)
            self._put(key, state)
        state.value = value
        if state.state == "pending":
            if not rule.raised(value):
                self._drop(key)
                return None
            if at - state.since >= rule.for_:
                state.state, state.since, state.sent_at = "firing", at, None
                self._changed.add(key)
                return Transition(rule, labels, value, "firing", at, None)
            return None
        # firing: resolve only past the clear threshold, and after keep_firing_for
        if not rule.cleared(value):
            if state.clear_since is not None:
                state.clear_since = None
                self._changed.add(key)
            return None
        if state.clear_since is None:
            state.clear_since = at
            self._changed.add(key)
        if at - state.clear_since >= rule.keep_firing_for:
            self._drop(key)
            return Transition(rule, labels, value, "resolved", state.since, at)
        return None

    def firing(self) -> list[Transition]:
        """Every alert firing now, as notifiers resend them."""
        by_name = {r.name: r for r in self.rules}
        return [
            self._routed(Transition(by_name[s.rule], s.labels, s.value, "firing", s.since, None))
            for s in list(self._states.values())
            if s.state == "firing" and s.rule in by_name
        ]

    def _routed(self, change: Transition) -> Transition:
        """The transition with the routing labels added (the series' own labels win)."""
        extra = self.routing(change.labels)
        if not extra:
            return change
        return replace(change, labels={**extra, **change.labels})

    def samples(self) -> list[Sample]:
        """`sobriety_alerts{alertname, severity, state}` counts, and each alert's state."""
        by_name = {r.name: r for r in self.rules}
        out = []
        for s in list(self._states.values()):  # a copy: scrapes read this from a worker thread
            rule = by_name.get(s.rule)
            if rule is None:
                continue
            labels = {
                "alertname": s.rule,
                "alertstate": s.state,
                "severity": rule.severity,
                "target": s.labels.get("target", ""),
                "site": s.labels.get("site") or self.routing(s.labels).get("site", ""),
            }
            out.append(Sample("sobriety_alert_active", labels, 1.0))
        return out
