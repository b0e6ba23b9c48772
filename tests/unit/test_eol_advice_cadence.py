"""How often a device is advised: its end-of-life facts are worked out again every
`eol_advice_every`, at once after a reboot, a reload or a new policy, and the last
recommendation is repeated in between (facts move slowly; working them out at every poll
was a tenth of the daemon's CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.config.load import SiteConfig, TargetConfig, load_config
from sobriety.energy.classes import load_classes
from sobriety.lifetime.policy import Advisor, load_policy
from sobriety.model import Sample
from sobriety.store import LifetimeState, StateStore

CONFIG = """
settings: {data_dir: var}
sites:
  college: {timezone: Europe/Paris, country: FR}
auths:
  v2: {version: "2c", community: public}
targets:
  - {id: srv1, address: 192.0.2.10, auth: v2, site: college, class: server_rack_2s,
     purchased: 2010-03-01, asset: {faults: [{part: power supply 2, note: FAILED}]}}
"""
T0 = 1_780_000_000.0


def _setup(tmp_path: Path, every: float) -> tuple[Advisor, TargetConfig, StateStore]:
    path = tmp_path / "sobriety.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    loaded = load_config(path)
    store = StateStore(tmp_path / "state.sqlite3")
    return Advisor(store, load_policy(), every), loaded.targets[0], store


def _advise(
    advisor: Advisor, target: TargetConfig, at: float, boots: int = 1, *more: Sample
) -> list[Sample]:
    samples = [Sample("sobriety_device_power_watts", {"target": "srv1", "source": "estimated"},
                      175.0), *more]  # fmt: skip
    state = LifetimeState("srv1", 100.0, at, boots, 3600.0, None, 0)
    return advisor.advise(target, load_classes()["server_rack_2s"], samples, state, at, T0)


def _action(samples: list[Sample]) -> str:
    return next(
        s.labels["action"]
        for s in samples
        if s.name == "sobriety_device_eol_recommendation" and s.value == 1.0
    )


def test_a_device_is_advised_once_per_interval_and_its_advice_repeated_between(
    tmp_path: Path,
) -> None:
    advisor, target, store = _setup(tmp_path, every=900.0)
    first = _advise(advisor, target, T0)
    store.flush()
    assert advisor.evaluations == 1
    assert _action(first) == "repair"  # the failed power supply
    again = _advise(advisor, target, T0 + 60)
    assert advisor.evaluations == 1  # repeated, not worked out again
    assert again == first
    store.flush()
    assert store.device_facts()["srv1"][0] == T0  # the facts say when they were worked out
    _advise(advisor, target, T0 + 900)
    store.flush()
    assert advisor.evaluations == 2
    assert store.device_facts()["srv1"][0] == T0 + 900
    store.close()


def test_a_reboot_a_new_metric_a_reload_or_a_new_policy_advises_at_once(tmp_path: Path) -> None:
    advisor, target, store = _setup(tmp_path, every=900.0)
    _advise(advisor, target, T0)
    _advise(advisor, target, T0 + 30, 1, Sample("sobriety_device_uptime_seconds",
                                                {"target": "srv1"}, 3600.0))  # fmt: skip
    assert advisor.evaluations == 2  # it reports something it did not (a cut poll's rest)
    _advise(advisor, target, T0 + 60, boots=2)  # it rebooted
    assert advisor.evaluations == 3
    reloaded = target.model_copy()  # a reload builds new target configurations
    _advise(advisor, reloaded, T0 + 120, boots=2)
    assert advisor.evaluations == 4
    advisor.configure(load_policy(), 900.0)
    _advise(advisor, reloaded, T0 + 180, boots=2)
    assert advisor.evaluations == 5
    store.close()


def test_an_interval_of_zero_advises_at_every_poll(tmp_path: Path) -> None:
    advisor, target, store = _setup(tmp_path, every=0.0)
    for minute in range(3):
        _advise(advisor, target, T0 + 60 * minute)
    assert advisor.evaluations == 3
    store.close()


def test_the_stored_facts_are_of_this_device_s_class_state_first_sight_site_and_power(
    tmp_path: Path,
) -> None:
    advisor, target, store = _setup(tmp_path, every=0.0)
    at = T0 + 30 * 86_400
    samples = [
        Sample("sobriety_device_uptime_seconds", {"target": "srv1"}, 60.0),
        Sample("sobriety_device_power_watts", {"target": "srv1", "source": "measured"}, 175.0),
        Sample("sobriety_ups_battery_replaced_timestamp_seconds", {"target": "srv1"}, T0),
    ]
    state = LifetimeState("srv1", 100.0, at, 3, 7200.0, None, 0)
    site = SiteConfig(grid_gco2e_per_kwh=46.1)
    advisor.advise(target, load_classes()["server_rack_2s"], samples, state, at, T0, site)
    store.flush()
    facts = store.device_facts()["srv1"][1]
    assert facts["boots"] == 3 and facts["power_on_seconds"] == 7200.0
    assert facts["boots_per_month"] == pytest.approx(3.0)  # 3 boots in the 30 days since T0
    assert facts["observed"] is True and facts["embodied_kgco2e"] == 900.0
    assert facts["grid_gco2e_per_kwh"] == 46.1
    assert facts["power_source"] == "measured" and facts["battery_replaced"] == T0
    store.close()
