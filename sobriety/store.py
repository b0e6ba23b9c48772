"""State in SQLite: the only module that touches the database.

WAL journal with synchronous=NORMAL: a crash or kill -9 of the daemon loses nothing that
was committed. Polls are recorded into a pending batch and committed together by `flush()`,
which the daemon calls as soon as the event loop is free, so the batch holds the polls that
ended in the same moment and a kill loses at most the polls in flight. The schema evolves by
numbered migrations tracked in `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sobriety.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    # 1: targets and when they were first and last seen
    """
    CREATE TABLE targets (
        id          TEXT PRIMARY KEY,
        first_seen  REAL,
        last_seen   REAL,
        last_poll   REAL NOT NULL,
        last_up     INTEGER NOT NULL,
        last_reason TEXT NOT NULL,
        polls       INTEGER NOT NULL DEFAULT 0,
        failures    INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: energy totals per (target, site, class, source) and each target's last reading
    """
    CREATE TABLE energy (
        target      TEXT NOT NULL,
        site        TEXT NOT NULL,
        class       TEXT NOT NULL,
        source      TEXT NOT NULL,
        joules      REAL NOT NULL,
        open_j      REAL NOT NULL,
        after_j     REAL NOT NULL,
        holiday_j   REAL NOT NULL,
        gco2e       REAL NOT NULL,
        cost        REAL NOT NULL,
        PRIMARY KEY (target, site, class, source)
    );
    CREATE TABLE energy_last (
        target      TEXT PRIMARY KEY,
        at          REAL,
        watts       REAL,
        source      TEXT NOT NULL,
        origin      TEXT NOT NULL,
        gaps        INTEGER NOT NULL
    );
    """,
    # 3: energy per local day of the device's site, for reports over a date range
    """
    CREATE TABLE energy_daily (
        day         TEXT NOT NULL,
        target      TEXT NOT NULL,
        site        TEXT NOT NULL,
        class       TEXT NOT NULL,
        source      TEXT NOT NULL,
        joules      REAL NOT NULL,
        open_j      REAL NOT NULL,
        after_j     REAL NOT NULL,
        holiday_j   REAL NOT NULL,
        gco2e       REAL NOT NULL,
        cost        REAL NOT NULL,
        PRIMARY KEY (day, target, site, class, source)
    );
    """,
    # 4: lifetime: last uptime seen, reboots, power-on time, engine boots, uptime wraps
    """
    CREATE TABLE lifetime (
        target          TEXT PRIMARY KEY,
        uptime          REAL,
        at              REAL,
        boots           INTEGER NOT NULL,
        power_on        REAL NOT NULL,
        engine_boots    REAL,
        wraps           INTEGER NOT NULL
    );
    """,
    # 5: what the end-of-life list says of each device, as of its last poll
    """
    CREATE TABLE device_facts (
        target      TEXT PRIMARY KEY,
        at          REAL NOT NULL,
        facts       TEXT NOT NULL
    );
    """,
    # 6: alerts pending or firing, so a restart neither re-notifies nor forgets them
    """
    CREATE TABLE alert_states (
        key         TEXT PRIMARY KEY,
        state       TEXT NOT NULL
    );
    """,
    # 7: energy of parts of a target (a managed AP, a feeder's unattributed load: `device`)
    # and what an estimate rests on (`basis`: measured, state, assumed). Earlier estimates
    # said nothing of their basis: they are kept as `assumed`.
    """
    CREATE TABLE energy_v7 (
        target TEXT NOT NULL, device TEXT NOT NULL, site TEXT NOT NULL, class TEXT NOT NULL,
        source TEXT NOT NULL, basis TEXT NOT NULL, joules REAL NOT NULL, open_j REAL NOT NULL,
        after_j REAL NOT NULL, holiday_j REAL NOT NULL, gco2e REAL NOT NULL, cost REAL NOT NULL,
        PRIMARY KEY (target, device, site, class, source, basis)
    );
    INSERT INTO energy_v7 SELECT target, '', site, class, source,
        CASE source WHEN 'measured' THEN 'measured' ELSE 'assumed' END,
        joules, open_j, after_j, holiday_j, gco2e, cost FROM energy;
    DROP TABLE energy;
    ALTER TABLE energy_v7 RENAME TO energy;
    CREATE TABLE energy_daily_v7 (
        day TEXT NOT NULL, target TEXT NOT NULL, device TEXT NOT NULL, site TEXT NOT NULL,
        class TEXT NOT NULL, source TEXT NOT NULL, basis TEXT NOT NULL, joules REAL NOT NULL,
        open_j REAL NOT NULL, after_j REAL NOT NULL, holiday_j REAL NOT NULL,
        gco2e REAL NOT NULL, cost REAL NOT NULL,
        PRIMARY KEY (day, target, device, site, class, source, basis)
    );
    INSERT INTO energy_daily_v7 SELECT day, target, '', site, class, source,
        CASE source WHEN 'measured' THEN 'measured' ELSE 'assumed' END,
        joules, open_j, after_j, holiday_j, gco2e, cost FROM energy_daily;
    DROP TABLE energy_daily;
    ALTER TABLE energy_daily_v7 RENAME TO energy_daily;
    ALTER TABLE energy_last ADD COLUMN basis TEXT NOT NULL DEFAULT 'assumed';
    UPDATE energy_last SET basis = 'measured' WHERE source = 'measured';
    """,
    # 8: each hand-over list issued for a disposal batch, as it was: what the operator got
    """
    CREATE TABLE handovers (
        batch       TEXT NOT NULL,
        issued      REAL NOT NULL,
        digest      TEXT NOT NULL,
        devices     INTEGER NOT NULL,
        list        TEXT NOT NULL,
        PRIMARY KEY (batch, issued)
    );
    """,
    # 9: who this database belongs to: an id made once, so that a central report merging the
    # snapshots of several daemons (`export state`, `--state`) can tell them apart
    """
    CREATE TABLE meta (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL
    );
    INSERT INTO meta VALUES ('instance', lower(hex(randomblob(16))));
    """,
    # 10: each radio's time on, teaching and outside (totals, and per local day of its site),
    # its last observed state and what the exposure indicator said of it then
    """
    CREATE TABLE radio_on (
        target      TEXT NOT NULL,
        radio       TEXT NOT NULL,
        site        TEXT NOT NULL,
        teaching_s  REAL NOT NULL,
        outside_s   REAL NOT NULL,
        at          REAL,
        state       INTEGER,
        facts       TEXT NOT NULL,
        PRIMARY KEY (target, radio)
    );
    CREATE TABLE radio_on_daily (
        day         TEXT NOT NULL,
        target      TEXT NOT NULL,
        radio       TEXT NOT NULL,
        site        TEXT NOT NULL,
        teaching_s  REAL NOT NULL,
        outside_s   REAL NOT NULL,
        PRIMARY KEY (day, target, radio, site)
    );
    """,
)


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """What the store knows about one target."""

    id: str
    first_seen: datetime | None
    last_seen: datetime | None
    last_poll: datetime
    last_up: bool
    last_reason: str
    polls: int
    failures: int


