"""Which daemon polls which target: `settings.shard: K/N` over a stable hash.

The hash is taken of what `settings.shard_by` says: a target's power chain (default), its
site, or its site's organisation. A power chain is a set of targets joined by what feeds
what (`poe.switch`, `outlet(s).pdu`, `fed_by`): a feeder's unattributed load is what it
measures less its loads' readings, so a feeder and its loads must be polled by the same
daemon, and they are. Every daemon of a region reads the same inventory; each polls, stores
and reports its own shard, and a central Prometheus sums them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

from sobriety.config.load import Config, TargetConfig


def in_shard(key: str, shard: str) -> bool:
    """Whether `key` belongs to shard K of N (CRC-32 of its UTF-8 bytes, modulo N)."""
    k, n = (int(x) for x in shard.split("/"))
    return zlib.crc32(key.encode("utf-8")) % n == k - 1


def chain_roots(targets: Iterable[TargetConfig]) -> dict[str, str]:
    """Each target's power chain, named by the smallest id in it (union-find over feeds)."""
    parent: dict[str, str] = {}

    def root(tid: str) -> str:
        parent.setdefault(tid, tid)
        while parent[tid] != tid:
            parent[tid] = parent[parent[tid]]
            tid = parent[tid]
        return tid

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    listed = list(targets)
    for target in listed:
        root(target.id)
        for feeder in (*target.feeders, *([target.poe.switch] if target.poe else [])):
            join(target.id, feeder)
    return {t.id: root(t.id) for t in listed}


def shard_keys(config: Config) -> Mapping[str, str]:
    """The key each target is hashed by, as `settings.shard_by` says."""
    by = config.settings.shard_by
    if by == "site":
        return {t.id: t.site for t in config.targets}
    if by == "organisation":  # a site of no organisation is its own key
        return {t.id: config.organisation_of(t) or f"site:{t.site}" for t in config.targets}
    return chain_roots(config.targets)


def owned(config: Config) -> set[str]:
    """The ids of the configured targets this daemon's shard holds (polled or not)."""
    shard = config.settings.shard
    if shard == "1/1":
        return {t.id for t in config.targets}
    return {tid for tid, key in shard_keys(config).items() if in_shard(key, shard)}
