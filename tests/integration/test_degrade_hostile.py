"""Degrade, don't disappear: the SNMP collector against scripted hostile agents on loopback.

Each agent is a real UDP socket on 127.0.0.1 answering real BER messages through the lean
engine: one never answers a request that names the SNMP engine objects, one has a table that
never ends, others send garbage, truncated answers or answers with another request-id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import pytest

from sobriety.clock import SystemClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import PollLimits, SnmpCollector
from sobriety.daemon.polling import Poller
from sobriety.daemon.snapshot import LiveSnapshot
from sobriety.model import CollectResult
from sobriety.snmp import ber
from sobriety.snmp.lean import LeanTransport, SnmpClient
from sobriety.snmp.types import Oid, Tag, VarBind, parse_oid
from sobriety.store import StateStore

pytestmark = pytest.mark.integration
PROFILES = load_profiles([builtin_profile_dir()])
SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME = (
    parse_oid("1.3.6.1.2.1.1.1.0"),
    parse_oid("1.3.6.1.2.1.1.2.0"),
    parse_oid("1.3.6.1.2.1.1.3.0"),
)
ENGINE = (parse_oid("1.3.6.1.6.3.10.2.1.2.0"), parse_oid("1.3.6.1.6.3.10.2.1.3.0"))
HR_UPTIME = parse_oid("1.3.6.1.2.1.25.1.1")
HR_PROCESSOR_LOAD = parse_oid("1.3.6.1.2.1.25.3.3.1.2")
SYSTEM = {
    SYS_DESCR: VarBind(SYS_DESCR, Tag.OCTET_STRING, b"Linux hostile 6.1"),
    SYS_OBJECT_ID: VarBind(SYS_OBJECT_ID, Tag.OBJECT_IDENTIFIER, parse_oid("1.3.6.1.4.1.8072")),
    SYS_UPTIME: VarBind(SYS_UPTIME, Tag.TIMETICKS, 12_345),
}

# --- a scripted agent ---------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def _value(vb: VarBind) -> bytes:
    if vb.tag is Tag.INTEGER:
        assert isinstance(vb.value, int)
        return ber.encode_integer(vb.value)
    if vb.tag in (Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64):
        assert isinstance(vb.value, int)
        return _tlv(vb.tag, vb.value.to_bytes(vb.value.bit_length() // 8 + 1, "big"))
    if vb.tag is Tag.OBJECT_IDENTIFIER:
        assert isinstance(vb.value, tuple)
        return ber.encode_oid(vb.value)
    if vb.tag is Tag.OCTET_STRING:
        assert isinstance(vb.value, bytes)
        return _tlv(0x04, vb.value)
    return bytes([vb.tag, 0])  # NULL and the exceptions


def response(request_id: int, varbinds: list[VarBind]) -> bytes:
    """A v2c Response (community public) carrying `varbinds`."""
    body = b"".join(_tlv(0x30, ber.encode_oid(vb.oid) + _value(vb)) for vb in varbinds)
    pdu = _tlv(
        0xA2, ber.encode_integer(request_id) + b"\x02\x01\x00\x02\x01\x00" + _tlv(0x30, body)
    )
    return _tlv(0x30, b"\x02\x01\x01\x04\x06public" + pdu)


def _content(data: bytes, pos: int) -> tuple[int, int]:
    """(start, end) of the contents of the TLV at `pos` (short or long length form)."""
    first = data[pos + 1]
    if first < 0x80:
        return pos + 2, pos + 2 + first
    count = first & 0x7F
    length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
    return pos + 2 + count, pos + 2 + count + length


def decode_request(data: bytes) -> tuple[int, ber.Pdu]:
    """A v1/v2c request: its PDU type, and the PDU read by relabelling it a Response (so
    `error_index` is GETBULK's max-repetitions)."""
    start, _ = _content(data, 0)
    _, version_end = _content(data, start)
    _, community_end = _content(data, version_end)
    pdu_type = data[community_end]
    relabelled = data[:community_end] + b"\xa2" + data[community_end + 1 :]
    return pdu_type, ber.decode_message(relabelled).pdu


Script = Callable[[int, list[Oid], int], "list[VarBind] | None"]  # None: stay silent


class ScriptedAgent(asyncio.DatagramProtocol):
    """Answers each request as `script` says; remembers what it was asked."""

    def __init__(self, script: Script, delay: float = 0.0) -> None:
        self.script = script
        self.delay = delay  # seconds before each answer (a busy agent's pace)
        self.asked: list[tuple[int, list[Oid]]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        assert self.transport is not None
        pdu_type, request = decode_request(data)
        oids = [vb.oid for vb in request.varbinds]
        self.asked.append((pdu_type, oids))
        answer = self.script(pdu_type, oids, request.error_index)  # max-repetitions
        if answer is not None:
            reply = response(request.request_id, answer)
            if self.delay:
                loop = asyncio.get_running_loop()
                loop.call_later(self.delay, self.transport.sendto, reply, addr)
            else:
                self.transport.sendto(reply, addr)


@contextlib.asynccontextmanager
async def agent(script: Script, delay: float = 0.0) -> AsyncIterator[tuple[int, ScriptedAgent]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: ScriptedAgent(script, delay), local_addr=("127.0.0.1", 0)
    )
    try:
        yield int(transport.get_extra_info("sockname")[1]), protocol
    finally:
        transport.close()


def end(oid: Oid) -> VarBind:
    return VarBind(oid, Tag.END_OF_MIB_VIEW, None)


def system_agent(pdu_type: int, oids: list[Oid], _max_rep: int) -> list[VarBind] | None:
    """A small healthy agent: the system group and nothing else."""
    if pdu_type == ber.GET:
        return [SYSTEM.get(o, VarBind(o, Tag.NO_SUCH_OBJECT, None)) for o in oids]
    return [end(o) for o in oids]


def hangs_on_engine(pdu_type: int, oids: list[Oid], max_rep: int) -> list[VarBind] | None:
    """Never answers a request naming snmpEngineBoots or snmpEngineTime (as some agents do
    for objects they do not implement); answers everything else at once."""
    if any(o in ENGINE for o in oids):
        return None
    return system_agent(pdu_type, oids, max_rep)


def endless_table(pdu_type: int, oids: list[Oid], max_rep: int) -> list[VarBind] | None:
    """HOST-RESOURCES is there (the probe finds hrSystemUptime) and hrProcessorLoad never
    ends: every GETBULK is answered with more rows."""
    if pdu_type == ber.GET:
        return [
            SYSTEM.get(o, VarBind(o, Tag.TIMETICKS, 500) if o[:9] == HR_UPTIME else end(o))
            for o in oids
        ]
    if pdu_type == ber.GET_NEXT:
        return [
            VarBind((*HR_UPTIME, 0), Tag.TIMETICKS, 500) if o == HR_UPTIME else end(o) for o in oids
        ]
    rows: list[VarBind] = []
    cursors = list(oids)
    for _ in range(max(1, min(max_rep, 64 // max(1, len(oids))))):
        nxt = []
        for cursor in cursors:
            if cursor[: len(HR_PROCESSOR_LOAD)] == HR_PROCESSOR_LOAD:
                row = cursor[len(HR_PROCESSOR_LOAD) :] or (0,)
                nxt.append(VarBind((*HR_PROCESSOR_LOAD, row[0] + 1), Tag.INTEGER, 7))
            else:
                nxt.append(end(cursor))
        rows.extend(nxt)
        cursors = [vb.oid for vb in nxt]
    return rows


def collector(port: int, client: SnmpClient, name: str, limits: PollLimits) -> SnmpCollector:
    transport = LeanTransport(client, "127.0.0.1", port, timeout=0.3, retries=0)
    return SnmpCollector(TargetRef(name, "snmp"), transport, PROFILES, SystemClock(), limits)


def issues(result: CollectResult, code: str) -> list[str]:
    return [i.detail for i in result.issues if i.code == code]


def sample(result: CollectResult, name: str) -> float:
    (value,) = [s.value for s in result.samples if s.name == name]
    return value


# --- acceptance 2: two of five identification OIDs never answered ---------------------------


async def test_an_agent_silent_on_two_identification_oids_is_up_and_says_which() -> None:
    client = SnmpClient()
    try:
        async with agent(hangs_on_engine) as (port, scripted):
            target = collector(port, client, "hangs", PollLimits())
            results = [await target.collect()]
            if not results[0].up:
                results.append(await target.collect())
            assert results[-1].up, results[-1].issues  # up within two polls
            dropped = issues(results[-1], "oid_dropped")
            assert len(dropped) == 2
            assert any(
                "1.3.6.1.6.3.10.2.1.2.0 (system/engine_boots): timeout" in d for d in dropped
            )
            assert any("1.3.6.1.6.3.10.2.1.3.0 (system/engine_time): timeout" in d for d in dropped)
            assert sample(results[-1], "sobriety_snmp_dropped_oids") == 2
            assert sample(results[-1], "sobriety_device_uptime_seconds") == 123.45  # still read
            # the next poll leaves them out: no request names them, nothing times out
            scripted.asked.clear()
            started = time.monotonic()
            later = await target.collect()
            assert later.up and later.stats.timeouts == 0
            assert time.monotonic() - started < 0.3
            assert not [o for _, oids in scripted.asked for o in oids if o in ENGINE]
            assert len(issues(later, "oid_dropped")) == 2  # still said, each poll
    finally:
        client.close()


async def test_dropped_oids_are_asked_again_once_their_day_is_over() -> None:
    client = SnmpClient()
    answering = {"engine": False}

    def script(pdu_type: int, oids: list[Oid], max_rep: int) -> list[VarBind] | None:
        if any(o in ENGINE for o in oids) and not answering["engine"]:
            return None
        if pdu_type == ber.GET:
            boots = {o: VarBind(o, Tag.INTEGER, 3) for o in ENGINE}
            return [SYSTEM.get(o, boots.get(o, VarBind(o, Tag.NO_SUCH_OBJECT, None))) for o in oids]
        return [end(o) for o in oids]

    try:
        async with agent(script) as (port, _):
            target = collector(port, client, "retry", PollLimits(identity_ttl=0.0))
            target.state.health.retry_after = 0.5
            assert (await target.collect()).up
            assert len(target.state.health.dropped) == 2
            answering["engine"] = True  # the firmware got fixed
            await asyncio.sleep(0.6)
            result = await target.collect()
            assert result.up
            assert not target.state.health.dropped
            assert not issues(result, "oid_dropped")
    finally:
        client.close()


async def test_a_dead_agent_drops_nothing() -> None:
    client = SnmpClient()
    try:
        async with agent(lambda *_: None) as (port, _):
            target = collector(port, client, "dead", PollLimits())
            result = await target.collect()
            assert not result.up and result.reason == "timeout"
            assert not target.state.health.dropped
    finally:
        client.close()


# --- acceptance 3: a table that never ends, a 5 s interval ---------------------------------


async def test_an_endless_table_ends_at_the_deadline_and_other_targets_are_unaffected(
    tmp_path: Path,
) -> None:
    interval = 5.0
    limits = PollLimits(deadline=interval * 0.8)
    client = SnmpClient()
    store = StateStore(tmp_path / "state.sqlite3")
    poller = Poller(LiveSnapshot(), store, SystemClock())
    try:
        # 10 ms an answer: the pace of the agent in the issue (756 GETBULKs in 13.4 s)
        endless_agent = agent(endless_table, delay=0.01)
        async with endless_agent as (bad_port, _), agent(system_agent) as (ok_port, _):
            endless = collector(bad_port, client, "endless", limits)
            healthy = collector(ok_port, client, "healthy", limits)

            async def timed(target: SnmpCollector) -> tuple[CollectResult | None, float]:
                started = time.monotonic()
                result = await poller.poll(target, interval)
                return result, time.monotonic() - started

            (bad, bad_took), (ok, ok_took) = await asyncio.gather(timed(endless), timed(healthy))
            assert bad is not None and ok is not None
            assert bad.up
            assert 3.9 <= bad_took < 4.0 + 1.0  # at its deadline (one request of slack)
            (cut,) = issues(bad, "deadline")
            assert "4 s deadline" in cut and "host-resources/hrProcessorTable.load" in cut
            assert bad.stats.getbulk > 10  # it did walk, until the deadline
            assert ok.up and ok_took < 1.0  # polled beside it, not after it
            assert not issues(ok, "deadline")
            counted = {  # the polling cost is summed over targets (settings.self_metrics)
                s.labels["code"]: s.value
                for s in poller.bookkeeping_samples()
                if s.name == "sobriety_collect_issues_total"
            }
            assert counted["deadline"] == 1
    finally:
        client.close()
        store.close()


async def test_a_varbind_cap_cuts_the_endless_table_too() -> None:
    client = SnmpClient()
    try:
        async with agent(endless_table) as (port, _):
            target = collector(port, client, "capped", PollLimits(max_varbinds=500))
            result = await target.collect()
            assert result.up
            (cut,) = issues(result, "varbind_cap")
            assert "500 varbinds" in cut
            assert 500 <= result.stats.varbinds < 500 + 64 + 10
    finally:
        client.close()


# --- acceptance 4: bad replies under their own reason, one log line per change ---------------


BAD_REPLIES = {
    "garbage": (lambda rid, good: b"HTTP/1.1 400 Bad Request\r\n\r\n", "malformed"),
    "truncated": (lambda rid, good: good[: len(good) // 2], "truncated"),
    "wrong_request_id": (lambda rid, good: response(rid + 1, []), "wrong_request_id"),
}


async def test_bad_replies_are_counted_under_their_own_reason_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mode = {"bad": ""}

    class Switching(ScriptedAgent):
        def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
            assert self.transport is not None
            pdu_type, request = decode_request(data)
            oids = [vb.oid for vb in request.varbinds]
            good = response(request.request_id, system_agent(pdu_type, oids, 0) or [])
            if not mode["bad"]:
                self.transport.sendto(good, addr)
                return
            bend, _ = BAD_REPLIES[mode["bad"]]
            self.transport.sendto(bend(request.request_id, good), addr)

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Switching(system_agent), local_addr=("127.0.0.1", 0)
    )
    port = int(transport.get_extra_info("sockname")[1])
    client = SnmpClient()
    store = StateStore(tmp_path / "state.sqlite3")
    clock = SystemClock()
    poller = Poller(LiveSnapshot(), store, clock)
    target = collector(port, client, "flaky", PollLimits())
    caplog.set_level(logging.INFO, logger="sobriety.daemon.polling")
    try:
        assert (await poller.poll(target)) is not None  # up: no line (nothing changed)
        for bad, (_, reason) in BAD_REPLIES.items():
            mode["bad"] = bad
            counters = poller.counters["flaky"]
            counters.skip = 0  # no backoff in this test: poll at once
            down = await poller.poll(target)
            assert down is not None and not down.up
            assert down.reason == reason
            assert counters.errors[reason] == 1
            assert down.stats.timeouts == 0  # it answered: not a timeout
            counters.skip = 0
            down_again = await poller.poll(target)  # still down: no new line
            assert down_again is not None and down_again.reason == reason
            mode["bad"] = ""
            counters.skip = 0
            back = await poller.poll(target)
            assert back is not None and back.up
        lines = [r.getMessage() for r in caplog.records if r.name == "sobriety.daemon.polling"]
        expected = [
            line
            for _, reason in BAD_REPLIES.values()
            for line in (f"target flaky is down: {reason}: ", "target flaky is up again")
        ]
        assert len(lines) == len(expected), lines  # one line per change, none in between
        assert all(got.startswith(want) for got, want in zip(lines, expected, strict=True))
        errors = {  # summed over targets (settings.self_metrics): flaky is the only one
            s.labels["reason"]: s.value
            for s in poller.bookkeeping_samples()
            if s.name == "sobriety_poll_errors_total"
        }
        assert errors == {"malformed": 2, "truncated": 2, "wrong_request_id": 2}
    finally:
        client.close()
        transport.close()
        store.close()
