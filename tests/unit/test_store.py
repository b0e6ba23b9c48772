"""The SQLite state store: migrations, batched writes, first-seen kept across restarts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sobriety.errors import StoreError
from sobriety.store import MIGRATIONS, PollRecord, RadioRow, StateStore

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_schema_version_and_wal(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    mode = sqlite3.connect(tmp_path / "s.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


def test_polls_are_batched_and_first_seen_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = StateStore(path)
    store.record_poll(PollRecord("sw1", T0, up=False, reason="timeout"))
    store.record_poll(PollRecord("sw1", T0 + timedelta(minutes=5), up=True, reason="ok"))
    store.record_poll(PollRecord("ap1", T0, up=True, reason="ok"))
    assert store.targets() == {}  # nothing written before flush
    assert store.flush() == 3
    assert store.flush() == 0
    store.close()

    reopened = StateStore(path)
    sw1 = reopened.targets()["sw1"]
    assert sw1.first_seen == T0 + timedelta(minutes=5)  # first seen *answering*
    assert (sw1.polls, sw1.failures, sw1.last_up) == (2, 1, True)
    reopened.record_poll(PollRecord("sw1", T0 + timedelta(days=1), up=False, reason="timeout"))
    reopened.flush()
    sw1 = reopened.targets()["sw1"]
    assert sw1.first_seen == T0 + timedelta(minutes=5)
    assert sw1.last_seen == T0 + timedelta(minutes=5)
    assert (sw1.last_up, sw1.last_reason) == (False, "timeout")
    reopened.close()


def test_unknown_future_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="newer than this sobriety knows"):
        StateStore(path)


def test_alert_changes_are_written_one_by_one(tmp_path: Path) -> None:
    """Only the alerts that changed are written; a deleted one goes, the others stay."""
    path = tmp_path / "s.sqlite3"
    store = StateStore(path)
    store.save_alert_states({"a": '{"state": "firing"}', "b": '{"state": "pending"}'})
    store.flush()
    store.save_alert_states({"b": None})
    store.save_alert_states({"c": '{"state": "pending"}'})
    store.flush()
    store.close()
    assert StateStore(path).alert_states() == {
        "a": '{"state": "firing"}',
        "c": '{"state": "pending"}',
    }


def test_a_radio_row_without_facts_keeps_the_facts_saved_or_queued_before(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite3")
    store.record_radio(RadioRow("ap", "1", "school", 60.0, 0.0, 100.0, True, '{"on": true}'))
    store.record_radio(RadioRow("ap", "1", "school", 120.0, 0.0, 160.0, True, None))  # queued
    store.flush()
    (row,) = store.radio_rows()
    assert (row.teaching_s, row.at, row.facts) == (120.0, 160.0, '{"on": true}')
    store.record_radio(RadioRow("ap", "1", "school", 180.0, 5.0, 220.0, False, None))  # saved
    store.flush()
    (row,) = store.radio_rows()
    assert (row.teaching_s, row.outside_s, row.state, row.facts) == (
        180.0, 5.0, False, '{"on": true}'
    )  # fmt: skip
    store.record_radio(RadioRow("ap", "1", "school", 240.0, 5.0, 280.0, False, '{"on": false}'))
    store.flush()
    assert [r.facts for r in store.radio_rows()] == ['{"on": false}']
    store.close()