@dataclass(frozen=True, slots=True, order=True)
class EnergyKey:
    """Whose energy: a target, or with `device` a part of it (a managed access point, the
    unattributed load behind a feeder), at which site, in which class, known how."""

    target: str
    device: str  # "" for the target itself
    site: str
    device_class: str
    source: str  # measured | estimated
    basis: str  # measured | state (estimated from observed state) | assumed


@dataclass(frozen=True, slots=True)
class EnergyAmount:
    """Joules, split by the site's state when they were used, with their carbon and cost."""

    joules: float
    periods: tuple[float, float, float]  # open, after hours, holiday
    gco2e: float
    cost: float

    def plus(self, other: EnergyAmount) -> EnergyAmount:
        """Both amounts together."""
        a, b = self.periods, other.periods
        return EnergyAmount(
            self.joules + other.joules,
            (a[0] + b[0], a[1] + b[1], a[2] + b[2]),
            self.gco2e + other.gco2e,
            self.cost + other.cost,
        )


class _Keyed:
    """The key's and amount's fields read straight off a row."""

    key: EnergyKey
    amount: EnergyAmount

    @property
    def target(self) -> str:
        return self.key.target

    @property
    def device(self) -> str:
        return self.key.device

    @property
    def site(self) -> str:
        return self.key.site

    @property
    def device_class(self) -> str:
        return self.key.device_class

    @property
    def source(self) -> str:
        return self.key.source

    @property
    def basis(self) -> str:
        return self.key.basis

    @property
    def joules(self) -> float:
        return self.amount.joules

    @property
    def periods(self) -> tuple[float, float, float]:
        return self.amount.periods

    @property
    def gco2e(self) -> float:
        return self.amount.gco2e

    @property
    def cost(self) -> float:
        return self.amount.cost


