"""snmpsim as a child process serving recordings on loopback: the demo's and the tests' agents.

Only loopback addresses are accepted. As root, snmpsim 1.2.2 refuses to run unless told it
may, so the child gets `SNMPSIM_ALLOW_ROOT=true` then. The child runs in its own session and
process group, so a Ctrl-C in a terminal reaches the daemon first, which then stops the agent
cleanly; `stop()` signals the whole group, so nothing it started survives it.

snmpsim indexes every data file into `work_dir/cache` on its first start (about 6.5 s for the
15 bundled recordings); later starts with the same work_dir reuse the index (about 0.5 s).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from sobriety.errors import SobrietyError

RECORDING_SUFFIXES = (".snmprec", ".snmprec.bz2")
_SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
_PROBE_INTERVAL = 0.1  # seconds between readiness probes while snmpsim indexes
_LOG_TAIL = 2000


class SnmpsimError(SobrietyError, RuntimeError):
    """The simulated agent did not start, or died."""


def _ber(tag: int, content: bytes) -> bytes:
    """One BER TLV with a definite length."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _ber_int(value: int) -> bytes:
    return _ber(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _ber_oid(oid: Sequence[int]) -> bytes:
    body = bytearray([40 * oid[0] + oid[1]])
    for sub in oid[2:]:
        chunk = [sub & 0x7F]
        sub >>= 7
        while sub:
            chunk.append(0x80 | (sub & 0x7F))
            sub >>= 7
        body.extend(reversed(chunk))
    return _ber(0x06, bytes(body))


def _probe_message(community: str, request_id: int) -> bytes:
    """An SNMPv2c GET of sysObjectID.0, and nothing else (no SET can be built here)."""
    varbind = _ber(0x30, _ber_oid(_SYS_OBJECT_ID) + b"\x05\x00")
    pdu = _ber(0xA0, _ber_int(request_id) + _ber_int(0) + _ber_int(0) + _ber(0x30, varbind))
    return _ber(0x30, _ber_int(1) + _ber(0x04, community.encode()) + pdu)


def _is_probe_answer(reply: bytes, request_id: int) -> bool:
    """Whether `reply` looks like the GetResponse to our probe (enough for readiness)."""
    return (
        reply[:1] == b"\x30"
        and b"\xa2" in reply
        and _ber_int(request_id) in reply
        and _ber_oid(_SYS_OBJECT_ID) in reply
    )


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until `proc` exits, without reaping it when the platform allows (pidfd)."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        fd = pidfd_open(proc.pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    return bool(ready)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


class SnmpsimAgent:
    """A snmpsim command responder serving every recording in `data_dir` on loopback.

    The SNMPv1/v2c community of each recording is its file name without the suffix. The
    agent also speaks SNMPv3 (context name = community); `extra_args` are passed through
    to snmpsim, for example a `--v3-user` with its keys.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        work_dir: Path,
        python: str = sys.executable,
        extra_args: Sequence[str] = (),
    ) -> None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"snmpsim host must be a loopback IP address, not {host!r}") from None
        if not address.is_loopback:
            raise ValueError(f"snmpsim only runs on loopback here, not on {host}")
        if not 0 <= port <= 65535:
            raise ValueError(f"not a UDP port: {port}")
        self.data_dir = data_dir
        self.host = host
        self.work_dir = work_dir
        self.python = python
        self.extra_args = tuple(extra_args)
        self._family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def port(self) -> int:
        """The UDP port (the chosen one once started, if 0 was asked for)."""
        return self._port

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the child, while there is one."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        """snmpsim's output (errors only), appended to across restarts."""
        return self.work_dir / "snmpsim.log"

    def communities(self) -> list[str]:
        """The community of every recording in data_dir, sorted."""
        names = []
        for path in self.data_dir.iterdir():
            for suffix in RECORDING_SUFFIXES:
                if path.name.endswith(suffix) and path.is_file():
                    names.append(path.name.removesuffix(suffix))
        return sorted(names)

    def command(self) -> list[str]:
        """The snmpsim command line (after start() has picked the port)."""
        endpoint = (
            f"--agent-udpv6-endpoint=[{self.host}]:{self._port}"
            if self._family == socket.AF_INET6
            else f"--agent-udpv4-endpoint={self.host}:{self._port}"
        )
        return [
            self.python,
            "-m",
            "snmpsim.commands.responder",
            f"--data-dir={self.data_dir}",
            f"--cache-dir={self.work_dir / 'cache'}",
            endpoint,
            "--log-level=error",
            "--logging-method=stderr",
            *self.extra_args,
        ]

    def start(self, timeout: float = 30.0) -> None:
        """Start the agent and wait until it answers a GET; raise SnmpsimError if it does not.

        Does nothing if the agent is already running.
        """
        if self.running:
            return
        communities = self.communities()
        if not communities:
            raise SnmpsimError(f"no recordings (*.snmprec, *.snmprec.bz2) in {self.data_dir}")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._port == 0:
            self._port = self._free_port()
        env = dict(os.environ)
        if os.geteuid() == 0:
            env["SNMPSIM_ALLOW_ROOT"] = "true"
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        try:
            self._wait_ready(communities[0], timeout)
        except BaseException:
            self.stop()
            raise

    def _free_port(self) -> int:
        with socket.socket(self._family, socket.SOCK_DGRAM) as sock:
            sock.bind((self.host, 0))
            return int(sock.getsockname()[1])

    def _wait_ready(self, community: str, timeout: float) -> None:
        """Probe with a real SNMP GET until the agent answers, exits, or time runs out."""
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + timeout
        with socket.socket(self._family, socket.SOCK_DGRAM) as sock:
            sock.connect((self.host, self._port))  # so ICMP port-unreachable is reported
            while True:
                if self._answers(sock, community):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SnmpsimError(
                        f"snmpsim did not answer on {self.host}:{self._port} within "
                        f"{timeout:g}s; log tail:\n{self.log_tail()}"
                    )
                if _wait_exit(proc, min(_PROBE_INTERVAL, left)):
                    code = proc.wait()
                    raise SnmpsimError(
                        f"snmpsim exited with status {code} while starting; log tail:\n"
                        f"{self.log_tail()}"
                    )

    def _answers(self, sock: socket.socket, community: str) -> bool:
        request_id = secrets.randbelow(2**31 - 1) + 1
        try:
            sock.send(_probe_message(community, request_id))
            sock.settimeout(_PROBE_INTERVAL)
            deadline = time.monotonic() + _PROBE_INTERVAL
            while time.monotonic() < deadline:
                if _is_probe_answer(sock.recv(65535), request_id):
                    return True
        except OSError:  # no answer yet, or ECONNREFUSED while it is still indexing
            return False
        return False

    def log_tail(self) -> str:
        """The end of what the agent wrote since its last start."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return text[-_LOG_TAIL:].strip() or "(empty log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the agent's process group, SIGKILL whatever is left. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            if not _wait_exit(proc, timeout):
                _signal_group(proc.pid, signal.SIGKILL)
                _wait_exit(proc, timeout)
            # The leader has exited but is not reaped yet, so the group id is still ours:
            # sweep anything it left in the group.
            _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()

    def restart(self, timeout: float = 30.0) -> None:
        """Stop and start again on the same port (tests use it to kill and revive agents)."""
        self.stop()
        self.start(timeout)

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
