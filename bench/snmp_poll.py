"""Benchmark: client CPU per device poll, side by side, in one run (issue 4).

One device poll = GET of 4 system scalars + GETBULK walks (max-repetitions 25) of
ifHCInOctets, ifHCOutOctets, ifOperStatus and ifHighSpeed over 48 interfaces (196 varbinds).

Everything runs inside a network namespace this script creates (`sobriety-bench`), where
net-snmp `snmpd` listens on the namespace's own 127.0.0.1 and 47 virtual interfaces (veth
pairs and a tap) plus lo give it 48 ifTable rows. Nothing leaves the namespace.

Engines, interleaved for each repetition, each in a fresh process (so its RSS is its own):
- sobriety's lean engine (`LeanTransport`, `LeanV3Transport`), v2c and v3, walking the four
  columns together as the daemon does (`walk_columns`, remembering the table's size), and
  walking them one by one (the same 9 request PDUs as snmp_exporter);
- pysnmp 7 hlapi (the engine sobriety used before, and the v3 path today), v2c and v3;
- Debian's `prometheus-snmp-exporter` (Go), v2c and v3, CPU read from /proc for its process
  over N scrapes of /snmp on its own loopback (the HTTP client's cost is not counted).
Packets per poll are counted on the agent side (snmpd's snmpInPkts), for every engine alike.

Run as root (namespaces): `python bench/snmp_poll.py [--polls 200] [--repeat 5]`; results
go to stdout as a Markdown table and to `bench/results/snmp_poll.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NS = "sobriety-bench"
AGENT = ("127.0.0.1", 1161)
COMMUNITY = "bench"
V3 = {"user": "benchv3", "auth": "bench-auth-pass", "priv": "bench-priv-pass"}
SCALARS = [(1, 3, 6, 1, 2, 1, 1, 1, 0), (1, 3, 6, 1, 2, 1, 1, 2, 0),
           (1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 1, 5, 0)]  # fmt: skip
COLUMNS = [(1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10),
           (1, 3, 6, 1, 2, 1, 2, 2, 1, 8), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15)]  # fmt: skip
IN_PKTS = "1.3.6.1.2.1.11.1.0"
HERE = Path(__file__).resolve().parent


def dotted(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


# --- the namespace and the agent --------------------------------------------------------------


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def in_ns(*args: str) -> list[str]:
    return ["ip", "netns", "exec", NS, *args]


def setup_namespace() -> None:
    sh("ip", "netns", "del", NS, check=False)
    sh("ip", "netns", "add", NS)
    sh(*in_ns("ip", "link", "set", "lo", "up"))
    for i in range(23):
        sh(*in_ns("ip", "link", "add", f"va{i}", "type", "veth", "peer", "name", f"vb{i}"))
    sh(*in_ns("ip", "tuntap", "add", "tap0", "mode", "tap"))


def start_snmpd(work: Path) -> subprocess.Popen[bytes]:
    conf = work / "snmpd.conf"
    conf.write_text(
        f"rocommunity {COMMUNITY} 127.0.0.1\n"
        f'createUser {V3["user"]} SHA-256 "{V3["auth"]}" AES "{V3["priv"]}"\n'
        f"rouser {V3['user']} priv\n"
        "sysName bench-agent\n"
    )
    persistent = work / "persist"
    persistent.mkdir()
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(persistent), MIBS="")
    proc = subprocess.Popen(
        in_ns(
            shutil.which("snmpd") or "/usr/sbin/snmpd",
            "-f",
            "-Lf",
            str(work / "snmpd.log"),
            "-C",
            "-c",
            str(conf),
            "-p",
            str(work / "snmpd.pid"),
            f"udp:{AGENT[0]}:{AGENT[1]}",
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if agent_in_pkts() is not None:
            return proc
        time.sleep(0.1)
    raise RuntimeError(f"snmpd did not start: {(work / 'snmpd.log').read_text()[-500:]}")


def agent_in_pkts() -> int | None:
    out = subprocess.run(
        in_ns(
            "snmpget",
            "-v2c",
            "-c",
            COMMUNITY,
            "-Oqv",
            "-t",
            "0.5",
            "-r",
            "0",
            f"{AGENT[0]}:{AGENT[1]}",
            IN_PKTS,
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip().isdigit() else None


# --- workers (run inside the namespace, one process each) ------------------------------------


async def lean_polls(n: int, version: str = "2c", table: bool = True) -> int:
    """`table`: the columns walked together, as the daemon does; else one walk per column."""
    sys.path.insert(0, str(HERE.parent))
    from sobriety.snmp.credentials import Credentials
    from sobriety.snmp.lean import LeanTransport, SnmpClient
    from sobriety.snmp.lean_v3 import LeanV3Transport
    from sobriety.snmp.transport import SnmpTransport, walk, walk_columns

    client = SnmpClient()
    transport: SnmpTransport
    if version == "3":
        transport = LeanV3Transport(
            client,
            *AGENT,
            credentials=Credentials.usm(V3["user"], "sha256", V3["auth"], "aes128", V3["priv"]),
            timeout=2.0,
            retries=1,
        )
    else:
        credentials = Credentials(community=COMMUNITY)
        transport = LeanTransport(client, *AGENT, credentials=credentials, timeout=2.0, retries=1)
    varbinds = 0
    sizes: dict[tuple[int, ...], int] = {}  # what the daemon remembers of the table's size
    for _ in range(n):
        varbinds += len(await transport.get(SCALARS))
        if table:
            columns = await walk_columns(transport, COLUMNS, 25, sizes=sizes)
            varbinds += sum(len(rows) for rows in columns.values())
            continue
        for column in COLUMNS:
            varbinds += len(await walk(transport, column, 25))
    client.close()
    return varbinds // n


async def pysnmp_polls(n: int, version: str) -> int:
    from pysnmp.hlapi.v3arch import asyncio as hl

    engine = hl.SnmpEngine()
    if version == "3":
        auth = hl.UsmUserData(
            V3["user"],
            V3["auth"],
            V3["priv"],
            authProtocol=hl.usmHMAC192SHA256AuthProtocol,
            privProtocol=hl.usmAesCfb128Protocol,
        )
    else:
        auth = hl.CommunityData(COMMUNITY, mpModel=1)
    target = await hl.UdpTransportTarget.create(AGENT, timeout=2.0, retries=1)
    ctx = hl.ContextData()
    varbinds = 0
    for _ in range(n):
        err, status, _, vbs = await hl.get_cmd(
            engine,
            auth,
            target,
            ctx,
            *(hl.ObjectType(hl.ObjectIdentity(dotted(o))) for o in SCALARS),
            lookupMib=False,
        )
        assert not err and not status, (err, status)
        varbinds += len(vbs)
        for column in COLUMNS:
            cursor = column
            while True:
                err, status, _, vbs = await hl.bulk_cmd(
                    engine,
                    auth,
                    target,
                    ctx,
                    0,
                    25,
                    hl.ObjectType(hl.ObjectIdentity(dotted(cursor))),
                    lookupMib=False,
                )
                assert not err and not status, (err, status)
                inside = [vb for vb in vbs if tuple(vb[0])[: len(column)] == column]
                varbinds += len(inside)
                if len(inside) < len(vbs) or not inside:
                    break
                cursor = tuple(inside[-1][0])
    engine.close_dispatcher()
    return varbinds // n


def worker(engine: str, version: str, polls: int) -> None:
    warm = 5
    run = {
        "lean": lambda n: lean_polls(n, version),
        "lean-columns": lambda n: lean_polls(n, version, table=False),
        "pysnmp": lambda n: pysnmp_polls(n, version),
    }[engine]
    asyncio.run(run(warm))  # imports, key localisation, socket set-up
    before_pkts = agent_in_pkts()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    per_poll = asyncio.run(run(polls))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    after_pkts = agent_in_pkts()
    packets = None
    if before_pkts is not None and after_pkts is not None:
        packets = (after_pkts - before_pkts - 1) / polls  # minus the first counter read
    print(
        json.dumps(
            {
                "cpu_ms": cpu / polls * 1000,
                "polls_per_s": polls / wall,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "packets": packets,
                "varbinds": per_poll,
            }
        )
    )


# --- snmp_exporter -------------------------------------------------------------------------


def exporter_config(path: Path) -> None:
    metrics = []
    for name, oid, kind in (
        ("ifHCInOctets", COLUMNS[0], "counter"),
        ("ifHCOutOctets", COLUMNS[1], "counter"),
        ("ifOperStatus", COLUMNS[2], "gauge"),
        ("ifHighSpeed", COLUMNS[3], "gauge"),
    ):
        metrics.append(
            {
                "name": name,
                "oid": dotted(oid),
                "type": kind,
                "help": name,
                "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            }
        )
    for name, oid in zip(("sysDescr", "sysObjectID", "sysUpTime", "sysName"), SCALARS, strict=True):
        kind = {"sysUpTime": "gauge", "sysObjectID": "OctetString"}.get(name, "DisplayString")
        metrics.append({"name": name, "oid": dotted(oid[:-1]), "type": kind, "help": name})
    common = {
        "walk": [dotted(c) for c in COLUMNS],
        "get": [dotted(s) for s in SCALARS],
        "metrics": metrics,
        "max_repetitions": 25,
        "retries": 1,
        "timeout": "2s",
    }
    config = {
        "bench_v2": {**common, "version": 2, "auth": {"community": COMMUNITY}},
        "bench_v3": {
            **common,
            "version": 3,
            "auth": {
                "username": V3["user"],
                "security_level": "authPriv",
                "password": V3["auth"],
                "auth_protocol": "SHA256",
                "priv_protocol": "AES",
                "priv_password": V3["priv"],
            },
        },
    }
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False))


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def exporter_run(pid: int, module: str, polls: int) -> dict[str, float | None]:
    url = f"http://127.0.0.1:9116/snmp?target={AGENT[0]}:{AGENT[1]}&module={module}"

    def scrape() -> None:
        cmd = in_ns(
            sys.executable,
            "-c",
            f"import urllib.request as u\nfor _ in range({polls}): "
            f"assert b'ifHighSpeed' in u.urlopen({url!r}).read()",
        )
        subprocess.run(cmd, check=True)

    scrape_one = in_ns(
        sys.executable, "-c", f"import urllib.request as u; u.urlopen({url!r}).read()"
    )
    subprocess.run(scrape_one, check=True)  # warm
    before_pkts = agent_in_pkts()
    cpu0, wall0 = proc_cpu_seconds(pid), time.perf_counter()
    scrape()
    cpu, wall = proc_cpu_seconds(pid) - cpu0, time.perf_counter() - wall0
    after_pkts = agent_in_pkts()
    packets = None
    if before_pkts is not None and after_pkts is not None:
        packets = (after_pkts - before_pkts - 1) / polls
    return {
        "cpu_ms": cpu / polls * 1000,
        "polls_per_s": polls / wall,
        "peak_rss_mib": proc_peak_rss_mib(pid),
        "packets": packets,
        "varbinds": None,
    }


# --- driver ------------------------------------------------------------------------------------


def run_worker(engine: str, version: str, polls: int) -> dict[str, float | None]:
    out = subprocess.run(
        in_ns(sys.executable, str(Path(__file__).resolve()), "worker", engine, version, str(polls)),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float | None] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the benchmark creates a network namespace", file=sys.stderr)
        return 2
    exporter_bin = shutil.which("prometheus-snmp-exporter")
    work = Path(tempfile.mkdtemp(prefix="sobriety-bench-"))
    setup_namespace()
    snmpd = start_snmpd(work)
    exporter = None
    try:
        if exporter_bin:
            exporter_config(work / "snmp.yml")
            exporter = subprocess.Popen(
                in_ns(
                    exporter_bin,
                    f"--config.file={work / 'snmp.yml'}",
                    "--web.listen-address=127.0.0.1:9116",
                    "--log.level=error",
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        cases = [
            ("sobriety lean", "v2c", lambda: run_worker("lean", "2c", args.polls)),
            ("sobriety lean", "v3 authPriv", lambda: run_worker("lean", "3", args.polls)),
            (
                "sobriety lean, a walk per column",
                "v2c",
                lambda: run_worker("lean-columns", "2c", args.polls),
            ),
            (
                "sobriety lean, a walk per column",
                "v3 authPriv",
                lambda: run_worker("lean-columns", "3", args.polls),
            ),
            ("pysnmp hlapi", "v2c", lambda: run_worker("pysnmp", "2c", args.polls)),
            ("pysnmp hlapi", "v3 authPriv", lambda: run_worker("pysnmp", "3", args.polls)),
        ]
        if exporter is not None:
            pid = int(sh("pgrep", "-f", f"config.file={work / 'snmp.yml'}").stdout.split()[0])
            cases += [
                ("snmp_exporter 0.21", "v2c", lambda: exporter_run(pid, "bench_v2", args.polls)),
                (
                    "snmp_exporter 0.21",
                    "v3 authPriv",
                    lambda: exporter_run(pid, "bench_v3", args.polls),
                ),
            ]
        runs: dict[tuple[str, str], list[dict[str, float | None]]] = {}
        for rep in range(args.repeat):
            for name, version, run in cases:
                runs.setdefault((name, version), []).append(run())
            print(f"repetition {rep + 1}/{args.repeat} done", file=sys.stderr)
    finally:
        if exporter is not None:
            exporter.terminate()
        snmpd.terminate()
        snmpd.wait(5)
        sh("ip", "netns", "del", NS, check=False)
    report(runs, args)
    return 0


def report(
    runs: dict[tuple[str, str], list[dict[str, float | None]]], args: argparse.Namespace
) -> None:
    rows = []
    for (name, version), results in runs.items():
        cpu = sorted(float(r["cpu_ms"] or 0) for r in results)
        rows.append(
            {
                "engine": name,
                "version": version,
                "cpu_ms_median": statistics.median(cpu),
                "cpu_ms_min": cpu[0],
                "cpu_ms_max": cpu[-1],
                "polls_per_s": statistics.median(float(r["polls_per_s"] or 0) for r in results),
                "peak_rss_mib": max(float(r["peak_rss_mib"] or 0) for r in results),
                "packets_per_poll": statistics.median(float(r["packets"] or 0) for r in results),
            }
        )
    base = {
        r["version"]: r["cpu_ms_median"] for r in rows if r["engine"].startswith("snmp_exporter")
    }
    print(f"\n{args.polls} polls x {args.repeat} interleaved repetitions; CPU = client process\n")
    print(
        "| engine | SNMP | CPU ms/poll median (min-max) | vs snmp_exporter | polls/s | peak RSS MiB | request packets/poll |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = r["cpu_ms_median"] / base[r["version"]] if r["version"] in base else float("nan")
        print(
            f"| {r['engine']} | {r['version']} | {r['cpu_ms_median']:.3f} "
            f"({r['cpu_ms_min']:.3f}-{r['cpu_ms_max']:.3f}) | {ratio:.2f}x | "
            f"{r['polls_per_s']:.0f} | {r['peak_rss_mib']:.1f} | {r['packets_per_poll']:.1f} |"
        )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "snmp_poll.json").write_text(
        json.dumps({"polls": args.polls, "repeat": args.repeat, "rows": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())
