"""Composition root: builds the daemon from a Config, runs it, reloads it, stops it.

The world comes in through `World` (clock, environment, transport factory, host probe,
self-cost probe); nothing below reaches for globals, so tests swap any part.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import SecretStr

from sobriety.alerts.engine import (
    AlertEngine,
    AlertRule,
    AlertState,
    Transition,
    builtin_rules_path,
    load_rules,
)
from sobriety.alerts.notify import (
    AlertmanagerNotifier,
    Dispatcher,
    EmailNotifier,
    LogNotifier,
    Notifier,
    WebhookNotifier,
)
from sobriety.clock import Clock, SystemClock
from sobriety.collectors.base import Collector, TargetRef
from sobriety.collectors.host import HostCollector, HostProbe, PsutilProbe
from sobriety.collectors.profiles import ProfileSet, builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.config.load import AuthConfig, Config, TargetConfig, load_config
from sobriety.daemon.polling import Poller, PollPlan, PollScheduler
from sobriety.daemon.selfcost import SelfCost, process_cost, self_samples
from sobriety.daemon.snapshot import LiveSnapshot
from sobriety.energy.accounting import EnergyTracker
from sobriety.energy.classes import DeviceClass, load_classes
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.errors import ConfigError
from sobriety.lifetime.policy import Advisor, Policy, load_policy
from sobriety.lifetime.tracker import LifetimeTracker
from sobriety.model import Sample
from sobriety.snmp.lean import LeanTransport, SnmpClient
from sobriety.snmp.lean_v3 import LeanV3Transport
from sobriety.snmp.transport import SnmpTransport
from sobriety.store import StateStore

log = logging.getLogger(__name__)

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
        settings = config.settings
        if auth.engine == "lean" and auth.version == "3" and auth.priv_protocol != "des":
            if self._client is None:
                self._client = SnmpClient()
            return LeanV3Transport(
                self._client,
                target.address,
                target.port,
                user=auth.user or "",
                auth_protocol=auth.auth_protocol,
                auth_password=_reveal(auth.auth_password),
                priv_protocol=auth.priv_protocol,
                priv_password=_reveal(auth.priv_password),
                context=auth.context,
                timeout=settings.timeout,
                retries=settings.retries,
            )
        if auth.engine == "lean" and auth.version != "3":
            if self._client is None:
                self._client = SnmpClient()
            return LeanTransport(
                self._client,
                target.address,
                target.port,
                version=auth.version,
                community=_reveal(auth.community) or "",
                timeout=settings.timeout,
                retries=settings.retries,
            )
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        from sobriety.snmp.pysnmp_transport import PysnmpTransport

        if self._engine is None:
            self._engine = SnmpEngine()
        return PysnmpTransport(
            target.address,
            target.port,
            version=auth.version,
            community=_reveal(auth.community) or "public",
            user=auth.user,
            auth_protocol=auth.auth_protocol,
            auth_password=_reveal(auth.auth_password),
            priv_protocol=auth.priv_protocol,
            priv_password=_reveal(auth.priv_password),
            context=auth.context,
            timeout=settings.timeout,
            retries=settings.retries,
            engine=self._engine,
        )

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


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


@dataclass
class World:
    """Everything from outside that the daemon uses."""

    clock: Clock = field(default_factory=SystemClock)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    transport_factory: TransportFactory = field(default_factory=SnmpTransports)
    host_probe: HostProbe = field(default_factory=PsutilProbe)
    self_probe: Callable[[], SelfCost] = process_cost


@dataclass
class Runtime:
    """What one loaded configuration built."""

    config: Config
    profiles: ProfileSet
    collectors: dict[str, Collector]
    classes: Mapping[str, DeviceClass] = field(default_factory=dict)
    calendars: Mapping[str, SiteCalendar] = field(default_factory=dict)
    policy: Policy = field(default_factory=load_policy)
    rules: tuple[AlertRule, ...] = ()


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
    )
    if target.kind == "host":
        return HostCollector(ref, world.host_probe, world.clock)
    transport = world.transport_factory(target, config.auth_for(target), config)
    return SnmpCollector(ref, transport, profiles, world.clock)


class Daemon:
    """Schedules, polls, stores and exposes; reloads on request."""

    def __init__(self, config_path: Path, world: World | None = None) -> None:
        self.config_path = config_path
        self.world = world or World()
        self.snapshot = LiveSnapshot()
        self.runtime: Runtime | None = None
        self.store: StateStore | None = None
        self.poller: Poller | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.poll_scheduler: PollScheduler | None = None
        self.energy: EnergyTracker | None = None
        self.lifetime: LifetimeTracker | None = None
        self.advisor: Advisor | None = None
        self.alerts: AlertEngine | None = None
        self.dispatcher: Dispatcher | None = None
        self.reload_ok = False
        self.reload_at: float | None = None
        self._stopped = asyncio.Event()

    # --- building ---------------------------------------------------------------------------

    def build(self) -> Runtime:
        """Load config and profiles and build collectors; raise ConfigError, change nothing."""
        config = load_config(self.config_path, env=self.world.env)
        profiles = load_profiles([builtin_profile_dir(), *config.settings.profile_dirs])
        classes = load_classes()
        calendars = {name: SiteCalendar.load(site) for name, site in config.sites.items()}
        collectors: dict[str, Collector] = {}
        for target in config.targets:
            if (
                target.disabled
                or target.disposed
                or not _in_shard(target.id, config.settings.shard)
            ):
                continue
            collectors[target.id] = build_collector(self.world, config, profiles, target)
        policy = load_policy(config.settings.eol_policy)
        alerting = config.settings.alerting
        rule_files = [builtin_rules_path()] if alerting.shipped_rules else []
        rules = load_rules([*rule_files, *alerting.rule_files])
        return Runtime(config, profiles, collectors, classes, calendars, policy, rules)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Build from the config file and start polling; raises ConfigError if invalid."""
        runtime = self.build()
        self.store = StateStore(runtime.config.settings.data_dir / "state.sqlite3")
        self.lifetime = LifetimeTracker(self.store)
        self.advisor = Advisor(self.store, runtime.policy)
        self.energy = EnergyTracker(
            runtime.config,
            runtime.classes,
            runtime.calendars,
            self.store,
            self._feed,
            now=self.world.clock.now,
        )
        self.alerts = AlertEngine(runtime.rules, is_open=self._site_open)
        for key, text in self.store.alert_states().items():
            self.alerts.states[key] = AlertState.from_json(text)
        self.dispatcher = Dispatcher(notifiers(runtime.config))
        self.dispatcher.start()
        self.poller = Poller(
            self.snapshot,
            self.store,
            self.world.clock,
            runtime.config.settings.max_concurrent_polls,
            energy=self.energy,
            lifetime=self.lifetime,
            on_result=self._evaluate_target,
            advisor=self.advisor,
        )
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.poll_scheduler = PollScheduler(
            self.poller, self.scheduler, runtime.config.settings.jitter
        )
        self._activate(runtime)
        alerting = runtime.config.settings.alerting
        self.scheduler.add_job(
            self._evaluate_global, "interval", seconds=alerting.evaluate_every, id="alerts",
            max_instances=1, coalesce=True,
        )  # fmt: skip
        self.scheduler.add_job(
            self._resend, "interval", seconds=alerting.resend, id="alerts-resend",
            max_instances=1, coalesce=True,
        )  # fmt: skip
        self.scheduler.start()

    # --- alerts ------------------------------------------------------------------------------

    def _site_open(self, labels: Mapping[str, str], now: datetime) -> bool | None:
        """Whether the site of an alert's series is open now (None: no site known)."""
        if self.runtime is None:
            return None
        site = labels.get("site")
        if site is None and "target" in labels and self.energy is not None:
            target = self.energy.targets.get(labels["target"])
            site = target.site if target is not None else None
        calendar = self.runtime.calendars.get(site or "")
        return calendar.is_open(now) if calendar is not None else None

    def _evaluate_target(self, target: str) -> None:
        """After a poll: the rules on that target's samples."""
        if self.alerts is None:
            return
        samples = self.snapshot.of(target)
        changes = self.alerts.evaluate(
            samples, self.world.clock.now(), scope=lambda s: s.labels.get("target") == target
        )
        self._notify(changes)

    async def _evaluate_global(self) -> None:
        """Every few seconds: the rules on site totals and the daemon's own series."""
        if self.alerts is None:
            return
        samples = [s for s in self.daemon_samples() if "target" not in s.labels]
        changes = self.alerts.evaluate(
            samples, self.world.clock.now(), scope=lambda s: "target" not in s.labels
        )
        self._notify(changes)

    def _notify(self, changes: Sequence[Transition]) -> None:
        if self.dispatcher is not None and changes:
            self.dispatcher.submit(changes)
        if self.store is not None and self.alerts is not None and self.alerts.dirty:
            self.store.save_alert_states({k: s.as_json() for k, s in self.alerts.states.items()})
            self.alerts.dirty = False

    async def _resend(self) -> None:
        """Firing alerts again to Alertmanager, before their endsAt lets them expire."""
        if self.alerts is not None and self.dispatcher is not None:
            self.dispatcher.submit(self.alerts.firing(), only="alertmanager")

    def _feed(self, target: str) -> Sequence[Sample] | None:
        """The latest samples of a feeding switch or PDU, if they are recent enough."""
        if self.poller is None or self.runtime is None:
            return None
        when = self.poller.last_polled.get(target)
        config = self.runtime.config
        feeder = self.energy.targets.get(target) if self.energy is not None else None
        if when is None or feeder is None:
            return None
        limit = config.interval_for(feeder) * config.settings.energy_max_gap_intervals
        if (self.world.clock.now() - when).total_seconds() > limit:
            return None
        return self.snapshot.of(target) or None

    def _activate(self, runtime: Runtime) -> None:
        assert self.poll_scheduler is not None
        self.runtime = runtime
        if self.energy is not None:
            self.energy.configure(runtime.config, runtime.classes, runtime.calendars)
        if self.advisor is not None:
            self.advisor.policy = runtime.policy
        if self.alerts is not None:
            self.alerts.rules = runtime.rules
        self.snapshot.retain(set(runtime.collectors))
        self.poll_scheduler.apply(
            {tid: _plan(runtime, collector) for tid, collector in runtime.collectors.items()}
        )
        self.reload_ok = True
        self.reload_at = self.world.clock.now().timestamp()
        log.info("polling %d targets", len(runtime.collectors))

    async def reload(self) -> list[str]:
        """Re-read the config; on any error keep the running one and return the problems."""
        try:
            runtime = self.build()
        except ConfigError as exc:
            self.reload_ok = False
            log.error("reload failed, keeping the running configuration:\n%s", exc)
            return [str(p) for p in exc.problems]
        old = self.runtime
        self._activate(runtime)
        if old is not None:
            for collector in old.collectors.values():
                await collector.close()
        return []

    async def stop(self) -> None:
        """Stop polling, write what is pending, release transports."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.poller is not None:
            self.poller.closed = True  # polls still in flight are dropped, not written
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.runtime is not None:
            for collector in self.runtime.collectors.values():
                await collector.close()
        if self.store is not None:
            self.store.close()
            self.store = None
        close_factory = getattr(self.world.transport_factory, "close", None)
        if callable(close_factory):
            close_factory()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    def eol_rows(self) -> list[list[object]]:
        """The end-of-life list as `sobriety export eol` writes it, from the live store."""
        from sobriety.reports.tables import eol_rows

        if self.runtime is None or self.store is None:
            return []
        self.store.flush()  # include the polls that just ended
        return eol_rows(
            self.runtime.config.targets,
            self.runtime.classes,
            self.store.device_facts(),
            self.store.energy_rows(),
        )

    # --- what the HTTP side reads -----------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether a configuration is running."""
        return self.runtime is not None

    def targets(self) -> list[str]:
        """The targets with samples in the snapshot."""
        return self.snapshot.targets()

    def samples(self) -> list[Sample]:
        """Everything a scrape shows: the snapshot, the daemon's own state and cost."""
        return [*self.snapshot.samples(), *self.daemon_samples()]

    def daemon_samples(self) -> list[Sample]:
        """What is not a polled target's: site totals, alerts, the daemon's own state."""
        out: list[Sample] = []
        per_cpu = self.runtime.config.settings.self_watts_per_cpu if self.runtime else 5.0
        out += self_samples(self.world.self_probe, per_cpu)
        if self.energy is not None:
            out += self.energy.site_samples()
        if self.alerts is not None:
            out += self.alerts.samples()
        if self.dispatcher is not None:
            out += self.dispatcher.samples()
        if self.runtime is not None:
            kinds: dict[str, int] = {}
            for collector in self.runtime.collectors.values():
                kinds[collector.target.kind] = kinds.get(collector.target.kind, 0) + 1
            out += [Sample("sobriety_targets", {"kind": k}, float(n)) for k, n in kinds.items()]
        factory = self.world.transport_factory
        if isinstance(factory, SnmpTransports):
            out += [
                Sample("sobriety_snmp_dropped_responses_total", {"reason": r}, float(n))
                for r, n in sorted(factory.dropped().items())
            ]
        out.append(
            Sample("sobriety_config_last_reload_successful", {}, 1.0 if self.reload_ok else 0.0)
        )
        if self.reload_at is not None:
            out.append(
                Sample("sobriety_config_last_reload_success_timestamp_seconds", {}, self.reload_at)
            )
        return out


