"""The daemon's alert rules as Prometheus alerting rules, plus recording rules for site totals.

Hysteresis is written with the usual raise/clear pattern over `ALERTS`: the alert's
expression is "raise holds, or clear does not hold yet and the alert is already firing".
Value alerts of a target that is down are dropped (`unless on(target) sobriety_target_up ==
0`), as the daemon does. A target's alerts carry its `site`, joined from
`sobriety_device_info`, so Alertmanager can route them per site. A schedule (open/closed)
joins `sobriety_site_open` on `site`.

`python -m sobriety.alerts.promrules rules/sobriety-alerts.yml` writes the file; a test fails when
the committed file differs from what the rules generate.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from sobriety.alerts.engine import AlertRule, builtin_rules_path, load_rules
from sobriety.metrics import BY_NAME

HEADER = (
    "# Generated from collectors/alerts.yaml by `python -m sobriety.alerts.promrules`;"
    " do not edit.\n"
    "# The same rules the sobriety daemon evaluates, for a Prometheus that scrapes it.\n"
)
RECORDING = [
    {
        # the devices' own readings by site and class (sobriety_site_power_watts adds what
        # feeders measure beyond them)
        "record": "sobriety:site_device_power_watts:sum",
        "expr": "sum by (site, class, source) (sobriety_device_power_watts"
        " * on(target) group_left(site, class) sobriety_device_info)",
    },
    {
        "record": "sobriety:site_energy_watts:rate1h",
        "expr": "sum by (site, class, source) (rate(sobriety_site_energy_joules_total[1h]))",
    },
    {
        "record": "sobriety:site_waste_watts:rate1h",
        "expr": "sum by (site, class, period, source)"
        " (rate(sobriety_site_waste_energy_joules_total[1h]))",
    },
    {
        "record": "sobriety:site_carbon_grams:increase1d",
        "expr": "sum by (site) (increase(sobriety_site_carbon_grams_total[1d]))",
    },
]


def duration(seconds: float) -> str:
    """Seconds as a Prometheus duration (1h, 5m, 30s)."""
    whole = int(seconds)
    for unit, size in (("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def expression(rule: AlertRule) -> str:
    """The PromQL of one rule."""
    spec = BY_NAME[rule.metric]
    matchers = ", ".join(
        [f'{k}="{v}"' for k, v in sorted(rule.matchers.items())]
        + [f'{k}!="{v}"' for k, v in sorted(rule.excludes.items())]
    )
    series = f"{rule.metric}{{{matchers}}}" if matchers else rule.metric
    if rule.increase_over is not None:
        series = f"increase({series}[{duration(rule.increase_over)}])"
    on = ", ".join(label for label in spec.labels)
    raise_part = f"{series} {rule.op} {_number(rule.raise_)}"
    if rule.clearing != rule.raise_:
        hold = f"{series} {rule.op} {_number(rule.clearing)}"
        firing = f'ALERTS{{alertname="{rule.name}", alertstate="firing"}}'
        expr = f"({raise_part}) or (({hold}) and on({on}) {firing})"
    else:
        expr = raise_part
    if rule.floor is not None:
        expr = f"({expr}) and {series} >= {_number(rule.floor)}"
    if "target" in spec.labels and rule.metric != "sobriety_target_up":
        expr = f"({expr}) unless on(target) sobriety_target_up == 0"
    if "target" in spec.labels and "site" not in spec.labels:
        expr = with_site(expr)
    if rule.schedule != "always":
        wanted = 1 if rule.schedule == "open" else 0
        expr = f"({expr}) and on(site) sobriety_site_open == {wanted}"
    return expr


def with_site(expr: str) -> str:
    """A target's alert carries its site (from `sobriety_device_info`) for routing, as the
    daemon's notifications do; a target with no device_info series yet keeps its alert."""
    info = "max by (target, site) (sobriety_device_info)"
    return f"(({expr}) * on(target) group_left(site) {info}) or on(target) ({expr})"


def alerting_rule(rule: AlertRule) -> dict[str, object]:
    out: dict[str, object] = {"alert": rule.name, "expr": expression(rule)}
    if rule.for_:
        out["for"] = duration(rule.for_)
    if rule.keep_firing_for:
        out["keep_firing_for"] = duration(rule.keep_firing_for)
    out["labels"] = {"severity": rule.severity}
    annotations = {"summary": rule.summary}
    if rule.description:
        annotations["description"] = rule.description
    out["annotations"] = annotations
    return out


def render(rules: Sequence[AlertRule]) -> str:
    """The whole rules file."""
    groups = {
        "groups": [
            {"name": "sobriety-alerts", "rules": [alerting_rule(r) for r in rules]},
            {"name": "sobriety-sites", "rules": RECORDING},
        ]
    }
    return HEADER + yaml.safe_dump(groups, sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "rules/sobriety-alerts.yml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(load_rules([builtin_rules_path()])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
