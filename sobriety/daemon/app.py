"""Composition root: every part of the daemon built once, in one place, from the first runtime.

`Daemon(config_path, world)` loads the configuration (ConfigError if it is invalid, before
anything is opened) and wires the parts; none of them is optional afterwards. What happens
after each poll (the power reading, energy, lifetime and end-of-life facts, then the alert
rules) is glued here. Starting, reloading and stopping are `daemon.lifecycle`'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sobriety.alerts.engine import AlertEngine, Scope, Transition
from sobriety.alerts.notify import (
    AlertmanagerNotifier,
    Dispatcher,
    EmailNotifier,
    LogNotifier,
    MailRoute,
    Notifier,
    WebhookNotifier,
)
from sobriety.collectors.base import device_info_labels
from sobriety.config.load import Config
from sobriety.config.types import reveal
from sobriety.daemon.polling import Poller, PollScheduler
from sobriety.daemon.runtime import Runtime, SnmpTransports, World, build_runtime
from sobriety.daemon.selfcost import self_samples
from sobriety.daemon.snapshot import Entry, LiveSnapshot
from sobriety.daemon.ticking import TickingScheduler
from sobriety.daemon.webusers import UserMap
from sobriety.energy.accounting import EnergyTracker
from sobriety.exposition import TEXT, ScrapeCache, parse_samples, render_target
from sobriety.lifetime.policy import Advisor
from sobriety.lifetime.tracker import LifetimeTracker
from sobriety.model import CollectResult, Sample
from sobriety.radio.tracker import RadioTracker
from sobriety.reports.eol import EolReport
from sobriety.reports.radio import RadioReport
from sobriety.store import StateStore

log = logging.getLogger(__name__)

# What a device's last good poll says of it that stays true while it is down.
KEPT_WHILE_DOWN = frozenset({
    "sobriety_device_info",
    "sobriety_entity_manufacture_timestamp_seconds",
    "sobriety_ups_manufacture_timestamp_seconds",
})  # fmt: skip
CHASSIS = ("chassis", "stack")  # the entities whose manufacture date dates the device


class Daemon:
    """Schedules, polls, stores, exposes and alerts; its parts exist from construction on."""

    def __init__(self, config_path: Path, world: World | None = None) -> None:
        self.config_path = config_path
        self.world = world or World()
        self.runtime: Runtime = build_runtime(config_path, self.world)  # ConfigError: nothing open
        config = self.runtime.config
        settings = config.settings
        clock = self.world.clock
        self.snapshot = LiveSnapshot(render=render_target)
        self.store = StateStore(settings.data_dir / "state.sqlite3")
        self.energy = EnergyTracker(
            config, self.runtime.classes, self.runtime.calendars, self.store, self._feed,
            now=clock.now,
        )  # fmt: skip
        self.radio = RadioTracker(
            config, self.runtime.calendars, self.store, self._feed, now=clock.now
        )
        self.lifetime = LifetimeTracker(self.store)
        self.advisor = Advisor(self.store, self.runtime.policy, settings.eol_advice_every)
        self.alerts = AlertEngine(
            self.runtime.rules, is_open=self._site_open, routing=self._routing_labels
        )
        self.alerts.restore(self.store.alert_states())
        self.dispatcher = Dispatcher(notifiers(config))
        self.poller = Poller(
            self.snapshot, self.store, clock, settings.max_concurrent_polls,
            enrich=self._enrich, on_result=self._evaluate_target,
            per_target_bookkeeping=settings.self_metrics == "per_target",
        )  # fmt: skip
        self.scheduler = TickingScheduler(timezone="UTC")
        self.poll_scheduler = PollScheduler(self.poller, self.scheduler, settings.jitter)
        self.reload_ok = True
        self.reload_at: float | None = None
        self.identity: dict[str, list[Sample]] = {}  # last good poll's identity, per target

    def use(self, runtime: Runtime) -> None:
        """Make `runtime` the running one: every part takes its share of it."""
        self.runtime = runtime
        self.energy.configure(runtime.config, runtime.classes, runtime.calendars)
        self.radio.configure(runtime.config, runtime.calendars)
        self.advisor.configure(runtime.policy, runtime.config.settings.eol_advice_every)
        self.alerts.rules = runtime.rules
        self.snapshot.retain(set(runtime.collectors))
        self.snapshot.kept = frozenset(  # what other devices' readings read between polls
            feeder
            for t in runtime.targets.values()
            for feeder in (*t.feeders, *([t.poe.switch] if t.poe is not None else []))
        )
        self.poll_scheduler.apply(runtime.plans())
        self.reload_ok = True
        self.reload_at = self.world.clock.now().timestamp()

    # --- after each poll ---------------------------------------------------------------------

    def _enrich(self, result: CollectResult) -> list[Sample]:
        """A poll's samples with its power reading, energy and lifetime figures added."""
        target = self.runtime.targets.get(result.target)
        if target is None:  # removed by a reload while its poll was in flight
            return list(result.samples)
        now = self.world.clock.now()
        cls = self.energy.class_of(target)
        self._keep_identity(result)
        result.samples = self.energy.observe(result, now)  # the reading chosen, energy booked
        result.samples += self.radio.observe(target, result, now)  # EIRP, bound, on-time
        first = self.poller.first_seen.get(target.id)
        first_seen = first.timestamp() if first is not None else None
        tolerance = max(30.0, 0.1 * self.runtime.config.interval_for(target))
        life = self.lifetime.observe(target, cls, result, now, first_seen, tolerance)
        state = self.lifetime.states.get(target.id)
        if result.up and state is not None:
            life += self.advisor.advise(
                target, cls, [*result.samples, *life], state, now.timestamp(), first_seen,
                self.runtime.config.site_for(target),
            )  # fmt: skip
        return [*result.samples, *life]

    def _keep_identity(self, result: CollectResult) -> None:
        """A device that stops answering stays known: what identifies it and dates it (its
        `device_info`, manufacture dates) is kept from its last good poll and shown while it
        is down; one that never answered shows what the inventory says."""
        if result.up:
            kept = [
                s
                for s in result.samples
                if s.name in KEPT_WHILE_DOWN
                or (s.name == "sobriety_entity_info" and s.labels.get("class") in CHASSIS)
            ]
            if kept:
                self.identity[result.target] = kept
            return
        known = self.identity.get(result.target)
        if known is None:
            collector = self.runtime.collectors.get(result.target)
            if collector is None:
                return
            info = device_info_labels(collector.target, {})
            known = [Sample("sobriety_device_info", info, 1.0)]
        result.samples = [*known, *result.samples]

    def _feed(self, target: str) -> Sequence[Sample] | None:
        """The latest samples of a feeding switch or PDU, if they are recent enough."""
        when = self.poller.last_polled.get(target)
        feeder = self.runtime.targets.get(target)
        if when is None or feeder is None:
            return None
        config = self.runtime.config
        limit = config.interval_for(feeder) * config.settings.energy_max_gap_intervals
        if (self.world.clock.now() - when).total_seconds() > limit:
            return None
        return self.snapshot.of(target) or None

    # --- alerts ------------------------------------------------------------------------------

    def _site_open(self, labels: Mapping[str, str], now: datetime) -> bool | None:
        """Whether the site of an alert's series is open now (None: no site known)."""
        site = labels.get("site")
        if site is None and "target" in labels:
            target = self.runtime.targets.get(labels["target"])
            site = target.site if target is not None else None
        calendar = self.runtime.calendars.get(site or "")
        return calendar.is_open(now) if calendar is not None else None

    def _routing_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """What a target's alerts carry for routing: its place (organisation, site, building,
        room, where said), class and inventory labels."""
        target = self.runtime.targets.get(labels.get("target", ""))
        if target is None:
            return {}
        extra = {"site": target.site, **target.labels}
        for key, value in (
            ("organisation", self.runtime.config.organisation_of(target)),
            ("building", target.building),
            ("room", target.room),
            ("class", target.device_class),
        ):
            if value:
                extra[key] = value
        return extra

    def _evaluate_target(self, target: str, samples: Sequence[Sample]) -> None:
        """After a poll: the rules on that target's samples."""
        changes = self.alerts.evaluate(samples, self.world.clock.now(), scope=target)
        self._notify(changes)

    async def evaluate_global(self) -> None:
        """Every few seconds: the rules on site totals and the daemon's own series."""
        samples = [s for s in self.daemon_samples() if "target" not in s.labels]
        changes = self.alerts.evaluate(samples, self.world.clock.now(), scope=Scope.UNTARGETED)
        self._notify(changes)

    async def resend(self) -> None:
        """Firing alerts again to Alertmanager, before their endsAt lets them expire."""
        self.dispatcher.submit(self.alerts.firing(), only="alertmanager")

    def _notify(self, changes: Sequence[Transition]) -> None:
        if changes:
            self.dispatcher.submit(changes)
        if self.alerts.dirty:
            self.store.save_alert_states(self.alerts.take_changes())

    # --- what the HTTP side reads -----------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the scheduler runs (between start and stop)."""
        return bool(self.scheduler.running)

    def targets(self) -> list[str]:
        """The targets with samples in the snapshot."""
        return self.snapshot.targets()

    def eol_report(self) -> EolReport:
        """The end-of-life list as `sobriety export eol` writes it, from the live store: the
        devices of this daemon's shard."""
        from sobriety.reports.eol import EolInputs, eol_report, use_by_target
        from sobriety.reports.exports import scoped

        self.store.flush()  # include the polls that just ended
        use = use_by_target((row.target, row.joules) for row in self.store.energy_rows())
        runtime = self.runtime
        return eol_report(
            EolInputs(
                scoped(runtime.config),
                runtime.classes,
                self.store.device_facts(),
                use,
                runtime.policy,
                self.world.clock.now().timestamp(),
            )
        )

    def radio_report(self) -> RadioReport:
        """The radio transmitters as `/reports/radio` shows them, from the live state."""
        from sobriety.reports.radio import month_of, radio_report

        self.store.flush()  # include the polls that just ended
        now = self.world.clock.now()
        config = self.runtime.config
        firsts = [month_of(now, site.timezone)[0] for site in config.sites.values()]
        first = min(firsts).isoformat() if firsts else None
        return radio_report(config, self.radio.facts(), self.store.radio_days(first), now)

    def users(self) -> UserMap:
        """Which organisations each web user sees, as the running configuration says."""
        return UserMap.of(self.runtime.config)

    def entries(self) -> Mapping[str, Entry]:
        """Every polled target's latest poll."""
        return self.snapshot.entries()

    def samples(self) -> list[Sample]:
        """Everything a scrape shows: the snapshot (read back from its rendered lines: the
        daemon keeps no sample objects between polls), the daemon's own state and cost."""
        body = b"".join(ScrapeCache().body(self.entries(), list, TEXT))
        return [*parse_samples(body.decode("utf-8")), *self.daemon_samples()]

    def daemon_samples(self) -> list[Sample]:
        """What is not a polled target's: site totals, alerts, the daemon's own state."""
        settings = self.runtime.config.settings
        out = self_samples(self.world.self_probe, settings.self_watts_per_cpu)
        out += self.energy.site_samples()
        out += self.radio.site_samples()
        out += self.alerts.samples()
        out += self.dispatcher.samples()
        out += self.poller.bookkeeping_samples()
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
                mail.host, mail.port, mail.sender, mail.to, mail.security == "starttls",
                mail.username, reveal(mail.password), implicit_tls=mail.security == "implicit",
                routes=[MailRoute(r.values(), r.to, r.continue_) for r in mail.routes],
                ca_file=str(mail.ca_file) if mail.ca_file else None,
            )
        )  # fmt: skip
    if alerting.log:
        out.append(LogNotifier())
    return out