def notifiers(config: Config) -> list[Notifier]:
    """The notifiers the configuration asks for."""
    alerting = config.settings.alerting
    out: list[Notifier] = []
    if alerting.alertmanager:
        host = config.settings.listen_host
        where = f"http://{f'[{host}]' if ':' in host else host}:{config.settings.listen_port}/"
        out.append(
            AlertmanagerNotifier(
                alerting.alertmanager, expire_after=alerting.resend * 4, generator=where
            )
        )
    if alerting.webhook:
        out.append(WebhookNotifier(alerting.webhook))
    if alerting.email is not None:
        mail = alerting.email
        out.append(
            EmailNotifier(
                mail.host, mail.port, mail.sender, mail.to, mail.starttls, mail.username,
                _reveal(mail.password),
            )
        )  # fmt: skip
    if alerting.log:
        out.append(LogNotifier())
    return out


def _plan(runtime: Runtime, collector: Collector) -> PollPlan:
    """How to poll a target: its interval, and the off-hours cadence if its site has hours."""
    config = runtime.config
    target = next(t for t in config.targets if t.id == collector.target.id)
    site = config.site_for(target)
    calendar = runtime.calendars.get(target.site) or SiteCalendar(site)
    slower = config.settings.off_hours_interval
    has_hours = bool(site.opening_hours) and slower is not None
    return PollPlan(
        collector,
        config.interval_for(target),
        off_hours_interval=slower if has_hours else None,
        is_open=calendar.is_open if has_hours else None,
    )


def _in_shard(target_id: str, shard: str) -> bool:
    """Deterministic sharding: target belongs to shard K of N by a stable hash of its id."""
    import zlib

    k, n = (int(x) for x in shard.split("/"))
    return zlib.crc32(target_id.encode("utf-8")) % n == k - 1


async def run_daemon(daemon: Daemon, on_ready: Callable[[str], None] | None = None) -> None:
    """Start, serve HTTP, reload on SIGHUP, stop on SIGTERM/SIGINT."""
    from sobriety.daemon.web import WebServer

    await daemon.start()
    assert daemon.runtime is not None
    settings = daemon.runtime.config.settings
    web = WebServer(daemon, settings.listen_host, settings.listen_port)
    await web.start()
    if on_ready is not None:
        on_ready(web.url)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(daemon.reload()))
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        await web.stop()
        await daemon.stop()