@dataclass(frozen=True, slots=True)
class EnergyRow(_Keyed):
    """Energy of one key so far."""

    key: EnergyKey
    amount: EnergyAmount


@dataclass(frozen=True, slots=True)
class EnergyDay(_Keyed):
    """Energy of one key booked on one local day (ISO date) of its site."""

    day: str
    key: EnergyKey
    amount: EnergyAmount

    def plus(self, other: EnergyDay) -> EnergyDay:
        """Both bookings together (same day and key)."""
        return EnergyDay(self.day, self.key, self.amount.plus(other.amount))


@dataclass(frozen=True, slots=True)
class EnergyLast:
    """The last power reading of one chain (None after it went silent) and its gap count.

    A chain is a target (`target` is its id) or a part of one (`target/device`)."""

    target: str
    at: float | None
    watts: float | None
    source: str
    origin: str
    gaps: int
    basis: str = "assumed"


@dataclass(frozen=True, slots=True)
class LifetimeState:
    """What lifetime tracking keeps per target between polls and restarts."""

    target: str
    uptime: float | None  # seconds, as last seen
    at: float | None  # when it was seen (POSIX)
    boots: int
    power_on_seconds: float
    engine_boots: float | None
    wraps: int


@dataclass(frozen=True, slots=True)
class Handover:
    """A hand-over list issued for a disposal batch: when, its digest, what it said."""

    batch: str
    issued: float  # POSIX seconds
    digest: str  # SHA-256 of `list`
    devices: int
    list: str  # JSON, as issued


@dataclass(frozen=True, slots=True)
class RadioRow:
    """A radio's on-time so far, its last observation (state None: unknown) and the
    indicator's facts then (JSON; None when queued: the facts saved before still hold)."""

    target: str
    radio: str
    site: str
    teaching_s: float
    outside_s: float
    at: float | None
    state: bool | None
    facts: str | None


