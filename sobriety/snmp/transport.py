"""The narrow interface every SNMP transport implements, and the walk built on top of it.

A transport speaks PDUs to one target: GET, GETNEXT and GETBULK, nothing else (there is no
way to send a SET). Walking a subtree is the same logic for every transport, so it lives here;
request counts of a recorded replay and of a real agent are therefore directly comparable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol, TypeVar

from sobriety.snmp.types import EXCEPTION_TAGS, Oid, Tag, VarBind


@dataclass(slots=True)
class RequestStats:
    """What talking to one target cost. Transports add to it; collectors read it."""

    get: int = 0
    getnext: int = 0
    getbulk: int = 0
    timeouts: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    varbinds: int = 0
    walk_anomalies: dict[str, int] = field(default_factory=dict)
    bulk_shrinks: dict[str, int] = field(default_factory=dict)  # by cause (too_big, timeout...)

    def requests(self) -> dict[str, int]:
        """The request summary of the poll-once JSON shape."""
        return {
            "get": self.get,
            "getnext": self.getnext,
            "getbulk": self.getbulk,
            "timeouts": self.timeouts,
        }

    def add(self, other: RequestStats) -> None:
        """Accumulate another stats object into this one."""
        for f in fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, dict):
                for key, count in getattr(other, f.name).items():
                    mine[key] = mine.get(key, 0) + count
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def copy(self) -> RequestStats:
        """An independent copy (for computing what one poll cost). Every poll makes one:
        fields named, not found by reflection (a test holds both to every field)."""
        return RequestStats(
            self.get, self.getnext, self.getbulk, self.timeouts, self.retries,
            self.bytes_sent, self.bytes_received, self.varbinds,
            dict(self.walk_anomalies), dict(self.bulk_shrinks),
        )  # fmt: skip

    def since(self, earlier: RequestStats) -> RequestStats:
        """What was added to these stats after `earlier` was copied from them."""
        return RequestStats(
            self.get - earlier.get,
            self.getnext - earlier.getnext,
            self.getbulk - earlier.getbulk,
            self.timeouts - earlier.timeouts,
            self.retries - earlier.retries,
            self.bytes_sent - earlier.bytes_sent,
            self.bytes_received - earlier.bytes_received,
            self.varbinds - earlier.varbinds,
            _grown(self.walk_anomalies, earlier.walk_anomalies),
            _grown(self.bulk_shrinks, earlier.bulk_shrinks),
        )

    def note_anomaly(self, kind: str) -> None:
        """Count a walk that ended abnormally (bounded set of kinds)."""
        self.walk_anomalies[kind] = self.walk_anomalies.get(kind, 0) + 1

    def note_shrink(self, cause: str) -> None:
        """Count a GETBULK asked again with fewer repetitions (too_big, timeout, truncated)."""
        self.bulk_shrinks[cause] = self.bulk_shrinks.get(cause, 0) + 1


def _grown(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """The counts that changed since `before`, by how much."""
    if now == before:  # nearly every poll: no anomaly, no shrink
        return {}
    return {k: n - before.get(k, 0) for k, n in now.items() if n != before.get(k, 0)}


class SnmpTransport(Protocol):
    """PDU-level access to one SNMP target.

    Each call sends one request PDU (plus retries) and returns the response varbinds in
    request order. Timeouts raise `sobriety.errors.TargetTimeout`; rejected credentials
    raise `AuthFailed`; a response that cannot be decoded raises `MalformedResponse`.
    """

    stats: RequestStats

    @property
    def supports_bulk(self) -> bool:
        """False for SNMPv1, which has no GETBULK."""
        ...

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]: ...

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]: ...

    async def get_bulk(
        self, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]: ...

    async def close(self) -> None: ...


_T = TypeVar("_T")


class BudgetSpent(Exception):  # a signal inside a walk, never raised out of one
    """The poll's deadline passed while a request was in flight."""


