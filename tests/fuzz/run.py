"""`make fuzz`: feed the lean decoder and client many hostile datagrams; count crashes.

Generated (random bytes, random TLV trees) and mutated (byte flips, inserts, deletes,
truncations of valid answers) inputs go through `ber.decode_message`, mutated SNMPv3 messages
through `v3.decode_v3`, and both through the client's receive path. Anything but
`MalformedResponse` from a decoder, or any exception from the client, is a crash.
Usage: python -m tests.fuzz.run [CASES] [SEED]
"""

from __future__ import annotations

import random
import sys
import time
import traceback

from sobriety.errors import MalformedResponse
from sobriety.snmp import ber, usm, v3
from sobriety.snmp.lean import SnmpClient
from tests.unit.test_ber import VALID


def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data.insert(pos, rng.randrange(256))
        elif op == 2 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 3:
            data = data[:pos]
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def tlv_tree(rng: random.Random, depth: int = 0) -> bytes:
    tag = rng.choice(
        [
            0x02,
            0x04,
            0x05,
            0x06,
            0x30,
            0x40,
            0x41,
            0x42,
            0x43,
            0x44,
            0x46,
            0x80,
            0x81,
            0x82,
            0xA2,
            0xA8,
            rng.randrange(256),
        ]
    )
    if tag in (0x30, 0xA2, 0xA8) and depth < 4:
        body = b"".join(tlv_tree(rng, depth + 1) for _ in range(rng.randint(0, 4)))
    else:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))
    return bytes([tag]) + ber._length(len(body)) + body


V3_KEYS = usm.localized_keys(
    b"\x80\x00\x1f\x88\x04fuzz", "sha256", "auth-pass-1", "aes128", "priv-pass-1"
)
V3_SEED = v3.encode_v3(
    7,
    v3.SecurityParameters(b"\x80\x00\x1f\x88\x04fuzz", 3, 99, b"u"),
    V3_KEYS,
    bytes(8),
    ber.GET,
    7,
    [(1, 3, 6, 1, 2, 1, 1, 5, 0)],
)


def main() -> int:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261122
    rng = random.Random(seed)
    client = SnmpClient()
    crashes = 0
    malformed = 0
    started = time.monotonic()
    for i in range(cases):
        kind = i % 3
        data = (
            mutate(rng, VALID)
            if kind == 0
            else tlv_tree(rng)
            if kind == 1
            else bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        )
        try:
            ber.decode_message(data)
        except MalformedResponse:
            malformed += 1
        except Exception:
            crashes += 1
            print(f"decoder crash on {data.hex()}:\n{traceback.format_exc()}", file=sys.stderr)
        v3_data = mutate(rng, V3_SEED)
        try:
            v3.peek_msg_id(v3_data)
            v3.decode_v3(v3_data, V3_KEYS)
        except MalformedResponse:
            pass
        except Exception:
            crashes += 1
            print(
                f"v3 decoder crash on {v3_data.hex()}:\n{traceback.format_exc()}", file=sys.stderr
            )
        try:
            client._received(data, ("127.0.0.1", 161))
            client._received(v3_data, ("127.0.0.1", 161))
        except Exception:
            crashes += 1
            print(f"client crash on {data.hex()}:\n{traceback.format_exc()}", file=sys.stderr)
    elapsed = time.monotonic() - started
    dropped = sum(client.counters.dropped.values())
    print(
        f"fuzz: {cases} cases (seed {seed}) in {elapsed:.1f}s: {malformed} malformed, "
        f"{cases - malformed} decoded, {dropped} dropped by the client, {crashes} crashes"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
