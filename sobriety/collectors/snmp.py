"""Run device profiles over an SNMP transport, with as few requests as the data allows.

A poll of a known device is one GET (every scalar of every matched profile packed in one PDU,
split only past `max_get_varbinds`) plus GETBULK walks that carry all the columns of a table
together (a row per repetition). Identification
(sysDescr/sysObjectID, then one GETNEXT carrying every probe) and identity-cadence data
(ENTITY inventory, software counts, UPS ratings) are re-read only when due: first contact,
once a day, after a reboot, or when the device comes back from being down.

A poll degrades rather than disappears: a request that an agent hangs on (or answers with
genErr or a broken encoding) is split until the OIDs at fault are found, and those are left
out for a day (`collectors.degrade`); a table walk that fails on a live agent is left out
the same way. Each poll has a budget (a deadline, by default a fraction of the interval,
and a varbind cap): walks stop there, the target stays up, and an issue says what was cut.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sobriety.clock import Clock
from sobriety.collectors.base import TargetRef, device_info_labels
from sobriety.collectors.degrade import SPLIT_ON, OidHealth, ResilientRequests
from sobriety.collectors.evaluate import (
    EvaluationCache,
    ProfileOutput,
    RawData,
    RoleValue,
    clean_text,
    evaluate,
    identity_rows,
)
from sobriety.collectors.profiles import (
    POWER_ROLES,
    DeviceFacts,
    Profile,
    ProfileSet,
    TableSpec,
)
from sobriety.collectors.vendors import EnterpriseRegistry, builtin_registry
from sobriety.errors import CollectError
from sobriety.model import CollectIssue, CollectResult, Sample
from sobriety.snmp.transport import PollBudget, SnmpTransport, walk_columns
from sobriety.snmp.types import Oid, VarBind, format_oid

log = logging.getLogger(__name__)

SYS_DESCR: Oid = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID: Oid = (1, 3, 6, 1, 2, 1, 1, 2, 0)
DAY = 86_400.0
MAX_POLL_VARBINDS = 100_000  # an agent whose tables never end is cut here, each poll


class SnmpTargetState:
    """What the collector remembers about one target between polls."""

    def __init__(self) -> None:
        self.profiles: tuple[Profile, ...] | None = None
        self.facts: dict[str, str] = {}
        self.identity_read_at: float | None = None
        self.identity: RawData = RawData()
        self.last_uptime: float | None = None
        self.was_up = False
        self.walk_sizes: dict[Oid, int] = {}  # rows per column last time: sizes the GETBULKs
        self.markers: dict[Oid, object] = {}  # change markers (entLastChangeTime) last seen
        self.rows: dict[tuple[str, str], list[Oid]] = {}  # get_rows tables: rows to GET
        # identity data converted once per read (identity columns are not kept raw)
        self.evaluated = EvaluationCache()
        self.health = OidHealth()  # OIDs the agent hangs on: left out, retried daily
        self.enterprise: tuple[str, str] | None = None  # (vendor, origin) from the PEN registry


@dataclass(frozen=True, slots=True)
class PollLimits:
    """How much one poll of a target may ask and spend."""

    identity_ttl: float = DAY  # identification and identity data are read again after this
    max_get_varbinds: int = 40  # varbinds packed in one GET
    deadline: float | None = None  # seconds a poll may take (None: no deadline)
    max_varbinds: int | None = MAX_POLL_VARBINDS  # varbinds a poll may receive


class SnmpCollector:
    """Polls one SNMP target through its transport with the profiles that match it."""

    def __init__(
        self,
        target: TargetRef,
        transport: SnmpTransport,
        profiles: ProfileSet,
        clock: Clock,
        limits: PollLimits = PollLimits(),
        enterprises: EnterpriseRegistry | None = None,
    ) -> None:
        self.target = target
        self.transport = transport
        self.profiles = profiles
        self.clock = clock
        self.limits = limits
        self.enterprises = enterprises or builtin_registry()
        self.identity_ttl = limits.identity_ttl
        self.max_get_varbinds = limits.max_get_varbinds
        self.deadline = limits.deadline
        self.max_varbinds = limits.max_varbinds
        self.state = SnmpTargetState()
        self._refreshed: set[Oid] = set()  # identity columns re-read this poll (marker)
        self._names = profiles.object_names
        self._budget = self._new_budget()
        self._requests = self._new_requests()

    def _new_budget(self) -> PollBudget:
        now = self.clock.monotonic()
        deadline = now + self.deadline if self.deadline is not None else None
        return PollBudget(
            self.clock.monotonic,
            self.transport.stats,
            deadline=deadline,
            max_varbinds=self.max_varbinds,
        )

    def _new_requests(self) -> ResilientRequests:
        return ResilientRequests(
            self.transport,
            self.state.health,
            self.clock.monotonic,
            chunk=self.max_get_varbinds,
            budget=self._budget,
        )

    async def close(self) -> None:
        await self.transport.close()

    async def collect(self) -> CollectResult:
        """Poll once. Device trouble becomes `up=False` with a reason, never an exception."""
        before = self.transport.stats.copy()
        started = self.clock.now()
        t0 = self.clock.monotonic()
        result = CollectResult(target=self.target.id, up=False, started=started)
        self._budget = self._new_budget()
        self._requests = self._new_requests()
        try:
            await self._poll(result)
            result.up = True
            result.issues.extend(self._degraded(result))
        except CollectError as exc:
            result.reason = exc.reason
            result.issues.append(CollectIssue(exc.reason, str(exc)[:200]))
            result.samples.clear()
        except Exception as exc:  # a bug must not stop the daemon: report it as data
            log.exception("poll of %s failed unexpectedly", self.target.id)
            result.reason = "error"
            result.issues.append(CollectIssue("error", f"{type(exc).__name__}: {exc}"[:200]))
            result.samples.clear()
        self.state.was_up = result.up
        result.duration_seconds = self.clock.monotonic() - t0
        result.stats = self.transport.stats.since(before)
        for kind, count in sorted(result.stats.walk_anomalies.items()):
            # a walk that ended abnormally is data that may be missing: say so
            result.issues.append(CollectIssue(f"walk_{kind}", f"{count} walk(s) ended: {kind}"))
        return result

    def _degraded(self, result: CollectResult) -> list[CollectIssue]:
        """What this poll left out: OIDs dropped for the target, walks its budget cut."""
        health = self.state.health
        now = self.clock.monotonic()
        result.samples.append(
            Sample(
                "sobriety_snmp_dropped_oids", {"target": self.target.id}, float(len(health.dropped))
            )
        )
        issues = health.issues(self._names, now, self.clock.now())
        for kind, roots in self._budget.cut.items():
            where = sorted({self._names.get(r, format_oid(r)) for r in roots})
            what = (
                f"{self.deadline:g} s deadline"
                if kind == "deadline" and self.deadline is not None
                else f"{self.max_varbinds} varbinds"
            )
            cut = f"; not read: {', '.join(where)}" if where else ""
            issues.append(CollectIssue(kind, f"poll stopped at its {what}{cut}"[:200]))
        return issues

    # --- the poll ---------------------------------------------------------------------------

    async def _poll(self, result: CollectResult) -> None:
        state = self.state
        self._refreshed.clear()
        now = self.clock.monotonic()
        identity_due = (
            state.profiles is None
            or state.identity_read_at is None
            or now - state.identity_read_at >= self.identity_ttl
            or not state.was_up
        )
        fresh = RawData()
        if identity_due:
            await self._identify(fresh)
        profiles = state.profiles or ()
        await self._read(profiles, identity_due, fresh)
        if identity_due and self._budget.cut:  # identity data left out: read it all again
            state.identity_read_at = None  # at the next poll, not a day later
        raw = self._merge_identity(fresh, identity_due)
        if identity_due:  # identity data was read again: choose rows and evaluate it again
            self._choose_rows(profiles, raw, None)
            state.evaluated.clear()
        elif self._refreshed:  # some tables' identity data changed (a change marker moved)
            self._choose_rows(profiles, raw, self._refreshed)
            for profile, table in _tables_reading(profiles, self._refreshed):
                state.evaluated.forget_table(profile.name, table.name)
        outputs = [(p, evaluate(p, raw, self.target.id, state.evaluated)) for p in profiles]
        identity = ProfileOutput()  # the device's facts: the first profile to say one wins
        roles: list[RoleValue] = []
        seen: set[tuple[str, frozenset[tuple[str, str]]]] = set()
        for _profile, out in outputs:
            for sample in out.samples:  # a vendor profile and the generic MIB may both say it:
                key = (sample.name, frozenset(sample.labels.items()))  # a sort costs more
                if key not in seen:  # the first profile (highest priority) wins
                    seen.add(key)
                    result.samples.append(sample)
            result.issues.extend(out.issues)
            roles.extend(out.roles)
            for fact, value in out.info.items():
                identity.note_info(fact, value, out.info_origin[fact])
        if state.enterprise is not None:  # the registry's word, where no object says more
            identity.note_info("vendor", *state.enterprise)
        result.samples.extend(self._device_power(roles, result))
        uptime = _best(roles, "uptime")
        if uptime is not None and state.last_uptime is not None and uptime < state.last_uptime:
            state.identity_read_at = None  # rebooted (or wrapped): re-read identity next poll
        state.last_uptime = uptime
        if uptime is not None:
            result.samples.append(
                Sample("sobriety_device_uptime_seconds", {"target": self.target.id}, uptime)
            )
        facts = {**state.facts, **identity.info}
        result.samples.append(
            Sample("sobriety_device_info", device_info_labels(self.target, facts), 1.0)
        )
        result.samples.extend(
            Sample(
                "sobriety_device_identity_origin_info",
                {"target": self.target.id, "fact": fact, "origin": origin},
                1.0,
            )
            for fact, origin in sorted(identity.info_origin.items())
        )
        for profile in profiles:
            result.samples.append(
                Sample(
                    "sobriety_device_profile_info",
                    {"target": self.target.id, "profile": profile.name},
                    1.0,
                )
            )
        result.profiles = tuple(p.name for p in profiles)

    def _choose_rows(
        self, profiles: Iterable[Profile], raw: RawData, only: set[Oid] | None
    ) -> None:
        """After an identity read: which rows of `get_rows` tables later polls GET (with
        `only`, of the tables that read one of those columns again)."""
        tables = (
            _tables_reading(profiles, only)
            if only is not None
            else ((p, t) for p in profiles for t in p.tables)
        )
        for profile, table in tables:
            if table.get_rows:
                self.state.rows[(profile.name, table.name)] = identity_rows(table, raw)

    def _device_power(self, roles: Sequence[RoleValue], result: CollectResult) -> list[Sample]:
        """The device's own measured power: the most preferred `power` origin, summed over
        its rows (several supplies of one chassis). Negative watts are kept and flagged."""
        by_origin: dict[str, list[RoleValue]] = {}
        for role in roles:
            if role.role in POWER_ROLES and role.value < 0:
                where = ",".join(f"{k}={v}" for k, v in role.labels.items() if k != "target")
                result.issues.append(
                    CollectIssue("negative_power", f"{role.profile}/{role.field} {where}"[:200])
                )
            if role.role == "power" and role.origin is not None:
                by_origin.setdefault(role.origin, []).append(role)
        if not by_origin:
            return []
        origin, values = max(
            by_origin.items(), key=lambda item: (max(r.preference for r in item[1]), item[0])
        )
        labels = {"target": self.target.id, "source": "measured", "origin": origin,
                  "basis": "measured"}  # fmt: skip
        readings = [r.value for r in values]
        total = max(readings) if values[0].combine == "max" else sum(readings)
        return [Sample("sobriety_device_power_watts", labels, total)]

    async def _identify(self, fresh: RawData) -> None:
        """Read the system group, match profiles, probe the undecided ones in one GETNEXT."""
        always_scalars = [
            s.oid_tuple for p in self.profiles.profiles if p.match.always for s in p.scalars
        ]
        got = await self._requests.get(
            [SYS_DESCR, SYS_OBJECT_ID, *always_scalars], required=[SYS_OBJECT_ID]
        )
        fresh.scalars.update(got)
        descr_vb, oid_vb = got.get(SYS_DESCR), got.get(SYS_OBJECT_ID)
        sysdescr = (
            clean_text(descr_vb.value) if descr_vb and isinstance(descr_vb.value, bytes) else ""
        )
        sysobjectid = oid_vb.value if oid_vb and isinstance(oid_vb.value, tuple) else None
        matched, to_probe = self.profiles.decide(DeviceFacts(sysobjectid, sysdescr))
        registry = self.enterprises
        pen = registry.pen_of(sysobjectid)
        vendor = registry.vendor(pen) if pen is not None else None
        self.state.enterprise = (vendor, "iana-pen") if vendor is not None else None
        # a generic agent's (or no) sysObjectID: which maker's private subtree is served?
        queries = [] if vendor or any(p.vendor for p in matched) else registry.subtree_queries()
        probes = sorted({oid for p in to_probe for oid in p.match.probe_oids})
        if probes or queries:
            answers = await self._requests.get_next([*probes, *queries])
            found = {
                probe
                for probe in probes
                if (vb := answers.get(probe)) is not None
                and not vb.is_exception
                and vb.oid[: len(probe)] == probe
            }
            matched.extend(p for p in to_probe if any(o in found for o in p.match.probe_oids))
            subtree = registry.first_vendor_subtree(answers[q] for q in queries if q in answers)
            if subtree is not None:
                self.state.enterprise = (str(registry.vendor(subtree)), "iana-pen-subtree")
        order = {p.name: i for i, p in enumerate(self.profiles.profiles)}
        self.state.profiles = tuple(sorted(matched, key=lambda p: order[p.name]))
        self.state.facts = {"sysobjectid": format_oid(sysobjectid) if sysobjectid else ""}
        self.state.identity_read_at = self.clock.monotonic()

    async def _read(self, profiles: Iterable[Profile], identity_due: bool, fresh: RawData) -> None:
        """GET every due scalar in as few PDUs as possible, then walk every due table.

        An identity table with a change marker (`reread_when`, e.g. entLastChangeTime) is
        re-read as soon as the marker's value differs from the one seen at its last read.
        """
        scalar_oids: list[Oid] = []
        tables: list[list[Oid]] = []
        marked: list[tuple[Oid, list[Oid], list[Oid]]] = []  # marker, to walk, identity
        by_get: dict[Oid, list[Oid]] = {}  # column -> instance OIDs read by GET this poll
        for profile in profiles:
            for scalar in profile.scalars:
                due = scalar.cadence == "state" or identity_due
                if due and scalar.oid_tuple not in fresh.scalars:
                    scalar_oids.append(scalar.oid_tuple)
            for table in profile.tables:
                state, identity = table.state_column_oids, table.identity_column_oids
                marker = profile.scalar(table.reread_when).oid_tuple if table.reread_when else None
                if identity_due:
                    tables.append([*state, *identity])
                    if marker is not None:
                        marked.append((marker, [], []))  # only to note the marker's value
                    continue
                kept = self.state.rows.get((profile.name, table.name))
                if table.get_rows and kept is not None:
                    for column in state:  # tables over one entry share its columns
                        instances = [(*column, *suffix) for suffix in kept]
                        by_get.setdefault(column, []).extend(instances)
                        scalar_oids.extend(instances)
                    if marker is not None:  # on a change, walk it all: rows may differ
                        marked.append((marker, [*state, *identity], [*identity]))
                    continue
                if state:
                    tables.append([*state])
                if marker is not None and identity:
                    marked.append((marker, [*identity], [*identity]))
        if scalar_oids:
            got = await self._get(list(dict.fromkeys(scalar_oids)))
            for column, instances in by_get.items():
                fresh.columns[column] = [
                    vb
                    for oid in sorted(set(instances))
                    if (vb := got.pop(oid, None)) and not vb.is_exception
                ]
            fresh.scalars.update(got)
        for marker, columns, reread in marked:
            vb = fresh.scalars.get(marker)
            seen = (vb.tag, vb.value) if vb is not None else None
            if columns and seen != self.state.markers.get(marker):
                tables.append(columns)
                self._refreshed.update(reread)
            self.state.markers[marker] = seen
        await self._walk(merged_walks(tables), fresh)

    async def _walk(self, tables: Iterable[list[Oid]], fresh: RawData) -> None:
        """Walk each table's columns together, within the poll's budget. A walk that fails
        on an agent that still answers leaves those columns out for a day."""
        walked: set[Oid] = set()
        health, now = self.state.health, self.clock.monotonic()
        for columns in tables:  # the columns of one table travel together
            todo = health.usable((c for c in dict.fromkeys(columns) if c not in walked), now)
            if not todo:
                continue
            walked.update(todo)
            try:
                got = await walk_columns(
                    self.transport, todo, sizes=self.state.walk_sizes, budget=self._budget
                )
            except SPLIT_ON as exc:
                await self._requests.alive(exc)
                for column in todo:
                    health.drop(column, self.clock.monotonic(), f"walk: {exc.reason}")
                continue
            health.answered(todo)
            fresh.columns.update(got)

    async def _get(self, oids: Sequence[Oid]) -> dict[Oid, VarBind]:
        """GET within the budget: past the deadline, nothing more is asked."""
        if not self._budget.allows(oids):
            return {}
        return await self._requests.get(oids)

    def _merge_identity(self, fresh: RawData, identity_due: bool) -> RawData:
        """Keep identity-cadence scalars between their reads; fresh values win. Identity
        columns are not kept: the evaluation cache holds them converted."""
        if identity_due:
            self.state.identity = _identity_scalars(self.state.profiles or (), fresh)
            return fresh
        return RawData(
            scalars={**self.state.identity.scalars, **fresh.scalars}, columns=fresh.columns
        )


def merged_walks(tables: Iterable[list[Oid]]) -> list[list[Oid]]:
    """The column lists to walk, those of one table entry together whichever profile asks
    for them (a radio profile's columns beside its vendor profile's: one walk, not two)."""
    by_entry: dict[Oid, list[Oid]] = {}
    for columns in tables:
        if columns:
            by_entry.setdefault(columns[0][:-1], []).extend(columns)
    return [list(dict.fromkeys(columns)) for columns in by_entry.values()]  # each column once


def _identity_scalars(profiles: Iterable[Profile], raw: RawData) -> RawData:
    keep = RawData()
    for profile in profiles:
        for scalar in profile.scalars:
            if scalar.cadence == "identity" and scalar.oid_tuple in raw.scalars:
                keep.scalars[scalar.oid_tuple] = raw.scalars[scalar.oid_tuple]
    return keep


def _tables_reading(
    profiles: Iterable[Profile], columns: set[Oid]
) -> Iterator[tuple[Profile, TableSpec]]:
    """The tables that read one of `columns`."""
    for profile in profiles:
        for table in profile.tables:
            if any(table.column_oid(c) in columns for c in table.columns):
                yield profile, table


def _best(roles: Iterable[RoleValue], role: str) -> float | None:
    candidates = [r for r in roles if r.role == role]
    if not candidates:
        return None
    return max(candidates, key=lambda r: r.preference).value
