"""The narrow interface every SNMP transport implements, and the walk built on top of it.

A transport speaks PDUs to one target: GET, GETNEXT and GETBULK, nothing else (there is no
way to send a SET). Walking a subtree is the same logic for every transport, so it lives here;
request counts of a recorded replay and of a real agent are therefore directly comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol

from sobriety.snmp.types import Oid, Tag, VarBind


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
            if f.name == "walk_anomalies":
                for key, count in other.walk_anomalies.items():
                    self.walk_anomalies[key] = self.walk_anomalies.get(key, 0) + count
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def copy(self) -> RequestStats:
        """An independent copy (for computing what one poll cost)."""
        clone = RequestStats()
        clone.add(self)
        return clone

    def since(self, earlier: RequestStats) -> RequestStats:
        """What was added to these stats after `earlier` was copied from them."""
        delta = RequestStats()
        for f in fields(self):
            if f.name == "walk_anomalies":
                delta.walk_anomalies = {
                    kind: count - earlier.walk_anomalies.get(kind, 0)
                    for kind, count in self.walk_anomalies.items()
                    if count != earlier.walk_anomalies.get(kind, 0)
                }
            else:
                setattr(delta, f.name, getattr(self, f.name) - getattr(earlier, f.name))
        return delta

    def note_anomaly(self, kind: str) -> None:
        """Count a walk that ended abnormally (bounded set of kinds)."""
        self.walk_anomalies[kind] = self.walk_anomalies.get(kind, 0) + 1


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


DEFAULT_MAX_REPETITIONS = 25
MAX_WALK_VARBINDS = 100_000  # an agent that never ends a subtree is cut here


def _in_subtree(oid: Oid, root: Oid) -> bool:
    return oid[: len(root)] == root


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
    result: list[VarBind] = []
    cursor = root
    while True:
        if transport.supports_bulk:
            batch = await transport.get_bulk([cursor], max_repetitions)
        else:
            batch = await transport.get_next([cursor])
        if not batch:
            transport.stats.note_anomaly("empty_response")
            return result
        for vb in batch:
            if vb.tag is Tag.END_OF_MIB_VIEW or not _in_subtree(vb.oid, root):
                return result
            if vb.oid <= cursor:
                transport.stats.note_anomaly("non_increasing")
                return result
            if vb.is_exception:
                # noSuchObject/noSuchInstance are not valid in a GETNEXT/GETBULK answer.
                transport.stats.note_anomaly("exception_in_walk")
                return result
            result.append(vb)
            cursor = vb.oid
        if len(result) >= MAX_WALK_VARBINDS:
            transport.stats.note_anomaly("too_long")
            return result
