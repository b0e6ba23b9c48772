"""What one loaded configuration builds: the world the daemon lives in, and its runtime.

`World` is everything from outside (clock, environment, transports, host probe, self-cost
probe); nothing below reaches for globals, so tests swap any part. `build_runtime` reads the
configuration file and everything it names, and either returns a complete `Runtime` or raises
`ConfigError`; it starts nothing, so a failed reload changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sobriety.alerts.engine import AlertRule, builtin_rules_path, load_rules
from sobriety.clock import Clock, SystemClock
from sobriety.collectors.base import Collector, TargetRef
from sobriety.collectors.host import HostCollector, HostProbe, PsutilProbe
from sobriety.collectors.profiles import ProfileSet, builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import PollLimits, SnmpCollector
from sobriety.config.load import AuthConfig, Config, TargetConfig, load_config
from sobriety.config.shards import owned
from sobriety.daemon.polling import PollPlan
from sobriety.daemon.selfcost import SelfCost, process_cost
from sobriety.energy.classes import DeviceClass, load_classes
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.lifetime.policy import Policy, load_policy
from sobriety.snmp.lean import LeanTransport, SnmpClient
from sobriety.snmp.lean_v3 import LeanV3Transport
from sobriety.snmp.transport import SnmpTransport

TransportFactory = Callable[[TargetConfig, AuthConfig, Config], SnmpTransport]


class SnmpTransports:
    """Builds live SNMP transports: the lean engine (one shared socket per address family) for
    v1, v2c and v3 with AES; pysnmp for DES and for auth sets that choose `engine: pysnmp`."""

    def __init__(self) -> None:
        self._client: SnmpClient | None = None
        self._engine: object | None = None

    def __call__(self, target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
        if target.address is None:
            raise ValueError(f"target {target.id} has no address")
        credentials = auth.credentials()
        timeout, retries = config.settings.timeout, config.settings.retries
        if auth.engine == "lean" and auth.priv_protocol != "des":
            if self._client is None:
                self._client = SnmpClient()
            lean = LeanV3Transport if auth.version == "3" else LeanTransport
            return lean(self._client, target.address, target.port, credentials=credentials,
                        timeout=timeout, retries=retries)  # fmt: skip
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        from sobriety.snmp.pysnmp_transport import PysnmpTransport

        if self._engine is None:
            self._engine = SnmpEngine()
        return PysnmpTransport(target.address, target.port, credentials=credentials,
                               timeout=timeout, retries=retries, engine=self._engine)  # fmt: skip

    def dropped(self) -> dict[str, int]:
        """Datagrams the lean engine dropped, by reason."""
        return dict(self._client.counters.dropped) if self._client is not None else {}

    def close(self) -> None:
        """Close the shared sockets."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._engine is not None:
            close_dispatcher = getattr(self._engine, "close_dispatcher", None)
            if callable(close_dispatcher):
                close_dispatcher()
            self._engine = None


@dataclass
class World:
    """Everything from outside that the daemon uses."""

    clock: Clock = field(default_factory=SystemClock)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    transport_factory: TransportFactory = field(default_factory=SnmpTransports)
    host_probe: HostProbe = field(default_factory=PsutilProbe)
    self_probe: Callable[[], SelfCost] = process_cost


@dataclass(frozen=True)
class Runtime:
    """What one loaded configuration built: the polled targets and everything they use."""

    config: Config
    profiles: ProfileSet
    collectors: Mapping[str, Collector]
    targets: Mapping[str, TargetConfig]  # every configured target by id (polled or not)
    classes: Mapping[str, DeviceClass]
    calendars: Mapping[str, SiteCalendar]
    policy: Policy
    rules: tuple[AlertRule, ...]

    def plans(self) -> dict[str, PollPlan]:
        """How to poll each polled target: its interval, and its site's off-hours cadence."""
        return {tid: self._plan(self.targets[tid], c) for tid, c in self.collectors.items()}

    def _plan(self, target: TargetConfig, collector: Collector) -> PollPlan:
        config = self.config
        site = config.site_for(target)
        calendar = self.calendars.get(target.site) or SiteCalendar(site)
        slower = config.settings.off_hours_interval
        has_hours = bool(site.opening_hours) and slower is not None
        return PollPlan(
            collector,
            config.interval_for(target),
            off_hours_interval=slower if has_hours else None,
            is_open=calendar.is_open if has_hours else None,
        )


def build_collector(
    world: World, config: Config, profiles: ProfileSet, target: TargetConfig
) -> Collector:
    """The collector for one configured target."""
    ref = TargetRef(
        id=target.id,
        kind=target.kind,
        site=target.site or "default",
        device_class=target.device_class or "",
        labels=dict(target.labels),
        organisation=config.organisation_of(target),
        building=target.building or "",
        room=target.room or "",
    )
    if target.kind == "host":
        return HostCollector(ref, world.host_probe, world.clock)
    transport = world.transport_factory(target, config.auth_for(target), config)
    limits = PollLimits(
        deadline=config.interval_for(target) * config.settings.poll_deadline_ratio,
        max_varbinds=config.settings.max_poll_varbinds,
    )
    return SnmpCollector(ref, transport, profiles, world.clock, limits)


def build_runtime(config_path: Path, world: World, previous: Runtime | None = None) -> Runtime:
    """Load config, profiles, classes, calendars, policy and rules; build the collectors.

    With the `previous` runtime (a reload), a target configured and polled exactly as before
    keeps its collector, and with it what the collector learnt (identity, table sizes, the
    agent's quirks): a reload is not a first contact with every device again.
    Raises ConfigError with every problem found; starts nothing and changes nothing.
    """
    config = load_config(config_path, env=world.env)
    profiles = load_profiles([builtin_profile_dir(), *config.settings.profile_dirs])
    if previous is not None and previous.profiles.loaded == profiles.loaded:
        profiles = previous.profiles  # the same profiles: one copy, its caches kept
    calendars = {name: SiteCalendar.load(site) for name, site in config.sites.items()}
    policy = load_policy(config.settings.eol_policy)
    alerting = config.settings.alerting
    rule_files = [builtin_rules_path()] if alerting.shipped_rules else []
    rules = load_rules([*rule_files, *alerting.rule_files])
    mine = owned(config)
    collectors = {
        target.id: _kept_collector(previous, config, profiles, target)
        or build_collector(world, config, profiles, target)
        for target in config.targets
        if not target.disabled and not target.disposed and target.id in mine
    }
    targets = {t.id: t for t in config.targets}
    return Runtime(config, profiles, collectors, targets, load_classes(), calendars, policy,
                   rules)  # fmt: skip


def _kept_collector(
    previous: Runtime | None, config: Config, profiles: ProfileSet, target: TargetConfig
) -> Collector | None:
    """The previous runtime's collector of `target` if everything it was built from is the
    same (target, credentials, timeouts, limits, organisation, profiles); None otherwise."""
    if previous is None or profiles is not previous.profiles:
        return None
    collector = previous.collectors.get(target.id)
    if collector is None or previous.targets.get(target.id) != target:
        return None
    return (
        collector
        if _collector_inputs(previous.config, target) == _collector_inputs(config, target)
        else None
    )


def _collector_inputs(config: Config, target: TargetConfig) -> tuple[object, ...]:
    """What `build_collector` reads of the configuration besides the target itself."""
    settings = config.settings
    return (
        config.auths.get(target.auth) if target.auth is not None else None,
        settings.timeout,
        settings.retries,
        config.interval_for(target),
        settings.poll_deadline_ratio,
        settings.max_poll_varbinds,
        config.organisation_of(target),
    )
