"""A fast SNMPv2c responder for benchmarks: N devices answering from recordings, on loopback.

Device i answers on 127.<a>.<b>.<c>:<port> (a /8 of loopback addresses, one UDP socket
each, from a base address) with recording i mod R, whatever the community. GET, GETNEXT
and GETBULK as snmpsim answers them (whole rows, 64 varbinds at most per GETBULK); only what
a benchmark needs, hand-written so that the agents' side costs little: its CPU is not the
pollers' and is not counted. Every request received is counted; `SIGUSR1` writes the counts
(requests by type, per device) to the file named by `--counts`.

Run: `python bench/responder.py --devices 1000 --base 127.1.0.1 --port 16100 --counts F`;
it prints `ready` once every socket is bound. Tests of this file: tests/unit/test_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import resource
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sobriety.errors import MalformedResponse  # noqa: E402
from sobriety.snmp.ber import _tlv, decode_oid, encode_integer, encode_oid  # noqa: E402
from sobriety.snmp.snmprec import Recording, load_snmprec  # noqa: E402
from sobriety.snmp.types import Oid, Tag, VarBind  # noqa: E402

GET, GET_NEXT, RESPONSE, GET_BULK = 0xA0, 0xA1, 0xA2, 0xA5
BULK_MAX_VARBINDS = 64
KINDS = {GET: "get", GET_NEXT: "getnext", GET_BULK: "getbulk"}


class BadRequest(ValueError):
    """Not a v1/v2c request this responder understands."""


def _read(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the TLV at `pos`."""
    if pos + 2 > len(data):
        raise BadRequest("short")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        size = first & 0x7F
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    if pos + length > len(data):
        raise BadRequest("truncated")
    return tag, pos, pos + length


def _int(data: bytes, start: int, end: int) -> int:
    return int.from_bytes(data[start:end], "big", signed=True)


def _oid(data: bytes, start: int, end: int) -> Oid:
    try:
        return decode_oid(data[start:end])
    except MalformedResponse as exc:
        raise BadRequest(exc.detail) from None


def decode_request(data: bytes) -> tuple[int, bytes, int, int, int, int, list[Oid]]:
    """(version, community, pdu type, request id, non-repeaters, max-repetitions, oids)."""
    tag, pos, end = _read(data, 0)
    if tag != 0x30:
        raise BadRequest("not a sequence")
    tag, start, stop = _read(data, pos)
    version = _int(data, start, stop)
    tag, start, stop = _read(data, stop)
    community = data[start:stop]
    pdu, pos, end = _read(data, stop)
    if pdu not in KINDS:
        raise BadRequest(f"pdu {pdu:#x}")
    values = []
    for _ in range(3):
        tag, start, pos = _read(data, pos)
        values.append(_int(data, start, pos))
    tag, pos, end = _read(data, pos)
    oids = []
    while pos < end:
        tag, start, pos = _read(data, pos)
        tag, o_start, o_end = _read(data, start)
        oids.append(_oid(data, o_start, o_end))
    return version, community, pdu, values[0], values[1], values[2], oids


def _unsigned(value: int) -> bytes:
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def encode_value(vb: VarBind) -> bytes:
    tag, value = vb.tag, vb.value
    if tag in (Tag.NO_SUCH_OBJECT, Tag.NO_SUCH_INSTANCE, Tag.END_OF_MIB_VIEW, Tag.NULL):
        return bytes((int(tag), 0))
    if tag == Tag.INTEGER:
        return encode_integer(int(value))  # type: ignore[arg-type]
    if tag in (Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64):
        return _tlv(int(tag), _unsigned(int(value)))  # type: ignore[arg-type]
    if tag == Tag.OBJECT_IDENTIFIER:
        return encode_oid(value)  # type: ignore[arg-type]
    return _tlv(int(tag), value if isinstance(value, bytes) else b"")


def encode_response(
    version: int, community: bytes, request_id: int, varbinds: Sequence[VarBind]
) -> bytes:
    body = b"".join(_tlv(0x30, encode_oid(vb.oid) + encode_value(vb)) for vb in varbinds)
    pdu = _tlv(RESPONSE, encode_integer(request_id) + b"\x02\x01\x00\x02\x01\x00"
               + _tlv(0x30, body))  # fmt: skip
    return _tlv(0x30, encode_integer(version) + _tlv(0x04, community) + pdu)


def answer(recording: Recording, pdu: int, non_rep: int, max_rep: int, oids: list[Oid]
           ) -> list[VarBind]:  # fmt: skip
    """What snmpsim answers to GET, GETNEXT and GETBULK over a recording."""
    if pdu == GET:
        return [recording.get(o) for o in oids]
    if pdu == GET_NEXT:
        return [recording.next_after(o) for o in oids]
    out = [recording.next_after(o) for o in oids[:non_rep]]
    cursors = oids[non_rep:]
    if cursors:
        max_rep = min(max_rep, max(1, BULK_MAX_VARBINDS // len(cursors)))
        for _ in range(max_rep):
            row = [recording.next_after(c) for c in cursors]
            out.extend(row)
            cursors = [vb.oid for vb in row]
            if all(vb.tag is Tag.END_OF_MIB_VIEW for vb in row):
                break
    return out


class Device(asyncio.DatagramProtocol):
    """One simulated agent on its own address."""

    def __init__(self, index: int, recording: Recording, counts: dict[str, list[int]]) -> None:
        self.index = index
        self.recording = recording
        self.counts = counts
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            version, community, pdu, rid, non_rep, max_rep, oids = decode_request(data)
        except (BadRequest, IndexError, ValueError):
            self.counts["malformed"][self.index] += 1
            return
        self.counts[KINDS[pdu]][self.index] += 1
        varbinds = answer(self.recording, pdu, non_rep, max_rep, oids)
        if self.transport is not None:
            self.transport.sendto(encode_response(version, community, rid, varbinds), addr)


def address(base: str, index: int) -> str:
    """The address of device `index`: 254 a /24 (hosts 1-254), from the base's first two bytes."""
    a, b = str(ipaddress.IPv4Address(base)).split(".")[:2]
    return f"{a}.{b}.{index // 254}.{index % 254 + 1}"


async def serve(devices: int, base: str, port: int, counts_file: Path) -> None:
    recordings = [load_snmprec(p) for p in sorted((HERE.parent / "recordings").glob("*.snmprec*"))]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, devices + 256)), hard))
    counts = {k: [0] * devices for k in ("get", "getnext", "getbulk", "malformed")}
    loop = asyncio.get_running_loop()
    for i in range(devices):
        host = address(base, i)
        if not ipaddress.IPv4Address(host).is_loopback:
            raise SystemExit(f"{host} is not a loopback address: refusing")
        await loop.create_datagram_endpoint(
            lambda i=i: Device(i, recordings[i % len(recordings)], counts), local_addr=(host, port)
        )

    def dump() -> None:
        counts_file.write_text(json.dumps(counts))

    loop.add_signal_handler(signal.SIGUSR1, dump)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    dump()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--base", default="127.1.0.1")
    parser.add_argument("--port", type=int, default=16100)
    parser.add_argument("--counts", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.devices, args.base, args.port, args.counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
