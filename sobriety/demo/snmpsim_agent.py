"""snmpsim as a child process serving recordings on loopback: the demo's and the tests' agents.

Only loopback addresses are accepted. As root, snmpsim refuses to run unless told it may
(`SNMPSIM_ALLOW_ROOT=true`, checked with snmpsim 1.2.2). The child runs in its own process
group so a Ctrl-C in a terminal reaches the daemon first, which then stops the agent cleanly.

Two things make snmpsim fast enough for a fleet polled together on a small machine: its
record index is kept in memory (`snmpsim_child`), and compressed recordings are served from
plain copies in the work dir, because snmpsim reads a `.bz2` through `bz2.BZ2File`, whose
backward seeks decompress the file again from its start (measured: a 16-target first poll
timed out on the three `.bz2` recordings).
"""

from __future__ import annotations

import bz2
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from sobriety.errors import SobrietyError

# sysObjectID.0 as BER OID contents, and the varbind list (OID, NULL) a GET carries.
_SYS_OBJECT_ID = bytes.fromhex("2b06010201010200")
_VARBINDS = bytes.fromhex("300e300c0608") + _SYS_OBJECT_ID + bytes.fromhex("0500")


class SimulatorError(SobrietyError, RuntimeError):
    """The simulated agent did not start or died."""


def _free_udp_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class SnmpsimAgent:
    """A snmpsim command responder serving every recording in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        work_dir: Path,
        python: str = sys.executable,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"snmpsim only runs on loopback here, not on {host}")
        self.data_dir = data_dir
        self.host = host
        self._port = port
        self.work_dir = work_dir
        self.python = python
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def communities(self) -> list[str]:
        names = []
        for path in sorted(self.data_dir.iterdir()):
            if path.name.endswith((".snmprec", ".snmprec.bz2")):
                names.append(path.name.removesuffix(".bz2").removesuffix(".snmprec"))
        return names

    def _serving_dir(self) -> Path:
        """The recordings as snmpsim reads them fast: plain files, `.bz2` ones decompressed."""
        serving = self.work_dir / "data"
        serving.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.data_dir.iterdir()):
            if not path.name.endswith((".snmprec", ".snmprec.bz2")):
                continue
            copy = serving / path.name.removesuffix(".bz2")
            if copy.exists() and copy.stat().st_mtime >= path.stat().st_mtime:
                continue
            partial = copy.with_name(copy.name + ".partial")
            opener = bz2.open if path.suffix == ".bz2" else open
            with opener(path, "rb") as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(partial, copy)
        return serving

    @property
    def log_path(self) -> Path:
        return self.work_dir / "snmpsim.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start the agent and wait until it answers a GET; raise SimulatorError if it does not."""
        if self.running:
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._port == 0:
            self._port = _free_udp_port(self.host)
        endpoint = (
            f"--agent-udpv6-endpoint=[{self.host}]:{self._port}"
            if ":" in self.host
            else f"--agent-udpv4-endpoint={self.host}:{self._port}"
        )
        env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    self.python,
                    "-m",
                    "sobriety.demo.snmpsim_child",
                    f"--data-dir={self._serving_dir()}",
                    f"--cache-dir={self.work_dir / 'cache'}",
                    endpoint,
                    "--log-level=error",
                    f"--logging-method=file:{self.log_path}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        community = self.communities()[0]
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SimulatorError(f"snmpsim exited with {self._proc.returncode}: {self._tail()}")
            if self._answers(community):
                return
        self.stop()
        raise SimulatorError(f"snmpsim did not answer within {timeout:.0f}s: {self._tail()}")

    def _answers(self, community: str) -> bool:
        """Whether the agent answers an SNMPv2c GET of sysObjectID.0 (readiness probe).

        The request is written out by hand (a fixed shape; only the community varies) so the
        probe needs no event loop and works from sync and async callers alike.
        """
        name = community.encode()
        pdu = bytes.fromhex("a019020101020100020100") + _VARBINDS
        body = bytes.fromhex("020101") + bytes([0x04, len(name)]) + name + pdu
        message = bytes([0x30, len(body)]) + body
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            try:
                sock.sendto(message, (self.host, self._port))
                reply = sock.recv(4096)
            except OSError:  # timeout, or ICMP port unreachable while it starts
                return False
        return reply[:1] == b"\x30" and _SYS_OBJECT_ID in reply

    def _tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:].strip() or "(no log)"
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the agent (its whole process group), SIGKILL if it lingers. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def restart(self) -> None:
        """Stop and start again on the same port (tests use it to kill and revive agents)."""
        self.stop()
        self.start()

    def __enter__(self) -> SnmpsimAgent:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
