"""Operating the daemon: a busy port is one line, stopping with polls in flight is quiet."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.test_daemon import free_tcp_port
from tests.integration.test_web_security import READY_TIMEOUT, daemon_config

pytestmark = pytest.mark.integration


def test_a_busy_port_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = daemon_config(tmp_path, port)
        result = subprocess.run(
            [sys.executable, "-m", "sobriety", "run", "--config", str(config)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"sobriety: cannot listen on 127.0.0.1:{port}: address already in use"
    ]


def test_stopping_with_polls_in_flight_logs_no_error(tmp_path: Path) -> None:
    """SIGTERM while two SNMP polls wait for an agent that never answers (a socket this test
    holds): the polls are dropped quietly, the daemon exits 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.settimeout(READY_TIMEOUT)
        agent_port = silent.getsockname()[1]
        config = tmp_path / "sobriety.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "settings": {"listen": f"127.0.0.1:{free_tcp_port()}",
                                 "data_dir": str(tmp_path / "state"), "interval": "30s",
                                 "timeout": "10s", "alerting": {"log": False}},
                    "auths": {"v2": {"version": "2c", "community": "public"}},
                    "targets": [
                        {"id": f"sw{i}", "address": "127.0.0.1", "port": agent_port, "auth": "v2"}
                        for i in (1, 2)
                    ],
                }
            )
        )  # fmt: skip
        log = tmp_path / "daemon.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "sobriety", "run", "--config", str(config)],
            stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            for _ in (1, 2):
                silent.recvfrom(2048)  # both polls have sent their first request
        finally:
            proc.terminate()
            proc.wait(30)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert " ERROR " not in text and "Traceback" not in text, text
    assert "stopped" in text