@dataclass(frozen=True, slots=True)
class RadioDay:
    """On-time of a radio booked on one local day (ISO date) of its site."""

    day: str
    target: str
    radio: str
    site: str
    teaching_s: float
    outside_s: float

    def plus(self, other: RadioDay) -> RadioDay:
        teaching, outside = self.teaching_s + other.teaching_s, self.outside_s + other.outside_s
        return RadioDay(self.day, self.target, self.radio, self.site, teaching, outside)


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One finished poll, as the store keeps it."""

    target: str
    at: datetime
    up: bool
    reason: str


class StateStore:
    """SQLite state of one daemon."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open state database {path}: {exc}") from exc
        self._pending: list[PollRecord] = []
        self._energy: dict[EnergyKey, EnergyRow] = {}
        self._energy_last: dict[str, EnergyLast] = {}
        self._energy_days: dict[tuple[str, EnergyKey], EnergyDay] = {}
        self._lifetime: dict[str, LifetimeState] = {}
        self._facts: dict[str, tuple[float, str]] = {}
        self._alerts: dict[str, str | None] = {}
        self._radios: dict[tuple[str, str], RadioRow] = {}
        self._radio_days: dict[tuple[str, str, str, str], RadioDay] = {}

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this sobriety knows "
                f"({len(MIGRATIONS)}): upgrade sobriety or use another data_dir"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                self._db.executescript(
                    f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.Error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @property
    def instance(self) -> str:
        """This database's own id, made when it was created (snapshots keep it)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
        return str(row[0])

    def snapshot(self, path: Path) -> None:
        """A consistent, compact copy of the database at `path` (SQLite's VACUUM INTO: a read
        transaction, so a running daemon goes on writing meanwhile). What is pending is
        written first. `path` must not exist."""
        self.flush()
        if path.exists():
            raise StoreError(f"{path} exists already: a snapshot is written to a new file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db.execute("VACUUM INTO ?", (str(path),))
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot write a snapshot to {path}: {exc}") from exc

    def polled_span(self) -> dict[str, tuple[float | None, float]]:
        """Each polled target's first answer (None: never) and last poll, POSIX seconds."""
        rows = self._db.execute("SELECT id, first_seen, last_poll FROM targets").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def record_poll(self, poll: PollRecord) -> None:
        """Queue a finished poll; it is written by the next `flush()`."""
        self._pending.append(poll)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record_energy(self, row: EnergyRow) -> None:
        """Queue a target's new energy totals (the newest of a key wins)."""
        self._energy[row.key] = row

    def record_energy_last(self, last: EnergyLast) -> None:
        """Queue a target's last reading."""
        self._energy_last[last.target] = last

    def add_energy_day(self, booking: EnergyDay) -> None:
        """Queue energy booked on a day; it is added to what the day already holds."""
        key = (booking.day, booking.key)
        known = self._energy_days.get(key)
        self._energy_days[key] = booking if known is None else known.plus(booking)

    def energy_days(
        self, first: str | None = None, last: str | None = None, site: str | None = None
    ) -> list[EnergyDay]:
        """Daily bookings between two ISO dates (inclusive), optionally of one site."""
        args: list[str] = [first or "0000-00-00", last or "9999-99-99"]
        if site is not None:
            args.append(site)
        rows = self._db.execute(_SELECT_DAYS_OF_SITE if site is not None else _SELECT_DAYS, args)
        return [EnergyDay(r[0], *_energy(r[1:])) for r in rows.fetchall()]

    def record_lifetime(self, state: LifetimeState) -> None:
        """Queue a target's lifetime state."""
        self._lifetime[state.target] = state

    def record_device_facts(self, target: str, at: float, facts: Mapping[str, object]) -> None:
        """Queue what the end-of-life list says of a device now."""
        self._facts[target] = (at, json.dumps(facts, sort_keys=True, ensure_ascii=False))

    def device_facts(self) -> dict[str, tuple[float, dict[str, object]]]:
        """Every device's last facts, by target."""
        rows = self._db.execute("SELECT target, at, facts FROM device_facts").fetchall()
        return {r[0]: (r[1], json.loads(r[2])) for r in rows}

    def record_radio(self, row: RadioRow) -> None:
        """Queue a radio's totals, last state and facts (the newest of a radio wins; one
        without facts keeps those of the row it replaces in the queue)."""
        key = (row.target, row.radio)
        queued = self._radios.get(key)
        if row.facts is None and queued is not None and queued.facts is not None:
            row = replace(row, facts=queued.facts)
        self._radios[key] = row

    def add_radio_day(self, booking: RadioDay) -> None:
        """Queue on-time booked on a day; it is added to what the day already holds."""
        key = (booking.day, booking.target, booking.radio, booking.site)
        known = self._radio_days.get(key)
        self._radio_days[key] = booking if known is None else known.plus(booking)

    def radio_rows(self) -> list[RadioRow]:
        """Every radio stored."""
        rows = self._db.execute(
            "SELECT target, radio, site, teaching_s, outside_s, at, state, facts FROM radio_on "
            "ORDER BY target, radio"
        ).fetchall()
        return [
            RadioRow(r[0], r[1], r[2], r[3], r[4], r[5], None if r[6] is None else bool(r[6]),
                     r[7])
            for r in rows
        ]  # fmt: skip

    def radio_days(
        self, first: str | None = None, last: str | None = None, site: str | None = None
    ) -> list[RadioDay]:
        """Daily on-time between two ISO dates (inclusive), optionally of one site."""
        query = (
            "SELECT day, target, radio, site, teaching_s, outside_s FROM radio_on_daily "
            "WHERE day >= ? AND day <= ?"
        )
        args: list[str] = [first or "0000-00-00", last or "9999-99-99"]
        if site is not None:
            query += " AND site = ?"
            args.append(site)
        rows = self._db.execute(query + " ORDER BY day, site, target, radio", args).fetchall()
        return [RadioDay(*r) for r in rows]

    def save_alert_states(self, changes: Mapping[str, str | None]) -> None:
        """Queue changed alerts: key -> JSON, or None for an alert no longer pending or
        firing (what changed only: a fleet's other alerts are not rewritten)."""
        self._alerts.update(changes)

    def alert_states(self) -> dict[str, str]:
        """The stored alerts, key -> JSON."""
        return dict(self._db.execute("SELECT key, state FROM alert_states").fetchall())

    def record_handover(self, handover: Handover) -> None:
        """Keep an issued hand-over list (written at once: it is what left the building)."""
        try:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO handovers VALUES (?, ?, ?, ?, ?)",
                (handover.batch, handover.issued, handover.digest, handover.devices,
                 handover.list),
            )  # fmt: skip
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"cannot write {self.path}: {exc}") from exc

    def handovers(self, batch: str | None = None) -> list[Handover]:
        """Issued hand-over lists, oldest first (of one batch, or all)."""
        query = "SELECT batch, issued, digest, devices, list FROM handovers"
        args: tuple[str, ...] = ()
        if batch is not None:
            query += " WHERE batch = ?"
            args = (batch,)
        rows = self._db.execute(query + " ORDER BY issued", args).fetchall()
        return [Handover(*row) for row in rows]

    def lifetime_states(self) -> Mapping[str, LifetimeState]:
        """Every stored lifetime state."""
        rows = self._db.execute(
            "SELECT target, uptime, at, boots, power_on, engine_boots, wraps FROM lifetime"
        ).fetchall()
        return {r[0]: LifetimeState(*r) for r in rows}

    def energy_rows(self) -> list[EnergyRow]:
        """Every energy total stored."""
        rows = self._db.execute(_SELECT_ENERGY).fetchall()
        return [EnergyRow(*_energy(r)) for r in rows]

    def energy_last(self) -> Mapping[str, EnergyLast]:
        """Each target's last stored reading."""
        rows = self._db.execute(
            "SELECT target, at, watts, source, origin, gaps, basis FROM energy_last"
        ).fetchall()
        return {r[0]: EnergyLast(*r) for r in rows}

    def flush(self) -> int:
        """Write every queued poll and energy total in one transaction; return the polls."""
        batch, self._pending = self._pending, []
        energy, self._energy = self._energy, {}
        last, self._energy_last = self._energy_last, {}
        days, self._energy_days = self._energy_days, {}
        lives, self._lifetime = self._lifetime, {}
        facts, self._facts = self._facts, {}
        alerts, self._alerts = self._alerts, {}
        radios, self._radios = self._radios, {}
        radio_days, self._radio_days = self._radio_days, {}
        if not (batch or energy or last or days or lives or facts or alerts
                or radios or radio_days):  # fmt: skip
            return 0
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                _REPLACE_ENERGY,
                [_energy_values(e.key, e.amount) for e in energy.values()],
            )
            self._db.executemany(
                _ADD_ENERGY_DAY,
                [(d.day, *_energy_values(d.key, d.amount)) for d in days.values()],
            )
            self._db.executemany(
                "DELETE FROM alert_states WHERE key = ?",
                [(k,) for k, v in alerts.items() if v is None],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO alert_states VALUES (?, ?)",
                [(k, v) for k, v in alerts.items() if v is not None],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO device_facts VALUES (?, ?, ?)",
                [(target, at, text) for target, (at, text) in facts.items()],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO lifetime VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        x.target,
                        x.uptime,
                        x.at,
                        x.boots,
                        x.power_on_seconds,
                        x.engine_boots,
                        x.wraps,
                    )
                    for x in lives.values()
                ],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO energy_last (target, at, watts, source, origin, gaps, "
                "basis) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (x.target, x.at, x.watts, x.source, x.origin, x.gaps, x.basis)
                    for x in last.values()
                ],
            )
            self._write_radios(radios, radio_days)
            for poll in batch:
                at = poll.at.timestamp()
                seen = at if poll.up else None
                self._db.execute(
                    """
                    INSERT INTO targets (id, first_seen, last_seen, last_poll, last_up,
                                         last_reason, polls, failures)
                    VALUES (?, ?, ?, ?, ?, ?, 1, ?)
                    ON CONFLICT(id) DO UPDATE SET
                        first_seen = COALESCE(targets.first_seen, excluded.first_seen),
                        last_seen = COALESCE(excluded.last_seen, targets.last_seen),
                        last_poll = excluded.last_poll,
                        last_up = excluded.last_up,
                        last_reason = excluded.last_reason,
                        polls = targets.polls + 1,
                        failures = targets.failures + excluded.failures
                    """,
                    (poll.target, seen, seen, at, int(poll.up), poll.reason, int(not poll.up)),
                )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._pending = batch + self._pending  # keep them for the next try
            self._energy = {**energy, **self._energy}
            self._energy_last = {**last, **self._energy_last}
            for booking in days.values():
                self.add_energy_day(booking)
            self._lifetime = {**lives, **self._lifetime}
            self._facts = {**facts, **self._facts}
            self._alerts = {**alerts, **self._alerts}
            self._radios = {**radios, **self._radios}
            for radio_day in radio_days.values():
                self.add_radio_day(radio_day)
            raise StoreError(f"cannot write {self.path}: {exc}") from exc
        return len(batch)

    def _write_radios(
        self,
        radios: Mapping[tuple[str, str], RadioRow],
        days: Mapping[tuple[str, str, str, str], RadioDay],
    ) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO radio_on VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.target, r.radio, r.site, r.teaching_s, r.outside_s, r.at,
                 None if r.state is None else int(r.state), r.facts)
                for r in radios.values() if r.facts is not None
            ],
        )  # fmt: skip
        self._db.executemany(  # the facts saved before stand
            "UPDATE radio_on SET site = ?, teaching_s = ?, outside_s = ?, at = ?, state = ? "
            "WHERE target = ? AND radio = ?",
            [
                (r.site, r.teaching_s, r.outside_s, r.at, None if r.state is None else int(r.state),
                 r.target, r.radio)
                for r in radios.values() if r.facts is None
            ],
        )  # fmt: skip
        self._db.executemany(
            """
            INSERT INTO radio_on_daily VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(day, target, radio, site) DO UPDATE SET
                teaching_s = teaching_s + excluded.teaching_s,
                outside_s = outside_s + excluded.outside_s
            """,
            [(d.day, d.target, d.radio, d.site, d.teaching_s, d.outside_s) for d in days.values()],
        )

    def targets(self) -> Mapping[str, TargetRecord]:
        """Every target the store has seen polled."""
        rows = self._db.execute(
            "SELECT id, first_seen, last_seen, last_poll, last_up, last_reason, polls, failures "
            "FROM targets"
        ).fetchall()
        return {
            row[0]: TargetRecord(
                id=row[0],
                first_seen=_dt(row[1]),
                last_seen=_dt(row[2]),
                last_poll=_dt(row[3]) or datetime.fromtimestamp(0, UTC),
                last_up=bool(row[4]),
                last_reason=row[5],
                polls=row[6],
                failures=row[7],
            )
            for row in rows
        }

    def close(self) -> None:
        """Write what is pending and close the database."""
        try:
            self.flush()
        finally:
            self._db.close()