class PollBudget:
    """What one poll may spend: a deadline (on `monotonic`) and a cap on varbinds received.

    Walks ask `allows()` before each request and stop when it says no; a request still in
    flight at the deadline is abandoned (`run`). What was cut is in `cut` (`deadline`,
    `varbind_cap`) and the columns it was cut in, in `cut_roots`: the poll keeps what it
    read and says what it did not.
    """

    def __init__(
        self,
        monotonic: Callable[[], float],
        stats: RequestStats,
        *,
        deadline: float | None = None,
        max_varbinds: int | None = None,
    ) -> None:
        self.monotonic = monotonic
        self.stats = stats
        self.deadline = deadline
        self.max_varbinds = max_varbinds
        self._base = stats.varbinds
        self.cut: dict[str, list[Oid]] = {}

    @property
    def varbinds(self) -> int:
        """Varbinds received since the poll began."""
        return self.stats.varbinds - self._base

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - self.monotonic()

    def allows(self, roots: Sequence[Oid] = ()) -> bool:
        """May another request be sent? If not, note why and where (the columns cut)."""
        left = self.remaining()
        if left is not None and left <= 0:
            self.note_cut("deadline", roots)
            return False
        if self.max_varbinds is not None and self.varbinds >= self.max_varbinds:
            self.note_cut("varbind_cap", roots)
            return False
        return True

    def note_cut(self, kind: str, roots: Sequence[Oid]) -> None:
        self.cut.setdefault(kind, []).extend(roots)

    async def run(self, request: Awaitable[_T], roots: Sequence[Oid] = ()) -> _T:
        """Await a request, abandoning it at the deadline (BudgetSpent)."""
        left = self.remaining()
        if left is None:
            return await request
        try:  # in this task: wait_for would make a task per request
            async with asyncio.timeout(max(left, 0.0)):
                return await request
        except TimeoutError:
            if (self.remaining() or 0.0) > 0:
                raise  # the transport's own timeout, not ours
            self.note_cut("deadline", roots)
            raise BudgetSpent from None


DEFAULT_MAX_REPETITIONS = 25
# Varbinds asked for in one GETBULK when several columns are walked together: 64 is what
# pysnmp/snmpsim answer at most, and keeps a response of counters near one Ethernet frame
# or two (agents shorten a GETBULK answer that would exceed their message size anyway).
DEFAULT_BULK_VARBINDS = 64
MAX_COLUMNS_PER_REQUEST = 16  # wider tables are walked in groups of columns
MAX_WALK_VARBINDS = 100_000  # without a poll budget, a subtree that never ends is cut here


async def walk(
    transport: SnmpTransport,
    root: Oid,
    max_repetitions: int = DEFAULT_MAX_REPETITIONS,
) -> list[VarBind]:
    """Read every varbind under `root`, in order, with GETBULK (GETNEXT on SNMPv1).

    The walk stops at the end of the subtree, at endOfMibView, or when the agent returns an
    OID that does not increase (counted as the anomaly ``non_increasing``, the data read so far
    is kept). Errors from the transport propagate.
    """
    return (await walk_columns(transport, [root], max_repetitions))[root]


async def walk_columns(
    transport: SnmpTransport,
    roots: Sequence[Oid],
    max_repetitions: int = DEFAULT_MAX_REPETITIONS,
    max_varbinds: int = DEFAULT_BULK_VARBINDS,
    sizes: dict[Oid, int] | None = None,
    budget: PollBudget | None = None,
) -> dict[Oid, list[VarBind]]:
    """Walk several subtrees (the columns of one table) together, one row per repetition.

    Each request carries every column still running, so a table of C columns and R rows costs
    about R × C / `max_varbinds` GETBULKs instead of C × R / `max_repetitions`; on SNMPv1 one
    GETNEXT reads a whole row. Each column ends on its own, with the same rules as `walk`.

    `sizes`, when given, remembers how many rows each column had (it is updated): the last
    request of the next walk then asks for just enough repetitions to reach one row past the
    known end (up to a quarter more than a full page, when that spares a request), instead of
    a full page of varbinds from beyond the table. An agent that answers fewer (snmpsim stops
    at 64 varbinds, net-snmp at 100) just gets asked again for the rest.

    With a `budget`, the walk stops (keeping what it read) once the poll's deadline or
    varbind cap is reached; the budget says what was cut.
    """
    roots = list(dict.fromkeys(roots))
    results: dict[Oid, list[VarBind]] = {root: [] for root in roots}
    known = sizes if sizes is not None else {}
    for start in range(0, len(roots), MAX_COLUMNS_PER_REQUEST):
        group = roots[start : start + MAX_COLUMNS_PER_REQUEST]
        if budget is not None and not budget.allows(roots[start:]):
            break  # the columns not walked are noted as cut
        with contextlib.suppress(BudgetSpent):  # the budget noted the cut; keep what was read
            await _walk_group(
                transport, group, results, (max_repetitions, max_varbinds), known, budget
            )
    if sizes is not None:  # a column cut short says nothing about its length
        cut = {root for roots_cut in budget.cut.values() for root in roots_cut} if budget else ()
        sizes.update((root, len(rows)) for root, rows in results.items() if root not in cut)
    return results


