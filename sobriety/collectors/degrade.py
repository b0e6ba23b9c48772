"""Degrade, don't disappear: OIDs an agent hangs on are split out and left out for a day.

Some agents never answer a request that names an object they do not implement (the SNMP
engine objects are a common case) while they answer every other request at once; others
answer genErr, or a broken encoding, for one object. One such OID must not hide the device.
A request that fails that way is split in halves until the OIDs that fail alone are found;
those are dropped from the target's later requests (`OidHealth`) and asked again once a day.
An OID is only dropped once the agent has answered something else since: a dead device drops
nothing, it is down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sobriety.errors import AgentError, CollectError, MalformedResponse, TargetTimeout
from sobriety.model import CollectIssue
from sobriety.snmp.transport import PollBudget, SnmpTransport
from sobriety.snmp.types import Oid, VarBind, format_oid

DAY = 86_400.0
SYS_OBJECT_ID: Oid = (1, 3, 6, 1, 2, 1, 1, 2, 0)
# What a request may fail with because of one of its OIDs (rather than a dead agent).
SPLIT_ON: tuple[type[CollectError], ...] = (TargetTimeout, MalformedResponse, AgentError)

Request = Callable[[Sequence[Oid]], Awaitable[list[VarBind]]]


@dataclass(frozen=True, slots=True)
class DroppedOid:
    """An OID left out of a target's requests: since when (monotonic), why, when it is
    asked again."""

    oid: Oid
    since: float
    reason: str
    retry_at: float


@dataclass
class OidHealth:
    """The OIDs one target does not answer for; each is retried after `retry_after`."""

    retry_after: float = DAY
    dropped: dict[Oid, DroppedOid] = field(default_factory=dict)

    def usable(self, oids: Iterable[Oid], now: float) -> list[Oid]:
        """The OIDs worth asking now: not dropped, or due for their retry."""
        return [o for o in oids if o not in self.dropped or self.dropped[o].retry_at <= now]

    def drop(self, oid: Oid, now: float, reason: str) -> None:
        self.dropped[oid] = DroppedOid(oid, now, reason, now + self.retry_after)

    def answered(self, oids: Iterable[Oid]) -> None:
        """These OIDs were answered: a retried one is back in the target's requests."""
        for oid in oids:
            self.dropped.pop(oid, None)

    def issues(self, names: Mapping[Oid, str], now: float, wall: datetime) -> list[CollectIssue]:
        """One `oid_dropped` issue per OID left out: which, why, when it is asked again
        (`now` on the monotonic clock the drops were noted on, `wall` the same instant)."""
        out = []
        for dropped in sorted(self.dropped.values(), key=lambda d: d.oid):
            retry = (wall + timedelta(seconds=dropped.retry_at - now)).astimezone(UTC)
            name = names.get(dropped.oid)
            what = f"{format_oid(dropped.oid)} ({name})" if name else format_oid(dropped.oid)
            detail = f"{what}: {dropped.reason}; asked again after {retry:%Y-%m-%d %H:%M}Z"
            out.append(CollectIssue("oid_dropped", detail[:200]))
        return out


class ResilientRequests:
    """GET / GETNEXT over one transport that splits a failing request instead of failing.

    `required` OIDs are the device itself (sysObjectID): if they fail the target is down.
    The others are optional: an optional OID that fails alone is dropped in `health`.
    Answers are keyed by the OID asked (for a GETNEXT, the varbind is what follows it).
    """

    def __init__(
        self,
        transport: SnmpTransport,
        health: OidHealth,
        monotonic: Callable[[], float],
        *,
        chunk: int,
        budget: PollBudget | None = None,
    ) -> None:
        self.transport = transport
        self.health = health
        self.monotonic = monotonic
        self.chunk = chunk
        self.budget = budget

    async def get(self, oids: Sequence[Oid], required: Sequence[Oid] = ()) -> dict[Oid, VarBind]:
        return await self._request(self.transport.get, oids, required)

    async def get_next(self, oids: Sequence[Oid]) -> dict[Oid, VarBind]:
        return await self._request(self.transport.get_next, oids, ())

    async def alive(self, failure: CollectError) -> None:
        """Raise `failure` unless the agent still answers a GET of sysObjectID."""
        try:
            await self.transport.get([SYS_OBJECT_ID])
        except CollectError:
            raise failure from None

    async def _request(
        self, send: Request, oids: Sequence[Oid], required: Sequence[Oid]
    ) -> dict[Oid, VarBind]:
        must = list(dict.fromkeys(required))
        wanted = list(dict.fromkeys([*must, *self.health.usable(oids, self.monotonic())]))
        out: dict[Oid, VarBind] = {}
        for start in range(0, len(wanted), self.chunk):
            part = wanted[start : start + self.chunk]
            try:
                out.update(zip(part, await send(part), strict=False))
            except SPLIT_ON as exc:
                await self._split(send, part, [o for o in part if o in must], exc, out)
                continue
            self.health.answered(part)
        return out

    async def _split(
        self,
        send: Request,
        part: list[Oid],
        must: list[Oid],
        failure: CollectError,
        out: dict[Oid, VarBind],
    ) -> None:
        optional = [o for o in part if o not in must]
        if not optional:
            raise failure
        if must:  # the device itself: if this fails too, the target is down
            out.update(zip(must, await send(must), strict=False))
        else:
            await self.alive(failure)
        failed: list[tuple[Oid, str]] = []
        await self._bisect(send, optional, out, failed)
        if failed:
            await self.alive(failure)  # the agent still answers: those OIDs hang, not it
            now = self.monotonic()
            for oid, reason in failed:
                self.health.drop(oid, now, reason)

    async def _bisect(
        self,
        send: Request,
        oids: list[Oid],
        out: dict[Oid, VarBind],
        failed: list[tuple[Oid, str]],
    ) -> None:
        if self.budget is not None and not self.budget.allows():
            return  # left for the next poll: neither answered nor dropped
        try:
            answers = await send(oids)
        except SPLIT_ON as exc:
            if len(oids) == 1:
                failed.append((oids[0], exc.reason))
                return
            half = len(oids) // 2
            await self._bisect(send, oids[:half], out, failed)
            await self._bisect(send, oids[half:], out, failed)
            return
        out.update(zip(oids, answers, strict=False))
        self.health.answered(oids)