# The energy statements; every one lists the columns in the order `_energy` reads them.
_SELECT_ENERGY = """
    SELECT target, device, site, class, source, basis,
           joules, open_j, after_j, holiday_j, gco2e, cost
    FROM energy ORDER BY target, device, site, class, source, basis
"""
_SELECT_DAYS = """
    SELECT day, target, device, site, class, source, basis,
           joules, open_j, after_j, holiday_j, gco2e, cost
    FROM energy_daily WHERE day >= ? AND day <= ?
    ORDER BY day, site, class, target, device, source, basis
"""
_SELECT_DAYS_OF_SITE = """
    SELECT day, target, device, site, class, source, basis,
           joules, open_j, after_j, holiday_j, gco2e, cost
    FROM energy_daily WHERE day >= ? AND day <= ? AND site = ?
    ORDER BY day, site, class, target, device, source, basis
"""
_REPLACE_ENERGY = """
    INSERT OR REPLACE INTO energy (target, device, site, class, source, basis,
                                   joules, open_j, after_j, holiday_j, gco2e, cost)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_ADD_ENERGY_DAY = """
    INSERT INTO energy_daily (day, target, device, site, class, source, basis,
                              joules, open_j, after_j, holiday_j, gco2e, cost)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(day, target, device, site, class, source, basis) DO UPDATE SET
        joules = joules + excluded.joules,
        open_j = open_j + excluded.open_j,
        after_j = after_j + excluded.after_j,
        holiday_j = holiday_j + excluded.holiday_j,
        gco2e = gco2e + excluded.gco2e,
        cost = cost + excluded.cost
"""


def _energy(row: tuple[object, ...]) -> tuple[EnergyKey, EnergyAmount]:
    """A key and an amount out of the columns above, in their order."""
    t, d, s, c, src, b, j, o, a, h, g, e = row
    return (
        EnergyKey(str(t), str(d), str(s), str(c), str(src), str(b)),
        EnergyAmount(_f(j), (_f(o), _f(a), _f(h)), _f(g), _f(e)),
    )


def _f(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _energy_values(key: EnergyKey, amount: EnergyAmount) -> tuple[object, ...]:
    return (key.target, key.device, key.site, key.device_class, key.source, key.basis,
            amount.joules, *amount.periods, amount.gco2e, amount.cost)  # fmt: skip


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)