async def _walk_group(
    transport: SnmpTransport,
    roots: list[Oid],
    results: dict[Oid, list[VarBind]],
    page: tuple[int, int],
    sizes: dict[Oid, int],
    budget: PollBudget | None,
) -> None:
    stats = transport.stats
    cursors = {root: root for root in roots}
    active = list(roots)
    read = 0
    ended_by_agent: list[Oid] = []  # columns the agent said were the end of its MIB
    while active:
        if budget is not None and not budget.allows(active):
            return
        width = len(active)
        batch = await _request_rows(transport, active, cursors, results, page, sizes, budget)
        if not batch:
            stats.note_anomaly("empty_response")
            return
        finished: set[Oid] = set()  # every answer ends or advances its first column
        for i, vb in enumerate(batch):
            root = active[i % width] if width > 1 else active[0]
            if root in finished:
                continue
            oid, tag = vb.oid, vb.tag
            if tag is Tag.END_OF_MIB_VIEW:
                finished.add(root)
                ended_by_agent.append(root)
            elif oid[: len(root)] != root:
                finished.add(root)
            elif oid <= cursors[root]:
                stats.note_anomaly("non_increasing")
                finished.add(root)
            elif tag in EXCEPTION_TAGS:
                # noSuchObject/noSuchInstance are not valid in a GETNEXT/GETBULK answer.
                stats.note_anomaly("exception_in_walk")
                finished.add(root)
            else:
                results[root].append(vb)
                cursors[root] = oid
            if width == 1 and finished:
                break
        read += len(batch)
        if budget is None and read >= MAX_WALK_VARBINDS:
            stats.note_anomaly("too_long")
            return
        if finished:
            active = [root for root in active if root not in finished]
    # endOfMibView says nothing follows; a later column that had rows proves the agent
    # stopped early (snmpsim on a record it cannot serve, a buggy agent): a short walk.
    for root in ended_by_agent:
        if any(later > root and results[later] for later in roots):
            stats.note_anomaly("truncated")


async def _request_rows(
    transport: SnmpTransport,
    active: list[Oid],
    cursors: dict[Oid, Oid],
    results: dict[Oid, list[VarBind]],
    page: tuple[int, int],
    sizes: dict[Oid, int],
    budget: PollBudget | None,
) -> list[VarBind]:
    """The next rows of the running columns: one GETBULK (GETNEXT on SNMPv1)."""
    request = [cursors[root] for root in active]
    sent: Awaitable[list[VarBind]]
    if transport.supports_bulk:
        max_repetitions, max_varbinds = page
        rows = max(1, min(max_repetitions, max_varbinds // len(active)))
        if all(root in sizes for root in active):  # just past the end seen last time
            left = max(sizes[root] + 1 - len(results[root]) for root in active)
            if 0 < left <= rows + rows // 4:  # a quarter more saves a whole request
                rows = left
        sent = transport.get_bulk(request, rows)
    else:
        sent = transport.get_next(request)
    return await (budget.run(sent, active) if budget is not None else sent)
