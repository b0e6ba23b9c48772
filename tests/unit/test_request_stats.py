"""What one poll cost: a copy of the running stats and the difference since it, every field."""

from __future__ import annotations

from dataclasses import fields

from sobriety.snmp.transport import RequestStats


def _distinct(base: int) -> RequestStats:
    """Stats whose every field holds a value of its own (dicts: one key named for the field)."""
    stats = RequestStats()
    for i, f in enumerate(fields(RequestStats)):
        if isinstance(getattr(stats, f.name), dict):
            setattr(stats, f.name, {f.name: base + i, "same": 7})
        else:
            setattr(stats, f.name, base + i)
    return stats


def test_a_copy_carries_every_field_and_shares_no_counts() -> None:
    stats = _distinct(10)
    clone = stats.copy()
    assert clone == stats
    stats.note_anomaly("loop")
    stats.note_shrink("too_big")
    assert "loop" not in clone.walk_anomalies
    assert "too_big" not in clone.bulk_shrinks


def test_since_is_what_every_field_gained_and_only_the_counts_that_moved() -> None:
    earlier = _distinct(10)
    later = _distinct(10)
    for i, f in enumerate(fields(RequestStats)):
        value = getattr(later, f.name)
        if isinstance(value, dict):
            value[f.name] += i + 1
            value["new"] = 2
        else:
            setattr(later, f.name, value + 100 * (i + 1))
    delta = later.since(earlier)
    for i, f in enumerate(fields(RequestStats)):
        got = getattr(delta, f.name)
        if isinstance(got, dict):
            assert got == {f.name: i + 1, "new": 2}  # "same" did not move: left out
        else:
            assert got == 100 * (i + 1), f.name


def test_since_an_unchanged_copy_is_all_zero() -> None:
    stats = _distinct(3)
    assert stats.since(stats.copy()) == RequestStats()
